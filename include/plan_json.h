/*
 * plan_json.h: a plan as the JSON document `orchestrate plan --json`
 * prints; docs/strategies.md ("`plan --json`") documents it field by field,
 * and tests and other tools read it. Kept apart from plan.c so that the
 * planner stays free of cJSON; the report can embed the same document.
 */
#ifndef ORCH_PLAN_JSON_H
#define ORCH_PLAN_JSON_H

#include "util.h"

struct manifest;
struct plan;

/* Append the document (indented, ending in a newline) to out. */
int plan_json(const struct manifest *m, const struct plan *p, struct buf *out);

/*
 * Pieces other documents of the same vocabulary reuse (report.json):
 * service indices as an array of names, edges as [caller, dependency]
 * name pairs. The caller owns the cJSON item; only modules that speak
 * JSON include cJSON.
 */
struct cJSON;
struct plan_indices;
struct plan_edges;
struct cJSON *plan_json_names(const struct manifest *m,
                              const struct plan_indices *l);
struct cJSON *plan_json_edges(const struct manifest *m,
                              const struct plan_edges *l);

#endif
