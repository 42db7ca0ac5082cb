/*
 * images.c: a run's images, each built or inspected (and pulled) once,
 * all in parallel (images.h). Each request is a small state machine
 * advanced from its calls' callbacks.
 */
#include "images.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "manifest.h"

enum step { S_BUILD, S_INSPECT, S_PULL, S_DONE };

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

static void submit(struct image_req *r)
{
	struct engine *e = r->im->e;

	switch (r->step) {
	case S_BUILD: {
		const struct mf_build *b = r->build;
		struct engine_label *args =
		        xcalloc(b->args.n + 1, sizeof(*args));
		struct engine_build_opts o = {
			.context_dir = b->context,
			.dockerfile = b->dockerfile,
			.tag = r->tag,
			.buildargs = args,
			.nbuildargs = b->args.n,
			.labels = r->im->labels,
			.nlabels = r->im->nlabels,
			.target = b->target,
		};

		for (size_t i = 0; i < b->args.n; i++)
			args[i] = (struct engine_label){
				b->args.items[i].key,
				b->args.items[i].value ? b->args.items[i].value
				                       : ""
			};
		r->call = engine_image_build_start(e, &o, on_done, r);
		free(args);
		break;
	}
	case S_INSPECT:
		r->call = engine_image_inspect_start(e, r->tag, on_done, r);
		break;
	case S_PULL:
		r->call = engine_image_pull_start(e, r->tag, on_done, r);
		break;
	case S_DONE:
		break;
	}
}

static void on_done(struct engine_call *c, void *ud)
{
	struct image_req *r = ud;
	int rc;

	r->call = NULL;
	switch (r->step) {
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
		r->state = IMAGE_READY;
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
	r->step = b ? S_BUILD : S_INSPECT;
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

		if (r->state != IMAGE_PENDING)
			continue;
		fail(r, ORCH_EINTR, "image '%s': interrupted", r->tag);
		/* on_done sees S_DONE, and frees the call */
		if (c)
			engine_call_cancel(c);
	}
}
