/*
 * report_text.c: report.json as the console summary (report.h) -- the
 * lines `test` printed, from the document: what `orchestrate report DIR`
 * shows of a run that happened elsewhere. Plain text; every string from
 * the document is escaped (util.h, buf_add_escaped()), so a report
 * cannot move the cursor or rewrite the screen.
 */
#include <string.h>

#include "report_int.h"

/* lines of a failing suite's output shown, as on the console */
#define TAIL_LINES 20

static void esc(struct buf *out, const char *s)
{
	if (s)
		buf_add_escaped(out, s, strlen(s), 0);
}

/* s escaped, padded with spaces to width columns (bytes) */
static void esc_pad(struct buf *out, const char *s, int width)
{
	size_t before = out->len;

	esc(out, s);
	while ((int)(out->len - before) < width)
		buf_addch(out, ' ');
}

static const struct rd_list list_text = { esc, " ", ", ", " -> ", NULL };

/* The last lines of text, each as "    | line". */
static void tail(struct buf *out, const char *text, int lines)
{
	const char *end, *p;
	int n = 0;

	if (!text || !*text)
		return;
	end = text + strlen(text);
	while (end > text && end[-1] == '\n')
		end--;
	p = end;
	while (p > text && n < lines) {
		p--;
		if (*p == '\n')
			n++;
	}
	if (*p == '\n')
		p++;
	while (p < end) {
		size_t k = strcspn(p, "\n");

		if (p + k > end)
			k = (size_t)(end - p);
		buf_addstr(out, "    | ");
		buf_add_escaped(out, p, k, 0);
		buf_addch(out, '\n');
		p += k + 1;
	}
}

static int name_width(const cJSON *root)
{
	const cJSON *s, *st, *su;
	int w = 8;

	cJSON_ArrayForEach(s, rd_arr(root, "services"))
	{
		const char *n = rd_str(s, "name");

		if (n && (int)strlen(n) > w && strlen(n) < 40)
			w = (int)strlen(n);
	}
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			const char *n = rd_str(su, "name");

			if (n && (int)strlen(n) > w && strlen(n) < 40)
				w = (int)strlen(n);
		}
	}
	return w;
}

static void stage_text(struct buf *out, const cJSON *st, int i, int nstages,
                       int width)
{
	const cJSON *svc, *su, *err = rd_obj(st, "error");

	buf_addf(out, "stage %d/%d (", i + 1, nstages);
	esc(out, rd_str(st, "label"));
	buf_addstr(out, ") ");
	esc(out, rd_str(st, "status") ? rd_str(st, "status") : "?");
	buf_addch(out, ':');
	if (rd_count(rd_arr(st, "new_real"))) {
		buf_addstr(out, " real now");
		rd_names(out, rd_arr(st, "new_real"), &list_text);
		buf_addch(out, ';');
	}
	if (rd_count(rd_arr(st, "stubs"))) {
		buf_addstr(out, " stubs");
		rd_names(out, rd_arr(st, "stubs"), &list_text);
		buf_addch(out, ';');
	}
	if (rd_count(rd_arr(st, "new_edges"))) {
		buf_addstr(out, " new edges");
		rd_edges(out, rd_arr(st, "new_edges"), &list_text);
	}
	while (out->len && (out->data[out->len - 1] == ';' ||
	                    out->data[out->len - 1] == ':'))
		out->data[--out->len] = '\0';
	buf_addch(out, '\n');
	/* what came up in this stage */
	cJSON_ArrayForEach(svc, rd_arr(st, "services"))
	{
		const char *n = rd_str(svc, "name");
		int stub = rd_str(svc, "mode") &&
		           !strcmp(rd_str(svc, "mode"), "stub");
		double ready;

		if (!n || !(rd_has_name(rd_arr(st, "new_real"), n) ||
		            rd_has_name(rd_arr(st, "stubs_started"), n)))
			continue;
		buf_addstr(out, "  ");
		esc_pad(out, n, width);
		if (rd_num(svc, "ready_ms", &ready)) {
			buf_addstr(out, " ready    ");
			buf_addf(out, " %6.2fs", ready / 1000);
		} else {
			buf_addstr(out, " ");
			esc(out, rd_str(svc, "state"));
		}
		buf_addstr(out, stub ? " (stub)" : "");
		if (rd_num(svc, "swap_gap_ms", &ready))
			buf_addf(out,
			         ", swapped in for its stub (%.0f ms "
			         "without an answer)",
			         ready);
		buf_addch(out, '\n');
	}
	if (err) {
		buf_addstr(out, "  stage could not be brought up: ");
		esc(out, rd_str(err, "message"));
		buf_addch(out, '\n');
		tail(out, rd_str(err, "log_tail"), TAIL_LINES);
	}
	cJSON_ArrayForEach(su, rd_arr(st, "suites"))
	{
		const char *status = rd_str(su, "status");
		double ms;

		buf_addstr(out, "  ");
		esc_pad(out, rd_str(su, "name"), width);
		buf_addch(out, ' ');
		esc_pad(out, status ? status : "?", 9);
		if (rd_num(su, "duration_ms", &ms))
			buf_addf(out, " %6.2fs", ms / 1000);
		if (!rd_status_ok(status) && rd_str(su, "summary")) {
			buf_addstr(out, "  ");
			esc(out, rd_str(su, "summary"));
		}
		buf_addch(out, '\n');
		if (!rd_status_ok(status))
			tail(out, rd_str(su, "output_tail"), TAIL_LINES);
	}
}

