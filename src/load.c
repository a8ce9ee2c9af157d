/*
 * load.c: bulk loading; see load.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "bundle.h"
#include "crud.h"
#include "error.h"
#include "index.h"
#include "json.h"
#include "load.h"
#include "rest.h"
#include "server.h"
#include "store.h"
#include "tables.h"

/*
 * What a bulk commit holds at most: every load is one bulk transaction
 * (store.h), committed when it holds this many resources or was given
 * this many bytes of JSON, and at the end.  It bounds the memory of the
 * transaction's pages (about 2 KB a Synthea resource; well under LMDB's
 * 512 MiB of dirty pages at either bound, and under the GiB of free map
 * that lets nested commits leave their postings to the bulk transaction:
 * store.h) and how long the load keeps the server's writes waiting.
 */
#define LOAD_BULK_MAX		100000
#define LOAD_BULK_BYTES		((uint64_t)256 << 20)

struct load {
	struct server		*ld_srv;
	struct server_version	*ld_sv;
	struct store_txn	*ld_txn;
	unsigned		 ld_depth;
	unsigned		 ld_batch;
	unsigned		 ld_pending;	/* resources in ld_txn */
	uint64_t		 ld_bulk;	/* resources in the bulk commit */
	uint64_t		 ld_bytes;	/* bytes of JSON read for it */
	struct load_stats	*ld_st;
	load_progress_fn	 ld_progress;
	void			*ld_arg;
	char			*ld_err;
	size_t			 ld_errsz;
};

/* Commit the bulk transaction (durably); with again, begin the next. */
static int
load_bulk_commit(struct load *ld, int again)
{
	struct store	*s = ld->ld_sv->svv_store;
	int		 rc;

	if ((rc = store_bulk_commit(s)) == EMBER_OK) {
		ld->ld_st->ls_commits++;
		ld->ld_bulk = 0;
		ld->ld_bytes = 0;
		if (again)
			rc = store_bulk_begin(s);
	}
	if (rc)
		snprintf(ld->ld_err, ld->ld_errsz, "commit failed: %s",
		    ember_strerror(rc));
	return rc;
}

/* n resources more are in the bulk transaction: report, maybe commit. */
static int
load_done(struct load *ld, uint64_t n)
{
	ld->ld_st->ls_resources += n;
	ld->ld_bulk += n;
	if (ld->ld_progress)
		ld->ld_progress(ld->ld_arg, ld->ld_st);
	return ld->ld_bulk >= LOAD_BULK_MAX || ld->ld_bytes >= LOAD_BULK_BYTES ?
	    load_bulk_commit(ld, 1) : EMBER_OK;
}

/* Commit the pending batch of resources into the bulk transaction. */
static int
load_commit(struct load *ld)
{
	unsigned	n = ld->ld_pending;
	int		rc;

	if (ld->ld_txn == NULL)
		return EMBER_OK;
	rc = store_txn_commit(ld->ld_txn);
	ld->ld_txn = NULL;
	ld->ld_pending = 0;
	if (rc) {
		snprintf(ld->ld_err, ld->ld_errsz, "commit failed: %s",
		    ember_strerror(rc));
		return rc;
	}
	return load_done(ld, n);
}

