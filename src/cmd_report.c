/*
 * cmd_report.c: `orchestrate report [--format F] [DIR]` -- a run's
 * report.json rendered again: the console summary, or junit.xml,
 * report.html or the Markdown summary on standard output. The same
 * renderers `test` uses (report.h), so a report downloaded from CI reads
 * as the run did. Needs no manifest and no engine.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "error.h"
#include "report.h"
#include "util.h"

static const char usage[] =
        "usage: orchestrate report [--format text|junit|html|markdown] "
        "[DIR]\n";

/* what `test` links beside its default report directories */
#define LATEST ".orchestrate/runs/latest"

/* walk_up(): LATEST in directory up, into *ud */
static int find_latest(const char *up, void *ud)
{
	char *f = xasprintf("%s%s", up, LATEST);

	if (access(f, F_OK)) {
		free(f);
		return 0;
	}
	*(char **)ud = f;
	return 1;
}

int cmd_report(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const formats[] = { "text", "junit", "html",
		                               "markdown" };
	void (*render[])(const struct report_doc *, struct buf *) = {
		report_render_text,
		report_render_junit,
		report_render_html,
		report_render_markdown,
	};
	struct report_doc *doc = NULL;
	struct buf out = BUF_INIT;
	const char *path = NULL;
	char *found = NULL;
	int c, f = 0, rc = 0;

	(void)ctx;
	while ((c = getopt_long(argc, argv, "F:h", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			for (f = 0; f < 4 && strcmp(optarg, formats[f]); f++)
				;
			if (f == 4)
				return cmd_usage_error(
				        usage,
				        "unknown format '%s' (text, junit, "
				        "html or markdown)",
				        optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return ORCH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		path = argv[optind++];
	else if (walk_up(find_latest, &found))
		path = found; /* test writes it beside a manifest found up */
	if (!path)
		path = LATEST; /* the error names what was looked for */
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'",
		                       argv[optind]);
	if (report_doc_load(path, &doc)) {
		rc = cmd_error(ORCH_EXIT_USAGE, "%s", orch_error_last());
		goto out;
	}
	render[f](doc, &out);
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
out:
	report_doc_free(doc);
	buf_release(&out);
	free(found);
	return rc;
}
