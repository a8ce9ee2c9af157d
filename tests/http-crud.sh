#!/bin/bash
# http-crud.sh: create, read, vread, update, delete and history through
# lighttpd and ember.fcgi, with the status codes and headers http.html
# gives, for R4 and DSTU2.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server

# The response head of the last request, one line per header joined with
# '|', without the Date lighttpd adds.
head_lines() {
	tr -d '\r' < "$HDRS" | grep -v -e '^Date:' -e '^$' | paste -sd'|'
}

for v in /R4 /DSTU2; do
	case $v in
	/DSTU2) mime=application/json+fhir ;;
	*) mime=application/fhir+json ;;
	esac
	CT="Content-Type: $mime"
	# HumanName.family repeats in DSTU2 only.
	case $v in
	/DSTU2) fam='["Öztürk"]'; famq='.name[0].family[0]' ;;
	*) fam='"Öztürk"'; famq='.name[0].family' ;;
	esac

	# create: 201, Location, ETag W/"1", Last-Modified; server-owned
	# id and meta replace the client's.
	req POST "$v/Patient" -H "$CT" --data-binary \
	    '{"resourceType":"Patient","id":"client-id","meta":{"versionId":"7","lastUpdated":"2001-01-01T00:00:00Z","tag":[{"code":"t"}]},"name":[{"family":'"$fam"'}],"multipleBirthInteger":2}'
	is "$STATUS" 201 "$v create: 201"
	id=$(jqb .id)
	ok "$([ "$id" != client-id ] && [ ${#id} -eq 22 ]; echo $?)" "$v create: server-assigned id ($id)"
	is "$(header Location)" "http://127.0.0.1:$PORT/fhir$v/Patient/$id/_history/1" "$v create: Location"
	is "$(header ETag)" 'W/"1"' "$v create: ETag"
	is "$(jqb .meta.versionId)" 1 "$v create: versionId 1 replaces the client's"
	is "$(jqb '.meta.tag[0].code')" t "$v create: other meta kept"
	lu=$(jqb .meta.lastUpdated)
	ok "$(d=$(( $(date -u +%s) - $(date -u -d "$lu" +%s) )); [ "$d" -ge 0 ] && [ "$d" -le 60 ]; echo $?)" \
	    "$v create: lastUpdated set by the server to now ($lu)"
	is "$(header Last-Modified)" "$(http_date "$lu")" "$v create: Last-Modified is meta.lastUpdated"
	is "$(header Content-Type)" "$mime; charset=utf-8" "$v create: Content-Type"
	lu1=$(jqb .meta.lastUpdated)

	# read it back, exactly as created
	req GET "$v/Patient/$id"
	is "$STATUS" 200 "$v read: 200"
	is "$(jqb "$famq")" "Öztürk" "$v read: UTF-8 content intact"
	is "$(header ETag)" 'W/"1"' "$v read: ETag"
	# The whole head of a read, in order, as ember.fcgi writes it
	# (lighttpd adds Accept-Ranges, Date and Server): its headers are
	# written without printf, so every byte is asserted here.
	is "$(head_lines)" "HTTP/1.1 200 OK|Content-Type: $mime; charset=utf-8|ETag: W/\"1\"|Last-Modified: $(http_date "$lu")|Content-Length: $(wc -c < "$BODY" | tr -d ' ')|Accept-Ranges: bytes|Server: ember" \
	    "$v read: the exact head"
	len=$(wc -c < "$BODY" | tr -d ' ')
	req HEAD "$v/Patient/$id"
	is "$STATUS|$(head_lines)" "200|HTTP/1.1 200 OK|Content-Type: $mime; charset=utf-8|ETag: W/\"1\"|Last-Modified: $(http_date "$lu")|Content-Length: $len|Accept-Ranges: bytes|Server: ember" \
	    "$v read HEAD: the exact head, no body"

	# conditional read
	req GET "$v/Patient/$id" -H 'If-None-Match: W/"1"'
	is "$STATUS" 304 "$v read If-None-Match current: 304"
	is "$(head_lines)" "HTTP/1.1 304 Not Modified|ETag: W/\"1\"|Last-Modified: $(http_date "$lu")|Server: ember" \
	    "$v read 304: the exact head, no Content-Length"
	req GET "$v/Patient/$id" -H 'If-None-Match: W/"9"'
	is "$STATUS" 200 "$v read If-None-Match other: 200"
	req GET "$v/Patient/$id" -H "If-Modified-Since: $(date -u -d '+1 day' '+%a, %d %b %Y %H:%M:%S GMT')"
	is "$STATUS" 304 "$v read If-Modified-Since future: 304"
	req GET "$v/Patient/$id" -H 'If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT'
	is "$STATUS" 200 "$v read If-Modified-Since past: 200"

	# update: id missing or different is 400; stale If-Match 412
	req PUT "$v/Patient/$id" -H "$CT" --data-binary '{"resourceType":"Patient"}'
	is "$STATUS" 400 "$v update without id: 400"
	req PUT "$v/Patient/$id" -H "$CT" --data-binary '{"resourceType":"Patient","id":"other"}'
	is "$STATUS" 400 "$v update with a different id: 400"
	req PUT "$v/Patient/$id" -H "$CT" -H 'If-Match: W/"5"' --data-binary "{\"resourceType\":\"Patient\",\"id\":\"$id\"}"
	is "$STATUS" 412 "$v update stale If-Match: 412"
	req PUT "$v/Patient/$id" -H "$CT" -H 'If-Match: W/"1"' --data-binary "{\"resourceType\":\"Patient\",\"id\":\"$id\",\"active\":true}"
	is "$STATUS" 200 "$v update with If-Match current: 200"
	is "$(jqb .meta.versionId) $(header ETag)" '2 W/"2"' "$v update: version 2"
	lu2=$(jqb .meta.lastUpdated)
	ok "$([[ "$lu2" > "$lu1" ]]; echo $?)" "$v update: lastUpdated increases"

	# Prefer return=minimal / OperationOutcome
	req PUT "$v/Patient/$id" -H "$CT" -H 'Prefer: return=minimal' --data-binary "{\"resourceType\":\"Patient\",\"id\":\"$id\"}"
	is "$STATUS $(wc -c < "$BODY" | tr -d ' ')" "200 0" "$v update Prefer minimal: empty body"
	req PUT "$v/Patient/$id" -H "$CT" -H 'Prefer: return=OperationOutcome' --data-binary "{\"resourceType\":\"Patient\",\"id\":\"$id\"}"
	is "$(jqb .resourceType) $(header ETag)" 'OperationOutcome W/"4"' "$v update Prefer OperationOutcome"

	# vread
	req GET "$v/Patient/$id/_history/1"
	is "$STATUS $(jqb .meta.versionId)" "200 1" "$v vread 1"
	req GET "$v/Patient/$id/_history/2"
	is "$(jqb .active)" true "$v vread 2 has its content"
	req GET "$v/Patient/$id/_history/5"
	is "$STATUS" 404 "$v vread unknown version: 404"

	# update as create with a client id
	cid=client-made-$RANDOM
	req PUT "$v/Patient/$cid" -H "$CT" --data-binary "{\"resourceType\":\"Patient\",\"id\":\"$cid\"}"
	is "$STATUS" 201 "$v update as create: 201"
	is "$(header Location)" "http://127.0.0.1:$PORT/fhir$v/Patient/$cid/_history/1" "$v update as create: Location"

	# delete: 200, then 410 on read, harmless repeat, 404 for unknown
	req DELETE "$v/Patient/$id"
	is "$STATUS $(header ETag)" '200 W/"5"' "$v delete: 200, ETag of the delete"
	req GET "$v/Patient/$id"
	is "$STATUS" 410 "$v read deleted: 410"
	is "$(head_lines)" "HTTP/1.1 410 Gone|Content-Type: $mime; charset=utf-8|ETag: W/\"5\"|Last-Modified: $(header Last-Modified)|Content-Length: $(wc -c < "$BODY" | tr -d ' ')|Server: ember" \
	    "$v read deleted: the exact head"
	req GET "$v/Patient/$id/_history/5"
	is "$STATUS" 410 "$v vread the delete version: 410"
	req GET "$v/Patient/$id/_history/4"
	is "$STATUS" 200 "$v vread before the delete: 200"
	req DELETE "$v/Patient/$id"
	is "$STATUS" 200 "$v delete again: 200"
	req GET "$v/Patient/$id/_history"
	is "$(jqb '.entry | length')" 5 "$v delete again wrote no version"
	req DELETE "$v/Patient/never-was"
	is "$STATUS" 404 "$v delete unknown: 404"

	# instance history: newest first, request and response per entry
	req GET "$v/Patient/$id/_history"
	is "$STATUS $(jqb .type)" "200 history" "$v history-instance: a history Bundle"
	is "$(jqb '[.entry[].request.method] | join(",")')" "DELETE,PUT,PUT,PUT,POST" \
	    "$v history-instance: methods newest first"
	is "$(jqb '[.entry[].response.status] | join(",")')" "204,200,200,200,201" \
	    "$v history-instance: statuses"
	is "$(jqb '.entry[4].request.url')" "Patient" "$v history: POST url is the type"
	is "$(jqb '.entry[1].response.etag')" 'W/"4"' "$v history: etag"
	is "$(jqb '.entry[0] | has("resource")')" false "$v history: a delete has no resource"

	# update of a deleted resource brings it back (201)
	req PUT "$v/Patient/$id" -H "$CT" --data-binary "{\"resourceType\":\"Patient\",\"id\":\"$id\"}"
	is "$STATUS $(header ETag)" '201 W/"6"' "$v update after delete: 201, version 6"

	# paging: _count=2 through the type history, following next links
	req GET "$v/Patient/$id/_history?_count=2"
	is "$(pages '[.entry[].response.etag] | join(" ")' | paste -sd' ')" \
	    'W/"6" W/"5" W/"4" W/"3" W/"2" W/"1"' \
	    "$v history paging with _count=2 visits every version once"

	# _since
	req GET "$v/Patient/$id/_history?_since=$lu2"
	is "$(jqb '[.entry[].response.etag] | join(" ")')" 'W/"6" W/"5" W/"4" W/"3" W/"2"' "$v _since=lastUpdated of v2"

	# type and system history include our writes
	req GET "$v/Patient/_history?_count=1"
	is "$(jqb '.entry[0].fullUrl')" "http://127.0.0.1:$PORT/fhir$v/Patient/$id" "$v history-type: newest first"
	req GET "$v/_history?_count=1"
	is "$(jqb '.entry[0].fullUrl')" "http://127.0.0.1:$PORT/fhir$v/Patient/$id" "$v history-system: newest first"
