/*
 * test-reference.c: image references against the distribution grammar,
 * and container, network and volume names against the engine's rule --
 * what a manifest may put into a request path.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "harness.h"
#include "reference.h"
#include "util.h"

#define SHA256                                                                 \
	"sha256:0123456789abcdef0123456789abcdef0123456789abcdef01234567"      \
	"89abcdef"

TEST(valid_images)
{
	static const char *const ok[] = {
		"busybox",
		"local/busybox",
		"local/busybox:latest",
		"localhost:5000/a/b:1.0",
		"localhost/a",
		"ghcr.io/x/y@" SHA256,
		"a:b@" SHA256,
		"busybox@" SHA256,
		"docker.io/library/debian:bookworm-slim",
		"registry.example.com:443/team/app_name/sub-dir:v1.2.3_rc1",
		"a__b/c.d/e---f:T_A-G.1",
		"Registry.Example.COM/lower/case",
		"[::1]:5000/img:tag",
		"[fe80::1]/img",
		"192.168.1.10:5000/img",
		"my-registry/x",
		"0/1",
		"localhost:5000",
		"x:" /* tag of 128 */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"x@sha512:"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (reference_check_image(ok[i]))
			FAIL_AT("'%s' refused: %s", ok[i], orch_error_last());
}

/* ref is refused, and the message says why. */
static int refused(const char *ref, const char *why)
{
	int rc = reference_check_image(ref);

	if (rc != ORCH_EINVALID) {
		printf("# '%s' accepted (%d)\n", ref, rc);
		return 0;
	}
	if (!strstr(orch_error_last(), why) ||
	    strncmp(orch_error_last(), "invalid image reference '", 25)) {
		printf("# '%s': \"%s\" lacks \"%s\"\n", ref, orch_error_last(),
		       why);
		return 0;
	}
	return 1;
}

TEST(invalid_images)
{
	char name[300], tag[200];

	ASSERT(refused("", "empty"));
	ASSERT(refused(NULL, "empty"));
	ASSERT(refused("Busybox", "repository name must be lower case: "
	                          "'Busybox'"));
	ASSERT(refused("local/BusyBox", "must be lower case: 'BusyBox'"));
	ASSERT(refused("../../v1.41/containers/json?all=1&x=",
	               "path component must be lower-case letters and digits "
	               "joined by '.', '_', '__' or '-': '..'"));
	ASSERT(refused("a/../b", "'..'"));
	ASSERT(refused("..", "'..'"));
	ASSERT(refused("busybox?x=1", "'busybox?x=1'"));
	ASSERT(refused("a&b", "'a&b'"));
	ASSERT(refused("a%2fb", "'a%2fb'"));
	ASSERT(refused("busy box", "'busy box'"));
	ASSERT(refused("busybox ", "'busybox '"));
	ASSERT(refused("busybox:la test", "a tag is letters"));
	ASSERT(refused("a//b", "empty path component"));
	ASSERT(refused("/a", "empty path component"));
	ASSERT(refused("a/", "empty path component"));
	ASSERT(refused("a:", "empty tag"));
	ASSERT(refused("a:.x", "not starting with '.' or '-'"));
	ASSERT(refused("a:-x", "not starting with '.' or '-'"));
	ASSERT(refused("a:t/x", "'a:t/x'"));
	ASSERT(refused("-a", "'-a'"));
	ASSERT(refused("a-", "'a-'"));
	ASSERT(refused("a_", "'a_'"));
	ASSERT(refused("a___b", "'a___b'"));
	ASSERT(refused("a..b", "'a..b'"));
	ASSERT(refused("busy\x1b[2Jbox", "path component"));
	ASSERT(refused("caf\xc3\xa9", "path component"));
	/* a registry that is no host name */
	ASSERT(refused("-bad.io/x", "'-bad.io'"));
	ASSERT(refused("bad..io/x", "'bad..io'"));
	ASSERT(refused("host:port/x", "'host:port'"));
	ASSERT(refused("host:/x", "'host:'"));
	ASSERT(refused("[]:5000/x", "'[]:5000'"));
	ASSERT(refused("[zz]/x", "'[zz]'"));
	/* digests */
	ASSERT(refused("a@", "a digest is ALGORITHM:HEX"));
	ASSERT(refused("a@sha256", "a digest is ALGORITHM:HEX"));
	ASSERT(refused("a@sha256:abc", "a sha256 digest has 64 hex digits, "
	                               "not 3"));
	ASSERT(refused("a@md5:0123456789abcdef0123456789abcdef",
	               "unsupported digest algorithm"));
	ASSERT(refused("a@sha256:0123456789ABCDEF0123456789abcdef0123456789ab"
	               "cdef0123456789abcdef",
	               "lower-case hex"));
	ASSERT(refused("a@" SHA256 "@" SHA256, "more than one '@'"));
	/* lengths: a name of 256, a tag of 129 */
	memset(name, 'a', 256);
	name[256] = '\0';
	ASSERT(refused(name, "the name is 256 characters, at most 255"));
	name[255] = '\0';
	ASSERT_EQ_INT(reference_check_image(name), 0);
	memset(tag, 'b', 129);
	tag[129] = '\0';
	snprintf(name, sizeof(name), "x:%s", tag);
	ASSERT(refused(name, "the tag is 129 characters, at most 128"));
}

TEST(object_names)
{
	static const char *const ok[] = { "shop-1a2b3c4d5e6f-db", "ab",
		                          "A.b_c-d", "0x", "db.1" };
	static const char *const no[] = { "",      "-db",        ".db", "_db",
		                          "a b",   "a/b",        "a:b", "..",
		                          "d\x1b", "caf\xc3\xa9" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ASSERT_EQ_INT(reference_check_name("container", ok[i]), 0);
		ASSERT_EQ_INT(reference_check_name("volume", ok[i]), 0);
		ASSERT_EQ_INT(reference_check_name("network", ok[i]), 0);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		ASSERT_EQ_INT(reference_check_name("container", no[i]),
		              ORCH_EINVALID);
		ASSERT_EQ_INT(reference_check_name("volume", no[i]),
		              ORCH_EINVALID);
		ASSERT_EQ_INT(reference_check_name("network", no[i]),
		              ORCH_EINVALID);
	}
	/* the engine wants two characters for containers and volumes */
	ASSERT_EQ_INT(reference_check_name("network", "n"), 0);
	ASSERT_EQ_INT(reference_check_name("container", "c"), ORCH_EINVALID);
	ASSERT_EQ_INT(reference_check_name("volume", "v"), ORCH_EINVALID);
	ASSERT_EQ_INT(reference_check_name("volume", NULL), ORCH_EINVALID);
	reference_check_name("volume", "a b");
	ASSERT_EQ_STR(orch_error_last(),
	              "invalid volume name 'a b': letters, digits, '_', '.' "
	              "and '-', starting with a letter or digit, at least 2 "
	              "characters");
}

int main(void)
{
	RUN(valid_images);
	RUN(invalid_images);
	RUN(object_names);
	return harness_done();
}
