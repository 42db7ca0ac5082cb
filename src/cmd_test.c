/*
 * cmd_test.c: `orchestrate test` -- the plan's stages, each brought up
 * and its suites run, the broken integration named, the run torn down
 * (docs/commands.md, "test"). The work is testrun.c's; this file parses
 * the options, prints what happens as it happens, writes the report
 * directory and maps the result to the exit status: 0 passed (flaky
 * ones counted), 1 a suite failed or timed out, 2 usage or a manifest
 * without suites, 3 the environment could not be brought up, 5 the
 * report could not be written, 130/143 interrupted.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "console.h"
#include "engine_ops.h"
#include "env.h"
#include "error.h"
#include "gitinfo.h"
#include "manifest.h"
#include "plan.h"
#include "report.h"
#include "report_json.h"
#include "signals.h"
#include "teardown.h"
#include "testrun.h"
#include "util.h"

static const char test_usage[] =
        "usage: orchestrate test [--strategy S] [--middle N] "
        "[--suite NAME...] [--tag T]\n"
        "                        [--jobs N] [--fail-fast] "
        "[--report-dir DIR] [--keep-on-failure]\n"
        "                        [-q|--quiet] [-v|--verbose]\n";

/* lines of a failing suite's output shown on the console */
#define FAILED_OUTPUT_LINES 20

struct progress {
	const struct manifest *m;
	int width; /* of service and suite names */
	struct console *con;
};

static void on_stage(void *ud, const struct plan *p, size_t s,
                     const struct stage_result *r, int begin)
{
	const struct progress *c = ud;
	const struct plan_stage *st = &p->stages[s];
	struct buf b = BUF_INIT;

	if (!begin) {
		if (r->status == STAGE_ERROR && r->error)
			console_line(c->con, CON_BAD,
			             "  stage %zu could not be brought up: %s",
			             s + 1, r->error);
		return;
	}
	if (!console_shows(c->con, CONSOLE_NORMAL))
		return;
	buf_addf(&b, "stage %zu/%zu (%s):", s + 1, p->nstages, st->label);
	if (st->new_real.n) {
		buf_addstr(&b, " real now");
		for (size_t i = 0; i < st->new_real.n; i++)
			buf_addf(&b, "%s %s", i ? "," : "",
			         c->m->services[st->new_real.v[i]].name);
		buf_addch(&b, ';');
	}
	if (st->stubs.n) {
		buf_addstr(&b, " stubs");
		for (size_t i = 0; i < st->stubs.n; i++)
			buf_addf(&b, "%s %s", i ? "," : "",
			         c->m->services[st->stubs.v[i]].name);
		buf_addch(&b, ';');
	}
	if (st->new_edges.n) {
		buf_addstr(&b, " new edges");
		for (size_t i = 0; i < st->new_edges.n; i++)
			buf_addf(&b, "%s %s -> %s", i ? "," : "",
			         c->m->services[st->new_edges.v[i].caller].name,
			         c->m->services[st->new_edges.v[i].dep].name);
	}
	while (b.len && b.data[b.len - 1] == ';')
		b.data[--b.len] = '\0';
	console_line(c->con, CON_HEAD, "%s", buf_cstr(&b));
	buf_release(&b);
}

static void on_service(void *ud, const struct env_service *s,
                       enum env_note what)
{
	const struct progress *c = ud;
	const char *stub = s->mode == PLAN_STUB ? " (stub)" : "";

	/* on a terminal what is in flight is on the status line */
	if (what == ENV_NOTE_STARTED || what == ENV_NOTE_RECHECK)
		console_busy(c->con, s->name, "%s%s %s", s->name, stub,
		             what == ENV_NOTE_STARTED ? "starting"
		                                      : "checked again");
	else
		console_done(c->con, s->name);
	if (!console_shows(c->con, CONSOLE_NORMAL))
		return;
	switch (what) {
	case ENV_NOTE_STARTED:
		if (!console_is_terminal(c->con))
			console_line(c->con, CON_PLAIN,
			             "  %-*s started   %6.2fs%s", c->width,
			             s->name, (double)s->started_ms / 1000,
			             stub);
		break;
	case ENV_NOTE_READY:
		console_line(c->con, CON_OK, "  %-*s ready     %6.2fs%s%s",
		             c->width, s->name, (double)s->checked_ms / 1000,
		             stub,
		             s->checked_ms != s->ready_ms ? " (again)" : "");
		break;
	case ENV_NOTE_COMPLETED:
		console_line(c->con, CON_OK, "  %-*s completed %6.2fs",
		             c->width, s->name, (double)s->ready_ms / 1000);
		break;
	case ENV_NOTE_SWAPPED:
		console_line(c->con, CON_PLAIN,
		             "  %-*s swapped in for its stub (the name "
		             "answered nothing for %lld ms)",
		             c->width, s->name, (long long)s->swap_gap_ms);
		break;
	case ENV_NOTE_RECHECK:
		console_line(c->con, CON_PLAIN,
		             "  %-*s checked again: a dependency was swapped",
		             c->width, s->name);
		break;
	default:
		break;
	}
}

