/*
 * test-tables.c: the compiled tables and their reader.
 *
 *  (a) Truncated and corrupt files give EMBER_ETABLES (or, for damage
 *      the header cannot see, a clean walk that never reads outside the
 *      map), never a crash.
 *  (b) For every version, the counts in <ver>.tables equal the counts
 *      in schemas/<ver>/: types by kind, concrete resources, elements,
 *      compartment entries, and the search parameters of every resource
 *      with the inherited ones, computed here independently from the TSV.
 *  (c) Table-driven: compiled paths evaluated on official examples from
 *      ../shared/fhir (R4B and R5 ship none: small inline resources),
 *      asserting the exact values extracted.
 *  (d) tablec refuses a schema folder whose expression does not compile,
 *      naming the parameter's url, and writes nothing.
 *
 * Needs $EMBER_BUILDDIR (the tables and src/tablec) and $EMBER_SRCDIR
 * (schemas/ and tests/data/); skips (exit 77) without ../shared/fhir.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L		/* mkdtemp, clock_gettime */
#endif

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "fhirpath.h"
#include "tables.h"
#include "tap.h"

static const char *const versions[] = { "dstu2", "stu3", "r4", "r4b", "r5" };
#define NVERSIONS (sizeof(versions) / sizeof(versions[0]))

static const char *builddir, *srcdir;
static char shared[1024];
static char tmpdir[1024];

/* ---- small file helpers ---- */

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

static int
spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (f == NULL)
		return -1;
	rc = fwrite(buf, 1, len, f) == len ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static void
tables_path(char *buf, size_t size, const char *ver)
{
	snprintf(buf, size, "%s/schemas/%s.tables", builddir, ver);
}

/* ---- (a) corrupt files ---- */

static uint32_t rng_state = 2463534242u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static int
walk_visit(const struct fhirpath_value *v, void *arg)
{
	(void)v;
	(*(unsigned *)arg)++;
	return 0;
}

/*
 * Read everything through the API, evaluate every program on a small
 * resource.  Returns 0 if the walk ended, whatever the errors were.
 */
static void
walk_all(const struct tables *t, const cJSON *res)
{
	unsigned i, k, n = 0, idx;
	struct tables_type ty;
	struct tables_element e;
	struct tables_param p;
	struct tables_component c;
	struct tables_compartment cm;
	size_t len;

	(void)tables_version_name(t);
	(void)tables_fhir_version(t);
	for (i = 0; i < tables_type_count(t) + 2; i++) {
		if (tables_type_get(t, i, &ty) == EMBER_OK) {
			(void)tables_type_lookup(t, ty.name, ty.name_len, &idx);
			(void)tables_type_derives(t, i, ty.base);
			(void)tables_element_member(t, i, TABLES_NONE, "id", 2,
			    &idx);
			(void)tables_element_child(t, i, TABLES_NONE,
			    "valueQuantity", 13, &idx, &k);
		}
		(void)tables_type_name(t, i);
	}
	for (i = 0; i < tables_element_count(t) + 2; i++)
		if (tables_element_get(t, i, &e) == EMBER_OK) {
			(void)tables_element_lookup(t, e.path, e.path_len, &idx);
			for (k = 0; k <= e.type_count && k < 64; k++)
				(void)tables_element_type(t, &e, k);
			(void)tables_element_member(t, e.owner, i, "code", 4,
			    &idx);
		}
	for (i = 0; i < tables_resource_count(t) + 2; i++) {
		const char *name = tables_resource_name(t, i);
		unsigned first, count;

		if (name != NULL)
			(void)tables_resource_lookup(t, name, strlen(name), &idx);
		if (tables_param_range(t, i, &first, &count) == EMBER_OK)
			(void)tables_param_lookup(t, i, "_id", 3, &idx);
	}
	for (i = 0; i < tables_param_count(t) + 2; i++) {
		if (tables_param_get(t, i, &p) != EMBER_OK)
			continue;
		for (k = 0; k <= p.target_count && k < 64; k++)
			(void)tables_param_target(t, &p, k, &len);
		for (k = 0; k <= p.modifier_count && k < 64; k++)
			(void)tables_param_modifier(t, &p, k, &len);
		for (k = 0; k <= p.comparator_count && k < 64; k++)
			(void)tables_param_comparator(t, &p, k, &len);
		(void)fhirpath_eval(t, &p.program, res, walk_visit, &n);
		for (k = 0; k <= p.component_count && k < 64; k++)
			if (tables_param_component(t, &p, k, &c) == EMBER_OK)
				(void)fhirpath_eval(t, &c.program, res,
				    walk_visit, &n);
	}
	for (i = 0; i < tables_compartment_count(t) + 2; i++)
		if (tables_compartment_get(t, i, &cm) == EMBER_OK) {
			(void)tables_compartment_lookup(t, cm.compartment,
			    cm.compartment_len, cm.resource, cm.resource_len,
			    &idx);
			for (k = 0; k <= cm.param_count && k < 64; k++)
				(void)tables_compartment_param(t, &cm, k, &len);
		}
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
test_corrupt(void)
{
	static const char obs[] = "{\"resourceType\":\"Observation\","
	    "\"id\":\"x\",\"code\":{\"coding\":[{\"system\":\"s\",\"code\":"
	    "\"c\"}]},\"subject\":{\"reference\":\"Patient/1\"},"
	    "\"valueQuantity\":{\"value\":1}}";
	char path[4096], bad[4096];
	unsigned char *buf, *copy;
	size_t len, i, cut, refused = 0, ncuts = 0, survived = 0, hashed = 0;
	struct tables *t = NULL;
	cJSON *res = cJSON_Parse(obs);
	int rc;

	tables_path(path, sizeof(path), "r4");
	snprintf(bad, sizeof(bad), "%s/bad.tables", tmpdir);
	if ((buf = slurp(path, &len)) == NULL || (copy = malloc(len)) == NULL) {
		ok(0, "read %s", path);
		free(buf);
		cJSON_Delete(res);
		return;
	}
	rc = tables_open_memory(buf, len, &t);
	ok(rc == EMBER_OK && tables_verify(t) == EMBER_OK,
	    "r4.tables opens and verifies");
	if (rc == EMBER_OK)
		walk_all(t, res);
	tables_close(t);
	t = NULL;

	/* Truncations: at every header byte, then through the body. */
	for (cut = 0; cut < len; cut += cut < 400 ? 1 : len / 97) {
		ncuts++;
		if (tables_open_memory(buf, cut, &t) == EMBER_ETABLES)
			refused++;
		tables_close(t);
		t = NULL;
	}
	is_int(refused, ncuts, "all %zu truncations refused in memory", ncuts);
	ok(spit(bad, buf, len / 2) == 0 &&
	    tables_open(bad, &t) == EMBER_ETABLES && t == NULL,
	    "a truncated file is refused by tables_open");
	ok(spit(bad, buf, 0) == 0 && tables_open(bad, &t) == EMBER_ETABLES,
	    "an empty file is refused");
	ok(tables_open(tmpdir, &t) != EMBER_OK && t == NULL,
	    "a directory is refused");
	snprintf(bad, sizeof(bad), "%s/none.tables", tmpdir);
	ok(tables_open(bad, &t) == EMBER_EIO, "a missing file is EMBER_EIO");
	snprintf(bad, sizeof(bad), "%s/bad.tables", tmpdir);

	/* Header damage that open must see. */
	{
		static const struct {
			size_t		 off;
			uint32_t	 value;
			const char	*what;
		} hdr[] = {
			{ 0, 0x52424d46, "magic" },
			{ 8, 2, "format version" },
			{ 12, 65, "header size" },
			{ 16, 12345, "file size" },
			{ 56, 3, "section count" },
			{ 64, 7, "strings offset misaligned" },
			{ 64, 0xfffffff8, "strings offset past the end" },
			{ 68, 0xfffffff0, "strings size past the end" },
			{ 64 + 16 + 8, 1000000, "types count * size != size" },
			{ 64 + 16 + 12, 41, "types record size" },
			{ 64 + 2 * 16, 0xffffff00, "elements offset" },
			{ 40, 0xfffffff0, "version name offset" },
			{ 44, 0x7fffffff, "version name length" },
		};

		for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
			memcpy(copy, buf, len);
			put32(copy + hdr[i].off, hdr[i].value);
			rc = tables_open_memory(copy, len, &t);
			is_int(rc, EMBER_ETABLES, "damaged header: %s",
			    hdr[i].what);
			tables_close(t);
			t = NULL;
		}
		/* The pool must end in NUL. */
		memcpy(copy, buf, len);
		copy[get32(copy + 64) + get32(copy + 68) - 1] = 'x';
		rc = tables_open_memory(copy, len, &t);
		is_int(rc, EMBER_ETABLES, "string pool without a final NUL");
		tables_close(t);
		t = NULL;
		ok(spit(bad, copy, len) == 0 &&
		    tables_open(bad, &t) == EMBER_ETABLES,
		    "same through tables_open");
	}

	/*
	 * Body damage: open cannot see it (it parses nothing), verify must,
	 * and every accessor must stay inside the map.  Under ASan this is
	 * the crash test.
	 */
	for (i = 0; i < 300; i++) {
		size_t at, k, hsize = get32(buf + 12);

		memcpy(copy, buf, len);
		for (k = 0; k < 1 + i % 4; k++) {
			at = hsize + rng() % (len - hsize);
			copy[at] ^= (unsigned char)(1u << (rng() % 8));
			/* Half of the time, hit an index field hard. */
			if (i % 2 && at + 4 <= len)
				put32(copy + at, rng());
		}
		if (tables_open_memory(copy, len, &t) != EMBER_OK) {
			survived++;
			continue;
		}
		if (tables_verify(t) == EMBER_ETABLES)
			hashed++;
		walk_all(t, res);
		survived++;
		tables_close(t);
		t = NULL;
	}
	is_int(survived, 300, "300 damaged bodies walked without a crash");
	is_int(hashed, 300, "tables_verify refuses all 300");
	free(copy);
	free(buf);
	cJSON_Delete(res);
}

