/*
 * hooks.c: secrets and configs copied into a container, and Compose's
 * lifecycle hooks run through exec (hooks.h). It knows nothing of the
 * run's state machine: env decides when.
 */
#include "hooks.h"

#include <stdlib.h>
#include <string.h>

#include "engine_ops.h"
#include "error.h"
#include "manifest.h"
#include "tar.h"
#include "util.h"

/* The external networks: joined under the service's names. */
static int join_external(struct engine *e, const char *id, char *const *names,
                         const struct mf_container *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->ext_networks.n && !rc; i++) {
		/* a created container is attached to any name: the
		   engine looks for the network at the start */
		rc = engine_network_exists(e, c->ext_networks.v[i]);
		if (!rc)
			rc = engine_network_connect(e, c->ext_networks.v[i], id,
			                            names);
		if (rc == ORCH_ENOTFOUND)
			rc = orch_error_code(
			        rc,
			        "the external network '%s' does not exist (it "
			        "is made outside the run: docker network "
			        "create %s)",
			        c->ext_networks.v[i], c->ext_networks.v[i]);
		else if (rc)
			rc = orch_error_code(
			        rc,
			        "joining the external network '%s': "
			        "%s",
			        c->ext_networks.v[i], orch_error_last());
	}
	return rc;
}

int hooks_inject(struct engine *e, const char *id, char *const *names,
                 const struct mf_container *c)
{
	struct buf tar = BUF_INIT;
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < c->nfiles && !rc; i++) {
		const struct mf_file_ref *f = &c->files[i];

		if (!f->content)
			continue;
		rc = tar_add_file_owned(&tar, f->target, (mode_t)f->mode,
		                        f->uid < 0 ? 0 : (unsigned)f->uid,
		                        f->gid < 0 ? 0 : (unsigned)f->gid,
		                        wall_ms() / 1000, f->content,
		                        strlen(f->content));
		if (rc)
			rc = orch_error_code(rc, "%s '%s': %s",
			                     f->is_secret ? "secret" : "config",
			                     f->name, orch_error_last());
		n++;
	}
	if (!rc && n)
		rc = tar_finish(&tar);
	if (!rc && n) {
		rc = engine_copy_in(e, id, "/", tar.data, tar.len);
		if (rc)
			rc = orch_error_code(
			        rc, "copying its secrets and configs in: %s",
			        orch_error_last());
	}
	buf_release(&tar);
	if (!rc)
		rc = join_external(e, id, names, c);
	return rc;
}

/* The last non-empty line of out, at most 200 bytes. */
static char *last_line(const struct buf *out)
{
	const char *s = out->data ? out->data : "";
	size_t len = out->len, end, start;

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	end = len;
	start = end;
	while (start && s[start - 1] != '\n')
		start--;
	if (end - start > 200)
		start = end - 200;
	return xstrndup(s + start, end - start);
}

static void hook_env(const struct mf_hook *h, struct strvec *env)
{
	for (size_t i = 0; i < h->environment.n; i++) {
		const struct mf_kv *kv = &h->environment.items[i];
		const char *v = kv->value ? kv->value : getenv(kv->key);

		/* Compose: a bare name that is unset is left out */
		if (v)
			strvec_pushf(env, "%s=%s", kv->key, v);
	}
}

struct hooks {
	struct engine *e;
	char *id;
	const char *when;
	const struct mf_hook *list;
	size_t n, i; /* i: the one running */
	long timeout_ms;
	struct engine_exec *x;
	void (*wake)(void *ud);
	void *ud;
	int next_due; /* hook i passed: hooks_step() starts i + 1 */
	int finished, rc;
	char *msg;
};

static void hook_done(struct engine_exec *x, int rc, int code, void *ud);

static void hook_next(struct hooks *h)
{
	const struct mf_hook *k = &h->list[h->i];
	struct strvec env = STRVEC_INIT;
	struct engine_exec_opts o = { k->user, k->working_dir, NULL,
		                      k->privileged };

	hook_env(k, &env);
	o.env = env.n ? env.v : NULL;

	h->x = engine_exec_start(h->e, h->id, k->command.v, &o, h->timeout_ms,
	                         hook_done, h);
	strvec_clear(&env);
}

/* Hook i's exit: 0, or the error recorded. */
static int hook_verdict(const struct hooks *h, int rc, int code,
                        const struct buf *out)
{
	const char *name = h->list[h->i].command.v[0];
	char *last;

	if (rc)
		return orch_error_code(rc, "%s hook '%s': %s", h->when, name,
		                       orch_error_last());
	if (!code)
		return 0;
	last = last_line(out);
	rc = orch_error_code(ORCH_EENGINE, "%s hook '%s' exited %d%s%s",
	                     h->when, name, code, *last ? ": " : "", last);
	free(last);
	return rc;
}

/* An engine callback: it records, and hooks_step() acts. */
static void hook_done(struct engine_exec *x, int rc, int code, void *ud)
{
	struct hooks *h = ud;

	if (h->x != x)
		return; /* hooks_free() cancelled it */
	h->x = NULL;
	rc = hook_verdict(h, rc, code, engine_exec_output(x));
	if (!rc && h->i + 1 < h->n) {
		h->next_due = 1;
	} else {
		h->finished = 1;
		h->rc = rc;
		if (rc)
			h->msg = xstrdup(orch_error_last());
	}
	if (h->wake)
		h->wake(h->ud);
}

struct hooks *hooks_start(struct engine *e, const char *id, const char *when,
                          const struct mf_hook *list, size_t n, long timeout_ms,
                          void (*wake)(void *ud), void *ud)
{
	struct hooks *h = xcalloc(1, sizeof(*h));

	h->e = e;
	h->id = xstrdup(id);
	h->when = when;
	h->list = list;
	h->n = n;
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : HOOKS_TIMEOUT_MS;
	h->wake = wake;
	h->ud = ud;
	if (n)
		hook_next(h);
	else
		h->finished = 1;
	return h;
}

int hooks_step(struct hooks *h)
{
	if (h->next_due) {
		h->next_due = 0;
		h->i++;
		hook_next(h);
	}
	return h->finished;
}

int hooks_result(const struct hooks *h)
{
	return h->rc ? orch_error_code(h->rc, "%s", h->msg) : 0;
}

void hooks_free(struct hooks *h)
{
	struct engine_exec *x;

	if (!h)
		return;
	if ((x = h->x)) {
		/* its done runs now, and sees it is no longer ours */
		h->x = NULL;
		engine_exec_cancel(x);
	}
	free(h->id);
	free(h->msg);
	free(h);
}

int hooks_run(struct engine *e, const char *id, const char *when,
              const struct mf_hook *list, size_t n, long timeout_ms)
{
	struct hooks *h =
	        hooks_start(e, id, when, list, n, timeout_ms, NULL, NULL);
	int rc = 0;

	while (!rc && !hooks_step(h)) {
		if (engine_interrupted(e))
			rc = orch_error_code(ORCH_EINTR,
			                     "%s hook '%s': interrupted", when,
			                     list[h->i].command.v[0]);
		else if (engine_wait(e, NULL, 0, -1) < 0)
			rc = orch_error_code(ORCH_EENGINE, "%s hook '%s': %s",
			                     when, list[h->i].command.v[0],
			                     orch_error_last());
	}
	if (!rc)
		rc = hooks_result(h);
	hooks_free(h);
	return rc;
}
