/*
 * tables_dump.c: a readable dump of compiled tables, for
 * `emberctl tables [VERSION [TYPE]]`.
 *
 * Without a type: what the file holds, counted.  With a type: its
 * elements in definition order and, for a resource type, its search
 * parameters with each compiled path disassembled (fhirpath_disasm()).
 * Reads only through the tables_* accessors, so a corrupt file gives
 * EMBER_ETABLES here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fhirpath.h"
#include "tables.h"

static const char *
dump_kind_name(enum tables_kind kind)
{
	switch (kind) {
	case TABLES_KIND_PRIMITIVE:
		return "primitive";
	case TABLES_KIND_COMPLEX:
		return "complex";
	case TABLES_KIND_RESOURCE:
		return "resource";
	}
	return "?";
}

static int
dump_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
dump_counts(FILE *out, const struct tables *t)
{
	unsigned kinds[4] = { 0, 0, 0, 0 }, bytype[TABLES_PARAM_TYPE__MAX];
	unsigned i, nopath = 0, ncomp = 0, ncompartments = 0, abstract = 0;
	struct tables_compartment c, prev;
	struct tables_type ty;
	struct tables_param p;
	const char **urls;
	unsigned ndefs = 0;
	int rc;

	memset(bytype, 0, sizeof(bytype));
	memset(&prev, 0, sizeof(prev));
	for (i = 0; i < tables_type_count(t); i++) {
		if ((rc = tables_type_get(t, i, &ty)) != EMBER_OK)
			return EMBER_ETABLES;
		kinds[ty.kind]++;
		if (ty.kind == TABLES_KIND_RESOURCE && ty.abstract)
			abstract++;
	}
	if ((urls = calloc(tables_param_count(t) + 1, sizeof(*urls))) == NULL)
		return EMBER_ENOMEM;
	for (i = 0; i < tables_param_count(t); i++) {
		if ((rc = tables_param_get(t, i, &p)) != EMBER_OK) {
			free(urls);
			return EMBER_ETABLES;
		}
		bytype[p.type]++;
		if (p.flags & TABLES_PARAM_NOPATH)
			nopath++;
		ncomp += p.component_count;
		urls[i] = p.url;
	}
	/* Inherited parameters repeat their definition: count urls once. */
	qsort(urls, tables_param_count(t), sizeof(*urls), dump_strcmp);
	for (i = 0; i < tables_param_count(t); i++)
		if (i == 0 || strcmp(urls[i], urls[i - 1]) != 0)
			ndefs++;
	free(urls);
	for (i = 0; i < tables_compartment_count(t); i++) {
		if ((rc = tables_compartment_get(t, i, &c)) != EMBER_OK)
			return EMBER_ETABLES;
		if (i == 0 || strcmp(c.compartment, prev.compartment) != 0)
			ncompartments++;
		prev = c;
	}
	if (fprintf(out, "%s (FHIR %s), content hash %016llx\n",
	    tables_version_name(t), tables_fhir_version(t),
	    (unsigned long long)tables_content_hash(t)) < 0 ||
	    fprintf(out, "resource types: %u (and %u abstract)\n",
	    tables_resource_count(t), abstract) < 0 ||
	    fprintf(out, "datatypes: %u complex, %u primitive\n",
	    kinds[TABLES_KIND_COMPLEX], kinds[TABLES_KIND_PRIMITIVE]) < 0 ||
	    fprintf(out, "elements: %u\n", tables_element_count(t)) < 0 ||
	    fprintf(out, "search parameters: %u definitions applied to "
	    "resource types, %u (type, parameter) pairs (%u without a "
	    "path, %u composite components)\n", ndefs,
	    tables_param_count(t), nopath, ncomp) < 0)
		return EMBER_EIO;
	for (i = TABLES_PARAM_NUMBER; i < TABLES_PARAM_TYPE__MAX; i++)
		if (fprintf(out, "  %-10s %u\n",
		    tables_param_type_name((enum tables_param_type)i),
		    bytype[i]) < 0)
			return EMBER_EIO;
	if (fprintf(out, "compartments: %u (%u resource entries)\n",
	    ncompartments, tables_compartment_count(t)) < 0)
		return EMBER_EIO;
	return EMBER_OK;
}

/* "0..1", "1..*" */
static void
dump_card(char *buf, size_t size, const struct tables_element *e)
{
	if (e->max == TABLES_NONE)
		(void)snprintf(buf, size, "%u..*", e->min);
	else
		(void)snprintf(buf, size, "%u..%u", e->min, e->max);
}

