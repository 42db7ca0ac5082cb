/*
 * engine_ops.h: the Docker Engine API operations -- images, networks,
 * volumes, containers, exec, events -- on the transport of engine.h.
 * Every request, every JSON body and every reply of the Engine API is
 * built and parsed in the engine modules behind this header; nothing
 * outside them speaks Docker.
 *
 * The shape of an operation OP:
 *
 *   int engine_OP(struct engine *e, IN..., OUT...);
 *       synchronous: runs the engine loop until the answer is in (other
 *       calls progress meanwhile); an engine_interrupt() stops it with
 *       ORCH_EINTR.
 *   struct engine_call *engine_OP_start(struct engine *e, IN...,
 *                                       engine_done_fn done, void *ud);
 *       asynchronous: submits and returns at once (never NULL); done
 *       (may be NULL) runs from engine_wait() when the call finished.
 *   int engine_OP_result(const struct engine_call *c, OUT...);
 *       once the call is done: exactly what the synchronous form returns,
 *       the message recorded (orch_error_last()). It may be called more
 *       than once; the caller frees the call (engine_call_free()).
 *
 * The synchronous form is start, run, result: one code path.
 *
 * Errors: every message names method, versioned path, HTTP status and
 * Docker's own message. Codes callers switch on (error.h): ORCH_ENOTFOUND
 * (404), ORCH_ECONFLICT (409: a name in use), ORCH_EINPROGRESS (someone
 * else is removing it), ORCH_EBUSY (a network with endpoints, a volume in
 * use), ORCH_EADDRINUSE (a host port taken at start), ORCH_ENOPOOL (no
 * address pool left for a network), ORCH_EUNREACHABLE and ORCH_ETIMEOUT
 * (no answer), ORCH_EINTR (interrupted or cancelled), ORCH_EENGINE
 * (anything else the engine refused). Docker says these only in text; the
 * engine modules are the one place that reads it.
 *
 * Values that go into a request path or query are percent-encoded here;
 * image references are checked against the reference grammar first.
 */
#ifndef ORCH_ENGINE_OPS_H
#define ORCH_ENGINE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "util.h"

/* ---- system ------------------------------------------------------------ */

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

struct engine_info {
	int ncpu;          /* 0 when unknown */
	int64_t mem_total; /* bytes; 0 when unknown */
	char *server_version;
	char *os_type; /* "linux" */
	char *arch;    /* "x86_64" */
	int is_podman;
};
int engine_info(struct engine *e, struct engine_info *info);
struct engine_call *engine_info_start(struct engine *e, engine_done_fn done,
                                      void *ud);
int engine_info_result(const struct engine_call *c, struct engine_info *info);
void engine_info_release(struct engine_info *info);

/* An object's labels, as the engine gave them. */
struct engine_label_set {
	char **keys;
	char **values;
	size_t n;
};
/* The value of label key, or NULL. */
const char *engine_label_get(const struct engine_label_set *ls,
                             const char *key);

/* ---- images ------------------------------------------------------------ */

/* What orchestrate needs from an image inspect. */
struct engine_image {
	char *id;                      /* "sha256:..." */
	char *os;                      /* "linux" */
	char *arch;                    /* "amd64" */
	char **repo_digests;           /* NULL-terminated; may be empty */
	struct strvec entrypoint, cmd; /* Config.Entrypoint, Config.Cmd */
	/* Config.Healthcheck; hc_test empty: none */
	struct strvec hc_test;
	int64_t hc_interval_ns, hc_timeout_ns, hc_start_period_ns;
	int hc_retries;
	struct engine_label_set labels; /* Config.Labels */
};
void engine_image_release(struct engine_image *img);

/* ORCH_ENOTFOUND when absent; img may be NULL. */
int engine_image_inspect(struct engine *e, const char *ref,
                         struct engine_image *img);
struct engine_call *engine_image_inspect_start(struct engine *e,
                                               const char *ref,
                                               engine_done_fn done, void *ud);
int engine_image_inspect_result(const struct engine_call *c,
                                struct engine_image *img);

