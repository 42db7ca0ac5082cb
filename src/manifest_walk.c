/*
 * manifest_walk.c: the YAML tree -> struct manifest, driven by the schema
 * table (schema.c; the files of the loader are listed in manifest_int.h).
 *
 * walk() reads one mapping with the table: x- keys skipped, an unknown
 * key an error with a suggestion, an ignored key a warning, a rejected
 * key an error with the reason, the shape of each value checked, then
 * the value handed to the converter the key's row names, in the order
 * written, then the required keys. The converters are below, by section;
 * each sees its own key alone. Once a mapping is read, its rules run
 * (manifest_check.c); once every service is, the references.
 *
 * It never parses YAML (yaml_tree.c) and never decides how two keys go
 * together (manifest_check.c); the files it reads are build contexts
 * (that they are directories) and env_file files.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "labels.h"
#include "manifest_int.h"
#include "reference.h"
#include "schema.h"

/* The document's sections, read once every top-level key is. */
struct top {
	const struct ynode *services, *suites, *volumes, *networks, *secrets,
	        *configs;
};

/* One env_file entry: a path, or {path, required}. */
struct env_file_opt {
	char *path;
	int required;
};

static int check_shape(struct mf_conv *c, const struct schema_key *e,
                       const struct ynode *v)
{
	int ok;

	switch (e->type) {
	case ST_STRING:
	case ST_INT:
	case ST_BOOL:
	case ST_DURATION:
	case ST_PORT:
		ok = v->kind == Y_SCALAR;
		break;
	case ST_MAP:
		ok = v->kind == Y_MAP;
		break;
	case ST_LIST:
		ok = v->kind == Y_SEQ;
		break;
	case ST_STRINGS:
	case ST_COMMAND:
		ok = v->kind != Y_MAP;
		break;
	case ST_KVS:
	case ST_LIST_MAP:
		ok = v->kind != Y_SCALAR;
		break;
	case ST_STR_MAP:
	case ST_INT_MAP:
		ok = v->kind != Y_SEQ;
		break;
	default:
		ok = 1;
	}
	if (ok)
		return 0;
	return mf_err(c, v, "'%s' must be %s", e->key,
	              schema_type_name(e->type));
}

/*
 * Walk a mapping of section sec into obj (schema.h says which object a
 * section fills): every key with a non-null value to its converter, in
 * the order written, then the required keys. owner names the mapping in
 * messages.
 */
int mf_walk_map(struct mf_conv *c, const struct ynode *map,
                enum schema_section sec, const char *owner, void *obj)
{
	size_t ntable;
	const struct schema_key *table = schema_table(&ntable);
	int rc;

	if (map->kind != Y_MAP)
		return mf_err(c, map, "%s must be a mapping", owner);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		const struct schema_key *e;

		if (!strncmp(k->str, "x-", 2))
			continue;
		/* !reset: as if the key were not there (manifest_merge.c) */
		if (v->tag == YTAG_RESET)
			continue;
		e = schema_find(sec, k->str);
		if (!e) {
			const char *s = schema_suggest(sec, k->str);

			if (s)
				return mf_err(
				        c, k,
				        "unknown key '%.80s' (did you mean "
				        "'%s'?)",
				        k->str, s);
			if (c->unit)
				return mf_err(c, k, "unknown key '%.80s'",
				              k->str);
			return mf_err(c, k, "unknown key '%.80s' in %s", k->str,
			              owner);
		}
		if (e->use == SU_QUIET)
			continue;
		if (e->use == SU_WARN) {
			char *id = xasprintf("%d:%s", (int)sec, e->key);

			/* once per key: twenty 'restart:' lines help no one */
			if (strvec_find(&c->warned, id) >= 0) {
				free(id);
				continue;
			}
			strvec_push_nodup(&c->warned, id);
			if (e->help)
				mf_warn(c, k, "'%s' is ignored (%s)", e->key,
				        e->help);
			else
				mf_warn(c, k, "'%s' is ignored", e->key);
			continue;
		}
		if (e->use == SU_REJECT)
			return mf_err(c, k, "'%s' is not supported (%s)",
			              e->key, e->help);
		if (ynode_is_null(v))
			continue;
		if (e->flags & SCHEMA_HOST) {
			rc = mf_host_privilege(c, k, e->key, e->help);
			if (rc)
				return rc;
		}
		/* never dropped in silence (test-manifest.c checks the table) */
		if (!e->convert)
			return orch_error_code(
			        ORCH_ERROR,
			        "%s:%d:%d: '%s' has no converter in "
			        "the schema table",
			        mf_origin(c, k), k->line, k->col, e->key);
		rc = check_shape(c, e, v);
		if (!rc)
			rc = e->convert(c, obj, k, v);
		if (rc)
			return rc;
	}
	for (size_t t = 0; t < ntable; t++) {
		int found = 0;

		if (table[t].section != sec ||
		    !(table[t].flags & SCHEMA_REQUIRED))
			continue;
		for (size_t i = 0; i + 1 < map->n && !found; i += 2)
			found = !strcmp(map->items[i]->str, table[t].key) &&
			        !ynode_is_null(map->items[i + 1]) &&
			        map->items[i + 1]->tag != YTAG_RESET;
		if (!found)
			return mf_err(c, map, "%s has no '%s'", owner,
			              table[t].key);
	}
	return 0;
}

/* ---- the document ----------------------------------------------------- */

static const char *const strategies[] = { "big-bang", "incremental",
	                                  "bottom-up", "top-down", "sandwich" };

int conv_top_name(struct mf_conv *c, void *obj, const struct ynode *k,
                  const struct ynode *v)
{
	int rc = mf_get_string(c, v, "name", &c->m->name);

	if (!rc && !project_name_valid(c->m->name))
		rc = mf_err(c, v,
		            "invalid project name '%.80s' (lower case "
		            "letters, digits, '-' and '_', starting with a "
		            "letter or digit)",
		            c->m->name);
	return rc;
}

int conv_top_strategy(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	const char *s;
	int rc;

	rc = mf_get_string(c, v, "strategy", &c->m->strategy);
	if (rc)
		return rc;
	for (size_t i = 0; i < 5; i++)
		if (!strcmp(c->m->strategy, strategies[i]))
			return 0;
	s = mf_closest(c->m->strategy, strategies, 5);
	if (s)
		return mf_err(c, v,
		              "unknown strategy '%.80s' (did you mean '%s'?)",
		              c->m->strategy, s);
	return mf_err(c, v,
	              "unknown strategy '%.80s' (big-bang, incremental, "
	              "bottom-up, top-down or sandwich)",
	              c->m->strategy);
}

/* Variable names, as environment: would take them. */
int conv_top_mask(struct mf_conv *c, void *obj, const struct ynode *k,
                  const struct ynode *v)
{
	int rc = mf_get_strings(c, v, "mask", &c->m->mask);

	for (size_t i = 0; !rc && i < c->m->mask.n; i++)
		if (!*c->m->mask.v[i] || strchr(c->m->mask.v[i], '='))
			rc = mf_err(c, v,
			            "'mask' entries are variable names, not "
			            "'%.80s'",
			            c->m->mask.v[i]);
	return rc;
}

