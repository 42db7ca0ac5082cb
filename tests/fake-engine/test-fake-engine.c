/*
 * test-fake-engine.c: the engine client and `orchestrate version`
 * against the fake engine (fake-engine.c) for the error paths: 404, 409,
 * 304, 400 "client version too old/new" (renegotiated once), an error
 * inside a 200 pull stream, a truncated multiplexed frame, requests that
 * never answer, exec exit codes taken from inspect, events split across
 * reads, a container wait that never returns, interruption (a pull
 * cancelled, a create left running and settled), and the version
 * command's exit 3 without an engine.
 *
 *   test-fake-engine FAKE_ENGINE ORCHESTRATE
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_ops.h"
#include "error.h"
#include "harness.h"
#include "util.h"

extern char **environ;

static const char *fake_bin, *orch_bin;
static char tmpdir[] = "/tmp/orch-fake-XXXXXX";
static char sock[256];
static pid_t server = -1;

static void stop_server(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	unlink(sock);
}

static int start_server(const char *scenario)
{
	char *argv[] = { (char *)fake_bin, sock, (char *)scenario, NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	stop_server();
	if (posix_spawn(&server, fake_bin, NULL, NULL, argv, environ))
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (int i = 0; i < 500; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		close(fd);
		if (ok)
			return 0;
		usleep(10000);
	}
	return -1;
}

static struct engine *connect_opts(const char *scenario, struct engine_opts o)
{
	char host[300];
	struct engine *e = NULL;

	if (start_server(scenario))
		return NULL;
	snprintf(host, sizeof(host), "unix://%s", sock);
	o.host = host;
	if (engine_new(&e, &o) || engine_connect(e)) {
		engine_free(e);
		return NULL;
	}
	return e;
}

static struct engine *connect_fake(const char *scenario, long timeout_ms)
{
	struct engine_opts o = { .request_timeout_ms = timeout_ms };

	return connect_opts(scenario, o);
}

/* A counter of the fake engine's: "/_conns" (connections), "/_pings". */
static long fake_count(struct engine *e, const char *what)
{
	struct engine_request r = { .method = "GET", .path = what };
	struct buf b = BUF_INIT;
	long n = -1;

	if (engine_request_sync(e, &r, NULL, &b) == 0 &&
	    !strncmp(buf_cstr(&b), "{\"n\":", 5))
		n = strtol(b.data + 5, NULL, 10);
	buf_release(&b);
	return n;
}

/* Wait for c to finish, at most ms; 1 when it did. */
static int wait_done(struct engine *e, struct engine_call *c, int ms)
{
	int64_t t0 = now_ms();

	while (!engine_call_done(c) && now_ms() - t0 < ms)
		engine_wait(e, NULL, 0, 100);
	return engine_call_done(c);
}

TEST(negotiates_and_versions)
{
	struct engine *e = connect_fake("ok", 0);
	struct engine_version v;

	ASSERT(e);
	ASSERT_EQ_STR(engine_api_version(e), "1.41");
	ASSERT(!engine_is_podman(e));
	ASSERT(engine_api_at_least(e, 1, 40));
	ASSERT(!engine_api_at_least(e, 1, 44));
	ASSERT_EQ_INT(engine_version(e, &v), 0);
	ASSERT_EQ_STR(v.version, "99.0-fake");
	ASSERT_EQ_STR(v.min_api_version, "1.12");
	engine_version_release(&v);
	engine_free(e);

	e = connect_fake("new-engine", 0);
	ASSERT(e);
	ASSERT_EQ_STR(engine_api_version(e), "1.43"); /* our maximum */
	engine_free(e);

	ASSERT(connect_fake("old-engine", 0) == NULL);
	ASSERT_CONTAINS(orch_error_last(), "speaks API 1.38");

	/* Podman's compat API says so in every answer's headers */
	e = connect_fake("podman", 0);
	ASSERT(e);
	ASSERT(engine_is_podman(e));
	engine_free(e);
}

TEST(not_found_and_conflict)
{
	struct engine *e = connect_fake("ok", 0);
	struct engine_container_info info;
	struct engine_container_spec s = { .name = "web",
		                           .image = "x",
		                           .stop_timeout_s = -1 };
	char *id = NULL;

	ASSERT(e);
	ASSERT_EQ_INT(engine_container_inspect(e, "missing", &info),
	              ORCH_ENOTFOUND);
	ASSERT_EQ_STR(orch_error_last(), "GET /v1.41/containers/missing/json: "
	                                 "404: No such container: missing");
	engine_container_info_release(&info);
	ASSERT_EQ_INT(engine_container_create(e, &s, &id), ORCH_ECONFLICT);
	ASSERT_CONTAINS(orch_error_last(), "POST /v1.41/containers/create: "
	                                   "409: Conflict. The container name "
	                                   "\"/web\" is already in use");
	ASSERT(id == NULL);
	engine_free(e);
}

TEST(not_modified_is_success)
{
	struct engine *e = connect_fake("ok", 0);

	ASSERT(e);
	ASSERT_EQ_INT(engine_container_start(e, "c1"), 0);
	ASSERT_EQ_INT(engine_container_stop(e, "c1", 1), 0);
	engine_free(e);
}

