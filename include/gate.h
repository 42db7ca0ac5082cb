/*
 * gate.h: what env.c needs to run a service behind orchestrate-gate
 * (src/gate/gate.c): the argv Docker would run, and the archives copied
 * into the container. Pure functions, exposed for tests.
 */
#ifndef ORCH_GATE_H
#define ORCH_GATE_H

#include <stddef.h>

#include "util.h"

#define GATE_DIR  "/.orchestrate"
#define GATE_PATH "/.orchestrate/gate"
#define GATE_GO   "/.orchestrate/go"

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

/* The tar holding .orchestrate/gate (0755, uid/gid 0) with data. */
int gate_tar(struct buf *out, const void *data, size_t len);
/* The tar holding the empty .orchestrate/go that releases the gate. */
int gate_go_tar(struct buf *out);

#endif
