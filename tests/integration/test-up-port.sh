#!/usr/bin/env bash
# A host port the manifest pins is already taken: `up` fails with exit
# status 3 and a message naming the port, and leaves nothing behind.
. "$(dirname "$0")/life-lib.sh"

# hold a free port on 127.0.0.1 for the duration of the test
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
time.sleep(120)
' >"$WORK/port" &
holder=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
port=$(cat "$WORK/port")

cat >"$WORK/orchestrate.yaml" <<YAML
services:
  web:
    image: local/busybox
    command: ["httpd", "-f", "-p", "80"]
    ports: ["127.0.0.1:$port:80"]
YAML

cd "$WORK"
"$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
kill "$holder" 2>/dev/null
[ $rc = 3 ] && ok "exit status 3" || fail "exit status $rc, expected 3"
grep -q "service 'web': host port 127.0.0.1:$port already in use" up.err &&
	ok "message names the port" || fail "message does not name port $port"
[ "$FAILED" = 0 ] || { show up.out; show up.err; }
assert_nothing_left "after the port conflict"
finish
