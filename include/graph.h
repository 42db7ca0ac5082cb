/*
 * graph.h: the dependency graph of a manifest's services. Pure: no I/O,
 * no Docker, no printing.
 *
 * Levels (docs/strategies.md): a service with no dependencies has level 0,
 * otherwise 1 + the highest level of its dependencies.
 */
#ifndef ORCH_GRAPH_H
#define ORCH_GRAPH_H

#include <stddef.h>

#include "util.h"

struct manifest;

/*
 * Find a dependency cycle. Returns 1 and writes "a -> b -> c -> a" to out
 * (when out is set) if there is one, 0 otherwise. Self-dependency counts.
 */
int graph_find_cycle(const struct manifest *m, struct buf *out);

/*
 * levels[i] for every service i (the array has m->nservices entries).
 * Returns the highest level T, or ORCH_EINVALID on a cycle.
 */
int graph_levels(const struct manifest *m, int *levels);

/*
 * A dependency order of all services (dependencies first; manifest order
 * breaks ties) into order[0..nservices). ORCH_EINVALID on a cycle.
 */
int graph_topo_order(const struct manifest *m, size_t *order);

#endif
