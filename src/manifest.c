/*
 * manifest.c: the manifest loader's entry points (see manifest.h): the
 * manifest from a file or standard input, the .env file beside it, and
 * then the tree (yaml_tree.c) and the walk (manifest_walk.c); freeing
 * the model, finding the manifest, naming the project.
 *
 * The steps of a load and the files that take them are listed in
 * manifest_int.h. It does not talk to the engine, and it never checks
 * what only the engine knows (whether an image exists); a build context,
 * an env_file and a .env file are the only files the loader reads
 * besides the manifest.
 */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "labels.h"
#include "manifest_int.h"

/* The absolute, lexically clean directory of origin. */
static char *origin_dir(const char *origin)
{
	const char *slash = strrchr(origin, '/');
	char *dir, *abs, *r, cwd[PATH_MAX];

	dir = slash ? xstrndup(origin, (size_t)(slash - origin) + 1)
	            : xstrdup(".");
	if (*dir == '/') {
		abs = dir;
	} else {
		abs = xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : "/",
		                dir);
		free(dir);
	}
	r = realpath(abs, NULL);
	if (!r)
		r = mf_path_normalize(abs);
	free(abs);
	return r;
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

struct lookup_ctx {
	const char *(*getenv_fn)(const char *name);
};

static const char *fn_lookup(void *ctx, const char *name)
{
	return ((struct lookup_ctx *)ctx)->getenv_fn(name);
}

/*
 * The .env of a project directory (path), interpolated as Compose does:
 * the process environment, then the lines above. Absent is fine,
 * unreadable is not; its warnings are named after path.
 */
int mf_read_dotenv(const char *path, const char *(*getenv_fn)(const char *),
                   struct strvec *warnings, struct dotenv *d)
{
	struct strvec w = STRVEC_INIT;
	struct lookup_ctx lc = { getenv_fn ? getenv_fn : env_get };
	struct dotenv_interp ip = { fn_lookup, &lc, warnings ? &w : NULL };
	struct buf b = BUF_INIT;
	struct stat st;
	int rc = 0, line = 0, col = 0;

	/* never block on a fifo or read a device */
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		goto out;
	rc = read_file(path, &b, MF_ENV_FILE_MAX);
	if (rc) {
		rc = orch_error_code(ORCH_EINVALID, "%s", orch_error_last());
		goto out;
	}
	if (dotenv_parse_interp(buf_cstr(&b), b.len, &ip, d, &line, &col)) {
		rc = orch_error_at(path, line, col, "%s", orch_error_last());
		goto out;
	}
	for (size_t i = 0; i < w.n; i++)
		strvec_pushf(warnings, "%s:%s", path, w.v[i]);
out:
	strvec_clear(&w);
	buf_release(&b);
	return rc;
}

int mf_read_manifest_file(const char *path, struct buf *b)
{
	struct stat st;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return orch_error_code(ORCH_EINVALID, "cannot read '%s': %s",
		                       path, strerror(errno));
	/* refuse a large file before reading any of it */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > MANIFEST_MAX_SIZE) {
		close(fd);
		return orch_error_at(path, 1, 1,
		                     "manifest larger than %d bytes (1 MiB)",
		                     MANIFEST_MAX_SIZE);
	}
	close(fd);
	rc = read_file(path, b, MANIFEST_MAX_SIZE);
	if (rc == ORCH_ETOOBIG)
		return orch_error_at(path, 1, 1,
		                     "manifest larger than %d bytes (1 MiB)",
		                     MANIFEST_MAX_SIZE);
	if (rc)
		return orch_error_code(ORCH_EINVALID, "cannot read %s",
		                       orch_error_last());
	return 0;
}

/*
 * `-f -`, as Compose: the manifest from standard input, read up to the
 * same cap as a file (a writer that never stops is cut off there), and
 * the current directory as the project directory (*dir).
 */
