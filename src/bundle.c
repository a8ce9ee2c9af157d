/*
 * bundle.c: batch and transaction Bundles; see bundle.h.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "bundle.h"
#include "cond.h"
#include "crud.h"
#include "date.h"
#include "error.h"
#include "http.h"
#include "json.h"
#include "outcome.h"
#include "rest.h"
#include "server.h"
#include "store.h"
#include "tables.h"

#define BUNDLE_KEY_MAX	140	/* "Type/id" */
#define BUNDLE_CACHE	64	/* conditional references remembered */
#define BUNDLE_PREP_MIN	8	/* creates worth a helper thread */

enum bundle_order { ORDER_DELETE, ORDER_POST, ORDER_PUT, ORDER_GET };

struct bundle_entry {
	cJSON		*be_entry;		/* borrowed from the Bundle */
	cJSON		*be_resource;		/* borrowed from the Bundle */
	const char	*be_method;
	const char	*be_url;
	const char	*be_full_url;
	const char	*be_if_match;
	const char	*be_if_none_match;
	const char	*be_if_none_exist;
	const char	*be_if_modified_since;
	int		 be_order;		/* enum bundle_order */
	char		 be_key[BUNDLE_KEY_MAX];/* identity: "Type/id" */
	char		 be_id[65];		/* id assigned to a POST */
	int		 be_status;
	struct buf	 be_result;		/* the response entry JSON */
	size_t		 be_prep;		/* its slot in b_prep, + 1 */
};

/*
 * A transaction's plain creates, made ready on a helper thread
 * (srv_helpers) while the entries before them are stored: checked,
 * stamped, written, packed and indexed (crud_prepare()).  Each is taken
 * by one thread, by moving its state from TODO to BUSY.  The helper
 * takes them in order.  The Bundle's own thread, reaching a create,
 * takes it itself if the helper has not yet; and while the helper is
 * busy with it, it prepares later ones rather than wait.  The helper
 * touches only its entries' resource trees, which the Bundle's thread
 * leaves alone until they are DONE (or FAILED: that entry then runs as
 * any other, and its error is reported as usual).
 */
enum bundle_prep_state { PREP_TODO, PREP_BUSY, PREP_DONE, PREP_FAILED };

struct bundle_prep {
	struct bundle		*bp_b;
	size_t			*bp_entry;	/* entry of each slot */
	struct crud_prep	*bp_prep;
	atomic_int		*bp_state;	/* enum bundle_prep_state */
	size_t			 bp_n;
	uint64_t		 bp_when;	/* slot k's lastUpdated: + k */
	struct buf		 bp_work;	/* the Bundle's thread's scratch */
	struct json_arena	*bp_arena;	/* the Bundle's tree's, if any */
	atomic_int		 bp_stop;
	pthread_t		 bp_thread;
	int			 bp_started;
};

/* A resolved conditional reference. */
struct bundle_cached {
	char	*bc_criteria;
	char	 bc_key[BUNDLE_KEY_MAX];
};

struct bundle {
	struct server		*b_srv;
	struct server_version	*b_sv;
	const char		*b_base;
	int			 b_transaction;
	int			 b_return;
	struct bundle_entry	*b_entries;
	size_t			 b_n;
	struct store_txn	*b_txn;		/* the transaction's */
	struct bundle_entry	**b_by_url;	/* entries with a fullUrl and
						   an identity, by fullUrl */
	size_t			 b_nurl;
	uint64_t		 b_url_lens;	/* bundle_url_bit() of theirs */
	struct bundle_cached	 b_cache[BUNDLE_CACHE];
	size_t			 b_ncache;
	struct bundle_prep	 b_prep;
	/* The failure, for an OperationOutcome. */
	int			 b_fail_status;
	char			 b_fail_code[32];
	char			 b_diag[1024];
};

static int
bundle_fail(struct bundle *b, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
bundle_fail(struct bundle *b, int status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->b_diag, sizeof(b->b_diag), fmt, ap);
	va_end(ap);
	b->b_fail_status = status;
	snprintf(b->b_fail_code, sizeof(b->b_fail_code), "%s", code);
	return EMBER_EINVAL;
}

/*
 * A set of entries keyed by fullUrl (open addressing): which entry came
 * first with a fullUrl, without comparing every pair of entries.
 */
struct bundle_urlset {
	size_t	*bs_slot;	/* entry index + 1; 0 when free */
	size_t	 bs_mask;
};

static int
bundle_urlset_init(struct bundle_urlset *set, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2 && cap < SIZE_MAX / 4)
		cap *= 2;
	if ((set->bs_slot = calloc(cap, sizeof(*set->bs_slot))) == NULL)
		return EMBER_ENOMEM;
	set->bs_mask = cap - 1;
	return EMBER_OK;
}

/*
 * The first entry put in set with the fullUrl of entry i, or, when
 * there is none, SIZE_MAX after putting entry i in.
 */
