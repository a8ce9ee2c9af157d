/*
 * search.c: FHIR search over the index postings; see search.h and, for
 * the posting keys, index.h.  The semantics follow the specification's
 * search.html (R4): prefixes on ranges, string prefix matching on folded
 * text, token system|code forms, references by Type/id, chains and _has.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crud.h"
#include "date.h"
#include "error.h"
#include "http.h"
#include "index.h"
#include "json.h"
#include "outcome.h"
#include "rest.h"
#include "search.h"
#include "server.h"
#include "store.h"
#include "tables.h"
#include "term.h"

#define SEARCH_VALUE_MAX	1024
#define SEARCH_CHAIN_MAX	4	/* chain links and _has nesting */
#define SEARCH_PARAMS_MAX	100	/* query parameters of one search */
#define SEARCH_IGNORED		(-1)	/* search_lenient(): skip the parameter */
#define SEARCH_HAS_GROUPS	256	/* _has: more inner matches, scan keys */

/* The result parameters: not criteria. */
static const char *const search_result_params[] = {
	"_count", "_sort", "_include", "_revinclude", "_summary", "_elements",
	"_total", "_format", "_pretty", "_contained", "_containedType",
	"_cursor", "_offset", "_debug", "_type"
};

enum search_prefix {
	PFX_EQ, PFX_NE, PFX_GT, PFX_LT, PFX_GE, PFX_LE, PFX_SA, PFX_EB, PFX_AP
};

struct search_ctx {
	struct store_txn	*sc_t;
	const struct tables	*sc_tb;
	int			 sc_strict;
	struct buf		*sc_warn;
	struct buf		*sc_plan;	/* _debug: one line per step */
	char			*sc_err;
	size_t			 sc_errsz;
	int			 sc_depth;
	int			 sc_contained;	/* postings of contained ones */
	const struct buf	*sc_mem;	/* else: one resource's keys, */
	const cJSON		*sc_mem_json;	/* rid 1, and the resource */
};

static int
search_fail(struct search_ctx *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
search_fail(struct search_ctx *sc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sc->sc_err, sc->sc_errsz, fmt, ap);
	va_end(ap);
	return EMBER_EINVAL;
}

/* ---- sets ------------------------------------------------------------- */

void
search_set_free(struct search_set *s)
{
	if (s == NULL)
		return;
	free(s->ss_ids);
	s->ss_ids = NULL;
	s->ss_n = s->ss_cap = 0;
}

static int
set_add(struct search_set *s, uint64_t id)
{
	uint64_t	*grown;
	size_t		 cap;

	if (s->ss_n == s->ss_cap) {
		cap = s->ss_cap ? s->ss_cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof(*grown) ||
		    (grown = realloc(s->ss_ids, cap * sizeof(*grown))) == NULL)
			return EMBER_ENOMEM;
		s->ss_ids = grown;
		s->ss_cap = cap;
	}
	s->ss_ids[s->ss_n++] = id;
	return EMBER_OK;
}

static int
set_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sort and drop duplicates.  Sets from one posting key come sorted;
 * large ones from ranges (dates in date order) are sorted through a
 * bitmap of the dense rids when it is small beside the set, which is
 * several times faster than qsort on the sets of a date range.
 */
static void
set_normalize(struct search_set *s)
{
	uint64_t	*bm, max = 0, w;
	size_t		 i, k = 0, words;
	int		 sorted = 1;

	if (s->ss_n < 2)
		return;
	for (i = 0; i < s->ss_n; i++) {
		if (i > 0 && s->ss_ids[i] <= s->ss_ids[i - 1])
			sorted = 0;
		if (s->ss_ids[i] > max)
			max = s->ss_ids[i];
	}
	if (sorted)
		return;
	words = (size_t)(max / 64) + 1;
	if (max / 64 < (uint64_t)s->ss_n * 4 &&
	    (bm = calloc(words, sizeof(*bm))) != NULL) {
		for (i = 0; i < s->ss_n; i++)
			bm[s->ss_ids[i] / 64] |= (uint64_t)1 << (s->ss_ids[i] % 64);
		for (i = 0; i < words; i++)
			for (w = bm[i]; w; w &= w - 1)
				s->ss_ids[k++] = (uint64_t)i * 64 +
				    (uint64_t)__builtin_ctzll(w);
		free(bm);
		s->ss_n = k;
		return;
	}
	qsort(s->ss_ids, s->ss_n, sizeof(*s->ss_ids), set_cmp);
	for (i = 0; i < s->ss_n; i++)
		if (k == 0 || s->ss_ids[k - 1] != s->ss_ids[i])
			s->ss_ids[k++] = s->ss_ids[i];
	s->ss_n = k;
}

/* a = a AND b (both normalized). */
static void
set_intersect(struct search_set *a, const struct search_set *b)
{
	size_t i = 0, j = 0, k = 0;

	while (i < a->ss_n && j < b->ss_n) {
		if (a->ss_ids[i] < b->ss_ids[j])
			i++;
		else if (a->ss_ids[i] > b->ss_ids[j])
			j++;
		else {
			a->ss_ids[k++] = a->ss_ids[i];
			i++;
			j++;
		}
	}
	a->ss_n = k;
}

/* Whether normalized s holds id. */
static int
set_has(const struct search_set *s, uint64_t id)
{
	size_t lo = 0, hi = s->ss_n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->ss_ids[mid] == id)
			return 1;
		if (s->ss_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* a = a MINUS b (both normalized). */
static void
set_minus(struct search_set *a, const struct search_set *b)
{
	size_t i, j = 0, k = 0;

	for (i = 0; i < a->ss_n; i++) {
		while (j < b->ss_n && b->ss_ids[j] < a->ss_ids[i])
			j++;
		if (j < b->ss_n && b->ss_ids[j] == a->ss_ids[i])
			continue;
		a->ss_ids[k++] = a->ss_ids[i];
	}
	a->ss_n = k;
}

/* a = a OR b (a unnormalized is fine; normalize after). */
static int
set_union(struct search_set *a, const struct search_set *b)
{
	size_t i;
	int rc;

	for (i = 0; i < b->ss_n; i++)
		if ((rc = set_add(a, b->ss_ids[i])))
			return rc;
	set_normalize(a);
	return EMBER_OK;
}

/* ---- scans ------------------------------------------------------------ */

/* A composite's second or third component as searched for. */
struct comp_test {
	int		 ct_type;	/* enum tables_param_type */
	int		 ct_prefix;	/* number, quantity, date */
	int64_t		 ct_lo, ct_hi;	/* date */
	double		 ct_v, ct_dlo, ct_dhi;	/* number, quantity */
	int		 ct_token_exact; /* token: system given */
	int		 ct_units;	/* quantity: system|code given */
	struct buf	 ct_needle;	/* token, string, uri; units */
};

struct scan {
	struct search_set	*sn_out;
	size_t			 sn_skip;	/* prefix bytes before the value */
	int			 sn_kind;	/* what filter applies */
	int			 sn_prefix;	/* enum search_prefix */
	size_t			 sn_exact_len;	/* exact match: key length */
	int64_t			 sn_lo, sn_hi;	/* date range */
	int			 sn_and;	/* a second date test: */
	int			 sn_prefix2;	/* ANDed, same posting */
	int64_t			 sn_lo2, sn_hi2;
	double			 sn_dlo, sn_dhi, sn_v;	/* number */
	const char		*sn_needle;	/* :contains */
	size_t			 sn_needle_len;
	const struct term_set	*sn_terms;	/* :in, :above, :below */
	const struct comp_test	*sn_comp;	/* composite: the components */
	int			 sn_ncomp;	/* after the first (1 or 2) */
};

enum scan_kind {
	SCAN_ALL, SCAN_EXACT, SCAN_DATE, SCAN_NUMBER, SCAN_CONTAINS,
	SCAN_SUFFIX, SCAN_ABOVE, SCAN_COMPOSITE, SCAN_NEAR, SCAN_TERMS
};

static int
search_date_match(int p, int64_t lo, int64_t hi, int64_t slo, int64_t shi)
{
	int within = lo >= slo && hi <= shi;

	switch (p) {
	case PFX_EQ: return within;
	case PFX_NE: return !within;
	case PFX_GT: return hi > shi;
	case PFX_LT: return lo < slo;
	case PFX_GE: return hi > shi || within;
	case PFX_LE: return lo < slo || within;
	case PFX_SA: return lo > shi;
	case PFX_EB: return hi < slo;
	case PFX_AP: return lo <= shi && hi >= slo;	/* overlap */
	}
	return 0;
}

static int
search_number_match(int p, double v, double lo, double hi, double exact)
{
	switch (p) {
	case PFX_EQ: return v >= lo && v < hi;
	case PFX_NE: return !(v >= lo && v < hi);
	case PFX_GT: case PFX_SA: return v > exact;
	case PFX_LT: case PFX_EB: return v < exact;
	case PFX_GE: return v >= exact;
	case PFX_LE: return v <= exact;
	case PFX_AP: return fabs(v - exact) <= fabs(exact) * 0.1;
	}
	return 0;
}

/* Great-circle distance in km between two points (haversine). */
static double
search_km(double lat1, double lon1, double lat2, double lon2)
{
	const double	r = 6371.0088, rad = 3.14159265358979323846 / 180;
	double		dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double		a;

	a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) *
	    cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
	return 2 * r * atan2(sqrt(a), sqrt(1 - a));
}

/* Whether one component's encoded value c (clen bytes) passes ct. */
static int
comp_match(const struct comp_test *ct, const unsigned char *c, size_t clen)
{
	const struct buf *nd = &ct->ct_needle;

	switch (ct->ct_type) {
	case TABLES_PARAM_QUANTITY:
	case TABLES_PARAM_NUMBER:
		if (clen < 8 || !search_number_match(ct->ct_prefix,
		    index_get_double(c), ct->ct_dlo, ct->ct_dhi, ct->ct_v))
			return 0;
		return !ct->ct_units || (clen - 8 == nd->len &&
		    memcmp(c + 8, nd->data, nd->len) == 0);
	case TABLES_PARAM_DATE:
		return clen == 16 && search_date_match(ct->ct_prefix,
		    index_get_i64(c), index_get_i64(c + 8), ct->ct_lo,
		    ct->ct_hi);
	case TABLES_PARAM_TOKEN:
		/* needle "code\0" (any system) or "code\0system" (exact). */
		if (ct->ct_token_exact)
			return clen == nd->len && memcmp(c, nd->data, clen) == 0;
		return clen >= nd->len && memcmp(c, nd->data, nd->len) == 0;
	case TABLES_PARAM_STRING:
		return clen >= nd->len && memcmp(c, nd->data, nd->len) == 0;
	default:
		return clen == nd->len && memcmp(c, nd->data, clen) == 0;
	}
}

/*
 * A composite posting's value after the scanned prefix: the rest of the
 * first component (when only its code was given), 0x01, then the second
 * component to the end; or, with three components, the second and the
 * third each as a length byte and that many bytes (index.h).
 */
static int
scan_composite(const struct scan *sn, const unsigned char *v, size_t vlen)
{
	const unsigned char	*sep = memchr(v, 1, vlen), *c, *end = v + vlen;
	size_t			 clen;
	int			 i;

	if (sep == NULL)
		return 0;
	c = sep + 1;
	if (sn->sn_ncomp == 1)
		return comp_match(&sn->sn_comp[0], c, (size_t)(end - c));
	for (i = 0; i < sn->sn_ncomp; i++) {
		if (c >= end)
			return 0;
		clen = *c;
		c++;
		if (clen > (size_t)(end - c) ||
		    !comp_match(&sn->sn_comp[i], c, clen))
			return 0;
		c += clen;
	}
	return c == end;
}

static int
scan_one(void *arg, const unsigned char *key, size_t len, uint64_t rid)
{
	struct scan		*sn = arg;
	const unsigned char	*v = key + sn->sn_skip;
	size_t			 vlen = len - sn->sn_skip;

	switch (sn->sn_kind) {
	case SCAN_EXACT:
		if (len != sn->sn_exact_len)
			return 0;
		break;
	case SCAN_DATE:
		if (vlen != 16 || !search_date_match(sn->sn_prefix,
		    index_get_i64(v), index_get_i64(v + 8), sn->sn_lo,
		    sn->sn_hi) || (sn->sn_and && !search_date_match(
		    sn->sn_prefix2, index_get_i64(v), index_get_i64(v + 8),
		    sn->sn_lo2, sn->sn_hi2)))
			return 0;
		break;
	case SCAN_NUMBER:
		if (vlen < 8 || !search_number_match(sn->sn_prefix,
		    index_get_double(key + len - 8), sn->sn_dlo, sn->sn_dhi,
		    sn->sn_v))
			return 0;
		break;
	case SCAN_CONTAINS:
		if (memmem(v, vlen, sn->sn_needle, sn->sn_needle_len) == NULL)
			return 0;
		break;
	case SCAN_SUFFIX:	/* the value ends NUL + needle */
		if (vlen < sn->sn_needle_len + 1 ||
		    v[vlen - sn->sn_needle_len - 1] != 0 ||
		    memcmp(v + vlen - sn->sn_needle_len, sn->sn_needle,
		    sn->sn_needle_len) != 0)
			return 0;
		break;
	case SCAN_ABOVE:	/* the stored uri is a prefix of the needle */
		if (vlen > sn->sn_needle_len ||
		    memcmp(v, sn->sn_needle, vlen) != 0)
			return 0;
		break;
	case SCAN_COMPOSITE:
		if (!scan_composite(sn, v, vlen))
			return 0;
		break;
	case SCAN_TERMS: {	/* token value: code NUL system */
		const unsigned char *nul = memchr(v, 0, vlen);

		if (nul == NULL || !term_contains(sn->sn_terms,
		    (const char *)v, (size_t)(nul - v), (const char *)nul + 1,
		    vlen - (size_t)(nul - v) - 1))
			return 0;
		break;
	}
	case SCAN_NEAR:	/* sn_dlo, sn_dhi: the point; sn_v: km */
		if (vlen != 16 || search_km(sn->sn_dlo, sn->sn_dhi,
		    index_get_double(v), index_get_double(v + 8)) > sn->sn_v)
			return 0;
		break;
	default:
		break;
	}
	return set_add(sn->sn_out, rid);
}

