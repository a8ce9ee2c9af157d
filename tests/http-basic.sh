#!/bin/bash
# http-basic.sh: through lighttpd and ember.fcgi, the capability
# statements of every version, reads of the loaded examples, version
# selection by URL and by fhirVersion MIME parameter, HEAD, and exact
# bytes (decimals keep their text).
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server

# [base]/metadata per version: resource, fhirVersion, MIME type.
while read -r path rtype fv mime; do
	[ "$path" = - ] && path=
	req GET "$path/metadata"
	is "$STATUS" 200 "GET $path/metadata: 200"
	is "$(jqb .resourceType) $(jqb .fhirVersion)" "$rtype $fv" \
	    "GET $path/metadata: $rtype $fv"
	is "$(header Content-Type)" "$mime; charset=utf-8" \
	    "GET $path/metadata: Content-Type $mime"
done <<'TABLE'
-	CapabilityStatement 4.0.1 application/fhir+json
/DSTU2	Conformance 1.0.2 application/json+fhir
/STU3	CapabilityStatement 3.0.2 application/fhir+json
/R4	CapabilityStatement 4.0.1 application/fhir+json
/R4B	CapabilityStatement 4.3.0 application/fhir+json
/R5	CapabilityStatement 5.0.0 application/fhir+json
TABLE

# The capability statement lists exactly the interactions that work.
req GET /metadata
is "$(jqb '[.rest[0].resource[] | select(.type=="Patient") | .interaction[].code] | join(",")')" \
    "read,vread,update,delete,history-instance,history-type,create,search-type,patch" \
    "R4 Patient interactions are the implemented ones"
is "$(jqb '.rest[0].resource | length')" 146 "R4 lists its 146 concrete resource types"
is "$(jqb '.format | join(",")')" json,xml "formats: json and xml"
is "$(jqb '[.rest[0].resource[] | select(.type=="Patient") | .searchParam[] | select(.name=="birthdate") | .type] | join(",")')" date \
    "R4 Patient lists its birthdate search parameter"
is "$(jqb '[.rest[0].interaction[].code] | join(",")')" "transaction,search-system,history-system,batch" \
    "R4 system interactions"
req GET /DSTU2/metadata
is "$(jqb '[.rest[0].interaction[].code] | join(",")')" "transaction,search-system,history-system" \
    "DSTU2 system interactions (no batch code in DSTU2)"

# DSTU2 needs acceptUnknown; R4 has no such element.
req GET /DSTU2/metadata
is "$(jqb .acceptUnknown)" no "DSTU2 Conformance has acceptUnknown"
req GET /R4/metadata
is "$(jqb 'has("acceptUnknown")')" false "R4 has no acceptUnknown"

# Patient/example in every version, from examples/.
for v in "" /DSTU2 /STU3 /R4 /R4B /R5; do
	req GET "$v/Patient/example"
	is "$STATUS" 200 "GET $v/Patient/example: 200"
	is "$(jqb '.resourceType + "/" + .id + " v" + .meta.versionId')" \
	    "Patient/example v1" "GET $v/Patient/example: the resource, version 1"
	is "$(header ETag)" 'W/"1"' "GET $v/Patient/example: ETag"
	is "$(header Last-Modified)" "$(http_date "$(jqb .meta.lastUpdated)")" \
	    "GET $v/Patient/example: Last-Modified is meta.lastUpdated"
done

# fhirVersion MIME parameter on the default base picks the version.
req GET /metadata -H 'Accept: application/fhir+json; fhirVersion=3.0'
is "$(jqb .fhirVersion)" 3.0.2 "Accept fhirVersion=3.0 selects STU3"
req GET /metadata -H 'Accept: application/json+fhir; fhirVersion=1.0'
is "$(jqb .resourceType)" Conformance "Accept fhirVersion=1.0 selects DSTU2"
req GET /metadata -H 'Accept: application/fhir+json; fhirVersion=9.9'
is "$STATUS" 406 "unknown fhirVersion: 406"

# HEAD: headers of a GET, no body.
req HEAD /Patient/example
is "$STATUS" 200 "HEAD Patient/example: 200"
is "$(header ETag)" 'W/"1"' "HEAD: ETag"
# Read the raw answer: nothing may follow the blank line after the headers.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'HEAD /fhir/Patient/example HTTP/1.0\r\nHost: x\r\n\r\n' >&3
raw=$(cat <&3 | od -An -c | tr -d ' \n')
exec 3<&-
is "${raw##*\\r\\n\\r\\n}" "" "HEAD: no body after the headers"

# Stored bytes are served as stored: 1.50 keeps its trailing zero.
req GET /Observation/urine-creatinine-24h
ok "$(grep -q '"value":1.50' "$BODY"; echo $?)" "decimal 1.50 is served as 1.50"
is "$(head -c 60 "$BODY")" '{"resourceType":"Observation","id":"urine-creatinine-24h","m' \
    "resourceType and id lead the stored JSON"

# _pretty=true indents.
req GET '/Patient/example?_pretty=true'
is "$(sed -n 2p "$BODY")" '  "resourceType": "Patient",' "_pretty=true indents by two spaces"

# _format=json is accepted; Accept */* too.
req GET '/Patient/example?_format=json'
is "$STATUS" 200 "_format=json: 200"
req GET /Patient/example -H 'Accept: */*'
is "$STATUS" 200 "Accept */*: 200"

finish
