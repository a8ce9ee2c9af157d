/*
 * conf.c: configuration keys, file and environment; see conf.h.
 *
 * Like lighttpd's config, every key is a row of one declared table:
 * name, type, where it lives in struct conf, and its bounds.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "error.h"
#include "version.h"

enum conf_type {
	CT_PATH,	/* string into a char array */
	CT_SIZE,	/* size_t with bounds */
	CT_UINT,	/* unsigned with bounds */
	CT_BOOL,	/* on/off, yes/no, true/false, 1/0 */
	CT_VERSION,	/* one FHIR version name */
	CT_VERSIONS,	/* space- or comma-separated version names */
	CT_DURABILITY	/* durable | relaxed */
};

struct conf_key {
	const char	*ck_name;
	enum conf_type	 ck_type;
	size_t		 ck_offset;
	size_t		 ck_size;	/* CT_PATH: array size */
	unsigned long long ck_min, ck_max;
};

#define PATHKEY(n, f) { n, CT_PATH, offsetof(struct conf, f), \
	sizeof(((struct conf *)0)->f), 0, 0 }
#define NUMKEY(n, t, f, lo, hi) { n, t, offsetof(struct conf, f), 0, lo, hi }

static const struct conf_key conf_keys[] = {
	PATHKEY("data_dir", cf_data_dir),
	PATHKEY("tables_dir", cf_tables_dir),
	PATHKEY("base_url", cf_base_url),
	PATHKEY("base_path", cf_base_path),
	NUMKEY("default_version", CT_VERSION, cf_default_version, 0, 0),
	NUMKEY("versions", CT_VERSIONS, cf_versions, 0, 0),
	NUMKEY("max_body", CT_SIZE, cf_max_body, 1024, 1ULL << 32),
	NUMKEY("max_depth", CT_UINT, cf_max_depth, 8, 10000),
	NUMKEY("max_entries", CT_UINT, cf_max_entries, 1, 1000000),
	NUMKEY("max_count", CT_UINT, cf_max_count, 1, 100000),
	NUMKEY("default_count", CT_UINT, cf_default_count, 1, 100000),
	NUMKEY("max_query", CT_UINT, cf_max_query, 256, 1U << 24),
	NUMKEY("max_delete", CT_UINT, cf_max_delete, 1, 1000000),
	NUMKEY("durability", CT_DURABILITY, cf_durability, 0, 0),
	NUMKEY("map_size_mb", CT_SIZE, cf_map_size_mb, 1, 1ULL << 24),
	NUMKEY("recent_postings", CT_UINT, cf_recent_postings, 0, 1000000),
	NUMKEY("group_commit", CT_UINT, cf_group_commit, 1, 256),
	NUMKEY("debug_plan", CT_BOOL, cf_debug_plan, 0, 1),
};

#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static void
conf_copy(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	conf_copy(c->cf_data_dir, sizeof(c->cf_data_dir),
	    EMBER_LOCALSTATEDIR "/lib/ember");
	conf_copy(c->cf_tables_dir, sizeof(c->cf_tables_dir), EMBER_PKGDATADIR);
	conf_copy(c->cf_base_path, sizeof(c->cf_base_path), "/fhir");
	c->cf_default_version = FHIR_R4;
	c->cf_versions = (1U << FHIR_VERSION_COUNT) - 1;
	c->cf_max_body = 16 * 1024 * 1024;
	c->cf_max_depth = 100;
	c->cf_max_entries = 10000;
	c->cf_max_count = 1000;
	c->cf_default_count = 50;
	c->cf_max_query = 8192;
	c->cf_max_delete = 100;
	c->cf_durability = CONF_DURABLE;
	c->cf_map_size_mb = 16384;
	c->cf_recent_postings = 4096;
	c->cf_group_commit = 32;
	c->cf_debug_plan = 0;
}

