# lib.sh: shared helpers of Ember's HTTP tests (bash, TAP output).
#
# A test sources this file, calls start_server (lighttpd + ember.fcgi on a
# free port with a fresh data directory, through fcgi/ember-serve), makes
# requests with req, checks them with is/ok, and calls finish, which stops
# the server and fails the test if a worker logged a sanitizer report.

set -u

: "${EMBER_BUILDDIR:?run through make check}"
: "${EMBER_SRCDIR:?run through make check}"
CURL=${CURL:-curl}
JQ=${JQ:-jq}

TAP_N=0
TAP_FAILED=0
TEST_NAME=$(basename "$0" .sh)
TMP=$EMBER_BUILDDIR/tests/tmp/$TEST_NAME.$$
SERVER_PID=
mkdir -p "$TMP"

diag() { printf '# %s\n' "$*"; }

ok() {	# ok CONDITION-STATUS DESCRIPTION
	TAP_N=$((TAP_N + 1))
	if [ "$1" = 0 ]; then
		printf 'ok %d - %s\n' "$TAP_N" "$2"
	else
		printf 'not ok %d - %s\n' "$TAP_N" "$2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

is() {	# is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "got:  $1"
		diag "want: $2"
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	rm -rf "$TMP"
	exit 77
}

need() {	# need PROGRAM...: skip the test when one is missing
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || skip_all "$p not installed"
	done
}

. "$EMBER_SRCDIR/tests/port.sh"

# start_server [CONF-LINE...]: extra ember.conf lines as arguments (and
# the lines of EMBER_TEST_CONF, which a wrapper script sets to run a
# suite under another configuration).
# Loads the examples (unless NO_EXAMPLES is set); runs WORKERS workers
# (2); sets PORT, BASE (http://127.0.0.1:PORT/fhir), DATA.
start_server() {
	local try conf=$TMP/extra.conf
	need "$CURL" "$JQ"
	[ -x "${LIGHTTPD:-}" ] || LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
	[ -x "$LIGHTTPD" ] || skip_all "lighttpd not installed"
	export LIGHTTPD
	printf '%s\n' "${EMBER_TEST_CONF:-}" > "$conf"
	for line in "$@"; do echo "$line" >> "$conf"; done
	DATA=$TMP/data
	# NO_EXAMPLES=1 start_server: an empty store, for exact result sets.
	local examples=--load-examples
	[ -n "${NO_EXAMPLES:-}" ] && examples=
	for try in 1 2 3 4 5; do
		PORT=$(free_port)
		if SERVER_PID=$("$EMBER_SRCDIR/fcgi/ember-serve" --port "$PORT" \
		    --data "$DATA" --workers "${WORKERS:-2}" --conf "$conf" $examples \
		    --background 2>"$TMP/serve.err" >"$TMP/serve.out.tmp" &&
		    tail -n 1 "$TMP/serve.out.tmp"); then
			BASE=http://127.0.0.1:$PORT/fhir
			return 0
		fi
	done
	cat "$TMP/serve.err" >&2
	echo "Bail out! cannot start lighttpd + ember.fcgi"
	exit 1
}

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill "$SERVER_PID" 2>/dev/null || true
	local i=0
	while kill -0 "$SERVER_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
	# Workers exit after lighttpd; give them a moment to write reports.
	sleep 0.3
}

# check_stores: emberctl check on DATA (the server stopped or not) exits 0
# and says 0 problems for each of the 5 stores, one line each.
check_stores() {
	local check rc
	check=$(EMBER_CONF=$DATA/run/ember.conf "$EMBER_BUILDDIR/src/emberctl" check 2>&1)
	rc=$?
	is "$rc" 0 "emberctl check exits 0"
	is "$(echo "$check" | grep -cE '^[A-Z0-9]+: [0-9]+ resources, 0 problems$') $(echo "$check" | wc -l)" "5 5" \
	    "emberctl check: 0 problems in each of the 5 stores"
	echo "$check" | sed 's/^/# /'
}

# Fail the test if any sanitizer spoke in the log file given.
check_sanitizer_log() {
	local log=$1
	if [ -f "$log" ] && grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$log"; then
		ok 1 "no sanitizer report in $(basename "$log")"
		grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error:' "$log" | head -40 | sed 's/^/# /'
	fi
}

finish() {
	stop_server
	check_sanitizer_log "${DATA:-/nonexistent}/run/error.log"
	echo "1..$TAP_N"
	if [ "$TAP_FAILED" = 0 ]; then rm -rf "$TMP"; fi
	[ "$TAP_FAILED" = 0 ]
	exit $?
}

# req METHOD PATH [CURL-ARGS...]: PATH is relative to BASE unless it
# starts with http.  Sets STATUS; the body is in $BODY, headers in $HDRS.
BODY=$TMP/body
HDRS=$TMP/headers
req() {
	local method=$1 path=$2 url
	shift 2
	case "$path" in http*) url=$path ;; *) url=$BASE$path ;; esac
	if [ "$method" = HEAD ]; then
		STATUS=$("$CURL" -s -I -o "$BODY" -D "$HDRS" -w '%{http_code}' "$@" "$url")
	else
		STATUS=$("$CURL" -s -X "$method" -o "$BODY" -D "$HDRS" -w '%{http_code}' "$@" "$url")
	fi
}

# seed TYPE/ID JSON: PUT a resource the test searches (201 expected,
# else a diagnostic).
seed() {
	req PUT "/$1" -H 'Content-Type: application/fhir+json' --data-binary "$2"
	[ "$STATUS" = 201 ] || diag "seed $1: $STATUS $(cat "$BODY")"
}

# match_table: for each line "query <TAB> the ids of its matches, sorted,
# space-separated ('-' for none)" on standard input, GET the query and
# check its status is 200 and its matches are exactly those.
match_table() {
	local q want got
	while IFS=$'\t' read -r q want; do
		[ -z "$q" ] && continue
		req GET "/$q"
		got=$(jqb '[.entry[]? | select(.search.mode == "match") | .resource.id] | sort | join(" ")')
		[ -z "$got" ] && got=-
		is "$STATUS $got" "200 $want" "$q"
	done
}

# header NAME: the value of a response header of the last req.
header() {
	grep -i "^$1:" "$HDRS" | head -n 1 | sed 's/^[^:]*:[[:space:]]*//; s/\r$//'
}

# jqb EXPR: evaluate a jq expression on the last body ("" on error).
jqb() {
	"$JQ" -r "$1" "$BODY" 2>/dev/null || echo "(not JSON)"
}

# pages JQ-EXPR: from the last response on, follow every "next" link,
# printing JQ-EXPR of each page (one page's output per line).
pages() {
	local next
	jqb "$1"
	next=$(jqb '.link[]? | select(.relation=="next") | .url')
	while [ -n "$next" ]; do
		req GET "$next"
		jqb "$1"
		next=$(jqb '.link[]? | select(.relation=="next") | .url')
	done
}

# http_date INSTANT: the HTTP-date (IMF-fixdate) of a FHIR instant.
http_date() {
	date -u -d "$1" '+%a, %d %b %Y %H:%M:%S GMT'
}
