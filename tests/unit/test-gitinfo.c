/*
 * test-gitinfo.c: the git state a report records, read from temporary
 * repositories this test makes with libgit2 itself (no git program
 * needed): a clean one on a branch with a remote whose URL carries
 * credentials, the same made dirty (a change, a staged file, an
 * untracked one, and orchestrate's own .orchestrate/ left out), a
 * detached HEAD, a repository without a commit, a directory in no
 * repository; and URLs without their credentials.
 *
 * The test, not the module, includes git2.h: it makes what the module
 * reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "error.h"
#include "gitinfo.h"
#include "harness.h"
#include "util.h"

static char tmp[] = "/tmp/orch-gitinfo-XXXXXX";

static void put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(path);
}

/* A repository in dir with one commit of a.txt on branch main. */
static int make_repo(const char *dir, const char *remote_url)
{
	git_repository *repo = NULL;
	git_index *idx = NULL;
	git_oid tree_id, commit_id;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_config *cfg = NULL;
	git_repository_init_options o = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	int rc;

	o.flags = GIT_REPOSITORY_INIT_MKPATH;
	o.initial_head = "main";
	rc = git_repository_init_ext(&repo, dir, &o);
	put(dir, "a.txt", "one\n");
	if (!rc)
		rc = git_repository_index(&idx, repo);
	if (!rc)
		rc = git_index_add_bypath(idx, "a.txt");
	if (!rc)
		rc = git_index_write(idx);
	if (!rc)
		rc = git_index_write_tree(&tree_id, idx);
	if (!rc)
		rc = git_tree_lookup(&tree, repo, &tree_id);
	if (!rc)
		rc = git_signature_now(&sig, "Test", "test@example.invalid");
	if (!rc)
		rc = git_commit_create_v(&commit_id, repo, "HEAD", sig, sig,
		                         NULL, "first", tree, 0);
	/* what `git remote add` writes (git_remote_create() would leak
	   pcre2 match data in Debian's libgit2 1.5, failing LeakSanitizer) */
	if (!rc && remote_url)
		rc = git_repository_config(&cfg, repo);
	if (!rc && remote_url)
		rc = git_config_set_string(cfg, "remote.origin.url",
		                           remote_url);
	git_config_free(cfg);
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(idx);
	git_repository_free(repo);
	return rc;
}

static int detach(const char *dir)
{
	git_repository *repo = NULL;
	int rc = git_repository_open(&repo, dir);

	if (!rc)
		rc = git_repository_detach_head(repo);
	git_repository_free(repo);
	return rc;
}

TEST(clean_repository)
{
	char *dir = xasprintf("%s/clean", tmp), *sub;
	struct git_state st;

	ASSERT_EQ_INT(make_repo(dir, "https://user:s3cr3t-token@example.invalid"
	                             "/team/repo.git"),
	              0);
	sub = xasprintf("%s/deeper", dir);
	mkdir(sub, 0755);
	/* found from a directory below the work tree, as git finds it */
	ASSERT_EQ_INT(git_state_read(sub, NULL, &st), 0);
	ASSERT(st.commit && strlen(st.commit) == 40);
	ASSERT_EQ_STR(st.branch, "main");
	ASSERT_EQ_STR(st.remote, "origin");
	ASSERT_EQ_STR(st.remote_url, "https://example.invalid/team/repo.git");
	ASSERT_EQ_INT(st.dirty, 0);
	ASSERT_EQ_INT(st.dirty_count, 0);
	ASSERT_EQ_INT(st.dirty_files.n, 0);
	git_state_release(&st);
	free(sub);
	free(dir);
}

