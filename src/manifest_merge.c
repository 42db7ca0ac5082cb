/*
 * manifest_merge.c: several Compose files -> one tree, as Compose puts a
 * project together (compose-spec 13-merge.md, 14-include.md, extends in
 * 05-services.md; see manifest_int.h for the loader's other files):
 *
 *   - each -f file is read, its include: entries loaded (each an own
 *     project: its directory, its .env or env_file) and their resources
 *     added, then the files are merged in order;
 *   - mappings merge key by key; sequences are appended, except
 *     command, entrypoint and healthcheck.test (replaced), the KEY=VALUE
 *     kinds (environment, labels, annotations, sysctls, extra_hosts,
 *     build.args, ...: merged by key), and ports, volumes, secrets and
 *     configs (an entry replaces the one with the same unique key);
 *     depends_on and networks in list form are read as mappings;
 *   - !reset drops what the files before set, !override replaces it;
 *   - then each service's extends: is resolved, from the same file or
 *     another, recursively, and merged under the service's own keys.
 *
 * Nothing here changes a parsed node: what a merge makes is new nodes in
 * c->arena, and every node keeps the file it was written in, so that a
 * message points at FILE:LINE:COL of the value. It knows no key's
 * meaning beyond which merge rule applies: the walk reads the result.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "manifest_int.h"

#define MAX_DEPTH 32 /* includes and extends within each other */
/*
 * Nodes and links a merge may make: extends of a large service by many
 * others, or files merged over and over, would otherwise multiply a
 * 1 MiB file into gigabytes.
 */
#define MAX_MERGED 1000000
/*
 * Nodes of the merged document with shared ones counted each time they
 * appear, as aliases are (YTREE_MAX_NODES a file): what the walk reads.
 */
#define MAX_EXPANDED (4 * YTREE_MAX_NODES)

/* What a mapping is, for the rules of its keys. */
enum mctx {
	MC_GENERIC,
	MC_ROOT,
	MC_SERVICES,
	MC_SERVICE,
	MC_BUILD,
	MC_HEALTH,
	MC_DEPLOY,
	MC_NETWORKS,
};

/* ---- files ------------------------------------------------------------ */

int mf_add_file(struct mf_conv *c, const char *name, const char *path,
                const char *dir, size_t vars, const char *data, size_t len,
                size_t *index)
{
	struct mf_file *f;

	if (c->nfiles >= MF_MAX_FILES)
		return orch_error_at(name, 1, 1,
		                     "more than %d files (include and extends)",
		                     MF_MAX_FILES);
	ALLOC_GROW(c->files, c->nfiles + 1, c->afiles);
	f = &c->files[c->nfiles];
	memset(f, 0, sizeof(*f));
	f->name = xstrdup(name);
	f->path = path ? xstrdup(path) : NULL;
	f->dir = xstrdup(dir);
	f->vars = vars;
	f->tree.file = (unsigned)c->nfiles;
	/* the model names it too (mf_service.file, ...) */
	if (c->m)
		strvec_push(&c->m->files, name);
	*index = c->nfiles++;
	return ytree_parse(&f->tree, f->name, data, len);
}

size_t mf_add_vars(struct mf_conv *c,
                   const char *(*getenv_fn)(const char *name),
                   struct dotenv *dotenv)
{
	struct mf_vars *v = xcalloc(1, sizeof(*v));

	ALLOC_GROW(c->vars, c->nvars + 1, c->avars);
	c->dotenvs = xrealloc(c->dotenvs, c->avars * sizeof(*c->dotenvs));
	v->getenv_fn = getenv_fn;
	v->dotenv = dotenv;
	c->vars[c->nvars] = v;
	c->dotenvs[c->nvars] = dotenv;
	return c->nvars++;
}

void mf_conv_release(struct mf_conv *c)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].name);
		free(c->files[i].path);
		free(c->files[i].dir);
		ytree_release(&c->files[i].tree);
	}
	free(c->files);
	for (size_t i = 0; i < c->nvars; i++) {
		if (c->dotenvs[i]) {
			dotenv_release(c->dotenvs[i]);
			free(c->dotenvs[i]);
		}
		free(c->vars[i]);
	}
	free(c->vars);
	free(c->dotenvs);
	ytree_release(&c->arena);
	strvec_clear(&c->warned);
	strindex_release(&c->service_ix);
	strindex_release(&c->volume_ix);
	strindex_release(&c->secret_ix);
	strindex_release(&c->config_ix);
	strindex_release(&c->network_ix);
	for (size_t i = 0; i < c->nnet_ext; i++)
		free(c->net_ext[i]);
	free(c->net_ext);
	for (size_t i = 0; i < c->nrefs; i++) {
		free(c->refs[i].target);
		free(c->refs[i].alias);
	}
	free(c->refs);
	for (size_t i = 0; i < c->nctx_refs; i++)
		free(c->ctx_refs[i].unit);
	free(c->ctx_refs);
	for (size_t i = 0; i < c->nwl; i++)
		free(c->wl[i].text);
	free(c->wl);
	free(c->stamp);
	memset(c, 0, sizeof(*c));
}

