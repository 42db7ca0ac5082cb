/*
 * gate.h: what env.c needs to run a service behind orchestrate-gate
 * (src/gate/gate.c): the argv Docker would run, and the host directory a
 * run's gated containers bind-mount read-only at GATE_MOUNT. It holds the
 * gate program and, once a service's dependencies hold, the empty file
 * that releases it ("go.<service>"): the release is a local file create,
 * no engine call.
 */
#ifndef ORCH_GATE_H
#define ORCH_GATE_H

#include <stddef.h>

#include "util.h"

#define GATE_MOUNT "/.orchestrate"
#define GATE_PATH  "/.orchestrate/gate"

/*
 * The argv Docker would run for a container, into out (appended): the
 * manifest's entrypoint when given (has_entrypoint; it may be empty) --
 * which drops the image's Cmd, as Docker and Compose do -- else the
 * image's Entrypoint, followed by the manifest's command when non-empty,
 * else the image's Cmd.
 */
void gate_real_argv(struct strvec *out, int has_entrypoint,
                    const struct strvec *entrypoint,
                    const struct strvec *command,
                    const struct strvec *image_entrypoint,
                    const struct strvec *image_cmd);

/*
 * Where the gate directories live: $ORCHESTRATE_GATE_DIR, else
 * $XDG_RUNTIME_DIR/orchestrate, else /tmp/orchestrate-UID. Allocated.
 */
char *gate_base(void);

/* The gate directory of a run: "<base>/<project>-<run_id>". Allocated. */
char *gate_dir(const char *project, const char *run_id);

/*
 * Create the run's gate directory (0755; the base 0700, made when missing
 * and refused unless it is an absolute path to a directory of ours, not a
 * symlink, not writable by group or others) and the gate program in it
 * (0755). ORCH_EUNSUPPORTED when the base is not usable (relative, not
 * ours, writable by others, on a noexec filesystem), ORCH_ERROR on other
 * failures.
 */
int gate_dir_create(const char *dir, const void *gate, size_t len);

/* What the gate of service waits for, in the container. Allocated. */
char *gate_go_path(const char *service);

/* Release service's gate: create <dir>/go.<service> (existing is fine). */
int gate_release(const char *dir, const char *service);
/* Before a gated create: no go file of an earlier container of service. */
int gate_unrelease(const char *dir, const char *service);

/*
 * Remove the gate directories of project's run run_id, or of every run of
 * project when run_id is NULL; returns how many. Only directories named
 * exactly "<project>-<12 hex digits>" are touched, and in them only
 * regular files.
 */
size_t gate_dirs_remove(const char *project, const char *run_id);

/*
 * The gate program: next to the orchestrate executable (installed or
 * built), else at build_path (the build tree, for test programs).
 * ORCH_ENOTFOUND when neither has it.
 */
int gate_program_read(const char *build_path, struct buf *bin);

#endif