/* lines < 0: all of it */
static void print_tail(struct console *con, const struct buf *out, int lines)
{
	const char *end = out->data ? out->data + out->len : NULL, *p = end;
	int n = 0;

	if (!end)
		return;
	while (p > out->data && p[-1] == '\n')
		p--, end--;
	while (p > out->data && (lines < 0 || n < lines)) {
		p--;
		if (*p == '\n')
			n++;
	}
	if (*p == '\n')
		p++;
	while (p < end) {
		size_t k = strcspn(p, "\n");

		if (p + k > end)
			k = (size_t)(end - p);
		console_line(con, CON_DETAIL, "    | %.*s", (int)k, p);
		p += k + 1;
	}
}

static void on_suite(void *ud, const struct suite_run *r, enum runner_note what)
{
	const struct progress *c = ud;
	const char *name = c->m->suites[r->suite].name;
	int ok = suite_status_ok(r->status);

	if (what == RUNNER_NOTE_STARTED) {
		console_busy(c->con, name, "%s running (attempt %zu)", name,
		             r->nattempts);
		return;
	}
	if (what == RUNNER_NOTE_RETRYING) {
		if (console_shows(c->con, CONSOLE_NORMAL))
			console_line(c->con, CON_WARN,
			             "  %-*s %s, again (retry %zu)", c->width,
			             name, r->summary, r->nattempts);
		return;
	}
	if (what != RUNNER_NOTE_ENDED)
		return;
	console_done(c->con, name);
	console_line(c->con,
	             r->status == SUITE_FLAKY ? CON_WARN
	             : ok                     ? CON_OK
	                                      : CON_BAD,
	             "  %-*s %-9s %6.2fs%s%s", c->width, name,
	             suite_status_name(r->status),
	             (double)(r->end_ms - r->start_ms) / 1000, ok ? "" : "  ",
	             ok ? "" : r->summary);
	if (!console_shows(c->con, CONSOLE_NORMAL))
		return;
	for (size_t i = 0; i < r->artifacts.refused.n; i++)
		console_line(c->con, CON_WARN, "    artifact %s",
		             r->artifacts.refused.v[i]);
	if (console_shows(c->con, CONSOLE_VERBOSE))
		print_tail(c->con, &r->output, -1);
	else if (!ok)
		print_tail(c->con, &r->output, FAILED_OUTPUT_LINES);
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s && !rc; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (!rc && mkdir(p, 0755) && errno != EEXIST)
		rc = -1;
	if (rc)
		orch_error_set("report directory '%s': %s", path,
		               strerror(errno));
	free(p);
	return rc;
}

static char *absolute(const char *dir, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", dir, path);
}

/* The report directory: --report-dir, else .orchestrate/runs/<run id>. */
static char *report_dir(const struct cmd_ctx *ctx, const char *opt,
                        const char *run_id, int *is_default)
{
	char cwd[PATH_MAX];
	const char *base = getcwd(cwd, sizeof(cwd)) ? cwd : ".";

	*is_default = !opt;
	if (opt)
		return absolute(base, opt);
	return xasprintf("%s/.orchestrate/runs/%s", ctx->manifest->dir, run_id);
}

/* `latest` beside the default report directories. */
static void link_latest(const char *dir, const char *run_id)
{
	char *parent = xstrdup(dir), *slash = strrchr(parent, '/');
	char *tmp, *link;

	if (!slash)
		goto out;
	*slash = '\0';
	tmp = xasprintf("%s/.latest.%ld", parent, (long)getpid());
	link = xasprintf("%s/latest", parent);
	unlink(tmp);
	if (symlink(run_id, tmp) == 0 && rename(tmp, link))
		unlink(tmp);
	free(tmp);
	free(link);
out:
	free(parent);
}

/*
 * report.json, junit.xml and report.html into dir (when it could be
 * made), all rendered from the one document; its Markdown summary
 * appended to $GITHUB_STEP_SUMMARY whatever happens to dir.
 */
