/*
 * test-xml.c: src/xml.c, FHIR XML <-> JSON over the compiled tables.
 *
 * Table-driven, against the real tables of $EMBER_BUILDDIR/schemas:
 *  1. JSON -> XML: small resources and the exact (minified) XML they
 *     give, then that XML back to JSON, which must be the input in
 *     definition order;
 *  2. XML -> JSON: XML forms the writer never makes (comments, schema
 *     hints, a prefixed narrative, character references...);
 *  3. hostile or invalid XML: each an error code (and a word of the
 *     message), never a crash, *out untouched;
 *  4. JSON the writer must refuse, the output buffer left as it was;
 *  5. xml_xhtml_check(), pretty output, and deep nesting;
 * and a timing diagnostic for a typical Patient (not asserted).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "tables.h"
#include "tap.h"
#include "tables-all.h"
#include "xml.h"

#define DECL	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
#define FHIR	" xmlns=\"http://hl7.org/fhir\""
#define XHTML	" xmlns=\"http://www.w3.org/1999/xhtml\""

static struct tables *tab[V_COUNT];

/* ---- 1. JSON -> XML -> JSON ---- */

struct to_xml {
	int		 v;
	const char	*name;
	const char	*json;
	const char	*xml;		/* exact, minified */
	const char	*back;		/* JSON from xml; NULL: same as json */
};