static void git_text(struct buf *out, const cJSON *g)
{
	const char *commit = rd_str(g, "commit");
	const cJSON *f;
	int i = 0;

	if (!g)
		return;
	buf_addstr(out, "git: ");
	if (commit)
		buf_add_escaped(out, commit,
		                strlen(commit) > 12 ? 12 : strlen(commit), 0);
	else
		buf_addstr(out, "no commit");
	if (rd_str(g, "branch")) {
		buf_addstr(out, " on ");
		esc(out, rd_str(g, "branch"));
	}
	if (rd_true(g, "dirty")) {
		buf_addf(out, ", dirty (%.0f changed:",
		         rd_numd(g, "dirty_count", 0));
		cJSON_ArrayForEach(f, rd_arr(g, "dirty_files"))
		{
			if (!cJSON_IsString(f))
				continue;
			if (i++ == 5) {
				buf_addstr(out, " ...");
				break;
			}
			buf_addstr(out, i > 1 ? ", " : " ");
			esc(out, f->valuestring);
		}
		buf_addch(out, ')');
	}
	if (rd_str(g, "remote_url")) {
		buf_addstr(out, ", ");
		esc(out, rd_str(g, "remote"));
		buf_addch(out, ' ');
		esc(out, rd_str(g, "remote_url"));
	}
	buf_addch(out, '\n');
}

void report_render_text(const struct report_doc *d, struct buf *out)
{
	const cJSON *root = d->root, *st, *counts = rd_obj(root, "counts");
	const cJSON *diag = rd_obj(root, "diagnosis");
	int width = name_width(root), i = 0;
	int nstages = rd_count(rd_arr(root, "stages"));

	buf_addstr(out, "test: project '");
	esc(out, rd_str(root, "project"));
	buf_addstr(out, "', run ");
	esc(out, rd_str(root, "run_id"));
	buf_addstr(out, ", strategy ");
	esc(out, rd_str(root, "strategy"));
	buf_addf(out, ": %d stage%s, started ", nstages,
	         nstages == 1 ? "" : "s");
	esc(out, rd_str(root, "started_at"));
	buf_addch(out, '\n');
	git_text(out, rd_obj(root, "git"));
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		stage_text(out, st, i++, nstages, width);
	}
	buf_addstr(out, "test ");
	esc(out, report_result(d));
	buf_addf(out,
	         ": %.0f passed, %.0f failed, %.0f flaky, %.0f timed out, "
	         "%.0f skipped in ",
	         rd_numd(counts, "passed", 0), rd_numd(counts, "failed", 0),
	         rd_numd(counts, "flaky", 0), rd_numd(counts, "timed_out", 0),
	         rd_numd(counts, "skipped", 0));
	rd_seconds(out, rd_numd(root, "duration_ms", 0));
	buf_addch(out, '\n');
	if (rd_true(diag, "failed") && rd_str(diag, "summary")) {
		buf_addstr(out, "diagnosis: ");
		esc(out, rd_str(diag, "summary"));
		buf_addch(out, '\n');
	}
}
