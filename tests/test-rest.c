/*
 * test-rest.c: the core entry point, in process: routing, versions,
 * negotiation, the interactions and their errors, request by request.
 * The same requests go through lighttpd in the http-*.sh tests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "crud.h"
#include "error.h"
#include "rest.h"
#include "server.h"
#include "tap.h"

/* Run in order: later rows see earlier writes. */
/* A transaction or batch entry that creates a Patient, fullUrl urn:uuid:u. */
#define BUNDLE_POST(u) "{\"fullUrl\":\"urn:uuid:" u "\",\"resource\":{" \
	"\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\"," \
	"\"url\":\"Patient\"}}"

static const struct {
	const char	*method, *uri, *accept, *ctype, *if_match, *body;
	int		 status;
	const char	*expect;	/* substring of headers + body */
} cases[] = {
	{ "GET", "/fhir/metadata", NULL, NULL, NULL, NULL, 200,
	  "\"resourceType\":\"CapabilityStatement\"" },
	{ "GET", "/fhir/metadata", NULL, NULL, NULL, NULL, 200,
	  "\"fhirVersion\":\"4.0.1\"" },
	{ "GET", "/fhir/DSTU2/metadata", NULL, NULL, NULL, NULL, 200,
	  "Content-Type: application/json+fhir; charset=utf-8" },
	{ "OPTIONS", "/fhir", NULL, NULL, NULL, NULL, 200,
	  "\"kind\":\"instance\"" },
	{ "GET", "/fhir/metadata", "application/fhir+json; fhirVersion=4.3",
	  NULL, NULL, NULL, 200, "\"fhirVersion\":\"4.3.0\"" },
	{ "GET", "/other/metadata", NULL, NULL, NULL, NULL, 404,
	  "not a FHIR endpoint" },
	{ "GET", "/fhirx/metadata", NULL, NULL, NULL, NULL, 404,
	  "not a FHIR endpoint" },
	{ "PUT", "/fhir/Patient/p1", NULL, "application/fhir+json", NULL,
	  "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"other\"}",
	  201, "Location: http://test.example/fhir/Patient/p1/_history/1" },
	{ "GET", "/fhir/Patient/p1", NULL, NULL, NULL, NULL, 200,
	  "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"1\"," },
	{ "GET", "/fhir/R4/Patient/p1", NULL, NULL, NULL, NULL, 200,
	  "ETag: W/\"1\"" },
	{ "GET", "/fhir/STU3/Patient/p1", NULL, NULL, NULL, NULL, 404,
	  "Patient/p1 is not known" },
	{ "GET", "/fhir/Patient/p%31", NULL, NULL, NULL, NULL, 200,
	  "\"id\":\"p1\"" },
	{ "GET", "/fhir/Patient/p1/", NULL, NULL, NULL, NULL, 200,
	  "\"id\":\"p1\"" },
	{ "PUT", "/fhir/Patient/p1", NULL, "application/fhir+json", "W/\"2\"",
	  "{\"resourceType\":\"Patient\",\"id\":\"p1\"}", 412,
	  "the current version of Patient/p1 is 1" },
	{ "PUT", "/fhir/Patient/p1", NULL, "application/fhir+json", "W/\"1\"",
	  "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"male\"}",
	  200, "\"versionId\":\"2\"" },
	{ "GET", "/fhir/Patient/p1/_history/1", NULL, NULL, NULL, NULL, 200,
	  "\"gender\":\"other\"" },
	{ "GET", "/fhir/Patient/p1/_history/x", NULL, NULL, NULL, NULL, 404,
	  "version \\\"x\\\" of Patient/p1 is not known" },
	{ "GET", "/fhir/Patient/p1/_history", NULL, NULL, NULL, NULL, 200,
	  "\"type\":\"history\"" },
	{ "DELETE", "/fhir/Patient/p1", NULL, NULL, NULL, NULL, 200,
	  "Patient/p1 deleted (version 3)" },
	{ "GET", "/fhir/Patient/p1", NULL, NULL, NULL, NULL, 410,
	  "Patient/p1 was deleted" },
	{ "DELETE", "/fhir/Patient/p1", NULL, NULL, NULL, NULL, 200,
	  "Patient/p1 was already deleted" },
	{ "DELETE", "/fhir/Patient/p2", NULL, NULL, NULL, NULL, 404,
	  "nothing to delete" },
	/* Patient/p1 (male) is deleted by now: it matches nothing. */
	{ "GET", "/fhir/Patient?_summary=count", NULL, NULL, NULL, NULL, 200,
	  "\"type\":\"searchset\",\"total\":0," },
	{ "GET", "/fhir/Patient?gender=male", NULL, NULL, NULL, NULL, 200,
	  "\"total\":0," },
	{ "GET", "/fhir/Patient?gender=male&_id=p2", NULL, NULL, NULL, NULL,
	  200, "\"total\":0," },
	{ "GET", "/fhir/Patient?birthdate=notadate", NULL, NULL, NULL, NULL,
	  400, "is not a date" },
	{ "GET", "/fhir/patient/p1", NULL, NULL, NULL, NULL, 404,
	  "unknown resource type \\\"patient\\\"" },
	{ "GET", "/fhir/DomainResource/x", NULL, NULL, NULL, NULL, 404,
	  "unknown resource type" },
	{ "GET", "/fhir/MedicationOrder/x", NULL, NULL, NULL, NULL, 404,
	  "unknown resource type \\\"MedicationOrder\\\" in FHIR R4" },
	{ "GET", "/fhir/DSTU2/MedicationOrder/x", NULL, NULL, NULL, NULL, 404,
	  "MedicationOrder/x is not known" },
	{ "GET", "/fhir/Patient/a_b", NULL, NULL, NULL, NULL, 400,
	  "is not a valid FHIR id" },
	{ "GET", "/fhir/Patient/%zz", NULL, NULL, NULL, NULL, 400,
	  "malformed path" },
	{ "GET", "/fhir/Patient//x", NULL, NULL, NULL, NULL, 404,
	  "malformed path" },
	{ "GET", "/fhir/a/b/c/d/e/f", NULL, NULL, NULL, NULL, 404,
	  "malformed path" },
	{ "BREW", "/fhir/Patient/p1", NULL, NULL, NULL, NULL, 405,
	  "Allow: GET, HEAD, PUT, PATCH, DELETE" },
	{ "POST", "/fhir/Patient", NULL, "application/xml", NULL, "<x/>", 400,
	  "invalid XML" },
	{ "POST", "/fhir/Patient", NULL, "text/plain", NULL, "x", 415,
	  "Content-Type text/plain is not supported" },
	{ "POST", "/fhir/Patient", NULL, NULL, NULL, "{}", 415,
	  "a Content-Type is required" },
	{ "POST", "/fhir/Patient", NULL, "application/json", NULL,
	  "{\"resourceType\":\"Patient\",\"meta\":[]}", 400,
	  "meta must be an object" },
	{ "POST", "/fhir/Patient", NULL, "application/json", NULL,
	  "{\"resourceType\":\"Patient\",\"id\":7}", 400, "id must be a string" },
	{ "POST", "/fhir/Patient", NULL, "application/json", NULL,
	  "[1]", 400, "the body is not a JSON object" },
	{ "POST", "/fhir/Patient", "text/html", "application/json", NULL,
	  "{\"resourceType\":\"Patient\"}", 406, "this server answers" },
	{ "POST", "/fhir/Patient", "text/html, application/json;q=0.1",
	  "application/json", NULL, "{\"resourceType\":\"Patient\"}", 201,
	  "\"versionId\":\"1\"" },
	{ "GET", "/fhir/Patient?_summary=count", NULL, NULL, NULL, NULL, 200,
	  "\"total\":1," },
	{ "GET", "/fhir/Patient/p1/_history?_count=abc", NULL, NULL, NULL, NULL,
	  400, "_count must be a non-negative integer" },
	{ "POST", "/fhir", NULL, "application/fhir+json", NULL,
	  "{\"resourceType\":\"Bundle\"}", 400,
	  "Bundle.type must be batch or transaction" },
	{ "POST", "/fhir", NULL, "application/fhir+json", NULL,
	  "{\"resourceType\":\"Bundle\",\"type\":\"batch\"}", 200,
	  "\"type\":\"batch-response\",\"entry\":[]" },
	/* fullUrls name entries: the first two alike are named (GETs may
	 * share one), before any later fault. */
	{ "POST", "/fhir", NULL, "application/fhir+json", NULL,
	  "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
	  BUNDLE_POST("a") ",{\"fullUrl\":\"urn:uuid:a\",\"request\":{"
	  "\"method\":\"GET\",\"url\":\"Patient/p1\"}}," BUNDLE_POST("b") ","
	  BUNDLE_POST("a") "," BUNDLE_POST("b") ",{\"request\":{\"method\":"
	  "\"FETCH\",\"url\":\"Patient\"}}]}", 400,
	  "entries 0 and 3 have the same fullUrl urn:uuid:a" },
	{ "POST", "/fhir", NULL, "application/fhir+json", NULL,
	  "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
	  BUNDLE_POST("a") ",{\"request\":{\"method\":\"FETCH\",\"url\":"
	  "\"Patient\"}}," BUNDLE_POST("a") "]}", 400,
	  "method \\\"FETCH\\\" is not a Bundle method" },
	{ "POST", "/fhir", NULL, "application/fhir+json", NULL,
	  "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
	  BUNDLE_POST("a") "," BUNDLE_POST("a") "]}", 200,
	  "\"type\":\"batch-response\"" },
};