static const struct to_xml to_xml_cases[] = {
	{ V_R4, "definition order, whatever the key order",
	  "{\"birthDate\":\"1970-01-01\",\"gender\":\"male\","
	  "\"resourceType\":\"Patient\",\"active\":true,\"id\":\"p1\"}",
	  DECL "<Patient" FHIR "><id value=\"p1\"/><active value=\"true\"/>"
	  "<gender value=\"male\"/><birthDate value=\"1970-01-01\"/>"
	  "</Patient>",
	  "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"active\":true,"
	  "\"gender\":\"male\",\"birthDate\":\"1970-01-01\"}" },
	{ V_R4, "primitive arrays: null placeholders, ids, extensions",
	  "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"A\",null,"
	  "\"C\"],\"_given\":[null,{\"id\":\"g2\",\"extension\":[{\"url\":"
	  "\"http://x\",\"valueString\":\"B\"}]},{\"extension\":[{\"url\":"
	  "\"http://y\",\"valueBoolean\":false}]}]}]}",
	  DECL "<Patient" FHIR "><name><given value=\"A\"/><given id=\"g2\">"
	  "<extension url=\"http://x\"><valueString value=\"B\"/></extension>"
	  "</given><given value=\"C\"><extension url=\"http://y\">"
	  "<valueBoolean value=\"false\"/></extension></given></name>"
	  "</Patient>", NULL },
	{ V_R4, "a primitive with only an extension",
	  "{\"resourceType\":\"Patient\",\"_birthDate\":{\"extension\":[{"
	  "\"url\":\"http://z\",\"valueDateTime\":\"1970-01-01T10:00:00Z\"}"
	  "]}}",
	  DECL "<Patient" FHIR "><birthDate><extension url=\"http://z\">"
	  "<valueDateTime value=\"1970-01-01T10:00:00Z\"/></extension>"
	  "</birthDate></Patient>", NULL },
	{ V_R4, "choice type, decimal text kept exactly",
	  "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{"
	  "\"text\":\"x\"},\"valueQuantity\":{\"value\":1.50,\"unit\":\"mg\"}"
	  ",\"referenceRange\":[{\"low\":{\"value\":1.0E-3}}]}",
	  DECL "<Observation" FHIR "><status value=\"final\"/><code><text "
	  "value=\"x\"/></code><valueQuantity><value value=\"1.50\"/><unit "
	  "value=\"mg\"/></valueQuantity><referenceRange><low><value value="
	  "\"1.0E-3\"/></low></referenceRange></Observation>", NULL },
	{ V_R4, "element id attribute, Extension url, nested extensions",
	  "{\"resourceType\":\"Patient\",\"extension\":[{\"url\":\"http://a\""
	  ",\"extension\":[{\"url\":\"b\",\"valueCode\":\"c\"}]}],"
	  "\"identifier\":[{\"id\":\"i1\",\"value\":\"123\"}],"
	  "\"multipleBirthInteger\":2}",
	  DECL "<Patient" FHIR "><extension url=\"http://a\"><extension url="
	  "\"b\"><valueCode value=\"c\"/></extension></extension><identifier"
	  " id=\"i1\"><value value=\"123\"/></identifier><multipleBirthInteger"
	  " value=\"2\"/></Patient>", NULL },
	{ V_R4, "contained resource",
	  "{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":"
	  "\"Organization\",\"id\":\"o1\",\"name\":\"Acme\"}],"
	  "\"managingOrganization\":{\"reference\":\"#o1\"}}",
	  DECL "<Patient" FHIR "><contained><Organization><id value=\"o1\"/>"
	  "<name value=\"Acme\"/></Organization></contained>"
	  "<managingOrganization><reference value=\"#o1\"/>"
	  "</managingOrganization></Patient>", NULL },
	{ V_R4, "Bundle.entry.resource",
	  "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{"
	  "\"fullUrl\":\"urn:uuid:1\",\"resource\":{\"resourceType\":"
	  "\"Patient\",\"id\":\"a\"}},{\"resource\":{\"resourceType\":"
	  "\"Basic\",\"code\":{\"text\":\"b\"}}}]}",
	  DECL "<Bundle" FHIR "><type value=\"collection\"/><entry><fullUrl "
	  "value=\"urn:uuid:1\"/><resource><Patient><id value=\"a\"/>"
	  "</Patient></resource></entry><entry><resource><Basic><code><text "
	  "value=\"b\"/></code></Basic></resource></entry></Bundle>", NULL },
	{ V_R4, "Parameters.parameter.resource and a value",
	  "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"p\","
	  "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"a\"}},{"
	  "\"name\":\"q\",\"valueInteger\":-5}]}",
	  DECL "<Parameters" FHIR "><parameter><name value=\"p\"/><resource>"
	  "<Patient><id value=\"a\"/></Patient></resource></parameter>"
	  "<parameter><name value=\"q\"/><valueInteger value=\"-5\"/>"
	  "</parameter></Parameters>", NULL },
	{ V_R4, "narrative passed through as XHTML",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\" "
	  "xml:lang='en'><p>a &amp; b<br/>&#160;</p><!-- c --></div>\"}}",
	  DECL "<Patient" FHIR "><text><status value=\"generated\"/>"
	  "<div" XHTML " xml:lang='en'><p>a &amp; b<br/>&#160;</p><!-- c -->"
	  "</div></text></Patient>", NULL },
	{ V_R4, "prefixed narrative passed through",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<h:div xmlns:h=\\\"http://www.w3.org/1999/xhtml\\\">"
	  "<h:p>x</h:p></h:div>\"}}",
	  DECL "<Patient" FHIR "><text><status value=\"generated\"/>"
	  "<h:div xmlns:h=\"http://www.w3.org/1999/xhtml\"><h:p>x</h:p>"
	  "</h:div></text></Patient>", NULL },
	{ V_DSTU2, "DSTU2 narrative: namespace added, &nbsp; translated",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div><p>a&nbsp;b &copy;</p></div>\"}}",
	  DECL "<Patient" FHIR "><text><status value=\"generated\"/>"
	  "<div" XHTML "><p>a&#160;b &#169;</p></div></text></Patient>",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><p>"
	  "a&#160;b &#169;</p></div>\"}}" },
	{ V_R4, "narrative: &name; in a comment, PI or CDATA is not translated",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><!-- &nbsp; -->"
	  "<?pi &copy;?><![CDATA[&nbsp;]]>a&nbsp;</div>\"}}",
	  DECL "<Patient" FHIR "><text><status value=\"generated\"/>"
	  "<div" XHTML "><!-- &nbsp; --><?pi &copy;?><![CDATA[&nbsp;]]>"
	  "a&#160;</div></text></Patient>",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><!-- &nbsp; -->"
	  "<?pi &copy;?><![CDATA[&nbsp;]]>a&#160;</div>\"}}" },
	{ V_DSTU2, "DSTU2 fhir_comments become XML comments",
	  "{\"resourceType\":\"Patient\",\"fhir_comments\":[\"top\"],"
	  "\"active\":true,\"_active\":{\"fhir_comments\":[\" a -- b-\"]}}",
	  DECL "<!--top--><Patient" FHIR "><!-- a - - b- --><active value="
	  "\"true\"/></Patient>",
	  "{\"resourceType\":\"Patient\",\"active\":true}" },
	{ V_R4, "XML escaping in attribute values",
	  "{\"resourceType\":\"Patient\",\"id\":\"x\",\"name\":[{\"text\":"
	  "\"a<b>&\\\"c'\\n\\td\\r\"}]}",
	  DECL "<Patient" FHIR "><id value=\"x\"/><name><text value=\"a&lt;b"
	  "&gt;&amp;&quot;c'&#10;&#9;d&#13;\"/></name></Patient>", NULL },
	{ V_STU3, "STU3 backbone elements and a contentReference",
	  "{\"resourceType\":\"Questionnaire\",\"status\":\"draft\",\"item\":"
	  "[{\"linkId\":\"1\",\"type\":\"group\",\"item\":[{\"linkId\":\"1.1\""
	  ",\"type\":\"string\",\"initialString\":\"x\"}]}]}",
	  DECL "<Questionnaire" FHIR "><status value=\"draft\"/><item><linkId"
	  " value=\"1\"/><type value=\"group\"/><item><linkId value=\"1.1\"/>"
	  "<type value=\"string\"/><initialString value=\"x\"/></item></item>"
	  "</Questionnaire>", NULL },
	{ V_R5, "R5: integer64 is a JSON string",
	  "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{"
	  "\"text\":\"n\"},\"valueInteger\":7,\"component\":[{\"code\":{"
	  "\"text\":\"c\"},\"valueQuantity\":{\"value\":0.10}}],"
	  "\"extension\":[{\"url\":\"u\",\"valueInteger64\":"
	  "\"9007199254740993\"}]}",
	  DECL "<Observation" FHIR "><extension url=\"u\"><valueInteger64 "
	  "value=\"9007199254740993\"/></extension><status value=\"final\"/>"
	  "<code><text value=\"n\"/></code><valueInteger value=\"7\"/>"
	  "<component><code><text value=\"c\"/></code><valueQuantity><value "
	  "value=\"0.10\"/></valueQuantity></component></Observation>",
	  "{\"resourceType\":\"Observation\",\"extension\":[{\"url\":\"u\","
	  "\"valueInteger64\":\"9007199254740993\"}],\"status\":\"final\","
	  "\"code\":{\"text\":\"n\"},\"valueInteger\":7,\"component\":[{"
	  "\"code\":{\"text\":\"c\"},\"valueQuantity\":{\"value\":0.10}}]}" },
	{ V_R4, "empty complex value",
	  "{\"resourceType\":\"Patient\",\"maritalStatus\":{}}",
	  DECL "<Patient" FHIR "><maritalStatus/></Patient>", NULL },
};

