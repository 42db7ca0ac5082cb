/*
 * mfbuild.h: build small manifests in C for the unit tests, without the
 * YAML loader: svc() and suite() name dependencies and targets, finish()
 * resolves them into indices, release() frees what these made (and only
 * that: the loader's manifest_free() owns a fuller model).
 */
#ifndef ORCH_MFBUILD_H
#define ORCH_MFBUILD_H

#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "util.h"

enum { REAL = 1, STUB = 2 };

/*
 * Dependencies are given by name ("api,db:h") and resolved by finish();
 * a suffix sets the condition.
 */
static inline void svc(struct manifest *m, const char *name, int flags,
                       const char *deps)
{
	struct mf_service *s;
	struct strvec names = STRVEC_INIT;
	const char *p = deps;

	m->services = xrealloc(m->services,
	                       (m->nservices + 1) * sizeof(*m->services));
	s = &m->services[m->nservices++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->has_real = !!(flags & REAL);
	if (flags & STUB)
		s->stub = xcalloc(1, sizeof(*s->stub));
	while (p && *p) {
		size_t len = strcspn(p, ",");

		strvec_push_nodup(&names, xstrndup(p, len));
		p += len + (p[len] == ',');
	}
	s->ndeps = names.n;
	s->deps = xcalloc(names.n ? names.n : 1, sizeof(*s->deps));
	for (size_t i = 0; i < names.n; i++) {
		char *colon = strchr(names.v[i], ':');

		/* "db:h" waits for healthy, "db:c" for completion */
		if (colon) {
			s->deps[i].condition =
			        colon[1] == 'h'
			                ? MF_SERVICE_HEALTHY
			                : MF_SERVICE_COMPLETED_SUCCESSFULLY;
			*colon = '\0';
		}
		s->deps[i].name = names.v[i];
		names.v[i] = NULL;
	}
	free(names.v);
}

static inline void suite(struct manifest *m, const char *name,
                         const char *targets)
{
	struct mf_suite *su;
	const char *p = targets;

	m->suites = xrealloc(m->suites, (m->nsuites + 1) * sizeof(*m->suites));
	su = &m->suites[m->nsuites++];
	memset(su, 0, sizeof(*su));
	su->name = xstrdup(name);
	while (*p) {
		size_t len = strcspn(p, ",");

		strvec_push_nodup(&su->targets, xstrndup(p, len));
		p += len + (p[len] == ',');
	}
}

static inline int find(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nservices; i++)
		if (!strcmp(m->services[i].name, name))
			return (int)i;
	abort();
}

static inline void finish(struct manifest *m)
{
	for (size_t i = 0; i < m->nservices; i++)
		for (size_t d = 0; d < m->services[i].ndeps; d++)
			m->services[i].deps[d].index =
			        (size_t)find(m, m->services[i].deps[d].name);
	for (size_t k = 0; k < m->nsuites; k++) {
		struct mf_suite *su = &m->suites[k];

		su->target_index = xcalloc(su->targets.n + 1, sizeof(size_t));
		for (size_t t = 0; t < su->targets.n; t++)
			su->target_index[t] = (size_t)find(m, su->targets.v[t]);
	}
}

static inline void release(struct manifest *m)
{
	for (size_t i = 0; i < m->nservices; i++) {
		for (size_t d = 0; d < m->services[i].ndeps; d++)
			free(m->services[i].deps[d].name);
		free(m->services[i].deps);
		free(m->services[i].stub);
		free(m->services[i].name);
	}
	for (size_t k = 0; k < m->nsuites; k++) {
		free(m->suites[k].name);
		strvec_clear(&m->suites[k].targets);
		free(m->suites[k].target_index);
	}
	free(m->services);
	free(m->suites);
	memset(m, 0, sizeof(*m));
}

#endif
