/*
 * manifest.c: YAML -> struct manifest, validated (see manifest.h).
 *
 * Two passes. The first turns libyaml's events into a small tree of our
 * own, enforcing the limits a hostile file must not get past (size,
 * encoding, depth, anchors, aliases, expanded nodes, scalar length,
 * duplicate keys, tags, one document) and resolving aliases and '<<'
 * merge keys by sharing nodes, never by copying them. The second walks
 * that tree with the schema table (schema.c), interpolates scalar values
 * (interp.c) and fills the model, then checks what needs the whole
 * manifest: references, cycles, names.
 *
 * This is the only file that includes <yaml.h>. It does not talk to the
 * engine, and it never checks what only the engine knows (whether an
 * image exists); a build context, an env_file and a .env file are the
 * only files it reads besides the manifest (a file, or standard input
 * for `-f -`).
 */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "error.h"
#include "graph.h"
#include "interp.h"
#include "schema.h"

#define LIMIT_DEPTH   64
#define LIMIT_ANCHORS 1000
#define LIMIT_ALIASES 1000
#define LIMIT_NODES   100000
#define LIMIT_SCALAR  (64 * 1024)
#define LIMIT_NAME    63
#define LIMIT_REGEX   1024
#define ENV_FILE_MAX  (1024 * 1024)
#define MAX_WARNINGS  100

/* ---- the YAML tree ---------------------------------------------------- */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

/*
 * Small on purpose: a manifest has tens of thousands of nodes, and on a
 * virtual machine every fresh page costs a fault. The limits above keep
 * the 32-bit counts far from overflow.
 */
struct ynode {
	char *str;            /* scalars */
	struct ynode **items; /* sequences; mappings as key, value, ... */
	uint32_t len;
	uint32_t n, alloc;
	uint32_t weight; /* nodes in the subtree, aliases expanded */
	int line, col;
	unsigned char kind;  /* enum ykind */
	unsigned char plain; /* an untagged plain scalar: null, bool, '<<' */
	unsigned char open;  /* its end event is still to come */
};

struct anchor {
	char *name;
	struct ynode *node;
};

struct loader {
	const char *origin;
	struct ynode **blocks; /* every node, owned here; shared in the tree */
	size_t nblocks, ablocks, nnodes;
	struct anchor *anchors;
	size_t nanchors, aanchors;
	struct ynode *stack[LIMIT_DEPTH + 1];
	size_t depth;
	size_t naliases;
	size_t expanded;
	int ndocs;
	struct ynode *root;
};

static int verr_at(const char *origin, int line, int col, const char *fmt,
                   va_list ap)
{
	struct buf b = BUF_INIT;
	int rc;

	buf_vaddf(&b, fmt, ap);
	rc = orch_error_code(ORCH_EINVALID, "%s:%d:%d: %s", origin, line, col,
	                     buf_cstr(&b));
	buf_release(&b);
	return rc;
}

static int err_at(const char *origin, int line, int col, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int err_at(const char *origin, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = verr_at(origin, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

static int err_mark(struct loader *L, yaml_mark_t mark, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int err_mark(struct loader *L, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = verr_at(L->origin, (int)mark.line + 1, (int)mark.column + 1, fmt,
	             ap);
	va_end(ap);
	return rc;
}

/* Nodes come in blocks: a manifest has thousands, all freed together. */
#define NODE_BLOCK 512

static struct ynode *node_new(struct loader *L, enum ykind kind,
                              yaml_mark_t mark)
{
	struct ynode *n;

	if (L->nnodes % NODE_BLOCK == 0) {
		ALLOC_GROW(L->blocks, L->nblocks + 1, L->ablocks);
		L->blocks[L->nblocks++] = xcalloc(NODE_BLOCK, sizeof(*n));
	}
	n = &L->blocks[L->nnodes / NODE_BLOCK][L->nnodes % NODE_BLOCK];
	L->nnodes++;
	n->kind = kind;
	n->line = (int)mark.line + 1;
	n->col = (int)mark.column + 1;
	n->weight = 1;
	return n;
}

static void loader_release(struct loader *L)
{
	for (size_t i = 0; i < L->nnodes; i++) {
		struct ynode *n = &L->blocks[i / NODE_BLOCK][i % NODE_BLOCK];

		free(n->str);
		free(n->items);
	}
	for (size_t i = 0; i < L->nblocks; i++)
		free(L->blocks[i]);
	free(L->blocks);
	for (size_t i = 0; i < L->nanchors; i++)
		free(L->anchors[i].name);
	free(L->anchors);
}

static void node_push(struct ynode *parent, struct ynode *child)
{
	ALLOC_GROW(parent->items, parent->n + 1, parent->alloc);
	parent->items[parent->n++] = child;
}

static int add_child(struct loader *L, struct ynode *child, yaml_mark_t mark)
{
	if (L->depth == 0) {
		if (L->root)
			return err_mark(L, mark,
			                "multiple documents are not supported");
		L->root = child;
		return 0;
	}
	node_push(L->stack[L->depth - 1], child);
	return 0;
}

/* Only the YAML core schema: custom tags would mean custom types. */
static int check_tag(struct loader *L, const yaml_char_t *tag, yaml_mark_t mark,
                     int *is_str)
{
	static const char *const core[] = { "str",  "int", "float", "bool",
		                            "null", "seq", "map" };
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *t = (const char *)tag;

	*is_str = 0;
	if (!t || !strcmp(t, "!"))
		return 0;
	if (!strncmp(t, prefix, sizeof(prefix) - 1)) {
		for (size_t i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
			if (!strcmp(t + sizeof(prefix) - 1, core[i])) {
				*is_str = i == 0;
				return 0;
			}
		}
		return err_mark(L, mark, "unsupported tag '!!%s'",
		                t + sizeof(prefix) - 1);
	}
	return err_mark(L, mark,
	                "unsupported tag '%.64s' (only the YAML core schema)",
	                t);
}

static int register_anchor(struct loader *L, const yaml_char_t *name,
                           struct ynode *node, yaml_mark_t mark)
{
	if (!name)
		return 0;
	/* YAML lets a later anchor of the same name replace the first */
	for (size_t i = 0; i < L->nanchors; i++) {
		if (!strcmp(L->anchors[i].name, (const char *)name)) {
			L->anchors[i].node = node;
			return 0;
		}
	}
	if (L->nanchors >= LIMIT_ANCHORS)
		return err_mark(L, mark, "more than %d anchors", LIMIT_ANCHORS);
	ALLOC_GROW(L->anchors, L->nanchors + 1, L->aanchors);
	L->anchors[L->nanchors].name = xstrdup((const char *)name);
	L->anchors[L->nanchors].node = node;
	L->nanchors++;
	return 0;
}

static int count_nodes(struct loader *L, size_t n, yaml_mark_t mark)
{
	L->expanded += n;
	if (L->expanded > LIMIT_NODES)
		return err_mark(L, mark,
		                "more than %d nodes once aliases are expanded",
		                LIMIT_NODES);
	return 0;
}

/*
 * An open-addressing set of scalar keys: duplicate checks and merges
 * stay linear on mappings with thousands of keys.
 */
struct keyset {
	struct ynode **slots;
	size_t mask;
};

static size_t hash_bytes(const char *s, size_t len)
{
	size_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static void keyset_init(struct keyset *ks, size_t n)
{
	size_t size = 16;

	while (size < n * 2)
		size *= 2;
	ks->slots = xcalloc(size, sizeof(*ks->slots));
	ks->mask = size - 1;
}

/* The node already holding key's text, or NULL after adding key. */
static struct ynode *keyset_add(struct keyset *ks, struct ynode *key)
{
	size_t i = hash_bytes(key->str, key->len) & ks->mask;

	while (ks->slots[i]) {
		struct ynode *o = ks->slots[i];

		if (o->len == key->len && !memcmp(o->str, key->str, key->len))
			return o;
		i = (i + 1) & ks->mask;
	}
	ks->slots[i] = key;
	return NULL;
}

/*
 * Names to indexes (services, volumes), so references resolve in linear
 * time however many a hostile manifest holds. The first name wins.
 */
struct strindex {
	const char **keys;
	size_t *vals;
	size_t mask;
};

static void strindex_init(struct strindex *ix, size_t n)
{
	size_t size = 16;

	while (size < n * 2)
		size *= 2;
	ix->keys = xcalloc(size, sizeof(*ix->keys));
	ix->vals = xcalloc(size, sizeof(*ix->vals));
	ix->mask = size - 1;
}

static void strindex_release(struct strindex *ix)
{
	free(ix->keys);
	free(ix->vals);
	ix->keys = NULL;
	ix->vals = NULL;
}

static long strindex_get(const struct strindex *ix, const char *key)
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

static void strindex_put(struct strindex *ix, const char *key, size_t val)
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

static int is_merge_key(const struct ynode *k)
{
	return k->kind == Y_SCALAR && k->plain && !strcmp(k->str, "<<");
}

static int merge_from(struct loader *L, struct ynode *src, struct keyset *ks,
                      struct ynode ***items, size_t *n, size_t *alloc)
{
	if (src->kind != Y_MAP)
		return err_at(L->origin, src->line, src->col,
		              "'<<' needs a mapping or a sequence of mappings");
	for (size_t i = 0; i + 1 < src->n; i += 2) {
		if (keyset_add(ks, src->items[i]))
			continue;
		ALLOC_GROW(*items, *n + 2, *alloc);
		(*items)[(*n)++] = src->items[i];
		(*items)[(*n)++] = src->items[i + 1];
	}
	return 0;
}

/*
 * A mapping is complete: keys must be scalars and unique; '<<' merges
 * are applied (the mapping's own keys win, then earlier sources over
 * later ones, as the YAML merge type says).
 */
static int finish_map(struct loader *L, struct ynode *map)
{
	struct keyset ks = { NULL, 0 };
	struct ynode **items = NULL, *merge = NULL;
	size_t n = 0, alloc = 0;
	int rc = 0;

	keyset_init(&ks, map->n);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		struct ynode *k = map->items[i], *first;

		if (k->kind != Y_SCALAR) {
			rc = err_at(L->origin, k->line, k->col,
			            "mapping keys must be scalars");
			goto out;
		}
		first = keyset_add(&ks, k);
		if (first) {
			rc = err_at(L->origin, k->line, k->col,
			            "duplicate key '%s' (first at line %d)",
			            k->str, first->line);
			goto out;
		}
		if (is_merge_key(k))
			merge = map->items[i + 1];
	}
	if (!merge)
		goto out;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (is_merge_key(map->items[i]))
			continue;
		ALLOC_GROW(items, n + 2, alloc);
		items[n++] = map->items[i];
		items[n++] = map->items[i + 1];
	}
	if (merge->kind == Y_SEQ) {
		for (size_t i = 0; i < merge->n && !rc; i++)
			rc = merge_from(L, merge->items[i], &ks, &items, &n,
			                &alloc);
	} else {
		rc = merge_from(L, merge, &ks, &items, &n, &alloc);
	}
	if (rc)
		goto out;
	free(map->items);
	map->items = items;
	map->n = n;
	map->alloc = alloc;
	items = NULL;
out:
	free(items);
	free(ks.slots);
	return rc;
}

static int on_event(struct loader *L, yaml_event_t *ev, int *done)
{
	struct ynode *n;
	int is_str, rc;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++L->ndocs > 1)
			return err_mark(L, ev->start_mark,
			                "multiple documents are not supported");
		return 0;
	case YAML_ALIAS_EVENT: {
		const char *name = (const char *)ev->data.alias.anchor;
		struct ynode *target = NULL;

		for (size_t i = 0; i < L->nanchors; i++)
			if (!strcmp(L->anchors[i].name, name))
				target = L->anchors[i].node;
		if (!target)
			return err_mark(L, ev->start_mark,
			                "unknown anchor '%.64s'", name);
		if (target->open)
			return err_mark(L, ev->start_mark,
			                "anchor '%.64s' contains itself", name);
		if (++L->naliases > LIMIT_ALIASES)
			return err_mark(L, ev->start_mark,
			                "more than %d aliases", LIMIT_ALIASES);
		rc = count_nodes(L, target->weight, ev->start_mark);
		return rc ? rc : add_child(L, target, ev->start_mark);
	}
	case YAML_SCALAR_EVENT:
		rc = check_tag(L, ev->data.scalar.tag, ev->start_mark, &is_str);
		if (rc)
			return rc;
		if (ev->data.scalar.length > LIMIT_SCALAR)
			return err_mark(L, ev->start_mark,
			                "scalar longer than %d bytes",
			                LIMIT_SCALAR);
		/* "\0" escapes decode to NUL, which no C string can carry */
		if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length))
			return err_mark(L, ev->start_mark,
			                "scalar contains a NUL character");
		rc = count_nodes(L, 1, ev->start_mark);
		if (rc)
			return rc;
		n = node_new(L, Y_SCALAR, ev->start_mark);
		n->str = xstrndup((const char *)ev->data.scalar.value,
		                  ev->data.scalar.length);
		n->len = ev->data.scalar.length;
		n->plain = !is_str && !ev->data.scalar.tag &&
		           ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		rc = register_anchor(L, ev->data.scalar.anchor, n,
		                     ev->start_mark);
		return rc ? rc : add_child(L, n, ev->start_mark);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int seq = ev->type == YAML_SEQUENCE_START_EVENT;
		const yaml_char_t *tag = seq ? ev->data.sequence_start.tag
		                             : ev->data.mapping_start.tag;
		const yaml_char_t *anchor = seq ? ev->data.sequence_start.anchor
		                                : ev->data.mapping_start.anchor;

		if (L->depth >= LIMIT_DEPTH)
			return err_mark(L, ev->start_mark,
			                "nesting deeper than %d levels",
			                LIMIT_DEPTH);
		rc = check_tag(L, tag, ev->start_mark, &is_str);
		if (!rc && is_str)
			rc = err_mark(L, ev->start_mark,
			              "'!!str' on a collection");
		if (!rc)
			rc = count_nodes(L, 1, ev->start_mark);
		if (rc)
			return rc;
		n = node_new(L, seq ? Y_SEQ : Y_MAP, ev->start_mark);
		n->open = 1;
		rc = register_anchor(L, anchor, n, ev->start_mark);
		if (rc)
			return rc;
		L->stack[L->depth++] = n;
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = L->stack[--L->depth];
		n->open = 0;
		if (n->kind == Y_MAP) {
			rc = finish_map(L, n);
			if (rc)
				return rc;
		}
		for (size_t i = 0; i < n->n; i++)
			n->weight += n->items[i]->weight;
		return add_child(L, n, ev->start_mark);
	default:
		return 0;
	}
}

