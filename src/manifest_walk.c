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
	const struct ynode *services, *suites, *volumes;
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
static int walk(struct mf_conv *c, const struct ynode *map,
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
		e = schema_find(sec, k->str);
		if (!e) {
			const char *s = schema_suggest(sec, k->str);

			if (s)
				return mf_err(
				        c, k,
				        "unknown key '%.80s' (did you mean "
				        "'%s'?)",
				        k->str, s);
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
		/* never dropped in silence (test-manifest.c checks the table) */
		if (!e->convert)
			return orch_error_code(
			        ORCH_ERROR,
			        "%s:%d:%d: '%s' has no converter in "
			        "the schema table",
			        c->origin, k->line, k->col, e->key);
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
			        !ynode_is_null(map->items[i + 1]);
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
		rc = walk(c, v, SEC_BUILD, "'build'", b);
	if (rc)
		return rc;
	if (!b->context || !*b->context) {
		free(b->context);
		b->context = xstrdup(".");
	}
	if (strstr(b->context, "://") || !strncmp(b->context, "git@", 4))
		return mf_err(c, v,
		              "remote build context '%s' is not supported",
		              b->context);
	given = b->context;
	b->context = mf_resolve_path(c, given);
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
		rc = walk(c, v, SEC_HTTP, "'http'", r);
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

/* "[ip:][host:]container[/proto]", host and container without ranges. */
static int parse_port_short(struct mf_conv *c, const struct ynode *v,
                            const char *spec, struct mf_port *p)
{
	char *s = xstrdup(spec), *proto, *last, *ip = NULL, *host = NULL;
	long l;
	int rc = 0;

	proto = strrchr(s, '/');
	if (proto)
		*proto++ = '\0';
	last = strrchr(s, ':');
	if (last) {
		*last++ = '\0';
		host = strrchr(s, ':');
		if (host && s[0] != '[') {
			*host++ = '\0';
			ip = s;
		} else if (s[0] == '[') {
			/* [::1]:8080:80 */
			char *close = strchr(s, ']');

			if (!close || (close[1] && close[1] != ':')) {
				rc = mf_err(c, v, "invalid port '%s'", spec);
				goto out;
			}
			*close = '\0';
			ip = s + 1;
			host = close[1] ? close + 2 : close + 1;
		} else {
			host = s;
		}
	} else {
		last = s;
	}
	if (strchr(last, '-') || (host && strchr(host, '-'))) {
		rc = mf_err(c, v, "port ranges are not supported ('%s')", spec);
		goto out;
	}
	if (parse_int(last, 1, 65535, &l)) {
		rc = mf_err(c, v, "invalid port '%s' (container port 1-65535)",
		            spec);
		goto out;
	}
	p->container_port = (int)l;
	if (host && *host) {
		if (parse_int(host, 1, 65535, &l)) {
			rc = mf_err(c, v,
			            "invalid port '%s' (host port 1-65535)",
			            spec);
			goto out;
		}
		p->host_port = (int)l;
	}
	if (ip && *ip)
		p->host_ip = xstrdup(ip);
	p->protocol = xstrdup(proto ? proto : "tcp");
out:
	free(s);
	return rc;
}

int conv_port_target(struct mf_conv *c, void *obj, const struct ynode *k,
                     const struct ynode *v)
{
	return mf_get_port(c, v, "target",
	                   &((struct mf_port *)obj)->container_port);
}

int conv_port_published(struct mf_conv *c, void *obj, const struct ynode *k,
                        const struct ynode *v)
{
	struct mf_port *p = obj;
	char *s = NULL;
	long l;
	int rc;

	rc = mf_get_string(c, v, "published", &s);
	if (!rc && *s && strchr(s, '-'))
		rc = mf_err(c, v, "port ranges are not supported ('%s')", s);
	else if (!rc && *s && parse_int(s, 1, 65535, &l))
		rc = mf_err(c, v, "'published' must be a port (1-65535)");
	else if (!rc && *s)
		p->host_port = (int)l;
	free(s);
	return rc;
}

int conv_port_host_ip(struct mf_conv *c, void *obj, const struct ynode *k,
                      const struct ynode *v)
{
	return mf_get_string(c, v, "host_ip",
	                     &((struct mf_port *)obj)->host_ip);
}

int conv_port_protocol(struct mf_conv *c, void *obj, const struct ynode *k,
                       const struct ynode *v)
{
	return mf_get_string(c, v, "protocol",
	                     &((struct mf_port *)obj)->protocol);
}

/* One entry of ports: the short syntax or the mapping. */
static int get_port_entry(struct mf_conv *c, const struct ynode *v,
                          struct mf_port *p)
{
	int rc;

	if (v->kind == Y_SEQ)
		return mf_err(c, v, "a port must be a string or a mapping");
	if (v->kind == Y_SCALAR) {
		char *s;

		rc = mf_scalar(c, v, "ports", &s);
		if (rc)
			return rc;
		rc = parse_port_short(c, v, s, p);
		free(s);
	} else {
		rc = walk(c, v, SEC_PORT, "a port", p);
	}
	if (rc)
		return rc;
	if (!p->protocol)
		p->protocol = xstrdup("tcp");
	if (strcmp(p->protocol, "tcp") && strcmp(p->protocol, "udp"))
		return mf_err(c, v, "unknown protocol '%s' (tcp or udp)",
		              p->protocol);
	if (p->host_ip && !*p->host_ip) {
		free(p->host_ip);
		p->host_ip = NULL;
	}
	if (p->host_ip &&
	    (!strcmp(p->host_ip, "0.0.0.0") || !strcmp(p->host_ip, "::")))
		mf_warn(c, v, "port %d is published on all interfaces ('%s')",
		        p->container_port, p->host_ip);
	return 0;
}

/* ---- volumes: in a service -------------------------------------------- */

int conv_mount_type(struct mf_conv *c, void *obj, const struct ynode *k,
                    const struct ynode *v)
{
	struct mf_mount *mt = obj;
	int rc = mf_get_string(c, v, "type", &mt->type);

	if (!rc && strcmp(mt->type, "volume") && strcmp(mt->type, "bind") &&
	    strcmp(mt->type, "tmpfs"))
		rc = mf_err(c, v,
		            "unknown mount type '%s' (volume, bind or tmpfs)",
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
		rc = mf_err(c, v, "invalid volume '%s' (SOURCE:TARGET[:ro])",
		            spec);
		goto out;
	}
	if (parts.n == 1) {
		mt->type = xstrdup("volume");
		mt->target = xstrdup(parts.v[0]);
		goto out;
	}
	if (parts.n == 3) {
		const char *m = parts.v[2];

		while (*m) {
			size_t l = strcspn(m, ",");

			if (l == 2 && !strncmp(m, "ro", 2))
				mt->read_only = 1;
			else if (!((l == 2 && !strncmp(m, "rw", 2)) ||
			           (l == 1 && (*m == 'z' || *m == 'Z')) ||
			           (l == 6 && !strncmp(m, "nocopy", 6)) ||
			           (l == 6 && !strncmp(m, "cached", 6)) ||
			           (l == 9 && !strncmp(m, "delegated", 9)) ||
			           (l == 10 &&
			            !strncmp(m, "consistent", 10)))) {
				rc = mf_err(
				        c, v,
				        "invalid mount mode '%s' in '%s' (ro or "
				        "rw)",
				        parts.v[2], spec);
				goto out;
			}
			m += l;
			if (*m == ',')
				m++;
		}
	}
	p = parts.v[0];
	mt->type = xstrdup(*p == '/' || *p == '.' || *p == '~' ? "bind"
	                                                       : "volume");
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
		rc = walk(c, v, SEC_MOUNT, "a volume", mt);
	}
	if (rc)
		return rc;
	if (!strcmp(mt->type, "bind") && mt->source && *mt->source) {
		char *abs = mf_resolve_path(c, mt->source);

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
	char *path = mf_resolve_path(c, given);
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
			rc = walk(c, e, SEC_ENV_FILE, "'env_file'", &o);
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

/* ---- depends_on: ------------------------------------------------------ */

int conv_depends_condition(struct mf_conv *c, void *obj, const struct ynode *k,
                           const struct ynode *v)
{
	enum mf_condition *cond = obj;
	char *s = NULL;
	int rc;

	rc = mf_get_string(c, v, "condition", &s);
	if (rc)
		return rc;
	if (!strcmp(s, "service_started"))
		*cond = MF_SERVICE_STARTED;
	else if (!strcmp(s, "service_healthy"))
		*cond = MF_SERVICE_HEALTHY;
	else if (!strcmp(s, "service_completed_successfully"))
		*cond = MF_SERVICE_COMPLETED_SUCCESSFULLY;
	else
		rc = mf_err(
		        c, v,
		        "unknown condition '%.80s' (service_started, "
		        "service_healthy or service_completed_successfully)",
		        s);
	free(s);
	return rc;
}

/* Duplicates and undefined names are found once all services are read. */
static void add_dep(struct mf_service *s, const struct ynode *k,
                    enum mf_condition cond)
{
	struct mf_dep *d = &s->deps[s->ndeps++];

	d->name = xstrdup(k->str);
	d->condition = cond;
	d->line = k->line;
	d->col = k->col;
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
	s->deps = xcalloc(v->n, sizeof(*s->deps));
	if (v->kind == Y_SEQ) {
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->kind != Y_SCALAR)
				return mf_err(
				        c, v->items[i],
				        "'depends_on' entries must be service "
				        "names");
			add_dep(s, v->items[i], MF_SERVICE_STARTED);
		}
		return 0;
	}
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		enum mf_condition cond = MF_SERVICE_STARTED;
		const struct ynode *dv = v->items[i + 1];

		if (!ynode_is_null(dv)) {
			rc = walk(c, dv, SEC_DEPENDS, "a dependency", &cond);
			if (rc)
				return rc;
		}
		add_dep(s, v->items[i], cond);
	}
	return 0;
}

