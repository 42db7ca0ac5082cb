/*
 * test-compose.c: Compose files as the loader reads them (issue 13): the
 * runtime keys in the model, port ranges, secrets and configs, hooks,
 * links and aliases, profiles, several files merged, include and
 * extends, and discovery. The binary's view (every key's valid and
 * invalid forms, messages) is tests/cli/manifest-fixtures.sh; plan and
 * graph of merged files against one file, tests/cli/compose-merge.py.
 */
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "manifest.h"
#include "util.h"

static char tmpdir[] = "/tmp/orch-compose-XXXXXX";
static char origin[256];

static const char *test_env(const char *name)
{
	if (!strcmp(name, "TOKEN"))
		return "tok-value";
	return NULL;
}

static struct manifest *load(const char *text, struct strvec *w)
{
	struct manifest *m = NULL;

	if (manifest_load_buffer(origin, text, strlen(text), test_env, w, &m))
		printf("# load failed: %s\n", orch_error_last());
	return m;
}

static const char *load_error(const char *text)
{
	struct manifest *m = NULL;
	size_t l = strlen(tmpdir);
	const char *msg;

	if (!manifest_load_buffer(origin, text, strlen(text), test_env, NULL,
	                          &m)) {
		manifest_free(m);
		return "(loaded)";
	}
	msg = orch_error_last();
	/* without the directory: "orchestrate.yaml:L:C: ..." */
	return !strncmp(msg, tmpdir, l) ? msg + l + 1 : msg;
}

static void write_in_tmp(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", tmpdir, rel), *slash = strrchr(p, '/');

	*slash = '\0';
	mkdir(p, 0755);
	*slash = '/';
	write_file_atomic(p, text, strlen(text));
	free(p);
}

/* files relative to tmpdir, loaded together (profiles NULL: none) */
static struct manifest *load_files(const char *const *rel, size_t n,
                                   const char *const *profiles, size_t np,
                                   struct strvec *w)
{
	char cwd[4096];
	const char *none[] = { NULL };
	struct manifest_opts o = { rel, n, profiles ? profiles : none, np,
		                   NULL };
	struct manifest *m = NULL;

	if (!getcwd(cwd, sizeof(cwd)) || chdir(tmpdir))
		return NULL;
	if (manifest_load_opts(&o, w, &m))
		printf("# load failed: %s\n", orch_error_last());
	if (chdir(cwd))
		return m;
	return m;
}

static const char *kv(const struct mf_kvs *kvs, const char *key)
{
	for (size_t i = 0; i < kvs->n; i++)
		if (!strcmp(kvs->items[i].key, key))
			return kvs->items[i].value ? kvs->items[i].value
			                           : "(null)";
	return "(absent)";
}

static const struct mf_service *svc(const struct manifest *m, const char *name)
{
	int i = manifest_service_index(m, name);

	return i < 0 ? NULL : &m->services[i];
}

static const struct mf_dep *dep(const struct mf_service *s, const char *name)
{
	for (size_t i = 0; s && i < s->ndeps; i++)
		if (!strcmp(s->deps[i].name, name))
			return &s->deps[i];
	return NULL;
}

