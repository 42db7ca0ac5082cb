/*
 * test-env-fake.c: the env state machine against a stateful fake engine
 * (fakedocker.py), no Docker needed: a stage that adds a service, a swap
 * of a stub for its real service (the order of the calls, the name never
 * answered twice, the caller checked again), a swap whose stub cannot be
 * detached, a service that dies after it was ready, one removed by
 * another client, and a job judged by the manifest, not by the stage.
 *
 * Usage: test-env-fake PYTHON FAKEDOCKER.PY
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine_ops.h"
#include "env.h"
#include "error.h"
#include "evloop.h"
#include "harness.h"
#include "manifest.h"
#include "teardown.h"
#include "util.h"

static struct engine *eng;
static char sock[256];

static const char two[] =
        "services:\n"
        "  db:\n"
        "    image: local/db\n"
        "    networks: {default: {aliases: [database]}}\n"
        "    ready: {exec: [pg_isready]}\n"
        "    stub: {image: local/db-stub, ready: {exec: [true]}}\n"
        "  api:\n"
        "    image: local/api\n"
        "    depends_on: {db: {condition: service_healthy}}\n"
        "    ready: {exec: [check-api]}\n";

static const char job[] =
        "services:\n"
        "  db: {image: local/db, ready: {exec: [pg_isready]}}\n"
        "  migrate:\n"
        "    image: local/migrate\n"
        "    environment: {FAKE_EXIT: '0'}\n"
        "    depends_on: {db: {condition: service_healthy}}\n"
        "  api:\n"
        "    image: local/api\n"
        "    depends_on:\n"
        "      migrate: {condition: service_completed_successfully}\n";

struct run {
	struct manifest *m;
	struct evloop *loop;
	struct env *env;
	char project[64];
};

static int run_open(struct run *r, const char *yaml, const char *project)
{
	struct env_opts o = { 0 };

	memset(r, 0, sizeof(*r));
	if (manifest_load_buffer("/tmp/fake.yaml", yaml, strlen(yaml), NULL,
	                         NULL, &r->m)) {
		printf("# manifest: %s\n", orch_error_last());
		return -1;
	}
	snprintf(r->project, sizeof(r->project), "%s", project);
	r->loop = evloop_new(eng);
	o.project = r->project;
	o.loop = r->loop;
	return env_new(&r->env, eng, r->m, &o);
}

/* Tear down, and nothing of the project is left on the fake. */
static int run_close(struct run *r)
{
	struct engine_label f = { LABEL_PROJECT, r->project };
	struct engine_object_list l = { 0 };
	int rc = env_teardown(r->env, 1, NULL), left;

	if (rc)
		printf("# teardown: %s\n", orch_error_last());
	left = engine_container_list(eng, &f, 1, &l) ? -1 : (int)l.n;
	engine_object_list_release(&l);
	if (engine_network_list(eng, &f, 1, &l) == 0)
		left += (int)l.n;
	engine_object_list_release(&l);
	env_free(r->env);
	evloop_free(r->loop);
	manifest_free(r->m);
	return rc || left ? -1 : 0;
}

static int reach(struct run *r, const enum plan_mode *modes)
{
	int rc = env_reach(r->env, modes, -1);

	if (rc)
		printf("# reach: %s\n", orch_error_last());
	return rc;
}

static int fake(const char *method, const char *path, struct buf *out)
{
	struct engine_request q = { .method = method, .path = path };
	long status = 0;
	int rc = engine_request_sync(eng, &q, &status, out);

	return rc ? rc : status >= 300 ? -1 : 0;
}

/* The fake's call log: every call, and alias conflicts. */
static cJSON *fake_log(void)
{
	struct buf b = BUF_INIT;
	cJSON *j = NULL;

	if (fake("GET", "/_fake/log", &b) == 0)
		j = cJSON_ParseWithLength(b.data, b.len);
	buf_release(&b);
	return j;
}

/*
 * Index of the first call from `from` on with method and a path that
 * contains pat, whose body (printed) contains body_pat (NULL: any); -1.
 */
