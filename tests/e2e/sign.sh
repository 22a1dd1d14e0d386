#!/bin/sh
# PAdES signing end to end, judged by tools nobody here wrote: pdfsig
# (poppler, against an NSS database trusting the test root), openssl cms
# -verify on each signed byte range, openssl ts -verify on every token,
# qpdf --check. A real TSA, OCSP responder and CRL server run behind
# lighttpd on 127.0.0.1 (tests/pki/setup.sh).
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
need_cmd openssl pdfsig lighttpd certutil curl

start_pki

F=$FIXTURES
S=$SIGNCORE
SIGTOOL="python3 $SRCDIR/tests/e2e/sigtool.py"
cd "$WORK" || exit 1
mkdir out
echo user-pw >pdf.pw
P12="--p12 $SIGNER_RSA_P12 --password-file $P12_PASS_FILE"
TRUST="--trust $ROOT_PEM"

# pdfsig_all FILE [PASSWORD] — every (non-time-stamp) signature is valid,
# trusted and ETSI.CAdES.detached; prints the number checked in NSIG.
pdfsig_all()
{
	local out
	if [ -n "$2" ]; then
		out=$(pdfsig -upw "$2" -nssdir "$NSSDB" "$1" 2>&1)
	else
		out=$(pdfsig -nssdir "$NSSDB" "$1" 2>&1)
	fi
	NSIG=$(printf '%s\n' "$out" | grep -c 'Signature Type: ETSI.CAdES.detached')
	local valid trusted
	valid=$(printf '%s\n' "$out" | grep -c 'Signature Validation: Signature is Valid')
	trusted=$(printf '%s\n' "$out" | grep -c 'Certificate Validation: Certificate is Trusted')
	if [ "$NSIG" -ge 1 ] && [ "$valid" -eq "$NSIG" ] && [ "$trusted" -eq "$NSIG" ]; then
		pass
	else
		fail "pdfsig on $1: $NSIG CAdES, $valid valid, $trusted trusted"
		printf '%s\n' "$out" | sed 's/^/    | /' >&2
	fi
}

# openssl_all FILE LEVEL — for each signature: openssl cms -verify over its
# byte range, exactly the three PAdES signed attributes, and the tokens
# (signature time-stamp from B-T, document time-stamp at B-LTA) pass
# openssl ts -verify.
openssl_all()
{
	local f=$1 level=$2 n i kind d
	n=$($SIGTOOL list "$f" | wc -l)
	for i in $(seq 0 $((n - 1))); do
		d=$WORK/x$i
		rm -rf "$d"
		$SIGTOOL extract "$f" "$i" "$d" || { fail "sigtool extract $f $i"; continue; }
		kind=$($SIGTOOL list "$f" | sed -n "$((i + 1))p" | python3 -c 'import json,sys; print(json.load(sys.stdin)["type"])')
		if [ "$kind" = DocTimeStamp ]; then
			if openssl ts -verify -data "$d/data.bin" -in "$d/sig.der" -token_in -CAfile "$ROOT_PEM" \
				-untrusted "$CHAIN_PEM" >/dev/null 2>&1; then pass; else fail "openssl ts -verify of the document time-stamp in $f"; fi
			continue
		fi
		if openssl cms -verify -binary -inform DER -in "$d/sig.der" -content "$d/data.bin" \
			-CAfile "$ROOT_PEM" -purpose any -out /dev/null >/dev/null 2>&1; then
			pass
		else
			fail "openssl cms -verify of signature $i in $f"
		fi
		if [ "$($SIGTOOL attrs "$d/sig.der")" = "1.2.840.113549.1.9.3 1.2.840.113549.1.9.4 1.2.840.113549.1.9.16.2.47" ]; then
			pass
		else
			fail "signed attributes of signature $i in $f: $($SIGTOOL attrs "$d/sig.der")"
		fi
		if [ "$level" != B-B ]; then
			if [ -f "$d/token.der" ] && openssl ts -verify -data "$d/sigvalue.bin" -in "$d/token.der" -token_in \
				-CAfile "$ROOT_PEM" -untrusted "$CHAIN_PEM" >/dev/null 2>&1; then
				pass
			else
				fail "signature time-stamp of signature $i in $f missing or not verified"
			fi
		fi
	done
	case $level in
	B-LTA)
		if [ "$($SIGTOOL list "$f" | tail -n1 | grep -c DocTimeStamp)" = 1 ]; then pass; else fail "$f: no document time-stamp last"; fi ;;
	esac
}

