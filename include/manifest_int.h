/*
 * manifest_int.h: what the files of the manifest loader share, and
 * nothing else includes. manifest.h is the loader's public face.
 *
 *   manifest.c        the entry points: the manifest files or standard
 *                     input, the .env file; freeing, discovery, names
 *   manifest_merge.c  several files -> one tree, as Compose merges
 *                     them: -f files in order, include:, extends:,
 *                     !reset and !override
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
 * A load: mf_project_load() parses each file (ytree_parse()) and merges
 * them into one tree whose nodes remember the file they were written
 * in (ynode.file, an index into mf_conv.files); then mf_walk(), which
 * converts each mapping's keys in the order written, then runs the rules
 * of that mapping, then, with every service read, the profiles and the
 * references. The int functions here return 0 or ORCH_EINVALID with
 * "FILE:LINE:COL: message" recorded, FILE being where the value was
 * written; on error the half-filled manifest is the caller's to free.
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
#define MF_MAX_FILES    64            /* files of one load (include bombs) */

/* Where ${VAR} finds its value: the process (or a test's table), .env. */
struct mf_vars {
	const char *(*getenv_fn)(const char *name);
	const struct dotenv *dotenv; /* NULL: none */
};
/*
 * A short port "[ip:][host[-end]:]container[-end][/proto]" split in place
 * (s is written to); ip ("[::1]" without its brackets), host and proto
 * NULL when absent. -1 when a bracketed address is malformed.
 */
int mf_port_split(char *s, char **ip, char **host, char **target, char **proto);
/* name's value: the process (or the test's table) first, then .env */
const char *mf_var_get(const struct mf_vars *v, const char *name);

/*
 * A file of the load: the -f files, the included ones, those extends:
 * names. Relative paths written in it are against dir: the project
 * directory for -f files (as Compose), the included project's directory,
 * the extended file's own directory.
 */
struct mf_file {
	char *name;  /* in messages */
	char *path;  /* to read it; NULL for standard input and buffers */
	char *dir;   /* absolute */
	size_t vars; /* index into mf_conv.vars */
	struct ytree tree;
};

/* One load: its files, their trees, and the manifest being filled. */
struct mf_conv {
	struct mf_file *files; /* ynode.file indexes it */
	size_t nfiles, afiles;
	struct mf_vars **vars; /* one per project (the main, each include) */
	struct dotenv **dotenvs;
	size_t nvars, avars;
	struct ytree arena;      /* the nodes merges make */
	size_t merged;           /* nodes and links they made (a cap) */
	struct strvec *warnings; /* NULL: not wanted */
	struct manifest *m;
	struct strvec warned; /* ignored keys already warned about */
	size_t nwarnings;     /* given so far (capped) */
	struct strindex service_ix, volume_ix, secret_ix, config_ix;
	size_t *stamp; /* per service: == stamp_gen when seen in this suite */
	size_t stamp_gen;
	/* the active profiles, as given (manifest_opts) */
	const char *const *profiles;
	size_t nprofiles;
	/* the mapping being read: "service 'api'", ... prefixes messages */
	const char *unit;
	struct strindex network_ix;
	/* per declared network (network_ix): its engine name when it is
	   external, else NULL */
	char **net_ext;
	size_t nnet_ext;
	const struct strvec *inactive; /* services left out by profiles */
	struct mf_ref *refs;
	size_t nrefs, arefs;
	/* build contexts naming services, resolved after them */
	struct mf_ctx_ref {
		const struct ynode *at;
		struct mf_context *ctx;
		char *unit; /* whose build: "service 'app'" */
	} * ctx_refs;
	size_t nctx_refs, actx_refs;
	/* warnings, sorted into file order at the end of the load */
	struct mf_warning *wl;
	size_t nwl, awl;
};

struct mf_warning {
	unsigned file;
	int line, col;
	size_t seq;
	char *text;
};

/*
 * The warnings of the load in file order (the files as read, then line
 * and column) appended to c->warnings.
 */
void mf_flush_warnings(struct mf_conv *c);

/*
 * Where node n was written: its file's name, and its directory;
 * mf_model_file() is the same name owned by the manifest (files).
 */
const char *mf_origin(const struct mf_conv *c, const struct ynode *n);
const char *mf_model_file(const struct mf_conv *c, const struct ynode *n);
const char *mf_dir(const struct mf_conv *c, const struct ynode *n);

/* ---- manifest_merge.c ------------------------------------------------ */

/*
 * The files registered as file_ix[] (mf_add_file(): the -f files, in
 * order) merged, after each one's include: entries are loaded, then
 * extends: resolved, as Compose does; *root is the merged document,
 * whose nodes belong to c. Errors name the file, line and column where
 * the value was written; an include or extends cycle names the chain.
 */
