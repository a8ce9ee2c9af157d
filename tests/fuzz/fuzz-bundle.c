/*
 * fuzz-bundle.c: batch and transaction Bundles (src/bundle.h), through
 * rest_handle() as POST /fhir (R4) with the input as the JSON body, on
 * a fresh copy of the small store of fuzz.h (max_entries 100, an 8 MB
 * map).  The answer must pass fuzz_check_response(); a 200 must be a
 * batch-response or transaction-response Bundle.  FUZZ_VERBOSE=1 in
 * the environment prints the status and the start of the answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "json.h"
#include "rest.h"
#include "server.h"

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char			*body = fuzz_dup(data, size);
	struct server		*srv = fuzz_server_begin();
	struct rest_request	 rq;
	struct rest_response	 rs;
	const char		*out, *type;
	size_t			 len;
	cJSON			*tree;
	int			 status;

	memset(&rq, 0, sizeof(rq));
	rq.rq_method = "POST";
	rq.rq_uri = "/fhir";
	rq.rq_origin = "http://fuzz.example";
	rq.rq_content_type = "application/fhir+json";
	rq.rq_prefer = "return=representation";
	rq.rq_body = body;
	rq.rq_body_len = size;
	status = rest_handle(srv, &rq, &rs);
	if (getenv("FUZZ_VERBOSE") != NULL) {
		rest_response_body(&rs, &out, &len);
		fprintf(stderr, "POST /fhir -> %d %.*s\n", status,
		    (int)(len > 300 ? 300 : len), out);
	}
	fuzz_check_response(&rs, status, "POST /fhir");
	if (status == 200) {
		rest_response_body(&rs, &out, &len);
		if (json_parse(out, len, 10000, &tree, NULL, 0) != EMBER_OK)
			fuzz_fail("200 without JSON");
		type = json_string(tree, "type");
		if (type == NULL || (strcmp(type, "batch-response") != 0 &&
		    strcmp(type, "transaction-response") != 0))
			fuzz_fail("200 without a response Bundle: %.*s",
			    (int)len, out);
		cJSON_Delete(tree);
	}
	rest_response_free(&rs);
	fuzz_server_end(srv);
	free(body);
	return 0;
}
