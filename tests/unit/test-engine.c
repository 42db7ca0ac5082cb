/*
 * test-engine.c: the engine client's pure parts: stream demultiplexing
 * under every chunking, URL escaping, label filters, progress lines,
 * address parsing and request paths. No I/O: the fake engine tests
 * (tests/fake-engine) cover the transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_ops.h"
#include "engine_stream.h"
#include "error.h"
#include "harness.h"
#include "util.h"

static void frame(struct buf *b, int type, const char *payload, size_t n)
{
	unsigned char h[8] = { (unsigned char)type,
		               0,
		               0,
		               0,
		               (unsigned char)(n >> 24),
		               (unsigned char)(n >> 16),
		               (unsigned char)(n >> 8),
		               (unsigned char)n };

	buf_add(b, h, 8);
	buf_add(b, payload, n);
}

/* Two stdout frames, a stderr frame and an empty frame. */
static void sample(struct buf *b)
{
	frame(b, 1, "hello ", 6);
	frame(b, 2, "oops\n", 5);
	frame(b, 1, "", 0);
	frame(b, 1, "world\n", 6);
	frame(b, 0, "in", 2);
}

TEST(demux_whole)
{
	struct buf s = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	struct engine_demux d;

	sample(&s);
	engine_demux_init(&d);
	ASSERT_EQ_INT(engine_demux_feed(&d, s.data, s.len, &out, &err), 0);
	ASSERT_EQ_INT(engine_demux_finish(&d), 0);
	ASSERT_EQ_STR(buf_cstr(&out), "hello world\nin");
	ASSERT_EQ_STR(buf_cstr(&err), "oops\n");
	buf_release(&s);
	buf_release(&out);
	buf_release(&err);
}

TEST(demux_every_split_point)
{
	struct buf s = BUF_INIT;

	sample(&s);
	for (size_t cut = 0; cut <= s.len; cut++) {
		for (size_t cut2 = cut; cut2 <= s.len; cut2++) {
			struct buf out = BUF_INIT;
			struct engine_demux d;

			engine_demux_init(&d);
			ASSERT_EQ_INT(
			        engine_demux_feed(&d, s.data, cut, &out, NULL),
			        0);
			ASSERT_EQ_INT(engine_demux_feed(&d, s.data + cut,
			                                cut2 - cut, &out, NULL),
			              0);
			ASSERT_EQ_INT(engine_demux_feed(&d, s.data + cut2,
			                                s.len - cut2, &out,
			                                NULL),
			              0);
			ASSERT_EQ_INT(engine_demux_finish(&d), 0);
			/* without err, stderr goes to out in arrival order */
			ASSERT_EQ_STR(buf_cstr(&out), "hello oops\nworld\nin");
			buf_release(&out);
		}
	}
	buf_release(&s);
}

TEST(demux_one_byte_chunks)
{
	struct buf s = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	struct engine_demux d;

	sample(&s);
	engine_demux_init(&d);
	for (size_t i = 0; i < s.len; i++)
		ASSERT_EQ_INT(engine_demux_feed(&d, s.data + i, 1, &out, &err),
		              0);
	ASSERT_EQ_INT(engine_demux_finish(&d), 0);
	ASSERT_EQ_STR(buf_cstr(&out), "hello world\nin");
	ASSERT_EQ_STR(buf_cstr(&err), "oops\n");
	buf_release(&s);
	buf_release(&out);
	buf_release(&err);
}

TEST(demux_systemerr)
{
	struct buf s = BUF_INIT, out = BUF_INIT;
	struct engine_demux d;
	int rc = 0;

	frame(&s, 1, "ok\n", 3);
	frame(&s, 3, "container died\n", 15);
	frame(&s, 1, "never\n", 6);
	engine_demux_init(&d);
	/* byte by byte: the error is only known once its frame is whole */
	for (size_t i = 0; i < s.len && !rc; i++)
		rc = engine_demux_feed(&d, s.data + i, 1, &out, NULL);
	ASSERT(rc < 0);
	ASSERT_CONTAINS(orch_error_last(), "container died");
	ASSERT_EQ_STR(buf_cstr(&out), "ok\n");
	ASSERT(engine_demux_finish(&d) < 0);
	ASSERT(engine_demux_feed(&d, "x", 1, &out, NULL) < 0);
	buf_release(&s);
	buf_release(&out);
}

