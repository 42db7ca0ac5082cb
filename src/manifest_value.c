/*
 * manifest_value.c: one YAML value -> one C value, for the converters of
 * the schema walk (manifest_int.h): Compose interpolation of every
 * scalar (interp.c), strings, integers, booleans, durations, string
 * lists, commands, KEY=VALUE lists, paths made absolute, names, and the
 * cost of a regular expression. Also where errors and warnings get the
 * node's place.
 *
 * A reader sees one value and the key it belongs to, never its
 * neighbours: which keys go together is manifest_check.c's business,
 * and which key is read with which reader is the walk's.
 */
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "manifest_int.h"

#define LIMIT_NAME   63
#define LIMIT_REGEX  1024
#define MAX_WARNINGS 100

const char *mf_origin(const struct mf_conv *c, const struct ynode *n)
{
	return n && n->file < c->nfiles ? c->files[n->file].name
	                                : c->files[0].name;
}

const char *mf_model_file(const struct mf_conv *c, const struct ynode *n)
{
	size_t i = n && n->file < c->m->files.n ? n->file : 0;

	return c->m->files.v[i];
}

const char *mf_dir(const struct mf_conv *c, const struct ynode *n)
{
	return n && n->file < c->nfiles ? c->files[n->file].dir
	                                : c->files[0].dir;
}

int mf_err(struct mf_conv *c, const struct ynode *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int rc;

	/* "service 'api': ..." while its keys are read */
	if (c->unit)
		buf_addf(&b, "%s: ", c->unit);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	rc = orch_error_at(mf_origin(c, n), n->line, n->col, "%s",
	                   buf_cstr(&b));
	buf_release(&b);
	return rc;
}

void mf_warn(struct mf_conv *c, const struct ynode *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	struct mf_warning *w;
	va_list ap;
	char *msg;

	if (!c->warnings || c->nwarnings > MAX_WARNINGS)
		return;
	buf_addf(&b, "%s:%d:%d: ", mf_origin(c, n), n->line, n->col);
	if (c->unit)
		buf_addf(&b, "%s: ", c->unit);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	msg = buf_detach(&b, NULL);
	/* an alias can bring one node in several times: warn once */
	for (size_t i = 0; i < c->nwl; i++) {
		if (!strcmp(c->wl[i].text, msg)) {
			free(msg);
			return;
		}
	}
	c->nwarnings++;
	ALLOC_GROW(c->wl, c->nwl + 1, c->awl);
	w = &c->wl[c->nwl];
	w->file = n->file;
	w->line = n->line;
	w->col = n->col;
	w->seq = c->nwl;
	w->text = msg;
	c->nwl++;
}

