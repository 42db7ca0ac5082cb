/*
 * signals.h: SIGINT, SIGTERM and SIGHUP for a command that owns a run
 * (`up`, `test`). The handler does three async-signal-safe things: it
 * writes the signal number to a self-pipe (an event loop polls its read
 * end), wakes the engine's loop, and -- while armed -- interrupts the
 * engine's synchronous calls (engine_interrupt()). A second signal exits
 * the process at once (130 for SIGINT, 143 otherwise), leaving the run
 * to the watchdog.
 *
 * One set per process: signals_install() once, with the engine whose
 * calls a signal should interrupt.
 */
#ifndef ORCH_SIGNALS_H
#define ORCH_SIGNALS_H

struct engine;

/* Returns the self-pipe's read end (readable once a signal came), or a
   negative code. */
int signals_install(struct engine *e);
/* The read end, -1 before signals_install(). */
int signals_fd(void);
/* The first signal received, 0 if none. */
int signals_first(void);
/* The exit status for a signal: 130 for SIGINT, 143 otherwise. */
int signals_exit_status(int signo);
/* "SIGINT", "SIGTERM", "SIGHUP" */
const char *signals_name(int signo);

/*
 * While armed, a signal also interrupts the engine's synchronous calls
 * (one that came before arming does so at once); disarming accepts the
 * interruption (engine_interrupt_clear()), so that a teardown after it
 * runs to its end.
 */
void signals_arm(void);
void signals_disarm(void);

#endif