/* Refused although /_ping still offers that version: no way out. */
TEST(client_too_old)
{
	struct engine *e = connect_fake("too-old", 0);
	struct engine_object_list l;

	ASSERT(e);
	ASSERT_EQ_INT(engine_container_list(e, NULL, 0, &l), ORCH_EUNSUPPORTED);
	ASSERT_CONTAINS(orch_error_last(), "GET /v1.41/containers/json: 400: "
	                                   "client version 1.41 is too old");
	ASSERT_CONTAINS(orch_error_last(), "orchestrate speaks Docker API "
	                                   "1.40 to 1.43; asked again, the "
	                                   "engine at unix://");
	ASSERT_CONTAINS(orch_error_last(), "still offers 1.41: no version "
	                                   "both accept)");
	engine_object_list_release(&l);
	ASSERT_EQ_INT(fake_count(e, "/_pings"), 2); /* connect, once more */
	engine_free(e);

	/* a version the user pinned is not renegotiated */
	setenv("DOCKER_API_VERSION", "1.41", 1);
	e = connect_fake("too-old", 0);
	unsetenv("DOCKER_API_VERSION");
	ASSERT(e);
	ASSERT_EQ_INT(engine_container_list(e, NULL, 0, &l), ORCH_EUNSUPPORTED);
	ASSERT_CONTAINS(orch_error_last(), "client version 1.41 is too old");
	ASSERT_CONTAINS(orch_error_last(), "DOCKER_API_VERSION pins 1.41: "
	                                   "unset it to let orchestrate "
	                                   "negotiate");
	engine_object_list_release(&l);
	ASSERT_EQ_INT(fake_count(e, "/_pings"), 1);
	engine_free(e);
}

/*
 * An engine replaced by an older one ("too new"): /_ping again, and the
 * calls go once more on the version it offers now.
 */
TEST(renegotiates_after_downgrade)
{
	struct engine *e = connect_fake("downgraded", 0);
	struct engine_request r = { .method = "POST",
		                    .path = "/containers/c1/start" };
	struct engine_call *c[3];

	ASSERT(e);
	ASSERT_EQ_STR(engine_api_version(e), "1.43");
	/* refused together, they share one ping */
	for (int i = 0; i < 3; i++)
		c[i] = engine_call_start(e, &r);
	for (int i = 0; i < 3; i++)
		ASSERT(wait_done(e, c[i], 5000));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ_INT(engine_call_result(c[i]), 0);
		ASSERT_EQ_INT(engine_call_status(c[i]), 304);
		engine_call_free(c[i]);
	}
	ASSERT_EQ_STR(engine_api_version(e), "1.41");
	ASSERT_EQ_INT(fake_count(e, "/_pings"), 2);
	engine_free(e);

	/* refused on the new version too: once is enough */
	e = connect_fake("downgraded", 0);
	ASSERT(e);
	ASSERT_EQ_INT(engine_container_start(e, "refused"), ORCH_EUNSUPPORTED);
	ASSERT_CONTAINS(orch_error_last(), "POST /v1.41/containers/refused/"
	                                   "start: 400: client version 1.41 "
	                                   "is too old");
	ASSERT_CONTAINS(orch_error_last(), "which then refused 1.41 too)");
	engine_free(e);

	/* a stream: its body is the pull's, once sent again */
	e = connect_fake("downgraded", 0);
	ASSERT(e);
	ASSERT_EQ_INT(engine_image_pull(e, "split:1"), ORCH_EENGINE);
	ASSERT_CONTAINS(orch_error_last(), "POST /v1.41/images/create: 200 "
	                                   "stream: manifest for split:1 not "
	                                   "found");
	engine_free(e);
}

/* An engine replaced by a newer one ("too old"): the same. */
TEST(renegotiates_after_upgrade)
{
	struct engine *e = connect_fake("upgraded", 0);

	ASSERT(e);
	ASSERT_EQ_STR(engine_api_version(e), "1.40");
	ASSERT_EQ_INT(engine_container_start(e, "c1"), 0);
	ASSERT_EQ_STR(engine_api_version(e), "1.43");
	/* later calls go on the new version at once */
	ASSERT_EQ_INT(engine_container_stop(e, "c1", 1), 0);
	ASSERT_EQ_INT(fake_count(e, "/_pings"), 2);
	engine_free(e);
}

TEST(error_inside_pull_stream)
{
	struct engine *e = connect_fake("ok", 0);

	ASSERT(e);
	ASSERT_EQ_INT(engine_image_pull(e, "registry:5000/x:1"), ORCH_EENGINE);
	ASSERT_CONTAINS(orch_error_last(), "pulling 'registry:5000/x:1': "
	                                   "POST /v1.41/images/create: 200 "
	                                   "stream: read tcp: connection "
	                                   "reset by peer");
	engine_free(e);
}

TEST(pull_error_split_across_reads)
{
	struct engine *e = connect_fake("ok", 0);

	ASSERT(e);
	ASSERT_EQ_INT(engine_image_pull(e, "split:1"), ORCH_EENGINE);
	ASSERT_CONTAINS(orch_error_last(), "200 stream: manifest for split:1 "
	                                   "not found");
	engine_free(e);
}

