/*
 * manifest_check.c: the rules that look at more than one key of a
 * mapping, or beyond it (see manifest_int.h): a service needs an image, a build or a stub, and
 * a stub an image or a build; a suite's host, image, build, command and
 * artifacts go together (artifacts absolute in a container; on the host,
 * relative ones made absolute against the project directory), and its
 * targets are services, named once; a mount's type, source and target go
 * together, and a named volume is declared; a healthcheck's test [NONE]
 * disables it; dependencies are services, named once, without a cycle.
 *
 * The walk calls a mapping's rules only once every key of it is read,
 * so no rule ever depends on the order the keys were written in; a
 * converter (manifest_walk.c) sees its own key alone. Nothing here reads
 * a file or a YAML value: the nodes are only places for the messages.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "graph.h"
#include "manifest_int.h"
#include "reference.h"

static int declared_volume(struct mf_conv *c, const char *name)
{
	return strindex_get(&c->volume_ix, name) >= 0;
}

/*
 * Binds that hand a container the host (reference §d.5): the engine's
 * socket is a host privilege (refused unless allowed); the others are
 * allowed, since a test may need them, but never silently.
 */
static int check_dangerous_bind(struct mf_conv *c, const struct ynode *v,
                                const char *src)
{
	static const char *const paths[] = { "/",    "/etc",  "/var/run",
		                             "/run", "/proc", "/sys",
		                             "/dev" };
	const char *home = getenv("HOME");

	if (strstr(src, "docker.sock") || strstr(src, "containerd.sock") ||
	    strstr(src, "podman.sock"))
		return mf_host_privilege(c, v, src,
		                         "control of the engine (its socket)");
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (!strcmp(src, paths[i])) {
			mf_warn(c, v, "bind mount of the host's '%s'", src);
			return 0;
		}
	}
	if (home && *home && !strcmp(src, home))
		mf_warn(c, v, "bind mount of the home directory '%s'", src);
	return 0;
}

int mf_check_mount(struct mf_conv *c, const struct ynode *v,
                   struct mf_mount *mt)
{
	if (!mt->target || mt->target[0] != '/')
		return mf_err(c, v,
		              "mount target '%s' must be an absolute path",
		              mt->target ? mt->target : "");
	if (!strcmp(mt->type, "volume") && mt->source) {
		if (!mf_valid_name(mt->source))
			return mf_err(c, v, "invalid volume name '%.80s'",
			              mt->source);
		if (!declared_volume(c, mt->source))
			return mf_err(
			        c, v,
			        "volume '%s' is not declared in the top-level "
			        "'volumes'",
			        mt->source);
	}
	if (!strcmp(mt->type, "bind")) {
		if (!mt->source || !*mt->source)
			return mf_err(c, v, "a bind mount needs a 'source'");
		return check_dangerous_bind(c, v, mt->source);
	}
	if (!strcmp(mt->type, "image")) {
		if (!mt->source || !*mt->source)
			return mf_err(c, v, "an image mount needs a 'source'");
		if (reference_check_image(mt->source))
			return mf_err(c, v, "%s", orch_error_last());
	}
	if (!strcmp(mt->type, "tmpfs") && mt->source && *mt->source)
		return mf_err(c, v, "a tmpfs mount has no 'source'");
	if (strcmp(mt->type, "bind") &&
	    (mt->propagation || mt->create_host_path))
		return mf_err(c, v, "bind options on a %s mount", mt->type);
	if (strcmp(mt->type, "tmpfs") && (mt->tmpfs_size || mt->tmpfs_mode))
		return mf_err(c, v, "tmpfs options on a %s mount", mt->type);
	return 0;
}

