/*
 * harness.h: a tiny TAP test harness (libuv's task.h, redis's testhelp.h).
 *
 *   TEST(name) { ASSERT_EQ_INT(1 + 1, 2); }
 *   int main(void) { RUN(name); return harness_done(); }
 *
 * Each ASSERT prints both sides on failure and fails the current test;
 * harness_done() prints the plan and returns non-zero on any failure.
 */
#ifndef ORCH_HARNESS_H
#define ORCH_HARNESS_H

#include <stdio.h>
#include <string.h>

static int harness_tests, harness_failed, harness_cur_failed;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                              \
	do {                                                                   \
		harness_cur_failed = 0;                                        \
		test_##name();                                                 \
		harness_tests++;                                               \
		if (harness_cur_failed)                                        \
			harness_failed++;                                      \
		printf("%s %d - %s\n", harness_cur_failed ? "not ok" : "ok",   \
		       harness_tests, #name);                                  \
		fflush(stdout);                                                \
	} while (0)

#define FAIL_AT(...)                                                           \
	do {                                                                   \
		printf("# %s:%d: ", __FILE__, __LINE__);                       \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		harness_cur_failed = 1;                                        \
	} while (0)

#define ASSERT(cond)                                                           \
	do {                                                                   \
		if (!(cond)) {                                                 \
			FAIL_AT("assertion failed: %s", #cond);                \
			return;                                                \
		}                                                              \
	} while (0)

#define ASSERT_EQ_INT(a, b)                                                    \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_) {                                                \
			FAIL_AT("%s == %lld, expected %s == %lld", #a, a_, #b, \
			        b_);                                           \
			return;                                                \
		}                                                              \
	} while (0)

#define ASSERT_EQ_STR(a, b)                                                    \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (!a_ || !b_ || strcmp(a_, b_)) {                            \
			FAIL_AT("%s == \"%s\", expected \"%s\"", #a,           \
			        a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
			return;                                                \
		}                                                              \
	} while (0)

#define ASSERT_CONTAINS(hay, needle)                                           \
	do {                                                                   \
		const char *h_ = (hay), *n_ = (needle);                        \
		if (!h_ || !strstr(h_, n_)) {                                  \
			FAIL_AT("%s == \"%s\" lacks \"%s\"", #hay,             \
			        h_ ? h_ : "(null)", n_);                       \
			return;                                                \
		}                                                              \
	} while (0)

static inline int harness_done(void)
{
	printf("1..%d\n", harness_tests);
	return harness_failed ? 1 : 0;
}

#endif