TEST(logs_demuxed_raw_and_truncated)
{
	struct engine *e = connect_fake("ok", 0);
	struct buf out = BUF_INIT;

	ASSERT(e);
	ASSERT_EQ_INT(engine_container_logs(e, "good", -1, &out), 0);
	ASSERT_EQ_STR(buf_cstr(&out), "out 1\nerr 1\nout 2\n");
	buf_reset(&out);
	ASSERT_EQ_INT(engine_container_logs(e, "tty", 10, &out), 0);
	ASSERT_EQ_STR(buf_cstr(&out), "raw tty output\r\n");
	buf_reset(&out);
	ASSERT_EQ_INT(engine_container_logs(e, "trunc", -1, &out),
	              ORCH_EENGINE);
	ASSERT_CONTAINS(orch_error_last(), "GET /v1.41/containers/trunc/logs");
	ASSERT_CONTAINS(orch_error_last(), "90 bytes missing");
	buf_release(&out);
	engine_free(e);
}

/* Past the caller's cap the read stops: the rest is not downloaded. */
TEST(logs_stop_at_cap)
{
	struct engine *e = connect_fake("ok", 5000);
	struct buf out = BUF_INIT;
	int64_t t0 = now_ms();

	ASSERT(e);
	buf_init(&out, 3000);
	ASSERT_EQ_INT(engine_container_logs(e, "big", -1, &out), ORCH_ETOOBIG);
	ASSERT(now_ms() - t0 < 2000);
	ASSERT_CONTAINS(orch_error_last(), "logs exceed 3000 bytes");
	ASSERT(out.len > 0 && out.len <= 3000);
	ASSERT(out.data[0] == 'y');
	buf_release(&out);
	engine_free(e);
}

static void on_log(int stream, const char *data, size_t len, void *ud)
{
	buf_addf(ud, "%d:%.*s", stream, (int)len, data);
}

TEST(logs_follow)
{
	struct engine *e = connect_fake("ok", 0);
	struct buf got = BUF_INIT;
	struct engine_call *c;

	ASSERT(e);
	c = engine_logs_start(e, "good", 0, -1, 0, 1, on_log, &got);
	while (!engine_call_done(c))
		engine_wait(e, NULL, 0, -1);
	ASSERT_EQ_INT(engine_call_result(c), 0);
	ASSERT_EQ_STR(buf_cstr(&got), "1:out 1\n2:err 1\n1:out 2\n");
	engine_call_free(c);
	buf_reset(&got);
	c = engine_logs_start(e, "trunc", 0, -1, 0, 1, on_log, &got);
	while (!engine_call_done(c))
		engine_wait(e, NULL, 0, -1);
	ASSERT_EQ_INT(engine_call_result(c), ORCH_EENGINE);
	ASSERT_CONTAINS(engine_call_error(c), "90 bytes missing");
	ASSERT_EQ_STR(buf_cstr(&got), "1:first line\n1:0123456789");
	engine_call_free(c);
	buf_reset(&got);
	c = engine_logs_start(e, "tty", 1, -1, 0, 1, on_log, &got);
	while (!engine_call_done(c))
		engine_wait(e, NULL, 0, -1);
	ASSERT_EQ_INT(engine_call_result(c), 0);
	ASSERT_EQ_STR(buf_cstr(&got), "1:raw tty output\r\n");
	engine_call_free(c);
	buf_release(&got);
	engine_free(e);
}

TEST(exec_exit_code_from_inspect)
{
	struct engine *e = connect_fake("ok", 0);
	char *argv[] = { "false", NULL };
	struct buf out = BUF_INIT;
	int code = -1;

	ASSERT(e);
	ASSERT_EQ_INT(engine_exec(e, "c1", argv, NULL, 5000, &code, &out), 0);
	ASSERT_EQ_INT(code, 3);
	ASSERT_EQ_STR(buf_cstr(&out), "partial output\n"
	                              "error: OCI runtime exec failed\n");
	buf_release(&out);
	engine_free(e);
}

TEST(free_engine_with_calls_running)
{
	struct engine *e = connect_fake("ok", 0);
	struct engine_request r = { .method = "GET", .path = "/info" };
	struct engine_call *c;

	ASSERT(e);
	c = engine_call_start(e, &r);
	engine_wait(e, NULL, 0, 50);
	engine_free(e);
	ASSERT(engine_call_done(c));
	ASSERT_EQ_INT(engine_call_result(c), ORCH_EINTR);
	engine_call_free(c);
}

TEST(exec_timeout)
{
	struct engine *e = connect_fake("ok", 0);
	char *argv[] = { "sleep", "1000", NULL };
	struct buf out = BUF_INIT;
	int64_t t0 = now_ms(), took;
	int code = 0;

	ASSERT(e);
	ASSERT_EQ_INT(engine_exec(e, "slow", argv, NULL, 300, &code, &out),
	              ORCH_ETIMEOUT);
	took = now_ms() - t0;
	ASSERT(took >= 250 && took < 3000);
	ASSERT_EQ_INT(code, -1);
	ASSERT_EQ_STR(buf_cstr(&out), "started\n");
	ASSERT_CONTAINS(orch_error_last(), "/exec/exec2/start");
	buf_release(&out);
	engine_free(e);
}

TEST(body_cap)
{
	struct engine *e = connect_fake("ok", 0);
	struct engine_request r = { .method = "GET",
		                    .path = "/version",
		                    .body_cap = 10 };

	ASSERT(e);
	ASSERT_EQ_INT(engine_request_sync(e, &r, NULL, NULL), ORCH_ETOOBIG);
	ASSERT_CONTAINS(orch_error_last(), "GET /v1.41/version: response "
	                                   "larger than 10 bytes");
	engine_free(e);
}

