/*
 * env.h: a run of an environment on the engine -- its network, volumes
 * and containers -- moved from one configuration to the next while it
 * runs. A configuration is one plan_mode per manifest service (plan.h:
 * absent, stub, real), the planner's stage; `up` is the one-stage case.
 *
 * What a move does (docs/internals.md, "The environment"):
 *   - a service that was absent comes up as asked, on the run's network
 *     under its name, started as soon as its depends_on conditions hold
 *     (behind the gate when it would otherwise wait for them);
 *   - a stub replaced by its real service: the real one is built,
 *     created, started and made ready first, on a stage network where
 *     its dependencies answer under their names, while the stub still
 *     answers on the run's network; only then is the stub detached and
 *     the real one attached under the name -- the name is never answered
 *     by both, and answers nothing only for those two calls. The real
 *     service's own connections (on the stage network) are not cut. The
 *     stub is then removed, and the services that call the swapped one
 *     are checked for readiness again;
 *   - nothing else is touched: what stays real keeps running.
 * Configurations only grow: a move never removes a service or turns a
 * real service back into its stub.
 *
 * Everything is asynchronous on the run's event loop (evloop.h):
 * env_move() starts a move and env_step() advances it after each loop
 * turn, so a runner can wait on its suites and the environment together;
 * env_reach() does both until the move is done. Once settled, the env
 * keeps watching: a service that dies, is OOM-killed or turns unhealthy
 * at any time fails it (env_step() < 0), with the service and the reason.
 *
 * Times (started_ms, ready_ms, ...) are on the run's one clock: ms since
 * env_opts.t0.
 *
 * What it does not do: print (progress goes to the caller's callback),
 * decide exit statuses, or remove objects itself beyond a swapped stub --
 * env_teardown() hands the run to teardown_run(), which works from labels.
 *
 * Life cycle:
 *   env_new()        no I/O
 *   env_move() + env_step()..., or env_reach()   (again for a later stage)
 *   env_keep()       the run stays after we exit: keep marker, watchdog off
 *   or env_teardown() remove the run, watchdog off
 *   env_free()
 */
#ifndef ORCH_ENV_H
#define ORCH_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"
#include "plan.h"

struct engine;
struct evloop;
struct manifest;
struct mf_container;
struct spec_opts;
struct teardown_stats;

enum env_state {
	ENV_PENDING,   /* waiting for its image or its create */
	ENV_CREATED,   /* created, waiting for its dependencies */
	ENV_STARTING,  /* start requested, held behind the gate, or running
	                  its post_start hooks */
	ENV_STARTED,   /* running; readiness not (yet, or again) established */
	ENV_READY,     /* healthcheck and ready: probes passed */
	ENV_COMPLETED, /* a job that exited 0 */
	ENV_FAILED,
};
const char *env_state_name(enum env_state s);

struct env_endpoint {
	char *host_ip;
	int host_port;
	int container_port;
	char *protocol;
	int http; /* the port an http probe uses */
};

/* A read-only view of one service of the run. */
struct env_service {
	const char *name;
	enum plan_mode mode; /* what it is, or is becoming */
	enum env_state state;
	const char *container_id;   /* NULL before creation */
	const char *container_name; /* NULL when absent */
	const char *image;          /* the tag it runs */
	const char *image_id;       /* "sha256:..." once known */
	const char *image_digest;   /* its registry digest, or NULL (a
	                               built or imported image has none) */
	const struct env_endpoint *endpoints;
	size_t nendpoints;
	/* the run's clock (ms since env_opts.t0); -1: not (yet) */
	int64_t started_ms;
	int64_t ready_ms;
	int64_t checked_ms;  /* when its readiness was last established
	                        (ready_ms, or a re-check after a swap) */
	int64_t swapped_ms;  /* when it replaced its stub under the name */
	int64_t swap_gap_ms; /* how long the name answered nothing then */
	const char *failure; /* why it failed, or NULL */
	int exit_code;       /* after it exited */
};