static const char *
json_text(const cJSON *j, struct buf *b)
{
	buf_reset(b);
	if (json_write(b, j, 0) != EMBER_OK)
		return "(out of memory)";
	return b->data;
}

static void
test_to_xml(void)
{
	struct buf	 x = BUF_INIT, jb = BUF_INIT;
	char		 err[512];
	size_t		 i;

	for (i = 0; i < sizeof(to_xml_cases) / sizeof(to_xml_cases[0]); i++) {
		const struct to_xml	*c = &to_xml_cases[i];
		cJSON			*j = NULL, *back = NULL;
		const char		*want;
		int			 rc;

		buf_reset(&x);
		rc = json_parse(c->json, strlen(c->json), 100, &j, err,
		    sizeof(err));
		if (!ok(rc == EMBER_OK, "%s: JSON parses", c->name)) {
			tap_diag("%s", err);
			continue;
		}
		rc = xml_from_json_err(tab[c->v], j, 0, &x, err, sizeof(err));
		if (rc != EMBER_OK)
			tap_diag("xml_from_json: %s", err);
		is_str(rc == EMBER_OK ? x.data : "(failed)", c->xml,
		    "%s: to XML", c->name);
		is_int(xml_from_json_err(tab[c->v], j, 0, NULL, err,
		    sizeof(err)), rc, "%s: accepted when only checked",
		    c->name);
		rc = xml_to_json(tab[c->v], c->xml, strlen(c->xml), 100, &back,
		    err, sizeof(err));
		if (rc != EMBER_OK)
			tap_diag("xml_to_json: %s", err);
		want = c->back != NULL ? c->back : c->json;
		is_str(rc == EMBER_OK ? json_text(back, &jb) : "(failed)", want,
		    "%s: back to JSON", c->name);
		cJSON_Delete(j);
		cJSON_Delete(back);
	}
	buf_free(&x);
	buf_free(&jb);
}

/* ---- 2. XML -> JSON ---- */

struct to_json {
	int		 v;
	const char	*name;
	const char	*xml;
	const char	*json;		/* exact, minified */
};

static const struct to_json to_json_cases[] = {
	{ V_R4, "comments, whitespace and a schema hint dropped",
	  "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- c -->\n"
	  "<Patient xmlns=\"http://hl7.org/fhir\" xmlns:xsi=\"http://www.w3."
	  "org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://hl7.org/"
	  "fhir patient.xsd\">\n  <!-- c2 -->\n  <id value=\"a\"/>\n"
	  "  <active value=\"false\"><!-- c3 --></active>\n</Patient>\n",
	  "{\"resourceType\":\"Patient\",\"id\":\"a\",\"active\":false}" },
	{ V_R4, "character references in values",
	  "<Patient xmlns=\"http://hl7.org/fhir\"><name><text value=\"a&#10;"
	  "b&amp;&#x263A;\"/></name></Patient>",
	  "{\"resourceType\":\"Patient\",\"name\":[{\"text\":\"a\\nb&\xe2\x98"
	  "\xba\"}]}" },
	{ V_R4, "a prefixed narrative is re-serialized in its namespace",
	  "<Patient xmlns=\"http://hl7.org/fhir\" xmlns:h=\"http://www.w3.org/"
	  "1999/xhtml\"><text><status value=\"generated\"/><h:div><h:p class="
	  "'x'>1 &lt; 2 &amp; &#233;</h:p><h:br/></h:div></text></Patient>",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><p class"
	  "=\\\"x\\\">1 &lt; 2 &amp; \xc3\xa9</p><br/></div>\"}}" },
	{ V_R4, "a narrative declaring its namespace is copied exactly",
	  "<Patient xmlns=\"http://hl7.org/fhir\"><text><status value="
	  "\"generated\"/><div xmlns='http://www.w3.org/1999/xhtml'><p>&#160;"
	  "<![CDATA[x]]>&quot;</p></div></text></Patient>",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div xmlns='http://www.w3.org/1999/xhtml'><p>&#160;"
	  "<![CDATA[x]]>&quot;</p></div>\"}}" },
	{ V_R4, "an empty narrative element",
	  "<Patient xmlns=\"http://hl7.org/fhir\"><text><status value="
	  "\"empty\"/><div xmlns='http://www.w3.org/1999/xhtml' /></text>"
	  "</Patient>",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"empty\","
	  "\"div\":\"<div xmlns='http://www.w3.org/1999/xhtml' />\"}}" },
	{ V_R4, "values that are all extensions: no value array",
	  "<Patient xmlns=\"http://hl7.org/fhir\"><name><given><extension "
	  "url=\"u\"><valueString value=\"v\"/></extension></given><given id="
	  "\"g\"/></name></Patient>",
	  "{\"resourceType\":\"Patient\",\"name\":[{\"_given\":[{\"extension\""
	  ":[{\"url\":\"u\",\"valueString\":\"v\"}]},{\"id\":\"g\"}]}]}" },
	{ V_R4, "FHIR elements with a namespace prefix",
	  "<f:Patient xmlns:f=\"http://hl7.org/fhir\"><f:id value=\"x\"/>"
	  "<f:name><f:given value=\"G\"/></f:name></f:Patient>",
	  "{\"resourceType\":\"Patient\",\"id\":\"x\",\"name\":[{\"given\":"
	  "[\"G\"]}]}" },
	{ V_R4, "a UTF-8 byte-order mark",
	  "\xef\xbb\xbf<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"b\"/>"
	  "</Patient>",
	  "{\"resourceType\":\"Patient\",\"id\":\"b\"}" },
	{ V_DSTU2, "DSTU2: element ids on backbone elements",
	  "<Patient xmlns=\"http://hl7.org/fhir\"><contact id=\"c1\"><gender "
	  "value=\"female\"/></contact></Patient>",
	  "{\"resourceType\":\"Patient\",\"contact\":[{\"id\":\"c1\","
	  "\"gender\":\"female\"}]}" },
};

