#!/usr/bin/env bash
# test-tls.sh: DOCKER_HOST=tcp:// with TLS, against `openssl s_server`
# standing in for the engine: with the right CA and a client certificate
# the handshake succeeds (and the "engine" is then rejected for sending no
# Api-Version header); a wrong CA or a wrong host name fails verification;
# a key.pem that group or others can read gets a warning (not a failure);
# the user's OPENSSL_CONF is applied; plain TCP is refused unless
# explicitly allowed.
#
#   test-tls.sh ORCHESTRATE
set -u
orch=$1
command -v openssl >/dev/null || { echo "1..0 # SKIP openssl missing"; exit 77; }

dir=$(mktemp -d /tmp/orch-tls-XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
n=0 failed=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); failed=1; echo "not ok $n - $1"; sed 's/^/# /' "$dir/err"; }

cert() { # name CN SAN CA-name
	openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$2" \
		-keyout "$dir/$1.key" -out "$dir/$1.csr" 2>/dev/null &&
	printf 'subjectAltName=%s\n' "$3" >"$dir/$1.ext" &&
	openssl x509 -req -in "$dir/$1.csr" -CA "$dir/$4.pem" \
		-CAkey "$dir/$4.key" -CAcreateserial -days 2 \
		-extfile "$dir/$1.ext" -out "$dir/$1.pem" 2>/dev/null
}
ca() {
	openssl req -x509 -new -newkey rsa:2048 -nodes -subj "/CN=$1" -days 2 \
		-keyout "$dir/$1.key" -out "$dir/$1.pem" 2>/dev/null
}
ca ca && ca otherca &&
	cert server localhost "DNS:localhost,IP:127.0.0.1" ca &&
	cert client client "DNS:client" ca &&
	cert wrongname elsewhere.example "DNS:elsewhere.example" ca ||
	{ echo "1..0 # SKIP cannot make certificates"; exit 77; }

mkdir "$dir/good" "$dir/bad" "$dir/open"
cp "$dir/ca.pem" "$dir/good/ca.pem"; cp "$dir/otherca.pem" "$dir/bad/ca.pem"
cp "$dir/ca.pem" "$dir/open/ca.pem"
for d in good bad open; do
	cp "$dir/client.pem" "$dir/$d/cert.pem"; cp "$dir/client.key" "$dir/$d/key.pem"
	chmod 600 "$dir/$d/key.pem"
done
chmod 644 "$dir/open/key.pem"

start() { # cert-name
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 20000))
		openssl s_server -quiet -accept "127.0.0.1:$port" -www -tls1_2 \
			-cert "$dir/$1.pem" -key "$dir/$1.key" \
			-CAfile "$dir/ca.pem" -Verify 1 -verify_return_error </dev/null >/dev/null 2>&1 &
		server=$!
		for _ in $(seq 50); do
			(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
			kill -0 "$server" 2>/dev/null || break
			sleep 0.1
		done
		kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; server=
	done
	return 1
}
stop() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; server=; }

run() { # host certdir [env...]
	local host=$1 certs=$2; shift 2
	env -u ORCHESTRATE_INSECURE_TCP DOCKER_HOST="$host" \
		DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$certs" "$@" \
		"$orch" version >"$dir/out" 2>"$dir/err"
}

start server || { echo "1..0 # SKIP cannot start openssl s_server"; exit 77; }
run "tcp://localhost:$port" "$dir/good"; rc=$?
if [ $rc = 3 ] && grep -q "sent no Api-Version header" "$dir/err" &&
	! grep -q "warning" "$dir/err"; then
	ok "TLS with client certificate: handshake verified"
else nok "TLS with client certificate (exit $rc)"; fi

run "tcp://localhost:$port" "$dir/open"; rc=$?
if [ $rc = 3 ] && grep -q "sent no Api-Version header" "$dir/err" &&
	grep -q "^orchestrate: warning: TLS key '$dir/open/key.pem' is accessible by group or others (mode 0644)" "$dir/err"; then
	ok "a key.pem others can read: a warning, and the connection goes on"
else nok "key.pem readable by others (exit $rc)"; fi

run "tcp://localhost:$port" "$dir/bad"; rc=$?
if [ $rc = 3 ] && grep -q "tcp://localhost:$port" "$dir/err" &&
	! grep -q "Api-Version" "$dir/err"; then
	ok "a server certificate from another CA is refused"
else nok "wrong CA accepted (exit $rc)"; fi

# the user's OpenSSL configuration applies to tcp:// (engine_new() only
# declines it on a unix socket): at security level 5 the server's
# 2048-bit RSA certificate is too weak, so the handshake must fail
cat >"$dir/openssl.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = DEFAULT@SECLEVEL=5
CNF
run "tcp://localhost:$port" "$dir/good" OPENSSL_CONF="$dir/openssl.cnf"; rc=$?
if [ $rc = 3 ] && grep -q "tcp://localhost:$port" "$dir/err" &&
	! grep -q "Api-Version" "$dir/err"; then
	ok "OPENSSL_CONF applies to tcp:// (security level 5 refuses RSA 2048)"
else nok "OPENSSL_CONF ignored for tcp:// (exit $rc)"; fi

run "tcp://localhost:$port" "$dir/missing"; rc=$?
if [ $rc = 2 ] && grep -q "missing/ca.pem" "$dir/err"; then
	ok "missing certificates are named"
else nok "missing certificates (exit $rc)"; fi
stop

start wrongname || { echo "Bail out! cannot restart s_server"; exit 1; }
run "tcp://localhost:$port" "$dir/good"; rc=$?
if [ $rc = 3 ] && ! grep -q "Api-Version" "$dir/err"; then
	ok "a certificate for another host name is refused"
else nok "host name not verified (exit $rc)"; fi
stop

env -u DOCKER_TLS_VERIFY -u ORCHESTRATE_INSECURE_TCP \
	DOCKER_HOST=tcp://127.0.0.1:1 "$orch" version >"$dir/out" 2>"$dir/err"; rc=$?
if [ $rc = 2 ] && grep -q "refusing plain TCP" "$dir/err"; then
	ok "plain TCP is refused"
else nok "plain TCP (exit $rc)"; fi

env -u DOCKER_TLS_VERIFY ORCHESTRATE_INSECURE_TCP=1 \
	DOCKER_HOST=tcp://127.0.0.1:1 "$orch" version >"$dir/out" 2>"$dir/err"; rc=$?
if [ $rc = 3 ] && grep -q "cannot connect to the Docker engine at tcp://127.0.0.1:1" "$dir/err"; then
	ok "plain TCP when allowed: connection refused names the address"
else nok "insecure TCP (exit $rc)"; fi

echo "1..$n"
exit $failed
