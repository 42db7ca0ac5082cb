/*
 * ready.c: readiness of one running container (ready.h): its healthcheck
 * run through exec and seen in the engine's events, and its ready:
 * probes, each on a backoff of 5 ms doubling to 100 ms from its start.
 */
#include "ready.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "evloop.h"
#include "manifest.h"

#define DEFAULT_READY_TIMEOUT_MS 60000
/* the engine's healthcheck defaults */
#define DEFAULT_HC_TIMEOUT_MS  30000
#define DEFAULT_HC_INTERVAL_MS 30000
#define DEFAULT_HC_RETRIES     3
/* Allowance for the engine's own latency on an exec probe. */
#define EXEC_SLACK_MS 5000

void ready_init(struct ready *r, struct engine *e, struct evloop *loop)
{
	memset(r, 0, sizeof(*r));
	r->e = e;
	r->loop = loop;
	r->tcp.fd = r->http.fd = -1; /* never valid before the probes */
	buf_init(&r->why, 1024);
}

static long ms_of(int64_t ns)
{
	return (long)(ns / 1000000);
}

void ready_configure(struct ready *r, const struct mf_container *spec,
                     const struct engine_image *img, int gated)
{
	const struct mf_healthcheck *mh = &spec->healthcheck;
	struct strvec test = STRVEC_INIT;
	long timeout = 0, interval = 0, start = 0;
	int retries = 0;

	r->spec = spec;
	r->gated = gated;
	if (img) {
		strvec_copy(&test, &img->hc_test);
		timeout = ms_of(img->hc_timeout_ns);
		interval = ms_of(img->hc_interval_ns);
		start = ms_of(img->hc_start_period_ns);
		retries = img->hc_retries;
	}
	/* the manifest's test (or disable) replaces the image's; what it
	 * leaves unset comes from the image, as the engine merges them */
	if (mh->set) {
		if (mh->disable || mh->test.n)
			strvec_clear(&test);
		if (!mh->disable)
			for (size_t i = 0; i < mh->test.n; i++)
				strvec_push(&test, mh->test.v[i]);
		if (mh->timeout_ns > 0)
			timeout = ms_of(mh->timeout_ns);
		if (mh->interval_ns > 0)
			interval = ms_of(mh->interval_ns);
		if (mh->start_period_ns > 0)
			start = ms_of(mh->start_period_ns);
		if (mh->retries > 0)
			retries = mh->retries;
	}
	strvec_clear(&r->hc_argv);
	r->has_hc = test.n > 0 && strcmp(test.v[0], "NONE") != 0;
	if (r->has_hc)
		health_test_argv(test.v, test.n, &r->hc_argv);
	r->hc_timeout_ms = timeout > 0 ? timeout : DEFAULT_HC_TIMEOUT_MS;
	r->hc_interval_ms = interval > 0 ? interval : DEFAULT_HC_INTERVAL_MS;
	r->hc_start_period_ms = start;
	r->hc_retries = retries > 0 ? retries : DEFAULT_HC_RETRIES;
	strvec_clear(&test);
}

int ready_has_checks(const struct ready *r)
{
	const struct mf_ready *rd = &r->spec->ready;

	return r->has_hc || rd->tcp_port || rd->http_port || rd->exec.n ||
	       rd->log_regex;
}

int ready_tcp_port(const struct ready *r)
{
	return r->spec->ready.tcp_port;
}

int ready_http_port(const struct ready *r)
{
	return r->spec->ready.http_port;
}

static void unwatch(struct evloop_fd **w)
{
	evloop_fd_remove(*w);
	*w = NULL;
}

/* The tcp and http probes, their sockets and watches. */
static void port_probes_release(struct ready *r)
{
	unwatch(&r->tcp_w);
	unwatch(&r->http_w);
	if (r->tcp_on)
		health_probe_release(&r->tcp);
	if (r->http_on)
		health_probe_release(&r->http);
	r->tcp.fd = r->http.fd = -1;
	r->tcp_on = r->http_on = 0;
}

void ready_stop(struct ready *r)
{
	struct engine_exec *x;

	if ((x = r->hc_exec)) {
		r->hc_exec = NULL;
		engine_exec_cancel(x);
	}
	if ((x = r->ready_exec)) {
		r->ready_exec = NULL;
		engine_exec_cancel(x);
	}
	engine_call_drop(&r->log_call);
	engine_call_drop(&r->inspect_call);
	port_probes_release(r);
	if (r->log_on)
		health_logmatch_release(&r->logm);
	r->log_on = r->exec_on = 0;
	if (r->state == READY_WAITING)
		r->state = READY_IDLE;
}

void ready_release(struct ready *r)
{
	ready_stop(r);
	strvec_clear(&r->hc_argv);
	free(r->id);
	free(r->failure);
	buf_release(&r->why);
	r->id = r->failure = NULL;
}

