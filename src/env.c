/*
 * env.c: a run of an environment -- bring-up state machine and event loop
 * (see env.h for what it promises).
 *
 * Shape: env_up() prepares synchronously what everything else needs
 * (watchdog, network, volumes, images), submits every container create at
 * once, then runs one loop: step() moves each service through
 * PENDING -> CREATED -> STARTING -> STARTED -> READY looking only at flags
 * and finished calls, then engine_wait() drives the engine transfers and
 * polls our own fds (signal pipe, probe sockets) until the next deadline.
 * Engine callbacks (events, exec probes, log streams) only record facts
 * in the service: synchronous engine calls made from step() run the same
 * curl loop, so a callback must never re-enter the state machine.
 *
 * Signals reach the loops through the pipe, and the synchronous steps
 * (network and volume creates, image inspects and pulls) through
 * engine_interrupt(), which the handler calls while env_up() runs.
 *
 * Container creation is built here over engine_call_start() rather than
 * engine_container_create(): that one is synchronous, and creating every
 * container in parallel is most of what makes bring-up fast.
 */
#include "env.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine_ops.h"
#include "engine_stream.h"
#include "error.h"
#include "gate.h"
#include "health.h"
#include "manifest.h"
#include "tar.h"
#include "teardown.h"
#include "util.h"
#include "version.h"
#include "watchdog.h"

#define DEFAULT_READY_TIMEOUT_MS 60000
#define DEFAULT_HC_TIMEOUT_MS    30000
/* the engine's other healthcheck defaults */
#define DEFAULT_HC_INTERVAL_MS 30000
#define DEFAULT_HC_RETRIES     3
#define FAILURE_LOG_LINES      50
/* Without an events stream, how often to look at the containers. */
#define POLL_FALLBACK_MS 250
#define MAX_LABELS       16
/* Allowance for the engine's own latency on an exec probe. */
#define EXEC_SLACK_MS 5000
/*
 * How long teardown after a signal waits for the engine to answer a
 * create that was in flight (engine_settle()): Docker completes it
 * anyway, and the object must exist when teardown lists the run. A
 * network create takes 0.1 s here, 0.6 s under heavy load; a CI runner
 * sends SIGTERM 7.5 s after SIGINT.
 */
#define SETTLE_INTERRUPTED_MS 2000

struct svc {
	struct env_service pub;
	struct env *env;
	size_t index;
	const struct mf_service *ms;
	const struct mf_container *spec; /* real or stub, per mode */
	enum env_mode target;

	char *id;
	char *cname;
	char *image;
	int wanted_completed; /* a dependent waits for it to exit 0 */

	/* the Docker healthcheck, run by us through exec as well */
	int has_hc;
	struct strvec hc_argv;
	long hc_timeout_ms;
	long hc_interval_ms, hc_start_period_ms; /* effective, for the gate */
	int hc_retries;
	int hc_ok;
	int unhealthy;
	struct engine_exec *hc_exec;
	struct health_backoff hc_bo;
	int64_t hc_next;

	/* ready: probes */
	int exec_on, exec_ok;
	struct engine_exec *ready_exec;
	struct health_backoff exec_bo;
	int64_t exec_next;
	int tcp_on, tcp_ok, http_on, http_ok;
	struct health_probe tcp, http;
	struct health_backoff tcp_bo, http_bo;
	int64_t tcp_next, http_next;
	int log_on, log_ok;
	struct health_logmatch logm;
	struct engine_call *log_call;
	struct engine_demux demux;
	struct buf logtmp;

	struct engine_call *create_call;
	struct engine_call *start_call;
	struct engine_call *inspect_call; /* ports after start */

	/* the gate (docs/internals.md, "The gate"): started early,
	 * released when its dependencies hold */
	struct strvec img_entry, img_cmd; /* the image's Config */
	int gated; /* created with the gate as its entrypoint */

	/* from the events stream (or inspect) */
	int died;
	int exit_code;
	int oom;

	int64_t t_start; /* monotonic ms when the start call returned */
	int64_t deadline;
	int checked;    /* inspected at the deadline */
	struct buf why; /* the last probe failure, for timeouts */

	struct env_endpoint *eps;
	size_t neps;
};

struct env {
	struct engine *e;
	const struct manifest *m;
	char *project;
	char run_id[RUN_ID_LEN + 1];
	char *network;
	char *network_id;
	int volumes_ready; /* the manifest's volumes exist and are ours */
	struct watchdog *wd;
	int signal_fd;
	env_progress_fn progress;
	void *ud;

	struct run_owner owner;
	char owner_pid[32];
	char owner_start[32];

	struct svc *svcs;
	size_t n;

	struct engine_call *events;
	int events_broken;
	int64_t events_since_s;
	int64_t last_poll;
	int64_t t0;
	int64_t wake_at;

	int failed;
	int fail_rc;
	struct buf fail_msg;
	char *failed_service;
	char *failure_logs;
	int interrupted;

	int gate_state; /* 0 unknown, 1 usable, -1 not */
	char *gate_dir; /* the run's gate directory on this host */
};

/* ---- signals ---------------------------------------------------------- */

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t sig_first;
static volatile sig_atomic_t sig_count;
static struct engine *volatile sig_engine;
/* env_up() runs: a signal also interrupts the engine's synchronous calls */
static volatile sig_atomic_t sig_armed;

int env_signal_exit(int signo)
{
	return signo == SIGINT ? 130 : 143;
}

static void on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	if (sig_count++ > 0)
		_exit(env_signal_exit(signo)); /* second signal: at once */
	sig_first = signo;
	if (write(sig_pipe[1], &b, 1) < 0) {
		/* the pipe holds the first byte already; nothing to do */
	}
	if (sig_engine && sig_armed)
		engine_interrupt(sig_engine);
	else if (sig_engine)
		engine_wakeup(sig_engine);
	errno = saved;
}

int env_signals_install(struct engine *e)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK))
		return orch_error_set("signal pipe: %s", strerror(errno));
	sig_engine = e;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	return sig_pipe[0];
}

int env_signal(void)
{
	return sig_first;
}

/*
 * While env_up() runs, a signal interrupts the engine too: a network
 * create, an image inspect or a pull in progress returns at once
 * (engine_interrupt()), and so does every one after it. Outside it the
 * engine is left alone: teardown after a failure and the keep marker run
 * to their end (a second signal still exits at once).
 */
static void signals_arm(struct env *env)
{
	if (env->signal_fd < 0 || sig_engine != env->e)
		return;
	sig_armed = 1;
	/* one that came before: its handler did not interrupt the engine */
	if (sig_first)
		engine_interrupt(env->e);
}

static void signals_disarm(struct env *env)
{
	if (!sig_armed)
		return;
	sig_armed = 0;
	engine_interrupt_clear(env->e);
}

/* ORCH_EINTR once a signal came (env_signals_install()), else 0. */
static int check_signal(struct env *env)
{
	if (env->signal_fd < 0 || !sig_first)
		return 0;
	env->interrupted = 1;
	return orch_error_code(ORCH_EINTR, "interrupted by signal %d",
	                       env_signal());
}

/* ---- small helpers ------------------------------------------------------ */

static void svc_fail(struct svc *s, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void svc_fail(struct svc *s, const char *fmt, ...)
{
	struct env *env = s->env;
	va_list ap;

	s->pub.state = ENV_FAILED;
	if (env->failed)
		return;
	env->failed = 1;
	env->fail_rc = ORCH_EENGINE;
	buf_addf(&env->fail_msg, "service '%s': ", s->ms->name);
	va_start(ap, fmt);
	buf_vaddf(&env->fail_msg, fmt, ap);
	va_end(ap);
	env->failed_service = xstrdup(s->ms->name);
}

static int64_t ms_since(const struct env *env)
{
	return now_ms() - env->t0;
}

static void wake_at(struct env *env, int64_t t)
{
	if (env->wake_at < 0 || t < env->wake_at)
		env->wake_at = t;
}

static void noop_done(struct engine_call *c, void *ud)
{
	(void)c;
	(void)ud;
}

/*
 * What went wrong with a call: the engine's error (method, path, status
 * and Docker's own message), or an unexpected status.
 */
static void call_error(struct buf *out, struct engine_call *c, const char *what)
{
	if (engine_call_result(c))
		buf_addf(out, "%s: %s", what, engine_call_error(c));
	else
		buf_addf(out, "%s: unexpected status %ld", what,
		         engine_call_status(c));
}

static size_t run_labels(struct env *env, struct engine_label *l,
                         const char *role)
{
	size_t n = 0;

	l[n++] = (struct engine_label){ LABEL_PROJECT, env->project };
	l[n++] = (struct engine_label){ LABEL_RUN_ID, env->run_id };
	l[n++] = (struct engine_label){ LABEL_ROLE, role };
	l[n++] = (struct engine_label){ LABEL_OWNER_HOST, env->owner.host };
	l[n++] = (struct engine_label){ LABEL_OWNER_PID, env->owner_pid };
	l[n++] = (struct engine_label){ LABEL_OWNER_START, env->owner_start };
	l[n++] = (struct engine_label){ LABEL_VERSION, ORCH_VERSION };
	return n;
}

/* ---- life cycle --------------------------------------------------------- */

int env_new(struct env **out, struct engine *e, const struct manifest *m,
            const struct env_opts *o)
{
	struct env *env = xcalloc(1, sizeof(*env));

	env->e = e;
	env->m = m;
	env->project = xstrdup(o->project);
	run_id_new(env->run_id);
	env->network = xasprintf("%s-%s", env->project, env->run_id);
	env->signal_fd = o->signal_fd;
	env->progress = o->progress;
	env->ud = o->ud;
	env->wake_at = -1;
	buf_init(&env->fail_msg, 0);
	run_owner_self(&env->owner);
	snprintf(env->owner_pid, sizeof(env->owner_pid), "%ld", env->owner.pid);
	snprintf(env->owner_start, sizeof(env->owner_start), "%llu",
	         env->owner.start);
	env->n = m->nservices;
	env->svcs = xcalloc(env->n ? env->n : 1, sizeof(*env->svcs));
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		s->env = env;
		s->index = i;
		s->ms = &m->services[i];
		s->pub.name = s->ms->name;
		s->pub.started_ms = -1;
		s->pub.ready_ms = -1;
		/* never a valid descriptor before the probes are armed */
		s->tcp.fd = s->http.fd = -1;
		buf_init(&s->why, 1024);
		buf_init(&s->logtmp, 0);
	}
	*out = env;
	return 0;
}

