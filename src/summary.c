/*
 * summary.c: _summary and _elements over the type model; see summary.h.
 *
 * Everything is decided from the element flags, cardinality and types in
 * the compiled tables, so the five versions differ only by their tables,
 * and by the code system of the SUBSETTED tag (HL7 moved the v3 code
 * systems to terminology.hl7.org in R4), which is the small table below.
 *
 * summary_apply() checks everything it can refuse (mode, element list,
 * resource type, meta and meta.tag) before it changes the resource, so
 * a refused request leaves the resource as it was.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "summary.h"
#include "tables.h"

#define SUMMARY_KEY_MAX		128	/* longest element name or key */
#define SUMMARY_DEPTH_MAX	200	/* recursion guard for the walks */

/* The v3 ObservationValue code system, by version name. */
static const struct {
	const char	*sv_version;
	const char	*sv_system;
} summary_systems[] = {
	{ "DSTU2", "http://hl7.org/fhir/v3/ObservationValue" },
	{ "STU3", "http://hl7.org/fhir/v3/ObservationValue" },
};
#define SUMMARY_SYSTEM_R4 \
	"http://terminology.hl7.org/CodeSystem/v3-ObservationValue"

static const struct {
	const char	*sm_name;
	int		 sm_mode;
} summary_modes[] = {
	{ "true", SUMMARY_TRUE },
	{ "text", SUMMARY_TEXT },
	{ "data", SUMMARY_DATA },
	{ "count", SUMMARY_COUNT },
	{ "false", SUMMARY_FALSE },
};

static int summary_fail(char *, size_t, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static int
summary_fail(char *err, size_t errsz, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errsz > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int
summary_parse(const char *value, size_t len, int *out_mode)
{
	size_t i;

	for (i = 0; i < sizeof(summary_modes) / sizeof(summary_modes[0]); i++)
		if (strlen(summary_modes[i].sm_name) == len &&
		    memcmp(summary_modes[i].sm_name, value, len) == 0) {
			*out_mode = summary_modes[i].sm_mode;
			return EMBER_OK;
		}
	return EMBER_EINVAL;
}

static const char *
summary_system(const struct tables *t)
{
	const char	*v = tables_version_name(t);
	size_t		 i;

	for (i = 0; i < sizeof(summary_systems) / sizeof(summary_systems[0]);
	    i++)
		if (strcmp(v, summary_systems[i].sv_version) == 0)
			return summary_systems[i].sv_system;
	return SUMMARY_SYSTEM_R4;
}

/*
 * The element of JSON key (a `_name` key stands for name) under the
 * context (type, elem); *vtype is the value's type, NONE for backbone
 * elements.  EMBER_OK, EMBER_ENOTFOUND or EMBER_ETABLES.
 */
static int
summary_key_element(const struct tables *t, unsigned type, unsigned elem,
    const char *key, unsigned *ei, struct tables_element *e, unsigned *vtype)
{
	int rc;

	if (key == NULL)
		return EMBER_ENOTFOUND;
	if (key[0] == '_')
		key++;
	if ((rc = tables_element_child(t, type, elem, key, strlen(key), ei,
	    vtype)) != EMBER_OK)
		return rc;
	return tables_element_get(t, *ei, e) == EMBER_OK ? EMBER_OK :
	    EMBER_ETABLES;
}

static int
summary_is_backbone(const struct tables_element *e)
{
	return !(e->flags & TABLES_ELEMENT_CHOICE) &&
	    (e->contentref != TABLES_NONE ||
	    (e->flags & TABLES_ELEMENT_BACKBONE));
}

static int summary_true_value(const struct tables *, cJSON *,
    const struct tables_element *, unsigned, unsigned, unsigned);

/*
 * Inside a datatype value of type `type` (an object): drop
 * Attachment.data wherever it occurs, extensions included.
 */
static int
summary_strip_datatype(const struct tables *t, cJSON *obj, unsigned type,
    unsigned elem, unsigned depth)
{
	struct tables_element	 e;
	struct tables_type	 ty;
	cJSON			*c, *next, *item;
	unsigned		 ei, vt;
	int			 rc, attachment;

	if (depth > SUMMARY_DEPTH_MAX)
		return EMBER_EINVAL;
	attachment = elem == TABLES_NONE &&
	    tables_type_get(t, type, &ty) == EMBER_OK &&
	    strcmp(ty.name, "Attachment") == 0;
	for (c = obj->child; c != NULL; c = next) {
		next = c->next;
		if (c->string == NULL || c->string[0] == '_')
			continue;
		if (attachment && strcmp(c->string, "data") == 0) {
			if ((item = cJSON_GetObjectItemCaseSensitive(obj,
			    "_data")) != NULL) {
				if (item == next)
					next = next->next;
				cJSON_Delete(cJSON_DetachItemViaPointer(obj,
				    item));
			}
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, c));
			continue;
		}
		rc = summary_key_element(t, type, elem, c->string, &ei, &e, &vt);
		if (rc == EMBER_ENOTFOUND)
			continue;
		if (rc != EMBER_OK)
			return rc;
		if (!summary_is_backbone(&e) && (vt == TABLES_NONE ||
		    tables_type_get(t, vt, &ty) != EMBER_OK ||
		    ty.kind != TABLES_KIND_COMPLEX))
			continue;
		for (item = cJSON_IsArray(c) ? c->child : c; item != NULL;
		    item = cJSON_IsArray(c) ? item->next : NULL) {
			if (!cJSON_IsObject(item))
				continue;
			rc = summary_is_backbone(&e) ?
			    summary_strip_datatype(t, item, TABLES_NONE, ei,
			    depth + 1) :
			    summary_strip_datatype(t, item, vt, TABLES_NONE,
			    depth + 1);
			if (rc != EMBER_OK)
				return rc;
		}
	}
	return EMBER_OK;
}

