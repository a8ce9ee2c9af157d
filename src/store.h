/*
 * store.h: Ember's storage, one LMDB environment per FHIR version
 * (prefix store_).  Only store.c includes lmdb.h.
 *
 * What is kept (sub-databases of the environment):
 *   ids       "Type/id"             -> rid (dense numeric id, u64)
 *   rows      rid                   -> current row: version, flags,
 *                                      lastUpdated, "Type/id"
 *   versions  rid, versionId        -> lastUpdated, flags, minified JSON
 *                                      (compressed when that is shorter)
 *   history   lastUpdated, rid      -> versionId   (system history)
 *   typehist  Type, lastUpdated, rid -> versionId  (type history)
 *   postings  index key (search issue) -> the rids having it, sorted
 *             duplicates of 4 bytes (so at most 2^32 - 1 rids)
 *   recent    the same as postings, for the postings of the last
 *             writes, until it holds so_recent: then they all go into
 *             postings (a durable write changes a few pages of this
 *             small tree instead of a few dozen leaves of the big one)
 *   owned     rid -> its posting keys, sorted, compressed
 *   meta      "format", "clock", "next_rid"
 * Keys are big-endian so LMDB's byte order is time and id order.
 *
 * Every interaction is one transaction.  Values returned from a
 * transaction (type and id strings) are borrowed from the memory map:
 * they stay valid until that transaction ends, and must not be written
 * through.  JSON and owned keys are decoded into memory of the
 * transaction handle: valid until the next call of the same function on
 * that handle, or until the handle ends.
 */
#ifndef EMBER_STORE_H
#define EMBER_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_txn;

struct store_opts {
	size_t	so_map_size;	/* bytes; rounded by LMDB to pages */
	int	so_durable;	/* fsync every commit (else metadata async) */
	int	so_readonly;	/* open without write access (emberctl check) */
	size_t	so_recent;	/* postings the recent tree holds at most
				   (store_postings_replace()); 0: none */
};

/* The current state of one logical resource. */
struct store_row {
	uint64_t	 sr_rid;		/* dense numeric id */
	uint32_t	 sr_version;		/* current versionId */
	int		 sr_deleted;		/* current version is a delete */
	uint64_t	 sr_last_updated;	/* microseconds since the epoch */
	const char	*sr_key;		/* "Type/id", borrowed */
	size_t		 sr_key_len;
};

/* One stored version. */
struct store_version {
	uint32_t	 sv_version;
	int		 sv_deleted;
	int		 sv_method;		/* enum store_method */
	uint64_t	 sv_last_updated;
	const char	*sv_json;		/* minified JSON, see */
	size_t		 sv_json_len;		/* store_version(); empty
						   for a delete */
};

enum store_method {
	STORE_POST = 0,
	STORE_PUT,
	STORE_DELETE,
	STORE_PATCH
};

/* One version to write: see store_write(). */
struct store_write {
	const char	*sw_type;
	size_t		 sw_type_len;
	const char	*sw_id;
	size_t		 sw_id_len;
	uint32_t	 sw_version;		/* must be current + 1 (1 if new) */
	uint64_t	 sw_last_updated;	/* from store_clock() */
	int		 sw_method;		/* enum store_method */
	const char	*sw_json;		/* NULL/0 for a delete */
	size_t		 sw_json_len;
	const struct buf *sw_packed;		/* sw_json as store_pack() left
						   it, or NULL: store_write()
						   packs it */
};

/*
 * Open (creating if needed) the store in folder dir, making the folder
 * too.  Returns EMBER_OK with a new handle in *out; EMBER_EIO when the
 * folder cannot be made; EMBER_ESTORE for LMDB failures (message in err);
 * EMBER_ETABLES... never.  Stale reader slots left by killed processes
 * are cleared.  Free with store_close().
 */
int store_open(const char *dir, const struct store_opts *opts,
    struct store **out, char *err, size_t errsz);