/* Scan all postings starting with key (key->len bytes). */
static int
search_postings(struct search_ctx *sc, const void *lo, size_t lolen,
    const void *hi, size_t hilen, struct scan *sn)
{
	const unsigned char	*p, *end;
	size_t			 n;
	int			 rc;

	if (sc->sc_mem == NULL)
		return store_postings_scan(sc->sc_t, lo, lolen, hi, hilen,
		    scan_one, sn);
	/* One resource's keys in memory (index_keys() form), as rid 1. */
	if ((p = (const unsigned char *)sc->sc_mem->data) == NULL)
		return EMBER_OK;	/* no keys */
	for (end = p + sc->sc_mem->len; p + 2 <= end;
	    p += 2 + n) {
		n = ((size_t)p[0] << 8) | p[1];
		if (n > (size_t)(end - p - 2))
			break;
		if (store_postings_in_range(p + 2, n, lo, lolen, hi,
		    hilen) != 0)
			continue;
		if ((rc = scan_one(sn, p + 2, n, 1)) != 0)
			return rc;
	}
	return EMBER_OK;
}

static int
search_scan(struct search_ctx *sc, const struct buf *key, struct scan *sn)
{
	return search_postings(sc, key->data, key->len, NULL, 0, sn);
}

/*
 * Date postings sort by their low end: where a prefix bounds the low
 * end, narrow [*start, *stop] to that stretch (eq and le: low <= search
 * high; lt and eb: low < search low; eq: low >= search low; sa: low >
 * search high).  The filter still decides each posting.
 */
static void
search_date_bounds(int prefix, int64_t slo, int64_t shi, int64_t *start,
    int64_t *stop)
{
	int64_t from = INT64_MIN, to = INT64_MAX;

	switch (prefix) {
	case PFX_EQ:
		from = slo;
		to = shi;
		break;
	case PFX_LE:
	case PFX_AP:
		to = shi;
		break;
	case PFX_LT:
	case PFX_EB:
		to = slo == INT64_MIN ? INT64_MIN : slo - 1;
		break;
	case PFX_SA:
		from = shi == INT64_MAX ? INT64_MAX : shi + 1;
		break;
	default:
		break;
	}
	if (from > *start)
		*start = from;
	if (to < *stop)
		*stop = to;
}

/* Scan the date postings of key within the bounds of its test(s). */
static int
search_scan_dates(struct search_ctx *sc, const struct buf *key,
    struct scan *sn)
{
	struct buf	lo = BUF_INIT, hi = BUF_INIT;
	int		rc, from, to;
	int64_t		start = INT64_MIN, stop = INT64_MAX;

	search_date_bounds(sn->sn_prefix, sn->sn_lo, sn->sn_hi, &start, &stop);
	if (sn->sn_and)
		search_date_bounds(sn->sn_prefix2, sn->sn_lo2, sn->sn_hi2,
		    &start, &stop);
	if (start > stop)
		return EMBER_OK;	/* no posting can match */
	from = start != INT64_MIN;
	to = stop != INT64_MAX;
	if (!from && !to)
		return search_scan(sc, key, sn);
	buf_append(&lo, key->data, key->len);
	if (from)
		index_put_i64(&lo, start);
	buf_append(&hi, key->data, key->len);
	if (to)
		index_put_i64(&hi, stop + 1);
	else
		buf_append(&hi, "\xff\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	if ((rc = buf_error(&lo)) == EMBER_OK && (rc = buf_error(&hi)) ==
	    EMBER_OK)
		rc = search_postings(sc, lo.data, lo.len, hi.data, hi.len, sn);
	buf_free(&lo);
	buf_free(&hi);
	return rc;
}

/* Scan the postings whose key is exactly key. */
static int
search_scan_exact(struct search_ctx *sc, const struct buf *key,
    struct scan *sn)
{
	sn->sn_kind = SCAN_EXACT;
	sn->sn_exact_len = key->len;
	return search_scan(sc, key, sn);
}

/* ---- values ----------------------------------------------------------- */

/* Split off a comparison prefix (two letters) from a value. */
static int
search_prefix(const char **v)
{
	static const char *const names[] = { "eq", "ne", "gt", "lt", "ge",
	    "le", "sa", "eb", "ap" };
	int i;

	for (i = 0; i < 9; i++)
		if (strncmp(*v, names[i], 2) == 0 &&
		    (isdigit((unsigned char)(*v)[2]) || (*v)[2] == '-')) {
			*v += 2;
			return i;
		}
	return PFX_EQ;
}

/* Unescape \, \| \$ \\ in place. */
static void
search_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && (s[1] == ',' || s[1] == '|' || s[1] == '$' ||
		    s[1] == '\\'))
			s++;
		*o++ = *s;
	}
	*o = '\0';
}

/* Find the first unescaped c in s, or NULL. */
static char *
search_find(char *s, int c)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == c)
			return s;
	}
	return NULL;
}

/* Parse a number's value and its implicit precision range. */
static int
search_number(const char *s, double *v, double *lo, double *hi)
{
	char		*end;
	const char	*dot, *e;
	int		 decimals = 0;
	double		 half;

	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end != '\0' || errno || !isfinite(*v))
		return EMBER_EINVAL;
	if ((dot = strchr(s, '.')) != NULL) {
		e = dot + 1;
		while (isdigit((unsigned char)*e))
			e++, decimals++;
	}
	for (half = 0.5; decimals > 0; decimals--)
		half /= 10;
	*lo = *v - half;
	*hi = *v + half;
	return EMBER_OK;
}

struct search_param {
	struct tables_param	sp_p;
	const char		*sp_type;	/* resource type name */
	size_t			 sp_type_len;
	char			 sp_modifier[72];
	const char		*sp_also;	/* date: a second value ANDed */
	char			 sp_ctype[INDEX_TYPE_MAX + 2];	/* "#Type" */
};

static int search_param(struct search_ctx *sc, const char *type,
    size_t tlen, const char *name, size_t nlen, struct search_param *sp);

/* The posting prefix of a parameter plus a tag byte. */
static int
search_key(struct buf *k, const struct search_param *sp, int tag)
{
	buf_reset(k);
	index_prefix(k, sp->sp_type, sp->sp_type_len, sp->sp_p.code,
	    sp->sp_p.code_len);
	if (tag)
		buf_putc(k, tag);
	return buf_error(k);
}

/* A date value after its prefix ("ge2019-01"), or a 400 naming it. */
static int
search_date_value(struct search_ctx *sc, const char *code, const char *v,
    int *prefix, int64_t *lo, int64_t *hi)
{
	const char *pv = v;

	*prefix = search_prefix(&pv);
	if (date_parse_fhir(pv, strlen(pv), lo, hi, NULL))
		return search_fail(sc, "\"%s\" is not a date for %s", v,
		    code);
	return EMBER_OK;
}

/* Parse one non-first component's search value into ct. */
static int
search_comp_parse(struct search_ctx *sc, struct comp_test *ct, char *v)
{
	const char	*pv;
	char		*bar, *bar2;

	switch (ct->ct_type) {
	case TABLES_PARAM_QUANTITY:
	case TABLES_PARAM_NUMBER:
		pv = v;
		ct->ct_prefix = search_prefix(&pv);
		if ((bar = search_find((char *)(uintptr_t)pv, '|')) != NULL) {
			*bar = '\0';
			if ((bar2 = search_find(bar + 1, '|')) == NULL)
				return search_fail(sc, "quantity: use "
				    "number|system|code");
			*bar2 = '\0';
			search_unescape(bar + 1);
			search_unescape(bar2 + 1);
			buf_puts(&ct->ct_needle, bar + 1);
			buf_putc(&ct->ct_needle, 0);
			buf_puts(&ct->ct_needle, bar2 + 1);
			ct->ct_units = 1;
		}
		if (search_number(pv, &ct->ct_v, &ct->ct_dlo, &ct->ct_dhi))
			return search_fail(sc, "\"%s\" is not a number", pv);
		break;
	case TABLES_PARAM_DATE:
		return search_date_value(sc, "a composite", v, &ct->ct_prefix,
		    &ct->ct_lo, &ct->ct_hi);
	case TABLES_PARAM_TOKEN:
		bar = search_find(v, '|');
		if (bar != NULL)
			*bar = '\0';
		search_unescape(bar ? bar + 1 : v);
		buf_puts(&ct->ct_needle, bar ? bar + 1 : v);
		buf_putc(&ct->ct_needle, 0);
		if (bar != NULL) {
			search_unescape(v);
			buf_puts(&ct->ct_needle, v);
			ct->ct_token_exact = 1;
		}
		break;
	case TABLES_PARAM_STRING:
		search_unescape(v);
		index_fold(&ct->ct_needle, v, strlen(v));
		break;
	default:
		search_unescape(v);
		buf_puts(&ct->ct_needle, v);
		break;
	}
	return buf_error(&ct->ct_needle);
}

/*
 * A composite value "first$second[$third]": the first component narrows
 * the scan (exact, or by code alone for a token without a system), the
 * others filter each posting by their own type's rules.
 */
static int
search_composite(struct search_ctx *sc, const struct search_param *sp,
    char *v, struct buf *k, struct scan *sn)
{
	struct tables_component	 c0, c;
	struct comp_test	 ct[2];
	char			*part[3], *bar;
	unsigned		 i, n = sp->sp_p.component_count;
	int			 rc = EMBER_OK;

	memset(ct, 0, sizeof(ct));
	if (sp->sp_modifier[0])
		return search_fail(sc, "modifier :%s is not valid on composite "
		    "parameter %s", sp->sp_modifier, sp->sp_p.code);
	if (!index_composite_supported(sc->sc_tb, &sp->sp_p) ||
	    tables_param_component(sc->sc_tb, &sp->sp_p, 0, &c0))
		return search_fail(sc, "composite parameter %s cannot be "
		    "searched yet", sp->sp_p.code);
	part[0] = v;
	for (i = 1; i < n; i++) {
		if ((part[i] = search_find(part[i - 1], '$')) == NULL)
			return search_fail(sc, "composite %s needs %u values "
			    "joined by $", sp->sp_p.code, n);
		*part[i]++ = '\0';
	}
	if (search_find(part[n - 1], '$') != NULL)
		return search_fail(sc, "composite %s takes %u values joined "
		    "by $", sp->sp_p.code, n);
	search_key(k, sp, 'C');
	sn->sn_kind = SCAN_COMPOSITE;
	sn->sn_comp = ct;
	sn->sn_ncomp = (int)n - 1;
	/* First component. */
	if (c0.type == TABLES_PARAM_TOKEN) {
		bar = search_find(v, '|');
		if (bar != NULL)
			*bar = '\0';
		search_unescape(bar ? bar + 1 : v);
		buf_puts(k, bar ? bar + 1 : v);
		buf_putc(k, 0);
		if (bar != NULL) {
			search_unescape(v);
			buf_puts(k, v);
			buf_putc(k, 1);
		}
	} else {
		search_unescape(v);
		if (c0.type == TABLES_PARAM_STRING)
			index_fold(k, v, strlen(v));
		else
			buf_puts(k, v);
		buf_putc(k, 1);
	}
	sn->sn_skip = k->len;
	if (k->len > 0 && k->data[k->len - 1] == 1)
		sn->sn_skip--;	/* scan_composite finds the separator */
	/* The others. */
	for (i = 1; rc == EMBER_OK && i < n; i++) {
		if (tables_param_component(sc->sc_tb, &sp->sp_p, i, &c)) {
			rc = EMBER_ETABLES;
			break;
		}
		ct[i - 1].ct_type = (int)c.type;
		rc = search_comp_parse(sc, &ct[i - 1], part[i]);
	}
	if (rc == EMBER_OK)
		rc = search_scan(sc, k, sn);
	buf_free(&ct[0].ct_needle);
	buf_free(&ct[1].ct_needle);
	return rc;
}

/*
 * near=latitude|longitude|distance|units (R4): Locations within the
 * distance (default 1, in km; m, mi and [mi_i] too) of the point.
 */
static int
search_near(struct search_ctx *sc, const struct search_param *sp, char *v,
    struct buf *k, struct scan *sn)
{
	char	*part[4] = { NULL, NULL, NULL, NULL }, *end;
	double	 lat, lon, dist = 1, scale = 1;
	int	 n = 0;

	for (part[n++] = v; n < 4 && (v = strchr(v, '|')) != NULL; ) {
		*v++ = '\0';
		part[n++] = v;
	}
	lat = strtod(part[0], &end);
	if (end == part[0] || *end || part[1] == NULL ||
	    (lon = strtod(part[1], &end), end == part[1] || *end) ||
	    fabs(lat) > 90 || fabs(lon) > 180)
		return search_fail(sc, "near takes latitude|longitude"
		    "[|distance[|units]]");
	if (part[2] != NULL && *part[2] != '\0' &&
	    ((dist = strtod(part[2], &end)), end == part[2] || *end ||
	    !(dist >= 0)))
		return search_fail(sc, "near: bad distance \"%s\"", part[2]);
	if (part[3] != NULL && *part[3] != '\0') {
		if (strcmp(part[3], "km") == 0)
			scale = 1;
		else if (strcmp(part[3], "m") == 0)
			scale = 0.001;
		else if (strcmp(part[3], "mi") == 0 ||
		    strcmp(part[3], "[mi_i]") == 0)
			scale = 1.609344;
		else
			return search_fail(sc, "near: units km, m, mi or "
			    "[mi_i]");
	}
	search_key(k, sp, 'g');
	sn->sn_kind = SCAN_NEAR;
	sn->sn_skip = k->len;
	sn->sn_dlo = lat;
	sn->sn_dhi = lon;
	sn->sn_v = dist * scale;
	return search_scan(sc, k, sn);
}

/*
 * Token :in (a ValueSet's codes), :below and :above (system|code and
 * what it subsumes, or what subsumes it), from the terminology stored
 * on the server (term.h).  A short explicit code list is looked up key
 * by key (a code indexed without a system matches too: a FHIR `code`
 * element has its system through its binding); a set naming whole code
 * systems is tested against every posting of the parameter.
 */