static int by_place(const void *a, const void *b)
{
	const struct mf_warning *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

void mf_flush_warnings(struct mf_conv *c)
{
	if (c->nwl)
		qsort(c->wl, c->nwl, sizeof(*c->wl), by_place);
	for (size_t i = 0; i < c->nwl; i++) {
		/* a flood of warnings hides the one that matters */
		if (c->warnings && i < MAX_WARNINGS)
			strvec_push_nodup(c->warnings, c->wl[i].text);
		else
			free(c->wl[i].text);
	}
	if (c->warnings && c->nwl > MAX_WARNINGS)
		strvec_pushf(c->warnings,
		             "%s: more than %d warnings, the rest "
		             "are not shown",
		             mf_origin(c, NULL), MAX_WARNINGS);
	free(c->wl);
	c->wl = NULL;
	c->nwl = c->awl = 0;
}

const char *mf_var_get(const struct mf_vars *v, const char *name)
{
	const char *val = v->getenv_fn(name);

	if (!val && v->dotenv)
		val = dotenv_get(v->dotenv, name, NULL);
	return val;
}

static const char *vars_lookup(void *ctx, const char *name)
{
	return mf_var_get(ctx, name);
}

/* The interpolated text of a scalar value (owned by the caller). */
int mf_scalar(struct mf_conv *c, const struct ynode *n, const char *what,
              char **out)
{
	struct strvec unset = STRVEC_INIT;
	struct buf b = BUF_INIT;
	int rc;

	*out = NULL;
	if (n->kind != Y_SCALAR)
		return mf_err(c, n, "'%s' must be a string", what);
	if (ynode_is_null(n)) {
		*out = xstrdup("");
		return 0;
	}
	if (!memchr(n->str, '$', n->len)) {
		*out = xstrndup(n->str, n->len);
		return 0;
	}
	buf_init(&b, YTREE_MAX_SCALAR);
	rc = interp_expand(
	        n->str, vars_lookup,
	        c->vars[n->file < c->nfiles ? c->files[n->file].vars : 0], &b,
	        &unset);
	if (rc == ORCH_ETOOBIG)
		rc = mf_err(c, n, "'%s' longer than %d bytes once interpolated",
		            what, YTREE_MAX_SCALAR);
	else if (rc)
		rc = mf_err(c, n, "%s", orch_error_last());
	for (size_t i = 0; !rc && i < unset.n; i++)
		mf_warn(c, n, "variable '%s' is not set, using an empty string",
		        unset.v[i]);
	if (!rc)
		*out = buf_detach(&b, NULL);
	buf_release(&b);
	strvec_clear(&unset);
	return rc;
}

int mf_get_string(struct mf_conv *c, const struct ynode *n, const char *what,
                  char **out)
{
	char *s;
	int rc = mf_scalar(c, n, what, &s);

	if (rc)
		return rc;
	free(*out);
	*out = s;
	return 0;
}

int mf_get_int(struct mf_conv *c, const struct ynode *n, const char *what,
               long min, long max, long *out)
{
	char *s;
	int rc;

	if (n->kind != Y_SCALAR)
		return mf_err(c, n, "'%s' must be an integer", what);
	rc = mf_scalar(c, n, what, &s);
	if (rc)
		return rc;
	if (parse_int(s, LONG_MIN, LONG_MAX, out))
		rc = mf_err(c, n, "'%s' must be an integer, not '%s'", what, s);
	else if ((*out < min || *out > max) && max == INT_MAX)
		rc = mf_err(c, n, "'%s' must be %ld or more, not %ld", what,
		            min, *out);
	else if (*out < min || *out > max)
		rc = mf_err(c, n, "'%s' must be between %ld and %ld, not %ld",
		            what, min, max, *out);
	free(s);
	return rc;
}

int mf_get_port(struct mf_conv *c, const struct ynode *n, const char *what,
                int *out)
{
	long v;
	int rc = mf_get_int(c, n, what, 1, 65535, &v);

	if (!rc)
		*out = (int)v;
	return rc;
}

int mf_get_bool(struct mf_conv *c, const struct ynode *n, const char *what,
                int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	char *s;
	int rc;

	if (n->kind != Y_SCALAR)
		return mf_err(c, n, "'%s' must be true or false", what);
	rc = mf_scalar(c, n, what, &s);
	if (rc)
		return rc;
	rc = mf_err(c, n, "'%s' must be true or false, not '%s'", what, s);
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			rc = 0;
		}
	}
	free(s);
	return rc;
}

int mf_get_duration(struct mf_conv *c, const struct ynode *n, const char *what,
                    int64_t *out)
{
	char *s;
	int rc;

	if (n->kind != Y_SCALAR)
		return mf_err(c, n, "'%s' must be a duration", what);
	rc = mf_scalar(c, n, what, &s);
	if (rc)
		return rc;
	if (parse_duration(s, out))
		rc = mf_err(c, n, "'%s': %s", what, orch_error_last());
	free(s);
	return rc;
}

/* 1024-based, as Compose's sizes (go-units RAMInBytes) */
static int parse_bytes(const char *s, int64_t *out)
{
	static const char *const units[] = { "b", "k", "m", "g", "t", "p" };
	char *end;
	double v;
	int64_t mult = 1;
	size_t l;

	while (*s == ' ')
		s++;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	v = strtod(s, &end);
	if (end == s || v != v)
		return -1;
	while (*end == ' ')
		end++;
	l = strlen(end);
	if (l) {
		size_t u;
		char c0 = (char)(end[0] | 0x20);

		for (u = 0; u < 6 && c0 != units[u][0]; u++)
			mult *= 1024;
		if (u == 6)
			return -1;
		/* k, kb, kib (and B) */
		if (!(l == 1 || (l == 2 && (end[1] | 0x20) == 'b' && u) ||
		      (l == 3 && (end[1] | 0x20) == 'i' &&
		       (end[2] | 0x20) == 'b' && u)))
			return -1;
	}
	if (v * (double)mult > 9.2e18)
		return -1;
	*out = (int64_t)(v * (double)mult);
	return 0;
}

