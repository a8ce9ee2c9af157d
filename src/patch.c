/*
 * patch.c: JSON Patch (RFC 6902, with JSON Pointer, RFC 6901) and
 * FHIRPath Patch on cJSON trees; see patch.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "patch.h"
#include "tables.h"

#define PATCH_TOKEN_MAX	256

static int
patch_fail(int rc, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
patch_fail(int rc, char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- JSON Pointer ------------------------------------------------------ */

/* Decode the reference token at *p (after a '/') into tok. */
static int
patch_token(const char **p, char *tok)
{
	size_t n = 0;

	for (; **p && **p != '/'; (*p)++) {
		char c = **p;

		if (c == '~') {
			if ((*p)[1] == '0')
				c = '~';
			else if ((*p)[1] == '1')
				c = '/';
			else
				return EMBER_EINVAL;
			(*p)++;
		}
		if (n + 1 >= PATCH_TOKEN_MAX)
			return EMBER_EINVAL;
		tok[n++] = c;
	}
	tok[n] = '\0';
	return EMBER_OK;
}

/* An array index: digits without a leading zero, below size (or equal
 * when allow_end). */
static int
patch_index(const char *tok, int size, int allow_end, int *out)
{
	long	v = 0;
	size_t	i;

	if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0'))
		return EMBER_EINVAL;
	for (i = 0; tok[i]; i++) {
		if (!isdigit((unsigned char)tok[i]) || v > 1000000)
			return EMBER_EINVAL;
		v = v * 10 + (tok[i] - '0');
	}
	if (v > size || (v == size && !allow_end))
		return EMBER_EINVAL;
	*out = (int)v;
	return EMBER_OK;
}

/* The child of container named by tok, or NULL. */
static cJSON *
patch_child(cJSON *container, const char *tok)
{
	int i;

	if (cJSON_IsObject(container))
		return cJSON_GetObjectItemCaseSensitive(container, tok);
	if (cJSON_IsArray(container) && patch_index(tok,
	    cJSON_GetArraySize(container), 0, &i) == EMBER_OK)
		return cJSON_GetArrayItem(container, i);
	return NULL;
}

/*
 * Resolve all but the last token of pointer: *parent is the container,
 * last the final token.  EMBER_EINVAL for a malformed pointer or the
 * root (""), EMBER_EUNPROCESSABLE for a missing container.
 */
static int
patch_parent(cJSON *doc, const char *pointer, cJSON **parent, char *last)
{
	const char	*p = pointer;
	cJSON		*cur = doc;
	char		 tok[PATCH_TOKEN_MAX];

	if (*p != '/')
		return EMBER_EINVAL;
	for (;;) {
		p++;
		if (patch_token(&p, tok))
			return EMBER_EINVAL;
		if (*p == '\0') {
			memcpy(last, tok, strlen(tok) + 1);
			*parent = cur;
			return EMBER_OK;
		}
		if ((cur = patch_child(cur, tok)) == NULL)
			return EMBER_EUNPROCESSABLE;
	}
}

/*
 * Insert item into array before position i (0 <= i <= size).  Not
 * cJSON_InsertItemInArray(): the libcjson of Debian 12 (1.7.15-1+deb12u*,
 * with a CVE-2023-50471 backport) refuses every position strictly inside
 * the array, returning false and leaving the item unlinked.  Cannot fail.
 */
static void
patch_array_insert(cJSON *array, int i, cJSON *item)
{
	cJSON *after = cJSON_GetArrayItem(array, i);

	if (after == NULL) {
		cJSON_AddItemToArray(array, item);
		return;
	}
	/* cJSON keeps the last item in the head's prev. */
	item->next = after;
	item->prev = after->prev;
	after->prev = item;
	if (after == array->child)
		array->child = item;
	else
		item->prev->next = item;
}

