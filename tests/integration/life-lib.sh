# life-lib.sh: shared set-up for the lifecycle tests (up, status, logs)
# against the real engine. Sourced by tests/integration/test-up-*.sh with
# the orchestrate binary as $1.
#
# Each test gets its own project name, so tests of other engineers running
# on the same engine are never touched. At exit the test asserts that
# nothing labelled with its project is left, then removes whatever is (a
# safety net, so one failure does not leak into the next run).
set -u

ORCH=${1:?usage: $0 ORCHESTRATE_BINARY}
case $ORCH in /*) ;; *) ORCH=$PWD/$ORCH ;; esac
NAME=$(basename "$0" .sh)
PROJECT="lt-${NAME#test-}-$$-$RANDOM"
LABEL="label=io.orchestrate.project=$PROJECT"
WORK=$(mktemp -d)
FAILED=0
# the gate directories (docs/internals.md, "The gate") of this test's
# runs, apart from everyone else's
export ORCHESTRATE_GATE_DIR=$WORK/gates

if [ "${ORCHESTRATE_NO_ENGINE:-}" = 1 ]; then
	echo "ORCHESTRATE_NO_ENGINE=1: skipping $NAME"
	exit 77
fi
if ! timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
	echo "FAIL: no Docker engine answers (set ORCHESTRATE_NO_ENGINE=1 to skip)"
	exit 1
fi

fail() {
	echo "FAIL: $*"
	FAILED=1
}

ok() {
	echo "ok: $*"
}

# Objects of the project still on the engine, and its gate directories on
# this host: "containers networks volumes gate-dirs".
leftovers() {
	local c n v g
	c=$(docker ps -aq --filter "$LABEL" | wc -l)
	n=$(docker network ls -q --filter "$LABEL" | wc -l)
	v=$(docker volume ls -q --filter "$LABEL" | wc -l)
	g=$(ls "$ORCHESTRATE_GATE_DIR" 2>/dev/null | grep -c "^$PROJECT-")
	echo "$c $n $v $g"
}

assert_nothing_left() {
	local left
	left=$(leftovers)
	if [ "$left" != "0 0 0 0" ]; then
		fail "$1: left behind (containers networks volumes gate-dirs): $left"
		docker ps -a --filter "$LABEL" --format '  {{.Names}} {{.Status}}'
	else
		ok "$1: nothing left"
	fi
}

# Remove the project's runs the way a user does; then nothing may be left.
down_and_check() {
	"$ORCH" -p "$PROJECT" down >"$WORK/down.out" 2>&1 ||
		fail "down exited $?: $(cat "$WORK/down.out")"
	assert_nothing_left "after down"
}

safety_net() {
	local c n v i
	c=$(docker ps -aq --filter "$LABEL")
	[ -z "$c" ] || docker rm -f $c >/dev/null 2>&1
	n=$(docker network ls -q --filter "$LABEL")
	[ -z "$n" ] || docker network rm $n >/dev/null 2>&1
	v=$(docker volume ls -q --filter "$LABEL")
	[ -z "$v" ] || docker volume rm -f $v >/dev/null 2>&1
	# the images its builds made (the build cache: down keeps them)
	i=$(docker image ls -q --filter "label=io.orchestrate.built-by=$PROJECT" | sort -u)
	[ -z "$i" ] || docker image rm -f $i >/dev/null 2>&1
	rm -rf "$WORK"
}

finish() {
	safety_net
	if [ "$FAILED" != 0 ]; then
		echo "$NAME: FAILED"
		exit 1
	fi
	echo "$NAME: passed"
	exit 0
}

# Seconds since the epoch, as a decimal (for timing assertions).
now() {
	date +%s.%N
}

# StartedAt of a container as seconds since the epoch.
started_at() {
	date -d "$(docker inspect -f '{{.State.StartedAt}}' "$1")" +%s.%N
}

# When the container's real process wrote its first line, as seconds since
# the epoch: with the gate (docs/internals.md, "The gate") StartedAt is
# when the container started, not when its process began.
first_log_at() {
	date -d "$(docker logs --timestamps "$1" 2>&1 | head -n 1 | cut -d' ' -f1)" +%s.%N
}

# The container of SERVICE in the project (the newest when several).
container_of() {
	docker ps -aq --filter "$LABEL" \
		--filter "label=io.orchestrate.service=$1" | head -n 1
}

# Show a command's output when a test fails.
show() {
	echo "---- $1"
	sed 's/^/  /' "$1"
}

# Arithmetic without bc: calc EXPR prints it, check EXPR is its truth.
calc() {
	awk "BEGIN { printf \"%.2f\", $* }"
}
check() {
	awk "BEGIN { exit !($*) }"
}

# GET http://127.0.0.1:PORT/PATH, body to stdout.
http_get() {
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=5).read().decode(), end="")' "$1" "${2:-/}"
}
