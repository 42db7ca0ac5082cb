/*
 * console.h: what a long command (`test`) prints as it goes, on
 * standard output, for a person at a terminal or a CI log alike.
 *
 * Two modes, decided once by console_new():
 *   - plain: standard output is not a terminal, CI is set, NO_COLOR is
 *     set (no-color.org: to anything but the empty string) or TERM is
 *     "dumb". One line per event, exactly what cmd_line() prints, no
 *     escape code; lines leave at once (line-buffered), so a CI log
 *     shows progress as it happens.
 *   - terminal: the same lines, coloured by what they say (a header, a
 *     pass, a failure, details), and one status line at the bottom,
 *     rewritten in place, naming what is in flight (services starting,
 *     suites running); it is cleared before each line and when the
 *     console goes.
 * Either way every line is masked and escaped as cmd_line() does: a
 * secret never shows, a container cannot move the cursor.
 *
 * Verbosity: CONSOLE_QUIET (-q: results and the diagnosis only),
 * CONSOLE_NORMAL, CONSOLE_VERBOSE (-v: each suite's output as it ends);
 * callers ask console_shows() before printing what a level leaves out.
 */
#ifndef ORCH_CONSOLE_H
#define ORCH_CONSOLE_H

#include "util.h"

enum console_style {
	CON_PLAIN,
	CON_HEAD,   /* a stage, the run */
	CON_OK,     /* passed, ready */
	CON_BAD,    /* failed, could not be brought up */
	CON_WARN,   /* flaky, retried */
	CON_DETAIL, /* output lines, notes */
};

enum console_level {
	CONSOLE_QUIET = -1,
	CONSOLE_NORMAL = 0,
	CONSOLE_VERBOSE = 1,
};

struct console;

struct console *console_new(enum console_level level);
/* Clears the status line. Accepts NULL. */
void console_free(struct console *c);
/* Terminal mode? */
int console_is_terminal(const struct console *c);
/* Does the console print what is meant for level? */
int console_shows(const struct console *c, enum console_level level);

/* One line, styled on a terminal. */
void console_line(struct console *c, enum console_style st, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));
/*
 * In flight: key (a service, a suite) is shown on the status line as
 * fmt says until console_done(key). Terminal mode only; nothing in
 * plain mode.
 */
void console_busy(struct console *c, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void console_done(struct console *c, const char *key);

#endif