/* Close the environment.  All transactions must have ended.  NULL ok. */
void store_close(struct store *s);

/*
 * Begin a read (write = 0) or write (write = 1) transaction.  A write
 * transaction waits for any other writer, in any process.
 * Returns EMBER_OK, EMBER_ESTORE, EMBER_ENOMEM.
 */
int store_txn_begin(struct store *s, int write, struct store_txn **out);

/*
 * A handle on write transaction parent for code that begins and ends its
 * own transactions (a FHIR transaction Bundle runs each entry through
 * the ordinary handlers this way): it reads and writes in parent, and
 * its commit and abort only free the handle.  Whether the writes last is
 * the parent's commit or abort.  Returns EMBER_OK or EMBER_ENOMEM.
 */
int store_txn_borrow(struct store_txn *parent, struct store_txn **out);

/*
 * Write the pending postings, commit and free the transaction (a
 * borrowed handle is only freed).  Returns EMBER_OK; EMBER_EFULL when
 * the map is full; EMBER_ENOMEM; EMBER_ESTORE otherwise (the transaction
 * is aborted and freed on failure too).
 */
int store_txn_commit(struct store_txn *t);

/* Abort and free the transaction.  NULL is a no-op. */
void store_txn_abort(struct store_txn *t);

/*
 * Bulk mode, for loading: store_bulk_begin() opens one write transaction
 * on s, and every transaction begun on s afterwards, by this process,
 * read or write, nests in the innermost one open (LMDB's nested
 * transactions; a handle must end before the one it nests in is used
 * again).  A nested commit makes its writes part of the bulk transaction,
 * a nested abort drops them; nothing reaches the disk or other processes
 * until store_bulk_commit(), which commits durably.  A page that many
 * commits would each copy and write (the leaves of the postings, shared
 * by most resources) is then written once, and the file holds no copies
 * freed by the last of those commits.  A nested commit may leave its
 * postings for the bulk transaction to put; as a put that then fails
 * (the map full) fails the whole bulk transaction, that is done only
 * while the map has a GiB free.  The write lock is held from begin to
 * commit.  EMBER_OK, EMBER_EINTERNAL (already in bulk mode, or a nested
 * transaction still open), and store_txn_commit()'s errors.
 */
int store_bulk_begin(struct store *s);
int store_bulk_commit(struct store *s);

/* Drop everything written since store_bulk_begin().  No-op if not bulk. */
void store_bulk_abort(struct store *s);

/*
 * Put the postings nested commits left to the bulk transaction now,
 * rather than when the next transaction begins: for a caller with other
 * work for another thread meanwhile.  EMBER_OK (also when not in bulk
 * mode, or with nothing left); EMBER_EINTERNAL while a nested
 * transaction is open; store errors.
 */
int store_bulk_flush(struct store *s);

/*
 * Group commit, for a worker that has several requests in hand (the
 * FastCGI worker takes every request already waiting): between
 * store_group_begin() and store_group_end(), each write transaction begun
 * on s by this process nests in one group transaction, opened (taking
 * the write lock) by the first of them; its commit makes its writes part
 * of the group, its abort drops them, so each request stays all or
 * nothing.  A read transaction stays on its own and sees only what is
 * committed.  store_group_end() commits the group durably (when it
 * wrote anything) and ends group mode; no answer that depends on the
 * group's writes may leave before it succeeds.  Every transaction begun
 * in the group must have ended by then.  store_group_writes() counts the
 * write transactions ever begun in group mode on s, so a caller sees
 * which requests wrote in the group.  store_group_begin() returns
 * EMBER_EINTERNAL in bulk mode, in group mode already, or with a
 * transaction open; store_group_end() returns store_txn_commit()'s
 * errors, or EMBER_EINTERNAL when a write of the group is still open:
 * that write and the group are then aborted (its handle freed).
 */
int store_group_begin(struct store *s);
uint64_t store_group_writes(const struct store *s);
int store_group_end(struct store *s);

