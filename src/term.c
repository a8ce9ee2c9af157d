/*
 * term.c: ValueSet expansion and CodeSystem subsumption over the
 * resources stored on the server, for the token modifiers :in, :not-in,
 * :above and :below (search.html); see term.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "json.h"
#include "store.h"
#include "tables.h"
#include "term.h"

#define TERM_DEPTH_MAX	8	/* value sets including value sets */
#define TERM_JSON_DEPTH	128

struct term_ctx {
	struct store_txn	*tc_t;
	const struct tables	*tc_tb;
	char			*tc_err;
	size_t			 tc_errsz;
	int			 tc_depth;
};

static int
term_fail(struct term_ctx *tc, const char *what, const char *name)
{
	snprintf(tc->tc_err, tc->tc_errsz, "%s%.200s", what, name ? name : "");
	return EMBER_EINVAL;
}

/* ---- sets ------------------------------------------------------------- */

static void
term_list_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
term_set_free(struct term_set *s)
{
	if (s == NULL)
		return;
	term_list_free(s->ts_pairs, s->ts_npairs);
	term_list_free(s->ts_systems, s->ts_nsystems);
	term_list_free(s->ts_except, s->ts_nexcept);
	memset(s, 0, sizeof(*s));
}

/* "code\0system" compared as the two strings in turn. */
static int
term_pair_cmp(const char *a, const char *b)
{
	int c = strcmp(a, b);

	return c ? c : strcmp(a + strlen(a) + 1, b + strlen(b) + 1);
}

static int
term_pair_qcmp(const void *a, const void *b)
{
	return term_pair_cmp(*(char *const *)a, *(char *const *)b);
}

static int
term_str_qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append a copy of "code\0system" (or just s when code is NULL). */
static int
term_push(char ***v, size_t *n, const char *code, const char *system)
{
	size_t	 cl = code ? strlen(code) + 1 : 0, sl = strlen(system) + 1;
	char	**grown, *p;

	if ((*n & (*n - 1)) == 0 && (*n == 0 || *n >= 16)) {
		size_t cap = *n < 16 ? 16 : *n * 2;

		if ((grown = realloc(*v, cap * sizeof(**v))) == NULL)
			return EMBER_ENOMEM;
		*v = grown;
	}
	if ((p = malloc(cl + sl)) == NULL)
		return EMBER_ENOMEM;
	if (code)
		memcpy(p, code, cl);
	memcpy(p + cl, system, sl);
	(*v)[(*n)++] = p;
	return EMBER_OK;
}

static int
term_add(struct term_set *s, const char *system, const char *code)
{
	if (code == NULL || *code == '\0')
		return EMBER_OK;
	return term_push(&s->ts_pairs, &s->ts_npairs, code,
	    system ? system : "");
}

/* Sort and drop duplicate pairs, systems and exceptions. */
static void
term_normalize(char **v, size_t *n, int pairs)
{
	size_t i, k = 0;

	if (*n < 2)
		return;
	qsort(v, *n, sizeof(*v), pairs ? term_pair_qcmp : term_str_qcmp);
	for (i = 0; i < *n; i++) {
		if (k > 0 && (pairs ? term_pair_cmp(v[k - 1], v[i]) :
		    strcmp(v[k - 1], v[i])) == 0)
			free(v[i]);
		else
			v[k++] = v[i];
	}
	*n = k;
}

static void
term_finish(struct term_set *s)
{
	term_normalize(s->ts_pairs, &s->ts_npairs, 1);
	term_normalize(s->ts_systems, &s->ts_nsystems, 0);
	term_normalize(s->ts_except, &s->ts_nexcept, 1);
}

static int
term_find_sorted(char *const *v, size_t n, const char *key, int pairs)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = pairs ? term_pair_cmp(key, v[mid]) : strcmp(key, v[mid]);
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* a = a AND b over explicit pairs (both normalized); whole systems of b
 * keep the pairs of a in them. */
