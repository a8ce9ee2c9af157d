/*
 * rest.h: the core's request and response, and the entry point that
 * routes a FHIR RESTful request to its interaction (prefix rest_).
 *
 * The core knows nothing of FastCGI: fcgi/ember_fcgi.c (and the tests)
 * fill a struct rest_request, call rest_handle(), write out the struct
 * rest_response, then call rest_response_free().
 */
#ifndef EMBER_REST_H
#define EMBER_REST_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"

struct server;
struct server_version;
struct store_txn;
struct crud_prep;
struct crud_ready;

/* What the web server tells us.  All fields are borrowed; any may be
 * NULL except rq_method and rq_uri. */
struct rest_request {
	const char	*rq_method;		/* "GET" */
	const char	*rq_uri;		/* raw target: /fhir/Patient?x=1 */
	const char	*rq_origin;		/* "http://host:port", for links */
	const char	*rq_accept;
	const char	*rq_content_type;
	const char	*rq_if_match;
	const char	*rq_if_none_match;
	const char	*rq_if_modified_since;
	const char	*rq_if_none_exist;
	const char	*rq_prefer;
	const char	*rq_body;
	size_t		 rq_body_len;
	int		 rq_body_too_big;	/* Content-Length over max_body:
						   the body was not read */
	struct crud_ready *rq_ready;		/* rest_prepare()'s, or NULL */
};

/* What we answer.  Free with rest_response_free(). */
struct rest_response {
	int		 rs_status;
	struct buf	 rs_headers;	/* "Name: value\r\n" lines */
	struct buf	 rs_body;	/* owned body, or: */
	const char	*rs_borrowed;	/* body borrowed from the store map, */
	size_t		 rs_borrowed_len; /* valid while rs_txn is open */
	struct store_txn *rs_txn;	/* read transaction to end at free */
	int		 rs_no_body;	/* HEAD or 304: headers only */
	uint64_t	 rs_last_updated; /* of the version answered, or 0 */
};

/* Parsed route and negotiated details of one request (core-internal). */
struct rest_ctx {
	struct server		*cx_server;
	struct server_version	*cx_v;
	const struct rest_request *cx_rq;
	struct rest_response	*cx_rs;
	char			 cx_base[1200];	/* absolute base URL */
	const char		*cx_type;	/* resource type, from the tables */
	size_t			 cx_type_len;
	char			 cx_id[65];	/* decoded id, or "" */
	size_t			 cx_id_len;
	char			 cx_vid[16];	/* decoded versionId, or "" */
	const char		*cx_query;	/* raw query after '?', or "" */
	size_t			 cx_query_len;
	int			 cx_pretty;	/* _pretty=true */
	int			 cx_xml;	/* answer in XML */
	int			 cx_summary;	/* enum summary_mode */
	int			 cx_has_elements;
	char			 cx_elements[512]; /* _elements, decoded */
	char			 cx_subset_err[256];
	char			 cx_comp[65];	/* compartment search: its */
	char			 cx_comp_id[65];/* type and id, or "" */
	struct json_arena	*cx_arena;	/* the body's tree, freed when
						   the handler returns */
	cJSON			*cx_tree;	/* a Bundle entry's resource,
						   already parsed: the handler
						   takes it instead of a body */
	struct store_txn	*cx_parent;	/* set inside a transaction
						   Bundle: handlers work in it */
	struct crud_prep	*cx_prep;	/* cx_tree, already checked and
						   made ready (crud.h); only a
						   create takes it */
};

/*
 * Handle one request.  Always fills rs with a complete answer (an
 * OperationOutcome on error) and returns the status it chose.
 */
int rest_handle(struct server *srv, const struct rest_request *rq,
    struct rest_response *rs);

/*
 * For a server that answers several requests with one commit: do for rq,
 * before its transaction, what needs no store.  A create of a JSON
 * resource (POST [base]/Type without If-None-Exist) is parsed, checked,
 * given its id and made ready to store (crud_ready()); rest_handle()
 * then stores it as made, or handles rq as usual when it cannot.
 * Anything else is left as it is.  rest_unprepare() frees what it made.
 */
void rest_prepare(struct server *srv, struct rest_request *rq);
void rest_unprepare(struct rest_request *rq);

/* The body to write: borrowed or owned.  Empty for rs_no_body. */
void rest_response_body(const struct rest_response *rs, const char **p,
    size_t *len);

/* End any transaction and free the buffers.  NULL is a no-op. */
void rest_response_free(struct rest_response *rs);

/*
 * Append one "Name: value" header line to rs, the value len bytes at
 * value (no printf: the read path uses this).  Returns EMBER_OK,
 * EMBER_EINVAL for a value holding CR or LF (nothing is appended), or
 * EMBER_ENOMEM.
 */
int rest_header_str(struct rest_response *rs, const char *name,
    const char *value, size_t len);

/* As rest_header_str() with the value printf-style; EMBER_EINVAL also
 * for a value over 1,399 bytes. */
int rest_header(struct rest_response *rs, const char *name,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Append the Content-Type of the answer: the version's FHIR JSON or XML
 * media type (as cx_xml says) with "; charset=utf-8"; FHIR JSON when no
 * version was chosen.  Returns as rest_header_str().
 */
int rest_content_type(struct rest_ctx *cx);

/*
 * Set the response to status with an owned JSON body taken from b (b is
 * left empty), adding the version's FHIR JSON Content-Type; pretty-prints
 * when the request asked for _pretty.
 */
int rest_json_body(struct rest_ctx *cx, int status, struct buf *b);

/*
 * Answer with an OperationOutcome for err and the status that err maps
 * to (see outcome.c).  diag is a printf-style diagnostic.  Returns err.
 */
int rest_fail(struct rest_ctx *cx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Answer rq with an OperationOutcome for err (FHIR JSON, diag its
 * diagnostics) in place of what rs held: for ember.fcgi, when the group
 * commit that a request's writes waited for failed.  Returns err.
 */
int rest_fail_request(struct server *srv, const struct rest_request *rq,
    struct rest_response *rs, int err, const char *diag);

/*
 * Find query parameter name in the request's query string; the decoded
 * value goes to out (outsz bytes; out NULL only tests presence).  Returns
 * EMBER_OK, EMBER_ENOTFOUND, or EMBER_EINVAL for a bad escape or a value
 * too long.
 */
int rest_query_get(const struct rest_ctx *cx, const char *name, char *out,
    size_t outsz);

/*
 * Route one Bundle entry: url is the entry's request.url (relative to
 * the base, or absolute on it), the method, headers and body are in
 * cx->cx_rq, and cx->cx_parent (if set) is the Bundle's transaction.
 * Answers through cx->cx_rs like rest_handle() and returns the status.
 */
int rest_entry(struct rest_ctx *cx, const char *url, size_t len);

/*
 * Append a stored resource's JSON to out as the request asks: as it is,
 * or reduced by _summary/_elements (summary.c).  Returns EMBER_OK,
 * EMBER_EINVAL for an _elements the type cannot honour (reason in
 * cx->cx_subset_err), EMBER_ENOMEM.
 */
int rest_resource_json(struct rest_ctx *cx, const char *json, size_t len,
    struct buf *out);

/* Is media type t one of the version's JSON (XML) types, or an alias? */
int rest_is_json(const struct rest_ctx *cx, const char *t, size_t len);
int rest_is_xml(const struct rest_ctx *cx, const char *t, size_t len);

/* A FHIR id: [A-Za-z0-9\-\.]{1,64}.  Returns 1 when s is one. */
int rest_valid_id(const char *s, size_t len);

#endif /* EMBER_REST_H */
