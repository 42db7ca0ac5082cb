/*
 * engine_objects.c: networks (create, remove, attaching and detaching
 * containers), volumes, and listing any of them -- or containers -- by
 * label (engine_ops.h).
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "error.h"

static const char *message_of(const struct engine_call *c)
{
	return engine_call_error(c);
}

/* ---- networks ------------------------------------------------------------ */

struct engine_call *
engine_network_create_start(struct engine *e, const char *name,
                            const struct engine_label *labels, size_t nlabels,
                            engine_done_fn done, void *ud)
{
	cJSON *o = cJSON_CreateObject();
	struct engine_call *c;
	char *json;

	cJSON_AddStringToObject(o, "Name", name);
	/* before API 1.44 duplicate names are allowed unless asked */
	cJSON_AddTrueToObject(o, "CheckDuplicate");
	cJSON_AddStringToObject(o, "Driver", "bridge");
	cJSON_AddItemToObject(o, "Labels", ej_labels(labels, nlabels));
	json = ej_print(o);
	c = engine_call_simple(e, "POST", "/networks/create", json, 0, 1, done,
	                       ud);
	cJSON_free(json);
	cJSON_Delete(o);
	return c;
}

int engine_network_create_result(const struct engine_call *c, char **id)
{
	int rc = ej_id_result(c, "Id", id);

	/* the default pools hold ~30 networks: leaked ones use them up */
	if (rc && strstr(message_of(c), "address pool"))
		rc = orch_error_code(ORCH_ENOPOOL, "%s", message_of(c));
	return rc;
}

int engine_network_create(struct engine *e, const char *name,
                          const struct engine_label *labels, size_t nlabels,
                          char **id)
{
	struct engine_call *c = engine_network_create_start(
	        e, name, labels, nlabels, NULL, NULL);
	int rc = engine_call_run(e, c);

	if (id)
		*id = NULL;
	if (rc == 0 || engine_call_done(c))
		rc = engine_network_create_result(c, id);
	engine_call_free(c);
	return rc;
}

struct engine_call *engine_network_remove_start(struct engine *e,
                                                const char *id,
                                                engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	buf_addstr(&p, "/networks/");
	engine_url_escape(&p, id);
	c = engine_call_simple(e, "DELETE", p.data, NULL, 0, 0, done, ud);
	buf_release(&p);
	return c;
}

int engine_network_remove_result(const struct engine_call *c)
{
	int rc = engine_call_rc(c);
	long st = engine_call_status(c);

	/* 403 "has active endpoints" while containers detach */
	if (rc && (st == 403 || st == 409))
		rc = orch_error_code(ORCH_EBUSY, "%s", message_of(c));
	return rc;
}

int engine_network_remove(struct engine *e, const char *id)
{
	return engine_call_run_result(
	        e, engine_network_remove_start(e, id, NULL, NULL),
	        engine_network_remove_result);
}

int engine_network_exists(struct engine *e, const char *name)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	buf_addstr(&p, "/networks/");
	engine_url_escape(&p, name);
	c = engine_call_simple(e, "GET", p.data, NULL, 0, 0, NULL, NULL);
	buf_release(&p);
	return engine_call_run_result(e, c, engine_network_connect_result);
}

static struct engine_call *network_post(struct engine *e, const char *network,
                                        const char *verb, cJSON *body,
                                        engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;
	char *json = ej_print(body);

	buf_addstr(&p, "/networks/");
	engine_url_escape(&p, network);
	buf_addf(&p, "/%s", verb);
	c = engine_call_simple(e, "POST", p.data, json, 0, 0, done, ud);
	cJSON_free(json);
	buf_release(&p);
	return c;
}

struct engine_call *engine_network_connect_start(struct engine *e,
                                                 const char *network,
                                                 const char *container,
                                                 char *const *aliases,
                                                 engine_done_fn done, void *ud)
{
	cJSON *o = cJSON_CreateObject(), *cfg;
	struct engine_call *c;

	cJSON_AddStringToObject(o, "Container", container);
	cfg = cJSON_AddObjectToObject(o, "EndpointConfig");
	if (aliases && aliases[0])
		cJSON_AddItemToObject(cfg, "Aliases", ej_strv(aliases));
	c = network_post(e, network, "connect", o, done, ud);
	cJSON_Delete(o);
	return c;
}

