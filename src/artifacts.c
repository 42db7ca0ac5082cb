/*
 * artifacts.c: a suite's artifacts into the report directory, never
 * outside it (artifacts.h).
 */
#include "artifacts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

void artifact_list_release(struct artifact_list *l)
{
	strvec_clear(&l->files);
	strvec_clear(&l->refused);
	l->bytes = 0;
}

static void refuse(struct artifact_list *l, const char *name, const char *why)
{
	char *s = xasprintf("%s: %s", name, why);

	strvec_push(&l->refused, s);
	free(s);
}

/*
 * name normalised into out: relative, '/'-separated, no "." or empty
 * elements. -1 for ".." anywhere (or nothing left).
 */
static int normalise(const char *name, struct buf *out)
{
	const char *p = name;

	buf_reset(out);
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n == 2 && !strncmp(p, "..", 2))
			return -1;
		if (!(n == 1 && *p == '.')) {
			if (out->len)
				buf_addch(out, '/');
			buf_add(out, p, n);
		}
		p += n;
	}
	return out->len ? 0 : -1;
}

/*
 * Open (making them) the directories of rel below root, without
 * following a symlink anywhere; returns the fd of the last directory
 * (rel's parent, or rel itself with whole) or -1.
 */
static int open_dirs(int root, const char *rel, int whole)
{
	char *copy = xstrdup(rel), *p = copy, *slash;
	int fd = dup(root);

	while (fd >= 0) {
		int next;

		slash = strchr(p, '/');
		if (!slash && !whole)
			break;
		if (slash)
			*slash = '\0';
		if (mkdirat(fd, p, 0755) && errno != EEXIST) {
			close(fd);
			fd = -1;
			break;
		}
		next = openat(fd, p,
		              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		if (!slash)
			break;
		p = slash + 1;
	}
	free(copy);
	return fd;
}

static int write_file(int root, const char *rel, const char *data, size_t len,
                      struct artifact_list *l)
{
	const char *base = strrchr(rel, '/');
	int dir = open_dirs(root, rel, 0), fd = -1, rc = 0;

	base = base ? base + 1 : rel;
	if (dir >= 0)
		fd = openat(dir, base,
		            O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		                    O_CLOEXEC,
		            0644);
	if (fd < 0) {
		refuse(l, rel, strerror(errno));
		goto out;
	}
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = orch_error_set("writing artifact '%s': %s", rel,
			                    strerror(errno));
			goto out;
		}
		data += w;
		len -= (size_t)w;
		l->bytes += (size_t)w;
	}
	strvec_push(&l->files, rel);
out:
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	return rc;
}

static int open_dest(const char *dest)
{
	char *copy = xstrdup(dest);

	/* the destination's own parents are ours (the report directory) */
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(copy, 0755);
		*p = '/';
	}
	mkdir(copy, 0755);
	free(copy);
	return open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* ---- tar ------------------------------------------------------------------ */

static uint64_t octal(const char *f, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n && f[i]; i++) {
		if (f[i] == ' ')
			continue;
		if (f[i] < '0' || f[i] > '7')
			break;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	return v;
}

/* The "path" of a PAX extended header, when it has one. */
static void pax_path(const char *d, size_t n, struct buf *path)
{
	size_t i = 0;

	while (i < n) {
		char *end;
		unsigned long len = strtoul(d + i, &end, 10);
		const char *kv = end + 1, *eq;

		if (!len || i + len > n || *end != ' ')
			return;
		eq = memchr(kv, '=', len - (size_t)(kv - (d + i)));
		if (eq && (size_t)(eq - kv) == 4 && !strncmp(kv, "path", 4)) {
			buf_reset(path);
			buf_add(path, eq + 1,
			        (size_t)(d + i + len - 1 - (eq + 1)));
		}
		i += len;
	}
}

int artifacts_untar(const void *data, size_t len, const char *dest, size_t cap,
                    struct artifact_list *out)
{
	const char *p = data;
	struct buf name = BUF_INIT, longname = BUF_INIT, rel = BUF_INIT;
	size_t off = 0;
	int root = open_dest(dest), rc = 0;

