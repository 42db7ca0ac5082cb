/*
 * testrun.c: the plan's stages on one run (testrun.h): move, run the
 * suites, keep what happened, localise.
 */
#include "testrun.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "evloop.h"
#include "images.h"
#include "labels.h"
#include "manifest.h"
#include "signals.h"

const char *stage_status_name(enum stage_status s)
{
	static const char *const names[] = { "skipped", "passed", "failed",
		                             "error", "interrupted" };

	return s <= STAGE_INTERRUPTED ? names[s] : "?";
}

static int has_tag(const struct mf_suite *su, const struct strvec *tags)
{
	for (size_t i = 0; i < tags->n; i++)
		if (strvec_find(&su->tags, tags->v[i]) >= 0)
			return 1;
	return 0;
}

int test_prepare(struct test_run *tr, const struct test_opts *o)
{
	const struct manifest *m = o->m;
	size_t any = 0;
	int rc;

	memset(tr, 0, sizeof(*tr));
	tr->failing_stage = -1;
	if (!m->nsuites)
		return orch_error_code(ORCH_EINVALID,
		                       "%s has no suites: `orchestrate test` "
		                       "runs the suites of a 'suites:' section "
		                       "(docs/manifest.md, \"Suites\"); `up` "
		                       "brings the environment up without them",
		                       m->path);
	tr->selected = xcalloc(m->nsuites, sizeof(*tr->selected));
	for (size_t i = 0; o->suites && i < o->suites->n; i++) {
		int found = 0;

		for (size_t s = 0; s < m->nsuites; s++)
			if (!strcmp(m->suites[s].name, o->suites->v[i]))
				found = 1;
		if (!found)
			return orch_error_code(ORCH_EINVALID,
			                       "no suite '%s' in %s",
			                       o->suites->v[i], m->path);
	}
	for (size_t s = 0; s < m->nsuites; s++) {
		const struct mf_suite *su = &m->suites[s];
		int by_name = !o->suites || !o->suites->n ||
		              strvec_find(o->suites, su->name) >= 0;
		int by_tag = !o->tags || !o->tags->n || has_tag(su, o->tags);

		tr->selected[s] = by_name && by_tag;
		any += (size_t)tr->selected[s];
	}
	if (!any)
		return orch_error_code(
		        ORCH_EINVALID, "no suite of %s has the tag%s asked for",
		        m->path, o->tags && o->tags->n > 1 ? "s" : "");
	rc = plan_build(m, o->strategy, o->middle, &tr->plan);
	if (rc)
		return rc;
	{
		struct env_opts eo = { 0 };

		tr->loop = evloop_new(o->e);
		eo.project = o->project;
		eo.loop = tr->loop;
		eo.t0 = o->t0;
		eo.progress = o->on_service;
		eo.ud = o->ud;
		env_new(&tr->env, o->e, m, &eo);
	}
	tr->stages = xcalloc(tr->plan->nstages, sizeof(*tr->stages));
	for (size_t s = 0; s < tr->plan->nstages; s++) {
		const struct plan_stage *st = &tr->plan->stages[s];
		struct stage_result *r = &tr->stages[s];

		r->start_ms = r->ready_ms = r->end_ms = -1;
		r->nruns = st->nruns;
		r->runs = xcalloc(st->nruns + 1, sizeof(*r->runs));
		r->selected = xcalloc(st->nruns + 1, sizeof(*r->selected));
		for (size_t k = 0; k < st->nruns; k++) {
			r->runs[k].suite = st->runs[k].suite;
			r->runs[k].stage = s;
			r->runs[k].status = SUITE_SKIPPED;
			r->selected[k] = tr->selected[st->runs[k].suite];
		}
	}
	return 0;
}

static void snapshot(struct test_run *tr, struct stage_result *r)
{
	size_t n = env_nservices(tr->env);

	r->services = xcalloc(n + 1, sizeof(*r->services));
	for (size_t i = 0; i < n; i++) {
		const struct env_service *s = env_service(tr->env, i);
		struct service_snap *c = &r->services[i];

		c->name = xstrdup(s->name);
		c->mode = s->mode;
		c->state = s->state;
		c->container_id =
		        s->container_id ? xstrdup(s->container_id) : NULL;
		c->container_name =
		        s->container_name ? xstrdup(s->container_name) : NULL;
		c->image = s->image ? xstrdup(s->image) : NULL;
		c->image_id = s->image_id ? xstrdup(s->image_id) : NULL;
		c->image_digest =
		        s->image_digest ? xstrdup(s->image_digest) : NULL;
		c->started_ms = s->started_ms;
		c->ready_ms = s->ready_ms;
		c->swapped_ms = s->swapped_ms;
		c->swap_gap_ms = s->swap_gap_ms;
		c->nendpoints = s->nendpoints;
		c->endpoints =
		        xcalloc(s->nendpoints + 1, sizeof(*c->endpoints));
		for (size_t k = 0; k < s->nendpoints; k++) {
			c->endpoints[k] = s->endpoints[k];
			c->endpoints[k].host_ip =
			        xstrdup(s->endpoints[k].host_ip);
			c->endpoints[k].protocol =
			        xstrdup(s->endpoints[k].protocol);
		}
	}
}

