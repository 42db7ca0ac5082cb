/*
 * engine_containers.c: container operations (engine_ops.h) -- the create
 * body built from struct engine_container_spec (the only place a
 * container's JSON is written), create, start, stop, kill, remove, wait,
 * inspect, logs (collected or followed) and archive copies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "engine_stream.h"
#include "error.h"

static void container_path(struct buf *p, const char *id, const char *suffix)
{
	buf_addstr(p, "/containers/");
	engine_url_escape(p, id);
	buf_addstr(p, suffix);
}

/* ---- the create body ------------------------------------------------------ */

static cJSON *container_json(const struct engine_container_spec *s)
{
	cJSON *o = cJSON_CreateObject(), *hc, *exposed, *bindings;

	cJSON_AddStringToObject(o, "Image", s->image);
	if (s->cmd)
		cJSON_AddItemToObject(o, "Cmd", ej_strv(s->cmd));
	if (s->entrypoint && !s->entrypoint[0]) {
		/* [] would mean "the image's": [""] clears it, as Compose's
		   `entrypoint: []` does */
		cJSON *a = cJSON_AddArrayToObject(o, "Entrypoint");
		cJSON_AddItemToArray(a, cJSON_CreateString(""));
	} else if (s->entrypoint) {
		cJSON_AddItemToObject(o, "Entrypoint", ej_strv(s->entrypoint));
	}
	if (s->env)
		cJSON_AddItemToObject(o, "Env", ej_strv(s->env));
	if (s->user)
		cJSON_AddStringToObject(o, "User", s->user);
	if (s->working_dir)
		cJSON_AddStringToObject(o, "WorkingDir", s->working_dir);
	if (s->hostname)
		cJSON_AddStringToObject(o, "Hostname", s->hostname);
	cJSON_AddBoolToObject(o, "Tty", s->tty);
	cJSON_AddItemToObject(o, "Labels", ej_labels(s->labels, s->nlabels));
	if (s->stop_timeout_s >= 0)
		cJSON_AddNumberToObject(o, "StopTimeout", s->stop_timeout_s);
	if (s->health && s->health->set) {
		const struct engine_health *h = s->health;
		cJSON *hj = cJSON_AddObjectToObject(o, "Healthcheck");

		/* no Test: the engine keeps the image's and takes the rest */
		if (h->test)
			cJSON_AddItemToObject(hj, "Test", ej_strv(h->test));
		if (!h->test || !h->test[0] || strcmp(h->test[0], "NONE")) {
			cJSON_AddNumberToObject(hj, "Interval",
			                        (double)h->interval_ns);
			cJSON_AddNumberToObject(hj, "Timeout",
			                        (double)h->timeout_ns);
			cJSON_AddNumberToObject(hj, "StartPeriod",
			                        (double)h->start_period_ns);
			cJSON_AddNumberToObject(hj, "Retries", h->retries);
		}
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
	if (s->tmpfs && s->tmpfs[0]) {
		cJSON *t = cJSON_AddObjectToObject(hc, "Tmpfs");

		for (size_t i = 0; s->tmpfs[i]; i++) {
			const char *p = s->tmpfs[i], *colon = strchr(p, ':');
			char *k = colon ? xstrndup(p, (size_t)(colon - p))
			                : xstrdup(p);

			cJSON_AddStringToObject(t, k, colon ? colon + 1 : "");
			free(k);
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
			                      ej_strv(s->aliases));
	}
	return o;
}

char *engine_container_json(const struct engine_container_spec *s)
{
	cJSON *o = container_json(s);
	char *json = ej_print(o), *out = xstrdup(json);

	cJSON_free(json);
	cJSON_Delete(o);
	return out;
}

/* ---- create, start, stop, kill, remove ---------------------------------------- */

struct engine_call *
engine_container_create_start(struct engine *e,
                              const struct engine_container_spec *s,
                              engine_done_fn done, void *ud)
{
	char *json = engine_container_json(s);
	struct buf p = BUF_INIT;
	struct engine_call *c;

	buf_addstr(&p, "/containers/create");
	if (s->name) {
		buf_addstr(&p, "?name=");
		engine_url_escape(&p, s->name);
	}
	c = engine_call_simple(e, "POST", p.data, json, 0, 1, done, ud);
	free(json);
	buf_release(&p);
	return c;
}

int engine_container_create_result(const struct engine_call *c, char **id)
{
	return ej_id_result(c, "Id", id);
}

int engine_container_create(struct engine *e,
                            const struct engine_container_spec *s, char **id)
{
	struct engine_call *c = engine_container_create_start(e, s, NULL, NULL);
	int rc = engine_call_run(e, c);

	if (id)
		*id = NULL;
	if (rc == 0 || engine_call_done(c))
		rc = engine_container_create_result(c, id);
	engine_call_free(c);
	return rc;
}

static struct engine_call *container_post(struct engine *e, const char *id,
                                          const char *verb, const char *query,
                                          long timeout_ms, engine_done_fn done,
                                          void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	container_path(&p, id, "/");
	buf_addf(&p, "%s%s", verb, query);
	/* 304 (already started, already stopped) is a success */
	c = engine_call_simple(e, "POST", p.data, NULL, timeout_ms, 0, done,
	                       ud);
	buf_release(&p);
	return c;
}

struct engine_call *engine_container_start_start(struct engine *e,
                                                 const char *id,
                                                 engine_done_fn done, void *ud)
{
	return container_post(e, id, "start", "", 0, done, ud);
}

int engine_container_start_result(const struct engine_call *c)
{
	const char *m = engine_call_error(c);
	int rc = engine_call_rc(c);

	if (rc && (strstr(m, "port is already allocated") ||
	           strstr(m, "address already in use")))
		rc = orch_error_code(ORCH_EADDRINUSE, "%s", m);
	return rc;
}

int engine_container_start(struct engine *e, const char *id)
{
	return engine_call_run_result(
	        e, engine_container_start_start(e, id, NULL, NULL),
	        engine_container_start_result);
}

struct engine_call *engine_container_stop_start(struct engine *e,
                                                const char *id, int timeout_s,
                                                engine_done_fn done, void *ud)
{
	char q[32];

	if (timeout_s < 0)
		timeout_s = 10;
	snprintf(q, sizeof(q), "?t=%d", timeout_s);
	/* the engine waits t seconds before SIGKILL: leave it room */
	return container_post(e, id, "stop", q, ((long)timeout_s + 10) * 1000,
	                      done, ud);
}

int engine_container_stop_result(const struct engine_call *c)
{
	return engine_call_rc(c);
}

int engine_container_stop(struct engine *e, const char *id, int timeout_s)
{
	return engine_call_run_result(
	        e, engine_container_stop_start(e, id, timeout_s, NULL, NULL),
	        engine_container_stop_result);
}

struct engine_call *engine_container_kill_start(struct engine *e,
                                                const char *id,
                                                const char *signal,
                                                engine_done_fn done, void *ud)
{
	struct buf q = BUF_INIT;
	struct engine_call *c;

	if (signal) {
		buf_addstr(&q, "?signal=");
		engine_url_escape(&q, signal);
	}
	c = container_post(e, id, "kill", q.len ? q.data : "", 0, done, ud);
	buf_release(&q);
	return c;
}

int engine_container_kill_result(const struct engine_call *c)
{
	return engine_call_rc(c);
}

int engine_container_kill(struct engine *e, const char *id, const char *signal)
{
	return engine_call_run_result(
	        e, engine_container_kill_start(e, id, signal, NULL, NULL),
	        engine_container_kill_result);
}

struct engine_call *engine_container_remove_start(struct engine *e,
                                                  const char *id, int force,
                                                  engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	container_path(&p, id, force ? "?force=1&v=1" : "?v=1");
	c = engine_call_simple(e, "DELETE", p.data, NULL, 0, 0, done, ud);
	buf_release(&p);
	return c;
}

int engine_container_remove_result(const struct engine_call *c)
{
	const char *m = engine_call_error(c);
	int rc = engine_call_rc(c);

	if (rc == ORCH_ECONFLICT && strstr(m, "already in progress"))
		rc = orch_error_code(ORCH_EINPROGRESS, "%s", m);
	return rc;
}

int engine_container_remove(struct engine *e, const char *id, int force)
{
	return engine_call_run_result(
	        e, engine_container_remove_start(e, id, force, NULL, NULL),
	        engine_container_remove_result);
}

/* ---- wait ---------------------------------------------------------------------- */

struct engine_call *engine_container_wait_start(struct engine *e,
                                                const char *id, long timeout_ms,
                                                engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	container_path(&p, id, "/wait?condition=not-running");
	/* never -1: the engine answers only when the container stops, and
	   a hung engine would hold the caller for good */
	c = engine_call_simple(e, "POST", p.data, NULL,
	                       timeout_ms > 0 ? timeout_ms
	                                      : engine_request_timeout(e),
	                       0, done, ud);
	buf_release(&p);
	return c;
}

int engine_container_wait_result(const struct engine_call *c, int *status)
{
	cJSON *j = NULL;
	int rc = engine_call_rc(c);

	if (rc == ORCH_ETIMEOUT)
		rc = orch_error_prefix(rc,
		                       "the container is still running, or the "
		                       "engine hangs");
	if (rc == 0)
		rc = ej_parse(c, &j);
	if (rc == 0 && status)
		*status = ej_int(j, "StatusCode", -1);
	cJSON_Delete(j);
	return rc;
}

int engine_container_wait(struct engine *e, const char *id, long timeout_ms,
                          int *status)
{
	struct engine_call *c =
	        engine_container_wait_start(e, id, timeout_ms, NULL, NULL);
	int rc = engine_call_run(e, c);

	if (rc == ORCH_ETIMEOUT)
		orch_error_prefix(rc,
		                  "container '%s' still running, or the engine "
		                  "hangs",
		                  id);
	else if (rc == 0 || engine_call_done(c))
		rc = engine_container_wait_result(c, status);
	engine_call_free(c);
	return rc;
}

/* ---- inspect ------------------------------------------------------------------- */

struct engine_call *engine_container_inspect_start(struct engine *e,
                                                   const char *id,
                                                   engine_done_fn done,
                                                   void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	container_path(&p, id, "/json");
	c = engine_call_simple(e, "GET", p.data, NULL, 0, 0, done, ud);
	buf_release(&p);
	return c;
}

static char *nonempty_dup(const cJSON *o, const char *key)
{
	const char *s = ej_str(o, key);

	/* the engine writes "0001-01-01T00:00:00Z" for "never" */
	return s && *s && strncmp(s, "0001-", 5) ? xstrdup(s) : NULL;
}

int engine_container_inspect_result(const struct engine_call *c,
                                    struct engine_container_info *info)
{
	cJSON *j = NULL, *state, *config, *health, *nets, *it, *ports;
	const char *name;
	int rc;

	memset(info, 0, sizeof(*info));
	rc = engine_call_rc(c);
	if (rc == 0)
		rc = ej_parse(c, &j);
	if (rc)
		goto out;
	state = ej_obj(j, "State");
	config = ej_obj(j, "Config");
	info->id = ej_dup(j, "Id");
	name = ej_str(j, "Name");
	info->name = xstrdup(name ? name + (name[0] == '/') : "");
	info->image = ej_dup(config, "Image");
	info->image_id = ej_dup(j, "Image");
	info->status = ej_dup(state, "Status");
	info->running = ej_bool(state, "Running");
	info->exit_code = ej_int(state, "ExitCode", 0);
	info->oom_killed = ej_bool(state, "OOMKilled");
	info->started_at = nonempty_dup(state, "StartedAt");
	info->finished_at = nonempty_dup(state, "FinishedAt");
	info->tty = ej_bool(config, "Tty");
	ej_strvec(ej_obj(config, "Env"), &info->env);
	health = ej_obj(state, "Health");
	if (cJSON_IsObject(health)) {
		cJSON *log = ej_obj(health, "Log");
		int n = cJSON_GetArraySize(log);

		info->health = ej_dup(health, "Status");
		if (n > 0) {
			cJSON *last = cJSON_GetArrayItem(log, n - 1);

			info->health_log = ej_dup(last, "Output");
			info->health_log_start = ej_dup(last, "Start");
		}
	}
	if (ej_str(state, "Error") && *ej_str(state, "Error"))
		info->error = ej_dup(state, "Error");
	nets = ej_obj(ej_obj(j, "NetworkSettings"), "Networks");
	cJSON_ArrayForEach(it, nets)
	{
		const char *ip = ej_str(it, "IPAddress");

		if (it->string)
			strvec_push(&info->networks, it->string);
		if (ip && *ip && !info->ip)
			info->ip = xstrdup(ip);
	}
	ports = ej_obj(ej_obj(j, "NetworkSettings"), "Ports");
	cJSON_ArrayForEach(it, ports)
	{
		cJSON *bnd;

		cJSON_ArrayForEach(bnd, it)
		{
			struct engine_port_binding *pb;
			const char *slash =
			        it->string ? strchr(it->string, '/') : NULL;
			const char *hp = ej_str(bnd, "HostPort");

			info->ports = xrealloc(info->ports,
			                       (info->nports + 1) *
			                               sizeof(*info->ports));
			pb = &info->ports[info->nports++];
			pb->container_port =
			        it->string ? ej_port_num(it->string) : 0;
			pb->protocol = xstrdup(slash ? slash + 1 : "tcp");
			pb->host_ip = ej_dup(bnd, "HostIp");
			pb->host_port = hp ? ej_port_num(hp) : 0;
		}
	}
	ej_label_set(&info->labels, ej_obj(config, "Labels"));
out:
	cJSON_Delete(j);
	return rc;
}

int engine_container_inspect(struct engine *e, const char *id,
                             struct engine_container_info *info)
{
	struct engine_call *c =
	        engine_container_inspect_start(e, id, NULL, NULL);
	int rc = engine_call_run(e, c);

	if (rc == 0 || engine_call_done(c))
		rc = engine_container_inspect_result(c, info);
	else
		memset(info, 0, sizeof(*info));
	engine_call_free(c);
	return rc;
}

void engine_container_info_release(struct engine_container_info *info)
{
	if (!info)
		return;
	free(info->id);
	free(info->name);
	free(info->image);
	free(info->image_id);
	free(info->status);
	free(info->started_at);
	free(info->finished_at);
	free(info->health);
	free(info->health_log);
	free(info->health_log_start);
	free(info->error);
	free(info->ip);
	strvec_clear(&info->networks);
	strvec_clear(&info->env);
	for (size_t i = 0; i < info->nports; i++) {
		free(info->ports[i].protocol);
		free(info->ports[i].host_ip);
	}
	free(info->ports);
	ej_label_set_release(&info->labels);
	memset(info, 0, sizeof(*info));
}

/* ---- logs ------------------------------------------------------------------------ */

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
			engine_call_stop(f->call, ORCH_EENGINE, f->d.errmsg);
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
	struct follow *f = engine_call_op(c);

	if (!f->raw && engine_demux_finish(&f->d))
		engine_call_fail(c, ORCH_EENGINE, "%s %s: %s",
		                 engine_call_method(c), engine_call_path(c),
		                 orch_error_last());
}

