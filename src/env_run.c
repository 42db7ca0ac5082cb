/*
 * env_run.c: the run's own objects and what the engine tells of it
 * (env_int.h): the watchdog, the network and volumes, the events stream
 * (or polling without it), the keep marker and the teardown.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_ops.h"
#include "env_int.h"
#include "error.h"
#include "evloop.h"
#include "hooks.h"
#include "runs.h"
#include "teardown.h"
#include "watchdog.h"

/* ---- the run's network and volumes ------------------------------------------ */

static void late_create_done(struct engine_call *c, void *ud);

/*
 * A create's answer, for step(). Once teardown began, what a container
 * create makes is removed as its answer comes; a network or a volume is
 * listed by the teardown's last pass.
 */
void env_create_done(struct engine_call *c, void *ud)
{
	struct env *env = ud;

	(void)c;
	evloop_wake(env->loop);
}

void env_ctr_create_done(struct engine_call *c, void *ud)
{
	struct env *env = ud;

	if (env->tearing)
		late_create_done(c, ud);
	else
		evloop_wake(env->loop);
}

int env_prepare(struct env *env)
{
	struct engine_label l[MAX_LABELS];
	size_t nl;
	int rc;

	if (env->prepared)
		return 0;
	/* before the first object exists: a killed orchestrate still gets
	   its run removed */
	rc = watchdog_start(env->project, env->run_id, &env->wd);
	if (rc)
		return orch_error_prefix(rc, "watchdog");
	env->prepared = 1;
	nl = env_labels_role(env, l, ROLE_NETWORK);
	/* how many starts the engine serves at once: its CPUs */
	env->info_call = engine_info_start(env->e, env_wake_done, env);
	env->net_call = engine_network_create_start(env->e, env->network, l, nl,
	                                            env_create_done, env);
	env->nvols = env->m->nvolumes;
	env->vol_calls = xcalloc(env->nvols + 1, sizeof(*env->vol_calls));
	nl = env_labels_role(env, l, ROLE_VOLUME);
	for (size_t i = 0; i < env->nvols; i++) {
		char *name = xasprintf("%s-%s-%s", env->project, env->run_id,
		                       env->m->volumes[i].name);

		env->vol_calls[i] = engine_volume_create_start(
		        env->e, name, l, nl, env_create_done, env);
		free(name);
	}
	env->events_since_s = wall_ms() / 1000 - 1;
	return 0;
}

/*
 * A volume create answered: the engine answers 201 with the existing
 * volume when the name is taken, whatever labels we asked for, so only
 * the labels of what came back say whether it is ours. One that is not
 * this run's is refused: its data is someone else's (external volumes
 * are not supported), and teardown, which goes by our labels, leaves it
 * alone.
 */
static int volume_is_ours(struct env *env, int rc, struct engine_object *got,
                          const char *what, const char *name)
{
	const char *project, *run;

	if (rc)
		return orch_error_prefix(rc, "%s (%s)", what, name);
	project = engine_object_label(got, LABEL_PROJECT);
	run = engine_object_label(got, LABEL_RUN_ID);
	if (project && run && !strcmp(project, env->project) &&
	    !strcmp(run, env->run_id))
		return 0;
	if (project || run)
		return orch_error_code(ORCH_ECONFLICT,
		                       "%s: '%s' already exists and is not "
		                       "this run's (it belongs to project "
		                       "'%s', run '%s'): orchestrate neither "
		                       "uses nor removes it",
		                       what, name, project ? project : "",
		                       run ? run : "");
	return orch_error_code(ORCH_ECONFLICT,
	                       "%s: '%s' already exists and is not "
	                       "orchestrate's (no %s labels): orchestrate "
	                       "neither uses nor removes it",
	                       what, name, LABEL_PREFIX);
}

