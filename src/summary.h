/*
 * summary.h: the _summary and _elements result parameters, applied to one
 * JSON resource with the type model of its version (prefix summary_).
 *
 * As the search page of the specification defines them (they apply to
 * read, vread and history as well):
 *
 *   _summary=true   the elements marked isSummary (S): at the top level
 *                   and, inside kept backbone elements, their S children;
 *                   datatype values are kept whole except Attachment.data
 *                   ("other than Attachment.data, all data type
 *                   properties are included in the summary form",
 *                   ElementDefinition.isSummary)
 *   _summary=text   text, id, meta and the top-level mandatory (min >= 1)
 *                   elements
 *   _summary=data   everything but text
 *   _summary=count  searches only: no resource is returned at all
 *   _summary=false  the whole resource
 *   _elements=a,b   the listed top-level elements, plus id, meta and the
 *                   top-level mandatory and modifier (isModifier)
 *                   elements, which servers SHOULD always return
 *
 * Every subset (true, text, data, _elements) gets the SUBSETTED tag in
 * meta.tag, with the v3 ObservationValue code system of its version:
 * http://hl7.org/fhir/v3/ObservationValue in DSTU2 and STU3,
 * http://terminology.hl7.org/CodeSystem/v3-ObservationValue from R4 on.
 * A primitive's `_name` member goes with the element.  Keys the type
 * model does not know are dropped from a subset (kept by data).
 */
#ifndef EMBER_SUMMARY_H
#define EMBER_SUMMARY_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct tables;

enum summary_mode {
	SUMMARY_FALSE = 0,	/* the whole resource; also: no _summary */
	SUMMARY_TRUE,
	SUMMARY_TEXT,
	SUMMARY_DATA,
	SUMMARY_COUNT
};

/* The code of the SUBSETTED tag. */
#define SUMMARY_SUBSETTED	"SUBSETTED"

/*
 * Parse a _summary value: "true", "text", "data", "count" or "false"
 * (exact, as the specification spells them).
 *	value, len	the parameter value, not NUL-terminated.
 *	out_mode	on success an enum summary_mode; untouched otherwise.
 * Returns EMBER_OK or EMBER_EINVAL.
 */
int summary_parse(const char *value, size_t len, int *out_mode);

/*
 * Reduce resource in place to what mode and elements ask for, and tag
 * it SUBSETTED when anything was asked.
 *	t		the tables of the resource's FHIR version.
 *	resource	a JSON resource (with resourceType); modified in
 *			place, only on success.
 *	mode		an enum summary_mode.  SUMMARY_FALSE with elements
 *			NULL changes nothing.
 *	elements	NULL, or the _elements value: a NUL-terminated,
 *			comma-separated list of top-level element names
 *			("name,birthDate"); a name may be prefixed with a
 *			resource type ("Patient.name"), and names prefixed
 *			with another type are ignored (they are for other
 *			resources of a search).  A choice element is named
 *			"value", "value[x]" or by one of its JSON keys.
 *	err, errsz	on failure and if err is not NULL, a short English
 *			reason.
 * Returns EMBER_OK; EMBER_EINVAL for SUMMARY_COUNT (there is no resource
 * to return), for a mode with _elements as well (the two do not
 * combine), for an unknown element name, a nested path, an empty list,
 * a resource without a known resourceType, or a meta or meta.tag of the
 * wrong JSON kind; EMBER_ENOMEM (the resource may then be partly
 * reduced, but stays a valid tree); EMBER_ETABLES.
 */
int summary_apply(const struct tables *t, cJSON *resource, int mode,
    const char *elements, char *err, size_t errsz);

#endif /* EMBER_SUMMARY_H */
