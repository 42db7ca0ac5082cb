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
#include <unistd.h>

#include "engine_ops.h"
#include "error.h"
#include "evloop.h"
#include "gate.h"
#include "images.h"
#include "manifest.h"
#include "ready.h"
#include "signals.h"
#include "spec.h"
#include "teardown.h"
#include "util.h"
#include "version.h"
#include "watchdog.h"

#define MAX_LABELS        16
#define FAILURE_LOG_LINES 50
/* Without an events stream, how often to look at the containers. */
#define POLL_FALLBACK_MS 250
/*
 * How long teardown waits for the engine to answer creates that were in
 * flight when it began (what they make is removed as the answer comes):
 * a CI runner sends SIGTERM 7.5 s after SIGINT, and kills 2.5 s later.
 */
#define LATE_CREATES_MS 3000
/* a job's default time to exit, as ready.timeout's */
#define JOB_TIMEOUT_MS 60000

struct svc;

struct ctr {
	struct env *env;
	struct svc *svc;
	enum plan_mode mode; /* PLAN_REAL or PLAN_STUB */
	const struct mf_container *spec;
	enum env_state state;
	int staged; /* created on the move's stage network: swapped in */
	char *name;
	char *id;
	struct image_req *img;
	struct engine_call *create_call, *start_call, *inspect_call;
	struct engine_call *death_call, *stage_call, *remove_call;
	struct engine_call *poll_call;
	/* a dependency of a staged service: attached to the stage network */
	int stage_want, stage_ok;
	struct strvec nets; /* the networks it is attached to */
	struct ready ready;
	int gated;
	struct strvec real_argv; /* what Docker would run: the gate's job */
	int died, exit_code, oom, death_checked;
	int unhealthy_later; /* READY, then the engine said unhealthy */
	int engine_healthy;  /* the engine called it healthy at least once */
	int recheck;         /* check readiness again: a dependency swapped */
	int tcp_hp, http_hp; /* host ports of its tcp/http probes */
	struct env_endpoint *eps;
	size_t neps;
	int64_t started_ms, ready_ms;
	int64_t job_deadline; /* a job: by when it must have exited */
	char *failure;
	struct ctr *retired_next;
};

struct svc {
	struct env *env;
	size_t index;
	const struct mf_service *ms;
	enum plan_mode mode;
	struct ctr *cur;  /* answers under the name (or will) */
	struct ctr *next; /* staged, to replace the stub in cur */
	int job;          /* the manifest waits for it to exit 0 */
	struct env_service pub;
	/* the swap: 1 detaching the stub, 2 attaching the real one */
	int swapping;
	struct engine_call **detach;
	size_t ndetach;
	struct engine_call *attach;
	int64_t swap_t0;
};

struct env {
	struct engine *e;
	struct evloop *loop;
	const struct manifest *m;
	char *project;
	char run_id[RUN_ID_LEN + 1];
	char *network;
	int64_t t0;
	env_progress_fn progress;
	void *ud;

	struct run_owner owner;
	char owner_pid[32];
	char owner_start[32];
	struct engine_label labels[MAX_LABELS]; /* the run's, without role */
	size_t nlabels;
	struct watchdog *wd;
	struct images *images;

	int prepared;
	struct engine_call *net_call;
	int net_ready;
	struct engine_call **vol_calls;
	size_t nvols;
	int vols_ready;
	/* the stage network of the move under way (swaps only) */
	char *stage_net;
	struct engine_call *stage_call;
	int stage_ready;
	unsigned nstages;

	struct svc *svcs;
	size_t n;
	struct ctr *retired; /* swapped-out stubs being removed */

	struct engine_call *events;
	int events_broken;
	int64_t events_since_s;
	int64_t last_poll;

	int failed;
	int fail_rc;
	struct buf fail_msg;
	struct ctr *failed_ctr;
	char *failed_service;
	char *failure_logs;

	int gate_state; /* 0 unknown, 1 usable, -1 not */
	char *gate_dir;

	int tearing; /* env_teardown() began: late creates are removed */
	struct engine_call **late;
	size_t nlate, alate;
};

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

static void note(struct env *env, struct svc *s, enum env_note what)
{
	if (env->progress)
		env->progress(env->ud, &s->pub, what);
}

/* The state the service shows: its incoming container's, during a swap. */
static void publish(struct svc *s)
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
	s->pub.endpoints = c->eps;
	s->pub.nendpoints = c->neps;
	s->pub.started_ms = c->started_ms;
	s->pub.ready_ms = c->ready_ms;
	s->pub.failure = c->failure;
	s->pub.exit_code = c->exit_code;
}