static int find(cJSON *log, int from, const char *method, const char *pat,
                const char *body_pat)
{
	cJSON *calls = cJSON_GetObjectItem(log, "log");
	int n = cJSON_GetArraySize(calls);

	for (int i = from < 0 ? 0 : from; i < n; i++) {
		cJSON *c = cJSON_GetArrayItem(calls, i);
		const char *m = cJSON_GetObjectItem(c, "method")->valuestring;
		const char *p = cJSON_GetObjectItem(c, "path")->valuestring;
		char *b =
		        cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "body"));
		int hit = !strcmp(m, method) && strstr(p, pat) &&
		          (!body_pat || (b && strstr(b, body_pat)));

		free(b);
		if (hit)
			return i;
	}
	return -1;
}

/* The id the create of r's first stage network returned. */
static const char *stage_net_id(cJSON *log, const struct run *r)
{
	char *name =
	        xasprintf("\"%s-%s-stage1\"", r->project, env_run_id(r->env));
	int i = find(log, 0, "POST", "/networks/create", name);
	cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(log, "log"), i);
	cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "reply"), "Id");

	free(name);
	return i >= 0 && cJSON_IsString(id) ? id->valuestring : "?";
}

static int count(cJSON *log, const char *method, const char *pat,
                 const char *body_pat)
{
	int n = 0;

	for (int i = find(log, 0, method, pat, body_pat); i >= 0;
	     i = find(log, i + 1, method, pat, body_pat))
		n++;
	return n;
}

static size_t svc(const struct run *r, const char *name)
{
	return (size_t)manifest_service_index(r->m, name);
}

TEST(stage_adds_a_service)
{
	enum plan_mode one[2] = { PLAN_REAL, PLAN_ABSENT };
	enum plan_mode both[2] = { PLAN_REAL, PLAN_REAL };
	struct run r;
	char *db_id;
	cJSON *log;

	ASSERT_EQ_INT(run_open(&r, two, "fk-add"), 0);
	ASSERT_EQ_INT(reach(&r, one), 0);
	ASSERT_EQ_INT(env_service(r.env, svc(&r, "db"))->state, ENV_READY);
	/* the registry digest of a pulled image, for the report */
	ASSERT_EQ_STR(env_service(r.env, svc(&r, "db"))->image_digest,
	              "local/db@sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
	              "cdcdcdcdcdcdcdcdcdcdcdcd");
	ASSERT(env_service(r.env, svc(&r, "api"))->container_id == NULL);
	db_id = xstrdup(env_service(r.env, svc(&r, "db"))->container_id);
	ASSERT_EQ_INT(reach(&r, both), 0);
	ASSERT_EQ_INT(env_service(r.env, svc(&r, "api"))->state, ENV_READY);
	/* what stays real keeps running: db was not created again */
	ASSERT_EQ_STR(env_service(r.env, svc(&r, "db"))->container_id, db_id);
	free(db_id);
	log = fake_log();
	ASSERT(log);
	ASSERT_EQ_INT(count(log, "POST", "/containers/create", "\"fk-add\""),
	              2);
	cJSON_Delete(log);
	ASSERT_EQ_INT(run_close(&r), 0);
}

TEST(swap_orders_the_name)
{
	enum plan_mode stub[2] = { PLAN_STUB, PLAN_REAL };
	enum plan_mode real[2] = { PLAN_REAL, PLAN_REAL };
	struct run r;
	const struct env_service *db;
	char *api_id, *stub_id;
	int create, start, detach, attach, rm, recheck, stage;
	cJSON *log;

	ASSERT_EQ_INT(run_open(&r, two, "fk-swap"), 0);
	ASSERT_EQ_INT(reach(&r, stub), 0);
	api_id = xstrdup(env_service(r.env, svc(&r, "api"))->container_id);
	stub_id = xstrdup(env_service(r.env, svc(&r, "db"))->container_id);
	log = fake_log();
	stage = cJSON_GetArraySize(cJSON_GetObjectItem(log, "log"));
	cJSON_Delete(log);
	ASSERT_EQ_INT(reach(&r, real), 0);
	db = env_service(r.env, svc(&r, "db"));
	ASSERT_EQ_INT(db->mode, PLAN_REAL);
	ASSERT_EQ_INT(db->state, ENV_READY);
	ASSERT(db->swap_gap_ms >= 0);
	printf("# the name answered nothing for %lld ms\n",
	       (long long)db->swap_gap_ms);
	/* the caller was not restarted */
	ASSERT_EQ_STR(env_service(r.env, svc(&r, "api"))->container_id, api_id);
	log = fake_log();
	ASSERT(log);
	/* the real db is created on the stage network, started and made
	   ready there; only then the stub goes off the run's network and
	   the real one comes on under the name; then the stub is removed
	   and the caller (api) is checked again */
	create = find(log, stage, "POST", "/containers/create",
	              stage_net_id(log, &r));
	start = find(log, create, "POST", "/start", NULL);
	detach = find(log, start, "POST", "/disconnect", stub_id);
	attach = find(log, detach, "POST", "/connect", "\"db\"");
	rm = find(log, attach, "DELETE", stub_id, NULL);
	recheck = find(log, attach, "POST", "/exec", "check-api");
	printf("# create %d, start %d, detach %d, attach %d, remove %d, "
	       "recheck %d\n",
	       create, start, detach, attach, rm, recheck);
	ASSERT(create > stage && start > create && detach > start &&
	       attach > detach && rm > attach && recheck > attach);
	/* under its network alias too, as the stub answered */
	ASSERT_EQ_INT(find(log, detach, "POST", "/connect", "\"database\""),
	              attach);
	ASSERT_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(log, "conflicts")),
	              0);
	cJSON_Delete(log);
	free(api_id);
	free(stub_id);
	ASSERT_EQ_INT(run_close(&r), 0);
}

