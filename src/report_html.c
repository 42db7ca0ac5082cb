/*
 * report_html.c: report.json as report.html (report.h) -- one page that
 * opens anywhere without a network: inline CSS, inline SVG, no script,
 * and a Content-Security-Policy that forbids fetching anything, so a
 * hostile string that slipped through could not load a thing either.
 * Every string from the document goes through xml.h.
 *
 * From the top: the result and the diagnosis; the dependency graph laid
 * out by level as `orchestrate graph` lists it (callers above what they
 * depend on), each edge coloured by the suites that integrated it and
 * the suspect edges marked; a timeline of bring-up, swaps, stages and
 * suites; each stage with its suites and the failing ones' output; the
 * services; the git state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "xml.h"

/* ---- helpers -------------------------------------------------------------- */

static void h(struct buf *out, const char *s)
{
	xml_add_textz(out, s);
}

static void ha(struct buf *out, const char *s)
{
	xml_add_attrz(out, s);
}

/* a status as a class name: only the known ones, the rest "other" */
static const char *status_class(const char *s)
{
	static const char *const known[] = {
		"passed", "failed", "flaky", "error", "skipped", "interrupted"
	};

	if (s && !strcmp(s, "timed out"))
		return "failed";
	for (size_t i = 0; s && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return "other";
}

static void badge(struct buf *out, const char *status)
{
	buf_addf(out, "<span class=\"badge %s\">", status_class(status));
	h(out, status ? status : "?");
	buf_addstr(out, "</span>");
}

static const struct rd_list list_html = { h, "", ", ", " &#8594; ", "&#8212;" };

static void secs(struct buf *out, double ms)
{
	rd_seconds(out, ms);
}

/* s escaped, cut to max bytes on a character boundary ("..." after) */
static void h_cut(struct buf *out, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n <= max) {
		h(out, s);
		return;
	}
	while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	xml_add_text(out, s, max);
	buf_addstr(out, "&#8230;");
}

/* ---- the graph ------------------------------------------------------------ */

#define NODE_H   46
#define ROW_GAP  96
#define NODE_GAP 36
#define CHAR_W   7.8
#define MARGIN   30

struct gnode {
	const char *name;
	const cJSON *deps;
	int level, external, has_stub, stub_now, failed;
	double key, x, y, w;
};

struct gedge {
	size_t from, to;
	int pass, fail, flaky, suspect;
};

struct graph {
	struct gnode *n;
	size_t nn;
	struct gedge *e;
	size_t ne;
	int top; /* the highest level */
	double width, height;
};

static long node_index(const struct graph *g, const char *name)
{
	for (size_t i = 0; name && i < g->nn; i++)
		if (!strcmp(g->n[i].name, name))
			return (long)i;
	return -1;
}

static int cmp_key(const void *a, const void *b)
{
	const struct gnode *const *x = a, *const *y = b;

	return (*x)->key < (*y)->key ? -1 : (*x)->key > (*y)->key;
}

/*
 * Rows by level, the highest on top; in each row below the top, nodes in
 * the order of the mean position of their callers above (fewer
 * crossings), those without callers after them in manifest order.
 */
static void layout(struct graph *g)
{
	struct gnode **row = xcalloc(g->nn + 1, sizeof(*row));
	double widest = 0;

	for (int lv = g->top; lv >= 0; lv--) {
		size_t n = 0;
		double x = 0;

		for (size_t i = 0; i < g->nn; i++) {
			struct gnode *v = &g->n[i];
			double sum = 0;
			int callers = 0;

			if (v->level != lv)
				continue;
			for (size_t k = 0; k < g->ne; k++) {
				const struct gnode *c = &g->n[g->e[k].from];

				if (g->e[k].to == i && c->level > lv) {
					sum += c->x + c->w / 2;
					callers++;
				}
			}
			v->key = callers ? sum / callers : 1e12 + (double)i;
			row[n++] = v;
		}
		qsort(row, n, sizeof(*row), cmp_key);
		for (size_t i = 0; i < n; i++) {
			row[i]->x = x;
			row[i]->y = MARGIN + (g->top - lv) * (NODE_H + ROW_GAP);
			x += row[i]->w + NODE_GAP;
		}
		if (x - NODE_GAP > widest)
			widest = x - NODE_GAP;
	}
	/* centre each row */
	for (int lv = g->top; lv >= 0; lv--) {
		double w = -NODE_GAP, shift;

		for (size_t i = 0; i < g->nn; i++)
			if (g->n[i].level == lv)
				w += g->n[i].w + NODE_GAP;
		shift = MARGIN + (widest - w) / 2;
		for (size_t i = 0; i < g->nn; i++)
			if (g->n[i].level == lv)
				g->n[i].x += shift;
	}
	g->width = widest + 2 * MARGIN;
	if (g->width < 320)
		g->width = 320;
	g->height = 2 * MARGIN + (g->top + 1) * NODE_H + g->top * ROW_GAP;
	free(row);
}

