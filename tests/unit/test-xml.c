/*
 * test-xml.c: text made safe for XML and HTML (invalid UTF-8, terminal
 * escapes, forbidden characters, entities, "]]>" in CDATA) and the small
 * reader of the suites' JUnit files (entities, CDATA, comments, DOCTYPE,
 * limits, what is not well-formed).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "harness.h"
#include "util.h"
#include "xml.h"

static char *clean(const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	xml_clean(&b, s, len);
	return buf_detach(&b, NULL);
}

static char *text(const char *s)
{
	struct buf b = BUF_INIT;

	xml_add_textz(&b, s);
	return buf_detach(&b, NULL);
}

static char *attr(const char *s)
{
	struct buf b = BUF_INIT;

	xml_add_attrz(&b, s);
	return buf_detach(&b, NULL);
}

static char *cdata(const char *s)
{
	struct buf b = BUF_INIT;

	xml_add_cdata(&b, s, strlen(s));
	return buf_detach(&b, NULL);
}

#define ASSERT_FN(fn, in, want)                                                \
	do {                                                                   \
		char *got_ = fn(in);                                           \
		int same_ = got_ && !strcmp(got_, want);                       \
		if (!same_)                                                    \
			FAIL_AT("%s(\"%s\") == \"%s\", expected \"%s\"", #fn,  \
			        in, got_ ? got_ : "(null)", want);             \
		free(got_);                                                    \
		if (!same_)                                                    \
			return;                                                \
	} while (0)

#define ASSERT_CLEAN(in, want)                                                 \
	do {                                                                   \
		char *got_ = clean(in, sizeof(in) - 1);                        \
		int same_ = !strcmp(got_, want);                               \
		if (!same_)                                                    \
			FAIL_AT("clean == \"%s\", expected \"%s\"", got_,      \
			        want);                                         \
		free(got_);                                                    \
		if (!same_)                                                    \
			return;                                                \
	} while (0)

TEST(clean_utf8)
{
	ASSERT_CLEAN("plain text", "plain text");
	ASSERT_CLEAN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* a stray byte, a cut sequence, an overlong '/', a surrogate, beyond
	   U+10FFFF */
	ASSERT_CLEAN("a\xffz", "a\xef\xbf\xbdz");
	ASSERT_CLEAN("a\xe2\x82z", "a\xef\xbf\xbd\xef\xbf\xbdz");
	ASSERT_CLEAN("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
	ASSERT_CLEAN("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ASSERT_CLEAN("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                                 "\xef\xbf\xbd");
}

TEST(clean_controls)
{
	/* colours, a title, cursor movement: gone with what they carry */
	ASSERT_CLEAN("\x1b[1;31mred\x1b[0m", "red");
	ASSERT_CLEAN("\x1b]0;title\x07"
	             "after",
	             "after");
	ASSERT_CLEAN("\x1b]8;;x\x1b\\link", "link");
	ASSERT_CLEAN("a\x1b"
	             "cb",
	             "ab");
	ASSERT_CLEAN("x\x1b", "x");
	/* forbidden characters removed; tab and newline kept; CR LF */
	ASSERT_CLEAN("a\x01\x08\x0b\x0c\x7f"
	             "z",
	             "az");
	ASSERT_CLEAN("a\tb\nc", "a\tb\nc");
	ASSERT_CLEAN("a\r\nb\rc", "a\nb\nc");
	/* C1 controls (U+009B is a CSI), U+FFFE, U+FFFF */
	ASSERT_CLEAN("a\xc2\x9b"
	             "b\xef\xbf\xbe\xef\xbf\xbf"
	             "c",
	             "abc");
	ASSERT_CLEAN("nul\0byte", "nulbyte");
}

