/*
 * Signing credentials and the CMS/CAdES signer.
 *
 * The SignedData is built here with our own DER writer rather than
 * OpenSSL's CMS_sign, which always adds a signing-time attribute (PAdES
 * forbids it) and cannot assemble a structure around a signature computed
 * elsewhere (remote HSM, cloud KMS, eSign services). The signed attributes
 * are exactly content-type, message-digest and ESS signing-certificate-v2
 * (plus signing-time in adbe.pkcs7.detached mode only).
 *
 * SPDX-License-Identifier: AGPL-3.0-or-later
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#define OID_DATA "1.2.840.113549.1.7.1"
#define OID_SIGNED_DATA "1.2.840.113549.1.7.2"
#define OID_CONTENT_TYPE "1.2.840.113549.1.9.3"
#define OID_MESSAGE_DIGEST "1.2.840.113549.1.9.4"
#define OID_SIGNING_TIME "1.2.840.113549.1.9.5"
#define OID_SIGNING_CERT_V2 "1.2.840.113549.1.9.16.2.47"
#define OID_SIG_TIMESTAMP "1.2.840.113549.1.9.16.2.14"
#define OID_RSA "1.2.840.113549.1.1.1"
#define OID_RSA_PSS "1.2.840.113549.1.1.10"
#define OID_MGF1 "1.2.840.113549.1.1.8"

int signcore__ossl_err(signcore_ctx *ctx, int code, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	if (e) {
		ERR_error_string_n(e, buf, sizeof buf);
		ERR_clear_error();
		return signcore__err(ctx, code, "%s (%s)", what, buf);
	}
	return signcore__err(ctx, code, "%s", what);
}

/* ------------------------------------------------------------ credentials */

static signcore_signer *signer_new(void)
{
	signcore_signer *s = calloc(1, sizeof *s);

	if (s && !(s->chain = sk_X509_new_null())) {
		free(s);
		s = NULL;
	}
	return s;
}

void signcore_signer_free(signcore_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	free(s->name);
	free(s);
}

const char *signcore_signer_name(const signcore_signer *s)
{
	return s && s->name ? s->name : "";
}

/* The common name of NAME (or its one-line form), malloc'd. */
char *signcore__x509_name_text(const X509_NAME *name)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	char *out = NULL;

	if (i >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		unsigned char *u = NULL;
		int n = ASN1_STRING_to_UTF8(&u, d);
		if (n >= 0) {
			out = malloc((size_t)n + 1);
			if (out) {
				memcpy(out, u, (size_t)n);
				out[n] = 0;
			}
		}
		OPENSSL_free(u);
	}
	if (!out) {
		char *line = X509_NAME_oneline(name, NULL, 0);
		out = line ? signcore__strdup(line) : NULL;
		OPENSSL_free(line);
	}
	return out;
}

/* Order CHAIN from the certificate that issued LEAF up to the root; any
 * unrelated certificates keep their place at the end. */
void signcore__order_chain(X509 *leaf, STACK_OF(X509) *chain)
{
	X509 *cur = leaf;
	int placed = 0, i, n = sk_X509_num(chain);

	while (placed < n) {
		int found = -1;
		if (X509_check_issued(cur, cur) == X509_V_OK)
			break; /* self-signed: the top */
		for (i = placed; i < n; i++)
			if (X509_check_issued(sk_X509_value(chain, i), cur) == X509_V_OK) {
				found = i;
				break;
			}
		if (found < 0)
			break;
		if (found != placed) {
			X509 *t = sk_X509_value(chain, found);
			sk_X509_set(chain, found, sk_X509_value(chain, placed));
			sk_X509_set(chain, placed, t);
		}
		cur = sk_X509_value(chain, placed++);
	}
}