/* Keep the S children of a backbone element's object. */
static int
summary_true_backbone(const struct tables *t, cJSON *obj, unsigned elem,
    unsigned depth)
{
	struct tables_element	 e;
	cJSON			*c, *next;
	unsigned		 ei, vt;
	int			 rc;

	if (depth > SUMMARY_DEPTH_MAX)
		return EMBER_EINVAL;
	for (c = obj->child; c != NULL; c = next) {
		next = c->next;
		rc = summary_key_element(t, TABLES_NONE, elem, c->string, &ei,
		    &e, &vt);
		if (rc != EMBER_OK && rc != EMBER_ENOTFOUND)
			return rc;
		if (rc == EMBER_ENOTFOUND || !(e.flags & TABLES_ELEMENT_SUMMARY)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, c));
			continue;
		}
		if (c->string[0] != '_' &&
		    (rc = summary_true_value(t, c, &e, ei, vt, depth + 1)))
			return rc;
	}
	return EMBER_OK;
}

/* A kept value (or array of values) under _summary=true. */
static int
summary_true_value(const struct tables *t, cJSON *v,
    const struct tables_element *e, unsigned ei, unsigned vt, unsigned depth)
{
	struct tables_type	 ty;
	cJSON			*item;
	int			 rc, backbone = summary_is_backbone(e);

	if (!backbone && (vt == TABLES_NONE ||
	    tables_type_get(t, vt, &ty) != EMBER_OK ||
	    ty.kind != TABLES_KIND_COMPLEX))
		return EMBER_OK;	/* primitives; resources kept whole */
	for (item = cJSON_IsArray(v) ? v->child : v; item != NULL;
	    item = cJSON_IsArray(v) ? item->next : NULL) {
		if (!cJSON_IsObject(item))
			continue;
		rc = backbone ? summary_true_backbone(t, item, ei, depth) :
		    summary_strip_datatype(t, item, vt, TABLES_NONE, depth);
		if (rc != EMBER_OK)
			return rc;
	}
	return EMBER_OK;
}

/* The parsed _elements list: top-level element indexes. */
struct summary_list {
	unsigned	*sl_elems;
	size_t		 sl_count;
};

static int
summary_listed(const struct summary_list *l, unsigned ei)
{
	size_t i;

	for (i = 0; i < l->sl_count; i++)
		if (l->sl_elems[i] == ei)
			return 1;
	return 0;
}

