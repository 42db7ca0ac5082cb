/*
 * real-engine.h: how the C tests against the real engine begin. With
 * ORCHESTRATE_NO_ENGINE=1 they skip (TAP "1..0 # SKIP": meson counts it
 * as skipped, not passed); otherwise no engine is a failure.
 */
#ifndef ORCH_TEST_REAL_ENGINE_H
#define ORCH_TEST_REAL_ENGINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_ops.h"
#include "error.h"

/*
 * Connect *e to the engine of the environment. 0: connected; otherwise
 * the plan line or "Bail out!" is printed and main() returns what this
 * returns, minus one (0 for the skip, 1 for no engine).
 */
static inline int real_engine(struct engine **e)
{
	const char *no = getenv("ORCHESTRATE_NO_ENGINE");

	if (no && !strcmp(no, "1")) {
		printf("1..0 # SKIP ORCHESTRATE_NO_ENGINE=1\n");
		return 1;
	}
	if (engine_new(e, NULL) || engine_connect(*e)) {
		printf("Bail out! no engine: %s (set ORCHESTRATE_NO_ENGINE=1 "
		       "to skip)\n",
		       orch_error_last());
		return 2;
	}
	return 0;
}

#endif
