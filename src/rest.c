/*
 * rest.c: route a FHIR RESTful request to its interaction; see rest.h.
 *
 * The request target is [base_path][/VERSION][/segments][?query].
 * Routing follows the URL patterns of the specification's http.html:
 * [base], [base]/metadata, [base]/_history, [base]/[type],
 * [base]/[type]/_history, [base]/[type]/[id],
 * [base]/[type]/[id]/_history and [base]/[type]/[id]/_history/[vid].
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "capability.h"
#include "crud.h"
#include "error.h"
#include "http.h"
#include "json.h"
#include "outcome.h"
#include "rest.h"
#include "search.h"
#include "server.h"
#include "store.h"
#include "summary.h"
#include "tables.h"
#include "xml.h"

#define REST_MAX_SEGMENTS	5
#define REST_SEGMENT_MAX	128

struct rest_route {
	char	seg[REST_MAX_SEGMENTS][REST_SEGMENT_MAX + 1];
	size_t	len[REST_MAX_SEGMENTS];
	int	n;
};

int
rest_header_str(struct rest_response *rs, const char *name,
    const char *value, size_t len)
{
	/* Header values come from our own data, but never let CR/LF in. */
	if (memchr(value, '\r', len) != NULL ||
	    memchr(value, '\n', len) != NULL)
		return EMBER_EINVAL;
	buf_puts(&rs->rs_headers, name);
	buf_append(&rs->rs_headers, ": ", 2);
	buf_append(&rs->rs_headers, value, len);
	buf_append(&rs->rs_headers, "\r\n", 2);
	return buf_error(&rs->rs_headers);
}

int
rest_header(struct rest_response *rs, const char *name, const char *fmt, ...)
{
	va_list	ap;
	char	value[1400];
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value))
		return EMBER_EINVAL;
	return rest_header_str(rs, name, value, (size_t)n);
}

int
rest_content_type(struct rest_ctx *cx)
{
	static const char	 charset[] = "; charset=utf-8";
	const char		*mime;
	char			 value[128];
	size_t			 len;

	mime = cx->cx_v == NULL ? "application/fhir+json" : cx->cx_xml ?
	    cx->cx_v->svv_desc->vd_xml_mime : cx->cx_v->svv_desc->vd_json_mime;
	len = strlen(mime);
	if (len > sizeof(value) - sizeof(charset))
		return EMBER_EINVAL;
	memcpy(value, mime, len);
	memcpy(value + len, charset, sizeof(charset) - 1);
	return rest_header_str(cx->cx_rs, "Content-Type", value,
	    len + sizeof(charset) - 1);
}

int
rest_json_body(struct rest_ctx *cx, int status, struct buf *b)
{
	struct rest_response	*rs = cx->cx_rs;
	cJSON			*tree = NULL;
	char			 err[256];
	int			 rc;

	if ((rc = buf_error(b)))
		return rc;
	rs->rs_status = status;
	rest_content_type(cx);
	buf_free(&rs->rs_body);
	if ((cx->cx_pretty || cx->cx_xml) && b->len &&
	    json_parse(b->data, b->len, 10000, &tree, NULL, 0) == EMBER_OK) {
		if (cx->cx_xml) {
			rc = xml_from_json_err(cx->cx_v->svv_tables, tree,
			    cx->cx_pretty, &rs->rs_body, err, sizeof(err));
			if (rc) {
				/* Not expressible in XML (a key the model
				 * does not know): say so in JSON. */
				cx->cx_xml = 0;
				buf_reset(&rs->rs_headers);
				rest_content_type(cx);
				buf_free(&rs->rs_body);
				rs->rs_status = 500;
				outcome_write(&rs->rs_body, "error", "exception",
				    err);
			}
		} else
			rc = json_write(&rs->rs_body, tree, 1);
		cJSON_Delete(tree);
		buf_free(b);
		return buf_error(&rs->rs_body);
	}
	rs->rs_body = *b;
	memset(b, 0, sizeof(*b));
	return EMBER_OK;
}