int mf_project_load(struct mf_conv *c, const size_t *file_ix, size_t n,
                    const struct ynode **root);
/* manifest.c: a manifest file or standard input, under the size cap. */
int mf_read_manifest_file(const char *path, struct buf *b);
int mf_read_manifest_stdin(struct buf *b, char **dir);
/* Register a file (its tree parsed from data); *index is its number. */
int mf_add_file(struct mf_conv *c, const char *name, const char *path,
                const char *dir, size_t vars, const char *data, size_t len,
                size_t *index);
/* Register a set of variables (dotenv owned by c from now on). */
size_t mf_add_vars(struct mf_conv *c,
                   const char *(*getenv_fn)(const char *name),
                   struct dotenv *dotenv);
void mf_conv_release(struct mf_conv *c);
/*
 * The .env file at path interpolated as Compose reads it into d (absent
 * is fine); its warnings are named after path.
 */
int mf_read_dotenv(const char *path, const char *(*getenv_fn)(const char *),
                   struct strvec *warnings, struct dotenv *d);

/*
 * A service, its stub or a suite while its mapping is read: what the
 * converters of its keys fill, and the nodes that the rules run after
 * the mapping (manifest_check.c) convert or point at.
 */
struct mf_unit {
	struct mf_service *service; /* a service or its stub; else NULL */
	struct mf_suite *suite;     /* a suite; else NULL */
	struct mf_container *ct;    /* the one being filled */
	size_t index;               /* of the service */
	int is_stub;
	const struct ynode *env, *env_file;      /* applied after the mapping */
	const struct ynode *labels, *label_file; /* likewise */
	const struct ynode *targets, *artifacts; /* a suite's */
	const struct ynode *ports, *networks;    /* for the rules */
	/* deploy: resources and restart_policy, checked against the keys
	   they duplicate once the mapping is read */
	const struct ynode *deploy_at;
	int64_t deploy_cpus, deploy_memory, deploy_pids, deploy_reservation;
	char *deploy_restart;
};

/* A top-level network being read: external ones are joined by name. */
struct mf_netdecl {
	int external;
	char *name; /* name: as written, or NULL */
	const struct ynode *name_at;
};

/*
 * A reference from one service to another that Compose turns into a
 * dependency (links, volumes_from, network_mode/ipc/pid service:NAME),
 * resolved once every service is read.
 */
struct mf_ref {
	size_t service; /* the one that refers */
	char *target;
	char *alias; /* links: SERVICE:ALIAS, else NULL */
	const struct ynode *at;
	const char *what; /* "links", "volumes_from", ... */
};

/* ---- manifest_walk.c ------------------------------------------------- */

/* The whole manifest from the tree's root into c->m. */
int mf_walk(struct mf_conv *c, const struct ynode *root);
/*
 * One mapping of section sec into obj with the schema table (schema.h):
 * owner names it in messages.
 */
int mf_walk_map(struct mf_conv *c, const struct ynode *map,
                enum schema_section sec, const char *owner, void *obj);

/*
 * The converters the schema table's rows name (schema.h), one per
 * accepted key, by section. conv_container_* fill the container of a
 * service, a stub or a suite alike.
 */
schema_convert_fn conv_top_name, conv_top_strategy, conv_top_services,
        conv_top_volumes, conv_top_suites, conv_top_networks,
        conv_network_external, conv_network_name, conv_top_secrets,
        conv_top_configs, conv_xorch_allow_host, conv_top_mask;
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
schema_convert_fn conv_depends_condition, conv_depends_required;
schema_convert_fn conv_port_target, conv_port_published, conv_port_host_ip,
        conv_port_protocol;
schema_convert_fn conv_mount_type, conv_mount_source, conv_mount_target,
        conv_mount_read_only, conv_mount_bind, conv_mount_volume,
        conv_mount_tmpfs, conv_mount_image, conv_bind_propagation,
        conv_bind_create_host_path, conv_bind_selinux, conv_volopt_nocopy,
        conv_volopt_subpath, conv_tmpfsopt_size, conv_tmpfsopt_mode;

