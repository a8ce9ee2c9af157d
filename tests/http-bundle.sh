#!/bin/bash
# http-bundle.sh: batch and transaction Bundles (POST [base]): processing
# order, urn:uuid identities and reference rewriting, conditional
# references and creates, all-or-nothing transactions, per-entry batch
# results, the entry limit.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server "max_entries = 600"
CT='Content-Type: application/fhir+json'

post_bundle() { req POST "" -H "$CT" --data-binary "@$1" "${@:2}"; }

# A transaction: Patient and Observation by urn:uuid, a conditional
# reference to an example Organization, a conditional create that
# matches, a DELETE and a GET of the deleted resource's type.
cat > "$TMP/t1.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:0b7e6f8a-0000-4000-8000-000000000001",
  "resource":{"resourceType":"Patient","identifier":[{"system":"urn:t","value":"p1"}],
   "managingOrganization":{"reference":"Organization?_id=ember-health"},
   "link":[{"other":{"reference":"urn:uuid:0b7e6f8a-0000-4000-8000-000000000003"},"type":"seealso"}]},
  "request":{"method":"POST","url":"Patient"}},
 {"fullUrl":"urn:uuid:0b7e6f8a-0000-4000-8000-000000000002",
  "resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
   "subject":{"reference":"urn:uuid:0b7e6f8a-0000-4000-8000-000000000001"},"valueQuantity":{"value":1.50,"unit":"kg"}},
  "request":{"method":"POST","url":"Observation"}},
 {"fullUrl":"urn:uuid:0b7e6f8a-0000-4000-8000-000000000003",
  "resource":{"resourceType":"Patient","id":"t1-put"},
  "request":{"method":"PUT","url":"Patient/t1-put"}},
 {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:t","value":"p4"}]},
  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:t|p4"}},
 {"request":{"method":"DELETE","url":"Patient/dubois"}},
 {"request":{"method":"GET","url":"Patient/example"}}
]}
JSON
post_bundle "$TMP/t1.json"
is "$STATUS $(jqb .type)" "200 transaction-response" "transaction: 200 transaction-response"
is "$(jqb '[.entry[].response.status] | join(",")')" "201,201,201,201,200,200" "entry statuses in request order"
pat=$(jqb '.entry[0].response.location' | sed 's|.*/fhir/||; s|/_history/.*||')
obs=$(jqb '.entry[1].response.location' | sed 's|.*/fhir/||; s|/_history/.*||')
is "$(jqb '.entry[5].resource.id')" example "GET entry carries its resource"
is "$(jqb '.entry[0].response.etag')" 'W/"1"' "entry etag"
lm0=$(jqb '.entry[0].response.lastModified')
req GET "/$(jqb '.entry[0].response.location' | sed 's|.*/fhir/||')"
is "$(jqb .meta.lastUpdated)" "$lm0" "entry lastModified is the version's lastUpdated"
req GET "/$obs"
is "$(jqb .subject.reference)" "$pat" "urn:uuid reference rewritten to the Patient's Type/id"
ok "$(grep -q '"value":1.50' "$BODY"; echo $?)" "decimal kept through the transaction"
req GET "/$pat"
is "$(jqb .managingOrganization.reference)" "Organization/ember-health" "conditional reference resolved"
is "$(jqb '.link[0].other.reference')" "Patient/t1-put" "reference to a PUT entry's fullUrl rewritten"
req GET /Patient/dubois
is "$STATUS" 410 "DELETE entry applied"

# ifNoneExist matching an existing resource: 200, nothing new.
cat > "$TMP/t2.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient","identifier":[{"system":"urn:t","value":"p1"}]},
  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:t|p1"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"y"},"subject":{"reference":"urn:uuid:a"}},
  "request":{"method":"POST","url":"Observation"}}]}
JSON
post_bundle "$TMP/t2.json"
is "$(jqb '[.entry[].response.status] | join(",")')" "200,201" "conditional create matched: 200, the Observation created"
obs2=$(jqb '.entry[1].response.location' | sed 's|.*/fhir/||; s|/_history/.*||')
req GET "/$obs2"
is "$(jqb .subject.reference)" "$pat" "a reference to the matched conditional create points at the match"

