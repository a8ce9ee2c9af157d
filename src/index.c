/*
 * index.c: posting keys of a resource; see index.h for their form.
 *
 * Each search parameter of the resource's type has a compiled path
 * (tables.h); fhirpath_eval() yields its nodes with their FHIR types,
 * and each node gives the keys its parameter type calls for.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "buf.h"
#include "date.h"
#include "error.h"
#include "fhirpath.h"
#include "index.h"
#include "json.h"
#include "store.h"
#include "tables.h"

struct index_ctx {
	const struct tables	*ix_t;
	struct buf		*ix_out;
	struct buf		 ix_prefix;	/* index_prefix(), made by the
						   first key; empty till then */
	const char		*ix_ptype;	/* of the parameter indexed */
	size_t			 ix_ptype_len;
	const char		*ix_code;
	size_t			 ix_code_len;
	struct buf		 ix_key;	/* scratch */
	int			 ix_type;	/* enum tables_param_type */
};

/* Latin-1 Supplement and Latin Extended-A, U+00C0..U+017F, folded. */
static const char index_latin[] =
    "aaaaaaaceeeeiiii"	/* C0-CF */
    "dnooooo*ouuuuyts"	/* D0-DF (D7 x, DE thorn, DF sharp s) */
    "aaaaaaaceeeeiiii"	/* E0-EF */
    "dnooooo/ouuuuyty"	/* F0-FF */
    "aaaaaaccccccccdd"	/* 100-10F */
    "ddeeeeeeeeeegggg"	/* 110-11F */
    "gggghhhhiiiiiiii"	/* 120-12F */
    "iiiijjkkklllllll"	/* 130-13F */
    "lllnnnnnnnnnoooo"	/* 140-14F */
    "oooorrrrrrssssss"	/* 150-15F */
    "ssttttttuuuuuuuu"	/* 160-16F */
    "uuuuwwyyyzzzzzzs";	/* 170-17F */

int
index_fold(struct buf *b, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 out[INDEX_VALUE_MAX + 1];	/* + "ss" */
	size_t			 i = 0, n = 0;
	unsigned		 cp;

	/* Folded into out, then appended at once. */
	while (i < len && n < INDEX_VALUE_MAX) {
		if (p[i] < 0x80) {
			out[n++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ?
			    p[i] + 32 : p[i]);
			i++;
			continue;
		}
		if (i + 1 < len && (p[i] & 0xe0) == 0xc0 &&
		    (p[i + 1] & 0xc0) == 0x80) {
			cp = ((unsigned)(p[i] & 0x1f) << 6) | (p[i + 1] & 0x3f);
			if (cp >= 0xc0 && cp <= 0x17f &&
			    index_latin[cp - 0xc0] != '*' &&
			    index_latin[cp - 0xc0] != '/') {
				out[n++] = index_latin[cp - 0xc0];
				if (cp == 0xdf)		/* sharp s: "ss" */
					out[n++] = 's';
				i += 2;
				continue;
			}
		}
		out[n++] = (char)p[i];
		i++;
	}
	if (n > 0)
		buf_append(b, out, n);
	return buf_error(b);
}

int
index_put_i64(struct buf *b, int64_t v)
{
	unsigned char o[8];

	be64_put(o, (uint64_t)v ^ 0x8000000000000000ULL);
	return buf_append(b, o, 8);
}

int64_t
index_get_i64(const unsigned char *p)
{
	return (int64_t)(be64_get(p) ^ 0x8000000000000000ULL);
}

int
index_put_double(struct buf *b, double v)
{
	unsigned char	o[8];
	uint64_t	bits;

	if (v == 0)
		v = 0;	/* -0 sorts as 0 */
	memcpy(&bits, &v, 8);
	bits = (bits & 0x8000000000000000ULL) ? ~bits :
	    bits ^ 0x8000000000000000ULL;
	be64_put(o, bits);
	return buf_append(b, o, 8);
}

double
index_get_double(const unsigned char *p)
{
	uint64_t	bits = be64_get(p);
	double		v;

	bits = (bits & 0x8000000000000000ULL) ? bits ^ 0x8000000000000000ULL :
	    ~bits;
	memcpy(&v, &bits, 8);
	return v;
}

