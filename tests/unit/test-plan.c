/*
 * test-plan.c: levels, the five strategies and the suite rule on small
 * graphs built in C (no YAML: the planner must not depend on the loader).
 */
#include <stdarg.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "graph.h"
#include "harness.h"
#include "manifest.h"
#include "mfbuild.h"
#include "plan.h"
#include "plan_json.h"
#include "util.h"

/*
 * Renderings that make assertions one line each. Buffers are static and
 * rotate, so a few can live in one assertion.
 */
static char *out_buf(void)
{
	static char bufs[8][512];
	static int next;

	next = (next + 1) % 8;
	bufs[next][0] = '\0';
	return bufs[next];
}

static void append(char *o, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void append(char *o, const char *fmt, ...)
{
	size_t len = strlen(o);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o + len, 512 - len, fmt, ap);
	va_end(ap);
}

/* "api~ web" : real services plain, stubs with '~', absent left out */
static const char *config(const struct manifest *m, const struct plan *p,
                          size_t stage)
{
	char *o = out_buf();

	for (size_t i = 0; i < m->nservices; i++) {
		enum plan_mode mode = p->stages[stage].modes[i];

		if (mode == PLAN_ABSENT)
			continue;
		append(o, "%s%s%s", *o ? " " : "", m->services[i].name,
		       mode == PLAN_STUB ? "~" : "");
	}
	return o;
}

static const char *names(const struct manifest *m, const struct plan_indices *l)
{
	char *o = out_buf();

	for (size_t i = 0; i < l->n; i++)
		append(o, "%s%s", i ? " " : "", m->services[l->v[i]].name);
	return o;
}

static const char *edges(const struct manifest *m, const struct plan_edges *l)
{
	char *o = out_buf();

	for (size_t i = 0; i < l->n; i++)
		append(o, "%s%s>%s", i ? " " : "",
		       m->services[l->v[i].caller].name,
		       m->services[l->v[i].dep].name);
	return o;
}

/* "s-api s-web*" : the suites a stage runs, '*' for a re-run */
static const char *runs(const struct manifest *m, const struct plan *p,
                        size_t stage)
{
	const struct plan_stage *st = &p->stages[stage];
	char *o = out_buf();

	for (size_t i = 0; i < st->nruns; i++)
		append(o, "%s%s%s", i ? " " : "",
		       m->suites[st->runs[i].suite].name,
		       st->runs[i].previous_stage >= 0 ? "*" : "");
	return o;
}

static const struct plan_run *run_of(const struct manifest *m,
                                     const struct plan *p, size_t stage,
                                     const char *name)
{
	for (size_t k = 0; k < m->nsuites; k++)
		if (!strcmp(m->suites[k].name, name))
			return plan_stage_run(&p->stages[stage], k);
	return NULL;
}

/*
 * db <- api, worker <- web; db has no stub unless db_stub. Suites at
 * every level and one across two levels.
 */
static void diamond(struct manifest *m, int db_stub)
{
	svc(m, "db", REAL | (db_stub ? STUB : 0), "");
	svc(m, "api", REAL | STUB, "db");
	svc(m, "worker", REAL | STUB, "db");
	svc(m, "web", REAL | STUB, "api,worker");
	suite(m, "s-db", "db");
	suite(m, "s-api", "api");
	suite(m, "s-worker", "worker");
	suite(m, "s-web", "web");
	suite(m, "s-cross", "db,web");
	finish(m);
}

/* a <- b <- c, every one with a stub */
static void chain(struct manifest *m)
{
	svc(m, "a", REAL | STUB, "");
	svc(m, "b", REAL | STUB, "a");
	svc(m, "c", REAL | STUB, "b");
	suite(m, "sa", "a");
	suite(m, "sb", "b");
	suite(m, "sc", "c");
	finish(m);
}

