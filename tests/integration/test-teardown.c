/*
 * test-teardown.c: teardown_run() and teardown_stale() through the engine
 * client against the real engine (suite docker): run-id scoping, the
 * deadline bounding a long stop grace period, and the in-process time to
 * remove 5 containers and a network. Objects carry a unique project and
 * are removed at the end whatever happened.
 *
 * Skipped (TAP "1..0 # SKIP") only when ORCHESTRATE_NO_ENGINE=1; no
 * engine otherwise fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_ops.h"
#include "error.h"
#include "harness.h"
#include "labels.h"
#include "real-engine.h"
#include "teardown.h"
#include "util.h"

static struct engine *e;
static char project[64];

/* A running busybox container of run_id; extra label optional. */
static int service(const char *run_id, const char *name, const char *net,
                   const char *key, const char *value)
{
	struct run_owner me;
	struct engine_label l[4 + RUN_OWNER_NLABELS] = {
		{ LABEL_PROJECT, project },
		{ LABEL_RUN_ID, run_id },
		{ LABEL_ROLE, ROLE_SERVICE },
	};
	size_t nl = 3;
	char *const cmd[] = { "sleep", "3600", NULL };
	struct engine_container_spec s = { 0 };
	char *full = xasprintf("%s-%s-%s", project, run_id, name), *id = NULL;
	int rc;

	run_owner_self(&me);
	nl += run_owner_labels(&me, l + nl);
	if (key)
		l[nl++] = (struct engine_label){ key, value };
	s.name = full;
	s.image = "local/busybox";
	s.cmd = cmd;
	s.labels = l;
	s.nlabels = nl;
	s.network = net;
	s.stop_timeout_s = -1;
	rc = engine_container_create(e, &s, &id);
	if (rc == 0)
		rc = engine_container_start(e, id);
	if (rc)
		printf("# %s: %s\n", full, orch_error_last());
	free(id);
	free(full);
	return rc;
}

static size_t count(const char *run_id)
{
	struct engine_label f[2] = { { LABEL_PROJECT, project },
		                     { LABEL_RUN_ID, run_id } };
	struct engine_object_list l = { 0 };
	size_t n = 0, nf = run_id ? 2 : 1;

	if (engine_container_list(e, f, nf, &l) == 0)
		n += l.n;
	engine_object_list_release(&l);
	if (engine_network_list(e, f, nf, &l) == 0)
		n += l.n;
	engine_object_list_release(&l);
	if (engine_volume_list(e, f, nf, &l) == 0)
		n += l.n;
	engine_object_list_release(&l);
	return n;
}

TEST(run_id_scopes_the_teardown)
{
	struct teardown_opts o = { 0 };
	struct teardown_stats st;

	ASSERT_EQ_INT(service("r1", "a", NULL, NULL, NULL), 0);
	ASSERT_EQ_INT(service("r1", "b", NULL, NULL, NULL), 0);
	ASSERT_EQ_INT(service("r2", "a", NULL, NULL, NULL), 0);
	o.project = project;
	o.run_id = "r1";
	ASSERT_EQ_INT(teardown_run(e, &o, &st), 0);
	ASSERT_EQ_INT(st.containers, 2);
	ASSERT_EQ_INT(st.failed, 0);
	ASSERT_EQ_INT(count("r1"), 0);
	ASSERT_EQ_INT(count("r2"), 1);
	/* idempotent */
	ASSERT_EQ_INT(teardown_run(e, &o, &st), 0);
	ASSERT_EQ_INT(st.containers + st.networks + st.volumes, 0);
	o.run_id = "r2";
	ASSERT_EQ_INT(teardown_run(e, &o, &st), 0);
	ASSERT_EQ_INT(count(NULL), 0);
}

TEST(deadline_bounds_a_grace_period)
{
	struct teardown_opts o = { 0 };
	struct teardown_stats st;
	int64_t t0;
	long took;

	/* sleep as PID 1 ignores SIGTERM: the full grace would be 60 s */
	ASSERT_EQ_INT(service("r3", "slow", NULL, LABEL_STOP_GRACE, "60"), 0);
	o.project = project;
	o.run_id = "r3";
	o.deadline_ms = 3000;
	t0 = now_ms();
	ASSERT_EQ_INT(teardown_run(e, &o, &st), 0);
	took = (long)(now_ms() - t0);
	printf("# grace 60 s under a 3 s deadline: removed in %ld ms\n", took);
	ASSERT(took < 6000);
	ASSERT_EQ_INT(st.containers, 1);
	ASSERT_EQ_INT(count("r3"), 0);
}

TEST(force_kill_ignores_the_grace_period)
{
	struct teardown_opts o = { 0 };
	struct teardown_stats st;
	int64_t t0;
	long took;

	ASSERT_EQ_INT(service("r4", "slow", NULL, LABEL_STOP_GRACE, "60"), 0);
	o.project = project;
	o.run_id = "r4";
	o.force_kill = 1;
	t0 = now_ms();
	ASSERT_EQ_INT(teardown_run(e, &o, &st), 0);
	took = (long)(now_ms() - t0);
	printf("# grace 60 s with force_kill: removed in %ld ms\n", took);
	ASSERT(took < 5000);
	ASSERT_EQ_INT(count("r4"), 0);
}

TEST(stale_runs_only)
{
	struct teardown_stats st;
	size_t runs = 0;

	/* this process owns r5: alive, so not stale */
	ASSERT_EQ_INT(service("r5", "a", NULL, NULL, NULL), 0);
	ASSERT_EQ_INT(teardown_stale(e, project, &runs, &st), 0);
	ASSERT_EQ_INT(runs, 0);
	ASSERT_EQ_INT(count("r5"), 1);
}

TEST(five_containers_and_a_network)
{
	struct engine_label l[3] = { { LABEL_PROJECT, project },
		                     { LABEL_RUN_ID, "r6" },
		                     { LABEL_ROLE, ROLE_NETWORK } };
	struct teardown_opts o = { 0 };
	struct teardown_stats st;
	char *net = NULL, *name = xasprintf("%s-r6-net", project);
	int64_t t0;

	ASSERT_EQ_INT(engine_network_create(e, name, l, 3, &net), 0);
	free(name);
	for (int i = 0; i < 5; i++) {
		char n[16];

		snprintf(n, sizeof(n), "c%d", i);
		ASSERT_EQ_INT(service("r6", n, net, NULL, NULL), 0);
	}
	free(net);
	o.project = project;
	o.run_id = "r6";
	t0 = now_ms();
	ASSERT_EQ_INT(teardown_run(e, &o, &st), 0);
	printf("# teardown_run: 5 running containers + 1 network in %lld ms\n",
	       (long long)(now_ms() - t0));
	ASSERT_EQ_INT(st.containers, 5);
	ASSERT_EQ_INT(st.networks, 1);
	ASSERT_EQ_INT(count("r6"), 0);
}

int main(void)
{
	struct teardown_opts all = { 0 };
	char id[RUN_ID_LEN + 1];
	int rc;

	rc = real_engine(&e);
	if (rc)
		return rc - 1;
	run_id_new(id);
	snprintf(project, sizeof(project), "orchtest-teardown-%s", id);
	RUN(run_id_scopes_the_teardown);
	RUN(deadline_bounds_a_grace_period);
	RUN(force_kill_ignores_the_grace_period);
	RUN(stale_runs_only);
	RUN(five_containers_and_a_network);
	/* leave the engine as we found it, whatever failed */
	all.project = project;
	teardown_run(e, &all, NULL);
	if (count(NULL) != 0)
		printf("# leftovers of project '%s'\n", project);
	engine_free(e);
	return harness_done();
}