static int finish_load(signcore_ctx *ctx, signcore_signer *s, const char *what)
{
	int i;

	/* Drop the leaf if a chain file or PKCS#12 repeats it. */
	for (i = sk_X509_num(s->chain) - 1; i >= 0; i--)
		if (!X509_cmp(sk_X509_value(s->chain, i), s->cert))
			X509_free(sk_X509_delete(s->chain, i));
	signcore__order_chain(s->cert, s->chain);
	if (s->key) {
		if (X509_check_private_key(s->cert, s->key) != 1) {
			ERR_clear_error();
			return signcore__err(ctx, SIGNCORE_ECRYPTO,
				"%s: the private key does not match the certificate", what);
		}
		if (EVP_PKEY_get_base_id(s->key) != EVP_PKEY_RSA && EVP_PKEY_get_base_id(s->key) != EVP_PKEY_RSA_PSS &&
		    EVP_PKEY_get_base_id(s->key) != EVP_PKEY_EC)
			return signcore__err(ctx, SIGNCORE_EUNSUPPORTED,
				"%s: unsupported key type (RSA and ECDSA keys are supported)", what);
	}
	s->pub = X509_get0_pubkey(s->cert);
	if (!s->pub)
		return signcore__ossl_err(ctx, SIGNCORE_EBADINPUT, "the certificate's public key cannot be decoded");
	s->name = signcore__x509_name_text(X509_get_subject_name(s->cert));
	if (!s->name)
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	return SIGNCORE_OK;
}

