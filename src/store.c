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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <lmdb.h>

#include "be.h"
#include "error.h"
#include "store.h"

#define STORE_FORMAT	2		/* on-disk layout version: 2 has
					   hashed parameter prefixes */
#define STORE_KEY_MAX	200		/* "Type/id": type <= 64, id <= 64 */

#define ROW_HDR		16		/* version 4, flags 4, lastUpdated 8 */
#define VER_HDR		12		/* lastUpdated 8, flags 4 */
#define FLAG_DELETED	0x1u
#define FLAG_METHOD(f)	(((f) >> 8) & 0xffu)

enum store_dbi {
	DB_IDS, DB_ROWS, DB_VERSIONS, DB_HISTORY, DB_TYPEHIST,
	DB_POSTINGS, DB_OWNED, DB_META, DB__COUNT
};

static const char *const store_db_names[DB__COUNT] = {
	"ids", "rows", "versions", "history", "typehist",
	"postings", "owned", "meta"
};

struct store {
	MDB_env		*s_env;
	MDB_dbi		 s_dbi[DB__COUNT];
	int		 s_readonly;
};

struct store_txn {
	struct store	*t_store;
	MDB_txn		*t_txn;
	int		 t_write;
	int		 t_borrowed;	/* store_txn_borrow(): not ours to end */
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
	s->s_readonly = opts->so_readonly;
	if (!opts->so_durable)
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
	for (i = 0; i < DB__COUNT; i++)
		if ((rc = mdb_dbi_open(txn, store_db_names[i],
		    opts->so_readonly ? 0 : MDB_CREATE, &s->s_dbi[i])))
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
		free(s);
		return EMBER_ESTORE;
	}
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
	free(s);
	return rc == ENOENT || rc == EACCES ? EMBER_EIO : store_lmdb_err(rc);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	mdb_env_close(s->s_env);
	free(s);
}

int
store_txn_begin(struct store *s, int write, struct store_txn **out)
{
	struct store_txn	*t;
	int			 rc;

	if (write && s->s_readonly)
		return EMBER_ESTORE;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EMBER_ENOMEM;
	t->t_store = s;
	t->t_write = write;
	if ((rc = mdb_txn_begin(s->s_env, NULL, write ? 0 : MDB_RDONLY,
	    &t->t_txn))) {
		free(t);
		return store_lmdb_err(rc);
	}
	*out = t;
	return EMBER_OK;
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
	*out = t;
	return EMBER_OK;
}

int
store_txn_commit(struct store_txn *t)
{
	int rc = t->t_borrowed ? 0 : mdb_txn_commit(t->t_txn);

	free(t);
	return store_lmdb_err(rc);
}

void
store_txn_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	if (!t->t_borrowed)
		mdb_txn_abort(t->t_txn);
	free(t);
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

int
store_current(struct store_txn *t, const char *type, size_t type_len,
    const char *id, size_t id_len, struct store_row *out)
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
	return store_row(t, be64_get(v.mv_data), out);
}

int
store_version(struct store_txn *t, uint64_t rid, uint32_t vid,
    struct store_version *out)
{
	unsigned char		 vk[12];
	const unsigned char	*p;
	MDB_val			 k, v;
	uint32_t		 flags;
	int			 rc;

	be64_put(vk, rid);
	be32_put(vk + 8, vid);
	k.mv_data = vk;
	k.mv_size = 12;
	if ((rc = mdb_get(t->t_txn, t->t_store->s_dbi[DB_VERSIONS], &k, &v)))
		return store_lmdb_err(rc);
	if (v.mv_size < VER_HDR)
		return EMBER_ESTORE;
	p = v.mv_data;
	flags = be32_get(p + 8);
	out->sv_version = vid;
	out->sv_last_updated = be64_get(p);
	out->sv_deleted = (flags & FLAG_DELETED) != 0;
	out->sv_method = (int)FLAG_METHOD(flags);
	out->sv_json = (const char *)p + VER_HDR;
	out->sv_json_len = v.mv_size - VER_HDR;
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
store_clock(struct store_txn *t, uint64_t *out)
{
	struct timeval	tv;
	uint64_t	last, now;
	int		rc;

	if (!t->t_write)
		return EMBER_EINTERNAL;
	if ((rc = store_meta_get(t, "clock", &last)))
		return rc;
	gettimeofday(&tv, NULL);
	now = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	if (now <= last)
		now = last + 1;
	if ((rc = store_meta_put(t, "clock", now)))
		return rc;
	*out = now;
	return EMBER_OK;
}

int
store_write(struct store_txn *t, const struct store_write *w,
    struct store_row *out)
{
	MDB_dbi		*dbi = t->t_store->s_dbi;
	char		 key[STORE_KEY_MAX];
	unsigned char	 rk[8], vk[12], hk[16], tk[STORE_KEY_MAX + 17], vb[4];
	unsigned char	*val = NULL;
	struct store_row row;
	MDB_val		 k, v;
	uint64_t	 rid;
	uint32_t	 flags;
	size_t		 klen, vlen;
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