int mf_get_bytes(struct mf_conv *c, const struct ynode *n, const char *what,
                 int64_t *out)
{
	char *s;
	int rc;

	if (n->kind != Y_SCALAR)
		return mf_err(c, n, "'%s' must be a size", what);
	rc = mf_scalar(c, n, what, &s);
	if (rc)
		return rc;
	if (parse_bytes(s, out))
		rc = mf_err(c, n,
		            "'%s' must be a size (bytes, or a number and b, "
		            "k, m, g or t), not '%.80s'",
		            what, s);
	free(s);
	return rc;
}

int mf_get_number(struct mf_conv *c, const struct ynode *n, const char *what,
                  double *out)
{
	char *s, *end;
	int rc;

	if (n->kind != Y_SCALAR)
		return mf_err(c, n, "'%s' must be a number", what);
	rc = mf_scalar(c, n, what, &s);
	if (rc)
		return rc;
	*out = strtod(s, &end);
	if (!*s || *end || *out != *out || *out < 0 || *out > 1e6)
		rc = mf_err(c, n, "'%s' must be a number, not '%.80s'", what,
		            s);
	free(s);
	return rc;
}

int mf_get_micros(struct mf_conv *c, const struct ynode *n, const char *what,
                  int64_t *out)
{
	char *s;
	long l;
	int rc;

	if (n->kind != Y_SCALAR)
		return mf_err(c, n, "'%s' must be microseconds or a duration",
		              what);
	rc = mf_scalar(c, n, what, &s);
	if (rc)
		return rc;
	if (!parse_int(s, 0, LONG_MAX, &l)) {
		*out = l;
	} else if (!parse_duration(s, out)) {
		*out /= 1000;
	} else {
		rc = mf_err(c, n,
		            "'%s' must be microseconds or a duration, not "
		            "'%.80s'",
		            what, s);
	}
	free(s);
	return rc;
}

int mf_get_strings(struct mf_conv *c, const struct ynode *n, const char *what,
                   struct strvec *out)
{
	char *s;
	int rc;

	if (n->kind == Y_MAP)
		return mf_err(c, n, "'%s' must be a string or a sequence",
		              what);
	if (n->kind == Y_SCALAR) {
		rc = mf_scalar(c, n, what, &s);
		if (!rc)
			strvec_push_nodup(out, s);
		return rc;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (n->items[i]->kind != Y_SCALAR)
			return mf_err(c, n->items[i],
			              "'%s' entries must be strings", what);
		rc = mf_scalar(c, n->items[i], what, &s);
		if (rc)
			return rc;
		strvec_push_nodup(out, s);
	}
	return 0;
}

/* A string is split like a shell would, without running one (Compose). */
int mf_get_command(struct mf_conv *c, const struct ynode *n, const char *what,
                   struct strvec *out)
{
	char *s;
	int rc;

	strvec_clear(out);
	if (n->kind != Y_SCALAR)
		return mf_get_strings(c, n, what, out);
	rc = mf_scalar(c, n, what, &s);
	if (rc)
		return rc;
	rc = shellwords_split(s, out);
	if (rc)
		rc = mf_err(c, n, "'%s': %s", what, orch_error_last());
	free(s);
	return rc;
}

void mf_kvs_add(struct mf_kvs *kv, const char *key, char *value)
{
	ALLOC_GROW(kv->items, kv->n + 1, kv->alloc);
	kv->items[kv->n].key = xstrdup(key);
	kv->items[kv->n].value = value;
	kv->n++;
}

static const struct mf_kvs *sort_kvs;

static int by_key_then_pos(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(sort_kvs->items[x].key, sort_kvs->items[y].key);

	return c ? c : (x > y) - (x < y);
}

/*
 * One entry per key: the place of the first, the value of the last (an
 * environment: entry overrides an env_file line). Sorting keeps it
 * n log n where a lookup per insertion would be n^2 on hostile input.
 */
void mf_kvs_dedupe(struct mf_kvs *kv)
{
	size_t *ix, out = 0;
	char *drop;

	if (kv->n < 2)
		return;
	ix = xcalloc(kv->n, sizeof(*ix));
	drop = xcalloc(kv->n, 1);
	for (size_t i = 0; i < kv->n; i++)
		ix[i] = i;
	sort_kvs = kv;
	qsort(ix, kv->n, sizeof(*ix), by_key_then_pos);
	for (size_t i = 0; i + 1 < kv->n; i++) {
		struct mf_kv *first = &kv->items[ix[i]];
		size_t j = i + 1;

		while (j < kv->n && !strcmp(first->key, kv->items[ix[j]].key)) {
			free(first->value);
			first->value = kv->items[ix[j]].value;
			kv->items[ix[j]].value = NULL;
			drop[ix[j]] = 1;
			j++;
		}
		i = j - 1;
	}
	for (size_t i = 0; i < kv->n; i++) {
		if (drop[i]) {
			free(kv->items[i].key);
			continue;
		}
		kv->items[out++] = kv->items[i];
	}
	kv->n = out;
	free(ix);
	free(drop);
}