	if (root < 0)
		return orch_error_set("report directory '%s': %s", dest,
		                      strerror(errno));
	while (off + 512 <= len && rc == 0) {
		const char *h = p + off;
		uint64_t size = octal(h + 124, 12);
		char type = h[156];
		size_t body = off + 512;

		if (!h[0]) /* the end: zero blocks */
			break;
		if (size > len - body) {
			rc = orch_error_code(ORCH_EINVALID,
			                     "artifact archive cut short");
			break;
		}
		off = body + ((size + 511) & ~(uint64_t)511);
		if (type == 'x') {
			pax_path(p + body, size, &longname);
			continue;
		}
		if (type == 'g')
			continue;
		if (type == 'L') {
			buf_reset(&longname);
			buf_add(&longname, p + body, size);
			continue;
		}
		buf_reset(&name);
		if (longname.len) {
			buf_add(&name, longname.data,
			        strnlen(longname.data, longname.len));
			buf_reset(&longname);
		} else {
			if (h[345])
				buf_addf(&name, "%.155s/", h + 345);
			buf_addf(&name, "%.100s", h);
		}
		if (normalise(buf_cstr(&name), &rel)) {
			refuse(out, buf_cstr(&name),
			       "refused: it would leave the report directory");
			continue;
		}
		if (type == '5') {
			int fd = open_dirs(root, buf_cstr(&rel), 1);

			if (fd < 0)
				refuse(out, buf_cstr(&rel), strerror(errno));
			else
				close(fd);
			continue;
		}
		if (type != '0' && type != '\0' && type != '7') {
			refuse(out, buf_cstr(&rel),
			       type == '2'   ? "a symlink: not followed"
			       : type == '1' ? "a hard link: not followed"
			                     : "not a regular file");
			continue;
		}
		if (out->bytes + size > cap) {
			rc = orch_error_code(ORCH_ETOOBIG,
			                     "artifacts larger than %zu bytes: "
			                     "'%s' and after not copied",
			                     cap, buf_cstr(&rel));
			break;
		}
		rc = write_file(root, buf_cstr(&rel), p + body, (size_t)size,
		                out);
	}
	close(root);
	buf_release(&name);
	buf_release(&longname);
	buf_release(&rel);
	return rc;
}

/* ---- host files ---------------------------------------------------------------- */

static int copy_fd(int in, int root, const char *rel, size_t cap,
                   struct artifact_list *out)
{
	struct buf b = BUF_INIT;
	int rc;

	rc = read_fd(in, rel, &b, cap - out->bytes);
	if (rc == ORCH_ETOOBIG)
		rc = orch_error_code(ORCH_ETOOBIG,
		                     "artifacts larger than %zu bytes: '%s' "
		                     "not copied",
		                     cap, rel);
	else if (rc == 0)
		rc = write_file(root, rel, b.data ? b.data : "", b.len, out);
	buf_release(&b);
	return rc;
}

static int copy_at(int srcdir, const char *name, int root, const char *rel,
                   size_t cap, struct artifact_list *out)
{
	struct stat st;
	int fd, rc = 0;

	if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW))
		return orch_error_code(
		        errno == ENOENT ? ORCH_ENOTFOUND : ORCH_ERROR,
		        "artifact '%s': %s", rel, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		refuse(out, rel, "a symlink: not followed");
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		refuse(out, rel, "not a regular file");
		return 0;
	}
	fd = openat(srcdir, name,
	            O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	                    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0) {
		refuse(out, rel, strerror(errno));
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		rc = copy_fd(fd, root, rel, cap, out);
		close(fd);
		return rc;
	}
	{
		DIR *d = fdopendir(fd);
		struct dirent *ent;
		int made = open_dirs(root, rel, 1);

		if (made >= 0)
			close(made);
		while (d && rc == 0 && (ent = readdir(d))) {
			char *sub;

			if (!strcmp(ent->d_name, ".") ||
			    !strcmp(ent->d_name, ".."))
				continue;
			sub = xasprintf("%s/%s", rel, ent->d_name);
			rc = copy_at(dirfd(d), ent->d_name, root, sub, cap,
			             out);
			free(sub);
		}
		if (d)
			closedir(d);
		else
			close(fd);
	}
	return rc;
}

int artifacts_copy(const char *src, const char *dest, size_t cap,
                   struct artifact_list *out)
{
	char *dir = xstrdup(src), *base = strrchr(dir, '/');
	int srcdir, root, rc;

	while (base && base != dir && !base[1]) { /* "out/" */
		*base = '\0';
		base = strrchr(dir, '/');
	}
	if (base) {
		*base = '\0';
		srcdir = open(*dir ? dir : "/",
		              O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		base++;
	} else {
		srcdir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		base = dir;
	}
	root = open_dest(dest);
	if (srcdir < 0 || root < 0)
		rc = orch_error_code(errno == ENOENT ? ORCH_ENOTFOUND
		                                     : ORCH_ERROR,
		                     "artifact '%s': %s", src, strerror(errno));
	else if (!*base || !strcmp(base, "..") || !strcmp(base, "."))
		rc = orch_error_code(ORCH_EINVALID,
		                     "artifact '%s': not a file or directory "
		                     "name",
		                     src);
	else
		rc = copy_at(srcdir, base, root, base, cap, out);
	if (srcdir >= 0)
		close(srcdir);
	if (root >= 0)
		close(root);
	free(dir);
	return rc;
}
