/*
 * runner.c: a stage's suites as containers or host processes on the
 * run's loop (runner.h). Each attempt is a small state machine advanced
 * by job_step() after every turn of the loop, looking only at finished
 * calls, the child's pipe and its exit status; env_step() runs in the
 * same loop, so a service that dies during a suite is seen at once.
 *
 * What it does not do: decide stages (testrun.c), print (the caller's
 * progress callback), or remove what a run leaves (a suite's container
 * carries the run's labels: the run's teardown removes what an
 * interrupted attempt left).
 */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine_ops.h"
#include "env.h"
#include "error.h"
#include "evloop.h"
#include "images.h"
#include "labels.h"
#include "manifest.h"
#include "mask.h"
#include "signals.h"
#include "spec.h"

extern char **environ;

/* artifacts of one attempt, at most */
#define ARTIFACT_CAP ((size_t)256 << 20)
/* after a container exits, how long its log stream may take to end */
#define LOG_DRAIN_MS 2000
/* after a host suite exits, how long its pipe may stay open (a child of
   its own holding it): then the group is killed */
#define PIPE_DRAIN_MS 1000
/* how often host suites are looked at for their exit */
#define REAP_MS 20

enum phase {
	P_IDLE,
	P_IMAGE,     /* container: its image is being built or looked at */
	P_CREATE,    /* container: create sent */
	P_START,     /* container: start sent */
	P_RUNNING,   /* running: the container's wait, the host child */
	P_DRAIN,     /* exited: the rest of the output */
	P_ARTIFACTS, /* copying artifacts out */
	P_REMOVE,    /* container: removal sent */
	P_DONE,
};

struct job {
	const struct runner_opts *o;
	struct suite_run *run;
	const struct mf_suite *su;
	int stage_no;
	const char *stubs;
	int attempt; /* from 0 */
	enum phase phase;
	struct image_req *img;
	char *name, *id;
	struct engine_call *call, *wait, *logs;
	size_t art; /* the next artifact to copy */
	char *art_dir;
	pid_t pid;
	int fd;
	struct evloop_fd *w;
	int exited, exit_code, timed_out, killed;
	int64_t deadline, drain_until;
	char *error;
};

const char *suite_status_name(enum suite_status s)
{
	static const char *const names[] = { "pending", "running", "passed",
		                             "failed",  "flaky",   "timed out",
		                             "skipped" };

	return s <= SUITE_SKIPPED ? names[s] : "?";
}

int suite_status_ok(enum suite_status s)
{
	return s == SUITE_PASSED || s == SUITE_FLAKY;
}

void suite_run_release(struct suite_run *r)
{
	for (size_t i = 0; i < r->nattempts; i++)
		free(r->attempts[i].error);
	free(r->attempts);
	buf_release(&r->output);
	artifact_list_release(&r->artifacts);
	free(r->artifact_dir);
	free(r->summary);
	memset(r, 0, sizeof(*r));
}

/* ---- output, bounded -------------------------------------------------------- */

static void keep_output(struct suite_run *r, const char *data, size_t len)
{
	struct buf *b = &r->output;

	if (len >= RUNNER_OUTPUT_CAP) {
		r->output_dropped += b->len + len - RUNNER_OUTPUT_CAP;
		buf_reset(b);
		buf_add(b, data + len - RUNNER_OUTPUT_CAP, RUNNER_OUTPUT_CAP);
		return;
	}
	if (b->len + len > RUNNER_OUTPUT_CAP) {
		/* drop a quarter at a time: no memmove per write */
		size_t drop = b->len + len - RUNNER_OUTPUT_CAP +
		              RUNNER_OUTPUT_CAP / 4;

		if (drop > b->len)
			drop = b->len;
		memmove(b->data, b->data + drop, b->len - drop);
		b->len -= drop;
		b->data[b->len] = '\0';
		r->output_dropped += drop;
	}
	buf_add(b, data, len);
}

static void on_log(int stream, const char *data, size_t len, void *ud)
{
	struct job *j = ud;

	(void)stream;
	keep_output(j->run, data, len);
}

/* ---- the suite's environment ------------------------------------------------- */

