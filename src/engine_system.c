/*
 * engine_system.c: what the engine says about itself -- GET /version
 * (`orchestrate version`, Podman detection) and GET /info (its CPUs, for
 * how many container starts to keep in flight).
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "error.h"

int engine_version(struct engine *e, struct engine_version *v)
{
	struct engine_call *c = engine_call_simple(e, "GET", "/version", NULL,
	                                           0, 0, NULL, NULL);
	cJSON *j = NULL, *comp, *it;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = engine_call_run(e, c);
	if (rc == 0)
		rc = ej_parse(c, &j);
	if (rc)
		goto out;
	v->version = ej_dup(j, "Version");
	v->api_version = ej_dup(j, "ApiVersion");
	v->min_api_version = ej_dup(j, "MinAPIVersion");
	v->os = ej_dup(j, "Os");
	v->arch = ej_dup(j, "Arch");
	comp = ej_obj(j, "Components");
	cJSON_ArrayForEach(it, comp)
	{
		const char *n = ej_str(it, "Name");

		if (n && strstr(n, "Podman"))
			v->is_podman = 1;
	}
out:
	cJSON_Delete(j);
	engine_call_free(c);
	return rc;
}

void engine_version_release(struct engine_version *v)
{
	if (!v)
		return;
	free(v->version);
	free(v->api_version);
	free(v->min_api_version);
	free(v->os);
	free(v->arch);
	memset(v, 0, sizeof(*v));
}

struct engine_call *engine_info_start(struct engine *e, engine_done_fn done,
                                      void *ud)
{
	return engine_call_simple(e, "GET", "/info", NULL, 0, 0, done, ud);
}

int engine_info_result(const struct engine_call *c, struct engine_info *info)
{
	cJSON *j = NULL;
	const char *name;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = engine_call_rc(c);
	if (rc == 0)
		rc = ej_parse(c, &j);
	if (rc)
		goto out;
	info->ncpu = ej_int(j, "NCPU", 0);
	info->mem_total = (int64_t)ej_num(j, "MemTotal", 0, 9.2e18, 0);
	info->server_version = ej_dup(j, "ServerVersion");
	info->os_type = ej_dup(j, "OSType");
	info->arch = ej_dup(j, "Architecture");
	name = ej_str(j, "OperatingSystem");
	/* Podman's compat API answers /info in Docker's shape */
	info->is_podman =
	        ej_obj(j, "host") != NULL || (name && strstr(name, "podman"));
out:
	cJSON_Delete(j);
	return rc;
}

int engine_info(struct engine *e, struct engine_info *info)
{
	struct engine_call *c = engine_info_start(e, NULL, NULL);
	int rc;

	engine_call_run(e, c);
	rc = engine_info_result(c, info);
	engine_call_free(c);
	return rc;
}

void engine_info_release(struct engine_info *info)
{
	if (!info)
		return;
	free(info->server_version);
	free(info->os_type);
	free(info->arch);
	memset(info, 0, sizeof(*info));
}
