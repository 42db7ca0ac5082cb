/*
 * test-manifest.c: the loader through manifest_load_buffer(): the model
 * it fills, the messages it gives, and the limits that keep hostile input
 * cheap. The command-line view (exit codes, every invalid fixture) is
 * tests/cli/manifest-fixtures.sh.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "manifest.h"
#include "schema.h"
#include "util.h"

/*
 * Time bounds: quadratic behaviour on the wide inputs below would take
 * tens of seconds, so a few seconds of slack under the sanitizers (and a
 * loaded CI machine) cannot hide it.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SLACK 5
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLACK 5
#endif
#endif
#ifndef SLACK
#define SLACK 1
#endif

/*
 * CPU time, not wall time: a loaded CI machine must not make these fail,
 * and an algorithmic blow-up shows in CPU time all the same.
 */
static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char tmpdir[] = "/tmp/orch-manifest-XXXXXX";
static char origin[256];

static const char *test_env(const char *name)
{
	if (!strcmp(name, "TAG"))
		return "1.2";
	if (!strcmp(name, "PORT"))
		return "9090";
	if (!strcmp(name, "EMPTY"))
		return "";
	return NULL;
}

static struct manifest *load(const char *text, struct strvec *warnings)
{
	struct manifest *m = NULL;
	int rc = manifest_load_buffer(origin, text, strlen(text), test_env,
	                              warnings, &m);

	if (rc)
		printf("# load failed: %s\n", orch_error_last());
	return m;
}

/* The error message of loading text, with the origin cut off. */
static const char *load_error(const char *text)
{
	struct manifest *m = NULL;
	const char *msg;

	if (!manifest_load_buffer("t.yaml", text, strlen(text), test_env, NULL,
	                          &m)) {
		manifest_free(m);
		return "(loaded)";
	}
	msg = orch_error_last();
	return !strncmp(msg, "t.yaml:", 7) ? msg + 7 : msg;
}