static void
test_to_json(void)
{
	struct buf	 jb = BUF_INIT;
	char		 err[512];
	size_t		 i;

	for (i = 0; i < sizeof(to_json_cases) / sizeof(to_json_cases[0]);
	    i++) {
		const struct to_json	*c = &to_json_cases[i];
		cJSON			*j = NULL;
		int			 rc;

		rc = xml_to_json(tab[c->v], c->xml, strlen(c->xml), 100, &j,
		    err, sizeof(err));
		if (rc != EMBER_OK)
			tap_diag("xml_to_json: %s", err);
		is_str(rc == EMBER_OK ? json_text(j, &jb) : "(failed)", c->json,
		    "%s", c->name);
		cJSON_Delete(j);
	}
	buf_free(&jb);
}

/* ---- 3. hostile and invalid XML ---- */

struct bad_xml {
	const char	*name;
	const char	*xml;
	size_t		 len;		/* 0: strlen */
	int		 rc;
	const char	*word;		/* in the message */
};

#define P_OPEN	"<Patient xmlns=\"http://hl7.org/fhir\">"
#define P_CLOSE	"</Patient>"

static const struct bad_xml bad_xml_cases[] = {
	{ "billion laughs",
	  "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	  "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	  "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
	  "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
	  "]>" P_OPEN "<id value=\"&lol3;\"/>" P_CLOSE, 0, EMBER_EINVAL,
	  "DOCTYPE" },
	{ "external entity (XXE)",
	  "<!DOCTYPE Patient [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	  P_OPEN "<id value=\"&x;\"/>" P_CLOSE, 0, EMBER_EINVAL, "DOCTYPE" },
	{ "external DTD",
	  "<!DOCTYPE Patient SYSTEM \"http://example.org/p.dtd\">" P_OPEN
	  P_CLOSE, 0, EMBER_EINVAL, "DOCTYPE" },
	{ "parameter entity",
	  "<!DOCTYPE p [<!ENTITY % e SYSTEM \"http://example.org/e\"> %e;]>"
	  P_OPEN P_CLOSE, 0, EMBER_EINVAL, "DOCTYPE" },
	{ "undeclared entity",
	  P_OPEN "<id value=\"&nbsp;\"/>" P_CLOSE, 0, EMBER_EINVAL,
	  "undefined entity" },
	{ "invalid UTF-8",
	  P_OPEN "<id value=\"\xc3\x28\"/>" P_CLOSE, 0, EMBER_EINVAL,
	  "UTF-8" },
	{ "overlong UTF-8",
	  P_OPEN "<id value=\"\xc0\xaf\"/>" P_CLOSE, 0, EMBER_EINVAL,
	  "UTF-8" },
	{ "UTF-8 surrogate",
	  P_OPEN "<id value=\"\xed\xa0\x80\"/>" P_CLOSE, 0, EMBER_EINVAL,
	  "UTF-8" },
	{ "NUL byte",
	  P_OPEN "<id value=\"a\0b\"/>" P_CLOSE,
	  sizeof(P_OPEN "<id value=\"a\0b\"/>" P_CLOSE) - 1, EMBER_EINVAL,
	  "NUL" },
	{ "another encoding",
	  "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" P_OPEN P_CLOSE, 0,
	  EMBER_EINVAL, "encoding" },
	{ "unknown element",
	  P_OPEN "<foo value=\"x\"/>" P_CLOSE, 0, EMBER_EINVAL,
	  "unknown element 'foo' in Patient" },
	{ "unknown element in a datatype",
	  P_OPEN "<name><first value=\"x\"/></name>" P_CLOSE, 0, EMBER_EINVAL,
	  "unknown element 'first' in Patient.name" },
	{ "unknown attribute",
	  P_OPEN "<active value=\"true\" foo=\"x\"/>" P_CLOSE, 0,
	  EMBER_EINVAL, "unknown attribute 'foo'" },
	{ "url attribute outside Extension",
	  P_OPEN "<name url=\"x\"/>" P_CLOSE, 0, EMBER_EINVAL,
	  "unknown attribute 'url'" },
	{ "id as an element inside a datatype",
	  P_OPEN "<name><id value=\"x\"/></name>" P_CLOSE, 0, EMBER_EINVAL,
	  "unknown element 'id'" },
	{ "a primitive's value as an element",
	  P_OPEN "<active><value value=\"true\"/></active>" P_CLOSE, 0,
	  EMBER_EINVAL, "unknown element 'value'" },
	{ "other namespace",
	  "<Patient xmlns=\"http://example.org/\"/>", 0, EMBER_EINVAL,
	  "namespace" },
	{ "no namespace",
	  "<Patient><id value=\"x\"/></Patient>", 0, EMBER_EINVAL,
	  "namespace" },
	{ "child in another namespace",
	  P_OPEN "<x:id xmlns:x=\"urn:x\" value=\"a\"/>" P_CLOSE, 0,
	  EMBER_EINVAL, "namespace" },
	{ "root is a datatype",
	  "<HumanName xmlns=\"http://hl7.org/fhir\"/>", 0, EMBER_EINVAL,
	  "not a resource type" },
	{ "root is abstract",
	  "<DomainResource xmlns=\"http://hl7.org/fhir\"/>", 0, EMBER_EINVAL,
	  "not a resource type" },
	{ "out of order",
	  P_OPEN "<gender value=\"male\"/><active value=\"true\"/>" P_CLOSE, 0,
	  EMBER_EINVAL, "out of order" },
	{ "repeated single element",
	  P_OPEN "<active value=\"true\"/><active value=\"false\"/>" P_CLOSE,
	  0, EMBER_EINVAL, "repeated" },
	{ "two types of one choice",
	  P_OPEN "<deceasedBoolean value=\"true\"/><deceasedDateTime value="
	  "\"2000\"/>" P_CLOSE, 0, EMBER_EINVAL, "repeated" },
	{ "text in an element",
	  P_OPEN "<active value=\"true\">yes</active>" P_CLOSE, 0,
	  EMBER_EINVAL, "text is not allowed" },
	{ "bad boolean",
	  P_OPEN "<active value=\"yes\"/>" P_CLOSE, 0, EMBER_EINVAL,
	  "true or false" },
	{ "fraction in an integer",
	  P_OPEN "<multipleBirthInteger value=\"1.5\"/>" P_CLOSE, 0,
	  EMBER_EINVAL, "not a valid integer" },
	{ "plus sign in a decimal",
	  "<Observation xmlns=\"http://hl7.org/fhir\"><status value=\"final\"/>"
	  "<code/><valueQuantity><value value=\"+1\"/></valueQuantity>"
	  "</Observation>", 0, EMBER_EINVAL, "not a valid decimal" },
	{ "decimal out of range",
	  "<Observation xmlns=\"http://hl7.org/fhir\"><status value=\"final\"/>"
	  "<code/><valueQuantity><value value=\"1e999\"/></valueQuantity>"
	  "</Observation>", 0, EMBER_EINVAL, "out of range" },
	{ "primitive without value or extension",
	  P_OPEN "<active/>" P_CLOSE, 0, EMBER_EINVAL, "neither a value" },
	{ "empty contained",
	  P_OPEN "<contained/>" P_CLOSE, 0, EMBER_EINVAL, "no resource" },
	{ "two resources in contained",
	  P_OPEN "<contained><Basic/><Basic/></contained>" P_CLOSE, 0,
	  EMBER_EINVAL, "more than one resource" },
	{ "a datatype in contained",
	  P_OPEN "<contained><HumanName/></contained>" P_CLOSE, 0,
	  EMBER_EINVAL, "not a resource type" },
	{ "narrative in the FHIR namespace",
	  P_OPEN "<text><status value=\"generated\"/><div>x</div></text>"
	  P_CLOSE, 0, EMBER_EINVAL, "XHTML namespace" },
	{ "FHIR element in the XHTML namespace",
	  P_OPEN "<active xmlns=\"http://www.w3.org/1999/xhtml\" value=\"true\""
	  "/>" P_CLOSE, 0, EMBER_EINVAL, "XHTML namespace" },
	{ "foreign element in the narrative",
	  P_OPEN "<text><status value=\"generated\"/><div xmlns=\"http://www."
	  "w3.org/1999/xhtml\"><x:script xmlns:x=\"urn:x\"/></div></text>"
	  P_CLOSE, 0, EMBER_EINVAL, "not in the XHTML namespace" },
	{ "not well-formed", P_OPEN "<id value=\"a\">" P_CLOSE, 0,
	  EMBER_EINVAL, "not well-formed" },
	{ "truncated", P_OPEN "<id value=\"a\"/>", 0, EMBER_EINVAL,
	  "not well-formed" },
	{ "two documents", P_OPEN P_CLOSE P_OPEN P_CLOSE, 0, EMBER_EINVAL,
	  "not well-formed" },
	{ "empty", "", 0, EMBER_EINVAL, "empty" },
	{ "only a declaration", "<?xml version=\"1.0\"?>", 0, EMBER_EINVAL,
	  "not well-formed" },
	{ "attribute on the resource element",
	  "<Patient xmlns=\"http://hl7.org/fhir\" id=\"x\"/>", 0, EMBER_EINVAL,
	  "unknown attribute 'id'" },
	{ "too deep for max_depth 5",
	  P_OPEN "<extension url=\"a\"><extension url=\"b\"><extension url="
	  "\"c\"><extension url=\"d\"><extension url=\"e\"><valueString "
	  "value=\"x\"/></extension></extension></extension></extension>"
	  "</extension>" P_CLOSE, 0, EMBER_EDEPTH, "deeper than 5" },
};

