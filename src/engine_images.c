/*
 * engine_images.c: image operations -- inspect (what orchestrate needs
 * of an image: id, platform, Entrypoint/Cmd, healthcheck), pull, build
 * from a context we tar ourselves, import, remove (engine_ops.h).
 */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "error.h"
#include "reference.h"
#include "tar.h"

/* build output kept for messages */
#define BUILD_OUTPUT_CAP (64u << 10)

static void image_path(struct buf *p, const char *ref, const char *suffix)
{
	buf_addstr(p, "/images/");
	engine_url_escape(p, ref);
	buf_addstr(p, suffix);
}

/* ---- inspect ------------------------------------------------------------ */

/* A reference that is not one never reaches a request path. */
static struct engine_call *bad_ref(struct engine *e, const char *method,
                                   const char *path, engine_done_fn done,
                                   void *ud)
{
	struct engine_request r = {
		.method = method, .path = path, .on_done = done, .ud = ud
	};

	return engine_call_failed(e, &r, ORCH_EINVALID, orch_error_last());
}

struct engine_call *engine_image_inspect_start(struct engine *e,
                                               const char *ref,
                                               engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	if (reference_check_image(ref))
		return bad_ref(e, "GET", "/images/(invalid)/json", done, ud);
	image_path(&p, ref, "/json");
	c = engine_call_simple(e, "GET", p.data, NULL, 0, 0, done, ud);
	buf_release(&p);
	return c;
}

static int64_t ns_of(const cJSON *o, const char *key)
{
	return (int64_t)ej_num(o, key, 0, 9.2e18, 0);
}

int engine_image_inspect_result(const struct engine_call *c,
                                struct engine_image *img)
{
	const cJSON *cfg, *hc, *it;
	cJSON *j = NULL;
	size_t n = 0;
	int rc;

	if (img)
		memset(img, 0, sizeof(*img));
	rc = engine_call_rc(c);
	if (rc || !img)
		return rc;
	rc = ej_parse(c, &j);
	if (rc)
		return rc;
	img->id = ej_dup(j, "Id");
	img->os = ej_dup(j, "Os");
	img->arch = ej_dup(j, "Architecture");
	img->repo_digests = xcalloc(
	        (size_t)cJSON_GetArraySize(ej_obj(j, "RepoDigests")) + 1,
	        sizeof(char *));
	cJSON_ArrayForEach(it, ej_obj(j, "RepoDigests")) if (cJSON_IsString(it))
	        img->repo_digests[n++] = xstrdup(it->valuestring);
	cfg = ej_obj(j, "Config");
	ej_strvec(ej_obj(cfg, "Entrypoint"), &img->entrypoint);
	ej_strvec(ej_obj(cfg, "Cmd"), &img->cmd);
	hc = ej_obj(cfg, "Healthcheck");
	ej_strvec(ej_obj(hc, "Test"), &img->hc_test);
	img->hc_interval_ns = ns_of(hc, "Interval");
	img->hc_timeout_ns = ns_of(hc, "Timeout");
	img->hc_start_period_ns = ns_of(hc, "StartPeriod");
	img->hc_retries = (int)ej_num(hc, "Retries", 0, 1e6, 0);
	ej_label_set(&img->labels, ej_obj(cfg, "Labels"));
	cJSON_Delete(j);
	return 0;
}

int engine_image_inspect(struct engine *e, const char *ref,
                         struct engine_image *img)
{
	struct engine_call *c = engine_image_inspect_start(e, ref, NULL, NULL);
	int rc = engine_call_run(e, c);

	if (rc == 0)
		rc = engine_image_inspect_result(c, img);
	else if (img)
		memset(img, 0, sizeof(*img));
	engine_call_free(c);
	return rc;
}

void engine_image_release(struct engine_image *img)
{
	if (!img)
		return;
	free(img->id);
	free(img->os);
	free(img->arch);
	for (size_t i = 0; img->repo_digests && img->repo_digests[i]; i++)
		free(img->repo_digests[i]);
	free(img->repo_digests);
	strvec_clear(&img->entrypoint);
	strvec_clear(&img->cmd);
	strvec_clear(&img->hc_test);
	ej_label_set_release(&img->labels);
	memset(img, 0, sizeof(*img));
}