done

# _at: the versions current at some time in the period.
req PUT /Patient/at1 -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","id":"at1"}'
lu_a=$(jqb .meta.lastUpdated)
sleep 1.1
req PUT /Patient/at1 -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","id":"at1","active":true}'
lu_b=$(jqb .meta.lastUpdated)
sleep 1.1
req PUT /Patient/at1 -H 'Content-Type: application/fhir+json' --data-binary '{"resourceType":"Patient","id":"at1","active":false}'
sec() { echo "$1" | cut -c1-19; }
req GET "/Patient/at1/_history?_at=$(sec "$lu_a")Z"
is "$(jqb '[.entry[].response.etag] | join(" ")')" 'W/"1"' "_at the first version's second: version 1"
req GET "/Patient/at1/_history?_at=$(sec "$lu_b")Z"
is "$(jqb '[.entry[].response.etag] | join(" ")')" 'W/"2" W/"1"' "_at the second version's second: version 2, and 1 (current at its start)"
req GET "/Patient/at1/_history?_at=$(date -u +%Y)"
is "$(jqb '[.entry[].response.etag] | join(" ")')" 'W/"3" W/"2" W/"1"' "_at this year: all three"
req GET "/Patient/at1/_history?_at=2001"
is "$(jqb '.entry | length')" 0 "_at before the resource existed: none"
req GET "/Patient/_history?_at=$(date -u +%Y)&_count=1"
next=$(jqb '.link[] | select(.relation=="next") | .url')
ok "$([[ "$next" == *"_at=$(date -u +%Y)"* ]]; echo $?)" "_at carries into the next link"
req GET '/Patient/example/_history?_at=soon'
is "$STATUS" 400 "_at not a date: 400"
req GET '/Patient/example/_history?_since=yesterday'
is "$STATUS" 400 "_since not a date: 400"

finish
