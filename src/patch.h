/*
 * patch.h: the two patch formats of FHIR's patch interaction, applied to
 * a parsed resource (prefix patch_): JSON Patch (RFC 6902) and FHIRPath
 * Patch (a Parameters resource, see the specification's
 * fhirpatch.html).
 */
#ifndef EMBER_PATCH_H
#define EMBER_PATCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct tables;

/*
 * Apply the JSON Patch document ops (an array of operations) to doc, in
 * place.  Returns EMBER_OK; EMBER_EINVAL when ops is not a well-formed
 * JSON Patch document; EMBER_EUNPROCESSABLE when an operation cannot be
 * applied (missing path, failed test); EMBER_ENOMEM.  The reason, naming
 * the operation's index, goes to err.  On failure doc may be partly
 * changed: callers patch a copy they can throw away.
 */
int patch_json(cJSON *doc, const cJSON *ops, char *err, size_t errsz);

/*
 * Apply a FHIRPath Patch (params: a Parameters resource) to doc, in
 * place, using the tables of doc's version to name choice elements.
 * Paths may use member access, [n] indexers, first(), last() and
 * where(member = 'literal').  Returns as patch_json().
 */
int patch_fhirpath(cJSON *doc, const cJSON *params, const struct tables *tb,
    char *err, size_t errsz);

#endif /* EMBER_PATCH_H */
