# tests/fuzz/local.mk: libFuzzer targets and corpus replay.
