#!/bin/bash
# http-patch.sh: PATCH with JSON Patch and FHIRPath Patch; If-Match; a
# result that is no longer a valid resource of the same type and id is
# 422 and stores nothing.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server
JP='Content-Type: application/json-patch+json'
FP='Content-Type: application/fhir+json'

req PUT /Patient/pt -H "$FP" --data-binary \
    '{"resourceType":"Patient","id":"pt","active":true,"name":[{"use":"official","family":"Doe","given":["Ann"]},{"use":"nickname","given":["Annie"]}],"birthDate":"1980-02-01"}'
is "$STATUS" 201 "created Patient/pt"

# JSON Patch (tab-separated): operations, status, jq check, its value
while IFS=$'\t' read -r body want check value; do
	req PATCH /Patient/pt -H "$JP" --data-binary "$body"
	is "$STATUS" "$want" "JSON Patch $body: $want"
	[ -n "$check" ] && is "$(jqb "$check")" "$value" "  then $check = $value"
done <<'TABLE'
[{"op":"replace","path":"/active","value":false}]	200	.active	false
[{"op":"add","path":"/name/0/given/-","value":"Beth"}]	200	.name[0].given | join(" ")	Ann Beth
[{"op":"add","path":"/name/0/given/0","value":"Zoe"}]	200	.name[0].given | join(" ")	Zoe Ann Beth
[{"op":"remove","path":"/name/1"}]	200	.name | length	1
[{"op":"copy","from":"/name/0/family","path":"/name/0/text"}]	200	.name[0].text	Doe
[{"op":"move","from":"/name/0/given/0","path":"/name/0/given/-"}]	200	.name[0].given | join(" ")	Ann Beth Zoe
[{"op":"add","path":"/name/0/suffix","value":"Jr"}]	422	.issue[0].code	processing
[{"op":"test","path":"/birthDate","value":"1980-02-01"},{"op":"add","path":"/gender","value":"female"}]	200	.gender	female
[{"op":"add","path":"/colour","value":"blue"}]	422		
[{"op":"test","path":"/birthDate","value":"1999-01-01"},{"op":"add","path":"/gender","value":"male"}]	422	.issue[0].code	processing
[{"op":"remove","path":"/nothing"}]	422		
[{"op":"replace","path":"/id","value":"other"}]	422		
[{"op":"replace","path":"/resourceType","value":"Group"}]	422		
[{"op":"frobnicate","path":"/active"}]	400		
{"op":"remove","path":"/active"}	400		
TABLE

req GET /Patient/pt
is "$(jqb .meta.versionId) $(jqb .gender)" "8 female" "failed patches stored nothing (7 successful patches)"

# The exact text of a decimal added by a patch is kept.
req PATCH /Patient/pt -H "$JP" --data-binary '[{"op":"add","path":"/extension","value":[{"url":"urn:d","valueDecimal":2.50}]}]'
ok "$(grep -q '"valueDecimal":2.50' "$BODY"; echo $?)" "patched decimal keeps 2.50"

# If-Match
req PATCH /Patient/pt -H "$JP" -H 'If-Match: W/"1"' --data-binary '[{"op":"remove","path":"/gender"}]'
is "$STATUS" 412 "PATCH with a stale If-Match: 412"
req PATCH /Patient/pt -H "$JP" -H 'If-Match: W/"9"' --data-binary '[{"op":"remove","path":"/gender"}]'
is "$STATUS $(jqb 'has("gender")')" "200 false" "PATCH with the current If-Match: 200"

# FHIRPath Patch: type, path, name, value
fp() {	# fp PARTS-JSON...: a Parameters with one operation per argument
	local ops="" p
	for p in "$@"; do ops="$ops${ops:+,}{\"name\":\"operation\",\"part\":$p}"; done
	printf '{"resourceType":"Parameters","parameter":[%s]}' "$ops"
}
req PATCH /Patient/pt -H "$FP" --data-binary "$(fp \
    '[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"deceased"},{"name":"value","valueBoolean":false}]' \
    '[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.birthDate"},{"name":"value","valueDate":"1981-03-04"}]' \
    '[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient.name.where(use = '"'"'official'"'"')"},{"name":"name","valueString":"given"},{"name":"value","valueString":"Cleo"}]' \
    '[{"name":"type","valueCode":"insert"},{"name":"path","valueString":"Patient.name[0].given"},{"name":"index","valueInteger":0},{"name":"value","valueString":"Ada"}]' \
    '[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"telecom"},{"name":"value","part":[{"name":"system","valueCode":"phone"},{"name":"value","valueString":"555"}]}]')"
is "$STATUS" 200 "FHIRPath Patch: 200"
is "$(jqb '.deceasedBoolean')" false "add of a choice element names it by the value's type"
is "$(jqb '.birthDate')" 1981-03-04 "replace"
is "$(jqb '.name[0].given | join(" ")')" "Ada Ann Beth Zoe Cleo" "add to a list, insert at index 0"
is "$(jqb '.telecom[0].system + " " + .telecom[0].value')" "phone 555" "add of a complex value given as parts"
req PATCH /Patient/pt -H "$FP" --data-binary "$(fp \
    '[{"name":"type","valueCode":"move"},{"name":"path","valueString":"Patient.name[0].given"},{"name":"source","valueInteger":4},{"name":"destination","valueInteger":0}]' \
    '[{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.telecom[0]"}]' \
    '[{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.photo"}]')"
is "$STATUS $(jqb '.name[0].given | join(" ")') $(jqb 'has("telecom")')" \
    "200 Cleo Ada Ann Beth Zoe false" "move; delete (an emptied list goes); delete of nothing is fine"
req PATCH /Patient/pt -H "$FP" --data-binary "$(fp \
    '[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"name"},{"name":"value","part":[{"name":"family","valueString":"Poe"},{"name":"given","valueString":"Ed"},{"name":"given","valueString":"Al"},{"name":"given","valueString":"Bo"}]}]')"
is "$STATUS $(jqb '.name[-1].family + ": " + (.name[-1].given | join(" "))')" \
    "200 Poe: Ed Al Bo" "a part named again: the values of a repeating element, in order"
req PATCH /Patient/pt -H "$FP" --data-binary "$(fp \
    '[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"birthDate"},{"name":"value","valueDate":"1990-01-01"}]')"
is "$STATUS" 422 "FHIRPath add to a single element that has a value: 422"
req PATCH /Patient/pt -H "$FP" --data-binary "$(fp \
    '[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.name.given"},{"name":"value","valueString":"X"}]')"
is "$STATUS" 422 "FHIRPath replace of several elements: 422"
req PATCH /Patient/pt -H "$FP" --data-binary '{"resourceType":"Patient"}'
is "$STATUS" 400 "a FHIRPath Patch must be a Parameters: 400"
req PATCH /Patient/pt -H 'Content-Type: text/plain' --data-binary 'x'
is "$STATUS" 415 "PATCH with another Content-Type: 415"
req PATCH /Patient/nope -H "$JP" --data-binary '[]'
is "$STATUS" 404 "PATCH of an unknown id: 404"
req PATCH /DSTU2/Patient/example -H "$JP" --data-binary '[]'
is "$STATUS" 405 "DSTU2 has no patch interaction: 405"

finish