/* ---- pull --------------------------------------------------------------- */

/* Split "name:tag" / "name@digest"; a ':' inside a registry host:port
   is not a tag. */
static void split_ref(const char *ref, char **name, char **tag)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');

	if (strchr(ref, '@') || !colon) {
		*name = xstrdup(ref);
		*tag = xstrdup(strchr(ref, '@') ? "" : "latest");
	} else {
		*name = xstrndup(ref, (size_t)(colon - ref));
		*tag = xstrdup(colon + 1);
	}
}

struct engine_call *engine_image_pull_start(struct engine *e, const char *ref,
                                            engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;
	char *name, *tag;

	if (reference_check_image(ref))
		return bad_ref(e, "POST", "/images/create", done, ud);
	split_ref(ref, &name, &tag);
	buf_addstr(&p, "/images/create?fromImage=");
	engine_url_escape(&p, name);
	if (*tag) {
		buf_addstr(&p, "&tag=");
		engine_url_escape(&p, tag);
	}
	c = engine_progress_start(e, p.data, NULL, 0, 0, NULL,
	                          engine_stall_ms(e, 0), 0, done, ud);
	free(name);
	free(tag);
	buf_release(&p);
	return c;
}

int engine_image_pull_result(const struct engine_call *c)
{
	return engine_call_rc(c);
}

int engine_image_pull(struct engine *e, const char *ref)
{
	struct engine_call *c = engine_image_pull_start(e, ref, NULL, NULL);
	int rc = engine_call_run_free(e, c);

	if (rc)
		orch_error_prefix(rc, "pulling '%s'", ref);
	return rc;
}

/* ---- build -------------------------------------------------------------- */

static void add_json_param(struct buf *p, const char *key,
                           const struct engine_label *l, size_t n)
{
	cJSON *o = ej_labels(l, n);
	char *s = ej_print(o);

	buf_addf(p, "&%s=", key);
	engine_url_escape(p, s);
	cJSON_free(s);
	cJSON_Delete(o);
}

/* The build's own state: the context lives until the call is freed. */
struct build {
	struct buf tar;
};

static void build_free(void *op)
{
	struct build *b = op;

	buf_release(&b->tar);
	free(b);
}

/* dockerfile_inline's name in the context: one no project uses */
#define INLINE_DOCKERFILE ".orchestrate-dockerfile-inline"

struct engine_call *engine_image_build_start(struct engine *e,
                                             const struct engine_build_opts *o,
                                             engine_done_fn done, void *ud)
{
	struct build *b = xcalloc(1, sizeof(*b));
	struct buf p = BUF_INIT;
	struct engine_call *c;
	char *df = NULL;
	int rc;

	buf_addstr(&p, "/build?rm=1&forcerm=1");
	buf_init(&b->tar, o->context_cap ? o->context_cap : (size_t)512 << 20);
	if (o->dockerfile_inline) {
		/* the context, then the Dockerfile under a name of ours */
		df = xstrdup(INLINE_DOCKERFILE);
		rc = tar_context(o->context_dir, NULL, &b->tar);
		if (rc == 0) {
			b->tar.len -= 1024; /* the end marker, written again */
			rc = tar_add_file(&b->tar, df, 0644, 0,
			                  o->dockerfile_inline,
			                  strlen(o->dockerfile_inline));
		}
		if (rc == 0)
			rc = tar_finish(&b->tar);
	} else {
		/* a Dockerfile outside the context, also through a symlink,
		   is refused; a symlink inside it is sent as its target's
		   path */
		rc = tar_dockerfile(
		        o->context_dir,
		        o->dockerfile ? o->dockerfile : "Dockerfile", &df);
		if (rc == 0)
			rc = tar_context(o->context_dir, df, &b->tar);
	}
	if (rc) {
		struct engine_request r = { .method = "POST",
			                    .path = "/build",
			                    .on_done = done,
			                    .ud = ud };
		char *msg = xasprintf("building '%s': %s", o->context_dir,
		                      orch_error_last());

		c = engine_call_failed(e, &r, rc, msg);
		free(msg);
		build_free(b);
		goto out;
	}
	buf_addstr(&p, "&dockerfile=");
	engine_url_escape(&p, df);
	if (o->tag) {
		buf_addstr(&p, "&t=");
		engine_url_escape(&p, o->tag);
	}
	if (o->target) {
		buf_addstr(&p, "&target=");
		engine_url_escape(&p, o->target);
	}
	if (o->nbuildargs)
		add_json_param(&p, "buildargs", o->buildargs, o->nbuildargs);
	if (o->nlabels)
		add_json_param(&p, "labels", o->labels, o->nlabels);
	if (o->network_mode) {
		buf_addstr(&p, "&networkmode=");
		engine_url_escape(&p, o->network_mode);
	}
	for (size_t i = 0; o->extra_hosts && o->extra_hosts[i]; i++) {
		buf_addstr(&p, "&extrahosts=");
		engine_url_escape(&p, o->extra_hosts[i]);
	}
	c = engine_progress_start(e, p.data, b->tar.data, b->tar.len, 1,
	                          "application/x-tar", engine_stall_ms(e, 1),
	                          o->output_cap, done, ud);
	/* the context goes with the call: the progress state holds it */
	engine_progress_hold(c, b, build_free);
out:
	free(df);
	buf_release(&p);
	return c;
}

