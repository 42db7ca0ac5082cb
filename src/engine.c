/*
 * engine.c: the Docker Engine API client's transport (engine.h): the
 * address and TLS, API version negotiation and renegotiation, the
 * asynchronous core on one curl multi handle, interruption and settling.
 * The only file that includes curl. The operations built on it live in
 * the other engine_*.c files (engine_int.h lists them).
 *
 * What it deliberately does not do: it knows nothing of manifests,
 * services or suites, it never prints, it never retries on its own (the
 * caller knows whether an operation is idempotent), it never sends
 * credentials (no X-Registry-Auth) and never logs request headers, and it
 * does not hijack connections for stdin (exec output is read as an
 * ordinary body until the engine closes it).
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "engine_int.h"
#include "error.h"
#include "tar.h"

#define API_MIN_MAJOR     1
#define API_MIN_MINOR     40
#define API_MAX_MAJOR     1
#define API_MAX_MINOR     43
#define DEFAULT_SOCKET    "/var/run/docker.sock"
#define DEFAULT_BODY_CAP  (16u << 20)
#define ERROR_BODY_CAP    (64u << 10)
#define STREAM_LINE_CAP   (1u << 20)
#define PENDING_CAP       (64u << 20)
#define EXEC_OUTPUT_CAP   (64u << 10)
#define EXEC_SETTLE_MS    2000
#define DEFAULT_FRAME_CAP (1u << 20)
/* a pull sends progress every second or so while it moves at all */
#define STALL_PULL_MS 60000L
/* a build prints only what its steps print: a RUN step may compile for
   minutes in silence */
#define STALL_BUILD_MS 600000L

struct engine {
	char *address;     /* what the user sees: unix:///... or tcp://... */
	char *socket_path; /* unix sockets */
	char *base_url;    /* "http://localhost" or "https://host:port" */
	char *ca, *cert, *key;
	char *warnings; /* lines for the user, or NULL */
	long connect_timeout_ms;
	long request_timeout_ms;
	long stall_pull_ms, stall_build_ms; /* 0: none */
	int api_major, api_minor;
	char api[16];
	int connected;
	int is_podman; /* its /_ping said Libpod-Api-Version */
	int pinned;    /* DOCKER_API_VERSION: never renegotiated */
	CURLM *multi;
	struct engine_call *active;  /* submitted and not yet finished */
	struct engine_call *failed;  /* finished at submission, not reported */
	struct engine_call *delayed; /* submitted once start_at has come */
	struct engine_call *parked;  /* refused for their API version */
	struct engine_call *reping;  /* the /_ping the parked calls wait for */
	volatile sig_atomic_t woken;
	volatile sig_atomic_t interrupts; /* engine_interrupt() count */
	/* the count engine_interrupt_clear() accepted: only we write it */
	sig_atomic_t interrupts_seen;
};

struct engine_call {
	struct engine *e;
	CURL *easy;
	struct curl_slist *headers;
	char *method;
	char *path; /* versioned, without the query: for messages */
	char *rel;  /* unversioned, with the query: to send it again */
	char *url;
	char api_used[16];  /* the version in its path, "" for none */
	int renegotiated;   /* refused for its version once already */
	char *version_note; /* why renegotiating did not help */
	char *req_body;
	int body_borrowed; /* req_body is the caller's: not copied, not freed */
	size_t req_len;
	struct buf body;    /* buffered body, or the error body of a stream */
	struct buf pending; /* stream data not yet given to on_data */
	long status;
	long timeout_ms;
	long stall_ms;         /* 0: may stay silent */
	int64_t last_progress; /* when a byte last moved (monotonic ms) */
	curl_off_t last_sent;  /* request bytes sent by then */
	int64_t start_at;      /* on e->delayed: when to hand it to curl */
	int done, result, delivering, aborted, streaming, deferred;
	int keep_on_interrupt; /* engine_request.keep_on_interrupt */
	int orphan;     /* left running by an interrupted operation: ours */
	int abort_code; /* why on_data stopped the call, with abort_msg */
	char *abort_msg;
	CURLcode deferred_cc;
	char *error;
	char api_header[16];
	int libpod; /* a Libpod-Api-Version header came: Podman's API */
	engine_data_fn on_data;
	engine_done_fn on_done;
	void *ud;
	void *data_ud;
	/* state of the operation built on this call, freed with it */
	void *priv;
	void (*priv_free)(void *);
	void (*priv_end)(struct engine_call *c); /* checks a clean end */
	void (*priv_abandon)(void *); /* engine_free(): the op owns c */
	struct engine_call *next, **pprev;
	char errbuf[CURL_ERROR_SIZE];
};

static unsigned curl_users;
/* the first engine of the process decides how OpenSSL starts (below) */
static int tls_decided, tls_declined;

/* ---- what curl's libraries do before and at curl_global_init --------- */

/*
 * GnuTLS initialises itself from a library constructor, before main(), in
 * every process that loads it. Debian's libcurl loads it only as a
 * dependency of librtmp (rtmp://, which we never allow); that
 * initialisation (its crypto back-end, ASN.1 trees, p11-kit) costs about
 * 0.9 MB of resident memory that nothing here uses. Defining this symbol
 * in the executable is GnuTLS's documented way to skip the implicit
 * initialisation (GNUTLS_SKIP_GLOBAL_INIT in gnutls/gnutls.h): whoever
 * does use GnuTLS calls gnutls_global_init() explicitly first (librtmp,
 * libldap and curl's GnuTLS back-end all do). meson.build exports it.
 */
int _gnutls_global_init_skip(void);
int _gnutls_global_init_skip(void)
{
	return 1;
}

/*
 * curl_global_init() initialises OpenSSL (curl's TLS back-end, and
 * libssh2's crypto through curl) with its configuration file, every
 * cipher and digest name and every error string: about 0.7 MB resident.
 * A unix socket never carries TLS, so none of it is ever read. OpenSSL
 * runs each of those steps once per process, and a step declined first
 * counts as done, so declining them before curl_global_init() makes
 * curl's own initialisation skip them. No OpenSSL among the libraries
 * loaded (curl's), nothing to do. The first engine of a process decides
 * (engine.h); a tcp:// engine leaves OpenSSL exactly as curl sets it up,
 * the user's configuration included. Without the digest names TLS
 * cannot even load a client certificate, so a TLS engine after a
 * declined initialisation is refused in engine_new().
 *
 * One step cannot be declined: OpenSSL's built-in engines (rdrand,
 * dynamic, padlock), which curl asks OPENSSL_init_ssl() for and libssh2's
 * initialisation loads again with ENGINE_load_builtin_engines() and
 * ENGINE_register_all_complete(), all inside curl_global_init(). Loading
 * them reads another 0.4 MB of libcrypto, and OpenSSL has no flag that
 * says no. So the executable defines those three functions; meson.build
 * exports them, and the dynamic linker binds curl's and libssh2's calls
 * here before OpenSSL's own. Each goes on to OpenSSL's function (the
 * next definition, RTLD_NEXT) unchanged unless OpenSSL was declined, and
 * then leaves the engines out. OpenSSL 3 marks engines deprecated; TLS
 * does not need them.
 */