/*
 * Server-assigned ids: the time in microseconds, 9 base-62 digits in
 * ASCII order, then 13 random digits (each random byte modulo 62).  In
 * time order, the ids sort bytewise in the same order whatever their
 * random digits.
 */
static const struct {
	uint64_t	 us;
	unsigned char	 rnd;		/* every random byte */
	const char	*id;
} ids[] = {
	{ 0, 0, "0000000000000000000000" },
	{ 61, 61, "00000000zzzzzzzzzzzzzz" },
	{ 62, 62, "0000000100000000000000" },
	{ 1764100000000000ULL, 255, "84vy7ocFc7777777777777" },
	{ 13537086546263551ULL, 1, "zzzzzzzzz1111111111111" },
};

static int
id_chars(const char *id)
{
	return strlen(id) == 22 && strspn(id, "0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == 22;
}

static void
test_ids(void)
{
	unsigned char	rnd[CRUD_ID_RANDOM];
	char		id[23], prev[23] = "", a[23], b[23];
	size_t		i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		memset(rnd, ids[i].rnd, sizeof(rnd));
		crud_id_at(ids[i].us, rnd, id);
		is_str(id, ids[i].id, "id at %llu us, random bytes %u",
		    (unsigned long long)ids[i].us, ids[i].rnd);
		if (i > 0)
			ok(strcmp(prev, id) < 0, "%s sorts before %s", prev,
			    id);
		memcpy(prev, id, sizeof(prev));
	}
	is_int(crud_new_id(a), EMBER_OK, "a new id");
	usleep(2000);
	is_int(crud_new_id(b), EMBER_OK, "another, 2 ms later");
	ok(id_chars(a) && id_chars(b), "22 characters of [0-9A-Za-z]: %s %s",
	    a, b);
	ok(strcmp(a, b) < 0, "the later sorts after");
}

