/*
 * signcore — PDF e-signature toolkit.
 * Copyright (C) 2026 the signcore authors.
 * SPDX-License-Identifier: AGPL-3.0-or-later
 *
 * This header is the reference manual of libsigncore.
 *
 * Conventions
 *   - Every function that can fail returns an int: SIGNCORE_OK (0) or a
 *     negative SIGNCORE_E* code. The detail (which file, page, field, JSON
 *     path, and what was expected) is in signcore_ctx_last_error(ctx).
 *   - Threads: a signcore_ctx belongs to one thread at a time, and so does
 *     everything made with it (documents, specs, reports): give each thread
 *     a context of its own. Contexts share nothing, so any number of them
 *     may work at once. A loaded signcore_signer is the one object that may
 *     be shared: it is read-only once loaded, and any number of threads may
 *     sign with it at the same time (free it after the last of them). Option
 *     structs and the buffers they point to are only read by the library
 *     and may be shared too. The library keeps no other process-wide state
 *     except the HTTP client, which it loads and initializes once, safely
 *     from any thread.
 *   - Ownership: *_new / *_open / *_load give the caller an object to release
 *     with the matching *_free. Strings returned as "const char *" are
 *     borrowed and stay valid until the owner is freed or modified.
 *   - Options are versioned structs: declare them with their *_INIT macro,
 *     then set the fields you need.
 *   - Geometry is in PDF points (1/72 in) or percent of the page, measured
 *     from the top-left corner of the page as it is displayed (after its
 *     CropBox and /Rotate are applied). Pages are numbered from 1.
 *   - Outputs are written to a temporary file beside the destination and
 *     renamed into place only on success; the input is never modified.
 *   - The library prints nothing and never exits the process.
 */
#ifndef SIGNCORE_H
#define SIGNCORE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SIGNCORE_BUILDING) && defined(__GNUC__)
#define SIGNCORE_API __attribute__((visibility("default")))
#else
#define SIGNCORE_API
#endif

#define SIGNCORE_VERSION "0.1.0"

/* ------------------------------------------------------------------ errors */

/* Error codes. Append-only: values are never renumbered. */
enum {
	SIGNCORE_OK = 0,
	SIGNCORE_EINVAL = -1,       /* bad argument from the caller */
	SIGNCORE_ENOTFOUND = -2,    /* file, page or field does not exist */
	SIGNCORE_EBADINPUT = -3,    /* corrupt PDF, bad JSON, bad image, bad value */
	SIGNCORE_ENEEDPASS = -4,    /* the PDF is encrypted and no password was given */
	SIGNCORE_EPASSWORD = -5,    /* the password given is wrong */
	SIGNCORE_EUNSUPPORTED = -6, /* valid input this version cannot handle */
	SIGNCORE_ECRYPTO = -7,      /* a cryptographic operation failed */
	SIGNCORE_ENETWORK = -8,     /* a remote service could not be reached */
	SIGNCORE_EIO = -9,          /* reading or writing a file failed */
	SIGNCORE_ETOOSMALL = -10,   /* a reserved space or buffer is too small */
	SIGNCORE_ESIGNED = -11,     /* the operation would break an existing signature */
	SIGNCORE_EEXISTS = -12,     /* a field with that name already exists */
	SIGNCORE_ERANGE = -13,      /* page number or rectangle outside the page */
	SIGNCORE_ENOMEM = -14,      /* out of memory */
	SIGNCORE_EINTERNAL = -15,   /* a bug in signcore: please report it */
	SIGNCORE_ETAMPERED = -16    /* an audit log's hash chain is broken */
};

/* A static English description of an error code. Never NULL. */
SIGNCORE_API const char *signcore_strerror(int code);

/* The library version ("0.1.0"). */
SIGNCORE_API const char *signcore_version(void);

/* ----------------------------------------------------------------- context */

typedef struct signcore_ctx signcore_ctx;

/*
 * Create a context. Fonts bundled with signcore are looked up in the
 * directory named by the environment variable SIGNCORE_FONT_DIR, or else the
 * installed font directory. Returns SIGNCORE_ENOMEM if it cannot be made.
 */
SIGNCORE_API int signcore_ctx_new(signcore_ctx **out);

/* Release a context. Every document opened with it must be freed first. */
SIGNCORE_API void signcore_ctx_free(signcore_ctx *ctx);

/* The message that explains the last error on this context ("" if none). */
SIGNCORE_API const char *signcore_ctx_last_error(const signcore_ctx *ctx);

/* Use the bundled fonts in DIR instead of the default directory. */
SIGNCORE_API int signcore_ctx_set_font_dir(signcore_ctx *ctx, const char *dir);

