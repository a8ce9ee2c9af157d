# tests/bench/local.mk: `make bench` (never part of make check).