/* Insert value at parent/last (object member or array position). */
static int
patch_insert(cJSON *parent, const char *last, cJSON *value)
{
	int i;

	if (cJSON_IsObject(parent)) {
		if (cJSON_GetObjectItemCaseSensitive(parent, last) != NULL) {
			if (!cJSON_ReplaceItemInObjectCaseSensitive(parent, last,
			    value))
				return EMBER_ENOMEM;
		} else if (!cJSON_AddItemToObject(parent, last, value))
			return EMBER_ENOMEM;
		return EMBER_OK;
	}
	if (!cJSON_IsArray(parent))
		return EMBER_EUNPROCESSABLE;
	if (strcmp(last, "-") == 0)
		return cJSON_AddItemToArray(parent, value) ? EMBER_OK :
		    EMBER_ENOMEM;
	if (patch_index(last, cJSON_GetArraySize(parent), 1, &i))
		return EMBER_EUNPROCESSABLE;
	patch_array_insert(parent, i, value);
	return EMBER_OK;
}

/* Detach and return the value at pointer, or NULL. */
static cJSON *
patch_detach(cJSON *doc, const char *pointer)
{
	cJSON	*parent, *item;
	char	 last[PATCH_TOKEN_MAX];

	if (patch_parent(doc, pointer, &parent, last) ||
	    (item = patch_child(parent, last)) == NULL)
		return NULL;
	return cJSON_DetachItemViaPointer(parent, item);
}

static cJSON *
patch_get(cJSON *doc, const char *pointer)
{
	cJSON	*parent;
	char	 last[PATCH_TOKEN_MAX];

	if (patch_parent(doc, pointer, &parent, last))
		return NULL;
	return patch_child(parent, last);
}

/* Exact JSON equality; numbers by their text when both have one. */
static int
patch_equal(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if ((a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a)) {
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
			if (!patch_equal(x, y))
				return 0;
		return x == NULL && y == NULL;
	}
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return 0;
		for (x = a->child; x; x = x->next) {
			y = cJSON_GetObjectItemCaseSensitive(b, x->string);
			if (y == NULL || !patch_equal(x, y))
				return 0;
		}
		return 1;
	}
	return 1;	/* true, false, null */
}

static int
patch_json_op(cJSON *doc, const cJSON *op, int i, char *err, size_t errsz)
{
	const char	*name = json_string(op, "op");
	const char	*path = json_string(op, "path");
	const char	*from = json_string(op, "from");
	const cJSON	*value = cJSON_GetObjectItemCaseSensitive(op, "value");
	cJSON		*parent, *item, *copy;
	char		 last[PATCH_TOKEN_MAX];
	int		 rc;

	if (!cJSON_IsObject(op) || name == NULL || path == NULL)
		return patch_fail(EMBER_EINVAL, err, errsz, "operation %d: needs "
		    "\"op\" and \"path\" strings", i);
	if (path[0] == '\0')
		return patch_fail(EMBER_EUNPROCESSABLE, err, errsz, "operation "
		    "%d: the whole resource cannot be patched", i);
	if (strcmp(name, "test") == 0) {
		if (value == NULL)
			return patch_fail(EMBER_EINVAL, err, errsz,
			    "operation %d: test needs a value", i);
		if ((item = patch_get(doc, path)) == NULL ||
		    !patch_equal(item, value))
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: test of %s failed", i, path);
		return EMBER_OK;
	}
	if (strcmp(name, "remove") == 0) {
		if ((item = patch_detach(doc, path)) == NULL)
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: nothing at %s to remove", i, path);
		cJSON_Delete(item);
		return EMBER_OK;
	}
	if (strcmp(name, "add") == 0 || strcmp(name, "replace") == 0) {
		if (value == NULL)
			return patch_fail(EMBER_EINVAL, err, errsz,
			    "operation %d: %s needs a value", i, name);
		if ((rc = patch_parent(doc, path, &parent, last)))
			return patch_fail(rc, err, errsz, "operation %d: bad or "
			    "missing path %s", i, path);
		if (name[0] == 'r') {
			if ((item = patch_child(parent, last)) == NULL)
				return patch_fail(EMBER_EUNPROCESSABLE, err,
				    errsz, "operation %d: nothing at %s to "
				    "replace", i, path);
			cJSON_Delete(cJSON_DetachItemViaPointer(parent, item));
			if (cJSON_IsArray(parent) && strcmp(last, "-") == 0)
				return EMBER_EUNPROCESSABLE;
		}
		if ((copy = cJSON_Duplicate(value, 1)) == NULL)
			return EMBER_ENOMEM;
		if ((rc = patch_insert(parent, last, copy))) {
			cJSON_Delete(copy);
			return patch_fail(rc, err, errsz, "operation %d: cannot "
			    "%s at %s", i, name, path);
		}
		return EMBER_OK;
	}
	if (strcmp(name, "move") == 0 || strcmp(name, "copy") == 0) {
		if (from == NULL)
			return patch_fail(EMBER_EINVAL, err, errsz,
			    "operation %d: %s needs \"from\"", i, name);
		if (name[0] == 'm' && strncmp(path, from, strlen(from)) == 0 &&
		    (path[strlen(from)] == '/' || path[strlen(from)] == '\0') &&
		    strcmp(path, from) != 0)
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: cannot move %s into itself", i, from);
		if (name[0] == 'm')
			item = patch_detach(doc, from);
		else if ((item = patch_get(doc, from)) != NULL)
			item = cJSON_Duplicate(item, 1);
		if (item == NULL)
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: nothing at %s", i, from);
		if ((rc = patch_parent(doc, path, &parent, last)) ||
		    (rc = patch_insert(parent, last, item))) {
			cJSON_Delete(item);
			return patch_fail(rc == EMBER_EINVAL ? EMBER_EINVAL :
			    EMBER_EUNPROCESSABLE, err, errsz, "operation %d: "
			    "cannot %s to %s", i, name, path);
		}
		return EMBER_OK;
	}
	return patch_fail(EMBER_EINVAL, err, errsz, "operation %d: unknown op "
	    "\"%s\"", i, name);
}