/* app on five leaves */
static void fan_out(struct manifest *m)
{
	svc(m, "app", REAL | STUB, "l1,l2,l3,l4,l5");
	svc(m, "l1", REAL | STUB, "");
	svc(m, "l2", REAL | STUB, "");
	svc(m, "l3", REAL | STUB, "");
	svc(m, "l4", REAL | STUB, "");
	svc(m, "l5", REAL, "");
	suite(m, "s-app", "app");
	suite(m, "s-l1", "l1");
	finish(m);
}

/* api on db and the external payments; mailer is external and unused */
static void externals(struct manifest *m)
{
	svc(m, "db", REAL | STUB, "");
	svc(m, "payments", STUB, "");
	svc(m, "api", REAL, "db,payments");
	svc(m, "mailer", STUB, "");
	suite(m, "s-api", "api");
	suite(m, "s-contract", "payments");
	finish(m);
}

static struct plan *build(const struct manifest *m, const char *strategy,
                          int middle)
{
	enum strategy s;
	struct plan *p = NULL;

	if (strategy_parse(strategy, &s) || plan_build(m, s, middle, &p)) {
		printf("# %s\n", orch_error_last());
		return NULL;
	}
	return p;
}

TEST(strategy_names)
{
	enum strategy s;

	for (int i = 0; i < STRATEGY_COUNT; i++) {
		ASSERT_EQ_INT(
		        strategy_parse(strategy_name((enum strategy)i), &s), 0);
		ASSERT_EQ_INT(s, i);
	}
	ASSERT_EQ_STR(strategy_name(STRATEGY_TOP_DOWN), "top-down");
	ASSERT_EQ_INT(strategy_parse("topdown", &s), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "unknown strategy 'topdown'");
	ASSERT_CONTAINS(orch_error_last(), "big-bang, incremental, bottom-up");
	ASSERT_EQ_STR(strategy_name((enum strategy)42), "unknown");
}

TEST(levels)
{
	struct manifest m = { 0 };
	int levels[4];

	diamond(&m, 0);
	ASSERT_EQ_INT(graph_levels(&m, levels), 2);
	ASSERT_EQ_INT(levels[0], 0);
	ASSERT_EQ_INT(levels[1], 1);
	ASSERT_EQ_INT(levels[2], 1);
	ASSERT_EQ_INT(levels[3], 2);
	release(&m);

	/* a long edge does not lower a level: c on a and b, b on a */
	svc(&m, "c", REAL, "a,b");
	svc(&m, "b", REAL, "a");
	svc(&m, "a", REAL, "");
	finish(&m);
	ASSERT_EQ_INT(graph_levels(&m, levels), 2);
	ASSERT_EQ_INT(levels[0], 2);
	ASSERT_EQ_INT(levels[1], 1);
	ASSERT_EQ_INT(levels[2], 0);
	release(&m);
}

TEST(suite_levels)
{
	struct manifest m = { 0 };
	struct plan *p;

	diamond(&m, 0);
	p = build(&m, "big-bang", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->top, 2);
	ASSERT_EQ_INT(p->suite_levels[0], 0);
	ASSERT_EQ_INT(p->suite_levels[1], 1);
	ASSERT_EQ_INT(p->suite_levels[3], 2);
	ASSERT_EQ_INT(p->suite_levels[4], 2); /* db and web: the highest */
	plan_free(p);
	release(&m);
}

TEST(cycle_is_an_error)
{
	struct manifest m = { 0 };
	struct plan *p = NULL;

	svc(&m, "a", REAL, "b");
	svc(&m, "b", REAL, "a");
	finish(&m);
	ASSERT_EQ_INT(plan_build(&m, STRATEGY_BOTTOM_UP, -1, &p),
	              ORCH_EINVALID);
	ASSERT(p == NULL);
	release(&m);
}

