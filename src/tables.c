/*
 * tables.c: the reader of compiled tables files.
 *
 * Maps a <version>.tables file written by src/tablec and answers
 * lookups directly on the mapped bytes.  The file format is specified
 * in tables.h.  tables_open() checks only the header and the section
 * table; every accessor bounds-checks what it reads, so a corrupt file
 * yields EMBER_ETABLES rather than a stray read.  Fields are decoded
 * byte by byte (little-endian), so neither alignment nor host byte
 * order matters.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L		/* O_CLOEXEC, mmap */
#endif

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fhirpath.h"
#include "tables.h"

struct tables_sec {
	const unsigned char	*ts_base;
	uint32_t		 ts_size;
	uint32_t		 ts_count;
	uint32_t		 ts_recsize;
};

struct tables {
	const unsigned char	*tb_base;
	size_t			 tb_size;
	int			 tb_mapped;	/* munmap on close */
	uint64_t		 tb_content_hash;
	uint64_t		 tb_body_hash;
	uint32_t		 tb_header_size;
	const char		*tb_version_name;
	const char		*tb_fhir_version;
	struct tables_sec	 tb_sec[TABLES_SECTION_COUNT];
};

static const uint32_t tables_recsize[TABLES_SECTION_COUNT] = {
	TABLES_RECSIZE_STRINGS,
	TABLES_RECSIZE_TYPES,
	TABLES_RECSIZE_ELEMENTS,
	TABLES_RECSIZE_ELEMENT_TYPES,
	TABLES_RECSIZE_ELEMENT_PATHS,
	TABLES_RECSIZE_RESOURCES,
	TABLES_RECSIZE_PARAMS,
	TABLES_RECSIZE_COMPONENTS,
	TABLES_RECSIZE_STRLISTS,
	TABLES_RECSIZE_PROGRAMS,
	TABLES_RECSIZE_COMPARTMENTS,
};

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Record idx of a section, or NULL when out of range. */
static const unsigned char *
tables_rec(const struct tables *t, enum tables_section sec, uint32_t idx)
{
	const struct tables_sec *s = &t->tb_sec[sec];

	if (idx >= s->ts_count)
		return NULL;
	return s->ts_base + (size_t)idx * s->ts_recsize;
}

/*
 * Decode the string pair at p (u32 offset, u32 length) and check it
 * against the pool: in bounds and NUL-terminated.  Inline: the element
 * and parameter getters call it millions of times while loading.
 */
static inline int
tables_str(const struct tables *t, const unsigned char *p, const char **s,
    size_t *len)
{
	const struct tables_sec *pool = &t->tb_sec[TABLES_SEC_STRINGS];
	uint32_t off = rd32(p), n = rd32(p + 4);

	if (off >= pool->ts_size || n >= pool->ts_size - off ||
	    pool->ts_base[off + n] != '\0')
		return EMBER_ETABLES;
	*s = (const char *)pool->ts_base + off;
	if (len != NULL)
		*len = n;
	return EMBER_OK;
}

/* Compare (a, alen) with (b, blen) in byte order, shorter first. */
static int
tables_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

