/*
 * test-summary.c: src/summary.c, _summary and _elements.
 *
 * Table-driven against the real tables of $EMBER_BUILDDIR/schemas: each
 * case is (version, mode, _elements, JSON resource) and either the exact
 * minified JSON that must result or an error code and a word of the
 * message (the resource must then be unchanged).  Key order is part of
 * the expectation: elements are removed in place, and meta, when the
 * SUBSETTED tag needs one, goes after resourceType and id.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "summary.h"
#include "tables.h"
#include "tap.h"
#include "tables-all.h"

static struct tables *tab[V_COUNT];

#define TAG_R4	"\"tag\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/" \
		"v3-ObservationValue\",\"code\":\"SUBSETTED\"}]"
#define TAG_OLD	"\"tag\":[{\"system\":\"http://hl7.org/fhir/v3/" \
		"ObservationValue\",\"code\":\"SUBSETTED\"}]"

/* A Patient with something of every kind, used by several cases. */
#define PATIENT \
	"{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"versionId\":" \
	"\"1\"},\"implicitRules\":\"http://r\",\"text\":{\"status\":" \
	"\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml" \
	"\\\">x</div>\"},\"extension\":[{\"url\":\"u\",\"valueString\":\"s\"}]" \
	",\"modifierExtension\":[{\"url\":\"m\",\"valueBoolean\":true}]," \
	"\"identifier\":[{\"value\":\"1\",\"extension\":[{\"url\":\"v\"," \
	"\"valueString\":\"w\"}]}],\"active\":true,\"name\":[{\"family\":" \
	"\"F\"}],\"gender\":\"male\",\"birthDate\":\"1970\",\"_birthDate\":{" \
	"\"id\":\"b\"},\"deceasedBoolean\":false,\"maritalStatus\":{\"text\":" \
	"\"M\"},\"photo\":[{\"data\":\"AAAA\"}],\"contact\":[{\"gender\":" \
	"\"male\"}],\"link\":[{\"extension\":[{\"url\":\"x\",\"valueString\":" \
	"\"y\"}],\"other\":{\"reference\":\"Patient/q\"},\"type\":" \
	"\"seealso\"}],\"foo\":1}"

struct sumcase {
	int		 v;
	const char	*name;
	int		 mode;
	const char	*elements;
	const char	*json;
	const char	*want;		/* NULL: an error */
	int		 rc;
	const char	*word;
};

