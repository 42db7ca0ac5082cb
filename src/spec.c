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
			.host_port_end = c->ports[i].host_port_end,
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

char *spec_container_name(const char *project, const char *run_id,
                          const char *service)
{
	return xasprintf("%s-%s-%s", project, run_id, service);
}

static void mounts(struct spec *sp, const struct mf_container *c,
                   const struct spec_opts *o)
{
	struct engine_mount *m =
	        xcalloc(c->nmounts + c->nfiles + 1, sizeof(*m));
	size_t n = 0;

	for (size_t i = 0; i < c->nmounts; i++) {
		const struct mf_mount *mm = &c->mounts[i];
		const char *src = mm->source;

		if (src && !strcmp(mm->type, "volume"))
			src = keep(sp, xasprintf("%s-%s-%s", o->project,
			                         o->run_id, src));
		m[n++] = (struct engine_mount){
			.type = mm->type,
			.source = src,
			.target = mm->target,
			.read_only = mm->read_only,
			.propagation = mm->propagation,
			.selinux = mm->selinux,
			.create_host_path = mm->create_host_path,
			.nocopy = mm->nocopy,
			.subpath = mm->subpath,
			.tmpfs_size = mm->tmpfs_size,
			.tmpfs_mode = mm->tmpfs_mode,
		};
	}
	/* secrets and configs from a file: the file itself, read-only */
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].source_path)
			m[n++] = (struct engine_mount){
				.type = "bind",
				.source = c->files[i].source_path,
				.target = c->files[i].target,
				.read_only = 1,
			};
	if (o->gate_dir)
		m[n++] = (struct engine_mount){ .type = "bind",
			                        .source = o->gate_dir,
			                        .target = GATE_MOUNT,
			                        .read_only = 1 };
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

/* kvs -> engine labels in sp->kvs from *at on; returns how many */
static size_t kv_labels(struct spec *sp, const struct mf_kvs *kv, size_t *at)
{
	for (size_t i = 0; i < kv->n; i++)
		sp->kvs[(*at)++] = (struct engine_label){
			kv->items[i].key,
			kv->items[i].value ? kv->items[i].value : ""
		};
	return kv->n;
}

static char *const *strv(const struct strvec *v)
{
	return v->n ? v->v : NULL;
}

static void resources(struct spec *sp, const struct mf_container *c)
{
	const struct mf_resources *r = &c->res;
	struct engine_resources *e = &sp->res;
	size_t nb = 0, at, nkv;

	for (size_t k = 0; k < 5; k++)
		nb += r->nblkio[k];
	nkv = c->annotations.n + r->sysctls.n + r->storage_opt.n;
	sp->kvs = xcalloc(nkv + 1, sizeof(*sp->kvs));
	sp->blkio = xcalloc(nb + 1, sizeof(*sp->blkio));
	sp->ulimits = xcalloc(r->nulimits + 1, sizeof(*sp->ulimits));
	e->nano_cpus = r->nano_cpus;
	e->cpu_shares = r->cpu_shares;
	e->cpu_period = r->cpu_period;
	e->cpu_quota = r->cpu_quota;
	e->cpu_rt_period = r->cpu_rt_period;
	e->cpu_rt_runtime = r->cpu_rt_runtime;
	e->cpu_count = r->cpu_count;
	e->cpu_percent = r->cpu_percent;
	e->cpuset = r->cpuset;
	e->memory = r->memory;
	e->memory_swap = r->memory_swap;
	e->memory_reservation = r->memory_reservation;
	e->memory_swappiness = r->memory_swappiness;
	e->shm_size = r->shm_size;
	e->pids_limit = r->pids_limit;
	e->oom_score_adj = r->oom_score_adj;
	e->blkio_weight = r->blkio_weight;
	e->oom_kill_disable = r->oom_kill_disable;
	e->cgroup_parent = r->cgroup_parent;
	e->isolation = r->isolation;
	nb = 0;
	for (size_t k = 0; k < 5; k++) {
		e->blkio[k] = &sp->blkio[nb];
		e->nblkio[k] = r->nblkio[k];
		for (size_t i = 0; i < r->nblkio[k]; i++)
			sp->blkio[nb++] =
			        (struct engine_blkio){ r->blkio[k][i].path,
				                       r->blkio[k][i].value };
	}
	for (size_t i = 0; i < r->nulimits; i++)
		sp->ulimits[i] = (struct engine_ulimit){ r->ulimits[i].name,
			                                 r->ulimits[i].soft,
			                                 r->ulimits[i].hard };
	e->ulimits = sp->ulimits;
	e->nulimits = r->nulimits;
	at = 0;
	sp->s.annotations = &sp->kvs[at];
	sp->s.nannotations = kv_labels(sp, &c->annotations, &at);
	e->sysctls = &sp->kvs[at];
	e->nsysctls = kv_labels(sp, &r->sysctls, &at);
	e->storage_opt = &sp->kvs[at];
	e->nstorage_opt = kv_labels(sp, &r->storage_opt, &at);
	sp->s.resources = e;
}

