/*
 * manifest_walk.c: the YAML tree -> struct manifest, driven by the schema
 * table (schema.c; see manifest_int.h).
 *
 * walk() reads one mapping with the table: x- keys skipped, an unknown
 * key an error with a suggestion, an ignored key a warning, a rejected
 * key an error with the reason, the shape of each value checked, then
 * each key converted on its own, in the order written. Once the mapping
 * is read, its rules run (manifest_check.c); once every service is, the
 * references.
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
#include "manifest_int.h"
#include "schema.h"

typedef int (*key_fn)(struct mf_conv *c, void *obj, const char *key,
                      const struct ynode *k, const struct ynode *v);

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
 * Walk a mapping with the schema: x- keys skipped, unknown keys an error
 * with a suggestion, ignored keys a warning, rejected keys an error,
 * shapes checked, then fn for each key with a non-null value.
 */
static int walk(struct mf_conv *c, const struct ynode *map,
                enum schema_section sec, const char *owner, key_fn fn,
                void *obj)
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
		rc = check_shape(c, e, v);
		if (!rc)
			rc = fn(c, obj, e->key, k, v);
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

static int build_key(struct mf_conv *c, void *obj, const char *key,
                     const struct ynode *k, const struct ynode *v)
{
	struct mf_build *b = obj;

	(void)k;
	if (!strcmp(key, "context"))
		return mf_get_string(c, v, key, &b->context);
	if (!strcmp(key, "dockerfile"))
		return mf_get_string(c, v, key, &b->dockerfile);
	if (!strcmp(key, "target"))
		return mf_get_string(c, v, key, &b->target);
	if (!strcmp(key, "args"))
		return mf_get_kvs(c, v, key, NULL, &b->args);
	return 0;
}

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
		rc = walk(c, v, SEC_BUILD, "'build'", build_key, b);
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

static int hc_duration(struct mf_conv *c, const struct ynode *v,
                       const char *key, int64_t *out)
{
	int rc = mf_get_duration(c, v, key, out);

	/* the API wants 0 (the default) or at least 1ms */
	if (!rc && *out && *out < 1000000)
		rc = mf_err(c, v, "'%s' must be 0 or at least 1ms", key);
	return rc;
}

static int health_key(struct mf_conv *c, void *obj, const char *key,
                      const struct ynode *k, const struct ynode *v)
{
	struct mf_healthcheck *h = obj;
	long l;
	int rc;

	(void)k;
	if (!strcmp(key, "test")) {
		strvec_clear(&h->test);
		if (v->kind == Y_SCALAR) {
			char *s;

			rc = mf_scalar(c, v, key, &s);
			if (rc)
				return rc;
			strvec_push(&h->test, "CMD-SHELL");
			strvec_push_nodup(&h->test, s);
			return 0;
		}
		rc = mf_get_strings(c, v, key, &h->test);
		if (rc)
			return rc;
		if (!h->test.n || (strcmp(h->test.v[0], "CMD") &&
		                   strcmp(h->test.v[0], "CMD-SHELL") &&
		                   strcmp(h->test.v[0], "NONE")))
			return mf_err(c, v,
			              "healthcheck 'test' must start with CMD, "
			              "CMD-SHELL or NONE");
		if (!strcmp(h->test.v[0], "NONE")) {
			h->disable = 1;
			return 0;
		}
		if (h->test.n < 2)
			return mf_err(c, v,
			              "healthcheck 'test' has no command");
		if (!strcmp(h->test.v[0], "CMD-SHELL") && h->test.n != 2)
			return mf_err(c, v,
			              "healthcheck 'test' with CMD-SHELL takes "
			              "one string");
		return 0;
	}
	if (!strcmp(key, "interval"))
		return hc_duration(c, v, key, &h->interval_ns);
	if (!strcmp(key, "timeout"))
		return hc_duration(c, v, key, &h->timeout_ns);
	if (!strcmp(key, "start_period"))
		return hc_duration(c, v, key, &h->start_period_ns);
	if (!strcmp(key, "retries")) {
		rc = mf_get_int(c, v, key, 0, INT_MAX, &l);
		h->retries = (int)l;
		return rc;
	}
	if (!strcmp(key, "disable"))
		return mf_get_bool(c, v, key, &h->disable);
	return 0;
}

