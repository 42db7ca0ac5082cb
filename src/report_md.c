/*
 * report_md.c: report.json as a short Markdown summary (report.h), the
 * kind GitHub Actions shows on a run's page when it is appended to
 * $GITHUB_STEP_SUMMARY: the result per stage, the failing suites, the
 * diagnosis. Strings from the document are cleaned (xml.h: no control
 * characters, valid UTF-8), kept on one line, and every character
 * Markdown or the HTML GitHub allows in it would read is escaped, so a
 * suite's name or message cannot add a link, an image or a table cell.
 */
#include <string.h>

#include "report_int.h"
#include "xml.h"

/* the longest message kept on one line */
#define MD_MAX_TEXT 300

static void md(struct buf *out, const char *s)
{
	struct buf clean = BUF_INIT;
	size_t n;

	if (!s)
		return;
	xml_clean(&clean, s, strlen(s));
	n = clean.len > MD_MAX_TEXT ? MD_MAX_TEXT : clean.len;
	/* not in the middle of a character */
	while (n < clean.len && n &&
	       ((unsigned char)clean.data[n] & 0xc0) == 0x80)
		n--;
	for (size_t i = 0; i < n; i++) {
		char c = clean.data[i];

		if (c == '\n' || c == '\t')
			buf_addch(out, ' ');
		else if (c == '<')
			buf_addstr(out, "&lt;");
		else if (c == '>')
			buf_addstr(out, "&gt;");
		else if (c == '&')
			buf_addstr(out, "&amp;");
		else if (strchr("\\`*_[]!|~#@", c))
			buf_addf(out, "\\%c", c);
		else
			buf_addch(out, c);
	}
	if (n < clean.len)
		buf_addstr(out, "\xe2\x80\xa6");
	buf_release(&clean);
}

static const struct rd_list list_md = { md, "", ", ", " \xe2\x86\x92 ", NULL };

void report_render_markdown(const struct report_doc *d, struct buf *out)
{
	const cJSON *root = d->root, *st, *su,
	            *diag = rd_obj(root, "diagnosis");
	const cJSON *c = rd_obj(root, "counts"), *g = rd_obj(root, "git");
	const char *result = report_result(d);
	int k = 0, failing = 0;

	buf_addstr(out, !strcmp(result, "passed") ? "### \xe2\x9c\x85 "
	                                          : "### \xe2\x9d\x8c ");
	buf_addstr(out, "orchestrate test ");
	md(out, result);
	buf_addstr(out, ": ");
	md(out, rd_str(root, "project"));
	buf_addstr(out, " (");
	md(out, rd_str(root, "strategy"));
	buf_addstr(out, ")\n\n| stage | configuration | result | suites |\n"
	                "|---|---|---|---|\n");
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		int passed = 0, failed = 0, other = 0;

		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			const char *s = rd_str(su, "status");

			if (rd_status_ok(s))
				passed++;
			else if (s && !strcmp(s, "skipped"))
				other++;
			else
				failed++;
		}
		buf_addf(out, "| %d | ", ++k);
		md(out, rd_str(st, "label"));
		buf_addstr(out, " | ");
		if (!rd_status_ok(rd_str(st, "status")) &&
		    strcmp(rd_str(st, "status") ? rd_str(st, "status") : "",
		           "skipped")) {
			buf_addstr(out, "**");
			md(out, rd_str(st, "status"));
			buf_addstr(out, "**");
		} else {
			md(out, rd_str(st, "status"));
		}
		buf_addf(out, " | %d passed, %d failed, %d skipped |\n", passed,
		         failed, other);
	}
	k = 0;
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		const cJSON *err = rd_obj(st, "error");

		k++;
		if (err) {
			if (!failing++)
				buf_addstr(out, "\n**Failures**\n\n");
			buf_addf(out, "- stage %d: ", k);
			md(out, rd_str(err, "message"));
			buf_addch(out, '\n');
		}
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			const char *s = rd_str(su, "status");

			if (rd_status_ok(s) || (s && !strcmp(s, "skipped")))
				continue;
			if (!failing++)
				buf_addstr(out, "\n**Failures**\n\n");
			buf_addstr(out, "- **");
			md(out, rd_str(su, "name"));
			buf_addf(out, "** in stage %d: ", k);
			md(out,
			   rd_str(su, "summary") ? rd_str(su, "summary") : s);
			buf_addch(out, '\n');
		}
	}
	if (rd_true(diag, "failed")) {
		buf_addstr(out, "\n**Diagnosis:** ");
		md(out, rd_str(diag, "summary"));
		if (rd_count(rd_arr(diag, "suspects"))) {
			buf_addstr(out, "\n\n**Suspect:** ");
			rd_edges(out, rd_arr(diag, "suspects"), &list_md);
		}
		buf_addch(out, '\n');
	}
	buf_addf(out,
	         "\n%.0f passed, %.0f failed, %.0f flaky, %.0f timed out, "
	         "%.0f skipped in ",
	         rd_numd(c, "passed", 0), rd_numd(c, "failed", 0),
	         rd_numd(c, "flaky", 0), rd_numd(c, "timed_out", 0),
	         rd_numd(c, "skipped", 0));
	rd_seconds(out, rd_numd(root, "duration_ms", 0));
	buf_addstr(out, " \xc2\xb7 run ");
	md(out, rd_str(root, "run_id"));
	if (g && rd_str(g, "commit")) {
		buf_addstr(out, " \xc2\xb7 commit ");
		md(out, rd_str(g, "commit"));
		if (rd_true(g, "dirty"))
			buf_addstr(out, " (dirty)");
	}
	buf_addstr(out, "\n\n");
}
