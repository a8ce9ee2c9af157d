#!/bin/bash
# bench.sh: `make bench`, Ember's speed as ratios to ceilings measured in
# the same run (issue 8; README.md "Benchmarks" explains the table).
#
# The bench rule of tests/bench/local.mk builds the tree to measure and
# runs this script with:
#
#   EMBER_SRCDIR    source tree (fcgi/ember-serve, fcgi/lighttpd.conf.in)
#   EMBER_BUILDDIR  the optimized build measured (ember.fcgi, emberctl,
#                   schemas/*.tables)
#   BENCH_BINDIR    where fcgi-trivial and lmdb-commit were built
#   BENCH_WORK      scratch folder: emptied first, removed at the end
#                   (BENCH_KEEP=1 keeps it); data folders, logs
#   BENCH_CACHE     data sets kept between runs
#   BENCH_RESULTS   where bench-<date>.json and .tsv are written
#   BENCH_DESC      one line saying which build is measured
#
# Knobs (make variables or environment):
#   BENCH_SECONDS=4 BENCH_ROUNDS=3   each measurement is ROUNDS wrk runs of
#                                    SECONDS, interleaved with its ceiling
#   BENCH_SEARCH_SECONDS=2           the same for each search
#   BENCH_CONNECTIONS=8 BENCH_THREADS=2 BENCH_WORKERS=$(nproc)
#   BENCH_DATASET=auto|synthea|synthetic
#   BENCH_SYNTHEA=DIR                Synthea transaction Bundles (*.json.bz2)
#   BENCH_PATIENTS=20000 BENCH_OBSERVATIONS=80000   the synthetic set
#
# Everything it starts (two lighttpd, their workers, wrk) is stopped on
# exit, Ctrl-C included.  Exit status 1 when a measurement is invalid
# (an answer outside 2xx, a socket error, a wrong body, lost writes);
# a missed target is reported, not an error.
set -euo pipefail
export LC_ALL=C		# byte lengths in awk, plain number formats

: "${EMBER_SRCDIR:?run through make bench}"
: "${EMBER_BUILDDIR:?run through make bench}"
: "${BENCH_BINDIR:?run through make bench}"
: "${BENCH_WORK:?run through make bench}"
EMBER_SRCDIR=$(cd "$EMBER_SRCDIR" && pwd -P)
EMBER_BUILDDIR=$(cd "$EMBER_BUILDDIR" && pwd -P)
CACHE=${BENCH_CACHE:-$BENCH_WORK/../cache}
RESULTS=${BENCH_RESULTS:-$EMBER_SRCDIR/tests/bench/results}
SECS=${BENCH_SECONDS:-4}
ROUNDS=${BENCH_ROUNDS:-3}
SSECS=${BENCH_SEARCH_SECONDS:-2}
CONNS=${BENCH_CONNECTIONS:-8}
THREADS=${BENCH_THREADS:-2}
WORKERS=${BENCH_WORKERS:-$(nproc 2>/dev/null || echo 2)}
DATASET=${BENCH_DATASET:-auto}
SYNTHEA=${BENCH_SYNTHEA:-$(dirname "$EMBER_SRCDIR")/shared/synthea/r4-blaze-120}
PATIENTS=${BENCH_PATIENTS:-20000}
OBSERVATIONS=${BENCH_OBSERVATIONS:-80000}
UPDATE_IDS=1000		# Patients bench-upd-NNNNN per update round
LOAD_TARGET=20000	# resources/s, issue 8
. "$EMBER_SRCDIR/tests/bench/tools.sh"	# WRK CURL JQ LIGHTTPD

HERE=$EMBER_SRCDIR/tests/bench
LUA=$HERE/bench.lua
WORK=$BENCH_WORK
EMBERCTL=$EMBER_BUILDDIR/src/emberctl

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- preflight ------------------------------------------------------------

if ! command -v "$WRK" >/dev/null 2>&1; then
	die "wrk is not installed; install it with: sudo apt-get install wrk
bench: (bootstrap does not install it: only benchmarks need it)"
fi
for p in "$CURL" "$JQ" awk du shuf; do
	command -v "$p" >/dev/null 2>&1 || die "$p is not installed"
done
[ -x "$LIGHTTPD" ] || die "lighttpd is not installed (apt-get install lighttpd)"
for f in "$EMBER_BUILDDIR/fcgi/ember.fcgi" "$EMBERCTL" \
    "$BENCH_BINDIR/fcgi-trivial" "$BENCH_BINDIR/lmdb-commit"; do
	[ -x "$f" ] || die "$f is not built"
done
for v in "$SECS" "$SSECS" "$ROUNDS" "$CONNS" "$THREADS" "$WORKERS"; do
	case $v in
	''|*[!0-9]*|0) die "BENCH_SECONDS, _SEARCH_SECONDS, _ROUNDS, _CONNECTIONS, _THREADS and _WORKERS take whole numbers above 0" ;;
	esac
done
[ "$CONNS" -ge "$THREADS" ] || die "BENCH_CONNECTIONS must be at least BENCH_THREADS"

# --- processes and cleanup ------------------------------------------------

SERVERS=""	# lighttpd process ids
WORKER_PIDS=""	# their FastCGI workers, noted while they run
BG_PIDS=""	# background checks
WRK_PID=""	# the wrk running

children_of() {	# children_of PID: process ids whose parent is PID
	# Field 4 of /proc/PID/stat is the parent; the name (field 2) of
	# lighttpd's children has no spaces.
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '$4 == p { print $1 }'
}

