/*
 * gitinfo.c: a repository's state through libgit2 (gitinfo.h). The only
 * file that includes git2.h; libgit2's types stay here. Reads only: no
 * index refresh is written back, no fetch, no hook.
 *
 * libgit2 is loaded when a report first asks for the git state, not when
 * orchestrate starts: it and the libraries it pulls in (mbedtls,
 * http_parser, pcre2) cost every `up` and `down` ~0.6 MB of resident
 * memory for a call only `test` makes. The functions are reached through
 * pointers typed from git2.h itself, so the compiler checks every call
 * as it would a direct one.
 */
#include "gitinfo.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "error.h"

#define LIBGIT2_FUNCS(X)                                                       \
	X(git_branch_upstream_remote)                                          \
	X(git_buf_dispose)                                                     \
	X(git_config_free)                                                     \
	X(git_config_get_string_buf)                                           \
	X(git_config_iterator_free)                                            \
	X(git_config_iterator_new)                                             \
	X(git_config_next)                                                     \
	X(git_error_last)                                                      \
	X(git_libgit2_init)                                                    \
	X(git_libgit2_shutdown)                                                \
	X(git_oid_tostr)                                                       \
	X(git_reference_free)                                                  \
	X(git_reference_is_branch)                                             \
	X(git_reference_lookup)                                                \
	X(git_reference_shorthand)                                             \
	X(git_reference_symbolic_target)                                       \
	X(git_reference_target)                                                \
	X(git_repository_config_snapshot)                                      \
	X(git_repository_free)                                                 \
	X(git_repository_head)                                                 \
	X(git_repository_is_bare)                                              \
	X(git_repository_open_ext)                                             \
	X(git_repository_workdir)                                              \
	X(git_status_byindex)                                                  \
	X(git_status_list_entrycount)                                          \
	X(git_status_list_free)                                                \
	X(git_status_list_new)

static struct {
	void *handle;
#define X(f) __typeof__(f) *f;
	LIBGIT2_FUNCS(X)
#undef X
} lg;

