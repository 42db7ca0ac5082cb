/*
 * engine.h: the Docker Engine API client's transport: the address, TLS,
 * API version negotiation, and the asynchronous core every operation runs
 * on (engine_ops.h has the operations, engine_stream.h the stream
 * decoders). engine.c is the only file that includes curl; no engine
 * module knows anything of manifests, suites or strategies.
 *
 * Address: DOCKER_HOST (unix:///path, tcp://host:port) or
 * unix:///var/run/docker.sock. tcp:// needs TLS (DOCKER_TLS_VERIFY,
 * DOCKER_CERT_PATH with ca.pem, cert.pem, key.pem) unless plain TCP is
 * explicitly allowed (opts.allow_insecure_tcp, ORCHESTRATE_INSECURE_TCP=1).
 *
 * Life cycle:
 *   engine_new()      parse the address; no I/O
 *   engine_connect()  GET /_ping, negotiate the API version once
 *   ... operations ...
 *   engine_free()
 *
 * Every request uses the versioned path /vX.Y/... Bodies are read into
 * capped buffers. Every error message names method, path, HTTP status and
 * Docker's own "message", e.g.
 *   "POST /v1.41/containers/create: 409: Conflict. The container name ..."
 *
 * Concurrency: one curl multi handle drives every transfer. A
 * synchronous operation runs the loop until its own request is done, and
 * other submitted requests progress meanwhile. For parallel work submit
 * operations with their _start form and drive them with engine_wait()
 * (or the event loop of evloop.h, which calls it), which also polls the
 * caller's own file descriptors (signal pipe, probe sockets, child pipes)
 * so that a single-threaded event loop can do everything.
 */
#ifndef ORCH_ENGINE_H
#define ORCH_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct engine;
struct engine_call;

struct engine_opts {
	const char *host;        /* NULL: DOCKER_HOST or the default socket */
	int allow_insecure_tcp;  /* tcp:// without TLS */
	long connect_timeout_ms; /* 0: 3000 */
	long request_timeout_ms; /* non-streaming calls; 0: 60000 */
	/*
	 * Pulls and builds fail when no byte moves for this long (a stalled
	 * registry or daemon). 0: ORCHESTRATE_STALL_TIMEOUT (a duration,
	 * "0" for never) when set, else 60 s for pulls and 10 min for
	 * builds (a RUN step may print nothing for minutes); -1: never.
	 * Either one applies to pulls and builds alike.
	 */
	long stall_timeout_ms;
};

/*
 * No I/O. ORCH_EINVALID (and *out NULL) for an unsupported DOCKER_HOST
 * scheme, plain TCP not explicitly allowed, unreadable TLS files (named
 * in the message) or an ORCHESTRATE_STALL_TIMEOUT that is not a
 * duration. The first engine_new() initialises curl, and with it OpenSSL,
 * once for the process. When that first engine is on a unix socket,
 * OpenSSL is initialised without its configuration file, cipher and
 * digest names and error strings, which only TLS reads (about 0.7 MB); a
 * TLS engine later in the same process then fails with ORCH_EINVALID.
 * orchestrate uses one address per process.
 */
int engine_new(struct engine **out, const struct engine_opts *opts);
/*
 * What the caller should tell the user that is no reason to fail, one
 * line each, or NULL: a TLS key.pem that group or others can access
 * (ssh refuses such a key; we warn). Valid until engine_free().
 */
const char *engine_warnings(const struct engine *e);
/*
 * Calls still running are abandoned: they finish with ORCH_EINTR without
 * their on_done, and stay the caller's to engine_call_free(). Execs from
 * engine_exec_start() still running are freed without their done: drop
 * their handles first. The last engine_free() also releases curl's
 * global state.
 */
void engine_free(struct engine *e);

/* "unix:///var/run/docker.sock" or "tcp://host:2376": what was tried. */
const char *engine_address(const struct engine *e);

