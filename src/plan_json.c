/*
 * plan_json.c: serialise a plan (plan_json.h). Services and suites are
 * written by name, in manifest order, so that the document reads without
 * the manifest at hand.
 */
#include "plan_json.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "manifest.h"
#include "plan.h"

cJSON *plan_json_names(const struct manifest *m, const struct plan_indices *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < l->n; i++)
		cJSON_AddItemToArray(
		        a, cJSON_CreateString(m->services[l->v[i]].name));
	return a;
}

cJSON *plan_json_edges(const struct manifest *m, const struct plan_edges *l)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < l->n; i++) {
		cJSON *pair = cJSON_CreateArray();

		cJSON_AddItemToArray(
		        pair,
		        cJSON_CreateString(m->services[l->v[i].caller].name));
		cJSON_AddItemToArray(
		        pair,
		        cJSON_CreateString(m->services[l->v[i].dep].name));
		cJSON_AddItemToArray(a, pair);
	}
	return a;
}

static cJSON *strings(const struct strvec *sv)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

static cJSON *run_json(const struct manifest *m, const struct plan_run *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "suite", m->suites[r->suite].name);
	cJSON_AddBoolToObject(o, "rerun", r->previous_stage >= 0);
	if (r->previous_stage >= 0)
		cJSON_AddNumberToObject(o, "previous_stage", r->previous_stage);
	else
		cJSON_AddNullToObject(o, "previous_stage");
	cJSON_AddBoolToObject(o, "against_stubs", r->stubs.n > 0);
	cJSON_AddItemToObject(o, "services", plan_json_names(m, &r->deps));
	cJSON_AddItemToObject(o, "stubs", plan_json_names(m, &r->stubs));
	cJSON_AddItemToObject(o, "edges", plan_json_edges(m, &r->edges));
	cJSON_AddItemToObject(o, "new_edges",
	                      plan_json_edges(m, &r->new_edges));
	return o;
}

static cJSON *stage_json(const struct manifest *m, const struct plan_stage *st)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *suites = cJSON_CreateArray();
	cJSON *runs = cJSON_CreateArray();

	cJSON_AddNumberToObject(o, "index", (double)st->index);
	cJSON_AddStringToObject(o, "label", st->label);
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
	for (size_t i = 0; i < st->nruns; i++) {
		cJSON_AddItemToArray(
		        suites,
		        cJSON_CreateString(m->suites[st->runs[i].suite].name));
		cJSON_AddItemToArray(runs, run_json(m, &st->runs[i]));
	}
	cJSON_AddItemToObject(o, "suites", suites);
	cJSON_AddItemToObject(o, "runs", runs);
	cJSON_AddItemToObject(o, "notes", strings(&st->notes));
	return o;
}

int plan_json(const struct manifest *m, const struct plan *p, struct buf *out)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *levels = cJSON_CreateObject();
	cJSON *services = cJSON_CreateArray();
	cJSON *suites = cJSON_CreateArray();
	cJSON *stages = cJSON_CreateArray();
	char *text = NULL;
	int rc = 0;

	cJSON_AddStringToObject(root, "strategy", strategy_name(p->strategy));
	if (p->middle >= 0)
		cJSON_AddNumberToObject(root, "middle", p->middle);
	else
		cJSON_AddNullToObject(root, "middle");
	cJSON_AddNumberToObject(root, "top_level", p->top);
	for (size_t i = 0; i < m->nservices; i++) {
		const struct mf_service *s = &m->services[i];
		cJSON *o = cJSON_CreateObject();
		cJSON *deps = cJSON_CreateArray();

		cJSON_AddNumberToObject(levels, s->name, p->levels[i]);
		cJSON_AddStringToObject(o, "name", s->name);
		cJSON_AddNumberToObject(o, "level", p->levels[i]);
		cJSON_AddBoolToObject(o, "external", mf_service_external(s));
		cJSON_AddBoolToObject(o, "has_stub", s->stub != NULL);
		for (size_t d = 0; d < s->ndeps; d++)
			cJSON_AddItemToArray(
			        deps,
			        cJSON_CreateString(
			                m->services[s->deps[d].index].name));
		cJSON_AddItemToObject(o, "depends_on", deps);
		cJSON_AddItemToArray(services, o);
	}
	cJSON_AddItemToObject(root, "levels", levels);
	cJSON_AddItemToObject(root, "services", services);
	for (size_t k = 0; k < m->nsuites; k++) {
		const struct mf_suite *su = &m->suites[k];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", su->name);
		cJSON_AddNumberToObject(o, "level", p->suite_levels[k]);
		cJSON_AddItemToObject(o, "targets", strings(&su->targets));
		cJSON_AddItemToArray(suites, o);
	}
	cJSON_AddItemToObject(root, "suites", suites);
	cJSON_AddItemToObject(root, "notes", strings(&p->notes));
	for (size_t i = 0; i < p->nstages; i++)
		cJSON_AddItemToArray(stages, stage_json(m, &p->stages[i]));
	cJSON_AddItemToObject(root, "stages", stages);

	text = cJSON_Print(root);
	if (!text) {
		rc = orch_error_set("cannot serialise the plan");
		goto out;
	}
	buf_addstr(out, text);
	buf_addch(out, '\n');
out:
	free(text);
	cJSON_Delete(root);
	return rc;
}
