/* test-interp.c: Compose interpolation, the shell-words split, dotenv. */
#include <stdlib.h>

#include "error.h"
#include "harness.h"
#include "interp.h"
#include "util.h"

static const char *lookup(void *ctx, const char *name)
{
	static const char *const vars[][2] = {
		{ "HOME", "/home/me" }, { "EMPTY", "" },       { "A", "a" },
		{ "B", "bee" },         { "PORT", "8080" },    { "_U", "u" },
		{ "x1", "lower" },      { "DOLLAR", "$HOME" },
	};

	(void)ctx;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (!strcmp(vars[i][0], name))
			return vars[i][1];
	return NULL;
}

/* Expand in; "!" + the error message when it fails. */
static char *ex(const char *in, struct strvec *unset)
{
	struct buf b = BUF_INIT;
	int rc = interp_expand(in, lookup, NULL, &b, unset);

	if (rc) {
		buf_reset(&b);
		buf_addf(&b, "!%s", orch_error_last());
	}
	return buf_detach(&b, NULL);
}

#define EXPECT(in, want)                                                       \
	do {                                                                   \
		char *got_ = ex(in, NULL);                                     \
		int ok_ = !strcmp(got_, want);                                 \
		if (!ok_)                                                      \
			FAIL_AT("'%s' -> '%s', expected '%s'", in, got_,       \
			        want);                                         \
		free(got_);                                                    \
		if (!ok_)                                                      \
			return;                                                \
	} while (0)

TEST(plain_text)
{
	EXPECT("", "");
	EXPECT("no variables", "no variables");
	EXPECT("a:b/c", "a:b/c");
}

TEST(simple_forms)
{
	EXPECT("$A", "a");
	EXPECT("${A}", "a");
	EXPECT("x${A}y", "xay");
	EXPECT("$A$B", "abee");
	EXPECT("$A-$B", "a-bee");
	EXPECT("${HOME}/src", "/home/me/src");
	EXPECT("$HOME/src", "/home/me/src");
	EXPECT("$_U", "u");
	EXPECT("$x1", "lower");
	EXPECT("127.0.0.1:${PORT}:80", "127.0.0.1:8080:80");
	/* the name ends at the first non-name character */
	EXPECT("$A.b", "a.b");
	EXPECT("$Ab", "");
}

TEST(escapes_and_literals)
{
	EXPECT("$$", "$");
	EXPECT("$$A", "$A");
	EXPECT("$${A}", "${A}");
	EXPECT("a$$$A", "a$a");
	EXPECT("cost: 5$", "cost: 5$");
	EXPECT("$1", "$1");
	EXPECT("$ x", "$ x");
	EXPECT("$-", "$-");
	/* a value is not expanded again */
	EXPECT("${DOLLAR}", "$HOME");
}

TEST(defaults)
{
	EXPECT("${UNSET:-def}", "def");
	EXPECT("${UNSET-def}", "def");
	EXPECT("${EMPTY:-def}", "def");
	EXPECT("${EMPTY-def}", "");
	EXPECT("${A:-def}", "a");
	EXPECT("${A-def}", "a");
	EXPECT("${UNSET:-}", "");
	EXPECT("${UNSET:-a b c}", "a b c");
	EXPECT("${UNSET:-debian:bookworm-slim}", "debian:bookworm-slim");
	EXPECT("${UNSET:-http://x/y?z=1}", "http://x/y?z=1");
}

TEST(nested_defaults)
{
	EXPECT("${UNSET:-${A}}", "a");
	EXPECT("${UNSET:-${ALSO_UNSET:-deep}}", "deep");
	EXPECT("${UNSET:-x${B}y}", "xbeey");
	EXPECT("${UNSET:-$$}", "$");
}

TEST(replacements)
{
	EXPECT("${A:+yes}", "yes");
	EXPECT("${A+yes}", "yes");
	EXPECT("${EMPTY:+yes}", "");
	EXPECT("${EMPTY+yes}", "yes");
	EXPECT("${UNSET:+yes}", "");
	EXPECT("${UNSET+yes}", "");
	EXPECT("${A:+${B}}", "bee");
}

