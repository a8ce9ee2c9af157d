/*
 * index.h: the search index: what posting keys a resource has, one per
 * value of every search parameter of its type, normalized per parameter
 * type (prefix index_).  search.c builds the same keys from query values.
 *
 * A posting key is
 *	param(4) tag value...
 * where param is the 32-bit FNV-1a hash of "Type NUL code" (the resource
 * type and the parameter code: stable across table builds, and checked
 * free of collisions within each version by test-index), and tag one
 * byte naming the value's form:
 *	's' folded string (case and accents folded)	string
 *	'e' exact string				string :exact
 *	'T' code NUL system				token
 *	'x' folded display / text			token :text
 *	'O' value NUL type code NUL type system	token :of-type
 *	'r' Type/id, or an absolute or canonical URL	reference
 *	'i' system NUL value (Reference.identifier)	reference :identifier
 *	'u' uri						uri
 *	'd' low(8) high(8), microseconds, sortable	date
 *	'n' value(8), sortable double			number
 *	'Q' value(8)					quantity, any unit
 *	'q' system NUL code NUL value(8)		quantity system|code
 *	'U' unit NUL value(8)				quantity ||unit
 *	'C' first 0x01 second				composite of two
 *	'C' first 0x01 len second len third		composite of three
 *	'g' latitude(8) longitude(8)			special: near
 * where a composite's components are encoded as: token code NUL system;
 * quantity value(8) system NUL code; number value(8); date low(8)
 * high(8); string folded; reference and uri as written.
 * Longer values are cut so that a key stays within STORE_POSTING_MAX.
 */
#ifndef EMBER_INDEX_H
#define EMBER_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct buf;
struct tables;

#define INDEX_VALUE_MAX	200	/* bytes of a string value kept */
#define INDEX_TYPE_MAX	64	/* bytes of a resource type name */
#define INDEX_PREFIX_LEN 4	/* the parameter part of a key */

/*
 * Append to out the posting keys of resource, a resource of concrete
 * resource index `resource` in t, in store_postings_replace()'s blob
 * form (2-byte length, key).  The resources in its `contained` are
 * indexed too, under the prefixes of the type name "#Type" (for
 * _contained searches).  Returns EMBER_OK, EMBER_ENOMEM, or
 * EMBER_ETABLES when the tables cannot be read.
 */
int index_keys(const struct tables *t, unsigned resource, const cJSON *res,
    struct buf *out);

struct tables_param;

/*
 * Whether a composite parameter is indexed (two components, the first a
 * token, string, uri or reference): only those are searchable.
 */
int index_composite_supported(const struct tables *t,
    const struct tables_param *p);

/*
 * Write "#" type into out (size bytes): the type name whose parameter
 * prefixes key the postings of contained resources of that type.
 * EMBER_OK, or EMBER_EINVAL when it does not fit.
 */
int index_contained_type(char *out, size_t size, const char *type,
    size_t tlen);

/*
 * Append to out, in index_keys()'s blob form, the key a date parameter
 * code of Type gives for the date value (NUL-terminated): nothing when
 * the value is not a date.  EMBER_OK or EMBER_ENOMEM.
 */
int index_date_key(struct buf *out, const char *type, size_t tlen,
    const char *code, const char *value);

/* Append the 4-byte key prefix of parameter code of Type to b. */
int index_prefix(struct buf *b, const char *type, size_t tlen,
    const char *code, size_t clen);

/*
 * Append s folded for string matching: ASCII lowercased, Latin letters
 * with diacritics (U+00C0..U+017F) reduced to their base letter, at most
 * INDEX_VALUE_MAX bytes.  Invalid UTF-8 bytes are kept as they are.
 */
int index_fold(struct buf *b, const char *s, size_t len);

/* Append v as 8 bytes that sort like the signed value. */
int index_put_i64(struct buf *b, int64_t v);

/* Append v as 8 bytes that sort like the double (no NaN). */
int index_put_double(struct buf *b, double v);

/* Inverse of index_put_i64 / index_put_double on 8 bytes. */
int64_t index_get_i64(const unsigned char *p);
double index_get_double(const unsigned char *p);

#endif /* EMBER_INDEX_H */