struct engine_call *engine_logs_start(struct engine *e, const char *id, int tty,
                                      int tail, int64_t since_s, int follow,
                                      engine_log_fn fn, void *ud)
{
	struct follow *f = xcalloc(1, sizeof(*f));
	struct buf p = BUF_INIT;
	struct engine_request r = { .method = "GET",
		                    .timeout_ms = follow ? -1 : 0,
		                    .on_data = follow_data,
		                    .ud = f };
	struct engine_call *c;

	f->raw = tty;
	f->fn = fn;
	f->ud = ud;
	engine_demux_init(&f->d);
	container_path(&p, id, "/logs?stdout=1&stderr=1");
	if (follow)
		buf_addstr(&p, "&follow=1");
	if (tail >= 0)
		buf_addf(&p, "&tail=%d", tail);
	if (since_s > 0)
		buf_addf(&p, "&since=%lld", (long long)since_s);
	r.path = p.data;
	c = engine_call_submit(e, &r, 0, 0);
	f->call = c;
	engine_call_set_op(c, f, free, follow_end, NULL);
	buf_release(&p);
	return c;
}

/* Demultiplex (or copy, for a TTY) a logs body into out, up to its cap. */
struct demux_sink {
	struct engine_call *call;
	struct engine_demux d;
	int raw;
	struct buf *out;
};

