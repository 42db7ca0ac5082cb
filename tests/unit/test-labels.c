/* test-labels.c: run ids and owner liveness. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "labels.h"

TEST(run_ids_differ)
{
	char a[RUN_ID_LEN + 1], b[RUN_ID_LEN + 1];

	run_id_new(a);
	run_id_new(b);
	ASSERT_EQ_INT(strlen(a), RUN_ID_LEN);
	ASSERT_EQ_INT(strspn(a, "0123456789abcdef"), RUN_ID_LEN);
	ASSERT(strcmp(a, b) != 0);
}

TEST(self_is_alive)
{
	struct run_owner o;

	ASSERT_EQ_INT(run_owner_self(&o), 0);
	ASSERT(o.start > 0);
	ASSERT(run_owner_alive(&o));
}

TEST(dead_child_is_gone)
{
	struct run_owner o, parsed;
	char pid[32], start[32];
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	ASSERT(child > 0);
	run_owner_self(&o);
	waitpid(child, NULL, 0);
	snprintf(pid, sizeof(pid), "%ld", (long)child);
	snprintf(start, sizeof(start), "%llu", o.start);
	ASSERT_EQ_INT(run_owner_parse(&parsed, o.host, pid, start), 0);
	ASSERT(!run_owner_alive(&parsed));
}

TEST(reused_pid_is_gone)
{
	struct run_owner o;

	run_owner_self(&o);
	o.start += 12345;
	ASSERT(!run_owner_alive(&o));
}

TEST(other_host_counts_as_alive)
{
	struct run_owner o;

	ASSERT_EQ_INT(run_owner_parse(&o, "elsewhere.invalid", "1", "1"), 0);
	ASSERT(run_owner_alive(&o));
	ASSERT(run_owner_parse(&o, "h", "x", NULL) != 0);
}

TEST(project_names)
{
	static const char *const good[] = { "shop", "a", "9lives", "my-app_2",
		                            "x-" };
	static const char *const bad[] = {
		"",   "Shop", "_x",          "-x",          "a b",  "x/y",
		"..", "a.b",  "x=y,label=z", "caf\xc3\xa9", "a\x1b"
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ASSERT(project_name_valid(good[i]));
		ASSERT_EQ_INT(project_name_check(good[i], "-p"), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT(!project_name_valid(bad[i]));
		ASSERT_EQ_INT(project_name_check(bad[i], "--project"),
		              ORCH_EINVALID);
	}
	ASSERT(!project_name_valid(NULL));
	project_name_check("Shop", "--project");
	ASSERT_EQ_STR(orch_error_last(),
	              "invalid project name 'Shop' from --project (lower case "
	              "letters, digits, '-' and '_', starting with a letter "
	              "or digit)");
}

int main(void)
{
	RUN(run_ids_differ);
	RUN(self_is_alive);
	RUN(dead_child_is_gone);
	RUN(reused_pid_is_gone);
	RUN(other_host_counts_as_alive);
	RUN(project_names);
	return harness_done();
}
