/*
 * test-health.c: the pure parts of the readiness probes -- backoff
 * schedule, HTTP status lines, healthcheck test -> argv, log matching --
 * and the tcp/http probe state machines against a loopback listener.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "health.h"
#include "util.h"

TEST(backoff_doubles_to_cap)
{
	struct health_backoff b;
	static const int want[] = { 5, 10, 20, 40, 80, 100, 100, 100 };

	health_backoff_init(&b);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ASSERT_EQ_INT(health_backoff_next(&b), want[i]);
}

TEST(backoff_sum_first_second)
{
	struct health_backoff b;
	int sum = 0, attempts = 0;

	/* many attempts early: a service ready after 100 ms is seen within
	 * a few milliseconds of that */
	health_backoff_init(&b);
	while (sum < 1000) {
		sum += health_backoff_next(&b);
		attempts++;
	}
	ASSERT(attempts >= 12);
	ASSERT(attempts <= 16);
}

TEST(http_status_lines)
{
	int st = 0;

	ASSERT_EQ_INT(health_http_status("HTTP/1.1 200 OK\r\n", 17, &st), 1);
	ASSERT_EQ_INT(st, 200);
	ASSERT_EQ_INT(health_http_status("HTTP/1.0 404 Not Found", 22, &st), 1);
	ASSERT_EQ_INT(st, 404);
	ASSERT_EQ_INT(health_http_status("HTTP/1.1 204\r\n", 14, &st), 1);
	ASSERT_EQ_INT(st, 204);
	/* partial: more bytes needed */
	ASSERT_EQ_INT(health_http_status("HTTP/1.1 2", 10, &st), 0);
	ASSERT_EQ_INT(health_http_status("HTT", 3, &st), 0);
	ASSERT_EQ_INT(health_http_status("", 0, &st), 0);
	/* not HTTP */
	ASSERT_EQ_INT(health_http_status("SSH-2.0-OpenSSH", 15, &st),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(health_http_status("HTTP/1.1 2x0 OK", 15, &st),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(health_http_status("HTTP/1.1 2000 OK", 16, &st),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(health_http_status("HTTP/1.1 099 OK", 15, &st),
	              ORCH_EINVALID);
}

TEST(test_argv_cmd)
{
	char *t[] = { "CMD", "pg_isready", "-h", "127.0.0.1" };
	struct strvec v = STRVEC_INIT;

	ASSERT_EQ_INT(health_test_argv(t, 4, &v), 0);
	ASSERT_EQ_INT(v.n, 3);
	ASSERT_EQ_STR(v.v[0], "pg_isready");
	ASSERT_EQ_STR(v.v[2], "127.0.0.1");
	ASSERT(v.v[3] == NULL);
	strvec_clear(&v);
}

TEST(test_argv_shell)
{
	char *t[] = { "CMD-SHELL", "wget -q -O- http://127.0.0.1/ || exit 1" };
	struct strvec v = STRVEC_INIT;

	ASSERT_EQ_INT(health_test_argv(t, 2, &v), 0);
	ASSERT_EQ_INT(v.n, 3);
	ASSERT_EQ_STR(v.v[0], "/bin/sh");
	ASSERT_EQ_STR(v.v[1], "-c");
	ASSERT_EQ_STR(v.v[2], "wget -q -O- http://127.0.0.1/ || exit 1");
	strvec_clear(&v);
}

TEST(test_argv_none)
{
	char *none[] = { "NONE" };
	char *bare[] = { "CMD" };
	char *odd[] = { "pg_isready" };
	struct strvec v = STRVEC_INIT;

	ASSERT_EQ_INT(health_test_argv(none, 1, &v), ORCH_ENOTFOUND);
	ASSERT_EQ_INT(health_test_argv(bare, 1, &v), ORCH_ENOTFOUND);
	ASSERT_EQ_INT(health_test_argv(odd, 1, &v), ORCH_ENOTFOUND);
	ASSERT_EQ_INT(health_test_argv(NULL, 0, &v), ORCH_ENOTFOUND);
	ASSERT_EQ_INT(v.n, 0);
}

TEST(logmatch_lines_and_chunks)
{
	struct health_logmatch m;

	ASSERT_EQ_INT(health_logmatch_init(&m,
	                                   "ready to accept "
	                                   "connections( on port [0-9]+)?$"),
	              0);
	ASSERT_EQ_INT(health_logmatch_feed(&m, "starting\nready to ", 18), 0);
	ASSERT_EQ_INT(health_logmatch_feed(&m, "accept conn", 11), 0);
	ASSERT_EQ_INT(health_logmatch_feed(&m, "ections\r\nmore\n", 14), 1);
	health_logmatch_release(&m);
}

TEST(logmatch_bad_regex)
{
	struct health_logmatch m;

	ASSERT_EQ_INT(health_logmatch_init(&m, "(unclosed"), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "(unclosed");
	health_logmatch_release(&m);
}

static int listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Drive a probe to a result, serving the peer with answer (or closing). */
static int drive(struct health_probe *p, int lfd, const char *answer)
{
	int peer = -1, served = 0, rc = health_probe_begin(p, now_ms());

	for (int i = 0; rc == 0 && i < 200; i++) {
		struct pollfd fds[2] = {
			{ health_probe_fd(p), health_probe_events(p), 0 },
			{ served ? -1 : lfd, POLLIN, 0 },
		};

		poll(fds, 2, 10);
		if (peer < 0 && !served && (fds[1].revents & POLLIN)) {
			peer = accept(lfd, NULL, NULL);
			if (!answer) {
				close(peer);
				peer = -1;
				served = 1;
			}
		}
		rc = health_probe_step(p, fds[0].revents, now_ms());
		/* answer once the request is out (the probe reads) */
		if (peer >= 0 && !served && health_probe_events(p) == POLLIN) {
			char req[512];

			if (p->kind == HEALTH_HTTP)
				(void)!read(peer, req, sizeof(req));
			(void)!write(peer, answer, strlen(answer));
			served = 1;
		}
	}
	if (peer >= 0)
		close(peer);
	return rc;
}

TEST(http_probe_expects_status)
{
	struct health_probe p;
	int port = 0, lfd = listener(&port);

	ASSERT(lfd >= 0);
	health_probe_init(&p, HEALTH_HTTP, port, "/health", 200);
	ASSERT_EQ_INT(drive(&p, lfd, "HTTP/1.0 200 OK\r\n\r\n"), 1);
	ASSERT_EQ_INT(drive(&p, lfd, "HTTP/1.0 503 Busy\r\n\r\n"), ORCH_ERROR);
	ASSERT_CONTAINS(health_probe_error(&p), "answered 503");
	ASSERT_EQ_INT(drive(&p, lfd, NULL), ORCH_ERROR);
	health_probe_release(&p);
	close(lfd);
}

TEST(tcp_probe_refused_and_accepted)
{
	struct health_probe p;
	int port = 0, lfd = listener(&port);

	ASSERT(lfd >= 0);
	health_probe_init(&p, HEALTH_TCP, port, NULL, 0);
	/* accepted and held open: passes after the confirm window */
	ASSERT_EQ_INT(drive(&p, lfd, ""), 1);
	/* accepted then closed at once: what the engine's proxy does when
	 * nothing listens in the container */
	ASSERT_EQ_INT(drive(&p, lfd, NULL), ORCH_ERROR);
	ASSERT_CONTAINS(health_probe_error(&p), "closed at once");
	close(lfd);
	/* nothing listening at all */
	ASSERT_EQ_INT(drive(&p, -1, NULL), ORCH_ERROR);
	ASSERT_CONTAINS(health_probe_error(&p), "connect");
	health_probe_release(&p);
}

int main(void)
{
	RUN(backoff_doubles_to_cap);
	RUN(backoff_sum_first_second);
	RUN(http_status_lines);
	RUN(test_argv_cmd);
	RUN(test_argv_shell);
	RUN(test_argv_none);
	RUN(logmatch_lines_and_chunks);
	RUN(logmatch_bad_regex);
	RUN(http_probe_expects_status);
	RUN(tcp_probe_refused_and_accepted);
	return harness_done();
}