int engine_network_connect_result(const struct engine_call *c)
{
	return engine_call_rc(c);
}

int engine_network_connect(struct engine *e, const char *network,
                           const char *container, char *const *aliases)
{
	return engine_call_run_result(
	        e,
	        engine_network_connect_start(e, network, container, aliases,
	                                     NULL, NULL),
	        engine_network_connect_result);
}

struct engine_call *
engine_network_disconnect_start(struct engine *e, const char *network,
                                const char *container, int force,
                                engine_done_fn done, void *ud)
{
	cJSON *o = cJSON_CreateObject();
	struct engine_call *c;

	cJSON_AddStringToObject(o, "Container", container);
	cJSON_AddBoolToObject(o, "Force", force);
	c = network_post(e, network, "disconnect", o, done, ud);
	cJSON_Delete(o);
	return c;
}

int engine_network_disconnect_result(const struct engine_call *c)
{
	return engine_call_rc(c);
}

int engine_network_disconnect(struct engine *e, const char *network,
                              const char *container, int force)
{
	return engine_call_run_result(
	        e,
	        engine_network_disconnect_start(e, network, container, force,
	                                        NULL, NULL),
	        engine_network_disconnect_result);
}

/* ---- objects and lists ----------------------------------------------------- */

void engine_object_release(struct engine_object *o)
{
	if (!o)
		return;
	free(o->id);
	free(o->name);
	free(o->state);
	free(o->image_id);
	strvec_clear(&o->tags);
	ej_label_set_release(&o->labels);
	memset(o, 0, sizeof(*o));
}