static void graph_build(const cJSON *root, struct graph *g)
{
	const cJSON *s, *d, *st, *su, *last = NULL;
	const cJSON *diag = rd_obj(root, "diagnosis");
	const char *bringup = rd_str(diag, "bring_up_failure");
	size_t alloc = 0;

	memset(g, 0, sizeof(*g));
	g->n = xcalloc((size_t)rd_count(rd_arr(root, "services")) + 1,
	               sizeof(*g->n));
	cJSON_ArrayForEach(s, rd_arr(root, "services"))
	{
		struct gnode *v = &g->n[g->nn];
		const char *name = rd_str(s, "name");
		double lv = rd_numd(s, "level", 0);
		size_t len;

		if (!name || node_index(g, name) >= 0)
			continue;
		v->name = name;
		v->level = lv >= 0 && lv < 64 ? (int)lv : 0;
		v->external = rd_true(s, "external");
		v->has_stub = rd_true(s, "has_stub");
		v->deps = rd_arr(s, "depends_on");
		v->failed = bringup && !strcmp(bringup, name);
		len = strlen(name) > 32 ? 32 : strlen(name);
		v->w = len * CHAR_W + 28;
		/* room for "level N · has stub" below the name too */
		if (v->w < 150 && (v->has_stub || v->external))
			v->w = v->external ? 190 : 150;
		if (v->w < 96)
			v->w = 96;
		if (v->level > g->top)
			g->top = v->level;
		g->nn++;
	}
	for (size_t i = 0; i < g->nn; i++) {
		cJSON_ArrayForEach(d, g->n[i].deps)
		{
			long to = cJSON_IsString(d)
			                  ? node_index(g, d->valuestring)
			                  : -1;

			if (to < 0)
				continue;
			ALLOC_GROW(g->e, g->ne + 1, alloc);
			memset(&g->e[g->ne], 0, sizeof(g->e[g->ne]));
			g->e[g->ne].from = i;
			g->e[g->ne].to = (size_t)to;
			g->e[g->ne].suspect =
			        rd_has_edge(rd_arr(diag, "suspects"),
			                    g->n[i].name, d->valuestring);
			g->ne++;
		}
	}
	/* each edge's verdict: the suites whose configuration integrated it */
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		if (rd_count(rd_arr(st, "services")))
			last = st;
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			const char *status = rd_str(su, "status");

			if (!status || !strcmp(status, "skipped"))
				continue;
			for (size_t k = 0; k < g->ne; k++) {
				struct gedge *e = &g->e[k];

				if (!rd_has_edge(rd_arr(su, "edges"),
				                 g->n[e->from].name,
				                 g->n[e->to].name))
					continue;
				if (!strcmp(status, "flaky"))
					e->flaky++;
				else if (rd_status_ok(status))
					e->pass++;
				else
					e->fail++;
			}
		}
	}
	/* what was still a stub when the run ended */
	cJSON_ArrayForEach(s, rd_arr(last, "services"))
	{
		long i = node_index(g, rd_str(s, "name"));

		if (i >= 0 && rd_str(s, "mode") &&
		    !strcmp(rd_str(s, "mode"), "stub"))
			g->n[i].stub_now = 1;
	}
	layout(g);
}

static const char *edge_class(const struct gedge *e)
{
	if (e->fail && (e->pass || e->flaky))
		return "mixed";
	if (e->fail)
		return "fail";
	if (e->flaky)
		return "flaky";
	if (e->pass)
		return "pass";
	return "none";
}

static void graph_svg(struct buf *out, const struct graph *g)
{
	static const char *const kinds[] = { "pass",  "fail", "mixed",
		                             "flaky", "none", "suspect" };

	buf_addf(out,
	         "<svg class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" "
	         "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
	         "role=\"img\" aria-label=\"dependency graph\">\n<defs>",
	         g->width, g->height, g->width, g->height);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		buf_addf(out,
		         "<marker id=\"arrow-%s\" viewBox=\"0 0 10 10\" "
		         "refX=\"9\" refY=\"5\" markerWidth=\"%d\" "
		         "markerHeight=\"%d\" orient=\"auto-start-reverse\">"
		         "<path d=\"M0,0 L10,5 L0,10 z\" class=\"head-%s\"/>"
		         "</marker>",
		         kinds[i], i == 5 ? 4 : 7, i == 5 ? 4 : 7, kinds[i]);
	buf_addstr(out, "</defs>\n");
	/* edges first, under the nodes; suspects last, over the others */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < g->ne; k++) {
			const struct gedge *e = &g->e[k];
			const struct gnode *a = &g->n[e->from],
			                   *b = &g->n[e->to];
			double x1 = a->x + a->w / 2, y1 = a->y + NODE_H;
			double x2 = b->x + b->w / 2, y2 = b->y - 2;
			double bend = (y2 - y1) / 2;
			const char *cls = edge_class(e);

			if (e->suspect != pass)
				continue;
			if (y2 <= y1) {
				/* same row or upwards (a level the document
				   got wrong): from the side */
				y1 = a->y + NODE_H / 2;
				y2 = b->y + NODE_H / 2;
				bend = 40;
			}
			buf_addf(out, "<g class=\"edge %s%s\"%s>", cls,
			         e->suspect ? " suspect" : "",
			         e->suspect ? " id=\"suspect-edge\"" : "");
			buf_addstr(out, "<title>");
			h(out, a->name);
			buf_addstr(out, " &#8594; ");
			h(out, b->name);
			buf_addf(out,
			         ": %d passed, %d failed, %d flaky%s</title>",
			         e->pass, e->fail, e->flaky,
			         e->suspect ? " &#8212; suspect" : "");
			if (e->suspect)
				buf_addf(out,
				         "<path class=\"halo\" d=\"M%.1f,%.1f "
				         "C%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>",
				         x1, y1, x1, y1 + bend, x2, y2 - bend,
				         x2, y2);
			buf_addf(
			        out,
			        "<path class=\"line\" d=\"M%.1f,%.1f C%.1f,%.1f "
			        "%.1f,%.1f %.1f,%.1f\" "
			        "marker-end=\"url(#arrow-%s)\"/>",
			        x1, y1, x1, y1 + bend, x2, y2 - bend, x2, y2,
			        e->suspect ? "suspect" : cls);
			if (e->pass || e->fail || e->flaky || e->suspect) {
				buf_addf(out,
				         "<text class=\"elabel\" x=\"%.1f\" "
				         "y=\"%.1f\">",
				         (x1 + x2) / 2 + 8, (y1 + y2) / 2 + 4);
				if (e->suspect)
					buf_addstr(out, "suspect: ");
				if (e->fail)
					buf_addf(out, "%d failed ", e->fail);
				if (e->flaky)
					buf_addf(out, "%d flaky ", e->flaky);
				if (e->pass)
					buf_addf(out, "%d passed", e->pass);
				buf_addstr(out, "</text>");
			}
			buf_addstr(out, "</g>\n");
		}
	}
	for (size_t i = 0; i < g->nn; i++) {
		const struct gnode *v = &g->n[i];
		size_t len = strlen(v->name);

		buf_addf(out, "<g class=\"node%s%s%s\">",
		         v->has_stub || v->external ? " has-stub" : "",
		         v->external ? " external" : "",
		         v->failed ? " failed" : "");
		buf_addstr(out, "<title>");
		h(out, v->name);
		buf_addf(out, ", level %d%s%s</title>", v->level,
		         v->external   ? ", external: stub only"
		         : v->has_stub ? ", has a stub"
		                       : "",
		         v->stub_now ? ", a stub at the end" : "");
		if (v->has_stub || v->external)
			/* the stub: a card behind the service */
			buf_addf(
			        out,
			        "<rect class=\"stubcard\" x=\"%.1f\" y=\"%.1f\" "
			        "width=\"%.1f\" height=\"%d\" rx=\"7\"/>",
			        v->x + 6, v->y - 6, v->w, NODE_H);
		buf_addf(out,
		         "<rect class=\"box%s\" x=\"%.1f\" y=\"%.1f\" "
		         "width=\"%.1f\" height=\"%d\" rx=\"7\"/>",
		         v->stub_now ? " stubnow" : "", v->x, v->y, v->w,
		         NODE_H);
		buf_addf(out, "<text class=\"name\" x=\"%.1f\" y=\"%.1f\">",
		         v->x + v->w / 2, v->y + 20);
		h_cut(out, v->name, len > 32 ? 31 : 32);
		buf_addf(out,
		         "</text><text class=\"sub\" x=\"%.1f\" y=\"%.1f\">"
		         "level %d%s</text></g>\n",
		         v->x + v->w / 2, v->y + 36, v->level,
		         v->external   ? " &#183; external (stub)"
		         : v->stub_now ? " &#183; stub"
		         : v->has_stub ? " &#183; has stub"
		                       : "");
	}
	buf_addstr(out, "</svg>\n");
}

