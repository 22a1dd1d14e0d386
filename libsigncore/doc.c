/*
 * Opening and saving documents.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A PDF starts with "%PDF-" within its first KiB (some producers put junk
 * before it). Anything else is rejected before MuPDF tries to "repair" it
 * into an empty document. */
static int has_pdf_header(const unsigned char *p, size_t n)
{
	size_t i;

	if (n > 1024)
		n = 1024;
	for (i = 0; i + 5 <= n; i++)
		if (!memcmp(p + i, "%PDF-", 5))
			return 1;
	return 0;
}

/* A file cut short loses its trailer and %%EOF; MuPDF would rebuild a
 * partial document from whatever objects survive, silently dropping pages. */
static int has_eof_marker(const unsigned char *p, size_t n)
{
	size_t start = n > 2048 ? n - 2048 : 0, i;

	for (i = n >= 5 ? n - 5 : 0; i + 1 > start; i--) {
		if (!memcmp(p + i, "%%EOF", 5))
			return 1;
		if (i == 0)
			break;
	}
	return 0;
}

static int finish_open(signcore_ctx *ctx, signcore_doc *doc, const char *name,
	const unsigned char *tail, size_t taillen, const signcore_open_options *opts)
{
	fz_context *fz = ctx->fz;
	int code = SIGNCORE_OK;

	fz_try(fz) {
		if (pdf_needs_password(fz, doc->pdf)) {
			if (!opts || !opts->password)
				signcore__throw(ctx, SIGNCORE_ENEEDPASS,
					"%s is encrypted: a password is required", name);
			if (!pdf_authenticate_password(fz, doc->pdf, opts->password))
				signcore__throw(ctx, SIGNCORE_EPASSWORD, "%s: wrong password", name);
			if (!(doc->password = signcore__strdup(opts->password)))
				fz_throw(fz, FZ_ERROR_MEMORY, "out of memory");
		}
		/* Loading the page tree is where most damage shows up. */
		if (pdf_count_pages(fz, doc->pdf) < 1)
			signcore__throw(ctx, SIGNCORE_EBADINPUT, "%s: the document has no pages", name);
		doc->repaired = doc->pdf->repair_attempted;
		if (doc->repaired && !has_eof_marker(tail, taillen))
			signcore__throw(ctx, SIGNCORE_EBADINPUT,
				"%s: truncated PDF (no %%%%EOF marker at the end of the file)", name);
	}
	fz_catch(fz)
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, name);
	return code;
}

int signcore_doc_open(signcore_ctx *ctx, signcore_doc **out, const char *path,
	const signcore_open_options *opts)
{
	fz_context *fz;
	signcore_doc *doc;
	unsigned char head[1024], tail[2048];
	size_t headlen, taillen;
	struct stat st;
	fz_stream *stm = NULL;
	ssize_t n;
	int fd, code;

	if (!ctx || !out || !path)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_doc_open: NULL argument")
			   : SIGNCORE_EINVAL;
	*out = NULL;
	signcore__clear_err(ctx);
	fz = ctx->fz;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		code = signcore__err(ctx, errno == ENOENT ? SIGNCORE_ENOTFOUND : SIGNCORE_EIO,
			"%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return code;
	}
	if (S_ISDIR(st.st_mode) || st.st_size == 0) {
		close(fd);
		return signcore__err(ctx, SIGNCORE_EBADINPUT, S_ISDIR(st.st_mode)
			? "%s: is a directory, not a PDF file" : "%s: empty file, not a PDF", path);
	}
	n = pread(fd, head, sizeof head, 0);
	headlen = n > 0 ? (size_t)n : 0;
	n = pread(fd, tail, sizeof tail, st.st_size > (off_t)sizeof tail ? st.st_size - (off_t)sizeof tail : 0);
	taillen = n > 0 ? (size_t)n : 0;
	if (!has_pdf_header(head, headlen)) {
		close(fd);
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "%s: not a PDF file (no %%PDF- header)", path);
	}

	doc = calloc(1, sizeof *doc);
	if (!doc || !(doc->path = signcore__strdup(path))) {
		free(doc);
		close(fd);
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	doc->ctx = ctx;
	fz_var(stm);
	fz_try(fz) {
		stm = signcore__open_input(fz, fd);
		doc->pdf = pdf_open_document_with_stream(fz, stm);
	}
	fz_always(fz)
		fz_drop_stream(fz, stm);
	fz_catch(fz) {
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, path);
		if (code == SIGNCORE_EBADINPUT && !has_eof_marker(tail, taillen))
			code = signcore__err(ctx, SIGNCORE_EBADINPUT,
				"%s: truncated PDF (no %%%%EOF marker at the end of the file)", path);
		signcore_doc_free(doc);
		return code;
	}
	code = finish_open(ctx, doc, path, tail, taillen, opts);
	if (code) {
		signcore_doc_free(doc);
		return code;
	}
	*out = doc;
	return SIGNCORE_OK;
}

