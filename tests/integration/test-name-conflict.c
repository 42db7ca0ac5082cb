/*
 * test-name-conflict.c: a container already holds the name a run's
 * container is about to take (issue 14, row 25), against the real engine.
 * The engine refuses the create (409); the env inspects the holder. A
 * leftover of this project's stale run (owner gone, not kept) is removed
 * and the create made again; anything else -- not orchestrate's, another
 * project's, a run whose owner still runs -- fails the run naming the
 * holder and whose it is, and is never touched.
 *
 * The env API rather than the binary: names hold the run id, which only
 * exists once the run does. Every object carries the test's project or
 * its own label; the test checks that nothing is left, and removes what
 * is (a safety net).
 *
 * Skips (TAP "1..0 # SKIP") with ORCHESTRATE_NO_ENGINE=1; fails without an
 * engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_ops.h"
#include "env.h"
#include "error.h"
#include "evloop.h"
#include "harness.h"
#include "labels.h"
#include "manifest.h"
#include "real-engine.h"
#include "util.h"

#define FOREIGN "orchestrate.test.foreign"

/* two services: the other one's live container shares the run id */
static const char yaml[] = "services:\n"
                           "  app:\n"
                           "    image: local/busybox\n"
                           "    command: [sleep, '3600']\n"
                           "  side:\n"
                           "    image: local/busybox\n"
                           "    command: [sleep, '3600']\n";

static struct engine *eng;
static struct manifest *man;
static char project[64];

/* A pid that is gone: a child that exited and was reaped. */
static long dead_pid(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return (long)p;
}

/*
 * Create a container named name holding labels: which == 0 none but the
 * test's, 1 this project's with a dead owner, 2 this project's with a
 * live owner (us), 3 another project's with a dead owner. Returns its id.
 */
static char *holder(const char *name, const char *run, int which)
{
	struct engine_label l[16];
	struct engine_container_spec s = { 0 };
	char *argv[] = { "sleep", "3600", NULL };
	char other[80];
	struct run_owner o;
	size_t n = 0;
	char *id = NULL;

	l[n++] = (struct engine_label){ FOREIGN, project };
	run_owner_self(&o);
	if (which == 1 || which == 3) {
		o.pid = dead_pid();
		snprintf(o.pid_text, sizeof(o.pid_text), "%ld", o.pid);
	}
	snprintf(other, sizeof(other), "%s-other", project);
	if (which) {
		l[n++] = (struct engine_label){ LABEL_PROJECT,
			                        which == 3 ? other : project };
		l[n++] = (struct engine_label){ LABEL_RUN_ID, run };
		l[n++] = (struct engine_label){ LABEL_ROLE, ROLE_SERVICE };
		n += run_owner_labels(&o, l + n);
	}
	s.name = name;
	s.image = "local/busybox";
	s.cmd = argv;
	s.labels = l;
	s.nlabels = n;
	s.stop_timeout_s = -1;
	if (engine_container_create(eng, &s, &id))
		printf("# holder: %s\n", orch_error_last());
	return id;
}

/* The id of the container named name now, or NULL. */
static char *id_of(const char *name)
{
	struct engine_container_info info;
	char *id = NULL;

	if (engine_container_inspect(eng, name, &info) == 0 && info.id)
		id = xstrdup(info.id);
	engine_container_info_release(&info);
	return id;
}

/* Objects of the project still on the engine (the holders aside). */
static size_t project_objects(void)
{
	struct engine_label f = { LABEL_PROJECT, project };
	struct engine_object_list l = { 0 };
	size_t n = 0;

	if (engine_container_list(eng, &f, 1, &l) == 0)
		n += l.n;
	engine_object_list_release(&l);
	if (engine_network_list(eng, &f, 1, &l) == 0)
		n += l.n;
	engine_object_list_release(&l);
	if (engine_volume_list(eng, &f, 1, &l) == 0)
		n += l.n;
	engine_object_list_release(&l);
	return n;
}

/*
 * A run whose container 'app' finds its name held by a holder of kind
 * which (see holder()): want_ok says whether `up` succeeds; why is in the
 * message when it does not.
 */
