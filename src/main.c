/*
 * main.c: global options, the command table and the set-up commands ask
 * for (libgit2's src/cli/main.c and git's run_builtin()).
 *
 * Exact command names only: prefixes are fragile in CI scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine_ops.h"
#include "error.h"
#include "manifest.h"
#include "mask.h"
#include "util.h"
#include "version.h"

struct cmd_entry {
	const char *name;
	int (*fn)(struct cmd_ctx *ctx, int argc, char **argv);
	unsigned flags;
	const char *summary;
};

static const struct cmd_entry commands[] = {
	{ "validate", cmd_validate, CMD_NEEDS_MANIFEST, "check the manifest" },
	{ "plan", cmd_plan, CMD_NEEDS_MANIFEST,
	  "print the stages a strategy would run" },
	{ "graph", cmd_graph, CMD_NEEDS_MANIFEST,
	  "print the dependency graph" },
	{ "up", cmd_up, CMD_NEEDS_MANIFEST | CMD_NEEDS_ENGINE,
	  "bring the environment up and wait until it is ready" },
	{ "test", cmd_test, CMD_NEEDS_MANIFEST | CMD_NEEDS_ENGINE,
	  "run the suites stage by stage and name what broke" },
	{ "status", cmd_status, CMD_WANTS_MANIFEST | CMD_NEEDS_ENGINE,
	  "services, state, readiness and host endpoints" },
	{ "logs", cmd_logs, CMD_WANTS_MANIFEST | CMD_NEEDS_ENGINE,
	  "print the services' logs" },
	{ "report", cmd_report, 0,
	  "render a run's report again: summary, JUnit, HTML, Markdown" },
	{ "down", cmd_down, CMD_WANTS_MANIFEST,
	  "remove everything of the project" },
	{ "gc", cmd_gc, 0, "remove what crashed runs left behind" },
	{ "version", cmd_version, 0, "client, engine and API versions" },
};

static const char usage[] =
        "usage: orchestrate [-f FILE]... [-p PROJECT] [--profile NAME]... "
        "COMMAND [options]\n";

static void print_help(FILE *out)
{
	fputs(usage, out);
	fputs("\noptions:\n"
	      "  -f, --file FILE        the manifest ('-': read it from "
	      "standard input);\n"
	      "                         several are merged in order, as "
	      "Compose does\n"
	      "  -p, --project PROJECT  the project name\n"
	      "      --profile NAME     activate a profile (repeatable; "
	      "'*': all)\n"
	      "  -h, --help             this help (also 'orchestrate help')\n"
	      "  -V, --version          the client's version\n",
	      out);
	fputs("\ncommands:\n", out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name,
		        commands[i].summary);
	fputs("\n'orchestrate COMMAND --help' describes a command.\n", out);
}

/*
 * `COMMAND --help` anywhere among its arguments (before "--"): the help
 * needs no manifest and no engine, so it must not fail for want of them.
 */
static int asks_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

static int setup(struct cmd_ctx *ctx, unsigned flags)
{
	struct strvec warnings = STRVEC_INIT;
	int rc;

	struct strvec files = STRVEC_INIT, notes = STRVEC_INIT;

	if (flags & (CMD_NEEDS_MANIFEST | CMD_WANTS_MANIFEST)) {
		rc = manifest_discover_files(
		        (const char *const *)ctx->file_opts.v, ctx->file_opts.n,
		        &files, &notes);
		for (size_t i = 0; i < notes.n; i++)
			cmd_warning("%s", notes.v[i]);
		strvec_clear(&notes);
		if (rc && (flags & CMD_NEEDS_MANIFEST || ctx->file)) {
			strvec_clear(&files);
			return cmd_error(ORCH_EXIT_USAGE, "%s",
			                 orch_error_last());
		}
		if (!rc && files.n)
			ctx->manifest_path = xstrdup(files.v[0]);
	}
	if (ctx->manifest_path) {
		struct manifest_opts o = {
			(const char *const *)files.v,
			files.n,
			ctx->profiles_given
			        ? (const char *const *)ctx->profile_opts.v
			        : NULL,
			ctx->profile_opts.n,
			NULL,
		};
		const char *none[] = { NULL };

		if (ctx->profiles_given && !o.profiles)
			o.profiles = none;
		rc = manifest_load_opts(&o, &warnings, &ctx->manifest);
		strvec_clear(&files);
		/* before anything is printed that may carry a value */
		mask_add_manifest(ctx->mask, ctx->manifest);
		for (size_t i = 0; i < warnings.n; i++)
			cmd_warning("%s", warnings.v[i]);
		strvec_clear(&warnings);
		if (rc)
			return cmd_error(ORCH_EXIT_USAGE, "%s",
			                 orch_error_last());
	}
	if (ctx->manifest || ctx->project_opt ||
	    getenv("ORCHESTRATE_PROJECT")) {
		rc = manifest_project_name(ctx->manifest, ctx->project_opt,
		                           &ctx->project);
		if (rc)
			return cmd_error(ORCH_EXIT_USAGE, "%s",
			                 orch_error_last());
	}
	if (flags & CMD_NEEDS_ENGINE)
		return cmd_connect_engine(ctx);
	return 0;
}

