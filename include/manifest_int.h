/*
 * manifest_int.h: what the files of the manifest loader share, and
 * nothing else includes. manifest.h is the loader's public face.
 *
 *   manifest.c        the entry points: the manifest file or standard
 *                     input, the .env file; freeing, discovery, names
 *   yaml_tree.c       the text -> a tree of our own, under the limits
 *                     (yaml_tree.h); the only file with <yaml.h>
 *   manifest_walk.c   the tree -> struct manifest, mapping by mapping,
 *                     each key converted by what its schema row names
 *   manifest_value.c  one YAML value -> one C value: interpolation,
 *                     strings, numbers, lists, KEY=VALUE, paths, names
 *   manifest_check.c  the rules over several keys or mappings, run once
 *                     all of them are read
 *   schema.c          the table of keys (schema.h), naming each accepted
 *                     key's converter, declared below
 *
 * A load: ytree_parse(), then mf_walk(), which converts each mapping's
 * keys in the order written, then runs the rules of that mapping, then,
 * with every service read, the references. The int functions here
 * return 0 or ORCH_EINVALID with "ORIGIN:LINE:COL: message" recorded;
 * on error the half-filled manifest is the caller's to free.
 */
#ifndef ORCH_MANIFEST_INT_H
#define ORCH_MANIFEST_INT_H

#include <stdint.h>

#include "interp.h"
#include "manifest.h"
#include "schema.h"
#include "util.h"
#include "yaml_tree.h"

#define MF_ENV_FILE_MAX (1024 * 1024) /* an env_file or .env file */

/* Where ${VAR} finds its value: the process (or a test's table), .env. */
struct mf_vars {
	const char *(*getenv_fn)(const char *name);
	const struct dotenv *dotenv; /* NULL: none */
};

/* One tree being turned into one manifest. */
struct mf_conv {
	const char *origin; /* the file, in messages */
	const char *dir;    /* the project directory, absolute */
	struct mf_vars *vars;
	struct strvec *warnings; /* NULL: not wanted */
	struct manifest *m;
	struct strvec warned; /* ignored keys already warned about */
	size_t nwarnings;     /* given so far (capped) */
	struct strindex service_ix, volume_ix;
	size_t *stamp; /* per service: == stamp_gen when seen in this suite */
	size_t stamp_gen;
};

/*
 * A service, its stub or a suite while its mapping is read: what the
 * converters of its keys fill, and the nodes that the rules run after
 * the mapping (manifest_check.c) convert or point at.
 */
struct mf_unit {
	struct mf_service *service; /* a service or its stub; else NULL */
	struct mf_suite *suite;     /* a suite; else NULL */
	struct mf_container *ct;    /* the one being filled */
	int is_stub;
	const struct ynode *env, *env_file;      /* applied after the mapping */
	const struct ynode *targets, *artifacts; /* a suite's */
};

/* ---- manifest_walk.c ------------------------------------------------- */

/* The whole manifest from the tree's root into c->m. */
int mf_walk(struct mf_conv *c, const struct ynode *root);

/*
 * The converters the schema table's rows name (schema.h), one per
 * accepted key, by section. conv_container_* fill the container of a
 * service, a stub or a suite alike.
 */
schema_convert_fn conv_top_name, conv_top_strategy, conv_top_services,
        conv_top_volumes, conv_top_suites, conv_top_mask;
schema_convert_fn conv_container_image, conv_container_build,
        conv_container_command, conv_container_entrypoint,
        conv_container_environment, conv_container_env_file,
        conv_container_ports, conv_container_volumes, conv_container_tmpfs,
        conv_container_user, conv_container_working_dir, conv_container_labels,
        conv_container_healthcheck, conv_container_stop_grace_period,
        conv_container_init, conv_container_ready;
schema_convert_fn conv_service_depends_on, conv_service_stub;
schema_convert_fn conv_suite_targets, conv_suite_host, conv_suite_command,
        conv_suite_timeout, conv_suite_retries, conv_suite_artifacts,
        conv_suite_tags;
schema_convert_fn conv_build_context, conv_build_dockerfile, conv_build_args,
        conv_build_target;
schema_convert_fn conv_health_test, conv_health_interval, conv_health_timeout,
        conv_health_start_period, conv_health_retries, conv_health_disable;
