#!/bin/sh
# signcore verify end to end: files from our signer at every level are
# valid with the right PAdES level; every attack built here (tests/e2e/
# pdfattack.py) gets a clear verdict with the right reason and never a
# crash; pdfsig (poppler) gives the same integrity verdict wherever it can
# judge. A real TSA and OCSP responder run behind lighttpd (tests/pki).
# SPDX-License-Identifier: AGPL-3.0-or-later
[ -z "$BASH_VERSION" ] && exec bash "$0" "$@"
. "${SRCDIR:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
need_cmd openssl pdfsig lighttpd certutil curl qpdf python3

start_pki

F=$FIXTURES
S=$SIGNCORE
ATTACK="python3 $SRCDIR/tests/e2e/pdfattack.py"
cd "$WORK" || exit 1
P12="--p12 $SIGNER_RSA_P12 --password-file $P12_PASS_FILE"
P256="--p12 $SIGNER_P256_P12 --password-file $P12_PASS_FILE"
TRUST="--trust $ROOT_PEM"

# jq-like: the value of a Python expression over the JSON report R of FILE.
report()
{
	local f=$1 expr=$2
	shift 2
	"$S" verify "$f" $TRUST --json "$@" 2>/dev/null | python3 -c "import json,sys; r=json.load(sys.stdin); s=r['signatures']; print($expr)"
}

# verdict FILE EXIT PATTERN [ARGS] — exit status, one stderr line when it
# fails, and PATTERN (extended regex) in the report.
verdict()
{
	local f=$1 want=$2 pat=$3
	shift 3
	expect_exit "$want" "$S" verify "$f" $TRUST "$@" || return
	if grep -Eq -- "$pat" "$RUN_OUT"; then pass; else
		fail "verify $f: no /$pat/ in the report"
		sed 's/^/    | /' "$RUN_OUT" >&2
	fi
}

# pdfsig_integrity FILE — "valid", "invalid" or "unknown" (pdfsig cannot judge).
pdfsig_integrity()
{
	local out
	out=$(pdfsig -nssdir "$NSSDB" "$1" 2>&1)
	if printf '%s\n' "$out" | grep -q 'Signature Validation: Signature is Valid'; then echo valid
	elif printf '%s\n' "$out" | grep -Eq 'Digest Mismatch|Signature is Invalid|Signature has not yet been verified|Unknown Validation Failure'; then echo invalid
	else echo unknown; fi
}

# same_as_pdfsig FILE — our integrity verdict of the first signature equals pdfsig's.
same_as_pdfsig()
{
	local theirs ours
	theirs=$(pdfsig_integrity "$1")
	ours=$(report "$1" '"valid" if s and s[0]["integrity"]["status"] == "ok" else "invalid"')
	if [ "$theirs" = unknown ]; then
		fail "pdfsig cannot judge $1"
	elif [ "$theirs" = "$ours" ]; then pass; else
		fail "integrity of $1: pdfsig says $theirs, signcore says $ours"
	fi
}

mkdir out

# --- our signer at every level: valid, level as made ------------------------
for level in B-B B-T B-LT B-LTA; do
	ok "$S" sign "$F/plain.pdf" -o out/$level.pdf $P12 --level $level --tsa "$TSA_URL" $TRUST \
		--page 1 --rect 40,40,220,60 --reason Agreed --location Pune || continue
	verdict out/$level.pdf 0 "PAdES level: +$level\$"
	[ "$(report out/$level.pdf 's[0]["level"]')" = $level ] && pass || fail "level of out/$level.pdf"
	[ "$(report out/$level.pdf 'r["verdict"]')" = valid ] && pass || fail "JSON verdict of out/$level.pdf"
	same_as_pdfsig out/$level.pdf
done
verdict out/B-B.pdf 0 '^VALID: 1 signature valid and trusted$' -q
[ "$(report out/B-B.pdf 's[0]["coverage"]["whole_file"], s[0]["coverage"]["changes"], s[0]["reason"], s[0]["location"]')" = "True none Agreed Pune" ] &&
	pass || fail "B-B report: coverage or dictionary entries"
