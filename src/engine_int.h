/*
 * engine_int.h: what the engine modules share and nobody else sees.
 *
 * The engine is several files, one concept each (docs/internals.md):
 *   engine.c             transport: address, TLS, API negotiation, the
 *                        asynchronous core on one curl multi handle,
 *                        interruption -- the only file that includes curl
 *   engine_json.c        JSON helpers, label sets, filters, Docker's
 *                        error message
 *   engine_stream.c      stream decoding: multiplexed frames, NDJSON
 *                        lines, pull/build progress
 *   engine_system.c      /version, /info
 *   engine_images.c      image inspect, pull, build, import, remove
 *   engine_objects.c     networks (and attaching containers to them),
 *                        volumes, listings by label
 *   engine_containers.c  the container create body, create, start,
 *                        stop, kill, remove, wait, inspect, logs, copy
 *   engine_exec.c        exec as a chain of calls
 *   engine_events.c      the events stream
 *
 * Operations are built on calls: an operation submits a request with
 * engine_call_submit(), may attach its own state to the call
 * (engine_call_set_op()), and parses the finished call in its _result
 * function. The synchronous form of an operation is start, run, result.
 */
#ifndef ORCH_ENGINE_INT_H
#define ORCH_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine_ops.h"
#include "util.h"

#define ENGINE_DEFAULT_BODY_CAP (16u << 20)
#define ENGINE_STREAM_LINE_CAP  (1u << 20)

/* ---- calls (engine.c) -------------------------------------------------- */

/*
 * engine_call_start(), handing the call to curl after delay_ms; with
 * borrow the request body is used in place (the caller keeps it alive
 * until the call is freed: a build context can be 512 MiB).
 */
struct engine_call *engine_call_submit(struct engine *e,
                                       const struct engine_request *r,
                                       long delay_ms, int borrow);
/*
 * A call that fails with code and "METHOD PATH: msg" as soon as the loop
 * runs, never sent: an operation whose request could not even be made
 * (a build context that cannot be read).
 */
struct engine_call *engine_call_failed(struct engine *e,
                                       const struct engine_request *r, int code,
                                       const char *msg);
/*
 * Run c to completion (other calls progress meanwhile). An interruption
 * (engine_interrupt()) stops the wait: c is cancelled, or left running
 * as an orphan when it is a create the engine was sent. Returns c's
 * result, with its message recorded.
 */
int engine_call_run(struct engine *e, struct engine_call *c);
/*
 * The common request: path already escaped, an optional JSON body (copied),
 * timeout_ms 0 for the default; create: let it finish when interrupted
 * (engine_request.keep_on_interrupt).
 */
struct engine_call *engine_call_simple(struct engine *e, const char *method,
                                       const char *path, const char *json,
                                       long timeout_ms, int create,
                                       engine_done_fn done, void *ud);
/* c's result, its message recorded as the last error when it failed. */
int engine_call_rc(const struct engine_call *c);
/* The synchronous form of an operation without outputs: run c, its
   result (as the operation reads it), free it. */
int engine_call_run_result(struct engine *e, struct engine_call *c,
                           int (*result)(const struct engine_call *c));
/* Run c and free it; 0 or its error (recorded). */
int engine_call_run_free(struct engine *e, struct engine_call *c);

/*
 * An operation's own state on its call: freed with the call (free_fn),
 * end_fn checks a clean end of a successful call (it may fail it with
 * engine_call_fail()), abandon_fn runs when engine_free() abandons the
 * call and the state owns the call (an exec: nobody else could free it).
 */
void engine_call_set_op(struct engine_call *c, void *op,
                        void (*free_fn)(void *),
                        void (*end_fn)(struct engine_call *c),
                        void (*abandon_fn)(void *op));
