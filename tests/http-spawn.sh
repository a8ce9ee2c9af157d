#!/bin/bash
# http-spawn.sh: ember.fcgi started by spawn-fcgi on a TCP port, as
# README describes for "behind any web server", answered over FastCGI
# (cgi-fcgi from libfcgi-bin is the client).
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
need spawn-fcgi cgi-fcgi "$JQ"

DATA=$TMP/data
mkdir -p "$DATA"
cat > "$TMP/ember.conf" <<CONF
data_dir = $DATA
tables_dir = $EMBER_BUILDDIR/schemas
max_body = 4096
CONF
EMBER_CONF=$TMP/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$EMBER_SRCDIR/examples/r4" >/dev/null

# A port free a moment ago may be taken by another test meanwhile: try
# a few.
for try in 1 2 3 4 5; do
	port=$(free_port)
	EMBER_CONF=$TMP/ember.conf spawn-fcgi -a 127.0.0.1 -p "$port" -F 2 \
	    -P "$TMP/spawn.pid" -- "$EMBER_BUILDDIR/fcgi/ember.fcgi" \
	    > "$TMP/spawn.out" 2>&1
	rc=$?
	[ "$rc" = 0 ] && break
	diag "spawn-fcgi on port $port: $(cat "$TMP/spawn.out")"
done
is "$rc" 0 "spawn-fcgi starts two ember.fcgi workers"

# fcgi METHOD URI [FILE]: one FastCGI request, FILE its JSON body; the
# raw CGI response goes to $HDRS and $BODY.
fcgi() {
	local body=${3:-/dev/null}
	env -i REQUEST_METHOD="$1" REQUEST_URI="$2" HTTP_HOST=localhost \
	    SERVER_PROTOCOL=HTTP/1.1 CONTENT_LENGTH="$(wc -c < "$body")" \
	    CONTENT_TYPE=application/fhir+json \
	    cgi-fcgi -bind -connect "127.0.0.1:$port" < "$body" > "$TMP/raw" 2>/dev/null
	# Split the CGI response: headers, blank line, body.
	sed -n '1,/^\r*$/p' "$TMP/raw" > "$HDRS"
	sed '1,/^\r*$/d' "$TMP/raw" > "$BODY"
}

for i in 1 2 3 4; do
	fcgi GET /fhir/Patient/example
	is "$(head -n 1 "$HDRS" | tr -d '\r')" "Status: 200 OK" "request $i: Status 200"
	is "$(jqb '.resourceType + "/" + .id')" Patient/example "request $i: Patient/example"
done
fcgi GET /fhir/metadata
is "$(jqb .fhirVersion)" 4.0.1 "metadata over spawn-fcgi"
fcgi GET /fhir/Nope/1
is "$(head -n 1 "$HDRS" | tr -d '\r')" "Status: 404 Not Found" "errors over spawn-fcgi"
# A worker closes a connection at once when it has read the request to
# its end (ember_finish()), and waits for the client to close first when
# it has not: a body over max_body.  Both kinds of answer arrive whole
# over TCP.  (On loopback an early close on unread input loses nothing
# either, so this checks the answers, not the wait.)
printf '{"resourceType":"Patient","gender":"other"}' > "$TMP/small.json"
head -c 300000 /dev/zero | tr '\0' ' ' > "$TMP/big.json"
for i in 1 2 3; do
	fcgi POST /fhir/Patient "$TMP/small.json"
	is "$(head -n 1 "$HDRS" | tr -d '\r') $(jqb .gender)" "Status: 201 Created other" \
	    "create $i over spawn-fcgi, body read to its end"
	fcgi POST /fhir/Patient "$TMP/big.json"
	is "$(head -n 1 "$HDRS" | tr -d '\r') $(jqb .resourceType)" \
	    "Status: 413 Content Too Large OperationOutcome" "body $i over max_body, left unread: 413, whole"
done

# spawn-fcgi -F 2 wrote both workers' process ids; stop exactly those.
pids=$(cat "$TMP/spawn.pid")
is "$(echo $pids | wc -w)" 2 "two worker process ids"
kill -TERM $pids
alive=1
for i in $(seq 50); do
	alive=0
	for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ $alive = 0 ] && break
	sleep 0.1
done
is "$alive" 0 "workers exit on SIGTERM"
check_sanitizer_log "$TMP/spawn.out"
echo "1..$TAP_N"
[ "$TAP_FAILED" = 0 ] && rm -rf "$TMP"
[ "$TAP_FAILED" = 0 ]