/*
 * libyaml checks encodings too, but with messages about "octets"; this
 * pass names the problem and where it is, and catches NUL bytes, which
 * would end every C string early.
 */
static int check_encoding(const char *origin, const unsigned char *s,
                          size_t len)
{
	int line = 1, col = 1;
	size_t i = 0;

	/* the common all-ASCII file: one pass, positions only on a problem */
	while (i < len && s[i] && s[i] < 0x80)
		i++;
	if (i == len)
		return 0;
	i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t need = 0;
		unsigned cp, min;

		if (c == 0)
			return err_at(origin, line, col, "NUL byte in input");
		if (c < 0x80) {
			i++;
			if (c == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return err_at(origin, line, col, "invalid UTF-8");
		}
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return err_at(origin, line, col,
				              "invalid UTF-8");
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return err_at(origin, line, col, "invalid UTF-8");
		i += need + 1;
		col++;
	}
	return 0;
}

/* The character at a libyaml mark (line and column from 0, in characters). */
static int char_at(const char *data, size_t len, size_t line, size_t col)
{
	size_t i = 0;

	for (; i < len && line; i++)
		if (data[i] == '\n')
			line--;
	for (; i < len && data[i] != '\n'; i++) {
		if (((unsigned char)data[i] & 0xc0) == 0x80)
			continue;
		if (!col--)
			return (unsigned char)data[i];
	}
	return -1;
}

static int parse_tree(struct loader *L, const char *data, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, done = 0;

	if (!yaml_parser_initialize(&parser))
		return orch_error_set("out of memory initialising libyaml");
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			const char *problem = parser.problem ? parser.problem
			                                     : "invalid YAML";

			/* libyaml's own words for a tab do not say "tab" */
			if (char_at(data, len, parser.problem_mark.line,
			            parser.problem_mark.column) == '\t')
				rc = err_at(L->origin,
				            (int)parser.problem_mark.line + 1,
				            (int)parser.problem_mark.column + 1,
				            "tab character: YAML indents with "
				            "spaces only");
			else if (parser.context)
				rc = err_at(L->origin,
				            (int)parser.problem_mark.line + 1,
				            (int)parser.problem_mark.column + 1,
				            "%s (%s)", problem, parser.context);
			else
				rc = err_at(L->origin,
				            (int)parser.problem_mark.line + 1,
				            (int)parser.problem_mark.column + 1,
				            "%s", problem);
			goto out;
		}
		rc = on_event(L, &ev, &done);
		yaml_event_delete(&ev);
		if (rc)
			goto out;
	}
out:
	yaml_parser_delete(&parser);
	return rc;
}

/* ---- from the tree to the model -------------------------------------- */

struct vars {
	const char *(*getenv_fn)(const char *name);
	const struct dotenv *dotenv;
};

struct conv {
	const char *origin;
	const char *dir; /* absolute */
	struct vars *vars;
	struct strvec *warnings;
	struct manifest *m;
	struct ynode *volumes; /* top-level volumes: (for mount checks) */
	struct strvec warned;  /* ignored keys already warned about */
	size_t nwarnings;      /* given so far (capped) */
	struct strindex service_ix, volume_ix;
	size_t *stamp; /* per service: == stamp_gen when seen in this suite */
	size_t stamp_gen;
};