TEST(big_bang)
{
	struct manifest m = { 0 };
	struct plan *p;

	diamond(&m, 0);
	p = build(&m, "big-bang", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 1);
	ASSERT_EQ_INT(p->middle, -1);
	ASSERT_EQ_STR(config(&m, p, 0), "db api worker web");
	ASSERT_EQ_STR(names(&m, &p->stages[0].new_real), "db api worker web");
	ASSERT_EQ_STR(edges(&m, &p->stages[0].new_edges),
	              "api>db worker>db web>api web>worker");
	ASSERT_EQ_STR(runs(&m, p, 0), "s-db s-api s-worker s-web s-cross");
	ASSERT_EQ_INT(p->stages[0].notes.n, 0);
	plan_free(p);
	release(&m);
}

TEST(incremental)
{
	struct manifest m = { 0 };
	struct plan *p;

	diamond(&m, 0);
	p = build(&m, "incremental", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 4);
	ASSERT_EQ_STR(p->stages[0].label, "add 'db'");
	ASSERT_EQ_STR(config(&m, p, 0), "db");
	ASSERT_EQ_STR(config(&m, p, 1), "db api");
	ASSERT_EQ_STR(config(&m, p, 2), "db api worker");
	ASSERT_EQ_STR(config(&m, p, 3), "db api worker web");
	ASSERT_EQ_STR(runs(&m, p, 0), "s-db");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-api");
	ASSERT_EQ_STR(runs(&m, p, 2), "s-worker");
	ASSERT_EQ_STR(runs(&m, p, 3), "s-web s-cross");
	ASSERT_EQ_STR(edges(&m, &p->stages[3].new_edges), "web>api web>worker");
	plan_free(p);
	release(&m);
}

TEST(incremental_manifest_order_breaks_ties)
{
	struct manifest m = { 0 };
	struct plan *p;

	svc(&m, "web", REAL, "api,worker");
	svc(&m, "worker", REAL, "db");
	svc(&m, "api", REAL, "db");
	svc(&m, "db", REAL, "");
	finish(&m);
	p = build(&m, "incremental", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 4);
	ASSERT_EQ_STR(names(&m, &p->stages[0].new_real), "db");
	ASSERT_EQ_STR(names(&m, &p->stages[1].new_real), "worker");
	ASSERT_EQ_STR(names(&m, &p->stages[2].new_real), "api");
	ASSERT_EQ_STR(names(&m, &p->stages[3].new_real), "web");
	ASSERT_EQ_INT(p->notes.n, 1); /* no suites */
	ASSERT_CONTAINS(p->notes.v[0], "no suites");
	plan_free(p);
	release(&m);
}

TEST(bottom_up_runs_each_suite_once)
{
	struct manifest m = { 0 };
	struct plan *p;

	diamond(&m, 1);
	p = build(&m, "bottom-up", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 3);
	ASSERT_EQ_STR(config(&m, p, 0), "db");
	ASSERT_EQ_STR(config(&m, p, 1), "db api worker");
	ASSERT_EQ_STR(config(&m, p, 2), "db api worker web");
	ASSERT_EQ_STR(names(&m, &p->stages[0].absent), "api worker web");
	ASSERT_EQ_STR(runs(&m, p, 0), "s-db");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-api s-worker");
	ASSERT_EQ_STR(runs(&m, p, 2), "s-web s-cross");
	ASSERT_EQ_STR(edges(&m, &p->stages[1].new_edges), "api>db worker>db");
	ASSERT_EQ_INT(p->stages[1].stubs.n, 0);
	ASSERT_EQ_STR(p->stages[1].label, "levels <= 1 real");
	plan_free(p);
	release(&m);
}