static void mkdirs(const char *rel)
{
	char *p = xasprintf("%s/%s", tmpdir, rel);

	for (char *s = p + strlen(tmpdir) + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
	free(p);
}

static void write_in_tmp(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", tmpdir, rel);

	write_file_atomic(p, text, strlen(text));
	free(p);
}

static const char *kv(const struct mf_kvs *kvs, const char *key)
{
	for (size_t i = 0; i < kvs->n; i++)
		if (!strcmp(kvs->items[i].key, key))
			return kvs->items[i].value ? kvs->items[i].value
			                           : "(null)";
	return "(absent)";
}

static const char design[] =
        "name: shop\n"
        "strategy: bottom-up\n"
        "services:\n"
        "  db:\n"
        "    build: {context: images/db, args: {BASE: "
        "\"${BASE_IMAGE:-debian:bookworm-slim}\"}}\n"
        "    healthcheck: {test: [CMD, pg_isready, -h, 127.0.0.1], "
        "interval: 1s, retries: 30}\n"
        "  api:\n"
        "    build: images/api\n"
        "    ports: [\"8080\"]\n"
        "    depends_on: {db: {condition: service_healthy}, payments: "
        "{condition: service_healthy}}\n"
        "    ready: {http: {port: 8080, path: /health}, timeout: 30s}\n"
        "    stub:\n"
        "      build: stubs/api\n"
        "      ready: {http: {port: 8080, path: /health}}\n"
        "  payments:\n"
        "    stub: {build: stubs/payments, ready: {tcp: 8080}}\n"
        "suites:\n"
        "  db-schema:   {targets: [db],  build: suites/db,  command: "
        "[./run.sh], timeout: 2m}\n"
        "  api-orders:  {targets: [api], build: suites/api, artifacts: "
        "[/out/junit.xml], retries: 1}\n"
        "  smoke-host:  {targets: [api], host: true, command: "
        "[suites/smoke.sh]}\n";

/* Compose builds and tags the image: several services share one build. */
TEST(build_and_image)
{
	struct manifest *m = load("services:\n"
	                          "  a: {build: ., image: \"shop/app:1\"}\n"
	                          "  b: {build: ., image: \"shop/app:1\", "
	                          "command: [worker]}\n",
	                          NULL);

	ASSERT(m);
	ASSERT(m->services[0].real.build && m->services[1].real.build);
	ASSERT_EQ_STR(m->services[0].real.image, "shop/app:1");
	ASSERT_EQ_STR(m->services[1].real.image, "shop/app:1");
	manifest_free(m);
}

TEST(design_example)
{
	struct manifest *m = load(design, NULL);
	const struct mf_service *db, *api, *pay;
	char *want;

	ASSERT(m);
	ASSERT_EQ_STR(m->name, "shop");
	ASSERT_EQ_STR(m->strategy, "bottom-up");
	ASSERT_EQ_INT(m->nservices, 3);
	db = &m->services[0];
	api = &m->services[1];
	pay = &m->services[2];
	ASSERT_EQ_STR(db->name, "db");
	ASSERT_EQ_INT(db->line, 4);
	ASSERT_EQ_INT(db->col, 3);
	ASSERT(db->has_real && db->real.build && !db->real.image);
	want = xasprintf("%s/images/db", m->dir);
	ASSERT_EQ_STR(db->real.build->context, want);
	free(want);
	ASSERT_EQ_STR(kv(&db->real.build->args, "BASE"),
	              "debian:bookworm-slim");
	ASSERT(db->real.healthcheck.set && !db->real.healthcheck.disable);
	ASSERT_EQ_INT(db->real.healthcheck.test.n, 4);
	ASSERT_EQ_STR(db->real.healthcheck.test.v[0], "CMD");
	ASSERT_EQ_STR(db->real.healthcheck.test.v[3], "127.0.0.1");
	ASSERT_EQ_INT(db->real.healthcheck.interval_ns, 1000000000);
	ASSERT_EQ_INT(db->real.healthcheck.retries, 30);
	ASSERT(!db->stub);

	ASSERT_EQ_INT(api->real.nports, 1);
	ASSERT_EQ_INT(api->real.ports[0].container_port, 8080);
	ASSERT_EQ_INT(api->real.ports[0].host_port, 0);
	ASSERT(api->real.ports[0].host_ip == NULL);
	ASSERT_EQ_STR(api->real.ports[0].protocol, "tcp");
	ASSERT_EQ_INT(api->ndeps, 2);
	ASSERT_EQ_STR(api->deps[0].name, "db");
	ASSERT_EQ_INT(api->deps[0].index, 0);
	ASSERT_EQ_INT(api->deps[0].condition, MF_SERVICE_HEALTHY);
	ASSERT_EQ_INT(api->deps[1].index, 2);
	ASSERT_EQ_INT(api->deps[1].line, 10);
	ASSERT_EQ_INT(api->real.ready.http_port, 8080);
	ASSERT_EQ_STR(api->real.ready.http_path, "/health");
	ASSERT_EQ_INT(api->real.ready.http_status, 200);
	ASSERT_EQ_INT(api->real.ready.timeout_ns, 30LL * 1000000000);
	ASSERT(api->stub && api->stub->build);
	ASSERT_EQ_INT(api->stub->ready.http_port, 8080);
	ASSERT_EQ_INT(api->stub->ready.timeout_ns, 60LL * 1000000000);
	ASSERT_EQ_INT(api->real.stop_grace_ns, -1);

	ASSERT(mf_service_external(pay));
	ASSERT(pay->stub);
	ASSERT_EQ_INT(pay->stub->ready.tcp_port, 8080);

	ASSERT_EQ_INT(m->nsuites, 3);
	ASSERT_EQ_STR(m->suites[0].name, "db-schema");
	ASSERT_EQ_INT(m->suites[0].target_index[0], 0);
	ASSERT_EQ_INT(m->suites[0].timeout_ns, 120LL * 1000000000);
	ASSERT_EQ_STR(m->suites[0].command.v[0], "./run.sh");
	ASSERT_EQ_INT(m->suites[0].container.command.n, 0);
	ASSERT_EQ_INT(m->suites[1].retries, 1);
	ASSERT_EQ_INT(m->suites[1].timeout_ns, 600LL * 1000000000);
	ASSERT_EQ_STR(m->suites[1].artifacts.v[0], "/out/junit.xml");
	ASSERT_EQ_INT(m->suites[2].host, 1);
	ASSERT_EQ_INT(m->suites[2].target_index[0], 1);
	ASSERT_EQ_INT(manifest_service_index(m, "payments"), 2);
	ASSERT_EQ_INT(manifest_service_index(m, "nope"), -1);
	manifest_free(m);
}

TEST(port_forms)
{
	struct manifest *m = load(
	        "services:\n"
	        "  s:\n"
	        "    image: x\n"
	        "    ports:\n"
	        "      - \"8080\"\n"
	        "      - \"127.0.0.1:5432:5432\"\n"
	        "      - \"127.0.0.1::8081\"\n"
	        "      - \"8082/udp\"\n"
	        "      - \"5433:5434\"\n"
	        "      - 8083\n"
	        "      - {target: 80, published: 8000, host_ip: 127.0.0.2, "
	        "protocol: udp}\n"
	        "      - {target: 81}\n"
	        "      - \"[::1]:9000:9001\"\n"
	        "      - \"${PORT}:90\"\n",
	        NULL);
	const struct mf_port *p;

	ASSERT(m);
	p = m->services[0].real.ports;
	ASSERT_EQ_INT(m->services[0].real.nports, 10);
	ASSERT_EQ_INT(p[0].container_port, 8080);
	ASSERT_EQ_INT(p[0].host_port, 0);
	ASSERT_EQ_STR(p[1].host_ip, "127.0.0.1");
	ASSERT_EQ_INT(p[1].host_port, 5432);
	ASSERT_EQ_INT(p[1].container_port, 5432);
	ASSERT_EQ_STR(p[2].host_ip, "127.0.0.1");
	ASSERT_EQ_INT(p[2].host_port, 0);
	ASSERT_EQ_INT(p[2].container_port, 8081);
	ASSERT_EQ_STR(p[3].protocol, "udp");
	ASSERT_EQ_INT(p[3].container_port, 8082);
	ASSERT(p[4].host_ip == NULL);
	ASSERT_EQ_INT(p[4].host_port, 5433);
	ASSERT_EQ_INT(p[4].container_port, 5434);
	ASSERT_EQ_INT(p[5].container_port, 8083);
	ASSERT_EQ_INT(p[6].container_port, 80);
	ASSERT_EQ_INT(p[6].host_port, 8000);
	ASSERT_EQ_STR(p[6].host_ip, "127.0.0.2");
	ASSERT_EQ_STR(p[6].protocol, "udp");
	ASSERT_EQ_INT(p[7].container_port, 81);
	ASSERT_EQ_STR(p[7].protocol, "tcp");
	ASSERT_EQ_STR(p[8].host_ip, "::1");
	ASSERT_EQ_INT(p[8].host_port, 9000);
	ASSERT_EQ_INT(p[8].container_port, 9001);
	ASSERT_EQ_INT(p[9].host_port, 9090);
	manifest_free(m);
}

TEST(environment_forms)
{
	struct manifest *m;

	write_in_tmp("app.env", "# defaults\nFROM_FILE=1\nOVERRIDE=file\n"
	                        "QUOTED=\"a b\"\n");
	m = load("services:\n"
	         "  a:\n"
	         "    image: x\n"
	         "    env_file: app.env\n"
	         "    environment:\n"
	         "      NUM: 5432\n"
	         "      BOOL: true\n"
	         "      FLOAT: 1.5\n"
	         "      NULL_VALUE:\n"
	         "      OVERRIDE: env\n"
	         "      TAGGED: v${TAG}\n"
	         "  b:\n"
	         "    image: x\n"
	         "    environment: [A=1, B=, C, D=x=y]\n"
	         "    labels: [com.example.a=1, bare]\n",
	         NULL);
	ASSERT(m);
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "NUM"), "5432");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "BOOL"), "true");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "FLOAT"), "1.5");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "NULL_VALUE"),
	              "(null)");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "OVERRIDE"), "env");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "FROM_FILE"), "1");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "QUOTED"), "a b");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "TAGGED"), "v1.2");
	ASSERT_EQ_STR(kv(&m->services[1].real.environment, "A"), "1");
	ASSERT_EQ_STR(kv(&m->services[1].real.environment, "B"), "");
	ASSERT_EQ_STR(kv(&m->services[1].real.environment, "C"), "(null)");
	ASSERT_EQ_STR(kv(&m->services[1].real.environment, "D"), "x=y");
	ASSERT_EQ_STR(kv(&m->services[1].real.labels, "com.example.a"), "1");
	ASSERT_EQ_STR(kv(&m->services[1].real.labels, "bare"), "");
	manifest_free(m);
}

