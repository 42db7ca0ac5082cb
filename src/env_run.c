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
		rc = engine_network_create_result(env->net_call, NULL);
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
		rc = engine_network_create_result(env->stage_call, NULL);
		engine_call_drop(&env->stage_call);
		if (rc)
			return orch_error_prefix(rc, "stage network '%s'",
			                         env->stage_net);
		env->stage_ready = 1;
	}
	return 0;
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

int env_teardown(struct env *env, int force_kill, struct teardown_stats *st)
{
	struct teardown_opts o = { 0 };
	struct teardown_stats local;
	int64_t deadline = now_ms() + LATE_CREATES_MS;
	const struct engine_call *late;
	int rc;

	/* from here on, a create that answers is removed as it answers */
	env->tearing = 1;
	env_quiesce(env);
	o.project = env->project;
	o.run_id = env->run_id;
	o.force_kill = force_kill;
	o.deadline_ms = 30000;
	rc = teardown_run(env->e, &o, st ? st : &local);
	/* what creates still in flight make: removed when they answer */
	while (creates_in_flight(env) && now_ms() < deadline)
		if (engine_wait(env->e, NULL, 0, 100) < 0)
			break;
	late = creates_in_flight(env);
	/* the network a late create made: once its containers are gone */
	if (!late && (env->net_call || env->stage_call || env->nlate)) {
		struct teardown_stats again;

		teardown_run(env->e, &o, &again);
	}
	if (rc == 0 && late)
		rc = orch_error_code(
		        ORCH_ETIMEOUT,
		        "%s %s: no answer from the engine within %ds of the "
		        "teardown: what it makes may outlive the run (the "
		        "watchdog or 'orchestrate gc' will finish)",
		        engine_call_method(late), engine_call_path(late),
		        LATE_CREATES_MS / 1000);
	if (rc == 0 && engine_settle(env->e, 500))
		rc = orch_error_code(ORCH_ETIMEOUT, "%s", orch_error_last());
	if (rc == 0 && env->wd) {
		watchdog_release(env->wd);
		env->wd = NULL;
	}
	/* on failure the watchdog stays armed: it tries again once we exit */
	return rc;
}
