/*
 * engine_json.c: the JSON the engine modules read and write -- lookups
 * that tolerate a reply of the wrong shape, label sets, the filters
 * query, Docker's error message -- and URL encoding. Nothing here does
 * I/O; cJSON stays inside the engine modules (engine_int.h).
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "error.h"

/* A port number from "8080/tcp" or "49153"; 0 when there is none. */
int ej_port_num(const char *s)
{
	long v = strtol(s, NULL, 10);

	return v > 0 && v < 65536 ? (int)v : 0;
}

void engine_url_escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			buf_addch(out, c);
		else
			buf_addf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

char *ej_filters(const struct engine_label *labels, size_t n, const char *type)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *s;

	if (n) {
		arr = cJSON_AddArrayToObject(root, "label");
		for (size_t i = 0; i < n; i++) {
			char *kv = labels[i].value
			                   ? xasprintf("%s=%s", labels[i].key,
			                               labels[i].value)
			                   : xstrdup(labels[i].key);
			cJSON_AddItemToArray(arr, cJSON_CreateString(kv));
			free(kv);
		}
	}
	if (type) {
		arr = cJSON_AddArrayToObject(root, "type");
		cJSON_AddItemToArray(arr, cJSON_CreateString(type));
	}
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!s)
		abort();
	return s;
}

void engine_label_filter(struct buf *out, const struct engine_label *labels,
                         size_t n)
{
	char *json = ej_filters(labels, n, NULL);

	engine_url_escape(out, json);
	cJSON_free(json);
}

const char *ej_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *ej_dup(const cJSON *o, const char *key)
{
	const char *s = ej_str(o, key);

	return s ? xstrdup(s) : NULL;
}

/* A number in [lo, hi], or dflt: casting NaN or an out-of-range double
   to an integer is undefined behaviour, and the engine's JSON is input. */
double ej_num(const cJSON *o, const char *key, double lo, double hi,
              double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo) ||
	    !(v->valuedouble <= hi))
		return dflt;
	return v->valuedouble;
}

int ej_int(const cJSON *o, const char *key, int dflt)
{
	return (int)ej_num(o, key, INT_MIN, INT_MAX, dflt);
}

int ej_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

cJSON *ej_obj(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

cJSON *ej_strv(char *const *v)
{
	cJSON *a = cJSON_CreateArray();

	for (; v && *v; v++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*v));
	return a;
}

char *ej_print(const cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (!s)
		abort();
	return s;
}

void ej_label_set(struct engine_label_set *ls, const cJSON *labels)
{
	const cJSON *it;
	size_t n = 0;

	ls->keys = ls->values = NULL;
	ls->n = 0;
	if (!cJSON_IsObject(labels))
		return;
	cJSON_ArrayForEach(it, labels) n++;
	ls->keys = xcalloc(n + 1, sizeof(char *));
	ls->values = xcalloc(n + 1, sizeof(char *));
	cJSON_ArrayForEach(it, labels)
	{
		ls->keys[ls->n] = xstrdup(it->string ? it->string : "");
		ls->values[ls->n] =
		        xstrdup(cJSON_IsString(it) ? it->valuestring : "");
		ls->n++;
	}
}

void ej_label_set_release(struct engine_label_set *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->keys[i]);
		free(ls->values[i]);
	}
	free(ls->keys);
	free(ls->values);
	ls->keys = ls->values = NULL;
	ls->n = 0;
}

cJSON *ej_labels(const struct engine_label *l, size_t n)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < n; i++)
		cJSON_AddStringToObject(o, l[i].key,
		                        l[i].value ? l[i].value : "");
	return o;
}

/* Docker's own "message" from an error body, or the body's text. */
char *ej_docker_message(const struct buf *body)
{
	cJSON *j =
	        body->len ? cJSON_ParseWithLength(body->data, body->len) : NULL;
	const char *m = j ? ej_str(j, "message") : NULL;
	char *out;

	if (m) {
		out = xstrdup(m);
	} else {
		size_t n = body->len;

		while (n && isspace((unsigned char)body->data[n - 1]))
			n--;
		out = n ? xstrndup(body->data, n > 300 ? 300 : n)
		        : xstrdup("(no message)");
	}
	cJSON_Delete(j);
	return out;
}

void ej_strvec(const cJSON *a, struct strvec *out)
{
	const cJSON *t;

	strvec_clear(out);
	if (cJSON_IsArray(a))
		cJSON_ArrayForEach(t, a) if (cJSON_IsString(t))
		        strvec_push(out, t->valuestring);
}

int ej_parse(const struct engine_call *c, cJSON **out)
{
	const struct buf *b = engine_call_body(c);

	*out = b->len ? cJSON_ParseWithLength(b->data, b->len) : NULL;
	if (!*out)
		return orch_error_code(
		        ORCH_EENGINE, "%s %s: the engine's answer is not JSON",
		        engine_call_method(c), engine_call_path(c));
	return 0;
}

int ej_id_result(const struct engine_call *c, const char *key, char **id)
{
	cJSON *j = NULL;
	int rc;

	if (id)
		*id = NULL;
	rc = engine_call_rc(c);
	if (rc || !id)
		return rc;
	rc = ej_parse(c, &j);
	if (rc == 0)
		*id = ej_dup(j, key);
	if (rc == 0 && !*id)
		rc = orch_error_code(
		        ORCH_EENGINE, "%s %s: the answer has no %s",
		        engine_call_method(c), engine_call_path(c), key);
	cJSON_Delete(j);
	return rc;
}