TEST(runtime_keys)
{
	struct manifest *m =
	        load("services:\n"
	             "  app:\n"
	             "    image: x\n"
	             "    hostname: h\n"
	             "    extra_hosts: {a: 10.0.0.1, b: [10.0.0.2, '::1']}\n"
	             "    dns: 10.0.0.53\n"
	             "    expose: ['8000-8002', 53/udp]\n"
	             "    ulimits: {nproc: 10, nofile: {soft: 1, hard: 2}}\n"
	             "    mem_limit: 1.5g\n"
	             "    memswap_limit: -1\n"
	             "    shm_size: 64k\n"
	             "    cpus: 0.5\n"
	             "    cpu_period: 100ms\n"
	             "    pids_limit: -1\n"
	             "    restart: on-failure:3\n"
	             "    stop_signal: SIGINT\n"
	             "    read_only: true\n"
	             "    ipc: shareable\n"
	             "  job:\n"
	             "    image: x\n"
	             "    deploy:\n"
	             "      replicas: 2\n"
	             "      resources: {limits: {memory: 64M, cpus: '0.25'}}\n"
	             "      restart_policy: {condition: any}\n",
	             NULL);
	const struct mf_container *a, *j;

	ASSERT(m);
	a = &m->services[0].real;
	j = &m->services[1].real;
	ASSERT_EQ_STR(a->hostname, "h");
	ASSERT_EQ_INT(a->extra_hosts.n, 3);
	ASSERT_EQ_STR(a->extra_hosts.v[0], "a:10.0.0.1");
	ASSERT_EQ_STR(a->extra_hosts.v[2], "b:::1");
	ASSERT_EQ_STR(a->dns.v[0], "10.0.0.53");
	ASSERT_EQ_INT(a->expose.n, 4);
	ASSERT_EQ_STR(a->expose.v[2], "8002/tcp");
	ASSERT_EQ_STR(a->expose.v[3], "53/udp");
	ASSERT_EQ_INT(a->res.nulimits, 2);
	ASSERT_EQ_INT(a->res.ulimits[0].hard, 10);
	ASSERT_EQ_INT(a->res.ulimits[1].soft, 1);
	ASSERT_EQ_INT(a->res.memory, 1610612736LL);
	ASSERT_EQ_INT(a->res.memory_swap, -1);
	ASSERT_EQ_INT(a->res.shm_size, 65536);
	ASSERT_EQ_INT(a->res.nano_cpus, 500000000LL);
	ASSERT_EQ_INT(a->res.cpu_period, 100000);
	ASSERT_EQ_INT(a->res.pids_limit, -1);
	ASSERT(a->res.cpu_shares == MF_UNSET);
	ASSERT_EQ_STR(a->restart, "on-failure:3");
	ASSERT_EQ_STR(a->stop_signal, "SIGINT");
	ASSERT(a->read_only);
	ASSERT_EQ_STR(a->ipc, "shareable");
	/* deploy: resources as the keys they duplicate, restart_policy */
	ASSERT_EQ_INT(j->res.memory, 64LL << 20);
	ASSERT_EQ_INT(j->res.nano_cpus, 250000000LL);
	ASSERT_EQ_STR(j->restart, "always");
	manifest_free(m);
}

TEST(port_ranges)
{
	struct manifest *m = load("services:\n"
	                          "  web:\n"
	                          "    image: x\n"
	                          "    ports:\n"
	                          "      - '8000-8002:9000-9002'\n"
	                          "      - '9090-9091'\n"
	                          "      - '127.0.0.1:6005-6015:80/udp'\n"
	                          "      - {target: '5000-5001', published: "
	                          "'15000-15001'}\n",
	                          NULL);
	const struct mf_container *w;

	ASSERT(m);
	w = &m->services[0].real;
	ASSERT_EQ_INT(w->nports, 8);
	ASSERT_EQ_INT(w->ports[0].host_port, 8000);
	ASSERT_EQ_INT(w->ports[0].container_port, 9000);
	ASSERT_EQ_INT(w->ports[2].host_port, 8002);
	ASSERT_EQ_INT(w->ports[2].container_port, 9002);
	ASSERT_EQ_INT(w->ports[3].host_port, 0);
	ASSERT_EQ_INT(w->ports[4].container_port, 9091);
	ASSERT_EQ_INT(w->ports[5].host_port, 6005);
	ASSERT_EQ_INT(w->ports[5].host_port_end, 6015);
	ASSERT_EQ_INT(w->ports[5].container_port, 80);
	ASSERT_EQ_STR(w->ports[5].protocol, "udp");
	ASSERT_EQ_STR(w->ports[5].host_ip, "127.0.0.1");
	ASSERT_EQ_INT(w->ports[7].host_port, 15001);
	ASSERT_EQ_INT(w->ports[7].container_port, 5001);
	manifest_free(m);
	ASSERT_CONTAINS(load_error("services:\n  w:\n    image: x\n"
	                           "    ports: ['8000-8001:9000-9002']\n"),
	                "the host range and the container range differ");
	ASSERT_CONTAINS(load_error("services:\n  w:\n    image: x\n"
	                           "    ports: ['1-2000']\n"),
	                "more than 1024 ports");
}