/*
 * Ping and negotiate: min(our max 1.43, the engine's Api-Version), or
 * DOCKER_API_VERSION when set. The ping gets the connect timeout as its
 * whole budget, so a socket that accepts but never answers fails in 3 s.
 * Fails with ORCH_EUNREACHABLE (naming the address), ORCH_EPERM (socket
 * permission) or ORCH_EUNSUPPORTED (engine older than our minimum, 1.40).
 *
 * Renegotiation: an engine upgraded or downgraded while we run answers
 * 400 "client version X is too old" (or "too new"). Such a call is held
 * back, /_ping is asked again (one ping for every call refused
 * meanwhile), and the call is sent once more on the new version; if the
 * version does not change, or the engine refuses the call again, it
 * fails with ORCH_EUNSUPPORTED saying so. Not with DOCKER_API_VERSION
 * set: the user pinned the version. The caller sees none of this but
 * the time it takes (a ping) and engine_api_version() changing.
 */
int engine_connect(struct engine *e);
const char *engine_api_version(const struct engine *e); /* "1.41" */
/*
 * 1 when the connected engine is Podman's Docker-compatible API (its
 * /_ping carries a Libpod-Api-Version header; GET /version says "Podman
 * Engine" too: engine_version()). Podman runs health checks from systemd
 * timers: without systemd they never run and its health status stays
 * "starting"; and it does not refuse API versions it does not support.
 */
int engine_is_podman(const struct engine *e);
/* 1 when the negotiated version is at least major.minor. */
int engine_api_at_least(const struct engine *e, int major, int minor);
/*
 * For a feature that needs a newer API: 0 when available, otherwise
 * ORCH_EUNSUPPORTED with "FEATURE needs Docker API X.Y (engine speaks Z)".
 */
int engine_require_api(const struct engine *e, int major, int minor,
                       const char *feature);

/* ---- calls ------------------------------------------------------------ */

/*
 * Requests are the engine modules' business: every other module uses the
 * operations of engine_ops.h, each of which has a synchronous form and an
 * asynchronous one returning a call. What a caller does with a call:
 * poll engine_call_done() or get on_done, read the operation's _result,
 * cancel it, free it.
 */

/*
 * Called with each chunk of a streaming body; return non-zero to abort.
 * Callbacks (on_data, on_done, event and exec callbacks) run from
 * engine_wait(), never from inside curl, so they may submit calls, run
 * synchronous operations and cancel or free other calls. Bodies with an
 * HTTP error status are never streamed: they end up in the call's body
 * for the error message.
 */
typedef int (*engine_data_fn)(void *ud, const char *data, size_t len);
/* Called once when the call finished (success, error, timeout, cancel). */
typedef void (*engine_done_fn)(struct engine_call *c, void *ud);

struct engine_request {
	const char *method; /* "GET", "POST", "DELETE", "PUT", "HEAD" */
	const char *path;   /* unversioned: "/containers/json?all=1" */
	const void *body;   /* copied; NULL for none */
	size_t body_len;
	const char *content_type; /* default "application/json" with a body */
	long timeout_ms;          /* 0: the default; -1: none (streams) */
	/* streams: fail (ORCH_ETIMEOUT, "stalled") when no byte is sent or
	   received for this long; 0: never. See engine_stall_ms(). */
	long stall_ms;
	size_t body_cap;        /* 0: 16 MiB; ignored when on_data is set */
	engine_data_fn on_data; /* stream the body instead of buffering */
	engine_done_fn on_done;
	void *ud;
	void *data_ud; /* on_data's, when not ud's */
	/* a create (not a stream): when engine_interrupt() stops the
	   synchronous operation waiting for it, leave it running for
	   engine_settle() instead of cancelling it */
	int keep_on_interrupt;
};

/* Submit a request; it runs as engine_wait() is called. Never NULL. */
struct engine_call *engine_call_start(struct engine *e,
                                      const struct engine_request *r);
int engine_call_done(const struct engine_call *c);
/* 0, or a negative code whose message is engine_call_error(). */
int engine_call_result(const struct engine_call *c);
const char *engine_call_error(const struct engine_call *c);
long engine_call_status(const struct engine_call *c); /* 0: no answer */
const struct buf *engine_call_body(const struct engine_call *c);
/* "POST" and the versioned path without the query, for messages. */
const char *engine_call_method(const struct engine_call *c);
const char *engine_call_path(const struct engine_call *c);
/* Abort a running call; on_done runs with ORCH_EINTR. */
void engine_call_cancel(struct engine_call *c);
/*
 * Free a finished (or cancelled) call. Accepts NULL. Freeing a running
 * call abandons it without on_done; never free a call from inside its
 * own on_data (cancel it there instead).
 */