/* Sections are read after the document's keys: volumes, services, suites. */
int conv_top_services(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	((struct top *)obj)->services = v;
	return 0;
}

int conv_top_volumes(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	((struct top *)obj)->volumes = v;
	return 0;
}

int conv_top_suites(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	((struct top *)obj)->suites = v;
	return 0;
}

int conv_top_networks(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	((struct top *)obj)->networks = v;
	return 0;
}

int conv_top_secrets(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	((struct top *)obj)->secrets = v;
	return 0;
}

int conv_top_configs(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	((struct top *)obj)->configs = v;
	return 0;
}

/* external: true, or the old form {name: NAME} */
int conv_network_external(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	struct mf_netdecl *d = obj;

	if (v->kind != Y_MAP)
		return mf_get_bool(c, v, "external", &d->external);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		int rc;

		if (strcmp(v->items[i]->str, "name"))
			return mf_err(c, v->items[i],
			              "unknown key '%.80s' in 'external' "
			              "(true, false or {name: NAME})",
			              v->items[i]->str);
		rc = mf_get_string(c, v->items[i + 1], "name", &d->name);
		if (rc)
			return rc;
		d->name_at = v->items[i + 1];
	}
	d->external = 1;
	return 0;
}

int conv_network_name(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	struct mf_netdecl *d = obj;

	d->name_at = v;
	return mf_get_string(c, v, "name", &d->name);
}

int conv_xorch_allow_host(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return mf_get_bool(c, v, "allow-host-privileges",
	                   &((struct manifest *)obj)->allow_host_privileges);
}

/* ---- build: ----------------------------------------------------------- */

int conv_build_context(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_string(c, v, "context",
	                     &((struct mf_build *)obj)->context);
}

int conv_build_dockerfile(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return mf_get_string(c, v, "dockerfile",
	                     &((struct mf_build *)obj)->dockerfile);
}

int conv_build_args(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	return mf_get_kvs(c, v, "args", NULL, &((struct mf_build *)obj)->args);
}

int conv_build_target(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return mf_get_string(c, v, "target", &((struct mf_build *)obj)->target);
}

/* A context directory, or the mapping; the context made absolute. */
static int get_build(struct mf_conv *c, const struct ynode *v,
                     struct mf_build **out)
{
	struct mf_build *b = xcalloc(1, sizeof(*b));
	struct stat st;
	char *given;
	int rc;

	*out = b;
	if (v->kind == Y_SCALAR)
		rc = mf_get_string(c, v, "build", &b->context);
	else
		rc = mf_walk_map(c, v, SEC_BUILD, "'build'", b);
	if (rc)
		return rc;
	if (b->dockerfile && b->dockerfile_inline)
		return mf_err(c, v,
		              "'dockerfile' and 'dockerfile_inline' cannot go "
		              "together");
	if (!b->context || !*b->context) {
		free(b->context);
		b->context = xstrdup(".");
	}
	if (strstr(b->context, "://") || !strncmp(b->context, "git@", 4))
		return mf_err(c, v,
		              "remote build context '%s' is not supported",
		              b->context);
	given = b->context;
	b->context = mf_resolve_path(c, v, given);
	if (stat(b->context, &st))
		rc = mf_err(c, v, "build context '%s' does not exist", given);
	else if (!S_ISDIR(st.st_mode))
		rc = mf_err(c, v, "build context '%s' is not a directory",
		            given);
	free(given);
	return rc;
}

/* ---- healthcheck: ----------------------------------------------------- */

int conv_health_test(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	struct mf_healthcheck *h = obj;
	int rc;

	strvec_clear(&h->test);
	if (v->kind == Y_SCALAR) {
		char *s;

		rc = mf_scalar(c, v, "test", &s);
		if (rc)
			return rc;
		strvec_push(&h->test, "CMD-SHELL");
		strvec_push_nodup(&h->test, s);
		return 0;
	}
	rc = mf_get_strings(c, v, "test", &h->test);
	if (rc)
		return rc;
	if (!h->test.n ||
	    (strcmp(h->test.v[0], "CMD") && strcmp(h->test.v[0], "CMD-SHELL") &&
	     strcmp(h->test.v[0], "NONE")))
		return mf_err(c, v,
		              "healthcheck 'test' must start with CMD, "
		              "CMD-SHELL or NONE");
	/* [NONE] turns the healthcheck off: mf_check_healthcheck() */
	if (!strcmp(h->test.v[0], "NONE"))
		return 0;
	if (h->test.n < 2)
		return mf_err(c, v, "healthcheck 'test' has no command");
	if (!strcmp(h->test.v[0], "CMD-SHELL") && h->test.n != 2)
		return mf_err(c, v,
		              "healthcheck 'test' with CMD-SHELL takes one "
		              "string");
	return 0;
}

static int hc_duration(struct mf_conv *c, const struct ynode *v,
                       const char *key, int64_t *out)
{
	int rc = mf_get_duration(c, v, key, out);

	/* the API wants 0 (the default) or at least 1ms */
	if (!rc && *out && *out < 1000000)
		rc = mf_err(c, v, "'%s' must be 0 or at least 1ms", key);
	return rc;
}

int conv_health_interval(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return hc_duration(c, v, "interval",
	                   &((struct mf_healthcheck *)obj)->interval_ns);
}

int conv_health_timeout(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return hc_duration(c, v, "timeout",
	                   &((struct mf_healthcheck *)obj)->timeout_ns);
}

int conv_health_start_period(struct mf_conv *c, void *obj,
                             const struct ynode *k, const struct ynode *v)
{
	return hc_duration(c, v, "start_period",
	                   &((struct mf_healthcheck *)obj)->start_period_ns);
}

int conv_health_retries(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	long l;
	int rc = mf_get_int(c, v, "retries", 0, INT_MAX, &l);

	((struct mf_healthcheck *)obj)->retries = (int)l;
	return rc;
}

int conv_health_disable(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return mf_get_bool(c, v, "disable",
	                   &((struct mf_healthcheck *)obj)->disable);
}

/* ---- ready: ----------------------------------------------------------- */

int conv_ready_tcp(struct mf_conv *c, void *obj, const struct ynode *k,
                   const struct ynode *v)
{
	return mf_get_port(c, v, "tcp", &((struct mf_ready *)obj)->tcp_port);
}

int conv_http_port(struct mf_conv *c, void *obj, const struct ynode *k,
                   const struct ynode *v)
{
	return mf_get_port(c, v, "port", &((struct mf_ready *)obj)->http_port);
}

int conv_http_path(struct mf_conv *c, void *obj, const struct ynode *k,
                   const struct ynode *v)
{
	struct mf_ready *r = obj;
	int rc = mf_get_string(c, v, "path", &r->http_path);

	if (!rc && r->http_path[0] != '/')
		rc = mf_err(c, v, "http 'path' must start with '/'");
	return rc;
}

int conv_http_status(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	long l;
	int rc = mf_get_int(c, v, "status", 100, 599, &l);

	((struct mf_ready *)obj)->http_status = (int)l;
	return rc;
}