static size_t
bundle_urlset_put(struct bundle_urlset *set, const struct bundle_entry *e,
    size_t i)
{
	const unsigned char	*p = (const unsigned char *)e[i].be_full_url;
	uint32_t		 h = 2166136261u;	/* FNV-1a */
	size_t			 at;

	for (; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	for (at = h & set->bs_mask; set->bs_slot[at] != 0;
	    at = (at + 1) & set->bs_mask)
		if (strcmp(e[set->bs_slot[at] - 1].be_full_url,
		    e[i].be_full_url) == 0)
			return set->bs_slot[at] - 1;
	set->bs_slot[at] = i + 1;
	return SIZE_MAX;
}

/*
 * A bit for a string of length len: a string whose bit is not among the
 * fullUrls' cannot be one, and is not looked up.
 */
static uint64_t
bundle_url_bit(size_t len)
{
	return (uint64_t)1 << (len & 63);
}

/* The type part of a request url ("Patient", "Patient/1", "Patient?x"). */
static size_t
bundle_url_type(const char *url, const char *base, const char **type)
{
	size_t blen = strlen(base), n = 0;

	if (strncmp(url, base, blen) == 0 && url[blen] == '/')
		url += blen + 1;
	while (url[n] && url[n] != '/' && url[n] != '?')
		n++;
	*type = url;
	return n;
}

/* Read the entries and check what can be checked before running them. */
static int
bundle_read_entries(struct bundle *b, cJSON *bundle)
{
	const cJSON		*entries, *e, *rq;
	struct bundle_entry	*be;
	struct bundle_urlset	 urls = { NULL, 0 };
	size_t			 i = 0, j;
	int			 n, rc = EMBER_OK;

	entries = json_get(bundle, "entry");
	if (entries != NULL && !cJSON_IsArray(entries))
		return bundle_fail(b, 400, "structure", "Bundle.entry must be "
		    "an array");
	n = cJSON_GetArraySize(entries);
	if ((size_t)n > b->b_srv->srv_conf.cf_max_entries)
		return bundle_fail(b, 413, "too-long", "the Bundle has %d "
		    "entries; the limit is %u", n,
		    b->b_srv->srv_conf.cf_max_entries);
	if (n == 0)
		return EMBER_OK;
	if ((b->b_entries = calloc((size_t)n, sizeof(*b->b_entries))) == NULL)
		return EMBER_ENOMEM;
	b->b_n = (size_t)n;
	if (b->b_transaction && bundle_urlset_init(&urls, (size_t)n))
		return EMBER_ENOMEM;
	cJSON_ArrayForEach(e, entries) {
		be = &b->b_entries[i];
		rq = json_get(e, "request");
		be->be_method = json_string(rq, "method");
		be->be_url = json_string(rq, "url");
		be->be_if_match = json_string(rq, "ifMatch");
		be->be_if_none_match = json_string(rq, "ifNoneMatch");
		be->be_if_none_exist = json_string(rq, "ifNoneExist");
		be->be_if_modified_since = json_string(rq, "ifModifiedSince");
		be->be_full_url = json_string(e, "fullUrl");
		be->be_entry = (cJSON *)(uintptr_t)e;
		be->be_resource = json_get(e, "resource");
		if (be->be_method == NULL || be->be_url == NULL) {
			rc = bundle_fail(b, 400, "required", "entry %zu: "
			    "request.method and request.url are required", i);
			goto done;
		}
		if (strcmp(be->be_method, "DELETE") == 0)
			be->be_order = ORDER_DELETE;
		else if (strcmp(be->be_method, "POST") == 0)
			be->be_order = ORDER_POST;
		else if (strcmp(be->be_method, "PUT") == 0 ||
		    strcmp(be->be_method, "PATCH") == 0)
			be->be_order = ORDER_PUT;
		else if (strcmp(be->be_method, "GET") == 0 ||
		    strcmp(be->be_method, "HEAD") == 0)
			be->be_order = ORDER_GET;
		else {
			rc = bundle_fail(b, 400, "value", "entry %zu: "
			    "method \"%s\" is not a Bundle method", i,
			    be->be_method);
			goto done;
		}
		if ((be->be_order == ORDER_POST || be->be_order == ORDER_PUT) &&
		    !cJSON_IsObject(be->be_resource)) {
			rc = bundle_fail(b, 400, "required", "entry %zu: %s "
			    "needs a resource", i, be->be_method);
			goto done;
		}
		if (be->be_order == ORDER_POST && be->be_url[0] == '\0') {
			rc = bundle_fail(b, 400, "value", "entry %zu: empty "
			    "request.url", i);
			goto done;
		}
		/* fullUrls identify entries: no two alike (but GETs). */
		if (b->b_transaction && be->be_full_url != NULL &&
		    be->be_order != ORDER_GET &&
		    (j = bundle_urlset_put(&urls, b->b_entries, i)) !=
		    SIZE_MAX) {
			rc = bundle_fail(b, 400, "duplicate", "entries %zu and "
			    "%zu have the same fullUrl %s", j, i,
			    be->be_full_url);
			goto done;
		}
		i++;
	}
done:
	free(urls.bs_slot);
	return rc;
}

/* Match criteria for type in the Bundle's transaction. */
static int
bundle_match(struct bundle *b, const char *type, size_t tlen,
    const char *criteria, struct cond_result *cr, char *err, size_t errsz)
{
	struct store_txn	*t = b->b_txn;
	int			 rc;

	if (t == NULL && (rc = store_txn_begin(b->b_sv->svv_store, 0, &t)))
		return rc;
	rc = cond_match(t, b->b_sv->svv_tables, type, tlen, criteria,
	    strlen(criteria), 1, cr, err,
	    errsz);
	if (t != b->b_txn)
		store_txn_abort(t);
	return rc;
}

/* Fill key with "Type/id" of the single match, or explain. */
static int
bundle_match_one(struct bundle *b, size_t i, const char *type, size_t tlen,
    const char *criteria, char *key, int *found)
{
	struct cond_result	 cr = { 0, NULL, 0 };
	struct store_txn	*t = b->b_txn;
	struct store_row	 row;
	char			 err[512];
	int			 rc;

	*found = 0;
	if ((rc = bundle_match(b, type, tlen, criteria, &cr, err,
	    sizeof(err))))
		return rc == EMBER_EINVAL ? bundle_fail(b, 400, "invalid",
		    "entry %zu: %s", i, err) : rc;
	if (cr.cr_count > 1) {
		cond_result_free(&cr);
		return bundle_fail(b, 412, "multiple-matches", "entry %zu: "
		    "%.*s?%s matches %zu resources", i, (int)tlen, type,
		    criteria, cr.cr_count);
	}
	if (cr.cr_count == 1) {
		if (t == NULL &&
		    (rc = store_txn_begin(b->b_sv->svv_store, 0, &t)))
			goto done;
		if ((rc = store_row(t, cr.cr_rids[0], &row)) == EMBER_OK) {
			snprintf(key, BUNDLE_KEY_MAX, "%.*s",
			    (int)row.sr_key_len, row.sr_key);
			*found = 1;
		}
		if (t != b->b_txn)
			store_txn_abort(t);
	}
done:
	cond_result_free(&cr);
	return rc;
}

/*
 * Give every entry its identity before any runs: POSTs a new id (or the
 * match of ifNoneExist), PUTs the id of their url or of their criteria's
 * match.  Transactions only: a batch's entries are independent.
 */
static int
bundle_assign(struct bundle *b)
{
	struct bundle_entry	*be;
	const char		*type, *q, *body_id;
	char			 id[23];
	size_t			 i, j, tlen;
	int			 rc, found;

	for (i = 0; i < b->b_n; i++) {
		be = &b->b_entries[i];
		tlen = bundle_url_type(be->be_url, b->b_base, &type);
		if (tlen == 0 || tlen > 64)
			continue;	/* routing will answer it */
		q = strchr(be->be_url, '?');
		if (be->be_order == ORDER_POST) {
			if (be->be_if_none_exist != NULL) {
				for (j = 0; j < i; j++)
					if (b->b_entries[j].be_order ==
					    ORDER_POST &&
					    b->b_entries[j].be_if_none_exist &&
					    strcmp(b->b_entries[j].be_url,
					    be->be_url) == 0 &&
					    strcmp(b->b_entries[j].
					    be_if_none_exist,
					    be->be_if_none_exist) == 0)
						return bundle_fail(b, 400,
						    "duplicate", "entries %zu "
						    "and %zu are the same "
						    "conditional create", j, i);
				if ((rc = bundle_match_one(b, i, type, tlen,
				    be->be_if_none_exist, be->be_key, &found)))
					return rc;
				if (found)
					continue;
			}
			if ((rc = crud_new_id(id)))
				return rc;
			memcpy(be->be_id, id, sizeof(id));
			snprintf(be->be_key, sizeof(be->be_key), "%.*s/%s",
			    (int)tlen, type, id);
		} else if (be->be_order == ORDER_PUT && q != NULL &&
		    strcmp(be->be_method, "PUT") == 0) {
			if ((rc = bundle_match_one(b, i, type, tlen, q + 1,
			    be->be_key, &found)))
				return rc;
			if (found)
				continue;
			/* No match: created under the body's id or a new
			 * one, which the entry's body is given now. */
			body_id = json_string(be->be_resource, "id");
			if (body_id == NULL) {
				if ((rc = crud_new_id(id)) ||
				    (rc = json_set_string(be->be_resource, "id",
				    id)))
					return rc;
				body_id = id;
			}
			snprintf(be->be_key, sizeof(be->be_key), "%.*s/%s",
			    (int)tlen, type, body_id);
		} else if (be->be_order == ORDER_PUT) {
			snprintf(be->be_key, sizeof(be->be_key), "%s",
			    be->be_url + (strncmp(be->be_url, b->b_base,
			    strlen(b->b_base)) == 0 ? strlen(b->b_base) + 1 :
			    0));
		}
	}
	return EMBER_OK;
}

static int
bundle_url_cmp(const void *a, const void *b)
{
	return strcmp((*(struct bundle_entry *const *)a)->be_full_url,
	    (*(struct bundle_entry *const *)b)->be_full_url);
}

/* Index the entries that have both a fullUrl and an identity. */
static int
bundle_index(struct bundle *b)
{
	size_t i;

	if (b->b_n == 0)
		return EMBER_OK;
	if ((b->b_by_url = calloc(b->b_n, sizeof(*b->b_by_url))) == NULL)
		return EMBER_ENOMEM;
	for (i = 0; i < b->b_n; i++)
		if (b->b_entries[i].be_full_url != NULL &&
		    b->b_entries[i].be_key[0] != '\0') {
			b->b_by_url[b->b_nurl++] = &b->b_entries[i];
			b->b_url_lens |= bundle_url_bit(strlen(
			    b->b_entries[i].be_full_url));
		}
	qsort(b->b_by_url, b->b_nurl, sizeof(*b->b_by_url), bundle_url_cmp);
	return EMBER_OK;
}

/* The identity of a fullUrl, or NULL. */
static const char *
bundle_lookup(const struct bundle *b, const char *ref)
{
	struct bundle_entry	 key, *kp = &key, **found;

	if (b->b_nurl == 0 || !(b->b_url_lens & bundle_url_bit(strlen(ref))))
		return NULL;
	key.be_full_url = ref;
	found = bsearch(&kp, b->b_by_url, b->b_nurl, sizeof(*b->b_by_url),
	    bundle_url_cmp);
	return found ? (*found)->be_key : NULL;
}

/* Resolve a conditional reference "Type?criteria" (cached). */
static int
bundle_conditional_ref(struct bundle *b, size_t i, const char *ref,
    char *key)
{
	const char	*q = strchr(ref, '?');
	size_t		 k;
	int		 rc, found;

	for (k = 0; k < b->b_ncache; k++)
		if (strcmp(b->b_cache[k].bc_criteria, ref) == 0) {
			memcpy(key, b->b_cache[k].bc_key, BUNDLE_KEY_MAX);
			return EMBER_OK;
		}
	if ((rc = bundle_match_one(b, i, ref, (size_t)(q - ref), q + 1, key,
	    &found)))
		return rc;
	if (!found)
		return bundle_fail(b, 404, "not-found", "entry %zu: conditional "
		    "reference %s matches no resource", i, ref);
	if (b->b_ncache < BUNDLE_CACHE &&
	    (b->b_cache[b->b_ncache].bc_criteria = strdup(ref)) != NULL) {
		memcpy(b->b_cache[b->b_ncache].bc_key, key, BUNDLE_KEY_MAX);
		b->b_ncache++;
	}
	return EMBER_OK;
}

/*
 * Rewrite, in entry i's resource, every string that is the fullUrl of an
 * entry (references, uris) and every conditional reference.
 */
static int
bundle_rewrite(struct bundle *b, size_t i, cJSON *node)
{
	const char	*to, *v, *q;
	char		 key[BUNDLE_KEY_MAX];
	cJSON		*c;
	int		 rc;

	for (c = node->child; c != NULL; c = c->next) {
		if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
			if ((rc = bundle_rewrite(b, i, c)))
				return rc;
			continue;
		}
		if (!cJSON_IsString(c) || (v = c->valuestring) == NULL)
			continue;
		if (b->b_transaction && (to = bundle_lookup(b, v)) != NULL) {
			if (cJSON_SetValuestring(c, to) == NULL)
				return EMBER_ENOMEM;
			continue;
		}
		if (c->string == NULL || strcmp(c->string, "reference") != 0)
			continue;
		if (strncmp(v, "urn:uuid:", 9) == 0 ||
		    strncmp(v, "urn:oid:", 8) == 0) {
			if (b->b_transaction)
				return bundle_fail(b, 404, "not-found", "entry "
				    "%zu: reference %s names no entry of the "
				    "Bundle", i, v);
			continue;
		}
		/* Type?criteria: the criteria may hold URLs (Synthea's
		 * Practitioner?identifier=http://hl7.org/...|npi), an
		 * absolute reference has its "://" before the '?'. */
		if ((q = strchr(v, '?')) != NULL && v[0] != '#' &&
		    memmem(v, (size_t)(q - v), "://", 3) == NULL) {
			if ((rc = bundle_conditional_ref(b, i, v, key)))
				return rc;
			if (cJSON_SetValuestring(c, key) == NULL)
				return EMBER_ENOMEM;
		}
	}
	return EMBER_OK;
}

