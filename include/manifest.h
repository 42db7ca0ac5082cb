/*
 * manifest.h: the environment manifest, loaded from YAML and validated.
 *
 * Loading does everything that needs no engine: limits against hostile
 * input (yaml_tree.c, the only file that includes <yaml.h>), the schema
 * table (schema.c) walked key by key (manifest_walk.c), Compose
 * interpolation, and the semantic checks (manifest_check.c: undefined
 * dependencies and targets, cycles, the keys that go together); the
 * files are listed in manifest_int.h. A manifest returned by
 * manifest_load() is valid; the model below is plain data the rest of
 * the program reads but never changes.
 *
 * Errors read "FILE:LINE:COL: message" (from 1) and come back as
 * ORCH_EINVALID with the message in orch_error_last(); warnings (an unset
 * variable without a default, an ignored Compose key, a port published on
 * all interfaces) are appended to the warnings vector in the same form,
 * at most 100 of them.
 *
 * Ownership: manifest_load() hands the caller a struct manifest that
 * owns every string and array below; release it with manifest_free()
 * (which accepts NULL). Nothing points into the YAML text.
 *
 * Limits (docs/manifest.md, "YAML and limits"): 1 MiB, depth 64, 1000
 * anchors, 1000 aliases, 100000 nodes with aliases expanded, 64 KiB per
 * scalar, one document, no duplicate keys, core-schema tags only, UTF-8
 * without NUL.
 */
#ifndef ORCH_MANIFEST_H
#define ORCH_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define MANIFEST_MAX_SIZE (1024 * 1024)

/*
 * `-f -` (or ORCHESTRATE_FILE=-): the manifest comes from standard input,
 * as with Compose's `-f -`; messages name it "<stdin>". A file called "-"
 * is "./-".
 */
#define MANIFEST_STDIN      "-"
#define MANIFEST_STDIN_NAME "<stdin>"

struct mf_kv {
	char *key;
	char *value; /* NULL for a list-form environment entry without '=' */
};

struct mf_kvs {
	struct mf_kv *items;
	size_t n;
	size_t alloc;
};

/* "not set" for the numbers below that may be 0 or negative */
#define MF_UNSET INT64_MIN

/*
 * A published port. A range of container ports is one entry per port
 * (`8000-8002:8000-8002` is three); a range of host ports for one
 * container port (`6005-6015:80`) is host_port..host_port_end, of which
 * the engine takes a free one.
 */
struct mf_port {
	char *host_ip;     /* NULL: 127.0.0.1 */
	int host_port;     /* 0: ephemeral */
	int host_port_end; /* 0: host_port alone */
	int container_port;
	char *protocol; /* "tcp" or "udp" */
};

struct mf_mount {
	char *type;   /* "volume", "bind", "tmpfs", "image" */
	char *source; /* volume name, absolute host path, image reference */
	char *target;
	int read_only;
	char *propagation;    /* binds: "rprivate", ...; NULL: default */
	char *selinux;        /* binds: "z", "Z" or NULL */
	int create_host_path; /* binds: the engine creates a missing source */
	int nocopy;           /* volumes: no copy of the image's content */
	char *subpath;        /* volumes and images: a path in them */
	int64_t tmpfs_size;   /* bytes, 0: the engine's default */
	int tmpfs_mode;       /* 0: the engine's default */
};

/*
 * build: additional_contexts: a local directory (absolute), an image
 * (docker-image://REF, kept as REF), or another service's image
 * (service:NAME: its build, or the image it names, as image).
 */
struct mf_context {
	char *name;
	char *dir;                            /* a directory, or NULL */
	char *image;                          /* an image reference, or NULL */
	char *service;                        /* service:NAME, or NULL */
	const struct mf_build *service_build; /* that service's build */
};

struct mf_build {
	char *context;           /* absolute path */
	char *dockerfile;        /* relative to the context; NULL: Dockerfile */
	char *dockerfile_inline; /* the Dockerfile itself, or NULL */
	struct mf_kvs args;
	char *target;
	char *network;             /* the build's network mode, or NULL */
	struct strvec extra_hosts; /* "HOST:IP" */
	struct mf_context *contexts;
	size_t ncontexts;
	struct strvec secrets; /* top-level secrets the build wants */
	struct mf_kvs labels;
	/* the first key that needs BuildKit (secrets, ssh, ...), which the
	   classic builder cannot do: the build is refused; NULL: none */
	char *buildkit;
};