static void
test_bad_xml(void)
{
	cJSON	*sentinel = cJSON_CreateNull(), *out;
	char	 err[512];
	size_t	 i;

	for (i = 0; i < sizeof(bad_xml_cases) / sizeof(bad_xml_cases[0]);
	    i++) {
		const struct bad_xml	*c = &bad_xml_cases[i];
		int			 rc;

		out = sentinel;
		err[0] = '\0';
		rc = xml_to_json(tab[V_R4], c->xml, c->len ? c->len :
		    strlen(c->xml), strstr(c->name, "max_depth 5") ? 5 : 100,
		    &out, err, sizeof(err));
		is_int(rc, c->rc, "%s: error %d", c->name, c->rc);
		if (!ok(strstr(err, c->word) != NULL, "%s: message names '%s'",
		    c->name, c->word))
			tap_diag("message: %s", err);
		ok(out == sentinel, "%s: *out untouched", c->name);
	}
	cJSON_Delete(sentinel);
}

/* 10,000 nested elements: refused by the limit, or built when allowed. */
static void
test_deep(void)
{
	struct buf	 x = BUF_INIT;
	cJSON		*j = NULL;
	char		 err[256];
	int		 i, rc;
	const int	 n = 10000;

	buf_puts(&x, P_OPEN);
	for (i = 0; i < n; i++)
		buf_puts(&x, "<extension url=\"u\">");
	buf_puts(&x, "<valueString value=\"deep\"/>");
	for (i = 0; i < n; i++)
		buf_puts(&x, "</extension>");
	buf_puts(&x, P_CLOSE);
	rc = xml_to_json(tab[V_R4], x.data, x.len, 100, &j, err, sizeof(err));
	is_int(rc, EMBER_EDEPTH, "10,000-deep nesting refused at depth 100");
	rc = xml_to_json(tab[V_R4], x.data, x.len, 20000, &j, err,
	    sizeof(err));
	is_int(rc, EMBER_OK, "10,000-deep nesting read when allowed");
	cJSON_Delete(j);

	/* Unknown elements nested 10,000 deep: the first one is refused. */
	buf_reset(&x);
	buf_puts(&x, P_OPEN);
	for (i = 0; i < n; i++)
		buf_puts(&x, "<a>");
	for (i = 0; i < n; i++)
		buf_puts(&x, "</a>");
	buf_puts(&x, P_CLOSE);
	j = NULL;
	rc = xml_to_json(tab[V_R4], x.data, x.len, 100000, &j, err,
	    sizeof(err));
	is_int(rc, EMBER_EINVAL, "10,000 nested unknown elements refused");
	ok(j == NULL, "... and nothing returned");

	/* Narrative nested 10,000 deep. */
	buf_reset(&x);
	buf_puts(&x, P_OPEN "<text><status value=\"generated\"/><div"
	    XHTML ">");
	for (i = 0; i < n; i++)
		buf_puts(&x, "<span>");
	for (i = 0; i < n; i++)
		buf_puts(&x, "</span>");
	buf_puts(&x, "</div></text>" P_CLOSE);
	rc = xml_to_json(tab[V_R4], x.data, x.len, 100, &j, err, sizeof(err));
	is_int(rc, EMBER_EDEPTH, "10,000-deep narrative refused at depth 100");
	buf_free(&x);
}