/* A port, or {port, path, status}. */
int conv_ready_http(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	struct mf_ready *r = obj;
	int rc;

	free(r->http_path);
	r->http_path = NULL;
	r->http_status = 200;
	if (v->kind == Y_SCALAR)
		rc = mf_get_port(c, v, "http", &r->http_port);
	else
		rc = mf_walk_map(c, v, SEC_HTTP, "'http'", r);
	if (!rc && !r->http_path)
		r->http_path = xstrdup("/");
	return rc;
}

int conv_ready_exec(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	struct mf_ready *r = obj;
	int rc = mf_get_command(c, v, "exec", &r->exec);

	if (!rc && !r->exec.n)
		rc = mf_err(c, v, "'exec' has no command");
	return rc;
}

int conv_ready_log(struct mf_conv *c, void *obj, const struct ynode *k,
                   const struct ynode *v)
{
	struct mf_ready *r = obj;
	int rc = mf_get_string(c, v, "log", &r->log_regex);

	return rc ? rc : mf_check_regex(c, v, r->log_regex);
}

int conv_ready_timeout(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	struct mf_ready *r = obj;
	int rc = mf_get_duration(c, v, "timeout", &r->timeout_ns);

	if (!rc && !r->timeout_ns)
		rc = mf_err(c, v, "'timeout' must be more than 0");
	return rc;
}

/* ---- ports: ----------------------------------------------------------- */

/*
 * One port entry being read: the text of its parts, then expanded into
 * mf_port entries (ranges) by add_ports().
 */
struct port_opt {
	char *ip, *host, *target, *protocol;
};

/* "A" or "A-B", 1-65535, B >= A; *b = *a for one port. */
static int port_range(const char *s, long *a, long *b)
{
	const char *dash = strchr(s, '-');
	char *first;
	int rc;

	if (!dash)
		return (rc = parse_int(s, 1, 65535, a)) ? rc : (*b = *a, 0);
	first = xstrndup(s, (size_t)(dash - s));
	rc = parse_int(first, 1, 65535, a) ||
	     parse_int(dash + 1, 1, 65535, b) || *b < *a;
	free(first);
	return rc;
}

static void push_port(struct mf_container *ct, const struct port_opt *o,
                      int host, int host_end, int target)
{
	struct mf_port *p;

	ct->ports = xrealloc(ct->ports, (ct->nports + 1) * sizeof(*ct->ports));
	p = &ct->ports[ct->nports++];
	memset(p, 0, sizeof(*p));
	p->host_ip = o->ip && *o->ip ? xstrdup(o->ip) : NULL;
	p->host_port = host;
	p->host_port_end = host_end;
	p->container_port = target;
	p->protocol =
	        xstrdup(o->protocol && *o->protocol ? o->protocol : "tcp");
}

/*
 * Ranges as Docker reads them: 8000-8002:8000-8002 is three ports, one
 * to one; 9090-9091 two ports, each published on an ephemeral one;
 * 6005-6015:80 one port published on a free one of the range.
 */
static int add_ports(struct mf_conv *c, const struct ynode *v, const char *spec,
                     const struct port_opt *o, struct mf_container *ct)
{
	long ta, tb, ha = 0, hb = 0;

	if (!o->target || port_range(o->target, &ta, &tb))
		return mf_err(c, v,
		              "invalid port '%s' (container port 1-65535, or "
		              "a range A-B)",
		              spec);
	if (o->host && *o->host && port_range(o->host, &ha, &hb))
		return mf_err(c, v,
		              "invalid port '%s' (host port 1-65535, or a "
		              "range A-B)",
		              spec);
	if (o->protocol && strcmp(o->protocol, "tcp") &&
	    strcmp(o->protocol, "udp") && strcmp(o->protocol, "sctp"))
		return mf_err(c, v, "unknown protocol '%s' (tcp, udp or sctp)",
		              o->protocol);
	if (ha && tb > ta && hb - ha != tb - ta)
		return mf_err(c, v,
		              "port '%s': the host range and the container "
		              "range differ in length",
		              spec);
	if (tb - ta >= 1024)
		return mf_err(c, v, "port '%s': more than 1024 ports", spec);
	if (tb == ta) {
		push_port(ct, o, (int)ha, hb > ha ? (int)hb : 0, (int)ta);
		return 0;
	}
	for (long t = ta; t <= tb; t++)
		push_port(ct, o, ha ? (int)(ha + (t - ta)) : 0, 0, (int)t);
	return 0;
}

int mf_port_split(char *s, char **ip, char **host, char **target, char **proto)
{
	char *last;

	*ip = *host = NULL;
	*proto = strrchr(s, '/');
	if (*proto)
		*(*proto)++ = '\0';
	last = strrchr(s, ':');
	if (!last) {
		*target = s;
		return 0;
	}
	*last++ = '\0';
	*target = last;
	*host = strrchr(s, ':');
	if (*host && s[0] != '[') {
		*(*host)++ = '\0';
		*ip = s;
	} else if (s[0] == '[') {
		/* [::1]:8080:80 */
		char *close = strchr(s, ']');

		if (!close || (close[1] && close[1] != ':'))
			return -1;
		*close = '\0';
		*ip = s + 1;
		*host = close[1] ? close + 2 : close + 1;
	} else {
		*host = s;
	}
	return 0;
}

/* "[ip:][host[-end]:]container[-end][/proto]" */
static int parse_port_short(struct mf_conv *c, const struct ynode *v,
                            const char *spec, struct port_opt *o)
{
	char *s = xstrdup(spec), *ip, *host, *target, *proto;
	int rc = 0;

	if (mf_port_split(s, &ip, &host, &target, &proto)) {
		rc = mf_err(c, v, "invalid port '%s'", spec);
	} else {
		o->target = xstrdup(target);
		o->host = host ? xstrdup(host) : NULL;
		o->ip = ip ? xstrdup(ip) : NULL;
		o->protocol = proto ? xstrdup(proto) : NULL;
	}
	free(s);
	return rc;
}

int conv_port_target(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return mf_get_string(c, v, "target", &((struct port_opt *)obj)->target);
}

int conv_port_published(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return mf_get_string(c, v, "published",
	                     &((struct port_opt *)obj)->host);
}

int conv_port_host_ip(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return mf_get_string(c, v, "host_ip", &((struct port_opt *)obj)->ip);
}

int conv_port_protocol(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_string(c, v, "protocol",
	                     &((struct port_opt *)obj)->protocol);
}

/* One entry of ports: the short syntax or the mapping, into ct. */
static int get_port_entry(struct mf_conv *c, const struct ynode *v,
                          struct mf_container *ct)
{
	struct port_opt o = { 0 };
	size_t first = ct->nports;
	char *spec = NULL;
	int rc;

