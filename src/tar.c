/*
 * tar.c: the tar writer and the .dockerignore matcher (see tar.h).
 *
 * It writes ustar headers with PAX records for long names; it does not
 * write GNU extensions, sparse files, hard links (a hard-linked file is
 * stored twice) or extended attributes, and it never reads archives.
 */
#include "tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

#define BLOCK 512
/* the largest value 11 octal digits hold: ustar's size and mtime */
#define OCTAL_MAX 077777777777ULL

static void put_octal(char *field, size_t width, uint64_t v)
{
	/* width-1 digits and a NUL, as ustar wants */
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1),
	         (unsigned long long)v);
	memcpy(field, tmp, width - 1);
	field[width - 1] = '\0';
}

static int too_big(const struct buf *out)
{
	return orch_error_code(ORCH_ETOOBIG,
	                       "archive exceeds the limit of %zu "
	                       "bytes",
	                       out->cap);
}

static int pad(struct buf *out, size_t len)
{
	static const char zeros[BLOCK];
	size_t rem = len % BLOCK;

	if (rem && buf_add(out, zeros, BLOCK - rem))
		return too_big(out);
	return 0;
}

static void pax_record(struct buf *pax, const char *key, const char *value)
{
	/* "LEN key=value\n", where LEN counts its own digits */
	size_t body = strlen(key) + strlen(value) + 3;
	size_t len = body + 1, digits;

	for (;;) {
		digits = (size_t)snprintf(NULL, 0, "%zu", len);
		if (body + digits == len)
			break;
		len = body + digits;
	}
	buf_addf(pax, "%zu %s=%s\n", len, key, value);
}

static int header_owned(struct buf *out, const char *name, char type,
                        mode_t mode, unsigned uid, unsigned gid, int64_t mtime,
                        uint64_t size, const char *link);

static int header(struct buf *out, const char *name, char type, mode_t mode,
                  int64_t mtime, uint64_t size, const char *link)
{
	return header_owned(out, name, type, mode, 0, 0, mtime, size, link);
}

static int header_owned(struct buf *out, const char *name, char type,
                        mode_t mode, unsigned uid, unsigned gid, int64_t mtime,
                        uint64_t size, const char *link)
{
	char h[BLOCK];
	unsigned sum = 0;
	size_t nlen = strlen(name), llen = link ? strlen(link) : 0;
	int rc;

	if (size > OCTAL_MAX)
		return orch_error_code(ORCH_ETOOBIG,
		                       "'%s' is too large for the archive "
		                       "(8 GiB or more)",
		                       name);
	if (nlen >= 100 || llen >= 100) {
		struct buf pax = BUF_INIT;

		if (nlen >= 100)
			pax_record(&pax, "path", name);
		if (llen >= 100)
			pax_record(&pax, "linkpath", link);
		rc = header(out, "././@PaxHeader", 'x', 0644, mtime, pax.len,
		            NULL);
		if (rc == 0 && buf_add(out, pax.data, pax.len))
			rc = too_big(out);
		if (rc == 0)
			rc = pad(out, pax.len);
		buf_release(&pax);
		if (rc)
			return rc;
	}
	memset(h, 0, sizeof(h));
	/* truncated names are only a fallback: the PAX record wins */
	memcpy(h, name, nlen < 100 ? nlen : 99);
	put_octal(h + 100, 8, mode & 07777);
	put_octal(h + 108, 8, uid);
	put_octal(h + 116, 8, gid);
	put_octal(h + 124, 12, size);
	put_octal(h + 136, 12,
	          mtime < 0                     ? 0
	          : (uint64_t)mtime > OCTAL_MAX ? OCTAL_MAX
	                                        : (uint64_t)mtime);
	memset(h + 148, ' ', 8);
	h[156] = type;
	if (link)
		memcpy(h + 157, link, llen < 100 ? llen : 99);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (size_t i = 0; i < BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	if (buf_add(out, h, BLOCK))
		return too_big(out);
	return 0;
}

/*
 * An entry name made relative: a leading '/', "." and empty elements
 * dropped. ".." is refused rather than resolved: an archive that climbs
 * out of the directory it is extracted into is never what a caller meant.
 */
static int norm_name(const char *name, struct buf *out)
{
	const char *s = name;

	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.') {
			buf_release(out);
			return orch_error_code(ORCH_EINVALID,
			                       "tar entry '%s': '..' would "
			                       "leave the archive's root",
			                       name);
		}
		if (n && !(n == 1 && s[0] == '.')) {
			if (out->len)
				buf_addch(out, '/');
			buf_add(out, s, n);
		}
		s += n;
		if (*s)
			s++;
	}
	if (!out->len)
		return orch_error_code(ORCH_EINVALID,
		                       "tar entry '%s': empty name", name);
	return 0;
}

