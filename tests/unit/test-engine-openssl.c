/*
 * test-engine-openssl.c: the first engine of a process decides how
 * OpenSSL starts (engine.h): after a unix-socket engine, which declines
 * OpenSSL's TLS-only set-up, a TLS engine is refused by name. Its own
 * program, since the decision is once per process (test-engine.c makes
 * a TLS engine first). OpenSSL's built-in engines, which OpenSSL cannot
 * be asked to skip, are left out only after a unix-socket engine: each
 * case that needs a fresh process forks one.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_ops.h"
#include "error.h"
#include "harness.h"
#include "util.h"

/*
 * In a child, the first engine of the process is made with o; exits 0
 * when OpenSSL's engine list then holds an engine, 1 when it is empty
 * (curl_global_init() loaded none), 2 on an error.
 */
static int engines_after_first(const struct engine_opts *o)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		void *(*first)(void);
		int (*release)(void *eng);
		struct engine *e;
		void *eng;

		/* the tcp:// case is plain TCP, whatever the CI's own
		   Docker set-up says */
		unsetenv("DOCKER_TLS_VERIFY");
		*(void **)&first = dlsym(RTLD_DEFAULT, "ENGINE_get_first");
		*(void **)&release = dlsym(RTLD_DEFAULT, "ENGINE_free");
		if (!first || !release || engine_new(&e, o))
			_exit(2);
		eng = first();
		if (eng)
			release(eng);
		engine_free(e);
		_exit(eng ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

TEST(engines_only_for_tcp)
{
	struct engine_opts u = { .host = "unix:///nonexistent.sock" };
	struct engine_opts t = { .host = "tcp://10.0.0.1:2375",
		                 .allow_insecure_tcp = 1 };

	/* curl and libssh2 ask OpenSSL for its built-in engines inside
	   curl_global_init(): a unix socket leaves them out (engine.c) */
	ASSERT_EQ_INT(engines_after_first(&u), 1);
	/* a tcp:// engine gets OpenSSL exactly as curl sets it up */
	ASSERT_EQ_INT(engines_after_first(&t), 0);
}

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
	RUN(engines_only_for_tcp);
	RUN(address_tls_after_unix);
	return harness_done();
}
