/*
 * evloop.c: the run's event loop (evloop.h) over engine_wait(), which
 * polls curl's sockets and ours together.
 */
#include "evloop.h"

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "util.h"

struct evloop_fd {
	struct evloop *l;
	int fd;
	short events;
	evloop_fd_fn fn;
	void *ud;
	int removed;
};

struct evloop {
	struct engine *e;
	struct evloop_fd **w;
	size_t n, alloc;
	int64_t wake_at; /* -1: none */
	int dispatching;
	struct engine_pollfd *pfd;
	struct evloop_fd **owner;
	size_t pfd_alloc;
};

struct evloop *evloop_new(struct engine *e)
{
	struct evloop *l = xcalloc(1, sizeof(*l));

	l->e = e;
	l->wake_at = -1;
	return l;
}

void evloop_free(struct evloop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->w[i]);
	free(l->w);
	free(l->pfd);
	free(l->owner);
	free(l);
}

struct engine *evloop_engine(const struct evloop *l)
{
	return l->e;
}

struct evloop_fd *evloop_fd_add(struct evloop *l, int fd, short events,
                                evloop_fd_fn fn, void *ud)
{
	struct evloop_fd *w = xcalloc(1, sizeof(*w));

	w->l = l;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->ud = ud;
	ALLOC_GROW(l->w, l->n + 1, l->alloc);
	l->w[l->n++] = w;
	return w;
}

void evloop_fd_events(struct evloop_fd *w, short events)
{
	w->events = events;
}

/* Drop removed watches, unless a dispatch still walks the array. */
static void compact(struct evloop *l)
{
	size_t k = 0;

	if (l->dispatching)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->w[i]->removed)
			free(l->w[i]);
		else
			l->w[k++] = l->w[i];
	}
	l->n = k;
}

void evloop_fd_remove(struct evloop_fd *w)
{
	if (!w)
		return;
	w->removed = 1;
	w->fn = NULL;
	compact(w->l);
}

void evloop_wake_at(struct evloop *l, int64_t at)
{
	if (l->wake_at < 0 || at < l->wake_at)
		l->wake_at = at;
}

void evloop_wake(struct evloop *l)
{
	evloop_wake_at(l, 0);
}

int evloop_turn(struct evloop *l, int max_ms)
{
	unsigned n = 0;
	int timeout = max_ms < 0 ? 1000 : max_ms;
	int rc;

	if (l->wake_at >= 0) {
		int64_t d = l->wake_at - now_ms();

		if (d < timeout)
			timeout = d < 0 ? 0 : (int)d;
	}
	l->wake_at = -1;
	if (l->pfd_alloc < l->n) {
		l->pfd_alloc = l->n;
		l->pfd = xrealloc(l->pfd, l->pfd_alloc * sizeof(*l->pfd));
		l->owner = xrealloc(l->owner, l->pfd_alloc * sizeof(*l->owner));
	}
	for (size_t i = 0; i < l->n; i++) {
		struct evloop_fd *w = l->w[i];

		if (w->removed || w->fd < 0 || !w->events)
			continue;
		l->owner[n] = w;
		l->pfd[n++] = (struct engine_pollfd){ w->fd, w->events, 0 };
	}
	/* callbacks of engine calls may remove watches: keep them until
	   the owners below are looked at */
	l->dispatching = 1;
	rc = engine_wait(l->e, l->pfd, n, timeout);
	for (unsigned i = 0; i < n; i++) {
		struct evloop_fd *w = l->owner[i];

		if (rc >= 0 && l->pfd[i].revents && !w->removed && w->fn)
			w->fn(w->fd, l->pfd[i].revents, w->ud);
	}
	l->dispatching = 0;
	compact(l);
	return rc < 0 ? rc : 0;
}