static int http_key(struct mf_conv *c, void *obj, const char *key,
                    const struct ynode *k, const struct ynode *v)
{
	struct mf_ready *r = obj;
	long l;
	int rc;

	(void)k;
	if (!strcmp(key, "port"))
		return mf_get_port(c, v, "port", &r->http_port);
	if (!strcmp(key, "path")) {
		rc = mf_get_string(c, v, key, &r->http_path);
		if (!rc && r->http_path[0] != '/')
			rc = mf_err(c, v, "http 'path' must start with '/'");
		return rc;
	}
	if (!strcmp(key, "status")) {
		rc = mf_get_int(c, v, key, 100, 599, &l);
		r->http_status = (int)l;
		return rc;
	}
	return 0;
}

static int ready_key(struct mf_conv *c, void *obj, const char *key,
                     const struct ynode *k, const struct ynode *v)
{
	struct mf_ready *r = obj;
	int rc;

	(void)k;
	if (!strcmp(key, "tcp"))
		return mf_get_port(c, v, "tcp", &r->tcp_port);
	if (!strcmp(key, "http")) {
		free(r->http_path);
		r->http_path = NULL;
		r->http_status = 200;
		if (v->kind == Y_SCALAR)
			rc = mf_get_port(c, v, "http", &r->http_port);
		else
			rc = walk(c, v, SEC_HTTP, "'http'", http_key, r);
		if (!rc && !r->http_path)
			r->http_path = xstrdup("/");
		return rc;
	}
	if (!strcmp(key, "exec")) {
		rc = mf_get_command(c, v, key, &r->exec);
		if (!rc && !r->exec.n)
			rc = mf_err(c, v, "'exec' has no command");
		return rc;
	}
	if (!strcmp(key, "log")) {
		rc = mf_get_string(c, v, key, &r->log_regex);
		return rc ? rc : mf_check_regex(c, v, r->log_regex);
	}
	if (!strcmp(key, "timeout")) {
		rc = mf_get_duration(c, v, key, &r->timeout_ns);
		if (!rc && !r->timeout_ns)
			rc = mf_err(c, v, "'timeout' must be more than 0");
		return rc;
	}
	return 0;
}

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

static int port_key(struct mf_conv *c, void *obj, const char *key,
                    const struct ynode *k, const struct ynode *v)
{
	struct mf_port *p = obj;
	long l;
	int rc;

	(void)k;
	if (!strcmp(key, "target"))
		return mf_get_port(c, v, "target", &p->container_port);
	if (!strcmp(key, "published")) {
		char *s = NULL;

		rc = mf_get_string(c, v, key, &s);
		if (!rc && *s && strchr(s, '-'))
			rc = mf_err(c, v,
			            "port ranges are not supported ('%s')", s);
		else if (!rc && *s && parse_int(s, 1, 65535, &l))
			rc = mf_err(c, v,
			            "'published' must be a port (1-65535)");
		else if (!rc && *s)
			p->host_port = (int)l;
		free(s);
		return rc;
	}
	if (!strcmp(key, "host_ip"))
		return mf_get_string(c, v, key, &p->host_ip);
	if (!strcmp(key, "protocol"))
		return mf_get_string(c, v, key, &p->protocol);
	return 0;
}

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
		rc = walk(c, v, SEC_PORT, "a port", port_key, p);
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

static int mount_key(struct mf_conv *c, void *obj, const char *key,
                     const struct ynode *k, const struct ynode *v)
{
	struct mf_mount *mt = obj;

	(void)k;
	if (!strcmp(key, "type")) {
		int rc = mf_get_string(c, v, key, &mt->type);

		if (!rc && strcmp(mt->type, "volume") &&
		    strcmp(mt->type, "bind") && strcmp(mt->type, "tmpfs"))
			rc = mf_err(c, v,
			            "unknown mount type '%s' (volume, bind or "
			            "tmpfs)",
			            mt->type);
		return rc;
	}
	if (!strcmp(key, "source"))
		return mf_get_string(c, v, key, &mt->source);
	if (!strcmp(key, "target"))
		return mf_get_string(c, v, key, &mt->target);
	if (!strcmp(key, "read_only"))
		return mf_get_bool(c, v, key, &mt->read_only);
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
		rc = walk(c, v, SEC_MOUNT, "a volume", mount_key, mt);
	}
	if (rc)
		return rc;
	if (mt->type && !strcmp(mt->type, "bind") && mt->source &&
	    *mt->source) {
		char *abs = mf_resolve_path(c, mt->source);

		free(mt->source);
		mt->source = abs;
	}
	return mf_check_mount(c, v, mt);
}

