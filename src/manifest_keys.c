/*
 * manifest_keys.c: the converters of the Compose keys that a container
 * gets from the engine much as they are written (manifest_int.h lists
 * the loader's files): names and DNS, resources and process settings,
 * namespaces, hooks, secrets and configs, deploy:, and the top-level
 * networks, secrets and configs; then the references between services
 * that Compose turns into dependencies (links, volumes_from, service:
 * namespaces).
 *
 * Like every converter, each sees its own key alone; how two keys go
 * together (deploy: against mem_limit, network_mode against ports) is a
 * rule of manifest_check.c. What the engine does with the values is the
 * spec's (spec.c): nothing here knows the API.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "manifest_int.h"
#include "reference.h"
#include "schema.h"

#define UNIT(obj) ((struct mf_unit *)(obj))
#define CT(obj)   (UNIT(obj)->ct)

/* ---- host privileges --------------------------------------------------- */

int mf_host_privilege(struct mf_conv *c, const struct ynode *at,
                      const char *what, const char *why)
{
	char *id;

	if (!c->m->allow_host_privileges)
		return mf_err(c, at,
		              "'%s' gives the container %s: refused unless "
		              "x-orchestrate: {allow-host-privileges: true}",
		              what, why);
	id = xasprintf("host:%s", what);
	if (strvec_find(&c->warned, id) < 0) {
		mf_warn(c, at,
		        "'%s' gives the container %s (allowed by "
		        "x-orchestrate: allow-host-privileges)",
		        what, why);
		strvec_push(&c->warned, id);
	}
	free(id);
	return 0;
}

/* ---- small readers ------------------------------------------------------ */

static int get_str(struct mf_conv *c, const struct ynode *v, const char *what,
                   char **out)
{
	int rc = mf_get_string(c, v, what, out);

	if (!rc && !**out)
		rc = mf_err(c, v, "'%s' is empty", what);
	return rc;
}

static int get_i64(struct mf_conv *c, const struct ynode *v, const char *what,
                   long min, long max, int64_t *out)
{
	long l;
	int rc = mf_get_int(c, v, what, min, max, &l);

	if (!rc)
		*out = l;
	return rc;
}

/* "service:NAME": NAME (malloc'd), else NULL */
static char *service_ref(const char *s)
{
	return strncmp(s, "service:", 8) ? NULL : xstrdup(s + 8);
}

static void add_ref(struct mf_conv *c, struct mf_unit *u, const char *target,
                    const char *alias, const struct ynode *at, const char *what)
{
	struct mf_ref *r;

	ALLOC_GROW(c->refs, c->nrefs + 1, c->arefs);
	r = &c->refs[c->nrefs++];
	r->service = u->index;
	r->target = xstrdup(target);
	r->alias = alias ? xstrdup(alias) : NULL;
	r->at = at;
	r->what = what;
}

/* ---- names, DNS, hosts ---------------------------------------------------- */

int conv_container_hostname(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	return get_str(c, v, "hostname", &CT(obj)->hostname);
}

int conv_container_domainname(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return get_str(c, v, "domainname", &CT(obj)->domainname);
}

/* A list of HOST:IP (or HOST=IP), or a mapping HOST: IP or [IPs]. */
static int get_extra_hosts(struct mf_conv *c, const struct ynode *v,
                           struct strvec *out)
{
	int rc = 0;

	if (v->kind == Y_MAP) {
		for (size_t i = 0; i + 1 < v->n && !rc; i += 2) {
			struct strvec ips = STRVEC_INIT;

			rc = mf_get_strings(c, v->items[i + 1], "extra_hosts",
			                    &ips);
			for (size_t j = 0; !rc && j < ips.n; j++)
				strvec_pushf(out, "%s:%s", v->items[i]->str,
				             ips.v[j]);
			strvec_clear(&ips);
		}
		return rc;
	}
	{
		struct strvec lines = STRVEC_INIT;

		rc = mf_get_strings(c, v, "extra_hosts", &lines);
		for (size_t i = 0; !rc && i < lines.n; i++) {
			const char *l = lines.v[i];
			size_t h = strcspn(l, ":=");

			if (!h || !l[h] || !l[h + 1]) {
				rc = mf_err(c, v,
				            "invalid extra host '%.80s' "
				            "(HOST:IP)",
				            l);
				break;
			}
			strvec_pushf(out, "%.*s:%s", (int)h, l, l + h + 1);
		}
		strvec_clear(&lines);
	}
	return rc;
}

int conv_container_extra_hosts(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	return get_extra_hosts(c, v, &CT(obj)->extra_hosts);
}

int conv_container_dns(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_strings(c, v, "dns", &CT(obj)->dns);
}

int conv_container_dns_search(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return mf_get_strings(c, v, "dns_search", &CT(obj)->dns_search);
}

int conv_container_dns_opt(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	return mf_get_strings(c, v, "dns_opt", &CT(obj)->dns_opt);
}

/* "80", 80, "80/udp", "8000-8002": one PORT/PROTO each. */
int conv_container_expose(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	struct strvec in = STRVEC_INIT;
	int rc = mf_get_strings(c, v, "expose", &in);

	for (size_t i = 0; !rc && i < in.n; i++) {
		char *p = in.v[i], *slash = strchr(p, '/'), *dash;
		const char *proto = slash ? slash + 1 : "tcp";
		long a, b;

		if (slash)
			*slash = '\0';
		dash = strchr(p, '-');
		if (dash)
			*dash = '\0';
		if (parse_int(p, 1, 65535, &a) ||
		    (dash ? parse_int(dash + 1, 1, 65535, &b) : (b = a, 0)) ||
		    b < a || b - a >= 1024 ||
		    (strcmp(proto, "tcp") && strcmp(proto, "udp") &&
		     strcmp(proto, "sctp"))) {
			rc = mf_err(c, v,
			            "invalid exposed port (PORT[-PORT][/tcp or "
			            "udp])");
			break;
		}
		for (long port = a; port <= b; port++)
			strvec_pushf(&CT(obj)->expose, "%ld/%s", port, proto);
	}
	strvec_clear(&in);
	return rc;
}

