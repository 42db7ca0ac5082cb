#!/usr/bin/env bash
# Compose's post_start hooks run while the rest of the environment goes
# on: a service whose hook takes seconds does not hold back another
# whose readiness needs several steps meanwhile (a dependency's health
# check, then its own start); its dependents wait for the hook. A failing
# hook fails `up` naming the service, the hook, its status and its last
# line; a container that exits while its hook runs fails with its exit
# code, and the teardown still runs the pre_stop hooks of a container
# whose post_start hooks it cut short. SIGINT during a hook ends `up` at
# once. Nothing is left behind.
. "$(dirname "$0")/life-lib.sh"
cd "$WORK" || exit 1

cat >orchestrate.yaml <<'YAML'
services:
  slow:
    image: local/busybox
    command: [sleep, "300"]
    post_start:
      - command: [sh, -c, 'echo one >> /tmp/hooks']
      - command: [sh, -c, 'sleep 6; echo two >> /tmp/hooks']
  after-slow:
    image: local/busybox
    command: [sleep, "300"]
    depends_on:
      slow: {condition: service_started}
  base:
    image: local/busybox
    command: [sleep, "300"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  quick:
    image: local/busybox
    command: [sleep, "300"]
    depends_on:
      base: {condition: service_healthy}
YAML

"$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
[ $rc = 0 ] && ok "up: exit 0" || fail "up: exit $rc"
ready_at() { sed -n "s/^$1 *ready in \([0-9.]*\)s.*/\1/p" up.out; }
slow=$(ready_at slow) quick=$(ready_at quick) after=$(ready_at after-slow)
if [ -n "$slow" ] && [ -n "$quick" ] && [ -n "$after" ]; then
	check "$quick < $slow" &&
		ok "quick ready (${quick}s) while slow's hook ran (slow ready ${slow}s)" ||
		fail "quick ready at ${quick}s, not before slow (${slow}s): the hook held the run"
	check "$after >= $slow" &&
		ok "after-slow (${after}s) started once slow's hooks passed (${slow}s)" ||
		fail "after-slow ready at ${after}s, before slow (${slow}s)"
else
	fail "no ready times in up's output"
fi
[ "$(docker exec "$(container_of slow)" cat /tmp/hooks 2>&1 | tr '\n' ' ')" = "one two " ] &&
	ok "both hooks ran, in order" ||
	fail "hooks: $(docker exec "$(container_of slow)" cat /tmp/hooks 2>&1)"
[ "$FAILED" = 0 ] || { show up.out; show up.err; }
down_and_check "after up"

# a failing hook fails the service, and up
cat >orchestrate.yaml <<'YAML'
services:
  bad:
    image: local/busybox
    command: [sleep, "300"]
    post_start:
      - command: [sh, -c, 'echo cannot seed the cache; exit 4']
  fine:
    image: local/busybox
    command: [sleep, "300"]
YAML
"$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
[ $rc != 0 ] && ok "a failing post_start hook: up exits $rc" ||
	fail "a failing post_start hook: up exits 0"
grep -q "bad.*post_start hook 'sh' exited 4: cannot seed the cache" up.out up.err &&
	ok "the failure names the service, the hook, its status and last line" ||
	{ fail "no message for the failing hook"; show up.out; show up.err; }
assert_nothing_left "after the failing hook"

# a service that fails while another's hook runs: the teardown runs the
# pre_stop hooks of that one too (its container runs); a container that
# exits while its own hook runs fails with its exit code
cat >orchestrate.yaml <<'YAML'
services:
  hooked:
    image: local/busybox
    command: [sleep, "300"]
    post_start:
      - command: [sleep, "60"]
    pre_stop:
      - command: [sh, -c, 'echo flushing; exit 3']
  short:
    image: local/busybox
    command: [sh, -c, 'sleep 2; exit 5']
    post_start:
      - command: [sleep, "30"]
YAML
t0=$(now)
"$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
t1=$(now)
[ $rc != 0 ] && ok "a service exiting during its hook: up exits $rc" ||
	fail "a service exiting during its hook: up exits 0"
grep -q "short.*exited with code 5 during start-up" up.out up.err &&
	ok "its failure is its exit code, not its hook's" ||
	fail "no 'exited with code 5' for short"
check "$t1 - $t0 < 25" && ok "up ended $(calc "$t1 - $t0")s after it began" ||
	fail "up took $(calc "$t1 - $t0")s: it waited for the hook"
grep -q "warning: service 'hooked': pre_stop hook 'sh' exited 3: flushing" up.err &&
	ok "pre_stop ran in the container whose post_start was cut short" ||
	fail "no pre_stop warning for hooked"
[ "$FAILED" = 0 ] || { show up.out; show up.err; }
assert_nothing_left "after the failure during a hook"

# SIGINT while a hook runs
cat >orchestrate.yaml <<'YAML'
services:
  stuck:
    image: local/busybox
    command: [sleep, "300"]
    post_start:
      - command: [sleep, "120"]
YAML
"$ORCH" -p "$PROJECT" up >up.out 2>up.err &
pid=$!
for _ in $(seq 100); do
	docker exec "$(container_of stuck)" ps 2>/dev/null | grep -q "sleep 120" && break
	sleep 0.2
done
t0=$(now)
kill -INT $pid
wait $pid
rc=$?
t1=$(now)
[ $rc = 130 ] && ok "SIGINT during a hook: exit 130" || fail "SIGINT during a hook: exit $rc"
check "$t1 - $t0 < 15" && ok "up ended $(calc "$t1 - $t0")s after SIGINT" ||
	fail "up ended $(calc "$t1 - $t0")s after SIGINT"
[ "$FAILED" = 0 ] || { show up.out; show up.err; }
assert_nothing_left "after SIGINT"
finish
