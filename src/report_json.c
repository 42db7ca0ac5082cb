/*
 * report_json.c: a test run as report.json (report_json.h; docs/report.md
 * describes every field). Only writes the document: where it goes and
 * how (atomically) is the command's business.
 */
#include "report_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "manifest.h"
#include "mask.h"
#include "plan.h"
#include "plan_json.h"
#include "testrun.h"

/* the end of a suite's output kept in the report */
#define OUTPUT_TAIL (8u << 10)

/* Text as valid UTF-8 (what is not becomes U+FFFD), masked. */
static cJSON *text_json(const struct report_info *info, const char *s,
                        size_t len)
{
	struct buf masked = BUF_INIT, clean = BUF_INIT;
	const unsigned char *p;
	size_t i = 0;
	cJSON *j;

	mask_apply(info->mask, &masked, s ? s : "", s ? len : 0);
	p = (const unsigned char *)buf_cstr(&masked);
	while (i < masked.len) {
		unsigned char c = p[i];
		size_t n = c < 0x80         ? 1
		           : (c >> 5) == 6  ? 2
		           : (c >> 4) == 14 ? 3
		           : (c >> 3) == 30 ? 4
		                            : 0;
		size_t k;

		for (k = 1; n && k < n; k++)
			if (i + k >= masked.len || (p[i + k] & 0xc0) != 0x80)
				n = 0;
		if (!n || (c == 0)) {
			buf_addstr(&clean, "\xef\xbf\xbd");
			i++;
			continue;
		}
		buf_add(&clean, (const char *)p + i, n);
		i += n;
	}
	j = cJSON_CreateString(buf_cstr(&clean));
	buf_release(&masked);
	buf_release(&clean);
	return j;
}

static cJSON *str_or_null(const struct report_info *info, const char *s)
{
	return s ? text_json(info, s, strlen(s)) : cJSON_CreateNull();
}

static cJSON *ms_or_null(int64_t ms)
{
	return ms >= 0 ? cJSON_CreateNumber((double)ms) : cJSON_CreateNull();
}

static cJSON *strv(const struct strvec *v)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < v->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i]));
	return a;
}

static cJSON *service_json(const struct service_snap *s)
{
	cJSON *o = cJSON_CreateObject(), *eps;

	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "mode", plan_mode_name(s->mode));
	cJSON_AddStringToObject(o, "state", env_state_name(s->state));
	cJSON_AddItemToObject(o, "container",
	                      s->container_name
	                              ? cJSON_CreateString(s->container_name)
	                              : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "container_id",
	                      s->container_id
	                              ? cJSON_CreateString(s->container_id)
	                              : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "image",
	                      s->image ? cJSON_CreateString(s->image)
	                               : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "image_id",
	                      s->image_id ? cJSON_CreateString(s->image_id)
	                                  : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "started_ms", ms_or_null(s->started_ms));
	cJSON_AddItemToObject(o, "ready_ms", ms_or_null(s->ready_ms));
	cJSON_AddItemToObject(o, "swapped_ms", ms_or_null(s->swapped_ms));
	cJSON_AddItemToObject(o, "swap_gap_ms", ms_or_null(s->swap_gap_ms));
	eps = cJSON_AddArrayToObject(o, "endpoints");
	for (size_t i = 0; i < s->nendpoints; i++) {
		const struct env_endpoint *e = &s->endpoints[i];
		cJSON *ep = cJSON_CreateObject();

		cJSON_AddStringToObject(ep, "host", e->host_ip);
		cJSON_AddNumberToObject(ep, "port", e->host_port);
		cJSON_AddNumberToObject(ep, "container_port",
		                        e->container_port);
		cJSON_AddStringToObject(ep, "protocol", e->protocol);
		cJSON_AddItemToArray(eps, ep);
	}
	return o;
}