struct env_file_opt {
	char *path;
	int required;
};

static int env_file_key(struct mf_conv *c, void *obj, const char *key,
                        const struct ynode *k, const struct ynode *v)
{
	struct env_file_opt *o = obj;

	(void)k;
	if (!strcmp(key, "path"))
		return mf_get_string(c, v, key, &o->path);
	if (!strcmp(key, "required"))
		return mf_get_bool(c, v, key, &o->required);
	return 0;
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
			rc = walk(c, e, SEC_ENV_FILE, "'env_file'",
			          env_file_key, &o);
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

static int add_dep(struct mf_conv *c, struct mf_service *s,
                   const struct ynode *k, enum mf_condition cond)
{
	struct mf_dep *d;

	(void)c;
	/* duplicates are found once names resolve (resolve_deps) */
	d = &s->deps[s->ndeps++];
	d->name = xstrdup(k->str);
	d->condition = cond;
	d->line = k->line;
	d->col = k->col;
	return 0;
}

static int depends_key(struct mf_conv *c, void *obj, const char *key,
                       const struct ynode *k, const struct ynode *v)
{
	enum mf_condition *cond = obj;
	char *s = NULL;
	int rc;

	(void)k;
	if (strcmp(key, "condition"))
		return 0;
	rc = mf_get_string(c, v, key, &s);
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

static int get_depends(struct mf_conv *c, struct mf_service *s,
                       const struct ynode *v)
{
	int rc;

	s->deps = xcalloc(v->n, sizeof(*s->deps));
	if (v->kind == Y_SEQ) {
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->kind != Y_SCALAR)
				return mf_err(
				        c, v->items[i],
				        "'depends_on' entries must be service "
				        "names");
			rc = add_dep(c, s, v->items[i], MF_SERVICE_STARTED);
			if (rc)
				return rc;
		}
		return 0;
	}
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		enum mf_condition cond = MF_SERVICE_STARTED;
		const struct ynode *dv = v->items[i + 1];

		if (!ynode_is_null(dv)) {
			rc = walk(c, dv, SEC_DEPENDS, "a dependency",
			          depends_key, &cond);
			if (rc)
				return rc;
		}
		rc = add_dep(c, s, v->items[i], cond);
		if (rc)
			return rc;
	}
	return 0;
}

static void container_init(struct mf_container *ct)
{
	memset(ct, 0, sizeof(*ct));
	ct->ready.timeout_ns = 60LL * 1000000000;
	ct->stop_grace_ns = -1;
}

static int walk_container(struct mf_conv *c, struct mf_unit *sv,
                          const struct ynode *map, enum schema_section sec,
                          const char *owner, key_fn fn);