int
rest_fail(struct rest_ctx *cx, int err, const char *fmt, ...)
{
	struct rest_response	*rs = cx->cx_rs;
	struct buf		 b = BUF_INIT;
	char			 diag[1024];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(diag, sizeof(diag), fmt, ap);
	va_end(ap);
	/* Drop whatever a handler had started to answer. */
	store_txn_abort(rs->rs_txn);
	rs->rs_txn = NULL;
	rs->rs_borrowed = NULL;
	rs->rs_borrowed_len = 0;
	buf_reset(&rs->rs_headers);
	if (outcome_write(&b, "error", outcome_issue_code(err), diag) ||
	    rest_json_body(cx, outcome_status(err), &b)) {
		buf_free(&b);
		rs->rs_status = 500;
	}
	return err;
}

int
rest_fail_request(struct server *srv, const struct rest_request *rq,
    struct rest_response *rs, int err, const char *diag)
{
	struct rest_ctx cx;

	rest_response_free(rs);
	memset(rs, 0, sizeof(*rs));
	memset(&cx, 0, sizeof(cx));
	cx.cx_server = srv;
	cx.cx_rq = rq;
	cx.cx_rs = rs;
	cx.cx_query = "";
	return rest_fail(&cx, err, "%s", diag);
}

int
rest_valid_id(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > 64)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int
rest_query_get(const struct rest_ctx *cx, const char *name, char *out,
    size_t outsz)
{
	const char		*p = cx->cx_query, *end = p + cx->cx_query_len;
	struct http_param	 hp;
	char			 nm[64];
	size_t			 n;

	while (http_query_next(&p, end, &hp)) {
		if (hp.hp_name_len >= sizeof(nm) ||
		    http_percent_decode(hp.hp_name, hp.hp_name_len, 1, nm, &n) ||
		    strcmp(nm, name) != 0)
			continue;
		if (out == NULL)
			return EMBER_OK;	/* only asked whether it is there */
		if (hp.hp_value_len >= outsz)
			return EMBER_EINVAL;
		return http_percent_decode(hp.hp_value, hp.hp_value_len, 1, out,
		    &n);
	}
	return EMBER_ENOTFOUND;
}

/* Split the path after the base into decoded segments. */
static int
rest_split(const char *p, const char *end, struct rest_route *rt)
{
	const char *slash;

	rt->n = 0;
	while (p < end && *p == '/')
		p++;
	while (p < end) {
		if ((slash = memchr(p, '/', (size_t)(end - p))) == NULL)
			slash = end;
		if (rt->n == REST_MAX_SEGMENTS ||
		    (size_t)(slash - p) > REST_SEGMENT_MAX)
			return EMBER_ENOTFOUND;
		if (slash == p)	/* "//": an empty segment */
			return EMBER_ENOTFOUND;
		if (http_percent_decode(p, (size_t)(slash - p), 0,
		    rt->seg[rt->n], &rt->len[rt->n]))
			return EMBER_EINVAL;
		rt->n++;
		p = slash < end ? slash + 1 : end;
		/* A trailing slash is tolerated. */
	}
	return EMBER_OK;
}

/* Pick the version on the default base from fhirVersion parameters. */
static int
rest_negotiate_version(const struct rest_request *rq, int *version)
{
	struct http_media	 m;
	const char		*p, *end;
	int			 r, v;

	if (rq->rq_accept != NULL) {
		p = rq->rq_accept;
		end = p + strlen(p);
		while ((r = http_accept_next(&p, end, &m)) != 0)
			if (r > 0 && m.hm_fhir_version != NULL) {
				if (version_from_mime_param(m.hm_fhir_version,
				    m.hm_fhir_version_len, &v))
					return EMBER_ENOTACCEPT;
				*version = v;
				return EMBER_OK;
			}
	}
	if (rq->rq_content_type != NULL &&
	    http_media_parse(rq->rq_content_type, strlen(rq->rq_content_type),
	    &m) == EMBER_OK && m.hm_fhir_version != NULL) {
		if (version_from_mime_param(m.hm_fhir_version,
		    m.hm_fhir_version_len, &v))
			return EMBER_EMEDIA;
		*version = v;
	}
	return EMBER_OK;
}

