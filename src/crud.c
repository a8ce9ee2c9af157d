/*
 * crud.c: read, vread, create, update, delete and history, as the
 * specification's http.html describes them for each version; see crud.h.
 *
 * Reads write the stored JSON bytes straight from the LMDB map: the read
 * transaction stays open in the response until the FastCGI layer has
 * written the body (rest_response_free ends it).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cond.h"
#include "crud.h"
#include "date.h"
#include "error.h"
#include "http.h"
#include "index.h"
#include "json.h"
#include "outcome.h"
#include "patch.h"
#include "rest.h"
#include "server.h"
#include "store.h"
#include "summary.h"
#include "tables.h"
#include "xml.h"

#define CRUD_HISTORY_MAX	1000	/* hard ceiling on a history page */

enum crud_return { RETURN_REPRESENTATION, RETURN_MINIMAL, RETURN_OUTCOME };

void
crud_id_at(uint64_t us, const unsigned char rnd[CRUD_ID_RANDOM], char out[23])
{
	/* In ASCII order, so that the ids sort as their times do. */
	static const char digits[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	int i;

	for (i = 22 - CRUD_ID_RANDOM - 1; i >= 0; i--) {
		out[i] = digits[us % 62];
		us /= 62;
	}
	/* The modulo bias (256 % 62 = 8) is immaterial for 77 bits. */
	for (i = 0; i < CRUD_ID_RANDOM; i++)
		out[22 - CRUD_ID_RANDOM + i] = digits[rnd[i] % 62];
	out[22] = '\0';
}

int
crud_new_id(char out[23])
{
	unsigned char	rnd[CRUD_ID_RANDOM];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return EMBER_EIO;
	crud_id_at(date_now(), rnd, out);
	return EMBER_OK;
}

int
crud_check_resource(const struct tables *tb, const cJSON *resource,
    const char *type, char *err, size_t errsz)
{
	const char	*rt;
	const cJSON	*id, *meta;

	if (!cJSON_IsObject(resource)) {
		snprintf(err, errsz, "the body is not a JSON object");
		return EMBER_EINVAL;
	}
	if ((rt = json_string(resource, "resourceType")) == NULL) {
		snprintf(err, errsz, "the resource has no resourceType");
		return EMBER_EINVAL;
	}
	if (strcmp(rt, type) != 0) {
		snprintf(err, errsz, "resourceType \"%s\" does not match the "
		    "URL's type \"%s\"", rt, type);
		return EMBER_EINVAL;
	}
	id = cJSON_GetObjectItemCaseSensitive(resource, "id");
	if (id != NULL && !cJSON_IsString(id)) {
		snprintf(err, errsz, "id must be a string");
		return EMBER_EINVAL;
	}
	meta = cJSON_GetObjectItemCaseSensitive(resource, "meta");
	if (meta != NULL && !cJSON_IsObject(meta)) {
		snprintf(err, errsz, "meta must be an object");
		return EMBER_EINVAL;
	}
	/*
	 * Against the type model: every key an element, arrays where the
	 * element repeats, primitives of their JSON kind, a well-formed
	 * narrative.  The XML writer checks exactly that (and so every
	 * stored resource can be served as XML); without an output buffer
	 * it only checks.
	 */
	if (tb != NULL) {
		int	rc = xml_from_json_err(tb, resource, 0, NULL, err,
			    errsz);

		if (rc == EMBER_ENOMEM)
			return rc;
		if (rc)
			return EMBER_EINVAL;
	}
	return EMBER_OK;
}

/* Put item first in object (it was detached, keeping its name). */
static void
crud_prepend(cJSON *object, cJSON *item)
{
	if (object->child == NULL)
		cJSON_AddItemToObject(object, item->string, item);
	else
		cJSON_InsertItemInArray(object, 0, item);
}

/*
 * Stamp id, meta.versionId and meta.lastUpdated: the object then starts
 * resourceType, id, meta, as FHIR's own serializations do.
 */
static int
crud_stamp(cJSON *res, const char *id, uint32_t vid, uint64_t when)
{
	cJSON	*rt, *idn, *meta, *v, *lu;
	char	 vs[16], ts[DATE_INSTANT_LEN];

	snprintf(vs, sizeof(vs), "%u", vid);
	date_format_instant(when, ts);
	rt = cJSON_DetachItemFromObjectCaseSensitive(res, "resourceType");
	cJSON_DeleteItemFromObjectCaseSensitive(res, "id");
	meta = cJSON_DetachItemFromObjectCaseSensitive(res, "meta");
	if (meta == NULL && (meta = cJSON_CreateObject()) == NULL)
		goto nomem;
	if (meta->string == NULL &&
	    (meta->string = strdup("meta")) == NULL)
		goto nomem;
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "versionId");
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "lastUpdated");
	if ((v = cJSON_CreateString(vs)) == NULL ||
	    (v->string = strdup("versionId")) == NULL) {
		cJSON_Delete(v);
		goto nomem;
	}
	if ((lu = cJSON_CreateString(ts)) == NULL ||
	    (lu->string = strdup("lastUpdated")) == NULL) {
		cJSON_Delete(v);
		cJSON_Delete(lu);
		goto nomem;
	}
	crud_prepend(meta, lu);
	crud_prepend(meta, v);
	if ((idn = cJSON_CreateString(id)) == NULL ||
	    (idn->string = strdup("id")) == NULL) {
		cJSON_Delete(idn);
		goto nomem;
	}
	crud_prepend(res, meta);
	crud_prepend(res, idn);
	if (rt != NULL)
		crud_prepend(res, rt);
	return EMBER_OK;
nomem:
	cJSON_Delete(meta);
	cJSON_Delete(rt);
	return EMBER_ENOMEM;
}

/*
 * The store's part of crud_put() and crud_put_prepared(): write the
 * version (json, and its packed form when made already, else NULL), move
 * the row, replace the postings with keys; *row and json as crud_put()
 * says.
 */
static int
crud_store(struct store_txn *t, const char *type, size_t type_len,
    const char *id, size_t id_len, uint32_t version, uint64_t when,
    int method, const struct buf *in, const struct buf *packed,
    const struct buf *keys, const struct buf *keys_packed,
    struct store_row *row, struct buf *json)
{
	struct store_row	written;
	struct store_write	w;
	int			rc;

	memset(&w, 0, sizeof(w));
	w.sw_type = type;
	w.sw_type_len = type_len;
	w.sw_id = id;
	w.sw_id_len = id_len;
	w.sw_version = version;
	w.sw_last_updated = when;
	w.sw_method = method;
	w.sw_json = in->data;
	w.sw_json_len = in->len;
	w.sw_packed = packed;
	if ((rc = store_write(t, &w, &written)))
		return rc;
	/* keys_packed: keys are store_keys_ready()'s. */
	rc = keys_packed != NULL ?
	    store_postings_replace_ready(t, written.sr_rid, keys, keys_packed) :
	    store_postings_replace(t, written.sr_rid, keys->data, keys->len);
	if (rc)
		return rc;
	if (row != NULL)
		*row = written;
	if (json != NULL)
		rc = buf_append(json, in->data ? in->data : "", in->len);
	return rc;
}