int
patch_json(cJSON *doc, const cJSON *ops, char *err, size_t errsz)
{
	const cJSON	*op;
	int		 i = 0, rc;

	if (!cJSON_IsArray(ops))
		return patch_fail(EMBER_EINVAL, err, errsz,
		    "a JSON Patch document is an array of operations");
	cJSON_ArrayForEach(op, ops)
		if ((rc = patch_json_op(doc, op, i++, err, errsz)))
			return rc;
	return EMBER_OK;
}

/* ---- FHIRPath Patch ---------------------------------------------------- */

/* One node a path selected: the item and its container. */
struct patch_node {
	cJSON		*pn_item;
	cJSON		*pn_parent;	/* object or array holding pn_item */
	unsigned	 pn_type;	/* type of the item (tables) */
	unsigned	 pn_elem;	/* element of the item, or NONE */
};

#define PATCH_NODES_MAX	256

struct patch_set {
	struct patch_node	n[PATCH_NODES_MAX];
	size_t			count;
};

static int
patch_set_add(struct patch_set *s, cJSON *item, cJSON *parent, unsigned type,
    unsigned elem)
{
	if (s->count == PATCH_NODES_MAX)
		return EMBER_EUNPROCESSABLE;
	s->n[s->count].pn_item = item;
	s->n[s->count].pn_parent = parent;
	s->n[s->count].pn_type = type;
	s->n[s->count].pn_elem = elem;
	s->count++;
	return EMBER_OK;
}

/* Read an identifier at *p. */
static size_t
patch_ident(const char *p)
{
	size_t n = 0;

	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	return n;
}

