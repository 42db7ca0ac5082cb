/*
 * cmd_gc.c: `orchestrate gc [--project P] [--all] [--force]` removes the
 * runs that crashed or killed processes left behind: runs whose owner
 * process (the owner labels: host, PID namespace, boot, pid, start time)
 * is gone and that were not kept on purpose. --all also removes kept runs
 * (an `up` that succeeded and exited) whose owner is gone. A run whose
 * owner cannot be checked from here -- another host, another PID
 * namespace, another boot, labels of an older version -- is listed and
 * left alone unless --force. A run whose owner is alive is never touched;
 * `down` is the command for removing a project unconditionally.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "engine_ops.h"
#include "error.h"
#include "labels.h"
#include "teardown.h"
#include "util.h"

static const char gc_usage[] =
        "usage: orchestrate gc [--project P] [--all] [--force]\n"
        "  --project P  only runs of project P (default: every project)\n"
        "  --all        also kept runs (a finished `up`) whose owner is "
        "gone\n"
        "  --force      also runs whose owner cannot be checked from here\n"
        "               (another host, PID namespace or boot)\n";

static void print_left_alone(const struct teardown_gc_result *r)
{
	struct buf b = BUF_INIT;
	const char *sep = "";

	if (r->live) {
		buf_addf(&b, "%zu run%s with a live owner", r->live,
		         r->live == 1 ? "" : "s");
		sep = ", ";
	}
	if (r->kept) {
		buf_addf(&b, "%s%zu kept run%s (gc --all removes %s)", sep,
		         r->kept, r->kept == 1 ? "" : "s",
		         r->kept == 1 ? "it" : "them");
		sep = ", ";
	}
	if (r->unowned) {
		buf_addf(&b, "%s%zu run%s without owner labels", sep,
		         r->unowned, r->unowned == 1 ? "" : "s");
		sep = ", ";
	}
	if (r->nunknown)
		buf_addf(&b, "%s%zu run%s whose owner cannot be checked", sep,
		         r->nunknown, r->nunknown == 1 ? "" : "s");
	if (b.len)
		cmd_line("left alone: %s", buf_cstr(&b));
	buf_release(&b);
}

/* Each run whose owner cannot be checked, and how to remove it. */
static void print_unknown(const struct teardown_gc_result *r)
{
	for (size_t i = 0; i < r->nunknown; i++) {
		const struct teardown_gc_run *g = &r->unknown[i];

		cmd_line("left alone: run '%s' of project '%s': owner pid %ld "
		         "on '%s' %s (cannot tell whether it runs; gc "
		         "--force%s removes it)",
		         g->run_id, g->project, g->owner_pid, g->owner_host,
		         g->why, g->kept ? " --all" : "");
	}
}

int cmd_gc(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "project", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct teardown_gc_result r = { 0 };
	const char *project = ctx->project, *from = NULL;
	int c, rc, code = ORCH_EXIT_OK;
	unsigned flags = 0;
	size_t removed = 0;

	while ((c = getopt_long(argc, argv, "afhp:", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			flags |= TEARDOWN_GC_KEPT;
			break;
		case 'f':
			flags |= TEARDOWN_GC_FORCE;
			break;
		case 'h':
			fputs(gc_usage, stdout);
			return ORCH_EXIT_OK;
		case 'p':
			project = optarg;
			from = "--project";
			break;
		default:
			fputs(gc_usage, stderr);
			return ORCH_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_usage_error(gc_usage, "unexpected argument '%s'",
		                       argv[optind]);
	/* the name becomes a label filter: checked as -p is (main.c) */
	if (from && project_name_check(project, from))
		return cmd_usage_error(gc_usage, "%s", orch_error_last());
	/* connected here when main.c did not: say that nothing was
	 * verified */
	rc = cmd_open_engine(ctx);
	if (rc)
		return cmd_error(cmd_exit_for(rc), "%s; cleanup NOT verified",
		                 orch_error_last());

	rc = teardown_gc(ctx->engine, project, flags, &r);
	for (size_t i = 0; i < r.n; i++) {
		const struct teardown_gc_run *g = &r.items[i];
		struct buf what = BUF_INIT;

		teardown_stats_format(&what, &g->stats);
		if (g->rc == 0 && g->why) {
			cmd_line("removed run '%s' of project '%s' (%s--force: "
			         "owner pid %ld on '%s' %s)%s%s",
			         g->run_id, g->project, g->kept ? "kept, " : "",
			         g->owner_pid, g->owner_host, g->why,
			         what.len ? ": " : "", buf_cstr(&what));
			removed++;
		} else if (g->rc == 0) {
			cmd_line("removed run '%s' of project '%s' (%sowner "
			         "pid %ld gone)%s%s",
			         g->run_id, g->project, g->kept ? "kept, " : "",
			         g->owner_pid, what.len ? ": " : "",
			         buf_cstr(&what));
			removed++;
		} else {
			if (what.len)
				cmd_line("run '%s' of project '%s': removed %s",
				         g->run_id, g->project,
				         buf_cstr(&what));
			cmd_error(0, "run '%s' of project '%s': %s", g->run_id,
			          g->project, g->error);
		}
		buf_release(&what);
	}
	if (rc == 0 && !removed)
		printf("nothing to remove\n");
	print_unknown(&r);
	print_left_alone(&r);
	if (rc == ORCH_ERROR)
		code = ORCH_EXIT_TEARDOWN;
	else if (rc)
		code = cmd_error(cmd_exit_for(rc), "%s; cleanup NOT verified",
		                 orch_error_last());
	teardown_gc_result_release(&r);
	return code;
}