/* Copy a header value of rs into out (empty if absent). */
static void
bundle_header(const struct rest_response *rs, const char *name, char *out,
    size_t outsz)
{
	const char	*p = rs->rs_headers.data, *end = p + rs->rs_headers.len;
	const char	*eol;
	size_t		 n = strlen(name);

	out[0] = '\0';
	for (; p != NULL && p < end; p = eol + 2) {
		if ((eol = strstr(p, "\r\n")) == NULL)
			return;
		if ((size_t)(eol - p) > n + 2 && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			snprintf(out, outsz, "%.*s", (int)(eol - p - n - 2),
			    p + n + 2);
			return;
		}
	}
}

/* Take slot k if no thread has: 1 when the caller is to prepare it. */
static int
bundle_prep_take(struct bundle_prep *bp, size_t k)
{
	int	todo = PREP_TODO;

	return atomic_compare_exchange_strong(&bp->bp_state[k], &todo,
	    PREP_BUSY);
}

static void
bundle_prep_one(struct bundle_prep *bp, size_t k, struct buf *work)
{
	struct bundle		*b = bp->bp_b;
	struct bundle_entry	*be = &b->b_entries[bp->bp_entry[k]];
	const char		*type;
	size_t			 tlen;
	int			 rc;

	tlen = bundle_url_type(be->be_url, b->b_base, &type);
	rc = crud_prepare(b->b_sv->svv_tables, b->b_sv->svv_store, type, tlen,
	    be->be_id, be->be_resource, bp->bp_when + k, work,
	    &bp->bp_prep[k]);
	atomic_store(&bp->bp_state[k], rc ? PREP_FAILED : PREP_DONE);
}