static void fail_env(struct env *env, struct ctr *c, int rc, const char *msg)
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

static void ctr_fail_code(struct ctr *c, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* c failed: "service 'db': <why>" fails the run (the first one wins). */
static void ctr_fail_code(struct ctr *c, int rc, const char *fmt, ...)
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
	fail_env(c->env, c, rc, buf_cstr(&msg));
	buf_release(&msg);
	ready_stop(&c->ready);
	publish(c->svc);
	note(c->env, c->svc, ENV_NOTE_FAILED);
}

#define ctr_fail(c, ...) ctr_fail_code(c, ORCH_EENGINE, __VA_ARGS__)

static void wake_done(struct engine_call *call, void *ud)
{
	struct env *env = ud;

	(void)call;
	evloop_wake(env->loop);
}

/* The run's labels and role: for networks and volumes. */
static size_t labels_with_role(const struct env *env, struct engine_label *l,
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
	snprintf(env->owner_pid, sizeof(env->owner_pid), "%ld", env->owner.pid);
	snprintf(env->owner_start, sizeof(env->owner_start), "%llu",
	         env->owner.start);
	env->labels[n++] = (struct engine_label){ LABEL_PROJECT, env->project };
	env->labels[n++] = (struct engine_label){ LABEL_RUN_ID, env->run_id };
	env->labels[n++] =
	        (struct engine_label){ LABEL_OWNER_HOST, env->owner.host };
	env->labels[n++] =
	        (struct engine_label){ LABEL_OWNER_PID, env->owner_pid };
	env->labels[n++] =
	        (struct engine_label){ LABEL_OWNER_START, env->owner_start };
	env->labels[n++] = (struct engine_label){ LABEL_VERSION, ORCH_VERSION };
	env->nlabels = n;
	env->images = images_new(e, env->labels, 1); /* the project only */
	env->n = m->nservices;
	env->svcs = xcalloc(env->n ? env->n : 1, sizeof(*env->svcs));
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		s->env = env;
		s->index = i;
		s->ms = &m->services[i];
		s->pub.name = s->ms->name;
		s->pub.started_ms = s->pub.ready_ms = -1;
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
	o->network = env->network;
}

static void eps_release(struct ctr *c)
{
	for (size_t i = 0; i < c->neps; i++) {
		free(c->eps[i].host_ip);
		free(c->eps[i].protocol);
	}
	free(c->eps);
	c->eps = NULL;
	c->neps = 0;
}

/* Stop every call and check of c; the container stays. */
static void ctr_quiesce(struct ctr *c)
{
	engine_call_drop(&c->start_call);
	engine_call_drop(&c->inspect_call);
	engine_call_drop(&c->death_call);
	engine_call_drop(&c->stage_call);
	engine_call_drop(&c->poll_call);
	ready_stop(&c->ready);
}

static void ctr_free(struct ctr *c)
{
	if (!c)
		return;
	ctr_quiesce(c);
	engine_call_drop(&c->create_call);
	engine_call_drop(&c->remove_call);
	ready_release(&c->ready);
	strvec_clear(&c->nets);
	strvec_clear(&c->real_argv);
	eps_release(c);
	free(c->name);
	free(c->id);
	free(c->failure);
	free(c);
}

static struct ctr *ctr_new(struct env *env, struct svc *s, enum plan_mode mode,
                           int staged)
{
	struct ctr *c = xcalloc(1, sizeof(*c));
	char *tag;

	c->env = env;
	c->svc = s;
	c->mode = mode;
	c->staged = staged;
	c->spec = mode == PLAN_STUB ? s->ms->stub : &s->ms->real;
	c->state = ENV_PENDING;
	c->started_ms = c->ready_ms = -1;
	c->name = xasprintf("%s-%s-%s%s", env->project, env->run_id,
	                    s->ms->name, mode == PLAN_STUB ? "-stub" : "");
	ready_init(&c->ready, env->e, env->loop);
	/* an image with a build is tagged the image's name, else ours */
	if (c->spec->build && c->spec->image)
		tag = xstrdup(c->spec->image);
	else if (c->spec->build)
		tag = xasprintf("%s-%s%s:orchestrate", env->project,
		                s->ms->name, mode == PLAN_STUB ? "-stub" : "");
	else
		tag = xstrdup(c->spec->image);
	c->img = images_want(env->images, tag, c->spec->build);
	free(tag);
	return c;
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
	images_free(env->images);
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
	free(env->stage_net);
	buf_release(&env->fail_msg);
	free(env->failed_service);
	free(env->failure_logs);
	free(env);
}

