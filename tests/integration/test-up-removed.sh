#!/usr/bin/env bash
# Objects of a run removed by someone else while `up` runs (issue 14, rows
# 51 and 53), on the real engine:
# - `orchestrate down` of the project from another shell while `up` waits
#   for readiness: `up` says its run was removed by another client
#   (interrupted), exits 3 -- an environment failure, not a crash, not a
#   signal's 130/143 --, reports no teardown failure, and nothing is left;
# - `docker rm -f` of one of its containers: the same;
# - `docker network rm` of the run's network while an image is still
#   being built (before any container is attached to it): the engine
#   creates the container anyway and its start fails naming the network
#   (by the id the run knows it by), exit 3, nothing left.
. "$(dirname "$0")/life-lib.sh"

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  slow:
    image: local/busybox
    command: ["sleep", "3600"]
    ready:
      exec: ["test", "-f", "/tmp/never"]
      timeout: 120s
  other:
    image: local/busybox
    command: ["sleep", "3600"]
YAML
cd "$WORK"

# start_up NAME: `up` in the background ($UP), once 'slow' started
start_up() {
	"$ORCH" -p "$PROJECT" up >"$1.out" 2>"$1.err" &
	UP=$!
	for _ in $(seq 600); do
		grep -q 'slow  *started' "$1.err" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1: slow never started"
	show "$1.err"
	return 1
}

# wait_up NAME: up's exit status in $RC, within 30 s
wait_up() {
	local end=$(($(date +%s) + 30))
	while kill -0 $UP 2>/dev/null && [ "$(date +%s)" -lt $end ]; do
		sleep 0.1
	done
	kill -0 $UP 2>/dev/null && { fail "$1: up still runs after 30 s"; kill -KILL $UP; }
	wait $UP
	RC=$?
}

removed_by_another() { # NAME SERVICE (a pattern: down removes them all)
	[ $RC = 3 ] && ok "$1: up exits 3" || { fail "$1: up exited $RC, expected 3"; show "$1.err"; }
	grep -q "service '$2': interrupted: its container was removed by another client" "$1.err" &&
		ok "$1: up says its run was removed by another client" ||
		{ fail "$1: message"; show "$1.err"; }
	grep -qi "crash\|assert\|segmentation\|will finish" "$1.err" &&
		{ fail "$1: a crash or a teardown failure"; show "$1.err"; } ||
		ok "$1: no crash, no teardown failure"
}

# -- row 51: `down` from another shell -----------------------------------
if start_up down; then
	"$ORCH" -p "$PROJECT" down >down-other.out 2>&1
	drc=$?
	[ $drc = 0 ] && ok "down from another shell: exit 0 ($(cat down-other.out))" ||
		{ fail "down from another shell: exit $drc"; show down-other.out; }
	wait_up down
	removed_by_another down "[a-z]*"
	assert_nothing_left "after down during up"
fi

# -- row 53: `docker rm -f` of a container ----------------------------------
if start_up rm; then
	docker rm -f "$(container_of slow)" >/dev/null
	wait_up rm
	removed_by_another rm slow
	assert_nothing_left "after docker rm -f during up"
fi

# -- row 53: `docker network rm` of the run's network ----------------------
# A build that takes a few seconds holds every container back, while the
# run's network exists already. A nonce defeats the build cache; the
# image is removed at the end.
mkdir -p "$WORK/img"
cat >"$WORK/img/Dockerfile" <<'EOF'
FROM local/busybox
ARG NONCE
RUN echo "$NONCE" && sleep 4
EOF
cat >"$WORK/build.yaml" <<YAML
services:
  built:
    build: {context: img, args: {NONCE: "$PROJECT"}}
    command: ["sleep", "3600"]
YAML
"$ORCH" -f build.yaml -p "$PROJECT" up >net.out 2>net.err &
UP=$!
net=
for _ in $(seq 300); do
	net=$(docker network ls -q --filter "$LABEL")
	[ -n "$net" ] && break
	sleep 0.05
done
if [ -n "$net" ]; then
	name=$(docker network inspect -f '{{.Name}}' "$net")
	docker network rm "$net" >/dev/null && ok "network $name removed while the image builds" ||
		fail "docker network rm $name"
	wait_up net
	[ $RC = 3 ] && ok "network removed: up exits 3" || { fail "network removed: up exited $RC"; show net.err; }
	grep -q "service 'built': .*: 404: network $net[0-9a-f]* not found" net.err &&
		ok "network removed: the service fails naming the network" ||
		{ fail "network removed: message"; show net.err; }
	grep -qi "crash\|assert\|segmentation\|will finish" net.err &&
		{ fail "network removed: a crash or a teardown failure"; show net.err; } ||
		ok "network removed: no crash, no teardown failure"
else
	fail "the run's network never appeared"
	kill $UP
	wait $UP
fi
assert_nothing_left "after docker network rm during up"
docker image rm -f "$PROJECT-built:orchestrate" >/dev/null 2>&1
finish
