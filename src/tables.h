/*
 * tables.h: the compiled tables of one FHIR version, mapped read-only.
 *
 * src/tablec turns schemas/<version>/ (the project's compact extraction of
 * the official StructureDefinitions, SearchParameters and
 * CompartmentDefinitions) into one <version>.tables file at build time.
 * This module maps that file and answers lookups on the mapped bytes:
 * the type model (types and their elements), the search parameters of
 * every resource type with their compiled FHIRPath programs, and the
 * compartment definitions.  Opening costs a header check and nothing
 * else; nothing is parsed at startup (DESIGN.md, "Compiled tables").
 *
 * FILE FORMAT (format version 1)
 * ==============================
 *
 * All integers are little-endian and unsigned, of fixed width.  Every
 * offset is relative to the start of the file; the file holds no
 * pointers.  "NONE" is 0xffffffff (TABLES_NONE).  A string is a pair
 * (u32 offset, u32 length) into the string pool; the pool byte at
 * offset+length is NUL, so callers may use pool strings as C strings.
 *
 * Header (64 bytes, then the section table):
 *
 *	off  size  field
 *	0    8     magic "EMBRTBL\0"
 *	8    4     format version (TABLES_FORMAT_VERSION)
 *	12   4     header size: 64 + 16 * section count
 *	16   8     file size in bytes (a truncated file fails here)
 *	24   8     content hash: FNV-1a 64 over the input files (name, NUL,
 *	           bytes, for each input in a fixed order)
 *	32   8     body hash: FNV-1a 64 over bytes [header size, file size);
 *	           checked by tables_verify(), not by tables_open()
 *	40   8     version name string ("R4")
 *	48   8     FHIR version string ("4.0.1")
 *	56   4     section count (TABLES_SECTION_COUNT)
 *	60   4     reserved, 0
 *	64   16*n  section table: per section u32 offset, u32 size in bytes,
 *	           u32 record count, u32 record size; sections in the order
 *	           of enum tables_section; offsets 8-aligned, size equal to
 *	           count * record size, every section inside the file
 *
 * Sections and their records (field offsets in bytes):
 *
 *   STRINGS (record size 1): the string pool.  Its last byte is NUL.
 *
 *   TYPES (40): every type, sorted by name (byte order).
 *	0 name  8 u8 kind (enum tables_kind)  9 u8 abstract (0|1)
 *	10 u8 jsonkind (enum tables_jsonkind)  11 u8 reserved
 *	12 base type index or NONE  16 first element  20 element count
 *	24 first search parameter  28 parameter count (concrete resources)
 *	32 resource index or NONE (concrete resources)  36 first top-level
 *	element or NONE
 *
 *   ELEMENTS (56): the snapshot elements of each type, grouped by type,
 *   in definition order (depth first).
 *	0 path ("Observation.value[x]")  8 name ("value": last segment
 *	without "[x]")  16 owner type index  20 parent element or NONE
 *	24 first child or NONE  28 next sibling or NONE  32 first entry in
 *	ELEMENT_TYPES  36 type count  40 min  44 max (NONE for "*")
 *	48 contentReference target element or NONE  52 flags
 *	(TABLES_ELEMENT_*)
 *
 *   ELEMENT_TYPES (4): u32 type index; each element's types in order.
 *
 *   ELEMENT_PATHS (4): u32 element index, sorted by element path.
 *
 *   RESOURCES (4): u32 type index of each concrete resource type, sorted
 *   by name; the position in this table is the "resource index".
 *
 *   PARAMS (88): search parameters, grouped by resource type, each
 *   group sorted by code.  Parameters inherited from Resource and
 *   DomainResource are repeated in every resource's group.
 *	0 code  8 url  16 expression (the full official expression, may be
 *	empty)  24 declaring base ("Resource", "DomainResource" or the
 *	resource type)  32 u8 type (enum tables_param_type)  33 u8 flags
 *	(TABLES_PARAM_*)  34 u16 reserved  36 program offset in PROGRAMS
 *	40 program length (0: no path)  44 first target (STRLISTS)
 *	48 target count  52 first modifier  56 modifier count
 *	60 first comparator  64 comparator count  68 first component
 *	72 component count  76 resource type index  80 xpath string
 *
 *   COMPONENTS (40): composite parameter components, in order.
 *	0 definition url  8 definition code  16 expression  24 u8 type
 *	25..27 reserved  28 program offset  32 program length
 *	36 reserved
 *
 *   STRLISTS (8): strings (targets, modifiers, comparators,
 *   compartment parameter codes), each a string pair.
 *
 *   PROGRAMS (1): compiled FHIRPath programs, byte blobs, each
 *   self-contained; see fhirpath.h for their layout.
 *
 *   COMPARTMENTS (32): compartment definitions, sorted by
 *   (compartment, resource).
 *	0 compartment ("Patient")  8 resource ("Observation")
 *	16 resource type index or NONE  20 first parameter code (STRLISTS)
 *	24 parameter count  28 reserved
 *
 * Robustness: tables_open() checks the header and the section table
 * against the file size.  Every accessor then checks every index and
 * string it reads against the section bounds, so a corrupt record gives
 * EMBER_ETABLES (or NULL / 0 from the plain getters) and never a read
 * outside the map.  tables_verify() does the full walk, including the
 * body hash.
 *
 * Lifetime: every pointer this module returns (names, strings,
 * programs) points into the map and lives until tables_close().
 * A struct tables is immutable after open; any number of threads may
 * use it at once.
 */