/* The network and volume creates: 0 while waiting or done, <0 failed. */
int env_objects_step(struct env *env)
{
	int rc;

	if (env->net_call && engine_call_done(env->net_call)) {
		free(env->network_id);
		env->network_id = NULL;
		rc = engine_network_create_result(env->net_call,
		                                  &env->network_id);
		engine_call_drop(&env->net_call);
		if (rc == ORCH_ENOPOOL)
			return orch_error_prefix(
			        rc,
			        "network '%s' (leaked networks use up the "
			        "address pools: try 'orchestrate gc')",
			        env->network);
		if (rc)
			return orch_error_prefix(rc, "network '%s'",
			                         env->network);
		env->net_ready = 1;
	}
	if (!env->vols_ready) {
		int all = 1;

		for (size_t i = 0; i < env->nvols; i++) {
			struct engine_call *c = env->vol_calls[i];
			char *name, *what;

			if (!c) {
				continue;
			}
			if (!engine_call_done(c)) {
				all = 0;
				continue;
			}
			name = xasprintf("%s-%s-%s", env->project, env->run_id,
			                 env->m->volumes[i].name);
			what = xasprintf("volume '%s'",
			                 env->m->volumes[i].name);
			{
				struct engine_object got;

				rc = engine_volume_create_result(c, &got);
				rc = volume_is_ours(env, rc, &got, what, name);
				engine_object_release(&got);
			}
			free(name);
			free(what);
			engine_call_drop(&env->vol_calls[i]);
			if (rc)
				return rc;
		}
		env->vols_ready = all;
	}
	if (env->stage_call && engine_call_done(env->stage_call)) {
		free(env->stage_net_id);
		env->stage_net_id = NULL;
		rc = engine_network_create_result(env->stage_call,
		                                  &env->stage_net_id);
		engine_call_drop(&env->stage_call);
		if (rc)
			return orch_error_prefix(rc, "stage network '%s'",
			                         env->stage_net);
		env->stage_ready = 1;
	}
	return 0;
}

const char *env_net_ref(const struct env *env, int stage)
{
	if (stage)
		return env->stage_net_id ? env->stage_net_id : env->stage_net;
	return env->network_id ? env->network_id : env->network;
}

/* ---- a name taken ------------------------------------------------------ */

/*
 * Why the holder of a name is not ours to remove, into why (empty: it
 * is). Judged as gc judges a run (runs.h), from the holder's own labels
 * and the keep marker of its run: the run id in its name is ours, but
 * our own live containers must not count as its owner.
 */
static void holder_whose(struct env *env, struct buf *why,
                         const struct engine_container_info *info)
{
	struct engine_object holder = { 0 };
	struct engine_object_list one = { &holder, 1 }, keep = { 0 };
	struct run_set runs = RUN_SET_INIT;
	const struct run_info *r;
	const char *project, *run, *reason = NULL;
	struct engine_label f[3];

	holder.id = info->id;
	holder.name = info->name;
	holder.labels = info->labels;
	holder.state = info->status;
	project = engine_object_label(&holder, LABEL_PROJECT);
	run = engine_object_label(&holder, LABEL_RUN_ID);
	if (!project || !run) {
		buf_addf(why, "is not orchestrate's (no %s labels)",
		         LABEL_PREFIX);
		return;
	}
	if (strcmp(project, env->project)) {
		buf_addf(why, "belongs to project '%s' (run '%s')", project,
		         run);
		return;
	}
	f[0] = (struct engine_label){ LABEL_PROJECT, project };
	f[1] = (struct engine_label){ LABEL_RUN_ID, run };
	f[2] = (struct engine_label){ LABEL_ROLE, ROLE_KEEP };
	if (engine_volume_list(env->e, f, 3, &keep)) {
		buf_addf(why,
		         "belongs to run '%s', which could not be checked: "
		         "%s",
		         run, orch_error_last());
		return;
	}
	run_set_add(&runs, &one, RUN_CONTAINER);
	run_set_add(&runs, &keep, RUN_VOLUME);
	r = run_set_find(&runs, project, run);
	switch (r ? run_judge(r, 0, run_owner_check, &reason) : RUN_UNOWNED) {
	case RUN_STALE:
		break; /* why stays empty: remove it */
	case RUN_LIVE:
		buf_addf(why,
		         "belongs to run '%s', whose owner (pid %ld on "
		         "'%s') still runs",
		         run, r->owner.pid, r->owner.host);
		break;
	case RUN_KEPT:
		buf_addf(why,
		         "belongs to run '%s', kept on purpose "
		         "('orchestrate down' removes it)",
		         run);
		break;
	case RUN_UNKNOWN:
		buf_addf(why,
		         "belongs to run '%s', whose owner %s ('orchestrate "
		         "gc --force' removes it)",
		         run, reason ? reason : "cannot be checked from here");
		break;
	case RUN_UNOWNED:
		buf_addf(why, "belongs to run '%s', which has no owner labels",
		         run);
		break;
	}
	engine_object_list_release(&keep);
	run_set_release(&runs);
}

