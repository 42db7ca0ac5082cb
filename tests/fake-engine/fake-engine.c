/*
 * fake-engine.c: a tiny HTTP/1.1 server on a unix socket that answers
 * like a Docker engine, with canned replies per scenario (in the style
 * of curl's tests/server). It exists for the error paths a real engine
 * rarely shows: 404, 409, 304, 400 "client version too old", errors
 * inside 200 streams, truncated frames, and requests answered late or
 * never (network creates named "late" and "hung", below).
 *
 *   fake-engine SOCKET SCENARIO
 *
 * Scenarios: "ok" (everything below), "too-old" (every versioned request
 * gets the 400 of an engine whose minimum API is newer), "hang" (accepts
 * connections and never answers), "old-engine" (Api-Version 1.38),
 * "new-engine" (Api-Version 1.45), "downgraded" (the first /_ping says
 * 1.43, later ones 1.41, and /v1.43/ requests get the 400 "too new": an
 * engine replaced by an older one), "upgraded" (1.40, then 1.43, and
 * /v1.40/ is "too old"), "podman" (its /_ping carries Podman's
 * Libpod-Api-Version header too).
 *
 * One process per connection, so a hanging request does not block the
 * others; children die with the server. It is not a general HTTP server:
 * no chunked request bodies, no pipelining.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *scenario;
/* shared by every connection's process: counts exec inspects, accepted
   connections, pings, network creates received and network creates
   answered (GET /_conns, /_pings, /_creates and /_answered answer the
   last four) */
static unsigned *inspects, *conns, *pings, *creates, *answered;

static void put(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(0);
		s += w;
		n -= (size_t)w;
	}
}