#ifndef EMBER_TABLES_H
#define EMBER_TABLES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TABLES_MAGIC		"EMBRTBL"	/* plus its NUL: 8 bytes */
#define TABLES_FORMAT_VERSION	1u
#define TABLES_NONE		0xffffffffu
#define TABLES_HEADER_SIZE	64u
#define TABLES_FNV_OFFSET	UINT64_C(0xcbf29ce484222325)

enum tables_section {
	TABLES_SEC_STRINGS = 0,
	TABLES_SEC_TYPES,
	TABLES_SEC_ELEMENTS,
	TABLES_SEC_ELEMENT_TYPES,
	TABLES_SEC_ELEMENT_PATHS,
	TABLES_SEC_RESOURCES,
	TABLES_SEC_PARAMS,
	TABLES_SEC_COMPONENTS,
	TABLES_SEC_STRLISTS,
	TABLES_SEC_PROGRAMS,
	TABLES_SEC_COMPARTMENTS,
	TABLES_SECTION_COUNT
};

/* Record sizes of format version 1, indexed by enum tables_section. */
#define TABLES_RECSIZE_STRINGS		1u
#define TABLES_RECSIZE_TYPES		40u
#define TABLES_RECSIZE_ELEMENTS		56u
#define TABLES_RECSIZE_ELEMENT_TYPES	4u
#define TABLES_RECSIZE_ELEMENT_PATHS	4u
#define TABLES_RECSIZE_RESOURCES	4u
#define TABLES_RECSIZE_PARAMS		88u
#define TABLES_RECSIZE_COMPONENTS	40u
#define TABLES_RECSIZE_STRLISTS		8u
#define TABLES_RECSIZE_PROGRAMS		1u
#define TABLES_RECSIZE_COMPARTMENTS	32u

enum tables_kind {
	TABLES_KIND_PRIMITIVE = 1,
	TABLES_KIND_COMPLEX = 2,
	TABLES_KIND_RESOURCE = 3
};

/* How a primitive type is written in JSON. */
enum tables_jsonkind {
	TABLES_JSON_NONE = 0,		/* not a primitive */
	TABLES_JSON_BOOL = 1,
	TABLES_JSON_NUMBER = 2,
	TABLES_JSON_STRING = 3
};

/* Element flags. */
#define TABLES_ELEMENT_SUMMARY	0x01u	/* isSummary (S) */
#define TABLES_ELEMENT_MODIFIER	0x02u	/* isModifier (M) */
#define TABLES_ELEMENT_CHOICE	0x04u	/* path ends in [x] */
#define TABLES_ELEMENT_BACKBONE	0x08u	/* has child elements */

enum tables_param_type {
	TABLES_PARAM_NUMBER = 1,
	TABLES_PARAM_DATE,
	TABLES_PARAM_STRING,
	TABLES_PARAM_TOKEN,
	TABLES_PARAM_REFERENCE,
	TABLES_PARAM_COMPOSITE,
	TABLES_PARAM_QUANTITY,
	TABLES_PARAM_URI,
	TABLES_PARAM_SPECIAL,
	TABLES_PARAM_TYPE__MAX
};