int mf_read_manifest_stdin(struct buf *b, char **dir)
{
	char cwd[PATH_MAX];
	int rc;

	*dir = NULL;
	if (isatty(STDIN_FILENO))
		return orch_error_code(
		        ORCH_EINVALID,
		        "%s: standard input is a terminal, not a manifest: "
		        "pipe or redirect one in (orchestrate -f - validate "
		        "< orchestrate.yaml)",
		        MANIFEST_STDIN_NAME);
	rc = read_fd(STDIN_FILENO, MANIFEST_STDIN_NAME, b, MANIFEST_MAX_SIZE);
	if (rc == ORCH_ETOOBIG)
		return orch_error_at(
		        MANIFEST_STDIN_NAME, 1, 1,
		        "manifest larger than %d bytes (1 MiB): stopped "
		        "reading standard input",
		        MANIFEST_MAX_SIZE);
	if (rc)
		return orch_error_code(ORCH_EINVALID, "cannot read %s",
		                       orch_error_last());
	if (!b->len)
		return orch_error_at(
		        MANIFEST_STDIN_NAME, 1, 1,
		        "empty manifest: nothing was read from standard "
		        "input");
	if (!getcwd(cwd, sizeof(cwd)))
		return orch_error_code(ORCH_EINVALID,
		                       "%s: the current directory is the "
		                       "project directory, and it cannot be "
		                       "named: %s",
		                       MANIFEST_STDIN_NAME, strerror(errno));
	*dir = realpath(cwd, NULL);
	if (!*dir)
		*dir = xstrdup(cwd);
	return 0;
}

/* Split a comma-separated list of profiles into out, without blanks. */
static void split_profiles(const char *s, struct strvec *out)
{
	while (s && *s) {
		size_t l = strcspn(s, ",");
		size_t a = 0, e = l;

		while (a < e && (s[a] == ' ' || s[a] == '\t'))
			a++;
		while (e > a && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			e--;
		if (e > a)
			strvec_push_nodup(out, xstrndup(s + a, e - a));
		s += l + (s[l] == ',');
	}
}

/* The active profiles: given, else the environment, else .env. */
static void active_profiles(const struct manifest_opts *o,
                            const struct dotenv *dotenv, struct strvec *out)
{
	const char *(*get)(const char *) =
	        o->getenv_fn ? o->getenv_fn : env_get;
	const char *v;

	if (o->profiles) {
		for (size_t i = 0; i < o->nprofiles; i++)
			split_profiles(o->profiles[i], out);
		return;
	}
	v = get("ORCHESTRATE_PROFILES");
	if (!v || !*v)
		v = get("COMPOSE_PROFILES");
	if ((!v || !*v) && dotenv)
		v = dotenv_get(dotenv, "COMPOSE_PROFILES", NULL);
	split_profiles(v, out);
}

/* A path given on the command line, absolute and lexically clean. */
static char *absolute(const char *p)
{
	char cwd[PATH_MAX], *j, *r;

	if (*p == '/')
		return mf_path_normalize(p);
	j = xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : "/", p);
	r = mf_path_normalize(j);
	free(j);
	return r;
}

/*
 * The load: the files (or one buffer, for tests: buf), the project's
 * .env (with_dotenv), the merge, the walk.
 */
