#!/usr/bin/env bash
# Built images: a build that moves a tag off an image an earlier run
# built removes that image once untagged and unused; `down --rmi`: the
# images the project built go, every tag of each; an image a container
# still uses stays, with all its tags; a container started by hand from a
# built image (it inherits the image's labels) is not the project's to
# `down`.
. "$(dirname "$0")/life-lib.sh"

img="$PROJECT-img"
mkdir -p "$WORK/ctx"
printf 'FROM local/busybox\nCMD ["sleep", "300"]\n' >"$WORK/ctx/Dockerfile"
cat >"$WORK/orchestrate.yaml" <<YAML
services:
  svc:
    build: ctx
    image: $img:a
YAML
user="$PROJECT-by-hand"
cleanup_extra() {
	"$ORCH" -p "$PROJECT-other" down --rmi >/dev/null 2>&1
	docker rm -f "$user" >/dev/null 2>&1
	docker image rm -f "$img:a" "$img:b" >/dev/null 2>&1
}
trap cleanup_extra EXIT

cd "$WORK"
# another project builds the tag first; this project's build moves the
# tag to an image of its own (the label differs), and the untagged,
# unused image of the other one goes rather than pile up
other="$PROJECT-other"
"$ORCH" -p "$other" up >up0.out 2>&1 || fail "up of the other project: exit $?"
id0=$(docker image inspect -f '{{.Id}}' "$img:a")
"$ORCH" -p "$other" down >/dev/null 2>&1
"$ORCH" -p "$PROJECT" up >up.out 2>up.err || fail "up: exit $?"
id1=$(docker image inspect -f '{{.Id}}' "$img:a")
[ -n "$id0" ] && [ "$id0" != "$id1" ] &&
	! docker image inspect "$id0" >/dev/null 2>&1 &&
	ok "a build that moves the tag removes the image it left untagged" ||
	fail "the superseded image $id0 is still there (now $id1)"
docker tag "$img:a" "$img:b"
"$ORCH" -p "$PROJECT" down >down1.out 2>&1 || fail "down: exit $?"
docker image inspect "$img:a" >/dev/null 2>&1 &&
	ok "down keeps the built image (the build cache)" ||
	fail "down removed the built image"

docker run -d --name "$user" "$img:a" >/dev/null || fail "docker run"
"$ORCH" -p "$PROJECT" down --rmi >down2.out 2>&1
rc=$?
[ $rc = 0 ] && ok "down --rmi with the image in use: exit 0" ||
	fail "down --rmi with the image in use: exit $rc"
[ "$(docker inspect -f '{{.State.Running}}' "$user" 2>/dev/null)" = true ] &&
	ok "the container started by hand from the image is left alone" ||
	fail "down removed a container it did not create"
docker image inspect "$img:a" >/dev/null 2>&1 &&
	docker image inspect "$img:b" >/dev/null 2>&1 &&
	ok "the image in use stays, with both its tags" ||
	fail "the image in use lost a tag"
grep -q "kept 1 image a container uses" down2.out &&
	ok "down --rmi says it kept it" || fail "no 'kept' line"

docker rm -f "$user" >/dev/null
"$ORCH" -p "$PROJECT" down --rmi >down3.out 2>&1 || fail "down --rmi: exit $?"
! docker image inspect "$img:a" >/dev/null 2>&1 &&
	! docker image inspect "$img:b" >/dev/null 2>&1 &&
	ok "once unused, down --rmi removes it, both tags" ||
	fail "the image is still there"
grep -q "removed 1 image" down3.out && ok "and says so" ||
	fail "no 'removed 1 image' line"
[ "$FAILED" = 0 ] || { show up0.out; show down1.out; show down2.out; show down3.out; show up.err; }
assert_nothing_left "after down --rmi"
finish
