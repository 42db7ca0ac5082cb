/*
 * engine.h: the Docker Engine API client. The only module that includes
 * curl; it knows nothing of manifests, suites or strategies.
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
 * Concurrency: one curl multi handle drives every transfer. The
 * synchronous operations below run the loop until their own request is
 * done, and other submitted requests progress meanwhile. For parallel work
 * submit several calls with engine_call_start() (or the *_start variants)
 * and drive them with engine_wait(), which also polls the caller's own
 * file descriptors (signal pipe, probe sockets, child pipes) so that a
 * single-threaded event loop can do everything.
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
/* 1 when the negotiated version is at least major.minor. */
int engine_api_at_least(const struct engine *e, int major, int minor);
/*
 * For a feature that needs a newer API: 0 when available, otherwise
 * ORCH_EUNSUPPORTED with "FEATURE needs Docker API X.Y (engine speaks Z)".
 */
int engine_require_api(const struct engine *e, int major, int minor,
                       const char *feature);

struct engine_version {
	char *version;     /* "20.10.24+dfsg1" */
	char *api_version; /* the engine's own maximum, "1.41" */
	char *min_api_version;
	char *os;
	char *arch;
	int is_podman;
};
int engine_version(struct engine *e, struct engine_version *v);
void engine_version_release(struct engine_version *v);

/* ---- raw requests ---------------------------------------------------- */

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

/* Run a request to completion: status and body to the caller. */
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

/* ---- labels and filters ------------------------------------------------ */

struct engine_label {
	const char *key;
	const char *value;
};

/* Build the `filters` JSON ({"label":["k=v",...]}) URL-escaped into out. */
void engine_label_filter(struct buf *out, const struct engine_label *labels,
                         size_t n);

/* ---- images ------------------------------------------------------------ */

/* ORCH_ENOTFOUND when absent. id may be NULL. */
int engine_image_inspect(struct engine *e, const char *ref, char **id);
/*
 * Pull ref ("name:tag"). Parses every progress line: an errorDetail in a
 * 200 stream is a failure carrying the engine's message. A pull that
 * moves no byte for engine_stall_ms(e, 0) fails with ORCH_ETIMEOUT
 * ("stalled"), and so does a build or an import (engine_stall_ms(e, 1)):
 * the connection is dropped, which makes the engine cancel a build.
 */
int engine_image_pull(struct engine *e, const char *ref);

struct engine_build_opts {
	const char *context_dir; /* tarred by us: no symlink following,
				    .dockerignore honoured, size capped */
	const char *dockerfile;  /* relative to the context; NULL: Dockerfile */
	const char *tag;
	const struct engine_label *buildargs; /* key = arg name */
	size_t nbuildargs;
	const struct engine_label *labels;
	size_t nlabels;
	const char *target;
	size_t context_cap; /* 0: 512 MiB */
	struct buf *output; /* if set, the build's output text is appended */
};
/* image_id (may be NULL) receives "sha256:..." */
int engine_image_build(struct engine *e, const struct engine_build_opts *o,
                       char **image_id);
/* Import a root filesystem tarball as repo:tag. */
int engine_image_import(struct engine *e, const char *tar_path,
                        const char *ref);
int engine_image_remove(struct engine *e, const char *ref, int force);

/* ---- networks and volumes --------------------------------------------- */

int engine_network_create(struct engine *e, const char *name,
                          const struct engine_label *labels, size_t nlabels,
                          char **id);
int engine_network_remove(struct engine *e, const char *id);

struct engine_object {
	char *id;
	char *name;
	struct engine_label_set {
		char **keys;
		char **values;
		size_t n;
	} labels;
	/* containers only */
	char *state; /* "running", "exited", "created", ... */
};
struct engine_object_list {
	struct engine_object *items;
	size_t n;
};
void engine_object_list_release(struct engine_object_list *l);
void engine_object_release(struct engine_object *o);
/* Value of label key on o, or NULL. */
const char *engine_object_label(const struct engine_object *o, const char *key);

int engine_network_list(struct engine *e, const struct engine_label *filter,
                        size_t nfilter, struct engine_object_list *out);
/*
 * The engine answers 201 also when a volume of that name exists: it
 * returns the existing one unchanged, whatever labels were asked for. So
 * got (when not NULL; engine_object_release() it) receives the volume
 * that came back, name and labels, for the caller to check that it is
 * the one it meant to create.
 */
int engine_volume_create(struct engine *e, const char *name,
                         const struct engine_label *labels, size_t nlabels,
                         struct engine_object *got);