static int
search_token_terms(struct search_ctx *sc, const struct search_param *sp,
    char *v, struct buf *k, struct scan *sn)
{
	struct term_set	 ts;
	const char	*mod = sp->sp_modifier;
	char		*bar, *p;
	size_t		 i;
	int		 rc, pass;

	if (strcmp(mod, "in") == 0) {
		search_unescape(v);
		rc = term_valueset(sc->sc_t, sc->sc_tb, v, &ts, sc->sc_err,
		    sc->sc_errsz);
	} else {
		if ((bar = search_find(v, '|')) == NULL || bar == v ||
		    bar[1] == '\0')
			return search_fail(sc, ":%s on %s takes system|code",
			    mod, sp->sp_p.code);
		*bar = '\0';
		search_unescape(v);
		search_unescape(bar + 1);
		rc = term_subsumption(sc->sc_t, sc->sc_tb, v, bar + 1,
		    strcmp(mod, "below") == 0, &ts, sc->sc_err, sc->sc_errsz);
	}
	if (rc)
		return rc;
	if (sc->sc_plan != NULL)
		buf_printf(sc->sc_plan, "%s:%s: %zu codes, %zu whole systems\n",
		    sp->sp_p.code, mod, ts.ts_npairs, ts.ts_nsystems);
	if (ts.ts_nsystems > 0 || ts.ts_npairs > 64) {
		search_key(k, sp, 'T');
		sn->sn_kind = SCAN_TERMS;
		sn->sn_skip = k->len;
		sn->sn_terms = &ts;
		rc = search_scan(sc, k, sn);
	} else {
		for (i = 0; rc == EMBER_OK && i < ts.ts_npairs; i++) {
			p = ts.ts_pairs[i];
			for (pass = 0; rc == EMBER_OK && pass < 2; pass++) {
				search_key(k, sp, 'T');
				buf_puts(k, p);
				buf_putc(k, 0);
				if (pass == 0)
					buf_puts(k, p + strlen(p) + 1);
				else if (p[strlen(p) + 1] == '\0')
					break;	/* the same key again */
				rc = search_scan_exact(sc, k, sn);
			}
		}
	}
	term_set_free(&ts);
	return rc;
}

/* One value of a non-chained parameter into out. */
static int
search_value(struct search_ctx *sc, const struct search_param *sp, char *v,
    struct search_set *out)
{
	const char	*mod = sp->sp_modifier, *tail, *pv;
	struct buf	 k = BUF_INIT;
	struct scan	 sn;
	char		*bar, *bar2, *sys, *code;
	unsigned	 i, ri;
	int		 rc = EMBER_OK;

	memset(&sn, 0, sizeof(sn));
	sn.sn_out = out;
	switch (sp->sp_p.type) {
	case TABLES_PARAM_STRING:
		search_unescape(v);
		if (*mod && strcmp(mod, "exact") && strcmp(mod, "contains") &&
		    strcmp(mod, "text")) {
			rc = search_fail(sc, "modifier :%s is not valid on "
			    "string parameter %s", mod, sp->sp_p.code);
			break;
		}
		if (strcmp(mod, "exact") == 0) {
			search_key(&k, sp, 'e');
			buf_append(&k, v, strlen(v) > INDEX_VALUE_MAX ?
			    INDEX_VALUE_MAX : strlen(v));
			sn.sn_kind = SCAN_EXACT;
			sn.sn_exact_len = k.len;
		} else if (strcmp(mod, "contains") == 0) {
			struct buf needle = BUF_INIT;

			search_key(&k, sp, 's');
			index_fold(&needle, v, strlen(v));
			sn.sn_kind = SCAN_CONTAINS;
			sn.sn_skip = k.len;
			sn.sn_needle = needle.data ? needle.data : "";
			sn.sn_needle_len = needle.len;
			rc = search_scan(sc, &k, &sn);
			buf_free(&needle);
			break;
		} else {
			search_key(&k, sp, 's');
			index_fold(&k, v, strlen(v));
		}
		rc = search_scan(sc, &k, &sn);
		break;

	case TABLES_PARAM_TOKEN:
		if (strcmp(mod, "in") == 0 || strcmp(mod, "above") == 0 ||
		    strcmp(mod, "below") == 0) {
			rc = search_token_terms(sc, sp, v, &k, &sn);
			break;
		}
		if (strcmp(mod, "of-type") == 0) {
			/* type-system|type-code|value, all three given. */
			if ((bar = search_find(v, '|')) == NULL ||
			    (bar2 = search_find(bar + 1, '|')) == NULL ||
			    bar2 == bar + 1 || bar2[1] == '\0') {
				rc = search_fail(sc, ":of-type on %s takes "
				    "system|code|value", sp->sp_p.code);
				break;
			}
			*bar = *bar2 = '\0';
			search_unescape(v);
			search_unescape(bar + 1);
			search_unescape(bar2 + 1);
			search_key(&k, sp, 'O');
			buf_puts(&k, bar2 + 1);
			buf_putc(&k, 0);
			buf_puts(&k, bar + 1);
			buf_putc(&k, 0);
			buf_puts(&k, v);
			rc = search_scan_exact(sc, &k, &sn);
			break;
		}
		if (*mod && strcmp(mod, "text") && strcmp(mod, "not")) {
			rc = search_fail(sc, "modifier :%s is not supported on "
			    "token parameter %s", mod, sp->sp_p.code);
			break;
		}
		if (strcmp(mod, "text") == 0) {
			search_unescape(v);
			search_key(&k, sp, 'x');
			index_fold(&k, v, strlen(v));
			rc = search_scan(sc, &k, &sn);
			break;
		}
		bar = search_find(v, '|');
		if (bar != NULL)
			*bar = '\0';
		sys = bar ? v : NULL;
		code = bar ? bar + 1 : v;
		if (sys)
			search_unescape(sys);
		search_unescape(code);
		if (sys != NULL && *code == '\0') {	/* system|: any code */
			search_key(&k, sp, 'T');
			sn.sn_kind = SCAN_SUFFIX;
			sn.sn_skip = k.len;
			sn.sn_needle = sys;
			sn.sn_needle_len = strlen(sys);
		} else {
			search_key(&k, sp, 'T');
			buf_puts(&k, code);
			buf_putc(&k, 0);
			if (sys != NULL) {		/* system|code, |code */
				buf_puts(&k, sys);
				sn.sn_kind = SCAN_EXACT;
				sn.sn_exact_len = k.len;
			}
		}
		rc = search_scan(sc, &k, &sn);
		break;

	case TABLES_PARAM_REFERENCE:
		search_unescape(v);
		if (strcmp(mod, "identifier") == 0) {
			search_key(&k, sp, 'i');
			if ((bar = strchr(v, '|')) != NULL) {
				*bar = '\0';
				buf_puts(&k, v);
				buf_putc(&k, 0);
				buf_puts(&k, bar + 1);
				sn.sn_kind = SCAN_EXACT;
				sn.sn_exact_len = k.len;
			} else {
				sn.sn_kind = SCAN_SUFFIX;
				sn.sn_skip = k.len;
				sn.sn_needle = v;
				sn.sn_needle_len = strlen(v);
			}
			rc = search_scan(sc, &k, &sn);
			break;
		}
		if (*mod && tables_resource_lookup(sc->sc_tb, mod, strlen(mod),
		    &ri)) {
			rc = search_fail(sc, "modifier :%s is not a resource "
			    "type or supported modifier for reference "
			    "parameter %s", mod, sp->sp_p.code);
			break;
		}
		/* An absolute URL on any base ending in Type/id is indexed
		 * as Type/id too: look for the value as given. */
		if (strchr(v, '/') != NULL || strchr(v, ':') != NULL) {
			search_key(&k, sp, 'r');
			buf_puts(&k, v);
			rc = search_scan_exact(sc, &k, &sn);
			break;
		}
		/* A bare id: Type/id for the modifier type or each target. */
		for (i = 0; rc == EMBER_OK && (*mod ? i < 1 :
		    i < sp->sp_p.target_count); i++) {
			tail = *mod ? mod : tables_param_target(sc->sc_tb,
			    &sp->sp_p, i, NULL);
			if (tail == NULL)
				continue;
			search_key(&k, sp, 'r');
			buf_puts(&k, tail);
			buf_putc(&k, '/');
			buf_puts(&k, v);
			rc = search_scan_exact(sc, &k, &sn);
		}
		break;

	case TABLES_PARAM_URI:
		search_unescape(v);
		search_key(&k, sp, 'u');
		if (strcmp(mod, "above") == 0) {
			sn.sn_kind = SCAN_ABOVE;
			sn.sn_skip = k.len;
			sn.sn_needle = v;
			sn.sn_needle_len = strlen(v);
		} else {
			buf_puts(&k, v);
			if (strcmp(mod, "below") != 0) {
				if (*mod) {
					rc = search_fail(sc, "modifier :%s is "
					    "not valid on uri parameter %s", mod,
					    sp->sp_p.code);
					break;
				}
				sn.sn_kind = SCAN_EXACT;
				sn.sn_exact_len = k.len;
			}
		}
		rc = search_scan(sc, &k, &sn);
		break;

	case TABLES_PARAM_DATE:
		if (*mod) {
			rc = search_fail(sc, "modifier :%s is not valid on date "
			    "parameter %s", mod, sp->sp_p.code);
			break;
		}
		if ((rc = search_date_value(sc, sp->sp_p.code, v,
		    &sn.sn_prefix, &sn.sn_lo, &sn.sn_hi)))
			break;
		sn.sn_and = sp->sp_also != NULL;
		if (sn.sn_and && (rc = search_date_value(sc, sp->sp_p.code,
		    sp->sp_also, &sn.sn_prefix2, &sn.sn_lo2, &sn.sn_hi2)))
			break;
		search_key(&k, sp, 'd');
		sn.sn_kind = SCAN_DATE;
		sn.sn_skip = k.len;
		rc = search_scan_dates(sc, &k, &sn);
		break;

	case TABLES_PARAM_NUMBER:
	case TABLES_PARAM_QUANTITY:
		if (*mod) {
			rc = search_fail(sc, "modifier :%s is not valid on "
			    "parameter %s", mod, sp->sp_p.code);
			break;
		}
		pv = v;
		sn.sn_prefix = search_prefix(&pv);
		bar = search_find((char *)(uintptr_t)pv, '|');
		if (bar != NULL)
			*bar = '\0';
		if (search_number(pv, &sn.sn_v, &sn.sn_dlo, &sn.sn_dhi)) {
			rc = search_fail(sc, "\"%s\" is not a number for %s", v,
			    sp->sp_p.code);
			break;
		}
		sn.sn_kind = SCAN_NUMBER;
		if (sp->sp_p.type == TABLES_PARAM_NUMBER) {
			search_key(&k, sp, 'n');
		} else if (bar == NULL) {
			search_key(&k, sp, 'Q');
		} else {
			bar2 = search_find(bar + 1, '|');
			if (bar2 == NULL) {
				rc = search_fail(sc, "quantity \"%s\": use "
				    "number|system|code", v);
				break;
			}
			*bar2 = '\0';
			search_unescape(bar + 1);
			search_unescape(bar2 + 1);
			if (bar[1] == '\0') {	/* number||code: code or unit */
				search_key(&k, sp, 'U');
				buf_puts(&k, bar2 + 1);
				buf_putc(&k, 0);
			} else {
				search_key(&k, sp, 'q');
				buf_puts(&k, bar + 1);
				buf_putc(&k, 0);
				buf_puts(&k, bar2 + 1);
				buf_putc(&k, 0);
			}
		}
		rc = search_scan(sc, &k, &sn);
		break;

	case TABLES_PARAM_COMPOSITE:
		rc = search_composite(sc, sp, v, &k, &sn);
		break;

	case TABLES_PARAM_SPECIAL:
		if (strcmp(sp->sp_p.code, "near") != 0 || *mod) {
			rc = search_fail(sc, "parameter %s cannot be searched "
			    "yet", sp->sp_p.code);
			break;
		}
		rc = search_near(sc, sp, v, &k, &sn);
		break;

	default:
		rc = search_fail(sc, "parameter %s (%s) cannot be searched yet",
		    sp->sp_p.code, tables_param_type_name(sp->sp_p.type));
		break;
	}
	if (rc == EMBER_OK)
		rc = buf_error(&k);
	buf_free(&k);
	return rc;
}

/* Every current resource of a type. */
struct all_arg {
	struct search_set *out;
};

static int
search_all_one(void *arg, const struct store_row *row)
{
	return set_add(((struct all_arg *)arg)->out, row->sr_rid);
}

static int
search_all(struct search_ctx *sc, const char *type, size_t tlen,
    struct search_set *out)
{
	struct all_arg		a = { out };
	struct search_param	sp;
	struct buf		k = BUF_INIT;
	struct scan		sn;
	int			rc;

	if (sc->sc_mem != NULL)		/* the one resource in memory */
		return set_add(out, 1);
	if (sc->sc_contained) {
		/* Every container of a resource of type: its _id postings. */
		if ((rc = search_param(sc, type, tlen, "_id", 3, &sp)))
			return rc == EMBER_ENOTFOUND ? EMBER_OK : rc;
		memset(&sn, 0, sizeof(sn));
		sn.sn_out = out;
		search_key(&k, &sp, 'T');
		rc = search_scan(sc, &k, &sn);
		buf_free(&k);
	} else
		rc = store_each(sc->sc_t, type, tlen, search_all_one, &a);
	if (rc)
		return rc;
	set_normalize(out);
	return EMBER_OK;
}

/* Resources with any value for the parameter (for :missing). */
static int
search_present(struct search_ctx *sc, const struct search_param *sp,
    struct search_set *out)
{
	struct buf	k = BUF_INIT;
	struct scan	sn;
	int		rc;

	memset(&sn, 0, sizeof(sn));
	sn.sn_out = out;
	search_key(&k, sp, 0);
	rc = search_scan(sc, &k, &sn);
	buf_free(&k);
	set_normalize(out);
	return rc;
}

/* ---- rids and references ---------------------------------------------- */

/* The rids of current resources named by "Type/id" references. */
static int
search_rids_to_refs(struct search_ctx *sc, const struct search_set *in,
    struct buf *refs)
{
	struct store_row	row;
	size_t			i;
	int			rc;

	for (i = 0; i < in->ss_n; i++) {
		if ((rc = store_row(sc->sc_t, in->ss_ids[i], &row)))
			return rc;
		buf_append(refs, row.sr_key, row.sr_key_len);
		buf_putc(refs, 0);
	}
	return buf_error(refs);
}

static int search_criterion(struct search_ctx *sc, const char *type,
    size_t tlen, const char *name, char *value, struct search_set *out);

/*
 * A chain: param[:Type].rest=value.  The inner criterion runs on each
 * target type; the outer keeps resources referencing a match.
 */