/*
 * Another client creates a network of the same name right after ours (an
 * engine before API 1.44 allows duplicates): the run's network and the
 * swap's stage network are addressed by the ids their creates returned,
 * so creates, attaches and detaches reach ours.
 */
TEST(duplicate_network_names)
{
	enum plan_mode stub[2] = { PLAN_STUB, PLAN_REAL };
	enum plan_mode real[2] = { PLAN_REAL, PLAN_REAL };
	struct run r;
	char *path;
	cJSON *log;

	ASSERT_EQ_INT(run_open(&r, two, "fk-dup"), 0);
	path = xasprintf("/_fake/dupnet?name=fk-dup-%s", env_run_id(r.env));
	ASSERT_EQ_INT(fake("POST", path, NULL), 0);
	free(path);
	path = xasprintf("/_fake/dupnet?name=fk-dup-%s-stage1",
	                 env_run_id(r.env));
	ASSERT_EQ_INT(fake("POST", path, NULL), 0);
	free(path);
	ASSERT_EQ_INT(reach(&r, stub), 0);
	ASSERT_EQ_INT(reach(&r, real), 0);
	ASSERT_EQ_INT(env_service(r.env, svc(&r, "db"))->mode, PLAN_REAL);
	log = fake_log();
	ASSERT(log);
	/* the containers were created on, and the real db attached to,
	   networks named by id ("netNN"), never by a name */
	ASSERT_EQ_INT(count(log, "POST", "/containers/create", "\"fk-dup-"), 0);
	ASSERT(count(log, "POST", "/containers/create", "\"net") >= 3);
	ASSERT_EQ_INT(
	        count(log, "POST", "/containers/create", stage_net_id(log, &r)),
	        1);
	ASSERT_EQ_INT(count(log, "POST", "/networks/fk-dup-", NULL), 0);
	ASSERT(count(log, "POST", "/connect", NULL) >= 2);
	cJSON_Delete(log);
	ASSERT_EQ_INT(run_close(&r), 0);
}

TEST(swap_whose_stub_will_not_go)
{
	enum plan_mode stub[2] = { PLAN_STUB, PLAN_REAL };
	enum plan_mode real[2] = { PLAN_REAL, PLAN_REAL };
	struct run r;
	cJSON *log;
	int rc, detach;
	char *stub_id;

	ASSERT_EQ_INT(run_open(&r, two, "fk-nogo"), 0);
	ASSERT_EQ_INT(reach(&r, stub), 0);
	stub_id = xstrdup(env_service(r.env, svc(&r, "db"))->container_id);
	ASSERT_EQ_INT(
	        fake("POST", "/_fake/fail?op=disconnect&name=-db-stub", NULL),
	        0);
	rc = env_reach(r.env, real, -1);
	printf("# %s\n", orch_error_last());
	ASSERT(rc < 0);
	ASSERT_CONTAINS(orch_error_last(), "service 'db': swapping it in");
	ASSERT_CONTAINS(orch_error_last(), "the real service was not "
	                                   "attached");
	log = fake_log();
	detach = find(log, 0, "POST", "/disconnect", stub_id);
	free(stub_id);
	ASSERT(detach >= 0);
	/* nothing attached under the name after the refusal */
	ASSERT_EQ_INT(find(log, detach, "POST", "/connect", "\"db\""), -1);
	cJSON_Delete(log);
	fake("POST", "/_fake/fail?op=disconnect&name=nothing-matches", NULL);
	ASSERT_EQ_INT(run_close(&r), 0);
}