/* The services that are stubs in stage s, space-separated. */
static char *stubs_of(const struct test_run *tr, const struct manifest *m,
                      size_t s)
{
	const struct plan_stage *st = &tr->plan->stages[s];
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < st->stubs.n; i++)
		buf_addf(&b, "%s%s", i ? " " : "",
		         m->services[st->stubs.v[i]].name);
	return buf_detach(&b, NULL);
}

static void localise(struct test_run *tr, const struct test_opts *o,
                     int bringup_stage, int bringup_service)
{
	enum diag_outcome **out = xcalloc(tr->plan->nstages + 1, sizeof(*out));

	for (size_t s = 0; s < tr->plan->nstages; s++) {
		const struct stage_result *r = &tr->stages[s];

		out[s] = xcalloc(r->nruns + 1, sizeof(**out));
		for (size_t k = 0; k < r->nruns; k++) {
			enum suite_status st = r->runs[k].status;

			out[s][k] = st == SUITE_SKIPPED || st == SUITE_PENDING
			                    ? DIAG_NOT_RUN
			            : suite_status_ok(st) ? DIAG_PASSED
			                                  : DIAG_FAILED;
		}
	}
	diagnose(o->m, tr->plan, out, bringup_stage, bringup_service,
	         &tr->diag);
	for (size_t s = 0; s < tr->plan->nstages; s++)
		free(out[s]);
	free(out);
}

