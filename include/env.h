/*
 * env.h: one run of an environment on the engine -- its network, volumes
 * and containers -- brought up along the dependency graph and waited on
 * until every service is really ready, in ONE single-threaded event loop
 * (engine_wait() with our own fds: the signal self-pipe and the probe
 * sockets). No threads and no fixed sleeps.
 *
 * What it does (docs/commands.md, "Lifecycle"):
 *   - starts the watchdog before the first object exists, so a killed
 *     orchestrate still gets its run removed;
 *   - network `<project>-<runid>`, declared volumes `<project>-<runid>-<vol>`,
 *     containers `<project>-<runid>-<service>` (stubs: `...-<service>-stub`),
 *     every object labelled (labels.h), each container attached to the run
 *     network with the service name as its DNS alias;
 *   - images: the local one when present, `build:` built and tagged
 *     `<project>-<service>:orchestrate`, otherwise pulled;
 *   - creates every container up front, in parallel (creation does not
 *     depend on dependencies), then starts each as soon as its depends_on
 *     conditions hold;
 *   - readiness from the engine's events stream (die, oom, health_status)
 *     and from our own probes on a 5 ms..100 ms backoff (health.h),
 *     including the Docker healthcheck's own command run through exec,
 *     because Docker waits a whole interval before its first check.
 *
 * What it does not do: print (progress goes to the caller's callback),
 * decide exit statuses, or remove objects itself -- env_teardown() hands
 * the run to teardown_run(), which works from labels alone.
 *
 * Life cycle:
 *   env_new()        no I/O
 *   env_up()         bring services to the given modes; may be called again
 *                    with other modes (a later stage: absent services come
 *                    up, a stub is replaced by the real service under the
 *                    same alias)
 *   env_keep()       the run stays after we exit: keep marker, watchdog off
 *   or env_teardown() remove the run, watchdog off
 *   env_free()
 */
#ifndef ORCH_ENV_H
#define ORCH_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "labels.h"

struct engine;
struct manifest;
struct teardown_stats;

/* How a service takes part in a stage. */
enum env_mode {
	ENV_ABSENT = 0,
	ENV_REAL,
	ENV_STUB,
};

enum env_state {
	ENV_PENDING,   /* nothing created yet */
	ENV_CREATED,   /* container created, waiting for its dependencies */
	ENV_STARTING,  /* start requested */
	ENV_STARTED,   /* running; readiness not yet established */
	ENV_READY,     /* healthcheck and ready: probes passed */
	ENV_COMPLETED, /* exited 0, and a dependent waits for exactly that */
	ENV_FAILED,
};

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
	enum env_mode mode;
	enum env_state state;
	const char *container_id;   /* NULL before creation */
	const char *container_name; /* NULL when absent */
	const struct env_endpoint *endpoints;
	size_t nendpoints;
	int64_t started_ms; /* since env_up() began; -1 when not started */
	int64_t ready_ms;   /* since env_up() began; -1 when not ready */
};

enum env_note {
	ENV_NOTE_STARTED,
	ENV_NOTE_READY,
	ENV_NOTE_COMPLETED,
};
typedef void (*env_progress_fn)(void *ud, const struct env_service *s,
                                enum env_note what);

struct env_opts {
	const char *project; /* required */
	int signal_fd;       /* readable = interrupted (env_signals_fd()); -1 */
	env_progress_fn progress;
	void *ud;
};

struct env;

int env_new(struct env **out, struct engine *e, const struct manifest *m,
            const struct env_opts *o);
void env_free(struct env *env);

const char *env_run_id(const struct env *env);
const char *env_network_name(const struct env *env);

/*
 * Bring every service to modes[i] (one entry per manifest service) and
 * wait until all present ones are ready. Returns 0; ORCH_EINTR when a
 * signal came, in any step (env_signal() tells which); ORCH_EINVALID for a
 * mode the manifest cannot give (a real external service); otherwise an
 * environment failure whose message names the service and the reason
 * ("service 'db': not ready after 30s: pg_isready exited 2"), with the
 * failed service's last log lines in env_failure_logs(). After a failure
 * the run must be torn down; calls in flight have been cancelled.
 */
int env_up(struct env *env, const enum env_mode *modes);

/* The default stage: every service real, external ones as their stub. */
void env_modes_all(const struct manifest *m, enum env_mode *modes);

size_t env_nservices(const struct env *env);
const struct env_service *env_service(const struct env *env, size_t i);
/* Last 50 log lines of the service that failed env_up(), or NULL. */
const char *env_failure_logs(const struct env *env);
const char *env_failed_service(const struct env *env);

/*
 * The run outlives us (a successful `up`): create the ROLE_KEEP marker
 * volume `<project>-<runid>-keep` and release the watchdog.
 */
int env_keep(struct env *env);

/*
 * Remove every object of the run (teardown_run() from labels, so
 * half-created objects go too) and release the watchdog. force_kill
 * ignores stop grace periods. A create that an interruption left running
 * is waited for first (engine_settle(), 2 s); one the engine never
 * answered fails this with ORCH_ETIMEOUT naming it, after the teardown,
 * and the watchdog stays armed to look once more after we exit.
 */
int env_teardown(struct env *env, int force_kill, struct teardown_stats *st);

/*
 * Interruption. SIGINT, SIGTERM and SIGHUP write their number to a
 * self-pipe (the only work done in the handler, with engine_wakeup()); the
 * event loop sees the pipe readable and stops. While env_up() runs, the
 * handler also calls engine_interrupt() on the engine given here (it must
 * be the env's): a synchronous step in progress -- network or volume
 * create, image inspect, pull -- returns at once, and env_up() starts
 * nothing more and returns ORCH_EINTR. A create the engine was sent is
 * let finish in the background; env_teardown() waits up to 2 s for it
 * before it lists the run. Outside env_up() the engine is not
 * interrupted, so a teardown after a failure runs to its end. A second
 * signal exits the process at once (130 for SIGINT, 143 otherwise),
 * leaving the run to the watchdog.
 *
 * env_signals_install() returns the pipe's read end (or a negative code);
 * env_signal() is the first signal received, 0 if none.
 */
int env_signals_install(struct engine *e);
int env_signal(void);
/* The exit status for a signal: 130 for SIGINT, 143 otherwise. */
int env_signal_exit(int signo);

#endif