TEST(required)
{
	EXPECT("${A:?need A}", "a");
	EXPECT("${A?need A}", "a");
	EXPECT("${EMPTY?need it}", "");
	EXPECT("${UNSET:?set it in .env}",
	       "!required variable 'UNSET' is missing a value: set it in .env");
	EXPECT("${UNSET?oops}",
	       "!required variable 'UNSET' is missing a value: oops");
	EXPECT("${EMPTY:?must not be empty}",
	       "!required variable 'EMPTY' is missing a value: must not be "
	       "empty");
	EXPECT("${UNSET:?}", "!required variable 'UNSET' is missing a value");
	EXPECT("${UNSET:?port ${PORT}}",
	       "!required variable 'UNSET' is missing a value: port 8080");
}

TEST(invalid)
{
	const char *bad[] = { "${",     "${A",    "${}",   "${1A}",
		              "${A B}", "${A:x}", "${A!}", "x ${A:-y" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *got = ex(bad[i], NULL);
		char *exp = xasprintf("!invalid interpolation format in '%s' "
		                      "(escape '$' as '$$')",
		                      bad[i]);
		int ok = !strcmp(got, exp);

		if (!ok)
			FAIL_AT("'%s' -> '%s'", bad[i], got);
		free(got);
		free(exp);
		if (!ok)
			return;
	}
}

TEST(unset_reported_once)
{
	struct strvec unset = STRVEC_INIT;
	char *got = ex("$NOPE ${NOPE} ${ALSO} ${DEF:-x} ${PLUS:+y} $A", &unset);

	ASSERT_EQ_STR(got, "   x  a");
	ASSERT_EQ_INT(unset.n, 2);
	ASSERT_EQ_STR(unset.v[0], "NOPE");
	ASSERT_EQ_STR(unset.v[1], "ALSO");
	free(got);
	strvec_clear(&unset);
}

TEST(deep_nesting_bounded)
{
	struct buf in = BUF_INIT;
	char *got;

	for (int i = 0; i < 100; i++)
		buf_addstr(&in, "${U:-");
	for (int i = 0; i < 100; i++)
		buf_addch(&in, '}');
	got = ex(in.data, NULL);
	ASSERT_CONTAINS(got, "!interpolation nested deeper than");
	free(got);
	buf_release(&in);
}

static char *split(const char *in)
{
	struct strvec sv = STRVEC_INIT;
	struct buf b = BUF_INIT;

	if (shellwords_split(in, &sv)) {
		buf_addf(&b, "!%s", orch_error_last());
	} else {
		for (size_t i = 0; i < sv.n; i++)
			buf_addf(&b, "[%s]", sv.v[i]);
	}
	strvec_clear(&sv);
	return buf_detach(&b, NULL);
}

#define EXPECT_SPLIT(in, want)                                                 \
	do {                                                                   \
		char *got_ = split(in);                                        \
		int ok_ = !strcmp(got_, want);                                 \
		if (!ok_)                                                      \
			FAIL_AT("split '%s' -> '%s', expected '%s'", in, got_, \
			        want);                                         \
		free(got_);                                                    \
		if (!ok_)                                                      \
			return;                                                \
	} while (0)

TEST(shell_words)
{
	EXPECT_SPLIT("", "");
	EXPECT_SPLIT("   ", "");
	EXPECT_SPLIT("echo hi", "[echo][hi]");
	EXPECT_SPLIT("  a \t b\n c ", "[a][b][c]");
	EXPECT_SPLIT("sh -c 'echo $HOME; ls'", "[sh][-c][echo $HOME; ls]");
	EXPECT_SPLIT("echo \"a b\" c", "[echo][a b][c]");
	EXPECT_SPLIT("echo \"say \\\"hi\\\"\"", "[echo][say \"hi\"]");
	EXPECT_SPLIT("echo \"a\\nb\"", "[echo][a\\nb]");
	EXPECT_SPLIT("a\\ b c", "[a b][c]");
	EXPECT_SPLIT("x'y'\"z\"", "[xyz]");
	EXPECT_SPLIT("''", "[]");
	EXPECT_SPLIT("a && b | c > d", "[a][&&][b][|][c][>][d]");
	EXPECT_SPLIT("'unterminated", "!unterminated quote in ''unterminated'");
	EXPECT_SPLIT("\"open", "!unterminated quote in '\"open'");
	EXPECT_SPLIT("end\\", "!trailing backslash in 'end\\'");
}

