/*
 * teardown.c: remove a project's (or a run's) containers, networks and
 * volumes from labels alone, in parallel and idempotently (teardown.h).
 *
 * Every removal is an asynchronous engine call driven by one loop; each
 * object is a small state machine (stop with grace, remove, re-check when
 * someone else is removing it, retry when a network still has endpoints
 * or a volume is still in use). It deliberately knows nothing of
 * manifests: what exists is whatever carries our labels.
 */
#include "teardown.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_ops.h"
#include "error.h"
#include "gate.h"
#include "labels.h"
#include "runs.h"
#include "util.h"

/* parallel calls in flight: enough for any environment, few enough not
 * to exhaust the engine's connection handling */
#define MAX_INFLIGHT 32
/* how long a network with endpoints or a volume in use is retried: the
 * engine detaches endpoints while it removes containers, a little later */
#define BUSY_RETRY_MS 3000
/* how long another remover gets to finish (409 "already in progress") */
#define RECHECK_MS 15000
/* transport or server errors retried this many times */
#define MAX_ERRORS 3
/* containers created meanwhile (a racing `up`) are picked up by this many
 * extra listings */
#define MAX_ROUNDS 3

enum op_phase {
	PH_STOP,    /* POST /containers/{id}/stop?t=grace */
	PH_REMOVE,  /* DELETE */
	PH_RECHECK, /* GET inspect: is someone else's removal done? */
	PH_DONE,
	PH_FAILED,
};

struct op {
	enum run_object_kind kind;
	char *id;   /* container/network id, volume name */
	char *name; /* for messages */
	int grace_s;
	enum op_phase phase;
	struct engine_call *call;
	int64_t not_before; /* monotonic ms */
	int64_t busy_since; /* first 403/409 busy answer, 0: none */
	int errors;
	int no_answer; /* the last attempt got no HTTP answer at all */
	char *error;
};

struct ops {
	struct op *v;
	size_t n;
	size_t alloc;
};

static const char *kind_name(enum run_object_kind k)
{
	switch (k) {
	case RUN_CONTAINER:
		return "container";
	case RUN_NETWORK:
		return "network";
	case RUN_VOLUME:
		return "volume";
	}
	return "object";
}

static void ops_release(struct ops *ops)
{
	for (size_t i = 0; i < ops->n; i++) {
		struct op *op = &ops->v[i];

		engine_call_drop(&op->call);
		free(op->id);
		free(op->name);
		free(op->error);
	}
	free(ops->v);
	memset(ops, 0, sizeof(*ops));
}

static int ops_has(const struct ops *ops, const char *id)
{
	for (size_t i = 0; i < ops->n; i++)
		if (!strcmp(ops->v[i].id, id))
			return 1;
	return 0;
}

static int grace_of(const struct engine_object *o, int force_kill)
{
	const char *v = runs_label(o, LABEL_STOP_GRACE);
	long t;

	if (force_kill || !v || parse_int(v, 0, 3600, &t) || t == 0)
		return -1;
	/* a container that is not running has nothing to stop */
	if (!o->state || strcmp(o->state, "running"))
		return -1;
	return (int)t;
}

/*
 * Queue the listed objects that are ours and not queued yet. Returns the
 * number added.
 */
static size_t ops_add_list(struct ops *ops, const struct engine_object_list *l,
                           enum run_object_kind kind,
                           const struct teardown_opts *o)
{
	size_t added = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct engine_object *obj = &l->items[i];
		const char *id = kind == RUN_VOLUME ? obj->name : obj->id;
		const char *name = obj->name ? obj->name : obj->id;
		struct op *op;

		if (!id || !runs_object_owned(obj, o->project, o->run_id) ||
		    ops_has(ops, id))
			continue;
		ALLOC_GROW(ops->v, ops->n + 1, ops->alloc);
		op = &ops->v[ops->n++];
		memset(op, 0, sizeof(*op));
		op->kind = kind;
		op->id = xstrdup(id);
		op->name = xstrdup(name && *name == '/' ? name + 1 : name);
		op->grace_s = kind == RUN_CONTAINER
		                      ? grace_of(obj, o->force_kill)
		                      : -1;
		op->phase = op->grace_s >= 0 ? PH_STOP : PH_REMOVE;
		added++;
	}
	return added;
}

static void op_fail(struct op *op, const char *why)
{
	free(op->error);
	op->error = xstrdup(why);
	op->phase = PH_FAILED;
}

