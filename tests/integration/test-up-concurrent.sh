#!/usr/bin/env bash
# Two `up` of one manifest and one project at the same time: both succeed,
# in distinct runs with distinct names, networks and ports.
. "$(dirname "$0")/life-lib.sh"

cat >"$WORK/orchestrate.yaml" <<'YAML'
services:
  db:
    image: local/busybox
    command: ["sh", "-c", "mkdir -p /www && echo db > /www/index.html && exec httpd -f -p 5432 -h /www"]
    ready: {http: {port: 5432}}
  api:
    image: local/busybox
    command: ["sleep", "3600"]
    depends_on: {db: {condition: service_healthy}}
YAML

cd "$WORK"
"$ORCH" -p "$PROJECT" up >a.out 2>a.err &
a=$!
"$ORCH" -p "$PROJECT" up >b.out 2>b.err &
b=$!
wait $a; ra=$?
wait $b; rb=$?
[ $ra = 0 ] && [ $rb = 0 ] && ok "both succeeded" ||
	{ fail "exit statuses $ra and $rb"; show a.err; show b.err; }
runa=$(sed -n 's/.* run \([0-9a-f]*\) ready.*/\1/p' a.out)
runb=$(sed -n 's/.* run \([0-9a-f]*\) ready.*/\1/p' b.out)
[ -n "$runa" ] && [ -n "$runb" ] && [ "$runa" != "$runb" ] &&
	ok "distinct runs $runa and $runb" || fail "runs '$runa' '$runb'"
[ "$(docker ps -q --filter "$LABEL" | wc -l)" = 4 ] && ok "4 containers running" ||
	fail "$(docker ps -q --filter "$LABEL" | wc -l) containers running"
[ "$(docker network ls -q --filter "$LABEL" | wc -l)" = 2 ] && ok "2 networks" || fail "networks"
pa=$(sed -n 's/^db .*127\.0\.0\.1:\([0-9]*\) -> 5432.*/\1/p' a.out)
pb=$(sed -n 's/^db .*127\.0\.0\.1:\([0-9]*\) -> 5432.*/\1/p' b.out)
[ -n "$pa" ] && [ "$pa" != "$pb" ] && ok "distinct ports $pa $pb" || fail "ports '$pa' '$pb'"
"$ORCH" -p "$PROJECT" status --json >status.json || fail "status"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["runs"]) == 2' status.json &&
	ok "status shows two runs" || fail "status runs"
down_and_check
finish
