#!/usr/bin/env bash
# Secrets and control characters against the real engine (issue 14): a
# service that echoes its $DB_PASSWORD (and an escape sequence) and exits
# 1 fails `up`, and the log tail shows *** and \x1b, never the value or a
# raw ESC; a healthcheck that prints the password fails with *** in the
# reason; `orchestrate logs` of a kept run masks it, with the manifest and
# without one (the container's own environment). Nothing is left behind.
. "$(dirname "$0")/life-lib.sh"
trap safety_net EXIT

SECRET=pw-Th1s-is-Secret
TOKEN=tok-Also-Secret-99

cat >"$WORK/orchestrate.yaml" <<YAML
services:
  db:
    image: local/busybox
    environment:
      DB_PASSWORD: $SECRET
      DB_USER: postgres
    command: ["sh", "-c", "echo db password: \$\$DB_PASSWORD user \$\$DB_USER; printf 'clear\\\\033[2J\\\\n'; exit 1"]
    ready: {tcp: 5432, timeout: 60s}
YAML

cd "$WORK"
"$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
[ $rc = 3 ] && ok "exit status 3" || fail "exit status $rc, expected 3"
grep -q '^db | db password: \*\*\* user postgres$' up.err &&
	ok "the log tail shows *** for the password" || fail "no masked line"
grep -qF "$SECRET" up.err up.out && fail "the password is printed" ||
	ok "the password appears nowhere"
grep -qF 'db | clear\x1b[2J' up.err && ok "ESC in the log tail is escaped" ||
	fail "ESC not escaped"
grep -q $'\x1b' up.err && fail "a raw ESC on stderr" || ok "no raw ESC on stderr"
[ "$FAILED" = 0 ] || { show up.out; show up.err; }
assert_nothing_left "after the failed up"

# a healthcheck whose output carries the password
cat >"$WORK/orchestrate.yaml" <<YAML
services:
  sick:
    image: local/busybox
    command: ["sleep", "3600"]
    environment: [DB_PASSWORD=$SECRET]
    healthcheck:
      test: ["CMD-SHELL", "echo cannot log in with \$\$DB_PASSWORD; exit 1"]
      interval: 1s
      retries: 1
    ready: {timeout: 60s}
YAML
"$ORCH" -p "$PROJECT" up >up2.out 2>up2.err
rc=$?
[ $rc = 3 ] && ok "unhealthy: exit status 3" || fail "unhealthy: exit $rc"
grep -q "service 'sick': unhealthy: cannot log in with \*\*\*" up2.err &&
	ok "unhealthy: the reason shows ***" || fail "unhealthy: reason"
grep -qF "$SECRET" up2.err up2.out && fail "unhealthy: the password is printed" ||
	ok "unhealthy: the password appears nowhere"
[ "$FAILED" = 0 ] || { show up2.out; show up2.err; }
assert_nothing_left "after the unhealthy up"

# a kept run whose services print their secrets: logs masks them
cat >"$WORK/orchestrate.yaml" <<YAML
services:
  db:
    image: local/busybox
    environment: {DB_PASSWORD: $SECRET}
    command: ["sh", "-c", "echo password=\$\$DB_PASSWORD; exec sleep 3600"]
  api:
    image: local/busybox
    environment: {GITHUB_TOKEN: $TOKEN}
    command: ["sh", "-c", "echo token=\$\$GITHUB_TOKEN db=$SECRET; exec sleep 3600"]
YAML
"$ORCH" -p "$PROJECT" up >up3.out 2>up3.err
rc=$?
[ $rc = 0 ] && ok "kept run is up" || { fail "up exited $rc"; show up3.err; }
for i in $(seq 50); do # the lines are written once the shells ran
	[ "$(docker logs "$(container_of api)" 2>&1 | wc -l)" -ge 1 ] &&
		[ "$(docker logs "$(container_of db)" 2>&1 | wc -l)" -ge 1 ] && break
	sleep 0.1
done
"$ORCH" -p "$PROJECT" logs >logs.out 2>logs.err
grep -q '^db  *| password=\*\*\*$' logs.out && grep -q '^api  *| token=\*\*\* db=\*\*\*$' logs.out &&
	ok "logs with the manifest: masked" || { fail "logs with the manifest"; show logs.out; }
mkdir -p "$WORK/elsewhere"
(cd "$WORK/elsewhere" && "$ORCH" -p "$PROJECT" logs >logs2.out 2>&1)
grep -q '^db  *| password=\*\*\*$' "$WORK/elsewhere/logs2.out" &&
	grep -q '^api  *| token=\*\*\* db=\*\*\*$' "$WORK/elsewhere/logs2.out" &&
	ok "logs without a manifest: masked from the containers' environments" ||
	{ fail "logs without a manifest"; show "$WORK/elsewhere/logs2.out"; }
grep -qF -e "$SECRET" -e "$TOKEN" logs.out logs.err "$WORK/elsewhere/logs2.out" &&
	fail "a secret is printed by logs" || ok "logs: no secret anywhere"
down_and_check
finish
