#!/usr/bin/env bash
# A service that exits during start-up fails `up` at once -- long before
# its 60 s readiness timeout -- with exit status 3, its exit code and its
# last log lines; a dependent never starts; nothing is left behind. The
# same for a service whose healthcheck turns unhealthy.
. "$(dirname "$0")/life-lib.sh"

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  crash:
    image: local/busybox
    command: ["sh", "-c", "echo first-words; echo last-words >&2; sleep 1; exit 7"]
    ready:
      tcp: 5432
      timeout: 60s
  after:
    image: local/busybox
    command: ["sleep", "3600"]
    depends_on:
      crash: {condition: service_healthy}
YAML

cd "$WORK"
t0=$(now)
"$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
t1=$(now)
[ $rc = 3 ] && ok "exit status 3" || fail "exit status $rc, expected 3"
check "$t1 - $t0 < 30" && ok "failed after $(calc "$t1 - $t0")s, not at the 60 s timeout" ||
	fail "took $(calc "$t1 - $t0")s"
grep -q "service 'crash': exited with code 7 during start-up" up.err &&
	ok "reason names the service and exit code" || fail "no reason"
grep -q '^crash | first-words$' up.err && grep -q '^crash | last-words$' up.err &&
	ok "last log lines shown" || fail "no log lines"
grep -q 'after  *started' up.err && fail "the dependent was started" || ok "dependent not started"
[ "$FAILED" = 0 ] || { show up.out; show up.err; }
assert_nothing_left "after the failed up"

# a healthcheck that fails: unhealthy as soon as the engine says so (one
# retry), with the check's output -- not at the 60 s timeout
cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  sick:
    image: local/busybox
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD-SHELL", "echo sick-output; exit 1"]
      interval: 1s
      retries: 1
    ready: {timeout: 60s}
YAML
t0=$(now)
"$ORCH" -p "$PROJECT" up >up2.out 2>up2.err
rc=$?
t1=$(now)
[ $rc = 3 ] && ok "unhealthy: exit status 3" || fail "unhealthy: exit status $rc"
check "$t1 - $t0 < 30" && ok "unhealthy: failed after $(calc "$t1 - $t0")s" ||
	fail "unhealthy: took $(calc "$t1 - $t0")s"
grep -q "service 'sick': unhealthy: sick-output" up2.err &&
	ok "unhealthy: reason with the check's output" || { fail "unhealthy: reason"; show up2.err; }
assert_nothing_left "after the unhealthy up"

# a service without a readiness check that exits right after its start:
# it counted as ready at its start, and `up` must not report success for
# a dead service (issue 14)
cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  quick:
    image: local/busybox
    command: ["sh", "-c", "echo gone; exit 4"]
  stays:
    image: local/busybox
    command: ["sleep", "3600"]
YAML
"$ORCH" -p "$PROJECT" up >up3.out 2>up3.err
rc=$?
[ $rc = 3 ] && ok "exits at once, unchecked: exit status 3" ||
	{ fail "exits at once, unchecked: exit status $rc"; show up3.out; show up3.err; }
grep -q "service 'quick': exited with code 4" up3.err &&
	ok "exits at once, unchecked: the reason names it" || { fail "no reason"; show up3.err; }
assert_nothing_left "after the up of a service that exited at once"

# OOM: a memory limit is not in the manifest, so the OOM case is covered
# by the same path (the oom event marks it; see env.c check_started()).
finish
