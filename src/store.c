/*
 * store.c: the LMDB storage engine; see store.h for the layout.
 *
 * This is the only file that includes lmdb.h.  LMDB errors become
 * EMBER_ESTORE (or EMBER_EFULL for a full map) here.  Every multi-byte
 * integer in a key or value is big-endian; values are decoded with
 * memcpy since LMDB gives no alignment guarantee.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "be.h"
#include "buf.h"
#include "date.h"
#include "error.h"
#include "lz.h"
#include "store.h"

#define STORE_FORMAT	4		/* on-disk layout version: 2 has
					   hashed parameter prefixes, 3
					   postings as key -> sorted 4-byte
					   rids, compressed versions and
					   owned lists, 4 the recent tree */
#define STORE_KEY_MAX	200		/* "Type/id": type <= 64, id <= 64 */
#define STORE_RID_MAX	UINT32_MAX	/* postings hold rids in 4 bytes */
#define STORE_DEFER_ROOM ((size_t)1 << 30) /* store_pending_defer() */

#define ROW_HDR		16		/* version 4, flags 4, lastUpdated 8 */
#define VER_HDR		12		/* lastUpdated 8, flags 4 */
#define FLAG_DELETED	0x1u
#define FLAG_LZ		0x2u		/* JSON compressed: length(4), stream */
#define LZ_WORTH	64		/* shorter JSON is stored as it is */
#define FLAG_METHOD(f)	(((f) >> 8) & 0xffu)

enum store_dbi {
	DB_IDS, DB_ROWS, DB_VERSIONS, DB_HISTORY, DB_TYPEHIST,
	DB_POSTINGS, DB_OWNED, DB_META, DB_RECENT, DB__COUNT
};

static const char *const store_db_names[DB__COUNT] = {
	"ids", "rows", "versions", "history", "typehist",
	"postings", "owned", "meta", "recent"
};


/* See store_token_open(). */
struct store_token {
	int		 tk_fd;
	unsigned	 tk_count;	/* write transactions of ours open */
	int		 tk_reserved;	/* taken by store_token_try() */
};

struct store {
	MDB_env		*s_env;
	struct store_token *s_token;	/* store_token_use() */
	MDB_dbi		 s_dbi[DB__COUNT];
	int		 s_readonly;
	int		 s_durable;	/* sync the metadata after a commit */
	size_t		 s_recent;	/* postings "recent" may hold */
	struct lz_prep	*s_lz;		/* the dictionary, hashed */
	struct store_txn *s_spare;	/* an ended read handle, reset */
	struct store_txn *s_bulk;	/* store_bulk_begin()'s transaction */
	struct store_txn *s_top;	/* innermost open one under it */
	int		 s_defer;	/* see store_pending_defer() */
	int		 s_group;	/* store_group_begin() until _end() */
	struct store_txn *s_gtxn;	/* the group's transaction, once begun */
	int		 s_gfail;	/* a joined write failed: see
					   store_txn_join() */
	uint64_t	 s_gwrites;	/* writes begun in groups, ever */
};

/*
 * What the handles of one transaction share.  Postings written by a
 * write transaction wait in pd_recs, and go into the tree in key order
 * when the transaction commits (or before anything reads or deletes
 * postings in it): sorted puts touch each leaf page once per batch
 * instead of once per key.  The scratch buffers serve one call at a
 * time and are kept for the next: a Bundle entry's handle is new, its
 * transaction is not.
 */
struct store_pending {
	struct buf	 pd_recs;	/* records: rid(8) len(2) key */
	size_t		 pd_n;		/* records in pd_recs */
	struct buf	 pd_scratch;	/* encoding an owned list */
	struct buf	 pd_work;	/* the compressor's window */
	struct buf	 pd_lz;		/* compressed or decompressed bytes */
	struct buf	 pd_rids;	/* one key's rids, for one put */
};

struct store_txn {
	struct store	*t_store;
	MDB_txn		*t_txn;
	int		 t_write;
	int		 t_borrowed;	/* store_txn_borrow(): not ours to end */
	int		 t_joined;	/* store_txn_join(): aborting it fails
					   the group */
	int		 t_token;	/* holds a count of s_token */
	struct store_txn *t_up;		/* bulk mode: what this one nests in */
	struct store_pending *t_pend;	/* write: shared with borrowers */
	struct buf	 t_owned;	/* store_postings_owned()'s answer */
	struct buf	 t_json;	/* store_version()'s answer */
	MDB_cursor	*t_vcur;	/* read-only: store_latest()'s cursor */
	uint64_t	 t_vrid;	/* on this version of rid, if not 0 */
	uint32_t	 t_vvid;
};

static int
store_lmdb_err(int rc)
{
	switch (rc) {
	case 0:
		return EMBER_OK;
	case MDB_NOTFOUND:
		return EMBER_ENOTFOUND;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return EMBER_EFULL;
	case ENOMEM:
		return EMBER_ENOMEM;
	default:
		return EMBER_ESTORE;
	}
}

/* mkdir -p for the store folder. */
static int
store_mkdirs(const char *dir)
{
	char	 path[1024];
	size_t	 n = strlen(dir), i;

	if (n == 0 || n >= sizeof(path))
		return EMBER_EIO;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return EMBER_EIO;
		if (i < n)
			path[i] = '/';
	}
	return EMBER_OK;
}

int
store_open(const char *dir, const struct store_opts *opts,
    struct store **out, char *err, size_t errsz)
{
	struct store	*s;
	MDB_txn		*txn = NULL;
	MDB_val		 k, v;
	unsigned	 flags = MDB_NOTLS;
	unsigned char	 fmt[4];
	int		 rc, dead, i;

	if (!opts->so_readonly && store_mkdirs(dir)) {
		if (err && errsz)
			snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		return EMBER_EIO;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return EMBER_ENOMEM;
	if ((s->s_lz = lz_prepare()) == NULL) {
		free(s);
		return EMBER_ENOMEM;
	}
	s->s_readonly = opts->so_readonly;
	s->s_durable = opts->so_durable;
	s->s_recent = opts->so_recent;
	/*
	 * LMDB syncs the data pages inside the commit; the metadata page
	 * that makes them current is synced by store_txn_commit() after
	 * the write lock is released, so that the next writer's work
	 * overlaps it.  Relaxed durability leaves it to the system.
	 */
	flags |= MDB_NOMETASYNC;
	if (opts->so_readonly)
		flags |= MDB_RDONLY;
	if ((rc = mdb_env_create(&s->s_env)) ||
	    (rc = mdb_env_set_maxdbs(s->s_env, DB__COUNT)) ||
	    (rc = mdb_env_set_maxreaders(s->s_env, 510)) ||
	    (rc = mdb_env_set_mapsize(s->s_env, opts->so_map_size)) ||
	    (rc = mdb_env_open(s->s_env, dir, flags, 0640)))
		goto fail;
	/* Reader slots of killed workers would pin old pages forever. */
	mdb_reader_check(s->s_env, &dead);

	if ((rc = mdb_txn_begin(s->s_env, NULL,
	    opts->so_readonly ? MDB_RDONLY : 0, &txn)))
		goto fail;
	/* The format first: a store of another format may lack a tree,
	 * and is refused for its format. */
	if ((rc = mdb_dbi_open(txn, store_db_names[DB_META],
	    opts->so_readonly ? 0 : MDB_CREATE, &s->s_dbi[DB_META])))
		goto fail;
	k.mv_data = (void *)(uintptr_t)"format";
	k.mv_size = 6;
	rc = mdb_get(txn, s->s_dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND && !opts->so_readonly) {
		be32_put(fmt, STORE_FORMAT);
		v.mv_data = fmt;
		v.mv_size = 4;
		if ((rc = mdb_put(txn, s->s_dbi[DB_META], &k, &v, 0)))
			goto fail;
	} else if (rc) {
		goto fail;
	} else if (v.mv_size != 4 || be32_get(v.mv_data) != STORE_FORMAT) {
		if (err && errsz)
			snprintf(err, errsz, "%s: store format %u, expected %u",
			    dir, v.mv_size == 4 ? be32_get(v.mv_data) : 0,
			    STORE_FORMAT);
		mdb_txn_abort(txn);
		mdb_env_close(s->s_env);
		free(s->s_lz);
		free(s);
		return EMBER_ESTORE;
	}
	for (i = 0; i < DB__COUNT; i++)
		if (i != DB_META && (rc = mdb_dbi_open(txn, store_db_names[i],
		    (opts->so_readonly ? 0 : MDB_CREATE) | (i == DB_POSTINGS ||
		    i == DB_RECENT ? MDB_DUPSORT | MDB_DUPFIXED : 0),
		    &s->s_dbi[i])))
			goto fail;
	if ((rc = mdb_txn_commit(txn))) {
		txn = NULL;
		goto fail;
	}
	*out = s;
	return EMBER_OK;
fail:
	if (err && errsz)
		snprintf(err, errsz, "%s: %s", dir, mdb_strerror(rc));
	if (txn)
		mdb_txn_abort(txn);
	if (s->s_env)
		mdb_env_close(s->s_env);
	free(s->s_lz);
	free(s);
	return rc == ENOENT || rc == EACCES ? EMBER_EIO : store_lmdb_err(rc);
}

static void store_txn_free(struct store_txn *t);

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_bulk_abort(s);
	if (s->s_spare != NULL) {
		mdb_txn_abort(s->s_spare->t_txn);
		store_txn_free(s->s_spare);
	}
	mdb_env_close(s->s_env);
	free(s->s_lz);
	free(s);
}