void mf_kvs_release(struct mf_kvs *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->items[i].key);
		free(kv->items[i].value);
	}
	free(kv->items);
	kv->items = NULL;
	kv->n = kv->alloc = 0;
}

/*
 * A mapping, or a sequence of KEY=VALUE. A bare KEY (or a null value)
 * gives bare_value: NULL for environments ("take it from the caller's
 * environment"), "" for labels.
 */
int mf_get_kvs(struct mf_conv *c, const struct ynode *n, const char *what,
               const char *bare_value, struct mf_kvs *out)
{
	char *s;
	int rc;

	if (n->kind == Y_SCALAR)
		return mf_err(c, n, "'%s' must be a mapping or a sequence",
		              what);
	if (n->kind == Y_MAP) {
		for (size_t i = 0; i + 1 < n->n; i += 2) {
			const struct ynode *k = n->items[i],
			                   *v = n->items[i + 1];

			if (!k->len)
				return mf_err(c, k, "empty key in '%s'", what);
			if (ynode_is_null(v)) {
				mf_kvs_add(out, k->str,
				           bare_value ? xstrdup(bare_value)
				                      : NULL);
				continue;
			}
			if (v->kind != Y_SCALAR)
				return mf_err(c, v,
				              "'%s' values must be strings",
				              what);
			rc = mf_scalar(c, v, what, &s);
			if (rc)
				return rc;
			mf_kvs_add(out, k->str, s);
		}
		mf_kvs_dedupe(out);
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *e = n->items[i];
		char *eq;

		if (e->kind != Y_SCALAR)
			return mf_err(c, e,
			              "'%s' entries must be KEY=VALUE strings",
			              what);
		rc = mf_scalar(c, e, what, &s);
		if (rc)
			return rc;
		eq = strchr(s, '=');
		if (eq == s || !*s) {
			free(s);
			return mf_err(c, e, "'%s' entry without a name", what);
		}
		if (eq) {
			*eq = '\0';
			mf_kvs_add(out, s, xstrdup(eq + 1));
		} else {
			mf_kvs_add(out, s,
			           bare_value ? xstrdup(bare_value) : NULL);
		}
		free(s);
	}
	mf_kvs_dedupe(out);
	return 0;
}

int mf_valid_name(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > LIMIT_NAME)
		return 0;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      (*s >= '0' && *s <= '9')))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                 "0123456789_.-") == len;
}

int mf_check_name(struct mf_conv *c, const struct ynode *n, const char *kind)
{
	if (mf_valid_name(n->str))
		return 0;
	return mf_err(c, n,
	              "invalid %s name '%.80s' (letters, digits, '_', '.' and "
	              "'-', starting with a letter or digit, at most %d "
	              "characters)",
	              kind, n->str, LIMIT_NAME);
}

/* The candidate closest to word, if it is a plausible typo of it. */
const char *mf_closest(const char *word, const char *const *cands, size_t n)
{
	size_t best = (size_t)-1, limit = strlen(word) / 3;
	const char *found = NULL;

	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	if (strlen(word) > 128)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d = levenshtein(word, cands[i]);

		if (d < best) {
			best = d;
			found = cands[i];
		}
	}
	return best <= limit ? found : NULL;
}

/* Lexically: "a/./b/../c" -> "a/c"; keeps a leading '/'. */
char *mf_path_normalize(const char *path)
{
	struct strvec parts = STRVEC_INIT;
	struct buf out = BUF_INIT;
	const char *p = path;

	while (*p) {
		size_t l = strcspn(p, "/");

		if (l == 2 && !strncmp(p, "..", 2)) {
			if (parts.n) {
				free(parts.v[--parts.n]);
				parts.v[parts.n] = NULL;
			}
		} else if (l && !(l == 1 && *p == '.')) {
			strvec_push_nodup(&parts, xstrndup(p, l));
		}
		p += l;
		while (*p == '/')
			p++;
	}
	for (size_t i = 0; i < parts.n; i++)
		buf_addf(&out, "/%s", parts.v[i]);
	if (!out.len)
		buf_addch(&out, '/');
	strvec_clear(&parts);
	return buf_detach(&out, NULL);
}

