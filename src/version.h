/*
 * version.h: the FHIR versions Ember serves, and what differs between
 * them outside the compiled tables (prefix version_).
 *
 * Every difference a handler needs (MIME types, the name of the
 * capability resource, the fhirVersion MIME parameter) is a field of the
 * one static description per version, so no handler tests the version.
 */
#ifndef EMBER_VERSION_H
#define EMBER_VERSION_H

#include <stddef.h>

enum fhir_version {
	FHIR_DSTU2 = 0,
	FHIR_STU3,
	FHIR_R4,
	FHIR_R4B,
	FHIR_R5,
	FHIR_VERSION_COUNT
};

struct version_desc {
	const char	*vd_name;	/* URL segment and config name: "R4" */
	const char	*vd_dir;	/* tables file and store folder: "r4" */
	const char	*vd_fhir;	/* full FHIR version: "4.0.1" */
	const char	*vd_mime_param;	/* fhirVersion MIME parameter: "4.0" */
	const char	*vd_json_mime;	/* "application/fhir+json" */
	const char	*vd_xml_mime;	/* "application/fhir+xml" */
	const char	*vd_capability;	/* "CapabilityStatement" or "Conformance" */
	int		 vd_accept_unknown; /* capability needs acceptUnknown */
	int		 vd_patch;	/* the patch interaction exists (STU3+) */
	int		 vd_batch;	/* "batch" is a capability code (STU3+) */
};

/*
 * Return the static description of version v (an enum fhir_version), or
 * NULL when v is out of range.  The result lives for the program.
 */
const struct version_desc *version_get(int v);

/*
 * Find a version by its name ("R4", case-insensitive) or folder name.
 * On success stores the enum fhir_version in *out and returns EMBER_OK;
 * EMBER_ENOTFOUND otherwise (*out untouched).
 */
int version_lookup(const char *name, size_t len, int *out);

/*
 * Find a version from a fhirVersion MIME parameter value: "4.0",
 * "4.0.1", "3.0", "1.0" and so on, as the version-negotiation page of
 * the specification gives them.  EMBER_OK or EMBER_ENOTFOUND.
 */
int version_from_mime_param(const char *value, size_t len, int *out);

#endif /* EMBER_VERSION_H */