	if (v->kind == Y_SEQ)
		return mf_err(c, v, "a port must be a string or a mapping");
	if (v->kind == Y_SCALAR) {
		rc = mf_scalar(c, v, "ports", &spec);
		if (!rc)
			rc = parse_port_short(c, v, spec, &o);
	} else {
		rc = mf_walk_map(c, v, SEC_PORT, "a port", &o);
		spec = xasprintf("%s%s%s:%s", o.ip ? o.ip : "", o.ip ? ":" : "",
		                 o.host ? o.host : "",
		                 o.target ? o.target : "");
	}
	if (!rc)
		rc = add_ports(c, v, spec, &o, ct);
	for (size_t i = first; !rc && i < ct->nports; i++) {
		struct mf_port *p = &ct->ports[i];

		if (p->host_ip && (!strcmp(p->host_ip, "0.0.0.0") ||
		                   !strcmp(p->host_ip, "::"))) {
			mf_warn(c, v,
			        "port %d is published on all interfaces ('%s')",
			        p->container_port, p->host_ip);
			break;
		}
	}
	free(spec);
	free(o.ip);
	free(o.host);
	free(o.target);
	free(o.protocol);
	return rc;
}

/* ---- volumes: in a service -------------------------------------------- */

int conv_mount_type(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	struct mf_mount *mt = obj;
	int rc = mf_get_string(c, v, "type", &mt->type);

	if (!rc && !strcmp(mt->type, "npipe"))
		rc = mf_err(c, v, "mount type 'npipe' is for Windows engines");
	else if (!rc && !strcmp(mt->type, "cluster"))
		rc = mf_err(c, v,
		            "mount type 'cluster' is for Swarm cluster "
		            "volumes");
	else if (!rc && strcmp(mt->type, "volume") &&
	         strcmp(mt->type, "bind") && strcmp(mt->type, "tmpfs") &&
	         strcmp(mt->type, "image"))
		rc = mf_err(c, v,
		            "unknown mount type '%s' (volume, bind, tmpfs or "
		            "image)",
		            mt->type);
	return rc;
}

int conv_mount_source(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return mf_get_string(c, v, "source", &((struct mf_mount *)obj)->source);
}

int conv_mount_target(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return mf_get_string(c, v, "target", &((struct mf_mount *)obj)->target);
}

int conv_mount_read_only(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return mf_get_bool(c, v, "read_only",
	                   &((struct mf_mount *)obj)->read_only);
}

int conv_mount_bind(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_BIND, "'bind'", obj);
}

int conv_mount_volume(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_VOLOPT, "'volume'", obj);
}

int conv_mount_tmpfs(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_TMPFSOPT, "'tmpfs'", obj);
}

int conv_mount_image(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_IMAGEOPT, "'image'", obj);
}

static const char *const propagations[] = { "shared",  "slave",  "private",
	                                    "rshared", "rslave", "rprivate" };

int conv_bind_propagation(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	struct mf_mount *mt = obj;
	int rc = mf_get_string(c, v, "propagation", &mt->propagation);

	for (size_t i = 0; !rc && i < 6; i++)
		if (!strcmp(mt->propagation, propagations[i]))
			return 0;
	return rc ? rc
	          : mf_err(c, v,
	                   "unknown propagation '%.80s' (shared, slave, "
	                   "private, rshared, rslave or rprivate)",
	                   mt->propagation);
}

int conv_bind_create_host_path(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	return mf_get_bool(c, v, "create_host_path",
	                   &((struct mf_mount *)obj)->create_host_path);
}

int conv_bind_selinux(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	struct mf_mount *mt = obj;
	int rc = mf_get_string(c, v, "selinux", &mt->selinux);

	if (!rc && strcmp(mt->selinux, "z") && strcmp(mt->selinux, "Z"))
		rc = mf_err(c, v, "'selinux' must be z or Z");
	return rc;
}

int conv_volopt_nocopy(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_bool(c, v, "nocopy", &((struct mf_mount *)obj)->nocopy);
}

int conv_volopt_subpath(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	struct mf_mount *mt = obj;
	int rc = mf_get_string(c, v, "subpath", &mt->subpath);

	if (!rc && (mt->subpath[0] == '/' || strstr(mt->subpath, "..")))
		rc = mf_err(c, v,
		            "'subpath' must be a relative path inside it");
	return rc;
}

int conv_tmpfsopt_size(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_bytes(c, v, "size",
	                    &((struct mf_mount *)obj)->tmpfs_size);
}

int conv_tmpfsopt_mode(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	char *s = NULL, *end;
	long m;
	int rc = mf_get_string(c, v, "mode", &s);

	if (rc)
		return rc;
	m = strtol(s, &end, 8);
	if (!*s || *end || m < 0 || m > 07777)
		rc = mf_err(c, v, "'mode' must be an octal file mode");
	else
		((struct mf_mount *)obj)->tmpfs_mode = (int)m;
	free(s);
	return rc;
}

/* The modes after the second colon: ro,z,nocopy,rshared... */
static int mount_modes(struct mf_conv *c, const struct ynode *v,
                       const char *spec, const char *m, struct mf_mount *mt)
{
	while (*m) {
		size_t l = strcspn(m, ",");
		char *w = xstrndup(m, l);
		int known = 1;

		if (!strcmp(w, "ro"))
			mt->read_only = 1;
		else if (!strcmp(w, "rw"))
			mt->read_only = 0;
		else if (!strcmp(w, "z") || !strcmp(w, "Z"))
			mt->selinux = xstrdup(w);
		else if (!strcmp(w, "nocopy"))
			mt->nocopy = 1;
		else if (!strcmp(w, "cached") || !strcmp(w, "delegated") ||
		         !strcmp(w, "consistent"))
			; /* Docker Desktop on macOS */
		else {
			known = 0;
			for (size_t i = 0; i < 6; i++)
				if (!strcmp(w, propagations[i])) {
					free(mt->propagation);
					mt->propagation = xstrdup(w);
					known = 1;
				}
		}
		free(w);
		if (!known)
			return mf_err(c, v,
			              "invalid mount mode '%s' in '%s' (ro, "
			              "rw, z, Z, nocopy or a propagation)",
			              m, spec);
		m += l;
		if (*m == ',')
			m++;
	}
	return 0;
}

static int mount_short(struct mf_conv *c, const struct ynode *v,
                       const char *spec, struct mf_mount *mt)
{
	struct strvec parts = STRVEC_INIT;
	const char *p = spec;
	int rc = 0;

	for (;;) {
		size_t l = strcspn(p, ":");

		strvec_push_nodup(&parts, xstrndup(p, l));
		if (!p[l])
			break;
		p += l + 1;
	}
	if (parts.n > 3 || !*parts.v[0]) {
		rc = mf_err(c, v, "invalid volume '%s' (SOURCE:TARGET[:MODE])",
		            spec);
		goto out;
	}
	if (parts.n == 1) {
		mt->type = xstrdup("volume");
		mt->target = xstrdup(parts.v[0]);
		goto out;
	}
	if (parts.n == 3) {
		rc = mount_modes(c, v, spec, parts.v[2], mt);
		if (rc)
			goto out;
	}
	p = parts.v[0];
	mt->type = xstrdup(*p == '/' || *p == '.' || *p == '~' ? "bind"
	                                                       : "volume");
	/* Compose creates a missing source of the short syntax */
	mt->create_host_path = !strcmp(mt->type, "bind");
	mt->source = xstrdup(p);
	mt->target = xstrdup(parts.v[1]);
out:
	strvec_clear(&parts);
	return rc;
}