/*
 * Every file the library writes goes to a temporary file beside its path
 * and is renamed over it only when complete, so no reader ever sees half a
 * file and a failure leaves nothing behind. Durable (ON != 0) adds an
 * fsync of the file and of its directory before the call returns, so the
 * output also survives a power cut; each fsync costs about a millisecond on
 * an SSD, more than the signature itself. Off by default, like cp or
 * openssl; the environment variable SIGNCORE_DURABLE=1 turns it on for
 * every new context.
 */
SIGNCORE_API void signcore_ctx_set_durable(signcore_ctx *ctx, int on);

/* Release memory the library handed to the caller (buffers, lists). */
SIGNCORE_API void signcore_free(void *ptr);

/* --------------------------------------------------------------- documents */

typedef struct signcore_doc signcore_doc;

#define SIGNCORE_OPEN_OPTIONS_VERSION 1
typedef struct {
	unsigned int version;
	const char *password; /* user or owner password; NULL if none */
} signcore_open_options;
#define SIGNCORE_OPEN_OPTIONS_INIT { SIGNCORE_OPEN_OPTIONS_VERSION, NULL }

/*
 * Open the PDF at PATH ("-" is not special here). A damaged file that can be
 * repaired is opened and signcore_doc_repaired() reports it; it will be
 * saved with a full rewrite. Errors: SIGNCORE_ENOTFOUND, SIGNCORE_EIO,
 * SIGNCORE_EBADINPUT (empty, not a PDF, unrepairable), SIGNCORE_ENEEDPASS,
 * SIGNCORE_EPASSWORD.
 */
SIGNCORE_API int signcore_doc_open(signcore_ctx *ctx, signcore_doc **out,
	const char *path, const signcore_open_options *opts);

/* Like signcore_doc_open, from LEN bytes at DATA (copied). */
SIGNCORE_API int signcore_doc_open_memory(signcore_ctx *ctx, signcore_doc **out,
	const void *data, size_t len, const signcore_open_options *opts);

/* A new, empty document (no pages), e.g. to hold a standalone audit trail
 * (signcore_audit_append with before_sha256 set); save it full_rewrite. */
SIGNCORE_API int signcore_doc_new(signcore_ctx *ctx, signcore_doc **out);

/* Close a document, discarding unsaved changes. NULL is ignored. */
SIGNCORE_API void signcore_doc_free(signcore_doc *doc);

/* Number of pages (>= 1), or a negative error code. */
SIGNCORE_API int signcore_doc_page_count(signcore_doc *doc);

/*
 * Size of page PAGE (1-based) as displayed, in points, and its /Rotate
 * (0, 90, 180 or 270). Any out-parameter may be NULL. SIGNCORE_ERANGE if the
 * page does not exist.
 */
SIGNCORE_API int signcore_doc_page_size(signcore_doc *doc, int page,
	double *width, double *height, int *rotate);

/* 1 if the file was damaged and repaired when opened, else 0. */
SIGNCORE_API int signcore_doc_repaired(signcore_doc *doc);

/* 1 if the file is encrypted, else 0. */
SIGNCORE_API int signcore_doc_encrypted(signcore_doc *doc);

#define SIGNCORE_SAVE_OPTIONS_VERSION 1
typedef struct {
	unsigned int version;
	/* 0: append an incremental update (default; keeps earlier signatures
	 * valid). 1: rewrite the whole file. A repaired file is always
	 * rewritten in full. */
	int full_rewrite;
} signcore_save_options;
#define SIGNCORE_SAVE_OPTIONS_INIT { SIGNCORE_SAVE_OPTIONS_VERSION, 0 }

/*
 * Save to PATH atomically: the bytes go to a temporary file in the same
 * directory, which is renamed over PATH only when complete. PATH may be the
 * file the document was opened from. Errors: SIGNCORE_EIO (directory not
 * writable, disk full), SIGNCORE_EBADINPUT.
 */
SIGNCORE_API int signcore_doc_save(signcore_doc *doc, const char *path,
	const signcore_save_options *opts);

/* Save into a new buffer; release *DATA with signcore_free(). */
SIGNCORE_API int signcore_doc_save_memory(signcore_doc *doc,
	unsigned char **data, size_t *len, const signcore_save_options *opts);

/* ------------------------------------------------------------------ images */

/*
 * Render page PAGE (1-based) of DOC as a viewer shows it: its CropBox,
 * turned by its /Rotate, with annotations and form fields drawn, on white,
 * as an RGB PNG without alpha at DPI dots per inch (18 to 300). Unsaved
 * changes to DOC (fields just placed or filled) are drawn; DOC is not
 * changed. Each side of the image is the page's side (as given by
 * signcore_doc_page_size) x DPI / 72 pixels, rounded up (a fraction under
 * 0.001 is dropped); the PNG declares DPI. *PNG gets a new buffer of *LEN
 * bytes; release it with signcore_free(). Errors: SIGNCORE_EINVAL,
 * SIGNCORE_ERANGE (no such page, DPI out of range, an image over 40
 * megapixels), SIGNCORE_EBADINPUT (the page cannot be drawn),
 * SIGNCORE_ENOMEM.
 */
