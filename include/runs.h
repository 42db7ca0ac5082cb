/*
 * runs.h: labelled engine objects grouped into runs, and the decisions
 * `down`, `gc` and the watchdog take from labels alone: is this object
 * ours, and is this run stale.
 *
 * Pure: it works on object lists the engine module already fetched and
 * never talks to the engine itself, so every decision is unit-tested. The
 * only outside fact it consults is whether an owner process is alive,
 * through a function the caller passes (run_owner_check in production).
 */
#ifndef ORCH_RUNS_H
#define ORCH_RUNS_H

#include <stddef.h>

#include "engine_ops.h"
#include "labels.h"

enum run_object_kind {
	RUN_CONTAINER,
	RUN_NETWORK,
	RUN_VOLUME,
};

/* Value of label key on o, or NULL. */
const char *runs_label(const struct engine_object *o, const char *key);

/*
 * 1 when o is labelled with project (and with run_id unless NULL), 0
 * otherwise. Checked on every listed object before it is removed, so a
 * label filter the engine ignored or got wrong can never make us remove
 * somebody else's object.
 */
int runs_object_owned(const struct engine_object *o, const char *project,
                      const char *run_id);

/* The owner labels of o, parsed (labels.h); ORCH_EINVALID without them. */
int runs_object_owner(const struct engine_object *o, struct run_owner *owner);

/* One run seen through its objects' labels. */
struct run_info {
	char *project;
	char *run_id;
	int has_owner;     /* some object carried parseable owner labels */
	int owners_differ; /* objects disagree about the owner */
	struct run_owner owner;
	int kept; /* a ROLE_KEEP marker object exists */
	size_t containers, networks, volumes;
};

struct run_set {
	struct run_info *items;
	size_t n;
	size_t alloc;
};
#define RUN_SET_INIT                                                           \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void run_set_release(struct run_set *s);
/*
 * Add the objects of l to their runs (created on first sight). Objects
 * without a project or run-id label are left out: they belong to no run
 * we could decide about.
 */
void run_set_add(struct run_set *s, const struct engine_object_list *l,
                 enum run_object_kind kind);
/* The run (project, run_id), or NULL. */
struct run_info *run_set_find(const struct run_set *s, const char *project,
                              const char *run_id);

enum run_verdict {
	RUN_LIVE,    /* its owner may still run */
	RUN_KEPT,    /* owner gone, kept on purpose (ROLE_KEEP) */
	RUN_UNOWNED, /* no owner labels (or conflicting ones): left alone */
	RUN_UNKNOWN, /* whether its owner runs cannot be told from here
	                (another host, PID namespace or boot): left alone */
	RUN_STALE,   /* owner gone, not kept: gc removes it */
};

typedef enum owner_state (*run_owner_fn)(const struct run_owner *o,
                                         const char **why);

enum run_judge_flags {
	RUN_JUDGE_KEPT = 1 << 0,  /* gc --all: kept runs count as stale */
	RUN_JUDGE_FORCE = 1 << 1, /* gc --force: so do RUN_UNKNOWN ones */
};

/*
 * What gc does with r: RUN_STALE means remove. A live owner always wins;
 * an owner that cannot be judged (OWNER_UNKNOWN) makes RUN_UNKNOWN unless
 * RUN_JUDGE_FORCE, and then the run is judged as if its owner were gone
 * (a kept one stays RUN_KEPT without RUN_JUDGE_KEPT). *why (may be NULL)
 * receives check's reason for OWNER_UNKNOWN, else NULL; check always
 * gets somewhere to write it.
 */
enum run_verdict run_judge(const struct run_info *r, unsigned flags,
                           run_owner_fn check, const char **why);
const char *run_verdict_name(enum run_verdict v);

#endif