static struct engine_call *op_start(struct engine *e, struct op *op,
                                    int64_t deadline)
{
	int t;

	switch (op->kind) {
	case RUN_CONTAINER:
		if (op->phase == PH_STOP) {
			t = op->grace_s;
			/* a grace period may not outlast the deadline */
			if (deadline) {
				int64_t left = (deadline - now_ms()) / 1000 - 1;

				if (left < t)
					t = left < 0 ? 0 : (int)left;
			}
			return engine_container_stop_start(e, op->id, t, NULL,
			                                   NULL);
		}
		if (op->phase == PH_RECHECK)
			return engine_container_inspect_start(e, op->id, NULL,
			                                      NULL);
		return engine_container_remove_start(e, op->id, 1, NULL, NULL);
	case RUN_NETWORK:
		return engine_network_remove_start(e, op->id, NULL, NULL);
	case RUN_VOLUME:
		break;
	}
	return engine_volume_remove_start(e, op->id, 1, NULL, NULL);
}

/* Retry later, or give up once the object stayed busy for too long. */
static void op_busy(struct op *op, int64_t now, int64_t window, const char *why)
{
	if (!op->busy_since)
		op->busy_since = now;
	if (now - op->busy_since >= window) {
		op_fail(op, why);
		return;
	}
	free(op->error);
	op->error = xstrdup(why);
	op->not_before = now + 100;
}

static void op_error(struct op *op, int64_t now, const char *why)
{
	if (++op->errors >= MAX_ERRORS) {
		op_fail(op, why);
		return;
	}
	op->not_before = now + 100L * (1L << op->errors);
}

/* The result of op's finished call, as its operation reads it. */
static int op_result(struct op *op, struct engine_call *c,
                     struct engine_container_info *info)
{
	switch (op->kind) {
	case RUN_CONTAINER:
		if (op->phase == PH_STOP)
			return engine_container_stop_result(c);
		if (op->phase == PH_RECHECK)
			return engine_container_inspect_result(c, info);
		return engine_container_remove_result(c);
	case RUN_NETWORK:
		return engine_network_remove_result(c);
	case RUN_VOLUME:
		break;
	}
	return engine_volume_remove_result(c);
}