/*
 * The write token: a lock file (flock(2)) that a process writing the
 * stores of one data folder takes before LMDB's write lock, and gives
 * back as its last write transaction commits or aborts (before the
 * metadata sync).  LMDB's lock cannot be tried without waiting; the
 * token can, so a worker that finds another one writing can take and
 * prepare more requests meanwhile (store_token_try()).  A writer
 * without it is still serialized by LMDB's lock.
 *
 * store_token_open() opens (creating) the file at path: EMBER_OK,
 * EMBER_EIO, EMBER_ENOMEM.  store_token_use() makes s take tk before
 * each write transaction on its own (a nested one holds it through its
 * parent), waiting for it.  store_token_try() takes it without waiting:
 * 1 when this process has it (or tk is NULL, or cannot be locked), 0
 * when another process does; a token so taken is used by the next write
 * transaction, or given back by store_token_drop() when none came.
 */
struct store_token;
int store_token_open(const char *path, struct store_token **out);
void store_token_close(struct store_token *tk);
void store_token_use(struct store *s, struct store_token *tk);
int store_token_try(struct store_token *tk);
void store_token_drop(struct store_token *tk);

/*
 * In group mode, a write that works in the group's own transaction
 * instead of one nested in it: no transaction of its own to begin and
 * merge back, and its postings are put with those of the writes after
 * it, a key once for all of them.  It cannot be undone alone: aborting
 * the handle fails the whole group (store_group_end() then aborts it
 * and returns EMBER_ESTORE), so it is for a write that has checked
 * everything it can before it writes.  Committing the handle only
 * frees it.  Returns EMBER_OK with the handle in *out; EMBER_EINVAL,
 * and *out NULL, when the write must nest instead (not in group mode, a
 * write of the group open, or the map without a GiB free: a put that
 * meets a full map fails the group);
 * store_txn_begin()'s errors.
 */
int store_txn_join(struct store *s, struct store_txn **out);

/*
 * Look up the current row of Type/id.  EMBER_OK with *out filled (the key
 * borrowed from the map), EMBER_ENOTFOUND when the resource never
 * existed, EMBER_ESTORE.
 */
int store_current(struct store_txn *t, const char *type, size_t type_len,
    const char *id, size_t id_len, struct store_row *out);

/*
 * Look up the current row of Type/id from its newest stored version,
 * which agrees with the row (store_check()): one B-tree lookup fewer
 * than store_current(), and a store_version() of that version next on t
 * takes none.  As store_current(), but sr_key is NULL (length 0).
 */
int store_latest(struct store_txn *t, const char *type, size_t type_len,
    const char *id, size_t id_len, struct store_row *out);

/* Look up the current row by rid.  As store_current(). */
int store_row(struct store_txn *t, uint64_t rid, struct store_row *out);

/*
 * Fetch version vid of resource rid.  EMBER_OK (the JSON belongs to t
 * until the next store_version() on t or t's end), EMBER_ENOTFOUND,
 * EMBER_ESTORE (also for a version that does not decompress),
 * EMBER_ENOMEM.
 */
int store_version(struct store_txn *t, uint64_t rid, uint32_t vid,
    struct store_version *out);

/*
 * Return a lastUpdated for a write in this transaction: the current time
 * in microseconds, or one microsecond past the last one handed out if
 * the clock has not moved on, so lastUpdated strictly increases within a
 * store.  Write transactions only.  EMBER_OK or EMBER_ESTORE.
 */
int store_clock(struct store_txn *t, uint64_t *out);

/*
 * store_clock() for n writes at once: *out is the first of n values,
 * *out, *out + 1, ..., each past every one handed out before; the next
 * store_clock() is past the last.  EMBER_OK or EMBER_ESTORE.
 */
int store_clock_reserve(struct store_txn *t, unsigned n, uint64_t *out);