TEST(top_down_chain_reruns_upper_suites)
{
	struct manifest m = { 0 };
	const struct plan_run *r;
	struct plan *p;

	chain(&m);
	p = build(&m, "top-down", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 3);
	ASSERT_EQ_STR(config(&m, p, 0), "b~ c");
	ASSERT_EQ_STR(config(&m, p, 1), "a~ b c");
	ASSERT_EQ_STR(config(&m, p, 2), "a b c");
	ASSERT_EQ_STR(runs(&m, p, 0), "sc");
	ASSERT_EQ_STR(runs(&m, p, 1), "sb sc*");
	ASSERT_EQ_STR(runs(&m, p, 2), "sa sb* sc*");
	ASSERT_EQ_STR(names(&m, &p->stages[0].stubs_started), "b");
	ASSERT_EQ_STR(names(&m, &p->stages[1].stubs_replaced), "b");
	ASSERT_EQ_STR(names(&m, &p->stages[1].stubs_started), "a");
	ASSERT_EQ_STR(edges(&m, &p->stages[1].new_edges), "c>b");
	ASSERT_EQ_STR(edges(&m, &p->stages[2].new_edges), "b>a");

	r = run_of(&m, p, 0, "sc");
	ASSERT(r);
	ASSERT_EQ_INT(r->previous_stage, -1);
	ASSERT_EQ_STR(names(&m, &r->stubs), "b");
	ASSERT_EQ_STR(edges(&m, &r->edges), "");
	r = run_of(&m, p, 2, "sc");
	ASSERT(r);
	ASSERT_EQ_INT(r->previous_stage, 1);
	ASSERT_EQ_STR(names(&m, &r->deps), "a b c");
	ASSERT_EQ_INT(r->stubs.n, 0);
	ASSERT_EQ_STR(edges(&m, &r->edges), "b>a c>b");
	ASSERT_EQ_STR(edges(&m, &r->new_edges), "b>a");
	plan_free(p);
	release(&m);
}

TEST(top_down_missing_stub_comes_up_real)
{
	struct manifest m = { 0 };
	struct plan *p;

	diamond(&m, 0);
	p = build(&m, "top-down", -1);
	ASSERT(p);
	/* the last stage would change nothing: db is already real */
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(config(&m, p, 0), "api~ worker~ web");
	ASSERT_EQ_STR(names(&m, &p->stages[0].absent), "db");
	ASSERT_EQ_STR(runs(&m, p, 0), "s-web");
	ASSERT_EQ_STR(config(&m, p, 1), "db api worker web");
	ASSERT_EQ_INT(p->stages[1].notes.n, 1);
	ASSERT_EQ_STR(p->stages[1].notes.v[0],
	              "'db' has no stub: comes up real");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-db s-api s-worker s-web* s-cross");
	ASSERT_EQ_STR(names(&m, &p->stages[1].stubs_replaced), "api worker");
	plan_free(p);
	release(&m);
}

TEST(top_down_with_stubs_everywhere)
{
	struct manifest m = { 0 };
	const struct plan_run *r;
	struct plan *p;

	diamond(&m, 1);
	p = build(&m, "top-down", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 3);
	ASSERT_EQ_STR(config(&m, p, 1), "db~ api worker web");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-api s-worker s-web*");
	ASSERT_EQ_STR(runs(&m, p, 2), "s-db s-api* s-worker* s-web* s-cross");
	r = run_of(&m, p, 1, "s-web");
	ASSERT(r);
	ASSERT_EQ_STR(edges(&m, &r->new_edges), "web>api web>worker");
	ASSERT_EQ_STR(names(&m, &r->stubs), "db");
	r = run_of(&m, p, 2, "s-web");
	ASSERT(r);
	ASSERT_EQ_STR(edges(&m, &r->new_edges), "api>db worker>db");
	ASSERT_EQ_INT(r->stubs.n, 0);
	ASSERT_EQ_INT(p->stages[2].notes.n, 0);
	plan_free(p);
	release(&m);
}

TEST(sandwich_default_middle)
{
	struct manifest m = { 0 };
	struct plan *p;

	diamond(&m, 0);
	p = build(&m, "sandwich", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->middle, 1);
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(config(&m, p, 0), "db api~ worker~ web");
	ASSERT_EQ_STR(runs(&m, p, 0), "s-db s-web s-cross");
	ASSERT_EQ_STR(edges(&m, &p->stages[0].new_edges), "");
	ASSERT_EQ_STR(config(&m, p, 1), "db api worker web");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-api s-worker s-web* s-cross*");
	ASSERT_EQ_STR(edges(&m, &p->stages[1].new_edges),
	              "api>db worker>db web>api web>worker");
	plan_free(p);
	release(&m);
}