/* One finished call moves its object to the next phase. */
static void op_finish(struct op *op, struct engine_call *c)
{
	struct engine_container_info info = { 0 };
	int rc = op_result(op, c, &info);
	const char *err = orch_error_last();
	int64_t now = now_ms();

	if (rc == 0 || !*err)
		err = "no answer from the engine";
	op->no_answer = rc == ORCH_EUNREACHABLE || rc == ORCH_ETIMEOUT;
	if (op->phase == PH_STOP) {
		/* whatever the stop said, the removal (with force) follows;
		 * not found: someone removed it already */
		op->phase = rc == ORCH_ENOTFOUND ? PH_DONE : PH_REMOVE;
		goto out;
	}
	if (op->phase == PH_RECHECK) {
		if (rc == ORCH_ENOTFOUND)
			op->phase = PH_DONE;
		else if (rc == 0 &&
		         (!info.status || strcmp(info.status, "removing")))
			op->phase = PH_REMOVE; /* the other removal gave up */
		else
			op_busy(op, now, RECHECK_MS,
			        rc ? err : "removal already in progress");
		goto out;
	}
	if (rc == 0 || rc == ORCH_ENOTFOUND) {
		op->phase = PH_DONE;
		goto out;
	}
	if (rc == ORCH_EINPROGRESS) {
		/* someone else removes it: wait for that to finish */
		op_busy(op, now, RECHECK_MS, err);
		if (op->phase != PH_FAILED) {
			op->phase = PH_RECHECK;
			op->not_before = now + 50;
		}
		goto out;
	}
	/* a network whose containers still detach, a volume in use */
	if (rc == ORCH_EBUSY) {
		op_busy(op, now, BUSY_RETRY_MS, err);
		goto out;
	}
	op_error(op, now, err);
out:
	engine_container_info_release(&info);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * Drive every queued operation until each is done or failed, or the
 * deadline (absolute monotonic ms, 0: none) passes.
 */
static void ops_run(struct engine *e, struct ops *ops, int64_t deadline)
{
	for (;;) {
		int64_t now = now_ms(), wake = INT64_MAX;
		size_t active = 0, inflight = 0;

		for (size_t i = 0; i < ops->n; i++)
			if (ops->v[i].call)
				inflight++;
		for (size_t i = 0; i < ops->n; i++) {
			struct op *op = &ops->v[i];

			if (op->phase == PH_DONE || op->phase == PH_FAILED)
				continue;
			active++;
			if (op->call)
				continue;
			if (deadline && now >= deadline) {
				op_fail(op,
				        op->error ? op->error
				                  : "teardown deadline passed");
				active--;
				continue;
			}
			if (now >= op->not_before && inflight < MAX_INFLIGHT) {
				op->call = op_start(e, op, deadline);
				inflight++;
			} else {
				wake = min64(wake, op->not_before);
			}
		}
		if (!active)
			return;
		if (deadline)
			wake = min64(wake, deadline);
		if (inflight) {
			int64_t t = wake == INT64_MAX ? 1000 : wake - now;

			if (t < 0)
				t = 0;
			engine_wait(e, NULL, 0, (int)min64(t, 1000));
		} else if (wake != INT64_MAX && wake > now) {
			poll(NULL, 0, (int)min64(wake - now, 1000));
		}
		now = now_ms();
		for (size_t i = 0; i < ops->n; i++) {
			struct op *op = &ops->v[i];

			if (!op->call)
				continue;
			if (engine_call_done(op->call)) {
				op_finish(op, op->call);
			} else if (deadline && now >= deadline) {
				engine_call_cancel(op->call);
				op_fail(op, "teardown deadline passed");
			} else {
				continue;
			}
			engine_call_free(op->call);
			op->call = NULL;
		}
	}
}

/* Failed objects whose last attempt got an HTTP answer. */
static size_t answered_failures(const struct ops *ops)
{
	size_t n = 0;

	for (size_t i = 0; i < ops->n; i++)
		if (ops->v[i].phase == PH_FAILED && !ops->v[i].no_answer)
			n++;
	return n;
}

static void count(const struct ops *ops, struct teardown_stats *st,
                  struct buf *failures)
{
	for (size_t i = 0; i < ops->n; i++) {
		const struct op *op = &ops->v[i];

		if (op->phase == PH_FAILED) {
			st->failed++;
			if (failures->len)
				buf_addstr(failures, "; ");
			buf_addf(failures, "%s '%s': %s", kind_name(op->kind),
			         op->name,
			         op->error ? op->error : "not removed");
			continue;
		}
		switch (op->kind) {
		case RUN_CONTAINER:
			st->containers++;
			break;
		case RUN_NETWORK:
			st->networks++;
			break;
		case RUN_VOLUME:
			st->volumes++;
			break;
		}
	}
}

static int list(struct engine *e, enum run_object_kind kind,
                const struct engine_label *f, size_t nf,
                struct engine_object_list *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	switch (kind) {
	case RUN_CONTAINER:
		rc = engine_container_list(e, f, nf, out);
		break;
	case RUN_NETWORK:
		rc = engine_network_list(e, f, nf, out);
		break;
	default:
		rc = engine_volume_list(e, f, nf, out);
		break;
	}
	if (rc)
		orch_error_prefix(rc, "listing %ss", kind_name(kind));
	return rc;
}

/* List kind with the run's filter and remove what is ours. */
static int remove_kind(struct engine *e, const struct teardown_opts *o,
                       enum run_object_kind kind, int64_t deadline,
                       struct ops *ops)
{
	struct engine_label f[2] = { { LABEL_PROJECT, o->project },
		                     { LABEL_RUN_ID, o->run_id } };
	size_t nf = o->run_id ? 2 : 1;
	int rounds = kind == RUN_CONTAINER ? MAX_ROUNDS : 1;
	int rc = 0;

	for (int round = 0; round < rounds; round++) {
		struct engine_object_list l;

		rc = list(e, kind, f, nf, &l);
		if (rc)
			break;
		/* a listing that adds nothing new ends the rounds: no `up`
		 * of this run created containers meanwhile */
		if (!ops_add_list(ops, &l, kind, o)) {
			engine_object_list_release(&l);
			break;
		}
		engine_object_list_release(&l);
		ops_run(e, ops, deadline);
	}
	return rc;
}

int teardown_run(struct engine *e, const struct teardown_opts *o,
                 struct teardown_stats *stats)
{
	static const enum run_object_kind order[] = { RUN_CONTAINER,
		                                      RUN_NETWORK, RUN_VOLUME };
	struct ops ops[3] = { { 0 } };
	struct buf failures = BUF_INIT;
	struct teardown_stats st = { 0 };
	int64_t deadline = 0;
	int rc = 0;

	if (!o || !o->project || !*o->project)
		return orch_error_code(ORCH_EINVALID,
		                       "teardown needs a project");
	if (o->deadline_ms > 0)
		deadline = now_ms() + o->deadline_ms;

	/* containers first: networks and volumes are in use until they go */
	for (size_t k = 0; k < 3; k++) {
		rc = remove_kind(e, o, order[k], deadline, &ops[k]);
		if (rc)
			goto out;
	}
	for (size_t k = 0; k < 3; k++)
		count(&ops[k], &st, &failures);
	if (st.failed) {
		size_t answered = 0;

		/* an engine that stopped answering is not a refusal: nothing
		 * is known about what remains */
		for (size_t k = 0; k < 3; k++)
			answered += answered_failures(&ops[k]);
		rc = orch_error_code(
		        answered ? ORCH_ERROR : ORCH_EUNREACHABLE,
		        "%zu object%s of project '%s' not removed: "
		        "%s",
		        st.failed, st.failed == 1 ? "" : "s", o->project,
		        buf_cstr(&failures));
	}
	/* the gate directories of the runs on this host (gate.h): once
	 * their containers are gone nothing restarts through them */
	if (!st.failed)
		gate_dirs_remove(o->project, o->run_id);
out:
	if (rc && !st.failed) {
		/* the listing failed: what was removed before still counts */
		for (size_t k = 0; k < 3; k++) {
			struct buf ignored = BUF_INIT;

			count(&ops[k], &st, &ignored);
			buf_release(&ignored);
		}
	}
	if (stats)
		*stats = st;
	for (size_t k = 0; k < 3; k++)
		ops_release(&ops[k]);
	buf_release(&failures);
	return rc;
}

void teardown_stats_format(struct buf *out, const struct teardown_stats *st)
{
	const struct {
		size_t n;
		const char *one, *many;
	} kinds[] = {
		{ st->containers, "container", "containers" },
		{ st->networks, "network", "networks" },
		{ st->volumes, "volume", "volumes" },
		{ st->images, "image", "images" },
	};
	const char *sep = "";

	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
		if (!kinds[i].n)
			continue;
		buf_addf(out, "%s%zu %s", sep, kinds[i].n,
		         kinds[i].n == 1 ? kinds[i].one : kinds[i].many);
		sep = ", ";
	}
}