/*
 * Hand out when, read from the clock before t began, as store_clock()
 * would have: EMBER_OK if it is past every value handed out before,
 * else EMBER_ECONFLICT and nothing changes.  Or EMBER_ESTORE.
 */
int store_clock_claim(struct store_txn *t, uint64_t when);

/*
 * Compress n bytes of src as the store keeps a version's JSON, into out
 * (emptied first; work is scratch).  out is left empty when they are
 * kept as they are: short, or not made shorter.  It needs no
 * transaction and only reads s's dictionary, so threads may pack at
 * once, each with its own bufs.  EMBER_OK or EMBER_ENOMEM.
 */
int store_pack(const struct store *s, const void *src, size_t n,
    struct buf *work, struct buf *out);

/*
 * Write one version: allocates a rid for a new resource, stores the
 * version, moves the current row and adds the history rows.  The caller
 * has checked the version number against store_current().  Returns
 * EMBER_OK with the new row in *out (may be NULL); EMBER_ECONFLICT when
 * sw_version is not current + 1; EMBER_EFULL (also when 2^32 - 1 rids
 * are used up); EMBER_ESTORE.
 */
int store_write(struct store_txn *t, const struct store_write *w,
    struct store_row *out);

/*
 * Index postings.  A posting key is opaque bytes chosen by the indexer
 * (index.c); under each key the store keeps the rids having it, so a
 * range of keys lists the resources having values in that range.
 * owned[rid] keeps the keys a resource has, so an update or delete
 * removes exactly those.
 */
#define STORE_POSTING_MAX	480	/* longest posting key, bytes */

/*
 * Replace the postings of rid with keys: a blob of records, each a
 * 2-byte big-endian length and that many key bytes (keys longer than
 * STORE_POSTING_MAX are skipped; a key given twice is kept once).  len 0
 * removes them all.  Only the keys that differ from rid's present ones
 * change: those it loses are removed at once, those it gains are put in
 * key order when the transaction commits, or earlier when the
 * transaction reads postings, so a full map may be reported by
 * store_txn_commit(): into the recent tree while it has room for them,
 * else with all it held into the main one (never the recent tree in bulk
 * mode).  Write transactions only.  EMBER_OK, EMBER_EFULL, EMBER_ESTORE,
 * EMBER_ENOMEM.
 */
int store_postings_replace(struct store_txn *t, uint64_t rid,
    const void *keys, size_t len);

/*
 * The work of store_postings_replace() that needs no transaction, done
 * beforehand (outside the write lock, or on another thread): keys (the
 * same blob) sorted, each once, over-long ones left out, into sorted,
 * and that packed as owned lists are stored (store_pack(), with s's
 * dictionary) into packed; work is the compressor's window.  EMBER_OK,
 * EMBER_EINVAL for a malformed blob, EMBER_ENOMEM.
 */
int store_keys_ready(const struct store *s, const void *keys, size_t len,
    struct buf *sorted, struct buf *packed, struct buf *work);

/*
 * store_postings_replace() with keys as store_keys_ready() left them:
 * sorted and packed, by the same store.
 */
int store_postings_replace_ready(struct store_txn *t, uint64_t rid,
    const struct buf *sorted, const struct buf *packed);

/*
 * The posting keys rid owns, in the blob form store_postings_replace()
 * takes, sorted, each once (they belong to t until the next
 * store_postings_owned() on t or t's end).  EMBER_OK, EMBER_ENOTFOUND,
 * EMBER_ESTORE or EMBER_ENOMEM.
 */
int store_postings_owned(struct store_txn *t, uint64_t rid,
    const void **keys, size_t *len);

/*
 * Call fn for every posting whose key is >= lo and < hi (byte order;
 * hi NULL: every key starting with lo), with the key (rid removed,
 * borrowed) and the rid: in key order in the main tree, then in key order
 * in the recent one (a posting is in one or the other, never both).  fn
 * returning non-zero stops the scan and is returned.  EMBER_OK or
 * EMBER_ESTORE otherwise.
 */