int
index_prefix(struct buf *b, const char *type, size_t tlen, const char *code,
    size_t clen)
{
	unsigned char	h[INDEX_PREFIX_LEN];
	uint32_t	x = 2166136261u;	/* FNV-1a, 32 bits */
	size_t		i;

	for (i = 0; i < tlen; i++)
		x = (x ^ (unsigned char)type[i]) * 16777619u;
	x = (x ^ 0) * 16777619u;
	for (i = 0; i < clen; i++)
		x = (x ^ (unsigned char)code[i]) * 16777619u;
	be32_put(h, x);
	return buf_append(b, h, sizeof(h));
}

/* Emit the key in ix_key (after the prefix) as one blob record. */
static void
index_emit(struct index_ctx *ix)
{
	size_t n;

	/* Most parameters give a resource no key: no prefix for those. */
	if (ix->ix_prefix.len == 0)
		index_prefix(&ix->ix_prefix, ix->ix_ptype, ix->ix_ptype_len,
		    ix->ix_code, ix->ix_code_len);
	n = ix->ix_prefix.len + ix->ix_key.len;
	if (n > STORE_POSTING_MAX)
		return;
	buf_putc(ix->ix_out, (int)(n >> 8));
	buf_putc(ix->ix_out, (int)(n & 0xff));
	buf_append(ix->ix_out, ix->ix_prefix.data, ix->ix_prefix.len);
	buf_append(ix->ix_out, ix->ix_key.data, ix->ix_key.len);
}

/* Copy at most INDEX_VALUE_MAX bytes of s. */
static void
index_put_raw(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	buf_append(b, s, n > INDEX_VALUE_MAX ? INDEX_VALUE_MAX : n);
}

static void
index_string(struct index_ctx *ix, const char *s)
{
	if (s == NULL || *s == '\0')
		return;
	buf_reset(&ix->ix_key);
	buf_putc(&ix->ix_key, 's');
	index_fold(&ix->ix_key, s, strlen(s));
	index_emit(ix);
	buf_reset(&ix->ix_key);
	buf_putc(&ix->ix_key, 'e');
	index_put_raw(&ix->ix_key, s);
	index_emit(ix);
}

static void
index_token(struct index_ctx *ix, const char *system, const char *code)
{
	if (code == NULL || *code == '\0')
		return;
	if (system == NULL)
		system = "";
	buf_reset(&ix->ix_key);
	buf_putc(&ix->ix_key, 'T');
	index_put_raw(&ix->ix_key, code);
	buf_putc(&ix->ix_key, 0);
	index_put_raw(&ix->ix_key, system);
	index_emit(ix);
}

/* identifier:of-type: value NUL type code NUL type system, per coding. */
static void
index_of_type(struct index_ctx *ix, const cJSON *ident)
{
	const char	*value = json_string(ident, "value"), *code;
	const cJSON	*c;

	if (value == NULL || *value == '\0')
		return;
	cJSON_ArrayForEach(c, json_get(
	    json_get(ident, "type"), "coding")) {
		if ((code = json_string(c, "code")) == NULL || *code == '\0')
			continue;
		buf_reset(&ix->ix_key);
		buf_putc(&ix->ix_key, 'O');
		index_put_raw(&ix->ix_key, value);
		buf_putc(&ix->ix_key, 0);
		index_put_raw(&ix->ix_key, code);
		buf_putc(&ix->ix_key, 0);
		index_put_raw(&ix->ix_key, json_string(c, "system") ?
		    json_string(c, "system") : "");
		index_emit(ix);
	}
}

static void
index_text(struct index_ctx *ix, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	buf_reset(&ix->ix_key);
	buf_putc(&ix->ix_key, 'x');
	index_fold(&ix->ix_key, text, strlen(text));
	index_emit(ix);
}

static void
index_tagged(struct index_ctx *ix, int tag, const char *v)
{
	if (v == NULL || *v == '\0')
		return;
	buf_reset(&ix->ix_key);
	buf_putc(&ix->ix_key, tag);
	index_put_raw(&ix->ix_key, v);
	index_emit(ix);
}

