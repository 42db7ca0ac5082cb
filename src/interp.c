/*
 * interp.c: Compose's string rules: interpolation, the shell-words split
 * and dotenv files (see interp.h).
 *
 * It deliberately knows nothing of YAML, files or the process
 * environment; manifest.c supplies the lookup, the text and the location
 * that prefixes every message.
 */
#include "interp.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Nested defaults recurse; a bound keeps hostile input off the stack. */
#define INTERP_MAX_NEST 16
/*
 * Unset names are kept for warnings, each checked against those already
 * kept: a bound keeps a value naming thousands of them linear.
 */
#define INTERP_MAX_UNSET 100
/* dotenv: the values of one file together, once interpolated. */
#define DOTENV_MAX_EXPANDED (4 * 1024 * 1024)
/* dotenv: unset-variable warnings of one file. */
#define DOTENV_MAX_WARNINGS 100

static int is_name_start(int c)
{
	return c == '_' || isalpha((unsigned char)c);
}

static int is_name_char(int c)
{
	return c == '_' || isalnum((unsigned char)c);
}

static int invalid(const char *whole)
{
	return orch_error_code(ORCH_EINVALID,
	                       "invalid interpolation format in '%s' (escape "
	                       "'$' as '$$')",
	                       whole);
}

/*
 * The index of the '}' closing a "${" whose body starts at s, counting
 * nested "${" as Compose does; -1 when there is none.
 */
static long closing_brace(const char *s, size_t len)
{
	int depth = 1;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '$') {
			i++;
		} else if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			depth++;
			i++;
		} else if (s[i] == '}' && --depth == 0) {
			return (long)i;
		}
	}
	return -1;
}

static int expand(const char *whole, const char *in, size_t len,
                  interp_lookup_fn lookup, void *ctx, struct buf *out,
                  struct strvec *unset, int nest);

static const char *lookup_name(const char *name, size_t n,
                               interp_lookup_fn lookup, void *ctx,
                               struct strvec *unset, int warn)
{
	char *key = xstrndup(name, n);
	const char *v = lookup(ctx, key);

	if (!v && warn && unset && unset->n < INTERP_MAX_UNSET &&
	    strvec_find(unset, key) < 0)
		strvec_push(unset, key);
	free(key);
	return v;
}

/* The body of "${...}" (without the braces) in b[0..n). */
static int braced(const char *whole, const char *b, size_t n,
                  interp_lookup_fn lookup, void *ctx, struct buf *out,
                  struct strvec *unset, int nest)
{
	size_t name_len = 0, k;
	const char *v, *arg;
	size_t arg_len;
	int colon = 0, set;
	char op;

	if (!n || !is_name_start(b[0]))
		return invalid(whole);
	while (name_len < n && is_name_char(b[name_len]))
		name_len++;
	if (name_len == n) {
		v = lookup_name(b, name_len, lookup, ctx, unset, 1);
		return buf_addstr(out, v ? v : "");
	}
	k = name_len;
	if (b[k] == ':') {
		colon = 1;
		k++;
	}
	if (k >= n || !strchr("-+?", b[k]))
		return invalid(whole);
	op = b[k];
	arg = b + k + 1;
	arg_len = n - k - 1;
	v = lookup_name(b, name_len, lookup, ctx, unset, 0);
	/* with ':' an empty value counts as unset */
	set = v && (!colon || *v);

	switch (op) {
	case '-':
		if (set)
			return buf_addstr(out, v);
		return expand(whole, arg, arg_len, lookup, ctx, out, unset,
		              nest + 1);
	case '+':
		if (!set)
			return 0;
		return expand(whole, arg, arg_len, lookup, ctx, out, unset,
		              nest + 1);
	default: {
		struct buf msg = BUF_INIT;
		char *name;
		int rc;

		if (set)
			return buf_addstr(out, v);
		rc = expand(whole, arg, arg_len, lookup, ctx, &msg, unset,
		            nest + 1);
		if (rc) {
			buf_release(&msg);
			return rc;
		}
		name = xstrndup(b, name_len);
		if (msg.len)
			rc = orch_error_code(
			        ORCH_EINVALID,
			        "required variable '%s' is missing a "
			        "value: %s",
			        name, msg.data);
		else
			rc = orch_error_code(
			        ORCH_EINVALID,
			        "required variable '%s' is missing a "
			        "value",
			        name);
		free(name);
		buf_release(&msg);
		return rc;
	}
	}
}