SIGNCORE_API int signcore_page_render_png(signcore_doc *doc, int page, double dpi,
	unsigned char **png, size_t *len);

/*
 * Make a one-page PDF of a PNG or JPEG image (LEN bytes at DATA, told apart
 * by their content). The page is the size of the image at the resolution it
 * declares, or at 96 dpi if it declares none or one outside 36 to 4800 dpi
 * (scaled down to fit if a side would pass 14,400 points, the largest page
 * readers must accept), and the image fills it, turned as its EXIF
 * orientation says (JPEG). *PDF gets a new buffer of *PDF_LEN bytes, which
 * signcore_doc_open_memory opens; release it with signcore_free().
 * Errors: SIGNCORE_EINVAL, SIGNCORE_EBADINPUT (not a PNG or JPEG image; a
 * corrupt or truncated one), SIGNCORE_ERANGE (over 100 megapixels),
 * SIGNCORE_ENOMEM.
 */
SIGNCORE_API int signcore_image_to_pdf(signcore_ctx *ctx, const void *data, size_t len,
	unsigned char **pdf, size_t *pdf_len);

/* ------------------------------------------------------------------ fields */

typedef enum {
	SIGNCORE_FIELD_UNKNOWN = 0,   /* a field type signcore does not place */
	SIGNCORE_FIELD_SIGNATURE = 1,
	SIGNCORE_FIELD_INITIALS = 2,
	SIGNCORE_FIELD_TEXT = 3,
	SIGNCORE_FIELD_CHECKBOX = 4,
	SIGNCORE_FIELD_DATE = 5
} signcore_field_type;

typedef enum { SIGNCORE_UNITS_PT = 0, SIGNCORE_UNITS_PERCENT = 1 } signcore_units;
typedef enum { SIGNCORE_ALIGN_LEFT = 0, SIGNCORE_ALIGN_CENTER = 1, SIGNCORE_ALIGN_RIGHT = 2 } signcore_align;

/* "signature", "initials", "text", "checkbox", "date" (or "unknown"). */
SIGNCORE_API const char *signcore_field_type_name(signcore_field_type type);
/* The type named NAME, or SIGNCORE_FIELD_UNKNOWN. */
SIGNCORE_API signcore_field_type signcore_field_type_from_name(const char *name);

#define SIGNCORE_FIELD_SPEC_VERSION 1
typedef struct {
	unsigned int version;
	const char *name;          /* unique field name (required) */
	signcore_field_type type;  /* required */
	int page;                  /* 1-based page */
	double rect[4];            /* x, y, width, height from the top-left as displayed */
	signcore_units units;      /* units of rect */
	/* "sans", "serif", "mono", "script", or the path of a TTF/OTF file.
	 * NULL: "script" for signature and initials, "sans" otherwise. */
	const char *font;
	double font_size;          /* points; 0 = fit the box */
	signcore_align align;
	int multiline;             /* text: wrap onto several lines */
	int required;
	int read_only;
	const char *tooltip;       /* shown by viewers; the field's label */
	const char *date_format;   /* date: strftime-style; NULL = "%Y-%m-%d" */
	const char *time_zone;     /* date: IANA zone for "today"; NULL = "UTC" */
} signcore_field_spec;
#define SIGNCORE_FIELD_SPEC_INIT { SIGNCORE_FIELD_SPEC_VERSION, NULL, SIGNCORE_FIELD_UNKNOWN, \
	1, { 0, 0, 0, 0 }, SIGNCORE_UNITS_PT, NULL, 0, SIGNCORE_ALIGN_LEFT, 0, 0, 0, NULL, NULL, NULL }

/*
 * Add an AcroForm field with its widget and an (empty) appearance of its
 * own. Errors: SIGNCORE_EINVAL (missing name, bad size, unknown type),
 * SIGNCORE_ERANGE (no such page; rect not inside the page), SIGNCORE_EEXISTS
 * (name taken), SIGNCORE_ENOTFOUND (font file).
 */
SIGNCORE_API int signcore_field_place(signcore_doc *doc, const signcore_field_spec *spec);

/* A value for signcore_field_fill. Set the member that fits the field. */
#define SIGNCORE_VALUE_VERSION 1
typedef struct {
	unsigned int version;
	/* text: the text. date: "today", "now", "YYYY-MM-DD" or an RFC 3339
	 * time, formatted with the field's date format and time zone.
	 * signature/initials: a name typed in the field's (script) font. */
	const char *text;
	/* checkbox: 1 checked, 0 unchecked. */
	int checked;
	/* signature/initials: a PNG or JPEG image (used instead of text). */
	const void *image;
	size_t image_len;
} signcore_value;
#define SIGNCORE_VALUE_INIT { SIGNCORE_VALUE_VERSION, NULL, 0, NULL, 0 }