static void graph_section(struct buf *out, const cJSON *root)
{
	struct graph g;

	graph_build(root, &g);
	buf_addstr(out, "<section id=\"graph\"><h2>Dependency graph</h2>\n"
	                "<div class=\"scroll centre\">");
	graph_svg(out, &g);
	buf_addstr(out,
	           "</div><p class=\"legend\">"
	           "<span class=\"key pass\"></span>passed "
	           "<span class=\"key fail\"></span>failed "
	           "<span class=\"key mixed\"></span>passed, then failed "
	           "<span class=\"key flaky\"></span>flaky "
	           "<span class=\"key none\"></span>not integrated by a suite "
	           "<span class=\"key suspect\"></span>suspect "
	           "<span class=\"key stub\"></span>has a stub "
	           "&#8212; an edge is coloured by the suites whose "
	           "configuration integrated it; callers above what they "
	           "depend on</p></section>\n");
	free(g.n);
	free(g.e);
}

/* ---- the timeline --------------------------------------------------------- */

#define TL_LABEL 170
#define TL_WIDTH 900
#define TL_ROW   22

struct timeline {
	struct buf *out;
	double end; /* ms at the right edge */
	double y;
};

static double tx(const struct timeline *t, double ms)
{
	if (ms != ms || ms < 0)
		ms = 0;
	if (ms > t->end)
		ms = t->end;
	return TL_LABEL + ms * TL_WIDTH / t->end;
}

static void tl_label(struct timeline *t, const char *text, const char *cls)
{
	buf_addf(t->out, "<text class=\"tlabel %s\" x=\"%d\" y=\"%.1f\">", cls,
	         TL_LABEL - 8, t->y + TL_ROW / 2 + 4);
	h_cut(t->out, text, 22);
	buf_addstr(t->out, "</text>");
}

static void tl_bar(struct timeline *t, double from, double to, const char *cls,
                   const char *title, const char *text)
{
	double x1 = tx(t, from), x2 = tx(t, to);

	if (x2 - x1 < 2)
		x2 = x1 + 2;
	buf_addf(t->out,
	         "<g class=\"bar %s\"><rect x=\"%.1f\" y=\"%.1f\" "
	         "width=\"%.1f\" height=\"%d\" rx=\"3\"/><title>",
	         cls, x1, t->y + 3, x2 - x1, TL_ROW - 6);
	h(t->out, title);
	buf_addstr(t->out, "</title>");
	if (text && x2 - x1 > 8 * strlen(text) + 6) {
		buf_addf(t->out, "<text x=\"%.1f\" y=\"%.1f\">", x1 + 4,
		         t->y + TL_ROW / 2 + 4);
		h(t->out, text);
		buf_addstr(t->out, "</text>");
	}
	buf_addstr(t->out, "</g>");
}

static double doc_end(const cJSON *root)
{
	const cJSON *st, *su;
	double end = rd_numd(root, "duration_ms", 0), v;

	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		if (rd_num(st, "ended_ms", &v) && v > end)
			end = v;
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			if (rd_num(su, "ended_ms", &v) && v > end)
				end = v;
		}
	}
	if (end != end || end < 100)
		end = 100;
	return end > 1e10 ? 1e10 : end;
}

