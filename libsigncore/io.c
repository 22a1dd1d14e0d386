/*
 * File input and output for MuPDF: the stream a document is read from and
 * the output the PDF writer saves to.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * Input. MuPDF's file stream reads 4 KB at a time through stdio and drops
 * its buffer on every seek. Ours reads with pread into a buffer that grows
 * while reading is sequential (4 KB after a seek, up to 1 MB), and a seek
 * inside what is buffered costs nothing. A file of up to 1 MB is read
 * whole, once. A file of MAP_MIN or more is mapped instead, WINDOW bytes at
 * a time (so that what it maps does not grow the process: a 100 MB file is
 * read with 8 MB in memory), and nothing is copied to read it. (A mapped
 * file that another process truncates while we read it raises SIGBUS, as
 * with any program that maps its input; a file being signed should not be
 * written.)
 *
 * Output. An incremental update is the original file followed by new
 * objects. MuPDF writes it by copying the original through the output 256
 * bytes at a time, then reads the whole file back through a 4 KB buffer to
 * hash the signed byte ranges. When the document was opened from a file,
 * our output does not take those copied bytes: the kernel copies the
 * original file to file (copy_file_range; in a second thread for a large
 * file), only the new part is written by us, and the signed byte ranges
 * are hashed straight from mapped windows of the original and our new part
 * (signcore__out_digest). A 100 MB file is then read once, like
 * `openssl dgst` does, instead of four times.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IN_FIRST  (4 << 10)
#define IN_MAX    (1 << 20)
#define OUT_BUFFER (128 << 10)
/* MuPDF's own buffer in front of out_write: it gathers the bytes its printf
 * and object writer emit one at a time, and is smaller than the 256-byte
 * blocks in which it copies the original, which then pass straight through
 * (out_write skips them). */
#define OUT_SMALL 128
#define COPY_CHUNK (1 << 20)
#define MAP_MIN   ((int64_t)8 << 20)
#define WINDOW    ((int64_t)8 << 20)  /* a multiple of the page size */

/* ------------------------------------------------------------------ input */

typedef struct {
	int fd;
	int own;            /* close FD when the stream is dropped */
	size_t want;        /* size of the next read */
	unsigned char *buf; /* CAP bytes, grown up to IN_MAX */
	size_t cap;
	int mapped;         /* read through mapped windows */
	unsigned char *map; /* the current window, or NULL */
	int64_t map_at, map_len;
	int64_t size;       /* an input's size when opened (-1: ask fstat) */
	int whole;          /* BUF holds the whole file (SIZE bytes) */
	/* A view of an output (out_as_stream): [0, base_end) comes from the
	 * original (BASE_MAP or BASE_FD), [base_len, ...) from FD. */
	int base_fd;
	const unsigned char *base_map;
	int64_t base_len, base_end;
} sc_in;

/* The WINDOW of FD (SIZE bytes) that holds POS, mapped and pre-faulted;
 * its offset and length in *AT and *LEN. NULL (errno set) on failure. */
static unsigned char *map_window(int fd, int64_t size, int64_t pos, int64_t *at, int64_t *len)
{
	void *m;

	*at = pos / WINDOW * WINDOW;
	*len = size - *at < WINDOW ? size - *at : WINDOW;
	m = mmap(NULL, (size_t)*len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, (off_t)*at);
	return m == MAP_FAILED ? NULL : m;
}