/* ---- (b) counts against the TSV ---- */

struct tsv {
	char	*data;
	char	**field;	/* rows * cols */
	size_t	 rows;
	size_t	 cols;
};

static int
tsv_load(const char *ver, const char *file, size_t cols, struct tsv *t)
{
	char path[4096], *p, *line;
	size_t len, cap = 0;

	memset(t, 0, sizeof(*t));
	t->cols = cols;
	snprintf(path, sizeof(path), "%s/schemas/%s/%s", srcdir, ver, file);
	if ((t->data = (char *)slurp(path, &len)) == NULL)
		return -1;
	for (p = t->data; p != NULL && *p != '\0';) {
		char *nl = strchr(p, '\n');
		size_t c;

		if (nl != NULL)
			*nl = '\0';
		line = p;
		p = nl != NULL ? nl + 1 : NULL;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((t->rows + 1) * cols > cap) {
			cap = cap ? cap * 2 : 1024;
			while (cap < (t->rows + 1) * cols)
				cap *= 2;
			t->field = realloc(t->field, cap * sizeof(char *));
			if (t->field == NULL)
				return -1;
		}
		for (c = 0; c < cols; c++) {
			char *tab = strchr(line, '\t');

			if (tab != NULL)
				*tab = '\0';
			t->field[t->rows * cols + c] =
			    strcmp(line, "-") == 0 ? line + 1 : line;
			if (tab == NULL) {
				if (c + 1 != cols)
					return -1;
				break;
			}
			line = tab + 1;
		}
		t->rows++;
	}
	return 0;
}

static const char *
tsv_get(const struct tsv *t, size_t row, size_t col)
{
	return t->field[row * t->cols + col];
}

static void
tsv_free(struct tsv *t)
{
	free(t->field);
	free(t->data);
}