/* The suites' names, once each, in the order they first ran. */
static void suite_names(const cJSON *root, struct strvec *names)
{
	const cJSON *st, *su;

	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			const char *n = rd_str(su, "name");

			if (n && strvec_find(names, n) < 0)
				strvec_push(names, n);
		}
	}
}

static void service_row(struct timeline *t, const cJSON *root, const char *name)
{
	const cJSON *st, *s;
	double seen_start[2] = { -1, -1 }, swap = -1, v;
	int k = 0;

	/* a stub runs until its service is swapped in */
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		cJSON_ArrayForEach(s, rd_arr(st, "services"))
		{
			if (rd_str(s, "name") &&
			    !strcmp(rd_str(s, "name"), name) &&
			    rd_num(s, "swapped_ms", &v) && swap < 0)
				swap = v;
		}
	}
	tl_label(t, name, "service");
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		k++;
		cJSON_ArrayForEach(s, rd_arr(st, "services"))
		{
			const char *n = rd_str(s, "name"), *mode;
			double start, ready, swapped, gap;
			struct buf title = BUF_INIT;
			int stub;

			if (!n || strcmp(n, name) ||
			    !rd_num(s, "started_ms", &start))
				continue;
			mode = rd_str(s, "mode");
			stub = mode && !strcmp(mode, "stub");
			if (seen_start[stub] == start)
				continue;
			seen_start[stub] = start;
			if (!rd_num(s, "ready_ms", &ready))
				ready = start;
			buf_addf(&title, "%s%s: started ", name,
			         stub ? " (stub)" : "");
			secs(&title, start);
			buf_addstr(&title, ", ready ");
			secs(&title, ready);
			buf_addf(&title, " (stage %d)", k);
			tl_bar(t, start, ready, stub ? "up stub" : "up real",
			       buf_cstr(&title), stub ? "stub" : NULL);
			/* running from ready on: a thin line */
			buf_addf(t->out,
			         "<line class=\"running%s\" x1=\"%.1f\" "
			         "y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
			         stub ? " stub" : "", tx(t, ready),
			         t->y + TL_ROW / 2,
			         tx(t, stub && swap >= ready ? swap : t->end),
			         t->y + TL_ROW / 2);
			if (rd_num(s, "swapped_ms", &swapped)) {
				buf_reset(&title);
				buf_addf(&title,
				         "%s swapped in for its stub at ",
				         name);
				secs(&title, swapped);
				if (rd_num(s, "swap_gap_ms", &gap))
					buf_addf(
					        &title,
					        " (the name answered nothing for "
					        "%.0f ms)",
					        gap);
				buf_addf(
				        t->out,
				        "<g class=\"swap\"><path d=\"M%.1f,%.1f "
				        "l6,8 l-6,8 l-6,-8 z\"/><title>",
				        tx(t, swapped), t->y + 3);
				h(t->out, buf_cstr(&title));
				buf_addstr(t->out, "</title></g>");
			}
			buf_release(&title);
		}
	}
	buf_addch(t->out, '\n');
	t->y += TL_ROW;
}

static void suite_row(struct timeline *t, const cJSON *root, const char *name)
{
	const cJSON *st, *su;
	int k = 0;

	tl_label(t, name, "suite");
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		k++;
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			const char *n = rd_str(su, "name");
			const char *status = rd_str(su, "status");
			double from, to;
			struct buf title = BUF_INIT;
			char label[16];

			if (!n || strcmp(n, name) ||
			    !rd_num(su, "started_ms", &from) ||
			    !rd_num(su, "ended_ms", &to))
				continue;
			buf_addf(&title, "%s, stage %d: %s, ", name, k,
			         status ? status : "?");
			secs(&title, to - from);
			snprintf(label, sizeof(label), "%d", k);
			tl_bar(t, from, to, status_class(status),
			       buf_cstr(&title), label);
			buf_release(&title);
		}
	}
	buf_addch(t->out, '\n');
	t->y += TL_ROW;
}