TEST(request_timeout)
{
	struct engine *e = connect_fake("ok", 400);
	struct engine_request r = { .method = "GET", .path = "/info" };
	int64_t t0 = now_ms(), took;
	long status = -1;

	ASSERT(e);
	ASSERT_EQ_INT(engine_request_sync(e, &r, &status, NULL), ORCH_ETIMEOUT);
	took = now_ms() - t0;
	ASSERT(took >= 350 && took < 3000);
	ASSERT_EQ_INT(status, 0);
	ASSERT_CONTAINS(orch_error_last(), "GET /v1.41/info: no answer from "
	                                   "the Docker engine at unix://");
	ASSERT_CONTAINS(orch_error_last(), "within 400ms");
	engine_free(e);
}

/* A pull that stops sending fails at the stall limit, naming the image. */
TEST(stalled_pull)
{
	struct engine_opts o = { .stall_timeout_ms = 500 };
	struct engine *e = connect_opts("ok", o);
	int64_t t0 = now_ms(), took;

	ASSERT(e);
	ASSERT_EQ_INT(engine_image_pull(e, "stall:1"), ORCH_ETIMEOUT);
	took = now_ms() - t0;
	printf("# stalled pull failed after %lld ms\n", (long long)took);
	ASSERT(took >= 450 && took < 3000);
	ASSERT_EQ_STR(orch_error_last(),
	              "pulling 'stall:1': POST /v1.41/images/create: stalled: "
	              "no data from the engine for 500ms (limit: "
	              "ORCHESTRATE_STALL_TIMEOUT)");
	/* slow is not stalled: 1.2 s of lines 150 ms apart get through */
	t0 = now_ms();
	ASSERT_EQ_INT(engine_image_pull(e, "trickle:1"), ORCH_EENGINE);
	ASSERT(now_ms() - t0 >= 1000);
	ASSERT_CONTAINS(orch_error_last(), "200 stream: trickle ended");
	engine_free(e);
}

/* A build whose output stops: the same, and the engine sees us go. */
TEST(stalled_build)
{
	struct engine_opts o = { .stall_timeout_ms = 400 };
	struct engine *e = connect_opts("ok", o);
	char ctx[300], df[320];
	struct engine_build_opts bo = { .context_dir = ctx, .tag = "st:1" };
	int64_t t0, took;
	FILE *f;

	ASSERT(e);
	snprintf(ctx, sizeof(ctx), "%s/ctx", tmpdir);
	snprintf(df, sizeof(df), "%s/Dockerfile", ctx);
	ASSERT_EQ_INT(mkdir(ctx, 0700), 0);
	f = fopen(df, "w");
	ASSERT(f);
	fputs("FROM scratch\nCOPY Dockerfile /\n", f);
	fclose(f);
	t0 = now_ms();
	ASSERT_EQ_INT(engine_image_build(e, &bo, NULL), ORCH_ETIMEOUT);
	took = now_ms() - t0;
	ASSERT(took >= 350 && took < 3000);
	ASSERT_CONTAINS(orch_error_last(), "building '");
	ASSERT_CONTAINS(orch_error_last(), "POST /v1.41/build: stalled: no "
	                                   "data from the engine for 400ms");
	unlink(df);
	rmdir(ctx);
	engine_free(e);
}

/* The wait for a container's exit has a timeout like any other call. */
TEST(container_wait_timeout)
{
	struct engine *e = connect_fake("ok", 0);
	int64_t t0, took;
	int status = -1;

	ASSERT(e);
	ASSERT_EQ_INT(engine_container_wait(e, "c1", 2000, &status), 0);
	ASSERT_EQ_INT(status, 3);
	t0 = now_ms();
	ASSERT_EQ_INT(engine_container_wait(e, "hung", 300, &status),
	              ORCH_ETIMEOUT);
	took = now_ms() - t0;
	ASSERT(took >= 250 && took < 3000);
	ASSERT_CONTAINS(orch_error_last(), "container 'hung' still running, "
	                                   "or the engine hangs: POST "
	                                   "/v1.41/containers/hung/wait: no "
	                                   "answer");
	ASSERT_CONTAINS(orch_error_last(), "within 300ms");
	engine_free(e);

	/* without a timeout of its own: the engine's request timeout */
	e = connect_fake("ok", 400);
	ASSERT(e);
	t0 = now_ms();
	ASSERT_EQ_INT(engine_container_wait(e, "hung", 0, &status),
	              ORCH_ETIMEOUT);
	took = now_ms() - t0;
	ASSERT(took >= 350 && took < 3000);
	ASSERT_CONTAINS(orch_error_last(), "within 400ms");
	engine_free(e);
}

struct seen {
	struct engine_call *self; /* cancelled from the callback when set */
	int n;
	char actions[4][32];
	char exit_code[8];
	char run[8];
	int64_t time_ns;
};

static void on_event(const struct engine_event *ev, void *ud)
{
	struct seen *s = ud;

	if (s->n < 4)
		snprintf(s->actions[s->n], sizeof(s->actions[0]), "%s",
		         ev->action);
	if (ev->exit_code)
		snprintf(s->exit_code, sizeof(s->exit_code), "%s",
		         ev->exit_code);
	if (s->self && !strcmp(ev->action, "die"))
		engine_call_cancel(s->self);
	s->time_ns = ev->time_ns;
	if (engine_event_attr(ev, "orch.run"))
		snprintf(s->run, sizeof(s->run), "%s",
		         engine_event_attr(ev, "orch.run"));
	s->n++;
}