/* OPENSSL_INIT_* of openssl/crypto.h and openssl/ssl.h, the same values
   since OpenSSL 1.1.0 */
#define OSSL_NO_CRYPTO_STRINGS 0x1ULL
#define OSSL_NO_CIPHERS        0x10ULL
#define OSSL_NO_DIGESTS        0x20ULL
#define OSSL_NO_CONFIG         0x80ULL
#define OSSL_ENGINES           0xfe00ULL /* OPENSSL_INIT_ENGINE_* */
#define OSSL_NO_SSL_STRINGS    0x100000ULL

/*
 * OpenSSL's own definition of name: the next after the executable's, or,
 * when that library was opened later and privately (a libgit2 built
 * against OpenSSL beside a curl that is not, say), from the loaded lib
 * ("ssl" or "crypto"). Cached once found.
 */
static void *openssl_next(void **cache, const char *name, const char *lib)
{
	static const char *const sonames[] = { "3", "1.1" };

	if (*cache)
		return *cache;
	*cache = dlsym(RTLD_NEXT, name);
	for (size_t i = 0; !*cache && i < sizeof(sonames) / sizeof(*sonames);
	     i++) {
		char so[32];
		void *h;

		snprintf(so, sizeof(so), "lib%s.so.%s", lib, sonames[i]);
		h = dlopen(so, RTLD_LAZY | RTLD_NOLOAD);
		if (h) {
			*cache = dlsym(h, name);
			dlclose(h);
		}
	}
	return *cache;
}

int OPENSSL_init_ssl(uint64_t opts, const void *settings);
int OPENSSL_init_ssl(uint64_t opts, const void *settings)
{
	static void *cache;
	int (*next)(uint64_t opts, const void *settings);

	*(void **)&next = openssl_next(&cache, "OPENSSL_init_ssl", "ssl");
	if (!next)
		return 0;
	return next(tls_declined ? opts & ~OSSL_ENGINES : opts, settings);
}

void ENGINE_load_builtin_engines(void);
void ENGINE_load_builtin_engines(void)
{
	static void *cache;
	void (*next)(void);

	*(void **)&next =
	        openssl_next(&cache, "ENGINE_load_builtin_engines", "crypto");
	if (next && !tls_declined)
		next();
}

int ENGINE_register_all_complete(void);
int ENGINE_register_all_complete(void)
{
	static void *cache;
	int (*next)(void);

	*(void **)&next =
	        openssl_next(&cache, "ENGINE_register_all_complete", "crypto");
	return next && !tls_declined ? next() : 1;
}

static void decline_tls_init(void)
{
	/* 0 when no OpenSSL is loaded */
	if (OPENSSL_init_ssl(OSSL_NO_CRYPTO_STRINGS | OSSL_NO_CIPHERS |
	                             OSSL_NO_DIGESTS | OSSL_NO_CONFIG |
	                             OSSL_NO_SSL_STRINGS,
	                     NULL))
		tls_declined = 1;
}

static int parse_api(const char *s, int *major, int *minor)
{
	long a, b;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	a = strtol(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end || a > 99 || b > 999)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

static int api_cmp(int a1, int b1, int a2, int b2)
{
	return a1 != a2 ? (a1 < a2 ? -1 : 1) : (b1 < b2 ? -1 : b1 > b2);
}

/* ---- engine_new, connect, negotiation --------------------------------- */

static int cert_file(const char *dir, const char *name, char **out)
{
	*out = xasprintf("%s/%s", dir, name);
	if (access(*out, R_OK))
		return orch_error_code(
		        ORCH_EINVALID,
		        "DOCKER_TLS_VERIFY is set but '%s' is not "
		        "readable: %s (set DOCKER_CERT_PATH)",
		        *out, strerror(errno));
	return 0;
}

/*
 * A private key that group or others can read lets them use the engine
 * as we do. ssh refuses such a key; a warning is enough here (the key is
 * only as secret as the user keeps it, and refusing would break a CI job
 * over a file mode).
 */
static void check_key_mode(struct engine *e)
{
	struct stat st;
	char *w, *all;

	if (stat(e->key, &st) || !(st.st_mode & 077))
		return;
	w = xasprintf("TLS key '%s' is accessible by group or others (mode "
	              "%04o): whoever can read it can use the Docker engine "
	              "as you; chmod 600 it",
	              e->key, (unsigned)(st.st_mode & 07777));
	all = e->warnings ? xasprintf("%s\n%s", e->warnings, w) : xstrdup(w);
	free(e->warnings);
	free(w);
	e->warnings = all;
}

static int parse_address(struct engine *e, const char *host, int insecure)
{
	if (!strncmp(host, "unix://", 7)) {
		const char *p = host + 7;

		if (!*p)
			p = DEFAULT_SOCKET;
		if (strlen(p) > 107)
			return orch_error_code(ORCH_EINVALID,
			                       "DOCKER_HOST '%s': socket path "
			                       "longer than 107 bytes",
			                       host);
		e->socket_path = xstrdup(p);
		e->address = xasprintf("unix://%s", p);
		e->base_url = xstrdup("http://localhost");
		return 0;
	}
	if (!strncmp(host, "tcp://", 6)) {
		const char *hp = host + 6, *tls = getenv("DOCKER_TLS_VERIFY");
		size_t n = strcspn(hp, "/");
		char *hostport = xstrndup(hp, n);
		int rc = 0;

		if (!*hostport) {
			free(hostport);
			return orch_error_code(ORCH_EINVALID,
			                       "DOCKER_HOST '%s': no host",
			                       host);
		}
		if (tls && *tls) {
			const char *dir = getenv("DOCKER_CERT_PATH");
			char *home_dir = NULL;

			if (!dir || !*dir) {
				const char *home = getenv("HOME");
				home_dir = xasprintf("%s/.docker",
				                     home ? home : "");
				dir = home_dir;
			}
			rc = cert_file(dir, "ca.pem", &e->ca);
			if (rc == 0)
				rc = cert_file(dir, "cert.pem", &e->cert);
			if (rc == 0)
				rc = cert_file(dir, "key.pem", &e->key);
			if (rc == 0)
				check_key_mode(e);
			free(home_dir);
			e->base_url =
			        xasprintf("https://%s%s", hostport,
			                  strchr(hostport, ':') ? "" : ":2376");
		} else if (insecure) {
			e->base_url =
			        xasprintf("http://%s%s", hostport,
			                  strchr(hostport, ':') ? "" : ":2375");
		} else {
			rc = orch_error_code(
			        ORCH_EINVALID,
			        "refusing plain TCP to the Docker engine at '%s': "
			        "anyone who can reach that port has root on the "
			        "host; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH "
			        "for TLS, or ORCHESTRATE_INSECURE_TCP=1 if you "
			        "really mean it",
			        host);
		}
		e->address = xasprintf("tcp://%s", hostport);
		free(hostport);
		return rc;
	}
	return orch_error_code(ORCH_EINVALID,
	                       "DOCKER_HOST '%s': only unix:// and tcp:// "
	                       "addresses are supported",
	                       host);
}

/* From opts (ms; -1: never) or ORCHESTRATE_STALL_TIMEOUT, else ours. */
static int stall_limits(struct engine *e, long opt_ms)
{
	const char *env = getenv("ORCHESTRATE_STALL_TIMEOUT");
	int64_t ns;

	e->stall_pull_ms = STALL_PULL_MS;
	e->stall_build_ms = STALL_BUILD_MS;
	if (opt_ms) {
		e->stall_pull_ms = e->stall_build_ms = opt_ms > 0 ? opt_ms : 0;
		return 0;
	}
	if (!env || !*env)
		return 0;
	if (parse_duration(env, &ns) || ns / 1000000 > LONG_MAX)
		return orch_error_code(
		        ORCH_EINVALID,
		        "ORCHESTRATE_STALL_TIMEOUT '%s' is not a "
		        "duration like 60s or 5m (0: never)",
		        env);
	/* below a millisecond would be never: round up */
	e->stall_pull_ms = e->stall_build_ms =
	        ns ? (long)((ns + 999999) / 1000000) : 0;
	return 0;
}

int engine_new(struct engine **out, const struct engine_opts *opts)
{
	static const struct engine_opts none;
	struct engine *e;
	const char *host, *ins = getenv("ORCHESTRATE_INSECURE_TCP");
	int rc;

	*out = NULL;
	if (!opts)
		opts = &none;
	host = opts->host;
	if (!host || !*host)
		host = getenv("DOCKER_HOST");
	if (!host || !*host)
		host = "unix://" DEFAULT_SOCKET;
	e = xcalloc(1, sizeof(*e));
	e->connect_timeout_ms =
	        opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 3000;
	e->request_timeout_ms =
	        opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 60000;
	rc = stall_limits(e, opts->stall_timeout_ms);
	if (rc)
		goto out;
	rc = parse_address(e, host,
	                   opts->allow_insecure_tcp ||
	                           (ins && !strcmp(ins, "1")));
	if (rc)
		goto out;
	if (e->ca && tls_declined) {
		rc = orch_error_code(
		        ORCH_EINVALID,
		        "engine at '%s': TLS after a unix-socket "
		        "engine in the same process is not "
		        "supported (OpenSSL was set up without TLS)",
		        e->address);
		goto out;
	}
	if (!tls_decided) {
		tls_decided = 1;
		if (e->socket_path)
			decline_tls_init();
	}
	/* curl_global_init is not reentrant, but orchestrate is one thread;
	   counting engines lets the last engine_free() release it all */
	if (curl_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT)) {
		curl_users--;
		rc = orch_error_set("curl initialisation failed");
		goto out;
	}
	e->multi = curl_multi_init();
	if (!e->multi) {
		rc = orch_error_set("curl initialisation failed");
		goto out;
	}
	*out = e;
	return 0;
out:
	engine_free(e);
	return rc;
}

