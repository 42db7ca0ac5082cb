# cleanup-lib.sh: shared set-up for the down/gc/watchdog tests against the
# real engine (suite 'docker'). Sourced, not run.
#
# Every test works on objects labelled with its own unique project and
# removes them on exit through the docker CLI, whatever happened, so the
# engine is left as it was found -- other engineers' tests share it.
#
# Environment: ORCHESTRATE (the binary), WATCHDOG_HELPER,
# ORCHESTRATE_NO_ENGINE=1 (no engine here: skip with 77, never pass).

set -u

LP=io.orchestrate.
fails=0
PROJECT=orchtest-$(basename "$0" .sh | sed 's/^test-//')-$$-$RANDOM
TMP=$(mktemp -d)
FOREIGN=()

if [ "${ORCHESTRATE_NO_ENGINE:-}" = 1 ]; then
	echo "skip: ORCHESTRATE_NO_ENGINE=1"
	exit 77
fi
if ! docker info >/dev/null 2>&1; then
	echo "FAIL: no Docker engine answers (set ORCHESTRATE_NO_ENGINE=1 to skip)"
	exit 1
fi

# Remove everything labelled with project $1 (and the foreign objects).
purge() {
	local p=$1 ids
	ids=$(docker ps -aq --filter "label=${LP}project=$p")
	[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
	ids=$(docker network ls -q --filter "label=${LP}project=$p")
	[ -n "$ids" ] && docker network rm $ids >/dev/null 2>&1
	ids=$(docker volume ls -q --filter "label=${LP}project=$p")
	[ -n "$ids" ] && docker volume rm -f $ids >/dev/null 2>&1
	return 0
}

cleanup() {
	for f in "${FOREIGN[@]}"; do
		docker rm -f "$f" >/dev/null 2>&1
		docker network rm "$f" >/dev/null 2>&1
		docker volume rm -f "$f" >/dev/null 2>&1
	done
	purge "$PROJECT"
	for p in "${EXTRA_PROJECTS[@]}"; do
		purge "$p"
	done
	rm -rf "$TMP"
}
EXTRA_PROJECTS=()
trap cleanup EXIT

ok() { echo "ok - $*"; }
fail() {
	echo "not ok - $*"
	fails=$((fails + 1))
}
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# labels P RUN [ROLE] [OWNER_PID] [OWNER_START]: --label options; the
# owner is in our PID namespace and boot, as labels.c writes it
labels() {
	local out="--label ${LP}project=$1 --label ${LP}run-id=$2"
	out+=" --label ${LP}role=${3:-service}"
	if [ -n "${4:-}" ]; then
		out+=" --label ${LP}owner.host=$(hostname)"
		out+=" --label ${LP}owner.pid=$4 --label ${LP}owner.start=${5:-1}"
		out+=" --label ${LP}owner.pidns=$(readlink /proc/self/ns/pid | tr -dc 0-9)"
		out+=" --label ${LP}owner.boot=$(cat /proc/sys/kernel/random/boot_id)"
	fi
	echo "$out"
}

# count P [RUN]: labelled containers + networks + volumes left
count() {
	local f="label=${LP}project=$1" n=0
	local g=${2:+label=${LP}run-id=$2}
	n=$((n + $(docker ps -aq --filter "$f" ${g:+--filter "$g"} | wc -l)))
	n=$((n + $(docker network ls -q --filter "$f" ${g:+--filter "$g"} | wc -l)))
	n=$((n + $(docker volume ls -q --filter "$f" ${g:+--filter "$g"} | wc -l)))
	echo $n
}

# The start time (clock ticks since boot) of pid $1, as labels.c reads it.
start_time() {
	local stat rest
	stat=$(cat /proc/"$1"/stat) || return 1
	rest=${stat##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo "${20}"
}

# A pid that is gone (a finished child).
dead_pid() {
	sh -c 'exit 0' &
	local p=$!
	wait $p
	echo $p
}

exists() { docker inspect "$1" >/dev/null 2>&1; }

ms() { echo $(($(date +%s%N) / 1000000)); }

# orch ARGS...: run the binary in an empty directory (no manifest);
# output in $OUT, status in $RC
orch() {
	OUT=$(cd "$TMP" && env -u ORCHESTRATE_PROJECT -u ORCHESTRATE_FILE \
		"$ORCHESTRATE" "$@" 2>&1)
	RC=$?
	echo "# orchestrate $*: exit $RC: $OUT" | head -n 20
}

finish() {
	if [ $fails -ne 0 ]; then
		echo "$fails check(s) failed"
		exit 1
	fi
	exit 0
}
