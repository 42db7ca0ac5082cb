/*
 * interp.h: the string rules Compose applies to a manifest's values,
 * without YAML: variable interpolation, the shell-words split of a
 * command given as one string, and dotenv (KEY=VALUE) files.
 *
 * Pure functions over strings: nothing here reads the process
 * environment or files by itself (the caller passes a lookup and the
 * file's contents), so every rule is unit-testable.
 */
#ifndef ORCH_INTERP_H
#define ORCH_INTERP_H

#include <stddef.h>

#include "util.h"

/*
 * Look a variable up: its value, or NULL when it is not set (an empty
 * string is "set but empty", which the ':' forms treat like unset).
 */
typedef const char *(*interp_lookup_fn)(void *ctx, const char *name);

/*
 * Expand `in` as Compose does and append the result to out:
 *
 *   $$                 a literal '$'
 *   $VAR  ${VAR}       the value, or "" when unset (the name is pushed to
 *                      unset, once, so the caller can warn)
 *   ${VAR:-default}    default when VAR is unset or empty
 *   ${VAR-default}     default when VAR is unset
 *   ${VAR:+repl}       repl when VAR is set and not empty, else ""
 *   ${VAR+repl}        repl when VAR is set, else ""
 *   ${VAR:?message}    an error when VAR is unset or empty
 *   ${VAR?message}     an error when VAR is unset
 *
 * Defaults, replacements and messages are themselves expanded, so
 * ${A:-${B:-x}} works. A '$' followed by anything else (a digit, a
 * space, the end) is kept literally, as Compose does; a malformed
 * "${...}" is an error.
 *
 * Returns 0, or ORCH_EINVALID with a message (no location: the caller
 * prefixes it): "required variable 'X' is missing a value: message" or
 * "invalid interpolation format in '...' (escape '$' as '$$')"; or
 * ORCH_ETOOBIG when out's cap is reached. unset may be NULL; it holds
 * at most 100 names.
 */
int interp_expand(const char *in, interp_lookup_fn lookup, void *ctx,
                  struct buf *out, struct strvec *unset);

/*
 * Split a command line into words like Compose (shell-words rules, no
 * shell): blanks separate words, '...' is literal, "..." honours
 * backslash before " \ $ `, a backslash outside quotes escapes the next
 * character. Nothing is expanded. Words are pushed to out.
 * ORCH_EINVALID on an unterminated quote or a trailing backslash.
 */
int shellwords_split(const char *in, struct strvec *out);

/*
 * One entry of a dotenv file. value is NULL for a line with a bare name
 * (no '='), which Compose reads as "take it from the environment".
 */
struct dotenv_entry {
	char *key;
	char *value;
	int line;
};

struct dotenv {
	struct dotenv_entry *items;
	size_t n;
	size_t alloc;
};

#define DOTENV_INIT                                                            \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/*
 * Parse dotenv text: KEY=VALUE lines, blank lines and '#' comments,
 * an optional "export " prefix, values in '...' (literal) or "..." (with
 * \n, \t, \", \\ escapes) or bare (trailing blanks and a " #" comment
 * removed). A later line wins over an earlier one. Entries end up
 * sorted by key (line tells where each came from). Parse into an empty
 * dotenv. Values are taken literally (a service's env_file).
 *
 * On a malformed line returns ORCH_EINVALID with a message without its
 * location ("invalid variable name", "expected '=' after the name",
 * "unterminated quote", "NUL byte") and *line set (line may be NULL);
 * release the dotenv either way.
 */
int dotenv_parse(const char *text, size_t len, struct dotenv *out, int *line);

/*
 * How dotenv_parse_interp() interpolates, as Compose reads a .env file:
 * bare and double-quoted values are expanded by interp_expand()'s rules
 * (after the escapes of "..."), single-quoted ones are literal. A
 * variable resolves through lookup first -- the process environment,
 * which wins over the file as it does for the manifest -- and then
 * through the lines above it in the same text (a name defined further
 * down is not seen; a bare NAME line counts as unset). lookup may be
 * NULL: the file alone.
 *
 * warnings (may be NULL) receives, for each variable that resolves
 * nowhere and has no default, "LINE:COL: variable 'X' is not set, using
 * an empty string" (at most 100, then one "more than 100" line); the
 * caller prefixes the file's name.
 */
struct dotenv_interp {
	interp_lookup_fn lookup;
	void *ctx;
	struct strvec *warnings;
};

/*
 * dotenv_parse() with interpolation (interp NULL: none). Errors as
 * dotenv_parse() plus, at the value's *line and *col (col may be NULL),
 * interp_expand()'s messages prefixed with the key ("value of 'URL':
 * required variable 'HOST' is missing a value: ...") and "value of 'K':
 * the values of the file are longer than 4194304 bytes (4 MiB) once
 * interpolated": values referring to values can double at every line,
 * so their total is capped.
 */
int dotenv_parse_interp(const char *text, size_t len,
                        const struct dotenv_interp *interp, struct dotenv *out,
                        int *line, int *col);
/* The value of key, NULL when absent or bare; *found tells them apart. */
const char *dotenv_get(const struct dotenv *d, const char *key, int *found);
void dotenv_release(struct dotenv *d);

#endif
