/*
 * crud.h: the instance- and type-level interactions on stored resources:
 * read, vread, create, update, patch, delete and history, and their
 * conditional forms (prefix crud_).
 *
 * Each handler takes the routed request context (rest.h), runs exactly
 * one store transaction, and answers through cx->cx_rs; it returns the
 * error it answered with, or EMBER_OK.
 */
#ifndef EMBER_CRUD_H
#define EMBER_CRUD_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"

struct rest_ctx;
struct store;
struct store_txn;
struct store_row;
struct tables;

int crud_read(struct rest_ctx *cx);
int crud_vread(struct rest_ctx *cx);
int crud_create(struct rest_ctx *cx);
int crud_update(struct rest_ctx *cx);
int crud_delete(struct rest_ctx *cx);
int crud_patch(struct rest_ctx *cx);
int crud_history(struct rest_ctx *cx);

/*
 * Parse the request body by its Content-Type (the version's JSON or XML
 * types and their aliases) into a new tree in *out.  Answers the request
 * (415, 400) and returns the error otherwise.
 */
int crud_parse_tree(struct rest_ctx *cx, cJSON **out);

/*
 * Check that resource is a JSON object of resource type type whose id,
 * if present, is a string, and (tb not NULL) that it fits the version's
 * type model: known elements only, arrays where elements repeat,
 * primitives of their JSON kind.  Returns EMBER_OK or EMBER_EINVAL with
 * a reason naming the element in err.
 */
int crud_check_resource(const struct tables *tb, const cJSON *resource,
    const char *type, char *err, size_t errsz);

/*
 * Store resource as the next version of Type/id inside write transaction
 * t: stamps id, meta.versionId and meta.lastUpdated into the tree (the
 * client's values are replaced; they lead the object, in that order),
 * writes it minified, moves the current row and replaces the resource's
 * search postings with those of the new version (index.h; tb are the
 * version's tables).  resource may be NULL for a delete (method
 * STORE_DELETE): the postings go.  The JSON written is appended to json
 * when json is not NULL.  Returns EMBER_OK with the new row in *row (may
 * be NULL); store errors otherwise.
 */
int crud_put(const struct tables *tb, struct store_txn *t, const char *type,
    size_t type_len, const char *id, size_t id_len, cJSON *resource,
    int method, struct store_row *row, struct buf *json);

/*
 * A new resource made ready for crud_put() outside any transaction:
 * checked, stamped as version 1 of its id at a lastUpdated given in
 * advance (store_clock_reserve()), written, packed and indexed.  What is
 * left to do under the write lock is the puts.
 */
struct crud_prep {
	uint64_t	 cp_when;	/* meta.lastUpdated stamped */
	int		 cp_claim;	/* cp_when was read from the clock,
					   not reserved: crud_put_prepared()
					   claims it (store_clock_claim()) */
	struct buf	 cp_json;	/* the stamped resource, minified */
	struct buf	 cp_packed;	/* cp_json as store_pack() left it */
	struct buf	 cp_keys;	/* its postings (index_keys()) */
	/* cp_keys sorted, and that packed (store_keys_ready()) */
	struct buf	 cp_sorted;
	struct buf	 cp_keys_packed;
};

/*
 * Fill p for resource, to be created as type/id at when: what
 * crud_check_resource() and crud_put() would do but the store's reads
 * and writes.  It stamps the tree; work is scratch, kept for the next.
 * It touches nothing shared but reads of tb and s, so threads may
 * prepare at once, each with its own p and work.
 * EMBER_OK; EMBER_EINVAL (the check failed: crud_put() without p gives
 * the error its answer), EMBER_ENOMEM.
 */
int crud_prepare(const struct tables *tb, const struct store *s,
    const char *type, size_t type_len, const char *id, cJSON *resource,
    uint64_t when, struct buf *work, struct crud_prep *p);

/*
 * crud_put() for a new resource prepared by crud_prepare() with s's
 * dictionary.  A lastUpdated read from the clock (cp_claim) that is no
 * longer past the last one handed out is moved to the next: in the
 * JSON, its packed form and its _lastUpdated key.  EMBER_ECONFLICT when
 * the id is taken or that cannot be done, with nothing written but the
 * clock: crud_put() the resource then.
 */
int crud_put_prepared(struct store_txn *t, const struct store *s,
    const char *type, size_t type_len, const char *id, size_t id_len,
    struct crud_prep *p, struct store_row *row, struct buf *json);

/* Free what p holds (zeroed, it holds nothing). */
void crud_prep_free(struct crud_prep *p);

/*
 * A create made ready before its transaction (rest_prepare(), for a
 * server that commits several requests at once): its body parsed and
 * checked, its id made, and stamped with the time read from the clock
 * then (crud_prepare()).  The create stores it so if, in its
 * transaction, that time is still past every lastUpdated handed out;
 * else as any create would.
 */
struct crud_ready {
	const struct server_version *cr_v;
	const char		*cr_type;	/* from the tables */
	char			 cr_id[23];
	struct json_arena	*cr_arena;	/* cr_tree's */
	cJSON			*cr_tree;	/* taken by the create */
	struct crud_prep	 cr_prep;
};

/*
 * Make cx's create (routed to POST [type], with no transaction) ready
 * in r: EMBER_OK, or the error it met (answered in cx's response, which
 * the create will answer again).
 */
int crud_ready(struct rest_ctx *cx, struct crud_ready *r);

/* Free what r holds (zeroed, it holds nothing). */
void crud_ready_free(struct crud_ready *r);

/*
 * Make a new server-assigned id: 22 characters of [0-9A-Za-z], the
 * current time in microseconds (9 digits of base 62, most significant
 * first, until the year 2398) and then 13 random ones (77 bits from the
 * kernel's random source).  Ids made later sort after (bytewise), so a
 * write's new id lands next to the last one's in every tree and index
 * keyed by it: durable creates of the benchmark's Patient, four to a
 * commit, wrote 5.5 pages each instead of 14 to 16 with random ids.
 * out must hold 23 bytes.
 * EMBER_OK or EMBER_EIO.
 */
int crud_new_id(char out[23]);

/* crud_new_id()'s id for time us and random bytes rnd. */
#define CRUD_ID_RANDOM	13
void crud_id_at(uint64_t us, const unsigned char rnd[CRUD_ID_RANDOM],
    char out[23]);

#endif /* EMBER_CRUD_H */
