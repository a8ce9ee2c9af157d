/*
 * cond.h: the criteria of conditional interactions (If-None-Exist,
 * PUT/PATCH/DELETE [type]?criteria), matched inside the interaction's own
 * transaction (prefix cond_).
 *
 * Criteria are a search run with strict handling (search.c): a
 * parameter Ember cannot evaluate is an error (400), never ignored, so a
 * typo can never match every resource.
 */
#ifndef EMBER_COND_H
#define EMBER_COND_H

#include <stddef.h>
#include <stdint.h>

struct store_txn;
struct tables;

/* The matches of one criteria string. */
struct cond_result {
	size_t		 cr_count;	/* number of current resources matched */
	uint64_t	*cr_rids;	/* the first cr_max of them, rid order */
	size_t		 cr_max;
};

/*
 * Find the current (not deleted) resources of type that match criteria
 * (a query string, still percent-encoded; result parameters such as
 * "_format" are not criteria), with the version's tables tb.  Up to max rids are kept in a new array
 * (free with cond_result_free()); the count is exact.
 * Returns EMBER_OK; EMBER_EINVAL for empty, malformed or unsupported
 * criteria (message in err); store errors; EMBER_ENOMEM.
 */
int cond_match(struct store_txn *t, const struct tables *tb,
    const char *type, size_t type_len, const char *criteria, size_t len,
    size_t max, struct cond_result *out, char *err, size_t errsz);

/* Free the rid array.  NULL is a no-op. */
void cond_result_free(struct cond_result *r);

#endif /* EMBER_COND_H */
