/*
 * search.h: FHIR search on the index postings (prefix search_).
 *
 * A query is parsed strictly (malformed values are errors), then each
 * criterion becomes a sorted set of rids from one range scan of the
 * postings (index.h), values of one parameter are OR-ed and parameters
 * AND-ed, smallest first.  Chained parameters resolve inner to outer
 * through reference postings; _has works in reverse.  Unknown parameters
 * are ignored with a warning, or refused under strict handling.
 */
#ifndef EMBER_SEARCH_H
#define EMBER_SEARCH_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct rest_ctx;
struct store_txn;
struct tables;

/* A sorted set of distinct rids. */
struct search_set {
	uint64_t	*ss_ids;
	size_t		 ss_n;
	size_t		 ss_cap;
};

/* Free the set's memory.  NULL is a no-op. */
void search_set_free(struct search_set *s);

/*
 * Evaluate the criteria of query (a query string, percent-encoded) for
 * resource type `type` in t: result parameters (_count, _sort, ...) are
 * skipped.  strict: unknown parameters are errors (EMBER_EINVAL), else
 * each adds a line to warnings (may be NULL).  plan (may be NULL) gets
 * one line per criterion: how many ids it gave and how many remain after
 * the AND.  *out gets a new set
 * (every current resource of the type when there are no criteria).
 * Returns EMBER_OK; EMBER_EINVAL for a malformed or unknown criterion
 * (message in err); EMBER_ENOMEM; store and tables errors.
 */
int search_eval(struct store_txn *t, const struct tables *tb,
    const char *type, size_t type_len, const char *query, size_t len,
    int strict, struct search_set *out, struct buf *warnings,
    struct buf *plan, char *err, size_t errsz);

struct tables_param;

/*
 * Whether search_eval() evaluates parameter p: every parameter with a
 * path, except special ones other than near and composites index.c
 * does not index; and _list, _text and _content, which read stored
 * resources.  The CapabilityStatement claims exactly these.
 */
int search_param_supported(const struct tables *tb,
    const struct tables_param *p);

/* GET [type]?, POST [type]/_search, GET [base]?_type=: a searchset. */
int search_handle(struct rest_ctx *cx);

#endif /* EMBER_SEARCH_H */