# dss_counts FILE [PASSWORD] — "certs ocsps crls" of the /DSS.
dss_counts()
{
	pdfq "$1" "$2" '"%d %d %d" % tuple(len(obj((obj(catalog.get("/DSS")) or {}).get(k)) or []) for k in ("/Certs", "/OCSPs", "/CRLs"))'
}

# --- every level on several inputs ------------------------------------------
for input in plain xrefstream form pages200 encrypted; do
	pw=
	pwopt=
	if [ $input = encrypted ]; then pw=user-pw; pwopt="--pdf-password-file pdf.pw"; fi
	for level in B-B B-T B-LT B-LTA; do
		out=out/$input-$level.pdf
		ok "$S" sign "$F/$input.pdf" -o "$out" $P12 $pwopt --level $level --tsa "$TSA_URL" $TRUST \
			--page 1 --rect 40,40,220,60 --reason "Agreed" --location "Bengaluru" || continue
		starts_with "$out" "$F/$input.pdf" && pass || fail "$out does not start with the original bytes"
		qpdf_ok "$out" "$pw"
		pdfsig_all "$out" "$pw"
		openssl_all "$out" $level
		case $level in
		B-LT | B-LTA)
			set -- $(dss_counts "$out" "$pw")
			# signer + TSA + intermediate + root, an OCSP response for the
			# signer and the TSA, the root's CRL for the intermediate.
			if [ "${1:-0}" -ge 4 ] && [ "${2:-0}" -ge 2 ] && [ "${3:-0}" -ge 1 ]; then pass; else fail "$out: DSS has certs/OCSPs/CRLs $*"; fi
			;;
		esac
	done
done

# The xref form of the original is kept in the update.
if tail -c 2000 out/xrefstream-B-LTA.pdf | grep -q '/Type */XRef'; then pass; else fail "xref stream input lost its xref stream form"; fi
if tail -c 2000 out/plain-B-LTA.pdf | grep -q '^xref'; then pass; else fail "classic xref input lost its xref table"; fi

# --- a large file (12 MB): the original is copied by the kernel, in a second
# thread, and hashed from its mapping; the output on the same file system and
# on another one (/dev/shm: copy_file_range refuses, the copy is by hand) ----
python3 "$SRCDIR/tests/bench/mkcorpus.py" big big.pdf 400 12 || fail "mkcorpus big"
# big_ok OUT LEVEL [ORIGINAL]
big_ok()
{
	starts_with "$1" "${3:-big.pdf}" && pass || fail "$1 does not start with the original bytes"
	qpdf_ok "$1"
	pdfsig_all "$1"
	openssl_all "$1" "$2"
}
ok "$S" sign big.pdf -o out/big-B-T.pdf $P12 --level B-T --tsa "$TSA_URL" $TRUST --page 3 --rect 40,40,220,60
big_ok out/big-B-T.pdf B-T
ok "$S" sign out/big-B-T.pdf -o out/big-B-T-2.pdf --key "$SIGNER_P256_KEY" --cert "$SIGNER_P256_CRT" --chain "$CHAIN_PEM" --invisible
starts_with out/big-B-T-2.pdf out/big-B-T.pdf && pass || fail "second signature of the large file rewrote the first"
pdfsig_all out/big-B-T-2.pdf
[ "$NSIG" = 2 ] && pass || fail "large file, two signatures: pdfsig saw $NSIG"
if [ -d /dev/shm ] && shm=$(mktemp -d /dev/shm/signcore-test.XXXXXX); then
	ok "$S" sign big.pdf -o "$shm/big.pdf" $P12 --invisible
	big_ok "$shm/big.pdf" B-B
	rm -rf "$shm"