/* ---- 4. JSON the writer refuses ---- */

struct bad_json {
	int		 v;
	const char	*name;
	const char	*json;
	const char	*word;
};

static const struct bad_json bad_json_cases[] = {
	{ V_R4, "unknown key", "{\"resourceType\":\"Patient\",\"foo\":1}",
	  "unknown key 'foo' in Patient" },
	{ V_R4, "unknown key in a datatype",
	  "{\"resourceType\":\"Patient\",\"name\":[{\"first\":\"x\"}]}",
	  "unknown key 'first' in HumanName" },
	{ V_R4, "unknown resourceType", "{\"resourceType\":\"Foo\"}",
	  "unknown resourceType" },
	{ V_R4, "abstract resourceType", "{\"resourceType\":\"Resource\"}",
	  "unknown resourceType" },
	{ V_R4, "no resourceType", "{\"id\":\"x\"}", "missing resourceType" },
	{ V_R4, "not an object", "[1]", "not a JSON object" },
	{ V_R4, "string for a boolean",
	  "{\"resourceType\":\"Patient\",\"active\":\"yes\"}",
	  "'active' must be a JSON boolean" },
	{ V_R4, "number as a string",
	  "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":\"2\"}",
	  "must be a JSON number" },
	{ V_R4, "fraction for an integer type",
	  "{\"resourceType\":\"Patient\",\"multipleBirthInteger\":1.5}",
	  "1.5 is not a valid integer" },
	{ V_R4, "array for a single element",
	  "{\"resourceType\":\"Patient\",\"gender\":[\"male\"]}",
	  "must not be an array" },
	{ V_R4, "object for an array",
	  "{\"resourceType\":\"Patient\",\"name\":{\"family\":\"x\"}}",
	  "must be an array" },
	{ V_R4, "null without extension",
	  "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\",null]}]}",
	  "null without" },
	{ V_R4, "_name of another length",
	  "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a\"],"
	  "\"_given\":[null,null]}]}", "differ in length" },
	{ V_R4, "unknown key in _name",
	  "{\"resourceType\":\"Patient\",\"active\":true,\"_active\":{\"x\":1}}",
	  "unknown or malformed key 'x'" },
	{ V_R4, "_name with nothing in it",
	  "{\"resourceType\":\"Patient\",\"_gender\":{\"extension\":[]}}",
	  "neither a value nor an id or extensions" },
	{ V_R4, "_name on a complex element",
	  "{\"resourceType\":\"Patient\",\"_name\":[{}]}", "unknown key '_name'" },
	{ V_R4, "two types for one choice",
	  "{\"resourceType\":\"Patient\",\"deceasedBoolean\":true,"
	  "\"deceasedDateTime\":\"2000\"}", "more than one value" },
	{ V_R4, "unknown choice type",
	  "{\"resourceType\":\"Patient\",\"deceasedString\":\"x\"}",
	  "unknown key 'deceasedString'" },
	{ V_R4, "control character",
	  "{\"resourceType\":\"Patient\",\"id\":\"a\\u0001\"}",
	  "a character XML cannot carry" },
	{ V_R4, "narrative not well-formed",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div><p>x</div>\"}}", "not well-formed" },
	{ V_R4, "narrative that would close the element (injection)",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div>x</div></text><active value=\\\"true\\\"/><text>"
	  "<div>\"}}", "not well-formed" },
	{ V_R4, "narrative that is not a div",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<p>x</p>\"}}", "must be an XHTML div" },
	{ V_R4, "narrative with a DOCTYPE",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<!DOCTYPE div [<!ENTITY a 'b'>]><div>&a;</div>\"}}",
	  "DOCTYPE" },
	{ V_R4, "narrative with a foreign element",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div><svg xmlns='http://www.w3.org/2000/svg'/></div>\"}}",
	  "not XHTML" },
	{ V_R4, "narrative with an unknown entity",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<div>&mp;</div>\"}}", "undefined entity" },
	{ V_R4, "narrative with text around it",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":\"<!-- x --><div>y</div>\"}}", "nothing around it" },
	{ V_R4, "narrative as a number",
	  "{\"resourceType\":\"Patient\",\"text\":{\"status\":\"generated\","
	  "\"div\":1}}", "'div' must be a string" },
	{ V_R4, "resource in the wrong place",
	  "{\"resourceType\":\"Patient\",\"managingOrganization\":{"
	  "\"resourceType\":\"Organization\"}}", "unknown key 'resourceType'" },
	{ V_R4, "contained that is not a resource",
	  "{\"resourceType\":\"Patient\",\"contained\":[{\"id\":\"x\"}]}",
	  "missing resourceType" },
	{ V_R4, "id that is not a string",
	  "{\"resourceType\":\"Patient\",\"name\":[{\"id\":5}]}",
	  "'id' in name must be a string" },
	{ V_R4, "url where there is no url attribute",
	  "{\"resourceType\":\"Patient\",\"name\":[{\"url\":\"x\"}]}",
	  "unknown key 'url' in HumanName" },
	{ V_R4, "extension url that is not a string",
	  "{\"resourceType\":\"Patient\",\"extension\":[{\"url\":1,"
	  "\"valueString\":\"x\"}]}", "'url' in extension must be a string" },
	{ V_R4, "_name alone for an unknown element",
	  "{\"resourceType\":\"Patient\",\"_foo\":{\"id\":\"a\"}}",
	  "unknown key '_foo' in Patient" },
	{ V_R4, "unknown key after every known one is used",
	  "{\"resourceType\":\"Patient\",\"id\":\"p\",\"active\":true,"
	  "\"zz\":1}", "unknown key 'zz' in Patient" },
	{ V_R4, "bad value in an extension of a primitive",
	  "{\"resourceType\":\"Patient\",\"_active\":{\"extension\":[{"
	  "\"url\":\"u\",\"valueBoolean\":1}]}}",
	  "'valueBoolean' must be a JSON boolean" },
};