TEST(demux_unknown_type)
{
	struct buf s = BUF_INIT, out = BUF_INIT;
	struct engine_demux d;

	frame(&s, 7, "zz", 2);
	engine_demux_init(&d);
	ASSERT(engine_demux_feed(&d, s.data, s.len, &out, NULL) < 0);
	ASSERT_CONTAINS(orch_error_last(), "unrecognized stream type 7");
	ASSERT_EQ_INT(out.len, 0);
	buf_release(&s);
	buf_release(&out);
}

TEST(demux_oversized_frame)
{
	unsigned char h[8] = { 1, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff };
	struct buf out = BUF_INIT;
	struct engine_demux d;

	engine_demux_init(&d);
	ASSERT(engine_demux_feed(&d, (const char *)h, 8, &out, NULL) < 0);
	ASSERT_CONTAINS(orch_error_last(), "exceeds the limit");
	ASSERT_EQ_INT(out.alloc, 0); /* nothing was allocated for it */
	d.max_frame = 4;
	engine_demux_init(&d);
	d.max_frame = 4;
	ASSERT(engine_demux_feed(&d, "\1\0\0\0\0\0\0\5hello", 13, &out, NULL) <
	       0);
	buf_release(&out);
}

TEST(demux_truncated)
{
	struct buf s = BUF_INIT, out = BUF_INIT;
	struct engine_demux d;

	frame(&s, 1, "0123456789", 10);
	engine_demux_init(&d);
	ASSERT_EQ_INT(engine_demux_feed(&d, s.data, s.len - 4, &out, NULL), 0);
	ASSERT(engine_demux_finish(&d) < 0);
	ASSERT_CONTAINS(orch_error_last(), "4 bytes missing");
	engine_demux_init(&d);
	ASSERT_EQ_INT(engine_demux_feed(&d, s.data, 3, &out, NULL), 0);
	ASSERT(engine_demux_finish(&d) < 0);
	ASSERT_CONTAINS(orch_error_last(), "frame header");
	buf_release(&s);
	buf_release(&out);
}

TEST(demux_output_cap)
{
	struct buf s = BUF_INIT, out = BUF_INIT;
	struct engine_demux d;

	frame(&s, 1, "0123456789", 10);
	frame(&s, 1, "abc", 3);
	buf_init(&out, 11);
	engine_demux_init(&d);
	ASSERT_EQ_INT(engine_demux_feed(&d, s.data, s.len, &out, NULL), 0);
	ASSERT_EQ_INT(engine_demux_finish(&d), 0);
	ASSERT(d.truncated);
	ASSERT_EQ_STR(buf_cstr(&out), "0123456789");
	buf_release(&s);
	buf_release(&out);
}

/* A systemerr frame is an error even when it carries no text. */
TEST(demux_empty_systemerr)
{
	struct buf s = BUF_INIT, out = BUF_INIT;
	struct engine_demux d;

	frame(&s, 1, "ok\n", 3);
	frame(&s, 3, "", 0);
	frame(&s, 1, "never\n", 6);
	engine_demux_init(&d);
	ASSERT(engine_demux_feed(&d, s.data, s.len, &out, NULL) < 0);
	ASSERT_CONTAINS(orch_error_last(), "the engine reported an error");
	ASSERT_EQ_STR(buf_cstr(&out), "ok\n");
	ASSERT(engine_demux_finish(&d) < 0);
	buf_release(&s);
	buf_release(&out);
}

TEST(url_escape)
{
	struct buf b = BUF_INIT;

	engine_url_escape(&b, "a-Z_0.9~ /?&=+%\"{}é");
	ASSERT_EQ_STR(buf_cstr(&b), "a-Z_0.9~%20%2F%3F%26%3D%2B%25%22%7B%7D"
	                            "%C3%A9");
	buf_release(&b);
}

TEST(label_filter)
{
	struct engine_label l[] = { { "orch.run", "r1" },
		                    { "orch.project", "a b&c" },
		                    { "orch.owner", NULL } };
	struct buf b = BUF_INIT;

	engine_label_filter(&b, l, 3);
	ASSERT_EQ_STR(buf_cstr(&b),
	              "%7B%22label%22%3A%5B%22orch.run%3Dr1%22%2C%22orch."
	              "project%3Da%20b%26c%22%2C%22orch.owner%22%5D%7D");
	/* '=', quotes and UTF-8 in a value: JSON-escaped, then URL-escaped */
	buf_reset(&b);
	l[0].key = "k";
	l[0].value = "a=b \"q\" \xc3\xa9";
	engine_label_filter(&b, l, 1);
	ASSERT_EQ_STR(buf_cstr(&b), "%7B%22label%22%3A%5B%22k%3Da%3Db%20%5C%22q"
	                            "%5C%22%20%C3%A9%22%5D%7D");
	buf_reset(&b);
	engine_label_filter(&b, NULL, 0);
	ASSERT_EQ_STR(buf_cstr(&b), "%7B%7D");
	buf_release(&b);
}

