/*
 * capability.h: [base]/metadata and OPTIONS [base]: the
 * CapabilityStatement (Conformance in DSTU2) of one FHIR version, built
 * from the compiled tables and the list of interactions Ember implements
 * (prefix capability_).
 */
#ifndef EMBER_CAPABILITY_H
#define EMBER_CAPABILITY_H

struct rest_ctx;
struct buf;
struct server_version;

/* Answer the request with the capability resource.  Returns EMBER_OK or
 * the error answered. */
int capability_handle(struct rest_ctx *cx);

/*
 * Append the capability resource of version sv as minified JSON to b.
 * base is the absolute base URL for implementation.url.
 * Returns EMBER_OK or EMBER_ENOMEM.
 */
int capability_write(struct buf *b, const struct server_version *sv,
    const char *base);

#endif /* EMBER_CAPABILITY_H */