/* Parse _elements against resource type `type` named rt. */
static int
summary_parse_elements(const struct tables *t, unsigned type, const char *rt,
    const char *elements, struct summary_list *l, char *err, size_t errsz)
{
	const char	*p = elements, *end, *dot;
	char		 name[SUMMARY_KEY_MAX];
	size_t		 len, cap = 1, rtlen = strlen(rt);
	unsigned	 ei, vt, ri;
	int		 rc;

	for (end = elements; *end; end++)
		if (*end == ',')
			cap++;
	if ((l->sl_elems = calloc(cap, sizeof(unsigned))) == NULL)
		return EMBER_ENOMEM;
	l->sl_count = 0;
	for (; *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, ",");
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			continue;
		if ((dot = memchr(p, '.', len)) != NULL) {
			/* "Patient.name": ours; "Observation.code": not. */
			if ((size_t)(dot - p) != rtlen ||
			    memcmp(p, rt, rtlen) != 0) {
				if (tables_resource_lookup(t, p,
				    (size_t)(dot - p), &ri) == EMBER_OK)
					continue;
				return summary_fail(err, errsz, EMBER_EINVAL,
				    "_elements: '%.*s' is not a resource type",
				    (int)(dot - p), p);
			}
			len -= (size_t)(dot - p) + 1;
			p = dot + 1;
			if (memchr(p, '.', len) != NULL || len == 0)
				return summary_fail(err, errsz, EMBER_EINVAL,
				    "_elements: only top-level elements can be "
				    "named, not '%.*s'", (int)len, p);
		}
		if (len >= sizeof(name))
			return summary_fail(err, errsz, EMBER_EINVAL,
			    "_elements: name too long");
		memcpy(name, p, len);
		name[len] = '\0';
		if (len > 3 && strcmp(name + len - 3, "[x]") == 0)
			name[len -= 3] = '\0';
		rc = tables_element_member(t, type, TABLES_NONE, name, len, &ei);
		if (rc == EMBER_ENOTFOUND)
			rc = tables_element_child(t, type, TABLES_NONE, name,
			    len, &ei, &vt);
		if (rc == EMBER_ENOTFOUND)
			return summary_fail(err, errsz, EMBER_EINVAL,
			    "_elements: %s has no element '%s'", rt, name);
		if (rc != EMBER_OK)
			return rc;
		l->sl_elems[l->sl_count++] = ei;
	}
	if (l->sl_count == 0)
		return summary_fail(err, errsz, EMBER_EINVAL,
		    "_elements: no element of %s named", rt);
	return EMBER_OK;
}

/*
 * Add the SUBSETTED tag to meta.tag unless it is there; meta and tag
 * were checked to be objects or absent.
 */
static int
summary_tag(const struct tables *t, cJSON *resource)
{
	const char	*system = summary_system(t);
	cJSON		*meta, *tag, *c, *coding;
	const cJSON	*s, *code;

	if ((meta = cJSON_GetObjectItemCaseSensitive(resource, "meta")) ==
	    NULL) {
		/* After resourceType and id, where meta belongs. */
		for (c = resource->child; c != NULL; c = c->next)
			if (c->string == NULL ||
			    (strcmp(c->string, "resourceType") != 0 &&
			    strcmp(c->string, "id") != 0 &&
			    strcmp(c->string, "_id") != 0))
				break;
		if ((meta = cJSON_AddObjectToObject(resource, "meta")) == NULL)
			return EMBER_ENOMEM;
		/* Move the members that followed to the end, after meta. */
		while (c != NULL && c != meta) {
			cJSON *move = c;

			c = c->next;
			cJSON_DetachItemViaPointer(resource, move);
			cJSON_AddItemToArray(resource, move);	/* keeps key */
		}
	}
	if ((tag = cJSON_GetObjectItemCaseSensitive(meta, "tag")) == NULL &&
	    (tag = cJSON_AddArrayToObject(meta, "tag")) == NULL)
		return EMBER_ENOMEM;
	for (c = tag->child; c != NULL; c = c->next) {
		s = cJSON_GetObjectItemCaseSensitive(c, "system");
		code = cJSON_GetObjectItemCaseSensitive(c, "code");
		if (cJSON_IsString(s) && cJSON_IsString(code) &&
		    strcmp(s->valuestring, system) == 0 &&
		    strcmp(code->valuestring, SUMMARY_SUBSETTED) == 0)
			return EMBER_OK;
	}
	if ((coding = cJSON_CreateObject()) == NULL)
		return EMBER_ENOMEM;
	if (cJSON_AddStringToObject(coding, "system", system) == NULL ||
	    cJSON_AddStringToObject(coding, "code", SUMMARY_SUBSETTED) ==
	    NULL || !cJSON_AddItemToArray(tag, coding)) {
		cJSON_Delete(coding);
		return EMBER_ENOMEM;
	}
	return EMBER_OK;
}