/*
 * Pull ref ("name:tag"). Parses every progress line: an errorDetail in a
 * 200 stream is a failure carrying the engine's message. A pull that
 * moves no byte for engine_stall_ms(e, 0) fails with ORCH_ETIMEOUT
 * ("stalled"), and so does a build or an import (engine_stall_ms(e, 1)):
 * the connection is dropped, which makes the engine cancel a build.
 */
int engine_image_pull(struct engine *e, const char *ref);
struct engine_call *engine_image_pull_start(struct engine *e, const char *ref,
                                            engine_done_fn done, void *ud);
int engine_image_pull_result(const struct engine_call *c);

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
	size_t output_cap;  /* the build's output kept (its end); 0: none */
	/* the Dockerfile itself, sent in the context instead of
	   dockerfile (Compose's dockerfile_inline); NULL: none */
	const char *dockerfile_inline;
	const char *network_mode; /* RUN steps' network; NULL: default */
	char *const *extra_hosts; /* "HOST:IP" in RUN steps' /etc/hosts */
};
/*
 * The context is tarred when the build starts (a failure there, or a
 * Dockerfile outside the context, finishes the call at once with the
 * error). image_id (may be NULL) receives "sha256:...": the synchronous
 * form inspects the tag when the engine's answer did not say; the result
 * of the asynchronous one may leave it NULL then.
 */
int engine_image_build(struct engine *e, const struct engine_build_opts *o,
                       char **image_id);
struct engine_call *engine_image_build_start(struct engine *e,
                                             const struct engine_build_opts *o,
                                             engine_done_fn done, void *ud);
int engine_image_build_result(const struct engine_call *c, char **image_id);
/* The build's output so far (its last output_cap bytes); never NULL. */
const struct buf *engine_image_build_output(const struct engine_call *c);

/* Import a root filesystem tarball as repo:tag. */
int engine_image_import(struct engine *e, const char *tar_path,
                        const char *ref);
int engine_image_remove(struct engine *e, const char *ref, int force);
/* DELETE /images/REF without force; engine_call_rc() is the result. */
struct engine_call *engine_image_remove_start(struct engine *e, const char *ref,
                                              engine_done_fn done, void *ud);

/* ---- networks and volumes --------------------------------------------- */

struct engine_object {
	char *id;
	char *name;
	struct engine_label_set labels;
	/* containers only */
	char *state;    /* "running", "exited", "created", ... */
	char *image_id; /* "sha256:...", the image it was created from */
	/* images only: every repo:tag (name is the first, "" if none) */
	struct strvec tags;
};
struct engine_object_list {
	struct engine_object *items;
	size_t n;
};
void engine_object_list_release(struct engine_object_list *l);
void engine_object_release(struct engine_object *o);
/* Value of label key on o, or NULL. */
const char *engine_object_label(const struct engine_object *o, const char *key);

/*
 * A bridge network. ORCH_ENOPOOL when the engine has no address pool
 * left (leaked networks, usually). A create is let finish when
 * interrupted (engine_settle()).
 */
int engine_network_create(struct engine *e, const char *name,
                          const struct engine_label *labels, size_t nlabels,
                          char **id);
struct engine_call *
engine_network_create_start(struct engine *e, const char *name,
                            const struct engine_label *labels, size_t nlabels,
                            engine_done_fn done, void *ud);
int engine_network_create_result(const struct engine_call *c, char **id);
/* ORCH_EBUSY while containers are still attached. */
int engine_network_remove(struct engine *e, const char *id);
struct engine_call *engine_network_remove_start(struct engine *e,
                                                const char *id,
                                                engine_done_fn done, void *ud);
int engine_network_remove_result(const struct engine_call *c);
/* 0 when a network of that name or id exists, else ORCH_ENOTFOUND. */
int engine_network_exists(struct engine *e, const char *name);
/*
 * Attach a container (created or running) to a network under DNS
 * aliases (NULL-terminated, may be NULL); detach it. Attaching a running
 * container to another network leaves its other connections alone.
 */
int engine_network_connect(struct engine *e, const char *network,
                           const char *container, char *const *aliases);
struct engine_call *engine_network_connect_start(struct engine *e,
                                                 const char *network,
                                                 const char *container,
                                                 char *const *aliases,
                                                 engine_done_fn done, void *ud);