static void
term_intersect(struct term_set *a, const struct term_set *b)
{
	size_t i, k = 0;

	for (i = 0; i < a->ts_npairs; i++) {
		const char *p = a->ts_pairs[i];

		if (term_contains(b, p, strlen(p), p + strlen(p) + 1,
		    strlen(p + strlen(p) + 1)))
			a->ts_pairs[k++] = a->ts_pairs[i];
		else
			free(a->ts_pairs[i]);
	}
	a->ts_npairs = k;
}

/* Move everything of src into dst (src left empty). */
static int
term_merge(struct term_set *dst, struct term_set *src)
{
	size_t	i;
	int	rc = EMBER_OK;

	for (i = 0; rc == EMBER_OK && i < src->ts_npairs; i++) {
		const char *p = src->ts_pairs[i];

		rc = term_add(dst, p + strlen(p) + 1, p);
	}
	for (i = 0; rc == EMBER_OK && i < src->ts_nsystems; i++)
		rc = term_push(&dst->ts_systems, &dst->ts_nsystems, NULL,
		    src->ts_systems[i]);
	for (i = 0; rc == EMBER_OK && i < src->ts_nexcept; i++) {
		const char *p = src->ts_except[i];

		rc = term_push(&dst->ts_except, &dst->ts_nexcept, p,
		    p + strlen(p) + 1);
	}
	term_set_free(src);
	return rc;
}