/* The file at path, already read in this load, or -1. */
static long file_loaded(const struct mf_conv *c, const char *path)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].path && !strcmp(c->files[i].path, path))
			return (long)i;
	return -1;
}

/* A path for messages: relative to the current directory when inside it. */
static char *display_name(const char *abs)
{
	char cwd[PATH_MAX];
	size_t l;

	if (getcwd(cwd, sizeof(cwd))) {
		l = strlen(cwd);
		if (!strncmp(abs, cwd, l) && abs[l] == '/')
			return xstrdup(abs + l + 1);
	}
	return xstrdup(abs);
}

static char *dir_of(const char *abs)
{
	const char *slash = strrchr(abs, '/');

	return slash && slash != abs ? xstrndup(abs, (size_t)(slash - abs))
	                             : xstrdup("/");
}

/*
 * Read the file at abs (a path written at node at, given as written) as
 * a new file of the load, or find it already read: its root.
 */
static int load_file(struct mf_conv *c, const struct ynode *at,
                     const char *what, const char *written, const char *abs,
                     const char *dir, size_t vars, const struct ynode **root)
{
	struct buf b = BUF_INIT;
	struct stat st;
	long have = file_loaded(c, abs);
	size_t ix;
	char *name;
	int rc;

	if (have >= 0 && c->files[have].vars == vars) {
		*root = c->files[have].tree.root;
		return 0;
	}
	if (stat(abs, &st))
		return mf_err(c, at, "%s: file '%s' not found", what, written);
	if (!S_ISREG(st.st_mode))
		return mf_err(c, at, "%s: '%s' is not a regular file", what,
		              written);
	rc = mf_read_manifest_file(abs, &b);
	if (rc) {
		buf_release(&b);
		return rc;
	}
	name = display_name(abs);
	rc = mf_add_file(c, name, abs, dir, vars, buf_cstr(&b), b.len, &ix);
	free(name);
	buf_release(&b);
	if (rc)
		return rc;
	*root = c->files[ix].tree.root;
	if (!*root || ynode_is_null(*root))
		return orch_error_at(c->files[ix].name, 1, 1, "empty manifest");
	if ((*root)->kind != Y_MAP)
		return mf_err(c, *root, "the manifest must be a mapping");
	return 0;
}

/* ---- building nodes ----------------------------------------------------- */

static struct ynode *mk(struct mf_conv *c, enum ykind kind,
                        const struct ynode *like, const char *str)
{
	c->merged++;
	return ytree_node(&c->arena, kind, like, str);
}

static void put(struct mf_conv *c, struct ynode *parent,
                const struct ynode *child)
{
	c->merged++;
	ynode_push(parent, (struct ynode *)child);
}

/* Past MAX_MERGED: an error at the file's start (what grew is many). */
static int too_big(struct mf_conv *c, const struct ynode *at)
{
	if (c->merged <= MAX_MERGED)
		return 0;
	return orch_error_at(mf_origin(c, at), 1, 1,
	                     "the merged manifest is larger than %d nodes "
	                     "(extends, include and override files "
	                     "multiply it)",
	                     MAX_MERGED);
}

static const struct ynode *map_get(const struct ynode *map, const char *key)
{
	return map && map->kind == Y_MAP ? ymap_get(map, key) : NULL;
}

/* ---- the merge rules ---------------------------------------------------- */

static const struct ynode *merge(struct mf_conv *c, const struct ynode *base,
                                 const struct ynode *over, enum mctx ctx);

/*
 * A KEY=VALUE kind as a mapping: a sequence of "K=V" (or "K:V" for
 * extra_hosts, seps ":="), "K" alone a null value.
 */
static const struct ynode *kv_map(struct mf_conv *c, const struct ynode *n,
                                  const char *seps)
{
	struct ynode *m;

	if (!n || n->kind != Y_SEQ)
		return n;
	m = mk(c, Y_MAP, n, NULL);
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *e = n->items[i];
		size_t l;
		char *key;

		if (e->kind != Y_SCALAR)
			return n; /* the walk says what is wrong with it */
		l = strcspn(e->str, seps);
		key = xstrndup(e->str, l);
		put(c, m, mk(c, Y_SCALAR, e, key));
		free(key);
		if (e->str[l]) {
			struct ynode *v = mk(c, Y_SCALAR, e, e->str + l + 1);

			v->plain = 0; /* "K=" is an empty string, not null */
			put(c, m, v);
		} else {
			struct ynode *v = mk(c, Y_SCALAR, e, "");

			v->plain = 1;
			put(c, m, v);
		}
	}
	return m;
}

