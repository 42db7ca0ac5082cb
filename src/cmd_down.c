/*
 * cmd_down.c: `orchestrate down [--project P]` removes every object of a
 * project -- every run, kept or not -- from labels alone. The manifest is
 * only a way to name the project; without one, -p or --project does.
 *
 * --rmi also removes the images the project built (teardown_images()):
 * built images are otherwise kept as the build cache, as Compose keeps
 * them unless `down --rmi local`.
 *
 * It prints one summary line, is idempotent ("nothing to remove", exit
 * 0), exits 4 naming what it could not remove and 3 when the engine does
 * not answer, since then nothing about the cleanup is known.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "engine_ops.h"
#include "error.h"
#include "labels.h"
#include "teardown.h"
#include "util.h"

static const char down_usage[] =
        "usage: orchestrate down [--project P] [--rmi]\n";

/*
 * The engine, connected here when main.c did not: an unreachable engine
 * then says that the cleanup is not verified.
 */
static int connect_for(struct cmd_ctx *ctx, const char *what)
{
	int rc = cmd_open_engine(ctx);

	if (rc)
		return cmd_error(
		        rc == ORCH_EINVALID ? ORCH_EXIT_USAGE : ORCH_EXIT_ENV,
		        "%s; %s NOT verified", orch_error_last(), what);
	return 0;
}

int cmd_down(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "project", required_argument, NULL, 'p' },
		{ "rmi", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct teardown_opts o = { 0 };
	struct teardown_stats st = { 0 };
	struct buf summary = BUF_INIT;
	const char *project = ctx->project, *from = NULL;
	int c, rc, rmi = 0, code = ORCH_EXIT_OK;

	while ((c = getopt_long(argc, argv, "hp:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(down_usage, stdout);
			return ORCH_EXIT_OK;
		case 'p':
			project = optarg;
			from = "--project";
			break;
		case 'r':
			rmi = 1;
			break;
		default:
			fputs(down_usage, stderr);
			return ORCH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(down_usage, "unexpected argument '%s'",
		                       argv[optind]);
	if (!project || !*project)
		return cmd_usage_error(down_usage,
		                       "no project: give --project P, -p P or "
		                       "ORCHESTRATE_PROJECT, or run where the "
		                       "manifest is");
	/* the name becomes a label filter: checked as -p is (main.c) */
	if (from && project_name_check(project, from))
		return cmd_usage_error(down_usage, "%s", orch_error_last());
	code = connect_for(ctx, "cleanup");
	if (code)
		return code;

	o.project = project;
	rc = teardown_run(ctx->engine, &o, &st);
	/* the images once their containers are gone */
	if (rc == 0 && rmi)
		rc = teardown_images(ctx->engine, project, &st);
	teardown_stats_format(&summary, &st);
	if (rc == 0) {
		if (summary.len)
			printf("removed %s\n", buf_cstr(&summary));
		else
			printf("nothing to remove\n");
	} else if (st.failed && rc != ORCH_EUNREACHABLE) {
		if (summary.len)
			printf("removed %s\n", buf_cstr(&summary));
		code = cmd_error(ORCH_EXIT_TEARDOWN, "%s", orch_error_last());
	} else {
		if (summary.len)
			printf("removed %s\n", buf_cstr(&summary));
		/* the failed objects' message names the project already */
		code = cmd_error(
		        rc == ORCH_EINVALID ? ORCH_EXIT_USAGE : ORCH_EXIT_ENV,
		        "%s%s%s%s; cleanup NOT verified",
		        st.failed ? "" : "project '", st.failed ? "" : project,
		        st.failed ? "" : "': ", orch_error_last());
	}
	if (st.images_kept)
		printf("kept %zu image%s a container uses\n", st.images_kept,
		       st.images_kept == 1 ? "" : "s");
	buf_release(&summary);
	return code;
}