static int
search_chain(struct search_ctx *sc, const struct search_param *sp,
    const char *rest, char *value, struct search_set *out)
{
	struct search_set	 inner = { NULL, 0, 0 };
	struct buf		 refs = BUF_INIT, k = BUF_INIT;
	struct scan		 sn;
	const char		*target, *r;
	char			*vcopy;
	unsigned		 i, n, ri;
	int			 rc = EMBER_OK;

	if (sp->sp_p.type != TABLES_PARAM_REFERENCE)
		return search_fail(sc, "%s is not a reference: it cannot be "
		    "chained", sp->sp_p.code);
	if (sp->sp_modifier[0] && tables_resource_lookup(sc->sc_tb,
	    sp->sp_modifier, strlen(sp->sp_modifier), &ri))
		return search_fail(sc, "chain %s:%s: not a resource type",
		    sp->sp_p.code, sp->sp_modifier);
	n = sp->sp_modifier[0] ? 1 : sp->sp_p.target_count;
	if (n == 0)
		return search_fail(sc, "%s has no target types to chain "
		    "through", sp->sp_p.code);
	for (i = 0; rc == EMBER_OK && i < n; i++) {
		target = sp->sp_modifier[0] ? sp->sp_modifier :
		    tables_param_target(sc->sc_tb, &sp->sp_p, i, NULL);
		if (target == NULL || tables_resource_lookup(sc->sc_tb, target,
		    strlen(target), &ri))
			continue;
		if ((vcopy = strdup(value)) == NULL)
			return EMBER_ENOMEM;
		inner.ss_n = 0;
		rc = search_criterion(sc, target, strlen(target), rest, vcopy,
		    &inner);
		free(vcopy);
		/* With several targets, a parameter the inner type lacks
		 * simply matches nothing there. */
		if (rc == EMBER_EINVAL && n > 1 && !sp->sp_modifier[0]) {
			rc = EMBER_OK;
			continue;
		}
		if (rc == EMBER_OK)
			rc = search_rids_to_refs(sc, &inner, &refs);
	}
	for (r = refs.data; rc == EMBER_OK && r && r < refs.data + refs.len;
	    r += strlen(r) + 1) {
		memset(&sn, 0, sizeof(sn));
		sn.sn_out = out;
		search_key(&k, sp, 'r');
		buf_puts(&k, r);
		rc = search_scan_exact(sc, &k, &sn);
	}
	search_set_free(&inner);
	buf_free(&refs);
	buf_free(&k);
	if (rc == EMBER_OK)
		set_normalize(out);
	return rc;
}

/*
 * The ids a _has collects: each hi_len bytes at hi_off in ha_copies (an
 * owned list lasts only until the next one is read, so ids are copied);
 * hi_id points there once collecting is over and the buffer holds still.
 */
struct has_id {
	size_t		 hi_off;
	size_t		 hi_len;
	const char	*hi_id;
};

struct has_acc {
	struct has_id	*ha_ids;
	size_t		 ha_n, ha_cap;
	struct buf	 ha_copies;
	/* the grouped scan: */
	const uint64_t	*ha_bits;	/* the inner rids as a bitmap */
	size_t		 ha_words;
	size_t		 ha_plen;	/* key bytes before the id */
	const unsigned char *ha_last;	/* the key last taken */
};

static int
has_id_cmp(const void *a, const void *b)
{
	const struct has_id	*x = a, *y = b;
	int			 c = memcmp(x->hi_id, y->hi_id, x->hi_len <
				    y->hi_len ? x->hi_len : y->hi_len);

	return c ? c : (x->hi_len > y->hi_len) - (x->hi_len < y->hi_len);
}

static int
has_add(struct has_acc *ha, const void *id, size_t len)
{
	struct has_id	*grown;
	size_t		 cap;

	if (ha->ha_n == ha->ha_cap) {
		cap = ha->ha_cap ? ha->ha_cap * 2 : 64;
		if ((grown = realloc(ha->ha_ids, cap * sizeof(*grown))) ==
		    NULL)
			return EMBER_ENOMEM;
		ha->ha_ids = grown;
		ha->ha_cap = cap;
	}
	ha->ha_ids[ha->ha_n].hi_off = ha->ha_copies.len;
	ha->ha_ids[ha->ha_n++].hi_len = len;
	return buf_append(&ha->ha_copies, id, len);
}

/* store_postings_groups(): a key naming an inner rid gives its id. */
static int
has_group(void *arg, const unsigned char *key, size_t klen,
    const unsigned char *rids, size_t n)
{
	struct has_acc	*ha = arg;
	uint64_t	 rid;
	size_t		 i;

	if (key == ha->ha_last || klen <= ha->ha_plen)
		return 0;	/* taken already, from an earlier page */
	for (i = 0; i < n; i++) {
		rid = ((uint64_t)rids[4 * i] << 24) | ((uint64_t)rids[4 * i +
		    1] << 16) | ((uint64_t)rids[4 * i + 2] << 8) |
		    rids[4 * i + 3];
		if (rid / 64 < ha->ha_words &&
		    (ha->ha_bits[rid / 64] >> (rid % 64) & 1)) {
			ha->ha_last = key;
			return has_add(ha, key + ha->ha_plen, klen -
			    ha->ha_plen) ? EMBER_ENOMEM : 0;
		}
	}
	return 0;
}

/*
 * The ids the inner rids reference through the keys starting with
 * k (klen bytes).  Few inner rids: read each one's owned keys; many:
 * walk the parameter's keys once with their rids, testing a bitmap.
 */
static int
has_collect(struct search_ctx *sc, const struct search_set *inner,
    const unsigned char *k, size_t plen, struct has_acc *ha)
{
	const unsigned char	*p;
	const void		*owned;
	uint64_t		*bits;
	size_t			 i, len, n;
	int			 rc = EMBER_OK;

	if (inner->ss_n > SEARCH_HAS_GROUPS) {
		ha->ha_words = (size_t)(inner->ss_ids[inner->ss_n - 1] / 64) +
		    1;
		if ((bits = calloc(ha->ha_words, sizeof(*bits))) == NULL)
			return EMBER_ENOMEM;
		for (i = 0; i < inner->ss_n; i++)
			bits[inner->ss_ids[i] / 64] |= (uint64_t)1 <<
			    (inner->ss_ids[i] % 64);
		ha->ha_bits = bits;
		ha->ha_plen = plen;
		rc = store_postings_groups(sc->sc_t, k, plen, has_group, ha);
		free(bits);
		return rc;
	}
	for (i = 0; i < inner->ss_n; i++) {
		rc = store_postings_owned(sc->sc_t, inner->ss_ids[i], &owned,
		    &len);
		if (rc == EMBER_ENOTFOUND)
			continue;
		if (rc)
			return rc;
		for (p = owned; len >= 2; p += 2 + n, len -= 2 + n) {
			n = ((size_t)p[0] << 8) | p[1];
			if (n > len - 2)
				break;
			/* The parameter prefix first: most keys differ. */
			if (n <= plen || p[2] != k[0] || p[3] != k[1] ||
			    p[4] != k[2] || p[5] != k[3] ||
			    memcmp(p + 2, k, plen) != 0)
				continue;
			if ((rc = has_add(ha, p + 2 + plen, n - plen)))
				return rc;
		}
	}
	return EMBER_OK;
}

/*
 * _has:Type:param:criterion=value — resources of `type` that a Type
 * resource matching criterion references through param.
 */
static int
search_has(struct search_ctx *sc, const char *type, size_t tlen,
    const char *spec, char *value, struct search_set *out)
{
	struct search_set	 inner = { NULL, 0, 0 };
	struct store_row	 row;
	struct buf		 k = BUF_INIT;
	struct has_acc		 ha;
	char			 rtype[65], rparam[65];
	const char		*c1, *c2;
	size_t			 i;
	int			 rc;

	memset(&ha, 0, sizeof(ha));
	if ((c1 = strchr(spec, ':')) == NULL ||
	    (c2 = strchr(c1 + 1, ':')) == NULL ||
	    (size_t)(c1 - spec) >= sizeof(rtype) ||
	    (size_t)(c2 - c1 - 1) >= sizeof(rparam))
		return search_fail(sc, "_has needs _has:Type:param:criterion");
	snprintf(rtype, sizeof(rtype), "%.*s", (int)(c1 - spec), spec);
	snprintf(rparam, sizeof(rparam), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	if ((rc = search_criterion(sc, rtype, strlen(rtype), c2 + 1, value,
	    &inner)))
		goto done;
	/* Each match's reference postings of rparam that name `type`. */
	index_prefix(&k, rtype, strlen(rtype), rparam, strlen(rparam));
	buf_putc(&k, 'r');
	buf_append(&k, type, tlen);
	buf_putc(&k, '/');
	if ((rc = buf_error(&k)) || (rc = has_collect(sc, &inner,
	    (const unsigned char *)k.data, k.len, &ha)))
		goto done;
	/* Many matches name the same resource: look each up once. */
	for (i = 0; i < ha.ha_n; i++)
		ha.ha_ids[i].hi_id = ha.ha_copies.data + ha.ha_ids[i].hi_off;
	if (ha.ha_n > 1)
		qsort(ha.ha_ids, ha.ha_n, sizeof(*ha.ha_ids), has_id_cmp);
	for (i = 0; i < ha.ha_n; i++) {
		if (i > 0 && has_id_cmp(&ha.ha_ids[i - 1], &ha.ha_ids[i]) == 0)
			continue;
		rc = store_current(sc->sc_t, type, tlen, ha.ha_ids[i].hi_id,
		    ha.ha_ids[i].hi_len, &row);
		if (rc == EMBER_ENOTFOUND)
			continue;
		if (rc)
			goto done;
		if (!row.sr_deleted && (rc = set_add(out, row.sr_rid)))
			goto done;
	}
	set_normalize(out);
	rc = EMBER_OK;
done:
	free(ha.ha_ids);
	buf_free(&ha.ha_copies);
	search_set_free(&inner);
	buf_free(&k);
	return rc;
}

/* Look up a parameter of type; name may carry :modifier. */
static int
search_param(struct search_ctx *sc, const char *type, size_t tlen,
    const char *name, size_t nlen, struct search_param *sp)
{
	const char	*colon = memchr(name, ':', nlen);
	unsigned	 ri, pi;
	size_t		 clen = colon ? (size_t)(colon - name) : nlen;

	memset(sp, 0, sizeof(*sp));
	if (tables_resource_lookup(sc->sc_tb, type, tlen, &ri))
		return search_fail(sc, "unknown resource type %.*s", (int)tlen,
		    type);
	if (tables_param_lookup(sc->sc_tb, ri, name, clen, &pi) ||
	    tables_param_get(sc->sc_tb, pi, &sp->sp_p))
		return EMBER_ENOTFOUND;
	sp->sp_type = tables_resource_name(sc->sc_tb, ri);
	sp->sp_type_len = strlen(sp->sp_type);
	if (sc->sc_contained) {		/* the postings of contained ones */
		if (index_contained_type(sp->sp_ctype, sizeof(sp->sp_ctype),
		    sp->sp_type, sp->sp_type_len))
			return search_fail(sc, "type name too long");
		sp->sp_type = sp->sp_ctype;
		sp->sp_type_len = strlen(sp->sp_ctype);
	}
	if (colon != NULL) {
		if (nlen - clen - 1 >= sizeof(sp->sp_modifier))
			return search_fail(sc, "modifier too long");
		memcpy(sp->sp_modifier, colon + 1, nlen - clen - 1);
	}
	return EMBER_OK;
}

/* ---- _list, _text, _content -------------------------------------------- */

static int
search_is_words(const char *code)
{
	return strcmp(code, "_text") == 0 || strcmp(code, "_content") == 0;
}

/*
 * _list=id (or List/id): the resources of `type` a stored List names in
 * entry.item (entries flagged deleted left out).  Functional lists
 * ($current-allergies...) are not kept by Ember.
 */
static int
search_list(struct search_ctx *sc, const char *type, size_t tlen,
    const struct search_param *sp, char *value, struct search_set *out)
{
	struct store_row	 row;
	const cJSON		*e, *del;
	cJSON			*list;
	const char		*ref, *slash, *id, *h;
	char			*v, *next;
	size_t			 idlen;
	int			 rc = EMBER_OK;

	if (sp->sp_modifier[0])
		return search_fail(sc, "modifier :%s is not valid on _list",
		    sp->sp_modifier);
	for (v = value; rc == EMBER_OK && v; v = next) {
		if ((next = search_find(v, ',')) != NULL)
			*next++ = '\0';
		search_unescape(v);
		if (strncmp(v, "List/", 5) == 0)
			v += 5;
		if (*v == '$')
			return search_fail(sc, "functional list %s is not "
			    "supported: Ember keeps none", v);
		if (!rest_valid_id(v, strlen(v)))
			return search_fail(sc, "_list takes a List id, not "
			    "\"%s\"", v);
		rc = store_current(sc->sc_t, "List", 4, v, strlen(v), &row);
		if (rc == EMBER_ENOTFOUND || (rc == EMBER_OK && row.sr_deleted)) {
			rc = EMBER_OK;
			continue;
		}
		if (rc || (rc = term_row_tree(sc->sc_t, &row, &list)))
			break;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(list,
		    "entry")) {
			del = cJSON_GetObjectItemCaseSensitive(e, "deleted");
			ref = json_string(cJSON_GetObjectItemCaseSensitive(e,
			    "item"), "reference");
			if (cJSON_IsTrue(del) || ref == NULL)
				continue;
			/* [base/]Type/id[/_history/v]: find Type/id. */
			if ((h = strstr(ref, "/_history/")) == NULL)
				h = ref + strlen(ref);
			for (id = h; id > ref && id[-1] != '/'; id--)
				;
			if (id == ref)
				continue;
			idlen = (size_t)(h - id);
			for (slash = id - 1; slash > ref && slash[-1] != '/';
			    slash--)
				;
			if ((size_t)(id - 1 - slash) != tlen ||
			    memcmp(slash, type, tlen) != 0)
				continue;
			rc = store_current(sc->sc_t, type, tlen, id, idlen,
			    &row);
			if (rc == EMBER_ENOTFOUND) {
				rc = EMBER_OK;
				continue;
			}
			if (rc)
				break;
			if (!row.sr_deleted && (rc = set_add(out, row.sr_rid)))
				break;
		}
		cJSON_Delete(list);
	}
	set_normalize(out);
	return rc;
}

/*
 * The words of s, folded (index_fold), each followed by NUL.  A word is
 * a run of ASCII letters and digits and of non-ASCII bytes; in XHTML,
 * markup and character references separate words.
 */
static int
search_words_of(struct buf *w, const char *s, int xhtml)
{
	const unsigned char	*p = (const unsigned char *)s, *start;

	while (*p) {
		if (xhtml && (*p == '<' || *p == '&')) {
			int close = *p == '<' ? '>' : ';';

			while (*p && *p != close)
				p++;
			if (*p)
				p++;
			continue;
		}
		if (!isalnum(*p) && *p < 0x80) {
			p++;
			continue;
		}
		for (start = p; *p && (isalnum(*p) || *p >= 0x80); p++)
			;
		index_fold(w, (const char *)start, (size_t)(p - start));
		buf_putc(w, 0);
	}
	return buf_error(w);
}

/* Every string in j (_content), the narrative's markup set aside. */
static int
search_words_tree(struct buf *w, const cJSON *j, int depth)
{
	const cJSON	*c;
	int		 rc;

	if (cJSON_IsString(j))
		return search_words_of(w, j->valuestring, j->string != NULL &&
		    strcmp(j->string, "div") == 0);
	if (depth > 64)
		return EMBER_OK;
	cJSON_ArrayForEach(c, j)
		if ((rc = search_words_tree(w, c, depth + 1)))
			return rc;
	return EMBER_OK;
}