const char *engine_warnings(const struct engine *e)
{
	return e ? e->warnings : NULL;
}

const char *engine_address(const struct engine *e)
{
	return e ? e->address : "";
}

int engine_is_podman(const struct engine *e)
{
	return e && e->connected && e->is_podman;
}

const char *engine_api_version(const struct engine *e)
{
	return e->connected ? e->api : "";
}

int engine_api_at_least(const struct engine *e, int major, int minor)
{
	return e->connected &&
	       api_cmp(e->api_major, e->api_minor, major, minor) >= 0;
}

int engine_require_api(const struct engine *e, int major, int minor,
                       const char *feature)
{
	if (engine_api_at_least(e, major, minor))
		return 0;
	return orch_error_code(ORCH_EUNSUPPORTED,
	                       "%s needs Docker API %d.%d (engine speaks %s)",
	                       feature, major, minor,
	                       e->connected ? e->api : "unknown");
}

/* ---- the asynchronous core -------------------------------------------- */

static void unlink_call(struct engine_call *c)
{
	if (c->pprev) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
		c->next = NULL;
		c->pprev = NULL;
	}
}

static void link_call(struct engine_call **head, struct engine_call *c)
{
	c->next = *head;
	if (c->next)
		c->next->pprev = &c->next;
	*head = c;
	c->pprev = head;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
	struct engine_call *c = ud;
	size_t len = size * nmemb;
	long status = 0;

	if (c->stall_ms)
		c->last_progress = now_ms();
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	/* error bodies are always buffered, for the message */
	if (c->on_data && status < 400) {
		if (buf_add(&c->pending, data, len))
			return 0;
		return len;
	}
	if (buf_add(&c->body, data, len)) {
		/* an error body only feeds the message: keep its start */
		if (status >= 400)
			return len;
		c->aborted = ORCH_ETOOBIG;
		return 0;
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct engine_call *c = ud;
	size_t len = size * nmemb;

	if (c->stall_ms)
		c->last_progress = now_ms();
	if (len > 12 && !strncasecmp(data, "Api-Version:", 12)) {
		/* curl's header data is not NUL-terminated: stay within len */
		const char *v = data + 12, *end = data + len;
		size_t n = 0;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (v + n < end && !strchr(" \t\r\n", v[n]))
			n++;
		if (n >= sizeof(c->api_header))
			n = sizeof(c->api_header) - 1;
		memcpy(c->api_header, v, n);
		c->api_header[n] = '\0';
	}
	/* Podman's compat API answers every call with its own version too
	   (Docker never sends it) */
	if (len > 19 && !strncasecmp(data, "Libpod-Api-Version:", 19))
		c->libpod = 1;
	return len;
}

void engine_call_fail(struct engine_call *c, int code, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(c->error);
	c->error = buf_detach(&b, NULL);
	c->result = code;
}

static void fmt_ms(char *out, size_t n, long ms)
{
	if (ms % 1000)
		snprintf(out, n, "%ldms", ms);
	else
		snprintf(out, n, "%lds", ms / 1000);
}

static void classify(struct engine_call *c, CURLcode cc)
{
	struct engine *e = c->e;
	long oserr = 0;
	char t[32];

	if (c->easy) { /* NULL when it failed at submission */
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
		curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &oserr);
	}
	if (c->aborted == ORCH_EINTR && c->abort_msg) {
		engine_call_fail(c, c->abort_code, "%s %s: %s", c->method,
		                 c->path, c->abort_msg);
		return;
	}
	if (c->aborted == ORCH_EINTR) {
		engine_call_fail(c, ORCH_EINTR, "%s %s: cancelled", c->method,
		                 c->path);
		return;
	}
	if (c->aborted == ORCH_ETOOBIG) {
		engine_call_fail(c, ORCH_ETOOBIG,
		                 "%s %s: response larger than %zu bytes",
		                 c->method, c->path,
		                 c->streaming && c->status < 400
		                         ? c->pending.cap
		                         : c->body.cap);
		return;
	}
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST) {
		if (oserr == EACCES || oserr == EPERM) {
			engine_call_fail(
			        c, ORCH_EPERM,
			        "permission denied on the Docker socket %s: run "
			        "as a user the engine trusts (note that membership "
			        "of the 'docker' group is root-equivalent), or use "
			        "a rootless engine via DOCKER_HOST",
			        e->address);
			return;
		}
		engine_call_fail(
		        c, ORCH_EUNREACHABLE,
		        "cannot connect to the Docker engine at %s: %s "
		        "(is dockerd running? set DOCKER_HOST to use "
		        "another address)",
		        e->address, oserr ? strerror((int)oserr) : c->errbuf);
		return;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		/* without an overall timeout only the connect can time out */
		fmt_ms(t, sizeof(t),
		       c->timeout_ms > 0 ? c->timeout_ms
		                         : e->connect_timeout_ms);
		engine_call_fail(
		        c, ORCH_ETIMEOUT,
		        "%s %s: no answer from the Docker engine at %s "
		        "within %s",
		        c->method, c->path, e->address, t);
		return;
	}
	if (cc != CURLE_OK) {
		engine_call_fail(
		        c, c->status ? ORCH_EENGINE : ORCH_EUNREACHABLE,
		        "%s %s: %s (engine at %s)", c->method, c->path,
		        c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc),
		        e->address);
		return;
	}
	if (c->status >= 400) {
		char *msg = ej_docker_message(&c->body);
		int code = ORCH_EENGINE;

		if (c->status == 404)
			code = ORCH_ENOTFOUND;
		else if (c->status == 409)
			code = ORCH_ECONFLICT;
		else if (c->status == 400 && strstr(msg, "client version"))
			code = ORCH_EUNSUPPORTED;
		if (code == ORCH_EUNSUPPORTED && c->version_note)
			engine_call_fail(c, code,
			                 "%s %s: %ld: %s (orchestrate speaks "
			                 "Docker API %d.%d to %d.%d; %s)",
			                 c->method, c->path, c->status, msg,
			                 API_MIN_MAJOR, API_MIN_MINOR,
			                 API_MAX_MAJOR, API_MAX_MINOR,
			                 c->version_note);
		else if (code == ORCH_EUNSUPPORTED)
			engine_call_fail(
			        c, code,
			        "%s %s: %ld: %s (orchestrate speaks Docker "
			        "API %d.%d to %d.%d; this engine does not "
			        "accept %s)",
			        c->method, c->path, c->status, msg,
			        API_MIN_MAJOR, API_MIN_MINOR, API_MAX_MAJOR,
			        API_MAX_MINOR, c->api_used);
		else
			engine_call_fail(c, code, "%s %s: %ld: %s", c->method,
			                 c->path, c->status, msg);
		free(msg);
		return;
	}
	c->result = 0;
}