/* networks: names declared at the top level; their aliases. */
int conv_container_networks(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	struct mf_unit *u = obj;
	int seq = v->kind == Y_SEQ;
	const char *ext;

	u->networks = v;
	for (size_t i = 0; i < v->n; i += seq ? 1 : 2) {
		const struct ynode *name = v->items[i];
		const struct ynode *opts = seq ? NULL : v->items[i + 1];
		int rc;

		if (name->kind != Y_SCALAR)
			return mf_err(c, name,
			              "'networks' entries must be "
			              "network names");
		if (!seq && !strncmp(name->str, "x-", 2))
			continue;
		if (strcmp(name->str, "default") &&
		    strindex_get(&c->network_ix, name->str) < 0)
			return mf_err(c, name,
			              "network '%.80s' is not declared in the "
			              "top-level 'networks'",
			              name->str);
		ext = mf_network_external(c, name->str);
		if (ext && strvec_find(&CT(obj)->ext_networks, ext) < 0)
			strvec_push(&CT(obj)->ext_networks, ext);
		if (!opts || ynode_is_null(opts) || opts->tag == YTAG_RESET)
			continue;
		rc = mf_walk_map(c, opts, SEC_SVC_NETWORK, "a network", u);
		if (rc)
			return rc;
	}
	return 0;
}

int conv_svc_network_aliases(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	struct mf_container *ct = CT(obj);
	struct strvec a = STRVEC_INIT;
	int rc = mf_get_strings(c, v, "aliases", &a);

	for (size_t i = 0; !rc && i < a.n; i++) {
		if (!mf_valid_name(a.v[i])) {
			rc = mf_err(c, v,
			            "invalid alias '%.80s' (letters, digits, "
			            "'_', '.' and '-')",
			            a.v[i]);
			break;
		}
		if (strvec_find(&ct->aliases, a.v[i]) < 0)
			strvec_push(&ct->aliases, a.v[i]);
	}
	strvec_clear(&a);
	return rc;
}

/* links: SERVICE or SERVICE:ALIAS -- a dependency and a name */
int conv_service_links(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	struct mf_unit *u = obj;

	if (u->is_stub)
		return mf_err(c, k, "a stub cannot have 'links'");
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *e = v->items[i];
		char *s = NULL, *colon;
		int rc = e->kind == Y_SCALAR
		                 ? mf_scalar(c, e, "links", &s)
		                 : mf_err(c, e,
		                          "'links' entries must be "
		                          "SERVICE or SERVICE:ALIAS");

		if (rc)
			return rc;
		colon = strchr(s, ':');
		if (colon)
			*colon++ = '\0';
		if (colon && !mf_valid_name(colon)) {
			rc = mf_err(c, e, "invalid alias '%.80s'", colon);
			free(s);
			return rc;
		}
		add_ref(c, u, s, colon, e, "links");
		free(s);
	}
	return 0;
}

/* ---- the service's own settings ---------------------------------------- */

int conv_service_profiles(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	struct mf_unit *u = obj;
	int rc;

	if (u->is_stub)
		return mf_err(c, k,
		              "a stub cannot have 'profiles' (the service's "
		              "decide)");
	rc = mf_get_strings(c, v, "profiles", &u->service->profiles);
	for (size_t i = 0; !rc && i < u->service->profiles.n; i++) {
		const char *p = u->service->profiles.v[i];

		if (!*p || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
		                     "OPQRSTUVWXYZ0123456789_.-") != strlen(p))
			rc = mf_err(c, v,
			            "invalid profile '%.80s' (letters, digits, "
			            "'_', '.' and '-')",
			            p);
	}
	return rc;
}

int conv_container_label_file(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	UNIT(obj)->label_file = v;
	return 0;
}

int conv_container_annotations(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	return mf_get_kvs(c, v, "annotations", "", &CT(obj)->annotations);
}

int conv_container_sysctls(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	struct mf_kvs *kv = &CT(obj)->res.sysctls;
	int rc = mf_get_kvs(c, v, "sysctls", "", kv);

	for (size_t i = 0; !rc && i < kv->n; i++)
		if (!kv->items[i].value || !*kv->items[i].value)
			rc = mf_err(c, v, "sysctl '%.80s' has no value",
			            kv->items[i].key);
	return rc;
}

int conv_container_storage_opt(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	return mf_get_kvs(c, v, "storage_opt", "", &CT(obj)->res.storage_opt);
}