/* Turn the loop until env_step() says something, at most 5 s. */
static int watch(struct run *r)
{
	int64_t end = now_ms() + 5000;
	int rc = 0;

	while (now_ms() < end) {
		rc = env_step(r->env);
		if (rc < 0)
			break;
		evloop_turn(r->loop, 100);
	}
	return rc;
}

TEST(dies_after_it_was_ready)
{
	enum plan_mode real[2] = { PLAN_REAL, PLAN_REAL };
	struct run r;
	char *path;

	ASSERT_EQ_INT(run_open(&r, two, "fk-die"), 0);
	ASSERT_EQ_INT(reach(&r, real), 0);
	path = xasprintf("/_fake/die?name=%s&code=3",
	                 env_service(r.env, svc(&r, "api"))->container_id);
	ASSERT_EQ_INT(fake("POST", path, NULL), 0);
	free(path);
	ASSERT_EQ_INT(watch(&r), ORCH_EENGINE);
	ASSERT_CONTAINS(orch_error_last(), "service 'api': exited with code 3 "
	                                   "after it was ready");
	ASSERT_EQ_INT(env_service(r.env, svc(&r, "api"))->state, ENV_FAILED);
	ASSERT_EQ_INT(run_close(&r), 0);
}

TEST(removed_by_another_client)
{
	enum plan_mode real[2] = { PLAN_REAL, PLAN_REAL };
	struct run r;
	char *path;

	ASSERT_EQ_INT(run_open(&r, two, "fk-rm"), 0);
	ASSERT_EQ_INT(reach(&r, real), 0);
	path = xasprintf("/containers/%s?force=1",
	                 env_service(r.env, svc(&r, "db"))->container_id);
	ASSERT_EQ_INT(fake("DELETE", path, NULL), 0);
	free(path);
	ASSERT_EQ_INT(watch(&r), ORCH_EINTR);
	ASSERT_CONTAINS(orch_error_last(), "service 'db': interrupted: its "
	                                   "container was removed by another "
	                                   "client");
	ASSERT_EQ_INT(run_close(&r), 0);
}

TEST(job_judged_by_the_manifest)
{
	/* bottom-up's middle stage: the job runs, its dependant does not */
	enum plan_mode modes[3] = { PLAN_REAL, PLAN_REAL, PLAN_ABSENT };
	struct run r;

	ASSERT_EQ_INT(run_open(&r, job, "fk-job"), 0);
	ASSERT_EQ_INT(reach(&r, modes), 0);
	ASSERT_EQ_INT(env_service(r.env, svc(&r, "migrate"))->state,
	              ENV_COMPLETED);
	ASSERT_EQ_INT(run_close(&r), 0);
}

int main(int argc, char **argv)
{
	struct engine_opts o = { 0 };
	char dir[] = "/tmp/orch-envfake-XXXXXX", host[300], line[64];
	pid_t pid;
	int fds[2];
	FILE *f;

	if (argc < 3 || !mkdtemp(dir) || pipe(fds))
		return 2;
	snprintf(sock, sizeof(sock), "%s/docker.sock", dir);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		execl(argv[1], argv[1], argv[2], sock, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f || !fgets(line, sizeof(line), f) || strncmp(line, "ready", 5)) {
		printf("Bail out! the fake engine did not start\n");
		return 1;
	}
	snprintf(host, sizeof(host), "unix://%s", sock);
	/* the watchdog connects on its own: to the same fake */
	setenv("DOCKER_HOST", host, 1);
	setenv("ORCHESTRATE_NO_GATE", "1", 1);
	o.host = host;
	if (engine_new(&eng, &o) || engine_connect(eng)) {
		printf("Bail out! %s\n", orch_error_last());
		return 1;
	}
	RUN(stage_adds_a_service);
	RUN(swap_orders_the_name);
	RUN(duplicate_network_names);
	RUN(swap_whose_stub_will_not_go);
	RUN(dies_after_it_was_ready);
	RUN(removed_by_another_client);
	RUN(job_judged_by_the_manifest);
	engine_free(eng);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	fclose(f);
	unlink(sock);
	rmdir(dir);
	return harness_done();
}