static int store_pending_flush(struct store_txn *t);

int
store_token_open(const char *path, struct store_token **out)
{
	struct store_token *tk;

	*out = NULL;
	if ((tk = calloc(1, sizeof(*tk))) == NULL)
		return EMBER_ENOMEM;
	if ((tk->tk_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) ==
	    -1) {
		free(tk);
		return EMBER_EIO;
	}
	*out = tk;
	return EMBER_OK;
}

void
store_token_close(struct store_token *tk)
{
	if (tk == NULL)
		return;
	close(tk->tk_fd);
	free(tk);
}

void
store_token_use(struct store *s, struct store_token *tk)
{
	s->s_token = tk;
}

int
store_token_try(struct store_token *tk)
{
	if (tk == NULL || tk->tk_count > 0 || tk->tk_reserved)
		return 1;
	if (flock(tk->tk_fd, LOCK_EX | LOCK_NB) == 0) {
		tk->tk_reserved = 1;
		return 1;
	}
	/* Any other failure: LMDB's lock alone serializes the writes. */
	return errno != EWOULDBLOCK;
}

void
store_token_drop(struct store_token *tk)
{
	if (tk == NULL || !tk->tk_reserved)
		return;
	tk->tk_reserved = 0;
	if (tk->tk_count == 0)
		flock(tk->tk_fd, LOCK_UN);
}

/* Before a write transaction on its own: the token, waiting for it. */
static void
store_token_take(struct store_txn *t)
{
	struct store_token *tk = t->t_store->s_token;

	if (tk == NULL)
		return;
	if (tk->tk_count == 0 && !tk->tk_reserved)
		while (flock(tk->tk_fd, LOCK_EX) == -1 && errno == EINTR)
			continue;
	tk->tk_reserved = 0;
	tk->tk_count++;
	t->t_token = 1;
}

/* t's write ended: the token goes with the last one of ours. */
static void
store_token_give(struct store_txn *t)
{
	struct store_token *tk = t->t_store->s_token;

	if (!t->t_token || tk == NULL || tk->tk_count == 0)
		return;
	t->t_token = 0;
	if (--tk->tk_count == 0 && !tk->tk_reserved)
		flock(tk->tk_fd, LOCK_UN);
}

/*
 * Begin a transaction for s: on its own, or in bulk mode nested in the
 * innermost one open (a nested LMDB transaction is always a write
 * transaction; a read handle on one just never writes).  Postings still
 * pending in the parent are put first: LMDB allows no use of a parent
 * while its child is open, and the child must see them.
 */
static int
store_txn_open(struct store *s, int write, int bulk, struct store_txn **out)
{
	struct store_txn	*t, *up;
	int			 nested, rc;

	if ((write || bulk) && s->s_readonly)
		return EMBER_ESTORE;
	if (bulk || (s->s_group && !write))
		up = NULL;
	else if (s->s_group && s->s_top == NULL) {
		/* The group's first write opens the group's transaction. */
		if ((rc = store_txn_open(s, 1, 1, &s->s_gtxn)))
			return rc;
		up = s->s_top;
	} else
		up = s->s_top;
	nested = bulk || up != NULL;
	if (s->s_group && write)
		s->s_gwrites++;
	if (up != NULL && (rc = store_pending_flush(up)))
		return rc;
	/* A read on its own takes the last one's handle again, with its
	 * reader slot and buffers (mdb_txn_renew()). */
	if (!write && !nested && (t = s->s_spare) != NULL) {
		s->s_spare = NULL;
		if ((rc = mdb_txn_renew(t->t_txn)) == 0) {
			t->t_vrid = 0;
			if (t->t_vcur != NULL &&
			    mdb_cursor_renew(t->t_txn, t->t_vcur) != 0) {
				mdb_cursor_close(t->t_vcur);
				t->t_vcur = NULL;
			}
			*out = t;
			return EMBER_OK;
		}
		mdb_txn_abort(t->t_txn);
		store_txn_free(t);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EMBER_ENOMEM;
	t->t_store = s;
	t->t_write = write;
	t->t_up = up;
	/* Nested, even a read is an LMDB write transaction. */
	if ((write || nested) &&
	    (t->t_pend = calloc(1, sizeof(*t->t_pend))) == NULL) {
		free(t);
		return EMBER_ENOMEM;
	}
	if (up == NULL && (write || nested))
		store_token_take(t);
	if ((rc = mdb_txn_begin(s->s_env, up ? up->t_txn : NULL,
	    write || nested ? 0 : MDB_RDONLY, &t->t_txn))) {
		store_token_give(t);
		free(t->t_pend);
		free(t);
		return store_lmdb_err(rc);
	}
	if (nested)
		s->s_top = t;
	*out = t;
	return EMBER_OK;
}

int
store_txn_begin(struct store *s, int write, struct store_txn **out)
{
	return store_txn_open(s, write, 0, out);
}

/* Free a handle's own memory (not the LMDB transaction). */
static void
store_txn_free(struct store_txn *t)
{
	store_token_give(t);
	if (!t->t_borrowed && t->t_pend != NULL) {
		buf_free(&t->t_pend->pd_recs);
		buf_free(&t->t_pend->pd_scratch);
		buf_free(&t->t_pend->pd_work);
		buf_free(&t->t_pend->pd_lz);
		buf_free(&t->t_pend->pd_rids);
		free(t->t_pend);
	}
	/* Only read-only handles have one: closed even after the end. */
	if (t->t_vcur != NULL)
		mdb_cursor_close(t->t_vcur);
	buf_free(&t->t_owned);
	buf_free(&t->t_json);
	free(t);
}

int
store_txn_borrow(struct store_txn *parent, struct store_txn **out)
{
	struct store_txn *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EMBER_ENOMEM;
	t->t_store = parent->t_store;
	t->t_txn = parent->t_txn;
	t->t_write = parent->t_write;
	t->t_borrowed = 1;
	t->t_pend = parent->t_pend;
	*out = t;
	return EMBER_OK;
}

/* A nested transaction has ended: its parent is the innermost again. */
static void
store_txn_unnest(struct store_txn *t)
{
	if (!t->t_borrowed && t->t_store->s_top == t)
		t->t_store->s_top = t->t_up;
}

/*
 * Whether the postings pending in t, a nested transaction, can be left to
 * its parent: they are put there, into pages the parent owns, when it
 * next has to (at the latest before its next child begins: see
 * store_txn_open()).  Put in the child, every leaf page they touch would
 * be copied from the parent and merged back at the commit, page by page:
 * for a load of Synthea Bundles, 5% of its instructions.  The parent has
 * none pending while a child is open, so nothing can come between.
 *
 * A put that fails in the parent (the map full) fails the whole bulk
 * transaction, not just the child that wrote the posting; so children
 * defer only when the map had STORE_DEFER_ROOM free as the bulk
 * transaction began (store_bulk_begin()), far more than one of a load's
 * bulk transactions writes (load.c).
 */
static int
store_pending_defer(const struct store_txn *t)
{
	return t->t_store->s_defer && t->t_up != NULL && t->t_pend != NULL &&
	    buf_error(&t->t_pend->pd_recs) == EMBER_OK &&
	    t->t_up->t_pend != NULL && t->t_up->t_pend->pd_n == 0;
}

int
store_txn_commit(struct store_txn *t)
{
	struct store_pending	*pd, *up;
	struct buf		 recs;
	int			 rc = EMBER_OK, defer;

	if (!t->t_borrowed) {
		store_txn_unnest(t);
		defer = store_pending_defer(t);
		if (!defer && t->t_pend != NULL &&
		    (rc = store_pending_flush(t))) {
			mdb_txn_abort(t->t_txn);
			store_txn_free(t);
			return rc;
		}
		rc = store_lmdb_err(mdb_txn_commit(t->t_txn));
		/* LMDB's lock is free: the token too, before the sync. */
		store_token_give(t);
		if (rc == EMBER_OK && defer) {
			pd = t->t_pend;
			up = t->t_up->t_pend;
			recs = up->pd_recs;
			up->pd_recs = pd->pd_recs;
			up->pd_n = pd->pd_n;
			pd->pd_recs = recs;
			pd->pd_n = 0;
		}
		if (rc == EMBER_OK && t->t_write && t->t_up == NULL &&
		    t->t_store->s_durable)
			rc = store_lmdb_err(mdb_env_sync(t->t_store->s_env, 1));
	}
	store_txn_free(t);
	return rc;
}

void
store_txn_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	if (!t->t_borrowed && !t->t_write && t->t_up == NULL &&
	    t->t_pend == NULL && t->t_store->s_spare == NULL) {
		/* Kept for the next read (store_txn_open()). */
		mdb_txn_reset(t->t_txn);
		t->t_store->s_spare = t;
		return;
	}
	if (!t->t_borrowed) {
		store_txn_unnest(t);
		mdb_txn_abort(t->t_txn);
	}
	if (t->t_joined)
		t->t_store->s_gfail = 1;
	store_txn_free(t);
}

