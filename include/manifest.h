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

struct mf_port {
	char *host_ip; /* NULL: 127.0.0.1 */
	int host_port; /* 0: ephemeral */
	int container_port;
	char *protocol; /* "tcp" or "udp" */
};

struct mf_mount {
	char *type;   /* "volume", "bind", "tmpfs" */
	char *source; /* volume name, or an absolute host path for binds */
	char *target;
	int read_only;
};

struct mf_build {
	char *context;    /* absolute path */
	char *dockerfile; /* relative to the context; NULL: Dockerfile */
	struct mf_kvs args;
	char *target;
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
	int line, col; /* where the dependency is named */
};

struct mf_service {
	char *name;
	int line, col;             /* where the service is defined */
	int has_real;              /* image or build given */
	struct mf_container real;  /* valid when has_real */
	struct mf_container *stub; /* NULL: no stub */
	struct mf_dep *deps;
	size_t ndeps;
};

/* A service with only a stub is external: it is never real. */
static inline int mf_service_external(const struct mf_service *s)
{
	return !s->has_real;
}

struct mf_suite {
	char *name;
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

struct manifest {
	char *path;         /* as given; "<stdin>" for -f - */
	char *dir;          /* the project directory, absolute: the manifest's
	                   own, or the current one for -f - */
	char *name;         /* `name:`, or NULL */
	char *strategy;     /* `strategy:`, or NULL */
	struct strvec mask; /* `mask:`: more variables to mask (mask.h) */
	struct mf_service *services;
	size_t nservices;
	struct mf_suite *suites;
	size_t nsuites;
	struct mf_volume *volumes;
	size_t nvolumes;
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
 * Project name: explicit, else ORCHESTRATE_PROJECT, else the manifest's
 * name:, else the project directory's name (m->dir: the current one for
 * a manifest from standard input); normalised as Compose does
 * (lower case, [a-z0-9_-], starting with a letter or digit).
 */
int manifest_project_name(const struct manifest *m, const char *explicit_name,
                          char **name);

#endif