/* One entry of volumes: the short syntax or the mapping. */
static int get_mount(struct mf_conv *c, const struct ynode *v,
                     struct mf_mount *mt)
{
	int rc;

	if (v->kind == Y_SEQ)
		return mf_err(c, v, "a volume must be a string or a mapping");
	if (v->kind == Y_SCALAR) {
		char *s;

		rc = mf_scalar(c, v, "volumes", &s);
		if (rc)
			return rc;
		rc = mount_short(c, v, s, mt);
		free(s);
	} else {
		rc = mf_walk_map(c, v, SEC_MOUNT, "a volume", mt);
	}
	if (rc)
		return rc;
	if (!strcmp(mt->type, "bind") && mt->source && *mt->source) {
		char *abs = mf_resolve_path(c, v, mt->source);

		free(mt->source);
		mt->source = abs;
	}
	return mf_check_mount(c, v, mt);
}

/* ---- env_file: -------------------------------------------------------- */

int conv_env_file_path(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_string(c, v, "path", &((struct env_file_opt *)obj)->path);
}

int conv_env_file_required(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	return mf_get_bool(c, v, "required",
	                   &((struct env_file_opt *)obj)->required);
}

/* Read a KEY=VALUE file into kv (later files and lines win). */
static int read_env_file(struct mf_conv *c, const struct ynode *v,
                         const char *given, int required, struct mf_kvs *kv)
{
	struct dotenv d = DOTENV_INIT;
	struct buf b = BUF_INIT;
	char *path = mf_resolve_path(c, v, given);
	struct stat st;
	int rc = 0, line = 0;

	if (stat(path, &st)) {
		if (required)
			rc = mf_err(c, v, "env file '%s' not found", given);
		goto out;
	}
	/* never block on a fifo or read a device */
	if (!S_ISREG(st.st_mode)) {
		rc = mf_err(c, v, "env file '%s' is not a regular file", given);
		goto out;
	}
	if (read_file(path, &b, MF_ENV_FILE_MAX)) {
		rc = mf_err(c, v, "env file '%s': %s", given,
		            orch_error_last());
		goto out;
	}
	if (dotenv_parse(buf_cstr(&b), b.len, &d, &line)) {
		rc = mf_err(c, v, "env file '%s': line %d: %s", given, line,
		            orch_error_last());
		goto out;
	}
	for (size_t i = 0; i < d.n; i++)
		mf_kvs_add(kv, d.items[i].key,
		           d.items[i].value ? xstrdup(d.items[i].value) : NULL);
out:
	dotenv_release(&d);
	buf_release(&b);
	free(path);
	return rc;
}

static int apply_env_files(struct mf_conv *c, const struct ynode *v,
                           struct mf_kvs *kv)
{
	int rc;

	if (v->kind == Y_MAP)
		return mf_err(c, v,
		              "'env_file' must be a string or a sequence");
	for (size_t i = 0; i < (v->kind == Y_SEQ ? v->n : 1); i++) {
		const struct ynode *e = v->kind == Y_SEQ ? v->items[i] : v;
		struct env_file_opt o = { NULL, 1 };

		if (e->kind == Y_MAP)
			rc = mf_walk_map(c, e, SEC_ENV_FILE, "'env_file'", &o);
		else
			rc = mf_get_string(c, e, "env_file", &o.path);
		if (!rc)
			rc = read_env_file(c, e, o.path, o.required, kv);
		free(o.path);
		if (rc)
			return rc;
	}
	return 0;
}

/* label_file: KEY=VALUE files, as env_file; labels: win over them. */
static int apply_label_files(struct mf_conv *c, const struct ynode *v,
                             struct mf_kvs *kv)
{
	struct strvec files = STRVEC_INIT;
	int rc = mf_get_strings(c, v, "label_file", &files);

	for (size_t i = 0; !rc && i < files.n; i++)
		rc = read_env_file(c, v, files.v[i], 1, kv);
	for (size_t i = 0; i < kv->n; i++)
		if (!kv->items[i].value)
			kv->items[i].value = xstrdup("");
	strvec_clear(&files);
	return rc;
}

/* ---- depends_on: ------------------------------------------------------ */

int conv_depends_condition(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	struct mf_dep *d = obj;
	char *s = NULL;
	int rc;

	rc = mf_get_string(c, v, "condition", &s);
	if (rc)
		return rc;
	if (!strcmp(s, "service_started"))
		d->condition = MF_SERVICE_STARTED;
	else if (!strcmp(s, "service_healthy"))
		d->condition = MF_SERVICE_HEALTHY;
	else if (!strcmp(s, "service_completed_successfully"))
		d->condition = MF_SERVICE_COMPLETED_SUCCESSFULLY;
	else
		rc = mf_err(
		        c, v,
		        "unknown condition '%.80s' (service_started, "
		        "service_healthy or service_completed_successfully)",
		        s);
	free(s);
	return rc;
}

int conv_depends_required(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return mf_get_bool(c, v, "required", &((struct mf_dep *)obj)->required);
}

/* Duplicates and undefined names are found once all services are read. */
static struct mf_dep *add_dep(struct mf_conv *c, struct mf_service *s,
                              const struct ynode *k, enum mf_condition cond)
{
	struct mf_dep *d;

	s->deps = xrealloc(s->deps, (s->ndeps + 1) * sizeof(*s->deps));
	d = &s->deps[s->ndeps++];
	memset(d, 0, sizeof(*d));
	d->name = xstrdup(k->str);
	d->condition = cond;
	d->required = 1;
	d->file = mf_model_file(c, k);
	d->line = k->line;
	d->col = k->col;
	return d;
}

/* A list (service_started), or a mapping of names to {condition}. */
int conv_service_depends_on(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	struct mf_unit *u = obj;
	struct mf_service *s = u->service;
	int rc;

	if (u->is_stub)
		return mf_err(c, k, "a stub cannot have 'depends_on'");
	if (v->kind == Y_SEQ) {
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->kind != Y_SCALAR)
				return mf_err(
				        c, v->items[i],
				        "'depends_on' entries must be service "
				        "names");
			add_dep(c, s, v->items[i], MF_SERVICE_STARTED);
		}
		return 0;
	}
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *dv = v->items[i + 1];
		struct mf_dep d = { 0 }, *nd;

		if (dv->tag == YTAG_RESET)
			continue;
		d.condition = MF_SERVICE_STARTED;
		d.required = 1;
		if (!ynode_is_null(dv)) {
			rc = mf_walk_map(c, dv, SEC_DEPENDS, "a dependency",
			                 &d);
			if (rc)
				return rc;
		}
		nd = add_dep(c, s, v->items[i], d.condition);
		nd->required = d.required;
	}
	return 0;
}