/* Is this media type one of the JSON ones for the version? */
int
rest_is_json(const struct rest_ctx *cx, const char *t, size_t len)
{
	return http_token_eq(t, len, cx->cx_v->svv_desc->vd_json_mime) ||
	    http_token_eq(t, len, "application/fhir+json") ||
	    http_token_eq(t, len, "application/json+fhir") ||
	    http_token_eq(t, len, "application/json") ||
	    http_token_eq(t, len, "text/json") ||
	    http_token_eq(t, len, "json");
}

/* Is this media type one of the XML ones for the version? */
int
rest_is_xml(const struct rest_ctx *cx, const char *t, size_t len)
{
	return http_token_eq(t, len, cx->cx_v->svv_desc->vd_xml_mime) ||
	    http_token_eq(t, len, "application/fhir+xml") ||
	    http_token_eq(t, len, "application/xml+fhir") ||
	    http_token_eq(t, len, "application/xml") ||
	    http_token_eq(t, len, "text/xml") ||
	    http_token_eq(t, len, "xml");
}

/*
 * Response format: _format wins over Accept; of the Accept entries the
 * highest q between the JSON and XML types wins, JSON on a tie and for
 * wildcards.  An Accept that admits neither gets 406.
 */
static int
rest_negotiate_format(struct rest_ctx *cx)
{
	const struct rest_request	*rq = cx->cx_rq;
	struct http_media		 m;
	const char			*p, *end;
	char				 fmt[128];
	int				 r, rc, any = 0;
	int				 json = -1, xml = -1;

	rc = rest_query_get(cx, "_format", fmt, sizeof(fmt));
	if (rc == EMBER_OK) {
		const char	*t = fmt;
		size_t		 tl = strlen(fmt);

		if (http_media_parse(fmt, strlen(fmt), &m) == EMBER_OK) {
			t = m.hm_type;
			tl = m.hm_type_len;
		}
		if (rest_is_json(cx, t, tl))
			return EMBER_OK;
		if (rest_is_xml(cx, t, tl)) {
			cx->cx_xml = 1;
			return EMBER_OK;
		}
		return rest_fail(cx, EMBER_ENOTACCEPT,
		    "_format=%s is not supported: use json or xml", fmt);
	} else if (rc == EMBER_EINVAL)
		return rest_fail(cx, rc, "malformed _format parameter");
	p = rq->rq_accept ? rq->rq_accept : "";
	end = p + strlen(p);
	while ((r = http_accept_next(&p, end, &m)) != 0) {
		if (r < 0)
			continue;
		any = 1;
		if (m.hm_q == 0)
			continue;
		if (rest_is_json(cx, m.hm_type, m.hm_type_len) ||
		    http_token_eq(m.hm_type, m.hm_type_len, "*/*") ||
		    http_token_eq(m.hm_type, m.hm_type_len, "application/*")) {
			if ((int)m.hm_q > json)
				json = (int)m.hm_q;
		} else if (rest_is_xml(cx, m.hm_type, m.hm_type_len) ||
		    http_token_eq(m.hm_type, m.hm_type_len, "text/*")) {
			if ((int)m.hm_q > xml)
				xml = (int)m.hm_q;
		}
	}
	/* No preference: answer in the format the request came in. */
	if (json == xml && rq->rq_content_type != NULL &&
	    http_media_parse(rq->rq_content_type, strlen(rq->rq_content_type),
	    &m) == EMBER_OK && rest_is_xml(cx, m.hm_type, m.hm_type_len))
		xml = json + 1;
	if (any && json < 0 && xml < 0)
		return rest_fail(cx, EMBER_ENOTACCEPT,
		    "Accept: %s: this server answers %s or %s", rq->rq_accept,
		    cx->cx_v->svv_desc->vd_json_mime,
		    cx->cx_v->svv_desc->vd_xml_mime);
	cx->cx_xml = xml > json;
	return EMBER_OK;
}

/*
 * _summary and _elements of the request, parsed once for every handler
 * that returns resources.  _summary=count is a search's business.
 */