static void conflict(int which, int want_ok, const char *why)
{
	struct evloop *loop = evloop_new(eng);
	struct env_opts o = { .project = project, .loop = loop };
	enum plan_mode modes[2] = { PLAN_REAL, PLAN_REAL };
	struct env *env = NULL;
	char name[128], msg[1024];
	char *old, *now;
	int rc;

	env_new(&env, eng, man, &o);
	snprintf(name, sizeof(name), "%s-%s-app", project, env_run_id(env));
	/* a leftover with our name carries our run id; a live holder is
	   another run's (one with this run's labels goes with this run's
	   teardown, like everything labelled so) */
	old = holder(name, which == 1 ? env_run_id(env) : "0123456789ab",
	             which);
	ASSERT(old != NULL);
	rc = env_reach(env, modes, -1);
	snprintf(msg, sizeof(msg), "%s", rc ? orch_error_last() : "ok");
	printf("# up: %s\n", msg);
	now = id_of(name);
	if (want_ok) {
		ASSERT_EQ_INT(rc, 0);
		/* the leftover went, ours took the name */
		ASSERT(now != NULL && strcmp(now, old) != 0);
		ASSERT_EQ_STR(env_service(env, 0)->container_id, now);
	} else {
		ASSERT(rc < 0);
		ASSERT_CONTAINS(msg, "service 'app': create: name '");
		ASSERT_CONTAINS(msg, name);
		ASSERT_CONTAINS(msg, why);
		ASSERT_CONTAINS(msg, "orchestrate neither uses nor removes it");
	}
	ASSERT_EQ_INT(env_teardown(env, 1, NULL), 0);
	if (!want_ok) {
		/* never touched: the same container holds the name after the
		   teardown, which goes by the run's labels */
		free(now);
		now = id_of(name);
		ASSERT(now != NULL && !strcmp(now, old));
		engine_container_remove(eng, old, 1);
	}
	free(old);
	free(now);
	env_free(env);
	evloop_free(loop);
	ASSERT_EQ_INT(project_objects(), 0);
}

TEST(stale_leftover_of_ours_is_removed)
{
	conflict(1, 1, NULL);
}

TEST(not_orchestrates_is_left_alone)
{
	conflict(0, 0,
	         "which is not orchestrate's (no io.orchestrate. labels)");
}

TEST(live_run_of_ours_is_left_alone)
{
	conflict(2, 0, "still runs");
}

TEST(another_projects_is_left_alone)
{
	char why[128];

	snprintf(why, sizeof(why), "which belongs to project '%s-other'",
	         project);
	conflict(3, 0, why);
}

/* The safety net: whatever a failed check left behind goes. */
static void sweep(void)
{
	struct engine_label f[] = { { FOREIGN, project },
		                    { LABEL_PROJECT, project } };
	struct engine_object_list l = { 0 };

	for (size_t k = 0; k < 2; k++) {
		if (engine_container_list(eng, &f[k], 1, &l) == 0)
			for (size_t i = 0; i < l.n; i++)
				engine_container_remove(eng, l.items[i].id, 1);
		engine_object_list_release(&l);
		if (engine_network_list(eng, &f[k], 1, &l) == 0)
			for (size_t i = 0; i < l.n; i++)
				engine_network_remove(eng, l.items[i].id);
		engine_object_list_release(&l);
	}
}

int main(void)
{
	int rc;

	rc = real_engine(&eng);
	if (rc)
		return rc - 1;
	rc = manifest_load_buffer("/tmp/name-conflict.yaml", yaml,
	                          sizeof(yaml) - 1, NULL, NULL, &man);
	if (rc) {
		printf("Bail out! %s\n", orch_error_last());
		return 1;
	}
	snprintf(project, sizeof(project), "lt-name-conflict-%ld",
	         (long)getpid());
	/* no gate: its directory is the test's business elsewhere */
	setenv("ORCHESTRATE_NO_GATE", "1", 1);
	RUN(stale_leftover_of_ours_is_removed);
	RUN(not_orchestrates_is_left_alone);
	RUN(live_run_of_ours_is_left_alone);
	RUN(another_projects_is_left_alone);
	sweep();
	manifest_free(man);
	engine_free(eng);
	return harness_done();
}
