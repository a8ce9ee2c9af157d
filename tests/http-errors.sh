#!/bin/bash
# http-errors.sh: every error is an OperationOutcome with the right status,
# and the worker keeps serving after each.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server "max_body = 1048576"

# method path status issue-code [curl args...]
check() {
	local method=$1 path=$2 want=$3 code=$4
	shift 4
	req "$method" "$path" "$@"
	is "$STATUS" "$want" "$method $path: $want"
	is "$(jqb '.resourceType + " " + .issue[0].severity + " " + .issue[0].code')" \
	    "OperationOutcome error $code" "$method $path: OperationOutcome ($code)"
	req GET /metadata
	is "$STATUS" 200 "still serving after $method $path"
}

check GET /Unicorn/1 404 not-supported
check GET /Patient/no-such-id 404 not-found
check GET /Patient/bad%24id 400 invalid
check GET /Patient/example/_history/99 404 not-found
check GET /Patient/example/nope 404 not-found
check GET /R7/Patient/example 404 not-supported
check POST /Patient/example 405 not-supported -H 'Content-Type: application/fhir+json' --data-binary '{}'
check PATCH /metadata 405 not-supported
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Observation"}'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","a":1,"a":2}'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","name":[{"text":"a\u0000b"}]}'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","x":1e999}'
check POST /Patient 400 structure -H 'Content-Type: application/fhir+json' \
    --data-binary "{\"resourceType\":\"Patient\",\"x\":$(printf '[%.0s' $(seq 200))$(printf ']%.0s' $(seq 200))}"
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary ''
check POST /Patient 415 not-supported -H 'Content-Type: text/plain' --data-binary 'hello'
check GET /Patient/example 406 not-supported -H 'Accept: text/html'
check GET '/Patient/example?_format=yaml' 406 not-supported
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","colour":"blue"}'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","gender":["male"]}'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","active":"yes"}'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+xml' --data-binary '<Patient xmlns="http://hl7.org/fhir"><colour value="blue"/></Patient>'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+xml' --data-binary '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Patient xmlns="http://hl7.org/fhir"><gender value="&b;"/></Patient>'
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+xml' --data-binary '<?xml version="1.0"?><!DOCTYPE p SYSTEM "file:///etc/passwd"><Patient xmlns="http://hl7.org/fhir"/>'

# A body over max_body (1 MiB here): 413, and nothing stored.
head -c $((20 * 1024 * 1024)) /dev/zero | tr '\0' ' ' > "$TMP/big.json"
check POST /Patient 413 too-long -H 'Content-Type: application/fhir+json' --data-binary "@$TMP/big.json"
req GET /Patient/_history
is "$(jqb '[.entry[] | select(.request.method == "POST")] | length')" 0 \
    "no Patient was created by the failed requests"

# Invalid UTF-8 in a body.
printf '{"resourceType":"Patient","name":[{"text":"\xff\xfe"}]}' > "$TMP/bad-utf8.json"
check POST /Patient 400 invalid -H 'Content-Type: application/fhir+json' --data-binary "@$TMP/bad-utf8.json"

finish