static int in_next(fz_context *fz, fz_stream *stm, size_t hint)
{
	sc_in *s = stm->state;
	ssize_t n;

	(void)hint;
	if (s->mapped) {
		if (stm->pos >= s->size) {
			stm->rp = stm->wp = s->map;
			return EOF;
		}
		if (!s->map || stm->pos < s->map_at || stm->pos >= s->map_at + s->map_len) {
			if (s->map)
				munmap(s->map, (size_t)s->map_len);
			s->map = map_window(s->fd, s->size, stm->pos, &s->map_at, &s->map_len);
			if (!s->map)
				fz_throw(fz, FZ_ERROR_GENERIC, "cannot map the file: %s", strerror(errno));
		}
		n = (ssize_t)(s->map_at + s->map_len - stm->pos);
		stm->rp = s->map + (stm->pos - s->map_at);
		stm->wp = stm->rp + n;
		stm->pos += n;
		return *stm->rp++;
	}
	/* A small file is read whole, once: MuPDF seeks about a lot while it
	 * parses, and then reads it all to copy it. */
	if (s->size > 0 && s->size <= IN_MAX && !s->whole) {
		unsigned char *b = s->cap >= (size_t)s->size ? s->buf : realloc(s->buf, (size_t)s->size);
		int64_t at = 0;

		if (!b)
			fz_throw(fz, FZ_ERROR_MEMORY, "out of memory");
		s->buf = b;
		s->cap = s->cap >= (size_t)s->size ? s->cap : (size_t)s->size;
		while (at < s->size) {
			n = pread(s->fd, s->buf + at, (size_t)(s->size - at), (off_t)at);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				fz_throw(fz, FZ_ERROR_GENERIC, "read error: %s", strerror(errno));
			if (n == 0)
				break;
			at += n;
		}
		s->size = at;
		s->whole = 1;
		if (stm->pos >= at) {
			stm->rp = stm->wp = s->buf + at;
			stm->pos = at;
			return EOF;
		}
		stm->rp = s->buf + stm->pos;
		stm->wp = s->buf + at;
		stm->pos = at;
		return *stm->rp++;
	}
	if (s->whole) {
		stm->rp = stm->wp = s->buf + s->size;
		stm->pos = s->size;
		return EOF;
	}
	if (s->want > s->cap) {
		unsigned char *b = realloc(s->buf, s->want);

		if (b) {
			s->buf = b;
			s->cap = s->want;
		} else
			s->want = s->cap;
	}
	if (stm->pos < s->base_len) {
		int64_t left = s->base_end > stm->pos ? s->base_end - stm->pos : 0;

		if (s->base_map) {
			n = left < IN_MAX ? (ssize_t)left : IN_MAX;
			stm->rp = (unsigned char *)s->base_map + stm->pos;
			stm->wp = stm->rp + n;
			stm->pos += n;
			if (n == 0)
				return EOF;
			return *stm->rp++;
		}
		do
			n = pread(s->base_fd, s->buf, left < (int64_t)s->want ? (size_t)left : s->want, (off_t)stm->pos);
		while (n < 0 && errno == EINTR);
	} else {
		do
			n = pread(s->fd, s->buf, s->want, (off_t)stm->pos);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0)
		fz_throw(fz, FZ_ERROR_GENERIC, "read error: %s", strerror(errno));
	stm->rp = s->buf;
	stm->wp = s->buf + n;
	stm->pos += n;
	if (s->want < IN_MAX)
		s->want *= 2;
	if (n == 0)
		return EOF;
	return *stm->rp++;
}

static void in_seek(fz_context *fz, fz_stream *stm, int64_t offset, int whence)
{
	sc_in *s = stm->state;
	int64_t start;
	struct stat st;

	/* fz_seek has turned SEEK_CUR into SEEK_SET. */
	if (whence == SEEK_END) {
		if (s->size >= 0)
			st.st_size = s->size;
		else if (s->base_len && s->base_end < s->base_len)
			st.st_size = s->base_end;
		else if (fstat(s->fd, &st) != 0)
			fz_throw(fz, FZ_ERROR_GENERIC, "cannot seek: %s", strerror(errno));
		offset += st.st_size;
	}
	if (offset < 0)
		fz_throw(fz, FZ_ERROR_GENERIC, "cannot seek before the start of the file");
	if (s->mapped) {
		stm->pos = offset;
		stm->rp = stm->wp = s->map;
		return;
	}
	start = stm->pos - (stm->wp - s->buf);
	if (stm->wp && stm->rp >= s->buf && stm->wp <= s->buf + s->cap && offset >= start && offset <= stm->pos) {
		stm->rp = s->buf + (offset - start);
		return;
	}
	stm->pos = offset;
	stm->rp = stm->wp = s->buf;
	s->want = IN_FIRST;
}