TEST(progress_lines)
{
	struct buf out = BUF_INIT;
	const char *err = "{\"errorDetail\":{\"message\":\"manifest for x:1 "
	                  "not found\"},\"error\":\"manifest for x:1 not "
	                  "found\"}";

	ASSERT_EQ_INT(engine_progress_line("{\"status\":\"Pulling fs layer\","
	                                   "\"progressDetail\":{},\"id\":"
	                                   "\"abc\"}",
	                                   62, &out),
	              0);
	ASSERT_EQ_INT(engine_progress_line("{\"stream\":\"Step 1/2 : FROM "
	                                   "x\\n\"}",
	                                   32, &out),
	              0);
	ASSERT_EQ_STR(buf_cstr(&out), "Step 1/2 : FROM x\n");
	ASSERT_EQ_INT(engine_progress_line("  \r", 3, &out), 0);
	ASSERT_EQ_INT(engine_progress_line(err, strlen(err), &out),
	              ORCH_EENGINE);
	ASSERT_EQ_STR(orch_error_last(), "manifest for x:1 not found");
	ASSERT_EQ_INT(engine_progress_line("{\"error\":\"boom\"}", 16, NULL),
	              ORCH_EENGINE);
	ASSERT_EQ_STR(orch_error_last(), "boom");
	ASSERT(engine_progress_line("not json", 8, NULL) < 0);
	buf_release(&out);
}

TEST(address_unix_default)
{
	struct engine_opts o = { .host = "unix://" };
	struct engine *e;

	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_EQ_STR(engine_address(e), "unix:///var/run/docker.sock");
	ASSERT_EQ_STR(engine_api_version(e), "");
	ASSERT_EQ_INT(engine_require_api(e, 1, 44, "start_interval"),
	              ORCH_EUNSUPPORTED);
	ASSERT_CONTAINS(orch_error_last(), "start_interval needs Docker API "
	                                   "1.44");
	engine_free(e);
	unsetenv("DOCKER_HOST");
	ASSERT_EQ_INT(engine_new(&e, NULL), 0);
	ASSERT_EQ_STR(engine_address(e), "unix:///var/run/docker.sock");
	engine_free(e);
	engine_free(NULL);
}

TEST(address_tcp_needs_tls)
{
	struct engine_opts o = { .host = "tcp://10.0.0.1:2375" };
	struct engine *e;

	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("ORCHESTRATE_INSECURE_TCP");
	ASSERT_EQ_INT(engine_new(&e, &o), ORCH_EINVALID);
	ASSERT(e == NULL);
	ASSERT_CONTAINS(orch_error_last(), "refusing plain TCP");
	o.allow_insecure_tcp = 1;
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_EQ_STR(engine_address(e), "tcp://10.0.0.1:2375");
	engine_free(e);
	o.allow_insecure_tcp = 0;
	setenv("ORCHESTRATE_INSECURE_TCP", "1", 1);
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	engine_free(e);
	unsetenv("ORCHESTRATE_INSECURE_TCP");
	setenv("DOCKER_TLS_VERIFY", "1", 1);
	setenv("DOCKER_CERT_PATH", "/nonexistent-certs", 1);
	ASSERT_EQ_INT(engine_new(&e, &o), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "/nonexistent-certs/ca.pem");
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
}