int
crud_put(const struct tables *tb, struct store_txn *t, const char *type,
    size_t type_len, const char *id, size_t id_len, cJSON *resource,
    int method, struct store_row *row, struct buf *json)
{
	struct store_row	 cur;
	struct buf		 b = BUF_INIT, keys = BUF_INIT;
	char			 idz[65];
	uint64_t		 when;
	uint32_t		 version;
	unsigned		 ri;
	int			 rc;

	if (id_len >= sizeof(idz))
		return EMBER_EINVAL;
	memcpy(idz, id, id_len);
	idz[id_len] = '\0';
	rc = store_current(t, type, type_len, id, id_len, &cur);
	if (rc == EMBER_ENOTFOUND)
		version = 1;
	else if (rc)
		return rc;
	else
		version = cur.sr_version + 1;
	if ((rc = store_clock(t, &when)))
		return rc;
	/* The postings follow the current version: none for a delete. */
	if (resource != NULL &&
	    ((rc = crud_stamp(resource, idz, version, when)) ||
	    (rc = json_write(&b, resource, 0)) ||
	    (rc = tables_resource_lookup(tb, type, type_len, &ri)) ||
	    (rc = index_keys(tb, ri, resource, &keys))))
		goto done;
	rc = crud_store(t, type, type_len, id, id_len, version, when, method,
	    &b, NULL, &keys, NULL, row, json);
done:
	buf_free(&keys);
	buf_free(&b);
	return rc;
}

int
crud_prepare(const struct tables *tb, const struct store *s,
    const char *type, size_t type_len, const char *id, cJSON *resource,
    uint64_t when, struct buf *work, struct crud_prep *p)
{
	char		err[256];
	unsigned	ri;
	int		rc;

	p->cp_when = when;
	buf_reset(&p->cp_json);
	buf_reset(&p->cp_keys);
	if ((rc = crud_check_resource(tb, resource, type, err, sizeof(err))))
		return rc;
	if ((rc = crud_stamp(resource, id, 1, when)) ||
	    (rc = json_write(&p->cp_json, resource, 0)) ||
	    (rc = store_pack(s, p->cp_json.data, p->cp_json.len,
	    work, &p->cp_packed)) ||
	    (rc = tables_resource_lookup(tb, type, type_len, &ri)) ||
	    (rc = index_keys(tb, ri, resource, &p->cp_keys)) ||
	    (rc = store_keys_ready(s, p->cp_keys.data, p->cp_keys.len,
	    &p->cp_sorted, &p->cp_keys_packed, work)))
		return rc;
	return buf_error(&p->cp_json);
}

/*
 * Move p's lastUpdated to when (crud_put_prepared()): the instant in its
 * JSON, where crud_stamp() put it, its packed form, and its
 * _lastUpdated key.  EMBER_ECONFLICT when one is not as expected.
 */
static int
crud_restamp(const struct store *s, const char *type, size_t type_len,
    struct crud_prep *p, uint64_t when)
{
	struct buf	 ok = BUF_INIT, nk = BUF_INIT, work = BUF_INIT;
	char		 was[DATE_INSTANT_LEN], now[DATE_INSTANT_LEN];
	char		 pat[16 + DATE_INSTANT_LEN];
	unsigned char	*k, *end;
	char		*at;
	size_t		 n, len;
	int		 rc = EMBER_ECONFLICT;

	date_format_instant(p->cp_when, was);
	date_format_instant(when, now);
	n = strlen(was);
	len = (size_t)snprintf(pat, sizeof(pat), "\"lastUpdated\":\"%s\"",
	    was);
	if (strlen(now) != n || (at = memmem(p->cp_json.data, p->cp_json.len,
	    pat, len)) == NULL)
		return EMBER_ECONFLICT;
	if ((rc = index_date_key(&ok, type, type_len, "_lastUpdated", was)) ||
	    (rc = index_date_key(&nk, type, type_len, "_lastUpdated", now)))
		goto done;
	rc = EMBER_ECONFLICT;
	if (ok.len == 0 || ok.len != nk.len)
		goto done;
	k = (unsigned char *)p->cp_keys.data;
	end = k + p->cp_keys.len;
	for (; k + 2 <= end; k += 2 + (((size_t)k[0] << 8) | k[1]))
		if ((size_t)(end - k) >= ok.len &&
		    memcmp(k, ok.data, ok.len) == 0)
			break;
	if (k + 2 > end)
		goto done;
	memcpy(k, nk.data, nk.len);
	memcpy(at + 15, now, n);
	if ((rc = store_pack(s, p->cp_json.data, p->cp_json.len, &work,
	    &p->cp_packed)) == EMBER_OK && (rc = store_keys_ready(s,
	    p->cp_keys.data, p->cp_keys.len, &p->cp_sorted,
	    &p->cp_keys_packed, &work)) == EMBER_OK)
		p->cp_when = when;
done:
	buf_free(&ok);
	buf_free(&nk);
	buf_free(&work);
	return rc;
}

int
crud_put_prepared(struct store_txn *t, const struct store *s,
    const char *type, size_t type_len, const char *id, size_t id_len,
    struct crud_prep *p, struct store_row *row, struct buf *json)
{
	struct store_row	cur;
	uint64_t		when;
	int			rc;

	/* Prepared as version 1: the id must be new. */
	rc = store_current(t, type, type_len, id, id_len, &cur);
	if (rc == EMBER_OK)
		return EMBER_ECONFLICT;
	if (rc != EMBER_ENOTFOUND)
		return rc;
	/* A time read from the clock: another write may have gone past. */
	rc = EMBER_OK;
	if (p->cp_claim &&
	    (rc = store_clock_claim(t, p->cp_when)) == EMBER_ECONFLICT &&
	    (rc = store_clock(t, &when)) == EMBER_OK)
		rc = crud_restamp(s, type, type_len, p, when);
	if (rc)
		return rc;
	return crud_store(t, type, type_len, id, id_len, 1, p->cp_when,
	    STORE_POST, &p->cp_json, &p->cp_packed, &p->cp_sorted,
	    &p->cp_keys_packed, row, json);
}

void
crud_prep_free(struct crud_prep *p)
{
	buf_free(&p->cp_json);
	buf_free(&p->cp_packed);
	buf_free(&p->cp_keys);
	buf_free(&p->cp_sorted);
	buf_free(&p->cp_keys_packed);
}

int
crud_ready(struct rest_ctx *cx, struct crud_ready *r)
{
	struct buf	work = BUF_INIT;
	int		rc;

	if (cx->cx_rq->rq_if_none_exist != NULL || cx->cx_parent != NULL)
		return EMBER_EINVAL;
	r->cr_v = cx->cx_v;
	r->cr_type = cx->cx_type;
	/* The tree goes into an arena that r keeps (crud_parse_tree()). */
	rc = crud_parse_tree(cx, &r->cr_tree);
	r->cr_arena = cx->cx_arena;
	cx->cx_arena = NULL;
	if (rc == EMBER_OK && (rc = crud_new_id(r->cr_id)) == EMBER_OK) {
		r->cr_prep.cp_claim = 1;
		rc = crud_prepare(cx->cx_v->svv_tables, cx->cx_v->svv_store,
		    cx->cx_type, cx->cx_type_len, r->cr_id, r->cr_tree,
		    date_now(), &work, &r->cr_prep);
	}
	json_arena_use(NULL);
	buf_free(&work);
	return rc;
}

