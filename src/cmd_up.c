/*
 * cmd_up.c: `up [--service NAME...]` -- bring the environment up in a new
 * run, wait until every service is ready, print the endpoints and leave
 * the run in place (docs/commands.md, "Lifecycle"). The work is env.c's; this
 * file chooses the services, prints, and maps failures to exit statuses:
 * 3 when the environment cannot come up (the run is torn down first),
 * 130/143 when interrupted (likewise).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine_ops.h"
#include "env.h"
#include "error.h"
#include "evloop.h"
#include "manifest.h"
#include "mask.h"
#include "signals.h"
#include "teardown.h"
#include "util.h"

static const char up_usage[] = "usage: orchestrate up [--service NAME...]\n";

struct progress {
	int width;
};

static void on_progress(void *ud, const struct env_service *s,
                        enum env_note what)
{
	const struct progress *p = ud;
	char *name = xescape(s->name);

	switch (what) {
	case ENV_NOTE_STARTED:
		fprintf(stderr, "%-*s  started  %.2fs\n", p->width, name,
		        (double)s->started_ms / 1000);
		break;
	case ENV_NOTE_READY:
		fprintf(stderr, "%-*s  ready    %.2fs\n", p->width, name,
		        (double)s->ready_ms / 1000);
		break;
	case ENV_NOTE_COMPLETED:
		fprintf(stderr, "%-*s  completed %.2fs\n", p->width, name,
		        (double)s->ready_ms / 1000);
		break;
	default:
		/* one configuration: no swaps, no re-checks; a failure is
		   the command's message */
		break;
	}
	free(name);
}

/* NAME and, transitively, what it depends on. */
static void select_service(const struct manifest *m, size_t i,
                           enum plan_mode *modes)
{
	const struct mf_service *s = &m->services[i];

	if (modes[i] != PLAN_ABSENT)
		return;
	modes[i] = mf_service_external(s) ? PLAN_STUB : PLAN_REAL;
	for (size_t k = 0; k < s->ndeps; k++)
		select_service(m, s->deps[k].index, modes);
}

/*
 * The failed service's last log lines: a message, so what the container
 * wrote is masked (a database echoing its password) and escaped like any
 * message, line by line. Masked whole first: a value may span lines.
 */
static void print_logs(const struct mask *mask, const char *service,
                       const char *logs)
{
	struct buf out = BUF_INIT, masked = BUF_INIT;
	const char *p;
	char *name = xescape(service);

	mask_apply(mask, &masked, logs, strlen(logs));
	p = buf_cstr(&masked);
	cmd_note("last log lines of '%s':", service);
	while (*p) {
		size_t n = strcspn(p, "\n");

		buf_addf(&out, "%s | ", name);
		buf_add_escaped(&out, p, n, 0);
		buf_addch(&out, '\n');
		p += n;
		if (*p)
			p++;
	}
	fwrite(out.data ? out.data : "", 1, out.len, stderr);
	buf_release(&out);
	buf_release(&masked);
	free(name);
}

static void print_ready(const struct env *env, int width)
{
	for (size_t i = 0; i < env_nservices(env); i++) {
		const struct env_service *s = env_service(env, i);
		char *name;

		if (s->mode == PLAN_ABSENT)
			continue;
		name = xescape(s->name);
		printf("%-*s  %s in %.2fs", width, name,
		       s->state == ENV_COMPLETED ? "completed" : "ready",
		       (double)s->ready_ms / 1000);
		free(name);
		if (s->mode == PLAN_STUB)
			printf("  (stub)");
		for (size_t k = 0; k < s->nendpoints; k++) {
			const struct env_endpoint *ep = &s->endpoints[k];
			/* the engine's answer: printed as a message is */
			char *ip = xescape(ep->host_ip);
			char *proto = xescape(ep->protocol);

			printf("%s%s%s:%d -> %d/%s", k ? ", " : "  ",
			       ep->http ? "http://" : "", ip, ep->host_port,
			       ep->container_port, proto);
			free(ip);
			free(proto);
		}
		putchar('\n');
	}
}

/*
 * The next run removes what killed runs left (docs/commands.md,
 * "Cleanup"): after ours is ready, so it costs no time-to-ready. Failures
 * only warn: gc exists.
 */
