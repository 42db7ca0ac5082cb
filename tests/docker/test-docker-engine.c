/*
 * test-docker-engine.c: the engine client against the real Docker
 * engine, end to end: build an image from a context directory (FROM
 * local/busybox through the BASE build argument), create a volume and a
 * network, run a container on it, exec in it, read its demultiplexed
 * logs, copy a file in and out, see its die event, list by label, remove
 * everything; then `orchestrate version` against the same engine.
 *
 *   test-docker-engine ORCHESTRATE
 *
 * Every object carries this run's unique label, and only objects with it
 * are ever touched: other engineers' tests share the engine. Cleanup
 * runs on failure too, and the test fails if anything labelled is left.
 * No engine: failure, unless ORCHESTRATE_NO_ENGINE=1 (exit 77, skip).
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine_ops.h"
#include "error.h"
#include "tar.h"
#include "util.h"

extern char **environ;

#define LABEL "orchestrate.test.engine"
#define LONGNAME                                                               \
	"a-file-name-that-is-longer-than-the-one-hundred-bytes-a-ustar-"       \
	"header-can-hold-so-it-needs-a-pax-record.txt"

static struct engine *e;
static char uniq[64], tag[128], import_tag[128], netname[128], volname[128],
        ctrname[128];
static char ctxdir[] = "/tmp/orch-engtest-XXXXXX";
static struct engine_label label[1];
static int failures, checks;

static void check(int ok, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;

	checks++;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	/* one TAP line, whatever the output quoted in it */
	for (size_t i = 0; i < msg.len; i++)
		if (msg.data[i] == '\n')
			msg.data[i] = '|';
	printf("%s %d - %s", ok ? "ok" : "not ok", checks, msg.data);
	buf_release(&msg);
	if (!ok) {
		failures++;
		printf(" (last error: %s)", orch_error_last());
	}
	putchar('\n');
	fflush(stdout);
}

static void put(const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", ctxdir, rel);

	write_file_atomic(p, text, strlen(text));
	free(p);
}

static void rm_ctx(void)
{
	const char *rel[] = { "Dockerfile",  ".dockerignore", "hello.txt",
		              "ignored.txt", "link",          LONGNAME };

	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char *p = xasprintf("%s/%s", ctxdir, rel[i]);
		unlink(p);
		free(p);
	}
	rmdir(ctxdir);
}

static int count_images(void)
{
	struct buf p = BUF_INIT, body = BUF_INIT;
	struct engine_request r = { .method = "GET" };
	cJSON *j;
	int n = -1;

	buf_addstr(&p, "/images/json?filters=");
	engine_label_filter(&p, label, 1);
	r.path = p.data;
	if (engine_request_sync(e, &r, NULL, &body) == 0 &&
	    (j = cJSON_ParseWithLength(body.data, body.len))) {
		n = cJSON_GetArraySize(j);
		cJSON_Delete(j);
	}
	buf_release(&p);
	buf_release(&body);
	return n;
}

/* Remove everything carrying our label; returns how many were left. */
static int cleanup(int verbose)
{
	struct engine_object_list l;
	int left = 0;

	if (engine_container_list(e, label, 1, &l) == 0) {
		for (size_t i = 0; i < l.n; i++)
			engine_container_remove(e, l.items[i].id, 1);
		engine_object_list_release(&l);
	}
	if (engine_network_list(e, label, 1, &l) == 0) {
		for (size_t i = 0; i < l.n; i++)
			engine_network_remove(e, l.items[i].id);
		engine_object_list_release(&l);
	}
	if (engine_volume_list(e, label, 1, &l) == 0) {
		for (size_t i = 0; i < l.n; i++)
			engine_volume_remove(e, l.items[i].id, 1);
		engine_object_list_release(&l);
	}
	engine_image_remove(e, tag, 1);
	engine_image_remove(e, import_tag, 1);

	if (engine_container_list(e, label, 1, &l) == 0) {
		left += (int)l.n;
		engine_object_list_release(&l);
	}
	if (engine_network_list(e, label, 1, &l) == 0) {
		left += (int)l.n;
		engine_object_list_release(&l);
	}
	if (engine_volume_list(e, label, 1, &l) == 0) {
		left += (int)l.n;
		engine_object_list_release(&l);
	}
	if (count_images() != 0)
		left++;
	if (engine_image_inspect(e, import_tag, NULL) != ORCH_ENOTFOUND)
		left++;
	if (verbose)
		check(left == 0, "nothing labelled %s=%s is left", LABEL, uniq);
	return left;
}

