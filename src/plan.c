/*
 * plan.c: the integration strategies and the suite rule (see plan.h for
 * the rules themselves). Pure: it reads the manifest's graph and writes
 * plain data; it starts nothing and prints nothing.
 *
 * Each strategy only decides which services it wants real in each of its
 * stages; one builder turns those wishes into configurations (stubs for
 * missing dependencies, monotonic growth) and applies the suite rule, so
 * that the five strategies cannot disagree on what a stage means.
 */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "graph.h"
#include "manifest.h"

static const char *const strategy_names[STRATEGY_COUNT] = {
	[STRATEGY_BIG_BANG] = "big-bang",
	[STRATEGY_INCREMENTAL] = "incremental",
	[STRATEGY_BOTTOM_UP] = "bottom-up",
	[STRATEGY_TOP_DOWN] = "top-down",
	[STRATEGY_SANDWICH] = "sandwich",
};

const char *strategy_list(void)
{
	return "big-bang, incremental, bottom-up, top-down, sandwich";
}

int strategy_parse(const char *name, enum strategy *out)
{
	for (int i = 0; i < STRATEGY_COUNT; i++)
		if (!strcmp(name, strategy_names[i])) {
			*out = (enum strategy)i;
			return 0;
		}
	return orch_error_code(ORCH_EINVALID,
	                       "unknown strategy '%s' (valid: %s)", name,
	                       strategy_list());
}

int plan_resolve_strategy(const struct manifest *m, const char *opt,
                          enum strategy *out)
{
	int rc;

	if (opt)
		return strategy_parse(opt, out);
	if (!m->strategy) {
		*out = STRATEGY_BIG_BANG;
		return 0;
	}
	rc = strategy_parse(m->strategy, out);
	if (rc)
		return orch_error_prefix(rc, "%s: strategy",
		                         m->path ? m->path : "manifest");
	return 0;
}

const char *strategy_name(enum strategy s)
{
	if ((int)s < 0 || (int)s >= STRATEGY_COUNT)
		return "unknown";
	return strategy_names[s];
}

const char *plan_mode_name(enum plan_mode mode)
{
	switch (mode) {
	case PLAN_STUB:
		return "stub";
	case PLAN_REAL:
		return "real";
	default:
		return "absent";
	}
}

static void idx_push(struct plan_indices *l, size_t i)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n++] = i;
}

void plan_edges_push(struct plan_edges *l, size_t caller, size_t dep)
{
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].caller = caller;
	l->v[l->n].dep = dep;
	l->n++;
}

int plan_edges_has(const struct plan_edges *l, size_t caller, size_t dep)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].caller == caller && l->v[i].dep == dep)
			return 1;
	return 0;
}

static void edges_copy(struct plan_edges *dst, const struct plan_edges *src)
{
	dst->n = 0;
	for (size_t i = 0; i < src->n; i++)
		plan_edges_push(dst, src->v[i].caller, src->v[i].dep);
}

static void run_release(struct plan_run *r)
{
	free(r->deps.v);
	free(r->stubs.v);
	free(r->edges.v);
	free(r->new_edges.v);
}

static void stage_release(struct plan_stage *st)
{
	free(st->label);
	free(st->modes);
	free(st->real.v);
	free(st->stubs.v);
	free(st->absent.v);
	free(st->new_real.v);
	free(st->stubs_started.v);
	free(st->stubs_replaced.v);
	free(st->new_edges.v);
	for (size_t i = 0; i < st->nruns; i++)
		run_release(&st->runs[i]);
	free(st->runs);
	strvec_clear(&st->notes);
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstages; i++)
		stage_release(&p->stages[i]);
	free(p->stages);
	free(p->levels);
	free(p->suite_levels);
	strvec_clear(&p->notes);
	free(p);
}

const struct plan_run *plan_stage_run(const struct plan_stage *st, size_t suite)
{
	for (size_t i = 0; i < st->nruns; i++)
		if (st->runs[i].suite == suite)
			return &st->runs[i];
	return NULL;
}

/* What the builder carries from one stage to the next. */
struct builder {
	const struct manifest *m;
	struct plan *p;
	size_t stages_alloc;
	enum plan_mode *prev;          /* the previous stage's modes */
	char **last_config;            /* per suite: modes of its last run */
	int *last_stage;               /* per suite: stage of its last run */
	struct plan_edges *last_edges; /* per suite: edges of its last run */
};

