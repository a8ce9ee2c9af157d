# schemas/local.mk: the table compiler, the compiled tables and their
# tests.  Included from the top Makefile.am (non-recursive); every path is
# relative to the top of the tree.
#
# src/tablec turns each schemas/<ver>/ folder of the source tree into
# schemas/<ver>.tables in the build tree (see src/tables.h for the file
# format).  Every input file is listed by name, both as a prerequisite
# and in EXTRA_DIST, so a VPATH build and `make distcheck` see exactly
# the same inputs; no wildcards.

# --- the reader, the FHIRPath compiler/evaluator and the dump ------------

src_libember_a_SOURCES += \
	src/tables.c src/tables.h \
	src/tables_dump.c \
	src/fhirpath.c src/fhirpath.h

# --- the compiler --------------------------------------------------------

noinst_PROGRAMS += src/tablec
src_tablec_SOURCES = src/tablec.c

# --- the compiled tables -------------------------------------------------

EMBER_TABLES = \
	schemas/dstu2.tables \
	schemas/stu3.tables \
	schemas/r4.tables \
	schemas/r4b.tables \
	schemas/r5.tables

schemas_dstu2_inputs = \
	schemas/dstu2/version \
	schemas/dstu2/types.tsv \
	schemas/dstu2/elements.tsv \
	schemas/dstu2/searchparams.tsv \
	schemas/dstu2/extra-params.tsv \
	schemas/dstu2/components.tsv \
	schemas/dstu2/compartments.tsv
schemas_stu3_inputs = \
	schemas/stu3/version \
	schemas/stu3/types.tsv \
	schemas/stu3/elements.tsv \
	schemas/stu3/searchparams.tsv \
	schemas/stu3/extra-params.tsv \
	schemas/stu3/components.tsv \
	schemas/stu3/compartments.tsv
schemas_r4_inputs = \
	schemas/r4/version \
	schemas/r4/types.tsv \
	schemas/r4/elements.tsv \
	schemas/r4/searchparams.tsv \
	schemas/r4/extra-params.tsv \
	schemas/r4/components.tsv \
	schemas/r4/compartments.tsv
schemas_r4b_inputs = \
	schemas/r4b/version \
	schemas/r4b/types.tsv \
	schemas/r4b/elements.tsv \
	schemas/r4b/searchparams.tsv \
	schemas/r4b/extra-params.tsv \
	schemas/r4b/components.tsv \
	schemas/r4b/compartments.tsv
schemas_r5_inputs = \
	schemas/r5/version \
	schemas/r5/types.tsv \
	schemas/r5/elements.tsv \
	schemas/r5/searchparams.tsv \
	schemas/r5/extra-params.tsv \
	schemas/r5/components.tsv \
	schemas/r5/compartments.tsv

EXTRA_DIST += \
	$(schemas_dstu2_inputs) $(schemas_stu3_inputs) $(schemas_r4_inputs) \
	$(schemas_r4b_inputs) $(schemas_r5_inputs)

pkgdata_DATA += $(EMBER_TABLES)
CLEANFILES += $(EMBER_TABLES)
# The lead's Makefile.am adds $(EMBER_TABLES) to check_DATA as well;
# repeating a prerequisite is harmless, forgetting it is not.
check_DATA += $(EMBER_TABLES)

# tablec writes OUT.tmpXXXXXX and renames it, so an interrupted build
# never leaves a half-written file that looks up to date.  Its warnings
# (official definitions that do not fit the model) go to stderr.  The
# prerequisites are found in $(srcdir) through VPATH.
TABLEC_RUN = $(AM_V_GEN)$(MKDIR_P) schemas && ./src/tablec$(EXEEXT)

schemas/dstu2.tables: src/tablec$(EXEEXT) $(schemas_dstu2_inputs)
	$(TABLEC_RUN) $(srcdir)/schemas/dstu2 $@
schemas/stu3.tables: src/tablec$(EXEEXT) $(schemas_stu3_inputs)
	$(TABLEC_RUN) $(srcdir)/schemas/stu3 $@
schemas/r4.tables: src/tablec$(EXEEXT) $(schemas_r4_inputs)
	$(TABLEC_RUN) $(srcdir)/schemas/r4 $@
schemas/r4b.tables: src/tablec$(EXEEXT) $(schemas_r4b_inputs)
	$(TABLEC_RUN) $(srcdir)/schemas/r4b $@
schemas/r5.tables: src/tablec$(EXEEXT) $(schemas_r5_inputs)
	$(TABLEC_RUN) $(srcdir)/schemas/r5 $@

# --- tests ---------------------------------------------------------------

# A small hand-written schema folder, compiled like the real ones, for
# the FHIRPath unit tests; and broken ones that tablec must refuse.
tests_tables_mini_inputs = \
	tests/data/tables/mini/version \
	tests/data/tables/mini/types.tsv \
	tests/data/tables/mini/elements.tsv \
	tests/data/tables/mini/searchparams.tsv \
	tests/data/tables/mini/extra-params.tsv \
	tests/data/tables/mini/components.tsv \
	tests/data/tables/mini/compartments.tsv
tests_tables_bad_inputs = \
	tests/data/tables/bad-expr/version \
	tests/data/tables/bad-expr/types.tsv \
	tests/data/tables/bad-expr/elements.tsv \
	tests/data/tables/bad-expr/searchparams.tsv \
	tests/data/tables/bad-expr/extra-params.tsv \
	tests/data/tables/bad-expr/components.tsv \
	tests/data/tables/bad-expr/compartments.tsv \
	tests/data/tables/bad-func/version \
	tests/data/tables/bad-func/types.tsv \
	tests/data/tables/bad-func/elements.tsv \
	tests/data/tables/bad-func/searchparams.tsv \
	tests/data/tables/bad-func/extra-params.tsv \
	tests/data/tables/bad-func/components.tsv \
	tests/data/tables/bad-func/compartments.tsv
EXTRA_DIST += $(tests_tables_mini_inputs) $(tests_tables_bad_inputs)

tests/data/mini.tables: src/tablec$(EXEEXT) $(tests_tables_mini_inputs)
	$(AM_V_GEN)$(MKDIR_P) tests/data && \
	./src/tablec$(EXEEXT) $(srcdir)/tests/data/tables/mini $@ >/dev/null
check_DATA += tests/data/mini.tables
CLEANFILES += tests/data/mini.tables

check_PROGRAMS += tests/test-tables tests/test-fhirpath
tests_test_tables_SOURCES = tests/test-tables.c tests/tap.h
tests_test_fhirpath_SOURCES = tests/test-fhirpath.c tests/tap.h
TESTS += tests/test-tables tests/test-fhirpath