static void *
bundle_prep_helper(void *arg)
{
	struct bundle_prep	*bp = arg;
	struct buf		 work = BUF_INIT;
	size_t			 k;

	/* Stamping frees nodes of the Bundle's tree. */
	json_arena_use(bp->bp_arena);
	for (k = 0; k < bp->bp_n && !atomic_load(&bp->bp_stop); k++)
		if (bundle_prep_take(bp, k))
			bundle_prep_one(bp, k, &work);
	buf_free(&work);
	json_arena_use(NULL);
	return NULL;
}

/*
 * Start preparing the transaction's plain creates (POST with a resource
 * and no ifNoneExist), when the server allows a helper and there are
 * enough of them to be worth a thread.  Their lastUpdated values are
 * taken from the store's clock now, one each, in entry order.  Without
 * a helper, nothing changes: every entry runs as a single request would.
 */
static int
bundle_prep_start(struct bundle *b)
{
	struct bundle_prep	*bp = &b->b_prep;
	struct bundle_entry	*be;
	size_t			 i, n = 0;
	int			 rc;

	if (b->b_srv->srv_helpers == 0 || b->b_txn == NULL)
		return EMBER_OK;
	for (i = 0; i < b->b_n; i++) {
		be = &b->b_entries[i];
		if (be->be_order == ORDER_POST && be->be_id[0] != '\0' &&
		    be->be_resource != NULL && be->be_if_none_exist == NULL &&
		    strcmp(be->be_method, "POST") == 0)
			be->be_prep = ++n;
	}
	if (n < BUNDLE_PREP_MIN) {
		for (i = 0; i < b->b_n; i++)
			b->b_entries[i].be_prep = 0;
		return EMBER_OK;
	}
	bp->bp_b = b;
	bp->bp_n = n;
	bp->bp_arena = json_arena_current();
	if ((bp->bp_entry = calloc(n, sizeof(*bp->bp_entry))) == NULL ||
	    (bp->bp_prep = calloc(n, sizeof(*bp->bp_prep))) == NULL ||
	    (bp->bp_state = calloc(n, sizeof(*bp->bp_state))) == NULL)
		return EMBER_ENOMEM;
	for (i = 0; i < b->b_n; i++)
		if (b->b_entries[i].be_prep)
			bp->bp_entry[b->b_entries[i].be_prep - 1] = i;
	for (i = 0; i < n; i++)
		atomic_init(&bp->bp_state[i], PREP_TODO);
	atomic_init(&bp->bp_stop, 0);
	if ((rc = store_clock_reserve(b->b_txn, (unsigned)n, &bp->bp_when)))
		return rc;
	/* Should the thread not start, this thread prepares them all. */
	bp->bp_started = pthread_create(&bp->bp_thread, NULL,
	    bundle_prep_helper, bp) == 0;
	return EMBER_OK;
}

