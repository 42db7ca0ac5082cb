/*
 * report_doc.c: report.json read back (report.h) and the readers the
 * renderers share (report_int.h). Checks only what every renderer
 * relies on -- an object of version 1 with stages and services --; the
 * rest is read field by field, absent when it is not what the format
 * says.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "report_int.h"
#include "report_json.h"

int report_doc_parse(const char *text, size_t len, const char *origin,
                     struct report_doc **out)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	double v;
	const char *why = NULL;

	*out = NULL;
	if (!root)
		why = "not JSON";
	else if (!cJSON_IsObject(root))
		why = "not a JSON object";
	else if (!rd_num(root, "version", &v))
		why = "no 'version'";
	else if (v != REPORT_JSON_VERSION)
		why = "a version this orchestrate does not read";
	else if (!rd_arr(root, "stages") || !rd_arr(root, "services"))
		why = "no 'stages' or 'services'";
	if (why) {
		cJSON_Delete(root);
		return orch_error_code(ORCH_EINVALID,
		                       "%s: not a report.json: %s", origin,
		                       why);
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->root = root;
	return 0;
}

int report_doc_load(const char *path, struct report_doc **out)
{
	struct stat st;
	struct buf b = BUF_INIT;
	char *file = NULL;
	int rc;

	*out = NULL;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		path = file = xasprintf("%s/report.json", path);
	rc = read_file(path, &b, REPORT_MAX_SIZE);
	if (rc == ORCH_ETOOBIG)
		rc = orch_error_code(ORCH_EINVALID,
		                     "'%s': larger than %u MiB: not a report",
		                     path, REPORT_MAX_SIZE >> 20);
	else if (rc)
		rc = orch_error_code(ORCH_EINVALID, "%s", orch_error_last());
	else
		rc = report_doc_parse(buf_cstr(&b), b.len, path, out);
	buf_release(&b);
	free(file);
	return rc;
}

void report_doc_free(struct report_doc *d)
{
	if (!d)
		return;
	cJSON_Delete(d->root);
	free(d);
}

const char *report_result(const struct report_doc *d)
{
	const char *r = rd_str(d->root, "result");

	return r ? r : "unknown";
}

/* ---- readers -------------------------------------------------------------- */

const cJSON *rd_get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key)
	                         : NULL;
}

const char *rd_str(const cJSON *o, const char *key)
{
	const cJSON *v = rd_get(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int rd_num(const cJSON *o, const char *key, double *v)
{
	const cJSON *n = rd_get(o, key);

	if (!cJSON_IsNumber(n))
		return 0;
	*v = n->valuedouble;
	return 1;
}

double rd_numd(const cJSON *o, const char *key, double dflt)
{
	double v;

	return rd_num(o, key, &v) ? v : dflt;
}

int rd_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(rd_get(o, key));
}

const cJSON *rd_arr(const cJSON *o, const char *key)
{
	const cJSON *a = rd_get(o, key);

	return cJSON_IsArray(a) ? a : NULL;
}

const cJSON *rd_obj(const cJSON *o, const char *key)
{
	const cJSON *a = rd_get(o, key);

	return cJSON_IsObject(a) ? a : NULL;
}

int rd_edge(const cJSON *pair, const char **caller, const char **dep)
{
	const cJSON *a, *b;

	if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2)
		return 0;
	a = cJSON_GetArrayItem(pair, 0);
	b = cJSON_GetArrayItem(pair, 1);
	if (!cJSON_IsString(a) || !cJSON_IsString(b))
		return 0;
	*caller = a->valuestring;
	*dep = b->valuestring;
	return 1;
}

int rd_has_edge(const cJSON *edges, const char *caller, const char *dep)
{
	const cJSON *e, *a = cJSON_IsArray(edges) ? edges : NULL;

	cJSON_ArrayForEach(e, a)
	{
		const char *c, *d;

		if (rd_edge(e, &c, &d) && !strcmp(c, caller) && !strcmp(d, dep))
			return 1;
	}
	return 0;
}

int rd_has_name(const cJSON *names, const char *name)
{
	const cJSON *e, *a = cJSON_IsArray(names) ? names : NULL;

	cJSON_ArrayForEach(e, a)
	{
		if (cJSON_IsString(e) && !strcmp(e->valuestring, name))
			return 1;
	}
	return 0;
}

int rd_count(const cJSON *a)
{
	return cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
}

void rd_names(struct buf *out, const cJSON *a, const struct rd_list *f)
{
	const cJSON *e, *arr = cJSON_IsArray(a) ? a : NULL;
	int i = 0;

	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e))
			continue;
		buf_addstr(out, i++ ? f->sep : f->first);
		f->text(out, e->valuestring);
	}
	if (!i && f->empty)
		buf_addstr(out, f->empty);
}

void rd_edges(struct buf *out, const cJSON *a, const struct rd_list *f)
{
	const cJSON *e, *arr = cJSON_IsArray(a) ? a : NULL;
	int i = 0;

	cJSON_ArrayForEach(e, arr)
	{
		const char *c, *d;

		if (!rd_edge(e, &c, &d))
			continue;
		buf_addstr(out, i++ ? f->sep : f->first);
		f->text(out, c);
		buf_addstr(out, f->arrow);
		f->text(out, d);
	}
	if (!i && f->empty)
		buf_addstr(out, f->empty);
}

int rd_status_ok(const char *status)
{
	return status &&
	       (!strcmp(status, "passed") || !strcmp(status, "flaky"));
}

void rd_seconds(struct buf *out, double ms)
{
	if (ms != ms || ms < 0 || ms > 1e12)
		ms = 0;
	buf_addf(out, "%.2fs", ms / 1000);
}