static void complete(struct engine_call *c, CURLcode cc)
{
	classify(c, cc);
	if (c->result == 0 && c->priv_end)
		c->priv_end(c);
	c->done = 1;
	if (c->on_done)
		c->on_done(c, c->ud); /* may free c */
}

/*
 * Give buffered stream data to on_data, outside any curl callback, so
 * that callbacks may call back into the engine. A call that finished or
 * was cancelled while its own on_data ran is completed here, after the
 * callback returned. Returns 1 when c completed (it may be freed).
 */
static int deliver(struct engine_call *c)
{
	if (!c->on_data || c->delivering)
		return 0;
	c->delivering = 1;
	while (c->pending.len && !c->aborted) {
		struct buf chunk = c->pending;
		int stop;

		buf_init(&c->pending, PENDING_CAP);
		stop = c->on_data(c->data_ud, chunk.data, chunk.len);
		buf_release(&chunk);
		if (stop)
			c->aborted = ORCH_EINTR;
	}
	c->delivering = 0;
	if (c->deferred) {
		complete(c, c->deferred_cc);
		return 1;
	}
	return 0;
}

static int renegotiate(struct engine_call *c);

static void finish(struct engine_call *c, CURLcode cc)
{
	curl_multi_remove_handle(c->e->multi, c->easy);
	unlink_call(c);
	if (cc == CURLE_WRITE_ERROR && !c->aborted)
		c->aborted = ORCH_ETOOBIG;
	if (c->delivering) {
		/* finished inside its own on_data: deliver() completes it */
		c->deferred = 1;
		c->deferred_cc = cc;
		return;
	}
	/* refused for its API version: held back, or sent again */
	if (cc == CURLE_OK && !c->aborted && renegotiate(c))
		return;
	/* data that came in with an error is delivered too: a daemon going
	   down sends its last events (die, stop) just before the stream
	   breaks */
	if (deliver(c))
		return;
	complete(c, cc);
}

static struct engine_call *call_new(struct engine *e,
                                    const struct engine_request *r, int borrow)
{
	struct engine_call *c = xcalloc(1, sizeof(*c));
	struct buf p = BUF_INIT;

	engine_versioned_path(&p, e->connected ? e->api : NULL, r->path);
	if (e->connected && strcmp(r->path, "/_ping"))
		snprintf(c->api_used, sizeof(c->api_used), "%s", e->api);
	c->rel = xstrdup(r->path);
	c->e = e;
	c->method = xstrdup(r->method);
	/* messages name the path without the query (filters are long) */
	c->path = xstrndup(p.data, strcspn(p.data, "?"));
	c->url = xasprintf("%s%s", e->base_url, p.data);
	buf_release(&p);
	c->on_data = r->on_data;
	c->on_done = r->on_done;
	c->ud = r->ud;
	c->data_ud = r->data_ud ? r->data_ud : r->ud;
	c->streaming = r->on_data != NULL;
	buf_init(&c->body,
	         r->on_data ? ERROR_BODY_CAP
	                    : (r->body_cap ? r->body_cap : DEFAULT_BODY_CAP));
	buf_init(&c->pending, PENDING_CAP);
	c->timeout_ms =
	        r->timeout_ms == 0 ? e->request_timeout_ms : r->timeout_ms;
	c->stall_ms = r->stall_ms > 0 ? r->stall_ms : 0;
	c->keep_on_interrupt = r->keep_on_interrupt && !r->on_data;
	c->last_progress = now_ms();
	if (r->body) {
		if (borrow) {
			/* const only for the caller: curl never writes it */
			c->req_body = (char *)r->body;
			c->body_borrowed = 1;
		} else {
			c->req_body = xmalloc(r->body_len + 1);
			memcpy(c->req_body, r->body, r->body_len);
		}
		c->req_len = r->body_len;
	}
	return c;
}

void engine_versioned_path(struct buf *out, const char *api, const char *path)
{
	if (api && strcmp(path, "/_ping"))
		buf_addf(out, "/v%s", api);
	buf_addstr(out, path);
}

