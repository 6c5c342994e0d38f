#!/usr/bin/env bash
# Signed audit packages (DESIGN section 6, issue 5): `earmark audit export`
# writes an ASiC-E ZIP with mimetype first and stored, ledger.xml,
# balances.xml, control.xml, the schemas and META-INF/signatures001.xml.
# The package verifies with stock tools: unzip, xmlsec1 --verify with the
# test CA and only X.509 key data (run in the unpacked folder: the
# References are relative paths), and xmllint against the package's own
# schemas; the totals in control.xml recompute from ledger.xml; ID numbers
# and bank cards are masked (H4).  A byte flipped makes xmlsec1 refuse.
# Packages form a chain: the second names the first one's signature digest
# (X1), which the database records.  Only an auditor exports; a weak key is
# refused; an encrypted key opens with EARMARK_KEY_PASSPHRASE.
#
# Book E30 (the e2e fixtures): ZY2026-01 and XJ2026-01 received in March,
# P2026-001's first progress payment accrued and paid in April; a later
# voucher in May extends the ledger for the second package.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/fixtures/audit/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e
BOOK=E30
ADMIN=(--user e30_admin --book "$BOOK")
CLERK=(--user e30_clerk --book "$BOOK")
REV=(--user e30_rev --book "$BOOK")
BK=(--user e30_bk --book "$BOOK")
AUD=(--user e30_aud --book "$BOOK")

# post FILE DATE: a voucher drafted, reviewed and posted.
post() {
	"$EARMARK" "${CLERK[@]}" voucher draft "$1" --date "$2" >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" >/dev/null &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >/dev/null
}

test_expect_success 'setup: people, book E30, master data, four posted vouchers; a CA and a signer' '
	"$EARMARK" user add e30_admin --role admin &&
	"$EARMARK" user add e30_clerk --role clerk &&
	"$EARMARK" user add e30_rev --role reviewer &&
	"$EARMARK" user add e30_bk --role bookkeeper &&
	"$EARMARK" user add e30_aud --role auditor &&
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
	make_ca ca && make_signer signer ca
'

test_expect_success 'audit export writes the package and says what is in it' '
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-04-30 \
		--key signer.key --cert signer.pem -o p1.asice >out 2>err &&
	# the test key is plain: stderr holds only the warning (e2e/82 has it whole)
	! grep -v -e "^earmark: warning: signing key '\''signer.key'\'' is not encrypted" -e "^hint: encrypt it" err &&
	head -1 out >first &&
	echo "p1.asice: audit package no. 1 of book '\''E30'\'', 2026-03-01 to 2026-04-30: 4 vouchers, 8 lines" >expected &&
	test_cmp expected first &&
	sed -n 3p out >third &&
	echo "previous package none (the first)" >expected &&
	test_cmp expected third &&
	ls -a >files &&
	! grep -v -x -e . -e .. -e "\..*" -e ca.key -e ca.pem -e ca.srl -e "signer\..*" -e p1.asice \
		-e out -e err -e first -e expected -e third -e files -e ref files
'

test_expect_success 'the ZIP: mimetype first and stored, then exactly the signed files' '
	unzip -Z1 p1.asice >names &&
	cat >expected <<-\EOF &&
	mimetype
	ledger.xml
	balances.xml
	control.xml
	schemas/ledger.xsd
	schemas/balances.xsd
	schemas/control.xsd
	META-INF/signatures001.xml
	EOF
	test_cmp expected names &&
	unzip -Zv p1.asice mimetype >info &&
	grep "compression method:.*none (stored)" info &&
	unzip -p p1.asice mimetype >mt &&
	printf "application/vnd.etsi.asic-e+zip" >expected &&
	test_cmp expected mt
'

test_expect_success 'stock xmlsec1 verifies the package with the CA and X.509 key data only' '
	unpack p1.asice u1 &&
	(cd u1 && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) >out 2>err &&
	grep -x "OK" err
'

test_expect_success 'stock xmlsec1 refuses the package with one byte of ledger.xml changed' '
	unpack p1.asice u2 &&
	sed -i "0,/120000.00/s//120000.01/" u2/ledger.xml &&
	! cmp -s u1/ledger.xml u2/ledger.xml &&
	(cd u2 && test_must_fail xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) >out 2>err &&
	grep -x "FAIL" err
'

