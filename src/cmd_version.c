/*
 * cmd_version.c: `orchestrate version`: the client's version, the
 * engine's version and API version, and the API version negotiated.
 *
 * It connects by itself (flags 0 in main.c's table) so that it can say
 * which address it tried; it changes nothing on the engine.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "engine_ops.h"
#include "error.h"
#include "version.h"

static const char usage[] = "usage: orchestrate version\n";

int cmd_version(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct engine_version v = { 0 };
	int rc;

	if (argc > 1) {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			fputs(usage, stdout);
			return ORCH_EXIT_OK;
		}
		return cmd_usage_error(usage, "unexpected argument '%s'",
		                       argv[1]);
	}
	printf("client:      orchestrate %s\n", ORCH_VERSION);
	fflush(stdout);
	rc = cmd_connect_engine(ctx);
	if (rc)
		return rc;
	rc = engine_version(ctx->engine, &v);
	if (rc)
		return cmd_error(cmd_exit_for(rc), "%s", orch_error_last());
	/* the engine's words: escaped like any message (cmd.h) */
	cmd_line("engine:      %s%s (%s/%s) at %s",
	         v.version ? v.version : "unknown",
	         v.is_podman ? " (podman)" : "", v.os ? v.os : "?",
	         v.arch ? v.arch : "?", engine_address(ctx->engine));
	cmd_line("engine API:  %s (minimum %s)",
	         v.api_version ? v.api_version : "unknown",
	         v.min_api_version ? v.min_api_version : "unknown");
	cmd_line("API in use:  %s", engine_api_version(ctx->engine));
	engine_version_release(&v);
	return ORCH_EXIT_OK;
}
