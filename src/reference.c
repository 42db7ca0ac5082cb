/*
 * reference.c: the distribution reference grammar and the engine's name
 * rule, by hand (reference.h). A hand-written scanner rather than a
 * regular expression: the message says which part is wrong.
 */
#include "reference.h"

#include <string.h>

#include "error.h"

/* Show at most this much of a rejected value in a message. */
#define SHOW 200

static int lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ASCII only, whatever the locale */
static int alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int word(char c)
{
	return alnum(c) || c == '_';
}

static int hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* over s[0..n) */
static int path_component(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t run = 0, sep;

		while (i + run < n && lower_alnum(s[i + run]))
			run++;
		if (!run)
			return 0;
		i += run;
		if (i == n)
			return 1;
		sep = 0;
		if (s[i] == '.')
			sep = 1;
		else if (s[i] == '_')
			sep = i + 1 < n && s[i + 1] == '_' ? 2 : 1;
		else
			while (i + sep < n && s[i + sep] == '-')
				sep++;
		if (!sep)
			return 0;
		i += sep;
		if (i == n)
			return 0; /* a separator must be followed by more */
	}
	return 0;
}

/* [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static int dns_label(const char *s, size_t n)
{
	if (!n || !alnum(s[0]) || !alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* host [":" port]: DNS labels joined by '.', or [IPv6] */
static int domain(const char *s, size_t n)
{
	size_t host = n, i = 0;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close || close == s + 1)
			return 0;
		for (const char *p = s + 1; p < close; p++)
			if (!hexdigit(*p) && !(*p >= 'A' && *p <= 'F') &&
			    *p != ':')
				return 0;
		host = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', n);

		if (colon)
			host = (size_t)(colon - s);
		while (i < host) {
			const char *dot = memchr(s + i, '.', host - i);
			size_t end = dot ? (size_t)(dot - s) : host;

			if (!dns_label(s + i, end - i))
				return 0;
			i = end + 1;
			if (dot && i == host)
				return 0; /* a trailing dot */
		}
	}
	if (host == n)
		return host > 0;
	if (s[host] != ':' || host + 1 == n)
		return 0;
	for (i = host + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int bad(const char *ref, const char *why, const char *part, size_t len)
{
	if (part)
		return orch_error_code(ORCH_EINVALID,
		                       "invalid image reference '%.*s': %s "
		                       "'%.*s'",
		                       SHOW, ref, why,
		                       (int)(len < SHOW ? len : SHOW), part);
	return orch_error_code(ORCH_EINVALID,
	                       "invalid image reference '%.*s': %s", SHOW, ref,
	                       why);
}

/* s (n <= REFERENCE_NAME_MAX) would be a path component in lower case */
static int only_upper_case_wrong(const char *s, size_t n)
{
	char low[REFERENCE_NAME_MAX];
	int upper = 0;

	for (size_t i = 0; i < n; i++) {
		low[i] = s[i];
		if (s[i] >= 'A' && s[i] <= 'Z') {
			low[i] = (char)(s[i] - 'A' + 'a');
			upper = 1;
		}
	}
	return upper && path_component(low, n);
}

static int check_name_part(const char *ref, const char *s, size_t n)
{
	size_t i = 0, first = 1;

	if (!n)
		return bad(ref, "no repository name", NULL, 0);
	if (n > REFERENCE_NAME_MAX)
		return orch_error_code(ORCH_EINVALID,
		                       "invalid image reference '%.*s': the "
		                       "name is %zu characters, at most %d",
		                       SHOW, ref, n, REFERENCE_NAME_MAX);
	while (i <= n) {
		const char *slash = memchr(s + i, '/', n - i);
		size_t end = slash ? (size_t)(slash - s) : n;
		const char *c = s + i;
		size_t len = end - i;

		if (!len)
			return bad(ref, "empty path component", NULL, 0);
		/* the first part of several is a registry when it reads as
		   one (a path component reads as a host too) */
		if (!(first && slash && domain(c, len)) &&
		    !path_component(c, len)) {
			if (only_upper_case_wrong(c, len))
				return bad(ref,
				           "repository name must be lower "
				           "case:",
				           c, len);
			return bad(ref,
			           "path component must be lower-case letters "
			           "and digits joined by '.', '_', '__' or "
			           "'-':",
			           c, len);
		}
		first = 0;
		i = end + 1;
		if (!slash)
			break;
	}
	return 0;
}

static int check_tag(const char *ref, const char *t, size_t n)
{
	if (!n)
		return bad(ref, "empty tag", NULL, 0);
	if (n > REFERENCE_TAG_MAX)
		return orch_error_code(ORCH_EINVALID,
		                       "invalid image reference '%.*s': the "
		                       "tag is %zu characters, at most %d",
		                       SHOW, ref, n, REFERENCE_TAG_MAX);
	for (size_t i = 0; i < n; i++)
		if (!word(t[i]) && (i == 0 || (t[i] != '.' && t[i] != '-')))
			return bad(
			        ref,
			        "a tag is letters, digits, '_', '.' and '-', "
			        "not starting with '.' or '-':",
			        t, n);
	return 0;
}

static int check_digest(const char *ref, const char *d, size_t n)
{
	static const struct {
		const char *name;
		size_t hex;
	} algos[] = { { "sha256", 64 }, { "sha384", 96 }, { "sha512", 128 } };
	const char *colon = memchr(d, ':', n);
	size_t alen = colon ? (size_t)(colon - d) : 0, hlen;

	if (!colon || !alen)
		return bad(ref,
		           "a digest is ALGORITHM:HEX, as sha256:<64 hex "
		           "digits>:",
		           d, n);
	hlen = n - alen - 1;
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		if (strlen(algos[i].name) != alen ||
		    memcmp(d, algos[i].name, alen))
			continue;
		if (hlen != algos[i].hex)
			return orch_error_code(
			        ORCH_EINVALID,
			        "invalid image reference '%.*s': a %s digest "
			        "has %zu hex digits, not %zu",
			        SHOW, ref, algos[i].name, algos[i].hex, hlen);
		for (size_t k = 0; k < hlen; k++)
			if (!hexdigit(colon[1 + k]))
				return bad(ref,
				           "a digest is lower-case hex digits:",
				           colon + 1, hlen);
		return 0;
	}
	return bad(ref,
	           "unsupported digest algorithm (sha256, sha384 or "
	           "sha512):",
	           d, alen);
}

