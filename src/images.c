/*
 * images.c: a run's images, each built or inspected (and pulled) once,
 * all in parallel (images.h). Each request is a small state machine
 * advanced from its calls' callbacks.
 *
 * A build with additional_contexts (Compose's named contexts, which the
 * engine's classic builder does not have) first builds each directory as
 * an image of its own (FROM scratch, COPY . /), then the service's with
 * its Dockerfile's references to the names (FROM NAME, COPY --from=NAME,
 * --mount=...from=NAME) turned into those images.
 */
#include "images.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "labels.h"
#include "manifest.h"
#include "tar.h"

/*
 * A build: S_OLD (what the tag names now), then S_CONTEXT, S_BUILD,
 * S_INSPECT (ready), then S_SUPERSEDED, once ready, when the build moved
 * the tag off an image an earlier run built. Otherwise S_INSPECT, and
 * S_PULL when missing.
 */
enum step {
	S_OLD,
	S_CONTEXT,
	S_BUILD,
	S_INSPECT,
	S_SUPERSEDED,
	S_PULL,
	S_DONE
};

struct image_req {
	struct images *im;
	char *tag;
	const struct mf_build *build;
	enum step step;
	enum image_state state;
	struct engine_call *call;
	struct engine_image img;
	int code;
	char *msg;
	size_t ctx_i;           /* additional contexts built so far */
	struct strvec ctx_refs; /* the image of each */
	char *dockerfile;       /* rewritten for them; NULL: as given */
	char *old_id; /* the image the tag named before, built by orchestrate */
	struct image_req *next;
};

struct images {
	struct engine *e;
	struct engine_label *labels;
	size_t nlabels;
	struct image_req *reqs;
};

struct images *images_new(struct engine *e, const struct engine_label *labels,
                          size_t nlabels)
{
	struct images *im = xcalloc(1, sizeof(*im));

	im->e = e;
	im->labels = xcalloc(nlabels + 1, sizeof(*im->labels));
	memcpy(im->labels, labels, nlabels * sizeof(*labels));
	im->nlabels = nlabels;
	return im;
}

void images_free(struct images *im)
{
	struct image_req *r, *next;

	if (!im)
		return;
	images_cancel(im); /* the calls' callbacks free them */
	for (r = im->reqs; r; r = next) {
		next = r->next;
		engine_image_release(&r->img);
		free(r->tag);
		free(r->msg);
		strvec_clear(&r->ctx_refs);
		free(r->dockerfile);
		free(r->old_id);
		free(r);
	}
	free(im->labels);
	free(im);
}