static int load(const struct manifest_opts *o, const char *buf, size_t buflen,
                int with_dotenv, struct strvec *warnings, struct manifest **out)
{
	const char *(*get)(const char *) =
	        o->getenv_fn ? o->getenv_fn : env_get;
	struct dotenv *dotenv = xcalloc(1, sizeof(*dotenv));
	struct mf_conv c = { 0 };
	struct manifest *m = xcalloc(1, sizeof(*m));
	const struct ynode *root = NULL;
	size_t *ix = xcalloc(o->nfiles + 1, sizeof(*ix)), vars;
	char *dir = NULL, *stdin_dir = NULL;
	int rc = 0, stdin_seen = 0;

	*out = NULL;
	*dotenv = (struct dotenv)DOTENV_INIT;
	c.warnings = warnings;
	c.m = m;
	m->path = xstrdup(strcmp(o->files[0], MANIFEST_STDIN)
	                          ? o->files[0]
	                          : MANIFEST_STDIN_NAME);
	/* the project directory: the first file's, the current one for -f - */
	if (!buf && !strcmp(o->files[0], MANIFEST_STDIN)) {
		struct buf b = BUF_INIT;

		stdin_seen = 1;
		rc = mf_read_manifest_stdin(&b, &stdin_dir);
		if (!rc) {
			dir = xstrdup(stdin_dir);
			vars = 0;
			if (with_dotenv)
				rc = mf_read_dotenv(".env", get, warnings,
				                    dotenv);
			vars = mf_add_vars(&c, get, dotenv);
			dotenv = NULL;
			if (!rc)
				rc = mf_add_file(&c, MANIFEST_STDIN_NAME, NULL,
				                 dir, vars, buf_cstr(&b), b.len,
				                 &ix[0]);
		}
		buf_release(&b);
		if (rc)
			goto out;
	} else {
		const char *slash = strrchr(o->files[0], '/');

		dir = origin_dir(o->files[0]);
		if (with_dotenv) {
			char *env_path =
			        slash ? xasprintf("%.*s/.env",
			                          (int)(slash - o->files[0]),
			                          o->files[0])
			              : xstrdup(".env");

			rc = mf_read_dotenv(env_path, get, warnings, dotenv);
			free(env_path);
		}
		vars = mf_add_vars(&c, get, dotenv);
		dotenv = NULL;
		if (rc)
			goto out;
		if (buf) {
			rc = mf_add_file(&c, o->files[0], NULL, dir, vars, buf,
			                 buflen, &ix[0]);
		} else {
			struct buf b = BUF_INIT;
			char *abs = absolute(o->files[0]);

			rc = mf_read_manifest_file(o->files[0], &b);
			if (!rc)
				rc = mf_add_file(&c, o->files[0], abs, dir,
				                 vars, buf_cstr(&b), b.len,
				                 &ix[0]);
			free(abs);
			buf_release(&b);
		}
		if (rc)
			goto out;
	}
	for (size_t i = 1; i < o->nfiles; i++) {
		struct buf b = BUF_INIT;
		char *abs = NULL;

		if (!strcmp(o->files[i], MANIFEST_STDIN)) {
			char *d = NULL;

			if (stdin_seen) {
				rc = orch_error_code(ORCH_EINVALID,
				                     "-f -: standard input can "
				                     "be read only once");
				goto out;
			}
			stdin_seen = 1;
			rc = mf_read_manifest_stdin(&b, &d);
			free(d);
			if (!rc)
				rc = mf_add_file(&c, MANIFEST_STDIN_NAME, NULL,
				                 dir, vars, buf_cstr(&b), b.len,
				                 &ix[i]);
		} else {
			abs = absolute(o->files[i]);
			rc = mf_read_manifest_file(o->files[i], &b);
			if (!rc)
				rc = mf_add_file(&c, o->files[i], abs, dir,
				                 vars, buf_cstr(&b), b.len,
				                 &ix[i]);
		}
		free(abs);
		buf_release(&b);
		if (rc)
			goto out;
	}
	m->dir = xstrdup(dir);
	active_profiles(o, c.vars[0]->dotenv, &m->profiles);
	c.profiles = (const char *const *)m->profiles.v;
	c.nprofiles = m->profiles.n;
	rc = mf_project_load(&c, ix, o->nfiles, &root);
	if (!rc)
		rc = mf_walk(&c, root);
out:
	/* what was found before an error is said too, in file order */
	mf_flush_warnings(&c);
	if (rc)
		goto done;
	*out = m;
	m = NULL;
done:
	if (dotenv) {
		dotenv_release(dotenv);
		free(dotenv);
	}
	mf_conv_release(&c);
	manifest_free(m);
	free(ix);
	free(dir);
	free(stdin_dir);
	return rc;
}

