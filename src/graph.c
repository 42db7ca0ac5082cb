/*
 * graph.c: dependency cycles, levels and order of a manifest's services
 * (see graph.h). Pure; the planner and the lifecycle build on it.
 */
#include "graph.h"

#include <stdlib.h>

#include "error.h"
#include "manifest.h"

enum { WHITE, GREY, BLACK };

static int dfs(const struct manifest *m, size_t i, char *color, size_t *stack,
               size_t depth, struct buf *out)
{
	const struct mf_service *s = &m->services[i];

	color[i] = GREY;
	stack[depth] = i;
	for (size_t d = 0; d < s->ndeps; d++) {
		size_t j = s->deps[d].index;

		if (color[j] == GREY) {
			size_t k = 0;

			if (!out)
				return 1;
			while (stack[k] != j)
				k++;
			for (; k <= depth; k++)
				buf_addf(out, "%s -> ",
				         m->services[stack[k]].name);
			buf_addstr(out, m->services[j].name);
			return 1;
		}
		if (color[j] == WHITE &&
		    dfs(m, j, color, stack, depth + 1, out))
			return 1;
	}
	color[i] = BLACK;
	return 0;
}

int graph_find_cycle(const struct manifest *m, struct buf *out)
{
	char *color = xcalloc(m->nservices, 1);
	size_t *stack = xcalloc(m->nservices, sizeof(*stack));
	int found = 0;

	for (size_t i = 0; i < m->nservices && !found; i++)
		if (color[i] == WHITE)
			found = dfs(m, i, color, stack, 0, out);
	free(color);
	free(stack);
	return found;
}

int graph_topo_order(const struct manifest *m, size_t *order)
{
	char *done = xcalloc(m->nservices, 1);
	size_t n = 0;
	int rc = 0;

	/*
	 * Repeatedly take the first service in manifest order whose
	 * dependencies are all placed: O(n^2 * deps), fine for the sizes a
	 * manifest has, and it gives the tie-break the design asks for.
	 */
	while (n < m->nservices) {
		size_t i;

		for (i = 0; i < m->nservices; i++) {
			const struct mf_service *s = &m->services[i];
			size_t d;

			if (done[i])
				continue;
			for (d = 0; d < s->ndeps; d++)
				if (!done[s->deps[d].index])
					break;
			if (d == s->ndeps)
				break;
		}
		if (i == m->nservices) {
			rc = orch_error_code(ORCH_EINVALID, "dependency cycle");
			break;
		}
		done[i] = 1;
		order[n++] = i;
	}
	free(done);
	return rc;
}

int graph_levels(const struct manifest *m, int *levels)
{
	size_t *order = xcalloc(m->nservices, sizeof(*order));
	int top = 0;
	int rc = graph_topo_order(m, order);

	if (rc)
		goto out;
	for (size_t k = 0; k < m->nservices; k++) {
		const struct mf_service *s = &m->services[order[k]];
		int level = 0;

		for (size_t d = 0; d < s->ndeps; d++)
			if (levels[s->deps[d].index] + 1 > level)
				level = levels[s->deps[d].index] + 1;
		levels[order[k]] = level;
		if (level > top)
			top = level;
	}
	rc = top;
out:
	free(order);
	return rc;
}
