/*
 * cond.c: criteria of conditional interactions; see cond.h.
 *
 * _id is a direct lookup.  identifier reads each current resource of the
 * type and compares its identifiers: a linear scan, correct but slow on
 * large stores, until the search engine's postings replace it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cond.h"
#include "error.h"
#include "http.h"
#include "json.h"
#include "store.h"

#define COND_VALUES_MAX	32	/* comma-separated values per parameter */
#define COND_PARAMS_MAX	16	/* parameters per criteria */
#define COND_VALUE_LEN	512

enum cond_param { COND_ID, COND_IDENTIFIER };

/* One token value: system|code, with "has a bar" remembered. */
struct cond_value {
	char	 cv_system[COND_VALUE_LEN];
	char	 cv_code[COND_VALUE_LEN];
	int	 cv_has_bar;
};

struct cond_param_values {
	int			 cp_param;	/* enum cond_param */
	struct cond_value	 cp_v[COND_VALUES_MAX];
	size_t			 cp_n;
};

struct cond_query {
	struct cond_param_values cq_p[COND_PARAMS_MAX];
	size_t			 cq_n;
};

struct cond_scan {
	struct store_txn	*cs_txn;
	const struct cond_query	*cs_q;
	struct cond_result	*cs_out;
	int			 cs_error;
};

/* Split a decoded value on unescaped commas into token values. */
static int
cond_split_values(const char *v, struct cond_param_values *pv, char *err,
    size_t errsz)
{
	struct cond_value	*cv;
	const char		*p = v;
	char			*dst;
	size_t			 n;

	for (;;) {
		if (pv->cp_n == COND_VALUES_MAX) {
			snprintf(err, errsz, "too many values");
			return EMBER_EINVAL;
		}
		cv = &pv->cp_v[pv->cp_n++];
		memset(cv, 0, sizeof(*cv));
		dst = cv->cv_code;
		n = 0;
		for (; *p && *p != ','; p++) {
			if (*p == '\\' && (p[1] == ',' || p[1] == '|' ||
			    p[1] == '$' || p[1] == '\\'))
				p++;
			else if (*p == '|' && !cv->cv_has_bar) {
				/* What came so far was the system. */
				memcpy(cv->cv_system, cv->cv_code, n);
				cv->cv_system[n] = '\0';
				cv->cv_has_bar = 1;
				dst = cv->cv_code;
				n = 0;
				continue;
			}
			if (n + 1 >= COND_VALUE_LEN) {
				snprintf(err, errsz, "value too long");
				return EMBER_EINVAL;
			}
			dst[n++] = *p;
		}
		dst[n] = '\0';
		if (*p != ',')
			return EMBER_OK;
		p++;
	}
}

static int
cond_parse(const char *criteria, size_t len, struct cond_query *q, char *err,
    size_t errsz)
{
	const char		*p = criteria, *end = criteria + len;
	struct http_param	 hp;
	char			 name[64], value[4 * COND_VALUE_LEN];
	size_t			 n;
	struct cond_param_values *pv;

	memset(q, 0, sizeof(*q));
	while (http_query_next(&p, end, &hp)) {
		if (hp.hp_name_len >= sizeof(name) ||
		    hp.hp_value_len >= sizeof(value) ||
		    http_percent_decode(hp.hp_name, hp.hp_name_len, 1, name,
		    &n) ||
		    http_percent_decode(hp.hp_value, hp.hp_value_len, 1, value,
		    &n)) {
			snprintf(err, errsz, "malformed criteria");
			return EMBER_EINVAL;
		}
		if (strcmp(name, "_format") == 0 || strcmp(name, "_pretty") == 0)
			continue;
		if (q->cq_n == COND_PARAMS_MAX) {
			snprintf(err, errsz, "too many criteria");
			return EMBER_EINVAL;
		}
		pv = &q->cq_p[q->cq_n];
		if (strcmp(name, "_id") == 0)
			pv->cp_param = COND_ID;
		else if (strcmp(name, "identifier") == 0)
			pv->cp_param = COND_IDENTIFIER;
		else {
			snprintf(err, errsz, "criteria parameter \"%s\" is not "
			    "supported in conditional interactions yet (only "
			    "_id and identifier)", name);
			return EMBER_EINVAL;
		}
		if (value[0] == '\0') {
			snprintf(err, errsz, "criteria parameter \"%s\" has no "
			    "value", name);
			return EMBER_EINVAL;
		}
		if (cond_split_values(value, pv, err, errsz))
			return EMBER_EINVAL;
		q->cq_n++;
	}
	if (q->cq_n == 0) {
		snprintf(err, errsz, "conditional interaction without criteria");
		return EMBER_EINVAL;
	}
	return EMBER_OK;
}

