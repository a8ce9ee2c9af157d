#!/bin/bash
# http-hostile.sh: hostile requests through lighttpd and ember.fcgi.
# Each gets a 4xx (an OperationOutcome from Ember, or 414/431/400 from
# lighttpd before Ember sees it), the worker keeps serving, and nothing
# is written.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server "max_body = 1048576" "max_count = 500"
CT='Content-Type: application/fhir+json'

req GET '/_history?_count=1'
last=$(jqb '.entry[0].fullUrl')

# hostile REQUEST-ARGS...: the answer is 4xx, and Ember still serves.
hostile() {
	local what=$1
	shift
	req "$@"
	ok "$([ "$STATUS" -ge 400 ] && [ "$STATUS" -lt 500 ]; echo $?)" "$what: $STATUS"
	if [ "$(header Content-Type | cut -c1-21)" = application/fhir+json ]; then
		is "$(jqb .resourceType)" OperationOutcome "$what: an OperationOutcome"
	fi
	req GET /metadata
	is "$STATUS" 200 "still serving after: $what"
}

# A 1 MB URL, sent by hand: lighttpd refuses it before Ember sees it.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
{ printf 'GET /fhir/Patient?name='; head -c 1048576 /dev/zero | tr '\0' a;
  printf ' HTTP/1.0\r\nHost: x\r\n\r\n'; } >&3 2>/dev/null
status=$(head -n 1 <&3 | cut -d' ' -f2)
exec 3<&-
ok "$([ "$status" -ge 400 ] && [ "$status" -lt 500 ]; echo $?)" "a 1 MB URL: $status"
req GET /metadata
is "$STATUS" 200 "still serving after: a 1 MB URL"
# Long inputs go through files: they do not fit in an argument list.
seq 100000 | sed 's/^/x=/' | paste -sd'&' > "$TMP/params"
hostile "100,000 query parameters" POST /Patient/_search \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "@$TMP/params"
hostile "a NUL byte in the path" GET '/Patient/ex%00ample'
hostile "path traversal in an id" GET '/Patient/..%2F..%2Fetc%2Fpasswd'
hostile "_count=-1" GET '/Patient?_count=-1'
hostile "a huge number in JSON" POST /Patient -H "$CT" \
    --data-binary '{"resourceType":"Patient","multipleBirthInteger":1e400}'
hostile "an integer out of range" POST /Patient -H "$CT" \
    --data-binary '{"resourceType":"Patient","multipleBirthInteger":99999999999999999999}'
hostile "a chain too deep" GET \
    "/Observation?subject:Patient$(printf '.link:Patient%.0s' $(seq 12)).name=x"
hostile "invalid UTF-8 in a search value" GET '/Patient?name=%FF%FE'

# _count beyond max_count is lowered, not an error.
req GET '/Patient?_count=1000000000000&_summary=count'
is "$STATUS" 200 "_count=10^12: accepted and capped"
req GET '/Patient?_count=1000000000000'
is "$(jqb '.entry | length')" 4 "_count=10^12 gives the four Patients"

# An _include:iterate cycle ends.
req PUT /Patient/cyc1 -H "$CT" --data-binary '{"resourceType":"Patient","id":"cyc1","link":[{"other":{"reference":"Patient/cyc2"},"type":"seealso"}]}'
req PUT /Patient/cyc2 -H "$CT" --data-binary '{"resourceType":"Patient","id":"cyc2","link":[{"other":{"reference":"Patient/cyc1"},"type":"seealso"}]}'
req GET '/Patient?_id=cyc1&_include:iterate=Patient:link'
is "$STATUS $(jqb '[.entry[] | .search.mode + ":" + .resource.id] | join(" ")')" \
    "200 match:cyc1 include:cyc2" "an _include:iterate cycle ends"

# Nothing hostile was written.
req GET '/_history?_count=3'
is "$(jqb '[.entry[].fullUrl] | map(select(test("cyc") | not)) | .[0]')" "$last" \
    "no hostile request wrote anything"

# A transaction whose entries reference each other in a loop is legal:
# it commits once, each reference rewritten to the other's new id.
req POST "" -H "$CT" --data-binary \
    '{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:a","resource":{"resourceType":"Patient","link":[{"other":{"reference":"urn:uuid:b"},"type":"seealso"}]},"request":{"method":"POST","url":"Patient"}},{"fullUrl":"urn:uuid:b","resource":{"resourceType":"Patient","link":[{"other":{"reference":"urn:uuid:a"},"type":"seealso"}]},"request":{"method":"POST","url":"Patient"}}]}'
a=$(jqb '.entry[0].response.location' | sed 's|.*/fhir/||; s|/_history/.*||')
b=$(jqb '.entry[1].response.location' | sed 's|.*/fhir/||; s|/_history/.*||')
req GET "/$a"
is "$(jqb '.link[0].other.reference')" "$b" "a reference loop in a transaction: A names B"
req GET "/$b"
is "$(jqb '.link[0].other.reference')" "$a" "and B names A"

finish
