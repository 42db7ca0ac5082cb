/*
 * env.c: a run of an environment and its moves from one configuration to
 * the next (env.h): the state machine of its containers, the swap of a
 * stub for its real service, and the watch over what runs.
 *
 * Shape: every service has the container that answers under its name
 * (cur) and, during a swap, the real one being readied to replace a stub
 * (next). Each container moves PENDING -> CREATED -> STARTING -> STARTED
 * -> READY (or COMPLETED, a job) in advance(), which looks only at flags
 * and finished calls; everything it asks of the engine is asynchronous,
 * and engine callbacks only record facts. step() runs advance() over
 * every container after each turn of the run's loop, then the swaps.
 *
 * What lives elsewhere: the create request (spec.c), readiness checks
 * (ready.c), images (images.c), the gate's argv and directory
 * (gate_host.c), signals (signals.c), removal by labels (teardown.c).
 */
#include "env.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_ops.h"
#include "env.h"
#include "env_int.h"
#include "error.h"
#include "evloop.h"
#include "mask.h"
#include "signals.h"
#include "spec.h"
#include "teardown.h"
#include "version.h"
#include "watchdog.h"

static void env_priorities(struct env *env);
static void schedule_starts(struct env *env);

const char *env_state_name(enum env_state s)
{
	static const char *const names[] = { "pending", "created", "starting",
		                             "started", "ready",   "completed",
		                             "failed" };

	return s <= ENV_FAILED ? names[s] : "?";
}

/* ---- small helpers ------------------------------------------------------ */

int64_t env_clock(const struct env *env)
{
	return now_ms() - env->t0;
}

void env_note(struct env *env, struct svc *s, enum env_note what)
{
	if (env->progress)
		env->progress(env->ud, &s->pub, what);
}

/* The state the service shows: its incoming container's, during a swap. */
void svc_publish(struct svc *s)
{
	struct ctr *c = s->next ? s->next : s->cur;

	s->pub.mode = s->mode;
	if (!c)
		return;
	s->pub.state = c->state;
	s->pub.container_id = c->id;
	s->pub.container_name = c->name;
	s->pub.image = c->img ? image_tag(c->img) : NULL;
	s->pub.image_id =
	        c->img && image_info(c->img) ? image_info(c->img)->id : NULL;
	s->pub.image_digest = c->img && image_info(c->img)
	                              ? image_info(c->img)->repo_digests[0]
	                              : NULL;
	s->pub.endpoints = c->eps;
	s->pub.nendpoints = c->neps;
	s->pub.started_ms = c->started_ms;
	s->pub.ready_ms = c->ready_ms;
	s->pub.checked_ms = c->checked_ms;
	s->pub.failure = c->failure;
	s->pub.exit_code = c->exit_code;
}

void env_fail(struct env *env, struct ctr *c, int rc, const char *msg)
{
	if (env->failed)
		return;
	env->failed = 1;
	env->fail_rc = rc;
	buf_addstr(&env->fail_msg, msg);
	env->failed_ctr = c;
	if (c)
		env->failed_service = xstrdup(c->svc->ms->name);
}

void ctr_fail_code(struct ctr *c, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* c failed: "service 'db': <why>" fails the run (the first one wins). */
void ctr_fail_code(struct ctr *c, int rc, const char *fmt, ...)
{
	struct buf why = BUF_INIT, msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&why, fmt, ap);
	va_end(ap);
	c->state = ENV_FAILED;
	free(c->failure);
	c->failure = buf_detach(&why, NULL);
	buf_addf(&msg, "service '%s': %s", c->svc->ms->name, c->failure);
	env_fail(c->env, c, rc, buf_cstr(&msg));
	buf_release(&msg);
	ready_stop(&c->ready);
	svc_publish(c->svc);
	env_note(c->env, c->svc, ENV_NOTE_FAILED);
}

#define ctr_fail(c, ...) ctr_fail_code(c, ORCH_EENGINE, __VA_ARGS__)

void env_wake_done(struct engine_call *call, void *ud)
{
	struct env *env = ud;

	(void)call;
	evloop_wake(env->loop);
}