TEST(durations_and_health)
{
	struct manifest *m =
	        load("services:\n"
	             "  a:\n"
	             "    image: x\n"
	             "    stop_grace_period: 1m30s\n"
	             "    init: true\n"
	             "    healthcheck:\n"
	             "      test: curl -f http://localhost/ || exit 1\n"
	             "      interval: 500ms\n"
	             "      timeout: 2\n"
	             "      start_period: 1.5s\n"
	             "      retries: 0\n"
	             "  b:\n"
	             "    image: x\n"
	             "    healthcheck: {test: [NONE]}\n"
	             "  c:\n"
	             "    image: x\n"
	             "    healthcheck: {disable: true}\n"
	             "    ready: {exec: [pg_isready], log: 'ready to accept "
	             "connections$', http: 8080}\n",
	             NULL);
	const struct mf_healthcheck *h;

	ASSERT(m);
	ASSERT_EQ_INT(m->services[0].real.stop_grace_ns, 90LL * 1000000000);
	ASSERT_EQ_INT(m->services[0].real.init, 1);
	h = &m->services[0].real.healthcheck;
	ASSERT_EQ_INT(h->test.n, 2);
	ASSERT_EQ_STR(h->test.v[0], "CMD-SHELL");
	ASSERT_EQ_STR(h->test.v[1], "curl -f http://localhost/ || exit 1");
	ASSERT_EQ_INT(h->interval_ns, 500000000);
	ASSERT_EQ_INT(h->timeout_ns, 2000000000);
	ASSERT_EQ_INT(h->start_period_ns, 1500000000);
	ASSERT_EQ_INT(h->retries, 0);
	ASSERT(m->services[1].real.healthcheck.disable);
	ASSERT(m->services[2].real.healthcheck.disable);
	ASSERT_EQ_STR(m->services[2].real.ready.exec.v[0], "pg_isready");
	ASSERT_EQ_STR(m->services[2].real.ready.log_regex,
	              "ready to accept connections$");
	ASSERT_EQ_INT(m->services[2].real.ready.http_port, 8080);
	ASSERT_EQ_STR(m->services[2].real.ready.http_path, "/");
	manifest_free(m);
}

TEST(commands_and_depends)
{
	struct manifest *m =
	        load("services:\n"
	             "  db: {image: postgres}\n"
	             "  init: {image: x, command: [migrate]}\n"
	             "  a:\n"
	             "    image: x\n"
	             "    command: sh -c 'echo \"$$HOME\"; sleep 1'\n"
	             "    entrypoint: []\n"
	             "    depends_on: [db, init]\n"
	             "  b:\n"
	             "    image: x\n"
	             "    entrypoint: [/bin/tini, --]\n"
	             "    depends_on:\n"
	             "      db: {condition: service_healthy, restart: true}\n"
	             "      init: {condition: service_completed_successfully, "
	             "required: true}\n"
	             "      a:\n",
	             NULL);
	const struct mf_service *a, *b;

	ASSERT(m);
	a = &m->services[2];
	b = &m->services[3];
	ASSERT_EQ_INT(a->real.command.n, 3);
	ASSERT_EQ_STR(a->real.command.v[2], "echo \"$HOME\"; sleep 1");
	ASSERT(a->real.has_entrypoint);
	ASSERT_EQ_INT(a->real.entrypoint.n, 0);
	ASSERT_EQ_INT(a->ndeps, 2);
	ASSERT_EQ_INT(a->deps[0].condition, MF_SERVICE_STARTED);
	ASSERT_EQ_INT(a->deps[1].index, 1);
	ASSERT_EQ_INT(b->real.entrypoint.n, 2);
	ASSERT_EQ_INT(b->ndeps, 3);
	ASSERT_EQ_INT(b->deps[0].condition, MF_SERVICE_HEALTHY);
	ASSERT_EQ_INT(b->deps[1].condition, MF_SERVICE_COMPLETED_SUCCESSFULLY);
	ASSERT_EQ_INT(b->deps[2].condition, MF_SERVICE_STARTED);
	ASSERT_EQ_INT(b->deps[2].index, 2);
	ASSERT(!m->services[0].real.has_entrypoint);
	manifest_free(m);
}

TEST(volumes_and_mounts)
{
	struct manifest *m = load("volumes:\n"
	                          "  data:\n"
	                          "  cache: {}\n"
	                          "services:\n"
	                          "  a:\n"
	                          "    image: x\n"
	                          "    tmpfs: /run\n"
	                          "    volumes:\n"
	                          "      - data:/var/lib/data\n"
	                          "      - ./conf:/etc/app:ro\n"
	                          "      - /abs/dir:/mnt\n"
	                          "      - /anon\n"
	                          "      - {type: volume, source: cache, "
	                          "target: /cache, read_only: true}\n"
	                          "      - {type: bind, source: ../up, "
	                          "target: /up}\n"
	                          "      - {type: tmpfs, target: /t}\n",
	                          NULL);
	const struct mf_mount *mt;
	char *want;

	ASSERT(m);
	ASSERT_EQ_INT(m->nvolumes, 2);
	ASSERT_EQ_STR(m->volumes[1].name, "cache");
	mt = m->services[0].real.mounts;
	ASSERT_EQ_INT(m->services[0].real.nmounts, 7);
	ASSERT_EQ_STR(mt[0].type, "volume");
	ASSERT_EQ_STR(mt[0].source, "data");
	ASSERT_EQ_STR(mt[0].target, "/var/lib/data");
	ASSERT_EQ_STR(mt[1].type, "bind");
	want = xasprintf("%s/conf", m->dir);
	ASSERT_EQ_STR(mt[1].source, want);
	free(want);
	ASSERT_EQ_INT(mt[1].read_only, 1);
	ASSERT_EQ_STR(mt[2].source, "/abs/dir");
	ASSERT_EQ_INT(mt[2].read_only, 0);
	ASSERT_EQ_STR(mt[3].type, "volume");
	ASSERT(mt[3].source == NULL);
	ASSERT_EQ_STR(mt[3].target, "/anon");
	ASSERT_EQ_INT(mt[4].read_only, 1);
	ASSERT_EQ_STR(mt[4].source, "cache");
	ASSERT(mt[5].source[0] == '/' && !strstr(mt[5].source, ".."));
	ASSERT_EQ_STR(mt[6].type, "tmpfs");
	ASSERT_EQ_STR(m->services[0].real.tmpfs.v[0], "/run");
	manifest_free(m);
}

