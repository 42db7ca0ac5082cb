/*
 * health.h: readiness probes that orchestrate runs itself, as non-blocking
 * state machines for the caller's poll loop (env.c), plus the pure pieces
 * they are made of.
 *
 * What lives here: the probe backoff schedule, the tcp and http probes on
 * a published 127.0.0.1 port (a non-blocking socket the caller polls), the
 * log-line matcher of `ready: {log: REGEX}`, and the translation of a
 * Docker healthcheck test into an argv for exec. What does not: exec
 * probes and log streams go through the engine (env.c starts them), and
 * nothing here sleeps, prints or decides when a service is ready.
 *
 * A tcp probe through a published port cannot trust connect() alone: the
 * engine's userland proxy accepts the connection even when nothing
 * listens in the container, then closes it when its own dial fails. So a
 * connected tcp probe watches the socket for HEALTH_TCP_CONFIRM_MS: EOF or
 * a reset in that window is a failure; data, or silence, is success.
 */
#ifndef ORCH_HEALTH_H
#define ORCH_HEALTH_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define HEALTH_BACKOFF_MIN_MS 5
#define HEALTH_BACKOFF_MAX_MS 100
#define HEALTH_TCP_CONFIRM_MS 40
/* One probe attempt (connect + request + answer) may take this long. */
#define HEALTH_ATTEMPT_TIMEOUT_MS 2000

/*
 * Backoff between probe attempts: 5 ms, 10, 20, ... capped at 100 ms.
 * Fast at first because most services become ready within a few hundred
 * milliseconds of start, bounded so a slow one costs little polling.
 */
struct health_backoff {
	int next_ms;
};
void health_backoff_init(struct health_backoff *b);
/* The delay before the next attempt; advances the schedule. */
int health_backoff_next(struct health_backoff *b);

/*
 * A healthcheck test (["CMD", a, b], ["CMD-SHELL", s]) as the argv to run
 * through exec: CMD -> [a, b], CMD-SHELL -> ["/bin/sh", "-c", s].
 * ORCH_ENOTFOUND for ["NONE"], an empty test and anything unrecognised
 * (there is then nothing to run).
 */
int health_test_argv(char *const *test, size_t n, struct strvec *argv);

/*
 * Parse the status line of an HTTP/1.x response at the start of data.
 * Returns 1 with *status set, 0 when more bytes are needed, ORCH_EINVALID
 * when it is not an HTTP status line.
 */
int health_http_status(const char *data, size_t len, int *status);

enum health_probe_kind {
	HEALTH_TCP,
	HEALTH_HTTP,
};

/*
 * One tcp or http probe of 127.0.0.1:port. Caller-owned:
 *   health_probe_init()     once
 *   health_probe_begin()    start an attempt (opens a socket)
 *   poll health_probe_fd() for health_probe_events(); on readiness, or
 *   when health_probe_deadline_ms() passes, call health_probe_step()
 *   ... 1: passed; 0: still in progress; <0: this attempt failed
 *   (health_probe_error() says why; begin() again after a backoff)
 *   health_probe_release()
 */
struct health_probe {
	enum health_probe_kind kind;
	int port;
	char *path;
	int expect; /* http status */
	int fd;
	int phase; /* private */
	int64_t deadline_ms;
	struct buf out;
	size_t sent;
	struct buf in;
	char error[256];
};

void health_probe_init(struct health_probe *p, enum health_probe_kind kind,
                       int port, const char *path, int expect);
void health_probe_release(struct health_probe *p);
/* 1 passed at once, 0 in progress, <0 failed. */
int health_probe_begin(struct health_probe *p, int64_t now);
/* -1 when no attempt is in progress. */
int health_probe_fd(const struct health_probe *p);
short health_probe_events(const struct health_probe *p);
/* Monotonic ms at which step() must be called even without events. */
int64_t health_probe_deadline_ms(const struct health_probe *p);
int health_probe_step(struct health_probe *p, short revents, int64_t now);
/* Close the socket of an attempt in progress. */
void health_probe_abort(struct health_probe *p);
const char *health_probe_error(const struct health_probe *p);

/*
 * Line matcher for `ready: {log: REGEX}` (POSIX extended): feed the
 * container's output in arbitrary chunks; each complete line (and a final
 * partial line longer than the line cap) is tested.
 */
struct health_logmatch {
	regex_t re;
	int compiled;
	int matched;
	struct buf line;
};
/* ORCH_EINVALID with regerror()'s text for a bad expression. */
int health_logmatch_init(struct health_logmatch *m, const char *regex);
/* 1 once any line matched. */
int health_logmatch_feed(struct health_logmatch *m, const char *data,
                         size_t len);
void health_logmatch_release(struct health_logmatch *m);

#endif
