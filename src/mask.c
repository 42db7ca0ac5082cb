/*
 * mask.c: secret values replaced by "***" in text (mask.h). Pure: the
 * only outside facts are the manifest it is given and, for environment
 * entries without a value, the process environment. It does not decide
 * where masking applies; the commands do.
 */
#include "mask.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "util.h"

struct value {
	char *s;
	size_t len;
};

struct mask {
	struct value *v;
	size_t n;
	size_t alloc;
	size_t maxlen;
};

struct mask *mask_new(void)
{
	return xcalloc(1, sizeof(struct mask));
}

void mask_free(struct mask *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].s);
	free(m->v);
	free(m);
}

size_t mask_count(const struct mask *m)
{
	return m ? m->n : 0;
}

/* ---- names -------------------------------------------------------------- */

static int ends_with(const char *w, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(w + n - k, suffix, k);
}

/* One upper-cased word of a name; k is its index in the name. */
static int secret_word(const char *w, size_t n, size_t k)
{
	static const char *const anywhere[] = { "PASSWORD", "PASSWD",
		                                "PASSPHRASE", "SECRET",
		                                "TOKEN" };
	static const char *const key_owners[] = { "API",     "ACCESS",
		                                  "PRIVATE", "AUTH",
		                                  "SIGNING", "ENCRYPTION",
		                                  "MASTER",  "LICENSE" };
	char word[64];

	if (n >= sizeof(word))
		n = sizeof(word) - 1;
	memcpy(word, w, n);
	word[n] = '\0';
	for (size_t i = 0; i < sizeof(anywhere) / sizeof(anywhere[0]); i++)
		if (strstr(word, anywhere[i]))
			return 1;
	if (!strcmp(word, "PASS") || (!strcmp(word, "PWD") && k > 0))
		return 1;
	if (!strcmp(word, "KEY") || !strcmp(word, "KEYS"))
		return 1;
	if (ends_with(word, n, "KEYS"))
		n -= 4;
	else if (ends_with(word, n, "KEY"))
		n -= 3;
	else
		return 0;
	for (size_t i = 0; i < sizeof(key_owners) / sizeof(key_owners[0]); i++)
		if (strlen(key_owners[i]) == n &&
		    !memcmp(word, key_owners[i], n))
			return 1;
	return 0;
}

int mask_is_secret_name(const char *name)
{
	char up[256];
	size_t start = 0, k = 0, i;

	if (!name)
		return 0;
	for (i = 0;; i++) {
		unsigned char c = (unsigned char)name[i];
		int boundary = !c || !isalnum(c) ||
		               (i > 0 && isupper(c) &&
		                islower((unsigned char)name[i - 1]));

		if (boundary && i > start) {
			size_t n = i - start;

			if (n >= sizeof(up))
				n = sizeof(up) - 1;
			for (size_t j = 0; j < n; j++)
				up[j] = (char)toupper(
				        (unsigned char)name[start + j]);
			if (secret_word(up, n, k++))
				return 1;
		}
		if (!c)
			return 0;
		if (boundary)
			start = isalnum(c) ? i : i + 1;
	}
}

/* ---- values ------------------------------------------------------------- */

static void add_one(struct mask *m, const char *s, size_t len)
{
	if (len < MASK_MIN_LEN)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].len == len && !memcmp(m->v[i].s, s, len))
			return;
	ALLOC_GROW(m->v, m->n + 1, m->alloc);
	m->v[m->n].s = xstrndup(s, len);
	m->v[m->n].len = len;
	m->n++;
	if (len > m->maxlen)
		m->maxlen = len;
}

int mask_add(struct mask *m, const char *value)
{
	size_t len = value ? strlen(value) : 0;
	const char *p;

	if (!m || len < MASK_MIN_LEN)
		return 0;
	add_one(m, value, len);
	/* a value of several lines: each line too */
	for (p = value; strchr(p, '\n');) {
		size_t n = (size_t)(strchr(p, '\n') - p);

		add_one(m, p, n && p[n - 1] == '\r' ? n - 1 : n);
		p += n + 1;
	}
	if (p != value)
		add_one(m, p, strlen(p));
	return 1;
}

int mask_add_env(struct mask *m, const char *name, const char *value)
{
	if (!mask_is_secret_name(name))
		return 0;
	return mask_add(m, value);
}

/* listed: the manifest's `mask:` names, secret whatever they look like */
static void add_kvs(struct mask *m, const struct mf_kvs *kvs, int from_env,
                    const struct strvec *listed)
{
	for (size_t i = 0; i < kvs->n; i++) {
		const struct mf_kv *kv = &kvs->items[i];
		const char *v = kv->value;

		if (!v && from_env)
			v = getenv(kv->key);
		if (strvec_find(listed, kv->key) >= 0)
			mask_add(m, v);
		else
			mask_add_env(m, kv->key, v);
	}
}

static void add_container(struct mask *m, const struct mf_container *c,
                          const struct strvec *listed)
{
	add_kvs(m, &c->environment, 1, listed);
	if (c->build)
		add_kvs(m, &c->build->args, 0, listed);
}