static void timeline_section(struct buf *out, const cJSON *root)
{
	struct timeline t = { out, doc_end(root), 0 };
	struct strvec suites = STRVEC_INIT;
	const cJSON *st, *s;
	int nservices = rd_count(rd_arr(root, "services")), k = 0;
	double height, step = 0.1, v, top = 26;
	static const double steps[] = { 0.1, 0.2, 0.5, 1,   2,   5,    10,  20,
		                        30,  60,  120, 300, 600, 1800, 3600 };

	suite_names(root, &suites);
	height = top + (1 + nservices + (double)suites.n) * TL_ROW + 24;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i];
		if (t.end / 1000 / step <= 10)
			break;
	}
	buf_addf(out,
	         "<section id=\"timeline\"><h2>Timeline</h2>\n"
	         "<div class=\"scroll\"><svg class=\"timeline\" "
	         "xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	         "height=\"%.0f\" role=\"img\" aria-label=\"timeline\">\n",
	         TL_LABEL + TL_WIDTH + 20, height);
	/* the stages as bands behind everything */
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		double from, to;

		k++;
		if (!rd_num(st, "started_ms", &from))
			continue;
		if (!rd_num(st, "ended_ms", &to))
			to = t.end;
		buf_addf(out,
		         "<rect class=\"band b%d\" x=\"%.1f\" y=\"%.1f\" "
		         "width=\"%.1f\" height=\"%.1f\"/>",
		         k % 2, tx(&t, from), top, tx(&t, to) - tx(&t, from),
		         height - top - 20);
	}
	/* the axis */
	for (v = 0; v * 1000 <= t.end + 1e-9; v += step) {
		double x = tx(&t, v * 1000);

		buf_addf(out,
		         "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" "
		         "x2=\"%.1f\" y2=\"%.1f\"/><text class=\"tick\" "
		         "x=\"%.1f\" y=\"16\">%gs</text>",
		         x, top, x, height - 20, x, v);
	}
	buf_addch(out, '\n');
	t.y = top;
	/* the stages' own row */
	tl_label(&t, "stages", "stage");
	k = 0;
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		double from, to, ready;
		struct buf title = BUF_INIT;
		char label[32];

		k++;
		if (!rd_num(st, "started_ms", &from))
			continue;
		if (!rd_num(st, "ended_ms", &to))
			to = from;
		buf_addf(&title, "stage %d (%s): %s, ", k,
		         rd_str(st, "label") ? rd_str(st, "label") : "",
		         rd_str(st, "status") ? rd_str(st, "status") : "?");
		if (rd_num(st, "ready_ms", &ready)) {
			buf_addstr(&title, "brought up in ");
			secs(&title, ready - from);
		} else {
			buf_addstr(&title, "not brought up");
		}
		snprintf(label, sizeof(label), "stage %d", k);
		tl_bar(&t, from, to, status_class(rd_str(st, "status")),
		       buf_cstr(&title), label);
		buf_release(&title);
	}
	t.y += TL_ROW;
	cJSON_ArrayForEach(s, rd_arr(root, "services"))
	{
		if (rd_str(s, "name"))
			service_row(&t, root, rd_str(s, "name"));
	}
	for (size_t i = 0; i < suites.n; i++)
		suite_row(&t, root, suites.v[i]);
	buf_addstr(out,
	           "</svg></div><p class=\"legend\">"
	           "<span class=\"key real\"></span>a service coming up "
	           "<span class=\"key stubbar\"></span>a stub coming up "
	           "&#9670; a stub swapped for the real service "
	           "<span class=\"key pass\"></span>passed "
	           "<span class=\"key fail\"></span>failed "
	           "<span class=\"key flaky\"></span>flaky "
	           "&#8212; bands are stages; a suite's bar shows its stage</p>"
	           "</section>\n");
	strvec_clear(&suites);
}

/* ---- the rest ------------------------------------------------------------- */

static void diagnosis_section(struct buf *out, const cJSON *root)
{
	const cJSON *d = rd_obj(root, "diagnosis"), *f;
	const char *result = rd_str(root, "result");

	buf_addf(out, "<section id=\"diagnosis\" class=\"diagnosis %s\">",
	         status_class(result));
	buf_addstr(out, "<h2>Diagnosis</h2><p class=\"summary\">");
	if (rd_true(d, "failed") && rd_str(d, "summary"))
		h(out, rd_str(d, "summary"));
	else if (rd_true(d, "failed"))
		buf_addstr(out, "the run failed");
	else
		buf_addstr(out, "nothing failed");
	buf_addstr(out, "</p>");
	if (rd_count(rd_arr(d, "suspects"))) {
		buf_addf(out, "<p class=\"suspects\">suspect edge%s: <b>",
		         rd_count(rd_arr(d, "suspects")) == 1 ? "" : "s");
		rd_edges(out, rd_arr(d, "suspects"), &list_html);
		buf_addstr(out, "</b></p>");
	}
	if (rd_count(rd_arr(d, "failures"))) {
		buf_addstr(out, "<ul class=\"failures\">");
		cJSON_ArrayForEach(f, rd_arr(d, "failures"))
		{
			const cJSON *mm = rd_obj(f, "mismatch");

			buf_addstr(out, "<li>suite <b>");
			h(out, rd_str(f, "suite"));
			buf_addf(out,
			         "</b> first failed in stage %.0f "
			         "(real now: ",
			         rd_numd(f, "stage", 0) + 1);
			rd_names(out, rd_arr(f, "new_real"), &list_html);
			buf_addstr(out, "); candidates: ");
			rd_edges(out, rd_arr(f, "candidates"), &list_html);
			buf_addstr(out, "; suspects: ");
			rd_edges(out, rd_arr(f, "suspects"), &list_html);
			if (mm) {
				buf_addstr(out, "; it passed against the stub "
				                "of <b>");
				h(out, rd_str(mm, "service"));
				buf_addf(out, "</b> in stage %.0f",
				         rd_numd(mm, "passed_in_stage", 0) + 1);
			}
			buf_addstr(out, "</li>");
		}
		buf_addstr(out, "</ul>");
	}
	buf_addstr(out, "</section>\n");
}

static void output_details(struct buf *out, const cJSON *su, int open)
{
	const char *tail = rd_str(su, "output_tail");
	const cJSON *file, *ts, *tc;
	double bytes = rd_numd(su, "output_bytes", 0);

	buf_addf(out, "<details class=\"output\"%s><summary>output of ",
	         open ? " open" : "");
	h(out, rd_str(su, "name"));
	buf_addf(out, " (%.0f bytes%s)</summary>", bytes,
	         tail && bytes > (double)strlen(tail) ? ", the end of it" : "");
	buf_addstr(out, "<pre>");
	if (tail && *tail)
		h(out, tail);
	else
		buf_addstr(out, "(no output)");
	buf_addstr(out, "</pre>");
	cJSON_ArrayForEach(file, rd_arr(su, "junit"))
	{
		cJSON_ArrayForEach(ts, rd_arr(file, "suites"))
		{
			cJSON_ArrayForEach(tc, rd_arr(ts, "cases"))
			{
				const char *s = rd_str(tc, "status");

				if (rd_status_ok(s) ||
				    (s && !strcmp(s, "skipped")))
					continue;
				buf_addstr(out, "<p class=\"case\">");
				badge(out, s);
				buf_addstr(out, " ");
				h(out, rd_str(tc, "classname"));
				buf_addstr(out, " ");
				h(out, rd_str(tc, "name"));
				buf_addstr(out, ": ");
				h(out, rd_str(tc, "message"));
				buf_addstr(out, "</p>");
				if (rd_str(tc, "text")) {
					buf_addstr(out, "<pre>");
					h(out, rd_str(tc, "text"));
					buf_addstr(out, "</pre>");
				}
			}
		}
	}
	if (rd_str(su, "log")) {
		buf_addstr(out, "<p class=\"meta\">all of it: <a href=\"");
		ha(out, rd_str(su, "log"));
		buf_addstr(out, "\">");
		h(out, rd_str(su, "log"));
		buf_addstr(out, "</a></p>");
	}
	buf_addstr(out, "</details>");
}