/*
 * The prepared create of entry i, or NULL (not one, or its check failed).
 * Until the helper is through with it, prepare later ones meanwhile.
 */
static struct crud_prep *
bundle_prep_get(struct bundle *b, size_t i)
{
	struct bundle_prep	*bp = &b->b_prep;
	size_t			 k, j;
	int			 st;

	if (b->b_entries[i].be_prep == 0 || bp->bp_n == 0)
		return NULL;
	k = b->b_entries[i].be_prep - 1;
	if (bundle_prep_take(bp, k))
		bundle_prep_one(bp, k, &bp->bp_work);
	for (j = k + 1; (st = atomic_load(&bp->bp_state[k])) == PREP_BUSY;) {
		while (j < bp->bp_n && !bundle_prep_take(bp, j))
			j++;
		if (j < bp->bp_n)
			bundle_prep_one(bp, j, &bp->bp_work);
		else
			sched_yield();
	}
	return st == PREP_DONE ? &bp->bp_prep[k] : NULL;
}

/* Stop the helper, wait for it, and free what was prepared. */
static void
bundle_prep_end(struct bundle *b)
{
	struct bundle_prep	*bp = &b->b_prep;
	size_t			 k;

	if (bp->bp_started) {
		atomic_store(&bp->bp_stop, 1);
		pthread_join(bp->bp_thread, NULL);
		bp->bp_started = 0;
	}
	if (bp->bp_prep != NULL && bp->bp_state != NULL)
		for (k = 0; k < bp->bp_n; k++) {
			if (atomic_load(&bp->bp_state[k]) == PREP_DONE)
				b->b_srv->srv_prepared++;
			crud_prep_free(&bp->bp_prep[k]);
		}
	free(bp->bp_prep);
	free(bp->bp_entry);
	free(bp->bp_state);
	buf_free(&bp->bp_work);
	memset(bp, 0, sizeof(*bp));
}

