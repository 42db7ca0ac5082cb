/*
 * graph_format.h: the dependency graph as text, Graphviz dot or a Mermaid
 * flowchart (`orchestrate graph`). Pure: it writes into a buffer and
 * prints nothing, so the report can reuse it.
 *
 * Every format shows each service with its level, its dependencies with
 * their conditions, and marks services that have a stub and external
 * (stub-only) ones. Names are escaped for the format: dot quoted IDs
 * ("\"" and "\\"), Mermaid labels (entity codes), so any name renders.
 */
#ifndef ORCH_GRAPH_FORMAT_H
#define ORCH_GRAPH_FORMAT_H

#include "util.h"

struct manifest;

enum graph_format {
	GRAPH_TEXT,
	GRAPH_DOT,
	GRAPH_MERMAID,
};

/* "text", "dot" or "mermaid"; ORCH_EINVALID with the valid ones listed. */
int graph_format_parse(const char *name, enum graph_format *out);

/* The Compose name of a dependency condition ("service_healthy"). */
const char *graph_condition_name(int condition);

/* Append the graph of m to out. ORCH_EINVALID on a dependency cycle. */
int graph_render(const struct manifest *m, enum graph_format f,
                 struct buf *out);

/* Escaping, exposed for the tests. */
void graph_dot_quote(struct buf *out, const char *s);
void graph_mermaid_label(struct buf *out, const char *s);

#endif
