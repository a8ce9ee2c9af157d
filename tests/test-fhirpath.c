/*
 * test-fhirpath.c: the FHIRPath subset compiler and evaluator.
 *
 * Table-driven: each case is (resource type, expression, mode, JSON
 * resource, expected values), compiled against the small hand-written
 * tables in tests/data/tables/mini (built by make into
 * $EMBER_BUILDDIR/tests/data/mini.tables) and evaluated.  Values are
 * rendered "type=value" and joined with " | "; objects are printed as
 * unformatted JSON.  Then the compile errors, hostile JSON, corrupt
 * programs and the callback protocol.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "fhirpath.h"
#include "tables.h"
#include "tap.h"

#define S	FHIRPATH_SEARCH
#define L	FHIRPATH_LENIENT

struct render {
	char	buf[4096];
	size_t	len;
	int	stop_after;	/* stop with 42 after this many; 0: never */
	int	count;
};

static void
render_add(struct render *r, const char *s)
{
	size_t n = strlen(s);

	if (r->len + n + 1 >= sizeof(r->buf))
		n = sizeof(r->buf) - r->len - 1;
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

static int
render_visit(const struct fhirpath_value *v, void *arg)
{
	struct render *r = arg;
	char tmp[64];
	char *js = NULL;

	if (r->len > 0)
		render_add(r, " | ");
	render_add(r, v->type_name[0] ? v->type_name : "?");
	render_add(r, "=");
	if (cJSON_IsString(v->json))
		render_add(r, v->json->valuestring);
	else if (cJSON_IsNumber(v->json)) {
		snprintf(tmp, sizeof(tmp), "%g", v->json->valuedouble);
		render_add(r, tmp);
	} else if (cJSON_IsTrue(v->json))
		render_add(r, "true");
	else if (cJSON_IsFalse(v->json))
		render_add(r, "false");
	else if ((js = cJSON_PrintUnformatted(v->json)) != NULL) {
		render_add(r, js);
		cJSON_free(js);
	} else
		render_add(r, "?");
	r->count++;
	if (r->stop_after && r->count >= r->stop_after)
		return 42;
	return 0;
}

static const char *builddir;
static char mini_path[4096];

static int
type_index(const struct tables *t, const char *name)
{
	unsigned idx;

	if (tables_type_lookup(t, name, strlen(name), &idx) != EMBER_OK)
		return -1;
	return (int)idx;
}

/* Compile and evaluate; the rendering goes to r.  Returns the rc. */
static int
run(const struct tables *t, const char *type, const char *expr,
    unsigned flags, const char *json, struct render *r, char *err,
    size_t errsize)
{
	struct fhirpath_program *p = NULL;
	struct tables_program code;
	cJSON *doc;
	int rc, ti = type_index(t, type);

	memset(r, 0, sizeof(*r));
	if (ti < 0)
		return -1;
	rc = fhirpath_compile(t, expr, strlen(expr), (unsigned)ti, NULL, flags,
	    &p, err, errsize);
	if (rc != EMBER_OK)
		return rc;
	if ((doc = cJSON_Parse(json)) == NULL) {
		fhirpath_program_free(p);
		return -2;
	}
	fhirpath_program_code(p, &code);
	rc = fhirpath_eval(t, &code, doc, render_visit, r);
	cJSON_Delete(doc);
	fhirpath_program_free(p);
	return rc;
}

/* ---- evaluation cases ---- */

#define PAT1 "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"active\":true," \
	"\"gender\":\"male\"," \
	"\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"M1\"}," \
	"{\"system\":\"urn:ssn\",\"value\":\"S1\"}," \
	"{\"system\":\"urn:abc\",\"value\":\"A1\"}]," \
	"\"name\":[{\"use\":\"official\",\"family\":\"Chalmers\"," \
	"\"given\":[\"Peter\",\"James\"]},{\"use\":\"usual\"," \
	"\"given\":[\"Jim\"]},{\"family\":\"Windsor\"," \
	"\"given\":[\"Peter\"]}]," \
	"\"extension\":[{\"url\":\"http://example.org/nickname\"," \
	"\"valueString\":\"Bob\"},{\"url\":\"http://example.org/other\"," \
	"\"valueBoolean\":false},{\"url\":\"http://example.org/nickname\"," \
	"\"valueString\":\"Bobby\"}]," \
	"\"link\":[{\"other\":{\"reference\":\"Patient/p2\"}," \
	"\"type\":\"seealso\"}]}"

#define OBS(value) "{\"resourceType\":\"Observation\",\"id\":\"o1\"," \
	"\"status\":\"final\",\"code\":{\"text\":\"weight\"}," value "}"

static const struct evalcase {
	const char	*type;
	const char	*expr;
	unsigned	 flags;
	const char	*json;
	const char	*want;
} evalcases[] = {
	/* member access, arrays flattened, primitives typed */
	{ "Patient", "Patient.name.given", S, PAT1,
	    "string=Peter | string=James | string=Jim | string=Peter" },
	{ "Patient", "Patient.name.family", S, PAT1,
	    "string=Chalmers | string=Windsor" },
	{ "Patient", "Patient.gender", S, PAT1, "code=male" },
	{ "Patient", "Patient.active", S, PAT1, "boolean=true" },
	{ "Patient", "Resource.id", S, PAT1, "string=p1" },
	{ "Patient", "Patient.link.other", S, PAT1,
	    "Reference={\"reference\":\"Patient/p2\"}" },
	{ "Patient", "Patient.`name`.family", 0, PAT1,
	    "string=Chalmers | string=Windsor" },
	{ "Patient", "name.family", 0, PAT1,
	    "string=Chalmers | string=Windsor" },
	/* union keeps order and drops duplicates (same node) */
	{ "Patient", "Patient.name.family | Patient.name.family", S, PAT1,
	    "string=Chalmers | string=Windsor" },
	{ "Patient", "Patient.gender | Patient.id", S, PAT1,
	    "code=male | string=p1" },
	/* where() with = on a string, then a member */
	{ "Patient", "Patient.identifier.where(system='urn:mrn').value", S,
	    PAT1, "string=M1" },
	{ "Patient", "Patient.identifier.where(system!='urn:mrn').value", S,
	    PAT1, "string=S1 | string=A1" },
	{ "Patient", "Patient.identifier.where(system = 'urn:\\u0061bc').value",
	    S, PAT1, "string=A1" },
	{ "Patient", "Patient.name.where(given = 'Jim').use", S, PAT1,
	    "code=usual" },
	{ "Patient", "Patient.name.given.where($this = 'Jim')", S, PAT1,
	    "string=Jim" },
	{ "Patient", "Patient.name.where(use.empty()).family", S, PAT1,
	    "string=Windsor" },
	{ "Patient", "Patient.name.where(use.exists().not()).given", S, PAT1,
	    "string=Peter" },
	{ "Patient", "Patient.name.where(given.count() > 1).family", S, PAT1,
	    "string=Chalmers" },
	{ "Patient", "Patient.name.where(given.exists($this = 'James')).use",
	    S, PAT1, "code=official" },
	{ "Patient", "Patient.name.where(use = 'usual' or family = 'Windsor')"
	    ".given", S, PAT1, "string=Jim | string=Peter" },
	{ "Patient", "Patient.name.where(use = 'official' and "
	    "family = 'Chalmers').given.first()", S, PAT1, "string=Peter" },
	{ "Patient", "Patient.name.where(use = 'official' xor "
	    "family = 'Windsor').given", S, PAT1,
	    "string=Peter | string=James" },
	{ "Patient", "Patient.name.where(use = 'usual' implies "
	    "given = 'Jim').family", S, PAT1, "string=Chalmers" },
	{ "Patient", "Patient.name.where(%resource.active = true).family", S,
	    PAT1, "string=Chalmers | string=Windsor" },
	{ "Patient", "Patient.gender ~ 'MALE'", 0, PAT1, "boolean=true" },
	{ "Patient", "Patient.gender !~ 'MALE'", 0, PAT1, "boolean=false" },
	{ "Patient", "Patient.gender = 'MALE'", 0, PAT1, "boolean=false" },
	{ "Patient", "Patient.id < 'p2' and Patient.id >= 'p1'", 0, PAT1,
	    "boolean=true" },
	/* indexers, first(), last(), count() */
	{ "Patient", "Patient.name[1].given", S, PAT1, "string=Jim" },
	{ "Patient", "Patient.name[7].given", S, PAT1, "" },
	{ "Patient", "Patient.name.given[3]", S, PAT1, "string=Peter" },
	{ "Patient", "Patient.name.first().family", S, PAT1,
	    "string=Chalmers" },
	{ "Patient", "Patient.name.last().family", S, PAT1, "string=Windsor" },
	{ "Patient", "Patient.name.given.count()", 0, PAT1, "integer=4" },
	{ "Patient", "Patient.link.empty()", 0, PAT1, "boolean=false" },
	{ "Patient", "Patient.contained.empty()", 0, PAT1, "boolean=true" },
	/* extension('url'), hasExtension('url') */
	{ "Patient", "Patient.extension('http://example.org/nickname').value",
	    S, PAT1, "string=Bob | string=Bobby" },
	{ "Patient", "Patient.extension('http://example.org/other')", S, PAT1,
	    "Extension={\"url\":\"http://example.org/other\","
	    "\"valueBoolean\":false}" },
	{ "Patient", "Patient.extension('http://example.org/none').value", S,
	    PAT1, "" },
	{ "Patient", "Patient.where(hasExtension('http://example.org/other'))"
	    ".id", S, PAT1, "string=p1" },
	{ "Patient", "Patient.where(hasExtension('http://example.org/x')).id",
	    S, PAT1, "" },
	{ "Patient", "Patient.extension.where(url = 'http://example.org/other')"
	    ".value.ofType(boolean)", S, PAT1, "boolean=false" },
	/* choice elements */
	{ "Patient", "Patient.deceased", S,
	    "{\"resourceType\":\"Patient\",\"deceasedBoolean\":true}",
	    "boolean=true" },
	{ "Patient", "Patient.deceased", S,
	    "{\"resourceType\":\"Patient\",\"deceasedDateTime\":\"2015\"}",
	    "dateTime=2015" },
	{ "Patient", "(Patient.deceased as dateTime)", S,
	    "{\"resourceType\":\"Patient\",\"deceasedDateTime\":\"2015\"}",
	    "dateTime=2015" },
	{ "Patient", "(Patient.deceased as dateTime)", S,
	    "{\"resourceType\":\"Patient\",\"deceasedBoolean\":true}", "" },
	{ "Patient", "Patient.deceased.ofType(DateTime)", S,
	    "{\"resourceType\":\"Patient\",\"deceasedDateTime\":\"2015\"}",
	    "dateTime=2015" },
	{ "Patient", "Patient.deceased.as(System.DateTime)", S,
	    "{\"resourceType\":\"Patient\",\"deceasedDateTime\":\"2015\"}",
	    "dateTime=2015" },
	{ "Patient", "Patient.deceasedDateTime", S,
	    "{\"resourceType\":\"Patient\",\"deceasedDateTime\":\"2015\"}",
	    "dateTime=2015" },
	/* deceased: exists() and != false, three-valued */
	{ "Patient", "Patient.deceased.exists() and Patient.deceased != false",
	    S, "{\"resourceType\":\"Patient\",\"deceasedBoolean\":true}",
	    "boolean=true" },
	{ "Patient", "Patient.deceased.exists() and Patient.deceased != false",
	    S, "{\"resourceType\":\"Patient\",\"deceasedBoolean\":false}",
	    "boolean=false" },
	{ "Patient", "Patient.deceased.exists() and Patient.deceased != false",
	    S, "{\"resourceType\":\"Patient\",\"deceasedDateTime\":\"2015\"}",
	    "boolean=true" },
	{ "Patient", "Patient.deceased.exists() and Patient.deceased != false",
	    S, "{\"resourceType\":\"Patient\"}", "boolean=false" },
	{ "Observation", "Observation.value.as(Quantity)", S,
	    OBS("\"valueQuantity\":{\"value\":5,\"unit\":\"kg\"}"),
	    "Quantity={\"value\":5,\"unit\":\"kg\"}" },
	{ "Observation", "(Observation.value as Quantity).value", S,
	    OBS("\"valueQuantity\":{\"value\":5,\"unit\":\"kg\"}"),
	    "decimal=5" },
	{ "Observation", "Observation.value.ofType(Quantity).unit", S,
	    OBS("\"valueAge\":{\"value\":30,\"unit\":\"a\"}"), "string=a" },
	{ "Observation", "Observation.value.ofType(Age).unit", S,
	    OBS("\"valueQuantity\":{\"value\":30,\"unit\":\"kg\"}"), "" },
	{ "Observation", "Observation.value.ofType(FHIR.Age).unit", S,
	    OBS("\"valueAge\":{\"value\":30,\"unit\":\"a\"}"), "string=a" },
	{ "Observation", "Observation.value", S, OBS("\"valueString\":\"ok\""),
	    "string=ok" },
	{ "Observation", "Observation.value", S,
	    OBS("\"valueCodeableConcept\":{\"text\":\"pos\"}"),
	    "CodeableConcept={\"text\":\"pos\"}" },
	{ "Observation", "Observation.value.ofType(string)", S,
	    OBS("\"valueString\":\"ok\""), "string=ok" },
	{ "Observation", "Observation.value.ofType(string)", S,
	    OBS("\"valueBoolean\":true"), "" },
	{ "Observation", "Observation.value.ofType(dateTime) | "
	    "Observation.value.ofType(Period)", S,
	    OBS("\"valuePeriod\":{\"start\":\"2020\"}"),
	    "Period={\"start\":\"2020\"}" },
	{ "Observation", "Observation.value.as(Quantity).value > 4", 0,
	    OBS("\"valueQuantity\":{\"value\":5}"), "boolean=true" },
	{ "Observation", "Observation.value.as(Quantity).value <= 4.5", 0,
	    OBS("\"valueQuantity\":{\"value\":5}"), "boolean=false" },
	{ "Observation", "Observation.value.as(Quantity).value = -2", 0,
	    OBS("\"valueQuantity\":{\"value\":-2}"), "boolean=true" },
	/* is: a boolean; as a search branch it yields only true */
	{ "Observation", "Observation.value.is(Quantity)", 0,
	    OBS("\"valueString\":\"x\""), "boolean=false" },
	{ "Observation", "Observation.value is Quantity", 0,
	    OBS("\"valueAge\":{\"value\":1}"), "boolean=true" },
	{ "Observation", "Observation.value.is(Quantity)", S,
	    OBS("\"valueString\":\"x\""), "" },
	{ "Observation", "Observation.value.as(boolean) | "
	    "Observation.value.is(string)", S, OBS("\"valueString\":\"x\""),
	    "boolean=true" },
	{ "Observation", "Observation.value.as(boolean) | "
	    "Observation.value.is(string)", S, OBS("\"valueBoolean\":false"),
	    "boolean=false" },
	{ "Observation", "Observation.component.exists() or "
	    "Observation.value.is(Quantity)", S, OBS("\"valueString\":\"x\""),
	    "boolean=false" },
	/* relative branch, union inside parentheses, first() */
	{ "Observation", "(effective.ofType(dateTime) | "
	    "effective.ofType(Period).start).first()", S,
	    OBS("\"effectivePeriod\":{\"start\":\"2021-01\"}"),
	    "dateTime=2021-01" },
	{ "Observation", "(effective.ofType(dateTime) | "
	    "effective.ofType(Period).start).first()", S,
	    OBS("\"effectiveDateTime\":\"2022\""), "dateTime=2022" },
	/* resolve() is T */
	{ "Observation", "Observation.subject.where(resolve() is Patient)", S,
	    OBS("\"subject\":{\"reference\":\"Patient/123\"}"),
	    "Reference={\"reference\":\"Patient/123\"}" },
	{ "Observation", "Observation.subject.where(resolve() is Patient)", S,
	    OBS("\"subject\":{\"reference\":\"Group/123\"}"), "" },
	{ "Observation", "Observation.subject.where(resolve() is Group)", S,
	    OBS("\"subject\":{\"reference\":\"Group/123\"}"),
	    "Reference={\"reference\":\"Group/123\"}" },
	{ "Observation", "Observation.subject.where(resolve() is Patient)", S,
	    OBS("\"subject\":{\"reference\":"
	    "\"http://x.org/fhir/Patient/9\"}"),
	    "Reference={\"reference\":\"http://x.org/fhir/Patient/9\"}" },
	{ "Observation", "Observation.subject.where(resolve() is Patient)", S,
	    OBS("\"subject\":{\"reference\":\"Patient/9/_history/2\"}"),
	    "Reference={\"reference\":\"Patient/9/_history/2\"}" },
	{ "Observation", "Observation.subject.where(resolve() is Patient)", S,
	    OBS("\"subject\":{\"reference\":\"urn:uuid:61ebe359-bfdc-4613-"
	    "8bf2-c5e300945f0a\"}"), "" },
	{ "Observation", "Observation.subject.where(resolve() is Patient)", S,
	    OBS("\"subject\":{\"reference\":\"123\"}"), "" },
	{ "Observation", "Observation.subject.where(resolve() is Patient)", S,
	    OBS("\"subject\":{\"display\":\"no reference\"}"), "" },
	{ "Observation", "Observation.subject.where(resolve() is Patient)", S,
	    OBS("\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"p\"}],"
	    "\"subject\":{\"reference\":\"#p\"}"),
	    "Reference={\"reference\":\"#p\"}" },
	{ "Observation", "Observation.subject.where(resolve() is Group)", S,
	    OBS("\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"p\"}],"
	    "\"subject\":{\"reference\":\"#p\"}"), "" },
	{ "Observation", "Observation.subject.where(resolve() is Resource)", S,
	    OBS("\"subject\":{\"reference\":\"Group/1\"}"),
	    "Reference={\"reference\":\"Group/1\"}" },
	/* multi-base: each base gets only its own branches */
	{ "Observation", "Observation.subject.where(resolve() is Patient) | "
	    "Group.member.entity.where(resolve() is Patient)", S,
	    OBS("\"subject\":{\"reference\":\"Patient/1\"}"),
	    "Reference={\"reference\":\"Patient/1\"}" },
	{ "Group", "Observation.subject.where(resolve() is Patient) | "
	    "Group.member.entity.where(resolve() is Patient)", S,
	    "{\"resourceType\":\"Group\",\"member\":[{\"entity\":{\"reference\":"
	    "\"Patient/1\"}},{\"entity\":{\"reference\":\"Group/2\"}}]}",
	    "Reference={\"reference\":\"Patient/1\"}" },
	{ "Group", "Group.member.where(inactive.empty() or inactive = false)"
	    ".entity", S,
	    "{\"resourceType\":\"Group\",\"member\":[{\"entity\":{\"reference\":"
	    "\"Patient/1\"},\"inactive\":true},{\"entity\":{\"reference\":"
	    "\"Patient/2\"}},{\"entity\":{\"reference\":\"Patient/3\"},"
	    "\"inactive\":false}]}",
	    "Reference={\"reference\":\"Patient/2\"} | "
	    "Reference={\"reference\":\"Patient/3\"}" },
	/* resources inside resources: as / ofType on Resource */
	{ "Bundle", "Bundle.entry[0].resource as Patient", S,
	    "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":"
	    "{\"resourceType\":\"Patient\",\"id\":\"a\"}}]}",
	    "Patient={\"resourceType\":\"Patient\",\"id\":\"a\"}" },
	{ "Bundle", "Bundle.entry[0].resource as Patient", S,
	    "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":"
	    "{\"resourceType\":\"Group\",\"id\":\"a\"}},{\"resource\":"
	    "{\"resourceType\":\"Patient\",\"id\":\"b\"}}]}", "" },
	{ "Bundle", "(Bundle.entry.resource as Patient).name.family", S,
	    "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":"
	    "{\"resourceType\":\"Group\",\"id\":\"a\"}},{\"resource\":"
	    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"F\"}]}}]}",
	    "string=F" },
	{ "Bundle", "Bundle.entry.resource.ofType(Observation).code.text", S,
	    "{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":"
	    OBS("\"valueString\":\"x\"") "},{\"resource\":"
	    "{\"resourceType\":\"Patient\"}}]}", "string=weight" },
	/* contentReference: item.item is an item */
	{ "Questionnaire", "Questionnaire.item.text | "
	    "Questionnaire.item.item.text", S,
	    "{\"resourceType\":\"Questionnaire\",\"item\":[{\"linkId\":\"1\","
	    "\"text\":\"A\",\"item\":[{\"linkId\":\"1.1\",\"text\":\"B\","
	    "\"item\":[{\"linkId\":\"1.1.1\",\"text\":\"C\"}]}]}]}",
	    "string=A | string=B" },
	{ "Questionnaire", "Questionnaire.item.item.item.linkId", S,
	    "{\"resourceType\":\"Questionnaire\",\"item\":[{\"linkId\":\"1\","
	    "\"item\":[{\"linkId\":\"1.1\",\"item\":[{\"linkId\":\"1.1.1\"}]}]"
	    "}]}", "string=1.1.1" },
	/* literals */
	{ "Patient", "'a\\'b' | 2.5 | true | {}", 0, PAT1,
	    "string=a'b | decimal=2.5 | boolean=true" },
	{ "Patient", "$this.id", 0, PAT1, "string=p1" },
	/* lenient: unknown elements are read untyped */
	{ "Patient", "Patient.nickname", L,
	    "{\"resourceType\":\"Patient\",\"nickname\":\"Bo\"}", "?=Bo" },
	{ "Patient", "Patient.name.ofType(Quantity)", L, PAT1, "" },
	{ "Patient", "Patient.link.other | Patient.foo.bar", L, PAT1,
	    "Reference={\"reference\":\"Patient/p2\"}" },
};

/* ---- compile errors ---- */

static const struct errcase {
	const char	*type;
	const char	*expr;
	unsigned	 flags;
	int		 rc;
	const char	*msg;	/* a substring of the message */
} errcases[] = {
	{ "Patient", "", S, EMBER_EINVAL, "empty" },
	{ "Patient", "Patient.name.where(", S, EMBER_EINVAL, "" },
	{ "Patient", "Patient.name.where(given = 'a'", S, EMBER_EINVAL, "" },
	{ "Patient", "Patient..name", S, EMBER_EINVAL, "expected a name" },
	{ "Patient", "Patient.name)", S, EMBER_EINVAL, "unexpected" },
	{ "Patient", "'unterminated", S, EMBER_EINVAL, "unterminated" },
	{ "Patient", "Patient.name.select(family)", S, EMBER_EINVAL,
	    "unsupported function select" },
	{ "Patient", "Patient.name.count() + 1", S, EMBER_EINVAL,
	    "unsupported operator" },
	{ "Patient", "Patient.name in Patient.name", S, EMBER_EINVAL,
	    "unsupported operator" },
	{ "Patient", "Patient.foo", S, EMBER_EINVAL, "no element 'foo'" },
	{ "Patient", "Patient.name.foo", 0, EMBER_EINVAL,
	    "no element 'foo' in Patient.name" },
	{ "Patient", "Patient.name.ofType(Quantity)", S, EMBER_EINVAL,
	    "can never match" },
	{ "Patient", "Patient.name is Quantity", S, EMBER_EINVAL,
	    "can never hold" },
	{ "Patient", "Patient.name.ofType(Nonsense)", S, EMBER_EINVAL,
	    "unknown type 'Nonsense'" },
	{ "Patient", "Patient.link.other.resolve()", S, EMBER_EINVAL,
	    "resolve()" },
	{ "Patient", "Patient.link.other.resolve().id", S, EMBER_EINVAL,
	    "resolve()" },
	{ "Patient", "Patient.link.where(other.resolve() is Quantity)", S,
	    EMBER_EINVAL, "not a resource type" },
	{ "Patient", "Patient.name[Patient.id]", S, EMBER_EINVAL, "indexer" },
	{ "Patient", "Patient.name[-1]", S, EMBER_EINVAL, "indexer" },
	{ "Patient", "Patient.extension(url)", S, EMBER_EINVAL,
	    "string literal" },
	{ "Patient", "Patient.name.where()", S, EMBER_EINVAL,
	    "wrong arguments" },
	{ "Patient", "Patient.name.first(1)", S, EMBER_EINVAL,
	    "wrong arguments" },
	{ "Patient", "Patient.name.as(Quantity, 2)", S, EMBER_EINVAL,
	    "wrong arguments" },
	{ "Patient", "Patient.name.where(a, b, c)", S, EMBER_EINVAL,
	    "too many arguments" },
	{ "Patient", "$index", S, EMBER_EINVAL, "unsupported $index" },
	{ "Patient", "%ucum", S, EMBER_EINVAL, "unsupported %ucum" },
	{ "Patient", "@2015-01-01", S, EMBER_EINVAL, "unexpected character" },
	{ "Patient", "Patient.name.where(given = 'a\\q')", S, EMBER_EINVAL,
	    "bad escape" },
	{ "Patient", "Observation.code", S, EMBER_ENOTFOUND,
	    "no branch of the expression applies to Patient" },
	{ "Patient", "Observation.code", 0, EMBER_EINVAL,
	    "does not apply to Patient" },
	{ "Group", "Patient.name | Observation.code", S, EMBER_ENOTFOUND,
	    "applies to Group" },
};

static void
test_eval(const struct tables *t)
{
	size_t i;

	for (i = 0; i < sizeof(evalcases) / sizeof(evalcases[0]); i++) {
		const struct evalcase *c = &evalcases[i];
		struct render r;
		char err[256];
		int rc;

		err[0] = '\0';
		rc = run(t, c->type, c->expr, c->flags, c->json, &r, err,
		    sizeof(err));
		if (!ok(rc == EMBER_OK && strcmp(r.buf, c->want) == 0,
		    "%s: %s", c->type, c->expr))
			tap_diag("rc %d (%s); got \"%s\", want \"%s\"", rc,
			    err, r.buf, c->want);
	}
}

static void
test_errors(const struct tables *t)
{
	size_t i;

	for (i = 0; i < sizeof(errcases) / sizeof(errcases[0]); i++) {
		const struct errcase *c = &errcases[i];
		struct fhirpath_program *p = NULL;
		char err[256];
		int rc, ti = type_index(t, c->type);

		snprintf(err, sizeof(err), "(untouched)");
		rc = fhirpath_compile(t, c->expr, strlen(c->expr),
		    (unsigned)ti, NULL, c->flags, &p, err, sizeof(err));
		if (!ok(rc == c->rc && p == NULL && strstr(err, c->msg) != NULL,
		    "rejects %s", c->expr[0] ? c->expr : "(empty)"))
			tap_diag("rc %d, want %d; message \"%s\", want \"%s\"",
			    rc, c->rc, err, c->msg);
		fhirpath_program_free(p);
	}
	/* Deep nesting is refused, not a stack overflow. */
	{
		char deep[3000];
		struct fhirpath_program *p = NULL;
		size_t k;
		int rc;

		for (k = 0; k < 1200; k++)
			deep[k] = '(';
		deep[k++] = '1';
		memset(deep + k, ')', 1200);
		k += 1200;
		rc = fhirpath_compile(t, deep, k,
		    (unsigned)type_index(t, "Patient"), NULL, 0, &p, NULL, 0);
		ok(rc == EMBER_EINVAL && p == NULL,
		    "1200 nested parentheses are refused");
		fhirpath_program_free(p);
	}
}

/* Lenient compilations report what they did not find. */
static void
test_warnings(const struct tables *t)
{
	struct fhirpath_program *p = NULL;
	const char *w;
	int rc;

	rc = fhirpath_compile(t, "Patient.foo | Patient.name.ofType(Age)",
	    strlen("Patient.foo | Patient.name.ofType(Age)"),
	    (unsigned)type_index(t, "Patient"), NULL, S | L, &p, NULL, 0);
	w = rc == EMBER_OK ? fhirpath_program_warnings(p) : NULL;
	ok(w != NULL && strstr(w, "no element 'foo' in Patient") != NULL &&
	    strstr(w, "ofType(Age) can never match Patient.name") != NULL,
	    "lenient compile keeps its warnings");
	if (w != NULL)
		tap_diag("%s", w);
	fhirpath_program_free(p);
	p = NULL;
	rc = fhirpath_compile(t, "Observation.code", strlen("Observation.code"),
	    (unsigned)type_index(t, "Patient"), NULL, S | L, &p, NULL, 0);
	ok(rc == EMBER_OK && fhirpath_program_warnings(p) != NULL &&
	    strstr(fhirpath_program_warnings(p), "no branch") != NULL,
	    "lenient: a base without a branch yields nothing, with a warning");
	fhirpath_program_free(p);
	p = NULL;
	rc = fhirpath_compile(t, "Patient.name", strlen("Patient.name"),
	    (unsigned)type_index(t, "Patient"), NULL, S | L, &p, NULL, 0);
	ok(rc == EMBER_OK && fhirpath_program_warnings(p) == NULL,
	    "no warnings for a clean path");
	is_int(rc == EMBER_OK ? (long long)fhirpath_program_type(p) : -1,
	    type_index(t, "HumanName"), "static type of Patient.name");
	fhirpath_program_free(p);
}

/* A composite: components evaluated on each value of the base path. */
static void
test_components(const struct tables *t)
{
	static const char json[] = OBS("\"valueQuantity\":{\"value\":1},"
	    "\"component\":[{\"code\":{\"text\":\"sys\"},\"valueQuantity\":"
	    "{\"value\":120}},{\"code\":{\"text\":\"dia\"},\"valueString\":"
	    "\"n/a\"}]");
	struct fhirpath_program *base = NULL, *code = NULL, *value = NULL;
	struct tables_program bp, cp, vp;
	struct render r;
	cJSON *doc = cJSON_Parse(json);
	unsigned obs = (unsigned)type_index(t, "Observation");
	int rc;

	rc = fhirpath_compile(t, "Observation | Observation.component",
	    strlen("Observation | Observation.component"), obs, NULL, S, &base,
	    NULL, 0);
	if (rc == EMBER_OK)
		rc = fhirpath_compile(t, "code.text", 9, obs, base, 0, &code,
		    NULL, 0);
	if (rc == EMBER_OK)
		rc = fhirpath_compile(t, "value.as(Quantity).value", 24, obs,
		    base, 0, &value, NULL, 0);
	if (!ok(rc == EMBER_OK && doc != NULL,
	    "compile a composite and its components"))
		goto done;
	fhirpath_program_code(base, &bp);
	fhirpath_program_code(code, &cp);
	fhirpath_program_code(value, &vp);
	memset(&r, 0, sizeof(r));
	rc = fhirpath_eval(t, &bp, doc, render_visit, &r);
	ok(rc == EMBER_OK && strncmp(r.buf, "Observation={", 13) == 0 &&
	    strstr(r.buf, " | BackboneElement={") != NULL && r.count == 3,
	    "composite base yields the resource and its two components");
	{
		static const char *const want_code[3] = {
			"string=weight", "string=sys", "string=dia",
		};
		static const char *const want_value[3] = {
			"decimal=1", "decimal=120", "",
		};
		struct fhirpath_value focus;
		const cJSON *comps = cJSON_GetObjectItem(doc, "component");
		const cJSON *items[3];
		unsigned comp_elem;
		int i;

		items[0] = doc;
		items[1] = cJSON_GetArrayItem(comps, 0);
		items[2] = cJSON_GetArrayItem(comps, 1);
		if (tables_element_lookup(t, "Observation.component", 21,
		    &comp_elem) != EMBER_OK)
			comp_elem = TABLES_NONE;
		for (i = 0; i < 3; i++) {
			memset(&focus, 0, sizeof(focus));
			focus.json = items[i];
			focus.type = (unsigned)type_index(t, i == 0 ?
			    "Observation" : "BackboneElement");
			focus.element = i == 0 ? TABLES_NONE : comp_elem;
			focus.type_name = "";
			memset(&r, 0, sizeof(r));
			rc = fhirpath_eval_focus(t, &cp, doc, &focus,
			    render_visit, &r);
			is_str(rc == EMBER_OK ? r.buf : "(error)", want_code[i],
			    "component code on value %d", i);
			memset(&r, 0, sizeof(r));
			rc = fhirpath_eval_focus(t, &vp, doc, &focus,
			    render_visit, &r);
			is_str(rc == EMBER_OK ? r.buf : "(error)",
			    want_value[i], "component value on value %d", i);
		}
		ok(fhirpath_eval_focus(t, &cp, doc, NULL, render_visit, &r) ==
		    EMBER_EINVAL, "eval_focus needs a focus");
	}
done:
	cJSON_Delete(doc);
	fhirpath_program_free(base);
	fhirpath_program_free(code);
	fhirpath_program_free(value);
}

/* Hostile JSON shapes: never a crash, and sensible results. */
static void
test_hostile(const struct tables *t)
{
	static const struct evalcase cases[] = {
		{ "Patient", "Patient.name.given", S,
		    "{\"resourceType\":\"Patient\",\"name\":\"flat\"}", "" },
		{ "Patient", "Patient.name.given", S,
		    "{\"resourceType\":\"Patient\",\"name\":[1,null,true,"
		    "[{\"given\":[\"x\"]}],{\"given\":[null,\"y\",7]}]}",
		    "string=y | string=7" },
		{ "Patient", "Patient.extension('u').value", S,
		    "{\"resourceType\":\"Patient\",\"extension\":{\"url\":\"u\"}}",
		    "" },
		{ "Patient", "Patient.extension('u').value", S,
		    "{\"resourceType\":\"Patient\",\"extension\":[7,{\"url\":5},"
		    "{\"url\":\"u\",\"valueInteger\":3},{\"url\":\"u\","
		    "\"valueCode\":\"c\"}]}", "code=c" },
		{ "Observation", "Observation.subject.where(resolve() is Patient)",
		    S, "{\"resourceType\":\"Observation\",\"subject\":"
		    "{\"reference\":7}}", "" },
		{ "Observation", "Observation.subject.where(resolve() is Patient)",
		    S, "{\"resourceType\":\"Observation\",\"subject\":"
		    "{\"reference\":\"/Patient/\"}}", "" },
		{ "Observation", "Observation.subject.where(resolve() is Patient)",
		    S, "{\"resourceType\":\"Observation\",\"subject\":"
		    "{\"reference\":\"#\"},\"contained\":{}}", "" },
		{ "Bundle", "Bundle.entry.resource.ofType(Patient)", S,
		    "{\"entry\":[{\"resource\":{\"resourceType\":7}},"
		    "{\"resource\":\"x\"}]}", "" },
		{ "Patient", "Patient.id", S, "[1,2,3]", "" },
		{ "Patient", "Patient.id", S, "\"Patient\"", "" },
		{ "Patient", "Patient.deceased", S,
		    "{\"deceasedBoolean\":[true,false],\"deceased\":1,"
		    "\"deceasedX\":2,\"deceasedDateTimeX\":3}",
		    "boolean=true | boolean=false" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct evalcase *c = &cases[i];
		struct render r;
		char err[256];
		int rc = run(t, c->type, c->expr, c->flags, c->json, &r, err,
		    sizeof(err));

		if (!ok(rc == EMBER_OK && strcmp(r.buf, c->want) == 0,
		    "hostile JSON %zu: %s", i, c->json))
			tap_diag("rc %d; got \"%s\", want \"%s\"", rc, r.buf,
			    c->want);
	}
}

/* Corrupt programs are refused; the callback can stop the walk. */
static void
test_program_bytes(const struct tables *t)
{
	const char *expr = "Patient.name.where(use = 'official').given | "
	    "Patient.link.other.where(resolve() is Patient)";
	struct fhirpath_program *p = NULL;
	struct tables_program code, bad;
	unsigned char *copy;
	struct render r;
	cJSON *doc = cJSON_Parse(PAT1);
	size_t i, refused = 0, flips = 0;
	FILE *f;
	int rc;

	rc = fhirpath_compile(t, expr, strlen(expr),
	    (unsigned)type_index(t, "Patient"), NULL, S, &p, NULL, 0);
	if (!ok(rc == EMBER_OK && doc != NULL, "compile for the byte tests")) {
		fhirpath_program_free(p);
		cJSON_Delete(doc);
		return;
	}
	fhirpath_program_code(p, &code);
	ok(fhirpath_check(t, &code) == EMBER_OK, "a compiled program checks");
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	rc = fhirpath_eval(t, &code, doc, render_visit, &r);
	ok(rc == 42 && r.count == 2,
	    "a non-zero callback result stops and is returned");
	copy = malloc(code.len);
	/* Every truncation is refused. */
	for (i = 0; i < code.len; i++) {
		bad.code = code.code;
		bad.len = i;
		if (fhirpath_check(t, &bad) == EMBER_ETABLES &&
		    (i == 0 || fhirpath_eval(t, &bad, doc, render_visit, &r) ==
		    EMBER_ETABLES))
			refused++;
	}
	is_int(refused, code.len, "every truncated program is refused");
	/* Every single-byte change: refused or evaluated, never a crash. */
	for (i = 0; copy != NULL && i < code.len; i++) {
		unsigned v;

		for (v = 0; v < 256; v += 37) {
			memcpy(copy, code.code, code.len);
			copy[i] = (unsigned char)(copy[i] ^ (v | 1));
			bad.code = copy;
			bad.len = code.len;
			memset(&r, 0, sizeof(r));
			rc = fhirpath_eval(t, &bad, doc, render_visit, &r);
			if (rc == EMBER_OK || rc == EMBER_ETABLES)
				flips++;
		}
	}
	is_int(flips, code.len * 7,
	    "corrupted programs give EMBER_OK or EMBER_ETABLES");
	free(copy);
	memset(&bad, 0, sizeof(bad));
	memset(&r, 0, sizeof(r));
	ok(fhirpath_eval(t, &bad, doc, render_visit, &r) == EMBER_OK &&
	    r.count == 0, "an empty program yields nothing");
	/* The disassembly names the ops. */
	f = tmpfile();
	if (f != NULL) {
		char buf[2048];
		size_t n;

		rc = fhirpath_disasm(f, t, &code, "  ");
		rewind(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		ok(rc == EMBER_OK && strstr(buf, "member $this 'name' : "
		    "HumanName (Patient.name)") != NULL &&
		    strstr(buf, "resolve-is $this : Patient") != NULL &&
		    strstr(buf, "where") != NULL && strstr(buf, "union") != NULL,
		    "disassembly");
		fclose(f);
	} else
		ok(0, "tmpfile");
	fhirpath_program_free(p);
	cJSON_Delete(doc);
}

int
main(void)
{
	struct tables *t = NULL;
	const char *env = getenv("EMBER_BUILDDIR");
	int rc;

	builddir = env != NULL ? env : ".";
	snprintf(mini_path, sizeof(mini_path), "%s/tests/data/mini.tables",
	    builddir);
	rc = tables_open(mini_path, &t);
	if (!ok(rc == EMBER_OK, "open %s", mini_path)) {
		tap_done();
		return 1;
	}
	test_eval(t);
	test_errors(t);
	test_warnings(t);
	test_components(t);
	test_hostile(t);
	test_program_bytes(t);
	tables_close(t);
	tap_done();
	return tap_exit();
}