TEST(secrets_configs_hooks)
{
	struct manifest *m;
	const struct mf_container *c;

	write_in_tmp("s/pw.txt", "pw-from-file\n");
	m = load("services:\n"
	         "  db:\n"
	         "    image: x\n"
	         "    secrets: [pw, {source: tok, target: t, uid: '7', "
	         "mode: 0400}]\n"
	         "    configs: [{source: c, target: /etc/c.conf}, c]\n"
	         "    post_start:\n"
	         "      - {command: 'sh -c true', user: u, working_dir: /w, "
	         "environment: [A=1]}\n"
	         "    pre_stop: [{command: [drain]}]\n"
	         "secrets:\n"
	         "  pw: {file: s/pw.txt}\n"
	         "  tok: {environment: TOKEN}\n"
	         "configs:\n"
	         "  c: {content: 'x=${TOKEN}'}\n",
	         NULL);
	ASSERT(m);
	c = &m->services[0].real;
	ASSERT_EQ_INT(c->nfiles, 4);
	ASSERT_EQ_STR(c->files[0].target, "/run/secrets/pw");
	ASSERT(c->files[0].source_path && !c->files[0].content);
	ASSERT_CONTAINS(c->files[0].source_path, "/s/pw.txt");
	ASSERT_EQ_STR(c->files[1].target, "/run/secrets/t");
	ASSERT_EQ_STR(c->files[1].content, "tok-value");
	ASSERT_EQ_INT(c->files[1].uid, 7);
	ASSERT_EQ_INT(c->files[1].mode, 0400);
	ASSERT_EQ_STR(c->files[2].target, "/etc/c.conf");
	ASSERT_EQ_STR(c->files[2].content, "x=tok-value");
	ASSERT_EQ_STR(c->files[3].target, "/c");
	ASSERT_EQ_INT(c->files[3].mode, 0444);
	ASSERT_EQ_INT(m->nsecrets, 2);
	ASSERT_EQ_STR(m->secrets[1].content, "tok-value");
	ASSERT_EQ_INT(c->npost_start, 1);
	ASSERT_EQ_INT(c->post_start[0].command.n, 3);
	ASSERT_EQ_STR(c->post_start[0].user, "u");
	ASSERT_EQ_STR(c->post_start[0].working_dir, "/w");
	ASSERT_EQ_STR(kv(&c->post_start[0].environment, "A"), "1");
	ASSERT_EQ_STR(c->pre_stop[0].command.v[0], "drain");
	manifest_free(m);
}

TEST(links_aliases_refs)
{
	struct manifest *m = load("services:\n"
	                          "  web:\n"
	                          "    image: x\n"
	                          "    links: ['db:database']\n"
	                          "    volumes_from: ['store:ro']\n"
	                          "    networks: {front: {aliases: [www]}}\n"
	                          "  db:\n"
	                          "    image: x\n"
	                          "    stub: {image: y}\n"
	                          "  store:\n"
	                          "    image: x\n"
	                          "    network_mode: service:db\n"
	                          "networks: {front: {}}\n",
	                          NULL);
	const struct mf_service *web, *db, *store;

	ASSERT(m);
	web = svc(m, "web");
	db = svc(m, "db");
	store = svc(m, "store");
	ASSERT_EQ_STR(web->real.aliases.v[0], "www");
	/* a link's alias is the target's name, the stub's too */
	ASSERT_EQ_INT(db->real.aliases.n, 1);
	ASSERT_EQ_STR(db->real.aliases.v[0], "database");
	ASSERT_EQ_STR(db->stub->aliases.v[0], "database");
	/* Compose's implicit dependencies */
	ASSERT(dep(web, "db") && dep(web, "db")->implicit &&
	       !dep(web, "db")->names_container);
	ASSERT(dep(web, "store") && dep(web, "store")->names_container);
	ASSERT(dep(store, "db") && dep(store, "db")->names_container);
	ASSERT_EQ_STR(web->real.volumes_from.v[0], "store:ro");
	ASSERT_EQ_STR(store->real.network_service, "db");
	manifest_free(m);
}

