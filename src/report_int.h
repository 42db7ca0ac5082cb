/*
 * report_int.h: what the report renderers (report_*.c) share -- the
 * parsed document and readers that never trust it: a field that is
 * missing or of another type reads as absent. Private to src/report*.c;
 * cJSON stays behind report.h.
 */
#ifndef ORCH_REPORT_INT_H
#define ORCH_REPORT_INT_H

#include <cjson/cJSON.h>

#include "report.h"

struct report_doc {
	cJSON *root;
};

/* the member key of object o, or NULL */
const cJSON *rd_get(const cJSON *o, const char *key);
/* a string member, or NULL */
const char *rd_str(const cJSON *o, const char *key);
/* a number member into *v: 1, or 0 when absent or not a number */
int rd_num(const cJSON *o, const char *key, double *v);
/* a number member, or dflt */
double rd_numd(const cJSON *o, const char *key, double dflt);
/* a member that is true */
int rd_true(const cJSON *o, const char *key);
/* an array member, or NULL */
const cJSON *rd_arr(const cJSON *o, const char *key);
/* an object member, or NULL */
const cJSON *rd_obj(const cJSON *o, const char *key);
/* an edge [caller, dependency]: 1 and both names, or 0 */
int rd_edge(const cJSON *pair, const char **caller, const char **dep);
/* is [caller, dep] among edges (an array of edges)? */
int rd_has_edge(const cJSON *edges, const char *caller, const char *dep);
/* is name among names (an array of strings)? */
int rd_has_name(const cJSON *names, const char *name);
/* array size, 0 for what is not an array */
int rd_count(const cJSON *a);

/* How rd_names() and rd_edges() write a list in a report's format. */
struct rd_list {
	void (*text)(struct buf *out, const char *s); /* a name, escaped */
	const char *first; /* before the first item */
	const char *sep;   /* between two items */
	const char *arrow; /* between an edge's caller and its dependency */
	const char *empty; /* for a list without an item; NULL: nothing */
};
/* the strings of array a */
void rd_names(struct buf *out, const cJSON *a, const struct rd_list *f);
/* the edges of array a, "caller ARROW dependency" */
void rd_edges(struct buf *out, const cJSON *a, const struct rd_list *f);

/* a suite status that is a pass ("passed", "flaky") */
int rd_status_ok(const char *status);
/* "1.23s" from milliseconds */
void rd_seconds(struct buf *out, double ms);

#endif