void
crud_ready_free(struct crud_ready *r)
{
	struct json_arena *was = json_arena_current();

	if (was == r->cr_arena)
		was = NULL;
	json_arena_use(r->cr_arena);
	cJSON_Delete(r->cr_tree);
	json_arena_free(r->cr_arena);
	json_arena_use(was);
	crud_prep_free(&r->cr_prep);
	memset(r, 0, sizeof(*r));
}

/* ETag and Last-Modified of a version. */
static void
crud_version_headers(struct rest_ctx *cx, uint32_t vid, uint64_t when)
{
	char	date[DATE_HTTP_LEN], etag[3 + HTTP_DECIMAL_MAX + 1];
	size_t	n;

	date_format_http(when, date);
	cx->cx_rs->rs_last_updated = when;
	/* W/"vid", without printf: every read comes here. */
	memcpy(etag, "W/\"", 3);
	n = 3 + http_decimal(vid, etag + 3);
	etag[n++] = '"';
	rest_header_str(cx->cx_rs, "ETag", etag, n);
	rest_header_str(cx->cx_rs, "Last-Modified", date, strlen(date));
}

/* Answer with stored bytes borrowed from the map; t stays open. */
static int
crud_send_stored(struct rest_ctx *cx, struct store_txn *t,
    const struct store_version *sv)
{
	struct rest_response	*rs = cx->cx_rs;
	struct buf		 b = BUF_INIT;
	int			 rc;

	if (cx->cx_pretty || cx->cx_xml || cx->cx_has_elements ||
	    (cx->cx_summary != SUMMARY_FALSE &&
	    cx->cx_summary != SUMMARY_COUNT)) {
		/* XML, pretty printing and subsets mean a parse: only on
		 * request; a plain JSON read writes the stored bytes. */
		rc = rest_resource_json(cx, sv->sv_json, sv->sv_json_len, &b);
		store_txn_abort(t);
		if (rc == EMBER_EINVAL) {
			buf_free(&b);
			return rest_fail(cx, rc, "%s", cx->cx_subset_err);
		}
		if (rc == EMBER_OK)
			rc = rest_json_body(cx, 200, &b);
		buf_free(&b);
		return rc;
	}
	rs->rs_status = 200;
	rest_content_type(cx);
	rs->rs_txn = t;
	rs->rs_borrowed = sv->sv_json;
	rs->rs_borrowed_len = sv->sv_json_len;
	return EMBER_OK;
}

/* Begin a transaction or answer 500. */
static int
crud_begin(struct rest_ctx *cx, int write, struct store_txn **t)
{
	int rc;

	/* Inside a transaction Bundle every entry works in the Bundle's
	 * write transaction, so it sees the earlier entries' writes and
	 * everything commits or aborts together.  A create made ready has
	 * checked all it can: it may write in its group's transaction
	 * itself (store_txn_join()), else it nests as any write. */
	if (cx->cx_parent != NULL)
		rc = store_txn_borrow(cx->cx_parent, t);
	else if (!write || cx->cx_prep == NULL ||
	    (rc = store_txn_join(cx->cx_v->svv_store, t)) == EMBER_EINVAL)
		rc = store_txn_begin(cx->cx_v->svv_store, write, t);
	if (rc)
		return rest_fail(cx, rc, "cannot begin a %s transaction",
		    write ? "write" : "read");
	return EMBER_OK;
}

/* 304 when If-None-Match or If-Modified-Since says the client is current. */
static int
crud_not_modified(struct rest_ctx *cx, uint32_t vid, uint64_t when)
{
	const struct rest_request	*rq = cx->cx_rq;
	uint32_t			 v;
	uint64_t			 since;

	if (rq->rq_if_none_match != NULL) {
		if (strcmp(rq->rq_if_none_match, "*") == 0 ||
		    (http_etag_version(rq->rq_if_none_match,
		    strlen(rq->rq_if_none_match), &v) == EMBER_OK && v == vid))
			return 1;
		return 0;	/* If-None-Match takes precedence (RFC 9110) */
	}
	if (rq->rq_if_modified_since != NULL &&
	    date_parse_http(rq->rq_if_modified_since,
	    strlen(rq->rq_if_modified_since), &since) == EMBER_OK &&
	    when / 1000000u <= since / 1000000u)
		return 1;
	return 0;
}

int
crud_read(struct rest_ctx *cx)
{
	struct store_txn	*t;
	struct store_row	 row;
	struct store_version	 sv;
	int			 rc;

	if ((rc = crud_begin(cx, 0, &t)))
		return rc;
	rc = store_latest(t, cx->cx_type, cx->cx_type_len, cx->cx_id,
	    cx->cx_id_len, &row);
	if (rc == EMBER_ENOTFOUND) {
		store_txn_abort(t);
		return rest_fail(cx, rc, "%s/%s is not known", cx->cx_type,
		    cx->cx_id);
	}
	if (rc)
		goto fail;
	/* The row holds the current version's number, lastUpdated and
	 * deleted flag: a 410 or a 304 needs no version fetched (nor
	 * decompressed). */
	if (row.sr_deleted) {
		store_txn_abort(t);
		rest_fail(cx, EMBER_EGONE, "%s/%s was deleted", cx->cx_type,
		    cx->cx_id);
		crud_version_headers(cx, row.sr_version, row.sr_last_updated);
		return EMBER_EGONE;
	}
	if (crud_not_modified(cx, row.sr_version, row.sr_last_updated)) {
		store_txn_abort(t);
		cx->cx_rs->rs_status = 304;
		cx->cx_rs->rs_no_body = 1;
		crud_version_headers(cx, row.sr_version, row.sr_last_updated);
		return EMBER_OK;
	}
	if ((rc = store_version(t, row.sr_rid, row.sr_version, &sv)))
		goto fail;
	if ((rc = crud_send_stored(cx, t, &sv)))
		return rest_fail(cx, rc, "cannot format the resource");
	crud_version_headers(cx, sv.sv_version, sv.sv_last_updated);
	return EMBER_OK;
fail:
	store_txn_abort(t);
	return rest_fail(cx, rc, "cannot read %s/%s", cx->cx_type, cx->cx_id);
}