const char *env_run_id(const struct env *env)
{
	return env->run_id;
}

const char *env_network_name(const struct env *env)
{
	return env->network;
}

size_t env_nservices(const struct env *env)
{
	return env->n;
}

const struct env_service *env_service(const struct env *env, size_t i)
{
	return i < env->n ? &env->svcs[i].pub : NULL;
}

const char *env_failure_logs(const struct env *env)
{
	return env->failure_logs;
}

const char *env_failed_service(const struct env *env)
{
	return env->failed_service;
}

void env_modes_all(const struct manifest *m, enum env_mode *modes)
{
	for (size_t i = 0; i < m->nservices; i++)
		modes[i] = mf_service_external(&m->services[i]) ? ENV_STUB
		                                                : ENV_REAL;
}

/* Stop every probe and call of s; the engine objects stay. */
static void svc_quiesce(struct svc *s)
{
	engine_call_drop(&s->create_call);
	engine_call_drop(&s->start_call);
	engine_call_drop(&s->log_call);
	engine_call_drop(&s->inspect_call);
	if (s->hc_exec) {
		struct engine_exec *x = s->hc_exec;

		s->hc_exec = NULL;
		engine_exec_cancel(x);
	}
	if (s->ready_exec) {
		struct engine_exec *x = s->ready_exec;

		s->ready_exec = NULL;
		engine_exec_cancel(x);
	}
	if (s->tcp_on)
		health_probe_abort(&s->tcp);
	if (s->http_on)
		health_probe_abort(&s->http);
}

static void svc_release_runtime(struct svc *s)
{
	svc_quiesce(s);
	if (s->tcp_on)
		health_probe_release(&s->tcp);
	if (s->http_on)
		health_probe_release(&s->http);
	if (s->log_on)
		health_logmatch_release(&s->logm);
	strvec_clear(&s->hc_argv);
	for (size_t i = 0; i < s->neps; i++) {
		free(s->eps[i].host_ip);
		free(s->eps[i].protocol);
	}
	free(s->eps);
	s->eps = NULL;
	s->neps = 0;
	free(s->id);
	free(s->cname);
	free(s->image);
	s->id = s->cname = s->image = NULL;
	s->tcp_on = s->http_on = s->log_on = s->exec_on = 0;
	s->tcp_ok = s->http_ok = s->log_ok = s->exec_ok = 0;
	s->has_hc = s->hc_ok = s->unhealthy = s->checked = 0;
	s->died = s->oom = s->exit_code = 0;
	s->gated = 0;
	buf_reset(&s->why);
	buf_reset(&s->logtmp);
	s->pub.container_id = NULL;
	s->pub.container_name = NULL;
	s->pub.endpoints = NULL;
	s->pub.nendpoints = 0;
	s->pub.state = ENV_PENDING;
	s->pub.started_ms = s->pub.ready_ms = -1;
}

/* Let cancelled transfers finish so no callback outlives its service. */
static void drain(struct env *env)
{
	for (int i = 0; i < 200 && engine_running(env->e) > 0; i++)
		engine_wait(env->e, NULL, 0, 10);
}

/*
 * Creates and starts in flight are let finish (within a bound) rather than
 * cancelled: the engine completes a create whose client went away, and a
 * container created after teardown listed the run would be left behind.
 * A second signal still exits at once.
 */
static void settle(struct env *env)
{
	int64_t deadline = now_ms() + 30000;

	for (;;) {
		int pending = 0;

		for (size_t i = 0; i < env->n; i++) {
			struct svc *s = &env->svcs[i];

			if ((s->create_call &&
			     !engine_call_done(s->create_call)) ||
			    (s->start_call && !engine_call_done(s->start_call)))
				pending = 1;
		}
		if (!pending || now_ms() >= deadline)
			break;
		if (engine_wait(env->e, NULL, 0, 100) < 0)
			break;
	}
}

static void stop_all(struct env *env)
{
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];
		struct engine_call *c = s->create_call, *st = s->start_call;

		/* the probes and streams go at once; settle() the rest */
		s->create_call = s->start_call = NULL;
		svc_quiesce(s);
		s->create_call = c;
		s->start_call = st;
	}
	engine_call_drop(&env->events);
	settle(env);
	for (size_t i = 0; i < env->n; i++)
		svc_quiesce(&env->svcs[i]);
	engine_call_drop(&env->events);
	drain(env);
}

void env_free(struct env *env)
{
	if (!env)
		return;
	stop_all(env);
	for (size_t i = 0; i < env->n; i++) {
		svc_release_runtime(&env->svcs[i]);
		buf_release(&env->svcs[i].why);
		buf_release(&env->svcs[i].logtmp);
		strvec_clear(&env->svcs[i].img_entry);
		strvec_clear(&env->svcs[i].img_cmd);
	}
	free(env->gate_dir);
	/*
	 * A watchdog still held here means the run was neither kept nor torn
	 * down (we are dying on purpose): leave its pipe open until exit, so
	 * it removes the run then.
	 */
	watchdog_leave(env->wd);
	env->wd = NULL;
	free(env->svcs);
	free(env->project);
	free(env->network);
	free(env->network_id);
	buf_release(&env->fail_msg);
	free(env->failed_service);
	free(env->failure_logs);
	free(env);
}

/* ---- images ------------------------------------------------------------- */

/*
 * Inspect an image ourselves rather than through engine_image_inspect():
 * we also need its healthcheck (Config.Healthcheck) to run its test
 * command early.
 */
static void json_strvec(const cJSON *a, struct strvec *out)
{
	const cJSON *t;

	strvec_clear(out);
	if (cJSON_IsArray(a))
		cJSON_ArrayForEach(t, a) if (cJSON_IsString(t))
		        strvec_push(out, t->valuestring);
}

/* A healthcheck's durations (ms) and retries; 0: not set. */
struct hc_times {
	long timeout_ms, interval_ms, start_period_ms;
	int retries;
};

static long json_ms(const cJSON *hc, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(hc, key);

	return cJSON_IsNumber(v) && v->valuedouble > 0
	               ? (long)(v->valuedouble / 1e6)
	               : 0;
}

static int image_inspect(struct env *env, const char *ref,
                         struct strvec *hc_test, struct hc_times *times,
                         struct strvec *entry, struct strvec *cmd)
{
	struct engine_request r = { 0 };
	struct buf path = BUF_INIT, body = BUF_INIT;
	const cJSON *cfg, *hc, *test, *retries;
	cJSON *j = NULL;
	long status = 0;
	int rc;

	buf_addstr(&path, "/images/");
	buf_addstr(&path, ref);
	buf_addstr(&path, "/json");
	r.method = "GET";
	r.path = path.data;
	rc = engine_request_sync(env->e, &r, &status, &body);
	if (status == 404 || rc == ORCH_ENOTFOUND) {
		rc = ORCH_ENOTFOUND;
		goto out;
	}
	if (rc)
		goto out;
	if (status != 200) {
		rc = orch_error_code(ORCH_EENGINE, "GET %s: %ld", path.data,
		                     status);
		goto out;
	}
	j = cJSON_ParseWithLength(body.data ? body.data : "", body.len);
	cfg = cJSON_GetObjectItemCaseSensitive(j, "Config");
	hc = cJSON_GetObjectItemCaseSensitive(cfg, "Healthcheck");
	test = cJSON_GetObjectItemCaseSensitive(hc, "Test");
	if (hc_test && cJSON_IsArray(test)) {
		const cJSON *t;

		cJSON_ArrayForEach(t, test) if (cJSON_IsString(t))
		        strvec_push(hc_test, t->valuestring);
	}
	times->timeout_ms = json_ms(hc, "Timeout");
	times->interval_ms = json_ms(hc, "Interval");
	times->start_period_ms = json_ms(hc, "StartPeriod");
	retries = cJSON_GetObjectItemCaseSensitive(hc, "Retries");
	if (cJSON_IsNumber(retries) && retries->valuedouble > 0 &&
	    retries->valuedouble < 1e6)
		times->retries = (int)retries->valuedouble;
	/* what Docker would run: the gate runs it itself */
	json_strvec(cJSON_GetObjectItemCaseSensitive(cfg, "Entrypoint"), entry);
	json_strvec(cJSON_GetObjectItemCaseSensitive(cfg, "Cmd"), cmd);
out:
	cJSON_Delete(j);
	buf_release(&path);
	buf_release(&body);
	return rc;
}

/*
 * Builds run in parallel, over engine_call_start() rather than the
 * synchronous engine_image_build(): one build per service that has one,
 * all submitted at once, driven by the same loop (a signal cancels them:
 * the engine stops a build whose client went away).
 */
struct build_job {
	struct svc *s;
	struct engine_call *call;
	struct buf line;
	char *error; /* an errorDetail from the 200 stream */
};

static int build_data(void *ud, const char *data, size_t len)
{
	struct build_job *j = ud;

	for (size_t i = 0; i < len && !j->error; i++) {
		if (data[i] != '\n') {
			/* an overlong line is cut, not fatal: it is progress */
			buf_addch(&j->line, data[i]);
			continue;
		}
		if (j->line.len &&
		    engine_progress_line(j->line.data, j->line.len, NULL) < 0)
			j->error = xstrdup(orch_error_last());
		buf_reset(&j->line);
	}
	return j->error != NULL;
}

static void add_json_query(struct buf *p, const char *key,
                           const struct mf_kvs *kvs, const char *k1,
                           const char *v1)
{
	cJSON *o = cJSON_CreateObject();
	char *json;

	for (size_t i = 0; kvs && i < kvs->n; i++)
		cJSON_AddStringToObject(
		        o, kvs->items[i].key,
		        kvs->items[i].value ? kvs->items[i].value : "");
	if (k1)
		cJSON_AddStringToObject(o, k1, v1);
	json = cJSON_PrintUnformatted(o);
	buf_addf(p, "&%s=", key);
	engine_url_escape(p, json);
	cJSON_free(json);
	cJSON_Delete(o);
}