static int service_key(struct mf_conv *c, void *obj, const char *key,
                       const struct ynode *k, const struct ynode *v)
{
	struct mf_unit *sv = obj;
	struct mf_container *ct = sv->ct;
	int rc;
	long l;

	if (!strcmp(key, "image")) {
		rc = mf_get_string(c, v, key, &ct->image);
		if (!rc && !*ct->image)
			rc = mf_err(c, v, "'image' is empty");
		return rc;
	}
	if (!strcmp(key, "build"))
		return get_build(c, v, &ct->build);
	if (!strcmp(key, "command"))
		return mf_get_command(c, v, key, &ct->command);
	if (!strcmp(key, "entrypoint")) {
		ct->has_entrypoint = 1;
		return mf_get_command(c, v, key, &ct->entrypoint);
	}
	if (!strcmp(key, "environment")) {
		sv->env = v;
		return 0;
	}
	if (!strcmp(key, "env_file")) {
		sv->env_file = v;
		return 0;
	}
	/* each key appears once in a mapping: size the arrays at once */
	if (!strcmp(key, "ports")) {
		ct->ports = xcalloc(v->n, sizeof(*ct->ports));
		for (size_t i = 0; i < v->n; i++) {
			rc = get_port_entry(c, v->items[i],
			                    &ct->ports[ct->nports++]);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!strcmp(key, "volumes")) {
		ct->mounts = xcalloc(v->n, sizeof(*ct->mounts));
		for (size_t i = 0; i < v->n; i++) {
			rc = get_mount(c, v->items[i],
			               &ct->mounts[ct->nmounts++]);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!strcmp(key, "tmpfs")) {
		rc = mf_get_strings(c, v, key, &ct->tmpfs);
		for (size_t i = 0; !rc && i < ct->tmpfs.n; i++)
			if (ct->tmpfs.v[i][0] != '/')
				rc = mf_err(
				        c, v,
				        "tmpfs '%s' must be an absolute path",
				        ct->tmpfs.v[i]);
		return rc;
	}
	if (!strcmp(key, "user"))
		return mf_get_string(c, v, key, &ct->user);
	if (!strcmp(key, "working_dir"))
		return mf_get_string(c, v, key, &ct->working_dir);
	if (!strcmp(key, "labels"))
		return mf_get_kvs(c, v, key, "", &ct->labels);
	if (!strcmp(key, "healthcheck")) {
		ct->healthcheck.set = 1;
		return walk(c, v, SEC_HEALTHCHECK, "'healthcheck'", health_key,
		            &ct->healthcheck);
	}
	if (!strcmp(key, "stop_grace_period"))
		return mf_get_duration(c, v, key, &ct->stop_grace_ns);
	if (!strcmp(key, "init"))
		return mf_get_bool(c, v, key, &ct->init);
	if (!strcmp(key, "ready"))
		return walk(c, v, SEC_READY, "'ready'", ready_key, &ct->ready);
	if (!strcmp(key, "depends_on")) {
		if (sv->is_stub)
			return mf_err(c, k, "a stub cannot have 'depends_on'");
		return get_depends(c, sv->service, v);
	}
	if (!strcmp(key, "stub")) {
		struct mf_unit st = { 0 };
		struct buf owner = BUF_INIT;

		if (sv->is_stub)
			return mf_err(c, k,
			              "a stub cannot have its own 'stub'");
		sv->service->stub = xmalloc(sizeof(*sv->service->stub));
		container_init(sv->service->stub);
		st.service = sv->service;
		st.ct = sv->service->stub;
		st.is_stub = 1;
		buf_addf(&owner, "the stub of service '%s'", sv->service->name);
		rc = walk_container(c, &st, v, SEC_SERVICE, owner.data,
		                    service_key);
		if (!rc)
			rc = mf_check_stub(c, &st, v);
		buf_release(&owner);
		return rc;
	}
	/* suites */
	if (!strcmp(key, "targets")) {
		sv->targets = v;
		return mf_get_strings(c, v, key, &sv->suite->targets);
	}
	if (!strcmp(key, "host"))
		return mf_get_bool(c, v, key, &sv->suite->host);
	if (!strcmp(key, "timeout")) {
		rc = mf_get_duration(c, v, key, &sv->suite->timeout_ns);
		if (!rc && !sv->suite->timeout_ns)
			rc = mf_err(c, v, "'timeout' must be more than 0");
		return rc;
	}
	if (!strcmp(key, "retries")) {
		rc = mf_get_int(c, v, key, 0, 100, &l);
		sv->suite->retries = (int)l;
		return rc;
	}
	if (!strcmp(key, "artifacts")) {
		rc = mf_get_strings(c, v, key, &sv->suite->artifacts);
		for (size_t i = 0; !rc && i < sv->suite->artifacts.n; i++)
			if (sv->suite->artifacts.v[i][0] != '/' &&
			    !sv->suite->host)
				rc = mf_err(
				        c, v,
				        "artifact '%s' must be an absolute path",
				        sv->suite->artifacts.v[i]);
		return rc;
	}
	if (!strcmp(key, "tags"))
		return mf_get_strings(c, v, key, &sv->suite->tags);
	return 0;
}

/* Environment last: env_file entries first, environment: overrides them. */
static int walk_container(struct mf_conv *c, struct mf_unit *sv,
                          const struct ynode *map, enum schema_section sec,
                          const char *owner, key_fn fn)
{
	struct mf_kvs *env =
	        sv->suite ? &sv->suite->environment : &sv->ct->environment;
	int rc = walk(c, map, sec, owner, fn, sv);

	if (!rc && sv->env_file)
		rc = apply_env_files(c, sv->env_file, env);
	if (!rc && sv->env)
		rc = mf_get_kvs(c, sv->env, "environment", NULL, env);
	mf_kvs_dedupe(env);
	return rc;
}

static int load_service(struct mf_conv *c, const struct ynode *k,
                        const struct ynode *v, struct mf_service *s)
{
	struct mf_unit sv = { 0 };
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
	sv.service = s;
	sv.ct = &s->real;
	buf_addf(&owner, "service '%s'", s->name);
	rc = walk_container(c, &sv, v, SEC_SERVICE, owner.data, service_key);
	if (!rc)
		rc = mf_check_service(c, &sv, k);
out:
	buf_release(&owner);
	return rc;
}

static int load_suite(struct mf_conv *c, const struct ynode *k,
                      const struct ynode *v, struct mf_suite *su)
{
	struct mf_unit sv = { 0 };
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
	sv.suite = su;
	sv.ct = &su->container;
	buf_addf(&owner, "suite '%s'", su->name);
	rc = walk_container(c, &sv, v, SEC_SUITE, owner.data, service_key);
	if (rc)
		goto out;
	/* the suite's command is its own, not the container's */
	strvec_copy(&su->command, &su->container.command);
	strvec_clear(&su->container.command);
	rc = mf_check_suite(c, &sv, k);
out:
	buf_release(&owner);
	return rc;
}

static int volume_key(struct mf_conv *c, void *obj, const char *key,
                      const struct ynode *k, const struct ynode *v)
{
	(void)c;
	(void)obj;
	(void)key;
	(void)k;
	(void)v;
	return 0;
}

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
			rc = walk(c, v, SEC_VOLUME, "a volume", volume_key,
			          NULL);
		if (rc)
			return rc;
		m->volumes[m->nvolumes].name = xstrdup(k->str);
		strindex_put(&c->volume_ix, m->volumes[m->nvolumes].name,
		             m->nvolumes);
		m->nvolumes++;
	}
	return 0;
}