TEST(dotenv)
{
	const char text[] = "# comment\n"
	                    "\n"
	                    "A=1\n"
	                    "export B = two words \n"
	                    "C='single $quoted # not a comment'\n"
	                    "D=\"line\\nbreak\"\n"
	                    "E=value # comment\n"
	                    "F=a#b\n"
	                    "BARE\n"
	                    "A=override\n"
	                    "EMPTY=\n";
	struct dotenv d = DOTENV_INIT;
	int found, line = 0;

	ASSERT_EQ_INT(dotenv_parse(text, sizeof(text) - 1, &d, &line), 0);
	ASSERT_EQ_STR(dotenv_get(&d, "A", NULL), "override");
	ASSERT_EQ_STR(dotenv_get(&d, "B", NULL), "two words");
	ASSERT_EQ_STR(dotenv_get(&d, "C", NULL),
	              "single $quoted # not a comment");
	ASSERT_EQ_STR(dotenv_get(&d, "D", NULL), "line\nbreak");
	ASSERT_EQ_STR(dotenv_get(&d, "E", NULL), "value");
	ASSERT_EQ_STR(dotenv_get(&d, "F", NULL), "a#b");
	ASSERT_EQ_STR(dotenv_get(&d, "EMPTY", NULL), "");
	ASSERT(dotenv_get(&d, "BARE", &found) == NULL);
	ASSERT_EQ_INT(found, 1);
	ASSERT(dotenv_get(&d, "NOPE", &found) == NULL);
	ASSERT_EQ_INT(found, 0);
	dotenv_release(&d);
}

TEST(dotenv_errors)
{
	struct dotenv d = DOTENV_INIT;
	int line = 0;

	ASSERT_EQ_INT(dotenv_parse("A=1\n1X=2\n", 9, &d, &line), ORCH_EINVALID);
	ASSERT_EQ_INT(line, 2);
	ASSERT_CONTAINS(orch_error_last(), "invalid variable name");
	dotenv_release(&d);
	ASSERT_EQ_INT(dotenv_parse("A='open\n", 8, &d, &line), ORCH_EINVALID);
	ASSERT_EQ_INT(line, 1);
	ASSERT_CONTAINS(orch_error_last(), "unterminated quote");
	dotenv_release(&d);
	ASSERT_EQ_INT(dotenv_parse("A B\n", 4, &d, &line), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "expected '='");
	dotenv_release(&d);
}

/* The "process environment" of the dotenv tests. */
static const char *proc_env(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "HOST"))
		return "from-process";
	if (!strcmp(name, "SET_EMPTY"))
		return "";
	return NULL;
}

/* Parse text with interpolation; the value of key, or "!" + the error. */
static char *dotenv_one(const char *text, const char *key,
                        struct strvec *warnings, int *line, int *col)
{
	struct dotenv_interp ip = { proc_env, NULL, warnings };
	struct dotenv d = DOTENV_INIT;
	char *out;
	int rc = dotenv_parse_interp(text, strlen(text), &ip, &d, line, col);

	if (rc) {
		out = xasprintf("!%s", orch_error_last());
	} else {
		const char *v = dotenv_get(&d, key, NULL);

		out = xstrdup(v ? v : "(unset)");
	}
	dotenv_release(&d);
	return out;
}

#define EXPECT_DOTENV(text, key, want)                                         \
	do {                                                                   \
		char *got_ = dotenv_one(text, key, NULL, NULL, NULL);          \
		int ok_ = !strcmp(got_, want);                                 \
		if (!ok_)                                                      \
			FAIL_AT("%s in '%s' -> '%s', expected '%s'", key,      \
			        text, got_, want);                             \
		free(got_);                                                    \
		if (!ok_)                                                      \
			return;                                                \
	} while (0)

