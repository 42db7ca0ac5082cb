/*
 * yaml_tree.h: a manifest's YAML as a small tree of our own, built under
 * the limits a hostile file must not get past.
 *
 * yaml_tree.c is the only file that includes <yaml.h>, and nothing of
 * libyaml shows here. ytree_parse() refuses, with the place and the
 * reason: more than MANIFEST_MAX_SIZE bytes; anything but UTF-8 without
 * NUL; more than one document; nesting deeper than YTREE_MAX_DEPTH; more
 * than YTREE_MAX_ANCHORS anchors or YTREE_MAX_ALIASES aliases; more than
 * YTREE_MAX_NODES nodes once aliases are expanded; a scalar longer than
 * YTREE_MAX_SCALAR; a mapping key that is not a scalar or appears twice;
 * a tag outside the YAML core schema and Compose's two merge tags,
 * `!reset` and `!override` (kept on the node for the merge,
 * manifest_merge.c). Aliases and '<<' merge keys are resolved by sharing
 * nodes, never by copying them: a node may hang under several parents,
 * so the tree is read-only once built; what the merge of several files
 * makes is new nodes (ytree_node()), never a change to a parsed one.
 *
 * It knows nothing of the manifest's keys: what they mean is the schema
 * walk's (manifest_walk.c).
 *
 * Errors are ORCH_EINVALID, "ORIGIN:LINE:COL: message" (error.h).
 */
#ifndef ORCH_YAML_TREE_H
#define ORCH_YAML_TREE_H

#include <stddef.h>
#include <stdint.h>

#define YTREE_MAX_DEPTH   64
#define YTREE_MAX_ANCHORS 1000
#define YTREE_MAX_ALIASES 1000
#define YTREE_MAX_NODES   100000
#define YTREE_MAX_SCALAR  (64 * 1024)

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

/* Compose's merge tags (13-merge.md): drop the value, or replace it. */
enum ytag { YTAG_NONE, YTAG_RESET, YTAG_OVERRIDE };

/*
 * Small on purpose: a manifest has tens of thousands of nodes, and on a
 * virtual machine every fresh page costs a fault. The limits above keep
 * the 32-bit counts far from overflow.
 */
struct ynode {
	char *str;            /* scalars: the text, NUL-free */
	struct ynode **items; /* sequences; mappings as key, value, ... */
	uint32_t len;         /* of str */
	uint32_t n, alloc;    /* of items */
	uint32_t weight;      /* nodes in the subtree, aliases expanded */
	int line, col;        /* from 1 */
	unsigned char kind;   /* enum ykind */
	unsigned char plain;  /* an untagged plain scalar: null, bool, '<<' */
	unsigned char open;   /* while parsing: its end is still to come */
	unsigned char tag;    /* enum ytag */
	uint16_t file;        /* which file it was written in (the loader's) */
};

/*
 * Every node of one document, owned here and freed together; file is
 * what the nodes' file field gets.
 */
struct ytree {
	struct ynode *root; /* NULL: no document */
	struct ynode **blocks;
	size_t nblocks, ablocks, nnodes;
	unsigned file;
};
#define YTREE_INIT                                                             \
	{                                                                      \
		NULL, NULL, 0, 0, 0, 0                                         \
	}

/*
 * Parse len bytes of data (origin names it in messages) into t, which
 * starts as YTREE_INIT. On error t may hold part of a tree: release it
 * either way.
 */
int ytree_parse(struct ytree *t, const char *origin, const char *data,
                size_t len);
void ytree_release(struct ytree *t);

/*
 * A new node owned by t, at the place (line, column, file) of like; a
 * scalar gets a copy of str. For trees put together from parsed ones
 * (the merge of several files): children are added with ynode_push().
 */
struct ynode *ytree_node(struct ytree *t, enum ykind kind,
                         const struct ynode *like, const char *str);
void ynode_push(struct ynode *parent, struct ynode *child);

/* A plain null: nothing, '~' or null in any of YAML's spellings. */
int ynode_is_null(const struct ynode *n);

/* The value of key in a mapping, or NULL. */
const struct ynode *ymap_get(const struct ynode *map, const char *key);

#endif
