/*
 * test-store.c: the LMDB store: versions, current rows, the clock,
 * history order and filters, counts, the consistency check, and bulk
 * mode's nested transactions.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "be.h"
#include "buf.h"
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

/*
 * store_latest() agrees with store_current() on every resource of the
 * writes above: the first rid (found past its last version, then back
 * one), one in the middle, the last one in the tree, an unknown id; in
 * a read and, where it takes store_current()'s way, in a write.  The
 * version it found is then read without a lookup, and is the right one.
 */
static const struct {
	const char	*type, *id;
	const char	*json;		/* of the current version, or NULL */
	const char	*v1;		/* of version 1 */
} latest[] = {
	/* deleted at 3 */
	{ "Patient", "a", "", "{\"resourceType\":\"Patient\"}" },
	{ "Patient", "b", "{\"b\":2}", "{\"b\":1}" },
	/* the last rid */
	{ "Observation", "o", "{\"o\":1}", "{\"o\":1}" },
	{ "Patient", "zz", NULL, NULL },
	/* again, on the same cursor */
	{ "Patient", "b", "{\"b\":2}", "{\"b\":1}" },
};

static void
test_latest(struct store *s)
{
	struct store_txn	*t;
	struct store_row	 want, got;
	struct store_version	 sv;
	char			 body[64];
	size_t			 i;
	int			 w, rc;

	for (w = 0; w < 2; w++) {
		store_txn_begin(s, w, &t);
		for (i = 0; i < sizeof(latest) / sizeof(latest[0]); i++) {
			const char *type = latest[i].type, *id = latest[i].id;

			rc = store_current(t, type, strlen(type), id,
			    strlen(id), &want);
			is_int(store_latest(t, type, strlen(type), id,
			    strlen(id), &got), rc, "%s: latest %s/%s: %s",
			    w ? "write" : "read", type, id,
			    ember_strerror(rc));
			if (rc != EMBER_OK)
				continue;
			ok(got.sr_rid == want.sr_rid &&
			    got.sr_version == want.sr_version &&
			    got.sr_deleted == want.sr_deleted &&
			    got.sr_last_updated == want.sr_last_updated,
			    "%s: latest %s/%s is the current row (v%u)",
			    w ? "write" : "read", type, id, got.sr_version);
			is_int(store_version(t, got.sr_rid, got.sr_version,
			    &sv), EMBER_OK, "then its version");
			snprintf(body, sizeof(body), "%.*s",
			    (int)sv.sv_json_len, sv.sv_json);
			is_str(body, latest[i].json, "%s/%s: its content",
			    type, id);
			is_int(store_version(t, got.sr_rid, 1, &sv),
			    EMBER_OK, "and version 1 after it");
			snprintf(body, sizeof(body), "%.*s",
			    (int)sv.sv_json_len, sv.sv_json);
			is_str(body, latest[i].v1, "%s/%s: version 1's content",
			    type, id);
		}
		store_txn_abort(t);
	}
}

/* Blob form of posting keys: each a 2-byte length and the bytes. */
static void
blob_add(struct buf *b, const char *key)
{
	size_t n = strlen(key);

	buf_putc(b, (int)(n >> 8));
	buf_putc(b, (int)(n & 0xff));
	buf_append(b, key, n);
}

/* store_postings_scan(): the keys and rids seen, as "key=rid;". */
static int
scan_collect(void *arg, const unsigned char *key, size_t len, uint64_t rid)
{
	buf_printf(arg, "%.*s=%llu;", (int)len, (const char *)key,
	    (unsigned long long)rid);
	return 0;
}

