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

#endif
