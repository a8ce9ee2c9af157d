/*
 * fuzz-fhirpath.c: the FHIRPath compiler and evaluator (src/fhirpath.h)
 * on the R4 tables.
 *
 * The input is an expression.  Its focus type is the resource type it
 * starts with (`Observation.value`), else Patient.  It is compiled in
 * the four modes (plain, FHIRPATH_SEARCH, FHIRPATH_LENIENT, both), and
 * relative to the composite context `Observation | Observation.component`.
 * Every program the compiler writes must pass fhirpath_check(),
 * disassemble, and evaluate on a fixed resource of its type without an
 * error other than the evaluation limits; every value it yields must
 * have a JSON node and a type name.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "fhirpath.h"
#include "json.h"
#include "tables.h"

#include "fuzz.h"

static const char fuzz_patient[] =
	"{\"resourceType\":\"Patient\",\"id\":\"pt\",\"meta\":{\"versionId\":"
	"\"1\",\"profile\":[\"urn:p\"]},\"extension\":[{\"url\":\"urn:e\","
	"\"valueString\":\"x\"},{\"url\":\"urn:d\",\"valueDecimal\":2.50}],"
	"\"active\":true,\"identifier\":[{\"system\":\"urn:t\",\"value\":"
	"\"p1\"}],\"name\":[{\"use\":\"official\",\"family\":\"Doe\","
	"\"given\":[\"Ann\",\"B.\"]},{\"given\":[\"Annie\"]}],"
	"\"birthDate\":\"1980-02-01\",\"_birthDate\":{\"extension\":"
	"[{\"url\":\"urn:b\",\"valueBoolean\":true}]},"
	"\"deceasedBoolean\":false,\"managingOrganization\":{\"reference\":"
	"\"Organization/o1\"},\"link\":[{\"other\":{\"reference\":"
	"\"Patient/other\"},\"type\":\"seealso\"}],"
	"\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"c\"}]}";
static const char fuzz_observation[] =
	"{\"resourceType\":\"Observation\",\"id\":\"obs\",\"status\":"
	"\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
	"\"code\":\"29463-7\"}],\"text\":\"weight\"},\"subject\":"
	"{\"reference\":\"Patient/pt\"},\"effectivePeriod\":{\"start\":"
	"\"2024-01-02\"},\"valueQuantity\":{\"value\":72.50,\"unit\":\"kg\","
	"\"system\":\"http://unitsofmeasure.org\",\"code\":\"kg\"},"
	"\"component\":[{\"code\":{\"text\":\"a\"},\"valueString\":\"x\"},"
	"{\"code\":{\"text\":\"b\"},\"valueQuantity\":{\"value\":1e2}}]}";

static struct tables		*fuzz_t;
static struct fhirpath_program	*fuzz_context;
static cJSON			*fuzz_doc_patient, *fuzz_doc_observation;
static unsigned			 fuzz_type_patient, fuzz_type_observation;
static FILE			*fuzz_null;

static void
fuzz_fhirpath_free(void)
{
	fhirpath_program_free(fuzz_context);
	cJSON_Delete(fuzz_doc_patient);
	cJSON_Delete(fuzz_doc_observation);
	if (fuzz_null != NULL)
		fclose(fuzz_null);
}

static void
fuzz_fhirpath_init(void)
{
	static const char ctx[] = "Observation | Observation.component";
	char err[256];

	fuzz_t = fuzz_tables("r4");
	if (tables_type_lookup(fuzz_t, "Patient", 7, &fuzz_type_patient) ||
	    tables_type_lookup(fuzz_t, "Observation", 11,
	    &fuzz_type_observation))
		fuzz_fail("R4 tables without Patient or Observation");
	if (json_parse(fuzz_patient, strlen(fuzz_patient), 100,
	    &fuzz_doc_patient, NULL, 0) ||
	    json_parse(fuzz_observation, strlen(fuzz_observation), 100,
	    &fuzz_doc_observation, NULL, 0))
		fuzz_fail("fixed resources do not parse");
	if (fhirpath_compile(fuzz_t, ctx, strlen(ctx), fuzz_type_observation,
	    NULL, FHIRPATH_SEARCH, &fuzz_context, err, sizeof(err)))
		fuzz_fail("context: %s", err);
	if ((fuzz_null = fopen("/dev/null", "w")) == NULL)
		fuzz_fail("/dev/null");
	atexit(fuzz_fhirpath_free);
}

static int
fuzz_visit(const struct fhirpath_value *v, void *arg)
{
	size_t *n = arg;

	if (v->json == NULL || v->type_name == NULL)
		fuzz_fail("fhirpath value without a node or a type name");
	if (++*n > 100000)
		fuzz_fail("fhirpath evaluation yields too much");
	return 0;
}

/* The resource type an expression starts with, else Patient. */
static unsigned
fuzz_focus(const char *expr, size_t len)
{
	unsigned	ti, ri;
	size_t		n = 0;

	while (n < len && ((expr[n] >= 'A' && expr[n] <= 'Z') ||
	    (expr[n] >= 'a' && expr[n] <= 'z')))
		n++;
	if (n > 0 && tables_resource_lookup(fuzz_t, expr, n, &ri) == EMBER_OK &&
	    (ti = tables_resource_type(fuzz_t, ri)) != TABLES_NONE)
		return ti;
	return fuzz_type_patient;
}

