/*
 * fuzz-manifest.c: libFuzzer target for the manifest loader.
 *
 * Any input must come back as a manifest or an error, within the limits
 * (size, depth, aliases, nodes), without crashing or leaking. Variables
 * come from a fixed table, never the fuzzing machine's environment, so a
 * crash reproduces anywhere. Relative paths (build contexts, env_file)
 * resolve against a directory that does not exist.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "manifest.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_env(const char *name)
{
	if (!strcmp(name, "A"))
		return "a";
	if (!strcmp(name, "EMPTY"))
		return "";
	if (!strcmp(name, "PORT"))
		return "8080";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strvec warnings = STRVEC_INIT;
	struct manifest *m = NULL;

	if (manifest_load_buffer("/nonexistent/fuzz/orchestrate.yaml",
	                         (const char *)data, size, fuzz_env, &warnings,
	                         &m) == 0) {
		/* the model must be usable as promised */
		for (size_t i = 0; i < m->nservices; i++)
			for (size_t d = 0; d < m->services[i].ndeps; d++)
				if (m->services[i].deps[d].index >=
				    m->nservices)
					__builtin_trap();
		for (size_t i = 0; i < m->nsuites; i++)
			for (size_t t = 0; t < m->suites[i].targets.n; t++)
				if (m->suites[i].target_index[t] >=
				    m->nservices)
					__builtin_trap();
	}
	manifest_free(m);
	strvec_clear(&warnings);
	return 0;
}
