/*
 * test-gate.c: the argv a gated service runs -- what Docker would run for
 * every combination of manifest entrypoint/command and image
 * Entrypoint/Cmd -- and the run's gate directory (paths, modes, release,
 * removal of exactly the run's directories).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "gate.h"
#include "harness.h"
#include "util.h"

static void sv(struct strvec *v, const char *a, const char *b)
{
	strvec_init(v);
	if (a)
		strvec_push(v, a);
	if (b)
		strvec_push(v, b);
}

/* argv joined by '|' */
static char *compose(int has_ep, const char *ep0, const char *cmd0,
                     const char *iep0, const char *icmd0, const char *icmd1)
{
	struct strvec ep, cmd, iep, icmd, out = STRVEC_INIT;
	struct buf b = BUF_INIT;

	sv(&ep, ep0, NULL);
	sv(&cmd, cmd0, NULL);
	sv(&iep, iep0, NULL);
	sv(&icmd, icmd0, icmd1);
	gate_real_argv(&out, has_ep, &ep, &cmd, &iep, &icmd);
	buf_addstr(&b, "");
	for (size_t i = 0; i < out.n; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", out.v[i]);
	strvec_clear(&ep);
	strvec_clear(&cmd);
	strvec_clear(&iep);
	strvec_clear(&icmd);
	strvec_clear(&out);
	return buf_detach(&b, NULL);
}

#define CHECK(expect, ...)                                                     \
	do {                                                                   \
		char *got = compose(__VA_ARGS__);                              \
		int same = !strcmp(got, expect);                               \
		if (!same)                                                     \
			FAIL_AT("got '%s', expected '%s'", got, expect);       \
		free(got);                                                     \
		if (!same)                                                     \
			return;                                                \
	} while (0)

TEST(image_only)
{
	/* image Cmd alone, image Entrypoint + Cmd */
	CHECK("sh|-c", 0, NULL, NULL, NULL, "sh", "-c");
	CHECK("/init|redis-server", 0, NULL, NULL, "/init", "redis-server",
	      NULL);
	CHECK("/init", 0, NULL, NULL, "/init", NULL, NULL);
	CHECK("", 0, NULL, NULL, NULL, NULL, NULL);
}

TEST(command_replaces_image_cmd)
{
	CHECK("sleep", 0, NULL, "sleep", NULL, "sh", NULL);
	/* the image's entrypoint stays */
	CHECK("/init|sleep", 0, NULL, "sleep", "/init", "sh", NULL);
}

TEST(entrypoint_drops_image_cmd)
{
	CHECK("/bin/x", 1, "/bin/x", NULL, "/init", "sh", "-c");
	CHECK("/bin/x|arg", 1, "/bin/x", "arg", "/init", "sh", NULL);
	/* an empty entrypoint: no entrypoint, and still no image Cmd */
	CHECK("arg", 1, NULL, "arg", "/init", "sh", NULL);
	CHECK("", 1, NULL, NULL, "/init", "sh", NULL);
}

static int exists(const char *dir, const char *name, mode_t *mode)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	int rc = lstat(p, &st) == 0;

	if (rc && mode)
		*mode = st.st_mode;
	free(p);
	return rc;
}

static char *mkbase(void)
{
	char tmpl[] = "/tmp/orchestrate-test-gate-XXXXXX";
	char *t = mkdtemp(tmpl);
	char *base;

	if (!t)
		return NULL;
	base = xasprintf("%s/base", t);
	setenv("ORCHESTRATE_GATE_DIR", base, 1);
	return base;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

/* Remove the whole temporary directory made by mkbase(). */
static void rmbase(char *base)
{
	*strrchr(base, '/') = '\0';
	if (nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS))
		fprintf(stderr, "# could not remove %s\n", base);
	free(base);
	unsetenv("ORCHESTRATE_GATE_DIR");
}

TEST(paths)
{
	char *d, *go;

	setenv("ORCHESTRATE_GATE_DIR", "/x/y", 1);
	d = gate_dir("proj", "0123456789ab");
	ASSERT_EQ_STR(d, "/x/y/proj-0123456789ab");
	free(d);
	unsetenv("ORCHESTRATE_GATE_DIR");
	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	d = gate_base();
	ASSERT_EQ_STR(d, "/run/user/7/orchestrate");
	free(d);
	/* a relative XDG_RUNTIME_DIR is not used */
	setenv("XDG_RUNTIME_DIR", "rel", 1);
	d = gate_base();
	ASSERT(!strncmp(d, "/tmp/orchestrate-", 17));
	free(d);
	unsetenv("XDG_RUNTIME_DIR");
	go = gate_go_path("web");
	ASSERT_EQ_STR(go, "/.orchestrate/go.web");
	free(go);
}