TEST(merge_keys)
{
	struct manifest *m = load("version: '3.8'\n"
	                          "x-common: &common\n"
	                          "  image: base:${TAG}\n"
	                          "  environment: {LOG: debug, MODE: common}\n"
	                          "  restart: unless-stopped\n"
	                          "x-more: &more\n"
	                          "  user: nobody\n"
	                          "  image: never-used\n"
	                          "services:\n"
	                          "  a:\n"
	                          "    <<: [*common, *more]\n"
	                          "    environment: {MODE: a}\n"
	                          "  b:\n"
	                          "    <<: *common\n"
	                          "    image: own\n",
	                          NULL);

	ASSERT(m);
	ASSERT_EQ_STR(m->services[0].real.image, "base:1.2");
	ASSERT_EQ_STR(m->services[0].real.user, "nobody");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "MODE"), "a");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "LOG"), "(absent)");
	ASSERT_EQ_STR(m->services[1].real.image, "own");
	ASSERT_EQ_STR(kv(&m->services[1].real.environment, "LOG"), "debug");
	manifest_free(m);
}

TEST(interpolation_warnings)
{
	struct strvec w = STRVEC_INIT;
	struct manifest *m = load("services:\n"
	                          "  a:\n"
	                          "    image: \"app${NOT_SET}\"\n"
	                          "    environment:\n"
	                          "      - X=$NOT_SET\n"
	                          "      - Y=${EMPTY:-dflt}\n",
	                          &w);
	char *want;

	ASSERT(m);
	ASSERT_EQ_INT(w.n, 2);
	want = xasprintf("%s:3:12: service 'a': variable 'NOT_SET' is not "
	                 "set, using an empty string",
	                 origin);
	ASSERT_EQ_STR(w.v[0], want);
	free(want);
	ASSERT_CONTAINS(w.v[1], ":5:9: service 'a': variable 'NOT_SET'");
	ASSERT_EQ_STR(m->services[0].real.image, "app");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "Y"), "dflt");
	strvec_clear(&w);
	manifest_free(m);
	ASSERT_EQ_STR(load_error("services:\n  a:\n    image: "
	                         "${IMG:?set IMG to the image}\n"),
	              "3:12: service 'a': required variable 'IMG' is missing a "
	              "value: set IMG to the image");
}

TEST(ignored_keys_warn)
{
	struct strvec w = STRVEC_INIT;
	struct manifest *m = load("networks: {front: {driver: bridge}}\n"
	                          "x-top: whatever\n"
	                          "services:\n"
	                          "  a:\n"
	                          "    image: x\n"
	                          "    container_name: fixed\n"
	                          "    x-note: {any: thing}\n"
	                          "    ports: ['0.0.0.0:80:80']\n",
	                          &w);

	ASSERT(m);
	ASSERT_EQ_INT(w.n, 4);
	/* in file order, each naming its service */
	ASSERT_CONTAINS(w.v[0], ":1:12: networks are joined into one");
	ASSERT_CONTAINS(w.v[1], ":1:20: 'driver' is ignored");
	ASSERT_CONTAINS(w.v[2], ":6:5: service 'a': 'container_name' is "
	                        "ignored");
	ASSERT_CONTAINS(w.v[3], "service 'a': port 80 is published on all "
	                        "interfaces");
	strvec_clear(&w);
	manifest_free(m);
}

TEST(error_messages)
{
	ASSERT_EQ_STR(load_error("services:\n  a:\n    image: x\n"
	                         "    helthcheck: {}\n"),
	              "4:5: service 'a': unknown key 'helthcheck' (did you "
	              "mean 'healthcheck'?)");
	ASSERT_EQ_STR(load_error("services:\n  a: {image: x, depends_on: "
	                         "[b]}\n  b: {image: x, depends_on: [a]}\n"),
	              "2:3: dependency cycle: a -> b -> a");
	ASSERT_EQ_STR(load_error("services:\n  web: {image: x, depends_on: "
	                         "[dbb]}\n  db: {image: x}\n"),
	              "2:32: service 'web' depends on undefined service "
	              "'dbb' (did you mean 'db'?)");
	ASSERT_EQ_STR(load_error("services:\n  a: {image: x}\nsuites:\n  s: "
	                         "{host: true, command: [x]}\n"),
	              "4:3: suite 's' has no targets");
	ASSERT_EQ_STR(load_error("services:\n  a: {image: x, ports: "
	                         "['70000']}\n"),
	              "2:25: service 'a': invalid port '70000' (container port "
	              "1-65535, or a range A-B)");
	ASSERT_EQ_STR(load_error("a: 1\na: 2\n"),
	              "2:1: duplicate key 'a' (first at line 1)");
	ASSERT_EQ_STR(load_error("services:\n  a: {build: nowhere}\n"),
	              "2:14: service 'a': build context 'nowhere' does not "
	              "exist");
}

/*
 * The order keys are written in never changes the result: the rules
 * that tie two keys together run once the whole mapping is read.
 */