int engine_volume_remove(struct engine *e, const char *name, int force);
int engine_volume_list(struct engine *e, const struct engine_label *filter,
                       size_t nfilter, struct engine_object_list *out);

/* ---- containers ------------------------------------------------------- */

struct engine_port {
	int container_port;
	const char *protocol; /* "tcp" (default) or "udp" */
	const char *host_ip;  /* NULL: 127.0.0.1 */
	int host_port;        /* 0: ephemeral */
};

struct engine_mount {
	const char *type;   /* "volume", "bind", "tmpfs" */
	const char *source; /* volume name or host path; NULL for tmpfs */
	const char *target;
	int read_only;
};

struct engine_health {
	int set;           /* 0: inherit the image's */
	char *const *test; /* ["CMD", ...], ["CMD-SHELL", s], ["NONE"] */
	int64_t interval_ns;
	int64_t timeout_ns;
	int64_t start_period_ns;
	int retries;
};

struct engine_container_spec {
	const char *name;
	const char *image;
	char *const *cmd;        /* NULL: the image's */
	char *const *entrypoint; /* NULL: the image's; empty: none */
	char *const *env;        /* "K=V" */
	const char *user;
	const char *working_dir;
	const char *hostname;
	int tty;
	int init;
	const struct engine_label *labels;
	size_t nlabels;
	const struct engine_port *ports;
	size_t nports;
	const struct engine_mount *mounts;
	size_t nmounts;
	const struct engine_health *health;
	const char *network;  /* network id or name to attach to */
	char *const *aliases; /* DNS aliases on that network */
	int stop_timeout_s;   /* <0: the engine's default */
	int auto_remove;
};

/* ORCH_ENOTFOUND: no such image; ORCH_ECONFLICT: name in use. */
int engine_container_create(struct engine *e,
                            const struct engine_container_spec *s, char **id);
/* 304 (already started) counts as success. */
int engine_container_start(struct engine *e, const char *id);
/* 304 (already stopped) counts as success. */
int engine_container_stop(struct engine *e, const char *id, int timeout_s);
int engine_container_kill(struct engine *e, const char *id, const char *signal);
/* force + remove anonymous volumes; ORCH_ENOTFOUND when already gone. */
int engine_container_remove(struct engine *e, const char *id, int force);
/*
 * Waits for not-running; the exit status into *status. timeout_ms <= 0
 * means the request timeout (60 s by default): there is no "forever",
 * so a hung engine cannot hold a caller (teardown, a suite) for good. On
 * timeout ORCH_ETIMEOUT naming the container.
 */
int engine_container_wait(struct engine *e, const char *id, long timeout_ms,
                          int *status);

struct engine_port_binding {
	int container_port;
	char *protocol;
	char *host_ip;
	int host_port;
};

struct engine_container_info {
	char *id;
	char *name; /* without the leading '/' */
	char *image;
	char *status; /* "created", "running", "exited", ... */
	int running;
	int exit_code;
	int oom_killed;
	int tty;
	char *health; /* NULL (no healthcheck), "starting", "healthy", ... */
	char *health_log;       /* output of the last health probe, or NULL */
	char *health_log_start; /* when that probe began (RFC 3339), or NULL */
	char *error;            /* State.Error, or NULL */
	char *ip;               /* on the first network, or NULL */
	struct engine_port_binding *ports;
	size_t nports;
	struct engine_label_set labels;
};
int engine_container_inspect(struct engine *e, const char *id,
                             struct engine_container_info *info);
void engine_container_info_release(struct engine_container_info *info);
/* All containers (running or not) carrying every filter label. */
int engine_container_list(struct engine *e, const struct engine_label *filter,
                          size_t nfilter, struct engine_object_list *out);

/*
 * Logs, demultiplexed (or raw for a TTY container). tail <0: all lines.
 * Output of both streams goes to out in arrival order.
 */
int engine_container_logs(struct engine *e, const char *id, int tail,
                          struct buf *out);

/*
 * Added: follow a container's output as it is written (logs?follow=1),
 * for log-based readiness and live output. tty must be the container's
 * Config.Tty (engine_container_info.tty): it alone says whether the
 * stream is multiplexed. fn gets each piece in arrival order with its
 * stream (1 stdout, 2 stderr; always 1 for a TTY). tail <0: all lines;
 * since_s 0: from the start. No overall timeout: the call ends when the
 * container stops, on a malformed stream (the call's error says why), or
 * when cancelled. The caller frees the call.
 */
typedef void (*engine_log_fn)(int stream, const char *data, size_t len,
                              void *ud);
