# tests/fuzz/local.mk: libFuzzer targets and corpus replay.
#
# One target per parser, tests/fuzz/fuzz-<name>.c, each defining
# LLVMFuzzerTestOneInput() (tests/fuzz/fuzz.h says what they share):
#
#   json      json_parse + json_write: parse(write(parse(x))) is stable
#   http      query strings, percent-decoding, media types, Accept,
#             ETags, FHIR dates and HTTP-dates
#   rest      rest_handle: routing and every interaction, all versions,
#             requests (method, URI, headers, body) taken from the input
#   bundle    POST /fhir with the input as a batch/transaction Bundle
#   patch     patch_json and patch_fhirpath on fixed resources
#   fhirpath  fhirpath_compile (+ check, disasm, eval) of the input
#   cond      cond_match criteria on a small store
#   xml       xml_to_json in every version, then xml_from_json: the
#             XML written reads back to the same tree
#   lz        the store's compression: data round-trips, damaged
#             streams are refused or give the length asked, never more
#
# Seeds are in tests/fuzz/corpus/<name>/ (small files from examples/,
# written as XML for the xml target;
# the bodies and requests of tests/http-*.sh and tests/test-rest.c, the
# official R4 search expressions, hand-written edge cases, and every
# input that once crashed a target: crash-*), dictionaries in
# tests/fuzz/<name>.dict.
#
# `make check` runs tests/fuzz/replay-<name>: replay.c and the target
# linked with the normal src/libember.a (so the sanitizer build replays
# under ASan+UBSan too), one TAP line per corpus file.
#
# `make fuzz` builds the targets with clang in tests/fuzz/build/ (the
# core sources compiled again with -fsanitize=fuzzer-no-link,address,
# undefined; the normal build is not touched) and runs each for
# FUZZ_SECONDS (default 60) in turn, so about 9 minutes for the nine:
#
#   make fuzz [FUZZ_SECONDS=600] [FUZZ_TARGETS='json rest'] \
#       [FUZZ_ARGS='-jobs=2 -workers=2'] [FUZZ_CC=clang-14]
#
# New inputs go to tests/fuzz/build/corpus/<name>/ (the committed seeds
# are only read); crashes to tests/fuzz/build/crashes/<name>-crash-*.
# Replay one with tests/fuzz/replay-<name> FILE (or the fuzz binary),
# fix the bug, and copy the file into tests/fuzz/corpus/<name>/.
# `make fuzz-build` only builds.  The rule fails if any target crashed.

FUZZ_NAMES = json http rest bundle patch fhirpath cond xml lz

check_PROGRAMS += tests/fuzz/replay-json tests/fuzz/replay-http \
	tests/fuzz/replay-rest tests/fuzz/replay-bundle \
	tests/fuzz/replay-patch tests/fuzz/replay-fhirpath \
	tests/fuzz/replay-cond tests/fuzz/replay-xml tests/fuzz/replay-lz
TESTS += tests/fuzz/replay-json tests/fuzz/replay-http \
	tests/fuzz/replay-rest tests/fuzz/replay-bundle \
	tests/fuzz/replay-patch tests/fuzz/replay-fhirpath \
	tests/fuzz/replay-cond tests/fuzz/replay-xml tests/fuzz/replay-lz

FUZZ_COMMON = tests/fuzz/replay.c tests/fuzz/fuzz-common.c \
	tests/fuzz/fuzz.h tests/tap.h
FUZZ_REPLAY_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFUZZ_BUILDDIR='"$(abs_top_builddir)"'

tests_fuzz_replay_json_SOURCES = tests/fuzz/fuzz-json.c $(FUZZ_COMMON)
tests_fuzz_replay_json_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"json"'
tests_fuzz_replay_http_SOURCES = tests/fuzz/fuzz-http.c $(FUZZ_COMMON)
tests_fuzz_replay_http_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"http"'
tests_fuzz_replay_rest_SOURCES = tests/fuzz/fuzz-rest.c $(FUZZ_COMMON)
tests_fuzz_replay_rest_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"rest"'
tests_fuzz_replay_bundle_SOURCES = tests/fuzz/fuzz-bundle.c $(FUZZ_COMMON)
tests_fuzz_replay_bundle_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"bundle"'
tests_fuzz_replay_patch_SOURCES = tests/fuzz/fuzz-patch.c $(FUZZ_COMMON)
tests_fuzz_replay_patch_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"patch"'
tests_fuzz_replay_fhirpath_SOURCES = tests/fuzz/fuzz-fhirpath.c $(FUZZ_COMMON)
tests_fuzz_replay_fhirpath_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"fhirpath"'
tests_fuzz_replay_cond_SOURCES = tests/fuzz/fuzz-cond.c $(FUZZ_COMMON)
tests_fuzz_replay_cond_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"cond"'
tests_fuzz_replay_xml_SOURCES = tests/fuzz/fuzz-xml.c $(FUZZ_COMMON)
tests_fuzz_replay_xml_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"xml"'
tests_fuzz_replay_lz_SOURCES = tests/fuzz/fuzz-lz.c $(FUZZ_COMMON)
tests_fuzz_replay_lz_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_TARGET='"lz"'