static void in_drop(fz_context *fz, void *state)
{
	sc_in *s = state;

	(void)fz;
	if (s->map)
		munmap(s->map, (size_t)s->map_len);
	if (s->own)
		close(s->fd);
	free(s->buf);
	free(s);
}

/* A stream over FD; OWN: the stream closes FD (also when this throws).
 * MAP: map FD when it is large enough. */
static fz_stream *open_in(fz_context *fz, int fd, int own, int map)
{
	sc_in *s = calloc(1, sizeof *s);
	fz_stream *stm;
	struct stat st;

	if (s)
		s->size = map && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : -1;
	if (s && s->size >= MAP_MIN)
		s->mapped = 1;
	if (!s || (!s->mapped && !(s->buf = malloc(IN_FIRST)))) {
		free(s);
		if (own)
			close(fd);
		fz_throw(fz, FZ_ERROR_MEMORY, "out of memory");
	}
	s->fd = fd;
	s->own = own;
	s->want = IN_FIRST;
	s->cap = s->mapped ? 0 : IN_FIRST;
	s->base_fd = -1;
	stm = fz_new_stream(fz, s, in_next, in_drop);
	stm->seek = in_seek;
	return stm;
}

fz_stream *signcore__open_input(fz_context *fz, int fd)
{
	return open_in(fz, fd, 1, 1);
}

/* The state of a stream made by signcore__open_input, or NULL. */
static sc_in *input_of(fz_stream *stm)
{
	return stm && stm->next == in_next ? stm->state : NULL;
}

/* ----------------------------------------------------------------- output */

typedef struct {
	int fd;
	int64_t pos;          /* where the next byte goes */
	unsigned char *buf;   /* bytes not yet written, for [at, at + used) */
	size_t used;
	int64_t at;
	int64_t end;          /* the end of what we wrote (not the copy) */
	/* An incremental update: [0, base_len) is a copy of the original. */
	int base_fd;          /* -1: none */
	int64_t base_len;
	int64_t base_end;     /* MuPDF has "written" [0, base_end) of the copy */
	const unsigned char *base_map; /* the original read whole (borrowed), or NULL */
	int copying;          /* the copy runs in COPIER */
	int copied;           /* the copy is done */
	int copy_errno;       /* the copy failed: errno, or -1 for a short file */
	pthread_t copier;
} sc_out;

static void write_all(fz_context *fz, int fd, const unsigned char *p, size_t n, int64_t at)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fz_throw(fz, FZ_ERROR_GENERIC, "cannot write: %s", w < 0 ? strerror(errno) : "no space");
		p += w;
		n -= (size_t)w;
		at += w;
	}
}

static void out_flush(fz_context *fz, sc_out *o)
{
	if (o->used) {
		write_all(fz, o->fd, o->buf, o->used, o->at);
		if (o->at + (int64_t)o->used > o->end)
			o->end = o->at + (int64_t)o->used;
		o->used = 0;
	}
}

/* Bytes [AT, LEN) of FROM to the same place in TO with read and write.
 * Returns 0, or an errno value (-1: FROM ended early). */
static int copy_by_hand(int from, int to, int64_t at, int64_t len)
{
	unsigned char *buf = malloc(COPY_CHUNK);
	int rc = 0;

	if (!buf)
		return ENOMEM;
	while (!rc && at < len) {
		size_t want = len - at < COPY_CHUNK ? (size_t)(len - at) : COPY_CHUNK;
		ssize_t n = pread(from, buf, want, (off_t)at), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n == 0 ? -1 : errno;
			break;
		}
		while (w < n) {
			ssize_t k = pwrite(to, buf + w, (size_t)(n - w), (off_t)(at + w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				rc = k == 0 ? ENOSPC : errno;
				break;
			}
			w += k;
		}
		at += n;
	}
	free(buf);
	return rc;
}

