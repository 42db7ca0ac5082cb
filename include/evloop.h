/*
 * evloop.h: the one event loop of a run. It waits on the engine's calls
 * (engine_wait()), on the file descriptors its users watch (the signal
 * pipe, probe sockets, a host suite's output pipes) and until the
 * earliest deadline any user asked for -- all in one thread, so env,
 * readiness probes and the suite runner progress together.
 *
 * Users follow one pattern: do a step of their own work (which may
 * submit calls, add or remove fd watches and call evloop_wake_at()),
 * then evloop_turn(). Deadlines are hints for one turn: evloop_turn()
 * forgets them, and each step announces what it still needs.
 *
 * Engine call callbacks run inside evloop_turn() (from engine_wait());
 * fd callbacks run after it, in the order the fds were added.
 */
#ifndef ORCH_EVLOOP_H
#define ORCH_EVLOOP_H

#include <stdint.h>

struct engine;
struct evloop;
struct evloop_fd;

typedef void (*evloop_fd_fn)(int fd, short revents, void *ud);

struct evloop *evloop_new(struct engine *e);
/* Watches still added are dropped. Accepts NULL. */
void evloop_free(struct evloop *l);
struct engine *evloop_engine(const struct evloop *l);

/* Watch fd for events (POLLIN, POLLOUT); never NULL. */
struct evloop_fd *evloop_fd_add(struct evloop *l, int fd, short events,
                                evloop_fd_fn fn, void *ud);
void evloop_fd_events(struct evloop_fd *w, short events);
/* Stop watching (safe from any callback). Accepts NULL. */
void evloop_fd_remove(struct evloop_fd *w);

/* The next evloop_turn() returns by at (monotonic ms) at the latest. */
void evloop_wake_at(struct evloop *l, int64_t at);
/* The next evloop_turn() does not sleep. */
void evloop_wake(struct evloop *l);

/*
 * Wait until a call finishes, a watched fd is ready, the earliest wake
 * time comes, or max_ms passes (-1: at most one second), then run the
 * callbacks of the ready fds. 0, or a negative code when the engine's
 * loop failed.
 */
int evloop_turn(struct evloop *l, int max_ms);

#endif