static int err(struct conv *c, const struct ynode *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int err(struct conv *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = verr_at(c->origin, n->line, n->col, fmt, ap);
	va_end(ap);
	return rc;
}

static void warn(struct conv *c, const struct ynode *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void warn(struct conv *c, const struct ynode *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	char *msg;

	if (!c->warnings || c->nwarnings > MAX_WARNINGS)
		return;
	/* a flood of warnings hides the one that matters, and costs n^2 */
	if (c->nwarnings++ == MAX_WARNINGS) {
		strvec_pushf(c->warnings,
		             "%s: more than %d warnings, the rest "
		             "are not shown",
		             c->origin, MAX_WARNINGS);
		return;
	}
	buf_addf(&b, "%s:%d:%d: ", c->origin, n->line, n->col);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	msg = buf_detach(&b, NULL);
	/* an alias can bring one node in several times: warn once */
	if (strvec_find(c->warnings, msg) >= 0)
		free(msg);
	else
		strvec_push_nodup(c->warnings, msg);
}

static const char *vars_lookup(void *ctx, const char *name)
{
	struct vars *v = ctx;
	const char *val = v->getenv_fn(name);

	if (!val && v->dotenv)
		val = dotenv_get(v->dotenv, name, NULL);
	return val;
}

static int is_null(const struct ynode *n)
{
	if (n->kind != Y_SCALAR || !n->plain)
		return 0;
	return !n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

/* The interpolated text of a scalar value (owned by the caller). */
static int scalar(struct conv *c, const struct ynode *n, const char *what,
                  char **out)
{
	struct strvec unset = STRVEC_INIT;
	struct buf b = BUF_INIT;
	int rc;

	*out = NULL;
	if (n->kind != Y_SCALAR)
		return err(c, n, "'%s' must be a string", what);
	if (is_null(n)) {
		*out = xstrdup("");
		return 0;
	}
	if (!memchr(n->str, '$', n->len)) {
		*out = xstrndup(n->str, n->len);
		return 0;
	}
	buf_init(&b, LIMIT_SCALAR);
	rc = interp_expand(n->str, vars_lookup, c->vars, &b, &unset);
	if (rc == ORCH_ETOOBIG)
		rc = err(c, n, "'%s' longer than %d bytes once interpolated",
		         what, LIMIT_SCALAR);
	else if (rc)
		rc = err(c, n, "%s", orch_error_last());
	for (size_t i = 0; !rc && i < unset.n; i++)
		warn(c, n, "variable '%s' is not set, using an empty string",
		     unset.v[i]);
	if (!rc)
		*out = buf_detach(&b, NULL);
	buf_release(&b);
	strvec_clear(&unset);
	return rc;
}

static int get_string(struct conv *c, const struct ynode *n, const char *what,
                      char **out)
{
	char *s;
	int rc = scalar(c, n, what, &s);

	if (rc)
		return rc;
	free(*out);
	*out = s;
	return 0;
}

static int get_int(struct conv *c, const struct ynode *n, const char *what,
                   long min, long max, long *out)
{
	char *s;
	int rc;

	if (n->kind != Y_SCALAR)
		return err(c, n, "'%s' must be an integer", what);
	rc = scalar(c, n, what, &s);
	if (rc)
		return rc;
	if (parse_int(s, LONG_MIN, LONG_MAX, out))
		rc = err(c, n, "'%s' must be an integer, not '%s'", what, s);
	else if ((*out < min || *out > max) && max == INT_MAX)
		rc = err(c, n, "'%s' must be %ld or more, not %ld", what, min,
		         *out);
	else if (*out < min || *out > max)
		rc = err(c, n, "'%s' must be between %ld and %ld, not %ld",
		         what, min, max, *out);
	free(s);
	return rc;
}

static int get_port(struct conv *c, const struct ynode *n, const char *what,
                    int *out)
{
	long v;
	int rc = get_int(c, n, what, 1, 65535, &v);

	if (!rc)
		*out = (int)v;
	return rc;
}

static int get_bool(struct conv *c, const struct ynode *n, const char *what,
                    int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	char *s;
	int rc;

	if (n->kind != Y_SCALAR)
		return err(c, n, "'%s' must be true or false", what);
	rc = scalar(c, n, what, &s);
	if (rc)
		return rc;
	rc = err(c, n, "'%s' must be true or false, not '%s'", what, s);
	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			rc = 0;
		}
	}
	free(s);
	return rc;
}

static int get_duration(struct conv *c, const struct ynode *n, const char *what,
                        int64_t *out)
{
	char *s;
	int rc;

	if (n->kind != Y_SCALAR)
		return err(c, n, "'%s' must be a duration", what);
	rc = scalar(c, n, what, &s);
	if (rc)
		return rc;
	if (parse_duration(s, out))
		rc = err(c, n, "'%s': %s", what, orch_error_last());
	free(s);
	return rc;
}

static int get_strings(struct conv *c, const struct ynode *n, const char *what,
                       struct strvec *out)
{
	char *s;
	int rc;

	if (n->kind == Y_MAP)
		return err(c, n, "'%s' must be a string or a sequence", what);
	if (n->kind == Y_SCALAR) {
		rc = scalar(c, n, what, &s);
		if (!rc)
			strvec_push_nodup(out, s);
		return rc;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (n->items[i]->kind != Y_SCALAR)
			return err(c, n->items[i],
			           "'%s' entries must be strings", what);
		rc = scalar(c, n->items[i], what, &s);
		if (rc)
			return rc;
		strvec_push_nodup(out, s);
	}
	return 0;
}

/* A string is split like a shell would, without running one (Compose). */
static int get_command(struct conv *c, const struct ynode *n, const char *what,
                       struct strvec *out)
{
	char *s;
	int rc;

	strvec_clear(out);
	if (n->kind != Y_SCALAR)
		return get_strings(c, n, what, out);
	rc = scalar(c, n, what, &s);
	if (rc)
		return rc;
	rc = shellwords_split(s, out);
	if (rc)
		rc = err(c, n, "'%s': %s", what, orch_error_last());
	free(s);
	return rc;
}

static void kvs_add(struct mf_kvs *kv, const char *key, char *value)
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
static void kvs_dedupe(struct mf_kvs *kv)
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

static void kvs_release(struct mf_kvs *kv)
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
static int get_kvs(struct conv *c, const struct ynode *n, const char *what,
                   const char *bare_value, struct mf_kvs *out)
{
	char *s;
	int rc;

	if (n->kind == Y_SCALAR)
		return err(c, n, "'%s' must be a mapping or a sequence", what);
	if (n->kind == Y_MAP) {
		for (size_t i = 0; i + 1 < n->n; i += 2) {
			const struct ynode *k = n->items[i],
			                   *v = n->items[i + 1];

			if (!k->len)
				return err(c, k, "empty key in '%s'", what);
			if (is_null(v)) {
				kvs_add(out, k->str,
				        bare_value ? xstrdup(bare_value)
				                   : NULL);
				continue;
			}
			if (v->kind != Y_SCALAR)
				return err(c, v, "'%s' values must be strings",
				           what);
			rc = scalar(c, v, what, &s);
			if (rc)
				return rc;
			kvs_add(out, k->str, s);
		}
		kvs_dedupe(out);
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *e = n->items[i];
		char *eq;

		if (e->kind != Y_SCALAR)
			return err(c, e,
			           "'%s' entries must be KEY=VALUE strings",
			           what);
		rc = scalar(c, e, what, &s);
		if (rc)
			return rc;
		eq = strchr(s, '=');
		if (eq == s || !*s) {
			free(s);
			return err(c, e, "'%s' entry without a name", what);
		}
		if (eq) {
			*eq = '\0';
			kvs_add(out, s, xstrdup(eq + 1));
		} else {
			kvs_add(out, s,
			        bare_value ? xstrdup(bare_value) : NULL);
		}
		free(s);
	}
	kvs_dedupe(out);
	return 0;
}

static int valid_name(const char *s)
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

static int check_name(struct conv *c, const struct ynode *n, const char *kind)
{
	if (valid_name(n->str))
		return 0;
	return err(c, n,
	           "invalid %s name '%.80s' (letters, digits, '_', '.' and "
	           "'-', starting with a letter or digit, at most %d "
	           "characters)",
	           kind, n->str, LIMIT_NAME);
}

/* The candidate closest to word, if it is a plausible typo of it. */
static const char *closest(const char *word, const char *const *cands, size_t n)
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
static char *path_normalize(const char *path)
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

/* An absolute path for p, relative paths against the manifest's dir. */
static char *resolve_path(struct conv *c, const char *p)
{
	char *joined, *r;

	if (*p == '/')
		return path_normalize(p);
	if (p[0] == '~' && (p[1] == '/' || !p[1])) {
		const char *home = getenv("HOME");

		joined = xasprintf("%s/%s", home ? home : "/", p + 1);
	} else {
		joined = xasprintf("%s/%s", c->dir, p);
	}
	r = path_normalize(joined);
	free(joined);
	return r;
}

/* ---- services --------------------------------------------------------- */

struct svc {
	struct mf_service *service; /* NULL for suites */
	struct mf_suite *suite;
	struct mf_container *ct;
	int is_stub;
	const struct ynode *env, *env_file; /* applied in that order */
	const struct ynode *name_node;
};

typedef int (*key_fn)(struct conv *c, void *obj, const char *key,
                      const struct ynode *k, const struct ynode *v);

static int check_shape(struct conv *c, const struct schema_key *e,
                       const struct ynode *v)
{
	int ok;

	switch (e->type) {
	case ST_STRING:
	case ST_INT:
	case ST_BOOL:
	case ST_DURATION:
	case ST_PORT:
		ok = v->kind == Y_SCALAR;
		break;
	case ST_MAP:
		ok = v->kind == Y_MAP;
		break;
	case ST_LIST:
		ok = v->kind == Y_SEQ;
		break;
	case ST_STRINGS:
	case ST_COMMAND:
		ok = v->kind != Y_MAP;
		break;
	case ST_KVS:
	case ST_LIST_MAP:
		ok = v->kind != Y_SCALAR;
		break;
	case ST_STR_MAP:
	case ST_INT_MAP:
		ok = v->kind != Y_SEQ;
		break;
	default:
		ok = 1;
	}
	if (ok)
		return 0;
	return err(c, v, "'%s' must be %s", e->key, schema_type_name(e->type));
}

/*
 * Walk a mapping with the schema: x- keys skipped, unknown keys an error
 * with a suggestion, ignored keys a warning, rejected keys an error,
 * shapes checked, then fn for each key with a non-null value.
 */
static int walk(struct conv *c, const struct ynode *map,
                enum schema_section sec, const char *owner, key_fn fn,
                void *obj)
{
	size_t ntable;
	const struct schema_key *table = schema_table(&ntable);
	int rc;

	if (map->kind != Y_MAP)
		return err(c, map, "%s must be a mapping", owner);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		const struct schema_key *e;

		if (!strncmp(k->str, "x-", 2))
			continue;
		e = schema_find(sec, k->str);
		if (!e) {
			const char *s = schema_suggest(sec, k->str);

			if (s)
				return err(c, k,
				           "unknown key '%.80s' (did you mean "
				           "'%s'?)",
				           k->str, s);
			return err(c, k, "unknown key '%.80s' in %s", k->str,
			           owner);
		}
		if (e->use == SU_QUIET)
			continue;
		if (e->use == SU_WARN) {
			char *id = xasprintf("%d:%s", (int)sec, e->key);

			/* once per key: twenty 'restart:' lines help no one */
			if (strvec_find(&c->warned, id) >= 0) {
				free(id);
				continue;
			}
			strvec_push_nodup(&c->warned, id);
			if (e->help)
				warn(c, k, "'%s' is ignored (%s)", e->key,
				     e->help);
			else
				warn(c, k, "'%s' is ignored", e->key);
			continue;
		}
		if (e->use == SU_REJECT)
			return err(c, k, "'%s' is not supported (%s)", e->key,
			           e->help);
		if (is_null(v))
			continue;
		rc = check_shape(c, e, v);
		if (!rc)
			rc = fn(c, obj, e->key, k, v);
		if (rc)
			return rc;
	}
	for (size_t t = 0; t < ntable; t++) {
		int found = 0;

		if (table[t].section != sec ||
		    !(table[t].flags & SCHEMA_REQUIRED))
			continue;
		for (size_t i = 0; i + 1 < map->n && !found; i += 2)
			found = !strcmp(map->items[i]->str, table[t].key) &&
			        !is_null(map->items[i + 1]);
		if (!found)
			return err(c, map, "%s has no '%s'", owner,
			           table[t].key);
	}
	return 0;
}

