#!/usr/bin/env bash
# `earmark audit verify` (DESIGN section 6, issue 5): a good package passes
# every check, printed one per line; then a tamper corpus built from it
# with stock tools (unzip, zip, sed, python3's zipfile, openssl, xmlsec1)
# where each case is refused, exit 1, with the failing check and a message
# naming what is wrong.  Content that is wrong but signed is re-signed with
# the test signer's own key by stock xmlsec1, so only the content checks
# can catch it.  verify needs no database: it runs with none configured.
#
# Book E31 (the e2e fixtures, as in 30_audit_export.sh): four vouchers in
# March and April 2026.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/fixtures/audit/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e
BOOK=E31
ADMIN=(--user e31_admin --book "$BOOK")
CLERK=(--user e31_clerk --book "$BOOK")
REV=(--user e31_rev --book "$BOOK")
BK=(--user e31_bk --book "$BOOK")
AUD=(--user e31_aud --book "$BOOK")

post() {
	"$EARMARK" "${CLERK[@]}" voucher draft "$1" --date "$2" >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" >/dev/null &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >/dev/null
}

# verify PKG [ARGS...]: earmark audit verify against the test CA, no database.
verify() {
	local pkg=$1
	shift
	env -u PGHOST -u PGDATABASE -u PGUSER "$EARMARK" audit verify "$pkg" --ca ca.pem "$@"
}

# refused PKG CHECK MESSAGE [ARGS...]: verify exits 1, its last check line
# is "FAIL CHECK: MESSAGE" and the error names the same.
refused() {
	local pkg=$1 check=$2 msg=$3
	shift 3
	test_expect_code 1 verify "$pkg" "$@" >vout 2>verr &&
	tail -1 vout >last &&
	printf "FAIL %s: %s\n" "$check" "$msg" >want &&
	test_cmp want last &&
	head -1 verr >first &&
	printf "earmark: error: %s\n" "$msg" >want &&
	test_cmp want first
}

# tamper NAME: a fresh copy of the good package unpacked into NAME/.
tamper() {
	unpack good.asice "$1"
}

# edit FILE PYTHON-EXPR: FILE's text replaced by the expression over s.
edit() {
	"$PY" -c "import re, sys; p=sys.argv[1]; s=open(p, encoding='utf-8').read(); s=$2; open(p, 'w', encoding='utf-8').write(s)" "$1"
}

test_expect_success 'setup: book E31 with four posted vouchers; a CA, a signer and the good package' '
	"$EARMARK" user add e31_admin --role admin &&
	"$EARMARK" user add e31_clerk --role clerk &&
	"$EARMARK" user add e31_rev --role reviewer &&
	"$EARMARK" user add e31_bk --role bookkeeper &&
	"$EARMARK" user add e31_aud --role auditor &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" >/dev/null &&
	for kind in bank_account fund village household project project_target project_budget \
		project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" >/dev/null || exit 1
	done &&
	post "$FIX/v_receive_zy.csv" 2026-03-02 &&
	post "$FIX/v_receive_xj.csv" 2026-03-05 &&
	post "$FIX/v_accrue_road.csv" 2026-04-10 &&
	post "$FIX/v_pay_road.csv" 2026-04-12 &&
	make_ca ca && make_signer signer ca &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-04-30 \
		--key signer.key --cert signer.pem -o good.asice >/dev/null
'

test_expect_success 'the good package passes every check, printed one per line, without a database' '
	verify good.asice --signer "$(fingerprint signer.pem)" >out 2>err &&
	! test -s err &&
	cut -c1-5 out | sort | uniq -c | sed "s/^ *//" >counts &&
	printf "1 good.\n9 ok   \n1 previ\n" >expected &&
	test_cmp expected counts &&
	sed "s/:.*//" out >checks &&
	cat >expected <<-\EOF &&
	ok   zip
	ok   signature document
	ok   references
	ok   file set
	ok   signature
	ok   signer
	ok   ledger.xml
	ok   balances.xml
	ok   control.xml
	previous package
	good.asice
	EOF
	test_cmp expected checks &&
	grep -x "ok   signer: SHA-256 fingerprint $(fingerprint signer.pem) is the pinned one" out &&
	grep -x "good.asice: package verifies" out