/* One post_start or pre_stop command, run with exec in the container. */
struct mf_hook {
	struct strvec command;
	char *user;        /* NULL: the container's */
	char *working_dir; /* NULL: the container's */
	int privileged;    /* only with allow-host-privileges */
	struct mf_kvs environment;
	int line, col; /* where it is written */
};

/*
 * A secret or a config put in a container: read-only, at target. From a
 * file it is bind-mounted (source_path); from content or an environment
 * variable it is copied in before the container starts (content).
 */
struct mf_file_ref {
	int is_secret;
	char *name;        /* the top-level secret or config */
	char *target;      /* absolute path in the container */
	char *source_path; /* a host file, or NULL */
	char *content;     /* the value, or NULL (masked when a secret) */
	long uid, gid;     /* -1: root */
	int mode;          /* file mode (0444 secrets and configs by default) */
};

/* GPUs and other devices the engine hands over (DeviceRequests). */
struct mf_device_request {
	char *driver; /* NULL: any */
	long count;   /* -1: all; 0 with device_ids */
	struct strvec device_ids;
	struct strvec capabilities; /* [["gpu"]] when empty */
	struct mf_kvs options;
};

struct mf_ulimit {
	char *name;
	int64_t soft, hard;
};

struct mf_blkio_device {
	char *path;
	int64_t value; /* weight, or a rate (bytes or operations a second) */
};

/*
 * The engine's resource and process settings for a container, as
 * Compose passes them (HostConfig). MF_UNSET (or NULL, or empty) leaves
 * the engine's default.
 */
struct mf_resources {
	int64_t nano_cpus, cpu_shares, cpu_period, cpu_quota, cpu_rt_period,
	        cpu_rt_runtime, cpu_count, cpu_percent;
	char *cpuset;
	int64_t memory, memory_swap, memory_reservation, memory_swappiness,
	        shm_size;
	int64_t pids_limit;
	int64_t oom_score_adj;
	int oom_kill_disable; /* -1: not set */
	int64_t blkio_weight;
	struct mf_blkio_device *blkio[5]; /* weight, read bps, write bps,
	                                     read iops, write iops */
	size_t nblkio[5];
	struct mf_ulimit *ulimits;
	size_t nulimits;
	struct mf_kvs sysctls;
	struct mf_kvs storage_opt;
	char *cgroup_parent;
	char *isolation;
};

struct mf_healthcheck {
	int set;             /* the manifest has a healthcheck */
	int disable;         /* disable: true or test: [NONE] */
	struct strvec test;  /* "CMD"/"CMD-SHELL" first, as the API wants */
	int64_t interval_ns; /* 0: the engine's default */
	int64_t timeout_ns;
	int64_t start_period_ns;
	int retries; /* 0: the engine's default */
};

struct mf_ready {
	int tcp_port;       /* 0: no tcp probe */
	int http_port;      /* 0: no http probe */
	char *http_path;    /* default "/" */
	int http_status;    /* default 200 */
	struct strvec exec; /* empty: no exec probe */
	char *log_regex;    /* NULL: no log probe */
	int64_t timeout_ns; /* default 60s */
};

/*
 * What a service, a stub or a suite runs as a container. With both
 * image and build in the manifest, the image is built and tagged `image`,
 * as Compose does (services giving one image name share one build).
 * Relative paths (build context, bind sources) are already absolute.
 */