/* Run one entry through the ordinary handlers; record its result. */
static int
bundle_run_entry(struct bundle *b, size_t i)
{
	struct bundle_entry	*be = &b->b_entries[i];
	struct crud_prep	*prep;
	struct rest_request	 rq;
	struct rest_response	 rs;
	struct rest_ctx		 cx;
	struct buf		 body = BUF_INIT;
	const char		*p;
	char			 loc[1400], etag[64], inst[DATE_INSTANT_LEN];
	size_t			 len;
	int			 rc, with_resource;

	/* First: until then the helper may be at work on its resource. */
	prep = bundle_prep_get(b, i);
	memset(&rq, 0, sizeof(rq));
	rq.rq_method = be->be_method;
	rq.rq_uri = be->be_url;
	rq.rq_content_type = b->b_sv->svv_desc->vd_json_mime;
	rq.rq_if_match = be->be_if_match;
	rq.rq_if_none_match = be->be_if_none_match;
	rq.rq_if_modified_since = be->be_if_modified_since;
	rq.rq_if_none_exist = be->be_if_none_exist;
	memset(&cx, 0, sizeof(cx));
	cx.cx_prep = prep;
	if (be->be_resource != NULL && strcmp(be->be_method, "PATCH") != 0) {
		/* POST and PUT take the parsed resource itself. */
		cx.cx_tree = cJSON_DetachItemViaPointer(be->be_entry,
		    be->be_resource);
		be->be_resource = NULL;
	} else if (be->be_resource != NULL) {
		if ((rc = json_write(&body, be->be_resource, 0)))
			return rc;
		rq.rq_body = body.data;
		rq.rq_body_len = body.len;
	}
	cx.cx_server = b->b_srv;
	cx.cx_v = b->b_sv;
	cx.cx_rq = &rq;
	cx.cx_rs = &rs;
	cx.cx_parent = b->b_txn;
	cx.cx_query = "";
	snprintf(cx.cx_base, sizeof(cx.cx_base), "%s", b->b_base);
	if (be->be_id[0] != '\0') {
		cx.cx_id_len = strlen(be->be_id);
		memcpy(cx.cx_id, be->be_id, cx.cx_id_len + 1);
	}
	memset(&rs, 0, sizeof(rs));
	be->be_status = rest_entry(&cx, be->be_url, strlen(be->be_url));
	rest_response_body(&rs, &p, &len);

	bundle_header(&rs, "Location", loc, sizeof(loc));
	bundle_header(&rs, "ETag", etag, sizeof(etag));
	with_resource = be->be_status < 300 && len > 0 &&
	    (be->be_order == ORDER_GET ||
	    b->b_return == BUNDLE_RETURN_REPRESENTATION);
	buf_puts(&be->be_result, "{");
	if (with_resource) {
		buf_puts(&be->be_result, "\"resource\":");
		buf_append(&be->be_result, p, len);
		buf_putc(&be->be_result, ',');
	}
	buf_printf(&be->be_result, "\"response\":{\"status\":\"%d\"",
	    be->be_status);
	if (loc[0]) {
		buf_puts(&be->be_result, ",\"location\":\"");
		buf_json_escape(&be->be_result, loc, strlen(loc));
		buf_putc(&be->be_result, '"');
	}
	if (etag[0]) {
		buf_puts(&be->be_result, ",\"etag\":\"");
		buf_json_escape(&be->be_result, etag, strlen(etag));
		buf_putc(&be->be_result, '"');
	}
	if (rs.rs_last_updated != 0) {
		date_format_instant(rs.rs_last_updated, inst);
		buf_printf(&be->be_result, ",\"lastModified\":\"%s\"", inst);
	}
	if (len > 0 && (be->be_status >= 400 ||
	    (b->b_return == BUNDLE_RETURN_OUTCOME && !with_resource &&
	    len > 27 && memcmp(p, "{\"resourceType\":\"Operation", 26) == 0))) {
		buf_puts(&be->be_result, ",\"outcome\":");
		buf_append(&be->be_result, p, len);
	}
	buf_puts(&be->be_result, "}}");

	if (be->be_status >= 400 && b->b_transaction) {
		cJSON *oo = cJSON_ParseWithLength(p, len);
		const cJSON *issue = cJSON_GetArrayItem(
		    json_get(oo, "issue"), 0);
		const char *code = json_string(issue, "code");
		const char *diag = json_string(issue, "diagnostics");

		bundle_fail(b, be->be_status, code ? code : "processing",
		    "entry %zu (%s %s) failed: %s", i, be->be_method,
		    be->be_url, diag ? diag : "");
		cJSON_Delete(oo);
		rc = EMBER_EINVAL;
	} else
		rc = buf_error(&be->be_result);
	rest_response_free(&rs);
	cJSON_Delete(cx.cx_tree);	/* a handler that never took it */
	buf_free(&body);
	return rc;
}

