/*
 * labels.h: ownership of engine objects. Every container, network and
 * volume orchestrate creates carries these labels; `down` and `gc` work
 * from them alone and never touch an object without them.
 *
 * A run is one `up` (or `test`): it has a run id, and the names of its
 * objects include it, so two runs of one manifest on one engine never
 * collide. The owner labels name the process that created the run, so
 * `gc` can tell a run whose creator is gone.
 *
 * A pid names a process only within one PID namespace of one boot of one
 * kernel: the owner is host name, PID namespace (the inode of
 * /proc/self/ns/pid), boot id (/proc/sys/kernel/random/boot_id), pid and
 * the pid's start time. Only a process in our own namespace of our own
 * boot can be checked; anything else -- another host on the same engine,
 * a CI job in a container sharing the host's engine socket and hostname,
 * `unshare --pid` -- is "cannot tell", never "gone".
 */
#ifndef ORCH_LABELS_H
#define ORCH_LABELS_H

#include <stddef.h>

#define LABEL_PREFIX      "io.orchestrate."
#define LABEL_PROJECT     LABEL_PREFIX "project"
#define LABEL_RUN_ID      LABEL_PREFIX "run-id"
#define LABEL_ROLE        LABEL_PREFIX "role" /* see ROLE_* */
#define LABEL_SERVICE     LABEL_PREFIX "service"
#define LABEL_OWNER_HOST  LABEL_PREFIX "owner.host"
#define LABEL_OWNER_PID   LABEL_PREFIX "owner.pid"
#define LABEL_OWNER_START LABEL_PREFIX "owner.start"
#define LABEL_OWNER_PIDNS LABEL_PREFIX "owner.pidns" /* decimal inode */
#define LABEL_OWNER_BOOT  LABEL_PREFIX "owner.boot"  /* boot id */
#define LABEL_VERSION     LABEL_PREFIX "version"
/*
 * On the images a project builds (the value: the project), for `down
 * --rmi`. Not LABEL_PROJECT: a container inherits its image's labels, and
 * one started by hand from a built image must not look like the
 * project's to `down` and `gc`.
 */
#define LABEL_BUILT_BY LABEL_PREFIX "built-by"
/* on the keep marker: when `up` found every service ready (RFC 3339) */
#define LABEL_READY_AT LABEL_PREFIX "ready-at"
/* seconds; set only when the manifest gives a stop_grace_period */
#define LABEL_STOP_GRACE LABEL_PREFIX "stop-grace"

#define ROLE_SERVICE "service"
#define ROLE_STUB    "stub"
#define ROLE_SUITE   "suite"
#define ROLE_NETWORK "network"
#define ROLE_VOLUME  "volume"
/* a run whose `up` finished and whose objects are kept on purpose */
#define ROLE_KEEP "keep"

#define RUN_ID_LEN 12

/*
 * The process that owns a run: host name, PID namespace, boot id, pid and
 * the pid's start time (clock ticks since boot, from /proc/PID/stat) so a
 * reused pid is not mistaken for the owner. pidns and boot are "" when
 * unknown (labels written by older versions have neither; /proc not
 * mounted). pid_text and start_text hold pid and start as label values.
 */
struct run_owner {
	char host[256];
	long pid;
	unsigned long long start;
	char pidns[24];
	char boot[40];
	char pid_text[24];
	char start_text[24];
};

/* The calling process. */
int run_owner_self(struct run_owner *o);
/*
 * The owner recorded in labels (strings as read from an object; pidns,
 * boot and start may be NULL). ORCH_EINVALID without host or pid.
 */
int run_owner_parse(struct run_owner *o, const char *host, const char *pid,
                    const char *start, const char *pidns, const char *boot);

#define RUN_OWNER_NLABELS 5
struct engine_label;
/*
 * The owner labels of o (host, pid, start, pidns, boot; those known) into
 * l, which has room for RUN_OWNER_NLABELS; returns how many. The values
 * point into o, which must outlive l.
 */
size_t run_owner_labels(const struct run_owner *o, struct engine_label *l);

enum owner_state {
	OWNER_GONE,    /* ours to judge, and the process is gone */
	OWNER_ALIVE,   /* ours to judge, and it runs (or may: EPERM) */
	OWNER_UNKNOWN, /* cannot be judged from here: see why */
};

/*
 * Whether o still runs, judged from the calling process. OWNER_UNKNOWN,
 * with *why (may be NULL) saying why ("is in another PID namespace"),
 * when o is on another host, on another boot or another machine of that
 * name (the boot ids differ), in another PID namespace, or when its
 * labels have no PID namespace (an older orchestrate; unless that pid
 * runs here with that start time: OWNER_ALIVE). Only a pid of our own
 * namespace and boot is checked: gone, or started at another time (a
 * reused pid), is OWNER_GONE.
 */
enum owner_state run_owner_check(const struct run_owner *o, const char **why);

/* A new random run id: RUN_ID_LEN lower-case hex digits, NUL-terminated. */
void run_id_new(char id[RUN_ID_LEN + 1]);

/*
 * Project names, however they are given (-p, --project,
 * ORCHESTRATE_PROJECT, the manifest's name:): lower case letters, digits,
 * '-' and '_', starting with a letter or digit (Compose's rule). A name
 * goes into label values, label filters and object names unquoted, so
 * nothing else may pass.
 */
int project_name_valid(const char *name);
/*
 * 0, or ORCH_EINVALID with "invalid project name 'NAME' from FROM (lower
 * case letters, ...)"; from says where the name came from ("--project").
 */
int project_name_check(const char *name, const char *from);

#endif