/*
 * Fill the field NAME (its fully qualified name) and build its appearance
 * with signcore's own layout engine (shaped text in every script).
 * Errors: SIGNCORE_ENOTFOUND, SIGNCORE_EBADINPUT (bad date, bad image),
 * SIGNCORE_EINVAL (value of the wrong kind), SIGNCORE_ESIGNED (field is a
 * signed signature).
 */
SIGNCORE_API int signcore_field_fill(signcore_doc *doc, const char *name, const signcore_value *value);

/*
 * Burn the appearances of form fields into the page content and remove the
 * widgets and their fields. NAMES (COUNT entries) selects fields by fully
 * qualified name (a parent name selects all its kids); COUNT 0 flattens all.
 * Other annotations are kept. Signed signature fields are never flattened:
 * SIGNCORE_ESIGNED. SIGNCORE_ENOTFOUND if a named field does not exist.
 */
SIGNCORE_API int signcore_flatten(signcore_doc *doc, const char *const *names, size_t count);

/* What signcore_doc_fields reports about one widget of a field. */
typedef struct {
	char *name;               /* fully qualified name */
	signcore_field_type type;
	const char *pdf_type;     /* "Tx", "Btn", "Sig", "Ch" or "" */
	int page;                 /* 1-based, 0 if the widget is on no page */
	double rect[4];           /* x, y, w, h in points, top-left as displayed */
	char *value;              /* UTF-8 value, "Yes"/"Off" for boxes, or NULL */
	int required;
	int read_only;
	int is_signed;            /* signature field holding a signature */
} signcore_field_info;

/*
 * List the widgets of every form field, in page order. *OUT is an array of
 * *COUNT entries; release it with signcore_field_info_free.
 */
SIGNCORE_API int signcore_doc_fields(signcore_doc *doc, signcore_field_info **out, size_t *count);
SIGNCORE_API void signcore_field_info_free(signcore_field_info *info, size_t count);

/* -------------------------------------------------------------- field specs */

/*
 * A field spec is JSON (see docs/field-spec.md):
 *   {"fields": [{"name": "client_sign", "type": "signature", "page": 1,
 *                "rect": [72, 640, 200, 50], "units": "pt",
 *                "value": {"text": "Priya Sharma"}}, ...]}
 * Values may be given in the spec ("value") or in a values file:
 *   {"values": {"client_sign": {"image": "sig.png"}, "agree": true}}
 * (a bare object {"name": value, ...} is accepted too). Image paths are
 * relative to BASE_DIR; "data:image/png;base64,..." URLs are accepted.
 */
typedef struct signcore_spec signcore_spec;

/*
 * Parse a field spec or a values file from LEN bytes of JSON. Syntax errors
 * name the line and column; other errors the JSON path (fields[2].rect).
 * Images named by the spec are read now. Errors: SIGNCORE_EBADINPUT,
 * SIGNCORE_ENOTFOUND (image file).
 */
SIGNCORE_API int signcore_spec_parse(signcore_ctx *ctx, signcore_spec **out,
	const char *json, size_t len, const char *base_dir);
SIGNCORE_API void signcore_spec_free(signcore_spec *spec);

/* Number of fields (spec) or values (values file) parsed. */
SIGNCORE_API size_t signcore_spec_count(const signcore_spec *spec);

/* Place every field of SPEC, and fill those that carry a value. All or
 * nothing: on error the document is left as it was before the call. */
SIGNCORE_API int signcore_spec_place(signcore_doc *doc, const signcore_spec *spec);

/* Fill existing fields with the values of SPEC (a values file or a spec). */
SIGNCORE_API int signcore_spec_fill(signcore_doc *doc, const signcore_spec *spec);

/* Place, fill and flatten in one step: the fields of SPEC are drawn straight
 * into the page content; no form fields are left behind. */
SIGNCORE_API int signcore_spec_stamp(signcore_doc *doc, const signcore_spec *spec);

/* ---------------------------------------------------------------- signing */

/*
 * Signing credentials: a private key with its certificate and chain, or a
 * certificate alone for external (two-step) signing. A signer is read-only
 * once loaded: it may be shared by several threads and used for any number
 * of documents, so a batch loads its key once.
 */
typedef struct signcore_signer signcore_signer;

/* Load a PKCS#12 (.p12/.pfx) file. PASSWORD may be NULL for an unprotected
 * file. Errors: SIGNCORE_ENOTFOUND, SIGNCORE_EBADINPUT, SIGNCORE_ENEEDPASS,
 * SIGNCORE_EPASSWORD, SIGNCORE_ECRYPTO (key and certificate do not match). */
SIGNCORE_API int signcore_signer_load_p12(signcore_ctx *ctx, signcore_signer **out,
	const char *path, const char *password);