static int demux_data(void *ud, const char *data, size_t len)
{
	struct demux_sink *s = ud;

	if (s->raw) {
		if (buf_add(s->out, data, len))
			s->d.truncated = 1;
	} else if (engine_demux_feed(&s->d, data, len, s->out, NULL)) {
		engine_call_stop(s->call, ORCH_EENGINE, s->d.errmsg);
		return 1;
	}
	/* the caller's buffer is full: reading on would only discard */
	if (s->d.truncated)
		engine_call_stop(s->call, ORCH_ETOOBIG, "logs exceed the cap");
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
	int rc;

	/* the logs endpoint sets no Content-Type: only Config.Tty says
	   whether the stream is multiplexed */
	rc = engine_container_inspect(e, id, &info);
	if (rc)
		return rc;
	s.raw = info.tty;
	engine_container_info_release(&info);
	engine_demux_init(&s.d);
	container_path(&p, id, "/logs?stdout=1&stderr=1");
	if (tail >= 0)
		buf_addf(&p, "&tail=%d", tail);
	r.path = p.data;
	s.call = engine_call_submit(e, &r, 0, 0);
	rc = engine_call_run(e, s.call);
	if (rc == ORCH_ETOOBIG)
		rc = orch_error_code(ORCH_ETOOBIG,
		                     "%s %s: logs exceed %zu bytes",
		                     engine_call_method(s.call),
		                     engine_call_path(s.call), out->cap);
	else if (rc == 0 && !s.raw && engine_demux_finish(&s.d))
		rc = orch_error_prefix(ORCH_EENGINE, "%s %s",
		                       engine_call_method(s.call),
		                       engine_call_path(s.call));
	engine_call_free(s.call);
	buf_release(&p);
	return rc;
}

