/*
 * spec.c: a manifest container and the run's decisions as the create
 * request's fields (spec.h).
 */
#include "spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "labels.h"
#include "manifest.h"

static const char *keep(struct spec *sp, char *s)
{
	strvec_push(&sp->strs, s);
	free(s);
	return sp->strs.v[sp->strs.n - 1];
}

static void add_env(struct spec *sp, const struct mf_kvs *kvs)
{
	for (size_t i = 0; kvs && i < kvs->n; i++) {
		const struct mf_kv *kv = &kvs->items[i];
		const char *v = kv->value ? kv->value : getenv(kv->key);
		char *item;

		if (!v)
			continue; /* Compose: a bare unset name is left out */
		item = xasprintf("%s=%s", kv->key, v);
		strvec_push(&sp->env, item);
		free(item);
	}
}

static int has_port(const struct mf_container *c, int port)
{
	for (size_t i = 0; i < c->nports; i++)
		if (c->ports[i].container_port == port &&
		    (!c->ports[i].protocol ||
		     !strcmp(c->ports[i].protocol, "tcp")))
			return 1;
	return 0;
}

static void labels(struct spec *sp, const struct mf_container *c,
                   const struct spec_opts *o)
{
	size_t max = c->labels.n + o->nrun_labels + 3, n = 0;
	struct engine_label *l = xcalloc(max, sizeof(*l));

	/* ours last, and the manifest's may not use our prefix */
	for (size_t i = 0; i < c->labels.n; i++)
		if (strncmp(c->labels.items[i].key, LABEL_PREFIX,
		            strlen(LABEL_PREFIX)))
			l[n++] = (struct engine_label){
				c->labels.items[i].key,
				c->labels.items[i].value
				        ? c->labels.items[i].value
				        : ""
			};
	for (size_t i = 0; i < o->nrun_labels; i++)
		l[n++] = o->run_labels[i];
	l[n++] = (struct engine_label){ LABEL_ROLE, o->role };
	if (o->service)
		l[n++] = (struct engine_label){ LABEL_SERVICE, o->service };
	if (c->stop_grace_ns >= 0)
		l[n++] = (struct engine_label){
			LABEL_STOP_GRACE,
			keep(sp,
			     xasprintf("%lld", (long long)(c->stop_grace_ns /
			                                   1000000000)))
		};
	sp->labels = l;
	sp->s.labels = l;
	sp->s.nlabels = n;
}

static void ports(struct spec *sp, const struct mf_container *c)
{
	const struct mf_ready *rd = &c->ready;
	struct engine_port *p = xcalloc(c->nports + 2, sizeof(*p));
	size_t n = 0;

	for (size_t i = 0; i < c->nports; i++)
		p[n++] = (struct engine_port){
			.container_port = c->ports[i].container_port,
			.protocol = c->ports[i].protocol,
			.host_ip = c->ports[i].host_ip,
			.host_port = c->ports[i].host_port,
		};
	/* probes reach the service through 127.0.0.1: publish their ports */
	if (rd->tcp_port && !has_port(c, rd->tcp_port))
		p[n++] = (struct engine_port){ .container_port = rd->tcp_port };
	if (rd->http_port && !has_port(c, rd->http_port) &&
	    rd->http_port != rd->tcp_port)
		p[n++] =
		        (struct engine_port){ .container_port = rd->http_port };
	sp->ports = p;
	sp->s.ports = p;
	sp->s.nports = n;
}

static void mounts(struct spec *sp, const struct mf_container *c,
                   const struct spec_opts *o)
{
	struct engine_mount *m = xcalloc(c->nmounts + 1, sizeof(*m));
	size_t n = 0;

	for (size_t i = 0; i < c->nmounts; i++) {
		const struct mf_mount *mm = &c->mounts[i];
		const char *src = mm->source;

		if (src && !strcmp(mm->type, "volume"))
			src = keep(sp, xasprintf("%s-%s-%s", o->project,
			                         o->run_id, src));
		m[n++] = (struct engine_mount){ mm->type, src, mm->target,
			                        mm->read_only };
	}
	if (o->gate_dir)
		m[n++] = (struct engine_mount){ "bind", o->gate_dir, GATE_MOUNT,
			                        1 };
	sp->mounts = m;
	sp->s.mounts = m;
	sp->s.nmounts = n;
}

static void health(struct spec *sp, const struct mf_healthcheck *h)
{
	if (!h->set)
		return;
	sp->health.set = 1;
	if (h->disable) {
		strvec_push(&sp->hc_test, "NONE");
		sp->health.test = sp->hc_test.v;
	} else if (h->test.n) {
		strvec_copy(&sp->hc_test, &h->test);
		sp->health.test = sp->hc_test.v;
	}
	/* no test: the image's, with what the manifest changes */
	sp->health.interval_ns = h->interval_ns;
	sp->health.timeout_ns = h->timeout_ns;
	sp->health.start_period_ns = h->start_period_ns;
	sp->health.retries = h->retries;
	sp->s.health = &sp->health;
}

void spec_build(struct spec *sp, const struct mf_container *c,
                const struct spec_opts *o)
{
	struct engine_container_spec *s = &sp->s;
	const struct strvec *command = o->command ? o->command : &c->command;

	memset(sp, 0, sizeof(*sp));
	s->name = o->name;
	s->image = o->image;
	s->stop_timeout_s = -1;
	if (o->gate_dir) {
		/* the gate runs the real argv once released */
		char *go = gate_go_path(o->service);

		strvec_push(&sp->entrypoint, GATE_PATH);
		strvec_push(&sp->cmd, go);
		strvec_push(&sp->cmd, "--");
		for (size_t i = 0; o->real_argv && i < o->real_argv->n; i++)
			strvec_push(&sp->cmd, o->real_argv->v[i]);
		free(go);
		s->entrypoint = sp->entrypoint.v;
		s->cmd = sp->cmd.v;
	} else {
		if (command->n) {
			strvec_copy(&sp->cmd, command);
			s->cmd = sp->cmd.v;
		}
		if (c->has_entrypoint) {
			/* an empty entrypoint clears the image's */
			static char *const none[] = { NULL };

			strvec_copy(&sp->entrypoint, &c->entrypoint);
			s->entrypoint =
			        sp->entrypoint.n ? sp->entrypoint.v : none;
		}
	}
	add_env(sp, &c->environment);
	add_env(sp, o->environment);
	s->env = sp->env.v;
	s->user = c->user;
	s->working_dir = c->working_dir;
	s->init = c->init;
	labels(sp, c, o);
	ports(sp, c);
	mounts(sp, c, o);
	if (c->tmpfs.n) {
		strvec_copy(&sp->tmpfs, &c->tmpfs);
		s->tmpfs = sp->tmpfs.v;
	}
	health(sp, &c->healthcheck);
	if (c->stop_grace_ns >= 0)
		s->stop_timeout_s = (int)(c->stop_grace_ns / 1000000000);
	s->network = o->network;
	if (o->alias) {
		strvec_push(&sp->aliases, o->alias);
		s->aliases = sp->aliases.v;
	}
}

void spec_release(struct spec *sp)
{
	strvec_clear(&sp->cmd);
	strvec_clear(&sp->entrypoint);
	strvec_clear(&sp->env);
	strvec_clear(&sp->aliases);
	strvec_clear(&sp->tmpfs);
	strvec_clear(&sp->hc_test);
	strvec_clear(&sp->strs);
	free(sp->labels);
	free(sp->ports);
	free(sp->mounts);
	memset(sp, 0, sizeof(*sp));
}
