/*
 * runs.c: objects grouped into runs, ownership checks and the stale
 * decision (see runs.h). Never talks to the engine.
 */
#include "runs.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *runs_label(const struct engine_object *o, const char *key)
{
	for (size_t i = 0; i < o->labels.n; i++)
		if (o->labels.keys[i] && !strcmp(o->labels.keys[i], key))
			return o->labels.values[i];
	return NULL;
}

int runs_object_owned(const struct engine_object *o, const char *project,
                      const char *run_id)
{
	const char *p = runs_label(o, LABEL_PROJECT);
	const char *r = runs_label(o, LABEL_RUN_ID);

	if (!project || !*project || !p || strcmp(p, project))
		return 0;
	if (run_id && (!r || strcmp(r, run_id)))
		return 0;
	return 1;
}

void run_set_release(struct run_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->items[i].project);
		free(s->items[i].run_id);
	}
	free(s->items);
	s->items = NULL;
	s->n = s->alloc = 0;
}

struct run_info *run_set_find(const struct run_set *s, const char *project,
                              const char *run_id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->items[i].project, project) &&
		    !strcmp(s->items[i].run_id, run_id))
			return &s->items[i];
	return NULL;
}

int runs_object_owner(const struct engine_object *o, struct run_owner *owner)
{
	return run_owner_parse(owner, runs_label(o, LABEL_OWNER_HOST),
	                       runs_label(o, LABEL_OWNER_PID),
	                       runs_label(o, LABEL_OWNER_START),
	                       runs_label(o, LABEL_OWNER_PIDNS),
	                       runs_label(o, LABEL_OWNER_BOOT));
}

static int same_owner(const struct run_owner *a, const struct run_owner *b)
{
	return a->pid == b->pid && a->start == b->start &&
	       !strcmp(a->host, b->host) && !strcmp(a->pidns, b->pidns) &&
	       !strcmp(a->boot, b->boot);
}

static void note_owner(struct run_info *r, const struct engine_object *o)
{
	struct run_owner owner;

	if (runs_object_owner(o, &owner))
		return;
	if (!r->has_owner) {
		r->owner = owner;
		r->has_owner = 1;
	} else if (!same_owner(&r->owner, &owner)) {
		r->owners_differ = 1;
	}
}

void run_set_add(struct run_set *s, const struct engine_object_list *l,
                 enum run_object_kind kind)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct engine_object *o = &l->items[i];
		const char *project = runs_label(o, LABEL_PROJECT);
		const char *run_id = runs_label(o, LABEL_RUN_ID);
		const char *role = runs_label(o, LABEL_ROLE);
		struct run_info *r;

		if (!project || !*project || !run_id || !*run_id)
			continue;
		r = run_set_find(s, project, run_id);
		if (!r) {
			ALLOC_GROW(s->items, s->n + 1, s->alloc);
			r = &s->items[s->n++];
			memset(r, 0, sizeof(*r));
			r->project = xstrdup(project);
			r->run_id = xstrdup(run_id);
		}
		note_owner(r, o);
		if (role && !strcmp(role, ROLE_KEEP))
			r->kept = 1;
		switch (kind) {
		case RUN_CONTAINER:
			r->containers++;
			break;
		case RUN_NETWORK:
			r->networks++;
			break;
		case RUN_VOLUME:
			r->volumes++;
			break;
		}
	}
}

enum run_verdict run_judge(const struct run_info *r, unsigned flags,
                           run_owner_fn check, const char **why)
{
	enum owner_state st;
	const char *reason = NULL;

	if (why)
		*why = NULL;
	/* without a clear owner we cannot know the run is abandoned: an
	 * object someone labelled by hand, or a half-written run; `down`
	 * removes those on request */
	if (!r->has_owner || r->owners_differ)
		return RUN_UNOWNED;
	st = check(&r->owner, &reason);
	if (why && st == OWNER_UNKNOWN)
		*why = reason;
	if (st == OWNER_ALIVE)
		return RUN_LIVE;
	if (st == OWNER_UNKNOWN && !(flags & RUN_JUDGE_FORCE))
		return RUN_UNKNOWN;
	if (r->kept && !(flags & RUN_JUDGE_KEPT))
		return RUN_KEPT;
	return RUN_STALE;
}

const char *run_verdict_name(enum run_verdict v)
{
	switch (v) {
	case RUN_LIVE:
		return "owner alive";
	case RUN_KEPT:
		return "kept";
	case RUN_UNOWNED:
		return "no owner labels";
	case RUN_UNKNOWN:
		return "owner cannot be checked";
	case RUN_STALE:
		return "owner gone";
	}
	return "?";
}