/* depends_on and networks in list form: NAME -> null. */
static const struct ynode *names_map(struct mf_conv *c, const struct ynode *n)
{
	struct ynode *m;

	if (!n || n->kind != Y_SEQ)
		return n;
	m = mk(c, Y_MAP, n, NULL);
	for (size_t i = 0; i < n->n; i++) {
		struct ynode *v;

		if (n->items[i]->kind != Y_SCALAR)
			return n;
		put(c, m, (struct ynode *)n->items[i]);
		v = mk(c, Y_SCALAR, n->items[i], "");
		v->plain = 1;
		put(c, m, v);
	}
	return m;
}

/* build: a string is its context. */
static const struct ynode *build_map(struct mf_conv *c, const struct ynode *n)
{
	struct ynode *m;

	if (!n || n->kind != Y_SCALAR || ynode_is_null(n))
		return n;
	m = mk(c, Y_MAP, n, NULL);
	put(c, m, mk(c, Y_SCALAR, n, "context"));
	put(c, m, (struct ynode *)n);
	return m;
}

/* A string or a sequence as a sequence. */
static const struct ynode *as_seq(struct mf_conv *c, const struct ynode *n)
{
	struct ynode *s;

	if (!n || n->kind != Y_SCALAR || ynode_is_null(n))
		return n;
	s = mk(c, Y_SEQ, n, NULL);
	put(c, s, (struct ynode *)n);
	return s;
}

/* The unique key of a sequence entry (ports, volumes, secrets, ...). */
typedef char *key_fn(const struct ynode *e);

static char *text_key(const struct ynode *e)
{
	return e->kind == Y_SCALAR ? xstrdup(e->str) : NULL;
}

static const char *field(const struct ynode *m, const char *key)
{
	const struct ynode *v = map_get(m, key);

	return v && v->kind == Y_SCALAR ? v->str : "";
}

/* ports: {ip, target, published, protocol} */
static char *port_key(const struct ynode *e)
{
	char *s, *ip, *host, *target, *proto, *key;

	if (e->kind == Y_MAP)
		return xasprintf("%s|%s|%s|%s", field(e, "host_ip"),
		                 field(e, "published"), field(e, "target"),
		                 *field(e, "protocol") ? field(e, "protocol")
		                                       : "tcp");
	if (e->kind != Y_SCALAR)
		return NULL;
	s = xstrdup(e->str);
	/* malformed: its own key; the walk says what is wrong with it */
	key = mf_port_split(s, &ip, &host, &target, &proto)
	              ? xasprintf("%s", e->str)
	              : xasprintf("%s|%s|%s|%s", ip ? ip : "", host ? host : "",
	                          target, proto ? proto : "tcp");
	free(s);
	return key;
}

/* volumes: target */
static char *volume_key(const struct ynode *e)
{
	const char *p, *q;

	if (e->kind == Y_MAP)
		return xstrdup(field(e, "target"));
	if (e->kind != Y_SCALAR)
		return NULL;
	p = strchr(e->str, ':');
	if (!p)
		return xstrdup(e->str);
	q = strchr(p + 1, ':');
	return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : xstrdup(p + 1);
}

/* secrets and configs: target, else source */
static char *file_ref_key(const struct ynode *e)
{
	if (e->kind == Y_MAP)
		return *field(e, "target")
		               ? xasprintf("t:%s", field(e, "target"))
		               : xasprintf("s:%s", field(e, "source"));
	return e->kind == Y_SCALAR ? xasprintf("s:%s", e->str) : NULL;
}

/*
 * Sequences with a unique key: an entry of over replaces the entry of
 * base with the same key, in its place; the others are appended.
 */
static const struct ynode *keyed_concat(struct mf_conv *c,
                                        const struct ynode *base,
                                        const struct ynode *over, key_fn *kf)
{
	struct ynode *s = mk(c, Y_SEQ, over, NULL);
	char *used = xcalloc(over->n + 1, 1);
	struct strvec okeys = STRVEC_INIT;

	for (size_t j = 0; j < over->n; j++) {
		char *k = kf(over->items[j]);

		strvec_push(&okeys, k ? k : "");
		free(k);
	}
	for (size_t i = 0; i < base->n; i++) {
		const struct ynode *e = base->items[i];
		char *k = kf(e);
		long hit = -1;

		for (size_t j = 0; k && *k && j < over->n && hit < 0; j++)
			if (!used[j] && !strcmp(okeys.v[j], k))
				hit = (long)j;
		if (hit >= 0) {
			used[hit] = 1;
			e = over->items[hit];
		}
		if (e->tag != YTAG_RESET)
			put(c, s, (struct ynode *)e);
		free(k);
	}
	for (size_t j = 0; j < over->n; j++)
		if (!used[j] && over->items[j]->tag != YTAG_RESET)
			put(c, s, over->items[j]);
	strvec_clear(&okeys);
	free(used);
	return s;
}