static int
rest_subset_params(struct rest_ctx *cx)
{
	char	v[32];
	int	rc;

	rc = rest_query_get(cx, "_summary", v, sizeof(v));
	if (rc == EMBER_OK) {
		if (summary_parse(v, strlen(v), &cx->cx_summary))
			return rest_fail(cx, EMBER_EINVAL, "_summary=%s: use "
			    "true, text, data, count or false", v);
	} else if (rc != EMBER_ENOTFOUND)
		return rest_fail(cx, rc, "malformed _summary");
	rc = rest_query_get(cx, "_elements", cx->cx_elements,
	    sizeof(cx->cx_elements));
	if (rc == EMBER_OK)
		cx->cx_has_elements = 1;
	else if (rc != EMBER_ENOTFOUND)
		return rest_fail(cx, rc, "malformed or too long _elements");
	return EMBER_OK;
}

int
rest_resource_json(struct rest_ctx *cx, const char *json, size_t len,
    struct buf *out)
{
	cJSON	*tree = NULL;
	char	 err[256];
	int	 rc, mode = cx->cx_summary;

	/* count concerns the Bundle, not its resources. */
	if (mode == SUMMARY_COUNT)
		mode = SUMMARY_FALSE;
	if (mode == SUMMARY_FALSE && !cx->cx_has_elements)
		return buf_append(out, json, len);
	if ((rc = json_parse(json, len, 10000, &tree, err, sizeof(err))))
		return rc;
	rc = summary_apply(cx->cx_v->svv_tables, tree, mode,
	    cx->cx_has_elements ? cx->cx_elements : NULL, cx->cx_subset_err,
	    sizeof(cx->cx_subset_err));
	if (rc == EMBER_OK)
		rc = json_write(out, tree, 0);
	cJSON_Delete(tree);
	return rc;
}

static int
rest_method_is(const struct rest_ctx *cx, const char *m)
{
	return strcmp(cx->cx_rq->rq_method, m) == 0;
}

static int
rest_not_allowed(struct rest_ctx *cx, const char *allow)
{
	rest_fail(cx, EMBER_EMETHOD, "method %s is not allowed here; allowed: %s",
	    cx->cx_rq->rq_method, allow);
	rest_header(cx->cx_rs, "Allow", "%s", allow);
	return EMBER_EMETHOD;
}

static int
rest_is_get(struct rest_ctx *cx)
{
	if (rest_method_is(cx, "HEAD")) {
		cx->cx_rs->rs_no_body = 1;
		return 1;
	}
	return rest_method_is(cx, "GET");
}