static unsigned char *read_file(signcore_ctx *ctx, const char *path, const char *what, size_t *len, int *code)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f) {
		*code = signcore__err(ctx, errno == ENOENT ? SIGNCORE_ENOTFOUND : SIGNCORE_EIO,
			"%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			unsigned char *p = realloc(buf, cap ? cap * 2 : 8192);
			if (!p) {
				free(buf);
				fclose(f);
				*code = signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
				return NULL;
			}
			buf = p;
			cap = cap ? cap * 2 : 8192;
		}
		got = fread(buf + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		*code = signcore__err(ctx, SIGNCORE_EIO, "%s %s: read error", what, path);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

int signcore_signer_load_p12_memory(signcore_ctx *ctx, signcore_signer **out,
	const void *data, size_t len, const char *password)
{
	signcore_signer *s;
	PKCS12 *p12 = NULL;
	const unsigned char *p = data;
	STACK_OF(X509) *ca = NULL;
	const char *pw = password;
	int code;

	if (!ctx || !out || !data)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_signer_load_p12: NULL argument") : SIGNCORE_EINVAL;
	*out = NULL;
	signcore__clear_err(ctx);
	p12 = d2i_PKCS12(NULL, &p, (long)len);
	if (!p12)
		return signcore__ossl_err(ctx, SIGNCORE_EBADINPUT, "not a PKCS#12 file");
	if (PKCS12_mac_present(p12)) {
		if (!pw) {
			/* No password given: accept only a file protected by none. */
			if (PKCS12_verify_mac(p12, "", 0))
				pw = "";
			else if (PKCS12_verify_mac(p12, NULL, 0))
				pw = NULL;
			else {
				PKCS12_free(p12);
				ERR_clear_error();
				return signcore__err(ctx, SIGNCORE_ENEEDPASS,
					"the PKCS#12 file is protected by a password: none was given");
			}
		} else if (!PKCS12_verify_mac(p12, pw, -1)) {
			PKCS12_free(p12);
			ERR_clear_error();
			return signcore__err(ctx, SIGNCORE_EPASSWORD, "wrong password for the PKCS#12 file");
		}
	}
	s = signer_new();
	if (!s) {
		PKCS12_free(p12);
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	if (!PKCS12_parse(p12, pw, &s->key, &s->cert, &ca)) {
		PKCS12_free(p12);
		signcore_signer_free(s);
		return signcore__ossl_err(ctx, SIGNCORE_EBADINPUT, "the PKCS#12 file cannot be decoded");
	}
	PKCS12_free(p12);
	if (ca) {
		sk_X509_pop_free(s->chain, X509_free);
		s->chain = ca;
	}
	if (!s->key || !s->cert) {
		signcore_signer_free(s);
		return signcore__err(ctx, SIGNCORE_EBADINPUT,
			"the PKCS#12 file holds no %s", s->key ? "certificate" : "private key");
	}
	if ((code = finish_load(ctx, s, "PKCS#12"))) {
		signcore_signer_free(s);
		return code;
	}
	*out = s;
	return SIGNCORE_OK;
}

int signcore_signer_load_p12(signcore_ctx *ctx, signcore_signer **out, const char *path,
	const char *password)
{
	unsigned char *data;
	size_t len;
	int code = 0;

	if (!ctx || !out || !path)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_signer_load_p12: NULL argument") : SIGNCORE_EINVAL;
	*out = NULL;
	if (!(data = read_file(ctx, path, "PKCS#12 file", &len, &code)))
		return code;
	code = signcore_signer_load_p12_memory(ctx, out, data, len, password);
	free(data);
	if (code)
		signcore__prefix_err(ctx, code, "%s", path);
	return code;
}

/* Read every certificate of a PEM file (or one DER certificate). */
static int read_certs(signcore_ctx *ctx, const char *path, STACK_OF(X509) *into, const char *what)
{
	unsigned char *data;
	size_t len;
	BIO *bio;
	X509 *x;
	int code = 0, n = 0;

	if (!(data = read_file(ctx, path, what, &len, &code)))
		return code;
	bio = BIO_new_mem_buf(data, (int)len);
	while (bio && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		sk_X509_push(into, x);
		n++;
	}
	ERR_clear_error();
	if (!n) {
		const unsigned char *p = data;
		x = d2i_X509(NULL, &p, (long)len);
		if (x) {
			sk_X509_push(into, x);
			n++;
		}
	}
	BIO_free(bio);
	free(data);
	ERR_clear_error();
	if (!n)
		return signcore__err(ctx, SIGNCORE_EBADINPUT,
			"%s %s: no certificate in it (PEM or DER expected)", what, path);
	return SIGNCORE_OK;
}

static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	int n;

	(void)rwflag;
	if (!pw)
		return -1;
	n = (int)strlen(pw);
	if (n > size)
		n = size;
	memcpy(buf, pw, (size_t)n);
	return n;
}

/* An unencrypted PEM private key, decoded for the key type of the
 * certificate it goes with. PEM_read_bio_PrivateKey tries every decoder of
 * every provider (all formats, structures and key types): a third of the
 * cost of loading a signer in a fresh process. NULL if the key is anything
 * else (encrypted, DER, another type): the caller then takes that path. */
static EVP_PKEY *read_plain_pem_key(const unsigned char *data, size_t len, X509 *cert)
{
	EVP_PKEY *key = NULL, *pub = X509_get0_pubkey(cert);
	const char *type = pub ? EVP_PKEY_get0_type_name(pub) : NULL;
	const char *structure = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long derlen = 0;
	BIO *bio;

	if (!type || !(bio = BIO_new_mem_buf(data, (int)len)))
		return NULL;
	if (PEM_read_bio(bio, &name, &header, &der, &derlen) && header && !*header) {
		if (!strcmp(name, "PRIVATE KEY"))
			structure = "PrivateKeyInfo";
		else if (!strcmp(name, "RSA PRIVATE KEY") || !strcmp(name, "EC PRIVATE KEY"))
			structure = "type-specific";
	}
	if (structure) {
		const unsigned char *p = der;
		size_t n = (size_t)derlen;
		OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&key, "DER", structure, type,
			EVP_PKEY_KEYPAIR, NULL, NULL);
		if (!dctx || !OSSL_DECODER_from_data(dctx, &p, &n)) {
			EVP_PKEY_free(key);
			key = NULL;
		}
		OSSL_DECODER_CTX_free(dctx);
	}
	if (der)
		OPENSSL_cleanse(der, (size_t)derlen);
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	ERR_clear_error();
	return key;
}

int signcore_signer_load_pem(signcore_ctx *ctx, signcore_signer **out, const char *key_path,
	const char *key_password, const char *cert_path, const char *chain_path)
{
	signcore_signer *s;
	STACK_OF(X509) *certs;
	int code;

	if (!ctx || !out || !cert_path)
		return ctx ? signcore__err(ctx, SIGNCORE_EINVAL, "signcore_signer_load_pem: a certificate is required") : SIGNCORE_EINVAL;
	*out = NULL;
	signcore__clear_err(ctx);
	if (!(s = signer_new()) || !(certs = sk_X509_new_null())) {
		signcore_signer_free(s);
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory");
	}
	code = read_certs(ctx, cert_path, certs, "certificate file");
	if (!code) {
		/* The first certificate is the signer's; any others are chain. */
		s->cert = sk_X509_shift(certs);
		while (sk_X509_num(certs))
			sk_X509_push(s->chain, sk_X509_shift(certs));
	}
	sk_X509_free(certs);
	if (!code && chain_path)
		code = read_certs(ctx, chain_path, s->chain, "chain file");
	if (!code && key_path) {
		unsigned char *data;
		size_t len;
		if (!(data = read_file(ctx, key_path, "key file", &len, &code))) {
			signcore_signer_free(s);
			return code;
		}
		s->key = read_plain_pem_key(data, len, s->cert);
		if (!s->key) {
			BIO *bio = BIO_new_mem_buf(data, (int)len);
			s->key = PEM_read_bio_PrivateKey(bio, NULL, pem_pass_cb, (void *)key_password);
			if (!s->key) {
				unsigned long e = ERR_peek_last_error();
				const unsigned char *p = data;
				ERR_clear_error();
				s->key = d2i_AutoPrivateKey(NULL, &p, (long)len);
				if (!s->key) {
					ERR_clear_error();
					if (ERR_GET_REASON(e) == PEM_R_BAD_PASSWORD_READ || ERR_GET_REASON(e) == PEM_R_BAD_DECRYPT ||
					    ERR_GET_REASON(e) == EVP_R_BAD_DECRYPT)
						code = signcore__err(ctx, key_password ? SIGNCORE_EPASSWORD : SIGNCORE_ENEEDPASS,
							"key file %s: %s", key_path, key_password ? "wrong password" :
							"the key is encrypted: a password is required");
					else
						code = signcore__err(ctx, SIGNCORE_EBADINPUT,
							"key file %s: not a private key (PEM or DER expected)", key_path);
				}
			}
			BIO_free(bio);
		}
		OPENSSL_cleanse(data, len);
		free(data);
	}
	if (!code)
		code = finish_load(ctx, s, key_path ? key_path : cert_path);
	if (code) {
		signcore_signer_free(s);
		return code;
	}
	*out = s;
	return SIGNCORE_OK;
}

int signcore_signer_load_cert(signcore_ctx *ctx, signcore_signer **out, const char *cert_path,
	const char *chain_path)
{
	return signcore_signer_load_pem(ctx, out, NULL, NULL, cert_path, chain_path);
}

/* The certificate may sign documents at WHEN: within its validity period,
 * and with digitalSignature or nonRepudiation if it restricts key usage. */
int signcore__signer_check(signcore_ctx *ctx, const signcore_signer *s, long long when)
{
	time_t t = (time_t)when;
	uint32_t ku;
	char *who = s->name;

	if (X509_cmp_time(X509_get0_notBefore(s->cert), &t) > 0) {
		char nb[64];
		signcore__asn1_time_text(X509_get0_notBefore(s->cert), nb, sizeof nb);
		return signcore__err(ctx, SIGNCORE_ECRYPTO,
			"the certificate of %s is not valid yet (valid from %s)", who, nb);
	}
	if (X509_cmp_time(X509_get0_notAfter(s->cert), &t) < 0) {
		char na[64];
		signcore__asn1_time_text(X509_get0_notAfter(s->cert), na, sizeof na);
		return signcore__err(ctx, SIGNCORE_ECRYPTO, "the certificate of %s expired on %s", who, na);
	}
	ku = X509_get_key_usage(s->cert);
	if (ku != UINT32_MAX && !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
		return signcore__err(ctx, SIGNCORE_ECRYPTO,
			"the certificate of %s may not sign documents: its key usage has neither "
			"digitalSignature nor nonRepudiation", who);
	return SIGNCORE_OK;
}

void signcore__asn1_time_text(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;

	if (t && ASN1_TIME_to_tm(t, &tm))
		strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(buf, size, "(unknown time)");
}

/* -------------------------------------------------------------- CMS build */

static void der_md_alg(sc_der *d, const EVP_MD *md)
{
	size_t m = sc_der_open(d);
	unsigned char *buf = NULL;

	sc_der_i2d(d, i2d_ASN1_OBJECT(OBJ_nid2obj(EVP_MD_get_type(md)), &buf), &buf);
	sc_der_close(d, m, 0x30);
}

static int use_pss(const signcore_signer *s, const sc_cms_opts *o)
{
	if (EVP_PKEY_get_base_id(s->pub) == EVP_PKEY_RSA_PSS)
		return 1;
	return o->pss && EVP_PKEY_get_base_id(s->pub) == EVP_PKEY_RSA;
}

static void der_sig_alg(sc_der *d, const signcore_signer *s, const sc_cms_opts *o)
{
	size_t m = sc_der_open(d);

	if (EVP_PKEY_get_base_id(s->pub) == EVP_PKEY_EC) {
		int nid = EVP_MD_get_type(o->md);
		sc_der_oid(d, nid == NID_sha512 ? "1.2.840.10045.4.3.4" : nid == NID_sha384 ? "1.2.840.10045.4.3.3"
			: "1.2.840.10045.4.3.2");
	} else if (use_pss(s, o)) {
		size_t p, t;
		sc_der_oid(d, OID_RSA_PSS);
		p = sc_der_open(d);
		t = sc_der_open(d);
		der_md_alg(d, o->md);
		sc_der_close(d, t, 0xA0);
		t = sc_der_open(d);
		{
			size_t a = sc_der_open(d);
			sc_der_oid(d, OID_MGF1);
			der_md_alg(d, o->md);
			sc_der_close(d, a, 0x30);
		}
		sc_der_close(d, t, 0xA1);
		t = sc_der_open(d);
		sc_der_int(d, EVP_MD_get_size(o->md));
		sc_der_close(d, t, 0xA2);
		sc_der_close(d, p, 0x30);
	} else {
		sc_der_oid(d, OID_RSA);
		sc_der_null(d);
	}
	sc_der_close(d, m, 0x30);
}

static void der_attr_begin(sc_der *d, const char *oid, size_t *outer, size_t *set)
{
	*outer = sc_der_open(d);
	sc_der_oid(d, oid);
	*set = sc_der_open(d);
}

static void der_attr_end(sc_der *d, size_t outer, size_t set)
{
	sc_der_close(d, set, 0x31);
	sc_der_close(d, outer, 0x30);
}

static void der_issuer_serial(sc_der *d, X509 *cert)
{
	unsigned char *buf = NULL;
	size_t m = sc_der_open(d);

	sc_der_i2d(d, i2d_X509_NAME(X509_get_issuer_name(cert), &buf), &buf);
	buf = NULL;
	sc_der_i2d(d, i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &buf), &buf);
	sc_der_close(d, m, 0x30);
}

int signcore__cms_attrs(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o,
	const unsigned char *digest, size_t dlen, sc_der *out)
{
	sc_der items[4];
	size_t n = 0, a, b, i;
	unsigned char certhash[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	unsigned char *buf = NULL;

	memset(items, 0, sizeof items);
	/* content-type: id-data */
	der_attr_begin(&items[n], OID_CONTENT_TYPE, &a, &b);
	sc_der_oid(&items[n], OID_DATA);
	der_attr_end(&items[n], a, b);
	n++;
	/* message-digest */
	der_attr_begin(&items[n], OID_MESSAGE_DIGEST, &a, &b);
	sc_der_tlv(&items[n], 0x04, digest, dlen);
	der_attr_end(&items[n], a, b);
	n++;
	/* ESS signing-certificate-v2 */
	if (!X509_digest(s->cert, o->md, certhash, &hl)) {
		for (i = 0; i < n; i++)
			sc_der_free(&items[i]);
		return signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "cannot hash the signer certificate");
	}
	der_attr_begin(&items[n], OID_SIGNING_CERT_V2, &a, &b);
	{
		sc_der *d = &items[n];
		size_t scv2 = sc_der_open(d), certs = sc_der_open(d), id = sc_der_open(d), is, gn, dn;
		if (EVP_MD_get_type(o->md) != NID_sha256)
			der_md_alg(d, o->md); /* DEFAULT sha256 is left out */
		sc_der_tlv(d, 0x04, certhash, hl);
		is = sc_der_open(d);
		gn = sc_der_open(d);
		dn = sc_der_open(d);
		sc_der_i2d(d, i2d_X509_NAME(X509_get_issuer_name(s->cert), &buf), &buf);
		sc_der_close(d, dn, 0xA4); /* directoryName [4] */
		sc_der_close(d, gn, 0x30);
		buf = NULL;
		sc_der_i2d(d, i2d_ASN1_INTEGER(X509_get0_serialNumber(s->cert), &buf), &buf);
		sc_der_close(d, is, 0x30);
		sc_der_close(d, id, 0x30);
		sc_der_close(d, certs, 0x30);
		sc_der_close(d, scv2, 0x30);
	}
	der_attr_end(&items[n], a, b);
	n++;
	if (o->signing_time) {
		ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)o->when);
		buf = NULL;
		der_attr_begin(&items[n], OID_SIGNING_TIME, &a, &b);
		sc_der_i2d(&items[n], t ? i2d_ASN1_TIME(t, &buf) : 0, &buf);
		der_attr_end(&items[n], a, b);
		ASN1_TIME_free(t);
		n++;
	}
	memset(out, 0, sizeof *out);
	sc_der_set_of(out, 0x31, items, n);
	for (i = 0; i < n; i++)
		sc_der_free(&items[i]);
	if (out->oom)
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory building the signed attributes");
	return SIGNCORE_OK;
}

