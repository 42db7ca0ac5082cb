/*
 * gitinfo.h: the git state of the repository that holds a directory --
 * what a report records about the code it tested: the commit, the
 * branch, whether the work tree differs from it and where, and the
 * remote it came from. Read with libgit2 (the only module that includes
 * git2.h); nothing is written, nothing is fetched, no hook runs.
 *
 * The repository is found as git finds it, from the directory upwards.
 * A directory in no repository is not an error: ORCH_ENOTFOUND, and the
 * report simply has no git state.
 */
#ifndef ORCH_GITINFO_H
#define ORCH_GITINFO_H

#include <stddef.h>

#include "util.h"

/* changed files listed at most; dirty_count counts them all */
#define GIT_STATE_MAX_FILES 200

struct git_state {
	char *commit;     /* HEAD's full id, or NULL before the first commit */
	char *branch;     /* short name, or NULL for a detached HEAD */
	char *remote;     /* the branch's upstream remote, else "origin",
	                     else the first; NULL when there is none */
	char *remote_url; /* its URL without credentials, or NULL */
	int dirty;        /* the work tree or the index differs from HEAD */
	/* "XY path" as `git status --porcelain` shows them: X the index,
	   Y the work tree ("M", "A", "D", "R", "T", "??" untracked, "UU"
	   conflicted); paths relative to the work tree, in its order */
	struct strvec dirty_files;
	size_t dirty_count;
};

/*
 * Read the state of the repository holding dir. Files under the
 * directories of exclude (absolute paths, NULL-terminated; NULL: none)
 * are not counted: what orchestrate itself writes into the work tree
 * (.orchestrate/, a report directory) must not make it dirty. 0,
 * ORCH_ENOTFOUND when dir is in no repository, ORCH_EPERM for a
 * repository another user owns (git's safe.directory), ORCH_ERROR with
 * libgit2's message otherwise. st is the caller's: git_state_release().
 */
int git_state_read(const char *dir, const char *const *exclude,
                   struct git_state *st);
void git_state_release(struct git_state *st);

/*
 * A remote URL without its credentials: the user information of a URL
 * with a scheme ("https://user:token@host/x" -> "https://host/x") is
 * dropped whole, since a user name alone may be a token; the scp form
 * "git@host:path" names no secret and is kept. New string.
 */
char *git_url_without_credentials(const char *url);

#endif
