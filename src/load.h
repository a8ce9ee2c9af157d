/*
 * load.h: bulk loading of resources into one version's store, for
 * `emberctl load` and `make run` (prefix load_).
 *
 * Accepted input: a JSON file holding one resource (with an id: it is
 * stored under that id, as an update would), a collection Bundle (each
 * entry's resource likewise), an NDJSON file (one resource per line),
 * a transaction or batch Bundle (processed exactly as POST [base] would,
 * see bundle.h: one nested commit per transaction), or a folder of such
 * files, walked in name order.  Other resources go many to one nested
 * commit.  All of it is one bulk transaction (store.h): see load_paths().
 */
#ifndef EMBER_LOAD_H
#define EMBER_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct server_version;
struct tables;

struct load_stats {
	uint64_t	ls_resources;	/* resources stored */
	uint64_t	ls_files;	/* files read */
	uint64_t	ls_commits;	/* LMDB commits */
};

/*
 * Called after every file, Bundle or batch with the running totals; may
 * be NULL.
 */
typedef void (*load_progress_fn)(void *arg, const struct load_stats *st);

/*
 * Load each of the npaths paths (a file, a folder, or "-" for standard
 * input) into the store of version sv of srv, in order.  max_depth
 * bounds JSON nesting; batch is the number of resources of NDJSON and
 * collection Bundles per nested commit.  Everything is written in the
 * store's bulk mode (store.h): each transaction Bundle, batch entry or
 * batch of resources commits into one bulk transaction, itself committed
 * durably every LOAD_BULK_MAX (100,000) resources or LOAD_BULK_BYTES
 * (256 MiB) of JSON read, and at the end.  On
 * failure what was stored before the failing batch or Bundle is kept.
 * The totals are added to *st (ls_commits counts the durable commits).
 * Returns EMBER_OK; EMBER_EINVAL for a file that is not valid input
 * (message in err, naming the file and line, and nothing of that batch
 * is stored); EMBER_EIO; store errors.
 */
int load_paths(struct server *srv, struct server_version *sv,
    char *const paths[], int npaths, unsigned max_depth, unsigned batch,
    struct load_stats *st, load_progress_fn progress, void *arg, char *err,
    size_t errsz);

/*
 * Rebuild the search postings of every current resource of sv from its
 * stored JSON (after an upgrade of the tables or the indexer), batch
 * resources per commit.  *count receives the number reindexed.  Safe
 * while the server serves.  Returns EMBER_OK or a store/tables error.
 */
int load_reindex(struct server_version *sv, unsigned batch, uint64_t *count);

#endif /* EMBER_LOAD_H */
