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

# --- Requests sent by hand (bash /dev/tcp), that curl would not send ---
#
# lighttpd reads the whole request body before it hands the request to
# ember.fcgi (server.stream-request-body 0), so a body that never arrives
# never reaches a worker, and the bytes a Content-Length covers are the
# body, whatever they look like.

# history_head: the newest history entry (URL and version), which moves
# with any write to any type; Patient count beside it.
history_head() {
	req GET '/_history?_count=1'
	printf '%s ' "$(jqb '.entry[0].fullUrl + "@" + (.entry[0].resource.meta.versionId // "deleted")')"
	req GET '/Patient?_summary=count'
	jqb .total
}

# raw NAME FILE: send FILE on a new connection, read until the server
# closes it (at most 5 s).  Sets RAW_STATUSES: the status codes of every
# response on the connection, space-separated ("" when none).
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	cat "$2" >&3 2>/dev/null
	timeout 5 cat <&3 > "$TMP/raw.$1" 2>/dev/null
	exec 3<&-
	RAW_STATUSES=$(grep -a -o '^HTTP/1\.[01] [0-9][0-9][0-9]' "$TMP/raw.$1" |
	    cut -d' ' -f2 | paste -sd' ')
}

# raw_case WHAT WANT FILE: RAW_STATUSES is exactly WANT, no response
# header was injected, Ember still serves, nothing was written.
raw_case() {
	local before
	before=$(history_head)
	raw case "$3"
	is "$RAW_STATUSES" "$2" "$1: $2"
	ok "$(grep -a -qi '^Set-Cookie\|^Injected' "$TMP/raw.case"; [ $? = 1 ]; echo $?)" \
	    "$1: no injected header"
	req GET /metadata
	is "$STATUS" 200 "still serving after: $1"
	is "$(history_head)" "$before" "$1: nothing written"
}

# post_head [EXTRA-HEADER-LINES]: a POST /fhir/Patient request head
# without its Content-Length line and final blank line.
post_head() {
	printf 'POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n%b' "${1:-}"
}
PAT='{"resourceType":"Patient","active":true}'

