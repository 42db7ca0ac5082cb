/*
 * test-env-stages.c: the env API as a later `test` command uses it,
 * against the real engine: bring up a stage with a service as its stub,
 * then the next stage with the real service under the same alias, and
 * check that the caller reaches whichever is current by name; then tear
 * the run down and check that nothing of the project remains.
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
#include "teardown.h"
#include "util.h"

static const char yaml[] =
        "services:\n"
        "  api:\n"
        "    image: local/busybox\n"
        "    command: [sh, -c, 'mkdir -p /www && echo real > /www/index.html"
        " && exec httpd -f -p 8080 -h /www']\n"
        "    ready: {http: {port: 8080}}\n"
        "    stub:\n"
        "      image: local/busybox\n"
        "      command: [sh, -c, 'mkdir -p /www && echo stub > "
        "/www/index.html && exec httpd -f -p 8080 -h /www']\n"
        "      ready: {http: {port: 8080}}\n"
        "  client:\n"
        "    image: local/busybox\n"
        /* resolves the name in one loop (uptime, how many addresses),
           calls it in another (uptime, what answered) */
        "    command: [sh, -c, '(while :; do read u x < /proc/uptime; "
        "a=$$(nslookup api 2>/dev/null | sed -n ''/^Name:/,$$p'' | "
        "grep -c ^Address); echo d t=$$u n=$$a; sleep 0.01; done) & "
        "while :; do read u x < /proc/uptime; r=$$(timeout 1 wget -q -O "
        "- http://api:8080/ 2>/dev/null); echo h t=$$u r=$$r; sleep "
        "0.02; done']\n"
        "    depends_on: {api: {condition: service_healthy}}\n";

static struct engine *eng;
static struct manifest *man;
static struct env *env;
static struct evloop *loop;
static char project[64];

/* What the client gets from http://api:8080/ inside the run network. */
static int client_sees(const char *want)
{
	const struct env_service *c = env_service(env, 1);
	char *argv[] = { "wget", "-q", "-O", "-", "http://api:8080/", NULL };
	struct buf out = BUF_INIT;
	int code = -1, ok;

	buf_init(&out, 1 << 16);
	ok = engine_exec(eng, c->container_id, argv, NULL, 20000, &code,
	                 &out) == 0 &&
	     code == 0 && strstr(buf_cstr(&out), want) != NULL;
	if (!ok)
		printf("# client got exit %d: %s\n", code, buf_cstr(&out));
	buf_release(&out);
	return ok;
}

TEST(stub_stage)
{
	enum plan_mode modes[2] = { PLAN_STUB, PLAN_REAL };
	int rc = env_reach(env, modes, -1);

	if (rc)
		printf("# %s\n", orch_error_last());
	ASSERT_EQ_INT(rc, 0);
	ASSERT_EQ_INT(env_service(env, 0)->state, ENV_READY);
	ASSERT_EQ_INT(env_service(env, 0)->mode, PLAN_STUB);
	ASSERT_CONTAINS(env_service(env, 0)->container_name, "-api-stub");
	ASSERT(client_sees("stub"));
}

TEST(real_replaces_stub)
{
	enum plan_mode modes[2] = { PLAN_REAL, PLAN_REAL };
	const char *client_id = env_service(env, 1)->container_id;
	char *before = xstrdup(client_id ? client_id : "");
	int rc = env_reach(env, modes, -1);

	if (rc)
		printf("# %s\n", orch_error_last());
	ASSERT_EQ_INT(rc, 0);
	ASSERT_EQ_INT(env_service(env, 0)->mode, PLAN_REAL);
	ASSERT_EQ_INT(env_service(env, 0)->state, ENV_READY);
	/* the caller was not touched */
	ASSERT_EQ_STR(env_service(env, 1)->container_id, before);
	free(before);
	ASSERT(client_sees("real"));
}

