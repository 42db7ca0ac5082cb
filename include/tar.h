/*
 * tar.h: a minimal tar (POSIX ustar + PAX) writer for build contexts and
 * copy-in archives, and the .dockerignore matcher the context walk uses.
 *
 * Writing only: reading archives copied out of containers is the job of
 * whoever extracts them (with its own safety checks).
 *
 *   struct buf out = BUF_INIT;          caller-owned; its cap bounds the
 *   buf_init(&out, cap);                whole archive (ORCH_ETOOBIG)
 *   tar_add_file(&out, "a/b", 0644, 0, data, len);
 *   tar_finish(&out);                   the two zero blocks
 *
 * Entries are normalised: relative names with '/' separators (a leading
 * '/', "." and empty elements dropped; ".." refused with ORCH_EINVALID),
 * uid/gid 0, no user or group names. Names longer than ustar allows get a
 * PAX "path"/"linkpath" record; files of 8 GiB or more are refused
 * (ORCH_ETOOBIG). Symlink targets are stored as given.
 */
#ifndef ORCH_TAR_H
#define ORCH_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

int tar_add_file(struct buf *out, const char *name, mode_t mode, int64_t mtime,
                 const void *data, size_t len);
/* The same with an owner (secrets copied into a container: hooks.c). */
int tar_add_file_owned(struct buf *out, const char *name, mode_t mode,
                       unsigned uid, unsigned gid, int64_t mtime,
                       const void *data, size_t len);
int tar_add_dir(struct buf *out, const char *name, mode_t mode, int64_t mtime);
int tar_add_symlink(struct buf *out, const char *name, const char *target,
                    int64_t mtime);
int tar_finish(struct buf *out);

/*
 * .dockerignore patterns (moby's patternmatcher): one per line, '#'
 * comments, leading '/' and "./" dropped, '*', '?', '[...]' within one
 * path element, "**" for any number of elements, '!' to re-include. The
 * last matching pattern wins; a pattern matching a parent directory
 * matches everything below it.
 */
struct tar_ignore {
	struct strvec patterns;
	unsigned char *negate; /* per pattern */
	int has_negation;
};
void tar_ignore_init(struct tar_ignore *ig);
void tar_ignore_parse(struct tar_ignore *ig, const char *text);
/* 1 when path (relative, '/'-separated) is excluded. */
int tar_ignore_match(const struct tar_ignore *ig, const char *path);
void tar_ignore_release(struct tar_ignore *ig);

/*
 * Tar the directory dir into out (whose cap bounds the size): symlinks
 * are stored as symlinks and never followed, sockets, fifos and devices
 * are skipped, .dockerignore in dir is honoured but keep (the Dockerfile
 * path, relative to dir, or NULL) and .dockerignore are always sent, as
 * the docker CLI does. Entries are sorted, so the archive is stable.
 */
int tar_context(const char *dir, const char *keep, struct buf *out);

/*
 * Added: resolve the Dockerfile path (relative to dir) as the docker CLI
 * does: symlinks are followed, and the result must be a regular file
 * inside dir. *rel (free() it) receives its path relative to dir, to send
 * as the build's `dockerfile` and to pass to tar_context() as keep.
 * ORCH_ENOTFOUND when missing; ORCH_EINVALID when absolute, outside the
 * context (also through a symlink) or not a regular file.
 */
int tar_dockerfile(const char *dir, const char *dockerfile, char **rel);

#endif
