/*
 * artifacts.h: what a suite leaves behind, copied into the run's report
 * directory without ever writing outside it: a tar archive the engine
 * copied out of a suite's container, or files on the host (a host suite).
 *
 * The rules, both ways: names are relative and normalised (a leading '/'
 * and "." elements dropped); a name with a ".." element is refused;
 * symlinks, hard links and special files are not followed and not made
 * (refused, named in the list); only regular files and directories are
 * written, each opened relative to the directory above it with
 * O_NOFOLLOW, so a symlink that appears under the destination cannot
 * redirect a write. A size cap bounds what one call writes.
 *
 * Nothing here knows engines or suites; runner.c decides where.
 */
#ifndef ORCH_ARTIFACTS_H
#define ORCH_ARTIFACTS_H

#include <stddef.h>

#include "util.h"

struct artifact_list {
	struct strvec files;   /* written, relative to the destination */
	struct strvec refused; /* "NAME: why" */
	size_t bytes;          /* written */
};
void artifact_list_release(struct artifact_list *l);

/*
 * Extract the tar archive data into dest (made when missing, 0755).
 * Returns 0, ORCH_ETOOBIG when the files would exceed cap bytes (what
 * fits is kept), ORCH_EINVALID for an archive that is not one, or
 * ORCH_ERROR for a failed write (message recorded).
 */
int artifacts_untar(const void *data, size_t len, const char *dest, size_t cap,
                    struct artifact_list *out);

/*
 * Copy the host file or directory src (not followed when it is a
 * symlink) to dest/<its base name>. Same codes as artifacts_untar();
 * ORCH_ENOTFOUND when src does not exist.
 */
int artifacts_copy(const char *src, const char *dest, size_t cap,
                   struct artifact_list *out);

#endif