static int
rest_route(struct rest_ctx *cx, struct rest_route *rt)
{
	struct tables	*tb = cx->cx_v->svv_tables;
	unsigned	 ti;

	if (rt->n == 0) {
		/* GET [base]?_type=...: a system search; bare, the
		 * capability statement. */
		if (rest_is_get(cx) && rest_query_get(cx, "_type", NULL, 0) !=
		    EMBER_ENOTFOUND)
			return search_handle(cx);
		if (rest_method_is(cx, "OPTIONS") || rest_is_get(cx))
			return capability_handle(cx);
		if (rest_method_is(cx, "POST") && cx->cx_parent == NULL)
			return bundle_handle(cx);
		return rest_not_allowed(cx, "GET, HEAD, OPTIONS");
	}
	if (strcmp(rt->seg[0], "metadata") == 0) {
		if (rt->n != 1)
			return rest_fail(cx, EMBER_ENOTFOUND, "no such path");
		if (rest_is_get(cx))
			return capability_handle(cx);
		return rest_not_allowed(cx, "GET, HEAD");
	}
	if (strcmp(rt->seg[0], "_history") == 0) {
		if (rt->n != 1)
			return rest_fail(cx, EMBER_ENOTFOUND, "no such path");
		if (rest_is_get(cx))
			return crud_history(cx);
		return rest_not_allowed(cx, "GET, HEAD");
	}
	if (tables_resource_lookup(tb, rt->seg[0], rt->len[0], &ti))
		return rest_fail(cx, EMBER_ETYPE,
		    "unknown resource type \"%s\" in FHIR %s", rt->seg[0],
		    cx->cx_v->svv_desc->vd_name);
	cx->cx_type = tables_resource_name(tb, ti);
	cx->cx_type_len = strlen(cx->cx_type);

	if (rt->n == 1) {
		/* PUT, PATCH and DELETE on a type are the conditional forms,
		 * with the query as criteria. */
		if (rest_method_is(cx, "POST"))
			return crud_create(cx);
		if (rest_method_is(cx, "PUT"))
			return crud_update(cx);
		if (rest_method_is(cx, "DELETE"))
			return crud_delete(cx);
		if (rest_method_is(cx, "PATCH") && cx->cx_v->svv_desc->vd_patch)
			return crud_patch(cx);
		if (rest_is_get(cx))
			return search_handle(cx);
		return rest_not_allowed(cx, cx->cx_v->svv_desc->vd_patch ?
		    "GET, HEAD, POST, PUT, PATCH, DELETE" :
		    "GET, HEAD, POST, PUT, DELETE");
	}
	if (strcmp(rt->seg[1], "_history") == 0) {
		if (rt->n != 2)
			return rest_fail(cx, EMBER_ENOTFOUND, "no such path");
		if (rest_is_get(cx))
			return crud_history(cx);
		return rest_not_allowed(cx, "GET, HEAD");
	}
	if (strcmp(rt->seg[1], "_search") == 0) {
		if (rt->n != 2)
			return rest_fail(cx, EMBER_ENOTFOUND, "no such path");
		if (rest_method_is(cx, "POST"))
			return search_handle(cx);
		return rest_not_allowed(cx, "POST");
	}
	if (!rest_valid_id(rt->seg[1], rt->len[1]))
		return rest_fail(cx, EMBER_EINVAL,
		    "\"%s\" is not a valid FHIR id ([A-Za-z0-9-.]{1,64})",
		    rt->seg[1]);
	memcpy(cx->cx_id, rt->seg[1], rt->len[1] + 1);
	cx->cx_id_len = rt->len[1];

	if (rt->n == 2) {
		if (rest_is_get(cx))
			return crud_read(cx);
		if (rest_method_is(cx, "PUT"))
			return crud_update(cx);
		if (rest_method_is(cx, "DELETE"))
			return crud_delete(cx);
		if (rest_method_is(cx, "PATCH") && cx->cx_v->svv_desc->vd_patch)
			return crud_patch(cx);
		return rest_not_allowed(cx, cx->cx_v->svv_desc->vd_patch ?
		    "GET, HEAD, PUT, PATCH, DELETE" : "GET, HEAD, PUT, DELETE");
	}
	if (rt->n == 3 && strcmp(rt->seg[2], "_history") != 0 &&
	    tables_resource_lookup(tb, rt->seg[2], rt->len[2], &ti) ==
	    EMBER_OK) {
		/* [Compartment]/[id]/[type]: a compartment search. */
		if (!rest_is_get(cx))
			return rest_not_allowed(cx, "GET, HEAD");
		memcpy(cx->cx_comp, cx->cx_type, cx->cx_type_len + 1);
		memcpy(cx->cx_comp_id, cx->cx_id, cx->cx_id_len + 1);
		cx->cx_id[0] = '\0';
		cx->cx_id_len = 0;
		cx->cx_type = tables_resource_name(tb, ti);
		cx->cx_type_len = strlen(cx->cx_type);
		return search_handle(cx);
	}
	if (strcmp(rt->seg[2], "_history") != 0)
		return rest_fail(cx, EMBER_ENOTFOUND, "no such path");
	if (rt->n == 3) {
		if (rest_is_get(cx))
			return crud_history(cx);
		return rest_not_allowed(cx, "GET, HEAD");
	}
	if (rt->n == 4) {
		if (rt->len[3] >= sizeof(cx->cx_vid))
			return rest_fail(cx, EMBER_ENOTFOUND,
			    "no such version");
		memcpy(cx->cx_vid, rt->seg[3], rt->len[3] + 1);
		if (rest_is_get(cx))
			return crud_vread(cx);
		return rest_not_allowed(cx, "GET, HEAD");
	}
	return rest_fail(cx, EMBER_ENOTFOUND, "no such path");
}

/* Route and answer; then free the arena of the body's tree, if any. */
static void
rest_dispatch(struct rest_ctx *cx, struct rest_route *rt)
{
	rest_route(cx, rt);
	json_arena_free(cx->cx_arena);
	cx->cx_arena = NULL;
}

