#!/bin/bash
# http-synthea.sh: the Synthea r4-blaze-120 data set (../shared/synthea),
# loaded with emberctl load, and separately over HTTP as transaction
# Bundles, gives exactly the resource counts per type that the source
# Bundles hold; searches on it agree between _summary=count,
# _total=accurate, paging with GET and paging with POST _search.  The
# first 20 patients of the STU3 and DSTU2 sets (collection Bundles) load
# with their urn:uuid references resolved.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
SRC=${EMBER_SHARED:-$EMBER_SRCDIR/../shared}/synthea/r4-blaze-120
[ -d "$SRC" ] || SRC=$EMBER_SRCDIR/../../shared/synthea/r4-blaze-120
[ -d "$SRC" ] || skip_all "no ../shared/synthea/r4-blaze-120"
need bzcat "$JQ"

# Decompress: hospital and practitioner Bundles first (the patients'
# conditional references point at them).
mkdir -p "$TMP/in"
for f in "$SRC"/*.json.bz2; do
	bzcat "$f" > "$TMP/in/$(basename "$f" .bz2)"
done
files=$(ls "$TMP"/in/0-*.json; ls "$TMP"/in/*.json | grep -v '/0-')

# The expected count per type: the POST entries, with conditional
# creates counted once per distinct (type, ifNoneExist).
"$JQ" -r '.entry[] | .request | [.url, (.ifNoneExist // "-")] | @tsv' $files |
    awk -F'\t' '$2 == "-" || !seen[$0]++ { n[$1]++ } END { for (t in n) print t, n[t] }' |
    sort > "$TMP/want"
total=$(awk '{ s += $2 } END { print s }' "$TMP/want")
diag "source: $total resources in $(wc -l < "$TMP/want") types"

NO_EXAMPLES=1 start_server "versions = R4 STU3 DSTU2" "durability = relaxed"
ctl() { EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" "$@"; }

# 1. emberctl load into R4.
ctl -V R4 load $files > "$TMP/load.out"
is "$?" 0 "emberctl load of $(echo $files | wc -w) transaction Bundles"
counts() {	# counts BASE [WANT]: "Type N" for WANT's types, by _summary=count
	local t
	for t in $(cut -d' ' -f1 "${2:-$TMP/want}"); do
		req GET "$1/$t?_summary=count"
		echo "$t $(jqb .total)"
	done
}
counts /R4 > "$TMP/got-load"
is "$(cat "$TMP/got-load")" "$(cat "$TMP/want")" "emberctl load: counts per type equal the source's"
is "$(ctl -V R4 check)" "R4: $total resources, 0 problems" "emberctl check after the load"

# 4. Searches: _summary=count = _total=accurate = paging (GET and POST).
while read -r q; do
	req GET "/R4/$q&_summary=count"
	n1=$(jqb .total)
	req GET "/R4/$q&_total=accurate&_count=1000"
	n2=$(jqb .total)
	seen=$(pages '.entry | length' | awk '{ s += $1 } END { print s }')
	type=${q%%\?*}
	req POST "/R4/$type/_search" -H 'Content-Type: application/x-www-form-urlencoded' \
	    --data "${q#*\?}&_count=1000"
	posted=$(pages '.entry | length' | awk '{ s += $1 } END { print s }')
	ok "$([ "$n1" -gt 0 ] && [ "$n1" = "$n2" ] && [ "$n1" = "$seen" ] && [ "$n1" = "$posted" ]; echo $?)" \
	    "$q: count $n1, total $n2, paged $seen, POST-paged $posted"
done <<'QUERIES'
Patient?gender=female
Observation?code=http://loinc.org|8302-2
Observation?date=ge2015&date=lt2016
Observation?subject:Patient.gender=male&code=http://loinc.org|29463-7
Patient?_has:Condition:subject:code=http://snomed.info/sct|44054006
Encounter?class=AMB
Observation?value-quantity=gt100||kg
Practitioner?name=a
QUERIES

# 2. STU3 and DSTU2: the first 20 patients of each set, collection
# Bundles whose entries refer to each other by urn:uuid fullUrls.
for v in stu3 dstu2; do
	V=$(echo "$v" | tr a-z A-Z)
	archive=$SRC/../$v-smart-1461.tar.xz
	if [ ! -f "$archive" ]; then
		diag "no $archive"
		continue
	fi
	mkdir -p "$TMP/$v"
	tar -tJf "$archive" | grep '\.json$' | head -n 20 > "$TMP/$v.list"
	tar -xJf "$archive" -C "$TMP/$v" -T "$TMP/$v.list"
	(cd "$TMP/$v" && "$JQ" -r '.entry[].resource.resourceType' $(cat "$TMP/$v.list")) |
	    sort | uniq -c | awk '{ print $2, $1 }' > "$TMP/$v.want"
	(cd "$TMP/$v" && ctl -V "$V" load $(cat "$TMP/$v.list")) > "$TMP/$v.load"
	is "$?" 0 "$V: emberctl load of 20 collection Bundles"
	counts "/$V" "$TMP/$v.want" > "$TMP/$v.got"
	is "$(cat "$TMP/$v.got")" "$(cat "$TMP/$v.want")" "$V: counts per type equal the source's"
	obs=$(awk '$1 == "Observation" { print $2 }' "$TMP/$v.want")
	req GET "/$V/Observation?subject.gender=male,female&_summary=count"
	is "$(jqb .total)" "$obs" "$V: every Observation's urn:uuid subject now names its Patient"
done

# 3. The same Bundles over HTTP, as transactions, into a fresh store.
stop_server
rm -rf "$DATA"
NO_EXAMPLES=1 start_server "versions = R4" "durability = relaxed"
fail=0
for f in $files; do
	req POST /R4 -H 'Content-Type: application/fhir+json' --data-binary "@$f"
	[ "$STATUS" = 200 ] || { fail=$((fail + 1)); diag "$f: $STATUS $(head -c 300 "$BODY")"; }
done
is "$fail" 0 "every transaction Bundle over HTTP: 200"
counts /R4 > "$TMP/got-http"
is "$(cat "$TMP/got-http")" "$(cat "$TMP/want")" "HTTP transactions: counts per type equal the source's"
is "$(ctl -V R4 check)" "R4: $total resources, 0 problems" "emberctl check after the HTTP load"

finish
