# tools.sh: the programs tests/bench/bench.sh and soak.sh run, each
# overridable from the environment.  Sourced, not run.
WRK=${WRK:-wrk}
CURL=${CURL:-curl}
JQ=${JQ:-jq}
LIGHTTPD=${LIGHTTPD:-$(command -v lighttpd || echo /usr/sbin/lighttpd)}
export LIGHTTPD