int
rest_entry(struct rest_ctx *cx, const char *url, size_t len)
{
	struct rest_route	 rt;
	const char		*q, *end = url + len;
	size_t			 blen = strlen(cx->cx_base);
	int			 rc;

	/* An absolute URL must be on this base. */
	if (len > blen && memcmp(url, cx->cx_base, blen) == 0 &&
	    url[blen] == '/') {
		url += blen;
		len -= blen;
	}
	q = memchr(url, '?', len);
	if (memchr(url, ':', (size_t)((q ? q : end) - url)) != NULL)
		return rest_fail(cx, EMBER_EINVAL, "request url %.*s is not on "
		    "this server's base %s", (int)len, url, cx->cx_base);
	cx->cx_query = q ? q + 1 : "";
	cx->cx_query_len = q ? (size_t)(end - q - 1) : 0;
	if ((rc = rest_split(url, q ? q : end, &rt)))
		return rest_fail(cx, rc, "malformed request url %.*s",
		    (int)len, url);
	rest_dispatch(cx, &rt);
	if (cx->cx_rs->rs_status == 0)
		rest_fail(cx, EMBER_EINTERNAL, "no response");
	return cx->cx_rs->rs_status;
}

/* Append s to cx->cx_base at *n, leaving room for the NUL. */
static void
rest_base_put(struct rest_ctx *cx, size_t *n, const char *s)
{
	http_text_put(cx->cx_base, sizeof(cx->cx_base) - 1, n, s, strlen(s));
}

/*
 * rest_handle() up to the route: cx for rq, answering in rs, and the
 * path after the base and version in rt.  0, or the status of the
 * answer rs holds.
 */
static int
rest_begin(struct server *srv, const struct rest_request *rq,
    struct rest_response *rs, struct rest_ctx *cx, struct rest_route *rt)
{
	const struct conf	*c = &srv->srv_conf;
	const char		*uri = rq->rq_uri, *q, *path_end;
	size_t			 uri_len = strlen(uri), bp_len, n;
	char			 pretty[16];
	int			 version = c->cf_default_version, explicit = 0;
	int			 rc;

	memset(rs, 0, sizeof(*rs));
	/* Room for the usual headers (Content-Type, ETag, Last-Modified,
	 * Location) in one allocation rather than a malloc and a realloc;
	 * should it fail, so will the first header. */
	buf_reserve(&rs->rs_headers, 255);
	memset(cx, 0, sizeof(*cx));
	cx->cx_server = srv;
	cx->cx_rq = rq;
	cx->cx_rs = rs;
	cx->cx_query = "";

	q = memchr(uri, '?', uri_len);
	path_end = q ? q : uri + uri_len;
	if (q != NULL) {
		cx->cx_query = q + 1;
		cx->cx_query_len = (size_t)(uri + uri_len - q - 1);
		if (cx->cx_query_len > c->cf_max_query) {
			rc = rest_fail(cx, EMBER_EURITOOLONG,
			    "query string of %zu bytes exceeds the limit of "
			    "%u", cx->cx_query_len, c->cf_max_query);
			return rs->rs_status;
		}
	}
	if ((size_t)(path_end - uri) > 4096) {
		rest_fail(cx, EMBER_EURITOOLONG, "path too long");
		return rs->rs_status;
	}

	/* The base path, then an optional version segment. */
	bp_len = strlen(c->cf_base_path);
	if ((size_t)(path_end - uri) < bp_len ||
	    memcmp(uri, c->cf_base_path, bp_len) != 0 ||
	    (uri + bp_len < path_end && uri[bp_len] != '/')) {
		rest_fail(cx, EMBER_ENOTFOUND, "not a FHIR endpoint: the "
		    "base is %s", c->cf_base_path);
		return rs->rs_status;
	}
	if ((rc = rest_split(uri + bp_len, path_end, rt))) {
		rest_fail(cx, rc, "malformed path");
		return rs->rs_status;
	}
	if (rt->n > 0 && version_lookup(rt->seg[0], rt->len[0], &version) ==
	    EMBER_OK && strcmp(rt->seg[0], version_get(version)->vd_name) == 0) {
		explicit = 1;
		memmove(&rt->seg[0], &rt->seg[1],
		    sizeof(rt->seg[0]) * (size_t)(rt->n - 1));
		memmove(&rt->len[0], &rt->len[1],
		    sizeof(rt->len[0]) * (size_t)(rt->n - 1));
		rt->n--;
	} else if ((rc = rest_negotiate_version(rq, &version))) {
		rest_fail(cx, rc, "unsupported fhirVersion parameter");
		return rs->rs_status;
	}
	if ((cx->cx_v = server_version(srv, version)) == NULL) {
		rest_fail(cx, EMBER_ENOTFOUND, "FHIR %s is not enabled on this "
		    "server", version_get(version)->vd_name);
		return rs->rs_status;
	}