static int run_ctx(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "project", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd_entry *cmd = NULL;
	int c, rc;

	/* libcurl runs with CURLOPT_NOSIGNAL and no longer ignores SIGPIPE */
	signal(SIGPIPE, SIG_IGN);

	/* '+': stop at the command name; its options are its own */
	while ((c = getopt_long(argc, argv, "+f:hp:V", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!ctx->file)
				ctx->file = optarg;
			strvec_push(&ctx->file_opts, optarg);
			break;
		case 'P':
			ctx->profiles_given = 1;
			strvec_push(&ctx->profile_opts, optarg);
			break;
		case 'p':
			ctx->project_opt = optarg;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case 'V':
			printf("orchestrate %s\n", ORCH_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return ORCH_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return ORCH_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		print_help(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[optind]))
			cmd = &commands[i];
	if (!cmd) {
		return cmd_error(ORCH_EXIT_USAGE,
		                 "'%s' is not an orchestrate command. See "
		                 "'orchestrate help'.",
		                 argv[optind]);
	}

	if (asks_help(argc - optind, argv + optind)) {
		/* the command alone with its --help: it prints its usage */
		char *help_argv[] = { argv[optind], "--help", NULL };

		optind = 0;
		return cmd->fn(ctx, 2, help_argv);
	}
	ctx->mask = mask_new();
	cmd_set_mask(ctx->mask);
	rc = setup(ctx, cmd->flags);
	if (rc == 0) {
		int cmd_argc = argc - optind;
		char **cmd_argv = argv + optind;

		/* commands parse their own options: reinitialise getopt */
		optind = 0;
		rc = cmd->fn(ctx, cmd_argc, cmd_argv);
	}
	if (fflush(stdout) && errno != EPIPE && rc == 0)
		rc = cmd_error(ORCH_EXIT_ENV, "writing to stdout: %s",
		               strerror(errno));
	manifest_free(ctx->manifest);
	engine_free(ctx->engine);
	free(ctx->manifest_path);
	free(ctx->project);
	cmd_set_mask(NULL);
	mask_free(ctx->mask);
	return rc;
}

static int run(int argc, char **argv)
{
	struct cmd_ctx ctx = { 0 };
	int rc = run_ctx(&ctx, argc, argv);

	strvec_clear(&ctx.file_opts);
	strvec_clear(&ctx.profile_opts);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = run(argc, argv);

#ifndef ORCH_EXIT_RUNS_DESTRUCTORS
	/*
	 * Everything of ours is released and written by now. exit() would
	 * go on to run the destructors of the ~35 libraries Debian's libcurl
	 * loads (OpenSSL's cleanup, Kerberos, p11-kit, ...): they only free
	 * memory the kernel takes back anyway, and fault in about 0.8 MB of
	 * their code to do it, a tenth of our peak RSS. Builds with a
	 * sanitizer or coverage keep exit(), which runs LeakSanitizer and
	 * writes the coverage data (meson.build).
	 */
	fflush(stdout);
	_exit(rc);
#endif
	return rc;
}
