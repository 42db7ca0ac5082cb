/*
 * cmd_graph.c: print the dependency graph as text, Graphviz dot or a
 * Mermaid flowchart; the rendering lives in graph_format.c.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "error.h"
#include "graph_format.h"
#include "util.h"

static const char usage[] =
        "usage: orchestrate graph [--format text|dot|mermaid]\n";

int cmd_graph(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum graph_format f = GRAPH_TEXT;
	struct buf out = BUF_INIT;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "F:h", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (graph_format_parse(optarg, &f))
				return cmd_usage_error(usage, "%s",
				                       orch_error_last());
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
		return cmd_usage_error(usage, "unexpected argument '%s'",
		                       argv[optind]);
	if (graph_render(ctx->manifest, f, &out)) {
		rc = cmd_error(ORCH_EXIT_USAGE, "%s", orch_error_last());
		goto out;
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
out:
	buf_release(&out);
	return rc;
}
