/*
 * engine_stream.c: decoding what the engine streams (engine_stream.h):
 * multiplexed stdout/stderr frames, NDJSON lines (events, pull and build
 * progress), and progress streams as an operation (engine_int.h).
 */
#include "engine_stream.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "error.h"

#define DEFAULT_FRAME_CAP (1u << 20)

void engine_demux_init(struct engine_demux *d)
{
	memset(d, 0, sizeof(*d));
	d->max_frame = DEFAULT_FRAME_CAP;
}

static void demux_add(struct engine_demux *d, struct buf *b, const char *data,
                      size_t n)
{
	/* past the caller's cap the output is dropped, not the stream */
	if (buf_add(b, data, n))
		d->truncated = 1;
}

int engine_demux_feed(struct engine_demux *d, const char *data, size_t len,
                      struct buf *out, struct buf *err)
{
	if (d->failed)
		return orch_error_code(ORCH_ERROR, "%s", d->errmsg);
	while (len) {
		if (d->remaining == 0) {
			size_t take = 8 - d->hdr_len;
			uint32_t size;

			if (take > len)
				take = len;
			memcpy(d->hdr + d->hdr_len, data, take);
			d->hdr_len += take;
			data += take;
			len -= take;
			if (d->hdr_len < 8)
				break;
			size = (uint32_t)d->hdr[4] << 24 |
			       (uint32_t)d->hdr[5] << 16 |
			       (uint32_t)d->hdr[6] << 8 | d->hdr[7];
			d->stream = d->hdr[0];
			if (d->stream > 3) {
				d->failed = 1;
				snprintf(d->errmsg, sizeof(d->errmsg),
				         "unrecognized stream type %d in the "
				         "engine's output",
				         d->stream);
				return orch_error_code(ORCH_ERROR, "%s",
				                       d->errmsg);
			}
			if (size > d->max_frame) {
				d->failed = 1;
				snprintf(d->errmsg, sizeof(d->errmsg),
				         "stream frame of %u bytes exceeds the "
				         "limit of %zu",
				         size, d->max_frame);
				return orch_error_code(ORCH_ERROR, "%s",
				                       d->errmsg);
			}
			d->remaining = size;
			d->errlen = 0;
			if (size == 0)
				d->hdr_len = 0;
			if (size == 0 && d->stream == 3) {
				/* a systemerr ends the stream, text or not */
				d->failed = 1;
				snprintf(d->errmsg, sizeof(d->errmsg),
				         "the engine reported an error "
				         "(no message)");
				return orch_error_code(ORCH_ERROR, "%s",
				                       d->errmsg);
			}
			continue;
		}
		size_t n = d->remaining < len ? d->remaining : len;

		if (d->stream == 3) {
			size_t room = sizeof(d->errmsg) - 1 - d->errlen;
			size_t k = n < room ? n : room;

			memcpy(d->errmsg + d->errlen, data, k);
			d->errlen += k;
			d->errmsg[d->errlen] = '\0';
		} else if (d->stream == 2 && err) {
			demux_add(d, err, data, n);
		} else {
			demux_add(d, out, data, n);
		}
		data += n;
		len -= n;
		d->remaining -= n;
		if (d->remaining == 0) {
			d->hdr_len = 0;
			if (d->stream == 3) {
				struct buf m = BUF_INIT;

				buf_addstr(&m,
				           "the engine reported an error: ");
				buf_add(&m, d->errmsg, d->errlen);
				while (m.len &&
				       isspace((unsigned char)
				                       m.data[m.len - 1]))
					m.data[--m.len] = '\0';
				snprintf(d->errmsg, sizeof(d->errmsg), "%s",
				         m.data);
				buf_release(&m);
				d->failed = 1;
				return orch_error_code(ORCH_ERROR, "%s",
				                       d->errmsg);
			}
		}
	}
	return 0;
}

int engine_demux_finish(const struct engine_demux *d)
{
	if (d->failed)
		return orch_error_code(ORCH_ERROR, "%s", d->errmsg);
	if (d->hdr_len && d->hdr_len < 8)
		return orch_error_code(
		        ORCH_ERROR,
		        "the engine's stream ended inside a frame "
		        "header (%zu of 8 bytes)",
		        d->hdr_len);
	if (d->remaining)
		return orch_error_code(
		        ORCH_ERROR,
		        "the engine's stream ended inside a frame "
		        "(%zu bytes missing)",
		        d->remaining);
	return 0;
}

int engine_progress_parse(const char *line, size_t len, struct buf *out,
                          cJSON **jp)
{
	cJSON *j, *ed;
	const char *msg = NULL, *s;

	*jp = NULL;
	while (len && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	if (!len)
		return 0;
	j = cJSON_ParseWithLength(line, len);
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return orch_error_code(ORCH_EENGINE,
		                       "unparsable progress line from the "
		                       "engine: %.*s",
		                       (int)(len > 100 ? 100 : len), line);
	}
	*jp = j;
	ed = ej_obj(j, "errorDetail");
	if (cJSON_IsObject(ed))
		msg = ej_str(ed, "message");
	if (!msg)
		msg = ej_str(j, "error");
	if (msg || cJSON_IsObject(ed))
		return orch_error_code(ORCH_EENGINE, "%s",
		                       msg ? msg : "error without a message");
	s = ej_str(j, "stream");
	if (s && out)
		buf_addstr(out, s);
	return 0;
}

int engine_progress_line(const char *line, size_t len, struct buf *out)
{
	cJSON *j;
	int rc = engine_progress_parse(line, len, out, &j);

	cJSON_Delete(j);
	return rc;
}

/* ---- NDJSON lines ------------------------------------------------------ */