/* Whether the map has STORE_DEFER_ROOM free past the pages in use. */
static int
store_has_room(struct store *s)
{
	MDB_envinfo	info;
	MDB_stat	st;

	return mdb_env_info(s->s_env, &info) == 0 &&
	    mdb_env_stat(s->s_env, &st) == 0 && st.ms_psize > 0 &&
	    info.me_mapsize / st.ms_psize >= info.me_last_pgno + 1 +
	    STORE_DEFER_ROOM / st.ms_psize;
}

int
store_bulk_begin(struct store *s)
{
	if (s->s_bulk != NULL)
		return EMBER_EINTERNAL;
	s->s_defer = store_has_room(s);
	return store_txn_open(s, 1, 1, &s->s_bulk);
}

int
store_bulk_commit(struct store *s)
{
	struct store_txn	*t = s->s_bulk;

	if (t == NULL || s->s_top != t)
		return EMBER_EINTERNAL;
	s->s_bulk = NULL;
	s->s_top = NULL;
	t->t_up = NULL;
	return store_txn_commit(t);
}

int
store_bulk_flush(struct store *s)
{
	if (s->s_bulk == NULL)
		return EMBER_OK;
	if (s->s_top != s->s_bulk)
		return EMBER_EINTERNAL;
	return store_pending_flush(s->s_bulk);
}

void
store_bulk_abort(struct store *s)
{
	struct store_txn	*t = s->s_bulk;

	if (t == NULL)
		return;
	s->s_bulk = NULL;
	s->s_top = NULL;
	store_txn_abort(t);
}

int
store_group_begin(struct store *s)
{
	if (s->s_group || s->s_bulk != NULL || s->s_top != NULL)
		return EMBER_EINTERNAL;
	s->s_group = 1;
	s->s_gfail = 0;
	return EMBER_OK;
}

int
store_txn_join(struct store *s, struct store_txn **out)
{
	int rc;

	*out = NULL;
	if (!s->s_group || s->s_top != s->s_gtxn)
		return EMBER_EINVAL;
	/* As in bulk mode (store_pending_defer()): a put of the group's
	 * postings must not meet a full map. */
	if (!store_has_room(s))
		return EMBER_EINVAL;
	if (s->s_gtxn == NULL && (rc = store_txn_open(s, 1, 1, &s->s_gtxn)))
		return rc;
	if ((rc = store_txn_borrow(s->s_gtxn, out)))
		return rc;
	(*out)->t_joined = 1;
	s->s_gwrites++;
	return EMBER_OK;
}

uint64_t
store_group_writes(const struct store *s)
{
	return s->s_gwrites;
}

int
store_group_end(struct store *s)
{
	struct store_txn	*t = s->s_gtxn;

	s->s_group = 0;
	if (t == NULL)
		return EMBER_OK;
	s->s_gtxn = NULL;
	if (s->s_top != t) {
		/* A write of the group still open: a caller's bug.  It
		 * and the group are aborted, innermost first. */
		while (s->s_top != NULL)
			store_txn_abort(s->s_top);
		return EMBER_EINTERNAL;
	}
	s->s_top = NULL;
	if (s->s_gfail) {
		/* A joined write failed after it may have written. */
		store_txn_abort(t);
		return EMBER_ESTORE;
	}
	return store_txn_commit(t);
}

/* Build "Type/id" into key; returns its length or 0 if too long. */
static size_t
store_key(char *key, const char *type, size_t type_len, const char *id,
    size_t id_len)
{
	if (type_len + id_len + 1 > STORE_KEY_MAX)
		return 0;
	memcpy(key, type, type_len);
	key[type_len] = '/';
	memcpy(key + type_len + 1, id, id_len);
	return type_len + 1 + id_len;
}

static int
store_decode_row(uint64_t rid, const MDB_val *v, struct store_row *out)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size < ROW_HDR)
		return EMBER_ESTORE;
	out->sr_rid = rid;
	out->sr_version = be32_get(p);
	out->sr_deleted = (be32_get(p + 4) & FLAG_DELETED) != 0;
	out->sr_last_updated = be64_get(p + 8);
	out->sr_key = (const char *)p + ROW_HDR;
	out->sr_key_len = v->mv_size - ROW_HDR;
	return EMBER_OK;
}

/* The value stored under rid in sub-database which: the raw LMDB code. */
static int
store_get_rid(struct store_txn *t, int which, uint64_t rid, MDB_val *v)
{
	unsigned char	rk[8];
	MDB_val		k;

	be64_put(rk, rid);
	k.mv_data = rk;
	k.mv_size = 8;
	return mdb_get(t->t_txn, t->t_store->s_dbi[which], &k, v);
}

int
store_row(struct store_txn *t, uint64_t rid, struct store_row *out)
{
	MDB_val	v;
	int	rc;

	if ((rc = store_get_rid(t, DB_ROWS, rid, &v)))
		return store_lmdb_err(rc);
	return store_decode_row(rid, &v, out);
}

/* The rid of Type/id in *rid: EMBER_OK, EMBER_ENOTFOUND, EMBER_ESTORE. */
static int
store_rid(struct store_txn *t, const char *type, size_t type_len,
    const char *id, size_t id_len, uint64_t *rid)
{
	char	 key[STORE_KEY_MAX];
	MDB_val	 k, v;
	int	 rc;

	if ((k.mv_size = store_key(key, type, type_len, id, id_len)) == 0)
		return EMBER_ENOTFOUND;
	k.mv_data = key;
	if ((rc = mdb_get(t->t_txn, t->t_store->s_dbi[DB_IDS], &k, &v)))
		return store_lmdb_err(rc);
	if (v.mv_size != 8)
		return EMBER_ESTORE;
	*rid = be64_get(v.mv_data);
	return EMBER_OK;
}

int
store_current(struct store_txn *t, const char *type, size_t type_len,
    const char *id, size_t id_len, struct store_row *out)
{
	uint64_t	rid;
	int		rc;

	if ((rc = store_rid(t, type, type_len, id, id_len, &rid)))
		return rc;
	return store_row(t, rid, out);
}