static void fail_at_submit(struct engine *e, struct engine_call *c, int code,
                           const char *msg)
{
	engine_call_fail(c, code, "%s %s: %s", c->method, c->path, msg);
	link_call(&e->failed, c);
}

struct engine_call *engine_call_submit(struct engine *e,
                                       const struct engine_request *r,
                                       long delay_ms, int borrow)
{
	struct engine_call *c = call_new(e, r, borrow);
	struct buf h = BUF_INIT;
	CURL *k;

	if (!e->connected && strcmp(r->path, "/_ping") &&
	    strncmp(r->path, "/version", 8)) {
		fail_at_submit(e, c, ORCH_ERROR, "engine_connect() not called");
		return c;
	}
	k = c->easy = curl_easy_init();
	if (!k) {
		fail_at_submit(e, c, ORCH_ERROR, "curl_easy_init failed");
		return c;
	}
	curl_easy_setopt(k, CURLOPT_URL, c->url);
	if (e->socket_path)
		curl_easy_setopt(k, CURLOPT_UNIX_SOCKET_PATH, e->socket_path);
	if (e->ca) {
		curl_easy_setopt(k, CURLOPT_CAINFO, e->ca);
		curl_easy_setopt(k, CURLOPT_SSLCERT, e->cert);
		curl_easy_setopt(k, CURLOPT_SSLKEY, e->key);
		curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 2L);
		curl_easy_setopt(k, CURLOPT_SSLVERSION,
		                 (long)CURL_SSLVERSION_TLSv1_2);
	}
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(k, CURLOPT_PROTOCOLS,
	                 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* a CI's http_proxy must never see Docker API traffic */
	curl_easy_setopt(k, CURLOPT_NOPROXY, "*");
	/* signals are ours: main.c ignores SIGPIPE, the loop polls */
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	/* curl's receive buffer is 16 KiB per transfer, and `up` runs many
	   at once; the API's JSON answers are small, streams keep 16 KiB */
	if (!c->streaming)
		curl_easy_setopt(k, CURLOPT_BUFFERSIZE, 4096L);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
	if (c->timeout_ms > 0)
		curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(k, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(k, CURLOPT_PRIVATE, c);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "orchestrate");
	if (!strcmp(r->method, "HEAD"))
		curl_easy_setopt(k, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "GET"))
		curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->body || !strcmp(r->method, "POST") ||
	    !strcmp(r->method, "PUT")) {
		curl_easy_setopt(k, CURLOPT_POSTFIELDS,
		                 c->req_body ? c->req_body : "");
		curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)c->req_len);
	}
	if (r->body) {
		buf_addf(&h, "Content-Type: %s",
		         r->content_type ? r->content_type
		                         : "application/json");
		c->headers = curl_slist_append(c->headers, h.data);
	} else {
		c->headers = curl_slist_append(c->headers, "Content-Type:");
	}
	/* no 100-continue round trip for large bodies */
	c->headers = curl_slist_append(c->headers, "Expect:");
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, c->headers);
	buf_release(&h);

	if (delay_ms > 0) {
		c->start_at = now_ms() + delay_ms;
		link_call(&e->delayed, c);
		return c;
	}
	if (curl_multi_add_handle(e->multi, k) != CURLM_OK) {
		fail_at_submit(e, c, ORCH_ERROR,
		               "curl_multi_add_handle failed");
		return c;
	}
	link_call(&e->active, c);
	return c;
}

struct engine_call *engine_call_failed(struct engine *e,
                                       const struct engine_request *r, int code,
                                       const char *msg)
{
	struct engine_call *c = call_new(e, r, 0);

	c->on_data = NULL;
	fail_at_submit(e, c, code, msg);
	return c;
}

struct engine_call *engine_call_start(struct engine *e,
                                      const struct engine_request *r)
{
	return engine_call_submit(e, r, 0, 0);
}

/* ---- API version renegotiation ---------------------------------------- */

/* 1 when c was answered 400 "client version X is too old/new". */
static int version_refused(struct engine_call *c)
{
	long status = 0;
	char *msg;
	int refused;

	if (!c->api_used[0] || !c->easy)
		return 0;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 400)
		return 0;
	msg = ej_docker_message(&c->body);
	refused = strstr(msg, "client version") &&
	          (strstr(msg, "too old") || strstr(msg, "too new"));
	free(msg);
	return refused;
}

/* Send c again (once) on the version negotiated now. */
static void reissue(struct engine_call *c)
{
	struct engine *e = c->e;
	struct buf p = BUF_INIT;

	engine_versioned_path(&p, e->api, c->rel);
	free(c->path);
	free(c->url);
	c->path = xstrndup(p.data, strcspn(p.data, "?"));
	c->url = xasprintf("%s%s", e->base_url, p.data);
	buf_release(&p);
	snprintf(c->api_used, sizeof(c->api_used), "%s", e->api);
	curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
	buf_reset(&c->body);
	buf_reset(&c->pending);
	c->status = 0;
	c->api_header[0] = '\0';
	c->errbuf[0] = '\0';
	c->last_progress = now_ms();
	c->last_sent = 0;
	if (curl_multi_add_handle(e->multi, c->easy) != CURLM_OK) {
		fail_at_submit(e, c, ORCH_ERROR,
		               "curl_multi_add_handle failed");
		return;
	}
	link_call(&e->active, c);
}

/* The second /_ping: settle every call parked meanwhile. */
static void reping_done(struct engine_call *p, void *ud)
{
	struct engine *e = ud;
	struct engine_call *batch = NULL, *c;
	char *why = NULL;
	int major, minor;

	e->reping = NULL;
	if (p->result) {
		why = xasprintf("asking the engine again failed: %s", p->error);
	} else if (parse_api(p->api_header, &major, &minor)) {
		why = xasprintf("asked again, the engine at %s sent no "
		                "Api-Version header",
		                e->address);
	} else {
		if (api_cmp(major, minor, API_MAX_MAJOR, API_MAX_MINOR) > 0) {
			major = API_MAX_MAJOR;
			minor = API_MAX_MINOR;
		}
		if (api_cmp(major, minor, API_MIN_MAJOR, API_MIN_MINOR) < 0) {
			why = xasprintf("asked again, the engine at %s now "
			                "speaks API %d.%d",
			                e->address, major, minor);
		} else {
			e->api_major = major;
			e->api_minor = minor;
			snprintf(e->api, sizeof(e->api), "%d.%d", major, minor);
		}
	}
	/* set the batch aside: a callback below may park calls anew, for
	   a ping of their own */
	while ((c = e->parked)) {
		unlink_call(c);
		link_call(&batch, c);
	}
	while ((c = batch)) {
		unlink_call(c);
		if (!why && strcmp(c->api_used, e->api)) {
			reissue(c);
			continue;
		}
		c->version_note =
		        why ? xstrdup(why)
		            : xasprintf("asked again, the engine at %s still "
		                        "offers %s: no version both accept",
		                        e->address, e->api);
		complete(c, CURLE_OK); /* may free any call but p */
	}
	free(why);
	engine_call_free(p);
}

