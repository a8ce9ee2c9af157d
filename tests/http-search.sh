#!/bin/bash
# http-search.sh: search through lighttpd and ember.fcgi on a small seeded
# data set, every row an exact result set: each parameter type with its
# modifiers and prefixes, accents, dates at several precisions and zones,
# quantities with precision and units, chains, _has, _include,
# _revinclude, paging, totals, POST _search, system search, errors.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
NO_EXAMPLES=1 start_server "debug_plan = on"
CT='Content-Type: application/fhir+json'

U=http://unitsofmeasure.org
seed Patient/s1 '{"resourceType":"Patient","id":"s1","meta":{"profile":["http://x.org/p/a"]},"active":true,"gender":"female","birthDate":"1980","name":[{"family":"León","given":["María"]}],"identifier":[{"system":"urn:s","value":"1"}],"address":[{"city":"Zürich"}]}'
seed Patient/s2 '{"resourceType":"Patient","id":"s2","gender":"male","birthDate":"1980-06-15","name":[{"family":"Leonard","given":["Tom"]}],"identifier":[{"system":"urn:s","value":"2"},{"system":"urn:other","value":"x"}]}'
seed Patient/s3 '{"resourceType":"Patient","id":"s3","gender":"male","birthDate":"1975-12-31","name":[{"family":"Smith"}]}'
seed Observation/o1 '{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5","display":"Glucose"}]},"subject":{"reference":"Patient/s1"},"effectiveDateTime":"2021-03-04T10:00:00+02:00","valueQuantity":{"value":5.40,"unit":"mmol/L","system":"'$U'","code":"mmol/L"}}'
seed Observation/o2 '{"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1234-5"}]},"subject":{"reference":"Patient/s2"},"effectivePeriod":{"start":"2021-01-01","end":"2021-12-31"},"valueQuantity":{"value":100,"unit":"mg/dL","system":"'$U'","code":"mg/dL"}}'
seed Observation/o3 '{"resourceType":"Observation","id":"o3","status":"preliminary","code":{"coding":[{"system":"urn:local","code":"abc"}],"text":"Local thing"},"subject":{"reference":"Patient/s1"},"effectiveDateTime":"2020"}'
seed Observation/o4 '{"resourceType":"Observation","id":"o4","status":"final","code":{"text":"x"},"subject":{"reference":"http://other.example/fhir/Patient/s3"}}'
seed Location/l1 '{"resourceType":"Location","id":"l1","name":"Valencia","position":{"longitude":-0.3763,"latitude":39.4699}}'
seed Location/l2 '{"resourceType":"Location","id":"l2","name":"Sagunto","position":{"longitude":-0.2665,"latitude":39.6796}}'
seed Encounter/e1 '{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/s1"}}'

