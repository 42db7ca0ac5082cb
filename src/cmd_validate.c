/*
 * cmd_validate.c: check the manifest. main.c has already loaded and
 * validated it (CMD_NEEDS_MANIFEST); this adds the strategy check and
 * prints nothing on success.
 */
#include <getopt.h>
#include <string.h>

#include "cmd.h"
#include "error.h"

#define COMMAND_NAME "validate"

static const char usage[] = "usage: orchestrate validate [--strategy S]\n";

static const char *const strategies[] = { "big-bang", "incremental",
	                                  "bottom-up", "top-down", "sandwich" };

int cmd_validate(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "strategy", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *strategy = NULL;
	size_t i;
	int c;

	(void)ctx;
	while ((c = getopt_long(argc, argv, "hs:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 's':
			strategy = optarg;
			break;
		default:
			fputs(usage, stderr);
			return ORCH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(usage, "unexpected argument '%s'",
		                       argv[optind]);
	if (!strategy)
		return 0;
	for (i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
		if (!strcmp(strategy, strategies[i]))
			return 0;
	return cmd_usage_error(usage, "unknown strategy '%s'", strategy);
}
