/*
 * json.c: strict parse and exact write of JSON; see json.h.
 *
 * The parser reads the text once and builds cJSON's trees itself, with
 * cJSON's allocator, so that cJSON_Delete() and the rest of cJSON work
 * on them as on their own.  It accepts what cJSON 1.7 accepts, less
 * what a FHIR server must refuse (see json.h), and builds the same
 * nodes, the last child in the first one's prev as cJSON keeps it.
 * Numbers follow RFC 8259's grammar, where cJSON took what strtod()
 * takes ("01", "1."), and json_write() would have given it back.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "json.h"

#define JSON_NUMBER_MAX	64	/* longest number text accepted */
/* Deeper nesting than cJSON itself allows is refused, whatever the
 * caller's limit: the parser recurses once per level. */
#define JSON_DEPTH_MAX	CJSON_NESTING_LIMIT

/* One parse: the text, where it is, and the first error met. */
struct json_parser {
	const unsigned char	*start;
	const unsigned char	*p;
	const unsigned char	*end;
	unsigned		 depth;
	unsigned		 max_depth;
	int			 rc;
	char			*err;
	size_t			 errsz;
	struct json_arena	*arena;		/* or cJSON's allocator */
};

/*
 * Arenas.  A tree parsed into one has its nodes and strings in a few
 * large blocks, freed together; while it is in use, cJSON frees through
 * json_arena_release(), which leaves the arena's memory alone.
 */
#define JSON_CHUNK_FIRST	((size_t)64 << 10)
#define JSON_CHUNK_MAX		((size_t)64 << 20)
#define JSON_ALIGN		16

struct json_chunk {
	struct json_chunk	*next;		/* the one made before */
	size_t			 size;		/* of data */
	size_t			 used;
	unsigned char		*data;
};

struct json_arena {
	struct json_chunk	*chunks;	/* newest first */
};

/* The arena in use by this thread (json_arena_use()), or NULL. */
static _Thread_local struct json_arena *json_active;
static pthread_once_t json_hooks_once = PTHREAD_ONCE_INIT;

struct json_arena *
json_arena_current(void)
{
	return json_active;
}

struct json_arena *
json_arena_new(void)
{
	return calloc(1, sizeof(struct json_arena));
}