fi
# A 3 MB file: read in growing pieces (neither whole nor mapped).
python3 "$SRCDIR/tests/bench/mkcorpus.py" big mid.pdf 100 3 || fail "mkcorpus mid"
ok "$S" sign mid.pdf -o out/mid.pdf $P12 --page 2 --rect 40,40,220,60
big_ok out/mid.pdf B-B mid.pdf
# Saved over itself: the original is read through the descriptor opened
# before the rename.
cp big.pdf self.pdf
ok "$S" sign self.pdf -o self.pdf $P12 --invisible
starts_with self.pdf big.pdf && pass || fail "signing a large file over itself lost its original bytes"
pdfsig_all self.pdf
# Durable outputs: the file and its directory are flushed (seen with strace).
if command -v strace >/dev/null 2>&1; then
	# LeakSanitizer cannot run under ptrace: no leak check for these two.
	noleak="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	ASAN_OPTIONS=$noleak SIGNCORE_DURABLE=1 strace -f -qq -e trace=fsync -o fsync.log "$S" sign "$F/plain.pdf" -o out/durable.pdf $P12 --invisible >/dev/null 2>&1 \
		&& pass || fail "SIGNCORE_DURABLE=1 sign failed"
	[ "$(grep -c '^[0-9]* *fsync(' fsync.log)" -ge 2 ] && pass || fail "SIGNCORE_DURABLE=1: expected an fsync of the file and of its directory: $(cat fsync.log)"
	ASAN_OPTIONS=$noleak strace -f -qq -e trace=fsync -o fsync.log "$S" sign "$F/plain.pdf" -o out/fast.pdf $P12 --invisible >/dev/null 2>&1
	[ "$(grep -c 'fsync(' fsync.log)" -eq 0 ] && pass || fail "without SIGNCORE_DURABLE an output was flushed: $(cat fsync.log)"
else
	echo "sign.sh: strace not installed: durable writes not checked" >&2
fi
# Modes: a new output gets 0666 less the umask (not the 0600 of its
# temporary file); an output replaced keeps the mode it had.
(umask 022 && "$S" sign "$F/plain.pdf" -o out/mode.pdf $P12 --invisible) || fail "sign to out/mode.pdf"
[ "$(stat -c %a out/mode.pdf)" = 644 ] && pass || fail "new output mode $(stat -c %a out/mode.pdf), expected 644"
chmod 640 out/mode.pdf
ok "$S" sign "$F/plain.pdf" -o out/mode.pdf $P12 --invisible
[ "$(stat -c %a out/mode.pdf)" = 640 ] && pass || fail "replaced output mode $(stat -c %a out/mode.pdf), expected 640"

# --- three sequential signatures: RSA, P-256, RSA-PSS SHA-384 ------------------
for input in plain xrefstream; do
	ok "$S" sign "$F/$input.pdf" -o out/s1.pdf $P12 --level B-T --tsa "$TSA_URL" $TRUST --page 1 --rect 40,40,160,50
	ok "$S" sign out/s1.pdf -o out/s2.pdf --key "$SIGNER_P256_KEY" --cert "$SIGNER_P256_CRT" --chain "$CHAIN_PEM" \
		--level B-T --tsa "$TSA_URL" $TRUST --page 1 --rect 220,40,160,50
	ok "$S" sign out/s2.pdf -o out/s3.pdf --p12 "$SIGNER_RSA3072_P12" --password-file "$P12_PASS_FILE" --pss --digest sha384 \
		--level B-LT --tsa "$TSA_URL" $TRUST
	starts_with out/s2.pdf out/s1.pdf && starts_with out/s3.pdf out/s2.pdf && pass || fail "updates are not appended"
	pdfsig_all out/s3.pdf
	[ "$NSIG" = 3 ] && pass || fail "$input: expected 3 signatures, pdfsig saw $NSIG"
	openssl_all out/s3.pdf B-T
	qpdf_ok out/s3.pdf
	# Each update writes only what it changes: a few objects, not the file.
	grow=$(( $(size out/s3.pdf) - $(size out/s2.pdf) ))
	[ "$grow" -lt 60000 ] && pass || fail "$input: third signature added $grow bytes"
done

# P-384 with SHA-512, and the adbe.pkcs7.detached SubFilter on request.
ok "$S" sign "$F/plain.pdf" -o out/p384.pdf --p12 "$SIGNER_P384_P12" --password-file "$P12_PASS_FILE" --digest sha512 \
	--level B-T --tsa "$TSA_URL" $TRUST
