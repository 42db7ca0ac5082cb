/*
 * test-graph.c: cycles, topological order and the three renderings of
 * the dependency graph (graph.c, graph_format.c), including escaping.
 */
#include "error.h"
#include "graph.h"
#include "graph_format.h"
#include "harness.h"
#include "mfbuild.h"

static void diamond(struct manifest *m)
{
	svc(m, "db", REAL, "");
	svc(m, "api", REAL | STUB, "db:h");
	svc(m, "worker", REAL | STUB, "db");
	svc(m, "web", REAL, "api:h,worker");
	svc(m, "payments", STUB, "");
	suite(m, "e2e", "db,web");
	finish(m);
}

TEST(cycle)
{
	struct manifest m = { 0 };
	struct buf b = BUF_INIT;
	size_t order[3];

	svc(&m, "a", REAL, "b");
	svc(&m, "b", REAL, "c");
	svc(&m, "c", REAL, "a");
	finish(&m);
	ASSERT_EQ_INT(graph_find_cycle(&m, &b), 1);
	ASSERT_EQ_STR(buf_cstr(&b), "a -> b -> c -> a");
	ASSERT_EQ_INT(graph_topo_order(&m, order), ORCH_EINVALID);
	ASSERT_EQ_INT(graph_render(&m, GRAPH_TEXT, &b), ORCH_EINVALID);
	buf_release(&b);
	release(&m);

	svc(&m, "self", REAL, "self");
	finish(&m);
	ASSERT_EQ_INT(graph_find_cycle(&m, NULL), 1);
	release(&m);
}

TEST(topo_order)
{
	struct manifest m = { 0 };
	size_t order[5];

	diamond(&m);
	ASSERT_EQ_INT(graph_find_cycle(&m, NULL), 0);
	ASSERT_EQ_INT(graph_topo_order(&m, order), 0);
	ASSERT_EQ_INT(order[0], 0);
	ASSERT_EQ_INT(order[1], 1);
	ASSERT_EQ_INT(order[2], 2);
	ASSERT_EQ_INT(order[3], 3);
	ASSERT_EQ_INT(order[4], 4);
	release(&m);
}

TEST(formats_parse)
{
	enum graph_format f;

	ASSERT_EQ_INT(graph_format_parse("dot", &f), 0);
	ASSERT_EQ_INT(f, GRAPH_DOT);
	ASSERT_EQ_INT(graph_format_parse("mermaid", &f), 0);
	ASSERT_EQ_INT(f, GRAPH_MERMAID);
	ASSERT_EQ_INT(graph_format_parse("svg", &f), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "unknown graph format 'svg'");
}

TEST(text)
{
	struct manifest m = { 0 };
	struct buf b = BUF_INIT;

	diamond(&m);
	ASSERT_EQ_INT(graph_render(&m, GRAPH_TEXT, &b), 0);
	ASSERT_EQ_STR(buf_cstr(&b), "level 0\n"
	                            "  db\n"
	                            "  payments [external: stub only]\n"
	                            "level 1\n"
	                            "  api [has stub]\n"
	                            "    -> db (service_healthy)\n"
	                            "  worker [has stub]\n"
	                            "    -> db (service_started)\n"
	                            "level 2\n"
	                            "  web\n"
	                            "    -> api (service_healthy)\n"
	                            "    -> worker (service_started)\n"
	                            "suites\n"
	                            "  e2e -> db, web\n");
	buf_release(&b);
	release(&m);
}

TEST(dot)
{
	struct manifest m = { 0 };
	struct buf b = BUF_INIT;

	diamond(&m);
	ASSERT_EQ_INT(graph_render(&m, GRAPH_DOT, &b), 0);
	ASSERT_CONTAINS(buf_cstr(&b), "digraph \"orchestrate\" {\n");
	ASSERT_CONTAINS(buf_cstr(&b),
	                "\t\t\"api\" [label=\"api\\n(has stub)\"];\n");
	ASSERT_CONTAINS(buf_cstr(&b), "\"payments\" [label=\"payments\\n"
	                              "(external)\", style=dashed];");
	ASSERT_CONTAINS(buf_cstr(&b),
	                "\t\"web\" -> \"api\" [label=\"healthy\"];\n");
	ASSERT_CONTAINS(buf_cstr(&b),
	                "\t\"worker\" -> \"db\" [label=\"started\"];\n");
	ASSERT_CONTAINS(buf_cstr(&b), "subgraph level_2 {");
	buf_release(&b);
	release(&m);
}

TEST(mermaid)
{
	struct manifest m = { 0 };
	struct buf b = BUF_INIT;

	diamond(&m);
	ASSERT_EQ_INT(graph_render(&m, GRAPH_MERMAID, &b), 0);
	ASSERT_CONTAINS(buf_cstr(&b), "flowchart TD\n");
	ASSERT_CONTAINS(buf_cstr(&b), "\t\ts1[\"api (has stub)\"]\n");
	ASSERT_CONTAINS(buf_cstr(&b), "\ts3 -->|healthy| s1\n");
	ASSERT_CONTAINS(buf_cstr(&b), "\ts3 -->|started| s2\n");
	ASSERT_CONTAINS(buf_cstr(&b), "\tclass s4 external\n");
	buf_release(&b);
	release(&m);
}

TEST(escaping)
{
	struct buf b = BUF_INIT;

	graph_dot_quote(&b, "a\"b\\c\nd");
	ASSERT_EQ_STR(buf_cstr(&b), "\"a\\\"b\\\\c\\nd\"");
	buf_reset(&b);
	graph_mermaid_label(&b, "x\"<y>&#z");
	ASSERT_EQ_STR(buf_cstr(&b), "\"x#quot;#lt;y#gt;#amp;#35;z\"");
	buf_release(&b);
}

TEST(no_suites_note)
{
	struct manifest m = { 0 };
	struct buf b = BUF_INIT;

	svc(&m, "db", REAL, "");
	finish(&m);
	ASSERT_EQ_INT(graph_render(&m, GRAPH_TEXT, &b), 0);
	ASSERT_CONTAINS(buf_cstr(&b), "no suites: `orchestrate test` needs a "
	                              "suites: section (each suite: targets, "
	                              "then image, build or host: true, and a "
	                              "command); up works without\n");
	buf_reset(&b);
	ASSERT_EQ_INT(graph_render(&m, GRAPH_DOT, &b), 0);
	ASSERT_CONTAINS(buf_cstr(&b), "\t// no suites:");
	buf_reset(&b);
	ASSERT_EQ_INT(graph_render(&m, GRAPH_MERMAID, &b), 0);
	ASSERT_CONTAINS(buf_cstr(&b), "\t%% no suites:");
	buf_release(&b);
	release(&m);
}

int main(void)
{
	RUN(cycle);
	RUN(topo_order);
	RUN(formats_parse);
	RUN(text);
	RUN(dot);
	RUN(mermaid);
	RUN(escaping);
	RUN(no_suites_note);
	return harness_done();
}
