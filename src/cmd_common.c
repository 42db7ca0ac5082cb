/*
 * cmd_common.c: what the commands share (cmd.h): their messages --
 * masked and escaped, printed once --, the exit status of a library
 * code, the engine they connect to, and the --middle and plan set-up of
 * `plan` and `validate`. The command table and global options are
 * main.c's.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "engine_ops.h"
#include "env.h"
#include "error.h"
#include "manifest.h"
#include "mask.h"
#include "plan.h"
#include "util.h"

/*
 * "orchestrate: " PREFIX MSG and a newline, on stderr in one write. MSG
 * may carry anything a manifest, the engine or a container said: its
 * control characters are escaped (util.h).
 */
/* the command's ctx->mask: every message passes through it */
static const struct mask *msg_mask;

void cmd_set_mask(const struct mask *m)
{
	msg_mask = m;
}

/* fmt's text, masked and escaped, appended to out */
static void add_message(struct buf *out, const char *fmt, va_list ap)
{
	struct buf raw = BUF_INIT, masked = BUF_INIT;

	buf_vaddf(&raw, fmt, ap);
	mask_apply(msg_mask, &masked, raw.data ? raw.data : "", raw.len);
	buf_add_escaped(out, masked.data ? masked.data : "", masked.len, 0);
	buf_release(&raw);
	buf_release(&masked);
}

static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	struct buf out = BUF_INIT;

	buf_addstr(&out, "orchestrate: ");
	buf_addstr(&out, prefix);
	add_message(&out, fmt, ap);
	buf_addch(&out, '\n');
	fwrite(out.data, 1, out.len, stderr);
	buf_release(&out);
}

int cmd_error(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	return code;
}

int cmd_usage_error(const char *cmd_usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
	if (cmd_usage)
		fputs(cmd_usage, stderr);
	return ORCH_EXIT_USAGE;
}

void cmd_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

void cmd_vformat(struct buf *out, const char *fmt, va_list ap)
{
	add_message(out, fmt, ap);
}

void cmd_line(const char *fmt, ...)
{
	struct buf out = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	add_message(&out, fmt, ap);
	va_end(ap);
	buf_addch(&out, '\n');
	fwrite(out.data, 1, out.len, stdout);
	buf_release(&out);
}

void cmd_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

int cmd_exit_for(int rc)
{
	switch (rc) {
	case 0:
		return ORCH_EXIT_OK;
	case ORCH_EINVALID:
		return ORCH_EXIT_USAGE;
	case ORCH_EINTR:
		return ORCH_EXIT_SIGINT;
	default:
		return ORCH_EXIT_ENV;
	}
}

int cmd_open_engine(struct cmd_ctx *ctx)
{
	const char *w;
	int rc;

	if (ctx->engine)
		return engine_connect(ctx->engine); /* 0 once connected */
	rc = engine_new(&ctx->engine, NULL);
	if (rc)
		return rc;
	w = engine_warnings(ctx->engine);
	while (w && *w) {
		size_t n = strcspn(w, "\n");

		cmd_warning("%.*s", (int)n, w);
		w += n + (w[n] == '\n');
	}
	return engine_connect(ctx->engine);
}

int cmd_connect_engine(struct cmd_ctx *ctx)
{
	int rc = cmd_open_engine(ctx);

	if (rc)
		return cmd_error(rc == ORCH_EINVALID ? ORCH_EXIT_USAGE
		                                     : ORCH_EXIT_ENV,
		                 "%s", orch_error_last());
	return 0;
}

void cmd_engine_caveats(struct cmd_ctx *ctx)
{
	if (!engine_is_podman(ctx->engine))
		return;
	cmd_warning("the engine at %s is Podman: it runs health checks from "
	            "systemd timers, so without systemd they never run and "
	            "its health status stays 'starting' (orchestrate runs "
	            "each healthcheck's test itself: services still become "
	            "ready, but 'status' shows the engine's HEALTH)",
	            engine_address(ctx->engine));
}

int cmd_parse_middle(const char *cmd_usage, const char *arg, int *middle)
{
	long v;

	if (parse_int(arg, 0, INT_MAX, &v))
		return cmd_usage_error(cmd_usage,
		                       "'--middle' expects a level number, "
		                       "not '%s'",
		                       arg);
	*middle = (int)v;
	return 0;
}

int cmd_make_plan(struct cmd_ctx *ctx, const char *strategy, int middle,
                  struct plan **out)
{
	enum strategy s;

	*out = NULL;
	if (plan_resolve_strategy(ctx->manifest, strategy, &s) ||
	    plan_build(ctx->manifest, s, middle, out))
		return cmd_error(ORCH_EXIT_USAGE, "%s", orch_error_last());
	return 0;
}

int cmd_env_teardown(struct env *env, int force_kill, int code)
{
	int rc = env_teardown(env, force_kill, NULL);
	const struct strvec *w = env_teardown_warnings(env);

	for (size_t i = 0; i < w->n; i++)
		cmd_warning("%s", w->v[i]);
	if (rc)
		cmd_error(
		        code,
		        "removing run %s: %s (the watchdog or 'orchestrate gc' "
		        "will finish)",
		        env_run_id(env), orch_error_last());
	return rc;
}