int
store_latest(struct store_txn *t, const char *type, size_t type_len,
    const char *id, size_t id_len, struct store_row *out)
{
	unsigned char		 vk[12];
	const unsigned char	*p;
	MDB_val			 k, v;
	uint64_t		 rid;
	int			 rc;

	/* A cursor is kept by read-only handles only (t_pend is NULL
	 * exactly for those): a write goes the usual way. */
	if (t->t_pend != NULL)
		return store_current(t, type, type_len, id, id_len, out);
	if ((rc = store_rid(t, type, type_len, id, id_len, &rid)))
		return rc;
	t->t_vrid = 0;
	if (t->t_vcur == NULL && (rc = mdb_cursor_open(t->t_txn,
	    t->t_store->s_dbi[DB_VERSIONS], &t->t_vcur)))
		return store_lmdb_err(rc);
	/* The first key at or past (rid, the largest vid), then back one
	 * unless it is that very key: rid's newest version. */
	be64_put(vk, rid);
	be32_put(vk + 8, UINT32_MAX);
	k.mv_data = vk;
	k.mv_size = 12;
	rc = mdb_cursor_get(t->t_vcur, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && !(k.mv_size == 12 && memcmp(k.mv_data, vk, 12) == 0))
		rc = mdb_cursor_get(t->t_vcur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(t->t_vcur, &k, &v, MDB_LAST);
	if (rc)
		return rc == MDB_NOTFOUND ? EMBER_ESTORE : store_lmdb_err(rc);
	p = k.mv_data;
	if (k.mv_size != 12 || be64_get(p) != rid || v.mv_size < VER_HDR)
		return EMBER_ESTORE;
	out->sr_rid = rid;
	out->sr_version = be32_get(p + 8);
	p = v.mv_data;
	out->sr_deleted = (be32_get(p + 8) & FLAG_DELETED) != 0;
	out->sr_last_updated = be64_get(p);
	out->sr_key = NULL;
	out->sr_key_len = 0;
	t->t_vrid = rid;
	t->t_vvid = out->sr_version;
	return EMBER_OK;
}

int
store_version(struct store_txn *t, uint64_t rid, uint32_t vid,
    struct store_version *out)
{
	unsigned char		 vk[12];
	const unsigned char	*p;
	const char		*json;
	MDB_val			 k, v;
	uint32_t		 flags;
	size_t			 len;
	int			 rc;

	be64_put(vk, rid);
	be32_put(vk + 8, vid);
	k.mv_data = vk;
	k.mv_size = 12;
	/* Just found by store_latest(): no second lookup (t_vrid 0: no
	 * cursor, or not on a version). */
	if (t->t_vrid == 0 || t->t_vrid != rid || t->t_vvid != vid ||
	    mdb_cursor_get(t->t_vcur, &k, &v, MDB_GET_CURRENT) != 0) {
		if ((rc = mdb_get(t->t_txn, t->t_store->s_dbi[DB_VERSIONS],
		    &k, &v)))
			return store_lmdb_err(rc);
	}
	if (v.mv_size < VER_HDR)
		return EMBER_ESTORE;
	p = v.mv_data;
	flags = be32_get(p + 8);
	json = (const char *)p + VER_HDR;
	len = v.mv_size - VER_HDR;
	if (flags & FLAG_LZ) {
		if (len < 4)
			return EMBER_ESTORE;
		if ((rc = lz_decompress(p + VER_HDR + 4, len - 4,
		    be32_get(p + VER_HDR), &t->t_json)))
			return rc;
		json = t->t_json.data;
		len = t->t_json.len;
	}
	out->sv_version = vid;
	out->sv_last_updated = be64_get(p);
	out->sv_deleted = (flags & FLAG_DELETED) != 0;
	out->sv_method = (int)FLAG_METHOD(flags);
	out->sv_json = json;
	out->sv_json_len = len;
	return EMBER_OK;
}

/* Read a u64 counter from meta; 0 when absent. */
static int
store_meta_get(struct store_txn *t, const char *name, uint64_t *out)
{
	MDB_val	k, v;
	int	rc;

	k.mv_data = (void *)(uintptr_t)name;
	k.mv_size = strlen(name);
	rc = mdb_get(t->t_txn, t->t_store->s_dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		*out = 0;
		return EMBER_OK;
	}
	if (rc)
		return store_lmdb_err(rc);
	if (v.mv_size != 8)
		return EMBER_ESTORE;
	*out = be64_get(v.mv_data);
	return EMBER_OK;
}

static int
store_meta_put(struct store_txn *t, const char *name, uint64_t value)
{
	unsigned char	b[8];
	MDB_val		k, v;

	be64_put(b, value);
	k.mv_data = (void *)(uintptr_t)name;
	k.mv_size = strlen(name);
	v.mv_data = b;
	v.mv_size = 8;
	return store_lmdb_err(mdb_put(t->t_txn, t->t_store->s_dbi[DB_META],
	    &k, &v, 0));
}

int
store_clock_reserve(struct store_txn *t, unsigned n, uint64_t *out)
{
	uint64_t	last, now;
	int		rc;

	if (!t->t_write || n == 0)
		return EMBER_EINTERNAL;
	if ((rc = store_meta_get(t, "clock", &last)))
		return rc;
	now = date_now();
	if (now <= last)
		now = last + 1;
	if ((rc = store_meta_put(t, "clock", now + n - 1)))
		return rc;
	*out = now;
	return EMBER_OK;
}

int
store_clock_claim(struct store_txn *t, uint64_t when)
{
	uint64_t	last;
	int		rc;

	if (!t->t_write)
		return EMBER_EINTERNAL;
	if ((rc = store_meta_get(t, "clock", &last)))
		return rc;
	if (when <= last)
		return EMBER_ECONFLICT;
	return store_meta_put(t, "clock", when);
}

int
store_clock(struct store_txn *t, uint64_t *out)
{
	return store_clock_reserve(t, 1, out);
}

int
store_pack(const struct store *s, const void *src, size_t n,
    struct buf *work, struct buf *out)
{
	int	rc;

	buf_reset(out);
	if (n < LZ_WORTH || n > UINT32_MAX)
		return EMBER_OK;
	if ((rc = lz_compress(s->s_lz, src, n, work, out)))
		return rc;
	if (out->len + 4 >= n)
		buf_reset(out);
	return EMBER_OK;
}

/*
 * mdb_put() for a tree whose new keys mostly sort after every key it
 * holds (rids are handed out in increasing order, clocks only go
 * forward): tried as an append first.  An append fills each leaf page
 * before it starts the next; an ordinary put at the end of the tree
 * splits the last page in half, leaving every page of a growing tree
 * about half empty.  A key that does not sort last gets an ordinary put.
 */
static int
store_put_tail(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v,
    unsigned flags)
{
	int	rc;

	rc = mdb_put(txn, dbi, k, v, flags | MDB_APPEND);
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(txn, dbi, k, v, flags);
	return rc;
}

int
store_write(struct store_txn *t, const struct store_write *w,
    struct store_row *out)
{
	MDB_dbi		*dbi = t->t_store->s_dbi;
	char		 key[STORE_KEY_MAX];
	unsigned char	 rk[8], vk[12], hk[16], tk[STORE_KEY_MAX + 17], vb[4];
	unsigned char	*val = NULL;
	const char	*body;
	const struct buf *packed;
	struct store_row row;
	MDB_val		 k, v;
	uint64_t	 rid;
	uint32_t	 flags;
	size_t		 klen, vlen, blen;
	int		 rc;

	if (!t->t_write)
		return EMBER_EINTERNAL;
	if ((klen = store_key(key, w->sw_type, w->sw_type_len, w->sw_id,
	    w->sw_id_len)) == 0)
		return EMBER_EINVAL;
	rc = store_current(t, w->sw_type, w->sw_type_len, w->sw_id,
	    w->sw_id_len, &row);
	if (rc == EMBER_ENOTFOUND) {
		if (w->sw_version != 1)
			return EMBER_ECONFLICT;
		if ((rc = store_meta_get(t, "next_rid", &rid)))
			return rc;
		rid++;	/* rid 0 is never used: it means "none" */
		if (rid > STORE_RID_MAX)
			return EMBER_EFULL;
		if ((rc = store_meta_put(t, "next_rid", rid)))
			return rc;
		be64_put(rk, rid);
		k.mv_data = key;
		k.mv_size = klen;
		v.mv_data = rk;
		v.mv_size = 8;
		if ((rc = mdb_put(t->t_txn, dbi[DB_IDS], &k, &v, 0)))
			return store_lmdb_err(rc);
	} else if (rc) {
		return rc;
	} else {
		if (w->sw_version != row.sr_version + 1)
			return EMBER_ECONFLICT;
		rid = row.sr_rid;
	}

	flags = (uint32_t)w->sw_method << 8;
	if (w->sw_method == STORE_DELETE)
		flags |= FLAG_DELETED;
	body = w->sw_json;
	blen = w->sw_json_len;
	if ((packed = w->sw_packed) == NULL) {
		if ((rc = store_pack(t->t_store, body, blen,
		    &t->t_pend->pd_work, &t->t_pend->pd_lz)))
			return rc;
		packed = &t->t_pend->pd_lz;
	}
	if (packed->len > 0) {
		flags |= FLAG_LZ;
		body = packed->data;
		blen = packed->len;
	}

	/* versions: rid, vid -> lastUpdated, flags, [length,] JSON */
	be64_put(vk, rid);
	be32_put(vk + 8, w->sw_version);
	k.mv_data = vk;
	k.mv_size = 12;
	vlen = VER_HDR + (flags & FLAG_LZ ? 4 : 0) + blen;
	v.mv_size = vlen;
	if ((rc = store_put_tail(t->t_txn, dbi[DB_VERSIONS], &k, &v, MDB_RESERVE |
	    MDB_NOOVERWRITE)))
		return rc == MDB_KEYEXIST ? EMBER_ECONFLICT : store_lmdb_err(rc);
	val = v.mv_data;
	be64_put(val, w->sw_last_updated);
	be32_put(val + 8, flags);
	if (flags & FLAG_LZ) {
		be32_put(val + VER_HDR, (uint32_t)w->sw_json_len);
		memcpy(val + VER_HDR + 4, body, blen);
	} else if (blen)
		memcpy(val + VER_HDR, body, blen);

	/* rows: rid -> version, flags, lastUpdated, key */
	be64_put(rk, rid);
	k.mv_data = rk;
	k.mv_size = 8;
	v.mv_size = ROW_HDR + klen;
	if ((rc = store_put_tail(t->t_txn, dbi[DB_ROWS], &k, &v,
	    MDB_RESERVE)))
		return store_lmdb_err(rc);
	val = v.mv_data;
	be32_put(val, w->sw_version);
	be32_put(val + 4, flags & FLAG_DELETED);
	be64_put(val + 8, w->sw_last_updated);
	memcpy(val + ROW_HDR, key, klen);

	/* history: lastUpdated, rid -> vid; typehist: Type NUL same */
	be64_put(hk, w->sw_last_updated);
	be64_put(hk + 8, rid);
	be32_put(vb, w->sw_version);
	k.mv_data = hk;
	k.mv_size = 16;
	v.mv_data = vb;
	v.mv_size = 4;
	if ((rc = store_put_tail(t->t_txn, dbi[DB_HISTORY], &k, &v, 0)))
		return store_lmdb_err(rc);
	memcpy(tk, w->sw_type, w->sw_type_len);
	tk[w->sw_type_len] = '\0';
	memcpy(tk + w->sw_type_len + 1, hk, 16);
	k.mv_data = tk;
	k.mv_size = w->sw_type_len + 17;
	if ((rc = mdb_put(t->t_txn, dbi[DB_TYPEHIST], &k, &v, 0)))
		return store_lmdb_err(rc);

	if (out != NULL)
		return store_row(t, rid, out);
	return EMBER_OK;
}

/* One posting key of a blob, while it is sorted. */
struct store_key {
	const unsigned char	*sk_p;
	size_t			 sk_len;
};

/* Byte order, a prefix first: LMDB's order of keys. */
static int
store_key_order(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
store_key_cmp(const void *x, const void *y)
{
	const struct store_key *a = x, *b = y;

	return store_key_order(a->sk_p, a->sk_len, b->sk_p, b->sk_len);
}

/*
 * The keys of a blob (2-byte length, key; store_postings_replace()) in
 * *out, sorted, each once, keys over STORE_POSTING_MAX left out (sort
 * 0: a blob store_keys_ready() made, taken as it is); the caller frees
 * *out.  EMBER_OK, EMBER_EINVAL for a malformed blob, EMBER_ENOMEM.
 */
static int
store_keys_sorted(const unsigned char *p, size_t len, int sort,
    struct store_key **out, size_t *count)
{
	struct store_key	*k;
	size_t			 n = 0, i, j, kl;

	if ((k = malloc((len / 2 + 1) * sizeof(*k))) == NULL)
		return EMBER_ENOMEM;
	while (len >= 2) {
		kl = ((size_t)p[0] << 8) | p[1];
		if (kl > len - 2) {
			free(k);
			return EMBER_EINVAL;
		}
		if (kl <= STORE_POSTING_MAX) {
			k[n].sk_p = p + 2;
			k[n++].sk_len = kl;
		}
		p += 2 + kl;
		len -= 2 + kl;
	}
	if (!sort) {
		*out = k;
		*count = n;
		return EMBER_OK;
	}
	if (n > 1)
		qsort(k, n, sizeof(*k), store_key_cmp);
	for (i = j = 0; i < n; i++)
		if (j == 0 || store_key_cmp(&k[j - 1], &k[i]) != 0)
			k[j++] = k[i];
	*out = k;
	*count = j;
	return EMBER_OK;
}

/* The keys k[0..n) in blob form (2-byte length, key) in out. */
static int
store_keys_blob(const struct store_key *k, size_t n, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < n; i++) {
		buf_putc(out, (int)(k[i].sk_len >> 8));
		buf_putc(out, (int)(k[i].sk_len & 0xff));
		buf_append(out, k[i].sk_p, k[i].sk_len);
	}
	return buf_error(out);
}

/*
 * Put an owned list (blob form, list[0..len)) under key k: 'Z', its
 * length (4) and the list compressed when that is shorter, else 'B' and
 * the list.  lz is the list as store_pack() left it, or NULL: packed
 * here.
 */
static int
store_owned_put(struct store_txn *t, MDB_val *k, const void *list,
    size_t len, const struct buf *lz)
{
	unsigned char		*p;
	MDB_val			 v;
	int			 rc, z;

	if (lz == NULL) {
		if ((rc = store_pack(t->t_store, list, len,
		    &t->t_pend->pd_work, &t->t_pend->pd_lz)))
			return rc;
		lz = &t->t_pend->pd_lz;
	}
	z = lz->len > 0;
	v.mv_size = 1 + (z ? 4 + lz->len : len);
	if ((rc = store_put_tail(t->t_txn, t->t_store->s_dbi[DB_OWNED], k, &v,
	    MDB_RESERVE)))
		return store_lmdb_err(rc);
	p = v.mv_data;
	if (z) {
		p[0] = 'Z';
		be32_put(p + 1, (uint32_t)len);
		memcpy(p + 5, lz->data, lz->len);
	} else {
		p[0] = 'B';
		if (len > 0)
			memcpy(p + 1, list, len);
	}
	return EMBER_OK;
}

/*
 * An owned list as stored (store_owned_put()) in blob form: *keys and
 * *len point into the map, or into out when it was compressed.
 * EMBER_OK, EMBER_ESTORE, EMBER_ENOMEM.
 */
static int
store_owned_read(const MDB_val *v, struct buf *out, const void **keys,
    size_t *len)
{
	const unsigned char	*p = v->mv_data;
	int			 rc;

	if (v->mv_size >= 1 && p[0] == 'B') {
		*keys = p + 1;
		*len = v->mv_size - 1;
		return EMBER_OK;
	}
	if (v->mv_size < 5 || p[0] != 'Z')
		return EMBER_ESTORE;
	if ((rc = lz_decompress(p + 5, v->mv_size - 5, be32_get(p + 1),
	    out)))
		return rc;
	*keys = out->data ? out->data : "";
	*len = out->len;
	return EMBER_OK;
}

/* Order of pending records (rid(8) len(2) key): key, then rid. */
static int
store_pending_cmp(const void *x, const void *y)
{
	const unsigned char	*a = *(const unsigned char *const *)x;
	const unsigned char	*b = *(const unsigned char *const *)y;
	int			 c;

	c = store_key_order(a + 10, ((size_t)a[8] << 8) | a[9], b + 10,
	    ((size_t)b[8] << 8) | b[9]);
	return c != 0 ? c : memcmp(a, b, 8);
}

/* Postings in the recent tree (0 when that cannot be read). */
static size_t
store_recent_count(struct store_txn *t)
{
	MDB_stat st;

	if (mdb_stat(t->t_txn, t->t_store->s_dbi[DB_RECENT], &st))
		return 0;
	return st.ms_entries;
}

/*
 * Put n rids (4 bytes each, ascending, contiguous at rids) under key k
 * with cur, a cursor on a postings tree: one call (MDB_MULTIPLE) finds
 * the key once for all of them, where a put each searched the tree from
 * its root every time.  A rid there already is left.  An LMDB error.
 */
static int
store_put_rids(MDB_cursor *cur, MDB_val *k, const unsigned char *rids,
    size_t n)
{
	MDB_val	d[2];
	int	rc;

	while (n > 0) {
		d[0].mv_size = 4;
		d[0].mv_data = (void *)(uintptr_t)rids;
		d[1].mv_size = n;
		d[1].mv_data = NULL;
		rc = mdb_cursor_put(cur, k, d, MDB_NODUPDATA | MDB_MULTIPLE);
		if (rc != MDB_KEYEXIST)
			return rc;
		/* d[1].mv_size went in; the one after them was there. */
		if (d[1].mv_size >= n)
			return 0;
		rids += 4 * (d[1].mv_size + 1);
		n -= d[1].mv_size + 1;
	}
	return 0;
}

/*
 * The first page of rids of the key cur is on, into *v (which holds its
 * first rid, from the get that moved cur there); MDB_NEXT_MULTIPLE gives
 * the others.  MDB_GET_MULTIPLE alone would leave *v as it was for a key
 * with one rid, as LMDB keeps a single value out of a duplicates page.
 * An LMDB error code.
 */
static int
store_rids_first(MDB_cursor *cur, MDB_val *k, MDB_val *v)
{
	size_t	n;
	int	rc;

	if ((rc = mdb_cursor_count(cur, &n)))
		return rc;
	return n == 1 ? 0 : mdb_cursor_get(cur, k, v, MDB_GET_MULTIPLE);
}

/*
 * Move every posting of the recent tree into the main one, in key order,
 * and empty the recent tree: each key's rids, a page of them at a time
 * (MDB_GET_MULTIPLE), in one put.
 */
static int
store_recent_merge(struct store_txn *t)
{
	MDB_dbi		*dbi = t->t_store->s_dbi;
	MDB_cursor	*rc_cur = NULL, *pc_cur = NULL;
	MDB_val		 k, v;
	int		 rc;

	if ((rc = mdb_cursor_open(t->t_txn, dbi[DB_RECENT], &rc_cur)) ||
	    (rc = mdb_cursor_open(t->t_txn, dbi[DB_POSTINGS], &pc_cur)))
		goto done;
	for (rc = mdb_cursor_get(rc_cur, &k, &v, MDB_NEXT_NODUP); rc == 0;
	    rc = mdb_cursor_get(rc_cur, &k, &v, MDB_NEXT_NODUP)) {
		for (rc = store_rids_first(rc_cur, &k, &v); rc == 0;
		    rc = mdb_cursor_get(rc_cur, &k, &v, MDB_NEXT_MULTIPLE))
			if ((rc = store_put_rids(pc_cur, &k, v.mv_data,
			    v.mv_size / 4)))
				goto done;
		if (rc != MDB_NOTFOUND)
			goto done;
	}
	if (rc == MDB_NOTFOUND)
		rc = mdb_drop(t->t_txn, dbi[DB_RECENT], 0);
done:
	mdb_cursor_close(pc_cur);
	mdb_cursor_close(rc_cur);
	return rc;
}

/*
 * Put the pending postings of t's transaction, in key order: into the
 * recent tree while it holds fewer than s_recent postings with them
 * (never in bulk mode), else, with everything the recent tree held, into
 * the main one (with recent_postings lowered to 0, the next write
 * empties it).  The recent tree is small, so a write with a few dozen
 * postings changes a few of its pages instead of a few dozen leaves of
 * the main tree; the merge then changes each of those leaves once for
 * many writes.  Each posting is in one tree or the other, never both.
 */
static int
store_pending_flush(struct store_txn *t)
{
	struct store_pending	*pd = t->t_pend;
	struct store		*s = t->t_store;
	const unsigned char	**recs = NULL, *p;
	MDB_cursor		*cur = NULL;
	MDB_val			 k;
	size_t			 i, j, n;
	int			 rc, which = DB_POSTINGS;

	if (pd == NULL || pd->pd_n == 0)
		return EMBER_OK;
	if ((rc = buf_error(&pd->pd_recs)))
		return rc;
	if ((recs = malloc(pd->pd_n * sizeof(*recs))) == NULL)
		return EMBER_ENOMEM;
	p = (const unsigned char *)pd->pd_recs.data;
	for (i = 0; i < pd->pd_n; i++) {
		recs[i] = p;
		p += 10 + (((size_t)p[8] << 8) | p[9]);
	}
	qsort(recs, pd->pd_n, sizeof(*recs), store_pending_cmp);
	n = store_recent_count(t);
	if (s->s_recent > 0 && s->s_bulk == NULL && n + pd->pd_n <= s->s_recent)
		which = DB_RECENT;
	else if (n > 0 && (rc = store_recent_merge(t)))
		goto done;
	if ((rc = mdb_cursor_open(t->t_txn, s->s_dbi[which], &cur)))
		goto done;
	/* Each key's rids in one put (a Bundle's resources share keys). */
	for (i = 0; i < pd->pd_n; i = j) {
		k.mv_data = (void *)(uintptr_t)(recs[i] + 10);
		k.mv_size = ((size_t)recs[i][8] << 8) | recs[i][9];
		buf_reset(&pd->pd_rids);
		for (j = i; j < pd->pd_n && (j == i || (k.mv_size ==
		    (((size_t)recs[j][8] << 8) | recs[j][9]) &&
		    memcmp(recs[j] + 10, k.mv_data, k.mv_size) == 0)); j++)
			buf_append(&pd->pd_rids, recs[j] + 4, 4);
		if (buf_error(&pd->pd_rids)) {
			rc = ENOMEM;
			goto done;
		}
		if ((rc = store_put_rids(cur, &k,
		    (const unsigned char *)pd->pd_rids.data, j - i)))
			goto done;
	}
	buf_reset(&pd->pd_recs);
	pd->pd_n = 0;
done:
	mdb_cursor_close(cur);
	free(recs);
	return store_lmdb_err(rc);
}

/*
 * Remove the posting (key, rid4) from the main tree and, when trees is
 * 2, from the recent one: it is in one of them.
 */
static int
store_posting_del(struct store_txn *t, const unsigned char *key, size_t n,
    unsigned char *rid4, int trees)
{
	MDB_val	k, v;
	int	rc, i;

	for (i = 0; i < trees; i++) {
		k.mv_data = (void *)(uintptr_t)key;
		k.mv_size = n;
		v.mv_data = rid4;
		v.mv_size = 4;
		rc = mdb_del(t->t_txn, t->t_store->s_dbi[i ? DB_RECENT :
		    DB_POSTINGS], &k, &v);
		if (rc == 0)
			break;
		if (rc != MDB_NOTFOUND)
			return store_lmdb_err(rc);
	}
	return EMBER_OK;
}

/*
 * store_postings_replace() with the keys sorted: keys[0..len), sk[0..n)
 * (keys may be NULL: the list is built from sk), lz as for
 * store_owned_put().
 */
static int
store_postings_put(struct store_txn *t, uint64_t rid,
    const struct store_key *sk, size_t n, const void *keys, size_t len,
    const struct buf *lz)
{
	MDB_dbi			*dbi = t->t_store->s_dbi;
	struct store_pending	*pd = t->t_pend;
	const unsigned char	*op = NULL;
	unsigned char		 rk[8], rec[10];
	const void		*old;
	MDB_val			 k, v;
	size_t			 i = 0, oldlen = 0, ol = 0;
	int			 rc, c, trees = 1, had = 0;

	be64_put(rk, rid);
	k.mv_data = rk;
	k.mv_size = 8;
	rc = mdb_get(t->t_txn, dbi[DB_OWNED], &k, &v);
	if (rc == 0) {
		/* Its old postings may still be pending.  The list is
		 * copied out of the map before the tree changes. */
		if ((rc = store_pending_flush(t)) ||
		    (rc = store_owned_read(&v, &pd->pd_lz, &old, &oldlen)))
			return rc;
		buf_reset(&t->t_owned);
		if ((rc = buf_append(&t->t_owned, old, oldlen)))
			return rc;
		op = (const unsigned char *)t->t_owned.data;
		trees = store_recent_count(t) > 0 ? 2 : 1;
		had = 1;
	} else if (rc != MDB_NOTFOUND)
		return store_lmdb_err(rc);
	/*
	 * The old keys and the new, both sorted: only what one has and the
	 * other has not changes (an update usually changes a few keys of a
	 * resource's dozens).
	 */
	while (oldlen >= 2 || i < n) {
		if (oldlen >= 2) {
			ol = ((size_t)op[0] << 8) | op[1];
			if (ol > oldlen - 2)
				return EMBER_ESTORE;
		}
		c = oldlen < 2 ? 1 : i >= n ? -1 : store_key_order(op + 2, ol,
		    sk[i].sk_p, sk[i].sk_len);
		if (c <= 0) {
			if (c < 0 && (rc = store_posting_del(t, op + 2, ol,
			    rk + 4, trees)))
				return rc;
			op += 2 + ol;
			oldlen -= 2 + ol;
		}
		if (c >= 0) {
			if (c > 0) {
				memcpy(rec, rk, 8);
				rec[8] = (unsigned char)(sk[i].sk_len >> 8);
				rec[9] = (unsigned char)(sk[i].sk_len & 0xff);
				buf_append(&pd->pd_recs, rec, 10);
				buf_append(&pd->pd_recs, sk[i].sk_p,
				    sk[i].sk_len);
				pd->pd_n++;
			}
			i++;
		}
	}
	if ((rc = buf_error(&pd->pd_recs)))
		return rc;
	if (n == 0) {
		if (had && (rc = mdb_del(t->t_txn, dbi[DB_OWNED], &k, NULL)))
			return store_lmdb_err(rc);
		return EMBER_OK;
	}
	if (keys == NULL) {
		if ((rc = store_keys_blob(sk, n, &pd->pd_scratch)))
			return rc;
		keys = pd->pd_scratch.data;
		len = pd->pd_scratch.len;
	}
	return store_owned_put(t, &k, keys, len, lz);
}

int
store_postings_replace(struct store_txn *t, uint64_t rid, const void *keys,
    size_t len)
{
	struct store_key	*sk = NULL;
	size_t			 n = 0;
	int			 rc;

	if (!t->t_write || t->t_pend == NULL)
		return EMBER_EINTERNAL;
	if (len > 0 && (rc = store_keys_sorted(keys, len, 1, &sk, &n)))
		return rc == EMBER_EINVAL ? EMBER_EINTERNAL : rc;
	rc = store_postings_put(t, rid, sk, n, NULL, 0, NULL);
	free(sk);
	return rc;
}

int
store_keys_ready(const struct store *s, const void *keys, size_t len,
    struct buf *sorted, struct buf *packed, struct buf *work)
{
	struct store_key	*sk = NULL;
	size_t			 n = 0;
	int			 rc;

	buf_reset(sorted);
	buf_reset(packed);
	if (len > 0 && (rc = store_keys_sorted(keys, len, 1, &sk, &n)))
		return rc;
	rc = store_keys_blob(sk, n, sorted);
	free(sk);
	if (rc == EMBER_OK && n > 0)
		rc = store_pack(s, sorted->data, sorted->len, work, packed);
	return rc;
}

int
store_postings_replace_ready(struct store_txn *t, uint64_t rid,
    const struct buf *sorted, const struct buf *packed)
{
	struct store_key	*sk = NULL;
	size_t			 n = 0;
	int			 rc;

	if (!t->t_write || t->t_pend == NULL)
		return EMBER_EINTERNAL;
	if (sorted->len > 0 && (rc = store_keys_sorted(
	    (const unsigned char *)sorted->data, sorted->len, 0, &sk, &n)))
		return rc == EMBER_EINVAL ? EMBER_EINTERNAL : rc;
	rc = store_postings_put(t, rid, sk, n, sorted->data, sorted->len,
	    packed);
	free(sk);
	return rc;
}

int
store_postings_owned(struct store_txn *t, uint64_t rid, const void **keys,
    size_t *len)
{
	MDB_val	v;
	int	rc;

	if ((rc = store_get_rid(t, DB_OWNED, rid, &v)))
		return store_lmdb_err(rc);
	return store_owned_read(&v, &t->t_owned, keys, len);
}

/* store_postings_scan() of one tree; *stop gets what fn returned. */
static int
store_scan_tree(struct store_txn *t, int which, const void *lo,
    size_t lolen, const void *hi, size_t hilen,
    int (*fn)(void *, const unsigned char *, size_t, uint64_t), void *arg,
    int *stop)
{
	MDB_cursor		*cur;
	MDB_val			 k, v;
	const unsigned char	*r;
	size_t			 i;
	int			 rc;

	if ((rc = mdb_cursor_open(t->t_txn, t->t_store->s_dbi[which], &cur)))
		return store_lmdb_err(rc);
	k.mv_data = (void *)(uintptr_t)lo;
	k.mv_size = lolen;
	/* A key at a time, its rids a page at a time (MDB_GET_MULTIPLE):
	 * the range is asked once a key, the tree once a page. */
	for (rc = lolen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
		if (store_postings_in_range(k.mv_data, k.mv_size, lo, lolen,
		    hi, hilen) > 0)
			break;
		for (rc = store_rids_first(cur, &k, &v); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE))
			for (i = 0, r = v.mv_data; i + 4 <= v.mv_size; i += 4)
				if ((*stop = fn(arg, k.mv_data, k.mv_size,
				    be32_get(r + i))) != 0)
					goto done;
		if (rc != MDB_NOTFOUND)
			break;
	}
done:
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == 0 ? EMBER_OK : store_lmdb_err(rc);
}