static const char *const strategies[] = { "big-bang", "incremental",
	                                  "bottom-up", "top-down", "sandwich" };

struct top {
	const struct ynode *services, *suites, *volumes;
};

static int top_key(struct mf_conv *c, void *obj, const char *key,
                   const struct ynode *k, const struct ynode *v)
{
	struct top *t = obj;
	int rc;

	(void)k;
	if (!strcmp(key, "name")) {
		rc = mf_get_string(c, v, key, &c->m->name);
		if (!rc && !mf_valid_project_name(c->m->name))
			rc = mf_err(
			        c, v,
			        "invalid project name '%.80s' (lower case "
			        "letters, digits, '-' and '_', starting with a "
			        "letter or digit)",
			        c->m->name);
		return rc;
	}
	if (!strcmp(key, "strategy")) {
		const char *s;

		rc = mf_get_string(c, v, key, &c->m->strategy);
		if (rc)
			return rc;
		for (size_t i = 0; i < 5; i++)
			if (!strcmp(c->m->strategy, strategies[i]))
				return 0;
		s = mf_closest(c->m->strategy, strategies, 5);
		if (s)
			return mf_err(c, v,
			              "unknown strategy '%.80s' (did you mean "
			              "'%s'?)",
			              c->m->strategy, s);
		return mf_err(
		        c, v,
		        "unknown strategy '%.80s' (big-bang, incremental, "
		        "bottom-up, top-down or sandwich)",
		        c->m->strategy);
	}
	if (!strcmp(key, "services"))
		t->services = v;
	else if (!strcmp(key, "suites"))
		t->suites = v;
	else if (!strcmp(key, "volumes"))
		t->volumes = v;
	return 0;
}

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
	rc = walk(c, root, SEC_TOP, "the manifest", top_key, &t);
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