int
term_contains(const struct term_set *s, const char *code, size_t clen,
    const char *system, size_t slen)
{
	char	 stack[512], *key = stack;
	int	 found;

	if (clen + slen + 2 > sizeof(stack) &&
	    (key = malloc(clen + slen + 2)) == NULL)
		return 0;
	memcpy(key, code, clen);
	key[clen] = '\0';
	memcpy(key + clen + 1, system, slen);
	key[clen + 1 + slen] = '\0';
	found = term_find_sorted(s->ts_pairs, s->ts_npairs, key, 1) ||
	    (term_find_sorted(s->ts_systems, s->ts_nsystems, key + clen + 1,
	    0) && !term_find_sorted(s->ts_except, s->ts_nexcept, key, 1));
	if (!found && slen == 0) {
		/* A bare code: any explicit pair with that code. */
		size_t lo = 0, hi = s->ts_npairs, mid;

		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (strcmp(key, s->ts_pairs[mid]) <= 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		found = lo < s->ts_npairs && strcmp(key, s->ts_pairs[lo]) == 0;
	}
	if (key != stack)
		free(key);
	return found;
}

/* ---- stored resources -------------------------------------------------- */

struct term_found {
	uint64_t	rids[8];
	size_t		n;
	size_t		keylen;		/* only keys of exactly this length */
};

static int
term_found_one(void *arg, const unsigned char *key, size_t len, uint64_t rid)
{
	struct term_found *f = arg;

	(void)key;
	if (len == f->keylen && f->n < sizeof(f->rids) / sizeof(f->rids[0]))
		f->rids[f->n++] = rid;
	return 0;
}

int
term_row_tree(struct store_txn *t, const struct store_row *row, cJSON **out)
{
	struct store_version	v;
	int			rc;

	if (row->sr_deleted)
		return EMBER_ENOTFOUND;
	if ((rc = store_version(t, row->sr_rid, row->sr_version, &v)))
		return rc;
	if (v.sv_json_len == 0)
		return EMBER_ENOTFOUND;
	return json_parse(v.sv_json, v.sv_json_len, TERM_JSON_DEPTH, out,
	    NULL, 0);
}

int
term_current_tree(struct store_txn *t, uint64_t rid, cJSON **out)
{
	struct store_row	row;
	int			rc;

	if ((rc = store_row(t, rid, &row)))
		return rc;
	return term_row_tree(t, &row, out);
}

/*
 * The current resource of type whose uri parameter `param` is url (and
 * whose version is version, when given).  EMBER_ENOTFOUND when none.
 */
static int
term_find(struct term_ctx *tc, const char *type, const char *param,
    const char *url, const char *version, cJSON **out)
{
	struct term_found	 f;
	struct buf		 k = BUF_INIT;
	const char		*vv;
	size_t			 i;
	int			 rc;
	unsigned		 ri;

	if (tables_resource_lookup(tc->tc_tb, type, strlen(type), &ri))
		return EMBER_ENOTFOUND;
	memset(&f, 0, sizeof(f));
	index_prefix(&k, type, strlen(type), param, strlen(param));
	buf_putc(&k, 'u');
	buf_puts(&k, url);
	f.keylen = k.len;
	if ((rc = buf_error(&k)) == EMBER_OK)
		rc = store_postings_scan(tc->tc_t, k.data, k.len, NULL, 0,
		    term_found_one, &f);
	if (rc == EMBER_OK) {
		rc = EMBER_ENOTFOUND;
		for (i = 0; i < f.n && rc == EMBER_ENOTFOUND; i++) {
			cJSON *j = NULL;

			if ((rc = term_current_tree(tc->tc_t, f.rids[i], &j)) ==
			    EMBER_ENOTFOUND)
				continue;
			if (rc)
				break;
			vv = json_string(j, "version");
			if (version && (vv == NULL || strcmp(vv, version))) {
				cJSON_Delete(j);
				rc = EMBER_ENOTFOUND;
				continue;
			}
			*out = j;
		}
	}
	buf_free(&k);
	return rc;
}

/*
 * The concept array defining system: a CodeSystem's concept (STU3 on),
 * or a DSTU2 ValueSet's codeSystem.concept.  *holder owns the tree.
 */
static int
term_codesystem(struct term_ctx *tc, const char *system, cJSON **holder,
    const cJSON **concepts, int *complete)
{
	const char	*content;
	cJSON		*cs;
	int		 rc;

	*complete = 0;
	rc = term_find(tc, "CodeSystem", "url", system, NULL, holder);
	if (rc == EMBER_OK) {
		*concepts = cJSON_GetObjectItemCaseSensitive(*holder,
		    "concept");
		content = json_string(*holder, "content");
		*complete = content == NULL || strcmp(content, "complete") == 0;
		return EMBER_OK;
	}
	if (rc != EMBER_ENOTFOUND)
		return rc;
	rc = term_find(tc, "ValueSet", "system", system, NULL, holder);
	if (rc)
		return rc;
	cs = cJSON_GetObjectItemCaseSensitive(*holder, "codeSystem");
	*concepts = cJSON_GetObjectItemCaseSensitive(cs, "concept");
	*complete = 1;
	return EMBER_OK;
}

/* Every code of a concept tree (below a node: include it or not). */
static int
term_add_tree(struct term_set *s, const char *system, const cJSON *concepts)
{
	const cJSON	*c;
	int		 rc;

	cJSON_ArrayForEach(c, concepts) {
		if ((rc = term_add(s, system, json_string(c, "code"))) ||
		    (rc = term_add_tree(s, system,
		    cJSON_GetObjectItemCaseSensitive(c, "concept"))))
			return rc;
	}
	return EMBER_OK;
}

/*
 * Find code in the tree; add its descendants (mode 'd'), itself too
 * ('s'), or itself and its ancestors ('a').  1 when found.
 */
static int
term_walk(struct term_set *s, const char *system, const cJSON *concepts,
    const char *code, int mode, int *rc)
{
	const cJSON	*c, *kids;
	const char	*cc;

	cJSON_ArrayForEach(c, concepts) {
		cc = json_string(c, "code");
		kids = cJSON_GetObjectItemCaseSensitive(c, "concept");
		if (cc != NULL && strcmp(cc, code) == 0) {
			if (mode != 'd' && *rc == EMBER_OK)
				*rc = term_add(s, system, cc);
			if (mode != 'a' && *rc == EMBER_OK)
				*rc = term_add_tree(s, system, kids);
			return 1;
		}
		if (term_walk(s, system, kids, code, mode, rc)) {
			if (mode == 'a' && *rc == EMBER_OK)
				*rc = term_add(s, system, cc);
			return 1;
		}
	}
	return 0;
}

static int
term_hierarchy(struct term_ctx *tc, const char *system, const char *code,
    int mode, struct term_set *out)
{
	const cJSON	*concepts = NULL;
	cJSON		*holder = NULL;
	int		 rc, complete;

	rc = term_codesystem(tc, system, &holder, &concepts, &complete);
	if (rc == EMBER_ENOTFOUND)
		return term_fail(tc, "no CodeSystem on this server defines ",
		    system);
	if (rc)
		return rc;
	if (!term_walk(out, system, concepts, code, mode, &rc) &&
	    rc == EMBER_OK) {
		snprintf(tc->tc_err, tc->tc_errsz, "code %.100s is not in "
		    "CodeSystem %.200s", code, system);
		rc = EMBER_EINVAL;
	}
	cJSON_Delete(holder);
	return rc;
}

/* ---- value sets -------------------------------------------------------- */

static int term_expand(struct term_ctx *tc, const char *ref,
    struct term_set *out);

/* expansion.contains, nested. */
static int
term_contains_tree(struct term_set *s, const cJSON *contains)
{
	const cJSON	*c;
	int		 rc;

	cJSON_ArrayForEach(c, contains) {
		if ((rc = term_add(s, json_string(c, "system"),
		    json_string(c, "code"))) ||
		    (rc = term_contains_tree(s,
		    cJSON_GetObjectItemCaseSensitive(c, "contains"))))
			return rc;
	}
	return EMBER_OK;
}

/* One filter of an include: property concept (or code), op, value. */
static int
term_filter(struct term_ctx *tc, const char *system, const cJSON *f,
    struct term_set *out)
{
	const char	*prop = json_string(f, "property");
	const char	*op = json_string(f, "op");
	const char	*value = json_string(f, "value");
	char		*copy, *c, *next;
	int		 rc = EMBER_OK;

	if (prop == NULL || op == NULL || value == NULL)
		return term_fail(tc, "a ValueSet filter needs property, op "
		    "and value", NULL);
	if (strcmp(prop, "concept") && strcmp(prop, "code"))
		return term_fail(tc, "ValueSet filters on property ", prop);
	if (strcmp(op, "is-a") == 0)
		return term_hierarchy(tc, system, value, 's', out);
	if (strcmp(op, "descendent-of") == 0)
		return term_hierarchy(tc, system, value, 'd', out);
	if (strcmp(op, "generalizes") == 0)
		return term_hierarchy(tc, system, value, 'a', out);
	if (strcmp(op, "=") == 0)
		return term_add(out, system, value);
	if (strcmp(op, "in") == 0) {
		if ((copy = strdup(value)) == NULL)
			return EMBER_ENOMEM;
		for (c = copy; rc == EMBER_OK && c; c = next) {
			if ((next = strchr(c, ',')) != NULL)
				*next++ = '\0';
			rc = term_add(out, system, c);
		}
		free(copy);
		return rc;
	}
	return term_fail(tc, "ValueSet filter op not supported: ", op);
}

/* Canonicals of other value sets: a string or an array of them. */
static int
term_valuesets(struct term_ctx *tc, const cJSON *vs, struct term_set *out)
{
	const cJSON	*c;
	int		 rc;

	if (cJSON_IsString(vs))
		return term_expand(tc, vs->valuestring, out);
	cJSON_ArrayForEach(c, vs) {
		if (!cJSON_IsString(c))
			continue;
		if ((rc = term_expand(tc, c->valuestring, out)))
			return rc;
	}
	return EMBER_OK;
}

/* One compose.include or compose.exclude into out. */
static int
term_include(struct term_ctx *tc, const cJSON *inc, struct term_set *out)
{
	const char	*system = json_string(inc, "system");
	const cJSON	*concept = cJSON_GetObjectItemCaseSensitive(inc,
			    "concept");
	const cJSON	*filter = cJSON_GetObjectItemCaseSensitive(inc,
			    "filter");
	const cJSON	*vs = cJSON_GetObjectItemCaseSensitive(inc,
			    "valueSet");
	const cJSON	*c, *concepts = NULL;
	struct term_set	 part, more;
	cJSON		*holder = NULL;
	int		 rc = EMBER_OK, complete, first = 1;

	memset(&part, 0, sizeof(part));
	if (system == NULL) {
		if (vs == NULL)
			return term_fail(tc, "a ValueSet include needs a system "
			    "or a valueSet", NULL);
		return term_valuesets(tc, vs, out);
	}
	if (vs != NULL)
		return term_fail(tc, "ValueSet includes that intersect a "
		    "system with value sets are not supported", NULL);
	if (concept != NULL) {
		cJSON_ArrayForEach(c, concept)
			if ((rc = term_add(&part, system, json_string(c,
			    "code"))))
				goto done;
		first = 0;
	}
	cJSON_ArrayForEach(c, filter) {
		memset(&more, 0, sizeof(more));
		if ((rc = term_filter(tc, system, c, &more))) {
			term_set_free(&more);
			goto done;
		}
		term_finish(&more);
		if (first)
			rc = term_merge(&part, &more);
		else {
			term_finish(&part);
			term_intersect(&part, &more);
			term_set_free(&more);
		}
		first = 0;
	}
	if (first) {
		/* The whole system: its codes when the CodeSystem is here
		 * and complete, else every code that names the system. */
		rc = term_codesystem(tc, system, &holder, &concepts, &complete);
		if (rc == EMBER_OK && complete && concepts != NULL)
			rc = term_add_tree(&part, system, concepts);
		else if (rc == EMBER_OK || rc == EMBER_ENOTFOUND)
			rc = term_push(&part.ts_systems, &part.ts_nsystems,
			    NULL, system);
		cJSON_Delete(holder);
	}
	if (rc == EMBER_OK)
		rc = term_merge(out, &part);
done:
	term_set_free(&part);
	return rc;
}

/* Remove from s what exclusion ex names. */
static int
term_exclude(struct term_set *s, struct term_set *ex)
{
	size_t	i, k;
	int	rc;

	term_finish(ex);
	for (i = 0; i < ex->ts_nsystems; i++) {
		/* A whole system out: its pairs and its whole entry. */
		for (k = 0; k < s->ts_npairs; k++) {
			char *p = s->ts_pairs[k];

			if (strcmp(p + strlen(p) + 1, ex->ts_systems[i]) == 0)
				p[0] = '\0';	/* dropped below */
		}
		for (k = 0; k < s->ts_nsystems; k++)
			if (strcmp(s->ts_systems[k], ex->ts_systems[i]) == 0)
				s->ts_systems[k][0] = '\0';
	}
	for (i = 0; i < ex->ts_npairs; i++) {
		const char *p = ex->ts_pairs[i];

		for (k = 0; k < s->ts_npairs; k++)
			if (term_pair_cmp(s->ts_pairs[k], p) == 0)
				s->ts_pairs[k][0] = '\0';
		if ((rc = term_push(&s->ts_except, &s->ts_nexcept, p,
		    p + strlen(p) + 1)))
			return rc;
	}
	/* Compact: an empty code or system marks a dropped entry. */
	for (i = k = 0; i < s->ts_npairs; i++)
		if (s->ts_pairs[i][0])
			s->ts_pairs[k++] = s->ts_pairs[i];
		else
			free(s->ts_pairs[i]);
	s->ts_npairs = k;
	for (i = k = 0; i < s->ts_nsystems; i++)
		if (s->ts_systems[i][0])
			s->ts_systems[k++] = s->ts_systems[i];
		else
			free(s->ts_systems[i]);
	s->ts_nsystems = k;
	return EMBER_OK;
}

static int
term_expand_json(struct term_ctx *tc, const cJSON *vs, struct term_set *out)
{
	const cJSON	*exp = cJSON_GetObjectItemCaseSensitive(vs, "expansion");
	const cJSON	*compose = cJSON_GetObjectItemCaseSensitive(vs,
			    "compose");
	const cJSON	*cs = cJSON_GetObjectItemCaseSensitive(vs, "codeSystem");
	const cJSON	*c;
	struct term_set	 ex;
	int		 rc = EMBER_OK;

	if (cJSON_GetObjectItemCaseSensitive(exp, "contains") != NULL)
		return term_contains_tree(out,
		    cJSON_GetObjectItemCaseSensitive(exp, "contains"));
	if (cs != NULL && json_string(cs, "system") != NULL &&
	    (rc = term_add_tree(out, json_string(cs, "system"),
	    cJSON_GetObjectItemCaseSensitive(cs, "concept"))))
		return rc;
	/* DSTU2: compose.import, other value sets. */
	if ((rc = term_valuesets(tc, cJSON_GetObjectItemCaseSensitive(compose,
	    "import"), out)))
		return rc;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(compose,
	    "include"))
		if ((rc = term_include(tc, c, out)))
			return rc;
	memset(&ex, 0, sizeof(ex));
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(compose,
	    "exclude"))
		if ((rc = term_include(tc, c, &ex)))
			break;
	if (rc == EMBER_OK && (ex.ts_npairs || ex.ts_nsystems)) {
		term_finish(out);
		rc = term_exclude(out, &ex);
	}
	term_set_free(&ex);
	return rc;
}