TEST(dotenv_interp_earlier_lines)
{
	EXPECT_DOTENV("DBHOST=db\nURL=postgres://${DBHOST}:5432\n", "URL",
	              "postgres://db:5432");
	EXPECT_DOTENV("A=x\nB=$A-$A\nC=${B}/${A}\n", "C", "x-x/x");
	/* a later definition is not seen above it */
	EXPECT_DOTENV("URL=${LATER:-none}\nLATER=here\n", "URL", "none");
	/* the value as it stood on the line above, not the last one */
	EXPECT_DOTENV("A=1\nB=$A\nA=2\n", "B", "1");
	EXPECT_DOTENV("A=1\nB=$A\nA=2\n", "A", "2");
	/* interpolated values are not expanded again */
	EXPECT_DOTENV("A='$$B'\nC=$A\n", "C", "$$B");
	/* export prefix and inline comments as before */
	EXPECT_DOTENV("export P=5432\nQ=${P} # the port\n", "Q", "5432");
	/* a bare NAME line: not set unless the environment has it */
	EXPECT_DOTENV("BARE\nX=${BARE:-dflt}\n", "X", "dflt");
	EXPECT_DOTENV("HOST\nX=$HOST\n", "X", "from-process");
}

TEST(dotenv_interp_environment_wins)
{
	/* Compose: the process environment first, then the file above */
	EXPECT_DOTENV("HOST=db\nURL=postgres://${HOST}:5432\n", "URL",
	              "postgres://from-process:5432");
	/* set but empty in the environment still wins over the file */
	EXPECT_DOTENV("SET_EMPTY=file\nX=[${SET_EMPTY}]\n", "X", "[]");
	EXPECT_DOTENV("SET_EMPTY=file\nX=${SET_EMPTY:-dflt}\n", "X", "dflt");
	EXPECT_DOTENV("SET_EMPTY=file\nX=${SET_EMPTY-dflt}\n", "X", "");
}

TEST(dotenv_interp_defaults_and_forms)
{
	EXPECT_DOTENV("X=${UNSET:-fallback}\n", "X", "fallback");
	EXPECT_DOTENV("X=${UNSET-fallback}\n", "X", "fallback");
	EXPECT_DOTENV("E=\nX=${E:-fallback}\n", "X", "fallback");
	EXPECT_DOTENV("E=\nX=${E-fallback}\n", "X", "");
	EXPECT_DOTENV("A=a\nX=${A:+yes}${UNSET:+no}\n", "X", "yes");
	EXPECT_DOTENV("A=a\nX=${UNSET:-${A}-nested}\n", "X", "a-nested");
	EXPECT_DOTENV("A=a\nX=${A:?need A}\n", "X", "a");
	/* double quotes: escapes, then interpolation */
	EXPECT_DOTENV("A=a\nX=\"${A}\\t${A} # kept\"\n", "X", "a\ta # kept");
	/* a '$' that starts no variable is kept */
	EXPECT_DOTENV("X=cost 5$ or $1\n", "X", "cost 5$ or $1");
}

TEST(dotenv_interp_single_quotes_literal)
{
	EXPECT_DOTENV("A=a\nX='${A} $A $$'\n", "X", "${A} $A $$");
	EXPECT_DOTENV("X='${UNSET:?never checked}'\n", "X",
	              "${UNSET:?never checked}");
}

TEST(dotenv_interp_escaping)
{
	EXPECT_DOTENV("A=a\nX=$$A\n", "X", "$A");
	EXPECT_DOTENV("A=a\nX=\"$${A}\"\n", "X", "${A}");
	EXPECT_DOTENV("X=pa$$word\n", "X", "pa$word");
	EXPECT_DOTENV("A=a\nX=$$$A\n", "X", "$a");
}