static void fail(struct ready *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void fail(struct ready *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(r->failure);
	r->failure = buf_detach(&b, NULL);
	r->state = READY_FAILED;
	ready_stop(r);
	r->state = READY_FAILED;
}

/* ---- exec probes -------------------------------------------------------- */

static void argv_text(struct buf *b, char *const *argv)
{
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			buf_addch(b, ' ');
		buf_addstr(b, argv[i]);
		if (b->len > 80)
			break;
	}
}

/* "pg_isready exited 2: no response" from an exec probe. */
static void exec_why(struct ready *r, const char *what, char *const *argv,
                     struct engine_exec *x, int rc, int exit_code)
{
	const struct buf *o = engine_exec_output(x);

	/* an attempt cut short by the deadline says less than the last one */
	if (rc == ORCH_ETIMEOUT && r->why.len)
		return;
	buf_reset(&r->why);
	if (what)
		buf_addf(&r->why, "%s ", what);
	buf_addch(&r->why, '\'');
	argv_text(&r->why, argv);
	buf_addch(&r->why, '\'');
	if (rc)
		buf_addf(&r->why, " failed: %s", orch_error_last());
	else
		buf_addf(&r->why, " exited %d", exit_code);
	if (o && o->len) {
		const char *p = o->data;
		size_t n = strcspn(p, "\n");

		while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (n > 200)
			n = 200;
		if (n) {
			buf_addstr(&r->why, ": ");
			buf_add(&r->why, p, n);
		}
	}
}

static void hc_done(struct engine_exec *x, int rc, int exit_code, void *ud)
{
	struct ready *r = ud;

	if (r->hc_exec != x)
		return; /* cancelled */
	r->hc_exec = NULL;
	if (rc == 0 && exit_code == 0) {
		r->hc_ok = 1;
		evloop_wake(r->loop);
		return;
	}
	exec_why(r, "healthcheck", r->hc_argv.v, x, rc, exit_code);
	r->hc_next = now_ms() + health_backoff_next(&r->hc_bo);
}

static void ready_exec_done(struct engine_exec *x, int rc, int exit_code,
                            void *ud)
{
	struct ready *r = ud;

	if (r->ready_exec != x)
		return;
	r->ready_exec = NULL;
	if (rc == 0 && exit_code == 0) {
		r->exec_ok = 1;
		evloop_wake(r->loop);
		return;
	}
	exec_why(r, NULL, r->spec->ready.exec.v, x, rc, exit_code);
	r->exec_next = now_ms() + health_backoff_next(&r->exec_bo);
}

static void run_execs(struct ready *r, int64_t t)
{
	if (r->has_hc && !r->hc_ok && r->hc_argv.n && !r->hc_exec) {
		if (t >= r->hc_next) {
			/* the check's own timeout plus the engine's latency:
			 * a busy engine must not turn into a failing check */
			long to = r->hc_timeout_ms + EXEC_SLACK_MS;

			if (to > r->deadline - t)
				to = (long)(r->deadline - t);
			r->hc_exec = engine_exec_start(
			        r->e, r->id, r->hc_argv.v, NULL,
			        to > 0 ? to : 1, hc_done, r);
		} else {
			evloop_wake_at(r->loop, r->hc_next);
		}
	}
	if (r->exec_on && !r->exec_ok && !r->ready_exec) {
		if (t >= r->exec_next) {
			long to = (long)(r->deadline - t);

			r->ready_exec = engine_exec_start(
			        r->e, r->id, r->spec->ready.exec.v, NULL,
			        to > 0 ? to : 1, ready_exec_done, r);
		} else {
			evloop_wake_at(r->loop, r->exec_next);
		}
	}
}

/* ---- the log probe ------------------------------------------------------ */

static void on_log(int stream, const char *data, size_t len, void *ud)
{
	struct ready *r = ud;

	(void)stream;
	if (!r->log_ok && health_logmatch_feed(&r->logm, data, len)) {
		r->log_ok = 1;
		evloop_wake(r->loop);
	}
}

/* ---- tcp and http probes ------------------------------------------------- */

static void probe_fd(int fd, short revents, void *ud);

/* Watch the socket of the attempt in progress, if any. */
static void rewatch(struct ready *r, struct health_probe *p,
                    struct evloop_fd **w, int *wfd)
{
	int fd = health_probe_fd(p);

	if (*w && fd != *wfd)
		unwatch(w);
	*wfd = fd;
	if (fd < 0)
		return;
	if (!*w)
		*w = evloop_fd_add(r->loop, fd, health_probe_events(p),
		                   probe_fd, r);
	else
		evloop_fd_events(*w, health_probe_events(p));
}