int conv_container_stop_signal(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	char **s = &CT(obj)->stop_signal;
	int rc = get_str(c, v, "stop_signal", s);

	if (!rc &&
	    strspn(*s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+") != strlen(*s))
		rc = mf_err(c, v, "invalid signal '%.80s' (SIGTERM, 15, ...)",
		            *s);
	return rc;
}

int conv_container_read_only(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	return mf_get_bool(c, v, "read_only", &CT(obj)->read_only);
}

int conv_container_tty(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_bool(c, v, "tty", &CT(obj)->tty);
}

int conv_container_stdin_open(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return mf_get_bool(c, v, "stdin_open", &CT(obj)->stdin_open);
}

/* no, always, on-failure[:N], unless-stopped */
static int valid_restart(const char *s)
{
	long n;

	if (!strcmp(s, "no") || !strcmp(s, "always") ||
	    !strcmp(s, "unless-stopped") || !strcmp(s, "on-failure"))
		return 1;
	return !strncmp(s, "on-failure:", 11) &&
	       !parse_int(s + 11, 0, INT_MAX, &n);
}

int conv_container_restart(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	char **s = &CT(obj)->restart;
	int rc = get_str(c, v, "restart", s);

	if (!rc && !valid_restart(*s))
		rc = mf_err(c, v,
		            "unknown restart policy '%.80s' (no, always, "
		            "on-failure[:N] or unless-stopped)",
		            *s);
	return rc;
}

int conv_container_platform(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	char **s = &CT(obj)->platform;
	int rc = get_str(c, v, "platform", s);

	if (!rc && (!strchr(*s, '/') ||
	            strspn(*s, "abcdefghijklmnopqrstuvwxyz0123456789/_.-") !=
	                    strlen(*s)))
		rc = mf_err(c, v,
		            "invalid platform '%.80s' (os/arch[/variant])", *s);
	return rc;
}

int conv_container_runtime(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	return get_str(c, v, "runtime", &CT(obj)->runtime);
}

int conv_container_cap_drop(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	return mf_get_strings(c, v, "cap_drop", &CT(obj)->cap_drop);
}

int conv_container_cap_add(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	return mf_get_strings(c, v, "cap_add", &CT(obj)->cap_add);
}

int conv_container_group_add(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	return mf_get_strings(c, v, "group_add", &CT(obj)->group_add);
}

int conv_container_devices(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	struct mf_container *ct = CT(obj);

	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *e = v->items[i];
		int rc;

		if (e->kind == Y_MAP) {
			const struct ynode *src = ymap_get(e, "source");
			const struct ynode *dst = ymap_get(e, "target");
			const struct ynode *perm = ymap_get(e, "permissions");
			char *a = NULL, *b = NULL, *p = NULL;

			if (!src)
				return mf_err(c, e, "a device has no 'source'");
			rc = mf_get_string(c, src, "source", &a);
			if (!rc && dst)
				rc = mf_get_string(c, dst, "target", &b);
			if (!rc && perm)
				rc = mf_get_string(c, perm, "permissions", &p);
			if (!rc)
				strvec_pushf(&ct->devices, "%s:%s:%s", a,
				             b ? b : a, p ? p : "rwm");
			free(a);
			free(b);
			free(p);
		} else {
			rc = mf_get_strings(c, e, "devices", &ct->devices);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int conv_container_device_cgroup_rules(struct mf_conv *c, void *obj,
                                       const struct ynode *k,
                                       const struct ynode *v)
{
	return mf_get_strings(c, v, "device_cgroup_rules",
	                      &CT(obj)->device_cgroup_rules);
}

int conv_container_privileged(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return mf_get_bool(c, v, "privileged", &CT(obj)->privileged);
}

/*
 * security_opt: what weakens the container's confinement needs host
 * privileges; a seccomp profile file is read and sent, as the docker
 * CLI does.
 */
int conv_container_security_opt(struct mf_conv *c, void *obj,
                                const struct ynode *k, const struct ynode *v)
{
	static const char *const weak[] = {
		"seccomp=unconfined",    "seccomp:unconfined",
		"apparmor=unconfined",   "apparmor:unconfined",
		"label=disable",         "label:disable",
		"systempaths=unconfined"
	};
	struct mf_container *ct = CT(obj);
	struct strvec in = STRVEC_INIT;
	int rc = mf_get_strings(c, v, "security_opt", &in);

	for (size_t i = 0; !rc && i < in.n; i++) {
		const char *o = in.v[i];
		int is_weak = 0;

		for (size_t w = 0; w < sizeof(weak) / sizeof(*weak); w++)
			is_weak |= !strcmp(o, weak[w]);
		if (is_weak) {
			rc = mf_host_privilege(c, v, o,
			                       "freedom from its confinement");
			if (!rc)
				strvec_push(&ct->security_opt, o);
			continue;
		}
		if (!strncmp(o, "seccomp=", 8) || !strncmp(o, "seccomp:", 8)) {
			struct buf b = BUF_INIT;
			char *p = mf_resolve_path(c, v, o + 8);

			if (read_file(p, &b, 1024 * 1024))
				rc = mf_err(c, v, "seccomp profile '%s': %s",
				            o + 8, orch_error_last());
			else
				strvec_pushf(&ct->security_opt, "seccomp=%s",
				             buf_cstr(&b));
			buf_release(&b);
			free(p);
			continue;
		}
		strvec_push(&ct->security_opt, o);
	}
	strvec_clear(&in);
	return rc;
}

/* ---- namespaces --------------------------------------------------------- */

/*
 * network_mode: none; host (host privileges); service:NAME (the run's
 * service); bridge, default or a network's name join the run's network
 * (warned); container:NAME is outside the run.
 */
int conv_container_network_mode(struct mf_conv *c, void *obj,
                                const struct ynode *k, const struct ynode *v)
{
	struct mf_unit *u = obj;
	struct mf_container *ct = u->ct;
	char *s = NULL, *svc;
	int rc = get_str(c, v, "network_mode", &s);

	if (rc)
		goto out;
	if ((svc = service_ref(s))) {
		if (u->is_stub)
			rc = mf_err(c, v,
			            "a stub cannot share a service's "
			            "network");
		else
			add_ref(c, u, svc, NULL, v, "network_mode");
		free(ct->network_service);
		ct->network_service = svc;
	} else if (!strcmp(s, "none")) {
		ct->network_mode = xstrdup(s);
	} else if (!strcmp(s, "host")) {
		rc = mf_host_privilege(c, v, "network_mode: host",
		                       "the host's network");
		if (!rc)
			ct->network_mode = xstrdup(s);
	} else if (!strncmp(s, "container:", 10)) {
		rc = mf_err(c, v,
		            "network_mode '%.80s': a container outside the run "
		            "(use service:NAME)",
		            s);
	} else {
		mf_warn(c, v,
		        "network_mode '%.80s' is ignored: the service joins "
		        "the run's own network",
		        s);
	}
out:
	free(s);
	return rc;
}

/*
 * ipc, pid, uts, userns_mode, cgroup: "host" needs host privileges;
 * service:NAME (ipc, pid) shares another service's; the others are kept.
 */
static int namespace_mode(struct mf_conv *c, struct mf_unit *u,
                          const struct ynode *v, const char *what,
                          const char *const *allowed, char **out,
                          char **service)
{
	char *s = NULL, *svc;
	int rc = mf_get_string(c, v, what, &s);

	if (rc)
		return rc;
	if (!*s)
		goto out;
	if (!strcmp(s, "host")) {
		char *w = xasprintf("%s: host", what);

		rc = mf_host_privilege(c, v, w, "a namespace of the host");
		free(w);
	} else if (service && (svc = service_ref(s))) {
		if (u->is_stub)
			rc = mf_err(c, v,
			            "a stub cannot share a service's "
			            "namespace");
		else
			add_ref(c, u, svc, NULL, v, what);
		free(*service);
		*service = svc;
	} else if (!strncmp(s, "container:", 10)) {
		rc = mf_err(c, v,
		            "%s '%.80s': a container outside the run (use "
		            "service:NAME)",
		            what, s);
	} else {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], s); i++)
			;
		if (!allowed[i])
			rc = mf_err(c, v, "unknown %s mode '%.80s'", what, s);
	}
out:
	if (!rc) {
		free(*out);
		*out = s;
	} else {
		free(s);
	}
	return rc;
}

int conv_container_ipc(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	static const char *const ok[] = { "private", "shareable", "none",
		                          NULL };

	return namespace_mode(c, obj, v, "ipc", ok, &CT(obj)->ipc,
	                      &CT(obj)->ipc_service);
}

int conv_container_pid(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	static const char *const ok[] = { NULL };
	char *svc = NULL;
	int rc = namespace_mode(c, obj, v, "pid", ok, &CT(obj)->pid, &svc);

	free(svc); /* kept in pid as written; spec.c reads it */
	return rc;
}

int conv_container_uts(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	static const char *const ok[] = { NULL };

	return namespace_mode(c, obj, v, "uts", ok, &CT(obj)->uts, NULL);
}

int conv_container_userns_mode(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	static const char *const ok[] = { NULL };

	return namespace_mode(c, obj, v, "userns_mode", ok,
	                      &CT(obj)->userns_mode, NULL);
}

int conv_container_cgroup(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	static const char *const ok[] = { "private", NULL };

	return namespace_mode(c, obj, v, "cgroup", ok, &CT(obj)->cgroupns,
	                      NULL);
}

/* volumes_from: SERVICE[:ro|rw] of this run; container:NAME is not */
int conv_container_volumes_from(struct mf_conv *c, void *obj,
                                const struct ynode *k, const struct ynode *v)
{
	struct mf_unit *u = obj;

	if (u->is_stub)
		return mf_err(c, k, "a stub cannot have 'volumes_from'");
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *e = v->items[i];
		char *s = NULL, *mode;
		int rc = e->kind == Y_SCALAR
		                 ? mf_scalar(c, e, "volumes_from", &s)
		                 : mf_err(c, e,
		                          "'volumes_from' entries must be "
		                          "SERVICE[:ro]");

		if (rc)
			return rc;
		if (!strncmp(s, "container:", 10)) {
			rc = mf_err(c, e,
			            "volumes_from '%.80s': a container outside "
			            "the run (name a service)",
			            s);
			free(s);
			return rc;
		}
		mode = strchr(s, ':');
		if (mode)
			*mode++ = '\0';
		if (mode && strcmp(mode, "ro") && strcmp(mode, "rw")) {
			rc = mf_err(c, e,
			            "volumes_from mode '%.80s' (ro or rw)",
			            mode);
			free(s);
			return rc;
		}
		add_ref(c, u, s, NULL, e, "volumes_from");
		strvec_pushf(&u->ct->volumes_from, "%s%s", s,
		             mode && !strcmp(mode, "ro") ? ":ro" : "");
		free(s);
	}
	return 0;
}

