/*
 * test-gate.c: the argv a gated service runs -- what Docker would run for
 * every combination of manifest entrypoint/command and image
 * Entrypoint/Cmd -- and the archives copied in (names, modes, owner).
 */
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "harness.h"
#include "util.h"

static void sv(struct strvec *v, const char *a, const char *b)
{
	strvec_init(v);
	if (a)
		strvec_push(v, a);
	if (b)
		strvec_push(v, b);
}

/* argv joined by '|' */
static char *compose(int has_ep, const char *ep0, const char *cmd0,
                     const char *iep0, const char *icmd0, const char *icmd1)
{
	struct strvec ep, cmd, iep, icmd, out = STRVEC_INIT;
	struct buf b = BUF_INIT;

	sv(&ep, ep0, NULL);
	sv(&cmd, cmd0, NULL);
	sv(&iep, iep0, NULL);
	sv(&icmd, icmd0, icmd1);
	gate_real_argv(&out, has_ep, &ep, &cmd, &iep, &icmd);
	buf_addstr(&b, "");
	for (size_t i = 0; i < out.n; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", out.v[i]);
	strvec_clear(&ep);
	strvec_clear(&cmd);
	strvec_clear(&iep);
	strvec_clear(&icmd);
	strvec_clear(&out);
	return buf_detach(&b, NULL);
}

#define CHECK(expect, ...)                                                     \
	do {                                                                   \
		char *got = compose(__VA_ARGS__);                              \
		int same = !strcmp(got, expect);                               \
		if (!same)                                                     \
			FAIL_AT("got '%s', expected '%s'", got, expect);       \
		free(got);                                                     \
		if (!same)                                                     \
			return;                                                \
	} while (0)

TEST(image_only)
{
	/* image Cmd alone, image Entrypoint + Cmd */
	CHECK("sh|-c", 0, NULL, NULL, NULL, "sh", "-c");
	CHECK("/init|redis-server", 0, NULL, NULL, "/init", "redis-server",
	      NULL);
	CHECK("/init", 0, NULL, NULL, "/init", NULL, NULL);
	CHECK("", 0, NULL, NULL, NULL, NULL, NULL);
}

TEST(command_replaces_image_cmd)
{
	CHECK("sleep", 0, NULL, "sleep", NULL, "sh", NULL);
	/* the image's entrypoint stays */
	CHECK("/init|sleep", 0, NULL, "sleep", "/init", "sh", NULL);
}

TEST(entrypoint_drops_image_cmd)
{
	CHECK("/bin/x", 1, "/bin/x", NULL, "/init", "sh", "-c");
	CHECK("/bin/x|arg", 1, "/bin/x", "arg", "/init", "sh", NULL);
	/* an empty entrypoint: no entrypoint, and still no image Cmd */
	CHECK("arg", 1, NULL, "arg", "/init", "sh", NULL);
	CHECK("", 1, NULL, NULL, "/init", "sh", NULL);
}

static unsigned long field(const char *h, size_t off, size_t n)
{
	char tmp[16];

	memcpy(tmp, h + off, n);
	tmp[n] = '\0';
	return strtoul(tmp, NULL, 8);
}

TEST(archives)
{
	struct buf b = BUF_INIT;
	const char *h;

	ASSERT_EQ_INT(gate_tar(&b, "ELF", 3), 0);
	/* the directory, then the file, then two zero blocks */
	ASSERT_EQ_INT(b.len, 512 * 5);
	ASSERT_EQ_STR(b.data, ".orchestrate/");
	h = b.data + 512;
	ASSERT_EQ_STR(h, ".orchestrate/gate");
	ASSERT_EQ_INT(field(h, 100, 7), 0755);
	ASSERT_EQ_INT(field(h, 108, 7), 0);
	ASSERT_EQ_INT(field(h, 116, 7), 0);
	ASSERT_EQ_INT(field(h, 124, 11), 3);
	ASSERT(!memcmp(h + 512, "ELF", 3));
	buf_release(&b);

	ASSERT_EQ_INT(gate_go_tar(&b), 0);
	ASSERT_EQ_STR(b.data, ".orchestrate/go");
	ASSERT_EQ_INT(field(b.data, 124, 11), 0);
	buf_release(&b);
}

int main(void)
{
	RUN(image_only);
	RUN(command_replaces_image_cmd);
	RUN(entrypoint_drops_image_cmd);
	RUN(archives);
	return harness_done();
}