static int build_key(struct conv *c, void *obj, const char *key,
                     const struct ynode *k, const struct ynode *v)
{
	struct mf_build *b = obj;

	(void)k;
	if (!strcmp(key, "context"))
		return get_string(c, v, key, &b->context);
	if (!strcmp(key, "dockerfile"))
		return get_string(c, v, key, &b->dockerfile);
	if (!strcmp(key, "target"))
		return get_string(c, v, key, &b->target);
	if (!strcmp(key, "args"))
		return get_kvs(c, v, key, NULL, &b->args);
	return 0;
}

static int get_build(struct conv *c, const struct ynode *v,
                     struct mf_build **out)
{
	struct mf_build *b = xcalloc(1, sizeof(*b));
	struct stat st;
	char *given;
	int rc;

	*out = b;
	if (v->kind == Y_SCALAR)
		rc = get_string(c, v, "build", &b->context);
	else
		rc = walk(c, v, SEC_BUILD, "'build'", build_key, b);
	if (rc)
		return rc;
	if (!b->context || !*b->context) {
		free(b->context);
		b->context = xstrdup(".");
	}
	if (strstr(b->context, "://") || !strncmp(b->context, "git@", 4))
		return err(c, v, "remote build context '%s' is not supported",
		           b->context);
	given = b->context;
	b->context = resolve_path(c, given);
	if (stat(b->context, &st))
		rc = err(c, v, "build context '%s' does not exist", given);
	else if (!S_ISDIR(st.st_mode))
		rc = err(c, v, "build context '%s' is not a directory", given);
	free(given);
	return rc;
}

static int hc_duration(struct conv *c, const struct ynode *v, const char *key,
                       int64_t *out)
{
	int rc = get_duration(c, v, key, out);

	/* the API wants 0 (the default) or at least 1ms */
	if (!rc && *out && *out < 1000000)
		rc = err(c, v, "'%s' must be 0 or at least 1ms", key);
	return rc;
}

static int health_key(struct conv *c, void *obj, const char *key,
                      const struct ynode *k, const struct ynode *v)
{
	struct mf_healthcheck *h = obj;
	long l;
	int rc;

	(void)k;
	if (!strcmp(key, "test")) {
		strvec_clear(&h->test);
		if (v->kind == Y_SCALAR) {
			char *s;

			rc = scalar(c, v, key, &s);
			if (rc)
				return rc;
			strvec_push(&h->test, "CMD-SHELL");
			strvec_push_nodup(&h->test, s);
			return 0;
		}
		rc = get_strings(c, v, key, &h->test);
		if (rc)
			return rc;
		if (!h->test.n || (strcmp(h->test.v[0], "CMD") &&
		                   strcmp(h->test.v[0], "CMD-SHELL") &&
		                   strcmp(h->test.v[0], "NONE")))
			return err(c, v,
			           "healthcheck 'test' must start with CMD, "
			           "CMD-SHELL or NONE");
		if (!strcmp(h->test.v[0], "NONE")) {
			h->disable = 1;
			return 0;
		}
		if (h->test.n < 2)
			return err(c, v, "healthcheck 'test' has no command");
		if (!strcmp(h->test.v[0], "CMD-SHELL") && h->test.n != 2)
			return err(c, v,
			           "healthcheck 'test' with CMD-SHELL takes "
			           "one string");
		return 0;
	}
	if (!strcmp(key, "interval"))
		return hc_duration(c, v, key, &h->interval_ns);
	if (!strcmp(key, "timeout"))
		return hc_duration(c, v, key, &h->timeout_ns);
	if (!strcmp(key, "start_period"))
		return hc_duration(c, v, key, &h->start_period_ns);
	if (!strcmp(key, "retries")) {
		rc = get_int(c, v, key, 0, INT_MAX, &l);
		h->retries = (int)l;
		return rc;
	}
	if (!strcmp(key, "disable"))
		return get_bool(c, v, key, &h->disable);
	return 0;
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

static int check_regex(struct conv *c, const struct ynode *v, const char *re)
{
	char msg[256];
	regex_t rx;
	double cost;
	int rc;

	if (strlen(re) > LIMIT_REGEX)
		return err(c, v, "regular expression longer than %d bytes",
		           LIMIT_REGEX);
	cost = regex_cost(re);
	if (cost < 0)
		return err(c, v,
		           "regular expression '%.80s' has adjacent repetition "
		           "operators",
		           re);
	if (cost > REGEX_MAX_COST)
		return err(c, v, "regular expression '%.80s' repeats too much",
		           re);
	rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, &rx, msg, sizeof(msg));
		return err(c, v, "invalid regular expression '%.80s': %s", re,
		           msg);
	}
	regfree(&rx);
	return 0;
}

static int http_key(struct conv *c, void *obj, const char *key,
                    const struct ynode *k, const struct ynode *v)
{
	struct mf_ready *r = obj;
	long l;
	int rc;

	(void)k;
	if (!strcmp(key, "port"))
		return get_port(c, v, "port", &r->http_port);
	if (!strcmp(key, "path")) {
		rc = get_string(c, v, key, &r->http_path);
		if (!rc && r->http_path[0] != '/')
			rc = err(c, v, "http 'path' must start with '/'");
		return rc;
	}
	if (!strcmp(key, "status")) {
		rc = get_int(c, v, key, 100, 599, &l);
		r->http_status = (int)l;
		return rc;
	}
	return 0;
}

static int ready_key(struct conv *c, void *obj, const char *key,
                     const struct ynode *k, const struct ynode *v)
{
	struct mf_ready *r = obj;
	int rc;

	(void)k;
	if (!strcmp(key, "tcp"))
		return get_port(c, v, "tcp", &r->tcp_port);
	if (!strcmp(key, "http")) {
		free(r->http_path);
		r->http_path = NULL;
		r->http_status = 200;
		if (v->kind == Y_SCALAR)
			rc = get_port(c, v, "http", &r->http_port);
		else
			rc = walk(c, v, SEC_HTTP, "'http'", http_key, r);
		if (!rc && !r->http_path)
			r->http_path = xstrdup("/");
		return rc;
	}
	if (!strcmp(key, "exec")) {
		rc = get_command(c, v, key, &r->exec);
		if (!rc && !r->exec.n)
			rc = err(c, v, "'exec' has no command");
		return rc;
	}
	if (!strcmp(key, "log")) {
		rc = get_string(c, v, key, &r->log_regex);
		return rc ? rc : check_regex(c, v, r->log_regex);
	}
	if (!strcmp(key, "timeout")) {
		rc = get_duration(c, v, key, &r->timeout_ns);
		if (!rc && !r->timeout_ns)
			rc = err(c, v, "'timeout' must be more than 0");
		return rc;
	}
	return 0;
}

/* "[ip:][host:]container[/proto]", host and container without ranges. */
static int parse_port_short(struct conv *c, const struct ynode *v,
                            const char *spec, struct mf_port *p)
{
	char *s = xstrdup(spec), *proto, *last, *ip = NULL, *host = NULL;
	long l;
	int rc = 0;

	proto = strrchr(s, '/');
	if (proto)
		*proto++ = '\0';
	last = strrchr(s, ':');
	if (last) {
		*last++ = '\0';
		host = strrchr(s, ':');
		if (host && s[0] != '[') {
			*host++ = '\0';
			ip = s;
		} else if (s[0] == '[') {
			/* [::1]:8080:80 */
			char *close = strchr(s, ']');

			if (!close || (close[1] && close[1] != ':')) {
				rc = err(c, v, "invalid port '%s'", spec);
				goto out;
			}
			*close = '\0';
			ip = s + 1;
			host = close[1] ? close + 2 : close + 1;
		} else {
			host = s;
		}
	} else {
		last = s;
	}
	if (strchr(last, '-') || (host && strchr(host, '-'))) {
		rc = err(c, v, "port ranges are not supported ('%s')", spec);
		goto out;
	}
	if (parse_int(last, 1, 65535, &l)) {
		rc = err(c, v, "invalid port '%s' (container port 1-65535)",
		         spec);
		goto out;
	}
	p->container_port = (int)l;
	if (host && *host) {
		if (parse_int(host, 1, 65535, &l)) {
			rc = err(c, v, "invalid port '%s' (host port 1-65535)",
			         spec);
			goto out;
		}
		p->host_port = (int)l;
	}
	if (ip && *ip)
		p->host_ip = xstrdup(ip);
	p->protocol = xstrdup(proto ? proto : "tcp");
out:
	free(s);
	return rc;
}

static int port_key(struct conv *c, void *obj, const char *key,
                    const struct ynode *k, const struct ynode *v)
{
	struct mf_port *p = obj;
	long l;
	int rc;

	(void)k;
	if (!strcmp(key, "target"))
		return get_port(c, v, "target", &p->container_port);
	if (!strcmp(key, "published")) {
		char *s = NULL;

		rc = get_string(c, v, key, &s);
		if (!rc && *s && strchr(s, '-'))
			rc = err(c, v, "port ranges are not supported ('%s')",
			         s);
		else if (!rc && *s && parse_int(s, 1, 65535, &l))
			rc = err(c, v, "'published' must be a port (1-65535)");
		else if (!rc && *s)
			p->host_port = (int)l;
		free(s);
		return rc;
	}
	if (!strcmp(key, "host_ip"))
		return get_string(c, v, key, &p->host_ip);
	if (!strcmp(key, "protocol"))
		return get_string(c, v, key, &p->protocol);
	return 0;
}

static int get_port_entry(struct conv *c, const struct ynode *v,
                          struct mf_port *p)
{
	int rc;

