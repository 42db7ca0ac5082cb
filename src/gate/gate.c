/*
 * gate.c: orchestrate-gate, the entrypoint of a service that waits for its
 * dependencies. `gate GOFILE -- ARGV...` waits until GOFILE exists, then
 * becomes ARGV (execvp, environment kept), so the container can be started
 * early -- its network set up off the critical path -- while its real
 * process begins only when orchestrate copies GOFILE in (README,
 * "Lifecycle").
 *
 * Linked statically and copied into containers of any image, so it uses
 * no stdio and nothing from the image.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often to look for GOFILE: cheap, and far below a start's cost. */
#define POLL_NS 2000000L

static void say(const char *a, const char *b, const char *c)
{
	/* best effort: there is nothing to do when stderr is gone */
	if (write(2, a, strlen(a)) < 0 || write(2, b, strlen(b)) < 0 ||
	    write(2, c, strlen(c)) < 0)
		return;
}

/* Held processes leave at once, so down and stop stay fast. */
static void on_signal(int signo)
{
	_exit(128 + signo);
}

int main(int argc, char **argv)
{
	struct timespec ts = { 0, POLL_NS };
	struct sigaction sa;
	struct stat st;

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		say("usage: orchestrate-gate GOFILE -- PROGRAM [ARG...]", "",
		    "\n");
		return 125;
	}
	/* as PID 1 an unhandled SIGTERM would be ignored */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	while (stat(argv[1], &st) != 0)
		nanosleep(&ts, NULL);

	/* exec resets caught signals to their defaults */
	execvp(argv[3], argv + 3);
	say("orchestrate-gate: exec ", argv[3], ": ");
	say(strerror(errno), "", "\n");
	/* the shell's and Docker's codes: 127 not found, 126 not runnable */
	return errno == ENOENT || errno == ENOTDIR ? 127 : 126;
}