int
store_postings_scan(struct store_txn *t, const void *lo, size_t lolen,
    const void *hi, size_t hilen,
    int (*fn)(void *, const unsigned char *, size_t, uint64_t), void *arg)
{
	int	rc, stop = 0;

	if ((rc = store_pending_flush(t)))
		return rc;
	rc = store_scan_tree(t, DB_POSTINGS, lo, lolen, hi, hilen, fn, arg,
	    &stop);
	if (rc == EMBER_OK && stop == 0 && store_recent_count(t) > 0)
		rc = store_scan_tree(t, DB_RECENT, lo, lolen, hi, hilen, fn,
		    arg, &stop);
	return stop ? stop : rc;
}

int
store_postings_in_range(const void *key, size_t n, const void *lo,
    size_t lolen, const void *hi, size_t hilen)
{
	size_t	m = n < lolen ? n : lolen;
	int	c = m ? memcmp(key, lo, m) : 0;

	if (c < 0 || (c == 0 && n < lolen))
		return -1;
	if (hi == NULL)		/* every key starting with lo */
		return c == 0 ? 0 : 1;
	m = n < hilen ? n : hilen;
	c = m ? memcmp(key, hi, m) : 0;
	return c > 0 || (c == 0 && n >= hilen) ? 1 : 0;
}