TEST(key_order)
{
	static const char *const artifacts[] = {
		/* issue 9, bug 2: refused when artifacts came first */
		"services: {a: {image: x}}\n"
		"suites:\n  s: {artifacts: [out/junit.xml, /abs/x.xml], "
		"targets: [a], host: true, command: [t]}\n",
		"services: {a: {image: x}}\n"
		"suites:\n  s: {host: true, targets: [a], command: [t], "
		"artifacts: [out/junit.xml, /abs/x.xml]}\n",
	};
	static const char *const health[] = {
		"services:\n  a: {image: x, healthcheck: {test: [NONE], "
		"disable: false}}\n",
		"services:\n  a: {image: x, healthcheck: {disable: false, "
		"test: [NONE]}}\n",
	};
	char *want = NULL;

	for (size_t i = 0; i < 2; i++) {
		struct manifest *m = load(artifacts[i], NULL);
		const struct mf_suite *su;

		ASSERT(m);
		su = &m->suites[0];
		ASSERT_EQ_INT(su->host, 1);
		ASSERT_EQ_INT(su->artifacts.n, 2);
		/* on the host, relative to the project directory */
		free(want);
		want = xasprintf("%s/out/junit.xml", m->dir);
		ASSERT_EQ_STR(su->artifacts.v[0], want);
		ASSERT_EQ_STR(su->artifacts.v[1], "/abs/x.xml");
		manifest_free(m);
	}
	free(want);
	for (size_t i = 0; i < 2; i++) {
		struct manifest *m = load(health[i], NULL);

		ASSERT(m);
		ASSERT_EQ_INT(m->services[0].real.healthcheck.disable, 1);
		ASSERT_EQ_STR(m->services[0].real.healthcheck.test.v[0],
		              "NONE");
		manifest_free(m);
	}
	/* in a container, in either order: absolute, with the same words */
	ASSERT_EQ_STR(load_error("services: {a: {image: x}}\n"
	                         "suites:\n  s: {artifacts: [out], targets: "
	                         "[a], image: x}\n"),
	              "3:18: artifact 'out' must be an absolute path");
	ASSERT_EQ_STR(load_error("services: {a: {image: x}}\n"
	                         "suites:\n  s: {image: x, targets: [a], "
	                         "artifacts: out}\n"),
	              "3:42: artifact 'out' must be an absolute path");
	ASSERT_EQ_STR(load_error("services: {a: {image: x}}\n"
	                         "suites:\n  s: {artifacts: [out], targets: "
	                         "[a], host: false, image: x}\n"),
	              "3:18: artifact 'out' must be an absolute path");
}

/*
 * Every key the schema table accepts names its converter, and no other
 * key does: an accepted key nothing reads would be dropped in silence.
 */
TEST(schema_table_converters)
{
	size_t n, accepted = 0;
	const struct schema_key *t = schema_table(&n);

	ASSERT(n > 0);
	for (size_t i = 0; i < n; i++) {
		if (t[i].use == SU_ACCEPT) {
			accepted++;
			if (!t[i].convert)
				FAIL_AT("accepted key '%s' (section %d) has "
				        "no converter",
				        t[i].key, (int)t[i].section);
		} else if (t[i].convert) {
			FAIL_AT("ignored key '%s' (section %d) has a "
			        "converter",
			        t[i].key, (int)t[i].section);
		}
	}
	ASSERT(accepted > 0);
}

/* The limits: rejected fast, and without the memory an expansion takes. */
static void check_fast(const char *what, const char *text, size_t len,
                       const char *want)
{
	struct manifest *m = NULL;
	int64_t t0 = cpu_ns();
	int rc = manifest_load_buffer("t.yaml", text, len, test_env, NULL, &m);
	int64_t dt = cpu_ns() - t0;

	if (rc == 0) {
		manifest_free(m);
		FAIL_AT("%s: loaded", what);
		return;
	}
	if (!strstr(orch_error_last(), want))
		FAIL_AT("%s: '%s' lacks '%s'", what, orch_error_last(), want);
	if (dt > 1000000000LL)
		FAIL_AT("%s: took %lld ms", what, (long long)(dt / 1000000));
}