static void fail(struct image_req *r, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void fail(struct image_req *r, int code, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(r->msg);
	r->msg = buf_detach(&b, NULL);
	r->code = code;
	r->state = IMAGE_FAILED;
	r->step = S_DONE;
}

static void on_done(struct engine_call *c, void *ud);

/* The image of an additional context directory: `REPO-ctx-NAME:orchestrate` */
static char *context_tag(const struct image_req *r, const char *name)
{
	const char *colon = strrchr(r->tag, ':'), *slash = strrchr(r->tag, '/');
	size_t l = colon && (!slash || colon > slash) ? (size_t)(colon - r->tag)
	                                              : strlen(r->tag);

	return xasprintf("%.*s-ctx-%s:orchestrate", (int)l, r->tag, name);
}

/* Is the word at s (len l) one of the contexts? Its image, or NULL. */
static const char *context_ref(const struct image_req *r, const char *s,
                               size_t l)
{
	for (size_t i = 0; i < r->build->ncontexts; i++)
		if (strlen(r->build->contexts[i].name) == l &&
		    !strncmp(s, r->build->contexts[i].name, l))
			return r->ctx_refs.v[i];
	return NULL;
}

/*
 * The Dockerfile with FROM NAME, COPY --from=NAME and --mount=...from=NAME
 * of a context NAME replaced by its image. Lines are read as the builder
 * reads instructions: the first word, case aside, then its flags.
 */
static char *rewrite_dockerfile(const struct image_req *r, const char *text)
{
	struct buf out = BUF_INIT;
	const char *p = text;

	while (*p) {
		size_t ll = strcspn(p, "\n");
		const char *e = p + ll, *w = p;
		int is_from;

		while (w < e && (*w == ' ' || *w == '\t'))
			w++;
		is_from = e - w > 5 && !strncasecmp(w, "FROM", 4) &&
		          (w[4] == ' ' || w[4] == '\t');
		while (p < e) {
			size_t tl;
			const char *hit = NULL, *from;

			/* one word at a time, spaces copied */
			if (*p == ' ' || *p == '\t') {
				buf_addch(&out, *p++);
				continue;
			}
			tl = strcspn(p, " \t\n");
			from = NULL;
			if (!strncmp(p, "--from=", 7))
				from = p + 7;
			else if (!strncmp(p, "--mount=", 8)) {
				const char *f = strstr(p, "from=");

				if (f && f < p + tl)
					from = f + 5;
			}
			if (from) {
				size_t fl = strcspn(from, " \t\n,");

				hit = context_ref(r, from, fl);
				if (hit) {
					buf_add(&out, p, (size_t)(from - p));
					buf_addstr(&out, hit);
					buf_add(&out, from + fl,
					        (size_t)(p + tl - from - fl));
					p += tl;
					continue;
				}
			} else if (is_from && p > w + 3 &&
			           strncmp(p, "--", 2)) {
				/* FROM's image: the first word after flags */
				is_from = 0;
				hit = context_ref(r, p, tl);
				if (hit) {
					buf_addstr(&out, hit);
					p += tl;
					continue;
				}
			}
			buf_add(&out, p, tl);
			p += tl;
		}
		if (*p == '\n')
			buf_addch(&out, *p++);
	}
	return buf_detach(&out, NULL);
}

/* The service's Dockerfile text: inline, or read from the context. */
static int read_dockerfile(const struct mf_build *b, char **text)
{
	struct buf t = BUF_INIT;
	char *rel = NULL, *path;
	int rc;

	*text = NULL;
	if (b->dockerfile_inline) {
		*text = xstrdup(b->dockerfile_inline);
		return 0;
	}
	rc = tar_dockerfile(b->context,
	                    b->dockerfile ? b->dockerfile : "Dockerfile", &rel);
	if (rc)
		return rc;
	path = xasprintf("%s/%s", b->context, rel);
	rc = read_file(path, &t, 1 << 20);
	if (!rc)
		*text = buf_detach(&t, NULL);
	buf_release(&t);
	free(path);
	free(rel);
	return rc;
}

/* Build labels: the manifest's, then the run's (which win). */
static struct engine_label *build_labels(const struct image_req *r, size_t *n)
{
	const struct mf_kvs *kv = &r->build->labels;
	struct engine_label *l =
	        xcalloc(kv->n + r->im->nlabels + 1, sizeof(*l));

	*n = 0;
	for (size_t i = 0; i < kv->n; i++)
		l[(*n)++] = (struct engine_label){ kv->items[i].key,
			                           kv->items[i].value
			                                   ? kv->items[i].value
			                                   : "" };
	for (size_t i = 0; i < r->im->nlabels; i++)
		l[(*n)++] = r->im->labels[i];
	return l;
}

/* The request building b, if there is one. */
static struct image_req *find_build(struct images *im, const struct mf_build *b)
{
	for (struct image_req *q = im->reqs; q; q = q->next)
		if (q->build == b)
			return q;
	return NULL;
}

static void submit_context(struct image_req *r)
{
	const struct mf_build *b = r->build;

	while (r->ctx_i < b->ncontexts) {
		const struct mf_context *x = &b->contexts[r->ctx_i];
		struct image_req *dep;

		if (x->image) {
			strvec_push(&r->ctx_refs, x->image);
			r->ctx_i++;
			continue;
		}
		if (!x->service_build)
			break;
		/* service:NAME: that service's image, built first */
		dep = find_build(r->im, x->service_build);
		if (!dep) {
			char *tag = context_tag(r, x->name);

			dep = images_want(r->im, tag, x->service_build);
			free(tag);
		}
		if (dep->state == IMAGE_PENDING)
			return; /* on_done() submits r again */
		if (dep->state == IMAGE_FAILED) {
			fail(r, dep->code,
			     "building image '%s': context '%s': %s", r->tag,
			     x->name, dep->msg ? dep->msg : "");
			return;
		}
		strvec_push(&r->ctx_refs, dep->tag);
		r->ctx_i++;
	}
	if (r->ctx_i < b->ncontexts) {
		char *tag = context_tag(r, b->contexts[r->ctx_i].name);
		struct engine_build_opts o = {
			.context_dir = b->contexts[r->ctx_i].dir,
			.tag = tag,
			.labels = r->im->labels,
			.nlabels = r->im->nlabels,
			.dockerfile_inline = "FROM scratch\nCOPY . /\n",
		};

		strvec_push_nodup(&r->ctx_refs, tag);
		r->call = engine_image_build_start(r->im->e, &o, on_done, r);
		return;
	}
	/* every context has its image: the service's own build */
	{
		char *text = NULL;
		int rc = read_dockerfile(b, &text);

		if (rc) {
			fail(r, ORCH_EENGINE,
			     "building image '%s' from '%s': %s", r->tag,
			     b->context, orch_error_last());
			return;
		}
		r->dockerfile = rewrite_dockerfile(r, text);
		free(text);
		r->step = S_BUILD;
	}
}

static void submit(struct image_req *r)
{
	struct engine *e = r->im->e;

	switch (r->step) {
	case S_OLD:
		r->call = engine_image_inspect_start(e, r->tag, on_done, r);
		break;
	case S_CONTEXT:
		submit_context(r);
		if (r->step != S_BUILD)
			break;
		/* fall through */
	case S_BUILD: {
		const struct mf_build *b = r->build;
		struct engine_label *args = xcalloc(b->args.n + 1,
		                                    sizeof(*args)),
		                    *labels;
		struct engine_build_opts o = {
			.context_dir = b->context,
			.dockerfile = b->dockerfile,
			.tag = r->tag,
			.buildargs = args,
			.nbuildargs = b->args.n,
			.target = b->target,
			.dockerfile_inline = r->dockerfile
			                             ? r->dockerfile
			                             : b->dockerfile_inline,
			.network_mode = b->network,
			.extra_hosts =
			        b->extra_hosts.n ? b->extra_hosts.v : NULL,
		};

		if (b->buildkit) {
			/* accepted by validate with a warning; refused here */
			fail(r, ORCH_EUNSUPPORTED,
			     "building image '%s': 'build.%s' needs BuildKit, "
			     "which orchestrate's builder (the engine's classic "
			     "one) does not use",
			     r->tag, b->buildkit);
			free(args);
			break;
		}
		labels = build_labels(r, &o.nlabels);
		o.labels = labels;
		for (size_t i = 0; i < b->args.n; i++)
			args[i] = (struct engine_label){
				b->args.items[i].key,
				b->args.items[i].value ? b->args.items[i].value
				                       : ""
			};
		r->call = engine_image_build_start(e, &o, on_done, r);
		free(args);
		free(labels);
		break;
	}
	case S_INSPECT:
		r->call = engine_image_inspect_start(e, r->tag, on_done, r);
		break;
	case S_PULL:
		r->call = engine_image_pull_start(e, r->tag, on_done, r);
		break;
	case S_SUPERSEDED: /* started by on_done, the image ready */
	case S_DONE:
		break;
	}
}

/*
 * Builds waiting for another's image (service: contexts) look again,
 * until none moves: one that fails fails those waiting for it.
 */
static void wake_waiters(struct images *im)
{
	int moved;

	do {
		moved = 0;
		for (struct image_req *q = im->reqs; q; q = q->next) {
			if (q->step != S_CONTEXT || q->call ||
			    q->state != IMAGE_PENDING)
				continue;
			submit(q);
			moved |= q->call || q->state != IMAGE_PENDING ||
			         q->step != S_CONTEXT;
		}
	} while (moved);
}

static void on_done(struct engine_call *c, void *ud)
{
	struct image_req *r = ud;
	int rc;

	r->call = NULL;
	switch (r->step) {
	case S_OLD: {
		struct engine_image old;

		/* absent, or not one of ours: nothing to tidy afterwards */
		if (!engine_image_inspect_result(c, &old) &&
		    engine_label_get(&old.labels, LABEL_BUILT_BY) && old.id) {
			r->old_id = old.id;
			old.id = NULL;
		}
		engine_image_release(&old);
		r->step = r->build->ncontexts ? S_CONTEXT : S_BUILD;
		break;
	}
	case S_CONTEXT:
		rc = engine_image_build_result(c, NULL);
		if (rc) {
			fail(r,
			     rc == ORCH_ETOOBIG || rc == ORCH_ETIMEOUT ||
			                     rc == ORCH_EINTR
			             ? rc
			             : ORCH_EENGINE,
			     "building image '%s': context '%s' from '%s': %s",
			     r->tag, r->build->contexts[r->ctx_i].name,
			     r->build->contexts[r->ctx_i].dir,
			     orch_error_last());
			break;
		}
		r->ctx_i++;
		break;
	case S_BUILD:
		rc = engine_image_build_result(c, NULL);
		if (rc) {
			/* a stalled build keeps its ORCH_ETIMEOUT */
			fail(r,
			     rc == ORCH_ETIMEOUT || rc == ORCH_EINTR
			             ? rc
			             : ORCH_EENGINE,
			     "building image '%s' from '%s': %s", r->tag,
			     r->build->context, orch_error_last());
			break;
		}
		r->step = S_INSPECT;
		break;
	case S_INSPECT:
		rc = engine_image_inspect_result(c, &r->img);
		if (rc == ORCH_ENOTFOUND && !r->build) {
			r->step = S_PULL;
			break;
		}
		if (rc) {
			fail(r, rc, "image '%s': %s", r->tag,
			     orch_error_last());
			break;
		}
		/*
		 * The build moved the tag off an image an earlier run built
		 * (another project's, say): left untagged, it would pile up
		 * run after run. Removed without force, so one a container
		 * uses, or that has another tag, stays (409, ignored).
		 */
		r->state = IMAGE_READY;
		r->step = S_DONE;
		/* after ready: nothing waits for it, whatever it answers */
		if (r->old_id && r->img.id && strcmp(r->old_id, r->img.id)) {
			r->step = S_SUPERSEDED;
			r->call = engine_image_remove_start(r->im->e, r->old_id,
			                                    on_done, r);
		}
		break;
	case S_SUPERSEDED:
		r->step = S_DONE;
		break;
	case S_PULL:
		rc = engine_image_pull_result(c);
		if (rc) {
			/* a stalled pull keeps its ORCH_ETIMEOUT */
			fail(r,
			     rc == ORCH_ETIMEOUT || rc == ORCH_EINTR
			             ? rc
			             : ORCH_ENOTFOUND,
			     "image '%s' not found locally and could not be "
			     "pulled: pulling '%s': %s",
			     r->tag, r->tag, orch_error_last());
			break;
		}
		r->step = S_INSPECT;
		break;
	case S_DONE:
		break;
	}
	engine_call_free(c);
	if (r->state == IMAGE_PENDING)
		submit(r);
	if (r->state != IMAGE_PENDING)
		wake_waiters(r->im);
}

struct image_req *images_want(struct images *im, const char *tag,
                              const struct mf_build *b)
{
	struct image_req *r;

	for (r = im->reqs; r; r = r->next)
		if (!strcmp(r->tag, tag))
			return r;
	r = xcalloc(1, sizeof(*r));
	r->im = im;
	r->tag = xstrdup(tag);
	r->build = b;
	r->step = b ? S_OLD : S_INSPECT;
	r->next = im->reqs;
	im->reqs = r;
	submit(r);
	return r;
}

enum image_state image_state(const struct image_req *r)
{
	return r->state;
}

const char *image_tag(const struct image_req *r)
{
	return r->tag;
}

const struct engine_image *image_info(const struct image_req *r)
{
	return r->state == IMAGE_READY ? &r->img : NULL;
}

int image_error(const struct image_req *r, const char **msg)
{
	if (msg)
		*msg = r->msg ? r->msg : "";
	return r->code;
}

int images_pending(const struct images *im)
{
	for (const struct image_req *r = im->reqs; r; r = r->next)
		if (r->state == IMAGE_PENDING)
			return 1;
	return 0;
}

void images_cancel(struct images *im)
{
	for (struct image_req *r = im->reqs; r; r = r->next) {
		struct engine_call *c = r->call;

		/* a superseded image's removal: left, as when it fails */
		if (r->step == S_SUPERSEDED && c) {
			r->step = S_DONE;
			engine_call_cancel(c);
			continue;
		}
		if (r->state != IMAGE_PENDING)
			continue;
		fail(r, ORCH_EINTR, "image '%s': interrupted", r->tag);
		/* on_done sees S_DONE, and frees the call */
		if (c)
			engine_call_cancel(c);
	}
}
