#!/bin/bash
# http-token.sh: the write token (DATA/write.lock; store.h,
# store_token_open()).  Each row sends a write while another process
# holds the token, then a read.  A create is made ready first, and the
# worker that holds it answers reads while it waits for the token; a
# write with nothing made ready waits for the token as for LMDB's lock,
# and the read waits behind it.  Either way the write is stored once the
# token is free.  One worker, so that no other could answer the read.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
need flock
WORKERS=1 start_server

HOLD=2		# seconds the token is held
CT='Content-Type: application/fhir+json'

# label | method | path | body | status | read answered while held
ROWS=$(cat <<'EOF'
a create|POST|Patient|{"resourceType":"Patient","active":true}|201|yes
an update|PUT|Patient/tok-upd|{"resourceType":"Patient","id":"tok-upd","active":true}|201|no
EOF
)

# stamp FILE CMD...: run CMD, then write its output and the time (ns).
stamp() {
	local f=$1
	shift
	{ "$@"; echo " $(date +%s%N)"; } > "$f"
}

req GET "/Patient?active=true&_summary=count"
before=$(jqb .total)
while IFS='|' read -r label method path body status answered; do
	rm -f "$TMP/write" "$TMP/read"
	# Held until HOLD seconds after t0 at least.
	t0=$(date +%s%N)
	flock "$DATA/write.lock" sleep "$HOLD" &
	holder=$!
	for i in $(seq 50); do
		flock -n "$DATA/write.lock" true || break
		sleep 0.02
	done
	ok "$(flock -n "$DATA/write.lock" true && echo 1 || echo 0)" "$label: another process holds the token"
	stamp "$TMP/write" "$CURL" -s -o /dev/null -w '%{http_code}' -X "$method" \
	    -H "$CT" --data-binary "$body" "$BASE/$path" &
	writer=$!
	sleep 0.5
	stamp "$TMP/read" "$CURL" -s -o /dev/null -w '%{http_code}' "$BASE/Patient/example" &
	reader=$!
	wait "$reader" "$writer" "$holder"
	read -r rstatus rdone < "$TMP/read"
	read -r wstatus wdone < "$TMP/write"
	is "$rstatus" 200 "$label: the read is answered"
	is "$wstatus" "$status" "$label: stored once the token is free"
	held=$((t0 + HOLD * 1000000000))
	if [ "$answered" = yes ]; then
		ok "$([ "$rdone" -lt "$held" ] && [ "$wdone" -ge "$held" ] &&
		    echo 0 || echo 1)" \
		    "$label: the read is answered while the write waits"
	else
		ok "$([ "$rdone" -ge "$held" ] && [ "$wdone" -ge "$held" ] &&
		    echo 0 || echo 1)" \
		    "$label: the read waits behind the write"
	fi
done <<< "$ROWS"

req GET "/Patient?active=true&_summary=count"
is "$(jqb .total)" $((before + 2)) "both writes are there"
ok "$(flock -n "$DATA/write.lock" true && echo 0 || echo 1)" "the token is free at the end"
check_stores
finish
