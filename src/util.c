/*
 * util.c: allocation wrappers, struct buf, struct strvec, clocks, durations
 * and small file helpers (see util.h).
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

static void die_oom(size_t n)
{
	fprintf(stderr, "orchestrate: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		die_oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int buf_grow(struct buf *b, size_t extra)
{
	size_t want;

	if (b->cap && (extra > b->cap || b->len > b->cap - extra))
		return orch_error_code(ORCH_ETOOBIG,
		                       "data exceeds the limit of %zu bytes",
		                       b->cap);
	want = b->len + extra + 1;
	if (want > b->alloc) {
		size_t n = b->alloc < 64 ? 64 : b->alloc;

		while (n < want)
			n *= 2;
		b->data = xrealloc(b->data, n);
		b->alloc = n;
	}
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	int rc = buf_grow(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_add(b, &ch, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256];
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return orch_error_set("formatting failed");
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	if (buf_grow(b, (size_t)n))
		return ORCH_ETOOBIG;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

const char *buf_cstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *s = b->data ? b->data : xstrdup("");

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return s;
}

void strvec_init(struct strvec *sv)
{
	sv->v = NULL;
	sv->n = 0;
	sv->alloc = 0;
}

void strvec_push_nodup(struct strvec *sv, char *s)
{
	ALLOC_GROW(sv->v, sv->n + 2, sv->alloc);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_nodup(sv, xstrdup(s));
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push_nodup(sv, buf_detach(&b, NULL));
}

void strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	strvec_init(sv);
}

void strvec_copy(struct strvec *dst, const struct strvec *src)
{
	for (size_t i = 0; i < src->n; i++)
		strvec_push(dst, src->v[i]);
}

int strvec_find(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return (int)i;
	return -1;
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t now_ms(void)
{
	return now_ns() / 1000000;
}

int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int parse_rfc3339_ms(const char *s, int64_t *ms)
{
	struct tm tm;
	int64_t frac = 0, scale = 1000;
	const char *p;
	int y, mo, d, h, mi, se, off = 0;
	time_t t;

	if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return ORCH_EINVALID;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	se = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return ORCH_EINVALID;
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return ORCH_EINVALID;
		/* milliseconds: the first three digits, the rest dropped */
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && digits(p + 1, 2) >= 0 &&
	           p[3] == ':' && digits(p + 4, 2) >= 0) {
		off = (digits(p + 1, 2) * 60 + digits(p + 4, 2)) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		return ORCH_EINVALID;
	}
	if (*p)
		return ORCH_EINVALID;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return ORCH_EINVALID;
	*ms = ((int64_t)t - off) * 1000 + frac;
	return 0;
}

void format_rfc3339_ms(char *out, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char sec[24];

	gmtime_r(&t, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03dZ", sec, (int)(ms % 1000));
}

static const struct {
	const char *suffix;
	int64_t ns;
} duration_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "ms", 1000000 },
	{ "s", 1000000000 },
	{ "m", 60LL * 1000000000 },
	{ "h", 3600LL * 1000000000 },
};

int parse_duration(const char *s, int64_t *ns)
{
	const char *p = s;
	int64_t total = 0;

	if (!*p)
		return orch_error_code(ORCH_EINVALID, "empty duration");
	/* A bare number means seconds, as Compose reads integers. */
	if (strspn(p, "0123456789") == strlen(p)) {
		long v;

		if (parse_int(p, 0, INT64_MAX / 1000000000, &v))
			return orch_error_code(ORCH_EINVALID,
			                       "duration '%s' out of range", s);
		*ns = (int64_t)v * 1000000000;
		return 0;
	}
	while (*p) {
		long double v = 0, scale = 1;
		int digits = 0;
		size_t best = 0;
		int64_t unit = 0;

		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			digits++;
			if (v > 1e18)
				goto range;
		}
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p)) {
				scale /= 10;
				v += (*p++ - '0') * scale;
				digits++;
			}
		}
		if (!digits)
			goto syntax;
		for (size_t i = 0;
		     i < sizeof(duration_units) / sizeof(duration_units[0]);
		     i++) {
			size_t l = strlen(duration_units[i].suffix);

			if (!strncmp(p, duration_units[i].suffix, l) &&
			    l > best &&
			    /* "m" must not swallow the "m" of "ms" */
			    !(l == 1 && p[0] == 'm' && p[1] == 's')) {
				best = l;
				unit = duration_units[i].ns;
			}
		}
		if (!best)
			goto syntax;
		p += best;
		v *= unit;
		if (v > (long double)(INT64_MAX - total))
			goto range;
		total += (int64_t)v;
	}
	*ns = total;
	return 0;
syntax:
	return orch_error_code(ORCH_EINVALID,
	                       "invalid duration '%s' (use 500ms, 1s, 1m30s)",
	                       s);
range:
	return orch_error_code(ORCH_EINVALID, "duration '%s' out of range", s);
}

void format_duration(struct buf *out, int64_t ns)
{
	if (ns < 1000000)
		buf_addf(out, "%lldus", (long long)(ns / 1000));
	else if (ns < 1000000000)
		buf_addf(out, "%lldms", (long long)(ns / 1000000));
	else if (ns < 60LL * 1000000000 && ns % 1000000000)
		buf_addf(out, "%.1fs", (double)ns / 1e9);
	else if (ns < 60LL * 1000000000)
		buf_addf(out, "%llds", (long long)(ns / 1000000000));
	else if (ns % (60LL * 1000000000) == 0)
		buf_addf(out, "%lldm", (long long)(ns / (60LL * 1000000000)));
	else
		buf_addf(out, "%lldm%llds",
		         (long long)(ns / (60LL * 1000000000)),
		         (long long)(ns / 1000000000 % 60));
}

int parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return ORCH_EINVALID;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return ORCH_EINVALID;
	*out = v;
	return 0;
}

size_t levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xcalloc(lb + 1, sizeof(*row));
	size_t r;

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	r = row[lb];
	free(row);
	return r;
}

size_t hash_bytes(const char *s, size_t len)
{
	size_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

void strindex_init(struct strindex *ix, size_t n)
{
	size_t size = 16;

	while (size < n * 2)
		size *= 2;
	ix->keys = xcalloc(size, sizeof(*ix->keys));
	ix->vals = xcalloc(size, sizeof(*ix->vals));
	ix->mask = size - 1;
}

void strindex_release(struct strindex *ix)
{
	free(ix->keys);
	free(ix->vals);
	ix->keys = NULL;
	ix->vals = NULL;
}

long strindex_get(const struct strindex *ix, const char *key)
{
	size_t i;

	if (!ix->keys)
		return -1;
	i = hash_bytes(key, strlen(key)) & ix->mask;
	while (ix->keys[i]) {
		if (!strcmp(ix->keys[i], key))
			return (long)ix->vals[i];
		i = (i + 1) & ix->mask;
	}
	return -1;
}

void strindex_put(struct strindex *ix, const char *key, size_t val)
{
	size_t i = hash_bytes(key, strlen(key)) & ix->mask;

	while (ix->keys[i]) {
		if (!strcmp(ix->keys[i], key))
			return;
		i = (i + 1) & ix->mask;
	}
	ix->keys[i] = key;
	ix->vals[i] = val;
}

int read_fd(int fd, const char *name, struct buf *b, size_t cap)
{
	char chunk[8192];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return orch_error_set("%s: %s", name, strerror(errno));
		if (n == 0)
			return 0;
		if (cap && b->len + (size_t)n > cap)
			return orch_error_code(ORCH_ETOOBIG,
			                       "%s: larger than %zu bytes",
			                       name, cap);
		buf_add(b, chunk, (size_t)n);
	}
}

int read_file(const char *path, struct buf *b, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return orch_error_code(errno == ENOENT   ? ORCH_ENOTFOUND
		                       : errno == EACCES ? ORCH_EPERM
		                                         : ORCH_ERROR,
		                       "%s: %s", path, strerror(errno));
	rc = read_fd(fd, path, b, cap);
	close(fd);
	return rc;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	struct buf tmp = BUF_INIT, dir = BUF_INIT;
	const char *slash = strrchr(path, '/');
	const char *p = data;
	struct stat st;
	int fd = -1, dfd, rc = 0;

	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return orch_error_set("%s: exists and is not a regular file",
		                      path);
	if (slash)
		buf_add(&dir, path, (size_t)(slash - path) + 1);
	else
		buf_addstr(&dir, "./");
	buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.data,
	          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = orch_error_set("%s: %s", tmp.data, strerror(errno));
		goto out;
	}
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = orch_error_set("%s: %s", path, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) || close(fd)) {
		fd = -1;
		rc = orch_error_set("%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.data, path)) {
		rc = orch_error_set("%s: %s", path, strerror(errno));
		goto out;
	}
	dfd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp.data);
	buf_release(&tmp);
	buf_release(&dir);
	return rc;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* no overlong forms, no surrogates, nothing above U+10FFFF */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

int buf_add_escaped(struct buf *out, const char *s, size_t len, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, plain = 0;
	int rc = 0;

	while (i < len && rc == 0) {
		size_t n = utf8_len(u + i, len - i);
		char esc[8];

		if (n == 1 && u[i] != 0x7f &&
		    (u[i] >= 0x20 || u[i] == '\t' ||
		     (u[i] == '\n' && (flags & ESCAPE_NEWLINE_OK)))) {
			i++;
			continue;
		}
		if (n > 1 && !(n == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			i += n;
			continue;
		}
		rc = buf_add(out, s + plain, i - plain);
		if (n == 2) { /* a C1 control, as its code point */
			snprintf(esc, sizeof(esc), "\\u00%c%c",
			         hex[u[i + 1] >> 4], hex[u[i + 1] & 15]);
			i += 2;
		} else if (u[i] == '\n' || u[i] == '\r') {
			snprintf(esc, sizeof(esc), "\\%c",
			         u[i] == '\n' ? 'n' : 'r');
			i++;
		} else {
			snprintf(esc, sizeof(esc), "\\x%c%c", hex[u[i] >> 4],
			         hex[u[i] & 15]);
			i++;
		}
		if (rc == 0)
			rc = buf_addstr(out, esc);
		plain = i;
	}
	if (rc == 0)
		rc = buf_add(out, s + plain, i - plain);
	return rc;
}

char *xescape(const char *s)
{
	struct buf b = BUF_INIT;

	buf_add_escaped(&b, s ? s : "", s ? strlen(s) : 0, 0);
	return buf_detach(&b, NULL);
}

int walk_up(int (*visit)(const char *up, void *ud), void *ud)
{
	struct buf up = BUF_INIT;
	int rc = 0;

	for (int i = 0; i < 64 && !rc; i++) {
		char *dir, *real;

		rc = visit(buf_cstr(&up), ud);
		if (rc)
			break;
		dir = xasprintf("%s.", buf_cstr(&up));
		real = realpath(dir, NULL);
		free(dir);
		if (!real || !strcmp(real, "/")) {
			free(real);
			break;
		}
		free(real);
		buf_addstr(&up, "../");
	}
	buf_release(&up);
	return rc;
}