TEST(external_networks)
{
	struct manifest *m = load("services:\n"
	                          "  web:\n"
	                          "    image: x\n"
	                          "    networks: [proxy, back]\n"
	                          "  db:\n"
	                          "    image: x\n"
	                          "    stub: {image: y}\n"
	                          "  none:\n"
	                          "    image: x\n"
	                          "    network_mode: none\n"
	                          "networks:\n"
	                          "  proxy: {external: true}\n"
	                          "  back: {}\n"
	                          "  default: {external: {name: ci-net}}\n",
	                          NULL);
	const struct mf_service *web, *db, *none;

	ASSERT(m);
	web = svc(m, "web");
	db = svc(m, "db");
	none = svc(m, "none");
	/* named: the external ones only, by their engine names */
	ASSERT_EQ_INT(web->real.ext_networks.n, 1);
	ASSERT_EQ_STR(web->real.ext_networks.v[0], "proxy");
	/* no networks: 'default', external here; a stub joins none */
	ASSERT_EQ_INT(db->real.ext_networks.n, 1);
	ASSERT_EQ_STR(db->real.ext_networks.v[0], "ci-net");
	ASSERT_EQ_INT(db->stub->ext_networks.n, 0);
	ASSERT_EQ_INT(none->real.ext_networks.n, 0);
	manifest_free(m);
}

TEST(profiles)
{
	const char *text = "services:\n"
	                   "  app:\n"
	                   "    image: x\n"
	                   "    depends_on: {opt: {condition: service_started, "
	                   "required: false}}\n"
	                   "  opt:\n"
	                   "    image: x\n"
	                   "    profiles: [debug]\n"
	                   "  other:\n"
	                   "    image: x\n"
	                   "    profiles: [tools, debug]\n";
	const char *debug[] = { "debug" }, *all[] = { "*" };
	struct manifest *m;

	write_in_tmp("p/compose.yaml", text);
	m = load_files((const char *[]){ "p/compose.yaml" }, 1, NULL, 0, NULL);
	ASSERT(m);
	ASSERT_EQ_INT(m->nservices, 1);
	ASSERT_EQ_INT(m->services[0].ndeps, 0); /* required: false, dropped */
	manifest_free(m);
	m = load_files((const char *[]){ "p/compose.yaml" }, 1, debug, 1, NULL);
	ASSERT(m);
	ASSERT_EQ_INT(m->nservices, 3);
	ASSERT_EQ_INT(m->services[0].ndeps, 1);
	ASSERT_EQ_INT(m->profiles.n, 1);
	manifest_free(m);
	m = load_files((const char *[]){ "p/compose.yaml" }, 1, all, 1, NULL);
	ASSERT(m && m->nservices == 3);
	manifest_free(m);
	ASSERT_EQ_STR(load_error("services:\n  a: {image: x, depends_on: [b]}\n"
	                         "  b: {image: x, profiles: [p]}\n"),
	              "orchestrate.yaml:2:30: service 'a' depends on service "
	              "'b', which is not active: its profiles (p) are not "
	              "(--profile p, or COMPOSE_PROFILES)");
}

