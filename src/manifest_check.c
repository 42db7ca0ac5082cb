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

static int declared_volume(struct mf_conv *c, const char *name)
{
	return strindex_get(&c->volume_ix, name) >= 0;
}

/*
 * Binds that hand a container the host (reference §d.5): allowed, since
 * a test may need them, but never silently.
 */
static void warn_dangerous_bind(struct mf_conv *c, const struct ynode *v,
                                const char *src)
{
	static const char *const paths[] = { "/",    "/etc",  "/var/run",
		                             "/run", "/proc", "/sys",
		                             "/dev" };
	const char *home = getenv("HOME");

	if (strstr(src, "docker.sock")) {
		mf_warn(c, v,
		        "bind mount of '%s' gives the container control of the "
		        "engine",
		        src);
		return;
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (!strcmp(src, paths[i])) {
			mf_warn(c, v, "bind mount of the host's '%s'", src);
			return;
		}
	}
	if (home && *home && !strcmp(src, home))
		mf_warn(c, v, "bind mount of the home directory '%s'", src);
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
		warn_dangerous_bind(c, v, mt->source);
	}
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
				        c->origin, dep->line, dep->col,
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
				        c->origin, dep->line, dep->col,
				        "service '%s' depends on undefined "
				        "service '%.80s' (did you mean '%s'?)",
				        s->name, dep->name, sug);
			else
				rc = orch_error_at(
				        c->origin, dep->line, dep->col,
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

		rc = orch_error_at(c->origin, s->line, s->col,
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

int mf_check_service(struct mf_conv *c, struct mf_unit *u,
                     const struct ynode *at)
{
	struct mf_service *s = u->service;

	s->has_real = s->real.image || s->real.build;
	if (!s->has_real && !s->stub)
		return mf_err(c, at,
		              "service '%s' needs 'image', 'build' or 'stub'",
		              s->name);
	return 0;
}

int mf_check_stub(struct mf_conv *c, struct mf_unit *u, const struct ynode *at)
{
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
		su->artifacts.v[i] = mf_resolve_path(c, p);
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