static int expand(const char *whole, const char *in, size_t len,
                  interp_lookup_fn lookup, void *ctx, struct buf *out,
                  struct strvec *unset, int nest)
{
	size_t i = 0;
	int rc = 0;

	if (nest > INTERP_MAX_NEST)
		return orch_error_code(ORCH_EINVALID,
		                       "interpolation nested deeper than %d "
		                       "levels in '%s'",
		                       INTERP_MAX_NEST, whole);
	while (i < len && !rc) {
		const char *dollar = memchr(in + i, '$', len - i);
		size_t j;

		if (!dollar) {
			rc = buf_add(out, in + i, len - i);
			break;
		}
		j = (size_t)(dollar - in);
		rc = buf_add(out, in + i, j - i);
		if (rc)
			break;
		if (j + 1 >= len) {
			/* a trailing '$' is literal */
			rc = buf_addch(out, '$');
			i = j + 1;
		} else if (in[j + 1] == '$') {
			rc = buf_addch(out, '$');
			i = j + 2;
		} else if (in[j + 1] == '{') {
			long close = closing_brace(in + j + 2, len - j - 2);

			if (close < 0)
				return invalid(whole);
			rc = braced(whole, in + j + 2, (size_t)close, lookup,
			            ctx, out, unset, nest);
			i = j + 2 + (size_t)close + 1;
		} else if (is_name_start(in[j + 1])) {
			size_t k = j + 1;
			const char *v;

			while (k < len && is_name_char(in[k]))
				k++;
			v = lookup_name(in + j + 1, k - j - 1, lookup, ctx,
			                unset, 1);
			rc = buf_addstr(out, v ? v : "");
			i = k;
		} else {
			/* "$1", "$ ", "$-": not a variable, kept as is */
			rc = buf_addch(out, '$');
			i = j + 1;
		}
	}
	return rc;
}

int interp_expand(const char *in, interp_lookup_fn lookup, void *ctx,
                  struct buf *out, struct strvec *unset)
{
	return expand(in, in, strlen(in), lookup, ctx, out, unset, 0);
}

int shellwords_split(const char *in, struct strvec *out)
{
	struct buf word = BUF_INIT;
	const char *p = in;
	int in_word = 0, rc = 0;

	for (;;) {
		char c = *p;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n' ||
		    c == '\r') {
			if (in_word)
				strvec_push_nodup(out, buf_detach(&word, NULL));
			in_word = 0;
			if (c == '\0')
				break;
			p++;
			continue;
		}
		in_word = 1;
		if (c == '\\') {
			if (!p[1]) {
				rc = orch_error_code(
				        ORCH_EINVALID,
				        "trailing backslash in '%s'", in);
				goto out;
			}
			buf_addch(&word, p[1]);
			p += 2;
		} else if (c == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (!end)
				goto unterminated;
			buf_add(&word, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else if (c == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] &&
				    strchr("\"\\$`", p[1]))
					p++;
				buf_addch(&word, *p++);
			}
			if (!*p)
				goto unterminated;
			p++;
		} else {
			buf_addch(&word, c);
			p++;
		}
	}
	goto out;
unterminated:
	rc = orch_error_code(ORCH_EINVALID, "unterminated quote in '%s'", in);
out:
	buf_release(&word);
	return rc;
}

static void dotenv_add(struct dotenv *d, char *key, char *value, int line)
{
	ALLOC_GROW(d->items, d->n + 1, d->alloc);
	d->items[d->n].key = key;
	d->items[d->n].value = value;
	d->items[d->n].line = line;
	d->n++;
}

