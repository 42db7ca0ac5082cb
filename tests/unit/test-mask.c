/*
 * test-mask.c: which names are secret, and secret values masked in text:
 * overlapping and touching values, repeated ones, short ones, UTF-8,
 * values of several lines, a value cut by the boundary of two chunks,
 * and the values a manifest holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "manifest.h"
#include "mask.h"
#include "util.h"

/* mask_apply of in with the NULL-terminated values. */
static char *masked(const char *in, ...)
{
	struct mask *m = mask_new();
	struct buf out = BUF_INIT;
	const char *v;
	va_list ap;

	va_start(ap, in);
	while ((v = va_arg(ap, const char *)))
		mask_add(m, v);
	va_end(ap);
	mask_apply(m, &out, in, strlen(in));
	mask_free(m);
	return buf_detach(&out, NULL);
}

#define ASSERT_MASKED(want, ...)                                               \
	do {                                                                   \
		char *got_ = masked(__VA_ARGS__, NULL);                        \
		int same_ = !strcmp(got_, want);                               \
		if (!same_)                                                    \
			FAIL_AT("masked \"%s\", expected \"%s\"", got_, want); \
		free(got_);                                                    \
		if (!same_)                                                    \
			return;                                                \
	} while (0)

TEST(secret_names)
{
	static const char *const secret[] = {
		"DB_PASSWORD",
		"POSTGRES_PASSWORD",
		"MYSQLPASSWORD",
		"password",
		"dbPassword",
		"LDAP_PASSWD",
		"GPG_PASSPHRASE",
		"API_KEY",
		"api_key",
		"apiKey",
		"APIKEY",
		"AWS_SECRET_ACCESS_KEY",
		"AWS_ACCESS_KEY_ID",
		"accessKey",
		"SSH_PRIVATE_KEY",
		"PRIVATEKEY",
		"SSH_KEYS",
		"KEY",
		"GITHUB_TOKEN",
		"githubToken",
		"NPM_TOKEN",
		"ACCESSTOKEN",
		"CLIENT_SECRET",
		"CLIENTSECRET",
		"secret",
		"DB_PASS",
		"RABBITMQ_DEFAULT_PASS",
		"DB_PWD",
		"MYSQL_PWD",
		"dbPwd",
		"my.app.password",
		"x-api-key",
	};
	static const char *const plain[] = {
		"PGUSER",  "KEYBOARD",     "MONKEY",       "KEYSPACE",
		"HOCKEY",  "TURKEY_COUNT", "PWD",          "OLDPWD",
		"PASSAGE", "BYPASS",       "COMPASS_DIR",  "PATH",
		"HOME",    "DB_HOST",      "KEYCLOAK_URL", "",
		"_",       "__",           "PASSPORT_ID",
	};

	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (!mask_is_secret_name(secret[i]))
			FAIL_AT("'%s' should be secret", secret[i]);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (mask_is_secret_name(plain[i]))
			FAIL_AT("'%s' should not be secret", plain[i]);
	/* a lone KEY word is a key, wherever it stands */
	ASSERT(mask_is_secret_name("KEY_"));
	ASSERT(!mask_is_secret_name(NULL));
}

TEST(values_masked)
{
	ASSERT_MASKED("password is ***", "password is hunter22", "hunter22");
	/* every occurrence, at the start, the end, alone */
	ASSERT_MASKED("*** and *** and ***", "abcd and abcd and abcd", "abcd");
	ASSERT_MASKED("***", "abcd", "abcd");
	/* inside a longer word: a value never shows, even as a substring */
	ASSERT_MASKED("x***y", "xabcdy", "abcd");
	/* nothing to mask */
	ASSERT_MASKED("plain text", "plain text", "abcd");
	ASSERT_MASKED("", "", "abcd");
}

TEST(overlapping_values)
{
	/* one value inside another: the longer one wins */
	ASSERT_MASKED("<***>", "<abcdefgh>", "cdef", "abcdefgh");
	ASSERT_MASKED("<***>", "<abcdefgh>", "abcdefgh", "cdef");
	/* two values overlapping: the whole stretch, nothing of either */
	ASSERT_MASKED("<***>", "<abcdef>", "abcd", "cdef");
	ASSERT_MASKED("<***>", "<abcdef>", "cdef", "abcd");
	/* a value overlapping itself */
	ASSERT_MASKED("<***>", "<aaaaaa>", "aaaa");
	ASSERT_MASKED("<***>", "<abababab>", "abab");
	/* touching values: one stretch */
	ASSERT_MASKED("<***>", "<abcdwxyz>", "abcd", "wxyz");
	/* a chain of overlaps */
	ASSERT_MASKED("<***>", "<abcdefghij>", "abcd", "cdefg", "fghij");
	ASSERT_MASKED("*** ***", "abcd wxyz", "abcd", "wxyz");
}