'

test_expect_success 'stock tools agree: the good package verifies with xmlsec1, re-signed too' '
	tamper same && resign same signer.key signer.pem ca.pem &&
	(cd same && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) 2>err && grep -x OK err &&
	repack same same.asice && verify same.asice >out
'

# --- any changed byte -------------------------------------------------------------

test_expect_success 'a changed byte in ledger.xml is refused, naming the file' '
	tamper t1 && sed -i "0,/120000.00/s//120000.01/" t1/ledger.xml && repack t1 t1.asice &&
	refused t1.asice signature "'\''ledger.xml'\'' was changed after signing: its digest does not match the signed one"
'

test_expect_success 'a changed byte in a schema is refused, naming the file' '
	tamper t2 && sed -i "s/maxLength value=\"64\"/maxLength value=\"65\"/" t2/schemas/ledger.xsd &&
	repack t2 t2.asice &&
	refused t2.asice signature "'\''schemas/ledger.xsd'\'' was changed after signing: its digest does not match the signed one"
'

test_expect_success 'a changed byte in the signed properties or the signature value is refused' '
	tamper t3 && sed -i "s/<xades:SigningTime>20/<xades:SigningTime>19/" t3/META-INF/signatures001.xml &&
	repack t3 t3.asice &&
	refused t3.asice signature "'\''#S1-SignedProperties'\'' was changed after signing: its digest does not match the signed one" &&
	tamper t4 && edit t4/META-INF/signatures001.xml "s.replace(\"SignatureValue Id=\\\"S1-Value\\\">\", \"SignatureValue Id=\\\"S1-Value\\\">AAAA\")" &&
	repack t4 t4.asice &&
	test_expect_code 1 verify t4.asice >out 2>err &&
	grep "^FAIL signature: " out
'

# --- the file set -------------------------------------------------------------------

test_expect_success 'an added file is refused' '
	tamper t5 && echo extra >t5/notes.txt && repack t5 t5.asice &&
	refused t5.asice "file set" "'\''notes.txt'\'' is in the ZIP but not signed"
'

test_expect_success 'a missing file is refused' '
	cp good.asice t6.asice && zip -q -d t6.asice balances.xml &&
	refused t6.asice "file set" "'\''balances.xml'\'' is signed but not in the ZIP"
'

test_expect_success 'a renamed file is refused' '
	tamper t7 && mv t7/balances.xml t7/balance.xml && repack t7 t7.asice &&
	refused t7.asice "file set" "'\''balances.xml'\'' is signed but not in the ZIP"
'

test_expect_success 'a duplicate ZIP entry is refused' '
	"$PY" - <<-\PY 2>/dev/null &&
	import zipfile
	src = zipfile.ZipFile("good.asice")
	with zipfile.ZipFile("t8.asice", "w") as z:
	    for i in src.infolist():
	        z.writestr(i, src.read(i))
	    z.writestr("ledger.xml", b"<x/>")
	PY
	refused t8.asice zip "duplicate ZIP entry '\''ledger.xml'\''"
'

test_expect_success 'a path that climbs out of the folder is refused' '
	"$PY" - <<-\PY 2>/dev/null &&
	import zipfile
	src = zipfile.ZipFile("good.asice")
	with zipfile.ZipFile("t9.asice", "w") as z:
	    for i in src.infolist():
	        z.writestr(i, src.read(i))
	    z.writestr("../evil.xml", b"<x/>")
	PY
	refused t9.asice zip "unsafe path '\''../evil.xml'\'' in the ZIP"
'

test_expect_success 'mimetype not first, or compressed, is refused (ASiC-E)' '
	tamper t10 && rm -f t10.asice && (cd t10 && zip -q -X -D -r ../t10.asice ledger.xml mimetype . ) &&
	refused t10.asice zip "the first ZIP entry is '\''ledger.xml'\'', not mimetype (ASiC-E)" &&
	"$PY" - <<-\PY &&
	import zipfile
	src = zipfile.ZipFile("good.asice")
	with zipfile.ZipFile("t11.asice", "w") as z:
	    for i in src.infolist():
	        z.writestr(i.filename, src.read(i), compress_type=zipfile.ZIP_DEFLATED)
	PY
	refused t11.asice zip "mimetype is compressed; ASiC-E stores it"
