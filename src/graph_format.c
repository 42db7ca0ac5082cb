/*
 * graph_format.c: render the dependency graph (graph_format.h). Layout is
 * left to Graphviz and Mermaid; this only groups services by level so the
 * dependency order reads top (callers) to bottom (dependencies).
 */
#include "graph_format.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "graph.h"
#include "manifest.h"

int graph_format_parse(const char *name, enum graph_format *out)
{
	if (!strcmp(name, "text"))
		*out = GRAPH_TEXT;
	else if (!strcmp(name, "dot"))
		*out = GRAPH_DOT;
	else if (!strcmp(name, "mermaid"))
		*out = GRAPH_MERMAID;
	else
		return orch_error_code(
		        ORCH_EINVALID,
		        "unknown graph format '%s' (valid: text, "
		        "dot, mermaid)",
		        name);
	return 0;
}

const char *graph_condition_name(int condition)
{
	switch (condition) {
	case MF_SERVICE_HEALTHY:
		return "service_healthy";
	case MF_SERVICE_COMPLETED_SUCCESSFULLY:
		return "service_completed_successfully";
	default:
		return "service_started";
	}
}

/* The short form on edges, where space is scarce. */
static const char *condition_short(int condition)
{
	switch (condition) {
	case MF_SERVICE_HEALTHY:
		return "healthy";
	case MF_SERVICE_COMPLETED_SUCCESSFULLY:
		return "completed";
	default:
		return "started";
	}
}

void graph_dot_quote(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addch(out, '\\');
		if (*s == '\n')
			buf_addstr(out, "\\n");
		else
			buf_addch(out, *s);
	}
	buf_addch(out, '"');
}

void graph_mermaid_label(struct buf *out, const char *s)
{
	/* Mermaid reads quotes and markup inside labels: use entity codes */
	buf_addch(out, '"');
	for (; *s; s++) {
		switch (*s) {
		case '"':
			buf_addstr(out, "#quot;");
			break;
		case '#':
			buf_addstr(out, "#35;");
			break;
		case '<':
			buf_addstr(out, "#lt;");
			break;
		case '>':
			buf_addstr(out, "#gt;");
			break;
		case '&':
			buf_addstr(out, "#amp;");
			break;
		case '\n':
			buf_addch(out, ' ');
			break;
		default:
			buf_addch(out, *s);
		}
	}
	buf_addch(out, '"');
}

static const char *no_suites =
        "no suites: `orchestrate test` needs a suites: section (each suite: "
        "targets, then image, build or host: true, and a command); up works "
        "without";

static void render_text(const struct manifest *m, const int *levels, int top,
                        struct buf *out)
{
	for (int level = 0; level <= top; level++) {
		buf_addf(out, "level %d\n", level);
		for (size_t i = 0; i < m->nservices; i++) {
			const struct mf_service *s = &m->services[i];

			if (levels[i] != level)
				continue;
			buf_addf(out, "  %s", s->name);
			if (mf_service_external(s))
				buf_addstr(out, " [external: stub only]");
			else if (s->stub)
				buf_addstr(out, " [has stub]");
			buf_addch(out, '\n');
			for (size_t d = 0; d < s->ndeps; d++)
				buf_addf(out, "    -> %s (%s)\n",
				         m->services[s->deps[d].index].name,
				         graph_condition_name(
				                 s->deps[d].condition));
		}
	}
	if (!m->nsuites) {
		buf_addf(out, "%s\n", no_suites);
		return;
	}
	buf_addstr(out, "suites\n");
	for (size_t k = 0; k < m->nsuites; k++) {
		const struct mf_suite *su = &m->suites[k];

		buf_addf(out, "  %s ->", su->name);
		for (size_t t = 0; t < su->targets.n; t++)
			buf_addf(out, "%s %s", t ? "," : "", su->targets.v[t]);
		buf_addch(out, '\n');
	}
}

