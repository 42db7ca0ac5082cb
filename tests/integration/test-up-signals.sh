#!/usr/bin/env bash
# SIGINT, SIGTERM and SIGHUP during `up` (while a service waits to become
# ready, early, while objects are being created, and during a pull that
# would take long): up stops waiting, removes everything of its run and
# exits 130 (SIGINT) or 143 (SIGTERM, SIGHUP), within a bounded time.
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

# during a pull from a registry that never answers: a listener on
# 127.0.0.1 (the engine's own loopback here) that accepts and says
# nothing, so the engine's TLS handshake alone would hold the pull 10 s,
# and its plain-http retry 15 s more. up drops the pull at once, removes
# the run and exits 143. (Docker 20.10 itself leaves its registry
# connection open until its own handshake timeout: its registry client
# does not see that our request went away; it does not go on to the
# retry. Stopping the listener ends it.)
python3 - "$WORK/registry.log" <<'PY' &
import socket, sys, threading, time
log = open(sys.argv[1], "a", buffering=1)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
log.write("port %d\n" % s.getsockname()[1])
def hold(c):
    log.write("accept %.3f\n" % time.time())
    while c.recv(4096):
        pass
    log.write("closed %.3f\n" % time.time())
while True:
    threading.Thread(target=hold, args=(s.accept()[0],), daemon=True).start()
PY
registry=$!
trap 'kill $registry 2>/dev/null' EXIT
for _ in $(seq 100); do
	grep -q '^port' "$WORK/registry.log" 2>/dev/null && break
	sleep 0.05
done
port=$(awk '/^port/ { print $2; exit }' "$WORK/registry.log")
mkdir -p "$WORK/pull"
cat >"$WORK/pull/orchestrate.yaml" <<YAML
services:
  web:
    image: 127.0.0.1:$port/orchestrate-test/never:1
YAML
"$ORCH" -f "$WORK/pull/orchestrate.yaml" -p "$PROJECT" up >up-pull.out 2>up-pull.err &
pid=$!
for _ in $(seq 300); do
	grep -q '^accept' "$WORK/registry.log" && break
	sleep 0.05
done
if grep -q '^accept' "$WORK/registry.log"; then
	sleep 0.2
	grep -q '^closed' "$WORK/registry.log" &&
		fail "the engine gave up on the registry before the signal"
	t0=$(now)
	kill -s TERM $pid
	wait $pid
	rc=$?
	t1=$(now)
	[ $rc = 143 ] && ok "SIGTERM during a pull: exit status 143" ||
		{ fail "SIGTERM during a pull: exit status $rc"; show up-pull.err; }
	check "$t1 - $t0 < 2" && ok "SIGTERM during a pull: gone in $(calc "$t1 - $t0")s" ||
		fail "SIGTERM during a pull: took $(calc "$t1 - $t0")s"
	grep -q "interrupted by SIGTERM" up-pull.err &&
		! grep -q "could not be pulled" up-pull.err &&
		ok "SIGTERM during a pull: said so, not as a failed pull" ||
		{ fail "SIGTERM during a pull: message"; show up-pull.err; }
else
	fail "the engine never contacted the registry"
	kill -s KILL $pid
	wait $pid
fi
assert_nothing_left "after SIGTERM during a pull"
kill $registry 2>/dev/null

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