/* Copy [0, base_len) of the original into the output. Returns 0 or as
 * copy_by_hand. Touches no MuPDF state: it may run in its own thread. */
static int copy_base(sc_out *o)
{
	loff_t in = 0, out = 0;

	while (in < o->base_len) {
		ssize_t n = copy_file_range(o->base_fd, &in, o->fd, &out, (size_t)(o->base_len - in), 0);

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n == 0)
			return -1;
		if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS &&
		    errno != EBADF && errno != ETXTBSY)
			return errno;
		/* Not between these two files: copy by hand. */
		return copy_by_hand(o->base_fd, o->fd, in, o->base_len);
	}
	return 0;
}

static void *copier_main(void *arg)
{
	sc_out *o = arg;

	o->copy_errno = copy_base(o);
	return NULL;
}

/* The copy of the original is in the file (waiting for the thread). */
static void base_wait(fz_context *fz, sc_out *o)
{
	if (o->base_fd < 0 || o->copied)
		return;
	if (o->copying) {
		pthread_join(o->copier, NULL);
		o->copying = 0;
	} else
		o->copy_errno = copy_base(o);
	o->copied = 1;
	if (o->copy_errno == -1)
		fz_throw(fz, FZ_ERROR_GENERIC, "the input file became shorter while it was being saved");
	if (o->copy_errno)
		fz_throw(fz, FZ_ERROR_GENERIC, "cannot copy the original: %s", strerror(o->copy_errno));
}

static void out_write(fz_context *fz, void *state, const void *data, size_t n)
{
	sc_out *o = state;
	const unsigned char *p = data;

	/* MuPDF copying the original: those bytes come from copy_base. */
	if (o->base_fd >= 0 && o->pos < o->base_len) {
		size_t k = o->base_len - o->pos < (int64_t)n ? (size_t)(o->base_len - o->pos) : n;

		o->pos += k;
		if (o->pos > o->base_end)
			o->base_end = o->pos;
		p += k;
		n -= k;
	}
	if (!n)
		return;
	if (o->used && (o->at + (int64_t)o->used != o->pos || o->used + n > OUT_BUFFER))
		out_flush(fz, o);
	if (n >= OUT_BUFFER) {
		write_all(fz, o->fd, p, n, o->pos);
		o->pos += n;
		if (o->pos > o->end)
			o->end = o->pos;
		return;
	}
	if (!o->used)
		o->at = o->pos;
	memcpy(o->buf + o->used, p, n);
	o->used += n;
	o->pos += n;
}

static void out_seek(fz_context *fz, void *state, int64_t offset, int whence)
{
	sc_out *o = state;
	struct stat st;

	if (whence == SEEK_CUR)
		offset += o->pos;
	else if (whence == SEEK_END) {
		out_flush(fz, o);
		base_wait(fz, o);
		if (fstat(o->fd, &st) != 0)
			fz_throw(fz, FZ_ERROR_GENERIC, "cannot seek: %s", strerror(errno));
		offset += st.st_size;
	}
	if (offset < 0)
		fz_throw(fz, FZ_ERROR_GENERIC, "cannot seek before the start of the file");
	o->pos = offset;
}

static int64_t out_tell(fz_context *fz, void *state)
{
	(void)fz;
	return ((sc_out *)state)->pos;
}

static void out_close(fz_context *fz, void *state)
{
	sc_out *o = state;

	out_flush(fz, o);
	base_wait(fz, o);
}