int env_name_taken(struct env *env, struct ctr *c)
{
	struct engine_container_info info;
	struct buf why = BUF_INIT;
	int rc;

	rc = engine_container_inspect(env->e, c->name, &info);
	if (rc == ORCH_ENOTFOUND) {
		/* gone meanwhile: try again */
		rc = 0;
		goto out;
	}
	if (rc) {
		rc = orch_error_prefix(rc,
		                       "name '%s' is taken, and its holder "
		                       "could not be inspected",
		                       c->name);
		goto out;
	}
	holder_whose(env, &why, &info);
	if (why.len) {
		rc = orch_error_code(ORCH_ECONFLICT,
		                     "name '%s' is taken by container %.12s, "
		                     "which %s: orchestrate neither uses nor "
		                     "removes it",
		                     c->name, info.id ? info.id : "?",
		                     buf_cstr(&why));
		goto out;
	}
	/* a leftover of a stale run of ours: what gc would remove */
	rc = engine_container_remove(env->e, info.id, 1);
	if (rc == ORCH_ENOTFOUND)
		rc = 0;
	if (rc)
		rc = orch_error_prefix(rc,
		                       "name '%s' is taken by container "
		                       "%.12s, a leftover of a stale run: "
		                       "removing it",
		                       c->name, info.id);
out:
	engine_container_info_release(&info);
	buf_release(&why);
	return rc;
}

/* ---- events ---------------------------------------------------------------- */

struct ctr *env_ctr_by_id(struct env *env, const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		if (s->cur && s->cur->id && !strcmp(s->cur->id, id))
			return s->cur;
		if (s->next && s->next->id && !strcmp(s->next->id, id))
			return s->next;
	}
	return NULL;
}

static void on_event(const struct engine_event *ev, void *ud)
{
	struct env *env = ud;
	struct ctr *c = env_ctr_by_id(env, ev->id);
	const char *a = ev->action;

	if (ev->time_ns / 1000000000 > env->events_since_s)
		env->events_since_s = ev->time_ns / 1000000000;
	if (!c || !a)
		return;
	if (!strcmp(a, "die")) {
		long code = 0;

		c->died = 1;
		if (ev->exit_code &&
		    !parse_int(ev->exit_code, -1000000, 1000000, &code))
			c->exit_code = (int)code;
	} else if (!strcmp(a, "oom")) {
		c->oom = 1;
	} else if (!strcmp(a, "health_status: healthy")) {
		ctr_health_seen(c, 1);
	} else if (!strcmp(a, "health_status: unhealthy")) {
		ctr_health_seen(c, 0);
	} else {
		return;
	}
	/* the loop may be blocked without a deadline: let it look */
	evloop_wake(env->loop);
}

void env_events_start(struct env *env)
{
	struct engine_label l = { LABEL_RUN_ID, env->run_id };

	/* since: replay what happened before the stream was established */
	env->events = engine_events_start(env->e, &l, 1, "container",
	                                  env->events_since_s, on_event, env);
}

