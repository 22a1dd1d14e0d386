/*
 * Private declarations of the verifier (verify.c, changes.c).
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_VERIFY_H
#define SIGNCORE_VERIFY_H

#include "internal.h"

/* A PDF token reader over raw file bytes. */
typedef struct {
	const unsigned char *d;
	size_t n;
	size_t pos;
} sc_lexer;

enum {
	SC_TOK_EOF, SC_TOK_ERROR, SC_TOK_NAME, SC_TOK_NUMBER, SC_TOK_STRING, SC_TOK_HEX,
	SC_TOK_DICT, SC_TOK_DICT_END, SC_TOK_ARRAY, SC_TOK_ARRAY_END, SC_TOK_KEYWORD
};

/* Next token; *START is where it begins, l->pos where it ends. */
int signcore__lex(sc_lexer *l, size_t *start);
/* At "<<": find KEY among the dictionary's own keys. 0 found (*VSTART, *VTOK
 * describe the value's first token), 1 absent, -1 malformed. */
int signcore__dict_find(sc_lexer *l, const char *key, size_t *vstart, int *vtok);
/* Read "NUM G obj". */
int signcore__obj_header(sc_lexer *l, int num);

/* Where each revision of the file ends (ascending; the last is the end of
 * the last revision, which may be before the end of the file). 0, or -1
 * when there is no startxref at all. */
int signcore__revisions(const unsigned char *d, size_t n, size_t **ends, int *count);

/* What one incremental update changed. */
typedef struct {
	signcore_changes level;
	char detail[600];
	int notes;
	char **fields;     /* fields whose value changed (FieldMDP) */
	int nfields;
} sc_diff;

void signcore__diff_note(sc_diff *d, signcore_changes level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Compare revision A with the later revision B of the same file. */
int signcore__diff(fz_context *fz, pdf_document *a, pdf_document *b, sc_diff *out);
void signcore__diff_free(sc_diff *d);

#endif