'

# --- what the signature may contain ----------------------------------------------------

test_expect_success 'Manifest-only coverage is refused' '
	tamper t12 &&
	"$PY" - t12/META-INF/signatures001.xml <<-\PY &&
	import re, sys
	p = sys.argv[1]; s = open(p, encoding="utf-8").read()
	refs = re.findall(r"<ds:Reference Id=\"R[0-9]\".*?</ds:Reference>\n", s, re.S)
	for r in refs:
	    s = s.replace(r, "")
	manifest = "<ds:Object><ds:Manifest Id=\"M1\">" + "".join(refs) + "</ds:Manifest></ds:Object>"
	s = s.replace("</ds:Signature>", manifest + "</ds:Signature>")
	s = s.replace("<ds:Reference Id=\"R-SP\"", "<ds:Reference URI=\"#M1\" Type=\"http://www.w3.org/2000/09/xmldsig#Manifest\"><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue></ds:DigestValue></ds:Reference>\n<ds:Reference Id=\"R-SP\"")
	open(p, "w", encoding="utf-8").write(s)
	PY
	resign t12 signer.key signer.pem ca.pem && repack t12 t12.asice &&
	refused t12.asice "signature document" "the signature has a ds:Manifest (Manifest-only coverage)"
'

test_expect_success 'a key from KeyValue is refused' '
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rogue.key 2>/dev/null &&
	tamper t13 &&
	"$PY" "$SRCDIR/tests/fixtures/audit/resign.py" t13/META-INF/signatures001.xml &&
	edit t13/META-INF/signatures001.xml "s.replace(\"<ds:X509Data></ds:X509Data>\", \"<ds:KeyValue/>\")" &&
	(cd t13 && xmlsec1 --sign --privkey-pem ../rogue.key --output META-INF/s.xml \
		META-INF/signatures001.xml 2>/dev/null && mv META-INF/s.xml META-INF/signatures001.xml) &&
	grep -q "<ds:RSAKeyValue>" t13/META-INF/signatures001.xml &&
	repack t13 t13.asice &&
	refused t13.asice "signature document" "the signature carries a key in ds:KeyValue; only an X.509 certificate chained to the CA is trusted"
'

test_expect_success 'a self-signed look-alike of the CA is refused' '
	mkdir -p fake && (cd fake && make_ca ca && make_signer signer ca ec) &&
	openssl x509 -in fake/ca.pem -noout -subject >fs && openssl x509 -in ca.pem -noout -subject >rs &&
	test_cmp rs fs &&
	tamper t14 && resign t14 fake/signer.key fake/signer.pem fake/ca.pem && repack t14 t14.asice &&
	refused t14.asice signature "the signature could not be verified: no key from a certificate that chains to the CA"
'

test_expect_success 'a CA that OpenSSL trusts by default (SSL_CERT_FILE) is not trusted: only --ca is' '
	tamper t14b && set_cert_digest t14b/META-INF/signatures001.xml fake/signer.pem &&
	resign t14b fake/signer.key fake/signer.pem fake/ca.pem && repack t14b t14b.asice &&
	env -u PGHOST "$EARMARK" audit verify t14b.asice --ca fake/ca.pem >out &&
	SSL_CERT_FILE="$TEST_TMP/fake/ca.pem" refused t14b.asice signature \
		"the signer'\''s certificate does not chain to the CA '\''ca.pem'\''" &&
	grep -x "hint: only the --ca certificate is trusted, not the system'\''s CA store nor SSL_CERT_FILE or SSL_CERT_DIR" verr
'

test_expect_success 'a signer other than the pinned one is refused; the same package passes unpinned' '
	make_signer other ca ec &&
	tamper t15 && set_cert_digest t15/META-INF/signatures001.xml other.pem &&
	resign t15 other.key other.pem ca.pem && repack t15 t15.asice &&
	verify t15.asice >out &&
	refused t15.asice signer "the package was signed by CN=other,O=平安县财政局,C=CN, not by the pinned signer" \
		--signer "$(fingerprint signer.pem)" &&
	grep -x "detail: signer'\''s SHA-256 fingerprint $(fingerprint other.pem); --signer $(fingerprint signer.pem)" verr