static const struct ynode *concat(struct mf_conv *c, const struct ynode *base,
                                  const struct ynode *over)
{
	struct ynode *s = mk(c, Y_SEQ, over, NULL);

	for (size_t i = 0; i < base->n; i++)
		put(c, s, base->items[i]);
	for (size_t i = 0; i < over->n; i++)
		put(c, s, over->items[i]);
	return s;
}

/* The value of key in a mapping of context ctx, base and over merged. */
static const struct ynode *merge_key(struct mf_conv *c, enum mctx ctx,
                                     const char *key, const struct ynode *b,
                                     const struct ynode *o)
{
	static const char *const kv_keys[] = { "environment", "labels",
		                               "annotations", "sysctls",
		                               "args",        "storage_opt" };
	static const char *const lists[] = { "dns",
		                             "dns_search",
		                             "dns_opt",
		                             "tmpfs",
		                             "env_file",
		                             "label_file",
		                             "profiles",
		                             "cap_add",
		                             "cap_drop",
		                             "security_opt",
		                             "expose",
		                             "links",
		                             "external_links",
		                             "volumes_from",
		                             "group_add",
		                             "devices",
		                             "device_cgroup_rules" };

	if (o->tag == YTAG_RESET)
		return NULL;
	if (o->tag == YTAG_OVERRIDE)
		return o;
	switch (ctx) {
	case MC_ROOT:
		if (!strcmp(key, "services"))
			return merge(c, b, o, MC_SERVICES);
		return merge(c, b, o, MC_GENERIC);
	case MC_SERVICES:
		/* `name:` alone in an override file adds nothing */
		if (ynode_is_null(o))
			return b;
		return merge(c, b, o, MC_SERVICE);
	case MC_SERVICE:
		if (!strcmp(key, "command") || !strcmp(key, "entrypoint"))
			return o;
		if (!strcmp(key, "healthcheck"))
			return merge(c, b, o, MC_HEALTH);
		if (!strcmp(key, "build"))
			return merge(c, build_map(c, b), build_map(c, o),
			             MC_BUILD);
		if (!strcmp(key, "extra_hosts"))
			return merge(c, kv_map(c, b, ":="), kv_map(c, o, ":="),
			             MC_GENERIC);
		if (!strcmp(key, "depends_on"))
			return merge(c, names_map(c, b), names_map(c, o),
			             MC_GENERIC);
		if (!strcmp(key, "networks"))
			return merge(c, names_map(c, b), names_map(c, o),
			             MC_NETWORKS);
		if (!strcmp(key, "deploy"))
			return merge(c, b, o, MC_DEPLOY);
		for (size_t i = 0; i < sizeof(kv_keys) / sizeof(*kv_keys); i++)
			if (!strcmp(key, kv_keys[i]))
				return merge(c, kv_map(c, b, "="),
				             kv_map(c, o, "="), MC_GENERIC);
		for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++) {
			const struct ynode *sb = as_seq(c, b),
			                   *so = as_seq(c, o);

			if (strcmp(key, lists[i]))
				continue;
			if (sb->kind == Y_SEQ && so->kind == Y_SEQ)
				return keyed_concat(c, sb, so, text_key);
			return o;
		}
		if (b->kind == Y_SEQ && o->kind == Y_SEQ) {
			if (!strcmp(key, "ports"))
				return keyed_concat(c, b, o, port_key);
			if (!strcmp(key, "volumes"))
				return keyed_concat(c, b, o, volume_key);
			if (!strcmp(key, "secrets") || !strcmp(key, "configs"))
				return keyed_concat(c, b, o, file_ref_key);
		}
		return merge(c, b, o, MC_GENERIC);
	case MC_HEALTH:
		if (!strcmp(key, "test"))
			return o;
		return merge(c, b, o, MC_GENERIC);
	case MC_BUILD:
		if (!strcmp(key, "args") || !strcmp(key, "labels") ||
		    !strcmp(key, "additional_contexts"))
			return merge(c, kv_map(c, b, "="), kv_map(c, o, "="),
			             MC_GENERIC);
		if (!strcmp(key, "extra_hosts"))
			return merge(c, kv_map(c, b, ":="), kv_map(c, o, ":="),
			             MC_GENERIC);
		return merge(c, b, o, MC_GENERIC);
	case MC_DEPLOY:
		if (!strcmp(key, "labels"))
			return merge(c, kv_map(c, b, "="), kv_map(c, o, "="),
			             MC_GENERIC);
		return merge(c, b, o, MC_GENERIC);
	case MC_NETWORKS:
		/* `backend:` with nothing keeps what the network had */
		if (ynode_is_null(o))
			return b;
		return merge(c, b, o, MC_GENERIC);
	case MC_GENERIC:
		break;
	}
	return merge(c, b, o, MC_GENERIC);
}