# A conditional reference whose criteria hold a URL (Synthea writes
# Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|...), in the
# resource and in a contained one: both become Practitioner/npi1.
req PUT /Practitioner/npi1 -H "$CT" --data-binary '{"resourceType":"Practitioner","id":"npi1","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"9999999619"}]}'
cat > "$TMP/t4.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
   "contained":[{"resourceType":"ServiceRequest","id":"sr","status":"completed","intent":"order","subject":{"reference":"Patient/example"},
     "requester":{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999999619"}}],
   "participant":[{"individual":{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999999619"}}],
   "basedOn":[{"reference":"#sr"}]},
  "request":{"method":"POST","url":"Encounter"}}]}
JSON
post_bundle "$TMP/t4.json"
enc=$(jqb '.entry[0].response.location' | sed 's|.*/fhir/||; s|/_history/.*||')
req GET "/$enc"
is "$(jqb '[.participant[0].individual.reference, .contained[0].requester.reference, .basedOn[0].reference] | join(" ")')" \
    "Practitioner/npi1 Practitioner/npi1 #sr" "conditional references with URLs in their criteria resolved, contained too"

# A failing transaction stores nothing and names the entry.
{
	printf '{"resourceType":"Bundle","type":"transaction","entry":['
	for i in $(seq 0 499); do
		printf '{"resource":{"resourceType":"Patient","identifier":[{"system":"urn:bulk","value":"%d"}]},"request":{"method":"POST","url":"Patient"}},' "$i"
	done
	printf '{"resource":{"resourceType":"Patient","id":"x"},"request":{"method":"PUT","url":"Patient/y"}}]}'
} > "$TMP/t3.json"
req GET '/_history?_count=1'
before=$(jqb '.entry[0].fullUrl')
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" stats > "$TMP/stats.before"
post_bundle "$TMP/t3.json"
is "$STATUS" 400 "transaction whose entry 500 fails: 400"
is "$(jqb '.issue[0].diagnostics' | cut -c1-32)" "entry 500 (PUT Patient/y) failed" "the OperationOutcome names entry 500"
req GET '/_history?_count=1'
is "$(jqb '.entry[0].fullUrl')" "$before" "nothing was written"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" stats > "$TMP/stats.after"
is "$(cat "$TMP/stats.after")" "$(cat "$TMP/stats.before")" "store counts unchanged"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" check > "$TMP/check.out"
is "$?" 0 "emberctl check after the failed transaction: no problem"

# A batch: entries succeed or fail alone.
cat > "$TMP/b1.json" <<'JSON'
{"resourceType":"Bundle","type":"batch","entry":[
 {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
 {"resource":{"resourceType":"Patient","id":"x"},"request":{"method":"PUT","url":"Patient/y"}},
 {"request":{"method":"GET","url":"Patient/nope"}},
 {"request":{"method":"GET","url":"Patient/example"}}]}
JSON
post_bundle "$TMP/b1.json"
is "$STATUS $(jqb .type)" "200 batch-response" "batch: 200 batch-response"
is "$(jqb '[.entry[].response.status] | join(",")')" "201,400,404,200" "batch entries fail alone"
is "$(jqb '.entry[1].response.outcome.resourceType')" OperationOutcome "a failed batch entry carries its outcome"

# Prefer: return=representation puts resources in the response.
cat > "$TMP/t4.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Patient","gender":"other"},"request":{"method":"POST","url":"Patient"}}]}
JSON
post_bundle "$TMP/t4.json" -H 'Prefer: return=representation'
is "$(jqb '.entry[0].resource.gender') $(jqb '.entry[0].resource.meta.versionId')" "other 1" "return=representation"

# Errors: limit, duplicates, unresolved references, wrong types.
{
	printf '{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/example"}}'
	for i in $(seq 2 601); do printf ',{"request":{"method":"GET","url":"Patient/example"}}'; done
	printf ']}'
} > "$TMP/big.json"
post_bundle "$TMP/big.json"
is "$STATUS" 413 "601 entries over max_entries 600: 413"
while IFS=$'\t' read -r want body; do
	req POST "" -H "$CT" --data-binary "$body"
	is "$STATUS" "$want" "$body: $want"
done <<'TABLE'
400	{"resourceType":"Bundle","type":"collection"}
400	{"resourceType":"Patient"}
400	{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=a|b"}},{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=a|b"}}]}
404	{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"z"},"subject":{"reference":"urn:uuid:missing"}},"request":{"method":"POST","url":"Observation"}}]}
404	{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"z"},"subject":{"reference":"Patient?identifier=urn:none|0"}},"request":{"method":"POST","url":"Observation"}}]}
400	{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"FETCH","url":"Patient"}}]}
404	{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Unicorn"},"request":{"method":"POST","url":"Unicorn"}}]}
400	{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:d","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},{"fullUrl":"urn:uuid:d","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}
TABLE

# emberctl load runs transaction Bundles the same way, while the server
# serves: urn:uuid references rewritten, one commit.
cat > "$TMP/load.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:l1","resource":{"resourceType":"Patient","identifier":[{"system":"urn:load","value":"1"}]},
  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:load|1"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"l"},"subject":{"reference":"urn:uuid:l1"}},
  "request":{"method":"POST","url":"Observation"}}]}
