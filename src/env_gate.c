/*
 * env_gate.c: a run's containers behind orchestrate-gate (env_int.h;
 * gate.h has the argv and the directory). A service whose dependencies
 * it waits for with service_healthy or service_completed_successfully is
 * created and started early with the gate as its entrypoint, and its
 * real process released -- a file created in the run's gate directory --
 * when they hold: its start is off the critical path.
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
static int gate_usable_for(struct env *env, const struct engine_image *img)
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
int gate_want(struct env *env, struct ctr *c)
{
	const struct engine_image *img = image_info(c->img);

	if (c->mode != PLAN_REAL || c->staged || !c->svc->ms->ndeps ||
	    ctr_deps_hold(env, c) || !ready_has_checks(&c->ready))
		return 0;
	for (size_t i = 0; i < c->svc->ms->ndeps; i++)
		if (c->svc->ms->deps[i].condition == MF_SERVICE_STARTED)
			return 0;
	strvec_clear(&c->real_argv);
	gate_real_argv(&c->real_argv, c->spec->has_entrypoint,
	               &c->spec->entrypoint, &c->spec->command,
	               &img->entrypoint, &img->cmd);
	if (!c->real_argv.n || !gate_usable_for(env, img))
		return 0;
	/* a go file of an earlier container of the service would release
	   this one at once */
	return gate_unrelease(env->gate_dir, c->svc->ms->name) == 0;
}

/*
 * Back to a container without the gate, started when the dependencies
 * hold: when the engine refused the gated one (the gate directory is not
 * on the engine's host: a remote engine, orchestrate in a container) or
 * could not start it (the gate cannot run there: SELinux, ...).
 */
void gate_ungate(struct env *env, struct ctr *c)
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
	ctr_submit_create(env, c);
}

/*
 * STARTING behind the gate: running, its real process released when the
 * dependencies hold, by creating its go file in the gate directory -- a
 * local file, seen by the gate within its 2 ms poll.
 */
void gate_held_step(struct env *env, struct ctr *c)
{
	/* once released, a quick exit is the real process's */
	if (c->died) {
		ctr_fail(c,
		         "exited with code %d while it waited for its "
		         "dependencies (gate)",
		         c->exit_code);
		return;
	}
	if (ctr_fail_dep_never(env, c) || !ctr_deps_hold(env, c))
		return;
	if (gate_release(env->gate_dir, c->svc->ms->name)) {
		ctr_fail(c, "%s", orch_error_last());
		return;
	}
	ctr_mark_started(env, c);
}