note_workers() {
	local s w
	for s in $SERVERS; do
		for w in $(children_of "$s"); do
			case " $WORKER_PIDS " in *" $w "*) ;; *) WORKER_PIDS="$WORKER_PIDS $w" ;; esac
		done
	done
}

stop_all() {
	local p i
	for p in $BG_PIDS $WRK_PID; do kill "$p" 2>/dev/null || true; done
	note_workers
	for p in $SERVERS; do kill "$p" 2>/dev/null || true; done
	for p in $SERVERS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null || true
	done
	# lighttpd stops its bin-path workers; make sure, by their ids.
	for p in $WORKER_PIDS; do
		if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" |
		    grep -q 'ember.fcgi'; then
			kill "$p" 2>/dev/null || true
		fi
	done
	SERVERS=""
	WORKER_PIDS=""
	BG_PIDS=""
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_all
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'exit 143' TERM

. "$EMBER_SRCDIR/tests/port.sh"

# serve TREE DATA: lighttpd + TREE/fcgi/ember.fcgi through fcgi/ember-serve,
# the same configuration `make run` and the HTTP tests use, WORKERS
# processes.  Sets SERVE_PID and SERVE_PORT.
serve() {
	local tree=$1 data=$2 try
	mkdir -p "$data"
	printf 'durability = durable\n' > "$WORK/extra.conf"
	for try in 1 2 3 4 5; do
		SERVE_PORT=$(free_port)
		if SERVE_PID=$(EMBER_SRCDIR=$EMBER_SRCDIR EMBER_BUILDDIR=$tree \
		    "$EMBER_SRCDIR/fcgi/ember-serve" --port "$SERVE_PORT" \
		    --data "$data" --workers "$WORKERS" --conf "$WORK/extra.conf" \
		    --background 2>"$WORK/serve.err" | tail -n 1) &&
		    [ -n "$SERVE_PID" ]; then
			SERVERS="$SERVERS $SERVE_PID"
			return 0
		fi
	done
	cat "$WORK/serve.err" >&2
	die "cannot start lighttpd with $tree/fcgi/ember.fcgi"
}

# --- results --------------------------------------------------------------

ROUNDS_TSV=$WORK/rounds.tsv	# name round rate p50_us p99_us non2xx sockerr bytes
ROWS_TSV=$WORK/rows.tsv		# see add_row
FAILED=0

# run_wrk NAME ROUND URL MODE [ARGS...]: one wrk run, one line of rounds.tsv.
run_wrk() {
	local name=$1 round=$2 url=$3 out line
	shift 3
	out=$WORK/logs/$name.$round.txt
	# In the background: wrk handles SIGINT itself and exits 0, and bash
	# would then ignore the Ctrl-C; `wait` lets the INT trap run.
	"$WRK" -t "$THREADS" -c "$CONNS" -d "${SECS}s" --timeout 30s \
	    -s "$LUA" "$url" -- "$@" > "$out" 2>&1 &
	WRK_PID=$!
	wait "$WRK_PID" || true
	WRK_PID=""
	line=$(sed -n 's/^BENCH //p' "$out")
	if [ -z "$line" ]; then
		log "wrk gave no result for $name:"
		sed 's/^/  /' "$out" >&2
		printf '%s\t%s\t0\t0\t0\t-1\t-1\t0\n' "$name" "$round" >> "$ROUNDS_TSV"
		return
	fi
	"$JQ" -r --arg n "$name" --arg r "$round" \
	    '[$n, $r, .rate, .p50_us, .p99_us, .non2xx, .socket_errors,
	      .bytes_per_response] | @tsv' <<<"$line" >> "$ROUNDS_TSV"
}

# agg NAME: the round with the median rate gives rate, p50 and p99;
# errors are summed over the rounds.  Sets A_RATE A_P50 A_P99 A_BAD
# A_ERR A_BYTES.
agg() {
	read -r A_RATE A_P50 A_P99 A_BAD A_ERR A_BYTES < <(awk -F'\t' -v n="$1" '
	    $1 == n { r[++k] = $3; p50[k] = $4; p99[k] = $5; by[k] = $8
		      if ($6 < 0) broken = 1; else bad += $6
		      if ($7 < 0) broken = 1; else err += $7 }
	    END {
		if (k == 0 || broken) { print 0, 0, 0, -1, -1, 0; exit }
		for (i = 1; i <= k; i++) o[i] = i
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (r[o[j]] < r[o[i]]) { t = o[i]; o[i] = o[j]; o[j] = t }
		m = o[int((k + 1) / 2)]
		printf "%s %s %s %d %d %s\n", r[m], p50[m], p99[m], bad, err, by[m] }' "$ROUNDS_TSV")
}

# ratio A B: the median over rounds of A's rate / B's rate in the same
# round (so drift of a shared machine cancels out).
ratio() {
	awk -F'\t' -v a="$1" -v b="$2" '
	    $1 == a { ra[$2] = $3 } $1 == b { rb[$2] = $3 }
	    END {
		for (r in ra) if ((r in rb) && rb[r] > 0) v[++k] = ra[r] / rb[r]
		if (k == 0) { print ""; exit }
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		printf "%.3f\n", k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2 }' "$ROUNDS_TSV"
}

# add_row OP RATE UNIT P50_US P99_US CEILING CEILING_RATE RATIO TARGET CHECK NOTE
#   TARGET is ">=X" or "<=X" (on RATIO) or empty; CHECK "ok" or "FAIL: why".
add_row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$ROWS_TSV"
	case ${10} in ok|n/a) ;; *) FAILED=1 ;; esac
}