static int submit_build(struct env *env, struct build_job *j)
{
	const struct mf_build *b = j->s->spec->build;
	const char *df = b->dockerfile ? b->dockerfile : "Dockerfile";
	struct engine_request r = { 0 };
	struct buf tar = BUF_INIT, p = BUF_INIT;
	int rc;

	buf_init(&j->line, 64 << 10);
	buf_init(&tar, (size_t)512 << 20);
	rc = tar_context(b->context, df, &tar);
	if (rc) {
		orch_error_prefix(rc, "service '%s': building '%s'",
		                  j->s->ms->name, b->context);
		goto out;
	}
	buf_addstr(&p, "/build?rm=1&forcerm=1&dockerfile=");
	engine_url_escape(&p, df);
	buf_addstr(&p, "&t=");
	engine_url_escape(&p, j->s->image);
	if (b->target) {
		buf_addstr(&p, "&target=");
		engine_url_escape(&p, b->target);
	}
	if (b->args.n)
		add_json_query(&p, "buildargs", &b->args, NULL, NULL);
	add_json_query(&p, "labels", NULL, LABEL_PROJECT, env->project);
	r.method = "POST";
	r.path = p.data;
	r.body = tar.data;
	r.body_len = tar.len;
	r.content_type = "application/x-tar";
	r.timeout_ms = -1;
	r.stall_ms = engine_stall_ms(env->e, 1);
	r.on_data = build_data;
	r.on_done = noop_done;
	r.ud = j;
	j->call = engine_call_start(env->e, &r);
out:
	buf_release(&tar);
	buf_release(&p);
	return rc;
}

static int signalled(struct env *env, struct engine_pollfd *fd)
{
	return env->signal_fd >= 0 && (fd->revents & POLLIN);
}

/* Build every image that needs it, in parallel; 0 when all succeeded. */
static int build_images(struct env *env)
{
	struct build_job *jobs = xcalloc(env->n ? env->n : 1, sizeof(*jobs));
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < env->n && rc == 0; i++) {
		struct svc *s = &env->svcs[i];

		if (s->target == ENV_ABSENT || s->id || !s->spec->build)
			continue;
		jobs[n].s = s;
		rc = submit_build(env, &jobs[n++]);
	}
	for (;;) {
		struct engine_pollfd fd = { env->signal_fd, POLLIN, 0 };
		int pending = 0;

		for (size_t k = 0; k < n; k++)
			if (jobs[k].call && !engine_call_done(jobs[k].call))
				pending = 1;
		if (!pending || rc)
			break;
		if (engine_wait(env->e, &fd, env->signal_fd >= 0, 1000) < 0) {
			rc = ORCH_EENGINE;
			break;
		}
		if (signalled(env, &fd)) {
			env->interrupted = 1;
			rc = orch_error_code(ORCH_EINTR,
			                     "interrupted by signal %d",
			                     env_signal());
		}
	}
	for (size_t k = 0; k < n; k++) {
		struct build_job *j = &jobs[k];

		if (j->call && !engine_call_done(j->call))
			engine_call_cancel(j->call);
		if (rc == 0 && (j->error || engine_call_result(j->call))) {
			int code = ORCH_EENGINE;

			/* a stalled build keeps its ORCH_ETIMEOUT */
			if (!j->error &&
			    engine_call_result(j->call) == ORCH_ETIMEOUT)
				code = ORCH_ETIMEOUT;
			rc = orch_error_code(
			        code,
			        "service '%s': building image '%s' from "
			        "'%s': %s",
			        j->s->ms->name, j->s->image,
			        j->s->spec->build->context,
			        j->error ? j->error
			                 : engine_call_error(j->call));
			j->s->pub.state = ENV_FAILED;
			env->failed_service = xstrdup(j->s->ms->name);
		}
		engine_call_free(j->call);
		buf_release(&j->line);
		free(j->error);
	}
	free(jobs);
	return rc;
}

static int resolve_image(struct env *env, struct svc *s)
{
	struct strvec test = STRVEC_INIT;
	struct hc_times hc = { 0 };
	const struct mf_healthcheck *mh = &s->spec->healthcheck;
	int rc;

	/* built images were built by build_images() */
	rc = image_inspect(env, s->image, &test, &hc, &s->img_entry,
	                   &s->img_cmd);
	if (rc == ORCH_ENOTFOUND && !s->spec->build) {
		rc = engine_image_pull(env->e, s->image);
		if (rc == ORCH_EINTR)
			goto out;
		if (rc) {
			/* the message is rebuilt from itself: copy it first */
			char *why = xstrdup(orch_error_last());

			/* a stalled pull keeps its ORCH_ETIMEOUT */
			rc = orch_error_code(
			        rc == ORCH_ETIMEOUT ? rc : ORCH_ENOTFOUND,
			        "service '%s': image '%s' not found "
			        "locally and could not be pulled: "
			        "%s",
			        s->ms->name, s->image, why);
			free(why);
			goto out;
		}
		rc = image_inspect(env, s->image, &test, &hc, &s->img_entry,
		                   &s->img_cmd);
	}
	if (rc) {
		orch_error_prefix(rc, "service '%s': image '%s'", s->ms->name,
		                  s->image);
		goto out;
	}
	/* the manifest's test (or disable) replaces the image's; what it
	 * leaves unset comes from the image, as the engine merges them */
	if (mh->set) {
		if (mh->disable || mh->test.n)
			strvec_clear(&test);
		if (!mh->disable)
			for (size_t i = 0; i < mh->test.n; i++)
				strvec_push(&test, mh->test.v[i]);
		if (mh->timeout_ns > 0)
			hc.timeout_ms = (long)(mh->timeout_ns / 1000000);
		if (mh->interval_ns > 0)
			hc.interval_ms = (long)(mh->interval_ns / 1000000);
		if (mh->start_period_ns > 0)
			hc.start_period_ms =
			        (long)(mh->start_period_ns / 1000000);
		if (mh->retries > 0)
			hc.retries = mh->retries;
	}
	s->has_hc = test.n > 0 && strcmp(test.v[0], "NONE") != 0;
	if (s->has_hc)
		health_test_argv(test.v, test.n, &s->hc_argv);
	s->hc_timeout_ms =
	        hc.timeout_ms > 0 ? hc.timeout_ms : DEFAULT_HC_TIMEOUT_MS;
	s->hc_interval_ms =
	        hc.interval_ms > 0 ? hc.interval_ms : DEFAULT_HC_INTERVAL_MS;
	s->hc_start_period_ms = hc.start_period_ms;
	s->hc_retries = hc.retries > 0 ? hc.retries : DEFAULT_HC_RETRIES;
out:
	strvec_clear(&test);
	return rc;
}

/* ---- the gate ------------------------------------------------------------ */

/* Behind the gate and started, its real process not yet released. */
static int held(const struct svc *s)
{
	return s->gated && s->pub.state == ENV_STARTING;
}

/* The architecture orchestrate-gate was built for, as the engine says it. */
#if defined(__x86_64__)
#define GATE_ARCH "amd64"
#elif defined(__aarch64__)
#define GATE_ARCH "arm64"
#else
#define GATE_ARCH ""
#endif
#ifndef ORCH_GATE_BUILD_PATH
#define ORCH_GATE_BUILD_PATH ""
#endif
/* The gate is a few hundred KiB; anything far larger is not it. */
#define GATE_MAX_SIZE (16u << 20)

static void svc_real_argv(const struct svc *s, struct strvec *out)
{
	gate_real_argv(out, s->spec->has_entrypoint, &s->spec->entrypoint,
	               &s->spec->command, &s->img_entry, &s->img_cmd);
}

static int read_gate(struct buf *bin)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	/* installed or built, it sits next to orchestrate */
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			char *path;
			int rc;

			*slash = '\0';
			path = xasprintf("%s/orchestrate-gate", exe);
			rc = read_file(path, bin, GATE_MAX_SIZE);
			free(path);
			if (rc == 0 && bin->len)
				return 0;
			buf_reset(bin);
		}
	}
	/* test programs live elsewhere in the build tree */
	if (ORCH_GATE_BUILD_PATH[0] &&
	    read_file(ORCH_GATE_BUILD_PATH, bin, GATE_MAX_SIZE) == 0 &&
	    bin->len)
		return 0;
	return ORCH_ENOTFOUND;
}

/*
 * Decided once per env: off by ORCHESTRATE_NO_GATE=1, without the binary,
 * or when the engine runs another architecture. Silent: the fallback is
 * today's behaviour (start when the dependencies hold).
 */
static int gate_usable(struct env *env)
{
	struct engine_version v;
	struct buf bin = BUF_INIT;
	const char *off = getenv("ORCHESTRATE_NO_GATE");

	if (env->gate_state)
		return env->gate_state > 0;
	env->gate_state = -1;
	if (off && !strcmp(off, "1"))
		return 0;
	memset(&v, 0, sizeof(v));
	if (read_gate(&bin))
		goto out;
	if (engine_version(env->e, &v) || !v.arch || !v.os ||
	    strcmp(v.arch, GATE_ARCH) || strcmp(v.os, "linux"))
		goto out;
	/* after prepare(): the watchdog, which removes it with the run,
	 * runs already */
	free(env->gate_dir);
	env->gate_dir = gate_dir(env->project, env->run_id);
	if (gate_dir_create(env->gate_dir, bin.data, bin.len)) {
		gate_dirs_remove(env->project, env->run_id);
		goto out;
	}
	env->gate_state = 1;
out:
	engine_version_release(&v);
	buf_release(&bin);
	return env->gate_state > 0;
}

static int deps_hold(struct env *env, struct svc *s);

/* Behind the gate: a real service whose dependencies do not hold yet. */
static int want_gate(struct env *env, struct svc *s)
{
	struct strvec argv = STRVEC_INIT;
	int n;

	if (s->target != ENV_REAL || !s->ms->ndeps || deps_hold(env, s))
		return 0;
	/* service_started holds one start after its dependency's: a held
	 * start sent early only competes with the starts that matter (the
	 * engine serialises them), so such a service starts as before */
	for (size_t i = 0; i < s->ms->ndeps; i++)
		if (s->ms->deps[i].condition == MF_SERVICE_STARTED)
			return 0;
	/*
	 * Only a service whose readiness is checked: a gate whose program
	 * cannot run exits at once (127/126, where Docker's start would have
	 * failed), and its die event may come after the release; a check
	 * cannot pass in a dead container, so the die fails `up` first. A
	 * service without checks would count as ready at its release.
	 */
	if (!s->has_hc && !s->spec->ready.tcp_port &&
	    !s->spec->ready.http_port && !s->spec->ready.exec.n &&
	    !s->spec->ready.log_regex)
		return 0;
	/* nothing to run: let the engine say so at create */
	svc_real_argv(s, &argv);
	n = (int)argv.n;
	strvec_clear(&argv);
	return n > 0 && gate_usable(env);
}