void engine_call_free(struct engine_call *c);
/* Cancel *c if it still runs, free it and set *c to NULL. Accepts NULL. */
void engine_call_drop(struct engine_call **c);

/* The stall limit of pulls (build 0) or builds (build 1), in ms; 0: none. */
long engine_stall_ms(const struct engine *e, int build);

/*
 * Run a request to completion: status and body to the caller. For the
 * engine modules and the fake-engine tests; everything else uses an
 * operation.
 */
int engine_request_sync(struct engine *e, const struct engine_request *r,
                        long *status, struct buf *body);

struct engine_pollfd {
	int fd;
	short events;  /* POLLIN, POLLOUT */
	short revents; /* set on return */
};
/*
 * Drive every submitted call for at most timeout_ms (-1: until one of
 * fds is ready or a call finishes), also waiting on fds. Returns the
 * number of calls still running, or a negative code.
 */
int engine_wait(struct engine *e, struct engine_pollfd *fds, unsigned nfds,
                int timeout_ms);
/* Number of calls still running. */
int engine_running(const struct engine *e);
/* Make a blocked engine_wait() return (async-signal-safe: it sets a flag
   and writes to curl's wakeup pipe). */
void engine_wakeup(struct engine *e);
/*
 * Interruption, for a signal handler (async-signal-safe, like
 * engine_wakeup()). engine_interrupt() stops the synchronous operations
 * (engine_request_sync, engine_image_pull/build, engine_network_create,
 * engine_exec, ...) running now, and every one started after it until
 * engine_interrupt_clear(): each returns ORCH_EINTR ("METHOD PATH:
 * interrupted") at once. Sticky, so that a caller checking for a signal
 * between two steps cannot miss one that arrives just before a step
 * begins. A request the engine has not yet been sent is dropped. One it
 * has been sent is cancelled -- a pull or build is cancelled by the
 * engine when its connection drops -- except a create
 * (engine_network_create, engine_volume_create, engine_container_create,
 * and engine_request.keep_on_interrupt): the engine completes a create
 * whose client went away, so that request is left running in the
 * background, and engine_settle() waits for it before the caller lists
 * what to remove. Calls submitted with engine_call_start() are left alone
 * (cancel them yourself).
 */
void engine_interrupt(struct engine *e);
/* Accept the interruption: synchronous operations work again. 1 when one
   was pending. */
int engine_interrupt_clear(struct engine *e);
/* An interruption is pending (engine_interrupt() not yet cleared): for a
   caller's own loop around engine_wait(). */
int engine_interrupted(const struct engine *e);
/*
 * Drive the creates that interrupted operations left running until the
 * engine has answered them all, for at most timeout_ms; cancel those
 * still unanswered then. Returns how many were cancelled: 0 means that
 * whatever they created exists now, so a listing by labels finds it; for
 * n > 0 the message names the first ("POST /v1.41/networks/create: no
 * answer from the engine within 1500ms of the interruption: ...") and
 * the caller should say that an object may appear later. They are not
 * counted by engine_running() or engine_wait().
 */
int engine_settle(struct engine *e, int timeout_ms);

/* ---- paths, labels and filters ------------------------------------------ */

/* Percent-encode s for a URL path segment or query component. */
void engine_url_escape(struct buf *out, const char *s);
/*
 * The path sent for path: "/v" API path, except for /_ping (how the
 * version is found) and when api is NULL (not negotiated yet).
 */
void engine_versioned_path(struct buf *out, const char *api, const char *path);

struct engine_label {
	const char *key;
	const char *value;
};

/* Build the `filters` JSON ({"label":["k=v",...]}) URL-escaped into out. */
void engine_label_filter(struct buf *out, const struct engine_label *labels,
                         size_t n);

#endif
