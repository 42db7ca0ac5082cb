/*
 * test-tar.c: the tar writer, read back by a small header parser here
 * (names, PAX long names, symlinks stored not followed, ownership), the
 * .dockerignore matcher and the build-context walk with its size cap.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "tar.h"
#include "util.h"

struct entry {
	char name[512];
	char link[512];
	char type;
	unsigned long mode, uid, gid;
	size_t size;
	const char *data;
};

static unsigned long octal(const char *f, size_t n)
{
	char tmp[16];

	memcpy(tmp, f, n);
	tmp[n] = '\0';
	return strtoul(tmp, NULL, 8);
}

/* Parse the archive into at most max entries; -1 on a bad checksum. */
static int parse(const struct buf *b, struct entry *ents, int max)
{
	size_t off = 0;
	int n = 0;
	char pax_path[512] = "", pax_link[512] = "";

	while (off + 512 <= b->len && n < max) {
		const char *h = b->data + off;
		unsigned sum = 0;
		struct entry *e = &ents[n];
		size_t size;
		int zero = 1;

		for (int i = 0; i < 512; i++)
			zero &= h[i] == 0;
		if (zero)
			return n;
		for (int i = 0; i < 512; i++)
			sum += (i >= 148 && i < 156) ? ' '
			                             : (unsigned char)h[i];
		if (sum != octal(h + 148, 7))
			return -1;
		if (memcmp(h + 257, "ustar", 6))
			return -1;
		size = octal(h + 124, 11);
		if (h[156] == 'x') {
			/* "LEN key=value\n" records */
			const char *p = h + 512, *end = p + size;

			while (p < end) {
				char *sp;
				size_t len = strtoul(p, &sp, 10);
				const char *kv = sp + 1;
				size_t vlen;

				if (!strncmp(kv, "path=", 5)) {
					vlen = len - (size_t)(kv + 5 - p) - 1;
					memcpy(pax_path, kv + 5, vlen);
					pax_path[vlen] = '\0';
				} else if (!strncmp(kv, "linkpath=", 9)) {
					vlen = len - (size_t)(kv + 9 - p) - 1;
					memcpy(pax_link, kv + 9, vlen);
					pax_link[vlen] = '\0';
				}
				p += len;
			}
			off += 512 + (size + 511) / 512 * 512;
			continue;
		}
		memset(e, 0, sizeof(*e));
		if (*pax_path)
			snprintf(e->name, sizeof(e->name), "%s", pax_path);
		else
			memcpy(e->name, h, 100);
		if (*pax_link)
			snprintf(e->link, sizeof(e->link), "%s", pax_link);
		else
			memcpy(e->link, h + 157, 100);
		pax_path[0] = pax_link[0] = '\0';
		e->type = h[156];
		e->mode = octal(h + 100, 7);
		e->uid = octal(h + 108, 7);
		e->gid = octal(h + 116, 7);
		e->size = size;
		e->data = h + 512;
		off += 512 + (size + 511) / 512 * 512;
		n++;
	}
	return n;
}

static const struct entry *find(const struct entry *e, int n, const char *nm)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(e[i].name, nm))
			return &e[i];
	return NULL;
}

TEST(write_and_read_back)
{
	struct buf b = BUF_INIT;
	struct entry e[8];
	char longname[300];
	int n;

	memset(longname, 'a', sizeof(longname));
	memcpy(longname + 100, "/", 1);
	longname[sizeof(longname) - 1] = '\0';
	ASSERT_EQ_INT(tar_add_dir(&b, "dir", 0755, 1), 0);
	ASSERT_EQ_INT(tar_add_file(&b, "dir/f.txt", 0640, 2, "hello", 5), 0);
	ASSERT_EQ_INT(tar_add_symlink(&b, "dir/l", "../etc/passwd", 3), 0);
	ASSERT_EQ_INT(tar_add_file(&b, longname, 0600, 4, "x", 1), 0);
	ASSERT_EQ_INT(tar_add_symlink(&b, "s", longname, 5), 0);
	ASSERT_EQ_INT(tar_finish(&b), 0);
	ASSERT_EQ_INT(b.len % 512, 0);
	n = parse(&b, e, 8);
	ASSERT_EQ_INT(n, 5);
	ASSERT_EQ_STR(e[0].name, "dir/");
	ASSERT_EQ_INT(e[0].type, '5');
	ASSERT_EQ_STR(e[1].name, "dir/f.txt");
	ASSERT_EQ_INT(e[1].type, '0');
	ASSERT_EQ_INT(e[1].mode, 0640);
	ASSERT_EQ_INT(e[1].uid, 0);
	ASSERT_EQ_INT(e[1].gid, 0);
	ASSERT_EQ_INT(e[1].size, 5);
	ASSERT(!memcmp(e[1].data, "hello", 5));
	ASSERT_EQ_INT(e[2].type, '2');
	ASSERT_EQ_STR(e[2].link, "../etc/passwd");
	ASSERT_EQ_STR(e[3].name, longname);
	ASSERT_EQ_STR(e[4].link, longname);
	buf_release(&b);
}

