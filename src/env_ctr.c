/*
 * env_ctr.c: one container of a run, from its image to its readiness and
 * its death (env_int.h): PENDING -> CREATED -> STARTING -> STARTED ->
 * READY (or COMPLETED: a job), advanced by ctr_advance() after each turn
 * of the run's loop from flags and finished calls only. What the create
 * asks for is spec.c's, what ready means ready.c's.
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
#include "gate.h"
#include "hooks.h"
#include "spec.h"

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
void ctr_quiesce(struct ctr *c)
{
	engine_call_drop(&c->start_call);
	engine_call_drop(&c->inspect_call);
	engine_call_drop(&c->death_call);
	engine_call_drop(&c->stage_call);
	engine_call_drop(&c->poll_call);
	hooks_free(c->post_start);
	c->post_start = NULL;
	ready_stop(&c->ready);
}

void ctr_free(struct ctr *c)
{
	if (!c)
		return;
	ctr_quiesce(c);
	engine_call_drop(&c->create_call);
	engine_call_drop(&c->remove_call);
	engine_call_drop(&c->logs_call);
	buf_release(&c->log);
	ready_release(&c->ready);
	strvec_clear(&c->nets);
	strvec_clear(&c->real_argv);
	eps_release(c);
	free(c->name);
	free(c->id);
	free(c->failure);
	free(c);
}

struct ctr *ctr_new(struct env *env, struct svc *s, enum plan_mode mode,
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
	c->started_ms = c->ready_ms = c->checked_ms = -1;
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

/* ---- dependencies ------------------------------------------------------------ */

/* The container a dependant of s waits for: the incoming one in a swap. */
struct ctr *svc_target(const struct svc *s)
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
int ctr_deps_hold(const struct env *env, const struct ctr *c)
{
	if (c->mode == PLAN_STUB)
		return 1; /* stubs have no dependencies */
	for (size_t i = 0; i < c->svc->ms->ndeps; i++) {
		const struct mf_dep *d = &c->svc->ms->deps[i];
		const struct svc *ds = &env->svcs[d->index];
		const struct ctr *t = svc_target(ds);

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
int ctr_fail_dep_never(struct env *env, struct ctr *c)
{
	if (c->mode == PLAN_STUB)
		return 0;
	for (size_t i = 0; i < c->svc->ms->ndeps; i++) {
		const struct mf_dep *d = &c->svc->ms->deps[i];
		const struct svc *ds = &env->svcs[d->index];
		const struct ctr *t = svc_target(ds);

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

/* ---- creating and starting --------------------------------------------------- */

void ctr_submit_create(struct env *env, struct ctr *c)
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
	o.network = env_net_ref(env, c->staged);
	o.alias = c->svc->ms->name;
	if (c->gated) {
		o.gate_dir = env->gate_dir;
		o.real_argv = &c->real_argv;
	}
	spec_build(&sp, c->spec, &o);
	c->create_call = engine_container_create_start(
	        env->e, &sp.s, env_ctr_create_done, env);
	spec_release(&sp);
	strvec_clear(&c->nets);
	strvec_push(&c->nets, o.network);
}

/*
 * volumes_from and service: namespaces name the other container
 * (mf_dep.names_container): it must exist before this one is created.
 */
static int refs_created(struct env *env, const struct ctr *c)
{
	for (size_t i = 0; i < c->svc->ms->ndeps; i++) {
		const struct mf_dep *d = &c->svc->ms->deps[i];
		const struct svc *ds = &env->svcs[d->index];
		const struct ctr *t = svc_target(ds);

		if (d->names_container && ds->mode != PLAN_ABSENT &&
		    (!t || !t->id))
			return 0;
	}
	return 1;
}

static void pending_step(struct env *env, struct ctr *c)
{
	struct engine_call *call = c->create_call;
	const char *msg;
	char **names;
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
		    (c->staged && !env->stage_ready) || !refs_created(env, c))
			return;
		ready_configure(&c->ready, c->spec, image_info(c->img), 0);
		c->gated = gate_want(env, c);
		c->ready.gated = c->gated;
		ctr_submit_create(env, c);
		return;
	}
	if (!engine_call_done(call))
		return;
	rc = engine_container_create_result(call, &c->id);
	engine_call_drop(&c->create_call);
	if (rc == ORCH_ECONFLICT && !c->name_freed) {
		/* a leftover holds the name: once, if it is ours and dead */
		c->name_freed = 1;
		rc = env_name_taken(env, c);
		if (rc == 0)
			ctr_submit_create(env, c);
		else
			ctr_fail_code(c, rc == ORCH_EINTR ? rc : ORCH_EENGINE,
			              "create: %s", orch_error_last());
		return;
	}
	if (rc && c->gated) {
		gate_ungate(env, c);
		return;
	}
	if (rc) {
		ctr_fail(c, "create: %s", orch_error_last());
		return;
	}
	/* secrets and configs with a value, external networks: before the
	   start (hooks.h) */
	names = ctr_aliases(c);
	rc = hooks_inject(env->e, c->id, names, c->spec);
	free(names);
	if (rc) {
		ctr_fail(c, "%s", orch_error_last());
		return;
	}
	c->state = ENV_CREATED;
}

void ctr_submit_start(struct env *env, struct ctr *c)
{
	c->start_call =
	        engine_container_start_start(env->e, c->id, env_wake_done, env);
	c->state = ENV_STARTING;
}

static void wake_env(void *ud)
{
	struct env *env = ud;

	evloop_wake(env->loop);
}

/* Started, its hooks passed: readiness is looked for from now on. */
static void now_started(struct env *env, struct ctr *c)
{
	c->state = ENV_STARTED;
	c->started_ms = env_clock(env);
	svc_publish(c->svc);
	env_note(env, c->svc, ENV_NOTE_STARTED);
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
		        env->e, c->id, env_wake_done, env);
}

