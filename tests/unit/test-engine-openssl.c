/*
 * test-engine-openssl.c: the first engine of a process decides how
 * OpenSSL starts (engine.h): after a unix-socket engine, which declines
 * OpenSSL's TLS-only set-up, a TLS engine is refused by name. Its own
 * program, since the decision is once per process (test-engine.c makes
 * a TLS engine first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_ops.h"
#include "error.h"
#include "harness.h"
#include "util.h"

TEST(address_tls_after_unix)
{
	struct engine_opts u = { .host = "unix:///nonexistent.sock" };
	struct engine_opts t = { .host = "tcp://10.0.0.1:2376" };
	char dir[] = "/tmp/orch-test-certs-XXXXXX";
	const char *names[] = { "ca.pem", "cert.pem", "key.pem" };
	struct engine *e;

	/* the first engine of this process was a unix socket: OpenSSL was
	   set up without TLS, so TLS now fails at once, by name */
	ASSERT_EQ_INT(engine_new(&e, &u), 0);
	engine_free(e);
	ASSERT(mkdtemp(dir) != NULL);
	for (int i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		FILE *f = fopen(p, "w");

		ASSERT(f != NULL);
		fclose(f);
		free(p);
	}
	setenv("DOCKER_TLS_VERIFY", "1", 1);
	setenv("DOCKER_CERT_PATH", dir, 1);
	ASSERT_EQ_INT(engine_new(&e, &t), ORCH_EINVALID);
	ASSERT(e == NULL);
	ASSERT_CONTAINS(orch_error_last(), "engine at 'tcp://10.0.0.1:2376': "
	                                   "TLS after a unix-socket engine");
	unsetenv("DOCKER_TLS_VERIFY");
	unsetenv("DOCKER_CERT_PATH");
	for (int i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);

		unlink(p);
		free(p);
	}
	rmdir(dir);
}

int main(void)
{
	RUN(address_tls_after_unix);
	return harness_done();
}
