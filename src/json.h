/*
 * json.h: strict JSON parsing on top of cJSON, and an exact serializer
 * (leaf module, prefix json_).
 *
 * cJSON is the parser, but cJSON alone would turn 1.50 into 1.5 and
 * accept things a FHIR server must refuse.  json_parse() first scans the
 * text itself: valid UTF-8, no NUL (\u0000) in strings, nesting within a
 * limit, numbers that fit a double; then lets cJSON build the tree, keeps
 * each number's original text in the node's valuestring, and refuses
 * duplicate keys.  json_write() prints numbers from that text, so decimals
 * come out exactly as they came in.
 */
#ifndef EMBER_JSON_H
#define EMBER_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct buf;

/*
 * Parse len bytes of text into a new cJSON tree in *out.
 * max_depth bounds the nesting of objects and arrays.
 * Returns EMBER_OK; EMBER_EINVAL for malformed JSON, invalid UTF-8, a NUL
 * in a string, a duplicate key or a number out of range, EMBER_EDEPTH for
 * too deep nesting, EMBER_ENOMEM.  On failure *out is untouched and, if
 * err is not NULL, a short English reason is written to it.
 * The caller frees the tree with cJSON_Delete().
 */
int json_parse(const char *text, size_t len, unsigned max_depth,
    cJSON **out, char *err, size_t errsz);

/*
 * Append item as JSON to b: minified when pretty is 0, else indented by
 * two spaces.  Numbers print from their original text when they have one.
 * Returns EMBER_OK or EMBER_ENOMEM.
 */
int json_write(struct buf *b, const cJSON *item, int pretty);

/*
 * Return member key of object, or NULL when object or key is NULL or
 * there is no such member: exactly what cJSON_GetObjectItemCaseSensitive()
 * returns (the first member of that name; NULL at once for an array),
 * found with less work, since the FHIR code looks members up by the
 * million.  Borrowed from the tree.
 */
cJSON *json_get(const cJSON *object, const char *key);

/*
 * Return the string value of object member key, or NULL when the member
 * is missing or not a string.  Borrowed from the tree.
 */
const char *json_string(const cJSON *object, const char *key);

/*
 * Set object member key to a new string value, replacing any existing
 * member of that name in place (keeping its position) or appending it.
 * Returns EMBER_OK or EMBER_ENOMEM.
 */
int json_set_string(cJSON *object, const char *key, const char *value);

/*
 * Check that the object has no member called key twice, recursively.
 * EMBER_OK or EMBER_EINVAL (key copied to err).
 */
int json_check_duplicates(const cJSON *item, char *err, size_t errsz);

#endif /* EMBER_JSON_H */