TEST(escaping)
{
	ASSERT_FN(text, "<a href=\"x\">&'</a>",
	          "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	ASSERT_FN(text, "line 1\nline 2\ttab", "line 1\nline 2\ttab");
	ASSERT_FN(attr, "line 1\nline 2\ttab", "line 1&#10;line 2&#9;tab");
	ASSERT_FN(text, "\x1b[31m<b>\x1b[0m", "&lt;b&gt;");
	ASSERT_FN(text, "]]>", "]]&gt;");
}

TEST(cdata_split)
{
	ASSERT_FN(cdata, "plain", "<![CDATA[plain]]>");
	ASSERT_FN(cdata, "x]]>y", "<![CDATA[x]]]]><![CDATA[>y]]>");
	ASSERT_FN(cdata, "]]>]]>",
	          "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>");
	ASSERT_FN(cdata, "]]]>", "<![CDATA[]]]]]><![CDATA[>]]>");
	ASSERT_FN(cdata, "a\x01<b>", "<![CDATA[a<b>]]>");
}

/* What was written reads back as the cleaned text. */
TEST(round_trip)
{
	static const char hostile[] = "a]]>b<c>&d\"e'f\x1b[0m\xff\r\n\x01g";
	struct buf doc = BUF_INIT;
	struct xml_node *root = NULL;
	char *want = clean(hostile, sizeof(hostile) - 1);

	buf_addstr(&doc, "<r a=\"");
	xml_add_attr(&doc, hostile, sizeof(hostile) - 1);
	buf_addstr(&doc, "\"><t>");
	xml_add_text(&doc, hostile, sizeof(hostile) - 1);
	buf_addstr(&doc, "</t><c>");
	xml_add_cdata(&doc, hostile, sizeof(hostile) - 1);
	buf_addstr(&doc, "</c></r>");
	ASSERT_EQ_INT(xml_parse(doc.data, doc.len, &root), 0);
	ASSERT_EQ_STR(xml_attr(root, "a"), want);
	ASSERT_EQ_INT(root->nkids, 2);
	ASSERT_EQ_STR(buf_cstr(&root->kids[0]->text), want);
	ASSERT_EQ_STR(buf_cstr(&root->kids[1]->text), want);
	xml_node_free(root);
	buf_release(&doc);
	free(want);
}

TEST(parse_junit)
{
	static const char doc[] =
	        "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<!DOCTYPE x [ <!ENTITY lol \"lol\"> ]>\n"
	        "<!-- a comment -->\n"
	        "<testsuites>\n"
	        "  <testsuite name='pytest' tests=\"2\">\n"
	        "    <testcase classname=\"t.a\" name=\"ok &amp; fine\" "
	        "time=\"0.5\"/>\n"
	        "    <testcase classname=\"t.a\" name=\"bad\">\n"
	        "      <failure message=\"1 &lt; 2 &#x263A; &#65;\">"
	        "<![CDATA[trace <here>]]> &lol; tail</failure>\n"
	        "    </testcase>\n"
	        "  </testsuite>\n"
	        "</testsuites>\n";
	struct xml_node *root = NULL, *ts, *bad;

	ASSERT_EQ_INT(xml_parse(doc, sizeof(doc) - 1, &root), 0);
	ASSERT_EQ_STR(root->name, "testsuites");
	ASSERT_EQ_INT(root->nkids, 1);
	ts = root->kids[0];
	ASSERT_EQ_STR(xml_attr(ts, "name"), "pytest");
	ASSERT_EQ_INT(ts->nkids, 2);
	ASSERT_EQ_STR(xml_attr(ts->kids[0], "name"), "ok & fine");
	ASSERT_EQ_STR(xml_attr(ts->kids[0], "time"), "0.5");
	ASSERT(xml_attr(ts->kids[0], "nothing") == NULL);
	bad = ts->kids[1];
	ASSERT_EQ_INT(bad->nkids, 1);
	ASSERT_EQ_STR(xml_attr(bad->kids[0], "message"),
	              "1 < 2 \xe2\x98\xba A");
	ASSERT_EQ_STR(buf_cstr(&bad->kids[0]->text), "trace <here> &lol; tail");
	xml_node_free(root);
}

static int parses(const char *doc)
{
	struct xml_node *root = NULL;
	int rc = xml_parse(doc, strlen(doc), &root);

	xml_node_free(root);
	return rc;
}

TEST(not_well_formed)
{
	ASSERT_EQ_INT(parses(""), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("just text"), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("<a>"), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("<a></b>"), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("<a></ab>"), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("<a x=1/>"), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("<a x=\"1/>"), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("<a><!-- never ends</a>"), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("<a><![CDATA[x</a>"), ORCH_EINVALID);
	ASSERT_EQ_INT(parses("<a></a"), ORCH_EINVALID);
	ASSERT_CONTAINS(orch_error_last(), "line 1:");
	ASSERT_EQ_INT(parses("<a/>"), 0);
	ASSERT_EQ_INT(parses("<a></a >"), 0);
}

TEST(limits)
{
	struct buf doc = BUF_INIT;
	struct xml_node *root = NULL;

	for (int i = 0; i < XML_MAX_DEPTH + 2; i++)
		buf_addstr(&doc, "<a>");
	ASSERT_EQ_INT(xml_parse(doc.data, doc.len, &root), ORCH_ETOOBIG);
	buf_reset(&doc);
	/* text past the cap is dropped, not kept */
	buf_addstr(&doc, "<a>");
	for (size_t i = 0; i < XML_MAX_TEXT / 8 + 10; i++)
		buf_addstr(&doc, "12345678");
	buf_addstr(&doc, "</a>");
	ASSERT_EQ_INT(xml_parse(doc.data, doc.len, &root), 0);
	ASSERT(root->text.len <= XML_MAX_TEXT);
	ASSERT(root->text_dropped);
	xml_node_free(root);
	buf_release(&doc);
}

int main(void)
{
	RUN(clean_utf8);
	RUN(clean_controls);
	RUN(escaping);
	RUN(cdata_split);
	RUN(round_trip);
	RUN(parse_junit);
	RUN(not_well_formed);
	RUN(limits);
	return harness_done();
}
