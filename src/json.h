/*
 * json.h: strict JSON parsing into cJSON trees, and an exact serializer
 * (leaf module, prefix json_).
 *
 * cJSON's parser would turn 1.50 into 1.5 and accept things a FHIR
 * server must refuse.  json_parse() reads the text once and builds the
 * cJSON tree itself: RFC 8259's grammar, numbers included; valid UTF-8;
 * no control byte or NUL (\u0000) in strings; nesting within a limit;
 * numbers that fit a double; no key twice in an object.  Each number
 * keeps its original text in the node's valuestring, and json_write()
 * prints numbers from it, so decimals come out exactly as they came in.
 * The trees are cJSON's in every way: cJSON_Delete() frees them.
 */
#ifndef EMBER_JSON_H
#define EMBER_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct buf;

/*
 * Parse len bytes of text into a new cJSON tree in *out.
 * max_depth bounds the nesting of objects and arrays (and is at most
 * cJSON's own limit, CJSON_NESTING_LIMIT).
 * Returns EMBER_OK; EMBER_EINVAL for malformed JSON, invalid UTF-8, a NUL
 * in a string, a duplicate key or a number out of range, EMBER_EDEPTH for
 * too deep nesting, EMBER_ENOMEM.  On failure *out is untouched and, if
 * err is not NULL, a short English reason is written to it.
 * The caller frees the tree with cJSON_Delete().
 */
int json_parse(const char *text, size_t len, unsigned max_depth,
    cJSON **out, char *err, size_t errsz);

/*
 * Arenas, for big trees: a tree parsed into one (json_parse_arena())
 * has its nodes and strings in a few large blocks, and no free() of
 * each when it goes.  While an arena is in use in a thread
 * (json_arena_use(): one at a time in each), cJSON's frees in that
 * thread go through json.c, which leaves the arena's memory alone and
 * free()s anything else, so the tree may be changed as any other (nodes
 * added, detached, deleted) and is freed with cJSON_Delete() as usual;
 * then json_arena_free() frees its memory (and stops its use in the
 * calling thread).  Memory cJSON allocated must then be freed with
 * cJSON_free() or cJSON_Delete(), never free().  Threads may use one
 * arena at once while none parses into it.  json_arena_new() gives NULL
 * when out of memory.
 */
struct json_arena;

struct json_arena *json_arena_new(void);
void json_arena_use(struct json_arena *a);	/* NULL: none */
void json_arena_free(struct json_arena *a);
struct json_arena *json_arena_current(void);	/* in use, or NULL */

/*
 * As json_parse(), into arena a, which must be in use (else
 * EMBER_EINTERNAL).
 */
int json_parse_arena(struct json_arena *a, const char *text, size_t len,
    unsigned max_depth, cJSON **out, char *err, size_t errsz);

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