uint64_t
tables_fnv1a64(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* Check the header and section table of (buf, len); fill t. */
static int
tables_check_header(struct tables *t, const unsigned char *buf, size_t len)
{
	uint32_t hsize, nsec, i;
	const char *s;

	if (len < TABLES_HEADER_SIZE || memcmp(buf, TABLES_MAGIC, 8) != 0)
		return EMBER_ETABLES;
	if (rd32(buf + 8) != TABLES_FORMAT_VERSION)
		return EMBER_ETABLES;
	hsize = rd32(buf + 12);
	nsec = rd32(buf + 56);
	if (nsec != TABLES_SECTION_COUNT ||
	    hsize != TABLES_HEADER_SIZE + 16u * TABLES_SECTION_COUNT ||
	    hsize > len || rd64(buf + 16) != (uint64_t)len)
		return EMBER_ETABLES;
	t->tb_base = buf;
	t->tb_size = len;
	t->tb_header_size = hsize;
	t->tb_content_hash = rd64(buf + 24);
	t->tb_body_hash = rd64(buf + 32);
	for (i = 0; i < TABLES_SECTION_COUNT; i++) {
		const unsigned char *e = buf + TABLES_HEADER_SIZE + 16u * i;
		uint32_t off = rd32(e), size = rd32(e + 4);
		uint32_t count = rd32(e + 8), recsize = rd32(e + 12);

		if (recsize != tables_recsize[i] || off % 8 != 0 ||
		    off < hsize || off > len || size > len - off ||
		    (uint64_t)count * recsize != size)
			return EMBER_ETABLES;
		t->tb_sec[i].ts_base = buf + off;
		t->tb_sec[i].ts_size = size;
		t->tb_sec[i].ts_count = count;
		t->tb_sec[i].ts_recsize = recsize;
	}
	/* The pool ends in NUL, so every string check can rely on it. */
	if (t->tb_sec[TABLES_SEC_STRINGS].ts_size == 0 ||
	    t->tb_sec[TABLES_SEC_STRINGS].ts_base[
	    t->tb_sec[TABLES_SEC_STRINGS].ts_size - 1] != '\0')
		return EMBER_ETABLES;
	if (tables_str(t, buf + 40, &s, NULL) != EMBER_OK)
		return EMBER_ETABLES;
	t->tb_version_name = s;
	if (tables_str(t, buf + 48, &s, NULL) != EMBER_OK)
		return EMBER_ETABLES;
	t->tb_fhir_version = s;
	return EMBER_OK;
}

int
tables_open_memory(const void *buf, size_t len, struct tables **out)
{
	struct tables *t;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EMBER_ENOMEM;
	if ((rc = tables_check_header(t, buf, len)) != EMBER_OK) {
		free(t);
		return rc;
	}
	*out = t;
	return EMBER_OK;
}

int
tables_open(const char *path, struct tables **out)
{
	struct tables *t = NULL;
	struct stat st;
	void *map = MAP_FAILED;
	size_t size = 0;
	int fd, rc, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return EMBER_EIO;
	if (fstat(fd, &st) == -1) {
		rc = EMBER_EIO;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)TABLES_HEADER_SIZE ||
	    (uintmax_t)st.st_size > SIZE_MAX || st.st_size > (off_t)UINT32_MAX) {
		rc = EMBER_ETABLES;
		goto fail;
	}
	size = (size_t)st.st_size;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = EMBER_EIO;
		goto fail;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		rc = EMBER_ENOMEM;
		goto fail;
	}
	if ((rc = tables_check_header(t, map, size)) != EMBER_OK)
		goto fail;
	t->tb_mapped = 1;
	close(fd);
	*out = t;
	return EMBER_OK;
fail:
	saved = errno;
	free(t);
	if (map != MAP_FAILED)
		munmap(map, size);
	close(fd);
	errno = saved;
	return rc;
}

void
tables_close(struct tables *t)
{
	if (t == NULL)
		return;
	if (t->tb_mapped) {
		void *p;

		/* The map was PROT_READ; munmap wants a plain pointer. */
		memcpy(&p, &t->tb_base, sizeof(p));
		munmap(p, t->tb_size);
	}
	free(t);
}

const char *
tables_version_name(const struct tables *t)
{
	return t->tb_version_name;
}

const char *
tables_fhir_version(const struct tables *t)
{
	return t->tb_fhir_version;
}

uint64_t
tables_content_hash(const struct tables *t)
{
	return t->tb_content_hash;
}

const unsigned char *
tables_bytes(const struct tables *t, size_t *len)
{
	*len = t->tb_size;
	return t->tb_base;
}

/* ---- Types ---- */

unsigned
tables_type_count(const struct tables *t)
{
	return t->tb_sec[TABLES_SEC_TYPES].ts_count;
}

