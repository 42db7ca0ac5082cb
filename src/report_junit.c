/*
 * report_junit.c: report.json as junit.xml (report.h), the JUnit XML
 * that Jenkins and GitLab read, valid against the xunit plugin's
 * junit-10.xsd (tests/junit/). Elements and attributes are the schema's
 * only; every string goes through xml.h, so no suite output can break
 * the file.
 *
 *   testsuites                       the run
 *     testsuite "stage K/N: label"   one per stage, its configuration as
 *                                    properties
 *       testcase SUITE               one per suite run: failure (the
 *                                    last attempt, its output),
 *                                    rerunFailure / flakyFailure for
 *                                    the attempts before, skipped
 *       testcase "environment"       a stage that could not be brought
 *                                    up, or whose service died: error
 *                                    with the service's log tail
 *       testsuite "SUITE / NAME"     the suite's own JUnit results
 */
#include <string.h>

#include "report_int.h"
#include "xml.h"

static void attr(struct buf *out, const char *name, const char *value)
{
	buf_addf(out, " %s=\"", name);
	xml_add_attrz(out, value ? value : "");
	buf_addch(out, '"');
}

static void attr_num(struct buf *out, const char *name, double v)
{
	buf_addf(out, " %s=\"%.0f\"", name, v);
}

/* seconds as the schema's SUREFIRE_TIME: digits, a point, digits */
static void attr_time(struct buf *out, const char *name, double ms)
{
	if (ms != ms || ms < 0 || ms > 1e13)
		ms = 0;
	buf_addf(out, " %s=\"%.3f\"", name, ms / 1000);
}

static void property(struct buf *out, const char *name, const char *value)
{
	buf_addstr(out, "      <property");
	attr(out, "name", name);
	attr(out, "value", value);
	buf_addstr(out, "/>\n");
}

/* plain text: property() escapes the value */
static void plain(struct buf *out, const char *s)
{
	buf_addstr(out, s);
}

static const struct rd_list names_prop = { plain, "", " ", NULL, NULL };
static const struct rd_list edges_prop = { plain, "", ", ", " -> ", NULL };

static void properties(struct buf *out, const cJSON *root, const cJSON *st)
{
	struct buf b = BUF_INIT;
	const cJSON *g = rd_obj(root, "git");

	buf_addstr(out, "    <properties>\n");
	property(out, "run_id", rd_str(root, "run_id"));
	property(out, "project", rd_str(root, "project"));
	property(out, "strategy", rd_str(root, "strategy"));
	if (rd_str(root, "engine"))
		property(out, "engine", rd_str(root, "engine"));
	if (g && rd_str(g, "commit"))
		property(out, "git.commit", rd_str(g, "commit"));
	if (g && rd_str(g, "branch"))
		property(out, "git.branch", rd_str(g, "branch"));
	if (g)
		property(out, "git.dirty",
		         rd_true(g, "dirty") ? "true" : "false");
	property(out, "status", rd_str(st, "status"));
	rd_names(&b, rd_arr(st, "real"), &names_prop);
	property(out, "real", buf_cstr(&b));
	buf_reset(&b);
	rd_names(&b, rd_arr(st, "stubs"), &names_prop);
	property(out, "stubs", buf_cstr(&b));
	buf_reset(&b);
	rd_edges(&b, rd_arr(st, "new_edges"), &edges_prop);
	property(out, "new_edges", buf_cstr(&b));
	buf_release(&b);
	buf_addstr(out, "    </properties>\n");
}

/* "attempt N: exited 1" */
static void attempt_message(struct buf *b, const cJSON *a, int n)
{
	double code;

	buf_reset(b);
	buf_addf(b, "attempt %d: ", n);
	if (rd_str(a, "error"))
		buf_addstr(b, rd_str(a, "error"));
	else if (rd_true(a, "timed_out"))
		buf_addstr(b, "timed out");
	else if (rd_num(a, "exit_code", &code))
		buf_addf(b, "exited %.0f", code);
	else
		buf_addstr(b, "failed");
}