/* The run's labels and role: for networks and volumes. */
size_t env_labels_role(const struct env *env, struct engine_label *l,
                       const char *role)
{
	memcpy(l, env->labels, env->nlabels * sizeof(*l));
	l[env->nlabels] = (struct engine_label){ LABEL_ROLE, role };
	return env->nlabels + 1;
}

/* ---- life cycle ----------------------------------------------------------- */

int env_new(struct env **out, struct engine *e, const struct manifest *m,
            const struct env_opts *o)
{
	struct env *env = xcalloc(1, sizeof(*env));
	size_t n = 0;

	env->e = e;
	env->loop = o->loop;
	env->m = m;
	env->project = xstrdup(o->project);
	run_id_new(env->run_id);
	env->network = xasprintf("%s-%s", env->project, env->run_id);
	env->t0 = o->t0 ? o->t0 : now_ms();
	env->progress = o->progress;
	env->ud = o->ud;
	buf_init(&env->fail_msg, 0);
	run_owner_self(&env->owner);
	env->labels[n++] = (struct engine_label){ LABEL_PROJECT, env->project };
	env->labels[n++] = (struct engine_label){ LABEL_RUN_ID, env->run_id };
	n += run_owner_labels(&env->owner, env->labels + n);
	env->labels[n++] = (struct engine_label){ LABEL_VERSION, ORCH_VERSION };
	env->nlabels = n;
	env->images = images_new(
	        e, (struct engine_label[]){ { LABEL_BUILT_BY, env->project } },
	        1);
	env->n = m->nservices;
	env->svcs = xcalloc(env->n ? env->n : 1, sizeof(*env->svcs));
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		s->env = env;
		s->index = i;
		s->ms = &m->services[i];
		s->pub.name = s->ms->name;
		s->pub.started_ms = s->pub.ready_ms = -1;
		s->pub.checked_ms = -1;
		s->pub.swapped_ms = s->pub.swap_gap_ms = -1;
		/* a job by the manifest, not by the stage: a dependant that
		   is absent now still means its exit 0 is success */
		for (size_t j = 0; j < m->nservices; j++)
			for (size_t k = 0; k < m->services[j].ndeps; k++)
				if (m->services[j].deps[k].index == i &&
				    m->services[j].deps[k].condition ==
				            MF_SERVICE_COMPLETED_SUCCESSFULLY)
					s->job = 1;
	}
	env_priorities(env);
	*out = env;
	return 0;
}

const char *env_run_id(const struct env *env)
{
	return env->run_id;
}

const char *env_network_name(const struct env *env)
{
	return env->network;
}

size_t env_nservices(const struct env *env)
{
	return env->n;
}

const struct env_service *env_service(const struct env *env, size_t i)
{
	return i < env->n ? &env->svcs[i].pub : NULL;
}

const char *env_failure_logs(const struct env *env)
{
	return env->failure_logs;
}

const char *env_failed_service(const struct env *env)
{
	return env->failed_service;
}

void env_modes_all(const struct manifest *m, enum plan_mode *modes)
{
	for (size_t i = 0; i < m->nservices; i++)
		modes[i] = mf_service_external(&m->services[i]) ? PLAN_STUB
		                                                : PLAN_REAL;
}

void env_spec_opts(const struct env *env, struct spec_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->project = env->project;
	o->run_id = env->run_id;
	o->run_labels = env->labels;
	o->nrun_labels = env->nlabels;
	o->network = env_net_ref(env, 0);
}

