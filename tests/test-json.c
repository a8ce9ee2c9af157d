/*
 * test-json.c: json_parse() accepts what FHIR JSON allows and refuses what
 * a server must refuse; json_write() gives the exact minified text back,
 * decimals included.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "tap.h"

static const struct {
	const char	*input;
	int		 err;		/* expected json_parse() result */
	const char	*output;	/* expected minified json_write() */
} cases[] = {
	/* Numbers keep their text. */
	{ "{\"value\": 1.50}", EMBER_OK, "{\"value\":1.50}" },
	{ "{\"v\":[0.0010, -2, 1e3, 1E-2, 100]}", EMBER_OK,
	  "{\"v\":[0.0010,-2,1e3,1E-2,100]}" },
	{ "{\"v\":12345678901234567890}", EMBER_OK,
	  "{\"v\":12345678901234567890}" },
	/* Strings, escapes, UTF-8. */
	{ "{\"family\":\"Le\\u00f3n\",\"given\":[\"Zo\xc3\xab\"]}", EMBER_OK,
	  "{\"family\":\"Le\xc3\xb3n\",\"given\":[\"Zo\xc3\xab\"]}" },
	{ "{\"t\":\"a\\\"b\\\\c\\n\\t\\u0001\"}", EMBER_OK,
	  "{\"t\":\"a\\\"b\\\\c\\n\\t\\u0001\"}" },
	{ "{\"s\":\"\\ud83d\\ude00\"}", EMBER_OK,
	  "{\"s\":\"\xf0\x9f\x98\x80\"}" },
	{ "  {\"a\":true,\"b\":false,\"c\":null}  \n", EMBER_OK,
	  "{\"a\":true,\"b\":false,\"c\":null}" },
	{ "[]", EMBER_OK, "[]" },
	{ "{}", EMBER_OK, "{}" },
	/* Long strings: scanned and escaped a word at a time. */
	{ "{\"s\":\"0123456789abcdefghijklmnopqrstuvwxyz\\\"end\"}", EMBER_OK,
	  "{\"s\":\"0123456789abcdefghijklmnopqrstuvwxyz\\\"end\"}" },
	{ "{\"s\":\"0123456789abcdefghij\xc3\xb3klmnopqrstuvwxyz~\"}",
	  EMBER_OK,
	  "{\"s\":\"0123456789abcdefghij\xc3\xb3klmnopqrstuvwxyz~\"}" },
	{ "[-0, 0.5e-3, 1E+2, 10]", EMBER_OK, "[-0,0.5e-3,1E+2,10]" },
	{ "[1234567890123456789012345678901234567890123456789012345678901234]",
	  EMBER_OK,
	  "[1234567890123456789012345678901234567890123456789012345678901234]" },
	{ "{\"s\":\"\\/\\b\\f\\r\\u00e9\\u20ac\"}", EMBER_OK,
	  "{\"s\":\"/\\u0008\\u000c\\r\xc3\xa9\xe2\x82\xac\"}" },
	/* Refused. */
	{ "  \n ", EMBER_EINVAL, NULL },
	{ "nul", EMBER_EINVAL, NULL },
	{ "[01]", EMBER_EINVAL, NULL },			/* RFC 8259 numbers */
	{ "[1.]", EMBER_EINVAL, NULL },
	{ "[.5]", EMBER_EINVAL, NULL },
	{ "[-]", EMBER_EINVAL, NULL },
	{ "[1e]", EMBER_EINVAL, NULL },
	{ "[+1]", EMBER_EINVAL, NULL },
	{ "[1.2.3]", EMBER_EINVAL, NULL },
	{ "[12345678901234567890123456789012345678901234567890123456789012345]",
	  EMBER_EINVAL, NULL },				/* 65 digits */
	{ "{\"s\":\"\\ud800\"}", EMBER_EINVAL, NULL },	/* lone high */
	{ "{\"s\":\"\\udc00\"}", EMBER_EINVAL, NULL },	/* lone low */
	{ "{\"s\":\"\\ud800\\u0041\"}", EMBER_EINVAL, NULL },
	{ "{\"s\":\"\\x\"}", EMBER_EINVAL, NULL },	/* unknown escape */
	{ "{\"s\":\"\\u12\"}", EMBER_EINVAL, NULL },
	{ "{\"a\" 1}", EMBER_EINVAL, NULL },
	{ "{1:2}", EMBER_EINVAL, NULL },
	{ "[1 2]", EMBER_EINVAL, NULL },
	{ "[1,]", EMBER_EINVAL, NULL },
	{ "[\x01]", EMBER_EINVAL, NULL },
	{ "\xef\xbb\xbf{}", EMBER_EINVAL, NULL },		/* a byte order mark */
	{ "", EMBER_EINVAL, NULL },
	{ "{", EMBER_EINVAL, NULL },
	{ "{\"a\":1,}", EMBER_EINVAL, NULL },
	{ "{\"a\":1} x", EMBER_EINVAL, NULL },
	{ "{\"a\":1,\"a\":2}", EMBER_EINVAL, NULL },
	{ "{\"o\":{\"k\":1,\"k\":1}}", EMBER_EINVAL, NULL },
	{ "{\"s\":\"a\\u0000b\"}", EMBER_EINVAL, NULL },
	{ "{\"s\":\"\xff\"}", EMBER_EINVAL, NULL },
	{ "{\"s\":\"\xc0\xaf\"}", EMBER_EINVAL, NULL },	/* overlong */
	{ "{\"s\":\"\xed\xa0\x80\"}", EMBER_EINVAL, NULL },	/* surrogate */
	{ "{\"s\":\"tab\there\"}", EMBER_EINVAL, NULL },	/* raw control */
	{ "{\"s\":\"0123456789abcdefghijklmnopq\there\"}", EMBER_EINVAL,
	  NULL },
	{ "{\"s\":\"0123456789abcdefghijklmnopq\xff\"}", EMBER_EINVAL, NULL },
	{ "{\"s\":\"0123456789abcdefghijklmnopq\\u0000\"}", EMBER_EINVAL,
	  NULL },
	{ "{\"s\":\"0123456789abcdefghijklmnopqrstuvwxyz", EMBER_EINVAL,
	  NULL },
	{ "{\"n\":1e999}", EMBER_EINVAL, NULL },
	{ "{\"n\":-1e999}", EMBER_EINVAL, NULL },
	{ "{\"n\":1111111111111111111111111111111111111111111111111111111111111111111}",
	  EMBER_EINVAL, NULL },
	{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	  EMBER_EDEPTH, NULL },
};

