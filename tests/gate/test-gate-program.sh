#!/usr/bin/env bash
# The gate program (src/gate/gate.c) alone: it waits for its go file, then
# becomes the program (exit status and environment passed through); a
# missing program exits 127; SIGTERM while waiting exits at once; it is
# static (it runs in any image).
set -u
GATE=${1:?usage: $0 ORCHESTRATE_GATE}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FAILED=0
fail() { echo "FAIL: $*"; FAILED=1; }
ok() { echo "ok: $*"; }

# waits, then execs
"$GATE" "$T/go" -- sh -c 'echo ran >"$0"; exit 3' "$T/out" &
pid=$!
sleep 0.3
if kill -0 $pid 2>/dev/null && [ ! -e "$T/out" ]; then
	ok "held while the go file is missing"
else
	fail "did not wait"
fi
touch "$T/go"
wait $pid
rc=$?
[ "$rc" = 3 ] && [ "$(cat "$T/out" 2>/dev/null)" = ran ] &&
	ok "released: ran the program, its exit status passed through" ||
	fail "after release: rc $rc, out '$(cat "$T/out" 2>/dev/null)'"

# the process is the program itself (exec, not a child: PID 1 stays the
# service) with our environment
GATE_TEST_VAR=kept "$GATE" "$T/go" -- sh -c 'echo "$$ $GATE_TEST_VAR" >"$0"' "$T/pid" &
pid=$!
wait $pid
[ "$(cat "$T/pid")" = "$pid kept" ] && ok "exec'd in place, environment kept" ||
	fail "pid/environment: '$(cat "$T/pid")', gate pid $pid"

# missing programs: 127, as Docker
"$GATE" "$T/go" -- /no/such/program 2>"$T/err"
rc=$?
[ "$rc" = 127 ] && grep -q 'orchestrate-gate: exec /no/such/program' "$T/err" &&
	ok "missing path: 127 with a message" || fail "missing path: rc $rc: $(cat "$T/err")"
"$GATE" "$T/go" -- no-such-program-in-path 2>/dev/null
rc=$?
[ "$rc" = 127 ] && ok "missing in PATH: 127" || fail "missing in PATH: rc $rc"

# a program that cannot run fails at once, before any release (as Docker's
# start would), not after it
t0=$(date +%s%N)
"$GATE" "$T/never" -- no-such-program-in-path 2>"$T/err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 127 ] && [ $ms -lt 1000 ] && grep -q 'exec no-such-program-in-path: No such file' "$T/err" &&
	ok "missing program, not released: 127 at once (${ms} ms)" ||
	fail "missing program, not released: rc $rc after ${ms} ms: $(cat "$T/err")"
mkdir "$T/adir"
"$GATE" "$T/never" -- "$T/adir" 2>/dev/null
rc=$?
[ "$rc" = 126 ] && ok "a directory: 126 at once" || fail "a directory: rc $rc"
printf 'data\n' >"$T/notexec"
"$GATE" "$T/never" -- "$T/notexec" 2>/dev/null
rc=$?
[ "$rc" = 126 ] && ok "not executable: 126 at once" || fail "not executable: rc $rc"

# usage
"$GATE" "$T/go" sh 2>/dev/null
rc=$?
[ "$rc" = 125 ] && ok "usage: 125" || fail "usage: rc $rc"

# SIGTERM, SIGINT and the stop signals images name (nginx SIGQUIT, httpd
# SIGWINCH) while held: prompt exit
for sig in TERM INT QUIT WINCH; do
	"$GATE" "$T/never-$sig" -- true &
	pid=$!
	sleep 0.2
	t0=$(date +%s%N)
	kill -$sig $pid
	wait $pid
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	want=$((128 + $(kill -l $sig)))
	if [ "$rc" = "$want" ] && [ $ms -lt 1000 ]; then
		ok "SIG$sig while held: exit $rc in ${ms} ms"
	else
		fail "SIG$sig while held: exit $rc after ${ms} ms"
	fi
done

if command -v readelf >/dev/null; then
	readelf -l "$GATE" | grep -q 'program interpreter' &&
		fail "not static" || ok "static"
fi

[ $FAILED = 0 ] || exit 1