/* Without the events stream: ask the engine about each container. */
static void poll_ctr(struct env *env, struct ctr *c, int64_t t)
{
	struct engine_container_info info;

	if (!c || !c->id || (c->state != ENV_STARTED && c->state != ENV_READY))
		return;
	if (c->poll_call) {
		if (!engine_call_done(c->poll_call))
			return;
		if (engine_container_inspect_result(c->poll_call, &info) == 0) {
			if (!info.running) {
				c->died = 1;
				c->exit_code = info.exit_code;
				c->oom = info.oom_killed;
			}
			if (info.health)
				ctr_health_seen(
				        c, !strcmp(info.health, "healthy"));
		}
		engine_container_info_release(&info);
		engine_call_drop(&c->poll_call);
	}
	if (t - env->last_poll >= POLL_FALLBACK_MS)
		c->poll_call = engine_container_inspect_start(
		        env->e, c->id, env_wake_done, env);
}

void env_events_step(struct env *env, int64_t t)
{
	if (env->events && engine_call_done(env->events)) {
		/* the stream ended under us: reconnect once, then poll */
		engine_call_drop(&env->events);
		if (!env->events_broken++)
			env_events_start(env);
	}
	if (env->events || !env->events_broken)
		return;
	for (size_t i = 0; i < env->n; i++) {
		poll_ctr(env, env->svcs[i].cur, t);
		poll_ctr(env, env->svcs[i].next, t);
	}
	if (t - env->last_poll >= POLL_FALLBACK_MS)
		env->last_poll = t;
	evloop_wake_at(env->loop, env->last_poll + POLL_FALLBACK_MS);
}

/* ---- keep and teardown ------------------------------------------------------------ */

/* Stop every probe, stream and call that is not a create. */
void env_quiesce(struct env *env)
{
	images_cancel(env->images);
	engine_call_drop(&env->events);
	engine_call_drop(&env->info_call);
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		for (size_t k = 0; k < s->ndetach; k++)
			engine_call_drop(&s->detach[k]);
		engine_call_drop(&s->attach);
		if (s->cur)
			ctr_quiesce(s->cur);
		if (s->next)
			ctr_quiesce(s->next);
	}
}

int env_keep(struct env *env)
{
	struct engine_label l[MAX_LABELS];
	char *name = xasprintf("%s-%s-keep", env->project, env->run_id);
	struct engine_object got;
	char ready_at[32];
	size_t nl;
	int rc;

	env_quiesce(env);
	/* `status` counts a kept run's services ready from here on until
	 * the engine reports a failed check (cmd_status.c) */
	nl = env_labels_role(env, l, ROLE_KEEP);
	format_rfc3339_ms(ready_at, sizeof(ready_at), wall_ms());
	l[nl++] = (struct engine_label){ LABEL_READY_AT, ready_at };
	rc = engine_volume_create(env->e, name, l, nl, &got);
	rc = volume_is_ours(env, rc, &got, "keep marker", name);
	engine_object_release(&got);
	if (rc == 0 && env->wd) {
		watchdog_release(env->wd);
		env->wd = NULL;
	}
	free(name);
	return rc;
}

/* A create answered after teardown began: remove what it made. */
static void late_create_done(struct engine_call *c, void *ud)
{
	struct env *env = ud;
	struct engine_call *rm = NULL;
	char *id = NULL;

	if (engine_container_create_result(c, &id) == 0 && id)
		rm = engine_container_remove_start(env->e, id, 1, NULL, NULL);
	free(id);
	if (!rm)
		return;
	ALLOC_GROW(env->late, env->nlate + 1, env->alate);
	env->late[env->nlate++] = rm;
}

static int running(const struct engine_call *c)
{
	return c && !engine_call_done(c);
}