static void stages_section(struct buf *out, const cJSON *root)
{
	const cJSON *st, *su;
	int k = 0, n = rd_count(rd_arr(root, "stages")), opened = 0;

	buf_addstr(out, "<section id=\"stages\"><h2>Stages</h2>\n");
	cJSON_ArrayForEach(st, rd_arr(root, "stages"))
	{
		const cJSON *err = rd_obj(st, "error");
		double from, ready;

		k++;
		buf_addf(out,
		         "<div class=\"stage\" id=\"stage-%d\"><h3>stage "
		         "%d/%d: ",
		         k, k, n);
		h(out, rd_str(st, "label"));
		buf_addstr(out, " ");
		badge(out, rd_str(st, "status"));
		buf_addstr(out, "</h3><p class=\"meta\">real: ");
		rd_names(out, rd_arr(st, "real"), &list_html);
		buf_addstr(out, " &#183; stubs: ");
		rd_names(out, rd_arr(st, "stubs"), &list_html);
		buf_addstr(out, " &#183; new edges: ");
		rd_edges(out, rd_arr(st, "new_edges"), &list_html);
		if (rd_num(st, "started_ms", &from) &&
		    rd_num(st, "ready_ms", &ready)) {
			buf_addstr(out, " &#183; brought up in ");
			secs(out, ready - from);
		}
		buf_addstr(out, "</p>");
		if (err) {
			buf_addstr(out, "<div class=\"error\"><b>");
			h(out, rd_str(err, "message"));
			buf_addstr(out, "</b>");
			if (rd_str(err, "log_tail")) {
				buf_addstr(out, "<pre>");
				h(out, rd_str(err, "log_tail"));
				buf_addstr(out, "</pre>");
			}
			buf_addstr(out, "</div>");
		}
		if (!rd_count(rd_arr(st, "suites"))) {
			buf_addstr(out,
			           "<p class=\"meta\">no suite ran here</p>"
			           "</div>\n");
			continue;
		}
		buf_addstr(out, "<table class=\"suites\"><tr><th>suite</th>"
		                "<th>result</th><th>time</th><th>against "
		                "stubs</th><th>edges new to it</th>"
		                "<th>summary</th></tr>\n");
		cJSON_ArrayForEach(su, rd_arr(st, "suites"))
		{
			const char *status = rd_str(su, "status");
			double ms;
			int failing = !rd_status_ok(status) &&
			              !(status && !strcmp(status, "skipped"));

			buf_addf(out, "<tr class=\"%s\"><td class=\"name\">",
			         status_class(status));
			h(out, rd_str(su, "name"));
			buf_addstr(out, "</td><td>");
			badge(out, status);
			buf_addstr(out, "</td><td>");
			if (rd_num(su, "duration_ms", &ms))
				secs(out, ms);
			buf_addstr(out, "</td><td>");
			rd_names(out, rd_arr(su, "stubs"), &list_html);
			buf_addstr(out, "</td><td>");
			rd_edges(out, rd_arr(su, "new_edges"), &list_html);
			buf_addstr(out, "</td><td>");
			h(out, rd_str(su, "summary"));
			buf_addstr(out, "</td></tr>\n");
			if (failing || rd_count(rd_arr(su, "junit"))) {
				buf_addstr(out, "<tr class=\"more\"><td "
				                "colspan=\"6\">");
				output_details(out, su, failing && !opened++);
				buf_addstr(out, "</td></tr>\n");
			}
		}
		buf_addstr(out, "</table></div>\n");
	}
	buf_addstr(out, "</section>\n");
}

static void services_section(struct buf *out, const cJSON *root)
{
	const cJSON *stages = rd_arr(root, "stages"), *s, *st, *v, *ep;

	buf_addstr(out, "<section id=\"services\"><h2>Services</h2>"
	                "<table><tr><th>service</th><th>level</th>"
	                "<th>mode</th><th>image</th><th>image id</th>"
	                "<th>digest</th><th>ready</th><th>endpoints</th>"
	                "</tr>\n");
	cJSON_ArrayForEach(s, rd_arr(root, "services"))
	{
		const char *name = rd_str(s, "name");
		const cJSON *last = NULL;
		double ready;

		if (!name)
			continue;
		/* as it was in the last stage it was present in */
		cJSON_ArrayForEach(st, stages)
		{
			cJSON_ArrayForEach(v, rd_arr(st, "services"))
			{
				if (rd_str(v, "name") &&
				    !strcmp(rd_str(v, "name"), name))
					last = v;
			}
		}
		buf_addstr(out, "<tr><td class=\"name\">");
		h(out, name);
		buf_addf(out, "</td><td>%.0f</td><td>", rd_numd(s, "level", 0));
		h(out, last ? rd_str(last, "mode") : "not started");
		buf_addstr(out, "</td><td>");
		h(out, rd_str(last, "image"));
		buf_addstr(out, "</td><td class=\"id\">");
		h(out, rd_str(last, "image_id"));
		buf_addstr(out, "</td><td class=\"id\">");
		h(out, rd_str(last, "image_digest"));
		buf_addstr(out, "</td><td>");
		if (rd_num(last, "ready_ms", &ready))
			secs(out, ready);
		buf_addstr(out, "</td><td>");
		cJSON_ArrayForEach(ep, rd_arr(last, "endpoints"))
		{
			h(out, rd_str(ep, "host"));
			buf_addf(out, ":%.0f &#8594; %.0f/",
			         rd_numd(ep, "port", 0),
			         rd_numd(ep, "container_port", 0));
			h(out, rd_str(ep, "protocol"));
			buf_addstr(out, " ");
		}
		buf_addstr(out, "</td></tr>\n");
	}
	buf_addstr(out, "</table></section>\n");
}

