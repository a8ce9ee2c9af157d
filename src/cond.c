/*
 * cond.c: criteria of conditional interactions; see cond.h.
 *
 * The criteria are a search (search.c) run with strict handling inside
 * the interaction's own transaction, so a parameter Ember does not know
 * is an error and never matches everything.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "error.h"
#include "http.h"
#include "search.h"
#include "store.h"

/* Does the query hold at least one criterion (not _format, _pretty)? */
static int
cond_has_criteria(const char *q, size_t len)
{
	const char		*p = q, *end = q + len;
	struct http_param	 hp;

	while (http_query_next(&p, end, &hp))
		if (!(hp.hp_name_len == 7 && memcmp(hp.hp_name, "_format", 7) ==
		    0) && !(hp.hp_name_len == 7 && memcmp(hp.hp_name,
		    "_pretty", 7) == 0))
			return 1;
	return 0;
}

int
cond_match(struct store_txn *t, const struct tables *tb, const char *type,
    size_t type_len, const char *criteria, size_t len, size_t max,
    struct cond_result *out, char *err, size_t errsz)
{
	struct search_set	set = { NULL, 0, 0 };
	struct cond_result	r;
	size_t			n;
	int			rc;

	if (!cond_has_criteria(criteria, len)) {
		snprintf(err, errsz, "conditional interaction without criteria");
		return EMBER_EINVAL;
	}
	if ((rc = search_eval(t, tb, type, type_len, criteria, len, 1, &set,
	    NULL, NULL, err, errsz)))
		return rc;
	memset(&r, 0, sizeof(r));
	r.cr_count = set.ss_n;
	r.cr_max = max;
	n = set.ss_n < max ? set.ss_n : max;
	if ((r.cr_rids = calloc(n ? n : 1, sizeof(*r.cr_rids))) == NULL) {
		search_set_free(&set);
		return EMBER_ENOMEM;
	}
	if (n)
		memcpy(r.cr_rids, set.ss_ids, n * sizeof(*r.cr_rids));
	search_set_free(&set);
	*out = r;
	return EMBER_OK;
}

void
cond_result_free(struct cond_result *r)
{
	if (r == NULL)
		return;
	free(r->cr_rids);
	r->cr_rids = NULL;
}