TEST(hostile_inputs)
{
	struct buf b = BUF_INIT;
	struct rusage ru;

	/* billion laughs: 10 levels of 10 aliases */
	buf_addstr(&b, "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
	for (char c = 'b'; c <= 'k'; c++) {
		buf_addf(&b, "%c: &%c [", c, c);
		for (int i = 0; i < 10; i++)
			buf_addf(&b, "%s*%c", i ? "," : "", c - 1);
		buf_addstr(&b, "]\n");
	}
	check_fast("billion laughs", b.data, b.len, "more than 100000 nodes");
	buf_reset(&b);
	/* a merge-key bomb */
	buf_addstr(&b, "a: &a {k0: 0, k1: 1, k2: 2, k3: 3}\n");
	for (char c = 'b'; c <= 'z'; c++)
		buf_addf(&b, "%c: &%c [*%c, *%c, *%c, *%c, *%c]\n", c, c, c - 1,
		         c - 1, c - 1, c - 1, c - 1);
	check_fast("alias chain", b.data, b.len, "more than 100000 nodes");
	buf_reset(&b);
	/* many aliases */
	buf_addstr(&b, "a: &a x\nb: [");
	for (int i = 0; i < 1500; i++)
		buf_addstr(&b, "*a,");
	buf_addstr(&b, "]\n");
	check_fast("alias flood", b.data, b.len, "more than 1000 aliases");
	buf_reset(&b);
	for (int i = 0; i < 1000000; i++)
		buf_addch(&b, '[');
	check_fast("deep flow nesting", b.data, b.len,
	           "nesting deeper than 64 levels");
	buf_reset(&b);
	for (int i = 0; i < 100; i++)
		buf_addf(&b, "%*sk:\n", i, "");
	check_fast("deep block nesting", b.data, b.len, "nesting deeper");
	buf_reset(&b);
	buf_addstr(&b, "a: ");
	for (int i = 0; i < 1000000; i++)
		buf_addch(&b, 'x');
	check_fast("huge scalar", b.data, b.len, "scalar longer than 65536");
	buf_reset(&b);
	for (int i = 0; i < 1100000; i++)
		buf_addch(&b, '#');
	check_fast("huge file", b.data, b.len, "larger than 1048576 bytes");
	check_fast("self alias", "a: &x [*x]\n", 11,
	           "1:8: anchor 'x' contains itself");
	check_fast("self alias in a map", "a: &x {b: *x}\n", 14,
	           "anchor 'x' contains itself");
	check_fast("unknown alias", "a: *nope\n", 9, "unknown anchor 'nope'");
	check_fast("custom tag", "a: !!python/object x\n", 21,
	           "unsupported tag");
	check_fast("NUL", "a: b\0c\n", 7, "1:5: NUL byte in input");
	check_fast("bad UTF-8", "a: \xc3\x28\n", 6, "1:4: invalid UTF-8");
	check_fast("overlong UTF-8", "a: \xc0\xaf\n", 6, "invalid UTF-8");
	/* glibc's regcomp() copies x for x+: nested '+' double its memory */
	buf_reset(&b);
	buf_addstr(&b, "services: {a: {image: x, ready: {log: '");
	for (int i = 0; i < 40; i++)
		buf_addch(&b, '(');
	buf_addch(&b, 'a');
	for (int i = 0; i < 40; i++)
		buf_addstr(&b, ")+");
	buf_addstr(&b, "'}}}\n");
	check_fast("nested '+' regex", b.data, b.len, "repeats too much");
	buf_reset(&b);
	buf_addstr(&b, "services: {a: {image: x, ready: {log: 'e+++++++++++"
	               "+++++++++++++++++++++++++++++'}}}\n");
	check_fast("adjacent '+' regex", b.data, b.len,
	           "adjacent repetition operators");
	check_fast("interval regex",
	           "services: {a: {image: x, ready: {log: "
	           "'((a{100}){100}){100}'}}}\n",
	           64, "repeats too much");
	check_fast("empty", "", 0, "empty manifest");
	check_fast("two documents", "a: 1\n---\nb: 2\n", 14,
	           "2:1: multiple documents are not supported");
	buf_release(&b);
	/* the expansions above would have taken gigabytes */
	ASSERT_EQ_INT(getrusage(RUSAGE_SELF, &ru), 0);
	ASSERT(ru.ru_maxrss < SLACK * 128 * 1024);
}

static void check_loads_fast(const char *what, struct buf *b, int want_rc)
{
	struct strvec w = STRVEC_INIT;
	struct manifest *m = NULL;
	int64_t t0 = cpu_ns(), dt;
	int rc = manifest_load_buffer("t.yaml", b->data, b->len, test_env, &w,
	                              &m);

	dt = cpu_ns() - t0;
	if (rc != want_rc)
		FAIL_AT("%s: rc %d (%s)", what, rc, orch_error_last());
	if (dt > SLACK * 1000000000LL)
		FAIL_AT("%s: took %lld ms", what, (long long)(dt / 1000000));
	if (w.n > 101)
		FAIL_AT("%s: %zu warnings", what, w.n);
	manifest_free(m);
	strvec_clear(&w);
	buf_reset(b);
}

TEST(many_keys_fast)
{
	struct buf b = BUF_INIT;

	/* a wide mapping must not cost quadratic time in the key checks */
	buf_addstr(&b, "x-wide:\n");
	for (int i = 0; i < 45000; i++)
		buf_addf(&b, "  k%d: 1\n", i);
	buf_addstr(&b, "services: {a: {image: x}}\n");
	check_loads_fast("45000 keys", &b, 0);
	buf_release(&b);
}

/* Shapes that would be quadratic with a lookup per insertion. */
TEST(wide_manifests_fast)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "services:\n");
	for (int i = 0; i < 10000; i++)
		buf_addf(&b, "  s%d: {image: x}\n", i);
	buf_addstr(&b, "  top:\n    image: x\n    depends_on:\n");
	for (int i = 0; i < 10000; i++)
		buf_addf(&b, "      - s%d\n", i);
	check_loads_fast("10000 dependencies", &b, 0);

	buf_addstr(&b, "services:\n  a:\n    image: x\n    environment:\n");
	for (int i = 0; i < 30000; i++)
		buf_addf(&b, "      - K%d=$UNSET%d\n", i, i);
	check_loads_fast("30000 variables", &b, 0);

	buf_addstr(&b, "volumes:\n");
	for (int i = 0; i < 20000; i++)
		buf_addf(&b, "  v%d:\n", i);
	buf_addstr(&b, "services:\n  a:\n    image: x\n    volumes:\n");
	for (int i = 0; i < 20000; i++)
		buf_addf(&b, "      - v%d:/m%d\n", i, i);
	check_loads_fast("20000 mounts", &b, 0);

	buf_addstr(&b, "services:\n");
	for (int i = 0; i < 15000; i++)
		buf_addf(&b, "  s%d: {image: x}\n", i);
	buf_addstr(&b, "suites:\n  t:\n    image: x\n    targets:\n");
	for (int i = 0; i < 15000; i++)
		buf_addf(&b, "      - s%d\n", i);
	check_loads_fast("15000 targets", &b, 0);
	buf_release(&b);
}

TEST(project_names)
{
	struct manifest *m =
	        load("name: shop-2\nservices: {a: {image: x}}\n", NULL);
	char *name = NULL;

	ASSERT(m);
	unsetenv("ORCHESTRATE_PROJECT");
	ASSERT_EQ_INT(manifest_project_name(m, NULL, &name), 0);
	ASSERT_EQ_STR(name, "shop-2");
	free(name);
	ASSERT_EQ_INT(manifest_project_name(m, "ci_42", &name), 0);
	ASSERT_EQ_STR(name, "ci_42");
	free(name);
	ASSERT_EQ_INT(manifest_project_name(m, "Bad Name", &name),
	              ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "invalid project name 'Bad Name'");
	setenv("ORCHESTRATE_PROJECT", "from-env", 1);
	ASSERT_EQ_INT(manifest_project_name(m, NULL, &name), 0);
	ASSERT_EQ_STR(name, "from-env");
	free(name);
	unsetenv("ORCHESTRATE_PROJECT");
	free(m->name);
	m->name = NULL;
	free(m->dir);
	m->dir = xstrdup("/srv/_My.Shop_V2");
	ASSERT_EQ_INT(manifest_project_name(m, NULL, &name), 0);
	ASSERT_EQ_STR(name, "myshop_v2");
	free(name);
	manifest_free(m);
	ASSERT_EQ_STR(load_error("name: My App\nservices: {a: {image: x}}\n"),
	              "1:7: invalid project name 'My App' (lower case "
	              "letters, digits, '-' and '_', starting with a letter "
	              "or digit)");
	manifest_free(NULL);
}