int manifest_load_buffer(const char *origin, const char *data, size_t len,
                         const char *(*getenv_fn)(const char *name),
                         struct strvec *warnings, struct manifest **out)
{
	const char *files[] = { origin };
	const char *none[] = { NULL };
	struct manifest_opts o = { files, 1, none, 0, getenv_fn };

	return load(&o, data, len, 0, warnings, out);
}

int manifest_load_opts(const struct manifest_opts *o, struct strvec *warnings,
                       struct manifest **out)
{
	*out = NULL;
	if (!o->nfiles)
		return orch_error_code(ORCH_EINVALID, "no manifest file");
	return load(o, NULL, 0, 1, warnings, out);
}

int manifest_load(const char *path, struct strvec *warnings,
                  struct manifest **out)
{
	const char *files[] = { path };
	struct manifest_opts o = { files, 1, NULL, 0, NULL };

	return manifest_load_opts(&o, warnings, out);
}

/* ---- freeing, lookups, discovery, project names ---------------------- */

static void hooks_release(struct mf_hook *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strvec_clear(&h[i].command);
		free(h[i].user);
		free(h[i].working_dir);
		mf_kvs_release(&h[i].environment);
	}
	free(h);
}

static void build_release(struct mf_build *b)
{
	if (!b)
		return;
	free(b->context);
	free(b->dockerfile);
	free(b->dockerfile_inline);
	mf_kvs_release(&b->args);
	free(b->target);
	free(b->network);
	strvec_clear(&b->extra_hosts);
	for (size_t i = 0; i < b->ncontexts; i++) {
		free(b->contexts[i].name);
		free(b->contexts[i].dir);
		free(b->contexts[i].image);
		free(b->contexts[i].service);
	}
	free(b->contexts);
	strvec_clear(&b->secrets);
	mf_kvs_release(&b->labels);
	free(b->buildkit);
	free(b);
}

static void resources_release(struct mf_resources *r)
{
	free(r->cpuset);
	for (size_t k = 0; k < 5; k++) {
		for (size_t i = 0; i < r->nblkio[k]; i++)
			free(r->blkio[k][i].path);
		free(r->blkio[k]);
	}
	for (size_t i = 0; i < r->nulimits; i++)
		free(r->ulimits[i].name);
	free(r->ulimits);
	mf_kvs_release(&r->sysctls);
	mf_kvs_release(&r->storage_opt);
	free(r->cgroup_parent);
	free(r->isolation);
}