'

test_expect_success 'SHA-1 and MD5 digests are refused' '
	tamper t16 &&
	edit t16/META-INF/signatures001.xml "s.replace(\"<ds:Reference Id=\\\"R1\\\" URI=\\\"ledger.xml\\\"><ds:DigestMethod Algorithm=\\\"http://www.w3.org/2001/04/xmlenc#sha256\\\"/>\", \"<ds:Reference Id=\\\"R1\\\" URI=\\\"ledger.xml\\\"><ds:DigestMethod Algorithm=\\\"http://www.w3.org/2000/09/xmldsig#sha1\\\"/>\")" &&
	resign t16 signer.key signer.pem ca.pem && repack t16 t16.asice &&
	refused t16.asice references "weak or unknown algorithm '\''http://www.w3.org/2000/09/xmldsig#sha1'\'' (SHA-1) in ds:DigestMethod" &&
	tamper t17 &&
	edit t17/META-INF/signatures001.xml "s.replace(\"http://www.w3.org/2001/04/xmlenc#sha256\", \"http://www.w3.org/2001/04/xmldsig-more#md5\", 1)" &&
	repack t17 t17.asice &&
	refused t17.asice references "weak or unknown algorithm '\''http://www.w3.org/2001/04/xmldsig-more#md5'\'' (MD5) in ds:DigestMethod"
'

test_expect_success 'an RSA-SHA1 signature and an RSA key under 3072 bits are refused' '
	tamper t18 &&
	edit t18/META-INF/signatures001.xml "s.replace(\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\", \"http://www.w3.org/2000/09/xmldsig#rsa-sha1\")" &&
	resign t18 signer.key signer.pem ca.pem && repack t18 t18.asice &&
	refused t18.asice references "weak or unknown algorithm '\''http://www.w3.org/2000/09/xmldsig#rsa-sha1'\'' (SHA-1) in ds:SignatureMethod" &&
	make_signer weak ca rsa:2048 &&
	tamper t19 &&
	set_cert_digest t19/META-INF/signatures001.xml weak.pem &&
	resign t19 weak.key weak.pem ca.pem && repack t19 t19.asice &&
	refused t19.asice signature "the signer'\''s RSA key has 2048 bits; at least 3072 are required"
'