static int
bundle_execute(struct bundle *b)
{
	size_t	i;
	int	order, rc;

	for (order = ORDER_DELETE; order <= ORDER_GET; order++)
		for (i = 0; i < b->b_n; i++) {
			if (b->b_entries[i].be_order != order)
				continue;
			if ((rc = bundle_run_entry(b, i)))
				return rc;
		}
	return EMBER_OK;
}

static int
bundle_response(struct bundle *b, struct buf *out)
{
	char	id[23];
	size_t	i;
	int	rc;

	if ((rc = crud_new_id(id)))
		return rc;
	buf_printf(out, "{\"resourceType\":\"Bundle\",\"id\":\"%s\","
	    "\"type\":\"%s\",\"entry\":[", id, b->b_transaction ?
	    "transaction-response" : "batch-response");
	for (i = 0; i < b->b_n; i++) {
		if (i > 0)
			buf_putc(out, ',');
		buf_append(out, b->b_entries[i].be_result.data,
		    b->b_entries[i].be_result.len);
	}
	buf_puts(out, "]}");
	return buf_error(out);
}

int
bundle_run(struct server *srv, struct server_version *sv, const char *base,
    cJSON *bundle, int ret, struct buf *out, int *status,
    struct bundle_tally *tally)
{
	struct bundle	 b;
	const char	*type;
	size_t		 i;
	int		 rc, st;

	memset(&b, 0, sizeof(b));
	b.b_srv = srv;
	b.b_sv = sv;
	b.b_base = base;
	b.b_return = ret;
	type = json_string(bundle, "type");
	if (json_string(bundle, "resourceType") == NULL ||
	    strcmp(json_string(bundle, "resourceType"), "Bundle") != 0) {
		rc = bundle_fail(&b, 400, "invalid", "POST to the base takes a "
		    "Bundle");
	} else if (type == NULL || (strcmp(type, "transaction") != 0 &&
	    strcmp(type, "batch") != 0)) {
		rc = bundle_fail(&b, 400, "invalid", "Bundle.type must be "
		    "batch or transaction, not \"%s\"", type ? type : "");
	} else {
		b.b_transaction = strcmp(type, "transaction") == 0;
		rc = bundle_read_entries(&b, bundle);
	}
	if (rc == EMBER_OK && b.b_transaction &&
	    (rc = store_txn_begin(sv->svv_store, 1, &b.b_txn)))
		bundle_fail(&b, outcome_status(rc), "exception", "cannot begin "
		    "the transaction: %s", ember_strerror(rc));
	if (rc == EMBER_OK && b.b_transaction &&
	    (rc = bundle_assign(&b)) == EMBER_OK)
		rc = bundle_index(&b);
	for (i = 0; rc == EMBER_OK && i < b.b_n; i++)
		if (b.b_entries[i].be_resource != NULL)
			rc = bundle_rewrite(&b, i, b.b_entries[i].be_resource);
	if (rc == EMBER_OK && (rc = bundle_prep_start(&b)))
		bundle_fail(&b, outcome_status(rc), "exception", "cannot "
		    "prepare the transaction: %s", ember_strerror(rc));
	if (rc == EMBER_OK)
		rc = bundle_execute(&b);
	bundle_prep_end(&b);
	if (rc == EMBER_OK && b.b_txn != NULL) {
		rc = store_txn_commit(b.b_txn);
		b.b_txn = NULL;
		if (rc)
			bundle_fail(&b, outcome_status(rc), "exception",
			    "the transaction could not be committed: %s",
			    ember_strerror(rc));
	}
	store_txn_abort(b.b_txn);
	if (rc == EMBER_OK) {
		*status = 200;
		rc = bundle_response(&b, out);
		if (tally != NULL) {
			memset(tally, 0, sizeof(*tally));
			tally->bt_failed = -1;
			for (i = 0; i < b.b_n; i++) {
				st = b.b_entries[i].be_status;
				if (st == 200 || st == 201)
					tally->bt_written++;
				if (st >= 400 && tally->bt_failed < 0) {
					tally->bt_failed = (long)i;
					tally->bt_status = st;
				}
			}
		}
	} else {
		if (b.b_fail_status == 0)
			bundle_fail(&b, outcome_status(rc), outcome_issue_code(rc),
			    "%s", ember_strerror(rc));
		*status = b.b_fail_status;
		rc = outcome_write(out, "error", b.b_fail_code, b.b_diag);
	}
	for (i = 0; i < b.b_n; i++)
		buf_free(&b.b_entries[i].be_result);
	for (i = 0; i < b.b_ncache; i++)
		free(b.b_cache[i].bc_criteria);
	free(b.b_by_url);
	free(b.b_entries);
	return rc;
}

