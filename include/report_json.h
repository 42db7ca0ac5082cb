/*
 * report_json.h: a test run as report.json, the document the reports
 * and other tools read (docs/report.md describes it field by field). All
 * times are ms on the run's clock (since it began) unless named *_at (RFC
 * 3339, wall clock). Strings that came from suites or services (output,
 * log lines, errors) are masked with the run's mask first.
 */
#ifndef ORCH_REPORT_JSON_H
#define ORCH_REPORT_JSON_H

#include "util.h"

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
};

/* The version of the document's structure. */
#define REPORT_JSON_VERSION 1

/* Append the document (indented, ending in a newline) to out. */
void report_json(const struct manifest *m, const struct test_run *tr,
                 const struct report_info *info, struct buf *out);

#endif