/* "api-v2.db" -> "API_V2_DB" */
static void env_name(struct buf *b, const char *service)
{
	for (const char *p = service; *p; p++)
		buf_addch(b, *p == '-' || *p == '.'     ? '_'
		             : (*p >= 'a' && *p <= 'z') ? (char)(*p - 32)
		                                        : *p);
}

static void add_var(struct strvec *v, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void add_var(struct strvec *v, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push(v, buf_cstr(&b));
	buf_release(&b);
}

/* The ORCH_* variables of an attempt, "K=V" each. */
static void orch_vars(const struct job *j, int host, struct strvec *v)
{
	const struct runner_opts *o = j->o;

	add_var(v, "ORCH_PROJECT=%s", o->project);
	add_var(v, "ORCH_RUN_ID=%s", env_run_id(o->env));
	add_var(v, "ORCH_STRATEGY=%s", o->strategy);
	add_var(v, "ORCH_STAGE=%d", j->stage_no);
	add_var(v, "ORCH_STUBS=%s", j->stubs);
	add_var(v, "ORCH_SUITE=%s", j->su->name);
	add_var(v, "ORCH_ATTEMPT=%d", j->attempt + 1);
	for (size_t i = 0; i < env_nservices(o->env); i++) {
		const struct env_service *s = env_service(o->env, i);
		struct buf n = BUF_INIT;

		if (s->mode == PLAN_ABSENT)
			continue;
		env_name(&n, s->name);
		add_var(v, "ORCH_%s_HOST=%s", buf_cstr(&n),
		        host ? "127.0.0.1" : s->name);
		for (size_t k = 0; k < s->nendpoints; k++) {
			const struct env_endpoint *ep = &s->endpoints[k];

			if (strcmp(ep->protocol, "tcp"))
				continue;
			add_var(v, "ORCH_%s_PORT_%d=%d", buf_cstr(&n),
			        ep->container_port,
			        host ? ep->host_port : ep->container_port);
		}
		buf_release(&n);
	}
}

/* ---- attempts ----------------------------------------------------------------------- */

static void attempt_reset(struct job *j)
{
	engine_call_drop(&j->call);
	engine_call_drop(&j->wait);
	engine_call_drop(&j->logs);
	evloop_fd_remove(j->w);
	j->w = NULL;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	j->pid = 0;
	free(j->name);
	free(j->id);
	free(j->error);
	free(j->art_dir);
	j->name = j->id = j->error = j->art_dir = NULL;
	j->exited = j->timed_out = j->killed = 0;
	j->exit_code = -1;
	j->art = 0;
}

static void attempt_error(struct job *j, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void attempt_error(struct job *j, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (!j->error)
		j->error = buf_detach(&b, NULL);
	buf_release(&b);
}

static void note(const struct job *j, enum runner_note what)
{
	if (j->o->progress)
		j->o->progress(j->o->ud, j->run, what);
}

static void attempt_begin(struct job *j)
{
	struct suite_run *r = j->run;
	struct suite_attempt *a;

	attempt_reset(j);
	r->attempts = xrealloc(r->attempts,
	                       (r->nattempts + 1) * sizeof(*r->attempts));
	a = &r->attempts[r->nattempts++];
	memset(a, 0, sizeof(*a));
	a->exit_code = -1;
	a->start_ms = env_clock(j->o->env);
	if (r->nattempts == 1)
		r->start_ms = a->start_ms;
	if (j->attempt > 0)
		keep_output(r, "\n--- retry ---\n", 15);
	r->status = SUITE_RUNNING;
	j->deadline =
	        now_ms() +
	        (j->su->timeout_ns > 0 ? j->su->timeout_ns / 1000000 : 600000);
	j->art_dir = xasprintf("artifacts/%s/stage%d-attempt%d", j->su->name,
	                       j->stage_no, j->attempt + 1);
	note(j, RUNNER_NOTE_STARTED);
}

static void summarise(struct job *j)
{
	struct suite_run *r = j->run;
	struct suite_attempt *a = &r->attempts[r->nattempts - 1];
	struct buf d = BUF_INIT;

	free(r->summary);
	if (j->timed_out) {
		format_duration(&d, j->su->timeout_ns);
		r->summary = xasprintf("timed out after %s", buf_cstr(&d));
	} else if (a->error) {
		r->summary = xstrdup(a->error);
	} else if (a->exit_code == 0) {
		r->summary = xstrdup(r->nattempts > 1 ? "passed on a retry"
		                                      : "passed");
	} else {
		r->summary = xasprintf("exited %d", a->exit_code);
	}
	buf_release(&d);
}

/* The suite's output as logs/suite-<name>-stage<k>.log, masked. */
static void write_output(const struct job *j)
{
	const struct suite_run *r = j->run;
	struct buf masked = BUF_INIT;
	char *dir = xasprintf("%s/logs", j->o->report_dir);
	char *path = xasprintf("%s/suite-%s-stage%d.log", dir, j->su->name,
	                       j->stage_no);

	mkdir(dir, 0755);
	if (r->output_dropped)
		buf_addf(&masked, "[%zu bytes before this were dropped]\n",
		         r->output_dropped);
	mask_apply(j->o->mask, &masked, buf_cstr(&r->output), r->output.len);
	write_file_atomic(path, masked.data ? masked.data : "", masked.len);
	buf_release(&masked);
	free(path);
	free(dir);
}

/* The attempt is over: its verdict, and another attempt or the end. */
static void attempt_end(struct job *j)
{
	struct suite_run *r = j->run;
	struct suite_attempt *a = &r->attempts[r->nattempts - 1];
	int passed;

	a->exit_code = j->exited ? j->exit_code : -1;
	a->timed_out = j->timed_out;
	a->end_ms = env_clock(j->o->env);
	a->error = j->error;
	j->error = NULL;
	r->end_ms = a->end_ms;
	passed = a->exit_code == 0 && !a->timed_out && !a->error;
	summarise(j);
	if (!passed && j->attempt < j->su->retries) {
		j->attempt++;
		note(j, RUNNER_NOTE_RETRYING);
		j->phase = P_IDLE; /* started again by the loop */
		return;
	}
	if (passed)
		r->status = r->nattempts > 1 ? SUITE_FLAKY : SUITE_PASSED;
	else
		r->status = a->timed_out ? SUITE_TIMED_OUT : SUITE_FAILED;
	if (r->artifacts.files.n || r->artifacts.refused.n)
		r->artifact_dir = xstrdup(j->art_dir);
	write_output(j);
	attempt_reset(j);
	j->phase = P_DONE;
	note(j, RUNNER_NOTE_ENDED);
}

/* ---- container suites -------------------------------------------------------------- */

static char *suite_tag(const struct runner_opts *o, const struct mf_suite *su)
{
	if (su->container.build && su->container.image)
		return xstrdup(su->container.image);
	if (su->container.build)
		return xasprintf("%s-suite-%s:orchestrate", o->project,
		                 su->name);
	return xstrdup(su->container.image);
}

void runner_want_images(struct images *im, const struct manifest *m,
                        const char *project, const size_t *suites, size_t n)
{
	struct runner_opts o = { .project = project };

	for (size_t i = 0; i < n; i++) {
		const struct mf_suite *su = &m->suites[suites[i]];
		char *tag;

		if (su->host)
			continue;
		tag = suite_tag(&o, su);
		images_want(im, tag, su->container.build);
		free(tag);
	}
}

static void container_create(struct job *j)
{
	const struct runner_opts *o = j->o;
	struct strvec vars = STRVEC_INIT;
	struct mf_kvs env = { 0 };
	struct spec_opts so;
	struct spec sp;

	orch_vars(j, 0, &vars);
	/* the manifest's environment of the suite, then ours */
	env.items =
	        xcalloc(j->su->environment.n + vars.n + 1, sizeof(*env.items));
	for (size_t i = 0; i < j->su->environment.n; i++)
		env.items[env.n++] = j->su->environment.items[i];
	for (size_t i = 0; i < vars.n; i++) {
		char *eq = strchr(vars.v[i], '=');

		*eq = '\0';
		env.items[env.n++] = (struct mf_kv){ vars.v[i], eq + 1 };
	}
	env_spec_opts(o->env, &so);
	j->name = xasprintf("%s-%s-suite-%s-%d-%d", o->project,
	                    env_run_id(o->env), j->su->name, j->stage_no,
	                    j->attempt + 1);
	so.name = j->name;
	so.image = image_tag(j->img);
	so.role = ROLE_SUITE;
	so.service = j->su->name;
	so.command = &j->su->command;
	so.environment = &env;
	spec_build(&sp, &j->su->container, &so);
	j->call = engine_container_create_start(o->e, &sp.s, NULL, NULL);
	spec_release(&sp);
	free(env.items);
	strvec_clear(&vars);
	j->phase = P_CREATE;
}

static void copy_next_artifact(struct job *j)
{
	const struct runner_opts *o = j->o;

	if (j->art >= j->su->artifacts.n) {
		j->call = engine_container_remove_start(o->e, j->id, 1, NULL,
		                                        NULL);
		j->phase = P_REMOVE;
		return;
	}
	j->call = engine_copy_out_start(o->e, j->id, j->su->artifacts.v[j->art],
	                                ARTIFACT_CAP, NULL, NULL);
}

static void artifact_copied(struct job *j)
{
	const char *path = j->su->artifacts.v[j->art++];
	struct buf tar = BUF_INIT;
	char *dest;
	int rc;

	buf_init(&tar, ARTIFACT_CAP);
	rc = engine_copy_out_result(j->call, &tar);
	engine_call_drop(&j->call);
	dest = xasprintf("%s/%s", j->o->report_dir, j->art_dir);
	if (rc == ORCH_ENOTFOUND) {
		char *why = xasprintf("%s: not found in the container", path);

		strvec_push(&j->run->artifacts.refused, why);
		free(why);
	} else if (rc) {
		char *why = xasprintf("%s: %s", path, orch_error_last());

		strvec_push(&j->run->artifacts.refused, why);
		free(why);
	} else if (artifacts_untar(tar.data, tar.len, dest, ARTIFACT_CAP,
	                           &j->run->artifacts)) {
		char *why = xasprintf("%s: %s", path, orch_error_last());

		strvec_push(&j->run->artifacts.refused, why);
		free(why);
	}
	free(dest);
	buf_release(&tar);
	copy_next_artifact(j);
}

static void container_step(struct job *j, int64_t t)
{
	const struct runner_opts *o = j->o;
	const char *msg;
	int rc, status;

	switch (j->phase) {
	case P_IMAGE:
		if (image_state(j->img) == IMAGE_PENDING)
			return;
		if (image_state(j->img) == IMAGE_FAILED) {
			image_error(j->img, &msg);
			attempt_error(j, "%s", msg);
			attempt_end(j);
			return;
		}
		container_create(j);
		return;
	case P_CREATE:
		if (!engine_call_done(j->call))
			return;
		rc = engine_container_create_result(j->call, &j->id);
		engine_call_drop(&j->call);
		if (rc) {
			attempt_error(j, "create: %s", orch_error_last());
			attempt_end(j);
			return;
		}
		j->call = engine_container_start_start(o->e, j->id, NULL, NULL);
		j->phase = P_START;
		return;
	case P_START:
		if (!engine_call_done(j->call))
			return;
		rc = engine_container_start_result(j->call);
		engine_call_drop(&j->call);
		if (rc) {
			/* a command that does not exist: the engine says so
			   at start, as `docker run` does */
			attempt_error(j, "cannot start: %s", orch_error_last());
			j->exited = 1;
			j->exit_code = 127;
			j->call = engine_container_remove_start(o->e, j->id, 1,
			                                        NULL, NULL);
			j->phase = P_REMOVE;
			return;
		}
		/* the manifest has no tty: the output is multiplexed */
		j->logs =
		        engine_logs_start(o->e, j->id, 0, -1, 0, 1, on_log, j);
		j->wait = engine_container_wait_start(
		        o->e, j->id, j->deadline - t + 30000, NULL, NULL);
		j->phase = P_RUNNING;
		return;
	case P_RUNNING:
		if (!j->killed && t >= j->deadline) {
			j->killed = j->timed_out = 1;
			j->call = engine_container_kill_start(
			        o->e, j->id, "SIGKILL", NULL, NULL);
		}
		evloop_wake_at(o->loop, j->deadline);
		if (!engine_call_done(j->wait))
			return;
		rc = engine_container_wait_result(j->wait, &status);
		engine_call_drop(&j->wait);
		engine_call_drop(&j->call);
		if (rc)
			attempt_error(j, "waiting for it: %s",
			              orch_error_last());
		else if (!j->timed_out) {
			j->exited = 1;
			j->exit_code = status;
		}
		j->drain_until = t + LOG_DRAIN_MS;
		j->phase = P_DRAIN;
		/* fall through */
	case P_DRAIN:
		if (j->logs && !engine_call_done(j->logs) &&
		    t < j->drain_until) {
			evloop_wake_at(o->loop, j->drain_until);
			return;
		}
		engine_call_drop(&j->logs);
		j->phase = P_ARTIFACTS;
		copy_next_artifact(j);
		return;
	case P_ARTIFACTS:
		if (engine_call_done(j->call))
			artifact_copied(j);
		return;
	case P_REMOVE:
		if (!engine_call_done(j->call))
			return;
		engine_call_drop(&j->call); /* gone or not: teardown's labels */
		attempt_end(j);
		return;
	default:
		return;
	}
}

/* ---- host suites --------------------------------------------------------------------- */

static void on_pipe(int fd, short revents, void *ud)
{
	struct job *j = ud;
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	(void)revents;
	if (n > 0) {
		keep_output(j->run, chunk, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	evloop_fd_remove(j->w);
	j->w = NULL;
	close(j->fd);
	j->fd = -1;
}

static void host_spawn(struct job *j)
{
	const struct runner_opts *o = j->o;
	const struct mf_suite *su = j->su;
	struct strvec envp = STRVEC_INIT, vars = STRVEC_INIT;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	const char *cwd = su->container.working_dir ? su->container.working_dir
	                                            : o->m->dir;
	int fds[2], rc;

	for (char **e = environ; *e; e++)
		strvec_push(&envp, *e);
	for (size_t i = 0; i < su->environment.n; i++) {
		const struct mf_kv *kv = &su->environment.items[i];
		const char *v = kv->value ? kv->value : getenv(kv->key);

		if (v)
			add_var(&envp, "%s=%s", kv->key, v);
	}
	orch_vars(j, 1, &vars);
	for (size_t i = 0; i < vars.n; i++)
		strvec_push(&envp, vars.v[i]);
	strvec_clear(&vars);
	if (pipe2(fds, O_CLOEXEC)) {
		attempt_error(j, "pipe: %s", strerror(errno));
		strvec_clear(&envp);
		attempt_end(j);
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addchdir_np(&fa, cwd);
	posix_spawnattr_init(&at);
	/* its own process group: a timeout kills everything it started */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	                                      POSIX_SPAWN_SETSIGMASK |
	                                      POSIX_SPAWN_SETSIGDEF);
	{
		sigset_t none, all;

		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&at, &none);
		posix_spawnattr_setsigdefault(&at, &all);
	}
	rc = posix_spawnp(&j->pid, su->command.v[0], &fa, &at, su->command.v,
	                  envp.v);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[1]);
	strvec_clear(&envp);
	if (rc) {
		close(fds[0]);
		j->pid = 0;
		attempt_error(j, "cannot run '%s' in '%s': %s",
		              su->command.v[0], cwd, strerror(rc));
		j->exited = 1;
		j->exit_code = rc == ENOENT ? 127 : 126;
		attempt_end(j);
		return;
	}
	j->fd = fds[0];
	fcntl(j->fd, F_SETFL, O_NONBLOCK);
	j->w = evloop_fd_add(o->loop, j->fd, POLLIN, on_pipe, j);
	j->phase = P_RUNNING;
}

static void host_artifacts(struct job *j)
{
	char *dest = xasprintf("%s/%s", j->o->report_dir, j->art_dir);

	for (size_t i = 0; i < j->su->artifacts.n; i++) {
		const char *path = j->su->artifacts.v[i];

		if (artifacts_copy(path, dest, ARTIFACT_CAP,
		                   &j->run->artifacts)) {
			char *why =
			        xasprintf("%s: %s", path, orch_error_last());

			strvec_push(&j->run->artifacts.refused, why);
			free(why);
		}
	}
	free(dest);
}

static void host_step(struct job *j, int64_t t)
{
	int status;

	if (j->phase != P_RUNNING && j->phase != P_DRAIN)
		return;
	evloop_wake_at(j->o->loop, t + REAP_MS);
	if (!j->exited && waitpid(j->pid, &status, WNOHANG) == j->pid) {
		j->exited = 1;
		j->exit_code = WIFEXITED(status) ? WEXITSTATUS(status)
		                                 : 128 + WTERMSIG(status);
		j->drain_until = t + PIPE_DRAIN_MS;
		j->phase = P_DRAIN;
	}
	if (!j->exited && !j->killed && t >= j->deadline) {
		j->killed = j->timed_out = 1;
		kill(-j->pid, SIGKILL);
	}
	if (!j->exited)
		return;
	if (j->fd >= 0 && t < j->drain_until)
		return;
	if (j->fd >= 0)
		kill(-j->pid, SIGKILL); /* what it left holding the pipe */
	if (j->timed_out)
		j->exited = 0;
	host_artifacts(j);
	attempt_end(j);
}

/* ---- the stage ------------------------------------------------------------------------- */

static void job_start(struct job *j)
{
	attempt_begin(j);
	if (j->su->host) {
		host_spawn(j);
		return;
	}
	{
		char *tag = suite_tag(j->o, j->su);

		j->img = images_want(j->o->images, tag, j->su->container.build);
		free(tag);
	}
	j->phase = P_IMAGE;
}

/* Stop an attempt for good (a signal, a service that died). */
static void job_stop(struct job *j, const char *why)
{
	if (j->phase == P_IDLE || j->phase == P_DONE)
		return;
	/* a container is the run's teardown's to remove (labels) */
	if (j->pid > 0 && !j->exited) {
		kill(-j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
	}
	attempt_error(j, "%s", why);
	j->exited = 0;
	j->attempt = j->su->retries; /* no retry after this */
	attempt_end(j);
}

int runner_run(const struct runner_opts *o, struct suite_run *runs, size_t n,
               int stage_no, const char *stubs)
{
	struct job *jobs = xcalloc(n ? n : 1, sizeof(*jobs));
	struct evloop_fd *sig = NULL;
	size_t next = 0;
	int rc = 0;

	/* a signal wakes the loop */
	if (o->signal_fd >= 0)
		sig = evloop_fd_add(o->loop, o->signal_fd, POLLIN, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		jobs[i].o = o;
		jobs[i].run = &runs[i];
		jobs[i].su = &o->m->suites[runs[i].suite];
		jobs[i].stage_no = stage_no;
		jobs[i].stubs = stubs;
		jobs[i].fd = -1;
		jobs[i].phase = P_IDLE;
		buf_init(&runs[i].output, RUNNER_OUTPUT_CAP + 1);
	}
	for (;;) {
		int64_t t = now_ms();
		size_t active = 0, done = 0;

		/* retries first (they were running), then in order */
		for (size_t i = 0; i < next; i++)
			if (jobs[i].phase != P_IDLE && jobs[i].phase != P_DONE)
				active++;
		for (size_t i = 0; i < next && active < (size_t)o->jobs; i++)
			if (jobs[i].phase == P_IDLE) {
				job_start(&jobs[i]);
				active++;
			}
		while (next < n && active < (size_t)o->jobs) {
			job_start(&jobs[next++]);
			active++;
		}
		for (size_t i = 0; i < next; i++) {
			if (jobs[i].su->host)
				host_step(&jobs[i], t);
			else
				container_step(&jobs[i], t);
			done += jobs[i].phase == P_DONE;
		}
		if (done == n)
			break;
		rc = env_step(o->env);
		if (rc < 0 || signals_first()) {
			char *why =
			        rc < 0 ? xasprintf("stopped: %s",
			                           orch_error_last())
			               : xasprintf(
			                         "interrupted by %s",
			                         signals_name(signals_first()));
			int keep = rc < 0 ? rc : ORCH_EINTR;
			char *msg = xstrdup(orch_error_last());

			for (size_t i = 0; i < n; i++) {
				if (jobs[i].phase == P_IDLE && i >= next)
					runs[i].status = SUITE_SKIPPED;
				else
					job_stop(&jobs[i], why);
			}
			free(why);
			rc = keep;
			orch_error_code(rc, "%s",
			                rc == ORCH_EINTR ? "interrupted" : msg);
			free(msg);
			break;
		}
		rc = evloop_turn(o->loop, -1);
		if (rc)
			break;
	}
	for (size_t i = 0; i < n; i++)
		attempt_reset(&jobs[i]);
	evloop_fd_remove(sig);
	free(jobs);
	return rc < 0 ? rc : 0;
}