SIGNCORE_API int signcore_signer_load_p12_memory(signcore_ctx *ctx, signcore_signer **out,
	const void *data, size_t len, const char *password);
/* Load a private key (PEM or DER; KEY_PASSWORD if it is encrypted), the
 * certificate (PEM or DER; further certificates in it are chain) and an
 * optional chain file (PEM, any order). */
SIGNCORE_API int signcore_signer_load_pem(signcore_ctx *ctx, signcore_signer **out,
	const char *key_path, const char *key_password, const char *cert_path, const char *chain_path);
/* A certificate (and chain) without its key, for signcore_sign_prepare. */
SIGNCORE_API int signcore_signer_load_cert(signcore_ctx *ctx, signcore_signer **out,
	const char *cert_path, const char *chain_path);
SIGNCORE_API void signcore_signer_free(signcore_signer *signer);
/* The common name of the signer's certificate (borrowed). */
SIGNCORE_API const char *signcore_signer_name(const signcore_signer *signer);

/* PAdES baseline levels (ETSI EN 319 142-1). */
typedef enum {
	SIGNCORE_LEVEL_B_B = 0,   /* CAdES signature, signing certificate bound */
	SIGNCORE_LEVEL_B_T = 1,   /* + RFC 3161 signature time-stamp */
	SIGNCORE_LEVEL_B_LT = 2,  /* + /DSS with certificates, OCSP responses and CRLs */
	SIGNCORE_LEVEL_B_LTA = 3  /* + document time-stamp over all of it */
} signcore_level;

/* Certification (DocMDP): what may change after a certification signature. */
typedef enum {
	SIGNCORE_CERTIFY_NONE = 0,          /* an approval signature */
	SIGNCORE_CERTIFY_NO_CHANGES = 1,    /* P=1 */
	SIGNCORE_CERTIFY_FORM_FILL = 2,     /* P=2: form filling and signing */
	SIGNCORE_CERTIFY_ANNOTATIONS = 3    /* P=3: also annotations */
} signcore_certify;

/* How a visible signature looks. Without one, a visible signature shows the
 * signer's name in the script face beside a text block (signer, date,
 * reason, location). */
#define SIGNCORE_SIG_APPEARANCE_VERSION 1
typedef struct {
	unsigned int version;
	const void *image;        /* a drawn signature (PNG or JPEG) */
	size_t image_len;
	const char *typed;        /* name written when there is no image; NULL = signer's name */
	const char *font;         /* face of TYPED: "script" (default), "sans", "serif" or a file */
	const char *text;         /* the text block; NULL = generated; "" = none */
	int no_graphic;           /* text block only */
	const char *date_format;  /* NULL = "%Y-%m-%d %H:%M:%S %z" */
	const char *time_zone;    /* IANA zone of the date shown; NULL = "UTC" */
} signcore_sig_appearance;
#define SIGNCORE_SIG_APPEARANCE_INIT { SIGNCORE_SIG_APPEARANCE_VERSION, NULL, 0, NULL, NULL, NULL, 0, NULL, NULL }

#define SIGNCORE_SIGN_OPTIONS_VERSION 1
typedef struct {
	unsigned int version;
	/* Where: the empty signature field FIELD; or, if no field has that
	 * name, a new one (NULL: "Signature1", "Signature2", ...), visible on
	 * PAGE at RECT when PAGE > 0, else invisible. */
	const char *field;
	int page;
	double rect[4];
	signcore_units units;
	signcore_level level;
	/* RFC 3161 time-stamp authorities, tried in order (B-T and above). */
	const char *const *tsa_urls;
	size_t tsa_count;
	const char *tsa_auth;          /* "user:password" (HTTP basic), or NULL */
	/* Extra trust anchors (PEM files) for checking TSA tokens and OCSP
	 * responses; the system's store is always used as well. */
	const char *const *trust_files;
	size_t trust_count;
	int allow_missing_revocation;  /* B-LT: go on without OCSP/CRL for a certificate */
	signcore_certify certify;
	/* FieldMDP: fields this approval signature locks ("*" = all). */
	const char *const *lock_fields;
	size_t lock_count;
	const char *reason;
	const char *location;
	const char *contact_info;
	const char *name;              /* signer name shown; NULL = certificate CN */
	int pkcs7;                     /* SubFilter adbe.pkcs7.detached (not PAdES) */
	const char *digest;            /* "sha256" (default), "sha384", "sha512" */
	int pss;                       /* RSA keys: RSASSA-PSS */
	long long signing_time;        /* seconds since 1970; 0 = now */
	const signcore_sig_appearance *appearance;
	const char *password;          /* embed: the PDF's password, to add B-LT data */
} signcore_sign_options;
#define SIGNCORE_SIGN_OPTIONS_INIT { SIGNCORE_SIGN_OPTIONS_VERSION, NULL, 0, { 0, 0, 0, 0 }, \
	SIGNCORE_UNITS_PT, SIGNCORE_LEVEL_B_B, NULL, 0, NULL, NULL, 0, 0, SIGNCORE_CERTIFY_NONE, NULL, 0, \
	NULL, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, NULL }