static int
conf_fail(char *err, size_t errsz, const char *key, const char *what)
{
	if (err && errsz)
		snprintf(err, errsz, "%s: %s", key, what);
	return EMBER_ECONFIG;
}

static int
conf_parse_number(const char *value, unsigned long long *out)
{
	char			*end;
	unsigned long long	 n;

	if (!isdigit((unsigned char)value[0]))
		return EMBER_EINVAL;
	errno = 0;
	n = strtoull(value, &end, 10);
	if (errno || *end != '\0')
		return EMBER_EINVAL;
	*out = n;
	return EMBER_OK;
}

static int
conf_parse_versions(const char *value, unsigned *out)
{
	const char	*p = value, *start;
	unsigned	 mask = 0;
	int		 v;

	while (*p) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p && *p != ' ' && *p != ',' && *p != '\t')
			p++;
		if (version_lookup(start, (size_t)(p - start), &v))
			return EMBER_EINVAL;
		mask |= 1U << v;
	}
	if (mask == 0)
		return EMBER_EINVAL;
	*out = mask;
	return EMBER_OK;
}

static int
conf_parse_bool(const char *value, int *out)
{
	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0)
			return *out = 1, EMBER_OK;
		if (strcasecmp(value, no[i]) == 0)
			return *out = 0, EMBER_OK;
	}
	return EMBER_EINVAL;
}

int
conf_set(struct conf *c, const char *key, const char *value,
    char *err, size_t errsz)
{
	const struct conf_key	*k = NULL;
	unsigned long long	 n;
	unsigned		 mask;
	char			*field;
	size_t			 i;
	int			 v;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].ck_name, key) == 0)
			k = &conf_keys[i];
	if (k == NULL)
		return conf_fail(err, errsz, key, "unknown key");
	field = (char *)c + k->ck_offset;

	switch (k->ck_type) {
	case CT_PATH:
		if (strlen(value) >= k->ck_size)
			return conf_fail(err, errsz, key, "value too long");
		conf_copy(field, k->ck_size, value);
		break;
	case CT_SIZE:
	case CT_UINT:
		if (conf_parse_number(value, &n))
			return conf_fail(err, errsz, key, "not a number");
		if (n < k->ck_min || n > k->ck_max)
			return conf_fail(err, errsz, key, "out of range");
		if (k->ck_type == CT_SIZE)
			*(size_t *)(void *)field = (size_t)n;
		else
			*(unsigned *)(void *)field = (unsigned)n;
		break;
	case CT_BOOL:
		if (conf_parse_bool(value, &v))
			return conf_fail(err, errsz, key, "not a boolean");
		*(int *)(void *)field = v;
		break;
	case CT_VERSION:
		if (version_lookup(value, strlen(value), &v))
			return conf_fail(err, errsz, key,
			    "not a FHIR version (DSTU2 STU3 R4 R4B R5)");
		*(int *)(void *)field = v;
		break;
	case CT_VERSIONS:
		if (conf_parse_versions(value, &mask))
			return conf_fail(err, errsz, key,
			    "not a list of FHIR versions (DSTU2 STU3 R4 R4B R5)");
		*(unsigned *)(void *)field = mask;
		break;
	case CT_DURABILITY:
		if (strcmp(value, "durable") == 0)
			c->cf_durability = CONF_DURABLE;
		else if (strcmp(value, "relaxed") == 0)
			c->cf_durability = CONF_RELAXED;
		else
			return conf_fail(err, errsz, key,
			    "must be durable or relaxed");
		break;
	}
	return EMBER_OK;
}