/* ---- container create body -------------------------------------------- */

static cJSON *str_array(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static int spec_has_port(const struct mf_container *c, int port)
{
	for (size_t i = 0; i < c->nports; i++)
		if (c->ports[i].container_port == port &&
		    (!c->ports[i].protocol ||
		     !strcmp(c->ports[i].protocol, "tcp")))
			return 1;
	return 0;
}

static void add_port(cJSON *exposed, cJSON *bindings, int cport,
                     const char *proto, const char *host_ip, int host_port)
{
	char key[32], hp[16];
	cJSON *list, *b;

	snprintf(key, sizeof(key), "%d/%s", cport, proto ? proto : "tcp");
	if (!cJSON_GetObjectItemCaseSensitive(exposed, key))
		cJSON_AddItemToObject(exposed, key, cJSON_CreateObject());
	list = cJSON_GetObjectItemCaseSensitive(bindings, key);
	if (!list) {
		list = cJSON_CreateArray();
		cJSON_AddItemToObject(bindings, key, list);
	}
	b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "HostIp", host_ip ? host_ip : "127.0.0.1");
	if (host_port > 0)
		snprintf(hp, sizeof(hp), "%d", host_port);
	else
		hp[0] = '\0';
	cJSON_AddStringToObject(b, "HostPort", hp);
	cJSON_AddItemToArray(list, b);
}

static char *create_body(struct env *env, struct svc *s)
{
	const struct mf_container *c = s->spec;
	struct engine_label l[MAX_LABELS];
	cJSON *root = cJSON_CreateObject(), *labels, *envv, *exposed, *host;
	cJSON *bindings, *mounts, *ncfg, *eps, *ep, *aliases;
	char grace[32];
	size_t nl;
	char *out;

	cJSON_AddStringToObject(root, "Image", s->image);
	if (s->gated) {
		/* the gate runs the real argv once released */
		static char *const gate_ep[] = { GATE_PATH };
		struct strvec cmd = STRVEC_INIT;

		char *go = gate_go_path(s->ms->name);

		strvec_push(&cmd, go);
		free(go);
		strvec_push(&cmd, "--");
		svc_real_argv(s, &cmd);
		cJSON_AddItemToObject(root, "Entrypoint",
		                      str_array(gate_ep, 1));
		cJSON_AddItemToObject(root, "Cmd", str_array(cmd.v, cmd.n));
		strvec_clear(&cmd);
	} else if (c->command.n)
		cJSON_AddItemToObject(root, "Cmd",
		                      str_array(c->command.v, c->command.n));
	if (c->has_entrypoint && !s->gated) {
		/* [""] is how the API spells "no entrypoint" */
		static char *const empty[] = { "" };

		cJSON_AddItemToObject(
		        root, "Entrypoint",
		        c->entrypoint.n
		                ? str_array(c->entrypoint.v, c->entrypoint.n)
		                : str_array(empty, 1));
	}
	envv = cJSON_AddArrayToObject(root, "Env");
	for (size_t i = 0; i < c->environment.n; i++) {
		const struct mf_kv *kv = &c->environment.items[i];
		const char *v = kv->value ? kv->value : getenv(kv->key);
		char *item;

		if (!v)
			continue; /* Compose: a bare unset name is left out */
		item = xasprintf("%s=%s", kv->key, v);
		cJSON_AddItemToArray(envv, cJSON_CreateString(item));
		free(item);
	}
	if (c->user)
		cJSON_AddStringToObject(root, "User", c->user);
	if (c->working_dir)
		cJSON_AddStringToObject(root, "WorkingDir", c->working_dir);

	labels = cJSON_AddObjectToObject(root, "Labels");
	for (size_t i = 0; i < c->labels.n; i++)
		/* our own prefix cannot be forged from a manifest */
		if (strncmp(c->labels.items[i].key, LABEL_PREFIX,
		            strlen(LABEL_PREFIX)))
			cJSON_AddStringToObject(
			        labels, c->labels.items[i].key,
			        c->labels.items[i].value
			                ? c->labels.items[i].value
			                : "");
	nl = run_labels(env, l,
	                s->target == ENV_STUB ? ROLE_STUB : ROLE_SERVICE);
	l[nl++] = (struct engine_label){ LABEL_SERVICE, s->ms->name };
	if (c->stop_grace_ns >= 0) {
		snprintf(grace, sizeof(grace), "%lld",
		         (long long)(c->stop_grace_ns / 1000000000));
		l[nl++] = (struct engine_label){ LABEL_STOP_GRACE, grace };
		cJSON_AddNumberToObject(
		        root, "StopTimeout",
		        (double)(c->stop_grace_ns / 1000000000));
	}
	for (size_t i = 0; i < nl; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(labels, l[i].key);
		cJSON_AddStringToObject(labels, l[i].key, l[i].value);
	}

	if (c->healthcheck.set) {
		cJSON *hc = cJSON_AddObjectToObject(root, "Healthcheck");

		if (c->healthcheck.disable) {
			static char *const none[] = { "NONE" };

			cJSON_AddItemToObject(hc, "Test", str_array(none, 1));
		} else {
			cJSON_AddItemToObject(hc, "Test",
			                      str_array(c->healthcheck.test.v,
			                                c->healthcheck.test.n));
			cJSON_AddNumberToObject(
			        hc, "Interval",
			        (double)c->healthcheck.interval_ns);
			cJSON_AddNumberToObject(
			        hc, "Timeout",
			        (double)c->healthcheck.timeout_ns);
			cJSON_AddNumberToObject(
			        hc, "StartPeriod",
			        (double)c->healthcheck.start_period_ns);
			cJSON_AddNumberToObject(hc, "Retries",
			                        c->healthcheck.retries);
		}
	}

	exposed = cJSON_AddObjectToObject(root, "ExposedPorts");
	host = cJSON_AddObjectToObject(root, "HostConfig");
	bindings = cJSON_AddObjectToObject(host, "PortBindings");
	for (size_t i = 0; i < c->nports; i++)
		add_port(exposed, bindings, c->ports[i].container_port,
		         c->ports[i].protocol, c->ports[i].host_ip,
		         c->ports[i].host_port);
	/* probes reach the service through 127.0.0.1: publish their ports */
	if (c->ready.tcp_port && !spec_has_port(c, c->ready.tcp_port))
		add_port(exposed, bindings, c->ready.tcp_port, "tcp", NULL, 0);
	if (c->ready.http_port && !spec_has_port(c, c->ready.http_port) &&
	    c->ready.http_port != c->ready.tcp_port)
		add_port(exposed, bindings, c->ready.http_port, "tcp", NULL, 0);
	mounts = cJSON_AddArrayToObject(host, "Mounts");
	for (size_t i = 0; i < c->nmounts; i++) {
		const struct mf_mount *mm = &c->mounts[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "Type", mm->type);
		if (mm->source && !strcmp(mm->type, "volume")) {
			char *v = xasprintf("%s-%s-%s", env->project,
			                    env->run_id, mm->source);

			cJSON_AddStringToObject(o, "Source", v);
			free(v);
		} else if (mm->source) {
			cJSON_AddStringToObject(o, "Source", mm->source);
		}
		cJSON_AddStringToObject(o, "Target", mm->target);
		cJSON_AddBoolToObject(o, "ReadOnly", mm->read_only);
		cJSON_AddItemToArray(mounts, o);
	}
	if (s->gated) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "Type", "bind");
		cJSON_AddStringToObject(o, "Source", env->gate_dir);
		cJSON_AddStringToObject(o, "Target", GATE_MOUNT);
		cJSON_AddBoolToObject(o, "ReadOnly", 1);
		cJSON_AddItemToArray(mounts, o);
	}
	if (c->tmpfs.n) {
		cJSON *t = cJSON_AddObjectToObject(host, "Tmpfs");

		for (size_t i = 0; i < c->tmpfs.n; i++) {
			const char *p = c->tmpfs.v[i], *colon = strchr(p, ':');
			char *k = colon ? xstrndup(p, (size_t)(colon - p))
			                : xstrdup(p);

			cJSON_AddStringToObject(t, k, colon ? colon + 1 : "");
			free(k);
		}
	}
	if (c->init)
		cJSON_AddBoolToObject(host, "Init", 1);
	cJSON_AddStringToObject(host, "NetworkMode", env->network);

	ncfg = cJSON_AddObjectToObject(root, "NetworkingConfig");
	eps = cJSON_AddObjectToObject(ncfg, "EndpointsConfig");
	ep = cJSON_AddObjectToObject(eps, env->network);
	aliases = cJSON_AddArrayToObject(ep, "Aliases");
	cJSON_AddItemToArray(aliases, cJSON_CreateString(s->ms->name));

	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static void submit_create(struct env *env, struct svc *s)
{
	struct engine_request r = { 0 };
	struct buf path = BUF_INIT;
	char *body = create_body(env, s);

	buf_addstr(&path, "/containers/create?name=");
	engine_url_escape(&path, s->cname);
	r.method = "POST";
	r.path = path.data;
	r.body = body;
	r.body_len = strlen(body);
	r.on_done = noop_done;
	s->create_call = engine_call_start(env->e, &r);
	free(body);
	buf_release(&path);
}

static void submit_start(struct env *env, struct svc *s)
{
	struct engine_request r = { 0 };
	char *path = xasprintf("/containers/%s/start", s->id);

	r.method = "POST";
	r.path = path;
	r.on_done = noop_done;
	s->start_call = engine_call_start(env->e, &r);
	s->pub.state = ENV_STARTING;
	free(path);
}

/* ---- events ------------------------------------------------------------- */

static struct svc *svc_by_id(struct env *env, const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < env->n; i++)
		if (env->svcs[i].id && !strcmp(env->svcs[i].id, id))
			return &env->svcs[i];
	return NULL;
}

static void on_event(const struct engine_event *ev, void *ud)
{
	struct env *env = ud;
	struct svc *s = svc_by_id(env, ev->id);
	const char *a = ev->action;

	if (ev->time_ns / 1000000000 > env->events_since_s)
		env->events_since_s = ev->time_ns / 1000000000;
	if (!s || !a)
		return;
	if (!strcmp(a, "die")) {
		long code = 0;

		s->died = 1;
		if (ev->exit_code &&
		    !parse_int(ev->exit_code, -1000000, 1000000, &code))
			s->exit_code = (int)code;
	} else if (!strcmp(a, "oom")) {
		s->oom = 1;
	} else if (held(s) && !strncmp(a, "health_status", 13)) {
		return; /* the check fails until the real process runs */
	} else if (s->gated && !strcmp(a, "health_status: unhealthy")) {
		/* counted from the start of the gate, not of the process:
		 * check_started() judges as the engine would have */
		return;
	} else if (!strcmp(a, "health_status: healthy")) {
		s->hc_ok = 1;
	} else if (!strcmp(a, "health_status: unhealthy")) {
		s->unhealthy = 1;
	} else {
		return;
	}
	/* the loop may be blocked without a deadline: let it look */
	engine_wakeup(env->e);
}