struct mf_container {
	char *image;            /* with build: the tag to build */
	struct mf_build *build; /* NULL when an image */
	struct strvec command;  /* empty: the image's */
	struct strvec entrypoint;
	int has_entrypoint; /* entrypoint given (possibly empty) */
	struct mf_kvs environment;
	struct mf_port *ports;
	size_t nports;
	struct mf_mount *mounts;
	size_t nmounts;
	struct strvec tmpfs;
	char *user;
	char *working_dir;
	struct mf_kvs labels;
	struct mf_healthcheck healthcheck;
	struct mf_ready ready;
	int64_t stop_grace_ns; /* -1: not set (orchestrate kills at once) */
	int init;
	/* the Compose keys that go to the engine as they are (spec.c) */
	char *hostname, *domainname;
	struct strvec aliases;      /* DNS names besides the service's own */
	struct strvec ext_networks; /* external networks it joins too */
	struct strvec extra_hosts;  /* "HOST:IP" */
	struct strvec dns, dns_search, dns_opt;
	struct strvec expose; /* "PORT/PROTO" */
	struct strvec cap_add, cap_drop, security_opt, group_add;
	struct strvec devices;             /* "HOST:CONTAINER:PERMS" */
	struct strvec device_cgroup_rules; /* host privileges */
	struct mf_kvs annotations;
	struct mf_resources res;
	char *stop_signal;
	int read_only;
	int tty, stdin_open;
	int privileged;
	char *restart; /* "no", "always", "on-failure[:N]", "unless-stopped" */
	char *platform, *runtime;
	char *pid, *ipc, *uts, *userns_mode, *cgroupns; /* as written */
	char *network_mode;    /* NULL (the run's network), "none", "host" */
	char *network_service; /* network_mode: service:NAME, or NULL */
	char *ipc_service;     /* ipc: service:NAME, or NULL */
	struct strvec volumes_from; /* "SERVICE" or "SERVICE:ro" */
	struct mf_device_request *device_requests; /* host privileges */
	size_t ndevice_requests;
	struct mf_hook *post_start, *pre_stop;
	size_t npost_start, npre_stop;
	struct mf_file_ref *files; /* secrets and configs */
	size_t nfiles;
};

enum mf_condition {
	MF_SERVICE_STARTED,
	MF_SERVICE_HEALTHY, /* healthcheck and ready: probes */
	MF_SERVICE_COMPLETED_SUCCESSFULLY,
};

struct mf_dep {
	char *name;
	size_t index; /* into manifest.services */
	enum mf_condition condition;
	int required;        /* required: false drops it when not active */
	int implicit;        /* from links, volumes_from, service: namespaces */
	int names_container; /* volumes_from, service: NAME: the container
	                        must exist before this one is created */
	const char *file; /* where the dependency is named (manifest.files) */
	int line, col;
};

struct mf_service {
	char *name;
	const char *file; /* where the service is defined */
	int line, col;
	int has_real;              /* image or build given */
	struct mf_container real;  /* valid when has_real */
	struct mf_container *stub; /* NULL: no stub */
	struct mf_dep *deps;
	size_t ndeps;
	struct strvec profiles; /* empty: always active */
};

/* A service with only a stub is external: it is never real. */
static inline int mf_service_external(const struct mf_service *s)
{
	return !s->has_real;
}

struct mf_suite {
	char *name;
	const char *file;
	int line, col;
	struct strvec targets;
	size_t *target_index; /* into manifest.services, ntargets = targets.n */
	int host;             /* run on the host */
	/* image or build (when !host), working_dir, user; its command and
	   environment stay empty: the suite's own are below */
	struct mf_container container;
	struct strvec command;
	struct mf_kvs environment;
	int64_t timeout_ns; /* default 10m */
	int retries;
	/* absolute paths: in the container, or for a host suite on the
	   host (relative ones written against the project directory) */
	struct strvec artifacts;
	struct strvec tags;
};

struct mf_volume {
	char *name;
};

/* A top-level secret or config: where its value comes from. */
struct mf_secret {
	char *name;
	char *file;    /* absolute path, or NULL */
	char *env;     /* the variable it came from, or NULL */
	char *content; /* from env or content:, or NULL */
};