/* Store one resource tree (consumed by the caller afterwards). */
static int
load_resource(struct load *ld, cJSON *res, const char *where)
{
	struct tables	*tb = ld->ld_sv->svv_tables;
	const char	*type, *id;
	char		 msg[256];
	unsigned	 ti;
	int		 rc;

	type = json_string(res, "resourceType");
	if (type == NULL ||
	    tables_resource_lookup(tb, type, strlen(type), &ti)) {
		snprintf(ld->ld_err, ld->ld_errsz, "%s: unknown or missing "
		    "resourceType \"%s\" for FHIR %s", where,
		    type ? type : "", ld->ld_sv->svv_desc->vd_name);
		return EMBER_EINVAL;
	}
	/* Bulk data is stored as given: structure is checked, the type
	 * model is not (Synthea's STU3 and DSTU2 sets break it in places);
	 * the server checks every write it receives. */
	if ((rc = crud_check_resource(NULL, res, type, msg, sizeof(msg)))) {
		snprintf(ld->ld_err, ld->ld_errsz, "%s: %s", where, msg);
		return rc;
	}
	id = json_string(res, "id");
	if (id == NULL || !rest_valid_id(id, strlen(id))) {
		snprintf(ld->ld_err, ld->ld_errsz, "%s: %s needs a valid id",
		    where, type);
		return EMBER_EINVAL;
	}
	if (ld->ld_txn == NULL &&
	    (rc = store_txn_begin(ld->ld_sv->svv_store, 1, &ld->ld_txn))) {
		snprintf(ld->ld_err, ld->ld_errsz, "cannot begin a write: %s",
		    ember_strerror(rc));
		return rc;
	}
	/* crud_put rewrites the tree; keep the id it was stored under. */
	snprintf(msg, sizeof(msg), "%s", id);
	if ((rc = crud_put(tb, ld->ld_txn, type, strlen(type), msg, strlen(msg),
	    res, STORE_PUT, NULL, NULL))) {
		snprintf(ld->ld_err, ld->ld_errsz, "%s: cannot store %s/%s: %s",
		    where, type, msg, ember_strerror(rc));
		return rc;
	}
	if (++ld->ld_pending >= ld->ld_batch)
		return load_commit(ld);
	return EMBER_OK;
}

/*
 * A transaction or batch Bundle, exactly as POST [base] runs it.  What
 * is pending is committed first, so the store sees files in order.
 */
static int
load_bundle(struct load *ld, cJSON *doc, const char *where)
{
	const struct conf	*c = &ld->ld_srv->srv_conf;
	struct bundle_tally	 tally;
	struct buf		 out = BUF_INIT;
	cJSON			*oo = NULL;
	const char		*diag;
	int			 rc, status;

	if ((rc = load_commit(ld)))
		return rc;
	if ((rc = bundle_run(ld->ld_srv, ld->ld_sv, c->cf_base_url, doc,
	    BUNDLE_RETURN_MINIMAL, &out, &status, &tally)))
		goto done;
	if (status != 200) {
		oo = cJSON_ParseWithLength(out.data, out.len);
		diag = json_string(cJSON_GetArrayItem(
		    json_get(oo, "issue"), 0),
		    "diagnostics");
		snprintf(ld->ld_err, ld->ld_errsz, "%s: HTTP %d: %s", where,
		    status, diag ? diag : "");
		rc = EMBER_EINVAL;
		goto done;
	}
	/* What was written counts; a batch entry that failed is reported. */
	if (tally.bt_failed >= 0) {
		snprintf(ld->ld_err, ld->ld_errsz, "%s: entry %ld: HTTP %d",
		    where, tally.bt_failed, tally.bt_status);
		rc = EMBER_EINVAL;
		goto done;
	}
	rc = load_done(ld, tally.bt_written);
done:
	cJSON_Delete(oo);
	buf_free(&out);
	return rc;
}

/* One parsed JSON document: a resource or a collection Bundle. */
static int
load_document(struct load *ld, cJSON *doc, const char *where)
{
	const char	*rt = json_string(doc, "resourceType");
	const char	*type;
	cJSON		*entry, *res;
	char		 at[1100];
	int		 rc, i = 0;

	if (rt == NULL || strcmp(rt, "Bundle") != 0)
		return load_resource(ld, doc, where);
	type = json_string(doc, "type");
	if (type != NULL && (strcmp(type, "transaction") == 0 ||
	    strcmp(type, "batch") == 0))
		return load_bundle(ld, doc, where);
	/* Any other Bundle but a collection is a resource of its own. */
	if (type == NULL || strcmp(type, "collection") != 0)
		return load_resource(ld, doc, where);
	/* Its entries refer to each other by fullUrl: make that Type/id. */
	if ((rc = bundle_resolve_collection(ld->ld_sv, doc, at, sizeof(at)))) {
		snprintf(ld->ld_err, ld->ld_errsz, "%s: %s", where, at);
		return rc;
	}
	cJSON_ArrayForEach(entry, json_get(doc, "entry")) {
		res = json_get(entry, "resource");
		snprintf(at, sizeof(at), "%s: entry %d", where, i++);
		if (!cJSON_IsObject(res)) {
			snprintf(ld->ld_err, ld->ld_errsz, "%s: no resource",
			    at);
			return EMBER_EINVAL;
		}
		if ((rc = load_resource(ld, res, at)))
			return rc;
	}
	return EMBER_OK;
}