void env_free(struct env *env)
{
	if (!env)
		return;
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		for (size_t k = 0; k < s->ndetach; k++)
			engine_call_drop(&s->detach[k]);
		free(s->detach);
		engine_call_drop(&s->attach);
		ctr_free(s->cur);
		ctr_free(s->next);
	}
	while (env->retired) {
		struct ctr *c = env->retired;

		env->retired = c->retired_next;
		ctr_free(c);
	}
	strvec_clear(&env->old_log_names);
	strvec_clear(&env->old_logs);
	strvec_clear(&env->teardown_warnings);
	images_free(env->images);
	free(env->prio);
	engine_call_drop(&env->info_call);
	engine_call_drop(&env->events);
	engine_call_drop(&env->net_call);
	engine_call_drop(&env->stage_call);
	for (size_t i = 0; i < env->nvols; i++)
		engine_call_drop(&env->vol_calls[i]);
	free(env->vol_calls);
	for (size_t i = 0; i < env->nlate; i++)
		engine_call_drop(&env->late[i]);
	free(env->late);
	free(env->gate_dir);
	/*
	 * A watchdog still held here means the run was neither kept nor torn
	 * down (we are dying on purpose): leave its pipe open until exit, so
	 * it removes the run then.
	 */
	watchdog_leave(env->wd);
	free(env->svcs);
	free(env->project);
	free(env->network);
	free(env->network_id);
	free(env->stage_net);
	free(env->stage_net_id);
	buf_release(&env->fail_msg);
	free(env->failed_service);
	free(env->failure_logs);
	free(env);
}

/* ---- the swap ----------------------------------------------------------------- */

static void retired_log(int stream, const char *data, size_t len, void *ud)
{
	struct ctr *c = ud;

	(void)stream;
	buf_add(&c->log, data, len); /* past the cap: the start is kept */
}

/* A swapped-out stub: its logs are read (the report keeps them), then it
   is removed. */
static void retire(struct env *env, struct ctr *old)
{
	ctr_quiesce(old);
	buf_init(&old->log, RETIRED_LOG_CAP);
	if (old->id)
		old->logs_call = engine_logs_start(env->e, old->id, 0, -1, 0, 0,
		                                   retired_log, old);
	old->retired_next = env->retired;
	env->retired = old;
}

/* Free swapped-out stubs whose removal answered (gone or not: teardown
   goes by labels), keeping their logs. */
static void retired_step(struct env *env)
{
	struct ctr **pp = &env->retired;

	while (*pp) {
		struct ctr *c = *pp;

		if (c->logs_call && engine_call_done(c->logs_call)) {
			engine_call_drop(&c->logs_call);
			c->remove_call = engine_container_remove_start(
			        env->e, c->id, 1, env_wake_done, env);
		}
		if (c->logs_call ||
		    (c->remove_call && !engine_call_done(c->remove_call))) {
			pp = &c->retired_next;
			continue;
		}
		*pp = c->retired_next;
		strvec_push(&env->old_log_names, c->name);
		strvec_push(&env->old_logs, buf_cstr(&c->log));
		ctr_free(c);
	}
}

static void swap_fail(struct svc *s, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void swap_fail(struct svc *s, const char *fmt, ...)
{
	struct buf why = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&why, fmt, ap);
	va_end(ap);
	ctr_fail(s->next, "swapping it in for its stub: %s", buf_cstr(&why));
	buf_release(&why);
}

/* The swapped service's callers are checked again before anything runs. */
static void recheck_callers(struct env *env, struct svc *s)
{
	for (size_t i = 0; i < env->n; i++) {
		struct svc *o = &env->svcs[i];

		if (o->mode == PLAN_ABSENT || !o->cur || o->next)
			continue;
		for (size_t k = 0; k < o->ms->ndeps; k++)
			if (o->ms->deps[k].index == s->index &&
			    o->cur->mode == PLAN_REAL)
				o->cur->recheck = 1;
	}
}

/*
 * The stub goes off every network it is on (the run's, and the stage
 * networks of earlier moves where staged services reached it), then the
 * real service, ready, comes onto the run's network under the name: the
 * name never answers twice, and answers nothing only between the two.
 * If the stub cannot be detached, the real one is not attached.
 */