/* Trim leading and trailing blanks in place; returns the new start. */
static char *
conf_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int
conf_load_file(struct conf *c, const char *path, char *err, size_t errsz)
{
	FILE	*f;
	char	 line[2048], msg[CONF_ERR_MAX], *key, *value, *eq, *hash;
	int	 rc = EMBER_OK, lineno = 0;
	struct conf tmp = *c;

	if ((f = fopen(path, "r")) == NULL) {
		if (err && errsz)
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return EMBER_EIO;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = EMBER_ECONFIG;
			if (err && errsz)
				snprintf(err, errsz, "%s:%d: line too long",
				    path, lineno);
			goto done;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		key = conf_trim(line);
		if (*key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			rc = EMBER_ECONFIG;
			if (err && errsz)
				snprintf(err, errsz, "%s:%d: expected key = value",
				    path, lineno);
			goto done;
		}
		*eq = '\0';
		key = conf_trim(key);
		value = conf_trim(eq + 1);
		if ((rc = conf_set(&tmp, key, value, msg, sizeof(msg))) != 0) {
			if (err && errsz)
				snprintf(err, errsz, "%s:%d: %s", path, lineno, msg);
			goto done;
		}
	}
	*c = tmp;
done:
	fclose(f);
	return rc;
}

int
conf_load_env(struct conf *c, char *err, size_t errsz)
{
	char		 name[64];
	const char	*value;
	size_t		 i, j;
	int		 rc;

	for (i = 0; i < NKEYS; i++) {
		memcpy(name, "EMBER_", 6);
		for (j = 0; conf_keys[i].ck_name[j] && j + 7 < sizeof(name); j++)
			name[6 + j] = (char)toupper(
			    (unsigned char)conf_keys[i].ck_name[j]);
		name[6 + j] = '\0';
		if ((value = getenv(name)) == NULL)
			continue;
		if ((rc = conf_set(c, conf_keys[i].ck_name, value, err, errsz)))
			return rc;
	}
	return EMBER_OK;
}

int
conf_init(struct conf *c, const char *path, char *err, size_t errsz)
{
	const char	*env = getenv("EMBER_CONF");
	int		 rc, named = 1;

	conf_defaults(c);
	if (env != NULL && *env != '\0')
		path = env;
	if (path == NULL) {
		path = EMBER_SYSCONFDIR "/ember.conf";
		named = 0;
	}
	rc = conf_load_file(c, path, err, errsz);
	if (rc == EMBER_EIO && !named)
		rc = EMBER_OK;
	if (rc)
		return rc;
	return conf_load_env(c, err, errsz);
}

void
conf_dump(const struct conf *c, void (*emit)(void *, const char *), void *arg)
{
	char		 line[CONF_PATH_MAX + 64];
	const char	*field;
	size_t		 i;
	int		 v;

	for (i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		field = (const char *)c + k->ck_offset;
		switch (k->ck_type) {
		case CT_PATH:
			snprintf(line, sizeof(line), "%s = %s", k->ck_name, field);
			break;
		case CT_SIZE:
			snprintf(line, sizeof(line), "%s = %zu", k->ck_name,
			    *(const size_t *)(const void *)field);
			break;
		case CT_UINT:
			snprintf(line, sizeof(line), "%s = %u", k->ck_name,
			    *(const unsigned *)(const void *)field);
			break;
		case CT_BOOL:
			snprintf(line, sizeof(line), "%s = %s", k->ck_name,
			    *(const int *)(const void *)field ? "on" : "off");
			break;
		case CT_VERSION:
			snprintf(line, sizeof(line), "%s = %s", k->ck_name,
			    version_get(*(const int *)(const void *)field)->vd_name);
			break;
		case CT_VERSIONS: {
			size_t n = (size_t)snprintf(line, sizeof(line), "%s =",
			    k->ck_name);
			for (v = 0; v < FHIR_VERSION_COUNT; v++)
				if (c->cf_versions & (1U << v))
					n += (size_t)snprintf(line + n,
					    sizeof(line) - n, " %s",
					    version_get(v)->vd_name);
			break;
		}
		case CT_DURABILITY:
			snprintf(line, sizeof(line), "%s = %s", k->ck_name,
			    c->cf_durability == CONF_DURABLE ? "durable" :
			    "relaxed");
			break;
		}
		emit(arg, line);
	}
}
