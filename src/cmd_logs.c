/*
 * cmd_logs.c: `logs [SERVICE...] [--tail N]` -- every service's output
 * in the project, demultiplexed, each line prefixed with the service name
 * (`db    | ...`), one service after the other (the engine gives no
 * common clock to interleave by). With several runs of the project the
 * prefix also names the run.
 *
 * Secret values are masked (mask.h): those of the manifest when there is
 * one, and always those of each container's own environment as the
 * engine recorded it (Config.Env: the manifest's values as they were
 * when the run started, env_file, the image's ENV), so `logs -p PROJECT`
 * without a manifest masks them too.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine_ops.h"
#include "error.h"
#include "labels.h"
#include "mask.h"
#include "util.h"

static const char logs_usage[] =
        "usage: orchestrate logs [SERVICE...] [--tail N]\n";

#define LOGS_CAP (64u << 20)

/*
 * The secret-looking variables of container id's environment into mask.
 * 0, or the engine's error.
 */
static int mask_container_env(struct engine *e, const char *id,
                              struct mask *mask)
{
	struct engine_container_info info;
	int rc = engine_container_inspect(e, id, &info);

	for (size_t i = 0; rc == 0 && i < info.env.n; i++) {
		const char *kv = info.env.v[i], *eq = strchr(kv, '=');
		char *name;

		if (!eq)
			continue;
		name = xstrndup(kv, (size_t)(eq - kv));
		mask_add_env(mask, name, eq + 1);
		free(name);
	}
	engine_container_info_release(&info);
	/* gone meanwhile: it has no output to mask either */
	return rc == ORCH_ENOTFOUND ? 0 : rc;
}

static int obj_cmp(const void *a, const void *b)
{
	const struct engine_object *x = a, *y = b;
	const char *xs = engine_object_label(x, LABEL_SERVICE);
	const char *ys = engine_object_label(y, LABEL_SERVICE);
	const char *xr = engine_object_label(x, LABEL_RUN_ID);
	const char *yr = engine_object_label(y, LABEL_RUN_ID);
	int c = strcmp(xr ? xr : "", yr ? yr : "");

	return c ? c : strcmp(xs ? xs : "", ys ? ys : "");
}

/*
 * data line by line behind the prefix. On a terminal each line is escaped
 * (util.h): a container's output must not rewrite the user's screen.
 * Anywhere else it is data, passed on as the container wrote it, as
 * `docker logs` does.
 */
static void print_prefixed(const char *prefix, int width, const char *data,
                           size_t len, int escape)
{
	struct buf line = BUF_INIT;
	size_t i = 0;

	while (i < len) {
		size_t n = 0;

		while (i + n < len && data[i + n] != '\n')
			n++;
		buf_reset(&line);
		buf_addf(&line, "%-*s | ", width, prefix);
		if (escape)
			buf_add_escaped(&line, data + i, n, 0);
		else
			buf_add(&line, data + i, n);
		buf_addch(&line, '\n');
		fwrite(line.data, 1, line.len, stdout);
		i += n + 1;
	}
	buf_release(&line);
}

int cmd_logs(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tail", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct engine_object_list cl = { 0 };
	struct engine_label f[1];
	struct strvec want = STRVEC_INIT;
	const char *first_run = NULL;
	int c, tail = -1, ret = ORCH_EXIT_OK, width = 0, multi = 0;
	int tty = isatty(STDOUT_FILENO);
	long v;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_int(optarg, 0, 1L << 30, &v))
				return cmd_usage_error(logs_usage,
				                       "--tail: not a count: "
				                       "'%s'",
				                       optarg);
			tail = (int)v;
			break;
		case 'h':
			fputs(logs_usage, stdout);
			return 0;
		default:
			return cmd_usage_error(logs_usage, "bad option");
		}
	}
	for (int i = optind; i < argc; i++)
		strvec_push(&want, argv[i]);
	if (!ctx->project) {
		ret = cmd_usage_error(logs_usage,
		                      "no project: give -p PROJECT or run "
		                      "beside a manifest");
		goto out;
	}

	f[0] = (struct engine_label){ LABEL_PROJECT, ctx->project };
	if (engine_container_list(ctx->engine, f, 1, &cl)) {
		ret = cmd_error(ORCH_EXIT_ENV, "%s", orch_error_last());
		goto out;
	}
	qsort(cl.items, cl.n, sizeof(*cl.items), obj_cmp);
	for (size_t i = 0; i < want.n; i++) {
		int found = 0;

		for (size_t k = 0; k < cl.n; k++) {
			const char *s = engine_object_label(&cl.items[k],
			                                    LABEL_SERVICE);

			if (s && !strcmp(s, want.v[i]))
				found = 1;
		}
		if (!found) {
			ret = cmd_error(ORCH_EXIT_USAGE,
			                "service '%s': no container in project "
			                "'%s'",
			                want.v[i], ctx->project);
			goto out;
		}
	}
	for (size_t k = 0; k < cl.n; k++) {
		const char *s =
		        engine_object_label(&cl.items[k], LABEL_SERVICE);
		const char *r = engine_object_label(&cl.items[k], LABEL_RUN_ID);
		char *tmp;

		if (!s || !r)
			continue;
		if (!first_run)
			first_run = r;
		else if (strcmp(first_run, r))
			multi = 1;
		tmp = xescape(s);
		if ((int)strlen(tmp) > width)
			width = (int)strlen(tmp);
		free(tmp);
	}
	if (multi)
		width += 1 + RUN_ID_LEN;
	/* every container's secrets before any line is printed: a service
	   may print another's password */
	for (size_t k = 0; k < cl.n; k++) {
		if (mask_container_env(ctx->engine, cl.items[k].id,
		                       ctx->mask)) {
			ret = cmd_error(ORCH_EXIT_ENV, "%s", orch_error_last());
			goto out;
		}
	}

	for (size_t k = 0; k < cl.n; k++) {
		const struct engine_object *o = &cl.items[k];
		const char *s = engine_object_label(o, LABEL_SERVICE);
		const char *r = engine_object_label(o, LABEL_RUN_ID);
		struct buf out = BUF_INIT, masked = BUF_INIT;
		char *prefix, *tmp;

		if (!s || !r || (want.n && strvec_find(&want, s) < 0))
			continue;
		/* labels are anyone's to write: the prefix is escaped */
		prefix = multi ? xasprintf("%s@%s", s, r) : xstrdup(s);
		tmp = xescape(prefix);
		free(prefix);
		prefix = tmp;
		buf_init(&out, LOGS_CAP);
		if (engine_container_logs(ctx->engine, o->id, tail, &out))
			ret = cmd_error(ORCH_EXIT_ENV, "service '%s': %s", s,
			                orch_error_last());
		else if (mask_apply(ctx->mask, &masked, buf_cstr(&out),
		                    out.len) == 0)
			print_prefixed(prefix, width, buf_cstr(&masked),
			               masked.len, tty);
		buf_release(&out);
		buf_release(&masked);
		free(prefix);
	}
out:
	engine_object_list_release(&cl);
	strvec_clear(&want);
	return ret;
}