static void swap_step(struct env *env, struct svc *s)
{
	struct ctr *old = s->cur, *nw = s->next;
	int rc;

	if (!nw || env->failed)
		return;
	if (!s->swapping) {
		if (nw->state != ENV_READY && nw->state != ENV_COMPLETED)
			return;
		s->swap_t0 = now_ms();
		s->ndetach = old && old->id ? old->nets.n : 0;
		s->detach = xcalloc(s->ndetach + 1, sizeof(*s->detach));
		for (size_t k = 0; k < s->ndetach; k++)
			s->detach[k] = engine_network_disconnect_start(
			        env->e, old->nets.v[k], old->id, 1,
			        env_wake_done, env);
		s->swapping = 1;
	}
	if (s->swapping == 1) {
		for (size_t k = 0; k < s->ndetach; k++)
			if (!engine_call_done(s->detach[k]))
				return;
		for (size_t k = 0; k < s->ndetach; k++) {
			rc = engine_network_disconnect_result(s->detach[k]);
			if (rc && rc != ORCH_ENOTFOUND) {
				swap_fail(
				        s,
				        "detaching the stub from network '%s' "
				        "failed, so it may still answer: the "
				        "real service was not attached: %s",
				        old->nets.v[k], orch_error_last());
				return;
			}
		}
		for (size_t k = 0; k < s->ndetach; k++)
			engine_call_drop(&s->detach[k]);
		free(s->detach);
		s->detach = NULL;
		s->ndetach = 0;
		/* a job that completed answers nothing: no name to give */
		if (nw->state == ENV_READY) {
			char **aliases = ctr_aliases(nw);

			s->attach = engine_network_connect_start(
			        env->e, env_net_ref(env, 0), nw->id, aliases,
			        env_wake_done, env);
			free(aliases);
		}
		s->swapping = 2;
	}
	if (s->attach) {
		if (!engine_call_done(s->attach))
			return;
		rc = engine_network_connect_result(s->attach);
		engine_call_drop(&s->attach);
		if (rc) {
			swap_fail(s, "attaching it to network '%s': %s",
			          env->network, orch_error_last());
			return;
		}
		strvec_push(&nw->nets, env_net_ref(env, 0));
		nw->ports_stale = 1;
	}
	s->pub.swap_gap_ms = now_ms() - s->swap_t0;
	s->pub.swapped_ms = env_clock(env);
	s->swapping = 0;
	if (old)
		retire(env, old);
	s->cur = nw;
	s->next = NULL;
	svc_publish(s);
	env_note(env, s, ENV_NOTE_SWAPPED);
	recheck_callers(env, s);
}

/* ---- the start scheduler ------------------------------------------------ */

#define DEFAULT_START_LIMIT 2

/*
 * How long the path is from each service to the end of a bring-up, in
 * rough units: a start, plus a wait for readiness when it is checked (or
 * a job's run), plus the longest such path among the services that wait
 * for it. The manifest's graph, whatever the stage: a service that
 * others wait for long is started first.
 */
static int path_len(struct env *env, size_t i, int *memo)
{
	const struct mf_service *ms = &env->m->services[i];
	const struct mf_container *c = ms->has_real ? &ms->real : ms->stub;
	int best = 0, w;

	if (memo[i])
		return memo[i];
	w = 1;
	if (c && ((c->healthcheck.set && !c->healthcheck.disable) ||
	          c->ready.tcp_port || c->ready.http_port || c->ready.exec.n ||
	          c->ready.log_regex || env->svcs[i].job))
		w = 2;
	memo[i] = -1; /* no cycles (the manifest checked), but be safe */
	for (size_t d = 0; d < env->n; d++)
		for (size_t k = 0; k < env->m->services[d].ndeps; k++)
			if (env->m->services[d].deps[k].index == i) {
				int l = path_len(env, d, memo);

				if (l > best)
					best = l;
			}
	memo[i] = w + best;
	return memo[i];
}

static void env_priorities(struct env *env)
{
	const char *lim = getenv("ORCHESTRATE_START_CONCURRENCY");
	long v;

	env->prio = xcalloc(env->n + 1, sizeof(*env->prio));
	for (size_t i = 0; i < env->n; i++)
		path_len(env, i, env->prio);
	env->start_limit = DEFAULT_START_LIMIT;
	if (lim && *lim && !parse_int(lim, 1, 1000, &v))
		env->start_limit =
		        -(int)v; /* the user's: /info does not count */
}