[ "$(report out/B-T.pdf 's[0]["timestamp"]["status"], s[0]["validation_time"]["source"]')" = "ok signature time-stamp" ] &&
	pass || fail "B-T report: time-stamp"
[ "$(report out/B-LT.pdf 's[0]["revocation"]["status"], s[0]["coverage"]["changes"], s[0]["coverage"]["permitted"]')" = "ok ltv True" ] &&
	pass || fail "B-LT report: revocation from the DSS, LTV changes"
[ "$(report out/B-LTA.pdf 'len(s), s[1]["kind"], s[1]["timestamp"]["status"], s[1]["coverage"]["whole_file"]')" = "2 document-timestamp ok True" ] &&
	pass || fail "B-LTA report: the document time-stamp"
# genTime of the document time-stamp equals what openssl reads from the token.
gen=$(report out/B-LTA.pdf 's[1]["timestamp"]["time"]')
python3 "$SRCDIR/tests/e2e/sigtool.py" extract out/B-LTA.pdf 1 dts >/dev/null
want=$(openssl ts -reply -token_in -in dts/sig.der -token_out -text 2>/dev/null | sed -n 's/^Time stamp: //p')
[ -n "$gen" ] && [ "$(date -u -d "$want" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)" = "$gen" ] && pass ||
	fail "document time-stamp genTime: signcore $gen, openssl $want"

# Other inputs and kinds.
ok "$S" sign "$F/xrefstream.pdf" -o out/xs.pdf $P12 --level B-LT --tsa "$TSA_URL" $TRUST
verdict out/xs.pdf 0 'PAdES level: +B-LT'
echo user-pw >pdf.pw
ok "$S" sign "$F/encrypted.pdf" -o out/enc.pdf $P12 --pdf-password-file pdf.pw --level B-T --tsa "$TSA_URL" $TRUST
verdict out/enc.pdf 0 'PAdES level: +B-T' --password-file pdf.pw
expect_exit 2 "$S" verify out/enc.pdf $TRUST && err_has 'password'
echo nope >wrong.pw
expect_exit 2 "$S" verify out/enc.pdf $TRUST --password-file wrong.pw && err_has 'wrong'
ok "$S" sign "$F/plain.pdf" -o out/pkcs7.pdf $P12 --subfilter pkcs7
verdict out/pkcs7.pdf 0 'not PAdES \(adbe.pkcs7.detached\)'
ok "$S" sign "$F/plain.pdf" -o out/p256.pdf $P256 --digest sha384
verdict out/p256.pdf 0 'SHA384 digest'
ok "$S" sign "$F/pages200.pdf" -o out/p200-1.pdf $P12 --page 1 --rect 40,40,220,60
ok "$S" sign out/p200-1.pdf -o out/p200-2.pdf $P256 --page 200 --rect 40,40,220,60
ok "$S" sign out/p200-2.pdf -o out/p200-3.pdf $P12 --level B-LTA --tsa "$TSA_URL" $TRUST
verdict out/p200-3.pdf 0 '4 signatures valid'
[ "$(report out/p200-3.pdf '" ".join("%s:%s" % (x["revision"], x["coverage"]["changes"]) for x in s)')" = "2:form 3:form 4:ltv 6:none" ] &&
	pass || fail "three signatures + DSS: revisions and changes $(report out/p200-3.pdf '[(x["revision"], x["coverage"]["changes"]) for x in s]')"

