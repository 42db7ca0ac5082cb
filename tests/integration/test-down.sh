#!/usr/bin/env bash
# test-down.sh: `orchestrate down` against the real engine: removes every
# object of the project from labels alone (every run, kept or not) and
# nothing else, is idempotent, names what it cannot remove (exit 4), and
# reports how long the teardown of 5 containers and a network took.
. "$(dirname "$0")/cleanup-lib.sh"

P=$PROJECT
# run r1: network, volume, three services (sleep and httpd as PID 1
# ignore SIGTERM); run r2: one service and a keep marker
docker network create $(labels $P r1 network) $P-r1-net >/dev/null
docker volume create $(labels $P r1 volume) $P-r1-data >/dev/null
docker run -d $(labels $P r1) --network $P-r1-net --name $P-r1-db \
	-v $P-r1-data:/data local/busybox sleep 3600 >/dev/null
docker run -d $(labels $P r1) --network $P-r1-net --name $P-r1-api \
	local/busybox httpd -f -p 8080 >/dev/null
docker create $(labels $P r1) --name $P-r1-created local/busybox \
	sleep 1 >/dev/null
docker run -d $(labels $P r2) --name $P-r2-db local/busybox \
	sleep 3600 >/dev/null
docker volume create $(labels $P r2 keep) $P-r2-keep >/dev/null
# not ours: the same name prefix without labels, a look-alike project
FOREIGN+=("$P-r1-db-copy" "$P-x-db")
EXTRA_PROJECTS+=("$P-x")
docker run -d --name $P-r1-db-copy local/busybox sleep 3600 >/dev/null
docker run -d $(labels $P-x r1) --name $P-x-db local/busybox \
	sleep 3600 >/dev/null

orch -p $P down
check "down exits 0" [ $RC -eq 0 ]
check "down summary" [ "$OUT" = "removed 4 containers, 1 network, 2 volumes" ]
check "nothing of the project is left" [ "$(count $P)" -eq 0 ]
check "unlabelled container with the same prefix untouched" \
	exists $P-r1-db-copy
check "look-alike project untouched" [ "$(count $P-x)" -eq 1 ]

orch -p $P down
check "second down exits 0" [ $RC -eq 0 ]
check "second down: nothing to remove" [ "$OUT" = "nothing to remove" ]

# --project without a manifest (and without -p)
docker run -d $(labels $P r3) --name $P-r3-db local/busybox \
	sleep 3600 >/dev/null
orch down --project $P
check "down --project exits 0" [ $RC -eq 0 ]
check "down --project summary" [ "$OUT" = "removed 1 container" ]
check "down --project removed it" [ "$(count $P)" -eq 0 ]

# the project named by the manifest in the current directory
docker run -d $(labels $P r9) --name $P-r9-db local/busybox \
	sleep 3600 >/dev/null
mkdir "$TMP/m"
printf 'name: %s\nservices:\n  db:\n    image: local/busybox\n' $P \
	>"$TMP/m/orchestrate.yaml"
OUT=$(cd "$TMP/m" && env -u ORCHESTRATE_PROJECT "$ORCHESTRATE" down 2>&1)
RC=$?
echo "# orchestrate down (manifest): exit $RC: $OUT"
check "down with the manifest's project" [ "$OUT" = "removed 1 container" ]
check "down with the manifest removed it" [ "$(count $P)" -eq 0 ]
rm -rf "$TMP/m"

orch down
check "down without a project is a usage error" [ $RC -eq 2 ]

OUT=$(cd "$TMP" && DOCKER_HOST=unix://$TMP/no.sock "$ORCHESTRATE" -p $P down 2>&1)
RC=$?
echo "# unreachable engine: exit $RC: $OUT"
check "down with no engine exits 3" [ $RC -eq 3 ]

# a network another (unlabelled) container still uses: exit 4, named
docker network create $(labels $P r4 network) $P-r4-net >/dev/null
FOREIGN+=("$P-r4-intruder")
docker run -d --name $P-r4-intruder --network $P-r4-net local/busybox \
	sleep 3600 >/dev/null
orch -p $P down
check "down with a network in use exits 4" [ $RC -eq 4 ]
check "down names the network" grep -q "network '$P-r4-net'" <<<"$OUT"
check "the foreign container is untouched" exists $P-r4-intruder
docker rm -f $P-r4-intruder >/dev/null
orch -p $P down
check "down after the network is free" [ "$OUT" = "removed 1 network" ]

# a stop grace period is honoured: stop with t, then remove
docker run -d $(labels $P r5) --label ${LP}stop-grace=1 --name $P-r5-graceful \
	local/busybox sleep 3600 >/dev/null
t0=$(ms)
orch -p $P down
t1=$(ms)
check "down with a stop grace period" [ "$OUT" = "removed 1 container" ]
check "the grace period was waited for ($((t1 - t0)) ms)" [ $((t1 - t0)) -ge 900 ]

# timing: 5 containers whose PID 1 ignores SIGTERM, plus a network
docker network create $(labels $P r6 network) $P-r6-net >/dev/null
for i in 1 2 3; do
	docker run -d $(labels $P r6) --network $P-r6-net --name $P-r6-sleep$i \
		local/busybox sleep 3600 >/dev/null
done
for i in 1 2; do
	docker run -d $(labels $P r6) --network $P-r6-net --name $P-r6-httpd$i \
		local/busybox httpd -f -p 8080 >/dev/null
done
t0=$(ms)
orch -p $P down
t1=$(ms)
check "timing run removed" [ "$OUT" = "removed 5 containers, 1 network" ]
echo "# teardown of 5 containers + 1 network: $((t1 - t0)) ms (orchestrate down, wall clock)"

# two downs at once (row 51/52): the slower one meets 404 or 409
# "removal already in progress" and must still exit 0
docker network create $(labels $P r8 network) $P-r8-net >/dev/null
for i in 1 2 3 4; do
	docker run -d $(labels $P r8) --network $P-r8-net --name $P-r8-c$i \
		local/busybox sleep 3600 >/dev/null
done
(cd "$TMP" && "$ORCHESTRATE" -p $P down >"$TMP/d1" 2>&1; echo $? >"$TMP/rc1") &
(cd "$TMP" && "$ORCHESTRATE" -p $P down >"$TMP/d2" 2>&1; echo $? >"$TMP/rc2") &
wait
echo "# concurrent downs: $(cat "$TMP/rc1"): $(cat "$TMP/d1") / $(cat "$TMP/rc2"): $(cat "$TMP/d2")"
check "concurrent downs both exit 0" [ "$(cat "$TMP/rc1")$(cat "$TMP/rc2")" = 00 ]
check "concurrent downs leave nothing" [ "$(count $P)" -eq 0 ]

# the same with the docker CLI, for scale (the engine's own speed and
# load on this machine bound both)
docker network create $(labels $P r7 network) $P-r7-net >/dev/null
for i in 1 2 3 4 5; do
	docker run -d $(labels $P r7) --network $P-r7-net --name $P-r7-c$i \
		local/busybox sleep 3600 >/dev/null
done
t0=$(ms)
docker rm -f $P-r7-c1 $P-r7-c2 $P-r7-c3 $P-r7-c4 $P-r7-c5 >/dev/null
docker network rm $P-r7-net >/dev/null
t1=$(ms)
echo "# the same with docker rm -f + docker network rm: $((t1 - t0)) ms"
purge $P
check "nothing left at the end" [ "$(count $P)" -eq 0 ]
finish
