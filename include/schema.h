/*
 * schema.h: the manifest schema as one declarative table (tmux's
 * options-table.c): every key of every mapping, with its type, whether
 * it is required, its default, what orchestrate does with it and a help
 * line.
 *
 * manifest_walk.c walks the YAML with it: a key not in the table is an
 * error with a "did you mean" from the same table, a key marked SU_WARN
 * is accepted and ignored with a warning, SU_REJECT is an error carrying
 * the help text as the reason, the type decides the shapes accepted, and
 * an SU_ACCEPT key's value goes to the converter its row names -- the
 * only place that knows what the key fills. docs/manifest.md, the
 * manifest reference, follows the table. The table is static data;
 * nothing here allocates.
 *
 * Adding a key: one row here, one converter in manifest_walk.c (declared
 * in manifest_int.h); a rule that ties it to another key goes into that
 * mapping's rules in manifest_check.c, which run after all its keys.
 */
#ifndef ORCH_SCHEMA_H
#define ORCH_SCHEMA_H

#include <stddef.h>

/*
 * Which mapping a key belongs to, and (after the colon) the object its
 * converters fill.
 */
enum schema_section {
	SEC_TOP,         /* the document: the walk's own */
	SEC_SERVICE,     /* services.NAME, its stub: struct mf_unit */
	SEC_BUILD,       /* build: {...}: struct mf_build */
	SEC_HEALTHCHECK, /* healthcheck: {...}: struct mf_healthcheck */
	SEC_DEPENDS,     /* depends_on: {NAME: {...}}: enum mf_condition */
	SEC_PORT,        /* ports: [{target: ...}]: struct mf_port */
	SEC_MOUNT,       /* volumes: [{type: ...}] in a service: mf_mount */
	SEC_ENV_FILE,    /* env_file: [{path: ...}]: the walk's own */
	SEC_READY,       /* ready: {...}: struct mf_ready */
	SEC_HTTP,        /* ready: {http: {...}}: struct mf_ready */
	SEC_SUITE,       /* suites.NAME: struct mf_unit */
	SEC_VOLUME,      /* volumes.NAME at the top level: none */
	SEC_XORCH,       /* x-orchestrate: the manifest */
	SEC_NETWORK,     /* networks.NAME at the top level: none */
	SEC_SECRET,      /* secrets.NAME at the top level: mf_secret */
	SEC_CONFIG,      /* configs.NAME at the top level: mf_secret */
	SEC_SVC_NETWORK, /* networks: {NAME: {...}} in a service: mf_unit */
	SEC_FILE_REF,  /* secrets: and configs: [{source: ...}]: mf_file_ref */
	SEC_HOOK,      /* post_start:, pre_stop: [{command: ...}]: mf_hook */
	SEC_ULIMIT,    /* ulimits: {NAME: {soft, hard}}: mf_ulimit */
	SEC_BLKIO,     /* blkio_config: mf_resources */
	SEC_BLKIO_DEV, /* blkio_config: device lists: mf_blkio_device */
	SEC_DEPLOY,    /* deploy: mf_unit */
	SEC_RESOURCES, /* deploy: resources: mf_unit */
	SEC_LIMITS,    /* deploy: resources: limits: mf_unit */
	SEC_RESERVE,   /* deploy: resources: reservations: mf_unit */
	SEC_RESTART,   /* deploy: restart_policy: struct restart_policy */
	SEC_BIND,      /* volumes: [{bind: ...}]: mf_mount */
	SEC_VOLOPT,    /* volumes: [{volume: ...}]: mf_mount */
	SEC_TMPFSOPT,  /* volumes: [{tmpfs: ...}]: mf_mount */
	SEC_IMAGEOPT,  /* volumes: [{image: ...}]: mf_mount */
	SEC_GPU,       /* gpus: [{...}], reservations devices: mf_unit */
	SEC__COUNT
};

/* The YAML shapes a key's value may take. */
enum schema_type {
	ST_ANY,      /* not looked at (ignored keys) */
	ST_STRING,   /* a scalar, read as a string */
	ST_INT,      /* a scalar integer */
	ST_BOOL,     /* true or false */
	ST_DURATION, /* a Compose duration (1m30s) or a number of seconds */
	ST_PORT,     /* an integer in 1-65535 */
	ST_MAP,      /* a mapping */
	ST_LIST,     /* a sequence */
	ST_STRINGS,  /* a string or a sequence of strings */
	ST_KVS,      /* a mapping, or a sequence of KEY=VALUE */
	ST_COMMAND,  /* a string (split like a shell would) or a sequence */
	ST_STR_MAP,  /* a string or a mapping */
	ST_INT_MAP,  /* an integer or a mapping */
	ST_LIST_MAP, /* a sequence or a mapping */
};

/* What orchestrate does with a key. */
enum schema_use {
	SU_ACCEPT, /* used */
	SU_QUIET,  /* accepted and ignored without a word (version:) */
	SU_WARN,   /* accepted, ignored, with a warning giving the help */
	SU_REJECT, /* an error giving the help as the reason */
};

#define SCHEMA_REQUIRED 0x1
/*
 * The key gives the container a piece of the host (privileged, cap_add,
 * devices, ...): refused unless x-orchestrate: {allow-host-privileges:
 * true}, and then a warning on every load (docs/manifest.md, "Host
 * privileges").
 */
#define SCHEMA_HOST 0x2

struct mf_conv;
struct ynode;

/*
 * Reads the value v of key k into obj (the section's object, above).
 * It sees its own key alone: v is not null and has a shape the type
 * allows; what it may hold given the mapping's other keys is checked
 * after the mapping. 0, or ORCH_EINVALID with the message recorded.
 */
typedef int schema_convert_fn(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v);

struct schema_key {
	enum schema_section section;
	const char *key;
	enum schema_type type;
	unsigned flags;
	enum schema_use use;
	const char *def;  /* the default as a manifest would write it */
	const char *help; /* the reason for SU_WARN/SU_REJECT, or NULL */
	schema_convert_fn *convert; /* SU_ACCEPT keys; NULL for the others */
};

/* The whole table (for docs and the required-key check). */
const struct schema_key *schema_table(size_t *n);

/* The entry for key in section, or NULL when the key is unknown. */
const struct schema_key *schema_find(enum schema_section section,
                                     const char *key);

/*
 * The known key of section closest to key, when close enough to be a
 * plausible typo; NULL otherwise. Never an SU_REJECT key.
 */
const char *schema_suggest(enum schema_section section, const char *key);

/* "a string", "a string or a sequence", ... for messages. */
const char *schema_type_name(enum schema_type type);

#endif