/*
 * A file read, and parsed unless it is NDJSON, on a thread of its own
 * (load_file()).
 */
struct load_read {
	const char		*lr_path;	/* "-" for standard input */
	const char		*lr_name;	/* for messages */
	unsigned		 lr_depth;
	int			 lr_rc;
	char			 lr_err[1200];	/* why it failed */
	struct buf		 lr_text;	/* kept for NDJSON only */
	size_t			 lr_len;	/* bytes read */
	struct json_arena	*lr_arena;	/* lr_doc's */
	cJSON			*lr_doc;
};

/* Does name end with suffix (and hold more than it)? */
static int
load_ends_with(const char *name, const char *suffix)
{
	size_t	len = strlen(name), n = strlen(suffix);

	return len > n && strcmp(name + len - n, suffix) == 0;
}

static void *
load_read(void *arg)
{
	struct load_read	*lr = arg;
	char			 chunk[65536], msg[256];
	FILE			*f;
	size_t			 n;

	if (strcmp(lr->lr_path, "-") == 0)
		f = stdin;
	else if ((f = fopen(lr->lr_path, "rb")) == NULL) {
		snprintf(lr->lr_err, sizeof(lr->lr_err), "%s: %s",
		    lr->lr_path, strerror(errno));
		lr->lr_rc = EMBER_EIO;
		return NULL;
	}
	while (lr->lr_rc == EMBER_OK &&
	    (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		lr->lr_rc = buf_append(&lr->lr_text, chunk, n);
	if (lr->lr_rc == EMBER_OK && ferror(f))
		lr->lr_rc = EMBER_EIO;
	if (f != stdin)
		fclose(f);
	lr->lr_len = lr->lr_text.len;
	if (lr->lr_rc) {
		snprintf(lr->lr_err, sizeof(lr->lr_err), "%s: read error",
		    lr->lr_path);
		return NULL;
	}
	if (load_ends_with(lr->lr_name, ".ndjson"))
		return NULL;
	/* A document may be a Bundle of many MB: its tree goes into an
	 * arena, freed at once. */
	if ((lr->lr_arena = json_arena_new()) == NULL) {
		snprintf(lr->lr_err, sizeof(lr->lr_err), "%s: out of memory",
		    lr->lr_name);
		lr->lr_rc = EMBER_ENOMEM;
		return NULL;
	}
	json_arena_use(lr->lr_arena);
	if ((lr->lr_rc = json_parse_arena(lr->lr_arena, lr->lr_text.data ?
	    lr->lr_text.data : "", lr->lr_len, lr->lr_depth, &lr->lr_doc, msg,
	    sizeof(msg))))
		snprintf(lr->lr_err, sizeof(lr->lr_err), "%s: %s",
		    lr->lr_name, msg);
	json_arena_use(NULL);
	buf_free(&lr->lr_text);
	return NULL;
}

/* The NDJSON text of lr, a resource a line. */
static int
load_ndjson(struct load *ld, const struct load_read *lr)
{
	const char	*text = lr->lr_text.data ? lr->lr_text.data : "";
	const char	*p, *end = text + lr->lr_text.len, *nl;
	char		 where[1100], msg[256];
	cJSON		*doc = NULL;
	int		 rc, line = 0;

	for (p = text; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p || (nl - p == 1 && *p == '\r'))
			continue;
		snprintf(where, sizeof(where), "%s:%d", lr->lr_name, line);
		ld->ld_bytes += (uint64_t)(nl - p);
		if ((rc = json_parse(p, (size_t)(nl - p), ld->ld_depth, &doc,
		    msg, sizeof(msg)))) {
			snprintf(ld->ld_err, ld->ld_errsz, "%s: %s", where,
			    msg);
			return rc;
		}
		rc = load_resource(ld, doc, where);
		cJSON_Delete(doc);
		if (rc)
			return rc;
	}
	return EMBER_OK;
}

/*
 * Load one file.  It is read and parsed on a thread of its own while
 * this one puts the postings the Bundles before it left to the bulk
 * transaction (store_bulk_flush()), which it would otherwise do when
 * the file's first transaction begins: the two need nothing of each
 * other, and the second core had nothing to do then.
 */
static int
load_file(struct load *ld, const char *path)
{
	struct load_read	lr;
	pthread_t		th;
	int			rc, frc = EMBER_OK, started;

	memset(&lr, 0, sizeof(lr));
	lr.lr_path = path;
	lr.lr_name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	lr.lr_depth = ld->ld_depth;
	started = pthread_create(&th, NULL, load_read, &lr) == 0;
	if (ld->ld_txn == NULL)
		frc = store_bulk_flush(ld->ld_sv->svv_store);
	if (started)
		pthread_join(th, NULL);
	else
		load_read(&lr);
	if (frc) {
		snprintf(ld->ld_err, ld->ld_errsz, "cannot store postings: %s",
		    ember_strerror(frc));
		rc = frc;
	} else if ((rc = lr.lr_rc))
		snprintf(ld->ld_err, ld->ld_errsz, "%s", lr.lr_err);
	else {
		ld->ld_st->ls_files++;
		if (lr.lr_doc == NULL)
			rc = load_ndjson(ld, &lr);
		else {
			ld->ld_bytes += lr.lr_len;
			json_arena_use(lr.lr_arena);
			rc = load_document(ld, lr.lr_doc, lr.lr_name);
		}
	}
	json_arena_use(lr.lr_arena);
	cJSON_Delete(lr.lr_doc);
	json_arena_free(lr.lr_arena);
	buf_free(&lr.lr_text);
	return rc;
}

static int
load_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
load_walk(struct load *ld, const char *path, int depth)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	char		**names = NULL, **grown, child[4096];
	size_t		 n = 0, cap = 0, i;
	int		 rc = EMBER_OK;

	if (strcmp(path, "-") == 0)
		return load_file(ld, path);
	if (stat(path, &st) != 0) {
		snprintf(ld->ld_err, ld->ld_errsz, "%s: %s", path,
		    strerror(errno));
		return EMBER_EIO;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(ld, path);
	if (depth > 16 || (d = opendir(path)) == NULL) {
		snprintf(ld->ld_err, ld->ld_errsz, "%s: cannot read folder",
		    path);
		return EMBER_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(names, cap * sizeof(*names))) ==
			    NULL) {
				rc = EMBER_ENOMEM;
				break;
			}
			names = grown;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = EMBER_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == EMBER_OK && n > 0)
		qsort(names, n, sizeof(*names), load_name_cmp);
	for (i = 0; rc == EMBER_OK && i < n; i++) {
		if (snprintf(child, sizeof(child), "%s/%s", path, names[i]) >=
		    (int)sizeof(child)) {
			rc = EMBER_EIO;
			break;
		}
		if (stat(child, &st) == 0 && S_ISDIR(st.st_mode))
			rc = load_walk(ld, child, depth + 1);
		else if (load_ends_with(names[i], ".json") ||
		    load_ends_with(names[i], ".ndjson"))
			rc = load_file(ld, child);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int
load_paths(struct server *srv, struct server_version *sv,
    char *const paths[], int npaths, unsigned max_depth, unsigned batch,
    struct load_stats *st, load_progress_fn progress, void *arg, char *err,
    size_t errsz)
{
	struct load	ld;
	int		rc, i;

	memset(&ld, 0, sizeof(ld));
	ld.ld_srv = srv;
	ld.ld_sv = sv;
	ld.ld_depth = max_depth;
	ld.ld_batch = batch ? batch : 1000;
	ld.ld_st = st;
	ld.ld_progress = progress;
	ld.ld_arg = arg;
	ld.ld_err = err;
	ld.ld_errsz = errsz;
	if ((rc = store_bulk_begin(sv->svv_store))) {
		snprintf(err, errsz, "cannot begin a write: %s",
		    ember_strerror(rc));
		return rc;
	}
	for (i = 0, rc = EMBER_OK; rc == EMBER_OK && i < npaths; i++)
		rc = load_walk(&ld, paths[i], 0);
	if (rc == EMBER_OK)
		rc = load_commit(&ld);
	else
		store_txn_abort(ld.ld_txn);
	/* What was stored before a failure stays, as it would have had
	 * each file been committed on its own; the failure is reported. */
	if (rc == EMBER_OK)
		return load_bulk_commit(&ld, 0);
	if (store_bulk_commit(sv->svv_store) == EMBER_OK)
		st->ls_commits++;
	else
		st->ls_resources -= ld.ld_bulk;
	return rc;
}

static int
load_collect_rid(void *arg, const struct store_row *row)
{
	uint64_t	**ids = arg;
	size_t		 n = (size_t)(*ids)[0];
	uint64_t	*grown;

	/* ids[0] holds the count; the array grows in powers of two. */
	if ((n & (n + 1)) == 0 && n + 1 >= 64) {
		if ((grown = realloc(*ids, (n + 1) * 2 * sizeof(**ids))) ==
		    NULL)
			return EMBER_ENOMEM;
		*ids = grown;
	}
	(*ids)[n + 1] = row->sr_rid;
	(*ids)[0] = n + 1;
	return 0;
}

int
load_reindex(struct server_version *sv, unsigned batch, uint64_t *count)
{
	struct store_txn	*t = NULL;
	struct store_row	 row;
	struct store_version	 ver;
	struct buf		 keys = BUF_INIT;
	const char		*slash;
	uint64_t		*ids;
	cJSON			*res;
	unsigned		 ri;
	size_t			 i, n;
	int			 rc;

	if ((ids = calloc(64, sizeof(*ids))) == NULL)
		return EMBER_ENOMEM;
	if ((rc = store_txn_begin(sv->svv_store, 0, &t)) == EMBER_OK)
		rc = store_each(t, NULL, 0, load_collect_rid, &ids);
	store_txn_abort(t);
	t = NULL;
	n = rc ? 0 : (size_t)ids[0];
	for (i = 0; rc == EMBER_OK && i < n; i++) {
		if (t == NULL && (rc = store_txn_begin(sv->svv_store, 1, &t)))
			break;
		if ((rc = store_row(t, ids[i + 1], &row)) ||
		    (rc = store_version(t, row.sr_rid, row.sr_version, &ver)))
			break;
		buf_reset(&keys);
		if (!ver.sv_deleted) {
			slash = memchr(row.sr_key, '/', row.sr_key_len);
			res = cJSON_ParseWithLength(ver.sv_json, ver.sv_json_len);
			if (res == NULL || slash == NULL ||
			    tables_resource_lookup(sv->svv_tables, row.sr_key,
			    (size_t)(slash - row.sr_key), &ri))
				rc = EMBER_ESTORE;
			else
				rc = index_keys(sv->svv_tables, ri, res, &keys);
			cJSON_Delete(res);
			if (rc)
				break;
		}
		if ((rc = store_postings_replace(t, row.sr_rid, keys.data,
		    keys.len)))
			break;
		if ((i + 1) % (batch ? batch : 1000) == 0) {
			rc = store_txn_commit(t);
			t = NULL;
		}
	}
	if (rc == EMBER_OK && t != NULL) {
		rc = store_txn_commit(t);
		t = NULL;
	}
	store_txn_abort(t);
	buf_free(&keys);
	free(ids);
	if (rc == EMBER_OK)
		*count = n;
	return rc;
}
