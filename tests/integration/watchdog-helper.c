/*
 * watchdog-helper.c: a stand-in for `orchestrate up` in the watchdog
 * tests. It arms the watchdog for a run, creates labelled objects the way
 * `up` does (owner labels of this process), prints "ready", then:
 *
 *   kill      waits to be killed (the test sends SIGKILL)
 *   release   releases the watchdog and exits: the objects stay
 *   exit      exits without releasing: the watchdog removes the run
 *
 * usage: watchdog-helper PROJECT RUN_ID kill|release|exit
 * Prints "watchdog PID" first. Exit 3 when the engine does not answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_ops.h"
#include "error.h"
#include "labels.h"
#include "util.h"
#include "watchdog.h"

static int create_objects(struct engine *e, const char *project,
                          const char *run_id)
{
	struct run_owner me;
	struct engine_label labels[3 + RUN_OWNER_NLABELS] = {
		{ LABEL_PROJECT, project },
		{ LABEL_RUN_ID, run_id },
		{ LABEL_ROLE, ROLE_SERVICE },
	};
	char *const cmd[] = { "sleep", "3600", NULL };
	char *net = NULL, *name = NULL, *id = NULL;
	size_t nl = 3;
	int rc;

	/* the owner labels as `up` writes them (env.c, run_labels()) */
	run_owner_self(&me);
	nl += run_owner_labels(&me, labels + nl);

	name = xasprintf("%s-%s-net", project, run_id);
	rc = engine_network_create(e, name, labels, nl, &net);
	free(name);
	if (rc)
		goto out;
	name = xasprintf("%s-%s-data", project, run_id);
	rc = engine_volume_create(e, name, labels, nl, NULL);
	free(name);
	if (rc)
		goto out;
	for (int i = 0; i < 2; i++) {
		struct engine_container_spec s = { 0 };

		name = xasprintf("%s-%s-svc%d", project, run_id, i);
		s.name = name;
		s.image = "local/busybox";
		s.cmd = cmd;
		s.labels = labels;
		s.nlabels = nl;
		s.network = net;
		s.stop_timeout_s = -1;
		rc = engine_container_create(e, &s, &id);
		free(name);
		if (rc == 0)
			rc = engine_container_start(e, id);
		free(id);
		id = NULL;
		if (rc)
			goto out;
	}
out:
	free(net);
	return rc;
}

int main(int argc, char **argv)
{
	struct engine *e = NULL;
	struct watchdog *w = NULL;
	int rc;

	if (argc != 4) {
		fputs("usage: watchdog-helper PROJECT RUN_ID "
		      "kill|release|exit\n",
		      stderr);
		return 2;
	}
	rc = engine_new(&e, NULL);
	if (rc == 0)
		rc = engine_connect(e);
	if (rc) {
		fprintf(stderr, "watchdog-helper: %s\n", orch_error_last());
		return 3;
	}
	/* armed before the first object exists, as `up` does */
	rc = watchdog_start(argv[1], argv[2], &w);
	if (rc) {
		fprintf(stderr, "watchdog-helper: %s\n", orch_error_last());
		return 1;
	}
	printf("watchdog %ld\n", (long)watchdog_pid(w));
	fflush(stdout);
	rc = create_objects(e, argv[1], argv[2]);
	if (rc) {
		fprintf(stderr, "watchdog-helper: %s\n", orch_error_last());
		return 1; /* the watchdog removes what was created */
	}
	printf("ready\n");
	fflush(stdout);
	if (!strcmp(argv[3], "release")) {
		watchdog_release(w);
	} else if (!strcmp(argv[3], "kill")) {
		for (;;)
			pause();
	}
	if (!strcmp(argv[3], "exit")) {
		/* the lease closes with the process; no clean-up of ours
		 * runs, as after a crash (nor LeakSanitizer's report on w) */
		engine_free(e);
		_exit(0);
	}
	engine_free(e);
	return 0;
}
