#!/usr/bin/env bash
# The engine restarted while `up` runs (issue 14, row 21): `up` fails as
# an environment failure (exit 3) naming what it lost, and once the engine
# is back everything of the run is removed -- by `up`'s own teardown when
# the engine answers again in time, else by the watchdog, which keeps
# trying for 60 s.
#
# The shared engine is never restarted: other tests run on it. The test
# starts a private dockerd of its own (its own socket, data root, exec
# root, pid file and managed containerd, no default bridge, no iptables,
# an address pool of its own), loads local/busybox into it, runs `up`
# against it and restarts that one (SIGTERM, as `systemctl restart`
# does), then stops it and removes its directory. Skips (77) with the
# reason when no private dockerd can be started here (not root, no
# dockerd).
. "$(dirname "$0")/life-lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: a private dockerd needs root"
	exit 77
fi
if ! command -v dockerd >/dev/null; then
	echo "SKIP: no dockerd binary to start a private engine"
	exit 77
fi

# short: containerd's socket lives under the exec root (108-byte limit)
D=$(mktemp -d /tmp/orchd-XXXXXX)
SOCK=unix://$D/d.sock
DPID=
DARGS=(--host "$SOCK" --data-root "$D/data" --exec-root "$D/x"
	--pidfile "$D/d.pid" --bridge=none --iptables=false --ip-masq=false
	--default-address-pool base=10.231.0.0/16,size=24
	--shutdown-timeout=2 --log-level=warn)

start_engine() {
	dockerd "${DARGS[@]}" >>"$D/dockerd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 150); do
		docker -H "$SOCK" version >/dev/null 2>&1 && return 0
		kill -0 $DPID 2>/dev/null || break
		sleep 0.2
	done
	echo "# the private dockerd did not come up:"
	tail -n 20 "$D/dockerd.log" | sed 's/^/#   /'
	return 1
}

stop_engine() {
	[ -n "$DPID" ] || return 0
	kill -TERM $DPID 2>/dev/null
	for _ in $(seq 150); do
		kill -0 $DPID 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL $DPID 2>/dev/null
	wait $DPID 2>/dev/null
	DPID=
}

cleanup_engine() {
	[ -n "${UP:-}" ] && kill -KILL $UP 2>/dev/null
	if [ -n "$DPID" ]; then
		# what the test left on the private engine goes with it
		DOCKER_HOST=$SOCK safety_net
		stop_engine
	fi
	umount -R "$D" 2>/dev/null
	rm -rf "$D"
}
trap cleanup_engine EXIT

if ! start_engine; then
	fail "a private dockerd could not be started"
	finish
fi
ok "private dockerd on $SOCK"
docker save local/busybox | docker -H "$SOCK" load >/dev/null ||
	fail "loading local/busybox into the private engine"
export DOCKER_HOST=$SOCK
export ORCHESTRATE_WATCHDOG_LOG=$D/watchdog.log
# every docker command below (life-lib's leftovers too) is about the
# private engine

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  slow:
    image: local/busybox
    command: ["sleep", "3600"]
    ready:
      exec: ["test", "-f", "/tmp/never"]
      timeout: 120s
    stop_grace_period: 1s
  other:
    image: local/busybox
    command: ["sleep", "3600"]
    stop_grace_period: 1s
YAML
cd "$WORK"
"$ORCH" -p "$PROJECT" up >up.out 2>up.err &
UP=$!
for _ in $(seq 300); do
	grep -q 'slow  *started' up.err 2>/dev/null && break
	sleep 0.1
done
grep -q 'slow  *started' up.err || { fail "slow never started"; show up.err; }

# the restart: stop (its containers die with it: no live-restore; their
# 1 s stop grace keeps the engine's shutdown short), start
t0=$(now)
stop_engine
t_down=$(now)
start_engine || fail "the private dockerd did not come back"
t_back=$(now)
echo "# engine down $(calc "$t_down - $t0")s after the signal, back after $(calc "$t_back - $t0")s"

for _ in $(seq 300); do
	kill -0 $UP 2>/dev/null || break
	sleep 0.1
done
kill -0 $UP 2>/dev/null && { fail "up still runs 30 s after the restart"; kill -KILL $UP; }
wait $UP
rc=$?
UP=
t_exit=$(now)
echo "# up exited $rc, $(calc "$t_exit - $t0")s after the restart began"
sed 's/^/#   /' up.err
[ $rc = 3 ] && ok "up exits 3 (environment failure)" || fail "up exited $rc, expected 3"
grep -qi "segmentation\|assert" up.err && fail "up crashed" || ok "no crash"
grep -q "^orchestrate: service '[a-z]*': \|^orchestrate: .*engine" up.err &&
	ok "up names what failed" || fail "up names nothing"

# once the engine is back, nothing of the run stays: up's teardown or,
# when the engine did not answer it, the watchdog (60 s of retries)
end=$(($(date +%s) + 90))
while [ "$(date +%s)" -lt $end ] && [ "$(leftovers)" != "0 0 0 0" ]; do
	sleep 0.5
done
t_gone=$(now)
assert_nothing_left "after the restart"
echo "# the run was gone $(calc "$t_gone - $t0")s after the restart began"
[ -f "$D/watchdog.log" ] && sed 's/^/# watchdog: /' "$D/watchdog.log"
"$ORCH" -p "$PROJECT" gc >gc.out 2>&1
grep -q "nothing to remove" gc.out && ok "gc finds nothing" || { fail "gc: $(cat gc.out)"; }
finish