TEST(merge_files)
{
	struct manifest *m;
	const struct mf_container *api;

	write_in_tmp("m/base.yaml",
	             "services:\n"
	             "  api:\n"
	             "    image: x\n"
	             "    command: [a, b]\n"
	             "    environment: [A=1, B=2]\n"
	             "    labels: {l1: one}\n"
	             "    ports: ['8080:80', '9000']\n"
	             "    volumes: [data:/data, /keep]\n"
	             "    depends_on: [db]\n"
	             "    healthcheck: {test: [CMD, a], interval: 1s}\n"
	             "    dns: [1.1.1.1]\n"
	             "    build: ctx\n"
	             "  db: {image: x}\n"
	             "volumes: {data: {}}\n");
	write_in_tmp("m/ctx/Dockerfile", "FROM scratch\n");
	write_in_tmp("m/override.yaml",
	             "services:\n"
	             "  api:\n"
	             "    command: [c]\n"
	             "    environment: {B: two, C: 3}\n"
	             "    labels: [l2=two]\n"
	             "    ports: ['9000', '8443:443']\n"
	             "    volumes: [other:/data]\n"
	             "    depends_on: {cache: {condition: service_healthy}}\n"
	             "    healthcheck: {test: [CMD, b]}\n"
	             "    dns: [1.1.1.1, 8.8.8.8]\n"
	             "    build: {target: t}\n"
	             "  cache: {image: x}\n"
	             "volumes: {other: {}}\n");
	m = load_files((const char *[]){ "m/base.yaml", "m/override.yaml" }, 2,
	               NULL, 0, NULL);
	ASSERT(m);
	ASSERT_EQ_INT(m->nservices, 3);
	ASSERT_EQ_INT(m->files.n, 2);
	api = &svc(m, "api")->real;
	/* command replaced */
	ASSERT_EQ_INT(api->command.n, 1);
	ASSERT_EQ_STR(api->command.v[0], "c");
	/* KEY=VALUE merged by key, whatever the form */
	ASSERT_EQ_STR(kv(&api->environment, "A"), "1");
	ASSERT_EQ_STR(kv(&api->environment, "B"), "two");
	ASSERT_EQ_STR(kv(&api->environment, "C"), "3");
	ASSERT_EQ_STR(kv(&api->labels, "l1"), "one");
	ASSERT_EQ_STR(kv(&api->labels, "l2"), "two");
	/* ports by {ip, published, target, protocol}: 9000 once */
	ASSERT_EQ_INT(api->nports, 3);
	ASSERT_EQ_INT(api->ports[2].container_port, 443);
	/* volumes by target: /data replaced in its place */
	ASSERT_EQ_INT(api->nmounts, 2);
	ASSERT_EQ_STR(api->mounts[0].source, "other");
	/* depends_on: lists and mappings merged */
	ASSERT_EQ_INT(svc(m, "api")->ndeps, 2);
	ASSERT_EQ_INT(dep(svc(m, "api"), "cache")->condition,
	              MF_SERVICE_HEALTHY);
	/* healthcheck.test replaced, the rest merged */
	ASSERT_EQ_STR(api->healthcheck.test.v[1], "b");
	ASSERT_EQ_INT(api->healthcheck.interval_ns, 1000000000);
	/* lists of names without duplicates */
	ASSERT_EQ_INT(api->dns.n, 2);
	/* build: DIR and build: {target} merged */
	ASSERT(api->build);
	ASSERT_CONTAINS(api->build->context, "/m/ctx");
	ASSERT_EQ_STR(api->build->target, "t");
	manifest_free(m);

	/* !reset and !override */
	write_in_tmp("m/reset.yaml", "services:\n"
	                             "  api:\n"
	                             "    environment: {A: !reset null}\n"
	                             "    ports: !override ['7000']\n"
	                             "    depends_on: !reset []\n"
	                             "    dns: !reset\n");
	m = load_files((const char *[]){ "m/base.yaml", "m/reset.yaml" }, 2,
	               NULL, 0, NULL);
	ASSERT(m);
	api = &svc(m, "api")->real;
	ASSERT_EQ_STR(kv(&api->environment, "A"), "(absent)");
	ASSERT_EQ_STR(kv(&api->environment, "B"), "2");
	ASSERT_EQ_INT(api->nports, 1);
	ASSERT_EQ_INT(api->ports[0].container_port, 7000);
	ASSERT_EQ_INT(svc(m, "api")->ndeps, 0);
	ASSERT_EQ_INT(api->dns.n, 0);
	manifest_free(m);

	/* a bracketed address is the same port in the short and long forms */
	write_in_tmp("m/v6a.yaml",
	             "services:\n"
	             "  api: {image: x, ports: ['[::1]:8081:81']}\n");
	write_in_tmp("m/v6b.yaml", "services:\n"
	                           "  api:\n"
	                           "    ports: [{host_ip: '::1', published: "
	                           "'8081', target: 81}]\n");
	m = load_files((const char *[]){ "m/v6a.yaml", "m/v6b.yaml" }, 2, NULL,
	               0, NULL);
	ASSERT(m);
	ASSERT_EQ_INT(svc(m, "api")->real.nports, 1);
	manifest_free(m);

	/* an error points at the file where the value was written */
	write_in_tmp("m/bad.yaml", "services:\n  api:\n    ports: ['0:80']\n");
	m = load_files((const char *[]){ "m/base.yaml", "m/bad.yaml" }, 2, NULL,
	               0, NULL);
	ASSERT(!m);
	ASSERT_EQ_STR(orch_error_last(),
	              "m/bad.yaml:3:13: service 'api': invalid port '0:80' "
	              "(host port 1-65535, or a range A-B)");
}

