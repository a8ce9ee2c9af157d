/*
 * bundle.h: batch and transaction Bundles, POST [base] (prefix bundle_).
 *
 * A transaction is one LMDB write transaction: every entry runs in it
 * (store_txn_borrow), so entries see each other's writes and the whole
 * Bundle commits, or aborts on the first failing entry and leaves the
 * store exactly as it was.  Entries
 * run in the order http.html gives (DELETE, POST, PUT/PATCH, GET/HEAD)
 * through the same handlers as single requests.  Before any entry runs,
 * every POST gets its id, conditional creates and updates are resolved,
 * and every reference to an entry's fullUrl (urn:uuid:, urn:oid: or a
 * URL) and every conditional reference (Type?criteria) in the Bundle's
 * resources is rewritten to Type/id.  A batch runs each entry on its own.
 */
#ifndef EMBER_BUNDLE_H
#define EMBER_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct buf;
struct rest_ctx;
struct server;
struct server_version;

/* Answer POST [base] with a batch or transaction Bundle body. */
int bundle_handle(struct rest_ctx *cx);

/* What a Bundle's response entries carry besides status and headers. */
enum bundle_return {
	BUNDLE_RETURN_MINIMAL = 0,
	BUNDLE_RETURN_REPRESENTATION,
	BUNDLE_RETURN_OUTCOME
};

/*
 * What a Bundle's entries were answered, without reading the response
 * (emberctl load): bundle_run() fills it when not NULL and *status is 200.
 */
struct bundle_tally {
	uint64_t	bt_written;	/* entries answered 200 or 201 */
	long		bt_failed;	/* the first answered 4xx or 5xx, or -1 */
	int		bt_status;	/* its status */
};

/*
 * Process bundle (a parsed batch or transaction Bundle, rewritten in
 * place) against version sv of srv; base is the absolute base URL.
 * On return *status is the HTTP status and out holds the response: a
 * batch-response or transaction-response Bundle (status 200), or an
 * OperationOutcome naming the failing entry (a failed transaction:
 * nothing was stored).  Returns EMBER_OK, or EMBER_ENOMEM when no answer
 * could be built.
 */
int bundle_run(struct server *srv, struct server_version *sv,
    const char *base, cJSON *bundle, int ret, struct buf *out, int *status,
    struct bundle_tally *tally);

/*
 * Make a collection Bundle loadable entry by entry: every string in its
 * resources that equals an entry's fullUrl (urn:uuid:, urn:oid: or a
 * URL) becomes that entry's Type/id, and conditional references are
 * resolved against version sv's store.  A resource without an id gets a
 * new one, as a create would.  Returns EMBER_OK; EMBER_EINVAL (reason
 * in err) for an entry without a resource, or a reference that resolves
 * to nothing;
 * EMBER_ENOMEM; store errors.
 */
int bundle_resolve_collection(struct server_version *sv, cJSON *bundle,
    char *err, size_t errsz);

#endif /* EMBER_BUNDLE_H */