static int
dump_elements(FILE *out, const struct tables *t, const struct tables_type *ty)
{
	unsigned i, k;
	int rc;

	if (fprintf(out, "elements (%u):\n", ty->element_count) < 0)
		return EMBER_EIO;
	for (i = ty->first_element; i < ty->first_element + ty->element_count;
	    i++) {
		struct tables_element e, target;
		char card[32];

		if ((rc = tables_element_get(t, i, &e)) != EMBER_OK)
			return EMBER_ETABLES;
		dump_card(card, sizeof(card), &e);
		if (fprintf(out, "  %-50s %-6s ", e.path, card) < 0)
			return EMBER_EIO;
		for (k = 0; k < e.type_count; k++) {
			const char *tn = tables_type_name(t,
			    tables_element_type(t, &e, k));

			if (tn == NULL)
				return EMBER_ETABLES;
			if (fprintf(out, "%s%s", k ? "|" : "", tn) < 0)
				return EMBER_EIO;
		}
		if (e.contentref != TABLES_NONE) {
			if (tables_element_get(t, e.contentref, &target) !=
			    EMBER_OK)
				return EMBER_ETABLES;
			if (fprintf(out, "see %s", target.path) < 0)
				return EMBER_EIO;
		}
		if (fprintf(out, "%s%s\n",
		    (e.flags & TABLES_ELEMENT_SUMMARY) ? " S" : "",
		    (e.flags & TABLES_ELEMENT_MODIFIER) ? " M" : "") < 0)
			return EMBER_EIO;
	}
	return EMBER_OK;
}

static int
dump_strings(FILE *out, const char *label, unsigned n,
    const char *(*get)(const struct tables *, const struct tables_param *,
    unsigned, size_t *), const struct tables *t, const struct tables_param *p)
{
	unsigned i;

	if (n == 0)
		return EMBER_OK;
	if (fprintf(out, "      %s:", label) < 0)
		return EMBER_EIO;
	for (i = 0; i < n; i++) {
		const char *s = get(t, p, i, NULL);

		if (s == NULL)
			return EMBER_ETABLES;
		if (fprintf(out, " %s", s) < 0)
			return EMBER_EIO;
	}
	return fputc('\n', out) == EOF ? EMBER_EIO : EMBER_OK;
}

static int
dump_params(FILE *out, const struct tables *t, unsigned resource)
{
	unsigned first, count, i, k;
	int rc;

	if ((rc = tables_param_range(t, resource, &first, &count)) != EMBER_OK)
		return rc;
	if (fprintf(out, "search parameters (%u):\n", count) < 0)
		return EMBER_EIO;
	for (i = first; i < first + count; i++) {
		struct tables_param p;
		struct tables_component c;

		if ((rc = tables_param_get(t, i, &p)) != EMBER_OK)
			return EMBER_ETABLES;
		if (fprintf(out, "  %s  %s  (from %s)%s\n      %s\n", p.code,
		    tables_param_type_name(p.type), p.base,
		    (p.flags & TABLES_PARAM_NOPATH) ? "  no path" : "",
		    p.url_len ? p.url : "(no url)") < 0)
			return EMBER_EIO;
		if (p.expression_len &&
		    fprintf(out, "      expression: %s\n", p.expression) < 0)
			return EMBER_EIO;
		if ((rc = dump_strings(out, "targets", p.target_count,
		    tables_param_target, t, &p)) != EMBER_OK ||
		    (rc = dump_strings(out, "modifiers", p.modifier_count,
		    tables_param_modifier, t, &p)) != EMBER_OK ||
		    (rc = dump_strings(out, "comparators", p.comparator_count,
		    tables_param_comparator, t, &p)) != EMBER_OK)
			return rc;
		if (p.program.len &&
		    (rc = fhirpath_disasm(out, t, &p.program, "      ")) !=
		    EMBER_OK)
			return rc;
		for (k = 0; k < p.component_count; k++) {
			if ((rc = tables_param_component(t, &p, k, &c)) !=
			    EMBER_OK)
				return EMBER_ETABLES;
			if (fprintf(out, "      component %u: %s  %s  %s\n",
			    k + 1, c.code_len ? c.code : "?",
			    tables_param_type_name(c.type), c.expression) < 0)
				return EMBER_EIO;
			if ((rc = fhirpath_disasm(out, t, &c.program,
			    "        ")) != EMBER_OK)
				return rc;
		}
	}
	return EMBER_OK;
}

static int
dump_type(FILE *out, const struct tables *t, const char *name)
{
	struct tables_type ty;
	const char *base;
	unsigned idx;
	int rc;

	if ((rc = tables_type_lookup(t, name, strlen(name), &idx)) != EMBER_OK)
		return rc;
	if ((rc = tables_type_get(t, idx, &ty)) != EMBER_OK)
		return EMBER_ETABLES;
	base = ty.base == TABLES_NONE ? "-" : tables_type_name(t, ty.base);
	if (base == NULL)
		return EMBER_ETABLES;
	if (fprintf(out, "%s: %s%s, base %s%s%s\n", ty.name,
	    ty.abstract ? "abstract " : "", dump_kind_name(ty.kind), base,
	    ty.jsonkind == TABLES_JSON_BOOL ? ", JSON boolean" :
	    ty.jsonkind == TABLES_JSON_NUMBER ? ", JSON number" :
	    ty.jsonkind == TABLES_JSON_STRING ? ", JSON string" : "",
	    "") < 0)
		return EMBER_EIO;
	if ((rc = dump_elements(out, t, &ty)) != EMBER_OK)
		return rc;
	if (ty.resource != TABLES_NONE)
		return dump_params(out, t, ty.resource);
	return EMBER_OK;
}

int
tables_dump(FILE *out, const struct tables *t, const char *type_or_null)
{
	int rc;

	if (type_or_null == NULL)
		rc = dump_counts(out, t);
	else
		rc = dump_type(out, t, type_or_null);
	if (rc == EMBER_OK && fflush(out) == EOF)
		rc = EMBER_EIO;
	return rc;
}