JSON
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/load.json" > "$TMP/load.out"
is "$?" 0 "emberctl load of a transaction Bundle"
is "$(cut -d' ' -f2-3 "$TMP/load.out")" "loaded 2" "emberctl load counts 2 resources"
req GET '/Observation/_history?_count=1'
subj=$(jqb '.entry[0].resource.subject.reference')
req GET "/$subj"
is "$STATUS $(jqb '.identifier[0].value')" "200 1" "the loaded Observation references the loaded Patient"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/t3.json" > "$TMP/load.out" 2>&1
is "$?" 1 "emberctl load of a failing transaction exits 1"
ok "$(grep -q 'entry 500' "$TMP/load.out"; echo $?)" "and names entry 500"

# A batch's entries are each on their own: the load counts those
# written and stops at the first that failed, naming it.
cat > "$TMP/batch-load.json" <<'JSON'
{"resourceType":"Bundle","type":"batch","entry":[
 {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:bl","value":"1"}]},
  "request":{"method":"POST","url":"Patient"}},
 {"resource":{"resourceType":"Patient","id":"bl-2","identifier":[{"system":"urn:bl","value":"2"}]},
  "request":{"method":"PUT","url":"Patient/bl-2"}}]}
JSON
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/batch-load.json" > "$TMP/load.out" 2>&1
is "$? $(cut -d' ' -f2-3 "$TMP/load.out")" "0 loaded 2" "emberctl load of a batch counts its 2 writes"
"$JQ" -c '.entry[1].request.url = "Patient/bl-3" | .entry[1].resource.id = "bl-3" | .entry[2] = {request: {method: "GET", url: "Patient/no-such-bl"}}' \
    "$TMP/batch-load.json" > "$TMP/batch-fail.json"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/batch-fail.json" > "$TMP/load.out" 2>&1
is "$? $(sed 's/.*batch-fail.json: //' "$TMP/load.out")" "1 entry 2: HTTP 404" \
    "a batch entry that failed fails the load, named with its status"

# One load of many files is one bulk transaction, with each Bundle (or
# batch of resources) nested in it: a later Bundle sees what an earlier
# one wrote, and a failure keeps what came before it and nothing after.
cat > "$TMP/bulk1.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Practitioner","identifier":[{"system":"urn:bulk","value":"dr"}]},
  "request":{"method":"POST","url":"Practitioner"}}]}
JSON
cat > "$TMP/bulk2.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Patient","identifier":[{"system":"urn:bulk","value":"p1"}],
   "generalPractitioner":[{"reference":"Practitioner?identifier=urn:bulk|dr"}]},
  "request":{"method":"POST","url":"Patient"}}]}
JSON
printf '%s\n' '{"resourceType":"Patient","id":"bulk-n1","identifier":[{"system":"urn:bulk","value":"n1"}]}' \
    '{"resourceType":"Patient","id":"bulk-n2","identifier":[{"system":"urn:bulk","value":"n2"}]}' > "$TMP/bulk3.ndjson"
cp "$TMP/bulk1.json" "$TMP/bulk5.json"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/bulk1.json" \
    "$TMP/bulk2.json" "$TMP/bulk3.ndjson" > "$TMP/load.out" 2>&1
is "$?" 0 "emberctl load of three files"
is "$(cut -d' ' -f2-3 "$TMP/load.out") $(sed -n 's/.*, \([0-9]*\) commits.*/\1/p' "$TMP/load.out")" \
    "loaded 4 1" "4 resources, one durable commit"
req GET '/Patient?identifier=urn:bulk|p1'
dr=$(jqb '.entry[0].resource.generalPractitioner[0].reference')
req GET "/$dr"
is "$STATUS $(jqb '.identifier[0].value')" "200 dr" \
    "a Bundle's conditional reference found what an earlier file of the load wrote"
req GET '/Patient?identifier=urn:bulk|n1,urn:bulk|n2&_summary=count'
is "$(jqb .total)" 2 "the NDJSON resources are stored"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/bulk1.json" \
    "$TMP/t3.json" "$TMP/bulk5.json" > "$TMP/load.out" 2>&1