/* Links and the like: a dependency Compose adds, resolved later. */
void mf_add_implicit_dep(struct mf_conv *c, struct mf_service *s,
                         const struct ynode *at, const char *target,
                         int names_container)
{
	struct mf_dep *d;

	for (size_t i = 0; i < s->ndeps; i++) {
		if (!strcmp(s->deps[i].name, target)) {
			s->deps[i].names_container |= names_container;
			return;
		}
	}
	d = add_dep(c, s, at, MF_SERVICE_STARTED);
	free(d->name);
	d->name = xstrdup(target);
	d->implicit = 1;
	d->names_container = names_container;
}

/* ---- a service's, a stub's or a suite's container --------------------- */

static void container_init(struct mf_container *ct)
{
	struct mf_resources *r = &ct->res;

	memset(ct, 0, sizeof(*ct));
	ct->ready.timeout_ns = 60LL * 1000000000;
	ct->stop_grace_ns = -1;
	r->nano_cpus = r->cpu_shares = r->cpu_period = r->cpu_quota =
	        r->cpu_rt_period = r->cpu_rt_runtime = r->cpu_count =
	                r->cpu_percent = MF_UNSET;
	r->memory = r->memory_swap = r->memory_reservation =
	        r->memory_swappiness = r->shm_size = MF_UNSET;
	r->pids_limit = r->oom_score_adj = r->blkio_weight = MF_UNSET;
	r->oom_kill_disable = -1;
}

int conv_container_image(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	struct mf_container *ct = ((struct mf_unit *)obj)->ct;
	int rc = mf_get_string(c, v, "image", &ct->image);

	if (!rc && !*ct->image)
		rc = mf_err(c, v, "'image' is empty");
	/* it goes into request paths: the grammar, before anything is sent */
	if (!rc && reference_check_image(ct->image))
		rc = mf_err(c, v, "%s", orch_error_last());
	return rc;
}

int conv_container_build(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return get_build(c, v, &((struct mf_unit *)obj)->ct->build);
}

int conv_container_command(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	return mf_get_command(c, v, "command",
	                      &((struct mf_unit *)obj)->ct->command);
}

int conv_container_entrypoint(struct mf_conv *c, void *obj,
                              const struct ynode *k, const struct ynode *v)
{
	struct mf_container *ct = ((struct mf_unit *)obj)->ct;

	ct->has_entrypoint = 1;
	return mf_get_command(c, v, "entrypoint", &ct->entrypoint);
}

/* environment and env_file are read after the mapping: walk_container() */
int conv_container_environment(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	((struct mf_unit *)obj)->env = v;
	return 0;
}

int conv_container_env_file(struct mf_conv *c, void *obj, const struct ynode *k,
                            const struct ynode *v)
{
	((struct mf_unit *)obj)->env_file = v;
	return 0;
}

int conv_container_ports(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	struct mf_unit *u = obj;

	u->ports = v;
	for (size_t i = 0; i < v->n; i++) {
		int rc = get_port_entry(c, v->items[i], u->ct);

		if (rc)
			return rc;
	}
	return 0;
}

int conv_container_volumes(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	struct mf_container *ct = ((struct mf_unit *)obj)->ct;

	ct->mounts = xcalloc(v->n, sizeof(*ct->mounts));
	for (size_t i = 0; i < v->n; i++) {
		int rc = get_mount(c, v->items[i], &ct->mounts[ct->nmounts++]);

		if (rc)
			return rc;
	}
	return 0;
}

int conv_container_tmpfs(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	struct mf_container *ct = ((struct mf_unit *)obj)->ct;
	int rc = mf_get_strings(c, v, "tmpfs", &ct->tmpfs);

	for (size_t i = 0; !rc && i < ct->tmpfs.n; i++)
		if (ct->tmpfs.v[i][0] != '/')
			rc = mf_err(c, v, "tmpfs '%s' must be an absolute path",
			            ct->tmpfs.v[i]);
	return rc;
}

int conv_container_user(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return mf_get_string(c, v, "user", &((struct mf_unit *)obj)->ct->user);
}

int conv_container_working_dir(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	return mf_get_string(c, v, "working_dir",
	                     &((struct mf_unit *)obj)->ct->working_dir);
}

/* labels and label_file are read after the mapping: walk_container() */
int conv_container_labels(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	((struct mf_unit *)obj)->labels = v;
	return 0;
}

int conv_container_healthcheck(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	struct mf_healthcheck *h = &((struct mf_unit *)obj)->ct->healthcheck;

	int rc;

	h->set = 1;
	rc = mf_walk_map(c, v, SEC_HEALTHCHECK, "'healthcheck'", h);
	return rc ? rc : mf_check_healthcheck(c, h);
}

int conv_container_stop_grace_period(struct mf_conv *c, void *obj,
                                     const struct ynode *k,
                                     const struct ynode *v)
{
	return mf_get_duration(c, v, "stop_grace_period",
	                       &((struct mf_unit *)obj)->ct->stop_grace_ns);
}

int conv_container_init(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	return mf_get_bool(c, v, "init", &((struct mf_unit *)obj)->ct->init);
}

int conv_container_ready(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	return mf_walk_map(c, v, SEC_READY, "'ready'",
	                   &((struct mf_unit *)obj)->ct->ready);
}

/*
 * A service's, a stub's or a suite's mapping, then what is read after
 * it: env_file entries first, environment: overriding them.
 */
static int walk_container(struct mf_conv *c, struct mf_unit *u,
                          const struct ynode *map, enum schema_section sec,
                          const char *owner)
{
	struct mf_kvs *env =
	        u->suite ? &u->suite->environment : &u->ct->environment;
	const char *unit = c->unit;
	int rc;

	/* every message about its keys names the service (or suite) */
	c->unit = owner;
	rc = mf_walk_map(c, map, sec, owner, u);
	if (!rc && u->env_file)
		rc = apply_env_files(c, u->env_file, env);
	if (!rc && u->env)
		rc = mf_get_kvs(c, u->env, "environment", NULL, env);
	mf_kvs_dedupe(env);
	if (!rc && u->label_file)
		rc = apply_label_files(c, u->label_file, &u->ct->labels);
	if (!rc && u->labels)
		rc = mf_get_kvs(c, u->labels, "labels", "", &u->ct->labels);
	mf_kvs_dedupe(&u->ct->labels);
	if (!rc && !u->suite)
		rc = mf_check_deploy(c, u);
	free(u->deploy_restart);
	u->deploy_restart = NULL;
	c->unit = unit;
	return rc;
}

/* ---- services --------------------------------------------------------- */

/* The same keys as the service's, but depends_on and stub. */
int conv_service_stub(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	struct mf_unit *u = obj, st = { 0 };
	struct buf owner = BUF_INIT;
	int rc;

	if (u->is_stub)
		return mf_err(c, k, "a stub cannot have its own 'stub'");
	u->service->stub = xmalloc(sizeof(*u->service->stub));
	container_init(u->service->stub);
	st.service = u->service;
	st.ct = u->service->stub;
	st.index = u->index;
	st.is_stub = 1;
	buf_addf(&owner, "the stub of service '%s'", u->service->name);
	rc = walk_container(c, &st, v, SEC_SERVICE, owner.data);
	if (!rc) {
		/* its messages name the stub themselves */
		const char *unit = c->unit;

		c->unit = NULL;
		rc = mf_check_stub(c, &st, v);
		c->unit = unit;
	}
	buf_release(&owner);
	return rc;
}

