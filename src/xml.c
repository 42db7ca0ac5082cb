/*
 * xml.c: XML-safe text and a small XML reader (xml.h). Knows nothing of
 * JUnit or reports: what the elements mean is the callers' business.
 */
#include "xml.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

/* ---- text ----------------------------------------------------------------- */

/*
 * The code point at s (len > 0 bytes left) and its length in *n, or -1
 * (and *n = 1) when the bytes there are not valid UTF-8: stray
 * continuation bytes, overlong forms, surrogates, beyond U+10FFFF.
 */
static long utf8_next(const unsigned char *s, size_t len, size_t *n)
{
	static const long min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned char c = s[0];
	size_t k = c < 0x80         ? 1
	           : (c >> 5) == 6  ? 2
	           : (c >> 4) == 14 ? 3
	           : (c >> 3) == 30 ? 4
	                            : 0;
	long cp;

	*n = 1;
	if (k == 1)
		return c;
	if (!k || k > len)
		return -1;
	cp = c & (0x7f >> k);
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*n = k;
	return cp;
}

/* The length of the terminal escape sequence at s[0] == ESC. */
static size_t escape_len(const unsigned char *s, size_t len)
{
	size_t i;

	if (len < 2)
		return len;
	if (s[1] == '[') {
		/* CSI: parameters, intermediates, one final byte */
		for (i = 2; i < len && s[i] >= 0x20 && s[i] <= 0x3f; i++)
			;
		if (i < len && s[i] >= 0x40 && s[i] <= 0x7e)
			i++;
		return i;
	}
	if (s[1] == ']' || s[1] == 'P' || s[1] == '_' || s[1] == '^') {
		/* OSC, DCS, APC, PM: up to BEL or ESC \ */
		for (i = 2; i < len; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1b && i + 1 < len && s[i + 1] == '\\')
				return i + 2;
			if (s[i] == '\n')
				return i;
		}
		return len;
	}
	return 2;
}

int xml_clean(struct buf *out, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n;
	int rc = 0;

	while (i < len && !rc) {
		size_t run = i;

		/* plain ASCII runs go through in one piece */
		while (run < len && s[run] >= 0x20 && s[run] < 0x7f)
			run++;
		if (run > i) {
			rc = buf_add(out, s + i, run - i);
			i = run;
			continue;
		}
		if (s[i] == 0x1b) {
			i += escape_len(s + i, len - i);
			continue;
		}
		if (s[i] == '\r') {
			rc = buf_addch(out, '\n');
			i += i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
			continue;
		}
		if (s[i] == '\t' || s[i] == '\n') {
			rc = buf_addch(out, s[i++]);
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f) {
			i++;
			continue;
		}
		{
			long cp = utf8_next(s + i, len - i, &n);

			if (cp < 0)
				rc = buf_addstr(out, "\xef\xbf\xbd");
			else if (!(cp >= 0x80 && cp <= 0x9f) && cp != 0xfffe &&
			         cp != 0xffff)
				rc = buf_add(out, s + i, n);
			i += n;
		}
	}
	return rc;
}

static int add_escaped(struct buf *out, const char *s, size_t len, int attr)
{
	struct buf clean = BUF_INIT;
	int rc = xml_clean(&clean, s ? s : "", s ? len : 0);

	for (size_t i = 0; i < clean.len && !rc; i++) {
		char c = clean.data[i];

		switch (c) {
		case '&':
			rc = buf_addstr(out, "&amp;");
			break;
		case '<':
			rc = buf_addstr(out, "&lt;");
			break;
		case '>':
			rc = buf_addstr(out, "&gt;");
			break;
		case '"':
			rc = buf_addstr(out, "&quot;");
			break;
		case '\'':
			rc = buf_addstr(out, "&#39;");
			break;
		case '\n':
			rc = attr ? buf_addstr(out, "&#10;")
			          : buf_addch(out, c);
			break;
		case '\t':
			rc = attr ? buf_addstr(out, "&#9;") : buf_addch(out, c);
			break;
		default:
			rc = buf_addch(out, c);
		}
	}
	buf_release(&clean);
	return rc;
}

