#!/bin/bash
# crash-restart.sh: kill -9 of the ember.fcgi workers in the middle of a
# write storm.  4 clients PUT new Observations while the workers are
# killed again and again (lighttpd respawns them), and the storm ends with
# kill -9 of lighttpd and its workers together; the server is then started
# again on the same data folder.  Every write that was answered 2xx is
# there, complete; a write whose answer was lost is either absent or
# complete, never half-written; every id has exactly one version; and
# `emberctl check` finds no problem in any store.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
start_server
export LC_ALL=C	# sort and join agree on the order of ids

WRITERS=4
STORM=10	# seconds of killing
CT='Content-Type: application/fhir+json'
PAD=$(printf '%03000d' 0)	# 3000 bytes: a torn record would show

observation() {	# observation ID: a complete Observation ID
	printf '{"resourceType":"Observation","id":"%s","status":"final","code":{"text":"crash-restart"},"valueString":"m-%s","note":[{"text":"%s"}]}' "$1" "$1" "$PAD"
}

# writer C: PUT Observation/wC-1, wC-2, ... until $TMP/stop exists (or
# 30 seconds after the storm's end, whatever happens); one line
# "ID STATUS" per request in $TMP/log.C (000: no answer).
writer() {
	local c=$1 n=0 id status deadline=$((SECONDS + STORM + 30))
	while [ ! -e "$TMP/stop" ] && [ $SECONDS -lt $deadline ]; do
		n=$((n + 1))
		id=w$c-$n
		status=$("$CURL" -s -o /dev/null -w '%{http_code}' --max-time 10 \
		    -X PUT -H "$CT" --data-binary "$(observation "$id")" \
		    "$BASE/Observation/$id")
		echo "$id $status"
		# lighttpd answers 503 until it respawns the workers
		[ "$status" != 503 ] || sleep 0.05
	done > "$TMP/log.$c"
}

# nap MIN MAX: sleep a random time between MIN and MAX milliseconds.
nap() {
	local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

# kill_workers: kill -9 every worker of lighttpd; adds to KILLS, KILLED.
KILLS=0 KILLED=0
kill_workers() {
	local pids
	pids=$(pgrep -P "$SERVER_PID")
	[ -n "$pids" ] || return 0
	kill -9 $pids 2>/dev/null
	KILLS=$((KILLS + 1))
	KILLED=$((KILLED + $(echo "$pids" | wc -w)))
}

# answers: true once the server answers a read (within 5 seconds).
answers() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$("$CURL" -s -o /dev/null -w '%{http_code}' "$BASE/metadata")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}

# kill_server: kill -9 lighttpd and its workers at once (lighttpd is
# stopped first so that it cannot respawn a worker in between).
kill_server() {
	kill -STOP "$SERVER_PID"
	kill_workers
	kill -9 "$SERVER_PID"
	SERVER_PID=
}

# --- the storm -------------------------------------------------------------

rm -f "$TMP/stop"
pids=()
for ((c = 1; c <= WRITERS; c++)); do
	writer "$c" &
	pids+=($!)
done
# Each kill lands at a random moment while the workers serve writes.
end=$((SECONDS + STORM))
while [ $SECONDS -lt $end ] && answers; do
	nap 100 900
	kill_workers
done
ok "$(answers; echo $?)" "lighttpd respawned the workers after each of $KILLS kills"
nap 0 300
kill_server
touch "$TMP/stop"
wait "${pids[@]}"

cat "$TMP"/log.* | sort > "$TMP/writes"
total=$(wc -l < "$TMP/writes")
awk '$2 ~ /^2/ { print $1 }' "$TMP/writes" > "$TMP/acked"
awk '$2 !~ /^2/ { print $1 }' "$TMP/writes" > "$TMP/failed"
acked=$(wc -l < "$TMP/acked")
failed=$(wc -l < "$TMP/failed")
diag "$KILLS kills ($KILLED workers, the last one with lighttpd)"
diag "$total writes: $acked acknowledged, $failed failed;" \
    "statuses: $(awk '{ print $2 }' "$TMP/writes" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')"