# The corpora travel whole (automake copies a listed folder with its
# files); the dictionaries by name.
EXTRA_DIST += tests/fuzz/corpus \
	tests/fuzz/json.dict tests/fuzz/http.dict tests/fuzz/rest.dict \
	tests/fuzz/bundle.dict tests/fuzz/patch.dict \
	tests/fuzz/fhirpath.dict tests/fuzz/cond.dict tests/fuzz/xml.dict \
	tests/fuzz/lz.dict

# --- make fuzz -----------------------------------------------------------

FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_TARGETS = $(FUZZ_NAMES)
FUZZ_ARGS =
FUZZ_DIR = tests/fuzz/build
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=c11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
	$(EMBER_WARN)
FUZZ_CPP = $(DEFS) -I. -I$(srcdir) $(AM_CPPFLAGS) $(CPPFLAGS)
FUZZ_LIBS = $(LMDB_LIBS) $(CJSON_LIBS) $(EXPAT_LIBS)
FUZZ_CORE_OBJECTS = $(patsubst src/%.c,$(FUZZ_DIR)/core/%.o,\
	$(filter %.c,$(src_libember_a_SOURCES)))
FUZZ_CORE_H = $(filter %.h,$(src_libember_a_SOURCES)) config.h
FUZZ_BINARIES = $(patsubst %,$(FUZZ_DIR)/fuzz-%,$(FUZZ_TARGETS))

$(FUZZ_DIR)/core/%.o: src/%.c $(FUZZ_CORE_H)
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CPP) $(FUZZ_CFLAGS) \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_CORE_H)
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CPP) $(FUZZ_CFLAGS) \
	    -DFUZZ_BUILDDIR='"$(abs_top_builddir)"' \
	    -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/fuzz-%: $(FUZZ_DIR)/fuzz-%.o $(FUZZ_DIR)/fuzz-common.o \
    $(FUZZ_CORE_OBJECTS)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ \
	    $< $(FUZZ_DIR)/fuzz-common.o $(FUZZ_CORE_OBJECTS) $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINARIES) $(EMBER_TABLES)

fuzz: fuzz-build
	@failed=; \
	for t in $(FUZZ_TARGETS); do \
	  $(MKDIR_P) $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes || exit 1; \
	  echo "fuzz-$$t: $(FUZZ_SECONDS) s"; \
	  EMBER_BUILDDIR='$(abs_top_builddir)' \
	  ASAN_OPTIONS="$${ASAN_OPTIONS:-detect_leaks=1}" \
	  UBSAN_OPTIONS="$${UBSAN_OPTIONS:-print_stacktrace=1}" \
	  $(FUZZ_DIR)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -dict=$(srcdir)/tests/fuzz/$$t.dict \
	    -artifact_prefix=$(FUZZ_DIR)/crashes/$$t- \
	    -print_final_stats=1 $(FUZZ_ARGS) \
	    $(FUZZ_DIR)/corpus/$$t $(srcdir)/tests/fuzz/corpus/$$t \
	    || failed="$$failed $$t"; \
	done; \
	if test -n "$$failed"; then \
	  echo "fuzz: crashed:$$failed (see $(FUZZ_DIR)/crashes/)" >&2; \
	  exit 1; \
	fi

.PHONY: fuzz fuzz-build
.PRECIOUS: $(FUZZ_DIR)/%.o $(FUZZ_DIR)/core/%.o

# `make clean` removes the fuzz build with its generated corpus and
# crash files (copy what you want to keep first).
clean-fuzz:
	-rm -rf $(FUZZ_DIR)
clean-local: clean-fuzz
.PHONY: clean-fuzz