/* Whether list (comma-separated) contains item. */
static int
list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && strncmp(p, item, n) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static int
is_example_url(const char *url)
{
	static const char ex[] = "http://hl7.org/fhir/SearchParameter/example";

	return strncmp(url, ex, sizeof(ex) - 1) == 0 &&
	    (url[sizeof(ex) - 1] == '\0' || url[sizeof(ex) - 1] == '-');
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
test_counts(const char *ver)
{
	struct tsv ty, el, sp, ex, cm;
	struct tables *t = NULL;
	char path[4096];
	size_t i, j, kinds[4] = { 0, 0, 0, 0 }, concrete = 0, total = 0;
	size_t got_kinds[4] = { 0, 0, 0, 0 }, bad_resources = 0, missing = 0;
	unsigned k;
	const char **codes = NULL;

	tables_path(path, sizeof(path), ver);
	if (!ok(tables_open(path, &t) == EMBER_OK, "%s: open", ver))
		return;
	if (!ok(tsv_load(ver, "types.tsv", 5, &ty) == 0 &&
	    tsv_load(ver, "elements.tsv", 6, &el) == 0 &&
	    tsv_load(ver, "searchparams.tsv", 11, &sp) == 0 &&
	    tsv_load(ver, "extra-params.tsv", 11, &ex) == 0 &&
	    tsv_load(ver, "compartments.tsv", 3, &cm) == 0,
	    "%s: read schemas/%s", ver, ver)) {
		tables_close(t);
		return;
	}
	ok(tables_verify(t) == EMBER_OK, "%s: verify", ver);
	for (i = 0; i < ty.rows; i++) {
		const char *kind = tsv_get(&ty, i, 1);
		int kn = strcmp(kind, "primitive") == 0 ? 1 :
		    strcmp(kind, "complex") == 0 ? 2 : 3;

		kinds[kn]++;
		if (kn == 3 && strcmp(tsv_get(&ty, i, 3), "0") == 0)
			concrete++;
	}
	for (k = 0; k < tables_type_count(t); k++) {
		struct tables_type tt;

		if (tables_type_get(t, k, &tt) == EMBER_OK)
			got_kinds[tt.kind]++;
	}
	is_int(tables_type_count(t), ty.rows, "%s: types", ver);
	is_int(got_kinds[1], kinds[1], "%s: primitive types", ver);
	is_int(got_kinds[2], kinds[2], "%s: complex types", ver);
	is_int(got_kinds[3], kinds[3], "%s: resource types", ver);
	is_int(tables_resource_count(t), concrete, "%s: concrete resources",
	    ver);
	is_int(tables_element_count(t), el.rows, "%s: elements", ver);
	is_int(tables_compartment_count(t), cm.rows, "%s: compartment entries",
	    ver);
	is_str(tables_version_name(t), strcmp(ver, "dstu2") == 0 ? "DSTU2" :
	    strcmp(ver, "stu3") == 0 ? "STU3" : strcmp(ver, "r4") == 0 ? "R4" :
	    strcmp(ver, "r4b") == 0 ? "R4B" : "R5", "%s: version name", ver);

	/*
	 * Parameters per resource: the distinct codes of every parameter
	 * whose base is the resource or one of its ancestors.
	 */
	codes = calloc(sp.rows + ex.rows + 1, sizeof(*codes));
	for (i = 0; codes != NULL && i < ty.rows; i++) {
		const char *name = tsv_get(&ty, i, 0);
		const char *chain[40];
		size_t nchain = 0, ncodes = 0, r, distinct = 0;
		unsigned ridx, first, count;

		if (strcmp(tsv_get(&ty, i, 1), "resource") != 0 ||
		    strcmp(tsv_get(&ty, i, 3), "0") != 0)
			continue;
		/* name and its bases */
		for (chain[nchain++] = name; nchain < 40;) {
			const char *base = NULL;

			for (j = 0; j < ty.rows; j++)
				if (strcmp(tsv_get(&ty, j, 0),
				    chain[nchain - 1]) == 0)
					base = tsv_get(&ty, j, 2);
			if (base == NULL || base[0] == '\0')
				break;
			chain[nchain++] = base;
		}
		for (r = 0; r < sp.rows + ex.rows; r++) {
			const struct tsv *src = r < sp.rows ? &sp : &ex;
			size_t row = r < sp.rows ? r : r - sp.rows, c;

			if (is_example_url(tsv_get(src, row, 9)))
				continue;
			for (c = 0; c < nchain; c++)
				if (list_has(tsv_get(src, row, 1), chain[c]))
					break;
			if (c < nchain)
				codes[ncodes++] = tsv_get(src, row, 0);
		}
		qsort(codes, ncodes, sizeof(*codes), cmp_str);
		for (r = 0; r < ncodes; r++)
			if (r == 0 || strcmp(codes[r], codes[r - 1]) != 0) {
				distinct++;
				if (tables_resource_lookup(t, name, strlen(name),
				    &ridx) != EMBER_OK ||
				    tables_param_lookup(t, ridx, codes[r],
				    strlen(codes[r]), &first) != EMBER_OK)
					missing++;
			}
		total += distinct;
		if (tables_resource_lookup(t, name, strlen(name), &ridx) !=
		    EMBER_OK || tables_param_range(t, ridx, &first, &count) !=
		    EMBER_OK || count != distinct)
			bad_resources++;
	}
	is_int(tables_param_count(t), total,
	    "%s: search parameters over all resources (inherited included)",
	    ver);
	is_int(bad_resources, 0, "%s: parameter count of every resource", ver);
	is_int(missing, 0, "%s: every (resource, code) is found", ver);
	free(codes);
	tsv_free(&ty);
	tsv_free(&el);
	tsv_free(&sp);
	tsv_free(&ex);
	tsv_free(&cm);
	tables_close(t);
}

/* ---- the lookups the indexer, XML and _summary rely on (R4) ---- */

static void
test_api(void)
{
	struct tables *t = NULL;
	struct tables_type ty;
	struct tables_element e;
	struct tables_param p;
	struct tables_compartment c;
	char path[4096];
	unsigned idx, idx2, type, first, count, i, k;
	int rc, sorted = 1, has_subject = 0, has_performer = 0;
	const char *s;

	tables_path(path, sizeof(path), "r4");
	if (!ok(tables_open(path, &t) == EMBER_OK, "r4: open for the API"))
		return;
	is_str(tables_version_name(t), "R4", "version name");
	is_str(tables_fhir_version(t), "4.0.1", "FHIR version");
	ok(tables_type_lookup(t, "Observation", 11, &idx) == EMBER_OK &&
	    tables_type_get(t, idx, &ty) == EMBER_OK &&
	    ty.kind == TABLES_KIND_RESOURCE && !ty.abstract &&
	    strcmp(tables_type_name(t, ty.base), "DomainResource") == 0,
	    "Observation: a concrete resource based on DomainResource");
	ok(tables_type_lookup(t, "boolean", 7, &idx) == EMBER_OK &&
	    tables_type_get(t, idx, &ty) == EMBER_OK &&
	    ty.kind == TABLES_KIND_PRIMITIVE &&
	    ty.jsonkind == TABLES_JSON_BOOL, "boolean: a JSON boolean");
	ok(tables_resource_lookup(t, "DomainResource", 14, &idx) ==
	    EMBER_ENOTFOUND, "abstract types are not routable resources");
	ok(tables_resource_lookup(t, "HumanName", 9, &idx) == EMBER_ENOTFOUND,
	    "datatypes are not resources");
	ok(tables_resource_lookup(t, "Observatio", 10, &idx) ==
	    EMBER_ENOTFOUND, "no prefix matches");
	for (i = 1; i < tables_resource_count(t); i++)
		if (strcmp(tables_resource_name(t, i - 1),
		    tables_resource_name(t, i)) >= 0)
			sorted = 0;
	ok(sorted && tables_resource_name(t, tables_resource_count(t)) ==
	    NULL, "resource names sorted, NULL past the end");
	ok(tables_element_lookup(t, "Observation.value[x]", 20, &idx) ==
	    EMBER_OK && tables_element_get(t, idx, &e) == EMBER_OK &&
	    (e.flags & TABLES_ELEMENT_CHOICE) &&
	    (e.flags & TABLES_ELEMENT_SUMMARY) && e.min == 0 && e.max == 1 &&
	    e.type_count == 11 && strcmp(e.name, "value") == 0 &&
	    strcmp(tables_type_name(t, tables_element_type(t, &e, 0)),
	    "Quantity") == 0, "Observation.value[x]: 0..1 S, 11 types");
	(void)tables_type_lookup(t, "Observation", 11, &type);
	ok(tables_element_child(t, type, TABLES_NONE, "valueQuantity", 13,
	    &idx2, &k) == EMBER_OK && idx2 == idx &&
	    strcmp(tables_type_name(t, k), "Quantity") == 0,
	    "JSON key valueQuantity: value[x] as Quantity");
	ok(tables_element_child(t, type, TABLES_NONE, "valueFoo", 8, &idx2,
	    &k) == EMBER_ENOTFOUND && tables_element_child(t, type,
	    TABLES_NONE, "value", 5, &idx2, &k) == EMBER_ENOTFOUND,
	    "no valueFoo, and no bare value key");
	ok(tables_element_member(t, type, TABLES_NONE, "value", 5, &idx2) ==
	    EMBER_OK && idx2 == idx, "FHIRPath member value: value[x]");
	ok(tables_element_member(t, type, TABLES_NONE, "status", 6, &idx2) ==
	    EMBER_OK && tables_element_get(t, idx2, &e) == EMBER_OK &&
	    (e.flags & TABLES_ELEMENT_MODIFIER) && e.min == 1,
	    "Observation.status is 1..1 and a modifier");
	ok(tables_element_lookup(t, "Observation.component", 21, &idx) ==
	    EMBER_OK && tables_element_child(t, type, idx, "code", 4, &idx2,
	    &k) == EMBER_OK && tables_element_get(t, idx2, &e) == EMBER_OK &&
	    strcmp(e.path, "Observation.component.code") == 0,
	    "children of a backbone element");
	ok(tables_element_lookup(t, "Questionnaire.item.item", 23, &idx) ==
	    EMBER_OK && tables_element_get(t, idx, &e) == EMBER_OK &&
	    e.contentref != TABLES_NONE &&
	    tables_type_lookup(t, "Questionnaire", 13, &type) == EMBER_OK &&
	    tables_element_child(t, type, idx, "linkId", 6, &idx2, &k) ==
	    EMBER_OK && tables_element_get(t, idx2, &e) == EMBER_OK &&
	    strcmp(e.path, "Questionnaire.item.linkId") == 0,
	    "contentReference: item.item has the children of item");
	/* Top-level children in definition order, S flags for _summary. */
	(void)tables_type_lookup(t, "Patient", 7, &type);
	(void)tables_type_get(t, type, &ty);
	k = 0;
	for (idx = ty.first_child; idx != TABLES_NONE && k < 100;
	    idx = e.next_sibling, k++)
		if (tables_element_get(t, idx, &e) != EMBER_OK)
			break;
	is_int(k, 24, "Patient has 24 top-level elements");
	ok(tables_element_get(t, ty.first_child, &e) == EMBER_OK &&
	    strcmp(e.path, "Patient.id") == 0, "the first is Patient.id");
	/* Parameters. */
	rc = tables_resource_lookup(t, "Observation", 11, &idx);
	ok(rc == EMBER_OK && tables_param_range(t, idx, &first, &count) ==
	    EMBER_OK && count == 56, "Observation has 56 parameters");
	ok(tables_param_lookup(t, idx, "subject", 7, &k) == EMBER_OK &&
	    tables_param_get(t, k, &p) == EMBER_OK &&
	    p.type == TABLES_PARAM_REFERENCE && p.target_count == 4 &&
	    (s = tables_param_target(t, &p, 0, NULL)) != NULL &&
	    strcmp(s, "Group") == 0 && p.program.len > 0,
	    "Observation subject: reference, 4 targets");
	ok(tables_param_lookup(t, idx, "_lastUpdated", 12, &k) == EMBER_OK &&
	    tables_param_get(t, k, &p) == EMBER_OK &&
	    p.type == TABLES_PARAM_DATE && strcmp(p.base, "Resource") == 0 &&
	    p.comparator_count == 9 &&
	    strcmp(tables_param_comparator(t, &p, 0, NULL), "eq") == 0,
	    "_lastUpdated inherited from Resource, with comparators");
	ok(tables_param_lookup(t, idx, "_text", 5, &k) == EMBER_OK &&
	    tables_param_get(t, k, &p) == EMBER_OK &&
	    (p.flags & TABLES_PARAM_NOPATH) && p.program.len == 0 &&
	    strcmp(p.base, "DomainResource") == 0,
	    "_text: from DomainResource, no path");
	ok(tables_param_lookup(t, idx, "code-value-quantity", 19, &k) ==
	    EMBER_OK && tables_param_get(t, k, &p) == EMBER_OK &&
	    p.type == TABLES_PARAM_COMPOSITE && p.component_count == 2,
	    "code-value-quantity has two components");
	{
		struct tables_component comp;

		ok(tables_param_component(t, &p, 1, &comp) == EMBER_OK &&
		    comp.type == TABLES_PARAM_QUANTITY &&
		    strcmp(comp.code, "value-quantity") == 0 &&
		    comp.program.len > 0 &&
		    tables_param_component(t, &p, 2, &comp) == EMBER_ENOTFOUND,
		    "its second component is value-quantity");
	}
	ok(tables_param_lookup(t, idx, "nonesuch", 8, &k) == EMBER_ENOTFOUND,
	    "unknown code");
	/* Compartments. */
	ok(tables_compartment_lookup(t, "Patient", 7, "Observation", 11,
	    &k) == EMBER_OK && tables_compartment_get(t, k, &c) == EMBER_OK,
	    "Observation is in the Patient compartment");
	for (i = 0; i < c.param_count; i++) {
		s = tables_compartment_param(t, &c, i, NULL);
		has_subject |= s != NULL && strcmp(s, "subject") == 0;
		has_performer |= s != NULL && strcmp(s, "performer") == 0;
	}
	ok(has_subject && has_performer, "by subject and performer");
	ok(tables_compartment_lookup(t, "Patient", 7, "CodeSystem", 10, &k) ==
	    EMBER_ENOTFOUND, "CodeSystem is not");
	/* The dump. */
	{
		FILE *f = tmpfile();
		char buf[1 << 16];
		size_t n;

		if (f != NULL) {
			rc = tables_dump(f, t, NULL);
			rewind(f);
			n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			ok(rc == EMBER_OK && strstr(buf, "resource types: 146") &&
			    strstr(buf, "compartments: 5"), "dump: counts");
			rewind(f);
			rc = tables_dump(f, t, "Observation");
			fflush(f);
			rewind(f);
			n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			ok(rc == EMBER_OK && strstr(buf, "Observation.value[x]") &&
			    strstr(buf, "member $this 'valueQuantity' : Quantity"),
			    "dump: a type with disassembly");
			ok(tables_dump(f, t, "NoSuchType") == EMBER_ENOTFOUND,
			    "dump: unknown type");
			fclose(f);
		} else
			ok(0, "tmpfile");
	}
	tables_close(t);
}

/* ---- (c) official examples ---- */

struct example_row {
	const char	*ver;
	const char	*file;		/* in the package, or an inline name */
	const char	*type;
	const char	*code;
	const char	*want;		/* "type=value ; type=value" */
};

/* Generated from the JSON by an independent reading; see the top. */
static const struct example_row example_rows[] = {
	{ "r4", "Patient-example.json", "Patient", "family",
	    "string=Chalmers ; string=Windsor" },
	{ "r4", "Patient-example.json", "Patient", "given",
	    "string=Peter ; string=James ; string=Jim ; string=Peter ; string=James" },
	{ "r4", "Patient-example.json", "Patient", "gender",
	    "code=male" },
	{ "r4", "Patient-example.json", "Patient", "birthdate",
	    "date=1974-12-25" },
	{ "r4", "Patient-example.json", "Patient", "address-city",
	    "string=PleasantVille" },
	{ "r4", "Patient-example.json", "Patient", "identifier",
	    "Identifier=urn:oid:1.2.36.146.595.217.0.1|12345" },
	{ "r4", "Patient-example.json", "Patient", "deceased",
	    "boolean=false" },
	{ "r4", "Patient-example.json", "Patient", "organization",
	    "Reference=Organization/1" },
	{ "r4", "Patient-example.json", "Patient", "telecom",
	    "ContactPoint=: ; ContactPoint=phone:(03) 5555 6473 ; ContactPoint=phone:(03) 3410 5613 ; ContactPoint=phone:(03) 5555 8834" },
	{ "r4", "Patient-example.json", "Patient", "phone",
	    "ContactPoint=phone:(03) 5555 6473 ; ContactPoint=phone:(03) 3410 5613 ; ContactPoint=phone:(03) 5555 8834" },
	{ "r4", "Observation-example.json", "Observation", "value-quantity",
	    "Quantity=185 [lb_av]" },
	{ "r4", "Observation-example.json", "Observation", "code",
	    "CodeableConcept=http://loinc.org|29463-7,http://loinc.org|3141-9,http://snomed.info/sct|27113001,http://acme.org/devices/clinical-codes|body-weight" },
	{ "r4", "Observation-example.json", "Observation", "patient",
	    "Reference=Patient/example" },
	{ "r4", "Observation-example.json", "Observation", "date",
	    "dateTime=2016-03-28" },
	{ "r4", "Observation-example.json", "Observation", "subject",
	    "Reference=Patient/example" },
	{ "r4", "Observation-blood-pressure.json", "Observation", "component-value-quantity",
	    "Quantity=107 mm[Hg] ; Quantity=60 mm[Hg]" },
	{ "r4", "Observation-blood-pressure.json", "Observation", "combo-code",
	    "CodeableConcept=http://loinc.org|85354-9 ; CodeableConcept=http://loinc.org|8480-6,http://snomed.info/sct|271649006,http://acme.org/devices/clinical-codes|bp-s ; CodeableConcept=http://loinc.org|8462-4" },
	{ "r4", "Observation-blood-pressure.json", "Observation", "combo-value-quantity",
	    "Quantity=107 mm[Hg] ; Quantity=60 mm[Hg]" },
	{ "r4", "Observation-blood-pressure.json", "Observation", "value-quantity",
	    "" },
	{ "r4", "Observation-blood-pressure.json", "Observation", "component-code",
	    "CodeableConcept=http://loinc.org|8480-6,http://snomed.info/sct|271649006,http://acme.org/devices/clinical-codes|bp-s ; CodeableConcept=http://loinc.org|8462-4" },
	{ "r4", "Observation-example-genetics-1.json", "Observation", "gene-identifier",
	    "Extension=http://hl7.org/fhir/StructureDefinition/observation-geneticsGene" },
	{ "r4", "Observation-example-genetics-1.json", "Observation", "value-concept",
	    "CodeableConcept=http://snomed.info/sct|10828004" },
	{ "r4", "Observation-eye-color.json", "Observation", "value-string",
	    "string=blue" },
	{ "r4", "RiskAssessment-cardiac.json", "RiskAssessment", "date",
	    "dateTime=2014-07-19T16:04:00Z" },
	{ "r4", "Condition-example.json", "Condition", "onset-date",
	    "dateTime=2012-05-24" },
	{ "r4", "Condition-example.json", "Condition", "code",
	    "CodeableConcept=http://snomed.info/sct|39065001" },
	{ "r4", "Condition-example.json", "Condition", "patient",
	    "Reference=Patient/example" },
	{ "r4", "Condition-f201.json", "Condition", "abatement-date",
	    "" },
	{ "r4", "Condition-f201.json", "Condition", "abatement-string",
	    "string=around April 9, 2013" },
	{ "r4", "Condition-f201.json", "Condition", "subject",
	    "Reference=Patient/f201" },
	{ "r4", "MedicationRequest-medrx0301.json", "MedicationRequest", "medication",
	    "Reference=#med0310" },
	{ "r4", "MedicationRequest-medrx0308.json", "MedicationRequest", "code",
	    "CodeableConcept=http://www.nlm.nih.gov/research/umls/rxnorm|856907" },
	{ "r4", "MedicationRequest-medrx0302.json", "MedicationRequest", "medication",
	    "Reference=#med0320" },
	{ "r4", "Bundle-bundle-example.json", "Bundle", "composition",
	    "MedicationRequest=MedicationRequest/3123" },
	{ "r4", "Encounter-example.json", "Encounter", "class",
	    "Coding=http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP" },
	{ "r4", "Encounter-example.json", "Encounter", "patient",
	    "Reference=Patient/example" },
	{ "r4", "Immunization-example.json", "Immunization", "date",
	    "dateTime=2013-01-10" },
	{ "r4", "Immunization-example.json", "Immunization", "vaccine-code",
	    "CodeableConcept=urn:oid:1.2.36.1.2001.1005.17|FLUVAX" },
	{ "r4", "AllergyIntolerance-example.json", "AllergyIntolerance", "onset",
	    "dateTime=2012-06-12 ; dateTime=2004" },
	{ "r4", "AllergyIntolerance-example.json", "AllergyIntolerance", "clinical-status",
	    "CodeableConcept=http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical|active" },
	{ "r4", "AllergyIntolerance-example.json", "AllergyIntolerance", "code",
	    "CodeableConcept=http://snomed.info/sct|227493005 ; CodeableConcept=http://www.nlm.nih.gov/research/umls/rxnorm|1160593" },
	{ "r4", "AllergyIntolerance-example.json", "AllergyIntolerance", "manifestation",
	    "CodeableConcept=http://snomed.info/sct|39579001 ; CodeableConcept=http://snomed.info/sct|64305001" },
	{ "r4", "ValueSet-example-expansion.json", "ValueSet", "code",
	    "code=14647-2" },
	{ "r4", "CarePlan-example.json", "CarePlan", "activity-date",
	    "Timing=repeat" },
	{ "r4", "CarePlan-example.json", "CarePlan", "patient",
	    "Reference=Patient/example" },
	{ "r4", "DiagnosticReport-102.json", "DiagnosticReport", "result",
	    "Reference=Observation/bmd" },
	{ "r4", "DiagnosticReport-f201.json", "DiagnosticReport", "date",
	    "dateTime=2012-12-01T12:00:00+01:00" },
	{ "r4", "Composition-example.json", "Composition", "entry",
	    "Reference=Condition/stroke ; Reference=Condition/example ; Reference=Condition/example2" },
	{ "r4", "Practitioner-example.json", "Practitioner", "family",
	    "string=Careful" },
	{ "r4", "Encounter-f201.json", "Encounter", "participant",
	    "Reference=Practitioner/f201" },
	{ "r4", "Encounter-f201.json", "Encounter", "practitioner",
	    "Reference=Practitioner/f201" },
	{ "stu3", "Observation-example.json", "Observation", "value-quantity",
	    "Quantity=185 [lb_av]" },
	{ "stu3", "Observation-example.json", "Observation", "code",
	    "CodeableConcept=http://loinc.org|29463-7,http://loinc.org|3141-9,http://snomed.info/sct|27113001,http://acme.org/devices/clinical-codes|body-weight" },
	{ "stu3", "Observation-blood-pressure.json", "Observation", "component-value-quantity",
	    "Quantity=107 mm[Hg] ; Quantity=60 mm[Hg]" },
	{ "stu3", "Observation-blood-pressure.json", "Observation", "combo-code",
	    "CodeableConcept=http://loinc.org|85354-9 ; CodeableConcept=http://loinc.org|8480-6,http://snomed.info/sct|271649006,http://acme.org/devices/clinical-codes|bp-s ; CodeableConcept=http://loinc.org|8462-4" },
	{ "stu3", "Condition-example.json", "Condition", "onset-date",
	    "dateTime=2012-05-24" },
	{ "stu3", "Condition-f201.json", "Condition", "abatement-date",
	    "" },
	{ "stu3", "Bundle-bundle-example.json", "Bundle", "composition",
	    "MedicationRequest=MedicationRequest/3123" },
	{ "stu3", "Encounter-example.json", "Encounter", "patient",
	    "Reference=Patient/example" },
	{ "stu3", "MedicationRequest-medrx0301.json", "MedicationRequest", "medication",
	    "Reference=#med0310" },
	{ "stu3", "Immunization-example.json", "Immunization", "date",
	    "dateTime=2013-01-10" },
	{ "stu3", "stu3-patient", "Patient", "deceased",
	    "boolean=true" },
	{ "stu3", "stu3-patient", "Patient", "family",
	    "string=Doe" },
	{ "dstu2", "patient-example.json", "Patient", "family",
	    "string=Chalmers" },
	{ "dstu2", "patient-example.json", "Patient", "given",
	    "string=Peter ; string=James ; string=Jim" },
	{ "dstu2", "patient-example.json", "Patient", "gender",
	    "code=male" },
	{ "dstu2", "patient-example.json", "Patient", "organization",
	    "Reference=Organization/1" },
	{ "dstu2", "observation-example.json", "Observation", "value-quantity",
	    "Quantity=185 [lb_av]" },
	{ "dstu2", "observation-example.json", "Observation", "code",
	    "CodeableConcept=http://loinc.org|3141-9,http://snomed.info/sct|27113001,http://acme.org/devices/clinical-codes|body-weight" },
	{ "dstu2", "observation-example.json", "Observation", "subject",
	    "Reference=Patient/example" },
	{ "dstu2", "observation-example-bloodpressure.json", "Observation", "component-value-quantity",
	    "Quantity=107 mm[Hg] ; Quantity=60 mm[Hg]" },
	{ "dstu2", "condition-example.json", "Condition", "onset",
	    "dateTime=2012-05-24" },
	{ "dstu2", "medicationorder-example-f001-combivent.json", "MedicationOrder", "medication",
	    "Reference=Medication/f001" },
	{ "dstu2", "patient-example-us-extensions.json", "Patient", "race",
	    "Extension=http://hl7.org/fhir/StructureDefinition/us-core-race" },
	{ "dstu2", "patient-example-us-extensions.json", "Patient", "ethnicity",
	    "Extension=http://hl7.org/fhir/StructureDefinition/us-core-ethnicity" },
	{ "dstu2", "encounter-example.json", "Encounter", "patient",
	    "Reference=Patient/example" },
	{ "dstu2", "bundle-example.json", "Bundle", "composition",
	    "MedicationOrder=MedicationOrder/3123" },
	{ "r4b", "r4b-patient", "Patient", "deceased",
	    "boolean=true" },
	{ "r4b", "r4b-patient", "Patient", "given",
	    "string=Ann ; string=Marie" },
	{ "r4b", "r4b-patient", "Patient", "email",
	    "ContactPoint=email:ann@example.org" },
	{ "r4b", "r4b-obs", "Observation", "value-quantity",
	    "Quantity=7.5 mmol/L" },
	{ "r4b", "r4b-obs", "Observation", "patient",
	    "" },
	{ "r4b", "r4b-obs", "Observation", "subject",
	    "Reference=Group/g1" },
	{ "r4b", "r4b-obs", "Observation", "date",
	    "Period=2022-01-01..2022-01-02" },
	{ "r4b", "r4b-medreq", "MedicationRequest", "medication",
	    "Reference=Medication/med1" },
	{ "r5", "r5-appt", "Appointment", "date",
	    "dateTime=2023-05-01T09:00:00Z" },
	{ "r5", "r5-appt", "Appointment", "patient",
	    "Reference=Patient/p9" },
	{ "r5", "r5-appt", "Appointment", "practitioner",
	    "Reference=Practitioner/d1" },
	{ "r5", "r5-appt2", "Appointment", "date",
	    "instant=2023-06-01T10:00:00Z" },
	{ "r5", "r5-obs", "Observation", "combo-value-quantity",
	    "Quantity=120 mm[Hg] ; Quantity=80 mm[Hg]" },
	{ "r5", "r5-obs", "Observation", "combo-code",
	    "CodeableConcept=http://loinc.org|85354-9 ; CodeableConcept=http://loinc.org|8480-6 ; CodeableConcept=http://loinc.org|8462-4" },
	{ "r5", "r5-obs", "Observation", "patient",
	    "" },
	{ "r5", "r5-obs", "Observation", "subject",
	    "Reference=urn:uuid:1f2e3d4c-0000-0000-0000-000000000000" },
	{ "r5", "r5-careteam", "CareTeam", "name",
	    "string=Stroke team ; string=ST" },
	{ "r5", "r5-careteam", "CareTeam", "patient",
	    "Reference=Patient/p1" },
	{ "r5", "r5-medreq", "MedicationRequest", "code",
	    "CodeableConcept=http://www.nlm.nih.gov/research/umls/rxnorm|1049221" },
	{ "r5", "r5-medreq", "MedicationRequest", "medication",
	    "" },
	{ "r5", "r5-patient", "Patient", "deceased",
	    "boolean=false" },
	{ "r5", "r5-patient", "Patient", "family",
	    "string=Ng" },
	{ "r5", "r5-patient", "Patient", "link",
	    "Reference=RelatedPerson/r1" },
	{ "r5", "r5-encounter", "Encounter", "patient",
	    "Reference=http://other.org/fhir/Patient/77/_history/3" },
	{ "r5", "r5-encounter", "Encounter", "date",
	    "Period=2023-01-01.." },
};

/* R4B and R5 ship no examples; STU3 ships no Patient. */
static const struct {
	const char	*name;
	const char	*json;
} inline_resources[] = {
	{ "stu3-patient",
	    "{\"resourceType\":\"Patient\",\"id\":\"s3\",\"deceasedBoolean\":false,\"name\":[{\"family\":\"Doe\",\"given\":[\"Jane\"]}]}" },
	{ "r4b-patient",
	    "{\"resourceType\":\"Patient\",\"id\":\"b1\",\"deceasedDateTime\":\"2021-02-03\",\"name\":[{\"family\":\"Lee\",\"given\":[\"Ann\",\"Marie\"]}],\"telecom\":[{\"system\":\"email\",\"value\":\"ann@example.org\"}]}" },
	{ "r4b-obs",
	    "{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":{\"text\":\"t\"},\"subject\":{\"reference\":\"Group/g1\"},\"valueQuantity\":{\"value\":7.5,\"unit\":\"mmol/L\"},\"effectivePeriod\":{\"start\":\"2022-01-01\",\"end\":\"2022-01-02\"}}" },
	{ "r4b-medreq",
	    "{\"resourceType\":\"MedicationRequest\",\"id\":\"m\",\"status\":\"active\",\"intent\":\"order\",\"subject\":{\"reference\":\"Patient/x\"},\"medicationReference\":{\"reference\":\"Medication/med1\"}}" },
	{ "r5-appt",
	    "{\"resourceType\":\"Appointment\",\"id\":\"a\",\"status\":\"proposed\",\"requestedPeriod\":[{\"start\":\"2023-05-01T09:00:00Z\"},{\"start\":\"2023-05-02T09:00:00Z\"}],\"participant\":[{\"actor\":{\"reference\":\"Patient/p9\"},\"status\":\"accepted\"},{\"actor\":{\"reference\":\"Practitioner/d1\"},\"status\":\"accepted\"}]}" },
	{ "r5-appt2",
	    "{\"resourceType\":\"Appointment\",\"id\":\"b\",\"status\":\"booked\",\"start\":\"2023-06-01T10:00:00Z\",\"requestedPeriod\":[{\"start\":\"2023-05-01T09:00:00Z\"}],\"participant\":[{\"status\":\"accepted\"}]}" },
	{ "r5-obs",
	    "{\"resourceType\":\"Observation\",\"id\":\"o5\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"85354-9\"}]},\"subject\":{\"reference\":\"urn:uuid:1f2e3d4c-0000-0000-0000-000000000000\"},\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"}]},\"valueQuantity\":{\"value\":120,\"code\":\"mm[Hg]\"}},{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8462-4\"}]},\"valueQuantity\":{\"value\":80,\"code\":\"mm[Hg]\"}}]}" },
	{ "r5-careteam",
	    "{\"resourceType\":\"CareTeam\",\"id\":\"c\",\"name\":\"Stroke team\",\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/careteam-alias\",\"valueString\":\"ST\"},{\"url\":\"http://example.org/other\",\"valueString\":\"no\"}],\"subject\":{\"reference\":\"Patient/p1\"}}" },
	{ "r5-medreq",
	    "{\"resourceType\":\"MedicationRequest\",\"id\":\"m5\",\"status\":\"active\",\"intent\":\"order\",\"subject\":{\"reference\":\"Patient/x\"},\"medication\":{\"concept\":{\"coding\":[{\"system\":\"http://www.nlm.nih.gov/research/umls/rxnorm\",\"code\":\"1049221\"}]}}}" },
	{ "r5-patient",
	    "{\"resourceType\":\"Patient\",\"id\":\"p5\",\"deceasedBoolean\":false,\"name\":[{\"family\":\"Ng\",\"given\":[\"Kim\"]}],\"link\":[{\"other\":{\"reference\":\"RelatedPerson/r1\"},\"type\":\"seealso\"}]}" },
	{ "r5-encounter",
	    "{\"resourceType\":\"Encounter\",\"id\":\"e5\",\"status\":\"completed\",\"subject\":{\"reference\":\"http://other.org/fhir/Patient/77/_history/3\"},\"actualPeriod\":{\"start\":\"2023-01-01\"}}" },
};

