/*
 * ready.h: whether one running container is ready -- its Docker
 * healthcheck (run by us through exec as well, because the engine waits
 * a whole interval before its first check, and judged from the engine's
 * health events too) and its `ready:` probes (tcp, http, exec, log) --
 * with the deadline `ready.timeout` sets and the reason of the last
 * failure for the message.
 *
 * Driven by its owner (env.c) on the run's event loop: ready_begin()
 * when the container's process starts (or to check it again after a
 * dependency was swapped), ready_ports() once the published ports are
 * known, ready_health() for the engine's health events, then
 * ready_step() after every loop turn until it says READY_OK or
 * READY_FAILED. It submits exec and log calls and watches probe sockets
 * itself; it never decides anything about the container's life (a death
 * is the owner's business).
 */
#ifndef ORCH_READY_H
#define ORCH_READY_H

#include <stdint.h>

#include "engine_ops.h"
#include "health.h"
#include "util.h"

struct evloop;
struct evloop_fd;
struct mf_container;

enum ready_state {
	READY_IDLE,    /* not begun, or stopped */
	READY_WAITING, /* checks running */
	READY_OK,
	READY_FAILED,
};

struct ready {
	struct engine *e;
	struct evloop *loop;
	const struct mf_container *spec; /* the manifest's, for ready: */
	char *id;                        /* the container */
	enum ready_state state;
	char *failure; /* READY_FAILED: "not ready after 30s: ..." */

	/* the healthcheck as the container runs it: the manifest's merged
	   over the image's, as the engine merges them */
	int has_hc;
	struct strvec hc_argv; /* empty: a test we cannot run ourselves */
	long hc_timeout_ms, hc_interval_ms, hc_start_period_ms;
	int hc_retries;
	/* behind the gate the engine's failing streak began before the
	   process did: its "unhealthy" is not trusted (ready_configure()) */
	int gated;

	int64_t t_begin, deadline;
	int hc_ok, unhealthy, checked;
	struct engine_exec *hc_exec;
	struct health_backoff hc_bo;
	int64_t hc_next;
	int exec_on, exec_ok;
	struct engine_exec *ready_exec;
	struct health_backoff exec_bo;
	int64_t exec_next;
	int tcp_on, tcp_ok, http_on, http_ok, ports_known;
	struct health_probe tcp, http;
	struct health_backoff tcp_bo, http_bo;
	int64_t tcp_next, http_next;
	struct evloop_fd *tcp_w, *http_w;
	int tcp_wfd, http_wfd; /* the sockets they watch */
	int log_on, log_ok;
	struct health_logmatch logm;
	struct engine_call *log_call;
	struct engine_call *inspect_call; /* the health log, or a last look */
	struct buf why; /* the last probe failure, for timeouts */
};

void ready_init(struct ready *r, struct engine *e, struct evloop *loop);
void ready_release(struct ready *r);

/*
 * What to check: the container's spec (its healthcheck and ready:),
 * merged over the image's healthcheck (img may be NULL: none).
 */
void ready_configure(struct ready *r, const struct mf_container *spec,
                     const struct engine_image *img, int gated);
/* Anything to check at all (a healthcheck or a probe)? */
int ready_has_checks(const struct ready *r);
/* Probes that need a published port: the ports the engine must publish. */
int ready_tcp_port(const struct ready *r);
int ready_http_port(const struct ready *r);

/* Begin checking container id from now: a new deadline, fresh probes. */
void ready_begin(struct ready *r, const char *id, int64_t now);
/* The host ports of the tcp and http probes (0 when not published). */
void ready_ports(struct ready *r, int tcp_host_port, int http_host_port);
/* The engine's health_status events of the container. */
void ready_health(struct ready *r, int healthy);
/*
 * Advance; returns the state. READY_FAILED leaves the reason in
 * r->failure ("not ready after 30s: healthcheck 'pg_isready' exited 2",
 * "unhealthy: ..."). Asks the loop to wake for its next deadline.
 */
enum ready_state ready_step(struct ready *r, int64_t now);
/* Stop every check (probes, execs, the log stream); keeps the config. */
void ready_stop(struct ready *r);

#endif