int reference_check_image(const char *ref)
{
	const char *at, *slash, *colon, *p;
	size_t n, name_len;

	if (!ref || !*ref)
		return orch_error_code(ORCH_EINVALID,
		                       "invalid image reference '': empty");
	n = strlen(ref);
	at = strchr(ref, '@');
	if (at && strchr(at + 1, '@'))
		return bad(ref, "more than one '@'", NULL, 0);
	name_len = at ? (size_t)(at - ref) : n;
	/* a tag is after the last ':' that follows the last '/' (an
	   earlier ':' is the registry's port) */
	slash = NULL;
	colon = NULL;
	for (p = ref; p < ref + name_len; p++) {
		if (*p == '/')
			slash = p;
		else if (*p == ':')
			colon = p;
	}
	if (colon && slash && colon < slash)
		colon = NULL;
	if (check_name_part(ref, ref, colon ? (size_t)(colon - ref) : name_len))
		return ORCH_EINVALID;
	if (colon &&
	    check_tag(ref, colon + 1, name_len - (size_t)(colon - ref) - 1))
		return ORCH_EINVALID;
	if (at && check_digest(ref, at + 1, n - name_len - 1))
		return ORCH_EINVALID;
	return 0;
}

int reference_check_name(const char *kind, const char *name)
{
	size_t n = name ? strlen(name) : 0;
	size_t min = kind && !strcmp(kind, "network") ? 1 : 2;
	int ok = n >= min && alnum(name[0]);

	for (size_t i = 1; ok && i < n; i++)
		ok = alnum(name[i]) || name[i] == '_' || name[i] == '.' ||
		     name[i] == '-';
	if (ok)
		return 0;
	return orch_error_code(ORCH_EINVALID,
	                       "invalid %s name '%.*s': letters, digits, '_', "
	                       "'.' and '-', starting with a letter or "
	                       "digit%s",
	                       kind ? kind : "object", SHOW, name ? name : "",
	                       min > 1 ? ", at least 2 characters" : "");
}