TEST(sandwich_middle_edges)
{
	struct manifest m = { 0 };
	struct plan *p;

	diamond(&m, 0);
	/* m = 0: db has no stub, so stage 1 is everything: one stage */
	p = build(&m, "sandwich", 0);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 1);
	ASSERT_EQ_STR(p->stages[0].notes.v[0],
	              "'db' has no stub: comes up real");
	plan_free(p);
	/* m = T: the top level is nobody's dependency, so it is absent */
	p = build(&m, "sandwich", 2);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(config(&m, p, 0), "db api worker");
	ASSERT_EQ_STR(config(&m, p, 1), "db api worker web");
	plan_free(p);
	p = NULL;
	ASSERT_EQ_INT(plan_build(&m, STRATEGY_SANDWICH, 3, &p), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "middle level 3 out of range");
	ASSERT_EQ_INT(plan_build(&m, STRATEGY_SANDWICH, -2, &p), ORCH_EINVALID);
	ASSERT_EQ_INT(plan_build(&m, STRATEGY_TOP_DOWN, 1, &p), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "only to the sandwich strategy");
	ASSERT(p == NULL);
	release(&m);

	diamond(&m, 1);
	p = build(&m, "sandwich", 0);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(config(&m, p, 0), "db~ api worker web");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-db s-api* s-worker* s-web* s-cross");
	plan_free(p);
	release(&m);
}

