/*
 * schema.c: the manifest schema table (see schema.h).
 *
 * Only data and lookups: converting values into the model is the job of
 * the converters each row names (manifest_walk.c), which is why the
 * types here describe YAML shapes, not struct fields.
 */
#include "schema.h"

#include <string.h>

#include "manifest_int.h"
#include "util.h"

#define K(sec, key, type, flags, use, def, help, convert)                      \
	{                                                                      \
		sec, key, type, flags, use, def, help, convert                 \
	}
#define REQ SCHEMA_REQUIRED

static const struct schema_key table[] = {
	/* the document */
	K(SEC_TOP, "version", ST_ANY, 0, SU_QUIET, NULL,
	  "accepted for Compose files and ignored", NULL),
	K(SEC_TOP, "name", ST_STRING, 0, SU_ACCEPT, "the directory's name",
	  "project name (-p and ORCHESTRATE_PROJECT override it)",
	  conv_top_name),
	K(SEC_TOP, "strategy", ST_STRING, 0, SU_ACCEPT, NULL,
	  "big-bang, incremental, bottom-up, top-down or sandwich",
	  conv_top_strategy),
	K(SEC_TOP, "services", ST_MAP, REQ, SU_ACCEPT, NULL,
	  "the services, by name", conv_top_services),
	K(SEC_TOP, "volumes", ST_MAP, 0, SU_ACCEPT, NULL,
	  "named volumes, created per run", conv_top_volumes),
	K(SEC_TOP, "suites", ST_MAP, 0, SU_ACCEPT, NULL, "test suites, by name",
	  conv_top_suites),
	K(SEC_TOP, "mask", ST_STRINGS, 0, SU_ACCEPT, NULL,
	  "variables whose values are masked in every output, whatever "
	  "their names",
	  conv_top_mask),
	K(SEC_TOP, "networks", ST_ANY, 0, SU_WARN, NULL,
	  "every run gets its own network", NULL),
	K(SEC_TOP, "configs", ST_ANY, 0, SU_REJECT, NULL,
	  "mount files with 'volumes'", NULL),
	K(SEC_TOP, "secrets", ST_ANY, 0, SU_REJECT, NULL,
	  "pass secrets in 'environment'", NULL),
	K(SEC_TOP, "include", ST_ANY, 0, SU_REJECT, NULL, "use one manifest",
	  NULL),

	/* a service, and a stub (which may not have depends_on or stub) */
	K(SEC_SERVICE, "image", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the image to run", conv_container_image),
	K(SEC_SERVICE, "build", ST_STR_MAP, 0, SU_ACCEPT, NULL,
	  "a context directory, or {context, dockerfile, args, target}",
	  conv_container_build),
	K(SEC_SERVICE, "command", ST_COMMAND, 0, SU_ACCEPT, "the image's",
	  "a list, or a string split like a shell would (no shell runs)",
	  conv_container_command),
	K(SEC_SERVICE, "entrypoint", ST_COMMAND, 0, SU_ACCEPT, "the image's",
	  "a list, or a string split like a shell would (no shell runs)",
	  conv_container_entrypoint),
	K(SEC_SERVICE, "environment", ST_KVS, 0, SU_ACCEPT, NULL,
	  "a mapping, or a list of KEY=VALUE", conv_container_environment),
	K(SEC_SERVICE, "env_file", ST_ANY, 0, SU_ACCEPT, NULL,
	  "KEY=VALUE files, relative to the manifest", conv_container_env_file),
	K(SEC_SERVICE, "ports", ST_LIST, 0, SU_ACCEPT, NULL,
	  "published ports; on 127.0.0.1 with an ephemeral port by default",
	  conv_container_ports),
	K(SEC_SERVICE, "volumes", ST_LIST, 0, SU_ACCEPT, NULL,
	  "named volumes and bind mounts", conv_container_volumes),
	K(SEC_SERVICE, "tmpfs", ST_STRINGS, 0, SU_ACCEPT, NULL,
	  "tmpfs mount points", conv_container_tmpfs),
	K(SEC_SERVICE, "user", ST_STRING, 0, SU_ACCEPT, "the image's",
	  "user[:group]", conv_container_user),
	K(SEC_SERVICE, "working_dir", ST_STRING, 0, SU_ACCEPT, "the image's",
	  "working directory", conv_container_working_dir),
	K(SEC_SERVICE, "labels", ST_KVS, 0, SU_ACCEPT, NULL,
	  "extra container labels", conv_container_labels),
	K(SEC_SERVICE, "healthcheck", ST_MAP, 0, SU_ACCEPT, "the image's",
	  "a Docker healthcheck", conv_container_healthcheck),
	K(SEC_SERVICE, "depends_on", ST_LIST_MAP, 0, SU_ACCEPT, NULL,
	  "a list (service_started) or a mapping with conditions",
	  conv_service_depends_on),
	K(SEC_SERVICE, "stop_grace_period", ST_DURATION, 0, SU_ACCEPT,
	  "0 (killed at once)", "time between SIGTERM and SIGKILL",
	  conv_container_stop_grace_period),
	K(SEC_SERVICE, "init", ST_BOOL, 0, SU_ACCEPT, "false",
	  "run an init process as PID 1", conv_container_init),
	K(SEC_SERVICE, "ready", ST_MAP, 0, SU_ACCEPT, NULL,
	  "readiness probes: tcp, http, exec, log, timeout",
	  conv_container_ready),
	K(SEC_SERVICE, "stub", ST_MAP, 0, SU_ACCEPT, NULL,
	  "a stand-in for the service (no depends_on)", conv_service_stub),
	K(SEC_SERVICE, "container_name", ST_ANY, 0, SU_WARN, NULL,
	  "container names are unique per run", NULL),
	K(SEC_SERVICE, "restart", ST_ANY, 0, SU_WARN, NULL,
	  "services are never restarted: one that exits fails the run", NULL),
	K(SEC_SERVICE, "networks", ST_ANY, 0, SU_WARN, NULL,
	  "every run has one network; services reach each other by name", NULL),
	K(SEC_SERVICE, "links", ST_ANY, 0, SU_WARN, NULL,
	  "services reach each other by name", NULL),
	K(SEC_SERVICE, "external_links", ST_ANY, 0, SU_WARN, NULL,
	  "services reach each other by name", NULL),
	K(SEC_SERVICE, "hostname", ST_ANY, 0, SU_WARN, NULL,
	  "services are reached by their name", NULL),
	K(SEC_SERVICE, "domainname", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "expose", ST_ANY, 0, SU_WARN, NULL,
	  "every port is reachable on the run network", NULL),
	K(SEC_SERVICE, "platform", ST_ANY, 0, SU_WARN, NULL,
	  "the engine's platform is used", NULL),
	K(SEC_SERVICE, "pull_policy", ST_ANY, 0, SU_WARN, NULL,
	  "images are pulled only when missing", NULL),
	K(SEC_SERVICE, "logging", ST_ANY, 0, SU_WARN, NULL,
	  "orchestrate reads the logs itself", NULL),
	K(SEC_SERVICE, "deploy", ST_ANY, 0, SU_WARN, NULL,
	  "one container per service", NULL),
	K(SEC_SERVICE, "scale", ST_ANY, 0, SU_WARN, NULL,
	  "one container per service", NULL),
	K(SEC_SERVICE, "profiles", ST_ANY, 0, SU_WARN, NULL,
	  "every service is part of the environment", NULL),
	K(SEC_SERVICE, "extra_hosts", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "dns", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "dns_search", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "ulimits", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "mem_limit", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "mem_reservation", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "cpus", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "cpu_shares", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "shm_size", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "stdin_open", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "tty", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "sysctls", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "stop_signal", ST_ANY, 0, SU_WARN, NULL,
	  "services get SIGTERM", NULL),
	K(SEC_SERVICE, "security_opt", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "read_only", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "cap_drop", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "group_add", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_SERVICE, "secrets", ST_ANY, 0, SU_WARN, NULL,
	  "pass secrets in 'environment'", NULL),
	K(SEC_SERVICE, "configs", ST_ANY, 0, SU_WARN, NULL,
	  "mount files with 'volumes'", NULL),
	K(SEC_SERVICE, "privileged", ST_ANY, 0, SU_REJECT, NULL,
	  "privileged containers are refused", NULL),
	K(SEC_SERVICE, "cap_add", ST_ANY, 0, SU_REJECT, NULL,
	  "adding capabilities is refused", NULL),
	K(SEC_SERVICE, "devices", ST_ANY, 0, SU_REJECT, NULL,
	  "host devices are not passed to containers", NULL),
	K(SEC_SERVICE, "network_mode", ST_ANY, 0, SU_REJECT, NULL,
	  "services share the run's own network", NULL),
	K(SEC_SERVICE, "pid", ST_ANY, 0, SU_REJECT, NULL,
	  "sharing a pid namespace is refused", NULL),
	K(SEC_SERVICE, "ipc", ST_ANY, 0, SU_REJECT, NULL,
	  "sharing an ipc namespace is refused", NULL),
	K(SEC_SERVICE, "userns_mode", ST_ANY, 0, SU_REJECT, NULL,
	  "sharing a user namespace is refused", NULL),
	K(SEC_SERVICE, "volumes_from", ST_ANY, 0, SU_REJECT, NULL,
	  "use a named volume", NULL),
	K(SEC_SERVICE, "extends", ST_ANY, 0, SU_REJECT, NULL,
	  "use x- anchors and '<<' merge keys", NULL),

	K(SEC_BUILD, "context", ST_STRING, 0, SU_ACCEPT, ".",
	  "directory, relative to the manifest", conv_build_context),
	K(SEC_BUILD, "dockerfile", ST_STRING, 0, SU_ACCEPT, "Dockerfile",
	  "relative to the context", conv_build_dockerfile),
	K(SEC_BUILD, "args", ST_KVS, 0, SU_ACCEPT, NULL, "build arguments",
	  conv_build_args),
	K(SEC_BUILD, "target", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the stage to build", conv_build_target),
	K(SEC_BUILD, "labels", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "cache_from", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "cache_to", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "network", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "shm_size", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "extra_hosts", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "platforms", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "tags", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "no_cache", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "pull", ST_ANY, 0, SU_WARN, NULL, NULL, NULL),
	K(SEC_BUILD, "ssh", ST_ANY, 0, SU_REJECT, NULL,
	  "no ssh forwarding into builds", NULL),
	K(SEC_BUILD, "secrets", ST_ANY, 0, SU_REJECT, NULL, "no build secrets",
	  NULL),
	K(SEC_BUILD, "dockerfile_inline", ST_ANY, 0, SU_REJECT, NULL,
	  "write a Dockerfile", NULL),

	K(SEC_HEALTHCHECK, "test", ST_COMMAND, 0, SU_ACCEPT, NULL,
	  "[CMD, ...], [CMD-SHELL, s], [NONE], or a string (CMD-SHELL)",
	  conv_health_test),
	K(SEC_HEALTHCHECK, "interval", ST_DURATION, 0, SU_ACCEPT, "30s",
	  "between checks", conv_health_interval),
	K(SEC_HEALTHCHECK, "timeout", ST_DURATION, 0, SU_ACCEPT, "30s",
	  "of one check", conv_health_timeout),
	K(SEC_HEALTHCHECK, "start_period", ST_DURATION, 0, SU_ACCEPT, "0s",
	  "failures in it do not count", conv_health_start_period),
	K(SEC_HEALTHCHECK, "retries", ST_INT, 0, SU_ACCEPT, "3",
	  "failures before unhealthy", conv_health_retries),
	K(SEC_HEALTHCHECK, "disable", ST_BOOL, 0, SU_ACCEPT, "false",
	  "turn the image's healthcheck off", conv_health_disable),
	K(SEC_HEALTHCHECK, "start_interval", ST_ANY, 0, SU_WARN, NULL,
	  "older engines drop it silently", NULL),

	K(SEC_DEPENDS, "condition", ST_STRING, 0, SU_ACCEPT, "service_started",
	  "service_started, service_healthy or "
	  "service_completed_successfully",
	  conv_depends_condition),
	K(SEC_DEPENDS, "restart", ST_BOOL, 0, SU_QUIET, NULL,
	  "accepted and ignored (services are never restarted)", NULL),
	K(SEC_DEPENDS, "required", ST_BOOL, 0, SU_QUIET, NULL,
	  "accepted and ignored (every dependency must be defined)", NULL),

	K(SEC_PORT, "target", ST_PORT, REQ, SU_ACCEPT, NULL,
	  "the container port", conv_port_target),
	K(SEC_PORT, "published", ST_STRING, 0, SU_ACCEPT, "ephemeral",
	  "the host port", conv_port_published),
	K(SEC_PORT, "host_ip", ST_STRING, 0, SU_ACCEPT, "127.0.0.1",
	  "the host address", conv_port_host_ip),
	K(SEC_PORT, "protocol", ST_STRING, 0, SU_ACCEPT, "tcp", "tcp or udp",
	  conv_port_protocol),
	K(SEC_PORT, "mode", ST_ANY, 0, SU_QUIET, NULL, "accepted, ignored",
	  NULL),
	K(SEC_PORT, "name", ST_ANY, 0, SU_QUIET, NULL, "accepted, ignored",
	  NULL),
	K(SEC_PORT, "app_protocol", ST_ANY, 0, SU_QUIET, NULL,
	  "accepted, ignored", NULL),

	K(SEC_MOUNT, "type", ST_STRING, REQ, SU_ACCEPT, NULL,
	  "volume, bind or tmpfs", conv_mount_type),
	K(SEC_MOUNT, "source", ST_STRING, 0, SU_ACCEPT, NULL,
	  "a declared volume, or a host path (relative to the manifest)",
	  conv_mount_source),
	K(SEC_MOUNT, "target", ST_STRING, REQ, SU_ACCEPT, NULL,
	  "the path in the container", conv_mount_target),
	K(SEC_MOUNT, "read_only", ST_BOOL, 0, SU_ACCEPT, "false",
	  "mount read-only", conv_mount_read_only),
	K(SEC_MOUNT, "volume", ST_ANY, 0, SU_QUIET, NULL, "accepted, ignored",
	  NULL),
	K(SEC_MOUNT, "bind", ST_ANY, 0, SU_QUIET, NULL, "accepted, ignored",
	  NULL),
	K(SEC_MOUNT, "tmpfs", ST_ANY, 0, SU_QUIET, NULL, "accepted, ignored",
	  NULL),
	K(SEC_MOUNT, "consistency", ST_ANY, 0, SU_QUIET, NULL,
	  "accepted, ignored", NULL),

	K(SEC_ENV_FILE, "path", ST_STRING, REQ, SU_ACCEPT, NULL,
	  "relative to the manifest", conv_env_file_path),
	K(SEC_ENV_FILE, "required", ST_BOOL, 0, SU_ACCEPT, "true",
	  "a missing file is an error", conv_env_file_required),
	K(SEC_ENV_FILE, "format", ST_ANY, 0, SU_QUIET, NULL,
	  "accepted, ignored", NULL),

	K(SEC_READY, "tcp", ST_PORT, 0, SU_ACCEPT, NULL,
	  "a port that accepts connections", conv_ready_tcp),
	K(SEC_READY, "http", ST_INT_MAP, 0, SU_ACCEPT, NULL,
	  "a port, or {port, path, status}", conv_ready_http),
	K(SEC_READY, "exec", ST_COMMAND, 0, SU_ACCEPT, NULL,
	  "a command run in the container that exits 0", conv_ready_exec),
	K(SEC_READY, "log", ST_STRING, 0, SU_ACCEPT, NULL,
	  "an extended regular expression matched on the output",
	  conv_ready_log),
	K(SEC_READY, "timeout", ST_DURATION, 0, SU_ACCEPT, "60s",
	  "how long to wait for readiness", conv_ready_timeout),

	K(SEC_HTTP, "port", ST_PORT, REQ, SU_ACCEPT, NULL, "container port",
	  conv_http_port),
	K(SEC_HTTP, "path", ST_STRING, 0, SU_ACCEPT, "/", "request path",
	  conv_http_path),
	K(SEC_HTTP, "status", ST_INT, 0, SU_ACCEPT, "200", "expected status",
	  conv_http_status),

	K(SEC_SUITE, "targets", ST_LIST, REQ, SU_ACCEPT, NULL,
	  "the services the suite integrates", conv_suite_targets),
	K(SEC_SUITE, "image", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the image to run the suite in", conv_container_image),
	K(SEC_SUITE, "build", ST_STR_MAP, 0, SU_ACCEPT, NULL,
	  "a context directory, or {context, dockerfile, args, target}",
	  conv_container_build),
	K(SEC_SUITE, "host", ST_BOOL, 0, SU_ACCEPT, "false",
	  "run on the host instead of in a container", conv_suite_host),
	K(SEC_SUITE, "command", ST_COMMAND, 0, SU_ACCEPT, "the image's",
	  "a list, or a string split like a shell would", conv_suite_command),
	K(SEC_SUITE, "environment", ST_KVS, 0, SU_ACCEPT, NULL,
	  "a mapping, or a list of KEY=VALUE", conv_container_environment),
	K(SEC_SUITE, "working_dir", ST_STRING, 0, SU_ACCEPT, NULL,
	  "working directory", conv_container_working_dir),
	K(SEC_SUITE, "user", ST_STRING, 0, SU_ACCEPT, NULL, "user[:group]",
	  conv_container_user),
	K(SEC_SUITE, "timeout", ST_DURATION, 0, SU_ACCEPT, "10m",
	  "for one attempt", conv_suite_timeout),
	K(SEC_SUITE, "retries", ST_INT, 0, SU_ACCEPT, "0",
	  "extra attempts after a failure", conv_suite_retries),
	K(SEC_SUITE, "artifacts", ST_STRINGS, 0, SU_ACCEPT, NULL,
	  "paths copied out after the run (JUnit files are merged)",
	  conv_suite_artifacts),
	K(SEC_SUITE, "tags", ST_STRINGS, 0, SU_ACCEPT, NULL, "free-form labels",
	  conv_suite_tags),

	K(SEC_VOLUME, "external", ST_ANY, 0, SU_REJECT, NULL,
	  "every run creates its own volumes", NULL),
	K(SEC_VOLUME, "driver", ST_ANY, 0, SU_WARN, NULL,
	  "volumes use the engine's default driver", NULL),
	K(SEC_VOLUME, "driver_opts", ST_ANY, 0, SU_WARN, NULL,
	  "volumes use the engine's default driver", NULL),
	K(SEC_VOLUME, "labels", ST_ANY, 0, SU_WARN, NULL,
	  "orchestrate labels its volumes itself", NULL),
	K(SEC_VOLUME, "name", ST_ANY, 0, SU_WARN, NULL,
	  "volume names are unique per run", NULL),
};

const struct schema_key *schema_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct schema_key *schema_find(enum schema_section section,
                                     const char *key)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].section == section && table[i].key[0] == key[0] &&
		    !strcmp(table[i].key, key))
			return &table[i];
	return NULL;
}