int
store_postings_groups(struct store_txn *t, const void *prefix, size_t plen,
    int (*fn)(void *, const unsigned char *, size_t, const unsigned char *,
    size_t), void *arg)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	int		 rc, stop = 0, which;

	if ((rc = store_pending_flush(t)))
		return rc;
	for (which = DB_POSTINGS; ; which = DB_RECENT) {
		if ((rc = mdb_cursor_open(t->t_txn, t->t_store->s_dbi[which],
		    &cur)))
			return store_lmdb_err(rc);
		k.mv_data = (void *)(uintptr_t)prefix;
		k.mv_size = plen;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 &&
		    !stop; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
			if (k.mv_size < plen ||
			    memcmp(k.mv_data, prefix, plen) != 0)
				break;
			/* The key's rids a page at a time (DUPFIXED). */
			for (rc = store_rids_first(cur, &k, &v); rc == 0 &&
			    !stop; rc = mdb_cursor_get(cur, &k, &v,
			    MDB_NEXT_MULTIPLE))
				stop = fn(arg, k.mv_data, k.mv_size, v.mv_data,
				    v.mv_size / 4);
			if (rc != 0 && rc != MDB_NOTFOUND)
				break;
			rc = 0;
		}
		mdb_cursor_close(cur);
		if (stop > 0)
			return stop;
		if (rc != MDB_NOTFOUND && rc != 0)
			return store_lmdb_err(rc);
		if (which == DB_RECENT || store_recent_count(t) == 0)
			return EMBER_OK;
	}
}