static int
term_expand(struct term_ctx *tc, const char *ref, struct term_set *out)
{
	struct store_row	 row;
	cJSON			*vs = NULL;
	char			*url, *bar;
	int			 rc;

	if (++tc->tc_depth > TERM_DEPTH_MAX) {
		tc->tc_depth--;
		return term_fail(tc, "value sets include each other too deep "
		    "at ", ref);
	}
	if ((url = strdup(ref)) == NULL) {
		tc->tc_depth--;
		return EMBER_ENOMEM;
	}
	if ((bar = strchr(url, '|')) != NULL)
		*bar++ = '\0';
	if (strncmp(url, "ValueSet/", 9) == 0 && strchr(url + 9, '/') == NULL) {
		rc = store_current(tc->tc_t, "ValueSet", 8, url + 9,
		    strlen(url + 9), &row);
		if (rc == EMBER_OK)
			rc = term_row_tree(tc->tc_t, &row, &vs);
	} else
		rc = term_find(tc, "ValueSet", "url", url, bar, &vs);
	if (rc == EMBER_ENOTFOUND)
		rc = term_fail(tc, "no ValueSet on this server is ", ref);
	if (rc == EMBER_OK)
		rc = term_expand_json(tc, vs, out);
	cJSON_Delete(vs);
	free(url);
	tc->tc_depth--;
	return rc;
}

int
term_valueset(struct store_txn *t, const struct tables *tb, const char *ref,
    struct term_set *out, char *err, size_t errsz)
{
	struct term_ctx	tc = { t, tb, err, errsz, 0 };
	int		rc;

	memset(out, 0, sizeof(*out));
	if ((rc = term_expand(&tc, ref, out)))
		term_set_free(out);
	else
		term_finish(out);
	return rc;
}

int
term_subsumption(struct store_txn *t, const struct tables *tb,
    const char *system, const char *code, int below, struct term_set *out,
    char *err, size_t errsz)
{
	struct term_ctx	tc = { t, tb, err, errsz, 0 };
	int		rc;

	memset(out, 0, sizeof(*out));
	if ((rc = term_hierarchy(&tc, system, code, below ? 's' : 'a', out)))
		term_set_free(out);
	else
		term_finish(out);
	return rc;
}