/*
 * The client called the name all along: never two addresses, never the
 * stub after the real service answered, and how long it answered nothing.
 */
TEST(swap_never_answers_twice)
{
	const struct env_service *c = env_service(env, 1);
	struct buf logs = BUF_INIT;
	double last_stub = -1, first_real = -1, resolved = -1, dns_gap = 0;
	int lookups = 0, calls = 0, twice = 0, stub_after = 0, none = 0;
	const char *p;

	usleep(2500 * 1000); /* a few answers of the real one (a call cut
	                        off by the swap waits out its 1 s timeout) */
	buf_init(&logs, 4 << 20);
	ASSERT_EQ_INT(engine_container_logs(eng, c->container_id, -1, &logs),
	              0);
	for (p = buf_cstr(&logs); *p;) {
		double t = 0;
		int n = 0;
		char r[16] = "";

		if (sscanf(p, "d t=%lf n=%d", &t, &n) == 2) {
			lookups++;
			twice += n >= 2;
			none += n == 0;
			if (n == 1) {
				if (resolved >= 0 && t - resolved > dns_gap)
					dns_gap = t - resolved;
				resolved = t;
			}
		} else if (sscanf(p, "h t=%lf r=%15s", &t, r) >= 1) {
			calls++;
			if (!strcmp(r, "stub")) {
				last_stub = t;
				stub_after += first_real >= 0;
			} else if (!strcmp(r, "real") && first_real < 0) {
				first_real = t;
			}
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	buf_release(&logs);
	printf("# %d lookups: two addresses %d times, none %d times; the "
	       "longest time between two lookups that found it: %.0f ms "
	       "(one every ~15 ms); %d calls: the stub last answered at "
	       "%.2f, the real service first at %.2f; the env's detach and "
	       "attach took %lld ms\n",
	       lookups, twice, none, dns_gap * 1000, calls, last_stub,
	       first_real, (long long)env_service(env, 0)->swap_gap_ms);
	ASSERT(lookups > 10 && calls > 10);
	ASSERT(last_stub >= 0 && first_real > last_stub);
	ASSERT_EQ_INT(twice, 0);
	ASSERT_EQ_INT(stub_after, 0);
}

TEST(teardown_leaves_nothing)
{
	struct engine_label f = { LABEL_PROJECT, project };
	struct engine_object_list l = { 0 };
	struct teardown_stats st = { 0 };

	ASSERT_EQ_INT(env_teardown(env, 1, &st), 0);
	ASSERT_EQ_INT(engine_container_list(eng, &f, 1, &l), 0);
	ASSERT_EQ_INT(l.n, 0);
	engine_object_list_release(&l);
	ASSERT_EQ_INT(engine_network_list(eng, &f, 1, &l), 0);
	ASSERT_EQ_INT(l.n, 0);
	engine_object_list_release(&l);
	ASSERT_EQ_INT(engine_volume_list(eng, &f, 1, &l), 0);
	ASSERT_EQ_INT(l.n, 0);
	engine_object_list_release(&l);
}

int main(void)
{
	struct env_opts o = { 0 };
	int rc;

	rc = real_engine(&eng);
	if (rc)
		return rc - 1;
	rc = manifest_load_buffer("/tmp/stages.yaml", yaml, sizeof(yaml) - 1,
	                          NULL, NULL, &man);
	if (rc) {
		printf("Bail out! %s\n", orch_error_last());
		return 1;
	}
	snprintf(project, sizeof(project), "lt-env-stages-%ld", (long)getpid());
	o.project = project;
	loop = evloop_new(eng);
	o.loop = loop;
	env_new(&env, eng, man, &o);
	RUN(stub_stage);
	RUN(real_replaces_stub);
	RUN(swap_never_answers_twice);
	RUN(teardown_leaves_nothing);
	env_free(env);
	evloop_free(loop);
	manifest_free(man);
	engine_free(eng);
	return harness_done();
}