static void probe_result(struct ready *r, struct health_probe *p, int rc,
                         int *ok, int64_t *next, struct health_backoff *bo,
                         int64_t t)
{
	if (rc == 1) {
		*ok = 1;
		evloop_wake(r->loop);
	} else if (rc < 0) {
		buf_reset(&r->why);
		buf_addf(&r->why, "%s probe: %s",
		         p->kind == HEALTH_TCP ? "tcp" : "http",
		         health_probe_error(p));
		*next = t + health_backoff_next(bo);
		evloop_wake_at(r->loop, *next);
	}
}

static void probe_fd(int fd, short revents, void *ud)
{
	struct ready *r = ud;
	int64_t t = now_ms();

	if (r->tcp_on && fd == health_probe_fd(&r->tcp)) {
		probe_result(r, &r->tcp, health_probe_step(&r->tcp, revents, t),
		             &r->tcp_ok, &r->tcp_next, &r->tcp_bo, t);
		rewatch(r, &r->tcp, &r->tcp_w, &r->tcp_wfd);
	} else if (r->http_on && fd == health_probe_fd(&r->http)) {
		probe_result(r, &r->http,
		             health_probe_step(&r->http, revents, t),
		             &r->http_ok, &r->http_next, &r->http_bo, t);
		rewatch(r, &r->http, &r->http_w, &r->http_wfd);
	}
}

static void run_probe(struct ready *r, struct health_probe *p, int *ok,
                      int64_t *next, struct health_backoff *bo,
                      struct evloop_fd **w, int *wfd, int64_t t)
{
	int rc;

	if (*ok)
		return;
	if (health_probe_fd(p) < 0) {
		if (t < *next) {
			evloop_wake_at(r->loop, *next);
			return;
		}
		rc = health_probe_begin(p, t);
	} else if (t >= health_probe_deadline_ms(p)) {
		rc = health_probe_step(p, 0, t);
	} else {
		evloop_wake_at(r->loop, health_probe_deadline_ms(p));
		return;
	}
	probe_result(r, p, rc, ok, next, bo, t);
	if (rc == 0)
		evloop_wake_at(r->loop, health_probe_deadline_ms(p));
	rewatch(r, p, w, wfd);
}

/* ---- the whole -------------------------------------------------------------- */

void ready_begin(struct ready *r, const char *id, int64_t now)
{
	const struct mf_ready *rd = &r->spec->ready;
	long to_ms = rd->timeout_ns > 0 ? (long)(rd->timeout_ns / 1000000)
	                                : DEFAULT_READY_TIMEOUT_MS;

	ready_stop(r);
	free(r->id);
	r->id = xstrdup(id);
	free(r->failure);
	r->failure = NULL;
	buf_reset(&r->why);
	r->state = READY_WAITING;
	r->t_begin = now;
	r->deadline = now + to_ms;
	r->hc_ok = r->unhealthy = r->checked = 0;
	r->exec_ok = r->tcp_ok = r->http_ok = r->log_ok = 0;
	r->ports_known = 0;
	if (r->has_hc && r->hc_argv.n) {
		health_backoff_init(&r->hc_bo);
		r->hc_next = now;
	}
	if (rd->exec.n) {
		r->exec_on = 1;
		health_backoff_init(&r->exec_bo);
		r->exec_next = now;
	}
	if (rd->log_regex) {
		if (health_logmatch_init(&r->logm, rd->log_regex)) {
			fail(r, "%s", orch_error_last());
			return;
		}
		r->log_on = 1;
		/* the manifest has no tty: the stream is multiplexed */
		r->log_call =
		        engine_logs_start(r->e, id, 0, -1, 0, 1, on_log, r);
	}
	/* tcp and http wait for ready_ports() */
	r->ports_known = !rd->tcp_port && !rd->http_port;
	evloop_wake(r->loop);
}

void ready_ports(struct ready *r, int tcp_host_port, int http_host_port)
{
	const struct mf_ready *rd = &r->spec->ready;
	int64_t t = now_ms();

	if (r->state != READY_WAITING)
		return;
	/* again with other ports (remapped by a network attach): probe
	   those from now on */
	if (r->ports_known &&
	    (r->tcp.port != tcp_host_port || r->http.port != http_host_port)) {
		port_probes_release(r);
		r->ports_known = 0;
	}
	if (r->ports_known)
		return;
	r->ports_known = 1;
	if (rd->tcp_port && !r->tcp_ok) {
		if (!tcp_host_port) {
			fail(r, "port %d/tcp of the tcp probe is not published",
			     rd->tcp_port);
			return;
		}
		health_probe_init(&r->tcp, HEALTH_TCP, tcp_host_port, NULL, 0);
		health_backoff_init(&r->tcp_bo);
		r->tcp_on = 1;
		r->tcp_next = t;
	}
	if (rd->http_port && !r->http_ok) {
		if (!http_host_port) {
			fail(r,
			     "port %d/tcp of the http probe is not published",
			     rd->http_port);
			return;
		}
		health_probe_init(&r->http, HEALTH_HTTP, http_host_port,
		                  rd->http_path, rd->http_status);
		health_backoff_init(&r->http_bo);
		r->http_on = 1;
		r->http_next = t;
	}
	evloop_wake(r->loop);
}