int
main(void)
{
	struct buf	 b = BUF_INIT;
	cJSON		*tree = NULL, *o;
	char		 err[128];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tree = NULL;
		rc = json_parse(cases[i].input, strlen(cases[i].input), 32,
		    &tree, err, sizeof(err));
		is_int(rc, cases[i].err, "parse case %zu: %s", i,
		    ember_strerror(cases[i].err));
		if (rc == EMBER_OK && cases[i].output != NULL) {
			buf_reset(&b);
			json_write(&b, tree, 0);
			is_str(b.data, cases[i].output, "write case %zu", i);
		}
		ok(rc == EMBER_OK || tree == NULL,
		    "case %zu: no tree on failure", i);
		cJSON_Delete(tree);
	}

	/* Pretty output. */
	json_parse("{\"a\":[1,{\"b\":2.0}],\"c\":{}}", 26, 32, &tree, NULL, 0);
	buf_reset(&b);
	json_write(&b, tree, 1);
	is_str(b.data, "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2.0\n    }\n"
	    "  ],\n  \"c\": {}\n}", "pretty output");
	/* json_set_string replaces in place and appends. */
	json_set_string(tree, "c", "x");
	json_set_string(tree, "d", "y\"");
	buf_reset(&b);
	json_write(&b, tree, 0);
	is_str(b.data, "{\"a\":[1,{\"b\":2.0}],\"c\":\"x\",\"d\":\"y\\\"\"}",
	    "json_set_string replaces in place, then appends");
	is_str(json_string(tree, "d"), "y\"", "json_string reads a string");
	ok(json_string(tree, "a") == NULL, "json_string: NULL for non-string");
	o = cJSON_GetObjectItemCaseSensitive(tree, "a");
	ok(cJSON_IsArray(o), "cJSON sees the parsed array");
	cJSON_Delete(tree);

	/* A tree in an arena is changed and freed as any other; nodes
	 * added to it are freed with it.  (ASan builds check the frees.) */
	{
		static const char text[] = "{\"resourceType\":\"Bundle\","
		    "\"entry\":[{\"resource\":{\"id\":\"a\",\"n\":1.50}},"
		    "{\"resource\":{\"id\":\"b\"}}]}";
		struct json_arena	*a = json_arena_new();
		cJSON			*e, *r;

		tree = NULL;
		is_int(json_parse_arena(a, text, strlen(text), 32, &tree,
		    err, sizeof(err)), EMBER_EINTERNAL,
		    "an arena not in use is refused");
		json_arena_use(a);
		is_int(json_parse_arena(a, text, strlen(text), 32, &tree,
		    err, sizeof(err)), EMBER_OK, "parse into an arena");
		e = json_get(tree, "entry");
		r = json_get(cJSON_GetArrayItem(e, 0), "resource");
		json_set_string(r, "id", "a-much-longer-id-than-before");
		cJSON_AddStringToObject(r, "added", "x");
		cJSON_DeleteItemFromObjectCaseSensitive(r, "n");
		cJSON_Delete(cJSON_DetachItemFromArray(e, 1));
		buf_reset(&b);
		json_write(&b, tree, 0);
		is_str(b.data, "{\"resourceType\":\"Bundle\",\"entry\":[{"
		    "\"resource\":{\"id\":\"a-much-longer-id-than-before\","
		    "\"added\":\"x\"}}]}", "an arena tree changed");
		is_int(json_parse_arena(a, "{\"a\":[1,", 9, 32, &tree, err,
		    sizeof(err)), EMBER_EINVAL, "a failed parse in an arena");
		cJSON_Delete(tree);
		json_arena_free(a);
		tree = NULL;
		is_int(json_parse("[true]", 6, 32, &tree, NULL, 0), EMBER_OK,
		    "after the arena, trees from cJSON's allocator again");
		cJSON_Delete(tree);
	}
	buf_free(&b);
	tap_done();
	return tap_exit();
}