static int by_key_then_line(const void *a, const void *b)
{
	const struct dotenv_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/*
 * Sort by key and keep the last line of each: later lines win, lookups
 * can bisect, and a file of many lines costs n log n, not n^2.
 */
static void dotenv_finish(struct dotenv *d)
{
	size_t out = 0;

	if (d->n > 1)
		qsort(d->items, d->n, sizeof(*d->items), by_key_then_line);
	for (size_t i = 0; i < d->n; i++) {
		if (i + 1 < d->n &&
		    !strcmp(d->items[i].key, d->items[i + 1].key)) {
			free(d->items[i].key);
			free(d->items[i].value);
			continue;
		}
		d->items[out++] = d->items[i];
	}
	d->n = out;
}

/*
 * While parsing with interpolation: each name's latest entry so far, so
 * that a value sees the lines above it in constant time (the entries
 * are sorted only at the end). Open addressing, grown at half full.
 */
struct dotenv_seen {
	size_t *slots; /* entry index + 1; 0: empty */
	size_t mask;
	size_t used;
};

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static size_t *seen_slot(const struct dotenv_seen *h, const struct dotenv *d,
                         const char *key)
{
	size_t i = str_hash(key) & h->mask;

	while (h->slots[i] && strcmp(d->items[h->slots[i] - 1].key, key))
		i = (i + 1) & h->mask;
	return &h->slots[i];
}

static void seen_put(struct dotenv_seen *h, const struct dotenv *d, size_t idx)
{
	size_t *slot;

	if (!h->slots || (h->used + 1) * 2 > h->mask + 1) {
		struct dotenv_seen g = { NULL, h->slots ? h->mask * 2 + 1 : 63,
			                 0 };

		g.slots = xcalloc(g.mask + 1, sizeof(*g.slots));
		for (size_t i = 0; h->slots && i <= h->mask; i++) {
			if (h->slots[i]) {
				*seen_slot(&g, d,
				           d->items[h->slots[i] - 1].key) =
				        h->slots[i];
				g.used++;
			}
		}
		free(h->slots);
		*h = g;
	}
	slot = seen_slot(h, d, d->items[idx].key);
	if (!*slot)
		h->used++;
	*slot = idx + 1;
}

struct dotenv_state {
	const struct dotenv_interp *ip; /* NULL: values are literal */
	struct dotenv *d;
	struct dotenv_seen seen;
	size_t expanded; /* bytes of interpolated values so far */
	size_t nwarnings;
};

/* The process environment first (it wins), then the lines above. */
static const char *state_lookup(void *ctx, const char *name)
{
	struct dotenv_state *st = ctx;
	const char *v =
	        st->ip->lookup ? st->ip->lookup(st->ip->ctx, name) : NULL;
	size_t slot;

	if (v || !st->seen.slots)
		return v;
	slot = *seen_slot(&st->seen, st->d, name);
	return slot ? st->d->items[slot - 1].value : NULL;
}

static void state_warn(struct dotenv_state *st, int line, int col,
                       const char *name)
{
	if (!st->ip->warnings || st->nwarnings > DOTENV_MAX_WARNINGS)
		return;
	if (st->nwarnings++ == DOTENV_MAX_WARNINGS)
		strvec_pushf(st->ip->warnings,
		             "%d:%d: more than %d warnings, the rest are not "
		             "shown",
		             line, col, DOTENV_MAX_WARNINGS);
	else
		strvec_pushf(st->ip->warnings,
		             "%d:%d: variable '%s' is not set, using an empty "
		             "string",
		             line, col, name);
}

/* Interpolate *value (the value of key, from column col) in place. */
static int state_expand(struct dotenv_state *st, const char *key, char **value,
                        int line, int col)
{
	struct strvec unset = STRVEC_INIT;
	struct buf b = BUF_INIT;
	int rc;
	size_t left = DOTENV_MAX_EXPANDED - st->expanded;

	if (!strchr(*value, '$'))
		return 0;
	/* cap 0 would mean no cap */
	buf_init(&b, left ? left : 1);
	rc = interp_expand(*value, state_lookup, st, &b, &unset);
	if (!rc && b.len > left)
		rc = ORCH_ETOOBIG;
	if (rc == ORCH_ETOOBIG)
		rc = orch_error_code(ORCH_EINVALID,
		                     "value of '%s': the values of the file "
		                     "are longer than %d bytes (4 MiB) once "
		                     "interpolated",
		                     key, DOTENV_MAX_EXPANDED);
	else if (rc)
		rc = orch_error_prefix(ORCH_EINVALID, "value of '%s'", key);
	for (size_t i = 0; !rc && i < unset.n; i++)
		state_warn(st, line, col, unset.v[i]);
	if (!rc) {
		st->expanded += b.len;
		free(*value);
		*value = buf_detach(&b, NULL);
	}
	buf_release(&b);
	strvec_clear(&unset);
	return rc;
}

/*
 * One line (line_start..+len, without its newline): 0 or ORCH_EINVALID
 * with *col where the problem is.
 */
static int dotenv_line(struct dotenv_state *st, const char *line_start,
                       size_t len, int line, int *col)
{
	const char *s = line_start, *end = s + len, *k, *eq, *p;
	struct buf v = BUF_INIT;
	char *key, *value;
	int interpolate = 1, rc;

	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	if (s == end || *s == '#')
		return 0;
	if (end - s > 7 && !strncmp(s, "export", 6) &&
	    isspace((unsigned char)s[6])) {
		s += 7;
		while (s < end && isspace((unsigned char)*s))
			s++;
	}
	*col = (int)(s - line_start) + 1;
	k = s;
	while (s < end && is_name_char(*s))
		s++;
	if (s == k || (!is_name_start(*k)))
		return orch_error_code(ORCH_EINVALID, "invalid variable name");
	eq = s;
	while (eq < end && (*eq == ' ' || *eq == '\t'))
		eq++;
	if (eq == end) {
		dotenv_add(st->d, xstrndup(k, (size_t)(s - k)), NULL, line);
		goto added;
	}
	if (*eq != '=') {
		*col = (int)(eq - line_start) + 1;
		return orch_error_code(ORCH_EINVALID,
		                       "expected '=' after the name");
	}
	key = xstrndup(k, (size_t)(s - k));
	p = eq + 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*col = (int)(p - line_start) + 1;
	if (p < end && (*p == '\'' || *p == '"')) {
		char q = *p++;

		/* as in Compose: single quotes are literal */
		interpolate = q == '"';
		while (p < end && *p != q) {
			if (q == '"' && *p == '\\' && p + 1 < end) {
				p++;
				buf_addch(&v, *p == 'n'   ? '\n'
				              : *p == 't' ? '\t'
				                          : *p);
				p++;
				continue;
			}
			buf_addch(&v, *p++);
		}
		if (p >= end) {
			free(key);
			buf_release(&v);
			return orch_error_code(ORCH_EINVALID,
			                       "unterminated quote");
		}
	} else {
		const char *vend = p;

		/* an inline comment needs a blank before '#' */
		while (vend < end && !(*vend == '#' && vend > p &&
		                       isspace((unsigned char)vend[-1])))
			vend++;
		while (vend > p && isspace((unsigned char)vend[-1]))
			vend--;
		buf_add(&v, p, (size_t)(vend - p));
	}
	value = buf_detach(&v, NULL);
	if (st->ip && interpolate) {
		rc = state_expand(st, key, &value, line, *col);
		if (rc) {
			free(key);
			free(value);
			return rc;
		}
	}
	dotenv_add(st->d, key, value, line);
added:
	if (st->ip)
		seen_put(&st->seen, st->d, st->d->n - 1);
	return 0;
}

int dotenv_parse_interp(const char *text, size_t len,
                        const struct dotenv_interp *interp, struct dotenv *out,
                        int *line, int *col)
{
	struct dotenv_state st = { interp, out, { NULL, 0, 0 }, 0, 0 };
	const char *p = text, *end = text + len;
	int n = 0, c = 1, rc = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *nul = memchr(p, '\0', l);

		n++;
		if (nul) {
			c = (int)(nul - p) + 1;
			rc = orch_error_code(ORCH_EINVALID, "NUL byte");
			break;
		}
		rc = dotenv_line(&st, p, l, n, &c);
		if (rc)
			break;
		p += l + (nl ? 1 : 0);
	}
	free(st.seen.slots);
	if (rc) {
		if (line)
			*line = n;
		if (col)
			*col = c;
		return rc;
	}
	dotenv_finish(out);
	return 0;
}

int dotenv_parse(const char *text, size_t len, struct dotenv *out, int *line)
{
	return dotenv_parse_interp(text, len, NULL, out, line, NULL);
}

const char *dotenv_get(const struct dotenv *d, const char *key, int *found)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(d->items[mid].key, key);

		if (!c) {
			if (found)
				*found = 1;
			return d->items[mid].value;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (found)
		*found = 0;
	return NULL;
}

void dotenv_release(struct dotenv *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].key);
		free(d->items[i].value);
	}
	free(d->items);
	d->items = NULL;
	d->n = d->alloc = 0;
}
