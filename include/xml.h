/*
 * xml.h: text made safe for XML and HTML -- what junit.xml and
 * report.html put between tags and in attributes -- and a small reader
 * for the JUnit files suites leave among their artifacts. Pure: no I/O.
 *
 * Writing. Whatever a suite printed becomes text every XML 1.0 parser
 * and every browser accepts:
 *   - invalid UTF-8 (stray bytes, overlong forms, surrogates, beyond
 *     U+10FFFF) becomes U+FFFD;
 *   - terminal escape sequences (ESC [ ... final, ESC ] ... BEL or ESC \,
 *     ESC and one more byte) are removed, with what they carried: colour
 *     codes are noise on a page;
 *   - characters XML forbids (C0 controls but tab and newline, U+FFFE,
 *     U+FFFF) and the C1 controls U+0080..U+009F are removed; CR LF and
 *     a lone CR become a newline;
 *   - & < > " ' become entities (text and attributes alike), and in
 *     attributes tab and newline become character references, so an
 *     attribute keeps them through attribute-value normalisation.
 * xml_add_cdata() writes a CDATA section whose text cannot end it early:
 * every "]]>" is split across two sections.
 *
 * Reading. xml_parse() builds a tree of elements with their attributes
 * and text; comments, processing instructions and the DOCTYPE are
 * skipped (no entity of a DTD is ever expanded: no billion laughs), the
 * five predefined entities and character references are decoded, an
 * unknown entity is kept as written. Limits: XML_MAX_DEPTH levels,
 * XML_MAX_NODES elements, XML_MAX_TEXT bytes of text per element (the
 * rest is dropped). Not a validating parser: it accepts what JUnit
 * writers write and refuses what is not well-formed enough to read.
 */
#ifndef ORCH_XML_H
#define ORCH_XML_H

#include <stddef.h>

#include "util.h"

/* What xml_clean() keeps: valid UTF-8, XML characters, no escapes. */
int xml_clean(struct buf *out, const char *s, size_t len);
/* s cleaned and escaped for text content. */
int xml_add_text(struct buf *out, const char *s, size_t len);
/* s cleaned and escaped for an attribute value (in double quotes). */
int xml_add_attr(struct buf *out, const char *s, size_t len);
/* s cleaned, as <![CDATA[...]]>, "]]>" split. */
int xml_add_cdata(struct buf *out, const char *s, size_t len);
/* The C-string forms. */
int xml_add_textz(struct buf *out, const char *s);
int xml_add_attrz(struct buf *out, const char *s);

#define XML_MAX_DEPTH 64
#define XML_MAX_NODES 100000
#define XML_MAX_TEXT  (64u << 10)

struct xml_node {
	char *name;
	char **attrs; /* name, value, name, value, ..., NULL */
	size_t nattrs;
	struct xml_node **kids;
	size_t nkids, alloc;
	struct buf text;  /* character data directly inside, CDATA too */
	int text_dropped; /* more than XML_MAX_TEXT */
};

/*
 * Parse data into *root (the document element). ORCH_EINVALID with
 * "line N: what" for input that is not XML enough to read, ORCH_ETOOBIG
 * past a limit.
 */
int xml_parse(const char *data, size_t len, struct xml_node **root);
/* Accepts NULL. */
void xml_node_free(struct xml_node *n);
/* The attribute's value, or NULL. */
const char *xml_attr(const struct xml_node *n, const char *name);

#endif
