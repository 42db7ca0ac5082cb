/*
 * images.h: the images of a run, resolved in parallel and each once:
 * built when the manifest says `build:`, else inspected, and pulled when
 * the engine does not have it (then inspected again). Everything is
 * asynchronous on the run's engine loop; env.c asks for the image of
 * each container it will create and looks at the answer after each turn.
 *
 * Two containers asking for the same tag share one request (one build,
 * one inspect per run). A build's image is tagged as asked; built images
 * stay (they are the build cache).
 */
#ifndef ORCH_IMAGES_H
#define ORCH_IMAGES_H

#include "engine_ops.h"

struct images;
struct image_req;
struct mf_build;

enum image_state {
	IMAGE_PENDING,
	IMAGE_READY,
	IMAGE_FAILED,
};

/* labels go on built images (project). */
struct images *images_new(struct engine *e, const struct engine_label *labels,
                          size_t nlabels);
/* Calls still running are cancelled. Accepts NULL. */
void images_free(struct images *im);

/*
 * The image tagged tag: built from b when b is set, else inspected and
 * pulled when missing. Starts at once; the same tag asked again is the
 * same request.
 */
struct image_req *images_want(struct images *im, const char *tag,
                              const struct mf_build *b);
enum image_state image_state(const struct image_req *r);
const char *image_tag(const struct image_req *r);
/* IMAGE_READY: what the inspect said. */
const struct engine_image *image_info(const struct image_req *r);
/*
 * IMAGE_FAILED: the code (ORCH_ENOTFOUND, ORCH_ETIMEOUT for a stalled
 * pull or build, ORCH_EENGINE, ORCH_EINTR) and the message: "image 'x'
 * not found locally and could not be pulled: ...", "building image
 * 'p-api:orchestrate' from 'ctx': ...".
 */
int image_error(const struct image_req *r, const char **msg);
/* Any request still running? */
int images_pending(const struct images *im);
/* Cancel every request still running (they fail with ORCH_EINTR). */
void images_cancel(struct images *im);

#endif