	if (v->kind == Y_SEQ)
		return err(c, v, "a port must be a string or a mapping");
	if (v->kind == Y_SCALAR) {
		char *s;

		rc = scalar(c, v, "ports", &s);
		if (rc)
			return rc;
		rc = parse_port_short(c, v, s, p);
		free(s);
	} else {
		rc = walk(c, v, SEC_PORT, "a port", port_key, p);
	}
	if (rc)
		return rc;
	if (!p->protocol)
		p->protocol = xstrdup("tcp");
	if (strcmp(p->protocol, "tcp") && strcmp(p->protocol, "udp"))
		return err(c, v, "unknown protocol '%s' (tcp or udp)",
		           p->protocol);
	if (p->host_ip && !*p->host_ip) {
		free(p->host_ip);
		p->host_ip = NULL;
	}
	if (p->host_ip &&
	    (!strcmp(p->host_ip, "0.0.0.0") || !strcmp(p->host_ip, "::")))
		warn(c, v, "port %d is published on all interfaces ('%s')",
		     p->container_port, p->host_ip);
	return 0;
}

static int declared_volume(struct conv *c, const char *name)
{
	return strindex_get(&c->volume_ix, name) >= 0;
}

/*
 * Binds that hand a container the host (reference §d.5): allowed, since
 * a test may need them, but never silently.
 */
static void warn_dangerous_bind(struct conv *c, const struct ynode *v,
                                const char *src)
{
	static const char *const paths[] = { "/",    "/etc",  "/var/run",
		                             "/run", "/proc", "/sys",
		                             "/dev" };
	const char *home = getenv("HOME");

	if (strstr(src, "docker.sock")) {
		warn(c, v,
		     "bind mount of '%s' gives the container control of the "
		     "engine",
		     src);
		return;
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (!strcmp(src, paths[i])) {
			warn(c, v, "bind mount of the host's '%s'", src);
			return;
		}
	}
	if (home && *home && !strcmp(src, home))
		warn(c, v, "bind mount of the home directory '%s'", src);
}

static int check_mount(struct conv *c, const struct ynode *v,
                       struct mf_mount *mt)
{
	if (!mt->target || mt->target[0] != '/')
		return err(c, v, "mount target '%s' must be an absolute path",
		           mt->target ? mt->target : "");
	if (!strcmp(mt->type, "volume") && mt->source) {
		if (!valid_name(mt->source))
			return err(c, v, "invalid volume name '%.80s'",
			           mt->source);
		if (!declared_volume(c, mt->source))
			return err(
			        c, v,
			        "volume '%s' is not declared in the top-level "
			        "'volumes'",
			        mt->source);
	}
	if (!strcmp(mt->type, "bind")) {
		char *abs;

		if (!mt->source || !*mt->source)
			return err(c, v, "a bind mount needs a 'source'");
		abs = resolve_path(c, mt->source);
		free(mt->source);
		mt->source = abs;
		warn_dangerous_bind(c, v, abs);
	}
	return 0;
}

static int mount_key(struct conv *c, void *obj, const char *key,
                     const struct ynode *k, const struct ynode *v)
{
	struct mf_mount *mt = obj;

	(void)k;
	if (!strcmp(key, "type")) {
		int rc = get_string(c, v, key, &mt->type);

		if (!rc && strcmp(mt->type, "volume") &&
		    strcmp(mt->type, "bind") && strcmp(mt->type, "tmpfs"))
			rc = err(c, v,
			         "unknown mount type '%s' (volume, bind or "
			         "tmpfs)",
			         mt->type);
		return rc;
	}
	if (!strcmp(key, "source"))
		return get_string(c, v, key, &mt->source);
	if (!strcmp(key, "target"))
		return get_string(c, v, key, &mt->target);
	if (!strcmp(key, "read_only"))
		return get_bool(c, v, key, &mt->read_only);
	return 0;
}

static int mount_short(struct conv *c, const struct ynode *v, const char *spec,
                       struct mf_mount *mt)
{
	struct strvec parts = STRVEC_INIT;
	const char *p = spec;
	int rc = 0;

	for (;;) {
		size_t l = strcspn(p, ":");

		strvec_push_nodup(&parts, xstrndup(p, l));
		if (!p[l])
			break;
		p += l + 1;
	}
	if (parts.n > 3 || !*parts.v[0]) {
		rc = err(c, v, "invalid volume '%s' (SOURCE:TARGET[:ro])",
		         spec);
		goto out;
	}
	if (parts.n == 1) {
		mt->type = xstrdup("volume");
		mt->target = xstrdup(parts.v[0]);
		goto out;
	}
	if (parts.n == 3) {
		const char *m = parts.v[2];

		while (*m) {
			size_t l = strcspn(m, ",");

			if (l == 2 && !strncmp(m, "ro", 2))
				mt->read_only = 1;
			else if (!((l == 2 && !strncmp(m, "rw", 2)) ||
			           (l == 1 && (*m == 'z' || *m == 'Z')) ||
			           (l == 6 && !strncmp(m, "nocopy", 6)) ||
			           (l == 6 && !strncmp(m, "cached", 6)) ||
			           (l == 9 && !strncmp(m, "delegated", 9)) ||
			           (l == 10 &&
			            !strncmp(m, "consistent", 10)))) {
				rc = err(
				        c, v,
				        "invalid mount mode '%s' in '%s' (ro or "
				        "rw)",
				        parts.v[2], spec);
				goto out;
			}
			m += l;
			if (*m == ',')
				m++;
		}
	}
	p = parts.v[0];
	mt->type = xstrdup(*p == '/' || *p == '.' || *p == '~' ? "bind"
	                                                       : "volume");
	mt->source = xstrdup(p);
	mt->target = xstrdup(parts.v[1]);
out:
	strvec_clear(&parts);
	return rc;
}

static int get_mount(struct conv *c, const struct ynode *v, struct mf_mount *mt)
{
	int rc;

	if (v->kind == Y_SEQ)
		return err(c, v, "a volume must be a string or a mapping");
	if (v->kind == Y_SCALAR) {
		char *s;

		rc = scalar(c, v, "volumes", &s);
		if (rc)
			return rc;
		rc = mount_short(c, v, s, mt);
		free(s);
	} else {
		rc = walk(c, v, SEC_MOUNT, "a volume", mount_key, mt);
	}
	return rc ? rc : check_mount(c, v, mt);
}

struct env_file_opt {
	char *path;
	int required;
};

static int env_file_key(struct conv *c, void *obj, const char *key,
                        const struct ynode *k, const struct ynode *v)
{
	struct env_file_opt *o = obj;

	(void)k;
	if (!strcmp(key, "path"))
		return get_string(c, v, key, &o->path);
	if (!strcmp(key, "required"))
		return get_bool(c, v, key, &o->required);
	return 0;
}

/* Read a KEY=VALUE file into kv (later files and lines win). */
static int read_env_file(struct conv *c, const struct ynode *v,
                         const char *given, int required, struct mf_kvs *kv)
{
	struct dotenv d = DOTENV_INIT;
	struct buf b = BUF_INIT;
	char *path = resolve_path(c, given);
	struct stat st;
	int rc = 0, line = 0;

	if (stat(path, &st)) {
		if (required)
			rc = err(c, v, "env file '%s' not found", given);
		goto out;
	}
	/* never block on a fifo or read a device */
	if (!S_ISREG(st.st_mode)) {
		rc = err(c, v, "env file '%s' is not a regular file", given);
		goto out;
	}
	if (read_file(path, &b, ENV_FILE_MAX)) {
		rc = err(c, v, "env file '%s': %s", given, orch_error_last());
		goto out;
	}
	if (dotenv_parse(buf_cstr(&b), b.len, &d, &line)) {
		rc = err(c, v, "env file '%s': line %d: %s", given, line,
		         orch_error_last());
		goto out;
	}
	for (size_t i = 0; i < d.n; i++)
		kvs_add(kv, d.items[i].key,
		        d.items[i].value ? xstrdup(d.items[i].value) : NULL);
out:
	dotenv_release(&d);
	buf_release(&b);
	free(path);
	return rc;
}

static int apply_env_files(struct conv *c, const struct ynode *v,
                           struct mf_kvs *kv)
{
	int rc;

	if (v->kind == Y_MAP)
		return err(c, v, "'env_file' must be a string or a sequence");
	for (size_t i = 0; i < (v->kind == Y_SEQ ? v->n : 1); i++) {
		const struct ynode *e = v->kind == Y_SEQ ? v->items[i] : v;
		struct env_file_opt o = { NULL, 1 };

		if (e->kind == Y_MAP)
			rc = walk(c, e, SEC_ENV_FILE, "'env_file'",
			          env_file_key, &o);
		else
			rc = get_string(c, e, "env_file", &o.path);
		if (!rc)
			rc = read_env_file(c, e, o.path, o.required, kv);
		free(o.path);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_dep(struct conv *c, struct mf_service *s, const struct ynode *k,
                   enum mf_condition cond)
{
	struct mf_dep *d;

	(void)c;
	/* duplicates are found once names resolve (resolve_deps) */
	d = &s->deps[s->ndeps++];
	d->name = xstrdup(k->str);
	d->condition = cond;
	d->line = k->line;
	d->col = k->col;
	return 0;
}

static int depends_key(struct conv *c, void *obj, const char *key,
                       const struct ynode *k, const struct ynode *v)
{
	enum mf_condition *cond = obj;
	char *s = NULL;
	int rc;

	(void)k;
	if (strcmp(key, "condition"))
		return 0;
	rc = get_string(c, v, key, &s);
	if (rc)
		return rc;
	if (!strcmp(s, "service_started"))
		*cond = MF_SERVICE_STARTED;
	else if (!strcmp(s, "service_healthy"))
		*cond = MF_SERVICE_HEALTHY;
	else if (!strcmp(s, "service_completed_successfully"))
		*cond = MF_SERVICE_COMPLETED_SUCCESSFULLY;
	else
		rc = err(c, v,
		         "unknown condition '%.80s' (service_started, "
		         "service_healthy or service_completed_successfully)",
		         s);
	free(s);
	return rc;
}

static int get_depends(struct conv *c, struct mf_service *s,
                       const struct ynode *v)
{
	int rc;

	s->deps = xcalloc(v->n, sizeof(*s->deps));
	if (v->kind == Y_SEQ) {
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->kind != Y_SCALAR)
				return err(
				        c, v->items[i],
				        "'depends_on' entries must be service "
				        "names");
			rc = add_dep(c, s, v->items[i], MF_SERVICE_STARTED);
			if (rc)
				return rc;
		}
		return 0;
	}
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		enum mf_condition cond = MF_SERVICE_STARTED;
		const struct ynode *dv = v->items[i + 1];