struct out {
	char	buf[8192];
	size_t	len;
};

static void
out_add(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->len + n + 1 > sizeof(o->buf))
		n = sizeof(o->buf) - o->len - 1;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Field k of object o as text ("" when absent); numbers as %g. */
static const char *
field(const cJSON *o, const char *k, char *tmp, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v)) {
		snprintf(tmp, size, "%g", v->valuedouble);
		return tmp;
	}
	return "";
}

static int
is_quantity(const char *t)
{
	static const char *const q[] = { "Quantity", "Age", "Duration",
	    "Distance", "Count", "Money", "SimpleQuantity", "MoneyQuantity" };
	size_t i;

	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (strcmp(t, q[i]) == 0)
			return 1;
	return 0;
}

/* Render one value the way the expectations are written. */
static void
render(struct out *o, const struct fhirpath_value *v)
{
	const cJSON *j = v->json;
	const char *t = v->type_name;
	char a[64], b[64];

	out_add(o, t);
	out_add(o, "=");
	if (cJSON_IsString(j)) {
		out_add(o, j->valuestring);
		return;
	}
	if (cJSON_IsNumber(j)) {
		snprintf(a, sizeof(a), "%g", j->valuedouble);
		out_add(o, a);
		return;
	}
	if (cJSON_IsBool(j)) {
		out_add(o, cJSON_IsTrue(j) ? "true" : "false");
		return;
	}
	if (!cJSON_IsObject(j))
		return;
	if (cJSON_GetObjectItemCaseSensitive(j, "resourceType") != NULL) {
		out_add(o, field(j, "resourceType", a, sizeof(a)));
		out_add(o, "/");
		out_add(o, field(j, "id", a, sizeof(a)));
	} else if (strcmp(t, "Reference") == 0) {
		if (cJSON_GetObjectItemCaseSensitive(j, "reference") != NULL)
			out_add(o, field(j, "reference", a, sizeof(a)));
		else {
			out_add(o, "display:");
			out_add(o, field(j, "display", a, sizeof(a)));
		}
	} else if (strcmp(t, "Coding") == 0 || strcmp(t, "Identifier") == 0) {
		out_add(o, field(j, "system", a, sizeof(a)));
		out_add(o, "|");
		out_add(o, field(j, t[0] == 'C' ? "code" : "value", b,
		    sizeof(b)));
	} else if (strcmp(t, "CodeableConcept") == 0) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "coding"), *k;
		int n = 0;

		cJSON_ArrayForEach(k, c) {
			if (n++)
				out_add(o, ",");
			out_add(o, field(k, "system", a, sizeof(a)));
			out_add(o, "|");
			out_add(o, field(k, "code", b, sizeof(b)));
		}
		if (n == 0)
			out_add(o, field(j, "text", a, sizeof(a)));
	} else if (is_quantity(t)) {
		out_add(o, field(j, "value", a, sizeof(a)));
		out_add(o, " ");
		out_add(o, field(j, "code", b, sizeof(b))[0] ?
		    field(j, "code", b, sizeof(b)) :
		    field(j, "unit", b, sizeof(b)));
	} else if (strcmp(t, "Period") == 0) {
		out_add(o, field(j, "start", a, sizeof(a)));
		out_add(o, "..");
		out_add(o, field(j, "end", a, sizeof(a)));
	} else if (strcmp(t, "HumanName") == 0) {
		out_add(o, field(j, "family", a, sizeof(a))[0] ?
		    field(j, "family", a, sizeof(a)) :
		    field(j, "text", a, sizeof(a)));
	} else if (strcmp(t, "Address") == 0)
		out_add(o, field(j, "city", a, sizeof(a)));
	else if (strcmp(t, "ContactPoint") == 0) {
		out_add(o, field(j, "system", a, sizeof(a)));
		out_add(o, ":");
		out_add(o, field(j, "value", a, sizeof(a)));
	} else if (strcmp(t, "Extension") == 0)
		out_add(o, field(j, "url", a, sizeof(a)));
	else if (strcmp(t, "Timing") == 0) {
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "event"), *k;
		int n = 0;

		cJSON_ArrayForEach(k, ev) {
			if (n++)
				out_add(o, ",");
			if (cJSON_IsString(k))
				out_add(o, k->valuestring);
		}
		if (n == 0 && cJSON_GetObjectItemCaseSensitive(j, "repeat"))
			out_add(o, "repeat");
	}
}