static void start_events(struct env *env)
{
	struct engine_label l = { LABEL_RUN_ID, env->run_id };

	/* since: replay what happened before the stream was established */
	env->events = engine_events_start(env->e, &l, 1, "container",
	                                  env->events_since_s, on_event, env);
}

/* ---- probes ------------------------------------------------------------- */

static void argv_text(struct buf *b, char *const *argv)
{
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			buf_addch(b, ' ');
		buf_addstr(b, argv[i]);
		if (b->len > 80)
			break;
	}
}

/* "pg_isready exited 2: no response" from an exec probe. */
static void exec_why(struct svc *s, const char *what, char *const *argv,
                     struct engine_exec *x, int rc, int exit_code)
{
	const struct buf *o = engine_exec_output(x);

	/* an attempt cut short by the deadline says less than the last one */
	if (rc == ORCH_ETIMEOUT && s->why.len)
		return;
	buf_reset(&s->why);
	if (what)
		buf_addf(&s->why, "%s ", what);
	buf_addch(&s->why, '\'');
	argv_text(&s->why, argv);
	buf_addch(&s->why, '\'');
	if (rc)
		buf_addf(&s->why, " failed: %s", orch_error_last());
	else
		buf_addf(&s->why, " exited %d", exit_code);
	if (o && o->len) {
		const char *p = o->data;
		size_t n = strcspn(p, "\n");

		while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (n > 200)
			n = 200;
		if (n) {
			buf_addstr(&s->why, ": ");
			buf_add(&s->why, p, n);
		}
	}
}

static void hc_done(struct engine_exec *x, int rc, int exit_code, void *ud)
{
	struct svc *s = ud;

	if (s->hc_exec != x)
		return; /* cancelled */
	s->hc_exec = NULL;
	if (rc == 0 && exit_code == 0) {
		s->hc_ok = 1;
		return;
	}
	exec_why(s, "healthcheck", s->hc_argv.v, x, rc, exit_code);
	s->hc_next = now_ms() + health_backoff_next(&s->hc_bo);
}

static void ready_exec_done(struct engine_exec *x, int rc, int exit_code,
                            void *ud)
{
	struct svc *s = ud;

	if (s->ready_exec != x)
		return;
	s->ready_exec = NULL;
	if (rc == 0 && exit_code == 0) {
		s->exec_ok = 1;
		return;
	}
	exec_why(s, NULL, s->spec->ready.exec.v, x, rc, exit_code);
	s->exec_next = now_ms() + health_backoff_next(&s->exec_bo);
}

static int on_log_data(void *ud, const char *data, size_t len)
{
	struct svc *s = ud;

	buf_reset(&s->logtmp);
	if (engine_demux_feed(&s->demux, data, len, &s->logtmp, NULL))
		return 0; /* a broken stream just ends the log probe */
	if (health_logmatch_feed(&s->logm, buf_cstr(&s->logtmp),
	                         s->logtmp.len)) {
		s->log_ok = 1;
		engine_wakeup(s->env->e);
		return 1; /* seen what we waited for: stop following */
	}
	return 0;
}

static int host_port_of(struct svc *s, int cport)
{
	for (size_t i = 0; i < s->neps; i++)
		if (s->eps[i].container_port == cport &&
		    !strcmp(s->eps[i].protocol, "tcp"))
			return s->eps[i].host_port;
	return 0;
}

/* After start: endpoints from inspect, then arm the probes. */
static int arm_probes(struct env *env, struct svc *s)
{
	const struct mf_ready *rd = &s->spec->ready;
	int64_t t = now_ms();
	long to_ms;
	int rc;

	/*
	 * Only published ports need an inspect (for their host side). It runs
	 * asynchronously: the exec and log probes start meanwhile, tcp and
	 * http ones when the ports are known (ports_known()).
	 */
	if (s->spec->nports || rd->tcp_port || rd->http_port) {
		struct engine_request r = { 0 };
		char *path = xasprintf("/containers/%s/json", s->id);

		r.method = "GET";
		r.path = path;
		r.on_done = noop_done;
		s->inspect_call = engine_call_start(env->e, &r);
		free(path);
	}

	to_ms = rd->timeout_ns > 0 ? (long)(rd->timeout_ns / 1000000)
	                           : DEFAULT_READY_TIMEOUT_MS;
	s->deadline = t + to_ms;
	if (s->has_hc && s->hc_argv.n) {
		health_backoff_init(&s->hc_bo);
		s->hc_next = t;
	}
	if (rd->exec.n) {
		s->exec_on = 1;
		health_backoff_init(&s->exec_bo);
		s->exec_next = t;
	}
	if (rd->log_regex) {
		struct engine_request r = { 0 };
		char *path;

		rc = health_logmatch_init(&s->logm, rd->log_regex);
		if (rc) {
			svc_fail(s, "%s", orch_error_last());
			return rc;
		}
		s->log_on = 1;
		engine_demux_init(&s->demux);
		path = xasprintf("/containers/%s/logs?follow=1&stdout=1&"
		                 "stderr=1",
		                 s->id);
		r.method = "GET";
		r.path = path;
		r.timeout_ms = -1;
		r.on_data = on_log_data;
		r.on_done = noop_done;
		r.ud = s;
		s->log_call = engine_call_start(env->e, &r);
		free(path);
	}
	return 0;
}

/* The inspect after start answered: endpoints, then tcp/http probes. */
static int ports_known(struct env *env, struct svc *s)
{
	const struct mf_ready *rd = &s->spec->ready;
	struct engine_call *c = s->inspect_call;
	const struct buf *body = engine_call_body(c);
	const cJSON *ports, *it, *state;
	cJSON *j = NULL;
	int64_t t = now_ms();
	size_t n = 0;
	int rc = 0;

	s->inspect_call = NULL;
	if (engine_call_result(c)) {
		svc_fail(s, "inspect after start: %s", engine_call_error(c));
		rc = ORCH_EENGINE;
		goto out;
	}
	j = cJSON_ParseWithLength(body->data ? body->data : "", body->len);
	ports = cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(j, "NetworkSettings"),
	        "Ports");
	cJSON_ArrayForEach(it, ports) if (cJSON_IsArray(it)) n +=
	        (size_t)cJSON_GetArraySize(it);
	s->eps = xcalloc(n ? n : 1, sizeof(*s->eps));
	cJSON_ArrayForEach(it, ports)
	{
		const cJSON *b;
		const char *slash = it->string ? strchr(it->string, '/') : NULL;
		long cport = 0;
		char *num;

		if (!cJSON_IsArray(it) || !it->string)
			continue;
		num = xstrndup(it->string, slash ? (size_t)(slash - it->string)
		                                 : strlen(it->string));
		if (parse_int(num, 1, 65535, &cport))
			cport = 0;
		free(num);
		cJSON_ArrayForEach(b, it)
		{
			const cJSON *ip =
			        cJSON_GetObjectItemCaseSensitive(b, "HostIp");
			const cJSON *hp =
			        cJSON_GetObjectItemCaseSensitive(b, "HostPort");
			struct env_endpoint *ep;
			long port = 0;

			if (!cport || !cJSON_IsString(hp) ||
			    parse_int(hp->valuestring, 1, 65535, &port))
				continue;
			ep = &s->eps[s->neps++];
			ep->host_ip =
			        xstrdup(cJSON_IsString(ip) && *ip->valuestring
			                        ? ip->valuestring
			                        : "127.0.0.1");
			ep->host_port = (int)port;
			ep->container_port = (int)cport;
			ep->protocol = xstrdup(slash ? slash + 1 : "tcp");
			ep->http = rd->http_port == cport;
		}
	}
	s->pub.endpoints = s->eps;
	s->pub.nendpoints = s->neps;
	state = cJSON_GetObjectItemCaseSensitive(j, "State");
	if (state &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(state, "Running")) &&
	    !s->died) {
		const cJSON *code =
		        cJSON_GetObjectItemCaseSensitive(state, "ExitCode");

		s->died = 1;
		s->exit_code = cJSON_IsNumber(code) ? code->valueint : -1;
		s->oom = cJSON_IsTrue(
		        cJSON_GetObjectItemCaseSensitive(state, "OOMKilled"));
	}
	if (rd->tcp_port) {
		int hp = host_port_of(s, rd->tcp_port);

		if (!hp) {
			svc_fail(s,
			         "port %d/tcp of the tcp probe is not "
			         "published",
			         rd->tcp_port);
			rc = ORCH_EENGINE;
			goto out;
		}
		health_probe_init(&s->tcp, HEALTH_TCP, hp, NULL, 0);
		health_backoff_init(&s->tcp_bo);
		s->tcp_on = 1;
		s->tcp_next = t;
	}
	if (rd->http_port) {
		int hp = host_port_of(s, rd->http_port);

		if (!hp) {
			svc_fail(s,
			         "port %d/tcp of the http probe is not "
			         "published",
			         rd->http_port);
			rc = ORCH_EENGINE;
			goto out;
		}
		health_probe_init(&s->http, HEALTH_HTTP, hp, rd->http_path,
		                  rd->http_status);
		health_backoff_init(&s->http_bo);
		s->http_on = 1;
		s->http_next = t;
	}
out:
	cJSON_Delete(j);
	engine_call_free(c);
	return rc;
}

static void run_probe(struct env *env, struct svc *s, struct health_probe *p,
                      int *ok, int64_t *next, struct health_backoff *bo,
                      int64_t t)
{
	int rc;

	if (*ok)
		return;
	if (health_probe_fd(p) < 0) {
		if (t < *next) {
			wake_at(env, *next);
			return;
		}
		rc = health_probe_begin(p, t);
	} else if (t >= health_probe_deadline_ms(p)) {
		rc = health_probe_step(p, 0, t);
	} else {
		wake_at(env, health_probe_deadline_ms(p));
		return;
	}
	if (rc == 1) {
		*ok = 1;
	} else if (rc < 0) {
		buf_reset(&s->why);
		buf_addf(&s->why, "%s probe: %s",
		         p->kind == HEALTH_TCP ? "tcp" : "http",
		         health_probe_error(p));
		*next = t + health_backoff_next(bo);
		wake_at(env, *next);
	} else {
		wake_at(env, health_probe_deadline_ms(p));
	}
}

