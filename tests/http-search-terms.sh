#!/bin/bash
# http-search-terms.sh: the search features that read stored resources
# rather than postings alone, through lighttpd and ember.fcgi, each row
# an exact result set: token :in and :not-in against ValueSets stored on
# the server (concepts, filters, whole systems, excludes, expansions,
# value sets importing others), :below and :above against a stored
# CodeSystem's hierarchy, _list, _text and _content, and the errors
# when the terminology is not there; composites of three components;
# _contained and _containedType.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
NO_EXAMPLES=1 start_server "debug_plan = on"
CT='Content-Type: application/fhir+json'

# A code system with a hierarchy: animal > mammal > (dog, cat), bird.
C=http://ember.test/cs/animal
seed CodeSystem/animal '{"resourceType":"CodeSystem","id":"animal","url":"'$C'","status":"active","content":"complete","concept":[{"code":"animal","concept":[{"code":"mammal","concept":[{"code":"dog"},{"code":"cat"}]},{"code":"bird"}]},{"code":"plant"}]}'
seed ValueSet/pets '{"resourceType":"ValueSet","id":"pets","url":"http://ember.test/vs/pets","status":"active","compose":{"include":[{"system":"'$C'","concept":[{"code":"dog"},{"code":"cat"}]}]}}'
seed ValueSet/mammals '{"resourceType":"ValueSet","id":"mammals","url":"http://ember.test/vs/mammals","status":"active","compose":{"include":[{"system":"'$C'","filter":[{"property":"concept","op":"is-a","value":"mammal"}]}]}}'
seed ValueSet/no-cats '{"resourceType":"ValueSet","id":"no-cats","url":"http://ember.test/vs/no-cats","status":"active","compose":{"include":[{"system":"'$C'"}],"exclude":[{"system":"'$C'","concept":[{"code":"cat"}]}]}}'
seed ValueSet/loinc '{"resourceType":"ValueSet","id":"loinc","url":"http://ember.test/vs/loinc","status":"active","compose":{"include":[{"system":"http://loinc.org"}],"exclude":[{"system":"http://loinc.org","concept":[{"code":"9-9"}]}]}}'
seed ValueSet/expanded '{"resourceType":"ValueSet","id":"expanded","url":"http://ember.test/vs/expanded","status":"active","expansion":{"timestamp":"2024-01-01","contains":[{"system":"'$C'","code":"bird"},{"system":"http://loinc.org","code":"1-1"}]}}'
seed ValueSet/both '{"resourceType":"ValueSet","id":"both","url":"http://ember.test/vs/both","version":"2","status":"active","compose":{"include":[{"valueSet":["http://ember.test/vs/pets","http://ember.test/vs/expanded"]}]}}'
seed ValueSet/loop '{"resourceType":"ValueSet","id":"loop","url":"http://ember.test/vs/loop","status":"active","compose":{"include":[{"valueSet":["http://ember.test/vs/loop"]}]}}'
seed ValueSet/odd '{"resourceType":"ValueSet","id":"odd","url":"http://ember.test/vs/odd","status":"active","compose":{"include":[{"system":"'$C'","filter":[{"property":"concept","op":"regex","value":"d.*"}]}]}}'

# status_table TYPE: for each line "query <TAB> status and the ids of
# what TYPE?query returns, sorted ('-' for none)" on standard input,
# check the status and the ids.
status_table() {
	local q want got
	while IFS=$'\t' read -r q want; do
		req GET "/$1?$q"
		got=$(jqb '[.entry[]?.resource.id] | sort | join(" ")')
		is "$STATUS ${got:--}" "$want" "$q"
	done
}

obs() {	# obs ID SYSTEM CODE [extra JSON members]
	seed "Observation/$1" '{"resourceType":"Observation","id":"'$1'","status":"final","code":{"coding":[{"system":"'$2'","code":"'$3'"}]}'"${4:+,$4}"'}'
}
obs dog $C dog '"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">A <b>brown</b> Dóg, seen at the Zoo&amp;Park</div>"}'
obs cat $C cat '"note":[{"text":"Sleeps all afternoon"}]'
obs bird $C bird '"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">bird watching</div>"}'
obs plant $C plant
obs mammal $C mammal
obs l1 http://loinc.org 1-1 '"note":[{"text":"brown sugar"}]'
obs l9 http://loinc.org 9-9
seed Observation/bare '{"resourceType":"Observation","id":"bare","status":"final","code":{"text":"no coding"}}'
seed List/l '{"resourceType":"List","id":"l","status":"current","mode":"working","entry":[{"item":{"reference":"Observation/dog"}},{"item":{"reference":"http://elsewhere.example/fhir/Observation/cat"}},{"item":{"reference":"Observation/bird/_history/1"}},{"item":{"reference":"Observation/plant"},"deleted":true},{"item":{"reference":"Patient/x"}},{"item":{"reference":"Observation/gone"}}]}'
seed List/m '{"resourceType":"List","id":"m","status":"current","mode":"working","entry":[{"item":{"reference":"Observation/l1"}}]}'