static void
test_bad_json(void)
{
	struct buf	x = BUF_INIT;
	char		err[512], check[512];
	size_t		i;

	for (i = 0; i < sizeof(bad_json_cases) / sizeof(bad_json_cases[0]);
	    i++) {
		const struct bad_json	*c = &bad_json_cases[i];
		cJSON			*j = NULL;
		int			 rc;

		if (json_parse(c->json, strlen(c->json), 100, &j, err,
		    sizeof(err)) != EMBER_OK) {
			ok(0, "%s: JSON parses (%s)", c->name, err);
			continue;
		}
		buf_reset(&x);
		buf_puts(&x, "kept");
		rc = xml_from_json_err(tab[c->v], j, 1, &x, err, sizeof(err));
		is_int(rc, EMBER_EINVAL, "%s: refused", c->name);
		if (!ok(strstr(err, c->word) != NULL, "%s: message names '%s'",
		    c->name, c->word))
			tap_diag("message: %s", err);
		is_str(x.data, "kept", "%s: output left as it was", c->name);
		/* Checking only (no output) refuses it for the same reason. */
		is_int(xml_from_json_err(tab[c->v], j, 0, NULL, check,
		    sizeof(check)), rc, "%s: refused when only checked", c->name);
		is_str(check, err, "%s: the same reason when only checked",
		    c->name);
		cJSON_Delete(j);
	}
	buf_free(&x);
}

/* ---- 5. xml_xhtml_check, pretty output ---- */

static void
test_xhtml_check(void)
{
	static const struct {
		const char	*div;
		int		 rc;
	} cases[] = {
		{ "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>",
		    EMBER_OK },
		{ "<div>a&nbsp;b<br/></div>", EMBER_OK },
		{ "  <div>x</div>\n", EMBER_OK },
		{ "<div>x", EMBER_EINVAL },
		{ "<span>x</span>", EMBER_EINVAL },
		{ "<div>x</div><div>y</div>", EMBER_EINVAL },
		{ "<?xml version=\"1.0\"?><div>x</div>", EMBER_EINVAL },
		{ "<div>&bogus;</div>", EMBER_EINVAL },
		{ "<div>\xff</div>", EMBER_EINVAL },
		{ "<div xmlns=\"\">x</div>", EMBER_EINVAL },
		{ "<div><p xmlns=\"\">x</p></div>", EMBER_EINVAL },
		{ "<h:div xmlns:h=\"http://www.w3.org/1999/xhtml\"><h:p>x</h:p>"
		    "</h:div>", EMBER_OK },
		{ "", EMBER_EINVAL },
	};
	char	err[256];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(xml_xhtml_check(cases[i].div, strlen(cases[i].div), err,
		    sizeof(err)), cases[i].rc, "xml_xhtml_check case %zu", i);
}

