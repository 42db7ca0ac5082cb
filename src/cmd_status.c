/* cmd_status.c: placeholder until the command lands. */
#include "cmd.h"
#include "error.h"

int cmd_status(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	return cmd_error(ORCH_EXIT_USAGE, "'status' is not implemented yet");
}
