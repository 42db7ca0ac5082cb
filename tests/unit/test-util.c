/* test-util.c: buffers, vectors, durations, edit distance. */
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "util.h"

TEST(buf_grows_and_caps)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 8);
	ASSERT_EQ_INT(buf_addstr(&b, "1234"), 0);
	ASSERT_EQ_INT(buf_addf(&b, "%d", 5678), 0);
	ASSERT_EQ_STR(buf_cstr(&b), "12345678");
	ASSERT_EQ_INT(buf_addch(&b, 'x'), ORCH_ETOOBIG);
	ASSERT_EQ_STR(buf_cstr(&b), "12345678");
	buf_consume(&b, 3);
	ASSERT_EQ_STR(buf_cstr(&b), "45678");
	buf_release(&b);
}

TEST(buf_long_format)
{
	struct buf b = BUF_INIT;
	char big[1000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_EQ_INT(buf_addf(&b, "<%s>", big), 0);
	ASSERT_EQ_INT(b.len, 1001);
	ASSERT_EQ_INT(b.data[1000], '>');
	buf_release(&b);
}

TEST(strvec_basics)
{
	struct strvec sv = STRVEC_INIT;

	strvec_push(&sv, "a");
	strvec_pushf(&sv, "b%d", 2);
	ASSERT_EQ_INT(sv.n, 2);
	ASSERT(sv.v[2] == NULL);
	ASSERT_EQ_INT(strvec_find(&sv, "b2"), 1);
	ASSERT_EQ_INT(strvec_find(&sv, "c"), -1);
	strvec_clear(&sv);
	ASSERT_EQ_INT(sv.n, 0);
}

TEST(durations)
{
	int64_t ns;

	ASSERT_EQ_INT(parse_duration("1s", &ns), 0);
	ASSERT_EQ_INT(ns, 1000000000);
	ASSERT_EQ_INT(parse_duration("1m30s", &ns), 0);
	ASSERT_EQ_INT(ns, 90LL * 1000000000);
	ASSERT_EQ_INT(parse_duration("500ms", &ns), 0);
	ASSERT_EQ_INT(ns, 500000000);
	ASSERT_EQ_INT(parse_duration("1.5s", &ns), 0);
	ASSERT_EQ_INT(ns, 1500000000);
	ASSERT_EQ_INT(parse_duration("2h", &ns), 0);
	ASSERT_EQ_INT(ns, 7200LL * 1000000000);
	ASSERT_EQ_INT(parse_duration("10", &ns), 0);
	ASSERT_EQ_INT(ns, 10LL * 1000000000);
	ASSERT_EQ_INT(parse_duration("10us", &ns), 0);
	ASSERT_EQ_INT(ns, 10000);
	ASSERT_EQ_INT(parse_duration("", &ns), ORCH_EINVALID);
	ASSERT_EQ_INT(parse_duration("1x", &ns), ORCH_EINVALID);
	ASSERT_EQ_INT(parse_duration("-1s", &ns), ORCH_EINVALID);
	ASSERT_EQ_INT(parse_duration("s", &ns), ORCH_EINVALID);
	ASSERT_EQ_INT(parse_duration("99999999999999999999h", &ns),
	              ORCH_EINVALID);
}

TEST(rfc3339)
{
	int64_t ms = -1;
	char out[32];

	ASSERT_EQ_INT(parse_rfc3339_ms("1970-01-01T00:00:00Z", &ms), 0);
	ASSERT_EQ_INT(ms, 0);
	/* the engine's nanoseconds: milliseconds kept, the rest dropped */
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-11-26T00:40:01.123456789Z", &ms),
	              0);
	ASSERT_EQ_INT(ms, 1795653601123LL);
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-11-26T00:40:01.5Z", &ms), 0);
	ASSERT_EQ_INT(ms, 1795653601500LL);
	/* offsets */
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-11-26T01:40:01+01:00", &ms), 0);
	ASSERT_EQ_INT(ms, 1795653601000LL);
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-11-25T23:10:01-01:30", &ms), 0);
	ASSERT_EQ_INT(ms, 1795653601000LL);
	/* what it refuses */
	ASSERT_EQ_INT(parse_rfc3339_ms("", &ms), ORCH_EINVALID);
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-11-26 00:40:01Z", &ms),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-11-26T00:40:01", &ms),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-13-26T00:40:01Z", &ms),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-11-26T00:40:01.Z", &ms),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(parse_rfc3339_ms("2026-11-26T00:40:01Zx", &ms),
	              ORCH_EINVALID);
	ASSERT_EQ_INT(parse_rfc3339_ms("0001-01-01T00:00:00Z", &ms),
	              ORCH_EINVALID);
	/* and back */
	format_rfc3339_ms(out, sizeof(out), 1795653601123LL);
	ASSERT_EQ_STR(out, "2026-11-26T00:40:01.123Z");
	ASSERT_EQ_INT(parse_rfc3339_ms(out, &ms), 0);
	ASSERT_EQ_INT(ms, 1795653601123LL);
}

