/*
 * fuzz-http.c: the HTTP-level text parsers (src/http.h) and the date
 * parsers (src/date.h), all on the same input.
 *
 * The input is read as a query string (each name and value then
 * percent-decoded, with and without '+' as space), as a media type, as
 * an Accept header, as an entity tag, as a FHIR date and as an
 * HTTP-date.  Beyond not crashing: every pointer a parser returns lies
 * inside the input, every loop advances, a decoded value is no longer
 * than its text and holds no NUL, a FHIR date's range is not empty, and
 * a parsed date formats back to a text that parses to the same time.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "error.h"
#include "http.h"

#include "fuzz.h"

static void
fuzz_inside(const char *what, const char *p, size_t len, const char *s,
    const char *end)
{
	if (p < s || p > end || len > (size_t)(end - p))
		fuzz_fail("%s points outside the input", what);
}

static void
fuzz_decode(const char *s, size_t len)
{
	char	*out;
	size_t	 outlen;
	int	 plus;

	for (plus = 0; plus < 2; plus++) {
		/* Exactly the len + 1 bytes the contract asks for. */
		if ((out = malloc(len + 1)) == NULL)
			fuzz_fail("out of memory");
		outlen = (size_t)-1;
		if (http_percent_decode(s, len, plus, out, &outlen) ==
		    EMBER_OK) {
			if (outlen > len || out[outlen] != '\0' ||
			    memchr(out, '\0', outlen) != NULL)
				fuzz_fail("http_percent_decode: bad result");
			if (plus && memchr(out, '+', outlen) != NULL &&
			    memchr(s, '%', len) == NULL)
				fuzz_fail("http_percent_decode kept a '+'");
		}
		free(out);
	}
}

static void
fuzz_media(const char *what, const struct http_media *m, const char *s,
    const char *end)
{
	fuzz_inside(what, m->hm_type, m->hm_type_len, s, end);
	if (m->hm_type_len == 0 || memchr(m->hm_type, '/',
	    m->hm_type_len) == NULL)
		fuzz_fail("%s: a media type without '/'", what);
	if (m->hm_fhir_version != NULL)
		fuzz_inside(what, m->hm_fhir_version, m->hm_fhir_version_len,
		    s, end);
	if (m->hm_q > 1000)
		fuzz_fail("%s: q of %u thousandths", what, m->hm_q);
}

static void
fuzz_dates(const char *s, size_t len)
{
	char		 text[DATE_INSTANT_LEN > DATE_HTTP_LEN ?
			    DATE_INSTANT_LEN : DATE_HTTP_LEN];
	int64_t		 low, high, low2, high2;
	uint64_t	 us, us2;
	int		 prec, prec2;

	if (date_parse_fhir(s, len, &low, &high, &prec) == EMBER_OK) {
		if (low > high)
			fuzz_fail("date_parse_fhir: empty range");
		if (prec < DATE_YEAR || prec > DATE_FRACTION)
			fuzz_fail("date_parse_fhir: precision %d", prec);
		/* A FHIR instant has four year digits: a zone can carry a
		 * time of 9999-12-31 past 10000-01-01T00:00Z, which no
		 * instant writes. */
		if (low >= 0 && low < INT64_C(253402300800000000)) {
			date_format_instant((uint64_t)low, text);
			if (date_parse_fhir(text, strlen(text), &low2, &high2,
			    &prec2) != EMBER_OK || low2 != low)
				fuzz_fail("date_parse_fhir: %s does not read "
				    "back as %lld", text, (long long)low);
		}
	}
	/* Second 60 of 9999-12-31 is past what four digits write. */
	if (date_parse_http(s, len, &us) == EMBER_OK &&
	    us < UINT64_C(253402300800000000)) {
		date_format_http(us, text);
		if (date_parse_http(text, strlen(text), &us2) != EMBER_OK ||
		    us2 != us)
			fuzz_fail("date_parse_http: %s does not read back as "
			    "%llu", text, (unsigned long long)us);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*s = fuzz_dup(data, size);
	const char		*p, *end = s + size, *prev;
	struct http_param	 hp;
	struct http_media	 m;
	uint32_t		 vid;
	size_t			 n;
	int			 r;

	/* Query string. */
	p = s;
	for (n = 0; http_query_next(&p, end, &hp); n++) {
		if (n > size)
			fuzz_fail("http_query_next does not end");
		fuzz_inside("hp_name", hp.hp_name, hp.hp_name_len, s, end);
		fuzz_inside("hp_value", hp.hp_value, hp.hp_value_len, s, end);
		if (hp.hp_name_len == 0 && hp.hp_value_len == 0 &&
		    hp.hp_value == hp.hp_name)
			fuzz_fail("http_query_next returned an empty pair");
		fuzz_decode(hp.hp_name, hp.hp_name_len);
		fuzz_decode(hp.hp_value, hp.hp_value_len);
	}
	fuzz_decode(s, size);

	/* Media type, Accept. */
	if (http_media_parse(s, size, &m) == EMBER_OK)
		fuzz_media("http_media_parse", &m, s, end);
	p = s;
	for (n = 0; (prev = p, r = http_accept_next(&p, end, &m)) != 0; n++) {
		if (n > size || p <= prev || p > end)
			fuzz_fail("http_accept_next does not advance");
		if (r > 0)
			fuzz_media("http_accept_next", &m, s, end);
	}

	/* Entity tag. */
	if (http_etag_version(s, size, &vid) == EMBER_OK && vid == 0)
		fuzz_fail("http_etag_version: version 0");

	fuzz_dates(s, size);
	free(s);
	return 0;
}