int signcore_doc_open_memory(signcore_ctx *ctx, signcore_doc **out, const void *data, size_t len,
	const signcore_open_options *opts)
{
	fz_context *fz;
	signcore_doc *doc;
	fz_buffer *buf = NULL;
	fz_stream *stm = NULL;
	const unsigned char *p = data;
	int code = SIGNCORE_OK;

	if (!ctx || !out || (!data && len))
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_doc_open_memory: NULL argument")
			   : SIGNCORE_EINVAL;
	*out = NULL;
	signcore__clear_err(ctx);
	fz = ctx->fz;
	if (len == 0)
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "(memory): empty input, not a PDF");
	if (!has_pdf_header(p, len))
		return signcore__err(ctx, SIGNCORE_EBADINPUT, "(memory): not a PDF (no %%PDF- header)");
	doc = calloc(1, sizeof *doc);
	if (!doc)
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	doc->ctx = ctx;
	fz_var(buf);
	fz_var(stm);
	fz_var(code);
	fz_try(fz) {
		buf = fz_new_buffer_from_copied_data(fz, data, len);
		stm = fz_open_buffer(fz, buf);
		doc->pdf = pdf_open_document_with_stream(fz, stm);
	}
	fz_always(fz) {
		fz_drop_stream(fz, stm);
		fz_drop_buffer(fz, buf);
	}
	fz_catch(fz) {
		code = signcore__caught(ctx, SIGNCORE_EBADINPUT, "(memory)");
		if (code == SIGNCORE_EBADINPUT && !has_eof_marker(p + (len > 2048 ? len - 2048 : 0), len > 2048 ? 2048 : len))
			code = signcore__err(ctx, SIGNCORE_EBADINPUT, "(memory): truncated PDF (no %%%%EOF marker at the end)");
	}
	if (!code)
		code = finish_open(ctx, doc, "(memory)", p + (len > 2048 ? len - 2048 : 0),
			len > 2048 ? 2048 : len, opts);
	if (code) {
		signcore_doc_free(doc);
		return code;
	}
	*out = doc;
	return SIGNCORE_OK;
}

void signcore_doc_free(signcore_doc *doc)
{
	if (!doc)
		return;
	pdf_drop_document(doc->ctx->fz, doc->pdf);
	free(doc->path);
	if (doc->password) {
		memset(doc->password, 0, strlen(doc->password));
		free(doc->password);
	}
	free(doc);
}

int signcore_doc_new(signcore_ctx *ctx, signcore_doc **out)
{
	signcore_doc *doc;
	int code = SIGNCORE_OK;

	if (!ctx || !out)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_doc_new: NULL argument") : SIGNCORE_EINVAL;
	*out = NULL;
	signcore__clear_err(ctx);
	if (!(doc = calloc(1, sizeof *doc)))
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	doc->ctx = ctx;
	fz_var(code);
	fz_try(ctx->fz)
		doc->pdf = pdf_create_document(ctx->fz);
	fz_catch(ctx->fz)
		code = signcore__caught(ctx, SIGNCORE_ENOMEM, "new document");
	if (code) {
		free(doc);
		return code;
	}
	*out = doc;
	return SIGNCORE_OK;
}

int signcore_doc_page_count(signcore_doc *doc)
{
	int n = 0;

	if (!doc)
		return SIGNCORE_EINVAL;
	fz_var(n);
	fz_try(doc->ctx->fz)
		n = pdf_count_pages(doc->ctx->fz, doc->pdf);
	fz_catch(doc->ctx->fz)
		return signcore__caught(doc->ctx, SIGNCORE_EBADINPUT, "page tree");
	return n;
}

int signcore_doc_page_size(signcore_doc *doc, int page, double *width, double *height, int *rotate)
{
	signcore_ctx *ctx;
	sc_page pg;
	int n;

	if (!doc)
		return SIGNCORE_EINVAL;
	ctx = doc->ctx;
	n = signcore_doc_page_count(doc);
	if (n < 0)
		return n;
	if (page < 1 || page > n)
		return signcore__err(ctx, SIGNCORE_ERANGE, "page %d out of range (the document has %d page%s)",
			page, n, n == 1 ? "" : "s");
	fz_try(ctx->fz)
		signcore__page_get(ctx->fz, doc->pdf, page - 1, &pg);
	fz_catch(ctx->fz)
		return signcore__caught(ctx, SIGNCORE_EBADINPUT, "page");
	if (width)
		*width = pg.width;
	if (height)
		*height = pg.height;
	if (rotate)
		*rotate = pg.rotate;
	return SIGNCORE_OK;
}

int signcore_doc_repaired(signcore_doc *doc)
{
	return doc && (doc->repaired || doc->pdf->repair_attempted);
}

int signcore_doc_encrypted(signcore_doc *doc)
{
	return doc && doc->pdf->crypt != NULL;
}

static int must_rewrite(signcore_doc *doc, const signcore_save_options *opts)
{
	if (doc->pdf->repair_attempted)
		doc->repaired = 1;
	/* A document made in memory has no original bytes to append to. */
	return (opts && opts->full_rewrite) || doc->repaired || !doc->pdf->file;
}

static int sync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

