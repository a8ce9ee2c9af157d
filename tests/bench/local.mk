# tests/bench/local.mk: `make bench` (never part of make check).
#
# `make bench` measures Ember against ceilings taken in the same run
# (issue 8; README.md "Benchmarks"): tests/bench/bench.sh starts lighttpd
# + ember.fcgi through fcgi/ember-serve and drives them with wrk.  Its
# two helper programs are EXTRA_PROGRAMS, so `make` and `make check`
# never build them; only the bench rule does.
#
# Which build is measured: this one when it is optimized (the last -O in
# CFLAGS is -O2, -O3 or -Ofast, and no sanitizer), else a separate VPATH
# build configured with CFLAGS='-O2 -g' in tests/bench/opt/.
# BENCH_BUILD=current or BENCH_BUILD=separate forces either.

# EXTRA_PROGRAMS is first set here: a fragment included later extends it
# with +=.
EXTRA_PROGRAMS = tests/bench/fcgi-trivial tests/bench/lmdb-commit

tests_bench_fcgi_trivial_SOURCES = tests/bench/fcgi-trivial.c
tests_bench_fcgi_trivial_LDADD = $(FCGI_LIBS)
tests_bench_lmdb_commit_SOURCES = tests/bench/lmdb-commit.c
tests_bench_lmdb_commit_LDADD = $(LMDB_LIBS)

BENCH_HELPERS = tests/bench/fcgi-trivial$(EXEEXT) tests/bench/lmdb-commit$(EXEEXT)
BENCH_BUILD = auto

EXTRA_DIST += tests/bench/bench.sh tests/bench/bench.lua \
	tests/bench/synthetic.awk tests/bench/patient.json \
	tests/bench/soak.sh tests/bench/soak.lua tests/bench/files.lua \
	tests/bench/tools.sh
CLEANFILES += $(BENCH_HELPERS)

bench:
	@set -e; \
	tree='$(abs_top_builddir)'; \
	opt=`for f in $(CFLAGS); do case $$f in -O*) echo "$$f";; esac; done | tail -n 1`; \
	case '$(BENCH_BUILD)' in \
	current) where=current ;; \
	separate) where=separate ;; \
	auto) case "$$opt" in \
	      -O2|-O3|-Ofast) if test -z '$(EMBER_SAN)'; then where=current; \
	                      else where=separate; fi ;; \
	      *) where=separate ;; \
	      esac ;; \
	*) echo "bench: BENCH_BUILD is auto, current or separate" >&2; exit 2 ;; \
	esac; \
	if test $$where = current; then \
	  desc="this build ($$tree), CFLAGS='$(CFLAGS)'$(if $(EMBER_SAN), with sanitizers)"; \
	  $(MAKE) $(AM_MAKEFLAGS) --no-print-directory all $(BENCH_HELPERS); \
	else \
	  tree='$(abs_top_builddir)/tests/bench/opt'; \
	  desc="separate build ($$tree), CFLAGS='-O2 -g'"; \
	  if test ! -f "$$tree/config.status"; then \
	    if test -f '$(abs_top_srcdir)/config.status'; then \
	      echo "bench: this build is not optimized (CFLAGS='$(CFLAGS)' $(EMBER_SAN)), and the" >&2; \
	      echo "bench: source tree is configured in place, so no separate build can be made" >&2; \
	      echo "bench: from it.  Reconfigure with CFLAGS='-O2 -g', or run make bench from a" >&2; \
	      echo "bench: VPATH build, or measure this build anyway: make bench BENCH_BUILD=current" >&2; \
	      exit 1; \
	    fi; \
	    echo "bench: configuring an optimized build in $$tree"; \
	    $(MKDIR_P) "$$tree"; \
	    (cd "$$tree" && '$(abs_top_srcdir)/configure' CFLAGS='-O2 -g' \
	      CC='$(CC)' LIGHTTPD='$(LIGHTTPD)' CURL='$(CURL)' >configure.out 2>&1) || \
	      { cat "$$tree/configure.out" >&2; exit 1; }; \
	  fi; \
	  echo "bench: building $$tree"; \
	  $(MAKE) -C "$$tree" --no-print-directory all $(BENCH_HELPERS) >/dev/null; \
	fi; \
	results='$(abs_top_srcdir)/tests/bench/results'; \
	if ! test -w '$(abs_top_srcdir)/tests/bench' && ! test -w "$$results"; then \
	  results='$(abs_top_builddir)/tests/bench/results'; \
	fi; \
	EMBER_SRCDIR='$(abs_top_srcdir)' EMBER_BUILDDIR="$$tree" \
	BENCH_BINDIR="$$tree/tests/bench" BENCH_DESC="$$desc" \
	BENCH_WORK='$(abs_top_builddir)/tests/bench/run' \
	BENCH_CACHE='$(abs_top_builddir)/tests/bench/cache' \
	BENCH_RESULTS="$${BENCH_RESULTS:-$$results}" \
	LIGHTTPD='$(LIGHTTPD)' CURL='$(CURL)' \
	bash '$(abs_top_srcdir)/tests/bench/bench.sh'
.PHONY: bench clean-bench

# The knobs of bench.sh (BENCH_SECONDS, BENCH_ROUNDS, BENCH_DATASET...,
# see its header) reach it from the environment or the make command line.

# `make soak` (issue 9; never part of make check): a bounded soak of
# this build, as built, through lighttpd + ember.fcgi with wrk, every
# worker's memory sampled; tests/bench/soak.sh says what it runs and
# judges.  SOAK_SECONDS (default 300) and the other SOAK_* knobs reach it
# from the environment or the make command line.
soak: all
	@EMBER_SRCDIR='$(abs_top_srcdir)' EMBER_BUILDDIR='$(abs_top_builddir)' \
	SOAK_WORK='$(abs_top_builddir)/tests/bench/soak' \
	SOAK_RESULTS="$${SOAK_RESULTS:-$(abs_top_builddir)/tests/bench/results}" \
	LIGHTTPD='$(LIGHTTPD)' CURL='$(CURL)' \
	bash '$(abs_top_srcdir)/tests/bench/soak.sh'
.PHONY: soak

# `make clean` also removes the bench's scratch folder, its cached data
# sets and its separate optimized build.
clean-local: clean-bench
clean-bench:
	-rm -rf tests/bench/run tests/bench/cache tests/bench/opt tests/bench/soak