	/* The configured base_url, or the origin and base_path; then the
	 * version segment when the URL named one.  Cut to fit cx_base. */
	n = 0;
	if (c->cf_base_url[0] != '\0')
		rest_base_put(cx, &n, c->cf_base_url);
	else {
		rest_base_put(cx, &n, rq->rq_origin ? rq->rq_origin : "");
		rest_base_put(cx, &n, c->cf_base_path);
	}
	if (explicit) {
		rest_base_put(cx, &n, "/");
		rest_base_put(cx, &n, cx->cx_v->svv_desc->vd_name);
	}
	cx->cx_base[n] = '\0';

	if (rest_query_get(cx, "_pretty", pretty, sizeof(pretty)) == EMBER_OK)
		cx->cx_pretty = strcmp(pretty, "true") == 0;
	if (rest_negotiate_format(cx) || rest_subset_params(cx))
		return rs->rs_status;
	if (rq->rq_body_too_big) {
		rest_fail(cx, EMBER_ETOOBIG, "request body exceeds the limit "
		    "of %zu bytes", c->cf_max_body);
		return rs->rs_status;
	}
	return 0;
}

int
rest_handle(struct server *srv, const struct rest_request *rq,
    struct rest_response *rs)
{
	struct rest_ctx		 cx;
	struct rest_route	 rt;

	if (rest_begin(srv, rq, rs, &cx, &rt))
		return rs->rs_status;
	rest_dispatch(&cx, &rt);
	if (rs->rs_status == 0)
		rest_fail(&cx, EMBER_EINTERNAL, "no response");
	return rs->rs_status;
}

void
rest_prepare(struct server *srv, struct rest_request *rq)
{
	struct rest_response	 rs;
	struct rest_ctx		 cx;
	struct rest_route	 rt;
	struct crud_ready	*r = NULL;
	unsigned		 ti;

	rq->rq_ready = NULL;
	if (strcmp(rq->rq_method, "POST") != 0 ||
	    rq->rq_if_none_exist != NULL)
		return;
	if (rest_begin(srv, rq, &rs, &cx, &rt) == 0 && rt.n == 1 &&
	    tables_resource_lookup(cx.cx_v->svv_tables, rt.seg[0], rt.len[0],
	    &ti) == EMBER_OK && (r = calloc(1, sizeof(*r))) != NULL) {
		cx.cx_type = tables_resource_name(cx.cx_v->svv_tables, ti);
		cx.cx_type_len = strlen(cx.cx_type);
		if (crud_ready(&cx, r) == EMBER_OK) {
			rq->rq_ready = r;
			r = NULL;
		} else
			crud_ready_free(r);
	}
	free(r);
	rest_response_free(&rs);
}

void
rest_unprepare(struct rest_request *rq)
{
	if (rq->rq_ready == NULL)
		return;
	crud_ready_free(rq->rq_ready);
	free(rq->rq_ready);
	rq->rq_ready = NULL;
}

void
rest_response_body(const struct rest_response *rs, const char **p,
    size_t *len)
{
	if (rs->rs_no_body) {
		*p = "";
		*len = 0;
	} else if (rs->rs_borrowed != NULL) {
		*p = rs->rs_borrowed;
		*len = rs->rs_borrowed_len;
	} else {
		*p = rs->rs_body.data ? rs->rs_body.data : "";
		*len = rs->rs_body.len;
	}
}

void
rest_response_free(struct rest_response *rs)
{
	if (rs == NULL)
		return;
	store_txn_abort(rs->rs_txn);
	rs->rs_txn = NULL;
	buf_free(&rs->rs_headers);
	buf_free(&rs->rs_body);
}
