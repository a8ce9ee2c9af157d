/*
 * conf.h: Ember's configuration: one struct, read from ember.conf and
 * overridden by EMBER_* environment variables (prefix conf_).
 *
 * The file is "key = value" lines; '#' starts a comment.  Every key is
 * declared once, with its type and bounds, in the table in conf.c, and
 * is validated when read.  ember.conf(5) documents the keys.
 */
#ifndef EMBER_CONF_H
#define EMBER_CONF_H

#include <stddef.h>

#define CONF_PATH_MAX	1024
#define CONF_ERR_MAX	256

enum conf_durability {
	CONF_DURABLE = 0,	/* fsync on every commit */
	CONF_RELAXED		/* metadata not synced: a crash may undo
				   the last commits, never corrupt */
};

struct conf {
	char	 cf_data_dir[CONF_PATH_MAX];	/* stores, one folder per version */
	char	 cf_tables_dir[CONF_PATH_MAX];	/* compiled <ver>.tables */
	char	 cf_base_url[CONF_PATH_MAX];	/* public base for absolute links;
						   empty: taken from the request */
	char	 cf_base_path[128];		/* URL path of the default base */
	int	 cf_default_version;		/* enum fhir_version */
	unsigned cf_versions;			/* bit per enabled version */
	size_t	 cf_max_body;			/* request body, bytes */
	unsigned cf_max_depth;			/* JSON/XML nesting */
	unsigned cf_max_entries;		/* Bundle entries */
	unsigned cf_max_count;			/* largest _count */
	unsigned cf_default_count;		/* page size without _count */
	unsigned cf_max_query;			/* query string, bytes */
	unsigned cf_max_delete;			/* conditional delete, matches */
	int	 cf_durability;			/* enum conf_durability */
	size_t	 cf_map_size_mb;		/* LMDB map size per version */
	unsigned cf_recent_postings;		/* store_opts so_recent */
	unsigned cf_group_commit;		/* requests a commit may serve */
	int	 cf_debug_plan;			/* allow _debug search plans */
};

/* Fill c with the built-in defaults.  Cannot fail. */
void conf_defaults(struct conf *c);

/*
 * Set one key from its text value, validating it against the key table.
 * Returns EMBER_OK, or EMBER_ECONFIG with a message in err (err may be
 * NULL) for an unknown key or a bad value; c is untouched on failure.
 */
int conf_set(struct conf *c, const char *key, const char *value,
    char *err, size_t errsz);

/*
 * Read a config file into c (keys not in the file keep their values).
 * Returns EMBER_OK; EMBER_EIO when the file cannot be opened (errno
 * kept); EMBER_ECONFIG with "path:line: message" in err for a bad line.
 */
int conf_load_file(struct conf *c, const char *path, char *err, size_t errsz);

/*
 * Apply environment overrides: for each key, EMBER_<KEY> in upper case
 * (EMBER_DATA_DIR, EMBER_MAX_BODY, ...).  Returns as conf_set().
 */
int conf_load_env(struct conf *c, char *err, size_t errsz);

/*
 * The usual start-up sequence: defaults, then the file named by
 * $EMBER_CONF or by path (if not NULL; a missing default file is not an
 * error, a missing named one is), then the environment.
 */
int conf_init(struct conf *c, const char *path, char *err, size_t errsz);

/* Write every key and its current value, one "key = value" line each. */
void conf_dump(const struct conf *c, void (*emit)(void *, const char *),
    void *arg);

#endif /* EMBER_CONF_H */