		if (!is_null(dv)) {
			rc = walk(c, dv, SEC_DEPENDS, "a dependency",
			          depends_key, &cond);
			if (rc)
				return rc;
		}
		rc = add_dep(c, s, v->items[i], cond);
		if (rc)
			return rc;
	}
	return 0;
}

static void container_init(struct mf_container *ct)
{
	memset(ct, 0, sizeof(*ct));
	ct->ready.timeout_ns = 60LL * 1000000000;
	ct->stop_grace_ns = -1;
}

static int walk_container(struct conv *c, struct svc *sv,
                          const struct ynode *map, enum schema_section sec,
                          const char *owner, key_fn fn);

static int service_key(struct conv *c, void *obj, const char *key,
                       const struct ynode *k, const struct ynode *v)
{
	struct svc *sv = obj;
	struct mf_container *ct = sv->ct;
	int rc;
	long l;

	if (!strcmp(key, "image")) {
		rc = get_string(c, v, key, &ct->image);
		if (!rc && !*ct->image)
			rc = err(c, v, "'image' is empty");
		return rc;
	}
	if (!strcmp(key, "build"))
		return get_build(c, v, &ct->build);
	if (!strcmp(key, "command"))
		return get_command(c, v, key, &ct->command);
	if (!strcmp(key, "entrypoint")) {
		ct->has_entrypoint = 1;
		return get_command(c, v, key, &ct->entrypoint);
	}
	if (!strcmp(key, "environment")) {
		sv->env = v;
		return 0;
	}
	if (!strcmp(key, "env_file")) {
		sv->env_file = v;
		return 0;
	}
	/* each key appears once in a mapping: size the arrays at once */
	if (!strcmp(key, "ports")) {
		ct->ports = xcalloc(v->n, sizeof(*ct->ports));
		for (size_t i = 0; i < v->n; i++) {
			rc = get_port_entry(c, v->items[i],
			                    &ct->ports[ct->nports++]);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!strcmp(key, "volumes")) {
		ct->mounts = xcalloc(v->n, sizeof(*ct->mounts));
		for (size_t i = 0; i < v->n; i++) {
			rc = get_mount(c, v->items[i],
			               &ct->mounts[ct->nmounts++]);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!strcmp(key, "tmpfs")) {
		rc = get_strings(c, v, key, &ct->tmpfs);
		for (size_t i = 0; !rc && i < ct->tmpfs.n; i++)
			if (ct->tmpfs.v[i][0] != '/')
				rc = err(c, v,
				         "tmpfs '%s' must be an absolute path",
				         ct->tmpfs.v[i]);
		return rc;
	}
	if (!strcmp(key, "user"))
		return get_string(c, v, key, &ct->user);
	if (!strcmp(key, "working_dir"))
		return get_string(c, v, key, &ct->working_dir);
	if (!strcmp(key, "labels"))
		return get_kvs(c, v, key, "", &ct->labels);
	if (!strcmp(key, "healthcheck")) {
		ct->healthcheck.set = 1;
		return walk(c, v, SEC_HEALTHCHECK, "'healthcheck'", health_key,
		            &ct->healthcheck);
	}
	if (!strcmp(key, "stop_grace_period"))
		return get_duration(c, v, key, &ct->stop_grace_ns);
	if (!strcmp(key, "init"))
		return get_bool(c, v, key, &ct->init);
	if (!strcmp(key, "ready"))
		return walk(c, v, SEC_READY, "'ready'", ready_key, &ct->ready);
	if (!strcmp(key, "depends_on")) {
		if (sv->is_stub)
			return err(c, k, "a stub cannot have 'depends_on'");
		return get_depends(c, sv->service, v);
	}
	if (!strcmp(key, "stub")) {
		struct svc st = { 0 };
		struct buf owner = BUF_INIT;

		if (sv->is_stub)
			return err(c, k, "a stub cannot have its own 'stub'");
		sv->service->stub = xmalloc(sizeof(*sv->service->stub));
		container_init(sv->service->stub);
		st.service = sv->service;
		st.ct = sv->service->stub;
		st.is_stub = 1;
		buf_addf(&owner, "the stub of service '%s'", sv->service->name);
		rc = walk_container(c, &st, v, SEC_SERVICE, owner.data,
		                    service_key);
		if (!rc && !st.ct->image && !st.ct->build)
			rc = err(c, v,
			         "the stub of service '%s' needs 'image' "
			         "or 'build'",
			         sv->service->name);
		buf_release(&owner);
		return rc;
	}
	/* suites */
	if (!strcmp(key, "targets"))
		return get_strings(c, v, key, &sv->suite->targets);
	if (!strcmp(key, "host"))
		return get_bool(c, v, key, &sv->suite->host);
	if (!strcmp(key, "timeout")) {
		rc = get_duration(c, v, key, &sv->suite->timeout_ns);
		if (!rc && !sv->suite->timeout_ns)
			rc = err(c, v, "'timeout' must be more than 0");
		return rc;
	}
	if (!strcmp(key, "retries")) {
		rc = get_int(c, v, key, 0, 100, &l);
		sv->suite->retries = (int)l;
		return rc;
	}
	if (!strcmp(key, "artifacts")) {
		rc = get_strings(c, v, key, &sv->suite->artifacts);
		for (size_t i = 0; !rc && i < sv->suite->artifacts.n; i++)
			if (sv->suite->artifacts.v[i][0] != '/' &&
			    !sv->suite->host)
				rc = err(
				        c, v,
				        "artifact '%s' must be an absolute path",
				        sv->suite->artifacts.v[i]);
		return rc;
	}
	if (!strcmp(key, "tags"))
		return get_strings(c, v, key, &sv->suite->tags);
	return 0;
}

/* Environment last: env_file entries first, environment: overrides them. */
static int walk_container(struct conv *c, struct svc *sv,
                          const struct ynode *map, enum schema_section sec,
                          const char *owner, key_fn fn)
{
	struct mf_kvs *env =
	        sv->suite ? &sv->suite->environment : &sv->ct->environment;
	int rc = walk(c, map, sec, owner, fn, sv);

	if (!rc && sv->env_file)
		rc = apply_env_files(c, sv->env_file, env);
	if (!rc && sv->env)
		rc = get_kvs(c, sv->env, "environment", NULL, env);
	kvs_dedupe(env);
	/* with both, Compose builds and tags; the image is built here */
	if (!rc && sv->ct->build && sv->ct->image) {
		free(sv->ct->image);
		sv->ct->image = NULL;
	}
	return rc;
}

static int load_service(struct conv *c, const struct ynode *k,
                        const struct ynode *v, struct mf_service *s)
{
	struct svc sv = { 0 };
	struct buf owner = BUF_INIT;
	int rc;

	s->name = xstrdup(k->str);
	s->line = k->line;
	s->col = k->col;
	container_init(&s->real);
	rc = check_name(c, k, "service");
	if (rc)
		goto out;
	if (is_null(v)) {
		/* most often its keys were not indented below it */
		rc = err(c, k,
		         "service '%s' is empty (are its keys indented "
		         "below it?)",
		         s->name);
		goto out;
	}
	if (v->kind != Y_MAP) {
		rc = err(c, v, "service '%s' must be a mapping", s->name);
		goto out;
	}
	sv.service = s;
	sv.ct = &s->real;
	buf_addf(&owner, "service '%s'", s->name);
	rc = walk_container(c, &sv, v, SEC_SERVICE, owner.data, service_key);
	if (rc)
		goto out;
	s->has_real = s->real.image || s->real.build;
	if (!s->has_real && !s->stub)
		rc = err(c, k, "service '%s' needs 'image', 'build' or 'stub'",
		         s->name);
out:
	buf_release(&owner);
	return rc;
}

static int load_suite(struct conv *c, const struct ynode *k,
                      const struct ynode *v, struct mf_suite *su)
{
	struct svc sv = { 0 };
	struct buf owner = BUF_INIT;
	const struct ynode *targets = NULL;
	int rc;

	su->name = xstrdup(k->str);
	su->line = k->line;
	su->col = k->col;
	container_init(&su->container);
	su->timeout_ns = 10LL * 60 * 1000000000;
	rc = check_name(c, k, "suite");
	if (rc)
		goto out;
	if (is_null(v)) {
		rc = err(c, k,
		         "suite '%s' is empty (are its keys indented below "
		         "it?)",
		         su->name);
		goto out;
	}
	if (v->kind != Y_MAP) {
		rc = err(c, v, "suite '%s' must be a mapping", su->name);
		goto out;
	}
	for (size_t i = 0; i + 1 < v->n; i += 2)
		if (!strcmp(v->items[i]->str, "targets"))
			targets = v->items[i + 1];
	if (!targets || is_null(targets) ||
	    (targets->kind == Y_SEQ && !targets->n)) {
		rc = err(c, k, "suite '%s' has no targets", su->name);
		goto out;
	}
	sv.suite = su;
	sv.ct = &su->container;
	buf_addf(&owner, "suite '%s'", su->name);
	rc = walk_container(c, &sv, v, SEC_SUITE, owner.data, service_key);
	if (rc)
		goto out;
	/* the suite's command is its own, not the container's */
	strvec_copy(&su->command, &su->container.command);
	strvec_clear(&su->container.command);
	if (su->host && (su->container.image || su->container.build)) {
		rc = err(c, k,
		         "suite '%s' runs on the host and cannot have 'image' "
		         "or 'build'",
		         su->name);
		goto out;
	}
	if (su->host && !su->command.n) {
		rc = err(c, k,
		         "suite '%s' runs on the host and needs a "
		         "'command'",
		         su->name);
		goto out;
	}
	if (!su->host && !su->container.image && !su->container.build) {
		rc = err(c, k,
		         "suite '%s' needs 'image', 'build' or 'host: true'",
		         su->name);
		goto out;
	}
	su->target_index = xcalloc(su->targets.n, sizeof(*su->target_index));
	c->stamp_gen++;
	for (size_t i = 0; i < su->targets.n; i++) {
		const struct ynode *t = targets->items[i];
		long idx = strindex_get(&c->service_ix, su->targets.v[i]);

		if (idx < 0) {
			const char **names =
			        xcalloc(c->m->nservices + 1, sizeof(*names));
			const char *s;

			for (size_t j = 0; j < c->m->nservices; j++)
				names[j] = c->m->services[j].name;
			s = closest(su->targets.v[i], names, c->m->nservices);
			if (s)
				rc = err(c, t,
				         "suite '%s' targets undefined service "
				         "'%.80s' (did you mean '%s'?)",
				         su->name, su->targets.v[i], s);
			else
				rc = err(c, t,
				         "suite '%s' targets undefined service "
				         "'%.80s'",
				         su->name, su->targets.v[i]);
			free(names);
			goto out;
		}
		if (c->stamp[idx] == c->stamp_gen) {
			rc = err(c, t, "suite '%s' names target '%s' twice",
			         su->name, su->targets.v[i]);
			goto out;
		}
		c->stamp[idx] = c->stamp_gen;
		su->target_index[i] = (size_t)idx;
	}
out:
	buf_release(&owner);
	return rc;
}

static int volume_key(struct conv *c, void *obj, const char *key,
                      const struct ynode *k, const struct ynode *v)
{
	(void)c;
	(void)obj;
	(void)key;
	(void)k;
	(void)v;
	return 0;
}

static int load_volumes(struct conv *c, const struct ynode *map)
{
	struct manifest *m = c->m;
	int rc;

	m->volumes = xcalloc(map->n / 2 + 1, sizeof(*m->volumes));
	strindex_init(&c->volume_ix, map->n / 2);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];

		if (!strncmp(k->str, "x-", 2))
			continue;
		rc = check_name(c, k, "volume");
		if (!rc && !is_null(v))
			rc = walk(c, v, SEC_VOLUME, "a volume", volume_key,
			          NULL);
		if (rc)
			return rc;
		m->volumes[m->nvolumes].name = xstrdup(k->str);
		strindex_put(&c->volume_ix, m->volumes[m->nvolumes].name,
		             m->nvolumes);
		m->nvolumes++;
	}
	return 0;
}

