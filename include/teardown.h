/*
 * teardown.h: remove what orchestrate created, from labels alone.
 *
 * Used by `down` (a whole project), by `gc` (runs whose owner is gone),
 * by `up` when it fails or is interrupted (its own run), and by the
 * watchdog after its parent was killed. Containers are removed in
 * parallel, killed rather than stopped (the environment is thrown away)
 * unless their service set a stop grace period (LABEL_STOP_GRACE); then
 * networks, then volumes. NotFound counts as removed and 409 "removal
 * already in progress" as someone else's removal; nothing without our
 * labels is ever touched.
 */
#ifndef ORCH_TEARDOWN_H
#define ORCH_TEARDOWN_H

#include <stddef.h>

struct engine;
struct buf;

struct teardown_stats {
	size_t containers;
	size_t networks;
	size_t volumes;
	size_t images;      /* teardown_images() */
	size_t images_kept; /* ... in use by a container, kept with its tags */
	size_t failed;      /* objects that could not be removed */
};

struct teardown_opts {
	const char *project; /* required */
	const char *run_id;  /* NULL: every run of the project */
	int force_kill;      /* ignore stop grace periods (second signal) */
	long deadline_ms;    /* 0: no overall deadline */
};

/*
 * Remove every object labelled with the project (and run id when set).
 * Returns 0 when everything is gone (stats say how many were removed, all
 * zero when there was nothing), ORCH_ERROR when some object remains (its
 * name and the engine's message in orch_error_last(); stats->failed > 0),
 * ORCH_EUNREACHABLE when the engine stopped answering (the listing's or
 * every failed removal's error), ORCH_EINVALID without a project.
 * deadline_ms bounds the removals (a stop grace period is shortened to
 * fit); each listing is bounded by the engine's request timeout.
 */
int teardown_run(struct engine *e, const struct teardown_opts *o,
                 struct teardown_stats *stats);

/*
 * Remove the runs whose owner process is gone (labels.h) and that were
 * not kept on purpose (no ROLE_KEEP marker); a run whose owner cannot be
 * checked from here is left alone. project NULL: every project. runs
 * receives how many runs were removed.
 */
int teardown_stale(struct engine *e, const char *project, size_t *runs,
                   struct teardown_stats *stats);

/*
 * Remove the images the project built (labelled with it: its services',
 * stubs' and suites' builds), each of their tags; an image another
 * project's container still uses stays (images_kept). Adds to stats.
 * Built images are the build cache: only `down --rmi` asks for this.
 */
int teardown_images(struct engine *e, const char *project,
                    struct teardown_stats *stats);

/* "5 containers, 1 network, 1 volume": the kinds that occur; "" if none. */
void teardown_stats_format(struct buf *out, const struct teardown_stats *st);

/* ---- gc: teardown_stale with a report --------------------------------- */

struct teardown_gc_run {
	char *project;
	char *run_id;
	char *owner_host;
	long owner_pid;
	int kept;  /* removed although kept (include_kept) */
	char *why; /* the owner cannot be checked: why (run_owner_check);
	              removed only with TEARDOWN_GC_FORCE */
	struct teardown_stats stats;
	int rc;      /* 0, or teardown_run's failure ... */
	char *error; /* ... and its message */
};

struct teardown_gc_result {
	struct teardown_gc_run *items; /* the stale runs, removed or not */
	size_t n;
	size_t alloc;
	/* the runs left alone because their owner cannot be checked from
	   here (RUN_UNKNOWN): project, run_id, owner_*, kept and why set */
	struct teardown_gc_run *unknown;
	size_t nunknown;
	size_t unknown_alloc;
	size_t live, kept, unowned; /* other runs left alone, by reason */
};

enum teardown_gc_flags {
	TEARDOWN_GC_KEPT = 1 << 0,  /* gc --all: kept runs whose owner is
	                               gone too */
	TEARDOWN_GC_FORCE = 1 << 1, /* gc --force: runs whose owner cannot
	                               be checked too */
};

/*
 * The stale runs of project (NULL: every project) removed one by one.
 * flags add kept runs whose owner is gone (`gc --all`) and runs whose
 * owner cannot be checked from here (`gc --force`: another host, PID
 * namespace or boot, labels of an older version); a run whose owner is
 * alive is never removed. Returns 0 when every stale run is gone,
 * ORCH_ERROR when some run could not be removed completely (see the
 * items), or the listing's error.
 */
int teardown_gc(struct engine *e, const char *project, unsigned flags,
                struct teardown_gc_result *out);
void teardown_gc_result_release(struct teardown_gc_result *r);

#endif
