/*
 * A small DER writer for the structures signcore builds itself (CMS
 * SignedData, signed attributes). Elements are appended in order; a
 * constructed element is opened with sc_der_open and closed with
 * sc_der_close, which inserts the tag and length in front of its content.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void reserve(sc_der *d, size_t more)
{
	size_t cap;
	unsigned char *p;

	if (d->oom || d->len + more <= d->cap)
		return;
	cap = d->cap ? d->cap : 256;
	while (cap < d->len + more)
		cap *= 2;
	p = realloc(d->p, cap);
	if (!p) {
		d->oom = 1;
		return;
	}
	d->p = p;
	d->cap = cap;
}

void sc_der_raw(sc_der *d, const void *data, size_t n)
{
	reserve(d, n);
	if (d->oom)
		return;
	if (n)
		memcpy(d->p + d->len, data, n);
	d->len += n;
}

static size_t header(unsigned char *h, int tag, size_t n)
{
	size_t k = 0, i;

	h[k++] = (unsigned char)tag;
	if (n < 0x80) {
		h[k++] = (unsigned char)n;
	} else {
		size_t bytes = 0, t = n;
		while (t) {
			bytes++;
			t >>= 8;
		}
		h[k++] = (unsigned char)(0x80 | bytes);
		for (i = bytes; i > 0; i--)
			h[k++] = (unsigned char)(n >> (8 * (i - 1)));
	}
	return k;
}

void sc_der_tlv(sc_der *d, int tag, const void *data, size_t n)
{
	unsigned char h[16];
	size_t k = header(h, tag, n);

	sc_der_raw(d, h, k);
	sc_der_raw(d, data, n);
}

size_t sc_der_open(sc_der *d)
{
	return d->len;
}

void sc_der_close(sc_der *d, size_t mark, int tag)
{
	unsigned char h[16];
	size_t n = d->len - mark, k = header(h, tag, n);

	reserve(d, k);
	if (d->oom)
		return;
	memmove(d->p + mark + k, d->p + mark, n);
	memcpy(d->p + mark, h, k);
	d->len += k;
}

void sc_der_oid(sc_der *d, const char *dotted)
{
	ASN1_OBJECT *o = OBJ_txt2obj(dotted, 1);
	unsigned char *buf = NULL;
	int n;

	if (!o) {
		d->oom = 1;
		return;
	}
	n = i2d_ASN1_OBJECT(o, &buf);
	if (n > 0)
		sc_der_raw(d, buf, (size_t)n);
	else
		d->oom = 1;
	OPENSSL_free(buf);
	ASN1_OBJECT_free(o);
}

void sc_der_null(sc_der *d)
{
	sc_der_raw(d, "\x05\x00", 2);
}

void sc_der_int(sc_der *d, long v)
{
	unsigned char b[sizeof(long) + 1];
	size_t n = 0, i;
	int started = 0;

	/* Minimal two's-complement encoding of a small non-negative value. */
	for (i = sizeof(long); i > 0; i--) {
		unsigned char byte = (unsigned char)((unsigned long)v >> (8 * (i - 1)));
		if (!started && byte == 0 && i > 1)
			continue;
		if (!started && (byte & 0x80))
			b[n++] = 0;
		started = 1;
		b[n++] = byte;
	}
	sc_der_tlv(d, 0x02, b, n);
}

/* An OpenSSL object written with its own i2d function. */
void sc_der_i2d(sc_der *d, int n, unsigned char **buf)
{
	if (n <= 0 || !*buf)
		d->oom = 1;
	else
		sc_der_raw(d, *buf, (size_t)n);
	OPENSSL_free(*buf);
	*buf = NULL;
}

void sc_der_free(sc_der *d)
{
	free(d->p);
	memset(d, 0, sizeof *d);
}

/* DER orders the members of a SET OF by their encodings. */
static int cmp_enc(const void *a, const void *b)
{
	const sc_der *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

void sc_der_set_of(sc_der *d, int tag, sc_der *items, size_t count)
{
	size_t mark, i;

	qsort(items, count, sizeof *items, cmp_enc);
	mark = sc_der_open(d);
	for (i = 0; i < count; i++) {
		if (items[i].oom)
			d->oom = 1;
		sc_der_raw(d, items[i].p, items[i].len);
	}
	sc_der_close(d, mark, tag);
}