/* Search parameter flags. */
#define TABLES_PARAM_NOPATH		0x01u	/* no expression: _content... */
#define TABLES_PARAM_MULTIPLE_OR_SET	0x02u	/* multipleOr was given */
#define TABLES_PARAM_MULTIPLE_OR	0x04u	/* multipleOr is true */
#define TABLES_PARAM_MULTIPLE_AND_SET	0x08u	/* multipleAnd was given */
#define TABLES_PARAM_MULTIPLE_AND	0x10u	/* multipleAnd is true */

struct tables;

/*
 * A compiled FHIRPath program: a view of bytes in the map (or, from the
 * compiler, in memory).  len 0 means "no program".
 */
struct tables_program {
	const unsigned char	*code;
	size_t			 len;
};

/* One type; filled by tables_type_get(); strings point into the map. */
struct tables_type {
	const char	*name;
	size_t		 name_len;
	enum tables_kind kind;
	int		 abstract;
	enum tables_jsonkind jsonkind;
	unsigned	 base;		/* type index or TABLES_NONE */
	unsigned	 first_element;	/* all elements: [first, first+count) */
	unsigned	 element_count;
	unsigned	 first_child;	/* first top-level element or NONE */
	unsigned	 resource;	/* resource index or TABLES_NONE */
};

/* One element; filled by tables_element_get(). */
struct tables_element {
	const char	*path;		/* "Observation.value[x]" */
	size_t		 path_len;
	const char	*name;		/* "value" */
	size_t		 name_len;
	unsigned	 owner;		/* type index */
	unsigned	 parent;	/* element index or TABLES_NONE */
	unsigned	 first_child;	/* element index or TABLES_NONE */
	unsigned	 next_sibling;	/* element index or TABLES_NONE */
	unsigned	 type_count;	/* see tables_element_type() */
	unsigned	 first_type;
	unsigned	 min;
	unsigned	 max;		/* TABLES_NONE for "*" */
	unsigned	 contentref;	/* element index or TABLES_NONE */
	unsigned	 flags;		/* TABLES_ELEMENT_* */
};

/* One search parameter of one resource type; see tables_param_get(). */
struct tables_param {
	const char	*code;
	size_t		 code_len;
	const char	*url;
	size_t		 url_len;
	const char	*expression;	/* the official expression, or "" */
	size_t		 expression_len;
	const char	*base;		/* declaring base */
	size_t		 base_len;
	const char	*xpath;		/* the official XPath, or "" */
	size_t		 xpath_len;
	enum tables_param_type type;
	unsigned	 flags;		/* TABLES_PARAM_* */
	unsigned	 resource;	/* type index */
	struct tables_program program;	/* for this resource type */
	unsigned	 target_count;	/* tables_param_target() */
	unsigned	 modifier_count;	/* tables_param_modifier() */
	unsigned	 comparator_count;	/* tables_param_comparator() */
	unsigned	 component_count;	/* tables_param_component() */
	unsigned	 first_target;
	unsigned	 first_modifier;
	unsigned	 first_comparator;
	unsigned	 first_component;
};

/* One component of a composite parameter. */
struct tables_component {
	const char	*definition;	/* url of the component's parameter */
	size_t		 definition_len;
	const char	*code;		/* its code, or "" */
	size_t		 code_len;
	const char	*expression;	/* relative to the composite's value */
	size_t		 expression_len;
	enum tables_param_type type;	/* 0 when the definition is unknown */
	struct tables_program program;
};

/* One (compartment, resource) entry. */
struct tables_compartment {
	const char	*compartment;	/* "Patient" */
	size_t		 compartment_len;
	const char	*resource;	/* "Observation" */
	size_t		 resource_len;
	unsigned	 type;		/* type index of resource, or NONE */
	unsigned	 param_count;	/* tables_compartment_param() */
	unsigned	 first_param;
};

/*
 * Open a tables file: map it read-only and check the header and the
 * section table against the file size.  No record is parsed.
 *	path	the file name.
 *	out	on success, the new handle; free with tables_close().
 * Returns EMBER_OK, EMBER_EIO (cannot open, stat or map: errno is
 * kept), EMBER_ETABLES (not a tables file, another format version,
 * truncated, or a section out of bounds) or EMBER_ENOMEM.
 * On failure *out is untouched.
 */
int tables_open(const char *path, struct tables **out);

/*
 * Like tables_open(), over bytes already in memory (tests, fuzzing and
 * the compiler).  The buffer is borrowed: it must stay unchanged until
 * tables_close().  Returns EMBER_OK, EMBER_ETABLES or EMBER_ENOMEM.
 */
int tables_open_memory(const void *buf, size_t len, struct tables **out);