int mf_check_deps(struct mf_conv *c)
{
	struct manifest *m = c->m;
	const char **names = xcalloc(m->nservices + 1, sizeof(*names));
	struct buf cycle = BUF_INIT;
	int rc = 0;

	/* stamp[j] == i + 1: service i already depends on j */
	size_t *stamp = xcalloc(m->nservices + 1, sizeof(*stamp));

	for (size_t i = 0; i < m->nservices; i++)
		names[i] = m->services[i].name;
	for (size_t i = 0; i < m->nservices && !rc; i++) {
		struct mf_service *s = &m->services[i];

		for (size_t d = 0; d < s->ndeps && !rc; d++) {
			struct mf_dep *dep = &s->deps[d];
			long idx = strindex_get(&c->service_ix, dep->name);
			const char *sug;

			if (idx >= 0 && stamp[idx] == i + 1) {
				rc = orch_error_at(
				        dep->file, dep->line, dep->col,
				        "duplicate dependency '%s'", dep->name);
				continue;
			}
			if (idx >= 0) {
				stamp[idx] = i + 1;
				dep->index = (size_t)idx;
				continue;
			}
			sug = mf_closest(dep->name, names, m->nservices);
			if (sug)
				rc = orch_error_at(
				        dep->file, dep->line, dep->col,
				        "service '%s' depends on undefined "
				        "service '%.80s' (did you mean '%s'?)",
				        s->name, dep->name, sug);
			else
				rc = orch_error_at(
				        dep->file, dep->line, dep->col,
				        "service '%s' depends on undefined "
				        "service '%.80s'",
				        s->name, dep->name);
		}
	}
	if (!rc && graph_find_cycle(m, &cycle)) {
		/* point at the first service of the cycle */
		size_t l = strcspn(cycle.data, " ");
		char *first = xstrndup(cycle.data, l);
		int idx = manifest_service_index(m, first);
		const struct mf_service *s = &m->services[idx < 0 ? 0 : idx];

		rc = orch_error_at(s->file, s->line, s->col,
		                   "dependency cycle: %s", cycle.data);
		free(first);
	}
	buf_release(&cycle);
	free(names);
	free(stamp);
	return rc;
}

/* test: [NONE] is disable: true, whatever disable: says. */
int mf_check_healthcheck(struct mf_conv *c, struct mf_healthcheck *h)
{
	if (h->test.n && !strcmp(h->test.v[0], "NONE"))
		h->disable = 1;
	return 0;
}

/*
 * A container in another's network namespace has no network of its own:
 * no ports, networks or DNS names to give (the engine refuses them).
 */
static int network_rules(struct mf_conv *c, struct mf_unit *u,
                         const struct ynode *at)
{
	const struct mf_container *ct = u->ct;
	const char *mode = ct->network_service ? "service:" : ct->network_mode;
	const char *svc = ct->network_service ? ct->network_service : "";
	const char *who = u->is_stub ? "the stub of service" : "service";

	if (!mode)
		return 0;
	if (ct->nports && u->ports)
		return mf_err(c, u->ports,
		              "%s '%s': 'ports' cannot go with network_mode "
		              "'%s%s'",
		              who, u->service->name, mode, svc);
	if (u->networks)
		return mf_err(c, u->networks,
		              "%s '%s': 'networks' cannot go with network_mode "
		              "'%s%s'",
		              who, u->service->name, mode, svc);
	if (ct->ready.tcp_port || ct->ready.http_port)
		return mf_err(c, at,
		              "%s '%s': tcp and http probes need the service's "
		              "own network (network_mode '%s%s')",
		              who, u->service->name, mode, svc);
	return 0;
}

int mf_check_deploy(struct mf_conv *c, struct mf_unit *u)
{
	struct mf_resources *r = &u->ct->res;
	struct {
		int64_t *have, deploy;
		const char *key, *dkey;
	} pairs[] = {
		{ &r->nano_cpus, u->deploy_cpus, "cpus", "limits.cpus" },
		{ &r->memory, u->deploy_memory, "mem_limit", "limits.memory" },
		{ &r->pids_limit, u->deploy_pids, "pids_limit", "limits.pids" },
		{ &r->memory_reservation, u->deploy_reservation,
		  "mem_reservation", "reservations.memory" },
	};

	if (!u->deploy_at)
		return 0;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(*pairs); i++) {
		if (pairs[i].deploy == MF_UNSET)
			continue;
		if (*pairs[i].have != MF_UNSET &&
		    *pairs[i].have != pairs[i].deploy)
			return mf_err(c, u->deploy_at,
			              "'%s' and deploy.resources.%s differ",
			              pairs[i].key, pairs[i].dkey);
		*pairs[i].have = pairs[i].deploy;
	}
	if (u->deploy_restart && !u->ct->restart) {
		u->ct->restart = u->deploy_restart;
		u->deploy_restart = NULL;
	}
	return 0;
}