/*
 * The real process runs. Compose's post_start hooks first: the service
 * is started once they all passed; they run while the loop turns (the
 * other services go on), the container STARTING meanwhile, and
 * post_start_step() goes on from there.
 */
void ctr_mark_started(struct env *env, struct ctr *c)
{
	c->released = 1;
	if (c->spec->npost_start)
		c->post_start = hooks_start(
		        env->e, c->id, "post_start", c->spec->post_start,
		        c->spec->npost_start, 0, wake_env, env);
	else
		now_started(env, c);
}

/* CREATED: the scheduler (env.c) starts it; a dependency may doom it. */
static void created_step(struct env *env, struct ctr *c)
{
	ctr_fail_dep_never(env, c);
}

int ctr_startable(const struct env *env, const struct ctr *c)
{
	/* behind the gate it may start now; its process waits */
	return c->state == ENV_CREATED && !c->start_call &&
	       (c->gated || ctr_deps_hold(env, c));
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

static int died_step(struct env *env, struct ctr *c);

/*
 * A hook that failed may have lost its container: the container's own
 * exit kills the hook's process (137) before the engine has the
 * container's state, and then the exit is the verdict, not the hook. So
 * a failed hook waits up to HOOK_DIE_GRACE_MS for the die event. 1
 * while it waits.
 */
#define HOOK_DIE_GRACE_MS 1000

static int hook_lost_container(struct env *env, struct ctr *c)
{
	int64_t t = now_ms();

	if (c->died)
		return 0;
	if (!c->hook_failed_ms)
		c->hook_failed_ms = t;
	if (t - c->hook_failed_ms >= HOOK_DIE_GRACE_MS)
		return 0;
	evloop_wake_at(env->loop, c->hook_failed_ms + HOOK_DIE_GRACE_MS);
	return 1;
}

static void post_start_step(struct env *env, struct ctr *c)
{
	int rc;

	if (!hooks_step(c->post_start))
		return;
	rc = hooks_result(c->post_start);
	if (rc && hook_lost_container(env, c))
		return;
	hooks_free(c->post_start);
	c->post_start = NULL;
	if (rc && c->died) {
		c->state = ENV_STARTED;
		died_step(env, c);
	} else if (rc) {
		ctr_fail(c, "%s", orch_error_last());
	} else {
		now_started(env, c);
	}
}

static void starting_step(struct env *env, struct ctr *c)
{
	int rc;

	if (c->post_start) {
		post_start_step(env, c);
		return;
	}
	if (!c->start_call) {
		gate_held_step(env, c);
		return;
	}
	if (!engine_call_done(c->start_call))
		return;
	rc = engine_container_start_result(c->start_call);
	engine_call_drop(&c->start_call);
	if (rc && c->gated) {
		gate_ungate(env, c);
		return;
	}
	if (rc) {
		fail_start(c, rc);
		return;
	}
	if (c->gated)
		gate_held_step(env, c);
	else
		ctr_mark_started(env, c);
}

/* Behind the gate and started, its real process not yet released. */
int ctr_held(const struct ctr *c)
{
	return c->gated && c->state == ENV_STARTING && !c->post_start;
}

void ctr_health_seen(struct ctr *c, int healthy)
{
	if (healthy)
		c->engine_healthy = 1;
	if (ctr_held(c))
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
	svc_publish(c->svc);
	if (!info.running && !c->died) {
		c->died = 1;
		c->exit_code = info.exit_code;
		c->oom = info.oom_killed;
	}
	c->ports_stale = 0;
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
		svc_publish(c->svc);
		env_note(env, c->svc, ENV_NOTE_COMPLETED);
		return 1;
	}
	if (!c->death_checked && !c->death_call) {
		c->death_call = engine_container_inspect_start(
		        env->e, c->id, env_wake_done, env);
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
	if (c->ports_stale && !c->inspect_call)
		c->inspect_call = engine_container_inspect_start(
		        env->e, c->id, env_wake_done, env);
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
	/* nothing to check: ready once it has run a moment -- one that
	   exits at once must not count as ready */
	if (!ready_has_checks(&c->ready) &&
	    env_clock(env) < c->started_ms + UNCHECKED_GRACE_MS) {
		evloop_wake_at(env->loop,
		               env->t0 + c->started_ms + UNCHECKED_GRACE_MS);
		return;
	}
	switch (ready_step(&c->ready, t)) {
	case READY_OK:
		c->state = ENV_READY;
		c->checked_ms = env_clock(env);
		if (c->ready_ms < 0)
			c->ready_ms = c->checked_ms;
		svc_publish(c->svc);
		env_note(env, c->svc, ENV_NOTE_READY);
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
	/* attached to another network: the engine maps its ephemeral host
	   ports anew, so look at them again */
	if (c->ports_stale && !c->inspect_call && !c->recheck)
		c->inspect_call = engine_container_inspect_start(
		        env->e, c->id, env_wake_done, env);
	if (c->inspect_call && engine_call_done(c->inspect_call))
		ports_known(env, c);
	if (c->recheck && !c->inspect_call) {
		/* a dependency was swapped: is it still ready against it? */
		c->recheck = 0;
		if (!ready_has_checks(&c->ready))
			return;
		c->state = ENV_STARTED;
		ready_begin(&c->ready, c->id, now_ms());
		if (c->ports_stale)
			c->inspect_call = engine_container_inspect_start(
			        env->e, c->id, env_wake_done, env);
		else
			ready_ports(&c->ready, c->tcp_hp, c->http_hp);
		svc_publish(c->svc);
		env_note(env, c->svc, ENV_NOTE_RECHECK);
	}
}

char **ctr_aliases(const struct ctr *c)
{
	const struct strvec *more = &c->spec->aliases;
	char **v = xcalloc(more->n + 2, sizeof(*v));
	size_t n = 0;

	v[n++] = (char *)c->svc->ms->name;
	for (size_t i = 0; i < more->n; i++)
		if (strcmp(more->v[i], c->svc->ms->name))
			v[n++] = more->v[i];
	return v;
}

/* Attached to the move's stage network, under its names: a dependency
   of a staged service. */
static void stage_attach_step(struct env *env, struct ctr *c)
{
	int rc;

	if (!c->stage_want || c->stage_ok || !c->id || !env->stage_ready)
		return;
	if (!c->stage_call) {
		char **aliases = ctr_aliases(c);

		c->stage_call = engine_network_connect_start(
		        env->e, env_net_ref(env, 1), c->id, aliases,
		        env_wake_done, env);
		free(aliases);
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
	strvec_push(&c->nets, env_net_ref(env, 1));
	c->stage_ok = 1;
	c->ports_stale = 1;
}

void ctr_advance(struct env *env, struct ctr *c, int64_t t)
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