/* A create (or a late removal) still unanswered, or NULL. */
static const struct engine_call *creates_in_flight(const struct env *env)
{
	if (running(env->net_call))
		return env->net_call;
	if (running(env->stage_call))
		return env->stage_call;
	for (size_t i = 0; i < env->nvols; i++)
		if (running(env->vol_calls[i]))
			return env->vol_calls[i];
	for (size_t i = 0; i < env->n; i++) {
		struct ctr *cs[2] = { env->svcs[i].cur, env->svcs[i].next };

		for (size_t k = 0; k < 2; k++)
			if (cs[k] && running(cs[k]->create_call))
				return cs[k]->create_call;
	}
	for (size_t i = 0; i < env->nlate; i++)
		if (running(env->late[i]))
			return env->late[i];
	return NULL;
}

/*
 * Compose's pre_stop hooks, in each running container, before the
 * teardown stops it. A failing one does not keep the container: the
 * environment goes either way; it is said as a warning.
 */
static void run_pre_stop(struct env *env)
{
	for (size_t i = 0; i < env->n; i++) {
		struct ctr *cs[] = { env->svcs[i].cur, env->svcs[i].next };

		for (size_t k = 0; k < 2; k++) {
			struct ctr *c = cs[k];

			/* STARTING and released: its post_start hooks were
			   cut short by the teardown */
			if (!c || !c->id || !c->spec->npre_stop || c->died ||
			    (c->state != ENV_STARTED && c->state != ENV_READY &&
			     !(c->state == ENV_STARTING && c->released)))
				continue;
			if (hooks_run(env->e, c->id, "pre_stop",
			              c->spec->pre_stop, c->spec->npre_stop, 0))
				strvec_pushf(&env->teardown_warnings,
				             "service '%s': %s",
				             c->svc->ms->name,
				             orch_error_last());
		}
	}
}

/* A create in flight when the teardown began, as the watchdog knows it. */
struct pending_create {
	const struct engine_call *call;
	char kind; /* 'c', 'n', 'v' (watchdog.h) */
	char *name;
	int answered;
};

struct pending {
	struct pending_create *v;
	size_t n, alloc;
};

static void pending_add(struct env *env, struct pending *p,
                        const struct engine_call *call, char kind, char *name)
{
	if (!running(call)) {
		free(name);
		return;
	}
	ALLOC_GROW(p->v, p->n + 1, p->alloc);
	p->v[p->n++] = (struct pending_create){ call, kind, name, 0 };
	watchdog_create_sent(env->wd, kind, name);
}

/*
 * Tell the watchdog of every create in flight: should we die before the
 * teardown ends (a second signal), it looks for what they make after
 * our end.
 */
static void pending_collect(struct env *env, struct pending *p)
{
	pending_add(env, p, env->net_call, 'n', xstrdup(env->network));
	if (env->stage_net)
		pending_add(env, p, env->stage_call, 'n',
		            xstrdup(env->stage_net));
	for (size_t i = 0; i < env->nvols; i++)
		pending_add(env, p, env->vol_calls[i], 'v',
		            xasprintf("%s-%s-%s", env->project, env->run_id,
		                      env->m->volumes[i].name));
	for (size_t i = 0; i < env->n; i++) {
		struct ctr *cs[2] = { env->svcs[i].cur, env->svcs[i].next };

		for (size_t k = 0; k < 2; k++)
			if (cs[k])
				pending_add(env, p, cs[k]->create_call, 'c',
				            xstrdup(cs[k]->name));
	}
}

/*
 * The creates answered since the last look, told to the watchdog. 1
 * when one of them was a network's or a volume's: what it made is
 * removed by another pass (a container's, by late_create_done()).
 */
static int pending_answered(struct env *env, struct pending *p)
{
	int relist = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct pending_create *c = &p->v[i];

		if (c->answered || running(c->call))
			continue;
		c->answered = 1;
		watchdog_create_answered(env->wd, c->kind, c->name);
		if (c->kind != 'c')
			relist = 1;
	}
	return relist;
}

