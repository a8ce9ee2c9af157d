#!/bin/bash
# http-concurrency.sh: concurrent writers through lighttpd and two
# ember.fcgi workers.  8 clients updating one resource with If-Match in a
# loop: every accepted update gets a distinct version, no update is lost
# (each version holds exactly the marker of the client it was promised
# to), the others get 412 and nothing else.  8 clients creating at once:
# every create succeeds with its own id and type history grows by exactly
# the number of creates.  A burst of creates, more than the workers take
# at once: all are stored, in fewer commits than creates (group_commit).
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server

CLIENTS=8
ROUNDS=40	# If-Match updates per client
CREATES=25	# creates per client
CT='Content-Type: application/fhir+json'

patient() {	# patient MARKER: a Patient conc carrying MARKER
	printf '{"resourceType":"Patient","id":"conc","identifier":[{"system":"urn:client","value":"%s"}]}' "$1"
}

# vid ETAG: the version number in W/"N".
vid() { local v=${1#W/\"}; echo "${v%\"}"; }

# history_count PATH: entries of a history, following next links.
history_count() {
	local n=0 next=$BASE$1
	while [ -n "$next" ]; do
		req GET "$next"
		[ "$STATUS" = 200 ] || { echo "status $STATUS"; return; }
		n=$((n + $(jqb '.entry // [] | length')))
		next=$(jqb '.link[]? | select(.relation=="next") | .url')
	done
	echo "$n"
}

# updater C: ROUNDS of read the ETag, then PUT with If-Match; one line
# "STATUS NEW-ETAG MARKER IF-MATCH-ETAG" per PUT in $TMP/upd.C.
updater() {
	local c=$1 i etag marker
	for ((i = 1; i <= ROUNDS; i++)); do
		etag=$("$CURL" -s -o /dev/null -w '%header{etag}' "$BASE/Patient/conc")
		marker=c$c-i$i
		"$CURL" -s -o /dev/null -w "%{http_code} %header{etag} $marker $etag\n" \
		    -X PUT -H "$CT" -H "If-Match: $etag" \
		    --data-binary "$(patient "$marker")" "$BASE/Patient/conc"
	done > "$TMP/upd.$c"
}

# creator C: CREATES POSTs; one line "STATUS ID" per POST in $TMP/new.C.
creator() {
	local c=$1 i
	for ((i = 1; i <= CREATES; i++)); do
		"$CURL" -s -o /dev/null -w '%{http_code} %header{location}\n' \
		    -X POST -H "$CT" --data-binary '{"resourceType":"Patient","active":true}' \
		    "$BASE/Patient"
	done | sed -E 's|^([0-9]+) .*/Patient/([^/]+)/_history/.*|\1 \2|' > "$TMP/new.$c"
}

# transactor CLIENT: CREATES small transactions, Patient + Observation
# referencing it by urn:uuid; logs status and the two locations.
transactor() {
	local c=$1 i
	for ((i = 1; i <= CREATES; i++)); do
		"$CURL" -s -X POST -H "$CT" "$BASE" --data-binary \
		    '{"resourceType":"Bundle","type":"transaction","entry":[
		      {"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","identifier":[{"system":"urn:tx","value":"'"$c-$i"'"}]},"request":{"method":"POST","url":"Patient"}},
		      {"resource":{"resourceType":"Observation","status":"final","code":{"text":"'"$c-$i"'"},"subject":{"reference":"urn:uuid:p"}},"request":{"method":"POST","url":"Observation"}}]}' |
		    "$JQ" -r '[.type // .resourceType, .entry[0].response.status, .entry[1].response.status] | join(" ")'
	done > "$TMP/tx.$c"
}

# last_txn: the R4 store's last committed LMDB transaction (mdb_stat).
last_txn() {
	mdb_stat -e "$DATA/r4" | sed -n 's/^ *Last transaction ID: //p'
}

