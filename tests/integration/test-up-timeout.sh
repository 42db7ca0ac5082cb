#!/usr/bin/env bash
# A service that never becomes ready fails `up` at its ready.timeout, with
# exit status 3 and a message naming the service, the timeout and the
# last probe failure; nothing is left behind.
. "$(dirname "$0")/life-lib.sh"

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  deaf:
    image: local/busybox
    command: ["sleep", "3600"]
    ready:
      exec: ["test", "-f", "/tmp/never"]
      timeout: 3s
YAML

cd "$WORK"
t0=$(now)
"$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
t1=$(now)
[ $rc = 3 ] && ok "exit status 3" || fail "exit status $rc, expected 3"
grep -q "service 'deaf': not ready after 3s: 'test -f /tmp/never' exited 1" up.err &&
	ok "message names service, timeout and probe" || fail "message"
check "$t1 - $t0 >= 3" && ok "waited the timeout" || fail "gave up after $(calc "$t1 - $t0")s"
[ "$FAILED" = 0 ] || { show up.out; show up.err; }
assert_nothing_left "after the timeout"
finish
