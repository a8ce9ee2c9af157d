# tests/xml.mk: the tests of the XML format (src/xml.c) and of _summary
# and _elements (src/summary.c).  Included from the top Makefile.am
# (non-recursive); every path is relative to the top of the tree.

check_PROGRAMS += tests/test-xml tests/test-summary tests/xml-roundtrip
tests_test_xml_SOURCES = tests/test-xml.c tests/tap.h tests/tables-all.h
tests_test_summary_SOURCES = tests/test-summary.c tests/tap.h tests/tables-all.h
tests_xml_roundtrip_SOURCES = tests/xml-roundtrip.c tests/tap.h

# xml-roundtrip needs ../shared/fhir and skips (77) without it.
TESTS += tests/test-xml tests/test-summary tests/xml-roundtrip
EXTRA_DIST += tests/data/xml/invalid-examples.tsv
