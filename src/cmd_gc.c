/* cmd_gc.c: placeholder until the command lands. */
#include "cmd.h"
#include "error.h"

int cmd_gc(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return cmd_error(ORCH_EXIT_USAGE, "'gc' is not implemented yet");
}