TEST(cap)
{
	struct buf b = BUF_INIT;
	char data[2000] = { 0 };

	buf_init(&b, 2048);
	ASSERT_EQ_INT(tar_add_file(&b, "a", 0644, 0, data, 1000), 0);
	ASSERT_EQ_INT(tar_add_file(&b, "b", 0644, 0, data, 1000), ORCH_ETOOBIG);
	buf_release(&b);
}

TEST(ignore_patterns)
{
	struct tar_ignore ig;

	tar_ignore_init(&ig);
	tar_ignore_parse(&ig, "# comment\n"
	                      "\n"
	                      "*.log\r\n"
	                      "/build\n"
	                      "./tmp/\n"
	                      "**/*.o\n"
	                      "docs/**/secret?\n"
	                      "node_modules\n"
	                      "!node_modules/keep.js\n"
	                      "  !important.log  \n");
	ASSERT(tar_ignore_match(&ig, "x.log"));
	ASSERT(!tar_ignore_match(&ig, "sub/x.log")); /* '*' is one element */
	ASSERT(!tar_ignore_match(&ig, "important.log"));
	ASSERT(tar_ignore_match(&ig, "build"));
	ASSERT(tar_ignore_match(&ig, "build/deep/file")); /* parent matched */
	ASSERT(!tar_ignore_match(&ig, "src/build"));
	ASSERT(tar_ignore_match(&ig, "tmp/x"));
	ASSERT(tar_ignore_match(&ig, "a.o"));
	ASSERT(tar_ignore_match(&ig, "a/b/c/d.o"));
	ASSERT(!tar_ignore_match(&ig, "a/b/c/d.c"));
	ASSERT(tar_ignore_match(&ig, "docs/secret1"));
	ASSERT(tar_ignore_match(&ig, "docs/x/y/secretZ"));
	ASSERT(!tar_ignore_match(&ig, "docs/x/y/secret12"));
	ASSERT(tar_ignore_match(&ig, "node_modules/dep.js"));
	ASSERT(!tar_ignore_match(&ig, "node_modules/keep.js"));
	ASSERT(!tar_ignore_match(&ig, "Dockerfile"));
	tar_ignore_release(&ig);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char *p = xasprintf("%s/%s", dir, rel);
	FILE *f = fopen(p, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(p);
}

static void mkd(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);

	mkdir(p, 0755);
	free(p);
}

TEST(context_walk)
{
	char tmpl[] = "/tmp/orch-tar-XXXXXX";
	char *dir = mkdtemp(tmpl), *p;
	struct buf b = BUF_INIT;
	struct entry e[32];
	int n;

	ASSERT(dir != NULL);
	put(dir, "Dockerfile", "FROM scratch\n");
	put(dir, ".dockerignore",
	    "*.log\nDockerfile\nsecret\n!keep.log\n"
	    "cache\n!cache/wanted\n");
	put(dir, "a.log", "x");
	put(dir, "keep.log", "keep");
	put(dir, "secret", "s");
	mkd(dir, "sub");
	put(dir, "sub/file", "content");
	mkd(dir, "cache");
	put(dir, "cache/junk", "j");
	put(dir, "cache/wanted", "w");
	p = xasprintf("%s/sub/link", dir);
	ASSERT_EQ_INT(symlink("/etc/passwd", p), 0);
	free(p);
	p = xasprintf("%s/sub/fifo", dir);
	ASSERT_EQ_INT(mkfifo(p, 0600), 0);
	free(p);

	ASSERT_EQ_INT(tar_context(dir, "Dockerfile", &b), 0);
	n = parse(&b, e, 32);
	ASSERT(n > 0);
	ASSERT(find(e, n, "Dockerfile")); /* always sent */
	ASSERT(find(e, n, ".dockerignore"));
	ASSERT(!find(e, n, "a.log"));
	ASSERT(find(e, n, "keep.log"));
	ASSERT(!find(e, n, "secret"));
	ASSERT(find(e, n, "sub/"));
	ASSERT(find(e, n, "sub/file"));
	ASSERT_EQ_INT(find(e, n, "sub/link")->type, '2');
	ASSERT_EQ_STR(find(e, n, "sub/link")->link, "/etc/passwd");
	ASSERT_EQ_INT(find(e, n, "sub/link")->size, 0);
	ASSERT(!find(e, n, "sub/fifo"));
	ASSERT(!find(e, n, "cache/"));
	ASSERT(!find(e, n, "cache/junk"));
	ASSERT(find(e, n, "cache/wanted"));
	for (int i = 0; i < n; i++) {
		ASSERT(e[i].name[0] != '/' && strncmp(e[i].name, "./", 2));
		ASSERT_EQ_INT(e[i].uid, 0);
	}
	buf_release(&b);

	buf_init(&b, 3000);
	ASSERT_EQ_INT(tar_context(dir, NULL, &b), ORCH_ETOOBIG);
	ASSERT_CONTAINS(orch_error_last(), "exceeds the limit of 3000 bytes");
	buf_release(&b);

	buf_init(&b, 0);
	ASSERT_EQ_INT(tar_context("/nonexistent-dir", NULL, &b),
	              ORCH_ENOTFOUND);
	buf_release(&b);

	/* the test's own temporary directory: remove it by hand */
	{
		const char *rel[] = { "sub/link",     "sub/fifo",
			              "sub/file",     "cache/junk",
			              "cache/wanted", "a.log",
			              "keep.log",     "secret",
			              "Dockerfile",   ".dockerignore" };
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char *f = xasprintf("%s/%s", dir, rel[i]);
			unlink(f);
			free(f);
		}
		char *d1 = xasprintf("%s/sub", dir),
		     *d2 = xasprintf("%s/cache", dir);
		rmdir(d1);
		rmdir(d2);
		rmdir(dir);
		free(d1);
		free(d2);
	}
}