static int load_service(struct mf_conv *c, const struct ynode *k,
                        const struct ynode *v, struct mf_service *s,
                        size_t index)
{
	struct mf_unit u = { 0 };
	struct buf owner = BUF_INIT;
	int rc;

	s->name = xstrdup(k->str);
	s->file = mf_model_file(c, k);
	s->line = k->line;
	s->col = k->col;
	container_init(&s->real);
	rc = mf_check_name(c, k, "service");
	if (rc)
		goto out;
	if (ynode_is_null(v)) {
		/* most often its keys were not indented below it */
		rc = mf_err(c, k,
		            "service '%s' is empty (are its keys indented "
		            "below it?)",
		            s->name);
		goto out;
	}
	if (v->kind != Y_MAP) {
		rc = mf_err(c, v, "service '%s' must be a mapping", s->name);
		goto out;
	}
	u.service = s;
	u.ct = &s->real;
	u.index = index;
	buf_addf(&owner, "service '%s'", s->name);
	rc = walk_container(c, &u, v, SEC_SERVICE, owner.data);
	if (!rc)
		rc = mf_check_service(c, &u, k);
out:
	buf_release(&owner);
	return rc;
}

/* ---- suites ----------------------------------------------------------- */

int conv_suite_targets(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	struct mf_unit *u = obj;

	u->targets = v;
	return mf_get_strings(c, v, "targets", &u->suite->targets);
}

int conv_suite_host(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	return mf_get_bool(c, v, "host", &((struct mf_unit *)obj)->suite->host);
}

/* The suite's own command, whether it runs in a container or not. */
int conv_suite_command(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_command(c, v, "command",
	                      &((struct mf_unit *)obj)->suite->command);
}

int conv_suite_timeout(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	struct mf_suite *su = ((struct mf_unit *)obj)->suite;
	int rc = mf_get_duration(c, v, "timeout", &su->timeout_ns);

	if (!rc && !su->timeout_ns)
		rc = mf_err(c, v, "'timeout' must be more than 0");
	return rc;
}

int conv_suite_retries(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	long l;
	int rc = mf_get_int(c, v, "retries", 0, 100, &l);

	((struct mf_unit *)obj)->suite->retries = (int)l;
	return rc;
}

/* Where they are (in the container, on the host) depends on 'host'. */
int conv_suite_artifacts(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	struct mf_unit *u = obj;

	u->artifacts = v;
	return mf_get_strings(c, v, "artifacts", &u->suite->artifacts);
}

int conv_suite_tags(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	return mf_get_strings(c, v, "tags",
	                      &((struct mf_unit *)obj)->suite->tags);
}

static int load_suite(struct mf_conv *c, const struct ynode *k,
                      const struct ynode *v, struct mf_suite *su)
{
	struct mf_unit u = { 0 };
	struct buf owner = BUF_INIT;
	const struct ynode *targets;
	int rc;

	su->name = xstrdup(k->str);
	su->file = mf_model_file(c, k);
	su->line = k->line;
	su->col = k->col;
	container_init(&su->container);
	su->timeout_ns = 10LL * 60 * 1000000000;
	rc = mf_check_name(c, k, "suite");
	if (rc)
		goto out;
	if (ynode_is_null(v)) {
		rc = mf_err(c, k,
		            "suite '%s' is empty (are its keys indented below "
		            "it?)",
		            su->name);
		goto out;
	}
	if (v->kind != Y_MAP) {
		rc = mf_err(c, v, "suite '%s' must be a mapping", su->name);
		goto out;
	}
	/* before any other key: a suite is first what it tests */
	targets = ymap_get(v, "targets");
	if (!targets || ynode_is_null(targets) ||
	    (targets->kind == Y_SEQ && !targets->n)) {
		rc = mf_err(c, k, "suite '%s' has no targets", su->name);
		goto out;
	}
	u.suite = su;
	u.ct = &su->container;
	buf_addf(&owner, "suite '%s'", su->name);
	rc = walk_container(c, &u, v, SEC_SUITE, owner.data);
	if (!rc)
		rc = mf_check_suite(c, &u, k);
out:
	buf_release(&owner);
	return rc;
}

/* ---- the document's sections ------------------------------------------ */

/* No key of a top-level volume is used: they only warn or are refused. */
static int load_volumes(struct mf_conv *c, const struct ynode *map)
{
	struct manifest *m = c->m;
	int rc;

	m->volumes = xcalloc(map->n / 2 + 1, sizeof(*m->volumes));
	strindex_init(&c->volume_ix, map->n / 2);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];

		if (!strncmp(k->str, "x-", 2) || v->tag == YTAG_RESET)
			continue;
		rc = mf_check_name(c, k, "volume");
		if (!rc && !ynode_is_null(v))
			rc = mf_walk_map(c, v, SEC_VOLUME, "a volume", NULL);
		if (rc)
			return rc;
		m->volumes[m->nvolumes].name = xstrdup(k->str);
		strindex_put(&c->volume_ix, m->volumes[m->nvolumes].name,
		             m->nvolumes);
		m->nvolumes++;
	}
	return 0;
}

/*
 * Top-level networks: declared, so that services may name them; the run
 * has one network of its own, which every service joins (once warned).
 * An external one is joined too, by its name, and never made or removed
 * by the run.
 */
static int load_networks(struct mf_conv *c, const struct ynode *map)
{
	int warned = 0, rc;

	strindex_init(&c->network_ix, map->n / 2 + 1);
	c->nnet_ext = map->n / 2 + 1;
	c->net_ext = xcalloc(c->nnet_ext, sizeof(*c->net_ext));
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		struct mf_netdecl d = { 0 };

		if (!strncmp(k->str, "x-", 2) || v->tag == YTAG_RESET)
			continue;
		rc = mf_check_name(c, k, "network");
		if (!rc && !ynode_is_null(v))
			rc = mf_walk_map(c, v, SEC_NETWORK, "a network", &d);
		if (!rc && d.external) {
			c->net_ext[i / 2] = d.name ? d.name : xstrdup(k->str);
			d.name = NULL;
			if (!mf_valid_name(c->net_ext[i / 2]))
				rc = mf_err(
				        c, d.name_at ? d.name_at : k,
				        "invalid network name '%.80s' "
				        "(letters, digits, '_', '.' and '-')",
				        c->net_ext[i / 2]);
		} else if (!rc && d.name &&
		           strvec_find(&c->warned, "network name") < 0) {
			strvec_push(&c->warned, "network name");
			mf_warn(c, d.name_at,
			        "'name' is ignored (every run has one network "
			        "of its own)");
		}
		free(d.name);
		if (rc)
			return rc;
		strindex_put(&c->network_ix, k->str, i / 2);
		if (!d.external && !warned++ && strcmp(k->str, "default"))
			mf_warn(c, k,
			        "networks are joined into one: every run has "
			        "its own network, which all services join");
	}
	return 0;
}