int signcore__md_hash(signcore_ctx *ctx, const EVP_MD *md, const void *data, size_t len,
	unsigned char *out, unsigned int *outlen)
{
	if (!EVP_Digest(data, len, out, outlen, md, NULL))
		return signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "digest failed");
	return SIGNCORE_OK;
}

static EVP_PKEY_CTX *sig_ctx(const signcore_signer *s, EVP_PKEY *key,
	const sc_cms_opts *o, int verify)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

	if (!pc)
		return NULL;
	if ((verify ? EVP_PKEY_verify_init(pc) : EVP_PKEY_sign_init(pc)) <= 0)
		goto fail;
	if (EVP_PKEY_CTX_set_signature_md(pc, o->md) <= 0)
		goto fail;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA || EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA_PSS) {
		if (use_pss(s, o)) {
			if (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
			    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, EVP_MD_get_size(o->md)) <= 0 ||
			    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, o->md) <= 0)
				goto fail;
		} else if (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) <= 0) {
			goto fail;
		}
	}
	return pc;
fail:
	EVP_PKEY_CTX_free(pc);
	return NULL;
}

int signcore__cms_sign(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o,
	const sc_der *attrs, unsigned char **sig, size_t *siglen)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl;
	EVP_PKEY_CTX *pc;
	size_t n = 0;
	int code;

	*sig = NULL;
	if (!s->key)
		return signcore__err(ctx, SIGNCORE_EINVAL, "the signer has no private key (external signing)");
	if ((code = signcore__md_hash(ctx, o->md, attrs->p, attrs->len, h, &hl)))
		return code;
	if (!(pc = sig_ctx(s, s->key, o, 0)))
		return signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "cannot set up the signature");
	if (EVP_PKEY_sign(pc, NULL, &n, h, hl) <= 0 || !(*sig = OPENSSL_malloc(n)) ||
	    EVP_PKEY_sign(pc, *sig, &n, h, hl) <= 0) {
		EVP_PKEY_CTX_free(pc);
		OPENSSL_free(*sig);
		*sig = NULL;
		return signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "signing failed");
	}
	EVP_PKEY_CTX_free(pc);
	*siglen = n;
	return SIGNCORE_OK;
}