/* ---- resources ------------------------------------------------------------ */

#define RES(obj) (&CT(obj)->res)

int conv_container_mem_limit(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	return mf_get_bytes(c, v, "mem_limit", &RES(obj)->memory);
}

int conv_container_memswap_limit(struct mf_conv *c, void *obj,
                                 const struct ynode *k, const struct ynode *v)
{
	if (v->kind == Y_SCALAR && !strcmp(v->str, "-1")) {
		RES(obj)->memory_swap = -1;
		return 0;
	}
	return mf_get_bytes(c, v, "memswap_limit", &RES(obj)->memory_swap);
}

int conv_container_mem_reservation(struct mf_conv *c, void *obj,
                                   const struct ynode *k, const struct ynode *v)
{
	return mf_get_bytes(c, v, "mem_reservation",
	                    &RES(obj)->memory_reservation);
}

int conv_container_mem_swappiness(struct mf_conv *c, void *obj,
                                  const struct ynode *k, const struct ynode *v)
{
	return get_i64(c, v, "mem_swappiness", 0, 100,
	               &RES(obj)->memory_swappiness);
}

int conv_container_shm_size(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	return mf_get_bytes(c, v, "shm_size", &RES(obj)->shm_size);
}

static int get_cpus(struct mf_conv *c, const struct ynode *v, const char *what,
                    int64_t *nano)
{
	double d;
	int rc = mf_get_number(c, v, what, &d);

	if (!rc)
		*nano = (int64_t)(d * 1e9 + 0.5);
	return rc;
}

int conv_container_cpus(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return get_cpus(c, v, "cpus", &RES(obj)->nano_cpus);
}

int conv_container_cpu_shares(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return get_i64(c, v, "cpu_shares", 0, 262144, &RES(obj)->cpu_shares);
}

int conv_container_cpu_period(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return mf_get_micros(c, v, "cpu_period", &RES(obj)->cpu_period);
}

int conv_container_cpu_quota(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	return mf_get_micros(c, v, "cpu_quota", &RES(obj)->cpu_quota);
}

int conv_container_cpu_rt_period(struct mf_conv *c, void *obj,
                                 const struct ynode *k, const struct ynode *v)
{
	return mf_get_micros(c, v, "cpu_rt_period", &RES(obj)->cpu_rt_period);
}

int conv_container_cpu_rt_runtime(struct mf_conv *c, void *obj,
                                  const struct ynode *k, const struct ynode *v)
{
	return mf_get_micros(c, v, "cpu_rt_runtime", &RES(obj)->cpu_rt_runtime);
}

int conv_container_cpu_count(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	return get_i64(c, v, "cpu_count", 0, 4096, &RES(obj)->cpu_count);
}

int conv_container_cpu_percent(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	return get_i64(c, v, "cpu_percent", 0, 100, &RES(obj)->cpu_percent);
}

int conv_container_cpuset(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	char **s = &RES(obj)->cpuset;
	int rc = get_str(c, v, "cpuset", s);

	if (!rc && strspn(*s, "0123456789,-") != strlen(*s))
		rc = mf_err(c, v, "invalid cpuset '%.80s' (0-3, 0,1)", *s);
	return rc;
}

int conv_container_pids_limit(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return get_i64(c, v, "pids_limit", -1, LONG_MAX, &RES(obj)->pids_limit);
}

int conv_container_oom_score_adj(struct mf_conv *c, void *obj,
                                 const struct ynode *k, const struct ynode *v)
{
	return get_i64(c, v, "oom_score_adj", -1000, 1000,
	               &RES(obj)->oom_score_adj);
}

int conv_container_oom_kill_disable(struct mf_conv *c, void *obj,
                                    const struct ynode *k,
                                    const struct ynode *v)
{
	return mf_get_bool(c, v, "oom_kill_disable",
	                   &RES(obj)->oom_kill_disable);
}

int conv_container_cgroup_parent(struct mf_conv *c, void *obj,
                                 const struct ynode *k, const struct ynode *v)
{
	return get_str(c, v, "cgroup_parent", &RES(obj)->cgroup_parent);
}

int conv_container_isolation(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	return get_str(c, v, "isolation", &RES(obj)->isolation);
}

/* ulimits: NAME: N (soft and hard) or {soft, hard} */
int conv_container_ulimits(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	struct mf_resources *r = RES(obj);

	r->ulimits = xcalloc(v->n / 2 + 1, sizeof(*r->ulimits));
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *name = v->items[i], *val = v->items[i + 1];
		struct mf_ulimit *u = &r->ulimits[r->nulimits];
		int rc;

		if (!strncmp(name->str, "x-", 2))
			continue;
		if (!*name->str ||
		    strspn(name->str, "abcdefghijklmnopqrstuvwxyz") !=
		            strlen(name->str))
			return mf_err(c, name, "invalid ulimit '%.80s'",
			              name->str);
		u->name = xstrdup(name->str);
		r->nulimits++;
		if (val->kind == Y_MAP) {
			rc = mf_walk_map(c, val, SEC_ULIMIT, "a ulimit", u);
			if (!rc && u->soft > u->hard && u->hard >= 0)
				rc = mf_err(c, val,
				            "ulimit '%s': soft above hard",
				            u->name);
		} else {
			rc = get_i64(c, val, u->name, -1, LONG_MAX, &u->soft);
			u->hard = u->soft;
		}
		if (rc)
			return rc;
	}
	return 0;
}