# Certification and locks.
echo '{"values": {"existing_name": "Filled later"}}' >fill.json
ok "$S" sign "$F/form.pdf" -o out/signed-form.pdf $P12
ok "$S" fill out/signed-form.pdf fill.json -o out/filled.pdf
verdict out/filled.pdf 0 'form filling and signatures \(permitted\)'
same_as_pdfsig out/filled.pdf
ok "$S" sign "$F/form.pdf" -o out/cert1.pdf $P12 --certify no-changes
verdict out/cert1.pdf 0 'certification signature "Signature1", revision [0-9]+, DocMDP P=1'
ok "$S" fill out/cert1.pdf fill.json -o out/cert1-filled.pdf
verdict out/cert1-filled.pdf 1 'not permitted by the certification'
ok "$S" ltv out/cert1.pdf -o out/cert1-ltv.pdf --lta --tsa "$TSA_URL" $TRUST --allow-missing-revocation
verdict out/cert1-ltv.pdf 0 'validation data \(DSS, document time-stamps\) \(permitted\)'
ok "$S" sign "$F/form.pdf" -o out/cert2.pdf $P12 --certify form-fill
ok "$S" fill out/cert2.pdf fill.json -o out/cert2-filled.pdf
ok "$S" sign out/cert2-filled.pdf -o out/cert2-signed.pdf $P256
verdict out/cert2-signed.pdf 0 '2 signatures valid'
ok "$S" sign "$F/form.pdf" -o out/locked.pdf $P12 --lock-fields existing_name
ok "$S" fill out/locked.pdf fill.json -o out/locked-filled.pdf
verdict out/locked-filled.pdf 1 'field "existing_name" is locked by this signature'
echo '{"values": {"existing_check": true}}' >check.json
ok "$S" fill out/locked.pdf check.json -o out/locked-other.pdf
verdict out/locked-other.pdf 0 'form filling'

# --- attacks -------------------------------------------------------------------
B=out/B-B.pdf
attack()
{
	local name=$1 src=$2
	$ATTACK "$name" "$src" "out/at-$name.pdf" && pass || fail "building attack $name"
}
attack truncate $B
verdict out/at-truncate.pdf 1 'beyond the end of the file.*truncated'
attack append $B
verdict out/at-append.pdf 1 'bytes after the end of the last revision'
attack br-gap $B
verdict out/at-br-gap.pdf 1 'not exactly the /Contents string'
attack br-negative $B
verdict out/at-br-negative.pdf 1 'negative number'
attack br-overlap $B
verdict out/at-br-overlap.pdf 1 'byte ranges overlap'
attack br-short $B
verdict out/at-br-short.pdf 1 'not the end of a revision'
attack br-one $B
verdict out/at-br-one.pdf 1 'exactly two ranges'
attack cms-garbage $B
verdict out/at-cms-garbage.pdf 1 'does not hold a DER-encoded CMS|does not parse'
attack flip $B
verdict out/at-flip.pdf 1 'digest does not match'
attack shadow $B
verdict out/at-shadow.pdf 1 'page 1: content stream changed'
attack addpage $B
verdict out/at-addpage.pdf 1 'page count changed from 3 to 4'
attack addannot $B
verdict out/at-addannot.pdf 1 'MODIFIED: .*Text annotation added on page 1'
attack annot out/signed-form.pdf
verdict out/at-annot.pdf 1 'Square annotation changed on page 2'
# A shadow attack after a B-LTA file: the document time-stamp is hit too.
attack shadow out/B-LTA.pdf
verdict out/at-shadow.pdf 1 'content stream changed'
# An unsigned signature field, alone and beside a signature.
echo '{"fields": [{"name": "client", "type": "signature", "page": 1, "rect": [300, 700, 200, 50]}]}' >sigfield.json
ok "$S" place "$F/plain.pdf" sigfield.json -o out/emptyfield.pdf
verdict out/emptyfield.pdf 1 'no signatures \(only unsigned signature fields\)'
ok "$S" sign out/emptyfield.pdf -o out/onesigned.pdf $P12
verdict out/onesigned.pdf 0 'unsigned signature field "client"'
# pdfsig agrees on integrity wherever it can judge.
for a in flip cms-garbage addpage addannot annot append; do
	same_as_pdfsig out/at-$a.pdf
done
attack shadow $B
same_as_pdfsig out/at-shadow.pdf