TEST(short_values_and_lines)
{
	struct mask *m = mask_new();

	/* too short to mask: the output would be destroyed */
	ASSERT_EQ_INT(mask_add(m, "abc"), 0);
	ASSERT_EQ_INT(mask_add(m, ""), 0);
	ASSERT_EQ_INT(mask_add(m, NULL), 0);
	ASSERT_EQ_INT(mask_count(m), 0);
	ASSERT_EQ_INT(mask_add(m, "abcd"), 1);
	ASSERT_EQ_INT(mask_add(m, "abcd"), 1);
	ASSERT_EQ_INT(mask_count(m), 1);
	/* a name that is not secret records nothing */
	ASSERT_EQ_INT(mask_add_env(m, "PGUSER", "postgres"), 0);
	ASSERT_EQ_INT(mask_add_env(m, "DB_PASSWORD", "postgres"), 1);
	ASSERT_EQ_INT(mask_count(m), 2);
	mask_free(m);
	mask_free(NULL);
	ASSERT_MASKED("a 1 b", "a 1 b", "1");

	/* a value of several lines: whole, and each line on its own */
	ASSERT_MASKED("key: ***", "key: line-one\nline-two",
	              "line-one\nline-two");
	ASSERT_MASKED("1 ***\n2 ***\n", "1 line-one\n2 line-two\n",
	              "line-one\nline-two");
	ASSERT_MASKED("***\n***\n", "line-one\nline-two\n",
	              "line-one\r\nline-two\r\n");
}

TEST(utf8)
{
	/* values and text in UTF-8: whole characters around the mask */
	ASSERT_MASKED("mot de passe : *** ✓", "mot de passe : pässwörd ✓",
	              "pässwörd");
	ASSERT_MASKED("«***»", "«秘密のパス»", "秘密のパス");
	/* a value that is a prefix of a character's bytes never cuts it */
	ASSERT_MASKED("é***é", "éabcdé", "abcd");
}

TEST(null_mask_copies)
{
	struct buf out = BUF_INIT;

	ASSERT_EQ_INT(mask_apply(NULL, &out, "x\0y", 3), 0);
	ASSERT_EQ_INT(out.len, 3);
	buf_release(&out);
}

/* Feed text to a stream in chunks of n bytes; compare to mask_apply. */
static int chunked_same(const struct mask *m, const char *text, size_t n)
{
	struct mask_stream st = MASK_STREAM_INIT;
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t len = strlen(text);
	int same;

	for (size_t i = 0; i < len; i += n)
		mask_feed(m, &st, &a, text + i, len - i < n ? len - i : n);
	mask_finish(m, &st, &a);
	mask_apply(m, &b, text, len);
	same = a.len == b.len && !memcmp(buf_cstr(&a), buf_cstr(&b), a.len);
	if (!same)
		printf("# chunks of %zu: \"%s\" vs \"%s\"\n", n, buf_cstr(&a),
		       buf_cstr(&b));
	buf_release(&a);
	buf_release(&b);
	return same;
}

TEST(stream_chunks)
{
	static const char *const texts[] = {
		"connecting with hunter22 to db\nok\n",
		"hunter22hunter22",
		"abcdef and abcd and cdef",
		"x hunter2 hunter22 hunte",
		"no secrets here at all",
		"",
		"hunter22",
		"«秘密のパス» and abcdwxyz",
	};
	struct mask *m = mask_new();
	struct mask_stream st = MASK_STREAM_INIT;
	struct buf out = BUF_INIT;

	mask_add(m, "hunter22");
	mask_add(m, "abcd");
	mask_add(m, "cdef");
	mask_add(m, "wxyz");
	mask_add(m, "秘密のパス");
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
		for (size_t n = 1; n <= 12; n++)
			ASSERT(chunked_same(m, texts[t], n));

	/* the value cut by the boundary of two chunks is masked ... */
	mask_feed(m, &st, &out, "password hunt", 13);
	ASSERT(!strstr(buf_cstr(&out), "hunt"));
	mask_feed(m, &st, &out, "er22 ok\n", 8);
	mask_finish(m, &st, &out);
	ASSERT_EQ_STR(buf_cstr(&out), "password *** ok\n");
	/* ... and a stream holds back no more than it must: the longest
	 * value (15 bytes) less one */
	buf_reset(&out);
	mask_feed(m, &st, &out, "01234567890123456789", 20);
	ASSERT_EQ_STR(buf_cstr(&out), "012345");
	mask_finish(m, &st, &out);
	ASSERT_EQ_STR(buf_cstr(&out), "01234567890123456789");
	buf_release(&out);

	/* without values nothing is held back */
	mask_free(m);
	m = mask_new();
	mask_feed(m, &st, &out, "abc", 3);
	ASSERT_EQ_STR(buf_cstr(&out), "abc");
	mask_finish(m, &st, &out);
	buf_release(&out);
	mask_free(m);
}