/* An absolute path for p, relative paths against its file's directory. */
char *mf_resolve_path(struct mf_conv *c, const struct ynode *at, const char *p)
{
	char *joined, *r;

	if (*p == '/')
		return mf_path_normalize(p);
	if (p[0] == '~' && (p[1] == '/' || !p[1])) {
		const char *home = getenv("HOME");

		joined = xasprintf("%s/%s", home ? home : "/", p + 1);
	} else {
		joined = xasprintf("%s/%s", mf_dir(c, at), p);
	}
	r = mf_path_normalize(joined);
	free(joined);
	return r;
}

/* The digits at *p as a number, saturating; *p moves past them. */
static double rep_bound(const char **p)
{
	double v = 0;

	while (**p >= '0' && **p <= '9') {
		if (v < 1e12)
			v = v * 10 + (**p - '0');
		(*p)++;
	}
	return v;
}

#define REGEX_MAX_GROUPS 32
#define REGEX_MAX_COST   10000

/*
 * An upper bound of the automaton glibc's regcomp() builds: it copies the
 * repeated atom for '+' (x+ is xx*) and for intervals (x{3} is xxx), so
 * nested repetitions multiply, and "a++++" or "((a+)+)+" double with
 * each '+': 60 of them would take all memory. Adjacent repetition
 * operators are undefined in POSIX EREs anyway and rejected here.
 * Returns the cost, or -1 for adjacent repetitions.
 */
static double regex_cost(const char *p)
{
	double sum[REGEX_MAX_GROUPS + 1] = { 0 }, last = 0, mult;
	int depth = 0, after_rep = 0;

	for (; *p; p++) {
		int rep = 1;

		switch (*p) {
		case '*':
		case '?':
			break;
		case '+':
			sum[depth] += last;
			last *= 2;
			break;
		case '{':
			if (p[1] < '0' || p[1] > '9') {
				rep = 0;
				sum[depth] += 1;
				last = 1;
				break;
			}
			p++;
			mult = rep_bound(&p);
			if (*p == ',') {
				p++;
				if (*p >= '0' && *p <= '9')
					mult = rep_bound(&p);
			}
			if (mult < 1)
				mult = 1;
			sum[depth] += last * (mult - 1);
			last *= mult;
			while (*p && *p != '}')
				p++;
			if (!*p)
				p--;
			break;
		default:
			rep = 0;
			if (*p == '\\' && p[1]) {
				p++;
			} else if (*p == '[') {
				/* a bracket is one atom; ']' first is literal */
				const char *q = p + 1;

				if (*q == '^')
					q++;
				if (*q == ']')
					q++;
				while (*q && *q != ']')
					q++;
				if (!*q)
					return sum[depth] + 1;
				p = q;
			} else if (*p == '(') {
				if (depth == REGEX_MAX_GROUPS)
					return REGEX_MAX_COST + 1;
				sum[++depth] = 0;
				last = 0;
				after_rep = 0;
				continue;
			} else if (*p == ')' && depth) {
				last = sum[depth--] + 1;
				sum[depth] += last;
				after_rep = 0;
				continue;
			} else if (*p == '|') {
				last = 0;
				after_rep = 0;
				continue;
			}
			sum[depth] += 1;
			last = 1;
		}
		if (rep && after_rep)
			return -1;
		after_rep = rep;
	}
	/* unclosed groups: regcomp() refuses them; count them anyway */
	for (; depth > 0; depth--)
		sum[depth - 1] += sum[depth];
	return sum[0];
}

int mf_check_regex(struct mf_conv *c, const struct ynode *v, const char *re)
{
	char msg[256];
	regex_t rx;
	double cost;
	int rc;

	if (strlen(re) > LIMIT_REGEX)
		return mf_err(c, v, "regular expression longer than %d bytes",
		              LIMIT_REGEX);
	cost = regex_cost(re);
	if (cost < 0)
		return mf_err(
		        c, v,
		        "regular expression '%.80s' has adjacent repetition "
		        "operators",
		        re);
	if (cost > REGEX_MAX_COST)
		return mf_err(c, v,
		              "regular expression '%.80s' repeats too much",
		              re);
	rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, &rx, msg, sizeof(msg));
		return mf_err(c, v, "invalid regular expression '%.80s': %s",
		              re, msg);
	}
	regfree(&rx);
	return 0;
}
