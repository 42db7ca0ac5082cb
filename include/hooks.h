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
 *   hooks_start()   post_start and pre_stop hooks: each command run in
 *   hooks_run()     the running container through exec, in order, with
 *                   its user, working_dir and environment; the first that
 *                   fails stops the list. hooks_start() runs them as the
 *                   engine loop turns; hooks_run() is the same, run
 *                   until done (or interrupted) before it returns.
 *
 * Where env calls them: hooks_inject() once a create has returned the
 * container's id and before its start is sent; hooks_run() with the
 * post_start list once the container runs (its start returned, or its
 * gate released), before its readiness is looked for -- a failure fails
 * the service; the other services go on meanwhile (hooks_start()) --;
 * and with the pre_stop list before teardown stops and removes a running
 * container -- a failure does not keep the container (env says it as a
 * warning). hooks_inject() and hooks_run() are synchronous: they run the
 * engine loop until done, like every synchronous engine call.
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
/* when: "post_start" or "pre_stop", for messages; timeout_ms <= 0:
   HOOKS_TIMEOUT_MS for each hook. */
int hooks_run(struct engine *e, const char *id, const char *when,
              const struct mf_hook *hooks, size_t n, long timeout_ms);

/*
 * The same, asynchronously: hooks_start() starts the first hook, and
 * wake(ud) is called (from inside engine_wait()) whenever one has ended;
 * the caller's step then calls hooks_step(), which starts the next one
 * (never from an engine callback) and returns 1 once they are finished.
 * hooks must outlive the run. hooks_result() is then 0 or the first
 * failure's code, recorded again as the last error. hooks_free() stops a
 * run that has not finished (the hook's process keeps running in the
 * container, as after a timeout).
 */
struct hooks;
struct hooks *hooks_start(struct engine *e, const char *id, const char *when,
                          const struct mf_hook *hooks, size_t n,
                          long timeout_ms, void (*wake)(void *ud), void *ud);
int hooks_step(struct hooks *h);
int hooks_result(const struct hooks *h);
void hooks_free(struct hooks *h);

#endif