static int
render_visit(const struct fhirpath_value *v, void *arg)
{
	struct out *o = arg;

	if (o->len > 0)
		out_add(o, " ; ");
	render(o, v);
	return 0;
}

/* Unpack the example files the rows name, once per version. */
static int
unpack_examples(void)
{
	char cmd[65536];
	size_t v, i, n;
	int rc;

	for (v = 0; v < NVERSIONS; v++) {
		const char *ver = versions[v];
		int any = 0;

		if (strcmp(ver, "r4") == 0 || strcmp(ver, "stu3") == 0)
			n = (size_t)snprintf(cmd, sizeof(cmd),
			    "tar xzf '%s/%s/%s' -C '%s/%s'", shared, ver,
			    strcmp(ver, "r4") == 0 ?
			    "hl7.fhir.r4.examples-4.0.1.tgz" :
			    "hl7.fhir.r3.examples-3.0.2.tgz", tmpdir, ver);
		else if (strcmp(ver, "dstu2") == 0)
			n = (size_t)snprintf(cmd, sizeof(cmd),
			    "tar xJf '%s/dstu2/examples-json.tar.xz' -C '%s/%s'",
			    shared, tmpdir, ver);
		else
			continue;
		for (i = 0; i < sizeof(example_rows) / sizeof(example_rows[0]);
		    i++) {
			const struct example_row *r = &example_rows[i];
			size_t k;
			int dup = 0;

			if (strcmp(r->ver, ver) != 0 ||
			    strstr(r->file, ".json") == NULL)
				continue;
			for (k = 0; k < i; k++)
				if (strcmp(example_rows[k].ver, ver) == 0 &&
				    strcmp(example_rows[k].file, r->file) == 0)
					dup = 1;
			if (dup)
				continue;
			n += (size_t)snprintf(cmd + n, sizeof(cmd) - n,
			    " '%s/%s'", strcmp(ver, "dstu2") == 0 ?
			    "examples-json" : "package", r->file);
			if (n >= sizeof(cmd))
				return -1;
			any = 1;
		}
		if (!any)
			continue;
		snprintf(cmd + n, sizeof(cmd) - n, " 2>/dev/null");
		{
			char dir[4096];

			snprintf(dir, sizeof(dir), "%s/%s", tmpdir, ver);
			if (mkdir(dir, 0755) == -1 && errno != EEXIST)
				return -1;
		}
		if ((rc = system(cmd)) != 0) {
			tap_diag("unpacking failed (%d): %.300s", rc, cmd);
			return -1;
		}
	}
	return 0;
}