static void container_release(struct mf_container *ct)
{
	build_release(ct->build);
	free(ct->image);
	strvec_clear(&ct->command);
	strvec_clear(&ct->entrypoint);
	mf_kvs_release(&ct->environment);
	for (size_t i = 0; i < ct->nports; i++) {
		free(ct->ports[i].host_ip);
		free(ct->ports[i].protocol);
	}
	free(ct->ports);
	for (size_t i = 0; i < ct->nmounts; i++) {
		free(ct->mounts[i].type);
		free(ct->mounts[i].source);
		free(ct->mounts[i].target);
		free(ct->mounts[i].propagation);
		free(ct->mounts[i].selinux);
		free(ct->mounts[i].subpath);
	}
	free(ct->mounts);
	strvec_clear(&ct->tmpfs);
	free(ct->user);
	free(ct->working_dir);
	mf_kvs_release(&ct->labels);
	strvec_clear(&ct->healthcheck.test);
	free(ct->ready.http_path);
	strvec_clear(&ct->ready.exec);
	free(ct->ready.log_regex);
	free(ct->hostname);
	free(ct->domainname);
	strvec_clear(&ct->aliases);
	strvec_clear(&ct->ext_networks);
	strvec_clear(&ct->extra_hosts);
	strvec_clear(&ct->dns);
	strvec_clear(&ct->dns_search);
	strvec_clear(&ct->dns_opt);
	strvec_clear(&ct->expose);
	strvec_clear(&ct->cap_add);
	strvec_clear(&ct->cap_drop);
	strvec_clear(&ct->security_opt);
	strvec_clear(&ct->group_add);
	strvec_clear(&ct->devices);
	strvec_clear(&ct->device_cgroup_rules);
	mf_kvs_release(&ct->annotations);
	resources_release(&ct->res);
	free(ct->stop_signal);
	free(ct->restart);
	free(ct->platform);
	free(ct->runtime);
	free(ct->pid);
	free(ct->ipc);
	free(ct->uts);
	free(ct->userns_mode);
	free(ct->cgroupns);
	free(ct->network_mode);
	free(ct->network_service);
	free(ct->ipc_service);
	strvec_clear(&ct->volumes_from);
	for (size_t i = 0; i < ct->ndevice_requests; i++) {
		struct mf_device_request *d = &ct->device_requests[i];

		free(d->driver);
		strvec_clear(&d->device_ids);
		strvec_clear(&d->capabilities);
		mf_kvs_release(&d->options);
	}
	free(ct->device_requests);
	hooks_release(ct->post_start, ct->npost_start);
	hooks_release(ct->pre_stop, ct->npre_stop);
	for (size_t i = 0; i < ct->nfiles; i++) {
		free(ct->files[i].name);
		free(ct->files[i].target);
		free(ct->files[i].source_path);
		free(ct->files[i].content);
	}
	free(ct->files);
}

static void secrets_release(struct mf_secret *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].file);
		free(s[i].env);
		free(s[i].content);
	}
	free(s);
}

static void services_release(struct mf_service *ss, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mf_service *s = &ss[i];

		free(s->name);
		container_release(&s->real);
		if (s->stub) {
			container_release(s->stub);
			free(s->stub);
		}
		for (size_t d = 0; d < s->ndeps; d++)
			free(s->deps[d].name);
		free(s->deps);
		strvec_clear(&s->profiles);
	}
	free(ss);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	services_release(m->services, m->nservices);
	services_release(m->inactive, m->ninactive);
	for (size_t i = 0; i < m->nsuites; i++) {
		struct mf_suite *su = &m->suites[i];

		free(su->name);
		strvec_clear(&su->targets);
		free(su->target_index);
		container_release(&su->container);
		strvec_clear(&su->command);
		mf_kvs_release(&su->environment);
		strvec_clear(&su->artifacts);
		strvec_clear(&su->tags);
	}
	free(m->suites);
	for (size_t i = 0; i < m->nvolumes; i++)
		free(m->volumes[i].name);
	free(m->volumes);
	secrets_release(m->secrets, m->nsecrets);
	secrets_release(m->configs, m->nconfigs);
	strvec_clear(&m->files);
	strvec_clear(&m->profiles);
	free(m->path);
	free(m->dir);
	free(m->name);
	free(m->strategy);
	strvec_clear(&m->mask);
	free(m);
}

int manifest_service_index(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nservices; i++)
		if (!strcmp(m->services[i].name, name))
			return (int)i;
	return -1;
}

int manifest_discover(const char *explicit_path, char **path)
{
	static const char *const defaults[] = { "orchestrate.yaml",
		                                "orchestrate.yml" };
	const char *env = getenv("ORCHESTRATE_FILE");

	*path = NULL;
	if (explicit_path) {
		if (!strcmp(explicit_path, MANIFEST_STDIN)) {
			*path = xstrdup(MANIFEST_STDIN);
			return 0;
		}
		if (access(explicit_path, F_OK))
			return orch_error_code(ORCH_ENOTFOUND,
			                       "manifest '%s' not found: %s",
			                       explicit_path, strerror(errno));
		*path = xstrdup(explicit_path);
		return 0;
	}
	if (env && *env) {
		if (strcmp(env, MANIFEST_STDIN) && access(env, F_OK))
			return orch_error_code(
			        ORCH_ENOTFOUND,
			        "manifest '%s' (from "
			        "ORCHESTRATE_FILE) not found: %s",
			        env, strerror(errno));
		*path = xstrdup(env);
		return 0;
	}
	for (size_t i = 0; i < 2; i++) {
		if (!access(defaults[i], F_OK)) {
			*path = xstrdup(defaults[i]);
			return 0;
		}
	}
	return orch_error_code(ORCH_ENOTFOUND,
	                       "no manifest found: tried -f, ORCHESTRATE_FILE, "
	                       "orchestrate.yaml and orchestrate.yml in the "
	                       "current directory");
}