static int is_external(const struct manifest *m, size_t i)
{
	return mf_service_external(&m->services[i]);
}

/* A target is satisfied when real, or present if it can only be a stub. */
static int target_ok(const struct manifest *m, const enum plan_mode *modes,
                     size_t t)
{
	return modes[t] == PLAN_REAL ||
	       (is_external(m, t) && modes[t] == PLAN_STUB);
}

/*
 * Steps 2-4 of plan.h: from the wished-for set to a configuration.
 * Iterating to a fixed point keeps it simple: a dependency that has to
 * come up real brings its own dependencies on the next pass.
 */
static void configure(struct builder *b, const char *want,
                      enum plan_mode *modes, struct strvec *notes)
{
	const struct manifest *m = b->m;
	int changed;

	memcpy(modes, b->prev, m->nservices * sizeof(*modes));
	for (size_t i = 0; i < m->nservices; i++)
		if (want[i] && !is_external(m, i))
			modes[i] = PLAN_REAL;
	do {
		changed = 0;
		for (size_t i = 0; i < m->nservices; i++) {
			const struct mf_service *s = &m->services[i];

			if (modes[i] != PLAN_REAL)
				continue;
			for (size_t d = 0; d < s->ndeps; d++) {
				size_t j = s->deps[d].index;
				const struct mf_service *dep = &m->services[j];

				if (modes[j] != PLAN_ABSENT)
					continue;
				if (dep->stub || !dep->has_real) {
					modes[j] = PLAN_STUB;
					continue;
				}
				modes[j] = PLAN_REAL;
				strvec_pushf(notes,
				             "'%s' has no stub: comes up real",
				             dep->name);
				changed = 1;
			}
		}
	} while (changed);
	for (size_t k = 0; k < m->nsuites; k++) {
		const struct mf_suite *su = &m->suites[k];
		size_t t;

		for (t = 0; t < su->targets.n; t++) {
			size_t i = su->target_index[t];

			if (!is_external(m, i) && modes[i] != PLAN_REAL)
				break;
		}
		if (t < su->targets.n)
			continue;
		for (t = 0; t < su->targets.n; t++)
			if (modes[su->target_index[t]] == PLAN_ABSENT)
				modes[su->target_index[t]] = PLAN_STUB;
	}
}

/*
 * The configuration a suite runs against: services reached from its
 * targets through real services, with their modes (0: not reached).
 */
static void suite_config(const struct manifest *m, const struct mf_suite *su,
                         const enum plan_mode *modes, char *config,
                         size_t *stack)
{
	size_t top = 0;

	memset(config, 0, m->nservices);
	for (size_t t = 0; t < su->targets.n; t++) {
		size_t i = su->target_index[t];

		if (!config[i]) {
			config[i] = (char)modes[i];
			stack[top++] = i;
		}
	}
	while (top > 0) {
		size_t i = stack[--top];
		const struct mf_service *s = &m->services[i];

		/* a stub has no dependencies: what is behind it is unseen */
		if (modes[i] != PLAN_REAL)
			continue;
		for (size_t d = 0; d < s->ndeps; d++) {
			size_t j = s->deps[d].index;

			if (!config[j]) {
				config[j] = (char)modes[j];
				stack[top++] = j;
			}
		}
	}
}