/*
 * The engine refused c for its API version: it may have been upgraded or
 * downgraded since we negotiated. Park c until /_ping says which version
 * to speak now (one ping for every call refused meanwhile), then send it
 * again -- once. 1 when c was parked or sent again; 0 when it fails as it
 * is (not refused for its version, refused again, or a pinned version).
 */
static int renegotiate(struct engine_call *c)
{
	struct engine *e = c->e;
	struct engine_request r = {
		.method = "GET",
		.path = "/_ping",
		.timeout_ms = e->connect_timeout_ms,
		.on_done = reping_done,
		.ud = e,
	};

	if (!version_refused(c))
		return 0;
	if (c->renegotiated) {
		free(c->version_note);
		c->version_note = xasprintf("renegotiated with the engine at "
		                            "%s, which then refused %s too",
		                            e->address, c->api_used);
		return 0;
	}
	c->renegotiated = 1;
	if (e->pinned) {
		c->version_note = xasprintf("DOCKER_API_VERSION pins %s: unset "
		                            "it to let orchestrate negotiate",
		                            e->api);
		return 0;
	}
	if (strcmp(c->api_used, e->api)) {
		/* renegotiated since c was sent */
		reissue(c);
		return 1;
	}
	link_call(&e->parked, c);
	if (!e->reping)
		e->reping = engine_call_submit(e, &r, 0, 0);
	return 1;
}

/* Hand delayed calls whose time has come to curl. */
static void start_delayed(struct engine *e)
{
	int64_t now = now_ms();
	struct engine_call *c, *next;

	for (c = e->delayed; c; c = next) {
		next = c->next;
		if (c->start_at > now)
			continue;
		unlink_call(c);
		c->last_progress = now;
		if (curl_multi_add_handle(e->multi, c->easy) != CURLM_OK)
			fail_at_submit(e, c, ORCH_ERROR,
			               "curl_multi_add_handle failed");
		else
			link_call(&e->active, c);
	}
}

/*
 * Milliseconds until the first delayed call is due or the first stream
 * would count as stalled, capped at ms.
 */
static int until_due(const struct engine *e, int ms)
{
	int64_t now = now_ms();

	for (const struct engine_call *c = e->delayed; c; c = c->next) {
		int64_t left = c->start_at - now;

		if (left < 0)
			left = 0;
		if (ms < 0 || left < ms)
			ms = (int)left;
	}
	for (const struct engine_call *c = e->active; c; c = c->next) {
		int64_t left = c->last_progress + c->stall_ms - now;

		if (!c->stall_ms)
			continue;
		if (left < 0)
			left = 0;
		if (ms < 0 || left < ms)
			ms = (int)left;
	}
	return ms;
}

/*
 * Fail the streams that moved no byte, either way, for their stall_ms:
 * cancelling drops the connection, which also makes the engine cancel a
 * build. Returns how many.
 */
static int check_stalls(struct engine *e)
{
	int n = 0, again = 1;

	/* a cancelled call's on_done may free any call: rescan each time */
	while (again) {
		int64_t now = now_ms();

		again = 0;
		for (struct engine_call *c = e->active; c; c = c->next) {
			curl_off_t sent = 0;
			struct buf t = BUF_INIT;

			if (!c->stall_ms)
				continue;
			/* an upload (a build context) is progress too */
			curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T,
			                  &sent);
			if (sent != c->last_sent) {
				c->last_sent = sent;
				c->last_progress = now;
			}
			if (now - c->last_progress < c->stall_ms)
				continue;
			format_duration(&t, (int64_t)c->stall_ms * 1000000);
			c->abort_code = ORCH_ETIMEOUT;
			free(c->abort_msg);
			c->abort_msg = xasprintf("stalled: no data from the "
			                         "engine for %s (limit: "
			                         "ORCHESTRATE_STALL_TIMEOUT)",
			                         buf_cstr(&t));
			buf_release(&t);
			engine_call_cancel(c);
			n++;
			again = 1;
			break;
		}
	}
	return n;
}

int engine_call_done(const struct engine_call *c)
{
	return c->done;
}

int engine_call_result(const struct engine_call *c)
{
	return c->result;
}

const char *engine_call_error(const struct engine_call *c)
{
	return c->error ? c->error : "";
}

