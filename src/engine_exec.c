/*
 * engine_exec.c: exec (engine_ops.h) as a chain of three calls -- create,
 * start (the output, demultiplexed), inspect (the exit code, never taken
 * from the output) -- run asynchronously for probes and synchronously
 * for everything else.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "engine_stream.h"
#include "error.h"

#define EXEC_OUTPUT_CAP (64u << 10)
#define EXEC_SETTLE_MS  2000

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

static void exec_abandon(void *op)
{
	exec_free(op); /* and its call, done by now */
}

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
	x->call = engine_call_submit(x->e, &r, delay_ms, 0);
	/* engine_free() abandoning the call frees the exec with it */
	engine_call_set_op(x->call, x, NULL, NULL, exec_abandon);
}

static void exec_step(struct engine_call *c, void *ud)
{
	struct engine_exec *x = ud;
	struct buf p = BUF_INIT;
	cJSON *j = NULL;

	int result = engine_call_result(c);

	if (result && !(x->stage == EXEC_START && result == ORCH_EINTR &&
	                x->demux.failed)) {
		char *msg;
		int rc = result;

		if (x->stage == EXEC_START && rc == ORCH_ETIMEOUT)
			msg = xasprintf("%s: '%s' still running after the "
			                "timeout (the engine does not stop it)",
			                engine_call_error(c),
			                x->argv.n ? x->argv.v[0] : "");
		else
			msg = xstrdup(engine_call_error(c));
		exec_finish(x, rc, -1, msg);
		free(msg);
		return;
	}
	switch (x->stage) {
	case EXEC_CREATE:
		j = cJSON_ParseWithLength(engine_call_body(c)->data,
		                          engine_call_body(c)->len);
		if (!j || !ej_str(j, "Id")) {
			exec_finish(x, ORCH_EENGINE, -1,
			            "POST exec: the engine's answer has no Id");
			break;
		}
		x->exec_id = ej_dup(j, "Id");
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
		j = cJSON_ParseWithLength(engine_call_body(c)->data,
		                          engine_call_body(c)->len);
		if (!j) {
			exec_finish(
			        x, ORCH_EENGINE, -1,
			        "GET exec: the engine's answer is not JSON");
			break;
		}
		if (ej_bool(j, "Running") && exec_settling(x)) {
			/* the engine records the exit a moment after the
			   output closes: ask again shortly */
			buf_addstr(&p, "/exec/");
			engine_url_escape(&p, x->exec_id);
			buf_addstr(&p, "/json");
			exec_submit(x, "GET", p.data, NULL, exec_remaining(x),
			            0, x->poll_ms);
			break;
		}
		if (ej_bool(j, "Running")) {
			/* the stream ended but the process did not: e.g. it
			   closed its output; report it as still running */
			exec_finish(x, ORCH_ETIMEOUT, -1,
			            "exec: output closed while the command is "
			            "still running");
			break;
		}
		exec_finish(x, 0, ej_int(j, "ExitCode", -1), NULL);
		break;
	}
	cJSON_Delete(j);
	buf_release(&p);
}

static struct engine_exec *exec_new(struct engine *e, const char *id,
                                    char *const *argv,
                                    const struct engine_exec_opts *eo,
                                    long timeout_ms, size_t cap,
                                    engine_exec_done_fn done, void *ud)
{
	const char *user = eo ? eo->user : NULL;
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
	cJSON_AddItemToObject(o, "Cmd", ej_strv(x->argv.v));
	if (user)
		cJSON_AddStringToObject(o, "User", user);
	if (eo && eo->working_dir)
		cJSON_AddStringToObject(o, "WorkingDir", eo->working_dir);
	if (eo && eo->env && eo->env[0])
		cJSON_AddItemToObject(o, "Env", ej_strv(eo->env));
	if (eo && eo->privileged)
		cJSON_AddTrueToObject(o, "Privileged");
	json = ej_print(o);
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
                                      char *const *argv,
                                      const struct engine_exec_opts *o,
                                      long timeout_ms, engine_exec_done_fn done,
                                      void *ud)
{
	return exec_new(e, id, argv, o, timeout_ms, EXEC_OUTPUT_CAP, done, ud);
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
	struct engine_exec_opts o = { user, NULL, NULL, 0 };

	return engine_exec_opts(e, id, argv, &o, timeout_ms, exit_code, output);
}

int engine_exec_opts(struct engine *e, const char *id, char *const *argv,
                     const struct engine_exec_opts *o, long timeout_ms,
                     int *exit_code, struct buf *output)
{
	struct engine_exec *x = exec_new(
	        e, id, argv, o, timeout_ms,
	        output && output->cap ? output->cap : ENGINE_DEFAULT_BODY_CAP,
	        NULL, NULL);
	int rc = 0;

	while (!x->finished) {
		if (engine_interrupted(e)) {
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
