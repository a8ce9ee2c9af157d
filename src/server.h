/*
 * server.h: what a worker opens once at start-up and shares across
 * requests: the configuration, and per enabled FHIR version its mapped
 * tables and its store (prefix server_).  Nothing here changes while
 * requests are served.
 */
#ifndef EMBER_SERVER_H
#define EMBER_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "version.h"

struct tables;
struct store;

struct server_version {
	int			 svv_enabled;
	int			 svv_version;	/* enum fhir_version */
	const struct version_desc *svv_desc;
	struct tables		*svv_tables;	/* mapped read-only */
	struct store		*svv_store;
	uint64_t		 svv_group_seen; /* server_group_touched() */
};

struct store_token;

struct server {
	struct conf		srv_conf;
	struct server_version	srv_v[FHIR_VERSION_COUNT];
	unsigned		srv_helpers;	/* threads a transaction may
						   start to prepare its creates
						   (bundle.c): 0, but in
						   emberctl load */
	uint64_t		srv_prepared;	/* creates prepared so, for
						   emberctl load's summary */
	struct store_token	*srv_token;	/* data_dir/write.lock, or
						   NULL when it cannot be
						   opened */
};

/*
 * Open the tables and stores of every version enabled in c (a copy of c
 * is kept).  Returns EMBER_OK with a new server in *out; otherwise the
 * error of the first thing that failed, with a message in err:
 * EMBER_ETABLES (tables missing or corrupt), EMBER_EIO or EMBER_ESTORE
 * (store), EMBER_ENOMEM.  Free with server_close().
 */
int server_open(const struct conf *c, struct server **out, char *err,
    size_t errsz);

/* Close everything server_open() opened.  NULL is a no-op. */
void server_close(struct server *srv);

/* The version entry of v if enabled, else NULL. */
struct server_version *server_version(struct server *srv, int v);

/*
 * Group commit over the stores of every enabled version (store.h,
 * store_group_begin()), for ember.fcgi.  server_group_begin() starts it
 * on each.  server_group_touched() answers which versions (bit v of
 * enum fhir_version) had write transactions begun since its last call:
 * the request handled in between waits for their commit.
 * server_group_end() commits each store's group durably and answers the
 * versions whose commit failed: 0 when all succeeded.
 */
void server_group_begin(struct server *srv);
unsigned server_group_touched(struct server *srv);
unsigned server_group_end(struct server *srv);

/*
 * The write token of the data folder (store_token_open()), which every
 * store of srv takes before it writes: server_write_try() takes it
 * without waiting, 1 when this process may write now, 0 while another
 * one writes; server_write_drop() gives back one taken so and left
 * unused.
 */
int server_write_try(struct server *srv);
void server_write_drop(struct server *srv);

#endif /* EMBER_SERVER_H */