static const struct ynode *merge_map(struct mf_conv *c,
                                     const struct ynode *base,
                                     const struct ynode *over, enum mctx ctx)
{
	struct ynode *m = mk(c, Y_MAP, over, NULL);
	struct strindex ix;
	char *seen = xcalloc(over->n / 2 + 1, 1);

	strindex_init(&ix, over->n / 2 + 1);
	for (size_t j = 0; j + 1 < over->n; j += 2)
		strindex_put(&ix, over->items[j]->str, j / 2);
	for (size_t i = 0; i + 1 < base->n; i += 2) {
		const struct ynode *k = base->items[i], *v = base->items[i + 1];
		long j = strindex_get(&ix, k->str);

		if (j >= 0) {
			seen[j] = 1;
			k = over->items[2 * j];
			v = merge_key(c, ctx, k->str, v,
			              over->items[2 * j + 1]);
			if (!v)
				continue;
		}
		put(c, m, (struct ynode *)k);
		put(c, m, (struct ynode *)v);
	}
	for (size_t j = 0; j + 1 < over->n; j += 2) {
		if (seen[j / 2] || over->items[j + 1]->tag == YTAG_RESET)
			continue;
		put(c, m, over->items[j]);
		put(c, m, over->items[j + 1]);
	}
	strindex_release(&ix);
	free(seen);
	return m;
}

static const struct ynode *merge(struct mf_conv *c, const struct ynode *base,
                                 const struct ynode *over, enum mctx ctx)
{
	if (!base)
		return over;
	if (!over)
		return base;
	if (over->tag == YTAG_RESET)
		return NULL;
	if (over->tag == YTAG_OVERRIDE)
		return over;
	if (base->kind == Y_MAP && over->kind == Y_MAP)
		return merge_map(c, base, over, ctx);
	if (base->kind == Y_SEQ && over->kind == Y_SEQ)
		return concat(c, base, over);
	return over;
}

/* ---- include: ----------------------------------------------------------- */

static int load_project(struct mf_conv *c, const char *const *abs,
                        const char *const *written, const struct ynode **at,
                        size_t n, const char *dir, size_t vars,
                        struct strvec *stack, const struct ynode **root);

static const char *const sections[] = { "services", "volumes", "networks",
	                                "secrets", "configs" };

/*
 * Add the included project's resources to the including file's root
 * (a new root): a name defined on both sides is an error, as Compose.
 */
static int add_included(struct mf_conv *c, const struct ynode **root,
                        const struct ynode *sub, const struct ynode *entry)
{
	struct ynode *r = mk(c, Y_MAP, *root, NULL);
	const struct ynode *orig = *root;

	for (size_t i = 0; i + 1 < orig->n; i += 2) {
		const struct ynode *k = orig->items[i], *v = orig->items[i + 1];
		size_t s;

		for (s = 0; s < 5; s++)
			if (!strcmp(k->str, sections[s]))
				break;
		if (s == 5 || !map_get(sub, sections[s])) {
			put(c, r, (struct ynode *)k);
			put(c, r, (struct ynode *)v);
		}
	}
	for (size_t s = 0; s < 5; s++) {
		const struct ynode *mine = map_get(orig, sections[s]);
		const struct ynode *theirs = map_get(sub, sections[s]);
		struct ynode *m;

		if (!theirs || theirs->kind != Y_MAP)
			continue;
		if (mine && mine->kind != Y_MAP)
			return mf_err(c, mine, "'%s' must be a mapping",
			              sections[s]);
		m = mk(c, Y_MAP, mine ? mine : entry, NULL);
		/* the included first, as Compose loads them first */
		for (size_t i = 0; i + 1 < theirs->n; i += 2) {
			const struct ynode *k = theirs->items[i];
			const struct ynode *dup = map_get(mine, k->str);

			if (!strncmp(k->str, "x-", 2))
				continue;
			if (dup)
				return mf_err(
				        c, k,
				        "%.*s '%s' is defined both here and in "
				        "%s (line %d), which includes this file",
				        (int)strlen(sections[s]) - 1,
				        sections[s], k->str, mf_origin(c, dup),
				        dup->line);
			put(c, m, (struct ynode *)k);
			put(c, m, theirs->items[i + 1]);
		}
		for (size_t i = 0; mine && i + 1 < mine->n; i += 2) {
			put(c, m, mine->items[i]);
			put(c, m, mine->items[i + 1]);
		}
		put(c, r, mk(c, Y_SCALAR, mine ? mine : entry, sections[s]));
		put(c, r, m);
	}
	*root = r;
	return 0;
}

static const char *include_keys[] = { "path", "env_file", "project_directory" };

