/*
 * version.c: the static description of each FHIR version; see version.h.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "error.h"
#include "version.h"

static const struct version_desc versions[FHIR_VERSION_COUNT] = {
	[FHIR_DSTU2] = { "DSTU2", "dstu2", "1.0.2", "1.0",
	    "application/json+fhir", "application/xml+fhir", "Conformance", 1, 0, 0 },
	[FHIR_STU3] = { "STU3", "stu3", "3.0.2", "3.0",
	    "application/fhir+json", "application/fhir+xml",
	    "CapabilityStatement", 1, 1, 1 },
	[FHIR_R4] = { "R4", "r4", "4.0.1", "4.0",
	    "application/fhir+json", "application/fhir+xml",
	    "CapabilityStatement", 0, 1, 1 },
	[FHIR_R4B] = { "R4B", "r4b", "4.3.0", "4.3",
	    "application/fhir+json", "application/fhir+xml",
	    "CapabilityStatement", 0, 1, 1 },
	[FHIR_R5] = { "R5", "r5", "5.0.0", "5.0",
	    "application/fhir+json", "application/fhir+xml",
	    "CapabilityStatement", 0, 1, 1 },
};

const struct version_desc *
version_get(int v)
{
	if (v < 0 || v >= FHIR_VERSION_COUNT)
		return NULL;
	return &versions[v];
}

int
version_lookup(const char *name, size_t len, int *out)
{
	int v;

	for (v = 0; v < FHIR_VERSION_COUNT; v++)
		if (strlen(versions[v].vd_name) == len &&
		    strncasecmp(versions[v].vd_name, name, len) == 0) {
			*out = v;
			return EMBER_OK;
		}
	return EMBER_ENOTFOUND;
}

int
version_from_mime_param(const char *value, size_t len, int *out)
{
	int	 v;
	size_t	 n;

	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		/* "4.0" matches itself and any "4.0.x"; the full version too. */
		n = strlen(versions[v].vd_mime_param);
		if (len < n || memcmp(value, versions[v].vd_mime_param, n) != 0)
			continue;
		if (len == n || value[n] == '.') {
			*out = v;
			return EMBER_OK;
		}
	}
	return EMBER_ENOTFOUND;
}
