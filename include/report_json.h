/*
 * report_json.h: a test run as report.json, the document the reports
 * and other tools read (docs/report.md describes it field by field). All
 * times are ms on the run's clock (since it began) unless named *_at (RFC
 * 3339, wall clock). Strings that came from suites or services (output,
 * log lines, errors) are masked with the run's mask first.
 *
 * Besides the run it records the suites' own JUnit files: every artifact
 * named *.xml whose document is a JUnit testsuite(s), read from the report
 * directory (xml.h: bounded), so that the renderers (report.h) need
 * nothing but the document.
 */
#ifndef ORCH_REPORT_JSON_H
#define ORCH_REPORT_JSON_H

#include "util.h"

struct git_state;
struct manifest;
struct mask;
struct test_run;

/* What the report says about the run beyond what test_run holds. */
struct report_info {
	const char *project;
	const char *run_id;
	const char *manifest;   /* as given */
	const char *engine;     /* "20.10.24+dfsg1 (API 1.41)", or NULL */
	const char *report_dir; /* absolute */
	int kept;               /* the environment was kept (keep-on-failure) */
	const struct mask *mask;
	const struct git_state *git; /* the manifest's repository, or NULL */
};

/* A suite's JUnit files: at most this many test cases in all. */
#define REPORT_JUNIT_MAX_CASES 2000

/* The version of the document's structure. */
#define REPORT_JSON_VERSION 1

/* Append the document (indented, ending in a newline) to out. */
void report_json(const struct manifest *m, const struct test_run *tr,
                 const struct report_info *info, struct buf *out);

#endif
