#!/usr/bin/env bash
# test-watchdog-killed.sh: kill -9 of the watchdog itself while its run
# is alive (issue 14). The run is still removed by `up`'s own teardown
# when it fails and when it is interrupted, `up` exits as it would have,
# and a later gc finds nothing of the project. When the owner is then
# killed too, nothing of ours runs any more: gc removes the run (its owner
# is gone) and finds nothing after that.
. "$(dirname "$0")/cleanup-lib.sh"

P=$PROJECT
export ORCHESTRATE_GATE_DIR=$TMP/gates
export ORCHESTRATE_WATCHDOG_LOG=$TMP/watchdog.log
UP=

stop_up() {
	[ -n "$UP" ] && kill -KILL "$UP" 2>/dev/null
	wait 2>/dev/null
}
trap 'stop_up; cleanup' EXIT

# The watchdog of the orchestrate process $1: the other process of our
# binary that holds one of its pipes (the lease, watchdog.c).
watchdog_of() {
	local pipes p fd l
	pipes=$(for fd in /proc/$1/fd/*; do readlink "$fd"; done 2>/dev/null |
		grep '^pipe:' | sort -u)
	[ -n "$pipes" ] || return 1
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$1" ] && continue
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$ORCHESTRATE" ] || continue
		for fd in "$p"/fd/*; do
			l=$(readlink "$fd" 2>/dev/null) || continue
			if grep -qxF "$l" <<<"$pipes"; then
				echo "${p#/proc/}"
				return 0
			fi
		done
	done
	return 1
}

# start_up CASE: `up` in the background ($UP), its watchdog in $WD once
# the run exists
start_up() {
	local end=$(($(date +%s) + 30))
	(cd "$TMP" && exec env -u ORCHESTRATE_PROJECT -u ORCHESTRATE_FILE \
		"$ORCHESTRATE" -p $P up >"$TMP/$1.out" 2>"$TMP/$1.err") &
	UP=$!
	WD=
	while [ "$(date +%s)" -lt $end ]; do
		[ -z "$WD" ] && WD=$(watchdog_of $UP)
		[ -n "$WD" ] && [ "$(count $P)" -ge 2 ] && return 0
		sleep 0.1
	done
	return 1
}

gone() { # gone PID: no process, or a zombie nobody reaped yet
	[ ! -e /proc/$1 ] || [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" = Z ]
}

# -- a failing up: the container exits after a while --------------------
cat >"$TMP/orchestrate.yaml" <<'YAML'
services:
  flaky:
    image: local/busybox
    command: ["sh", "-c", "sleep 4; echo giving up; exit 1"]
    ready: {tcp: 5432, timeout: 60s}
YAML
check "up started its run and its watchdog" start_up fail
echo "# up $UP, watchdog ${WD:-?}, objects $(count $P)"
kill -KILL "$WD" 2>/dev/null
sleep 0.2
check "the watchdog is dead" gone "$WD"
wait $UP
rc=$?
UP=
sed 's/^/# /' "$TMP/fail.err"
check "up fails as it would have (exit 3, not $rc)" [ $rc -eq 3 ]
check "up names the service's failure" grep -q "service 'flaky': exited with code 1" "$TMP/fail.err"
check "up removed its run itself" [ "$(count $P)" -eq 0 ]
check "up reports no teardown failure" bash -c "! grep -q 'will finish' '$TMP/fail.err'"
orch gc --project $P
check "a later gc finds nothing" [ "$RC-$OUT" = "0-nothing to remove" ]

# -- an interrupted up: SIGINT during the wait ----------------------------
cat >"$TMP/orchestrate.yaml" <<'YAML'
services:
  slow:
    image: local/busybox
    command: ["sleep", "3600"]
    ready: {tcp: 5432, timeout: 60s}
YAML
check "up started its run and its watchdog" start_up int
echo "# up $UP, watchdog ${WD:-?}, objects $(count $P)"
kill -KILL "$WD" 2>/dev/null
sleep 0.2
check "the watchdog is dead" gone "$WD"
kill -INT $UP
wait $UP
rc=$?
UP=
sed 's/^/# /' "$TMP/int.err"
check "interrupted up exits 130 (not $rc)" [ $rc -eq 130 ]
check "up removed its run itself" [ "$(count $P)" -eq 0 ]
check "up reports no teardown failure" bash -c "! grep -q 'will finish' '$TMP/int.err'"
orch gc --project $P
check "a later gc finds nothing" [ "$RC-$OUT" = "0-nothing to remove" ]

# -- the watchdog killed, then its owner: gc is what is left -------------
# (watchdog-helper writes the owner labels as up does, labels.c)
setsid "$WATCHDOG_HELPER" $P both kill >"$TMP/both.out" 2>&1 &
UP=$!
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt $end ] && ! grep -q '^ready' "$TMP/both.out"; do
	sleep 0.05
done
WD=$(awk '/^watchdog/ {print $2}' "$TMP/both.out")
check "the helper's run is there" [ "$(count $P both)" -eq 4 ]
kill -KILL "$WD" 2>/dev/null
sleep 0.2
check "the watchdog is dead" gone "$WD"
kill -KILL -- -$UP
wait $UP 2>/dev/null
UP=
sleep 1
check "nothing removed the run" [ "$(count $P both)" -eq 4 ]
orch gc --project $P
check "gc removes the run of the dead owner" [ "$(count $P both)" -eq 0 ]
check "gc says so" grep -q "^removed run 'both' of project '$P' (owner pid [0-9]* gone): 2 containers, 1 network, 1 volume" <<<"$OUT"
orch gc --project $P
check "then gc finds nothing" [ "$RC-$OUT" = "0-nothing to remove" ]
finish
