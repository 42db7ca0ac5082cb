/*
 * labels.c: run ids and owner processes (see labels.h). Reads /proc; knows
 * nothing of the engine.
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

int run_owner_self(struct run_owner *o)
{
	memset(o, 0, sizeof(*o));
	if (gethostname(o->host, sizeof(o->host) - 1))
		snprintf(o->host, sizeof(o->host), "unknown");
	o->pid = (long)getpid();
	o->start = proc_start_time(o->pid);
	return 0;
}

int run_owner_parse(struct run_owner *o, const char *host, const char *pid,
                    const char *start)
{
	long v;

	memset(o, 0, sizeof(*o));
	if (!host || !pid || parse_int(pid, 1, 1L << 30, &v))
		return orch_error_code(ORCH_EINVALID, "no owner labels");
	snprintf(o->host, sizeof(o->host), "%s", host);
	o->pid = v;
	o->start = start ? strtoull(start, NULL, 10) : 0;
	return 0;
}

int run_owner_alive(const struct run_owner *o)
{
	struct run_owner self;

	run_owner_self(&self);
	if (strcmp(self.host, o->host))
		return 1;
	if (kill((pid_t)o->pid, 0) && errno == ESRCH)
		return 0;
	if (o->start && proc_start_time(o->pid) != o->start)
		return 0;
	return 1;
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