static void header(struct buf *out, const cJSON *root)
{
	const char *result = rd_str(root, "result");
	const cJSON *c = rd_obj(root, "counts"), *g = rd_obj(root, "git");

	buf_addf(out, "<header class=\"result %s\"><h1>", status_class(result));
	h(out, rd_str(root, "project"));
	buf_addstr(out, ": test ");
	h(out, result ? result : "?");
	buf_addstr(out, "</h1><p class=\"meta\">run ");
	h(out, rd_str(root, "run_id"));
	buf_addstr(out, " &#183; strategy ");
	h(out, rd_str(root, "strategy"));
	buf_addstr(out, " &#183; started ");
	h(out, rd_str(root, "started_at"));
	buf_addstr(out, " &#183; ");
	secs(out, rd_numd(root, "duration_ms", 0));
	buf_addstr(out, " &#183; manifest ");
	h(out, rd_str(root, "manifest"));
	if (rd_str(root, "engine")) {
		buf_addstr(out, " &#183; engine ");
		h(out, rd_str(root, "engine"));
	}
	buf_addstr(out, "</p><p class=\"counts\">");
	buf_addf(out,
	         "<span class=\"badge passed\">%.0f passed</span> "
	         "<span class=\"badge failed\">%.0f failed</span> "
	         "<span class=\"badge flaky\">%.0f flaky</span> "
	         "<span class=\"badge failed\">%.0f timed out</span> "
	         "<span class=\"badge skipped\">%.0f skipped</span>",
	         rd_numd(c, "passed", 0), rd_numd(c, "failed", 0),
	         rd_numd(c, "flaky", 0), rd_numd(c, "timed_out", 0),
	         rd_numd(c, "skipped", 0));
	buf_addstr(out, "</p>");
	if (g) {
		const cJSON *f;

		buf_addstr(out, "<p class=\"meta\" id=\"git\">git ");
		h(out,
		  rd_str(g, "commit") ? rd_str(g, "commit") : "(no commit)");
		if (rd_str(g, "branch")) {
			buf_addstr(out, " on ");
			h(out, rd_str(g, "branch"));
		}
		if (rd_str(g, "remote_url")) {
			buf_addstr(out, " &#183; ");
			h(out, rd_str(g, "remote"));
			buf_addstr(out, " ");
			h(out, rd_str(g, "remote_url"));
		}
		if (rd_true(g, "dirty")) {
			buf_addf(out,
			         " &#183; <b>dirty</b>: %.0f changed "
			         "<span class=\"files\">",
			         rd_numd(g, "dirty_count", 0));
			cJSON_ArrayForEach(f, rd_arr(g, "dirty_files"))
			{
				buf_addstr(out, "<code>");
				h(out, cJSON_IsString(f) ? f->valuestring : "");
				buf_addstr(out, "</code> ");
			}
			buf_addstr(out, "</span>");
		} else {
			buf_addstr(out, " &#183; clean");
		}
		buf_addstr(out, "</p>");
	}
	buf_addstr(out, "</header>\n");
}