int engine_network_connect_result(const struct engine_call *c);
int engine_network_disconnect(struct engine *e, const char *network,
                              const char *container, int force);
struct engine_call *
engine_network_disconnect_start(struct engine *e, const char *network,
                                const char *container, int force,
                                engine_done_fn done, void *ud);
int engine_network_disconnect_result(const struct engine_call *c);

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
struct engine_call *
engine_volume_create_start(struct engine *e, const char *name,
                           const struct engine_label *labels, size_t nlabels,
                           engine_done_fn done, void *ud);
int engine_volume_create_result(const struct engine_call *c,
                                struct engine_object *got);
/* ORCH_EBUSY while a container uses it. */
int engine_volume_remove(struct engine *e, const char *name, int force);
struct engine_call *engine_volume_remove_start(struct engine *e,
                                               const char *name, int force,
                                               engine_done_fn done, void *ud);
int engine_volume_remove_result(const struct engine_call *c);
int engine_volume_list(struct engine *e, const struct engine_label *filter,
                       size_t nfilter, struct engine_object_list *out);
/* Images whose labels match filter (engine_object.tags: their names). */
int engine_image_list(struct engine *e, const struct engine_label *filter,
                      size_t nfilter, struct engine_object_list *out);

/* ---- containers ------------------------------------------------------- */

struct engine_port {
	int container_port;
	const char *protocol; /* "tcp" (default) or "udp" */
	const char *host_ip;  /* NULL: 127.0.0.1 */
	int host_port;        /* 0: ephemeral */
	int host_port_end;    /* >0: a free one of host_port..host_port_end */
};

/*
 * A mount. With selinux or create_host_path, a bind (or a volume with
 * selinux) goes in HostConfig.Binds as "SOURCE:TARGET:OPTIONS", where
 * the engine relabels and creates a missing source, which the Mounts
 * API does not do; everything else is a Mounts entry.
 */
struct engine_mount {
	const char *type;   /* "volume", "bind", "tmpfs", "image" */
	const char *source; /* volume name, host path, image; NULL for tmpfs */
	const char *target;
	int read_only;
	const char *propagation; /* binds; NULL: the engine's */
	const char *selinux;     /* "z", "Z" or NULL */
	int create_host_path;
	int nocopy;          /* volumes */
	const char *subpath; /* volumes, images */
	int64_t tmpfs_size;  /* 0: the engine's */
	int tmpfs_mode;      /* 0: the engine's */
};

/* "not set": the engine's default, for the numbers of the spec */
#define ENGINE_UNSET INT64_MIN

struct engine_ulimit {
	const char *name;
	int64_t soft, hard;
};

struct engine_blkio {
	const char *path;
	int64_t value;
};

struct engine_device_request {
	const char *driver;        /* NULL: any */
	long count;                /* -1: all */
	char *const *device_ids;   /* NULL: none */
	char *const *capabilities; /* one set, AND-ed */
	const struct engine_label *options;
	size_t noptions;
};

/*
 * HostConfig's resource and process settings, as Compose passes them:
 * ENGINE_UNSET, NULL or 0 entries leave the engine's default.
 */
struct engine_resources {
	int64_t nano_cpus, cpu_shares, cpu_period, cpu_quota, cpu_rt_period,
	        cpu_rt_runtime, cpu_count, cpu_percent;
	const char *cpuset;
	int64_t memory, memory_swap, memory_reservation, memory_swappiness,
	        shm_size, pids_limit, oom_score_adj, blkio_weight;
	int oom_kill_disable;                /* -1: not set */
	const struct engine_blkio *blkio[5]; /* weight, read/write bps,
	                                        read/write iops per device */
	size_t nblkio[5];
	const struct engine_ulimit *ulimits;
	size_t nulimits;
	const struct engine_label *sysctls;
	size_t nsysctls;
	const struct engine_label *storage_opt;
	size_t nstorage_opt;
	const char *cgroup_parent;
	const char *isolation;
};

struct engine_health {
	int set;           /* 0: inherit the image's */
	char *const *test; /* ["CMD", ...], ["CMD-SHELL", s], ["NONE"]; NULL:
	                      keep the image's test, change only the rest */
	int64_t interval_ns;
	int64_t timeout_ns;
	int64_t start_period_ns;
	int retries;
};