# in_parallel FUNCTION: run FUNCTION 1..CLIENTS at once, wait for all.
in_parallel() {
	local c pids=()
	for ((c = 1; c <= CLIENTS; c++)); do
		"$1" "$c" &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# --- If-Match updates ------------------------------------------------------

req PUT /Patient/conc -H "$CT" --data-binary "$(patient initial)"
is "$STATUS $(header ETag)" '201 W/"1"' "create Patient/conc"

in_parallel updater
cat "$TMP"/upd.* > "$TMP/updates"
total=$(wc -l < "$TMP/updates")
n200=$(grep -c '^200 ' "$TMP/updates")
n412=$(grep -c '^412 ' "$TMP/updates")
diag "$total updates: $n200 accepted, $n412 answered 412"

is "$total" $((CLIENTS * ROUNDS)) "every update got an answer"
is "$((n200 + n412))" "$total" "every update answered 200 or 412"
grep -vE '^(200|412) ' "$TMP/updates" | head -5 | sed 's/^/# unexpected: /'
ok "$([ "$n412" -gt 0 ]; echo $?)" "racing clients met 412"
ok "$([ "$n200" -gt 0 ]; echo $?)" "some updates were accepted"

# version -> marker of every accepted update, by version; an accepted
# update gets exactly the version after the one its If-Match named
grep '^200 ' "$TMP/updates" | while read -r _ etag marker base; do
	echo "$(vid "$etag") $marker $(vid "$base")"
done | sort -n > "$TMP/accepted.base"
is "$(awk '$1 != $3 + 1' "$TMP/accepted.base" | wc -l)" 0 "each accepted update is the version after its If-Match"
cut -d' ' -f1,2 "$TMP/accepted.base" > "$TMP/accepted"
is "$(cut -d' ' -f1 "$TMP/accepted" | sort -u | wc -l)" "$n200" "accepted updates have distinct versions"
is "$(cut -d' ' -f1 "$TMP/accepted" | tr '\n' ' ')" "$(seq -s ' ' 2 $((n200 + 1))) " \
    "accepted updates hold versions 2..$((n200 + 1)), none skipped"

req GET /Patient/conc
is "$STATUS $(jqb .meta.versionId)" "200 $((n200 + 1))" "final versionId is accepted updates + 1"

req GET '/Patient/conc/_history?_count=1000'
is "$(jqb '.entry | length')" "$((n200 + 1))" "instance history has accepted updates + 1 entries"
is "$(jqb '[.entry[].resource | select(.meta.versionId != "1") | "\(.meta.versionId) \(.identifier[0].value)"] | sort_by(split(" ")[0] | tonumber) | join(",")')" \
    "$(tr '\n' ',' < "$TMP/accepted" | sed 's/,$//')" \
    "history: each version holds the marker of the client it was promised to"

# vread every accepted version: it is exactly that client's update
bad=0
while read -r v marker; do
	got=$("$CURL" -s "$BASE/Patient/conc/_history/$v" |
	    "$JQ" -r '"\(.meta.versionId) \(.identifier | length) \(.identifier[0].value)"')
	if [ "$got" != "$v 1 $marker" ]; then
		bad=$((bad + 1))
		diag "vread $v: got '$got', want '$v 1 $marker'"
	fi
done < "$TMP/accepted"
is "$bad" 0 "vread of each accepted version gives its client's marker"

# --- concurrent creates ----------------------------------------------------

before=$(history_count '/Patient/_history?_count=1000')
in_parallel creator
cat "$TMP"/new.* > "$TMP/creates"
is "$(wc -l < "$TMP/creates")" $((CLIENTS * CREATES)) "every create got an answer"
is "$(grep -c '^201 ' "$TMP/creates")" $((CLIENTS * CREATES)) "every create answered 201"
is "$(cut -d' ' -f2 "$TMP/creates" | sort -u | wc -l)" $((CLIENTS * CREATES)) "creates got distinct ids"
after=$(history_count '/Patient/_history?_count=1000')
is "$((after - before))" $((CLIENTS * CREATES)) "type history grew by exactly the creates ($before -> $after)"

# --- a burst of creates: they wait together, and share commits -------------

# One curl sends BURST creates, 16 at a time: more than the two workers
# take at once, so requests wait for them, and a worker with a write in
# hand takes the waiting ones into its commit (group_commit).
BURST=64
for ((i = 1; i <= BURST; i++)); do
	printf 'url = "%s/Patient"\noutput = "/dev/null"\n' "$BASE"
done > "$TMP/burst.curl"
txn_before=$(last_txn)
"$CURL" -s --parallel --parallel-immediate --parallel-max 16 -X POST \
    -H "$CT" --data-binary '{"resourceType":"Patient","active":false}' \
    -w '%{http_code}\n' --config "$TMP/burst.curl" > "$TMP/burst"
txn_after=$(last_txn)
is "$(grep -c '^201$' "$TMP/burst")" "$BURST" "every create of the burst answered 201"
req GET "/Patient?active=false&_summary=count"
is "$(jqb .total)" "$BURST" "every create of the burst is there"
commits=$((txn_after - txn_before))
diag "$BURST creates in $commits commits"
ok "$([ "$commits" -gt 0 ] && [ "$commits" -lt "$BURST" ]; echo $?)" \
    "creates that waited together shared commits"

# --- concurrent transactions ----------------------------------------------

in_parallel transactor
cat "$TMP"/tx.* > "$TMP/txs"
is "$(grep -c '^transaction-response 201 201$' "$TMP/txs")" $((CLIENTS * CREATES)) \
    "every concurrent transaction answered with two 201 entries"
req GET "/Patient?identifier=urn:tx|&_summary=count"
is "$(jqb .total)" $((CLIENTS * CREATES)) "every transaction's Patient is there"
req GET "/Observation?subject.identifier=urn:tx|&_summary=count"
is "$(jqb .total)" $((CLIENTS * CREATES)) "every transaction's Observation references its Patient"
req GET "/Observation?subject.identifier=urn:tx|3-7"
is "$(jqb '.entry[0].resource.code.text')" 3-7 "and the right one"

finish
