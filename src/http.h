/*
 * http.h: the HTTP-level text Ember reads: percent-encoding, query
 * strings, media types with parameters, Accept lists with q-values, and
 * entity tags (leaf module, prefix http_).
 */
#ifndef EMBER_HTTP_H
#define EMBER_HTTP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode %XX escapes (and '+' as space when plus is set) of s into out,
 * which must hold len + 1 bytes; *outlen gets the decoded length and the
 * result is NUL-terminated.  Returns EMBER_OK, or EMBER_EINVAL for a bad
 * escape or a decoded NUL byte.
 */
int http_percent_decode(const char *s, size_t len, int plus, char *out,
    size_t *outlen);

struct buf;

/*
 * Append s percent-encoded for a query value: everything but letters,
 * digits and -._~ becomes %XX.  Returns EMBER_OK or EMBER_ENOMEM.
 */
int http_percent_encode(struct buf *b, const char *s, size_t len);

/* One name=value pair of a query string, still percent-encoded. */
struct http_param {
	const char	*hp_name;
	size_t		 hp_name_len;
	const char	*hp_value;
	size_t		 hp_value_len;
};

/*
 * Take the next name=value pair from the query string at *p (up to end),
 * advancing *p.  Empty pairs ("&&") are skipped.  Returns 1 with *out
 * filled, 0 at the end.
 */
int http_query_next(const char **p, const char *end, struct http_param *out);

/* A media type: "type/subtype" and a few parameters Ember cares about. */
struct http_media {
	const char	*hm_type;		/* "application/fhir+json" */
	size_t		 hm_type_len;
	const char	*hm_fhir_version;	/* fhirVersion parameter or NULL */
	size_t		 hm_fhir_version_len;
	unsigned	 hm_q;			/* quality, 0..1000 */
};

/*
 * Parse one media type with its parameters from s (up to end), e.g.
 * "application/fhir+json; fhirVersion=4.0; q=0.8".  Returns EMBER_OK or
 * EMBER_EINVAL.
 */
int http_media_parse(const char *s, size_t len, struct http_media *out);

/*
 * Take the next media range from an Accept header at *p (up to end),
 * advancing *p past the comma.  Returns 1 with *out, 0 at the end, -1 on
 * a malformed entry (which is skipped).
 */
int http_accept_next(const char **p, const char *end, struct http_media *out);

/*
 * Parse an entity tag holding a FHIR versionId: W/"3", "3" or a bare 3.
 * Returns EMBER_OK with *out, or EMBER_EINVAL.
 */
int http_etag_version(const char *s, size_t len, uint32_t *out);

/* Room for any uint64_t in decimal, without a NUL. */
#define HTTP_DECIMAL_MAX	20

/*
 * Write v in decimal to out (no NUL) and return the number of digits,
 * 1 to HTTP_DECIMAL_MAX.  Cannot fail.  Header values (Content-Length,
 * ETag) are numbers: this spares the request path a printf.
 */
size_t http_decimal(uint64_t v, char out[HTTP_DECIMAL_MAX]);

/*
 * Append the len bytes of s to the text at dst + *n (dst holds dstsz
 * bytes), advancing *n; what would not fit is cut, as snprintf() would
 * cut it.  Writes no NUL.  For short bounded texts (a status line, a
 * base URL) built on every request without printf.
 */
void http_text_put(char *dst, size_t dstsz, size_t *n, const char *s,
    size_t len);

/* Case-insensitive comparison of a (pointer, length) string with a C
 * string; returns 1 when equal. */
int http_token_eq(const char *s, size_t len, const char *lit);

#endif /* EMBER_HTTP_H */