static cJSON *
load_example(const struct example_row *r)
{
	char path[4096];
	unsigned char *buf;
	size_t i, len;
	cJSON *doc;

	for (i = 0; i < sizeof(inline_resources) / sizeof(inline_resources[0]);
	    i++)
		if (strcmp(inline_resources[i].name, r->file) == 0)
			return cJSON_Parse(inline_resources[i].json);
	snprintf(path, sizeof(path), "%s/%s/%s/%s", tmpdir, r->ver,
	    strcmp(r->ver, "dstu2") == 0 ? "examples-json" : "package",
	    r->file);
	if ((buf = slurp(path, &len)) == NULL)
		return NULL;
	doc = cJSON_ParseWithLength((const char *)buf, len);
	free(buf);
	return doc;
}

static void
test_examples(void)
{
	struct tables *tabs[NVERSIONS];
	size_t i, v, per[NVERSIONS];
	char path[4096];

	memset(tabs, 0, sizeof(tabs));
	memset(per, 0, sizeof(per));
	for (v = 0; v < NVERSIONS; v++) {
		tables_path(path, sizeof(path), versions[v]);
		if (tables_open(path, &tabs[v]) != EMBER_OK)
			tabs[v] = NULL;
	}
	ok(unpack_examples() == 0, "unpack the official examples");
	for (i = 0; i < sizeof(example_rows) / sizeof(example_rows[0]); i++) {
		const struct example_row *r = &example_rows[i];
		struct tables_param p;
		unsigned ridx, pidx;
		struct out o;
		cJSON *doc;
		int rc = -1;

		for (v = 0; v < NVERSIONS; v++)
			if (strcmp(versions[v], r->ver) == 0)
				break;
		memset(&o, 0, sizeof(o));
		doc = load_example(r);
		if (v < NVERSIONS && tabs[v] != NULL && doc != NULL &&
		    tables_resource_lookup(tabs[v], r->type, strlen(r->type),
		    &ridx) == EMBER_OK &&
		    tables_param_lookup(tabs[v], ridx, r->code, strlen(r->code),
		    &pidx) == EMBER_OK &&
		    tables_param_get(tabs[v], pidx, &p) == EMBER_OK &&
		    p.program.len > 0)
			rc = fhirpath_eval(tabs[v], &p.program, doc,
			    render_visit, &o);
		if (!ok(rc == EMBER_OK && strcmp(o.buf, r->want) == 0,
		    "%s %s %s:%s", r->ver, r->file, r->type, r->code))
			tap_diag("rc %d; got \"%s\", want \"%s\"", rc, o.buf,
			    r->want);
		if (v < NVERSIONS)
			per[v]++;
		cJSON_Delete(doc);
	}
	for (v = 0; v < NVERSIONS; v++) {
		ok(per[v] >= 8, "%s: %zu example rows", versions[v], per[v]);
		tables_close(tabs[v]);
	}
}