/* manifest_keys.c: the keys Compose passes to the engine as they are */
schema_convert_fn conv_container_label_file, conv_container_expose,
        conv_container_volumes_from, conv_container_secrets,
        conv_container_configs, conv_container_annotations,
        conv_service_profiles, conv_service_links, conv_container_networks,
        conv_container_hostname, conv_container_domainname,
        conv_container_extra_hosts, conv_container_dns,
        conv_container_dns_search, conv_container_dns_opt,
        conv_container_post_start, conv_container_pre_stop,
        conv_container_stop_signal, conv_container_read_only,
        conv_container_tty, conv_container_stdin_open, conv_container_restart,
        conv_container_platform, conv_container_runtime,
        conv_container_cap_drop, conv_container_security_opt,
        conv_container_group_add, conv_container_ulimits,
        conv_container_sysctls, conv_container_mem_limit,
        conv_container_memswap_limit, conv_container_mem_reservation,
        conv_container_mem_swappiness, conv_container_shm_size,
        conv_container_cpus, conv_container_cpu_shares,
        conv_container_cpu_period, conv_container_cpu_quota,
        conv_container_cpu_rt_period, conv_container_cpu_rt_runtime,
        conv_container_cpu_count, conv_container_cpu_percent,
        conv_container_cpuset, conv_container_pids_limit,
        conv_container_oom_score_adj, conv_container_oom_kill_disable,
        conv_container_blkio_config, conv_container_storage_opt,
        conv_container_cgroup_parent, conv_container_cgroup,
        conv_container_isolation, conv_container_deploy,
        conv_container_network_mode, conv_container_ipc, conv_container_pid,
        conv_container_uts, conv_container_userns_mode,
        conv_container_privileged, conv_container_cap_add,
        conv_container_devices, conv_container_device_cgroup_rules,
        conv_container_gpus;
schema_convert_fn conv_build_dockerfile_inline, conv_build_network,
        conv_build_extra_hosts, conv_build_additional_contexts,
        conv_build_labels, conv_build_secrets, conv_build_buildkit;
schema_convert_fn conv_svc_network_aliases, conv_secret_file,
        conv_secret_environment, conv_config_content, conv_file_ref_source,
        conv_file_ref_target, conv_file_ref_uid, conv_file_ref_gid,
        conv_file_ref_mode, conv_hook_command, conv_hook_user,
        conv_hook_working_dir, conv_hook_environment, conv_hook_privileged,
        conv_ulimit_soft, conv_ulimit_hard, conv_blkio_weight,
        conv_blkio_weight_device, conv_blkio_read_bps, conv_blkio_write_bps,
        conv_blkio_read_iops, conv_blkio_write_iops, conv_blkio_dev_path,
        conv_blkio_dev_rate, conv_blkio_dev_weight, conv_deploy_resources,
        conv_deploy_restart_policy, conv_resources_limits,
        conv_resources_reservations, conv_limits_cpus, conv_limits_memory,
        conv_limits_pids, conv_reserve_memory, conv_reserve_devices,
        conv_restart_condition, conv_restart_max_attempts,
        conv_gpu_capabilities, conv_gpu_count, conv_gpu_device_ids,
        conv_gpu_driver, conv_gpu_options;

/*
 * A key or value that gives the container a piece of the host (why):
 * an error unless x-orchestrate: {allow-host-privileges: true}, then a
 * warning.
 */
int mf_host_privilege(struct mf_conv *c, const struct ynode *at,
                      const char *what, const char *why);
/* A dependency Compose adds (links, volumes_from, ...), once. */
void mf_add_implicit_dep(struct mf_conv *c, struct mf_service *s,
                         const struct ynode *at, const char *target,
                         int names_container);
/* Top-level secrets (is_secret) or configs, into the manifest. */
int mf_load_secrets(struct mf_conv *c, const struct ynode *map, int is_secret);
/* A build context naming a service: resolved by mf_resolve_context_refs(). */
void mf_add_context_ref(struct mf_conv *c, const struct ynode *at,
                        struct mf_context *x);
int mf_resolve_context_refs(struct mf_conv *c);
/* After every service: links and the like as dependencies and aliases. */
int mf_resolve_refs(struct mf_conv *c);
/* The rules of a service's deploy: against the keys it duplicates. */
int mf_check_deploy(struct mf_conv *c, struct mf_unit *u);
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
/* A size: bytes, or 512m, 1.5g, 64k... (1024-based, as Compose). */
int mf_get_bytes(struct mf_conv *c, const struct ynode *n, const char *what,
                 int64_t *out);
/* A number with a fraction (cpus: 0.5). */
int mf_get_number(struct mf_conv *c, const struct ynode *n, const char *what,
                  double *out);
/* Microseconds, or a duration (cpu_period: 100ms). */
int mf_get_micros(struct mf_conv *c, const struct ynode *n, const char *what,
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
/*
 * An absolute path for p, written at node at: relative to that file's
 * directory (struct mf_file), ~ to HOME.
 */
char *mf_resolve_path(struct mf_conv *c, const struct ynode *at, const char *p);

/* Service, suite and volume names: letters, digits, '_', '.', '-'. */
int mf_valid_name(const char *s);
const char *mf_network_external(const struct mf_conv *c, const char *name);
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