static int write_report(const struct cmd_ctx *ctx, const struct test_run *tr,
                        const char *dir, int dir_ok, int kept,
                        const char *engine, const struct git_state *git)
{
	struct report_info info = { 0 };
	struct buf doc = BUF_INIT;
	const char *summary = getenv("GITHUB_STEP_SUMMARY");
	int rc = 0;

	info.project = ctx->project;
	info.run_id = env_run_id(tr->env);
	info.manifest = ctx->manifest->path;
	info.engine = engine;
	info.report_dir = dir_ok ? dir : NULL;
	info.kept = kept;
	info.mask = ctx->mask;
	info.git = git;
	report_json(ctx->manifest, tr, &info, &doc);
	if (summary && *summary &&
	    report_append_markdown(summary, doc.data, doc.len))
		cmd_warning("GITHUB_STEP_SUMMARY: %s", orch_error_last());
	if (!dir_ok)
		rc = orch_error_set("the report could not be written");
	else
		rc = report_write_files(dir, doc.data, doc.len);
	buf_release(&doc);
	return rc;
}

/*
 * The repository's state as the run starts; not in one is no error.
 * What orchestrate writes there does not count as a change.
 */
static int read_git(const struct cmd_ctx *ctx, const char *dir,
                    struct git_state *git)
{
	char *ours = xasprintf("%s/.orchestrate", ctx->manifest->dir);
	const char *exclude[] = { ours, dir, NULL };
	int rc = git_state_read(ctx->manifest->dir, exclude, git);

	if (rc && rc != ORCH_ENOTFOUND)
		cmd_warning("%s: the report has no git state",
		            orch_error_last());
	free(ours);
	return rc == 0;
}

static void print_result(struct console *con, const struct test_run *tr,
                         int64_t t0)
{
	struct test_counts n;

	test_count(tr, &n);
	console_line(con, tr->exit_code == 0 ? CON_OK : CON_BAD,
	             "test %s: %zu passed, %zu failed, %zu flaky, %zu timed "
	             "out, %zu skipped in %.2fs",
	             tr->interrupted      ? "interrupted"
	             : tr->exit_code == 0 ? "passed"
	             : tr->exit_code == 1 ? "failed"
	                                  : "could not bring the "
	                                    "environment up",
	             n.passed, n.failed, n.flaky, n.timed_out, n.skipped,
	             (double)(now_ms() - t0) / 1000);
	if (tr->diag.failed)
		console_line(con, CON_BAD, "diagnosis: %s", tr->diag.summary);
}

/* --keep-on-failure: the failed stage stays; how to reach and remove it. */
static void print_kept(const struct cmd_ctx *ctx, const struct test_run *tr)
{
	cmd_line("kept: the environment of the failed stage runs (run %s, "
	         "network %s)",
	         env_run_id(tr->env), env_network_name(tr->env));
	for (size_t i = 0; i < env_nservices(tr->env); i++) {
		const struct env_service *s = env_service(tr->env, i);

		if (s->mode == PLAN_ABSENT)
			continue;
		for (size_t k = 0; k < s->nendpoints; k++)
			cmd_line("  %s%s  %s:%d -> %d/%s", s->name,
			         s->mode == PLAN_STUB ? " (stub)" : "",
			         s->endpoints[k].host_ip,
			         s->endpoints[k].host_port,
			         s->endpoints[k].container_port,
			         s->endpoints[k].protocol);
	}
	cmd_line("look:   orchestrate -p %s status", ctx->project);
	cmd_line("remove: orchestrate -p %s down", ctx->project);
}