void engine_object_list_release(struct engine_object_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		engine_object_release(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

const char *engine_label_get(const struct engine_label_set *ls, const char *key)
{
	for (size_t i = 0; i < ls->n; i++)
		if (!strcmp(ls->keys[i], key))
			return ls->values[i];
	return NULL;
}

const char *engine_object_label(const struct engine_object *o, const char *key)
{
	return engine_label_get(&o->labels, key);
}

enum list_kind { LIST_NETWORKS, LIST_VOLUMES, LIST_CONTAINERS, LIST_IMAGES };

static int list(struct engine *e, enum list_kind kind,
                const struct engine_label *filter, size_t nfilter,
                struct engine_object_list *out)
{
	static const char *const paths[] = {
		"/networks?filters=", "/volumes?filters=",
		"/containers/json?all=1&filters=", "/images/json?filters="
	};
	struct buf p = BUF_INIT;
	struct engine_call *c;
	cJSON *j = NULL, *arr, *it;
	int rc;

	out->items = NULL;
	out->n = 0;
	buf_addstr(&p, paths[kind]);
	engine_label_filter(&p, filter, nfilter);
	c = engine_call_simple(e, "GET", p.data, NULL, 0, 0, NULL, NULL);
	rc = engine_call_run(e, c);
	if (rc == 0)
		rc = ej_parse(c, &j);
	if (rc)
		goto out;
	arr = kind == LIST_VOLUMES ? ej_obj(j, "Volumes") : j;
	out->items = xcalloc((size_t)cJSON_GetArraySize(arr) + 1,
	                     sizeof(*out->items));
	cJSON_ArrayForEach(it, arr)
	{
		struct engine_object *o = &out->items[out->n++];

		switch (kind) {
		case LIST_NETWORKS:
			o->id = ej_dup(it, "Id");
			o->name = ej_dup(it, "Name");
			break;
		case LIST_VOLUMES:
			o->id = ej_dup(it, "Name");
			o->name = ej_dup(it, "Name");
			break;
		case LIST_CONTAINERS: {
			cJSON *names = ej_obj(it, "Names");
			cJSON *first = cJSON_GetArrayItem(names, 0);

			o->id = ej_dup(it, "Id");
			if (cJSON_IsString(first))
				o->name =
				        xstrdup(first->valuestring +
				                (first->valuestring[0] == '/'));
			o->state = ej_dup(it, "State");
			o->image_id = ej_dup(it, "ImageID");
			break;
		}
		case LIST_IMAGES: {
			cJSON *tags = ej_obj(it, "RepoTags"), *t;

			o->id = ej_dup(it, "Id");
			cJSON_ArrayForEach(t, tags)
			{
				/* untagged: "<none>:<none>" (or no RepoTags) */
				if (!cJSON_IsString(t) ||
				    !strcmp(t->valuestring, "<none>:<none>"))
					continue;
				if (!o->name)
					o->name = xstrdup(t->valuestring);
				strvec_push(&o->tags, t->valuestring);
			}
			break;
		}
		}
		if (!o->id)
			o->id = xstrdup("");
		if (!o->name)
			o->name = xstrdup("");
		ej_label_set(&o->labels, ej_obj(it, "Labels"));
	}
out:
	cJSON_Delete(j);
	engine_call_free(c);
	buf_release(&p);
	return rc;
}

int engine_network_list(struct engine *e, const struct engine_label *filter,
                        size_t nfilter, struct engine_object_list *out)
{
	return list(e, LIST_NETWORKS, filter, nfilter, out);
}

int engine_container_list(struct engine *e, const struct engine_label *filter,
                          size_t nfilter, struct engine_object_list *out)
{
	return list(e, LIST_CONTAINERS, filter, nfilter, out);
}

int engine_volume_list(struct engine *e, const struct engine_label *filter,
                       size_t nfilter, struct engine_object_list *out)
{
	return list(e, LIST_VOLUMES, filter, nfilter, out);
}

int engine_image_list(struct engine *e, const struct engine_label *filter,
                      size_t nfilter, struct engine_object_list *out)
{
	return list(e, LIST_IMAGES, filter, nfilter, out);
}

/* ---- volumes --------------------------------------------------------------- */

struct engine_call *
engine_volume_create_start(struct engine *e, const char *name,
                           const struct engine_label *labels, size_t nlabels,
                           engine_done_fn done, void *ud)
{
	cJSON *o = cJSON_CreateObject();
	struct engine_call *c;
	char *json;

	cJSON_AddStringToObject(o, "Name", name);
	cJSON_AddItemToObject(o, "Labels", ej_labels(labels, nlabels));
	json = ej_print(o);
	c = engine_call_simple(e, "POST", "/volumes/create", json, 0, 1, done,
	                       ud);
	cJSON_free(json);
	cJSON_Delete(o);
	return c;
}

int engine_volume_create_result(const struct engine_call *c,
                                struct engine_object *got)
{
	cJSON *j = NULL;
	int rc;

	if (got)
		memset(got, 0, sizeof(*got));
	rc = engine_call_rc(c);
	if (rc || !got)
		return rc;
	rc = ej_parse(c, &j);
	if (rc == 0) {
		/* what came back, which is not always what we asked for */
		got->name = ej_dup(j, "Name");
		if (!got->name)
			got->name = xstrdup("");
		got->id = xstrdup(got->name);
		ej_label_set(&got->labels, ej_obj(j, "Labels"));
	}
	cJSON_Delete(j);
	return rc;
}

int engine_volume_create(struct engine *e, const char *name,
                         const struct engine_label *labels, size_t nlabels,
                         struct engine_object *got)
{
	struct engine_call *c = engine_volume_create_start(e, name, labels,
	                                                   nlabels, NULL, NULL);
	int rc = engine_call_run(e, c);

	if (got)
		memset(got, 0, sizeof(*got));
	if (rc == 0 || engine_call_done(c))
		rc = engine_volume_create_result(c, got);
	engine_call_free(c);
	return rc;
}

struct engine_call *engine_volume_remove_start(struct engine *e,
                                               const char *name, int force,
                                               engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	buf_addstr(&p, "/volumes/");
	engine_url_escape(&p, name);
	buf_addstr(&p, force ? "?force=1" : "");
	c = engine_call_simple(e, "DELETE", p.data, NULL, 0, 0, done, ud);
	buf_release(&p);
	return c;
}

int engine_volume_remove_result(const struct engine_call *c)
{
	int rc = engine_call_rc(c);

	if (rc && engine_call_status(c) == 409) /* in use */
		rc = orch_error_code(ORCH_EBUSY, "%s", message_of(c));
	return rc;
}

int engine_volume_remove(struct engine *e, const char *name, int force)
{
	return engine_call_run_result(
	        e, engine_volume_remove_start(e, name, force, NULL, NULL),
	        engine_volume_remove_result);
}