TEST(dotenv_interp_errors)
{
	int line = 0, col = 0;
	char *got = dotenv_one("# header\nHOST=db\n  URL=${DB_PASSWORD:?set "
	                       "it in the CI secrets}\n",
	                       "URL", NULL, &line, &col);

	ASSERT_EQ_STR(got, "!value of 'URL': required variable 'DB_PASSWORD' "
	                   "is missing a value: set it in the CI secrets");
	ASSERT_EQ_INT(line, 3);
	ASSERT_EQ_INT(col, 7);
	free(got);
	got = dotenv_one("E=\nX=${E:?must not be empty}\n", "X", NULL, &line,
	                 &col);
	ASSERT_EQ_STR(got, "!value of 'X': required variable 'E' is missing "
	                   "a value: must not be empty");
	ASSERT_EQ_INT(line, 2);
	free(got);
	got = dotenv_one("A=1\nB=\"x ${A\"\n", "B", NULL, &line, &col);
	ASSERT_EQ_STR(got, "!value of 'B': invalid interpolation format in "
	                   "'x ${A' (escape '$' as '$$')");
	ASSERT_EQ_INT(line, 2);
	ASSERT_EQ_INT(col, 3);
	free(got);
	/* parse errors keep their location without interpolation too */
	got = dotenv_one("A=1\nexport  B C\n", "B", NULL, &line, &col);
	ASSERT_EQ_STR(got, "!expected '=' after the name");
	ASSERT_EQ_INT(line, 2);
	ASSERT_EQ_INT(col, 11);
	free(got);
}

TEST(dotenv_interp_warnings)
{
	struct strvec w = STRVEC_INIT;
	char *got = dotenv_one("A=$NOPE\nB=${NOPE}x${ALSO}\nC=${NOPE:-d}\n"
	                       "D='$NOPE'\n",
	                       "B", &w, NULL, NULL);

	ASSERT_EQ_STR(got, "x");
	ASSERT_EQ_INT(w.n, 3);
	ASSERT_EQ_STR(w.v[0], "1:3: variable 'NOPE' is not set, using an "
	                      "empty string");
	ASSERT_EQ_STR(w.v[1], "2:3: variable 'NOPE' is not set, using an "
	                      "empty string");
	ASSERT_EQ_STR(w.v[2], "2:3: variable 'ALSO' is not set, using an "
	                      "empty string");
	free(got);
	strvec_clear(&w);
}

/* Values that double at every line cannot make the file cost gigabytes. */
TEST(dotenv_interp_bounded)
{
	struct buf text = BUF_INIT;
	struct strvec w = STRVEC_INIT;
	int line = 0;
	char *got;

	buf_addstr(&text, "V0=0123456789abcdef\n");
	for (int i = 1; i < 40; i++)
		buf_addf(&text, "V%d=${V%d}${V%d}\n", i, i - 1, i - 1);
	got = dotenv_one(text.data, "V39", NULL, &line, NULL);
	ASSERT_EQ_STR(got, "!value of 'V18': the values of the file are "
	                   "longer than 4194304 bytes (4 MiB) once "
	                   "interpolated");
	ASSERT_EQ_INT(line, 19);
	free(got);
	/* many unset names: warnings are capped, and it stays linear */
	buf_reset(&text);
	for (int i = 0; i < 20000; i++)
		buf_addf(&text, "K%d=$U%d\n", i, i);
	got = dotenv_one(text.data, "K0", &w, NULL, NULL);
	ASSERT_EQ_STR(got, "");
	ASSERT_EQ_INT(w.n, 101);
	ASSERT_CONTAINS(w.v[100], "more than 100 warnings");
	free(got);
	strvec_clear(&w);
	buf_release(&text);
}

int main(void)
{
	RUN(plain_text);
	RUN(simple_forms);
	RUN(escapes_and_literals);
	RUN(defaults);
	RUN(nested_defaults);
	RUN(replacements);
	RUN(required);
	RUN(invalid);
	RUN(unset_reported_once);
	RUN(deep_nesting_bounded);
	RUN(shell_words);
	RUN(dotenv);
	RUN(dotenv_errors);
	RUN(dotenv_interp_earlier_lines);
	RUN(dotenv_interp_environment_wins);
	RUN(dotenv_interp_defaults_and_forms);
	RUN(dotenv_interp_single_quotes_literal);
	RUN(dotenv_interp_escaping);
	RUN(dotenv_interp_errors);
	RUN(dotenv_interp_warnings);
	RUN(dotenv_interp_bounded);
	return harness_done();
}