void ready_health(struct ready *r, int healthy)
{
	if (r->state != READY_WAITING)
		return;
	if (healthy)
		r->hc_ok = 1;
	else if (!r->gated)
		/* behind the gate the streak began before the process: the
		 * deadline in ready_step() judges as the engine would have */
		r->unhealthy = 1;
	evloop_wake(r->loop);
}

/* a + b, a * b for non-negative values, stopping at INT64_MAX */
static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
	return b && a > INT64_MAX / b ? INT64_MAX : a * b;
}

/*
 * The earliest the engine would call it unhealthy, counted from its
 * process's start: the start period, then retries checks, each waiting
 * an interval after the previous one ended and running up to its
 * timeout.
 */
static int64_t hc_unhealthy_by(const struct ready *r)
{
	int64_t per = sat_add(r->hc_interval_ms, r->hc_timeout_ms);

	return sat_add(sat_add(r->t_begin, r->hc_start_period_ms),
	               sat_mul(per, r->hc_retries));
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* The inspect after "unhealthy" (its health log) or at the deadline. */
static int inspected(struct ready *r)
{
	struct engine_container_info info;
	int unhealthy = r->unhealthy;

	engine_container_inspect_result(r->inspect_call, &info);
	engine_call_drop(&r->inspect_call);
	if (unhealthy && info.health_log) {
		trim(info.health_log);
		fail(r, "unhealthy: %s", info.health_log);
	} else if (unhealthy) {
		fail(r, "unhealthy");
	} else if (info.health && !strcmp(info.health, "healthy")) {
		r->hc_ok = 1; /* the stream missed the event */
	}
	engine_container_info_release(&info);
	return r->state == READY_FAILED;
}

enum ready_state ready_step(struct ready *r, int64_t t)
{
	struct buf d = BUF_INIT;

	if (r->state != READY_WAITING)
		return r->state;
	if (r->inspect_call) {
		if (!engine_call_done(r->inspect_call) || inspected(r))
			return r->state;
	}
	if (r->log_call && r->log_ok)
		engine_call_drop(&r->log_call); /* seen what we waited for */
	if (r->gated && r->has_hc && !r->hc_ok) {
		int64_t by = hc_unhealthy_by(r);

		if (t >= by) {
			fail(r,
			     "unhealthy: not healthy %d checks after its "
			     "process began%s%s",
			     r->hc_retries, r->why.len ? ": " : "",
			     buf_cstr(&r->why));
			return r->state;
		}
		evloop_wake_at(r->loop, by);
	}
	if (r->unhealthy && !r->hc_ok) {
		r->inspect_call =
		        engine_container_inspect_start(r->e, r->id, NULL, NULL);
		return r->state;
	}
	if (r->ports_known && (!r->has_hc || r->hc_ok) &&
	    (!r->tcp_on || r->tcp_ok) && (!r->http_on || r->http_ok) &&
	    (!r->exec_on || r->exec_ok) && (!r->log_on || r->log_ok)) {
		ready_stop(r);
		r->state = READY_OK;
		return r->state;
	}
	if (t >= r->deadline && r->has_hc && !r->hc_ok && !r->checked) {
		/* a last look in case the stream missed the health event */
		r->checked = 1;
		r->inspect_call =
		        engine_container_inspect_start(r->e, r->id, NULL, NULL);
		return r->state;
	}
	if (t >= r->deadline) {
		format_duration(&d, (r->deadline - r->t_begin) * 1000000);
		if (r->why.len)
			fail(r, "not ready after %s: %s", buf_cstr(&d),
			     buf_cstr(&r->why));
		else if (r->has_hc && !r->hc_argv.n)
			fail(r, "not ready after %s: healthcheck not healthy",
			     buf_cstr(&d));
		else
			fail(r, "not ready after %s", buf_cstr(&d));
		buf_release(&d);
		return r->state;
	}
	evloop_wake_at(r->loop, r->deadline);
	if (r->tcp_on)
		run_probe(r, &r->tcp, &r->tcp_ok, &r->tcp_next, &r->tcp_bo,
		          &r->tcp_w, &r->tcp_wfd, t);
	if (r->http_on)
		run_probe(r, &r->http, &r->http_ok, &r->http_next, &r->http_bo,
		          &r->http_w, &r->http_wfd, t);
	run_execs(r, t);
	return r->state;
}