int
crud_vread(struct rest_ctx *cx)
{
	struct store_txn	*t;
	struct store_row	 row;
	struct store_version	 sv;
	uint32_t		 vid;
	int			 rc;

	if (http_etag_version(cx->cx_vid, strlen(cx->cx_vid), &vid) ||
	    cx->cx_vid[0] == 'W' || cx->cx_vid[0] == '"')
		return rest_fail(cx, EMBER_ENOTFOUND,
		    "version \"%s\" of %s/%s is not known", cx->cx_vid,
		    cx->cx_type, cx->cx_id);
	if ((rc = crud_begin(cx, 0, &t)))
		return rc;
	rc = store_current(t, cx->cx_type, cx->cx_type_len, cx->cx_id,
	    cx->cx_id_len, &row);
	if (rc == EMBER_OK)
		rc = store_version(t, row.sr_rid, vid, &sv);
	if (rc) {
		store_txn_abort(t);
		return rest_fail(cx, rc, "version %u of %s/%s is not known",
		    vid, cx->cx_type, cx->cx_id);
	}
	if (sv.sv_deleted) {
		store_txn_abort(t);
		rest_fail(cx, EMBER_EGONE, "version %u of %s/%s is a delete",
		    vid, cx->cx_type, cx->cx_id);
		crud_version_headers(cx, sv.sv_version, sv.sv_last_updated);
		return EMBER_EGONE;
	}
	if ((rc = crud_send_stored(cx, t, &sv)))
		return rest_fail(cx, rc, "cannot format the resource");
	crud_version_headers(cx, sv.sv_version, sv.sv_last_updated);
	return EMBER_OK;
}

static int
crud_prefer_return(const struct rest_request *rq)
{
	const char *p;

	if (rq->rq_prefer == NULL ||
	    (p = strstr(rq->rq_prefer, "return=")) == NULL)
		return RETURN_REPRESENTATION;
	p += 7;
	if (strncmp(p, "minimal", 7) == 0)
		return RETURN_MINIMAL;
	if (strncmp(p, "OperationOutcome", 16) == 0)
		return RETURN_OUTCOME;
	return RETURN_REPRESENTATION;
}

int
crud_parse_tree(struct rest_ctx *cx, cJSON **out)
{
	const struct rest_request	*rq = cx->cx_rq;
	const struct version_desc	*vd = cx->cx_v->svv_desc;
	unsigned			 depth = cx->cx_server->srv_conf.cf_max_depth;
	struct http_media		 m;
	char				 err[256];
	int				 rc, xml;

	if (rq->rq_content_type == NULL || *rq->rq_content_type == '\0')
		return rest_fail(cx, EMBER_EMEDIA, "a Content-Type is required "
		    "(%s or %s)", vd->vd_json_mime, vd->vd_xml_mime);
	if (http_media_parse(rq->rq_content_type, strlen(rq->rq_content_type),
	    &m) || (!rest_is_json(cx, m.hm_type, m.hm_type_len) &&
	    !rest_is_xml(cx, m.hm_type, m.hm_type_len)))
		return rest_fail(cx, EMBER_EMEDIA, "Content-Type %s is not "
		    "supported; send %s or %s", rq->rq_content_type,
		    vd->vd_json_mime, vd->vd_xml_mime);
	xml = rest_is_xml(cx, m.hm_type, m.hm_type_len);
	if (rq->rq_body == NULL || rq->rq_body_len == 0)
		return rest_fail(cx, EMBER_EINVAL, "the request has no body");
	if (!xml && json_arena_current() == NULL) {
		/* The tree in an arena, freed at once when the handler
		 * returns (rest.c): a malloc and a free for each node and
		 * string were 90 K of a create's 617 K instructions. */
		if ((cx->cx_arena = json_arena_new()) == NULL)
			return rest_fail(cx, EMBER_ENOMEM, "out of memory");
		json_arena_use(cx->cx_arena);
		rc = json_parse_arena(cx->cx_arena, rq->rq_body,
		    rq->rq_body_len, depth, out, err, sizeof(err));
	} else
		rc = xml ? xml_to_json(cx->cx_v->svv_tables, rq->rq_body,
		    rq->rq_body_len, depth, out, err, sizeof(err)) :
		    json_parse(rq->rq_body, rq->rq_body_len, depth, out, err,
		    sizeof(err));
	if (rc)
		return rest_fail(cx, rc, "invalid %s: %s", xml ? "XML" : "JSON",
		    err);
	return EMBER_OK;
}

/* Check Content-Type and parse the body as a resource of the URL's type. */
static int
crud_parse_body(struct rest_ctx *cx, cJSON **out)
{
	char				 err[256];
	cJSON				*res = NULL;
	int				 rc;

	if (cx->cx_tree != NULL) {
		/* A Bundle entry's resource, parsed with the Bundle. */
		res = cx->cx_tree;
		cx->cx_tree = NULL;
	} else if ((rc = crud_parse_tree(cx, &res)))
		return rc;
	/* A prepared tree was checked (and stamped) by crud_prepare(). */
	if (cx->cx_prep == NULL && (rc = crud_check_resource(
	    cx->cx_v->svv_tables, res, cx->cx_type, err, sizeof(err)))) {
		cJSON_Delete(res);
		return rest_fail(cx, rc, "%s", err);
	}
	*out = res;
	return EMBER_OK;
}

/* The answer to a successful create or update, per Prefer: return=. */
static int
crud_write_response(struct rest_ctx *cx, int status,
    const struct store_row *row, struct buf *json)
{
	struct buf	b = BUF_INIT;
	char		diag[256];
	int		rc = EMBER_OK;

	switch (crud_prefer_return(cx->cx_rq)) {
	case RETURN_MINIMAL:
		cx->cx_rs->rs_status = status;
		break;
	case RETURN_OUTCOME:
		snprintf(diag, sizeof(diag), "%s/%s version %u stored",
		    cx->cx_type, cx->cx_id, row->sr_version);
		rc = outcome_write(&b, "information", "informational", diag);
		if (rc == EMBER_OK)
			rc = rest_json_body(cx, status, &b);
		break;
	default:
		rc = rest_json_body(cx, status, json);
		break;
	}
	buf_free(&b);
	if (rc)
		return rest_fail(cx, rc, "cannot format the response");
	if (status == 201)
		rest_header(cx->cx_rs, "Location", "%s/%s/%s/_history/%u",
		    cx->cx_base, cx->cx_type, cx->cx_id, row->sr_version);
	crud_version_headers(cx, row->sr_version, row->sr_last_updated);
	return EMBER_OK;
}

/* Commit, or answer the commit's failure. */
static int
crud_commit(struct rest_ctx *cx, struct store_txn *t)
{
	int rc;

	if ((rc = store_txn_commit(t)))
		return rest_fail(cx, rc, "the write could not be committed");
	return EMBER_OK;
}

/*
 * The end of every write: store res (NULL for nothing new) as the next
 * version of cx's Type/id in t, commit t (always consumed), and answer
 * with status and the Prefer'd body.
 */
static int
crud_finish_write(struct rest_ctx *cx, struct store_txn *t, cJSON *res,
    int method, int status)
{
	struct store_row	row;
	struct buf		json = BUF_INIT;
	int			rc;

	/* A prepared create is put as it was made ready; should its id
	 * have been taken meanwhile, it is stored as any other write. */
	rc = EMBER_ECONFLICT;
	if (cx->cx_prep != NULL && method == STORE_POST)
		rc = crud_put_prepared(t, cx->cx_v->svv_store, cx->cx_type,
		    cx->cx_type_len, cx->cx_id, cx->cx_id_len, cx->cx_prep,
		    &row, &json);
	if (rc == EMBER_ECONFLICT)
		rc = crud_put(cx->cx_v->svv_tables, t, cx->cx_type,
		    cx->cx_type_len, cx->cx_id, cx->cx_id_len, res, method,
		    &row, &json);
	if (rc) {
		store_txn_abort(t);
		rest_fail(cx, rc, "cannot store %s/%s", cx->cx_type, cx->cx_id);
		goto done;
	}
	if ((rc = crud_commit(cx, t)))
		goto done;
	rc = crud_write_response(cx, status, &row, &json);
done:
	buf_free(&json);
	return rc;
}

