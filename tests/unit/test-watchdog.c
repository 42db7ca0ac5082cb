/*
 * test-watchdog.c: the watchdog's process mechanics without an engine:
 * it is detached (not our child, own session, only the lease open),
 * exits on release, waits for our exit when left, and on EOF without
 * release tries the teardown (here against an address where no engine
 * answers, so it logs the failure and keeps retrying; the test then
 * ends it by its pid).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "util.h"
#include "watchdog.h"

static char log_path[] = "/tmp/orch-test-watchdog-XXXXXX";

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Field n (1-based) of /proc/PID/stat, after the command name. */
static long stat_field(pid_t pid, int n)
{
	char path[64], data[1024];
	const char *p;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, data, sizeof(data) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	data[len] = '\0';
	p = strrchr(data, ')');
	for (int field = 2; field < n && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtol(p + 1, NULL, 10) : -1;
}

/* Gone, or a zombie whose new parent has not reaped it yet. */
static int gone(pid_t pid)
{
	char path[64], data[256];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	len = read(fd, data, sizeof(data) - 1);
	close(fd);
	if (len <= 0)
		return 1;
	data[len] = '\0';
	return strstr(data, ") Z ") != NULL;
}

static int wait_gone(pid_t pid, long ms)
{
	for (long t = 0; t < ms; t += 20) {
		if (gone(pid))
			return 1;
		nap_ms(20);
	}
	return gone(pid);
}

static int count_fds(pid_t pid)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/%ld/fd/%d", (long)pid, fd);
		if (access(path, F_OK) == 0)
			n++;
	}
	return n;
}

TEST(bad_arguments)
{
	struct watchdog *w = (struct watchdog *)1;

	ASSERT_EQ_INT(watchdog_start("", "r", &w), ORCH_EINVALID);
	ASSERT(w == NULL);
	ASSERT_EQ_INT(watchdog_start("p", NULL, &w), ORCH_EINVALID);
	watchdog_release(NULL);
	ASSERT_EQ_INT(watchdog_pid(NULL), -1);
}

TEST(released_watchdog_exits_quietly)
{
	struct watchdog *w = NULL;
	struct buf log = BUF_INIT;
	pid_t pid;

	ASSERT_EQ_INT(watchdog_start("orch-unit", "released", &w), 0);
	pid = watchdog_pid(w);
	ASSERT(pid > 0);
	ASSERT(!gone(pid));
	/* detached: not our child, not our session */
	ASSERT(stat_field(pid, 4) != (long)getpid());
	ASSERT(stat_field(pid, 6) != stat_field(getpid(), 6));
	ASSERT(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD);
	/*
	 * 0, 1, 2 and the lease; nothing else of ours. The watchdog closes
	 * what it inherited after it reports its pid, so give it a moment.
	 */
	for (int i = 0; i < 200 && count_fds(pid) != 4; i++)
		usleep(10000);
	ASSERT_EQ_INT(count_fds(pid), 4);
	watchdog_release(w);
	ASSERT(wait_gone(pid, 5000));
	read_file(log_path, &log, 1 << 20);
	ASSERT(!strstr(buf_cstr(&log), "run 'released'"));
	buf_release(&log);
}

TEST(owner_death_starts_the_teardown)
{
	int report[2];
	pid_t owner, wd = 0;
	struct buf log = BUF_INIT;
	int found = 0;

	ASSERT(pipe(report) == 0);
	owner = fork();
	ASSERT(owner >= 0);
	if (owner == 0) {
		struct watchdog *w;

		close(report[0]);
		if (watchdog_start("orch-unit", "orphaned", &w))
			_exit(1);
		wd = watchdog_pid(w);
		if (write(report[1], &wd, sizeof(wd)) != sizeof(wd))
			_exit(1);
		_exit(0); /* dies holding the lease: no release */
	}
	close(report[1]);
	ASSERT(read(report[0], &wd, sizeof(wd)) == sizeof(wd));
	close(report[0]);
	waitpid(owner, NULL, 0);
	ASSERT(wd > 0);
	/* no engine answers at DOCKER_HOST: the attempt is logged, and the
	 * watchdog keeps retrying for a while */
	for (int i = 0; i < 250 && !found; i++) {
		buf_reset(&log);
		read_file(log_path, &log, 1 << 20);
		found = strstr(buf_cstr(&log),
		               "run 'orphaned': teardown failed") != NULL;
		if (!found)
			nap_ms(20);
	}
	buf_release(&log);
	ASSERT(found);
	ASSERT(!gone(wd));
	kill(wd, SIGKILL);
	ASSERT(wait_gone(wd, 5000));
}

/* Left, not released: nothing happens until the owner exits. */
TEST(left_watchdog_acts_at_exit)
{
	int report[2], go[2];
	pid_t owner, wd = 0;
	struct buf log = BUF_INIT;
	int found = 0;
	char c = 'x';

	ASSERT(pipe(report) == 0 && pipe(go) == 0);
	owner = fork();
	ASSERT(owner >= 0);
	if (owner == 0) {
		struct watchdog *w;

		close(report[0]);
		close(go[1]);
		if (watchdog_start("orch-unit", "left", &w))
			_exit(1);
		wd = watchdog_pid(w);
		watchdog_leave(w);
		if (write(report[1], &wd, sizeof(wd)) != sizeof(wd))
			_exit(1);
		/* still holding the lease until told to go */
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(report[1]);
	close(go[0]);
	ASSERT(read(report[0], &wd, sizeof(wd)) == sizeof(wd));
	close(report[0]);
	ASSERT(wd > 0);
	nap_ms(300);
	read_file(log_path, &log, 1 << 20);
	ASSERT(!strstr(buf_cstr(&log), "run 'left'"));
	ASSERT(!gone(wd));
	ASSERT(write(go[1], &c, 1) == 1);
	close(go[1]);
	waitpid(owner, NULL, 0);
	for (int i = 0; i < 250 && !found; i++) {
		buf_reset(&log);
		read_file(log_path, &log, 1 << 20);
		found = strstr(buf_cstr(&log), "run 'left': teardown failed") !=
		        NULL;
		if (!found)
			nap_ms(20);
	}
	buf_release(&log);
	ASSERT(found);
	kill(wd, SIGKILL);
	ASSERT(wait_gone(wd, 5000));
}

int main(void)
{
	int fd = mkstemp(log_path);

	if (fd < 0)
		return 1;
	close(fd);
	setenv("ORCHESTRATE_WATCHDOG_LOG", log_path, 1);
	setenv("DOCKER_HOST", "unix:///nonexistent/orchestrate-test.sock", 1);
	RUN(bad_arguments);
	RUN(released_watchdog_exits_quietly);
	RUN(owner_death_starts_the_teardown);
	RUN(left_watchdog_acts_at_exit);
	unlink(log_path);
	return harness_done();
}