static void add_runs(struct builder *b, struct plan_stage *st)
{
	const struct manifest *m = b->m;
	char *config = xcalloc(m->nservices, 1);
	size_t *stack = xcalloc(m->nservices, sizeof(*stack));

	st->runs = xcalloc(m->nsuites, sizeof(*st->runs));
	for (size_t k = 0; k < m->nsuites; k++) {
		const struct mf_suite *su = &m->suites[k];
		struct plan_run *r;
		size_t t;

		for (t = 0; t < su->targets.n; t++)
			if (!target_ok(m, st->modes, su->target_index[t]))
				break;
		if (t < su->targets.n)
			continue;
		suite_config(m, su, st->modes, config, stack);
		if (b->last_config[k] &&
		    !memcmp(b->last_config[k], config, m->nservices))
			continue;

		r = &st->runs[st->nruns++];
		r->suite = k;
		r->previous_stage = b->last_stage[k];
		for (size_t i = 0; i < m->nservices; i++) {
			const struct mf_service *s = &m->services[i];

			if (!config[i])
				continue;
			idx_push(&r->deps, i);
			if (config[i] == PLAN_STUB)
				idx_push(&r->stubs, i);
			if (config[i] != PLAN_REAL)
				continue;
			for (size_t d = 0; d < s->ndeps; d++) {
				size_t j = s->deps[d].index;

				if (config[j] != PLAN_REAL)
					continue;
				plan_edges_push(&r->edges, i, j);
				if (!plan_edges_has(&b->last_edges[k], i, j))
					plan_edges_push(&r->new_edges, i, j);
			}
		}
		if (!b->last_config[k])
			b->last_config[k] = xmalloc(m->nservices);
		memcpy(b->last_config[k], config, m->nservices);
		b->last_stage[k] = (int)st->index;
		edges_copy(&b->last_edges[k], &r->edges);
	}
	free(config);
	free(stack);
}

/*
 * Add the stage the strategy wishes for (want[i]: service i real), unless
 * it changes nothing. Takes ownership of label.
 */
static void add_stage(struct builder *b, const char *want, char *label)
{
	const struct manifest *m = b->m;
	struct plan *p = b->p;
	enum plan_mode *modes = xcalloc(m->nservices, sizeof(*modes));
	struct strvec notes = STRVEC_INIT;
	struct plan_stage *st;

	configure(b, want, modes, &notes);
	if (!memcmp(modes, b->prev, m->nservices * sizeof(*modes))) {
		free(modes);
		free(label);
		strvec_clear(&notes);
		return;
	}

	ALLOC_GROW(p->stages, p->nstages + 1, b->stages_alloc);
	st = &p->stages[p->nstages];
	memset(st, 0, sizeof(*st));
	st->index = p->nstages++;
	st->label = label;
	st->modes = modes;
	st->notes = notes;
	for (size_t i = 0; i < m->nservices; i++) {
		const struct mf_service *s = &m->services[i];
		enum plan_mode was = b->prev[i];

		switch (modes[i]) {
		case PLAN_REAL:
			idx_push(&st->real, i);
			if (was != PLAN_REAL)
				idx_push(&st->new_real, i);
			if (was == PLAN_STUB)
				idx_push(&st->stubs_replaced, i);
			for (size_t d = 0; d < s->ndeps; d++) {
				size_t j = s->deps[d].index;

				if (modes[j] == PLAN_REAL &&
				    (was != PLAN_REAL ||
				     b->prev[j] != PLAN_REAL))
					plan_edges_push(&st->new_edges, i, j);
			}
			break;
		case PLAN_STUB:
			idx_push(&st->stubs, i);
			if (was == PLAN_ABSENT)
				idx_push(&st->stubs_started, i);
			break;
		default:
			idx_push(&st->absent, i);
			break;
		}
	}
	add_runs(b, st);
	memcpy(b->prev, modes, m->nservices * sizeof(*modes));
}

static void plan_big_bang(struct builder *b, char *want)
{
	memset(want, 1, b->m->nservices);
	add_stage(b, want, xstrdup("everything real"));
}

static int plan_incremental(struct builder *b, char *want)
{
	const struct manifest *m = b->m;
	size_t *order = xcalloc(m->nservices, sizeof(*order));
	size_t added = 0;
	int rc = graph_topo_order(m, order);

	if (rc)
		goto out;
	for (size_t k = 0; k < m->nservices; k++) {
		size_t i = order[k];

		/* an external service is never integrated: no stage of its own */
		if (is_external(m, i))
			continue;
		want[i] = 1;
		added++;
		add_stage(b, want, xasprintf("add '%s'", m->services[i].name));
	}
	if (!added)
		add_stage(b, want, xstrdup("external services only"));
out:
	free(order);
	return rc;
}

static void plan_bottom_up(struct builder *b, char *want)
{
	const struct plan *p = b->p;

	for (int level = 0; level <= p->top; level++) {
		for (size_t i = 0; i < p->nservices; i++)
			want[i] = p->levels[i] <= level;
		add_stage(b, want,
		          level ? xasprintf("levels <= %d real", level)
		                : xstrdup("level 0 real"));
	}
}

