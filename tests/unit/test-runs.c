/*
 * test-runs.c: grouping labelled objects into runs, the ownership check
 * made before every removal, and gc's verdict: stale, live, kept, without
 * owner, or an owner that cannot be checked from here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "harness.h"
#include "labels.h"
#include "runs.h"
#include "teardown.h"
#include "util.h"

/* An object with labels given as "key", "value" pairs, NULL-terminated. */
static void object_init(struct engine_object *o, const char *name, ...)
{
	va_list ap;
	const char *k;

	memset(o, 0, sizeof(*o));
	o->id = xasprintf("id-%s", name);
	o->name = xstrdup(name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		size_t n = o->labels.n + 1;

		o->labels.keys = xrealloc(o->labels.keys, n * sizeof(char *));
		o->labels.values =
		        xrealloc(o->labels.values, n * sizeof(char *));
		o->labels.keys[o->labels.n] = xstrdup(k);
		o->labels.values[o->labels.n] = xstrdup(v);
		o->labels.n = n;
	}
	va_end(ap);
}

static void object_release(struct engine_object *o)
{
	for (size_t i = 0; i < o->labels.n; i++) {
		free(o->labels.keys[i]);
		free(o->labels.values[i]);
	}
	free(o->labels.keys);
	free(o->labels.values);
	free(o->id);
	free(o->name);
}

static void list_release(struct engine_object_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		object_release(&l->items[i]);
	free(l->items);
}

#define OWNER(pid)                                                             \
	LABEL_OWNER_HOST, "host-a", LABEL_OWNER_PID, pid, LABEL_OWNER_START,   \
	        "100", LABEL_OWNER_PIDNS, "4026531836", LABEL_OWNER_BOOT,      \
	        "boot-a"

/*
 * Pids below 100 are alive in these tests, from 1000 on they cannot be
 * checked (another PID namespace, say); the rest are gone.
 */
static enum owner_state fake_check(const struct run_owner *o, const char **why)
{
	if (o->pid < 100)
		return OWNER_ALIVE;
	if (o->pid >= 1000) {
		*why = "is in another PID namespace";
		return OWNER_UNKNOWN;
	}
	return OWNER_GONE;
}

TEST(owned_needs_matching_labels)
{
	struct engine_object o;

	object_init(&o, "shop-db", LABEL_PROJECT, "shop", LABEL_RUN_ID, "r1",
	            NULL);
	ASSERT(runs_object_owned(&o, "shop", NULL));
	ASSERT(runs_object_owned(&o, "shop", "r1"));
	ASSERT(!runs_object_owned(&o, "shop", "r2"));
	ASSERT(!runs_object_owned(&o, "sho", NULL));
	ASSERT(!runs_object_owned(&o, "shop-x", NULL));
	ASSERT(!runs_object_owned(&o, "", NULL));
	ASSERT(!runs_object_owned(&o, NULL, NULL));
	object_release(&o);

	/* the right name, but no labels of ours: never touched */
	object_init(&o, "shop-db", "com.docker.compose.project", "shop", NULL);
	ASSERT(!runs_object_owned(&o, "shop", NULL));
	object_release(&o);

	/* a run id filter also excludes objects without a run id */
	object_init(&o, "shop-db", LABEL_PROJECT, "shop", NULL);
	ASSERT(runs_object_owned(&o, "shop", NULL));
	ASSERT(!runs_object_owned(&o, "shop", "r1"));
	object_release(&o);
}

TEST(objects_group_into_runs)
{
	struct engine_object_list c = { 0 }, n = { 0 }, v = { 0 };
	struct run_set s = RUN_SET_INIT;
	struct run_info *r;

	c.items = xcalloc(4, sizeof(*c.items));
	object_init(&c.items[c.n++], "a-db", LABEL_PROJECT, "a", LABEL_RUN_ID,
	            "r1", OWNER("500"), NULL);
	object_init(&c.items[c.n++], "a-api", LABEL_PROJECT, "a", LABEL_RUN_ID,
	            "r1", OWNER("500"), NULL);
	object_init(&c.items[c.n++], "b-db", LABEL_PROJECT, "b", LABEL_RUN_ID,
	            "r1", OWNER("7"), NULL);
	/* no run id: belongs to no run */
	object_init(&c.items[c.n++], "a-odd", LABEL_PROJECT, "a", NULL);
	n.items = xcalloc(1, sizeof(*n.items));
	object_init(&n.items[n.n++], "a-net", LABEL_PROJECT, "a", LABEL_RUN_ID,
	            "r1", OWNER("500"), NULL);
	v.items = xcalloc(1, sizeof(*v.items));
	object_init(&v.items[v.n++], "a-keep", LABEL_PROJECT, "a", LABEL_RUN_ID,
	            "r2", LABEL_ROLE, ROLE_KEEP, OWNER("501"), NULL);

	run_set_add(&s, &c, RUN_CONTAINER);
	run_set_add(&s, &n, RUN_NETWORK);
	run_set_add(&s, &v, RUN_VOLUME);
	ASSERT_EQ_INT(s.n, 3);

	r = run_set_find(&s, "a", "r1");
	ASSERT(r);
	ASSERT_EQ_INT(r->containers, 2);
	ASSERT_EQ_INT(r->networks, 1);
	ASSERT_EQ_INT(r->volumes, 0);
	ASSERT(r->has_owner);
	ASSERT(!r->owners_differ);
	ASSERT_EQ_INT(r->owner.pid, 500);
	ASSERT(!r->kept);

	/* the same run id in another project is another run */
	r = run_set_find(&s, "b", "r1");
	ASSERT(r);
	ASSERT_EQ_INT(r->containers, 1);

	r = run_set_find(&s, "a", "r2");
	ASSERT(r);
	ASSERT(r->kept);
	ASSERT_EQ_INT(r->volumes, 1);

	ASSERT(!run_set_find(&s, "a", "r3"));
	run_set_release(&s);
	run_set_release(NULL);
	list_release(&c);
	list_release(&n);
	list_release(&v);
}

