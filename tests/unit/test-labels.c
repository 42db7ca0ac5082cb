/* test-labels.c: run ids, owner liveness and project names. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
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
	const char *why = "unset";

	ASSERT_EQ_INT(run_owner_self(&o), 0);
	ASSERT(o.start > 0);
	/* where a pid means something: namespace and boot are known */
	ASSERT(o.pidns[0] && strspn(o.pidns, "0123456789") == strlen(o.pidns));
	ASSERT_EQ_INT(strlen(o.boot), 36);
	ASSERT_EQ_INT(run_owner_check(&o, &why), OWNER_ALIVE);
	ASSERT_EQ_INT(run_owner_check(&o, NULL), OWNER_ALIVE);
}

/* An owner as labels of this namespace and boot would give it. */
static void owner_of(struct run_owner *o, long pid, unsigned long long start)
{
	struct run_owner self;
	char p[32], s[32];

	run_owner_self(&self);
	snprintf(p, sizeof(p), "%ld", pid);
	snprintf(s, sizeof(s), "%llu", start);
	run_owner_parse(o, self.host, p, s, self.pidns, self.boot);
}

TEST(dead_child_is_gone)
{
	struct run_owner o, parsed;
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	ASSERT(child > 0);
	run_owner_self(&o);
	waitpid(child, NULL, 0);
	owner_of(&parsed, child, o.start);
	ASSERT_EQ_INT(run_owner_check(&parsed, NULL), OWNER_GONE);
}

TEST(reused_pid_is_gone)
{
	struct run_owner o;

	run_owner_self(&o);
	o.start += 12345;
	ASSERT_EQ_INT(run_owner_check(&o, NULL), OWNER_GONE);
}

TEST(labels_round_trip)
{
	struct run_owner o, back;
	struct engine_label l[RUN_OWNER_NLABELS];
	const char *v[RUN_OWNER_NLABELS] = { NULL };
	static const char *const keys[] = { LABEL_OWNER_HOST, LABEL_OWNER_PID,
		                            LABEL_OWNER_START,
		                            LABEL_OWNER_PIDNS,
		                            LABEL_OWNER_BOOT };
	size_t n;

	run_owner_self(&o);
	n = run_owner_labels(&o, l);
	ASSERT_EQ_INT(n, RUN_OWNER_NLABELS);
	for (size_t i = 0; i < n; i++) {
		ASSERT_EQ_STR(l[i].key, keys[i]);
		v[i] = l[i].value;
	}
	ASSERT_EQ_INT(run_owner_parse(&back, v[0], v[1], v[2], v[3], v[4]), 0);
	ASSERT_EQ_STR(back.host, o.host);
	ASSERT_EQ_INT(back.pid, o.pid);
	ASSERT(back.start == o.start);
	ASSERT_EQ_STR(back.pidns, o.pidns);
	ASSERT_EQ_STR(back.boot, o.boot);
	ASSERT_EQ_INT(run_owner_check(&back, NULL), OWNER_ALIVE);
	/* what is not known is not written */
	o.pidns[0] = o.boot[0] = '\0';
	ASSERT_EQ_INT(run_owner_labels(&o, l), 3);
}

TEST(cannot_tell_elsewhere)
{
	struct run_owner o;
	const char *why = NULL;
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	ASSERT(child > 0);
	waitpid(child, NULL, 0);

	/* another host: never judged */
	ASSERT_EQ_INT(
	        run_owner_parse(&o, "elsewhere.invalid", "1", "1", "1", "b"),
	        0);
	ASSERT_EQ_INT(run_owner_check(&o, &why), OWNER_UNKNOWN);
	ASSERT_EQ_STR(why, "runs on another host");

	/* another PID namespace: that pid means nothing here, dead or
	 * alive in ours (issue 14: gc removed a running `up`) */
	owner_of(&o, child, 1);
	snprintf(o.pidns, sizeof(o.pidns), "4026599999");
	ASSERT_EQ_INT(run_owner_check(&o, &why), OWNER_UNKNOWN);
	ASSERT_EQ_STR(why, "is in another PID namespace");
	owner_of(&o, 1, 1);
	snprintf(o.pidns, sizeof(o.pidns), "4026599999");
	ASSERT_EQ_INT(run_owner_check(&o, NULL), OWNER_UNKNOWN);

	/* another boot (a reboot, or another machine of that name): even
	 * our own pid and start time are someone else's */
	run_owner_self(&o);
	snprintf(o.boot, sizeof(o.boot),
	         "00000000-0000-0000-0000-000000000000");
	ASSERT_EQ_INT(run_owner_check(&o, &why), OWNER_UNKNOWN);
	ASSERT_CONTAINS(why, "reboot");

	/* labels of an older version (no namespace): a dead pid may be
	 * another namespace's live one, a live match is trusted */
	owner_of(&o, child, 1);
	o.pidns[0] = o.boot[0] = '\0';
	ASSERT_EQ_INT(run_owner_check(&o, &why), OWNER_UNKNOWN);
	ASSERT_CONTAINS(why, "no PID namespace label");
	run_owner_self(&o);
	o.pidns[0] = o.boot[0] = '\0';
	ASSERT_EQ_INT(run_owner_check(&o, NULL), OWNER_ALIVE);

	ASSERT(run_owner_parse(&o, "h", "x", NULL, NULL, NULL) != 0);
	ASSERT(run_owner_parse(&o, NULL, "1", NULL, NULL, NULL) != 0);
}

/*
 * A real process in a new PID namespace (CAP_SYS_ADMIN, or a user
 * namespace where the kernel allows them; skipped when neither is
 * possible): its owner, as it writes it into labels, cannot be judged
 * from here.
 */
TEST(real_pid_namespace)
{
	struct run_owner o;
	int p[2], status;
	pid_t child;

	ASSERT_EQ_INT(pipe(p), 0);
	child = fork();
	if (child == 0) {
		pid_t inner;

		close(p[0]);
		/* without the privilege, in a user namespace of our own */
		if (unshare(CLONE_NEWPID) &&
		    unshare(CLONE_NEWUSER | CLONE_NEWPID))
			_exit(77);
		inner = fork();
		if (inner == 0) {
			struct run_owner me;

			run_owner_self(&me);
			_exit(write(p[1], &me, sizeof(me)) == sizeof(me) ? 0
			                                                 : 1);
		}
		waitpid(inner, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
	}
	close(p[1]);
	memset(&o, 0, sizeof(o));
	if (read(p[0], &o, sizeof(o)) != sizeof(o))
		o.pid = 0;
	close(p[0]);
	waitpid(child, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		printf("# skipped: unshare(CLONE_NEWPID) not permitted\n");
		return;
	}
	ASSERT_EQ_INT(o.pid, 1); /* the first process of its namespace */
	ASSERT(o.pidns[0]);
	/* still there or not, it cannot be judged from here */
	ASSERT_EQ_INT(run_owner_check(&o, NULL), OWNER_UNKNOWN);
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
	RUN(labels_round_trip);
	RUN(cannot_tell_elsewhere);
	RUN(real_pid_namespace);
	RUN(project_names);
	return harness_done();
}