/* Unmap and free.  NULL is a no-op. */
void tables_close(struct tables *t);

/*
 * Walk the whole file: check the body hash and every record, string,
 * index and program header.  Costs a read of every byte; meant for
 * `emberctl tables`, tests and a paranoid startup, not for every open.
 * Returns EMBER_OK or EMBER_ETABLES.
 */
int tables_verify(const struct tables *t);

/* The version name ("R4") and FHIR version ("4.0.1"); "" if corrupt. */
const char *tables_version_name(const struct tables *t);
const char *tables_fhir_version(const struct tables *t);

/* The content hash of the inputs, from the header. */
uint64_t tables_content_hash(const struct tables *t);

/*
 * FNV-1a 64: fold len bytes of buf into hash h (start with
 * TABLES_FNV_OFFSET).  Used for the content and body hashes.
 */
uint64_t tables_fnv1a64(uint64_t h, const void *buf, size_t len);

/* The whole file, for callers that hash or copy it. */
const unsigned char *tables_bytes(const struct tables *t, size_t *len);

/* ---- Resources: the concrete (non-abstract) resource types ---- */

/* Number of concrete resource types. */
unsigned tables_resource_count(const struct tables *t);

/*
 * Find a concrete resource type by name (exact, case-sensitive).
 *	out_index	on success the resource index, in [0, count).
 * Returns EMBER_OK, EMBER_ENOTFOUND (unknown or abstract type) or
 * EMBER_ETABLES.
 */
int tables_resource_lookup(const struct tables *t, const char *name,
    size_t len, unsigned *out_index);

/* Name of resource index (sorted order); NULL if out of range. */
const char *tables_resource_name(const struct tables *t, unsigned index);

/* Type index of resource index; TABLES_NONE if out of range. */
unsigned tables_resource_type(const struct tables *t, unsigned index);

/* ---- Types ---- */

/* Number of types (all kinds, abstract included). */
unsigned tables_type_count(const struct tables *t);

/*
 * Find a type by name (exact).  Returns EMBER_OK, EMBER_ENOTFOUND or
 * EMBER_ETABLES; *out_index is set on success only.
 */
int tables_type_lookup(const struct tables *t, const char *name,
    size_t len, unsigned *out_index);

/*
 * Describe type index.  Returns EMBER_OK, EMBER_ENOTFOUND (index out
 * of range) or EMBER_ETABLES (corrupt record).
 */
int tables_type_get(const struct tables *t, unsigned index,
    struct tables_type *out);

/* Name of type index, or NULL if out of range or corrupt. */
const char *tables_type_name(const struct tables *t, unsigned index);

/*
 * Whether type index `type` is `ancestor` or derives from it (walks the
 * base chain, at most 32 steps).  0 for NONE or corrupt indexes.
 */
int tables_type_derives(const struct tables *t, unsigned type,
    unsigned ancestor);

/* ---- Elements ---- */

/* Number of elements in all types. */
unsigned tables_element_count(const struct tables *t);

/*
 * Describe element index.  Returns EMBER_OK, EMBER_ENOTFOUND or
 * EMBER_ETABLES.
 */
int tables_element_get(const struct tables *t, unsigned index,
    struct tables_element *out);

/*
 * Type i (0 <= i < e->type_count) of an element described by
 * tables_element_get(); TABLES_NONE if out of range or corrupt.
 */
unsigned tables_element_type(const struct tables *t,
    const struct tables_element *e, unsigned i);

/*
 * Find an element by full path, as written in the StructureDefinition
 * ("Observation.value[x]", "Patient.contact.name").  Returns EMBER_OK,
 * EMBER_ENOTFOUND or EMBER_ETABLES.
 */
int tables_element_lookup(const struct tables *t, const char *path,
    size_t len, unsigned *out_index);

/*
 * Resolve a FHIRPath member name under a context.  The context is a
 * type (elem NONE) or an element; an element with a contentReference
 * stands for its target, an element without children for its single
 * type.  "value" finds "value[x]".
 *	type, elem	the context.
 *	out_elem	on success the element index.
 * Returns EMBER_OK, EMBER_ENOTFOUND or EMBER_ETABLES.
 */
int tables_element_member(const struct tables *t, unsigned type,
    unsigned elem, const char *name, size_t len, unsigned *out_elem);