int tar_add_file(struct buf *out, const char *name, mode_t mode, int64_t mtime,
                 const void *data, size_t len)
{
	return tar_add_file_owned(out, name, mode, 0, 0, mtime, data, len);
}

int tar_add_file_owned(struct buf *out, const char *name, mode_t mode,
                       unsigned uid, unsigned gid, int64_t mtime,
                       const void *data, size_t len)
{
	struct buf n = BUF_INIT;
	int rc = norm_name(name, &n);

	if (rc == 0)
		rc = header_owned(out, n.data, '0', mode, uid, gid, mtime, len,
		                  NULL);
	if (rc == 0 && buf_add(out, data, len))
		rc = too_big(out);
	if (rc == 0)
		rc = pad(out, len);
	buf_release(&n);
	return rc;
}

int tar_add_dir(struct buf *out, const char *name, mode_t mode, int64_t mtime)
{
	struct buf n = BUF_INIT;
	int rc = norm_name(name, &n);

	if (rc == 0) {
		buf_addch(&n, '/');
		rc = header(out, n.data, '5', mode, mtime, 0, NULL);
	}
	buf_release(&n);
	return rc;
}

int tar_add_symlink(struct buf *out, const char *name, const char *target,
                    int64_t mtime)
{
	struct buf n = BUF_INIT;
	int rc = norm_name(name, &n);

	if (rc == 0)
		rc = header(out, n.data, '2', 0777, mtime, 0, target);
	buf_release(&n);
	return rc;
}

int tar_finish(struct buf *out)
{
	static const char zeros[2 * BLOCK];

	if (buf_add(out, zeros, sizeof(zeros)))
		return too_big(out);
	return 0;
}

/* ---- .dockerignore ---------------------------------------------------- */

void tar_ignore_init(struct tar_ignore *ig)
{
	strvec_init(&ig->patterns);
	ig->negate = NULL;
	ig->has_negation = 0;
}

void tar_ignore_release(struct tar_ignore *ig)
{
	strvec_clear(&ig->patterns);
	free(ig->negate);
	ig->negate = NULL;
}

/* filepath.Clean for patterns: drop "./", empty and "." elements */
static char *clean_pattern(const char *p)
{
	struct buf b = BUF_INIT;
	const char *s = p;

	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n && !(n == 1 && s[0] == '.')) {
			if (n == 2 && s[0] == '.' && s[1] == '.') {
				/* ".." pops an element, as Clean does */
				char *slash =
				        b.len ? strrchr(b.data, '/') : NULL;
				b.len = slash ? (size_t)(slash - b.data) : 0;
				if (b.data)
					b.data[b.len] = '\0';
			} else {
				if (b.len)
					buf_addch(&b, '/');
				buf_add(&b, s, n);
			}
		}
		s += n;
		if (*s == '/')
			s++;
	}
	return buf_detach(&b, NULL);
}

void tar_ignore_parse(struct tar_ignore *ig, const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char *l = xstrndup(line, n), *s = l, *end;
		int neg = 0;

		line = nl ? nl + 1 : NULL;
		while (*s == ' ' || *s == '\t')
			s++;
		end = s + strlen(s);
		while (end > s &&
		       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (*s == '#' || !*s) {
			free(l);
			continue;
		}
		if (*s == '!') {
			neg = 1;
			s++;
			while (*s == ' ' || *s == '\t')
				s++;
		}
		while (*s == '/')
			s++;
		char *clean = clean_pattern(s);
		free(l);
		if (!*clean) {
			free(clean);
			continue;
		}
		strvec_push_nodup(&ig->patterns, clean);
		ig->negate = xrealloc(ig->negate, ig->patterns.n);
		ig->negate[ig->patterns.n - 1] = (unsigned char)neg;
		ig->has_negation |= neg;
	}
}