/*
 * Sign DOC and write the result to OUT_PATH (atomically; nothing is
 * written on failure). The signature is a new incremental update holding
 * only the objects it changes, so earlier signatures stay valid; the file's
 * xref form and encryption are kept. Unsaved changes made to DOC (stamps,
 * filled fields) go into the signed revision. DOC must not be saved again
 * afterwards: free it. Errors: SIGNCORE_EINVAL, SIGNCORE_ENOTFOUND,
 * SIGNCORE_EBADINPUT (field is not a signature field), SIGNCORE_ESIGNED
 * (field already signed, certification forbids changes), SIGNCORE_ECRYPTO
 * (certificate expired, not yet valid, not for signing, revoked, bad TSA
 * token), SIGNCORE_ENETWORK (TSA or OCSP unreachable), SIGNCORE_EIO.
 * The first call in a process may run part of its one-time work on a
 * thread of its own on another CPU (all signals blocked; joined before
 * the call returns; none when the process may use only one CPU).
 */
SIGNCORE_API int signcore_sign(signcore_doc *doc, const signcore_signer *signer,
	const char *out_path, const signcore_sign_options *opts);

/* Add a document time-stamp (/DocTimeStamp, ETSI.RFC3161) from the TSAs in
 * OPTS; OPTS->field names the new field (default "DocTimeStamp1", ...). */
SIGNCORE_API int signcore_timestamp(signcore_doc *doc, const char *out_path,
	const signcore_sign_options *opts);

/* Extend the signatures of DOC: add a /DSS with the certificates and
 * revocation data of every signature and time-stamp (B-LT) and, when
 * OPTS->level is SIGNCORE_LEVEL_B_LTA, a document time-stamp. */
SIGNCORE_API int signcore_ltv(signcore_doc *doc, const char *out_path,
	const signcore_sign_options *opts);

/* External (two-step) signing. */
typedef enum {
	SIGNCORE_HASH_SIGNED_ATTRS = 0, /* hash of the CMS signed attributes: sign it raw */
	SIGNCORE_HASH_BYTE_RANGE = 1    /* hash of the document's byte range: answer a CMS */
} signcore_hash_target;

/*
 * Write to PENDING_PATH the document with a signature placeholder, and
 * return in DIGEST (*DIGEST_LEN in: its size, >= 64; out: the length) the
 * hash to sign. SIGNER may hold a certificate only. The pending file holds
 * everything signcore_sign_embed needs, so the two steps may run in
 * different processes.
 */
SIGNCORE_API int signcore_sign_prepare(signcore_doc *doc, const signcore_signer *signer,
	const char *pending_path, const signcore_sign_options *opts, signcore_hash_target target,
	unsigned char *digest, size_t *digest_len);

/*
 * Finish a prepared signature. SIGNATURE is either the raw signature of
 * the prepared hash (RSA, or ECDSA as DER or r||s), or a complete CMS
 * SignedData over the byte range. A signature that does not verify against
 * the certificate and the prepared hash is refused (SIGNCORE_ECRYPTO).
 * CERT_SIGNER, when given, must hold the certificate used at prepare time.
 * OPTS gives the level and TSAs (B-T and above).
 */
SIGNCORE_API int signcore_sign_embed(signcore_ctx *ctx, const char *pending_path,
	const void *signature, size_t signature_len, const signcore_signer *cert_signer,
	const char *out_path, const signcore_sign_options *opts);

/* ------------------------------------------------------------ verification */

/*
 * Verification returns a report, not an error: a signature that fails is a
 * result. Only input that cannot be read at all (not a PDF, a wrong or
 * missing password, a file that cannot be opened) is an error code.
 */
typedef struct signcore_report signcore_report;

typedef enum {
	SIGNCORE_VERDICT_VALID = 0,   /* every signature intact and trusted, no disallowed change */
	SIGNCORE_VERDICT_INVALID = 1  /* a signature failed, or the file has none */
} signcore_verdict;

typedef enum {
	SIGNCORE_SIGKIND_APPROVAL = 0,
	SIGNCORE_SIGKIND_CERTIFICATION = 1, /* DocMDP */
	SIGNCORE_SIGKIND_TIMESTAMP = 2,     /* document time-stamp (ETSI.RFC3161) */
	SIGNCORE_SIGKIND_UNSIGNED = 3       /* an empty signature field */
} signcore_sig_kind;