static void device_requests(struct spec *sp, const struct mf_container *c)
{
	size_t n = c->ndevice_requests;

	if (!n)
		return;
	sp->devreqs = xcalloc(n, sizeof(*sp->devreqs));
	sp->devreq_caps = xcalloc(n, sizeof(*sp->devreq_caps));
	for (size_t i = 0; i < n; i++) {
		const struct mf_device_request *d = &c->device_requests[i];
		struct engine_device_request *e = &sp->devreqs[i];
		size_t no = d->options.n;
		struct engine_label *opts = xcalloc(no + 1, sizeof(*opts));

		for (size_t k = 0; k < no; k++)
			opts[k] = (struct engine_label){
				d->options.items[k].key,
				d->options.items[k].value
				        ? d->options.items[k].value
				        : ""
			};
		strvec_copy(&sp->devreq_caps[i], &d->capabilities);
		e->driver = d->driver;
		e->count = d->count;
		e->device_ids = strv(&d->device_ids);
		e->capabilities = sp->devreq_caps[i].v;
		e->options = opts;
		e->noptions = no;
	}
	sp->s.device_requests = sp->devreqs;
	sp->s.ndevice_requests = n;
}

/* service:NAME (network_mode, ipc, pid) as the run's container */
static const char *ns_mode(struct spec *sp, const struct spec_opts *o,
                           const char *written, const char *service)
{
	if (service)
		return keep(sp, xasprintf("container:%s-%s-%s", o->project,
		                          o->run_id, service));
	if (written && !strncmp(written, "service:", 8))
		return keep(sp, xasprintf("container:%s-%s-%s", o->project,
		                          o->run_id, written + 8));
	return written && *written ? written : NULL;
}

/* the Compose keys passed as they are */
static void compose_keys(struct spec *sp, const struct mf_container *c,
                         const struct spec_opts *o)
{
	struct engine_container_spec *s = &sp->s;

	if (c->hostname)
		s->hostname = c->hostname;
	s->domainname = c->domainname;
	s->extra_hosts = strv(&c->extra_hosts);
	s->dns = strv(&c->dns);
	s->dns_search = strv(&c->dns_search);
	s->dns_opt = strv(&c->dns_opt);
	s->exposed = strv(&c->expose);
	s->cap_add = strv(&c->cap_add);
	s->cap_drop = strv(&c->cap_drop);
	s->security_opt = strv(&c->security_opt);
	s->group_add = strv(&c->group_add);
	s->devices = strv(&c->devices);
	s->device_cgroup_rules = strv(&c->device_cgroup_rules);
	s->stop_signal = c->stop_signal;
	s->read_only = c->read_only;
	s->tty = c->tty;
	s->open_stdin = c->stdin_open;
	s->privileged = c->privileged;
	s->restart = c->restart;
	s->platform = c->platform;
	s->runtime = c->runtime;
	s->ipc_mode = ns_mode(sp, o, c->ipc, c->ipc_service);
	s->pid_mode = ns_mode(sp, o, c->pid, NULL);
	s->uts_mode = c->uts;
	s->userns_mode = c->userns_mode;
	s->cgroupns_mode = c->cgroupns;
	if (c->network_service)
		s->network_mode = ns_mode(sp, o, NULL, c->network_service);
	else if (c->network_mode)
		s->network_mode = c->network_mode;
	for (size_t i = 0; i < c->volumes_from.n; i++) {
		char *v = xasprintf("%s-%s-%s", o->project, o->run_id,
		                    c->volumes_from.v[i]);

		strvec_push_nodup(&sp->volumes_from, v);
	}
	s->volumes_from = strv(&sp->volumes_from);
	resources(sp, c);
	device_requests(sp, c);
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
	compose_keys(sp, c, o);
	s->network = o->network;
	if (o->alias)
		strvec_push(&sp->aliases, o->alias);
	/* network aliases and the names links give (manifest_keys.c) */
	for (size_t i = 0; i < c->aliases.n; i++)
		if (strvec_find(&sp->aliases, c->aliases.v[i]) < 0)
			strvec_push(&sp->aliases, c->aliases.v[i]);
	if (sp->aliases.n)
		s->aliases = sp->aliases.v;
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
	strvec_clear(&sp->volumes_from);
	free(sp->labels);
	free(sp->ports);
	free(sp->mounts);
	free(sp->kvs);
	free(sp->ulimits);
	free(sp->blkio);
	for (size_t i = 0; i < sp->s.ndevice_requests; i++) {
		free((void *)sp->devreqs[i].options);
		strvec_clear(&sp->devreq_caps[i]);
	}
	free(sp->devreqs);
	free(sp->devreq_caps);
	memset(sp, 0, sizeof(*sp));
}
