/*
 * yaml_tree.c: the YAML tree and its limits (see yaml_tree.h).
 *
 * libyaml's events become nodes of our own as they arrive, so that a
 * limit stops a hostile file before it costs anything: the encoding is
 * checked first, then depth, anchors, aliases, expanded nodes and
 * scalar length on each event, duplicate keys, tags and '<<' merges as
 * each mapping ends.
 *
 * This is the only file that includes <yaml.h>. It does not know what
 * any key means, never interpolates and never reads a file: the schema
 * walk (manifest_walk.c) does all of that on the finished tree.
 */
#include "yaml_tree.h"

#include <string.h>

#include <yaml.h>

#include "error.h"
#include "manifest.h"
#include "util.h"

struct anchor {
	char *name;
	struct ynode *node;
};

/* The parse in progress; the nodes go to the tree. */
struct loader {
	const char *origin;
	struct ytree *tree;
	struct anchor *anchors;
	size_t nanchors, aanchors;
	struct ynode *stack[YTREE_MAX_DEPTH + 1];
	size_t depth;
	size_t naliases;
	size_t expanded;
	int ndocs;
};

static int err_mark(struct loader *L, yaml_mark_t mark, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int err_mark(struct loader *L, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = orch_error_vat(L->origin, (int)mark.line + 1, (int)mark.column + 1,
	                    fmt, ap);
	va_end(ap);
	return rc;
}
/* Nodes come in blocks: a manifest has thousands, all freed together. */
#define NODE_BLOCK 512

static struct ynode *node_new(struct loader *L, enum ykind kind,
                              yaml_mark_t mark)
{
	struct ynode *n;

	struct ytree *t = L->tree;

	if (t->nnodes % NODE_BLOCK == 0) {
		ALLOC_GROW(t->blocks, t->nblocks + 1, t->ablocks);
		t->blocks[t->nblocks++] = xcalloc(NODE_BLOCK, sizeof(*n));
	}
	n = &t->blocks[t->nnodes / NODE_BLOCK][t->nnodes % NODE_BLOCK];
	t->nnodes++;
	n->kind = kind;
	n->line = (int)mark.line + 1;
	n->col = (int)mark.column + 1;
	n->weight = 1;
	n->file = (uint16_t)t->file;
	return n;
}

struct ynode *ytree_node(struct ytree *t, enum ykind kind,
                         const struct ynode *like, const char *str)
{
	struct loader L = { .tree = t };
	yaml_mark_t mark = { 0 };
	struct ynode *n;

	if (like) {
		mark.line = (size_t)(like->line - 1);
		mark.column = (size_t)(like->col - 1);
	}
	n = node_new(&L, kind, mark);
	if (like)
		n->file = like->file;
	if (kind == Y_SCALAR) {
		n->str = xstrdup(str ? str : "");
		n->len = (uint32_t)strlen(n->str);
		n->plain = like && like->kind == Y_SCALAR ? like->plain : 0;
	}
	return n;
}

void ytree_release(struct ytree *t)
{
	for (size_t i = 0; i < t->nnodes; i++) {
		struct ynode *n = &t->blocks[i / NODE_BLOCK][i % NODE_BLOCK];

		free(n->str);
		free(n->items);
	}
	for (size_t i = 0; i < t->nblocks; i++)
		free(t->blocks[i]);
	free(t->blocks);
	t->blocks = NULL;
	t->nblocks = t->ablocks = t->nnodes = 0;
	t->root = NULL;
}

static void node_push(struct ynode *parent, struct ynode *child)
{
	ALLOC_GROW(parent->items, parent->n + 1, parent->alloc);
	parent->items[parent->n++] = child;
}

void ynode_push(struct ynode *parent, struct ynode *child)
{
	node_push(parent, child);
	/* saturating: merged trees share nodes, as aliases do */
	parent->weight = parent->weight > UINT32_MAX - child->weight
	                         ? UINT32_MAX
	                         : parent->weight + child->weight;
}

static int add_child(struct loader *L, struct ynode *child, yaml_mark_t mark)
{
	if (L->depth == 0) {
		if (L->tree->root)
			return err_mark(L, mark,
			                "multiple documents are not supported");
		L->tree->root = child;
		return 0;
	}
	node_push(L->stack[L->depth - 1], child);
	return 0;
}

/*
 * Only the YAML core schema, whose custom tags would mean custom types,
 * and Compose's merge tags (*merge: enum ytag).
 */
static int check_tag(struct loader *L, const yaml_char_t *tag, yaml_mark_t mark,
                     int *is_str, unsigned char *merge)
{
	static const char *const core[] = { "str",  "int", "float", "bool",
		                            "null", "seq", "map" };
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *t = (const char *)tag;

	*is_str = 0;
	*merge = YTAG_NONE;
	if (!t || !strcmp(t, "!"))
		return 0;
	if (!strcmp(t, "!reset") || !strcmp(t, "!override")) {
		*merge = t[1] == 'r' ? YTAG_RESET : YTAG_OVERRIDE;
		return 0;
	}
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
	if (L->nanchors >= YTREE_MAX_ANCHORS)
		return err_mark(L, mark, "more than %d anchors",
		                YTREE_MAX_ANCHORS);
	ALLOC_GROW(L->anchors, L->nanchors + 1, L->aanchors);
	L->anchors[L->nanchors].name = xstrdup((const char *)name);
	L->anchors[L->nanchors].node = node;
	L->nanchors++;
	return 0;
}

static int count_nodes(struct loader *L, size_t n, yaml_mark_t mark)
{
	L->expanded += n;
	if (L->expanded > YTREE_MAX_NODES)
		return err_mark(L, mark,
		                "more than %d nodes once aliases are expanded",
		                YTREE_MAX_NODES);
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

static int is_merge_tag(unsigned char t)
{
	return t != YTAG_NONE;
}

static int is_merge_key(const struct ynode *k)
{
	return k->kind == Y_SCALAR && k->plain && !strcmp(k->str, "<<");
}

static int merge_from(struct loader *L, struct ynode *src, struct keyset *ks,
                      struct ynode ***items, size_t *n, size_t *alloc)
{
	if (src->kind != Y_MAP)
		return orch_error_at(
		        L->origin, src->line, src->col,
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
			rc = orch_error_at(L->origin, k->line, k->col,
			                   "mapping keys must be scalars");
			goto out;
		}
		first = keyset_add(&ks, k);
		if (first) {
			rc = orch_error_at(
			        L->origin, k->line, k->col,
			        "duplicate key '%s' (first at line %d)", k->str,
			        first->line);
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
	unsigned char merge;
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
		if (++L->naliases > YTREE_MAX_ALIASES)
			return err_mark(L, ev->start_mark,
			                "more than %d aliases",
			                YTREE_MAX_ALIASES);
		rc = count_nodes(L, target->weight, ev->start_mark);
		return rc ? rc : add_child(L, target, ev->start_mark);
	}
	case YAML_SCALAR_EVENT:
		rc = check_tag(L, ev->data.scalar.tag, ev->start_mark, &is_str,
		               &merge);
		if (rc)
			return rc;
		if (ev->data.scalar.length > YTREE_MAX_SCALAR)
			return err_mark(L, ev->start_mark,
			                "scalar longer than %d bytes",
			                YTREE_MAX_SCALAR);
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
		n->plain = !is_str && !is_merge_tag(merge) &&
		           !ev->data.scalar.tag &&
		           ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->tag = merge;
		/* `!reset null` or a bare `!reset`: still a null */
		if (merge && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			n->plain = 1;
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

		if (L->depth >= YTREE_MAX_DEPTH)
			return err_mark(L, ev->start_mark,
			                "nesting deeper than %d levels",
			                YTREE_MAX_DEPTH);
		rc = check_tag(L, tag, ev->start_mark, &is_str, &merge);
		if (!rc && is_str)
			rc = err_mark(L, ev->start_mark,
			              "'!!str' on a collection");
		if (!rc)
			rc = count_nodes(L, 1, ev->start_mark);
		if (rc)
			return rc;
		n = node_new(L, seq ? Y_SEQ : Y_MAP, ev->start_mark);
		n->open = 1;
		n->tag = merge;
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
			return orch_error_at(origin, line, col,
			                     "NUL byte in input");
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
			return orch_error_at(origin, line, col,
			                     "invalid UTF-8");
		}
		for (size_t k = 1; k <= need; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return orch_error_at(origin, line, col,
				                     "invalid UTF-8");
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return orch_error_at(origin, line, col,
			                     "invalid UTF-8");
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

int ytree_parse(struct ytree *t, const char *origin, const char *data,
                size_t len)
{
	struct loader L = { 0 };
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, done = 0;

	if (len > MANIFEST_MAX_SIZE)
		return orch_error_at(origin, 1, 1,
		                     "manifest larger than %d bytes (1 MiB)",
		                     MANIFEST_MAX_SIZE);
	rc = check_encoding(origin, (const unsigned char *)data, len);
	if (rc)
		return rc;
	if (!yaml_parser_initialize(&parser))
		return orch_error_set("out of memory initialising libyaml");
	L.origin = origin;
	L.tree = t;
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			const char *problem = parser.problem ? parser.problem
			                                     : "invalid YAML";
			int line = (int)parser.problem_mark.line + 1;
			int col = (int)parser.problem_mark.column + 1;

			/* libyaml's own words for a tab do not say "tab" */
			if (char_at(data, len, parser.problem_mark.line,
			            parser.problem_mark.column) == '\t')
				rc = orch_error_at(
				        origin, line, col,
				        "tab character: YAML indents "
				        "with spaces only");
			else if (parser.context)
				rc = orch_error_at(origin, line, col, "%s (%s)",
				                   problem, parser.context);
			else
				rc = orch_error_at(origin, line, col, "%s",
				                   problem);
			goto out;
		}
		rc = on_event(&L, &ev, &done);
		yaml_event_delete(&ev);
		if (rc)
			goto out;
	}
out:
	yaml_parser_delete(&parser);
	for (size_t i = 0; i < L.nanchors; i++)
		free(L.anchors[i].name);
	free(L.anchors);
	return rc;
}

int ynode_is_null(const struct ynode *n)
{
	if (n->kind != Y_SCALAR || !n->plain)
		return 0;
	return !n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const struct ynode *ymap_get(const struct ynode *map, const char *key)
{
	if (map->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (!strcmp(map->items[i]->str, key))
			return map->items[i + 1];
	return NULL;
}