static const struct sumcase cases[] = {
	{ V_R4, "false without _elements changes nothing", SUMMARY_FALSE,
	  NULL, PATIENT, PATIENT, EMBER_OK, NULL },
	{ V_R4, "true: S elements, S children of backbones, datatypes whole",
	  SUMMARY_TRUE, NULL, PATIENT,
	  "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"versionId\":"
	  "\"1\"," TAG_R4 "},\"implicitRules\":\"http://r\",\"identifier\":[{"
	  "\"value\":\"1\",\"extension\":[{\"url\":\"v\",\"valueString\":"
	  "\"w\"}]}],\"active\":true,\"name\":[{\"family\":\"F\"}],\"gender\":"
	  "\"male\",\"birthDate\":\"1970\",\"_birthDate\":{\"id\":\"b\"},"
	  "\"deceasedBoolean\":false,\"link\":[{\"other\":{\"reference\":"
	  "\"Patient/q\"},\"type\":\"seealso\"}]}", EMBER_OK, NULL },
	{ V_DSTU2, "true in DSTU2: link is not a summary element there",
	  SUMMARY_TRUE, NULL,
	  "{\"resourceType\":\"Patient\",\"id\":\"p\",\"active\":true,"
	  "\"link\":[{\"other\":{\"reference\":\"Patient/q\"},\"type\":"
	  "\"seealso\"}]}",
	  "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{" TAG_OLD "},"
	  "\"active\":true}", EMBER_OK, NULL },
	{ V_R4, "true drops Attachment.data (and _data)", SUMMARY_TRUE, NULL,
	  "{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
	  "\"content\":[{\"attachment\":{\"contentType\":\"text/plain\","
	  "\"data\":\"aGVsbG8=\",\"_data\":{\"id\":\"d\"},\"title\":\"t\"}}]}",
	  "{\"resourceType\":\"DocumentReference\",\"meta\":{" TAG_R4 "},"
	  "\"status\":\"current\",\"content\":[{\"attachment\":{"
	  "\"contentType\":\"text/plain\",\"title\":\"t\"}}]}", EMBER_OK,
	  NULL },
	{ V_R4, "true keeps a choice element by its S flag", SUMMARY_TRUE,
	  NULL,
	  "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{"
	  "\"text\":\"c\"},\"valueQuantity\":{\"value\":1.50},"
	  "\"referenceRange\":[{\"text\":\"r\"}]}",
	  "{\"resourceType\":\"Observation\",\"meta\":{" TAG_R4 "},\"status\":"
	  "\"final\",\"code\":{\"text\":\"c\"},\"valueQuantity\":{\"value\":"
	  "1.50}}", EMBER_OK, NULL },
	{ V_R4, "text: text, id, meta and mandatory elements", SUMMARY_TEXT,
	  NULL,
	  "{\"resourceType\":\"Observation\",\"id\":\"o\",\"text\":{\"status\":"
	  "\"generated\",\"div\":\"<div>x</div>\"},\"status\":\"final\","
	  "\"code\":{\"text\":\"c\"},\"subject\":{\"reference\":\"Patient/p\"}"
	  ",\"valueString\":\"v\"}",
	  "{\"resourceType\":\"Observation\",\"id\":\"o\",\"meta\":{" TAG_R4
	  "},\"text\":{\"status\":\"generated\",\"div\":\"<div>x</div>\"},"
	  "\"status\":\"final\",\"code\":{\"text\":\"c\"}}", EMBER_OK, NULL },
	{ V_R4, "data: all but text, unknown keys kept", SUMMARY_DATA, NULL,
	  PATIENT,
	  "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"versionId\":"
	  "\"1\"," TAG_R4 "},\"implicitRules\":\"http://r\",\"extension\":[{"
	  "\"url\":\"u\",\"valueString\":\"s\"}],\"modifierExtension\":[{"
	  "\"url\":\"m\",\"valueBoolean\":true}],\"identifier\":[{\"value\":"
	  "\"1\",\"extension\":[{\"url\":\"v\",\"valueString\":\"w\"}]}],"
	  "\"active\":true,\"name\":[{\"family\":\"F\"}],\"gender\":\"male\","
	  "\"birthDate\":\"1970\",\"_birthDate\":{\"id\":\"b\"},"
	  "\"deceasedBoolean\":false,\"maritalStatus\":{\"text\":\"M\"},"
	  "\"photo\":[{\"data\":\"AAAA\"}],\"contact\":[{\"gender\":\"male\"}]"
	  ",\"link\":[{\"extension\":[{\"url\":\"x\",\"valueString\":\"y\"}],"
	  "\"other\":{\"reference\":\"Patient/q\"},\"type\":\"seealso\"}],"
	  "\"foo\":1}", EMBER_OK, NULL },
	{ V_R4, "_elements: listed, id, meta, mandatory and modifiers",
	  SUMMARY_FALSE, "identifier,birthDate", PATIENT,
	  "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"versionId\":"
	  "\"1\"," TAG_R4 "},\"implicitRules\":\"http://r\","
	  "\"modifierExtension\":[{\"url\":\"m\",\"valueBoolean\":true}],"
	  "\"identifier\":[{\"value\":\"1\",\"extension\":[{\"url\":\"v\","
	  "\"valueString\":\"w\"}]}],\"active\":true,\"birthDate\":\"1970\","
	  "\"_birthDate\":{\"id\":\"b\"},\"deceasedBoolean\":false,\"link\":[{"
	  "\"extension\":[{\"url\":\"x\",\"valueString\":\"y\"}],\"other\":{"
	  "\"reference\":\"Patient/q\"},\"type\":\"seealso\"}]}", EMBER_OK,
	  NULL },
	{ V_R4, "_elements: type prefixes, other types ignored, blanks",
	  SUMMARY_FALSE, " Patient.gender , Observation.code,,maritalStatus ",
	  "{\"resourceType\":\"Patient\",\"gender\":\"male\",\"name\":[{"
	  "\"family\":\"F\"}],\"maritalStatus\":{\"text\":\"M\"}}",
	  "{\"resourceType\":\"Patient\",\"meta\":{" TAG_R4 "},\"gender\":"
	  "\"male\",\"maritalStatus\":{\"text\":\"M\"}}", EMBER_OK, NULL },
	{ V_R4, "_elements: a choice by its name", SUMMARY_FALSE,
	  "multipleBirth",
	  "{\"resourceType\":\"Patient\",\"id\":\"p\",\"multipleBirthInteger\""
	  ":2,\"gender\":\"male\"}",
	  "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{" TAG_R4 "},"
	  "\"multipleBirthInteger\":2}", EMBER_OK, NULL },
	{ V_R4, "_elements: a choice as name[x] and by a JSON key",
	  SUMMARY_FALSE, "multipleBirth[x],photo",
	  "{\"resourceType\":\"Patient\",\"multipleBirthBoolean\":true,"
	  "\"photo\":[{\"url\":\"http://p\"}],\"gender\":\"male\"}",
	  "{\"resourceType\":\"Patient\",\"meta\":{" TAG_R4 "},"
	  "\"multipleBirthBoolean\":true,\"photo\":[{\"url\":\"http://p\"}]}",
	  EMBER_OK, NULL },
	{ V_R4, "_elements: by a choice key", SUMMARY_FALSE,
	  "multipleBirthInteger",
	  "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":3,"
	  "\"gender\":\"male\"}",
	  "{\"resourceType\":\"Patient\",\"meta\":{" TAG_R4 "},"
	  "\"multipleBirthInteger\":3}", EMBER_OK, NULL },
	{ V_STU3, "STU3 tag system", SUMMARY_DATA, NULL,
	  "{\"resourceType\":\"Basic\",\"id\":\"b\",\"code\":{\"text\":\"c\"}}",
	  "{\"resourceType\":\"Basic\",\"id\":\"b\",\"meta\":{" TAG_OLD "},"
	  "\"code\":{\"text\":\"c\"}}", EMBER_OK, NULL },
	{ V_R4B, "R4B tag system", SUMMARY_DATA, NULL,
	  "{\"resourceType\":\"Basic\",\"code\":{\"text\":\"c\"}}",
	  "{\"resourceType\":\"Basic\",\"meta\":{" TAG_R4 "},\"code\":{"
	  "\"text\":\"c\"}}", EMBER_OK, NULL },
	{ V_R5, "R5: the tag is not added twice", SUMMARY_DATA, NULL,
	  "{\"resourceType\":\"Basic\",\"meta\":{" TAG_R4 "},\"code\":{"
	  "\"text\":\"c\"}}",
	  "{\"resourceType\":\"Basic\",\"meta\":{" TAG_R4 "},\"code\":{"
	  "\"text\":\"c\"}}", EMBER_OK, NULL },
	{ V_R4, "an existing tag list is kept", SUMMARY_DATA, NULL,
	  "{\"resourceType\":\"Basic\",\"meta\":{\"tag\":[{\"code\":\"a\"}]},"
	  "\"code\":{\"text\":\"c\"}}",
	  "{\"resourceType\":\"Basic\",\"meta\":{\"tag\":[{\"code\":\"a\"},{"
	  "\"system\":\"http://terminology.hl7.org/CodeSystem/v3-"
	  "ObservationValue\",\"code\":\"SUBSETTED\"}]},\"code\":{\"text\":"
	  "\"c\"}}", EMBER_OK, NULL },

	{ V_R4, "count is for searches", SUMMARY_COUNT, NULL, PATIENT, NULL,
	  EMBER_EINVAL, "searches only" },
	{ V_R4, "_summary with _elements", SUMMARY_TRUE, "name", PATIENT, NULL,
	  EMBER_EINVAL, "cannot be used together" },
	{ V_R4, "unknown element", SUMMARY_FALSE, "name,foo", PATIENT, NULL,
	  EMBER_EINVAL, "no element 'foo'" },
	{ V_R4, "nested path", SUMMARY_FALSE, "Patient.name.family", PATIENT,
	  NULL, EMBER_EINVAL, "only top-level" },
	{ V_R4, "unknown type prefix", SUMMARY_FALSE, "Foo.name", PATIENT,
	  NULL, EMBER_EINVAL, "'Foo' is not a resource type" },
	{ V_R4, "empty list", SUMMARY_FALSE, " , ", PATIENT, NULL,
	  EMBER_EINVAL, "no element" },
	{ V_R4, "no resourceType", SUMMARY_TRUE, NULL, "{\"id\":\"x\"}", NULL,
	  EMBER_EINVAL, "not a resource" },
	{ V_R4, "meta of the wrong kind", SUMMARY_TRUE, NULL,
	  "{\"resourceType\":\"Basic\",\"meta\":[],\"code\":{}}", NULL,
	  EMBER_EINVAL, "meta" },
	{ V_R4, "tag of the wrong kind", SUMMARY_DATA, NULL,
	  "{\"resourceType\":\"Basic\",\"meta\":{\"tag\":{}},\"code\":{}}",
	  NULL, EMBER_EINVAL, "meta" },
	{ V_R4, "unknown mode", 42, NULL, PATIENT, NULL, EMBER_EINVAL,
	  "unknown" },
};