static void run_execs(struct env *env, struct svc *s, int64_t t)
{
	if (s->has_hc && !s->hc_ok && s->hc_argv.n && !s->hc_exec) {
		if (t >= s->hc_next) {
			/* the check's own timeout plus the engine's latency:
			 * a busy engine must not turn into a failing check */
			long to = s->hc_timeout_ms + EXEC_SLACK_MS;

			if (to > s->deadline - t)
				to = (long)(s->deadline - t);
			s->hc_exec = engine_exec_start(
			        env->e, s->id, s->hc_argv.v, to, hc_done, s);
		} else {
			wake_at(env, s->hc_next);
		}
	}
	if (s->exec_on && !s->exec_ok && !s->ready_exec) {
		if (t >= s->exec_next) {
			long to = (long)(s->deadline - t);

			s->ready_exec = engine_exec_start(
			        env->e, s->id, s->spec->ready.exec.v,
			        to > 0 ? to : 1, ready_exec_done, s);
		} else {
			wake_at(env, s->exec_next);
		}
	}
}

/* ---- the state machine -------------------------------------------------- */

static int deps_hold(struct env *env, struct svc *s)
{
	if (s->target == ENV_STUB)
		return 1; /* stubs have no dependencies */
	for (size_t i = 0; i < s->ms->ndeps; i++) {
		const struct mf_dep *d = &s->ms->deps[i];
		const struct svc *ds = &env->svcs[d->index];
		enum env_state st = ds->pub.state;

		if (ds->target == ENV_ABSENT)
			continue; /* not part of this stage */
		switch (d->condition) {
		case MF_SERVICE_STARTED:
			if (st != ENV_STARTED && st != ENV_READY &&
			    st != ENV_COMPLETED)
				return 0;
			break;
		case MF_SERVICE_HEALTHY:
			if (st != ENV_READY)
				return 0;
			break;
		case MF_SERVICE_COMPLETED_SUCCESSFULLY:
			if (st != ENV_COMPLETED)
				return 0;
			break;
		}
	}
	return 1;
}

/*
 * Fail s when a dependency can no longer meet its condition: one that
 * completed (a job, exited 0) never becomes healthy. 1 when it failed.
 */
static int fail_dep_never(struct env *env, struct svc *s)
{
	if (s->target == ENV_STUB)
		return 0;
	for (size_t i = 0; i < s->ms->ndeps; i++) {
		const struct mf_dep *d = &s->ms->deps[i];
		const struct svc *ds = &env->svcs[d->index];

		if (ds->target != ENV_ABSENT &&
		    d->condition == MF_SERVICE_HEALTHY &&
		    ds->pub.state == ENV_COMPLETED) {
			svc_fail(
			        s,
			        "dependency '%s' exited (code 0): it can never "
			        "become healthy (service_healthy; a job wants "
			        "service_completed_successfully)",
			        ds->ms->name);
			return 1;
		}
	}
	return 0;
}

static void note(struct env *env, struct svc *s, enum env_note what)
{
	if (env->progress)
		env->progress(env->ud, &s->pub, what);
}

static void fail_start(struct env *env, struct svc *s, struct engine_call *c)
{
	struct buf msg = BUF_INIT, ports = BUF_INIT;
	const char *text;

	call_error(&msg, c, "start");
	text = buf_cstr(&msg);
	for (size_t i = 0; i < s->spec->nports; i++)
		if (s->spec->ports[i].host_port > 0)
			buf_addf(&ports, "%s%s:%d", ports.len ? ", " : "",
			         s->spec->ports[i].host_ip
			                 ? s->spec->ports[i].host_ip
			                 : "127.0.0.1",
			         s->spec->ports[i].host_port);
	if (ports.len && (strstr(text, "port is already allocated") ||
	                  strstr(text, "address already in use")))
		svc_fail(s, "host port %s already in use (%s)",
		         buf_cstr(&ports), text);
	else
		svc_fail(s, "cannot start: %s", text);
	buf_release(&msg);
	buf_release(&ports);
}

/* The real process runs: readiness is looked for from now on. */
static void mark_started(struct env *env, struct svc *s)
{
	s->pub.state = ENV_STARTED;
	s->t_start = now_ms();
	s->pub.started_ms = ms_since(env);
	note(env, s, ENV_NOTE_STARTED);
	arm_probes(env, s);
	/* the first probes are due now, not at the next unrelated wake-up
	 * of the loop */
	wake_at(env, s->t_start);
}

/*
 * Starts of services that can run now (level 0, ungated) still to come or
 * under way. The engine serialises much of a start (network namespace,
 * iptables): gated starts sent alongside would delay these, which are on
 * the critical path, so they wait for them -- and still overlap the
 * dependencies' readiness, which is most of a level's time.
 */
static int ungated_starts_pending(struct env *env)
{
	for (size_t i = 0; i < env->n; i++) {
		struct svc *o = &env->svcs[i];

		if (o->target == ENV_ABSENT || o->gated)
			continue;
		if (o->pub.state == ENV_PENDING || o->pub.state == ENV_STARTING)
			return 1;
		if (o->pub.state == ENV_CREATED && deps_hold(env, o))
			return 1;
	}
	return 0;
}

/*
 * Back to a container without the gate, started when the dependencies
 * hold: when the engine refused the gated one (the gate directory is not
 * on the engine's host: a remote engine, orchestrate in a container) or
 * could not start it (the gate cannot run there: SELinux, ...).
 */
static void ungate(struct env *env, struct svc *s)
{
	/* the name is taken until the gated container is gone */
	if (s->id)
		engine_container_remove(env->e, s->id, 1);
	/* interrupted (the remove was dropped): nothing more is created,
	   the loop stops and teardown removes the container */
	if (check_signal(env))
		return;
	free(s->id);
	s->id = NULL;
	s->pub.container_id = NULL;
	s->gated = 0;
	s->died = s->exit_code = 0;
	/* the next env_up() of this env will not try again */
	env->gate_state = -1;
	s->pub.state = ENV_PENDING;
	submit_create(env, s);
}

/* CREATED behind the gate: started as soon as the ungated starts are
 * done. */
static void gate_created(struct env *env, struct svc *s)
{
	if (!ungated_starts_pending(env)) {
		submit_start(env, s);
	}
}

/*
 * STARTING behind the gate: running, its real process released when the
 * dependencies hold, by creating its go file in the gate directory -- a
 * local file, seen by the gate within its 2 ms poll.
 */
static void gate_held(struct env *env, struct svc *s)
{
	/* once released, a quick exit is the real process's: check_started()
	 * judges it (a job may exit 0) */
	if (s->died) {
		svc_fail(s,
		         "exited with code %d while it waited for its "
		         "dependencies (gate)",
		         s->exit_code);
		return;
	}
	if (fail_dep_never(env, s) || !deps_hold(env, s))
		return;
	if (gate_release(env->gate_dir, s->ms->name)) {
		svc_fail(s, "%s", orch_error_last());
		return;
	}
	mark_started(env, s);
}

static int64_t ready_timeout_ns(const struct svc *s)
{
	return s->spec->ready.timeout_ns > 0
	               ? s->spec->ready.timeout_ns
	               : (int64_t)DEFAULT_READY_TIMEOUT_MS * 1000000;
}

/* a + b, a * b for non-negative values, stopping at INT64_MAX */
static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
	return b && a > INT64_MAX / b ? INT64_MAX : a * b;
}

/*
 * The earliest the engine would call a service unhealthy, counted from its
 * process's start: the start period, then retries checks, each waiting an
 * interval after the previous one ended and running up to its timeout.
 */
static int64_t hc_unhealthy_by(const struct svc *s)
{
	int64_t per = sat_add(s->hc_interval_ms, s->hc_timeout_ms);

	return sat_add(sat_add(s->t_start, s->hc_start_period_ms),
	               sat_mul(per, s->hc_retries));
}

