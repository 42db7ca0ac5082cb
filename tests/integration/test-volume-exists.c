/*
 * test-volume-exists.c: a declared volume whose name is already taken,
 * against the real engine. Docker's volume create answers 201 with the
 * existing volume, labels and all, instead of an error; `up` must see
 * from those labels that it is not this run's, fail naming it, never
 * mount it, and leave it alone when it tears the run down.
 *
 * The env API rather than the binary: the volume's name holds the run id,
 * which only exists once the run does. Every object carries the test's
 * project or its own label; the test checks that none is left, and
 * removes what is (a safety net, so one failure does not leak).
 *
 * Skips (TAP "1..0 # SKIP") with ORCHESTRATE_NO_ENGINE=1; fails without an engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static const char yaml[] = "services:\n"
                           "  app:\n"
                           "    image: local/busybox\n"
                           "    command: [sleep, '3600']\n"
                           "    volumes: ['data:/data']\n"
                           "volumes:\n"
                           "  data: {}\n";

static struct engine *eng;
static struct manifest *man;
static char project[64];

/* The volumes carrying label key=value (NULL: key alone). */
static size_t count_volumes(const char *key, const char *value)
{
	struct engine_label f = { key, value };
	struct engine_object_list l = { 0 };
	size_t n = (size_t)-1;

	if (engine_volume_list(eng, &f, 1, &l) == 0)
		n = l.n;
	engine_object_list_release(&l);
	return n;
}

/* Containers, networks and volumes of the project still on the engine. */
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
	return n + count_volumes(LABEL_PROJECT, project);
}

/* Docker itself: a second create of a name hands back the first volume. */
TEST(engine_hands_back_existing_volume)
{
	char name[128];
	struct engine_label mine = { FOREIGN, project };
	struct engine_label other = { LABEL_PROJECT, project };
	struct engine_object got;

	snprintf(name, sizeof(name), "%s-quirk", project);
	ASSERT_EQ_INT(engine_volume_create(eng, name, &mine, 1, &got), 0);
	ASSERT_EQ_STR(engine_object_label(&got, FOREIGN), project);
	engine_object_release(&got);
	ASSERT_EQ_INT(engine_volume_create(eng, name, &other, 1, &got), 0);
	ASSERT_EQ_STR(got.name, name);
	/* the labels are the first creator's, not what we asked for */
	ASSERT_EQ_STR(engine_object_label(&got, FOREIGN), project);
	ASSERT(engine_object_label(&got, LABEL_PROJECT) == NULL);
	engine_object_release(&got);
	ASSERT_EQ_INT(engine_volume_remove(eng, name, 1), 0);
}

/*
 * `up` of a run whose volume name is taken by a volume with labels lab:
 * refused with why in the message, and the volume survives teardown.
 */
static void taken_by(const struct engine_label *lab, size_t nlab,
                     const char *why)
{
	struct evloop *loop = evloop_new(eng);
	struct env_opts o = { .project = project, .loop = loop };
	enum plan_mode modes[1] = { PLAN_REAL };
	struct env *env = NULL;
	char name[128], msg[1024];
	int rc;

	env_new(&env, eng, man, &o);
	snprintf(name, sizeof(name), "%s-%s-data", project, env_run_id(env));
	ASSERT_EQ_INT(engine_volume_create(eng, name, lab, nlab, NULL), 0);
	rc = env_reach(env, modes, -1);
	snprintf(msg, sizeof(msg), "%s", orch_error_last());
	printf("# up: %s\n", msg);
	ASSERT_EQ_INT(rc, ORCH_ECONFLICT);
	ASSERT_CONTAINS(msg, "volume 'data': '");
	ASSERT_CONTAINS(msg, name);
	ASSERT_CONTAINS(msg, why);
	ASSERT_CONTAINS(msg, "orchestrate neither uses nor removes it");
	/* it failed before any container: the service never got the volume */
	ASSERT(env_service(env, 0)->container_id == NULL);
	ASSERT_EQ_INT(env_teardown(env, 1, NULL), 0);
	ASSERT_EQ_INT(count_volumes(FOREIGN, project), 1);
	env_free(env);
	evloop_free(loop);
	ASSERT_EQ_INT(engine_volume_remove(eng, name, 1), 0);
}

TEST(volume_of_someone_else)
{
	struct engine_label lab = { FOREIGN, project };

	taken_by(&lab, 1, "is not orchestrate's (no io.orchestrate. labels)");
}

TEST(volume_of_another_run)
{
	/* the project's labels, another run id: still not ours to use; the
	 * test's own label makes it findable */
	struct engine_label lab[] = { { LABEL_PROJECT, project },
		                      { LABEL_RUN_ID, "0123456789ab" },
		                      { LABEL_ROLE, ROLE_VOLUME },
		                      { FOREIGN, project } };
	char why[160];

	snprintf(why, sizeof(why),
	         "is not this run's (it belongs to project '%s', run "
	         "'0123456789ab')",
	         project);
	taken_by(lab, 4, why);
}

TEST(nothing_left)
{
	ASSERT_EQ_INT(project_objects(), 0);
	ASSERT_EQ_INT(count_volumes(FOREIGN, project), 0);
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
		if (engine_volume_list(eng, &f[k], 1, &l) == 0)
			for (size_t i = 0; i < l.n; i++)
				engine_volume_remove(eng, l.items[i].name, 1);
		engine_object_list_release(&l);
	}
}

int main(void)
{
	int rc;

	rc = real_engine(&eng);
	if (rc)
		return rc - 1;
	rc = manifest_load_buffer("/tmp/volume-exists.yaml", yaml,
	                          sizeof(yaml) - 1, NULL, NULL, &man);
	if (rc) {
		printf("Bail out! %s\n", orch_error_last());
		return 1;
	}
	snprintf(project, sizeof(project), "lt-volume-exists-%ld",
	         (long)getpid());
	RUN(engine_hands_back_existing_volume);
	RUN(volume_of_someone_else);
	RUN(volume_of_another_run);
	RUN(nothing_left);
	sweep();
	manifest_free(man);
	engine_free(eng);
	return harness_done();
}