/* The .env of the included project, or its include env_file(s). */
static int include_vars(struct mf_conv *c, const struct ynode *env_files,
                        const char *project_dir, size_t *vars)
{
	const char *(*get)(const char *) = c->vars[0]->getenv_fn;
	struct dotenv *d = xcalloc(1, sizeof(*d));
	struct strvec files = STRVEC_INIT;
	int rc = 0;

	*d = (struct dotenv)DOTENV_INIT;
	if (env_files) {
		rc = mf_get_strings(c, env_files, "env_file", &files);
		for (size_t i = 0; !rc && i < files.n; i++) {
			struct dotenv one = DOTENV_INIT;
			char *p = mf_resolve_path(c, env_files, files.v[i]);
			struct stat st;

			if (stat(p, &st))
				rc = mf_err(c, env_files,
				            "env file '%s' not found",
				            files.v[i]);
			if (!rc)
				rc = mf_read_dotenv(p, get, c->warnings, &one);
			/* later files win */
			for (size_t k = 0; !rc && k < one.n; k++) {
				ALLOC_GROW(d->items, d->n + 1, d->alloc);
				d->items[d->n].key = one.items[k].key;
				d->items[d->n].value = one.items[k].value;
				d->items[d->n].line = one.items[k].line;
				one.items[k].key = one.items[k].value = NULL;
				d->n++;
			}
			dotenv_release(&one);
			free(p);
		}
	} else {
		char *p = xasprintf("%s/.env", project_dir);

		rc = mf_read_dotenv(p, get, c->warnings, d);
		free(p);
	}
	strvec_clear(&files);
	*vars = mf_add_vars(c, get, d);
	return rc;
}

static int apply_include(struct mf_conv *c, const struct ynode **root,
                         const struct ynode *e, struct strvec *stack)
{
	const struct ynode *paths = e, *env_files = NULL, *pdir = NULL;
	struct strvec given = STRVEC_INIT, abs = STRVEC_INIT;
	const struct ynode **at = NULL;
	const struct ynode *sub = NULL;
	char *project_dir = NULL;
	size_t vars;
	int rc;

	if (e->kind == Y_MAP) {
		for (size_t i = 0; i + 1 < e->n; i += 2) {
			const char *k = e->items[i]->str;
			size_t j;

			if (!strncmp(k, "x-", 2))
				continue;
			for (j = 0; j < 3 && strcmp(k, include_keys[j]); j++)
				;
			if (j == 3)
				return mf_err(
				        c, e->items[i],
				        "unknown key '%.80s' in an include "
				        "(path, env_file or "
				        "project_directory)",
				        k);
		}
		paths = map_get(e, "path");
		env_files = map_get(e, "env_file");
		pdir = map_get(e, "project_directory");
		if (!paths || ynode_is_null(paths))
			return mf_err(c, e, "an include has no 'path'");
	}
	rc = mf_get_strings(c, paths, "include", &given);
	if (!rc && !given.n)
		rc = mf_err(c, paths, "an include has no 'path'");
	if (rc)
		goto out;
	at = xcalloc(given.n, sizeof(*at));
	for (size_t i = 0; i < given.n; i++) {
		char *p;

		if (strstr(given.v[i], "://") ||
		    !strncmp(given.v[i], "git@", 4)) {
			rc = mf_err(c, paths,
			            "remote include '%s' is not supported: "
			            "include files of this machine",
			            given.v[i]);
			goto out;
		}
		p = mf_resolve_path(c, paths, given.v[i]);
		for (size_t k = 0; k < stack->n; k++) {
			if (strcmp(stack->v[k], p))
				continue;
			{
				struct buf chain = BUF_INIT;

				for (size_t m = k; m < stack->n; m++) {
					char *d = display_name(stack->v[m]);

					buf_addf(&chain, "%s -> ", d);
					free(d);
				}
				{
					char *d = display_name(p);

					buf_addstr(&chain, d);
					free(d);
				}
				rc = mf_err(c, paths, "include cycle: %s",
				            chain.data);
				buf_release(&chain);
				free(p);
				goto out;
			}
		}
		strvec_push_nodup(&abs, p);
		at[i] = paths;
	}
	if (stack->n >= MAX_DEPTH) {
		rc = mf_err(c, e, "includes nested deeper than %d", MAX_DEPTH);
		goto out;
	}
	if (pdir && !ynode_is_null(pdir)) {
		char *s = NULL;

		rc = mf_get_string(c, pdir, "project_directory", &s);
		if (!rc)
			project_dir = mf_resolve_path(c, pdir, s);
		free(s);
		if (rc)
			goto out;
	} else {
		project_dir = dir_of(abs.v[0]);
	}
	rc = include_vars(c, env_files, project_dir, &vars);
	if (!rc)
		rc = load_project(c, (const char *const *)abs.v,
		                  (const char *const *)given.v, at, abs.n,
		                  project_dir, vars, stack, &sub);
	if (!rc)
		rc = add_included(c, root, sub, e);
out:
	free(project_dir);
	free(at);
	strvec_clear(&given);
	strvec_clear(&abs);
	return rc;
}

/* The include: entries of one file, in order; the key itself goes. */
static int apply_includes(struct mf_conv *c, const struct ynode **root,
                          struct strvec *stack)
{
	const struct ynode *inc = map_get(*root, "include");
	struct ynode *r;
	int rc;