/* An ECDSA signature given as r||s (PKCS#11, cloud KMS) turned into DER. */
static unsigned char *ecdsa_raw_to_der(const unsigned char *sig, size_t len, size_t *outlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL), *sv = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
	unsigned char *der = NULL;
	int n;

	if (!es || !r || !sv || !ECDSA_SIG_set0(es, r, sv)) {
		ECDSA_SIG_free(es);
		BN_free(r);
		BN_free(sv);
		return NULL;
	}
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*outlen = (size_t)n;
	return der;
}

int signcore__cms_check_raw(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o,
	const sc_der *attrs, unsigned char **sig, size_t *siglen)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl;
	EVP_PKEY_CTX *pc;
	int code, ok;

	if ((code = signcore__md_hash(ctx, o->md, attrs->p, attrs->len, h, &hl)))
		return code;
	if (EVP_PKEY_get_base_id(s->pub) == EVP_PKEY_EC && *siglen > 0 && (*siglen % 2) == 0 && (*sig)[0] != 0x30) {
		size_t n;
		unsigned char *der = ecdsa_raw_to_der(*sig, *siglen, &n);
		if (der) {
			OPENSSL_free(*sig);
			*sig = der;
			*siglen = n;
		}
	}
	if (!(pc = sig_ctx(s, s->pub, o, 1)))
		return signcore__ossl_err(ctx, SIGNCORE_ECRYPTO, "cannot set up signature verification");
	ok = EVP_PKEY_verify(pc, *sig, *siglen, h, hl);
	EVP_PKEY_CTX_free(pc);
	ERR_clear_error();
	if (ok != 1)
		return signcore__err(ctx, SIGNCORE_ECRYPTO,
			"the signature does not match: it was not made by the key of %s over the prepared "
			"hash (wrong key, wrong hash or wrong padding)", s->name);
	return SIGNCORE_OK;
}

