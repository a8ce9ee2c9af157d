/*
 * test-store.c: the LMDB store: versions, current rows, the clock,
 * history order and filters, counts, and the consistency check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "store.h"
#include "tap.h"

static void
count_problem(void *arg, const char *line)
{
	tap_diag("problem: %s", line);
	(void)arg;
}

/* Write one version in its own transaction; returns the store error. */
static int
put(struct store *s, const char *type, const char *id, uint32_t vid,
    int method, const char *json, uint64_t *when)
{
	struct store_txn	*t;
	struct store_write	 w;
	int			 rc;

	if ((rc = store_txn_begin(s, 1, &t)))
		return rc;
	memset(&w, 0, sizeof(w));
	w.sw_type = type;
	w.sw_type_len = strlen(type);
	w.sw_id = id;
	w.sw_id_len = strlen(id);
	w.sw_version = vid;
	w.sw_method = method;
	w.sw_json = json;
	w.sw_json_len = json ? strlen(json) : 0;
	if ((rc = store_clock(t, &w.sw_last_updated)) ||
	    (rc = store_write(t, &w, NULL))) {
		store_txn_abort(t);
		return rc;
	}
	if (when)
		*when = w.sw_last_updated;
	return store_txn_commit(t);
}

/* The writes, in order; each must give the listed result. */
static const struct {
	const char	*type, *id;
	uint32_t	 vid;
	int		 method;
	const char	*json;
	int		 err;
} writes[] = {
	{ "Patient", "a", 1, STORE_POST, "{\"resourceType\":\"Patient\"}", EMBER_OK },
	{ "Patient", "b", 1, STORE_PUT, "{\"b\":1}", EMBER_OK },
	{ "Patient", "a", 2, STORE_PUT, "{\"a\":2}", EMBER_OK },
	{ "Observation", "o", 1, STORE_PUT, "{\"o\":1}", EMBER_OK },
	{ "Patient", "a", 3, STORE_DELETE, NULL, EMBER_OK },
	{ "Patient", "a", 3, STORE_PUT, "{}", EMBER_ECONFLICT },	/* stale */
	{ "Patient", "c", 2, STORE_PUT, "{}", EMBER_ECONFLICT },	/* new at 2 */
	{ "Patient", "b", 2, STORE_PUT, "{\"b\":2}", EMBER_OK },
};

int
main(void)
{
	struct store_opts	 so = { 64u << 20, 1, 0 };
	struct store		*s;
	struct store_txn	*t;
	struct store_row	 row;
	struct store_version	 sv;
	struct store_history_item items[16];
	char			 dir[] = "/tmp/ember-test-store-XXXXXX", err[256];
	char			 got[256], cmd[300];
	uint64_t		 when[8], n, problems;
	size_t			 i, k;
	int			 more, rc;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary folder");
	is_int(store_open(dir, &so, &s, err, sizeof(err)), EMBER_OK,
	    "open a new store");

	for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		is_int(put(s, writes[i].type, writes[i].id, writes[i].vid,
		    writes[i].method, writes[i].json, &when[i]), writes[i].err,
		    "write %s/%s v%u", writes[i].type, writes[i].id,
		    writes[i].vid);
	ok(when[0] < when[1] && when[1] < when[2] && when[2] < when[3] &&
	    when[3] < when[4] && when[4] < when[7],
	    "lastUpdated strictly increases");

	store_txn_begin(s, 0, &t);
	is_int(store_current(t, "Patient", 7, "a", 1, &row), EMBER_OK,
	    "current row of Patient/a");
	is_int(row.sr_version, 3, "Patient/a is at version 3");
	ok(row.sr_deleted, "Patient/a is deleted");
	is_int(store_current(t, "Patient", 7, "zz", 2, &row), EMBER_ENOTFOUND,
	    "unknown id");
	is_int(store_current(t, "Patien", 6, "a", 1, &row), EMBER_ENOTFOUND,
	    "a type prefix is not a type");
	store_current(t, "Patient", 7, "a", 1, &row);
	is_int(store_version(t, row.sr_rid, 2, &sv), EMBER_OK, "vread a/2");
	snprintf(got, sizeof(got), "%.*s", (int)sv.sv_json_len, sv.sv_json);
	is_str(got, "{\"a\":2}", "a/2 content");
	is_int(sv.sv_method, STORE_PUT, "a/2 method");
	is_int(store_version(t, row.sr_rid, 3, &sv), EMBER_OK, "vread a/3");
	ok(sv.sv_deleted && sv.sv_json_len == 0, "a/3 is an empty delete");
	is_int(store_version(t, row.sr_rid, 4, &sv), EMBER_ENOTFOUND,
	    "a/4 does not exist");

	/* History: system, type, instance; newest first. */
	store_history(t, 0, NULL, 0, 0, 0, items, 16, &k, &more);
	is_int(k, 6, "system history has 6 versions");
	ok(!more, "no more");
	ok(items[0].shi_last_updated == when[7] &&
	    items[5].shi_last_updated == when[0], "system history newest first");
	store_history(t, 0, "Patient", 7, 0, 0, items, 16, &k, &more);
	is_int(k, 5, "Patient history has 5 versions");
	store_history(t, 0, "Patient", 7, 0, 0, items, 2, &k, &more);
	ok(k == 2 && more, "a page of 2 says there is more");
	store_history(t, 0, "Patient", 7, 0, items[1].shi_last_updated, items,
	    16, &k, &more);
	is_int(k, 3, "the next page holds the other 3");
	store_history(t, 0, "Patient", 7, when[2], 0, items, 16, &k, &more);
	is_int(k, 3, "_since the third write: 3 Patient versions");
	store_current(t, "Patient", 7, "a", 1, &row);
	store_history(t, row.sr_rid, NULL, 0, 0, 0, items, 16, &k, &more);
	is_int(k, 3, "Patient/a has 3 versions");
	ok(items[0].shi_version == 3 && items[2].shi_version == 1,
	    "instance history newest first");
	store_history(t, 0, "Observation", 11, 0, 0, items, 16, &k, &more);
	is_int(k, 1, "Observation history");
	store_history(t, 0, "Obs", 3, 0, 0, items, 16, &k, &more);
	is_int(k, 0, "a type prefix has no history");

	store_count(t, "Patient", 7, &n);
	is_int(n, 1, "one current Patient (a is deleted)");
	store_count(t, NULL, 0, &n);
	is_int(n, 2, "two current resources");
	is_int(store_check(t, count_problem, NULL, &problems), EMBER_OK,
	    "check runs");
	is_int(problems, 0, "check finds no problem");
	store_txn_abort(t);

	/* The clock runs only in write transactions. */
	rc = store_txn_begin(s, 1, &t);
	is_int(rc, EMBER_OK, "write transaction");
	is_int(store_clock(t, &n), EMBER_OK, "clock in a write");
	store_txn_abort(t);
	store_txn_begin(s, 0, &t);
	is_int(store_clock(t, &n), EMBER_EINTERNAL, "no clock in a read");
	store_txn_abort(t);

	store_close(s);
	store_close(NULL);
	/* Reopen: the data and the clock persist. */
	is_int(store_open(dir, &so, &s, err, sizeof(err)), EMBER_OK, "reopen");
	is_int(put(s, "Patient", "d", 1, STORE_POST, "{}", &n), EMBER_OK,
	    "write after reopen");
	ok(n > when[7], "the clock survived the reopen");
	store_close(s);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	tap_done();
	return tap_exit();
}
