#!/usr/bin/env bash
# test-gc.sh: `orchestrate gc` removes the runs whose owner process is gone
# and keeps runs whose owner is alive and runs kept on purpose (keep
# marker), unless --all; it never needs a manifest.
. "$(dirname "$0")/cleanup-lib.sh"

P=$PROJECT
dead=$(dead_pid)
self=$$
self_start=$(start_time $self)

# dead: owner gone, not kept -> removed
docker network create $(labels $P dead network $dead) $P-dead-net >/dev/null
docker run -d $(labels $P dead service $dead) --network $P-dead-net \
	--name $P-dead-db local/busybox sleep 3600 >/dev/null
docker volume create $(labels $P dead volume $dead) $P-dead-data >/dev/null
# alive: owner is this shell -> kept
docker run -d $(labels $P alive service $self $self_start) \
	--name $P-alive-db local/busybox sleep 3600 >/dev/null
# reused: this shell's pid with another start time -> gone
docker run -d $(labels $P reused service $self 1) \
	--name $P-reused-db local/busybox sleep 3600 >/dev/null
# kept: owner gone but a keep marker -> kept until gc --all
docker run -d $(labels $P kept service $dead) --name $P-kept-db \
	local/busybox sleep 3600 >/dev/null
docker volume create $(labels $P kept keep $dead) $P-kept-keep >/dev/null
# no owner labels: never collected
docker run -d $(labels $P anon) --name $P-anon-db local/busybox \
	sleep 3600 >/dev/null

orch gc --project $P
check "gc exits 0" [ $RC -eq 0 ]
check "gc reports the dead run" grep -q "removed run 'dead' of project '$P' (owner pid $dead gone): 1 container, 1 network, 1 volume" <<<"$OUT"
check "gc reports the reused pid run" grep -q "removed run 'reused'" <<<"$OUT"
check "dead run removed" [ "$(count $P dead)" -eq 0 ]
check "reused-pid run removed" [ "$(count $P reused)" -eq 0 ]
check "live run kept" [ "$(count $P alive)" -eq 1 ]
check "kept run kept" [ "$(count $P kept)" -eq 2 ]
check "run without owner kept" [ "$(count $P anon)" -eq 1 ]
check "gc says what it left alone" grep -q "left alone: 1 run with a live owner, 1 kept run" <<<"$OUT"

orch -p $P gc
check "second gc exits 0" [ $RC -eq 0 ]
check "second gc: nothing to remove" grep -q "^nothing to remove" <<<"$OUT"

orch gc --project $P --all
check "gc --all exits 0" [ $RC -eq 0 ]
check "gc --all removes the kept run" [ "$(count $P kept)" -eq 0 ]
check "gc --all keeps the live run" [ "$(count $P alive)" -eq 1 ]

orch down --project $P
check "down removes the rest" [ "$OUT" = "removed 2 containers" ]
finish
