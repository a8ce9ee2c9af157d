#!/bin/bash
# soak.sh: `make soak`, a bounded soak test (issue 9): a mixed load for
# SOAK_SECONDS through lighttpd + ember.fcgi, with every worker's memory
# sampled, to show that nothing leaks and nothing fails under load.
#
# The soak rule of tests/bench/local.mk runs this script on the build it
# is run in (a sanitizer build works too; its RSS is larger) with:
#
#   EMBER_SRCDIR    source tree (fcgi/ember-serve, tests/bench/*)
#   EMBER_BUILDDIR  the build (ember.fcgi, emberctl, schemas/*.tables)
#   SOAK_WORK       scratch folder: emptied first, removed at the end
#                   (SOAK_KEEP=1 keeps it)
#   SOAK_RESULTS    where soak-<date>.txt (the report) and soak-<date>.tsv
#                   (the samples) are written
#
# What it does:
#   1. writes a synthetic R4 data set (tests/bench/synthetic.awk,
#      SOAK_PATIENTS Patients and SOAK_OBSERVATIONS Observations) and
#      loads it with emberctl;
#   2. starts lighttpd + SOAK_WORKERS ember.fcgi through fcgi/ember-serve
#      (the configuration of `make run` and of the HTTP tests);
#   3. runs wrk for SOAK_SECONDS with tests/bench/soak.lua: 45% reads by
#      id, 20% searches, 15% creates, 20% updates of a fixed set of ids
#      (SOAK_THREADS threads, SOAK_CONNECTIONS connections);
#   4. every SOAK_SAMPLE seconds, for each worker: VmRSS (from
#      /proc/PID/status) and Private_Dirty (from /proc/PID/smaps_rollup);
#   5. reports the requests, the answers outside 2xx by class, socket
#      errors, and per worker the RSS at start, after the warm-up
#      (SOAK_WARMUP seconds) and at the end.
#
# The verdict (exit status 0 PASS, 1 FAIL): no 5xx, no socket error, the
# same workers at the end as at the start (none crashed and was
# respawned), and each worker's Private_Dirty grew by less than
# SOAK_MAX_GROWTH_KB from the end of the warm-up to the end.  Private
# dirty memory is the heap (and stack): what a leak grows.  VmRSS also
# counts the pages of the LMDB map the worker has touched, which grows
# with the data the soak itself writes, so it is reported but not judged.
#
# Knobs (make variables or environment), with their defaults:
#   SOAK_SECONDS=300 SOAK_WARMUP=60 SOAK_SAMPLE=10
#   SOAK_CONNECTIONS=8 SOAK_THREADS=2 SOAK_WORKERS=2
#   SOAK_PATIENTS=2000 SOAK_OBSERVATIONS=8000 SOAK_MAX_GROWTH_KB=2048
#
# Everything it starts (lighttpd, its workers, wrk) is stopped on exit,
# Ctrl-C included.  `make soak` is never part of `make check`.
set -euo pipefail
export LC_ALL=C

: "${EMBER_SRCDIR:?run through make soak}"
: "${EMBER_BUILDDIR:?run through make soak}"
: "${SOAK_WORK:?run through make soak}"
EMBER_SRCDIR=$(cd "$EMBER_SRCDIR" && pwd -P)
EMBER_BUILDDIR=$(cd "$EMBER_BUILDDIR" && pwd -P)
RESULTS=${SOAK_RESULTS:-$EMBER_BUILDDIR/tests/bench/results}
SECS=${SOAK_SECONDS:-300}
WARMUP=${SOAK_WARMUP:-60}
SAMPLE=${SOAK_SAMPLE:-10}
CONNS=${SOAK_CONNECTIONS:-8}
THREADS=${SOAK_THREADS:-2}
WORKERS=${SOAK_WORKERS:-2}
PATIENTS=${SOAK_PATIENTS:-2000}
OBSERVATIONS=${SOAK_OBSERVATIONS:-8000}
MAX_GROWTH_KB=${SOAK_MAX_GROWTH_KB:-2048}
. "$EMBER_SRCDIR/tests/bench/tools.sh"	# WRK CURL JQ LIGHTTPD

HERE=$EMBER_SRCDIR/tests/bench
WORK=$SOAK_WORK

log() { printf 'soak: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- preflight ------------------------------------------------------------

command -v "$WRK" >/dev/null 2>&1 ||
	die "wrk is not installed; install it with: sudo apt-get install wrk"
for p in "$CURL" "$JQ" awk; do
	command -v "$p" >/dev/null 2>&1 || die "$p is not installed"
done
[ -x "$LIGHTTPD" ] || die "lighttpd is not installed (apt-get install lighttpd)"
for f in "$EMBER_BUILDDIR/fcgi/ember.fcgi" "$EMBER_BUILDDIR/src/emberctl"; do
	[ -x "$f" ] || die "$f is not built"
done
for v in "$SECS" "$SAMPLE" "$CONNS" "$THREADS" "$WORKERS" "$PATIENTS" \
    "$OBSERVATIONS"; do
	case $v in
	''|*[!0-9]*|0) die "SOAK_SECONDS, _SAMPLE, _CONNECTIONS, _THREADS, _WORKERS, _PATIENTS and _OBSERVATIONS take whole numbers above 0" ;;
	esac