/* Whether every query word (NUL-separated, folded) starts a word. */
static int
search_words_match(const struct buf *words, const char *q, size_t qlen)
{
	const char	*w, *end;
	size_t		 n;

	if (words->data == NULL)
		return 0;	/* the resource has no words */
	end = words->data + words->len;
	for (; qlen > 0; qlen -= n + 1, q += n + 1) {
		n = strlen(q);
		for (w = words->data; w && w < end; w += strlen(w) + 1)
			if (strncmp(w, q, n) == 0)
				break;
		if (w == NULL || w >= end)
			return 0;
	}
	return 1;
}

/*
 * _text (the narrative) and _content (every string of the resource):
 * keep in set the resources matching a value.  A value is words, all
 * of which must start a word of the resource, folded as strings are;
 * commas separate alternatives.  Evaluated by reading each candidate,
 * not from postings: search_eval() applies it to the other criteria's
 * result.
 */
static int
search_words(struct search_ctx *sc, const struct search_param *sp,
    char *value, struct search_set *set)
{
	struct buf	 alts = BUF_INIT, words = BUF_INIT;
	cJSON		*res;
	const char	*a, *aend, *div;
	char		*v, *next;
	size_t		 i, k = 0, alen;
	int		 rc = EMBER_OK, text = strcmp(sp->sp_p.code, "_text") == 0;
	int		 hit;

	if (sp->sp_modifier[0])
		return search_fail(sc, "modifier :%s is not valid on %s",
		    sp->sp_modifier, sp->sp_p.code);
	/* alts: each alternative's words, NUL after each, and one more
	 * NUL after the alternative. */
	for (v = value; v; v = next) {
		if ((next = search_find(v, ',')) != NULL)
			*next++ = '\0';
		search_unescape(v);
		alen = alts.len;
		if ((rc = search_words_of(&alts, v, 0)))
			goto done;
		if (alts.len == alen) {
			rc = search_fail(sc, "%s needs at least one word",
			    sp->sp_p.code);
			goto done;
		}
		buf_putc(&alts, 0);
	}
	if ((rc = buf_error(&alts)))
		goto done;
	for (i = 0; i < set->ss_n; i++) {
		res = NULL;
		if (sc->sc_contained) {
			/* Containers: each contained one is read later. */
			set->ss_ids[k++] = set->ss_ids[i];
			continue;
		}
		if (sc->sc_mem_json != NULL)
			rc = EMBER_OK;
		else
			rc = term_current_tree(sc->sc_t, set->ss_ids[i], &res);
		if (rc == EMBER_ENOTFOUND) {
			rc = EMBER_OK;
			continue;
		}
		if (rc)
			goto done;
		buf_reset(&words);
		if (res == NULL)
			res = (cJSON *)(uintptr_t)sc->sc_mem_json;
		div = json_string(cJSON_GetObjectItemCaseSensitive(res,
		    "text"), "div");
		if (text)
			rc = search_words_of(&words, div ? div : "", 1);
		else
			rc = search_words_tree(&words, res, 0);
		if (res != sc->sc_mem_json)
			cJSON_Delete(res);
		if (rc)
			goto done;
		hit = 0;
		for (a = alts.data, aend = alts.data + alts.len; !hit &&
		    a < aend; a += alen + 1) {
			/* One alternative runs to its empty word. */
			for (alen = 0; a[alen] != '\0'; alen += strlen(a + alen) + 1)
				;
			hit = search_words_match(&words, a, alen);
		}
		if (hit)
			set->ss_ids[k++] = set->ss_ids[i];
	}
	set->ss_n = k;
	if (sc->sc_plan != NULL)
		buf_printf(sc->sc_plan, "%s: read %zu candidates, %zu match\n",
		    sp->sp_p.code, i, k);
done:
	buf_free(&alts);
	buf_free(&words);
	return rc;
}

int
search_param_supported(const struct tables *tb, const struct tables_param *p)
{
	if (strcmp(p->code, "_list") == 0 || search_is_words(p->code))
		return 1;
	if (p->flags & TABLES_PARAM_NOPATH)
		return 0;
	if (p->type == TABLES_PARAM_SPECIAL)
		return strcmp(p->code, "near") == 0;
	if (p->type == TABLES_PARAM_COMPOSITE)
		return index_composite_supported(tb, p);
	return 1;
}

/*
 * One criterion: name (with modifier, chain or _has) and its value (a
 * comma-separated OR list) into out.  also (may be NULL) is the value of
 * a later parameter of the same name: when both are single dates of a
 * date parameter (date=ge2019&date=lt2020), one scan of the postings
 * tests both and *used is set.
 */
static int
search_criterion_and(struct search_ctx *sc, const char *type, size_t tlen,
    const char *name, char *value, const char *also, int *used,
    struct search_set *out)
{
	struct search_param	 sp;
	struct search_set	 present = { NULL, 0, 0 }, all = { NULL, 0, 0 };
	const char		*dot;
	char			*v, *next;
	int			 rc;

	if (++sc->sc_depth > SEARCH_CHAIN_MAX * 2) {
		sc->sc_depth--;
		return search_fail(sc, "chains and _has nest too deep");
	}
	if ((sc->sc_contained || sc->sc_mem != NULL) &&
	    (strncmp(name, "_has:", 5) == 0 || strchr(name, '.') != NULL ||
	    strncmp(name, "_list", 5) == 0)) {
		rc = search_fail(sc, "%s cannot be used with _contained", name);
		goto done;
	}
	if (strncmp(name, "_has:", 5) == 0) {
		rc = search_has(sc, type, tlen, name + 5, value, out);
		goto done;
	}
	dot = strchr(name, '.');
	rc = search_param(sc, type, tlen, name, dot ? (size_t)(dot - name) :
	    strlen(name), &sp);
	if (rc == EMBER_ENOTFOUND) {
		rc = search_fail(sc, "unknown search parameter \"%s\" for %.*s",
		    name, (int)tlen, type);
		goto done;
	}
	if (rc)
		goto done;
	if (dot != NULL) {
		rc = search_chain(sc, &sp, dot + 1, value, out);
		goto done;
	}
	if (strcmp(sp.sp_p.code, "_list") == 0) {
		rc = search_list(sc, type, tlen, &sp, value, out);
		goto done;
	}
	if (search_is_words(sp.sp_p.code)) {
		if ((rc = search_all(sc, type, tlen, &all)) == EMBER_OK &&
		    (rc = search_words(sc, &sp, value, &all)) == EMBER_OK)
			rc = set_union(out, &all);
		goto done;
	}
	if (!search_param_supported(sc->sc_tb, &sp.sp_p)) {
		rc = search_fail(sc, "parameter %s cannot be searched yet",
		    sp.sp_p.code);
		goto done;
	}
	if (also != NULL && sp.sp_p.type == TABLES_PARAM_DATE &&
	    sp.sp_modifier[0] == '\0' && search_find(value, ',') == NULL &&
	    *value != '\0') {
		sp.sp_also = also;
		*used = 1;
	}
	if (strcmp(sp.sp_modifier, "missing") == 0) {
		if (strcmp(value, "true") && strcmp(value, "false")) {
			rc = search_fail(sc, ":missing takes true or false");
			goto done;
		}
		if ((rc = search_present(sc, &sp, &present)))
			goto done;
		if (strcmp(value, "false") == 0) {
			rc = set_union(out, &present);
			goto done;
		}
		if ((rc = search_all(sc, type, tlen, &all)) == EMBER_OK) {
			set_minus(&all, &present);
			rc = set_union(out, &all);
		}
		goto done;
	}
	if (strcmp(sp.sp_modifier, "not") == 0 ||
	    (strcmp(sp.sp_modifier, "not-in") == 0 &&
	    sp.sp_p.type == TABLES_PARAM_TOKEN)) {
		/* token :not and :not-in: every resource but those that
		 * match without the modifier, or with :in. */
		struct search_set match = { NULL, 0, 0 };

		if (strcmp(sp.sp_modifier, "not-in") == 0)
			strcpy(sp.sp_modifier, "in");
		else
			sp.sp_modifier[0] = '\0';
		for (v = value; rc == EMBER_OK && v; v = next) {
			if ((next = search_find(v, ',')) != NULL)
				*next++ = '\0';
			rc = search_value(sc, &sp, v, &match);
		}
		set_normalize(&match);
		if (rc == EMBER_OK && (rc = search_all(sc, type, tlen, &all)) ==
		    EMBER_OK) {
			set_minus(&all, &match);
			rc = set_union(out, &all);
		}
		search_set_free(&match);
		goto done;
	}
	for (v = value; rc == EMBER_OK && v; v = next) {
		if ((next = search_find(v, ',')) != NULL)
			*next++ = '\0';
		if (*v == '\0') {
			rc = search_fail(sc, "%s has an empty value", name);
			break;
		}
		rc = search_value(sc, &sp, v, out);
	}
	set_normalize(out);
done:
	search_set_free(&present);
	search_set_free(&all);
	sc->sc_depth--;
	return rc;
}

static int
search_criterion(struct search_ctx *sc, const char *type, size_t tlen,
    const char *name, char *value, struct search_set *out)
{
	return search_criterion_and(sc, type, tlen, name, value, NULL, NULL,
	    out);
}

static int
search_is_result_param(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(search_result_params) /
	    sizeof(search_result_params[0]); i++) {
		size_t n = strlen(search_result_params[i]);

		if (strncmp(name, search_result_params[i], n) == 0 &&
		    (name[n] == '\0' || name[n] == ':'))
			return 1;
	}
	return 0;
}

/*
 * The value of the next parameter after p named as hp is (not one of the
 * skip list), decoded into buf, when it is a single value (no comma):
 * what search_criterion_and() may AND into hp's scan.  *name gets its
 * position, to skip it when it was used.  NULL when there is none.
 */
static const char *
search_partner(const char *p, const char *end, const struct http_param *hp,
    const char *const *skip, size_t nskip, char *buf, const char **name)
{
	struct http_param	h2;
	size_t			i, n;

	if (memchr(hp->hp_name, '.', hp->hp_name_len) != NULL ||
	    memchr(hp->hp_name, ':', hp->hp_name_len) != NULL)
		return NULL;
	while (http_query_next(&p, end, &h2)) {
		if (h2.hp_name_len != hp->hp_name_len ||
		    memcmp(h2.hp_name, hp->hp_name, hp->hp_name_len) != 0)
			continue;
		for (i = 0; i < nskip && skip[i] != h2.hp_name; i++)
			;
		if (i < nskip)
			continue;
		if (h2.hp_value_len > SEARCH_VALUE_MAX ||
		    http_percent_decode(h2.hp_value, h2.hp_value_len, 1, buf,
		    &n) || *buf == '\0' || search_find(buf, ',') != NULL)
			return NULL;
		*name = h2.hp_name;
		return buf;
	}
	return NULL;
}

/*
 * Lenient handling (search.html): an unknown parameter is ignored, and
 * said in the warnings; SEARCH_IGNORED tells the caller to go on.
 * Under strict handling, or for any other failure, rc is returned.
 */
static int
search_lenient(struct search_ctx *sc, int rc)
{
	if (rc != EMBER_EINVAL || sc->sc_strict ||
	    strncmp(sc->sc_err, "unknown search parameter", 24) != 0)
		return rc;
	if (sc->sc_warn != NULL) {
		buf_puts(sc->sc_warn, sc->sc_err);
		buf_putc(sc->sc_warn, '\n');
	}
	return SEARCH_IGNORED;
}

/* search_eval() within a context (also for _contained's passes). */
static int
search_eval_ctx(struct search_ctx *sc, const char *type, size_t type_len,
    const char *query, size_t len, struct search_set *out)
{
	struct search_set	 acc = { NULL, 0, 0 }, one = { NULL, 0, 0 };
	struct http_param	 hp;
	struct buf		 deferred = BUF_INIT;
	const char		*p = query, *end = query + len, *also;
	const char		*partner = NULL;
	const char		*skip[SEARCH_PARAMS_MAX];
	char			*d;
	char			 name[256], *value = NULL, *value2 = NULL;
	size_t			 n, nskip = 0, i, got;
	unsigned		 ri;
	int			 rc = EMBER_OK, any = 0, nparams = 0, used;

	if (tables_resource_lookup(sc->sc_tb, type, type_len, &ri))
		return search_fail(sc, "unknown resource type %.*s",
		    (int)(type_len > 64 ? 64 : type_len), type);
	if ((value = malloc(2 * (SEARCH_VALUE_MAX + 1))) == NULL)
		return EMBER_ENOMEM;
	value2 = value + SEARCH_VALUE_MAX + 1;
	while (rc == EMBER_OK && http_query_next(&p, end, &hp)) {
		for (i = 0; i < nskip && skip[i] != hp.hp_name; i++)
			;
		if (i < nskip)
			continue;	/* a date ANDed into an earlier scan */
		if (++nparams > SEARCH_PARAMS_MAX) {
			rc = search_fail(sc, "more than %d search parameters",
			    SEARCH_PARAMS_MAX);
			break;
		}
		if (hp.hp_name_len >= sizeof(name) ||
		    hp.hp_value_len > SEARCH_VALUE_MAX ||
		    http_percent_decode(hp.hp_name, hp.hp_name_len, 1, name,
		    &n) || http_percent_decode(hp.hp_value, hp.hp_value_len, 1,
		    value, &n)) {
			rc = search_fail(sc, "malformed query parameter");
			break;
		}
		if (search_is_result_param(name))
			continue;
		if (strncmp(name, "_text", 5) == 0 || strncmp(name, "_content",
		    8) == 0) {
			/* Read resources: after the postings narrowed them. */
			buf_puts(&deferred, name);
			buf_putc(&deferred, 0);
			buf_puts(&deferred, value);
			buf_putc(&deferred, 0);
			rc = buf_error(&deferred);
			continue;
		}
		also = search_partner(p, end, &hp, skip, nskip, value2,
		    &partner);
		used = 0;
		one.ss_n = 0;
		rc = search_criterion_and(sc, type, type_len, name, value, also,
		    &used, &one);
		if ((rc = search_lenient(sc, rc)) == SEARCH_IGNORED) {
			rc = EMBER_OK;
			continue;
		}
		if (rc)
			break;
		if (used)
			skip[nskip++] = partner;
		got = one.ss_n;
		if (!any) {
			search_set_free(&acc);
			acc = one;	/* the first criterion's set, as it is */
			memset(&one, 0, sizeof(one));
			any = 1;
		} else
			set_intersect(&acc, &one);
		if (sc->sc_plan != NULL)
			buf_printf(sc->sc_plan, "%.*s: %.100s%s: %zu ids, "
			    "%zu after AND\n",
			    (int)type_len, type, name, used ? " (and the next "
			    "one, in one scan)" : "", got, acc.ss_n);
	}
	if (rc == EMBER_OK && !any) {
		rc = search_all(sc, type, type_len, &acc);
		if (sc->sc_plan != NULL)
			buf_printf(sc->sc_plan, "%.*s: no criteria: all %zu "
			    "current\n",
			    (int)type_len, type, acc.ss_n);
	}
	for (d = deferred.data; rc == EMBER_OK && d != NULL &&
	    d < deferred.data + deferred.len; d += strlen(d) + 1) {
		struct search_param sp;

		n = strlen(d);
		rc = search_param(sc, type, type_len, d, n, &sp);
		if (rc == EMBER_ENOTFOUND)
			rc = search_fail(sc, "unknown search parameter \"%s\" "
			    "for %.*s", d, (int)type_len, type);
		d += n + 1;
		if (rc == EMBER_OK)
			rc = search_is_words(sp.sp_p.code) ? search_words(sc,
			    &sp, d, &acc) : search_fail(sc, "unknown search "
			    "parameter \"%s\" for %.*s", sp.sp_p.code,
			    (int)type_len, type);
		if ((rc = search_lenient(sc, rc)) == SEARCH_IGNORED)
			rc = EMBER_OK;
	}
	buf_free(&deferred);
	free(value);
	search_set_free(&one);
	if (rc) {
		search_set_free(&acc);
		return rc;
	}
	*out = acc;
	return EMBER_OK;
}