static cJSON *suite_json(const struct manifest *m,
                         const struct report_info *info,
                         const struct plan_run *pr, const struct suite_run *r)
{
	const struct mf_suite *su = &m->suites[r->suite];
	cJSON *o = cJSON_CreateObject(), *att, *art;
	const struct suite_attempt *last =
	        r->nattempts ? &r->attempts[r->nattempts - 1] : NULL;
	size_t tail = r->output.len > OUTPUT_TAIL ? OUTPUT_TAIL : r->output.len;

	cJSON_AddStringToObject(o, "name", su->name);
	cJSON_AddStringToObject(o, "status", suite_status_name(r->status));
	cJSON_AddItemToObject(o, "targets", strv(&su->targets));
	cJSON_AddBoolToObject(o, "host", su->host);
	cJSON_AddBoolToObject(o, "rerun", pr->previous_stage >= 0);
	cJSON_AddItemToObject(o, "previous_stage",
	                      pr->previous_stage >= 0
	                              ? cJSON_CreateNumber(pr->previous_stage)
	                              : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "services", plan_json_names(m, &pr->deps));
	cJSON_AddItemToObject(o, "stubs", plan_json_names(m, &pr->stubs));
	cJSON_AddItemToObject(o, "edges", plan_json_edges(m, &pr->edges));
	cJSON_AddItemToObject(o, "new_edges",
	                      plan_json_edges(m, &pr->new_edges));
	cJSON_AddItemToObject(o, "started_ms",
	                      ms_or_null(r->nattempts ? r->start_ms : -1));
	cJSON_AddItemToObject(o, "ended_ms",
	                      ms_or_null(r->nattempts ? r->end_ms : -1));
	cJSON_AddItemToObject(
	        o, "duration_ms",
	        ms_or_null(r->nattempts ? r->end_ms - r->start_ms : -1));
	cJSON_AddItemToObject(o, "exit_code",
	                      last && last->exit_code >= 0
	                              ? cJSON_CreateNumber(last->exit_code)
	                              : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "summary", str_or_null(info, r->summary));
	att = cJSON_AddArrayToObject(o, "attempts");
	for (size_t i = 0; i < r->nattempts; i++) {
		const struct suite_attempt *a = &r->attempts[i];
		cJSON *ao = cJSON_CreateObject();

		cJSON_AddItemToObject(ao, "exit_code",
		                      a->exit_code >= 0
		                              ? cJSON_CreateNumber(a->exit_code)
		                              : cJSON_CreateNull());
		cJSON_AddBoolToObject(ao, "timed_out", a->timed_out);
		cJSON_AddNumberToObject(ao, "started_ms", (double)a->start_ms);
		cJSON_AddNumberToObject(ao, "ended_ms", (double)a->end_ms);
		cJSON_AddItemToObject(ao, "error", str_or_null(info, a->error));
		cJSON_AddItemToArray(att, ao);
	}
	cJSON_AddItemToObject(
	        o, "output_tail",
	        text_json(info,
	                  r->output.data ? r->output.data + r->output.len - tail
	                                 : "",
	                  tail));
	cJSON_AddNumberToObject(o, "output_bytes",
	                        (double)(r->output.len + r->output_dropped));
	art = cJSON_AddObjectToObject(o, "artifacts");
	cJSON_AddItemToObject(art, "dir",
	                      r->artifact_dir
	                              ? cJSON_CreateString(r->artifact_dir)
	                              : cJSON_CreateNull());
	cJSON_AddItemToObject(art, "files", strv(&r->artifacts.files));
	cJSON_AddItemToObject(art, "refused", strv(&r->artifacts.refused));
	return o;
}

