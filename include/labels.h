/*
 * labels.h: ownership of engine objects. Every container, network and
 * volume orchestrate creates carries these labels; `down` and `gc` work
 * from them alone and never touch an object without them.
 *
 * A run is one `up` (or `test`): it has a run id, and the names of its
 * objects include it, so two runs of one manifest on one engine never
 * collide. The owner labels name the process that created the run, so
 * `gc` can tell a run whose creator is gone.
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
#define LABEL_VERSION     LABEL_PREFIX "version"
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
 * The process that owns a run: host name, pid and the pid's start time
 * (clock ticks since boot, from /proc/PID/stat) so a reused pid is not
 * mistaken for the owner.
 */
struct run_owner {
	char host[256];
	long pid;
	unsigned long long start;
};

/* The calling process. */
int run_owner_self(struct run_owner *o);
/* The owner recorded in labels (strings as read from an object). */
int run_owner_parse(struct run_owner *o, const char *host, const char *pid,
                    const char *start);
/*
 * 1 if the owner may still be running: another host (we cannot tell), or
 * this host with that pid alive and started at that time; 0 if gone.
 */
int run_owner_alive(const struct run_owner *o);

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
