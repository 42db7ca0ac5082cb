/*
 * health.c: tcp and http probes as non-blocking socket state machines,
 * the log matcher, the backoff schedule and healthcheck argv translation
 * (see health.h). No engine calls and no waiting here: env.c polls the
 * sockets in its single event loop.
 */
#include "health.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"

enum phase {
	PH_IDLE,
	PH_CONNECTING,
	PH_CONFIRM, /* tcp: connected, watching for the proxy's close */
	PH_SENDING,
	PH_READING,
};

#define LOG_LINE_CAP  4096
#define HTTP_HEAD_CAP 8192

void health_backoff_init(struct health_backoff *b)
{
	b->next_ms = HEALTH_BACKOFF_MIN_MS;
}

int health_backoff_next(struct health_backoff *b)
{
	int d = b->next_ms;

	b->next_ms =
	        d >= HEALTH_BACKOFF_MAX_MS / 2 ? HEALTH_BACKOFF_MAX_MS : d * 2;
	return d;
}

int health_test_argv(char *const *test, size_t n, struct strvec *argv)
{
	if (n < 1 || !test[0])
		return ORCH_ENOTFOUND;
	if (!strcmp(test[0], "CMD") && n >= 2) {
		for (size_t i = 1; i < n; i++)
			strvec_push(argv, test[i]);
		return 0;
	}
	if (!strcmp(test[0], "CMD-SHELL") && n >= 2) {
		/* the engine joins the rest with spaces; so do we */
		struct buf s = BUF_INIT;

		for (size_t i = 1; i < n; i++) {
			if (i > 1)
				buf_addch(&s, ' ');
			buf_addstr(&s, test[i]);
		}
		strvec_push(argv, "/bin/sh");
		strvec_push(argv, "-c");
		strvec_push_nodup(argv, buf_detach(&s, NULL));
		return 0;
	}
	return ORCH_ENOTFOUND;
}

int health_http_status(const char *data, size_t len, int *status)
{
	static const char prefix[] = "HTTP/1.";
	size_t plen = sizeof(prefix) - 1;
	int code = 0;

	for (size_t i = 0; i < len && i < plen; i++)
		if (data[i] != prefix[i])
			return ORCH_EINVALID;
	/* "HTTP/1.x NNN" */
	if (len < plen + 5)
		return 0;
	if (data[plen] < '0' || data[plen] > '9' || data[plen + 1] != ' ')
		return ORCH_EINVALID;
	for (size_t i = plen + 2; i < plen + 5; i++) {
		if (data[i] < '0' || data[i] > '9')
			return ORCH_EINVALID;
		code = code * 10 + (data[i] - '0');
	}
	if (len > plen + 5 && data[plen + 5] != ' ' && data[plen + 5] != '\r' &&
	    data[plen + 5] != '\n')
		return ORCH_EINVALID;
	if (code < 100)
		return ORCH_EINVALID;
	*status = code;
	return 1;
}

void health_probe_init(struct health_probe *p, enum health_probe_kind kind,
                       int port, const char *path, int expect)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->port = port;
	p->path = xstrdup(path && *path ? path : "/");
	p->expect = expect ? expect : 200;
	p->fd = -1;
	buf_init(&p->in, HTTP_HEAD_CAP);
	buf_init(&p->out, 0);
}

void health_probe_abort(struct health_probe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->phase = PH_IDLE;
}

void health_probe_release(struct health_probe *p)
{
	if (!p)
		return;
	health_probe_abort(p);
	free(p->path);
	p->path = NULL;
	buf_release(&p->in);
	buf_release(&p->out);
}

/* "127.0.0.1:PORT: WHAT[: DETAIL]" */
static int fail(struct health_probe *p, const char *what, const char *detail)
{
	snprintf(p->error, sizeof(p->error), "127.0.0.1:%d: %s%s%s", p->port,
	         what, detail ? ": " : "", detail ? detail : "");
	health_probe_abort(p);
	return ORCH_ERROR;
}

static int connected(struct health_probe *p, int64_t now)
{
	if (p->kind == HEALTH_TCP) {
		p->phase = PH_CONFIRM;
		p->deadline_ms = now + HEALTH_TCP_CONFIRM_MS;
		return 0;
	}
	buf_reset(&p->out);
	buf_addf(&p->out,
	         "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
	         "User-Agent: orchestrate\r\nConnection: close\r\n\r\n",
	         p->path, p->port);
	p->sent = 0;
	buf_reset(&p->in);
	p->phase = PH_SENDING;
	return 0;
}

int health_probe_begin(struct health_probe *p, int64_t now)
{
	struct sockaddr_in sa;
	int fd;

	health_probe_abort(p);
	p->error[0] = '\0';
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(p, "socket", strerror(errno));
	p->fd = fd;
	p->deadline_ms = now + HEALTH_ATTEMPT_TIMEOUT_MS;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)p->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return connected(p, now);
	if (errno != EINPROGRESS)
		return fail(p, "connect", strerror(errno));
	p->phase = PH_CONNECTING;
	return 0;
}