/*
 * Match criteria inside t.  Answers the request itself on error (400
 * for bad criteria) and returns non-zero then.
 */
static int
crud_match(struct rest_ctx *cx, struct store_txn *t, const char *criteria,
    size_t len, size_t max, struct cond_result *cr)
{
	char	err[512];
	int	rc;

	while (len > 0 && *criteria == '?')
		criteria++, len--;
	if ((rc = cond_match(t, cx->cx_v->svv_tables, cx->cx_type,
	    cx->cx_type_len, criteria, len,
	    max, cr, err, sizeof(err))))
		return rest_fail(cx, rc, "%s", err);
	return EMBER_OK;
}

/* Set cx's id to the id part of a row's "Type/id" key. */
static void
crud_take_id(struct rest_ctx *cx, const struct store_row *row)
{
	const char *slash = memchr(row->sr_key, '/', row->sr_key_len);
	size_t n = row->sr_key_len - (size_t)(slash + 1 - row->sr_key);

	if (n >= sizeof(cx->cx_id))
		n = sizeof(cx->cx_id) - 1;
	memcpy(cx->cx_id, slash + 1, n);
	cx->cx_id[n] = '\0';
	cx->cx_id_len = n;
}

/*
 * If-None-Exist found one match: answer 200 with it, writing nothing
 * (http.html: "the server ignores the post and returns 200 OK").
 */
static int
crud_existing(struct rest_ctx *cx, struct store_txn *t, uint64_t rid)
{
	struct store_row	row;
	struct store_version	sv;
	struct buf		b = BUF_INIT;
	int			rc;

	if ((rc = store_row(t, rid, &row)) ||
	    (rc = store_version(t, rid, row.sr_version, &sv)) ||
	    (rc = buf_append(&b, sv.sv_json, sv.sv_json_len)) ||
	    (rc = rest_json_body(cx, 200, &b))) {
		buf_free(&b);
		return rest_fail(cx, rc, "cannot read the match");
	}
	crud_take_id(cx, &row);
	rest_header(cx->cx_rs, "Location", "%s/%s/%s/_history/%u",
	    cx->cx_base, cx->cx_type, cx->cx_id, row.sr_version);
	crud_version_headers(cx, row.sr_version, row.sr_last_updated);
	return EMBER_OK;
}

int
crud_create(struct rest_ctx *cx)
{
	const char		*ine = cx->cx_rq->rq_if_none_exist;
	struct crud_ready	*r;
	struct store_txn	*t = NULL;
	struct cond_result	 cr = { 0, NULL, 0 };
	cJSON			*res = NULL;
	char			 id[23];
	int			 rc;

	if ((r = cx->cx_rq->rq_ready) != NULL && r->cr_tree != NULL &&
	    r->cr_v == cx->cx_v && r->cr_type == cx->cx_type &&
	    cx->cx_parent == NULL && cx->cx_id_len == 0 && ine == NULL) {
		/* Made ready before the transaction (rest_prepare()). */
		res = r->cr_tree;
		r->cr_tree = NULL;
		cx->cx_arena = r->cr_arena;
		r->cr_arena = NULL;
		json_arena_use(cx->cx_arena);
		cx->cx_id_len = strlen(r->cr_id);
		memcpy(cx->cx_id, r->cr_id, cx->cx_id_len + 1);
		cx->cx_prep = &r->cr_prep;
	} else if ((rc = crud_parse_body(cx, &res)))
		return rc;
	/* A transaction Bundle assigns ids before it runs its entries. */
	if (cx->cx_id_len == 0) {
		if ((rc = crud_new_id(id))) {
			rest_fail(cx, rc, "cannot make an id");
			goto done;
		}
		memcpy(cx->cx_id, id, sizeof(id));
		cx->cx_id_len = strlen(id);
	}
	if ((rc = crud_begin(cx, 1, &t)))
		goto done;
	if (ine != NULL) {
		if ((rc = crud_match(cx, t, ine, strlen(ine), 1, &cr)))
			goto done;
		if (cr.cr_count > 1) {
			rc = rest_fail(cx, EMBER_EPRECOND, "If-None-Exist: %s "
			    "matches %zu resources", ine, cr.cr_count);
			goto done;
		}
		if (cr.cr_count == 1) {
			rc = crud_existing(cx, t, cr.cr_rids[0]);
			goto done;
		}
	}
	rc = crud_finish_write(cx, t, res, STORE_POST, 201);
	t = NULL;
done:
	store_txn_abort(t);
	cond_result_free(&cr);
	cJSON_Delete(res);
	return rc;
}

/* If-Match against the current row (which may not exist). */
static int
crud_check_if_match(struct rest_ctx *cx, int exists,
    const struct store_row *row)
{
	const char	*im = cx->cx_rq->rq_if_match;
	uint32_t	 v;

	if (im == NULL)
		return EMBER_OK;
	if (http_etag_version(im, strlen(im), &v))
		return rest_fail(cx, EMBER_EINVAL, "If-Match \"%s\" is not a "
		    "version ETag such as W/\"3\"", im);
	if (!exists || row->sr_deleted)
		return rest_fail(cx, EMBER_EPRECOND, "If-Match %s: %s/%s does "
		    "not exist", im, cx->cx_type, cx->cx_id);
	if (v != row->sr_version)
		return rest_fail(cx, EMBER_EPRECOND, "If-Match %s: the current "
		    "version of %s/%s is %u", im, cx->cx_type, cx->cx_id,
		    row->sr_version);
	return EMBER_OK;
}

/*
 * PUT [type]?criteria: pick the id to update (http.html, conditional
 * update): one match is updated (a body id must agree with it); no match
 * creates, under the body's id if it has one that is free (409 if that
 * id exists), else under a new id; several matches are 412.
 */
static int
crud_update_target(struct rest_ctx *cx, struct store_txn *t, cJSON *res)
{
	const char		*body_id = json_string(res, "id");
	struct cond_result	 cr = { 0, NULL, 0 };
	struct store_row	 row;
	char			 id[23];
	int			 rc;

	if ((rc = crud_match(cx, t, cx->cx_query, cx->cx_query_len, 1, &cr)))
		return rc;
	if (cr.cr_count > 1) {
		rc = rest_fail(cx, EMBER_EPRECOND, "the criteria match %zu "
		    "resources; conditional update needs at most one",
		    cr.cr_count);
		goto done;
	}
	if (cr.cr_count == 1) {
		if ((rc = store_row(t, cr.cr_rids[0], &row))) {
			rest_fail(cx, rc, "cannot read the match");
			goto done;
		}
		crud_take_id(cx, &row);
		if (body_id != NULL && strcmp(body_id, cx->cx_id) != 0)
			rc = rest_fail(cx, EMBER_EINVAL, "the body's id \"%s\" "
			    "is not the id of the match, %s", body_id,
			    cx->cx_id);
		goto done;
	}
	if (body_id == NULL) {
		if ((rc = crud_new_id(id))) {
			rest_fail(cx, rc, "cannot make an id");
			goto done;
		}
		body_id = id;
	} else if (!rest_valid_id(body_id, strlen(body_id))) {
		rc = rest_fail(cx, EMBER_EINVAL, "\"%s\" is not a valid id",
		    body_id);
		goto done;
	} else if (store_current(t, cx->cx_type, cx->cx_type_len, body_id,
	    strlen(body_id), &row) == EMBER_OK && !row.sr_deleted) {
		rc = rest_fail(cx, EMBER_ECONFLICT, "no resource matches the "
		    "criteria, but %s/%s exists", cx->cx_type, body_id);
		goto done;
	}
	cx->cx_id_len = strlen(body_id);
	memcpy(cx->cx_id, body_id, cx->cx_id_len + 1);
done:
	cond_result_free(&cr);
	return rc;
}

