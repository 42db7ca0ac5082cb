/*
 * plan.h: integration strategies. Turns a manifest and a strategy into
 * the stages a test run goes through (docs/strategies.md). Pure: no I/O,
 * no Docker, no printing; the runner, the report and the `plan`, `graph`
 * and `validate` commands read the result.
 *
 * A stage is a configuration of the environment: every service is real,
 * a stub, or absent. How a stage is built:
 *
 *   1. the strategy names the services it wants real (W):
 *        big-bang     every service
 *        incremental  the first k+1 services of graph_topo_order()
 *        bottom-up    stage L = 0..T: levels <= L
 *        top-down     stage k = 0..T: levels >= T-k
 *        sandwich     stage 1: levels != m; stage 2: every service
 *      External services (mf_service_external) are never in W.
 *   2. what was present in the previous stage stays present, and what
 *      was real stays real: configurations only grow, and a stub is only
 *      ever replaced by its own real service.
 *   3. every dependency of a real service must be present: an absent one
 *      comes up as its stub, or real when it has no stub (with a note,
 *      "'db' has no stub: comes up real"), and then its own dependencies
 *      follow the same rule.
 *   4. an external target of a suite whose other targets are all real
 *      comes up as its stub, so that the suite can run.
 *   Everything else is absent. A stage whose configuration equals the
 *   previous one (or, first, is empty) is dropped: it would run nothing.
 *
 * The suite rule: a suite runs in a stage when all its targets are real
 * (an external target counts when present: a stub is all it ever is) and
 * it has not yet run against the current configuration of its
 * dependencies. That configuration is the mode of every service reached
 * from the targets through real services (a stub hides what lies behind
 * it, so a change there does not matter to the suite).
 *
 * Every strategy's last stage has every non-external service real, so
 * every suite runs at least once.
 *
 * Ownership: plan_build() returns a heap plan that owns everything in it;
 * plan_free() releases it (NULL is fine). Service and suite indices are
 * into the manifest's arrays; the plan holds no pointer into the
 * manifest, but names are only available through it.
 */
#ifndef ORCH_PLAN_H
#define ORCH_PLAN_H

#include <stddef.h>

#include "util.h"

struct manifest;

enum strategy {
	STRATEGY_BIG_BANG,
	STRATEGY_INCREMENTAL,
	STRATEGY_BOTTOM_UP,
	STRATEGY_TOP_DOWN,
	STRATEGY_SANDWICH,
};
#define STRATEGY_COUNT 5

/*
 * Parse a strategy name ("big-bang", "incremental", "bottom-up",
 * "top-down", "sandwich"). ORCH_EINVALID with "unknown strategy 'x'
 * (valid: ...)" otherwise.
 */
int strategy_parse(const char *name, enum strategy *out);
/* The name of s; "unknown" for a value out of range. */
const char *strategy_name(enum strategy s);
/* "big-bang, incremental, bottom-up, top-down, sandwich" */
const char *strategy_list(void);

enum plan_mode {
	PLAN_ABSENT,
	PLAN_STUB,
	PLAN_REAL,
};
const char *plan_mode_name(enum plan_mode mode); /* "absent", "stub", "real" */

/* caller -> dependency, indices into manifest.services */
struct plan_edge {
	size_t caller;
	size_t dep;
};

struct plan_edges {
	struct plan_edge *v;
	size_t n;
	size_t alloc;
};

void plan_edges_push(struct plan_edges *l, size_t caller, size_t dep);
int plan_edges_has(const struct plan_edges *l, size_t caller, size_t dep);

/* A list of indices (services or suites), ascending unless noted. */
struct plan_indices {
	size_t *v;
	size_t n;
	size_t alloc;
};

/*
 * One suite run in a stage, with what fault localisation needs: the
 * edges its configuration integrates and what changed since its
 * previous run.
 */
struct plan_run {
	size_t suite;                /* index into manifest.suites */
	int previous_stage;          /* stage of its previous run, or -1 */
	struct plan_indices deps;    /* its configuration: the services
	                             reached from its targets through real
	                             services, targets included */
	struct plan_indices stubs;   /* those of deps that are stubs */
	struct plan_edges edges;     /* caller -> dep inside deps, both real */
	struct plan_edges new_edges; /* those of edges the previous run did
	                                not have (all of them at first) */
};

struct plan_stage {
	size_t index;          /* position in plan.stages, from 0 */
	char *label;           /* "levels <= 1 real", "add 'db'", ... */
	enum plan_mode *modes; /* [manifest.nservices] */
	struct plan_indices real, stubs, absent;
	struct plan_indices new_real;       /* real now, not before */
	struct plan_indices stubs_started;  /* stub now, absent before */
	struct plan_indices stubs_replaced; /* stub before, real now */
	struct plan_edges new_edges; /* both ends real for the first time */
	struct plan_run *runs;       /* in manifest order of the suites */
	size_t nruns;
	struct strvec notes; /* "'db' has no stub: comes up real" */
};

struct plan {
	enum strategy strategy;
	int middle;        /* sandwich: the middle level m; -1 otherwise */
	int top;           /* T, the highest level */
	size_t nservices;  /* manifest.nservices */
	int *levels;       /* [nservices] */
	size_t nsuites;    /* manifest.nsuites */
	int *suite_levels; /* [nsuites]: highest level of the targets */
	struct plan_stage *stages;
	size_t nstages;
	struct strvec notes; /* about the whole plan (no suites, ...) */
};

/*
 * Build the plan of strategy s for m. middle is the sandwich's middle
 * level, -1 for the default ceil(T/2); any other strategy requires -1.
 * Errors (ORCH_EINVALID, message recorded): a dependency cycle, a middle
 * level outside 0..T, a middle level given to another strategy.
 */
int plan_build(const struct manifest *m, enum strategy s, int middle,
               struct plan **out);
void plan_free(struct plan *p);

/*
 * The strategy a command uses: opt (--strategy) when given, else the
 * manifest's `strategy:`, else big-bang. ORCH_EINVALID for an unknown
 * name, with the valid ones in the message.
 */
int plan_resolve_strategy(const struct manifest *m, const char *opt,
                          enum strategy *out);

/* Does the stage run suite (index into manifest.suites)? Its run or NULL. */
const struct plan_run *plan_stage_run(const struct plan_stage *st,
                                      size_t suite);

#endif