TEST(discover_and_load_file)
{
	char cwd[4096], *path = NULL;
	struct manifest *m = NULL;
	struct strvec w = STRVEC_INIT;

	ASSERT(getcwd(cwd, sizeof(cwd)));
	mkdirs("disc");
	ASSERT_EQ_INT(chdir(tmpdir), 0);
	ASSERT_EQ_INT(chdir("disc"), 0);
	unsetenv("ORCHESTRATE_FILE");
	ASSERT_EQ_INT(manifest_discover(NULL, &path), ORCH_ENOTFOUND);
	ASSERT_CONTAINS(orch_error_last(), "orchestrate.yaml");
	write_in_tmp("disc/orchestrate.yml",
	             "services: {a: {image: \"x:${FROM_DOTENV}\", "
	             "environment: {P: $PROC}}}\n");
	write_in_tmp("disc/.env", "FROM_DOTENV=dot\nPROC=dotenv-loses\n");
	setenv("PROC", "process-wins", 1);
	ASSERT_EQ_INT(manifest_discover(NULL, &path), 0);
	ASSERT_EQ_STR(path, "orchestrate.yml");
	if (manifest_load(path, &w, &m))
		FAIL_AT("%s", orch_error_last());
	ASSERT(m);
	ASSERT_EQ_STR(m->services[0].real.image, "x:dot");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "P"),
	              "process-wins");
	ASSERT_EQ_INT(w.n, 0);
	free(path);
	manifest_free(m);
	setenv("ORCHESTRATE_FILE", "missing.yaml", 1);
	ASSERT_EQ_INT(manifest_discover(NULL, &path), ORCH_ENOTFOUND);
	ASSERT_CONTAINS(orch_error_last(), "'missing.yaml' (from "
	                                   "ORCHESTRATE_FILE)");
	unsetenv("ORCHESTRATE_FILE");
	ASSERT_EQ_INT(manifest_discover("nope.yaml", &path), ORCH_ENOTFOUND);
	/* -f naming a directory */
	ASSERT_EQ_INT(manifest_load(".", &w, &m), ORCH_EINVALID);
	ASSERT_EQ_STR(orch_error_last(), "cannot read .: Is a directory");
	ASSERT(!m);
	unsetenv("PROC");
	ASSERT_EQ_INT(chdir(cwd), 0);
	strvec_clear(&w);
}

/*
 * The .env beside a manifest is interpolated before the manifest: lines
 * above, the process environment winning, its errors and warnings named
 * after the .env file.
 */
TEST(dotenv_interpolated)
{
	char cwd[4096];
	struct manifest *m = NULL;
	struct strvec w = STRVEC_INIT;

	ASSERT(getcwd(cwd, sizeof(cwd)));
	mkdirs("denv");
	ASSERT_EQ_INT(chdir(tmpdir), 0);
	write_in_tmp("denv/m.yaml",
	             "services:\n"
	             "  a:\n"
	             "    image: \"${IMAGE}\"\n"
	             "    environment: {URL: $URL, LIT: $LIT, PW: $PW}\n");
	write_in_tmp("denv/.env", "DBHOST=db\n"
	                          "URL=postgres://${DBHOST}:${DBPORT:-5432}\n"
	                          "IMAGE=${REGISTRY:-local}/app:v${TAG}\n"
	                          "LIT='${DBHOST}'\n"
	                          "PW=pa$$word\n");
	unsetenv("DBHOST");
	unsetenv("REGISTRY");
	unsetenv("TAG");
	if (manifest_load("denv/m.yaml", &w, &m))
		FAIL_AT("%s", orch_error_last());
	ASSERT(m);
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "URL"),
	              "postgres://db:5432");
	ASSERT_EQ_STR(m->services[0].real.image, "local/app:v");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "LIT"), "${DBHOST}");
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "PW"), "pa$word");
	ASSERT_EQ_INT(w.n, 1);
	ASSERT_EQ_STR(w.v[0], "denv/.env:3:7: variable 'TAG' is not set, "
	                      "using an empty string");
	manifest_free(m);
	m = NULL;
	strvec_clear(&w);

	/* the process environment wins, inside the file too */
	setenv("DBHOST", "ci-db", 1);
	setenv("TAG", "7", 1);
	setenv("URL", "", 1);
	ASSERT_EQ_INT(manifest_load("denv/m.yaml", &w, &m), 0);
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "URL"), "");
	ASSERT_EQ_STR(m->services[0].real.image, "local/app:v7");
	ASSERT_EQ_INT(w.n, 0);
	manifest_free(m);
	m = NULL;
	unsetenv("URL");
	ASSERT_EQ_INT(manifest_load("denv/m.yaml", &w, &m), 0);
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "URL"),
	              "postgres://ci-db:5432");
	manifest_free(m);
	m = NULL;
	unsetenv("DBHOST");
	unsetenv("TAG");

	/* an error names the .env file, the line, the column and the key */
	write_in_tmp("denv/.env",
	             "DBHOST=db\n"
	             "# the password comes from CI\n"
	             "export PW=${DB_PASSWORD:?set DB_PASSWORD}\n");
	ASSERT_EQ_INT(manifest_load("denv/m.yaml", &w, &m), ORCH_EINVALID);
	ASSERT_EQ_STR(orch_error_last(),
	              "denv/.env:3:11: value of 'PW': required variable "
	              "'DB_PASSWORD' is missing a value: set DB_PASSWORD");
	ASSERT(!m);
	write_in_tmp("denv/.env", "OK=1\nBAD=\"unterminated\n");
	ASSERT_EQ_INT(manifest_load("denv/m.yaml", &w, &m), ORCH_EINVALID);
	ASSERT_EQ_STR(orch_error_last(), "denv/.env:2:5: unterminated quote");
	ASSERT_EQ_INT(chdir(cwd), 0);
	strvec_clear(&w);
}

/* Put the file at path on standard input; returns the saved stdin. */
static int stdin_from(const char *path)
{
	int saved = dup(0), fd = open(path, O_RDONLY);

	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	return saved;
}