VS=http://ember.test/vs
# query <TAB> the matches, sorted, space-separated ("-" for none)
match_table <<TABLE
Observation?code:in=$VS/pets	cat dog
Observation?code:in=ValueSet/pets	cat dog
Observation?code:in=$VS/mammals	cat dog mammal
Observation?code:in=$VS/no-cats	bird dog mammal plant
Observation?code:in=$VS/loinc	l1
Observation?code:in=$VS/expanded	bird l1
Observation?code:in=$VS/both	bird cat dog l1
Observation?code:in=$VS/both|2	bird cat dog l1
Observation?code:in=$VS/pets,$VS/expanded	bird cat dog l1
Observation?code:not-in=$VS/mammals	bare bird l1 l9 plant
Observation?code:not-in=$VS/loinc	bare bird cat dog l9 mammal plant
Observation?code:below=$C|mammal	cat dog mammal
Observation?code:below=$C|animal	bird cat dog mammal
Observation?code:below=$C|dog	dog
Observation?code:above=$C|dog	dog mammal
Observation?code:above=$C|bird	bird
Observation?code:in=$VS/pets&code:below=$C|mammal	cat dog
Observation?_list=l	bird cat dog
Observation?_list=List/l,m	bird cat dog l1
Observation?_list=nosuchlist	-
Patient?_list=l	-
Observation?_text=brown	dog
Observation?_text=BROWN+dog	dog
Observation?_text=dog	dog
Observation?_text=zoo+park	dog
Observation?_text=amp	-
Observation?_text=sugar	-
Observation?_text=watch	bird
Observation?_text=brown+cat	-
Observation?_text=brown,watching	bird dog
Observation?_content=brown	dog l1
Observation?_content=afternoon	cat
Observation?_content=sleeps+afternoon	cat
Observation?_content=sugar	l1
Observation?_content=mammal	mammal
Observation?_content=coding	bare
Observation?_content=brown&code=1-1	l1
Observation?code:in=$VS/pets&_text=brown	dog
TABLE

# Errors: a clear 400 OperationOutcome naming what is missing.
while IFS=$'\t' read -r q want; do
	req GET "/$q"
	is "$STATUS $(jqb '.issue[0].diagnostics' | grep -o "$want")" "400 $want" "$q: 400"
done <<TABLE
Observation?code:in=$VS/none	no ValueSet on this server is
Observation?code:in=ValueSet/none	no ValueSet on this server is
Observation?code:in=$VS/both|1	no ValueSet on this server is
Observation?code:in=$VS/loop	too deep
Observation?code:in=$VS/odd	filter op not supported: regex
Observation?code:below=http://nowhere.example/cs|x	no CodeSystem on this server defines
Observation?code:below=$C|fish	code fish is not in CodeSystem
Observation?code:below=dog	takes system|code
Observation?_list=\$current-allergies	functional list
Observation?_text=%20	needs at least one word
Observation?_text:exact=dog	not valid on _text
TABLE

# The plan shows how :in and _content were evaluated.
req GET "/Observation?code:in=$VS/mammals&_content=dog&_debug=true"
is "$(jqb '[.entry[] | select(.search.mode == "outcome") | .resource.issue[].diagnostics] | join("\n")' | grep -Ec 'code:in: 3 codes, 0 whole systems|_content: read 3 candidates, 1 match')" 2 \
    "_debug: the ValueSet's codes and the candidates read"

# The CapabilityStatement claims what works.
req GET /metadata
is "$(jqb '.rest[0].resource[] | select(.type == "Observation") | [.searchParam[].name | select(. == "_list" or . == "_text" or . == "_content" or . == "_filter")] | sort | join(" ")')" \
    "_content _list _text" "metadata claims _list, _text and _content, not _filter"

# The terminology is read at search time: a changed ValueSet changes the
# matches at once, a deleted one is an error.
req PUT /ValueSet/pets -H "$CT" --data-binary '{"resourceType":"ValueSet","id":"pets","url":"http://ember.test/vs/pets","status":"active","compose":{"include":[{"system":"'$C'","concept":[{"code":"bird"}]}]}}'
req GET "/Observation?code:in=$VS/pets"
is "$STATUS $(jqb '[.entry[].resource.id] | sort | join(" ")')" "200 bird" "an updated ValueSet applies at once"
req DELETE /ValueSet/pets
req GET "/Observation?code:in=$VS/pets"
is "$STATUS" 400 "a deleted ValueSet is not there"