int
tables_type_lookup(const struct tables *t, const char *name, size_t len,
    unsigned *out_index)
{
	uint32_t lo = 0, hi = t->tb_sec[TABLES_SEC_TYPES].ts_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const unsigned char *r = tables_rec(t, TABLES_SEC_TYPES, mid);
		const char *s;
		size_t slen;
		int c;

		if (tables_str(t, r, &s, &slen) != EMBER_OK)
			return EMBER_ETABLES;
		c = tables_cmp(name, len, s, slen);
		if (c == 0) {
			*out_index = mid;
			return EMBER_OK;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return EMBER_ENOTFOUND;
}

int
tables_type_get(const struct tables *t, unsigned index,
    struct tables_type *out)
{
	const unsigned char *r = tables_rec(t, TABLES_SEC_TYPES, index);
	struct tables_type ty;

	if (r == NULL)
		return EMBER_ENOTFOUND;
	if (tables_str(t, r, &ty.name, &ty.name_len) != EMBER_OK)
		return EMBER_ETABLES;
	ty.kind = (enum tables_kind)r[8];
	ty.abstract = r[9] != 0;
	ty.jsonkind = (enum tables_jsonkind)r[10];
	ty.base = rd32(r + 12);
	ty.first_element = rd32(r + 16);
	ty.element_count = rd32(r + 20);
	ty.resource = rd32(r + 32);
	ty.first_child = rd32(r + 36);
	if (ty.kind < TABLES_KIND_PRIMITIVE || ty.kind > TABLES_KIND_RESOURCE ||
	    r[10] > TABLES_JSON_STRING)
		return EMBER_ETABLES;
	*out = ty;
	return EMBER_OK;
}

const char *
tables_type_name(const struct tables *t, unsigned index)
{
	const unsigned char *r = tables_rec(t, TABLES_SEC_TYPES, index);
	const char *s;

	if (r == NULL || tables_str(t, r, &s, NULL) != EMBER_OK)
		return NULL;
	return s;
}

int
tables_type_derives(const struct tables *t, unsigned type, unsigned ancestor)
{
	int i;

	for (i = 0; i < 32 && type != TABLES_NONE; i++) {
		const unsigned char *r = tables_rec(t, TABLES_SEC_TYPES, type);

		if (r == NULL)
			return 0;
		if (type == ancestor)
			return 1;
		type = rd32(r + 12);
	}
	return 0;
}

/* ---- Resources ---- */

unsigned
tables_resource_count(const struct tables *t)
{
	return t->tb_sec[TABLES_SEC_RESOURCES].ts_count;
}

unsigned
tables_resource_type(const struct tables *t, unsigned index)
{
	const unsigned char *r = tables_rec(t, TABLES_SEC_RESOURCES, index);

	return r == NULL ? TABLES_NONE : rd32(r);
}

const char *
tables_resource_name(const struct tables *t, unsigned index)
{
	unsigned type = tables_resource_type(t, index);

	return type == TABLES_NONE ? NULL : tables_type_name(t, type);
}

int
tables_resource_lookup(const struct tables *t, const char *name, size_t len,
    unsigned *out_index)
{
	struct tables_type ty;
	unsigned type;
	int rc;

	if ((rc = tables_type_lookup(t, name, len, &type)) != EMBER_OK)
		return rc;
	if ((rc = tables_type_get(t, type, &ty)) != EMBER_OK)
		return rc;
	if (ty.resource == TABLES_NONE)
		return EMBER_ENOTFOUND;
	if (tables_resource_type(t, ty.resource) != type)
		return EMBER_ETABLES;
	*out_index = ty.resource;
	return EMBER_OK;
}

/* ---- Elements ---- */

unsigned
tables_element_count(const struct tables *t)
{
	return t->tb_sec[TABLES_SEC_ELEMENTS].ts_count;
}

int
tables_element_get(const struct tables *t, unsigned index,
    struct tables_element *out)
{
	const unsigned char *r = tables_rec(t, TABLES_SEC_ELEMENTS, index);
	struct tables_element e;

	if (r == NULL)
		return EMBER_ENOTFOUND;
	if (tables_str(t, r, &e.path, &e.path_len) != EMBER_OK ||
	    tables_str(t, r + 8, &e.name, &e.name_len) != EMBER_OK)
		return EMBER_ETABLES;
	e.owner = rd32(r + 16);
	e.parent = rd32(r + 20);
	e.first_child = rd32(r + 24);
	e.next_sibling = rd32(r + 28);
	e.first_type = rd32(r + 32);
	e.type_count = rd32(r + 36);
	e.min = rd32(r + 40);
	e.max = rd32(r + 44);
	e.contentref = rd32(r + 48);
	e.flags = rd32(r + 52);
	*out = e;
	return EMBER_OK;
}

unsigned
tables_element_type(const struct tables *t, const struct tables_element *e,
    unsigned i)
{
	const unsigned char *r;

	if (i >= e->type_count || e->first_type > UINT32_MAX - i)
		return TABLES_NONE;
	r = tables_rec(t, TABLES_SEC_ELEMENT_TYPES, e->first_type + i);
	return r == NULL ? TABLES_NONE : rd32(r);
}

int
tables_element_lookup(const struct tables *t, const char *path, size_t len,
    unsigned *out_index)
{
	uint32_t lo = 0, hi = t->tb_sec[TABLES_SEC_ELEMENT_PATHS].ts_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const unsigned char *r;
		const char *s;
		size_t slen;
		uint32_t idx;
		int c;

		idx = rd32(tables_rec(t, TABLES_SEC_ELEMENT_PATHS, mid));
		if ((r = tables_rec(t, TABLES_SEC_ELEMENTS, idx)) == NULL ||
		    tables_str(t, r, &s, &slen) != EMBER_OK)
			return EMBER_ETABLES;
		c = tables_cmp(path, len, s, slen);
		if (c == 0) {
			*out_index = idx;
			return EMBER_OK;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return EMBER_ENOTFOUND;
}

int
tables_context_first(const struct tables *t, unsigned *type, unsigned elem,
    unsigned *first)
{
	struct tables_element e;
	struct tables_type ty;
	int rc, hops;

	for (hops = 0; elem != TABLES_NONE; hops++) {
		if (hops > 8)
			return EMBER_ETABLES;
		if ((rc = tables_element_get(t, elem, &e)) != EMBER_OK)
			return rc == EMBER_ENOTFOUND ? EMBER_ETABLES : rc;
		if (e.contentref != TABLES_NONE) {
			elem = e.contentref;
			continue;
		}
		if (e.flags & TABLES_ELEMENT_BACKBONE) {
			*type = TABLES_NONE;
			*first = e.first_child;
			return EMBER_OK;
		}
		if (e.type_count != 1)
			return EMBER_ENOTFOUND;
		*type = tables_element_type(t, &e, 0);
		break;
	}
	if ((rc = tables_type_get(t, *type, &ty)) != EMBER_OK)
		return rc == EMBER_ENOTFOUND ? EMBER_ENOTFOUND : rc;
	*first = ty.first_child;
	return EMBER_OK;
}

/*
 * Walk the children of a context and its base types, calling match on
 * each; match returns EMBER_OK to stop with that element, ENOTFOUND to
 * go on, anything else to fail.
 */
typedef int (*tables_match_fn)(const struct tables *, const struct
    tables_element *, const char *, size_t, unsigned *);

static int
tables_context_walk(const struct tables *t, unsigned type, unsigned elem,
    const char *key, size_t len, tables_match_fn match, unsigned *out_elem,
    unsigned *out_type)
{
	struct tables_element e;
	unsigned cur, found_type;
	int rc, n, bases;

	if ((rc = tables_context_first(t, &type, elem, &cur)) != EMBER_OK)
		return rc;
	for (bases = 0; bases < 32; bases++) {
		for (n = 0; cur != TABLES_NONE; n++) {
			if (n > 100000)
				return EMBER_ETABLES;
			if ((rc = tables_element_get(t, cur, &e)) != EMBER_OK)
				return EMBER_ETABLES;
			rc = match(t, &e, key, len, &found_type);
			if (rc == EMBER_OK) {
				*out_elem = cur;
				if (out_type != NULL)
					*out_type = found_type;
				return EMBER_OK;
			}
			if (rc != EMBER_ENOTFOUND)
				return rc;
			cur = e.next_sibling;
		}
		/* Snapshots repeat inherited elements; this is a fallback. */
		if (type == TABLES_NONE)
			break;
		{
			struct tables_type ty;

			if (tables_type_get(t, type, &ty) != EMBER_OK)
				return EMBER_ETABLES;
			type = ty.base;
			if (type == TABLES_NONE)
				break;
			if (tables_type_get(t, type, &ty) != EMBER_OK)
				return EMBER_ETABLES;
			cur = ty.first_child;
		}
	}
	return EMBER_ENOTFOUND;
}

static int
tables_match_member(const struct tables *t, const struct tables_element *e,
    const char *name, size_t len, unsigned *out_type)
{
	if (e->name_len != len || memcmp(e->name, name, len) != 0)
		return EMBER_ENOTFOUND;
	*out_type = e->type_count == 1 ? tables_element_type(t, e, 0) :
	    TABLES_NONE;
	return EMBER_OK;
}

int
tables_element_member(const struct tables *t, unsigned type, unsigned elem,
    const char *name, size_t len, unsigned *out_elem)
{
	return tables_context_walk(t, type, elem, name, len,
	    tables_match_member, out_elem, NULL);
}

static int
tables_match_key(const struct tables *t, const struct tables_element *e,
    const char *key, size_t len, unsigned *out_type)
{
	unsigned i;

	if (e->name_len > len || memcmp(e->name, key, e->name_len) != 0)
		return EMBER_ENOTFOUND;
	if (!(e->flags & TABLES_ELEMENT_CHOICE)) {
		if (e->name_len != len)
			return EMBER_ENOTFOUND;
		*out_type = e->type_count == 1 ?
		    tables_element_type(t, e, 0) : TABLES_NONE;
		return EMBER_OK;
	}
	key += e->name_len;
	len -= e->name_len;
	if (len == 0)
		return EMBER_ENOTFOUND;
	for (i = 0; i < e->type_count; i++) {
		unsigned ty = tables_element_type(t, e, i);
		const unsigned char *r = tables_rec(t, TABLES_SEC_TYPES, ty);
		const char *s;
		size_t slen;

		if (r == NULL || tables_str(t, r, &s, &slen) != EMBER_OK)
			return EMBER_ETABLES;
		/* "valueQuantity": the type name with its first letter up. */
		if (slen == len && (unsigned char)key[0] ==
		    (s[0] >= 'a' && s[0] <= 'z' ? s[0] - 'a' + 'A' : s[0]) &&
		    memcmp(key + 1, s + 1, len - 1) == 0) {
			*out_type = ty;
			return EMBER_OK;
		}
	}
	return EMBER_ENOTFOUND;
}

int
tables_element_child(const struct tables *t, unsigned type, unsigned elem,
    const char *key, size_t len, unsigned *out_elem, unsigned *out_type)
{
	return tables_context_walk(t, type, elem, key, len, tables_match_key,
	    out_elem, out_type);
}

/* ---- Search parameters ---- */

unsigned
tables_param_count(const struct tables *t)
{
	return t->tb_sec[TABLES_SEC_PARAMS].ts_count;
}

int
tables_param_range(const struct tables *t, unsigned resource,
    unsigned *first, unsigned *count)
{
	unsigned type = tables_resource_type(t, resource);
	const unsigned char *r;
	uint32_t f, n;

	if (type == TABLES_NONE)
		return EMBER_ENOTFOUND;
	if ((r = tables_rec(t, TABLES_SEC_TYPES, type)) == NULL)
		return EMBER_ETABLES;
	f = rd32(r + 24);
	n = rd32(r + 28);
	if (f > t->tb_sec[TABLES_SEC_PARAMS].ts_count ||
	    n > t->tb_sec[TABLES_SEC_PARAMS].ts_count - f)
		return EMBER_ETABLES;
	*first = f;
	*count = n;
	return EMBER_OK;
}

int
tables_param_lookup(const struct tables *t, unsigned resource,
    const char *code, size_t len, unsigned *out_param)
{
	unsigned first, count, lo, hi;
	int rc;

	if ((rc = tables_param_range(t, resource, &first, &count)) != EMBER_OK)
		return rc;
	lo = first;
	hi = first + count;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const unsigned char *r = tables_rec(t, TABLES_SEC_PARAMS, mid);
		const char *s;
		size_t slen;
		int c;

		if (tables_str(t, r, &s, &slen) != EMBER_OK)
			return EMBER_ETABLES;
		c = tables_cmp(code, len, s, slen);
		if (c == 0) {
			*out_param = mid;
			return EMBER_OK;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return EMBER_ENOTFOUND;
}

/* Check that [first, first+count) lies inside section sec. */
static int
tables_range_ok(const struct tables *t, enum tables_section sec,
    uint32_t first, uint32_t count)
{
	uint32_t n = t->tb_sec[sec].ts_count;

	return first <= n && count <= n - first;
}

/* A program view of [off, off+len) in PROGRAMS. */
static int
tables_program_at(const struct tables *t, const unsigned char *p,
    struct tables_program *out)
{
	uint32_t off = rd32(p), len = rd32(p + 4);

	if (!tables_range_ok(t, TABLES_SEC_PROGRAMS, off, len))
		return EMBER_ETABLES;
	out->code = len ? t->tb_sec[TABLES_SEC_PROGRAMS].ts_base + off : NULL;
	out->len = len;
	return EMBER_OK;
}

int
tables_param_get(const struct tables *t, unsigned index,
    struct tables_param *out)
{
	const unsigned char *r = tables_rec(t, TABLES_SEC_PARAMS, index);
	struct tables_param p;

	if (r == NULL)
		return EMBER_ENOTFOUND;
	if (tables_str(t, r, &p.code, &p.code_len) != EMBER_OK ||
	    tables_str(t, r + 8, &p.url, &p.url_len) != EMBER_OK ||
	    tables_str(t, r + 16, &p.expression, &p.expression_len) !=
	    EMBER_OK ||
	    tables_str(t, r + 24, &p.base, &p.base_len) != EMBER_OK ||
	    tables_str(t, r + 80, &p.xpath, &p.xpath_len) != EMBER_OK)
		return EMBER_ETABLES;
	if (r[32] < TABLES_PARAM_NUMBER || r[32] >= TABLES_PARAM_TYPE__MAX)
		return EMBER_ETABLES;
	p.type = (enum tables_param_type)r[32];
	p.flags = r[33];
	if (tables_program_at(t, r + 36, &p.program) != EMBER_OK)
		return EMBER_ETABLES;
	p.first_target = rd32(r + 44);
	p.target_count = rd32(r + 48);
	p.first_modifier = rd32(r + 52);
	p.modifier_count = rd32(r + 56);
	p.first_comparator = rd32(r + 60);
	p.comparator_count = rd32(r + 64);
	p.first_component = rd32(r + 68);
	p.component_count = rd32(r + 72);
	p.resource = rd32(r + 76);
	if (!tables_range_ok(t, TABLES_SEC_STRLISTS, p.first_target,
	    p.target_count) ||
	    !tables_range_ok(t, TABLES_SEC_STRLISTS, p.first_modifier,
	    p.modifier_count) ||
	    !tables_range_ok(t, TABLES_SEC_STRLISTS, p.first_comparator,
	    p.comparator_count) ||
	    !tables_range_ok(t, TABLES_SEC_COMPONENTS, p.first_component,
	    p.component_count))
		return EMBER_ETABLES;
	*out = p;
	return EMBER_OK;
}

/* String i of the list [first, first+count) in STRLISTS. */
static const char *
tables_strlist(const struct tables *t, unsigned first, unsigned count,
    unsigned i, size_t *len)
{
	const unsigned char *r;
	const char *s;

	if (i >= count || first > UINT32_MAX - i)
		return NULL;
	r = tables_rec(t, TABLES_SEC_STRLISTS, first + i);
	if (r == NULL || tables_str(t, r, &s, len) != EMBER_OK)
		return NULL;
	return s;
}

const char *
tables_param_target(const struct tables *t, const struct tables_param *p,
    unsigned i, size_t *len)
{
	return tables_strlist(t, p->first_target, p->target_count, i, len);
}

const char *
tables_param_modifier(const struct tables *t, const struct tables_param *p,
    unsigned i, size_t *len)
{
	return tables_strlist(t, p->first_modifier, p->modifier_count, i,
	    len);
}

const char *
tables_param_comparator(const struct tables *t, const struct tables_param *p,
    unsigned i, size_t *len)
{
	return tables_strlist(t, p->first_comparator, p->comparator_count, i,
	    len);
}

int
tables_param_component(const struct tables *t, const struct tables_param *p,
    unsigned i, struct tables_component *out)
{
	const unsigned char *r;
	struct tables_component c;

	if (i >= p->component_count || p->first_component > UINT32_MAX - i)
		return EMBER_ENOTFOUND;
	r = tables_rec(t, TABLES_SEC_COMPONENTS, p->first_component + i);
	if (r == NULL)
		return EMBER_ETABLES;
	if (tables_str(t, r, &c.definition, &c.definition_len) != EMBER_OK ||
	    tables_str(t, r + 8, &c.code, &c.code_len) != EMBER_OK ||
	    tables_str(t, r + 16, &c.expression, &c.expression_len) !=
	    EMBER_OK || r[24] >= TABLES_PARAM_TYPE__MAX ||
	    tables_program_at(t, r + 28, &c.program) != EMBER_OK)
		return EMBER_ETABLES;
	c.type = (enum tables_param_type)r[24];
	*out = c;
	return EMBER_OK;
}

const char *
tables_param_type_name(enum tables_param_type type)
{
	static const char *const names[TABLES_PARAM_TYPE__MAX] = {
		"?", "number", "date", "string", "token", "reference",
		"composite", "quantity", "uri", "special",
	};

	if ((unsigned)type >= TABLES_PARAM_TYPE__MAX)
		return "?";
	return names[type];
}

/* ---- Compartments ---- */

unsigned
tables_compartment_count(const struct tables *t)
{
	return t->tb_sec[TABLES_SEC_COMPARTMENTS].ts_count;
}

int
tables_compartment_get(const struct tables *t, unsigned index,
    struct tables_compartment *out)
{
	const unsigned char *r = tables_rec(t, TABLES_SEC_COMPARTMENTS, index);
	struct tables_compartment c;

	if (r == NULL)
		return EMBER_ENOTFOUND;
	if (tables_str(t, r, &c.compartment, &c.compartment_len) != EMBER_OK ||
	    tables_str(t, r + 8, &c.resource, &c.resource_len) != EMBER_OK)
		return EMBER_ETABLES;
	c.type = rd32(r + 16);
	c.first_param = rd32(r + 20);
	c.param_count = rd32(r + 24);
	if (!tables_range_ok(t, TABLES_SEC_STRLISTS, c.first_param,
	    c.param_count))
		return EMBER_ETABLES;
	*out = c;
	return EMBER_OK;
}

int
tables_compartment_lookup(const struct tables *t, const char *compartment,
    size_t clen, const char *resource, size_t rlen, unsigned *out_index)
{
	uint32_t lo = 0, hi = t->tb_sec[TABLES_SEC_COMPARTMENTS].ts_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const unsigned char *r;
		const char *s;
		size_t slen;
		int c;

		r = tables_rec(t, TABLES_SEC_COMPARTMENTS, mid);
		if (tables_str(t, r, &s, &slen) != EMBER_OK)
			return EMBER_ETABLES;
		c = tables_cmp(compartment, clen, s, slen);
		if (c == 0) {
			if (tables_str(t, r + 8, &s, &slen) != EMBER_OK)
				return EMBER_ETABLES;
			c = tables_cmp(resource, rlen, s, slen);
		}
		if (c == 0) {
			*out_index = mid;
			return EMBER_OK;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return EMBER_ENOTFOUND;
}

const char *
tables_compartment_param(const struct tables *t,
    const struct tables_compartment *c, unsigned i, size_t *len)
{
	return tables_strlist(t, c->first_param, c->param_count, i, len);
}

/* ---- Full verification ---- */

static int
tables_verify_types(const struct tables *t)
{
	unsigned i, n = tables_type_count(t), ne = tables_element_count(t);
	const char *prev = NULL;
	size_t prev_len = 0;

	for (i = 0; i < n; i++) {
		struct tables_type ty;
		const unsigned char *r = tables_rec(t, TABLES_SEC_TYPES, i);

		if (tables_type_get(t, i, &ty) != EMBER_OK)
			return EMBER_ETABLES;
		if (prev != NULL &&
		    tables_cmp(prev, prev_len, ty.name, ty.name_len) >= 0)
			return EMBER_ETABLES;
		prev = ty.name;
		prev_len = ty.name_len;
		if ((ty.base != TABLES_NONE && ty.base >= n) ||
		    ty.first_element > ne ||
		    ty.element_count > ne - ty.first_element ||
		    (ty.first_child != TABLES_NONE && ty.first_child >= ne))
			return EMBER_ETABLES;
		if (ty.resource != TABLES_NONE &&
		    tables_resource_type(t, ty.resource) != i)
			return EMBER_ETABLES;
		if (!tables_range_ok(t, TABLES_SEC_PARAMS, rd32(r + 24),
		    rd32(r + 28)))
			return EMBER_ETABLES;
	}
	for (i = 0; i < tables_resource_count(t); i++) {
		struct tables_type ty;

		if (tables_type_get(t, tables_resource_type(t, i), &ty) !=
		    EMBER_OK || ty.resource != i ||
		    ty.kind != TABLES_KIND_RESOURCE || ty.abstract)
			return EMBER_ETABLES;
	}
	return EMBER_OK;
}

static int
tables_verify_elements(const struct tables *t)
{
	unsigned i, j, n = tables_element_count(t), nt = tables_type_count(t);
	const char *prev = NULL;
	size_t prev_len = 0;

	for (i = 0; i < n; i++) {
		struct tables_element e;

		if (tables_element_get(t, i, &e) != EMBER_OK)
			return EMBER_ETABLES;
		if (e.owner >= nt ||
		    (e.parent != TABLES_NONE && e.parent >= n) ||
		    (e.first_child != TABLES_NONE && e.first_child <= i) ||
		    (e.first_child != TABLES_NONE && e.first_child >= n) ||
		    (e.next_sibling != TABLES_NONE && e.next_sibling <= i) ||
		    (e.next_sibling != TABLES_NONE && e.next_sibling >= n) ||
		    (e.contentref != TABLES_NONE && e.contentref >= n) ||
		    !tables_range_ok(t, TABLES_SEC_ELEMENT_TYPES, e.first_type,
		    e.type_count))
			return EMBER_ETABLES;
		for (j = 0; j < e.type_count; j++)
			if (tables_element_type(t, &e, j) >= nt)
				return EMBER_ETABLES;
	}
	if (t->tb_sec[TABLES_SEC_ELEMENT_PATHS].ts_count != n)
		return EMBER_ETABLES;
	for (i = 0; i < n; i++) {
		struct tables_element e;
		uint32_t idx = rd32(tables_rec(t, TABLES_SEC_ELEMENT_PATHS, i));

		if (tables_element_get(t, idx, &e) != EMBER_OK)
			return EMBER_ETABLES;
		if (prev != NULL &&
		    tables_cmp(prev, prev_len, e.path, e.path_len) >= 0)
			return EMBER_ETABLES;
		prev = e.path;
		prev_len = e.path_len;
	}
	return EMBER_OK;
}

static int
tables_verify_params(const struct tables *t)
{
	unsigned i, j, n = tables_param_count(t);

	for (i = 0; i < n; i++) {
		struct tables_param p;
		struct tables_component c;

		if (tables_param_get(t, i, &p) != EMBER_OK ||
		    p.resource >= tables_type_count(t))
			return EMBER_ETABLES;
		if (p.program.len &&
		    fhirpath_check(t, &p.program) != EMBER_OK)
			return EMBER_ETABLES;
		for (j = 0; j < p.target_count; j++)
			if (tables_param_target(t, &p, j, NULL) == NULL)
				return EMBER_ETABLES;
		for (j = 0; j < p.modifier_count; j++)
			if (tables_param_modifier(t, &p, j, NULL) == NULL)
				return EMBER_ETABLES;
		for (j = 0; j < p.comparator_count; j++)
			if (tables_param_comparator(t, &p, j, NULL) == NULL)
				return EMBER_ETABLES;
		for (j = 0; j < p.component_count; j++) {
			if (tables_param_component(t, &p, j, &c) != EMBER_OK)
				return EMBER_ETABLES;
			if (c.program.len &&
			    fhirpath_check(t, &c.program) != EMBER_OK)
				return EMBER_ETABLES;
		}
	}
	for (i = 0; i < tables_resource_count(t); i++) {
		unsigned first, count;

		if (tables_param_range(t, i, &first, &count) != EMBER_OK)
			return EMBER_ETABLES;
		for (j = first; j + 1 < first + count; j++) {
			struct tables_param a, b;

			if (tables_param_get(t, j, &a) != EMBER_OK ||
			    tables_param_get(t, j + 1, &b) != EMBER_OK ||
			    tables_cmp(a.code, a.code_len, b.code,
			    b.code_len) >= 0)
				return EMBER_ETABLES;
		}
	}
	return EMBER_OK;
}

static int
tables_verify_compartments(const struct tables *t)
{
	unsigned i, j, n = tables_compartment_count(t);
	struct tables_compartment prev;

	memset(&prev, 0, sizeof(prev));
	for (i = 0; i < n; i++) {
		struct tables_compartment c;
		int cmp;

		if (tables_compartment_get(t, i, &c) != EMBER_OK)
			return EMBER_ETABLES;
		if (c.type != TABLES_NONE && c.type >= tables_type_count(t))
			return EMBER_ETABLES;
		for (j = 0; j < c.param_count; j++)
			if (tables_compartment_param(t, &c, j, NULL) == NULL)
				return EMBER_ETABLES;
		if (i > 0) {
			cmp = tables_cmp(prev.compartment, prev.compartment_len,
			    c.compartment, c.compartment_len);
			if (cmp == 0)
				cmp = tables_cmp(prev.resource,
				    prev.resource_len, c.resource,
				    c.resource_len);
			if (cmp >= 0)
				return EMBER_ETABLES;
		}
		prev = c;
	}
	return EMBER_OK;
}

int
tables_verify(const struct tables *t)
{
	uint64_t h;

	h = tables_fnv1a64(TABLES_FNV_OFFSET, t->tb_base + t->tb_header_size,
	    t->tb_size - t->tb_header_size);
	if (h != t->tb_body_hash)
		return EMBER_ETABLES;
	if (tables_verify_types(t) != EMBER_OK ||
	    tables_verify_elements(t) != EMBER_OK ||
	    tables_verify_params(t) != EMBER_OK ||
	    tables_verify_compartments(t) != EMBER_OK)
		return EMBER_ETABLES;
	return EMBER_OK;
}