long engine_call_status(const struct engine_call *c)
{
	long status = c->status;

	/* while it runs (a stream's on_data): what curl has seen so far */
	if (!c->done && !status && c->easy)
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

const struct buf *engine_call_body(const struct engine_call *c)
{
	return &c->body;
}

void engine_call_set_op(struct engine_call *c, void *op,
                        void (*free_fn)(void *),
                        void (*end_fn)(struct engine_call *c),
                        void (*abandon_fn)(void *op))
{
	c->priv = op;
	c->priv_free = free_fn;
	c->priv_end = end_fn;
	c->priv_abandon = abandon_fn;
}

void *engine_call_op(const struct engine_call *c)
{
	return c->priv;
}

void engine_call_stop(struct engine_call *c, int code, const char *msg)
{
	c->abort_code = code;
	free(c->abort_msg);
	c->abort_msg = xstrdup(msg);
}

const char *engine_call_method(const struct engine_call *c)
{
	return c->method;
}

const char *engine_call_path(const struct engine_call *c)
{
	return c->path;
}

long engine_request_timeout(const struct engine *e)
{
	return e->request_timeout_ms;
}

struct engine_call *engine_call_simple(struct engine *e, const char *method,
                                       const char *path, const char *json,
                                       long timeout_ms, int create,
                                       engine_done_fn done, void *ud)
{
	struct engine_request r = {
		.method = method,
		.path = path,
		.body = json,
		.body_len = json ? strlen(json) : 0,
		.timeout_ms = timeout_ms,
		.keep_on_interrupt = create,
		.on_done = done,
		.ud = ud,
	};

	return engine_call_submit(e, &r, 0, 0);
}

int engine_call_rc(const struct engine_call *c)
{
	if (c->result)
		orch_error_code(c->result, "%s", c->error ? c->error : "");
	return c->result;
}

int engine_call_run_result(struct engine *e, struct engine_call *c,
                           int (*result)(const struct engine_call *c))
{
	int rc = engine_call_run(e, c);

	/* an orphan (a create left running) has no result yet */
	if (rc == 0 || engine_call_done(c))
		rc = result(c);
	engine_call_free(c);
	return rc;
}

int engine_call_run_free(struct engine *e, struct engine_call *c)
{
	int rc = engine_call_run(e, c);

	engine_call_free(c);
	return rc;
}

void engine_call_drop(struct engine_call **c)
{
	if (!*c)
		return;
	engine_call_cancel(*c);
	engine_call_free(*c);
	*c = NULL;
}

void engine_call_cancel(struct engine_call *c)
{
	if (!c || c->done || c->deferred)
		return;
	c->aborted = ORCH_EINTR;
	if (c->e && c->easy)
		curl_multi_remove_handle(c->e->multi, c->easy);
	unlink_call(c);
	if (c->delivering) {
		/* cancelled from its own on_data: completed when it returns */
		c->deferred = 1;
		c->deferred_cc = CURLE_OK;
		return;
	}
	complete(c, CURLE_OK);
}

void engine_call_free(struct engine_call *c)
{
	/* an orphan is the engine's: freed when it ends (orphan_done) */
	if (!c || (c->orphan && !c->done))
		return;
	if (!c->done) {
		/* freeing a running call abandons it without on_done */
		if (c->e && c->easy)
			curl_multi_remove_handle(c->e->multi, c->easy);
		unlink_call(c);
	}
	if (c->priv_free)
		c->priv_free(c->priv);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	buf_release(&c->body);
	buf_release(&c->pending);
	free(c->method);
	free(c->path);
	free(c->rel);
	free(c->url);
	free(c->version_note);
	if (!c->body_borrowed)
		free(c->req_body);
	free(c->error);
	free(c->abort_msg);
	free(c);
}

long engine_stall_ms(const struct engine *e, int build)
{
	return build ? e->stall_build_ms : e->stall_pull_ms;
}

int engine_running(const struct engine *e)
{
	int n = 0;

	/* orphans are not the caller's: engine_settle() waits for them */
	for (struct engine_call *c = e->active; c; c = c->next)
		n += !c->orphan;
	for (struct engine_call *c = e->parked; c; c = c->next)
		n += !c->orphan;
	for (struct engine_call *c = e->failed; c; c = c->next)
		n++;
	for (struct engine_call *c = e->delayed; c; c = c->next)
		n += !c->orphan;
	return n;
}

/* Report finished calls and give stream data out; returns how many
   callbacks ran. */
static int process(struct engine *e)
{
	int events = 0, again = 1;
	CURLMsg *m;
	int left;

	start_delayed(e);
	events += check_stalls(e);
	while (e->failed) {
		struct engine_call *c = e->failed;

		unlink_call(c);
		c->done = 1;
		events++;
		if (c->on_done)
			c->on_done(c, c->ud);
	}
	while ((m = curl_multi_info_read(e->multi, &left))) {
		struct engine_call *c = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		                  (char **)&c);
		events++;
		finish(c, m->data.result);
	}
	/* a callback may free any call: rescan from the head each time */
	while (again) {
		again = 0;
		for (struct engine_call *c = e->active; c; c = c->next) {
			if (c->on_data && c->pending.len && !c->delivering &&
			    !c->aborted) {
				events++;
				again = 1;
				if (deliver(c))
					break; /* completed, maybe freed */
				if (c->aborted) {
					/* on_data asked to stop */
					curl_multi_remove_handle(e->multi,
					                         c->easy);
					unlink_call(c);
					complete(c, CURLE_OK);
				}
				break;
			}
		}
	}
	return events;
}

static int perform(struct engine *e)
{
	int still = 0;
	CURLMcode mc = curl_multi_perform(e->multi, &still);

	if (mc != CURLM_OK)
		return orch_error_set("curl: %s", curl_multi_strerror(mc));
	return 0;
}

int engine_wait(struct engine *e, struct engine_pollfd *fds, unsigned nfds,
                int timeout_ms)
{
	struct curl_waitfd *w = nfds ? xcalloc(nfds, sizeof(*w)) : NULL;
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	int rc = 0, events, ready = 0;

	for (unsigned i = 0; i < nfds; i++) {
		w[i].fd = fds[i].fd;
		w[i].events =
		        (short)((fds[i].events & POLLIN ? CURL_WAIT_POLLIN
		                                        : 0) |
		                (fds[i].events & POLLOUT ? CURL_WAIT_POLLOUT
		                                         : 0));
		fds[i].revents = 0;
	}
	rc = perform(e);
	if (rc)
		goto out;
	events = process(e);
	for (;;) {
		int slice, numfds = 0;
		CURLMcode mc;

		if (events || ready)
			slice = 0;
		else if (deadline < 0)
			slice = 1000;
		else
			slice = (int)(deadline - now_ms());
		if (slice < 0)
			slice = 0;
		slice = until_due(e, slice);
		if (!e->active && !e->delayed && !nfds && !events) {
			/* nothing can ever wake us: do not sleep forever */
			break;
		}
		for (unsigned i = 0; i < nfds; i++)
			w[i].revents = 0;
		mc = curl_multi_poll(e->multi, w, nfds, slice, &numfds);
		if (mc != CURLM_OK) {
			rc = orch_error_set("curl: %s",
			                    curl_multi_strerror(mc));
			goto out;
		}
		for (unsigned i = 0; i < nfds; i++) {
			fds[i].revents =
			        (short)((w[i].revents & CURL_WAIT_POLLIN
			                         ? POLLIN
			                         : 0) |
			                (w[i].revents & CURL_WAIT_POLLOUT
			                         ? POLLOUT
			                         : 0) |
			                (w[i].revents & CURL_WAIT_POLLPRI
			                         ? POLLPRI
			                         : 0));
			if (fds[i].revents)
				ready = 1;
		}
		rc = perform(e);
		if (rc)
			goto out;
		events += process(e);
		if (events || ready || slice == 0 || e->woken)
			break;
		if (deadline >= 0 && now_ms() >= deadline)
			break;
	}
	e->woken = 0;
	rc = engine_running(e);
out:
	free(w);
	return rc;
}

void engine_wakeup(struct engine *e)
{
	e->woken = 1;
	curl_multi_wakeup(e->multi);
}

void engine_interrupt(struct engine *e)
{
	e->interrupts++; /* only signal handlers and this thread write it */
	engine_wakeup(e);
}

int engine_interrupt_clear(struct engine *e)
{
	sig_atomic_t n = e->interrupts;
	int pending = n != e->interrupts_seen;

	e->interrupts_seen = n;
	return pending;
}

int engine_interrupted(const struct engine *e)
{
	return e->interrupts != e->interrupts_seen;
}

static void orphan_done(struct engine_call *c, void *ud)
{
	(void)ud;
	engine_call_free(c);
}

/*
 * Stop waiting for c. A create the engine has begun is left running as
 * an orphan: the engine completes it whether or not anyone listens
 * (Docker finishes a network create whose client went away), so the
 * caller waits for it with engine_settle() before it lists what to
 * remove. Everything else is cancelled: a read changes nothing, and a
 * pull or build whose connection drops is cancelled by the engine.
 */
static void interrupt_call(struct engine *e, struct engine_call *c)
{
	long sent = 0;
	int active = 0;

	for (struct engine_call *a = e->active; a; a = a->next)
		active |= a == c;
	/* nothing sent yet (submitted after the interruption, or still
	   connecting): the engine never saw it, and never will */
	if (active && c->easy)
		curl_easy_getinfo(c->easy, CURLINFO_REQUEST_SIZE, &sent);
	if (c->keep_on_interrupt && active && sent > 0 && !c->aborted) {
		c->orphan = 1;
		c->on_done = orphan_done;
		c->ud = NULL;
		return;
	}
	engine_call_cancel(c);
	engine_call_fail(c, ORCH_EINTR, "%s %s: interrupted", c->method,
	                 c->path);
}