/* The engine's CPUs set how many starts it serves at once. */
static void start_limit_step(struct env *env)
{
	struct engine_info info;

	if (!env->info_call || !engine_call_done(env->info_call))
		return;
	if (engine_info_result(env->info_call, &info) == 0 && info.ncpu > 0 &&
	    env->start_limit > 0)
		env->start_limit = info.ncpu;
	engine_info_release(&info);
	engine_call_drop(&env->info_call);
}

static int by_priority(const void *a, const void *b)
{
	const struct ctr *x = *(struct ctr *const *)a;
	const struct ctr *y = *(struct ctr *const *)b;
	int px = x->env->prio[x->svc->index], py = y->env->prio[y->svc->index];

	if (px != py)
		return py - px;
	return x->svc->index < y->svc->index ? -1 : 1;
}

/*
 * Start what may start, the longest remaining path first. On each pass
 * the waiting candidates with the longest path all start at once,
 * whatever is in flight: the engine serves starts sent together in less
 * time than one after another (two in 0.85 s where one takes 0.52 s), and
 * a level of equals -- a wide environment -- finishes soonest all
 * together. The rest wait while start_limit starts are in flight. So each
 * turn of the loop lets at most one group of equals past the limit,
 * longest paths first, and a group never waits behind a shorter one. A
 * gated service counts as startable from its creation (its process waits
 * for the release): it competes by its priority like the others.
 */
static void schedule_starts(struct env *env)
{
	struct ctr **cand = xcalloc(2 * env->n + 1, sizeof(*cand));
	int limit = env->start_limit < 0 ? -env->start_limit : env->start_limit;
	size_t n = 0;
	int inflight = 0;

	start_limit_step(env);
	for (size_t i = 0; i < env->n; i++) {
		struct ctr *cs[2] = { env->svcs[i].cur, env->svcs[i].next };

		for (size_t k = 0; k < 2; k++) {
			if (!cs[k])
				continue;
			if (cs[k]->start_call)
				inflight++;
			else if (ctr_startable(env, cs[k]))
				cand[n++] = cs[k];
		}
	}
	qsort(cand, n, sizeof(*cand), by_priority);
	for (size_t i = 0; i < n; i++) {
		int p = env->prio[cand[i]->svc->index];

		if (p != env->prio[cand[0]->svc->index] && inflight >= limit)
			break;
		ctr_submit_start(env, cand[i]);
		inflight++;
	}
	free(cand);
}

/* ---- moves --------------------------------------------------------------------- */

static int check_modes(struct env *env, const enum plan_mode *modes)
{
	for (size_t i = 0; i < env->n; i++) {
		const struct svc *s = &env->svcs[i];
		const char *name = s->ms->name;

		if (modes[i] == PLAN_REAL && !s->ms->has_real)
			return orch_error_code(ORCH_EINVALID,
			                       "service '%s' is external: it "
			                       "has only a stub",
			                       name);
		if (modes[i] == PLAN_STUB && !s->ms->stub)
			return orch_error_code(ORCH_EINVALID,
			                       "service '%s' has no stub",
			                       name);
		if (s->mode != PLAN_ABSENT && modes[i] == PLAN_ABSENT)
			return orch_error_code(ORCH_EINVALID,
			                       "service '%s': a stage cannot "
			                       "remove a service",
			                       name);
		if (s->mode == PLAN_REAL && modes[i] == PLAN_STUB)
			return orch_error_code(
			        ORCH_EINVALID,
			        "service '%s': a stage cannot turn "
			        "a real service back into its stub",
			        name);
	}
	return 0;
}

