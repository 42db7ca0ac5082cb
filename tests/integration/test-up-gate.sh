#!/usr/bin/env bash
# The gate (docs/internals.md, "The gate"): a dependant's container is
# started early with orchestrate-gate as its entrypoint, and its real
# process begins only once its dependency is healthy; the engine's health
# events of the held container (its check fails until release) do not fail
# the run.
# ORCHESTRATE_NO_GATE=1 gives the plain containers, same order. When the
# engine cannot see the gate directory (orchestrate in another mount
# namespace, as in a container talking to the host's engine), the create is
# refused and the services come up without the gate. (base takes
# 5 s: on a loaded engine a start alone can take 2-3 s.)
. "$(dirname "$0")/life-lib.sh"

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  base:
    image: local/busybox
    command: ["sh", "-c", "echo base-begins; sleep 5; touch /tmp/ok; echo base-healthy; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 30s
  app:
    image: local/busybox
    command: ["sh", "-c", "echo app-begins; touch /tmp/app-ok; exec sleep 3600"]
    depends_on:
      base: {condition: service_healthy}
    # fails (unhealthy after one try) while held
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/app-ok"]
      interval: 500ms
      retries: 1
  # a job (no checks, so not gated) that exits at once, and its dependant
  job:
    image: local/busybox
    command: ["sh", "-c", "echo job-done"]
    depends_on:
      base: {condition: service_healthy}
  after:
    image: local/busybox
    command: ["sh", "-c", "echo after-begins; exec sleep 3600"]
    depends_on:
      job: {condition: service_completed_successfully}
YAML

# LOG_LINE_TIME CONTAINER TEXT: when CONTAINER wrote TEXT
line_at() {
	date -d "$(docker logs --timestamps "$1" 2>&1 | grep -m1 " $2\$" | cut -d' ' -f1)" +%s.%N
}

# one up/check/down round; $1: "gate" or "nogate"
round() {
	local mode=$1 rc base app ep healthy began started
	"$ORCH" -p "$PROJECT" up >"$WORK/up.out" 2>"$WORK/up.err"
	rc=$?
	if [ $rc != 0 ]; then
		fail "$mode: up exited $rc"
		show "$WORK/up.out"
		show "$WORK/up.err"
		return
	fi
	ok "$mode: up exited 0"
	base=$(container_of base)
	app=$(container_of app)
	ep=$(docker inspect -f '{{json .Config.Entrypoint}}' "$app")
	if [ $mode = gate ]; then
		[ "$ep" = '["/.orchestrate/gate"]' ] && ok "gate: app's entrypoint is the gate" ||
			fail "gate: app's entrypoint $ep"
		ep=$(docker inspect -f '{{json .Config.Entrypoint}}' "$base")
		[ "$ep" = null ] && ok "gate: base (no dependencies) has none" ||
			fail "gate: base's entrypoint $ep"
	else
		[ "$ep" = null ] && ok "$mode: app's entrypoint is the image's" ||
			fail "$mode: app's entrypoint $ep"
	fi
	healthy=$(line_at "$base" base-healthy)
	began=$(first_log_at "$app")
	started=$(started_at "$app")
	if check "$began >= $healthy"; then
		ok "$mode: app began $(calc "$began - $healthy")s after base was healthy"
	else
		fail "$mode: app began $(calc "$healthy - $began")s before base was healthy"
	fi
	if [ $mode = gate ]; then
		gdir=$(ls -d "$ORCHESTRATE_GATE_DIR/$PROJECT"-* 2>/dev/null)
		# job has no checks: not gated (its death could come after a
		# release), so no go file
		[ -x "$gdir/gate" ] && [ -f "$gdir/go.app" ] && [ ! -e "$gdir/go.job" ] &&
			[ ! -e "$gdir/go.base" ] &&
			ok "gate: the run's gate directory holds the gate and app's release (not job's: no checks)" ||
			fail "gate: gate directory '$gdir': $(ls "$gdir" 2>&1 | tr '\n' ' ')"
		check "$started < $healthy" && ok "gate: app's container started before base was healthy" ||
			fail "gate: app's container started $(calc "$started - $healthy")s after base was healthy"
	fi
	[ "$(docker inspect -f '{{.State.Running}}' "$app")" = true ] &&
		ok "$mode: app running" || fail "$mode: app not running"
	grep -Eq '^job +completed in' "$WORK/up.out" &&
		check "$(first_log_at "$(container_of after)") >= $(first_log_at "$(container_of job)")" &&
		ok "$mode: job completed, after began after it" ||
		{ fail "$mode: job/after"; show "$WORK/up.out"; }
	down_and_check
}

cd "$WORK"
round gate
ORCHESTRATE_NO_GATE=1 round nogate

# A gated service whose healthcheck never passes: the engine's streak
# began while it was held, so orchestrate judges it as the engine would
# have from the release on -- unhealthy after start period + retries x
# interval (+ timeout), long before the ready timeout.
cat >"$WORK/sick.yaml" <<'YAML'
services:
  base:
    image: local/busybox
    command: ["sh", "-c", "touch /tmp/ok; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 30s
  sick:
    image: local/busybox
    command: ["sleep", "3600"]
    depends_on:
      base: {condition: service_healthy}
    healthcheck:
      test: ["CMD", "test", "-f", "/never"]
      interval: 500ms
      timeout: 1s
      retries: 2
    ready:
      timeout: 50s
YAML
t0=$(date +%s.%N)
"$ORCH" -f "$WORK/sick.yaml" -p "$PROJECT" up >"$WORK/up.out" 2>"$WORK/up.err"
rc=$?
t1=$(date +%s.%N)
if [ $rc = 3 ] && grep -q "service 'sick': unhealthy: not healthy 2 checks after its process began" "$WORK/up.err"; then
	ok "sick: up exited 3 naming the unhealthy service, after $(calc "$t1 - $t0")s"
else
	fail "sick: up exited $rc"
	show "$WORK/up.err"
fi
check "$t1 - $t0 < 40" && ok "sick: failed before the ready timeout" ||
	fail "sick: took $(calc "$t1 - $t0")s"
assert_nothing_left "sick: after the failed up"

# A gate directory the engine cannot see: orchestrate in a mount namespace
# of its own with a private tmpfs under the directory (root only).
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	mkdir -p "$WORK/private"
	cat >"$WORK/unseen" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount -t tmpfs none "\$0" && exec "\$@"' "$WORK/private" "$ORCH" "\$@"
EOF
	chmod +x "$WORK/unseen"
	REAL=$ORCH
	ORCH=$WORK/unseen ORCHESTRATE_GATE_DIR=$WORK/private/gates round unseen
	ORCH=$REAL
else
	echo "skip: unseen gate directory: needs root and unshare"
fi
finish
