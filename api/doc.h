/*
 * Documents, recipients and fields as the handlers share them.
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#ifndef SIGNCORE_API_DOC_H
#define SIGNCORE_API_DOC_H

#include "api.h"

typedef struct {
	char id[40];
	char status[16];
	char signing_order[16];
	char original_sha256[65];
	char signed_sha256[65];
	int test;
	int pages;
	long long expires_at;
	char *page_sizes; /* JSON [[w, h], ...] */
	char *title;
} api_doc;

typedef struct {
	const char *email;
	const char *name;
	const char *role;
	int order;
	int otp;           /* 1 the recipient verifies a code sent by e-mail; -1 unchanged (PATCH) */
} api_recipient_in;

typedef struct {
	const char *type;
	int page;
	double rect[4];
	const char *units;
	const char *label;
	int required;
	int recipient;     /* index in the recipients array */
	json_t *options;   /* font, font_size, align, multiline, date_format, time_zone */
} api_field_in;

/* Load document ID of the request's account (and mode); 404 answered.
 * A pending document past its expiry is moved to expired first. */
int api_doc_load(api_req *r, const char *id, api_doc *d);
void api_doc_clear(api_doc *d);
/* Move DOC to expired when it is pending and past expires_at (its own
 * transaction). 1 when it expired now. */
int api_doc_expire_due(api_req *r, const char *doc_id);
json_t *api_doc_json(api_req *r, const char *id);
/* Load any document by ID (signing links); -1 when there is none. */
int api_doc_load_any(api_req *r, const char *id, api_doc *d);
/* The recipient IDs whose turn it is. */
json_t *api_active_recipients(api_req *r, const char *doc_id, const char *order);
/* An optional (or REQUIRED) {"reason": "..."} body. */
int api_reason_body(api_req *r, json_t **body, const char **reason, int required);

int api_recipient_parse(api_req *r, json_t *o, const char *where, api_recipient_in *out, int partial);
int api_field_parse(api_req *r, json_t *o, const char *where, api_field_in *f, json_t *page_sizes,
	json_t *recipients, int partial);
int api_recipient_insert(api_req *r, const char *doc_id, int idx, const api_recipient_in *in, char *id_out);
int api_field_insert(api_req *r, const char *doc_id, int idx, const api_field_in *f, const char *recipient_id,
	char *id_out);
json_t *api_recipients_json(api_req *r, const char *doc_id, const char *doc_status);
json_t *api_fields_json(api_req *r, const char *doc_id, const char *recipient_id, int with_values);

/* The public base URL: [server] base_url, else from the request. */
const char *api_base_url(api_req *r);
/* The audit log of a document as libsigncore reads it. */
json_t *api_audit_log(api_req *r, const char *doc_id);

#endif