/*
 * Resolve a JSON property name under a context (as for
 * tables_element_member()), expanding choice keys: "valueQuantity"
 * finds "value[x]" with type Quantity.
 *	out_elem	the element index.
 *	out_type	the type of the value: the choice's type, or the
 *			element's single type (NONE if it has several or
 *			none, e.g. a backbone element).
 * Returns EMBER_OK, EMBER_ENOTFOUND or EMBER_ETABLES.
 */
int tables_element_child(const struct tables *t, unsigned type,
    unsigned elem, const char *key, size_t len, unsigned *out_elem,
    unsigned *out_type);

/*
 * The first child element of a context (as tables_element_member()
 * takes it: a type, elem NONE, or an element).  An element with a
 * contentReference stands for its target, a backbone element for its
 * own children (*type becomes NONE), any other element for its single
 * type (*type becomes that type, for walking up its base chain).
 * Returns EMBER_OK with *first (NONE when there are no children),
 * EMBER_ENOTFOUND for an element of several types, or EMBER_ETABLES.
 */
int tables_context_first(const struct tables *t, unsigned *type,
    unsigned elem, unsigned *first);

/* ---- Search parameters ---- */

/* Number of parameter records (all resources). */
unsigned tables_param_count(const struct tables *t);

/*
 * The parameters of resource index `resource`: indexes [*first,
 * *first + *count), sorted by code.  Returns EMBER_OK, EMBER_ENOTFOUND
 * or EMBER_ETABLES.
 */
int tables_param_range(const struct tables *t, unsigned resource,
    unsigned *first, unsigned *count);

/*
 * Find parameter `code` of resource index `resource` (inherited ones
 * included).  Returns EMBER_OK, EMBER_ENOTFOUND or EMBER_ETABLES.
 */
int tables_param_lookup(const struct tables *t, unsigned resource,
    const char *code, size_t len, unsigned *out_param);

/* Describe parameter index.  EMBER_OK, EMBER_ENOTFOUND, EMBER_ETABLES. */
int tables_param_get(const struct tables *t, unsigned index,
    struct tables_param *out);

/*
 * The i-th target resource type, modifier or comparator of a
 * parameter; NULL if out of range or corrupt.  *len may be NULL.
 */
const char *tables_param_target(const struct tables *t,
    const struct tables_param *p, unsigned i, size_t *len);
const char *tables_param_modifier(const struct tables *t,
    const struct tables_param *p, unsigned i, size_t *len);
const char *tables_param_comparator(const struct tables *t,
    const struct tables_param *p, unsigned i, size_t *len);

/*
 * The i-th component of a composite parameter.  Returns EMBER_OK,
 * EMBER_ENOTFOUND or EMBER_ETABLES.
 */
int tables_param_component(const struct tables *t,
    const struct tables_param *p, unsigned i, struct tables_component *out);

/* Static name of a parameter type ("token"); "?" if unknown. */
const char *tables_param_type_name(enum tables_param_type type);

/* ---- Compartments ---- */

/* Number of (compartment, resource) entries. */
unsigned tables_compartment_count(const struct tables *t);

/* Describe entry index.  EMBER_OK, EMBER_ENOTFOUND or EMBER_ETABLES. */
int tables_compartment_get(const struct tables *t, unsigned index,
    struct tables_compartment *out);

/*
 * Find the entry for (compartment, resource), e.g. ("Patient",
 * "Observation").  Returns EMBER_OK, EMBER_ENOTFOUND (the resource is
 * not in that compartment) or EMBER_ETABLES.
 */
int tables_compartment_lookup(const struct tables *t,
    const char *compartment, size_t clen, const char *resource, size_t rlen,
    unsigned *out_index);

/*
 * The i-th parameter code of a compartment entry ("subject",
 * "performer"); NULL if out of range or corrupt.  *len may be NULL.
 */
const char *tables_compartment_param(const struct tables *t,
    const struct tables_compartment *c, unsigned i, size_t *len);

/* ---- Dump (src/tables_dump.c) ---- */

/*
 * Write a readable description to out.  With type_or_null NULL:
 * counts (resource types, datatypes by kind, search parameters in all
 * and per parameter type, compartments).  With a type name: its
 * elements (path, cardinality, types, flags) and, for a resource, its
 * search parameters with a disassembly of each compiled path.
 * Returns EMBER_OK, EMBER_ENOTFOUND (no such type), EMBER_ETABLES or
 * EMBER_EIO (write error).
 */
int tables_dump(FILE *out, const struct tables *t, const char *type_or_null);

#endif /* EMBER_TABLES_H */
