/*
 * server.c: open the tables and stores of the enabled versions; see
 * server.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "server.h"
#include "store.h"
#include "tables.h"

int
server_open(const struct conf *c, struct server **out, char *err,
    size_t errsz)
{
	struct server		*srv;
	struct server_version	*sv;
	struct store_opts	 so;
	char			 path[CONF_PATH_MAX + 64], msg[256];
	int			 v, rc;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return EMBER_ENOMEM;
	srv->srv_conf = *c;
	memset(&so, 0, sizeof(so));
	so.so_map_size = c->cf_map_size_mb * 1024 * 1024;
	so.so_durable = c->cf_durability == CONF_DURABLE;
	so.so_recent = c->cf_recent_postings;

	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		sv = &srv->srv_v[v];
		sv->svv_version = v;
		sv->svv_desc = version_get(v);
		if (!(c->cf_versions & (1U << v)))
			continue;
		snprintf(path, sizeof(path), "%s/%s.tables", c->cf_tables_dir,
		    sv->svv_desc->vd_dir);
		if ((rc = tables_open(path, &sv->svv_tables))) {
			snprintf(err, errsz, "%s: %s", path, ember_strerror(rc));
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/%s", c->cf_data_dir,
		    sv->svv_desc->vd_dir);
		if ((rc = store_open(path, &so, &sv->svv_store, msg,
		    sizeof(msg)))) {
			snprintf(err, errsz, "%s", msg);
			goto fail;
		}
		sv->svv_enabled = 1;
	}
	/* In the folder the stores made.  Without it (a folder not
	 * writable) writers just wait for LMDB's lock. */
	snprintf(path, sizeof(path), "%s/write.lock", c->cf_data_dir);
	if (store_token_open(path, &srv->srv_token) == EMBER_OK)
		for (v = 0; v < FHIR_VERSION_COUNT; v++)
			if (srv->srv_v[v].svv_enabled)
				store_token_use(srv->srv_v[v].svv_store,
				    srv->srv_token);
	*out = srv;
	return EMBER_OK;
fail:
	server_close(srv);
	return rc;
}

void
server_close(struct server *srv)
{
	int v;

	if (srv == NULL)
		return;
	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		store_close(srv->srv_v[v].svv_store);
		tables_close(srv->srv_v[v].svv_tables);
	}
	store_token_close(srv->srv_token);
	free(srv);
}

struct server_version *
server_version(struct server *srv, int v)
{
	if (v < 0 || v >= FHIR_VERSION_COUNT || !srv->srv_v[v].svv_enabled)
		return NULL;
	return &srv->srv_v[v];
}

void
server_group_begin(struct server *srv)
{
	int v;

	for (v = 0; v < FHIR_VERSION_COUNT; v++)
		if (srv->srv_v[v].svv_enabled)
			store_group_begin(srv->srv_v[v].svv_store);
}

unsigned
server_group_touched(struct server *srv)
{
	struct server_version	*sv;
	uint64_t		 n;
	unsigned		 mask = 0;
	int			 v;

	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		sv = &srv->srv_v[v];
		if (!sv->svv_enabled)
			continue;
		n = store_group_writes(sv->svv_store);
		if (n != sv->svv_group_seen)
			mask |= 1u << v;
		sv->svv_group_seen = n;
	}
	return mask;
}

unsigned
server_group_end(struct server *srv)
{
	unsigned	mask = 0;
	int		v;

	for (v = 0; v < FHIR_VERSION_COUNT; v++)
		if (srv->srv_v[v].svv_enabled &&
		    store_group_end(srv->srv_v[v].svv_store) != EMBER_OK)
			mask |= 1u << v;
	return mask;
}

int
server_write_try(struct server *srv)
{
	return store_token_try(srv->srv_token);
}

void
server_write_drop(struct server *srv)
{
	store_token_drop(srv->srv_token);
}