int teardown_images(struct engine *e, const char *project,
                    struct teardown_stats *stats)
{
	struct engine_label filter = { LABEL_BUILT_BY, project };
	struct engine_object_list l = { 0 }, ctrs = { 0 };
	struct buf failures = BUF_INIT;
	size_t failed = 0, unreachable = 0;
	int rc;

	rc = engine_image_list(e, &filter, 1, &l);
	if (!rc)
		rc = engine_container_list(e, NULL, 0, &ctrs);
	if (rc) {
		rc = orch_error_prefix(rc, "listing images");
		engine_object_list_release(&l);
		engine_object_list_release(&ctrs);
		return rc;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct engine_object *o = &l.items[i];
		int one = 0, used = 0;

		/* one a container uses stays, with every name it has: the
		   engine would untag it name by name up to the last */
		for (size_t c = 0; c < ctrs.n && !used; c++)
			used = ctrs.items[c].image_id &&
			       !strcmp(ctrs.items[c].image_id, o->id);
		if (used) {
			stats->images_kept++;
			continue;
		}
		/* by name: removing the last name removes the image */
		for (size_t t = 0; t < o->tags.n && !one; t++) {
			one = engine_image_remove(e, o->tags.v[t], 0);
			if (one == ORCH_ENOTFOUND)
				one = 0;
		}
		if (!o->tags.n)
			one = engine_image_remove(e, o->id, 0);
		if (one == 0 || one == ORCH_ENOTFOUND) {
			stats->images++;
		} else if (one == ORCH_ECONFLICT) {
			stats->images_kept++;
		} else {
			buf_addf(&failures, "%simage %s: %s",
			         failed ? "; " : "", o->name ? o->name : o->id,
			         orch_error_last());
			failed++;
			if (one == ORCH_EUNREACHABLE) {
				unreachable++;
				break;
			}
		}
	}
	engine_object_list_release(&l);
	engine_object_list_release(&ctrs);
	stats->failed += failed;
	if (failed)
		rc = orch_error_code(
		        unreachable ? ORCH_EUNREACHABLE : ORCH_ERROR,
		        "%zu image%s of project '%s' not removed: %s", failed,
		        failed == 1 ? "" : "s", project, buf_cstr(&failures));
	buf_release(&failures);
	return rc;
}