static const char *const strategies[] = { "big-bang", "incremental",
	                                  "bottom-up", "top-down", "sandwich" };

struct top {
	const struct ynode *services, *suites, *volumes;
};

static int valid_project_name(const char *s)
{
	if (!*s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(s);
}

static int top_key(struct conv *c, void *obj, const char *key,
                   const struct ynode *k, const struct ynode *v)
{
	struct top *t = obj;
	int rc;

	(void)k;
	if (!strcmp(key, "name")) {
		rc = get_string(c, v, key, &c->m->name);
		if (!rc && !valid_project_name(c->m->name))
			rc = err(
			        c, v,
			        "invalid project name '%.80s' (lower case "
			        "letters, digits, '-' and '_', starting with a "
			        "letter or digit)",
			        c->m->name);
		return rc;
	}
	if (!strcmp(key, "strategy")) {
		const char *s;

		rc = get_string(c, v, key, &c->m->strategy);
		if (rc)
			return rc;
		for (size_t i = 0; i < 5; i++)
			if (!strcmp(c->m->strategy, strategies[i]))
				return 0;
		s = closest(c->m->strategy, strategies, 5);
		if (s)
			return err(c, v,
			           "unknown strategy '%.80s' (did you mean "
			           "'%s'?)",
			           c->m->strategy, s);
		return err(c, v,
		           "unknown strategy '%.80s' (big-bang, incremental, "
		           "bottom-up, top-down or sandwich)",
		           c->m->strategy);
	}
	if (!strcmp(key, "services"))
		t->services = v;
	else if (!strcmp(key, "suites"))
		t->suites = v;
	else if (!strcmp(key, "volumes"))
		t->volumes = v;
	return 0;
}

static int resolve_deps(struct conv *c)
{
	struct manifest *m = c->m;
	const char **names = xcalloc(m->nservices + 1, sizeof(*names));
	struct buf cycle = BUF_INIT;
	int rc = 0;

	/* stamp[j] == i + 1: service i already depends on j */
	size_t *stamp = xcalloc(m->nservices + 1, sizeof(*stamp));

	for (size_t i = 0; i < m->nservices; i++)
		names[i] = m->services[i].name;
	for (size_t i = 0; i < m->nservices && !rc; i++) {
		struct mf_service *s = &m->services[i];

		for (size_t d = 0; d < s->ndeps && !rc; d++) {
			struct mf_dep *dep = &s->deps[d];
			long idx = strindex_get(&c->service_ix, dep->name);
			const char *sug;

			if (idx >= 0 && stamp[idx] == i + 1) {
				rc = err_at(c->origin, dep->line, dep->col,
				            "duplicate dependency '%s'",
				            dep->name);
				continue;
			}
			if (idx >= 0) {
				stamp[idx] = i + 1;
				dep->index = (size_t)idx;
				continue;
			}
			sug = closest(dep->name, names, m->nservices);
			if (sug)
				rc = err_at(
				        c->origin, dep->line, dep->col,
				        "service '%s' depends on undefined "
				        "service '%.80s' (did you mean '%s'?)",
				        s->name, dep->name, sug);
			else
				rc = err_at(c->origin, dep->line, dep->col,
				            "service '%s' depends on undefined "
				            "service '%.80s'",
				            s->name, dep->name);
		}
	}
	if (!rc && graph_find_cycle(m, &cycle)) {
		/* point at the first service of the cycle */
		size_t l = strcspn(cycle.data, " ");
		char *first = xstrndup(cycle.data, l);
		int idx = manifest_service_index(m, first);
		const struct mf_service *s = &m->services[idx < 0 ? 0 : idx];

		rc = err_at(c->origin, s->line, s->col, "dependency cycle: %s",
		            cycle.data);
		free(first);
	}
	buf_release(&cycle);
	free(names);
	free(stamp);
	return rc;
}

static int convert(struct conv *c, const struct ynode *root)
{
	struct manifest *m = c->m;
	struct top t = { 0 };
	int rc;

	if (!root || is_null(root))
		return err_at(c->origin, root ? root->line : 1,
		              root ? root->col : 1, "empty manifest");
	if (root->kind != Y_MAP)
		return err(c, root, "the manifest must be a mapping");
	rc = walk(c, root, SEC_TOP, "the manifest", top_key, &t);
	if (rc)
		return rc;
	if (t.volumes) {
		c->volumes = (struct ynode *)t.volumes;
		rc = load_volumes(c, t.volumes);
		if (rc)
			return rc;
	}
	m->services = xcalloc(t.services->n / 2 + 1, sizeof(*m->services));
	for (size_t i = 0; i + 1 < t.services->n; i += 2) {
		const struct ynode *k = t.services->items[i];

		if (!strncmp(k->str, "x-", 2))
			continue;
		rc = load_service(c, k, t.services->items[i + 1],
		                  &m->services[m->nservices++]);
		if (rc)
			return rc;
	}
	if (!m->nservices)
		return err(c, t.services, "'services' is empty");
	strindex_init(&c->service_ix, m->nservices);
	for (size_t i = 0; i < m->nservices; i++)
		strindex_put(&c->service_ix, m->services[i].name, i);
	rc = resolve_deps(c);
	if (rc || !t.suites)
		return rc;
	m->suites = xcalloc(t.suites->n / 2 + 1, sizeof(*m->suites));
	c->stamp = xcalloc(m->nservices, sizeof(*c->stamp));
	for (size_t i = 0; i + 1 < t.suites->n; i += 2) {
		const struct ynode *k = t.suites->items[i];

		if (!strncmp(k->str, "x-", 2))
			continue;
		rc = load_suite(c, k, t.suites->items[i + 1],
		                &m->suites[m->nsuites++]);
		if (rc)
			return rc;
	}
	return 0;
}

/* The absolute, lexically clean directory of origin. */
static char *origin_dir(const char *origin)
{
	const char *slash = strrchr(origin, '/');
	char *dir, *abs, *r, cwd[PATH_MAX];

	dir = slash ? xstrndup(origin, (size_t)(slash - origin) + 1)
	            : xstrdup(".");
	if (*dir == '/') {
		abs = dir;
	} else {
		abs = xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : "/",
		                dir);
		free(dir);
	}
	r = realpath(abs, NULL);
	if (!r)
		r = path_normalize(abs);
	free(abs);
	return r;
}

/* dir: the project directory, absolute; NULL: the manifest's own. */
static int load(const char *origin, const char *dir, const char *data,
                size_t len, struct vars *vars, struct strvec *warnings,
                struct manifest **out)
{
	struct loader L = { 0 };
	struct manifest *m = NULL;
	struct conv c = { 0 };
	int rc;

	*out = NULL;
	L.origin = origin;
	if (len > MANIFEST_MAX_SIZE) {
		rc = err_at(origin, 1, 1,
		            "manifest larger than %d bytes (1 MiB)",
		            MANIFEST_MAX_SIZE);
		goto out;
	}
	rc = check_encoding(origin, (const unsigned char *)data, len);
	if (rc)
		goto out;
	rc = parse_tree(&L, data, len);
	if (rc)
		goto out;
	m = xcalloc(1, sizeof(*m));
	m->path = xstrdup(origin);
	m->dir = dir ? xstrdup(dir) : origin_dir(origin);
	c.origin = origin;
	c.dir = m->dir;
	c.vars = vars;
	c.warnings = warnings;
	c.m = m;
	rc = convert(&c, L.root);
	strvec_clear(&c.warned);
	strindex_release(&c.service_ix);
	strindex_release(&c.volume_ix);
	free(c.stamp);
	if (rc)
		goto out;
	*out = m;
	m = NULL;
out:
	manifest_free(m);
	loader_release(&L);
	return rc;
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

int manifest_load_buffer(const char *origin, const char *data, size_t len,
                         const char *(*getenv_fn)(const char *name),
                         struct strvec *warnings, struct manifest **out)
{
	struct vars vars = { getenv_fn ? getenv_fn : env_get, NULL };

