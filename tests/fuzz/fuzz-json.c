/*
 * fuzz-json.c: json_parse() and json_write() (src/json.h).
 *
 * The input is JSON text.  Whatever json_parse() accepts must
 * write out and parse back to the same text: parse(write(parse(x)))
 * written again equals write(parse(x)) byte for byte, minified and
 * pretty-printed, the tree never has a duplicate key, and the text
 * has no control byte but the blanks tab, LF and CR.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "json.h"

#include "fuzz.h"

#define FUZZ_JSON_DEPTH	100	/* the server's default max_depth */

/* Parse text, which must succeed, and write it minified to out. */
static void
fuzz_json_again(const char *what, const char *text, size_t len,
    struct buf *out)
{
	cJSON	*tree = NULL;
	char	 err[256];
	int	 rc;

	/* Pretty printing adds no nesting, so the same depth must do. */
	if ((rc = json_parse(text, len, FUZZ_JSON_DEPTH, &tree, err,
	    sizeof(err))) != EMBER_OK)
		fuzz_fail("%s does not parse back (%s: %s): %.*s", what,
		    ember_strerror(rc), err, (int)len, text);
	if (json_write(out, tree, 0) != EMBER_OK)
		fuzz_fail("json_write failed");
	cJSON_Delete(tree);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*text = fuzz_dup(data, size);
	cJSON		*tree = NULL;
	struct buf	 first = BUF_INIT, pretty = BUF_INIT, again = BUF_INIT;
	char		 err[256] = "";
	size_t		 i;
	int		 rc;

	rc = json_parse(text, size, FUZZ_JSON_DEPTH, &tree, err, sizeof(err));
	if (rc != EMBER_OK) {
		if (rc != EMBER_EINVAL && rc != EMBER_EDEPTH)
			fuzz_fail("json_parse: unexpected %s",
			    ember_strerror(rc));
		if (err[0] == '\0')
			fuzz_fail("json_parse failed without a reason");
		goto done;
	}
	if (json_check_duplicates(tree, NULL, 0) != EMBER_OK)
		fuzz_fail("json_parse accepted a duplicate key");
	/* RFC 8259 has no raw control byte but tab, LF and CR (blanks). */
	for (i = 0; i < size; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\t' &&
		    text[i] != '\n' && text[i] != '\r')
			fuzz_fail("json_parse accepted control byte 0x%02x at "
			    "%zu", (unsigned char)text[i], i);
	if (json_write(&first, tree, 0) != EMBER_OK ||
	    json_write(&pretty, tree, 1) != EMBER_OK)
		fuzz_fail("json_write failed");
	if (memchr(first.data, '\n', first.len) != NULL)
		fuzz_fail("minified output has a newline: %.*s",
		    (int)first.len, first.data);

	fuzz_json_again("minified output", first.data, first.len, &again);
	if (again.len != first.len ||
	    memcmp(again.data, first.data, first.len) != 0)
		fuzz_fail("round trip not stable:\n%.*s\n%.*s",
		    (int)first.len, first.data, (int)again.len, again.data);
	buf_reset(&again);
	fuzz_json_again("pretty output", pretty.data, pretty.len, &again);
	if (again.len != first.len ||
	    memcmp(again.data, first.data, first.len) != 0)
		fuzz_fail("pretty round trip differs:\n%.*s\n%.*s",
		    (int)first.len, first.data, (int)again.len, again.data);
done:
	cJSON_Delete(tree);
	buf_free(&first);
	buf_free(&pretty);
	buf_free(&again);
	free(text);
	return 0;
}