test_expect_success 'stock xmlsec1 refuses the package with another CA' '
	make_ca other &&
	(cd u1 && test_must_fail xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../other.pem \
		META-INF/signatures001.xml) >out 2>err
'

test_expect_success 'the XML files validate, streaming, against the package'\''s own schemas' '
	(cd u1 &&
	 xmllint --stream --nonet --noout --schema schemas/ledger.xsd ledger.xml &&
	 xmllint --stream --nonet --noout --schema schemas/balances.xsd balances.xml &&
	 xmllint --stream --nonet --noout --schema schemas/control.xsd control.xml) &&
	! grep -l "xs:unique\|xs:key" u1/schemas/*.xsd
'

test_expect_success 'the signature: exclusive C14N, RSA-SHA256, one Reference per file, XAdES signed properties' '
	S=u1/META-INF/signatures001.xml &&
	xmllint --xpath "string(//*[local-name()=\"CanonicalizationMethod\"]/@Algorithm)" $S >actual &&
	echo "http://www.w3.org/2001/10/xml-exc-c14n#" >expected && test_cmp expected actual &&
	xmllint --xpath "string(//*[local-name()=\"SignatureMethod\"]/@Algorithm)" $S >actual &&
	echo "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" >expected && test_cmp expected actual &&
	xmllint --xpath "//*[local-name()=\"Reference\"]/@URI" $S >actual &&
	cat >expected <<-\EOF &&
	 URI="ledger.xml"
	 URI="balances.xml"
	 URI="control.xml"
	 URI="schemas/ledger.xsd"
	 URI="schemas/balances.xsd"
	 URI="schemas/control.xsd"
	 URI="#S1-SignedProperties"
	EOF
	test_cmp expected actual &&
	for f in ledger.xml balances.xml control.xml schemas/ledger.xsd; do
		xmllint --xpath "string(//*[local-name()=\"Reference\"][@URI=\"$f\"]/*[local-name()=\"DigestValue\"])" $S >actual &&
		openssl dgst -sha256 -binary u1/$f | base64 >expected &&
		test_cmp expected actual || exit 1
	done &&
	xmllint --xpath "count(//*[local-name()=\"X509Certificate\"])" $S >actual &&
	echo 1 >expected && test_cmp expected actual &&
	xmllint --xpath "string(//*[local-name()=\"SigningCertificate\"]//*[local-name()=\"DigestValue\"])" $S >actual &&
	openssl x509 -in signer.pem -outform DER | openssl dgst -sha256 -binary | base64 >expected &&
	test_cmp expected actual &&
	xmllint --xpath "string(//*[local-name()=\"SigningTime\"])" $S >actual &&
	grep -x "20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z" actual
'

# x FILE XPATH-IN-EARMARK-NS: the string value of an XPath in the package's namespace.
x() {
	xmllint --xpath "string($2)" "$1"
}

test_expect_success 'control.xml totals recompute from ledger.xml, and agree with the database' '
	L=u1/ledger.xml C=u1/control.xml &&
	N="*[local-name()" &&
	xmllint --xpath "count(//$N=\"Transaction\"])" $L >actual &&
	x $C "//$N=\"LedgerFile\"]/$N=\"NumberOfEntries\"]" >expected && test_cmp expected actual &&
	echo 4 >literal && test_cmp literal actual &&
	xmllint --xpath "count(//$N=\"Line\"])" $L >actual &&
	x $C "//$N=\"NumberOfLines\"]" >expected && test_cmp expected actual &&
	xmllint --xpath "//$N=\"Line\"][$N=\"Side\"]=\"D\"]/$N=\"Amount\"]/text()" $L >amounts &&
	tr -d . <amounts | awk "{ s += \$1 } END { printf \"%d.%02d\\n\", s / 100, s % 100 }" >actual &&
	echo 5540000.00 >expected && test_cmp expected actual &&
	x $C "//$N=\"LedgerFile\"]/$N=\"TotalDebit\"]" >actual &&
	test_cmp expected actual &&
	x $L "//$N=\"GeneralLedgerEntries\"]/$N=\"TotalCredit\"]" >actual &&
	test_cmp expected actual &&
	x $C "//$N=\"ChainHead\"]/$N=\"Hash\"]" >actual &&
	test_psql -c "SELECT encode(hash, '\''hex'\'') FROM earmark.chain_head" >expected &&
	test_cmp expected actual &&
	x $C "//$N=\"ChainHead\"]/$N=\"Hash\"]" >actual &&
	x $L "//$N=\"Transaction\"][last()]/$N=\"ChainHash\"]" >expected &&
	test_cmp expected actual &&
	xmllint --xpath "count(//$N=\"PreviousSignatureDigest\"])" $C >actual &&
	echo 0 >expected && test_cmp expected actual
'

test_expect_success 'balances roll: closing = opening + debit - credit, movements as in the ledger' '
	B=u1/balances.xml N="*[local-name()" &&
	x $B "//$N=\"Balance\"][$N=\"Account\"]=\"1002\" and $N=\"Fund\"]=\"ZY2026-01\"]/$N=\"Closing\"]" >actual &&
	echo 4880000.00 >expected && test_cmp expected actual &&
	x $B "//$N=\"Balance\"][$N=\"Account\"]=\"2302\" and $N=\"Fund\"]=\"ZY2026-01\"]/$N=\"Closing\"]" >actual &&
	echo 0.00 >expected && test_cmp expected actual
'

test_expect_success 'personal data is masked in the package (H4)' '
	N="*[local-name()" &&
	x u1/ledger.xml "//$N=\"Household\"][$N=\"Code\"]=\"H0001\"]/$N=\"IDNumber\"]" >actual &&
	echo "610826********351X" >expected && test_cmp expected actual &&
	x u1/ledger.xml "//$N=\"Household\"][$N=\"Code\"]=\"H0001\"]/$N=\"BankCard\"]" >actual &&
	echo "****0018" >expected && test_cmp expected actual &&
	x u1/ledger.xml "//$N=\"Household\"][$N=\"Code\"]=\"H0001\"]/$N=\"HeadName\"]" >actual &&
	echo "王*国" >expected && test_cmp expected actual &&
	! grep -r -e 61082619680315351X -e 6228480402564890018 -e 王建国 u1
'

test_expect_success 'the ledger is extended; the next package names the first one'\''s signature digest (X1)' '
	post "$FIX/v_accrue_road.csv" 2026-05-06 &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-05-01 --to 2026-05-31 \
		--key signer.key --cert signer.pem -o p2.asice >out &&
	unzip -p p1.asice META-INF/signatures001.xml | sha256sum | cut -d" " -f1 >expected &&
	echo "previous package $(cat expected)" >line && sed -n 3p out >actual && test_cmp line actual &&
	unpack p2.asice u3 &&
	x u3/control.xml "//*[local-name()=\"PreviousSignatureDigest\"]" >actual &&
	test_cmp expected actual &&
	test_psql -c "SELECT package_no, encode(signature_digest, '\''hex'\'') FROM earmark.audit_package ORDER BY 1" >actual &&
	unzip -p p2.asice META-INF/signatures001.xml | sha256sum | cut -d" " -f1 >d2 &&
	printf "1|%s\n2|%s\n" "$(cat expected)" "$(cat d2)" >expected2 &&
	test_cmp expected2 actual &&
	(cd u3 && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) 2>err && grep -x OK err
'

test_expect_success 'recorded packages cannot be changed, and a package must name the last one (X1)' '
	test_must_fail test_psql -c "DELETE FROM earmark.audit_package" 2>err &&
	test_psql -c "SELECT count(*) FROM earmark.audit_package" >actual &&
	echo 2 >expected && test_cmp expected actual
'

test_expect_success 'only an auditor exports; nothing is written for the clerk' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" audit export --from 2026-03-01 --to 2026-04-30 \
		--key signer.key --cert signer.pem -o clerk.asice 2>err &&
	grep -x "earmark: error: '\''e30_clerk'\'' may not run '\''audit export'\'': it needs the auditor role" err &&
	! test -e clerk.asice &&
	ls clerk.asice* 2>/dev/null >left || true &&
	! test -s left
'

test_expect_success 'a backwards period or a bad date is a usage error' '
	test_expect_code 2 "$EARMARK" "${AUD[@]}" audit export --from 2026-04-30 --to 2026-03-01 \
		--key signer.key --cert signer.pem -o back.asice 2>err &&
	echo "earmark: error: the period runs from 2026-04-30 to 2026-03-01, which is backwards" >expected &&
	test_cmp expected err &&
	test_expect_code 2 "$EARMARK" "${AUD[@]}" audit export --from 2026-02-30 --to 2026-03-01 \
		--key signer.key --cert signer.pem -o back.asice 2>err &&
	grep "^earmark: error: .*--from" err &&
	! test -e back.asice
'

test_expect_success 'an RSA key under 3072 bits is refused before anything is written' '
	make_signer weak ca rsa:2048 &&
	test_expect_code 1 "$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-04-30 \
		--key weak.key --cert weak.pem -o weak.asice 2>err &&
	echo "earmark: error: the signing key is RSA with 2048 bits; at least 3072 are needed" >expected &&
	head -1 err >actual && test_cmp expected actual &&
	! test -e weak.asice
'

test_expect_success 'a key that is not the certificate'\''s is refused' '
	test_expect_code 1 "$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-04-30 \
		--key ca.key --cert signer.pem -o wrong.asice 2>err &&
	echo "earmark: error: the signing key does not belong to certificate '\''signer.pem'\''" >expected &&
	test_cmp expected err &&
	! test -e wrong.asice
'

test_expect_success 'an encrypted key opens with EARMARK_KEY_PASSPHRASE, which is never printed' '
	openssl pkey -in signer.key -aes256 -passout pass:s3cret-pw -out enc.key &&
	test_expect_code 1 env EARMARK_KEY_PASSPHRASE=wrong "$EARMARK" "${AUD[@]}" audit export \
		--from 2026-05-01 --to 2026-05-31 --key enc.key --cert signer.pem -o enc.asice 2>err </dev/null &&
	grep -x "earmark: error: could not read private key '\''enc.key'\''" err &&
	! test -e enc.asice &&
	EARMARK_KEY_PASSPHRASE=s3cret-pw "$EARMARK" "${AUD[@]}" audit export \
		--from 2026-05-01 --to 2026-05-31 --key enc.key --cert signer.pem -o enc.asice >out 2>err &&
	! grep -r s3cret-pw out err &&
	unpack enc.asice u4 &&
	(cd u4 && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) 2>err && grep -x OK err
'

test_expect_success 'ECDSA P-256 signs too, and stock xmlsec1 verifies it' '
	make_signer ecsig ca ec &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-05-31 \
		--key ecsig.key --cert ecsig.pem -o ec.asice >out &&
	unpack ec.asice u5 &&
	x u5/META-INF/signatures001.xml "//*[local-name()=\"SignatureMethod\"]/@Algorithm" >actual &&
	echo "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" >expected && test_cmp expected actual &&
	(cd u5 && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) 2>err && grep -x OK err
'

test_expect_success '--chain puts the intermediate CA into KeyInfo; the root CA alone verifies' '
	make_sub_ca sub ca && make_signer subsig sub ec &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-05-31 \
		--key subsig.key --cert subsig.pem --chain sub.pem -o chain.asice >out &&
	unpack chain.asice u6 &&
	xmllint --xpath "count(//*[local-name()=\"X509Certificate\"])" u6/META-INF/signatures001.xml >actual &&
	echo 2 >expected && test_cmp expected actual &&
	(cd u6 && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) 2>err && grep -x OK err &&
	env -u PGHOST "$EARMARK" audit verify chain.asice --ca ca.pem >out &&
	grep "^ok   signature: valid; signed by CN=subsig,.*ECDSA-SHA256, 256 bits$" out
'

test_expect_success 'text XML escapes round-trips: the ledger escapes text as libxml2 does, the chain recomputes' '
	cat >v_esc.csv <<-\EOF &&
	account,side,amount,fund,project,village,household,bank_account,category,memo
	1002,D,1.00,ZY2026-01,,,,622848001122334455,,"A&B <c> ""d"" \ e"
	4001,C,1.00,ZY2026-01,,,,,,x>y
	EOF
	post v_esc.csv 2026-06-03 &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-06-01 --to 2026-06-30 \
		--key signer.key --cert signer.pem -o esc.asice >out &&
	unpack esc.asice u7 &&
	N="*[local-name()" &&
	grep -o -F -e "<Memo>A&amp;B &lt;c&gt; &quot;d&quot; \\ e</Memo></Line>" \
		-e "<Memo>x&gt;y</Memo></Line>" u7/ledger.xml >actual &&
	cat >expected <<-\EOF &&
	<Memo>A&amp;B &lt;c&gt; &quot;d&quot; \ e</Memo></Line>
	<Memo>x&gt;y</Memo></Line>
	EOF
	test_cmp expected actual &&
	x u7/ledger.xml "//$N=\"Line\"][$N=\"LineNo\"]=\"1\"]/$N=\"Memo\"]" >actual &&
	echo "A&B <c> \"d\" \\ e" >expected && test_cmp expected actual &&
	xmllint --stream --noout --nonet --schema u7/schemas/ledger.xsd u7/ledger.xml &&
	(cd u7 && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) 2>err && grep -x OK err &&
	env -u PGHOST "$EARMARK" audit verify esc.asice --ca ca.pem >out &&
	grep -x "ok   ledger.xml: valid, as signed; 1 vouchers balance in total and per fund (D1, D2), accounts, funds and dimensions known, hash chain recomputes (D8)" out
'

test_expect_success 'memos of any length: a voucher and a line memo of 400 bytes verify, in earmark and in xmlsec1' '
	long=$(printf "专项资金%.0s" $(seq 1 34)) &&
	test "$(printf %s "$long" | wc -c)" -gt 255 &&
	cat >v_long.csv <<-EOF &&
	account,side,amount,fund,project,village,household,bank_account,category,memo
	1002,D,2.00,ZY2026-01,,,,622848001122334455,,$long
	4001,C,2.00,ZY2026-01,,,,,,x
	EOF
	"$EARMARK" "${CLERK[@]}" voucher draft v_long.csv --date 2026-06-04 --memo "$long" >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" >/dev/null &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >/dev/null &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-06-04 --to 2026-06-04 \
		--key signer.key --cert signer.pem -o long.asice >out &&
	unpack long.asice u7l &&
	test "$(grep -c -F "<Memo>$long</Memo>" u7l/ledger.xml)" = 2 &&
	(cd u7l && xmlsec1 --verify --enabled-key-data x509 --trusted-pem ../ca.pem \
		META-INF/signatures001.xml) 2>err && grep -x OK err &&
	env -u PGHOST "$EARMARK" audit verify long.asice --ca ca.pem >out &&
	grep "^ok   ledger.xml: valid, as signed; 1 vouchers balance" out &&
	grep "hash chain recomputes (D8)" out
'

# balances FILE: the rows of a balances.xml, one a line: account|fund|opening|debit|credit|closing.
balances() {
	awk -F '[<>]' '/<Balance>/ { r = "" } /<(Account|Fund|Opening|Debit|Credit)>/ { r = r $3 "|" }
		/<Closing>/ { print r $3 }' "$1"
}

# lines_balances FROM TO: the same rows summed from the posted lines themselves.
lines_balances() {
	test_psql -v from="$1" -v to="$2" <<-\EOF
	SELECT a.code || '|' || f.code || '|'
	       || to_char(COALESCE(sum(CASE WHEN l.side = 'D' THEN l.amount_fen ELSE -l.amount_fen END)
	                           FILTER (WHERE v.voucher_date < :'from'), 0) / 100.0, 'FM999999999999990.00') || '|'
	       || to_char(COALESCE(sum(l.amount_fen) FILTER (WHERE v.voucher_date >= :'from' AND l.side = 'D'), 0)
	                  / 100.0, 'FM999999999999990.00') || '|'
	       || to_char(COALESCE(sum(l.amount_fen) FILTER (WHERE v.voucher_date >= :'from' AND l.side = 'C'), 0)
	                  / 100.0, 'FM999999999999990.00') || '|'
	       || to_char(sum(CASE WHEN l.side = 'D' THEN l.amount_fen ELSE -l.amount_fen END) / 100.0,
	                  'FM999999999999990.00')
	  FROM earmark.line l
	  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
	  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	  JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
	 WHERE v.status = 'posted' AND v.voucher_date <= :'to'
	 GROUP BY a.code, f.code ORDER BY a.code, f.code
	EOF
}

test_expect_success 'balances.xml from the kept totals equals the lines summed, for periods that start and end inside months' '
	for period in "2026-03-04 2026-04-11" "2026-03-03 2026-05-31" "2026-04-01 2026-06-03" \
		"2026-03-02 2026-03-02" "2026-04-11 2026-05-05"; do
		set -- $period &&
		"$EARMARK" "${AUD[@]}" audit export --from "$1" --to "$2" \
			--key signer.key --cert signer.pem -o "k$1.asice" >out &&
		unzip -p "k$1.asice" balances.xml >b.xml &&
		balances b.xml >actual &&
		lines_balances "$1" "$2" >expected &&
		test -s expected &&
		test_cmp expected actual || exit 1
	done &&
	grep -c . actual >n && test "$(cat n)" -gt 3
'

test_expect_success 'kept totals that disagree with the lines fail the export, naming the account and fund; nothing is written' '
	test_psql -c "UPDATE earmark.day_balance d SET debit_fen = debit_fen + 1
	              FROM earmark.account a, earmark.fund f
	             WHERE a.book_id = d.book_id AND a.account_id = d.account_id AND a.code = '\''1002'\''
	               AND f.book_id = d.book_id AND f.fund_id = d.fund_id AND f.code = '\''ZY2026-01'\''
	               AND d.day = '\''2026-03-02'\''" &&
	test_expect_code 1 "$EARMARK" "${AUD[@]}" audit export --from 2026-03-02 --to 2026-03-20 \
		--key signer.key --cert signer.pem -o bad.asice 2>err &&
	head -1 err >actual &&
	echo "earmark: error: the kept totals of account 1002, fund ZY2026-01 disagree with the period'\''s lines" >expected &&
	test_cmp expected actual &&
	grep "kept: 1 lines, debit 500000001 fen" err &&
	! test -e bad.asice && ! ls bad.asice.* 2>/dev/null &&
	test_psql -c "UPDATE earmark.day_balance d SET debit_fen = debit_fen - 1
	              FROM earmark.account a, earmark.fund f
	             WHERE a.book_id = d.book_id AND a.account_id = d.account_id AND a.code = '\''1002'\''
	               AND f.book_id = d.book_id AND f.fund_id = d.fund_id AND f.code = '\''ZY2026-01'\''
	               AND d.day = '\''2026-03-02'\''" &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-02 --to 2026-03-20 \
		--key signer.key --cert signer.pem -o good.asice >out &&
	test_psql -c "UPDATE earmark.period_balance p SET credit_fen = credit_fen + 7
	              FROM earmark.account a
	             WHERE a.book_id = p.book_id AND a.account_id = p.account_id AND a.code = '\''4001'\''
	               AND p.month = '\''2026-03-01'\''" &&
	test_expect_code 1 "$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-03-31 \
		--key signer.key --cert signer.pem -o bad2.asice 2>err &&
	grep "^earmark: error: the kept totals of account 4001, fund .* disagree with the period'\''s lines$" err &&
	! test -e bad2.asice &&
	test_psql -c "UPDATE earmark.period_balance p SET credit_fen = credit_fen - 7
	              FROM earmark.account a
	             WHERE a.book_id = p.book_id AND a.account_id = p.account_id AND a.code = '\''4001'\''
	               AND p.month = '\''2026-03-01'\''" &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-03-31 \
		--key signer.key --cert signer.pem -o good2.asice >out
'

test_expect_success 'with no second connection to be had the export reads its entries on its one connection: the same ledger' '
	test_psql -c "ALTER ROLE e30_aud CONNECTION LIMIT 1" &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-06-30 \
		--key signer.key --cert signer.pem -o one.asice >out &&
	test_psql -c "ALTER ROLE e30_aud CONNECTION LIMIT -1" &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-06-30 \
		--key signer.key --cert signer.pem -o two.asice >out &&
	unzip -p one.asice ledger.xml | grep -v "<DateCreated>" >l1 &&
	unzip -p two.asice ledger.xml | grep -v "<DateCreated>" >l2 &&
	test_cmp l1 l2 &&
	grep -c "<Transaction>" l1 >n && test "$(cat n)" -ge 6 &&
	env -u PGHOST "$EARMARK" audit verify one.asice --ca ca.pem >out &&
	grep -x "one.asice: package verifies" out
'

test_expect_success 'entries follow the chain, not the dates or the drafting; a link outside the period is named; lines by number (D8)' '
	cat >v_ord.csv <<-\EOF &&
	account,side,amount,fund,project,village,household,bank_account,category,memo
	1002,D,3.00,ZY2026-01,,,,622848001122334455,,first
	4001,C,1.00,ZY2026-01,,,,,,second
	4001,C,2.00,ZY2026-01,,,,,,third
	EOF
	# drafted A (Jul 20) then B (Jul 10), posted B then A, then C (Jul 5) drafted and posted:
	# the chain is B, A, C; the dates C, B, A; the drafts (voucher ids) A, B, C
	"$EARMARK" "${CLERK[@]}" voucher draft v_ord.csv --date 2026-07-20 >refA &&
	"$EARMARK" "${CLERK[@]}" voucher draft v_ord.csv --date 2026-07-10 >refB &&
	for r in refB refA; do
		"$EARMARK" "${REV[@]}" voucher review "$(cat $r)" >/dev/null &&
		"$EARMARK" "${BK[@]}" voucher post "$(cat $r)" >/dev/null || exit 1
	done &&
	post v_ord.csv 2026-07-05 &&
	test_psql -c "SELECT number_text FROM earmark.voucher WHERE status = '\''posted'\''
	              AND voucher_date >= '\''2026-07-01'\'' ORDER BY chain_seq" >expected &&
	test_psql -c "SELECT number_text FROM earmark.voucher WHERE status = '\''posted'\''
	              AND voucher_date >= '\''2026-07-01'\'' ORDER BY voucher_date" >by_date &&
	test_psql -c "SELECT number_text FROM earmark.voucher WHERE status = '\''posted'\''
	              AND voucher_date >= '\''2026-07-01'\'' ORDER BY voucher_id" >by_draft &&
	! cmp -s expected by_date && ! cmp -s expected by_draft && ! cmp -s by_date by_draft &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-07-01 --to 2026-07-31 \
		--key signer.key --cert signer.pem -o ord.asice >out &&
	unpack ord.asice u8 &&
	N="*[local-name()" &&
	xmllint --xpath "//$N=\"Transaction\"]/$N=\"Number\"]/text()" u8/ledger.xml >actual &&
	test_cmp expected actual &&
	for i in 1 2 3; do
		xmllint --xpath "//$N=\"Transaction\"][$i]/$N=\"Line\"]/$N=\"LineNo\"]/text()" \
			u8/ledger.xml >actual &&
		printf "1\n2\n3\n" >expected && test_cmp expected actual || exit 1
	done &&
	# one voucher header, and one ledger line, to a line of text
	grep -c "^    <Transaction><ChainSeq>[0-9]*</ChainSeq>.*</ChainHash>\$" u8/ledger.xml >actual &&
	echo 3 >expected && test_cmp expected actual &&
	grep -c "^      <Line><LineNo>[0-9]*</LineNo>.*</Memo></Line>\$" u8/ledger.xml >actual &&
	echo 9 >expected && test_cmp expected actual &&
	env -u PGHOST "$EARMARK" audit verify ord.asice --ca ca.pem >out &&
	grep -x "ok   ledger.xml: valid, as signed; 3 vouchers balance in total and per fund (D1, D2), accounts, funds and dimensions known, hash chain recomputes (D8)" out &&
	# Jul 1 to 15 holds C and B but not A, the link between them: C names A as its ChainPrev
	"$EARMARK" "${AUD[@]}" audit export --from 2026-07-01 --to 2026-07-15 \
		--key signer.key --cert signer.pem -o gap.asice >out &&
	unpack gap.asice u9 &&
	x u9/ledger.xml "//$N=\"Transaction\"][$N=\"Date\"]=\"2026-07-05\"]/$N=\"ChainPrev\"]" >actual &&
	test_psql -c "SELECT encode(chain_hash, '\''hex'\'') FROM earmark.voucher
	              WHERE voucher_date = '\''2026-07-20'\'' AND status = '\''posted'\''" >expected &&
	test_cmp expected actual &&
	env -u PGHOST "$EARMARK" audit verify gap.asice --ca ca.pem >out &&
	grep -x "gap.asice: package verifies" out
'

test_expect_success 'an auditor who sees only some townships is refused at the start: a package is the whole book (T1)' '
	"$EARMARK" --book "$BOOK" user add e30_tclerk --role clerk --township 610826101 >out &&
	test_psql -c "GRANT earmark_auditor TO e30_tclerk" &&
	test_psql -c "SELECT count(*) FROM earmark.audit_package" >before &&
	test_expect_code 1 "$EARMARK" --user e30_tclerk --book "$BOOK" audit export \
		--from 2026-03-01 --to 2026-04-30 --key signer.key --cert signer.pem -o scoped.asice 2>err &&
	grep -q "^earmark: error: an audit package covers the whole book, and '\''e30_tclerk'\'' sees only some townships of book '\''E30'\'' (township scope)$" err &&
	grep -q "earmark user scope e30_tclerk --county" err &&
	test ! -e scoped.asice &&
	test_psql -c "SELECT count(*) FROM earmark.audit_package" >after &&
	test_cmp before after
'

test_done