int engine_image_build_result(const struct engine_call *c, char **image_id)
{
	int rc = engine_call_rc(c);

	if (image_id)
		*image_id = NULL;
	if (rc == 0 && image_id && engine_progress_aux_id(c))
		*image_id = xstrdup(engine_progress_aux_id(c));
	return rc;
}

const struct buf *engine_image_build_output(const struct engine_call *c)
{
	return engine_progress_output(c);
}

int engine_image_build(struct engine *e, const struct engine_build_opts *o,
                       char **image_id)
{
	struct engine_call *c = engine_image_build_start(e, o, NULL, NULL);
	char *id = NULL;
	int rc = engine_call_run(e, c);

	if (rc == 0)
		rc = engine_image_build_result(c, &id);
	engine_call_free(c);
	if (rc) {
		if (!strstr(orch_error_last(), "building '"))
			orch_error_prefix(rc, "building '%s'", o->context_dir);
		goto out;
	}
	if (!id && o->tag) {
		struct engine_image img;

		rc = engine_image_inspect(e, o->tag, &img);
		id = img.id;
		img.id = NULL;
		engine_image_release(&img);
	}
	if (rc == 0 && image_id) {
		*image_id = id;
		id = NULL;
	}
out:
	free(id);
	return rc;
}

/* ---- import, remove ------------------------------------------------------ */

int engine_image_import(struct engine *e, const char *tar_path, const char *ref)
{
	struct buf tar = BUF_INIT, p = BUF_INIT;
	char *name = NULL, *tag = NULL;
	int rc;

	rc = read_file(tar_path, &tar, (size_t)4 << 30);
	if (rc)
		goto out;
	split_ref(ref, &name, &tag);
	buf_addstr(&p, "/images/create?fromSrc=-&repo=");
	engine_url_escape(&p, name);
	if (*tag) {
		buf_addstr(&p, "&tag=");
		engine_url_escape(&p, tag);
	}
	rc = engine_call_run_free(
	        e, engine_progress_start(e, p.data, tar.data, tar.len, 1,
	                                 "application/x-tar",
	                                 engine_stall_ms(e, 1), 0, NULL, NULL));
	if (rc)
		orch_error_prefix(rc, "importing '%s'", tar_path);
out:
	free(name);
	free(tag);
	buf_release(&tar);
	buf_release(&p);
	return rc;
}

struct engine_call *engine_image_remove_start(struct engine *e, const char *ref,
                                              engine_done_fn done, void *ud)
{
	struct buf p = BUF_INIT;
	struct engine_call *c;

	image_path(&p, ref, "");
	c = engine_call_simple(e, "DELETE", p.data, NULL, 0, 0, done, ud);
	buf_release(&p);
	return c;
}

int engine_image_remove(struct engine *e, const char *ref, int force)
{
	struct buf p = BUF_INIT;
	int rc;

	image_path(&p, ref, force ? "?force=1" : "");
	rc = engine_call_run_free(e,
	                          engine_call_simple(e, "DELETE", p.data, NULL,
	                                             0, 0, NULL, NULL));
	buf_release(&p);
	return rc;
}