int
crud_update(struct rest_ctx *cx)
{
	struct store_txn	*t = NULL;
	struct store_row	 row;
	cJSON			*res = NULL;
	const char		*body_id;
	int			 rc, exists, conditional = cx->cx_id_len == 0;

	if ((rc = crud_parse_body(cx, &res)))
		return rc;
	body_id = json_string(res, "id");
	if (!conditional && body_id == NULL) {
		rc = rest_fail(cx, EMBER_EINVAL, "the resource has no id; "
		    "update needs id \"%s\" in the body", cx->cx_id);
		goto done;
	}
	if (!conditional && strcmp(body_id, cx->cx_id) != 0) {
		rc = rest_fail(cx, EMBER_EINVAL, "the body's id \"%s\" differs "
		    "from the URL's id \"%s\"", body_id, cx->cx_id);
		goto done;
	}
	if ((rc = crud_begin(cx, 1, &t)))
		goto done;
	if (conditional && (rc = crud_update_target(cx, t, res)))
		goto done;
	rc = store_current(t, cx->cx_type, cx->cx_type_len, cx->cx_id,
	    cx->cx_id_len, &row);
	if (rc && rc != EMBER_ENOTFOUND) {
		rc = rest_fail(cx, rc, "cannot read %s/%s", cx->cx_type,
		    cx->cx_id);
		goto done;
	}
	exists = rc == EMBER_OK && !row.sr_deleted;
	if ((rc = crud_check_if_match(cx, rc == EMBER_OK, &row)))
		goto done;
	rc = crud_finish_write(cx, t, res, STORE_PUT, exists ? 200 : 201);
	t = NULL;
done:
	store_txn_abort(t);
	cJSON_Delete(res);
	return rc;
}

/*
 * DELETE [type]?criteria: every match is deleted, in one transaction, up
 * to max_delete; more matches than that is 412, none is 404.
 */
static int
crud_delete_conditional(struct rest_ctx *cx)
{
	size_t			 max = cx->cx_server->srv_conf.cf_max_delete;
	struct store_txn	*t = NULL;
	struct cond_result	 cr = { 0, NULL, 0 };
	struct store_row	 row;
	struct buf		 b = BUF_INIT;
	char			 diag[256];
	size_t			 i;
	int			 rc;

	if ((rc = crud_begin(cx, 1, &t)))
		return rc;
	if ((rc = crud_match(cx, t, cx->cx_query, cx->cx_query_len, max + 1,
	    &cr)))
		goto done;
	if (cr.cr_count == 0) {
		rc = rest_fail(cx, EMBER_ENOTFOUND, "no %s matches the "
		    "criteria: nothing to delete", cx->cx_type);
		goto done;
	}
	if (cr.cr_count > max) {
		rc = rest_fail(cx, EMBER_EPRECOND, "the criteria match %zu "
		    "resources, more than max_delete (%zu)", cr.cr_count, max);
		goto done;
	}
	for (i = 0; i < cr.cr_count; i++) {
		if ((rc = store_row(t, cr.cr_rids[i], &row)))
			break;
		crud_take_id(cx, &row);
		if ((rc = crud_put(cx->cx_v->svv_tables, t, cx->cx_type, cx->cx_type_len, cx->cx_id,
		    cx->cx_id_len, NULL, STORE_DELETE, NULL, NULL)))
			break;
	}
	if (rc) {
		rest_fail(cx, rc, "cannot delete %s/%s", cx->cx_type, cx->cx_id);
		goto done;
	}
	rc = crud_commit(cx, t);
	t = NULL;
	if (rc)
		goto done;
	snprintf(diag, sizeof(diag), "%zu %s deleted", cr.cr_count,
	    cx->cx_type);
	if ((rc = outcome_write(&b, "information", "informational", diag)) ||
	    (rc = rest_json_body(cx, 200, &b)))
		rest_fail(cx, rc, "cannot format the response");
done:
	store_txn_abort(t);
	cond_result_free(&cr);
	buf_free(&b);
	return rc;
}

int
crud_delete(struct rest_ctx *cx)
{
	struct store_txn	*t = NULL;
	struct store_row	 row;
	struct buf		 b = BUF_INIT;
	char			 diag[256];
	int			 rc;

	if (cx->cx_id_len == 0)
		return crud_delete_conditional(cx);
	if ((rc = crud_begin(cx, 1, &t)))
		return rc;
	rc = store_current(t, cx->cx_type, cx->cx_type_len, cx->cx_id,
	    cx->cx_id_len, &row);
	if (rc) {
		store_txn_abort(t);
		return rest_fail(cx, rc, rc == EMBER_ENOTFOUND ?
		    "%s/%s is not known: nothing to delete" :
		    "cannot read %s/%s", cx->cx_type, cx->cx_id);
	}
	if ((rc = crud_check_if_match(cx, 1, &row))) {
		store_txn_abort(t);
		return rc;
	}
	if (row.sr_deleted) {
		/* Deleting again is harmless and writes nothing. */
		store_txn_abort(t);
		snprintf(diag, sizeof(diag), "%s/%s was already deleted",
		    cx->cx_type, cx->cx_id);
	} else {
		if ((rc = crud_put(cx->cx_v->svv_tables, t, cx->cx_type, cx->cx_type_len, cx->cx_id,
		    cx->cx_id_len, NULL, STORE_DELETE, &row, NULL))) {
			store_txn_abort(t);
			return rest_fail(cx, rc, "cannot delete %s/%s",
			    cx->cx_type, cx->cx_id);
		}
		if ((rc = crud_commit(cx, t)))
			return rc;
		snprintf(diag, sizeof(diag), "%s/%s deleted (version %u)",
		    cx->cx_type, cx->cx_id, row.sr_version);
	}
	if ((rc = outcome_write(&b, "information", "informational", diag)) ||
	    (rc = rest_json_body(cx, 200, &b))) {
		buf_free(&b);
		return rest_fail(cx, rc, "cannot format the response");
	}
	crud_version_headers(cx, row.sr_version, row.sr_last_updated);
	return EMBER_OK;
}