	if (!inc)
		return 0;
	r = mk(c, Y_MAP, *root, NULL);
	for (size_t i = 0; i + 1 < (*root)->n; i += 2) {
		if (!strcmp((*root)->items[i]->str, "include"))
			continue;
		put(c, r, (*root)->items[i]);
		put(c, r, (*root)->items[i + 1]);
	}
	*root = r;
	if (ynode_is_null(inc))
		return 0;
	if (inc->kind != Y_SEQ)
		return mf_err(c, inc, "'include' must be a sequence");
	for (size_t i = 0; i < inc->n; i++) {
		rc = apply_include(c, root, inc->items[i], stack);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- extends: ----------------------------------------------------------- */

struct ext_frame {
	size_t file;
	const char *service;
};

static const struct ynode *without_key(struct mf_conv *c,
                                       const struct ynode *map, const char *key)
{
	struct ynode *m = mk(c, Y_MAP, map, NULL);

	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (!strcmp(map->items[i]->str, key))
			continue;
		put(c, m, map->items[i]);
		put(c, m, map->items[i + 1]);
	}
	return m;
}

static int resolve_service(struct mf_conv *c, const struct ynode *services,
                           const struct ynode *key, const struct ynode *svc,
                           struct ext_frame *stack, size_t depth,
                           const struct ynode **out);

/* extends: NAME, or {service, file}: the base service, resolved. */
static int extended_base(struct mf_conv *c, const struct ynode *services,
                         const struct ynode *ext, struct ext_frame *stack,
                         size_t depth, const struct ynode **base)
{
	const struct ynode *sv = ext, *fv = NULL, *bservices = services;
	const struct ynode *bkey = NULL, *bsvc = NULL;
	char *name = NULL, *file = NULL;
	int rc = 0;

	if (ext->kind == Y_MAP) {
		for (size_t i = 0; i + 1 < ext->n; i += 2) {
			const char *k = ext->items[i]->str;

			if (strcmp(k, "service") && strcmp(k, "file") &&
			    strncmp(k, "x-", 2))
				return mf_err(
				        c, ext->items[i],
				        "unknown key '%.80s' in 'extends' "
				        "(service or file)",
				        k);
		}
		sv = map_get(ext, "service");
		fv = map_get(ext, "file");
		if (!sv || ynode_is_null(sv))
			return mf_err(c, ext, "'extends' has no 'service'");
	} else if (ext->kind != Y_SCALAR) {
		return mf_err(c, ext,
		              "'extends' must be a service name or "
		              "{service, file}");
	}
	rc = mf_get_string(c, sv, "service", &name);
	if (!rc && fv && !ynode_is_null(fv))
		rc = mf_get_string(c, fv, "file", &file);
	if (rc)
		goto out;
	if (file) {
		char *abs = mf_resolve_path(c, fv, file), *dir = dir_of(abs);
		const struct ynode *root = NULL;

		rc = load_file(c, fv, "extends", file, abs, dir,
		               c->files[fv->file].vars, &root);
		free(abs);
		free(dir);
		if (rc)
			goto out;
		bservices = map_get(root, "services");
	}
	for (size_t i = 0;
	     bservices && bservices->kind == Y_MAP && i + 1 < bservices->n;
	     i += 2)
		if (!strcmp(bservices->items[i]->str, name)) {
			bkey = bservices->items[i];
			bsvc = bservices->items[i + 1];
		}
	if (!bsvc) {
		rc = mf_err(c, sv, "extends: service '%.80s' not found%s%s",
		            name, file ? " in " : "", file ? file : "");
		goto out;
	}
	if (bsvc->kind != Y_MAP) {
		rc = mf_err(c, bsvc, "service '%s' must be a mapping", name);
		goto out;
	}
	rc = resolve_service(c, bservices, bkey, bsvc, stack, depth + 1, base);
out:
	free(name);
	free(file);
	return rc;
}

static int resolve_service(struct mf_conv *c, const struct ynode *services,
                           const struct ynode *key, const struct ynode *svc,
                           struct ext_frame *stack, size_t depth,
                           const struct ynode **out)
{
	const struct ynode *ext = map_get(svc, "extends"), *base = NULL;
	int rc;

	*out = svc;
	if (!ext || ext->tag == YTAG_RESET || ynode_is_null(ext))
		return ext ? (*out = without_key(c, svc, "extends"), 0) : 0;
	for (size_t i = 0; i < depth; i++) {
		struct buf chain = BUF_INIT;

		if (stack[i].file != key->file ||
		    strcmp(stack[i].service, key->str))
			continue;
		for (size_t k = i; k < depth; k++)
			buf_addf(&chain, "%s -> ", stack[k].service);
		buf_addstr(&chain, key->str);
		rc = mf_err(c, ext, "extends cycle: %s", chain.data);
		buf_release(&chain);
		return rc;
	}
	if (depth >= MAX_DEPTH)
		return mf_err(c, ext, "extends nested deeper than %d",
		              MAX_DEPTH);
	stack[depth].file = key->file;
	stack[depth].service = key->str;
	rc = extended_base(c, services, ext, stack, depth, &base);
	if (rc)
		return rc;
	*out = merge(c, without_key(c, base, "extends"),
	             without_key(c, svc, "extends"), MC_SERVICE);
	return 0;
}

static int resolve_extends(struct mf_conv *c, const struct ynode **root)
{
	const struct ynode *services = map_get(*root, "services");
	struct ext_frame stack[MAX_DEPTH + 1];
	struct ynode *ns, *r;
	int changed = 0;

	if (!services || services->kind != Y_MAP)
		return 0;
	for (size_t i = 0; i + 1 < services->n && !changed; i += 2)
		changed = map_get(services->items[i + 1], "extends") != NULL;
	if (!changed)
		return 0;
	ns = mk(c, Y_MAP, services, NULL);
	for (size_t i = 0; i + 1 < services->n; i += 2) {
		const struct ynode *k = services->items[i];
		const struct ynode *v = services->items[i + 1], *out = v;
		int rc = 0;

		if (v->kind == Y_MAP && strncmp(k->str, "x-", 2) &&
		    map_get(v, "extends")) {
			/* its messages name the service */
			char *unit = xasprintf("service '%s'", k->str);

			c->unit = unit;
			rc = resolve_service(c, services, k, v, stack, 0, &out);
			c->unit = NULL;
			free(unit);
		}
		if (!rc)
			rc = too_big(c, k);
		if (rc)
			return rc;
		put(c, ns, (struct ynode *)k);
		put(c, ns, (struct ynode *)out);
	}
	r = mk(c, Y_MAP, *root, NULL);
	for (size_t i = 0; i + 1 < (*root)->n; i += 2) {
		put(c, r, (*root)->items[i]);
		put(c, r,
		    strcmp((*root)->items[i]->str, "services")
		            ? (*root)->items[i + 1]
		            : ns);
	}
	*root = r;
	return 0;
}

/* ---- a project ------------------------------------------------------------ */

/*
 * Files already registered (their roots read) or to read: each one's
 * includes applied, then merged in order, then extends resolved.
 */
static int merge_roots(struct mf_conv *c, const struct ynode **roots, size_t n,
                       struct strvec *stack, const struct ynode **out)
{
	const struct ynode *merged = NULL;
	int rc;