static void stdin_restore(int saved)
{
	dup2(saved, 0);
	close(saved);
}

/*
 * -f -: the manifest from standard input, the current directory as the
 * project directory (relative paths, .env, the project name), the same
 * size cap as a file, and clear errors for nothing read.
 */
TEST(load_stdin)
{
	char cwd[4096], *path = NULL, *name = NULL, *want, *dir;
	struct manifest *m = NULL;
	struct strvec w = STRVEC_INIT;
	struct buf big = BUF_INIT;
	int saved;
	off_t pos;

	ASSERT(getcwd(cwd, sizeof(cwd)));
	mkdirs("Stdin_Proj/api");
	mkdirs("elsewhere");
	write_in_tmp("elsewhere/m.yaml", "services:\n"
	                                 "  api:\n"
	                                 "    build: api\n"
	                                 "    image: \"app:v${TAG}\"\n"
	                                 "    volumes: [\"./data:/data\"]\n"
	                                 "    environment: {U: $URL}\n"
	                                 "  bad: {imag: x}\n");
	write_in_tmp("Stdin_Proj/.env",
	             "H=db\nURL=http://${H}/\nTAG=${NOPE}\n");
	ASSERT_EQ_INT(chdir(tmpdir), 0);
	ASSERT_EQ_INT(chdir("Stdin_Proj"), 0);
	unsetenv("ORCHESTRATE_FILE");
	unsetenv("ORCHESTRATE_PROJECT");
	unsetenv("URL");
	unsetenv("TAG");
	ASSERT_EQ_INT(manifest_discover("-", &path), 0);
	ASSERT_EQ_STR(path, "-");
	free(path);
	setenv("ORCHESTRATE_FILE", "-", 1);
	ASSERT_EQ_INT(manifest_discover(NULL, &path), 0);
	ASSERT_EQ_STR(path, "-");
	free(path);
	unsetenv("ORCHESTRATE_FILE");

	/* an invalid manifest: errors read <stdin>:LINE:COL */
	saved = stdin_from("../elsewhere/m.yaml");
	ASSERT_EQ_INT(manifest_load("-", &w, &m), ORCH_EINVALID);
	stdin_restore(saved);
	ASSERT_EQ_STR(orch_error_last(),
	              "<stdin>:7:9: service 'bad': unknown key 'imag' (did you "
	              "mean 'image'?)");
	strvec_clear(&w);

	write_in_tmp("elsewhere/m.yaml", "services:\n"
	                                 "  api:\n"
	                                 "    build: api\n"
	                                 "    image: \"app:v${TAG}\"\n"
	                                 "    volumes: [\"./data:/data\"]\n"
	                                 "    environment: {U: $URL}\n");
	saved = stdin_from("../elsewhere/m.yaml");
	if (manifest_load("-", &w, &m))
		FAIL_AT("%s", orch_error_last());
	stdin_restore(saved);
	ASSERT(m);
	dir = realpath(".", NULL);
	ASSERT_EQ_STR(m->path, "<stdin>");
	ASSERT_EQ_STR(m->dir, dir);
	want = xasprintf("%s/api", dir);
	ASSERT_EQ_STR(m->services[0].real.build->context, want);
	free(want);
	want = xasprintf("%s/data", dir);
	ASSERT_EQ_STR(m->services[0].real.mounts[0].source, want);
	free(want);
	free(dir);
	/* .env of the current directory, interpolated */
	ASSERT_EQ_STR(kv(&m->services[0].real.environment, "U"), "http://db/");
	ASSERT_EQ_INT(w.n, 1);
	ASSERT_EQ_STR(w.v[0], ".env:3:5: variable 'NOPE' is not set, using "
	                      "an empty string");
	ASSERT_EQ_INT(manifest_project_name(m, NULL, &name), 0);
	ASSERT_EQ_STR(name, "stdin_proj");
	free(name);
	manifest_free(m);
	m = NULL;
	strvec_clear(&w);

	/* nothing on standard input */
	saved = stdin_from("/dev/null");
	ASSERT_EQ_INT(manifest_load("-", &w, &m), ORCH_EINVALID);
	stdin_restore(saved);
	ASSERT_EQ_STR(orch_error_last(),
	              "<stdin>:1:1: empty manifest: nothing was read from "
	              "standard input");

	/* the size cap: reading stops there */
	for (int i = 0; i < 40000; i++)
		buf_addstr(&big,
		           "# a comment line of filler text to pass 1 MiB\n");
	write_in_tmp("elsewhere/big.yaml", big.data);
	saved = stdin_from("../elsewhere/big.yaml");
	ASSERT_EQ_INT(manifest_load("-", &w, &m), ORCH_EINVALID);
	pos = lseek(0, 0, SEEK_CUR);
	stdin_restore(saved);
	ASSERT_EQ_STR(orch_error_last(),
	              "<stdin>:1:1: manifest larger than 1048576 bytes (1 "
	              "MiB): stopped reading standard input");
	ASSERT(big.len > 1024 * 1024 + 8192);
	ASSERT(pos <= 1024 * 1024 + 8192);
	buf_release(&big);
	ASSERT(!m);
	ASSERT_EQ_INT(chdir(cwd), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	int rc;

	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(origin, sizeof(origin), "%s/orchestrate.yaml", tmpdir);
	mkdirs("images/db");
	mkdirs("images/api");
	mkdirs("stubs/api");
	mkdirs("stubs/payments");
	mkdirs("suites/db");
	mkdirs("suites/api");
	RUN(design_example);
	RUN(build_and_image);
	RUN(port_forms);
	RUN(environment_forms);
	RUN(durations_and_health);
	RUN(commands_and_depends);
	RUN(volumes_and_mounts);
	RUN(merge_keys);
	RUN(interpolation_warnings);
	RUN(ignored_keys_warn);
	RUN(error_messages);
	RUN(key_order);
	RUN(schema_table_converters);
	RUN(hostile_inputs);
	RUN(many_keys_fast);
	RUN(wide_manifests_fast);
	RUN(project_names);
	RUN(discover_and_load_file);
	RUN(dotenv_interpolated);
	RUN(load_stdin);
	rc = harness_done();
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