# Wrong Content-Length.  Smaller than the body: Ember gets a cut body
# ('{"resource', not JSON), 400; Connection: close drops the rest.
{ post_head 'Connection: close\r\n'; printf 'Content-Length: 10\r\n\r\n%s' "$PAT"; } > "$TMP/req"
raw_case "Content-Length smaller than the body" 400 "$TMP/req"
grep -aq 'invalid JSON' "$TMP/raw.case"
ok $? "Content-Length smaller: Ember's OperationOutcome says invalid JSON"
# Larger than the body, with a second request pipelined behind it: the
# Content-Length swallows that request as body, so there is exactly one
# answer, Ember's 400 (text after the JSON value), and no 200.
pipelined=$(printf 'GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
{ post_head 'Connection: close\r\n'; printf 'Content-Length: %d\r\n\r\n%s%s' \
    $(( ${#PAT} + ${#pipelined} )) "$PAT" "$pipelined"; } > "$TMP/req"
raw_case "Content-Length larger than the body" 400 "$TMP/req"
grep -aq 'text after the JSON value' "$TMP/raw.case"
ok $? "Content-Length larger: the next request was read as body"
# Not a number, negative, two different values, and together with
# Transfer-Encoding (request smuggling): lighttpd answers 400 itself.
for cl in 'Content-Length: abc\r\n' 'Content-Length: -1\r\n' \
    'Content-Length: 40\r\nContent-Length: 10\r\n' \
    'Content-Length: 40\r\nTransfer-Encoding: chunked\r\n'; do
	{ post_head 'Connection: close\r\n'; printf "$cl"'\r\n%s' "$PAT"; } > "$TMP/req"
	raw_case "$(printf "$cl" | tr '\r\n' '  ')" 400 "$TMP/req"
done

# CR/LF injection in headers.  A bare CR or LF inside a header line,
# and a CR in Host (which Ember puts into Location and fullUrl):
# lighttpd's header-strict and host-strict answer 400.  CR LF in the
# request target: 400 too.
printf 'GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nAccept: application/fhir+json\rInjected: 1\r\nConnection: close\r\n\r\n' > "$TMP/req"
raw_case "a bare CR in a header value" 400 "$TMP/req"
printf 'GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nAccept: application/fhir+json\nInjected: 1\r\nConnection: close\r\n\r\n' > "$TMP/req"
raw_case "a bare LF in a header value" 400 "$TMP/req"
printf 'GET /fhir/Patient/example HTTP/1.1\r\nHost: x\rSet-Cookie: a=b\r\nConnection: close\r\n\r\n' > "$TMP/req"
raw_case "a CR in Host" 400 "$TMP/req"
printf 'GET /fhir/Patient/a\r\nSet-Cookie: a=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' > "$TMP/req"
raw_case "CR LF in the request target" 400 "$TMP/req"
# Encoded CR LF reaches Ember as text: it goes nowhere near a header.
before=$(history_head)
req PUT /Patient/example -H "$CT" -H 'If-Match: W/"1%0D%0ASet-Cookie: a=b"' \
    --data-binary '{"resourceType":"Patient","id":"example"}'
is "$STATUS $(jqb .resourceType)" "400 OperationOutcome" "%0D%0A in If-Match: 400"
ok "$(grep -qi '^Set-Cookie' "$HDRS"; [ $? = 1 ]; echo $?)" "%0D%0A in If-Match: no header injected"
req GET /Patient/example -H 'Accept: application/fhir+json%0D%0ASet-Cookie: a=b'
is "$STATUS $(jqb .resourceType)" "406 OperationOutcome" "%0D%0A in Accept: 406"
ok "$(grep -qi '^Set-Cookie' "$HDRS"; [ $? = 1 ]; echo $?)" "%0D%0A in Accept: no header injected"
is "$(history_head)" "$before" "%0D%0A in headers: nothing written"

# Invalid UTF-8 in a body: 400 from the JSON or XML reader, in a plain
# create, an update and a transaction.
utf8_case() {	# utf8_case WHAT METHOD PATH CONTENT-TYPE BODY-FILE
	local before
	before=$(history_head)
	req "$2" "$3" -H "Content-Type: $4" --data-binary "@$5"
	is "$STATUS $(jqb .resourceType)" "400 OperationOutcome" "$1: 400"
	grep -q 'invalid UTF-8' "$BODY"
	ok $? "$1: the OperationOutcome says invalid UTF-8"
	req GET /metadata
	is "$STATUS" 200 "still serving after: $1"
	is "$(history_head)" "$before" "$1: nothing written"
}
printf '{"resourceType":"Patient","name":[{"family":"\xff\xfe"}]}' > "$TMP/u8"
utf8_case "invalid UTF-8 in a JSON create" POST /Patient application/fhir+json "$TMP/u8"
printf '{"resourceType":"Patient","id":"example","name":[{"family":"\xc0\xaf"}]}' > "$TMP/u8"
utf8_case "overlong UTF-8 in a JSON update" PUT /Patient/example application/fhir+json "$TMP/u8"
printf '{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},{"resource":{"resourceType":"Patient","name":[{"family":"\xed\xa0\x80"}]},"request":{"method":"POST","url":"Patient"}}]}' > "$TMP/u8"
utf8_case "a UTF-8 surrogate in a transaction" POST "" application/fhir+json "$TMP/u8"
printf '<Patient xmlns="http://hl7.org/fhir"><active value="\xe2\x82"/></Patient>' > "$TMP/u8"
utf8_case "truncated UTF-8 in an XML create" POST /Patient application/fhir+xml "$TMP/u8"

# A truncated body: a whole, valid resource, but a Content-Length 40
# bytes beyond it, and the connection closed.  lighttpd never passes the
# request on; nothing is answered and nothing written.
before=$(history_head)
{ post_head; printf 'Content-Length: %d\r\n\r\n%s' $(( ${#PAT} + 40 )) "$PAT"; } > "$TMP/req"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
cat "$TMP/req" >&3
exec 3<&-
sleep 0.3
req GET /metadata
is "$STATUS" 200 "still serving after: a truncated body"
is "$(history_head)" "$before" "a truncated body: nothing written"

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


# A slow body: a valid Patient trickled 8 bytes every 0.5 s (2.5 s).
# lighttpd buffers it, so the workers serve others meanwhile (a read
# sent 0.3 s in is answered before the body is complete), and when it is
# complete it is created like any other: 201, one Patient more.
before=$(history_head)
before_count=${before##* }
{ post_head 'Connection: close\r\n'; printf 'Content-Length: %d\r\n\r\n' ${#PAT}; } > "$TMP/req"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
cat "$TMP/req" >&3
( for i in $(seq 0 8 $(( ${#PAT} - 1 ))); do
	printf '%s' "${PAT:$i:8}"
	sleep 0.5
  done ) >&3 &
trickle=$!
sleep 0.3
req GET /Patient/example
kill -0 "$trickle" 2>/dev/null
trickling=$?
is "$STATUS" 200 "a slow body: others are served meanwhile"
ok "$trickling" "a slow body: ... before it is complete"
wait "$trickle"
status=$(timeout 5 head -n 1 <&3 | cut -d' ' -f2)
exec 3<&-
is "$status" 201 "a slow body: created once complete"
after=$(history_head)
is "${after##* }" $(( before_count + 1 )) "a slow body: exactly one Patient more"

finish