TEST(include_and_extends)
{
	struct strvec w = STRVEC_INIT;
	struct manifest *m;
	const struct mf_service *s;

	write_in_tmp("i/compose.yaml",
	             "include:\n"
	             "  - path: sub/compose.yaml\n"
	             "    env_file: vars.env\n"
	             "services:\n"
	             "  web:\n"
	             "    extends: {file: lib/base.yaml, service: common}\n"
	             "    depends_on: [db]\n"
	             "  worker:\n"
	             "    extends: web\n"
	             "    environment: {ROLE: worker}\n");
	write_in_tmp("i/vars.env", "DB_TAG=from-env-file\n");
	write_in_tmp("i/sub/compose.yaml", "services:\n"
	                                   "  db:\n"
	                                   "    image: \"x:${DB_TAG}\"\n"
	                                   "    env_file: db.env\n");
	write_in_tmp("i/sub/db.env", "WHERE=sub\n");
	write_in_tmp("i/lib/base.yaml", "services:\n"
	                                "  common:\n"
	                                "    image: x\n"
	                                "    env_file: lib.env\n"
	                                "    environment: {ROLE: web}\n");
	write_in_tmp("i/lib/lib.env", "WHERE=lib\n");
	m = load_files((const char *[]){ "i/compose.yaml" }, 1, NULL, 0, &w);
	ASSERT(m);
	ASSERT_EQ_INT(m->nservices, 3);
	/* the included project: its env_file for ${}, its own directory */
	s = svc(m, "db");
	ASSERT_EQ_STR(s->real.image, "x:from-env-file");
	ASSERT_EQ_STR(kv(&s->real.environment, "WHERE"), "sub");
	ASSERT_CONTAINS(s->file, "i/sub/compose.yaml");
	/* extends: another file's paths are its own */
	s = svc(m, "web");
	ASSERT_EQ_STR(kv(&s->real.environment, "WHERE"), "lib");
	ASSERT_EQ_STR(kv(&s->real.environment, "ROLE"), "web");
	/* extends of extends, dependencies inherited */
	s = svc(m, "worker");
	ASSERT_EQ_STR(kv(&s->real.environment, "ROLE"), "worker");
	ASSERT(dep(s, "db"));
	ASSERT_EQ_INT(w.n, 0);
	manifest_free(m);

	write_in_tmp("c/a.yaml", "include: [b.yaml]\nservices: {a: {image: "
	                         "x}}\n");
	write_in_tmp("c/b.yaml", "include: [a.yaml]\nservices: {b: {image: "
	                         "x}}\n");
	ASSERT(!load_files((const char *[]){ "c/a.yaml" }, 1, NULL, 0, NULL));
	ASSERT_EQ_STR(orch_error_last(),
	              "c/b.yaml:1:11: include cycle: c/a.yaml -> c/b.yaml -> "
	              "c/a.yaml");
	ASSERT_EQ_STR(load_error("services:\n"
	                         "  a: {extends: b, image: x}\n"
	                         "  b: {extends: c}\n"
	                         "  c: {extends: a}\n"),
	              "orchestrate.yaml:2:16: service 'a': extends cycle: a -> "
	              "b -> c -> a");
	strvec_clear(&w);
}