pdfsig_all out/p384.pdf
openssl_all out/p384.pdf B-T
pdfsig -nssdir "$NSSDB" out/p384.pdf | grep -q 'Signing Hash Algorithm: SHA-512' && pass || fail "P-384 signature is not SHA-512"
ok "$S" sign "$F/plain.pdf" -o out/pkcs7.pdf $P12 --subfilter pkcs7
if pdfsig -nssdir "$NSSDB" out/pkcs7.pdf | grep -q 'Signature Type: adbe.pkcs7.detached' &&
	pdfsig -nssdir "$NSSDB" out/pkcs7.pdf | grep -q 'Signature is Valid'; then pass; else fail "adbe.pkcs7.detached signature"; fi

# A one-byte change inside a signed range is a digest mismatch.
cp out/plain-B-B.pdf out/tampered.pdf
python3 - out/tampered.pdf <<'EOF'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
i = d.index(b"Page 1")
d[i + 5] = ord("7")
open(p, "wb").write(d)
EOF
if pdfsig -nssdir "$NSSDB" out/tampered.pdf 2>&1 | grep -q 'Digest Mismatch'; then pass; else fail "pdfsig did not report the changed byte"; fi

# --- visible signature with a Devanagari name; ActualText extraction ----------
ok "$S" sign "$F/plain.pdf" -o out/hindi.pdf $P12 --page 1 --rect 300,650,240,80 --name "प्रिया शर्मा" --reason "सहमत"
text_has out/hindi.pdf "प्रिया शर्मा"
text_has out/hindi.pdf "Digitally signed by"
pdfsig_all out/hindi.pdf
pdftoppm -r 72 -gray -f 1 -l 1 out/hindi.pdf hindi >/dev/null 2>&1
inked=$($PIXELS ink hindi-1.pgm --rect 300,650,240,80 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pixels"])')
[ "${inked:-0}" -gt 200 ] && pass || fail "the visible signature draws little or nothing ($inked dark pixels)"
cat >ap.json <<EOF
{"image": "$F/sig.png", "text": false}
EOF
ok "$S" sign "$F/rotated.pdf" -o out/image.pdf $P12 --page 1 --rect 60,60,200,80 --appearance ap.json
pdfsig_all out/image.pdf
ok "$S" sign "$F/form.pdf" -o out/invisible.pdf $P12
pdfsig_all out/invisible.pdf
# An existing empty signature field is signed in place.
cat >sigfield.json <<'EOF'
{"fields": [{"name": "client", "type": "signature", "page": 1, "rect": [72, 600, 200, 60]}]}
EOF
ok "$S" place "$F/plain.pdf" sigfield.json -o out/withfield.pdf
ok "$S" sign out/withfield.pdf -o out/fieldsigned.pdf $P12 --field client
pdfsig -nssdir "$NSSDB" out/fieldsigned.pdf | grep -q 'Signature Field Name: client' && pass || fail "field client not signed"

# --- certification and field locks --------------------------------------------
ok "$S" sign "$F/plain.pdf" -o out/cert1.pdf $P12 --certify no-changes
[ "$(pdfq out/cert1.pdf '' 'obj(obj(obj(catalog["/Perms"])["/DocMDP"])["/Reference"])[0]["/TransformParams"]["/P"]')" = 1 ] && pass || fail "DocMDP P=1 missing"
expect_exit 2 "$S" sign out/cert1.pdf -o out/cert1b.pdf $P12 && err_has 'certified.*no changes'
assert_no_file out/cert1b.pdf
# A DSS and document time-stamps are not changes under DocMDP (ISO 32000-2).
ok "$S" ltv out/cert1.pdf -o out/cert1-lta.pdf --lta --tsa "$TSA_URL" $TRUST
pdfsig_all out/cert1-lta.pdf
openssl_all out/cert1-lta.pdf B-B   # the document time-stamp is checked too
ok "$S" sign "$F/plain.pdf" -o out/cert2.pdf $P12 --certify form-fill
# (Another signer: pdfsig 22.12 reports the same certificate's second use
# in one file as "Unknown issue with Certificate", whoever signed -- MuPDF's
# own mutool sign included.)
ok "$S" sign out/cert2.pdf -o out/cert2b.pdf --p12 "$SIGNER_P256_P12" --password-file "$P12_PASS_FILE" --page 1 --rect 40,40,160,50
pdfsig_all out/cert2b.pdf
[ "$NSIG" = 2 ] && pass || fail "certified + approval: expected 2 signatures"
expect_exit 2 "$S" sign out/cert2b.pdf -o out/cert2c.pdf $P12 --certify form-fill && err_has 'certification signature must be the first'
ok "$S" sign "$F/form.pdf" -o out/locked.pdf $P12 --lock-fields existing_name,existing_check
[ "$(pdfq out/locked.pdf '' '[d for n, d in field_dicts() if n == "Signature1"][0]["/Lock"]["/Action"]')" = /Include ] && pass || fail "FieldMDP /Lock missing"

# --- standalone timestamp and ltv ---------------------------------------------
ok "$S" timestamp "$F/plain.pdf" -o out/ts.pdf --tsa "$TSA_URL" $TRUST
openssl_all out/ts.pdf B-B
qpdf_ok out/ts.pdf
ok "$S" ltv out/encrypted-B-T.pdf -o out/encrypted-extended.pdf --lta --tsa "$TSA_URL" $TRUST --pdf-password-file pdf.pw
pdfsig_all out/encrypted-extended.pdf user-pw
qpdf_ok out/encrypted-extended.pdf user-pw
ok "$S" ltv out/plain-B-T.pdf -o out/extended.pdf --lta --tsa "$TSA_URL" $TRUST
pdfsig_all out/extended.pdf
openssl_all out/extended.pdf B-LTA
set -- $(dss_counts out/extended.pdf)
[ "${2:-0}" -ge 2 ] && pass || fail "ltv: DSS OCSPs $2"

# --- external (two-step) signing ------------------------------------------------
ok "$S" sign "$F/plain.pdf" --prepare --cert "$SIGNER_RSA_CRT" --chain "$CHAIN_PEM" -o out/doc.pending \
	--digest-out digest.bin --page 1 --rect 40,40,200,60
[ "$(size digest.bin)" = 32 ] && pass || fail "prepare: digest is not 32 bytes"
expect_exit 2 "$S" sign "$F/plain.pdf" --prepare --cert "$SIGNER_RSA_CRT" -o out/x.pending --level B-T --tsa "$TSA_URL" &&
	err_has 'give them to --embed'
assert_no_file out/x.pending
openssl pkeyutl -sign -inkey "$SIGNER_RSA_KEY" -in digest.bin -pkeyopt digest:sha256 -out raw.sig 2>/dev/null
ok "$S" sign --embed out/doc.pending --signature raw.sig -o out/external.pdf --level B-LT --tsa "$TSA_URL" $TRUST
pdfsig_all out/external.pdf
openssl_all out/external.pdf B-T
# A signature by another key is refused and nothing is written.
openssl pkeyutl -sign -inkey "$SIGNER_RSA3072_KEY" -in digest.bin -pkeyopt digest:sha256 -out wrong.sig 2>/dev/null
expect_exit 1 "$S" sign --embed out/doc.pending --signature wrong.sig -o out/external2.pdf && err_has 'does not match'
assert_no_file out/external2.pdf
# ECDSA as r||s (what a KMS returns) is accepted.
ok "$S" sign "$F/plain.pdf" --prepare --cert "$SIGNER_P256_CRT" --chain "$CHAIN_PEM" -o out/ec.pending --digest-out ecdigest.bin
openssl pkeyutl -sign -inkey "$SIGNER_P256_KEY" -in ecdigest.bin -out ec.der 2>/dev/null
python3 - ec.der ec.raw <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
def read_int(d, i):
    n = d[i + 1]
    v = d[i + 2:i + 2 + n]
    return v.lstrip(b"\0").rjust(32, b"\0"), i + 2 + n
r, i = read_int(d, 2)
s, _ = read_int(d, i)
open(sys.argv[2], "wb").write(r + s)
EOF
ok "$S" sign --embed out/ec.pending --signature ec.raw -o out/ec.pdf
pdfsig_all out/ec.pdf
# Byte-range mode: the service answers a complete CMS (here: openssl cms).
ok "$S" sign "$F/plain.pdf" --prepare --hash-of byterange --cert "$SIGNER_RSA_CRT" --chain "$CHAIN_PEM" -o out/br.pending --digest-out brdigest.bin
$SIGTOOL pending-data out/br.pending br.data
openssl dgst -sha256 -binary br.data | cmp -s - brdigest.bin && pass || fail "byte-range digest differs from the pending data"
openssl cms -sign -binary -in br.data -signer "$SIGNER_RSA_CRT" -inkey "$SIGNER_RSA_KEY" -certfile "$CHAIN_PEM" \
	-md sha256 -outform DER -out br.cms -nosmimecap 2>/dev/null
ok "$S" sign --embed out/br.pending --signature br.cms -o out/br.pdf
pdfsig -nssdir "$NSSDB" out/br.pdf | grep -q 'Signature is Valid' && pass || fail "CMS from the service not valid"
openssl cms -sign -binary -in "$F/plain.pdf" -signer "$SIGNER_RSA_CRT" -inkey "$SIGNER_RSA_KEY" -md sha256 -outform DER -out other.cms 2>/dev/null
expect_exit 1 "$S" sign --embed out/br.pending --signature other.cms -o out/br2.pdf && err_has 'another document'
assert_no_file out/br2.pdf
# A pending file changed after prepare is refused.
cp out/doc.pending out/bad.pending
printf x | dd of=out/bad.pending bs=1 seek=$(( $(size out/doc.pending) - 300 )) conv=notrunc 2>/dev/null
expect_exit 2 "$S" sign --embed out/bad.pending --signature raw.sig -o out/bad.pdf && err_has 'modified'
assert_no_file out/bad.pdf

# --- bad input: a specific error and no output ----------------------------------
bad()
{
	local code=$1 re=$2
	shift 2
	rm -f out/bad.pdf
	expect_exit "$code" "$@" && err_has "$re"
	assert_no_file out/bad.pdf
	assert_no_temp out
}
echo wrong >wrong.pw
bad 2 'wrong password' "$S" sign "$F/plain.pdf" -o out/bad.pdf --p12 "$SIGNER_RSA_P12" --password-file wrong.pw
bad 2 'protected by a password' "$S" sign "$F/plain.pdf" -o out/bad.pdf --p12 "$SIGNER_RSA_P12" </dev/null
bad 2 'SC_NOPE.*not set' env -u SC_NOPE "$S" sign "$F/plain.pdf" -o out/bad.pdf --p12 "$SIGNER_RSA_P12" --password-env SC_NOPE
bad 1 'does not match the certificate' "$S" sign "$F/plain.pdf" -o out/bad.pdf --key "$SIGNER_P256_KEY" --cert "$SIGNER_RSA_CRT"
bad 1 'expired' "$S" sign "$F/plain.pdf" -o out/bad.pdf --key "$SIGNER_EXPIRED_KEY" --cert "$SIGNER_EXPIRED_CRT"
bad 1 'not valid yet' "$S" sign "$F/plain.pdf" -o out/bad.pdf --key "$SIGNER_FUTURE_KEY" --cert "$SIGNER_FUTURE_CRT"
bad 1 'key usage' "$S" sign "$F/plain.pdf" -o out/bad.pdf --key "$SIGNER_NOKEYUSAGE_KEY" --cert "$SIGNER_NOKEYUSAGE_CRT"
bad 2 'already signed' "$S" sign out/fieldsigned.pdf -o out/bad.pdf $P12 --field client
bad 2 'not a signature field' "$S" sign "$F/form.pdf" -o out/bad.pdf $P12 --field existing_name
bad 2 'password' "$S" sign "$F/encrypted.pdf" -o out/bad.pdf $P12
bad 2 'wrong password' "$S" sign "$F/encrypted.pdf" -o out/bad.pdf $P12 --pdf-password-file wrong.pw
bad 1 'unreachable' "$S" sign "$F/plain.pdf" -o out/bad.pdf $P12 --level B-T --tsa "$TSA_URL_DOWN" $TRUST
bad 1 'HTTP 500' "$S" sign "$F/plain.pdf" -o out/bad.pdf $P12 --level B-T --tsa "$TSA_URL_500" $TRUST
bad 1 'not an RFC 3161' "$S" sign "$F/plain.pdf" -o out/bad.pdf $P12 --level B-T --tsa "$TSA_URL_GARBAGE" $TRUST
bad 1 'another message imprint' "$S" sign "$F/plain.pdf" -o out/bad.pdf $P12 --level B-T --tsa "$TSA_URL_WRONG" $TRUST
bad 2 'need a time-stamp authority' "$S" sign "$F/plain.pdf" -o out/bad.pdf $P12 --level B-T
bad 1 'revoked' "$S" sign "$F/plain.pdf" -o out/bad.pdf --key "$SIGNER_REVOKED_KEY" --cert "$SIGNER_REVOKED_CRT" \
	--chain "$CHAIN_PEM" --level B-LT --tsa "$TSA_URL" $TRUST
# Several TSAs: the first down, the second answers.
ok "$S" sign "$F/plain.pdf" -o out/fallback.pdf $P12 --level B-T --tsa "$TSA_URL_DOWN" --tsa "$TSA_URL" $TRUST
pdfsig_all out/fallback.pdf
# A certificate known only by CRL is extended from its CRL.
ok "$S" sign "$F/plain.pdf" -o out/crlonly.pdf --p12 "$SIGNER_CRLONLY_P12" --password-file "$P12_PASS_FILE" --level B-LT --tsa "$TSA_URL" $TRUST
set -- $(dss_counts out/crlonly.pdf)
[ "${3:-0}" -ge 2 ] && pass || fail "CRL-only signer: DSS CRLs $3"
# A chain given without its intermediate is completed from AIA caIssuers.
ok "$S" sign "$F/plain.pdf" -o out/aia.pdf --key "$SIGNER_RSA_KEY" --cert "$SIGNER_RSA_CRT" --level B-LT --tsa "$TSA_URL" $TRUST
[ "$(pdfq out/aia.pdf '' 'len(obj(obj(catalog["/DSS"])["/Certs"]))')" -ge 4 ] && pass || fail "caIssuers: the intermediate is not in the DSS"
# --- our verifier over every file made above --------------------------------
# Each is valid and trusted, except the one tampered with on purpose and the
# one with only an empty signature field; every
# level made is reported as that level.
for f in out/*.pdf; do
	case $f in out/bad.pdf) continue ;; esac
	pwopt=
	case $f in out/encrypted-*) pwopt="--password-file pdf.pw" ;; esac
	want=0
	case $f in out/tampered.pdf | out/withfield.pdf) want=1 ;; esac
	expect_exit $want "$S" verify "$f" --trust "$ROOT_PEM" $pwopt -q
done
for input in plain xrefstream form pages200 encrypted; do
	pwopt=
	[ $input = encrypted ] && pwopt="--password-file pdf.pw"
	for level in B-B B-T B-LT B-LTA; do
		got=$("$S" verify out/$input-$level.pdf --trust "$ROOT_PEM" $pwopt --json |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["signatures"][0]["level"])')
		[ "$got" = $level ] && pass || fail "verify out/$input-$level.pdf: level $got"
	done
done
got=$("$S" verify out/pkcs7.pdf --trust "$ROOT_PEM" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["signatures"][0]["level"])')
[ "$got" = "not PAdES (adbe.pkcs7.detached)" ] && pass || fail "verify out/pkcs7.pdf: level $got"
"$S" verify out/tampered.pdf --trust "$ROOT_PEM" 2>/dev/null | grep -q 'digest does not match' && pass || fail "verify: tampered.pdf reason"

# OCSP unreachable for B-LT: stop the servers, then extend a B-T file.
sh "$SRCDIR/tests/pki/teardown.sh" "$PKI"
bad 1 'no revocation information' "$S" ltv out/plain-B-T.pdf -o out/bad.pdf $TRUST
# ... unless missing revocation data is explicitly allowed.
ok "$S" ltv out/plain-B-T.pdf -o out/norev.pdf $TRUST --allow-missing-revocation
[ "$(pdfq out/norev.pdf '' 'len(obj(obj(catalog["/DSS"])["/Certs"]))')" -ge 4 ] && pass || fail "ltv without revocation: certificates missing"

finish