/*
 * A create made ready before its transaction (rest_prepare(), as
 * ember.fcgi does for the requests of a group): stored as made when no
 * write came between, else moved past that write's lastUpdated, in its
 * JSON and in its _lastUpdated key.  Either way it reads back as
 * stamped, and a search on its exact lastUpdated finds it.
 */
static const struct {
	const char	*label;
	int		 between;	/* another create first */
	const char	*ctype;
	int		 ready;		/* rest_prepare() makes it ready */
} prepared[] = {
	{ "ready, nothing between", 0, "application/fhir+json", 1 },
	{ "ready, a create between", 1, "application/fhir+json", 1 },
	{ "ready, a create between, again", 1, "application/json", 1 },
	{ "XML, a create between", 1, "application/fhir+xml", 1 },
};

/* Run rq; its status, and meta.lastUpdated and id of the body. */
static int
run(struct server *srv, struct rest_request *rq, char *lu, char *id)
{
	struct rest_response	 rs;
	const char		*p;
	size_t			 len;
	cJSON			*b;
	int			 status;

	status = rest_handle(srv, rq, &rs);
	rest_response_body(&rs, &p, &len);
	b = cJSON_ParseWithLength(p, len);
	snprintf(lu, 40, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(b, "meta"), "lastUpdated")) ?: "");
	if (id != NULL)
		snprintf(id, 40, "%s", cJSON_GetStringValue(
		    cJSON_GetObjectItem(b, "id")) ?: "");
	if (cJSON_GetObjectItem(b, "total") != NULL)
		status = status * 1000 + cJSON_GetObjectItem(b, "total")->valueint;
	cJSON_Delete(b);
	rest_response_free(&rs);
	return status;
}