static void
fuzz_run(const char *expr, size_t len, unsigned type,
    const struct fhirpath_program *context, unsigned flags)
{
	struct fhirpath_program	*p = NULL;
	struct tables_program	 code;
	struct fhirpath_value	 focus;
	cJSON			*doc = NULL, *own = NULL;
	char			 err[512] = "";
	size_t			 n = 0;
	int			 rc;

	rc = fhirpath_compile(fuzz_t, expr, len, type, context, flags, &p,
	    err, sizeof(err));
	if (rc != EMBER_OK) {
		if (rc != EMBER_EINVAL && rc != EMBER_ENOTFOUND)
			fuzz_fail("fhirpath_compile: unexpected %s (%s)",
			    ember_strerror(rc), err);
		if (p != NULL)
			fuzz_fail("fhirpath_compile failed with a program");
		return;
	}
	fhirpath_program_code(p, &code);
	if (fhirpath_check(fuzz_t, &code) != EMBER_OK)
		fuzz_fail("compiled program fails fhirpath_check: %.*s",
		    (int)len, expr);
	if (fhirpath_disasm(fuzz_null, fuzz_t, &code, "") != EMBER_OK)
		fuzz_fail("compiled program does not disassemble");
	(void)fhirpath_program_warnings(p);
	(void)fhirpath_program_type(p);
	(void)fhirpath_program_branches(p, 0, NULL);

	if (type == fuzz_type_patient)
		doc = fuzz_doc_patient;
	else if (type == fuzz_type_observation)
		doc = fuzz_doc_observation;
	else {
		if ((own = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddStringToObject(own, "resourceType",
		    tables_type_name(fuzz_t, type)) ||
		    !cJSON_AddStringToObject(own, "id", "x"))
			fuzz_fail("out of memory");
		doc = own;
	}
	if (context == NULL)
		rc = fhirpath_eval(fuzz_t, &code, doc, fuzz_visit, &n);
	else {
		memset(&focus, 0, sizeof(focus));
		focus.json = doc;
		focus.type = type;
		focus.element = TABLES_NONE;
		focus.type_name = tables_type_name(fuzz_t, type);
		rc = fhirpath_eval_focus(fuzz_t, &code, doc, &focus,
		    fuzz_visit, &n);
	}
	/* ETABLES is also "exceeds the evaluation limits". */
	if (rc != EMBER_OK && rc != EMBER_ETABLES)
		fuzz_fail("fhirpath_eval: %s", ember_strerror(rc));
	cJSON_Delete(own);
	fhirpath_program_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*expr = fuzz_dup(data, size);
	unsigned	 type, flags;

	if (fuzz_t == NULL)
		fuzz_fhirpath_init();
	type = fuzz_focus(expr, size);
	for (flags = 0; flags < 4; flags++)
		fuzz_run(expr, size, type, NULL, flags);
	fuzz_run(expr, size, fuzz_type_observation, fuzz_context, 0);
	free(expr);
	return 0;
}