static void plan_top_down(struct builder *b, char *want)
{
	const struct plan *p = b->p;

	for (int k = 0; k <= p->top; k++) {
		int from = p->top - k;

		for (size_t i = 0; i < p->nservices; i++)
			want[i] = p->levels[i] >= from;
		add_stage(b, want,
		          from == p->top
		                  ? xasprintf("level %d real, below stubbed",
		                              from)
		          : from ? xasprintf("levels >= %d real, below stubbed",
		                             from)
		                 : xstrdup("every level real"));
	}
}

static void plan_sandwich(struct builder *b, char *want)
{
	const struct plan *p = b->p;

	for (size_t i = 0; i < p->nservices; i++)
		want[i] = p->levels[i] != p->middle;
	add_stage(b, want,
	          xasprintf("levels other than %d real, level %d stubbed "
	                    "where called",
	                    p->middle, p->middle));
	memset(want, 1, p->nservices);
	add_stage(b, want, xasprintf("level %d real", p->middle));
}

int plan_build(const struct manifest *m, enum strategy s, int middle,
               struct plan **out)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	struct builder b = { 0 };
	size_t n = m->nservices;
	char *want = xcalloc(n, 1);
	int rc;

	*out = NULL;
	p->strategy = s;
	p->middle = -1;
	p->nservices = m->nservices;
	p->nsuites = m->nsuites;
	p->levels = xcalloc(n, sizeof(*p->levels));
	p->suite_levels = xcalloc(m->nsuites, sizeof(*p->suite_levels));
	b.m = m;
	b.p = p;
	b.prev = xcalloc(n, sizeof(*b.prev));
	b.last_config = xcalloc(m->nsuites, sizeof(*b.last_config));
	b.last_stage = xcalloc(m->nsuites, sizeof(*b.last_stage));
	b.last_edges = xcalloc(m->nsuites, sizeof(*b.last_edges));
	for (size_t k = 0; k < m->nsuites; k++)
		b.last_stage[k] = -1;

	if ((int)s < 0 || (int)s >= STRATEGY_COUNT) {
		rc = orch_error_code(ORCH_EINVALID, "unknown strategy %d",
		                     (int)s);
		goto out;
	}
	rc = graph_levels(m, p->levels);
	if (rc < 0)
		goto out;
	p->top = rc;
	rc = 0;
	for (size_t k = 0; k < m->nsuites; k++) {
		const struct mf_suite *su = &m->suites[k];

		for (size_t t = 0; t < su->targets.n; t++)
			if (p->levels[su->target_index[t]] > p->suite_levels[k])
				p->suite_levels[k] =
				        p->levels[su->target_index[t]];
	}

	if (s == STRATEGY_SANDWICH) {
		if (middle < -1 || middle > p->top) {
			rc = orch_error_code(
			        ORCH_EINVALID,
			        "middle level %d out of range: levels are 0..%d",
			        middle, p->top);
			goto out;
		}
		p->middle = middle >= 0 ? middle : (p->top + 1) / 2;
	} else if (middle != -1) {
		rc = orch_error_code(ORCH_EINVALID,
		                     "a middle level applies only to the "
		                     "sandwich strategy, not '%s'",
		                     strategy_name(s));
		goto out;
	}
	if (!m->nsuites)
		strvec_push(&p->notes,
		            "no suites: `orchestrate test` needs a suites: "
		            "section (each suite: targets, then image, build "
		            "or host: true, and a command); up works without");

	switch (s) {
	case STRATEGY_BIG_BANG:
		plan_big_bang(&b, want);
		break;
	case STRATEGY_INCREMENTAL:
		rc = plan_incremental(&b, want);
		break;
	case STRATEGY_BOTTOM_UP:
		plan_bottom_up(&b, want);
		break;
	case STRATEGY_TOP_DOWN:
		plan_top_down(&b, want);
		break;
	case STRATEGY_SANDWICH:
		plan_sandwich(&b, want);
		break;
	}
out:
	for (size_t k = 0; k < m->nsuites; k++) {
		free(b.last_config[k]);
		free(b.last_edges[k].v);
	}
	free(b.last_config);
	free(b.last_stage);
	free(b.last_edges);
	free(b.prev);
	free(want);
	if (rc) {
		plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}
