/*
 * xml.h: FHIR XML <-> FHIR JSON, driven by the compiled type model
 * (prefix xml_).
 *
 * Ember keeps resources as JSON (cJSON trees from json_parse(), numbers
 * carrying their original text in valuestring).  This module is the XML
 * format of every FHIR version on top of that: xml_to_json() turns an
 * XML resource into exactly the tree the JSON format of the same
 * resource gives, and xml_from_json() writes a tree as XML.  Nothing in
 * here knows a FHIR version: element order, cardinality, choice types
 * and primitive kinds all come from the tables (src/tables.h), and the
 * few XML rules that are the same in every version are written once:
 *
 *  - a primitive is an element with a `value` attribute; its `id` and
 *    extensions are the JSON `_name` object, with `null` placeholders
 *    in arrays of primitives;
 *  - `id` is an attribute on every element except a resource's own id,
 *    and `url` is an attribute of Extension;
 *  - an element of type Resource (contained, Bundle.entry.resource,
 *    Parameters.parameter.resource) wraps one resource element, whose
 *    name is the JSON `resourceType`;
 *  - the narrative (type xhtml) is an XHTML `div` in the XHTML namespace,
 *    a string of XHTML in JSON.
 *
 * Hostile input: the XML parser is expat, with any DOCTYPE refused (so
 * there are no entity declarations, no external entities and no entity
 * expansion at all), UTF-8 only (checked before expat sees a byte), a
 * depth limit, and every element and attribute checked against the
 * type model.
 */
#ifndef EMBER_XML_H
#define EMBER_XML_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct buf;
struct tables;

/* The namespaces of FHIR XML and of its narrative. */
#define XML_FHIR_NS	"http://hl7.org/fhir"
#define XML_XHTML_NS	"http://www.w3.org/1999/xhtml"

/*
 * Parse len bytes of FHIR XML (one resource, UTF-8) into a new cJSON tree
 * in *out: the same tree json_parse() gives for the JSON form of that
 * resource.  Numbers are cJSON numbers whose valuestring is the exact
 * text of the XML value (json_write() prints it back unchanged); `div`
 * is a string holding the XHTML text.  XML comments and processing
 * instructions outside the narrative are dropped.
 *	t		the tables of the FHIR version to read.
 *	xml, len	the document; need not be NUL-terminated.
 *	max_depth	the deepest element nesting accepted (the root is 1).
 *	out		on success, the new tree; the caller frees it with
 *			cJSON_Delete().  Untouched on failure.
 *	err, errsz	on failure and if err is not NULL, a short English
 *			reason naming the element or attribute at fault,
 *			with its line and column.
 * Returns EMBER_OK; EMBER_EINVAL for XML that is not well-formed, not
 * UTF-8, has a DOCTYPE (and so any entity declaration), is not in the
 * FHIR namespace, or does not fit the type model (unknown, repeated or
 * misplaced element, unknown attribute, bad primitive value, text where
 * none may be); EMBER_EDEPTH for nesting deeper than max_depth;
 * EMBER_ENOMEM; EMBER_ETABLES when the tables are corrupt.
 */
int xml_to_json(const struct tables *t, const char *xml, size_t len,
    unsigned max_depth, cJSON **out, char *err, size_t errsz);

/*
 * Append resource (a JSON resource tree, with resourceType) to out as
 * FHIR XML, with an XML declaration: elements in definition order from
 * the type model, primitives as `value` attributes, decimals from their
 * exact text, the narrative div pasted as XHTML (in the XHTML namespace,
 * declared on the div when the JSON text lacks it; HTML named entities
 * such as &nbsp; written as character references), DSTU2
 * `fhir_comments` as XML comments.  pretty indents by two spaces; else
 * there is no whitespace between elements.
 * Returns EMBER_OK; EMBER_EINVAL when the tree does not fit the type
 * model (unknown key, an array where one value belongs or the reverse,
 * a value of the wrong JSON kind, a narrative that is not well-formed
 * XHTML, a character XML cannot carry); EMBER_ENOMEM; EMBER_ETABLES.
 * On failure out is left as it was.  resource is only read.
 */
int xml_from_json(const struct tables *t, const cJSON *resource, int pretty,
    struct buf *out);

/*
 * xml_from_json() with a reason: on failure and if err is not NULL, a
 * short English reason naming the JSON key at fault is written to err.
 * out may be NULL: then nothing is written and the call only checks,
 * refusing exactly what writing would refuse, with the same reason
 * (the JSON input paths check every resource so, without the cost of
 * the text).
 */
int xml_from_json_err(const struct tables *t, const cJSON *resource,
    int pretty, struct buf *out, char *err, size_t errsz);

/*
 * Check that len bytes of div are a narrative xhtml value as the JSON
 * format carries it: one well-formed `div` element in the XHTML
 * namespace (or in none), XHTML elements only, character references and
 * the XML and HTML named entities only, no DOCTYPE.  For the JSON input
 * path, so that a resource that xml_from_json() could not write is
 * refused when it arrives rather than when it is read.
 * Returns EMBER_OK, EMBER_EINVAL (reason in err when not NULL) or
 * EMBER_ENOMEM.
 */
int xml_xhtml_check(const char *div, size_t len, char *err, size_t errsz);

#endif /* EMBER_XML_H */