int xml_add_text(struct buf *out, const char *s, size_t len)
{
	return add_escaped(out, s, len, 0);
}

int xml_add_attr(struct buf *out, const char *s, size_t len)
{
	return add_escaped(out, s, len, 1);
}

int xml_add_textz(struct buf *out, const char *s)
{
	return add_escaped(out, s, s ? strlen(s) : 0, 0);
}

int xml_add_attrz(struct buf *out, const char *s)
{
	return add_escaped(out, s, s ? strlen(s) : 0, 1);
}

int xml_add_cdata(struct buf *out, const char *s, size_t len)
{
	struct buf clean = BUF_INIT;
	const char *p, *end;
	int rc = xml_clean(&clean, s ? s : "", s ? len : 0);

	p = buf_cstr(&clean);
	end = p + clean.len;
	if (!rc)
		rc = buf_addstr(out, "<![CDATA[");
	while (!rc && p < end) {
		const char *m = memmem(p, (size_t)(end - p), "]]>", 3);

		if (!m) {
			rc = buf_add(out, p, (size_t)(end - p));
			break;
		}
		/* "]]" ends this section, ">" opens the next */
		rc = buf_add(out, p, (size_t)(m - p) + 2);
		if (!rc)
			rc = buf_addstr(out, "]]><![CDATA[");
		p = m + 2;
	}
	if (!rc)
		rc = buf_addstr(out, "]]>");
	buf_release(&clean);
	return rc;
}

/* ---- reading -------------------------------------------------------------- */

struct parser {
	const char *s, *end;
	size_t nodes;
	int line;
};

static int perr(struct parser *p, const char *what)
{
	return orch_error_code(ORCH_EINVALID, "line %d: %s", p->line, what);
}

static void advance(struct parser *p, size_t n)
{
	for (size_t i = 0; i < n && p->s < p->end; i++, p->s++)
		if (*p->s == '\n')
			p->line++;
}

static int starts(const struct parser *p, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(p->end - p->s) >= n && !memcmp(p->s, lit, n);
}

/* Skip past lit; ORCH_EINVALID when it never comes. */
static int skip_past(struct parser *p, const char *lit, const char *what)
{
	const char *m = memmem(p->s, (size_t)(p->end - p->s), lit, strlen(lit));

	if (!m)
		return perr(p, what);
	advance(p, (size_t)(m - p->s) + strlen(lit));
	return 0;
}

static void skip_space(struct parser *p)
{
	while (p->s < p->end && strchr(" \t\r\n", *p->s))
		advance(p, 1);
}

static int name_char(char c)
{
	return c && !strchr(" \t\r\n/>=<\"'&", c);
}