static enum run_verdict judge_one(unsigned flags, ...)
{
	struct engine_object_list l = { 0 };
	struct run_set s = RUN_SET_INIT;
	enum run_verdict v = RUN_UNOWNED;
	va_list ap;
	const char *pid, *role;

	l.items = xcalloc(4, sizeof(*l.items));
	va_start(ap, flags);
	/* pairs of (owner pid or NULL, role or NULL), ended by "" */
	while ((pid = va_arg(ap, const char *)) == NULL || *pid) {
		role = va_arg(ap, const char *);
		if (pid && role)
			object_init(&l.items[l.n], "x", LABEL_PROJECT, "p",
			            LABEL_RUN_ID, "r", LABEL_ROLE, role,
			            OWNER(pid), NULL);
		else if (pid)
			object_init(&l.items[l.n], "x", LABEL_PROJECT, "p",
			            LABEL_RUN_ID, "r", OWNER(pid), NULL);
		else
			object_init(&l.items[l.n], "x", LABEL_PROJECT, "p",
			            LABEL_RUN_ID, "r", LABEL_ROLE,
			            role ? role : ROLE_SERVICE, NULL);
		l.n++;
	}
	va_end(ap);
	run_set_add(&s, &l, RUN_CONTAINER);
	if (s.n == 1)
		v = run_judge(&s.items[0], flags, fake_check, NULL);
	run_set_release(&s);
	list_release(&l);
	return v;
}

#define KEPT  RUN_JUDGE_KEPT
#define FORCE RUN_JUDGE_FORCE

TEST(stale_decision)
{
	/* owner gone, not kept: stale */
	ASSERT_EQ_INT(judge_one(0, "500", ROLE_SERVICE, ""), RUN_STALE);
	/* owner alive: never stale, kept or not, --all, --force or not */
	ASSERT_EQ_INT(judge_one(0, "5", ROLE_SERVICE, ""), RUN_LIVE);
	ASSERT_EQ_INT(judge_one(KEPT, "5", ROLE_KEEP, ""), RUN_LIVE);
	ASSERT_EQ_INT(judge_one(KEPT | FORCE, "5", ROLE_SERVICE, ""), RUN_LIVE);
	/* a keep marker protects a run whose owner is gone ... */
	ASSERT_EQ_INT(judge_one(0, "500", ROLE_SERVICE, "500", ROLE_KEEP, ""),
	              RUN_KEPT);
	ASSERT_EQ_INT(judge_one(FORCE, "500", ROLE_KEEP, ""), RUN_KEPT);
	/* ... unless gc --all */
	ASSERT_EQ_INT(
	        judge_one(KEPT, "500", ROLE_SERVICE, "500", ROLE_KEEP, ""),
	        RUN_STALE);
	/* no owner labels at all: left alone, even with --force */
	ASSERT_EQ_INT(judge_one(0, NULL, ROLE_SERVICE, ""), RUN_UNOWNED);
	ASSERT_EQ_INT(judge_one(KEPT | FORCE, NULL, ROLE_SERVICE, ""),
	              RUN_UNOWNED);
	/* one object with an owner is enough */
	ASSERT_EQ_INT(judge_one(0, NULL, ROLE_SERVICE, "500", NULL, ""),
	              RUN_STALE);
	/* objects that disagree about the owner: left alone, even if one
	 * owner is gone */
	ASSERT_EQ_INT(judge_one(0, "500", NULL, "600", NULL, ""), RUN_UNOWNED);
	ASSERT_EQ_INT(judge_one(0, "500", NULL, "6", NULL, ""), RUN_UNOWNED);
}

