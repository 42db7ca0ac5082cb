#!/usr/bin/env bash
# A DAG comes up in dependency order, each service's process begun only
# when its depends_on condition holds (each writes a first line: its
# timestamp is when the process began, gated or not); up prints the endpoints; status and logs
# show the run; down leaves nothing.
#
#   base (healthy only after ~3 s) <- mid (service_healthy) <- top (started)
#   base <- side (service_started)
. "$(dirname "$0")/life-lib.sh"

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  base:
    image: local/busybox
    command: ["sh", "-c", "echo base-booting; sleep 3; touch /tmp/ok; echo base-up; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ok"]
      interval: 30s
      retries: 3
  mid:
    image: local/busybox
    command: ["sh", "-c", "echo mid-begins; mkdir -p /www && echo mid > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["8080"]
    depends_on:
      base: {condition: service_healthy}
    ready:
      http: {port: 8080, path: /}
  top:
    image: local/busybox
    command: ["sh", "-c", "echo top-here; exec sleep 3600"]
    depends_on: [mid]
  side:
    image: local/busybox
    command: ["sh", "-c", "echo side-begins; exec sleep 3600"]
    depends_on:
      base: {condition: service_started}
YAML

cd "$WORK"
t0=$(now)
"$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
t1=$(now)
if [ $rc != 0 ]; then
	fail "up exited $rc"
	show up.out
	show up.err
	finish
fi
ok "up exited 0 in $(calc "$t1 - $t0")s"

b=$(first_log_at "$(container_of base)")
m=$(first_log_at "$(container_of mid)")
t=$(first_log_at "$(container_of top)")
s=$(first_log_at "$(container_of side)")
# mid waits for base to be healthy: base needs 3 s after its process began
if check "$m - $b >= 2.9"; then
	ok "mid started $(calc "$m - $b")s after base (healthy)"
else
	fail "mid started $(calc "$m - $b")s after base, before it was healthy"
fi
if check "$t > $m"; then ok "top after mid"; else fail "top started before mid"; fi
if check "$s >= $b"; then ok "side after base"; else fail "side started before base"; fi
# side only needs base started: it must not wait for base's health
if check "$s < $m"; then ok "side did not wait for health"; else fail "side started after mid"; fi
# the first healthcheck of the engine runs 30 s after start: readiness
# came from our own run of the check
if check "$t1 - $t0 < 25"; then ok "healthcheck detected before the engine's first interval"; else fail "up took $(calc "$t1 - $t0")s"; fi

grep -Eq '^mid +ready in [0-9.]+s +http://127\.0\.0\.1:[0-9]+ -> 8080/tcp$' up.out &&
	ok "endpoint printed" || { fail "no endpoint line for mid"; show up.out; }
port=$(sed -n 's/^mid .*127\.0\.0\.1:\([0-9]*\) -> 8080.*/\1/p' up.out)
[ "$(http_get "$port" / 2>/dev/null)" = mid ] &&
	ok "mid answers on 127.0.0.1:$port" || fail "mid does not answer on port '$port'"
name=$(docker inspect -f '{{.Name}}' "$(container_of mid)")
case $name in
/$PROJECT-[0-9a-f]*-mid) ok "container name $name" ;;
*) fail "container name $name" ;;
esac
alias=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{join .Aliases ","}}{{end}}' "$(container_of mid)")
case ",$alias," in *,mid,*) ok "alias mid" ;; *) fail "aliases: $alias" ;; esac
[ "$(docker volume ls -q --filter "$LABEL" --filter label=io.orchestrate.role=keep | wc -l)" = 1 ] &&
	ok "keep marker" || fail "no keep marker"

"$ORCH" -p "$PROJECT" status >status.out 2>&1 || fail "status exited $?"
grep -Eq '^  mid +service +running +yes ' status.out && ok "status: mid running, ready" ||
	{ fail "status"; show status.out; }
"$ORCH" -p "$PROJECT" status --json >status.json 2>&1 || fail "status --json exited $?"
python3 - "$WORK/status.json" <<'PY' && ok "status --json" || fail "status --json content"
import json, sys
d = json.load(open(sys.argv[1]))
run = d["runs"][0]
svc = {s["name"]: s for s in run["services"]}
assert set(svc) == {"base", "mid", "top", "side"}, svc.keys()
# the engine's own first check is 30 s away: it may still say starting,
# but up found base ready and the engine has reported no check since
assert svc["base"]["health"] in ("starting", "healthy"), svc["base"]
assert svc["base"]["ready"], svc["base"]
assert svc["side"]["ready"] and svc["side"]["health"] is None
ep = svc["mid"]["endpoints"][0]
assert ep["host"] == "127.0.0.1" and ep["container_port"] == 8080 and ep["port"] > 0
assert run["state"] == "kept"
PY
"$ORCH" -p "$PROJECT" logs base top >logs.out 2>&1 || fail "logs exited $?"
grep -q '^base | base-up$' logs.out && grep -q '^top  | top-here$' logs.out &&
	! grep -q 'mid' logs.out && ok "logs prefixed and filtered" || { fail "logs"; show logs.out; }
"$ORCH" -p "$PROJECT" logs --tail 1 base >tail.out 2>&1
[ "$(cat tail.out)" = "base | base-up" ] && ok "logs --tail" || { fail "logs --tail"; show tail.out; }

down_and_check
finish
