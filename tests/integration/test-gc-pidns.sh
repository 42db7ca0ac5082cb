#!/usr/bin/env bash
# test-gc-pidns.sh: a run whose owner lives in another PID namespace of
# this host (`unshare --pid`, a CI job in a container sharing the host's
# engine and hostname) cannot be judged from here: its pid means nothing
# in our namespace. gc and the stale sweep of the next `up` leave it
# alone, gc and status say so, and only gc --force removes it (issue 14).
# So is a run labelled by an older version, without a PID namespace.
. "$(dirname "$0")/cleanup-lib.sh"

P=$PROJECT
export ORCHESTRATE_GATE_DIR=$TMP/gates
export ORCHESTRATE_WATCHDOG_LOG=$TMP/watchdog.log

# wait_for FILE LINE SECONDS: until FILE has a line starting with LINE
wait_for() {
	local end=$(($(date +%s) + $3))
	while [ "$(date +%s)" -lt $end ]; do
		grep -q "^$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# The owner: a process in a new PID namespace (there it is pid 1) that
# creates a labelled run and waits. Its own process group, so that the
# end of the test can kill it whatever happens.
# Without CAP_SYS_ADMIN a user namespace of our own makes one (the
# engine's socket is still reached with our own credentials).
NS=(unshare --pid --fork --mount-proc)
if ! "${NS[@]}" true 2>/dev/null; then
	NS=(unshare --user --map-root-user --pid --fork --mount-proc)
	"${NS[@]}" true || { echo "FAIL: cannot make a PID namespace here"; exit 1; }
fi
setsid "${NS[@]}" "$WATCHDOG_HELPER" $P ns kill >"$TMP/owner.out" 2>&1 &
holder=$!
stop_holder() {
	kill -KILL -- -$holder 2>/dev/null
	wait $holder 2>/dev/null
}
trap 'stop_holder; cleanup' EXIT

check "the owner in another PID namespace created its run" \
	wait_for "$TMP/owner.out" ready 30
sed 's/^/# /' "$TMP/owner.out"
check "the run is there" [ "$(count $P ns)" -eq 4 ]
echo "# our PID namespace $(readlink /proc/self/ns/pid), the owner's: $(
	readlink /proc/$(pgrep -P $holder | head -n 1)/ns/pid)"

orch -p $P status
check "status names the run's state" \
	grep -q "^run ns (unknown: owner pid 1 is in another PID namespace)" <<<"$OUT"

# the stale sweep of the next `up` of the project
cat >"$TMP/orchestrate.yaml" <<YAML
name: $P
services:
  one:
    image: local/busybox
    command: ["sleep", "3600"]
YAML
orch up
check "up of the project succeeds" [ $RC -eq 0 ]
check "up's stale sweep leaves the run alone" [ "$(count $P ns)" -eq 4 ]
rm -f "$TMP/orchestrate.yaml"

# a run of a dead owner of ours beside it: gc still removes that one
dead=$(dead_pid)
docker run -d $(labels $P dead service $dead) --name $P-dead-db local/busybox sleep 3600 >/dev/null

# a run labelled by an older version (no PID namespace, no boot id) whose
# pid is not running here: it may be another namespace's, so it is left
# alone too
docker run -d --label ${LP}project=$P --label ${LP}run-id=old \
	--label ${LP}role=service --label ${LP}owner.host=$(hostname) \
	--label ${LP}owner.pid=$dead --label ${LP}owner.start=1 \
	--name $P-old-db local/busybox sleep 3600 >/dev/null

orch gc --project $P
check "gc exits 0" [ $RC -eq 0 ]
check "gc leaves the older version's run alone" [ "$(count $P old)" -eq 1 ]
check "and says why" \
	grep -q "^left alone: run 'old' of project '$P': owner pid $dead on '$(hostname)' has no PID namespace label" <<<"$OUT"
check "gc leaves the other namespace's run alone" [ "$(count $P ns)" -eq 4 ]
check "gc removes the dead owner's run" [ "$(count $P dead)" -eq 0 ]
check "gc lists the run it cannot judge" \
	grep -q "^left alone: run 'ns' of project '$P': owner pid 1 on '$(hostname)' is in another PID namespace" <<<"$OUT"
check "gc says how to remove it" grep -q "gc --force removes it" <<<"$OUT"

orch gc --project $P --all
check "gc --all leaves it alone too" [ "$(count $P ns)" -eq 4 ]

orch gc --project $P --force
check "gc --force exits 0" [ $RC -eq 0 ]
check "gc --force removes the run" [ "$(count $P ns)" -eq 0 ]
check "gc --force removes the older version's run" [ "$(count $P old)" -eq 0 ]
check "gc --force says so" \
	grep -q "^removed run 'ns' of project '$P' (--force: owner pid 1 on '$(hostname)' is in another PID namespace): 2 containers, 1 network, 1 volume" <<<"$OUT"

orch down --project $P
check "down removes the kept run of up" [ $RC -eq 0 ]
check "nothing of the project is left" [ "$(count $P)" -eq 0 ]
finish