/* What a container is created as: every field the create body carries. */
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
	char *const *tmpfs; /* "PATH" or "PATH:OPTIONS" */
	const struct engine_health *health;
	const char *network;  /* network id or name to attach to */
	char *const *aliases; /* DNS aliases on that network */
	int stop_timeout_s;   /* <0: the engine's default */
	int auto_remove;
	/* the Compose keys passed as they are (spec.c); NULL/0: unset */
	const char *domainname;
	char *const *extra_hosts; /* "HOST:IP" */
	char *const *dns;
	char *const *dns_search;
	char *const *dns_opt;
	char *const *exposed; /* "PORT/PROTO", not published */
	char *const *cap_add;
	char *const *cap_drop;
	char *const *security_opt;
	char *const *group_add;
	char *const *devices; /* "HOST:CONTAINER:PERMISSIONS" */
	char *const *device_cgroup_rules;
	const struct engine_device_request *device_requests;
	size_t ndevice_requests;
	const struct engine_label *annotations;
	size_t nannotations;
	const struct engine_resources *resources; /* NULL: none */
	const char *stop_signal;
	int read_only;
	int open_stdin;
	int privileged;
	const char *restart;  /* "no", "always", "on-failure[:N]", ... */
	const char *platform; /* a query parameter of the create */
	const char *runtime;
	const char *network_mode; /* instead of network: "none", "host",
	                             "container:NAME" */
	const char *ipc_mode, *pid_mode, *uts_mode, *userns_mode,
	        *cgroupns_mode;
	char *const *volumes_from; /* "CONTAINER[:ro]" */
};

/*
 * ORCH_ENOTFOUND: no such image; ORCH_ECONFLICT: name in use. A create
 * is let finish when interrupted (engine_settle()).
 */
int engine_container_create(struct engine *e,
                            const struct engine_container_spec *s, char **id);
struct engine_call *
engine_container_create_start(struct engine *e,
                              const struct engine_container_spec *s,
                              engine_done_fn done, void *ud);
int engine_container_create_result(const struct engine_call *c, char **id);
/* The create body for s (free() it); for tests. */
char *engine_container_json(const struct engine_container_spec *s);

/*
 * 304 (already started) counts as success. ORCH_EADDRINUSE: a published
 * host port is taken.
 */
int engine_container_start(struct engine *e, const char *id);
struct engine_call *engine_container_start_start(struct engine *e,
                                                 const char *id,
                                                 engine_done_fn done, void *ud);
int engine_container_start_result(const struct engine_call *c);
/* 304 (already stopped) counts as success. timeout_s <0: 10. */
int engine_container_stop(struct engine *e, const char *id, int timeout_s);
struct engine_call *engine_container_stop_start(struct engine *e,
                                                const char *id, int timeout_s,
                                                engine_done_fn done, void *ud);
int engine_container_stop_result(const struct engine_call *c);
int engine_container_kill(struct engine *e, const char *id, const char *signal);
struct engine_call *engine_container_kill_start(struct engine *e,
                                                const char *id,
                                                const char *signal,
                                                engine_done_fn done, void *ud);
int engine_container_kill_result(const struct engine_call *c);
/*
 * Anonymous volumes go too; force kills a running one. ORCH_ENOTFOUND
 * when already gone, ORCH_EINPROGRESS when someone else removes it.
 */
int engine_container_remove(struct engine *e, const char *id, int force);
struct engine_call *engine_container_remove_start(struct engine *e,
                                                  const char *id, int force,
                                                  engine_done_fn done,
                                                  void *ud);
int engine_container_remove_result(const struct engine_call *c);
/*
 * Waits for not-running; the exit status into *status. timeout_ms <= 0
 * means the request timeout (60 s by default): there is no "forever",
 * so a hung engine cannot hold a caller (teardown, a suite) for good. On
 * timeout ORCH_ETIMEOUT naming the container.
 */
int engine_container_wait(struct engine *e, const char *id, long timeout_ms,
                          int *status);