struct seen {
	char id[80];
	int die;
	char exit_code[8];
};

static void on_event(const struct engine_event *ev, void *ud)
{
	struct seen *s = ud;

	if (!strcmp(ev->action, "die") && ev->id && !strcmp(ev->id, s->id)) {
		s->die++;
		snprintf(s->exit_code, sizeof(s->exit_code), "%s",
		         ev->exit_code ? ev->exit_code : "");
	}
}

static const char *tar_member(const struct buf *t, const char *name,
                              size_t *size)
{
	/* enough of a reader for one small file the engine sends back */
	for (size_t off = 0; off + 512 <= t->len;) {
		const char *h = t->data + off;
		size_t sz = strtoul(h + 124, NULL, 8);

		if (!h[0])
			break;
		if (!strncmp(h, name, 100) && h[156] == '0') {
			*size = sz;
			return h + 512;
		}
		off += 512 + (sz + 511) / 512 * 512;
	}
	return NULL;
}

static int run_version(struct buf *out)
{
	char path[300];
	char *argv[] = { getenv("ORCH_BIN"), "version", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1;

	snprintf(path, sizeof(path), "%s.version-out", ctxdir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, path,
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0)
		waitpid(pid, &st, 0);
	posix_spawn_file_actions_destroy(&fa);
	read_file(path, out, 1 << 16);
	unlink(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void on_log(int stream, const char *data, size_t len, void *ud)
{
	buf_addf(ud, "%d:%.*s", stream, (int)len, data);
}

/* A build whose RUN fails reports the error from inside the stream. */
static void failing_build(void)
{
	struct engine_build_opts bo = { 0 };
	char *id = NULL;
	char *dir = xasprintf("%s.bad", ctxdir), *df;
	int rc;

	mkdir(dir, 0700);
	df = xasprintf("%s/Dockerfile", dir);
	write_file_atomic(df, "FROM local/busybox\nRUN exit 3\n", 30);
	bo.context_dir = dir;
	bo.labels = label;
	bo.nlabels = 1;
	rc = engine_image_build(e, &bo, &id);
	check(rc == ORCH_EENGINE && !id &&
	              strstr(orch_error_last(), "200 stream") &&
	              strstr(orch_error_last(), "non-zero code: 3"),
	      "a failing RUN fails the build: %s", orch_error_last());
	rc = engine_image_pull(e, "orch-engtest-nonexistent/x:1");
	check(rc < 0 && strstr(orch_error_last(), "pulling "),
	      "a pull that cannot succeed fails: %s", orch_error_last());
	unlink(df);
	rmdir(dir);
	free(df);
	free(dir);
	free(id);
}

static void import(void)
{
	struct buf t = BUF_INIT;
	char *path = xasprintf("%s.import.tar", ctxdir);
	struct engine_image img;

	tar_add_file(&t, "hello.txt", 0644, 0, "imported\n", 9);
	tar_finish(&t);
	write_file_atomic(path, t.data, t.len);
	check(engine_image_import(e, path, import_tag) == 0, "image import");
	int rc = engine_image_inspect(e, import_tag, &img);

	check(rc == 0 && img.id, "the imported image is there: %s",
	      img.id ? img.id : "no");
	check(engine_image_remove(e, import_tag, 0) == 0,
	      "imported image remove");
	unlink(path);
	free(path);
	engine_image_release(&img);
	buf_release(&t);
}

static void scenario(void)
{
	struct buf followed = BUF_INIT;
	struct engine_call *follow = NULL;
	struct engine_label bargs[] = { { "BASE", "local/busybox" } };
	struct engine_build_opts bo = { 0 };
	struct buf build_out = BUF_INIT, out = BUF_INIT, t = BUF_INIT;
	struct engine_call *bc;
	char *image = NULL, *net = NULL, *cid = NULL;
	struct engine_container_info info = { 0 };
	struct engine_object_list l;
	struct engine_call *events = NULL;
	struct seen seen = { 0 };
	char *sh_out[] = { "sh", "-c", "echo out; echo err >&2; exit 7", NULL };
	char *is_link[] = { "test", "-L", "/ctx/link", NULL };
	char *ignored[] = { "test", "-e", "/ctx/ignored.txt", NULL };
	char *longname[] = { "test", "-f", "/ctx/" LONGNAME, NULL };
	char *cat[] = { "cat", "/tmp/copied.txt", NULL };
	char *aliases[] = { "engtest", NULL };
	char *health_test[] = { "CMD", "true", NULL };
	struct engine_health health = { .set = 1,
		                        .test = health_test,
		                        .interval_ns = 1000000000,
		                        .timeout_ns = 1000000000,
		                        .retries = 3 };
	struct engine_port port = { .container_port = 8080 };
	struct engine_mount mount = { .type = "volume",
		                      .source = volname,
		                      .target = "/data" };
	struct engine_container_spec s = { 0 };
	int code = -1, status = -1, rc;
	size_t size = 0;
	const char *data;
	int64_t t0;
	char *p;

	/* build */
	put("Dockerfile", "ARG BASE=debian:bookworm-slim\n"
	                  "FROM ${BASE}\n"
	                  "COPY . /ctx/\n"
	                  "CMD [\"sh\", \"-c\", \"cat /ctx/hello.txt; echo "
	                  "to-stderr >&2; exec sleep 300\"]\n");
	put(".dockerignore", "ignored.txt\n");
	put("hello.txt", "hello from the context\n");
	put("ignored.txt", "must not be sent\n");
	/* a name past ustar's 100 bytes travels in a PAX record */
	put(LONGNAME, "long\n");
	p = xasprintf("%s/link", ctxdir);
	check(symlink("/etc/hostname-does-not-exist", p) == 0,
	      "context symlink created");
	free(p);
	bo.context_dir = ctxdir;
	bo.tag = tag;
	bo.buildargs = bargs;
	bo.nbuildargs = 1;
	bo.labels = label;
	bo.nlabels = 1;
	bo.output_cap = 1 << 20;
	/* the asynchronous form, for its output; the synchronous one is
	   start, run, result */
	bc = engine_image_build_start(e, &bo, NULL, NULL);
	while (!engine_call_done(bc))
		engine_wait(e, NULL, 0, -1);
	rc = engine_image_build_result(bc, &image);
	buf_addstr(&build_out, buf_cstr(engine_image_build_output(bc)));
	engine_call_free(bc);
	check(rc == 0 && image && !strncmp(image, "sha256:", 7),
	      "build from a context directory gives %s",
	      image ? image : "nothing");
	check(strstr(buf_cstr(&build_out), "Step 1/") != NULL,
	      "build output is collected");
	if (rc)
		goto out;

	/* volume, network, events */
	check(engine_volume_create(e, volname, label, 1, NULL) == 0,
	      "volume create");
	check(engine_network_create(e, netname, label, 1, &net) == 0 && net,
	      "network create");
	if (!net)
		goto out;
	events = engine_events_start(e, label, 1, "container",
	                             (int64_t)time(NULL) - 1, on_event, &seen);

	/* container */
	s.name = ctrname;
	s.image = image;
	s.labels = label;
	s.nlabels = 1;
	s.ports = &port;
	s.nports = 1;
	s.mounts = &mount;
	s.nmounts = 1;
	s.health = &health;
	s.network = net;
	s.aliases = aliases;
	s.stop_timeout_s = 1;
	rc = engine_container_create(e, &s, &cid);
	check(rc == 0 && cid, "container create");
	if (rc)
		goto out;
	snprintf(seen.id, sizeof(seen.id), "%s", cid);
	check(engine_container_start(e, cid) == 0, "container start");
	check(engine_container_start(e, cid) == 0,
	      "starting a started container (304) succeeds");
	check(engine_container_create(e, &s, NULL) == ORCH_ECONFLICT,
	      "a second container with the same name is a conflict");
	rc = engine_container_inspect(e, cid, &info);
	if (rc == 0)
		follow = engine_logs_start(e, cid, info.tty, -1, 0, 1, on_log,
		                           &followed);
	check(rc == 0 && info.running && !strcmp(info.name, ctrname),
	      "inspect: running as %s", info.name ? info.name : "?");
	check(info.nports == 1 && info.ports[0].container_port == 8080 &&
	              info.ports[0].host_ip &&
	              !strcmp(info.ports[0].host_ip, "127.0.0.1") &&
	              info.ports[0].host_port > 0,
	      "port 8080 published on 127.0.0.1:%d",
	      info.nports ? info.ports[0].host_port : 0);
	check(info.ip != NULL, "container has an address on the network");
	check(info.labels.n >= 1, "labels read back");
	engine_container_info_release(&info);

	/* exec */
	rc = engine_exec(e, cid, sh_out, NULL, 20000, &code, &out);
	check(rc == 0 && code == 7, "exec exit code 7 (got %d)", code);
	check(strstr(buf_cstr(&out), "out\n") &&
	              strstr(buf_cstr(&out), "err\n"),
	      "exec output demultiplexed: '%s'", buf_cstr(&out));
	check(engine_exec(e, cid, is_link, NULL, 20000, &code, NULL) == 0 &&
	              code == 0,
	      "the context's symlink arrived as a symlink");
	check(engine_exec(e, cid, longname, NULL, 20000, &code, NULL) == 0 &&
	              code == 0,
	      "a %zu-byte name arrived whole (PAX)", strlen(LONGNAME));
	check(engine_exec(e, cid, ignored, NULL, 20000, &code, NULL) == 0 &&
	              code == 1,
	      ".dockerignore kept ignored.txt out of the context");

	/* logs */
	t0 = now_ms();
	do {
		buf_reset(&out);
		rc = engine_container_logs(e, cid, -1, &out);
	} while (rc == 0 && !strstr(buf_cstr(&out), "to-stderr") &&
	         now_ms() - t0 < 10000 && usleep(100000) == 0);
	/* stdout and stderr are separate pipes: either order is right */
	check(rc == 0 && (!strcmp(buf_cstr(&out), "hello from the context\n"
	                                          "to-stderr\n") ||
	                  !strcmp(buf_cstr(&out), "to-stderr\n"
	                                          "hello from the context\n")),
	      "logs demultiplexed: '%s'", buf_cstr(&out));

	/* copy in and out */
	buf_reset(&t);
	tar_add_file(&t, "copied.txt", 0644, 0, "copied in\n", 10);
	tar_finish(&t);
	check(engine_copy_in(e, cid, "/tmp", t.data, t.len) == 0, "copy in");
	buf_reset(&out);
	check(engine_exec(e, cid, cat, NULL, 20000, &code, &out) == 0 &&
	              code == 0 && !strcmp(buf_cstr(&out), "copied in\n"),
	      "the copied file is in the container");
	buf_reset(&t);
	rc = engine_copy_out(e, cid, "/tmp/copied.txt", &t);
	data = rc == 0 ? tar_member(&t, "copied.txt", &size) : NULL;
	check(data && size == 10 && !memcmp(data, "copied in\n", 10),
	      "copy out");
	check(engine_copy_out(e, cid, "/nonexistent", &t) == ORCH_ENOTFOUND,
	      "copy out of a missing path is not found");

	/* list by label */
	check(engine_container_list(e, label, 1, &l) == 0 && l.n == 1 &&
	              !strcmp(l.items[0].state, "running") &&
	              engine_object_label(&l.items[0], LABEL) &&
	              !strcmp(engine_object_label(&l.items[0], LABEL), uniq),
	      "container list by label");
	engine_object_list_release(&l);
	check(engine_network_list(e, label, 1, &l) == 0 && l.n == 1,
	      "network list by label");
	engine_object_list_release(&l);
	check(engine_volume_list(e, label, 1, &l) == 0 && l.n == 1,
	      "volume list by label");
	engine_object_list_release(&l);

	/* kill, wait, the die event */
	check(engine_container_kill(e, cid, "KILL") == 0, "kill");
	rc = engine_container_wait(e, cid, 30000, &status);
	check(rc == 0 && status == 137, "wait gives 137 (got %d)", status);
	t0 = now_ms();
	while (!seen.die && now_ms() - t0 < 10000)
		engine_wait(e, NULL, 0, 500);
	check(seen.die == 1 && !strcmp(seen.exit_code, "137"),
	      "die event with exitCode 137 on the events stream");
	check(engine_container_stop(e, cid, 1) == 0,
	      "stopping a stopped container (304) succeeds");
	t0 = now_ms();
	while (follow && !engine_call_done(follow) && now_ms() - t0 < 10000)
		engine_wait(e, NULL, 0, 500);
	check(follow && engine_call_done(follow) &&
	              engine_call_result(follow) == 0 &&
	              strstr(buf_cstr(&followed),
	                     "1:hello from the context\n") &&
	              strstr(buf_cstr(&followed), "2:to-stderr\n"),
	      "followed logs end with the container: '%s'",
	      buf_cstr(&followed));

	/* remove */
	check(engine_container_remove(e, cid, 1) == 0, "container remove");
	check(engine_container_remove(e, cid, 1) == ORCH_ENOTFOUND,
	      "removing it again is not found");
	check(engine_network_remove(e, net) == 0, "network remove");
	check(engine_volume_remove(e, volname, 0) == 0, "volume remove");
	check(engine_image_remove(e, tag, 0) == 0, "image remove");
	check(engine_image_inspect(e, tag, NULL) == ORCH_ENOTFOUND,
	      "the image is gone");
out:
	if (follow) {
		engine_call_cancel(follow);
		engine_call_free(follow);
	}
	buf_release(&followed);
	if (events) {
		engine_call_cancel(events);
		engine_call_free(events);
	}
	engine_container_info_release(&info);
	free(image);
	free(net);
	free(cid);
	buf_release(&build_out);
	buf_release(&out);
	buf_release(&t);
}

int main(int argc, char **argv)
{
	const char *no_engine = getenv("ORCHESTRATE_NO_ENGINE");
	struct buf vout = BUF_INIT;
	int rc, vrc;

	if (argc != 2) {
		fputs("usage: test-docker-engine ORCHESTRATE\n", stderr);
		return 2;
	}
	setenv("ORCH_BIN", argv[1], 1);
	if (no_engine && !strcmp(no_engine, "1")) {
		printf("1..0 # SKIP ORCHESTRATE_NO_ENGINE=1: no Docker engine "
		       "to test against\n");
		return 77;
	}
	if (engine_new(&e, NULL) || engine_connect(e)) {
		printf("Bail out! no Docker engine: %s (set "
		       "ORCHESTRATE_NO_ENGINE=1 to skip)\n",
		       orch_error_last());
		engine_free(e);
		return 1;
	}
	snprintf(uniq, sizeof(uniq), "%ld-%lld", (long)getpid(),
	         (long long)wall_ms());
	snprintf(tag, sizeof(tag), "orch-engtest-%s:latest", uniq);
	snprintf(import_tag, sizeof(import_tag),
	         "orch-engtest-%s-import:latest", uniq);
	snprintf(netname, sizeof(netname), "orch-engtest-%s", uniq);
	snprintf(volname, sizeof(volname), "orch-engtest-%s", uniq);
	snprintf(ctrname, sizeof(ctrname), "orch-engtest-%s", uniq);
	label[0].key = LABEL;
	label[0].value = uniq;
	if (!mkdtemp(ctxdir)) {
		perror("mkdtemp");
		return 1;
	}
	scenario();
	import();
	failing_build();
	cleanup(1);
	rm_ctx();

	vrc = run_version(&vout);
	check(vrc == 0 && strstr(buf_cstr(&vout), "API in use:  ") &&
	              strstr(buf_cstr(&vout), engine_api_version(e)),
	      "orchestrate version against the engine exits 0");
	for (char *line = vout.data, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		printf("# %.*s\n", (int)(nl - line), line);
	}
	buf_release(&vout);
	engine_free(e);
	printf("1..%d\n", checks);
	rc = failures ? 1 : 0;
	return rc;
}