/* One adjacent transposition ("tpc" for "tcp") is one typo, not two. */
static int swapped(const char *a, const char *b)
{
	size_t i = 0;

	if (strlen(a) != strlen(b))
		return 0;
	while (a[i] && a[i] == b[i])
		i++;
	return a[i] && a[i + 1] && a[i] == b[i + 1] && a[i + 1] == b[i] &&
	       !strcmp(a + i + 2, b + i + 2);
}

const char *schema_suggest(enum schema_section section, const char *key)
{
	size_t len = strlen(key), best = (size_t)-1, limit;
	const char *found = NULL;

	/* a third of the word, at least one edit and at most three */
	limit = len / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	if (len > 64)
		return NULL;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t d;

		if (table[i].section != section || table[i].use == SU_REJECT)
			continue;
		d = swapped(key, table[i].key) ? 1
		                               : levenshtein(key, table[i].key);
		if (d < best) {
			best = d;
			found = table[i].key;
		}
	}
	return best <= limit ? found : NULL;
}

const char *schema_type_name(enum schema_type type)
{
	switch (type) {
	case ST_ANY:
		return "anything";
	case ST_STRING:
		return "a string";
	case ST_INT:
		return "an integer";
	case ST_BOOL:
		return "true or false";
	case ST_DURATION:
		return "a duration";
	case ST_PORT:
		return "a port number";
	case ST_MAP:
		return "a mapping";
	case ST_LIST:
		return "a sequence";
	case ST_STRINGS:
		return "a string or a sequence of strings";
	case ST_KVS:
		return "a mapping or a sequence of KEY=VALUE strings";
	case ST_COMMAND:
		return "a string or a sequence of strings";
	case ST_STR_MAP:
		return "a string or a mapping";
	case ST_INT_MAP:
		return "a port number or a mapping";
	case ST_LIST_MAP:
		return "a sequence or a mapping";
	}
	return "a value";
}