static void out_drop(fz_context *fz, void *state)
{
	sc_out *o = state;

	(void)fz;
	if (o->copying)
		pthread_join(o->copier, NULL);
	if (o->fd >= 0)
		close(o->fd);
	free(o->buf);
	free(o);
}

/* What MuPDF has written so far, read back. The original's part is read
 * from the original, so the copy need not be finished; and before MuPDF
 * has copied it, that part is not there (MuPDF compares what it finds with
 * the original to decide whether to copy: it must find nothing). */
static fz_stream *out_as_stream(fz_context *fz, void *state)
{
	sc_out *o = state;
	fz_stream *stm;
	sc_in *s;

	out_flush(fz, o);
	if (o->base_fd < 0)
		return open_in(fz, o->fd, 0, 0);
	stm = open_in(fz, o->fd, 0, 0);
	s = stm->state;
	s->base_fd = o->base_fd;
	s->base_map = o->base_map;
	s->base_len = o->base_len;
	s->base_end = o->base_end;
	return stm;
}

static void out_truncate(fz_context *fz, void *state)
{
	sc_out *o = state;

	out_flush(fz, o);
	/* Cutting at or after the original's end does not touch the copy;
	 * and there is nothing to cut when nothing was written past POS. */
	if (o->pos < o->base_len)
		base_wait(fz, o);
	if (o->pos >= o->end && o->pos >= o->base_len)
		return;
	if (o->end > o->pos)
		o->end = o->pos;
	if (ftruncate(o->fd, (off_t)o->pos) != 0)
		fz_throw(fz, FZ_ERROR_GENERIC, "cannot truncate: %s", strerror(errno));
}

/* An output to PATH (created or emptied). BASE: the document whose
 * original bytes start the file (an incremental update), or NULL. */