schema_convert_fn conv_depends_condition;
schema_convert_fn conv_port_target, conv_port_published, conv_port_host_ip,
        conv_port_protocol;
schema_convert_fn conv_mount_type, conv_mount_source, conv_mount_target,
        conv_mount_read_only;
schema_convert_fn conv_env_file_path, conv_env_file_required;
schema_convert_fn conv_ready_tcp, conv_ready_http, conv_ready_exec,
        conv_ready_log, conv_ready_timeout;
schema_convert_fn conv_http_port, conv_http_path, conv_http_status;

/* ---- manifest_value.c ------------------------------------------------ */

/* An error at node n ("ORIGIN:LINE:COL: ..."); ORCH_EINVALID. */
int mf_err(struct mf_conv *c, const struct ynode *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* A warning at node n, once per text, at most 100 of them. */
void mf_warn(struct mf_conv *c, const struct ynode *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/*
 * Readers of one value, interpolated; what names the key in messages.
 * A reader into a char ** frees what was there before.
 */
int mf_scalar(struct mf_conv *c, const struct ynode *n, const char *what,
              char **out);
int mf_get_string(struct mf_conv *c, const struct ynode *n, const char *what,
                  char **out);
int mf_get_int(struct mf_conv *c, const struct ynode *n, const char *what,
               long min, long max, long *out);
int mf_get_port(struct mf_conv *c, const struct ynode *n, const char *what,
                int *out);
int mf_get_bool(struct mf_conv *c, const struct ynode *n, const char *what,
                int *out);
int mf_get_duration(struct mf_conv *c, const struct ynode *n, const char *what,
                    int64_t *out);
/* A string or a sequence of strings, appended to out. */
int mf_get_strings(struct mf_conv *c, const struct ynode *n, const char *what,
                   struct strvec *out);
/* A sequence, or a string split like a shell would; replaces out. */
int mf_get_command(struct mf_conv *c, const struct ynode *n, const char *what,
                   struct strvec *out);
/*
 * A mapping or a sequence of KEY=VALUE, appended to out, one entry per
 * key. A bare KEY (or a null value) gives bare_value: NULL for
 * environments ("take it from the caller's environment"), "" for labels.
 */
int mf_get_kvs(struct mf_conv *c, const struct ynode *n, const char *what,
               const char *bare_value, struct mf_kvs *out);

/* KEY=VALUE lists: add (value owned), one entry per key, release. */
void mf_kvs_add(struct mf_kvs *kv, const char *key, char *value);
void mf_kvs_dedupe(struct mf_kvs *kv);
void mf_kvs_release(struct mf_kvs *kv);

/* Lexically clean: "a/./b/../c" -> "a/c", keeping a leading '/'. */
char *mf_path_normalize(const char *path);
/* An absolute path for p: relative to the project directory, ~ to HOME. */
char *mf_resolve_path(struct mf_conv *c, const char *p);

/* Service, suite and volume names: letters, digits, '_', '.', '-'. */
int mf_valid_name(const char *s);
int mf_check_name(struct mf_conv *c, const struct ynode *n, const char *kind);
/* Project names as Compose takes them: [a-z0-9_-], no leading '_'/'-'. */
/* The candidate closest to word, if a plausible typo of it; or NULL. */
const char *mf_closest(const char *word, const char *const *cands, size_t n);
/* An extended regular expression regcomp() takes, at a bounded cost. */
int mf_check_regex(struct mf_conv *c, const struct ynode *v, const char *re);

/* ---- manifest_check.c ------------------------------------------------ */

/*
 * The rules of a mapping, once all its keys are read, whatever their
 * order (at: the node the messages point at when not a key's own).
 */
int mf_check_service(struct mf_conv *c, struct mf_unit *u,
                     const struct ynode *at);
int mf_check_stub(struct mf_conv *c, struct mf_unit *u, const struct ynode *at);
int mf_check_suite(struct mf_conv *c, struct mf_unit *u,
                   const struct ynode *at);
int mf_check_mount(struct mf_conv *c, const struct ynode *at,
                   struct mf_mount *mt);
int mf_check_healthcheck(struct mf_conv *c, struct mf_healthcheck *h);
/* With every service read: dependencies resolved, unique, no cycle. */
int mf_check_deps(struct mf_conv *c);

#endif
