#!/bin/sh
# http-search-main.sh: http-search.sh with recent_postings = 0, so that
# every posting is in the main tree.  With the default, the seeded
# resources' postings all stay in the small recent tree (store.h), and
# http-search.sh checks searches through that one.
EMBER_TEST_CONF="recent_postings = 0" exec bash \
    "${EMBER_SRCDIR:?run through make check}/tests/http-search.sh"