# identifier:of-type=type-system|type-code|value.
V2=http://terminology.hl7.org/CodeSystem/v2-0203
seed Patient/p1 '{"resourceType":"Patient","id":"p1","identifier":[{"type":{"coding":[{"system":"'$V2'","code":"MR"}]},"system":"urn:h","value":"12345"}]}'
seed Patient/p2 '{"resourceType":"Patient","id":"p2","identifier":[{"type":{"coding":[{"system":"'$V2'","code":"DL"}]},"system":"urn:dmv","value":"12345"},{"system":"urn:x","value":"MR"}]}'
status_table Patient <<TABLE
identifier:of-type=$V2|MR|12345	200 p1
identifier:of-type=$V2|DL|12345	200 p2
identifier:of-type=$V2|MR|999	200 -
identifier:of-type=urn:other|MR|12345	200 -
identifier=12345	200 p1 p2
identifier:of-type=MR|12345	400 -
identifier:of-type=$V2||12345	400 -
TABLE

# _has with more matches than SEARCH_HAS_GROUPS (256) walks the
# parameter's keys once instead of each match's owned keys: 300
# Observations "many" on p1 and p2, 20 "few" on p3, and one of each on
# p4 and p2a, each the only Observation of its Patient (a key with one
# rid, right after a key with many); the answer must not change with
# the path taken.
seed Patient/p3 '{"resourceType":"Patient","id":"p3"}'
seed Patient/p2a '{"resourceType":"Patient","id":"p2a"}'
seed Patient/p4 '{"resourceType":"Patient","id":"p4"}'
entries=
for i in $(seq 1 322); do
	if [ "$i" -le 300 ]; then code=many; pid=p$((i % 2 + 1))
	elif [ "$i" -le 320 ]; then code=few; pid=p3
	elif [ "$i" = 321 ]; then code=many; pid=p4
	else code=few; pid=p2a; fi
	entries="$entries${entries:+,}{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:n\",\"code\":\"$code\"}]},\"subject\":{\"reference\":\"Patient/$pid\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}"
done
req POST / -H "$CT" --data-binary "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[$entries]}"
is "$STATUS" 200 "322 Observations in one transaction"
status_table Patient <<'TABLE'
_has:Observation:subject:code=urn:n|many	200 p1 p2 p4
_has:Observation:subject:code=urn:n|few	200 p2a p3
_has:Observation:subject:code=urn:n|many,urn:n|few	200 p1 p2 p2a p3 p4
_has:Observation:subject:code=urn:n|many&_id=p2	200 p2
TABLE

# Composites of three components (R4 MolecularSequence coordinates):
# a token, then two numbers, each with its prefix.
seed MolecularSequence/ms1 '{"resourceType":"MolecularSequence","id":"ms1","coordinateSystem":0,"referenceSeq":{"chromosome":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/chromosome-human","code":"1"}]},"windowStart":22125500,"windowEnd":22125510},"variant":[{"start":22125503,"end":22125504,"observedAllele":"C","referenceAllele":"T"},{"start":22125508,"end":22125509,"observedAllele":"A","referenceAllele":"G"}]}'
seed MolecularSequence/ms2 '{"resourceType":"MolecularSequence","id":"ms2","coordinateSystem":0,"referenceSeq":{"chromosome":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/chromosome-human","code":"2"}]},"windowStart":100,"windowEnd":200},"variant":[{"start":150,"end":151}]}'
status_table MolecularSequence <<'TABLE'
chromosome-variant-coordinate=1$gt22125500$lt22125505	200 ms1
chromosome-variant-coordinate=1$gt22125504$lt22125508	200 -
chromosome-variant-coordinate=1$ge22125508$le22125509	200 ms1
chromosome-variant-coordinate=1$22125503$22125504	200 ms1
chromosome-variant-coordinate=1$22125503$22125509	200 -
chromosome-variant-coordinate=2$lt200$gt150	200 ms2
chromosome-variant-coordinate=http://terminology.hl7.org/CodeSystem/chromosome-human|2$lt200$gt150	200 ms2
chromosome-variant-coordinate=1$lt200$gt150	200 -
chromosome-window-coordinate=1$ge22125500$le22125510	200 ms1
chromosome-window-coordinate=1$ge22125500$le22125510,2$ge100$le200	200 ms1 ms2
chromosome-variant-coordinate=1$gt1	400 -
chromosome-variant-coordinate=1$gt1$lt2$3	400 -
chromosome-variant-coordinate=1$x$lt2	400 -
TABLE

