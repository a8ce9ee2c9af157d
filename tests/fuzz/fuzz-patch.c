/*
 * fuzz-patch.c: JSON Patch and FHIRPath Patch (src/patch.h) on fixed
 * resources.
 *
 * The input is JSON: a JSON Patch document (an array) for patch_json()
 * or a FHIRPath Patch Parameters resource for patch_fhirpath() (R4
 * tables); both functions get every input, so each must refuse the
 * other's shape.  Each is applied to a fresh copy of a
 * fixed Patient and of a fixed Observation (choice elements).  A patch
 * that succeeds must leave a tree that writes out as JSON which parses
 * back with no duplicate key; one that fails must say why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "patch.h"
#include "tables.h"

#include "fuzz.h"

static const char *const fuzz_patch_docs[] = {
	"{\"resourceType\":\"Patient\",\"id\":\"pt\",\"meta\":{\"versionId\":"
	"\"2\",\"lastUpdated\":\"2024-01-02T03:04:05.000006Z\"},\"active\":"
	"true,\"identifier\":[{\"system\":\"urn:t\",\"value\":\"p1\"}],"
	"\"name\":[{\"use\":\"official\",\"family\":\"Doe\",\"given\":"
	"[\"Ann\",\"B.\"]},{\"use\":\"nickname\",\"given\":[\"Annie\"]}],"
	"\"telecom\":[{\"system\":\"phone\",\"value\":\"555\"}],"
	"\"birthDate\":\"1980-02-01\",\"deceasedBoolean\":false,"
	"\"extension\":[{\"url\":\"urn:d\",\"valueDecimal\":2.50}],"
	"\"contact\":[{\"name\":{\"family\":\"Roe\"}}]}",
	"{\"resourceType\":\"Observation\",\"id\":\"obs\",\"status\":"
	"\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
	"\"code\":\"29463-7\"}],\"text\":\"weight\"},\"subject\":"
	"{\"reference\":\"Patient/pt\"},\"effectiveDateTime\":"
	"\"2024-01-02\",\"valueQuantity\":{\"value\":72.50,\"unit\":\"kg\"},"
	"\"component\":[{\"code\":{\"text\":\"a\"},\"valueString\":\"x\"},"
	"{\"code\":{\"text\":\"b\"},\"valueInteger\":3}]}",
};

static void
fuzz_patch_one(const char *doc_text, const cJSON *patch, int json_patch)
{
	cJSON		*doc = NULL, *again = NULL;
	struct buf	 b = BUF_INIT;
	char		 err[512] = "";
	int		 rc;

	if (json_parse(doc_text, strlen(doc_text), 100, &doc, NULL, 0))
		fuzz_fail("fixed resource does not parse");
	rc = json_patch ? patch_json(doc, patch, err, sizeof(err)) :
	    patch_fhirpath(doc, patch, fuzz_tables("r4"), err, sizeof(err));
	if (rc != EMBER_OK) {
		if (rc != EMBER_EINVAL && rc != EMBER_EUNPROCESSABLE)
			fuzz_fail("patch: unexpected %s (%s)",
			    ember_strerror(rc), err);
		if (err[0] == '\0')
			fuzz_fail("patch failed (%s) without a reason",
			    ember_strerror(rc));
		goto done;
	}
	if (json_write(&b, doc, 0) != EMBER_OK)
		fuzz_fail("json_write failed");
	if ((rc = json_parse(b.data, b.len, 10000, &again, err, sizeof(err))))
		fuzz_fail("patched resource is not JSON (%s): %.*s", err,
		    (int)b.len, b.data);
done:
	cJSON_Delete(again);
	cJSON_Delete(doc);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text = fuzz_dup(data, size);
	cJSON	*patch = NULL;
	size_t	 i;

	/* Both formats see every input: the wrong shape must be refused. */
	if (json_parse(text, size, 100, &patch, NULL, 0) == EMBER_OK)
		for (i = 0; i < sizeof(fuzz_patch_docs) /
		    sizeof(fuzz_patch_docs[0]); i++) {
			fuzz_patch_one(fuzz_patch_docs[i], patch, 1);
			fuzz_patch_one(fuzz_patch_docs[i], patch, 0);
		}
	cJSON_Delete(patch);
	free(text);
	return 0;
}
