/*
 * error.h: return codes and the last-error message.
 *
 * Library functions return 0 on success or one of the negative codes below,
 * and record a one-line message with orch_error_set() (libgit2's last-error
 * model). Library code never prints and never exits; the command that called
 * it prints orch_error_last() once and maps the failure to an exit status.
 *
 * Messages are lower case, without a full stop, location first:
 *   "environments/shop.yaml:12:5: unknown key 'helthcheck'"
 *   "service 'db': not ready after 30s: pg_isready exited 2"
 */
#ifndef ORCH_ERROR_H
#define ORCH_ERROR_H

#include <stdarg.h>

enum orch_error_code {
	ORCH_OK = 0,
	ORCH_ERROR = -1,         /* generic or internal failure */
	ORCH_ENOTFOUND = -2,     /* the object does not exist (HTTP 404) */
	ORCH_EINVALID = -3,      /* bad user input or manifest */
	ORCH_ETIMEOUT = -4,      /* a deadline passed */
	ORCH_ECONFLICT = -5,     /* the object exists or is busy (HTTP 409) */
	ORCH_EUNREACHABLE = -6,  /* no engine answers at the address */
	ORCH_EPERM = -7,         /* permission denied (socket, file) */
	ORCH_EENGINE = -8,       /* the engine answered with an error */
	ORCH_ETOOBIG = -9,       /* a size cap was reached */
	ORCH_EINTR = -10,        /* interrupted by a signal */
	ORCH_EUNSUPPORTED = -11, /* needs a newer engine API */
	ORCH_EINPROGRESS = -12,  /* someone else is removing the object */
	ORCH_EBUSY = -13,        /* in use: a network with endpoints, a volume
	                            mounted; try again later */
	ORCH_EADDRINUSE = -14,   /* a host port is taken */
	ORCH_ENOPOOL = -15,      /* no address pool left for a network */
};

/* Exit statuses of the orchestrate command (docs/commands.md). */
enum orch_exit {
	ORCH_EXIT_OK = 0,
	ORCH_EXIT_TESTS = 1,    /* tests failed */
	ORCH_EXIT_USAGE = 2,    /* usage or manifest error */
	ORCH_EXIT_ENV = 3,      /* environment or engine failure */
	ORCH_EXIT_TEARDOWN = 4, /* teardown incomplete */
	ORCH_EXIT_REPORT = 5,   /* report could not be written */
	ORCH_EXIT_SIGINT = 130,
	ORCH_EXIT_SIGTERM = 143,
};

/*
 * Record the message of the failure being returned; returns ORCH_ERROR so
 * that `return orch_error_set(...)` reads naturally. Use orch_error_code()
 * to return another code with the message.
 */
int orch_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int orch_error_code(int code, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/*
 * A located error, the form of every manifest message ("FILE:LINE:COL:
 * message", from 1): returns ORCH_EINVALID, bad input being the only
 * thing with a line and a column.
 */
int orch_error_at(const char *file, int line, int col, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
int orch_error_vat(const char *file, int line, int col, const char *fmt,
                   va_list ap) __attribute__((format(printf, 4, 0)));

/* Prefix the recorded message with "PREFIX: ", keeping the code. */
int orch_error_prefix(int code, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The last recorded message ("" when none); valid until the next set. */
const char *orch_error_last(void);
void orch_error_clear(void);

#endif