/*
 * _contained (search.html): resources of type contained in others that
 * match the query.  A first pass over the postings of contained
 * resources ("#Type" prefixes, index_keys()) finds candidate containers;
 * then each contained resource of the type in them is tested on its own,
 * its keys in memory, so that every criterion holds for one and the same
 * contained resource.  out gets the containers' rids, in order; hits one
 * record per match: the container's rid (8 bytes) and the match's index
 * in its contained list (4 bytes), both host order.
 */
static int
search_contained(struct search_ctx *sc, const char *type, size_t tlen,
    const char *query, size_t len, struct search_set *out, struct buf *hits)
{
	struct search_set	 cand = { NULL, 0, 0 }, one = { NULL, 0, 0 };
	struct search_ctx	 mem;
	struct buf		 keys = BUF_INIT;
	const cJSON		*c;
	const char		*rt;
	cJSON			*res;
	unsigned		 ri;
	uint32_t		 idx;
	size_t			 i, nhits = 0;
	int			 rc, match;

	if (tables_resource_lookup(sc->sc_tb, type, tlen, &ri))
		return search_fail(sc, "unknown resource type %.*s", (int)tlen,
		    type);
	sc->sc_contained = 1;
	rc = search_eval_ctx(sc, type, tlen, query, len, &cand);
	sc->sc_contained = 0;
	if (rc)
		return rc;
	mem = *sc;
	mem.sc_plan = NULL;
	mem.sc_warn = NULL;
	for (i = 0; rc == EMBER_OK && i < cand.ss_n; i++) {
		rc = term_current_tree(sc->sc_t, cand.ss_ids[i], &res);
		if (rc == EMBER_ENOTFOUND) {
			rc = EMBER_OK;
			continue;
		}
		if (rc)
			break;
		match = 0;
		idx = 0;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(res,
		    "contained")) {
			rt = json_string(c, "resourceType");
			if (rt != NULL && strlen(rt) == tlen &&
			    memcmp(rt, type, tlen) == 0) {
				buf_reset(&keys);
				mem.sc_mem = &keys;
				mem.sc_mem_json = c;
				if ((rc = index_keys(sc->sc_tb, ri, c, &keys)) ||
				    (rc = search_eval_ctx(&mem, type, tlen,
				    query, len, &one)))
					break;
				if (one.ss_n > 0) {
					match = 1;
					nhits++;
					buf_append(hits, &cand.ss_ids[i], 8);
					buf_append(hits, &idx, 4);
				}
				search_set_free(&one);
			}
			idx++;
		}
		cJSON_Delete(res);
		if (rc == EMBER_OK && match)
			rc = set_add(out, cand.ss_ids[i]);
	}
	if (rc == EMBER_OK)
		rc = buf_error(hits);
	if (sc->sc_plan != NULL)
		buf_printf(sc->sc_plan, "_contained: %zu candidate containers, "
		    "%zu contained %.*s match in %zu\n", cand.ss_n, nhits,
		    (int)tlen, type, out->ss_n);
	search_set_free(&cand);
	search_set_free(&one);
	buf_free(&keys);
	return rc;
}

int
search_eval(struct store_txn *t, const struct tables *tb, const char *type,
    size_t type_len, const char *query, size_t len, int strict,
    struct search_set *out, struct buf *warnings, struct buf *plan,
    char *err, size_t errsz)
{
	struct search_ctx sc;

	memset(&sc, 0, sizeof(sc));
	sc.sc_t = t;
	sc.sc_tb = tb;
	sc.sc_strict = strict;
	sc.sc_warn = warnings;
	sc.sc_plan = plan;
	sc.sc_err = err;
	sc.sc_errsz = errsz;
	return search_eval_ctx(&sc, type, type_len, query, len, out);
}

/* ---- the searchset ---------------------------------------------------- */

/* Result parameters of one search. */
struct search_opts {
	uint64_t	so_count;
	uint64_t	so_cursor;	/* resume after this rid */
	int		so_summary_count;
	int		so_total;	/* 0 none, 1 accurate */
	uint64_t	so_offset;	/* sorted results: skip this many */
	int		so_debug;	/* _debug=true with debug_plan on */
	int		so_contained;	/* _contained: 0 false, 1 true, 2 both */
	int		so_ctype;	/* _containedType: 1 contained */
	struct buf	so_include;	/* "Type:param[:Target]" NUL ... */
	struct buf	so_revinclude;	/* "Type:param" NUL ... */
	struct buf	so_iterate;	/* _include:iterate specs */
	struct buf	so_reviterate;	/* _revinclude:iterate specs */
	struct buf	so_sort;	/* "[-]param" NUL ... */
};

/* Decode name=value pairs of a query; fn sees each. */
static int
search_each_param(const char *q, size_t len,
    int (*fn)(void *, const char *, const char *), void *arg)
{
	const char		*p = q, *end = q + len;
	struct http_param	 hp;
	char			 name[256], value[SEARCH_VALUE_MAX + 1];
	size_t			 n;
	int			 rc;

	while (http_query_next(&p, end, &hp)) {
		if (hp.hp_name_len >= sizeof(name) ||
		    hp.hp_value_len > SEARCH_VALUE_MAX ||
		    http_percent_decode(hp.hp_name, hp.hp_name_len, 1, name,
		    &n) || http_percent_decode(hp.hp_value, hp.hp_value_len, 1,
		    value, &n))
			return EMBER_EINVAL;
		if ((rc = fn(arg, name, value)))
			return rc;
	}
	return EMBER_OK;
}

struct opts_arg {
	struct rest_ctx		*oa_cx;
	struct search_opts	*oa_o;
	struct buf		*oa_warn;
	int			 oa_strict;
	char			 oa_err[256];
};

static int
search_opt_uint(const char *v, uint64_t *out)
{
	char			*end;
	unsigned long long	 n;

	if (!isdigit((unsigned char)v[0]))
		return EMBER_EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end != '\0' || errno)
		return EMBER_EINVAL;
	*out = n;
	return EMBER_OK;
}

/*
 * The index of value in words (NULL-terminated), or -1 with the error
 * "name must be one of ..." in oa.
 */
static int
search_opt_word(struct opts_arg *oa, const char *name, const char *value,
    const char *const *words)
{
	size_t	i, n;
	int	k;

	for (k = 0; words[k] != NULL; k++)
		if (strcmp(value, words[k]) == 0)
			return k;
	n = (size_t)snprintf(oa->oa_err, sizeof(oa->oa_err), "%s must be one "
	    "of", name);
	for (i = 0; words[i] != NULL && n < sizeof(oa->oa_err); i++)
		n += (size_t)snprintf(oa->oa_err + n, sizeof(oa->oa_err) - n,
		    "%s %s", i ? "," : "", words[i]);
	return -1;
}

static int
search_opt_one(void *arg, const char *name, const char *value)
{
	struct opts_arg		*oa = arg;
	struct search_opts	*o = oa->oa_o;
	const struct conf	*c = &oa->oa_cx->cx_server->srv_conf;

	if (strcmp(name, "_count") == 0) {
		if (search_opt_uint(value, &o->so_count)) {
			snprintf(oa->oa_err, sizeof(oa->oa_err), "_count must be "
			    "a non-negative integer, not \"%.100s\"", value);
			return EMBER_EINVAL;
		}
		if (o->so_count > c->cf_max_count)
			o->so_count = c->cf_max_count;
	} else if (strcmp(name, "_cursor") == 0) {
		if (search_opt_uint(value, &o->so_cursor)) {
			snprintf(oa->oa_err, sizeof(oa->oa_err), "bad _cursor");
			return EMBER_EINVAL;
		}
	} else if (strcmp(name, "_summary") == 0) {
		/* rest.c parsed and checked it; the resources follow it. */
		if (strcmp(value, "count") == 0)
			o->so_summary_count = 1;
	} else if (strcmp(name, "_total") == 0) {
		static const char *const w[] = { "none", "estimate",
		    "accurate", NULL };

		if ((o->so_total = search_opt_word(oa, name, value, w)) < 0)
			return EMBER_EINVAL;
		o->so_total = o->so_total > 0;	/* estimate: accurate */
	} else if (strcmp(name, "_debug") == 0) {
		if (strcmp(value, "true") != 0)
			return EMBER_OK;
		if (c->cf_debug_plan)
			o->so_debug = 1;
		else
			buf_puts(oa->oa_warn, "_debug needs debug_plan = on in "
			    "ember.conf; ignored\n");
	} else if (strcmp(name, "_offset") == 0) {
		if (search_opt_uint(value, &o->so_offset)) {
			snprintf(oa->oa_err, sizeof(oa->oa_err), "bad _offset");
			return EMBER_EINVAL;
		}
	} else if (strcmp(name, "_include") == 0 ||
	    strcmp(name, "_include:iterate") == 0) {
		struct buf *to = name[8] ? &o->so_iterate : &o->so_include;

		buf_puts(to, value);
		buf_putc(to, 0);
	} else if (strcmp(name, "_revinclude") == 0 ||
	    strcmp(name, "_revinclude:iterate") == 0) {
		struct buf *to = name[11] ? &o->so_reviterate :
		    &o->so_revinclude;

		buf_puts(to, value);
		buf_putc(to, 0);
	} else if (strcmp(name, "_sort") == 0) {
		char *v = (char *)(uintptr_t)value, *next;

		for (; v; v = next) {
			if ((next = strchr(v, ',')) != NULL)
				*next++ = '\0';
			if (*v == '\0' || strcmp(v, "-") == 0) {
				snprintf(oa->oa_err, sizeof(oa->oa_err),
				    "_sort has an empty key");
				return EMBER_EINVAL;
			}
			buf_puts(&o->so_sort, v);
			buf_putc(&o->so_sort, 0);
		}
	} else if (strcmp(name, "_contained") == 0) {
		static const char *const w[] = { "false", "true", "both",
		    NULL };

		if ((o->so_contained = search_opt_word(oa, name, value, w)) < 0)
			return EMBER_EINVAL;
	} else if (strcmp(name, "_containedType") == 0) {
		static const char *const w[] = { "container", "contained",
		    NULL };

		if ((o->so_ctype = search_opt_word(oa, name, value, w)) < 0)
			return EMBER_EINVAL;
	} else if (strncmp(name, "_include:", 9) == 0 ||
	    strncmp(name, "_revinclude:", 12) == 0) {
		if (oa->oa_strict) {
			snprintf(oa->oa_err, sizeof(oa->oa_err), "%.100s is not "
			    "supported yet", name);
			return EMBER_ENOTIMPL;
		}
		buf_printf(oa->oa_warn, "%.100s is not supported yet and was "
		    "ignored\n", name);
	}
	return EMBER_OK;
}

/*
 * A paging link to the page starting at position at of set: the query
 * without its position (links), then _offset=at for sorted results,
 * else _cursor= the rid before that position, which
 * stays put while others write.  Position 0 needs neither.
 */
static void
search_link(struct buf *b, const struct rest_ctx *cx, const struct buf *links,
    const char *rel, int sorted, const struct search_set *set, size_t at)
{
	const char *amp = links->len ? "&" : "";

	buf_printf(b, ",{\"relation\":\"%s\",\"url\":\"", rel);
	buf_json_escape(b, cx->cx_base, strlen(cx->cx_base));
	buf_printf(b, "%s%s?", cx->cx_type ? "/" : "", cx->cx_type ?
	    cx->cx_type : "");
	buf_json_escape(b, links->data ? links->data : "", links->len);
	if (at > 0 && sorted)
		buf_printf(b, "%s_offset=%zu", amp, at);
	else if (at > 0)
		buf_printf(b, "%s_cursor=%llu", amp,
		    (unsigned long long)set->ss_ids[at - 1]);
	buf_puts(b, "\"}");
}

/*
 * Start a searchset entry for Type/id key (klen bytes) in b: the comma
 * before all but the first, and the fullUrl up to its closing quote.
 */
static void
search_entry_start(struct rest_ctx *cx, const char *key, size_t klen,
    struct buf *b, int *first)
{
	if (!*first)
		buf_putc(b, ',');
	*first = 0;
	buf_puts(b, "{\"fullUrl\":\"");
	buf_json_escape(b, cx->cx_base, strlen(cx->cx_base));
	buf_putc(b, '/');
	buf_json_escape(b, key, klen);
}

/* Append the stored JSON of rid as a searchset entry. */
static int
search_entry(struct rest_ctx *cx, struct store_txn *t, uint64_t rid,
    const char *mode, struct buf *b, int *first)
{
	struct store_row	row;
	struct store_version	sv;
	int			rc;

	if ((rc = store_row(t, rid, &row)) ||
	    (rc = store_version(t, rid, row.sr_version, &sv)))
		return rc;
	if (sv.sv_deleted)
		return EMBER_OK;
	search_entry_start(cx, row.sr_key, row.sr_key_len, b, first);
	buf_puts(b, "\",\"resource\":");
	/* _summary and _elements shape the matches, not the includes. */
	if (strcmp(mode, "match") == 0) {
		if ((rc = rest_resource_json(cx, sv.sv_json, sv.sv_json_len, b)))
			return rc;
	} else
		buf_append(b, sv.sv_json, sv.sv_json_len);
	buf_printf(b, ",\"search\":{\"mode\":\"%s\"}}", mode);
	return buf_error(b);
}