int
store_history(struct store_txn *t, uint64_t rid, const char *type,
    size_t type_len, uint64_t since, uint64_t before,
    struct store_history_item *items, size_t max, size_t *n, int *more)
{
	MDB_dbi		*dbi = t->t_store->s_dbi;
	MDB_cursor	*cur = NULL;
	MDB_val		 k, v;
	unsigned char	 seek[STORE_KEY_MAX + 17];
	const unsigned char *p;
	size_t		 prefix, count = 0;
	uint64_t	 when;
	int		 rc, which;
	MDB_cursor_op	 op;

	*more = 0;
	if (before == 0)
		before = UINT64_MAX;
	/* Position the cursor just past the newest candidate, then walk
	 * backwards while the key keeps the prefix. */
	if (rid != 0) {
		which = DB_VERSIONS;
		be64_put(seek, rid);
		be32_put(seek + 8, UINT32_MAX);
		prefix = 8;
		k.mv_size = 12;
	} else if (type != NULL) {
		if (type_len > STORE_KEY_MAX)
			return EMBER_EINVAL;
		which = DB_TYPEHIST;
		memcpy(seek, type, type_len);
		seek[type_len] = '\0';
		be64_put(seek + type_len + 1, before);
		be64_put(seek + type_len + 9, 0);
		prefix = type_len + 1;
		k.mv_size = type_len + 17;
	} else {
		which = DB_HISTORY;
		be64_put(seek, before);
		be64_put(seek + 8, 0);
		prefix = 0;
		k.mv_size = 16;
	}
	k.mv_data = seek;
	if ((rc = mdb_cursor_open(t->t_txn, dbi[which], &cur)))
		return store_lmdb_err(rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	op = rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV;
	rc = mdb_cursor_get(cur, &k, &v, op);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		p = k.mv_data;
		if (k.mv_size < prefix || memcmp(p, seek, prefix) != 0)
			break;
		if (which == DB_VERSIONS) {
			if (v.mv_size < VER_HDR)
				break;
			when = be64_get(v.mv_data);
			if (when >= before)
				continue;
		} else {
			if (k.mv_size != prefix + 16 || v.mv_size != 4)
				break;
			when = be64_get(p + prefix);
			if (when >= before)
				continue;
		}
		if (since && when < since)
			break;
		if (count == max) {
			*more = 1;
			break;
		}
		items[count].shi_last_updated = when;
		if (which == DB_VERSIONS) {
			items[count].shi_rid = rid;
			items[count].shi_version = be32_get(p + 8);
		} else {
			items[count].shi_rid = be64_get(p + prefix + 8);
			items[count].shi_version = be32_get(v.mv_data);
		}
		count++;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_lmdb_err(rc);
	*n = count;
	return EMBER_OK;
}

static int
store_count_one(void *arg, const struct store_row *row)
{
	(void)row;
	(*(uint64_t *)arg)++;
	return 0;
}

int
store_count(struct store_txn *t, const char *type, size_t type_len,
    uint64_t *out)
{
	uint64_t	n = 0;
	int		rc;

	if ((rc = store_each(t, type, type_len, store_count_one, &n)))
		return rc;
	*out = n;
	return EMBER_OK;
}

int
store_each(struct store_txn *t, const char *type, size_t type_len,
    int (*fn)(void *, const struct store_row *), void *arg)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	struct store_row row;
	char		 prefix[STORE_KEY_MAX];
	int		 rc, stop = 0, by_type = type != NULL;

