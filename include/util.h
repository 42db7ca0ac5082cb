/*
 * util.h: allocation wrappers, the growable buffer, the argv vector and
 * time helpers that every other module builds on.
 *
 * Allocation wrappers abort on out-of-memory: there is nothing sensible a
 * test orchestrator can do without memory, and it keeps every caller free
 * of impossible error paths.
 */
#ifndef ORCH_UTIL_H
#define ORCH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *p (of *alloc elements of size sz) to hold at least n elements. */
#define ALLOC_GROW(p, n, alloc)                                                \
	do {                                                                   \
		if ((n) > (alloc)) {                                           \
			size_t grow_ = (alloc) < 8 ? 8 : (alloc)*2;            \
			if (grow_ < (n))                                       \
				grow_ = (n);                                   \
			(p) = xrealloc((p), grow_ * sizeof(*(p)));             \
			(alloc) = grow_;                                       \
		}                                                              \
	} while (0)

/*
 * struct buf: a growable byte buffer, always NUL-terminated (data may
 * contain NULs too). `cap` bounds the length for anything read from the
 * network, files or child output: buf_add() past it fails with
 * ORCH_ETOOBIG and leaves the buffer unchanged. cap 0 means unbounded.
 *
 *   struct buf b = BUF_INIT;   caller-owned; buf_release() when done
 */
struct buf {
	char *data; /* never NULL after the first add; "" via buf_cstr() */
	size_t len;
	size_t alloc;
	size_t cap;
};
#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0, 0                                                  \
	}

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps the memory */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, int c);
int buf_addf(struct buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Remove the first n bytes. */
void buf_consume(struct buf *b, size_t n);
const char *buf_cstr(const struct buf *b);
/* Hand the string to the caller (free() it) and reset the buffer. */
char *buf_detach(struct buf *b, size_t *len);

/*
 * struct strvec: a NULL-terminated vector of owned strings, usable as argv.
 */
struct strvec {
	char **v; /* v[n] == NULL once anything was pushed */
	size_t n;
	size_t alloc;
};
#define STRVEC_INIT                                                            \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void strvec_init(struct strvec *sv);
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void strvec_push_nodup(struct strvec *sv, char *s);
void strvec_clear(struct strvec *sv);
void strvec_copy(struct strvec *dst, const struct strvec *src);
/* Index of s in sv, or -1. */
int strvec_find(const struct strvec *sv, const char *s);

/* Monotonic clock in milliseconds and nanoseconds. */
int64_t now_ms(void);
int64_t now_ns(void);
/* Wall clock in milliseconds since the epoch. */
int64_t wall_ms(void);
/*
 * RFC 3339 timestamps as the engine writes them ("2026-11-26T00:40:01Z",
 * "...T00:40:01.123456789Z", "...T01:40:01+01:00") to and from
 * milliseconds since the epoch. parse: ORCH_EINVALID on anything else.
 * format: UTC with milliseconds, out holds at least 32 bytes.
 */
int parse_rfc3339_ms(const char *s, int64_t *ms);
void format_rfc3339_ms(char *out, size_t n, int64_t ms);

/*
 * Parse a Compose duration ("1s", "1m30s", "500ms", "2h", "1.5s", "10us")
 * into nanoseconds. A bare number means seconds. Returns ORCH_EINVALID on
 * syntax errors, negative values and overflow.
 */
int parse_duration(const char *s, int64_t *ns);
/* Format ns as a short human duration ("1.5s", "2m", "250ms"). */
void format_duration(struct buf *out, int64_t ns);

/* Parse a decimal integer in [min, max]; ORCH_EINVALID otherwise. */
int parse_int(const char *s, long min, long max, long *out);

/* Edit distance, for "did you mean" suggestions. */
size_t levenshtein(const char *a, const char *b);

/* FNV-1a of len bytes, for open-addressing tables. */
size_t hash_bytes(const char *s, size_t len);

/*
 * struct strindex: names to indexes, sized once for n names, so that
 * lookups stay linear however many names a hostile manifest holds. Keys
 * are borrowed: they must outlive the index. The first put of a name
 * wins; strindex_get() is -1 for a name never put (or an index never
 * initialised).
 */
struct strindex {
	const char **keys;
	size_t *vals;
	size_t mask;
};

void strindex_init(struct strindex *ix, size_t n);
void strindex_release(struct strindex *ix);
void strindex_put(struct strindex *ix, const char *key, size_t val);
long strindex_get(const struct strindex *ix, const char *key);

/* Read a whole file into b, at most cap bytes (ORCH_ETOOBIG beyond). */
int read_file(const char *path, struct buf *b, size_t cap);
/*
 * The same from an open descriptor up to its end; name is for messages.
 * Reading stops at the first chunk past cap: a writer that never stops
 * costs at most cap plus one chunk. The caller closes fd.
 */
int read_fd(int fd, const char *name, struct buf *b, size_t cap);

/*
 * Write data to path atomically: a temporary file in the same directory
 * (O_EXCL|O_NOFOLLOW), fsync, rename, fsync of the directory. Refuses to
 * replace anything but a regular file.
 */
int write_file_atomic(const char *path, const void *data, size_t len);

/*
 * Text from manifests, engine answers, labels and container output made
 * safe to print on a terminal: the C0 control characters (ESC, BEL, CR,
 * backspace, ...) but tab, DEL, and the C1 controls U+0080..U+009F become
 * visible escapes (`\x1b`, `\r`, `\x7f`, `\u009b`), as does every byte
 * that is not part of valid UTF-8 (`\xff`); newline too (`\n`) unless
 * ESCAPE_NEWLINE_OK (text meant to span lines). Everything else, UTF-8
 * text and backslashes included, is copied as it is. So nothing we print
 * can move the cursor, retitle the window or rewrite the screen. Returns
 * buf_add()'s result.
 */
#define ESCAPE_NEWLINE_OK 1u
int buf_add_escaped(struct buf *out, const char *s, size_t len, unsigned flags);
/* s (a C string, newlines escaped too) escaped into a new string. */
char *xescape(const char *s);

/*
 * visit(up, ud) with up = "", "../", "../../", ...: the current directory,
 * then each parent up to the root, as Compose looks for its file. Stops
 * at the first non-zero return, which it returns; 0 when none.
 */
int walk_up(int (*visit)(const char *up, void *ud), void *ud);

#endif