int
bundle_handle(struct rest_ctx *cx)
{
	const struct rest_request *rq = cx->cx_rq;
	struct buf	 out = BUF_INIT;
	cJSON		*bundle = NULL;
	int		 rc, status, ret = BUNDLE_RETURN_MINIMAL;

	if ((rc = crud_parse_tree(cx, &bundle)))
		return rc;
	if (rq->rq_prefer != NULL) {
		if (strstr(rq->rq_prefer, "return=representation"))
			ret = BUNDLE_RETURN_REPRESENTATION;
		else if (strstr(rq->rq_prefer, "return=OperationOutcome"))
			ret = BUNDLE_RETURN_OUTCOME;
	}
	rc = bundle_run(cx->cx_server, cx->cx_v, cx->cx_base, bundle, ret, &out,
	    &status, NULL);
	cJSON_Delete(bundle);
	if (rc) {
		buf_free(&out);
		return rest_fail(cx, rc, "cannot answer the Bundle");
	}
	rc = rest_json_body(cx, status, &out);
	buf_free(&out);
	return rc;
}

int
bundle_resolve_collection(struct server_version *sv, cJSON *bundle,
    char *err, size_t errsz)
{
	struct bundle		 b;
	struct bundle_entry	*be;
	const cJSON		*entries, *e, *res;
	const char		*rt, *id;
	size_t			 i = 0;
	int			 rc = EMBER_OK;

	memset(&b, 0, sizeof(b));
	b.b_sv = sv;
	b.b_base = "";
	b.b_transaction = 1;	/* references name entries: resolve them */
	entries = json_get(bundle, "entry");
	if (cJSON_GetArraySize(entries) == 0)
		return EMBER_OK;
	if ((b.b_entries = calloc((size_t)cJSON_GetArraySize(entries),
	    sizeof(*b.b_entries))) == NULL)
		return EMBER_ENOMEM;
	cJSON_ArrayForEach(e, entries) {
		be = &b.b_entries[i];
		res = json_get(e, "resource");
		rt = json_string(res, "resourceType");
		id = json_string(res, "id");
		if (rt == NULL) {
			snprintf(err, errsz, "entry %zu: a collection entry "
			    "needs a resource", i);
			rc = EMBER_EINVAL;
			goto done;
		}
		if (id == NULL) {	/* stored like a create: a new id */
			char newid[23];

			if ((rc = crud_new_id(newid)) ||
			    (rc = json_set_string((cJSON *)(uintptr_t)res, "id",
			    newid)))
				goto done;
			id = json_string(res, "id");
		}
		be->be_full_url = json_string(e, "fullUrl");
		be->be_resource = (cJSON *)(uintptr_t)res;
		snprintf(be->be_key, sizeof(be->be_key), "%s/%s", rt, id);
		i++;
	}
	b.b_n = i;
	if ((rc = bundle_index(&b)))
		goto done;
	for (i = 0; rc == EMBER_OK && i < b.b_n; i++)
		rc = bundle_rewrite(&b, i, b.b_entries[i].be_resource);
	if (rc == EMBER_EINVAL)
		snprintf(err, errsz, "%s", b.b_diag);
done:
	for (i = 0; i < b.b_ncache; i++)
		free(b.b_cache[i].bc_criteria);
	free(b.b_by_url);
	free(b.b_entries);
	return rc;
}
