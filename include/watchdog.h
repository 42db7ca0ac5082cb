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

struct watchdog;

int watchdog_start(const char *project, const char *run_id,
                   struct watchdog **out);
/* Tell the watchdog to exit without removing anything; frees w. */
void watchdog_release(struct watchdog *w);

#endif
