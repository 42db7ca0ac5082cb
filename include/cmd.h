/*
 * cmd.h: the command table's contract.
 *
 * main.c parses the global options (-f FILE, -p PROJECT), does the set-up
 * a command's flags ask for, once, and calls the command with its own
 * arguments (argv[0] is the command name). A command returns an exit
 * status (error.h, enum orch_exit) and prints its own errors exactly once,
 * through cmd_error().
 *
 * Adding a command: a row in main.c's table, src/cmd_<name>.c, its
 * declaration here, the meson source list, tests, and its entry in the
 * man page, docs/orchestrate.1 (tests/cli/man-page.py checks it).
 */
#ifndef ORCH_CMD_H
#define ORCH_CMD_H

#include <stdarg.h>
#include <stdio.h>

#include "util.h"

struct buf;
struct engine;
struct manifest;
struct mask;
struct plan;

enum cmd_flags {
	CMD_NEEDS_MANIFEST = 1 << 0, /* ctx->manifest is loaded and valid */
	CMD_NEEDS_ENGINE = 1 << 1,   /* ctx->engine is connected */
	CMD_WANTS_MANIFEST = 1 << 2, /* loaded when one is found */
};

struct cmd_ctx {
	const char *file;          /* the first -f, or NULL */
	const char *project_opt;   /* -p, or NULL */
	char *manifest_path;       /* discovered path, or NULL */
	struct manifest *manifest; /* CMD_NEEDS_MANIFEST */
	char *project;             /* resolved project name (with a manifest,
				      or from -p / ORCHESTRATE_PROJECT) */
	struct engine *engine;     /* CMD_NEEDS_ENGINE */
	/* the secret values to hide (mask.h): the manifest's, when there is
	   one; a command may add more (logs: the containers' environments).
	   Every message printed through the functions below is masked. */
	struct mask *mask;
	/* every -f, in merge order, and every --profile (main.c) */
	struct strvec file_opts;
	struct strvec profile_opts;
	int profiles_given;
};

/*
 * Messages on stderr, one line each. MSG may hold what a manifest, the
 * engine or a container said: the secret values of ctx->mask are masked
 * (mask.h), then its control characters (ESC, BEL, CR, ..., newline too)
 * are printed escaped (util.h, buf_add_escaped()).
 */
/* The mask every message passes through (main.c sets ctx->mask). */
void cmd_set_mask(const struct mask *m);
/* Print "orchestrate: MSG" to stderr; returns code. */
int cmd_error(int code, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Print a usage error and the command's usage line; returns 2. */
int cmd_usage_error(const char *usage, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* "orchestrate: warning: MSG" */
void cmd_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "orchestrate: MSG": progress worth a line that is no error */
void cmd_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* MSG and a newline on stdout, escaped in the same way */
void cmd_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* MSG masked and escaped as cmd_line() prints it, appended to out */
void cmd_vformat(struct buf *out, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
struct env;
/*
 * env_teardown(), its warnings (a failing pre_stop hook) printed, and on
 * failure "removing run R: ... (the watchdog or 'orchestrate gc' will
 * finish)" with code. Returns env_teardown()'s result.
 */
int cmd_env_teardown(struct env *env, int force_kill, int code);
/* Map a library error code to an exit status (manifest: 2, engine: 3). */
int cmd_exit_for(int rc);
/*
 * Make and connect ctx->engine if not done yet, printing the engine's
 * warnings (engine_warnings()); returns 0 or the library's code, with
 * the message in orch_error_last(), for the command to print.
 */
int cmd_open_engine(struct cmd_ctx *ctx);
/* Connect ctx->engine if not done yet; prints and returns an exit code. */
int cmd_connect_engine(struct cmd_ctx *ctx);
/*
 * For commands that bring an environment up (up, test): warn about what
 * the connected engine does differently -- Podman's health checks, which
 * never run without systemd.
 */
void cmd_engine_caveats(struct cmd_ctx *ctx);

/*
 * Shared by plan and validate: parse --middle N (prints a usage error and
 * returns 2 when N is not a level), and build the plan of strategy (NULL:
 * the manifest's strategy:, else big-bang); prints the error and returns 2
 * on failure, *out is freed by the caller with plan_free().
 */
int cmd_parse_middle(const char *cmd_usage, const char *arg, int *middle);
int cmd_make_plan(struct cmd_ctx *ctx, const char *strategy, int middle,
                  struct plan **out);

int cmd_version(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_validate(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_plan(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_graph(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_up(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_test(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_status(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_logs(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_report(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_down(struct cmd_ctx *ctx, int argc, char **argv);
int cmd_gc(struct cmd_ctx *ctx, int argc, char **argv);

#endif
