/*
 * engine_stream.h: decoders for what the Docker engine streams, pure and
 * incremental (feed arbitrary chunks): the multiplexed stdout/stderr
 * frames of logs and exec output, and the progress lines of pulls and
 * builds. No I/O; engine_stream.c also holds the engine modules' NDJSON
 * line splitter (engine_int.h).
 */
#ifndef ORCH_ENGINE_STREAM_H
#define ORCH_ENGINE_STREAM_H

#include <stddef.h>

#include "util.h"

/*
 * Demultiplexer for the 8-byte-header stream format; feed arbitrary
 * chunks. Frames of type 0/1 go to out (and type 2 too, or to err when
 * err is set); type 3 (systemerr) and unknown types fail; a frame longer
 * than max_frame fails instead of allocating.
 */
struct engine_demux {
	unsigned char hdr[8];
	size_t hdr_len;
	size_t remaining; /* payload bytes left in the current frame */
	int stream;
	int failed;
	size_t max_frame; /* engine_demux_init(): 1 MiB */
	/* output past a buffer's cap is dropped and noted here */
	int truncated;
	/* the message of a failure (type 3 payload, bad frame) */
	char errmsg[256];
	size_t errlen;
};
void engine_demux_init(struct engine_demux *d);
int engine_demux_feed(struct engine_demux *d, const char *data, size_t len,
                      struct buf *out, struct buf *err);
/* At end of stream: ORCH_ERROR if a frame was cut short. */
int engine_demux_finish(const struct engine_demux *d);

/*
 * Parse one line of a pull/build progress stream: 0 for progress, an
 * error code with the engine's message for an errorDetail/error line.
 * `stream` text (build output) is appended to out when set.
 */
int engine_progress_line(const char *line, size_t len, struct buf *out);

#endif