TEST(capped_output)
{
	struct mask *m = mask_new();
	struct buf out;

	buf_init(&out, 8);
	mask_add(m, "abcd");
	ASSERT_EQ_INT(mask_apply(m, &out, "xx abcd yyyyyyy", 15), ORCH_ETOOBIG);
	ASSERT(!strstr(buf_cstr(&out), "abcd"));
	buf_release(&out);
	mask_free(m);
}

TEST(manifest_values)
{
	char dir[] = "/tmp/orch-mask-XXXXXX";
	struct buf path = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
	struct strvec warnings = STRVEC_INIT;
	struct manifest *mf = NULL;
	struct mask *m = mask_new();
	const char *yaml =
	        "services:\n"
	        "  db:\n"
	        "    image: local/busybox\n"
	        "    environment: {DB_PASSWORD: db-secret-1, DB_USER: "
	        "postgres}\n"
	        "    stub:\n"
	        "      image: local/busybox\n"
	        "      environment: [STUB_TOKEN=stub-secret-2]\n"
	        "  api:\n"
	        "    build: {context: ., args: {NPM_TOKEN: npm-secret-3}}\n"
	        "    environment: [FROM_HOST_API_KEY]\n"
	        "suites:\n"
	        "  s:\n"
	        "    targets: [db]\n"
	        "    image: local/busybox\n"
	        "    environment: {SUITE_SECRET: suite-secret-4}\n";

	ASSERT(mkdtemp(dir));
	buf_addf(&path, "%s/orchestrate.yaml", dir);
	ASSERT_EQ_INT(write_file_atomic(path.data, yaml, strlen(yaml)), 0);
	setenv("FROM_HOST_API_KEY", "host-secret-5", 1);
	ASSERT_EQ_INT(manifest_load(path.data, &warnings, &mf), 0);
	mask_add_manifest(m, mf);
	ASSERT_EQ_INT(mask_count(m), 5);
	buf_addstr(&text, "db-secret-1 postgres stub-secret-2 npm-secret-3 "
	                  "suite-secret-4 host-secret-5");
	mask_apply(m, &out, text.data, text.len);
	ASSERT_EQ_STR(buf_cstr(&out), "*** postgres *** *** *** ***");
	unsetenv("FROM_HOST_API_KEY");
	manifest_free(mf);
	mask_free(m);
	strvec_clear(&warnings);
	unlink(path.data);
	rmdir(dir);
	buf_release(&path);
	buf_release(&text);
	buf_release(&out);
}

/* The manifest's `mask:` names: masked whatever they look like. */
TEST(manifest_mask_list)
{
	char dir[] = "/tmp/orch-mask-XXXXXX";
	struct buf path = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
	struct manifest *mf = NULL;
	struct mask *m = mask_new();
	const char *yaml = "mask: [LICENSE_SERIAL, DSN, ONLY_INTERPOLATED]\n"
	                   "services:\n"
	                   "  db:\n"
	                   "    image: local/busybox\n"
	                   "    environment:\n"
	                   "      LICENSE_SERIAL: lic-1234-5678\n"
	                   "      PLAIN: plain-value\n"
	                   "      URL: \"x${ONLY_INTERPOLATED}y\"\n"
	                   "suites:\n"
	                   "  s:\n"
	                   "    targets: [db]\n"
	                   "    image: local/busybox\n"
	                   "    environment: [DSN]\n";

	ASSERT(mkdtemp(dir));
	buf_addf(&path, "%s/orchestrate.yaml", dir);
	ASSERT_EQ_INT(write_file_atomic(path.data, yaml, strlen(yaml)), 0);
	setenv("DSN", "postgres://u:p@db/x", 1);
	setenv("ONLY_INTERPOLATED", "interp-secret", 1);
	ASSERT_EQ_INT(manifest_load(path.data, NULL, &mf), 0);
	ASSERT_EQ_INT(mf->mask.n, 3);
	mask_add_manifest(m, mf);
	buf_addstr(&text, "lic-1234-5678 plain-value postgres://u:p@db/x "
	                  "interp-secret");
	mask_apply(m, &out, text.data, text.len);
	ASSERT_EQ_STR(buf_cstr(&out), "*** plain-value *** ***");
	unsetenv("DSN");
	unsetenv("ONLY_INTERPOLATED");
	manifest_free(mf);
	mask_free(m);
	unlink(path.data);
	rmdir(dir);
	buf_release(&path);
	buf_release(&text);
	buf_release(&out);
}

int main(void)
{
	RUN(secret_names);
	RUN(values_masked);
	RUN(overlapping_values);
	RUN(short_values_and_lines);
	RUN(utf8);
	RUN(null_mask_copies);
	RUN(stream_chunks);
	RUN(capped_output);
	RUN(manifest_values);
	RUN(manifest_mask_list);
	return harness_done();
}