/* Does one Identifier object match a token value? */
static int
cond_identifier_matches(const cJSON *ident, const struct cond_value *cv)
{
	const char *sys = json_string(ident, "system");
	const char *val = json_string(ident, "value");

	if (!cv->cv_has_bar)
		return val != NULL && strcmp(val, cv->cv_code) == 0;
	if (cv->cv_system[0] == '\0') {
		/* "|code": an identifier without a system. */
		if (sys != NULL)
			return 0;
	} else if (sys == NULL || strcmp(sys, cv->cv_system) != 0)
		return 0;
	if (cv->cv_code[0] == '\0')
		return 1;	/* "system|": any value in that system */
	return val != NULL && strcmp(val, cv->cv_code) == 0;
}

static int
cond_param_matches(const struct cond_param_values *pv,
    const struct store_row *row, const cJSON *res)
{
	const char	*slash = memchr(row->sr_key, '/', row->sr_key_len);
	const char	*id = slash + 1;
	size_t		 idlen = row->sr_key_len - (size_t)(id - row->sr_key);
	const cJSON	*ident;
	size_t		 i;

	for (i = 0; i < pv->cp_n; i++) {
		const struct cond_value *cv = &pv->cp_v[i];

		if (pv->cp_param == COND_ID) {
			if (!cv->cv_has_bar && strlen(cv->cv_code) == idlen &&
			    memcmp(cv->cv_code, id, idlen) == 0)
				return 1;
			continue;
		}
		cJSON_ArrayForEach(ident,
		    cJSON_GetObjectItemCaseSensitive(res, "identifier"))
			if (cJSON_IsObject(ident) &&
			    cond_identifier_matches(ident, cv))
				return 1;
	}
	return 0;
}

static int
cond_scan_one(void *arg, const struct store_row *row)
{
	struct cond_scan	*cs = arg;
	struct cond_result	*out = cs->cs_out;
	struct store_version	 sv;
	cJSON			*res;
	size_t			 i;
	int			 rc, all = 1;

	if ((rc = store_version(cs->cs_txn, row->sr_rid, row->sr_version, &sv)))
		return rc;
	/* Stored JSON was validated when it was written. */
	if ((res = cJSON_ParseWithLength(sv.sv_json, sv.sv_json_len)) == NULL)
		return EMBER_ESTORE;
	for (i = 0; i < cs->cs_q->cq_n && all; i++)
		all = cond_param_matches(&cs->cs_q->cq_p[i], row, res);
	cJSON_Delete(res);
	if (all) {
		if (out->cr_count < out->cr_max)
			out->cr_rids[out->cr_count] = row->sr_rid;
		out->cr_count++;
	}
	return EMBER_OK;
}

/* _id alone: look each id up instead of scanning the type. */
static int
cond_by_id(struct cond_scan *cs, const char *type, size_t type_len)
{
	const struct cond_param_values	*pv = &cs->cs_q->cq_p[0];
	struct store_row		 row;
	size_t				 i, j;
	int				 rc, seen;

	for (i = 0; i < pv->cp_n; i++) {
		const struct cond_value *cv = &pv->cp_v[i];

		for (j = 0, seen = 0; j < i; j++)
			seen |= strcmp(pv->cp_v[j].cv_code, cv->cv_code) == 0;
		if (seen || cv->cv_has_bar)
			continue;
		rc = store_current(cs->cs_txn, type, type_len, cv->cv_code,
		    strlen(cv->cv_code), &row);
		if (rc == EMBER_ENOTFOUND || (rc == EMBER_OK && row.sr_deleted))
			continue;
		if (rc)
			return rc;
		if (cs->cs_out->cr_count < cs->cs_out->cr_max)
			cs->cs_out->cr_rids[cs->cs_out->cr_count] = row.sr_rid;
		cs->cs_out->cr_count++;
	}
	return EMBER_OK;
}

int
cond_match(struct store_txn *t, const char *type, size_t type_len,
    const char *criteria, size_t len, size_t max, struct cond_result *out,
    char *err, size_t errsz)
{
	struct cond_query	*q;
	struct cond_scan	 cs;
	struct cond_result	 r;
	int			 rc;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return EMBER_ENOMEM;
	memset(&r, 0, sizeof(r));
	if ((rc = cond_parse(criteria, len, q, err, errsz)))
		goto done;
	r.cr_max = max;
	if ((r.cr_rids = calloc(max ? max : 1, sizeof(*r.cr_rids))) == NULL) {
		rc = EMBER_ENOMEM;
		goto done;
	}
	memset(&cs, 0, sizeof(cs));
	cs.cs_txn = t;
	cs.cs_q = q;
	cs.cs_out = &r;
	if (q->cq_n == 1 && q->cq_p[0].cp_param == COND_ID)
		rc = cond_by_id(&cs, type, type_len);
	else
		rc = store_each(t, type, type_len, cond_scan_one, &cs);
	if (rc) {
		snprintf(err, errsz, "cannot evaluate the criteria: %s",
		    ember_strerror(rc));
		goto done;
	}
	*out = r;
	r.cr_rids = NULL;
done:
	free(r.cr_rids);
	free(q);
	return rc;
}

void
cond_result_free(struct cond_result *r)
{
	if (r == NULL)
		return;
	free(r->cr_rids);
	r->cr_rids = NULL;
}