int signcore__cms_build(signcore_ctx *ctx, const signcore_signer *s, const sc_cms_opts *o,
	const sc_der *attrs, const unsigned char *sig, size_t siglen,
	const unsigned char *token, size_t tokenlen, sc_der *out)
{
	sc_der *d = out;
	size_t ci, exp, sd, m, si, u, a, b;
	int i;
	unsigned char *buf = NULL;

	memset(out, 0, sizeof *out);
	ci = sc_der_open(d);
	sc_der_oid(d, OID_SIGNED_DATA);
	exp = sc_der_open(d);
	sd = sc_der_open(d);
	sc_der_int(d, 1);
	m = sc_der_open(d);
	der_md_alg(d, o->md);
	sc_der_close(d, m, 0x31);
	m = sc_der_open(d);
	sc_der_oid(d, OID_DATA);
	sc_der_close(d, m, 0x30);
	/* certificates [0]: the signer's certificate and its whole chain */
	m = sc_der_open(d);
	sc_der_i2d(d, i2d_X509(s->cert, &buf), &buf);
	for (i = 0; i < sk_X509_num(s->chain); i++) {
		buf = NULL;
		sc_der_i2d(d, i2d_X509(sk_X509_value(s->chain, i), &buf), &buf);
	}
	sc_der_close(d, m, 0xA0);
	/* signerInfos */
	m = sc_der_open(d);
	si = sc_der_open(d);
	sc_der_int(d, 1);
	der_issuer_serial(d, s->cert);
	der_md_alg(d, o->md);
	/* signedAttrs [0] IMPLICIT: the SET encoding with its tag changed */
	if (attrs->len < 2 || attrs->p[0] != 0x31)
		return signcore__err(ctx, SIGNCORE_EINTERNAL, "signed attributes are not a SET");
	sc_der_raw(d, "\xA0", 1);
	sc_der_raw(d, attrs->p + 1, attrs->len - 1);
	der_sig_alg(d, s, o);
	sc_der_tlv(d, 0x04, sig, siglen);
	if (token && tokenlen) {
		u = sc_der_open(d);
		der_attr_begin(d, OID_SIG_TIMESTAMP, &a, &b);
		sc_der_raw(d, token, tokenlen);
		der_attr_end(d, a, b);
		sc_der_close(d, u, 0xA1);
	}
	sc_der_close(d, si, 0x30);
	sc_der_close(d, m, 0x31);
	sc_der_close(d, sd, 0x30);
	sc_der_close(d, exp, 0xA0);
	sc_der_close(d, ci, 0x30);
	if (d->oom) {
		sc_der_free(d);
		return signcore__err(ctx, SIGNCORE_ENOMEM, "out of memory building the CMS signature");
	}
	return SIGNCORE_OK;
}

/* Upper bound of the CMS size without a timestamp token. */
size_t signcore__cms_estimate(const signcore_signer *s)
{
	size_t n = 1200 + (size_t)i2d_X509(s->cert, NULL) + (size_t)EVP_PKEY_get_size(s->pub);
	int i;

	for (i = 0; i < sk_X509_num(s->chain); i++)
		n += (size_t)i2d_X509(sk_X509_value(s->chain, i), NULL);
	return n;
}