is "$?" 1 "a load whose second file fails exits 1"
req GET '/Practitioner?identifier=urn:bulk|dr&_summary=count'
is "$(jqb .total)" 2 "the file before the failure is stored, the one after is not"
req GET '/Patient?identifier=urn:bulk|0,urn:bulk|499&_summary=count'
is "$(jqb .total)" 0 "nothing of the failing transaction is stored"
# A path that cannot be read stops the load after the files before it.
sed 's/"dr"/"dr6"/' "$TMP/bulk1.json" > "$TMP/bulk6.json"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/bulk6.json" \
    "$TMP/no-such-file.json" "$TMP/bulk5.json" > "$TMP/load.out" 2>&1
is "$? $(grep -c 'no-such-file.json: No such file' "$TMP/load.out")" "1 1" \
    "a load with a missing second path exits 1 and names it"
req GET '/Practitioner?identifier=urn:bulk|dr6,urn:bulk|dr&_summary=count'
is "$(jqb .total)" 3 "the file before the missing path is stored, the one after is not"

# A load resolves a conditional reference once for all its Bundles
# (bundle_refs_new()), while no resource of its type is written: each
# file below changes which Practitioner has identifier urn:ref|a, and
# the Patient of the file after it must name that one.
cat > "$TMP/ref1.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Practitioner","id":"ref-a","identifier":[{"system":"urn:ref","value":"a"}]},
  "request":{"method":"PUT","url":"Practitioner/ref-a"}}]}
JSON
cat > "$TMP/ref3.json" <<'JSON'
{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Practitioner","id":"ref-a","identifier":[{"system":"urn:ref","value":"old"}]},
  "request":{"method":"PUT","url":"Practitioner/ref-a"}},
 {"resource":{"resourceType":"Practitioner","id":"ref-b","identifier":[{"system":"urn:ref","value":"a"}]},
  "request":{"method":"PUT","url":"Practitioner/ref-b"}}]}
JSON
printf '%s\n' '{"resourceType":"Practitioner","id":"ref-b","identifier":[{"system":"urn:ref","value":"old2"}]}' \
    '{"resourceType":"Practitioner","id":"ref-c","identifier":[{"system":"urn:ref","value":"a"}]}' > "$TMP/ref5.ndjson"
for n in 2 4 6; do
	printf '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","identifier":[{"system":"urn:ref","value":"p%s"}],"generalPractitioner":[{"reference":"Practitioner?identifier=urn:ref|a"}]},"request":{"method":"POST","url":"Patient"}}]}\n' "$n" > "$TMP/ref$n.json"
done
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/ref1.json" \
    "$TMP/ref2.json" "$TMP/ref3.json" "$TMP/ref4.json" "$TMP/ref5.ndjson" "$TMP/ref6.json" > "$TMP/load.out" 2>&1
is "$? $(cut -d' ' -f2-3 "$TMP/load.out")" "0 loaded 8" "emberctl load of six files, conditional references in three"
while read -r patient want why; do
	req GET "/Patient?identifier=urn:ref|$patient"
	is "$(jqb '.entry[0].resource.generalPractitioner[0].reference')" "$want" "$patient: $why"
done <<'REFS'
p2	Practitioner/ref-a	the Practitioner an earlier Bundle wrote
p4	Practitioner/ref-b	another, once a Bundle moved the identifier
p6	Practitioner/ref-c	another, once an NDJSON file moved it again
REFS