/*
 * PATCH [type]/[id] and PATCH [type]?criteria: JSON Patch
 * (application/json-patch+json) or FHIRPath Patch (a Parameters body).
 * The result must still be a resource of the same type and id: else 422,
 * and nothing is stored.
 */
int
crud_patch(struct rest_ctx *cx)
{
	const struct rest_request *rq = cx->cx_rq;
	struct store_txn	*t = NULL;
	struct store_row	 row;
	struct store_version	 sv;
	struct cond_result	 cr = { 0, NULL, 0 };
	struct http_media	 m;
	cJSON			*ops = NULL, *doc = NULL;
	char			 err[512];
	unsigned		 depth = cx->cx_server->srv_conf.cf_max_depth;
	int			 rc, json_patch;

	if (rq->rq_content_type == NULL || http_media_parse(rq->rq_content_type,
	    strlen(rq->rq_content_type), &m))
		return rest_fail(cx, EMBER_EMEDIA, "PATCH needs a Content-Type: "
		    "application/json-patch+json or %s (FHIRPath Patch)",
		    cx->cx_v->svv_desc->vd_json_mime);
	json_patch = http_token_eq(m.hm_type, m.hm_type_len,
	    "application/json-patch+json");
	if (!json_patch && !rest_is_json(cx, m.hm_type, m.hm_type_len) &&
	    !rest_is_xml(cx, m.hm_type, m.hm_type_len))
		return rest_fail(cx, EMBER_EMEDIA, "Content-Type %s is not a "
		    "patch format", rq->rq_content_type);
	if (json_patch) {
		if (rq->rq_body == NULL || rq->rq_body_len == 0)
			return rest_fail(cx, EMBER_EINVAL, "the request has no "
			    "body");
		if ((rc = json_parse(rq->rq_body, rq->rq_body_len, depth, &ops,
		    err, sizeof(err))))
			return rest_fail(cx, rc, "invalid JSON: %s", err);
	} else if ((rc = crud_parse_tree(cx, &ops)))	/* FHIRPath Patch */
		return rc;

	if ((rc = crud_begin(cx, 1, &t)))
		goto done;
	if (cx->cx_id_len == 0) {
		if ((rc = crud_match(cx, t, cx->cx_query, cx->cx_query_len, 1,
		    &cr)))
			goto done;
		if (cr.cr_count != 1) {
			rc = rest_fail(cx, cr.cr_count ? EMBER_EPRECOND :
			    EMBER_ENOTFOUND, "the criteria match %zu resources; "
			    "conditional patch needs exactly one", cr.cr_count);
			goto done;
		}
		if ((rc = store_row(t, cr.cr_rids[0], &row))) {
			rest_fail(cx, rc, "cannot read the match");
			goto done;
		}
		crud_take_id(cx, &row);
	}
	rc = store_current(t, cx->cx_type, cx->cx_type_len, cx->cx_id,
	    cx->cx_id_len, &row);
	if (rc == EMBER_OK && row.sr_deleted)
		rc = EMBER_EGONE;
	if (rc) {
		rest_fail(cx, rc, "%s/%s %s", cx->cx_type, cx->cx_id,
		    rc == EMBER_EGONE ? "was deleted" : "is not known");
		goto done;
	}
	if ((rc = crud_check_if_match(cx, 1, &row)))
		goto done;
	if ((rc = store_version(t, row.sr_rid, row.sr_version, &sv)) ||
	    (rc = json_parse(sv.sv_json, sv.sv_json_len, 10000, &doc, err,
	    sizeof(err)))) {
		rest_fail(cx, rc, "cannot read %s/%s", cx->cx_type, cx->cx_id);
		goto done;
	}
	rc = json_patch ? patch_json(doc, ops, err, sizeof(err)) :
	    patch_fhirpath(doc, ops, cx->cx_v->svv_tables, err, sizeof(err));
	if (rc) {
		rest_fail(cx, rc, "patch not applied: %s", err);
		goto done;
	}
	if ((rc = crud_check_resource(cx->cx_v->svv_tables, doc,
	    cx->cx_type, err, sizeof(err))) ||
	    json_string(doc, "id") == NULL ||
	    strcmp(json_string(doc, "id"), cx->cx_id) != 0) {
		rc = rest_fail(cx, EMBER_EUNPROCESSABLE, "the patched resource "
		    "is not a valid %s with id %s%s%s", cx->cx_type, cx->cx_id,
		    rc ? ": " : "", rc ? err : "");
		goto done;
	}
	rc = crud_finish_write(cx, t, doc, STORE_PATCH, 200);
	t = NULL;
done:
	store_txn_abort(t);
	cond_result_free(&cr);
	cJSON_Delete(ops);
	cJSON_Delete(doc);
	return rc;
}

/* Parse an unsigned decimal query value. */
static int
crud_uint_param(struct rest_ctx *cx, const char *name, uint64_t *out,
    int *present)
{
	char		 v[32], *end;
	unsigned long long n;
	int		 rc;

	*present = 0;
	rc = rest_query_get(cx, name, v, sizeof(v));
	if (rc == EMBER_ENOTFOUND)
		return EMBER_OK;
	if (rc || v[0] < '0' || v[0] > '9')
		return rest_fail(cx, EMBER_EINVAL, "%s must be a non-negative "
		    "integer", name);
	n = strtoull(v, &end, 10);
	if (*end != '\0')
		return rest_fail(cx, EMBER_EINVAL, "%s must be a non-negative "
		    "integer", name);
	*out = n;
	*present = 1;
	return EMBER_OK;
}

/* One history entry: fullUrl, resource, request, response. */
static void
crud_history_entry(struct rest_ctx *cx, struct buf *b,
    const struct store_row *row, const struct store_version *sv)
{
	static const char *const methods[] = { "POST", "PUT", "DELETE",
	    "PATCH" };
	const char	*slash = memchr(row->sr_key, '/', row->sr_key_len);
	size_t		 tlen = slash ? (size_t)(slash - row->sr_key) : 0;
	char		 date[DATE_INSTANT_LEN];
	int		 m = sv->sv_method >= 0 && sv->sv_method < 4 ?
			    sv->sv_method : 1;

	date_format_instant(sv->sv_last_updated, date);
	buf_puts(b, "{\"fullUrl\":\"");
	buf_json_escape(b, cx->cx_base, strlen(cx->cx_base));
	buf_putc(b, '/');
	buf_json_escape(b, row->sr_key, row->sr_key_len);
	buf_puts(b, "\",");
	if (!sv->sv_deleted) {
		buf_puts(b, "\"resource\":");
		rest_resource_json(cx, sv->sv_json, sv->sv_json_len, b);
		buf_putc(b, ',');
	}
	buf_printf(b, "\"request\":{\"method\":\"%s\",\"url\":\"", methods[m]);
	if (m == STORE_POST)
		buf_json_escape(b, row->sr_key, tlen);
	else
		buf_json_escape(b, row->sr_key, row->sr_key_len);
	buf_printf(b, "\"},\"response\":{\"status\":\"%s\",\"etag\":"
	    "\"W/\\\"%u\\\"\",\"lastModified\":\"%s\"}}",
	    m == STORE_POST ? "201" : sv->sv_deleted ? "204" : "200",
	    sv->sv_version, date);
}

