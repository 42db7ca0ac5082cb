/*
 * cmd_validate.c: check the manifest. main.c has already loaded and
 * validated it (CMD_NEEDS_MANIFEST); this adds what only planning finds
 * (an unknown strategy, a middle level out of range) by building the plan
 * of --strategy, else of the manifest's strategy:, and prints nothing on
 * success.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "error.h"
#include "plan.h"
#include "util.h"

static const char usage[] =
        "usage: orchestrate validate [--strategy S] [--middle N]\n";

int cmd_validate(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "middle", required_argument, NULL, 'm' },
		{ "strategy", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *strategy_opt = NULL;
	struct plan *p = NULL;
	int middle = -1, c;

	while ((c = getopt_long(argc, argv, "hm:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'm':
			if (cmd_parse_middle(usage, optarg, &middle))
				return ORCH_EXIT_USAGE;
			break;
		case 's':
			strategy_opt = optarg;
			break;
		default:
			fputs(usage, stderr);
			return ORCH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'",
		                       argv[optind]);
	if (cmd_make_plan(ctx, strategy_opt, middle, &p))
		return ORCH_EXIT_USAGE;
	plan_free(p);
	return 0;
}