static void count_done(struct engine_call *c, void *ud)
{
	(void)c;
	(*(int *)ud)++;
}

TEST(events_while_other_calls_run)
{
	struct engine *e = connect_fake("ok", 0);
	struct engine_label l = { "orch.run", "r1" };
	struct seen s = { 0 };
	struct engine_request hang = { .method = "GET",
		                       .path = "/info",
		                       .timeout_ms = 5000 };
	struct engine_call *ev, *h;
	struct engine_version v;
	int fds[2], hang_done = 0;
	struct engine_pollfd pfd;
	int64_t t0;

	ASSERT(e);
	hang.on_done = count_done;
	hang.ud = &hang_done;
	ev = engine_events_start(e, &l, 1, "container", 0, on_event, &s);
	h = engine_call_start(e, &hang);
	/* a synchronous call completes while the others are pending */
	ASSERT_EQ_INT(engine_version(e, &v), 0);
	engine_version_release(&v);
	t0 = now_ms();
	while (s.n < 2 && now_ms() - t0 < 3000)
		engine_wait(e, NULL, 0, 200);
	ASSERT_EQ_INT(s.n, 2);
	ASSERT_EQ_STR(s.actions[0], "start");
	ASSERT_EQ_STR(s.actions[1], "die");
	ASSERT_EQ_STR(s.exit_code, "137");
	ASSERT_EQ_STR(s.run, "r1");
	ASSERT(!engine_call_done(ev));

	/* the caller's own fds wake the loop */
	ASSERT_EQ_INT(pipe(fds), 0);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	ASSERT_EQ_INT(write(fds[1], "x", 1), 1);
	t0 = now_ms();
	ASSERT(engine_wait(e, &pfd, 1, -1) >= 2);
	ASSERT(pfd.revents & POLLIN);
	ASSERT(now_ms() - t0 < 1000);
	close(fds[0]);
	close(fds[1]);

	/* so does engine_wakeup() */
	engine_wakeup(e);
	t0 = now_ms();
	engine_wait(e, NULL, 0, 3000);
	ASSERT(now_ms() - t0 < 1000);

	engine_call_cancel(h);
	ASSERT_EQ_INT(hang_done, 1);
	ASSERT_EQ_INT(engine_call_result(h), ORCH_EINTR);
	engine_call_cancel(ev);
	ASSERT_EQ_INT(engine_running(e), 0);
	engine_call_free(h);
	engine_call_free(ev);
	engine_free(e);
}

TEST(events_cancelled_from_callback)
{
	struct engine *e = connect_fake("ok", 0);
	struct seen s = { 0 };
	int64_t t0 = now_ms();

	ASSERT(e);
	s.self = engine_events_start(e, NULL, 0, NULL, 0, on_event, &s);
	while (!engine_call_done(s.self) && now_ms() - t0 < 3000)
		engine_wait(e, NULL, 0, 200);
	ASSERT(engine_call_done(s.self));
	ASSERT_EQ_INT(s.n, 2);
	ASSERT_EQ_INT(engine_call_result(s.self), ORCH_EINTR);
	engine_call_free(s.self);
	engine_free(e);
}

/* Events that arrived with the stream's error are still delivered. */
TEST(events_before_stream_error)
{
	struct engine *e = connect_fake("ok", 0);
	struct seen s = { 0 };
	struct engine_call *c;

	ASSERT(e);
	c = engine_events_start(e, NULL, 0, NULL, 7, on_event, &s);
	ASSERT(wait_done(e, c, 3000));
	ASSERT_EQ_INT(s.n, 1);
	ASSERT_EQ_STR(s.actions[0], "die");
	ASSERT_EQ_STR(s.exit_code, "137");
	ASSERT(engine_call_result(c) != 0);
	ASSERT(engine_call_result(c) != ORCH_EINTR);
	ASSERT_CONTAINS(engine_call_error(c), "GET /v1.41/events");
	engine_call_free(c);
	engine_free(e);
}

/* A line over the cap is skipped; the stream goes on. */
TEST(events_long_line_skipped)
{
	struct engine *e = connect_fake("ok", 0);
	struct seen s = { 0 };
	struct engine_call *c;
	int64_t t0 = now_ms();

	ASSERT(e);
	c = engine_events_start(e, NULL, 0, NULL, 8, on_event, &s);
	while (s.n < 1 && !engine_call_done(c) && now_ms() - t0 < 5000)
		engine_wait(e, NULL, 0, 100);
	ASSERT(!engine_call_done(c));
	ASSERT_EQ_INT(s.n, 1);
	ASSERT_EQ_STR(s.actions[0], "die");
	engine_call_cancel(c);
	engine_call_free(c);
	engine_free(e);
}

/* The last line needs no newline; a missing timeNano reads as 0. */
TEST(events_last_line_without_newline)
{
	struct engine *e = connect_fake("ok", 0);
	struct seen s = { 0 };
	struct engine_call *c;

	ASSERT(e);
	s.time_ns = -1;
	c = engine_events_start(e, NULL, 0, NULL, 9, on_event, &s);
	ASSERT(wait_done(e, c, 3000));
	ASSERT_EQ_INT(engine_call_result(c), 0);
	ASSERT_EQ_INT(s.n, 1);
	ASSERT_EQ_STR(s.actions[0], "oom");
	ASSERT_EQ_INT(s.time_ns, 0);
	engine_call_free(c);
	engine_free(e);
}