static void check_started(struct env *env, struct svc *s, int64_t t)
{
	if (s->died) {
		if (s->exit_code == 0 && s->wanted_completed) {
			s->pub.state = ENV_COMPLETED;
			s->pub.ready_ms = ms_since(env);
			svc_quiesce(s);
			note(env, s, ENV_NOTE_COMPLETED);
			return;
		}
		if (s->oom)
			svc_fail(s,
			         "killed for lack of memory (OOM, exit "
			         "code %d) during start-up",
			         s->exit_code);
		else
			svc_fail(s, "exited with code %d during start-up",
			         s->exit_code);
		return;
	}
	if (s->pub.state == ENV_READY)
		return;
	if (s->inspect_call && engine_call_done(s->inspect_call)) {
		if (ports_known(env, s) == 0)
			wake_at(env, t); /* look again with the probes armed */
		return;
	}
	if (s->wanted_completed) {
		/* only its exit counts, within the same timeout */
		if (t >= s->deadline) {
			struct buf d = BUF_INIT;

			format_duration(&d,
			                (s->deadline - s->t_start) * 1000000);
			svc_fail(s,
			         "did not complete after %s (a dependent waits "
			         "for it to exit 0)",
			         buf_cstr(&d));
			buf_release(&d);
		} else {
			wake_at(env, s->deadline);
		}
		return;
	}
	/*
	 * Behind the gate the engine's failing streak began while the process
	 * was held, so its "unhealthy" is ignored (on_event()); the service is
	 * unhealthy when it would have been without the gate: not healthy by
	 * the start period plus retries x (interval + timeout) after its
	 * process began.
	 */
	if (s->gated && s->has_hc && !s->hc_ok) {
		int64_t by = hc_unhealthy_by(s);

		if (t >= by) {
			svc_fail(s,
			         "unhealthy: not healthy %d checks after its "
			         "process began%s%s",
			         s->hc_retries, s->why.len ? ": " : "",
			         buf_cstr(&s->why));
			return;
		}
		wake_at(env, by);
	}
	if (s->unhealthy && !s->hc_ok) {
		struct engine_container_info info;

		memset(&info, 0, sizeof(info));
		if (engine_container_inspect(env->e, s->id, &info) == 0 &&
		    info.health_log) {
			size_t n = strlen(info.health_log);

			while (n && (info.health_log[n - 1] == '\n' ||
			             info.health_log[n - 1] == ' '))
				info.health_log[--n] = '\0';
			svc_fail(s, "unhealthy: %s", info.health_log);
		} else {
			svc_fail(s, "unhealthy");
		}
		engine_container_info_release(&info);
		return;
	}
	if (!s->inspect_call && (!s->has_hc || s->hc_ok) &&
	    (!s->tcp_on || s->tcp_ok) && (!s->http_on || s->http_ok) &&
	    (!s->exec_on || s->exec_ok) && (!s->log_on || s->log_ok)) {
		s->pub.state = ENV_READY;
		s->pub.ready_ms = ms_since(env);
		/* keep following events: a later death still fails the run */
		if (s->hc_exec || s->ready_exec || s->log_call) {
			struct engine_exec *x = s->hc_exec;

			s->hc_exec = NULL;
			if (x)
				engine_exec_cancel(x);
			x = s->ready_exec;
			s->ready_exec = NULL;
			if (x)
				engine_exec_cancel(x);
		}
		if (s->tcp_on)
			health_probe_abort(&s->tcp);
		if (s->http_on)
			health_probe_abort(&s->http);
		note(env, s, ENV_NOTE_READY);
		return;
	}
	if (t >= s->deadline && s->has_hc && !s->hc_ok && !s->checked) {
		/* a last look in case the stream missed the health event */
		struct engine_container_info info;

		s->checked = 1;
		memset(&info, 0, sizeof(info));
		if (engine_container_inspect(env->e, s->id, &info) == 0 &&
		    info.health && !strcmp(info.health, "healthy"))
			s->hc_ok = 1;
		engine_container_info_release(&info);
		if (s->hc_ok) {
			wake_at(env, t);
			return;
		}
	}
	if (t >= s->deadline) {
		struct buf d = BUF_INIT;

		format_duration(&d, ready_timeout_ns(s));
		if (s->why.len)
			svc_fail(s, "not ready after %s: %s", buf_cstr(&d),
			         buf_cstr(&s->why));
		else if (s->has_hc && !s->hc_argv.n)
			svc_fail(s,
			         "not ready after %s: healthcheck not "
			         "healthy",
			         buf_cstr(&d));
		else
			svc_fail(s, "not ready after %s", buf_cstr(&d));
		buf_release(&d);
		return;
	}
	wake_at(env, s->deadline);
	if (s->tcp_on)
		run_probe(env, s, &s->tcp, &s->tcp_ok, &s->tcp_next, &s->tcp_bo,
		          t);
	if (s->http_on)
		run_probe(env, s, &s->http, &s->http_ok, &s->http_next,
		          &s->http_bo, t);
	run_execs(env, s, t);
}

/* Fallback when the events stream is gone: look at the containers. */
static void poll_containers(struct env *env, int64_t t)
{
	if (t - env->last_poll < POLL_FALLBACK_MS) {
		wake_at(env, env->last_poll + POLL_FALLBACK_MS);
		return;
	}
	env->last_poll = t;
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];
		struct engine_container_info info;

		if (s->pub.state != ENV_STARTED && s->pub.state != ENV_READY)
			continue;
		memset(&info, 0, sizeof(info));
		if (engine_container_inspect(env->e, s->id, &info))
			continue;
		if (!info.running) {
			s->died = 1;
			s->exit_code = info.exit_code;
			s->oom = info.oom_killed;
		}
		if (info.health && !strcmp(info.health, "healthy"))
			s->hc_ok = 1;
		if (info.health && !strcmp(info.health, "unhealthy") &&
		    !s->gated)
			s->unhealthy = 1;
		engine_container_info_release(&info);
	}
	wake_at(env, t + POLL_FALLBACK_MS);
}

/* One pass over every service. 1: all present services are up. */
static int step(struct env *env)
{
	int64_t t = now_ms();
	int done = 1;

	env->wake_at = -1;
	if (env->events && engine_call_done(env->events)) {
		/* the stream ended under us: reconnect once, then poll */
		engine_call_free(env->events);
		env->events = NULL;
		if (!env->events_broken++)
			start_events(env);
	}
	if (!env->events)
		poll_containers(env, t);

	for (size_t i = 0; i < env->n && !env->failed; i++) {
		struct svc *s = &env->svcs[i];
		struct engine_call *c;

		if (s->target == ENV_ABSENT)
			continue;
		switch (s->pub.state) {
		case ENV_PENDING:
			c = s->create_call;
			if (!c || !engine_call_done(c))
				break;
			if (engine_call_status(c) == 201) {
				cJSON *j = cJSON_ParseWithLength(
				        engine_call_body(c)->data,
				        engine_call_body(c)->len);
				const cJSON *id =
				        cJSON_GetObjectItemCaseSensitive(j,
				                                         "Id");

				if (cJSON_IsString(id)) {
					s->id = xstrdup(id->valuestring);
					s->pub.container_id = s->id;
					s->pub.state = ENV_CREATED;
				}
				cJSON_Delete(j);
			}
			if (s->pub.state != ENV_CREATED && s->gated) {
				engine_call_free(c);
				s->create_call = NULL;
				ungate(env, s);
				break;
			}
			if (s->pub.state != ENV_CREATED) {
				struct buf msg = BUF_INIT;

				call_error(&msg, c, "create");
				svc_fail(s, "%s", buf_cstr(&msg));
				buf_release(&msg);
			}
			engine_call_free(c);
			s->create_call = NULL;
			break;
		case ENV_CREATED:
			if (fail_dep_never(env, s))
				break;
			if (s->gated)
				gate_created(env, s);
			else if (deps_hold(env, s))
				submit_start(env, s);
			break;
		case ENV_STARTING:
			c = s->start_call;
			if (!c) {
				gate_held(env, s);
				break;
			}
			if (!engine_call_done(c))
				break;
			if (engine_call_status(c) != 204 &&
			    engine_call_status(c) != 304) {
				if (s->gated) {
					engine_call_free(c);
					s->start_call = NULL;
					ungate(env, s);
					break;
				}
				fail_start(env, s, c);
			} else if (!s->gated) {
				mark_started(env, s);
			}
			engine_call_free(c);
			s->start_call = NULL;
			if (s->gated && !env->failed)
				gate_held(env, s);
			break;
		case ENV_STARTED:
		case ENV_READY:
			check_started(env, s, now_ms());
			break;
		default:
			break;
		}
		if (s->pub.state != ENV_READY && s->pub.state != ENV_COMPLETED)
			done = 0;
	}
	if (env->failed)
		return ORCH_EENGINE;
	/* a state change above may let another service move: look again */
	if (!done) {
		for (size_t i = 0; i < env->n; i++) {
			struct svc *o = &env->svcs[i];

			if (o->target == ENV_ABSENT)
				continue;
			/* a gate whose start waited for the ungated ones */
			if (o->gated && o->pub.state == ENV_CREATED &&
			    !ungated_starts_pending(env))
				wake_at(env, t);
			else if ((o->pub.state == ENV_CREATED ||
			          (held(o) && !o->start_call)) &&
			         deps_hold(env, o))
				wake_at(env, t);
		}
	}
	return done;
}

static int loop(struct env *env)
{
	struct engine_pollfd *fds = NULL;
	struct svc **owners = NULL;
	size_t alloc = 0;
	int rc;

	for (;;) {
		unsigned nfds = 0;
		int timeout;

		/* one that came while step() ran a synchronous call */
		if (check_signal(env)) {
			rc = ORCH_EINTR;
			break;
		}
		rc = step(env);
		if (rc)
			break;
		ALLOC_GROW(fds, 2 * env->n + 1, alloc);
		owners = xrealloc(owners, alloc * sizeof(*owners));
		if (env->signal_fd >= 0) {
			owners[nfds] = NULL;
			fds[nfds++] = (struct engine_pollfd){ env->signal_fd,
				                              POLLIN, 0 };
		}
		for (size_t i = 0; i < env->n; i++) {
			struct svc *s = &env->svcs[i];

			if (s->pub.state != ENV_STARTED)
				continue;
			if (s->tcp_on && health_probe_fd(&s->tcp) >= 0) {
				owners[nfds] = s;
				fds[nfds++] = (struct engine_pollfd){
					health_probe_fd(&s->tcp),
					health_probe_events(&s->tcp), 0
				};
			}
			if (s->http_on && health_probe_fd(&s->http) >= 0) {
				owners[nfds] = s;
				fds[nfds++] = (struct engine_pollfd){
					health_probe_fd(&s->http),
					health_probe_events(&s->http), 0
				};
			}
		}
		if (env->wake_at < 0) {
			timeout = 1000; /* events and calls wake us anyway */
		} else {
			int64_t d = env->wake_at - now_ms();

			timeout = d < 0 ? 0 : d > 1000 ? 1000 : (int)d;
		}
		rc = engine_wait(env->e, fds, nfds, timeout);
		if (rc < 0)
			break;
		rc = 0;
		for (unsigned k = 0; k < nfds; k++) {
			struct svc *s = owners[k];
			int64_t t = now_ms();
			int r;

			if (!fds[k].revents)
				continue;
			if (!s) {
				env->interrupted = 1;
				continue;
			}
			if (fds[k].fd == health_probe_fd(&s->tcp)) {
				r = health_probe_step(&s->tcp, fds[k].revents,
				                      t);
				if (r == 1) {
					s->tcp_ok = 1;
				} else if (r < 0) {
					buf_reset(&s->why);
					buf_addf(&s->why, "tcp probe: %s",
					         health_probe_error(&s->tcp));
					s->tcp_next = t + health_backoff_next(
					                          &s->tcp_bo);
				}
			} else if (fds[k].fd == health_probe_fd(&s->http)) {
				r = health_probe_step(&s->http, fds[k].revents,
				                      t);
				if (r == 1) {
					s->http_ok = 1;
				} else if (r < 0) {
					buf_reset(&s->why);
					buf_addf(&s->why, "http probe: %s",
					         health_probe_error(&s->http));
					s->http_next = t + health_backoff_next(
					                           &s->http_bo);
				}
			}
		}
		if (env->interrupted) {
			rc = ORCH_EINTR;
			break;
		}
	}
	free(fds);
	free(owners);
	if (rc == 1)
		return 0;
	if (rc == ORCH_EINTR)
		return orch_error_code(ORCH_EINTR, "interrupted by signal %d",
		                       env_signal());
	if (env->failed)
		return orch_error_code(env->fail_rc, "%s",
		                       buf_cstr(&env->fail_msg));
	return rc;
}

