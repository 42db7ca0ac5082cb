/*
 * engine.c: the Docker Engine API client (see engine.h): transport,
 * negotiation, the asynchronous core on one curl multi handle, and the
 * operations built on it.
 *
 * What it deliberately does not do: it knows nothing of manifests,
 * services or suites, it never prints, it never retries on its own (the
 * caller knows whether an operation is idempotent), it never sends
 * credentials (no X-Registry-Auth) and never logs request headers, and it
 * does not hijack connections for stdin (exec output is read as an
 * ordinary body until the engine closes it).
 */
#include "engine.h"

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
	int pinned; /* DOCKER_API_VERSION: never renegotiated */
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
	engine_data_fn on_data;
	engine_done_fn on_done;
	void *ud;
	/* state of the operation built on this call, freed with it */
	void *priv;
	void (*priv_free)(void *);
	void (*priv_end)(struct engine_call *c); /* checks a clean end */
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
 * curl's own initialisation skip them. OPENSSL_init_ssl() is looked up
 * among the libraries already loaded (curl's): no OpenSSL, nothing to do.
 * The first engine of a process decides (engine.h); a tcp:// engine
 * leaves OpenSSL exactly as curl sets it up, the user's configuration
 * included. Without the digest names TLS cannot even load a client
 * certificate, so a TLS engine after a declined initialisation is
 * refused in engine_new().
 */
static void decline_tls_init(void)
{
	/* OPENSSL_INIT_NO_* of openssl/crypto.h and openssl/ssl.h, the same
	   values since OpenSSL 1.1.0 */
	const uint64_t no_crypto_strings = 0x1, no_ciphers = 0x10,
	               no_digests = 0x20, no_config = 0x80,
	               no_ssl_strings = 0x100000;
	int (*init_ssl)(uint64_t opts, const void *settings);

	*(void **)&init_ssl = dlsym(RTLD_DEFAULT, "OPENSSL_init_ssl");
	if (init_ssl && init_ssl(no_crypto_strings | no_ciphers | no_digests |
	                                 no_config | no_ssl_strings,
	                         NULL))
		tls_declined = 1;
}

/* ---- small helpers ---------------------------------------------------- */

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

/* A port number from "8080/tcp" or "49153"; 0 when there is none. */
static int port_num(const char *s)
{
	long v = strtol(s, NULL, 10);

	return v > 0 && v < 65536 ? (int)v : 0;
}

static int api_cmp(int a1, int b1, int a2, int b2)
{
	return a1 != a2 ? (a1 < a2 ? -1 : 1) : (b1 < b2 ? -1 : b1 > b2);
}

void engine_url_escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
			buf_addch(out, c);
		else
			buf_addf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

static char *filter_json(const struct engine_label *labels, size_t n,
                         const char *type)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char *s;

	if (n) {
		arr = cJSON_AddArrayToObject(root, "label");
		for (size_t i = 0; i < n; i++) {
			char *kv = labels[i].value
			                   ? xasprintf("%s=%s", labels[i].key,
			                               labels[i].value)
			                   : xstrdup(labels[i].key);
			cJSON_AddItemToArray(arr, cJSON_CreateString(kv));
			free(kv);
		}
	}
	if (type) {
		arr = cJSON_AddArrayToObject(root, "type");
		cJSON_AddItemToArray(arr, cJSON_CreateString(type));
	}
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!s)
		abort();
	return s;
}

void engine_label_filter(struct buf *out, const struct engine_label *labels,
                         size_t n)
{
	char *json = filter_json(labels, n, NULL);

	engine_url_escape(out, json);
	cJSON_free(json);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *jdup(const cJSON *o, const char *key)
{
	const char *s = jstr(o, key);

	return s ? xstrdup(s) : NULL;
}

/* A number in [lo, hi], or dflt: casting NaN or an out-of-range double
   to an integer is undefined behaviour, and the engine's JSON is input. */
static double jnum(const cJSON *o, const char *key, double lo, double hi,
                   double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo) ||
	    !(v->valuedouble <= hi))
		return dflt;
	return v->valuedouble;
}

static int jint(const cJSON *o, const char *key, int dflt)
{
	return (int)jnum(o, key, INT_MIN, INT_MAX, dflt);
}

static int jbool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static cJSON *jobj(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static cJSON *strv_json(char *const *v)
{
	cJSON *a = cJSON_CreateArray();

	for (; v && *v; v++)
		cJSON_AddItemToArray(a, cJSON_CreateString(*v));
	return a;
}

static char *json_print(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (!s)
		abort();
	return s;
}

static void label_set_from(struct engine_label_set *ls, const cJSON *labels)
{
	const cJSON *it;
	size_t n = 0;

	ls->keys = ls->values = NULL;
	ls->n = 0;
	if (!cJSON_IsObject(labels))
		return;
	cJSON_ArrayForEach(it, labels) n++;
	ls->keys = xcalloc(n + 1, sizeof(char *));
	ls->values = xcalloc(n + 1, sizeof(char *));
	cJSON_ArrayForEach(it, labels)
	{
		ls->keys[ls->n] = xstrdup(it->string ? it->string : "");
		ls->values[ls->n] =
		        xstrdup(cJSON_IsString(it) ? it->valuestring : "");
		ls->n++;
	}
}

static void label_set_release(struct engine_label_set *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->keys[i]);
		free(ls->values[i]);
	}
	free(ls->keys);
	free(ls->values);
	ls->keys = ls->values = NULL;
	ls->n = 0;
}

static cJSON *labels_json(const struct engine_label *l, size_t n)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < n; i++)
		cJSON_AddStringToObject(o, l[i].key,
		                        l[i].value ? l[i].value : "");
	return o;
}

/* Docker's own "message" from an error body, or the body's text. */
static char *docker_message(const struct buf *body)
{
	cJSON *j =
	        body->len ? cJSON_ParseWithLength(body->data, body->len) : NULL;
	const char *m = j ? jstr(j, "message") : NULL;
	char *out;

	if (m) {
		out = xstrdup(m);
	} else {
		size_t n = body->len;

		while (n && isspace((unsigned char)body->data[n - 1]))
			n--;
		out = n ? xstrndup(body->data, n > 300 ? 300 : n)
		        : xstrdup("(no message)");
	}
	cJSON_Delete(j);
	return out;
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
	return len;
}

static void set_call_error(struct engine_call *c, int code, const char *fmt,
                           ...) __attribute__((format(printf, 3, 4)));