/* Match pattern elements pe[0..np) against path elements xe[0..nx). */
static int match_elems(char **pe, size_t np, char **xe, size_t nx)
{
	if (np == 0)
		return nx == 0;
	if (!strcmp(pe[0], "**")) {
		for (size_t k = 0; k <= nx; k++)
			if (match_elems(pe + 1, np - 1, xe + k, nx - k))
				return 1;
		return 0;
	}
	if (nx == 0)
		return 0;
	if (fnmatch(pe[0], xe[0], 0) != 0)
		return 0;
	return match_elems(pe + 1, np - 1, xe + 1, nx - 1);
}

static size_t split(char *s, char ***out)
{
	size_t n = 0, alloc = 0;
	char **v = NULL, *save = NULL;

	for (char *t = strtok_r(s, "/", &save); t;
	     t = strtok_r(NULL, "/", &save)) {
		ALLOC_GROW(v, n + 1, alloc);
		v[n++] = t;
	}
	*out = v;
	return n;
}

static int pattern_matches(const char *pattern, char **xe, size_t nx)
{
	char *p = xstrdup(pattern);
	char **pe;
	size_t np = split(p, &pe);
	int m = 0;

	/* the path itself or any parent directory of it */
	for (size_t k = 1; k <= nx && !m; k++)
		m = match_elems(pe, np, xe, k);
	free(pe);
	free(p);
	return m;
}

int tar_ignore_match(const struct tar_ignore *ig, const char *path)
{
	char *x = xstrdup(path);
	char **xe;
	size_t nx = split(x, &xe);
	int excluded = 0;

	for (size_t i = 0; i < ig->patterns.n; i++)
		if (pattern_matches(ig->patterns.v[i], xe, nx))
			excluded = !ig->negate[i];
	free(xe);
	free(x);
	return excluded;
}

/* ---- the context walk ------------------------------------------------- */

struct walk {
	int rootfd;
	const char *dir;
	const char *keep;
	struct tar_ignore ig;
	struct buf *out;
	int huge; /* a file too large for tar, not the cap, failed it */
};