void engine_lines_init(struct engine_lines *l,
                       int (*line)(void *ud, const char *s, size_t n), void *ud)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->partial, ENGINE_STREAM_LINE_CAP);
	l->line = line;
	l->ud = ud;
}

int engine_lines_feed(void *ud, const char *data, size_t len)
{
	struct engine_lines *l = ud;

	while (len && l->rc == 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (l->skipping ||
		    (l->skip_long && l->partial.len + n > l->partial.cap)) {
			buf_reset(&l->partial);
			l->skipping = !nl;
			data += nl ? n + 1 : n;
			len -= nl ? n + 1 : n;
			continue;
		}
		if (buf_add(&l->partial, data, n)) {
			l->rc = orch_error_code(ORCH_ETOOBIG,
			                        "a line of the engine's stream "
			                        "exceeds %zu bytes",
			                        l->partial.cap);
			break;
		}
		if (!nl)
			break;
		l->rc = l->line(l->ud, l->partial.data, l->partial.len);
		buf_reset(&l->partial);
		data += n + 1;
		len -= n + 1;
	}
	if (l->rc && !l->msg)
		l->msg = xstrdup(orch_error_last());
	return l->rc != 0;
}

int engine_lines_end(struct engine_lines *l)
{
	if (l->rc == 0 && l->partial.len) {
		l->rc = l->line(l->ud, l->partial.data, l->partial.len);
		if (l->rc)
			l->msg = xstrdup(orch_error_last());
		buf_reset(&l->partial);
	}
	return l->rc;
}

void engine_lines_release(struct engine_lines *l)
{
	buf_release(&l->partial);
	free(l->msg);
	l->msg = NULL;
}

/* ---- progress streams (pull, build, import) ---------------------------- */

struct progress {
	struct engine_call *call;
	struct engine_lines lines;
	struct buf out; /* build output, its last out_cap bytes */
	size_t out_cap;
	char *aux_id;
	void *held; /* the caller's state that lives as long as the call */
	void (*held_free)(void *);
};

/* Keep the end of the output: the last lines say what failed. */
static void progress_keep(struct progress *p, const struct buf *text)
{
	if (!p->out_cap || !text->len)
		return;
	if (text->len >= p->out_cap) {
		buf_reset(&p->out);
		buf_add(&p->out, text->data + text->len - p->out_cap,
		        p->out_cap);
		return;
	}
	if (p->out.len + text->len > p->out_cap) {
		size_t drop = p->out.len + text->len - p->out_cap;

		memmove(p->out.data, p->out.data + drop, p->out.len - drop);
		p->out.len -= drop;
		p->out.data[p->out.len] = '\0';
	}
	buf_add(&p->out, text->data, text->len);
}

static int progress_line(void *ud, const char *s, size_t n)
{
	struct progress *p = ud;
	struct buf text = BUF_INIT;
	cJSON *j;
	int rc = engine_progress_parse(s, n, p->out_cap ? &text : NULL, &j);

	if (rc == 0 && j && !p->aux_id) {
		const char *id = ej_str(ej_obj(j, "aux"), "ID");

		if (id)
			p->aux_id = xstrdup(id);
	}
	progress_keep(p, &text);
	buf_release(&text);
	cJSON_Delete(j);
	return rc;
}

static void progress_free(void *op)
{
	struct progress *p = op;

	engine_lines_release(&p->lines);
	buf_release(&p->out);
	free(p->aux_id);
	if (p->held_free)
		p->held_free(p->held);
	free(p);
}

void engine_progress_hold(struct engine_call *c, void *state,
                          void (*free_fn)(void *))
{
	struct progress *p = engine_call_op(c);

	p->held = state;
	p->held_free = free_fn;
}

/* A successful call: the last line, and an error inside the stream. */
static void progress_end(struct engine_call *c)
{
	struct progress *p = engine_call_op(c);

	if (p->lines.rc || engine_lines_end(&p->lines))
		engine_call_fail(c, p->lines.rc, "%s %s: %ld stream: %s",
		                 engine_call_method(c), engine_call_path(c),
		                 engine_call_status(c), p->lines.msg);
}

/*
 * An error from inside the stream that stopped the call (on_data returned
 * non-zero) is the call's error, not "cancelled".
 */
static int progress_data(void *ud, const char *data, size_t len)
{
	struct progress *p = ud;
	char *msg;

	if (!engine_lines_feed(&p->lines, data, len))
		return 0;
	msg = xasprintf("%ld stream: %s", engine_call_status(p->call),
	                p->lines.msg);
	engine_call_stop(p->call, p->lines.rc, msg);
	free(msg);
	return 1;
}

struct engine_call *engine_progress_start(struct engine *e, const char *path,
                                          const void *body, size_t len,
                                          int borrow, const char *ctype,
                                          long stall_ms, size_t out_cap,
                                          engine_done_fn done, void *ud)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	struct engine_request r = {
		.method = "POST",
		.path = path,
		.body = body,
		.body_len = len,
		.content_type = ctype,
		.timeout_ms = -1,
		.stall_ms = stall_ms,
		.on_data = progress_data,
		.on_done = done,
		.ud = ud,
		.data_ud = p,
	};
	struct engine_call *c;

	engine_lines_init(&p->lines, progress_line, p);
	p->out_cap = out_cap;
	buf_init(&p->out, out_cap ? out_cap + 1 : 0);
	c = engine_call_submit(e, &r, 0, borrow);
	p->call = c;
	engine_call_set_op(c, p, progress_free, progress_end, NULL);
	return c;
}

const char *engine_progress_aux_id(const struct engine_call *c)
{
	const struct progress *p = engine_call_op(c);

	return p ? p->aux_id : NULL;
}

const struct buf *engine_progress_output(const struct engine_call *c)
{
	const struct progress *p = engine_call_op(c);

	return &p->out;
}