/* ---- archives -------------------------------------------------------------------- */

int engine_copy_in(struct engine *e, const char *id, const char *dir,
                   const void *tar, size_t len)
{
	struct buf p = BUF_INIT;
	struct engine_request r = { .method = "PUT",
		                    .body = tar,
		                    .body_len = len,
		                    .content_type = "application/x-tar" };
	int rc;

	container_path(&p, id, "/archive?path=");
	engine_url_escape(&p, dir);
	r.path = p.data;
	rc = engine_call_run_free(e, engine_call_submit(e, &r, 0, 1));
	buf_release(&p);
	return rc;
}

struct engine_call *engine_copy_out_start(struct engine *e, const char *id,
                                          const char *path, size_t cap,
                                          engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_request r = {
		.method = "GET", .body_cap = cap, .on_done = done, .ud = ud
	};
	struct engine_call *c;

	container_path(&p, id, "/archive?path=");
	engine_url_escape(&p, path);
	r.path = p.data;
	c = engine_call_submit(e, &r, 0, 0);
	buf_release(&p);
	return c;
}

int engine_copy_out_result(const struct engine_call *c, struct buf *tar)
{
	const struct buf *b = engine_call_body(c);
	int rc = engine_call_rc(c);

	if (rc == 0 && buf_add(tar, b->data, b->len))
		rc = orch_error_code(
		        ORCH_ETOOBIG, "%s %s: archive exceeds %zu bytes",
		        engine_call_method(c), engine_call_path(c), tar->cap);
	return rc;
}

int engine_copy_out(struct engine *e, const char *id, const char *path,
                    struct buf *tar)
{
	struct engine_call *c =
	        engine_copy_out_start(e, id, path, tar->cap, NULL, NULL);
	int rc = engine_call_run(e, c);

	if (rc == 0)
		rc = engine_copy_out_result(c, tar);
	engine_call_free(c);
	return rc;
}