/* Inspect says Running just after the output closed: poll, briefly. */
TEST(exec_running_when_stream_ends)
{
	struct engine *e = connect_fake("ok", 0);
	char *argv[] = { "true", NULL };
	struct buf out = BUF_INIT;
	int code = -1;

	ASSERT(e);
	ASSERT_EQ_INT(engine_exec(e, "settle", argv, NULL, 5000, &code, &out),
	              0);
	ASSERT_EQ_INT(code, 7);
	ASSERT_EQ_STR(buf_cstr(&out), "done\n");
	buf_release(&out);
	engine_free(e);
}

/* Checked before anything is sent: no Dockerfile from outside. */
TEST(build_dockerfile_outside_context)
{
	struct engine *e = connect_fake("ok", 0);
	struct engine_build_opts o = { .context_dir = tmpdir,
		                       .dockerfile = "../../etc/passwd" };

	ASSERT(e);
	ASSERT_EQ_INT(engine_image_build(e, &o, NULL), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "outside the build context");
	engine_free(e);
}

/* The hot path (inspect, start) reuses one connection over the socket. */
TEST(connection_reuse)
{
	struct engine *e = connect_fake("ok", 0);
	struct engine_container_info info;
	long before, after;

	ASSERT(e);
	before = fake_count(e, "/_conns");
	ASSERT(before > 0);
	for (int i = 0; i < 50; i++) {
		ASSERT_EQ_INT(engine_container_inspect(e, "c1", &info), 0);
		engine_container_info_release(&info);
		ASSERT_EQ_INT(engine_container_start(e, "c1"), 0);
	}
	after = fake_count(e, "/_conns");
	printf("# 100 calls opened %ld connection(s)\n", after - before);
	ASSERT(after - before <= 1);
	engine_free(e);
}

static struct engine *alarm_engine;

static void on_alarm(int sig)
{
	(void)sig;
	engine_interrupt(alarm_engine);
}

/* engine_interrupt(e) from a signal handler in ms, as `up`'s does. */
static void interrupt_in(struct engine *e, long ms)
{
	struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };

	alarm_engine = e;
	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * A signal handler can stop a synchronous call that never answers; the
 * interruption holds (nothing more is sent) until it is cleared.
 */
TEST(interrupt_sync_call)
{
	struct engine *e = connect_fake("ok", 0);
	struct engine_request r = { .method = "GET",
		                    .path = "/info",
		                    .timeout_ms = 10000 };
	struct engine_version v;
	int64_t t0 = now_ms();

	ASSERT(e);
	interrupt_in(e, 200);
	ASSERT_EQ_INT(engine_request_sync(e, &r, NULL, NULL), ORCH_EINTR);
	ASSERT(now_ms() - t0 < 2000);
	ASSERT_CONTAINS(orch_error_last(), "GET /v1.41/info: interrupted");
	/* until cleared, later operations stop before they send anything */
	t0 = now_ms();
	ASSERT_EQ_INT(engine_version(e, &v), ORCH_EINTR);
	ASSERT_EQ_INT(engine_network_create(e, "n", NULL, 0, NULL), ORCH_EINTR);
	ASSERT_CONTAINS(orch_error_last(),
	                "POST /v1.41/networks/create: interrupted");
	ASSERT(now_ms() - t0 < 100);
	ASSERT_EQ_INT(engine_interrupt_clear(e), 1);
	ASSERT_EQ_INT(engine_interrupt_clear(e), 0);
	ASSERT_EQ_INT(fake_count(e, "/_creates"), 0);
	/* a read is cancelled, not left running */
	t0 = now_ms();
	ASSERT_EQ_INT(engine_settle(e, 2000), 0);
	ASSERT(now_ms() - t0 < 100);
	ASSERT_EQ_INT(engine_version(e, &v), 0);
	engine_version_release(&v);
	signal(SIGALRM, SIG_DFL);
	engine_free(e);
}

/* An interrupted pull drops its connection: the engine cancels it. */
TEST(interrupt_pull)
{
	struct engine *e = connect_fake("ok", 0);
	int64_t t0 = now_ms();

	ASSERT(e);
	interrupt_in(e, 200);
	ASSERT_EQ_INT(engine_image_pull(e, "stall:1"), ORCH_EINTR);
	ASSERT(now_ms() - t0 < 1000);
	ASSERT_CONTAINS(orch_error_last(), "pulling 'stall:1'");
	ASSERT_CONTAINS(orch_error_last(),
	                "POST /v1.41/images/create: interrupted");
	engine_interrupt_clear(e);
	ASSERT_EQ_INT(engine_running(e), 0);
	ASSERT_EQ_INT(engine_settle(e, 1000), 0);
	signal(SIGALRM, SIG_DFL);
	engine_free(e);
}

/*
 * A create the engine was sent is left running when interrupted, and
 * engine_settle() waits for the engine's answer: what it created exists
 * by the time the caller lists the run.
 */