/* store_postings_groups(): each key's rids, as "key=rid;". */
static int
groups_collect(void *arg, const unsigned char *key, size_t len,
    const unsigned char *rids, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_printf(arg, "%.*s=%lu;", (int)len, (const char *)key,
		    (unsigned long)be32_get(rids + 4 * i));
	return 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The "key=rid;" items of in (len bytes), sorted as strings, into out:
 * each tree is scanned in key order, the main one before the recent one,
 * so what a scan saw is compared as a set.
 */
static void
scan_sorted(const char *in, size_t len, char *out, size_t outsz)
{
	char	*copy, *items[64], *p;
	size_t	 n = 0, i, at = 0;

	out[0] = '\0';
	if ((copy = strndup(in ? in : "", len)) == NULL)
		return;
	for (p = strtok(copy, ";"); p != NULL && n < 64; p = strtok(NULL, ";"))
		items[n++] = p;
	qsort(items, n, sizeof(*items), str_cmp);
	for (i = 0; i < n && at < outsz; i++)
		at += (size_t)snprintf(out + at, outsz - at, "%s;", items[i]);
	free(copy);
}

/* Owned keys of rid, as "key;" in the order given. */
static int
owned_list(struct store_txn *t, uint64_t rid, char *out, size_t outsz)
{
	const unsigned char	*p;
	const void		*keys;
	size_t			 len, n, at = 0;
	int			 rc;

	out[0] = '\0';
	if ((rc = store_postings_owned(t, rid, &keys, &len)))
		return rc;
	for (p = keys; len >= 2; p += 2 + n, len -= 2 + n) {
		n = ((size_t)p[0] << 8) | p[1];
		at += (size_t)snprintf(out + at, outsz - at, "%.*s;", (int)n,
		    (const char *)p + 2);
		if (at >= outsz)
			return EMBER_ENOMEM;
	}
	return EMBER_OK;
}

/*
 * Postings written in one transaction, replaced in the next: the keys
 * each resource owns (sorted, each once) and what a scan of "k" finds.
 */
static const struct {
	const char	*id;		/* Patient/id */
	const char	*keys[5];	/* its posting keys, NULL ends */
	const char	*owned;		/* its owned keys afterwards */
} posting_writes[] = {
	{ "p1", { "kb", "ka", "kb", "x1", NULL }, "ka;kb;x1;" },
	{ "p2", { "ka", "kab", NULL }, "ka;kab;" },
	{ "p3", { "kc", NULL }, "kc;" },
	{ "p1", { "ka", "kd", NULL }, "ka;kd;" },	/* replaced */
	{ "p3", { NULL }, "" },				/* all removed */
	{ "p2", { "ke", "kab", NULL }, "kab;ke;" },	/* one out, one in */
};

/* Version bodies that must come back byte for byte. */
static const char *const bodies[] = {
	"{}",
	"{\"resourceType\":\"Observation\",\"status\":\"final\","
	    "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
	    "\"code\":\"8302-2\",\"display\":\"Body Height\"}]},"
	    "\"subject\":{\"reference\":\"Patient/p1\"}}",
	("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	"q8Zx!9#kLm$2vBn@4rTy%6uIo^8pAs&0dFg*1hJk(3lQw)5eRt_7yUi+9oPa-0sDf=",
};

/* Write each body as a version of Body/i and read it back. */
static void
test_bodies(struct store *s)
{
	struct store_txn	*t;
	struct store_version	 sv;
	struct store_row	 row;
	struct buf		 big = BUF_INIT;
	char			 id[16];
	size_t			 i;

	/* A large resource too: many matches, an overflow page. */
	buf_puts(&big, "{\"item\":[");
	for (i = 0; i < 2000; i++)
		buf_printf(&big, "%s{\"linkId\":\"%zu\",\"text\":\"q%zu\"}",
		    i ? "," : "", i, i * 7919 % 1000);
	buf_puts(&big, "]}");
	for (i = 0; i <= sizeof(bodies) / sizeof(bodies[0]); i++) {
		const char *b = i < sizeof(bodies) / sizeof(bodies[0]) ?
		    bodies[i] : big.data;

		snprintf(id, sizeof(id), "b%zu", i);
		is_int(put(s, "Body", id, 1, STORE_PUT, b, NULL), EMBER_OK,
		    "write body %zu (%zu bytes)", i, strlen(b));
		store_txn_begin(s, 0, &t);
		ok(store_current(t, "Body", 4, id, strlen(id), &row) ==
		    EMBER_OK && store_version(t, row.sr_rid, 1, &sv) ==
		    EMBER_OK && sv.sv_json_len == strlen(b) &&
		    memcmp(sv.sv_json, b, sv.sv_json_len) == 0,
		    "body %zu reads back as written", i);
		store_txn_abort(t);
	}
	buf_free(&big);
}

/* Postings: replace, owned lists, scans, all inside and across commits. */
static void
test_postings(struct store *s, size_t recent)
{
	struct store_txn	*t, *b;
	struct store_write	 w;
	struct store_row	 row;
	struct buf		 keys = BUF_INIT, seen = BUF_INIT;
	char			 got[256], want[128];
	struct store_stats	 st;
	uint64_t		 rid[4], problems;
	size_t			 i, k;

	/* p1..p3 written, postings of each, one transaction. */
	store_txn_begin(s, 1, &t);
	for (i = 0; i < 3; i++) {
		memset(&w, 0, sizeof(w));
		w.sw_type = "Patient";
		w.sw_type_len = 7;
		w.sw_id = posting_writes[i].id;
		w.sw_id_len = strlen(w.sw_id);
		w.sw_version = 1;
		w.sw_method = STORE_PUT;
		w.sw_json = "{}";
		w.sw_json_len = 2;
		store_clock(t, &w.sw_last_updated);
		store_write(t, &w, &row);
		rid[i + 1] = row.sr_rid;
		buf_reset(&keys);
		for (k = 0; posting_writes[i].keys[k]; k++)
			blob_add(&keys, posting_writes[i].keys[k]);
		is_int(store_postings_replace(t, row.sr_rid, keys.data,
		    keys.len), EMBER_OK, "postings of %s", w.sw_id);
	}
	/* A scan in the writing transaction sees them (pending flushed). */
	store_postings_scan(t, "k", 1, NULL, 0, scan_collect, &seen);
	scan_sorted(seen.data, seen.len, got, 128);
	snprintf(want, sizeof(want), "ka=%llu;ka=%llu;kab=%llu;kb=%llu;kc=%llu;",
	    (unsigned long long)rid[1], (unsigned long long)rid[2],
	    (unsigned long long)rid[2], (unsigned long long)rid[1],
	    (unsigned long long)rid[3]);
	scan_sorted(want, strlen(want), got + 128, 128);
	is_str(got, got + 128, "recent %zu: scan in the writing transaction",
	    recent);
	/* The same by key, with their rids: keys of one rid and of two. */
	buf_reset(&seen);
	store_postings_groups(t, "k", 1, groups_collect, &seen);
	scan_sorted(seen.data, seen.len, got, 128);
	is_str(got, got + 128, "recent %zu: each key's rids, by key", recent);
	/* A borrowed handle writes into the same pending postings. */
	store_txn_borrow(t, &b);
	buf_reset(&keys);
	blob_add(&keys, "ka");
	blob_add(&keys, "kab");
	is_int(store_postings_replace(b, rid[2], keys.data, keys.len),
	    EMBER_OK, "replace through a borrowed handle");
	store_txn_commit(b);
	is_int(store_txn_commit(t), EMBER_OK, "commit postings");

	for (i = 3; i < sizeof(posting_writes) / sizeof(posting_writes[0]);
	    i++) {
		uint64_t r = rid[posting_writes[i].id[1] - '0'];

		store_txn_begin(s, 1, &t);
		buf_reset(&keys);
		for (k = 0; posting_writes[i].keys[k]; k++)
			blob_add(&keys, posting_writes[i].keys[k]);
		is_int(store_postings_replace(t, r, keys.data, keys.len),
		    EMBER_OK, "replace postings of %s", posting_writes[i].id);
		is_int(store_txn_commit(t), EMBER_OK, "commit");
	}
	store_txn_begin(s, 0, &t);
	for (i = 1; i <= 3; i++) {
		const char *owned = NULL;

		for (k = 0; k < sizeof(posting_writes) /
		    sizeof(posting_writes[0]); k++)
			if (posting_writes[k].id[1] - '0' == (int)i)
				owned = posting_writes[k].owned;
		k = owned_list(t, rid[i], got, sizeof(got));
		if (*owned == '\0')
			is_int((int)k, EMBER_ENOTFOUND, "p%zu owns nothing", i);
		else
			is_str(got, owned, "p%zu owns its keys, sorted, once",
			    i);
	}
	buf_reset(&seen);
	store_postings_scan(t, "ka", 2, "kc", 2, scan_collect, &seen);
	scan_sorted(seen.data, seen.len, got, 128);
	snprintf(want, sizeof(want), "ka=%llu;kab=%llu;",
	    (unsigned long long)rid[1], (unsigned long long)rid[2]);
	scan_sorted(want, strlen(want), got + 128, 128);
	is_str(got, got + 128, "recent %zu: range scan [ka, kc) after the "
	    "replacements", recent);
	is_int(store_check(t, count_problem, NULL, &problems), EMBER_OK,
	    "check runs");
	is_int(problems, 0, "recent %zu: postings and owned lists agree",
	    recent);
	is_int(store_stats(t, &st), EMBER_OK, "stats");
	/* 1000: all four postings still there; 2: the first transaction's
	 * six went to the main tree, p2's first replacement changed nothing,
	 * and p1's and p2's second added kd and ke, which are there. */
	is_int((int)st.ss_recent, recent == 1000 ? 4 : recent == 2 ? 2 : 0,
	    "recent %zu: postings in the recent tree", recent);
	store_txn_abort(t);
	buf_free(&keys);
	buf_free(&seen);
}

/*
 * Bulk mode: transactions nest in one outer transaction; a nested commit
 * keeps its writes, a nested abort drops them, a read handle sees what
 * the nested commits before it wrote, and only store_bulk_commit() (or
 * store_bulk_abort()) ends it all.
 */
static const struct {
	const char	*id;		/* Patient/id written in a nested txn */
	int		 commit;	/* commit it, or abort */
	int		 bulk;		/* then: 0 go on, 1 bulk commit, 2 abort */
} bulk_steps[] = {
	{ "bulk1", 1, 0 },
	{ "bulk2", 0, 0 },		/* dropped: its nested txn aborts */
	{ "bulk3", 1, 1 },		/* bulk1 and bulk3 committed */
	{ "bulk4", 1, 2 },		/* dropped with the bulk transaction */
	{ "bulk5", 1, 1 },
};

static void
test_bulk(struct store *s)
{
	static const char *const kept[] = { "bulk1", "bulk3", "bulk5" };
	struct store_txn	*t, *inner;
	struct store_row	 row;
	size_t			 i, j;
	int			 begun = 0, rc;

	for (i = 0; i < sizeof(bulk_steps) / sizeof(bulk_steps[0]); i++) {
		if (!begun)
			is_int(store_bulk_begin(s), EMBER_OK, "bulk begin");
		begun = 1;
		is_int(store_bulk_begin(s), EMBER_EINTERNAL,
		    "no bulk mode inside bulk mode");
		if (bulk_steps[i].commit)
			is_int(put(s, "Patient", bulk_steps[i].id, 1,
			    STORE_PUT, "{}", NULL), EMBER_OK, "nested write %s",
			    bulk_steps[i].id);
		else {
			/* Written in a transaction nested in one that is
			 * then aborted. */
			store_txn_begin(s, 1, &t);
			is_int(put(s, "Patient", bulk_steps[i].id, 1,
			    STORE_PUT, "{}", NULL), EMBER_OK,
			    "doubly nested write %s", bulk_steps[i].id);
			store_txn_begin(s, 0, &inner);
			is_int(store_current(inner, "Patient", 7,
			    bulk_steps[i].id, strlen(bulk_steps[i].id), &row),
			    EMBER_OK, "seen inside its parent");
			is_int(store_bulk_commit(s), EMBER_EINTERNAL,
			    "no bulk commit while a nested one is open");
			store_txn_abort(inner);
			store_txn_abort(t);
		}
		store_txn_begin(s, 0, &t);
		rc = store_current(t, "Patient", 7, bulk_steps[i].id,
		    strlen(bulk_steps[i].id), &row);
		is_int(rc, bulk_steps[i].commit ? EMBER_OK : EMBER_ENOTFOUND,
		    "a nested read sees %s %s", bulk_steps[i].id,
		    bulk_steps[i].commit ? "committed" : "not at all");
		store_txn_abort(t);
		if (bulk_steps[i].bulk == 1)
			is_int(store_bulk_commit(s), EMBER_OK, "bulk commit");
		else if (bulk_steps[i].bulk == 2)
			store_bulk_abort(s);
		begun = bulk_steps[i].bulk == 0;
	}
	is_int(store_bulk_commit(s), EMBER_EINTERNAL,
	    "no bulk commit outside bulk mode");
	store_txn_begin(s, 0, &t);
	for (i = 1; i <= 5; i++) {
		char	id[8];
		int	want = EMBER_ENOTFOUND;

		snprintf(id, sizeof(id), "bulk%zu", i);
		for (j = 0; j < sizeof(kept) / sizeof(kept[0]); j++)
			if (strcmp(kept[j], id) == 0)
				want = EMBER_OK;
		is_int(store_current(t, "Patient", 7, id, strlen(id), &row),
		    want, "after bulk mode: %s %s", id,
		    want == EMBER_OK ? "kept" : "gone");
	}
	store_txn_abort(t);
}

/*
 * Group commit: between store_group_begin() and store_group_end() each
 * write nests in one group transaction.  A write of the group sees the
 * earlier ones; a read on its own sees only what is committed, until the
 * group ends; a nested abort drops one write; a group left with a write
 * open is aborted whole.  Each row is one write, then what ends it.
 */
enum { GROUP_ON, GROUP_END, GROUP_END_OPEN };

static const struct {
	const char	*id;		/* Patient/id written in the group */
	int		 commit;	/* its nested transaction: commit/abort */
	int		 then;		/* GROUP_ON: go on; GROUP_END: end the
					   group; GROUP_END_OPEN: end it while
					   a write is open */
	int		 kept;		/* is it there at the end? */
} group_steps[] = {
	{ "grp1", 1, GROUP_ON, 1 },
	{ "grp2", 0, GROUP_ON, 0 },	/* aborted on its own */
	{ "grp3", 1, GROUP_END, 1 },	/* grp1 and grp3 committed */
	{ "grp4", 1, GROUP_ON, 0 },	/* lost with the group: */
	{ "grp5", 1, GROUP_END_OPEN, 0 }, /* a write left open */
	{ "grp6", 1, GROUP_END, 1 },
};

static int
group_sees(struct store *s, const char *id)
{
	struct store_txn	*t;
	struct store_row	 row;
	int			 rc;

	if (store_txn_begin(s, 0, &t))
		return -1;
	rc = store_current(t, "Patient", 7, id, strlen(id), &row);
	store_txn_abort(t);
	return rc == EMBER_OK;
}

static void
test_group(struct store *s)
{
	struct store_txn	*t, *open;
	struct store_row	 row;
	uint64_t		 before;
	size_t			 i;
	int			 on = 0;

	is_int(store_bulk_begin(s), EMBER_OK, "bulk begin");
	is_int(store_group_begin(s), EMBER_EINTERNAL, "no group in bulk mode");
	store_bulk_abort(s);
	is_int(store_group_begin(s), EMBER_OK, "a group with nothing in it");
	before = store_group_writes(s);
	ok(group_sees(s, "grp1") == 0, "a read in group mode");
	is_int(store_group_end(s), EMBER_OK, "ends with nothing to commit");
	ok(store_group_writes(s) == before, "reads are not group writes");

	for (i = 0; i < sizeof(group_steps) / sizeof(group_steps[0]); i++) {
		const char *id = group_steps[i].id;

		if (!on)
			is_int(store_group_begin(s), EMBER_OK, "group begin");
		on = 1;
		is_int(store_group_begin(s), EMBER_EINTERNAL,
		    "no group inside a group");
		before = store_group_writes(s);
		if (group_steps[i].commit)
			is_int(put(s, "Patient", id, 1, STORE_PUT, "{}", NULL),
			    EMBER_OK, "group write %s", id);
		else {
			store_txn_begin(s, 1, &t);
			store_txn_abort(t);
		}
		ok(store_group_writes(s) > before, "%s counts as a group "
		    "write", id);
		ok(group_sees(s, id) == 0, "a read does not see %s before "
		    "the group ends", id);
		if (i > 0 && group_steps[i - 1].then == GROUP_ON) {
			/* The one before, uncommitted, from inside. */
			store_txn_begin(s, 1, &t);
			is_int(store_current(t, "Patient", 7,
			    group_steps[i - 1].id,
			    strlen(group_steps[i - 1].id), &row),
			    group_steps[i - 1].commit ? EMBER_OK :
			    EMBER_ENOTFOUND, "a group write %s %s",
			    group_steps[i - 1].commit ? "sees" :
			    "does not see", group_steps[i - 1].id);
			store_txn_abort(t);
		}
		if (group_steps[i].then == GROUP_END)
			is_int(store_group_end(s), EMBER_OK, "group end "
			    "after %s", id);
		else if (group_steps[i].then == GROUP_END_OPEN) {
			/* The open write is aborted and freed with it. */
			store_txn_begin(s, 1, &open);
			is_int(store_group_end(s), EMBER_EINTERNAL,
			    "group end with a write open");
		}
		on = group_steps[i].then == GROUP_ON;
	}
	for (i = 0; i < sizeof(group_steps) / sizeof(group_steps[0]); i++)
		is_int(group_sees(s, group_steps[i].id), group_steps[i].kept,
		    "after the groups: %s %s", group_steps[i].id,
		    group_steps[i].kept ? "kept" : "gone");
	is_int(put(s, "Patient", "grp7", 1, STORE_PUT, "{}", NULL), EMBER_OK,
	    "a write on its own after the groups");
	ok(group_sees(s, "grp7") == 1, "committed at once");
}

/*
 * Writes that join the group's own transaction (store_txn_join(), for
 * prepared creates): kept with the group as nested writes are, their
 * postings put with the group's (made ready outside the transaction:
 * store_keys_ready()); one aborted after it wrote fails its whole group,
 * nested writes of it too.  Each row is one write of Patient/id with
 * the posting key "gj", then what ends it.
 */
enum { JOIN_NEST, JOIN_COMMIT, JOIN_ABORT };

static const struct {
	const char	*id;
	int		 how;		/* nested, or joined and committed or
					   aborted after writing */
	int		 end;		/* end the group after it */
	int		 end_rc;	/* what store_group_end() returns */
	int		 kept;
} join_steps[] = {
	{ "gj1", JOIN_COMMIT, 0, 0, 1 },
	{ "gj2", JOIN_NEST, 0, 0, 1 },		/* nests after a joined one */
	{ "gj3", JOIN_COMMIT, 1, EMBER_OK, 1 },	/* joins after a nested one */
	{ "gj4", JOIN_NEST, 0, 0, 0 },		/* lost with the group: */
	{ "gj5", JOIN_ABORT, 1, EMBER_ESTORE, 0 },
	{ "gj6", JOIN_COMMIT, 1, EMBER_OK, 1 },	/* the next group is whole */
};

static void
test_group_join(void)
{
	struct store_opts	 so = { (size_t)2 << 30, 1, 0, 0 };
	struct store		*s;
	struct store_txn	*t, *open;
	struct store_write	 w;
	struct store_row	 row;
	struct buf		 keys = BUF_INIT, sorted = BUF_INIT;
	struct buf		 packed = BUF_INIT, work = BUF_INIT;
	struct buf		 seen = BUF_INIT;
	char			 dir[] = "/tmp/ember-test-store-XXXXXX";
	char			 err[256], cmd[300], want[128];
	size_t			 i, n;
	int			 rc, on = 0;

	/* A map without a GiB free: writes nest. */
	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary folder");
	so.so_map_size = (size_t)64 << 20;
	is_int(store_open(dir, &so, &s, err, sizeof(err)), EMBER_OK,
	    "open a store with a map of 64 MiB");
	store_group_begin(s);
	is_int(store_txn_join(s, &t), EMBER_EINVAL,
	    "no join with a map of 64 MiB");
	store_group_end(s);
	store_close(s);
	so.so_map_size = (size_t)2 << 30;
	is_int(store_open(dir, &so, &s, err, sizeof(err)), EMBER_OK,
	    "open it with a map of 2 GiB");

	is_int(store_txn_join(s, &t), EMBER_EINVAL, "no join out of a group");
	ok(t == NULL, "and no handle");
	store_group_begin(s);
	store_txn_begin(s, 1, &open);
	is_int(store_txn_join(s, &t), EMBER_EINVAL,
	    "no join while a nested write is open");
	store_txn_abort(open);
	store_group_end(s);
	buf_append(&keys, "\0\002gj", 4);
	is_int(store_keys_ready(s, keys.data, keys.len, &sorted, &packed,
	    &work), EMBER_OK, "keys made ready");

	for (i = 0; i < sizeof(join_steps) / sizeof(join_steps[0]); i++) {
		const char *id = join_steps[i].id;

		if (!on)
			store_group_begin(s);
		on = 1;
		rc = join_steps[i].how == JOIN_NEST ? store_txn_begin(s, 1,
		    &t) : store_txn_join(s, &t);
		is_int(rc, EMBER_OK, "%s %s", id, join_steps[i].how ==
		    JOIN_NEST ? "nests" : "joins");
		memset(&w, 0, sizeof(w));
		w.sw_type = "Patient";
		w.sw_type_len = 7;
		w.sw_id = id;
		w.sw_id_len = strlen(id);
		w.sw_version = 1;
		w.sw_method = STORE_POST;
		w.sw_json = "{}";
		w.sw_json_len = 2;
		rc = store_clock(t, &w.sw_last_updated);
		if (rc == EMBER_OK)
			rc = store_write(t, &w, &row);
		if (rc == EMBER_OK)
			rc = join_steps[i].how == JOIN_NEST ?
			    store_postings_replace(t, row.sr_rid, keys.data,
			    keys.len) : store_postings_replace_ready(t,
			    row.sr_rid, &sorted, &packed);
		is_int(rc, EMBER_OK, "%s written", id);
		if (join_steps[i].how == JOIN_ABORT)
			store_txn_abort(t);
		else
			is_int(store_txn_commit(t), EMBER_OK, "%s committed",
			    id);
		if (join_steps[i].end) {
			is_int(store_group_end(s), join_steps[i].end_rc,
			    "group end after %s", id);
			on = 0;
		}
	}
	for (i = 0; i < sizeof(join_steps) / sizeof(join_steps[0]); i++)
		is_int(group_sees(s, join_steps[i].id), join_steps[i].kept,
		    "after the joined groups: %s %s", join_steps[i].id,
		    join_steps[i].kept ? "kept" : "gone");
	/* The postings: exactly the rids of those kept, in rid order. */
	store_txn_begin(s, 0, &t);
	for (i = 0, n = 0; i < sizeof(join_steps) / sizeof(join_steps[0]);
	    i++)
		if (join_steps[i].kept && store_current(t, "Patient", 7,
		    join_steps[i].id, strlen(join_steps[i].id), &row) ==
		    EMBER_OK)
			n += (size_t)snprintf(want + n, sizeof(want) - n,
			    "gj=%llu;", (unsigned long long)row.sr_rid);
	store_postings_groups(t, "gj", 2, groups_collect, &seen);
	is_str(seen.data ? seen.data : "", want,
	    "a posting \"gj\" for each kept, none for those gone");
	store_txn_abort(t);
	buf_free(&keys);
	buf_free(&sorted);
	buf_free(&packed);
	buf_free(&work);
	buf_free(&seen);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", dir);
}

/*
 * Range scans over keys with thousands of rids, which LMDB keeps on
 * pages of their own: rid 7 has "pa", rids 1 to 2500 have "pb", rid 2500
 * also "pc".  Each scan sees every rid in range once, in key then rid
 * order, and a scan told to stop stops at that rid, inside a page.
 */
#define SCAN_RIDS	2500

static const struct {
	const char	*lo, *hi;	/* hi NULL: lo is a prefix */
	unsigned	 stop;		/* stop after this many; 0: never */
	const char	*want;		/* count, first, last */
} scan_pages[] = {
	{ "p", NULL, 0, "2502 pa=7 pc=2500" },
	{ "pb", "pc", 0, "2500 pb=1 pb=2500" },
	{ "pb", "pc", 1500, "1500 pb=1 pb=1500" },
	{ "pa", "pb", 0, "1 pa=7 pa=7" },
};

struct scan_seen {
	unsigned	n, stop, out_of_order;
	char		first[16], last[16];
};

static int
scan_count(void *arg, const unsigned char *key, size_t len, uint64_t rid)
{
	struct scan_seen	*ss = arg;
	char			 item[16];

	snprintf(item, sizeof(item), "%.*s=%llu", (int)len,
	    (const char *)key, (unsigned long long)rid);
	/* Same key length here: string order is key, then rid order
	 * for rids of one key when compared as numbers. */
	if (ss->n > 0 && (strncmp(item, ss->last, 2) < 0 ||
	    (strncmp(item, ss->last, 2) == 0 &&
	    strtoull(item + 3, NULL, 10) <= strtoull(ss->last + 3, NULL,
	    10))))
		ss->out_of_order++;
	if (ss->n++ == 0)
		snprintf(ss->first, sizeof(ss->first), "%s", item);
	snprintf(ss->last, sizeof(ss->last), "%s", item);
	return ss->stop != 0 && ss->n == ss->stop;
}

static void
test_scan_pages(void)
{
	struct store_opts	 so = { 64u << 20, 0, 0, 0 };
	struct store		*s;
	struct store_txn	*t;
	struct scan_seen	 ss;
	struct buf		 keys = BUF_INIT;
	char			 dir[] = "/tmp/ember-test-store-XXXXXX";
	char			 err[256], cmd[300], got[64];
	uint64_t		 rid;
	size_t			 i;
	int			 rc = EMBER_OK;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary folder");
	is_int(store_open(dir, &so, &s, err, sizeof(err)), EMBER_OK,
	    "open a store for scans");
	store_txn_begin(s, 1, &t);
	for (rid = 1; rc == EMBER_OK && rid <= SCAN_RIDS; rid++) {
		buf_reset(&keys);
		blob_add(&keys, "pb");
		if (rid == 7)
			blob_add(&keys, "pa");
		if (rid == SCAN_RIDS)
			blob_add(&keys, "pc");
		rc = store_postings_replace(t, rid, keys.data, keys.len);
	}
	is_int(rc, EMBER_OK, "%d rids under one key", SCAN_RIDS);
	is_int(store_txn_commit(t), EMBER_OK, "committed");
	for (i = 0; i < sizeof(scan_pages) / sizeof(scan_pages[0]); i++) {
		memset(&ss, 0, sizeof(ss));
		ss.stop = scan_pages[i].stop;
		store_txn_begin(s, 0, &t);
		rc = store_postings_scan(t, scan_pages[i].lo,
		    strlen(scan_pages[i].lo), scan_pages[i].hi,
		    scan_pages[i].hi ? strlen(scan_pages[i].hi) : 0,
		    scan_count, &ss);
		store_txn_abort(t);
		snprintf(got, sizeof(got), "%u %s %s", ss.n, ss.first,
		    ss.last);
		is_str(got, scan_pages[i].want, "scan [%s, %s), stop %u",
		    scan_pages[i].lo, scan_pages[i].hi ? scan_pages[i].hi :
		    "prefix", scan_pages[i].stop);
		is_int(rc, ss.stop ? 1 : EMBER_OK, "scan %zu: what it returns",
		    i);
		is_int((int)ss.out_of_order, 0, "scan %zu: in order", i);
	}
	buf_free(&keys);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", dir);
}

/*
 * The write token (store_token_open()).  s takes tk1 before each write
 * transaction; tk2, the same file opened again, stands for another
 * process.  Each row does one step, then asks whether that process
 * could take the token now (it gives it straight back).
 */
enum { TK_NONE, TK_BEGIN, TK_COMMIT, TK_ABORT, TK_TRY, TK_DROP, TK_READ };

static const struct {
	const char	*what;
	int		 step;
	int		 other;		/* store_token_try(tk2) after it */
} token_steps[] = {
	{ "nothing yet", TK_NONE, 1 },
	{ "a write begun", TK_BEGIN, 0 },
	{ "it committed", TK_COMMIT, 1 },
	{ "a write begun again", TK_BEGIN, 0 },
	{ "it aborted", TK_ABORT, 1 },
	{ "taken without waiting", TK_TRY, 0 },
	{ "a write begun with it", TK_BEGIN, 0 },
	{ "that write committed", TK_COMMIT, 1 },
	{ "taken without waiting, again", TK_TRY, 0 },
	{ "given back unused", TK_DROP, 1 },
	{ "a read", TK_READ, 1 },
};

static void
test_token(struct store *s, const char *dir)
{
	struct store_token	*tk1, *tk2;
	struct store_txn	*t = NULL, *r;
	char			 path[300];
	size_t			 i;
	int			 got;

	snprintf(path, sizeof(path), "%s/write.lock", dir);
	is_int(store_token_open(path, &tk1), EMBER_OK, "token opened");
	is_int(store_token_open(path, &tk2), EMBER_OK, "token opened again");
	store_token_use(s, tk1);
	for (i = 0; i < sizeof(token_steps) / sizeof(token_steps[0]); i++) {
		switch (token_steps[i].step) {
		case TK_BEGIN:
			store_txn_begin(s, 1, &t);
			break;
		case TK_COMMIT:
			store_txn_commit(t);
			break;
		case TK_ABORT:
			store_txn_abort(t);
			break;
		case TK_TRY:
			ok(store_token_try(tk1) == 1, "%s: ours",
			    token_steps[i].what);
			break;
		case TK_DROP:
			store_token_drop(tk1);
			break;
		case TK_READ:
			store_txn_begin(s, 0, &r);
			break;
		}
		got = store_token_try(tk2);
		if (got)
			store_token_drop(tk2);
		is_int(got, token_steps[i].other, "token: %s: %s",
		    token_steps[i].what, token_steps[i].other ? "free" :
		    "held");
		if (token_steps[i].step == TK_READ)
			store_txn_abort(r);
	}
	is_int(store_token_try(NULL), 1, "no token: always ours");
	store_token_use(s, NULL);
	store_token_close(tk1);
	store_token_close(tk2);
}

/*
 * Postings in bulk mode.  A nested commit leaves its pending postings to
 * the bulk transaction when the map has room (store_pending_defer(): a
 * map of 2 GiB) and puts them itself otherwise (64 MiB); either way a
 * nested abort drops them, the next nested transaction finds them to
 * scan and replace, and the bulk commit keeps them.  After each step a
 * nested read scans every "k" key; p<N> stands for the rid of Patient/pN.
 */
static const struct {
	const char	*id;		/* Patient written in a nested txn */
	const char	*keys;		/* its postings now, space-separated */
	int		 commit;	/* commit it, or abort */
	const char	*scan;		/* then seen by a nested read */
} bulk_postings[] = {
	{ "p1", "ka kb", 1, "ka=p1;kb=p1;" },
	{ "p2", "kb kc", 0, "ka=p1;kb=p1;" },
	{ "p2", "kc", 1, "ka=p1;kb=p1;kc=p2;" },
	{ "p1", "kb kd", 1, "kb=p1;kc=p2;kd=p1;" },	/* ka replaced */
	{ "p3", "ka kd", 0, "kb=p1;kc=p2;kd=p1;" },
	{ "p2", "", 1, "kb=p1;kd=p1;" },		/* all of p2's gone */
	{ "p3", "kd", 1, "kb=p1;kd=p1;kd=p3;" },
};

/* in with each "p<N>" replaced by rid[N], sorted (scan_sorted()), into out. */
static void
bulk_want(const char *in, const uint64_t *rid, char *out, size_t outsz)
{
	char	tmp[256];
	size_t	n = 0;

	for (; *in != '\0' && n + 24 < sizeof(tmp); in++) {
		if (in[0] == 'p' && in[1] >= '1' && in[1] <= '3') {
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%llu",
			    (unsigned long long)rid[in[1] - '0']);
			in++;
		} else
			tmp[n++] = *in;
	}
	tmp[n] = '\0';
	scan_sorted(tmp, n, out, outsz);
}

/* The scan of "k" keys in t, sorted, into out. */
static void
bulk_scan(struct store_txn *t, char *out, size_t outsz)
{
	struct buf seen = BUF_INIT;

	store_postings_scan(t, "k", 1, NULL, 0, scan_collect, &seen);
	scan_sorted(seen.data, seen.len, out, outsz);
	buf_free(&seen);
}

static void
test_bulk_postings(size_t map)
{
	struct store_opts	 so = { map, 0, 0, 0 };
	struct store		*s;
	struct store_txn	*t;
	struct store_write	 w;
	struct store_row	 row, cur;
	struct buf		 keys = BUF_INIT;
	char			 dir[] = "/tmp/ember-test-store-XXXXXX";
	char			 err[256], cmd[300], got[256], want[256], key[8];
	const char		*p;
	uint64_t		 rid[4] = { 0 }, problems = 0;
	size_t			 i, n;

	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary folder");
	is_int(store_open(dir, &so, &s, err, sizeof(err)), EMBER_OK,
	    "open a store with a map of %zu MiB", map >> 20);
	is_int(store_bulk_begin(s), EMBER_OK, "bulk begin");
	for (i = 0; i < sizeof(bulk_postings) / sizeof(bulk_postings[0]);
	    i++) {
		store_txn_begin(s, 1, &t);
		memset(&w, 0, sizeof(w));
		w.sw_type = "Patient";
		w.sw_type_len = 7;
		w.sw_id = bulk_postings[i].id;
		w.sw_id_len = strlen(w.sw_id);
		w.sw_version = store_current(t, "Patient", 7, w.sw_id,
		    w.sw_id_len, &cur) == EMBER_OK ? cur.sr_version + 1 : 1;
		w.sw_method = STORE_PUT;
		w.sw_json = "{}";
		w.sw_json_len = 2;
		store_clock(t, &w.sw_last_updated);
		is_int(store_write(t, &w, &row), EMBER_OK, "step %zu: write %s",
		    i, w.sw_id);
		buf_reset(&keys);
		for (p = bulk_postings[i].keys; *p != '\0'; p += n) {
			n = strcspn(p, " ");
			snprintf(key, sizeof(key), "%.*s", (int)n, p);
			blob_add(&keys, key);
			n += p[n] == ' ';
		}
		is_int(store_postings_replace(t, row.sr_rid, keys.data,
		    keys.len), EMBER_OK, "step %zu: postings of %s", i, w.sw_id);
		if (bulk_postings[i].commit) {
			rid[w.sw_id[1] - '0'] = row.sr_rid;
			is_int(store_txn_commit(t), EMBER_OK,
			    "step %zu: nested commit", i);
		} else
			store_txn_abort(t);
		store_txn_begin(s, 0, &t);
		bulk_scan(t, got, sizeof(got));
		store_txn_abort(t);
		bulk_want(bulk_postings[i].scan, rid, want, sizeof(want));
		is_str(got, want, "map %zu MiB, step %zu: a nested read sees %s",
		    map >> 20, i, bulk_postings[i].scan);
	}
	is_int(store_bulk_commit(s), EMBER_OK, "bulk commit");
	store_txn_begin(s, 0, &t);
	bulk_scan(t, got, sizeof(got));
	is_str(got, want, "map %zu MiB: the bulk commit kept them", map >> 20);
	is_int(store_check(t, count_problem, NULL, &problems), EMBER_OK,
	    "check");
	is_int((int)problems, 0, "map %zu MiB: a consistent store", map >> 20);
	store_txn_abort(t);
	buf_free(&keys);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

int
main(void)
{
	struct store_opts	 so = { 64u << 20, 1, 0, 0 };
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

	test_latest(s);
	test_bodies(s);
	test_postings(s, 0);
	test_bulk(s);
	test_group(s);
	test_token(s, dir);

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

	/* The postings again with a recent tree: small (merged into the
	 * main tree on most writes) and large (never merged). */
	for (i = 0; i < 2; i++) {
		so.so_recent = i == 0 ? 2 : 1000;
		snprintf(dir, sizeof(dir), "/tmp/ember-test-store-XXXXXX");
		if (mkdtemp(dir) == NULL)
			tap_skip_all("cannot make a temporary folder");
		is_int(store_open(dir, &so, &s, err, sizeof(err)), EMBER_OK,
		    "open a store with a recent tree of %zu", so.so_recent);
		test_postings(s, so.so_recent);
		store_close(s);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
	}
	test_bulk_postings((size_t)64 << 20);
	test_bulk_postings((size_t)2 << 30);
	test_group_join();
	test_scan_pages();
	tap_done();
	return tap_exit();
}