/* path exists (as a file, a fifo, ...: what -f would take) */
static int exists(const char *path)
{
	return !access(path, F_OK);
}

/* NAME.yaml -> NAME.override.yaml or .yml, when one exists */
static void add_override(const char *base, struct strvec *files)
{
	const char *dot = strrchr(base, '.');
	static const char *const ext[] = { "yaml", "yml" };

	for (size_t i = 0; dot && i < 2; i++) {
		char *o = xasprintf("%.*s.override.%s", (int)(dot - base), base,
		                    ext[i]);

		if (exists(o)) {
			strvec_push_nodup(files, o);
			return;
		}
		free(o);
	}
}

static int discover_files(const char *const *explicit_paths, size_t n,
                          const char *env, const char *cf, const char *sep,
                          const char *from, struct strvec *files,
                          struct strvec *notes);

int manifest_discover_files(const char *const *explicit_paths, size_t n,
                            struct strvec *files, struct strvec *notes)
{
	const char *env = getenv("ORCHESTRATE_FILE");
	char *cf =
	        xstrdup(getenv("COMPOSE_FILE") ? getenv("COMPOSE_FILE") : "");
	char *sep = xstrdup(getenv("COMPOSE_PATH_SEPARATOR")
	                            ? getenv("COMPOSE_PATH_SEPARATOR")
	                            : "");
	const char *from = "COMPOSE_FILE";
	int rc;

	/* Compose reads them from the directory's .env too */
	if (!n && !(env && *env) && !*cf) {
		struct dotenv d = DOTENV_INIT;

		if (!mf_read_dotenv(".env", NULL, NULL, &d) &&
		    dotenv_get(&d, "COMPOSE_FILE", NULL)) {
			free(cf);
			cf = xstrdup(dotenv_get(&d, "COMPOSE_FILE", NULL));
			from = "COMPOSE_FILE in .env";
			if (!*sep &&
			    dotenv_get(&d, "COMPOSE_PATH_SEPARATOR", NULL)) {
				free(sep);
				sep = xstrdup(dotenv_get(
				        &d, "COMPOSE_PATH_SEPARATOR", NULL));
			}
		}
		dotenv_release(&d);
	}
	rc = discover_files(explicit_paths, n, env, cf, sep, from, files,
	                    notes);
	free(cf);
	free(sep);
	return rc;
}

static const char *const manifest_names[] = {
	"orchestrate.yaml", "orchestrate.yml",     "compose.yaml",
	"compose.yml",      "docker-compose.yaml", "docker-compose.yml",
};
#define NMANIFEST_NAMES (sizeof(manifest_names) / sizeof(*manifest_names))

struct find_ctx {
	struct strvec *files, *notes;
};

/* walk_up(): the first manifest name in directory up, and its override */
static int find_in(const char *up, void *ud)
{
	struct find_ctx *fc = ud;

	for (size_t i = 0; i < NMANIFEST_NAMES; i++) {
		char *f = xasprintf("%s%s", up, manifest_names[i]);

		if (!exists(f)) {
			free(f);
			continue;
		}
		strvec_push_nodup(fc->files, f);
		add_override(f, fc->files);
		/* Compose: several candidates is a warning, not an error.
		   orchestrate.yaml beside a Compose file is not: the project
		   keeps its Compose file for other uses, and orchestrate's
		   own name is the deliberate choice. */
		for (size_t j = i + 1; fc->notes && j < NMANIFEST_NAMES; j++) {
			char *g = xasprintf("%s%s", up, manifest_names[j]);

			if ((i >= 2 || j < 2) && exists(g))
				strvec_pushf(fc->notes,
				             "found several manifests: using "
				             "'%s', not '%s'",
				             f, g);
			free(g);
		}
		return 1;
	}
	return 0;
}