TEST(duration_format)
{
	struct buf b = BUF_INIT;

	format_duration(&b, 1500000000);
	ASSERT_EQ_STR(buf_cstr(&b), "1.5s");
	buf_reset(&b);
	format_duration(&b, 90LL * 1000000000);
	ASSERT_EQ_STR(buf_cstr(&b), "1m30s");
	buf_reset(&b);
	format_duration(&b, 250000000);
	ASSERT_EQ_STR(buf_cstr(&b), "250ms");
	buf_release(&b);
}

TEST(error_wraps_last_message)
{
	orch_error_set("%s: %s", "/tmp", "Is a directory");
	ASSERT_EQ_INT(orch_error_code(ORCH_EINVALID, "cannot read %s",
	                              orch_error_last()),
	              ORCH_EINVALID);
	ASSERT_EQ_STR(orch_error_last(), "cannot read /tmp: Is a directory");
}

TEST(ints)
{
	long v;

	ASSERT_EQ_INT(parse_int("65535", 1, 65535, &v), 0);
	ASSERT_EQ_INT(v, 65535);
	ASSERT_EQ_INT(parse_int("65536", 1, 65535, &v), ORCH_EINVALID);
	ASSERT_EQ_INT(parse_int("80a", 1, 65535, &v), ORCH_EINVALID);
	ASSERT_EQ_INT(parse_int("", 1, 65535, &v), ORCH_EINVALID);
}

TEST(edit_distance)
{
	ASSERT_EQ_INT(levenshtein("helthcheck", "healthcheck"), 1);
	ASSERT_EQ_INT(levenshtein("", "abc"), 3);
	ASSERT_EQ_INT(levenshtein("same", "same"), 0);
}

static int escaped_is(const char *in, size_t len, unsigned flags,
                      const char *want)
{
	struct buf b = BUF_INIT;
	int same;

	buf_add_escaped(&b, in, len, flags);
	same = b.len == strlen(want) && !memcmp(b.data, want, b.len);
	if (!same)
		printf("# escaped: \"%s\", expected \"%s\"\n", buf_cstr(&b),
		       want);
	buf_release(&b);
	return same;
}

#define ESCAPED(in, flags, want) escaped_is(in, sizeof(in) - 1, flags, want)

TEST(escaping)
{
	char *s;

	ASSERT(ESCAPED("plain text, tab\there", 0, "plain text, tab\there"));
	/* the terminal's own language never passes */
	ASSERT(ESCAPED("a\x1b[2Jb", 0, "a\\x1b[2Jb"));
	ASSERT(ESCAPED("\x1b]0;title\x07", 0, "\\x1b]0;title\\x07"));
	ASSERT(ESCAPED("over\rwrite\b\x7f", 0, "over\\rwrite\\x08\\x7f"));
	ASSERT(ESCAPED("nul\0byte", 0, "nul\\x00byte"));
	/* newline: escaped in one-line messages, kept where asked */
	ASSERT(ESCAPED("two\nlines", 0, "two\\nlines"));
	ASSERT(ESCAPED("two\nlines", ESCAPE_NEWLINE_OK, "two\nlines"));
	/* UTF-8 text is text; C1 controls and broken bytes are not */
	ASSERT(ESCAPED("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\xb3", 0,
	               "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\xb3"));
	ASSERT(ESCAPED("\xc2\x9b"
	               "31m",
	               0, "\\u009b31m"));
	ASSERT(ESCAPED("\xc2\xa0nbsp", 0, "\xc2\xa0nbsp"));
	ASSERT(ESCAPED("\x9b"
	               "31m\xff",
	               0, "\\x9b31m\\xff"));
	ASSERT(ESCAPED("\xc3", 0, "\\xc3"));                   /* cut short */
	ASSERT(ESCAPED("\xc0\xaf", 0, "\\xc0\\xaf"));          /* overlong */
	ASSERT(ESCAPED("\xed\xa0\x80", 0, "\\xed\\xa0\\x80")); /* surrogate */
	ASSERT(ESCAPED("back\\slash", 0, "back\\slash"));
	s = xescape("x\x1by\n");
	ASSERT_EQ_STR(s, "x\\x1by\\n");
	free(s);
	s = xescape(NULL);
	ASSERT_EQ_STR(s, "");
	free(s);
}

TEST(atomic_write)
{
	char dir[] = "/tmp/orch-test-XXXXXX";
	struct buf b = BUF_INIT, path = BUF_INIT;

	ASSERT(mkdtemp(dir));
	buf_addf(&path, "%s/out.json", dir);
	ASSERT_EQ_INT(write_file_atomic(path.data, "{}\n", 3), 0);
	ASSERT_EQ_INT(read_file(path.data, &b, 100), 0);
	ASSERT_EQ_STR(buf_cstr(&b), "{}\n");
	ASSERT_EQ_INT(unlink(path.data), 0);
	ASSERT_EQ_INT(rmdir(dir), 0);
	buf_release(&b);
	buf_release(&path);
}

int main(void)
{
	RUN(buf_grows_and_caps);
	RUN(buf_long_format);
	RUN(strvec_basics);
	RUN(durations);
	RUN(duration_format);
	RUN(rfc3339);
	RUN(error_wraps_last_message);
	RUN(ints);
	RUN(edit_distance);
	RUN(escaping);
	RUN(atomic_write);
	return harness_done();
}
