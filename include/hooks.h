/*
 * hooks.h: what happens to a service's container around its life that
 * the engine does not do by itself, as Compose does it:
 *
 *   hooks_inject()  the secrets and configs whose value is not a file
 *                   (environment:, content:) copied into a created
 *                   container, before it starts, read-only at their
 *                   target with their uid, gid and mode (those from a
 *                   file are bind mounts: spec.c); then the container
 *                   attached to the external networks it names, under
 *                   the service's name and aliases (the run's own
 *                   network is in the create);
 *   hooks_run()     post_start and pre_stop hooks: each command run in
 *                   the running container through exec, in order, with
 *                   its user, working_dir and environment; the first that
 *                   fails stops the list.
 *
 * Where env calls them: hooks_inject() once a create has returned the
 * container's id and before its start is sent; hooks_run() with the
 * post_start list once the container runs (its start returned, or its
 * gate released), before its readiness is looked for -- a failure fails
 * the service --; and with the pre_stop list before teardown stops and
 * removes a running container -- a failure does not keep the container
 * (env ignores it). Synchronous: they run the engine loop until done,
 * like every synchronous engine call.
 *
 * Returns 0, or the engine's code with the reason recorded, without the
 * service's name (the caller's message has it); a hook that exits
 * non-zero is ORCH_EENGINE with its status and the last line of its
 * output.
 */
#ifndef ORCH_HOOKS_H
#define ORCH_HOOKS_H

#include <stddef.h>

struct engine;
struct mf_container;
struct mf_hook;

/* The longest a hook may run before it counts as failed. */
#define HOOKS_TIMEOUT_MS (5L * 60 * 1000)

/* names: NULL-terminated, what the container answers to on the external
   networks (the service's name, then its aliases) */
int hooks_inject(struct engine *e, const char *id, char *const *names,
                 const struct mf_container *c);
/* when: "post_start" or "pre_stop", for messages. */
int hooks_run(struct engine *e, const char *id, const char *when,
              const struct mf_hook *hooks, size_t n, long timeout_ms);

#endif