int health_probe_fd(const struct health_probe *p)
{
	return p->phase == PH_IDLE ? -1 : p->fd;
}

short health_probe_events(const struct health_probe *p)
{
	switch (p->phase) {
	case PH_CONNECTING:
	case PH_SENDING:
		return POLLOUT;
	case PH_CONFIRM:
	case PH_READING:
		return POLLIN;
	default:
		return 0;
	}
}

int64_t health_probe_deadline_ms(const struct health_probe *p)
{
	return p->deadline_ms;
}

const char *health_probe_error(const struct health_probe *p)
{
	return p->error;
}

static int step_read(struct health_probe *p)
{
	char chunk[1024];
	ssize_t n = read(p->fd, chunk, sizeof(chunk));
	int status = 0, rc;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0)
		return fail(p, strerror(errno), NULL);
	if (p->phase == PH_CONFIRM) {
		if (n == 0)
			return fail(p,
			            "connection closed at once (nothing "
			            "listening in the container)",
			            NULL);
		health_probe_abort(p);
		return 1;
	}
	if (n == 0 && p->in.len == 0)
		return fail(p, "connection closed", NULL);
	if (n > 0 && buf_add(&p->in, chunk, (size_t)n))
		return fail(p, "answer too long", NULL);
	rc = health_http_status(buf_cstr(&p->in), p->in.len, &status);
	if (rc < 0)
		return fail(p, "not an http answer", NULL);
	if (rc == 0) {
		if (n == 0)
			return fail(p, "connection closed mid-answer", NULL);
		return 0;
	}
	if (status != p->expect) {
		char what[128];

		snprintf(what, sizeof(what), "GET %.64s answered %d, not %d",
		         p->path, status, p->expect);
		return fail(p, what, NULL);
	}
	health_probe_abort(p);
	return 1;
}

int health_probe_step(struct health_probe *p, short revents, int64_t now)
{
	if (p->phase == PH_IDLE)
		return ORCH_ERROR;
	if (p->phase == PH_CONFIRM && now >= p->deadline_ms && !revents) {
		/* still open after the window: something accepted it */
		health_probe_abort(p);
		return 1;
	}
	if (now >= p->deadline_ms && !revents)
		return fail(p, "no answer in time", NULL);
	if (!revents)
		return 0;
	switch (p->phase) {
	case PH_CONNECTING: {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err)
			return fail(p, "connect", strerror(err));
		return connected(p, now);
	}
	case PH_SENDING: {
		ssize_t n = send(p->fd, p->out.data + p->sent,
		                 p->out.len - p->sent, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0)
			return fail(p, strerror(errno), NULL);
		p->sent += (size_t)n;
		if (p->sent == p->out.len)
			p->phase = PH_READING;
		return 0;
	}
	case PH_CONFIRM:
	case PH_READING:
		if (revents & (POLLIN | POLLHUP | POLLERR))
			return step_read(p);
		return 0;
	default:
		return ORCH_ERROR;
	}
}

int health_logmatch_init(struct health_logmatch *m, const char *regex)
{
	int rc;

	memset(m, 0, sizeof(*m));
	buf_init(&m->line, 0);
	rc = regcomp(&m->re, regex, REG_EXTENDED | REG_NOSUB | REG_NEWLINE);
	if (rc) {
		char msg[256];

		regerror(rc, &m->re, msg, sizeof(msg));
		return orch_error_code(ORCH_EINVALID,
		                       "bad log regular expression '%s': %s",
		                       regex, msg);
	}
	m->compiled = 1;
	return 0;
}

static void test_line(struct health_logmatch *m)
{
	const char *s = buf_cstr(&m->line);
	size_t len = m->line.len;

	if (len && s[len - 1] == '\r')
		m->line.data[--m->line.len] = '\0';
	if (!m->matched && regexec(&m->re, buf_cstr(&m->line), 0, NULL, 0) == 0)
		m->matched = 1;
	buf_reset(&m->line);
}

int health_logmatch_feed(struct health_logmatch *m, const char *data,
                         size_t len)
{
	if (!m->compiled)
		return 0;
	for (size_t i = 0; i < len && !m->matched; i++) {
		if (data[i] == '\n') {
			test_line(m);
			continue;
		}
		buf_addch(&m->line, data[i]);
		/* an endless line is tested in pieces rather than held */
		if (m->line.len >= LOG_LINE_CAP)
			test_line(m);
	}
	/* a prompt without a newline ("ready> ") counts too */
	if (!m->matched && m->line.len &&
	    regexec(&m->re, buf_cstr(&m->line), 0, NULL, 0) == 0)
		m->matched = 1;
	return m->matched;
}

void health_logmatch_release(struct health_logmatch *m)
{
	if (!m)
		return;
	if (m->compiled)
		regfree(&m->re);
	m->compiled = 0;
	buf_release(&m->line);
}