/* Member access: each item's children named name (choices included). */
static int
patch_step_member(const struct tables *tb, struct patch_set *s,
    const char *name, size_t len)
{
	struct patch_set	*next;
	cJSON			*c, *v;
	unsigned		 elem, type;
	size_t			 i;
	int			 rc = EMBER_OK;

	if ((next = calloc(1, sizeof(*next))) == NULL)
		return EMBER_ENOMEM;
	for (i = 0; i < s->count && rc == EMBER_OK; i++) {
		if (!cJSON_IsObject(s->n[i].pn_item))
			continue;
		for (c = s->n[i].pn_item->child; c; c = c->next) {
			size_t kl = strlen(c->string);

			/* "value" matches "value" and "valueQuantity". */
			if (kl < len || strncmp(c->string, name, len) != 0 ||
			    (kl > len && !isupper((unsigned char)c->string[len])))
				continue;
			if (tables_element_child(tb, s->n[i].pn_type,
			    s->n[i].pn_elem, c->string, kl, &elem, &type))
				continue;
			if (cJSON_IsArray(c)) {
				cJSON_ArrayForEach(v, c)
					if ((rc = patch_set_add(next, v, c, type,
					    elem)))
						break;
			} else
				rc = patch_set_add(next, c, s->n[i].pn_item,
				    type, elem);
		}
	}
	if (rc == EMBER_OK)
		*s = *next;
	free(next);
	return rc;
}

/* where(member = 'literal'): keep the items whose member equals it. */
static int
patch_step_where(const char **pp, struct patch_set *s)
{
	const char	*p = *pp;
	char		 member[64], lit[256];
	size_t		 n, i, k = 0;
	const cJSON	*m;

	n = patch_ident(p);
	if (n == 0 || n >= sizeof(member))
		return EMBER_EINVAL;
	memcpy(member, p, n);
	member[n] = '\0';
	p += n;
	while (*p == ' ')
		p++;
	if (*p++ != '=')
		return EMBER_EINVAL;
	while (*p == ' ')
		p++;
	if (*p == '\'') {
		for (p++, n = 0; *p && *p != '\''; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (n + 1 >= sizeof(lit))
				return EMBER_EINVAL;
			lit[n++] = *p;
		}
		if (*p++ != '\'')
			return EMBER_EINVAL;
	} else {
		n = patch_ident(p);
		if (n == 0 || n >= sizeof(lit))
			return EMBER_EINVAL;
		memcpy(lit, p, n);
		p += n;
	}
	lit[n] = '\0';
	while (*p == ' ')
		p++;
	if (*p++ != ')')
		return EMBER_EINVAL;
	for (i = 0; i < s->count; i++) {
		m = cJSON_GetObjectItemCaseSensitive(s->n[i].pn_item, member);
		if ((cJSON_IsString(m) && strcmp(m->valuestring, lit) == 0) ||
		    (cJSON_IsBool(m) && strcmp(lit, cJSON_IsTrue(m) ? "true" :
		    "false") == 0) ||
		    (cJSON_IsNumber(m) && m->valuestring &&
		    strcmp(m->valuestring, lit) == 0))
			s->n[k++] = s->n[i];
	}
	s->count = k;
	*pp = p;
	return EMBER_OK;
}

/* Keep only item i of the set (or none). */
static void
patch_keep(struct patch_set *s, long i)
{
	if (i < 0 || (size_t)i >= s->count) {
		s->count = 0;
		return;
	}
	s->n[0] = s->n[i];
	s->count = 1;
}

/* Evaluate a path of the supported subset on doc. */
static int
patch_eval(const struct tables *tb, cJSON *doc, const char *path,
    struct patch_set *s)
{
	const char	*p = path, *rt = json_string(doc, "resourceType");
	size_t		 n;
	unsigned	 type;
	char		*end;
	long		 idx;
	int		 rc;

