/*
 * runner.h: running a stage's test suites against the environment, on
 * the run's one event loop, while env keeps watching the services.
 *
 * A suite runs
 *   - in a container on the environment's network (`image:` or `build:`),
 *     reaching services by their names, or
 *   - on the host (`host: true`), in its own process group, its argv run
 *     without a shell, reaching services through their published ports;
 * both with the environment of the manifest and these variables:
 *   ORCH_PROJECT, ORCH_RUN_ID, ORCH_STRATEGY, ORCH_STAGE (from 1),
 *   ORCH_STUBS (the services that are stubs now, space-separated),
 *   ORCH_SUITE, ORCH_ATTEMPT (from 1), and per service and published
 *   port ORCH_<SERVICE>_HOST and ORCH_<SERVICE>_PORT_<N> (names upper-
 *   cased, '-' and '.' as '_'): 127.0.0.1 and the host port for a host
 *   suite, the service's name and N itself in a container.
 *
 * An attempt ends when the command exits (0: passed), when its timeout
 * passes (the container or process group is killed: timed out), or when
 * a service of the environment dies or turns unhealthy meanwhile (failed,
 * saying so). A failed attempt is run again up to `retries` times; one
 * that passes after a failure makes the suite flaky. Output of both
 * streams is kept per suite (its last RUNNER_OUTPUT_CAP bytes); the
 * artifacts are copied into the report directory when the attempt ends
 * (artifacts.h: nothing escapes it, symlinks are not followed).
 *
 * Up to `jobs` suites run at once; the suites of one stage are
 * independent by definition (docs/strategies.md).
 */
#ifndef ORCH_RUNNER_H
#define ORCH_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "artifacts.h"
#include "util.h"

#define RUNNER_OUTPUT_CAP (1u << 20)

struct engine;
struct env;
struct evloop;
struct images;
struct manifest;
struct mask;

enum suite_status {
	SUITE_PENDING,
	SUITE_RUNNING,
	SUITE_PASSED,
	SUITE_FAILED,
	SUITE_FLAKY,     /* failed, then passed on a retry */
	SUITE_TIMED_OUT, /* its last attempt hit the timeout */
	SUITE_SKIPPED,   /* not run: the stage could not be brought up */
};
/* "passed", "failed", "flaky", "timed out", "skipped", ... */
const char *suite_status_name(enum suite_status s);
/* Did it pass (passed or flaky)? */
int suite_status_ok(enum suite_status s);

struct suite_attempt {
	int exit_code; /* -1: no exit status (timed out, could not run) */
	int timed_out;
	int64_t start_ms, end_ms; /* the run's clock */
	char *error; /* why it could not run or was stopped, or NULL */
};

/* One suite in one stage. */
struct suite_run {
	size_t suite; /* index into manifest.suites */
	size_t stage; /* index into the plan's stages */
	enum suite_status status;
	struct suite_attempt *attempts;
	size_t nattempts;
	struct buf output;     /* of its last attempt, the last bytes */
	size_t output_dropped; /* bytes dropped before them */
	char *artifact_dir;    /* relative to the report directory, or NULL */
	struct artifact_list artifacts;
	int64_t start_ms, end_ms;
	char *summary; /* "exited 1", "timed out after 2m", ... */
};
void suite_run_release(struct suite_run *r);

enum runner_note {
	RUNNER_NOTE_STARTED,  /* an attempt began */
	RUNNER_NOTE_RETRYING, /* an attempt failed; another comes */
	RUNNER_NOTE_ENDED,    /* the suite has its status */
};

struct runner_opts {
	struct engine *e;
	struct evloop *loop;
	struct env *env;
	const struct manifest *m;
	struct images *images; /* the suites' (runner_want_images()) */
	const char *project;
	const char *report_dir;  /* absolute; artifacts under artifacts/,
	                           each suite's output as logs/suite-...log */
	const struct mask *mask; /* for the logs */
	const char *strategy;
	int jobs;      /* suites at once, >= 1 */
	int signal_fd; /* readable: stop (ORCH_EINTR); -1: none */
	void (*progress)(void *ud, const struct suite_run *r,
	                 enum runner_note what);
	void *ud;
};

/* Start building or inspecting the images of container suites. */
void runner_want_images(struct images *im, const struct manifest *m,
                        const char *project, const size_t *suites, size_t n);

/*
 * Run runs[0..n) (one stage; their suite and stage set, the rest zero)
 * until each has a status. stage_no counts from 1; stubs names the
 * services that are stubs now. Returns 0 when every suite ran (whatever
 * its result), ORCH_EINTR when signal_fd became readable, or the env's
 * failure (env_step() < 0: a service died or turned unhealthy, its
 * message recorded): then the suites still running were stopped and
 * failed with that reason, and those not started are skipped.
 */
int runner_run(const struct runner_opts *o, struct suite_run *runs, size_t n,
               int stage_no, const char *stubs);

#endif