/* The library of the headers we were built with, once per process. */
static int libgit2_load(void)
{
	static const char so[] = "libgit2.so." LIBGIT2_SOVERSION;
	void *h;

	if (lg.handle)
		return 0;
	h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return orch_error_set("git: cannot load %s: %s", so, dlerror());
#define X(f)                                                                   \
	if (!(*(void **)&lg.f = dlsym(h, #f))) {                               \
		dlclose(h);                                                    \
		return orch_error_set("git: %s has no %s", so, #f);            \
	}
	LIBGIT2_FUNCS(X)
#undef X
	lg.handle = h;
	return 0;
}

/* From here on every git_*() call goes through lg. */
#define git_branch_upstream_remote     lg.git_branch_upstream_remote
#define git_buf_dispose                lg.git_buf_dispose
#define git_config_free                lg.git_config_free
#define git_config_get_string_buf      lg.git_config_get_string_buf
#define git_config_iterator_free       lg.git_config_iterator_free
#define git_config_iterator_new        lg.git_config_iterator_new
#define git_config_next                lg.git_config_next
#define git_error_last                 lg.git_error_last
#define git_libgit2_init               lg.git_libgit2_init
#define git_libgit2_shutdown           lg.git_libgit2_shutdown
#define git_oid_tostr                  lg.git_oid_tostr
#define git_reference_free             lg.git_reference_free
#define git_reference_is_branch        lg.git_reference_is_branch
#define git_reference_lookup           lg.git_reference_lookup
#define git_reference_shorthand        lg.git_reference_shorthand
#define git_reference_symbolic_target  lg.git_reference_symbolic_target
#define git_reference_target           lg.git_reference_target
#define git_repository_config_snapshot lg.git_repository_config_snapshot
#define git_repository_free            lg.git_repository_free
#define git_repository_head            lg.git_repository_head
#define git_repository_is_bare         lg.git_repository_is_bare
#define git_repository_open_ext        lg.git_repository_open_ext
#define git_repository_workdir         lg.git_repository_workdir
#define git_status_byindex             lg.git_status_byindex
#define git_status_list_entrycount     lg.git_status_list_entrycount
#define git_status_list_free           lg.git_status_list_free
#define git_status_list_new            lg.git_status_list_new

char *git_url_without_credentials(const char *url)
{
	const char *scheme = strstr(url, "://"), *host, *end, *at = NULL;
	struct buf b = BUF_INIT;

	if (!scheme)
		return xstrdup(url);
	host = scheme + 3;
	end = host + strcspn(host, "/?#");
	for (const char *p = host; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return xstrdup(url);
	buf_add(&b, url, (size_t)(host - url));
	buf_addstr(&b, at + 1);
	return buf_detach(&b, NULL);
}

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();

	return orch_error_set("git: %s: %s", what,
	                      e && e->message ? e->message : "failed");
}

static void read_head(git_repository *repo, struct git_state *st)
{
	git_reference *head = NULL;
	int rc = git_repository_head(&head, repo);

	if (rc == 0) {
		const git_oid *oid = git_reference_target(head);
		char hex[GIT_OID_HEXSZ + 1];

		if (oid) {
			git_oid_tostr(hex, sizeof(hex), oid);
			st->commit = xstrdup(hex);
		}
		if (git_reference_is_branch(head))
			st->branch = xstrdup(git_reference_shorthand(head));
	} else if (rc == GIT_EUNBORNBRANCH &&
	           git_reference_lookup(&head, repo, "HEAD") == 0 &&
	           git_reference_symbolic_target(head)) {
		/* no commit yet: the branch HEAD names */
		const char *t = git_reference_symbolic_target(head);

		if (!strncmp(t, "refs/heads/", 11))
			t += 11;
		st->branch = xstrdup(t);
	}
	git_reference_free(head);
}

/*
 * The remote: the branch's upstream remote, else "origin", else the
 * first named in the configuration; its URL as configured. Read from the
 * configuration entry by entry: git_remote_list() and git_remote_lookup()
 * match entries against regular expressions, and Debian's libgit2 1.5
 * leaks pcre2 match data for every entry that does not match.
 */
static void read_remote(git_repository *repo, struct git_state *st)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	git_buf up = { 0 }, url = { 0 };
	char *ref = st->branch ? xasprintf("refs/heads/%s", st->branch) : NULL;
	char *key;

	if (ref && git_branch_upstream_remote(&up, repo, ref) == 0 && up.ptr)
		st->remote = xstrdup(up.ptr);
	git_buf_dispose(&up);
	free(ref);
	if (git_repository_config_snapshot(&cfg, repo))
		return;
	if (!st->remote && git_config_iterator_new(&it, cfg) == 0) {
		while (git_config_next(&e, it) == 0) {
			size_t n = strlen(e->name);

			if (n <= 11 || strncmp(e->name, "remote.", 7) ||
			    strcmp(e->name + n - 4, ".url"))
				continue;
			if (n == 17 && !strncmp(e->name + 7, "origin", 6)) {
				free(st->remote);
				st->remote = xstrdup("origin");
				break;
			}
			if (!st->remote)
				st->remote = xstrndup(e->name + 7, n - 11);
		}
		git_config_iterator_free(it);
	}
	key = st->remote ? xasprintf("remote.%s.url", st->remote) : NULL;
	if (key && git_config_get_string_buf(&url, cfg, key) == 0 && url.ptr)
		st->remote_url = git_url_without_credentials(url.ptr);
	git_buf_dispose(&url);
	free(key);
	git_config_free(cfg);
}

static char index_code(unsigned s)
{
	if (s & GIT_STATUS_INDEX_NEW)
		return 'A';
	if (s & GIT_STATUS_INDEX_MODIFIED)
		return 'M';
	if (s & GIT_STATUS_INDEX_DELETED)
		return 'D';
	if (s & GIT_STATUS_INDEX_RENAMED)
		return 'R';
	if (s & GIT_STATUS_INDEX_TYPECHANGE)
		return 'T';
	return ' ';
}

static char tree_code(unsigned s)
{
	if (s & GIT_STATUS_WT_MODIFIED)
		return 'M';
	if (s & GIT_STATUS_WT_DELETED)
		return 'D';
	if (s & GIT_STATUS_WT_RENAMED)
		return 'R';
	if (s & GIT_STATUS_WT_TYPECHANGE)
		return 'T';
	return ' ';
}

/*
 * The excluded directories as prefixes relative to the work tree, "d/";
 * those outside it are dropped. Symbolic links resolved where the path
 * exists, as the work tree's path is.
 */
static void relative_prefixes(const char *workdir, const char *const *exclude,
                              struct strvec *out)
{
	char *wd = realpath(workdir, NULL);
	size_t wl;

	if (!wd)
		return;
	wl = strlen(wd);
	for (size_t i = 0; exclude && exclude[i]; i++) {
		char *abs = realpath(exclude[i], NULL);
		const char *p = abs ? abs : exclude[i];

		if (!strncmp(p, wd, wl) && p[wl] == '/' && p[wl + 1])
			strvec_pushf(out, "%s/", p + wl + 1);
		free(abs);
	}
	free(wd);
}

static int excluded(const struct strvec *prefixes, const char *path)
{
	for (size_t i = 0; i < prefixes->n; i++)
		if (!strncmp(path, prefixes->v[i], strlen(prefixes->v[i])))
			return 1;
	return 0;
}

static int read_status(git_repository *repo, const char *const *exclude,
                       struct git_state *st)
{
	git_status_options o = GIT_STATUS_OPTIONS_INIT;
	git_status_list *list = NULL;
	struct strvec prefixes = STRVEC_INIT;
	size_t n;

	o.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	o.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
	          GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, repo, &o))
		return git_fail("status");
	relative_prefixes(git_repository_workdir(repo), exclude, &prefixes);
	n = git_status_list_entrycount(list);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		const git_diff_delta *d = e->head_to_index
		                                  ? e->head_to_index
		                                  : e->index_to_workdir;
		const char *path = d ? (d->new_file.path ? d->new_file.path
		                                         : d->old_file.path)
		                     : NULL;

		if (e->status == GIT_STATUS_CURRENT ||
		    (e->status & GIT_STATUS_IGNORED) || !path)
			continue;
		if (excluded(&prefixes, path))
			continue;
		st->dirty = 1;
		st->dirty_count++;
		if (st->dirty_files.n >= GIT_STATE_MAX_FILES)
			continue;
		if (e->status & GIT_STATUS_CONFLICTED)
			strvec_pushf(&st->dirty_files, "UU %s", path);
		else if (e->status == GIT_STATUS_WT_NEW)
			strvec_pushf(&st->dirty_files, "?? %s", path);
		else
			strvec_pushf(&st->dirty_files, "%c%c %s",
			             index_code(e->status),
			             tree_code(e->status), path);
	}
	git_status_list_free(list);
	strvec_clear(&prefixes);
	return 0;
}

