/*
 * diagnose.c: fault localisation from a plan and its runs' outcomes
 * (diagnose.h has the rules).
 */
#include "diagnose.h"

#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "util.h"

static int is_target(const struct mf_suite *su, size_t svc)
{
	for (size_t i = 0; i < su->targets.n; i++)
		if (su->target_index[i] == svc)
			return 1;
	return 0;
}

/* The edge caller -> dep is an ordering on a one-shot job. */
static int job_edge(const struct manifest *m, struct plan_edge e)
{
	const struct mf_service *c = &m->services[e.caller];

	for (size_t i = 0; i < c->ndeps; i++)
		if (c->deps[i].index == e.dep &&
		    c->deps[i].condition == MF_SERVICE_COMPLETED_SUCCESSFULLY)
			return 1;
	return 0;
}

/* The edges a run integrates by its targets (rules 2 and 3). */
static int owned(const struct mf_suite *su, struct plan_edge e)
{
	if (su->targets.n >= 2)
		return is_target(su, e.caller) && is_target(su, e.dep);
	return is_target(su, e.caller);
}

static void filter(struct plan_edges *out, const struct plan_edges *in,
                   int (*keep)(const void *ctx, struct plan_edge e),
                   const void *ctx)
{
	out->n = 0;
	for (size_t i = 0; i < in->n; i++)
		if (keep(ctx, in->v[i]))
			plan_edges_push(out, in->v[i].caller, in->v[i].dep);
}

static int keep_owned(const void *ctx, struct plan_edge e)
{
	return owned(ctx, e);
}

static int keep_not_job(const void *ctx, struct plan_edge e)
{
	return !job_edge(ctx, e);
}

static int keep_not_cleared(const void *ctx, struct plan_edge e)
{
	return !plan_edges_has(ctx, e.caller, e.dep);
}

/* Replace *a by f(a) unless that leaves nothing. */
static void narrow(struct plan_edges *a,
                   int (*keep)(const void *ctx, struct plan_edge e),
                   const void *ctx)
{
	struct plan_edges t = { 0 };

	filter(&t, a, keep, ctx);
	if (t.n) {
		free(a->v);
		*a = t;
	} else {
		free(t.v);
	}
}

static void edges_text(struct buf *b, const struct manifest *m,
                       const struct plan_edges *e)
{
	for (size_t i = 0; i < e->n; i++)
		buf_addf(b, "%s%s -> %s", i ? ", " : "",
		         m->services[e->v[i].caller].name,
		         m->services[e->v[i].dep].name);
}

/*
 * Rule 4 over every failing suite: an edge that explains all of them
 * (in every one's suspects) when there is one, else every suspect.
 */
static void overall(struct diagnosis *d)
{
	for (size_t i = 0; d->nfailures && i < d->failures[0].suspects.n; i++) {
		struct plan_edge e = d->failures[0].suspects.v[i];
		int all = 1;

		for (size_t k = 1; k < d->nfailures && all; k++)
			all = plan_edges_has(&d->failures[k].suspects, e.caller,
			                     e.dep);
		if (all && !plan_edges_has(&d->suspects, e.caller, e.dep))
			plan_edges_push(&d->suspects, e.caller, e.dep);
	}
	if (d->suspects.n)
		return;
	for (size_t k = 0; k < d->nfailures; k++)
		for (size_t i = 0; i < d->failures[k].suspects.n; i++) {
			struct plan_edge e = d->failures[k].suspects.v[i];

			if (!plan_edges_has(&d->suspects, e.caller, e.dep))
				plan_edges_push(&d->suspects, e.caller, e.dep);
		}
}

/* The failures of stage F's runs, with their candidates and mismatches. */
static void failures(const struct manifest *m, const struct plan *p,
                     enum diag_outcome *const *outcome, struct diagnosis *d)
{
	const struct plan_stage *st = &p->stages[d->first_stage];
	struct plan_edges cleared = { 0 };