int conv_ulimit_soft(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return get_i64(c, v, "soft", -1, LONG_MAX,
	               &((struct mf_ulimit *)obj)->soft);
}

int conv_ulimit_hard(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return get_i64(c, v, "hard", -1, LONG_MAX,
	               &((struct mf_ulimit *)obj)->hard);
}

/* ---- blkio_config: ------------------------------------------------------ */

int conv_container_blkio_config(struct mf_conv *c, void *obj,
                                const struct ynode *k, const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_BLKIO, "'blkio_config'", RES(obj));
}

int conv_blkio_weight(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return get_i64(c, v, "weight", 10, 1000,
	               &((struct mf_resources *)obj)->blkio_weight);
}

static int blkio_list(struct mf_conv *c, const struct ynode *v,
                      struct mf_resources *r, size_t which, const char *what)
{
	r->blkio[which] = xcalloc(v->n + 1, sizeof(*r->blkio[which]));
	for (size_t i = 0; i < v->n; i++) {
		struct mf_blkio_device *d = &r->blkio[which][r->nblkio[which]];
		int rc;

		d->value = MF_UNSET;
		rc = mf_walk_map(c, v->items[i], SEC_BLKIO_DEV, what, d);
		r->nblkio[which]++;
		if (!rc && d->value == MF_UNSET)
			rc = mf_err(c, v->items[i], "%s has no %s", what,
			            which ? "'rate'" : "'weight'");
		if (rc)
			return rc;
	}
	return 0;
}

int conv_blkio_weight_device(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	return blkio_list(c, v, obj, 0, "'weight_device'");
}

int conv_blkio_read_bps(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return blkio_list(c, v, obj, 1, "'device_read_bps'");
}

int conv_blkio_write_bps(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return blkio_list(c, v, obj, 2, "'device_write_bps'");
}

int conv_blkio_read_iops(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return blkio_list(c, v, obj, 3, "'device_read_iops'");
}

int conv_blkio_write_iops(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return blkio_list(c, v, obj, 4, "'device_write_iops'");
}

int conv_blkio_dev_path(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return get_str(c, v, "path", &((struct mf_blkio_device *)obj)->path);
}

int conv_blkio_dev_rate(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return mf_get_bytes(c, v, "rate",
	                    &((struct mf_blkio_device *)obj)->value);
}

int conv_blkio_dev_weight(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return get_i64(c, v, "weight", 10, 1000,
	               &((struct mf_blkio_device *)obj)->value);
}

/* ---- deploy: ------------------------------------------------------------ */

int conv_container_deploy(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	struct mf_unit *u = obj;

	u->deploy_at = v;
	u->deploy_cpus = u->deploy_memory = u->deploy_pids =
	        u->deploy_reservation = MF_UNSET;
	return mf_walk_map(c, v, SEC_DEPLOY, "'deploy'", u);
}

int conv_deploy_resources(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_RESOURCES, "'resources'", obj);
}

int conv_resources_limits(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_LIMITS, "'limits'", obj);
}

int conv_resources_reservations(struct mf_conv *c, void *obj,
                                const struct ynode *k, const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_RESERVE, "'reservations'", obj);
}

int conv_limits_cpus(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return get_cpus(c, v, "cpus", &UNIT(obj)->deploy_cpus);
}

int conv_limits_memory(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_bytes(c, v, "memory", &UNIT(obj)->deploy_memory);
}

int conv_limits_pids(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return get_i64(c, v, "pids", -1, LONG_MAX, &UNIT(obj)->deploy_pids);
}

int conv_reserve_memory(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return mf_get_bytes(c, v, "memory", &UNIT(obj)->deploy_reservation);
}

static int device_requests(struct mf_conv *c, struct mf_container *ct,
                           const struct ynode *v, int need_caps)
{
	ct->device_requests = xrealloc(ct->device_requests,
	                               (ct->ndevice_requests + v->n + 1) *
	                                       sizeof(*ct->device_requests));
	for (size_t i = 0; i < v->n; i++) {
		struct mf_device_request *d =
		        &ct->device_requests[ct->ndevice_requests++];
		int rc;

		memset(d, 0, sizeof(*d));
		d->count = -1;
		rc = mf_walk_map(c, v->items[i], SEC_GPU, "a device", d);
		if (!rc && need_caps && !d->capabilities.n)
			rc = mf_err(c, v->items[i],
			            "a device has no 'capabilities'");
		if (!rc && d->device_ids.n && d->count > 0)
			rc = mf_err(c, v->items[i],
			            "'count' and 'device_ids' cannot go "
			            "together");
		if (!rc && d->device_ids.n)
			d->count = 0;
		if (rc)
			return rc;
	}
	return 0;
}

int conv_reserve_devices(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return device_requests(c, CT(obj), v, 1);
}

/* gpus: all, or [{count, device_ids, capabilities, driver, options}] */
int conv_container_gpus(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	struct mf_container *ct = CT(obj);

	if (v->kind == Y_SCALAR) {
		struct mf_device_request *d;

		if (strcmp(v->str, "all"))
			return mf_err(c, v, "'gpus' must be 'all' or a list");
		ct->device_requests =
		        xrealloc(ct->device_requests,
		                 (ct->ndevice_requests + 1) *
		                         sizeof(*ct->device_requests));
		d = &ct->device_requests[ct->ndevice_requests++];
		memset(d, 0, sizeof(*d));
		d->count = -1;
		strvec_push(&d->capabilities, "gpu");
		return 0;
	}
	if (v->kind != Y_SEQ)
		return mf_err(c, v, "'gpus' must be 'all' or a list");
	{
		size_t first = ct->ndevice_requests;
		int rc = device_requests(c, ct, v, 0);

		for (size_t i = first; !rc && i < ct->ndevice_requests; i++)
			if (!ct->device_requests[i].capabilities.n)
				strvec_push(
				        &ct->device_requests[i].capabilities,
				        "gpu");
		return rc;
	}
}

int conv_gpu_capabilities(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return mf_get_strings(c, v, "capabilities",
	                      &((struct mf_device_request *)obj)->capabilities);
}

int conv_gpu_count(struct mf_conv *c, void *obj, const struct ynode *k,
                   const struct ynode *v)
{
	struct mf_device_request *d = obj;

	if (v->kind == Y_SCALAR && !strcmp(v->str, "all")) {
		d->count = -1;
		return 0;
	}
	return mf_get_int(c, v, "count", 1, INT_MAX, &d->count);
}