static void
index_coding(struct index_ctx *ix, const cJSON *c)
{
	index_token(ix, json_string(c, "system"), json_string(c, "code"));
	index_text(ix, json_string(c, "display"));
}

static void
index_date_range(struct index_ctx *ix, int64_t lo, int64_t hi)
{
	buf_reset(&ix->ix_key);
	buf_putc(&ix->ix_key, 'd');
	index_put_i64(&ix->ix_key, lo);
	index_put_i64(&ix->ix_key, hi);
	index_emit(ix);
}

static void
index_date(struct index_ctx *ix, const char *s)
{
	int64_t lo, hi;

	if (s != NULL && date_parse_fhir(s, strlen(s), &lo, &hi, NULL) ==
	    EMBER_OK)
		index_date_range(ix, lo, hi);
}

int
index_date_key(struct buf *out, const char *type, size_t tlen,
    const char *code, const char *value)
{
	struct index_ctx	ix;
	int			rc;

	memset(&ix, 0, sizeof(ix));
	ix.ix_out = out;
	ix.ix_ptype = type;
	ix.ix_ptype_len = tlen;
	ix.ix_code = code;
	ix.ix_code_len = strlen(code);
	index_date(&ix, value);
	rc = buf_error(&ix.ix_prefix) ? buf_error(&ix.ix_prefix) :
	    buf_error(&ix.ix_key) ? buf_error(&ix.ix_key) : buf_error(out);
	buf_free(&ix.ix_prefix);
	buf_free(&ix.ix_key);
	return rc;
}

static void
index_number(struct index_ctx *ix, int tag, const cJSON *n, const char *sys,
    const char *code)
{
	if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble))
		return;
	buf_reset(&ix->ix_key);
	buf_putc(&ix->ix_key, tag);
	if (tag == 'q' || tag == 'U') {
		index_put_raw(&ix->ix_key, sys ? sys : "");
		buf_putc(&ix->ix_key, 0);
		if (tag == 'q') {
			index_put_raw(&ix->ix_key, code ? code : "");
			buf_putc(&ix->ix_key, 0);
		}
	}
	index_put_double(&ix->ix_key, n->valuedouble);
	index_emit(ix);
}

/* The "Type/id" tail of an absolute reference URL, when it has one. */
static const char *
index_local_tail(const struct tables *t, const char *url)
{
	const char	*p, *slash, *type;
	unsigned	 ri;

	/* Find ".../Type/id" or ".../Type/id/_history/n". */
	if ((p = strstr(url, "/_history/")) == NULL)
		p = url + strlen(url);
	for (slash = p; slash > url && slash[-1] != '/'; slash--)
		;
	if (slash <= url + 1)
		return NULL;
	for (type = slash - 1; type > url && type[-1] != '/'; type--)
		;
	if (tables_resource_lookup(t, type, (size_t)(slash - 1 - type), &ri))
		return NULL;
	return type;
}

static void
index_reference(struct index_ctx *ix, const char *ref)
{
	const char	*h, *tail;
	char		 local[INDEX_VALUE_MAX + 1];

	if (ref == NULL || *ref == '\0' || ref[0] == '#')
		return;
	/* Versioned references also match their resource. */
	if (strstr(ref, "://") == NULL && (h = strstr(ref, "/_history/"))) {
		snprintf(local, sizeof(local), "%.*s", (int)(h - ref), ref);
		index_tagged(ix, 'r', local);
		return;
	}
	index_tagged(ix, 'r', ref);
	if (strstr(ref, "://") != NULL &&
	    (tail = index_local_tail(ix->ix_t, ref)) != NULL) {
		h = strstr(tail, "/_history/");
		snprintf(local, sizeof(local), "%.*s",
		    (int)(h ? (size_t)(h - tail) : strlen(tail)), tail);
		index_tagged(ix, 'r', local);
	}
}