TEST(interrupt_create_settles)
{
	struct engine *e = connect_fake("ok", 0);
	int64_t t0 = now_ms(), t1;
	char *id = NULL;

	ASSERT(e);
	interrupt_in(e, 150);
	ASSERT_EQ_INT(engine_network_create(e, "late", NULL, 0, &id),
	              ORCH_EINTR);
	t1 = now_ms();
	ASSERT(t1 - t0 < 500); /* the fake answers after 600 ms */
	ASSERT(id == NULL);
	ASSERT_EQ_INT(engine_interrupt_clear(e), 1);
	/* the caller's calls: none; the create runs on */
	ASSERT_EQ_INT(engine_running(e), 0);
	ASSERT_EQ_INT(engine_settle(e, 5000), 0);
	printf("# settled %lld ms after the interruption\n",
	       (long long)(now_ms() - t1));
	ASSERT(now_ms() - t0 >= 550);
	ASSERT(now_ms() - t0 < 3000);
	ASSERT_EQ_INT(fake_count(e, "/_creates"), 1);
	ASSERT_EQ_INT(fake_count(e, "/_answered"), 1);
	signal(SIGALRM, SIG_DFL);
	engine_free(e);
}

/* One the engine never answers is given up at the settle limit. */
TEST(interrupt_create_unanswered)
{
	struct engine *e = connect_fake("ok", 0);
	int64_t t0;

	ASSERT(e);
	interrupt_in(e, 150);
	ASSERT_EQ_INT(engine_network_create(e, "hung", NULL, 0, NULL),
	              ORCH_EINTR);
	engine_interrupt_clear(e);
	t0 = now_ms();
	ASSERT_EQ_INT(engine_settle(e, 300), 1);
	ASSERT(now_ms() - t0 >= 290);
	ASSERT(now_ms() - t0 < 1500);
	ASSERT_CONTAINS(orch_error_last(),
	                "POST /v1.41/networks/create: no answer from the "
	                "engine within 300ms of the interruption");
	/* given up: nothing left to wait for */
	t0 = now_ms();
	ASSERT_EQ_INT(engine_settle(e, 1000), 0);
	ASSERT(now_ms() - t0 < 100);
	ASSERT_EQ_INT(fake_count(e, "/_creates"), 1);
	ASSERT_EQ_INT(fake_count(e, "/_answered"), 0);
	signal(SIGALRM, SIG_DFL);
	engine_free(e);
}

/* engine_free() with a create still left running frees it too. */
TEST(free_engine_with_create_left_running)
{
	struct engine *e = connect_fake("ok", 0);

	ASSERT(e);
	interrupt_in(e, 100);
	ASSERT_EQ_INT(engine_network_create(e, "hung", NULL, 0, NULL),
	              ORCH_EINTR);
	signal(SIGALRM, SIG_DFL);
	engine_free(e); /* LeakSanitizer checks the rest */
}

struct exec_result {
	int called, rc, code;
	char out[64];
};

static void exec_done(struct engine_exec *x, int rc, int code, void *ud)
{
	struct exec_result *r = ud;

	r->called++;
	r->rc = rc;
	r->code = code;
	snprintf(r->out, sizeof(r->out), "%s", buf_cstr(engine_exec_output(x)));
}

TEST(async_exec)
{
	struct engine *e = connect_fake("ok", 0);
	char *argv[] = { "probe", NULL };
	struct exec_result r = { 0 }, r2 = { 0 };
	struct engine_exec *x;

	ASSERT(e);
	engine_exec_start(e, "c1", argv, NULL, 2000, exec_done, &r);
	while (!r.called)
		engine_wait(e, NULL, 0, -1);
	ASSERT_EQ_INT(r.rc, 0);
	ASSERT_EQ_INT(r.code, 3);
	ASSERT_CONTAINS(r.out, "partial output");
	x = engine_exec_start(e, "c1", argv, NULL, 2000, exec_done, &r2);
	engine_exec_cancel(x);
	ASSERT_EQ_INT(r2.called, 1);
	ASSERT_EQ_INT(r2.rc, ORCH_EINTR);
	engine_free(e);
}

/*
 * engine_free() with an exec still running frees it without calling done
 * (the ASan build's leak check is what sees the difference).
 */
TEST(free_engine_with_exec_running)
{
	struct engine *e = connect_fake("ok", 0);
	char *argv[] = { "sleep", "1000", NULL };
	struct exec_result r = { 0 };
	int64_t t0 = now_ms();

	ASSERT(e);
	engine_exec_start(e, "slow", argv, NULL, 0, exec_done, &r);
	/* until the start stream is open and blocked */
	while (now_ms() - t0 < 300)
		engine_wait(e, NULL, 0, 50);
	ASSERT_EQ_INT(r.called, 0);
	engine_free(e);
	ASSERT_EQ_INT(r.called, 0);
}

