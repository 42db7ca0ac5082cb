/*
 * diagnose.h: fault localisation -- from a plan and what each of its
 * suite runs did, which integration (edge caller -> dependency) most
 * likely broke. Pure: no I/O.
 *
 * The rules (docs/strategies.md, "Fault localisation"):
 *   1. The first failing stage F is the first stage where a suite failed
 *      (or that could not be brought up). Only failures there are
 *      localised: later ones inherit the environment F broke.
 *   2. A suite failing in F for the first time has as candidates the
 *      edges F integrates for the first time (the stage's new_edges)
 *      among those new for the suite (its run's new_edges) -- or, when
 *      none of them is, those new for the suite. With two or more
 *      targets, only the edges between its
 *      targets count when there are any (the suite says it tests those).
 *      Edges to one-shot jobs (service_completed_successfully) count
 *      only when nothing else is left.
 *   3. A suite that passed in F clears the edges it integrates: between
 *      its targets when it has two or more, from its target otherwise --
 *      unless that would clear every candidate of a failing suite.
 *   4. What remains are each failing suite's suspects. Over all of them:
 *      the edges every failing suite suspects (one broken integration
 *      that explains every failure), or, when none is common, all of
 *      them. One means "this edge", several a list.
 *   5. A suite that passed in an earlier stage against a stub of X and
 *      fails now that X is real shows an interface mismatch: the stub and
 *      the real X disagree, on the edges from its configuration to X.
 *   6. big-bang has one stage: every edge is new at once, so it cannot
 *      localise; the diagnosis says which strategy would.
 * A stage that could not be brought up points at the service that
 * failed and the edges from it that were new there.
 */
#ifndef ORCH_DIAGNOSE_H
#define ORCH_DIAGNOSE_H

#include <stddef.h>

#include "plan.h"

struct manifest;

/* What one plan run did. */
enum diag_outcome {
	DIAG_NOT_RUN = 0,
	DIAG_PASSED,
	DIAG_FAILED,
};

struct diag_failure {
	size_t suite; /* index into manifest.suites */
	size_t stage; /* where it first failed */
	struct plan_edges candidates;
	struct plan_edges suspects;
	/* rule 5: passed in stage mismatch_stage against the stub of
	   mismatch_service; mismatch_edges are the edges to it */
	int mismatch_stage; /* -1: none */
	size_t mismatch_service;
	struct plan_edges mismatch_edges;
};

struct diagnosis {
	int failed;      /* anything to diagnose at all */
	int localised;   /* 0 for big-bang */
	int first_stage; /* F, or -1 */
	/* a stage that could not be brought up: the service, else -1 */
	int bringup_service;
	struct diag_failure *failures;
	size_t nfailures;
	struct plan_edges suspects; /* over every failure, no duplicates */
	char *summary;              /* one paragraph for people */
};

/*
 * outcome[s][k] is what run k of stage s (p->stages[s].runs[k]) did.
 * bringup_stage/bringup_service: a stage that could not be brought up
 * (-1: none) and the service that failed it (-1: unknown). Always
 * succeeds; out is the caller's (diagnosis_release()).
 */
void diagnose(const struct manifest *m, const struct plan *p,
              enum diag_outcome *const *outcome, int bringup_stage,
              int bringup_service, struct diagnosis *out);
void diagnosis_release(struct diagnosis *d);

#endif