struct manifest {
	char *path;          /* the first file as given; "<stdin>" for -f - */
	char *dir;           /* the project directory, absolute: the first
	                   file's own, or the current one for -f - */
	struct strvec files; /* every file read: -f, include, extends */
	struct strvec profiles;    /* the active profiles */
	int allow_host_privileges; /* x-orchestrate: allow-host-privileges */
	char *name;                /* `name:`, or NULL */
	char *strategy;            /* `strategy:`, or NULL */
	struct strvec mask; /* `mask:`: more variables to mask (mask.h) */
	struct mf_service *services;
	size_t nservices;
	/* the services profiles left out: not part of the run, kept for the
	   builds of active ones that name them (service: contexts) */
	struct mf_service *inactive;
	size_t ninactive;
	struct mf_suite *suites;
	size_t nsuites;
	struct mf_volume *volumes;
	size_t nvolumes;
	struct mf_secret *secrets, *configs;
	size_t nsecrets, nconfigs;
};

/*
 * Load and validate a manifest file. Variables come from the process
 * environment, then a .env file in the project directory (beside the
 * manifest), whose own values are interpolated first (interp.h,
 * dotenv_parse_interp()); its warnings are named ".env:LINE:COL:"
 * (with the directory when there is one).
 *
 * path MANIFEST_STDIN reads standard input instead, up to
 * MANIFEST_MAX_SIZE (reading stops there: "<stdin>:1:1: manifest larger
 * than ..."); the project directory -- relative build contexts, bind
 * mounts and env_file, the .env file, the default project name -- is
 * then the current directory, as in Compose. A terminal on standard
 * input, or nothing read from it, is ORCH_EINVALID.
 */
int manifest_load(const char *path, struct strvec *warnings,
                  struct manifest **out);

/*
 * Several files merged as Compose merges them (docs/manifest.md, "Several
 * files, include and extends"), and the profiles. files[0] decides the
 * project directory (and its .env); MANIFEST_STDIN may be one of them,
 * once. profiles NULL: from ORCHESTRATE_PROFILES, else COMPOSE_PROFILES
 * (the environment, then the project's .env), comma-separated; "*"
 * activates every profile. getenv_fn NULL: getenv.
 */
struct manifest_opts {
	const char *const *files;
	size_t nfiles;
	const char *const *profiles;
	size_t nprofiles;
	const char *(*getenv_fn)(const char *name);
};
int manifest_load_opts(const struct manifest_opts *o, struct strvec *warnings,
                       struct manifest **out);
/*
 * The same from memory (for tests and the fuzzer): origin names the file
 * in messages and its directory anchors relative paths; getenv_fn (NULL:
 * getenv) supplies variables, and no .env file is read. warnings may be
 * NULL.
 */
int manifest_load_buffer(const char *origin, const char *data, size_t len,
                         const char *(*getenv_fn)(const char *name),
                         struct strvec *warnings, struct manifest **out);
void manifest_free(struct manifest *m);

/* Index of the service called name, or -1. */
int manifest_service_index(const struct manifest *m, const char *name);

/*
 * Find the manifest: explicit path, else ORCHESTRATE_FILE, else
 * orchestrate.yaml / orchestrate.yml in the current directory. The
 * result is malloc'd; MANIFEST_STDIN (from either) is passed through
 * for manifest_load().
 */
int manifest_discover(const char *explicit_path, char **path);

/*
 * The files to load, in merge order: the explicit ones (-f, each must
 * exist), else ORCHESTRATE_FILE, else COMPOSE_FILE (several, separated
 * by COMPOSE_PATH_SEPARATOR, default ':'), else the first of
 * orchestrate.yaml, orchestrate.yml, compose.yaml, compose.yml,
 * docker-compose.yaml, docker-compose.yml in the current directory with
 * its override file (NAME.override.yaml or .yml) after it. notes gets
 * what the user should hear (another candidate found and not used).
 */
int manifest_discover_files(const char *const *explicit_paths, size_t n,
                            struct strvec *files, struct strvec *notes);

/*
 * Project name: explicit, else ORCHESTRATE_PROJECT, else the manifest's
 * name:, else the project directory's name (m->dir: the current one for
 * a manifest from standard input); normalised as Compose does
 * (lower case, [a-z0-9_-], starting with a letter or digit).
 */
int manifest_project_name(const struct manifest *m, const char *explicit_name,
                          char **name);

#endif