static int
index_visit(const struct fhirpath_value *v, void *arg)
{
	struct index_ctx	*ix = arg;
	const cJSON		*j = v->json, *c, *id;
	const char		*tn = v->type_name ? v->type_name : "";

	switch (ix->ix_type) {
	case TABLES_PARAM_STRING:
		if (cJSON_IsString(j)) {
			index_string(ix, j->valuestring);
		} else if (cJSON_IsObject(j)) {
			/* HumanName, Address: every part its own value. */
			static const char *const parts[] = { "family", "text",
			    "city", "district", "state", "postalCode",
			    "country" };
			static const char *const lists[] = { "given", "prefix",
			    "suffix", "line" };
			size_t k;

			for (k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
				index_string(ix, json_string(j, parts[k]));
			for (k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
				cJSON_ArrayForEach(c,
				    json_get(j, lists[k]))
					if (cJSON_IsString(c))
						index_string(ix, c->valuestring);
		}
		break;
	case TABLES_PARAM_TOKEN:
		if (cJSON_IsString(j)) {
			index_token(ix, NULL, j->valuestring);
		} else if (cJSON_IsBool(j)) {
			index_token(ix, NULL, cJSON_IsTrue(j) ? "true" : "false");
		} else if (cJSON_IsNumber(j) && j->valuestring) {
			index_token(ix, NULL, j->valuestring);
		} else if (cJSON_IsObject(j)) {
			if (strcmp(tn, "Identifier") == 0) {
				index_token(ix, json_string(j, "system"),
				    json_string(j, "value"));
				index_text(ix, json_string(
				    json_get(j, "type"),
				    "text"));
				index_of_type(ix, j);
			} else if (strcmp(tn, "ContactPoint") == 0) {
				index_token(ix, json_string(j, "system"),
				    json_string(j, "value"));
			} else if (strcmp(tn, "Coding") == 0) {
				index_coding(ix, j);
			} else {
				/* CodeableConcept (and anything with
				 * coding/text, e.g. CodeableReference.concept). */
				cJSON_ArrayForEach(c,
				    json_get(j, "coding"))
					index_coding(ix, c);
				index_text(ix, json_string(j, "text"));
				if (json_string(j, "code") != NULL)
					index_coding(ix, j);
			}
		}
		break;
	case TABLES_PARAM_REFERENCE:
		if (cJSON_IsString(j)) {
			index_reference(ix, j->valuestring);
			break;
		}
		if (!cJSON_IsObject(j))
			break;
		index_reference(ix, json_string(j, "reference"));
		id = json_get(j, "identifier");
		if (cJSON_IsObject(id) && json_string(id, "value")) {
			buf_reset(&ix->ix_key);
			buf_putc(&ix->ix_key, 'i');
			index_put_raw(&ix->ix_key, json_string(id, "system") ?
			    json_string(id, "system") : "");
			buf_putc(&ix->ix_key, 0);
			index_put_raw(&ix->ix_key, json_string(id, "value"));
			index_emit(ix);
		}
		break;
	case TABLES_PARAM_URI:
		if (cJSON_IsString(j))
			index_tagged(ix, 'u', j->valuestring);
		break;
	case TABLES_PARAM_DATE:
		if (cJSON_IsString(j)) {
			index_date(ix, j->valuestring);
		} else if (cJSON_IsObject(j)) {
			const char *st = json_string(j, "start");
			const char *en = json_string(j, "end");
			int64_t lo = INT64_MIN, hi = INT64_MAX, a, b;

			if (st || en) {	/* Period: open ends are unbounded */
				if (st && date_parse_fhir(st, strlen(st), &a,
				    &b, NULL) == EMBER_OK)
					lo = a;
				if (en && date_parse_fhir(en, strlen(en), &a,
				    &b, NULL) == EMBER_OK)
					hi = b;
				index_date_range(ix, lo, hi);
			}
			/* Timing: each event. */
			cJSON_ArrayForEach(c,
			    json_get(j, "event"))
				if (cJSON_IsString(c))
					index_date(ix, c->valuestring);
		}
		break;
	case TABLES_PARAM_NUMBER:
		index_number(ix, 'n', j, NULL, NULL);
		break;
	case TABLES_PARAM_QUANTITY:
		if (cJSON_IsObject(j)) {
			c = json_get(j, "value");
			index_number(ix, 'Q', c, NULL, NULL);
			index_number(ix, 'q', c, json_string(j, "system"),
			    json_string(j, "code"));
			if (json_string(j, "unit"))
				index_number(ix, 'U', c, json_string(j, "unit"),
				    NULL);
			if (json_string(j, "code"))
				index_number(ix, 'U', c, json_string(j, "code"),
				    NULL);
		}
		break;
	case TABLES_PARAM_SPECIAL:
		/* near: Location.position, latitude and longitude. */
		if (cJSON_IsObject(j)) {
			const cJSON *la, *lo;

			la = json_get(j, "latitude");
			lo = json_get(j, "longitude");
			if (!cJSON_IsNumber(la) || !cJSON_IsNumber(lo) ||
			    !isfinite(la->valuedouble) ||
			    !isfinite(lo->valuedouble))
				break;
			buf_reset(&ix->ix_key);
			buf_putc(&ix->ix_key, 'g');
			index_put_double(&ix->ix_key, la->valuedouble);
			index_put_double(&ix->ix_key, lo->valuedouble);
			index_emit(ix);
		}
		break;
	default:
		break;
	}
	return 0;
}

/* ---- composite parameters -------------------------------------------- */

/* Collects one component's encoded values, each 2-byte length + bytes. */
struct index_comp {
	int		 ic_type;	/* enum tables_param_type */
	struct buf	*ic_list;
};

static void
index_comp_add(struct index_comp *ic, const struct buf *v)
{
	if (v->len == 0 || v->len > INDEX_VALUE_MAX)
		return;
	buf_putc(ic->ic_list, (int)(v->len >> 8));
	buf_putc(ic->ic_list, (int)(v->len & 0xff));
	buf_append(ic->ic_list, v->data, v->len);
}

/* A token component: code NUL system. */
static void
index_comp_token(struct index_comp *ic, const char *sys, const char *code)
{
	struct buf v = BUF_INIT;

	if (code == NULL || *code == '\0')
		return;
	index_put_raw(&v, code);
	buf_putc(&v, 0);
	index_put_raw(&v, sys ? sys : "");
	index_comp_add(ic, &v);
	buf_free(&v);
}

static int
index_comp_visit(const struct fhirpath_value *fv, void *arg)
{
	struct index_comp	*ic = arg;
	const cJSON		*j = fv->json, *c;
	struct buf		 v = BUF_INIT;
	int64_t			 lo, hi;

	switch (ic->ic_type) {
	case TABLES_PARAM_TOKEN:
		if (cJSON_IsString(j))
			index_comp_token(ic, NULL, j->valuestring);
		else if (cJSON_IsBool(j))
			index_comp_token(ic, NULL, cJSON_IsTrue(j) ? "true" :
			    "false");
		else if (cJSON_IsObject(j)) {
			if (json_string(j, "code") || json_string(j, "value"))
				index_comp_token(ic, json_string(j, "system"),
				    json_string(j, "code") ? json_string(j,
				    "code") : json_string(j, "value"));
			cJSON_ArrayForEach(c,
			    json_get(j, "coding"))
				index_comp_token(ic, json_string(c, "system"),
				    json_string(c, "code"));
		}
		break;
	case TABLES_PARAM_QUANTITY:
	case TABLES_PARAM_NUMBER:
		c = cJSON_IsObject(j) ? json_get(j, "value") : j;
		if (!cJSON_IsNumber(c) || !isfinite(c->valuedouble))
			break;
		index_put_double(&v, c->valuedouble);
		if (cJSON_IsObject(j)) {
			index_put_raw(&v, json_string(j, "system") ?
			    json_string(j, "system") : "");
			buf_putc(&v, 0);
			index_put_raw(&v, json_string(j, "code") ?
			    json_string(j, "code") : "");
		}
		index_comp_add(ic, &v);
		break;
	case TABLES_PARAM_DATE:
		if (cJSON_IsString(j) && date_parse_fhir(j->valuestring,
		    strlen(j->valuestring), &lo, &hi, NULL) == EMBER_OK) {
			index_put_i64(&v, lo);
			index_put_i64(&v, hi);
			index_comp_add(ic, &v);
		}
		break;
	case TABLES_PARAM_STRING:
		if (cJSON_IsString(j)) {
			index_fold(&v, j->valuestring, strlen(j->valuestring));
			index_comp_add(ic, &v);
		}
		break;
	case TABLES_PARAM_REFERENCE:
	case TABLES_PARAM_URI:
		if (cJSON_IsObject(j))
			j = json_get(j, "reference");
		if (cJSON_IsString(j)) {
			index_put_raw(&v, j->valuestring);
			index_comp_add(ic, &v);
		}
		break;
	}
	buf_free(&v);
	return 0;
}

struct index_composite {
	struct index_ctx	*ixc_ix;
	const struct tables_param *ixc_p;
	struct tables_component	 ixc_c[3];
	unsigned		 ixc_n;		/* 2 or 3 components */
	const cJSON		*ixc_res;
};

/* The next 2-byte-length record of a component list, or NULL. */
static const unsigned char *
index_comp_next(const struct buf *list, const unsigned char *p, size_t *n)
{
	const unsigned char *end;

	if (list->data == NULL)
		return NULL;	/* no values */
	end = (const unsigned char *)list->data + list->len;
	p = p == NULL ? (const unsigned char *)list->data : p + 2 + *n;
	if (p + 2 > end)
		return NULL;
	*n = ((size_t)p[0] << 8) | p[1];
	return *n <= (size_t)(end - p - 2) ? p : NULL;
}

/*
 * One value of a composite: every combination of its components'
 * values, as 'C' first 0x01 second, or with three components 'C' first
 * 0x01 len second len third (a length byte before each).
 */
static int
index_composite_visit(const struct fhirpath_value *fv, void *arg)
{
	struct index_composite	*xc = arg;
	struct index_ctx	*ix = xc->ixc_ix;
	struct buf		 l[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
	struct index_comp	 ic;
	const unsigned char	*p, *q, *r;
	size_t			 na = 0, nb = 0, nc = 0;
	unsigned		 i;
	int			 rc = 0, three = xc->ixc_n == 3;

	if (fv->json == NULL)
		return 0;
	/*
	 * A component without a value means no key at all.  The last is
	 * evaluated first: it is the one most often absent (the value of
	 * code-value-quantity on an Observation with no valueQuantity).
	 */
	for (i = xc->ixc_n; i-- > 0; ) {
		ic.ic_type = xc->ixc_c[i].type;
		ic.ic_list = &l[i];
		if ((rc = fhirpath_eval_focus(ix->ix_t, &xc->ixc_c[i].program,
		    xc->ixc_res, fv, index_comp_visit, &ic)) || l[i].len == 0)
			goto done;
	}
	if (!three)
		buf_append(&l[2], "\0\0", 2);	/* one empty stand-in */
	for (p = NULL; (p = index_comp_next(&l[0], p, &na)) != NULL; )
	for (q = NULL; (q = index_comp_next(&l[1], q, &nb)) != NULL; )
	for (r = NULL; (r = index_comp_next(&l[2], r, &nc)) != NULL; ) {
		if (three && (nb > 255 || nc > 255))
			continue;
		buf_reset(&ix->ix_key);
		buf_putc(&ix->ix_key, 'C');
		buf_append(&ix->ix_key, p + 2, na);
		buf_putc(&ix->ix_key, 1);
		if (three)
			buf_putc(&ix->ix_key, (int)nb);
		buf_append(&ix->ix_key, q + 2, nb);
		if (three) {
			buf_putc(&ix->ix_key, (int)nc);
			buf_append(&ix->ix_key, r + 2, nc);
		}
		index_emit(ix);
	}
done:
	for (i = 0; i < 3; i++)
		buf_free(&l[i]);
	return rc;
}

/*
 * A composite of two or three components whose first is a token, string,
 * uri or reference (so the separator byte 0x01 cannot occur in it): keys
 * as index_composite_visit() writes them.  Others are not indexed (nor
 * claimed).
 */
int
index_composite_supported(const struct tables *t, const struct tables_param *p)
{
	struct tables_component c;
	int i;

	if (p->type != TABLES_PARAM_COMPOSITE || p->component_count < 2 ||
	    p->component_count > 3 || p->program.len == 0)
		return 0;
	for (i = 0; i < (int)p->component_count; i++)
		if (tables_param_component(t, p, (unsigned)i, &c) ||
		    c.program.len == 0 || c.type == 0 ||
		    c.type == TABLES_PARAM_COMPOSITE ||
		    c.type == TABLES_PARAM_SPECIAL)
			return 0;
	tables_param_component(t, p, 0, &c);
	return c.type == TABLES_PARAM_TOKEN || c.type == TABLES_PARAM_STRING ||
	    c.type == TABLES_PARAM_URI || c.type == TABLES_PARAM_REFERENCE;
}

static int
index_composite(struct index_ctx *ix, const struct tables_param *p,
    const cJSON *res)
{
	struct index_composite	xc;
	unsigned		i;

	if (!index_composite_supported(ix->ix_t, p))
		return EMBER_OK;
	memset(&xc, 0, sizeof(xc));
	xc.ixc_ix = ix;
	xc.ixc_p = p;
	xc.ixc_res = res;
	xc.ixc_n = p->component_count;
	for (i = 0; i < xc.ixc_n; i++)
		if (tables_param_component(ix->ix_t, p, i, &xc.ixc_c[i]))
			return EMBER_ETABLES;
	return fhirpath_eval(ix->ix_t, &p->program, res,
	    index_composite_visit, &xc);
}

/* The postings of res, a resource of index resource, under the
 * parameter prefixes of type name ptype. */
static int
index_keys_as(struct index_ctx *ix, unsigned resource, const char *ptype,
    const cJSON *res)
{
	struct tables_param	 p;
	size_t			 ptype_len = strlen(ptype);
	unsigned		 first, count, i;
	int			 rc;

	if ((rc = tables_param_range(ix->ix_t, resource, &first, &count)))
		return rc;
	for (i = first; i < first + count; i++) {
		if ((rc = tables_param_get(ix->ix_t, i, &p)))
			return rc;
		if (p.flags & TABLES_PARAM_NOPATH)
			continue;
		buf_reset(&ix->ix_prefix);
		ix->ix_ptype = ptype;
		ix->ix_ptype_len = ptype_len;
		ix->ix_code = p.code;
		ix->ix_code_len = p.code_len;
		ix->ix_type = (int)p.type;
		if (p.type == TABLES_PARAM_COMPOSITE)
			rc = index_composite(ix, &p, res);
		else
			rc = fhirpath_eval(ix->ix_t, &p.program, res,
			    index_visit, ix);
		if (rc)
			return rc;
	}
	return EMBER_OK;
}

int
index_keys(const struct tables *t, unsigned resource, const cJSON *res,
    struct buf *out)
{
	struct index_ctx	 ix;
	const cJSON		*c;
	const char		*type = tables_resource_name(t, resource), *ct;
	char			 ptype[INDEX_TYPE_MAX + 2];
	unsigned		 ri;
	int			 rc;

	if (type == NULL)
		return EMBER_ETABLES;
	memset(&ix, 0, sizeof(ix));
	ix.ix_t = t;
	ix.ix_out = out;
	if ((rc = index_keys_as(&ix, resource, type, res)))
		goto done;
	/* Contained resources, under "#Type" (index_contained_type()). */
	cJSON_ArrayForEach(c, json_get(res, "contained")) {
		if ((ct = json_string(c, "resourceType")) == NULL ||
		    tables_resource_lookup(t, ct, strlen(ct), &ri) ||
		    index_contained_type(ptype, sizeof(ptype), ct, strlen(ct)))
			continue;
		if ((rc = index_keys_as(&ix, ri, ptype, c)))
			goto done;
	}
	rc = buf_error(out);
	if (rc == EMBER_OK)
		rc = buf_error(&ix.ix_prefix);
done:
	buf_free(&ix.ix_prefix);
	buf_free(&ix.ix_key);
	return rc;
}

int
index_contained_type(char *out, size_t size, const char *type, size_t tlen)
{
	if (tlen + 2 > size)
		return EMBER_EINVAL;
	out[0] = '#';
	memcpy(out + 1, type, tlen);
	out[tlen + 1] = '\0';
	return EMBER_OK;
}