/* Append character data, entities decoded, to b. */
static void add_chars(struct xml_node *n, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t plain = amp ? (size_t)(amp - (s + i)) : len - i;
		const char *semi;
		char utf8[5];
		size_t k;

		if (n->text.len + plain > XML_MAX_TEXT) {
			n->text_dropped = 1;
			return;
		}
		buf_add(&n->text, s + i, plain);
		i += plain;
		if (i >= len)
			return;
		semi = memchr(s + i, ';', len - i < 12 ? len - i : 12);
		k = semi ? (size_t)(semi - (s + i)) + 1 : 0;
		if (k == 4 && !memcmp(s + i, "&lt;", 4))
			buf_addch(&n->text, '<');
		else if (k == 4 && !memcmp(s + i, "&gt;", 4))
			buf_addch(&n->text, '>');
		else if (k == 5 && !memcmp(s + i, "&amp;", 5))
			buf_addch(&n->text, '&');
		else if (k == 6 && !memcmp(s + i, "&quot;", 6))
			buf_addch(&n->text, '"');
		else if (k == 6 && !memcmp(s + i, "&apos;", 6))
			buf_addch(&n->text, '\'');
		else if (k > 3 && s[i + 1] == '#') {
			int hex = s[i + 2] == 'x' || s[i + 2] == 'X';
			char *e;
			unsigned long cp =
			        strtoul(s + i + 2 + hex, &e, hex ? 16 : 10);

			if (e != semi || cp == 0 || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				cp = 0xfffd;
			if (cp < 0x80) {
				utf8[0] = (char)cp;
				buf_add(&n->text, utf8, 1);
			} else if (cp < 0x800) {
				utf8[0] = (char)(0xc0 | (cp >> 6));
				utf8[1] = (char)(0x80 | (cp & 0x3f));
				buf_add(&n->text, utf8, 2);
			} else if (cp < 0x10000) {
				utf8[0] = (char)(0xe0 | (cp >> 12));
				utf8[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				utf8[2] = (char)(0x80 | (cp & 0x3f));
				buf_add(&n->text, utf8, 3);
			} else {
				utf8[0] = (char)(0xf0 | (cp >> 18));
				utf8[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
				utf8[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
				utf8[3] = (char)(0x80 | (cp & 0x3f));
				buf_add(&n->text, utf8, 4);
			}
		} else {
			/* unknown: as written */
			k = 1;
			buf_addch(&n->text, '&');
		}
		i += k;
	}
}

static int parse_attrs(struct parser *p, struct xml_node *n, int *empty)
{
	size_t alloc = 0;

	for (;;) {
		const char *name, *val;
		size_t nlen;
		char q;
		struct xml_node tmp = { 0 };

		skip_space(p);
		if (p->s >= p->end)
			return perr(p, "unterminated tag");
		if (*p->s == '>') {
			advance(p, 1);
			*empty = 0;
			return 0;
		}
		if (starts(p, "/>")) {
			advance(p, 2);
			*empty = 1;
			return 0;
		}
		name = p->s;
		while (p->s < p->end && name_char(*p->s))
			advance(p, 1);
		nlen = (size_t)(p->s - name);
		skip_space(p);
		if (!nlen || p->s >= p->end || *p->s != '=')
			return perr(p, "attribute without a value");
		advance(p, 1);
		skip_space(p);
		if (p->s >= p->end || (*p->s != '"' && *p->s != '\''))
			return perr(p, "attribute value without quotes");
		q = *p->s;
		advance(p, 1);
		val = p->s;
		while (p->s < p->end && *p->s != q && *p->s != '<')
			advance(p, 1);
		if (p->s >= p->end || *p->s != q)
			return perr(p, "unterminated attribute value");
		add_chars(&tmp, val, (size_t)(p->s - val));
		advance(p, 1);
		ALLOC_GROW(n->attrs, 2 * n->nattrs + 3, alloc);
		n->attrs[2 * n->nattrs] = xstrndup(name, nlen);
		n->attrs[2 * n->nattrs + 1] = buf_detach(&tmp.text, NULL);
		if (!n->attrs[2 * n->nattrs + 1])
			n->attrs[2 * n->nattrs + 1] = xstrdup("");
		n->nattrs++;
		n->attrs[2 * n->nattrs] = NULL;
	}
}

static int parse_element(struct parser *p, int depth, struct xml_node **out);

/* Content up to the end tag of n. */
static int parse_content(struct parser *p, struct xml_node *n, int depth)
{
	while (p->s < p->end) {
		const char *lt = memchr(p->s, '<', (size_t)(p->end - p->s));
		struct xml_node *kid;
		int rc;

		if (!lt)
			break;
		if (lt > p->s) {
			add_chars(n, p->s, (size_t)(lt - p->s));
			advance(p, (size_t)(lt - p->s));
		}
		if (starts(p, "</")) {
			size_t len = strlen(n->name);

			advance(p, 2);
			if ((size_t)(p->end - p->s) <= len ||
			    memcmp(p->s, n->name, len) || name_char(p->s[len]))
				return perr(p, "mismatched end tag");
			advance(p, len);
			skip_space(p);
			if (p->s >= p->end || *p->s != '>')
				return perr(p, "unterminated end tag");
			advance(p, 1);
			return 0;
		}
		if (starts(p, "<!--")) {
			rc = skip_past(p, "-->", "unterminated comment");
		} else if (starts(p, "<![CDATA[")) {
			const char *m;

			advance(p, 9);
			m = memmem(p->s, (size_t)(p->end - p->s), "]]>", 3);
			if (!m)
				return perr(p, "unterminated CDATA section");
			if (n->text.len + (size_t)(m - p->s) > XML_MAX_TEXT)
				n->text_dropped = 1;
			else
				buf_add(&n->text, p->s, (size_t)(m - p->s));
			advance(p, (size_t)(m - p->s) + 3);
			rc = 0;
		} else if (starts(p, "<?")) {
			rc = skip_past(p, "?>", "unterminated instruction");
		} else {
			rc = parse_element(p, depth + 1, &kid);
			if (!rc) {
				ALLOC_GROW(n->kids, n->nkids + 1, n->alloc);
				n->kids[n->nkids++] = kid;
			}
		}
		if (rc)
			return rc;
	}
	return perr(p, "unterminated element");
}

static int parse_element(struct parser *p, int depth, struct xml_node **out)
{
	struct xml_node *n;
	const char *name;
	int empty = 0, rc;

	*out = NULL;
	if (depth > XML_MAX_DEPTH)
		return orch_error_code(ORCH_ETOOBIG,
		                       "line %d: nested deeper than %d",
		                       p->line, XML_MAX_DEPTH);
	if (++p->nodes > XML_MAX_NODES)
		return orch_error_code(ORCH_ETOOBIG,
		                       "line %d: more than %d elements",
		                       p->line, XML_MAX_NODES);
	advance(p, 1); /* '<' */
	name = p->s;
	while (p->s < p->end && name_char(*p->s))
		advance(p, 1);
	if (p->s == name)
		return perr(p, "element without a name");
	n = xcalloc(1, sizeof(*n));
	n->name = xstrndup(name, (size_t)(p->s - name));
	rc = parse_attrs(p, n, &empty);
	if (!rc && !empty)
		rc = parse_content(p, n, depth);
	if (rc) {
		xml_node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* A DOCTYPE, its internal subset too: skipped whole, nothing of it used. */
static int skip_doctype(struct parser *p)
{
	const char *gt = memchr(p->s, '>', (size_t)(p->end - p->s));
	const char *br = memchr(p->s, '[', (size_t)(p->end - p->s));

	if (br && (!gt || br < gt) &&
	    skip_past(p, "]", "unterminated declaration"))
		return ORCH_EINVALID;
	return skip_past(p, ">", "unterminated declaration");
}

int xml_parse(const char *data, size_t len, struct xml_node **root)
{
	struct parser p = { data, data + len, 0, 1 };
	int rc;

	*root = NULL;
	/* a byte order mark */
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		advance(&p, 3);
	for (;;) {
		skip_space(&p);
		if (starts(&p, "<?"))
			rc = skip_past(&p, "?>", "unterminated instruction");
		else if (starts(&p, "<!--"))
			rc = skip_past(&p, "-->", "unterminated comment");
		else if (starts(&p, "<!"))
			rc = skip_doctype(&p);
		else
			break;
		if (rc)
			return rc;
	}
	if (p.s >= p.end || *p.s != '<')
		return perr(&p, "no root element");
	return parse_element(&p, 1, root);
}

void xml_node_free(struct xml_node *n)
{
	if (!n)
		return;
	free(n->name);
	for (size_t i = 0; i < 2 * n->nattrs; i++)
		free(n->attrs[i]);
	free(n->attrs);
	for (size_t i = 0; i < n->nkids; i++)
		xml_node_free(n->kids[i]);
	free(n->kids);
	buf_release(&n->text);
	free(n);
}

const char *xml_attr(const struct xml_node *n, const char *name)
{
	for (size_t i = 0; n && i < n->nattrs; i++)
		if (!strcmp(n->attrs[2 * i], name))
			return n->attrs[2 * i + 1];
	return NULL;
}