int cmd_test(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "strategy", required_argument, NULL, 's' },
		{ "middle", required_argument, NULL, 'm' },
		{ "suite", required_argument, NULL, 'S' },
		{ "tag", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "fail-fast", no_argument, NULL, 'F' },
		{ "report-dir", required_argument, NULL, 'r' },
		{ "keep-on-failure", no_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct strvec suites = STRVEC_INIT, tags = STRVEC_INIT;
	struct test_opts o = { 0 };
	struct test_run tr = { 0 };
	struct progress con = { ctx->manifest, 8, NULL };
	const char *strategy_opt = NULL, *dir_opt = NULL;
	struct engine_version ver = { 0 };
	struct git_state git = { 0 };
	enum console_level level = CONSOLE_NORMAL;
	char *dir = NULL, *engine = NULL;
	int64_t t0 = now_ms();
	int c, ret, middle = -1, jobs = 0, kept = 0, dir_ok, is_default, in_git;
	long v;

	while ((c = getopt_long(argc, argv, "hqv", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			strategy_opt = optarg;
			break;
		case 'm':
			if (cmd_parse_middle(test_usage, optarg, &middle))
				return ORCH_EXIT_USAGE;
			break;
		case 'S':
			strvec_push(&suites, optarg);
			break;
		case 't':
			strvec_push(&tags, optarg);
			break;
		case 'j':
			if (parse_int(optarg, 1, 1024, &v))
				return cmd_usage_error(
				        test_usage,
				        "'--jobs' expects a number "
				        "from 1 to 1024, not '%s'",
				        optarg);
			jobs = (int)v;
			break;
		case 'F':
			o.fail_fast = 1;
			break;
		case 'r':
			dir_opt = optarg;
			break;
		case 'k':
			o.keep_on_failure = 1;
			break;
		case 'q':
			level = CONSOLE_QUIET;
			break;
		case 'v':
			level = CONSOLE_VERBOSE;
			break;
		case 'h':
			fputs(test_usage, stdout);
			return 0;
		default:
			return cmd_usage_error(test_usage, "bad option");
		}
	}
	con.con = console_new(level);
	/* `--suite a b` reads naturally: extra words are suites too */
	for (int i = optind; i < argc; i++)
		strvec_push(&suites, argv[i]);
	for (size_t i = 0; i < ctx->manifest->nservices; i++)
		if ((int)strlen(ctx->manifest->services[i].name) > con.width)
			con.width =
			        (int)strlen(ctx->manifest->services[i].name);
	for (size_t i = 0; i < ctx->manifest->nsuites; i++)
		if ((int)strlen(ctx->manifest->suites[i].name) > con.width)
			con.width = (int)strlen(ctx->manifest->suites[i].name);

	o.e = ctx->engine;
	o.m = ctx->manifest;
	o.project = ctx->project;
	o.middle = middle;
	o.suites = &suites;
	o.tags = &tags;
	o.jobs = jobs ? jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	o.t0 = t0;
	o.on_stage = on_stage;
	o.on_service = on_service;
	o.on_suite = on_suite;
	o.ud = &con;
	if (plan_resolve_strategy(ctx->manifest, strategy_opt, &o.strategy) ||
	    test_prepare(&tr, &o)) {
		ret = cmd_error(ORCH_EXIT_USAGE, "%s", orch_error_last());
		goto out;
	}
	cmd_engine_caveats(ctx);
	o.signal_fd = signals_install(ctx->engine);
	if (o.signal_fd < 0) {
		ret = cmd_error(ORCH_EXIT_ENV, "%s", orch_error_last());
		goto out;
	}
	dir = report_dir(ctx, dir_opt, env_run_id(tr.env), &is_default);
	in_git = read_git(ctx, dir, &git);
	dir_ok = make_dirs(dir) == 0;
	if (!dir_ok)
		cmd_warning("%s: the results are printed here only",
		            orch_error_last());
	o.report_dir = dir;
	o.mask = ctx->mask;
	if (engine_version(ctx->engine, &ver) == 0)
		engine = xasprintf("%s (API %s)",
		                   ver.version ? ver.version : "?",
		                   engine_api_version(ctx->engine));
	engine_version_release(&ver);
	if (console_shows(con.con, CONSOLE_NORMAL))
		console_line(con.con, CON_HEAD,
		             "test: project '%s', run %s, strategy %s: %zu "
		             "stage%s",
		             ctx->project, env_run_id(tr.env),
		             strategy_name(tr.plan->strategy), tr.plan->nstages,
		             tr.plan->nstages == 1 ? "" : "s");

	signals_arm();
	ret = test_execute(&tr, &o);
	signals_disarm();
	print_result(con.con, &tr, t0);

	/* every container's log, before any goes */
	if (dir_ok) {
		char *logs = xasprintf("%s/logs", dir);

		if (env_write_logs(tr.env, logs, ctx->mask))
			cmd_warning("logs: %s", orch_error_last());
		free(logs);
	}
	if (o.keep_on_failure && tr.failing_stage >= 0 && !tr.interrupted &&
	    env_keep(tr.env) == 0) {
		kept = 1;
		print_kept(ctx, &tr);
	} else {
		if (tr.interrupted)
			cmd_note("interrupted by %s: removing run %s (again to "
			         "exit at once)",
			         signals_name(tr.interrupted),
			         env_run_id(tr.env));
		if (cmd_env_teardown(tr.env, tr.interrupted != 0, ret) && !ret)
			ret = ORCH_EXIT_TEARDOWN;
	}
	if (write_report(ctx, &tr, dir, dir_ok, kept, engine,
	                 in_git ? &git : NULL) == 0) {
		if (is_default)
			link_latest(dir, env_run_id(tr.env));
		cmd_line("report: %s/report.html (report.json, junit.xml, "
		         "logs/)",
		         dir);
	} else {
		cmd_error(ORCH_EXIT_REPORT, "%s", orch_error_last());
		if (!tr.interrupted)
			ret = ORCH_EXIT_REPORT;
	}
out:
	console_free(con.con);
	git_state_release(&git);
	test_run_release(&tr);
	strvec_clear(&suites);
	strvec_clear(&tags);
	free(dir);
	free(engine);
	return ret;
}
