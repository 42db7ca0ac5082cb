/*
 * spec.h: the one container-spec builder. A manifest service, a stub or
 * a suite (struct mf_container) plus what the run decides -- the name,
 * the image, the labels, the network and DNS alias, the gate -- becomes
 * the struct engine_container_spec that engine_container_create_start()
 * takes. Pure: no I/O, no JSON (the engine writes the body).
 *
 * What it decides on its own, the same for every container:
 *   - environment: `K` alone takes the caller's value, left out when
 *     unset (Compose); a suite's own environment follows the container's;
 *   - labels: the manifest's, except our prefix (it cannot be forged),
 *     then the run's, the role, the service and the stop grace period;
 *   - ports: on 127.0.0.1 with an ephemeral port unless the manifest
 *     says otherwise, plus the ports of tcp/http probes the manifest does
 *     not publish (probes reach services through 127.0.0.1);
 *   - volumes: a declared volume NAME is the run's `<project>-<run
 *     id>-NAME`; binds and tmpfs as written; secrets and configs from a
 *     file are bind-mounted read-only at their target (those from a
 *     value are copied in before the start: hooks_inject(), hooks.h);
 *   - DNS names: the service's own (alias), then its network aliases
 *     and the aliases other services' links give it;
 *   - service:NAME (network_mode, ipc, pid, volumes_from) is the run's
 *     container of NAME, `<project>-<run id>-NAME`;
 *   - the Compose keys the engine takes as they are (resources, process
 *     settings, DNS, hosts, capabilities, ...) copied over;
 *   - the gate: entrypoint orchestrate-gate, command "go file -- the real
 *     argv", the run's gate directory bind-mounted read-only.
 *
 * Ownership: spec_build() fills a caller-owned struct spec whose .s
 * points into storage it owns; spec_release() frees it.
 */
#ifndef ORCH_SPEC_H
#define ORCH_SPEC_H

#include <stddef.h>

#include "engine_ops.h"
#include "util.h"

struct mf_container;
struct mf_kvs;

struct spec_opts {
	const char *name;    /* the container's name */
	const char *image;   /* the image to run (resolved) */
	const char *role;    /* ROLE_SERVICE, ROLE_STUB, ROLE_SUITE */
	const char *service; /* the service or suite it is */
	/* the run: declared volumes are <project>-<run_id>-<name> */
	const char *project;
	const char *run_id;
	const struct engine_label *run_labels; /* project, run id, owner */
	size_t nrun_labels;
	const char *network; /* attach to it ... */
	const char *alias;   /* ... under this DNS name (NULL: none) */
	/* the gate: NULL for none; else the run's gate directory, and the
	   argv Docker would have run (gate_real_argv()) */
	const char *gate_dir;
	const struct strvec *real_argv;
	/* a suite: its command (replacing the container's) and environment
	   (after the container's); NULL for services */
	const struct strvec *command;
	const struct mf_kvs *environment;
};

struct spec {
	struct engine_container_spec s;
	/* storage s points into */
	struct strvec cmd, entrypoint, env, aliases, tmpfs, hc_test;
	struct strvec strs; /* label values, volume names */
	struct strvec volumes_from;
	struct engine_label *labels;
	struct engine_port *ports;
	struct engine_mount *mounts;
	struct engine_health health;
	struct engine_resources res;
	struct engine_label *kvs; /* annotations, sysctls, storage_opt */
	struct engine_ulimit *ulimits;
	struct engine_blkio *blkio;
	struct engine_device_request *devreqs;
	struct strvec *devreq_caps; /* per request */
};

/* The run's container of a service: `<project>-<run id>-<service>`. */
char *spec_container_name(const char *project, const char *run_id,
                          const char *service);

void spec_build(struct spec *out, const struct mf_container *c,
                const struct spec_opts *o);
void spec_release(struct spec *sp);

#endif