static cJSON *stage_json(const struct manifest *m, const struct test_run *tr,
                         const struct report_info *info, size_t s)
{
	const struct plan_stage *st = &tr->plan->stages[s];
	const struct stage_result *r = &tr->stages[s];
	cJSON *o = cJSON_CreateObject(), *svcs, *suites;

	cJSON_AddNumberToObject(o, "index", (double)s);
	cJSON_AddStringToObject(o, "label", st->label);
	cJSON_AddStringToObject(o, "status", stage_status_name(r->status));
	cJSON_AddItemToObject(o, "real", plan_json_names(m, &st->real));
	cJSON_AddItemToObject(o, "stubs", plan_json_names(m, &st->stubs));
	cJSON_AddItemToObject(o, "absent", plan_json_names(m, &st->absent));
	cJSON_AddItemToObject(o, "new_real", plan_json_names(m, &st->new_real));
	cJSON_AddItemToObject(o, "stubs_started",
	                      plan_json_names(m, &st->stubs_started));
	cJSON_AddItemToObject(o, "stubs_replaced",
	                      plan_json_names(m, &st->stubs_replaced));
	cJSON_AddItemToObject(o, "new_edges",
	                      plan_json_edges(m, &st->new_edges));
	cJSON_AddItemToObject(o, "started_ms", ms_or_null(r->start_ms));
	cJSON_AddItemToObject(o, "ready_ms", ms_or_null(r->ready_ms));
	cJSON_AddItemToObject(o, "ended_ms", ms_or_null(r->end_ms));
	cJSON_AddItemToObject(
	        o, "bring_up_ms",
	        ms_or_null(r->ready_ms >= 0 ? r->ready_ms - r->start_ms : -1));
	if (r->error) {
		cJSON *e = cJSON_AddObjectToObject(o, "error");

		cJSON_AddItemToObject(e, "service",
		                      str_or_null(info, r->failed_service));
		cJSON_AddItemToObject(e, "message",
		                      str_or_null(info, r->error));
		cJSON_AddItemToObject(e, "log_tail",
		                      str_or_null(info, r->failure_logs));
	} else {
		cJSON_AddNullToObject(o, "error");
	}
	svcs = cJSON_AddArrayToObject(o, "services");
	for (size_t i = 0; r->services && i < m->nservices; i++)
		if (r->services[i].mode != PLAN_ABSENT)
			cJSON_AddItemToArray(svcs,
			                     service_json(&r->services[i]));
	suites = cJSON_AddArrayToObject(o, "suites");
	for (size_t k = 0; k < r->nruns; k++)
		if (r->selected[k])
			cJSON_AddItemToArray(
			        suites,
			        suite_json(m, info, &st->runs[k], &r->runs[k]));
	return o;
}

static cJSON *diagnosis_json(const struct manifest *m,
                             const struct test_run *tr,
                             const struct report_info *info)
{
	const struct diagnosis *d = &tr->diag;
	cJSON *o = cJSON_CreateObject(), *fs;

	cJSON_AddBoolToObject(o, "failed", d->failed);
	cJSON_AddBoolToObject(o, "localised", d->localised);
	cJSON_AddItemToObject(o, "summary", str_or_null(info, d->summary));
	cJSON_AddItemToObject(o, "first_failing_stage",
	                      d->first_stage >= 0
	                              ? cJSON_CreateNumber(d->first_stage)
	                              : cJSON_CreateNull());
	cJSON_AddItemToObject(
	        o, "bring_up_failure",
	        d->bringup_service >= 0
	                ? cJSON_CreateString(
	                          m->services[d->bringup_service].name)
	                : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "suspects", plan_json_edges(m, &d->suspects));
	fs = cJSON_AddArrayToObject(o, "failures");
	for (size_t i = 0; i < d->nfailures; i++) {
		const struct diag_failure *f = &d->failures[i];
		cJSON *fo = cJSON_CreateObject();

		cJSON_AddStringToObject(fo, "suite", m->suites[f->suite].name);
		cJSON_AddNumberToObject(fo, "stage", (double)f->stage);
		cJSON_AddItemToObject(
		        fo, "new_real",
		        plan_json_names(m,
		                        &tr->plan->stages[f->stage].new_real));
		cJSON_AddItemToObject(fo, "candidates",
		                      plan_json_edges(m, &f->candidates));
		cJSON_AddItemToObject(fo, "suspects",
		                      plan_json_edges(m, &f->suspects));
		if (f->mismatch_stage >= 0) {
			cJSON *mm = cJSON_AddObjectToObject(fo, "mismatch");

			cJSON_AddStringToObject(
			        mm, "service",
			        m->services[f->mismatch_service].name);
			cJSON_AddNumberToObject(mm, "passed_in_stage",
			                        f->mismatch_stage);
			cJSON_AddItemToObject(
			        mm, "edges",
			        plan_json_edges(m, &f->mismatch_edges));
		} else {
			cJSON_AddNullToObject(fo, "mismatch");
		}
		cJSON_AddItemToArray(fs, fo);
	}
	return o;
}