# A certificate chain with a loop (two CAs certifying each other).
mkdir loop
(
	cd loop || exit 1
	ext() { printf 'basicConstraints=critical,CA:%s\nkeyUsage=critical,%s\n' "$1" "$2"; }
	ext true keyCertSign,cRLSign >ca.ext
	ext false digitalSignature,nonRepudiation >leaf.ext
	for n in X Y; do
		openssl req -x509 -newkey rsa:2048 -nodes -keyout $n.key -subj "/CN=Loop CA $n" -days 30 -out $n.self.pem \
			-addext 'basicConstraints=critical,CA:true' -addext 'keyUsage=critical,keyCertSign,cRLSign'
		openssl req -new -key $n.key -subj "/CN=Loop CA $n" -out $n.csr
	done
	openssl x509 -req -in X.csr -CA Y.self.pem -CAkey Y.key -set_serial 11 -days 30 -extfile ca.ext -out X.byY.pem
	openssl x509 -req -in Y.csr -CA X.self.pem -CAkey X.key -set_serial 12 -days 30 -extfile ca.ext -out Y.byX.pem
	openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -subj "/CN=Loop Leaf" -out leaf.csr
	openssl x509 -req -in leaf.csr -CA X.self.pem -CAkey X.key -set_serial 13 -days 30 -extfile leaf.ext -out leaf.pem
	cat X.byY.pem Y.byX.pem >chain.pem
) >loop.log 2>&1 || { cat loop.log >&2; fail "making the looping chain"; }
ok "$S" sign "$F/plain.pdf" -o out/loop.pdf --key loop/leaf.key --cert loop/leaf.pem --chain loop/chain.pem
verdict out/loop.pdf 1 'UNTRUSTED'
[ "$(report out/loop.pdf 's[0]["integrity"]["status"], s[0]["trust"]["status"]')" = "ok failed" ] && pass ||
	fail "looping chain: intact and untrusted expected"

# Trust and revocation.
expect_exit 1 "$S" verify out/B-B.pdf && err_has 'UNTRUSTED.*no trust anchors given'
expect_exit 1 "$S" verify out/B-B.pdf --trust-system && err_has 'UNTRUSTED'
ok "$S" sign "$F/plain.pdf" -o out/revoked.pdf --key "$SIGNER_REVOKED_KEY" --cert "$SIGNER_REVOKED_CRT" --chain "$CHAIN_PEM"
verdict out/revoked.pdf 0 'no revocation data .*--online'
verdict out/revoked.pdf 1 'is revoked' --online
verdict out/B-B.pdf 0 'not revoked \(OCSP \(online\)' --online
# Offline, B-LT data still answers.
sh "$SRCDIR/tests/pki/teardown.sh" "$PKI"
verdict out/B-LT.pdf 0 'not revoked \(OCSP'

# --- input that cannot be verified: exit 2 -------------------------------------
expect_exit 2 "$S" verify "$F/notapdf.pdf" && err_has 'not a PDF'
expect_exit 2 "$S" verify out/missing.pdf && err_has 'cannot be opened'
expect_exit 2 "$S" verify && err_has 'expected one PDF'
expect_exit 2 "$S" verify $B --bogus && err_has 'unknown option'
expect_exit 2 "$S" verify $B --trust "$F/plain.pdf" && err_has 'trust anchors'
expect_exit 1 "$S" verify "$F/plain.pdf" && err_has 'no signatures'
# Standard input.
expect_exit 0 "$S" verify - $TRUST <$B
# Hostile bytes never crash it: every prefix length class and random damage.
for cut in 10 100 1000 3000 5000; do
	head -c $cut $B >out/cut.pdf
	run "$S" verify out/cut.pdf $TRUST
	[ "$RC" -eq 1 ] || [ "$RC" -eq 2 ] && pass || fail "verify of a $cut-byte prefix: exit $RC"
done
python3 - $B out/noise <<'EOF'
import random, sys
data = open(sys.argv[1], "rb").read()
rng = random.Random(7)
for i in range(20):
    b = bytearray(data)
    for _ in range(rng.randint(1, 40)):
        b[rng.randrange(len(b))] = rng.randrange(256)
    open("%s%d.pdf" % (sys.argv[2], i), "wb").write(bytes(b))
EOF
for i in $(seq 0 19); do
	run "$S" verify out/noise$i.pdf $TRUST
	[ "$RC" -le 2 ] && pass || fail "verify of damaged file $i: exit $RC (crash?)"
done

finish
