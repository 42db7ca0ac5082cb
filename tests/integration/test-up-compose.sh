#!/usr/bin/env bash
# A project's own Compose files against the real engine (issue 13):
# compose.yaml and compose.override.yaml found without -f and merged, a
# profile, secrets (a file, bind-mounted; a variable, copied in with its
# owner and mode), a network alias and a link alias the other service
# resolves, port ranges (one to one and a host range), a post_start hook
# (its user, working_dir and environment), volumes_from and an external
# network, joined and left as it was. The secret's value is masked in
# `logs`. Nothing is left behind.
. "$(dirname "$0")/life-lib.sh"
# the external network is made here, as a user would, and removed here
EXTNET=$PROJECT-outside
trap 'docker network rm "$EXTNET" >/dev/null 2>&1; safety_net' EXIT
docker network create "$EXTNET" >/dev/null || { fail "docker network create"; finish; }

PW=file-Secret-4711
TOKEN=env-Secret-0815
cd "$WORK" || exit 1
printf '%s\n' "$PW" >pw.txt

cat >compose.yaml <<'YAML'
services:
  db:
    image: local/busybox
    command: ["sh", "-c", "mkdir -p /data && echo from-db >/data/hello && echo pw=$$(cat /run/secrets/pw) && exec httpd -f -p 8080 -h /data"]
    volumes:
      - /data
    networks:
      default:
        aliases: [database]
      outside: {}
    secrets:
      - pw
      - source: token
        target: api-token
        uid: "1000"
        mode: 0400
    healthcheck:
      test: ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/hello"]
      interval: 500ms
      retries: 40
  web:
    image: local/busybox
    command: ["sleep", "3600"]
    links: ["db:dbalias"]
    volumes_from: ["db:ro"]
    post_start:
      - command: ["sh", "-c", "echo \"$$HOOK_VAR $$(pwd) $$(id -u)\" >/tmp/hooked"]
        user: "1000"
        working_dir: /tmp
        environment: {HOOK_VAR: hooked}
    depends_on:
      db: {condition: service_healthy}
  extra:
    image: local/busybox
    command: ["sleep", "3600"]
    profiles: [debug]
networks:
  outside:
    external: true
    name: ${EXTNET}
secrets:
  pw:
    file: ./pw.txt
  token:
    environment: API_TOKEN
YAML
cat >compose.override.yaml <<'YAML'
services:
  web:
    ports:
      - "9090-9091"
      - "18600-18609:8080"
YAML

export EXTNET
API_TOKEN=$TOKEN "$ORCH" -p "$PROJECT" validate >validate.out 2>&1 &&
	ok "validate: compose.yaml and its override file" ||
	{ fail "validate"; show validate.out; }

API_TOKEN=$TOKEN "$ORCH" -p "$PROJECT" up >up.out 2>up.err
rc=$?
[ $rc = 0 ] && ok "up exits 0" || { fail "up exited $rc"; show up.err; }

db=$(container_of db)
web=$(container_of web)
[ -n "$db" ] && [ -n "$web" ] && ok "db and web run" || fail "no containers"
[ -z "$(container_of extra)" ] && ok "a service of an inactive profile is left out" ||
	fail "extra runs without its profile"

# secrets, where Compose puts them
[ "$(docker exec "$db" cat /run/secrets/pw)" = "$PW" ] &&
	ok "a file secret at /run/secrets/pw" || fail "/run/secrets/pw"
[ "$(docker exec "$db" cat /run/secrets/api-token)" = "$TOKEN" ] &&
	ok "a variable secret copied in at its target" || fail "/run/secrets/api-token"
[ "$(docker exec "$db" stat -c '%a %u' /run/secrets/api-token)" = "400 1000" ] &&
	ok "with its mode and owner" ||
	fail "mode and owner: $(docker exec "$db" stat -c '%a %u' /run/secrets/api-token)"
docker exec "$db" sh -c 'echo x >/run/secrets/pw' 2>/dev/null &&
	fail "the file secret is writable" || ok "the file secret is read-only"

# names on the run's network
[ "$(docker exec "$web" wget -q -O- http://database:8080/hello)" = from-db ] &&
	ok "the network alias resolves from the other service" || fail "database"
[ "$(docker exec "$web" wget -q -O- http://dbalias:8080/hello)" = from-db ] &&
	ok "the link alias resolves" || fail "dbalias"

# the external network: db is on it under its names, for a container
# outside the run
[ "$(docker run --rm --network "$EXTNET" local/busybox wget -q -O- http://database:8080/hello)" = from-db ] &&
	ok "the external network: db answers under its alias there" ||
	fail "db on the external network"

# volumes_from, read-only
[ "$(docker exec "$web" cat /data/hello)" = from-db ] &&
	ok "volumes_from: db's volume in web" || fail "volumes_from"
docker exec "$web" sh -c 'echo x >/data/hello' 2>/dev/null &&
	fail "volumes_from :ro is writable" || ok "volumes_from :ro"

# the post_start hook ran as it was told, before up returned
[ "$(docker exec "$web" cat /tmp/hooked)" = "hooked /tmp 1000" ] &&
	ok "post_start: user, working_dir, environment" ||
	fail "post_start: $(docker exec "$web" cat /tmp/hooked 2>&1)"

# port ranges: two ephemeral, one in the host range
p9090=$(docker port "$web" 9090/tcp | head -n 1)
p9091=$(docker port "$web" 9091/tcp | head -n 1)
p8080=$(docker port "$web" 8080/tcp | head -n 1)
case $p9090 in 127.0.0.1:*) ok "9090 published on 127.0.0.1 ($p9090)" ;; *) fail "9090: '$p9090'" ;; esac
case $p9091 in 127.0.0.1:*) ok "9091 published on 127.0.0.1 ($p9091)" ;; *) fail "9091: '$p9091'" ;; esac
port=${p8080##*:}
[ -n "$port" ] && [ "$port" -ge 18600 ] && [ "$port" -le 18609 ] &&
	ok "8080 published in 18600-18609 ($p8080)" || fail "8080: '$p8080'"

# the secret's value is masked in logs
API_TOKEN=$TOKEN "$ORCH" -p "$PROJECT" logs db >logs.out 2>&1
grep -q 'pw=\*\*\*' logs.out && ok "logs: the secret is masked" ||
	{ fail "logs not masked"; show logs.out; }
grep -qF "$PW" logs.out up.out up.err && fail "a secret is printed" ||
	ok "no secret printed"

down_and_check
[ "$(docker network inspect -f '{{len .Containers}}' "$EXTNET" 2>&1)" = 0 ] &&
	ok "the external network is left, empty" ||
	fail "external network: $(docker network inspect -f '{{len .Containers}}' "$EXTNET" 2>&1)"
finish