	for (size_t i = 0; i < n; i++) {
		const struct ynode *r = roots[i];

		rc = apply_includes(c, &r, stack);
		if (rc)
			return rc;
		merged = merged ? merge(c, merged, r, MC_ROOT) : r;
		rc = too_big(c, r);
		if (rc)
			return rc;
	}
	rc = resolve_extends(c, &merged);
	*out = merged;
	return rc;
}

static int load_project(struct mf_conv *c, const char *const *abs,
                        const char *const *written, const struct ynode **at,
                        size_t n, const char *dir, size_t vars,
                        struct strvec *stack, const struct ynode **root)
{
	const struct ynode **roots = xcalloc(n + 1, sizeof(*roots));
	size_t depth = stack->n;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		rc = load_file(c, at[i], "include", written[i], abs[i], dir,
		               vars, &roots[i]);
		strvec_push(stack, abs[i]);
	}
	if (!rc)
		rc = merge_roots(c, roots, n, stack, root);
	while (stack->n > depth) {
		free(stack->v[--stack->n]);
		stack->v[stack->n] = NULL;
	}
	free(roots);
	return rc;
}

int mf_project_load(struct mf_conv *c, const size_t *file_ix, size_t n,
                    const struct ynode **root)
{
	const struct ynode **roots = xcalloc(n + 1, sizeof(*roots));
	struct strvec stack = STRVEC_INIT;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		const struct mf_file *f = &c->files[file_ix[i]];

		roots[i] = f->tree.root;
		if (!roots[i] || ynode_is_null(roots[i]))
			rc = orch_error_at(
			        f->name, roots[i] ? roots[i]->line : 1,
			        roots[i] ? roots[i]->col : 1, "empty manifest");
		else if (roots[i]->kind != Y_MAP)
			rc = mf_err(c, roots[i],
			            "the manifest must be a mapping");
		if (f->path)
			strvec_push(&stack, f->path);
	}
	if (!rc)
		rc = merge_roots(c, roots, n, &stack, root);
	/* extends share nodes: a large service extended by many grows */
	if (!rc && (*root)->weight > MAX_EXPANDED)
		rc = orch_error_at(mf_origin(c, *root), 1, 1,
		                   "more than %d nodes once extends and "
		                   "includes are resolved",
		                   MAX_EXPANDED);
	strvec_clear(&stack);
	free(roots);
	return rc;
}