int engine_call_run(struct engine *e, struct engine_call *c)
{
	for (;;) {
		int rc;

		if (engine_interrupted(e) && !c->done) {
			interrupt_call(e, c);
			return orch_error_code(ORCH_EINTR, "%s %s: interrupted",
			                       c->method, c->path);
		}
		if (c->done)
			break;
		rc = engine_wait(e, NULL, 0, -1);
		if (rc < 0) {
			engine_call_cancel(c);
			engine_call_fail(c, rc, "%s", orch_error_last());
			return rc;
		}
	}
	if (c->result)
		orch_error_code(c->result, "%s", c->error);
	return c->result;
}

/* An orphan still running (or held back for a new API version). */
static struct engine_call *first_orphan(const struct engine *e)
{
	struct engine_call *lists[] = { e->active, e->delayed, e->parked };

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (struct engine_call *c = lists[i]; c; c = c->next)
			if (c->orphan)
				return c;
	return NULL;
}

int engine_settle(struct engine *e, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct engine_call *c;
	char *first = NULL, t[32];
	int n = 0;

	for (;;) {
		int64_t left = deadline - now_ms();

		if (!first_orphan(e) || left <= 0)
			break;
		if (engine_wait(e, NULL, 0, (int)left) < 0)
			break;
	}
	/* a cancelled orphan frees itself: look again from the start */
	while ((c = first_orphan(e))) {
		if (!n++)
			first = xasprintf("%s %s", c->method, c->path);
		engine_call_cancel(c);
	}
	if (n) {
		fmt_ms(t, sizeof(t), timeout_ms);
		orch_error_code(ORCH_ETIMEOUT,
		                "%s%s: no answer from the engine within %s of "
		                "the interruption: what it creates may "
		                "outlive the teardown",
		                first, n > 1 ? " (and more)" : "", t);
	}
	free(first);
	return n;
}

int engine_request_sync(struct engine *e, const struct engine_request *r,
                        long *status, struct buf *body)
{
	struct engine_call *c = engine_call_start(e, r);
	int rc = engine_call_run(e, c);

	if (c->orphan && !c->done) {
		/* still running, and no longer ours to read or free */
		if (status)
			*status = 0;
		if (body)
			buf_reset(body);
		return rc;
	}
	if (status)
		*status = c->status;
	if (body) {
		buf_release(body);
		*body = c->body;
		buf_init(&c->body, 0);
	}
	engine_call_free(c);
	return rc;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	/* calls still running are abandoned: they stay the caller's to
	   free, finished with ORCH_EINTR, but their on_done does not run */
	while (e->active || e->failed || e->delayed || e->parked) {
		struct engine_call *c = e->active   ? e->active
		                        : e->failed ? e->failed
		                        : e->parked ? e->parked
		                                    : e->delayed;

		if (c->easy) {
			/* before curl_global_cleanup() below */
			curl_multi_remove_handle(e->multi, c->easy);
			curl_easy_cleanup(c->easy);
			c->easy = NULL;
		}
		unlink_call(c);
		engine_call_fail(c, ORCH_EINTR, "%s %s: engine closed",
		                 c->method, c->path);
		c->done = 1;
		c->e = NULL;
		/* an exec's calls are its own, not the caller's: nobody
		   else could free it (or the call) any more */
		if (c->priv_abandon)
			c->priv_abandon(c->priv);
		else if (c->on_done == reping_done || c->orphan)
			engine_call_free(c); /* ours alone too */
	}
	if (e->multi) {
		curl_multi_cleanup(e->multi);
		if (--curl_users == 0)
			curl_global_cleanup();
	}
	free(e->address);
	free(e->socket_path);
	free(e->base_url);
	free(e->ca);
	free(e->cert);
	free(e->key);
	free(e->warnings);
	free(e);
}

int engine_connect(struct engine *e)
{
	struct engine_request r = { .method = "GET", .path = "/_ping" };
	const char *pinned = getenv("DOCKER_API_VERSION");
	struct engine_call *c;
	int rc = 0, major, minor;

	if (e->connected)
		return 0;
	/* an engine that accepts but never answers must not hold a
	   command for the full request timeout */
	r.timeout_ms = e->connect_timeout_ms;
	c = engine_call_start(e, &r);
	engine_call_run(e, c);
	if (c->result == ORCH_ETIMEOUT) {
		char t[32];

		fmt_ms(t, sizeof(t), r.timeout_ms);
		rc = orch_error_code(ORCH_EUNREACHABLE,
		                     "the Docker engine at %s does not answer "
		                     "(no reply to GET /_ping within %s)",
		                     e->address, t);
		goto out;
	}
	if (c->result == ORCH_EENGINE && c->status == 0) {
		rc = orch_error_code(ORCH_EUNREACHABLE, "%s", c->error);
		goto out;
	}
	if (c->result) {
		/* something answered, but not as an engine does: say where */
		rc = orch_error_code(
		        c->result == ORCH_ENOTFOUND ? ORCH_EUNREACHABLE
		                                    : c->result,
		        "the Docker engine at %s: %s%s", e->address, c->error,
		        c->status == 404 ? " (is it a Docker engine?)" : "");
		goto out;
	}
	if (pinned && *pinned) {
		/* DOCKER_API_VERSION pins the version: no negotiation */
		e->pinned = 1;
		if (parse_api(pinned, &major, &minor)) {
			rc = orch_error_code(ORCH_EINVALID,
			                     "DOCKER_API_VERSION '%s' is not a "
			                     "version like 1.41",
			                     pinned);
			goto out;
		}
	} else if (parse_api(c->api_header, &major, &minor)) {
		rc = orch_error_code(
		        ORCH_EENGINE,
		        "GET /_ping: the engine at %s sent no "
		        "Api-Version header; is it a Docker engine?",
		        e->address);
		goto out;
	} else if (api_cmp(major, minor, API_MAX_MAJOR, API_MAX_MINOR) > 0) {
		major = API_MAX_MAJOR;
		minor = API_MAX_MINOR;
	}
	if (api_cmp(major, minor, API_MIN_MAJOR, API_MIN_MINOR) < 0) {
		rc = orch_error_code(
		        ORCH_EUNSUPPORTED,
		        "the Docker engine at %s speaks API %d.%d; "
		        "orchestrate needs at least %d.%d",
		        e->address, major, minor, API_MIN_MAJOR, API_MIN_MINOR);
		goto out;
	}
	e->api_major = major;
	e->api_minor = minor;
	snprintf(e->api, sizeof(e->api), "%d.%d", major, minor);
	e->is_podman = c->libpod;
	e->connected = 1;
out:
	engine_call_free(c);
	return rc;
}
