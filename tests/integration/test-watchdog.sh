#!/usr/bin/env bash
# test-watchdog.sh: after SIGKILL of the process that owns a run (and of
# its whole process group), the watchdog removes the run within seconds
# and exits; a released watchdog exits and removes nothing; the watchdog
# holds none of its parent's descriptors (a harness capturing our output
# would otherwise wait for it).
. "$(dirname "$0")/cleanup-lib.sh"

P=$PROJECT

# wait_for FILE LINE SECONDS: until FILE has a line starting with LINE
wait_for() {
	local end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt $end ]; do
		grep -q "^$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

gone() { # gone PID: no process, or a zombie nobody reaped yet
	[ ! -e /proc/$1 ] || [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" = Z ]
}

# -- SIGKILL of the owner's whole process group --------------------------
setsid "$WATCHDOG_HELPER" $P r1 kill >"$TMP/out1" 2>&1 &
helper=$!
check "helper created its objects" wait_for "$TMP/out1" ready 30
cat "$TMP/out1" | sed 's/^/# /'
wd=$(awk '/^watchdog/ {print $2}' "$TMP/out1")
check "watchdog pid reported" [ -n "$wd" ]
check "run is there" [ "$(count $P r1)" -eq 4 ]
check "watchdog is not the helper's child" \
	[ "$(awk '{print $4}' /proc/$wd/stat)" != "$helper" ]
check "watchdog has its own session" \
	[ "$(awk '{print $6}' /proc/$wd/stat)" != "$(awk '{print $6}' /proc/$helper/stat)" ]
fds=$(ls /proc/$wd/fd | sort -n | tr '\n' ' ')
echo "# watchdog fds: $fds"
lease=$(ls /proc/$wd/fd | grep -vx '[012]')
check "watchdog holds only 0-2 and the lease" [ "$(wc -w <<<"$lease")" -eq 1 ]
for fd in 0 1; do
	check "watchdog fd $fd is /dev/null" [ "$(readlink /proc/$wd/fd/$fd)" = /dev/null ]
done
check "watchdog fd 2 is not our output" [ "$(readlink /proc/$wd/fd/2)" != "$(readlink /proc/$helper/fd/2)" ]
check "watchdog's lease is a pipe" grep -q '^pipe:' <<<"$(readlink /proc/$wd/fd/$lease)"
echo "# watchdog memory: $(grep -E 'VmRSS|RssAnon' /proc/$wd/status | tr -s ' \t' ' ' | tr '\n' ' ')"
anon=$(awk '/^RssAnon/ {print $2}' /proc/$wd/status)
check "watchdog is small (${anon} kB anonymous memory)" [ "${anon:-0}" -lt 16384 ]

t0=$(ms)
kill -KILL -- -$helper
wait $helper 2>/dev/null
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt $end ] && [ "$(count $P r1)" -ne 0 ]; do
	sleep 0.1
done
t1=$(ms)
check "run removed after SIGKILL ($((t1 - t0)) ms)" [ "$(count $P r1)" -eq 0 ]
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt $end ] && ! gone $wd; do
	sleep 0.1
done
check "watchdog exited" gone $wd

# -- released: the run stays, the watchdog exits --------------------------
out=$(timeout 60 "$WATCHDOG_HELPER" $P r2 release 2>&1)
rc=$?
check "released helper exits 0 and is not held by the watchdog" [ $rc -eq 0 ]
wd=$(awk '/^watchdog/ {print $2}' <<<"$out")
end=$(($(date +%s) + 10))
while [ "$(date +%s)" -lt $end ] && ! gone $wd; do
	sleep 0.05
done
check "released watchdog exited" gone $wd
sleep 1
check "released run is still there" [ "$(count $P r2)" -eq 4 ]

# -- exit without release: the owner is gone as surely as after SIGKILL --
t0=$(ms)
out=$(timeout 60 "$WATCHDOG_HELPER" $P r3 exit 2>&1)
rc=$?
t1=$(ms)
check "exiting helper exits 0, its output not held ($((t1 - t0)) ms)" [ $rc -eq 0 ]
end=$(($(date +%s) + 30))
while [ "$(date +%s)" -lt $end ] && [ "$(count $P r3)" -ne 0 ]; do
	sleep 0.1
done
check "run removed after the owner exited unreleased" [ "$(count $P r3)" -eq 0 ]

orch -p $P down
check "down removes the released run" [ "$OUT" = "removed 2 containers, 1 network, 1 volume" ]
finish