/* ---- (d) tablec refuses what it cannot compile ---- */

static void
test_tablec_refuses(void)
{
	static const struct {
		const char	*dir;
		const char	*url;
		const char	*what;
	} cases[] = {
		{ "bad-expr", "http://example.org/SearchParameter/Patient-broken",
		    "a syntax error" },
		{ "bad-func", "http://example.org/SearchParameter/Patient-select",
		    "an unsupported function" },
	};
	char cmd[16384], out[4096], err[4096], okout[4096];
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *msg;
		int rc;

		snprintf(out, sizeof(out), "%s/%s.tables", tmpdir, cases[i].dir);
		snprintf(err, sizeof(err), "%s/%s.err", tmpdir, cases[i].dir);
		snprintf(cmd, sizeof(cmd),
		    "'%s/src/tablec' '%s/tests/data/tables/%s' '%s' "
		    ">/dev/null 2>'%s'", builddir, srcdir, cases[i].dir, out,
		    err);
		rc = system(cmd);
		msg = slurp(err, &len);
		ok(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 1 &&
		    msg != NULL && strstr((char *)msg, cases[i].url) != NULL &&
		    access(out, F_OK) != 0,
		    "tablec exits 1 on %s, names the url, writes nothing",
		    cases[i].what);
		if (msg != NULL)
			tap_diag("%s", (char *)msg);
		free(msg);
	}
	/* And the good folder compiles. */
	snprintf(okout, sizeof(okout), "%s/mini.tables", tmpdir);
	snprintf(cmd, sizeof(cmd), "'%s/src/tablec' '%s/tests/data/tables/mini' "
	    "'%s' >/dev/null", builddir, srcdir, okout);
	ok(system(cmd) == 0 && access(okout, R_OK) == 0,
	    "tablec compiles tests/data/tables/mini");
}