/* ---- stale runs --------------------------------------------------------- */

static void gc_run_release(struct teardown_gc_run *g)
{
	free(g->project);
	free(g->run_id);
	free(g->owner_host);
	free(g->why);
	free(g->error);
}

void teardown_gc_result_release(struct teardown_gc_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		gc_run_release(&r->items[i]);
	for (size_t i = 0; i < r->nunknown; i++)
		gc_run_release(&r->unknown[i]);
	free(r->items);
	free(r->unknown);
	memset(r, 0, sizeof(*r));
}

static struct teardown_gc_run *gc_run_new(struct teardown_gc_run **v, size_t *n,
                                          size_t *alloc,
                                          const struct run_info *r,
                                          const char *why)
{
	struct teardown_gc_run *g;

	ALLOC_GROW(*v, *n + 1, *alloc);
	g = &(*v)[(*n)++];
	memset(g, 0, sizeof(*g));
	g->project = xstrdup(r->project);
	g->run_id = xstrdup(r->run_id);
	g->owner_host = xstrdup(r->owner.host);
	g->owner_pid = r->owner.pid;
	g->kept = r->kept;
	g->why = why ? xstrdup(why) : NULL;
	return g;
}

int teardown_gc(struct engine *e, const char *project, unsigned flags,
                struct teardown_gc_result *out)
{
	static const enum run_object_kind kinds[] = { RUN_CONTAINER,
		                                      RUN_NETWORK, RUN_VOLUME };
	/* a label filter without a value selects every project */
	struct engine_label f = { LABEL_PROJECT, project };
	struct run_set runs = RUN_SET_INIT;
	unsigned judge = 0;
	int rc = 0, failed = 0;

	memset(out, 0, sizeof(*out));
	if (flags & TEARDOWN_GC_KEPT)
		judge |= RUN_JUDGE_KEPT;
	if (flags & TEARDOWN_GC_FORCE)
		judge |= RUN_JUDGE_FORCE;
	for (size_t k = 0; k < 3; k++) {
		struct engine_object_list l;

		rc = list(e, kinds[k], &f, 1, &l);
		if (rc)
			goto out;
		run_set_add(&runs, &l, kinds[k]);
		engine_object_list_release(&l);
	}
	for (size_t i = 0; i < runs.n; i++) {
		const struct run_info *r = &runs.items[i];
		const char *why = NULL;
		enum run_verdict v = run_judge(r, judge, run_owner_check, &why);
		struct teardown_opts o = { 0 };
		struct teardown_gc_run *g;

		if (project && strcmp(r->project, project))
			continue; /* the filter was not applied */
		if (v == RUN_LIVE)
			out->live++;
		else if (v == RUN_KEPT)
			out->kept++;
		else if (v == RUN_UNOWNED)
			out->unowned++;
		else if (v == RUN_UNKNOWN)
			gc_run_new(&out->unknown, &out->nunknown,
			           &out->unknown_alloc, r, why);
		if (v != RUN_STALE)
			continue;
		g = gc_run_new(&out->items, &out->n, &out->alloc, r, why);
		o.project = r->project;
		o.run_id = r->run_id;
		g->rc = teardown_run(e, &o, &g->stats);
		if (g->rc) {
			g->error = xstrdup(orch_error_last());
			failed++;
			/* an engine that stopped answering fails every run */
			if (g->rc == ORCH_EUNREACHABLE) {
				rc = g->rc;
				goto out;
			}
		}
	}
	if (failed)
		rc = orch_error_set("%d stale run%s not removed completely",
		                    failed, failed == 1 ? "" : "s");
out:
	run_set_release(&runs);
	return rc;
}

int teardown_stale(struct engine *e, const char *project, size_t *runs,
                   struct teardown_stats *stats)
{
	struct teardown_gc_result r;
	struct teardown_stats st = { 0 };
	size_t removed = 0;
	int rc;

	rc = teardown_gc(e, project, 0, &r);
	for (size_t i = 0; i < r.n; i++) {
		st.containers += r.items[i].stats.containers;
		st.networks += r.items[i].stats.networks;
		st.volumes += r.items[i].stats.volumes;
		st.failed += r.items[i].stats.failed;
		if (!r.items[i].rc)
			removed++;
	}
	if (runs)
		*runs = removed;
	if (stats)
		*stats = st;
	teardown_gc_result_release(&r);
	return rc;
}
