/*
 * watchdog.h: the out-of-process lease holder that removes a run after
 * orchestrate itself was killed (SIGKILL, crash), where no code of ours
 * can run.
 *
 * watchdog_start() forks a detached process (its own session, reparented
 * away from our process tree, so a CI runner killing our tree does not
 * reach it) holding the read end of a pipe whose write end we keep. When
 * the pipe reaches EOF without a release message, our process is gone:
 * the watchdog removes every object of the run (teardown_run) within a
 * few seconds and exits. No container with the Docker socket mounted.
 *
 *   watchdog_start()    before the first object of the run is created
 *   watchdog_release()  the run is kept on purpose (`up` succeeded) or
 *                       was torn down by us: the watchdog exits quietly
 */
#ifndef ORCH_WATCHDOG_H
#define ORCH_WATCHDOG_H

#include <sys/types.h>

struct watchdog;

/*
 * When it returns 0 the watchdog is armed: it holds the lease, has left
 * our session and process group, holds none of our other descriptors
 * (stdin, stdout and stderr are /dev/null, or stderr goes to the log:
 * ORCHESTRATE_WATCHDOG_LOG, else $XDG_RUNTIME_DIR/orchestrate-watchdog.log
 * when XDG_RUNTIME_DIR is set) and ignores SIGINT, SIGHUP, SIGTERM and
 * SIGQUIT. After our death it retries the teardown for up to 60 s while
 * the engine does not answer, then exits; `gc` or the next `up` of the
 * project removes what is still left.
 *
 * The watchdog connects to the engine the environment names
 * (DOCKER_HOST, else the default socket), as the commands do.
 *
 * The write end of the lease is close-on-exec: programs we spawn do not
 * hold it, but a child we fork without exec does until it exits.
 */
int watchdog_start(const char *project, const char *run_id,
                   struct watchdog **out);
/* Tell the watchdog to exit without removing anything; frees w. Accepts
 * NULL. */
void watchdog_release(struct watchdog *w);
/*
 * The run is not removed and we are about to exit: free w but keep the
 * lease open, so that the kernel closes it when we are gone and the
 * watchdog removes the run then. Accepts NULL.
 */
void watchdog_leave(struct watchdog *w);
/*
 * Creates in flight when we may die: the engine completes a create whose
 * client went away, so what it makes can appear after we exited, when
 * the watchdog's removal has already listed the run. Tell the watchdog of
 * each such create (kind 'c' container, 'n' network, 'v' volume, and the
 * name it creates) and of its answer: if we die before releasing it, the
 * watchdog removes the run, then waits up to WATCHDOG_LATE_MS for every
 * create still unanswered to make its object, and removes that too (a
 * create that fails makes nothing: it waits out the bound). Names must not
 * contain a newline. Accept NULL.
 */
#define WATCHDOG_LATE_MS 30000
void watchdog_create_sent(struct watchdog *w, char kind, const char *name);
void watchdog_create_answered(struct watchdog *w, char kind, const char *name);
/* The watchdog's process id (for messages and tests). */
pid_t watchdog_pid(const struct watchdog *w);

#endif