/* ---- timing ---- */

static void
time_open(void)
{
	struct timespec a, b;
	char path[4096];
	struct tables *t;
	int i, fails = 0;
	double us;

	tables_path(path, sizeof(path), "r4");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 10000; i++) {
		if (tables_open(path, &t) != EMBER_OK)
			fails++;
		else
			tables_close(t);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	    (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / 10000;
	ok(fails == 0, "10000 open/close cycles of r4.tables");
	tap_diag("tables_open + tables_close: %.2f us each", us);
}

int
main(void)
{
	char cmd[8192];
	const char *env;
	size_t v;

	builddir = (env = getenv("EMBER_BUILDDIR")) != NULL ? env : ".";
	srcdir = (env = getenv("EMBER_SRCDIR")) != NULL ? env : ".";
	/* shared/ sits beside the checkout; a distcheck tree is one deeper. */
	if ((env = getenv("EMBER_SHARED")) != NULL)
		snprintf(shared, sizeof(shared), "%s", env);
	else {
		snprintf(shared, sizeof(shared), "%s/../shared/fhir", srcdir);
		if (access(shared, R_OK) != 0)
			snprintf(shared, sizeof(shared),
			    "%s/../../shared/fhir", srcdir);
	}
	if (access(shared, R_OK) != 0)
		tap_skip_all("no ../shared/fhir (official FHIR packages)");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test-tables-XXXXXX",
	    (env = getenv("TMPDIR")) != NULL ? env : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_corrupt();
	for (v = 0; v < NVERSIONS; v++)
		test_counts(versions[v]);
	test_api();
	test_examples();
	test_tablec_refuses();
	time_open();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	tap_done();
	return tap_exit();
}
