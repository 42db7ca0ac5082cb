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

#define HOST SCHEMA_HOST

/* reasons shared by several rows */
#define WHY_SWARM "a Swarm setting: one container per service, on one engine"
#define WHY_NET_ADDR                                                           \
	"the run's network is the engine's, with the addresses it assigns"
#define WHY_BUILDKIT                                                           \
	"needs BuildKit; the engine's classic builder, which orchestrate "     \
	"uses, cannot: building the image fails"

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
	K(SEC_TOP, "services", ST_MAP, 0, SU_ACCEPT, NULL,
	  "the services, by name", conv_top_services),
	K(SEC_TOP, "volumes", ST_MAP, 0, SU_ACCEPT, NULL,
	  "named volumes, created per run", conv_top_volumes),
	K(SEC_TOP, "suites", ST_MAP, 0, SU_ACCEPT, NULL, "test suites, by name",
	  conv_top_suites),
	K(SEC_TOP, "mask", ST_STRINGS, 0, SU_ACCEPT, NULL,
	  "variables whose values are masked in every output, whatever "
	  "their names",
	  conv_top_mask),
	K(SEC_TOP, "networks", ST_MAP, 0, SU_ACCEPT, NULL,
	  "declared networks: every service joins the run's one network",
	  conv_top_networks),
	K(SEC_TOP, "secrets", ST_MAP, 0, SU_ACCEPT, NULL,
	  "secrets, from a file or an environment variable", conv_top_secrets),
	K(SEC_TOP, "configs", ST_MAP, 0, SU_ACCEPT, NULL,
	  "configs, from a file, an environment variable or content",
	  conv_top_configs),
	K(SEC_TOP, "include", ST_ANY, 0, SU_QUIET, NULL,
	  "other files, resolved before the keys are read", NULL),
	K(SEC_TOP, "models", ST_ANY, 0, SU_REJECT, NULL,
	  "AI models run by Docker Model Runner, not in containers a test "
	  "run starts and removes",
	  NULL),

	/* x-orchestrate: at the top level */
	K(SEC_XORCH, "allow-host-privileges", ST_BOOL, 0, SU_ACCEPT, "false",
	  "allow the keys that give a container a piece of the host",
	  conv_xorch_allow_host),

	/* a service, and a stub (which may not have depends_on or stub) */
	K(SEC_SERVICE, "image", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the image to run", conv_container_image),
	K(SEC_SERVICE, "build", ST_STR_MAP, 0, SU_ACCEPT, NULL,
	  "a context directory, or {context, dockerfile, args, target, ...}",
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
	K(SEC_SERVICE, "label_file", ST_STRINGS, 0, SU_ACCEPT, NULL,
	  "KEY=VALUE files of labels", conv_container_label_file),
	K(SEC_SERVICE, "ports", ST_LIST, 0, SU_ACCEPT, NULL,
	  "published ports; on 127.0.0.1 with an ephemeral port by default",
	  conv_container_ports),
	K(SEC_SERVICE, "expose", ST_LIST, 0, SU_ACCEPT, NULL,
	  "ports exposed on the run's network, not published",
	  conv_container_expose),
	K(SEC_SERVICE, "volumes", ST_LIST, 0, SU_ACCEPT, NULL,
	  "named volumes and bind mounts", conv_container_volumes),
	K(SEC_SERVICE, "volumes_from", ST_LIST, 0, SU_ACCEPT, NULL,
	  "the volumes of other services of the run",
	  conv_container_volumes_from),
	K(SEC_SERVICE, "tmpfs", ST_STRINGS, 0, SU_ACCEPT, NULL,
	  "tmpfs mount points (PATH[:OPTIONS])", conv_container_tmpfs),
	K(SEC_SERVICE, "secrets", ST_LIST, 0, SU_ACCEPT, NULL,
	  "top-level secrets, read-only in /run/secrets",
	  conv_container_secrets),
	K(SEC_SERVICE, "configs", ST_LIST, 0, SU_ACCEPT, NULL,
	  "top-level configs, read-only at their target",
	  conv_container_configs),
	K(SEC_SERVICE, "user", ST_STRING, 0, SU_ACCEPT, "the image's",
	  "user[:group]", conv_container_user),
	K(SEC_SERVICE, "working_dir", ST_STRING, 0, SU_ACCEPT, "the image's",
	  "working directory", conv_container_working_dir),
	K(SEC_SERVICE, "labels", ST_KVS, 0, SU_ACCEPT, NULL,
	  "extra container labels", conv_container_labels),
	K(SEC_SERVICE, "annotations", ST_KVS, 0, SU_ACCEPT, NULL,
	  "OCI annotations (Docker API 1.43)", conv_container_annotations),
	K(SEC_SERVICE, "healthcheck", ST_MAP, 0, SU_ACCEPT, "the image's",
	  "a Docker healthcheck", conv_container_healthcheck),
	K(SEC_SERVICE, "depends_on", ST_LIST_MAP, 0, SU_ACCEPT, NULL,
	  "a list (service_started) or a mapping with conditions",
	  conv_service_depends_on),
	K(SEC_SERVICE, "profiles", ST_LIST, 0, SU_ACCEPT, NULL,
	  "the service starts only when one of them is active",
	  conv_service_profiles),
	K(SEC_SERVICE, "links", ST_LIST, 0, SU_ACCEPT, NULL,
	  "SERVICE or SERVICE:ALIAS: a dependency and a DNS name",
	  conv_service_links),
	K(SEC_SERVICE, "networks", ST_LIST_MAP, 0, SU_ACCEPT, NULL,
	  "declared networks; their aliases are DNS names on the run's network",
	  conv_container_networks),
	K(SEC_SERVICE, "hostname", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the container's host name", conv_container_hostname),
	K(SEC_SERVICE, "domainname", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the container's domain name", conv_container_domainname),
	K(SEC_SERVICE, "extra_hosts", ST_ANY, 0, SU_ACCEPT, NULL,
	  "HOST:IP lines in /etc/hosts", conv_container_extra_hosts),
	K(SEC_SERVICE, "dns", ST_STRINGS, 0, SU_ACCEPT, NULL, "DNS servers",
	  conv_container_dns),
	K(SEC_SERVICE, "dns_search", ST_STRINGS, 0, SU_ACCEPT, NULL,
	  "DNS search domains", conv_container_dns_search),
	K(SEC_SERVICE, "dns_opt", ST_STRINGS, 0, SU_ACCEPT, NULL,
	  "resolver options", conv_container_dns_opt),
	K(SEC_SERVICE, "post_start", ST_LIST, 0, SU_ACCEPT, NULL,
	  "commands run in the container once it runs (exec)",
	  conv_container_post_start),
	K(SEC_SERVICE, "pre_stop", ST_LIST, 0, SU_ACCEPT, NULL,
	  "commands run in the container before teardown (exec)",
	  conv_container_pre_stop),
	K(SEC_SERVICE, "stop_grace_period", ST_DURATION, 0, SU_ACCEPT,
	  "0 (killed at once)", "time between the stop signal and SIGKILL",
	  conv_container_stop_grace_period),
	K(SEC_SERVICE, "stop_signal", ST_STRING, 0, SU_ACCEPT, "the image's",
	  "the signal that stops the container", conv_container_stop_signal),
	K(SEC_SERVICE, "init", ST_BOOL, 0, SU_ACCEPT, "false",
	  "run an init process as PID 1", conv_container_init),
	K(SEC_SERVICE, "read_only", ST_BOOL, 0, SU_ACCEPT, "false",
	  "a read-only root filesystem", conv_container_read_only),
	K(SEC_SERVICE, "tty", ST_BOOL, 0, SU_ACCEPT, "false",
	  "a terminal for the process", conv_container_tty),
	K(SEC_SERVICE, "stdin_open", ST_BOOL, 0, SU_ACCEPT, "false",
	  "keep standard input open", conv_container_stdin_open),
	K(SEC_SERVICE, "restart", ST_STRING, 0, SU_ACCEPT, "no",
	  "the engine's restart policy; any exit still fails the run",
	  conv_container_restart),
	K(SEC_SERVICE, "platform", ST_STRING, 0, SU_ACCEPT, "the engine's",
	  "os/arch[/variant] of the image", conv_container_platform),
	K(SEC_SERVICE, "runtime", ST_STRING, 0, SU_ACCEPT, "the engine's",
	  "the OCI runtime", conv_container_runtime),
	K(SEC_SERVICE, "cap_drop", ST_LIST, 0, SU_ACCEPT, NULL,
	  "capabilities taken away", conv_container_cap_drop),
	K(SEC_SERVICE, "security_opt", ST_LIST, 0, SU_ACCEPT, NULL,
	  "no-new-privileges, labels, profiles (not 'unconfined')",
	  conv_container_security_opt),
	K(SEC_SERVICE, "group_add", ST_LIST, 0, SU_ACCEPT, NULL,
	  "extra groups of the process", conv_container_group_add),
	K(SEC_SERVICE, "ulimits", ST_MAP, 0, SU_ACCEPT, NULL,
	  "NAME: N or {soft, hard}", conv_container_ulimits),
	K(SEC_SERVICE, "sysctls", ST_KVS, 0, SU_ACCEPT, NULL,
	  "namespaced kernel parameters", conv_container_sysctls),
	K(SEC_SERVICE, "mem_limit", ST_ANY, 0, SU_ACCEPT, NULL,
	  "bytes, or 512m, 1.5g, ...", conv_container_mem_limit),
	K(SEC_SERVICE, "memswap_limit", ST_ANY, 0, SU_ACCEPT, NULL,
	  "memory and swap together (-1: unlimited)",
	  conv_container_memswap_limit),
	K(SEC_SERVICE, "mem_reservation", ST_ANY, 0, SU_ACCEPT, NULL,
	  "the memory soft limit", conv_container_mem_reservation),
	K(SEC_SERVICE, "mem_swappiness", ST_INT, 0, SU_ACCEPT, NULL, "0-100",
	  conv_container_mem_swappiness),
	K(SEC_SERVICE, "shm_size", ST_ANY, 0, SU_ACCEPT, "64m",
	  "the size of /dev/shm", conv_container_shm_size),
	K(SEC_SERVICE, "cpus", ST_ANY, 0, SU_ACCEPT, NULL,
	  "CPUs, fractions allowed", conv_container_cpus),
	K(SEC_SERVICE, "cpu_shares", ST_INT, 0, SU_ACCEPT, NULL,
	  "relative CPU weight", conv_container_cpu_shares),
	K(SEC_SERVICE, "cpu_period", ST_ANY, 0, SU_ACCEPT, NULL,
	  "CFS period (microseconds or a duration)", conv_container_cpu_period),
	K(SEC_SERVICE, "cpu_quota", ST_ANY, 0, SU_ACCEPT, NULL,
	  "CFS quota (microseconds or a duration)", conv_container_cpu_quota),
	K(SEC_SERVICE, "cpu_rt_period", ST_ANY, 0, SU_ACCEPT, NULL,
	  "real-time period (microseconds or a duration)",
	  conv_container_cpu_rt_period),
	K(SEC_SERVICE, "cpu_rt_runtime", ST_ANY, 0, SU_ACCEPT, NULL,
	  "real-time runtime (microseconds or a duration)",
	  conv_container_cpu_rt_runtime),
	K(SEC_SERVICE, "cpu_count", ST_INT, 0, SU_ACCEPT, NULL,
	  "usable CPUs (Windows engines)", conv_container_cpu_count),
	K(SEC_SERVICE, "cpu_percent", ST_INT, 0, SU_ACCEPT, NULL,
	  "usable CPU percentage (Windows engines)",
	  conv_container_cpu_percent),
	K(SEC_SERVICE, "cpuset", ST_STRING, 0, SU_ACCEPT, NULL,
	  "CPUs allowed (0-3, 0,1)", conv_container_cpuset),
	K(SEC_SERVICE, "pids_limit", ST_INT, 0, SU_ACCEPT, NULL,
	  "processes allowed (-1: unlimited)", conv_container_pids_limit),
	K(SEC_SERVICE, "oom_score_adj", ST_INT, 0, SU_ACCEPT, NULL,
	  "-1000 to 1000", conv_container_oom_score_adj),
	K(SEC_SERVICE, "oom_kill_disable", ST_BOOL, 0, SU_ACCEPT, "false",
	  "the OOM killer spares the container",
	  conv_container_oom_kill_disable),
	K(SEC_SERVICE, "blkio_config", ST_MAP, 0, SU_ACCEPT, NULL,
	  "block I/O weight and rates", conv_container_blkio_config),
	K(SEC_SERVICE, "storage_opt", ST_MAP, 0, SU_ACCEPT, NULL,
	  "storage driver options", conv_container_storage_opt),
	K(SEC_SERVICE, "cgroup_parent", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the parent cgroup", conv_container_cgroup_parent),
	K(SEC_SERVICE, "cgroup", ST_STRING, 0, SU_ACCEPT, "private",
	  "cgroup namespace: private ('host' needs host privileges)",
	  conv_container_cgroup),
	K(SEC_SERVICE, "isolation", ST_STRING, 0, SU_ACCEPT, "default",
	  "isolation technology (Windows engines)", conv_container_isolation),
	K(SEC_SERVICE, "deploy", ST_MAP, 0, SU_ACCEPT, NULL,
	  "resources and restart_policy; the Swarm settings are ignored",
	  conv_container_deploy),
	K(SEC_SERVICE, "network_mode", ST_STRING, 0, SU_ACCEPT,
	  "the run's network",
	  "none, service:NAME ('host' needs host privileges)",
	  conv_container_network_mode),
	K(SEC_SERVICE, "ipc", ST_STRING, 0, SU_ACCEPT, "private",
	  "private, shareable, none, service:NAME ('host': host privileges)",
	  conv_container_ipc),
	K(SEC_SERVICE, "pid", ST_STRING, 0, SU_ACCEPT, NULL,
	  "service:NAME ('host' needs host privileges)", conv_container_pid),
	K(SEC_SERVICE, "uts", ST_STRING, 0, SU_ACCEPT, NULL,
	  "'host' needs host privileges", conv_container_uts),
	K(SEC_SERVICE, "userns_mode", ST_STRING, 0, SU_ACCEPT, NULL,
	  "'host' needs host privileges", conv_container_userns_mode),
	K(SEC_SERVICE, "privileged", ST_BOOL, HOST, SU_ACCEPT, "false",
	  "every device and capability of the host", conv_container_privileged),
	K(SEC_SERVICE, "cap_add", ST_LIST, HOST, SU_ACCEPT, NULL,
	  "capabilities beyond the default set", conv_container_cap_add),
	K(SEC_SERVICE, "devices", ST_LIST, HOST, SU_ACCEPT, NULL,
	  "the host's devices", conv_container_devices),
	K(SEC_SERVICE, "device_cgroup_rules", ST_LIST, HOST, SU_ACCEPT, NULL,
	  "access to the host's devices by number",
	  conv_container_device_cgroup_rules),
	K(SEC_SERVICE, "gpus", ST_ANY, HOST, SU_ACCEPT, NULL, "the host's GPUs",
	  conv_container_gpus),
	K(SEC_SERVICE, "ready", ST_MAP, 0, SU_ACCEPT, NULL,
	  "readiness probes: tcp, http, exec, log, timeout",
	  conv_container_ready),
	K(SEC_SERVICE, "stub", ST_MAP, 0, SU_ACCEPT, NULL,
	  "a stand-in for the service (no depends_on)", conv_service_stub),
	K(SEC_SERVICE, "extends", ST_ANY, 0, SU_QUIET, NULL,
	  "resolved before the keys are read", NULL),
	K(SEC_SERVICE, "container_name", ST_ANY, 0, SU_WARN, NULL,
	  "container names are unique per run", NULL),
	K(SEC_SERVICE, "scale", ST_ANY, 0, SU_WARN, NULL,
	  "one container per service", NULL),
	K(SEC_SERVICE, "pull_policy", ST_ANY, 0, SU_WARN, NULL,
	  "images are pulled only when missing", NULL),
	K(SEC_SERVICE, "pull_refresh_after", ST_ANY, 0, SU_WARN, NULL,
	  "images are pulled only when missing", NULL),
	K(SEC_SERVICE, "logging", ST_ANY, 0, SU_WARN, NULL,
	  "orchestrate reads the logs itself, from the engine's default "
	  "driver",
	  NULL),
	K(SEC_SERVICE, "attach", ST_ANY, 0, SU_WARN, NULL,
	  "orchestrate reads every service's logs itself", NULL),
	K(SEC_SERVICE, "develop", ST_ANY, 0, SU_WARN, NULL,
	  "Compose's watch mode: a test run does not watch files", NULL),
	K(SEC_SERVICE, "mac_address", ST_ANY, 0, SU_WARN, NULL, WHY_NET_ADDR,
	  NULL),
	K(SEC_SERVICE, "credential_spec", ST_ANY, 0, SU_WARN, NULL,
	  "Windows gMSA credentials, for Windows engines", NULL),
	K(SEC_SERVICE, "external_links", ST_ANY, 0, SU_REJECT, NULL,
	  "containers outside the run are not on its network; add them as "
	  "services",
	  NULL),
	K(SEC_SERVICE, "provider", ST_ANY, 0, SU_REJECT, NULL,
	  "a provider service is made by an external tool, not a container "
	  "the run starts, checks and removes",
	  NULL),
	K(SEC_SERVICE, "models", ST_ANY, 0, SU_REJECT, NULL,
	  "AI models run by Docker Model Runner, not in containers a test "
	  "run starts and removes",
	  NULL),
	K(SEC_SERVICE, "use_api_socket", ST_ANY, 0, SU_REJECT, NULL,
	  "it hands the container the engine's socket and your registry "
	  "credentials",
	  NULL),
	K(SEC_SERVICE, "pre_start", ST_ANY, 0, SU_REJECT, NULL,
	  "an init container before the service's own; make it a service "
	  "and depend on it with condition: service_completed_successfully",
	  NULL),

	K(SEC_BUILD, "context", ST_STRING, 0, SU_ACCEPT, ".",
	  "directory, relative to the manifest", conv_build_context),
	K(SEC_BUILD, "dockerfile", ST_STRING, 0, SU_ACCEPT, "Dockerfile",
	  "relative to the context", conv_build_dockerfile),
	K(SEC_BUILD, "dockerfile_inline", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the Dockerfile itself", conv_build_dockerfile_inline),
	K(SEC_BUILD, "args", ST_KVS, 0, SU_ACCEPT, NULL, "build arguments",
	  conv_build_args),
	K(SEC_BUILD, "target", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the stage to build", conv_build_target),
	K(SEC_BUILD, "network", ST_STRING, 0, SU_ACCEPT, "default",
	  "the network of RUN steps (default, none, host)", conv_build_network),
	K(SEC_BUILD, "extra_hosts", ST_ANY, 0, SU_ACCEPT, NULL,
	  "HOST:IP lines in /etc/hosts of RUN steps", conv_build_extra_hosts),
	K(SEC_BUILD, "additional_contexts", ST_KVS, 0, SU_ACCEPT, NULL,
	  "NAME: a directory or docker-image://REF, for FROM and COPY --from",
	  conv_build_additional_contexts),
	K(SEC_BUILD, "labels", ST_KVS, 0, SU_ACCEPT, NULL,
	  "labels of the built image", conv_build_labels),
	K(SEC_BUILD, "secrets", ST_LIST, 0, SU_ACCEPT, NULL,
	  "build secrets " WHY_BUILDKIT, conv_build_secrets),
	K(SEC_BUILD, "ssh", ST_ANY, 0, SU_ACCEPT, NULL,
	  "ssh agent forwarding " WHY_BUILDKIT, conv_build_buildkit),
	K(SEC_BUILD, "entitlements", ST_ANY, 0, SU_ACCEPT, NULL,
	  "build entitlements " WHY_BUILDKIT, conv_build_buildkit),
	K(SEC_BUILD, "privileged", ST_ANY, 0, SU_ACCEPT, NULL,
	  "privileged builds " WHY_BUILDKIT, conv_build_buildkit),
	K(SEC_BUILD, "cache_from", ST_ANY, 0, SU_WARN, NULL,
	  "builds use the engine's local cache", NULL),
	K(SEC_BUILD, "cache_to", ST_ANY, 0, SU_WARN, NULL,
	  "builds use the engine's local cache", NULL),
	K(SEC_BUILD, "no_cache", ST_ANY, 0, SU_WARN, NULL,
	  "builds use the engine's local cache", NULL),
	K(SEC_BUILD, "pull", ST_ANY, 0, SU_WARN, NULL,
	  "base images are pulled only when missing", NULL),
	K(SEC_BUILD, "shm_size", ST_ANY, 0, SU_WARN, NULL,
	  "builds use the engine's defaults", NULL),
	K(SEC_BUILD, "ulimits", ST_ANY, 0, SU_WARN, NULL,
	  "builds use the engine's defaults", NULL),
	K(SEC_BUILD, "isolation", ST_ANY, 0, SU_WARN, NULL,
	  "builds use the engine's defaults", NULL),
	K(SEC_BUILD, "platforms", ST_ANY, 0, SU_WARN, NULL,
	  "the image is built for the engine's platform", NULL),
	K(SEC_BUILD, "tags", ST_ANY, 0, SU_WARN, NULL,
	  "the image gets the run's own tag", NULL),

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
	K(SEC_DEPENDS, "required", ST_BOOL, 0, SU_ACCEPT, "true",
	  "false: dropped when the service is not active (profiles)",
	  conv_depends_required),
	K(SEC_DEPENDS, "restart", ST_BOOL, 0, SU_QUIET, NULL,
	  "accepted and ignored (services are never restarted)", NULL),

	K(SEC_PORT, "target", ST_STRING, REQ, SU_ACCEPT, NULL,
	  "the container port (or a range)", conv_port_target),
	K(SEC_PORT, "published", ST_STRING, 0, SU_ACCEPT, "ephemeral",
	  "the host port (or a range)", conv_port_published),
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
	  "volume, bind, tmpfs or image", conv_mount_type),
	K(SEC_MOUNT, "source", ST_STRING, 0, SU_ACCEPT, NULL,
	  "a declared volume, a host path (relative to the manifest), an image",
	  conv_mount_source),
	K(SEC_MOUNT, "target", ST_STRING, REQ, SU_ACCEPT, NULL,
	  "the path in the container", conv_mount_target),
	K(SEC_MOUNT, "read_only", ST_BOOL, 0, SU_ACCEPT, "false",
	  "mount read-only", conv_mount_read_only),
	K(SEC_MOUNT, "bind", ST_MAP, 0, SU_ACCEPT, NULL,
	  "propagation, create_host_path, selinux", conv_mount_bind),
	K(SEC_MOUNT, "volume", ST_MAP, 0, SU_ACCEPT, NULL, "nocopy, subpath",
	  conv_mount_volume),
	K(SEC_MOUNT, "tmpfs", ST_MAP, 0, SU_ACCEPT, NULL, "size, mode",
	  conv_mount_tmpfs),
	K(SEC_MOUNT, "image", ST_MAP, 0, SU_ACCEPT, NULL, "subpath",
	  conv_mount_image),
	K(SEC_MOUNT, "consistency", ST_ANY, 0, SU_QUIET, NULL,
	  "accepted, ignored (Docker Desktop on macOS)", NULL),

	K(SEC_BIND, "propagation", ST_STRING, 0, SU_ACCEPT, "rprivate",
	  "shared, slave, private, rshared, rslave, rprivate",
	  conv_bind_propagation),
	K(SEC_BIND, "create_host_path", ST_BOOL, 0, SU_ACCEPT, "false",
	  "the engine creates a missing source directory",
	  conv_bind_create_host_path),
	K(SEC_BIND, "selinux", ST_STRING, 0, SU_ACCEPT, NULL,
	  "z (shared) or Z (private) relabelling", conv_bind_selinux),
	K(SEC_BIND, "recursive", ST_ANY, 0, SU_WARN, NULL,
	  "submounts are mounted as the engine does by default", NULL),
	K(SEC_VOLOPT, "nocopy", ST_BOOL, 0, SU_ACCEPT, "false",
	  "do not copy the image's files into a new volume",
	  conv_volopt_nocopy),
	K(SEC_VOLOPT, "subpath", ST_STRING, 0, SU_ACCEPT, NULL,
	  "a directory of the volume (Docker API 1.45)", conv_volopt_subpath),
	K(SEC_VOLOPT, "labels", ST_ANY, 0, SU_WARN, NULL,
	  "orchestrate labels its volumes itself", NULL),
	K(SEC_TMPFSOPT, "size", ST_ANY, 0, SU_ACCEPT, NULL,
	  "bytes, or 64m, ...", conv_tmpfsopt_size),
	K(SEC_TMPFSOPT, "mode", ST_ANY, 0, SU_ACCEPT, "1777",
	  "file mode, in octal", conv_tmpfsopt_mode),
	K(SEC_IMAGEOPT, "subpath", ST_STRING, 0, SU_ACCEPT, NULL,
	  "a directory of the image (Docker API 1.48)", conv_volopt_subpath),

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

	K(SEC_NETWORK, "external", ST_ANY, 0, SU_ACCEPT, NULL,
	  "a network made outside the run, which its services join besides "
	  "the run's own",
	  conv_network_external),
	K(SEC_NETWORK, "name", ST_STRING, 0, SU_ACCEPT, NULL,
	  "an external network's name; else ignored, every run has one "
	  "network of its own",
	  conv_network_name),
	K(SEC_NETWORK, "driver", ST_ANY, 0, SU_WARN, NULL,
	  "every run has one network of its own", NULL),
	K(SEC_NETWORK, "driver_opts", ST_ANY, 0, SU_WARN, NULL,
	  "every run has one network of its own", NULL),
	K(SEC_NETWORK, "ipam", ST_ANY, 0, SU_WARN, NULL, WHY_NET_ADDR, NULL),
	K(SEC_NETWORK, "internal", ST_ANY, 0, SU_WARN, NULL,
	  "every run has one network of its own", NULL),
	K(SEC_NETWORK, "attachable", ST_ANY, 0, SU_WARN, NULL,
	  "every run has one network of its own", NULL),
	K(SEC_NETWORK, "enable_ipv4", ST_ANY, 0, SU_WARN, NULL, WHY_NET_ADDR,
	  NULL),
	K(SEC_NETWORK, "enable_ipv6", ST_ANY, 0, SU_WARN, NULL, WHY_NET_ADDR,
	  NULL),
	K(SEC_NETWORK, "labels", ST_ANY, 0, SU_WARN, NULL,
	  "orchestrate labels its network itself", NULL),

	K(SEC_SVC_NETWORK, "aliases", ST_LIST, 0, SU_ACCEPT, NULL,
	  "more DNS names of the service", conv_svc_network_aliases),
	K(SEC_SVC_NETWORK, "ipv4_address", ST_ANY, 0, SU_WARN, NULL,
	  WHY_NET_ADDR, NULL),
	K(SEC_SVC_NETWORK, "ipv6_address", ST_ANY, 0, SU_WARN, NULL,
	  WHY_NET_ADDR, NULL),
	K(SEC_SVC_NETWORK, "link_local_ips", ST_ANY, 0, SU_WARN, NULL,
	  WHY_NET_ADDR, NULL),
	K(SEC_SVC_NETWORK, "mac_address", ST_ANY, 0, SU_WARN, NULL,
	  WHY_NET_ADDR, NULL),
	K(SEC_SVC_NETWORK, "interface_name", ST_ANY, 0, SU_WARN, NULL,
	  WHY_NET_ADDR, NULL),
	K(SEC_SVC_NETWORK, "priority", ST_ANY, 0, SU_WARN, NULL,
	  "services have one network", NULL),
	K(SEC_SVC_NETWORK, "gw_priority", ST_ANY, 0, SU_WARN, NULL,
	  "services have one network", NULL),
	K(SEC_SVC_NETWORK, "driver_opts", ST_ANY, 0, SU_WARN, NULL,
	  "every run has one network of its own", NULL),

	K(SEC_SECRET, "file", ST_STRING, 0, SU_ACCEPT, NULL,
	  "a file, relative to the manifest (bind-mounted)", conv_secret_file),
	K(SEC_SECRET, "environment", ST_STRING, 0, SU_ACCEPT, NULL,
	  "a variable of orchestrate's environment (copied in)",
	  conv_secret_environment),
	K(SEC_SECRET, "external", ST_ANY, 0, SU_REJECT, NULL,
	  "Swarm secrets live in a cluster: give a file or an environment "
	  "variable",
	  NULL),
	K(SEC_SECRET, "name", ST_ANY, 0, SU_WARN, NULL,
	  "the name inside the container is the key's", NULL),
	K(SEC_SECRET, "labels", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM, NULL),
	K(SEC_SECRET, "driver", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM, NULL),
	K(SEC_SECRET, "driver_opts", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM, NULL),
	K(SEC_SECRET, "template_driver", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM,
	  NULL),
	K(SEC_CONFIG, "file", ST_STRING, 0, SU_ACCEPT, NULL,
	  "a file, relative to the manifest (bind-mounted)", conv_secret_file),
	K(SEC_CONFIG, "environment", ST_STRING, 0, SU_ACCEPT, NULL,
	  "a variable of orchestrate's environment (copied in)",
	  conv_secret_environment),
	K(SEC_CONFIG, "content", ST_STRING, 0, SU_ACCEPT, NULL,
	  "the content itself, interpolated (copied in)", conv_config_content),
	K(SEC_CONFIG, "external", ST_ANY, 0, SU_REJECT, NULL,
	  "Swarm configs live in a cluster: give a file, content or an "
	  "environment variable",
	  NULL),
	K(SEC_CONFIG, "name", ST_ANY, 0, SU_WARN, NULL,
	  "the name inside the container is the key's", NULL),
	K(SEC_CONFIG, "labels", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM, NULL),
	K(SEC_CONFIG, "template_driver", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM,
	  NULL),

	K(SEC_FILE_REF, "source", ST_STRING, REQ, SU_ACCEPT, NULL,
	  "the top-level secret or config", conv_file_ref_source),
	K(SEC_FILE_REF, "target", ST_STRING, 0, SU_ACCEPT,
	  "/run/secrets/SOURCE, /SOURCE", "where it is in the container",
	  conv_file_ref_target),
	K(SEC_FILE_REF, "uid", ST_STRING, 0, SU_ACCEPT, "0",
	  "its owner (copied-in values only)", conv_file_ref_uid),
	K(SEC_FILE_REF, "gid", ST_STRING, 0, SU_ACCEPT, "0",
	  "its group (copied-in values only)", conv_file_ref_gid),
	K(SEC_FILE_REF, "mode", ST_ANY, 0, SU_ACCEPT, "0444",
	  "its mode, in octal (copied-in values only)", conv_file_ref_mode),

	K(SEC_HOOK, "command", ST_COMMAND, REQ, SU_ACCEPT, NULL,
	  "the command, run with exec in the container", conv_hook_command),
	K(SEC_HOOK, "user", ST_STRING, 0, SU_ACCEPT, "the container's",
	  "user[:group]", conv_hook_user),
	K(SEC_HOOK, "working_dir", ST_STRING, 0, SU_ACCEPT, "the container's",
	  "working directory", conv_hook_working_dir),
	K(SEC_HOOK, "environment", ST_KVS, 0, SU_ACCEPT, NULL,
	  "more variables for the command", conv_hook_environment),
	K(SEC_HOOK, "privileged", ST_BOOL, HOST, SU_ACCEPT, "false",
	  "a privileged process", conv_hook_privileged),

	K(SEC_ULIMIT, "soft", ST_INT, REQ, SU_ACCEPT, NULL, "the soft limit",
	  conv_ulimit_soft),
	K(SEC_ULIMIT, "hard", ST_INT, REQ, SU_ACCEPT, NULL, "the hard limit",
	  conv_ulimit_hard),

	K(SEC_BLKIO, "weight", ST_INT, 0, SU_ACCEPT, NULL, "10-1000",
	  conv_blkio_weight),
	K(SEC_BLKIO, "weight_device", ST_LIST, 0, SU_ACCEPT, NULL,
	  "[{path, weight}]", conv_blkio_weight_device),
	K(SEC_BLKIO, "device_read_bps", ST_LIST, 0, SU_ACCEPT, NULL,
	  "[{path, rate}]", conv_blkio_read_bps),
	K(SEC_BLKIO, "device_write_bps", ST_LIST, 0, SU_ACCEPT, NULL,
	  "[{path, rate}]", conv_blkio_write_bps),
	K(SEC_BLKIO, "device_read_iops", ST_LIST, 0, SU_ACCEPT, NULL,
	  "[{path, rate}]", conv_blkio_read_iops),
	K(SEC_BLKIO, "device_write_iops", ST_LIST, 0, SU_ACCEPT, NULL,
	  "[{path, rate}]", conv_blkio_write_iops),
	K(SEC_BLKIO_DEV, "path", ST_STRING, REQ, SU_ACCEPT, NULL, "the device",
	  conv_blkio_dev_path),
	K(SEC_BLKIO_DEV, "rate", ST_ANY, 0, SU_ACCEPT, NULL,
	  "bytes or operations a second", conv_blkio_dev_rate),
	K(SEC_BLKIO_DEV, "weight", ST_INT, 0, SU_ACCEPT, NULL, "10-1000",
	  conv_blkio_dev_weight),

	K(SEC_DEPLOY, "resources", ST_MAP, 0, SU_ACCEPT, NULL,
	  "limits and reservations", conv_deploy_resources),
	K(SEC_DEPLOY, "restart_policy", ST_MAP, 0, SU_ACCEPT, NULL,
	  "the restart policy, when 'restart' is not set",
	  conv_deploy_restart_policy),
	K(SEC_DEPLOY, "replicas", ST_ANY, 0, SU_WARN, NULL,
	  "one container per service", NULL),
	K(SEC_DEPLOY, "mode", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM, NULL),
	K(SEC_DEPLOY, "endpoint_mode", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM,
	  NULL),
	K(SEC_DEPLOY, "labels", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM, NULL),
	K(SEC_DEPLOY, "placement", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM, NULL),
	K(SEC_DEPLOY, "update_config", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM,
	  NULL),
	K(SEC_DEPLOY, "rollback_config", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM,
	  NULL),
	K(SEC_RESOURCES, "limits", ST_MAP, 0, SU_ACCEPT, NULL,
	  "cpus, memory, pids", conv_resources_limits),
	K(SEC_RESOURCES, "reservations", ST_MAP, 0, SU_ACCEPT, NULL,
	  "memory, devices", conv_resources_reservations),
	K(SEC_LIMITS, "cpus", ST_ANY, 0, SU_ACCEPT, NULL, "as 'cpus'",
	  conv_limits_cpus),
	K(SEC_LIMITS, "memory", ST_ANY, 0, SU_ACCEPT, NULL, "as 'mem_limit'",
	  conv_limits_memory),
	K(SEC_LIMITS, "pids", ST_INT, 0, SU_ACCEPT, NULL, "as 'pids_limit'",
	  conv_limits_pids),
	K(SEC_RESERVE, "memory", ST_ANY, 0, SU_ACCEPT, NULL,
	  "as 'mem_reservation'", conv_reserve_memory),
	K(SEC_RESERVE, "devices", ST_LIST, HOST, SU_ACCEPT, NULL,
	  "the host's GPUs and devices", conv_reserve_devices),
	K(SEC_RESERVE, "cpus", ST_ANY, 0, SU_WARN, NULL,
	  "the engine has no CPU reservation", NULL),
	K(SEC_RESERVE, "generic_resources", ST_ANY, 0, SU_WARN, NULL, WHY_SWARM,
	  NULL),
	K(SEC_RESTART, "condition", ST_STRING, 0, SU_ACCEPT, "any",
	  "none, on-failure or any", conv_restart_condition),
	K(SEC_RESTART, "max_attempts", ST_INT, 0, SU_ACCEPT, NULL,
	  "restarts at most (on-failure)", conv_restart_max_attempts),
	K(SEC_RESTART, "delay", ST_ANY, 0, SU_WARN, NULL,
	  "the engine's own back-off", NULL),
	K(SEC_RESTART, "window", ST_ANY, 0, SU_WARN, NULL,
	  "the engine's own back-off", NULL),
	K(SEC_GPU, "capabilities", ST_LIST, 0, SU_ACCEPT, "[gpu]",
	  "what the device must do", conv_gpu_capabilities),
	K(SEC_GPU, "count", ST_ANY, 0, SU_ACCEPT, "all", "how many, or all",
	  conv_gpu_count),
	K(SEC_GPU, "device_ids", ST_LIST, 0, SU_ACCEPT, NULL, "which ones",
	  conv_gpu_device_ids),
	K(SEC_GPU, "driver", ST_STRING, 0, SU_ACCEPT, NULL, "nvidia, ...",
	  conv_gpu_driver),
	K(SEC_GPU, "options", ST_KVS, 0, SU_ACCEPT, NULL, "driver options",
	  conv_gpu_options),
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