struct engine_call *engine_logs_start(struct engine *e, const char *id, int tty,
                                      int tail, int64_t since_s,
                                      engine_log_fn fn, void *ud);

/* Copy a tar archive into dir of the container / out of path. */
int engine_copy_in(struct engine *e, const char *id, const char *dir,
                   const void *tar, size_t len);
int engine_copy_out(struct engine *e, const char *id, const char *path,
                    struct buf *tar);

/* ---- exec ------------------------------------------------------------- */

/*
 * Run argv in the container, collect output (demultiplexed, capped at the
 * buffer's cap) and take the exit code from exec inspect, never from the
 * stream. timeout_ms <= 0: none. On timeout returns ORCH_ETIMEOUT (the
 * process keeps running in the container: the engine does not kill it).
 */
int engine_exec(struct engine *e, const char *id, char *const *argv,
                const char *user, long timeout_ms, int *exit_code,
                struct buf *output);

/*
 * Asynchronous exec for probes: create+start, then inspect when done.
 * done runs exactly once (success, failure, timeout, or ORCH_EINTR after
 * engine_exec_cancel()); the exec is freed when done returns, so the
 * handle and engine_exec_output() are valid until then and not after.
 * Never NULL.
 */
struct engine_exec;
typedef void (*engine_exec_done_fn)(struct engine_exec *x, int rc,
                                    int exit_code, void *ud);
struct engine_exec *engine_exec_start(struct engine *e, const char *id,
                                      char *const *argv, long timeout_ms,
                                      engine_exec_done_fn done, void *ud);
void engine_exec_cancel(struct engine_exec *x);
/* Output collected so far (capped at 64 KiB). */
const struct buf *engine_exec_output(const struct engine_exec *x);

/* ---- events ----------------------------------------------------------- */

struct engine_event {
	const char *type;      /* "container", "network", ... */
	const char *action;    /* "die", "health_status: healthy", "oom", ... */
	const char *id;        /* Actor.ID */
	const char *name;      /* Actor.Attributes.name, or NULL */
	const char *exit_code; /* Actor.Attributes.exitCode, or NULL */
	int64_t time_ns;
	/* Actor attribute lookup (labels are attributes). */
	const void *attrs_; /* private */
};
const char *engine_event_attr(const struct engine_event *ev, const char *key);

typedef void (*engine_event_fn)(const struct engine_event *ev, void *ud);
/*
 * Follow the events stream with label and type filters (type may be
 * NULL), consumed incrementally as engine_wait() runs. The call ends
 * when cancelled or when the engine closes the stream; the caller frees
 * the returned call (engine_call_cancel() first if it still runs).
 */
struct engine_call *engine_events_start(struct engine *e,
                                        const struct engine_label *labels,
                                        size_t nlabels, const char *type,
                                        int64_t since_s, engine_event_fn fn,
                                        void *ud);

/* ---- pure helpers, exposed for tests ---------------------------------- */

/*
 * Demultiplexer for the 8-byte-header stream format; feed arbitrary
 * chunks. Frames of type 0/1 go to out (and type 2 too, or to err when
 * err is set); type 3 (systemerr) and unknown types fail; a frame longer
 * than max_frame fails instead of allocating.
 */
struct engine_demux {
	unsigned char hdr[8];
	size_t hdr_len;
	size_t remaining; /* payload bytes left in the current frame */
	int stream;
	int failed;
	size_t max_frame; /* engine_demux_init(): 1 MiB */
	/* added: output past a buffer's cap is dropped and noted here */
	int truncated;
	/* added: the message of a failure (type 3 payload, bad frame) */
	char errmsg[256];
	size_t errlen;
};
void engine_demux_init(struct engine_demux *d);
int engine_demux_feed(struct engine_demux *d, const char *data, size_t len,
                      struct buf *out, struct buf *err);
/* At end of stream: ORCH_ERROR if a frame was cut short. */
int engine_demux_finish(const struct engine_demux *d);

/*
 * Added: the path sent for path: "/v" API path, except for /_ping (how
 * the version is found) and when api is NULL (not negotiated yet).
 */
void engine_versioned_path(struct buf *out, const char *api, const char *path);

/* Added: the body of POST /containers/create for s (free() it). */
char *engine_container_json(const struct engine_container_spec *s);

/* Percent-encode s for a URL query component. */
void engine_url_escape(struct buf *out, const char *s);

/*
 * Parse one line of a pull/build progress stream: 0 for progress, an
 * error code with the engine's message for an errorDetail/error line.
 * `stream` text (build output) is appended to out when set.
 */
int engine_progress_line(const char *line, size_t len, struct buf *out);

#endif