int git_state_read(const char *dir, const char *const *exclude,
                   struct git_state *st)
{
	git_repository *repo = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = libgit2_load();
	if (rc)
		return rc;
	if (git_libgit2_init() < 0) {
		const git_error *err = git_error_last();

		return orch_error_set("git: cannot initialise libgit2: %s",
		                      err && err->message ? err->message
		                                          : "unknown error");
	}
	/* the search stops where git's would */
	rc = git_repository_open_ext(&repo, dir, 0,
	                             getenv("GIT_CEILING_DIRECTORIES"));
	if (rc == GIT_ENOTFOUND) {
		rc = orch_error_code(ORCH_ENOTFOUND,
		                     "'%s' is in no git repository", dir);
		goto out;
	}
	if (rc == GIT_EOWNER) {
		rc = orch_error_code(ORCH_EPERM,
		                     "git: the repository of '%s' is owned by "
		                     "another user (safe.directory)",
		                     dir);
		goto out;
	}
	if (rc) {
		rc = git_fail("opening the repository");
		goto out;
	}
	read_head(repo, st);
	read_remote(repo, st);
	rc = git_repository_is_bare(repo) ? 0 : read_status(repo, exclude, st);
out:
	git_repository_free(repo);
	git_libgit2_shutdown();
	if (rc)
		git_state_release(st);
	return rc;
}

void git_state_release(struct git_state *st)
{
	free(st->commit);
	free(st->branch);
	free(st->remote);
	free(st->remote_url);
	strvec_clear(&st->dirty_files);
	memset(st, 0, sizeof(*st));
}
