/*
 * report.h: the reports people and CI read, rendered from report.json --
 * the console summary, junit.xml, report.html and the Markdown summary
 * GitHub Actions shows (docs/report.md). `test` writes report.json
 * (report_json.h), parses it back and renders the rest from it;
 * `orchestrate report DIR` does the same with a report.json from
 * anywhere, a CI artifact downloaded say. One code path, so what a
 * downloaded report shows is what the run showed.
 *
 * Renderers trust nothing in the document: a field missing or of the
 * wrong type reads as absent, every string is escaped for where it goes
 * (terminal, XML, HTML, Markdown), and what they write is bounded by
 * what the document holds. The document's strings were masked when
 * report.json was written; renderers add no text of their own from
 * elsewhere.
 *
 *   struct report_doc *d;
 *   report_doc_load("DIR", &d);          or report_doc_parse()
 *   report_render_html(d, &buf);  ...
 *   report_doc_free(d);
 */
#ifndef ORCH_REPORT_H
#define ORCH_REPORT_H

#include <stddef.h>

#include "util.h"

struct report_doc;

/* report.json read at most */
#define REPORT_MAX_SIZE (64u << 20)

/*
 * Parse a report.json document. origin names it in messages.
 * ORCH_EINVALID ("ORIGIN: not a report.json: ...") for what is not JSON,
 * not an object, or has no version 1, stages and services.
 */
int report_doc_parse(const char *text, size_t len, const char *origin,
                     struct report_doc **out);
/* The same from a file, or from DIR/report.json when path is a directory. */
int report_doc_load(const char *path, struct report_doc **out);
/* Accepts NULL. */
void report_doc_free(struct report_doc *d);

/* The run's result: "passed", "failed", "error", "interrupted". */
const char *report_result(const struct report_doc *d);

/*
 * The console summary: the stages with what came up and each suite's
 * result, the failing suites' output, the counts, the diagnosis, the git
 * state. Plain lines, control characters escaped.
 */
void report_render_text(const struct report_doc *d, struct buf *out);
/*
 * junit.xml: one testsuite per stage, one testcase per suite run (a
 * flaky one with a flakyFailure per failed attempt, a failed one retried
 * with rerunFailure), a stage that could not be brought up as an error
 * with the service's log tail, the suites' own JUnit files as testsuites
 * inside their stage's. Valid against tests/junit/junit-10.xsd.
 */
void report_render_junit(const struct report_doc *d, struct buf *out);
/*
 * report.html: one self-contained page -- inline CSS and SVG, no script,
 * nothing fetched (its Content-Security-Policy forbids it): the
 * diagnosis, the dependency graph with each edge coloured by the suites
 * that integrated it and the suspect edges marked, a timeline of
 * bring-up, swaps, stages and suites, the stages with each suite and the
 * failing ones' output, the services and the git state.
 */
void report_render_html(const struct report_doc *d, struct buf *out);
/* A short Markdown summary: result per stage, failing suites, diagnosis. */
void report_render_markdown(const struct report_doc *d, struct buf *out);

/*
 * The report directory's files from json, the text report_json() made:
 * report.json as it is, then junit.xml and report.html rendered from it,
 * each through a temporary file renamed in place (util.h,
 * write_file_atomic()). Stops at the first that cannot be written, with
 * its message.
 */
int report_write_files(const char *dir, const char *json, size_t len);
/*
 * Append the Markdown summary of json to path (GitHub's
 * $GITHUB_STEP_SUMMARY): one write, after what is there.
 */
int report_append_markdown(const char *path, const char *json, size_t len);

#endif