int mf_check_service(struct mf_conv *c, struct mf_unit *u,
                     const struct ynode *at)
{
	struct mf_service *s = u->service;
	int rc = network_rules(c, u, at);

	if (rc)
		return rc;
	/* Compose: a service naming no network is on 'default' */
	if (!u->networks && !u->ct->network_mode && !u->ct->network_service &&
	    mf_network_external(c, "default") &&
	    strvec_find(&u->ct->ext_networks,
	                mf_network_external(c, "default")) < 0)
		strvec_push(&u->ct->ext_networks,
		            mf_network_external(c, "default"));
	/* the stub answers on the service's names too */
	for (size_t i = 0; s->stub && i < s->real.aliases.n; i++)
		if (strvec_find(&s->stub->aliases, s->real.aliases.v[i]) < 0)
			strvec_push(&s->stub->aliases, s->real.aliases.v[i]);
	s->has_real = s->real.image || s->real.build;
	if (!s->has_real && !s->stub)
		return mf_err(c, at,
		              "service '%s' needs 'image', 'build' or 'stub'",
		              s->name);
	return 0;
}

int mf_check_stub(struct mf_conv *c, struct mf_unit *u, const struct ynode *at)
{
	int rc = network_rules(c, u, at);

	if (rc)
		return rc;
	if (!u->ct->image && !u->ct->build)
		return mf_err(c, at,
		              "the stub of service '%s' needs 'image' or "
		              "'build'",
		              u->service->name);
	return 0;
}

/* Each target a service, named once. */
static int suite_targets(struct mf_conv *c, struct mf_suite *su,
                         const struct ynode *targets)
{
	su->target_index = xcalloc(su->targets.n, sizeof(*su->target_index));
	c->stamp_gen++;
	for (size_t i = 0; i < su->targets.n; i++) {
		const struct ynode *t = targets->items[i];
		long idx = strindex_get(&c->service_ix, su->targets.v[i]);

		if (idx < 0 && c->inactive &&
		    strvec_find(c->inactive, su->targets.v[i]) >= 0)
			return mf_err(
			        c, t,
			        "suite '%s' targets service '%s', which is "
			        "not active (its profiles are not)",
			        su->name, su->targets.v[i]);
		if (idx < 0) {
			const char **names =
			        xcalloc(c->m->nservices + 1, sizeof(*names));
			const char *s;
			int rc;

			for (size_t j = 0; j < c->m->nservices; j++)
				names[j] = c->m->services[j].name;
			s = mf_closest(su->targets.v[i], names,
			               c->m->nservices);
			if (s)
				rc = mf_err(
				        c, t,
				        "suite '%s' targets undefined service "
				        "'%.80s' (did you mean '%s'?)",
				        su->name, su->targets.v[i], s);
			else
				rc = mf_err(
				        c, t,
				        "suite '%s' targets undefined service "
				        "'%.80s'",
				        su->name, su->targets.v[i]);
			free(names);
			return rc;
		}
		if (c->stamp[idx] == c->stamp_gen)
			return mf_err(c, t,
			              "suite '%s' names target '%s' twice",
			              su->name, su->targets.v[i]);
		c->stamp[idx] = c->stamp_gen;
		su->target_index[i] = (size_t)idx;
	}
	return 0;
}

/*
 * In a container, absolute paths there; on the host, host paths, the
 * relative ones against the project directory.
 */
static int suite_artifacts(struct mf_conv *c, struct mf_suite *su,
                           const struct ynode *at)
{
	for (size_t i = 0; i < su->artifacts.n; i++) {
		char *p = su->artifacts.v[i];

		if (p[0] == '/')
			continue;
		if (!su->host)
			return mf_err(c, at,
			              "artifact '%s' must be an absolute path",
			              p);
		su->artifacts.v[i] = mf_resolve_path(c, at, p);
		free(p);
	}
	return 0;
}

int mf_check_suite(struct mf_conv *c, struct mf_unit *u, const struct ynode *at)
{
	struct mf_suite *su = u->suite;
	int has_container, rc;

	rc = suite_artifacts(c, su, u->artifacts);
	if (rc)
		return rc;
	has_container = su->container.image || su->container.build;
	if (su->host && has_container)
		return mf_err(c, at,
		              "suite '%s' runs on the host and cannot have "
		              "'image' or 'build'",
		              su->name);
	if (su->host && !su->command.n)
		return mf_err(c, at,
		              "suite '%s' runs on the host and needs a "
		              "'command'",
		              su->name);
	if (!su->host && !has_container)
		return mf_err(c, at,
		              "suite '%s' needs 'image', 'build' or 'host: "
		              "true'",
		              su->name);
	return suite_targets(c, su, u->targets);
}