/*
 * Append contained resource number idx of rid as a match: its fullUrl
 * the container's with the contained id as fragment.
 */
static int
search_entry_contained(struct rest_ctx *cx, struct store_txn *t,
    uint64_t rid, uint32_t idx, struct buf *b, int *first)
{
	struct store_row	 row;
	struct buf		 one = BUF_INIT;
	const cJSON		*c;
	const char		*cid;
	cJSON			*res;
	int			 rc;

	if ((rc = store_row(t, rid, &row)) ||
	    (rc = term_row_tree(t, &row, &res)))
		return rc == EMBER_ENOTFOUND ? EMBER_OK : rc;
	c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res,
	    "contained"), (int)idx);
	if (c != NULL && (rc = json_write(&one, c, 0)) == EMBER_OK) {
		search_entry_start(cx, row.sr_key, row.sr_key_len, b, first);
		if ((cid = json_string(c, "id")) != NULL) {
			buf_putc(b, '#');
			buf_json_escape(b, cid, strlen(cid));
		}
		buf_puts(b, "\",\"resource\":");
		if ((rc = rest_resource_json(cx, one.data, one.len, b)) ==
		    EMBER_OK)
			buf_puts(b, ",\"search\":{\"mode\":\"match\"}}");
	}
	cJSON_Delete(res);
	buf_free(&one);
	return rc ? rc : buf_error(b);
}

/*
 * _include specs ("Type:param[:Target]", "Type:*") over the rids of
 * from: the resources they reference go into inc.
 */
/*
 * The key prefixes ("param(4) 'r'") of an _include spec's parameter, or
 * of every reference parameter of Type for "Type:*".
 */
static int
search_include_prefixes(const struct tables *tb, const char *type,
    size_t tlen, const char *code, size_t clen, struct buf *out,
    size_t *n)
{
	struct tables_param	p;
	unsigned		ri, first, count, i;

	*n = 0;
	if (clen != 1 || code[0] != '*') {
		index_prefix(out, type, tlen, code, clen);
		buf_putc(out, 'r');
		*n = 1;
		return buf_error(out);
	}
	if (tables_resource_lookup(tb, type, tlen, &ri) ||
	    tables_param_range(tb, ri, &first, &count))
		return EMBER_EINVAL;
	for (i = first; i < first + count; i++)
		if (tables_param_get(tb, i, &p) == EMBER_OK &&
		    p.type == TABLES_PARAM_REFERENCE) {
			index_prefix(out, type, tlen, p.code, p.code_len);
			buf_putc(out, 'r');
			(*n)++;
		}
	return buf_error(out);
}

static int
search_include_pass(struct store_txn *t, const struct tables *tb,
    const struct buf *specs, const struct search_set *from,
    struct search_set *inc)
{
	const char		*spec, *c1, *c2, *tgt, *ref, *slash;
	const unsigned char	*p, *key;
	const void		*owned;
	struct store_row	 row;
	struct buf		 k = BUF_INIT;
	size_t			 i, j, len, n, np, plen, tl, klen;
	int			 rc = EMBER_OK;

	plen = INDEX_PREFIX_LEN + 1;
	for (spec = specs->data; spec && spec < specs->data + specs->len;
	    spec += strlen(spec) + 1) {
		if ((c1 = strchr(spec, ':')) == NULL)
			return EMBER_EINVAL;
		c2 = strchr(c1 + 1, ':');
		tgt = c2 ? c2 + 1 : NULL;
		buf_reset(&k);
		if ((rc = search_include_prefixes(tb, spec, (size_t)(c1 - spec),
		    c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1), &k,
		    &np)))
			goto done;
		for (i = 0; i < from->ss_n; i++) {
			if (store_postings_owned(t, from->ss_ids[i], &owned,
			    &len))
				continue;
			for (p = owned; len >= 2; p += 2 + n, len -= 2 + n) {
				n = ((size_t)p[0] << 8) | p[1];
				if (n > len - 2)
					break;
				key = p + 2;
				if (n <= plen)
					continue;
				for (j = 0; j < np; j++)
					if (memcmp(key, k.data + j * plen,
					    plen) == 0)
						break;
				if (j == np)
					continue;
				klen = n - plen;
				ref = (const char *)key + plen;
				slash = memchr(ref, '/', klen);
				if (slash == NULL || memchr(ref, ':', klen))
					continue;
				tl = (size_t)(slash - ref);
				if (tgt && (strlen(tgt) != tl ||
				    memcmp(tgt, ref, tl) != 0))
					continue;
				if (store_current(t, ref, tl, slash + 1,
				    klen - tl - 1, &row) == EMBER_OK &&
				    !row.sr_deleted &&
				    (rc = set_add(inc, row.sr_rid)))
					goto done;
			}
		}
	}
done:
	buf_free(&k);
	return rc;
}

/* _revinclude specs ("Type:param"): resources referencing from's. */
static int
search_revinclude_pass(struct store_txn *t, const struct buf *specs,
    const struct search_set *from, struct search_set *inc)
{
	const char		*spec, *c1;
	struct store_row	 row;
	struct buf		 k = BUF_INIT;
	struct scan		 sn;
	size_t			 i;
	int			 rc = EMBER_OK;

	for (spec = specs->data; rc == EMBER_OK && spec &&
	    spec < specs->data + specs->len; spec += strlen(spec) + 1) {
		if ((c1 = strchr(spec, ':')) == NULL)
			return EMBER_EINVAL;
		for (i = 0; rc == EMBER_OK && i < from->ss_n; i++) {
			if ((rc = store_row(t, from->ss_ids[i], &row)))
				break;
			buf_reset(&k);
			index_prefix(&k, spec, (size_t)(c1 - spec), c1 + 1,
			    strlen(c1 + 1));
			buf_putc(&k, 'r');
			buf_append(&k, row.sr_key, row.sr_key_len);
			memset(&sn, 0, sizeof(sn));
			sn.sn_out = inc;
			sn.sn_kind = SCAN_EXACT;
			sn.sn_exact_len = k.len;
			rc = store_postings_scan(t, k.data, k.len, NULL, 0,
			    scan_one, &sn);
		}
	}
	buf_free(&k);
	return rc;
}

#define SEARCH_ITERATE_MAX	8	/* rounds of :iterate */

/*
 * The included resources of a page: _include and _revinclude once on
 * the matches, then the :iterate specs on what each round added, until
 * nothing new comes (a cycle ends there) or SEARCH_ITERATE_MAX rounds.
 */
static int
search_includes(struct store_txn *t, const struct tables *tb,
    const struct search_set *page, const struct search_opts *o,
    struct search_set *inc)
{
	struct search_set	 seen = { NULL, 0, 0 }, fresh = { NULL, 0, 0 };
	struct search_set	 round = { NULL, 0, 0 };
	int			 rc, r;

	if ((rc = search_include_pass(t, tb, &o->so_include, page, inc)) ||
	    (rc = search_revinclude_pass(t, &o->so_revinclude, page, inc)) ||
	    (rc = search_include_pass(t, tb, &o->so_iterate, page, inc)) ||
	    (rc = search_revinclude_pass(t, &o->so_reviterate, page, inc)))
		goto done;
	set_normalize(inc);
	set_minus(inc, page);
	if ((rc = set_union(&seen, page)) || (rc = set_union(&seen, inc)) ||
	    (rc = set_union(&fresh, inc)))
		goto done;
	for (r = 0; r < SEARCH_ITERATE_MAX && fresh.ss_n > 0 &&
	    (o->so_iterate.len || o->so_reviterate.len); r++) {
		round.ss_n = 0;
		if ((rc = search_include_pass(t, tb, &o->so_iterate,
		    &fresh, &round)) || (rc = search_revinclude_pass(t,
		    &o->so_reviterate, &fresh, &round)))
			goto done;
		set_normalize(&round);
		set_minus(&round, &seen);
		fresh.ss_n = 0;
		if ((rc = set_union(&fresh, &round)) ||
		    (rc = set_union(&seen, &round)) ||
		    (rc = set_union(inc, &round)))
			goto done;
	}
done:
	search_set_free(&seen);
	search_set_free(&fresh);
	search_set_free(&round);
	return rc;
}

/* ---- _sort ------------------------------------------------------------ */

#define SORT_KEY_MAX	64

struct sort_item {
	uint64_t	 si_rid;
	unsigned char	*si_keys;	/* per sort key: 1 flag + SORT_KEY_MAX */
};

struct sort_spec {
	size_t		 nkeys;
	int		 desc[8];
};

static int
sort_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_item	*x = a, *y = b;
	const struct sort_spec	*spec = arg;
	size_t			 i, w = 1 + SORT_KEY_MAX;
	int			 c;

	for (i = 0; i < spec->nkeys; i++) {
		const unsigned char *kx = x->si_keys + i * w;
		const unsigned char *ky = y->si_keys + i * w;

		/* Missing values sort last either way. */
		if (kx[0] != ky[0])
			return kx[0] ? -1 : 1;
		if (!kx[0])
			continue;
		if ((c = memcmp(kx + 1, ky + 1, SORT_KEY_MAX)) != 0)
			return spec->desc[i] ? -c : c;
	}
	return x->si_rid < y->si_rid ? -1 : x->si_rid > y->si_rid;
}

/* The sort tag of a parameter type, 0 when it cannot sort. */
static int
sort_tag(int type)
{
	switch (type) {
	case TABLES_PARAM_STRING: return 's';
	case TABLES_PARAM_TOKEN: return 'T';
	case TABLES_PARAM_REFERENCE: return 'r';
	case TABLES_PARAM_URI: return 'u';
	case TABLES_PARAM_DATE: return 'd';
	case TABLES_PARAM_NUMBER: return 'n';
	case TABLES_PARAM_QUANTITY: return 'Q';
	}
	return 0;
}

/*
 * Order set by the _sort keys: each resource's smallest value of the
 * parameter (largest for a descending key) from its postings.
 */
static int
search_sort(struct store_txn *t, const struct tables *tb, const char *type,
    size_t tlen, const struct buf *keys, struct search_set *set, char *err,
    size_t errsz)
{
	static const struct sort_spec none;
	struct sort_spec	 spec = none;
	struct sort_item	*items = NULL;
	struct buf		 prefix[8];
	int			 tags[8];
	const char		*k;
	const unsigned char	*p;
	const void		*owned;
	size_t			 i, j, len, n, w = 1 + SORT_KEY_MAX;
	unsigned		 ri, pi;
	struct tables_param	 tp;
	int			 rc = EMBER_OK;

	memset(prefix, 0, sizeof(prefix));
	if (tables_resource_lookup(tb, type, tlen, &ri))
		return EMBER_EINVAL;
	for (k = keys->data; k && k < keys->data + keys->len;
	    k += strlen(k) + 1) {
		const char *code = k[0] == '-' ? k + 1 : k;

		if (spec.nkeys == 8) {
			snprintf(err, errsz, "_sort takes at most 8 keys");
			return EMBER_EINVAL;
		}
		if (tables_param_lookup(tb, ri, code, strlen(code), &pi) ||
		    tables_param_get(tb, pi, &tp) ||
		    (tags[spec.nkeys] = sort_tag(tp.type)) == 0) {
			snprintf(err, errsz, "_sort: %.100s is not a sortable "
			    "parameter of %.*s", code, (int)tlen, type);
			rc = EMBER_EINVAL;
			goto done;
		}
		spec.desc[spec.nkeys] = k[0] == '-';
		index_prefix(&prefix[spec.nkeys], type, tlen, code,
		    strlen(code));
		buf_putc(&prefix[spec.nkeys], tags[spec.nkeys]);
		spec.nkeys++;
	}
	if (set->ss_n == 0)
		goto done;
	if ((items = calloc(set->ss_n, sizeof(*items))) == NULL) {
		rc = EMBER_ENOMEM;
		goto done;
	}
	for (i = 0; i < set->ss_n; i++) {
		items[i].si_rid = set->ss_ids[i];
		if ((items[i].si_keys = calloc(spec.nkeys, w)) == NULL) {
			rc = EMBER_ENOMEM;
			goto done;
		}
		if (store_postings_owned(t, set->ss_ids[i], &owned, &len))
			continue;
		for (p = owned; len >= 2; p += 2 + n, len -= 2 + n) {
			n = ((size_t)p[0] << 8) | p[1];
			if (n > len - 2)
				break;
			for (j = 0; j < spec.nkeys; j++) {
				unsigned char	 v[SORT_KEY_MAX];
				unsigned char	*slot = items[i].si_keys + j * w;
				size_t		 pl = prefix[j].len, vl;
				int		 c;

				if (n < pl || memcmp(p + 2, prefix[j].data, pl))
					continue;
				vl = n - pl;
				memset(v, 0, sizeof(v));
				memcpy(v, p + 2 + pl, vl < SORT_KEY_MAX ? vl :
				    SORT_KEY_MAX);
				/* A date sorts by its high end descending. */
				if (tags[j] == 'd' && spec.desc[j] && vl == 16) {
					memmove(v, v + 8, 8);
					memset(v + 8, 0, 8);
				}
				c = slot[0] ? memcmp(v, slot + 1, SORT_KEY_MAX) :
				    0;
				if (!slot[0] || (spec.desc[j] ? c > 0 : c < 0)) {
					slot[0] = 1;
					memcpy(slot + 1, v, SORT_KEY_MAX);
				}
			}
		}
	}
	qsort_r(items, set->ss_n, sizeof(*items), sort_cmp, &spec);
	for (i = 0; i < set->ss_n; i++)
		set->ss_ids[i] = items[i].si_rid;
done:
	for (i = 0; items && i < set->ss_n; i++)
		free(items[i].si_keys);
	free(items);
	for (j = 0; j < 8; j++)
		buf_free(&prefix[j]);
	return rc;
}

/* The query without _cursor, for paging links. */
static void
search_query_sans_cursor(const struct rest_ctx *cx, const char *q, size_t len,
    struct buf *b)
{
	const char		*p = q, *end = q + len;
	struct http_param	 hp;

	(void)cx;
	while (http_query_next(&p, end, &hp)) {
		if ((hp.hp_name_len == 7 && memcmp(hp.hp_name, "_cursor", 7) ==
		    0) || (hp.hp_name_len == 7 && memcmp(hp.hp_name, "_offset",
		    7) == 0))
			continue;
		if (b->len)
			buf_putc(b, '&');
		buf_append(b, hp.hp_name, (size_t)(hp.hp_value + hp.hp_value_len -
		    hp.hp_name));
	}
}