static void suite_case(struct buf *out, const cJSON *su, int stage)
{
	const char *status = rd_str(su, "status");
	const char *output = rd_str(su, "output_tail");
	const cJSON *attempts = rd_arr(su, "attempts"), *a;
	int n = rd_count(attempts), i = 0;
	int ok = rd_status_ok(status);
	struct buf msg = BUF_INIT;

	buf_addstr(out, "    <testcase");
	attr(out, "name", rd_str(su, "name"));
	buf_addf(out, " classname=\"stage%d\"", stage + 1);
	attr_time(out, "time", rd_numd(su, "duration_ms", 0));
	buf_addstr(out, ">\n");
	if (status && !strcmp(status, "skipped")) {
		buf_addstr(out, "      <skipped");
		attr(out, "message",
		     rd_str(su, "summary") ? rd_str(su, "summary") : "not run");
		buf_addstr(out, "/>\n");
	} else if (!ok) {
		buf_addstr(out, "      <failure");
		attr(out, "type", status ? status : "failed");
		attr(out, "message", rd_str(su, "summary"));
		buf_addstr(out, ">");
		xml_add_textz(out, output);
		buf_addstr(out, "</failure>\n");
	}
	/* the attempts before the last: reruns the way surefire marks them */
	cJSON_ArrayForEach(a, attempts)
	{
		if (++i >= n)
			break;
		attempt_message(&msg, a, i);
		buf_addstr(out,
		           ok ? "      <flakyFailure" : "      <rerunFailure");
		attr(out, "type",
		     rd_true(a, "timed_out") ? "timed out" : "failed");
		attr(out, "message", buf_cstr(&msg));
		buf_addstr(out, "/>\n");
	}
	if (ok && output && *output) {
		buf_addstr(out, "      <system-out>");
		xml_add_textz(out, output);
		buf_addstr(out, "</system-out>\n");
	}
	buf_addstr(out, "    </testcase>\n");
	buf_release(&msg);
}

/* A stage that could not be brought up, or whose service died. */
static void environment_case(struct buf *out, const cJSON *err, int stage)
{
	struct buf name = BUF_INIT;

	buf_addstr(&name, "environment");
	if (rd_str(err, "service"))
		buf_addf(&name, ": service '%s'", rd_str(err, "service"));
	buf_addstr(out, "    <testcase");
	attr(out, "name", buf_cstr(&name));
	buf_addf(out, " classname=\"stage%d\" time=\"0\">\n", stage + 1);
	buf_addstr(out, "      <error type=\"environment\"");
	attr(out, "message", rd_str(err, "message"));
	buf_addstr(out, ">");
	xml_add_textz(out, rd_str(err, "log_tail"));
	buf_addstr(out, "</error>\n    </testcase>\n");
	buf_release(&name);
}

