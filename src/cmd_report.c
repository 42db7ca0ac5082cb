/*
 * cmd_report.c: `orchestrate report [--format F] [DIR]` -- a run's
 * report.json rendered again: the console summary, or junit.xml,
 * report.html or the Markdown summary on standard output. The same
 * renderers `test` uses (report.h), so a report downloaded from CI reads
 * as the run did. Needs no manifest and no engine.
 */
#include <getopt.h>
#include <limits.h>
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

/*
 * LATEST in the current directory or the nearest parent that has it:
 * `test` writes beside the manifest, which it finds in the same places.
 * NULL: none up to the root.
 */
static char *find_latest(void)
{
	struct buf up = BUF_INIT; /* "", "../", "../../", ... */

	for (int i = 0; i < 64; i++) {
		char *f = xasprintf("%s%s", buf_cstr(&up), LATEST);
		char *dir = xasprintf("%s.", buf_cstr(&up));
		char *real;
		int top;

		if (!access(f, F_OK)) {
			free(dir);
			buf_release(&up);
			return f;
		}
		free(f);
		real = realpath(dir, NULL);
		top = !real || !strcmp(real, "/");
		free(real);
		free(dir);
		if (top)
			break;
		buf_addstr(&up, "../");
	}
	buf_release(&up);
	return NULL;
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
	const char *path;
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
	else
		path = found = find_latest();
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