static int run_version(const char *host, int *status, int64_t *ms,
                       struct buf *err)
{
	char errpath[300];
	char *argv[] = { (char *)orch_bin, "version", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int64_t t0 = now_ms();
	int rc;

	snprintf(errpath, sizeof(errpath), "%s/stderr", tmpdir);
	setenv("DOCKER_HOST", host, 1);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, errpath,
	                                 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, orch_bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	unsetenv("DOCKER_HOST");
	if (rc)
		return -1;
	waitpid(pid, status, 0);
	*ms = now_ms() - t0;
	buf_reset(err);
	read_file(errpath, err, 1 << 16);
	return 0;
}

TEST(version_without_engine)
{
	struct buf err = BUF_INIT;
	int64_t ms;
	int st;

	ASSERT_EQ_INT(
	        run_version("unix:///tmp/nonexistent.sock", &st, &ms, &err), 0);
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ASSERT(ms < 5000);
	ASSERT_CONTAINS(buf_cstr(&err), "unix:///tmp/nonexistent.sock");
	buf_release(&err);
}

TEST(version_engine_never_answers)
{
	struct buf err = BUF_INIT;
	char host[300];
	int64_t ms;
	int st;

	ASSERT_EQ_INT(start_server("hang"), 0);
	snprintf(host, sizeof(host), "unix://%s", sock);
	ASSERT_EQ_INT(run_version(host, &st, &ms, &err), 0);
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ASSERT(ms < 5000);
	printf("# version against a silent engine exited after %lld ms\n",
	       (long long)ms);
	ASSERT_CONTAINS(buf_cstr(&err), "does not answer");
	ASSERT_CONTAINS(buf_cstr(&err), host);
	stop_server();
	buf_release(&err);
}

/* Something that is not an engine answers on the address. */
TEST(version_not_an_engine)
{
	struct buf err = BUF_INIT;
	char host[300];
	int64_t ms;
	int st;

	ASSERT_EQ_INT(start_server("not-docker"), 0);
	snprintf(host, sizeof(host), "unix://%s", sock);
	ASSERT_EQ_INT(run_version(host, &st, &ms, &err), 0);
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ASSERT_CONTAINS(buf_cstr(&err), host);
	ASSERT_CONTAINS(buf_cstr(&err), "GET /_ping: 404");
	ASSERT_CONTAINS(buf_cstr(&err), "is it a Docker engine?");
	stop_server();
	buf_release(&err);
}

TEST(version_against_fake)
{
	struct buf err = BUF_INIT;
	char host[300];
	int64_t ms;
	int st;

	ASSERT_EQ_INT(start_server("ok"), 0);
	snprintf(host, sizeof(host), "unix://%s", sock);
	ASSERT_EQ_INT(run_version(host, &st, &ms, &err), 0);
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	stop_server();
	buf_release(&err);
}

/* EACCES on the socket: its own message, no chmod 666 advice. */
TEST(permission_denied)
{
	pid_t pid;
	int st;

	ASSERT_EQ_INT(start_server("ok"), 0);
	ASSERT_EQ_INT(chmod(tmpdir, 0755), 0);
	ASSERT_EQ_INT(chmod(sock, 0600), 0);
	if (getuid() != 0)
		ASSERT_EQ_INT(chmod(sock, 0), 0);
	pid = fork();
	if (pid == 0) {
		struct engine_opts o = { 0 };
		char host[300];
		struct engine *e;
		int rc;

		if (getuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(10);
		snprintf(host, sizeof(host), "unix://%s", sock);
		o.host = host;
		if (engine_new(&e, &o))
			_exit(11);
		rc = engine_connect(e);
		engine_free(e);
		if (rc != ORCH_EPERM)
			_exit(12);
		if (!strstr(orch_error_last(), "root-equivalent") ||
		    strstr(orch_error_last(), "666") ||
		    !strstr(orch_error_last(), sock))
			_exit(13);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ASSERT(WIFEXITED(st));
	ASSERT_EQ_INT(WEXITSTATUS(st), 0);
	stop_server();
}

int main(int argc, char **argv)
{
	int rc;

	if (argc != 3) {
		fputs("usage: test-fake-engine FAKE_ENGINE ORCHESTRATE\n",
		      stderr);
		return 2;
	}
	fake_bin = argv[1];
	orch_bin = argv[2];
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(sock, sizeof(sock), "%s/docker.sock", tmpdir);
	RUN(negotiates_and_versions);
	RUN(not_found_and_conflict);
	RUN(not_modified_is_success);
	RUN(client_too_old);
	RUN(renegotiates_after_downgrade);
	RUN(renegotiates_after_upgrade);
	RUN(error_inside_pull_stream);
	RUN(pull_error_split_across_reads);
	RUN(logs_demuxed_raw_and_truncated);
	RUN(logs_stop_at_cap);
	RUN(logs_follow);
	RUN(exec_exit_code_from_inspect);
	RUN(free_engine_with_calls_running);
	RUN(exec_timeout);
	RUN(body_cap);
	RUN(request_timeout);
	RUN(container_wait_timeout);
	RUN(stalled_pull);
	RUN(stalled_build);
	RUN(events_while_other_calls_run);
	RUN(events_cancelled_from_callback);
	RUN(async_exec);
	RUN(free_engine_with_exec_running);
	RUN(events_before_stream_error);
	RUN(events_long_line_skipped);
	RUN(events_last_line_without_newline);
	RUN(exec_running_when_stream_ends);
	RUN(interrupt_sync_call);
	RUN(interrupt_pull);
	RUN(interrupt_create_settles);
	RUN(interrupt_create_unanswered);
	RUN(free_engine_with_create_left_running);
	RUN(build_dockerfile_outside_context);
	RUN(connection_reuse);
	RUN(version_without_engine);
	RUN(version_engine_never_answers);
	RUN(version_not_an_engine);
	RUN(version_against_fake);
	RUN(permission_denied);
	stop_server();
	rc = harness_done();
	{
		char p[300];

		snprintf(p, sizeof(p), "%s/stderr", tmpdir);
		unlink(p);
		rmdir(tmpdir);
	}
	return rc;
}
