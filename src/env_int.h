/*
 * env_int.h: what the env modules share (env.h has the contract).
 *
 *   env.c      the run's state machine: services, moves, swaps, step
 *   env_ctr.c  one container's life: create, start, readiness, death
 *   env_gate.c starting a container behind orchestrate-gate
 *   env_run.c  the run's own objects and stream: watchdog, network,
 *              volumes, the events stream, keep marker, teardown
 */
#ifndef ORCH_ENV_INT_H
#define ORCH_ENV_INT_H

#include <stdint.h>

#include "env.h"
#include "images.h"
#include "manifest.h"
#include "ready.h"
#include "util.h"

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
/* a service without readiness checks is ready once it ran this long */
#define UNCHECKED_GRACE_MS 250
/*
 * How long an interrupted run's teardown (force_kill) may take before it
 * leaves what is still being removed to the watchdog: done, or handed
 * over, before the runner's SIGTERM.
 */
#define INTERRUPTED_TEARDOWN_MS 6000
/* a container's log kept for the report, at most */
#define LOG_CAP         ((size_t)8 << 20)
#define RETIRED_LOG_CAP ((size_t)8 << 20)
/* a job's default time to exit, as ready.timeout's */
#define JOB_TIMEOUT_MS 60000

struct svc;

struct hooks;

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
	struct hooks *post_start; /* its post_start hooks, while they run */
	int released; /* its own process runs (started, and past any gate) */
	int64_t hook_failed_ms; /* when a post_start hook failed */
	/* a dependency of a staged service: attached to the stage network */
	int stage_want, stage_ok;
	struct strvec nets; /* the networks it is attached to */
	struct ready ready;
	int gated;
	struct strvec real_argv; /* what Docker would run: the gate's job */
	int died, exit_code, oom, death_checked;
	int name_freed;      /* a stale leftover held its name: removed once */
	int unhealthy_later; /* READY, then the engine said unhealthy */
	int engine_healthy;  /* the engine called it healthy at least once */
	int recheck;         /* check readiness again: a dependency swapped */
	int tcp_hp, http_hp; /* host ports of its tcp/http probes */
	int ports_stale;     /* attached to a network since: ports remapped */
	struct env_endpoint *eps;
	size_t neps;
	int64_t started_ms, ready_ms, checked_ms;
	int64_t job_deadline; /* a job: by when it must have exited */
	char *failure;
	struct ctr *retired_next;
	struct engine_call *logs_call; /* retired: its logs, then removal */
	struct buf log;
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
	char *network_id; /* once created: containers are attached by id */
	int64_t t0;
	env_progress_fn progress;
	void *ud;

	struct run_owner owner;
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
	char *stage_net_id;
	struct engine_call *stage_call;
	int stage_ready;
	unsigned nstages;

	struct svc *svcs;
	size_t n;
	/*
	 * The start scheduler: the engine serialises much of a container
	 * start, so only start_limit starts are in flight, the longest
	 * remaining path first (prio[i] for service i).
	 */
	int *prio;
	int start_limit;
	struct engine_call *info_call; /* the engine's CPUs, once */
	struct ctr *retired;           /* swapped-out stubs being removed */
	struct strvec old_log_names, old_logs; /* theirs, for the report */
	struct strvec teardown_warnings;       /* env_teardown_warnings() */

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

/* ---- env.c ----------------------------------------------------------- */

void env_note(struct env *env, struct svc *s, enum env_note what);
/* The state the service shows: its incoming container's, in a swap. */
void svc_publish(struct svc *s);
/* The container a dependant of s waits for: the incoming one in a swap. */
struct ctr *svc_target(const struct svc *s);
/* The run failed (the first failure wins); c may be NULL. */
void env_fail(struct env *env, struct ctr *c, int rc, const char *msg);
/*
 * The names c answers to on a network it joins after its create: the
 * service's, then its network and link aliases (as spec.c gives them at
 * the create). NULL-terminated; free with free() alone.
 */
char **ctr_aliases(const struct ctr *c);
/* c failed: "service 'db': <why>" fails the run. */
void ctr_fail_code(struct ctr *c, int rc, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
#define ctr_fail(c, ...) ctr_fail_code(c, ORCH_EENGINE, __VA_ARGS__)
/* on_done of calls whose answer step() looks at: wake the loop. */
void env_wake_done(struct engine_call *call, void *ud);
/* The run's labels and a role: for networks and volumes. */
size_t env_labels_role(const struct env *env, struct engine_label *l,
                       const char *role);

/* ---- env_ctr.c --------------------------------------------------------- */

struct ctr *ctr_new(struct env *env, struct svc *s, enum plan_mode mode,
                    int staged);
void ctr_free(struct ctr *c);
/* Stop every call and check of c but its create; the container stays. */
void ctr_quiesce(struct ctr *c);
/* c's depends_on conditions hold (ctr_deps_hold() in env_ctr.c says how). */
int ctr_deps_hold(const struct env *env, const struct ctr *c);
/* A dependency can no longer meet its condition: c failed. 1 then. */
int ctr_fail_dep_never(struct env *env, struct ctr *c);
void ctr_submit_create(struct env *env, struct ctr *c);
/* May it be started now (created, and its conditions hold or it is
   gated)? The scheduler decides when. */
int ctr_startable(const struct env *env, const struct ctr *c);
void ctr_submit_start(struct env *env, struct ctr *c);
/* The real process runs: readiness is looked for from now on. */
void ctr_mark_started(struct env *env, struct ctr *c);
/* Behind the gate and started, its real process not yet released. */
int ctr_held(const struct ctr *c);
/* The engine's verdict on c's healthcheck. */
void ctr_health_seen(struct ctr *c, int healthy);
/* One step of c's life, after a loop turn. */
void ctr_advance(struct env *env, struct ctr *c, int64_t t);

/* ---- env_gate.c -------------------------------------------------------- */

/* Should c start behind the gate? Its real argv is set when so. */
int gate_want(struct env *env, struct ctr *c);
/* The engine refused the gated container: back to a plain one. */
void gate_ungate(struct env *env, struct ctr *c);
/* STARTING behind the gate: release it when its dependencies hold. */
void gate_held_step(struct env *env, struct ctr *c);

/* ---- env_run.c --------------------------------------------------------- */

/* The watchdog, then the network and volume creates: once per run. */
int env_prepare(struct env *env);
/* The network and volume creates: 0 while waiting or done, <0 failed. */
int env_objects_step(struct env *env);
/*
 * The run's network (stage 0) or the move's stage network (1) as
 * requests name it: by the id its create returned -- a name may be
 * shared by another network (an engine before API 1.44 allows that) --
 * else by its name.
 */
const char *env_net_ref(const struct env *env, int stage);
/* on_done of a network or volume create: wakes the loop. */
void env_create_done(struct engine_call *c, void *ud);
/* on_done of a container create: removes what it made once tearing. */
void env_ctr_create_done(struct engine_call *c, void *ud);
/*
 * c's create was refused: its name is taken (409). 0 when the holder was
 * a leftover of this project's stale run (owner gone, not kept) and is
 * now removed: create again. Otherwise ORCH_ECONFLICT naming the holder
 * and whose it is; it is never touched.
 */
int env_name_taken(struct env *env, struct ctr *c);
void env_events_start(struct env *env);
/* The stream, or polling once it broke twice. */
void env_events_step(struct env *env, int64_t t);
struct ctr *env_ctr_by_id(struct env *env, const char *id);
/* Stop every probe, stream and call that is not a create. */
void env_quiesce(struct env *env);

#endif