void *engine_call_op(const struct engine_call *c);
/* Fail c with a code and message (replaces any earlier one). */
void engine_call_fail(struct engine_call *c, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* From on_data: stop the call, which then fails with code and msg. */
void engine_call_stop(struct engine_call *c, int code, const char *msg);
long engine_request_timeout(const struct engine *e);

/* ---- JSON (engine_json.c) --------------------------------------------- */

const char *ej_str(const cJSON *o, const char *key);
char *ej_dup(const cJSON *o, const char *key);
/* A number in [lo, hi], or dflt: casting NaN or an out-of-range double
   to an integer is undefined behaviour, and the engine's JSON is input. */
double ej_num(const cJSON *o, const char *key, double lo, double hi,
              double dflt);
int ej_int(const cJSON *o, const char *key, int dflt);
int ej_bool(const cJSON *o, const char *key);
cJSON *ej_obj(const cJSON *o, const char *key);
/* A NULL-terminated vector as a JSON array of strings. */
cJSON *ej_strv(char *const *v);
/* The strings of a JSON array into out (cleared first). */
void ej_strvec(const cJSON *a, struct strvec *out);
/* cJSON_PrintUnformatted(), aborting on out-of-memory; cJSON_free() it. */
char *ej_print(const cJSON *o);
cJSON *ej_labels(const struct engine_label *l, size_t n);
void ej_label_set(struct engine_label_set *ls, const cJSON *labels);
void ej_label_set_release(struct engine_label_set *ls);
/* The `filters` JSON: labels (key=value, or key alone) and a type. */
char *ej_filters(const struct engine_label *labels, size_t n, const char *type);
/* Docker's own "message" from an error body, or the body's text. */
char *ej_docker_message(const struct buf *body);
/* "Id" (or key) of a create's answer into *id (may be NULL). */
int ej_id_result(const struct engine_call *c, const char *key, char **id);
/* The body of a successful call as JSON, or ORCH_EENGINE naming what. */
int ej_parse(const struct engine_call *c, cJSON **out);
/* A port number from "8080/tcp" or "49153"; 0 when there is none. */
int ej_port_num(const char *s);

/* ---- streams (engine_stream.c) ------------------------------------------ */

/*
 * Line splitter for NDJSON streams (pull, build, events): lines are
 * handed out as they complete, however the data was chunked. Use
 * engine_lines_feed as a request's on_data with the struct as ud.
 */
struct engine_lines {
	struct buf partial;
	int (*line)(void *ud, const char *s, size_t n);
	void *ud;
	int rc;
	char *msg;
	/* events: drop a line over the cap instead of failing, since a
	   reconnect with since= would only meet it again */
	int skip_long;
	int skipping; /* inside a dropped line, until its newline */
};
void engine_lines_init(struct engine_lines *l,
                       int (*line)(void *ud, const char *s, size_t n),
                       void *ud);
int engine_lines_feed(void *ud, const char *data, size_t len);
/* At the end of the stream: a last line without '\n'. */
int engine_lines_end(struct engine_lines *l);
void engine_lines_release(struct engine_lines *l);

/*
 * engine_progress_line(), leaving the parsed line in *jp (NULL for a
 * blank line) for a caller that wants more from it (the build's aux ID).
 */
int engine_progress_parse(const char *line, size_t len, struct buf *out,
                          cJSON **jp);

/*
 * A progress stream (pull, build, import) as an operation: the call's op
 * state collects the build output (when out_cap) and the aux ID; its end
 * check fails the call with an errorDetail. body is borrowed (kept alive
 * by the caller until the call is freed) when borrow is set.
 */
struct engine_call *engine_progress_start(struct engine *e, const char *path,
                                          const void *body, size_t len,
                                          int borrow, const char *ctype,
                                          long stall_ms, size_t out_cap,
                                          engine_done_fn done, void *ud);
/* state (a build context the call borrows) freed with the call */
void engine_progress_hold(struct engine_call *c, void *state,
                          void (*free_fn)(void *));
/* The aux ID of a build (or NULL), its output so far (never NULL). */
const char *engine_progress_aux_id(const struct engine_call *c);
const struct buf *engine_progress_output(const struct engine_call *c);

#endif