	s->count = 0;
	n = patch_ident(p);
	if (rt == NULL || n != strlen(rt) || strncmp(p, rt, n) != 0 ||
	    tables_type_lookup(tb, rt, n, &type))
		return EMBER_EINVAL;
	patch_set_add(s, doc, NULL, type, TABLES_NONE);
	p += n;
	while (*p) {
		if (*p == '[') {
			idx = strtol(p + 1, &end, 10);
			if (end == p + 1 || *end != ']')
				return EMBER_EINVAL;
			patch_keep(s, idx);
			p = end + 1;
			continue;
		}
		if (*p++ != '.')
			return EMBER_EINVAL;
		n = patch_ident(p);
		if (n == 0)
			return EMBER_EINVAL;
		if (p[n] == '(') {
			if (n == 5 && strncmp(p, "first", 5) == 0 &&
			    p[6] == ')') {
				patch_keep(s, 0);
				p += 7;
			} else if (n == 4 && strncmp(p, "last", 4) == 0 &&
			    p[5] == ')') {
				patch_keep(s, (long)s->count - 1);
				p += 6;
			} else if (n == 5 && strncmp(p, "where", 5) == 0) {
				p += 6;
				if ((rc = patch_step_where(&p, s)))
					return rc;
			} else
				return EMBER_EINVAL;
			continue;
		}
		if ((rc = patch_step_member(tb, s, p, n)))
			return rc;
		p += n;
	}
	return EMBER_OK;
}

/* The part called name of a Parameters parameter, or NULL. */
static const cJSON *
patch_part(const cJSON *param, const char *name)
{
	const cJSON *part;

	cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(param, "part"))
		if (json_string(part, "name") != NULL &&
		    strcmp(json_string(part, "name"), name) == 0)
			return part;
	return NULL;
}

/*
 * Add v to obj as member nm; a name given again makes the member an
 * array of the values in order (a repeating element given as one part
 * per value).  Takes v, also on failure.  EMBER_OK or EMBER_ENOMEM.
 */
static int
patch_add_member(cJSON *obj, const char *nm, cJSON *v)
{
	cJSON	*had = cJSON_GetObjectItemCaseSensitive(obj, nm);
	cJSON	*arr = NULL, *first = NULL;

	/* A part's value is never an array: an array here is ours. */
	if (had != NULL && cJSON_IsArray(had)) {
		if (cJSON_AddItemToArray(had, v))
			return EMBER_OK;
	} else if (had != NULL) {
		/* The array takes the member's place. */
		if ((first = cJSON_Duplicate(had, 1)) != NULL &&
		    (arr = cJSON_CreateArray()) != NULL) {
			cJSON_free(first->string);
			first->string = NULL;
			cJSON_AddItemToArray(arr, first);
			cJSON_AddItemToArray(arr, v);
			if (cJSON_ReplaceItemInObjectCaseSensitive(obj, nm, arr))
				return EMBER_OK;
			cJSON_Delete(arr);
			return EMBER_ENOMEM;
		}
		cJSON_Delete(first);
	} else if (cJSON_AddItemToObject(obj, nm, v))
		return EMBER_OK;
	cJSON_Delete(v);
	return EMBER_ENOMEM;
}

/*
 * The value of a part: its value[x] (suffix set to the type, e.g.
 * "Quantity") or, for a complex value given as parts, a new object.
 * Returns a new tree or NULL.
 */