int env_move(struct env *env, const enum plan_mode *modes)
{
	struct engine_label l[MAX_LABELS];
	int staged = 0, rc;

	if (env->failed)
		return orch_error_code(env->fail_rc, "%s",
		                       buf_cstr(&env->fail_msg));
	rc = check_modes(env, modes);
	if (rc == 0)
		rc = env_prepare(env);
	if (rc)
		return rc;
	if (!env->events && !env->events_broken)
		env_events_start(env);
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		if (s->mode == modes[i])
			continue;
		if (s->mode == PLAN_STUB && s->cur &&
		    s->cur->state != ENV_FAILED) {
			/* a swap: readied beside the stub, then swapped in */
			s->next = ctr_new(env, s, modes[i], 1);
			staged = 1;
		} else {
			ctr_free(s->cur);
			s->cur = ctr_new(env, s, modes[i], 0);
		}
		s->mode = modes[i];
		svc_publish(s);
	}
	if (!staged)
		return 0;
	/*
	 * One stage network per move: every staged service on it under its
	 * name, and every dependency of one attached to it under its own.
	 */
	free(env->stage_net);
	free(env->stage_net_id);
	env->stage_net_id = NULL;
	env->stage_net = xasprintf("%s-%s-stage%u", env->project, env->run_id,
	                           ++env->nstages);
	env->stage_ready = 0;
	env->stage_call = engine_network_create_start(
	        env->e, env->stage_net, l,
	        env_labels_role(env, l, ROLE_NETWORK), env_create_done, env);
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		if (!s->next || s->next->mode != PLAN_REAL)
			continue;
		for (size_t k = 0; k < s->ms->ndeps; k++) {
			struct svc *d = &env->svcs[s->ms->deps[k].index];

			if (d->mode != PLAN_ABSENT && !d->next && d->cur) {
				d->cur->stage_want = 1;
				d->cur->stage_ok = 0;
			}
		}
	}
	return 0;
}

/* Every present service ready (or completed), no swap still to do. */
static int settled(const struct env *env)
{
	if (!env->net_ready || !env->vols_ready)
		return 0;
	for (size_t i = 0; i < env->n; i++) {
		const struct svc *s = &env->svcs[i];

		if (s->mode == PLAN_ABSENT)
			continue;
		if (s->next || s->swapping || !s->cur)
			return 0;
		if (s->cur->state != ENV_READY &&
		    s->cur->state != ENV_COMPLETED)
			return 0;
		if (s->cur->recheck ||
		    (s->cur->stage_want && !s->cur->stage_ok))
			return 0;
	}
	return 1;
}

int env_step(struct env *env)
{
	int64_t t = now_ms();
	int rc;

	if (!env->failed && (rc = env_objects_step(env)))
		env_fail(env, NULL, rc, orch_error_last());
	if (env->failed)
		return orch_error_code(env->fail_rc, "%s",
		                       buf_cstr(&env->fail_msg));
	env_events_step(env, t);
	for (size_t i = 0; i < env->n && !env->failed; i++) {
		ctr_advance(env, env->svcs[i].cur, t);
		ctr_advance(env, env->svcs[i].next, t);
	}
	for (size_t i = 0; i < env->n && !env->failed; i++)
		swap_step(env, &env->svcs[i]);
	retired_step(env);
	if (env->failed)
		return orch_error_code(env->fail_rc, "%s",
		                       buf_cstr(&env->fail_msg));
	schedule_starts(env);
	/* a state change above may let another container move: look again
	   without sleeping */
	for (size_t i = 0; i < env->n; i++) {
		struct ctr *cs[2] = { env->svcs[i].cur, env->svcs[i].next };

		for (size_t k = 0; k < 2; k++) {
			struct ctr *o = cs[k];

			if (o && ((ctr_held(o) && !o->start_call &&
			           ctr_deps_hold(env, o)) ||
			          o->recheck))
				evloop_wake(env->loop);
		}
	}
	return settled(env);
}

/*
 * Every service counted ready still runs: one listing of the run. A
 * service without checks counts as ready once started, and may have
 * exited since.
 */
static int verify_running(struct env *env)
{
	struct engine_label l = { LABEL_RUN_ID, env->run_id };
	struct engine_object_list list;
	int rc = engine_container_list(env->e, &l, 1, &list);

	for (size_t i = 0; rc == 0 && i < env->n; i++) {
		struct ctr *c = env->svcs[i].cur;

		if (!c || c->state != ENV_READY)
			continue;
		for (size_t k = 0; k < list.n; k++) {
			if (strcmp(list.items[k].id, c->id))
				continue;
			if (list.items[k].state &&
			    strcmp(list.items[k].state, "running")) {
				c->died = 1;
				c->exit_code = -1;
			}
		}
	}
	engine_object_list_release(&list);
	return rc;
}