int conv_gpu_device_ids(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return mf_get_strings(c, v, "device_ids",
	                      &((struct mf_device_request *)obj)->device_ids);
}

int conv_gpu_driver(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	return get_str(c, v, "driver",
	               &((struct mf_device_request *)obj)->driver);
}

int conv_gpu_options(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return mf_get_kvs(c, v, "options", "",
	                  &((struct mf_device_request *)obj)->options);
}

/* deploy: restart_policy: {condition, max_attempts} -> restart's value */
struct restart_policy {
	char *condition;
	long max;
};

int conv_deploy_restart_policy(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	struct mf_unit *u = obj;
	struct restart_policy p = { NULL, -1 };
	int rc = mf_walk_map(c, v, SEC_RESTART, "'restart_policy'", &p);

	if (!rc) {
		const char *cond = p.condition ? p.condition : "any";

		free(u->deploy_restart);
		if (!strcmp(cond, "none"))
			u->deploy_restart = xstrdup("no");
		else if (!strcmp(cond, "any"))
			u->deploy_restart = xstrdup("always");
		else if (p.max >= 0)
			u->deploy_restart = xasprintf("on-failure:%ld", p.max);
		else
			u->deploy_restart = xstrdup("on-failure");
	}
	free(p.condition);
	return rc;
}

int conv_restart_condition(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	struct restart_policy *p = obj;
	int rc = get_str(c, v, "condition", &p->condition);

	if (!rc && strcmp(p->condition, "none") &&
	    strcmp(p->condition, "on-failure") && strcmp(p->condition, "any"))
		rc = mf_err(c, v,
		            "unknown restart condition '%.80s' (none, "
		            "on-failure or any)",
		            p->condition);
	return rc;
}

int conv_restart_max_attempts(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return mf_get_int(c, v, "max_attempts", 0, INT_MAX,
	                  &((struct restart_policy *)obj)->max);
}

/* ---- hooks ----------------------------------------------------------------- */

static int get_hooks(struct mf_conv *c, const struct ynode *v,
                     struct mf_hook **out, size_t *n)
{
	*out = xcalloc(v->n + 1, sizeof(**out));
	for (size_t i = 0; i < v->n; i++) {
		struct mf_hook *h = &(*out)[(*n)++];
		int rc;

		h->line = v->items[i]->line;
		h->col = v->items[i]->col;
		if (v->items[i]->kind != Y_MAP)
			return mf_err(c, v->items[i],
			              "a hook must be a mapping {command, "
			              "user, working_dir, environment}");
		rc = mf_walk_map(c, v->items[i], SEC_HOOK, "a hook", h);
		if (!rc && !h->command.n)
			rc = mf_err(c, v->items[i], "a hook has no command");
		if (rc)
			return rc;
	}
	return 0;
}

int conv_container_post_start(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	return get_hooks(c, v, &CT(obj)->post_start, &CT(obj)->npost_start);
}

int conv_container_pre_stop(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	return get_hooks(c, v, &CT(obj)->pre_stop, &CT(obj)->npre_stop);
}

int conv_hook_command(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return mf_get_command(c, v, "command",
	                      &((struct mf_hook *)obj)->command);
}

int conv_hook_user(struct mf_conv *c, void *obj, const struct ynode *k,
                   const struct ynode *v)
{
	return get_str(c, v, "user", &((struct mf_hook *)obj)->user);
}

int conv_hook_working_dir(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return get_str(c, v, "working_dir",
	               &((struct mf_hook *)obj)->working_dir);
}

int conv_hook_environment(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return mf_get_kvs(c, v, "environment", NULL,
	                  &((struct mf_hook *)obj)->environment);
}

int conv_hook_privileged(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return mf_get_bool(c, v, "privileged",
	                   &((struct mf_hook *)obj)->privileged);
}

/* ---- build: the keys beyond context, dockerfile, args, target ------------ */

int conv_build_dockerfile_inline(struct mf_conv *c, void *obj,
                                 const struct ynode *k, const struct ynode *v)
{
	struct mf_build *b = obj;
	int rc =
	        mf_get_string(c, v, "dockerfile_inline", &b->dockerfile_inline);

	if (!rc && !*b->dockerfile_inline)
		rc = mf_err(c, v, "'dockerfile_inline' is empty");
	return rc;
}

int conv_build_network(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	struct mf_build *b = obj;
	int rc = get_str(c, v, "network", &b->network);

	if (!rc && !strcmp(b->network, "host"))
		rc = mf_host_privilege(c, v, "network: host",
		                       "(the build's RUN steps) the host's "
		                       "network");
	return rc;
}

int conv_build_extra_hosts(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	return get_extra_hosts(c, v, &((struct mf_build *)obj)->extra_hosts);
}

int conv_build_labels(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return mf_get_kvs(c, v, "labels", "",
	                  &((struct mf_build *)obj)->labels);
}

int conv_build_secrets(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	struct mf_build *b = obj;

	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *e = v->items[i];
		const struct ynode *src =
		        e->kind == Y_MAP ? ymap_get(e, "source") : e;
		char *name = NULL;
		int rc;

		if (!src)
			return mf_err(c, e, "a build secret has no 'source'");
		rc = mf_get_string(c, src, "source", &name);
		if (!rc && strindex_get(&c->secret_ix, name) < 0)
			rc = mf_err(c, src,
			            "secret '%.80s' is not declared in the "
			            "top-level 'secrets'",
			            name);
		if (rc) {
			free(name);
			return rc;
		}
		strvec_push_nodup(&b->secrets, name);
	}
	return conv_build_buildkit(c, obj, k, v);
}

/*
 * secrets, ssh, entitlements, privileged: BuildKit's. Accepted, with a
 * warning now; the build itself is refused (images.c), since the
 * engine's classic builder would fail on them or ignore them.
 */
int conv_build_buildkit(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	struct mf_build *b = obj;

	if (!b->buildkit)
		b->buildkit = xstrdup(k->str);
	mf_warn(c, k,
	        "'build.%s' needs BuildKit, which orchestrate's builder (the "
	        "engine's classic one) does not use: building this image "
	        "fails",
	        k->str);
	return 0;
}