int test_execute(struct test_run *tr, const struct test_opts *o)
{
	const struct manifest *m = o->m;
	struct runner_opts ro = { 0 };
	int bringup_stage = -1, bringup_service = -1, failed = 0, stop = 0;
	size_t *want = xcalloc(m->nsuites + 1, sizeof(*want)), nwant = 0;
	int builds = 0;

	tr->wall_start_ms = wall_ms();
	tr->images = images_new(
	        o->e, (struct engine_label[]){ { LABEL_BUILT_BY, o->project } },
	        1);
	for (size_t s = 0; s < m->nsuites; s++)
		if (tr->selected[s])
			want[nwant++] = s;
	for (size_t i = 0; i < m->nservices; i++) {
		const struct mf_service *sv = &m->services[i];

		builds |= sv->has_real && sv->real.build;
		builds |= sv->stub && sv->stub->build;
	}
	/*
	 * The suites' images are made while the first stage comes up --
	 * unless the stage builds images of its own: two builds at once
	 * slow each other down, and the stage is what everything waits on.
	 */
	if (!builds) {
		runner_want_images(tr->images, m, o->project, want, nwant);
		nwant = 0;
	}
	ro.e = o->e;
	ro.loop = tr->loop;
	ro.env = tr->env;
	ro.m = m;
	ro.images = tr->images;
	ro.project = o->project;
	ro.report_dir = o->report_dir;
	ro.mask = o->mask;
	ro.strategy = strategy_name(tr->plan->strategy);
	ro.jobs = o->jobs > 0 ? o->jobs : 1;
	ro.signal_fd = o->signal_fd;
	ro.progress = o->on_suite;
	ro.ud = o->ud;

	for (size_t s = 0; s < tr->plan->nstages && !stop; s++) {
		const struct plan_stage *st = &tr->plan->stages[s];
		struct stage_result *r = &tr->stages[s];
		struct suite_run *runs;
		size_t n = 0;
		char *stubs;
		int rc;

		for (size_t k = 0; k < r->nruns; k++)
			n += (size_t)r->selected[k];
		if (!n)
			continue; /* nothing selected runs here */
		r->start_ms = env_clock(tr->env);
		if (o->on_stage)
			o->on_stage(o->ud, tr->plan, s, r, 1);
		rc = env_reach(tr->env, st->modes, o->signal_fd);
		if (rc == 0 && signals_first())
			rc = ORCH_EINTR;
		if (rc) {
			r->end_ms = env_clock(tr->env);
			r->error = xstrdup(orch_error_last());
			if (env_failed_service(tr->env)) {
				r->failed_service =
				        xstrdup(env_failed_service(tr->env));
				bringup_service = manifest_service_index(
				        m, r->failed_service);
			}
			if (env_failure_logs(tr->env))
				r->failure_logs =
				        xstrdup(env_failure_logs(tr->env));
			snapshot(tr, r);
			if (signals_first()) {
				r->status = STAGE_INTERRUPTED;
				tr->interrupted = signals_first();
			} else {
				r->status = STAGE_ERROR;
				bringup_stage = (int)s;
				if (tr->failing_stage < 0)
					tr->failing_stage = (int)s;
			}
			if (o->on_stage)
				o->on_stage(o->ud, tr->plan, s, r, 0);
			break;
		}
		r->ready_ms = env_clock(tr->env);
		snapshot(tr, r);
		if (nwant) {
			runner_want_images(tr->images, m, o->project, want,
			                   nwant);
			nwant = 0;
		}
		/* the selected runs, in the plan's order, then back */
		runs = xcalloc(n, sizeof(*runs));
		n = 0;
		for (size_t k = 0; k < r->nruns; k++)
			if (r->selected[k])
				runs[n++] = r->runs[k];
		stubs = stubs_of(tr, m, s);
		rc = runner_run(&ro, runs, n, (int)s + 1, stubs);
		free(stubs);
		n = 0;
		for (size_t k = 0; k < r->nruns; k++)
			if (r->selected[k])
				r->runs[k] = runs[n++];
		free(runs);
		r->end_ms = env_clock(tr->env);
		r->status = STAGE_PASSED;
		for (size_t k = 0; k < r->nruns; k++)
			if (r->selected[k] &&
			    !suite_status_ok(r->runs[k].status))
				r->status = STAGE_FAILED;
		if (rc == ORCH_EINTR || signals_first()) {
			r->status = STAGE_INTERRUPTED;
			tr->interrupted =
			        signals_first() ? signals_first() : SIGINT;
			stop = 1;
		} else if (rc < 0) {
			/* a service died or turned unhealthy under the suites */
			r->status = STAGE_FAILED;
			r->error = xstrdup(orch_error_last());
			if (env_failed_service(tr->env))
				r->failed_service =
				        xstrdup(env_failed_service(tr->env));
			stop = 1;
		}
		if (r->status == STAGE_FAILED) {
			failed = 1;
			if (tr->failing_stage < 0)
				tr->failing_stage = (int)s;
			if (o->fail_fast || o->keep_on_failure)
				stop = 1;
		}
		if (o->on_stage)
			o->on_stage(o->ud, tr->plan, s, r, 0);
	}
	free(want);
	localise(tr, o, bringup_stage, bringup_service);
	tr->wall_end_ms = wall_ms();
	if (tr->interrupted)
		tr->exit_code = signals_exit_status(tr->interrupted);
	else if (bringup_stage >= 0)
		tr->exit_code = ORCH_EXIT_ENV;
	else
		tr->exit_code = failed ? ORCH_EXIT_TESTS : ORCH_EXIT_OK;
	return tr->exit_code;
}

void test_count(const struct test_run *tr, struct test_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t s = 0; tr->plan && s < tr->plan->nstages; s++)
		for (size_t k = 0; k < tr->stages[s].nruns; k++) {
			if (!tr->stages[s].selected[k])
				continue;
			switch (tr->stages[s].runs[k].status) {
			case SUITE_PASSED:
				c->passed++;
				break;
			case SUITE_FLAKY:
				c->flaky++;
				break;
			case SUITE_TIMED_OUT:
				c->timed_out++;
				break;
			case SUITE_FAILED:
				c->failed++;
				break;
			default:
				c->skipped++;
				break;
			}
		}
}

static void snaps_free(struct service_snap *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].container_id);
		free(v[i].container_name);
		free(v[i].image);
		free(v[i].image_id);
		free(v[i].image_digest);
		for (size_t k = 0; k < v[i].nendpoints; k++) {
			free(v[i].endpoints[k].host_ip);
			free(v[i].endpoints[k].protocol);
		}
		free(v[i].endpoints);
	}
	free(v);
}

void test_run_release(struct test_run *tr)
{
	size_t nsvc = tr->env ? env_nservices(tr->env) : 0;

	for (size_t s = 0; tr->plan && s < tr->plan->nstages; s++) {
		struct stage_result *r = &tr->stages[s];

		for (size_t k = 0; k < r->nruns; k++)
			suite_run_release(&r->runs[k]);
		free(r->runs);
		free(r->selected);
		free(r->error);
		free(r->failed_service);
		free(r->failure_logs);
		snaps_free(r->services, nsvc);
	}
	free(tr->stages);
	free(tr->selected);
	diagnosis_release(&tr->diag);
	images_free(tr->images);
	env_free(tr->env);
	evloop_free(tr->loop);
	plan_free(tr->plan);
	memset(tr, 0, sizeof(*tr));
}