/* What changed after a signature, from the most harmless up. */
typedef enum {
	SIGNCORE_CHANGES_NONE = 0,        /* the signature covers the whole file */
	SIGNCORE_CHANGES_LTV = 1,         /* only /DSS and document time-stamps */
	SIGNCORE_CHANGES_FORM = 2,        /* + form filling and further signatures */
	SIGNCORE_CHANGES_ANNOTATIONS = 3, /* + annotations added, changed or removed */
	SIGNCORE_CHANGES_DISALLOWED = 4   /* page content, page tree, resources, catalog, ... */
} signcore_changes;

typedef enum {
	SIGNCORE_CHECK_OK = 0,
	SIGNCORE_CHECK_FAILED = 1,
	SIGNCORE_CHECK_ABSENT = 2  /* nothing to check (no time-stamp, no revocation data) */
} signcore_check;

/* One signature field, in revision order. Strings are UTF-8 or NULL and
 * are owned by the report. Times are ISO 8601 UTC ("2026-11-21T10:10:00Z"). */
typedef struct {
	signcore_sig_kind kind;
	const char *field;
	const char *subfilter;
	int revision;                 /* revision the signature closes (1 = first); 0 = unsigned */
	const char *signer;           /* subject of the signing (or TSA) certificate */
	const char *issuer;
	const char *serial;           /* hex */
	const char *claimed_time;     /* /M: claimed by the signer, not proven */
	const char *name, *reason, *location, *contact;
	int docmdp;                   /* certification: P (1-3); 0 for other kinds */
	const char *digest_algorithm;
	const char *signature_algorithm;
	signcore_check integrity;     /* ByteRange, digest, CMS signature, signed attributes */
	const char *integrity_detail;
	int whole_file;               /* the signed revision is the whole file */
	signcore_changes changes;     /* after the signature */
	int changes_permitted;        /* by DocMDP / FieldMDP (and our policy without them) */
	const char *changes_detail;
	signcore_check trust;         /* chain to an anchor, validity at the validation time, key usage */
	const char *trust_detail;
	const char *validation_time;
	const char *validation_time_source; /* "signature time-stamp", "claimed (/M)", "current time" */
	signcore_check timestamp;     /* signature-time-stamp, or the token of a document time-stamp */
	const char *timestamp_time;   /* genTime */
	const char *timestamp_authority;
	const char *timestamp_detail;
	signcore_check revocation;    /* OK: not revoked per embedded (or, online, fetched) data */
	const char *revocation_detail;
	const char *level;            /* "B-B" .. "B-LTA", "not PAdES (adbe.pkcs7.detached)", NULL */
	int valid;
	const char *summary;          /* one line */
} signcore_sig_report;

#define SIGNCORE_VERIFY_OPTIONS_VERSION 1
typedef struct {
	unsigned int version;
	const char *const *trust_files; /* PEM files of trust anchors */
	size_t trust_count;
	int trust_system;               /* also trust the system's store */
	int online;                     /* fetch OCSP/CRL when nothing is embedded */
	const char *password;           /* of an encrypted PDF */
	long long now;                  /* 0 = the current time */
} signcore_verify_options;
#define SIGNCORE_VERIFY_OPTIONS_INIT { SIGNCORE_VERIFY_OPTIONS_VERSION, NULL, 0, 0, 0, NULL, 0 }

/*
 * Verify every signature of the PDF at PATH ("-" is not accepted: read it
 * with signcore_verify_memory). Errors: SIGNCORE_EINVAL, SIGNCORE_ENOTFOUND,
 * SIGNCORE_EIO, SIGNCORE_EBADINPUT (not a PDF), SIGNCORE_ENEEDPASS,
 * SIGNCORE_EPASSWORD, SIGNCORE_EBADINPUT for bad trust anchor files.
 */
SIGNCORE_API int signcore_verify(signcore_ctx *ctx, const char *path,
	const signcore_verify_options *opts, signcore_report **out);
SIGNCORE_API int signcore_verify_memory(signcore_ctx *ctx, const void *data, size_t len,
	const signcore_verify_options *opts, signcore_report **out);
SIGNCORE_API signcore_verdict signcore_report_verdict(const signcore_report *report);
/* One line saying why (borrowed). */
SIGNCORE_API const char *signcore_report_reason(const signcore_report *report);
SIGNCORE_API size_t signcore_report_count(const signcore_report *report);
SIGNCORE_API const signcore_sig_report *signcore_report_signature(const signcore_report *report, size_t i);
/* The whole report as JSON (release with signcore_free). */
SIGNCORE_API int signcore_report_json(const signcore_report *report, char **json);
SIGNCORE_API void signcore_report_free(signcore_report *report);

/* -------------------------------------------------------------- audit trail */

