/*
 * error.c: the last-error message (see error.h).
 *
 * One message per process: orchestrate is single-threaded by design (one
 * poll loop), so there is no thread-local storage here.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char last_error[1024];

/*
 * Formatted aside first: callers wrap the previous message, as in
 * orch_error_code(code, "cannot read %s", orch_error_last()), and
 * vsnprintf() into the buffer it reads from would overwrite its own input.
 */
static void vset(const char *fmt, va_list ap)
{
	char tmp[sizeof(last_error)];

	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	memcpy(last_error, tmp, sizeof(last_error));
}

int orch_error_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(fmt, ap);
	va_end(ap);
	return ORCH_ERROR;
}

int orch_error_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(fmt, ap);
	va_end(ap);
	return code;
}

int orch_error_vat(const char *file, int line, int col, const char *fmt,
                   va_list ap)
{
	char msg[sizeof(last_error)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(last_error, sizeof(last_error), "%s:%d:%d: %s", file, line,
	         col, msg);
	return ORCH_EINVALID;
}

int orch_error_at(const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = orch_error_vat(file, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int orch_error_prefix(int code, const char *fmt, ...)
{
	char prefix[512], old[sizeof(last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, last_error, sizeof(old));
	snprintf(last_error, sizeof(last_error), "%s: %s", prefix, old);
	return code;
}

const char *orch_error_last(void)
{
	return last_error;
}

void orch_error_clear(void)
{
	last_error[0] = '\0';
}