static void set_call_error(struct engine_call *c, int code, const char *fmt,
                           ...)
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
		set_call_error(c, c->abort_code, "%s %s: %s", c->method,
		               c->path, c->abort_msg);
		return;
	}
	if (c->aborted == ORCH_EINTR) {
		set_call_error(c, ORCH_EINTR, "%s %s: cancelled", c->method,
		               c->path);
		return;
	}
	if (c->aborted == ORCH_ETOOBIG) {
		set_call_error(c, ORCH_ETOOBIG,
		               "%s %s: response larger than %zu bytes",
		               c->method, c->path,
		               c->streaming && c->status < 400 ? c->pending.cap
		                                               : c->body.cap);
		return;
	}
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST) {
		if (oserr == EACCES || oserr == EPERM) {
			set_call_error(
			        c, ORCH_EPERM,
			        "permission denied on the Docker socket %s: run "
			        "as a user the engine trusts (note that membership "
			        "of the 'docker' group is root-equivalent), or use "
			        "a rootless engine via DOCKER_HOST",
			        e->address);
			return;
		}
		set_call_error(c, ORCH_EUNREACHABLE,
		               "cannot connect to the Docker engine at %s: %s "
		               "(is dockerd running? set DOCKER_HOST to use "
		               "another address)",
		               e->address,
		               oserr ? strerror((int)oserr) : c->errbuf);
		return;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		/* without an overall timeout only the connect can time out */
		fmt_ms(t, sizeof(t),
		       c->timeout_ms > 0 ? c->timeout_ms
		                         : e->connect_timeout_ms);
		set_call_error(c, ORCH_ETIMEOUT,
		               "%s %s: no answer from the Docker engine at %s "
		               "within %s",
		               c->method, c->path, e->address, t);
		return;
	}
	if (cc != CURLE_OK) {
		set_call_error(c, c->status ? ORCH_EENGINE : ORCH_EUNREACHABLE,
		               "%s %s: %s (engine at %s)", c->method, c->path,
		               c->errbuf[0] ? c->errbuf
		                            : curl_easy_strerror(cc),
		               e->address);
		return;
	}
	if (c->status >= 400) {
		char *msg = docker_message(&c->body);
		int code = ORCH_EENGINE;

		if (c->status == 404)
			code = ORCH_ENOTFOUND;
		else if (c->status == 409)
			code = ORCH_ECONFLICT;
		else if (c->status == 400 && strstr(msg, "client version"))
			code = ORCH_EUNSUPPORTED;
		if (code == ORCH_EUNSUPPORTED && c->version_note)
			set_call_error(c, code,
			               "%s %s: %ld: %s (orchestrate speaks "
			               "Docker API %d.%d to %d.%d; %s)",
			               c->method, c->path, c->status, msg,
			               API_MIN_MAJOR, API_MIN_MINOR,
			               API_MAX_MAJOR, API_MAX_MINOR,
			               c->version_note);
		else if (code == ORCH_EUNSUPPORTED)
			set_call_error(
			        c, code,
			        "%s %s: %ld: %s (orchestrate speaks Docker "
			        "API %d.%d to %d.%d; this engine does not "
			        "accept %s)",
			        c->method, c->path, c->status, msg,
			        API_MIN_MAJOR, API_MIN_MINOR, API_MAX_MAJOR,
			        API_MAX_MINOR, c->api_used);
		else
			set_call_error(c, code, "%s %s: %ld: %s", c->method,
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
		stop = c->on_data(c->ud, chunk.data, chunk.len);
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
	set_call_error(c, code, "%s %s: %s", c->method, c->path, msg);
	link_call(&e->failed, c);
}

/*
 * engine_call_start(), handing the call to curl after delay_ms; with
 * borrow the request body is used in place (the caller keeps it alive
 * until the call is freed: a build context can be 512 MiB).
 */
static struct engine_call *call_start(struct engine *e,
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

struct engine_call *engine_call_start(struct engine *e,
                                      const struct engine_request *r)
{
	return call_start(e, r, 0, 0);
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
	msg = docker_message(&c->body);
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
		e->reping = call_start(e, &r, 0, 0);
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
	return c->status;
}

const struct buf *engine_call_body(const struct engine_call *c)
{
	return &c->body;
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

static int interrupt_pending(const struct engine *e)
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
	set_call_error(c, ORCH_EINTR, "%s %s: interrupted", c->method, c->path);
}

/* Run one call to completion; other calls progress meanwhile. */
static int run(struct engine *e, struct engine_call *c)
{
	for (;;) {
		int rc;

		if (interrupt_pending(e) && !c->done) {
			interrupt_call(e, c);
			return orch_error_code(ORCH_EINTR, "%s %s: interrupted",
			                       c->method, c->path);
		}
		if (c->done)
			break;
		rc = engine_wait(e, NULL, 0, -1);
		if (rc < 0) {
			engine_call_cancel(c);
			set_call_error(c, rc, "%s", orch_error_last());
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
	int rc = run(e, c);

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

/* A simple request: optional JSON in, body out (may be NULL). */
static int req(struct engine *e, const char *method, const char *path,
               const char *json, long timeout_ms, long *status,
               struct buf *body)
{
	struct engine_request r = {
		.method = method,
		.path = path,
		.body = json,
		.body_len = json ? strlen(json) : 0,
		.timeout_ms = timeout_ms,
	};

	return engine_request_sync(e, &r, status, body);
}

/* POST a create: left running when interrupted (engine_settle()). */
static int req_create(struct engine *e, const char *path, const char *json,
                      struct buf *body)
{
	struct engine_request r = {
		.method = "POST",
		.path = path,
		.body = json,
		.body_len = strlen(json),
		.keep_on_interrupt = 1,
	};

	return engine_request_sync(e, &r, NULL, body);
}

/* Parse the body of a successful call as JSON. */
static int parse_body(const char *what, const struct buf *b, cJSON **out)
{
	*out = b->len ? cJSON_ParseWithLength(b->data, b->len) : NULL;
	if (!*out)
		return orch_error_code(ORCH_EENGINE,
		                       "%s: the engine's answer is not JSON",
		                       what);
	return 0;
}

static void exec_step(struct engine_call *c, void *ud);
static void exec_free(struct engine_exec *x);

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
		set_call_error(c, ORCH_EINTR, "%s %s: engine closed", c->method,
		               c->path);
		c->done = 1;
		c->e = NULL;
		/* an exec's calls are its own, not the caller's: nobody
		   else could free it (or the call) any more */
		if (c->on_done == exec_step)
			exec_free(c->ud);
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
	run(e, c);
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
	e->connected = 1;
out:
	engine_call_free(c);
	return rc;
}

int engine_version(struct engine *e, struct engine_version *v)
{
	struct buf b = BUF_INIT;
	cJSON *j = NULL, *comp, *it;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = req(e, "GET", "/version", NULL, 0, NULL, &b);
	if (rc == 0)
		rc = parse_body("GET /version", &b, &j);
	if (rc)
		goto out;
	v->version = jdup(j, "Version");
	v->api_version = jdup(j, "ApiVersion");
	v->min_api_version = jdup(j, "MinAPIVersion");
	v->os = jdup(j, "Os");
	v->arch = jdup(j, "Arch");
	comp = jobj(j, "Components");
	cJSON_ArrayForEach(it, comp)
	{
		const char *n = jstr(it, "Name");

		if (n && strstr(n, "Podman"))
			v->is_podman = 1;
	}
out:
	cJSON_Delete(j);
	buf_release(&b);
	return rc;
}

void engine_version_release(struct engine_version *v)
{
	if (!v)
		return;
	free(v->version);
	free(v->api_version);
	free(v->min_api_version);
	free(v->os);
	free(v->arch);
	memset(v, 0, sizeof(*v));
}

/* ---- streams: demux, progress lines, NDJSON --------------------------- */

void engine_demux_init(struct engine_demux *d)
{
	memset(d, 0, sizeof(*d));
	d->max_frame = DEFAULT_FRAME_CAP;
}

static void demux_add(struct engine_demux *d, struct buf *b, const char *data,
                      size_t n)
{
	/* past the caller's cap the output is dropped, not the stream */
	if (buf_add(b, data, n))
		d->truncated = 1;
}

int engine_demux_feed(struct engine_demux *d, const char *data, size_t len,
                      struct buf *out, struct buf *err)
{
	if (d->failed)
		return orch_error_code(ORCH_ERROR, "%s", d->errmsg);
	while (len) {
		if (d->remaining == 0) {
			size_t take = 8 - d->hdr_len;
			uint32_t size;

			if (take > len)
				take = len;
			memcpy(d->hdr + d->hdr_len, data, take);
			d->hdr_len += take;
			data += take;
			len -= take;
			if (d->hdr_len < 8)
				break;
			size = (uint32_t)d->hdr[4] << 24 |
			       (uint32_t)d->hdr[5] << 16 |
			       (uint32_t)d->hdr[6] << 8 | d->hdr[7];
			d->stream = d->hdr[0];
			if (d->stream > 3) {
				d->failed = 1;
				snprintf(d->errmsg, sizeof(d->errmsg),
				         "unrecognized stream type %d in the "
				         "engine's output",
				         d->stream);
				return orch_error_code(ORCH_ERROR, "%s",
				                       d->errmsg);
			}
			if (size > d->max_frame) {
				d->failed = 1;
				snprintf(d->errmsg, sizeof(d->errmsg),
				         "stream frame of %u bytes exceeds the "
				         "limit of %zu",
				         size, d->max_frame);
				return orch_error_code(ORCH_ERROR, "%s",
				                       d->errmsg);
			}
			d->remaining = size;
			d->errlen = 0;
			if (size == 0)
				d->hdr_len = 0;
			if (size == 0 && d->stream == 3) {
				/* a systemerr ends the stream, text or not */
				d->failed = 1;
				snprintf(d->errmsg, sizeof(d->errmsg),
				         "the engine reported an error "
				         "(no message)");
				return orch_error_code(ORCH_ERROR, "%s",
				                       d->errmsg);
			}
			continue;
		}
		size_t n = d->remaining < len ? d->remaining : len;

		if (d->stream == 3) {
			size_t room = sizeof(d->errmsg) - 1 - d->errlen;
			size_t k = n < room ? n : room;

			memcpy(d->errmsg + d->errlen, data, k);
			d->errlen += k;
			d->errmsg[d->errlen] = '\0';
		} else if (d->stream == 2 && err) {
			demux_add(d, err, data, n);
		} else {
			demux_add(d, out, data, n);
		}
		data += n;
		len -= n;
		d->remaining -= n;
		if (d->remaining == 0) {
			d->hdr_len = 0;
			if (d->stream == 3) {
				struct buf m = BUF_INIT;

				buf_addstr(&m,
				           "the engine reported an error: ");
				buf_add(&m, d->errmsg, d->errlen);
				while (m.len &&
				       isspace((unsigned char)
				                       m.data[m.len - 1]))
					m.data[--m.len] = '\0';
				snprintf(d->errmsg, sizeof(d->errmsg), "%s",
				         m.data);
				buf_release(&m);
				d->failed = 1;
				return orch_error_code(ORCH_ERROR, "%s",
				                       d->errmsg);
			}
		}
	}
	return 0;
}

int engine_demux_finish(const struct engine_demux *d)
{
	if (d->failed)
		return orch_error_code(ORCH_ERROR, "%s", d->errmsg);
	if (d->hdr_len && d->hdr_len < 8)
		return orch_error_code(
		        ORCH_ERROR,
		        "the engine's stream ended inside a frame "
		        "header (%zu of 8 bytes)",
		        d->hdr_len);
	if (d->remaining)
		return orch_error_code(
		        ORCH_ERROR,
		        "the engine's stream ended inside a frame "
		        "(%zu bytes missing)",
		        d->remaining);
	return 0;
}

/*
 * engine_progress_line(), leaving the parsed line in *jp (NULL for a
 * blank line) so that a caller wanting more from it (the build's aux ID)
 * does not parse it again.
 */
static int progress_parse(const char *line, size_t len, struct buf *out,
                          cJSON **jp)
{
	cJSON *j, *ed;
	const char *msg = NULL, *s;

	*jp = NULL;
	while (len && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	if (!len)
		return 0;
	j = cJSON_ParseWithLength(line, len);
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return orch_error_code(ORCH_EENGINE,
		                       "unparsable progress line from the "
		                       "engine: %.*s",
		                       (int)(len > 100 ? 100 : len), line);
	}
	*jp = j;
	ed = jobj(j, "errorDetail");
	if (cJSON_IsObject(ed))
		msg = jstr(ed, "message");
	if (!msg)
		msg = jstr(j, "error");
	if (msg || cJSON_IsObject(ed))
		return orch_error_code(ORCH_EENGINE, "%s",
		                       msg ? msg : "error without a message");
	s = jstr(j, "stream");
	if (s && out)
		buf_addstr(out, s);
	return 0;
}

int engine_progress_line(const char *line, size_t len, struct buf *out)
{
	cJSON *j;
	int rc = progress_parse(line, len, out, &j);

	cJSON_Delete(j);
	return rc;
}

/*
 * Line splitter for NDJSON streams (pull, build, events): lines are
 * handed out as they complete, however the data was chunked.
 */
struct lines {
	struct buf partial;
	int (*line)(void *ud, const char *s, size_t n);
	void *ud;
	int rc;
	char *msg;
	/* events: drop a line over the cap instead of failing, since a
	   reconnect with since= would only meet it again */
	int skip_long;
	int skipping; /* inside a dropped line, until its newline */
};

static int lines_feed(void *ud, const char *data, size_t len)
{
	struct lines *l = ud;

	while (len && l->rc == 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (l->skipping ||
		    (l->skip_long && l->partial.len + n > l->partial.cap)) {
			buf_reset(&l->partial);
			l->skipping = !nl;
			data += nl ? n + 1 : n;
			len -= nl ? n + 1 : n;
			continue;
		}
		if (buf_add(&l->partial, data, n)) {
			l->rc = orch_error_code(ORCH_ETOOBIG,
			                        "a line of the engine's stream "
			                        "exceeds %zu bytes",
			                        l->partial.cap);
			break;
		}
		if (!nl)
			break;
		l->rc = l->line(l->ud, l->partial.data, l->partial.len);
		buf_reset(&l->partial);
		data += n + 1;
		len -= n + 1;
	}
	if (l->rc && !l->msg)
		l->msg = xstrdup(orch_error_last());
	return l->rc != 0;
}

static int lines_end(struct lines *l)
{
	if (l->rc == 0 && l->partial.len) {
		l->rc = l->line(l->ud, l->partial.data, l->partial.len);
		if (l->rc)
			l->msg = xstrdup(orch_error_last());
		buf_reset(&l->partial);
	}
	return l->rc;
}

static void lines_release(struct lines *l)
{
	buf_release(&l->partial);
	free(l->msg);
}

/* Run a progress stream (pull, build, import) to its end. */
struct progress {
	struct buf *out;
	char *aux_id;
};

static int progress_line(void *ud, const char *s, size_t n)
{
	struct progress *p = ud;
	cJSON *j;
	int rc = progress_parse(s, n, p->out, &j);

	if (rc == 0 && j && !p->aux_id) {
		const char *id = jstr(jobj(j, "aux"), "ID");

		if (id)
			p->aux_id = xstrdup(id);
	}
	cJSON_Delete(j);
	return rc;
}

static int run_progress(struct engine *e, const char *path, const void *body,
                        size_t len, const char *ctype, long stall_ms,
                        struct buf *out, char **aux_id)
{
	struct progress p = { .out = out };
	struct lines l = { .line = progress_line, .ud = &p };
	struct engine_request r = {
		.method = "POST",
		.path = path,
		.body = body,
		.body_len = len,
		.content_type = ctype,
		.timeout_ms = -1,
		.stall_ms = stall_ms,
		.on_data = lines_feed,
		.ud = &l,
	};
	struct engine_call *c;
	int rc;

	buf_init(&l.partial, STREAM_LINE_CAP);
	c = call_start(e, &r, 0, 1); /* body lives until engine_call_free */
	rc = run(e, c);
	if (l.rc || (rc == 0 && lines_end(&l)))
		rc = orch_error_code(l.rc, "%s %s: %ld stream: %s", c->method,
		                     c->path, c->status, l.msg);
	if (rc == 0 && aux_id) {
		*aux_id = p.aux_id;
		p.aux_id = NULL;
	}
	free(p.aux_id);
	lines_release(&l);
	engine_call_free(c);
	return rc;
}

/* ---- images ----------------------------------------------------------- */

int engine_image_inspect(struct engine *e, const char *ref, char **id)
{
	struct buf p = BUF_INIT, b = BUF_INIT;
	cJSON *j = NULL;
	int rc;

	if (id)
		*id = NULL;
	buf_addstr(&p, "/images/");
	engine_url_escape(&p, ref);
	buf_addstr(&p, "/json");
	rc = req(e, "GET", p.data, NULL, 0, NULL, &b);
	if (rc == 0 && id) {
		rc = parse_body(p.data, &b, &j);
		if (rc == 0)
			*id = jdup(j, "Id");
	}
	cJSON_Delete(j);
	buf_release(&b);
	buf_release(&p);
	return rc;
}

/* Split "name:tag" / "name@digest"; a ':' inside a registry host:port
   is not a tag. */
static void split_ref(const char *ref, char **name, char **tag)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');

	if (strchr(ref, '@') || !colon) {
		*name = xstrdup(ref);
		*tag = xstrdup(strchr(ref, '@') ? "" : "latest");
	} else {
		*name = xstrndup(ref, (size_t)(colon - ref));
		*tag = xstrdup(colon + 1);
	}
}

int engine_image_pull(struct engine *e, const char *ref)
{
	struct buf p = BUF_INIT;
	char *name, *tag;
	int rc;

	split_ref(ref, &name, &tag);
	buf_addstr(&p, "/images/create?fromImage=");
	engine_url_escape(&p, name);
	if (*tag) {
		buf_addstr(&p, "&tag=");
		engine_url_escape(&p, tag);
	}
	rc = run_progress(e, p.data, NULL, 0, NULL, e->stall_pull_ms, NULL,
	                  NULL);
	if (rc)
		orch_error_prefix(rc, "pulling '%s'", ref);
	free(name);
	free(tag);
	buf_release(&p);
	return rc;
}

static void add_json_param(struct buf *p, const char *key,
                           const struct engine_label *l, size_t n)
{
	cJSON *o = labels_json(l, n);
	char *s = json_print(o);

	buf_addf(p, "&%s=", key);
	engine_url_escape(p, s);
	cJSON_free(s);
	cJSON_Delete(o);
}

int engine_image_build(struct engine *e, const struct engine_build_opts *o,
                       char **image_id)
{
	struct buf tar = BUF_INIT, p = BUF_INIT;
	char *id = NULL, *df = NULL;
	int rc;

	if (image_id)
		*image_id = NULL;
	/* a Dockerfile outside the context, also through a symlink, is
	   refused; a symlink inside it is sent as its target's path */
	rc = tar_dockerfile(o->context_dir,
	                    o->dockerfile ? o->dockerfile : "Dockerfile", &df);
	if (rc)
		goto out;
	buf_init(&tar, o->context_cap ? o->context_cap : (size_t)512 << 20);
	rc = tar_context(o->context_dir, df, &tar);
	if (rc)
		goto out;
	buf_addstr(&p, "/build?rm=1&forcerm=1&dockerfile=");
	engine_url_escape(&p, df);
	if (o->tag) {
		buf_addstr(&p, "&t=");
		engine_url_escape(&p, o->tag);
	}
	if (o->target) {
		buf_addstr(&p, "&target=");
		engine_url_escape(&p, o->target);
	}
	if (o->nbuildargs)
		add_json_param(&p, "buildargs", o->buildargs, o->nbuildargs);
	if (o->nlabels)
		add_json_param(&p, "labels", o->labels, o->nlabels);
	rc = run_progress(e, p.data, tar.data, tar.len, "application/x-tar",
	                  e->stall_build_ms, o->output, &id);
	if (rc) {
		orch_error_prefix(rc, "building '%s'", o->context_dir);
		goto out;
	}
	if (!id && o->tag)
		rc = engine_image_inspect(e, o->tag, &id);
	if (rc == 0 && image_id) {
		*image_id = id;
		id = NULL;
	}
out:
	free(id);
	free(df);
	buf_release(&tar);
	buf_release(&p);
	return rc;
}

int engine_image_import(struct engine *e, const char *tar_path, const char *ref)
{
	struct buf tar = BUF_INIT, p = BUF_INIT;
	char *name = NULL, *tag = NULL;
	int rc;

	rc = read_file(tar_path, &tar, (size_t)4 << 30);
	if (rc)
		goto out;
	split_ref(ref, &name, &tag);
	buf_addstr(&p, "/images/create?fromSrc=-&repo=");
	engine_url_escape(&p, name);
	if (*tag) {
		buf_addstr(&p, "&tag=");
		engine_url_escape(&p, tag);
	}
	rc = run_progress(e, p.data, tar.data, tar.len, "application/x-tar",
	                  e->stall_build_ms, NULL, NULL);
	if (rc)
		orch_error_prefix(rc, "importing '%s'", tar_path);
out:
	free(name);
	free(tag);
	buf_release(&tar);
	buf_release(&p);
	return rc;
}

int engine_image_remove(struct engine *e, const char *ref, int force)
{
	struct buf p = BUF_INIT;
	int rc;

	buf_addstr(&p, "/images/");
	engine_url_escape(&p, ref);
	buf_addstr(&p, force ? "?force=1" : "");
	rc = req(e, "DELETE", p.data, NULL, 0, NULL, NULL);
	buf_release(&p);
	return rc;
}

/* ---- networks, volumes, lists ----------------------------------------- */

static int create_json(struct engine *e, const char *path, cJSON *body,
                       const char *id_key, char **id)
{
	char *json = json_print(body);
	struct buf b = BUF_INIT;
	cJSON *j = NULL;
	int rc;

	if (id)
		*id = NULL;
	rc = req_create(e, path, json, &b);
	if (rc == 0 && id) {
		rc = parse_body(path, &b, &j);
		if (rc == 0)
			*id = jdup(j, id_key);
	}
	cJSON_free(json);
	cJSON_Delete(j);
	buf_release(&b);
	return rc;
}

int engine_network_create(struct engine *e, const char *name,
                          const struct engine_label *labels, size_t nlabels,
                          char **id)
{
	cJSON *o = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(o, "Name", name);
	/* before API 1.44 duplicate names are allowed unless asked */
	cJSON_AddTrueToObject(o, "CheckDuplicate");
	cJSON_AddStringToObject(o, "Driver", "bridge");
	cJSON_AddItemToObject(o, "Labels", labels_json(labels, nlabels));
	rc = create_json(e, "/networks/create", o, "Id", id);
	cJSON_Delete(o);
	return rc;
}

static int remove_obj(struct engine *e, const char *kind, const char *id,
                      const char *query)
{
	struct buf p = BUF_INIT;
	int rc;

	buf_addf(&p, "/%s/", kind);
	engine_url_escape(&p, id);
	buf_addstr(&p, query);
	rc = req(e, "DELETE", p.data, NULL, 0, NULL, NULL);
	buf_release(&p);
	return rc;
}

int engine_network_remove(struct engine *e, const char *id)
{
	return remove_obj(e, "networks", id, "");
}

void engine_object_release(struct engine_object *o)
{
	if (!o)
		return;
	free(o->id);
	free(o->name);
	free(o->state);
	label_set_release(&o->labels);
	memset(o, 0, sizeof(*o));
}

void engine_object_list_release(struct engine_object_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		engine_object_release(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

const char *engine_object_label(const struct engine_object *o, const char *key)
{
	for (size_t i = 0; i < o->labels.n; i++)
		if (!strcmp(o->labels.keys[i], key))
			return o->labels.values[i];
	return NULL;
}

enum list_kind { LIST_NETWORKS, LIST_VOLUMES, LIST_CONTAINERS };

static int list(struct engine *e, enum list_kind kind,
                const struct engine_label *filter, size_t nfilter,
                struct engine_object_list *out)
{
	static const char *const paths[] = {
		"/networks?filters=", "/volumes?filters=",
		"/containers/json?all=1&filters="
	};
	struct buf p = BUF_INIT, b = BUF_INIT;
	cJSON *j = NULL, *arr, *it;
	int rc;

	out->items = NULL;
	out->n = 0;
	buf_addstr(&p, paths[kind]);
	engine_label_filter(&p, filter, nfilter);
	rc = req(e, "GET", p.data, NULL, 0, NULL, &b);
	if (rc == 0)
		rc = parse_body(p.data, &b, &j);
	if (rc)
		goto out;
	arr = kind == LIST_VOLUMES ? jobj(j, "Volumes") : j;
	out->items = xcalloc((size_t)cJSON_GetArraySize(arr) + 1,
	                     sizeof(*out->items));
	cJSON_ArrayForEach(it, arr)
	{
		struct engine_object *o = &out->items[out->n++];

		switch (kind) {
		case LIST_NETWORKS:
			o->id = jdup(it, "Id");
			o->name = jdup(it, "Name");
			break;
		case LIST_VOLUMES:
			o->id = jdup(it, "Name");
			o->name = jdup(it, "Name");
			break;
		case LIST_CONTAINERS: {
			cJSON *names = jobj(it, "Names");
			cJSON *first = cJSON_GetArrayItem(names, 0);

			o->id = jdup(it, "Id");
			if (cJSON_IsString(first))
				o->name =
				        xstrdup(first->valuestring +
				                (first->valuestring[0] == '/'));
			o->state = jdup(it, "State");
			break;
		}
		}
		if (!o->id)
			o->id = xstrdup("");
		if (!o->name)
			o->name = xstrdup("");
		label_set_from(&o->labels, jobj(it, "Labels"));
	}
out:
	cJSON_Delete(j);
	buf_release(&b);
	buf_release(&p);
	return rc;
}

int engine_network_list(struct engine *e, const struct engine_label *filter,
                        size_t nfilter, struct engine_object_list *out)
{
	return list(e, LIST_NETWORKS, filter, nfilter, out);
}

int engine_volume_create(struct engine *e, const char *name,
                         const struct engine_label *labels, size_t nlabels,
                         struct engine_object *got)
{
	cJSON *o = cJSON_CreateObject(), *j = NULL;
	struct buf b = BUF_INIT;
	char *json;
	int rc;

	if (got)
		memset(got, 0, sizeof(*got));
	cJSON_AddStringToObject(o, "Name", name);
	cJSON_AddItemToObject(o, "Labels", labels_json(labels, nlabels));
	json = json_print(o);
	rc = req_create(e, "/volumes/create", json, &b);
	if (rc == 0 && got)
		rc = parse_body("POST /volumes/create", &b, &j);
	if (rc == 0 && got) {
		/* what came back, which is not always what we asked for */
		got->name = jdup(j, "Name");
		if (!got->name)
			got->name = xstrdup("");
		got->id = xstrdup(got->name);
		label_set_from(&got->labels, jobj(j, "Labels"));
	}
	cJSON_free(json);
	cJSON_Delete(o);
	cJSON_Delete(j);
	buf_release(&b);
	return rc;
}

int engine_volume_remove(struct engine *e, const char *name, int force)
{
	return remove_obj(e, "volumes", name, force ? "?force=1" : "");
}

int engine_volume_list(struct engine *e, const struct engine_label *filter,
                       size_t nfilter, struct engine_object_list *out)
{
	return list(e, LIST_VOLUMES, filter, nfilter, out);
}

int engine_container_list(struct engine *e, const struct engine_label *filter,
                          size_t nfilter, struct engine_object_list *out)
{
	return list(e, LIST_CONTAINERS, filter, nfilter, out);
}

/* ---- containers ------------------------------------------------------- */

static cJSON *container_json(const struct engine_container_spec *s)
{
	cJSON *o = cJSON_CreateObject(), *hc, *exposed, *bindings;

	cJSON_AddStringToObject(o, "Image", s->image);
	if (s->cmd)
		cJSON_AddItemToObject(o, "Cmd", strv_json(s->cmd));
	if (s->entrypoint && !s->entrypoint[0]) {
		/* [] would mean "the image's": [""] clears it, as Compose's
		   `entrypoint: []` does */
		cJSON *a = cJSON_AddArrayToObject(o, "Entrypoint");
		cJSON_AddItemToArray(a, cJSON_CreateString(""));
	} else if (s->entrypoint) {
		cJSON_AddItemToObject(o, "Entrypoint",
		                      strv_json(s->entrypoint));
	}
	if (s->env)
		cJSON_AddItemToObject(o, "Env", strv_json(s->env));
	if (s->user)
		cJSON_AddStringToObject(o, "User", s->user);
	if (s->working_dir)
		cJSON_AddStringToObject(o, "WorkingDir", s->working_dir);
	if (s->hostname)
		cJSON_AddStringToObject(o, "Hostname", s->hostname);
	cJSON_AddBoolToObject(o, "Tty", s->tty);
	cJSON_AddItemToObject(o, "Labels", labels_json(s->labels, s->nlabels));
	if (s->stop_timeout_s >= 0)
		cJSON_AddNumberToObject(o, "StopTimeout", s->stop_timeout_s);
	if (s->health && s->health->set) {
		const struct engine_health *h = s->health;
		cJSON *hj = cJSON_AddObjectToObject(o, "Healthcheck");
		static char *const none[] = { "NONE", NULL };

		cJSON_AddItemToObject(hj, "Test",
		                      strv_json(h->test ? h->test : none));
		cJSON_AddNumberToObject(hj, "Interval", (double)h->interval_ns);
		cJSON_AddNumberToObject(hj, "Timeout", (double)h->timeout_ns);
		cJSON_AddNumberToObject(hj, "StartPeriod",
		                        (double)h->start_period_ns);
		cJSON_AddNumberToObject(hj, "Retries", h->retries);
	}
	hc = cJSON_AddObjectToObject(o, "HostConfig");
	exposed = cJSON_AddObjectToObject(o, "ExposedPorts");
	bindings = cJSON_AddObjectToObject(hc, "PortBindings");
	for (size_t i = 0; i < s->nports; i++) {
		const struct engine_port *p = &s->ports[i];
		char key[48], hp[16] = "";
		cJSON *arr, *b;

		snprintf(key, sizeof(key), "%d/%s", p->container_port,
		         p->protocol ? p->protocol : "tcp");
		if (p->host_port > 0)
			snprintf(hp, sizeof(hp), "%d", p->host_port);
		if (!cJSON_GetObjectItemCaseSensitive(exposed, key))
			cJSON_AddObjectToObject(exposed, key);
		arr = cJSON_GetObjectItemCaseSensitive(bindings, key);
		if (!arr)
			arr = cJSON_AddArrayToObject(bindings, key);
		b = cJSON_CreateObject();
		/* loopback and an ephemeral port unless asked otherwise */
		cJSON_AddStringToObject(b, "HostIp",
		                        p->host_ip ? p->host_ip : "127.0.0.1");
		cJSON_AddStringToObject(b, "HostPort", hp);
		cJSON_AddItemToArray(arr, b);
	}
	if (s->nmounts) {
		cJSON *ms = cJSON_AddArrayToObject(hc, "Mounts");

		for (size_t i = 0; i < s->nmounts; i++) {
			const struct engine_mount *m = &s->mounts[i];
			cJSON *mj = cJSON_CreateObject();

			cJSON_AddStringToObject(mj, "Type",
			                        m->type ? m->type : "volume");
			if (m->source)
				cJSON_AddStringToObject(mj, "Source",
				                        m->source);
			cJSON_AddStringToObject(mj, "Target", m->target);
			cJSON_AddBoolToObject(mj, "ReadOnly", m->read_only);
			cJSON_AddItemToArray(ms, mj);
		}
	}
	if (s->init)
		cJSON_AddTrueToObject(hc, "Init");
	if (s->auto_remove)
		cJSON_AddTrueToObject(hc, "AutoRemove");
	if (s->network) {
		cJSON *nc = cJSON_AddObjectToObject(o, "NetworkingConfig");
		cJSON *ec = cJSON_AddObjectToObject(nc, "EndpointsConfig");
		cJSON *ep = cJSON_AddObjectToObject(ec, s->network);

		cJSON_AddStringToObject(hc, "NetworkMode", s->network);
		if (s->aliases)
			cJSON_AddItemToObject(ep, "Aliases",
			                      strv_json(s->aliases));
	}
	return o;
}

char *engine_container_json(const struct engine_container_spec *s)
{
	cJSON *o = container_json(s);
	char *json = json_print(o), *out = xstrdup(json);

	cJSON_free(json);
	cJSON_Delete(o);
	return out;
}

int engine_container_create(struct engine *e,
                            const struct engine_container_spec *s, char **id)
{
	cJSON *o = container_json(s);
	struct buf p = BUF_INIT;
	int rc;

	buf_addstr(&p, "/containers/create");
	if (s->name) {
		buf_addstr(&p, "?name=");
		engine_url_escape(&p, s->name);
	}
	rc = create_json(e, p.data, o, "Id", id);
	cJSON_Delete(o);
	buf_release(&p);
	return rc;
}

static int container_post(struct engine *e, const char *id, const char *verb,
                          const char *query, long timeout_ms)
{
	struct buf p = BUF_INIT;
	int rc;

	buf_addstr(&p, "/containers/");
	engine_url_escape(&p, id);
	buf_addf(&p, "/%s%s", verb, query);
	/* 304 (already started, already stopped) is a success */
	rc = req(e, "POST", p.data, NULL, timeout_ms, NULL, NULL);
	buf_release(&p);
	return rc;
}

int engine_container_start(struct engine *e, const char *id)
{
	return container_post(e, id, "start", "", 0);
}

int engine_container_stop(struct engine *e, const char *id, int timeout_s)
{
	char q[32];

	if (timeout_s < 0)
		timeout_s = 10;
	snprintf(q, sizeof(q), "?t=%d", timeout_s);
	/* the engine waits t seconds before SIGKILL: leave it room */
	return container_post(e, id, "stop", q, ((long)timeout_s + 10) * 1000);
}

int engine_container_kill(struct engine *e, const char *id, const char *signal)
{
	struct buf q = BUF_INIT;
	int rc;

	if (signal) {
		buf_addstr(&q, "?signal=");
		engine_url_escape(&q, signal);
	}
	rc = container_post(e, id, "kill", q.len ? q.data : "", 0);
	buf_release(&q);
	return rc;
}

int engine_container_remove(struct engine *e, const char *id, int force)
{
	return remove_obj(e, "containers", id, force ? "?force=1&v=1" : "?v=1");
}

int engine_container_wait(struct engine *e, const char *id, long timeout_ms,
                          int *status)
{
	struct buf p = BUF_INIT, b = BUF_INIT;
	cJSON *j = NULL;
	int rc;

	buf_addstr(&p, "/containers/");
	engine_url_escape(&p, id);
	buf_addstr(&p, "/wait?condition=not-running");
	/* never -1: the engine answers only when the container stops, and
	   a hung engine would hold the caller for good */
	rc = req(e, "POST", p.data, NULL,
	         timeout_ms > 0 ? timeout_ms : e->request_timeout_ms, NULL, &b);
	if (rc == ORCH_ETIMEOUT)
		rc = orch_error_prefix(rc,
		                       "container '%s' still running, or the "
		                       "engine hangs",
		                       id);
	if (rc == 0)
		rc = parse_body(p.data, &b, &j);
	if (rc == 0 && status)
		*status = jint(j, "StatusCode", -1);
	cJSON_Delete(j);
	buf_release(&b);
	buf_release(&p);
	return rc;
}

int engine_container_inspect(struct engine *e, const char *id,
                             struct engine_container_info *info)
{
	struct buf p = BUF_INIT, b = BUF_INIT;
	cJSON *j = NULL, *state, *config, *health, *nets, *it, *ports;
	const char *name;
	int rc;

	memset(info, 0, sizeof(*info));
	buf_addstr(&p, "/containers/");
	engine_url_escape(&p, id);
	buf_addstr(&p, "/json");
	rc = req(e, "GET", p.data, NULL, 0, NULL, &b);
	if (rc == 0)
		rc = parse_body(p.data, &b, &j);
	if (rc)
		goto out;
	state = jobj(j, "State");
	config = jobj(j, "Config");
	info->id = jdup(j, "Id");
	name = jstr(j, "Name");
	info->name = xstrdup(name ? name + (name[0] == '/') : "");
	info->image = jdup(config, "Image");
	info->status = jdup(state, "Status");
	info->running = jbool(state, "Running");
	info->exit_code = jint(state, "ExitCode", 0);
	info->oom_killed = jbool(state, "OOMKilled");
	info->tty = jbool(config, "Tty");
	health = jobj(state, "Health");
	if (cJSON_IsObject(health)) {
		cJSON *log = jobj(health, "Log");
		int n = cJSON_GetArraySize(log);

		info->health = jdup(health, "Status");
		if (n > 0) {
			cJSON *last = cJSON_GetArrayItem(log, n - 1);

			info->health_log = jdup(last, "Output");
			info->health_log_start = jdup(last, "Start");
		}
	}
	if (jstr(state, "Error") && *jstr(state, "Error"))
		info->error = jdup(state, "Error");
	nets = jobj(jobj(j, "NetworkSettings"), "Networks");
	cJSON_ArrayForEach(it, nets)
	{
		const char *ip = jstr(it, "IPAddress");

		if (ip && *ip) {
			info->ip = xstrdup(ip);
			break;
		}
	}
	ports = jobj(jobj(j, "NetworkSettings"), "Ports");
	cJSON_ArrayForEach(it, ports)
	{
		cJSON *bnd;

		cJSON_ArrayForEach(bnd, it)
		{
			struct engine_port_binding *pb;
			const char *slash =
			        it->string ? strchr(it->string, '/') : NULL;
			const char *hp = jstr(bnd, "HostPort");

			info->ports = xrealloc(info->ports,
			                       (info->nports + 1) *
			                               sizeof(*info->ports));
			pb = &info->ports[info->nports++];
			pb->container_port =
			        it->string ? port_num(it->string) : 0;
			pb->protocol = xstrdup(slash ? slash + 1 : "tcp");
			pb->host_ip = jdup(bnd, "HostIp");
			pb->host_port = hp ? port_num(hp) : 0;
		}
	}
	label_set_from(&info->labels, jobj(config, "Labels"));
out:
	cJSON_Delete(j);
	buf_release(&b);
	buf_release(&p);
	return rc;
}

void engine_container_info_release(struct engine_container_info *info)
{
	if (!info)
		return;
	free(info->id);
	free(info->name);
	free(info->image);
	free(info->status);
	free(info->health);
	free(info->health_log);
	free(info->health_log_start);
	free(info->error);
	free(info->ip);
	for (size_t i = 0; i < info->nports; i++) {
		free(info->ports[i].protocol);
		free(info->ports[i].host_ip);
	}
	free(info->ports);
	label_set_release(&info->labels);
	memset(info, 0, sizeof(*info));
}

/* Demultiplex (or copy, for a TTY) a stream body into out. */
struct demux_sink {
	struct engine_demux d;
	int raw;
	struct buf *out;
	int rc;
	char *msg;
};

static int demux_data(void *ud, const char *data, size_t len)
{
	struct demux_sink *s = ud;

	if (s->raw) {
		if (buf_add(s->out, data, len))
			s->d.truncated = 1;
	} else {
		s->rc = engine_demux_feed(&s->d, data, len, s->out, NULL);
		if (s->rc) {
			s->msg = xstrdup(orch_error_last());
			return 1;
		}
	}
	/* the caller's buffer is full: reading on would only discard */
	return s->d.truncated;
}

int engine_container_logs(struct engine *e, const char *id, int tail,
                          struct buf *out)
{
	struct engine_container_info info;
	struct demux_sink s = { .out = out };
	struct buf p = BUF_INIT;
	struct engine_request r = { .method = "GET",
		                    .on_data = demux_data,
		                    .ud = &s };
	struct engine_call *c = NULL;
	int rc;

	/* the logs endpoint sets no Content-Type: only Config.Tty says
	   whether the stream is multiplexed */
	rc = engine_container_inspect(e, id, &info);
	if (rc)
		return rc;
	s.raw = info.tty;
	engine_container_info_release(&info);
	engine_demux_init(&s.d);
	buf_addstr(&p, "/containers/");
	engine_url_escape(&p, id);
	buf_addstr(&p, "/logs?stdout=1&stderr=1");
	if (tail >= 0)
		buf_addf(&p, "&tail=%d", tail);
	r.path = p.data;
	c = engine_call_start(e, &r);
	rc = run(e, c);
	if (s.rc)
		rc = orch_error_code(ORCH_EENGINE, "%s %s: %s", c->method,
		                     c->path, s.msg);
	else if (s.d.truncated)
		rc = orch_error_code(ORCH_ETOOBIG,
		                     "%s %s: logs exceed %zu bytes", c->method,
		                     c->path, out->cap);
	else if (rc == 0 && !s.raw && engine_demux_finish(&s.d))
		rc = orch_error_prefix(ORCH_EENGINE, "%s %s", c->method,
		                       c->path);
	free(s.msg);
	engine_call_free(c);
	buf_release(&p);
	return rc;
}

struct follow {
	struct engine_call *call;
	struct engine_demux d;
	int raw;
	engine_log_fn fn;
	void *ud;
};

static int follow_data(void *ud, const char *data, size_t len)
{
	struct follow *f = ud;
	struct buf out = BUF_INIT;

	if (f->raw) {
		f->fn(1, data, len, f->ud);
		return 0;
	}
	/* feed at most up to the next frame boundary, so that every piece
	   handed out belongs to one stream, in arrival order */
	while (len) {
		size_t n = f->d.remaining ? f->d.remaining : 8 - f->d.hdr_len;
		int stream = f->d.stream;
		int had_payload = f->d.remaining > 0;

		if (n > len)
			n = len;
		if (engine_demux_feed(&f->d, data, n, &out, NULL)) {
			f->call->abort_code = ORCH_EENGINE;
			free(f->call->abort_msg);
			f->call->abort_msg = xstrdup(f->d.errmsg);
			buf_release(&out);
			return 1;
		}
		if (had_payload && out.len)
			f->fn(stream == 2 ? 2 : 1, out.data, out.len, f->ud);
		buf_reset(&out);
		data += n;
		len -= n;
	}
	buf_release(&out);
	return 0;
}

static void follow_end(struct engine_call *c)
{
	struct follow *f = c->priv;

	if (!f->raw && engine_demux_finish(&f->d))
		set_call_error(c, ORCH_EENGINE, "%s %s: %s", c->method, c->path,
		               orch_error_last());
}

struct engine_call *engine_logs_start(struct engine *e, const char *id, int tty,
                                      int tail, int64_t since_s,
                                      engine_log_fn fn, void *ud)
{
	struct follow *f = xcalloc(1, sizeof(*f));
	struct buf p = BUF_INIT;
	struct engine_request r = { .method = "GET",
		                    .timeout_ms = -1,
		                    .on_data = follow_data,
		                    .ud = f };
	struct engine_call *c;

	f->raw = tty;
	f->fn = fn;
	f->ud = ud;
	engine_demux_init(&f->d);
	buf_addstr(&p, "/containers/");
	engine_url_escape(&p, id);
	buf_addstr(&p, "/logs?follow=1&stdout=1&stderr=1");
	if (tail >= 0)
		buf_addf(&p, "&tail=%d", tail);
	if (since_s > 0)
		buf_addf(&p, "&since=%lld", (long long)since_s);
	r.path = p.data;
	c = engine_call_start(e, &r);
	f->call = c;
	c->priv = f;
	c->priv_free = free;
	c->priv_end = follow_end;
	buf_release(&p);
	return c;
}

int engine_copy_in(struct engine *e, const char *id, const char *dir,
                   const void *tar, size_t len)
{
	struct buf p = BUF_INIT;
	struct engine_request r = { .method = "PUT",
		                    .body = tar,
		                    .body_len = len,
		                    .content_type = "application/x-tar" };
	int rc;

	buf_addstr(&p, "/containers/");
	engine_url_escape(&p, id);
	buf_addstr(&p, "/archive?path=");
	engine_url_escape(&p, dir);
	r.path = p.data;
	rc = engine_request_sync(e, &r, NULL, NULL);
	buf_release(&p);
	return rc;
}

int engine_copy_out(struct engine *e, const char *id, const char *path,
                    struct buf *tar)
{
	struct buf p = BUF_INIT, b = BUF_INIT;
	struct engine_request r = { .method = "GET", .body_cap = tar->cap };
	int rc;

	buf_addstr(&p, "/containers/");
	engine_url_escape(&p, id);
	buf_addstr(&p, "/archive?path=");
	engine_url_escape(&p, path);
	r.path = p.data;
	rc = engine_request_sync(e, &r, NULL, &b);
	if (rc == 0 && buf_add(tar, b.data, b.len))
		rc = orch_error_code(ORCH_ETOOBIG,
		                     "GET %s: archive exceeds %zu "
		                     "bytes",
		                     p.data, tar->cap);
	buf_release(&b);
	buf_release(&p);
	return rc;
}

/* ---- exec ------------------------------------------------------------- */

enum exec_stage { EXEC_CREATE, EXEC_START, EXEC_INSPECT };

struct engine_exec {
	struct engine *e;
	char *container;
	struct strvec argv;
	char *user;
	char *exec_id;
	struct engine_call *call;
	enum exec_stage stage;
	struct engine_demux demux;
	struct buf out;
	int64_t deadline_ms; /* 0: none */
	engine_exec_done_fn done;
	void *ud;
	int in_done;
	int finished;
	int64_t ended_ms; /* when inspect first said Running after EOF */
	long poll_ms;     /* the next inspect's delay */
	/* for the synchronous wrapper */
	int rc, exit_code;
	char *msg;
};

static void exec_free(struct engine_exec *x)
{
	if (!x)
		return;
	engine_call_free(x->call);
	free(x->container);
	strvec_clear(&x->argv);
	free(x->user);
	free(x->exec_id);
	free(x->msg);
	buf_release(&x->out);
	free(x);
}

static void exec_finish(struct engine_exec *x, int rc, int exit_code,
                        const char *msg)
{
	if (x->finished)
		return;
	x->finished = 1;
	if (rc) {
		orch_error_code(rc, "%s", msg);
		x->msg = xstrdup(msg);
	}
	x->rc = rc;
	x->exit_code = exit_code;
	x->in_done = 1;
	if (x->done)
		x->done(x, rc, exit_code, x->ud);
	x->in_done = 0;
	if (!x->done)
		return; /* the synchronous wrapper frees it */
	exec_free(x);
}

static long exec_remaining(struct engine_exec *x)
{
	long left;

	if (!x->deadline_ms)
		return 0;
	left = (long)(x->deadline_ms - now_ms());
	return left > 0 ? left : 1;
}

static void exec_step(struct engine_call *c, void *ud);

/*
 * After the output closed, inspect may say Running for a moment: 1 while
 * it is still worth asking again (within EXEC_SETTLE_MS and the exec's
 * own deadline), with x->poll_ms set to the next delay.
 */
static int exec_settling(struct engine_exec *x)
{
	int64_t now = now_ms();

	if (!x->ended_ms)
		x->ended_ms = now;
	if (now - x->ended_ms >= EXEC_SETTLE_MS ||
	    (x->deadline_ms && now >= x->deadline_ms))
		return 0;
	x->poll_ms = x->poll_ms ? x->poll_ms * 2 : 10;
	if (x->poll_ms > 200)
		x->poll_ms = 200;
	return 1;
}

static int exec_data(void *ud, const char *data, size_t len)
{
	struct engine_exec *x = ud;

	/* errors after the hijack arrive as stdout text: the exit code
	   from exec inspect is the verdict, so a bad frame ends the read
	   but the exec is still inspected */
	return engine_demux_feed(&x->demux, data, len, &x->out, NULL) != 0;
}

static void exec_submit(struct engine_exec *x, const char *method,
                        const char *path, const char *json, long timeout_ms,
                        int stream, long delay_ms)
{
	struct engine_request r = {
		.method = method,
		.path = path,
		.body = json,
		.body_len = json ? strlen(json) : 0,
		.timeout_ms = timeout_ms,
		.on_data = stream ? exec_data : NULL,
		.on_done = exec_step,
		.ud = x,
	};

	engine_call_free(x->call);
	x->call = NULL;
	x->call = call_start(x->e, &r, delay_ms, 0);
}

static void exec_step(struct engine_call *c, void *ud)
{
	struct engine_exec *x = ud;
	struct buf p = BUF_INIT;
	cJSON *j = NULL;

	if (c->result && !(x->stage == EXEC_START && c->result == ORCH_EINTR &&
	                   x->demux.failed)) {
		char *msg;
		int rc = c->result;

		if (x->stage == EXEC_START && rc == ORCH_ETIMEOUT)
			msg = xasprintf("%s: '%s' still running after the "
			                "timeout (the engine does not stop it)",
			                c->error,
			                x->argv.n ? x->argv.v[0] : "");
		else
			msg = xstrdup(c->error);
		exec_finish(x, rc, -1, msg);
		free(msg);
		return;
	}
	switch (x->stage) {
	case EXEC_CREATE:
		j = cJSON_ParseWithLength(c->body.data, c->body.len);
		if (!j || !jstr(j, "Id")) {
			exec_finish(x, ORCH_EENGINE, -1,
			            "POST exec: the engine's answer has no Id");
			break;
		}
		x->exec_id = jdup(j, "Id");
		x->stage = EXEC_START;
		buf_addstr(&p, "/exec/");
		engine_url_escape(&p, x->exec_id);
		buf_addstr(&p, "/start");
		exec_submit(x, "POST", p.data,
		            "{\"Detach\":false,\"Tty\":false}",
		            x->deadline_ms ? exec_remaining(x) : -1, 1, 0);
		break;
	case EXEC_START:
		x->stage = EXEC_INSPECT;
		buf_addstr(&p, "/exec/");
		engine_url_escape(&p, x->exec_id);
		buf_addstr(&p, "/json");
		exec_submit(x, "GET", p.data, NULL, exec_remaining(x), 0, 0);
		break;
	case EXEC_INSPECT:
		j = cJSON_ParseWithLength(c->body.data, c->body.len);
		if (!j) {
			exec_finish(
			        x, ORCH_EENGINE, -1,
			        "GET exec: the engine's answer is not JSON");
			break;
		}
		if (jbool(j, "Running") && exec_settling(x)) {
			/* the engine records the exit a moment after the
			   output closes: ask again shortly */
			buf_addstr(&p, "/exec/");
			engine_url_escape(&p, x->exec_id);
			buf_addstr(&p, "/json");
			exec_submit(x, "GET", p.data, NULL, exec_remaining(x),
			            0, x->poll_ms);
			break;
		}
		if (jbool(j, "Running")) {
			/* the stream ended but the process did not: e.g. it
			   closed its output; report it as still running */
			exec_finish(x, ORCH_ETIMEOUT, -1,
			            "exec: output closed while the command is "
			            "still running");
			break;
		}
		exec_finish(x, 0, jint(j, "ExitCode", -1), NULL);
		break;
	}
	cJSON_Delete(j);
	buf_release(&p);
}

static struct engine_exec *exec_new(struct engine *e, const char *id,
                                    char *const *argv, const char *user,
                                    long timeout_ms, size_t cap,
                                    engine_exec_done_fn done, void *ud)
{
	struct engine_exec *x = xcalloc(1, sizeof(*x));
	cJSON *o = cJSON_CreateObject();
	struct buf p = BUF_INIT;
	char *json;

	x->e = e;
	x->container = xstrdup(id);
	for (; argv && *argv; argv++)
		strvec_push(&x->argv, *argv);
	x->user = user ? xstrdup(user) : NULL;
	x->done = done;
	x->ud = ud;
	x->deadline_ms = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	buf_init(&x->out, cap);
	engine_demux_init(&x->demux);
	cJSON_AddTrueToObject(o, "AttachStdout");
	cJSON_AddTrueToObject(o, "AttachStderr");
	cJSON_AddFalseToObject(o, "Tty");
	cJSON_AddItemToObject(o, "Cmd", strv_json(x->argv.v));
	if (user)
		cJSON_AddStringToObject(o, "User", user);
	json = json_print(o);
	buf_addstr(&p, "/containers/");
	engine_url_escape(&p, id);
	buf_addstr(&p, "/exec");
	x->stage = EXEC_CREATE;
	exec_submit(x, "POST", p.data, json, exec_remaining(x), 0, 0);
	cJSON_free(json);
	cJSON_Delete(o);
	buf_release(&p);
	return x;
}

struct engine_exec *engine_exec_start(struct engine *e, const char *id,
                                      char *const *argv, long timeout_ms,
                                      engine_exec_done_fn done, void *ud)
{
	return exec_new(e, id, argv, NULL, timeout_ms, EXEC_OUTPUT_CAP, done,
	                ud);
}

void engine_exec_cancel(struct engine_exec *x)
{
	if (!x || x->in_done || x->finished)
		return;
	/* cancelling the current call finishes the exec with ORCH_EINTR */
	engine_call_cancel(x->call);
}

const struct buf *engine_exec_output(const struct engine_exec *x)
{
	return &x->out;
}

int engine_exec(struct engine *e, const char *id, char *const *argv,
                const char *user, long timeout_ms, int *exit_code,
                struct buf *output)
{
	struct engine_exec *x =
	        exec_new(e, id, argv, user, timeout_ms,
	                 output && output->cap ? output->cap : DEFAULT_BODY_CAP,
	                 NULL, NULL);
	int rc = 0;

	while (!x->finished) {
		if (interrupt_pending(e)) {
			/* finishes the exec with ORCH_EINTR */
			engine_call_cancel(x->call);
			break;
		}
		rc = engine_wait(e, NULL, 0, -1);
		if (rc < 0) {
			engine_call_cancel(x->call);
			break;
		}
	}
	rc = x->finished ? x->rc : rc;
	if (rc && x->msg)
		orch_error_code(rc, "%s", x->msg);
	if (exit_code)
		*exit_code = x->exit_code;
	if (output)
		buf_add(output, x->out.data ? x->out.data : "", x->out.len);
	exec_free(x);
	return rc;
}

/* ---- events ----------------------------------------------------------- */

struct events {
	struct lines lines;
	engine_event_fn fn;
	void *ud;
};

const char *engine_event_attr(const struct engine_event *ev, const char *key)
{
	return jstr(ev->attrs_, key);
}

static int event_line(void *ud, const char *s, size_t n)
{
	struct events *st = ud;
	struct engine_event ev = { 0 };
	cJSON *j = cJSON_ParseWithLength(s, n), *actor, *attrs;

	if (!j)
		return 0; /* not ours to judge: skip what we cannot read */
	actor = jobj(j, "Actor");
	attrs = jobj(actor, "Attributes");
	ev.type = jstr(j, "Type");
	ev.action = jstr(j, "Action");
	if (!ev.action)
		ev.action = jstr(j, "status");
	ev.id = jstr(actor, "ID");
	if (!ev.id)
		ev.id = jstr(j, "id");
	ev.name = jstr(attrs, "name");
	ev.exit_code = jstr(attrs, "exitCode");
	/* 9.2e18 is below INT64_MAX and exact as a double */
	ev.time_ns = (int64_t)jnum(j, "timeNano", 0, 9.2e18, 0);
	ev.attrs_ = attrs;
	if (ev.type && ev.action)
		st->fn(&ev, st->ud);
	cJSON_Delete(j);
	return 0;
}

/* The engine may close the stream after a last line without '\n'. */
static void events_end(struct engine_call *c)
{
	struct events *st = c->priv;

	lines_end(&st->lines);
}

static void events_free(void *p)
{
	struct events *st = p;

	lines_release(&st->lines);
	free(st);
}

struct engine_call *engine_events_start(struct engine *e,
                                        const struct engine_label *labels,
                                        size_t nlabels, const char *type,
                                        int64_t since_s, engine_event_fn fn,
                                        void *ud)
{
	struct events *st = xcalloc(1, sizeof(*st));
	struct buf p = BUF_INIT;
	struct engine_request r = { .method = "GET",
		                    .timeout_ms = -1,
		                    .on_data = lines_feed,
		                    .ud = &st->lines };
	struct engine_call *c;
	char *json = filter_json(labels, nlabels, type);

	st->fn = fn;
	st->ud = ud;
	st->lines.line = event_line;
	st->lines.ud = st;
	st->lines.skip_long = 1;
	buf_init(&st->lines.partial, STREAM_LINE_CAP);
	buf_addstr(&p, "/events?filters=");
	engine_url_escape(&p, json);
	if (since_s > 0)
		buf_addf(&p, "&since=%lld", (long long)since_s);
	r.path = p.data;
	c = engine_call_start(e, &r);
	c->priv = st;
	c->priv_free = events_free;
	c->priv_end = events_end;
	cJSON_free(json);
	buf_release(&p);
	return c;
}
