/*
 * watchdog.c: the lease holder that removes a run after orchestrate was
 * killed (watchdog.h).
 *
 * The lease is a pipe: we keep the write end, the watchdog blocks reading
 * the other. The kernel closes our end however we die, so EOF without the
 * release byte means "the owner is gone" -- the Ryuk protocol without a
 * container holding the Docker socket. The watchdog is a forked copy of
 * us that owns nothing of ours (no descriptors, no session, no process
 * group) and opens its own engine connection only when it has work to do.
 * It deliberately does not watch the engine or the run while it waits.
 */
#include "watchdog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine_ops.h"
#include "error.h"
#include "teardown.h"
#include "util.h"

#define RELEASE_BYTE 'R'
/* how long the watchdog keeps trying when the engine does not answer */
#define RETRY_FOR_MS 60000
/* one teardown attempt may take this long */
#define ATTEMPT_MS 30000

struct watchdog {
	int fd; /* write end of the lease */
	pid_t pid;
};

static void wlog(int fd, const char *project, const char *run_id,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void wlog(int fd, const char *project, const char *run_id,
                 const char *fmt, ...)
{
	char stamp[32] = "";
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if (gmtime_r(&t, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	dprintf(fd,
	        "%s orchestrate watchdog %ld: project '%s' run '%s': ", stamp,
	        (long)getpid(), project, run_id);
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
	dprintf(fd, "\n");
}

/* Close every descriptor above 2 except a and b. */
static void close_all_except(int a, int b)
{
	unsigned lo = 3;
	int keep[2] = { a < b ? a : b, a < b ? b : a };

#ifdef SYS_close_range
	for (int i = 0; i < 2; i++) {
		if ((unsigned)keep[i] > lo &&
		    syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0))
			goto slow;
		lo = (unsigned)keep[i] + 1;
	}
	if (syscall(SYS_close_range, lo, ~0U, 0) == 0)
		return;
slow :
#endif
{
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (long fd = 3; fd < max; fd++)
		if (fd != a && fd != b)
			close((int)fd);
}
}

static int open_log(void)
{
	const char *path = getenv("ORCHESTRATE_WATCHDOG_LOG");
	const char *dir = getenv("XDG_RUNTIME_DIR");
	char buf[4096];
	int fd = -1;

	/* $XDG_RUNTIME_DIR is private to the user; a shared /tmp is not
	 * used by default (a planted symlink there would be followed) */
	if ((!path || !*path) && dir && *dir == '/') {
		snprintf(buf, sizeof(buf), "%s/orchestrate-watchdog.log", dir);
		path = buf;
	}
	if (path && *path)
		fd = open(path,
		          O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		                  O_CLOEXEC,
		          0600);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return fd;
}

/* fd moved out of 0-2, which are about to be replaced */
static int above2(int fd)
{
	return fd >= 0 && fd < 3 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
}

/* The descriptors and signals of a process that must outlive us. */
static void detach(int *lease, int *report)
{
	struct sigaction sa;
	sigset_t none;
	int null, log;

	/* ours move above 2 before 0-2 are replaced (a parent that closed
	 * its stdin may have received one of them as 0) */
	*lease = fcntl(*lease, F_DUPFD_CLOEXEC, 3);
	*report = fcntl(*report, F_DUPFD_CLOEXEC, 3);
	null = above2(open("/dev/null", O_RDWR | O_CLOEXEC));
	log = above2(open_log());
	/* stdout/stderr may be a test harness's or CI's pipe: holding them
	 * would keep its reader waiting for EOF until we exit */
	dup2(null, 0);
	dup2(null, 1);
	dup2(log, 2);
	close_all_except(*lease, *report);
	/* holding our working directory would keep its mount busy */
	if (chdir("/") != 0)
		errno = 0;
	umask(077);

	/* the terminal's and the CI runner's signals to our group are not
	 * for the watchdog: it ends on the lease alone (or SIGKILL) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGTSTP, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	sigaction(SIGTTOU, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int teardown_with_retries(const char *project, const char *run_id)
{
	int64_t until = now_ms() + RETRY_FOR_MS;
	long backoff = 250;
	int rc;

	for (;;) {
		struct teardown_opts o = { 0 };
		struct teardown_stats st = { 0 };
		struct engine *e = NULL;
		int64_t left = until - now_ms();

		o.project = project;
		o.run_id = run_id;
		o.deadline_ms = left < ATTEMPT_MS ? left : ATTEMPT_MS;
		if (o.deadline_ms < 1000)
			o.deadline_ms = 1000;
		rc = engine_new(&e, NULL);
		if (rc == 0)
			rc = engine_connect(e);
		if (rc == 0)
			rc = teardown_run(e, &o, &st);
		engine_free(e);
		if (rc == 0) {
			wlog(2, project, run_id,
			     "owner gone; removed %zu containers, %zu networks, "
			     "%zu volumes",
			     st.containers, st.networks, st.volumes);
			return 0;
		}
		wlog(2, project, run_id, "teardown failed: %s",
		     orch_error_last());
		if (rc == ORCH_EINVALID || now_ms() + backoff >= until)
			return rc;
		{
			struct timespec ts = { backoff / 1000,
				               (backoff % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
		if (backoff < 4000)
			backoff *= 2;
	}
}

static void __attribute__((noreturn))
watchdog_main(int lease, int report, const char *project, const char *run_id)
{
	pid_t self;
	char c;
	ssize_t n;

	detach(&lease, &report);
	/* armed and detached: now watchdog_start() may return */
	self = getpid();
	if (write(report, &self, sizeof(self)) != sizeof(self))
		_exit(1);
	close(report);
	for (;;) {
		n = read(lease, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n == 1 && c == RELEASE_BYTE)
		_exit(0);
	_exit(teardown_with_retries(project, run_id) ? 1 : 0);
}

int watchdog_start(const char *project, const char *run_id,
                   struct watchdog **out)
{
	int lease[2] = { -1, -1 }, report[2] = { -1, -1 };
	struct watchdog *w = NULL;
	pid_t mid, pid = 0;
	int rc = 0, status;
	ssize_t n;

	*out = NULL;
	if (!project || !*project || !run_id || !*run_id)
		return orch_error_code(ORCH_EINVALID,
		                       "watchdog needs a project and a run id");
	if (pipe2(lease, O_CLOEXEC) || pipe2(report, O_CLOEXEC)) {
		rc = orch_error_set("watchdog: pipe: %s", strerror(errno));
		goto out;
	}
	mid = fork();
	if (mid < 0) {
		rc = orch_error_set("watchdog: fork: %s", strerror(errno));
		goto out;
	}
	if (mid == 0) {
		/* the intermediate child: a new session, then the watchdog
		 * is forked and this process exits, so the watchdog is
		 * reparented to init (or the nearest subreaper) and is in
		 * no process group a runner would kill */
		pid_t wd;

		close(lease[1]);
		close(report[0]);
		setsid();
		wd = fork();
		if (wd == 0)
			watchdog_main(lease[0], report[1], project, run_id);
		_exit(wd < 0 ? 1 : 0);
	}
	close(lease[0]);
	lease[0] = -1;
	close(report[1]);
	report[1] = -1;
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	do {
		n = read(report[0], &pid, sizeof(pid));
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(pid)) {
		rc = orch_error_set("watchdog: the watchdog process did not "
		                    "start");
		goto out;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = lease[1];
	w->pid = pid;
	lease[1] = -1;
	*out = w;
out:
	for (int i = 0; i < 2; i++) {
		if (lease[i] >= 0)
			close(lease[i]);
		if (report[i] >= 0)
			close(report[i]);
	}
	return rc;
}

void watchdog_release(struct watchdog *w)
{
	sigset_t pipe_set, old;
	char c = RELEASE_BYTE;

	if (!w)
		return;
	/* a watchdog that died already must not kill us with SIGPIPE */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	if (write(w->fd, &c, 1) < 0 && errno == EPIPE) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(w->fd);
	free(w);
}

void watchdog_leave(struct watchdog *w)
{
	/* w->fd stays open on purpose: its closing at exit is the signal */
	free(w);
}

pid_t watchdog_pid(const struct watchdog *w)
{
	return w ? w->pid : -1;
}