static void puts_fd(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

static void nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void reply(int fd, int status, const char *reason, const char *body)
{
	char h[512];

	snprintf(h, sizeof(h),
	         "HTTP/1.1 %d %s\r\nApi-Version: 1.41\r\n"
	         "Server: Docker/20.10.24 (linux)\r\n"
	         "Content-Type: application/json\r\n"
	         "Content-Length: %zu\r\n\r\n",
	         status, reason, body ? strlen(body) : 0);
	puts_fd(fd, h);
	if (body)
		puts_fd(fd, body);
}

/* A body delimited by closing the connection, as hijacked streams are. */
static void stream_head(int fd, const char *ctype)
{
	char h[256];

	snprintf(h, sizeof(h),
	         "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
	         "Content-Type: %s\r\nConnection: close\r\n\r\n",
	         ctype);
	puts_fd(fd, h);
}

static void frame(int fd, int type, const char *s, size_t n)
{
	unsigned char h[8] = { (unsigned char)type,
		               0,
		               0,
		               0,
		               (unsigned char)(n >> 24),
		               (unsigned char)(n >> 16),
		               (unsigned char)(n >> 8),
		               (unsigned char)n };

	put(fd, h, 8);
	put(fd, s, n);
}

static void never_answer(int fd)
{
	char b[256];

	/* until the client gives up and closes */
	while (read(fd, b, sizeof(b)) > 0)
		;
	_exit(0);
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* A chunked streaming response head, as /events sends. */
static void chunked_head(int fd)
{
	puts_fd(fd, "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
	            "Content-Type: application/json\r\n"
	            "Transfer-Encoding: chunked\r\n\r\n");
}

static void chunk(int fd, const char *s, size_t n)
{
	char h[32];

	snprintf(h, sizeof(h), "%zx\r\n", n);
	puts_fd(fd, h);
	put(fd, s, n);
	puts_fd(fd, "\r\n");
}

#define DIE_EVENT                                                              \
	"{\"Type\":\"container\",\"Action\":\"die\",\"Actor\":{\"ID\":"        \
	"\"c1\",\"Attributes\":{\"exitCode\":\"137\"}},\"timeNano\":5}\n"

/*
 * Variants of /events chosen by the since= the client sends:
 *   7  a die event, then a corrupt chunk in the same write (the engine
 *      going away mid-stream): the event must still be delivered
 *   8  a 2 MiB line, then a die event: the long line is skipped
 *   9  an event without timeNano and without a final newline, then EOF
 */
static int events_variant(int fd, const char *path)
{
	if (strstr(path, "since=7")) {
		char b[512];
		int n = snprintf(b, sizeof(b), "%zx\r\n%s\r\nzz\r\n",
		                 strlen(DIE_EVENT), DIE_EVENT);

		chunked_head(fd);
		put(fd, b, (size_t)n);
		return 1;
	}
	if (strstr(path, "since=8")) {
		size_t n = (size_t)2 << 20;
		char *big = malloc(n);

		if (!big)
			_exit(1);
		memset(big, 'x', n);
		big[0] = '{';
		chunked_head(fd);
		chunk(fd, big, n);
		chunk(fd, "\n", 1);
		free(big);
		chunk(fd, DIE_EVENT, strlen(DIE_EVENT));
		never_answer(fd);
	}
	if (strstr(path, "since=9")) {
		static const char ev[] =
		        "{\"Type\":\"container\",\"Action\":\"oom\","
		        "\"Actor\":{\"ID\":\"c1\",\"Attributes\":{}}}";

		chunked_head(fd);
		chunk(fd, ev, strlen(ev));
		puts_fd(fd, "0\r\n\r\n");
		return 1;
	}
	return -1;
}

static void count_reply(int fd, const unsigned *n)
{
	char b[32];

	snprintf(b, sizeof(b), "{\"n\":%u}",
	         __atomic_load_n(n, __ATOMIC_SEQ_CST));
	reply(fd, 200, "OK", b);
}

/*
 * POST /networks/create by the name asked for: "hung" is never answered,
 * "late" is answered after 600 ms (an engine under load), any other at
 * once. An answer counts once written: to a client that went away the
 * write fails and the process ends first.
 */
static void network_create(int fd, const char *body)
{
	__atomic_add_fetch(creates, 1, __ATOMIC_SEQ_CST);
	if (strstr(body, "\"Name\":\"hung\""))
		never_answer(fd);
	if (strstr(body, "\"Name\":\"late\""))
		nap(600);
	reply(fd, 201, "Created", "{\"Id\":\"n1\",\"Warning\":\"\"}");
	__atomic_add_fetch(answered, 1, __ATOMIC_SEQ_CST);
}

/* Returns 0 to keep the connection, 1 to close it. */
static int answer(int fd, const char *method, const char *path,
                  const char *body)
{
	if (!strcmp(scenario, "hang"))
		never_answer(fd);
	if (!strcmp(scenario, "not-docker")) {
		/* some other web server on DOCKER_HOST's address */
		reply(fd, 404, "Not Found", "<html>not found</html>");
		return 1;
	}
	if (!strcmp(path, "/_ping")) {
		unsigned n = __atomic_add_fetch(pings, 1, __ATOMIC_SEQ_CST);
		const char *v = !strcmp(scenario, "old-engine")   ? "1.38"
		                : !strcmp(scenario, "new-engine") ? "1.45"
		                : !strcmp(scenario, "downgraded")
		                        ? (n == 1 ? "1.43" : "1.41")
		                : !strcmp(scenario, "upgraded")
		                        ? (n == 1 ? "1.40" : "1.43")
		                        : "1.41";
		char h[256];

		snprintf(h, sizeof(h),
		         "HTTP/1.1 200 OK\r\nApi-Version: %s\r\n%s"
		         "Content-Type: text/plain; charset=utf-8\r\n"
		         "Content-Length: 2\r\n\r\nOK",
		         v,
		         !strcmp(scenario, "podman")
		                 ? "Libpod-Api-Version: 4.3.1\r\n"
		                 : "");
		puts_fd(fd, h);
		return 0;
	}
	if (strstr(path, "/_conns")) {
		count_reply(fd, conns);
		return 0;
	}
	if (strstr(path, "/_pings")) {
		count_reply(fd, pings);
		return 0;
	}
	if (strstr(path, "/_creates")) {
		count_reply(fd, creates);
		return 0;
	}
	if (strstr(path, "/_answered")) {
		count_reply(fd, answered);
		return 0;
	}
	if (!strcmp(scenario, "downgraded") && starts(path, "/v1.43/")) {
		reply(fd, 400, "Bad Request",
		      "{\"message\":\"client version 1.43 is too new. "
		      "Maximum supported API version is 1.41\"}");
		return 0;
	}
	if (!strcmp(scenario, "downgraded") &&
	    starts(path, "/v1.41/containers/refused/")) {
		/* refused on the renegotiated version too */
		reply(fd, 400, "Bad Request",
		      "{\"message\":\"client version 1.41 is too old. Minimum "
		      "supported API version is 1.44\"}");
		return 0;
	}
	if (!strcmp(scenario, "upgraded") && starts(path, "/v1.40/")) {
		reply(fd, 400, "Bad Request",
		      "{\"message\":\"client version 1.40 is too old. Minimum "
		      "supported API version is 1.41, please upgrade your "
		      "client to a newer version\"}");
		return 0;
	}
	if (!strcmp(scenario, "too-old") && starts(path, "/v1.")) {
		reply(fd, 400, "Bad Request",
		      "{\"message\":\"client version 1.41 is too old. Minimum "
		      "supported API version is 1.44, please upgrade your "
		      "client to a newer version\"}");
		return 0;
	}
	if (strstr(path, "/version")) {
		reply(fd, 200, "OK",
		      "{\"Version\":\"99.0-fake\",\"ApiVersion\":\"1.41\","
		      "\"MinAPIVersion\":\"1.12\",\"Os\":\"linux\",\"Arch\":"
		      "\"amd64\"}");
		return 0;
	}
	if (starts(path, "/v1.43/"))
		path += 6; /* new-engine: same answers */
	else if (starts(path, "/v1.41/"))
		path += 6;
	else {
		reply(fd, 400, "Bad Request",
		      "{\"message\":\"unversioned request\"}");
		return 0;
	}
	if (!strcmp(method, "POST") && !strcmp(path, "/networks/create")) {
		network_create(fd, body);
	} else if (!strcmp(path, "/containers/missing/json")) {
		reply(fd, 404, "Not Found",
		      "{\"message\":\"No such container: missing\"}");
	} else if (starts(path, "/containers/create")) {
		reply(fd, 409, "Conflict",
		      "{\"message\":\"Conflict. The container name \\\"/web\\\" "
		      "is already in use by container \\\"abc\\\". You have "
		      "to remove (or rename) that container to be able to "
		      "reuse that name.\"}");
	} else if (strstr(path, "/start") && starts(path, "/containers/")) {
		reply(fd, 304, "Not Modified", NULL);
	} else if (strstr(path, "/stop") && starts(path, "/containers/")) {
		reply(fd, 304, "Not Modified", NULL);
	} else if (starts(path, "/containers/hung/wait")) {
		/* a hung engine, or a container that runs on */
		never_answer(fd);
	} else if (strstr(path, "/wait") && starts(path, "/containers/")) {
		reply(fd, 200, "OK", "{\"StatusCode\":3,\"Error\":null}");
	} else if (starts(path, "/images/create?fromImage=split")) {
		/* an "error" without errorDetail, split mid-string across
		   writes, and no final newline */
		stream_head(fd, "application/json");
		puts_fd(fd, "{\"status\":\"Pulling\"}\n{\"error\":\"manifest "
		            "for split:1 not ");
		nap(50);
		puts_fd(fd, "found\"}");
		return 1;
	} else if (starts(path, "/images/create?fromImage=stall")) {
		/* a registry that stops sending: the connection stays */
		stream_head(fd, "application/json");
		puts_fd(fd, "{\"status\":\"Pulling from library/stall\"}\n");
		never_answer(fd);
	} else if (starts(path, "/images/create?fromImage=trickle")) {
		/* slow but moving: 1.2 s in all, a line every 150 ms */
		stream_head(fd, "application/json");
		for (int i = 0; i < 8; i++) {
			puts_fd(fd, "{\"status\":\"Downloading\"}\n");
			nap(150);
		}
		puts_fd(fd, "{\"error\":\"trickle ended\"}\n");
		return 1;
	} else if (starts(path, "/build")) {
		/* a build whose step goes silent for good */
		stream_head(fd, "application/json");
		puts_fd(fd, "{\"stream\":\"Step 1/2 : FROM scratch\\n\"}\n");
		never_answer(fd);
	} else if (starts(path, "/images/create")) {
		stream_head(fd, "application/json");
		puts_fd(fd, "{\"status\":\"Pulling from library/x\",\"id\":"
		            "\"1\"}\r\n{\"status\":\"Downloading\",\"progress"
		            "Detail\":{\"current\":1,\"total\":2},\"id\":\"a\"}"
		            "\r\n");
		nap(50);
		puts_fd(fd, "{\"errorDetail\":{\"message\":\"read tcp: "
		            "connection reset by peer\"},\"error\":\"read "
		            "tcp: connection reset by peer\"}\r\n");
		return 1;
	} else if (starts(path, "/containers/") && strstr(path, "/json")) {
		int tty = strstr(path, "/tty/") != NULL;
		char b[256];

		snprintf(b, sizeof(b),
		         "{\"Id\":\"x\",\"Name\":\"/x\",\"Config\":{\"Tty\":%s,"
		         "\"Image\":\"i\"},\"State\":{\"Status\":\"running\","
		         "\"Running\":true}}",
		         tty ? "true" : "false");
		reply(fd, 200, "OK", b);
	} else if (starts(path, "/containers/trunc/logs")) {
		stream_head(fd, "application/octet-stream");
		frame(fd, 1, "first line\n", 11);
		/* a header promising 100 bytes, then only 10 */
		put(fd, "\1\0\0\0\0\0\0\144", 8);
		put(fd, "0123456789", 10);
		return 1;
	} else if (starts(path, "/containers/big/logs")) {
		/* more output than the reader wants, then it keeps going */
		char line[1024];

		memset(line, 'y', sizeof(line));
		stream_head(fd, "application/octet-stream");
		for (int i = 0; i < 64; i++)
			frame(fd, 1, line, sizeof(line));
		never_answer(fd);
	} else if (starts(path, "/containers/good/logs")) {
		stream_head(fd, "application/octet-stream");
		frame(fd, 1, "out 1\n", 6);
		nap(20);
		frame(fd, 2, "err 1\n", 6);
		frame(fd, 1, "out 2\n", 6);
		return 1;
	} else if (starts(path, "/containers/tty/logs")) {
		stream_head(fd, "application/octet-stream");
		puts_fd(fd, "raw tty output\r\n");
		return 1;
	} else if (starts(path, "/containers/slow/exec")) {
		reply(fd, 201, "Created", "{\"Id\":\"exec2\"}");
	} else if (starts(path, "/exec/exec2/start")) {
		stream_head(fd, "application/vnd.docker.raw-stream");
		frame(fd, 1, "started\n", 8);
		never_answer(fd);
	} else if (starts(path, "/containers/settle/exec")) {
		reply(fd, 201, "Created", "{\"Id\":\"exec4\"}");
	} else if (starts(path, "/exec/exec4/start")) {
		/* the output closes before the engine records the exit */
		stream_head(fd, "application/vnd.docker.raw-stream");
		frame(fd, 1, "done\n", 5);
		return 1;
	} else if (starts(path, "/exec/exec4/json")) {
		if (__atomic_add_fetch(inspects, 1, __ATOMIC_SEQ_CST) <= 3)
			reply(fd, 200, "OK",
			      "{\"ExitCode\":null,\"Running\":true}");
		else
			reply(fd, 200, "OK",
			      "{\"ExitCode\":7,\"Running\":false}");
	} else if (starts(path, "/containers/") && strstr(path, "/exec")) {
		reply(fd, 201, "Created", "{\"Id\":\"exec1\"}");
	} else if (starts(path, "/exec/exec1/start")) {
		stream_head(fd, "application/vnd.docker.raw-stream");
		frame(fd, 1, "partial output\n", 15);
		/* after the hijack errors are plain text: never parsed */
		frame(fd, 1, "error: OCI runtime exec failed\n", 31);
		return 1;
	} else if (starts(path, "/exec/exec1/json")) {
		reply(fd, 200, "OK", "{\"ExitCode\":3,\"Running\":false}");
	} else if (starts(path, "/events") && events_variant(fd, path) > 0) {
		return 1;
	} else if (starts(path, "/events")) {
		stream_head(fd, "application/json");
		/* one event split across writes, then another */
		puts_fd(fd,
		        "{\"Type\":\"container\",\"Action\":\"start\","
		        "\"Actor\":{\"ID\":\"c1\",\"Attributes\":{\"name\":");
		nap(30);
		puts_fd(fd, "\"web\",\"orch.run\":\"r1\"}},\"timeNano\":1}\n");
		nap(30);
		puts_fd(fd,
		        "{\"Type\":\"container\",\"Action\":\"die\",\"Actor\""
		        ":{\"ID\":\"c1\",\"Attributes\":{\"name\":\"web\","
		        "\"exitCode\":\"137\"}},\"timeNano\":2}\n");
		never_answer(fd);
	} else if (starts(path, "/info")) {
		never_answer(fd);
	} else {
		reply(fd, 404, "Not Found", "{\"message\":\"page not found\"}");
	}
	return 0;
}

static void serve(int fd)
{
	char req[65536], body[4096];
	size_t len = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		char *end, method[16], path[4096];
		long clen = 0;
		char *cl;
		size_t head, blen;

		while (!(end = memmem(req, len, "\r\n\r\n", 4))) {
			ssize_t r;

			if (len == sizeof(req))
				_exit(1);
			r = read(fd, req + len, sizeof(req) - len);
			if (r <= 0)
				_exit(0);
			len += (size_t)r;
		}
		head = (size_t)(end - req) + 4;
		*end = '\0';
		if (sscanf(req, "%15s %4095s", method, path) != 2)
			_exit(1);
		cl = strcasestr(req, "\r\ncontent-length:");
		if (cl)
			clen = strtol(cl + 17, NULL, 10);
		/* skip the body (the tests send small ones) */
		if (head + (size_t)clen > sizeof(req))
			_exit(1);
		while (len < head + (size_t)clen) {
			ssize_t r = read(fd, req + len, sizeof(req) - len);

			if (r <= 0)
				_exit(0);
			len += (size_t)r;
		}
		/* enough of it to choose an answer by */
		blen = (size_t)clen < sizeof(body) ? (size_t)clen
		                                   : sizeof(body) - 1;
		memcpy(body, req + head, blen);
		body[blen] = '\0';
		memmove(req, req + head + clen, len - head - (size_t)clen);
		len -= head + (size_t)clen;
		if (answer(fd, method, path, body))
			break;
	}
	close(fd);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd;

	if (argc != 3) {
		fputs("usage: fake-engine SOCKET SCENARIO\n", stderr);
		return 2;
	}
	scenario = argv[2];
	inspects = mmap(NULL, 5 * sizeof(*inspects), PROT_READ | PROT_WRITE,
	                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (inspects == MAP_FAILED)
		return 1;
	conns = inspects + 1;
	pings = inspects + 2;
	creates = inspects + 3;
	answered = inspects + 4;
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 16)) {
		perror("fake-engine");
		return 1;
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		__atomic_add_fetch(conns, 1, __ATOMIC_SEQ_CST);
		if (fork() == 0) {
			close(lfd);
			serve(fd);
		}
		close(fd);
	}
}