/* NAME: a directory (relative to the file), or docker-image://REF */
int conv_build_additional_contexts(struct mf_conv *c, void *obj,
                                   const struct ynode *k, const struct ynode *v)
{
	struct mf_build *b = obj;
	struct mf_kvs kv = { 0 };
	int rc = mf_get_kvs(c, v, "additional_contexts", "", &kv);

	b->contexts = xcalloc(kv.n + 1, sizeof(*b->contexts));
	for (size_t i = 0; !rc && i < kv.n; i++) {
		const char *name = kv.items[i].key, *val = kv.items[i].value;
		struct mf_context *x = &b->contexts[b->ncontexts];
		struct stat st;

		if (!mf_valid_name(name) || strchr(name, '.')) {
			rc = mf_err(c, v, "invalid context name '%.80s'", name);
			break;
		}
		if (!val || !*val) {
			rc = mf_err(c, v, "context '%s' has no value", name);
			break;
		}
		x->name = xstrdup(name);
		b->ncontexts++;
		if (!strncmp(val, "docker-image://", 15)) {
			x->image = xstrdup(val + 15);
			if (reference_check_image(x->image))
				rc = mf_err(c, v, "context '%s': %s", name,
				            orch_error_last());
			continue;
		}
		if (!strncmp(val, "service:", 8)) {
			/* resolved once every service is read */
			x->service = xstrdup(val + 8);
			mf_add_context_ref(c, v, x);
			continue;
		}
		if (strstr(val, "://") || !strncmp(val, "git@", 4)) {
			rc = mf_err(c, v,
			            "context '%s': remote contexts are not "
			            "supported",
			            name);
			break;
		}
		x->dir = mf_resolve_path(c, v, val);
		if (stat(x->dir, &st) || !S_ISDIR(st.st_mode))
			rc = mf_err(c, v,
			            "context '%s': '%.80s' is not a directory",
			            name, val);
	}
	mf_kvs_release(&kv);
	return rc;
}

/* ---- secrets and configs ------------------------------------------------- */

int conv_secret_file(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	struct mf_secret *s = obj;
	struct stat st;
	char *given = NULL;
	int rc = get_str(c, v, "file", &given);

	if (rc)
		return rc;
	free(s->file);
	s->file = mf_resolve_path(c, v, given);
	if (stat(s->file, &st))
		rc = mf_err(c, v, "file '%.80s' not found", given);
	else if (S_ISDIR(st.st_mode))
		rc = mf_err(c, v, "'%.80s' is a directory", given);
	free(given);
	return rc;
}

int conv_secret_environment(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	struct mf_secret *s = obj;
	const struct mf_vars *vars = c->vars[c->files[v->file].vars];
	const char *val;
	int rc = get_str(c, v, "environment", &s->env);

	if (rc)
		return rc;
	val = mf_var_get(vars, s->env);
	if (!val)
		mf_warn(c, v, "variable '%s' is not set: the value is empty",
		        s->env);
	free(s->content);
	s->content = xstrdup(val ? val : "");
	return 0;
}

int conv_config_content(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return mf_get_string(c, v, "content",
	                     &((struct mf_secret *)obj)->content);
}

int mf_load_secrets(struct mf_conv *c, const struct ynode *map, int is_secret)
{
	struct manifest *m = c->m;
	struct mf_secret **arr = is_secret ? &m->secrets : &m->configs;
	size_t *n = is_secret ? &m->nsecrets : &m->nconfigs;
	struct strindex *ix = is_secret ? &c->secret_ix : &c->config_ix;
	const char *kind = is_secret ? "secret" : "config";

	*arr = xcalloc(map->n / 2 + 1, sizeof(**arr));
	strindex_init(ix, map->n / 2 + 1);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		struct mf_secret *s;
		char *owner;
		int rc, sources;

		if (!strncmp(k->str, "x-", 2) || v->tag == YTAG_RESET)
			continue;
		rc = mf_check_name(c, k, kind);
		if (rc)
			return rc;
		if (v->kind != Y_MAP)
			return mf_err(c, ynode_is_null(v) ? k : v,
			              "%s '%s' must be a mapping (file, "
			              "environment%s)",
			              kind, k->str,
			              is_secret ? "" : " or content");
		s = &(*arr)[(*n)++];
		s->name = xstrdup(k->str);
		owner = xasprintf("%s '%s'", kind, k->str);
		/* its messages name it, as a service's do */
		c->unit = owner;
		rc = mf_walk_map(c, v, is_secret ? SEC_SECRET : SEC_CONFIG,
		                 owner, s);
		c->unit = NULL;
		free(owner);
		if (rc)
			return rc;
		sources = !!s->file + !!s->env +
		          (!is_secret && s->content && !s->env);
		if (sources != 1)
			return mf_err(c, k,
			              "%s '%s' needs exactly one of 'file', "
			              "'environment'%s",
			              kind, s->name,
			              is_secret ? "" : " or 'content'");
		strindex_put(ix, s->name, *n - 1);
	}
	return 0;
}

/* ---- a service's secrets and configs ------------------------------------- */

int conv_file_ref_source(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return get_str(c, v, "source", &((struct mf_file_ref *)obj)->name);
}

int conv_file_ref_target(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return get_str(c, v, "target", &((struct mf_file_ref *)obj)->target);
}

static int get_id(struct mf_conv *c, const struct ynode *v, const char *what,
                  long *out)
{
	return mf_get_int(c, v, what, 0, INT_MAX, out);
}

int conv_file_ref_uid(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return get_id(c, v, "uid", &((struct mf_file_ref *)obj)->uid);
}

int conv_file_ref_gid(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return get_id(c, v, "gid", &((struct mf_file_ref *)obj)->gid);
}

/* 0440, 0o440 or "440" (octal, as Compose reads YAML 1.1 numbers) */
int conv_file_ref_mode(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	char *s = NULL, *end;
	const char *p;
	long m;
	int rc = mf_get_string(c, v, "mode", &s);

	if (rc)
		return rc;
	p = !strncmp(s, "0o", 2) ? s + 2 : s;
	m = strtol(p, &end, 8);
	if (!*p || *end || m < 0 || m > 07777)
		rc = mf_err(c, v,
		            "'mode' must be an octal file mode, not '%.80s'",
		            s);
	else
		((struct mf_file_ref *)obj)->mode = (int)m;
	free(s);
	return rc;
}