	if (by_type) {
		if (type_len + 1 >= STORE_KEY_MAX)
			return EMBER_EINVAL;
		memcpy(prefix, type, type_len);
		prefix[type_len++] = '/';
	}
	if ((rc = mdb_cursor_open(t->t_txn,
	    t->t_store->s_dbi[by_type ? DB_IDS : DB_ROWS], &cur)))
		return store_lmdb_err(rc);
	k.mv_data = prefix;
	k.mv_size = type_len;
	rc = by_type ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (by_type) {
			if (k.mv_size < type_len ||
			    memcmp(k.mv_data, prefix, type_len) != 0)
				break;
			if (v.mv_size != 8 ||
			    store_row(t, be64_get(v.mv_data), &row)) {
				stop = EMBER_ESTORE;
				break;
			}
		} else if (k.mv_size != 8 ||
		    store_decode_row(be64_get(k.mv_data), &v, &row)) {
			stop = EMBER_ESTORE;
			break;
		}
		if (row.sr_deleted)
			continue;
		if ((stop = fn(arg, &row)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? EMBER_OK : store_lmdb_err(rc);
}

int
store_stats(struct store_txn *t, struct store_stats *out)
{
	MDB_stat	st;
	MDB_envinfo	info;
	int		rc, i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < DB__COUNT; i++) {
		if ((rc = mdb_stat(t->t_txn, t->t_store->s_dbi[i], &st)))
			return store_lmdb_err(rc);
		out->ss_pages += st.ms_branch_pages + st.ms_leaf_pages +
		    st.ms_overflow_pages;
		out->ss_page_size = st.ms_psize;
		if (i == DB_IDS)
			out->ss_resources = st.ms_entries;
		else if (i == DB_VERSIONS)
			out->ss_versions = st.ms_entries;
		else if (i == DB_HISTORY)
			out->ss_history = st.ms_entries;
		else if (i == DB_POSTINGS)
			out->ss_postings = st.ms_entries;
		else if (i == DB_RECENT)
			out->ss_recent = st.ms_entries;
	}
	if ((rc = mdb_env_info(t->t_store->s_env, &info)))
		return store_lmdb_err(rc);
	out->ss_map_size = info.me_mapsize;
	return EMBER_OK;
}

int
store_backup(struct store *s, const char *dst)
{
	return store_lmdb_err(mdb_env_copy2(s->s_env, dst, MDB_CP_COMPACT));
}

static void
store_problem(void (*report)(void *, const char *), void *arg,
    uint64_t *problems, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
store_problem(void (*report)(void *, const char *), void *arg,
    uint64_t *problems, const char *fmt, ...)
{
	char	line[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	(*problems)++;
	report(arg, line);
}

/*
 * Every key an owned list names is a posting of that rid, only current
 * resources own postings, and no posting is owned by nobody.
 */
static int
store_check_postings(struct store_txn *t,
    void (*report)(void *, const char *), void *arg, uint64_t *problems)
{
	MDB_dbi			*dbi = t->t_store->s_dbi;
	MDB_cursor		*cur, *pcur = NULL, *rcur = NULL;
	MDB_val			 k, v, pk, pv;
	struct store_row	 row;
	struct buf		 lz = BUF_INIT;
	const unsigned char	*p;
	const void		*list;
	unsigned char		 rk[4];
	uint64_t		 rid, owned = 0;
	size_t			 len, n;
	MDB_stat		 st;
	int			 rc;

	if ((rc = mdb_cursor_open(t->t_txn, dbi[DB_OWNED], &cur)))
		return store_lmdb_err(rc);
	if ((rc = mdb_cursor_open(t->t_txn, dbi[DB_POSTINGS], &pcur)) ||
	    (rc = mdb_cursor_open(t->t_txn, dbi[DB_RECENT], &rcur))) {
		mdb_cursor_close(pcur);
		mdb_cursor_close(cur);
		return store_lmdb_err(rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			continue;
		rid = be64_get(k.mv_data);
		if (store_row(t, rid, &row) || row.sr_deleted)
			store_problem(report, arg, problems, "rid %llu owns "
			    "postings but is not a current resource",
			    (unsigned long long)rid);
		if (store_owned_read(&v, &lz, &list, &len)) {
			store_problem(report, arg, problems, "rid %llu: "
			    "malformed owned list", (unsigned long long)rid);
			continue;
		}
		be32_put(rk, (uint32_t)rid);
		for (p = list; len >= 2; p += 2 + n, len -= 2 + n) {
			n = ((size_t)p[0] << 8) | p[1];
			if (n > len - 2 || n > STORE_POSTING_MAX) {
				store_problem(report, arg, problems, "rid %llu: "
				    "malformed owned list",
				    (unsigned long long)rid);
				break;
			}
			pk.mv_data = (void *)(uintptr_t)(p + 2);
			pk.mv_size = n;
			pv.mv_data = rk;
			pv.mv_size = 4;
			if (mdb_cursor_get(pcur, &pk, &pv, MDB_GET_BOTH) != 0 &&
			    mdb_cursor_get(rcur, &pk, &pv, MDB_GET_BOTH) != 0)
				store_problem(report, arg, problems, "rid %llu: "
				    "an owned posting is missing",
				    (unsigned long long)rid);
			owned++;
		}
	}
	mdb_cursor_close(rcur);
	mdb_cursor_close(pcur);
	mdb_cursor_close(cur);
	buf_free(&lz);
	if (rc != MDB_NOTFOUND)
		return store_lmdb_err(rc);
	if ((rc = mdb_stat(t->t_txn, dbi[DB_POSTINGS], &st)))
		return store_lmdb_err(rc);
	/* Owned lists name each key once, and each posting is in one
	 * tree, so the counts agree exactly. */
	if (st.ms_entries + store_recent_count(t) != owned)
		store_problem(report, arg, problems, "%llu postings, %llu "
		    "owned", (unsigned long long)(st.ms_entries +
		    store_recent_count(t)), (unsigned long long)owned);
	return EMBER_OK;
}

int
store_check(struct store_txn *t, void (*report)(void *, const char *),
    void *arg, uint64_t *problems)
{
	MDB_dbi		*dbi = t->t_store->s_dbi;
	MDB_cursor	*cur;
	MDB_val		 k, v, hv;
	struct store_row row;
	struct store_version ver;
	unsigned char	 hk[16];
	uint64_t	 rid, nids = 0, nrows = 0, nhist = 0, nversions = 0;
	uint32_t	 vid;
	MDB_stat	 st;
	int		 rc;

	*problems = 0;
	/* ids -> rows, and the row names the same resource */
	if ((rc = mdb_cursor_open(t->t_txn, dbi[DB_IDS], &cur)))
		return store_lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		nids++;
		if (v.mv_size != 8) {
			store_problem(report, arg, problems,
			    "id %.*s: bad rid size", (int)k.mv_size,
			    (const char *)k.mv_data);
			continue;
		}
		rid = be64_get(v.mv_data);
		if (store_row(t, rid, &row)) {
			store_problem(report, arg, problems,
			    "id %.*s: no current row for rid %llu",
			    (int)k.mv_size, (const char *)k.mv_data,
			    (unsigned long long)rid);
			continue;
		}
		if (row.sr_key_len != k.mv_size ||
		    memcmp(row.sr_key, k.mv_data, k.mv_size) != 0)
			store_problem(report, arg, problems,
			    "id %.*s: row %llu names %.*s", (int)k.mv_size,
			    (const char *)k.mv_data, (unsigned long long)rid,
			    (int)row.sr_key_len, row.sr_key);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return store_lmdb_err(rc);

	/* rows -> versions 1..n, each with its history row */
	if ((rc = mdb_cursor_open(t->t_txn, dbi[DB_ROWS], &cur)))
		return store_lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		nrows++;
		if (k.mv_size != 8 ||
		    store_decode_row(be64_get(k.mv_data), &v, &row)) {
			store_problem(report, arg, problems, "row: bad record");
			continue;
		}
		for (vid = 1; vid <= row.sr_version; vid++) {
			if (store_version(t, row.sr_rid, vid, &ver)) {
				store_problem(report, arg, problems,
				    "%.*s: version %u missing",
				    (int)row.sr_key_len, row.sr_key, vid);
				continue;
			}
			nversions++;
			if (vid == row.sr_version &&
			    (ver.sv_deleted != row.sr_deleted ||
			    ver.sv_last_updated != row.sr_last_updated))
				store_problem(report, arg, problems,
				    "%.*s: current row disagrees with "
				    "version %u", (int)row.sr_key_len,
				    row.sr_key, vid);
			if (!ver.sv_deleted && ver.sv_json_len == 0)
				store_problem(report, arg, problems,
				    "%.*s: version %u has no content",
				    (int)row.sr_key_len, row.sr_key, vid);
			be64_put(hk, ver.sv_last_updated);
			be64_put(hk + 8, row.sr_rid);
			k.mv_data = hk;
			k.mv_size = 16;
			if (mdb_get(t->t_txn, dbi[DB_HISTORY], &k, &hv) != 0 ||
			    hv.mv_size != 4 || be32_get(hv.mv_data) != vid)
				store_problem(report, arg, problems,
				    "%.*s: version %u has no history row",
				    (int)row.sr_key_len, row.sr_key, vid);
			nhist++;
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return store_lmdb_err(rc);
	if (nids != nrows)
		store_problem(report, arg, problems,
		    "%llu ids but %llu rows", (unsigned long long)nids,
		    (unsigned long long)nrows);
	if ((rc = mdb_stat(t->t_txn, dbi[DB_VERSIONS], &st)))
		return store_lmdb_err(rc);
	if (st.ms_entries != nversions)
		store_problem(report, arg, problems,
		    "%llu stored versions, %llu reachable from rows",
		    (unsigned long long)st.ms_entries,
		    (unsigned long long)nversions);
	if ((rc = mdb_stat(t->t_txn, dbi[DB_HISTORY], &st)))
		return store_lmdb_err(rc);
	if (st.ms_entries != nhist)
		store_problem(report, arg, problems,
		    "%llu history rows, %llu versions",
		    (unsigned long long)st.ms_entries,
		    (unsigned long long)nhist);
	if ((rc = mdb_stat(t->t_txn, dbi[DB_TYPEHIST], &st)))
		return store_lmdb_err(rc);
	if (st.ms_entries != nhist)
		store_problem(report, arg, problems,
		    "%llu type-history rows, %llu versions",
		    (unsigned long long)st.ms_entries,
		    (unsigned long long)nhist);
	return store_check_postings(t, report, arg, problems);
}