/* ---- env_up ------------------------------------------------------------- */

/*
 * Create volume name for this run, what naming it in messages. The
 * engine answers 201 with the existing volume when the name is taken,
 * whatever labels we asked for, so only the labels of what came back say
 * whether we created it. One that is not this run's is refused: its data
 * is someone else's (external volumes are not supported: every run makes
 * its own), and teardown, which goes by our labels, leaves it alone.
 */
static int create_volume(struct env *env, const char *name, const char *role,
                         const char *what)
{
	struct engine_label l[MAX_LABELS];
	size_t nl = run_labels(env, l, role);
	struct engine_object got;
	const char *project, *run;
	char ready_at[32];
	int rc;

	/* `status` counts a kept run's services ready from here on until
	 * the engine reports a failed check (cmd_status.c) */
	if (!strcmp(role, ROLE_KEEP)) {
		format_rfc3339_ms(ready_at, sizeof(ready_at), wall_ms());
		l[nl++] = (struct engine_label){ LABEL_READY_AT, ready_at };
	}

	rc = engine_volume_create(env->e, name, l, nl, &got);
	if (rc) {
		orch_error_prefix(rc, "%s (%s)", what, name);
		goto out;
	}
	project = engine_object_label(&got, LABEL_PROJECT);
	run = engine_object_label(&got, LABEL_RUN_ID);
	if (project && run && !strcmp(project, env->project) &&
	    !strcmp(run, env->run_id))
		goto out;
	if (project || run)
		rc = orch_error_code(ORCH_ECONFLICT,
		                     "%s: '%s' already exists and is not this "
		                     "run's (it belongs to project '%s', run "
		                     "'%s'): orchestrate neither uses nor "
		                     "removes it",
		                     what, name, project ? project : "",
		                     run ? run : "");
	else
		rc = orch_error_code(
		        ORCH_ECONFLICT,
		        "%s: '%s' already exists and is not "
		        "orchestrate's (no %s labels): orchestrate "
		        "neither uses nor removes it",
		        what, name, LABEL_PREFIX);
out:
	engine_object_release(&got);
	return rc;
}

static int prepare(struct env *env)
{
	struct engine_label l[MAX_LABELS];
	size_t nl;
	int rc;

	if (!env->wd) {
		rc = watchdog_start(env->project, env->run_id, &env->wd);
		if (rc)
			return orch_error_prefix(rc, "watchdog");
	}
	if (!env->network_id) {
		nl = run_labels(env, l, ROLE_NETWORK);
		rc = engine_network_create(env->e, env->network, l, nl,
		                           &env->network_id);
		if (rc && strstr(orch_error_last(), "address pool"))
			return orch_error_prefix(
			        rc,
			        "network '%s' (leaked networks "
			        "use up the address pools: try "
			        "'orchestrate gc')",
			        env->network);
		if (rc)
			return orch_error_prefix(rc, "network '%s'",
			                         env->network);
	}
	/* apart from the network: a refused volume must never be skipped
	   by a later env_up() of the run */
	for (size_t i = 0; !env->volumes_ready && i < env->m->nvolumes; i++) {
		const char *v = env->m->volumes[i].name;
		char *name =
		        xasprintf("%s-%s-%s", env->project, env->run_id, v);
		char *what = xasprintf("volume '%s'", v);

		rc = create_volume(env, name, ROLE_VOLUME, what);
		free(name);
		free(what);
		if (rc)
			return rc;
	}
	env->volumes_ready = 1;
	return 0;
}

static int bring_up(struct env *env, const enum env_mode *modes)
{
	int64_t wall = wall_ms();
	int rc;

	env->t0 = now_ms();
	env->failed = 0;
	buf_reset(&env->fail_msg);
	free(env->failed_service);
	free(env->failure_logs);
	env->failed_service = env->failure_logs = NULL;

	for (size_t i = 0; i < env->n; i++) {
		const struct mf_service *ms = &env->m->services[i];

		if (modes[i] == ENV_REAL && !ms->has_real)
			return orch_error_code(ORCH_EINVALID,
			                       "service '%s' is external: it "
			                       "has only a stub",
			                       ms->name);
		if (modes[i] == ENV_STUB && !ms->stub)
			return orch_error_code(ORCH_EINVALID,
			                       "service '%s' has no stub",
			                       ms->name);
	}

	/* from here on a signal makes each step below return at once */
	rc = check_signal(env);
	if (rc == 0)
		rc = prepare(env);
	if (rc == 0)
		rc = check_signal(env);
	if (rc)
		return rc;
	if (!env->events) {
		env->events_since_s = wall / 1000 - 1;
		start_events(env);
	}

	/* a mode change replaces the container (a stub by the real one) */
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		if (s->id && s->target != modes[i]) {
			char *old = xstrdup(s->id);

			svc_release_runtime(s);
			/* the old container holds the alias: remove it first;
			 * gone already is fine, teardown catches the rest */
			engine_container_remove(env->e, old, 1);
			free(old);
		}
	}
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		if (s->id && s->target == modes[i])
			continue;
		s->target = modes[i];
		s->pub.mode = modes[i];
		if (modes[i] == ENV_ABSENT)
			continue;
		s->spec = modes[i] == ENV_STUB ? s->ms->stub : &s->ms->real;
	}
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		s->wanted_completed = 0;
		for (size_t j = 0; j < env->n && s->target != ENV_ABSENT; j++)
			for (size_t k = 0; env->svcs[j].target == ENV_REAL &&
			                   k < env->svcs[j].ms->ndeps;
			     k++)
				if (env->svcs[j].ms->deps[k].index == i &&
				    env->svcs[j].ms->deps[k].condition ==
				            MF_SERVICE_COMPLETED_SUCCESSFULLY)
					s->wanted_completed = 1;
	}

	/* images first (builds and pulls are slow and can fail), then every
	 * create in parallel */
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		if (s->target == ENV_ABSENT || s->id || s->create_call)
			continue;
		free(s->image);
		if (!s->spec->build)
			s->image = xstrdup(s->spec->image);
		else if (s->spec->image)
			s->image = xstrdup(s->spec->image);
		else
			s->image =
			        xasprintf("%s-%s%s:orchestrate", env->project,
			                  s->ms->name,
			                  s->target == ENV_STUB ? "-stub" : "");
	}
	rc = check_signal(env);
	if (rc == 0)
		rc = build_images(env);
	if (rc)
		goto fail;
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		if (s->target == ENV_ABSENT || s->id || s->create_call)
			continue;
		rc = resolve_image(env, s);
		if (rc == ORCH_EINTR)
			goto fail;
		if (rc) {
			s->pub.state = ENV_FAILED;
			env->failed_service = xstrdup(s->ms->name);
			goto fail;
		}
	}
	/* nothing is created after a signal (the gate's engine_version()
	   above may have been the call it cut short) */
	rc = check_signal(env);
	if (rc)
		goto fail;
	for (size_t i = 0; i < env->n; i++) {
		struct svc *s = &env->svcs[i];

		if (s->target == ENV_ABSENT || s->id || s->create_call)
			continue;
		free(s->cname);
		s->cname = xasprintf("%s-%s-%s%s", env->project, env->run_id,
		                     s->ms->name,
		                     s->target == ENV_STUB ? "-stub" : "");
		s->pub.container_name = s->cname;
		s->pub.state = ENV_PENDING;
		s->gated = want_gate(env, s);
		/* a go file of an earlier container of the service (a stage
		 * that replaced it) would release this one at once */
		if (s->gated && gate_unrelease(env->gate_dir, s->ms->name))
			s->gated = 0;
		submit_create(env, s);
	}

	rc = loop(env);
	if (rc == 0)
		return 0;
fail : {
	/* keep the message across the clean-up calls below */
	struct buf msg = BUF_INIT;

	buf_addstr(&msg, orch_error_last());
	stop_all(env);
	for (size_t i = 0;
	     rc != ORCH_EINTR && env->failed_service && i < env->n; i++) {
		struct svc *s = &env->svcs[i];
		struct buf logs = BUF_INIT;

		if (strcmp(s->ms->name, env->failed_service) || !s->id)
			continue;
		buf_init(&logs, 1 << 20);
		if (engine_container_logs(env->e, s->id, FAILURE_LOG_LINES,
		                          &logs) == 0 &&
		    logs.len)
			env->failure_logs = buf_detach(&logs, NULL);
		buf_release(&logs);
	}
	orch_error_code(rc, "%s", buf_cstr(&msg));
	buf_release(&msg);
}
	return rc;
}

int env_up(struct env *env, const enum env_mode *modes)
{
	int rc;

	signals_arm(env);
	rc = bring_up(env, modes);
	/* what failed after a signal failed because of it (a call it
	   interrupted, a probe cut short): the run was interrupted */
	if (rc && rc != ORCH_EINTR && check_signal(env))
		rc = ORCH_EINTR;
	signals_disarm(env);
	return rc;
}

/* ---- keep and teardown -------------------------------------------------- */

int env_keep(struct env *env)
{
	char *name = xasprintf("%s-%s-keep", env->project, env->run_id);
	int rc;

	stop_all(env);
	rc = create_volume(env, name, ROLE_KEEP, "keep marker");
	if (rc == 0 && env->wd) {
		watchdog_release(env->wd);
		env->wd = NULL;
	}
	free(name);
	return rc;
}

int env_teardown(struct env *env, int force_kill, struct teardown_stats *st)
{
	struct teardown_opts o = { 0 };
	struct teardown_stats local;
	char *unanswered = NULL;
	int rc;

	stop_all(env);
	/* a create a signal interrupted may still make its object: wait
	   for the engine's answer, so that the listing below sees it */
	if (engine_settle(env->e, SETTLE_INTERRUPTED_MS))
		unanswered = xstrdup(orch_error_last());
	o.project = env->project;
	o.run_id = env->run_id;
	o.force_kill = force_kill;
	o.deadline_ms = 30000;
	rc = teardown_run(env->e, &o, st ? st : &local);
	/* the engine may still create it: the watchdog looks once more */
	if (rc == 0 && unanswered)
		rc = orch_error_code(ORCH_ETIMEOUT, "%s", unanswered);
	free(unanswered);
	if (rc == 0 && env->wd) {
		watchdog_release(env->wd);
		env->wd = NULL;
	}
	/* on failure the watchdog stays armed: it tries again once we exit */
	return rc;
}