# _contained and _containedType: contained resources are indexed under
# their own type's parameters; every criterion must hold for one and the
# same contained resource.
R=http://www.nlm.nih.gov/research/umls/rxnorm
seed Medication/m1 '{"resourceType":"Medication","id":"m1","status":"active","code":{"coding":[{"system":"'$R'","code":"1049630"}]}}'
seed MedicationRequest/mr1 '{"resourceType":"MedicationRequest","id":"mr1","contained":[{"resourceType":"Medication","id":"med","status":"active","code":{"coding":[{"system":"'$R'","code":"1049630"}]}}],"status":"active","intent":"order","medicationReference":{"reference":"#med"},"subject":{"reference":"Patient/x"}}'
seed MedicationRequest/mr2 '{"resourceType":"MedicationRequest","id":"mr2","contained":[{"resourceType":"Medication","id":"a","status":"active","code":{"coding":[{"system":"'$R'","code":"111"}]}},{"resourceType":"Medication","id":"b","status":"inactive","code":{"coding":[{"system":"'$R'","code":"222"}]}}],"status":"active","intent":"order","medicationReference":{"reference":"#a"},"subject":{"reference":"Patient/x"}}'
while IFS=$'\t' read -r q want; do
	req GET "/Medication?$q"
	got=$(jqb '[.entry[]? | select(.search.mode == "match") | .fullUrl | split("/") | .[-2:] | join("/")] | sort | join(" ")')
	is "$STATUS ${got:--}" "$want" "$q"
done <<'TABLE'
code=1049630	200 Medication/m1
code=1049630&_contained=false	200 Medication/m1
code=1049630&_contained=true	200 MedicationRequest/mr1
code=1049630&_contained=both	200 Medication/m1 MedicationRequest/mr1
code=1049630&_contained=true&_containedType=contained	200 MedicationRequest/mr1#med
code=1049630&_contained=both&_containedType=contained	200 Medication/m1 MedicationRequest/mr1#med
status=active&_contained=true&_containedType=contained	200 MedicationRequest/mr1#med MedicationRequest/mr2#a
code=222&status=active&_contained=true	200 -
code=222&status=inactive&_contained=true	200 MedicationRequest/mr2
code=222&status=inactive&_contained=true&_containedType=contained	200 MedicationRequest/mr2#b
code:in=ValueSet/none&_contained=true	400 -
code=111,222&_contained=true&_containedType=contained	200 MedicationRequest/mr2#a MedicationRequest/mr2#b
_contained=true&_containedType=contained	200 MedicationRequest/mr1#med MedicationRequest/mr2#a MedicationRequest/mr2#b
_contained=maybe	400 -
_contained=true&_containedType=other	400 -
_contained=true&_sort=code	400 -
manufacturer.name=x&_contained=true	400 -
TABLE
req GET '/Medication?_contained=true&_summary=count'
is "$STATUS $(jqb .total)" "200 2" "_contained=true: two containers"
req GET '/Medication?_contained=both&_containedType=contained&_summary=count'
is "$STATUS $(jqb .total)" "200 4" "_contained=both, contained: one Medication and three contained"
req GET '/Medication?_contained=true&_containedType=contained&_count=1'
is "$(pages '.entry[] | .fullUrl | split("/") | .[-1]' | paste -sd' ')" "mr1#med mr2#a mr2#b" \
    "paging by container: each contained match once"
req GET '/Medication?code=222&status=active&_contained=true&_debug=true'
is "$(jqb '[.entry[] | select(.search.mode == "outcome") | .resource.issue[].diagnostics] | join("\n")' | grep -c '_contained: 1 candidate containers, 0 contained Medication match in 0')" 1 \
    "_debug: the candidate container failed the test of each contained one"
req PUT /MedicationRequest/mr1 -H "$CT" --data-binary '{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","medicationCodeableConcept":{"text":"x"},"subject":{"reference":"Patient/x"}}'
req GET '/Medication?code=1049630&_contained=true'
is "$STATUS $(jqb '.entry | length')" "200 0" "an update drops the contained postings"

# Conditional operations use the same criteria strictly.
req DELETE "/Observation?code:below=$C|mammal"
is "$STATUS" 200 "conditional delete by :below"
req GET "/Observation?code:below=$C|animal"
is "$(jqb '[.entry[].resource.id] | join(" ")')" bird "the three mammals went, the bird stayed"

finish