TEST(fan_out)
{
	struct manifest m = { 0 };
	struct plan *p;

	fan_out(&m);
	p = build(&m, "top-down", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 2);
	/* l5 has no stub */
	ASSERT_EQ_STR(config(&m, p, 0), "app l1~ l2~ l3~ l4~ l5");
	ASSERT_EQ_STR(names(&m, &p->stages[0].stubs_started), "l1 l2 l3 l4");
	ASSERT_EQ_STR(p->stages[0].notes.v[0],
	              "'l5' has no stub: comes up real");
	ASSERT_EQ_STR(edges(&m, &p->stages[0].new_edges), "app>l5");
	ASSERT_EQ_STR(names(&m, &p->stages[1].stubs_replaced), "l1 l2 l3 l4");
	ASSERT_EQ_STR(edges(&m, &p->stages[1].new_edges),
	              "app>l1 app>l2 app>l3 app>l4");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-app* s-l1");
	plan_free(p);

	p = build(&m, "sandwich", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->middle, 1);
	ASSERT_EQ_STR(config(&m, p, 0), "l1 l2 l3 l4 l5");
	ASSERT_EQ_STR(config(&m, p, 1), "app l1 l2 l3 l4 l5");
	plan_free(p);

	p = build(&m, "bottom-up", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(runs(&m, p, 0), "s-l1");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-app");
	plan_free(p);
	release(&m);
}

TEST(externals_are_always_stubs)
{
	struct manifest m = { 0 };
	const struct plan_run *r;
	struct plan *p;

	externals(&m);
	p = build(&m, "big-bang", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 1);
	/* mailer: nobody needs it */
	ASSERT_EQ_STR(config(&m, p, 0), "db payments~ api");
	ASSERT_EQ_STR(runs(&m, p, 0), "s-api s-contract");
	r = run_of(&m, p, 0, "s-api");
	ASSERT(r);
	ASSERT_EQ_STR(names(&m, &r->stubs), "payments");
	ASSERT_EQ_STR(edges(&m, &r->edges), "api>db");
	plan_free(p);

	p = build(&m, "bottom-up", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(config(&m, p, 0), "db payments~");
	ASSERT_EQ_STR(runs(&m, p, 0), "s-contract");
	ASSERT_EQ_STR(config(&m, p, 1), "db payments~ api");
	ASSERT_EQ_STR(runs(&m, p, 1), "s-api");
	plan_free(p);

	p = build(&m, "incremental", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(p->stages[1].label, "add 'api'");
	plan_free(p);

	p = build(&m, "top-down", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(config(&m, p, 0), "db~ payments~ api");
	ASSERT_EQ_STR(runs(&m, p, 0), "s-api s-contract");
	ASSERT_EQ_STR(config(&m, p, 1), "db payments~ api");
	/* the contract suite's configuration did not change */
	ASSERT_EQ_STR(runs(&m, p, 1), "s-api*");
	plan_free(p);
	release(&m);
}

TEST(one_level)
{
	struct manifest m = { 0 };
	struct plan *p;

	svc(&m, "a", REAL | STUB, "");
	svc(&m, "b", REAL, "");
	suite(&m, "both", "a,b");
	finish(&m);
	p = build(&m, "sandwich", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->top, 0);
	ASSERT_EQ_INT(p->middle, 0);
	ASSERT_EQ_INT(p->nstages, 1);
	ASSERT_EQ_STR(config(&m, p, 0), "a b");
	plan_free(p);
	p = build(&m, "top-down", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 1);
	plan_free(p);
	p = build(&m, "incremental", -1);
	ASSERT(p);
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(runs(&m, p, 0), "");
	ASSERT_EQ_STR(runs(&m, p, 1), "both");
	plan_free(p);
	p = NULL;
	ASSERT_EQ_INT(plan_build(&m, STRATEGY_SANDWICH, 1, &p), ORCH_EINVALID);
	release(&m);
}

TEST(every_suite_runs_in_every_strategy)
{
	struct manifest m = { 0 };

	diamond(&m, 0);
	for (int s = 0; s < STRATEGY_COUNT; s++) {
		struct plan *p = NULL;
		const struct plan_stage *last;

		ASSERT_EQ_INT(plan_build(&m, (enum strategy)s, -1, &p), 0);
		last = &p->stages[p->nstages - 1];
		ASSERT_EQ_INT(last->real.n, 4);
		for (size_t k = 0; k < m.nsuites; k++) {
			int ran = 0;

			for (size_t i = 0; i < p->nstages; i++)
				ran |= plan_stage_run(&p->stages[i], k) != NULL;
			ASSERT(ran);
		}
		/* configurations only grow */
		for (size_t i = 1; i < p->nstages; i++)
			for (size_t j = 0; j < m.nservices; j++)
				ASSERT(p->stages[i].modes[j] >=
				       p->stages[i - 1].modes[j]);
		plan_free(p);
	}
	release(&m);
	plan_free(NULL);
}

TEST(missing_stub_brings_its_dependencies)
{
	struct manifest m = { 0 };
	struct plan *p;

	svc(&m, "a", REAL | STUB, "");
	svc(&m, "b", REAL, "a");
	svc(&m, "c", REAL | STUB, "b");
	suite(&m, "sc", "c");
	finish(&m);
	p = build(&m, "top-down", -1);
	ASSERT(p);
	/* b comes up real at once and needs a: as a stub */
	ASSERT_EQ_INT(p->nstages, 2);
	ASSERT_EQ_STR(config(&m, p, 0), "a~ b c");
	ASSERT_EQ_STR(p->stages[0].notes.v[0],
	              "'b' has no stub: comes up real");
	ASSERT_EQ_STR(p->stages[1].label, "every level real");
	ASSERT_EQ_STR(runs(&m, p, 1), "sc*");
	plan_free(p);
	release(&m);
}

TEST(resolve_strategy)
{
	struct manifest m = { 0 };
	enum strategy s;

	ASSERT_EQ_INT(plan_resolve_strategy(&m, NULL, &s), 0);
	ASSERT_EQ_INT(s, STRATEGY_BIG_BANG);
	m.strategy = "top-down";
	ASSERT_EQ_INT(plan_resolve_strategy(&m, NULL, &s), 0);
	ASSERT_EQ_INT(s, STRATEGY_TOP_DOWN);
	ASSERT_EQ_INT(plan_resolve_strategy(&m, "sandwich", &s), 0);
	ASSERT_EQ_INT(s, STRATEGY_SANDWICH);
	m.strategy = "sideways";
	m.path = "x.yaml";
	ASSERT_EQ_INT(plan_resolve_strategy(&m, NULL, &s), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(),
	                "x.yaml: strategy: unknown strategy 'sideways'");
	ASSERT_EQ_INT(plan_resolve_strategy(&m, "bottom-up", &s), 0);
}

TEST(empty_manifest)
{
	struct manifest m = { 0 };
	struct buf b = BUF_INIT;

	for (int s = 0; s < STRATEGY_COUNT; s++) {
		struct plan *p = NULL;

		ASSERT_EQ_INT(plan_build(&m, (enum strategy)s, -1, &p), 0);
		ASSERT_EQ_INT(p->nstages, 0);
		ASSERT_EQ_INT(plan_json(&m, p, &b), 0);
		plan_free(p);
	}
	ASSERT_CONTAINS(buf_cstr(&b), "\"stages\":\t[]");
	buf_release(&b);
}

TEST(json_document)
{
	struct manifest m = { 0 };
	struct buf b = BUF_INIT;
	struct plan *p;
	cJSON *root, *stages, *st, *run, *edge;

	diamond(&m, 0);
	p = build(&m, "top-down", -1);
	ASSERT(p);
	ASSERT_EQ_INT(plan_json(&m, p, &b), 0);
	root = cJSON_Parse(buf_cstr(&b));
	ASSERT(root);
	ASSERT_EQ_STR(cJSON_GetObjectItem(root, "strategy")->valuestring,
	              "top-down");
	ASSERT(cJSON_IsNull(cJSON_GetObjectItem(root, "middle")));
	ASSERT_EQ_INT(cJSON_GetObjectItem(root, "top_level")->valueint, 2);
	ASSERT_EQ_INT(
	        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "levels"), "web")
	                ->valueint,
	        2);
	stages = cJSON_GetObjectItem(root, "stages");
	ASSERT_EQ_INT(cJSON_GetArraySize(stages), 2);
	st = cJSON_GetArrayItem(stages, 1);
	ASSERT_EQ_INT(cJSON_GetObjectItem(st, "index")->valueint, 1);
	edge = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "new_edges"), 2);
	ASSERT_EQ_STR(cJSON_GetArrayItem(edge, 0)->valuestring, "web");
	ASSERT_EQ_STR(cJSON_GetArrayItem(edge, 1)->valuestring, "api");
	ASSERT_EQ_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(st, "notes"), 0)
	                      ->valuestring,
	              "'db' has no stub: comes up real");
	run = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "runs"), 3);
	ASSERT_EQ_STR(cJSON_GetObjectItem(run, "suite")->valuestring, "s-web");
	ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(run, "rerun")));
	ASSERT_EQ_INT(cJSON_GetObjectItem(run, "previous_stage")->valueint, 0);
	ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(run, "against_stubs")));
	ASSERT_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(run, "new_edges")),
	              4);
	cJSON_Delete(root);
	buf_release(&b);
	plan_free(p);
	release(&m);
}

int main(void)
{
	RUN(strategy_names);
	RUN(levels);
	RUN(suite_levels);
	RUN(cycle_is_an_error);
	RUN(big_bang);
	RUN(incremental);
	RUN(incremental_manifest_order_breaks_ties);
	RUN(bottom_up_runs_each_suite_once);
	RUN(top_down_chain_reruns_upper_suites);
	RUN(top_down_missing_stub_comes_up_real);
	RUN(top_down_with_stubs_everywhere);
	RUN(sandwich_default_middle);
	RUN(sandwich_middle_edges);
	RUN(fan_out);
	RUN(externals_are_always_stubs);
	RUN(one_level);
	RUN(every_suite_runs_in_every_strategy);
	RUN(missing_stub_brings_its_dependencies);
	RUN(resolve_strategy);
	RUN(empty_manifest);
	RUN(json_document);
	return harness_done();
}