# query <TAB> the matches, sorted, space-separated ("-" for none)
match_table <<'TABLE'
Patient	s1 s2 s3
Patient?name=leon	s1 s2
Patient?name=LEÓN	s1 s2
Patient?name=maría	s1
Patient?name=maria	s1
Patient?family:exact=León	s1
Patient?family:exact=leon	-
Patient?name:contains=ona	s2
Patient?address-city=zurich	s1
Patient?identifier=urn:s|1	s1
Patient?identifier=2	s2
Patient?identifier=urn:s|	s1 s2
Patient?identifier=|x	-
Patient?identifier=urn:other|x,urn:s|1	s1 s2
Patient?gender=male	s2 s3
Patient?gender:not=male	s1
Patient?active=true	s1
Observation?code=1234-5	o1 o2
Observation?code=http://loinc.org|1234-5	o1 o2
Observation?code:text=gluc	o1
Observation?code:text=local	o3
Observation?status=final,preliminary	o1 o2 o3 o4
Patient?birthdate=1980	s1 s2
Patient?birthdate=1980-06	s2
Patient?birthdate=1980-06-15	s2
Patient?birthdate=gt1980-06-15	s1
Patient?birthdate=lt1980	s3
Patient?birthdate=ge1980	s1 s2
Patient?birthdate=le1979	s3
Patient?birthdate=sa1979	s1 s2
Patient?birthdate=eb1976	s3
Patient?birthdate=ne1980	s3
Patient?birthdate=ge1980&birthdate=lt1980-07	s1 s2
Patient?birthdate=ge1980-06-16&birthdate=le1980-12	s1
Patient?birthdate=lt1980-07&birthdate=ge1980-06-16	s1
Patient?birthdate=ge1975&birthdate=lt1981&birthdate=ne1980	s3
Patient?birthdate=1980,1975&birthdate=lt1980-07	s1 s2 s3
Patient?birthdate=gt1981&birthdate=lt1970	-
Patient?_lastUpdated=gt2000&_lastUpdated=lt2100	s1 s2 s3
Observation?date=2021-03-04	o1
Observation?date=2021-03-04T08:00:00Z	o1
Observation?date=2021-03-04T10:00:00%2B02:00	o1
Observation?date=2021-03-04T09:00:00Z	-
Observation?date=2021	o1 o2
Observation?date=gt2021-06	o2
Observation?date=2020	o3
Observation?value-quantity=5.4	o1
Observation?value-quantity=5.40	o1
Observation?value-quantity=5.45	-
Observation?value-quantity=5.4|http://unitsofmeasure.org|mmol/L	o1
Observation?value-quantity=5.4||mmol/L	o1
Observation?value-quantity=5.4|http://unitsofmeasure.org|mg/dL	-
Observation?value-quantity=gt50	o2
Observation?value-quantity=lt10	o1
Observation?value-quantity=ge100	o2
Observation?value-quantity=ap100	o2
Observation?value-quantity:missing=true	o3 o4
Observation?subject=Patient/s1	o1 o3
Observation?subject=s1	o1 o3
Observation?patient=s1	o1 o3
Observation?subject=Patient/s3	o4
Observation?subject=http://other.example/fhir/Patient/s3	o4
Observation?subject:Patient=s2	o2
Observation?subject.name=smith	o4
Observation?subject:Patient.gender=female	o1 o3
Observation?subject.identifier=urn:s|2	o2
Encounter?subject.identifier=urn:s|1	e1
Patient?_has:Observation:subject:code=1234-5	s1 s2
Patient?_has:Observation:subject:status=preliminary	s1
Patient?_has:Encounter:subject:_has:Observation:subject:code=abc	-
Patient?_id=s1,s3	s1 s3
Patient?_lastUpdated=gt2000	s1 s2 s3
Patient?_profile=http://x.org/p/a	s1
Patient?_profile:below=http://x.org/p	s1
Patient?gender=male&birthdate=lt1980	s3
Patient?name=leon&name=leonard	s2
Patient?name=a\,b	-
Observation?code-value-quantity=1234-5$gt50	o2
Observation?code-value-quantity=http://loinc.org|1234-5$lt10	o1
Observation?code-value-quantity=1234-5$5.4|http://unitsofmeasure.org|mmol/L	o1
Observation?code-value-quantity=1234-5$5.4|http://unitsofmeasure.org|mg/dL	-
Observation?code-value-quantity=abc$gt1	-
Observation?combo-code-value-quantity=1234-5$ge100	o2
Location?near=39.47|-0.38|5|km	l1
Location?near=39.47|-0.38|30|km	l1 l2
Location?near=39.47|-0.38|100|m	-
Location?near=39.47|-0.38|20|mi	l1 l2
Patient/s1/Observation	o1 o3
Patient/s1/Observation?code=abc	o3
Patient/s1/Encounter	e1
Patient/s2/Observation	o2
Patient/s1/Patient	s1
TABLE

# _sort: rows <TAB> the matches in order.
while IFS=$'\t' read -r q want; do
	req GET "/$q"
	is "$STATUS $(jqb '[.entry[]? | select(.search.mode == "match") | .resource.id] | join(" ")')" \
	    "200 $want" "$q"
done <<'TABLE'
Patient?_sort=birthdate	s3 s1 s2
Patient?_sort=-birthdate	s1 s2 s3
Patient?_sort=family	s1 s2 s3
Patient?_sort=-_lastUpdated	s3 s2 s1
Patient?_sort=gender,-birthdate	s1 s2 s3
Observation?_sort=-date&status=final	o2 o1 o4
TABLE
req GET '/Patient?_sort=birthdate&_count=1'
is "$(pages '.entry[0].resource.id' | paste -sd' ')" "s3 s1 s2" \
    "sorted paging with _count=1 keeps the order"
req GET '/Patient?_sort=nonsense'
is "$STATUS" 400 "_sort on an unknown parameter: 400"

# _include:* and :iterate.
req GET '/Observation?_id=o2&_include=Observation:*'
is "$(jqb '[.entry[] | .search.mode + ":" + .resource.id] | join(" ")')" "match:o2 include:s2" "_include=Observation:*"
req GET '/Encounter?_id=e1&_include=Encounter:subject&_revinclude:iterate=Observation:subject'
is "$(jqb '[.entry[] | .search.mode + ":" + .resource.id] | sort | join(" ")')" \
    "include:o1 include:o3 include:s1 match:e1" "_revinclude:iterate follows the included Patient"

# Errors: malformed values are 400; unknown parameters a warning, or 400
# when strict.
while IFS=$'\t' read -r q; do
	req GET "/$q"
	is "$STATUS $(jqb '.resourceType')" "400 OperationOutcome" "$q: 400"
done <<'TABLE'
Patient?birthdate=xx
Patient?gender:exact=male
Observation?value-quantity=abc
Observation?subject:Unicorn=1
Patient?_count=-1
Patient?_has:Observation
TABLE
req GET '/Patient?foo=1'
is "$STATUS $(jqb .total) $(jqb '.entry[-1].search.mode') $(jqb '.entry[-1].resource.issue[0].severity')" \
    "200 3 outcome warning" "unknown parameter: ignored with a warning entry"
req GET '/Patient?foo=1' -H 'Prefer: handling=strict'
is "$STATUS" 400 "unknown parameter under handling=strict: 400"

