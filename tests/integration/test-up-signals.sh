#!/usr/bin/env bash
# SIGINT, SIGTERM and SIGHUP during `up` (while a service waits to become
# ready, and early, while objects are being created): up stops waiting,
# removes everything of its run and exits 130 (SIGINT) or 143 (SIGTERM,
# SIGHUP), within a bounded time.
. "$(dirname "$0")/life-lib.sh"

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  slow:
    image: local/busybox
    command: ["sleep", "3600"]
    ready:
      exec: ["test", "-f", "/tmp/never"]
      timeout: 120s
  waiting:
    image: local/busybox
    command: ["sleep", "3600"]
    depends_on: {slow: {condition: service_healthy}}
YAML

cd "$WORK"
for sig in INT TERM HUP; do
	case $sig in INT) want=130 ;; *) want=143 ;; esac
	"$ORCH" -p "$PROJECT" up >"up-$sig.out" 2>"up-$sig.err" &
	pid=$!
	# wait until the service runs and up waits for readiness
	for _ in $(seq 600); do
		grep -q 'slow  *started' "up-$sig.err" 2>/dev/null && break
		sleep 0.1
	done
	grep -q 'slow  *started' "up-$sig.err" || fail "SIG$sig: slow never started"
	t0=$(now)
	kill -s "$sig" $pid
	wait $pid
	rc=$?
	t1=$(now)
	[ $rc = $want ] && ok "SIG$sig: exit status $rc" ||
		{ fail "SIG$sig: exit status $rc, expected $want"; show "up-$sig.err"; }
	check "$t1 - $t0 < 20" && ok "SIG$sig: gone in $(calc "$t1 - $t0")s" || fail "SIG$sig: took $(calc "$t1 - $t0")s"
	grep -q "interrupted by SIG$sig" "up-$sig.err" && ok "SIG$sig: said so" || fail "SIG$sig: no message"
	assert_nothing_left "after SIG$sig"
done

# early: while the network and containers are being created (calls in
# flight are let finish, then everything is removed)
for delay in 0.3 0.6; do
	"$ORCH" -p "$PROJECT" up >up-early.out 2>up-early.err &
	pid=$!
	sleep $delay
	kill -s TERM $pid
	wait $pid
	rc=$?
	[ $rc = 143 ] && ok "SIGTERM after ${delay}s: exit status 143" ||
		{ fail "SIGTERM after ${delay}s: exit status $rc"; show up-early.err; }
	assert_nothing_left "after SIGTERM after ${delay}s"
done

# a second signal exits at once; the watchdog removes the run
"$ORCH" -p "$PROJECT" up >up-twice.out 2>up-twice.err &
pid=$!
for _ in $(seq 600); do
	grep -q 'slow  *started' up-twice.err 2>/dev/null && break
	sleep 0.1
done
kill -s INT $pid
sleep 0.05
kill -s INT $pid
wait $pid
rc=$?
[ $rc = 130 ] && ok "second SIGINT: exit status 130" || fail "second SIGINT: exit status $rc"
for _ in $(seq 60); do
	[ "$(leftovers)" = "0 0 0 0" ] && break
	sleep 0.5
done
assert_nothing_left "after the watchdog"
finish