static void
test_pretty(void)
{
	const char *json = "{\"resourceType\":\"Patient\",\"id\":\"p\","
	    "\"name\":[{\"family\":\"F\",\"given\":[\"G\"]}],\"active\":true}";
	const char *want = DECL "\n<Patient" FHIR ">\n  <id value=\"p\"/>\n"
	    "  <active value=\"true\"/>\n  <name>\n    <family value=\"F\"/>\n"
	    "    <given value=\"G\"/>\n  </name>\n</Patient>\n";
	struct buf	 x = BUF_INIT;
	cJSON		*j = NULL;
	char		 err[256];

	if (json_parse(json, strlen(json), 100, &j, err, sizeof(err)) !=
	    EMBER_OK) {
		ok(0, "pretty: JSON parses");
		return;
	}
	buf_puts(&x, "prefix:");
	is_int(xml_from_json(tab[V_R4], j, 1, &x), EMBER_OK, "pretty: written");
	ok(strncmp(x.data, "prefix:", 7) == 0, "pretty: appended to the buffer");
	is_str(x.data + 7, want, "pretty: indented by two spaces");
	cJSON_Delete(j);
	buf_free(&x);
}

/* ---- timing (diagnostic only) ---- */

static const char patient_json[] =
	"{\"resourceType\":\"Patient\",\"id\":\"example\",\"meta\":{"
	"\"versionId\":\"1\",\"lastUpdated\":\"2024-01-01T00:00:00.000Z\"},"
	"\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://"
	"www.w3.org/1999/xhtml\\\"><p>Peter James Chalmers, born 1974-12-25"
	"</p></div>\"},\"identifier\":[{\"use\":\"usual\",\"type\":{\"coding"
	"\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\","
	"\"code\":\"MR\"}]},\"system\":\"urn:oid:1.2.36.146.595.217.0.1\","
	"\"value\":\"12345\",\"period\":{\"start\":\"2001-05-06\"},"
	"\"assigner\":{\"display\":\"Acme Healthcare\"}}],\"active\":true,"
	"\"name\":[{\"use\":\"official\",\"family\":\"Chalmers\",\"given\":["
	"\"Peter\",\"James\"]},{\"use\":\"usual\",\"given\":[\"Jim\"]}],"
	"\"telecom\":[{\"system\":\"phone\",\"value\":\"(03) 5555 6473\","
	"\"use\":\"work\",\"rank\":1}],\"gender\":\"male\",\"birthDate\":"
	"\"1974-12-25\",\"_birthDate\":{\"extension\":[{\"url\":\"http://hl7."
	"org/fhir/StructureDefinition/patient-birthTime\",\"valueDateTime\":"
	"\"1974-12-25T14:35:45-05:00\"}]},\"deceasedBoolean\":false,"
	"\"address\":[{\"use\":\"home\",\"type\":\"both\",\"line\":[\"534 "
	"Erewhon St\"],\"city\":\"PleasantVille\",\"postalCode\":\"3999\"}],"
	"\"contact\":[{\"relationship\":[{\"coding\":[{\"system\":\"http://"
	"terminology.hl7.org/CodeSystem/v2-0131\",\"code\":\"N\"}]}],\"name\":"
	"{\"family\":\"du March\\u00e9\",\"given\":[\"B\\u00e9n\\u00e9dicte\"]}"
	",\"gender\":\"female\"}],\"managingOrganization\":{\"reference\":"
	"\"Organization/1\"}}";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_timing(void)
{
	struct buf	 x = BUF_INIT;
	cJSON		*j = NULL, *back = NULL;
	char		 err[256];
	double		 t0, t1, t2;
	int		 i, n = 2000, rc = EMBER_OK;

	if (json_parse(patient_json, sizeof(patient_json) - 1, 100, &j, err,
	    sizeof(err)) != EMBER_OK) {
		ok(0, "timing: JSON parses: %s", err);
		return;
	}
	t0 = now();
	for (i = 0; i < n && rc == EMBER_OK; i++) {
		buf_reset(&x);
		rc = xml_from_json(tab[V_R4], j, 0, &x);
	}
	t1 = now();
	for (i = 0; i < n && rc == EMBER_OK; i++) {
		cJSON_Delete(back);
		back = NULL;
		rc = xml_to_json(tab[V_R4], x.data, x.len, 100, &back, err,
		    sizeof(err));
	}
	t2 = now();
	is_int(rc, EMBER_OK, "timing: a typical Patient converts both ways");
	tap_diag("Patient (%zu bytes of XML): JSON->XML %.1f us, XML->JSON "
	    "%.1f us per conversion", x.len, (t1 - t0) * 1e6 / n,
	    (t2 - t1) * 1e6 / n);
	cJSON_Delete(j);
	cJSON_Delete(back);
	buf_free(&x);
}

int
main(void)
{
	tables_open_all(tab);
	test_to_xml();
	test_to_json();
	test_bad_xml();
	test_deep();
	test_bad_json();
	test_xhtml_check();
	test_pretty();
	test_timing();
	tables_close_all(tab);
	tap_done();
	return tap_exit();
}
