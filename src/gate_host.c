/*
 * gate_host.c: the argv a gated service runs, and the run's gate
 * directory on this host (gate.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "error.h"
#include "gate.h"
#include "labels.h"

static void push_all(struct strvec *out, const struct strvec *v)
{
	for (size_t i = 0; v && i < v->n; i++)
		strvec_push(out, v->v[i]);
}

void gate_real_argv(struct strvec *out, int has_entrypoint,
                    const struct strvec *entrypoint,
                    const struct strvec *command,
                    const struct strvec *image_entrypoint,
                    const struct strvec *image_cmd)
{
	int have_cmd = command && command->n > 0;

	if (has_entrypoint) {
		/* a given entrypoint drops the image's Cmd */
		push_all(out, entrypoint);
		if (have_cmd)
			push_all(out, command);
		return;
	}
	push_all(out, image_entrypoint);
	push_all(out, have_cmd ? command : image_cmd);
}

/* ---- the gate directory -------------------------------------------------- */

char *gate_base(void)
{
	const char *own = getenv("ORCHESTRATE_GATE_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (own && *own)
		return xstrdup(own);
	if (xdg && *xdg == '/')
		return xasprintf("%s/orchestrate", xdg);
	return xasprintf("/tmp/orchestrate-%lu", (unsigned long)getuid());
}

char *gate_dir(const char *project, const char *run_id)
{
	char *base = gate_base();
	char *dir = xasprintf("%s/%s-%s", base, project, run_id);

	free(base);
	return dir;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The base: ours, a directory, not a symlink, and on a filesystem that
 * lets the gate run. */
static int base_ready(const char *base)
{
	struct stat st;
	struct statvfs vfs;

	/* the engine takes absolute bind sources only, and the watchdog
	 * runs from / */
	if (base[0] != '/')
		return orch_error_code(
		        ORCH_EUNSUPPORTED,
		        "gate directory %s: not an absolute path", base);
	if (mkdir(base, 0700) && errno != EEXIST)
		return orch_error_code(ORCH_EUNSUPPORTED,
		                       "gate directory %s: %s", base,
		                       strerror(errno));
	if (lstat(base, &st))
		return orch_error_code(ORCH_EUNSUPPORTED,
		                       "gate directory %s: %s", base,
		                       strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return orch_error_code(ORCH_EUNSUPPORTED,
		                       "gate directory %s: not a directory of "
		                       "user %lu",
		                       base, (unsigned long)getuid());
	/* others could swap a run's directory, and the gate with it */
	if (st.st_mode & 022)
		return orch_error_code(
		        ORCH_EUNSUPPORTED,
		        "gate directory %s: writable by group or "
		        "others (mode %04o)",
		        base, (unsigned)(st.st_mode & 07777));
	if (statvfs(base, &vfs) == 0 && (vfs.f_flag & ST_NOEXEC))
		return orch_error_code(ORCH_EUNSUPPORTED,
		                       "gate directory %s: on a noexec "
		                       "filesystem",
		                       base);
	return 0;
}

int gate_dir_create(const char *dir, const void *gate, size_t len)
{
	char *base = xstrdup(dir), *slash = strrchr(base, '/');
	char *path = NULL;
	int fd = -1, rc;

	if (slash && slash != base)
		*slash = '\0';
	rc = base_ready(base);
	free(base);
	if (rc)
		return rc;
	/* 0755 whatever the umask: the container's user runs the gate */
	if (mkdir(dir, 0755) || chmod(dir, 0755)) {
		rc = orch_error_code(ORCH_ERROR, "gate directory %s: %s", dir,
		                     strerror(errno));
		goto out;
	}
	path = xasprintf("%s/gate", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	          0755);
	if (fd < 0 || fchmod(fd, 0755) || write_all(fd, gate, len) ||
	    close(fd)) {
		rc = orch_error_code(ORCH_ERROR, "gate program %s: %s", path,
		                     strerror(errno));
		if (fd >= 0)
			close(fd);
	}
out:
	free(path);
	return rc;
}

char *gate_go_path(const char *service)
{
	return xasprintf(GATE_MOUNT "/go.%s", service);
}

int gate_release(const char *dir, const char *service)
{
	char *path = xasprintf("%s/go.%s", dir, service);
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0 || close(fd))
		rc = orch_error_code(ORCH_ERROR, "release file %s: %s", path,
		                     strerror(errno));
	free(path);
	return rc;
}

int gate_unrelease(const char *dir, const char *service)
{
	char *path = xasprintf("%s/go.%s", dir, service);
	int rc = 0;

	if (unlink(path) && errno != ENOENT)
		rc = orch_error_code(ORCH_ERROR, "release file %s: %s", path,
		                     strerror(errno));
	free(path);
	return rc;
}

/* "<project>-<RUN_ID_LEN hex digits>", and run_id's when given. */
static int is_run_dir(const char *name, const char *project, const char *run_id)
{
	size_t pl = strlen(project);
	const char *id = name + pl + 1;

	if (strncmp(name, project, pl) || name[pl] != '-' ||
	    strlen(id) != RUN_ID_LEN)
		return 0;
	for (size_t i = 0; i < RUN_ID_LEN; i++)
		if (!strchr("0123456789abcdef", id[i]))
			return 0;
	return !run_id || !strcmp(id, run_id);
}

/* Empty a run directory of its regular files, then remove it. */
static int remove_run_dir(int basefd, const char *name)
{
	int fd = openat(basefd, name,
	                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
	return unlinkat(basefd, name, AT_REMOVEDIR);
}

size_t gate_dirs_remove(const char *project, const char *run_id)
{
	char *base = gate_base();
	/* a relative base was never used (base_ready()) */
	int fd = base[0] == '/' ? open(base, O_RDONLY | O_DIRECTORY |
	                                             O_NOFOLLOW | O_CLOEXEC)
	                        : -1;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	free(base);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		if (is_run_dir(de->d_name, project, run_id) &&
		    remove_run_dir(fd, de->d_name) == 0)
			n++;
	closedir(d);
	return n;
}

/* ---- the gate program ------------------------------------------------------ */

/* The gate is a few KiB; anything far larger is not it. */
#define GATE_MAX_SIZE (16u << 20)

int gate_program_read(const char *build_path, struct buf *bin)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	/* installed or built, it sits next to orchestrate */
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			char *path;
			int rc;

			*slash = '\0';
			path = xasprintf("%s/orchestrate-gate", exe);
			rc = read_file(path, bin, GATE_MAX_SIZE);
			free(path);
			if (rc == 0 && bin->len)
				return 0;
			buf_reset(bin);
		}
	}
	/* test programs live elsewhere in the build tree */
	if (build_path && *build_path &&
	    read_file(build_path, bin, GATE_MAX_SIZE) == 0 && bin->len)
		return 0;
	return ORCH_ENOTFOUND;
}