/* Remove a test directory tree (no symlink following: lstat only). */
static void rm_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			char *c = xasprintf("%s/%s", path, de->d_name);
			rm_tree(c);
			free(c);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

/* Names given to tar_add_* are made relative; ".." is refused. */
TEST(names_normalised)
{
	struct buf b = BUF_INIT;
	struct entry e[8];
	size_t len;
	int n;

	ASSERT_EQ_INT(tar_add_file(&b, "/abs/./x", 0644, 0, "1", 1), 0);
	ASSERT_EQ_INT(tar_add_dir(&b, "//d//e/", 0755, 0), 0);
	ASSERT_EQ_INT(tar_add_symlink(&b, "./l", "../up", 0), 0);
	len = b.len;
	ASSERT_EQ_INT(tar_add_file(&b, "a/../../etc/passwd", 0644, 0, "x", 1),
	              ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "a/../../etc/passwd");
	ASSERT_EQ_INT(tar_add_file(&b, "..", 0644, 0, "x", 1), ORCH_EINVALID);
	ASSERT_EQ_INT(tar_add_dir(&b, "/", 0755, 0), ORCH_EINVALID);
	ASSERT_EQ_INT(b.len, len);
	ASSERT_EQ_INT(tar_finish(&b), 0);
	n = parse(&b, e, 8);
	ASSERT_EQ_INT(n, 3);
	ASSERT_EQ_STR(e[0].name, "abs/x");
	ASSERT_EQ_STR(e[1].name, "d/e/");
	ASSERT_EQ_STR(e[2].name, "l");
	ASSERT_EQ_STR(e[2].link, "../up"); /* link targets are kept */
	buf_release(&b);
}

/*
 * The Dockerfile is always sent, even inside an excluded directory, and
 * must resolve (symlinks followed, as the docker CLI does) to a regular
 * file inside the context.
 */