static cJSON *
patch_part_value(const cJSON *part, char *suffix, size_t suffixsz)
{
	const cJSON	*c, *sub;
	cJSON		*obj, *v;
	char		 dummy[64];

	suffix[0] = '\0';
	for (c = part ? part->child : NULL; c; c = c->next)
		if (c->string && strncmp(c->string, "value", 5) == 0 &&
		    isupper((unsigned char)c->string[5])) {
			snprintf(suffix, suffixsz, "%s", c->string + 5);
			return cJSON_Duplicate(c, 1);
		}
	if (part == NULL ||
	    (sub = cJSON_GetObjectItemCaseSensitive(part, "part")) == NULL)
		return NULL;
	if ((obj = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_ArrayForEach(c, sub) {
		const char *nm = json_string(c, "name");

		if (nm == NULL || (v = patch_part_value(c, dummy,
		    sizeof(dummy))) == NULL || patch_add_member(obj, nm, v)) {
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return obj;
}

/* Give item the member name it will have (NULL inside an array). */
static int
patch_rename(cJSON *item, const char *name)
{
	char *copy = NULL;

	if (name != NULL && (copy = strdup(name)) == NULL)
		return EMBER_ENOMEM;
	if (!(item->type & cJSON_StringIsConst))
		cJSON_free(item->string);
	item->type &= ~cJSON_StringIsConst;
	item->string = copy;
	return EMBER_OK;
}

/* Drop empty arrays and objects that removals left behind: FHIR JSON
 * has no empty arrays or objects. */
static void
patch_prune(cJSON *item)
{
	cJSON *c, *next;

	for (c = item->child; c; c = next) {
		next = c->next;
		if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
			patch_prune(c);
			if (c->child == NULL)
				cJSON_Delete(cJSON_DetachItemViaPointer(item, c));
		}
	}
}

static int
patch_fhirpath_op(cJSON *doc, const cJSON *param, const struct tables *tb,
    int i, struct patch_set *s, char *err, size_t errsz)
{
	const char	*type = json_string(patch_part(param, "type"), "valueCode");
	const char	*path = json_string(patch_part(param, "path"),
			    "valueString");
	const char	*name = json_string(patch_part(param, "name"),
			    "valueString");
	const cJSON	*idx = cJSON_GetObjectItemCaseSensitive(
			    patch_part(param, "index"), "valueInteger");
	const cJSON	*src = cJSON_GetObjectItemCaseSensitive(
			    patch_part(param, "source"), "valueInteger");
	const cJSON	*dst = cJSON_GetObjectItemCaseSensitive(
			    patch_part(param, "destination"), "valueInteger");
	struct tables_element te;
	cJSON		*value = NULL, *target, *arr, *item;
	char		 suffix[64], key[PATCH_TOKEN_MAX];
	unsigned	 elem;
	int		 rc, n;

	if (type == NULL || path == NULL)
		return patch_fail(EMBER_EINVAL, err, errsz, "operation %d: "
		    "needs type (valueCode) and path (valueString)", i);
	if ((rc = patch_eval(tb, doc, path, s)))
		return patch_fail(rc, err, errsz, "operation %d: path \"%s\" is "
		    "not supported (member access, [n], first(), last(), "
		    "where(member = 'literal'))", i, path);

	if (strcmp(type, "delete") == 0) {
		/* Deleting nothing is not an error (fhirpatch.html). */
		if (s->count > 1)
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: %s selects %zu elements; delete "
			    "needs at most one", i, path, s->count);
		if (s->count == 1) {
			if (s->n[0].pn_parent == NULL)
				return patch_fail(EMBER_EUNPROCESSABLE, err,
				    errsz, "operation %d: cannot delete the "
				    "resource", i);
			cJSON_Delete(cJSON_DetachItemViaPointer(
			    s->n[0].pn_parent, s->n[0].pn_item));
		}
		return EMBER_OK;
	}
	/* insert and move name a list: every element of one JSON array. */
	if (strcmp(type, "insert") == 0 || strcmp(type, "move") == 0) {
		size_t k;

		for (k = 1; k < s->count; k++)
			if (s->n[k].pn_parent != s->n[0].pn_parent)
				break;
		if (s->count == 0 || k < s->count)
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: %s is not one list", i, path);
	} else if (s->count != 1)
		return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
		    "operation %d: %s selects %zu elements, not one", i, path,
		    s->count);
	target = s->n[0].pn_item;

	if (strcmp(type, "move") == 0) {
		arr = s->n[0].pn_parent;
		if (!cJSON_IsArray(arr) || !cJSON_IsNumber(src) ||
		    !cJSON_IsNumber(dst))
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: move needs a list element, source "
			    "and destination", i);
		n = cJSON_GetArraySize(arr);
		if (src->valueint < 0 || src->valueint >= n ||
		    dst->valueint < 0 || dst->valueint >= n)
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: index out of range", i);
		item = cJSON_DetachItemFromArray(arr, src->valueint);
		patch_array_insert(arr, dst->valueint, item);
		return EMBER_OK;
	}

	if ((value = patch_part_value(patch_part(param, "value"), suffix,
	    sizeof(suffix))) == NULL)
		return patch_fail(EMBER_EINVAL, err, errsz, "operation %d: "
		    "%s needs a value", i, type);

	if (strcmp(type, "replace") == 0) {
		if (s->n[0].pn_parent == NULL) {
			cJSON_Delete(value);
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: cannot replace the resource", i);
		}
		if (patch_rename(value, cJSON_IsObject(s->n[0].pn_parent) ?
		    target->string : NULL)) {
			cJSON_Delete(value);
			return EMBER_ENOMEM;
		}
		cJSON_ReplaceItemViaPointer(s->n[0].pn_parent, target, value);
		return EMBER_OK;
	}
	if (strcmp(type, "insert") == 0) {
		arr = s->n[0].pn_parent;
		if (!cJSON_IsArray(arr) || !cJSON_IsNumber(idx) ||
		    idx->valueint < 0 ||
		    idx->valueint > cJSON_GetArraySize(arr)) {
			cJSON_Delete(value);
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: insert needs a list element and an "
			    "index in range", i);
		}
		patch_rename(value, NULL);
		patch_array_insert(arr, idx->valueint, value);
		return EMBER_OK;
	}
	if (strcmp(type, "add") == 0) {
		if (name == NULL || !cJSON_IsObject(target) ||
		    tables_element_member(tb, s->n[0].pn_type, s->n[0].pn_elem,
		    name, strlen(name), &elem) ||
		    tables_element_get(tb, elem, &te)) {
			cJSON_Delete(value);
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: cannot add \"%s\" at %s", i,
			    name ? name : "", path);
		}
		/* A choice element is named by the value's type. */
		if (te.path_len > 3 &&
		    memcmp(te.path + te.path_len - 3, "[x]", 3) == 0)
			snprintf(key, sizeof(key), "%s%s", name, suffix);
		else
			snprintf(key, sizeof(key), "%s", name);
		item = cJSON_GetObjectItemCaseSensitive(target, key);
		if (te.max == TABLES_NONE || te.max > 1) {
			if (item == NULL) {
				if ((item = cJSON_CreateArray()) == NULL ||
				    !cJSON_AddItemToObject(target, key, item)) {
					cJSON_Delete(item);
					cJSON_Delete(value);
					return EMBER_ENOMEM;
				}
			}
			if (!cJSON_IsArray(item)) {
				cJSON_Delete(value);
				return EMBER_EUNPROCESSABLE;
			}
			patch_rename(value, NULL);
			cJSON_AddItemToArray(item, value);
			return EMBER_OK;
		}
		if (item != NULL) {
			cJSON_Delete(value);
			return patch_fail(EMBER_EUNPROCESSABLE, err, errsz,
			    "operation %d: %s already has %s", i, path, key);
		}
		cJSON_AddItemToObject(target, key, value);
		return EMBER_OK;
	}
	cJSON_Delete(value);
	return patch_fail(EMBER_EINVAL, err, errsz, "operation %d: unknown type "
	    "\"%s\"", i, type);
}

int
patch_fhirpath(cJSON *doc, const cJSON *params, const struct tables *tb,
    char *err, size_t errsz)
{
	const cJSON		*param;
	const char		*rt = json_string(params, "resourceType");
	struct patch_set	*s;
	int			 i = 0, rc = EMBER_OK;

	if (rt == NULL || strcmp(rt, "Parameters") != 0)
		return patch_fail(EMBER_EINVAL, err, errsz,
		    "a FHIRPath Patch is a Parameters resource");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return EMBER_ENOMEM;
	cJSON_ArrayForEach(param, cJSON_GetObjectItemCaseSensitive(params,
	    "parameter")) {
		const char *nm = json_string(param, "name");

		if (nm == NULL || strcmp(nm, "operation") != 0) {
			rc = patch_fail(EMBER_EINVAL, err, errsz, "parameter %d "
			    "is not an operation", i);
			break;
		}
		if ((rc = patch_fhirpath_op(doc, param, tb, i++, s, err, errsz)))
			break;
	}
	free(s);
	if (rc == EMBER_OK)
		patch_prune(doc);
	return rc;
}
