#!/usr/bin/env bash
# Podman's Docker-compatible API (issue 14, row 20): orchestrate detects
# it, `up` warns that its health checks never run without systemd (the
# engine's health status stays 'starting'), and the lifecycle works all
# the same: `up` brings a service with a healthcheck and one waiting for
# it to become healthy up (orchestrate runs the healthcheck's test itself),
# `status` shows the engine's 'starting', `down` removes everything.
#
# Podman 4.3 (Debian's) serves the API with `podman system service`; here
# it needs runc as its runtime and default ulimits within the host's hard
# limits. The test runs a private service -- its own storage, run and
# temporary directories, CNI configuration and socket -- in new PID,
# network and mount namespaces, so its bridges, iptables rules, mounts and
# processes (conmon, containers) stay there and go with it; orchestrate
# joins its network namespace to reach the published ports. Skips (77)
# with the reason when Podman is not installed or the namespaces cannot be
# made (not root); the test command counts that as a skip, not a pass.
. "$(dirname "$0")/life-lib.sh"

if ! command -v podman >/dev/null; then
	echo "SKIP: podman is not installed (apt-get install podman)"
	exit 77
fi
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the private podman service needs root (namespaces)"
	exit 77
fi
for t in unshare nsenter curl ip; do
	command -v $t >/dev/null || { echo "SKIP: no $t"; exit 77; }
done

P=$(mktemp -d /tmp/orchp-XXXXXX)
SOCK=$P/p.sock
USH=
PODPID=
cleanup_podman() {
	# the service is PID 1 of its namespace: the kernel ends everything
	# in it (conmon, containers) when it goes
	[ -n "$PODPID" ] && kill -TERM $PODPID 2>/dev/null
	[ -n "$USH" ] && { sleep 1; kill -KILL $USH 2>/dev/null; wait $USH 2>/dev/null; }
	rm -rf "$P"
}
trap cleanup_podman EXIT

nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] && nofile=1048576
[ "$nproc" = unlimited ] && nproc=65536
mkdir -p "$P/cni" "$P/tmp"
cat >"$P/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
tmp_dir = "$P/tmp"
[network]
network_backend = "cni"
network_config_dir = "$P/cni"
EOF
CONTAINERS_CONF=$P/containers.conf unshare --fork --pid --mount-proc --net \
	--mount --propagation private -- sh -c 'ip link set lo up &&
	exec podman --root "$0/root" --runroot "$0/run" --storage-driver vfs \
		system service --time=0 "unix://$0/p.sock"' "$P" >"$P/podman.log" 2>&1 &
USH=$!
for _ in $(seq 100); do
	PODPID=$(pgrep -P $USH | head -n 1)
	curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break
	sleep 0.1
done
if ! curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
	echo "SKIP: the podman service did not start here:"
	sed 's/^/  /' "$P/podman.log" | tail -n 10
	exit 77
fi
ok "private podman service $(podman --version | cut -d' ' -f3) on $SOCK (pid $PODPID)"

# the image: what the shared engine has, handed over as `docker load` does
docker save local/busybox -o "$P/busybox.tar" &&
	curl -sf --unix-socket "$SOCK" -X POST -H 'Content-Type: application/x-tar' \
		--data-binary @"$P/busybox.tar" http://d/v1.41/images/load >/dev/null ||
	fail "loading local/busybox into podman"

export DOCKER_HOST=unix://$SOCK
# orchestrate in the service's network namespace: the published ports
# are there
orch() { nsenter -t "$PODPID" -n -- "$ORCH" "$@"; }
api() { curl -s --unix-socket "$SOCK" "http://d/v1.41$1"; }
count_api() { # containers networks volumes of the project, by label
	local f
	f=$(python3 -c 'import json, sys, urllib.parse
print(urllib.parse.quote(json.dumps({"label": ["io.orchestrate.project=" + sys.argv[1]]})))' "$PROJECT")
	echo "$(api "/containers/json?all=1&filters=$f" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') $(api "/networks?filters=$f" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') $(api "/volumes?filters=$f" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Volumes"] or []))')"
}

cd "$WORK"
orch version >version.out 2>&1
grep -q '^engine: .*(podman)' version.out && ok "version: the engine is Podman" ||
	{ fail "version does not say podman"; show version.out; }

cat >orchestrate.yaml <<'YAML'
services:
  db:
    image: local/busybox
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      retries: 3
  web:
    image: local/busybox
    command: ["sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    depends_on: {db: {condition: service_healthy}}
    ready: {http: {port: 8080, path: /}}
YAML
orch -p "$PROJECT" up >up.out 2>up.err
rc=$?
[ $rc = 0 ] && ok "up on podman: exit 0" || { fail "up on podman: exit $rc"; show up.err; }
grep -q "warning: the engine at unix://$SOCK is Podman: it runs health checks from systemd timers, so without systemd they never run and its health status stays 'starting'" up.err &&
	ok "up warns about podman's health checks" || { fail "no warning"; show up.err; }
grep -q '^db  *ready in' up.out && grep -q '^web  *ready in .*http://127.0.0.1:' up.out &&
	ok "db (healthcheck) and web (waiting for it to be healthy) ready" ||
	{ fail "not ready"; show up.out; }
# the engine's own view: its checks never ran
sleep 3
orch -p "$PROJECT" status --json >status.json 2>status.err
python3 - status.json <<'PY' && ok "status: podman's health stays 'starting' (its checks never ran)" || fail "status: $(cat status.json status.err)"
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
db = [s for s in runs[0]["services"] if s["name"] == "db"][0]
sys.exit(0 if db["health"] == "starting" and db["ready"] else 1)
PY
orch -p "$PROJECT" down >down.out 2>&1
rc=$?
[ $rc = 0 ] && ok "down on podman: $(cat down.out)" || { fail "down: exit $rc"; show down.out; }
left=$(count_api)
[ "$left" = "0 0 0" ] && ok "nothing of the project left on podman" ||
	fail "left on podman (containers networks volumes): $left"
orch -p "$PROJECT" down >down2.out 2>&1
grep -q "nothing to remove" down2.out && ok "down again: nothing to remove" || fail "down again: $(cat down2.out)"
finish