	/* versions: rid, vid -> lastUpdated, flags, JSON */
	be64_put(vk, rid);
	be32_put(vk + 8, w->sw_version);
	k.mv_data = vk;
	k.mv_size = 12;
	vlen = VER_HDR + w->sw_json_len;
	v.mv_size = vlen;
	if ((rc = mdb_put(t->t_txn, dbi[DB_VERSIONS], &k, &v, MDB_RESERVE |
	    MDB_NOOVERWRITE)))
		return rc == MDB_KEYEXIST ? EMBER_ECONFLICT : store_lmdb_err(rc);
	val = v.mv_data;
	be64_put(val, w->sw_last_updated);
	be32_put(val + 8, flags);
	if (w->sw_json_len)
		memcpy(val + VER_HDR, w->sw_json, w->sw_json_len);

	/* rows: rid -> version, flags, lastUpdated, key */
	be64_put(rk, rid);
	k.mv_data = rk;
	k.mv_size = 8;
	v.mv_size = ROW_HDR + klen;
	if ((rc = mdb_put(t->t_txn, dbi[DB_ROWS], &k, &v, MDB_RESERVE)))
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
	if ((rc = mdb_put(t->t_txn, dbi[DB_HISTORY], &k, &v, 0)))
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

/* Put or delete one posting: key bytes + rid. */
static int
store_posting(struct store_txn *t, const unsigned char *key, size_t len,
    uint64_t rid, int del)
{
	unsigned char	buf[STORE_POSTING_MAX + 8];
	MDB_val		k, v;
	int		rc;

	if (len > STORE_POSTING_MAX)
		return EMBER_OK;
	memcpy(buf, key, len);
	be64_put(buf + len, rid);
	k.mv_data = buf;
	k.mv_size = len + 8;
	v.mv_data = buf;
	v.mv_size = 0;
	if (del) {
		rc = mdb_del(t->t_txn, t->t_store->s_dbi[DB_POSTINGS], &k, NULL);
		return rc == MDB_NOTFOUND ? EMBER_OK : store_lmdb_err(rc);
	}
	return store_lmdb_err(mdb_put(t->t_txn,
	    t->t_store->s_dbi[DB_POSTINGS], &k, &v, 0));
}

/* Walk a blob of length-prefixed keys, applying one posting change. */
static int
store_posting_blob(struct store_txn *t, const unsigned char *p, size_t len,
    uint64_t rid, int del)
{
	size_t	n;
	int	rc;

	while (len >= 2) {
		n = ((size_t)p[0] << 8) | p[1];
		if (n > len - 2)
			return EMBER_ESTORE;
		if ((rc = store_posting(t, p + 2, n, rid, del)))
			return rc;
		p += 2 + n;
		len -= 2 + n;
	}
	return EMBER_OK;
}

int
store_postings_replace(struct store_txn *t, uint64_t rid, const void *keys,
    size_t len)
{
	MDB_dbi		*dbi = t->t_store->s_dbi;
	unsigned char	 rk[8];
	MDB_val		 k, v;
	int		 rc;

	if (!t->t_write)
		return EMBER_EINTERNAL;
	be64_put(rk, rid);
	k.mv_data = rk;
	k.mv_size = 8;
	rc = mdb_get(t->t_txn, dbi[DB_OWNED], &k, &v);
	if (rc == 0) {
		if ((rc = store_posting_blob(t, v.mv_data, v.mv_size, rid, 1)))
			return rc;
		if ((rc = mdb_del(t->t_txn, dbi[DB_OWNED], &k, NULL)))
			return store_lmdb_err(rc);
	} else if (rc != MDB_NOTFOUND)
		return store_lmdb_err(rc);
	if (len == 0)
		return EMBER_OK;
	if ((rc = store_posting_blob(t, keys, len, rid, 0)))
		return rc;
	v.mv_data = (void *)(uintptr_t)keys;
	v.mv_size = len;
	return store_lmdb_err(mdb_put(t->t_txn, dbi[DB_OWNED], &k, &v, 0));
}

int
store_postings_owned(struct store_txn *t, uint64_t rid, const void **keys,
    size_t *len)
{
	MDB_val	v;
	int	rc;

	if ((rc = store_get_rid(t, DB_OWNED, rid, &v)))
		return store_lmdb_err(rc);
	*keys = v.mv_data;
	*len = v.mv_size;
	return EMBER_OK;
}

int
store_postings_scan(struct store_txn *t, const void *lo, size_t lolen,
    const void *hi, size_t hilen,
    int (*fn)(void *, const unsigned char *, size_t, uint64_t), void *arg)
{
	MDB_cursor	*cur;
	MDB_val		 k, v;
	const unsigned char *p;
	size_t		 n, cmp;
	int		 rc, stop = 0, c;

	if ((rc = mdb_cursor_open(t->t_txn, t->t_store->s_dbi[DB_POSTINGS],
	    &cur)))
		return store_lmdb_err(rc);
	k.mv_data = (void *)(uintptr_t)lo;
	k.mv_size = lolen;
	for (rc = lolen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		p = k.mv_data;
		if (k.mv_size < 8)
			continue;
		n = k.mv_size - 8;
		if (hi == NULL) {
			if (n < lolen || memcmp(p, lo, lolen) != 0)
				break;
		} else {
			cmp = n < hilen ? n : hilen;
			c = memcmp(p, hi, cmp);
			if (c > 0 || (c == 0 && n >= hilen))
				break;
		}
		if ((stop = fn(arg, p, n, be64_get(p + n))) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND || rc == 0 ? EMBER_OK : store_lmdb_err(rc);
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
	MDB_cursor		*cur;
	MDB_val			 k, v, pk, pv;
	struct store_row	 row;
	const unsigned char	*p;
	unsigned char		 buf[STORE_POSTING_MAX + 8];
	uint64_t		 rid, owned = 0;
	size_t			 len, n;
	MDB_stat		 st;
	int			 rc;

	if ((rc = mdb_cursor_open(t->t_txn, dbi[DB_OWNED], &cur)))
		return store_lmdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8)
			continue;
		rid = be64_get(k.mv_data);
		if (store_row(t, rid, &row) || row.sr_deleted)
			store_problem(report, arg, problems, "rid %llu owns "
			    "postings but is not a current resource",
			    (unsigned long long)rid);
		for (p = v.mv_data, len = v.mv_size; len >= 2;
		    p += 2 + n, len -= 2 + n) {
			n = ((size_t)p[0] << 8) | p[1];
			if (n > len - 2 || n > STORE_POSTING_MAX) {
				store_problem(report, arg, problems, "rid %llu: "
				    "malformed owned list",
				    (unsigned long long)rid);
				break;
			}
			memcpy(buf, p + 2, n);
			be64_put(buf + n, rid);
			pk.mv_data = buf;
			pk.mv_size = n + 8;
			if (mdb_get(t->t_txn, dbi[DB_POSTINGS], &pk, &pv) != 0)
				store_problem(report, arg, problems, "rid %llu: "
				    "an owned posting is missing",
				    (unsigned long long)rid);
			owned++;
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return store_lmdb_err(rc);
	if ((rc = mdb_stat(t->t_txn, dbi[DB_POSTINGS], &st)))
		return store_lmdb_err(rc);
	/* A resource may have the same value twice (two equal names); the
	 * posting is one key, the owned list names it twice. */
	if (st.ms_entries > owned)
		store_problem(report, arg, problems, "%llu postings, only %llu "
		    "owned", (unsigned long long)st.ms_entries,
		    (unsigned long long)owned);
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