# emberctl load prepares a transaction's plain creates on a second
# thread (checked, stamped, written, packed, indexed) while the entries
# before them are stored.  The same Bundle loaded that way and with
# --single-thread must store the same resources, found by the same
# searches, with lastUpdated in entry order.  Each load gets its own
# identifier system; entry 12 fails the type check in a third copy.
prep_bundle() {	# prep_bundle SYSTEM: 12 Patients, 24 Observations
	"$JQ" -nc --arg s "$1" '{resourceType: "Bundle", type: "transaction", entry: [
	    range(12) as $i |
	    ({fullUrl: "urn:uuid:00000000-0000-4000-8000-\(1000000000000 + $i)",
	      resource: {resourceType: "Patient", identifier: [{system: $s, value: "p\($i)"}],
	        name: [{family: "Prep\($i % 3)", given: ["Ann", "B\($i)"]}],
	        gender: (if $i % 2 == 0 then "female" else "male" end),
	        birthDate: "19\(50 + $i)-0\(1 + $i % 9)-1\($i % 10)"},
	      request: {method: "POST", url: "Patient"}},
	     (range(2) as $j |
	      {resource: {resourceType: "Observation", status: "final",
	        identifier: [{system: $s, value: "o\($i)-\($j)"}],
	        code: {coding: [{system: "http://loinc.org", code: (if $j == 0 then "8302-2" else "29463-7" end)}]},
	        subject: {reference: "urn:uuid:00000000-0000-4000-8000-\(1000000000000 + $i)"},
	        effectiveDateTime: "2020-0\(1 + $i % 9)-01T10:00:00Z",
	        valueQuantity: {value: (150 + $i + $j / 2), unit: "cm", system: "http://unitsofmeasure.org", code: "cm"}},
	       request: {method: "POST", url: "Observation"}}))]}'
}
prep_bundle urn:prep:1 > "$TMP/prep1.json"
prep_bundle urn:prep:2 > "$TMP/prep2.json"
"$JQ" -c '.entry[12].resource.gender = 7' "$TMP/prep1.json" > "$TMP/prep3.json"
since=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/prep1.json" > "$TMP/load.out" 2>&1
is "$? $(sed -n 's/.*loaded \([0-9]*\) .* \([0-9]*\) prepared ahead.*/\1 \2/p' "$TMP/load.out")" "0 36 36" \
    "emberctl load: 36 creates, all prepared ahead"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load --single-thread "$TMP/prep2.json" > "$TMP/load.out" 2>&1
is "$? $(sed -n 's/.*loaded \([0-9]*\) .* \([0-9]*\) prepared ahead.*/\1 \2/p' "$TMP/load.out")" "0 36 0" \
    "emberctl load --single-thread: 36 creates, none prepared ahead"
EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$TMP/prep3.json" > "$TMP/load.out" 2>&1
is "$?" 1 "a prepared create that fails its check fails the load"
ok "$(grep -q 'entry 12 (POST Patient) failed: .*gender' "$TMP/load.out"; echo $?)" \
    "and is reported as without a helper: $(tail -n 1 "$TMP/load.out" | cut -c1-120)"
# The resources, but for id, meta and references, are the same.
for t in Patient Observation; do
	for n in 1 2; do
		req GET "/$t?identifier=urn:prep:$n|&_count=100&_sort=identifier"
		jqb "[.entry[].resource | del(.id, .meta) | .identifier[0].system = \"s\"
		    | if .subject then .subject.reference = \"r\" else . end]" > "$TMP/prep-$t-$n.json"
	done
	is "$(cmp -s "$TMP/prep-$t-1.json" "$TMP/prep-$t-2.json"; echo $?) $("$JQ" length "$TMP/prep-$t-1.json")" \
	    "0 $([ $t = Patient ] && echo 12 || echo 24)" "$t: the prepared and the single-thread load stored the same"
done
# lastUpdated: one value each, in entry order, as without a helper.
for n in 1 2; do
	req GET "/Observation?identifier=urn:prep:$n|&_sort=_lastUpdated&_count=100"
	is "$(jqb '[.entry[].resource.identifier[0].value] | join(" ")')" \
	    "$("$JQ" -r '[.entry[].resource | select(.resourceType == "Observation") | .identifier[0].value] | join(" ")' "$TMP/prep1.json")" \
	    "load $n: the Observations' lastUpdated follow the entries"
	ok "$(jqb '[.entry[].resource.meta.lastUpdated] | (unique | length) == 24' | grep -qx true; echo $?)" \
	    "load $n: 24 distinct lastUpdated"
done
# Every search finds the same in both: _summary=count of each query,
# for each system, against the count the Bundle's data gives.
while IFS=$'\t' read -r q want; do
	[ -z "$q" ] && continue
	q=${q//@SINCE/$since}
	got=
	for n in 1 2; do
		req GET "/${q//@S/urn:prep:$n}&_summary=count"
		got="$got $STATUS:$(jqb .total)"
	done
	is "$got" " 200:$want 200:$want" "both loads, $want: $q"
done <<'QUERIES'
Patient?identifier=@S|&family=prep1	4
Patient?identifier=@S|&gender=male&birthdate=ge1955	4
Patient?identifier=@S|&name=b7	1
Patient?identifier=@S|&_lastUpdated=ge@SINCE	12
Patient?identifier=@S|&_has:Observation:subject:code=http://loinc.org|29463-7	12
Observation?identifier=@S|&code=http://loinc.org|8302-2&value-quantity=gt155|http://unitsofmeasure.org|cm	6
Observation?identifier=@S|&subject.family=prep2&date=lt2020-05	4
Observation?identifier=@S|&subject:Patient.gender=female	12
Observation?identifier=@S|&patient.identifier=@S|p4	2
QUERIES

finish