/* A secret's file is read to mask its value up to this size. */
#define MASK_SECRET_FILE_MAX (64 * 1024)

void mask_add_manifest(struct mask *m, const struct manifest *mf)
{
	if (!m || !mf)
		return;
	for (size_t i = 0; i < mf->nservices; i++) {
		const struct mf_service *s = &mf->services[i];

		if (s->has_real)
			add_container(m, &s->real, &mf->mask);
		if (s->stub)
			add_container(m, s->stub, &mf->mask);
	}
	for (size_t i = 0; i < mf->nsuites; i++) {
		add_container(m, &mf->suites[i].container, &mf->mask);
		add_kvs(m, &mf->suites[i].environment, 1, &mf->mask);
	}
	/* secrets, whatever their name: their value, or their file's */
	for (size_t i = 0; i < mf->nsecrets; i++) {
		const struct mf_secret *s = &mf->secrets[i];
		struct buf b = BUF_INIT;

		if (s->content)
			mask_add(m, s->content);
		if (s->file && !read_file(s->file, &b, MASK_SECRET_FILE_MAX)) {
			mask_add(m, buf_cstr(&b));
			/* without the final newline, as programs print it */
			while (b.len && (b.data[b.len - 1] == '\n' ||
			                 b.data[b.len - 1] == '\r'))
				b.data[--b.len] = '\0';
			mask_add(m, buf_cstr(&b));
		}
		buf_release(&b);
	}
	/* a listed variable the manifest only interpolates: its value as
	   the process has it */
	for (size_t i = 0; i < mf->mask.n; i++)
		mask_add(m, getenv(mf->mask.v[i]));
}

/* ---- masking ------------------------------------------------------------ */

#define NONE SIZE_MAX

static size_t find(const struct value *v, const char *text, size_t len,
                   size_t from)
{
	const char *p;

	if (from >= len || len - from < v->len)
		return NONE;
	p = memmem(text + from, len - from, v->s, v->len);
	return p ? (size_t)(p - text) : NONE;
}

/*
 * Append text to out, each stretch covered by occurrences of values
 * replaced by MASK_TEXT, and return how many bytes were consumed. Only
 * what more text could not change is consumed: bytes before limit, and
 * stretches that end before limit (limit > len: everything).
 */
static size_t scan(const struct mask *m, const char *text, size_t len,
                   size_t limit, struct buf *out, int *rc)
{
	size_t *next = xcalloc(m->n, sizeof(*next));
	size_t pos = 0;

	for (size_t i = 0; i < m->n; i++)
		next[i] = find(&m->v[i], text, len, 0);
	while (*rc == 0) {
		size_t start = NONE, end;
		int grew;

		for (size_t i = 0; i < m->n; i++)
			if (next[i] < start)
				start = next[i];
		if (start == NONE || start >= limit) {
			size_t stop = limit < len ? limit : len;

			*rc = buf_add(out, text + pos, stop - pos);
			pos = stop;
			break;
		}
		/* the stretch: every occurrence that overlaps or touches */
		end = start;
		do {
			grew = 0;
			for (size_t i = 0; i < m->n; i++) {
				while (next[i] != NONE && next[i] <= end) {
					if (next[i] + m->v[i].len > end)
						end = next[i] + m->v[i].len;
					next[i] = find(&m->v[i], text, len,
					               next[i] + 1);
					grew = 1;
				}
			}
		} while (grew);
		if (end >= limit) {
			/* more text may extend it: keep it for later */
			*rc = buf_add(out, text + pos, start - pos);
			pos = start;
			break;
		}
		*rc = buf_add(out, text + pos, start - pos);
		if (*rc == 0)
			*rc = buf_addstr(out, MASK_TEXT);
		pos = end;
	}
	free(next);
	return pos;
}

int mask_apply(const struct mask *m, struct buf *out, const char *text,
               size_t len)
{
	int rc = 0;

	if (!m || !m->n)
		return buf_add(out, text, len);
	scan(m, text, len, len + 1, out, &rc);
	return rc;
}

int mask_feed(const struct mask *m, struct mask_stream *s, struct buf *out,
              const char *data, size_t len)
{
	size_t limit, used;
	int rc = 0;

	if (!m || !m->n) {
		/* nothing held back: flush what an earlier feed kept */
		rc = buf_add(out, s->pending.data ? s->pending.data : "",
		             s->pending.len);
		buf_reset(&s->pending);
		return rc ? rc : buf_add(out, data, len);
	}
	buf_add(&s->pending, data, len);
	/* an occurrence not yet complete starts at limit or later */
	limit = s->pending.len >= m->maxlen ? s->pending.len - m->maxlen + 1
	                                    : 0;
	used = scan(m, s->pending.data, s->pending.len, limit, out, &rc);
	buf_consume(&s->pending, used);
	return rc;
}

int mask_finish(const struct mask *m, struct mask_stream *s, struct buf *out)
{
	int rc = mask_apply(m, out, s->pending.data ? s->pending.data : "",
	                    s->pending.len);

	buf_release(&s->pending);
	return rc;
}