static void remove_stale(struct cmd_ctx *ctx)
{
	struct teardown_stats st = { 0 };
	size_t runs = 0;

	if (teardown_stale(ctx->engine, ctx->project, &runs, &st))
		cmd_warning("removing stale runs: %s", orch_error_last());
	else if (runs)
		cmd_note("removed %zu stale run%s of project '%s'", runs,
		         runs == 1 ? "" : "s", ctx->project);
}

int cmd_up(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct manifest *m = ctx->manifest;
	struct env_opts eo = { 0 };
	struct progress prog = { 4 };
	struct strvec names = STRVEC_INIT;
	enum plan_mode *modes = NULL;
	struct evloop *loop = NULL;
	struct env *env = NULL;
	int c, rc, sigfd, ret = ORCH_EXIT_OK;
	int64_t t0 = now_ms();

	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			strvec_push(&names, optarg);
			break;
		case 'h':
			fputs(up_usage, stdout);
			goto out;
		default:
			ret = cmd_usage_error(up_usage, "bad option");
			goto out;
		}
	}
	/* `--service a b` reads naturally: extra words are names too */
	for (int i = optind; i < argc; i++)
		strvec_push(&names, argv[i]);

	modes = xcalloc(m->nservices ? m->nservices : 1, sizeof(*modes));
	if (names.n) {
		for (size_t i = 0; i < names.n; i++) {
			int idx = manifest_service_index(m, names.v[i]);

			if (idx < 0) {
				ret = cmd_usage_error(up_usage,
				                      "no service '%s' in '%s'",
				                      names.v[i], m->path);
				goto out;
			}
			select_service(m, (size_t)idx, modes);
		}
	} else {
		env_modes_all(m, modes);
	}
	for (size_t i = 0; i < m->nservices; i++) {
		int w = (int)strlen(m->services[i].name);

		if (w > prog.width)
			prog.width = w;
	}

	cmd_engine_caveats(ctx);
	sigfd = signals_install(ctx->engine);
	if (sigfd < 0) {
		ret = cmd_error(ORCH_EXIT_ENV, "%s", orch_error_last());
		goto out;
	}
	loop = evloop_new(ctx->engine);
	eo.project = ctx->project;
	eo.loop = loop;
	eo.t0 = t0;
	eo.progress = on_progress;
	eo.ud = &prog;
	env_new(&env, ctx->engine, m, &eo);
	cmd_note("project '%s', run %s", ctx->project, env_run_id(env));

	signals_arm();
	rc = env_reach(env, modes, sigfd);
	/* what failed after a signal failed because of it (a call it
	   interrupted, a probe cut short): the run was interrupted */
	if (rc && rc != ORCH_EINTR && signals_first())
		rc = ORCH_EINTR;
	signals_disarm();
	if (rc == 0) {
		/* the result first: the keep marker and the stale sweep are
		   bookkeeping nobody waits for */
		printf("project '%s' run %s ready in %.2fs (network %s)\n",
		       ctx->project, env_run_id(env),
		       (double)(now_ms() - t0) / 1000, env_network_name(env));
		print_ready(env, prog.width);
		fflush(stdout);
		rc = env_keep(env);
		if (rc) {
			ret = cmd_error(ORCH_EXIT_ENV, "%s", orch_error_last());
			env_teardown(env, 1, NULL);
			goto out;
		}
		remove_stale(ctx);
		goto out;
	}

	if (rc == ORCH_EINTR && signals_first()) {
		int sig = signals_first();

		cmd_note("interrupted by %s: removing run %s (again to exit "
		         "at once)",
		         signals_name(sig), env_run_id(env));
		ret = signals_exit_status(sig);
	} else {
		ret = rc == ORCH_EINVALID ? ORCH_EXIT_USAGE : ORCH_EXIT_ENV;
		cmd_error(ret, "%s", orch_error_last());
		if (env_failure_logs(env))
			print_logs(ctx->mask, env_failed_service(env),
			           env_failure_logs(env));
	}
	cmd_env_teardown(env, rc == ORCH_EINTR, ret);
out:
	env_free(env);
	evloop_free(loop);
	free(modes);
	strvec_clear(&names);
	return ret;
}
