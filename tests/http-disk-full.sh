#!/bin/bash
# http-disk-full.sh: writes that cannot reach the disk.  The workers may
# not grow a file past a limit (prlimit --fsize), so a commit that needs
# a new page at the end of the store fails; a burst of creates, 16 at a
# time, runs into it, their writes sharing commits (group_commit).  Every
# create is answered 201 or 500 with an OperationOutcome; each 201 is
# there and each 500 is not (when a shared commit fails, every write in
# it is answered 500); reads go on; with the limit lifted, writes go on;
# `emberctl check` finds no problem.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
need prlimit
NO_EXAMPLES=1 start_server

CT='Content-Type: application/fhir+json'
BURST=200
STORE=$DATA/r4/data.mdb

patient() {	# patient N: a Patient with identifier urn:burst|N
	printf '{"resourceType":"Patient","identifier":[{"system":"urn:burst","value":"%s"}]}' "$1"
}

# fsize LIMIT: the largest file each worker may write ("unlimited"); the
# soft limit only, which a process may raise again.
fsize() {
	local w
	for w in $(pgrep -P "$SERVER_PID"); do
		prlimit --pid "$w" --fsize="$1:" || return 1
	done
}

req POST /Patient -H "$CT" --data-binary "$(patient 0)"
is "$STATUS" 201 "a create before the limit"
ok "$(fsize $(($(stat -c %s "$STORE") + 128 * 1024)); echo $?)" \
    "the workers may grow a file by 128 KiB at most"

# One curl, BURST creates, 16 at a time; "STATUS N" for each.
mkdir -p "$TMP/out"
for ((i = 1; i <= BURST; i++)); do
	printf 'url = "%s/Patient"\nrequest = "POST"\nheader = "%s"\n' "$BASE" "$CT"
	printf 'data-binary = "%s"\n' "$(patient "$i" | sed 's/"/\\"/g')"
	printf 'output = "%s/out/%s"\nwrite-out = "%%{http_code} %s\\n"\n' "$TMP" "$i" "$i"
	[ "$i" -lt "$BURST" ] && echo next
done > "$TMP/burst.curl"
"$CURL" -s --no-progress-meter --parallel --parallel-immediate --parallel-max 16 \
    --config "$TMP/burst.curl" > "$TMP/burst"
n201=$(grep -c '^201 ' "$TMP/burst")
n500=$(grep -c '^500 ' "$TMP/burst")
diag "$BURST creates: $n201 answered 201, $n500 answered 500"
is "$(wc -l < "$TMP/burst")" "$BURST" "every create got an answer"
is "$((n201 + n500))" "$BURST" "every create answered 201 or 500"
ok "$([ "$n201" -gt 0 ] && [ "$n500" -gt 0 ]; echo $?)" \
    "some creates fit under the limit, the others did not"
bad=0
for i in $(sed -n 's/^500 //p' "$TMP/burst"); do
	"$JQ" -e '.resourceType == "OperationOutcome" and
	    (.issue[0].diagnostics | test("could not be committed"))' \
	    "$TMP/out/$i" >/dev/null || bad=$((bad + 1))
done
is "$bad" 0 "each 500 is an OperationOutcome: the write could not be committed"

# The store holds exactly the creates answered 201.
req GET "/Patient?identifier=urn:burst%7C&_count=1000&_elements=identifier"
is "$STATUS" 200 "reads go on at the limit"
is "$(jqb '[.entry[].resource.identifier[0].value | tonumber | select(. > 0)] | sort | join(" ")')" \
    "$(sed -n 's/^201 //p' "$TMP/burst" | sort -n | tr '\n' ' ' | sed 's/ $//')" \
    "the store holds exactly the creates answered 201"

ok "$(fsize unlimited; echo $?)" "the limit lifted"
req POST /Patient -H "$CT" --data-binary "$(patient 0)"
is "$STATUS" 201 "writes go on"
stop_server
check_stores
finish