/*
 * GET [Compartment]/[id]/[type]?...: keep the matches that reference
 * the compartment's resource through any of the parameters the
 * CompartmentDefinition lists for the type ("{def}": the resource
 * itself, for the compartment's own type).
 */
static int
search_compartment(struct rest_ctx *cx, struct store_txn *t,
    struct search_set *set, char *err, size_t errsz)
{
	const struct tables	*tb = cx->cx_v->svv_tables;
	struct tables_compartment tc;
	struct search_ctx	 sc;
	struct search_set	 in = { NULL, 0, 0 };
	struct store_row	 row;
	const char		*code;
	char			 value[200];
	size_t			 clen;
	unsigned		 ci, i;
	int			 rc = EMBER_OK;

	if (tables_compartment_lookup(tb, cx->cx_comp, strlen(cx->cx_comp),
	    cx->cx_type, cx->cx_type_len, &ci) ||
	    tables_compartment_get(tb, ci, &tc)) {
		snprintf(err, errsz, "%.64s is not in the %.64s compartment",
		    cx->cx_type, cx->cx_comp);
		return EMBER_EINVAL;
	}
	memset(&sc, 0, sizeof(sc));
	sc.sc_t = t;
	sc.sc_tb = tb;
	sc.sc_strict = 1;
	sc.sc_err = err;
	sc.sc_errsz = errsz;
	snprintf(value, sizeof(value), "%s/%s", cx->cx_comp, cx->cx_comp_id);
	/* The compartment's own resource is in it ("{def}"; R4's Patient
	 * compartment lists only "link" for Patient but means it too). */
	if (strcmp(cx->cx_comp, cx->cx_type) == 0 &&
	    store_current(t, cx->cx_type, cx->cx_type_len, cx->cx_comp_id,
	    strlen(cx->cx_comp_id), &row) == EMBER_OK && !row.sr_deleted)
		rc = set_add(&in, row.sr_rid);
	for (i = 0; rc == EMBER_OK && i < tc.param_count; i++) {
		if ((code = tables_compartment_param(tb, &tc, i, &clen)) == NULL ||
		    strcmp(code, "{def}") == 0)
			continue;
		{
			char name[128], v[200];

			snprintf(name, sizeof(name), "%.*s", (int)clen, code);
			snprintf(v, sizeof(v), "%s", value);
			rc = search_criterion(&sc, cx->cx_type,
			    cx->cx_type_len, name, v, &in);
			/* A chained or odd official entry matches nothing. */
			if (rc == EMBER_EINVAL)
				rc = EMBER_OK;
		}
	}
	if (rc == EMBER_OK) {
		set_normalize(&in);
		set_intersect(set, &in);
	}
	search_set_free(&in);
	return rc;
}

/*
 * GET [base]?_type=A,B&...: the criteria run on each listed type (rids
 * are unique across types) and the results are joined.
 */
static int
search_system(struct rest_ctx *cx, struct store_txn *t, const char *q,
    size_t len, int strict, struct search_set *out, struct buf *warn,
    struct buf *plan, char *err, size_t errsz)
{
	const struct tables	*tb = cx->cx_v->svv_tables;
	struct search_set	 one = { NULL, 0, 0 };
	char			 types[SEARCH_VALUE_MAX], *ty, *next;
	unsigned		 ri;
	int			 rc = EMBER_OK;

	if (rest_query_get(cx, "_type", types, sizeof(types)) != EMBER_OK ||
	    types[0] == '\0') {
		snprintf(err, errsz, "a system search needs _type");
		return EMBER_EINVAL;
	}
	for (ty = types; rc == EMBER_OK && ty; ty = next) {
		if ((next = strchr(ty, ',')) != NULL)
			*next++ = '\0';
		if (tables_resource_lookup(tb, ty, strlen(ty), &ri)) {
			snprintf(err, errsz, "_type: unknown resource type "
			    "\"%.100s\"", ty);
			rc = EMBER_EINVAL;
			break;
		}
		one.ss_n = 0;
		if ((rc = search_eval(t, tb, ty, strlen(ty), q, len, strict,
		    &one, warn, plan, err, errsz)) == EMBER_OK)
			rc = set_union(out, &one);
		search_set_free(&one);
	}
	return rc;
}

int
search_handle(struct rest_ctx *cx)
{
	const struct rest_request *rq = cx->cx_rq;
	struct search_opts	 o;
	struct opts_arg		 oa;
	struct search_set	 set = { NULL, 0, 0 }, page = { NULL, 0, 0 };
	struct search_set	 inc = { NULL, 0, 0 };
	struct search_set	 own = { NULL, 0, 0 }, cset = { NULL, 0, 0 };
	struct store_txn	*t = NULL;
	struct buf		 q = BUF_INIT, warn = BUF_INIT, b = BUF_INIT;
	struct buf		 links = BUF_INIT, plan = BUF_INIT;
	struct buf		 hits = BUF_INIT;
	char			 err[512], id[23];
	size_t			 i, start, total, h = 0;
	uint64_t		 hrid;
	uint32_t		 hidx;
	int			 rc, strict, first = 1;

	strict = rq->rq_prefer != NULL &&
	    strstr(rq->rq_prefer, "handling=strict") != NULL;
	/* POST _search: the form body's parameters join the query's. */
	buf_append(&q, cx->cx_query, cx->cx_query_len);
	if (strcmp(rq->rq_method, "POST") == 0 && rq->rq_body_len) {
		if (rq->rq_content_type == NULL || strncmp(rq->rq_content_type,
		    "application/x-www-form-urlencoded", 33) != 0) {
			buf_free(&q);
			return rest_fail(cx, EMBER_EMEDIA, "POST _search takes "
			    "application/x-www-form-urlencoded");
		}
		if (q.len)
			buf_putc(&q, '&');
		buf_append(&q, rq->rq_body, rq->rq_body_len);
	}
	memset(&o, 0, sizeof(o));
	o.so_count = cx->cx_server->srv_conf.cf_default_count;
	o.so_total = 1;
	memset(&oa, 0, sizeof(oa));
	oa.oa_cx = cx;
	oa.oa_o = &o;
	oa.oa_warn = &warn;
	oa.oa_strict = strict;
	if ((rc = search_each_param(q.data ? q.data : "", q.len, search_opt_one,
	    &oa))) {
		rest_fail(cx, rc, "%s", oa.oa_err[0] ? oa.oa_err :
		    "malformed query");
		goto done;
	}
	if (o.so_contained && (cx->cx_type == NULL || o.so_sort.len ||
	    cx->cx_comp[0] != '\0')) {
		rc = rest_fail(cx, EMBER_EINVAL, "_contained needs a resource "
		    "type, and works without _sort and compartments");
		goto done;
	}
	if ((rc = store_txn_begin(cx->cx_v->svv_store, 0, &t))) {
		rest_fail(cx, rc, "cannot begin a read transaction");
		goto done;
	}
	if (cx->cx_type != NULL && o.so_contained != 1)
		rc = search_eval(t, cx->cx_v->svv_tables, cx->cx_type,
		    cx->cx_type_len, q.data ? q.data : "", q.len, strict, &set,
		    &warn, o.so_debug ? &plan : NULL, err, sizeof(err));
	else if (cx->cx_type != NULL)
		rc = EMBER_OK;
	else
		rc = search_system(cx, t, q.data ? q.data : "", q.len, strict,
		    &set, &warn, o.so_debug ? &plan : NULL, err, sizeof(err));
	if (rc) {
		rest_fail(cx, rc, "%s", err);
		goto done;
	}
	if (cx->cx_comp[0] != '\0' && (rc = search_compartment(cx, t, &set,
	    err, sizeof(err)))) {
		rest_fail(cx, rc, "%s", err);
		goto done;
	}
	total = set.ss_n;
	if (o.so_contained) {
		struct search_ctx sc;

		memset(&sc, 0, sizeof(sc));
		sc.sc_t = t;
		sc.sc_tb = cx->cx_v->svv_tables;
		sc.sc_strict = strict;
		sc.sc_warn = o.so_contained == 1 ? &warn : NULL;
		sc.sc_plan = o.so_debug ? &plan : NULL;
		sc.sc_err = err;
		sc.sc_errsz = sizeof(err);
		if ((rc = search_contained(&sc, cx->cx_type, cx->cx_type_len,
		    q.data ? q.data : "", q.len, &cset, &hits))) {
			rest_fail(cx, rc, "%s", err);
			goto done;
		}
		/* The page walks the union of both in rid order; with
		 * _containedType=contained a container is listed for its
		 * own match (own) and for its contained matches (hits). */
		if ((rc = set_union(&own, &set)) ||
		    (rc = set_union(&set, &cset)))
			goto nomem;
		total = o.so_ctype ? own.ss_n + hits.len / 12 : set.ss_n;
	}
	/* The page.  Unsorted: rids after the cursor, in rid order, so that
	 * pages hold still while others write.  Sorted: by offset. */
	if (o.so_sort.len) {
		if (cx->cx_type == NULL) {
			rc = rest_fail(cx, EMBER_EINVAL, "_sort needs a "
			    "resource type");
			goto done;
		}
		if ((rc = search_sort(t, cx->cx_v->svv_tables, cx->cx_type,
		    cx->cx_type_len, &o.so_sort, &set, err, sizeof(err)))) {
			rest_fail(cx, rc, "%s", err);
			goto done;
		}
		start = o.so_offset < set.ss_n ? (size_t)o.so_offset : set.ss_n;
	} else
		for (start = 0; start < set.ss_n &&
		    set.ss_ids[start] <= o.so_cursor; start++)
			;
	for (i = start; !o.so_summary_count && i < set.ss_n &&
	    page.ss_n < o.so_count; i++)
		if ((rc = set_add(&page, set.ss_ids[i])))
			goto nomem;
	if ((o.so_include.len || o.so_revinclude.len || o.so_iterate.len ||
	    o.so_reviterate.len) && (rc = search_includes(t,
	    cx->cx_v->svv_tables, &page, &o, &inc))) {
		rest_fail(cx, rc, "malformed _include or _revinclude "
		    "(Type:param[:Target])");
		goto done;
	}
	if ((rc = crud_new_id(id)))
		goto nomem;
	buf_printf(&b, "{\"resourceType\":\"Bundle\",\"id\":\"%s\","
	    "\"type\":\"searchset\"", id);
	if (o.so_total || o.so_summary_count)
		buf_printf(&b, ",\"total\":%zu", total);
	search_query_sans_cursor(cx, q.data ? q.data : "", q.len, &links);
	buf_puts(&b, ",\"link\":[{\"relation\":\"self\",\"url\":\"");
	buf_json_escape(&b, cx->cx_base, strlen(cx->cx_base));
	buf_printf(&b, "%s%s?", cx->cx_type ? "/" : "",
	    cx->cx_type ? cx->cx_type : "");
	buf_json_escape(&b, q.data ? q.data : "", q.len);
	buf_puts(&b, "\"}");
	if (!o.so_summary_count && o.so_count > 0) {
		size_t count = (size_t)o.so_count, n = set.ss_n;
		int sorted = o.so_sort.len > 0;

		search_link(&b, cx, &links, "first", sorted, &set, 0);
		if (start > 0)
			search_link(&b, cx, &links, "previous", sorted, &set,
			    start > count ? start - count : 0);
		if (i < n && page.ss_n > 0)
			search_link(&b, cx, &links, "next", sorted, &set, i);
		search_link(&b, cx, &links, "last", sorted, &set, n == 0 ? 0 :
		    (n - 1) / count * count);
	}
	buf_puts(&b, "]");
	if (!o.so_summary_count || warn.len || plan.len) {
		buf_puts(&b, ",\"entry\":[");
		for (i = 0; i < page.ss_n; i++) {
			if ((!o.so_contained || !o.so_ctype ||
			    set_has(&own, page.ss_ids[i])) &&
			    (rc = search_entry(cx, t, page.ss_ids[i], "match",
			    &b, &first)))
				goto store_fail;
			/* Its contained matches (hits are in rid order). */
			for (; o.so_ctype && h + 12 <= hits.len; h += 12) {
				memcpy(&hrid, hits.data + h, 8);
				memcpy(&hidx, hits.data + h + 8, 4);
				if (hrid > page.ss_ids[i])
					break;
				if (hrid == page.ss_ids[i] &&
				    (rc = search_entry_contained(cx, t, hrid,
				    hidx, &b, &first)))
					goto store_fail;
			}
		}
		for (i = 0; i < inc.ss_n; i++)
			if ((rc = search_entry(cx, t, inc.ss_ids[i], "include",
			    &b, &first)))
				goto store_fail;
		if (plan.len) {
			struct buf oo = BUF_INIT;

			buf_printf(&plan, "page: %zu matches from position %zu, "
			    "%zu included", page.ss_n, start, inc.ss_n);
			outcome_write(&oo, "information", "informational",
			    plan.data);
			buf_printf(&b, "%s{\"resource\":", first ? "" : ",");
			buf_append(&b, oo.data, oo.len);
			buf_puts(&b, ",\"search\":{\"mode\":\"outcome\"}}");
			first = 0;
			buf_free(&oo);
		}
		if (warn.len) {
			struct buf oo = BUF_INIT;

			while (warn.len && warn.data[warn.len - 1] == '\n')
				warn.data[--warn.len] = '\0';
			outcome_write(&oo, "warning", "not-supported", warn.data);
			buf_printf(&b, "%s{\"resource\":", first ? "" : ",");
			buf_append(&b, oo.data, oo.len);
			buf_puts(&b, ",\"search\":{\"mode\":\"outcome\"}}");
			buf_free(&oo);
		}
		buf_puts(&b, "]");
	}
	buf_puts(&b, "}");
	store_txn_abort(t);
	t = NULL;
	if ((rc = rest_json_body(cx, 200, &b)))
		goto nomem;
	rc = EMBER_OK;
	goto done;
store_fail:
	if (rc == EMBER_EINVAL)
		rest_fail(cx, rc, "%s", cx->cx_subset_err);
	else
		rest_fail(cx, rc, "cannot read a match");
	goto done;
nomem:
	rest_fail(cx, EMBER_ENOMEM, "out of memory");
done:
	store_txn_abort(t);
	search_set_free(&set);
	search_set_free(&page);
	search_set_free(&inc);
	search_set_free(&own);
	search_set_free(&cset);
	buf_free(&hits);
	buf_free(&q);
	buf_free(&warn);
	buf_free(&b);
	buf_free(&links);
	buf_free(&plan);
	buf_free(&o.so_include);
	buf_free(&o.so_revinclude);
	buf_free(&o.so_iterate);
	buf_free(&o.so_reviterate);
	buf_free(&o.so_sort);
	return rc;
}