test_expect_success 'absolute, remote, escaped and climbing Reference URIs are refused' '
	for case in "/etc/passwd:is absolute or remote; only relative paths inside the package are accepted" \
		    "http\\://example.com/ledger.xml:is absolute or remote; only relative paths inside the package are accepted" \
		    "ledger%2exml:is escaped; '\''%'\'' is refused" \
		    "schemas/../ledger.xml:climbs out of the package or has unsafe characters"; do
		uri=${case%%:[a-z]*} why=${case#"$uri":} && uri=${uri//\\/} &&
		rm -rf t20 && tamper t20 &&
		edit t20/META-INF/signatures001.xml "s.replace(\"URI=\\\"ledger.xml\\\"\", \"URI=\\\"$uri\\\"\")" &&
		repack t20 t20.asice &&
		refused t20.asice references "Reference URI '\''$uri'\'' $why" || exit 1
	done
'

test_expect_success 'a DOCTYPE with entities in the signature is refused' '
	tamper t21 &&
	edit t21/META-INF/signatures001.xml "s.replace(\"?>\", \"?>\\n<!DOCTYPE x [<!ENTITY e SYSTEM \\\"file:///etc/passwd\\\">]>\", 1)" &&
	repack t21 t21.asice &&
	refused t21.asice "signature document" "the signature has a DOCTYPE; DTDs and entities are refused"
'

test_expect_success 'a DOCTYPE in a signed data file is refused' '
	tamper t22 &&
	edit t22/ledger.xml "s.replace(\"?>\", \"?>\\n<!DOCTYPE AuditFile [<!ENTITY e \\\"x\\\">]>\", 1)" &&
	resign t22 signer.key signer.pem ca.pem && repack t22 t22.asice &&
	refused t22.asice ledger.xml "ledger.xml has a DOCTYPE; DTDs and entities are refused"
'

test_expect_success 'XInclude in the signature is refused' '
	tamper t23 &&
	edit t23/META-INF/signatures001.xml "s.replace(\"</ds:Signature>\", \"<ds:Object><xi:include xmlns:xi=\\\"http://www.w3.org/2001/XInclude\\\" href=\\\"ledger.xml\\\"/></ds:Object></ds:Signature>\")" &&
	repack t23 t23.asice &&
	refused t23.asice "signature document" "the signature contains an XInclude element; refused"
'

test_expect_success 'two signatures are refused: in one file, or as a second file' '
	tamper t24 &&
	"$PY" - t24/META-INF/signatures001.xml <<-\PY &&
	import re, sys
	p = sys.argv[1]; s = open(p, encoding="utf-8").read()
	sig = re.search(r"<ds:Signature .*</ds:Signature>", s, re.S).group(0)
	s = s.replace("</asic:XAdESSignatures>", sig.replace("Id=\"", "Id=\"X").replace("#S1", "#XS1") + "</asic:XAdESSignatures>")
	open(p, "w", encoding="utf-8").write(s)
	PY
	repack t24 t24.asice &&
	refused t24.asice "signature document" "the package has 2 signatures; exactly one is accepted" &&
	tamper t25 && cp t25/META-INF/signatures001.xml t25/META-INF/signatures002.xml && repack t25 t25.asice &&
	refused t25.asice "signature document" "more than one signature: '\''META-INF/signatures002.xml'\'' besides META-INF/signatures001.xml"
'

test_expect_success 'duplicate Ids are refused' '
	tamper t26 &&
	edit t26/META-INF/signatures001.xml "s.replace(\"<ds:KeyInfo>\", \"<ds:KeyInfo Id=\\\"R1\\\">\")" &&
	repack t26 t26.asice &&
	refused t26.asice "signature document" "duplicate Id '\''R1'\'' in the signature"
'

# --- signed but wrong: re-signed with the signer's own key -------------------------------

test_expect_success 'a control total that does not match the ledger is refused' '
	tamper t27 &&
	edit t27/control.xml "s.replace(\"<TotalDebit>5540000.00</TotalDebit>\", \"<TotalDebit>5540001.00</TotalDebit>\")" &&
	resign t27 signer.key signer.pem ca.pem && repack t27 t27.asice &&
	refused t27.asice control.xml "control.xml: TotalDebit 5540001.00 does not match ledger.xml'\''s 5540000.00"
'

test_expect_success 'an unbalanced voucher is refused (D1)' '
	tamper t28 &&
	edit t28/ledger.xml "re.sub(r\"(<Side>D</Side>\\s*<Amount>)300000.00\", r\"\\g<1>300001.00\", s, count=1)" &&
	resign t28 signer.key signer.pem ca.pem && repack t28 t28.asice &&
	refused t28.asice ledger.xml "ledger.xml: voucher 记-2026-03-0002 does not balance (D1)" &&
	grep -x "detail: debit 300001.00, credit 300000.00" verr
'

test_expect_success 'an unknown account or fund is refused' '
	tamper t29 &&
	edit t29/ledger.xml "s.replace(\"<Account>4001</Account>\", \"<Account>4009</Account>\", 1)" &&
	resign t29 signer.key signer.pem ca.pem && repack t29 t29.asice &&
	refused t29.asice ledger.xml "ledger.xml: voucher 记-2026-03-0001 line 2 names an unknown account '\''4009'\''" &&
	tamper t30 &&
	edit t30/ledger.xml "s.replace(\"<Fund>XJ2026-01</Fund>\", \"<Fund>XJ2026-99</Fund>\")" &&
	resign t30 signer.key signer.pem ca.pem && repack t30 t30.asice &&
	refused t30.asice ledger.xml "ledger.xml: voucher 记-2026-03-0002 line 1 names an unknown fund '\''XJ2026-99'\''"
'

test_expect_success 'balances that do not roll are refused' '
	tamper t31 &&
	"$PY" - t31/balances.xml <<-\PY &&
	import re, sys
	p = sys.argv[1]; s = open(p, encoding="utf-8").read()
	s = re.sub(r"(<Account>1002</Account>\s*<Fund>ZY2026-01</Fund>.*?<Closing>)4880000.00", r"\g<1>4880100.00", s, count=1, flags=re.S)
	open(p, "w", encoding="utf-8").write(s)
	PY
	resign t31 signer.key signer.pem ca.pem && repack t31 t31.asice &&
	refused t31.asice balances.xml "balances.xml: the balance of account 1002, fund ZY2026-01 does not roll" &&
	grep -x "detail: opening 0.00 + debit 5000000.00 - credit 120000.00 is 4880000.00; closing says 4880100.00" verr
'

test_expect_success 'a broken hash chain is refused (D8), naming the voucher' '
	tamper t32 &&
	edit t32/ledger.xml "s.replace(\"<Memo>收到县级衔接资金</Memo>\", \"<Memo>收到县级衔接资金（补）</Memo>\", 1)" &&
	resign t32 signer.key signer.pem ca.pem && repack t32 t32.asice &&
	refused t32.asice ledger.xml "hash chain broken at voucher 记-2026-03-0002 (D8)"
'

test_expect_success 'a chain head or checkpoint that is not the ledger'\''s is refused (D8)' '
	tamper t33 &&
	"$PY" - t33/control.xml <<-\PY &&
	import re, sys
	p = sys.argv[1]; s = open(p, encoding="utf-8").read()
	# the first digit of the head changed (to f, or to 0 when it is f already)
	s = re.sub(r"(<ChainHead>\s*<Seq>[0-9]+</Seq>\s*<Hash>)([0-9a-f])",
	           lambda m: m.group(1) + ("0" if m.group(2) == "f" else "f"), s, count=1)
	open(p, "w", encoding="utf-8").write(s)
	PY
	resign t33 signer.key signer.pem ca.pem && repack t33 t33.asice &&
	refused t33.asice control.xml "hash chain broken: control.xml'\''s chain head does not match ledger.xml (D8)" &&
	tamper t34 &&
	edit t34/control.xml "re.sub(r\"(<Month>2026-04</Month>\\s*<Seq>)4<\", r\"\\g<1>3<\", s)" &&
	grep -q "<Seq>3</Seq>" t34/control.xml &&
	resign t34 signer.key signer.pem ca.pem && repack t34 t34.asice &&
	refused t34.asice control.xml "hash chain broken: checkpoint 2026-04 (chain position 3) is not the month'\''s last voucher in ledger.xml (D8)"
'

test_expect_success 'signed files out of package order are refused: the checks read ledger.xml first' '
	tamper t35 &&
	edit t35/META-INF/signatures001.xml "re.sub(r\"(<ds:Reference Id=.R1.*?</ds:Reference>\\n)(<ds:Reference Id=.R2.*?</ds:Reference>\\n)\", lambda m: m.group(2) + m.group(1), s, flags=re.S)" &&
	grep -A1 "<ds:Reference Id=\"R2\"" t35/META-INF/signatures001.xml | grep -q "Id=\"R1\"" &&
	resign t35 signer.key signer.pem ca.pem && repack t35 t35.asice &&
	refused t35.asice "file set" "the signed files are not in package order: reference 1 is not '\''ledger.xml'\''"
'

test_expect_success 'stock xmlsec1 accepts a re-signed wrong package: only earmark'\''s content checks catch it' '
	(cd t32 && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) 2>err && grep -x OK err
'

test_expect_success 'a file that is not a package, and a CA that did not issue the signer' '
	echo "not a zip" >junk.asice &&
	test_expect_code 1 verify junk.asice >out 2>err &&
	grep "^FAIL zip: could not open '\''junk.asice'\'' as a ZIP" out &&
	make_ca ca2 &&
	test_expect_code 1 env -u PGHOST "$EARMARK" audit verify good.asice --ca ca2.pem >out 2>err &&
	grep "^FAIL signature: the signature could not be verified" out
'

test_done
