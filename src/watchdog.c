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
 *
 * Besides the release byte, the lease carries one line per create in
 * flight ("+cNAME\n", kind c/n/v) and per answer ("-cNAME\n"): what the
 * engine makes for a create still unanswered when the owner died may
 * appear after the watchdog's removal listed the run, so it looks for
 * those names a while longer (watchdog_create_sent()).
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
#include "labels.h"
#include "teardown.h"
#include "util.h"

#define RELEASE_BYTE 'R'
/* how long the watchdog keeps trying when the engine does not answer */
#define RETRY_FOR_MS 60000
/* one teardown attempt may take this long */
#define ATTEMPT_MS 30000
/* how often the run is listed for objects of late creates */
#define LATE_POLL_MS 500
/* a lease line longer than this is no message of ours */
#define MAX_LINE 1024

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

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Mark (in found, one flag per pending entry) the pending creates whose
 * object the run has now; the number marked, or <0 when the engine
 * could not list.
 */
static int late_seen(struct engine *e, const char *run_id,
                     const struct strvec *pending, char *found)
{
	static const char kinds[] = { 'c', 'n', 'v' };
	struct engine_label l = { LABEL_RUN_ID, run_id };
	int n = 0;

	for (size_t k = 0; k < sizeof(kinds); k++) {
		struct engine_object_list list = { 0 };
		int rc;

		if (kinds[k] == 'c')
			rc = engine_container_list(e, &l, 1, &list);
		else if (kinds[k] == 'n')
			rc = engine_network_list(e, &l, 1, &list);
		else
			rc = engine_volume_list(e, &l, 1, &list);
		if (rc)
			return rc;
		for (size_t i = 0; i < pending->n; i++) {
			const char *want = pending->v[i];

			if (found[i] || want[0] != kinds[k])
				continue;
			for (size_t j = 0; j < list.n; j++)
				if (list.items[j].name &&
				    !strcmp(list.items[j].name, want + 1)) {
					found[i] = 1;
					n++;
					break;
				}
		}
		engine_object_list_release(&list);
	}
	return n;
}

/*
 * Creates that were in flight when the owner died: the engine may make
 * their objects only now. List the run every LATE_POLL_MS; each time one
 * of them shows up, remove the run again; until every one was removed or
 * WATCHDOG_LATE_MS passed.
 */
static void late_creates(const char *project, const char *run_id,
                         struct strvec *pending)
{
	int64_t until = now_ms() + WATCHDOG_LATE_MS;
	struct engine *e = NULL;
	char *found = NULL;

	while (pending->n && now_ms() < until) {
		struct teardown_opts o = { 0 };
		struct teardown_stats st = { 0 };
		struct strvec left = STRVEC_INIT;
		int n;

		nap_ms(LATE_POLL_MS);
		if (!e && (engine_new(&e, NULL) || engine_connect(e))) {
			engine_free(e);
			e = NULL;
			continue;
		}
		free(found);
		found = xcalloc(pending->n + 1, 1);
		n = late_seen(e, run_id, pending, found);
		if (n < 0) {
			/* the engine went away: connect again next time */
			engine_free(e);
			e = NULL;
		}
		if (n <= 0)
			continue;
		o.project = project;
		o.run_id = run_id;
		o.deadline_ms = ATTEMPT_MS;
		if (teardown_run(e, &o, &st)) {
			wlog(2, project, run_id,
			     "removing what late creates "
			     "made failed: %s",
			     orch_error_last());
			continue;
		}
		for (size_t i = 0; i < pending->n; i++) {
			if (found[i])
				wlog(2, project, run_id,
				     "removed %s '%s', made by a create "
				     "answered after its owner was gone",
				     pending->v[i][0] == 'c'   ? "container"
				     : pending->v[i][0] == 'n' ? "network"
				                               : "volume",
				     pending->v[i] + 1);
			else
				strvec_push(&left, pending->v[i]);
		}
		strvec_clear(pending);
		*pending = left;
	}
	for (size_t i = 0; i < pending->n; i++)
		wlog(2, project, run_id,
		     "no object made by the create of '%s' within %ds of its "
		     "owner's end: the engine failed it, or made it later "
		     "('orchestrate gc' removes it)",
		     pending->v[i] + 1, WATCHDOG_LATE_MS / 1000);
	free(found);
	engine_free(e);
}

/* One line of the lease: a create sent ("+KNAME") or answered ("-KNAME"). */
static void lease_line(struct strvec *pending, const char *line)
{
	int at;

	if (line[0] == '+' && line[1]) {
		strvec_push(pending, line + 1);
		return;
	}
	if (line[0] != '-' || (at = strvec_find(pending, line + 1)) < 0)
		return;
	free(pending->v[at]);
	for (size_t i = (size_t)at; i < pending->n; i++)
		pending->v[i] = pending->v[i + 1];
	pending->n--;
}

static void __attribute__((noreturn))
watchdog_main(int lease, int report, const char *project, const char *run_id)
{
	struct strvec pending = STRVEC_INIT;
	char chunk[512], line[MAX_LINE + 1];
	size_t len = 0;
	int rc;
	pid_t self;
	ssize_t n;

	detach(&lease, &report);
	/* armed and detached: now watchdog_start() may return */
	self = getpid();
	if (write(report, &self, sizeof(self)) != sizeof(self))
		_exit(1);
	close(report);
	for (;;) {
		n = read(lease, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (len == 0 && chunk[i] == RELEASE_BYTE)
				_exit(0);
			if (chunk[i] != '\n') {
				if (len < MAX_LINE)
					line[len++] = chunk[i];
				continue;
			}
			line[len] = '\0';
			lease_line(&pending, line);
			len = 0;
		}
	}
	rc = teardown_with_retries(project, run_id);
	if (rc != ORCH_EINVALID)
		late_creates(project, run_id, &pending);
	_exit(rc ? 1 : 0);
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

/* One message on the lease; a watchdog that died already must not kill
 * us with SIGPIPE. */
static void lease_write(struct watchdog *w, const char *data, size_t len)
{
	sigset_t pipe_set, old;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	if (write(w->fd, data, len) < 0 && errno == EPIPE) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void create_note(struct watchdog *w, char sign, char kind,
                        const char *name)
{
	char *msg;

	/* a line is at most PIPE_BUF bytes: written whole */
	if (!w || !name || strchr(name, '\n') || strlen(name) > MAX_LINE - 2)
		return;
	msg = xasprintf("%c%c%s\n", sign, kind, name);
	lease_write(w, msg, strlen(msg));
	free(msg);
}

void watchdog_create_sent(struct watchdog *w, char kind, const char *name)
{
	create_note(w, '+', kind, name);
}

void watchdog_create_answered(struct watchdog *w, char kind, const char *name)
{
	create_note(w, '-', kind, name);
}

void watchdog_release(struct watchdog *w)
{
	char c = RELEASE_BYTE;

	if (!w)
		return;
	lease_write(w, &c, 1);
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