/* The suite's own JUnit results, each of its testsuites inside ours. */
static void merged(struct buf *out, const cJSON *su)
{
	const cJSON *file, *ts, *tc;

	cJSON_ArrayForEach(file, rd_arr(su, "junit"))
	{
		cJSON_ArrayForEach(ts, rd_arr(file, "suites"))
		{
			double fails = 0, errors = 0, skipped = 0, t;
			struct buf name = BUF_INIT;

			cJSON_ArrayForEach(tc, rd_arr(ts, "cases"))
			{
				const char *s = rd_str(tc, "status");

				fails += s && !strcmp(s, "failed");
				errors += s && !strcmp(s, "error");
				skipped += s && !strcmp(s, "skipped");
			}
			buf_addf(&name, "%s / %s",
			         rd_str(su, "name") ? rd_str(su, "name") : "?",
			         rd_str(ts, "name") ? rd_str(ts, "name")
			                            : "(unnamed)");
			buf_addstr(out, "    <testsuite");
			attr(out, "name", buf_cstr(&name));
			attr_num(out, "tests", rd_count(rd_arr(ts, "cases")));
			attr_num(out, "failures", fails);
			attr_num(out, "errors", errors);
			attr_num(out, "skipped", skipped);
			if (rd_num(ts, "time", &t))
				attr_time(out, "time", t * 1000);
			attr(out, "file", rd_str(file, "file"));
			buf_addstr(out, ">\n");
			cJSON_ArrayForEach(tc, rd_arr(ts, "cases"))
			{
				const char *s = rd_str(tc, "status");
				const char *el =
				        !s                      ? NULL
				        : !strcmp(s, "failed")  ? "failure"
				        : !strcmp(s, "error")   ? "error"
				        : !strcmp(s, "skipped") ? "skipped"
				                                : NULL;

				buf_addstr(out, "      <testcase");
				attr(out, "name", rd_str(tc, "name"));
				if (rd_str(tc, "classname"))
					attr(out, "classname",
					     rd_str(tc, "classname"));
				if (rd_num(tc, "time", &t))
					attr_time(out, "time", t * 1000);
				if (!el) {
					buf_addstr(out, "/>\n");
					continue;
				}
				buf_addf(out, ">\n        <%s", el);
				if (rd_str(tc, "type"))
					attr(out, "type", rd_str(tc, "type"));
				if (rd_str(tc, "message"))
					attr(out, "message",
					     rd_str(tc, "message"));
				buf_addstr(out, ">");
				xml_add_textz(out, rd_str(tc, "text"));
				buf_addf(out, "</%s>\n      </testcase>\n", el);
			}
			buf_addstr(out, "    </testsuite>\n");
			buf_release(&name);
		}
	}
}

void report_render_junit(const struct report_doc *d, struct buf *out)
{
	const cJSON *root = d->root, *st, *su;
	const cJSON *stages = rd_arr(root, "stages");
	int nstages = rd_count(stages), k = 0;
	double tests = 0, failures = 0, errors = 0;
	struct buf name = BUF_INIT, body = BUF_INIT;

	cJSON_ArrayForEach(st, stages)
	{
		double t = 0, f = 0, e = 0, s = 0;
		const cJSON *err = rd_obj(st, "error");

		buf_reset(&name);
		buf_addf(&name, "stage %d/%d: %s", k + 1, nstages,
		         rd_str(st, "label") ? rd_str(st, "label") : "");
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			const char *status = rd_str(su, "status");

			t++;
			s += status && !strcmp(status, "skipped");
			f += !rd_status_ok(status) &&
			     !(status && !strcmp(status, "skipped"));
		}
		if (err) {
			t++;
			e++;
		}
		buf_addstr(&body, "  <testsuite");
		attr(&body, "name", buf_cstr(&name));
		attr_num(&body, "tests", t);
		attr_num(&body, "failures", f);
		attr_num(&body, "errors", e);
		attr_num(&body, "skipped", s);
		attr_time(&body, "time",
		          rd_numd(st, "ended_ms", 0) -
		                  rd_numd(st, "started_ms", 0));
		buf_addf(&body, " id=\"%d\">\n", k);
		properties(&body, root, st);
		if (err)
			environment_case(&body, err, k);
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			suite_case(&body, su, k);
			merged(&body, su);
		}
		buf_addstr(&body, "  </testsuite>\n");
		tests += t;
		failures += f;
		errors += e;
		k++;
	}
	buf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_reset(&name);
	buf_addf(&name, "orchestrate test %s (%s)",
	         rd_str(root, "project") ? rd_str(root, "project") : "",
	         rd_str(root, "strategy") ? rd_str(root, "strategy") : "");
	buf_addstr(out, "<testsuites");
	attr(out, "name", buf_cstr(&name));
	attr_num(out, "tests", tests);
	attr_num(out, "failures", failures);
	attr_num(out, "errors", errors);
	attr_time(out, "time", rd_numd(root, "duration_ms", 0));
	buf_addstr(out, ">\n");
	buf_add(out, buf_cstr(&body), body.len);
	buf_addstr(out, "</testsuites>\n");
	buf_release(&name);
	buf_release(&body);
}
