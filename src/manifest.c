/* manifest.c: placeholder until the manifest loader lands. */
#include "manifest.h"

#include <stdlib.h>

#include "error.h"

int manifest_load(const char *path, struct strvec *warnings,
                  struct manifest **out)
{
	(void)path;
	(void)warnings;
	*out = NULL;
	return orch_error_code(ORCH_EINVALID,
	                       "manifest loader not implemented yet");
}

void manifest_free(struct manifest *m)
{
	(void)m;
}

int manifest_discover(const char *explicit_path, char **path)
{
	(void)explicit_path;
	*path = NULL;
	return orch_error_code(ORCH_ENOTFOUND, "no manifest found");
}

int manifest_project_name(const struct manifest *m, const char *explicit_name,
                          char **name)
{
	(void)m;
	*name = xstrdup(explicit_name ? explicit_name : "default");
	return 0;
}
