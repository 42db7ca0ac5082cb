#!/bin/sh
# manifest-fixtures.sh ORCHESTRATE FIXTURES: run the real binary over the
# manifest fixtures, as a user would, and report TAP.
#
#   FIXTURES/invalid/NAME.yaml  `orchestrate -f NAME.yaml validate` exits 2
#                               and stderr holds the exact line in NAME.err
#   FIXTURES/valid/NAME.yaml    exits 0; each line of an optional NAME.warn
#                               appears on stderr
#   NAME.args                   (optional) the global options to run with
#                               instead of `-f NAME.yaml`: several -f,
#                               --profile; the other files they name live
#                               in parts/ beside the fixtures
#
# Each runs in its fixture directory (so FILE in messages is NAME.yaml)
# with a clean environment: only what the fixtures expect is set.
set -u
bin=$1
fixtures=$2
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
case $fixtures in /*) ;; *) fixtures=$(pwd)/$fixtures ;; esac

n=0
failed=0
err=$(mktemp)
trap 'rm -f "$err"' EXIT

run() {
	local args="-f $1"

	[ -f "${1%.yaml}.args" ] && args=$(cat "${1%.yaml}.args")
	# shellcheck disable=SC2086 # the options are words
	env -i PATH="$PATH" HOME=/nonexistent FIXTURE_IMAGE_TAG=1.25 \
		"$bin" $args validate >/dev/null 2>"$err"
}

# every line of $1 is a line of stderr
has_lines() {
	while IFS= read -r line; do
		grep -Fqx -e "$line" "$err" || return 1
	done <"$1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok $n - $1"
	sed 's/^/# /' "$err"
}

cd "$fixtures/invalid" || exit 1
for f in *.yaml; do
	n=$((n + 1))
	name=${f%.yaml}
	if [ ! -f "$name.err" ]; then
		echo "not ok $n - invalid/$f: no $name.err"
		failed=$((failed + 1))
		continue
	fi
	run "$f"
	rc=$?
	if [ $rc -ne 2 ]; then
		not_ok "invalid/$f: exit $rc, expected 2"
	elif ! has_lines "$name.err"; then
		not_ok "invalid/$f: expected $(cat "$name.err")"
	else
		echo "ok $n - invalid/$f"
	fi
done

cd "$fixtures/valid" || exit 1
for f in *.yaml; do
	n=$((n + 1))
	name=${f%.yaml}
	run "$f"
	rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "valid/$f: exit $rc"
		continue
	fi
	if [ -f "$name.warn" ] && ! has_lines "$name.warn"; then
		not_ok "valid/$f: expected warnings $(cat "$name.warn")"
		continue
	fi
	echo "ok $n - valid/$f"
done
echo "1..$n"
[ $failed -eq 0 ]
