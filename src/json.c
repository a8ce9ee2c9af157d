/*
 * json.c: strict parse and exact write of JSON; see json.h.
 *
 * The scan before cJSON follows RFC 8259's grammar only as far as it
 * must: it tracks strings (to find the numbers outside them and check
 * their bytes), nesting depth and number lexemes.  Whether the text is
 * well-formed JSON is cJSON's judgement.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "json.h"

#define JSON_NUMBER_MAX	64	/* longest number text accepted */

struct json_span {
	size_t	off;
	size_t	len;
};

struct json_scan {
	struct json_span *spans;
	size_t		  nspans;
	size_t		  cap;
};

static void
json_err(char *err, size_t errsz, const char *msg, size_t off)
{
	if (err && errsz)
		snprintf(err, errsz, "%s at byte %zu", msg, off);
}

static int
json_scan_text(const char *text, size_t len, unsigned max_depth,
    struct json_scan *sc, char *err, size_t errsz)
{
	const unsigned char	*p = (const unsigned char *)text;
	size_t			 i = 0, n, start, k, run;
	unsigned		 depth = 0;
	struct json_span	*grown;

	while (i < len) {
		switch (p[i]) {
		case '{':
		case '[':
			if (++depth > max_depth) {
				json_err(err, errsz, "nesting too deep", i);
				return EMBER_EDEPTH;
			}
			i++;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			i++;
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			/* Pretty-printed JSON: mostly indentation. */
			while (++i < len && (p[i] == ' ' || p[i] == '\t' ||
			    p[i] == '\n' || p[i] == '\r'))
				;
			break;
		case '"':
			for (i++, run = 0; i < len && p[i] != '"'; ) {
				/* Printable ASCII but the two specials; past
				 * eight of them, a long run: a word at a time. */
				if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '\\') {
					i++;
					if (++run == 8 && len - i >= 16)
						i += buf_ascii_span(text + i,
						    len - i, "\"\\");
					continue;
				}
				run = 0;
				if (p[i] == '\\') {
					if (i + 1 >= len)
						break;
					/* cJSON reads a bad \u escape as U+0000
					 * and cuts the string there. */
					for (k = 2; p[i + 1] == 'u' && k < 6 &&
					    i + k < len && isxdigit(p[i + k]); k++)
						;
					if (p[i + 1] == 'u' && k < 6) {
						json_err(err, errsz,
						    "bad \\u escape", i);
						return EMBER_EINVAL;
					}
					if (p[i + 1] == 'u' &&
					    memcmp(p + i + 2, "0000", 4) == 0) {
						json_err(err, errsz,
						    "NUL character in string", i);
						return EMBER_EINVAL;
					}
					i += 2;
					continue;
				}
				if (p[i] < 0x20) {
					json_err(err, errsz,
					    "control character in string", i);
					return EMBER_EINVAL;
				}
				if ((n = buf_utf8_decode(p + i, len - i, NULL)) == 0) {
					json_err(err, errsz, "invalid UTF-8", i);
					return EMBER_EINVAL;
				}
				i += n;
			}
			i++;
			break;
		case '-': case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			start = i;
			while (i < len && ((p[i] >= '0' && p[i] <= '9') ||
			    p[i] == '+' || p[i] == '-' || p[i] == '.' ||
			    p[i] == 'e' || p[i] == 'E'))
				i++;
			if (i - start > JSON_NUMBER_MAX) {
				json_err(err, errsz, "number too long", start);
				return EMBER_EINVAL;
			}
			if (sc->nspans == sc->cap) {
				size_t cap = sc->cap ? sc->cap * 2 : 32;

				grown = realloc(sc->spans, cap * sizeof(*grown));
				if (grown == NULL)
					return EMBER_ENOMEM;
				sc->spans = grown;
				sc->cap = cap;
			}
			sc->spans[sc->nspans].off = start;
			sc->spans[sc->nspans].len = i - start;
			sc->nspans++;
			break;
		case '\0':
			json_err(err, errsz, "NUL byte", i);
			return EMBER_EINVAL;
		default:
			if (p[i] >= 0x80) {
				json_err(err, errsz, "invalid UTF-8", i);
				return EMBER_EINVAL;
			}
			/* cJSON would skip any byte below 0x20 as a blank. */
			if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' &&
			    p[i] != '\r') {
				json_err(err, errsz, "control character", i);
				return EMBER_EINVAL;
			}
			i++;
			break;
		}
	}
	return EMBER_OK;
}

