/*
 * gate_argv.c: the argv and archives for running a service behind
 * orchestrate-gate (gate.h).
 */
#include "gate.h"
#include "tar.h"

static void push_all(struct strvec *out, const struct strvec *v)
{
	for (size_t i = 0; v && i < v->n; i++)
		strvec_push(out, v->v[i]);
}

void gate_real_argv(struct strvec *out, int has_entrypoint,
                    const struct strvec *entrypoint,
                    const struct strvec *command,
                    const struct strvec *image_entrypoint,
                    const struct strvec *image_cmd)
{
	int have_cmd = command && command->n > 0;

	if (has_entrypoint) {
		/* a given entrypoint drops the image's Cmd */
		push_all(out, entrypoint);
		if (have_cmd)
			push_all(out, command);
		return;
	}
	push_all(out, image_entrypoint);
	push_all(out, have_cmd ? command : image_cmd);
}

int gate_tar(struct buf *out, const void *data, size_t len)
{
	int rc = tar_add_dir(out, ".orchestrate", 0755, 0);

	if (!rc)
		rc = tar_add_file(out, ".orchestrate/gate", 0755, 0, data, len);
	if (!rc)
		rc = tar_finish(out);
	return rc;
}

int gate_go_tar(struct buf *out)
{
	int rc = tar_add_file(out, ".orchestrate/go", 0644, 0, "", 0);

	if (!rc)
		rc = tar_finish(out);
	return rc;
}
