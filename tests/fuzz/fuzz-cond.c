/*
 * fuzz-cond.c: the criteria of conditional interactions, cond_match()
 * (src/cond.h; a strict search, src/search.c), in a read transaction on
 * the R4 store of fuzz.h (a few Patients, an Organization and an
 * Observation).
 *
 * The input is "Type?criteria" when it starts with letters and a '?',
 * else criteria for Patient.  It is matched keeping at most 2 and at
 * most 100 rids: both must agree on the count, keep min(count, max)
 * rids, and name only rows that exist, are current and not deleted;
 * a refusal must say why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "error.h"
#include "server.h"
#include "store.h"
#include "version.h"

#include "fuzz.h"

static void
fuzz_cond_check(struct store_txn *t, const char *type, size_t type_len,
    const struct cond_result *r, size_t max)
{
	struct store_row	row;
	size_t			i, kept = r->cr_count < max ? r->cr_count : max;

	for (i = 0; i < kept; i++) {
		if (store_row(t, r->cr_rids[i], &row) != EMBER_OK)
			fuzz_fail("cond_match: rid %llu has no row",
			    (unsigned long long)r->cr_rids[i]);
		if (row.sr_deleted)
			fuzz_fail("cond_match: matched a deleted resource");
		if (row.sr_key_len <= type_len ||
		    memcmp(row.sr_key, type, type_len) != 0 ||
		    row.sr_key[type_len] != '/')
			fuzz_fail("cond_match: %.*s is not a %.*s",
			    (int)row.sr_key_len, row.sr_key, (int)type_len,
			    type);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*in = fuzz_dup(data, size), err[512];
	const char		*type = "Patient", *crit = in;
	struct server		*srv = fuzz_server_begin();
	size_t			 type_len = 7, len = size, n = 0;
	struct store_txn	*t;
	const struct tables	*tb;
	struct cond_result	 r2, r100;
	int			 rc2, rc100;

	while (n < size && ((in[n] >= 'A' && in[n] <= 'Z') ||
	    (in[n] >= 'a' && in[n] <= 'z')))
		n++;
	if (n > 0 && n < size && in[n] == '?') {
		type = in;
		type_len = n;
		crit = in + n + 1;
		len = size - n - 1;
	}
	tb = srv->srv_v[FHIR_R4].svv_tables;
	if (store_txn_begin(srv->srv_v[FHIR_R4].svv_store, 0, &t))
		fuzz_fail("store_txn_begin");
	memset(&r2, 0, sizeof(r2));
	memset(&r100, 0, sizeof(r100));
	err[0] = '\0';
	rc2 = cond_match(t, tb, type, type_len, crit, len, 2, &r2, err,
	    sizeof(err));
	if (rc2 != EMBER_OK && (rc2 != EMBER_EINVAL || err[0] == '\0'))
		fuzz_fail("cond_match: %s (%s)", ember_strerror(rc2), err);
	rc100 = cond_match(t, tb, type, type_len, crit, len, 100, &r100, err,
	    sizeof(err));
	if (rc100 != rc2)
		fuzz_fail("cond_match: %s with max 2, %s with max 100",
		    ember_strerror(rc2), ember_strerror(rc100));
	if (rc2 == EMBER_OK) {
		if (r2.cr_count != r100.cr_count)
			fuzz_fail("cond_match: count %zu with max 2, %zu with "
			    "max 100", r2.cr_count, r100.cr_count);
		if (r2.cr_max != 2 || r100.cr_max != 100)
			fuzz_fail("cond_match: cr_max not kept");
		fuzz_cond_check(t, type, type_len, &r2, 2);
		fuzz_cond_check(t, type, type_len, &r100, 100);
		if (r100.cr_count <= 100 && r2.cr_count >= 2 &&
		    memcmp(r2.cr_rids, r100.cr_rids, 2 * sizeof(uint64_t)))
			fuzz_fail("cond_match: first rids differ");
	}
	cond_result_free(&r2);
	cond_result_free(&r100);
	store_txn_abort(t);
	fuzz_server_end(srv);
	free(in);
	return 0;
}