/*
 * Give each number node, in document order, its original text.  cJSON
 * builds children in document order, so the k-th number node met in a
 * pre-order walk is the k-th number lexeme of the scan.
 */
static int
json_attach_numbers(cJSON *item, const char *text, const struct json_scan *sc,
    size_t *next, char *err, size_t errsz)
{
	cJSON			*child;
	const struct json_span	*sp;
	int			 rc;

	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item)) {
			if (*next >= sc->nspans)
				return EMBER_EINTERNAL;
			sp = &sc->spans[(*next)++];
			if (!isfinite(item->valuedouble)) {
				json_err(err, errsz, "number out of range",
				    sp->off);
				return EMBER_EINVAL;
			}
			if ((item->valuestring = malloc(sp->len + 1)) == NULL)
				return EMBER_ENOMEM;
			memcpy(item->valuestring, text + sp->off, sp->len);
			item->valuestring[sp->len] = '\0';
		}
		child = item->child;
		if (child != NULL &&
		    (rc = json_attach_numbers(child, text, sc, next, err, errsz)))
			return rc;
	}
	return EMBER_OK;
}

int
json_check_duplicates(const cJSON *item, char *err, size_t errsz)
{
	const cJSON	*a, *b;
	int		 rc;

	/* Objects are small: pairs, with the first byte as a cheap filter. */
	if (cJSON_IsObject(item))
		for (a = item->child; a != NULL; a = a->next)
			for (b = a->next; b != NULL; b = b->next)
				if (a->string && b->string &&
				    a->string[0] == b->string[0] &&
				    strcmp(a->string, b->string) == 0) {
					if (err && errsz)
						snprintf(err, errsz,
						    "duplicate key \"%s\"",
						    a->string);
					return EMBER_EINVAL;
				}
	for (a = item->child; a != NULL; a = a->next)
		if ((rc = json_check_duplicates(a, err, errsz)))
			return rc;
	return EMBER_OK;
}

int
json_parse(const char *text, size_t len, unsigned max_depth,
    cJSON **out, char *err, size_t errsz)
{
	struct json_scan	 sc = { NULL, 0, 0 };
	cJSON			*root = NULL;
	const char		*end = NULL;
	size_t			 next = 0;
	int			 rc;

	if (len == 0) {
		json_err(err, errsz, "empty body", 0);
		return EMBER_EINVAL;
	}
	if ((rc = json_scan_text(text, len, max_depth, &sc, err, errsz)))
		goto fail;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		const char *at = cJSON_GetErrorPtr();

		json_err(err, errsz, "malformed JSON",
		    at && at >= text && at <= text + len ? (size_t)(at - text) : 0);
		rc = EMBER_EINVAL;
		goto fail;
	}
	/* Only blanks may follow the value. */
	for (; end != NULL && end < text + len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
			json_err(err, errsz, "text after the JSON value",
			    (size_t)(end - text));
			rc = EMBER_EINVAL;
			goto fail;
		}
	if ((rc = json_attach_numbers(root, text, &sc, &next, err, errsz)))
		goto fail;
	if ((rc = json_check_duplicates(root, err, errsz)))
		goto fail;
	free(sc.spans);
	*out = root;
	return EMBER_OK;
fail:
	cJSON_Delete(root);
	free(sc.spans);
	return rc;
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