struct engine_call *engine_container_wait_start(struct engine *e,
                                                const char *id, long timeout_ms,
                                                engine_done_fn done, void *ud);
int engine_container_wait_result(const struct engine_call *c, int *status);

struct engine_port_binding {
	int container_port;
	char *protocol;
	char *host_ip;
	int host_port;
};

struct engine_container_info {
	char *id;
	char *name;     /* without the leading '/' */
	char *image;    /* Config.Image, as asked for */
	char *image_id; /* "sha256:..." */
	char *status;   /* "created", "running", "exited", "removing", ... */
	int running;
	int exit_code;
	int oom_killed;
	int tty;
	char *started_at;  /* RFC 3339, or NULL */
	char *finished_at; /* RFC 3339, or NULL */
	char *health; /* NULL (no healthcheck), "starting", "healthy", ... */
	char *health_log;       /* output of the last health probe, or NULL */
	char *health_log_start; /* when that probe began (RFC 3339), or NULL */
	char *error;            /* State.Error, or NULL */
	char *ip;               /* on the first network, or NULL */
	struct strvec networks; /* names of the networks it is attached to */
	struct strvec env;      /* Config.Env: "K=V" */
	struct engine_port_binding *ports;
	size_t nports;
	struct engine_label_set labels;
};
int engine_container_inspect(struct engine *e, const char *id,
                             struct engine_container_info *info);
struct engine_call *engine_container_inspect_start(struct engine *e,
                                                   const char *id,
                                                   engine_done_fn done,
                                                   void *ud);
int engine_container_inspect_result(const struct engine_call *c,
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
 * A container's output as it arrives (logs?follow=1 when follow, else
 * what there is now). tty must be the container's Config.Tty
 * (engine_container_info.tty): it alone says whether the stream is
 * multiplexed. fn gets each piece in arrival order with its stream (1
 * stdout, 2 stderr; always 1 for a TTY). tail <0: all lines; since_s 0:
 * from the start. Following, there is no overall timeout: the call ends
 * when the container stops, on a malformed stream (the call's error says
 * why), or when cancelled. The caller frees the call.
 */
typedef void (*engine_log_fn)(int stream, const char *data, size_t len,
                              void *ud);
struct engine_call *engine_logs_start(struct engine *e, const char *id, int tty,
                                      int tail, int64_t since_s, int follow,
                                      engine_log_fn fn, void *ud);

/* Copy a tar archive into dir of the container / out of path. */
int engine_copy_in(struct engine *e, const char *id, const char *dir,
                   const void *tar, size_t len);
int engine_copy_out(struct engine *e, const char *id, const char *path,
                    struct buf *tar);
/* The archive is kept in the call up to cap bytes (ORCH_ETOOBIG past). */
struct engine_call *engine_copy_out_start(struct engine *e, const char *id,
                                          const char *path, size_t cap,
                                          engine_done_fn done, void *ud);
/* Appends the archive to tar. */
int engine_copy_out_result(const struct engine_call *c, struct buf *tar);

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
/* The same with the process's user, directory, variables, privileges. */
struct engine_exec_opts {
	const char *user;        /* NULL: the container's */
	const char *working_dir; /* NULL: the container's */
	char *const *env;        /* "K=V", added to the container's */
	int privileged;
};
int engine_exec_opts(struct engine *e, const char *id, char *const *argv,
                     const struct engine_exec_opts *o, long timeout_ms,
                     int *exit_code, struct buf *output);

/*
 * Asynchronous exec, for probes and hooks: create+start, then inspect
 * when done; o may be NULL (the container's user, directory, variables).
 * done runs exactly once (success, failure, timeout, or ORCH_EINTR after
 * engine_exec_cancel()); the exec is freed when done returns, so the
 * handle and engine_exec_output() are valid until then and not after.
 * Never NULL.
 */
struct engine_exec;
typedef void (*engine_exec_done_fn)(struct engine_exec *x, int rc,
                                    int exit_code, void *ud);
struct engine_exec *engine_exec_start(struct engine *e, const char *id,
                                      char *const *argv,
                                      const struct engine_exec_opts *o,
                                      long timeout_ms, engine_exec_done_fn done,
                                      void *ud);
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

#endif