TEST(discovery)
{
	char cwd[4096];
	struct strvec files = STRVEC_INIT, notes = STRVEC_INIT;

	ASSERT(getcwd(cwd, sizeof(cwd)));
	write_in_tmp("d/docker-compose.yml", "services: {a: {image: x}}\n");
	ASSERT_EQ_INT(chdir(tmpdir), 0);
	ASSERT_EQ_INT(chdir("d"), 0);
	unsetenv("ORCHESTRATE_FILE");
	unsetenv("COMPOSE_FILE");
	ASSERT_EQ_INT(manifest_discover_files(NULL, 0, &files, &notes), 0);
	ASSERT_EQ_INT(files.n, 1);
	ASSERT_EQ_STR(files.v[0], "docker-compose.yml");
	write_in_tmp("d/compose.yaml", "services: {a: {image: x}}\n");
	write_in_tmp("d/compose.override.yml", "services: {a: {init: true}}\n");
	ASSERT_EQ_INT(manifest_discover_files(NULL, 0, &files, &notes), 0);
	ASSERT_EQ_INT(files.n, 2);
	ASSERT_EQ_STR(files.v[0], "compose.yaml");
	ASSERT_EQ_STR(files.v[1], "compose.override.yml");
	ASSERT_EQ_INT(notes.n, 1);
	ASSERT_CONTAINS(notes.v[0], "using 'compose.yaml', not "
	                            "'docker-compose.yml'");
	strvec_clear(&notes);
	/* orchestrate.yaml first */
	write_in_tmp("d/orchestrate.yaml", "services: {a: {image: x}}\n");
	ASSERT_EQ_INT(manifest_discover_files(NULL, 0, &files, &notes), 0);
	ASSERT_EQ_STR(files.v[0], "orchestrate.yaml");
	ASSERT_EQ_INT(files.n, 1);
	strvec_clear(&notes);
	/* COMPOSE_FILE, several */
	setenv("COMPOSE_FILE", "compose.yaml:docker-compose.yml", 1);
	ASSERT_EQ_INT(manifest_discover_files(NULL, 0, &files, &notes), 0);
	ASSERT_EQ_INT(files.n, 2);
	ASSERT_EQ_STR(files.v[1], "docker-compose.yml");
	setenv("COMPOSE_FILE", "compose.yaml:nope.yaml", 1);
	ASSERT_EQ_INT(manifest_discover_files(NULL, 0, &files, &notes),
	              ORCH_ENOTFOUND);
	ASSERT_CONTAINS(orch_error_last(), "'nope.yaml' (from COMPOSE_FILE)");
	unsetenv("COMPOSE_FILE");
	/* from the directory's .env, with its separator; the environment
	   first */
	write_in_tmp("d/.env",
	             "COMPOSE_PATH_SEPARATOR=;\n"
	             "COMPOSE_FILE=docker-compose.yml;compose.yaml\n");
	ASSERT_EQ_INT(manifest_discover_files(NULL, 0, &files, &notes), 0);
	ASSERT_EQ_INT(files.n, 2);
	ASSERT_EQ_STR(files.v[0], "docker-compose.yml");
	ASSERT_EQ_STR(files.v[1], "compose.yaml");
	setenv("COMPOSE_FILE", "compose.yaml", 1);
	ASSERT_EQ_INT(manifest_discover_files(NULL, 0, &files, &notes), 0);
	ASSERT_EQ_INT(files.n, 1);
	unsetenv("COMPOSE_FILE");
	write_in_tmp("d/.env", "COMPOSE_FILE=gone.yaml\n");
	ASSERT_EQ_INT(manifest_discover_files(NULL, 0, &files, &notes),
	              ORCH_ENOTFOUND);
	ASSERT_CONTAINS(orch_error_last(),
	                "'gone.yaml' (from COMPOSE_FILE in .env)");
	ASSERT_EQ_INT(unlink(".env"), 0);
	ASSERT_EQ_INT(chdir(cwd), 0);
	strvec_clear(&files);
	strvec_clear(&notes);
}

TEST(host_privileges)
{
	struct strvec w = STRVEC_INIT;
	struct manifest *m;

	ASSERT_CONTAINS(load_error("services:\n  a:\n    image: x\n"
	                           "    privileged: true\n"),
	                "'privileged' gives the container every device and "
	                "capability of the host: refused unless x-orchestrate: "
	                "{allow-host-privileges: true}");
	m = load("x-orchestrate: {allow-host-privileges: true}\n"
	         "services:\n  a:\n    image: x\n    privileged: true\n"
	         "    cap_add: [NET_ADMIN]\n",
	         &w);
	ASSERT(m);
	ASSERT(m->allow_host_privileges && m->services[0].real.privileged);
	ASSERT_EQ_INT(w.n, 3);
	ASSERT_CONTAINS(w.v[0], "host privileges are allowed");
	manifest_free(m);
	strvec_clear(&w);
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
	RUN(runtime_keys);
	RUN(port_ranges);
	RUN(secrets_configs_hooks);
	RUN(links_aliases_refs);
	RUN(external_networks);
	RUN(profiles);
	RUN(merge_files);
	RUN(include_and_extends);
	RUN(discovery);
	RUN(host_privileges);
	rc = harness_done();
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