static int discover_files(const char *const *explicit_paths, size_t n,
                          const char *env, const char *cf, const char *sep,
                          const char *from, struct strvec *files,
                          struct strvec *notes)
{
	struct find_ctx fc = { files, notes };

	strvec_clear(files);
	if (n) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(explicit_paths[i], MANIFEST_STDIN) &&
			    !exists(explicit_paths[i]))
				return orch_error_code(
				        ORCH_ENOTFOUND,
				        "manifest '%s' not found: %s",
				        explicit_paths[i], strerror(errno));
			strvec_push(files, explicit_paths[i]);
		}
		return 0;
	}
	if (env && *env) {
		char *p = NULL;
		int rc = manifest_discover(NULL, &p);

		if (!rc)
			strvec_push_nodup(files, p);
		return rc;
	}
	if (*cf) {
		char sepc = *sep ? sep[0] : ':';
		const char *p = cf;

		while (*p) {
			size_t l = 0;
			char *f;

			while (p[l] && p[l] != sepc)
				l++;
			f = xstrndup(p, l);
			if (*f && !exists(f)) {
				int rc = orch_error_code(
				        ORCH_ENOTFOUND,
				        "manifest '%s' (from %s) not found: "
				        "%s",
				        f, from, strerror(errno));

				free(f);
				return rc;
			}
			if (*f)
				strvec_push_nodup(files, f);
			else
				free(f);
			p += l + (p[l] == sepc);
		}
		if (files->n)
			return 0;
	}
	/* a command run in a subdirectory of the project finds its
	   manifest, as with Compose */
	if (walk_up(find_in, &fc))
		return 0;
	return orch_error_code(ORCH_ENOTFOUND,
	                       "no manifest found: tried -f, ORCHESTRATE_FILE, "
	                       "COMPOSE_FILE, orchestrate.yaml, "
	                       "orchestrate.yml, compose.yaml, compose.yml, "
	                       "docker-compose.yaml and docker-compose.yml in "
	                       "the current directory and its parents");
}

/* Compose's rule for a name taken from a directory: lower it, drop the rest. */
static char *normalize_project(const char *s)
{
	struct buf b = BUF_INIT;

	for (; *s; s++) {
		char ch = *s;

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ((ch == '_' || ch == '-') && b.len))
			buf_addch(&b, ch);
	}
	return buf_detach(&b, NULL);
}

int manifest_project_name(const struct manifest *m, const char *explicit_name,
                          char **name)
{
	const char *env = getenv("ORCHESTRATE_PROJECT");
	const char *given = NULL, *from = NULL;
	char cwd[PATH_MAX], *n;
	const char *dir;

	*name = NULL;
	if (explicit_name) {
		given = explicit_name;
		from = "-p";
	} else if (env && *env) {
		given = env;
		from = "ORCHESTRATE_PROJECT";
	} else if (m && m->name) {
		given = m->name;
		from = "name:";
	}
	if (given) {
		if (project_name_check(given, from))
			return ORCH_EINVALID;
		*name = xstrdup(given);
		return 0;
	}
	if (m && m->dir) {
		dir = m->dir;
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return orch_error_code(ORCH_EINVALID,
			                       "cannot name the project: %s",
			                       strerror(errno));
		dir = cwd;
	}
	dir = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	n = normalize_project(dir);
	if (!*n) {
		free(n);
		return orch_error_code(ORCH_EINVALID,
		                       "cannot derive a project name from the "
		                       "directory '%s'; use -p or name:",
		                       dir);
	}
	*name = n;
	return 0;
}
