#!/bin/bash
# http-conditional.sh: conditional create, update, delete and patch with
# the 0 / 1 / many outcomes of http.html, criteria parsed strictly.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server "max_delete = 3"
CT='Content-Type: application/fhir+json'
pat() {	# pat ID SYSTEM VALUE: a Patient body with one identifier
	printf '{"resourceType":"Patient"%s,"identifier":[{"system":"%s","value":"%s"}]}' \
	    "${1:+,\"id\":\"$1\"}" "$2" "$3"
}

# --- conditional create (If-None-Exist) ---
req POST /Patient -H "$CT" -H 'If-None-Exist: identifier=urn:x|1' --data-binary "$(pat '' urn:x 1)"
is "$STATUS" 201 "If-None-Exist, no match: 201 created"
id1=$(jqb .id)
req POST /Patient -H "$CT" -H 'If-None-Exist: identifier=urn:x|1' --data-binary "$(pat '' urn:x 1)"
is "$STATUS $(jqb .id) $(jqb .meta.versionId)" "200 $id1 1" "If-None-Exist, one match: 200 with the match, nothing written"
req POST /Patient -H "$CT" -H 'If-None-Exist: identifier=1' --data-binary "$(pat '' urn:x 1)"
is "$STATUS $(jqb .id)" "200 $id1" "If-None-Exist with a bare value matches any system"
req POST /Patient -H "$CT" --data-binary "$(pat '' urn:y 1)"
req POST /Patient -H "$CT" -H 'If-None-Exist: identifier=1' --data-binary "$(pat '' urn:x 1)"
is "$STATUS" 412 "If-None-Exist, two matches: 412"
req POST /Patient -H "$CT" -H 'If-None-Exist: idnetifier=urn:x|1' --data-binary "$(pat '' urn:x 1)"
is "$STATUS $(jqb '.issue[0].code')" "400 invalid" "If-None-Exist with a misspelled parameter: 400, never a match-all"
req POST /Patient -H "$CT" -H "If-None-Exist: _id=$id1" --data-binary "$(pat '' urn:x 1)"
is "$STATUS $(jqb .id)" "200 $id1" "If-None-Exist by _id"
req GET "/Patient/_history?_count=1000"
is "$(jqb '[.entry[] | select(.resource.identifier[0].system == "urn:x")] | length')" 1 \
    "exactly one urn:x|1 Patient was ever written"

# --- conditional update ---
req PUT '/Patient?identifier=urn:x|1' -H "$CT" --data-binary "$(pat '' urn:x 1 | sed 's/}]}$/}],"active":true}/')"
is "$STATUS $(jqb .id) $(jqb .meta.versionId)" "200 $id1 2" "conditional update, one match: the match is updated"
req PUT '/Patient?identifier=urn:x|1' -H "$CT" --data-binary "$(pat other urn:x 1)"
is "$STATUS" 400 "conditional update, one match, different body id: 400"
req PUT '/Patient?identifier=urn:x|new' -H "$CT" --data-binary "$(pat '' urn:x new)"
is "$STATUS" 201 "conditional update, no match, no id: 201 created"
req PUT '/Patient?identifier=urn:x|new2' -H "$CT" --data-binary "$(pat cu-free urn:x new2)"
is "$STATUS $(jqb .id)" "201 cu-free" "conditional update, no match, free body id: created with it"
req PUT '/Patient?identifier=urn:x|new3' -H "$CT" --data-binary "$(pat example urn:x new3)"
is "$STATUS" 409 "conditional update, no match, body id exists: 409"
req PUT '/Patient?identifier=1' -H "$CT" --data-binary "$(pat '' urn:x 1)"
is "$STATUS" 412 "conditional update, two matches: 412"
req PUT '/Patient?nmae=x' -H "$CT" --data-binary "$(pat '' urn:x 1)"
is "$STATUS" 400 "conditional update with a misspelled parameter: 400"
req PUT '/Patient' -H "$CT" --data-binary "$(pat '' urn:x 1)"
is "$STATUS" 400 "PUT on a type without criteria: 400"

# --- conditional patch ---
req PATCH '/Patient?identifier=urn:x|1' -H 'Content-Type: application/json-patch+json' \
    --data-binary '[{"op":"replace","path":"/active","value":false}]'
is "$STATUS $(jqb .active) $(jqb .meta.versionId)" "200 false 3" "conditional patch, one match"
req PATCH '/Patient?identifier=urn:x|none' -H 'Content-Type: application/json-patch+json' \
    --data-binary '[{"op":"remove","path":"/active"}]'
is "$STATUS" 404 "conditional patch, no match: 404"
req PATCH '/Patient?identifier=1' -H 'Content-Type: application/json-patch+json' \
    --data-binary '[{"op":"remove","path":"/active"}]'
is "$STATUS" 412 "conditional patch, two matches: 412"

# --- conditional delete ---
for i in 1 2 3 4; do req POST /Patient -H "$CT" --data-binary "$(pat '' urn:del d$i)"; done
req DELETE '/Patient?identifier=urn:del|'
is "$STATUS" 412 "conditional delete of 4 matches with max_delete 3: 412"
req GET "/Patient/_history?_count=1000"
is "$(jqb '[.entry[] | select(.request.method == "DELETE")] | length')" 0 "412: nothing deleted"
req DELETE '/Patient?identifier=urn:del|d1,urn:del|d2'
is "$STATUS $(jqb '.issue[0].diagnostics')" "200 2 Patient deleted" "conditional delete of 2 matches (comma OR): both deleted"
req DELETE '/Patient?identifier=urn:del|d1'
is "$STATUS" 404 "conditional delete, no match (already deleted): 404"
req DELETE '/Patient?identifier=urn:del|d3&identifier=urn:del|d4'
is "$STATUS" 404 "repeated parameters are AND: no Patient has both"
req DELETE '/Patient?identifier=urn:del|d3'
is "$STATUS" 200 "conditional delete, one match"
req DELETE '/Patient?_id=example'
is "$STATUS" 200 "conditional delete by _id"
req GET /Patient/example
is "$STATUS" 410 "the _id match is gone"
req DELETE '/Patient?foo=bar'
is "$STATUS" 400 "conditional delete with an unknown parameter: 400, nothing deleted"
req DELETE '/Patient'
is "$STATUS" 400 "DELETE on a type without criteria: 400"

finish