static void render_dot(const struct manifest *m, const int *levels, int top,
                       struct buf *out)
{
	buf_addstr(out, "digraph ");
	graph_dot_quote(out, m->name ? m->name : "orchestrate");
	buf_addstr(out, " {\n\tnode [shape=box];\n");
	if (!m->nsuites)
		buf_addf(out, "\t// %s\n", no_suites);
	for (int level = 0; level <= top; level++) {
		buf_addf(out, "\tsubgraph level_%d {\n\t\trank=same;\n", level);
		for (size_t i = 0; i < m->nservices; i++) {
			const struct mf_service *s = &m->services[i];
			struct buf label = BUF_INIT;

			if (levels[i] != level)
				continue;
			buf_addstr(&label, s->name);
			if (mf_service_external(s))
				buf_addstr(&label, "\n(external)");
			else if (s->stub)
				buf_addstr(&label, "\n(has stub)");
			buf_addstr(out, "\t\t");
			graph_dot_quote(out, s->name);
			buf_addstr(out, " [label=");
			graph_dot_quote(out, buf_cstr(&label));
			if (mf_service_external(s))
				buf_addstr(out, ", style=dashed");
			buf_addstr(out, "];\n");
			buf_release(&label);
		}
		buf_addstr(out, "\t}\n");
	}
	for (size_t i = 0; i < m->nservices; i++) {
		const struct mf_service *s = &m->services[i];

		for (size_t d = 0; d < s->ndeps; d++) {
			buf_addch(out, '\t');
			graph_dot_quote(out, s->name);
			buf_addstr(out, " -> ");
			graph_dot_quote(out,
			                m->services[s->deps[d].index].name);
			buf_addf(out, " [label=\"%s\"];\n",
			         condition_short(s->deps[d].condition));
		}
	}
	buf_addstr(out, "}\n");
}

static void render_mermaid(const struct manifest *m, const int *levels, int top,
                           struct buf *out)
{
	/* node ids are s<index>: names may hold what Mermaid ids cannot */
	buf_addstr(out, "flowchart TD\n");
	if (!m->nsuites)
		buf_addf(out, "\t%%%% %s\n", no_suites);
	for (int level = 0; level <= top; level++) {
		buf_addf(out, "\tsubgraph level_%d [\"level %d\"]\n", level,
		         level);
		for (size_t i = 0; i < m->nservices; i++) {
			const struct mf_service *s = &m->services[i];
			struct buf label = BUF_INIT;

			if (levels[i] != level)
				continue;
			buf_addstr(&label, s->name);
			if (mf_service_external(s))
				buf_addstr(&label, " (external)");
			else if (s->stub)
				buf_addstr(&label, " (has stub)");
			buf_addf(out, "\t\ts%zu[", i);
			graph_mermaid_label(out, buf_cstr(&label));
			buf_addstr(out, "]\n");
			buf_release(&label);
		}
		buf_addstr(out, "\tend\n");
	}
	for (size_t i = 0; i < m->nservices; i++) {
		const struct mf_service *s = &m->services[i];

		for (size_t d = 0; d < s->ndeps; d++)
			buf_addf(out, "\ts%zu -->|%s| s%zu\n", i,
			         condition_short(s->deps[d].condition),
			         s->deps[d].index);
	}
	for (size_t i = 0; i < m->nservices; i++)
		if (mf_service_external(&m->services[i]))
			buf_addf(out, "\tclass s%zu external\n", i);
	buf_addstr(out, "\tclassDef external stroke-dasharray: 5 5\n");
}

int graph_render(const struct manifest *m, enum graph_format f, struct buf *out)
{
	int *levels = xcalloc(m->nservices, sizeof(*levels));
	int top = graph_levels(m, levels);

	if (top < 0)
		goto out;
	if (!m->nservices)
		top = -1; /* no level to show */
	switch (f) {
	case GRAPH_DOT:
		render_dot(m, levels, top, out);
		break;
	case GRAPH_MERMAID:
		render_mermaid(m, levels, top, out);
		break;
	default:
		render_text(m, levels, top, out);
		break;
	}
	top = 0;
out:
	free(levels);
	return top;
}
