#!/usr/bin/env bash
# A pre_stop hook (Compose) runs in the container before the teardown of
# `orchestrate test` removes it; one that fails does not keep the
# container, and is said as a warning naming the service, the hook, its
# exit status and its last line.
. "$(dirname "$0")/life-lib.sh"

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  good:
    image: local/busybox
    command: [sleep, "300"]
    pre_stop:
      - command: [sh, -c, 'echo stopping > /tmp/hook-ran']
  bad:
    image: local/busybox
    command: [sleep, "300"]
    pre_stop:
      - command: [sh, -c, 'echo cannot flush the queue; exit 3']
suites:
  smoke:
    targets: [good, bad]
    host: true
    command: ["true"]
YAML

cd "$WORK"
"$ORCH" -p "$PROJECT" test --report-dir rep >test.out 2>test.err
rc=$?
[ $rc = 0 ] && ok "test: exit 0 (a failing pre_stop hook does not fail it)" ||
	fail "test: exit $rc"
grep -q "warning: service 'bad': pre_stop hook 'sh' exited 3: cannot flush the queue" test.err &&
	ok "the failing hook is a warning naming the service, the hook, its status and last line" ||
	fail "no warning for the failing pre_stop hook"
! grep -q "service 'good'" test.err &&
	ok "no warning for the hook that passed" ||
	fail "a warning for the hook that passed"
[ "$FAILED" = 0 ] || { show test.out; show test.err; }
assert_nothing_left "after test"
finish
