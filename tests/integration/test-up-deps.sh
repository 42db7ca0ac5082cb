#!/usr/bin/env bash
# Dependency edge cases against the real engine, gated or not:
# - a service whose program does not exist fails up (exit 3, the gate's
#   message in its logs when gated);
# - a service that wants a job to be healthy fails at once when the job
#   completes (it can never become healthy), instead of waiting forever;
# - a manifest healthcheck without `test:` keeps the image's test (the
#   engine merges them), so a service_healthy dependant waits for it.
. "$(dirname "$0")/life-lib.sh"
cd "$WORK"

for mode in gate nogate; do
	if [ $mode = nogate ]; then export ORCHESTRATE_NO_GATE=1; else unset ORCHESTRATE_NO_GATE; fi

	cat >missing.yaml <<'YAML'
services:
  db:
    image: local/busybox
    command: ["sh", "-c", "touch /tmp/ok; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 30s
  api:
    image: local/busybox
    command: ["no-such-program"]
    depends_on:
      db: {condition: service_healthy}
    healthcheck:
      test: ["CMD", "true"]
      interval: 30s
  # no checks: never gated (its death could come after its release)
  side:
    image: local/busybox
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
YAML
	"$ORCH" -f missing.yaml -p "$PROJECT" up >up.out 2>up.err
	rc=$?
	if [ $rc = 3 ] && grep -q "service 'api'" up.err &&
		{ [ $mode = nogate ] || grep -q "api | orchestrate-gate: exec no-such-program: No such file or directory" up.err; }; then
		ok "$mode: a missing program fails up (exit 3): $(grep -m1 "service 'api'" up.err)"
	else
		fail "$mode: missing program: up exited $rc"
		show up.out
		show up.err
		"$ORCH" -p "$PROJECT" down >/dev/null 2>&1
	fi
	assert_nothing_left "$mode: after the missing program"

	cat >job.yaml <<'YAML'
services:
  job:
    image: local/busybox
    command: ["sh", "-c", "echo done"]
  after:
    image: local/busybox
    command: ["sleep", "3600"]
    depends_on:
      job: {condition: service_completed_successfully}
  wants-healthy:
    image: local/busybox
    command: ["sleep", "3600"]
    depends_on:
      job: {condition: service_healthy}
YAML
	t0=$(now)
	timeout 60 "$ORCH" -f job.yaml -p "$PROJECT" up >up.out 2>up.err
	rc=$?
	t1=$(now)
	if [ $rc = 3 ] && grep -q "service 'wants-healthy': dependency 'job' exited (code 0): it can never become healthy" up.err; then
		ok "$mode: service_healthy on a job fails at once ($(calc "$t1 - $t0")s)"
	else
		fail "$mode: service_healthy on a job: up exited $rc after $(calc "$t1 - $t0")s"
		show up.err
		"$ORCH" -p "$PROJECT" down >/dev/null 2>&1
	fi
	assert_nothing_left "$mode: after the job case"
done
unset ORCHESTRATE_NO_GATE

# the image's HEALTHCHECK stays when the manifest only sets its interval
mkdir -p ctx
cat >ctx/Dockerfile <<'DOCKERFILE'
FROM local/busybox
HEALTHCHECK --interval=30s CMD test -f /tmp/ok
DOCKERFILE
cat >merge.yaml <<YAML
services:
  db:
    build: ctx
    image: $PROJECT-db:test
    command: ["sh", "-c", "echo db-begins; sleep 2; touch /tmp/ok; echo db-ok; exec sleep 3600"]
    healthcheck:
      interval: 1s
  app:
    image: local/busybox
    command: ["sh", "-c", "echo app-begins; exec sleep 3600"]
    depends_on:
      db: {condition: service_healthy}
YAML
"$ORCH" -f merge.yaml -p "$PROJECT" up >up.out 2>up.err
rc=$?
if [ $rc = 0 ]; then
	ok_at=$(date -d "$(docker logs --timestamps "$(container_of db)" 2>&1 | grep -m1 ' db-ok$' | cut -d' ' -f1)" +%s.%N)
	began=$(first_log_at "$(container_of app)")
	check "$began >= $ok_at" &&
		ok "image healthcheck kept: app began $(calc "$began - $ok_at")s after db's check could pass" ||
		fail "app began $(calc "$ok_at - $began")s before db's check could pass"
else
	fail "merge: up exited $rc"
	show up.err
fi
down_and_check
docker image rm -f "$PROJECT-db:test" >/dev/null 2>&1
finish