static fz_output *open_output(fz_context *fz, const char *path, pdf_document *base)
{
	sc_out *o = calloc(1, sizeof *o);
	sc_in *in = base ? input_of(base->file) : NULL;
	fz_output *out = NULL;
	struct stat st;

	fz_var(out);
	if (!o || !(o->buf = malloc(OUT_BUFFER))) {
		free(o);
		fz_throw(fz, FZ_ERROR_MEMORY, "out of memory");
	}
	o->base_fd = -1;
	/* PATH is a new empty file (signcore__tmp_beside) unless a first
	 * attempt wrote it. No O_TRUNC when it is empty: on ext4 a truncation
	 * to zero makes the close start writing the file out (auto_da_alloc). */
	if ((o->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0 ||
	    fstat(o->fd, &st) != 0 || (st.st_size > 0 && ftruncate(o->fd, 0) != 0)) {
		int e = errno;

		if (o->fd >= 0)
			close(o->fd);
		free(o->buf);
		free(o);
		fz_throw(fz, FZ_ERROR_GENERIC, "cannot open %s: %s", path, strerror(e));
	}
	if (in && base->file_size > 0 && (in->size < 0 || base->file_size <= in->size)) {
		o->base_fd = in->fd;
		o->base_len = base->file_size;
		if (in->whole)
			o->base_map = in->buf;
		/* A large original is copied while MuPDF writes and we hash. */
		if (o->base_len >= MAP_MIN && pthread_create(&o->copier, NULL, copier_main, o) == 0)
			o->copying = 1;
	}
	fz_try(fz)
		out = fz_new_output(fz, OUT_SMALL, o, out_write, out_close, out_drop);
	fz_catch(fz) {
		out_drop(fz, o);
		fz_rethrow(fz);
	}
	out->seek = out_seek;
	out->tell = out_tell;
	out->as_stream = out_as_stream;
	out->truncate = out_truncate;
	return out;
}

int signcore__out_digest(fz_context *fz, void *out, EVP_MD_CTX *mc, const int64_t *ranges, int n)
{
	sc_out *o = out;
	unsigned char *buf = NULL;
	int64_t end;
	int i;

	if (!o)
		return -1;
	out_flush(fz, o);
	end = o->end > o->base_len ? o->end : o->base_len;
	for (i = 0; i < n; i++)
		if (ranges[2 * i] < 0 || ranges[2 * i + 1] < 0 || ranges[2 * i] > end - ranges[2 * i + 1])
			fz_throw(fz, FZ_ERROR_GENERIC, "signed byte range outside the file");
	fz_var(buf);
	fz_try(fz) {
		for (i = 0; i < n; i++) {
			int64_t at = ranges[2 * i], stop = at + ranges[2 * i + 1];

			/* The original's part: from the copy read whole, or from mapped
			 * windows of the original (the copy in the output may still be
			 * on its way). */
			while (at < stop && at < o->base_len && o->base_map) {
				int64_t k = (stop < o->base_len ? stop : o->base_len) - at;

				EVP_DigestUpdate(mc, o->base_map + at, (size_t)k);
				at += k;
			}
			while (at < stop && at < o->base_len && o->base_len >= MAP_MIN) {
				int64_t wat, wlen, lim = stop < o->base_len ? stop : o->base_len, k;
				unsigned char *m = map_window(o->base_fd, o->base_len, at, &wat, &wlen);

				if (!m)
					break; /* read it below */
				k = (lim < wat + wlen ? lim : wat + wlen) - at;
				EVP_DigestUpdate(mc, m + (at - wat), (size_t)k);
				munmap(m, (size_t)wlen);
				at += k;
			}
			while (at < stop) {
				int fd = at < o->base_len ? o->base_fd : o->fd;
				int64_t lim = at < o->base_len && stop > o->base_len ? o->base_len : stop;
				size_t want = lim - at < IN_MAX ? (size_t)(lim - at) : IN_MAX;
				ssize_t got;

				if (!buf)
					buf = fz_malloc(fz, IN_MAX);
				got = pread(fd, buf, want, (off_t)at);
				if (got < 0 && errno == EINTR)
					continue;
				if (got <= 0)
					fz_throw(fz, FZ_ERROR_GENERIC, "cannot read the output: %s",
						got < 0 ? strerror(errno) : "unexpected end of file");
				EVP_DigestUpdate(mc, buf, (size_t)got);
				at += got;
			}
		}
	}
	fz_always(fz)
		fz_free(fz, buf);
	fz_catch(fz)
		fz_rethrow(fz);
	return 0;
}

/* ---------------------------------------------------------- compression */

/* DATA deflated at LEVEL into a new buffer, with one zlib stream kept on
 * the context: zlib's compress() allocates and clears some 270 KB for each
 * call, which for the half-dozen small streams of a signature costs more
 * than deflating them. */
fz_buffer *signcore__deflate(signcore_ctx *ctx, const unsigned char *data, size_t len, int level)
{
	fz_context *fz = ctx->fz;
	z_stream *zs = ctx->zs;
	fz_buffer *out;
	int rc;

	if (len > (size_t)UINT_MAX / 2)
		return NULL;
	if (!zs) {
		if (!(zs = calloc(1, sizeof *zs)))
			return NULL;
		if (deflateInit(zs, level) != Z_OK) {
			free(zs);
			return NULL;
		}
		ctx->zs = zs;
		ctx->zlevel = level;
	} else if (deflateReset(zs) != Z_OK || (ctx->zlevel != level && deflateParams(zs, level, Z_DEFAULT_STRATEGY) != Z_OK))
		return NULL;
	ctx->zlevel = level;
	out = fz_new_buffer(fz, deflateBound(zs, (uLong)len));
	zs->next_in = (Bytef *)data;
	zs->avail_in = (uInt)len;
	zs->next_out = out->data;
	zs->avail_out = (uInt)out->cap;
	rc = deflate(zs, Z_FINISH);
	if (rc != Z_STREAM_END) {
		fz_drop_buffer(fz, out);
		return NULL;
	}
	out->len = out->cap - zs->avail_out;
	return out;
}

void signcore__deflate_free(signcore_ctx *ctx)
{
	if (ctx->zs) {
		deflateEnd(ctx->zs);
		free(ctx->zs);
		ctx->zs = NULL;
	}
}

/* Deflate the new streams of an incremental update before MuPDF's writer
 * would (with compress(), see signcore__deflate). Images are left to it
 * (it gives 1-bit ones CCITT G4), and so is XMP metadata, which PDF/A
 * wants unfiltered. */
/* Deflate stream object NUM (its buffer E) in place. */
static void deflate_entry(signcore_ctx *ctx, pdf_document *pdf, int num, pdf_xref_entry *e)
{
	fz_context *fz = ctx->fz;
	pdf_obj *ref = NULL;
	fz_buffer *z = NULL;
	unsigned char *data;
	size_t len = fz_buffer_storage(fz, e->stm_buf, &data);

	if (!(z = signcore__deflate(ctx, data, len, Z_DEFAULT_COMPRESSION)))
		return;
	fz_var(ref);
	fz_try(fz) {
		ref = pdf_new_indirect(fz, pdf, num, 0);
		pdf_dict_put(fz, e->obj, PDF_NAME(Filter), PDF_NAME(FlateDecode));
		pdf_update_stream(fz, pdf, ref, z, 1);
	}
	fz_always(fz) {
		pdf_drop_obj(fz, ref);
		fz_drop_buffer(fz, z);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

void signcore__deflate_new_streams(signcore_ctx *ctx, pdf_document *pdf)
{
	fz_context *fz = ctx->fz;
	int num;

	/* Only the section being written; and not once a signature waits in
	 * it: a change then would open a new section after the signature. */
	if (!pdf->num_incremental_sections || pdf->xref_sections[0].unsaved_sigs ||
	    !pdf->xref_sections[0].subsec || pdf->xref_sections[0].subsec->next ||
	    pdf->xref_sections[0].subsec->start != 0)
		return;
	for (num = 1; num < pdf->xref_sections[0].subsec->len; num++) {
		pdf_xref_entry *e = &pdf->xref_sections[0].subsec->table[num];

		if (e->type == 'n' && e->stm_buf && pdf_is_dict(fz, e->obj) &&
		    !pdf_dict_get(fz, e->obj, PDF_NAME(Filter)) &&
		    !pdf_name_eq(fz, pdf_dict_get(fz, e->obj, PDF_NAME(Subtype)), PDF_NAME(Image)) &&
		    !pdf_name_eq(fz, pdf_dict_get(fz, e->obj, PDF_NAME(Type)), PDF_NAME(Metadata)))
			deflate_entry(ctx, pdf, num, e);
	}
}

void signcore__write_pdf(fz_context *fz, pdf_document *pdf, const char *path, int full)
{
	signcore_ctx *ctx = fz_user_context(fz);
	pdf_write_options wo;
	fz_output *out = NULL;

	/* Built by hand: pdf_parse_write_options resets the struct, and a
	 * forgotten do_incremental silently rewrites the file. */
	memset(&wo, 0, sizeof wo);
	wo.do_incremental = !full;
	wo.do_compress = 1;
	wo.do_compress_fonts = 1;
	wo.do_compress_images = 1;
	wo.do_garbage = full ? 1 : 0;
	wo.do_encrypt = PDF_ENCRYPT_KEEP;
	wo.permissions = ~0;

	fz_var(out);
	fz_try(fz) {
		if (ctx && !full)
			signcore__deflate_new_streams(ctx, pdf);
		out = open_output(fz, path, full ? NULL : pdf);
		if (ctx)
			ctx->writing = out->state;
		pdf_write_document(fz, pdf, out, &wo);
		fz_close_output(fz, out);
	}
	fz_always(fz) {
		if (ctx)
			ctx->writing = NULL;
		fz_drop_output(fz, out);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}