TEST(dockerfile_in_context)
{
	char tmpl[] = "/tmp/orch-tar-XXXXXX";
	char *dir = mkdtemp(tmpl), *p, *rel = NULL;
	struct buf b = BUF_INIT;
	struct entry e[32];
	int n;

	ASSERT(dir != NULL);
	put(dir, ".dockerignore", "docker\nbig\n!big/keep\n");
	mkd(dir, "docker");
	put(dir, "docker/Dockerfile", "FROM scratch\n");
	put(dir, "docker/other", "o");
	mkd(dir, "big");
	mkd(dir, "big/deep");
	put(dir, "big/deep/junk", "j");
	put(dir, "big/keep", "k");
	p = xasprintf("%s/escape", dir);
	ASSERT_EQ_INT(symlink("/etc/passwd", p), 0);
	free(p);
	p = xasprintf("%s/inside", dir);
	ASSERT_EQ_INT(symlink("docker/Dockerfile", p), 0);
	free(p);

	/* no '!' pattern at all: the excluded directory is still entered */
	put(dir, ".dockerignore", "docker\n");
	ASSERT_EQ_INT(tar_context(dir, "docker/Dockerfile", &b), 0);
	n = parse(&b, e, 32);
	ASSERT(find(e, n, "docker/Dockerfile"));
	ASSERT(!find(e, n, "docker/other"));
	buf_reset(&b);
	put(dir, ".dockerignore", "docker\nbig\n!big/keep\n");
	ASSERT_EQ_INT(tar_context(dir, "docker/Dockerfile", &b), 0);
	n = parse(&b, e, 32);
	ASSERT(n > 0);
	ASSERT(find(e, n, "docker/Dockerfile"));
	ASSERT(!find(e, n, "docker/other"));
	ASSERT(!find(e, n, "big/deep/junk"));
	ASSERT(find(e, n, "big/keep"));
	buf_release(&b);

	ASSERT_EQ_INT(tar_dockerfile(dir, "docker/Dockerfile", &rel), 0);
	ASSERT_EQ_STR(rel, "docker/Dockerfile");
	free(rel);
	ASSERT_EQ_INT(tar_dockerfile(dir, "inside", &rel), 0);
	ASSERT_EQ_STR(rel, "docker/Dockerfile");
	free(rel);
	rel = NULL;
	ASSERT_EQ_INT(tar_dockerfile(dir, "escape", &rel), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "outside the build context");
	ASSERT(rel == NULL);
	ASSERT_EQ_INT(tar_dockerfile(dir, "../../etc/passwd", &rel),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(tar_dockerfile(dir, "/etc/passwd", &rel), ORCH_EINVALID);
	ASSERT_EQ_INT(tar_dockerfile(dir, "docker", &rel), ORCH_EINVALID);
	ASSERT_EQ_INT(tar_dockerfile(dir, "missing", &rel), ORCH_ENOTFOUND);
	ASSERT(rel == NULL);
	rm_tree(dir);
}

/* A .dockerignore that is a symlink out of the context is refused. */
TEST(dockerignore_symlink_escape)
{
	char tmpl[] = "/tmp/orch-tar-XXXXXX";
	char *dir = mkdtemp(tmpl), *p;
	struct buf b = BUF_INIT;
	struct entry e[8];
	int n;

	ASSERT(dir != NULL);
	put(dir, "Dockerfile", "FROM scratch\n");
	put(dir, "ignore-me", "x");
	put(dir, "patterns", "ignore-me\n");
	p = xasprintf("%s/.dockerignore", dir);
	ASSERT_EQ_INT(symlink("patterns", p), 0); /* inside: fine */
	ASSERT_EQ_INT(tar_context(dir, "Dockerfile", &b), 0);
	n = parse(&b, e, 8);
	ASSERT(!find(e, n, "ignore-me"));
	ASSERT_EQ_INT(find(e, n, ".dockerignore")->type, '2');
	buf_reset(&b);
	unlink(p);
	ASSERT_EQ_INT(symlink("/etc/hostname", p), 0);
	ASSERT_EQ_INT(tar_context(dir, "Dockerfile", &b), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "outside the build context");
	free(p);
	buf_release(&b);
	rm_tree(dir);
}

/* ustar's 11 octal digits hold sizes below 8 GiB: refuse, not wrap. */
TEST(size_field_overflow)
{
#if defined(__SANITIZE_ADDRESS__)
	printf("# skipped under ASan (needs an address-space limit)\n");
#else
	char tmpl[] = "/tmp/orch-tar-XXXXXX";
	char *dir = mkdtemp(tmpl), *p;
	pid_t pid;
	int st, fd;

	ASSERT(dir != NULL);
	p = xasprintf("%s/huge", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	ASSERT(fd >= 0);
	ASSERT_EQ_INT(ftruncate(fd, (off_t)9 << 30), 0); /* sparse */
	close(fd);
	free(p);
	/* before the fix this read 9 GiB into memory: bound the child */
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { (rlim_t)1 << 30, (rlim_t)1 << 30 };
		struct buf b = BUF_INIT;
		int rc;

		setrlimit(RLIMIT_AS, &rl);
		buf_init(&b, (size_t)16 << 30);
		rc = tar_context(dir, NULL, &b);
		_exit(rc == ORCH_ETOOBIG && b.len < 4096 &&
		                      strstr(orch_error_last(), "huge")
		              ? 0
		              : 1);
	}
	ASSERT(pid > 0);
	waitpid(pid, &st, 0);
	rm_tree(dir);
	ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#endif
}

int main(void)
{
	RUN(write_and_read_back);
	RUN(cap);
	RUN(ignore_patterns);
	RUN(context_walk);
	RUN(names_normalised);
	RUN(dockerfile_in_context);
	RUN(dockerignore_symlink_escape);
	RUN(size_field_overflow);
	return harness_done();
}