static const char style[] =
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
        "margin:0;color:#1d2330;background:#f4f5f7}"
        "header,section{margin:14px 18px;padding:12px 16px;background:#fff;"
        "border-radius:8px;box-shadow:0 1px 2px rgba(0,0,0,.08)}"
        "h1{margin:0 0 4px;font-size:22px}h2{margin:0 0 8px;font-size:17px}"
        "h3{font-size:15px;margin:10px 0 4px}"
        "header.result.passed{border-left:8px solid #2e7d32}"
        "header.result.failed,header.result.error,header.result.other,"
        "header.result.interrupted{border-left:8px solid #c62828}"
        ".meta{color:#5b6170;margin:2px 0}"
        ".diagnosis{border-left:8px solid #2e7d32}"
        ".diagnosis.failed,.diagnosis.error,.diagnosis.other,"
        ".diagnosis.interrupted{border-left:8px solid #c62828;"
        "background:#fff6f6}"
        ".diagnosis .summary{font-size:15px}"
        ".suspects b{background:#ffe082;padding:1px 6px;border-radius:4px}"
        ".badge{display:inline-block;padding:0 7px;border-radius:9px;"
        "font-size:12px;color:#fff;background:#78808f}"
        ".badge.passed{background:#2e7d32}.badge.failed,.badge.error{"
        "background:#c62828}.badge.flaky{background:#b7791f}"
        ".badge.skipped{background:#9e9e9e}"
        ".scroll{overflow-x:auto}.centre{text-align:center}"
        "svg text{font:12px ui-monospace,'DejaVu Sans Mono',monospace}"
        ".node .box{fill:#e8eefc;stroke:#3d5a99;stroke-width:1.5}"
        ".node .box.stubnow{fill:#fff8e1;stroke-dasharray:5 3}"
        ".node .stubcard{fill:#fff8e1;stroke:#b7791f;stroke-width:1.2;"
        "stroke-dasharray:4 3}"
        ".node.external .box{stroke-dasharray:6 3}"
        ".node.failed .box{stroke:#c62828;stroke-width:3}"
        ".node .name{text-anchor:middle;font-weight:bold;font-size:13px;"
        "fill:#1d2330}"
        ".node .sub{text-anchor:middle;font-size:10px;fill:#5b6170}"
        ".edge .line{fill:none;stroke-width:2.5}"
        ".edge.pass .line{stroke:#2e7d32}.edge.fail .line{stroke:#c62828}"
        ".edge.mixed .line{stroke:#ef6c00}.edge.flaky .line{"
        "stroke:#b7791f}"
        ".edge.none .line{stroke:#9e9e9e;stroke-dasharray:5 4}"
        ".edge.suspect .line{stroke:#c62828;stroke-width:4.5}"
        ".edge .halo{fill:none;stroke:#ffe082;stroke-width:14;"
        "stroke-linecap:round}"
        ".head-pass{fill:#2e7d32}.head-fail,.head-suspect{fill:#c62828}"
        ".head-mixed{fill:#ef6c00}.head-flaky{fill:#b7791f}"
        ".head-none{fill:#9e9e9e}"
        ".elabel{font-size:11px;fill:#5b6170}"
        ".edge.suspect .elabel{fill:#c62828;font-weight:bold}"
        ".legend{color:#5b6170;font-size:12px}"
        ".key{display:inline-block;width:22px;height:5px;margin:0 4px 2px "
        "10px;vertical-align:middle;background:#9e9e9e}"
        ".key.pass{background:#2e7d32}.key.fail{background:#c62828}"
        ".key.mixed{background:#ef6c00}.key.flaky{background:#b7791f}"
        ".key.suspect{background:#c62828;height:6px;"
        "box-shadow:0 0 0 4px #ffe082}"
        ".key.stub{background:#fff8e1;height:12px;border:1px dashed #b7791f}"
        ".key.real{background:#7e9cd8;height:12px}"
        ".key.stubbar{background:#f2c46d;height:12px}"
        ".band.b1{fill:#f3f5fa}.band.b0{fill:#fafbfd}"
        "line.tick{stroke:#dde1e8}text.tick{fill:#8a90a0;font-size:10px;"
        "text-anchor:middle}"
        ".tlabel{text-anchor:end;fill:#1d2330}.tlabel.stage{"
        "font-weight:bold}"
        ".bar rect{fill:#9e9e9e}.bar text{font-size:10px;fill:#fff}"
        ".bar.real rect{fill:#7e9cd8}.bar.stub rect{fill:#f2c46d}"
        ".bar.stub text{fill:#5b4a1f}"
        ".bar.passed rect{fill:#2e7d32}.bar.failed rect,.bar.error rect{"
        "fill:#c62828}.bar.flaky rect{fill:#b7791f}"
        ".bar.interrupted rect,.bar.other rect{fill:#78808f}"
        "line.running{stroke:#7e9cd8;stroke-width:2}"
        "line.running.stub{stroke:#f2c46d}"
        ".swap path{fill:#5b3fa8}"
        "table{border-collapse:collapse;width:100%;font-size:13px}"
        "th,td{text-align:left;padding:4px 8px;border-bottom:1px solid "
        "#eceef2;vertical-align:top}"
        "th{color:#5b6170;font-weight:600}"
        "td.name{font-weight:600}td.id{font:11px ui-monospace,monospace;"
        "word-break:break-all;max-width:220px}"
        "tr.failed td.name{color:#c62828}"
        "details.output summary{cursor:pointer;color:#3d5a99}"
        "pre{background:#1d2330;color:#e6e8ee;padding:8px 10px;"
        "border-radius:6px;overflow-x:auto;max-height:420px;"
        "white-space:pre-wrap;word-break:break-all;font-size:12px}"
        ".error{background:#fff6f6;border-left:4px solid #c62828;"
        "padding:6px 10px}"
        "code{font-size:12px;background:#eceef2;padding:0 4px;"
        "border-radius:3px}"
        "footer{margin:8px 18px 20px;color:#8a90a0;font-size:12px}";

void report_render_html(const struct report_doc *d, struct buf *out)
{
	const cJSON *root = d->root;

	buf_addstr(out,
	           "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	           "<meta charset=\"utf-8\">"
	           "<meta http-equiv=\"Content-Security-Policy\" "
	           "content=\"default-src 'none'; style-src 'unsafe-inline'; "
	           "img-src data:\">"
	           "<meta name=\"viewport\" content=\"width=device-width, "
	           "initial-scale=1\"><title>orchestrate test: ");
	h(out, rd_str(root, "project"));
	buf_addstr(out, " ");
	h(out, report_result(d));
	buf_addstr(out, "</title><style>");
	buf_addstr(out, style);
	buf_addstr(out, "</style></head><body>\n");
	header(out, root);
	diagnosis_section(out, root);
	graph_section(out, root);
	timeline_section(out, root);
	stages_section(out, root);
	services_section(out, root);
	buf_addstr(out, "<footer>orchestrate report.json version ");
	buf_addf(out, "%.0f", rd_numd(root, "version", 0));
	buf_addstr(out, " &#183; every container's log is in logs/ beside "
	                "this file</footer>\n</body></html>\n");
}
