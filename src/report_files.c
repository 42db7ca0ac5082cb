/*
 * report_files.c: the report directory's rendered files written from
 * report.json's text (report.h): parsed back once, so junit.xml and
 * report.html show exactly what report.json says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "report_int.h"

static int write_one(const char *dir, const char *name, const char *data,
                     size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = write_file_atomic(path, data, len);

	free(path);
	return rc;
}

int report_write_files(const char *dir, const char *json, size_t len)
{
	struct report_doc *d = NULL;
	struct buf b = BUF_INIT;
	int rc = write_one(dir, "report.json", json, len);

	if (!rc)
		rc = report_doc_parse(json, len, "report.json", &d);
	if (!rc) {
		report_render_junit(d, &b);
		rc = write_one(dir, "junit.xml", b.data, b.len);
	}
	if (!rc) {
		buf_reset(&b);
		report_render_html(d, &b);
		rc = write_one(dir, "report.html", b.data, b.len);
	}
	report_doc_free(d);
	buf_release(&b);
	return rc;
}

int report_append_markdown(const char *path, const char *json, size_t len)
{
	struct report_doc *d = NULL;
	struct buf b = BUF_INIT;
	int fd = -1, rc = report_doc_parse(json, len, "report.json", &d);

	if (!rc) {
		report_render_markdown(d, &b);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		          0644);
		if (fd < 0)
			rc = orch_error_set("'%s': %s", path, strerror(errno));
	}
	if (!rc && write(fd, b.data, b.len) != (ssize_t)b.len)
		rc = orch_error_set("writing '%s': %s", path, strerror(errno));
	if (fd >= 0 && close(fd) && !rc)
		rc = orch_error_set("writing '%s': %s", path, strerror(errno));
	report_doc_free(d);
	buf_release(&b);
	return rc;
}