	return load(origin, NULL, data, len, &vars, warnings, out);
}

static const char *process_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/*
 * The .env of the project directory (env_path), interpolated as Compose
 * does: the process environment, then the lines above. Absent is fine,
 * unreadable is not; its warnings are named after env_path.
 */
static int read_dotenv(const char *env_path, struct strvec *warnings,
                       struct dotenv *d)
{
	struct strvec w = STRVEC_INIT;
	struct dotenv_interp ip = { process_lookup, NULL,
		                    warnings ? &w : NULL };
	struct buf b = BUF_INIT;
	struct stat st;
	int rc = 0, line = 0, col = 0;

	/* never block on a fifo or read a device */
	if (stat(env_path, &st) || !S_ISREG(st.st_mode))
		goto out;
	rc = read_file(env_path, &b, ENV_FILE_MAX);
	if (rc) {
		rc = orch_error_code(ORCH_EINVALID, "%s", orch_error_last());
		goto out;
	}
	if (dotenv_parse_interp(buf_cstr(&b), b.len, &ip, d, &line, &col)) {
		rc = err_at(env_path, line, col, "%s", orch_error_last());
		goto out;
	}
	for (size_t i = 0; i < w.n; i++)
		strvec_pushf(warnings, "%s:%s", env_path, w.v[i]);
out:
	strvec_clear(&w);
	buf_release(&b);
	return rc;
}

static int read_manifest_file(const char *path, struct buf *b)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return orch_error_code(ORCH_EINVALID, "cannot read '%s': %s",
		                       path, strerror(errno));
	/* refuse a large file before reading any of it */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > MANIFEST_MAX_SIZE) {
		close(fd);
		return err_at(path, 1, 1,
		              "manifest larger than %d bytes (1 MiB)",
		              MANIFEST_MAX_SIZE);
	}
	close(fd);
	rc = read_file(path, b, MANIFEST_MAX_SIZE);
	if (rc == ORCH_ETOOBIG)
		return err_at(path, 1, 1,
		              "manifest larger than %d bytes (1 MiB)",
		              MANIFEST_MAX_SIZE);
	if (rc)
		return orch_error_code(ORCH_EINVALID, "cannot read %s",
		                       orch_error_last());
	return 0;
}

/*
 * `-f -`, as Compose: the manifest from standard input, read up to the
 * same cap as a file (a writer that never stops is cut off there), and
 * the current directory as the project directory (*dir).
 */
static int read_manifest_stdin(struct buf *b, char **dir)
{
	char cwd[PATH_MAX];
	int rc;

	*dir = NULL;
	if (isatty(STDIN_FILENO))
		return orch_error_code(
		        ORCH_EINVALID,
		        "%s: standard input is a terminal, not a manifest: "
		        "pipe or redirect one in (orchestrate -f - validate "
		        "< orchestrate.yaml)",
		        MANIFEST_STDIN_NAME);
	rc = read_fd(STDIN_FILENO, MANIFEST_STDIN_NAME, b, MANIFEST_MAX_SIZE);
	if (rc == ORCH_ETOOBIG)
		return err_at(MANIFEST_STDIN_NAME, 1, 1,
		              "manifest larger than %d bytes (1 MiB): stopped "
		              "reading standard input",
		              MANIFEST_MAX_SIZE);
	if (rc)
		return orch_error_code(ORCH_EINVALID, "cannot read %s",
		                       orch_error_last());
	if (!b->len)
		return err_at(MANIFEST_STDIN_NAME, 1, 1,
		              "empty manifest: nothing was read from standard "
		              "input");
	if (!getcwd(cwd, sizeof(cwd)))
		return orch_error_code(ORCH_EINVALID,
		                       "%s: the current directory is the "
		                       "project directory, and it cannot be "
		                       "named: %s",
		                       MANIFEST_STDIN_NAME, strerror(errno));
	*dir = realpath(cwd, NULL);
	if (!*dir)
		*dir = xstrdup(cwd);
	return 0;
}

int manifest_load(const char *path, struct strvec *warnings,
                  struct manifest **out)
{
	struct dotenv dotenv = DOTENV_INIT;
	struct vars vars = { env_get, &dotenv };
	struct buf b = BUF_INIT;
	const char *origin = path, *slash = strrchr(path, '/');
	char *dir = NULL, *env_path;
	int rc;

	*out = NULL;
	if (!strcmp(path, MANIFEST_STDIN)) {
		origin = MANIFEST_STDIN_NAME;
		env_path = xstrdup(".env");
		rc = read_manifest_stdin(&b, &dir);
	} else {
		env_path = slash ? xasprintf("%.*s/.env", (int)(slash - path),
		                             path)
		                 : xstrdup(".env");
		rc = read_manifest_file(path, &b);
	}
	if (rc)
		goto out;
	rc = read_dotenv(env_path, warnings, &dotenv);
	if (rc)
		goto out;
	rc = load(origin, dir, buf_cstr(&b), b.len, &vars, warnings, out);
out:
	dotenv_release(&dotenv);
	buf_release(&b);
	free(env_path);
	free(dir);
	return rc;
}

/* ---- freeing, lookups, discovery, project names ---------------------- */

static void container_release(struct mf_container *ct)
{
	if (ct->build) {
		free(ct->build->context);
		free(ct->build->dockerfile);
		kvs_release(&ct->build->args);
		free(ct->build->target);
		free(ct->build);
	}
	free(ct->image);
	strvec_clear(&ct->command);
	strvec_clear(&ct->entrypoint);
	kvs_release(&ct->environment);
	for (size_t i = 0; i < ct->nports; i++) {
		free(ct->ports[i].host_ip);
		free(ct->ports[i].protocol);
	}
	free(ct->ports);
	for (size_t i = 0; i < ct->nmounts; i++) {
		free(ct->mounts[i].type);
		free(ct->mounts[i].source);
		free(ct->mounts[i].target);
	}
	free(ct->mounts);
	strvec_clear(&ct->tmpfs);
	free(ct->user);
	free(ct->working_dir);
	kvs_release(&ct->labels);
	strvec_clear(&ct->healthcheck.test);
	free(ct->ready.http_path);
	strvec_clear(&ct->ready.exec);
	free(ct->ready.log_regex);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nservices; i++) {
		struct mf_service *s = &m->services[i];

		free(s->name);
		container_release(&s->real);
		if (s->stub) {
			container_release(s->stub);
			free(s->stub);
		}
		for (size_t d = 0; d < s->ndeps; d++)
			free(s->deps[d].name);
		free(s->deps);
	}
	free(m->services);
	for (size_t i = 0; i < m->nsuites; i++) {
		struct mf_suite *su = &m->suites[i];

		free(su->name);
		strvec_clear(&su->targets);
		free(su->target_index);
		container_release(&su->container);
		strvec_clear(&su->command);
		kvs_release(&su->environment);
		strvec_clear(&su->artifacts);
		strvec_clear(&su->tags);
	}
	free(m->suites);
	for (size_t i = 0; i < m->nvolumes; i++)
		free(m->volumes[i].name);
	free(m->volumes);
	free(m->path);
	free(m->dir);
	free(m->name);
	free(m->strategy);
	free(m);
}

int manifest_service_index(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nservices; i++)
		if (!strcmp(m->services[i].name, name))
			return (int)i;
	return -1;
}

int manifest_discover(const char *explicit_path, char **path)
{
	static const char *const defaults[] = { "orchestrate.yaml",
		                                "orchestrate.yml" };
	const char *env = getenv("ORCHESTRATE_FILE");

	*path = NULL;
	if (explicit_path) {
		if (!strcmp(explicit_path, MANIFEST_STDIN)) {
			*path = xstrdup(MANIFEST_STDIN);
			return 0;
		}
		if (access(explicit_path, F_OK))
			return orch_error_code(ORCH_ENOTFOUND,
			                       "manifest '%s' not found: %s",
			                       explicit_path, strerror(errno));
		*path = xstrdup(explicit_path);
		return 0;
	}
	if (env && *env) {
		if (strcmp(env, MANIFEST_STDIN) && access(env, F_OK))
			return orch_error_code(
			        ORCH_ENOTFOUND,
			        "manifest '%s' (from "
			        "ORCHESTRATE_FILE) not found: %s",
			        env, strerror(errno));
		*path = xstrdup(env);
		return 0;
	}
	for (size_t i = 0; i < 2; i++) {
		if (!access(defaults[i], F_OK)) {
			*path = xstrdup(defaults[i]);
			return 0;
		}
	}
	return orch_error_code(ORCH_ENOTFOUND,
	                       "no manifest found: tried -f, ORCHESTRATE_FILE, "
	                       "orchestrate.yaml and orchestrate.yml in the "
	                       "current directory");
}

/* Compose's rule for a name taken from a directory: lower it, drop the rest. */
static char *normalize_project(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		char ch = *s;

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ((ch == '_' || ch == '-') && b.len))
			buf_addch(&b, ch);
	}
	return buf_detach(&b, NULL);
}

int manifest_project_name(const struct manifest *m, const char *explicit_name,
                          char **name)
{
	const char *env = getenv("ORCHESTRATE_PROJECT");
	const char *given = NULL, *from = NULL;
	char cwd[PATH_MAX], *n;
	const char *dir;

	*name = NULL;
	if (explicit_name) {
		given = explicit_name;
		from = "-p";
	} else if (env && *env) {
		given = env;
		from = "ORCHESTRATE_PROJECT";
	} else if (m && m->name) {
		given = m->name;
		from = "name:";
	}
	if (given) {
		if (!valid_project_name(given))
			return orch_error_code(
			        ORCH_EINVALID,
			        "invalid project name '%.80s' from %s (lower "
			        "case letters, digits, '-' and '_', starting "
			        "with a letter or digit)",
			        given, from);
		*name = xstrdup(given);
		return 0;
	}
	if (m && m->dir) {
		dir = m->dir;
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return orch_error_code(ORCH_EINVALID,
			                       "cannot name the project: %s",
			                       strerror(errno));
		dir = cwd;
	}
	dir = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	n = normalize_project(dir);
	if (!*n) {
		free(n);
		return orch_error_code(ORCH_EINVALID,
		                       "cannot derive a project name from the "
		                       "directory '%s'; use -p or name:",
		                       dir);
	}
	*name = n;
	return 0;
}