void
json_arena_free(struct json_arena *a)
{
	struct json_chunk *c, *next;

	if (a == NULL)
		return;
	if (json_active == a)
		json_arena_use(NULL);
	for (c = a->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

/* cJSON's free: the memory of the thread's arena in use stays. */
static void
json_arena_release(void *p)
{
	const struct json_chunk	*c;
	const unsigned char	*q = p;

	if (json_active != NULL)
		for (c = json_active->chunks; c != NULL; c = c->next)
			if (q >= c->data && q < c->data + c->size)
				return;
	free(p);
}

static void
json_hooks_install(void)
{
	cJSON_Hooks h = { NULL, json_arena_release };

	cJSON_InitHooks(&h);
}

void
json_arena_use(struct json_arena *a)
{
	/* cJSON's hooks are the process's, so they are set once and stay:
	 * a thread with no arena in use frees as cJSON would. */
	pthread_once(&json_hooks_once, json_hooks_install);
	json_active = a;
}

/* n bytes from jp's arena, or from cJSON's allocator. */
static void *
json_alloc(struct json_parser *jp, size_t n)
{
	struct json_arena	*a = jp->arena;
	struct json_chunk	*c;
	size_t			 size;
	void			*p;

	if (a == NULL)
		return cJSON_malloc(n);
	n = (n + JSON_ALIGN - 1) & ~(size_t)(JSON_ALIGN - 1);
	if ((c = a->chunks) == NULL || c->size - c->used < n) {
		size = c == NULL ? JSON_CHUNK_FIRST : c->size < JSON_CHUNK_MAX ?
		    c->size * 2 : JSON_CHUNK_MAX;
		if (size < n)
			size = n;
		/* The chunk's header, then its data, aligned. */
		if (size > SIZE_MAX - 2 * sizeof(*c) - JSON_ALIGN ||
		    (c = malloc(sizeof(*c) + JSON_ALIGN + size)) == NULL)
			return NULL;
		c->data = (unsigned char *)c + ((sizeof(*c) + JSON_ALIGN - 1) &
		    ~(size_t)(JSON_ALIGN - 1));
		c->size = size;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

/* Give back memory json_alloc() gave (arena memory stays till the end). */
static void
json_unalloc(struct json_parser *jp, void *p)
{
	if (jp->arena == NULL)
		cJSON_free(p);
}

static void
json_err(char *err, size_t errsz, const char *msg, size_t off)
{
	if (err && errsz)
		snprintf(err, errsz, "%s at byte %zu", msg, off);
}

/* Record the first error, at byte at; returns NULL for the caller. */
static void *
json_fail(struct json_parser *jp, int rc, const char *msg,
    const unsigned char *at)
{
	if (jp->rc == EMBER_OK) {
		jp->rc = rc;
		json_err(jp->err, jp->errsz, msg, (size_t)(at - jp->start));
	}
	return NULL;
}

/* A byte where no JSON token can start, or the text ended. */
static void *
json_unexpected(struct json_parser *jp)
{
	const unsigned char *p = jp->p;

	if (p >= jp->end)
		return json_fail(jp, EMBER_EINVAL, "malformed JSON", p);
	if (*p == '\0')
		return json_fail(jp, EMBER_EINVAL, "NUL byte", p);
	if (*p >= 0x80)
		return json_fail(jp, EMBER_EINVAL, "invalid UTF-8", p);
	if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
		return json_fail(jp, EMBER_EINVAL, "control character", p);
	return json_fail(jp, EMBER_EINVAL, "malformed JSON", p);
}

static void
json_blank(struct json_parser *jp)
{
	const unsigned char *p = jp->p;

	while (p < jp->end &&
	    (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	jp->p = p;
}

/* The value of the four hex digits at p (before end), or -1. */
static long
json_hex4(const unsigned char *p, const unsigned char *end)
{
	long	v = 0;
	int	i, d;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = buf_hex_digit(p[i])) < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * The \u escape at p (its backslash), checked: its length (6, or 12 for
 * a surrogate pair) and its code point in *cp; 0 after an error.
 */
static size_t
json_u_escape(struct json_parser *jp, const unsigned char *p,
    unsigned long *cp)
{
	const char	*why = "malformed JSON";
	long		 hi, lo;

	if ((hi = json_hex4(p + 2, jp->end)) < 0)
		why = "bad \\u escape";
	else if (hi == 0)
		why = "NUL character in string";
	else if (hi < 0xd800 || hi > 0xdfff) {
		*cp = (unsigned long)hi;
		return 6;
	} else if (hi <= 0xdbff && jp->end - p >= 12 && p[6] == '\\' &&
	    p[7] == 'u' && (lo = json_hex4(p + 8, jp->end)) >= 0xdc00 &&
	    lo <= 0xdfff) {
		/* A high surrogate and its low half. */
		*cp = 0x10000 + ((unsigned long)(hi & 0x3ff) << 10 |
		    (lo & 0x3ff));
		return 12;
	}
	json_fail(jp, EMBER_EINVAL, why, p);
	return 0;
}

/*
 * The string whose opening quote is at jp->p: checked (valid UTF-8, no
 * control byte, known escapes, no NUL), unescaped into new memory from
 * cJSON's allocator, for a node to own.  NULL after an error.
 */
static char *
json_string_at(struct json_parser *jp)
{
	const unsigned char	*s = jp->p + 1, *p = s, *end = jp->end;
	unsigned long		 cp;
	char			*out, *o;
	size_t			 n;
	int			 esc = 0;

	for (;;) {
		/* Printable ASCII but the two specials: most bytes, and a
		 * word at a time in long runs. */
		if (end - p >= 16)
			p += buf_ascii_span((const char *)p, (size_t)(end - p),
			    "\"\\");
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		    *p != '\\')
			p++;
		if (p >= end)
			return json_fail(jp, EMBER_EINVAL, "malformed JSON", p);
		if (*p == '"')
			break;
		if (*p == '\\') {
			esc = 1;
			if (end - p < 2)
				return json_fail(jp, EMBER_EINVAL,
				    "malformed JSON", p);
			if (p[1] == 'u') {
				if ((n = json_u_escape(jp, p, &cp)) == 0)
					return NULL;
				p += n;
			} else if (strchr("\"\\/bfnrt", p[1]) != NULL &&
			    p[1] != '\0')
				p += 2;
			else
				return json_fail(jp, EMBER_EINVAL,
				    "malformed JSON", p);
			continue;
		}
		if (*p < 0x20)
			return json_fail(jp, EMBER_EINVAL,
			    "control character in string", p);
		if ((n = buf_utf8_decode(p, (size_t)(end - p), NULL)) == 0)
			return json_fail(jp, EMBER_EINVAL, "invalid UTF-8", p);
		p += n;
	}
	n = (size_t)(p - s);
	jp->p = p + 1;
	/* Unescaped, a string is never longer than its text. */
	if ((out = json_alloc(jp, n + 1)) == NULL)
		return json_fail(jp, EMBER_ENOMEM, "out of memory", s);
	if (!esc) {
		memcpy(out, s, n);
		out[n] = '\0';
		return out;
	}
	for (o = out, p = s; p < s + n; ) {
		if (*p != '\\') {
			*o++ = (char)*p++;
			continue;
		}
		switch (p[1]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			p += json_u_escape(jp, p, &cp);
			o += buf_utf8_encode(cp, o);
			continue;
		default: *o++ = (char)p[1]; break;	/* " \ / */
		}
		p += 2;
	}
	*o = '\0';
	return out;
}

/* A new node of type, from cJSON's allocator as cJSON's own are. */
static cJSON *
json_node(struct json_parser *jp, int type)
{
	cJSON *n;

	if ((n = json_alloc(jp, sizeof(*n))) == NULL)
		return json_fail(jp, EMBER_ENOMEM, "out of memory", jp->p);
	memset(n, 0, sizeof(*n));
	n->type = type;
	return n;
}

/* Past the digits at p; NULL when there is none. */
static const unsigned char *
json_digits(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *s = p;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > s ? p : NULL;
}

/*
 * A number, as RFC 8259 writes one (no leading zero, no bare point or
 * exponent), finite as a double.  The node keeps its text in its
 * valuestring, for json_write() to give back exactly.
 */
static cJSON *
json_number(struct json_parser *jp)
{
	const unsigned char	*s = jp->p, *p = s, *end = jp->end;
	char			 lex[JSON_NUMBER_MAX + 1];
	cJSON			*n;
	double			 d;
	size_t			 len;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		p = json_digits(p, end);
	else
		p = NULL;
	if (p != NULL && p < end && *p == '.')
		p = json_digits(p + 1, end);
	if (p != NULL && p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		p = json_digits(p, end);
	}
	/* What a number may hold, past a number: "01", "1.2.3". */
	if (p == NULL || (p < end && ((*p >= '0' && *p <= '9') || *p == '-' ||
	    *p == '+' || *p == '.' || *p == 'e' || *p == 'E')))
		return json_fail(jp, EMBER_EINVAL, "malformed number", s);
	if ((len = (size_t)(p - s)) > JSON_NUMBER_MAX)
		return json_fail(jp, EMBER_EINVAL, "number too long", s);
	memcpy(lex, s, len);
	lex[len] = '\0';
	if (!isfinite(d = strtod(lex, NULL)))
		return json_fail(jp, EMBER_EINVAL, "number out of range", s);
	if ((n = json_node(jp, cJSON_Number)) == NULL)
		return NULL;
	if ((n->valuestring = json_alloc(jp, len + 1)) == NULL) {
		json_unalloc(jp, n);
		return json_fail(jp, EMBER_ENOMEM, "out of memory", s);
	}
	memcpy(n->valuestring, lex, len + 1);
	n->valuedouble = d;
	/* valueint as cJSON sets it: saturated. */
	n->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ?
	    INT_MIN : (int)d;
	jp->p = p;
	return n;
}

static cJSON *json_value(struct json_parser *);

/* Add item at the end of parent's children; cJSON keeps the last one
 * in the first one's prev. */
static void
json_append(cJSON *parent, cJSON **last, cJSON *item)
{
	if (*last == NULL)
		parent->child = item;
	else {
		(*last)->next = item;
		item->prev = *last;
	}
	*last = item;
	parent->child->prev = item;
}

/*
 * Whether a member of object before stop (NULL: any) is named key, and
 * if so the error for it in err.  Objects are small: each key against
 * the earlier ones, the first byte a cheap filter.
 */
static int
json_key_before(const cJSON *object, const cJSON *stop, const char *key,
    char *err, size_t errsz)
{
	const cJSON *a;

	for (a = object->child; a != NULL && a != stop; a = a->next)
		if (a->string != NULL && a->string[0] == key[0] &&
		    strcmp(a->string, key) == 0) {
			if (err != NULL && errsz > 0)
				snprintf(err, errsz, "duplicate key \"%s\"",
				    key);
			return 1;
		}
	return 0;
}

/* Whether object has a member called key already (then the error is
 * recorded). */
static int
json_duplicate(struct json_parser *jp, const cJSON *object, const char *key)
{
	if (!json_key_before(object, NULL, key,
	    jp->rc == EMBER_OK ? jp->err : NULL, jp->errsz))
		return 0;
	jp->rc = EMBER_EINVAL;
	return 1;
}

/* An object or an array, at its opening bracket. */
static cJSON *
json_container(struct json_parser *jp)
{
	const int	 object = *jp->p == '{';
	const int	 close = object ? '}' : ']';
	cJSON		*c, *item, *last = NULL;
	char		*key = NULL;

	if (++jp->depth > jp->max_depth)
		return json_fail(jp, EMBER_EDEPTH, "nesting too deep", jp->p);
	if ((c = json_node(jp, object ? cJSON_Object : cJSON_Array)) == NULL)
		return NULL;
	jp->p++;
	json_blank(jp);
	if (jp->p < jp->end && *jp->p == close)
		goto done;
	for (;;) {
		if (object) {
			if (jp->p >= jp->end || *jp->p != '"') {
				json_unexpected(jp);
				goto fail;
			}
			if ((key = json_string_at(jp)) == NULL)
				goto fail;
			if (json_duplicate(jp, c, key))
				goto fail;
			json_blank(jp);
			if (jp->p >= jp->end || *jp->p != ':') {
				json_unexpected(jp);
				goto fail;
			}
			jp->p++;
			json_blank(jp);
		}
		if ((item = json_value(jp)) == NULL)
			goto fail;
		item->string = key;
		key = NULL;
		json_append(c, &last, item);
		json_blank(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			json_blank(jp);
			continue;
		}
		if (jp->p < jp->end && *jp->p == close)
			break;
		json_unexpected(jp);
		goto fail;
	}
done:
	jp->p++;
	jp->depth--;
	return c;
fail:
	json_unalloc(jp, key);
	cJSON_Delete(c);
	return NULL;
}

/* A value at jp->p, which is not a blank. */
static cJSON *
json_value(struct json_parser *jp)
{
	static const struct {
		const char	*word;
		size_t		 len;
		int		 type;
	} words[] = {
		{ "true", 4, cJSON_True },
		{ "false", 5, cJSON_False },
		{ "null", 4, cJSON_NULL },
	};
	cJSON	*n;
	char	*s;
	size_t	 i;

	if (jp->p >= jp->end)
		return json_unexpected(jp);
	switch (*jp->p) {
	case '{':
	case '[':
		return json_container(jp);
	case '"':
		if ((s = json_string_at(jp)) == NULL)
			return NULL;
		if ((n = json_node(jp, cJSON_String)) == NULL) {
			json_unalloc(jp, s);
			return NULL;
		}
		n->valuestring = s;
		return n;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return json_number(jp);
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if ((size_t)(jp->end - jp->p) >= words[i].len &&
		    memcmp(jp->p, words[i].word, words[i].len) == 0) {
			if ((n = json_node(jp, words[i].type)) != NULL) {
				n->valueint = words[i].type == cJSON_True;
				jp->p += words[i].len;
			}
			return n;
		}
	return json_unexpected(jp);
}

int
json_check_duplicates(const cJSON *item, char *err, size_t errsz)
{
	const cJSON	*a;
	int		 rc;

	if (cJSON_IsObject(item))
		for (a = item->child; a != NULL; a = a->next)
			if (a->string != NULL &&
			    json_key_before(item, a, a->string, err, errsz))
				return EMBER_EINVAL;
	for (a = item->child; a != NULL; a = a->next)
		if ((rc = json_check_duplicates(a, err, errsz)))
			return rc;
	return EMBER_OK;
}

/* json_parse() into arena a (or cJSON's allocator, a NULL). */
static int
json_parse_in(struct json_arena *a, const char *text, size_t len,
    unsigned max_depth, cJSON **out, char *err, size_t errsz)
{
	struct json_parser	 jp;
	cJSON			*root;

	if (len == 0) {
		json_err(err, errsz, "empty body", 0);
		return EMBER_EINVAL;
	}
	memset(&jp, 0, sizeof(jp));
	jp.start = jp.p = (const unsigned char *)text;
	jp.end = jp.start + len;
	jp.max_depth = max_depth < JSON_DEPTH_MAX ? max_depth : JSON_DEPTH_MAX;
	jp.err = err;
	jp.errsz = errsz;
	jp.arena = a;
	json_blank(&jp);
	if ((root = json_value(&jp)) == NULL)
		return jp.rc;
	/* Only blanks may follow the value. */
	json_blank(&jp);
	if (jp.p < jp.end) {
		json_err(err, errsz, "text after the JSON value",
		    (size_t)(jp.p - jp.start));
		cJSON_Delete(root);
		return EMBER_EINVAL;
	}
	*out = root;
	return EMBER_OK;
}

int
json_parse(const char *text, size_t len, unsigned max_depth,
    cJSON **out, char *err, size_t errsz)
{
	return json_parse_in(NULL, text, len, max_depth, out, err, errsz);
}

int
json_parse_arena(struct json_arena *a, const char *text, size_t len,
    unsigned max_depth, cJSON **out, char *err, size_t errsz)
{
	/* Freed by cJSON without json_arena_release(), its memory would
	 * go to free(). */
	if (a == NULL || a != json_active) {
		json_err(err, errsz, "internal error: arena not in use", 0);
		return EMBER_EINTERNAL;
	}
	return json_parse_in(a, text, len, max_depth, out, err, errsz);
}

static void
json_indent(struct buf *b, int pretty, int level)
{
	if (!pretty)
		return;
	buf_putc(b, '\n');
	while (level-- > 0)
		buf_append(b, "  ", 2);
}

static void
json_write_item(struct buf *b, const cJSON *item, int pretty, int level)
{
	const cJSON	*c;
	char		 num[32];
	int		 open, close;

	switch (item->type & 0xff) {
	case cJSON_False:
		buf_append(b, "false", 5);
		break;
	case cJSON_True:
		buf_append(b, "true", 4);
		break;
	case cJSON_NULL:
		buf_append(b, "null", 4);
		break;
	case cJSON_Number:
		if (item->valuestring != NULL)
			buf_puts(b, item->valuestring);
		else if (item->valuedouble == (double)(long long)item->valuedouble &&
		    fabs(item->valuedouble) < 1e15) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)item->valuedouble);
			buf_puts(b, num);
		} else {
			snprintf(num, sizeof(num), "%.17g", item->valuedouble);
			buf_puts(b, num);
		}
		break;
	case cJSON_Raw:
		if (item->valuestring != NULL)
			buf_puts(b, item->valuestring);
		break;
	case cJSON_String:
		buf_putc(b, '"');
		if (item->valuestring != NULL)
			buf_json_escape(b, item->valuestring,
			    strlen(item->valuestring));
		buf_putc(b, '"');
		break;
	case cJSON_Array:
	case cJSON_Object:
		open = cJSON_IsArray(item) ? '[' : '{';
		close = cJSON_IsArray(item) ? ']' : '}';
		buf_putc(b, open);
		for (c = item->child; c != NULL; c = c->next) {
			json_indent(b, pretty, level + 1);
			if (open == '{') {
				buf_putc(b, '"');
				if (c->string)
					buf_json_escape(b, c->string,
					    strlen(c->string));
				buf_append(b, pretty ? "\": " : "\":",
				    pretty ? 3 : 2);
			}
			json_write_item(b, c, pretty, level + 1);
			if (c->next != NULL)
				buf_putc(b, ',');
		}
		if (item->child != NULL)
			json_indent(b, pretty, level);
		buf_putc(b, close);
		break;
	default:
		buf_append(b, "null", 4);
		break;
	}
}

int
json_write(struct buf *b, const cJSON *item, int pretty)
{
	json_write_item(b, item, pretty, 0);
	return buf_error(b);
}

cJSON *
json_get(const cJSON *object, const char *key)
{
	cJSON	*c;

	if (object == NULL || key == NULL)
		return NULL;
	/* As cJSON: the walk ends at a member without a name. */
	for (c = object->child; c != NULL && c->string != NULL; c = c->next)
		if (c->string[0] == key[0] && strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

const char *
json_string(const cJSON *object, const char *key)
{
	const cJSON *v = json_get(object, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
json_set_string(cJSON *object, const char *key, const char *value)
{
	cJSON *v;

	if ((v = cJSON_CreateString(value)) == NULL)
		return EMBER_ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(object, key) != NULL) {
		if (!cJSON_ReplaceItemInObjectCaseSensitive(object, key, v)) {
			cJSON_Delete(v);
			return EMBER_ENOMEM;
		}
		return EMBER_OK;
	}
	if (!cJSON_AddItemToObject(object, key, v)) {
		cJSON_Delete(v);
		return EMBER_ENOMEM;
	}
	return EMBER_OK;
}