/* ---- the run's network and volumes ------------------------------------------ */

static void late_create_done(struct engine_call *c, void *ud);

/*
 * A create's answer, for step(). Once teardown began, what a container
 * create makes is removed as its answer comes; a network or a volume is
 * listed by the teardown's last pass.
 */
static void create_done(struct engine_call *c, void *ud)
{
	struct env *env = ud;

	(void)c;
	evloop_wake(env->loop);
}

static void ctr_create_done(struct engine_call *c, void *ud)
{
	struct env *env = ud;

	if (env->tearing)
		late_create_done(c, ud);
	else
		evloop_wake(env->loop);
}

static int prepare(struct env *env)
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
	nl = labels_with_role(env, l, ROLE_NETWORK);
	env->net_call = engine_network_create_start(env->e, env->network, l, nl,
	                                            create_done, env);
	env->nvols = env->m->nvolumes;
	env->vol_calls = xcalloc(env->nvols + 1, sizeof(*env->vol_calls));
	nl = labels_with_role(env, l, ROLE_VOLUME);
	for (size_t i = 0; i < env->nvols; i++) {
		char *name = xasprintf("%s-%s-%s", env->project, env->run_id,
		                       env->m->volumes[i].name);

		env->vol_calls[i] = engine_volume_create_start(
		        env->e, name, l, nl, create_done, env);
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
static int objects_step(struct env *env)
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

static struct ctr *ctr_by_id(struct env *env, const char *id)
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

/* Behind the gate and started, its real process not yet released. */
static int held(const struct ctr *c)
{
	return c->gated && c->state == ENV_STARTING;
}

static void health_seen(struct ctr *c, int healthy)
{
	if (healthy)
		c->engine_healthy = 1;
	if (held(c))
		return; /* the check fails until the real process runs */
	if (c->state == ENV_STARTED) {
		ready_health(&c->ready, healthy);
	} else if (c->state == ENV_READY && !healthy &&
	           (!c->gated || c->engine_healthy)) {
		/* a gated one's failing streak may have begun in its hold,
		   so its verdict counts once the engine saw it healthy */
		c->unhealthy_later = 1;
	}
}

static void on_event(const struct engine_event *ev, void *ud)
{
	struct env *env = ud;
	struct ctr *c = ctr_by_id(env, ev->id);
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
		health_seen(c, 1);
	} else if (!strcmp(a, "health_status: unhealthy")) {
		health_seen(c, 0);
	} else {
		return;
	}
	/* the loop may be blocked without a deadline: let it look */
	evloop_wake(env->loop);
}

static void start_events(struct env *env)
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
				health_seen(c, !strcmp(info.health, "healthy"));
		}
		engine_container_info_release(&info);
		engine_call_drop(&c->poll_call);
	}
	if (t - env->last_poll >= POLL_FALLBACK_MS)
		c->poll_call = engine_container_inspect_start(env->e, c->id,
		                                              wake_done, env);
}