# _debug=true (debug_plan is on here): the plan as an outcome entry.
req GET '/Patient?gender=male&birthdate=lt1980&_debug=true'
is "$(jqb '.entry[] | select(.search.mode == "outcome") | .resource.issue[0].diagnostics')" \
    "$(printf 'Patient: gender: 2 ids, 2 after AND\nPatient: birthdate: 1 ids, 1 after AND\npage: 1 matches from position 0, 0 included')" \
    "_debug=true shows each step's ids"

req GET '/Patient?birthdate=ge1980&birthdate=lt1980-07&_debug=true'
is "$(jqb '.entry[] | select(.search.mode == "outcome") | .resource.issue[0].diagnostics' | head -n 1)" \
    "Patient: birthdate (and the next one, in one scan): 2 ids, 2 after AND" \
    "_debug: a date range is one scan"

# Totals, _summary=count, paging through next links.
req GET '/Patient?_summary=count'
is "$(jqb .total) $(jqb '.entry | length')" "3 0" "_summary=count: the total, no entries"
req GET '/Patient?_total=none'
is "$(jqb 'has("total")')" false "_total=none: no total"
req GET '/Patient?_count=1'
is "$(pages '.entry[0].resource.id' | paste -sd' ')" "s1 s2 s3" \
    "paging with _count=1 visits each match once"
# first, previous, next and last links; following each gives its page.
rels() { jqb '[.link[].relation] | join(" ")'; }
follow() { local u; u=$(jqb ".link[] | select(.relation == \"$1\") | .url"); req GET "/${u#*/fhir/}"; }
for sort in "" "&_sort=family"; do
	req GET "/Patient?_count=1$sort"
	is "$(rels) $(jqb '.entry[0].resource.id')" "self first next last s1" "page 1$sort: links"
	follow next
	is "$(rels) $(jqb '.entry[0].resource.id')" "self first previous next last s2" "page 2$sort: links"
	follow previous
	is "$(jqb '.entry[0].resource.id')" s1 "previous$sort from page 2 is page 1"
	follow last
	is "$(rels) $(jqb '.entry[0].resource.id')" "self first previous last s3" "last$sort: the last page"
	follow first
	is "$(jqb '.entry[0].resource.id')" s1 "first$sort"
done

# POST _search: the form body joins the query.
req POST '/Patient/_search?gender=male' -H 'Content-Type: application/x-www-form-urlencoded' --data 'birthdate=lt1980'
is "$STATUS $(jqb '[.entry[].resource.id] | join(" ")')" "200 s3" "POST _search merges body and query"

# _include and _revinclude.
req GET '/Observation?_id=o1&_include=Observation:subject'
is "$(jqb '[.entry[] | .search.mode + ":" + .resource.id] | join(" ")')" "match:o1 include:s1" "_include"
req GET '/Patient?_id=s1&_revinclude=Observation:subject'
is "$(jqb '[.entry[] | .search.mode + ":" + .resource.id] | sort | join(" ")')" "include:o1 include:o3 match:s1" "_revinclude"

# System search.
req GET '/?_type=Patient,Encounter&_summary=count'
is "$(jqb .total)" 4 "system search over two types"
req GET '/?_type=Patient&gender=female'
is "$(jqb '[.entry[].resource.id] | join(" ")')" s1 "system search with criteria"

# Deleted resources leave the index; updates replace their postings.
req DELETE /Observation/o3
req GET '/Observation?code:text=local'
is "$(jqb .total)" 0 "a deleted resource matches nothing"
seed Patient/s9 '{"resourceType":"Patient","id":"s9","gender":"other"}'
req PUT /Patient/s9 -H "$CT" --data-binary '{"resourceType":"Patient","id":"s9","gender":"unknown"}'
req GET '/Patient?gender=other'
is "$(jqb .total)" 0 "an update removes the old version's postings"
req GET '/Patient?gender=unknown'
is "$(jqb '[.entry[].resource.id] | join(" ")')" s9 "and adds the new ones"

# emberctl reindex rebuilds the same postings; check agrees with them.
ctl() { EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" "$@"; }
# Which tree the searches above read (http-search-main.sh: the main one):
# every posting in one of them, none in the other.
stats_field() { ctl stats | awk -v f="$1" '$1 == "R4" { for (i = 2; i < NF; i++) if ($i == f) print $(i + 1) + 0 }'; }
main=$(stats_field postings)
recent=$(stats_field recent)
case "${EMBER_TEST_CONF:-}" in
*"recent_postings = 0"*) set -- "$recent" "$main" "the main" ;;
*) set -- "$main" "$recent" "the recent" ;;
esac
is "$1 $([ "${2:-0}" -gt 0 ] && echo some)" "0 some" "every posting ($2) is in $3 tree"
is "$(ctl -V R4 reindex | cut -d' ' -f1-4)" "R4: reindexed 10 resources" "emberctl reindex"
req GET '/Observation?subject:Patient.gender=female'
is "$(jqb '[.entry[].resource.id] | join(" ")')" o1 "search after reindex"
is "$(ctl -V R4 check)" "R4: 10 resources, 0 problems" "emberctl check: postings agree"

finish
