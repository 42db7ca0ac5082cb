/*
 * driver.c: replay fuzz inputs without libFuzzer, so every test run (and
 * every compiler) exercises the corpus.
 *
 *   driver FILE|DIR...   calls LLVMFuzzerTestOneInput on each file,
 *                        directories one level deep, and prints TAP
 *
 * A crash is the failure; the target decides what counts as one.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int n;

static int replay(const char *path)
{
	struct buf b = BUF_INIT;

	/* inputs above the loader's limit are fine: it must refuse them */
	if (read_file(path, &b, 16 * 1024 * 1024)) {
		printf("not ok %d - %s: cannot read\n", ++n, path);
		buf_release(&b);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf_cstr(&b), b.len);
	printf("ok %d - %s\n", ++n, path);
	fflush(stdout);
	buf_release(&b);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		struct strvec files = STRVEC_INIT;
		struct dirent *de;
		struct stat st;
		DIR *d;

		if (stat(argv[i], &st) || !S_ISDIR(st.st_mode)) {
			failed |= replay(argv[i]);
			continue;
		}
		d = opendir(argv[i]);
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				strvec_pushf(&files, "%s/%s", argv[i],
				             de->d_name);
		if (d)
			closedir(d);
		if (files.n)
			qsort(files.v, files.n, sizeof(*files.v), cmp);
		for (size_t j = 0; j < files.n; j++)
			failed |= replay(files.v[j]);
		strvec_clear(&files);
	}
	printf("1..%d\n", n);
	return failed;
}