int
summary_apply(const struct tables *t, cJSON *resource, int mode,
    const char *elements, char *err, size_t errsz)
{
	struct summary_list	 list = { NULL, 0 };
	struct tables_element	 e;
	const cJSON		*rt, *meta, *tag;
	cJSON			*c, *next;
	const char		*name;
	unsigned		 ri, type, ei, vt;
	int			 rc, keep;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (mode == SUMMARY_FALSE && elements == NULL)
		return EMBER_OK;
	if (mode == SUMMARY_COUNT)
		return summary_fail(err, errsz, EMBER_EINVAL, "_summary=count "
		    "applies to searches only");
	if (mode < SUMMARY_FALSE || mode > SUMMARY_COUNT)
		return summary_fail(err, errsz, EMBER_EINVAL, "unknown "
		    "_summary mode");
	if (mode != SUMMARY_FALSE && elements != NULL)
		return summary_fail(err, errsz, EMBER_EINVAL, "_summary and "
		    "_elements cannot be used together");
	rt = cJSON_IsObject(resource) ?
	    cJSON_GetObjectItemCaseSensitive(resource, "resourceType") : NULL;
	if (!cJSON_IsString(rt) ||
	    tables_resource_lookup(t, rt->valuestring,
	    strlen(rt->valuestring), &ri) != EMBER_OK)
		return summary_fail(err, errsz, EMBER_EINVAL, "not a resource "
		    "of a known type");
	type = tables_resource_type(t, ri);
	meta = cJSON_GetObjectItemCaseSensitive(resource, "meta");
	tag = meta != NULL ? cJSON_GetObjectItemCaseSensitive(meta, "tag") :
	    NULL;
	if ((meta != NULL && !cJSON_IsObject(meta)) ||
	    (tag != NULL && !cJSON_IsArray(tag)))
		return summary_fail(err, errsz, EMBER_EINVAL, "meta or meta.tag "
		    "is malformed");
	if (elements != NULL && (rc = summary_parse_elements(t, type,
	    rt->valuestring, elements, &list, err, errsz)) != EMBER_OK)
		goto out;

	for (c = resource->child; c != NULL; c = next) {
		next = c->next;
		name = c->string;
		if (name != NULL && strcmp(name, "resourceType") == 0)
			continue;
		rc = summary_key_element(t, type, TABLES_NONE, name, &ei, &e,
		    &vt);
		if (rc != EMBER_OK && rc != EMBER_ENOTFOUND)
			goto out;
		if (rc == EMBER_ENOTFOUND)
			keep = mode == SUMMARY_DATA;
		else if (strcmp(e.name, "id") == 0 ||
		    strcmp(e.name, "meta") == 0)
			keep = 1;
		else if (mode == SUMMARY_TRUE)
			keep = (e.flags & TABLES_ELEMENT_SUMMARY) != 0;
		else if (mode == SUMMARY_TEXT)
			keep = strcmp(e.name, "text") == 0 || e.min >= 1;
		else if (mode == SUMMARY_DATA)
			keep = strcmp(e.name, "text") != 0;
		else
			keep = summary_listed(&list, ei) || e.min >= 1 ||
			    (e.flags & TABLES_ELEMENT_MODIFIER);
		if (!keep) {
			cJSON_Delete(cJSON_DetachItemViaPointer(resource, c));
			continue;
		}
		if (mode == SUMMARY_TRUE && name[0] != '_' &&
		    (rc = summary_true_value(t, c, &e, ei, vt, 0)) != EMBER_OK)
			goto out;
	}
	rc = summary_tag(t, resource);
out:
	free(list.sl_elems);
	return rc;
}