# check_of: "ok" or what was wrong, from the last agg.
check_of() {
	if [ "$A_BAD" -lt 0 ] || [ "$A_ERR" -lt 0 ]; then echo "FAIL: wrk did not run"
	elif [ "$A_BAD" -gt 0 ]; then echo "FAIL: $A_BAD answers outside 2xx"
	elif [ "$A_ERR" -gt 0 ]; then echo "FAIL: $A_ERR socket errors"
	else echo ok; fi
}

# measured_row OP NAME UNIT CEILING-LABEL CEILING-NAME TARGET [EXTRA-CHECK [MULT WHAT]]
#   TARGET: ">=X" or "<=X" on the ratio, "p50<=X" on p50 (µs), or "".
#   MULT WHAT: the rate is given per WHAT (resources, matches), MULT a
#   request.
measured_row() {
	local op=$1 name=$2 unit=$3 clabel=$4 cname=$5 target=$6 extra=${7:-ok}
	local mult=${8:-} what=${9:-} check r="" crate="" note
	agg "$name"
	note=$(awk -v b="$A_BYTES" 'BEGIN { if (b > 0) printf "%.0f bytes a response, headers included", b }')
	if [ -n "$mult" ]; then
		note="$(awk -v r="$A_RATE" 'BEGIN { printf "%.1f", r }') requests/s of $mult $what each, p50 and p99 a request; $note"
		A_RATE=$(awk -v r="$A_RATE" -v m="$mult" 'BEGIN { printf "%.1f", r * m }')
	fi
	check=$(check_of)
	if [ "$check" = ok ] && [ "$extra" != ok ]; then check=$extra; fi
	if [ -n "$cname" ]; then
		r=$(ratio "$name" "$cname")
		crate=$(awk -F'\t' -v n="$cname" '$1 == n { print $3 }' "$ROUNDS_TSV" |
		    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
	fi
	add_row "$op" "$A_RATE" "$unit" "$A_P50" "$A_P99" "$clabel" "$crate" \
	    "$r" "$target" "$check" "${NOTE_PREFIX:-}$note"
}

# stats_field FIELD: from `emberctl stats`, the R4 line's count of FIELD
# (resources or versions).
stats_field() {
	"$EMBERCTL" -c "$CONF" stats | awk -v f="$1" '$1 == "R4" {
	    for (i = 2; i < NF; i++) if ($i == f) { gsub(/[^0-9]/, "", $(i + 1)); print $(i + 1) } }'
}

# --- start ----------------------------------------------------------------

rm -rf "$WORK"
mkdir -p "$WORK/logs" "$CACHE" "$RESULTS"
CACHE=$(cd "$CACHE" && pwd -P)
RESULTS=$(cd "$RESULTS" && pwd -P)
: > "$ROUNDS_TSV"
: > "$ROWS_TSV"
DATA=$WORK/ember
CONF=$WORK/emberctl.conf
{
	echo "data_dir = $DATA"
	echo "tables_dir = $EMBER_BUILDDIR/schemas"
	echo "durability = durable"
} > "$CONF"
START=$(date +%s)
log "build: ${BENCH_DESC:-$EMBER_BUILDDIR}"
log "wrk: $THREADS threads, $CONNS connections, $ROUNDS rounds of $SECS s per figure; $WORKERS workers; $(nproc) cores"

# --- data set -------------------------------------------------------------

DATASET_DESC=""
DATASET_NOTE=""
LOAD_PATHS=()
JSON_BYTES=0

synthetic_set() {
	local dir=$CACHE/synthetic-$PATIENTS-$OBSERVATIONS stamp
	stamp="$(cksum < "$HERE/synthetic.awk")"
	if [ ! -f "$dir/stamp" ] || [ "$(cat "$dir/stamp")" != "$stamp" ]; then
		log "writing the synthetic data set ($PATIENTS Patients, $OBSERVATIONS Observations)"
		rm -rf "$dir"
		mkdir -p "$dir"
		awk -v dir="$dir" -v patients="$PATIENTS" -v observations="$OBSERVATIONS" \
		    -f "$HERE/synthetic.awk"
		echo "$stamp" > "$dir/stamp"
	fi
	LOAD_PATHS=("$dir/Patient.ndjson" "$dir/Observation.ndjson")
	# Minified already: the bytes of the lines without their newlines.
	JSON_BYTES=$(cat "${LOAD_PATHS[@]}" | awk '{ n += length($0) } END { printf "%d", n }')
	DATASET_DESC="synthetic NDJSON ($PATIENTS Patients + $OBSERVATIONS Observations)"
}