static int add_regular(struct walk *w, int dirfd, const char *ent,
                       const char *rel, const struct stat *st)
{
	/* O_NONBLOCK: if the entry became a fifo since fstatat(), the open
	   must not wait for a writer */
	int fd = openat(dirfd, ent,
	                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	size_t size = (size_t)st->st_size, got = 0;
	struct stat now;
	int rc;

	if (fd < 0)
		return orch_error_code(
		        errno == EACCES ? ORCH_EPERM : ORCH_ERROR, "%s/%s: %s",
		        w->dir, rel, strerror(errno));
	if (fstat(fd, &now) || !S_ISREG(now.st_mode)) {
		close(fd); /* replaced by a special file: skipped like one */
		return 0;
	}
	if (w->out->cap && size > w->out->cap) {
		close(fd);
		return orch_error_code(
		        ORCH_ETOOBIG,
		        "build context '%s' exceeds the limit of "
		        "%zu bytes ('%s' alone is %zu)",
		        w->dir, w->out->cap, rel, size);
	}
	if ((uint64_t)st->st_size > OCTAL_MAX) {
		close(fd);
		w->huge = 1;
		return orch_error_code(ORCH_ETOOBIG,
		                       "build context '%s': '%s' is too "
		                       "large for a tar archive (8 GiB or "
		                       "more)",
		                       w->dir, rel);
	}
	rc = header(w->out, rel, '0', st->st_mode, st->st_mtime, size, NULL);
	while (rc == 0 && got < size) {
		char chunk[65536];
		size_t want =
		        size - got < sizeof(chunk) ? size - got : sizeof(chunk);
		ssize_t r = read(fd, chunk, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = orch_error_set("%s/%s: %s", w->dir, rel,
			                    strerror(errno));
			break;
		}
		if (r == 0) {
			/* the file shrank while we read it: pad it to the
			   size its header already announced */
			memset(chunk, 0, want);
			r = (ssize_t)want;
		}
		if (buf_add(w->out, chunk, (size_t)r))
			rc = too_big(w->out);
		got += (size_t)r;
	}
	if (rc == 0)
		rc = pad(w->out, size);
	close(fd);
	return rc;
}

/* Is keep (the Dockerfile) below the directory rel? */
static int keep_below(const char *keep, const char *rel)
{
	size_t n = strlen(rel);

	return keep && !strncmp(keep, rel, n) && keep[n] == '/';
}

/*
 * Can a '!' pattern re-include something below the excluded directory
 * rel? Its leading elements must match rel's (or reach a "**"), and it
 * must be longer than rel. Like moby's walker this avoids reading a whole
 * node_modules because some unrelated '!' pattern exists, but it also
 * honours wildcards, which moby's literal prefix check misses.
 */
static int may_reinclude(const struct tar_ignore *ig, const char *rel)
{
	char *x = xstrdup(rel), **xe;
	size_t nx = split(x, &xe);
	int may = 0;

	for (size_t i = 0; i < ig->patterns.n && !may; i++) {
		char *p, **pe;
		size_t np, k;

		if (!ig->negate[i])
			continue;
		p = xstrdup(ig->patterns.v[i]);
		np = split(p, &pe);
		for (k = 0; k < nx && k < np; k++) {
			if (!strcmp(pe[k], "**")) {
				may = 1;
				break;
			}
			if (fnmatch(pe[k], xe[k], 0))
				break;
		}
		if (!may && k == nx && np > nx)
			may = 1;
		if (!may && k < np && !strcmp(pe[k], "**"))
			may = 1;
		free(pe);
		free(p);
	}
	free(xe);
	free(x);
	return may;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix)
{
	struct dirent *de;
	char **ents = NULL;
	size_t n = 0, alloc = 0, i;
	int rc = 0, fd2 = dup(dirfd);
	DIR *d;

	if (fd2 < 0)
		return orch_error_set("%s: %s", w->dir, strerror(errno));
	d = fdopendir(fd2);
	if (!d) {
		close(fd2);
		return orch_error_set("%s: %s", w->dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(ents, n + 1, alloc);
		ents[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	/* sorted, so the same directory gives the same archive */
	if (n > 1)
		qsort(ents, n, sizeof(*ents), cmp_names);

	for (i = 0; i < n && rc == 0; i++) {
		const char *name = ents[i];
		char *rel = *prefix ? xasprintf("%s/%s", prefix, name)
		                    : xstrdup(name);
		struct stat st;
		int excluded, always;

		always = !strcmp(rel, ".dockerignore") ||
		         (w->keep && !strcmp(rel, w->keep));
		excluded = !always && tar_ignore_match(&w->ig, rel);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
			rc = orch_error_set("%s/%s: %s", w->dir, rel,
			                    strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			/* an excluded directory is still walked when it
			   holds the Dockerfile or a '!' pattern may bring
			   something below it back (the CLI adds
			   "!Dockerfile" to the patterns to the same end) */
			if (!excluded || keep_below(w->keep, rel) ||
			    (w->ig.has_negation &&
			     may_reinclude(&w->ig, rel))) {
				int sub =
				        openat(dirfd, name,
				               O_RDONLY | O_DIRECTORY |
				                       O_NOFOLLOW | O_CLOEXEC);
				if (sub < 0) {
					rc = orch_error_set("%s/%s: %s", w->dir,
					                    rel,
					                    strerror(errno));
				} else {
					if (!excluded)
						rc = tar_add_dir(w->out, rel,
						                 st.st_mode,
						                 st.st_mtime);
					if (rc == 0)
						rc = walk_dir(w, sub, rel);
					close(sub);
				}
			}
		} else if (excluded) {
			/* nothing */
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t len = readlinkat(dirfd, name, target,
			                         sizeof(target) - 1);
			if (len < 0)
				rc = orch_error_set("%s/%s: %s", w->dir, rel,
				                    strerror(errno));
			else {
				target[len] = '\0';
				rc = tar_add_symlink(w->out, rel, target,
				                     st.st_mtime);
			}
		} else if (S_ISREG(st.st_mode)) {
			rc = add_regular(w, dirfd, name, rel, &st);
		}
		free(rel);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

/*
 * Resolve name (relative to dir) with symlinks followed; it must be a
 * regular file inside dir. what names it in messages ("dockerfile").
 */
static int resolve_inside(const char *what, const char *dir,
                          const char *dockerfile, char **rel)
{
	char *root = NULL, *joined = NULL, *real = NULL;
	size_t n;
	struct stat st;
	int rc = 0;

	*rel = NULL;
	if (dockerfile[0] == '/') {
		rc = orch_error_code(ORCH_EINVALID,
		                     "%s '%s' must be a path relative "
		                     "to the build context '%s'",
		                     what, dockerfile, dir);
		goto out;
	}
	root = realpath(dir, NULL);
	if (!root) {
		rc = orch_error_code(
		        errno == ENOENT ? ORCH_ENOTFOUND : ORCH_ERROR,
		        "build context '%s': %s", dir, strerror(errno));
		goto out;
	}
	joined = xasprintf("%s/%s", root, dockerfile);
	real = realpath(joined, NULL);
	if (!real) {
		rc = orch_error_code(errno == ENOENT ? ORCH_ENOTFOUND
		                                     : ORCH_ERROR,
		                     "%s '%s' in '%s': %s", what, dockerfile,
		                     dir, strerror(errno));
		goto out;
	}
	n = strlen(root);
	if (strncmp(real, root, n) || (n > 1 && real[n] != '/') || !real[n]) {
		rc = orch_error_code(ORCH_EINVALID,
		                     "%s '%s' resolves to '%s', "
		                     "outside the build context '%s'",
		                     what, dockerfile, real, dir);
		goto out;
	}
	if (stat(real, &st) || !S_ISREG(st.st_mode)) {
		rc = orch_error_code(ORCH_EINVALID,
		                     "%s '%s' in '%s' is not a "
		                     "regular file",
		                     what, dockerfile, dir);
		goto out;
	}
	*rel = xstrdup(real + n + (n > 1));
out:
	free(root);
	free(joined);
	free(real);
	return rc;
}

int tar_dockerfile(const char *dir, const char *dockerfile, char **rel)
{
	return resolve_inside("dockerfile", dir, dockerfile, rel);
}

int tar_context(const char *dir, const char *keep, struct buf *out)
{
	struct walk w = { .dir = dir, .keep = keep, .out = out };
	struct buf ignore = BUF_INIT;
	char *path = NULL, *rel = NULL;
	int rc;

	tar_ignore_init(&w.ig);
	w.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.rootfd < 0) {
		rc = orch_error_code(
		        errno == ENOENT ? ORCH_ENOTFOUND : ORCH_ERROR,
		        "build context '%s': %s", dir, strerror(errno));
		goto out;
	}
	/* read through a symlink only when it stays inside the context */
	rc = resolve_inside(".dockerignore", dir, ".dockerignore", &rel);
	if (rc == ORCH_ENOTFOUND) {
		rc = 0;
	} else if (rc) {
		goto out;
	} else {
		path = xasprintf("%s/%s", dir, rel);
		rc = read_file(path, &ignore, 1 << 20);
		if (rc)
			goto out;
		tar_ignore_parse(&w.ig, buf_cstr(&ignore));
	}
	rc = walk_dir(&w, w.rootfd, "");
	if (rc == 0)
		rc = tar_finish(out);
	if (rc == ORCH_ETOOBIG && !w.huge)
		rc = orch_error_code(ORCH_ETOOBIG,
		                     "build context '%s' exceeds the limit of "
		                     "%zu bytes (list large files in "
		                     ".dockerignore)",
		                     dir, out->cap);
out:
	if (w.rootfd >= 0)
		close(w.rootfd);
	tar_ignore_release(&w.ig);
	buf_release(&ignore);
	free(path);
	free(rel);
	return rc;
}
