#!/bin/bash
# http-apache.sh: a real Apache httpd with mod_fcgid and apache/ember.conf,
# on a free port, with its own ServerRoot in a temporary folder (no system
# configuration touched), serving Patient/example.
. "${EMBER_SRCDIR:?run through make check}/tests/lib.sh" || exit 99
APACHE2=${APACHE2:-$(command -v apache2 || echo /usr/sbin/apache2)}
MODS=/usr/lib/apache2/modules
[ -x "$APACHE2" ] || skip_all "apache2 not installed"
[ -f "$MODS/mod_fcgid.so" ] || skip_all "mod_fcgid not installed (libapache2-mod-fcgid)"
need "$CURL" "$JQ"

# Apache refuses to serve as root; it then runs its workers as www-data,
# who may not be able to enter the build tree (a clone in /root is mode
# 0700).  So as root everything Apache touches lives in a folder of its
# own under /tmp: the worker binary, the tables, the data and the state.
user=$(id -un)
group=$(id -gn)
FCGI=$EMBER_BUILDDIR/fcgi/ember.fcgi
TABLES=$EMBER_BUILDDIR/schemas
WORLD=$TMP
if [ "$(id -u)" = 0 ]; then
	user=www-data
	group=www-data
	WORLD=$(mktemp -d /tmp/ember-apache.XXXXXX)
	chmod 755 "$WORLD"
	mkdir -p "$WORLD/bin" "$WORLD/tables"
	cp "$FCGI" "$WORLD/bin/"
	cp "$TABLES"/*.tables "$WORLD/tables/"
	FCGI=$WORLD/bin/ember.fcgi
	TABLES=$WORLD/tables
fi
ROOT=$WORLD/apache
DATA=$WORLD/data
mkdir -p "$ROOT/logs" "$ROOT/state/fcgid" "$DATA"
cat > "$WORLD/ember.conf" <<CONF
data_dir = $DATA
tables_dir = $TABLES
CONF
EMBER_CONF=$WORLD/ember.conf "$EMBER_BUILDDIR/src/emberctl" -V R4 load "$EMBER_SRCDIR/examples/r4" >/dev/null
[ "$(id -u)" = 0 ] && chown -R www-data:www-data "$DATA" "$ROOT/state"

# write_conf: Apache's configuration for $PORT.
write_conf() {
	cat > "$ROOT/httpd.conf" <<CONF
ServerRoot "$ROOT"
ServerName localhost
Listen 127.0.0.1:$PORT
PidFile "$ROOT/httpd.pid"
ErrorLog "$ROOT/logs/error.log"
LogLevel warn
User $user
Group $group
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule fcgid_module $MODS/mod_fcgid.so
DocumentRoot "$ROOT"
Mutex file:$ROOT/state
Define EMBER_FCGI $FCGI
Define EMBER_CONF $WORLD/ember.conf
Define EMBER_STATE $ROOT/state
Include $EMBER_SRCDIR/apache/ember.conf
CONF
}

PORT=$(free_port)
write_conf
"$APACHE2" -f "$ROOT/httpd.conf" -t >"$TMP/configtest" 2>&1
is "$?" 0 "apache2 accepts the configuration"
# A port free a moment ago may be taken by a parallel test, and a loaded
# machine is slow to start Apache: try a few ports, waiting up to 20 s.
for try in 1 2 3 4; do
	"$APACHE2" -f "$ROOT/httpd.conf" -k start 2>"$TMP/start.err"
	up=0
	for i in $(seq 200); do
		if "$CURL" -s -o /dev/null "http://127.0.0.1:$PORT/"; then
			up=1
			break
		fi
		sleep 0.1
	done
	[ "$up" = 1 ] && break
	diag "apache2 on port $PORT did not answer: $(cat "$TMP/start.err") $(tail -n 3 "$ROOT/logs/error.log" 2>/dev/null)"
	"$APACHE2" -f "$ROOT/httpd.conf" -k stop 2>/dev/null
	sleep 1
	PORT=$(free_port)
	write_conf
done
BASE=http://127.0.0.1:$PORT/fhir
req GET /Patient/example
is "$STATUS" 200 "Apache: GET Patient/example: 200"
is "$(jqb '.resourceType + "/" + .id')" Patient/example "Apache: the Patient"
is "$(header Content-Type)" "application/fhir+json; charset=utf-8" "Apache: Content-Type"
req GET /metadata
is "$(jqb .fhirVersion)" 4.0.1 "Apache: metadata"
req GET /Patient/nope
is "$STATUS" 404 "Apache: unknown id 404"
req PUT /Patient/apache1 -H 'Content-Type: application/fhir+json' \
    --data-binary '{"resourceType":"Patient","id":"apache1"}'
is "$STATUS" 201 "Apache: update-as-create (request body through mod_fcgid)"

"$APACHE2" -f "$ROOT/httpd.conf" -k stop
for i in $(seq 50); do [ -f "$ROOT/httpd.pid" ] || break; sleep 0.1; done
check_sanitizer_log "$ROOT/logs/error.log"
[ "$WORLD" != "$TMP" ] && rm -rf "$WORLD"
echo "1..$TAP_N"
[ "$TAP_FAILED" = 0 ] && rm -rf "$TMP"
[ "$TAP_FAILED" = 0 ]