static void pending_release(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
}

static void stats_add(struct teardown_stats *to,
                      const struct teardown_stats *st)
{
	to->containers += st->containers;
	to->networks += st->networks;
	to->volumes += st->volumes;
	to->failed = st->failed; /* the last pass's */
}

/*
 * One teardown_run() pass, within end (0: its own 30 s deadline). Its
 * verdict: the last pass saw the whole run.
 */
static int teardown_pass(struct env *env, struct teardown_opts *o, int64_t end,
                         struct teardown_stats *total)
{
	struct teardown_stats pass = { 0 };
	int rc;

	o->deadline_ms = 30000;
	if (end) {
		o->deadline_ms = end - now_ms();
		if (o->deadline_ms <= 0)
			return orch_error_code(ORCH_ETIMEOUT,
			                       "teardown deadline passed");
	}
	rc = teardown_run(env->e, o, &pass);
	stats_add(total, &pass);
	return rc;
}

const struct strvec *env_teardown_warnings(const struct env *env)
{
	return &env->teardown_warnings;
}

int env_teardown(struct env *env, int force_kill, struct teardown_stats *st)
{
	struct teardown_opts o = { 0 };
	struct teardown_stats total = { 0 };
	struct pending p = { 0 };
	int64_t t0 = now_ms(), deadline = t0 + LATE_CREATES_MS;
	/* interrupted: done before a CI runner's SIGTERM, or the watchdog's */
	int64_t end = force_kill ? t0 + INTERRUPTED_TEARDOWN_MS : 0;
	const struct engine_call *late;
	int rc, relist;

	/* from here on, a container create that answers is removed as it
	   answers */
	env->tearing = 1;
	env_quiesce(env);
	pending_collect(env, &p);
	/* an interrupted run has seconds to go: no hooks then */
	if (!force_kill)
		run_pre_stop(env);
	o.project = env->project;
	o.run_id = env->run_id;
	o.force_kill = force_kill;
	rc = teardown_pass(env, &o, end, &total);
	/*
	 * A network or volume create answering late: another pass, at once
	 * (not once every create answered: the late object's removal is
	 * what the pass waits for). Creates still in flight progress meanwhile.
	 */
	relist = pending_answered(env, &p);
	while (relist || (creates_in_flight(env) && now_ms() < deadline)) {
		if (relist)
			rc = teardown_pass(env, &o, end, &total);
		else if (engine_wait(env->e, NULL, 0, 100) < 0)
			break;
		relist = pending_answered(env, &p);
		if (end && now_ms() >= end)
			break;
	}
	late = creates_in_flight(env);
	/* late container removals: one more look that they are gone */
	if (!late && env->nlate && (!end || now_ms() < end))
		rc = teardown_pass(env, &o, end, &total);
	if (rc && end && now_ms() >= end)
		rc = orch_error_code(
		        ORCH_ETIMEOUT,
		        "not done %ds after the teardown began (a busy engine: "
		        "a container whose start is in flight goes only once "
		        "that start is done): %s",
		        INTERRUPTED_TEARDOWN_MS / 1000, orch_error_last());
	if (rc == 0 && late)
		rc = orch_error_code(
		        ORCH_ETIMEOUT,
		        "%s %s: no answer from the engine within %ds of the "
		        "teardown; the watchdog looks for what it makes",
		        engine_call_method(late), engine_call_path(late),
		        LATE_CREATES_MS / 1000);
	if (rc == 0 && engine_settle(env->e, 500))
		rc = orch_error_code(ORCH_ETIMEOUT, "%s", orch_error_last());
	if (rc == 0 && env->wd) {
		watchdog_release(env->wd);
		env->wd = NULL;
	}
	if (st)
		*st = total;
	pending_release(&p);
	/* on failure the watchdog stays armed: it tries again once we exit,
	   and looks for what the creates still in flight make */
	return rc;
}