/*
 * History with _at: the versions that were current at some time in the
 * period [at, before): written before the period ends (before) and not
 * replaced before it starts (their successor, if any, came after at).
 * Same contract as store_history().
 */
static int
crud_history_at(struct store_txn *t, uint64_t rid, const char *type,
    size_t type_len, uint64_t since, uint64_t before, uint64_t at,
    struct store_history_item *items, size_t max, size_t *n, int *more)
{
	struct store_history_item chunk[256];
	struct store_version	 next;
	size_t			 k, i, got = 0;
	int			 rc, chunk_more;

	*more = 0;
	for (;;) {
		if ((rc = store_history(t, rid, type, type_len, since, before,
		    chunk, 256, &k, &chunk_more)))
			return rc;
		for (i = 0; i < k; i++) {
			rc = store_version(t, chunk[i].shi_rid,
			    chunk[i].shi_version + 1, &next);
			if (rc == EMBER_OK && next.sv_last_updated <= at)
				continue;	/* replaced before the period */
			if (rc && rc != EMBER_ENOTFOUND)
				return rc;
			if (got == max) {
				*more = 1;
				*n = got;
				return EMBER_OK;
			}
			items[got++] = chunk[i];
		}
		if (!chunk_more || k == 0)
			break;
		before = chunk[k - 1].shi_last_updated;
	}
	*n = got;
	return EMBER_OK;
}

int
crud_history(struct rest_ctx *cx)
{
	const struct conf	*c = &cx->cx_server->srv_conf;
	struct store_txn	*t = NULL;
	struct store_row	 row, r;
	struct store_version	 sv;
	struct store_history_item *items = NULL;
	struct buf		 b = BUF_INIT;
	char			 since_s[64], at[64], id[23];
	uint64_t		 count = c->cf_default_count, cursor = 0, since = 0;
	int64_t			 lo, hi, at_lo = 0, at_hi = 0;
	size_t			 n = 0, i;
	int			 rc, present, more = 0, has_at = 0;

	if ((rc = crud_uint_param(cx, "_count", &count, &present)) ||
	    (rc = crud_uint_param(cx, "_cursor", &cursor, &present)))
		return rc;
	if (count > c->cf_max_count)
		count = c->cf_max_count;
	rc = rest_query_get(cx, "_at", at, sizeof(at));
	if (rc == EMBER_OK) {
		if (date_parse_fhir(at, strlen(at), &at_lo, &at_hi, NULL) ||
		    at_hi < 0)
			return rest_fail(cx, EMBER_EINVAL, "_at=%s is not a "
			    "FHIR date or dateTime", at);
		has_at = 1;
		/* Versions written after the period cannot qualify. */
		if (cursor == 0 || cursor > (uint64_t)at_hi + 1)
			cursor = (uint64_t)at_hi + 1;
	} else if (rc != EMBER_ENOTFOUND)
		return rest_fail(cx, rc, "malformed _at");
	rc = rest_query_get(cx, "_since", since_s, sizeof(since_s));
	if (rc == EMBER_OK) {
		if (date_parse_fhir(since_s, strlen(since_s), &lo, &hi, NULL) ||
		    lo < 0)
			return rest_fail(cx, EMBER_EINVAL, "_since=%s is not a "
			    "FHIR instant", since_s);
		since = (uint64_t)lo;
	} else if (rc != EMBER_ENOTFOUND)
		return rest_fail(cx, rc, "malformed _since");

	if ((items = calloc((size_t)count + 1, sizeof(*items))) == NULL)
		return rest_fail(cx, EMBER_ENOMEM, "out of memory");
	if ((rc = crud_begin(cx, 0, &t)))
		goto done;
	if (cx->cx_id_len) {
		rc = store_current(t, cx->cx_type, cx->cx_type_len, cx->cx_id,
		    cx->cx_id_len, &row);
		if (rc) {
			rest_fail(cx, rc, "%s/%s is not known", cx->cx_type,
			    cx->cx_id);
			goto done;
		}
	}
	rc = has_at ? crud_history_at(t, cx->cx_id_len ? row.sr_rid : 0,
	    cx->cx_id_len ? NULL : cx->cx_type, cx->cx_type_len, since, cursor,
	    (uint64_t)(at_lo < 0 ? 0 : at_lo), items, (size_t)count, &n,
	    &more) : store_history(t, cx->cx_id_len ? row.sr_rid : 0,
	    cx->cx_id_len ? NULL : cx->cx_type, cx->cx_type_len, since, cursor,
	    items, (size_t)count, &n, &more);
	if (rc) {
		rest_fail(cx, rc, "cannot read the history");
		goto done;
	}
	if ((rc = crud_new_id(id))) {
		rest_fail(cx, rc, "cannot make an id");
		goto done;
	}
	buf_printf(&b, "{\"resourceType\":\"Bundle\",\"id\":\"%s\","
	    "\"type\":\"history\",\"link\":[{\"relation\":\"self\",\"url\":\"",
	    id);
	buf_json_escape(&b, cx->cx_base, strlen(cx->cx_base));
	if (cx->cx_type) {
		buf_putc(&b, '/');
		buf_puts(&b, cx->cx_type);
	}
	if (cx->cx_id_len) {
		buf_putc(&b, '/');
		buf_puts(&b, cx->cx_id);
	}
	buf_puts(&b, "/_history");
	if (cx->cx_query_len) {
		buf_putc(&b, '?');
		buf_json_escape(&b, cx->cx_query, cx->cx_query_len);
	}
	buf_puts(&b, "\"}");
	if (more && n > 0) {
		buf_puts(&b, ",{\"relation\":\"next\",\"url\":\"");
		buf_json_escape(&b, cx->cx_base, strlen(cx->cx_base));
		if (cx->cx_type)
			buf_printf(&b, "/%s", cx->cx_type);
		if (cx->cx_id_len)
			buf_printf(&b, "/%s", cx->cx_id);
		buf_printf(&b, "/_history?_count=%llu",
		    (unsigned long long)count);
		if (since) {
			buf_puts(&b, "&_since=");
			http_percent_encode(&b, since_s, strlen(since_s));
		}
		if (has_at) {
			buf_puts(&b, "&_at=");
			http_percent_encode(&b, at, strlen(at));
		}
		buf_printf(&b, "&_cursor=%llu\"}",
		    (unsigned long long)items[n - 1].shi_last_updated);
	}
	buf_puts(&b, "],\"entry\":[");
	for (i = 0; i < n; i++) {
		if ((rc = store_row(t, items[i].shi_rid, &r)) ||
		    (rc = store_version(t, items[i].shi_rid,
		    items[i].shi_version, &sv))) {
			rest_fail(cx, rc, "history names a missing version");
			goto done;
		}
		if (i > 0)
			buf_putc(&b, ',');
		crud_history_entry(cx, &b, &r, &sv);
	}
	buf_puts(&b, "]}");
	store_txn_abort(t);
	t = NULL;
	if ((rc = rest_json_body(cx, 200, &b)))
		rest_fail(cx, rc, "cannot format the history");
done:
	store_txn_abort(t);
	buf_free(&b);
	free(items);
	return rc;
}