/* The engine name of network NAME when it is external, else NULL. */
const char *mf_network_external(const struct mf_conv *c, const char *name)
{
	long i = c->net_ext ? strindex_get(&c->network_ix, name) : -1;

	return i >= 0 && (size_t)i < c->nnet_ext ? c->net_ext[i] : NULL;
}

/* A service is active when it has no profiles or one is active. */
static int service_active(const struct mf_conv *c, const struct mf_service *s)
{
	if (!s->profiles.n)
		return 1;
	for (size_t i = 0; i < c->nprofiles; i++) {
		if (!strcmp(c->profiles[i], "*"))
			return 1;
		if (strvec_find(&s->profiles, c->profiles[i]) >= 0)
			return 1;
	}
	return 0;
}

static void profiles_text(const struct mf_service *s, struct buf *b)
{
	for (size_t i = 0; i < s->profiles.n; i++)
		buf_addf(b, "%s%s", i ? ", " : "", s->profiles.v[i]);
}

/*
 * Profiles, as Compose: the services whose profiles are not active are
 * left out; a dependency on one is an error naming both, unless it says
 * required: false (then it is dropped, with a warning). inactive gets
 * the names left out, for the suites' messages.
 */
static int apply_profiles(struct mf_conv *c, struct strvec *inactive)
{
	struct manifest *m = c->m;
	struct strindex all;
	char *on = xcalloc(m->nservices + 1, 1);
	size_t out = 0;
	int rc = 0;

	strindex_init(&all, m->nservices);
	for (size_t i = 0; i < m->nservices; i++) {
		strindex_put(&all, m->services[i].name, i);
		on[i] = (char)service_active(c, &m->services[i]);
	}
	for (size_t i = 0; i < m->nservices && !rc; i++) {
		struct mf_service *s = &m->services[i];
		size_t keep = 0;

		if (!on[i])
			continue;
		for (size_t d = 0; d < s->ndeps && !rc; d++) {
			struct mf_dep *dep = &s->deps[d];
			long j = strindex_get(&all, dep->name);

			if ((j < 0 || !on[j]) && !dep->required) {
				/* required: false, as Compose: go without */
				free(dep->name);
				continue;
			}
			if (j >= 0 && !on[j]) {
				struct buf p = BUF_INIT;

				profiles_text(&m->services[j], &p);
				rc = orch_error_at(
				        dep->file, dep->line, dep->col,
				        "service '%s' depends on service '%s', "
				        "which is not active: its profiles (%s) "
				        "are not (--profile %s, or "
				        "COMPOSE_PROFILES)",
				        s->name, dep->name, p.data,
				        m->services[j].profiles.v[0]);
				buf_release(&p);
				break;
			}
			s->deps[keep++] = *dep;
		}
		if (!rc)
			s->ndeps = keep;
	}
	strindex_release(&all);
	if (rc) {
		free(on);
		return rc;
	}
	m->inactive = xcalloc(m->nservices + 1, sizeof(*m->inactive));
	for (size_t i = 0; i < m->nservices; i++) {
		if (on[i]) {
			m->services[out++] = m->services[i];
			continue;
		}
		strvec_push(inactive, m->services[i].name);
		m->inactive[m->ninactive++] = m->services[i];
	}
	m->nservices = out;
	free(on);
	return 0;
}

static int load_services(struct mf_conv *c, const struct ynode *map,
                         struct strvec *inactive)
{
	struct manifest *m = c->m;
	int rc;

	m->services = xcalloc(map->n / 2 + 1, sizeof(*m->services));
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];

		if (!strncmp(k->str, "x-", 2) ||
		    map->items[i + 1]->tag == YTAG_RESET)
			continue;
		m->nservices++;
		rc = load_service(c, k, map->items[i + 1],
		                  &m->services[m->nservices - 1],
		                  m->nservices - 1);
		if (rc)
			return rc;
	}
	if (!m->nservices)
		return mf_err(c, map, "'services' is empty");
	rc = mf_resolve_refs(c);
	if (!rc)
		rc = mf_resolve_context_refs(c);
	if (!rc)
		rc = apply_profiles(c, inactive);
	if (rc)
		return rc;
	if (!m->nservices)
		mf_warn(c, map,
		        "no service is active: each has profiles, none of which "
		        "is active (--profile NAME, or COMPOSE_PROFILES)");
	strindex_init(&c->service_ix, m->nservices);
	for (size_t i = 0; i < m->nservices; i++)
		strindex_put(&c->service_ix, m->services[i].name, i);
	return mf_check_deps(c);
}

/* x-orchestrate: read before anything, since it changes what is allowed */
static int load_xorch(struct mf_conv *c, const struct ynode *root)
{
	const struct ynode *x = ymap_get(root, "x-orchestrate");
	int rc;

	if (!x || ynode_is_null(x))
		return 0;
	rc = mf_walk_map(c, x, SEC_XORCH, "'x-orchestrate'", c->m);
	if (!rc && c->m->allow_host_privileges)
		mf_warn(c, x,
		        "host privileges are allowed "
		        "(x-orchestrate: allow-host-privileges): a container "
		        "may act on the host");
	return rc;
}

/*
 * The document's keys, then its sections in the order references need:
 * volumes, networks, secrets and configs (which services name),
 * services (which dependencies and targets name), suites.
 */
int mf_walk(struct mf_conv *c, const struct ynode *root)
{
	struct manifest *m = c->m;
	struct strvec inactive = STRVEC_INIT;
	struct top t = { 0 };
	int rc;

	if (!root || ynode_is_null(root))
		return orch_error_at(mf_origin(c, root), root ? root->line : 1,
		                     root ? root->col : 1, "empty manifest");
	if (root->kind != Y_MAP)
		return mf_err(c, root, "the manifest must be a mapping");
	rc = load_xorch(c, root);
	if (!rc)
		rc = mf_walk_map(c, root, SEC_TOP, "the manifest", &t);
	/* Compose accepts a file of volumes or networks alone */
	if (!rc && !t.services)
		mf_warn(c, root,
		        "the manifest has no 'services': nothing to run");
	if (!rc && t.volumes)
		rc = load_volumes(c, t.volumes);
	if (!rc && t.networks)
		rc = load_networks(c, t.networks);
	if (!rc && t.secrets)
		rc = mf_load_secrets(c, t.secrets, 1);
	if (!rc && t.configs)
		rc = mf_load_secrets(c, t.configs, 0);
	if (!rc && t.services)
		rc = load_services(c, t.services, &inactive);
	else if (!rc)
		strindex_init(&c->service_ix, 1);
	if (rc || !t.suites)
		goto out;
	m->suites = xcalloc(t.suites->n / 2 + 1, sizeof(*m->suites));
	c->stamp = xcalloc(m->nservices + 1, sizeof(*c->stamp));
	c->inactive = &inactive;
	for (size_t i = 0; i + 1 < t.suites->n; i += 2) {
		const struct ynode *k = t.suites->items[i];

		if (!strncmp(k->str, "x-", 2))
			continue;
		rc = load_suite(c, k, t.suites->items[i + 1],
		                &m->suites[m->nsuites++]);
		if (rc)
			break;
	}
	c->inactive = NULL;
out:
	strvec_clear(&inactive);
	return rc;
}