/*
 * The audit trail (certificate of completion) is built from a JSON log:
 *
 *   {"document": {"id": "doc_7Q2ZK9", "title": "Service Agreement",
 *                 "original_sha256": "...", "status": "completed",
 *                 "created_at": "...", "completed_at": "..."},
 *    "recipients": [{"id": "r1", "name": "...", "email": "...",
 *                    "role": "signer|approver|viewer|cc",
 *                    "auth": "email_link|email_otp|sms_otp|access_code",
 *                    "ip": "...", "user_agent": "...",
 *                    "signed_at": "RFC 3339", "declined_at": "RFC 3339",
 *                    "signature": {"text": "typed name"} or
 *                                 {"image": "file or data: URL (PNG/JPEG)"}}],
 *    "events": [{"at": "RFC 3339", "type": "document.created", "actor": "...",
 *                "ip": "...", "recipient": "r1", "reason": "...",
 *                "prev_sha256": "..."}]}
 *
 * Required: document.id, document.title, each recipient's name and email,
 * each event's at and type. Unknown keys are ignored; unknown event types
 * are printed as given.
 *
 * Hash chain: each event's prev_sha256 is the SHA-256 (hex) of the
 * canonical form of the event before it -- its JSON with keys sorted, no
 * whitespace, strings in UTF-8 -- and the first event's is the SHA-256 of
 * the document ID. The chain hash of a log is the SHA-256 of its last
 * event's canonical form; the audit page prints it.
 */
typedef enum {
	SIGNCORE_PAPER_A4 = 0,
	SIGNCORE_PAPER_LETTER = 1,
	SIGNCORE_PAPER_MATCH = 2   /* the size of the document's last page */
} signcore_paper;

#define SIGNCORE_AUDIT_OPTIONS_VERSION 1
typedef struct {
	unsigned int version;
	signcore_paper paper;
	const char *time_zone;     /* IANA zone for the second time column; NULL: UTC only */
	long long now;             /* generation time (Unix seconds); 0: now */
	const char *base_dir;      /* relative signature image paths; NULL: cwd */
	const char *events_name;   /* names the log in messages; NULL: "events" */
	const char *before_sha256; /* hash of the document before the audit pages;
	                            * NULL: hash the bytes it was opened from */
} signcore_audit_options;
#define SIGNCORE_AUDIT_OPTIONS_INIT { SIGNCORE_AUDIT_OPTIONS_VERSION, SIGNCORE_PAPER_A4, NULL, 0, NULL, NULL, NULL }

/*
 * Append audit-trail pages built from the JSON log (LEN bytes) to DOC: a
 * header (title, document ID, status, page count, created and completed
 * times, the original file's SHA-256, the SHA-256 of the document before
 * the audit pages, the event chain hash), the recipients table with
 * signature thumbnails, and the event log, flowing over as many pages as
 * needed with the table header repeated; "page x of y" on every page.
 * A log that carries prev_sha256 must verify. Then save DOC. Errors:
 * SIGNCORE_EBADINPUT (bad JSON, with line and column; a missing key; an
 * image that is not PNG/JPEG), SIGNCORE_ETAMPERED (broken chain),
 * SIGNCORE_ESIGNED (the document is already signed: pages added after a
 * signature invalidate it), SIGNCORE_EINVAL (unsaved changes and no
 * before_sha256), SIGNCORE_ENOTFOUND (unknown time zone, missing image).
 */
SIGNCORE_API int signcore_audit_append(signcore_doc *doc, const char *json, size_t len,
	const signcore_audit_options *opts);

typedef struct {
	size_t events;             /* number of events */
	int chained;               /* the events carry prev_sha256 */
	char chain_sha256[65];     /* the chain hash (hex) */
} signcore_audit_info;

/*
 * Verify the hash chain of a JSON log. SIGNCORE_ETAMPERED names the first
 * event that does not match (an edited, inserted or removed event), or
 * says the log carries no chain. NAME names the log in messages.
 */
SIGNCORE_API int signcore_audit_check(signcore_ctx *ctx, const char *json, size_t len,
	const char *name, signcore_audit_info *info);

/* Add prev_sha256 to every event of a JSON log (a chain already there must
 * verify: a broken one is never silently re-made). *OUT gets
 * the chained log (release with signcore_free()). */
SIGNCORE_API int signcore_audit_chain(signcore_ctx *ctx, const char *json, size_t len,
	const char *name, char **out);

/* -------------------------------------------------------------------- dates */

/*
 * Format the instant WHEN (seconds since 1970 UTC) in the IANA time zone
 * ZONE ("Asia/Kolkata", "UTC", ...) with the strftime-style FORMAT into BUF.
 * Supports %Y %y %m %d %e %b %B %a %A %H %I %M %S %p %j %Z %z %%.
 * Errors: SIGNCORE_ENOTFOUND (unknown zone), SIGNCORE_ETOOSMALL.
 */
SIGNCORE_API int signcore_format_time(signcore_ctx *ctx, char *buf, size_t size,
	long long when, const char *zone, const char *format);

#ifdef __cplusplus
}
#endif

#endif /* SIGNCORE_H */