char *signcore__tmp_beside(signcore_ctx *ctx, const char *path, int *code)
{
	char *dircopy = signcore__strdup(path), *basecopy = signcore__strdup(path), *tmp = NULL;
	const char *dir, *base;
	int fd;

	*code = SIGNCORE_OK;
	if (!dircopy || !basecopy || !(tmp = malloc(strlen(path) + 32))) {
		*code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		goto done;
	}
	dir = dirname(dircopy);
	base = basename(basecopy);
	sprintf(tmp, "%s/.%s.XXXXXX", dir, base);
	fd = mkstemp(tmp);
	if (fd < 0) {
		*code = signcore__err(ctx, SIGNCORE_EIO, "%s: cannot create a file in %s: %s",
			path, dir, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto done;
	}
	close(fd);
done:
	free(dircopy);
	free(basecopy);
	return tmp;
}

static mode_t process_umask = 022;

static void read_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned int m;

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Umask: %o", &m) == 1) {
			process_umask = (mode_t)(m & 0777);
			fclose(f);
			return;
		}
	if (f)
		fclose(f);
	/* No /proc: ask umask itself (it must be set to be read). */
	process_umask = umask(022);
	umask(process_umask);
}

/* The mode a new file would get (0666 less the umask), or that of the
 * file PATH replaces: mkstemp makes temporary files 0600. */
static int publish_mode(const char *tmp, const char *path)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return chmod(tmp, st.st_mode & 07777);
	pthread_once(&once, read_umask);
	return chmod(tmp, 0666 & ~process_umask);
}

int signcore__publish(signcore_ctx *ctx, const char *tmp, const char *path)
{
	char *dircopy;
	int rc;

	/* Renamed whole, the output is never seen half written. Durable: also
	 * on the disk, with its directory entry, before this returns. */
	if (publish_mode(tmp, path) != 0 || (ctx->durable && sync_path(tmp, O_RDONLY) != 0) ||
	    rename(tmp, path) != 0)
		return signcore__err(ctx, SIGNCORE_EIO, "%s: %s", path, strerror(errno));
	if (!ctx->durable)
		return SIGNCORE_OK;
	if (!(dircopy = signcore__strdup(path)))
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	rc = sync_path(dirname(dircopy), O_RDONLY | O_DIRECTORY);
	free(dircopy);
	if (rc != 0)
		return signcore__err(ctx, SIGNCORE_EIO, "%s: cannot flush its directory: %s", path, strerror(errno));
	return SIGNCORE_OK;
}

int signcore_doc_save(signcore_doc *doc, const char *path, const signcore_save_options *opts)
{
	signcore_ctx *ctx;
	char *tmp = NULL;
	int code = SIGNCORE_OK, full;

	if (!doc || !path || !*path)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_doc_save: no output path")
			   : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	signcore__clear_err(ctx);
	full = must_rewrite(doc, opts);
	if (!(tmp = signcore__tmp_beside(ctx, path, &code)))
		return code;
	fz_try(ctx->fz)
		signcore__write_pdf(ctx->fz, doc->pdf, tmp, full);
	fz_catch(ctx->fz)
		code = signcore__caught(ctx, SIGNCORE_EIO, path);
	if (!code)
		code = signcore__publish(ctx, tmp, path);
	if (code)
		unlink(tmp);
	free(tmp);
	return code;
}

int signcore_doc_save_memory(signcore_doc *doc, unsigned char **data, size_t *len,
	const signcore_save_options *opts)
{
	signcore_ctx *ctx;
	const char *tmpdir = getenv("TMPDIR");
	char tmp[4096];
	unsigned char *bytes = NULL;
	struct stat st;
	FILE *f = NULL;
	int fd, code = SIGNCORE_OK;

	if (!doc || !data || !len)
		return doc ? signcore__err(doc->ctx, SIGNCORE_EINVAL, "signcore_doc_save_memory: NULL argument")
			   : SIGNCORE_EINVAL;
	ctx = doc->ctx;
	*data = NULL;
	*len = 0;
	/* MuPDF's incremental writer reads back what it wrote, which a memory
	 * output cannot do: go through an anonymous temporary file. */
	snprintf(tmp, sizeof tmp, "%s/signcore.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	fd = mkstemp(tmp);
	if (fd < 0)
		return signcore__err(ctx, SIGNCORE_EIO, "cannot create a temporary file: %s", strerror(errno));
	close(fd);
	code = signcore_doc_save(doc, tmp, opts);
	if (code)
		goto cleanup;
	f = fopen(tmp, "rb");
	if (!f || fstat(fileno(f), &st) != 0) {
		code = signcore__err(ctx, SIGNCORE_EIO, "temporary file: %s", strerror(errno));
		goto cleanup;
	}
	bytes = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!bytes) {
		code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (fread(bytes, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(bytes);
		code = signcore__err(ctx, SIGNCORE_EIO, "temporary file: short read");
		goto cleanup;
	}
	*data = bytes;
	*len = (size_t)st.st_size;
cleanup:
	if (f)
		fclose(f);
	unlink(tmp);
	return code;
}
