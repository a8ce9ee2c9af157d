/*
 * test-http.c: percent-decoding, query pairs, media types, Accept lists
 * entity tags and decimal numbers.
 */
#include "config.h"

#include <string.h>

#include "error.h"
#include "http.h"
#include "tap.h"

static const struct {
	const char *in;
	int plus, err;
	const char *out;
} pct[] = {
	{ "Patient", 0, EMBER_OK, "Patient" },
	{ "a%20b+c", 0, EMBER_OK, "a b+c" },
	{ "a%20b+c", 1, EMBER_OK, "a b c" },
	{ "Le%C3%B3n", 1, EMBER_OK, "Le\xc3\xb3n" },
	{ "%7c%7C", 1, EMBER_OK, "||" },
	{ "bad%2", 1, EMBER_EINVAL, NULL },
	{ "bad%", 1, EMBER_EINVAL, NULL },
	{ "bad%zz", 1, EMBER_EINVAL, NULL },
	{ "nul%00", 1, EMBER_EINVAL, NULL },
};

static const struct {
	const char *in;
	int err;
	const char *type, *fhir_version;
	unsigned q;
} media[] = {
	{ "application/fhir+json", EMBER_OK, "application/fhir+json", NULL, 1000 },
	{ "application/fhir+json; fhirVersion=4.0", EMBER_OK,
	  "application/fhir+json", "4.0", 1000 },
	{ "application/fhir+xml;q=0.5;fhirVersion=\"3.0\"", EMBER_OK,
	  "application/fhir+xml", "3.0", 500 },
	{ " text/html ; charset=utf-8 ; q=0", EMBER_OK, "text/html", NULL, 0 },
	{ "*/*; q=0.125", EMBER_OK, "*/*", NULL, 125 },
	{ "json", EMBER_EINVAL, NULL, NULL, 0 },
	{ "a/b; q=2", EMBER_EINVAL, NULL, NULL, 0 },
};

static const struct {
	const char *in;
	int err;
	uint32_t v;
} etag[] = {
	{ "W/\"3\"", EMBER_OK, 3 },
	{ "\"12\"", EMBER_OK, 12 },
	{ "7", EMBER_OK, 7 },
	{ " W/\"1\" ", EMBER_OK, 1 },
	{ "W/\"0\"", EMBER_EINVAL, 0 },
	{ "W/\"x\"", EMBER_EINVAL, 0 },
	{ "W/\"99999999999\"", EMBER_EINVAL, 0 },
	{ "", EMBER_EINVAL, 0 },
};

static const struct {
	uint64_t v;
	const char *out;
} decimal[] = {
	{ 0, "0" },
	{ 7, "7" },
	{ 10, "10" },
	{ 3569, "3569" },
	{ 4294967295u, "4294967295" },
	{ UINT64_MAX, "18446744073709551615" },
};

int
main(void)
{
	char			 out[64], got[256];
	struct http_media	 m;
	struct http_param	 hp;
	const char		*p, *end;
	size_t			 i, n;
	uint32_t		 v;
	int			 rc;

	for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		rc = http_percent_decode(pct[i].in, strlen(pct[i].in),
		    pct[i].plus, out, &n);
		is_int(rc, pct[i].err, "decode %s", pct[i].in);
		if (rc == EMBER_OK)
			is_str(out, pct[i].out, "decode %s: value", pct[i].in);
	}
	for (i = 0; i < sizeof(media) / sizeof(media[0]); i++) {
		rc = http_media_parse(media[i].in, strlen(media[i].in), &m);
		is_int(rc, media[i].err, "media %s", media[i].in);
		if (rc != EMBER_OK)
			continue;
		snprintf(got, sizeof(got), "%.*s|%.*s|%u", (int)m.hm_type_len,
		    m.hm_type, m.hm_fhir_version ? (int)m.hm_fhir_version_len : 1,
		    m.hm_fhir_version ? m.hm_fhir_version : "-", m.hm_q);
		snprintf(out, sizeof(out), "%s|%s|%u", media[i].type,
		    media[i].fhir_version ? media[i].fhir_version : "-",
		    media[i].q);
		is_str(got, out, "media %s: fields", media[i].in);
	}
	for (i = 0; i < sizeof(etag) / sizeof(etag[0]); i++) {
		v = 0;
		rc = http_etag_version(etag[i].in, strlen(etag[i].in), &v);
		is_int(rc, etag[i].err, "etag %s", etag[i].in);
		if (rc == EMBER_OK)
			is_int(v, etag[i].v, "etag %s: version", etag[i].in);
	}
	for (i = 0; i < sizeof(decimal) / sizeof(decimal[0]); i++) {
		n = http_decimal(decimal[i].v, out);
		out[n] = '\0';
		is_str(out, decimal[i].out, "decimal %llu",
		    (unsigned long long)decimal[i].v);
	}

	/* Query pairs in order, empty pairs skipped, no '=' allowed. */
	p = "a=1&&b=&c&d=x%3Dy";
	end = p + strlen(p);
	got[0] = '\0';
	while (http_query_next(&p, end, &hp)) {
		n = strlen(got);
		snprintf(got + n, sizeof(got) - n, "[%.*s=%.*s]",
		    (int)hp.hp_name_len, hp.hp_name, (int)hp.hp_value_len,
		    hp.hp_value);
	}
	is_str(got, "[a=1][b=][c=][d=x%3Dy]", "query pairs");

	/* Accept lists: three entries, one malformed. */
	p = "application/fhir+xml;q=0.9, bogus, application/fhir+json";
	end = p + strlen(p);
	got[0] = '\0';
	while ((rc = http_accept_next(&p, end, &m)) != 0) {
		n = strlen(got);
		if (rc < 0)
			snprintf(got + n, sizeof(got) - n, "[bad]");
		else
			snprintf(got + n, sizeof(got) - n, "[%.*s %u]",
			    (int)m.hm_type_len, m.hm_type, m.hm_q);
	}
	is_str(got, "[application/fhir+xml 900][bad][application/fhir+json 1000]",
	    "Accept list");
	tap_done();
	return tap_exit();
}
