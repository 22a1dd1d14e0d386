/*
 * Revisions of a PDF file and what each incremental update changed.
 *
 * The revisions are found by walking the startxref / /Prev chain over the
 * raw bytes with a small lexer of our own (it also locates a signature's
 * /Contents, which MuPDF's parser does not give offsets for). What an update
 * changed is judged by opening the file as it stood at each revision end and
 * comparing the two documents object by object from the catalog down: an
 * object whose xref entry points at the same bytes in both is unchanged;
 * anything else is compared structurally. Page dictionaries, the page tree,
 * resources and content streams must be equal; differences are allowed only
 * in /DSS, form fields and their widgets, and other annotations.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ lexer */

static int is_ws(int c)
{
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ';
}

static int is_delim(int c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' ||
	       c == '{' || c == '}' || c == '/' || c == '%';
}

static void lx_skip(sc_lexer *l)
{
	while (l->pos < l->n) {
		int c = l->d[l->pos];
		if (is_ws(c))
			l->pos++;
		else if (c == '%') {
			while (l->pos < l->n && l->d[l->pos] != '\n' && l->d[l->pos] != '\r')
				l->pos++;
		} else
			break;
	}
}

int signcore__lex(sc_lexer *l, size_t *start)
{
	int c, depth;

	lx_skip(l);
	*start = l->pos;
	if (l->pos >= l->n)
		return SC_TOK_EOF;
	c = l->d[l->pos++];
	switch (c) {
	case '<':
		if (l->pos < l->n && l->d[l->pos] == '<') {
			l->pos++;
			return SC_TOK_DICT;
		}
		while (l->pos < l->n && l->d[l->pos] != '>') {
			int h = l->d[l->pos];
			if (!is_ws(h) && !((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
				return SC_TOK_ERROR;
			l->pos++;
		}
		if (l->pos >= l->n)
			return SC_TOK_ERROR;
		l->pos++;
		return SC_TOK_HEX;
	case '>':
		if (l->pos < l->n && l->d[l->pos] == '>') {
			l->pos++;
			return SC_TOK_DICT_END;
		}
		return SC_TOK_ERROR;
	case '[':
		return SC_TOK_ARRAY;
	case ']':
		return SC_TOK_ARRAY_END;
	case '(':
		depth = 1;
		while (l->pos < l->n && depth > 0) {
			c = l->d[l->pos++];
			if (c == '\\')
				l->pos++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		}
		return depth ? SC_TOK_ERROR : SC_TOK_STRING;
	case '/':
		while (l->pos < l->n && !is_ws(l->d[l->pos]) && !is_delim(l->d[l->pos]))
			l->pos++;
		return SC_TOK_NAME;
	case ')': case '{': case '}':
		return SC_TOK_ERROR;
	default:
		while (l->pos < l->n && !is_ws(l->d[l->pos]) && !is_delim(l->d[l->pos]))
			l->pos++;
		if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')
			return SC_TOK_NUMBER;
		return SC_TOK_KEYWORD;
	}
}

static int tok_is(const sc_lexer *l, size_t start, const char *word)
{
	size_t len = strlen(word);
	return l->pos - start == len && !memcmp(l->d + start, word, len);
}

static long long tok_int(const sc_lexer *l, size_t start)
{
	long long v = 0;
	size_t i = start;
	int neg = 0;

	if (i < l->pos && (l->d[i] == '-' || l->d[i] == '+'))
		neg = l->d[i++] == '-';
	for (; i < l->pos && l->d[i] >= '0' && l->d[i] <= '9'; i++) {
		if (v > (1LL << 50))
			return -1;
		v = v * 10 + (l->d[i] - '0');
	}
	if (i != l->pos)
		return -1; /* not an integer */
	return neg ? -v : v;
}

/* Skip one value whose first token (TOK at START) has been read. */
static int skip_value(sc_lexer *l, int tok, size_t start)
{
	int depth = 0;
	size_t s, save;

	if (tok == SC_TOK_NUMBER) {
		/* "N G R" is one value. */
		save = l->pos;
		if (signcore__lex(l, &s) == SC_TOK_NUMBER && signcore__lex(l, &s) == SC_TOK_KEYWORD && tok_is(l, s, "R"))
			return 0;
		l->pos = save;
		return 0;
	}
	(void)start;
	if (tok != SC_TOK_DICT && tok != SC_TOK_ARRAY)
		return tok == SC_TOK_ERROR || tok == SC_TOK_EOF || tok == SC_TOK_DICT_END || tok == SC_TOK_ARRAY_END ? -1 : 0;
	depth = 1;
	while (depth > 0) {
		tok = signcore__lex(l, &s);
		if (tok == SC_TOK_EOF || tok == SC_TOK_ERROR)
			return -1;
		if (tok == SC_TOK_DICT || tok == SC_TOK_ARRAY)
			depth++;
		else if (tok == SC_TOK_DICT_END || tok == SC_TOK_ARRAY_END)
			depth--;
		if (depth > 64)
			return -1;
	}
	return 0;
}

int signcore__dict_find(sc_lexer *l, const char *key, size_t *vstart, int *vtok)
{
	size_t s, klen = strlen(key);
	int tok = signcore__lex(l, &s);

	if (tok != SC_TOK_DICT)
		return -1;
	for (;;) {
		tok = signcore__lex(l, &s);
		if (tok == SC_TOK_DICT_END)
			return 1; /* not there */
		if (tok != SC_TOK_NAME)
			return -1;
		if (l->pos - s - 1 == klen && !memcmp(l->d + s + 1, key, klen)) {
			size_t save = l->pos;
			*vtok = signcore__lex(l, vstart);
			l->pos = save;
			return 0;
		}
		tok = signcore__lex(l, &s);
		if (skip_value(l, tok, s))
			return -1;
	}
}

int signcore__obj_header(sc_lexer *l, int num)
{
	size_t s;

	if (signcore__lex(l, &s) != SC_TOK_NUMBER || tok_int(l, s) != num)
		return -1;
	if (signcore__lex(l, &s) != SC_TOK_NUMBER || tok_int(l, s) < 0)
		return -1;
	if (signcore__lex(l, &s) != SC_TOK_KEYWORD || !tok_is(l, s, "obj"))
		return -1;
	return 0;
}

/* -------------------------------------------------------------- revisions */

/* The integer after "startxref" at P, and where "%%EOF" (+ EOL) ends. */
static int parse_startxref(const unsigned char *d, size_t n, size_t p, long long *xref, size_t *end)
{
	sc_lexer l = { d, n, p + 9 };
	size_t s;

	if (signcore__lex(&l, &s) != SC_TOK_NUMBER || (*xref = tok_int(&l, s)) < 0)
		return -1;
	while (l.pos < n && is_ws(d[l.pos]))
		l.pos++;
	if (l.pos + 5 > n || memcmp(d + l.pos, "%%EOF", 5))
		return -1;
	l.pos += 5;
	if (l.pos < n && d[l.pos] == '\r')
		l.pos++;
	if (l.pos < n && d[l.pos] == '\n')
		l.pos++;
	*end = l.pos;
	return 0;
}

static const unsigned char *find_bytes(const unsigned char *d, size_t n, size_t from, const char *what)
{
	size_t len = strlen(what);
	const unsigned char *p = d + from;

	while (from < n && (p = memchr(d + from, what[0], n - from)) != NULL) {
		if ((size_t)(p - d) + len <= n && !memcmp(p, what, len))
			return p;
		from = (size_t)(p - d) + 1;
	}
	return NULL;
}

/* /Prev of the xref section at OFS: 0 = none, -1 = not a section. */
static long long section_prev(const unsigned char *d, size_t n, long long ofs)
{
	sc_lexer l = { d, n, (size_t)ofs };
	size_t s, v;
	int tok;

	if (ofs < 0 || (size_t)ofs >= n)
		return -1;
	tok = signcore__lex(&l, &s);
	if (tok == SC_TOK_KEYWORD && tok_is(&l, s, "xref")) {
		/* Entries are numbers and n/f keywords up to "trailer". */
		for (;;) {
			tok = signcore__lex(&l, &s);
			if (tok == SC_TOK_KEYWORD && tok_is(&l, s, "trailer"))
				break;
			if (tok != SC_TOK_NUMBER && !(tok == SC_TOK_KEYWORD && (tok_is(&l, s, "n") || tok_is(&l, s, "f"))))
				return -1;
		}
	} else if (tok == SC_TOK_NUMBER) {
		if (signcore__lex(&l, &s) != SC_TOK_NUMBER || signcore__lex(&l, &s) != SC_TOK_KEYWORD || !tok_is(&l, s, "obj"))
			return -1;
	} else
		return -1;
	switch (signcore__dict_find(&l, "Prev", &v, &tok)) {
	case 1:
		return 0;
	case 0:
		if (tok != SC_TOK_NUMBER)
			return -1;
		l.pos = v;
		signcore__lex(&l, &s);
		return tok_int(&l, s) > 0 ? tok_int(&l, s) : -1;
	default:
		return -1;
	}
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

typedef struct {
	long long xref;   /* the offset it names */
	size_t end;       /* after %%EOF and its end of line */
} marker;

int signcore__revisions(const unsigned char *d, size_t n, size_t **ends, int *count)
{
	long long chain[1024], x, prev;
	marker *mk = NULL, *m2;
	size_t *out, end, from;
	const unsigned char *p;
	int nmk = 0, capmk = 0, nchain = 0, nout = 0, i, j;

	*ends = NULL;
	*count = 0;
	/* Every "startxref N %%EOF" of the file. */
	for (from = 0; (p = find_bytes(d, n, from, "startxref")) != NULL; from = (size_t)(p - d) + 9) {
		if (parse_startxref(d, n, (size_t)(p - d), &x, &end))
			continue;
		if (nmk == capmk) {
			capmk = capmk ? capmk * 2 : 16;
			m2 = realloc(mk, sizeof *mk * (size_t)capmk);
			if (!m2) {
				free(mk);
				return -2;
			}
			mk = m2;
		}
		mk[nmk].xref = x;
		mk[nmk].end = end;
		nmk++;
	}
	if (!nmk)
		return -1;
	/* The chain of sections from the last startxref. */
	x = mk[nmk - 1].xref;
	while (x > 0 && nchain < (int)(sizeof chain / sizeof chain[0])) {
		for (i = 0; i < nchain; i++)
			if (chain[i] == x)
				break;
		if (i < nchain)
			break; /* a loop */
		chain[nchain++] = x;
		prev = section_prev(d, n, x);
		if (prev <= 0)
			break;
		x = prev;
	}
	out = malloc(sizeof *out * (size_t)(nchain + 1));
	if (!out) {
		free(mk);
		return -2;
	}
	/* A revision ends at the first startxref after its section that names it. */
	for (i = 0; i < nchain; i++)
		for (j = 0; j < nmk; j++)
			if (mk[j].xref == chain[i] && mk[j].end > (size_t)chain[i]) {
				out[nout++] = mk[j].end;
				break;
			}
	out[nout++] = mk[nmk - 1].end;
	qsort(out, (size_t)nout, sizeof *out, cmp_size);
	for (i = j = 0; i < nout; i++)
		if (j == 0 || out[j - 1] != out[i])
			out[j++] = out[i];
	while (j > 0 && out[j - 1] > mk[nmk - 1].end)
		j--;
	free(mk);
	*ends = out;
	*count = j;
	return 0;
}

/* ------------------------------------------------------------ comparison */

typedef struct {
	fz_context *fz;
	pdf_document *a, *b;
	/* Memo of compared pairs of object numbers: 1 equal or being compared
	 * (cycles are assumed equal), 2 different. Open addressing. */
	unsigned long long *keys;
	unsigned char *vals;
	size_t nseen, cap;
	sc_diff *out;
} cmp;

void signcore__diff_note(sc_diff *d, signcore_changes level, const char *fmt, ...)
{
	size_t len = strlen(d->detail);
	va_list ap;

	if (level > d->level)
		d->level = level;
	if (d->notes >= 6) {
		if (d->notes++ == 6 && len + 12 < sizeof d->detail)
			strcat(d->detail, "; and more");
		return;
	}
	d->notes++;
	if (len && len + 3 < sizeof d->detail) {
		strcat(d->detail, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(d->detail + len, sizeof d->detail - len, fmt, ap);
	va_end(ap);
}

static int same_entry(fz_context *fz, pdf_document *a, pdf_document *b, int num, int depth)
{
	pdf_xref_entry *ea, *eb;

	if (num <= 0 || num >= pdf_xref_len(fz, a) || num >= pdf_xref_len(fz, b))
		return 0;
	ea = pdf_get_xref_entry_no_null(fz, a, num);
	eb = pdf_get_xref_entry_no_null(fz, b, num);
	if (ea->type != eb->type || ea->gen != eb->gen || ea->ofs != eb->ofs)
		return 0;
	if (ea->type == 'n')
		return ea->ofs > 0;
	if (ea->type == 'o')
		return depth < 1 && same_entry(fz, a, b, (int)ea->ofs, depth + 1);
	return 1;
}

static size_t memo_slot(const cmp *c, unsigned long long key)
{
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (c->cap - 1);

	while (c->vals[i] && c->keys[i] != key)
		i = (i + 1) & (c->cap - 1);
	return i;
}

/* The memo entry of the pair (X, Y), created as "being compared" (returns 0
 * then) if it is new. */
static unsigned char *memo(cmp *c, int x, int y, int *found)
{
	unsigned long long key = ((unsigned long long)(unsigned)x << 32) | (unsigned)y;
	size_t i;

	if (c->nseen * 2 >= c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024, old = c->cap, j;
		unsigned long long *ok = c->keys;
		unsigned char *ov = c->vals;
		c->keys = calloc(cap, sizeof *c->keys);
		c->vals = calloc(cap, 1);
		if (!c->keys || !c->vals) {
			free(c->keys);
			free(c->vals);
			c->keys = ok;
			c->vals = ov;
			fz_throw(c->fz, FZ_ERROR_GENERIC, "out of memory");
		}
		c->cap = cap;
		for (j = 0; j < old; j++)
			if (ov[j]) {
				size_t k = memo_slot(c, ok[j]);
				c->keys[k] = ok[j];
				c->vals[k] = ov[j];
			}
		free(ok);
		free(ov);
	}
	i = memo_slot(c, key);
	*found = c->vals[i] != 0;
	if (!*found) {
		c->keys[i] = key;
		c->vals[i] = 1;
		c->nseen++;
	}
	return &c->vals[i];
}

static int eq(cmp *c, pdf_obj *x, pdf_obj *y, int depth);

/* Keys that point back up the tree (page to parent, annotation to page,
 * field to parent field): what they point at is compared on its own. */
static int back_pointer(fz_context *fz, const char *key, pdf_obj *v)
{
	return !strcmp(key, "Parent") || (!strcmp(key, "P") && pdf_is_indirect(fz, v));
}

static int eq_streams(cmp *c, pdf_obj *x, pdf_obj *y)
{
	fz_context *fz = c->fz;
	fz_buffer *bx = NULL, *by = NULL;
	int same = 0;

	fz_var(bx);
	fz_var(by);
	fz_var(same);
	fz_try(fz) {
		bx = pdf_load_raw_stream(fz, x);
		by = pdf_load_raw_stream(fz, y);
		same = bx->len == by->len && !memcmp(bx->data, by->data, bx->len);
	}
	fz_always(fz) {
		fz_drop_buffer(fz, bx);
		fz_drop_buffer(fz, by);
	}
	fz_catch(fz)
		fz_rethrow(fz);
	return same;
}

/* Equal dictionaries, ignoring the keys in SKIP (NULL-terminated). */
static int eq_dict(cmp *c, pdf_obj *x, pdf_obj *y, const char *const *skip, int depth)
{
	fz_context *fz = c->fz;
	int i, n, k, counted = 0;

	n = pdf_dict_len(fz, x);
	for (i = 0; i < n; i++) {
		const char *key = pdf_to_name(fz, pdf_dict_get_key(fz, x, i));
		for (k = 0; skip && skip[k]; k++)
			if (!strcmp(skip[k], key))
				break;
		if ((skip && skip[k]) || back_pointer(fz, key, pdf_dict_get_val(fz, x, i)))
			continue;
		counted++;
		if (!eq(c, pdf_dict_get_val(fz, x, i), pdf_dict_gets(fz, y, key), depth + 1))
			return 0;
	}
	n = pdf_dict_len(fz, y);
	for (i = 0; i < n; i++) {
		const char *key = pdf_to_name(fz, pdf_dict_get_key(fz, y, i));
		for (k = 0; skip && skip[k]; k++)
			if (!strcmp(skip[k], key))
				break;
		if (!(skip && skip[k]) && !back_pointer(fz, key, pdf_dict_get_val(fz, y, i)))
			counted--;
	}
	return counted == 0;
}

static int eq_resolved(cmp *c, pdf_obj *rx, pdf_obj *ry, int depth)
{
	fz_context *fz = c->fz;
	int i, n;

	if (pdf_is_dict(fz, rx))
		return pdf_is_dict(fz, ry) && eq_dict(c, rx, ry, NULL, depth);
	if (pdf_is_array(fz, rx)) {
		if (!pdf_is_array(fz, ry) || (n = pdf_array_len(fz, rx)) != pdf_array_len(fz, ry))
			return 0;
		for (i = 0; i < n; i++)
			if (!eq(c, pdf_array_get(fz, rx, i), pdf_array_get(fz, ry, i), depth + 1))
				return 0;
		return 1;
	}
	if (pdf_is_dict(fz, ry) || pdf_is_array(fz, ry))
		return 0;
	if (pdf_is_name(fz, rx) != pdf_is_name(fz, ry) || pdf_is_string(fz, rx) != pdf_is_string(fz, ry))
		return 0;
	return !pdf_objcmp(fz, rx, ry);
}

/*
 * Deep equality of X (in revision A) and Y (in revision B). An object whose
 * xref entry is the same in both has the same bytes, but what it refers to
 * may still have changed, so the walk always goes down to the leaves; the
 * memo makes it visit each pair of objects once.
 */
static int eq(cmp *c, pdf_obj *x, pdf_obj *y, int depth)
{
	fz_context *fz = c->fz;
	unsigned char *m;
	int found, same;

	if (depth > 200)
		return 0;
	if (pdf_is_indirect(fz, x) && pdf_is_indirect(fz, y)) {
		int nx = pdf_to_num(fz, x), ny = pdf_to_num(fz, y);
		int unchanged = nx == ny && same_entry(fz, c->a, c->b, nx, 0);
		m = memo(c, nx, ny, &found);
		if (found)
			return *m == 1;
		if (pdf_is_stream(fz, x) != pdf_is_stream(fz, y) ||
		    (!unchanged && pdf_is_stream(fz, x) && !eq_streams(c, x, y)))
			same = 0;
		else
			same = eq_resolved(c, pdf_resolve_indirect_chain(fz, x), pdf_resolve_indirect_chain(fz, y), depth);
		/* The table may have grown: look the entry up again. */
		m = memo(c, nx, ny, &found);
		*m = same ? 1 : 2;
		return same;
	}
	if (pdf_is_indirect(fz, x) != pdf_is_indirect(fz, y) && (pdf_is_stream(fz, x) || pdf_is_stream(fz, y)))
		return 0;
	return eq_resolved(c, pdf_resolve_indirect_chain(fz, x), pdf_resolve_indirect_chain(fz, y), depth);
}

static int obj_eq(cmp *c, pdf_obj *x, pdf_obj *y)
{
	return eq(c, x, y, 0);
}

/* ---------------------------------------------------------------- fields */

typedef struct {
	int num;
	pdf_obj *obj;
} field_ref;

typedef struct {
	field_ref *v;
	int n, cap;
} field_list;

static void collect_fields(fz_context *fz, pdf_obj *kids, field_list *fl, int depth)
{
	int i, n = pdf_array_len(fz, kids);

	if (depth > 32)
		return;
	for (i = 0; i < n; i++) {
		pdf_obj *ref = pdf_array_get(fz, kids, i);
		pdf_obj *f = pdf_resolve_indirect_chain(fz, ref);
		int num = pdf_to_num(fz, ref), j;
		if (!pdf_is_dict(fz, f) || !num)
			continue;
		for (j = 0; j < fl->n; j++)
			if (fl->v[j].num == num)
				break;
		if (j < fl->n)
			continue; /* a loop */
		if (fl->n == fl->cap) {
			int cap = fl->cap ? fl->cap * 2 : 32;
			field_ref *v = realloc(fl->v, (size_t)cap * sizeof *v);
			if (!v)
				fz_throw(fz, FZ_ERROR_GENERIC, "out of memory");
			fl->v = v;
			fl->cap = cap;
		}
		fl->v[fl->n].num = num;
		fl->v[fl->n].obj = f;
		fl->n++;
		collect_fields(fz, pdf_dict_get(fz, f, PDF_NAME(Kids)), fl, depth + 1);
	}
}

static pdf_obj *find_field(const field_list *fl, int num)
{
	int i;

	for (i = 0; i < fl->n; i++)
		if (fl->v[i].num == num)
			return fl->v[i].obj;
	return NULL;
}

static int is_sig_field(fz_context *fz, pdf_obj *f)
{
	return pdf_name_eq(fz, pdf_dict_get_inheritable(fz, f, PDF_NAME(FT)), PDF_NAME(Sig));
}

static int is_doc_timestamp(fz_context *fz, pdf_obj *f)
{
	pdf_obj *v = pdf_dict_get_inheritable(fz, f, PDF_NAME(V));
	return !strcmp(pdf_to_name(fz, pdf_dict_get(fz, v, PDF_NAME(Type))), "DocTimeStamp");
}

static void add_changed_field(sc_diff *d, const char *name)
{
	char **v;
	int i;

	for (i = 0; i < d->nfields; i++)
		if (!strcmp(d->fields[i], name))
			return;
	v = realloc(d->fields, sizeof *v * (size_t)(d->nfields + 1));
	if (!v)
		return;
	d->fields = v;
	if ((d->fields[d->nfields] = signcore__strdup(name)) != NULL)
		d->nfields++;
}

static int key_in(const char *key, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(key, *set))
			return 1;
	return 0;
}

/* The keys of A or B, except those in SKIP, whose values differ (borrowed
 * name objects, at most MAX; more is itself a disallowed change). Returns
 * how many. */
static int changed_keys(cmp *c, pdf_obj *a, pdf_obj *b, const char *const *skip, pdf_obj **out, int max)
{
	fz_context *fz = c->fz;
	int pass, i, n, count = 0;

	for (pass = 0; pass < 2; pass++) {
		pdf_obj *x = pass ? b : a, *y = pass ? a : b;
		n = pdf_dict_len(fz, x);
		for (i = 0; i < n; i++) {
			pdf_obj *k = pdf_dict_get_key(fz, x, i);
			if (pass && pdf_dict_get(fz, y, k))
				continue; /* compared in the first pass */
			if (key_in(pdf_to_name(fz, k), skip) || obj_eq(c, pdf_dict_get_val(fz, x, i), pdf_dict_get(fz, y, k)))
				continue;
			if (count == max) {
				signcore__diff_note(c->out, SIGNCORE_CHANGES_DISALLOWED, "more than %d entries of a dictionary changed", max);
				return count;
			}
			out[count++] = k;
		}
	}
	return count;
}

/* A field that exists in both revisions but whose dictionary changed. */
static void field_changed(cmp *c, pdf_obj *fa, pdf_obj *fb, const char *name)
{
	static const char *const fill_keys[] = { "V", "AS", "AP", "DV", "MK", "DA", "Q", NULL };
	/* Structure: compared through the field and page lists. */
	static const char *const skip[] = { "Kids", "Parent", "P", NULL };
	fz_context *fz = c->fz;
	pdf_obj *keys[64];
	int sig = is_sig_field(fz, fb), i, n = changed_keys(c, fa, fb, skip, keys, 64);

	for (i = 0; i < n; i++) {
		const char *key = pdf_to_name(fz, keys[i]);
		if (!strcmp(key, "V") && sig) {
			if (pdf_dict_get(fz, fa, PDF_NAME(V)))
				signcore__diff_note(c->out, SIGNCORE_CHANGES_DISALLOWED,
					"the value of signature field \"%s\" was replaced", name);
			else if (is_doc_timestamp(fz, fb))
				signcore__diff_note(c->out, SIGNCORE_CHANGES_LTV, "document time-stamp \"%s\" added", name);
			else
				signcore__diff_note(c->out, SIGNCORE_CHANGES_FORM, "signature field \"%s\" signed", name);
		} else if (!strcmp(key, "V")) {
			signcore__diff_note(c->out, SIGNCORE_CHANGES_FORM, "field \"%s\" filled", name);
			add_changed_field(c->out, name);
		} else if (key_in(key, fill_keys)) {
			if (!sig)
				add_changed_field(c->out, name);
			if (!sig || !pdf_dict_get(fz, fa, PDF_NAME(V)) || strcmp(key, "AP"))
				signcore__diff_note(c->out, SIGNCORE_CHANGES_FORM, "field \"%s\": /%s changed", name, key);
			else
				signcore__diff_note(c->out, SIGNCORE_CHANGES_ANNOTATIONS,
					"the appearance of signed field \"%s\" changed", name);
		} else if (!strcmp(key, "T") || !strcmp(key, "FT") || !strcmp(key, "Lock") || !strcmp(key, "SV")) {
			signcore__diff_note(c->out, SIGNCORE_CHANGES_DISALLOWED, "field \"%s\": /%s changed", name, key);
		} else {
			signcore__diff_note(c->out, SIGNCORE_CHANGES_ANNOTATIONS, "field \"%s\": /%s changed", name, key);
		}
	}
}

static void compare_fields(cmp *c, pdf_obj *forma, pdf_obj *formb)
{
	fz_context *fz = c->fz;
	field_list la = { 0 }, lb = { 0 };
	char *name = NULL;
	int i;

	fz_var(name);
	fz_try(fz) {
		collect_fields(fz, pdf_dict_get(fz, forma, PDF_NAME(Fields)), &la, 0);
		collect_fields(fz, pdf_dict_get(fz, formb, PDF_NAME(Fields)), &lb, 0);
		for (i = 0; i < lb.n; i++) {
			pdf_obj *fa = find_field(&la, lb.v[i].num), *fb = lb.v[i].obj;
			if (fa && obj_eq(c, fa, fb))
				continue;
			fz_free(fz, name);
			name = NULL;
			name = signcore__field_name(fz, fb);
			if (!fa) {
				if (is_sig_field(fz, fb) && is_doc_timestamp(fz, fb))
					signcore__diff_note(c->out, SIGNCORE_CHANGES_LTV, "document time-stamp \"%s\" added", name);
				else if (is_sig_field(fz, fb))
					signcore__diff_note(c->out, SIGNCORE_CHANGES_FORM, "signature field \"%s\" added", name);
				else
					signcore__diff_note(c->out, SIGNCORE_CHANGES_ANNOTATIONS, "form field \"%s\" added", name);
			} else {
				field_changed(c, fa, fb, name);
			}
		}
		for (i = 0; i < la.n; i++) {
			if (find_field(&lb, la.v[i].num))
				continue;
			fz_free(fz, name);
			name = NULL;
			name = signcore__field_name(fz, la.v[i].obj);
			signcore__diff_note(c->out, is_sig_field(fz, la.v[i].obj) ? SIGNCORE_CHANGES_DISALLOWED :
				SIGNCORE_CHANGES_ANNOTATIONS, "form field \"%s\" removed", name);
		}
	}
	fz_always(fz) {
		fz_free(fz, name);
		free(la.v);
		free(lb.v);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

static void compare_acroform(cmp *c, pdf_obj *fa, pdf_obj *fb)
{
	static const char *const form_keys[] = { "DR", "DA", "NeedAppearances", "SigFlags", "Q", NULL };
	static const char *const skip[] = { "Fields", NULL };
	fz_context *fz = c->fz;
	pdf_obj *keys[64];
	int i, n;

	if (obj_eq(c, fa, fb))
		return;
	fa = pdf_resolve_indirect_chain(fz, fa);
	fb = pdf_resolve_indirect_chain(fz, fb);
	compare_fields(c, fa, fb);
	n = changed_keys(c, fa, fb, skip, keys, 64);
	for (i = 0; i < n; i++)
		signcore__diff_note(c->out, key_in(pdf_to_name(fz, keys[i]), form_keys) ? SIGNCORE_CHANGES_FORM :
			SIGNCORE_CHANGES_DISALLOWED, "interactive form: /%s changed", pdf_to_name(fz, keys[i]));
}

/* ----------------------------------------------------------------- pages */

static const char *annot_kind(fz_context *fz, pdf_obj *annot)
{
	const char *s = pdf_to_name(fz, pdf_dict_get(fz, annot, PDF_NAME(Subtype)));
	return *s ? s : "unknown";
}

static void annot_added(cmp *c, pdf_obj *annot, int page)
{
	fz_context *fz = c->fz;

	if (pdf_name_eq(fz, pdf_dict_get(fz, annot, PDF_NAME(Subtype)), PDF_NAME(Widget))) {
		pdf_obj *field = signcore__widget_field(fz, annot);
		if (is_sig_field(fz, field) && is_doc_timestamp(fz, field))
			signcore__diff_note(c->out, SIGNCORE_CHANGES_LTV, "document time-stamp widget on page %d", page);
		else if (is_sig_field(fz, field))
			signcore__diff_note(c->out, SIGNCORE_CHANGES_FORM, "signature widget added on page %d", page);
		else
			signcore__diff_note(c->out, SIGNCORE_CHANGES_ANNOTATIONS, "form field widget added on page %d", page);
	} else {
		signcore__diff_note(c->out, SIGNCORE_CHANGES_ANNOTATIONS, "%s annotation added on page %d",
			annot_kind(fz, annot), page);
	}
}

static void annot_changed(cmp *c, pdf_obj *xa, pdf_obj *xb, int page)
{
	static const char *const fill_keys[] = { "AP", "AS", "V", "DV", "MK", "DA", NULL };
	fz_context *fz = c->fz;
	pdf_obj *a = pdf_resolve_indirect_chain(fz, xa), *b = pdf_resolve_indirect_chain(fz, xb);

	if (pdf_name_eq(fz, pdf_dict_get(fz, b, PDF_NAME(Subtype)), PDF_NAME(Widget)) &&
	    pdf_name_eq(fz, pdf_dict_get(fz, a, PDF_NAME(Subtype)), PDF_NAME(Widget)) &&
	    eq_dict(c, a, b, fill_keys, 0)) {
		pdf_obj *field = signcore__widget_field(fz, b);
		/* Filling: judged with the field (a signed signature's look may not change). */
		if (is_sig_field(fz, field) && pdf_dict_get_inheritable(fz, signcore__widget_field(fz, a), PDF_NAME(V)) &&
		    !obj_eq(c, pdf_dict_get(fz, a, PDF_NAME(AP)), pdf_dict_get(fz, b, PDF_NAME(AP))))
			signcore__diff_note(c->out, SIGNCORE_CHANGES_ANNOTATIONS,
				"the appearance of a signed signature on page %d changed", page);
		else
			signcore__diff_note(c->out, SIGNCORE_CHANGES_FORM, "form field widget filled on page %d", page);
		return;
	}
	signcore__diff_note(c->out, SIGNCORE_CHANGES_ANNOTATIONS, "%s annotation changed on page %d", annot_kind(fz, b), page);
}

static void compare_annots(cmp *c, pdf_obj *pa, pdf_obj *pb, int page)
{
	fz_context *fz = c->fz;
	pdf_obj *la = pdf_dict_get(fz, pa, PDF_NAME(Annots)), *lb = pdf_dict_get(fz, pb, PDF_NAME(Annots));
	int na = pdf_array_len(fz, la), nb = pdf_array_len(fz, lb), i, j;

	if (obj_eq(c, la, lb))
		return;
	for (j = 0; j < nb; j++) {
		pdf_obj *xb = pdf_array_get(fz, lb, j);
		int num = pdf_to_num(fz, xb);
		for (i = 0; i < na; i++) {
			pdf_obj *xa = pdf_array_get(fz, la, i);
			if (num ? pdf_to_num(fz, xa) == num : (i == j && !pdf_is_indirect(fz, xa)))
				break;
		}
		if (i == na)
			annot_added(c, pdf_resolve_indirect_chain(fz, xb), page);
		else if (!obj_eq(c, pdf_array_get(fz, la, i), xb))
			annot_changed(c, pdf_array_get(fz, la, i), xb, page);
	}
	for (i = 0; i < na; i++) {
		pdf_obj *xa = pdf_array_get(fz, la, i);
		int num = pdf_to_num(fz, xa);
		for (j = 0; j < nb; j++)
			if (num ? pdf_to_num(fz, pdf_array_get(fz, lb, j)) == num : (i == j && !pdf_is_indirect(fz, pdf_array_get(fz, lb, j))))
				break;
		if (j == nb) {
			pdf_obj *a = pdf_resolve_indirect_chain(fz, xa);
			signcore__diff_note(c->out, pdf_name_eq(fz, pdf_dict_get(fz, a, PDF_NAME(Subtype)), PDF_NAME(Widget)) ?
				SIGNCORE_CHANGES_DISALLOWED : SIGNCORE_CHANGES_ANNOTATIONS,
				"%s annotation removed from page %d", annot_kind(fz, a), page);
		}
	}
}

static void compare_page(cmp *c, pdf_obj *pa, pdf_obj *pb, int page, int *bad)
{
	static const char *const skip[] = { "Annots", "Parent", NULL };
	fz_context *fz = c->fz;
	pdf_obj *da = pdf_resolve_indirect_chain(fz, pa), *db = pdf_resolve_indirect_chain(fz, pb);
	pdf_obj *inherited[4];
	int k;

	inherited[0] = PDF_NAME(Resources);
	inherited[1] = PDF_NAME(MediaBox);
	inherited[2] = PDF_NAME(CropBox);
	inherited[3] = PDF_NAME(Rotate);
	if (!eq_dict(c, da, db, skip, 0)) {
		if ((*bad)++ < 3)
			signcore__diff_note(c->out, SIGNCORE_CHANGES_DISALLOWED,
				pdf_to_num(fz, pb) != pdf_to_num(fz, pa) ? "page %d replaced by another page object" :
				!obj_eq(c, pdf_dict_get(fz, da, PDF_NAME(Contents)), pdf_dict_get(fz, db, PDF_NAME(Contents))) ?
				"page %d: content stream changed" : "page %d: resources or geometry changed", page);
		return;
	}
	for (k = 0; k < 4; k++)
		if (!obj_eq(c, pdf_dict_get_inheritable(fz, da, inherited[k]), pdf_dict_get_inheritable(fz, db, inherited[k]))) {
			if ((*bad)++ < 3)
				signcore__diff_note(c->out, SIGNCORE_CHANGES_DISALLOWED, "page %d: inherited /%s changed",
					page, pdf_to_name(fz, inherited[k]));
			return;
		}
	compare_annots(c, da, db, page);
}

/* Page I of both revisions. With a page map loaded, MuPDF 1.21's
 * pdf_lookup_page_obj returns a new reference (without one, a borrowed
 * one): the page tree is always loaded here, so drop what it returns. */
static void compare_page_at(cmp *c, int i, int *bad)
{
	fz_context *fz = c->fz;
	pdf_obj *pa = NULL, *pb = NULL;

	fz_var(pa);
	fz_var(pb);
	fz_try(fz) {
		pa = pdf_lookup_page_obj(fz, c->a, i);
		pb = pdf_lookup_page_obj(fz, c->b, i);
		compare_page(c, pa, pb, i + 1, bad);
	}
	fz_always(fz) {
		pdf_drop_obj(fz, pa);
		pdf_drop_obj(fz, pb);
	}
	fz_catch(fz)
		fz_rethrow(fz);
}

static void compare_pages(cmp *c)
{
	fz_context *fz = c->fz;
	int na = pdf_count_pages(fz, c->a), nb = pdf_count_pages(fz, c->b), i, bad = 0;

	if (na != nb) {
		signcore__diff_note(c->out, SIGNCORE_CHANGES_DISALLOWED, "page count changed from %d to %d", na, nb);
		return;
	}
	for (i = 0; i < na; i++)
		compare_page_at(c, i, &bad);
}

static void compare_catalogs(cmp *c)
{
	static const char *const ltv_keys[] = { "DSS", "Extensions", NULL };
	static const char *const skip[] = { "Pages", "AcroForm", NULL };
	fz_context *fz = c->fz;
	pdf_obj *ta = pdf_trailer(fz, c->a), *tb = pdf_trailer(fz, c->b);
	pdf_obj *ra = pdf_dict_get(fz, ta, PDF_NAME(Root)), *rb = pdf_dict_get(fz, tb, PDF_NAME(Root));
	pdf_obj *keys[64];
	int i, n;

	if (!obj_eq(c, pdf_dict_get(fz, ta, PDF_NAME(Encrypt)), pdf_dict_get(fz, tb, PDF_NAME(Encrypt))))
		signcore__diff_note(c->out, SIGNCORE_CHANGES_DISALLOWED, "the encryption dictionary changed");
	if (!obj_eq(c, pdf_dict_get(fz, ta, PDF_NAME(Info)), pdf_dict_get(fz, tb, PDF_NAME(Info))))
		signcore__diff_note(c->out, SIGNCORE_CHANGES_ANNOTATIONS, "the document information dictionary changed");
	if (obj_eq(c, ra, rb))
		return;
	ra = pdf_resolve_indirect_chain(fz, ra);
	rb = pdf_resolve_indirect_chain(fz, rb);
	n = changed_keys(c, ra, rb, skip, keys, 64);
	for (i = 0; i < n; i++) {
		const char *key = pdf_to_name(fz, keys[i]);
		if (key_in(key, ltv_keys))
			signcore__diff_note(c->out, SIGNCORE_CHANGES_LTV, "/%s %s", key,
				pdf_dict_get(fz, ra, keys[i]) ? "updated" : "added");
		else
			signcore__diff_note(c->out, SIGNCORE_CHANGES_DISALLOWED, "document catalog: /%s changed", key);
	}
	compare_acroform(c, pdf_dict_get(fz, ra, PDF_NAME(AcroForm)), pdf_dict_get(fz, rb, PDF_NAME(AcroForm)));
}

int signcore__diff(fz_context *fz, pdf_document *a, pdf_document *b, sc_diff *out)
{
	cmp c = { fz, a, b, NULL, NULL, 0, 0, out };
	int code = 0, trees = 0;

	fz_var(trees);
	fz_try(fz) {
		compare_catalogs(&c);
		/* Page maps make each page lookup O(1). */
		pdf_load_page_tree(fz, a);
		trees = 1;
		pdf_load_page_tree(fz, b);
		trees = 2;
		compare_pages(&c);
	}
	fz_always(fz) {
		if (trees > 1)
			pdf_drop_page_tree(fz, b);
		if (trees > 0)
			pdf_drop_page_tree(fz, a);
	}
	fz_catch(fz) {
		signcore__diff_note(out, SIGNCORE_CHANGES_DISALLOWED, "the update cannot be compared (%s)", fz_caught_message(fz));
		code = -1;
	}
	free(c.keys);
	free(c.vals);
	return code;
}

void signcore__diff_free(sc_diff *d)
{
	int i;

	for (i = 0; i < d->nfields; i++)
		free(d->fields[i]);
	free(d->fields);
	d->fields = NULL;
	d->nfields = 0;
}