static void events_step(struct env *env, int64_t t)
{
	if (env->events && engine_call_done(env->events)) {
		/* the stream ended under us: reconnect once, then poll */
		engine_call_drop(&env->events);
		if (!env->events_broken++)
			start_events(env);
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

/* ---- dependencies ------------------------------------------------------------ */

/* The container a dependant of s waits for: the incoming one in a swap. */
static struct ctr *target(const struct svc *s)
{
	return s->next ? s->next : s->cur;
}

static int cond_holds(const struct ctr *t, enum mf_condition cond)
{
	enum env_state st = t ? t->state : ENV_PENDING;

	switch (cond) {
	case MF_SERVICE_STARTED:
		return st == ENV_STARTED || st == ENV_READY ||
		       st == ENV_COMPLETED;
	case MF_SERVICE_HEALTHY:
		return st == ENV_READY;
	case MF_SERVICE_COMPLETED_SUCCESSFULLY:
		return st == ENV_COMPLETED;
	}
	return 0;
}

/*
 * c's depends_on conditions hold. A staged service reaches its
 * dependencies on the stage network: they must be attached to it. A
 * service on the run's network reaches a dependency being swapped under
 * its name: the swap comes first.
 */
static int deps_hold(const struct env *env, const struct ctr *c)
{
	if (c->mode == PLAN_STUB)
		return 1; /* stubs have no dependencies */
	for (size_t i = 0; i < c->svc->ms->ndeps; i++) {
		const struct mf_dep *d = &c->svc->ms->deps[i];
		const struct svc *ds = &env->svcs[d->index];
		const struct ctr *t = target(ds);

		if (ds->mode == PLAN_ABSENT)
			continue; /* not part of this stage */
		if (!c->staged && ds->next)
			return 0;
		if (c->staged && !ds->next && !(t && t->stage_ok))
			return 0;
		if (!cond_holds(t, d->condition))
			return 0;
	}
	return 1;
}

/*
 * Fail c when a dependency can no longer meet its condition: one that
 * completed (a job, exited 0) never becomes healthy. 1 when it failed.
 */
static int fail_dep_never(struct env *env, struct ctr *c)
{
	if (c->mode == PLAN_STUB)
		return 0;
	for (size_t i = 0; i < c->svc->ms->ndeps; i++) {
		const struct mf_dep *d = &c->svc->ms->deps[i];
		const struct svc *ds = &env->svcs[d->index];
		const struct ctr *t = target(ds);

		if (ds->mode != PLAN_ABSENT && t &&
		    d->condition == MF_SERVICE_HEALTHY &&
		    t->state == ENV_COMPLETED) {
			ctr_fail(
			        c,
			        "dependency '%s' exited (code 0): it can never "
			        "become healthy (service_healthy; a job wants "
			        "service_completed_successfully)",
			        ds->ms->name);
			return 1;
		}
	}
	return 0;
}

/* ---- the gate -------------------------------------------------------------- */

/* The architecture orchestrate-gate was built for, as images say it. */
#if defined(__x86_64__)
#define GATE_ARCH "amd64"
#elif defined(__aarch64__)
#define GATE_ARCH "arm64"
#else
#define GATE_ARCH ""
#endif
#ifndef ORCH_GATE_BUILD_PATH
#define ORCH_GATE_BUILD_PATH ""
#endif

/*
 * Decided once per run, from what the image inspect already said (no
 * call of its own): off by ORCHESTRATE_NO_GATE=1, without the program,
 * or for an image of another platform. Silent: the fallback is starting
 * when the dependencies hold.
 */
static int gate_usable(struct env *env, const struct engine_image *img)
{
	const char *off = getenv("ORCHESTRATE_NO_GATE");
	struct buf bin = BUF_INIT;

	if (!img || !img->arch || !img->os || strcmp(img->arch, GATE_ARCH) ||
	    strcmp(img->os, "linux"))
		return 0;
	if (env->gate_state)
		return env->gate_state > 0;
	env->gate_state = -1;
	if ((off && !strcmp(off, "1")) ||
	    gate_program_read(ORCH_GATE_BUILD_PATH, &bin))
		goto out;
	/* the watchdog, which removes the directory with the run, runs */
	env->gate_dir = gate_dir(env->project, env->run_id);
	if (gate_dir_create(env->gate_dir, bin.data, bin.len)) {
		gate_dirs_remove(env->project, env->run_id);
		goto out;
	}
	env->gate_state = 1;
out:
	buf_release(&bin);
	return env->gate_state > 0;
}

/*
 * Behind the gate: a real service whose dependencies do not hold yet,
 * all waited for with service_healthy or service_completed_successfully
 * (service_started holds one start after its dependency's: a held start
 * sent early only competes with the starts that matter), whose readiness
 * is checked (a gate whose program cannot run exits at once, and a check
 * cannot pass in a dead container; one without checks would count as
 * ready at its release), and which runs something.
 */
static int want_gate(struct env *env, struct ctr *c)
{
	const struct engine_image *img = image_info(c->img);

	if (c->mode != PLAN_REAL || c->staged || !c->svc->ms->ndeps ||
	    deps_hold(env, c) || !ready_has_checks(&c->ready))
		return 0;
	for (size_t i = 0; i < c->svc->ms->ndeps; i++)
		if (c->svc->ms->deps[i].condition == MF_SERVICE_STARTED)
			return 0;
	strvec_clear(&c->real_argv);
	gate_real_argv(&c->real_argv, c->spec->has_entrypoint,
	               &c->spec->entrypoint, &c->spec->command,
	               &img->entrypoint, &img->cmd);
	if (!c->real_argv.n || !gate_usable(env, img))
		return 0;
	/* a go file of an earlier container of the service would release
	   this one at once */
	return gate_unrelease(env->gate_dir, c->svc->ms->name) == 0;
}

/*
 * Starts of services that can run now (ungated) still to come or under
 * way. The engine serialises much of a start (network namespace,
 * iptables): gated starts sent alongside would delay these, which are on
 * the critical path, so they wait for them -- and still overlap the
 * dependencies' readiness, which is most of a level's time.
 */
static int ungated_starts_pending(struct env *env)
{
	for (size_t i = 0; i < env->n; i++) {
		struct ctr *cs[2] = { env->svcs[i].cur, env->svcs[i].next };

		for (size_t k = 0; k < 2; k++) {
			struct ctr *o = cs[k];

			if (!o || o->gated)
				continue;
			if (o->state == ENV_PENDING || o->state == ENV_STARTING)
				return 1;
			if (o->state == ENV_CREATED && deps_hold(env, o))
				return 1;
		}
	}
	return 0;
}

/* ---- creating and starting --------------------------------------------------- */

static void submit_create(struct env *env, struct ctr *c)
{
	struct spec_opts o;
	struct spec sp;

	env_spec_opts(env, &o);
	o.name = c->name;
	o.image = image_tag(c->img);
	o.role = c->mode == PLAN_STUB ? ROLE_STUB : ROLE_SERVICE;
	o.service = c->svc->ms->name;
	/* a staged service's dependencies answer on the stage network, and
	   its own name there serves other staged services */
	o.network = c->staged ? env->stage_net : env->network;
	o.alias = c->svc->ms->name;
	if (c->gated) {
		o.gate_dir = env->gate_dir;
		o.real_argv = &c->real_argv;
	}
	spec_build(&sp, c->spec, &o);
	c->create_call = engine_container_create_start(env->e, &sp.s,
	                                               ctr_create_done, env);
	spec_release(&sp);
	strvec_clear(&c->nets);
	strvec_push(&c->nets, o.network);
}

/*
 * Back to a container without the gate, started when the dependencies
 * hold: when the engine refused the gated one (the gate directory is not
 * on the engine's host: a remote engine, orchestrate in a container) or
 * could not start it (the gate cannot run there: SELinux, ...).
 */
static void ungate(struct env *env, struct ctr *c)
{
	/* the name is taken until the gated container is gone */
	if (c->id)
		engine_container_remove(env->e, c->id, 1);
	free(c->id);
	c->id = NULL;
	c->gated = 0;
	c->ready.gated = 0;
	c->died = c->exit_code = 0;
	/* the next containers of this run will not try again */
	env->gate_state = -1;
	c->state = ENV_PENDING;
	submit_create(env, c);
}

static void pending_step(struct env *env, struct ctr *c)
{
	struct engine_call *call = c->create_call;
	const char *msg;
	int rc;

	if (!call) {
		enum image_state st = image_state(c->img);

		if (st == IMAGE_FAILED) {
			rc = image_error(c->img, &msg);
			ctr_fail_code(c, rc == ORCH_EINTR ? rc : ORCH_EENGINE,
			              "%s", msg);
			return;
		}
		if (st != IMAGE_READY || !env->net_ready || !env->vols_ready ||
		    (c->staged && !env->stage_ready))
			return;
		ready_configure(&c->ready, c->spec, image_info(c->img), 0);
		c->gated = want_gate(env, c);
		c->ready.gated = c->gated;
		submit_create(env, c);
		return;
	}
	if (!engine_call_done(call))
		return;
	rc = engine_container_create_result(call, &c->id);
	engine_call_drop(&c->create_call);
	if (rc && c->gated) {
		ungate(env, c);
		return;
	}
	if (rc) {
		ctr_fail(c, "create: %s", orch_error_last());
		return;
	}
	c->state = ENV_CREATED;
}

static void submit_start(struct env *env, struct ctr *c)
{
	c->start_call =
	        engine_container_start_start(env->e, c->id, wake_done, env);
	c->state = ENV_STARTING;
}

/* The real process runs: readiness is looked for from now on. */
static void mark_started(struct env *env, struct ctr *c)
{
	c->state = ENV_STARTED;
	c->started_ms = env_clock(env);
	publish(c->svc);
	note(env, c->svc, ENV_NOTE_STARTED);
	if (c->svc->job && c->mode == PLAN_REAL) {
		/* only its exit counts, within the ready timeout */
		int64_t to = c->spec->ready.timeout_ns;

		c->job_deadline =
		        now_ms() + (to > 0 ? to / 1000000 : JOB_TIMEOUT_MS);
		return;
	}
	ready_begin(&c->ready, c->id, now_ms());
	/* only published ports need an inspect (for their host side): the
	   exec and log probes start meanwhile */
	if (c->spec->nports || ready_tcp_port(&c->ready) ||
	    ready_http_port(&c->ready))
		c->inspect_call = engine_container_inspect_start(
		        env->e, c->id, wake_done, env);
}

/*
 * STARTING behind the gate: running, its real process released when the
 * dependencies hold, by creating its go file in the gate directory -- a
 * local file, seen by the gate within its 2 ms poll.
 */
static void gate_held(struct env *env, struct ctr *c)
{
	/* once released, a quick exit is the real process's */
	if (c->died) {
		ctr_fail(c,
		         "exited with code %d while it waited for its "
		         "dependencies (gate)",
		         c->exit_code);
		return;
	}
	if (fail_dep_never(env, c) || !deps_hold(env, c))
		return;
	if (gate_release(env->gate_dir, c->svc->ms->name)) {
		ctr_fail(c, "%s", orch_error_last());
		return;
	}
	mark_started(env, c);
}

static void created_step(struct env *env, struct ctr *c)
{
	if (fail_dep_never(env, c))
		return;
	if (c->gated) {
		if (!ungated_starts_pending(env))
			submit_start(env, c);
	} else if (deps_hold(env, c)) {
		submit_start(env, c);
	}
}

static void fail_start(struct ctr *c, int rc)
{
	struct buf ports = BUF_INIT;
	char *text = xstrdup(orch_error_last());

	for (size_t i = 0; i < c->spec->nports; i++)
		if (c->spec->ports[i].host_port > 0)
			buf_addf(&ports, "%s%s:%d", ports.len ? ", " : "",
			         c->spec->ports[i].host_ip
			                 ? c->spec->ports[i].host_ip
			                 : "127.0.0.1",
			         c->spec->ports[i].host_port);
	if (rc == ORCH_EADDRINUSE && ports.len)
		ctr_fail(c, "host port %s already in use (%s)",
		         buf_cstr(&ports), text);
	else
		ctr_fail(c, "cannot start: start: %s", text);
	free(text);
	buf_release(&ports);
}

static void starting_step(struct env *env, struct ctr *c)
{
	int rc;

	if (!c->start_call) {
		gate_held(env, c);
		return;
	}
	if (!engine_call_done(c->start_call))
		return;
	rc = engine_container_start_result(c->start_call);
	engine_call_drop(&c->start_call);
	if (rc && c->gated) {
		ungate(env, c);
		return;
	}
	if (rc) {
		fail_start(c, rc);
		return;
	}
	if (c->gated)
		gate_held(env, c);
	else
		mark_started(env, c);
}

/* ---- running ------------------------------------------------------------------ */

static int host_port_of(const struct ctr *c, int cport)
{
	for (size_t i = 0; i < c->neps; i++)
		if (c->eps[i].container_port == cport &&
		    !strcmp(c->eps[i].protocol, "tcp"))
			return c->eps[i].host_port;
	return 0;
}

/* The inspect after start answered: endpoints, then tcp/http probes. */
static void ports_known(struct env *env, struct ctr *c)
{
	struct engine_container_info info;
	int rc = engine_container_inspect_result(c->inspect_call, &info);

	engine_call_drop(&c->inspect_call);
	if (rc) {
		ctr_fail(c, "inspect after start: %s", orch_error_last());
		goto out;
	}
	eps_release(c);
	c->eps = xcalloc(info.nports + 1, sizeof(*c->eps));
	for (size_t i = 0; i < info.nports; i++) {
		const struct engine_port_binding *b = &info.ports[i];
		struct env_endpoint *ep;

		if (!b->container_port || !b->host_port)
			continue;
		ep = &c->eps[c->neps++];
		ep->host_ip = xstrdup(b->host_ip && *b->host_ip ? b->host_ip
		                                                : "127.0.0.1");
		ep->host_port = b->host_port;
		ep->container_port = b->container_port;
		ep->protocol = xstrdup(b->protocol ? b->protocol : "tcp");
		ep->http = ready_http_port(&c->ready) == b->container_port;
	}
	publish(c->svc);
	if (!info.running && !c->died) {
		c->died = 1;
		c->exit_code = info.exit_code;
		c->oom = info.oom_killed;
	}
	c->tcp_hp = host_port_of(c, ready_tcp_port(&c->ready));
	c->http_hp = host_port_of(c, ready_http_port(&c->ready));
	ready_ports(&c->ready, c->tcp_hp, c->http_hp);
	evloop_wake(env->loop);
out:
	engine_container_info_release(&info);
}

/*
 * c's process ended. A job's exit 0 is its success; anything else fails
 * the run -- after one inspect: a container that is gone (or going) was
 * removed by someone else (`orchestrate down`, `docker rm -f`), which
 * interrupts the run rather than being the service's failure. 1 when
 * that is decided.
 */
static int died_step(struct env *env, struct ctr *c)
{
	struct engine_container_info info;
	int rc, removed;

	if (!c->died)
		return 0;
	if (c->svc->job && c->exit_code == 0 && c->mode == PLAN_REAL &&
	    c->state != ENV_READY) {
		c->state = ENV_COMPLETED;
		c->ready_ms = env_clock(env);
		ctr_quiesce(c);
		publish(c->svc);
		note(env, c->svc, ENV_NOTE_COMPLETED);
		return 1;
	}
	if (!c->death_checked && !c->death_call) {
		c->death_call = engine_container_inspect_start(env->e, c->id,
		                                               wake_done, env);
		return 1;
	}
	if (c->death_call && !engine_call_done(c->death_call))
		return 1;
	rc = engine_container_inspect_result(c->death_call, &info);
	removed = rc == ORCH_ENOTFOUND ||
	          (rc == 0 && info.status && !strcmp(info.status, "removing"));
	engine_container_info_release(&info);
	engine_call_drop(&c->death_call);
	c->death_checked = 1;
	if (removed)
		ctr_fail_code(c, ORCH_EINTR,
		              "interrupted: its container was removed by "
		              "another client ('orchestrate down', 'docker "
		              "rm')");
	else if (c->oom)
		ctr_fail(c, "killed for lack of memory (OOM, exit code %d)%s",
		         c->exit_code,
		         c->state == ENV_READY ? " after it was ready"
		                               : " during start-up");
	else
		ctr_fail(c, "exited with code %d %s", c->exit_code,
		         c->state == ENV_READY ? "after it was ready"
		                               : "during start-up");
	return 1;
}

static void started_step(struct env *env, struct ctr *c, int64_t t)
{
	if (died_step(env, c))
		return;
	if (c->inspect_call) {
		if (engine_call_done(c->inspect_call))
			ports_known(env, c);
		if (c->state != ENV_STARTED || c->inspect_call)
			return;
	}
	if (c->svc->job && c->mode == PLAN_REAL) {
		if (t >= c->job_deadline) {
			struct buf d = BUF_INIT;
			int64_t to = c->spec->ready.timeout_ns;

			format_duration(&d, to > 0 ? to
			                           : (int64_t)JOB_TIMEOUT_MS *
			                                     1000000);
			ctr_fail(c,
			         "did not complete after %s (a dependent "
			         "waits for it to exit 0)",
			         buf_cstr(&d));
			buf_release(&d);
		} else {
			evloop_wake_at(env->loop, c->job_deadline);
		}
		return;
	}
	switch (ready_step(&c->ready, t)) {
	case READY_OK:
		c->state = ENV_READY;
		if (c->ready_ms < 0)
			c->ready_ms = env_clock(env);
		publish(c->svc);
		note(env, c->svc, ENV_NOTE_READY);
		break;
	case READY_FAILED:
		ctr_fail(c, "%s", c->ready.failure);
		break;
	default:
		break;
	}
}

static void ready_watch(struct env *env, struct ctr *c)
{
	if (died_step(env, c))
		return;
	if (c->unhealthy_later) {
		ctr_fail(c, "turned unhealthy after it was ready");
		return;
	}
	if (c->recheck) {
		/* a dependency was swapped: is it still ready against it? */
		c->recheck = 0;
		if (!ready_has_checks(&c->ready))
			return;
		c->state = ENV_STARTED;
		ready_begin(&c->ready, c->id, now_ms());
		ready_ports(&c->ready, c->tcp_hp, c->http_hp);
		publish(c->svc);
		note(env, c->svc, ENV_NOTE_RECHECK);
	}
}

/* Attached to the move's stage network, under its name: a dependency of
   a staged service. */
static void stage_attach_step(struct env *env, struct ctr *c)
{
	char *aliases[] = { (char *)c->svc->ms->name, NULL };
	int rc;

	if (!c->stage_want || c->stage_ok || !c->id || !env->stage_ready)
		return;
	if (!c->stage_call) {
		c->stage_call = engine_network_connect_start(
		        env->e, env->stage_net, c->id, aliases, wake_done, env);
		return;
	}
	if (!engine_call_done(c->stage_call))
		return;
	rc = engine_network_connect_result(c->stage_call);
	engine_call_drop(&c->stage_call);
	if (rc) {
		ctr_fail(c, "attaching it to the stage network '%s': %s",
		         env->stage_net, orch_error_last());
		return;
	}
	strvec_push(&c->nets, env->stage_net);
	c->stage_ok = 1;
}

static void advance(struct env *env, struct ctr *c, int64_t t)
{
	if (!c)
		return;
	stage_attach_step(env, c);
	switch (c->state) {
	case ENV_PENDING:
		pending_step(env, c);
		break;
	case ENV_CREATED:
		created_step(env, c);
		break;
	case ENV_STARTING:
		starting_step(env, c);
		break;
	case ENV_STARTED:
		started_step(env, c, t);
		break;
	case ENV_READY:
		ready_watch(env, c);
		break;
	default:
		break;
	}
}

/* ---- the swap ----------------------------------------------------------------- */

static void retire(struct env *env, struct ctr *old)
{
	ctr_quiesce(old);
	if (old->id)
		old->remove_call = engine_container_remove_start(
		        env->e, old->id, 1, wake_done, env);
	old->retired_next = env->retired;
	env->retired = old;
}

/* Free swapped-out stubs whose removal answered (gone or not: teardown
   goes by labels). */
static void retired_step(struct env *env)
{
	struct ctr **pp = &env->retired;

	while (*pp) {
		struct ctr *c = *pp;

		if (c->remove_call && !engine_call_done(c->remove_call)) {
			pp = &c->retired_next;
			continue;
		}
		*pp = c->retired_next;
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
	char *aliases[] = { (char *)s->ms->name, NULL };
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
			        env->e, old->nets.v[k], old->id, 1, wake_done,
			        env);
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
		if (nw->state == ENV_READY)
			s->attach = engine_network_connect_start(
			        env->e, env->network, nw->id, aliases,
			        wake_done, env);
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
		strvec_push(&nw->nets, env->network);
	}
	s->pub.swap_gap_ms = now_ms() - s->swap_t0;
	s->pub.swapped_ms = env_clock(env);
	s->swapping = 0;
	if (old)
		retire(env, old);
	s->cur = nw;
	s->next = NULL;
	publish(s);
	note(env, s, ENV_NOTE_SWAPPED);
	recheck_callers(env, s);
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
		rc = prepare(env);
	if (rc)
		return rc;
	if (!env->events && !env->events_broken)
		start_events(env);
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
		publish(s);
	}
	if (!staged)
		return 0;
	/*
	 * One stage network per move: every staged service on it under its
	 * name, and every dependency of one attached to it under its own.
	 */
	free(env->stage_net);
	env->stage_net = xasprintf("%s-%s-stage%u", env->project, env->run_id,
	                           ++env->nstages);
	env->stage_ready = 0;
	env->stage_call = engine_network_create_start(
	        env->e, env->stage_net, l,
	        labels_with_role(env, l, ROLE_NETWORK), create_done, env);
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

	if (!env->failed && (rc = objects_step(env)))
		fail_env(env, NULL, rc, orch_error_last());
	if (env->failed)
		return orch_error_code(env->fail_rc, "%s",
		                       buf_cstr(&env->fail_msg));
	events_step(env, t);
	for (size_t i = 0; i < env->n && !env->failed; i++) {
		advance(env, env->svcs[i].cur, t);
		advance(env, env->svcs[i].next, t);
	}
	for (size_t i = 0; i < env->n && !env->failed; i++)
		swap_step(env, &env->svcs[i]);
	retired_step(env);
	if (env->failed)
		return orch_error_code(env->fail_rc, "%s",
		                       buf_cstr(&env->fail_msg));
	/* a state change above may let another container move: look again
	   without sleeping */
	for (size_t i = 0; i < env->n; i++) {
		struct ctr *cs[2] = { env->svcs[i].cur, env->svcs[i].next };

		for (size_t k = 0; k < 2; k++) {
			struct ctr *o = cs[k];

			if (!o)
				continue;
			if ((o->state == ENV_CREATED &&
			     (o->gated ? !ungated_starts_pending(env)
			               : deps_hold(env, o))) ||
			    (held(o) && !o->start_call && deps_hold(env, o)) ||
			    o->recheck)
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

/* ---- keep and teardown ------------------------------------------------------------ */

/* Stop every probe, stream and call that is not a create. */
static void quiesce_all(struct env *env)
{
	images_cancel(env->images);
	engine_call_drop(&env->events);
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

	quiesce_all(env);
	/* `status` counts a kept run's services ready from here on until
	 * the engine reports a failed check (cmd_status.c) */
	nl = labels_with_role(env, l, ROLE_KEEP);
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
	quiesce_all(env);
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