TEST(create_release_remove)
{
	char *base = mkbase(), *d, *other, *prefix;
	mode_t m = 0;
	struct buf b = BUF_INIT;

	ASSERT(base);
	d = gate_dir("p", "0123456789ab");
	ASSERT_EQ_INT(gate_dir_create(d, "ELF", 3), 0);
	/* the base is private, the run dir and the gate are not: the
	 * container's user runs the gate */
	ASSERT(exists(base, ".", &m));
	ASSERT_EQ_INT(m & 07777, 0700);
	ASSERT(exists(d, ".", &m));
	ASSERT_EQ_INT(m & 07777, 0755);
	ASSERT(exists(d, "gate", &m));
	ASSERT(S_ISREG(m));
	ASSERT_EQ_INT(m & 07777, 0755);
	{
		char *g = xasprintf("%s/gate", d);

		ASSERT_EQ_INT(read_file(g, &b, 100), 0);
		free(g);
	}
	ASSERT_EQ_INT(b.len, 3);
	ASSERT(!memcmp(b.data, "ELF", 3));
	buf_release(&b);
	/* a second create of the same run fails: never two runs in one */
	ASSERT(gate_dir_create(d, "ELF", 3) != 0);

	ASSERT(!exists(d, "go.web", NULL));
	ASSERT_EQ_INT(gate_release(d, "web"), 0);
	ASSERT(exists(d, "go.web", &m));
	ASSERT(S_ISREG(m));
	/* releasing twice is fine */
	ASSERT_EQ_INT(gate_release(d, "web"), 0);
	/* a new container of the service starts held again */
	ASSERT_EQ_INT(gate_unrelease(d, "web"), 0);
	ASSERT(!exists(d, "go.web", NULL));
	ASSERT_EQ_INT(gate_unrelease(d, "web"), 0);

	/* removal touches only "<project>-<run id>" */
	other = gate_dir("p-q", "0123456789ab");
	ASSERT_EQ_INT(gate_dir_create(other, "ELF", 3), 0);
	prefix = xasprintf("%s/p-0123456789abc", base);
	ASSERT_EQ_INT(mkdir(prefix, 0700), 0);
	ASSERT_EQ_INT(gate_dirs_remove("p", "ffffffffffff"), 0);
	ASSERT(exists(d, ".", NULL));
	ASSERT_EQ_INT(gate_dirs_remove("p", NULL), 1);
	ASSERT(!exists(d, ".", NULL));
	ASSERT(exists(other, ".", NULL));
	ASSERT(exists(prefix, ".", NULL));
	ASSERT_EQ_INT(gate_dirs_remove("p-q", "0123456789ab"), 1);
	ASSERT(!exists(other, ".", NULL));
	free(d);
	free(other);
	free(prefix);
	rmbase(base);
}

TEST(base_refused)
{
	char *base = mkbase(), *target, *d;

	ASSERT(base);
	/* a symlink as the base is not followed */
	target = xasprintf("%s.real", base);
	ASSERT_EQ_INT(mkdir(target, 0700), 0);
	ASSERT_EQ_INT(symlink(target, base), 0);
	d = gate_dir("p", "0123456789ab");
	ASSERT_EQ_INT(gate_dir_create(d, "ELF", 3), ORCH_EUNSUPPORTED);
	ASSERT(!exists(target, "p-0123456789ab", NULL));
	free(d);
	/* a base others may write to: they could swap the gate */
	ASSERT_EQ_INT(unlink(base), 0);
	ASSERT_EQ_INT(mkdir(base, 0700), 0);
	ASSERT_EQ_INT(chmod(base, 0770), 0);
	d = gate_dir("p", "0123456789ab");
	ASSERT_EQ_INT(gate_dir_create(d, "ELF", 3), ORCH_EUNSUPPORTED);
	ASSERT_CONTAINS(orch_error_last(), "writable by group or others");
	ASSERT_EQ_INT(chmod(base, 0700), 0);
	ASSERT_EQ_INT(gate_dir_create(d, "ELF", 3), 0);
	ASSERT_EQ_INT(gate_dirs_remove("p", NULL), 1);
	free(d);
	/* the engine takes absolute bind sources only */
	setenv("ORCHESTRATE_GATE_DIR", "relative/base", 1);
	d = gate_dir("p", "0123456789ab");
	ASSERT_EQ_INT(gate_dir_create(d, "ELF", 3), ORCH_EUNSUPPORTED);
	ASSERT_CONTAINS(orch_error_last(), "not an absolute path");
	ASSERT_EQ_INT(gate_dirs_remove("p", NULL), 0);
	free(d);
	free(target);
	setenv("ORCHESTRATE_GATE_DIR", base, 1);
	rmbase(base);
}

int main(void)
{
	RUN(image_only);
	RUN(command_replaces_image_cmd);
	RUN(entrypoint_drops_image_cmd);
	RUN(paths);
	RUN(create_release_remove);
	RUN(base_refused);
	return harness_done();
}