enum env_note {
	ENV_NOTE_STARTED,
	ENV_NOTE_READY,
	ENV_NOTE_COMPLETED,
	ENV_NOTE_SWAPPED, /* the real service answers under the name */
	ENV_NOTE_RECHECK, /* checked again: a dependency was swapped */
	ENV_NOTE_FAILED,
};
typedef void (*env_progress_fn)(void *ud, const struct env_service *s,
                                enum env_note what);

struct env_opts {
	const char *project; /* required */
	struct evloop *loop; /* the run's loop; required */
	int64_t t0;          /* the run's clock zero (now_ms()); 0: now */
	env_progress_fn progress;
	void *ud;
};

struct env;

int env_new(struct env **out, struct engine *e, const struct manifest *m,
            const struct env_opts *o);
void env_free(struct env *env);

const char *env_run_id(const struct env *env);
const char *env_network_name(const struct env *env);
/* The run's clock: ms since env_opts.t0. */
int64_t env_clock(const struct env *env);

/* The default configuration: every service real, external ones stubs. */
void env_modes_all(const struct manifest *m, enum plan_mode *modes);

/*
 * Start moving to modes (one per manifest service). ORCH_EINVALID (and
 * nothing done) for a mode the manifest cannot give -- a real external
 * service, a stub that is not in the manifest -- or one a move cannot
 * make: removing a service, turning a real one into its stub.
 */
int env_move(struct env *env, const enum plan_mode *modes);
/*
 * Advance after a loop turn. 1: settled (every present service ready or
 * completed, every swap done, every re-check passed); 0: moving; < 0:
 * failed -- the code (ORCH_EENGINE for a service that failed, ORCH_EINTR
 * for a run removed by another client, ORCH_ETIMEOUT, ...) with the
 * message naming the service ("service 'db': not ready after 30s:
 * pg_isready exited 2"). Settled, it keeps watching for deaths.
 */
int env_step(struct env *env);
/*
 * env_move(), then turn the loop until settled, failed, or signal_fd
 * (-1: none) becomes readable (ORCH_EINTR). On success every service it
 * calls ready was seen running by the engine at the end. On failure the
 * failed service's last log lines are in env_failure_logs().
 */
int env_reach(struct env *env, const enum plan_mode *modes, int signal_fd);

size_t env_nservices(const struct env *env);
const struct env_service *env_service(const struct env *env, size_t i);
/* The service that failed the run, or NULL; its last 50 log lines. */
const char *env_failed_service(const struct env *env);
const char *env_failure_logs(const struct env *env);

/*
 * For a container of the run that is not a service (a suite): the spec
 * options every container of the run shares -- project, run id, labels,
 * the network -- filled into o. The strings stay valid while env lives.
 */
void env_spec_opts(const struct env *env, struct spec_opts *o);

/*
 * Every container's log into DIR/<service>.log (a stub's
 * <service>-stub.log, a swapped-out stub's as read before it went), the
 * values of mask masked; each at most 8 MiB. Before env_teardown().
 */
struct mask;
int env_write_logs(struct env *env, const char *dir, const struct mask *mask);

/*
 * The run outlives us (a successful `up`): create the ROLE_KEEP marker
 * volume `<project>-<runid>-keep` and release the watchdog.
 */
int env_keep(struct env *env);

/*
 * Remove every object of the run and release the watchdog, starting at
 * once: teardown_run() by labels runs while creates still in flight
 * finish, and whatever such a create makes is removed as its answer
 * arrives (bounded: a create the engine has not answered within a few
 * seconds fails this with ORCH_ETIMEOUT naming it, and the watchdog stays
 * armed to look once more after we exit). force_kill, for a run that
 * was interrupted, ignores stop grace periods and bounds the whole
 * teardown to 6 s: what is still being removed then is left to the
 * watchdog (ORCH_ETIMEOUT saying so), so that we are gone before a CI
 * runner's SIGTERM, 7.5 s after its SIGINT.
 */
int env_teardown(struct env *env, int force_kill, struct teardown_stats *st);
/*
 * What env_teardown() saw go wrong without failing it: a pre_stop hook
 * that failed ("service 'db': pre_stop hook 'sh' exited 3: last line"),
 * for the caller to show as warnings. Valid while env lives.
 */
const struct strvec *env_teardown_warnings(const struct env *env);

#endif
