/*
 * fuzz-xml.c: xml_to_json() and xml_from_json() (src/xml.h), and
 * xml_xhtml_check() on every narrative read.
 *
 * The input is an XML resource.  It is read with the tables of every
 * FHIR version (the type model decides what fits, so each version
 * accepts different documents).  A refusal must be EINVAL or EDEPTH
 * with a reason.  Whatever one version accepts must:
 *
 *   - be a JSON object with a resourceType, whose JSON text parses
 *     back with no duplicate key;
 *   - carry a narrative div that xml_xhtml_check() accepts (the JSON
 *     input path would refuse a div the XML path let in);
 *   - write out as XML, minified and pretty-printed, and read back to
 *     a tree equal to the first (the pretty form may only add
 *     whitespace the reader drops);
 *   - write out the second time byte for byte as the first.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "tables.h"
#include "xml.h"

#include "fuzz.h"

#define FUZZ_XML_DEPTH	100	/* the server's default max_depth */

/* The compiled tables, one per FHIR version (schemas/<name>.tables). */
static const char *const fuzz_xml_versions[] = {
	"dstu2", "stu3", "r4", "r4b", "r5",
};

/* Every narrative div of tree (any depth) must pass xml_xhtml_check(). */
static void
fuzz_xml_check_divs(const cJSON *tree, const char *version)
{
	const cJSON	*c;
	char		 err[256] = "";

	cJSON_ArrayForEach(c, tree) {
		if (c->string != NULL && strcmp(c->string, "div") == 0 &&
		    cJSON_IsString(c) && xml_xhtml_check(c->valuestring,
		    strlen(c->valuestring), err, sizeof(err)) != EMBER_OK)
			fuzz_fail("%s: div read from XML fails "
			    "xml_xhtml_check (%s): %s", version, err,
			    c->valuestring);
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			fuzz_xml_check_divs(c, version);
	}
}

/* Read xml, which must succeed, into a new tree. */
static cJSON *
fuzz_xml_read_back(const struct tables *t, const char *version,
    const char *what, const struct buf *xml)
{
	cJSON	*tree = NULL;
	char	 err[256] = "";
	int	 rc;

	if ((rc = xml_to_json(t, xml->data, xml->len, FUZZ_XML_DEPTH,
	    &tree, err, sizeof(err))) != EMBER_OK)
		fuzz_fail("%s: %s does not read back (%s: %s): %.*s", version,
		    what, ember_strerror(rc), err, (int)xml->len, xml->data);
	return tree;
}

/*
 * The JSON text of tree must be want, byte for byte.  The reader builds
 * keys in definition order, so equal trees write equal text; and unlike
 * cJSON_Compare(), which walks each object twice per level (2^depth on
 * nested extensions), this is linear.
 */
static void
fuzz_xml_same(const char *version, const char *what, const struct buf *want,
    const cJSON *tree)
{
	struct buf got = BUF_INIT;

	if (json_write(&got, tree, 0) != EMBER_OK)
		fuzz_fail("%s: json_write failed", version);
	if (got.len != want->len || memcmp(got.data, want->data, got.len))
		fuzz_fail("%s: %s differs:\n%.*s\n%.*s", version, what,
		    (int)want->len, want->data, (int)got.len, got.data);
	buf_free(&got);
}

static void
fuzz_xml_one(const char *version, const char *text, size_t size)
{
	const struct tables	*t = fuzz_tables(version);
	cJSON			*tree = NULL, *back = NULL, *again = NULL;
	cJSON			*json_back = NULL;
	struct buf		 x1 = BUF_INIT, x2 = BUF_INIT;
	struct buf		 pretty = BUF_INIT, jb = BUF_INIT;
	char			 err[256] = "";
	const char		*rt;
	int			 rc;

	rc = xml_to_json(t, text, size, FUZZ_XML_DEPTH, &tree, err,
	    sizeof(err));
	if (rc != EMBER_OK) {
		if (rc != EMBER_EINVAL && rc != EMBER_EDEPTH)
			fuzz_fail("%s: xml_to_json: unexpected %s (%s)",
			    version, ember_strerror(rc), err);
		if (err[0] == '\0')
			fuzz_fail("%s: xml_to_json failed without a reason",
			    version);
		if (tree != NULL)
			fuzz_fail("%s: xml_to_json failed but set *out",
			    version);
		goto done;
	}
	if (!cJSON_IsObject(tree) ||
	    (rt = json_string(tree, "resourceType")) == NULL || *rt == '\0')
		fuzz_fail("%s: xml_to_json gave no resourceType", version);
	if (json_check_duplicates(tree, NULL, 0) != EMBER_OK)
		fuzz_fail("%s: xml_to_json made a duplicate key", version);
	if (json_write(&jb, tree, 0) != EMBER_OK)
		fuzz_fail("%s: json_write failed", version);
	if ((rc = json_parse(jb.data, jb.len, 10000, &json_back, err,
	    sizeof(err))) != EMBER_OK)
		fuzz_fail("%s: the JSON of an XML resource does not parse "
		    "(%s): %.*s", version, err, (int)jb.len, jb.data);
	fuzz_xml_check_divs(tree, version);

	/* Write, read back, compare; the pretty form must read the same. */
	if ((rc = xml_from_json_err(t, tree, 0, &x1, err, sizeof(err))) !=
	    EMBER_OK)
		fuzz_fail("%s: xml_from_json refuses what xml_to_json read "
		    "(%s: %s): %.*s", version, ember_strerror(rc), err,
		    (int)jb.len, jb.data);
	back = fuzz_xml_read_back(t, version, "written XML", &x1);
	fuzz_xml_same(version, "XML round trip", &jb, back);
	if (xml_from_json(t, back, 0, &x2) != EMBER_OK)
		fuzz_fail("%s: xml_from_json refuses its own output", version);
	if (x1.len != x2.len || memcmp(x1.data, x2.data, x1.len) != 0)
		fuzz_fail("%s: XML writes differently the second time:\n"
		    "%.*s\n%.*s", version, (int)x1.len, x1.data, (int)x2.len,
		    x2.data);
	if (xml_from_json(t, tree, 1, &pretty) != EMBER_OK)
		fuzz_fail("%s: pretty xml_from_json failed", version);
	again = fuzz_xml_read_back(t, version, "pretty XML", &pretty);
	fuzz_xml_same(version, "pretty XML round trip", &jb, again);
done:
	cJSON_Delete(tree);
	cJSON_Delete(back);
	cJSON_Delete(again);
	cJSON_Delete(json_back);
	buf_free(&x1);
	buf_free(&x2);
	buf_free(&pretty);
	buf_free(&jb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*text = fuzz_dup(data, size);
	size_t	 i;

	for (i = 0; i < sizeof(fuzz_xml_versions) /
	    sizeof(fuzz_xml_versions[0]); i++)
		fuzz_xml_one(fuzz_xml_versions[i], text, size);
	free(text);
	return 0;
}