/* Like ssh, but only a warning: key.pem readable by group or others. */
TEST(tls_key_mode_warning)
{
	struct engine_opts o = { .host = "tcp://localhost:2376" };
	char dir[] = "/tmp/orch-certs-XXXXXX", path[64];
	static const char *const files[] = { "ca.pem", "cert.pem", "key.pem" };
	struct engine *e;

	ASSERT(mkdtemp(dir));
	for (size_t i = 0; i < 3; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		f = fopen(path, "w");
		ASSERT(f);
		fputs("not a real PEM: engine_new() only checks access\n", f);
		fclose(f);
	}
	setenv("DOCKER_TLS_VERIFY", "1", 1);
	setenv("DOCKER_CERT_PATH", dir, 1);
	ASSERT_EQ_INT(chmod(path, 0600), 0);
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT(engine_warnings(e) == NULL);
	engine_free(e);
	ASSERT_EQ_INT(chmod(path, 0640), 0);
	ASSERT_EQ_INT(engine_new(&e, &o), 0); /* not a failure */
	ASSERT_CONTAINS(engine_warnings(e), path);
	ASSERT_CONTAINS(engine_warnings(e), "' is accessible by group or "
	                                    "others (mode 0640)");
	ASSERT_CONTAINS(engine_warnings(e), "chmod 600 it");
	engine_free(e);
	ASSERT_EQ_INT(chmod(path, 0604), 0);
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_CONTAINS(engine_warnings(e), "(mode 0604)");
	engine_free(e);
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

TEST(address_unsupported)
{
	struct engine_opts o = { .host = "ssh://me@host" };
	struct engine *e;

	ASSERT_EQ_INT(engine_new(&e, &o), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "only unix:// and tcp://");
}

/* Pulls and builds: their own defaults, one override for both. */
TEST(stall_limits)
{
	struct engine_opts o = { .host = "unix://" };
	struct engine *e;

	unsetenv("ORCHESTRATE_STALL_TIMEOUT");
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_EQ_INT(engine_stall_ms(e, 0), 60000);
	ASSERT_EQ_INT(engine_stall_ms(e, 1), 600000);
	engine_free(e);
	setenv("ORCHESTRATE_STALL_TIMEOUT", "1m30s", 1);
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_EQ_INT(engine_stall_ms(e, 0), 90000);
	ASSERT_EQ_INT(engine_stall_ms(e, 1), 90000);
	engine_free(e);
	setenv("ORCHESTRATE_STALL_TIMEOUT", "0", 1); /* never */
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_EQ_INT(engine_stall_ms(e, 0), 0);
	ASSERT_EQ_INT(engine_stall_ms(e, 1), 0);
	engine_free(e);
	setenv("ORCHESTRATE_STALL_TIMEOUT", "10us", 1); /* rounded up */
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_EQ_INT(engine_stall_ms(e, 0), 1);
	engine_free(e);
	setenv("ORCHESTRATE_STALL_TIMEOUT", "soon", 1);
	ASSERT_EQ_INT(engine_new(&e, &o), ORCH_EINVALID);
	ASSERT(e == NULL);
	ASSERT_EQ_STR(orch_error_last(), "ORCHESTRATE_STALL_TIMEOUT 'soon' is "
	                                 "not a duration like 60s or 5m (0: "
	                                 "never)");
	/* the caller's own limit wins */
	o.stall_timeout_ms = 250;
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_EQ_INT(engine_stall_ms(e, 1), 250);
	engine_free(e);
	o.stall_timeout_ms = -1;
	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	ASSERT_EQ_INT(engine_stall_ms(e, 0), 0);
	engine_free(e);
	unsetenv("ORCHESTRATE_STALL_TIMEOUT");
}

TEST(request_paths)
{
	struct buf b = BUF_INIT;

	engine_versioned_path(&b, "1.41", "/containers/json?all=1");
	ASSERT_EQ_STR(buf_cstr(&b), "/v1.41/containers/json?all=1");
	buf_reset(&b);
	/* the ping is never versioned: it is how the version is found */
	engine_versioned_path(&b, "1.41", "/_ping");
	ASSERT_EQ_STR(buf_cstr(&b), "/_ping");
	buf_reset(&b);
	engine_versioned_path(&b, NULL, "/version");
	ASSERT_EQ_STR(buf_cstr(&b), "/version");
	buf_release(&b);
}

TEST(container_body)
{
	char *cmd[] = { "serve", "--port", "8080", NULL };
	char *env[] = { "A=1", NULL };
	char *aliases[] = { "api", NULL };
	char *test[] = { "CMD", "true", NULL };
	char *none[] = { NULL };
	struct engine_label l[] = { { "orch.run", "r1" } };
	struct engine_port ports[] = { { .container_port = 8080 },
		                       { .container_port = 53,
		                         .protocol = "udp",
		                         .host_ip = "0.0.0.0",
		                         .host_port = 5353 } };
	struct engine_mount m = { .type = "volume",
		                  .source = "data",
		                  .target = "/data",
		                  .read_only = 1 };
	struct engine_health h = {
		.set = 1, .test = test, .interval_ns = 1000000000, .retries = 3
	};
	struct engine_container_spec s = {
		.image = "img",
		.cmd = cmd,
		.entrypoint = none,
		.env = env,
		.user = "1000:1000",
		.working_dir = "/w",
		.init = 1,
		.labels = l,
		.nlabels = 1,
		.ports = ports,
		.nports = 2,
		.mounts = &m,
		.nmounts = 1,
		.health = &h,
		.network = "net1",
		.aliases = aliases,
		.stop_timeout_s = 5,
	};
	char *j = engine_container_json(&s);

	ASSERT_CONTAINS(j, "\"Image\":\"img\"");
	ASSERT_CONTAINS(j, "\"Cmd\":[\"serve\",\"--port\",\"8080\"]");
	ASSERT_CONTAINS(j, "\"Entrypoint\":[\"\"]");
	ASSERT_CONTAINS(j, "\"Env\":[\"A=1\"]");
	ASSERT_CONTAINS(j, "\"User\":\"1000:1000\"");
	ASSERT_CONTAINS(j, "\"WorkingDir\":\"/w\"");
	ASSERT_CONTAINS(j, "\"Labels\":{\"orch.run\":\"r1\"}");
	ASSERT_CONTAINS(j, "\"StopTimeout\":5");
	ASSERT_CONTAINS(j, "\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],"
	                   "\"Interval\":1000000000");
	ASSERT_CONTAINS(j, "\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{}}");
	ASSERT_CONTAINS(j, "\"8080/tcp\":[{\"HostIp\":\"127.0.0.1\","
	                   "\"HostPort\":\"\"}]");
	ASSERT_CONTAINS(j, "\"53/udp\":[{\"HostIp\":\"0.0.0.0\","
	                   "\"HostPort\":\"5353\"}]");
	ASSERT_CONTAINS(j, "\"Mounts\":[{\"Type\":\"volume\",\"Source\":"
	                   "\"data\",\"Target\":\"/data\",\"ReadOnly\":"
	                   "true}]");
	ASSERT_CONTAINS(j, "\"Init\":true");
	ASSERT_CONTAINS(j, "\"NetworkMode\":\"net1\"");
	ASSERT_CONTAINS(j, "\"EndpointsConfig\":{\"net1\":{\"Aliases\":"
	                   "[\"api\"]}}");
	free(j);
	s.stop_timeout_s = -1;
	s.entrypoint = NULL;
	s.health = NULL;
	j = engine_container_json(&s);
	ASSERT(!strstr(j, "StopTimeout"));
	ASSERT(!strstr(j, "Entrypoint"));
	ASSERT(!strstr(j, "Healthcheck"));
	free(j);
}

TEST(call_before_connect)
{
	struct engine_opts o = { .host = "unix:///nonexistent/x.sock" };
	struct engine_request r = { .method = "GET", .path = "/info" };
	struct engine_call *c;
	struct engine *e;

	ASSERT_EQ_INT(engine_new(&e, &o), 0);
	c = engine_call_start(e, &r);
	ASSERT(c != NULL);
	while (!engine_call_done(c))
		engine_wait(e, NULL, 0, 100);
	ASSERT_EQ_INT(engine_call_result(c), ORCH_ERROR);
	ASSERT_CONTAINS(engine_call_error(c), "engine_connect() not called");
	engine_call_free(c);
	ASSERT_EQ_INT(engine_connect(e), ORCH_EUNREACHABLE);
	ASSERT_CONTAINS(orch_error_last(), "unix:///nonexistent/x.sock");
	engine_free(e);
}

int main(void)
{
	RUN(demux_whole);
	RUN(demux_every_split_point);
	RUN(demux_one_byte_chunks);
	RUN(demux_systemerr);
	RUN(demux_unknown_type);
	RUN(demux_oversized_frame);
	RUN(demux_truncated);
	RUN(demux_output_cap);
	RUN(url_escape);
	RUN(label_filter);
	RUN(progress_lines);
	RUN(demux_empty_systemerr);
	/* a TLS engine first: the first engine of a process decides how
	   OpenSSL starts (engine.h; test-engine-openssl.c has the other) */
	RUN(tls_key_mode_warning);
	RUN(address_unix_default);
	RUN(address_tcp_needs_tls);
	RUN(address_unsupported);
	RUN(stall_limits);
	RUN(request_paths);
	RUN(container_body);
	RUN(call_before_connect);
	return harness_done();
}