/* ---- a service's, a stub's or a suite's container --------------------- */

static void container_init(struct mf_container *ct)
{
	memset(ct, 0, sizeof(*ct));
	ct->ready.timeout_ns = 60LL * 1000000000;
	ct->stop_grace_ns = -1;
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

/* Each key appears once in a mapping: the arrays are sized at once. */
int conv_container_ports(struct mf_conv *c, void *obj, const struct ynode *k,
                         const struct ynode *v)
{
	struct mf_container *ct = ((struct mf_unit *)obj)->ct;

	ct->ports = xcalloc(v->n, sizeof(*ct->ports));
	for (size_t i = 0; i < v->n; i++) {
		int rc = get_port_entry(c, v->items[i],
		                        &ct->ports[ct->nports++]);

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

int conv_container_labels(struct mf_conv *c, void *obj, const struct ynode *k,
                          const struct ynode *v)
{
	return mf_get_kvs(c, v, "labels", "",
	                  &((struct mf_unit *)obj)->ct->labels);
}

int conv_container_healthcheck(struct mf_conv *c, void *obj,
                               const struct ynode *k, const struct ynode *v)
{
	struct mf_healthcheck *h = &((struct mf_unit *)obj)->ct->healthcheck;

	int rc;

	h->set = 1;
	rc = walk(c, v, SEC_HEALTHCHECK, "'healthcheck'", h);
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
	return walk(c, v, SEC_READY, "'ready'",
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
	int rc = walk(c, map, sec, owner, u);

	if (!rc && u->env_file)
		rc = apply_env_files(c, u->env_file, env);
	if (!rc && u->env)
		rc = mf_get_kvs(c, u->env, "environment", NULL, env);
	mf_kvs_dedupe(env);
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
	st.is_stub = 1;
	buf_addf(&owner, "the stub of service '%s'", u->service->name);
	rc = walk_container(c, &st, v, SEC_SERVICE, owner.data);
	if (!rc)
		rc = mf_check_stub(c, &st, v);
	buf_release(&owner);
	return rc;
}

static int load_service(struct mf_conv *c, const struct ynode *k,
                        const struct ynode *v, struct mf_service *s)
{
	struct mf_unit u = { 0 };
	struct buf owner = BUF_INIT;
	int rc;

	s->name = xstrdup(k->str);
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

		if (!strncmp(k->str, "x-", 2))
			continue;
		rc = mf_check_name(c, k, "volume");
		if (!rc && !ynode_is_null(v))
			rc = walk(c, v, SEC_VOLUME, "a volume", NULL);
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
 * The document's keys, then its sections in the order references need:
 * volumes (which mounts name), services (which dependencies and targets
 * name), suites.
 */
int mf_walk(struct mf_conv *c, const struct ynode *root)
{
	struct manifest *m = c->m;
	struct top t = { 0 };
	int rc;

	if (!root || ynode_is_null(root))
		return orch_error_at(c->origin, root ? root->line : 1,
		                     root ? root->col : 1, "empty manifest");
	if (root->kind != Y_MAP)
		return mf_err(c, root, "the manifest must be a mapping");
	rc = walk(c, root, SEC_TOP, "the manifest", &t);
	if (rc)
		return rc;
	if (t.volumes) {
		rc = load_volumes(c, t.volumes);
		if (rc)
			return rc;
	}
	m->services = xcalloc(t.services->n / 2 + 1, sizeof(*m->services));
	for (size_t i = 0; i + 1 < t.services->n; i += 2) {
		const struct ynode *k = t.services->items[i];

		if (!strncmp(k->str, "x-", 2))
			continue;
		rc = load_service(c, k, t.services->items[i + 1],
		                  &m->services[m->nservices++]);
		if (rc)
			return rc;
	}
	if (!m->nservices)
		return mf_err(c, t.services, "'services' is empty");
	strindex_init(&c->service_ix, m->nservices);
	for (size_t i = 0; i < m->nservices; i++)
		strindex_put(&c->service_ix, m->services[i].name, i);
	rc = mf_check_deps(c);
	if (rc || !t.suites)
		return rc;
	m->suites = xcalloc(t.suites->n / 2 + 1, sizeof(*m->suites));
	c->stamp = xcalloc(m->nservices, sizeof(*c->stamp));
	for (size_t i = 0; i + 1 < t.suites->n; i += 2) {
		const struct ynode *k = t.suites->items[i];

		if (!strncmp(k->str, "x-", 2))
			continue;
		rc = load_suite(c, k, t.suites->items[i + 1],
		                &m->suites[m->nsuites++]);
		if (rc)
			return rc;
	}
	return 0;
}