# The Synthea set is used when it is there and `emberctl load` accepts
# its transaction Bundles: one Bundle is tried in a scratch store first.
synthea_usable() {
	local probe f
	if [ ! -d "$SYNTHEA" ]; then
		DATASET_NOTE="Synthea set not found ($SYNTHEA); synthetic data used"
		return 1
	fi
	command -v bzcat >/dev/null 2>&1 || { DATASET_NOTE="bzcat missing; synthetic data used"; return 1; }
	f=$(ls -S "$SYNTHEA"/*.json.bz2 2>/dev/null | grep -v '/0-' | tail -n 1 || true)
	[ -n "$f" ] || { DATASET_NOTE="no *.json.bz2 in $SYNTHEA; synthetic data used"; return 1; }
	probe=$WORK/probe
	mkdir -p "$probe/data"
	# The hospital and practitioner Bundles (0-*) first: the patients'
	# Bundles refer to them by conditional references.
	local files=()
	for g in "$SYNTHEA"/0-*.json.bz2; do
		[ -f "$g" ] || continue
		bzcat "$g" > "$probe/$(basename "$g" .bz2)"
		files+=("$probe/$(basename "$g" .bz2)")
	done
	bzcat "$f" > "$probe/bundle.json"
	printf 'data_dir = %s\ntables_dir = %s\n' "$probe/data" \
	    "$EMBER_BUILDDIR/schemas" > "$probe/conf"
	if ! "$EMBERCTL" -c "$probe/conf" -V R4 load "${files[@]}" \
	    "$probe/bundle.json" > "$probe/out" 2>&1; then
		DATASET_NOTE="emberctl load refuses the Synthea Bundles ($(tail -n 1 "$probe/out" | sed 's/^emberctl: load: //; s|.*/bundle.json: ||')); synthetic data used"
		rm -rf "$probe"
		return 1
	fi
	rm -rf "$probe"
	return 0
}

synthea_set() {
	local dir=$CACHE/synthea-$(basename "$SYNTHEA") stamp
	stamp=$(ls -l "$SYNTHEA" | cksum)
	if [ ! -f "$dir/stamp" ] || [ "$(cat "$dir/stamp")" != "$stamp" ]; then
		log "decompressing $SYNTHEA into $dir"
		rm -rf "$dir"
		mkdir -p "$dir/json"
		ls "$SYNTHEA"/*.json.bz2 | xargs -P "$(nproc)" -n 8 sh -c '
		    for f; do bzcat "$f" > "$0/$(basename "$f" .bz2)"; done' "$dir/json"
		# The minified size of every resource, for the store ratio.
		cat "$dir"/json/*.json | "$JQ" -c '.entry[]?.resource' |
		    awk '{ n += length($0) } END { printf "%d\n", n }' > "$dir/json-bytes"
		echo "$stamp" > "$dir/stamp"
	fi
	LOAD_PATHS=("$dir/json")
	JSON_BYTES=$(cat "$dir/json-bytes")
	DATASET_DESC="Synthea $(basename "$SYNTHEA") ($(ls "$dir"/json/*.json | wc -l) Bundles)"
}

case $DATASET in
synthea)
	synthea_usable || die "$DATASET_NOTE"
	synthea_set ;;
synthetic)
	DATASET_NOTE="BENCH_DATASET=synthetic"
	synthetic_set ;;
auto)
	if synthea_usable; then synthea_set; else synthetic_set; fi ;;
*)	die "BENCH_DATASET is auto, synthea or synthetic" ;;
esac
log "data set: $DATASET_DESC"
[ -z "$DATASET_NOTE" ] || log "note: $DATASET_NOTE"

# --- emberctl load ----------------------------------------------------------

log "loading into a fresh store"
if ! "$EMBERCTL" -c "$CONF" -V R4 load "${LOAD_PATHS[@]}" > "$WORK/logs/load.txt" 2>&1; then
	cat "$WORK/logs/load.txt" >&2
	die "emberctl load failed"
fi
cat "$WORK/logs/load.txt" >&2
LOAD_RATE=$(sed -n 's/.*(\([0-9.]*\) resources\/s.*/\1/p' "$WORK/logs/load.txt" | tail -n 1)
LOADED=$(sed -n 's/.*loaded \([0-9]*\) resources.*/\1/p' "$WORK/logs/load.txt" | tail -n 1)
[ -n "$LOAD_RATE" ] && [ -n "$LOADED" ] || die "cannot read emberctl load's output"

# Store size now, before the benchmarks write: the R4 store (the other
# versions' stores are empty) over its resources.
STORE_RESOURCES=$(stats_field resources)
STORE_BYTES=$(( $(du -sk "$DATA/r4" | cut -f1) * 1024 ))
ALL_BYTES=$(( $(du -sk "$DATA" | cut -f1) * 1024 ))

# The Patients the update benchmark rewrites: a fresh set for each round,
# so that every round starts from version 1.
awk -v dir="$WORK" -v updates=$((UPDATE_IDS * ROUNDS)) -f "$HERE/synthetic.awk"
if ! "$EMBERCTL" -c "$CONF" -V R4 load "$WORK/update.ndjson" > "$WORK/logs/load-update.txt" 2>&1; then
	cat "$WORK/logs/load-update.txt" >&2
	die "cannot load the Patients the update benchmark uses"
fi

# --- servers ----------------------------------------------------------------

serve "$EMBER_BUILDDIR" "$DATA"
EMBER_PID=$SERVE_PID
EMBER=http://127.0.0.1:$SERVE_PORT
CONF=$DATA/run/ember.conf	# what the workers read

# The trivial responder goes where ember-serve looks for ember.fcgi, so
# its lighttpd configuration is Ember's, byte for byte but the paths.
mkdir -p "$WORK/trivial-tree/fcgi"
ln -s "$BENCH_BINDIR/fcgi-trivial" "$WORK/trivial-tree/fcgi/ember.fcgi"
serve "$WORK/trivial-tree" "$WORK/trivial"
TRIVIAL=http://127.0.0.1:$SERVE_PORT
head -c 3700 /dev/zero | tr '\0' 'x' > "$WORK/trivial/run/htdocs/static.json"
note_workers
log "Ember on $EMBER (lighttpd $EMBER_PID), ceilings on $TRIVIAL"

# Ceilings answer what they should.
[ "$("$CURL" -s -o "$WORK/t.body" -w '%{http_code}' "$TRIVIAL/fhir/Patient/x")" = 200 ] &&
    [ "$(wc -c < "$WORK/t.body")" -eq 3700 ] || die "the trivial responder does not answer 200 with 3,700 bytes"
[ "$("$CURL" -s -o "$WORK/t.body" -w '%{http_code}' "$TRIVIAL/static.json")" = 200 ] &&
    [ "$(wc -c < "$WORK/t.body")" -eq 3700 ] || die "lighttpd does not serve the static file"

# --- ids to read --------------------------------------------------------------

# Every Patient and Observation id, from Ember's own type history (which
# also checks that the load is visible to the server), 1000 a page.
collect_ids() {
	local type=$1 out=$2 url n=0
	url="$EMBER/fhir/$type/_history?_count=1000"
	: > "$out"
	while [ -n "$url" ]; do
		"$CURL" -s -o "$out.page" "$url" || return 1
		grep -o '"fullUrl":"[^"]*"' "$out.page" | sed 's|.*/fhir/||; s|"$||' >> "$out"
		url=$(grep -o '"relation":"next","url":"[^"]*"' "$out.page" | sed 's/.*"url":"//; s/"$//' || true)
		n=$((n + 1))
		[ $n -lt 1000 ] || break
	done
	rm -f "$out.page"
}
log "collecting the ids to read"
collect_ids Patient "$WORK/patients" &
p1=$!
collect_ids Observation "$WORK/observations" &
p2=$!
wait $p1 && wait $p2 || die "cannot page through the type history"
grep -v '^Patient/bench-upd-' "$WORK/patients" | cat - "$WORK/observations" > "$WORK/paths"
NPATHS=$(wc -l < "$WORK/paths")
[ "$NPATHS" -gt 0 ] || die "no Patient or Observation ids to read"
log "$NPATHS ids to read ($(grep -c '^Patient/' "$WORK/paths") Patients)"

# check_reads N: read N random ids with curl; prints "ok" or the failure.
check_reads() {
	local p got
	for p in $(shuf -n "$1" "$WORK/paths"); do
		got=$("$CURL" -s -o "$WORK/check.body" -w '%{http_code}' "$EMBER/fhir/$p")
		if [ "$got" != 200 ]; then echo "GET $p answered $got"; return; fi
		got=$("$JQ" -r '.resourceType + "/" + .id' "$WORK/check.body" 2>/dev/null || echo "not JSON")
		if [ "$got" != "$p" ]; then echo "GET $p gave $got"; return; fi
	done
	echo ok
}
[ "$(check_reads 20)" = ok ] || die "reads before the run: $(check_reads 20)"

# --- reads against the ceilings ------------------------------------------------

log "reads: static file, trivial responder, Ember ($ROUNDS rounds)"
: > "$WORK/readcheck"
for r in $(seq 1 "$ROUNDS"); do
	run_wrk static "$r" "$TRIVIAL/static.json" get
	run_wrk trivial "$r" "$TRIVIAL/fhir/" read "$WORK/paths"
	# While wrk reads, curl reads a few too and checks the bodies.
	( sleep "$(awk -v s="$SECS" 'BEGIN { print s / 2 }')"
	  echo "$(check_reads 5)" >> "$WORK/readcheck" ) &
	BG_PIDS="$BG_PIDS $!"
	run_wrk read "$r" "$EMBER/fhir/" read "$WORK/paths"
	wait
	BG_PIDS=""
	run_wrk readxml "$r" "$EMBER/fhir/" readxml "$WORK/paths"
done
READ_CHECK=ok
if grep -qv '^ok$' "$WORK/readcheck" || [ ! -s "$WORK/readcheck" ]; then
	READ_CHECK="FAIL: $(grep -v '^ok$' "$WORK/readcheck" | head -n 1)"
fi

# An XML read answers XML: checked once on a loaded id.
XML_CHECK=ok
p=$(head -n 1 "$WORK/paths")
"$CURL" -s -H 'Accept: application/fhir+xml' -o "$WORK/check.xml" "$EMBER/fhir/$p"
head -c 60 "$WORK/check.xml" | grep -q "<${p%%/*} xmlns=\"http://hl7.org/fhir\">" ||
    grep -q "<${p%%/*} xmlns=\"http://hl7.org/fhir\">" "$WORK/check.xml" ||
    XML_CHECK="FAIL: GET $p as XML gave $(head -c 80 "$WORK/check.xml")"

# --- history ---------------------------------------------------------------------

FIRST="$EMBER/fhir/Patient/_history?_count=50"
"$CURL" -s -o "$WORK/history.json" "$FIRST"
NEXT=$("$JQ" -r '.link[] | select(.relation == "next") | .url' "$WORK/history.json")
HIST_CHECK=ok
[ "$("$JQ" -r '.type + " " + (.entry | length | tostring)' "$WORK/history.json")" = "history 50" ] ||
    HIST_CHECK="FAIL: the first page is not a history Bundle of 50 entries"
[ -n "$NEXT" ] || HIST_CHECK="FAIL: the first page has no next link"
# The link is absolute; keep its path and query, on this server.
NEXT=$EMBER/${NEXT#*://*/}
log "history: first page and next page ($ROUNDS rounds)"
for r in $(seq 1 "$ROUNDS"); do
	run_wrk history1 "$r" "$FIRST" get
	run_wrk history2 "$r" "$NEXT" get
done

# --- search ---------------------------------------------------------------------

# Typical searches of issue 8 on the loaded set, first page (_count 50 by
# default).  One connection a wrk thread, so that p50 is the time of one
# search, not of a queue; the target is p50 <= 2 ms.
SEARCH_NAMES=("token" "date range" "chained" "_has" "_include" "_summary=count")
SEARCH_QUERIES=(
	"Observation?code=http://loinc.org%7C8302-2"
	"Observation?date=ge2019-01-01&date=lt2020-01-01"
	"Observation?patient.gender=female"
	"Patient?_has:Observation:patient:code=http://loinc.org%7C8302-2"
	"Observation?code=http://loinc.org%7C8302-2&_include=Observation:patient"
	"Observation?code=http://loinc.org%7C8302-2&_summary=count"
)
SEARCH_CHECK=()
SEARCH_TOTAL=()
for i in "${!SEARCH_QUERIES[@]}"; do
	q=${SEARCH_QUERIES[$i]}
	got=$("$CURL" -s -o "$WORK/search.json" -w '%{http_code}' "$EMBER/fhir/$q")
	SEARCH_TOTAL[$i]=$("$JQ" -r '.total // 0' "$WORK/search.json" 2>/dev/null || echo 0)
	n=$("$JQ" -r '[.entry[]? | select(.search.mode == "match")] | length' "$WORK/search.json" 2>/dev/null || echo 0)
	inc=$("$JQ" -r '[.entry[]? | select(.search.mode == "include")] | length' "$WORK/search.json" 2>/dev/null || echo 0)
	if [ "$got" != 200 ]; then
		SEARCH_CHECK[$i]="FAIL: answered $got"
	elif [ "${SEARCH_TOTAL[$i]}" -le 0 ]; then
		SEARCH_CHECK[$i]="FAIL: no matches, nothing measured"
	elif [ "${SEARCH_NAMES[$i]}" != "_summary=count" ] && [ "$n" -le 0 ]; then
		SEARCH_CHECK[$i]="FAIL: total ${SEARCH_TOTAL[$i]} but no entries"
	elif [ "${SEARCH_NAMES[$i]}" = "_include" ] && [ "$inc" -le 0 ]; then
		SEARCH_CHECK[$i]="FAIL: nothing included"
	else
		SEARCH_CHECK[$i]=ok
	fi
done
log "search: ${#SEARCH_QUERIES[@]} queries ($ROUNDS rounds of $SSECS s, $THREADS connections)"
for r in $(seq 1 "$ROUNDS"); do
	for i in "${!SEARCH_QUERIES[@]}"; do
		CONNS=$THREADS SECS=$SSECS run_wrk "search$i" "$r" "$EMBER/fhir/${SEARCH_QUERIES[$i]}" get
	done
done

# --- writes against the raw commit rate --------------------------------------------

# Bodies of the transactions: a Patient and its Observation, linked by
# urn:uuid; and 500 such pairs (1,000 entries).
tx_body() {	# tx_body PAIRS
	"$JQ" -c --argjson n "$1" '. as $patient |
	    def uuid($k; $i): "urn:uuid:0000000\($k)-0000-4000-8000-" +
	        ("000000000000" + ($i | tostring))[-12:];
	    { resourceType: "Bundle", type: "transaction", entry: [
	      range($n) as $i |
	      { fullUrl: uuid(1; $i), resource: $patient,
	        request: { method: "POST", url: "Patient" } },
	      { fullUrl: uuid(2; $i),
	        resource: { resourceType: "Observation", status: "final",
	          category: [ { coding: [ { system: "http://terminology.hl7.org/CodeSystem/observation-category",
	            code: "vital-signs", display: "vital-signs" } ] } ],
	          code: { coding: [ { system: "http://loinc.org", code: "8302-2",
	            display: "Body Height" } ], text: "Body Height" },
	          subject: { reference: uuid(1; $i) },
	          effectiveDateTime: "2020-01-01T10:00:00+00:00",
	          valueQuantity: { value: 172.3, unit: "cm",
	            system: "http://unitsofmeasure.org", code: "cm" } },
	        request: { method: "POST", url: "Observation" } } ] }' \
	    "$HERE/patient.json"
}
tx_body 1 > "$WORK/tx2.json"
tx_body 500 > "$WORK/tx1000.json"
for f in tx2 tx1000; do
	got=$("$CURL" -s -o "$WORK/tx.out" -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/fhir+json' --data-binary "@$WORK/$f.json" "$EMBER/fhir")
	[ "$got" = 200 ] && [ "$("$JQ" -r '[.entry[].response.status | startswith("201")] | all' "$WORK/tx.out")" = true ] ||
	    die "a $f transaction answered $got: $(head -c 300 "$WORK/tx.out")"
done

# write_round NAME ROUND CONNECTIONS URL MODE [ARGS...]: run_wrk with
# CONNECTIONS, noting how much the store grew (deltas.tsv: name, round,
# resources, versions, 2xx answers, connections).
write_round() {
	local name=$1 round=$2 conns=$3 r0 v0 r1 v1 ok
	shift 3
	r0=$(stats_field resources)
	v0=$(stats_field versions)
	CONNS=$conns run_wrk "$name" "$round" "$@"
	r1=$(stats_field resources)
	v1=$(stats_field versions)
	ok=$(sed -n 's/^BENCH //p' "$WORK/logs/$name.$round.txt" | "$JQ" '.responses - .non2xx')
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" $((r1 - r0)) $((v1 - v0)) \
	    "${ok:-0}" "$conns" >> "$WORK/deltas.tsv"
}

# write_check NAME RESOURCES VERSIONS: "ok" when every 2xx answer of NAME
# added RESOURCES resources and VERSIONS versions to the store.  Requests
# still in flight when wrk stopped may add up to one per connection.
write_check() {
	awk -F'\t' -v n="$1" -v pr="$2" -v pv="$3" '
	    $1 == n { dr += $3; dv += $4; ok += $5; slack += $6 }
	    END {
		if (dr < pr * ok || dr > pr * (ok + slack))
			printf "FAIL: %d answers 2xx, %d resources more\n", ok, dr
		else if (dv < pv * ok || dv > pv * (ok + slack))
			printf "FAIL: %d answers 2xx, %d versions more\n", ok, dv
		else print "ok" }' "$WORK/deltas.tsv"
}

: > "$WORK/deltas.tsv"
log "writes: raw LMDB commits, create, update, transactions ($ROUNDS rounds)"
for r in $(seq 1 "$ROUNDS"); do
	mkdir -p "$WORK/lmdb.$r"
	if line=$("$BENCH_BINDIR/lmdb-commit" "$WORK/lmdb.$r" "$SECS"); then
		"$JQ" -r --arg r "$r" '["lmdb", $r, .rate, .p50_us, .p99_us, 0, 0, 0] | @tsv' \
		    <<<"$line" >> "$ROUNDS_TSV"
	else
		printf 'lmdb\t%s\t0\t0\t0\t-1\t-1\t0\n' "$r" >> "$ROUNDS_TSV"
	fi
	rm -rf "$WORK/lmdb.$r"
	write_round create "$r" "$CONNS" "$EMBER/fhir/Patient" create "$HERE/patient.json"
	write_round update "$r" "$CONNS" "$EMBER/fhir/" update $(((r - 1) * UPDATE_IDS)) \
	    "$UPDATE_IDS" "$THREADS" "$HERE/patient.json"
	write_round tx2 "$r" "$CONNS" "$EMBER/fhir" create "$WORK/tx2.json"
	# One connection a thread: each of these commits 1,000 resources, and
	# queueing more behind the one writer would only stretch the latency.
	write_round tx1000 "$r" "$THREADS" "$EMBER/fhir" create "$WORK/tx1000.json"
done

# --- memory ------------------------------------------------------------------------

RSS_MAX=0
RSS_LIST=""
RSS_ANON=0
for w in $(children_of "$EMBER_PID"); do
	[ -r "/proc/$w/status" ] || continue
	grep -q '^Name:[[:space:]]*ember.fcgi' "/proc/$w/status" || continue
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$w/status")
	anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$w/status")
	RSS_LIST="$RSS_LIST $(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')"
	[ "$hwm" -le "$RSS_MAX" ] || RSS_MAX=$hwm
	[ "$anon" -le "$RSS_ANON" ] || RSS_ANON=$anon
done
stop_all
END=$(date +%s)

# --- rows ----------------------------------------------------------------------------

measured_row "static file 3.7 KB (lighttpd)" static "req/s" "(a ceiling)" "" ""
measured_row "trivial FastCGI 3.7 KB" trivial "req/s" "(a ceiling)" "" ""
measured_row "raw LMDB durable commit" lmdb "commits/s" "(a ceiling)" "" ""
measured_row "read by id, JSON" read "req/s" "trivial FastCGI" trivial ">=0.85" "$READ_CHECK"
measured_row "read by id, XML" readxml "req/s" "trivial FastCGI" trivial "" "$XML_CHECK"
measured_row "history first page (_count=50)" history1 "req/s" "" "" "" "$HIST_CHECK"
measured_row "history next page (_count=50)" history2 "req/s" "" "" "" "$HIST_CHECK"
measured_row "create Patient, durable" create "req/s" "raw LMDB commit" lmdb ">=0.8" \
    "$(write_check create 1 1)"
measured_row "update Patient, If-Match, durable" update "req/s" "raw LMDB commit" lmdb "" \
    "$(write_check update 0 1)"
measured_row "transaction, Patient + Observation" tx2 "req/s" "raw LMDB commit" lmdb "" \
    "$(write_check tx2 2 2)"
measured_row "transaction, 1,000 entries" tx1000 "resources/s" "" "" "" \
    "$(write_check tx1000 1000 1000)" 1000 resources
add_row "emberctl load" "$LOAD_RATE" "resources/s" "" "" "issue 8 target" "$LOAD_TARGET" \
    "$(awk -v a="$LOAD_RATE" -v b="$LOAD_TARGET" 'BEGIN { printf "%.3f", a / b }')" ">=1" ok \
    "$LOADED resources, $DATASET_DESC"
for i in "${!SEARCH_NAMES[@]}"; do
	NOTE_PREFIX="${SEARCH_QUERIES[$i]}, ${SEARCH_TOTAL[$i]} matches; "
	if [ "${SEARCH_NAMES[$i]}" = "_summary=count" ]; then
		measured_row "search ${SEARCH_NAMES[$i]}" "search$i" "matches/s" "" "" "" \
		    "${SEARCH_CHECK[$i]}" "${SEARCH_TOTAL[$i]}" matches
	else
		measured_row "search ${SEARCH_NAMES[$i]}, first page" "search$i" "req/s" "" "" \
		    "p50<=2000" "${SEARCH_CHECK[$i]}"
	fi
done
NOTE_PREFIX=""
add_row "peak RSS per worker" "$(awk -v k="$RSS_MAX" 'BEGIN { printf "%.1f", k / 1024 }')" "MiB" "" "" "" "" "" "" \
    "$([ "$RSS_MAX" -gt 0 ] && echo ok || echo 'FAIL: no worker found')" \
    "VmHWM of each worker (MiB):$RSS_LIST; it counts the pages of the LMDB map a worker touched (shared, page cache); private memory (RssAnon) at the end: $(awk -v k="$RSS_ANON" 'BEGIN { printf "%.1f", k / 1024 }') MiB at most"
add_row "store size per resource" "$((STORE_BYTES / (STORE_RESOURCES > 0 ? STORE_RESOURCES : 1)))" "bytes" "" "" \
    "minified JSON" "$((JSON_BYTES / (LOADED > 0 ? LOADED : 1)))" \
    "$(awk -v a="$STORE_BYTES" -v b="$JSON_BYTES" 'BEGIN { if (b > 0) printf "%.3f", a / b }')" "<=1.5" \
    "$([ "$STORE_RESOURCES" -eq "$LOADED" ] && echo ok || echo "FAIL: loaded $LOADED, the store holds $STORE_RESOURCES")" \
    "du of the R4 store $((STORE_BYTES / 1048576)) MiB for $STORE_RESOURCES resources (whole data folder $((ALL_BYTES / 1048576)) MiB)"

# --- table ------------------------------------------------------------------------------

echo
echo "make bench: ${BENCH_DESC:-$EMBER_BUILDDIR}"
echo "data: $DATASET_DESC; $(nproc) cores, $WORKERS workers; wrk -t$THREADS -c$CONNS, median of $ROUNDS rounds of ${SECS} s"
[ -z "$DATASET_NOTE" ] || echo "note: $DATASET_NOTE"
echo
awk -F'\t' '
function group(n,    s, neg) {
	s = sprintf("%.0f", n); neg = ""
	if (s ~ /^-/) { neg = "-"; s = substr(s, 2) }
	while (length(s) > 3 && match(s, /[0-9][0-9][0-9][0-9]($|,)/))
		s = substr(s, 1, RSTART) "," substr(s, RSTART + 1)
	return neg s
}
function ms(us) {
	if (us == "") return "-"
	if (us < 10000) return sprintf("%.2f ms", us / 1000)
	if (us < 1000000) return sprintf("%.1f ms", us / 1000)
	return sprintf("%.2f s", us / 1000000)
}
function fmt(op, rate, p50, p99, ceil, ratio, target, check) {
	printf "%-36s %-20s %-9s %-9s %-30s %-6s %-19s %s\n", op, rate, p50, p99, ceil, ratio, target, check
}
BEGIN { fmt("operation", "rate", "p50", "p99", "ceiling", "ratio", "target", "check")
	fmt("---------", "----", "---", "---", "-------", "-----", "------", "-----") }
{
	op = $1; unit = $3
	if ($2 == "") { fmt(op, unit, "", "", "", "", "", ""); next }
	rate = (unit == "MiB") ? $2 " " unit : (unit == "bytes") ? group($2) " bytes" : group($2) " " unit
	ceil = $6 == "" ? "-" : $7 == "" ? $6 : $6 " " (unit == "bytes" ? group($7) " bytes" : group($7) "/s")
	target = "-"
	if ($9 ~ /^p50<=/) {
		v = substr($9, 6) + 0
		target = "p50 <= " (v / 1000) " ms" ($4 + 0 <= v ? " met" : " MISSED")
	} else if ($9 != "") {
		op2 = substr($9, 1, 2); v = substr($9, 3) + 0
		met = (op2 == ">=") ? ($8 + 0 >= v) : ($8 + 0 <= v)
		target = (op2 == ">=" ? ">= " : "<= ") sprintf("%.2f", v) (met ? " met" : " MISSED")
	}
	fmt(op, rate, $4 == "" ? "-" : ms($4), $5 == "" ? "-" : ms($5), ceil,
	    $8 == "" ? "-" : sprintf("%.2f", $8), target, $10)
}' "$ROWS_TSV"
echo
awk -F'\t' '$11 != "" { printf "  %s: %s\n", $1, $11 }' "$ROWS_TSV"
echo

# --- results file ---------------------------------------------------------------------------

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
{
	printf 'operation\trate\tunit\tp50_us\tp99_us\tceiling\tceiling_rate\tratio\ttarget\tcheck\tnote\n'
	cat "$ROWS_TSV"
} > "$RESULTS/bench-$STAMP.tsv"
"$JQ" -n --rawfile rows "$ROWS_TSV" --rawfile rounds_tsv "$ROUNDS_TSV" \
    --arg date "$STAMP" --arg host "$(uname -n)" --arg kernel "$(uname -sr)" \
    --argjson cores "$(nproc)" --argjson workers "$WORKERS" \
    --argjson threads "$THREADS" --argjson connections "$CONNS" \
    --argjson seconds "$SECS" --argjson rounds "$ROUNDS" \
    --arg build "${BENCH_DESC:-}" --arg dataset "$DATASET_DESC" \
    --arg dataset_note "$DATASET_NOTE" --argjson elapsed "$((END - START))" '
def num: if . == "" then null else tonumber end;
{ date: $date, host: $host, kernel: $kernel, cores: $cores, workers: $workers,
  wrk: { threads: $threads, connections: $connections,
         seconds_per_round: $seconds, rounds: $rounds },
  build: $build, dataset: $dataset, dataset_note: $dataset_note,
  elapsed_seconds: $elapsed,
  rows: [ $rows | split("\n")[] | select(length > 0) | split("\t") |
    { operation: .[0], rate: (.[1] | num), unit: .[2],
      p50_us: (.[3] | num), p99_us: (.[4] | num),
      ceiling: (if .[5] == "" then null else .[5] end),
      ceiling_rate: (.[6] | num), ratio: (.[7] | num),
      target: (if .[8] == "" then null else .[8] end),
      check: .[9], note: .[10] } ],
  rounds: [ $rounds_tsv | split("\n")[] | select(length > 0) | split("\t") |
    { name: .[0], round: (.[1] | tonumber), rate: (.[2] | tonumber),
      p50_us: (.[3] | tonumber), p99_us: (.[4] | tonumber),
      non2xx: (.[5] | tonumber), socket_errors: (.[6] | tonumber),
      bytes_per_response: (.[7] | tonumber) } ] }' > "$RESULTS/bench-$STAMP.json"
echo "results: $RESULTS/bench-$STAMP.json (and .tsv); $((END - START)) s"
if [ "$FAILED" != 0 ]; then
	log "some measurements are invalid (see the check column)"
	exit 1
fi
exit 0