static void
test_prepared(struct server *srv)
{
	struct rest_request	 rq, other, get;
	char			 lu[40], id[40], olu[40], uri[200], glu[40];
	size_t			 i;

	for (i = 0; i < sizeof(prepared) / sizeof(prepared[0]); i++) {
		memset(&rq, 0, sizeof(rq));
		rq.rq_method = "POST";
		rq.rq_uri = "/fhir/Patient";
		rq.rq_content_type = prepared[i].ctype;
		rq.rq_body = strstr(prepared[i].ctype, "xml") ?
		    "<Patient xmlns=\"http://hl7.org/fhir\"><gender "
		    "value=\"other\"/></Patient>" :
		    "{\"resourceType\":\"Patient\",\"gender\":\"other\"}";
		rq.rq_body_len = strlen(rq.rq_body);
		rest_prepare(srv, &rq);
		is_int(rq.rq_ready != NULL, prepared[i].ready, "%s: %s",
		    prepared[i].label, prepared[i].ready ? "made ready" :
		    "not made ready");
		olu[0] = '\0';
		if (prepared[i].between) {
			other = rq;
			other.rq_ready = NULL;
			other.rq_content_type = "application/fhir+json";
			other.rq_body = "{\"resourceType\":\"Patient\"}";
			other.rq_body_len = strlen(other.rq_body);
			is_int(run(srv, &other, olu, NULL), 201,
			    "%s: the create between", prepared[i].label);
		}
		rq.rq_accept = "application/fhir+json";
		is_int(run(srv, &rq, lu, id), 201, "%s: 201", prepared[i].label);
		ok(strlen(lu) == 27 && strcmp(lu, olu) > 0,
		    "%s: lastUpdated %s is past the one between (%s)",
		    prepared[i].label, lu, olu);
		memset(&get, 0, sizeof(get));
		get.rq_method = "GET";
		get.rq_uri = uri;
		snprintf(uri, sizeof(uri), "/fhir/Patient/%s", id);
		is_int(run(srv, &get, glu, NULL), 200, "%s: read it",
		    prepared[i].label);
		is_str(glu, lu, "%s: stored as answered", prepared[i].label);
		snprintf(uri, sizeof(uri), "/fhir/Patient?_id=%s&"
		    "_lastUpdated=%s&gender=other&_summary=count", id, lu);
		is_int(run(srv, &get, glu, NULL), 200001,
		    "%s: found by its exact lastUpdated", prepared[i].label);
		rest_unprepare(&rq);
	}
}

int
main(void)
{
	struct conf		 c;
	struct server		*srv;
	struct rest_request	 rq;
	struct rest_response	 rs;
	const char		*builddir = getenv("EMBER_BUILDDIR"), *p;
	char			 dir[] = "/tmp/ember-test-rest-XXXXXX", err[512];
	char			 all[65536], cmd[300];
	size_t			 i, len;
	int			 status;

	if (builddir == NULL)
		tap_skip_all("EMBER_BUILDDIR is not set (run through make check)");
	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary folder");
	test_ids();
	conf_defaults(&c);
	snprintf(c.cf_data_dir, sizeof(c.cf_data_dir), "%s", dir);
	snprintf(c.cf_tables_dir, sizeof(c.cf_tables_dir), "%s/schemas",
	    builddir);
	c.cf_map_size_mb = 64;
	if (server_open(&c, &srv, err, sizeof(err)) != EMBER_OK) {
		printf("Bail out! server_open: %s\n", err);
		return 1;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&rq, 0, sizeof(rq));
		rq.rq_method = cases[i].method;
		rq.rq_uri = cases[i].uri;
		rq.rq_origin = "http://test.example";
		rq.rq_accept = cases[i].accept;
		rq.rq_content_type = cases[i].ctype;
		rq.rq_if_match = cases[i].if_match;
		rq.rq_body = cases[i].body;
		rq.rq_body_len = cases[i].body ? strlen(cases[i].body) : 0;
		status = rest_handle(srv, &rq, &rs);
		rest_response_body(&rs, &p, &len);
		snprintf(all, sizeof(all), "%.*s\r\n%.*s",
		    (int)rs.rs_headers.len, rs.rs_headers.data ?
		    rs.rs_headers.data : "", (int)len, p);
		is_int(status, cases[i].status, "%s %s: %d", cases[i].method,
		    cases[i].uri, cases[i].status);
		if (!ok(strstr(all, cases[i].expect) != NULL, "%s %s: has %s",
		    cases[i].method, cases[i].uri, cases[i].expect))
			tap_diag("response: %.400s", all);
		rest_response_free(&rs);
	}
	test_prepared(srv);
	server_close(srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	tap_done();
	return tap_exit();
}
