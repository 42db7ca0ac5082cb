/*
 * signals.c: the self-pipe signal handler of a command that owns a run
 * (signals.h). Nothing else is done in the handler.
 */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "error.h"

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_first;
static volatile sig_atomic_t sig_count;
static struct engine *volatile sig_engine;
static volatile sig_atomic_t sig_armed;

int signals_exit_status(int signo)
{
	return signo == SIGINT ? 130 : 143;
}

const char *signals_name(int signo)
{
	return signo == SIGINT   ? "SIGINT"
	       : signo == SIGHUP ? "SIGHUP"
	                         : "SIGTERM";
}

static void on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	if (sig_count++ > 0)
		_exit(signals_exit_status(signo)); /* second signal: at once */
	sig_first = signo;
	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe holds the first byte already; nothing to do */
	}
	if (sig_engine && sig_armed)
		engine_interrupt(sig_engine);
	else if (sig_engine)
		engine_wakeup(sig_engine);
	errno = saved;
}

int signals_install(struct engine *e)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK))
		return orch_error_set("signal pipe: %s", strerror(errno));
	sig_engine = e;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	return sig_pipe[0];
}

int signals_fd(void)
{
	return sig_pipe[0];
}

int signals_first(void)
{
	return sig_first;
}

void signals_arm(void)
{
	if (!sig_engine)
		return;
	sig_armed = 1;
	/* one that came before: its handler did not interrupt the engine */
	if (sig_first)
		engine_interrupt(sig_engine);
}

void signals_disarm(void)
{
	if (!sig_armed)
		return;
	sig_armed = 0;
	engine_interrupt_clear(sig_engine);
}
