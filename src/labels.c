/*
 * labels.c: run ids, owner processes and project names (see labels.h).
 * Reads /proc; of the engine it knows only struct engine_label, the
 * shape labels are handed to it in.
 */
#include "labels.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "error.h"
#include "util.h"

static unsigned long long proc_start_time(long pid)
{
	char path[64], data[1024];
	unsigned long long start = 0;
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	data[n] = '\0';
	/* the command name may hold spaces and parentheses: skip past the
	 * last ')' and count fields from there (start time is field 22) */
	p = strrchr(data, ')');
	if (!p)
		return 0;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

/* The first line of path, at most n - 1 bytes, or "" (n > 0). */
static void read_line(const char *path, char *out, size_t n)
{
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd < 0)
		return;
	got = read(fd, out, n - 1);
	close(fd);
	out[got > 0 ? got : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/* Our PID namespace's inode from "pid:[4026531836]", or "". */
static void self_pidns(char *out, size_t n)
{
	char link[64];
	ssize_t got = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);
	const char *p;

	out[0] = '\0';
	if (got <= 0)
		return;
	link[got] = '\0';
	p = strchr(link, '[');
	if (p && strspn(p + 1, "0123456789") > 0)
		snprintf(out, n, "%.*s", (int)strspn(p + 1, "0123456789"),
		         p + 1);
}

static void set_text(struct run_owner *o)
{
	snprintf(o->pid_text, sizeof(o->pid_text), "%ld", o->pid);
	snprintf(o->start_text, sizeof(o->start_text), "%llu", o->start);
}

int run_owner_self(struct run_owner *o)
{
	memset(o, 0, sizeof(*o));
	if (gethostname(o->host, sizeof(o->host) - 1))
		snprintf(o->host, sizeof(o->host), "unknown");
	o->pid = (long)getpid();
	o->start = proc_start_time(o->pid);
	self_pidns(o->pidns, sizeof(o->pidns));
	read_line("/proc/sys/kernel/random/boot_id", o->boot, sizeof(o->boot));
	set_text(o);
	return 0;
}

int run_owner_parse(struct run_owner *o, const char *host, const char *pid,
                    const char *start, const char *pidns, const char *boot)
{
	long v;

	memset(o, 0, sizeof(*o));
	if (!host || !pid || parse_int(pid, 1, 1L << 30, &v))
		return orch_error_code(ORCH_EINVALID, "no owner labels");
	snprintf(o->host, sizeof(o->host), "%s", host);
	o->pid = v;
	o->start = start ? strtoull(start, NULL, 10) : 0;
	/* anything longer than a real value cannot equal ours: kept cut,
	   it still differs from ours */
	snprintf(o->pidns, sizeof(o->pidns), "%s", pidns ? pidns : "");
	snprintf(o->boot, sizeof(o->boot), "%s", boot ? boot : "");
	set_text(o);
	return 0;
}

size_t run_owner_labels(const struct run_owner *o, struct engine_label *l)
{
	size_t n = 0;

	l[n++] = (struct engine_label){ LABEL_OWNER_HOST, o->host };
	l[n++] = (struct engine_label){ LABEL_OWNER_PID, o->pid_text };
	l[n++] = (struct engine_label){ LABEL_OWNER_START, o->start_text };
	if (o->pidns[0])
		l[n++] = (struct engine_label){ LABEL_OWNER_PIDNS, o->pidns };
	if (o->boot[0])
		l[n++] = (struct engine_label){ LABEL_OWNER_BOOT, o->boot };
	return n;
}

/* o's pid runs in our namespace, started at o's start time (if known) */
static int pid_runs(const struct run_owner *o)
{
	if (kill((pid_t)o->pid, 0) && errno == ESRCH)
		return 0;
	return !o->start || proc_start_time(o->pid) == o->start;
}

enum owner_state run_owner_check(const struct run_owner *o, const char **why)
{
	struct run_owner self;
	const char *dummy;

	if (!why)
		why = &dummy;
	run_owner_self(&self);
	if (strcmp(self.host, o->host)) {
		*why = "runs on another host";
		return OWNER_UNKNOWN;
	}
	/* a reboot, or another machine of the same name on this engine:
	   which one cannot be told apart */
	if (o->boot[0] && self.boot[0] && strcmp(o->boot, self.boot)) {
		*why = "ran before a reboot, or runs on another machine of "
		       "that name";
		return OWNER_UNKNOWN;
	}
	if (!o->pidns[0]) {
		/* labels of an older version: the pid may be another
		   namespace's, so only a live match is trusted */
		if (pid_runs(o))
			return OWNER_ALIVE;
		*why = "has no PID namespace label (an older orchestrate)";
		return OWNER_UNKNOWN;
	}
	if (!self.pidns[0]) {
		*why = "cannot be compared: our own PID namespace is unknown "
		       "(is /proc mounted?)";
		return OWNER_UNKNOWN;
	}
	if (strcmp(o->pidns, self.pidns)) {
		*why = "is in another PID namespace";
		return OWNER_UNKNOWN;
	}
	return pid_runs(o) ? OWNER_ALIVE : OWNER_GONE;
}

void run_id_new(char id[RUN_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[RUN_ID_LEN / 2];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd >= 0) {
		ssize_t n = read(fd, raw, sizeof(raw));

		got = n > 0 ? (size_t)n : 0;
		close(fd);
	}
	if (got < sizeof(raw)) {
		/* no /dev/urandom: time and pid still make collisions rare */
		unsigned long long seed = (unsigned long long)now_ns() ^
		                          ((unsigned long long)getpid() << 32);

		for (size_t i = 0; i < sizeof(raw); i++) {
			seed = seed * 6364136223846793005ULL + 1;
			raw[i] = (unsigned char)(seed >> 56);
		}
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[RUN_ID_LEN] = '\0';
}

int project_name_valid(const char *name)
{
	const char *first = "abcdefghijklmnopqrstuvwxyz0123456789";

	if (!name || !*name || !strchr(first, *name))
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") ==
	       strlen(name);
}

int project_name_check(const char *name, const char *from)
{
	if (project_name_valid(name))
		return 0;
	return orch_error_code(ORCH_EINVALID,
	                       "invalid project name '%.80s' from %s (lower "
	                       "case letters, digits, '-' and '_', starting "
	                       "with a letter or digit)",
	                       name ? name : "", from);
}