ok "$([ "$acked" -gt 0 ] && [ "$failed" -gt 0 ]; echo $?)" "the storm had both acknowledged and failed writes"
is "$(awk '$2 ~ /^2/ && $2 != 201' "$TMP/writes" | wc -l)" 0 "every acknowledged write of a new id answered 201"
is "$(awk '$2 !~ /^(201|000|5..)$/' "$TMP/writes" | wc -l)" 0 "no write answered 4xx or other"

# --- after the restart ------------------------------------------------------

start_server	# same DATA; the examples are not loaded again

# read_all IDS-FILE: GET each Observation in one curl; prints
# "ID STATUS VERSIONID COMPLETE" per id, "ID STATUS - -" for an
# OperationOutcome, "ID STATUS - BAD" if the body is not JSON.
read_all() {
	local dir=$TMP/read
	[ -s "$1" ] || return 0
	rm -rf "$dir"
	mkdir -p "$dir"
	while read -r id; do
		printf 'url = "%s/Observation/%s"\noutput = "%s/%s"\n' "$BASE" "$id" "$dir" "$id"
	done < "$1" > "$TMP/curl.conf"
	"$CURL" -s -K "$TMP/curl.conf" -w '%{http_code}\n' |
	    paste -d' ' "$1" - | sort > "$TMP/status"
	for f in "$dir"/*; do echo >> "$f"; done	# one line per body
	(cd "$dir" && "$JQ" -rR --arg pad "$PAD" '
	    input_filename as $f | (fromjson? // null) as $r |
	    if $r == null then "\($f) - BAD"
	    elif $r.resourceType == "OperationOutcome" then "\($f) - -"
	    else "\($f) \($r.meta.versionId) \($r.id == $f and $r.valueString == "m-\($f)" and $r.note[0].text == $pad and $r.status == "final")"
	    end' *) | sort | join "$TMP/status" -
}

read_all "$TMP/acked" > "$TMP/acked.read"
is "$(grep -cvE '^[^ ]+ 200 1 true$' "$TMP/acked.read")" 0 "every acknowledged write reads back 200, version 1, complete"
grep -vE '^[^ ]+ 200 1 true$' "$TMP/acked.read" | head -5 | sed 's/^/# /'

read_all "$TMP/failed" > "$TMP/failed.read"
present=$(grep -cE '^[^ ]+ 200 1 true$' "$TMP/failed.read")
absent=$(grep -cE '^[^ ]+ 404 - -$' "$TMP/failed.read")
diag "failed writes: $present committed before the kill, $absent absent"
is "$((present + absent))" "$failed" "every failed write is absent (404) or complete, never half-written"
grep -vE '^[^ ]+ (200 1 true|404 - -)$' "$TMP/failed.read" | head -5 | sed 's/^/# /'

# type history: exactly one version of each id that exists, no other w id
next="$BASE/Observation/_history?_count=1000"
: > "$TMP/history"
while [ -n "$next" ]; do
	req GET "$next"
	[ "$STATUS" = 200 ] || { diag "history: $STATUS"; break; }
	jqb '.entry[]?.resource // empty | select(.id | test("^w[0-9]+-[0-9]+$")) | "\(.id) \(.meta.versionId)"' >> "$TMP/history"
	next=$(jqb '.link[]? | select(.relation=="next") | .url')
done
sort "$TMP/history" -o "$TMP/history"
is "$(wc -l < "$TMP/history")" "$((acked + present))" "Observation history has acknowledged + committed-but-failed writes"
is "$(cat "$TMP/acked" <(grep -E ' 200 1 true$' "$TMP/failed.read" | cut -d' ' -f1) | sort | sed 's/$/ 1/')" \
    "$(cat "$TMP/history")" "history holds exactly those ids, each once, version 1"

check_stores

finish
