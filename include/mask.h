/*
 * mask.h: secret values hidden in whatever orchestrate shows or writes --
 * messages, the failure log tail of `up`, `orchestrate logs`, and later
 * the reports.
 *
 * A mask is a set of values. mask_apply() copies a text replacing every
 * occurrence of any of them by MASK_TEXT ("***"). Occurrences that overlap
 * or touch (two values, or one value twice) become a single "***": no byte
 * of an occurrence survives, so no value appears in the result, not even
 * as part of a longer line. Matching is on bytes, so UTF-8 values match
 * UTF-8 text; a value is never matched across the boundary of two texts
 * given separately -- use a struct mask_stream for output that arrives in
 * pieces.
 *
 * Which values:
 *   mask_add_env()   the value of a variable whose name looks secret
 *                    (mask_is_secret_name());
 *   mask_add()       any value, whatever its name;
 *   mask_add_manifest()  every environment and build argument of the
 *                    manifest's services, stubs and suites, through
 *                    mask_add_env(); those named in the manifest's
 *                    `mask:` list whatever their names, and the process
 *                    environment's values of those names (a value the
 *                    manifest only interpolates, `${DSN}`); and the value
 *                    of every top-level secret, whatever its name (from
 *                    an environment variable, or its file's content up
 *                    to 64 KiB).
 * Values shorter than MASK_MIN_LEN bytes are not recorded: masking "1",
 * "no" or "dev" would turn every such piece of every line into "***" and
 * leave the output unreadable, and a secret that short is guessed anyway.
 * A value spanning several lines is recorded whole and line by line (each
 * line that is long enough), so a program that prints it line by line,
 * or with CRLF line ends, is masked too.
 *
 * Masking runs before escaping (util.h, buf_add_escaped()): values are
 * matched as the program wrote them.
 */
#ifndef ORCH_MASK_H
#define ORCH_MASK_H

#include <stddef.h>

#include "util.h"

struct manifest;
struct mask;

#define MASK_TEXT    "***"
#define MASK_MIN_LEN 4

/* An empty mask (masks nothing). */
struct mask *mask_new(void);
/* Accepts NULL. */
void mask_free(struct mask *m);

/*
 * Whether a variable of this name holds a secret. The name is split into
 * words at every character that is not a letter or digit ('_', '-', '.')
 * and where a lower-case letter meets an upper-case one (camelCase);
 * case does not matter. It is secret when a word
 *   - contains PASSWORD, PASSWD, PASSPHRASE, SECRET or TOKEN
 *     (DB_PASSWORD, MYSQLPASSWORD, CLIENT_SECRET, GITHUB_TOKEN, dbPassword)
 *   - is PASS (DB_PASS, RABBITMQ_DEFAULT_PASS)
 *   - is PWD, but not as the first word (DB_PWD, MYSQL_PWD; PWD and
 *     OLDPWD are directories)
 *   - is KEY or KEYS, or ends in KEY/KEYS after API, ACCESS, PRIVATE,
 *     AUTH, SIGNING, ENCRYPTION, MASTER or LICENSE (API_KEY,
 *     AWS_SECRET_ACCESS_KEY, APIKEY, accessKey; not KEYBOARD, MONKEY,
 *     KEYSPACE).
 */
int mask_is_secret_name(const char *name);

/*
 * Record value. Returns 1 when it was recorded (or was already), 0 when
 * it is NULL or shorter than MASK_MIN_LEN.
 */
int mask_add(struct mask *m, const char *value);
/* Record value when name looks secret; returns 1 when recorded. */
int mask_add_env(struct mask *m, const char *name, const char *value);
/*
 * The manifest's environments (services, stubs, suites) and build args.
 * An environment entry without a value takes the process environment's,
 * as the container does.
 */
void mask_add_manifest(struct mask *m, const struct manifest *mf);
/* How many values are recorded. */
size_t mask_count(const struct mask *m);

/*
 * Append text (len bytes) to out with every value masked. m NULL or empty:
 * copied as it is. Returns 0, or buf_add()'s ORCH_ETOOBIG when out's cap
 * is reached (what fitted is appended).
 */
int mask_apply(const struct mask *m, struct buf *out, const char *text,
               size_t len);

/*
 * Output that arrives in pieces (a stream's chunks): mask_feed() appends
 * what is final to out and holds back at most the longest value's length
 * minus one byte (a value may be cut by the chunk boundary);
 * mask_finish() appends the rest and releases the stream. The result is
 * the same as mask_apply() of the whole text. The mask must not change
 * between feeds.
 *
 *   struct mask_stream st = MASK_STREAM_INIT;
 *   while (read chunk) mask_feed(m, &st, &out, chunk, n);
 *   mask_finish(m, &st, &out);
 */
struct mask_stream {
	struct buf pending;
};
#define MASK_STREAM_INIT                                                       \
	{                                                                      \
		BUF_INIT                                                       \
	}
int mask_feed(const struct mask *m, struct mask_stream *s, struct buf *out,
              const char *data, size_t len);
int mask_finish(const struct mask *m, struct mask_stream *s, struct buf *out);

#endif