static void
test_apply(void)
{
	struct buf	b = BUF_INIT;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sumcase	*c = &cases[i];
		cJSON			*j = NULL;
		int			 rc;

		if (json_parse(c->json, strlen(c->json), 100, &j, err,
		    sizeof(err)) != EMBER_OK) {
			ok(0, "%s: JSON parses: %s", c->name, err);
			continue;
		}
		err[0] = '\0';
		rc = summary_apply(tab[c->v], j, c->mode, c->elements, err,
		    sizeof(err));
		is_int(rc, c->rc, "%s: returns %d", c->name, c->rc);
		buf_reset(&b);
		json_write(&b, j, 0);
		if (c->want != NULL)
			is_str(b.data, c->want, "%s: result", c->name);
		else {
			if (!ok(strstr(err, c->word) != NULL,
			    "%s: message names '%s'", c->name, c->word))
				tap_diag("message: %s", err);
			is_str(b.data, c->json, "%s: resource unchanged",
			    c->name);
		}
		cJSON_Delete(j);
	}
	buf_free(&b);
}

static void
test_parse(void)
{
	static const struct {
		const char	*s;
		int		 rc;
		int		 mode;
	} p[] = {
		{ "true", EMBER_OK, SUMMARY_TRUE },
		{ "text", EMBER_OK, SUMMARY_TEXT },
		{ "data", EMBER_OK, SUMMARY_DATA },
		{ "count", EMBER_OK, SUMMARY_COUNT },
		{ "false", EMBER_OK, SUMMARY_FALSE },
		{ "TRUE", EMBER_EINVAL, -1 },
		{ "tru", EMBER_EINVAL, -1 },
		{ "truex", EMBER_EINVAL, -1 },
		{ "", EMBER_EINVAL, -1 },
	};
	size_t	i;
	int	mode;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		mode = -1;
		is_int(summary_parse(p[i].s, strlen(p[i].s), &mode), p[i].rc,
		    "summary_parse \"%s\"", p[i].s);
		is_int(mode, p[i].mode, "summary_parse \"%s\": mode", p[i].s);
	}
}

int
main(void)
{
	tables_open_all(tab);
	test_apply();
	test_parse();
	tables_close_all(tab);
	tap_done();
	return tap_exit();
}
