/* engine.c: placeholder until the engine client lands. */
#include "engine.h"

#include <stdlib.h>

#include "error.h"

int engine_new(struct engine **out, const struct engine_opts *opts)
{
	(void)opts;
	*out = NULL;
	return orch_error_set("engine client not implemented yet");
}

void engine_free(struct engine *e)
{
	(void)e;
}

int engine_connect(struct engine *e)
{
	(void)e;
	return orch_error_set("engine client not implemented yet");
}
