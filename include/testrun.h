/*
 * testrun.h: `orchestrate test` without the printing -- the plan's
 * stages executed one after the other on one run: the environment moved
 * to each stage's configuration (env_reach()), the stage's selected
 * suites run (runner.h), the results kept, and the failure localised
 * (diagnose.h). The command (cmd_test.c) prints, writes report.json and
 * decides between teardown and keeping a failed stage.
 *
 * Stages are exactly the plan's (plan_build()): the same order, the
 * same configurations, the same suites in each -- restricted to the
 * selected ones (--suite, --tag); a stage with nothing selected to run
 * is skipped, and the next one brings up what it needs (configurations
 * only grow). After a failing stage the later ones still run (more
 * evidence for the diagnosis) unless fail_fast or keep_on_failure; after
 * a stage that could not be brought up, or a service that died during
 * the suites, nothing more runs.
 */
#ifndef ORCH_TESTRUN_H
#define ORCH_TESTRUN_H

#include <stddef.h>
#include <stdint.h>

#include "diagnose.h"
#include "env.h"
#include "plan.h"
#include "runner.h"

struct engine;
struct evloop;
struct images;
struct manifest;
struct mask;

enum stage_status {
	STAGE_SKIPPED, /* nothing selected, or after a stop */
	STAGE_PASSED,  /* every suite passed (flaky ones too) */
	STAGE_FAILED,  /* a suite failed or timed out */
	STAGE_ERROR,   /* could not be brought up, or a service died */
	STAGE_INTERRUPTED,
};
const char *stage_status_name(enum stage_status s);

/* A service as it was when the stage's suites began. */
struct service_snap {
	char *name;
	enum plan_mode mode;
	enum env_state state;
	char *container_id, *container_name, *image, *image_id;
	int64_t started_ms, ready_ms, swapped_ms, swap_gap_ms;
	struct env_endpoint *endpoints;
	size_t nendpoints;
};

struct stage_result {
	enum stage_status status;
	int64_t start_ms, ready_ms, end_ms; /* -1: not reached */
	char *error;          /* bring-up failure or the death, or NULL */
	char *failed_service; /* the service that failed, or NULL */
	char *failure_logs;   /* its last log lines, or NULL */
	struct service_snap *services; /* manifest.nservices, or NULL */
	/* one per plan run of the stage (p->stages[s].runs[k]): selected
	   ones ran (or were skipped), the others never do */
	struct suite_run *runs;
	int *selected;
	size_t nruns;
};

struct test_opts {
	struct engine *e;
	const struct manifest *m;
	const char *project;
	enum strategy strategy;
	int middle;                  /* sandwich's; -1: the default */
	const struct strvec *suites; /* --suite names; empty: every suite */
	const struct strvec *tags;   /* --tag; empty: every suite */
	int jobs;
	int fail_fast;
	int keep_on_failure;     /* stop at the failing stage */
	const char *report_dir;  /* absolute; artifacts go below it */
	const struct mask *mask; /* masks what the report keeps */
	int64_t t0;              /* the run's clock zero (now_ms()) */
	int signal_fd;
	void (*on_stage)(void *ud, const struct plan *p, size_t stage,
	                 const struct stage_result *r, int begin);
	env_progress_fn on_service;
	void (*on_suite)(void *ud, const struct suite_run *r,
	                 enum runner_note what);
	void *ud;
};

struct test_run {
	struct plan *plan;
	struct evloop *loop;
	struct env *env;
	struct images *images;
	struct stage_result *stages; /* plan->nstages */
	int *selected;               /* per manifest suite */
	struct diagnosis diag;
	int failing_stage; /* the first failed or errored stage, or -1 */
	int interrupted;   /* the signal, or 0 */
	int exit_code;     /* 0, 1 (tests), 3 (environment), 130/143 */
	int64_t wall_start_ms, wall_end_ms; /* wall clock, epoch ms */
};

/*
 * Build the plan, select the suites and make the run (its event loop and
 * env, no I/O: env_run_id(tr->env) names it from here on).
 * ORCH_EINVALID for an unknown suite name, a selection that matches
 * nothing, or a manifest without suites (message saying what `test`
 * needs).
 */
int test_prepare(struct test_run *tr, const struct test_opts *o);
/*
 * Execute the stages. Returns the exit status (also in tr->exit_code).
 * The environment is left as it is: env_teardown() or env_keep() are
 * the caller's (tr->env).
 */
int test_execute(struct test_run *tr, const struct test_opts *o);
void test_run_release(struct test_run *tr);

/* Counts over every suite run: by status. */
struct test_counts {
	size_t passed, failed, flaky, timed_out, skipped;
};
void test_count(const struct test_run *tr, struct test_counts *c);

#endif