static const char *result_name(const struct test_run *tr)
{
	if (tr->interrupted)
		return "interrupted";
	switch (tr->exit_code) {
	case 0:
		return "passed";
	case 1:
		return "failed";
	default:
		return "error";
	}
}

void report_json(const struct manifest *m, const struct test_run *tr,
                 const struct report_info *info, struct buf *out)
{
	cJSON *root = cJSON_CreateObject(), *svcs, *stages, *c;
	struct test_counts n;
	char t[40];
	char *text;

	test_count(tr, &n);
	cJSON_AddNumberToObject(root, "version", REPORT_JSON_VERSION);
	cJSON_AddStringToObject(root, "run_id", info->run_id);
	cJSON_AddStringToObject(root, "project", info->project);
	cJSON_AddStringToObject(root, "manifest", info->manifest);
	cJSON_AddStringToObject(root, "strategy",
	                        strategy_name(tr->plan->strategy));
	cJSON_AddItemToObject(root, "middle",
	                      tr->plan->middle >= 0
	                              ? cJSON_CreateNumber(tr->plan->middle)
	                              : cJSON_CreateNull());
	cJSON_AddItemToObject(root, "engine",
	                      info->engine ? cJSON_CreateString(info->engine)
	                                   : cJSON_CreateNull());
	format_rfc3339_ms(t, sizeof(t), tr->wall_start_ms);
	cJSON_AddStringToObject(root, "started_at", t);
	format_rfc3339_ms(t, sizeof(t), tr->wall_end_ms);
	cJSON_AddStringToObject(root, "ended_at", t);
	cJSON_AddNumberToObject(root, "duration_ms",
	                        (double)(tr->wall_end_ms - tr->wall_start_ms));
	cJSON_AddStringToObject(root, "result", result_name(tr));
	cJSON_AddNumberToObject(root, "exit_code", tr->exit_code);
	cJSON_AddBoolToObject(root, "kept", info->kept);
	c = cJSON_AddObjectToObject(root, "counts");
	cJSON_AddNumberToObject(c, "passed", (double)n.passed);
	cJSON_AddNumberToObject(c, "failed", (double)n.failed);
	cJSON_AddNumberToObject(c, "flaky", (double)n.flaky);
	cJSON_AddNumberToObject(c, "timed_out", (double)n.timed_out);
	cJSON_AddNumberToObject(c, "skipped", (double)n.skipped);
	svcs = cJSON_AddArrayToObject(root, "services");
	for (size_t i = 0; i < m->nservices; i++) {
		const struct mf_service *s = &m->services[i];
		cJSON *so = cJSON_CreateObject(), *deps;

		cJSON_AddStringToObject(so, "name", s->name);
		cJSON_AddNumberToObject(so, "level", tr->plan->levels[i]);
		cJSON_AddBoolToObject(so, "external", mf_service_external(s));
		cJSON_AddBoolToObject(so, "has_stub", s->stub != NULL);
		deps = cJSON_AddArrayToObject(so, "depends_on");
		for (size_t k = 0; k < s->ndeps; k++)
			cJSON_AddItemToArray(
			        deps, cJSON_CreateString(s->deps[k].name));
		cJSON_AddItemToArray(svcs, so);
	}
	stages = cJSON_AddArrayToObject(root, "stages");
	for (size_t s = 0; s < tr->plan->nstages; s++)
		cJSON_AddItemToArray(stages, stage_json(m, tr, info, s));
	cJSON_AddItemToObject(root, "diagnosis", diagnosis_json(m, tr, info));
	text = cJSON_Print(root);
	if (text) {
		buf_addstr(out, text);
		buf_addch(out, '\n');
	}
	cJSON_free(text);
	cJSON_Delete(root);
}
