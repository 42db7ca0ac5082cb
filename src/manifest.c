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

/* dir: the project directory, absolute; NULL: the manifest's own. */
static int load(const char *origin, const char *dir, const char *data,
                size_t len, struct mf_vars *vars, struct strvec *warnings,
                struct manifest **out)
{
	struct ytree tree = YTREE_INIT;
	struct manifest *m = NULL;
	struct mf_conv c = { 0 };
	int rc;

	*out = NULL;
	rc = ytree_parse(&tree, origin, data, len);
	if (rc)
		goto out;
	m = xcalloc(1, sizeof(*m));
	m->path = xstrdup(origin);
	m->dir = dir ? xstrdup(dir) : origin_dir(origin);
	c.origin = origin;
	c.dir = m->dir;
	c.vars = vars;
	c.warnings = warnings;
	c.m = m;
	rc = mf_walk(&c, tree.root);
	strvec_clear(&c.warned);
	strindex_release(&c.service_ix);
	strindex_release(&c.volume_ix);
	free(c.stamp);
	if (rc)
		goto out;
	*out = m;
	m = NULL;
out:
	manifest_free(m);
	ytree_release(&tree);
	return rc;
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

int manifest_load_buffer(const char *origin, const char *data, size_t len,
                         const char *(*getenv_fn)(const char *name),
                         struct strvec *warnings, struct manifest **out)
{
	struct mf_vars vars = { getenv_fn ? getenv_fn : env_get, NULL };

	return load(origin, NULL, data, len, &vars, warnings, out);
}

static const char *process_lookup(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/*
 * The .env of the project directory (env_path), interpolated as Compose
 * does: the process environment, then the lines above. Absent is fine,
 * unreadable is not; its warnings are named after env_path.
 */
static int read_dotenv(const char *env_path, struct strvec *warnings,
                       struct dotenv *d)
{
	struct strvec w = STRVEC_INIT;
	struct dotenv_interp ip = { process_lookup, NULL,
		                    warnings ? &w : NULL };
	struct buf b = BUF_INIT;
	struct stat st;
	int rc = 0, line = 0, col = 0;

	/* never block on a fifo or read a device */
	if (stat(env_path, &st) || !S_ISREG(st.st_mode))
		goto out;
	rc = read_file(env_path, &b, MF_ENV_FILE_MAX);
	if (rc) {
		rc = orch_error_code(ORCH_EINVALID, "%s", orch_error_last());
		goto out;
	}
	if (dotenv_parse_interp(buf_cstr(&b), b.len, &ip, d, &line, &col)) {
		rc = orch_error_at(env_path, line, col, "%s",
		                   orch_error_last());
		goto out;
	}
	for (size_t i = 0; i < w.n; i++)
		strvec_pushf(warnings, "%s:%s", env_path, w.v[i]);
out:
	strvec_clear(&w);
	buf_release(&b);
	return rc;
}

static int read_manifest_file(const char *path, struct buf *b)
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
static int read_manifest_stdin(struct buf *b, char **dir)
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

int manifest_load(const char *path, struct strvec *warnings,
                  struct manifest **out)
{
	struct dotenv dotenv = DOTENV_INIT;
	struct mf_vars vars = { env_get, &dotenv };
	struct buf b = BUF_INIT;
	const char *origin = path, *slash = strrchr(path, '/');
	char *dir = NULL, *env_path;
	int rc;

	*out = NULL;
	if (!strcmp(path, MANIFEST_STDIN)) {
		origin = MANIFEST_STDIN_NAME;
		env_path = xstrdup(".env");
		rc = read_manifest_stdin(&b, &dir);
	} else {
		env_path = slash ? xasprintf("%.*s/.env", (int)(slash - path),
		                             path)
		                 : xstrdup(".env");
		rc = read_manifest_file(path, &b);
	}
	if (rc)
		goto out;
	rc = read_dotenv(env_path, warnings, &dotenv);
	if (rc)
		goto out;
	rc = load(origin, dir, buf_cstr(&b), b.len, &vars, warnings, out);
out:
	dotenv_release(&dotenv);
	buf_release(&b);
	free(env_path);
	free(dir);
	return rc;
}

/* ---- freeing, lookups, discovery, project names ---------------------- */

static void container_release(struct mf_container *ct)
{
	if (ct->build) {
		free(ct->build->context);
		free(ct->build->dockerfile);
		mf_kvs_release(&ct->build->args);
		free(ct->build->target);
		free(ct->build);
	}
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
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nservices; i++) {
		struct mf_service *s = &m->services[i];

		free(s->name);
		container_release(&s->real);
		if (s->stub) {
			container_release(s->stub);
			free(s->stub);
		}
		for (size_t d = 0; d < s->ndeps; d++)
			free(s->deps[d].name);
		free(s->deps);
	}
	free(m->services);
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