int store_postings_scan(struct store_txn *t, const void *lo, size_t lolen,
    const void *hi, size_t hilen,
    int (*fn)(void *, const unsigned char *, size_t, uint64_t), void *arg);

/*
 * Where key (n bytes) stands against store_postings_scan()'s range lo,
 * hi: -1 before it, 0 in it, 1 past it.  For scans of keys held
 * elsewhere (search.c's keys of one resource in memory).
 */
int store_postings_in_range(const void *key, size_t n, const void *lo,
    size_t lolen, const void *hi, size_t hilen);

/*
 * Call fn for each posting key starting with prefix, in key order, with
 * the key and its rids: n 4-byte big-endian rids in ascending order, a
 * page at a time (a key with many rids is passed in several calls); the
 * main tree's keys, then the recent tree's (where a key may come again).
 * Everything is borrowed from the map.  fn returning non-zero stops
 * the scan and is returned (a negative value: EMBER_OK, stop early).
 * EMBER_OK or EMBER_ESTORE otherwise.
 */
int store_postings_groups(struct store_txn *t, const void *prefix,
    size_t plen, int (*fn)(void *, const unsigned char *, size_t,
    const unsigned char *, size_t), void *arg);

/* A position in a history listing, newest first. */
struct store_history_item {
	uint64_t	shi_rid;
	uint32_t	shi_version;
	uint64_t	shi_last_updated;
};

/*
 * List history, newest first: of one resource (rid != 0), of one type
 * (type != NULL), or of the whole store.  Only versions with
 * lastUpdated < before (0: no bound) and >= since (0: no bound) are
 * listed; at most max items go into items, and *n is set to the number
 * written.  *more is set when further items remain.
 * Returns EMBER_OK or EMBER_ESTORE.
 */
int store_history(struct store_txn *t, uint64_t rid, const char *type,
    size_t type_len, uint64_t since, uint64_t before,
    struct store_history_item *items, size_t max, size_t *n, int *more);

/*
 * Count current resources, (not deleted) of a type, or of all types when
 * type is NULL.  EMBER_OK or EMBER_ESTORE.
 */
int store_count(struct store_txn *t, const char *type, size_t type_len,
    uint64_t *out);

/*
 * Walk every current, non-deleted resource of a type (type != NULL; in
 * id order) or of the whole store (type NULL; in rid order), calling fn
 * with its row (borrowed for the call).  fn returning non-zero stops the
 * walk and is returned.  EMBER_OK or EMBER_ESTORE otherwise.
 */
int store_each(struct store_txn *t, const char *type, size_t type_len,
    int (*fn)(void *, const struct store_row *), void *arg);

/* Statistics for emberctl stats: entries per sub-database, map use. */
struct store_stats {
	uint64_t	ss_resources;	/* logical resources */
	uint64_t	ss_versions;	/* stored versions */
	uint64_t	ss_history;	/* history rows */
	uint64_t	ss_postings;	/* postings in the main tree */
	uint64_t	ss_recent;	/* postings in the recent tree */
	uint64_t	ss_pages;	/* pages in use */
	uint64_t	ss_page_size;
	uint64_t	ss_map_size;
};
int store_stats(struct store_txn *t, struct store_stats *out);

/*
 * Write a compact, consistent copy of the environment to folder dst
 * (which must exist and be empty), while others may read and write.
 * Returns EMBER_OK or EMBER_ESTORE.
 */
int store_backup(struct store *s, const char *dst);

/*
 * Check that ids, rows, versions, history and postings agree: every id
 * has a row, every row's versions 1..n exist and the current one
 * matches, every version has its history rows, every posting a current
 * resource owns exists and none is unowned.  Each problem found is
 * passed to report as one English line; *problems counts them.
 * EMBER_OK unless the store could not be read.
 */
int store_check(struct store_txn *t, void (*report)(void *, const char *),
    void *arg, uint64_t *problems);

#endif /* EMBER_STORE_H */
