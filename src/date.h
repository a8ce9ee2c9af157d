/*
 * date.h: FHIR and HTTP date and time text (leaf module, prefix date_).
 *
 * Times inside Ember are microseconds since 1970-01-01T00:00:00Z
 * (uint64_t).  A FHIR date, dateTime or instant of any precision stands
 * for a range of such times; date_parse_fhir() gives both ends.
 */
#ifndef EMBER_DATE_H
#define EMBER_DATE_H

#include <stddef.h>
#include <stdint.h>

#define DATE_INSTANT_LEN	32	/* "2026-11-26T07:48:31.123456Z" + NUL */
#define DATE_HTTP_LEN		32	/* "Thu, 26 Nov 2026 07:48:31 GMT" + NUL */

enum date_precision {
	DATE_YEAR = 1, DATE_MONTH, DATE_DAY, DATE_MINUTE, DATE_SECOND,
	DATE_FRACTION
};

/* The current time: microseconds since 1970-01-01T00:00:00Z. */
uint64_t date_now(void);

/* Write us as a FHIR instant in UTC with microseconds.  Cannot fail. */
void date_format_instant(uint64_t us, char out[DATE_INSTANT_LEN]);

/* Write us as an HTTP-date (IMF-fixdate, RFC 9110).  Cannot fail. */
void date_format_http(uint64_t us, char out[DATE_HTTP_LEN]);

/*
 * Parse an HTTP-date (IMF-fixdate; the obsolete RFC 850 and asctime
 * forms too) into microseconds.  EMBER_OK or EMBER_EINVAL.
 */
int date_parse_http(const char *s, size_t len, uint64_t *out);

/*
 * Parse a FHIR date, dateTime or instant ("2020", "2020-02",
 * "2020-02-29", "2020-02-29T10:00:00+01:00", with optional fraction) into
 * the range [*low, *high] of microseconds it covers (negative before
 * 1970); a time without a
 * zone is taken as UTC.  *precision (may be NULL) receives the
 * precision.  EMBER_OK or EMBER_EINVAL (nothing written).
 */
int date_parse_fhir(const char *s, size_t len, int64_t *low, int64_t *high,
    int *precision);

#endif /* EMBER_DATE_H */