	/* rule 3: what the suites that passed in F integrate */
	for (size_t k = 0; k < st->nruns; k++) {
		const struct plan_run *r = &st->runs[k];

		if (outcome[d->first_stage][k] != DIAG_PASSED)
			continue;
		for (size_t i = 0; i < r->edges.n; i++)
			if (owned(&m->suites[r->suite], r->edges.v[i]) &&
			    !plan_edges_has(&cleared, r->edges.v[i].caller,
			                    r->edges.v[i].dep))
				plan_edges_push(&cleared, r->edges.v[i].caller,
				                r->edges.v[i].dep);
	}
	for (size_t k = 0; k < st->nruns; k++) {
		const struct plan_run *r = &st->runs[k];
		const struct mf_suite *su = &m->suites[r->suite];
		struct diag_failure *f;

		if (outcome[d->first_stage][k] != DIAG_FAILED)
			continue;
		d->failures = xrealloc(
		        d->failures, (d->nfailures + 1) * sizeof(*d->failures));
		f = &d->failures[d->nfailures++];
		memset(f, 0, sizeof(*f));
		f->suite = r->suite;
		f->stage = (size_t)d->first_stage;
		f->mismatch_stage = -1;
		/* what the stage integrated first, of what is new for it */
		for (size_t i = 0; i < r->new_edges.n; i++)
			if (plan_edges_has(&st->new_edges,
			                   r->new_edges.v[i].caller,
			                   r->new_edges.v[i].dep))
				plan_edges_push(&f->candidates,
				                r->new_edges.v[i].caller,
				                r->new_edges.v[i].dep);
		for (size_t i = 0; !f->candidates.n && i < r->new_edges.n; i++)
			plan_edges_push(&f->candidates,
			                r->new_edges.v[i].caller,
			                r->new_edges.v[i].dep);
		for (size_t i = 0; i < f->candidates.n; i++)
			plan_edges_push(&f->suspects, f->candidates.v[i].caller,
			                f->candidates.v[i].dep);
		if (su->targets.n >= 2)
			narrow(&f->suspects, keep_owned, su);
		narrow(&f->suspects, keep_not_job, m);
		narrow(&f->suspects, keep_not_cleared, &cleared);
		/* rule 5: it passed against a stub that is real now */
		if (r->previous_stage >= 0) {
			const struct plan_stage *ps =
			        &p->stages[r->previous_stage];
			const struct plan_run *pr =
			        plan_stage_run(ps, r->suite);

			if (pr && outcome[r->previous_stage]
			                 [(size_t)(pr - ps->runs)] ==
			                  DIAG_PASSED) {
				for (size_t i = 0; i < pr->stubs.n; i++) {
					size_t x = pr->stubs.v[i];

					if (st->modes[x] != PLAN_REAL)
						continue;
					f->mismatch_stage = r->previous_stage;
					f->mismatch_service = x;
					for (size_t e = 0; e < r->edges.n; e++)
						if (r->edges.v[e].dep == x)
							plan_edges_push(
							        &f->mismatch_edges,
							        r->edges.v[e]
							                .caller,
							        x);
					break;
				}
			}
		}
	}
	free(cleared.v);
	overall(d);
}

static void summary(const struct manifest *m, const struct plan *p,
                    struct diagnosis *d)
{
	struct buf b = BUF_INIT;

	if (!d->failed) {
		d->summary = xstrdup("every suite passed");
		return;
	}
	if (d->bringup_service >= 0)
		buf_addf(&b,
		         "stage %d could not be brought up: service '%s' "
		         "failed. ",
		         d->first_stage + 1,
		         m->services[d->bringup_service].name);
	if (!d->localised) {
		buf_addstr(&b,
		           "big-bang integrates every edge at once, so it "
		           "cannot say which one broke: run with --strategy "
		           "incremental (one service per stage) or "
		           "bottom-up to localise the failure");
		d->summary = buf_detach(&b, NULL);
		return;
	}
	if (d->suspects.n == 1) {
		buf_addstr(&b, "suspect: ");
		edges_text(&b, m, &d->suspects);
		buf_addf(&b, " (first integrated in stage %d, %s)",
		         d->first_stage + 1, p->stages[d->first_stage].label);
	} else if (d->suspects.n > 1) {
		buf_addf(&b, "suspects, first integrated in stage %d (%s): ",
		         d->first_stage + 1, p->stages[d->first_stage].label);
		edges_text(&b, m, &d->suspects);
	} else if (d->bringup_service < 0) {
		buf_addf(&b,
		         "the failures in stage %d (%s) came with no new "
		         "integration",
		         d->first_stage + 1, p->stages[d->first_stage].label);
	}
	for (size_t i = 0; i < d->nfailures; i++) {
		const struct diag_failure *f = &d->failures[i];

		if (f->mismatch_stage < 0)
			continue;
		buf_addf(&b,
		         "; interface mismatch: suite '%s' passed against "
		         "the stub of '%s' in stage %d and fails against "
		         "the real '%s': the stub and the real service "
		         "disagree on ",
		         m->suites[f->suite].name,
		         m->services[f->mismatch_service].name,
		         f->mismatch_stage + 1,
		         m->services[f->mismatch_service].name);
		edges_text(&b, m, &f->mismatch_edges);
	}
	d->summary = buf_detach(&b, NULL);
}

void diagnose(const struct manifest *m, const struct plan *p,
              enum diag_outcome *const *outcome, int bringup_stage,
              int bringup_service, struct diagnosis *d)
{
	memset(d, 0, sizeof(*d));
	d->first_stage = -1;
	d->bringup_service = -1;
	d->localised = p->strategy != STRATEGY_BIG_BANG;
	for (size_t s = 0; s < p->nstages && d->first_stage < 0; s++) {
		if ((int)s == bringup_stage)
			d->first_stage = (int)s;
		for (size_t k = 0; k < p->stages[s].nruns; k++)
			if (outcome[s][k] == DIAG_FAILED)
				d->first_stage = (int)s;
	}
	d->failed = d->first_stage >= 0;
	if (d->failed && d->first_stage == bringup_stage &&
	    bringup_service >= 0) {
		const struct plan_stage *st = &p->stages[bringup_stage];

		/* the service that failed, and what was new for it there */
		d->bringup_service = bringup_service;
		for (size_t i = 0; i < st->new_edges.n; i++)
			if (st->new_edges.v[i].caller ==
			    (size_t)bringup_service)
				plan_edges_push(&d->suspects,
				                st->new_edges.v[i].caller,
				                st->new_edges.v[i].dep);
	}
	if (d->failed)
		failures(m, p, outcome, d);
	summary(m, p, d);
}

void diagnosis_release(struct diagnosis *d)
{
	for (size_t i = 0; i < d->nfailures; i++) {
		free(d->failures[i].candidates.v);
		free(d->failures[i].suspects.v);
		free(d->failures[i].mismatch_edges.v);
	}
	free(d->failures);
	free(d->suspects.v);
	free(d->summary);
	memset(d, 0, sizeof(*d));
}
