/*
 * test-date.c: FHIR dates of every precision and zone to [low, high]
 * ranges; HTTP dates both ways.
 */
#include "config.h"

#include <string.h>

#include "date.h"
#include "error.h"
#include "tap.h"

/* Expected ends are written as instants for readability. */
static const struct {
	const char	*in;
	int		 err;
	const char	*low, *high;
	int		 precision;
} fhir[] = {
	{ "2020", EMBER_OK, "2020-01-01T00:00:00.000000Z",
	  "2020-12-31T23:59:59.999999Z", DATE_YEAR },
	{ "2020-02", EMBER_OK, "2020-02-01T00:00:00.000000Z",
	  "2020-02-29T23:59:59.999999Z", DATE_MONTH },
	{ "2021-02", EMBER_OK, "2021-02-01T00:00:00.000000Z",
	  "2021-02-28T23:59:59.999999Z", DATE_MONTH },
	{ "2020-02-29", EMBER_OK, "2020-02-29T00:00:00.000000Z",
	  "2020-02-29T23:59:59.999999Z", DATE_DAY },
	{ "2020-02-29T10:00", EMBER_OK, "2020-02-29T10:00:00.000000Z",
	  "2020-02-29T10:00:59.999999Z", DATE_MINUTE },
	{ "2020-02-29T10:00:05Z", EMBER_OK, "2020-02-29T10:00:05.000000Z",
	  "2020-02-29T10:00:05.999999Z", DATE_SECOND },
	{ "2020-02-29T10:00:05+02:00", EMBER_OK, "2020-02-29T08:00:05.000000Z",
	  "2020-02-29T08:00:05.999999Z", DATE_SECOND },
	{ "2020-03-01T01:00:00-05:30", EMBER_OK, "2020-03-01T06:30:00.000000Z",
	  "2020-03-01T06:30:00.999999Z", DATE_SECOND },
	{ "2020-02-29T10:00:05.5Z", EMBER_OK, "2020-02-29T10:00:05.500000Z",
	  "2020-02-29T10:00:05.599999Z", DATE_FRACTION },
	{ "2020-02-29T10:00:05.123456789Z", EMBER_OK,
	  "2020-02-29T10:00:05.123456Z", "2020-02-29T10:00:05.123456Z",
	  DATE_FRACTION },
	{ "1970-01-01", EMBER_OK, "1970-01-01T00:00:00.000000Z",
	  "1970-01-01T23:59:59.999999Z", DATE_DAY },
	{ "2021-02-29", EMBER_EINVAL, NULL, NULL, 0 },
	{ "2020-13", EMBER_EINVAL, NULL, NULL, 0 },
	{ "20", EMBER_EINVAL, NULL, NULL, 0 },
	{ "2020-1-1", EMBER_EINVAL, NULL, NULL, 0 },
	{ "2020-01-01T25:00", EMBER_EINVAL, NULL, NULL, 0 },
	{ "2020-01-01T10:00:00+15:00", EMBER_EINVAL, NULL, NULL, 0 },
	{ "2020-01-01T10:00:00X", EMBER_EINVAL, NULL, NULL, 0 },
	{ "2020-01-01T10:00:00.Z", EMBER_EINVAL, NULL, NULL, 0 },
	{ "yesterday", EMBER_EINVAL, NULL, NULL, 0 },
};

static const struct {
	const char	*in;
	int		 err;
	const char	*instant;
} http[] = {
	{ "Sun, 06 Nov 1994 08:49:37 GMT", EMBER_OK,
	  "1994-11-06T08:49:37.000000Z" },
	{ "Thu, 26 Nov 2026 07:48:31 GMT", EMBER_OK,
	  "2026-11-26T07:48:31.000000Z" },
	{ "Sun, 06 Nov 1994 08:49:37 UTC", EMBER_EINVAL, NULL },
	{ "Sun, 31 Feb 1994 08:49:37 GMT", EMBER_EINVAL, NULL },
	{ "06 Nov 1994", EMBER_EINVAL, NULL },
};

/* date_format_http() at the edges: the epoch, the last four-digit year,
 * the first five-digit one and the largest time it can be given. */
static const struct {
	uint64_t	 us;
	const char	*out;
} http_out[] = {
	{ 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
	{ 253402300799999999ULL, "Fri, 31 Dec 9999 23:59:59 GMT" },
	{ 253402300800000000ULL, "Sat, 01 Jan 10000 00:00:00 GMT" },
	{ UINT64_MAX, "Wed, 19 Jan 586524 08:01:49 GMT" },
};

int
main(void)
{
	char		 a[DATE_INSTANT_LEN], b[DATE_INSTANT_LEN], h[DATE_HTTP_LEN];
	int64_t		 lo, hi;
	uint64_t	 us;
	size_t		 i;
	int		 rc, prec;

	for (i = 0; i < sizeof(fhir) / sizeof(fhir[0]); i++) {
		prec = 0;
		rc = date_parse_fhir(fhir[i].in, strlen(fhir[i].in), &lo, &hi,
		    &prec);
		is_int(rc, fhir[i].err, "parse %s", fhir[i].in);
		if (rc != EMBER_OK || fhir[i].low == NULL)
			continue;
		date_format_instant((uint64_t)lo, a);
		date_format_instant((uint64_t)hi, b);
		is_str(a, fhir[i].low, "%s: low", fhir[i].in);
		is_str(b, fhir[i].high, "%s: high", fhir[i].in);
		is_int(prec, fhir[i].precision, "%s: precision", fhir[i].in);
	}
	ok(date_parse_fhir("1950-06-15", 10, &lo, &hi, NULL) == EMBER_OK &&
	    lo == -616896000LL * 1000000, "1950-06-15 is before the epoch");

	for (i = 0; i < sizeof(http) / sizeof(http[0]); i++) {
		rc = date_parse_http(http[i].in, strlen(http[i].in), &us);
		is_int(rc, http[i].err, "http %s", http[i].in);
		if (rc != EMBER_OK)
			continue;
		date_format_instant(us, a);
		is_str(a, http[i].instant, "http %s: value", http[i].in);
		date_format_http(us, h);
		is_str(h, http[i].in, "http %s: formats back", http[i].in);
	}
	for (i = 0; i < sizeof(http_out) / sizeof(http_out[0]); i++) {
		date_format_http(http_out[i].us, h);
		is_str(h, http_out[i].out, "http format of %llu us",
		    (unsigned long long)http_out[i].us);
	}
	tap_done();
	return tap_exit();
}