done
case $WARMUP$MAX_GROWTH_KB in *[!0-9]*) die "SOAK_WARMUP and SOAK_MAX_GROWTH_KB take whole numbers" ;; esac
[ "$WARMUP" -lt "$SECS" ] || die "SOAK_WARMUP must be below SOAK_SECONDS"
[ "$CONNS" -ge "$THREADS" ] || die "SOAK_CONNECTIONS must be at least SOAK_THREADS"

# --- processes and cleanup ------------------------------------------------

SERVER=""	# lighttpd
WRK_PID=""

workers_of() {	# workers_of PID: the ember.fcgi children of lighttpd PID
	local w
	# Field 4 of /proc/PID/stat is the parent; the name (field 2) of
	# lighttpd's children has no spaces.
	for w in $(cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '$4 == p { print $1 }'); do
		grep -q '^Name:[[:space:]]*ember.fcgi' "/proc/$w/status" 2>/dev/null &&
		    echo "$w"
	done
}

cleanup() {
	local rc=$? i=0 workers=""
	trap - EXIT INT TERM
	[ -z "$WRK_PID" ] || kill "$WRK_PID" 2>/dev/null || true
	if [ -n "$SERVER" ]; then
		workers=$(workers_of "$SERVER")
		kill "$SERVER" 2>/dev/null || true
		while kill -0 "$SERVER" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$SERVER" 2>/dev/null || true
		# lighttpd stops its workers; make sure, by their ids.
		for w in $workers; do kill "$w" 2>/dev/null || true; done
	fi
	if [ "${SOAK_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
	exit $rc
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'exit 143' TERM

. "$EMBER_SRCDIR/tests/port.sh"

rm -rf "$WORK"
mkdir -p "$WORK/data" "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd -P)
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$RESULTS/soak-$STAMP.txt
SAMPLES=$RESULTS/soak-$STAMP.tsv

# --- data -----------------------------------------------------------------

log "writing and loading $PATIENTS Patients and $OBSERVATIONS Observations"
awk -v dir="$WORK" -v patients="$PATIENTS" -v observations="$OBSERVATIONS" \
    -f "$HERE/synthetic.awk"
{
	echo "data_dir = $WORK/data"
	echo "tables_dir = $EMBER_BUILDDIR/schemas"
} > "$WORK/emberctl.conf"
"$EMBER_BUILDDIR/src/emberctl" -c "$WORK/emberctl.conf" -V R4 load \
    "$WORK/Patient.ndjson" "$WORK/Observation.ndjson" > "$WORK/load.txt" 2>&1 ||
	{ cat "$WORK/load.txt" >&2; die "emberctl load failed"; }
sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$WORK/Patient.ndjson" > "$WORK/patients"
sed -n 's/.*"id":"\([^"]*\)".*/\1/p' "$WORK/Observation.ndjson" > "$WORK/observations"
# The created Patient: the first of the data set without its id.
head -n 1 "$WORK/Patient.ndjson" | sed 's/"id":"[^"]*",//' > "$WORK/create.json"

# --- server ---------------------------------------------------------------

: > "$WORK/extra.conf"
for try in 1 2 3 4 5; do
	PORT=$(free_port)
	if SERVER=$(EMBER_SRCDIR=$EMBER_SRCDIR EMBER_BUILDDIR=$EMBER_BUILDDIR \
	    "$EMBER_SRCDIR/fcgi/ember-serve" --port "$PORT" --data "$WORK/data" \
	    --workers "$WORKERS" --conf "$WORK/extra.conf" --background \
	    2>"$WORK/serve.err" | tail -n 1) && [ -n "$SERVER" ]; then
		break
	fi
	SERVER=""
done
[ -n "$SERVER" ] || { cat "$WORK/serve.err" >&2; die "cannot start lighttpd + ember.fcgi"; }
URL=http://127.0.0.1:$PORT/fhir
# Wake every worker (lighttpd spawns them all at start; a few requests
# make sure each has opened its stores before the first sample).
for i in $(seq $((WORKERS * 4))); do
	"$CURL" -s -o /dev/null "$URL/Patient/$(head -n 1 "$WORK/patients")"
done
WORKERS_START=$(workers_of "$SERVER" | sort -n | paste -sd' ')
[ -n "$WORKERS_START" ] || die "no ember.fcgi worker found under lighttpd $SERVER"

# --- load and samples -----------------------------------------------------

# sample T: one line per worker: T PID VmRSS_kB Private_Dirty_kB
sample() {
	local w rss dirty
	for w in $(workers_of "$SERVER"); do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$w/status" 2>/dev/null) || continue
		dirty=$(awk '/^Private_Dirty:/ { print $2 }' "/proc/$w/smaps_rollup" 2>/dev/null) || continue
		[ -n "$rss" ] && [ -n "$dirty" ] || continue
		printf '%s\t%s\t%s\t%s\n' "$1" "$w" "$rss" "$dirty"
	done
}

log "wrk: $SECS s, $THREADS threads, $CONNS connections, $WORKERS workers ($WORKERS_START); samples every $SAMPLE s"
printf 't_s\tpid\tvmrss_kb\tprivate_dirty_kb\n' > "$SAMPLES"
sample 0 >> "$SAMPLES"
"$WRK" -t "$THREADS" -c "$CONNS" -d "${SECS}s" --timeout 30s \
    -s "$HERE/soak.lua" "$URL/" -- "$WORK/patients" "$WORK/observations" \
    "$WORK/create.json" > "$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
T0=$(date +%s)
while kill -0 "$WRK_PID" 2>/dev/null; do
	sleep "$SAMPLE" &
	wait $! || true
	t=$(( $(date +%s) - T0 ))
	# The last sample is taken just before wrk ends, under load.
	kill -0 "$WRK_PID" 2>/dev/null && sample "$t" >> "$SAMPLES"
done
wait "$WRK_PID" || true
WRK_PID=""
WORKERS_END=$(workers_of "$SERVER" | sort -n | paste -sd' ')
# After the load: the worker still answers.
ALIVE=$("$CURL" -s -o /dev/null -w '%{http_code}' "$URL/metadata")

# --- report ---------------------------------------------------------------

line=$(sed -n 's/^SOAK //p' "$WORK/wrk.txt")
[ -n "$line" ] || { cat "$WORK/wrk.txt" >&2; die "wrk gave no result"; }
get() { "$JQ" -r ".[\"$1\"]" <<<"$line"; }
REQ=$(get requests); C4=$(get 4xx); C5=$(get 5xx); C3=$(get 3xx)
SOCK=$(get socket_errors)
FAIL=""
[ "$C5" = 0 ] || FAIL="$FAIL $C5 answers 5xx;"
[ "$SOCK" = 0 ] || FAIL="$FAIL $SOCK socket errors;"
[ "$WORKERS_START" = "$WORKERS_END" ] ||
	FAIL="$FAIL workers changed ($WORKERS_START -> $WORKERS_END: one died);"
[ "$ALIVE" = 200 ] || FAIL="$FAIL GET /metadata after the load: $ALIVE;"

{
	echo "soak $STAMP: $SECS s, wrk -t$THREADS -c$CONNS, $WORKERS workers, $(nproc) cores"
	echo "build: $EMBER_BUILDDIR"
	echo "data: $PATIENTS Patients + $OBSERVATIONS Observations (synthetic), R4"
	echo "requests: $REQ ($("$JQ" -r '"\(.requests / .seconds | floor)/s; sent: \(.reads) reads, \(.searches) searches, \(.creates) creates, \(.updates) updates"' <<<"$line"))"
	echo "answers: $(get 2xx) 2xx, $C3 3xx, $C4 4xx, $C5 5xx; socket errors $SOCK ($(get timeouts) timeouts)"
	echo "latency: p50 $(get p50_us) us, p99 $(get p99_us) us"
	echo "RSS per worker, kB (VmRSS / Private_Dirty): start, after the ${WARMUP} s warm-up, end; Private_Dirty growth after the warm-up"
	for w in $WORKERS_START; do
		awk -F'\t' -v w="$w" -v warm="$WARMUP" -v max="$MAX_GROWTH_KB" '
		$2 == w { if (!n++) { r0 = $3; d0 = $4 }
		          if ($1 <= warm || !wn) { rw = $3; dw = $4; if ($1 >= warm) wn = 1 }
		          r1 = $3; d1 = $4; t1 = $1 }
		END {
			if (!n) { printf "  worker %s: no sample\n", w; exit }
			g = d1 - dw
			printf "  worker %s: %d / %d -> %d / %d -> %d / %d (at %d s); growth %+d kB%s\n",
			    w, r0, d0, rw, dw, r1, d1, t1, g, g < max ? "" : " OVER " max " kB"
		}' "$SAMPLES"
	done
} > "$REPORT"
# The growth verdict, from the same lines.
over=$(grep -c ' OVER ' "$REPORT" || true)
[ "$over" = 0 ] || FAIL="$FAIL $over workers grew over $MAX_GROWTH_KB kB after the warm-up;"
if grep -q 'no sample' "$REPORT"; then FAIL="$FAIL a worker was never sampled;"; fi
if [ -z "$FAIL" ]; then
	echo "verdict: PASS (no 5xx, no socket error, same workers, Private_Dirty growth under $MAX_GROWTH_KB kB after the warm-up)" >> "$REPORT"
else
	echo "verdict: FAIL:$FAIL" >> "$REPORT"
fi
cat "$REPORT"
log "report: $REPORT; samples: $SAMPLES"
[ -z "$FAIL" ]