TEST(owner_cannot_be_checked)
{
	const char *why = NULL;
	struct run_info r = { 0 };

	/* left alone, and not as "kept" or "live": gc lists it */
	ASSERT_EQ_INT(judge_one(0, "1500", ROLE_SERVICE, ""), RUN_UNKNOWN);
	ASSERT_EQ_INT(judge_one(KEPT, "1500", ROLE_SERVICE, ""), RUN_UNKNOWN);
	ASSERT_EQ_INT(judge_one(0, "1500", ROLE_SERVICE, "1500", ROLE_KEEP, ""),
	              RUN_UNKNOWN);
	/* --force: judged as if its owner were gone */
	ASSERT_EQ_INT(judge_one(FORCE, "1500", ROLE_SERVICE, ""), RUN_STALE);
	ASSERT_EQ_INT(judge_one(FORCE, "1500", ROLE_KEEP, ""), RUN_KEPT);
	ASSERT_EQ_INT(judge_one(FORCE | KEPT, "1500", ROLE_KEEP, ""),
	              RUN_STALE);
	/* the reason is handed on, with or without --force */
	r.has_owner = 1;
	r.owner.pid = 1500;
	ASSERT_EQ_INT(run_judge(&r, 0, fake_check, &why), RUN_UNKNOWN);
	ASSERT_EQ_STR(why, "is in another PID namespace");
	why = NULL;
	ASSERT_EQ_INT(run_judge(&r, FORCE, fake_check, &why), RUN_STALE);
	ASSERT_EQ_STR(why, "is in another PID namespace");
	r.owner.pid = 500;
	ASSERT_EQ_INT(run_judge(&r, 0, fake_check, &why), RUN_STALE);
	ASSERT(why == NULL);
	ASSERT_EQ_STR(run_verdict_name(RUN_UNKNOWN), "owner cannot be checked");
}

TEST(owners_differ_by_namespace)
{
	struct engine_object_list l = { 0 };
	struct run_set s = RUN_SET_INIT;

	/* the same pid in two namespaces is two owners: not one run's */
	l.items = xcalloc(2, sizeof(*l.items));
	object_init(&l.items[l.n++], "a", LABEL_PROJECT, "p", LABEL_RUN_ID, "r",
	            OWNER("500"), NULL);
	object_init(&l.items[l.n++], "b", LABEL_PROJECT, "p", LABEL_RUN_ID, "r",
	            LABEL_OWNER_HOST, "host-a", LABEL_OWNER_PID, "500",
	            LABEL_OWNER_START, "100", LABEL_OWNER_PIDNS, "4026532176",
	            LABEL_OWNER_BOOT, "boot-a", NULL);
	run_set_add(&s, &l, RUN_CONTAINER);
	ASSERT_EQ_INT(s.n, 1);
	ASSERT(s.items[0].owners_differ);
	ASSERT_EQ_STR(s.items[0].owner.pidns, "4026531836");
	ASSERT_EQ_STR(s.items[0].owner.boot, "boot-a");
	ASSERT_EQ_INT(run_judge(&s.items[0], FORCE, fake_check, NULL),
	              RUN_UNOWNED);
	run_set_release(&s);
	list_release(&l);
}

TEST(real_owner_liveness)
{
	struct run_info r = { 0 };

	/* this process is alive; the verdict uses the real check */
	run_owner_self(&r.owner);
	r.has_owner = 1;
	ASSERT_EQ_INT(run_judge(&r, KEPT, run_owner_check, NULL), RUN_LIVE);
	/* the same pid started at another time is a reused pid */
	r.owner.start += 1;
	ASSERT_EQ_INT(run_judge(&r, 0, run_owner_check, NULL), RUN_STALE);
	ASSERT_EQ_STR(run_verdict_name(RUN_STALE), "owner gone");
	/* in another PID namespace it cannot be told */
	snprintf(r.owner.pidns, sizeof(r.owner.pidns), "1");
	ASSERT_EQ_INT(run_judge(&r, 0, run_owner_check, NULL), RUN_UNKNOWN);
	ASSERT_EQ_INT(run_judge(&r, FORCE, run_owner_check, NULL), RUN_STALE);
}

TEST(summary_line)
{
	struct teardown_stats st = { 0 };
	struct buf b = BUF_INIT;
	struct teardown_opts o = { 0 };

	teardown_stats_format(&b, &st);
	ASSERT_EQ_STR(buf_cstr(&b), "");
	st.containers = 5;
	st.networks = 1;
	st.volumes = 1;
	teardown_stats_format(&b, &st);
	ASSERT_EQ_STR(buf_cstr(&b), "5 containers, 1 network, 1 volume");
	buf_reset(&b);
	st.containers = 1;
	st.networks = 0;
	st.volumes = 2;
	teardown_stats_format(&b, &st);
	ASSERT_EQ_STR(buf_cstr(&b), "1 container, 2 volumes");
	buf_release(&b);

	/* no project: refused before the engine is used */
	ASSERT_EQ_INT(teardown_run(NULL, &o, &st), ORCH_EINVALID);
	o.project = "";
	ASSERT_EQ_INT(teardown_run(NULL, &o, &st), ORCH_EINVALID);
}

int main(void)
{
	RUN(owned_needs_matching_labels);
	RUN(objects_group_into_runs);
	RUN(stale_decision);
	RUN(owner_cannot_be_checked);
	RUN(owners_differ_by_namespace);
	RUN(real_owner_liveness);
	RUN(summary_line);
	return harness_done();
}
