/*
 * engine_events.c: the engine's events stream (engine_ops.h), filtered
 * by labels and type and parsed line by line as it arrives.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "error.h"

struct events {
	struct engine_lines lines;
	engine_event_fn fn;
	void *ud;
};

const char *engine_event_attr(const struct engine_event *ev, const char *key)
{
	return ej_str(ev->attrs_, key);
}

static int event_line(void *ud, const char *s, size_t n)
{
	struct events *st = ud;
	struct engine_event ev = { 0 };
	cJSON *j = cJSON_ParseWithLength(s, n), *actor, *attrs;

	if (!j)
		return 0; /* not ours to judge: skip what we cannot read */
	actor = ej_obj(j, "Actor");
	attrs = ej_obj(actor, "Attributes");
	ev.type = ej_str(j, "Type");
	ev.action = ej_str(j, "Action");
	if (!ev.action)
		ev.action = ej_str(j, "status");
	ev.id = ej_str(actor, "ID");
	if (!ev.id)
		ev.id = ej_str(j, "id");
	ev.name = ej_str(attrs, "name");
	ev.exit_code = ej_str(attrs, "exitCode");
	/* 9.2e18 is below INT64_MAX and exact as a double */
	ev.time_ns = (int64_t)ej_num(j, "timeNano", 0, 9.2e18, 0);
	ev.attrs_ = attrs;
	if (ev.type && ev.action)
		st->fn(&ev, st->ud);
	cJSON_Delete(j);
	return 0;
}

/* The engine may close the stream after a last line without '\n'. */
static void events_end(struct engine_call *c)
{
	struct events *st = engine_call_op(c);

	engine_lines_end(&st->lines);
}

static void events_free(void *p)
{
	struct events *st = p;

	engine_lines_release(&st->lines);
	free(st);
}

struct engine_call *engine_events_start(struct engine *e,
                                        const struct engine_label *labels,
                                        size_t nlabels, const char *type,
                                        int64_t since_s, engine_event_fn fn,
                                        void *ud)
{
	struct events *st = xcalloc(1, sizeof(*st));
	struct buf p = BUF_INIT;
	struct engine_request r = { .method = "GET",
		                    .timeout_ms = -1,
		                    .on_data = engine_lines_feed,
		                    .ud = &st->lines };
	struct engine_call *c;
	char *json = ej_filters(labels, nlabels, type);

	st->fn = fn;
	st->ud = ud;
	engine_lines_init(&st->lines, event_line, st);
	st->lines.skip_long = 1;
	buf_addstr(&p, "/events?filters=");
	engine_url_escape(&p, json);
	if (since_s > 0)
		buf_addf(&p, "&since=%lld", (long long)since_s);
	r.path = p.data;
	c = engine_call_submit(e, &r, 0, 0);
	engine_call_set_op(c, st, events_free, events_end, NULL);
	cJSON_free(json);
	buf_release(&p);
	return c;
}
