/*
 * console.c: progress lines, plain or coloured, and the status line of
 * what is in flight (console.h). Command layer: it prints. It does not
 * decide what is worth a line -- the commands do.
 */
#include "console.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd.h"

struct console {
	enum console_level level;
	int terminal;
	int shown;                /* the status line is on the screen */
	struct strvec keys, what; /* in flight, in the order they began */
};

static int env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

struct console *console_new(enum console_level level)
{
	struct console *c = xcalloc(1, sizeof(*c));
	const char *term = getenv("TERM");

	c->level = level;
	c->terminal = isatty(STDOUT_FILENO) && !env_set("CI") &&
	              !env_set("NO_COLOR") && !(term && !strcmp(term, "dumb"));
	/* a pipe or a file gets each line as it is printed */
	if (!c->terminal)
		setvbuf(stdout, NULL, _IOLBF, 0);
	return c;
}

static void clear_status(struct console *c)
{
	if (c->shown)
		fputs("\r\x1b[K", stdout);
	c->shown = 0;
}

static int columns(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

/* The status line, cut to the terminal's width (never wrapped). */
static void draw_status(struct console *c)
{
	struct buf b = BUF_INIT;
	int width = columns() - 1, cols = 0;
	size_t cut = 0;

	if (!c->terminal || !c->keys.n) {
		fflush(stdout);
		return;
	}
	for (size_t i = 0; i < c->what.n; i++) {
		buf_addstr(&b, i ? " \xc2\xb7 " : "\xe2\x80\xa6 ");
		buf_addstr(&b, c->what.v[i]);
	}
	/* columns by code points: names are escaped, so no control bytes */
	for (size_t i = 0; i < b.len && cols <= width; i++) {
		if (((unsigned char)b.data[i] & 0xc0) != 0x80)
			cols++;
		if (cols <= width)
			cut = i + 1;
	}
	while (cut < b.len && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
		cut++;
	fputs("\x1b[2m", stdout);
	fwrite(b.data, 1, cut, stdout);
	fputs("\x1b[0m", stdout);
	c->shown = 1;
	fflush(stdout);
	buf_release(&b);
}

void console_free(struct console *c)
{
	if (!c)
		return;
	clear_status(c);
	fflush(stdout);
	strvec_clear(&c->keys);
	strvec_clear(&c->what);
	free(c);
}

int console_is_terminal(const struct console *c)
{
	return c->terminal;
}

int console_shows(const struct console *c, enum console_level level)
{
	return c->level >= level;
}

static const char *style_code(enum console_style st)
{
	switch (st) {
	case CON_HEAD:
		return "\x1b[1m";
	case CON_OK:
		return "\x1b[32m";
	case CON_BAD:
		return "\x1b[1;31m";
	case CON_WARN:
		return "\x1b[33m";
	case CON_DETAIL:
		return "\x1b[2m";
	default:
		return NULL;
	}
}

void console_line(struct console *c, enum console_style st, const char *fmt,
                  ...)
{
	struct buf b = BUF_INIT;
	const char *code = c->terminal ? style_code(st) : NULL;
	va_list ap;

	va_start(ap, fmt);
	cmd_vformat(&b, fmt, ap);
	va_end(ap);
	clear_status(c);
	if (code) {
		/* the indent stays uncoloured */
		size_t lead = strspn(buf_cstr(&b), " ");

		fwrite(b.data, 1, lead, stdout);
		fputs(code, stdout);
		fwrite(b.data + lead, 1, b.len - lead, stdout);
		fputs("\x1b[0m", stdout);
	} else {
		fwrite(b.data ? b.data : "", 1, b.len, stdout);
	}
	fputc('\n', stdout);
	draw_status(c);
	buf_release(&b);
}

void console_busy(struct console *c, const char *key, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int i;

	if (!c->terminal)
		return;
	va_start(ap, fmt);
	cmd_vformat(&b, fmt, ap);
	va_end(ap);
	i = strvec_find(&c->keys, key);
	if (i >= 0) {
		free(c->what.v[i]);
		c->what.v[i] = buf_detach(&b, NULL);
	} else {
		strvec_push(&c->keys, key);
		strvec_push_nodup(&c->what, buf_detach(&b, NULL));
	}
	clear_status(c);
	draw_status(c);
	buf_release(&b);
}

void console_done(struct console *c, const char *key)
{
	int i;

	if (!c->terminal || (i = strvec_find(&c->keys, key)) < 0)
		return;
	free(c->keys.v[i]);
	free(c->what.v[i]);
	memmove(&c->keys.v[i], &c->keys.v[i + 1],
	        (c->keys.n - (size_t)i) * sizeof(char *));
	memmove(&c->what.v[i], &c->what.v[i + 1],
	        (c->what.n - (size_t)i) * sizeof(char *));
	c->keys.n--;
	c->what.n--;
	clear_status(c);
	draw_status(c);
}