static int file_refs(struct mf_conv *c, struct mf_container *ct,
                     const struct ynode *v, int is_secret)
{
	struct manifest *m = c->m;
	const char *kind = is_secret ? "secret" : "config";

	ct->files = xrealloc(ct->files,
	                     (ct->nfiles + v->n + 1) * sizeof(*ct->files));
	for (size_t i = 0; i < v->n; i++) {
		const struct ynode *e = v->items[i];
		struct mf_file_ref *f = &ct->files[ct->nfiles];
		const struct mf_secret *top;
		long ix;
		int rc;

		memset(f, 0, sizeof(*f));
		f->uid = f->gid = -1;
		f->mode = -1;
		f->is_secret = is_secret;
		ct->nfiles++;
		if (e->kind == Y_MAP)
			rc = mf_walk_map(c, e, SEC_FILE_REF,
			                 is_secret ? "a secret" : "a config",
			                 f);
		else
			rc = get_str(c, e, kind, &f->name);
		if (rc)
			return rc;
		ix = strindex_get(is_secret ? &c->secret_ix : &c->config_ix,
		                  f->name);
		if (ix < 0)
			return mf_err(c, e,
			              "%s '%.80s' is not declared in the "
			              "top-level '%ss'",
			              kind, f->name, kind);
		top = is_secret ? &m->secrets[ix] : &m->configs[ix];
		if (!f->target)
			f->target = xasprintf("%s/%s",
			                      is_secret ? "/run/secrets" : "",
			                      f->name);
		else if (f->target[0] != '/') {
			char *t = xasprintf("%s/%s",
			                    is_secret ? "/run/secrets" : "",
			                    f->target);

			free(f->target);
			f->target = t;
		}
		if (top->file) {
			f->source_path = xstrdup(top->file);
			/* a bind mount keeps the file's owner and mode */
			if (f->uid >= 0 || f->gid >= 0 || f->mode >= 0)
				mf_warn(c, e,
				        "%s '%s': uid, gid and mode apply to "
				        "values copied in, not to a file, "
				        "which is bind-mounted as it is",
				        kind, f->name);
		} else {
			f->content = xstrdup(top->content ? top->content : "");
		}
		if (f->mode < 0)
			f->mode = 0444;
	}
	return 0;
}

int conv_container_secrets(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	return file_refs(c, CT(obj), v, 1);
}

int conv_container_configs(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	return file_refs(c, CT(obj), v, 0);
}

/* ---- references between services ------------------------------------------ */

int mf_resolve_refs(struct mf_conv *c)
{
	struct manifest *m = c->m;
	struct strindex ix;
	int rc = 0;

	strindex_init(&ix, m->nservices);
	for (size_t i = 0; i < m->nservices; i++)
		strindex_put(&ix, m->services[i].name, i);
	for (size_t i = 0; i < c->nrefs && !rc; i++) {
		struct mf_ref *r = &c->refs[i];
		struct mf_service *s = &m->services[r->service];
		long t = strindex_get(&ix, r->target);

		if (t < 0) {
			rc = orch_error_at(mf_origin(c, r->at), r->at->line,
			                   r->at->col,
			                   "service '%s': %s names undefined "
			                   "service '%.80s'",
			                   s->name, r->what, r->target);
			break;
		}
		if ((size_t)t == r->service) {
			rc = orch_error_at(mf_origin(c, r->at), r->at->line,
			                   r->at->col,
			                   "service '%s': %s names the service "
			                   "itself",
			                   s->name, r->what);
			break;
		}
		mf_add_implicit_dep(c, s, r->at, r->target,
		                    strcmp(r->what, "links") != 0);
		if (r->alias) {
			struct mf_service *ts = &m->services[t];

			if (strvec_find(&ts->real.aliases, r->alias) < 0)
				strvec_push(&ts->real.aliases, r->alias);
			if (ts->stub &&
			    strvec_find(&ts->stub->aliases, r->alias) < 0)
				strvec_push(&ts->stub->aliases, r->alias);
		}
	}
	strindex_release(&ix);
	return rc; /* the refs go with the rest in mf_conv_release() */
}

/* ---- build contexts naming services --------------------------------------- */

void mf_add_context_ref(struct mf_conv *c, const struct ynode *at,
                        struct mf_context *x)
{
	ALLOC_GROW(c->ctx_refs, c->nctx_refs + 1, c->actx_refs);
	c->ctx_refs[c->nctx_refs].at = at;
	c->ctx_refs[c->nctx_refs].ctx = x;
	c->ctx_refs[c->nctx_refs].unit = c->unit ? xstrdup(c->unit) : NULL;
	c->nctx_refs++;
}

/* Does the build b reach target through service: contexts? */
static int build_reaches(const struct mf_build *b,
                         const struct mf_build *target, size_t depth)
{
	if (!b || depth > 64)
		return depth > 64;
	if (b == target)
		return 1;
	for (size_t i = 0; i < b->ncontexts; i++)
		if (build_reaches(b->contexts[i].service_build, target,
		                  depth + 1))
			return 1;
	return 0;
}

/* service:NAME: that service's build, or the image it names. */
static int resolve_context(struct mf_conv *c, const struct mf_ctx_ref *ref)
{
	struct mf_context *x = ref->ctx;
	int t = manifest_service_index(c->m, x->service);
	const struct mf_service *ts = t < 0 ? NULL : &c->m->services[t];

	if (!ts)
		return mf_err(c, ref->at,
		              "context '%s': service '%.80s' is not defined",
		              x->name, x->service);
	if (ts->has_real && ts->real.build)
		x->service_build = ts->real.build;
	else if (ts->has_real && ts->real.image)
		x->image = xstrdup(ts->real.image);
	else
		return mf_err(
		        c, ref->at,
		        "context '%s': service '%s' has no image or build "
		        "of its own",
		        x->name, x->service);
	return 0;
}

/* A build made, through service: contexts, from itself never ends. */
static int context_cycle(struct mf_conv *c, const struct mf_ctx_ref *ref)
{
	const struct mf_context *x = ref->ctx;

	for (size_t s = 0; x->service_build && s < c->m->nservices; s++) {
		const struct mf_build *b = c->m->services[s].real.build;
		int own = 0;

		for (size_t k = 0; b && k < b->ncontexts; k++)
			own |= &b->contexts[k] == x;
		if (own && build_reaches(x->service_build, b, 0))
			return mf_err(
			        c, ref->at,
			        "context '%s': service '%s' is built from "
			        "this build itself",
			        x->name, x->service);
	}
	return 0;
}

/*
 * service:NAME contexts, once every service is read: NAME's build (built
 * first, by images.c) or its image; a service without either, or a
 * cycle, is an error naming the service whose build it is.
 */
int mf_resolve_context_refs(struct mf_conv *c)
{
	int rc = 0;

	for (size_t i = 0; i < c->nctx_refs && !rc; i++) {
		c->unit = c->ctx_refs[i].unit;
		rc = resolve_context(c, &c->ctx_refs[i]);
	}
	for (size_t i = 0; i < c->nctx_refs && !rc; i++) {
		c->unit = c->ctx_refs[i].unit;
		rc = context_cycle(c, &c->ctx_refs[i]);
	}
	c->unit = NULL;
	return rc;
}