TEST(dirty_repository)
{
	char *dir = xasprintf("%s/dirty", tmp), *ours;
	struct git_state st;

	ASSERT_EQ_INT(make_repo(dir, NULL), 0);
	put(dir, "a.txt", "two\n");
	put(dir, "new.txt", "untracked\n");
	ours = xasprintf("%s/.orchestrate", dir);
	mkdir(ours, 0755);
	put(ours, "report.json", "{}");
	{
		/* one that exists, one that does not yet */
		char *later = xasprintf("%s/report", dir);
		const char *ex[] = { ours, later, "/elsewhere", NULL };

		put(dir, "report", "a file named like the report dir\n");
		ASSERT_EQ_INT(git_state_read(dir, ex, &st), 0);
		free(later);
	}
	ASSERT_EQ_INT(st.dirty, 1);
	ASSERT_EQ_INT(st.dirty_count, 3);
	ASSERT_EQ_INT(st.dirty_files.n, 3);
	ASSERT_EQ_STR(st.dirty_files.v[0], " M a.txt");
	ASSERT_EQ_STR(st.dirty_files.v[1], "?? new.txt");
	/* a file is not under the directory of the same name */
	ASSERT_EQ_STR(st.dirty_files.v[2], "?? report");
	ASSERT(st.remote == NULL && st.remote_url == NULL);
	git_state_release(&st);
	/* without the exclusion, our own directory counts */
	ASSERT_EQ_INT(git_state_read(dir, NULL, &st), 0);
	ASSERT_EQ_INT(st.dirty_count, 4);
	git_state_release(&st);
	free(ours);
	free(dir);
}

TEST(detached_head)
{
	char *dir = xasprintf("%s/detached", tmp);
	struct git_state st;

	ASSERT_EQ_INT(make_repo(dir, NULL), 0);
	ASSERT_EQ_INT(detach(dir), 0);
	ASSERT_EQ_INT(git_state_read(dir, NULL, &st), 0);
	ASSERT(st.commit != NULL);
	ASSERT(st.branch == NULL);
	git_state_release(&st);
	free(dir);
}

TEST(no_commit_yet)
{
	char *dir = xasprintf("%s/unborn", tmp);
	git_repository *repo = NULL;
	git_repository_init_options o = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	struct git_state st;

	o.flags = GIT_REPOSITORY_INIT_MKPATH;
	o.initial_head = "trunk";
	ASSERT_EQ_INT(git_repository_init_ext(&repo, dir, &o), 0);
	git_repository_free(repo);
	ASSERT_EQ_INT(git_state_read(dir, NULL, &st), 0);
	ASSERT(st.commit == NULL);
	ASSERT_EQ_STR(st.branch, "trunk");
	git_state_release(&st);
	free(dir);
}

TEST(outside_any_repository)
{
	char *dir = xasprintf("%s/plain", tmp);
	struct git_state st;

	mkdir(dir, 0755);
	/* GIT_CEILING_DIRECTORIES (main) stops the search at tmp, as for
	   git */
	ASSERT_EQ_INT(git_state_read(dir, NULL, &st), ORCH_ENOTFOUND);
	ASSERT(st.commit == NULL && st.branch == NULL);
	free(dir);
}

static char *stripped(const char *url)
{
	return git_url_without_credentials(url);
}

#define ASSERT_URL(in, want)                                                   \
	do {                                                                   \
		char *got_ = stripped(in);                                     \
		int same_ = !strcmp(got_, want);                               \
		if (!same_)                                                    \
			FAIL_AT("'%s' -> '%s', expected '%s'", in, got_,       \
			        want);                                         \
		free(got_);                                                    \
		if (!same_)                                                    \
			return;                                                \
	} while (0)

TEST(urls)
{
	ASSERT_URL("https://user:pass@host/x.git", "https://host/x.git");
	ASSERT_URL("https://ghp_token@github.example/o/r",
	           "https://github.example/o/r");
	ASSERT_URL("https://a:b@c@host:8443/x", "https://host:8443/x");
	ASSERT_URL("ssh://git@host/x", "ssh://host/x");
	ASSERT_URL("https://host/x@y", "https://host/x@y");
	ASSERT_URL("https://host", "https://host");
	ASSERT_URL("git@host:team/x.git", "git@host:team/x.git");
	ASSERT_URL("/srv/git/x.git", "/srv/git/x.git");
}

/* rm -rf of the test's directory, without system() */
static void remove_tree(const char *dir)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	/* a repository around /tmp must not be found from the test's dirs */
	setenv("GIT_CEILING_DIRECTORIES", tmp, 1);
	git_libgit2_init();
	RUN(clean_repository);
	RUN(dirty_repository);
	RUN(detached_head);
	RUN(no_commit_yet);
	RUN(outside_any_repository);
	RUN(urls);
	git_libgit2_shutdown();
	remove_tree(tmp);
	return harness_done();
}