static void fetch_failure_logs(struct env *env)
{
	struct ctr *c = env->failed_ctr;
	struct buf logs = BUF_INIT;

	if (!c || !c->id || env->failure_logs || env->fail_rc == ORCH_EINTR)
		return;
	buf_init(&logs, 1 << 20);
	if (engine_container_logs(env->e, c->id, FAILURE_LOG_LINES, &logs) ==
	            0 &&
	    logs.len)
		env->failure_logs = buf_detach(&logs, NULL);
	buf_release(&logs);
}

int env_reach(struct env *env, const enum plan_mode *modes, int signal_fd)
{
	struct evloop_fd *w = NULL;
	int rc, verified = 0, sig = 0;

	rc = env_move(env, modes);
	if (rc)
		return rc;
	if (signal_fd >= 0)
		w = evloop_fd_add(env->loop, signal_fd, POLLIN, NULL, NULL);
	for (;;) {
		rc = env_step(env);
		if (rc == 1 && !verified) {
			/* a last look at what we call ready */
			verified = 1;
			if (verify_running(env) == 0) {
				evloop_wake(env->loop);
				continue;
			}
		}
		if (rc)
			break;
		verified = 0;
		rc = evloop_turn(env->loop, -1);
		if (rc)
			break;
		if (signal_fd >= 0 && signals_first()) {
			sig = signals_first();
			break;
		}
	}
	evloop_fd_remove(w);
	if (sig)
		return orch_error_code(ORCH_EINTR, "interrupted by %s",
		                       signals_name(sig));
	if (rc == 1)
		return 0;
	/* keep the message across the calls below */
	{
		char *msg = xstrdup(orch_error_last());

		fetch_failure_logs(env);
		orch_error_code(rc, "%s", msg);
		free(msg);
	}
	return rc;
}

/* ---- logs ------------------------------------------------------------------ */

static int write_log(const char *dir, const char *name, const char *text,
                     size_t len, const struct mask *mask)
{
	struct buf masked = BUF_INIT;
	char *path = xasprintf("%s/%s.log", dir, name);
	int rc;

	mask_apply(mask, &masked, text, len);
	rc = write_file_atomic(path, masked.data ? masked.data : "",
	                       masked.len);
	free(path);
	buf_release(&masked);
	return rc;
}

int env_write_logs(struct env *env, const char *dir, const struct mask *mask)
{
	int rc = 0;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return orch_error_set("'%s': %s", dir, strerror(errno));
	for (size_t i = 0; i < env->n; i++) {
		struct ctr *cs[2] = { env->svcs[i].cur, env->svcs[i].next };

		for (size_t k = 0; k < 2; k++) {
			struct buf logs = BUF_INIT;
			const struct ctr *c = cs[k];
			char *name;

			if (!c || !c->id)
				continue;
			buf_init(&logs, LOG_CAP);
			/* past the cap the log is cut, not lost */
			engine_container_logs(env->e, c->id, -1, &logs);
			name = xasprintf("%s%s", c->svc->ms->name,
			                 c->mode == PLAN_STUB ? "-stub" : "");
			if (write_log(dir, name, buf_cstr(&logs), logs.len,
			              mask) &&
			    !rc)
				rc = ORCH_ERROR;
			free(name);
			buf_release(&logs);
		}
	}
	for (size_t i = 0; i < env->old_logs.n; i++) {
		/* the container's name ends in <service>-stub */
		const char *n = env->old_log_names.v[i];
		size_t skip = strlen(env->project) + 1 + RUN_ID_LEN + 1;

		if (strlen(n) > skip &&
		    write_log(dir, n + skip, env->old_logs.v[i],
		              strlen(env->old_logs.v[i]), mask) &&
		    !rc)
			rc = ORCH_ERROR;
	}
	return rc;
}
