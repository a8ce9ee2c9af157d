/*
 * tablec.c: the table compiler, run at build time.
 *
 *	tablec SCHEMA_DIR OUT_FILE
 *
 * Reads the compact extraction of one FHIR version (schemas/<ver>/:
 * version, types.tsv, elements.tsv, searchparams.tsv, extra-params.tsv,
 * components.tsv, compartments.tsv; TSV with a '#' header line and '-'
 * for an empty field) and writes the <ver>.tables file whose format
 * tables.h specifies.  The output is written to a temporary file in
 * the same directory and renamed into place, so a failed or interrupted
 * build never leaves a half-written tables file.
 *
 * It works in two passes.  The first builds the type model alone into
 * an image in memory and opens it with the ordinary reader; the
 * FHIRPath compiler then types every search-parameter expression
 * against that model, for every resource type the parameter applies
 * to.  The second pass writes the full image.  Type and element indexes
 * are the same in both, since both are laid out by the same code from
 * the same input.
 *
 * Every problem is fatal: an unknown type code, a dangling
 * contentReference, a duplicate parameter code, and above all an
 * expression the compiler cannot handle are reported with the
 * parameter's url on stderr, and tablec exits 1 without writing.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L		/* mkstemp, fsync */
#endif

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fhirpath.h"
#include "tables.h"

#define NONE	TABLES_NONE

static const char *progname = "tablec";

/* ---------------------------------------------------------------- */
/* Small utilities                                                    */
/* ---------------------------------------------------------------- */

static void errmsg(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Warnings (official definitions that do not fit the model) are counted
 * and summed up in one line; TABLEC_WARNINGS=1 in the environment lists
 * them.  Set once in main(), before any message.
 */
static int	show_warnings;
static unsigned	nwarnings;

static void
errmsg(const char *fmt, ...)
{
	va_list ap;

	if (strncmp(fmt, "warning: ", 9) == 0 && !show_warnings) {
		nwarnings++;
		return;
	}
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL) {
		errmsg("out of memory");
		exit(1);
	}
	return p;
}

/* Grow *vp (n used, *cap allocated, elements of size sz) for one more. */
static void
grow(void *vp, size_t n, size_t *cap, size_t sz)
{
	void **v = vp;
	size_t ncap;
	void *nv;

	if (n < *cap)
		return;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap < *cap || ncap > SIZE_MAX / sz) {
		errmsg("out of memory");
		exit(1);
	}
	if ((nv = realloc(*v, ncap * sz)) == NULL) {
		errmsg("out of memory");
		exit(1);
	}
	*v = nv;
	*cap = ncap;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = xcalloc(n + 1, 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* A growable byte buffer with little-endian writers. */
struct buf {
	unsigned char	*b_p;
	size_t		 b_n;
	size_t		 b_cap;
};

static void
buf_reserve(struct buf *b, size_t more)
{
	size_t ncap;

	if (more > SIZE_MAX - b->b_n) {
		errmsg("out of memory");
		exit(1);
	}
	if (b->b_n + more <= b->b_cap)
		return;
	ncap = b->b_cap ? b->b_cap : 256;
	while (ncap < b->b_n + more) {
		if (ncap > SIZE_MAX / 2) {
			errmsg("out of memory");
			exit(1);
		}
		ncap *= 2;
	}
	if ((b->b_p = realloc(b->b_p, ncap)) == NULL) {
		errmsg("out of memory");
		exit(1);
	}
	b->b_cap = ncap;
}

static void
buf_put(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->b_p + b->b_n, p, n);
	b->b_n += n;
}

static void
buf_u8(struct buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	buf_put(b, &c, 1);
}

static void
buf_u32(struct buf *b, uint32_t v)
{
	unsigned char c[4];

	c[0] = (unsigned char)v;
	c[1] = (unsigned char)(v >> 8);
	c[2] = (unsigned char)(v >> 16);
	c[3] = (unsigned char)(v >> 24);
	buf_put(b, c, 4);
}

static void
buf_u64(struct buf *b, uint64_t v)
{
	buf_u32(b, (uint32_t)v);
	buf_u32(b, (uint32_t)(v >> 32));
}

static void
put32_at(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
buf_free(struct buf *b)
{
	free(b->b_p);
	memset(b, 0, sizeof(*b));
}

/* ---------------------------------------------------------------- */
/* TSV input                                                          */
/* ---------------------------------------------------------------- */

struct row {
	char		**r_f;		/* fields; "-" is turned into "" */
	size_t		  r_n;
	unsigned	  r_line;
};

struct tsv {
	char		 *ts_name;	/* for messages */
	char		 *ts_data;	/* whole file, split in place */
	size_t		  ts_len;
	struct row	 *ts_rows;
	size_t		  ts_nrows;
	size_t		  ts_caprows;
};

static uint64_t content_hash = TABLES_FNV_OFFSET;

/* Read a whole file; fold its name and bytes into the content hash. */
static int
read_file(const char *dir, const char *name, char **data, size_t *len)
{
	char path[4096];
	FILE *f;
	struct buf b;
	char chunk[65536];
	size_t n;
	int w;

	memset(&b, 0, sizeof(b));
	w = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (w < 0 || (size_t)w >= sizeof(path)) {
		errmsg("%s/%s: path too long", dir, name);
		return -1;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		errmsg("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_put(&b, chunk, n);
	if (ferror(f)) {
		errmsg("%s: read error", path);
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	buf_u8(&b, 0);
	content_hash = tables_fnv1a64(content_hash, name, strlen(name) + 1);
	content_hash = tables_fnv1a64(content_hash, b.b_p, b.b_n - 1);
	*data = (char *)b.b_p;
	*len = b.b_n - 1;
	return 0;
}

/* Read and split a TSV file; every row must have ncols fields. */
static int
tsv_read(const char *dir, const char *name, size_t ncols, struct tsv *t)
{
	char *p, *end, *line;
	unsigned lineno = 0;

	memset(t, 0, sizeof(*t));
	t->ts_name = xstrndup(name, strlen(name));
	if (read_file(dir, name, &t->ts_data, &t->ts_len) != 0)
		return -1;
	p = t->ts_data;
	end = p + t->ts_len;
	while (p < end) {
		struct row r;
		char *nl = memchr(p, '\n', (size_t)(end - p)), *q;
		size_t cap = 0;

		line = p;
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		p = nl + 1;
		lineno++;
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		memset(&r, 0, sizeof(r));
		r.r_line = lineno;
		for (q = line;;) {
			char *tab = strchr(q, '\t');

			if (tab != NULL)
				*tab = '\0';
			grow(&r.r_f, r.r_n, &cap, sizeof(*r.r_f));
			r.r_f[r.r_n++] = strcmp(q, "-") == 0 ? q + 1 : q;
			if (tab == NULL)
				break;
			q = tab + 1;
		}
		if (r.r_n != ncols) {
			errmsg("%s:%u: %zu fields, expected %zu", name, lineno,
			    r.r_n, ncols);
			free(r.r_f);
			return -1;
		}
		grow(&t->ts_rows, t->ts_nrows, &t->ts_caprows,
		    sizeof(*t->ts_rows));
		t->ts_rows[t->ts_nrows++] = r;
	}
	return 0;
}

static void
tsv_free(struct tsv *t)
{
	size_t i;

	for (i = 0; i < t->ts_nrows; i++)
		free(t->ts_rows[i].r_f);
	free(t->ts_rows);
	free(t->ts_data);
	free(t->ts_name);
	memset(t, 0, sizeof(*t));
}

/* A comma-separated list, split into a new array of new strings. */
struct strlist {
	char		**sl_v;
	size_t		  sl_n;
};

static void
split_list(const char *s, struct strlist *out)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	while (*s != '\0') {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		const char *a = s, *z = s + n;

		while (a < z && *a == ' ')
			a++;
		while (z > a && z[-1] == ' ')
			z--;
		if (z > a) {
			grow(&out->sl_v, out->sl_n, &cap, sizeof(*out->sl_v));
			out->sl_v[out->sl_n++] = xstrndup(a, (size_t)(z - a));
		}
		if (e == NULL)
			break;
		s = e + 1;
	}
}

static void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->sl_n; i++)
		free(l->sl_v[i]);
	free(l->sl_v);
	memset(l, 0, sizeof(*l));
}

/* ---------------------------------------------------------------- */
/* The model                                                          */
/* ---------------------------------------------------------------- */

struct mtype {
	const char	*mt_name;
	enum tables_kind mt_kind;
	const char	*mt_base;
	int		 mt_abstract;
	enum tables_jsonkind mt_jsonkind;
	uint32_t	 mt_base_idx;
	uint32_t	 mt_first_elem;
	uint32_t	 mt_nelems;
	uint32_t	 mt_first_child;
	uint32_t	 mt_resource;	/* resource index or NONE */
	uint32_t	 mt_first_param;
	uint32_t	 mt_nparams;
	/* elements of this type, in input order (indexes into rows) */
	size_t		*mt_rows;
	size_t		 mt_nrows;
	size_t		 mt_caprows;
};

struct melem {
	const char	*me_path;
	char		*me_name;
	uint32_t	 me_owner;
	uint32_t	 me_parent;
	uint32_t	 me_first_child;
	uint32_t	 me_next_sibling;
	uint32_t	 me_last_child;	/* while building */
	uint32_t	*me_types;
	size_t		 me_ntypes;
	uint32_t	 me_min;
	uint32_t	 me_max;
	const char	*me_contentref;
	uint32_t	 me_contentref_idx;
	uint32_t	 me_flags;
};

struct mcomp {
	const char	*mc_definition;
	const char	*mc_code;
	const char	*mc_expression;
	enum tables_param_type mc_type;
};

struct mparam {
	const char	*mp_code;
	struct strlist	 mp_bases;
	enum tables_param_type mp_type;
	const char	*mp_expression;
	struct strlist	 mp_targets;
	struct strlist	 mp_modifiers;
	struct strlist	 mp_comparators;
	unsigned	 mp_flags;
	const char	*mp_url;
	const char	*mp_xpath;
	struct mcomp	*mp_comps;
	size_t		 mp_ncomps;
	size_t		 mp_capcomps;
	unsigned char	*mp_branch_used;
	size_t		 mp_nbranches;
	struct mparam	*mp_shadowed_by;	/* a duplicate that won */
};

/* One parameter of one resource type, compiled. */
struct mrparam {
	struct mparam	*rp_param;
	uint32_t	 rp_resource;	/* type index */
	const char	*rp_base;	/* the base that matched */
	struct buf	 rp_program;
	struct buf	*rp_comp_programs;	/* one per component */
};

struct mcompartment {
	const char	*mm_compartment;
	const char	*mm_resource;
	uint32_t	 mm_type;
	struct strlist	 mm_params;
};

struct model {
	char		*m_version_name;
	char		*m_fhir_version;
	struct mtype	*m_types;	/* sorted by name */
	size_t		 m_ntypes;
	struct melem	*m_elems;	/* layout order */
	size_t		 m_nelems;
	uint32_t	*m_paths;	/* element indexes sorted by path */
	uint32_t	*m_resources;	/* type indexes of concrete resources */
	size_t		 m_nresources;
	struct mparam	*m_params;
	size_t		 m_nparams;
	size_t		 m_capparams;
	struct mrparam	*m_rparams;	/* grouped by resource, by code */
	size_t		 m_nrparams;
	size_t		 m_caprparams;
	struct mcompartment *m_comparts;
	size_t		 m_ncomparts;
	struct tsv	 m_tsv_types;
	struct tsv	 m_tsv_elements;
	struct tsv	 m_tsv_params;
	struct tsv	 m_tsv_extra;
	struct tsv	 m_tsv_components;
	struct tsv	 m_tsv_compartments;
	unsigned	 m_errors;
	unsigned	 m_nobase;	/* parameters without a base */
	unsigned	 m_examples;	/* example parameters ignored */
	unsigned	 m_lenient;	/* paths with model mismatches */
};

static const struct model *sort_model;

static int
cmp_type_name(const void *a, const void *b)
{
	return strcmp(((const struct mtype *)a)->mt_name,
	    ((const struct mtype *)b)->mt_name);
}

static int
cmp_elem_path(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return strcmp(sort_model->m_elems[x].me_path,
	    sort_model->m_elems[y].me_path);
}

static uint32_t
model_type(const struct model *m, const char *name)
{
	size_t lo = 0, hi = m->m_ntypes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, m->m_types[mid].mt_name);

		if (c == 0)
			return (uint32_t)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NONE;
}

static uint32_t
model_elem(const struct model *m, const char *path)
{
	size_t lo = 0, hi = m->m_nelems;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, m->m_elems[m->m_paths[mid]].me_path);

		if (c == 0)
			return m->m_paths[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NONE;
}

/*
 * The type of an element type code.  FHIRPath system types
 * ("System.String", "http://hl7.org/fhirpath/System.String", used for
 * id, url and value elements) stand for the FHIR primitive of the same
 * name with a lower-case initial.
 */
static uint32_t
model_type_code(const struct model *m, const char *code)
{
	static const char *const prefixes[] = {
		"http://hl7.org/fhirpath/System.", "System.",
	};
	char buf[64];
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(code, prefixes[i], n) != 0)
			continue;
		code += n;
		n = strlen(code);
		if (n == 0 || n >= sizeof(buf))
			return NONE;
		memcpy(buf, code, n + 1);
		if (buf[0] >= 'A' && buf[0] <= 'Z')
			buf[0] = (char)(buf[0] - 'A' + 'a');
		return model_type(m, buf);
	}
	return model_type(m, code);
}

static int
parse_uint(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= NONE)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
load_version(struct model *m, const char *dir)
{
	char *data, *sp, *nl;
	size_t len;

	if (read_file(dir, "version", &data, &len) != 0)
		return -1;
	if ((nl = strchr(data, '\n')) != NULL)
		*nl = '\0';
	if ((nl = strchr(data, '\r')) != NULL)
		*nl = '\0';
	if ((sp = strchr(data, ' ')) == NULL || sp == data || sp[1] == '\0' ||
	    strchr(sp + 1, ' ') != NULL) {
		errmsg("%s/version: expected \"NAME fhirVersion\"", dir);
		free(data);
		return -1;
	}
	m->m_version_name = xstrndup(data, (size_t)(sp - data));
	m->m_fhir_version = xstrndup(sp + 1, strlen(sp + 1));
	free(data);
	return 0;
}

static int
load_types(struct model *m)
{
	struct tsv *t = &m->m_tsv_types;
	size_t i;

	m->m_ntypes = t->ts_nrows;
	m->m_types = xcalloc(m->m_ntypes, sizeof(*m->m_types));
	for (i = 0; i < t->ts_nrows; i++) {
		char **f = t->ts_rows[i].r_f;
		struct mtype *ty = &m->m_types[i];

		ty->mt_name = f[0];
		if (strcmp(f[1], "primitive") == 0)
			ty->mt_kind = TABLES_KIND_PRIMITIVE;
		else if (strcmp(f[1], "complex") == 0)
			ty->mt_kind = TABLES_KIND_COMPLEX;
		else if (strcmp(f[1], "resource") == 0)
			ty->mt_kind = TABLES_KIND_RESOURCE;
		else {
			errmsg("types.tsv:%u: bad kind '%s'",
			    t->ts_rows[i].r_line, f[1]);
			return -1;
		}
		ty->mt_base = f[2];
		if (strcmp(f[3], "0") != 0 && strcmp(f[3], "1") != 0) {
			errmsg("types.tsv:%u: bad abstract '%s'",
			    t->ts_rows[i].r_line, f[3]);
			return -1;
		}
		ty->mt_abstract = f[3][0] == '1';
		if (f[4][0] == '\0')
			ty->mt_jsonkind = TABLES_JSON_NONE;
		else if (strcmp(f[4], "bool") == 0)
			ty->mt_jsonkind = TABLES_JSON_BOOL;
		else if (strcmp(f[4], "number") == 0)
			ty->mt_jsonkind = TABLES_JSON_NUMBER;
		else if (strcmp(f[4], "string") == 0)
			ty->mt_jsonkind = TABLES_JSON_STRING;
		else {
			errmsg("types.tsv:%u: bad jsonkind '%s'",
			    t->ts_rows[i].r_line, f[4]);
			return -1;
		}
		if ((ty->mt_kind == TABLES_KIND_PRIMITIVE) !=
		    (ty->mt_jsonkind != TABLES_JSON_NONE)) {
			errmsg("types.tsv:%u: jsonkind '%s' for a %s type",
			    t->ts_rows[i].r_line, f[4], f[1]);
			return -1;
		}
		ty->mt_resource = NONE;
		ty->mt_first_child = NONE;
	}
	qsort(m->m_types, m->m_ntypes, sizeof(*m->m_types), cmp_type_name);
	for (i = 0; i < m->m_ntypes; i++) {
		struct mtype *ty = &m->m_types[i];

		if (i > 0 && strcmp(m->m_types[i - 1].mt_name, ty->mt_name) ==
		    0) {
			errmsg("types.tsv: duplicate type '%s'", ty->mt_name);
			return -1;
		}
		ty->mt_base_idx = NONE;
		if (ty->mt_base[0] != '\0' &&
		    (ty->mt_base_idx = model_type(m, ty->mt_base)) == NONE &&
		    strcmp(ty->mt_base, "Base") != 0) {
			/* R5 roots its hierarchy at Base, not a type here. */
			errmsg("types.tsv: type '%s' has unknown base '%s'",
			    ty->mt_name, ty->mt_base);
			return -1;
		}
	}
	/* Base chains must end (no cycles). */
	for (i = 0; i < m->m_ntypes; i++) {
		uint32_t cur = m->m_types[i].mt_base_idx;
		size_t steps = 0;

		while (cur != NONE && steps++ <= m->m_ntypes)
			cur = m->m_types[cur].mt_base_idx;
		if (cur != NONE || steps > 32) {
			errmsg("types.tsv: base chain of '%s' loops or is "
			    "too deep", m->m_types[i].mt_name);
			return -1;
		}
	}
	for (i = 0; i < m->m_ntypes; i++) {
		struct mtype *ty = &m->m_types[i];

		if (ty->mt_kind == TABLES_KIND_RESOURCE && !ty->mt_abstract) {
			ty->mt_resource = (uint32_t)m->m_nresources;
			m->m_nresources++;
		}
	}
	m->m_resources = xcalloc(m->m_nresources, sizeof(*m->m_resources));
	for (i = 0; i < m->m_ntypes; i++)
		if (m->m_types[i].mt_resource != NONE)
			m->m_resources[m->m_types[i].mt_resource] = (uint32_t)i;
	return 0;
}

static int
load_elements(struct model *m)
{
	struct tsv *t = &m->m_tsv_elements;
	size_t i, j, k;
	uint32_t n = 0;

	/* Group rows by owner type (the first path segment). */
	for (i = 0; i < t->ts_nrows; i++) {
		const char *path = t->ts_rows[i].r_f[0];
		const char *dot = strchr(path, '.');
		char *owner;
		uint32_t ti;

		if (dot == NULL || dot == path || dot[1] == '\0') {
			errmsg("elements.tsv:%u: bad path '%s'",
			    t->ts_rows[i].r_line, path);
			return -1;
		}
		owner = xstrndup(path, (size_t)(dot - path));
		ti = model_type(m, owner);
		if (ti == NONE) {
			errmsg("elements.tsv:%u: unknown type '%s'",
			    t->ts_rows[i].r_line, owner);
			free(owner);
			return -1;
		}
		free(owner);
		grow(&m->m_types[ti].mt_rows, m->m_types[ti].mt_nrows,
		    &m->m_types[ti].mt_caprows, sizeof(size_t));
		m->m_types[ti].mt_rows[m->m_types[ti].mt_nrows++] = i;
	}
	m->m_nelems = t->ts_nrows;
	m->m_elems = xcalloc(m->m_nelems, sizeof(*m->m_elems));
	for (i = 0; i < m->m_ntypes; i++) {
		struct mtype *ty = &m->m_types[i];

		ty->mt_first_elem = n;
		ty->mt_nelems = (uint32_t)ty->mt_nrows;
		for (j = 0; j < ty->mt_nrows; j++) {
			const struct row *r = &t->ts_rows[ty->mt_rows[j]];
			struct melem *e = &m->m_elems[n];
			const char *last = strrchr(r->r_f[0], '.') + 1;
			size_t nlen = strlen(last);
			struct strlist tl;

			e->me_path = r->r_f[0];
			if (nlen > 3 && strcmp(last + nlen - 3, "[x]") == 0) {
				e->me_flags |= TABLES_ELEMENT_CHOICE;
				nlen -= 3;
			}
			if (nlen == 0) {
				errmsg("elements.tsv:%u: bad path '%s'",
				    r->r_line, e->me_path);
				return -1;
			}
			e->me_name = xstrndup(last, nlen);
			e->me_owner = (uint32_t)i;
			e->me_parent = e->me_first_child = NONE;
			e->me_next_sibling = e->me_last_child = NONE;
			e->me_contentref_idx = NONE;
			if (parse_uint(r->r_f[1], &e->me_min) != 0) {
				errmsg("elements.tsv:%u: bad min '%s'",
				    r->r_line, r->r_f[1]);
				return -1;
			}
			if (strcmp(r->r_f[2], "*") == 0)
				e->me_max = NONE;
			else if (parse_uint(r->r_f[2], &e->me_max) != 0) {
				errmsg("elements.tsv:%u: bad max '%s'",
				    r->r_line, r->r_f[2]);
				return -1;
			}
			split_list(r->r_f[3], &tl);
			e->me_types = xcalloc(tl.sl_n, sizeof(uint32_t));
			for (k = 0; k < tl.sl_n; k++) {
				uint32_t ti = model_type_code(m, tl.sl_v[k]);

				if (ti == NONE) {
					errmsg("elements.tsv:%u: %s: unknown "
					    "type '%s'", r->r_line, e->me_path,
					    tl.sl_v[k]);
					strlist_free(&tl);
					return -1;
				}
				e->me_types[e->me_ntypes++] = ti;
			}
			strlist_free(&tl);
			for (k = 0; r->r_f[4][k] != '\0'; k++) {
				if (r->r_f[4][k] == 'S')
					e->me_flags |= TABLES_ELEMENT_SUMMARY;
				else if (r->r_f[4][k] == 'M')
					e->me_flags |= TABLES_ELEMENT_MODIFIER;
				else {
					errmsg("elements.tsv:%u: bad flags "
					    "'%s'", r->r_line, r->r_f[4]);
					return -1;
				}
			}
			e->me_contentref = r->r_f[5];
			/* "#Questionnaire.item" or a url ending in it. */
			if (strchr(e->me_contentref, '#') != NULL)
				e->me_contentref =
				    strchr(e->me_contentref, '#') + 1;
			if ((e->me_flags & TABLES_ELEMENT_CHOICE) &&
			    e->me_ntypes == 0) {
				errmsg("elements.tsv:%u: choice %s lists no "
				    "types", r->r_line, e->me_path);
				return -1;
			}
			n++;
		}
	}
	m->m_paths = xcalloc(m->m_nelems, sizeof(uint32_t));
	for (i = 0; i < m->m_nelems; i++)
		m->m_paths[i] = (uint32_t)i;
	sort_model = m;
	qsort(m->m_paths, m->m_nelems, sizeof(uint32_t), cmp_elem_path);
	for (i = 1; i < m->m_nelems; i++)
		if (strcmp(m->m_elems[m->m_paths[i - 1]].me_path,
		    m->m_elems[m->m_paths[i]].me_path) == 0) {
			errmsg("elements.tsv: duplicate path '%s'",
			    m->m_elems[m->m_paths[i]].me_path);
			return -1;
		}
	/* Parents, children and siblings, in definition order. */
	for (i = 0; i < m->m_nelems; i++) {
		struct melem *e = &m->m_elems[i];
		struct mtype *ty = &m->m_types[e->me_owner];
		const char *dot = strrchr(e->me_path, '.');
		char *ppath = xstrndup(e->me_path, (size_t)(dot - e->me_path));
		uint32_t parent = NONE;

		if (strcmp(ppath, ty->mt_name) != 0) {
			parent = model_elem(m, ppath);
			if (parent == NONE || parent >= i) {
				errmsg("elements.tsv: %s: parent %s is not "
				    "defined before it", e->me_path, ppath);
				free(ppath);
				return -1;
			}
		}
		free(ppath);
		e->me_parent = parent;
		if (parent == NONE) {
			uint32_t *last = &ty->mt_first_child;

			while (*last != NONE)
				last = &m->m_elems[*last].me_next_sibling;
			/* Linear, but once per top-level element only. */
			*last = (uint32_t)i;
		} else {
			struct melem *pe = &m->m_elems[parent];

			pe->me_flags |= TABLES_ELEMENT_BACKBONE;
			if (pe->me_last_child == NONE)
				pe->me_first_child = (uint32_t)i;
			else
				m->m_elems[pe->me_last_child].me_next_sibling =
				    (uint32_t)i;
			pe->me_last_child = (uint32_t)i;
		}
	}
	for (i = 0; i < m->m_nelems; i++) {
		struct melem *e = &m->m_elems[i];

		if (e->me_contentref[0] == '\0')
			continue;
		e->me_contentref_idx = model_elem(m, e->me_contentref);
		if (e->me_contentref_idx == NONE ||
		    e->me_contentref_idx == (uint32_t)i) {
			errmsg("elements.tsv: %s: contentReference '%s' not "
			    "found", e->me_path, e->me_contentref);
			return -1;
		}
	}
	return 0;
}

static int
parse_param_type(const char *s, enum tables_param_type *out)
{
	int i;

	for (i = TABLES_PARAM_NUMBER; i < TABLES_PARAM_TYPE__MAX; i++)
		if (strcmp(s, tables_param_type_name((enum
		    tables_param_type)i)) == 0) {
			*out = (enum tables_param_type)i;
			return 0;
		}
	return -1;
}

static int
parse_tristate(const char *s, unsigned set, unsigned val, unsigned *flags)
{
	if (s[0] == '\0')
		return 0;
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0) {
		*flags |= set | val;
		return 0;
	}
	if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0) {
		*flags |= set;
		return 0;
	}
	return -1;
}

/*
 * The specification's illustration SearchParameters ("example",
 * "example-extension", "example-reference", "example-constraint") are
 * not definitions: they duplicate core codes, and one of them names a
 * base its expression does not fit.
 */
static int
is_example_param(const char *url)
{
	static const char ex[] = "http://hl7.org/fhir/SearchParameter/example";
	size_t n = sizeof(ex) - 1;

	return strncmp(url, ex, n) == 0 && (url[n] == '\0' || url[n] == '-');
}

static int
load_params_from(struct model *m, struct tsv *t)
{
	size_t i;

	for (i = 0; i < t->ts_nrows; i++) {
		char **f = t->ts_rows[i].r_f;
		unsigned line = t->ts_rows[i].r_line;
		struct mparam *p;

		if (is_example_param(f[9])) {
			/* Counted in the summary line. */
			m->m_examples++;
			continue;
		}
		grow(&m->m_params, m->m_nparams, &m->m_capparams,
		    sizeof(*m->m_params));
		p = &m->m_params[m->m_nparams++];
		memset(p, 0, sizeof(*p));
		p->mp_code = f[0];
		split_list(f[1], &p->mp_bases);
		p->mp_expression = f[3];
		split_list(f[4], &p->mp_targets);
		split_list(f[5], &p->mp_modifiers);
		split_list(f[6], &p->mp_comparators);
		p->mp_url = f[9];
		p->mp_xpath = f[10];
		if (p->mp_code[0] == '\0') {
			errmsg("%s:%u: parameter without code", t->ts_name,
			    line);
			return -1;
		}
		if (p->mp_bases.sl_n == 0) {
			/*
			 * A few official extension parameters name no base;
			 * they cannot attach to any resource.  Say so.
			 */
			errmsg("warning: %s:%u: %s (%s) has no base; it "
			    "applies to no resource type", t->ts_name, line,
			    f[9][0] ? f[9] : "(no url)", p->mp_code);
			m->m_nobase++;
		}
		if (parse_param_type(f[2], &p->mp_type) != 0) {
			errmsg("%s:%u: %s: bad type '%s'", t->ts_name, line,
			    p->mp_url, f[2]);
			return -1;
		}
		if (parse_tristate(f[7], TABLES_PARAM_MULTIPLE_OR_SET,
		    TABLES_PARAM_MULTIPLE_OR, &p->mp_flags) != 0 ||
		    parse_tristate(f[8], TABLES_PARAM_MULTIPLE_AND_SET,
		    TABLES_PARAM_MULTIPLE_AND, &p->mp_flags) != 0) {
			errmsg("%s:%u: %s: bad multipleOr/multipleAnd",
			    t->ts_name, line, p->mp_url);
			return -1;
		}
		if (p->mp_expression[0] == '\0')
			p->mp_flags |= TABLES_PARAM_NOPATH;
	}
	return 0;
}

static struct mparam *
param_by_url(struct model *m, const char *url)
{
	size_t i;

	for (i = 0; i < m->m_nparams; i++)
		if (strcmp(m->m_params[i].mp_url, url) == 0)
			return &m->m_params[i];
	return NULL;
}

/* A parameter with this code sharing a base with p. */
static struct mparam *
param_by_code_base(struct model *m, const char *code, const struct mparam *p)
{
	size_t i, a, b;

	for (i = 0; i < m->m_nparams; i++) {
		struct mparam *q = &m->m_params[i];

		if (strcmp(q->mp_code, code) != 0)
			continue;
		for (a = 0; a < q->mp_bases.sl_n; a++)
			for (b = 0; b < p->mp_bases.sl_n; b++)
				if (strcmp(q->mp_bases.sl_v[a],
				    p->mp_bases.sl_v[b]) == 0)
					return q;
	}
	return NULL;
}

static int
load_params(struct model *m)
{
	struct tsv *t = &m->m_tsv_components;
	size_t i, j;

	if (load_params_from(m, &m->m_tsv_params) != 0 ||
	    load_params_from(m, &m->m_tsv_extra) != 0)
		return -1;
	for (i = 0; i < m->m_nparams; i++) {
		struct mparam *p = &m->m_params[i];

		if (p->mp_url[0] == '\0')
			continue;
		for (j = i + 1; j < m->m_nparams; j++)
			if (strcmp(p->mp_url, m->m_params[j].mp_url) == 0) {
				errmsg("duplicate parameter url %s",
				    p->mp_url);
				return -1;
			}
		for (j = 0; j < p->mp_bases.sl_n; j++)
			if (model_type(m, p->mp_bases.sl_v[j]) == NONE) {
				errmsg("%s: unknown base '%s'", p->mp_url,
				    p->mp_bases.sl_v[j]);
				return -1;
			}
	}
	for (i = 0; i < t->ts_nrows; i++) {
		char **f = t->ts_rows[i].r_f;
		struct mparam *p = param_by_url(m, f[0]), *d;
		struct mcomp *c;

		if (p == NULL) {
			errmsg("components.tsv:%u: unknown parameter %s",
			    t->ts_rows[i].r_line, f[0]);
			return -1;
		}
		if (p->mp_type != TABLES_PARAM_COMPOSITE) {
			errmsg("components.tsv:%u: %s is not composite",
			    t->ts_rows[i].r_line, f[0]);
			return -1;
		}
		if (f[3][0] == '\0') {
			errmsg("components.tsv:%u: %s: component without "
			    "expression", t->ts_rows[i].r_line, f[0]);
			return -1;
		}
		grow(&p->mp_comps, p->mp_ncomps, &p->mp_capcomps,
		    sizeof(*p->mp_comps));
		c = &p->mp_comps[p->mp_ncomps++];
		c->mc_definition = f[1];
		c->mc_code = f[2];
		c->mc_expression = f[3];
		d = param_by_url(m, f[1]);
		if (d == NULL && f[2][0] != '\0' &&
		    (d = param_by_code_base(m, f[2], p)) != NULL)
			errmsg("warning: components.tsv:%u: %s: component "
			    "definition %s does not exist; using %s, the "
			    "parameter '%s' of the same base",
			    t->ts_rows[i].r_line, f[0], f[1], d->mp_url, f[2]);
		if (d == NULL) {
			/* Typed from the expression once it compiles. */
			errmsg("warning: components.tsv:%u: %s: component "
			    "definition %s does not exist; its type comes "
			    "from the type of '%s'", t->ts_rows[i].r_line,
			    f[0], f[1], f[3]);
			c->mc_type = 0;
			continue;
		}
		c->mc_type = d->mp_type;
		if (c->mc_code[0] == '\0')
			c->mc_code = d->mp_code;
	}
	return 0;
}

static int
cmp_compartment(const void *a, const void *b)
{
	const struct mcompartment *x = a, *y = b;
	int c = strcmp(x->mm_compartment, y->mm_compartment);

	return c != 0 ? c : strcmp(x->mm_resource, y->mm_resource);
}

static int
load_compartments(struct model *m)
{
	struct tsv *t = &m->m_tsv_compartments;
	size_t i;

	m->m_ncomparts = t->ts_nrows;
	m->m_comparts = xcalloc(m->m_ncomparts, sizeof(*m->m_comparts));
	for (i = 0; i < t->ts_nrows; i++) {
		char **f = t->ts_rows[i].r_f;
		struct mcompartment *c = &m->m_comparts[i];
		uint32_t ct = model_type(m, f[0]);

		c->mm_compartment = f[0];
		c->mm_resource = f[1];
		c->mm_type = model_type(m, f[1]);
		split_list(f[2], &c->mm_params);
		if (ct == NONE || m->m_types[ct].mt_resource == NONE ||
		    c->mm_type == NONE ||
		    m->m_types[c->mm_type].mt_resource == NONE) {
			errmsg("compartments.tsv:%u: unknown resource type in "
			    "(%s, %s)", t->ts_rows[i].r_line, f[0], f[1]);
			return -1;
		}
	}
	qsort(m->m_comparts, m->m_ncomparts, sizeof(*m->m_comparts),
	    cmp_compartment);
	for (i = 1; i < m->m_ncomparts; i++)
		if (cmp_compartment(&m->m_comparts[i - 1],
		    &m->m_comparts[i]) == 0) {
			errmsg("compartments.tsv: duplicate (%s, %s)",
			    m->m_comparts[i].mm_compartment,
			    m->m_comparts[i].mm_resource);
			return -1;
		}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Image writer                                                       */
/* ---------------------------------------------------------------- */

/* String pool with de-duplication (open addressing on FNV-1a). */
struct pool {
	struct buf	 po_buf;
	uint32_t	*po_slots;	/* offset + 1, 0 = empty */
	size_t		 po_nslots;
	size_t		 po_used;
};

static uint32_t
pool_add(struct pool *p, const char *s, size_t len)
{
	uint64_t h;
	size_t i, k;

	if (p->po_used * 2 >= p->po_nslots) {
		uint32_t *old = p->po_slots;
		size_t on = p->po_nslots;

		p->po_nslots = on ? on * 2 : 4096;
		p->po_slots = xcalloc(p->po_nslots, sizeof(uint32_t));
		for (k = 0; k < on; k++) {
			const char *os;

			if (old[k] == 0)
				continue;
			os = (const char *)p->po_buf.b_p + old[k] - 1;
			h = tables_fnv1a64(TABLES_FNV_OFFSET, os, strlen(os));
			for (i = h % p->po_nslots; p->po_slots[i] != 0;
			    i = (i + 1) % p->po_nslots)
				;
			p->po_slots[i] = old[k];
		}
		free(old);
	}
	h = tables_fnv1a64(TABLES_FNV_OFFSET, s, len);
	for (i = h % p->po_nslots; p->po_slots[i] != 0;
	    i = (i + 1) % p->po_nslots) {
		const char *os = (const char *)p->po_buf.b_p +
		    p->po_slots[i] - 1;

		if (strlen(os) == len && memcmp(os, s, len) == 0)
			return p->po_slots[i] - 1;
	}
	if (p->po_buf.b_n + len + 1 >= UINT32_MAX) {
		errmsg("string pool too large");
		exit(1);
	}
	p->po_slots[i] = (uint32_t)p->po_buf.b_n + 1;
	p->po_used++;
	buf_put(&p->po_buf, s, len);
	buf_u8(&p->po_buf, 0);
	return p->po_slots[i] - 1;
}

/* Write a string pair (offset, length) of s into b. */
static void
put_str(struct buf *b, struct pool *p, const char *s)
{
	size_t len = strlen(s);

	buf_u32(b, pool_add(p, s, len));
	buf_u32(b, (uint32_t)len);
}

/* Append a list to STRLISTS; return its first index. */
static uint32_t
put_strlist(struct buf *b, struct pool *p, const struct strlist *l)
{
	uint32_t first = (uint32_t)(b->b_n / TABLES_RECSIZE_STRLISTS);
	size_t i;

	for (i = 0; i < l->sl_n; i++)
		put_str(b, p, l->sl_v[i]);
	return first;
}

static uint32_t
put_program(struct buf *progs, const struct buf *code, uint32_t *len)
{
	uint32_t off = (uint32_t)progs->b_n;

	buf_put(progs, code->b_p, code->b_n);
	*len = (uint32_t)code->b_n;
	return off;
}

/* Build the whole image; with_params 0 for the first pass. */
static int
build_image(const struct model *m, int with_params, struct buf *out)
{
	struct buf sec[TABLES_SECTION_COUNT];
	struct pool pool;
	struct buf *B;
	uint32_t name_off, fv_off;
	size_t i, j, off;
	uint64_t body;

	memset(sec, 0, sizeof(sec));
	memset(&pool, 0, sizeof(pool));
	memset(out, 0, sizeof(*out));
	/* The pool starts with "", so offset 0 is the empty string. */
	pool_add(&pool, "", 0);
	name_off = pool_add(&pool, m->m_version_name,
	    strlen(m->m_version_name));
	fv_off = pool_add(&pool, m->m_fhir_version, strlen(m->m_fhir_version));

	B = &sec[TABLES_SEC_TYPES];
	for (i = 0; i < m->m_ntypes; i++) {
		const struct mtype *ty = &m->m_types[i];

		put_str(B, &pool, ty->mt_name);
		buf_u8(B, ty->mt_kind);
		buf_u8(B, (unsigned)ty->mt_abstract);
		buf_u8(B, ty->mt_jsonkind);
		buf_u8(B, 0);
		buf_u32(B, ty->mt_base_idx);
		buf_u32(B, ty->mt_first_elem);
		buf_u32(B, ty->mt_nelems);
		buf_u32(B, with_params ? ty->mt_first_param : 0);
		buf_u32(B, with_params ? ty->mt_nparams : 0);
		buf_u32(B, ty->mt_resource);
		buf_u32(B, ty->mt_first_child);
	}
	for (i = 0; i < m->m_nelems; i++) {
		const struct melem *e = &m->m_elems[i];
		uint32_t first_type;

		B = &sec[TABLES_SEC_ELEMENT_TYPES];
		first_type = (uint32_t)(B->b_n / 4);
		for (j = 0; j < e->me_ntypes; j++)
			buf_u32(B, e->me_types[j]);
		B = &sec[TABLES_SEC_ELEMENTS];
		put_str(B, &pool, e->me_path);
		put_str(B, &pool, e->me_name);
		buf_u32(B, e->me_owner);
		buf_u32(B, e->me_parent);
		buf_u32(B, e->me_first_child);
		buf_u32(B, e->me_next_sibling);
		buf_u32(B, first_type);
		buf_u32(B, (uint32_t)e->me_ntypes);
		buf_u32(B, e->me_min);
		buf_u32(B, e->me_max);
		buf_u32(B, e->me_contentref_idx);
		buf_u32(B, e->me_flags);
		buf_u32(&sec[TABLES_SEC_ELEMENT_PATHS], m->m_paths[i]);
	}
	for (i = 0; i < m->m_nresources; i++)
		buf_u32(&sec[TABLES_SEC_RESOURCES], m->m_resources[i]);
	for (i = 0; with_params && i < m->m_nrparams; i++) {
		const struct mrparam *rp = &m->m_rparams[i];
		const struct mparam *p = rp->rp_param;
		uint32_t poff, plen, tfirst, mfirst, cfirst, compfirst;

		poff = put_program(&sec[TABLES_SEC_PROGRAMS], &rp->rp_program,
		    &plen);
		tfirst = put_strlist(&sec[TABLES_SEC_STRLISTS], &pool,
		    &p->mp_targets);
		mfirst = put_strlist(&sec[TABLES_SEC_STRLISTS], &pool,
		    &p->mp_modifiers);
		cfirst = put_strlist(&sec[TABLES_SEC_STRLISTS], &pool,
		    &p->mp_comparators);
		compfirst = (uint32_t)(sec[TABLES_SEC_COMPONENTS].b_n /
		    TABLES_RECSIZE_COMPONENTS);
		for (j = 0; j < p->mp_ncomps; j++) {
			const struct mcomp *c = &p->mp_comps[j];
			uint32_t coff, clen;

			coff = put_program(&sec[TABLES_SEC_PROGRAMS],
			    &rp->rp_comp_programs[j], &clen);
			B = &sec[TABLES_SEC_COMPONENTS];
			put_str(B, &pool, c->mc_definition);
			put_str(B, &pool, c->mc_code);
			put_str(B, &pool, c->mc_expression);
			buf_u8(B, c->mc_type);
			buf_u8(B, 0);
			buf_u8(B, 0);
			buf_u8(B, 0);
			buf_u32(B, coff);
			buf_u32(B, clen);
			buf_u32(B, 0);
		}
		B = &sec[TABLES_SEC_PARAMS];
		put_str(B, &pool, p->mp_code);
		put_str(B, &pool, p->mp_url);
		put_str(B, &pool, p->mp_expression);
		put_str(B, &pool, rp->rp_base);
		buf_u8(B, p->mp_type);
		buf_u8(B, p->mp_flags);
		buf_u8(B, 0);
		buf_u8(B, 0);
		buf_u32(B, poff);
		buf_u32(B, plen);
		buf_u32(B, tfirst);
		buf_u32(B, (uint32_t)p->mp_targets.sl_n);
		buf_u32(B, mfirst);
		buf_u32(B, (uint32_t)p->mp_modifiers.sl_n);
		buf_u32(B, cfirst);
		buf_u32(B, (uint32_t)p->mp_comparators.sl_n);
		buf_u32(B, compfirst);
		buf_u32(B, (uint32_t)p->mp_ncomps);
		buf_u32(B, rp->rp_resource);
		put_str(B, &pool, p->mp_xpath);
	}
	for (i = 0; with_params && i < m->m_ncomparts; i++) {
		const struct mcompartment *c = &m->m_comparts[i];
		uint32_t first;

		first = put_strlist(&sec[TABLES_SEC_STRLISTS], &pool,
		    &c->mm_params);
		B = &sec[TABLES_SEC_COMPARTMENTS];
		put_str(B, &pool, c->mm_compartment);
		put_str(B, &pool, c->mm_resource);
		buf_u32(B, c->mm_type);
		buf_u32(B, first);
		buf_u32(B, (uint32_t)c->mm_params.sl_n);
		buf_u32(B, 0);
	}
	sec[TABLES_SEC_STRINGS] = pool.po_buf;
	memset(&pool.po_buf, 0, sizeof(pool.po_buf));
	free(pool.po_slots);

	/* Header, section table, then the sections, 8-aligned. */
	buf_put(out, TABLES_MAGIC, 8);
	buf_u32(out, TABLES_FORMAT_VERSION);
	buf_u32(out, TABLES_HEADER_SIZE + 16u * TABLES_SECTION_COUNT);
	buf_u64(out, 0);		/* file size, patched below */
	buf_u64(out, content_hash);
	buf_u64(out, 0);		/* body hash, patched below */
	buf_u32(out, name_off);
	buf_u32(out, (uint32_t)strlen(m->m_version_name));
	buf_u32(out, fv_off);
	buf_u32(out, (uint32_t)strlen(m->m_fhir_version));
	buf_u32(out, TABLES_SECTION_COUNT);
	buf_u32(out, 0);
	off = TABLES_HEADER_SIZE + 16u * TABLES_SECTION_COUNT;
	for (i = 0; i < TABLES_SECTION_COUNT; i++) {
		static const uint32_t recsize[TABLES_SECTION_COUNT] = {
			TABLES_RECSIZE_STRINGS, TABLES_RECSIZE_TYPES,
			TABLES_RECSIZE_ELEMENTS, TABLES_RECSIZE_ELEMENT_TYPES,
			TABLES_RECSIZE_ELEMENT_PATHS, TABLES_RECSIZE_RESOURCES,
			TABLES_RECSIZE_PARAMS, TABLES_RECSIZE_COMPONENTS,
			TABLES_RECSIZE_STRLISTS, TABLES_RECSIZE_PROGRAMS,
			TABLES_RECSIZE_COMPARTMENTS,
		};

		off = (off + 7) & ~(size_t)7;
		if (sec[i].b_n % recsize[i] != 0 || off > UINT32_MAX ||
		    sec[i].b_n > UINT32_MAX - off) {
			errmsg("internal error: section %zu", i);
			exit(1);
		}
		buf_u32(out, (uint32_t)off);
		buf_u32(out, (uint32_t)sec[i].b_n);
		buf_u32(out, (uint32_t)(sec[i].b_n / recsize[i]));
		buf_u32(out, recsize[i]);
		off += sec[i].b_n;
	}
	for (i = 0; i < TABLES_SECTION_COUNT; i++) {
		while (out->b_n % 8 != 0)
			buf_u8(out, 0);
		buf_put(out, sec[i].b_p, sec[i].b_n);
		buf_free(&sec[i]);
	}
	if (out->b_n > UINT32_MAX) {
		errmsg("tables file too large");
		exit(1);
	}
	put32_at(out->b_p + 16, (uint32_t)out->b_n);
	put32_at(out->b_p + 20, 0);
	body = tables_fnv1a64(TABLES_FNV_OFFSET,
	    out->b_p + TABLES_HEADER_SIZE + 16u * TABLES_SECTION_COUNT,
	    out->b_n - (TABLES_HEADER_SIZE + 16u * TABLES_SECTION_COUNT));
	put32_at(out->b_p + 32, (uint32_t)body);
	put32_at(out->b_p + 36, (uint32_t)(body >> 32));
	return 0;
}

/* ---------------------------------------------------------------- */
/* Search parameters per resource type                                */
/* ---------------------------------------------------------------- */

/*
 * How far base is up the chain of type ti: 0 for the type itself,
 * 1 for its base, ...; -1 if it is not an ancestor.
 */
static int
base_distance(const struct model *m, uint32_t ti, const char *base)
{
	int d;

	for (d = 0; ti != NONE && d < 32; d++) {
		if (strcmp(m->m_types[ti].mt_name, base) == 0)
			return d;
		ti = m->m_types[ti].mt_base_idx;
	}
	return -1;
}

static void
copy_program(const struct fhirpath_program *fp, struct buf *out)
{
	struct tables_program v;

	fhirpath_program_code(fp, &v);
	memset(out, 0, sizeof(*out));
	buf_put(out, v.code, v.len);
}

/*
 * The search type a value of a program's result type calls for, for a
 * component whose definition the specification lost.
 */
static int
infer_param_type(const struct tables *t, const struct fhirpath_program *fp,
    enum tables_param_type *out)
{
	static const struct {
		const char		*type;
		enum tables_param_type	 ptype;
	} map[] = {
		{ "code", TABLES_PARAM_TOKEN },
		{ "Coding", TABLES_PARAM_TOKEN },
		{ "CodeableConcept", TABLES_PARAM_TOKEN },
		{ "Identifier", TABLES_PARAM_TOKEN },
		{ "boolean", TABLES_PARAM_TOKEN },
		{ "id", TABLES_PARAM_TOKEN },
		{ "ContactPoint", TABLES_PARAM_TOKEN },
		{ "string", TABLES_PARAM_STRING },
		{ "markdown", TABLES_PARAM_STRING },
		{ "HumanName", TABLES_PARAM_STRING },
		{ "Address", TABLES_PARAM_STRING },
		{ "date", TABLES_PARAM_DATE },
		{ "dateTime", TABLES_PARAM_DATE },
		{ "instant", TABLES_PARAM_DATE },
		{ "Period", TABLES_PARAM_DATE },
		{ "Quantity", TABLES_PARAM_QUANTITY },
		{ "Reference", TABLES_PARAM_REFERENCE },
		{ "canonical", TABLES_PARAM_REFERENCE },
		{ "uri", TABLES_PARAM_URI },
		{ "url", TABLES_PARAM_URI },
		{ "integer", TABLES_PARAM_NUMBER },
		{ "decimal", TABLES_PARAM_NUMBER },
	};
	unsigned type = fhirpath_program_type(fp);
	const char *name;
	size_t i;

	if (type == NONE || (name = tables_type_name(t, type)) == NULL)
		return -1;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(name, map[i].type) == 0) {
			*out = map[i].ptype;
			return 0;
		}
	return -1;
}

/* Compile parameter p for resource type ti into rp. */
static void
compile_param(struct model *m, const struct tables *t, struct mparam *p,
    uint32_t ti, struct mrparam *rp)
{
	struct fhirpath_program *fp = NULL, *cp = NULL;
	char err[512];
	size_t k, nb;
	int rc, used;

	rp->rp_comp_programs = xcalloc(p->mp_ncomps, sizeof(struct buf));
	if (!(p->mp_flags & TABLES_PARAM_NOPATH)) {
		rc = fhirpath_compile(t, p->mp_expression,
		    strlen(p->mp_expression), ti, NULL,
		    FHIRPATH_SEARCH | FHIRPATH_LENIENT, &fp, err, sizeof(err));
		if (rc != EMBER_OK) {
			errmsg("%s: for %s: cannot compile '%s': %s",
			    p->mp_url[0] ? p->mp_url : p->mp_code,
			    m->m_types[ti].mt_name, p->mp_expression,
			    rc == EMBER_ENOMEM ? "out of memory" : err);
			m->m_errors++;
			return;
		}
		copy_program(fp, &rp->rp_program);
		if (fhirpath_program_warnings(fp) != NULL) {
			errmsg("warning: %s: for %s: '%s': %s", p->mp_url,
			    m->m_types[ti].mt_name, p->mp_expression,
			    fhirpath_program_warnings(fp));
			m->m_lenient++;
		}
		nb = fhirpath_program_branches(fp, 0, NULL);
		if (p->mp_branch_used == NULL) {
			p->mp_branch_used = xcalloc(nb, 1);
			p->mp_nbranches = nb;
		}
		for (k = 0; k < nb && k < p->mp_nbranches; k++) {
			fhirpath_program_branches(fp, k, &used);
			if (used)
				p->mp_branch_used[k] = 1;
		}
	}
	for (k = 0; k < p->mp_ncomps; k++) {
		const char *ce = p->mp_comps[k].mc_expression;

		rc = fhirpath_compile(t, ce, strlen(ce), ti, fp,
		    FHIRPATH_LENIENT, &cp, err, sizeof(err));
		if (rc != EMBER_OK) {
			errmsg("%s: for %s: cannot compile component '%s': %s",
			    p->mp_url, m->m_types[ti].mt_name, ce,
			    rc == EMBER_ENOMEM ? "out of memory" : err);
			m->m_errors++;
			continue;
		}
		copy_program(cp, &rp->rp_comp_programs[k]);
		if (fhirpath_program_warnings(cp) != NULL) {
			errmsg("warning: %s: for %s: component '%s': %s",
			    p->mp_url, m->m_types[ti].mt_name, ce,
			    fhirpath_program_warnings(cp));
			m->m_lenient++;
		}
		if (p->mp_comps[k].mc_type == 0 &&
		    infer_param_type(t, cp, &p->mp_comps[k].mc_type) != 0) {
			errmsg("%s: for %s: cannot tell the search type of "
			    "component '%s'", p->mp_url,
			    m->m_types[ti].mt_name, ce);
			m->m_errors++;
		}
		fhirpath_program_free(cp);
		cp = NULL;
	}
	fhirpath_program_free(fp);
}

static int
cmp_rparam(const void *a, const void *b)
{
	const struct mrparam *x = a, *y = b;

	if (x->rp_resource != y->rp_resource)
		return x->rp_resource < y->rp_resource ? -1 : 1;
	return strcmp(x->rp_param->mp_code, y->rp_param->mp_code);
}

/*
 * Which of two parameters with the same code and base to keep: the
 * core definition (".../SearchParameter/<Base>-<code>") over any
 * other, and anything over the specification's examples.
 */
static int
param_preference(const struct mparam *p, const char *base)
{
	static const char core[] = "http://hl7.org/fhir/SearchParameter/";
	const char *u = p->mp_url;
	size_t n = sizeof(core) - 1, bl = strlen(base);

	const char *code = p->mp_code[0] == '_' ? p->mp_code + 1 : p->mp_code;

	/* Resource-id is the url of _id. */
	if (strncmp(u, core, n) == 0 && strncmp(u + n, base, bl) == 0 &&
	    u[n + bl] == '-' && strcmp(u + n + bl + 1, code) == 0)
		return 3;
	if (strstr(u, "example") != NULL)
		return 0;
	return u[0] != '\0' ? 2 : 1;
}

static int
assign_params(struct model *m, const struct tables *t)
{
	size_t r, i, j, k;

	for (r = 0; r < m->m_nresources; r++) {
		uint32_t ti = m->m_resources[r];
		size_t start = m->m_nrparams;

		for (i = 0; i < m->m_nparams; i++) {
			struct mparam *p = &m->m_params[i];
			struct mrparam *rp;
			int best = -1, d;
			const char *base = NULL;

			for (j = 0; j < p->mp_bases.sl_n; j++) {
				d = base_distance(m, ti, p->mp_bases.sl_v[j]);
				if (d >= 0 && (best < 0 || d < best)) {
					best = d;
					base = p->mp_bases.sl_v[j];
				}
			}
			if (best < 0)
				continue;
			/* A more specific parameter with the same code wins. */
			for (k = start; k < m->m_nrparams; k++) {
				rp = &m->m_rparams[k];
				if (strcmp(rp->rp_param->mp_code,
				    p->mp_code) != 0)
					continue;
				break;
			}
			if (k < m->m_nrparams) {
				int pa, pb;

				d = base_distance(m, ti, rp->rp_base);
				if (d < best)
					continue;	/* keep the other */
				if (d > best) {
					rp->rp_param = p;
					rp->rp_base = base;
					continue;
				}
				/* The same code twice for the same base. */
				pa = param_preference(rp->rp_param,
				    rp->rp_base);
				pb = param_preference(p, base);
				if (pa == pb) {
					errmsg("%s: code '%s' defined twice: "
					    "%s and %s", m->m_types[ti].mt_name,
					    p->mp_code, rp->rp_param->mp_url,
					    p->mp_url);
					return -1;
				}
				if (pb > pa) {
					rp->rp_param->mp_shadowed_by = p;
					rp->rp_param = p;
					rp->rp_base = base;
				} else
					p->mp_shadowed_by = rp->rp_param;
				continue;
			}
			grow(&m->m_rparams, m->m_nrparams, &m->m_caprparams,
			    sizeof(*m->m_rparams));
			rp = &m->m_rparams[m->m_nrparams++];
			memset(rp, 0, sizeof(*rp));
			rp->rp_param = p;
			rp->rp_resource = ti;
			rp->rp_base = base;
		}
	}
	for (i = 0; i < m->m_nparams; i++) {
		struct mparam *p = &m->m_params[i];

		if (p->mp_shadowed_by != NULL)
			errmsg("warning: %s (%s) is ignored: %s defines the "
			    "same code for the same base", p->mp_url,
			    p->mp_code, p->mp_shadowed_by->mp_url);
	}
	qsort(m->m_rparams, m->m_nrparams, sizeof(*m->m_rparams), cmp_rparam);
	for (i = 0; i < m->m_nrparams; i++) {
		struct mrparam *rp = &m->m_rparams[i];
		struct mtype *ty = &m->m_types[rp->rp_resource];

		if (ty->mt_nparams == 0)
			ty->mt_first_param = (uint32_t)i;
		ty->mt_nparams++;
		compile_param(m, t, rp->rp_param, rp->rp_resource, rp);
	}
	/* Every branch of every expression must serve some base. */
	for (i = 0; i < m->m_nparams; i++) {
		struct mparam *p = &m->m_params[i];

		for (k = 0; k < p->mp_nbranches; k++)
			if (!p->mp_branch_used[k]) {
				errmsg("%s: branch %zu of '%s' applies to none "
				    "of its bases", p->mp_url, k + 1,
				    p->mp_expression);
				m->m_errors++;
			}
	}
	return m->m_errors ? -1 : 0;
}

/* ---------------------------------------------------------------- */
/* Output                                                             */
/* ---------------------------------------------------------------- */

static int
write_atomic(const char *path, const struct buf *b)
{
	char tmp[4096];
	size_t done = 0;
	int fd, w;

	w = snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
	if (w < 0 || (size_t)w >= sizeof(tmp)) {
		errmsg("%s: path too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		errmsg("%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (done < b->b_n) {
		ssize_t n = write(fd, b->b_p + done, b->b_n - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errmsg("%s: %s", tmp, strerror(errno));
			goto fail;
		}
		done += (size_t)n;
	}
	if (fsync(fd) == -1) {
		errmsg("%s: fsync: %s", tmp, strerror(errno));
		goto fail;
	}
	/* mkstemp makes 0600; a data file is world-readable. */
	if (fchmod(fd, 0644) == -1) {
		errmsg("%s: chmod: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		errmsg("%s: close: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		errmsg("rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

static void
summary(const struct model *m, size_t bytes)
{
	size_t kinds[4] = { 0, 0, 0, 0 }, abstract = 0, i, ncomps = 0;
	size_t bytype[TABLES_PARAM_TYPE__MAX], nopath = 0, ncparams = 0;

	memset(bytype, 0, sizeof(bytype));
	for (i = 0; i < m->m_ntypes; i++) {
		kinds[m->m_types[i].mt_kind]++;
		if (m->m_types[i].mt_kind == TABLES_KIND_RESOURCE &&
		    m->m_types[i].mt_abstract)
			abstract++;
	}
	for (i = 0; i < m->m_nrparams; i++) {
		bytype[m->m_rparams[i].rp_param->mp_type]++;
		ncomps += m->m_rparams[i].rp_param->mp_ncomps;
	}
	for (i = 0; i < m->m_nparams; i++)
		if (m->m_params[i].mp_flags & TABLES_PARAM_NOPATH)
			nopath++;
	for (i = 0; i < m->m_ncomparts; i++)
		ncparams += m->m_comparts[i].mm_params.sl_n;
	printf("tablec: %s %s: types %zu resource (%zu abstract), %zu "
	    "complex, %zu primitive; %zu elements; params %zu defined (%zu "
	    "without path, %u without base; %u examples ignored), %zu over %zu resource types (avg %.1f; number "
	    "%zu, date %zu, string %zu, token %zu, reference %zu, composite "
	    "%zu, quantity %zu, uri %zu, special %zu); %u paths with model "
	    "mismatches (see warnings); %zu components; %zu "
	    "compartment entries (%zu params); %zu bytes\n",
	    m->m_version_name, m->m_fhir_version,
	    kinds[TABLES_KIND_RESOURCE], abstract, kinds[TABLES_KIND_COMPLEX],
	    kinds[TABLES_KIND_PRIMITIVE], m->m_nelems, m->m_nparams, nopath,
	    m->m_nobase, m->m_examples, m->m_nrparams, m->m_nresources,
	    m->m_nresources ? (double)m->m_nrparams / (double)m->m_nresources :
	    0.0, bytype[TABLES_PARAM_NUMBER], bytype[TABLES_PARAM_DATE],
	    bytype[TABLES_PARAM_STRING], bytype[TABLES_PARAM_TOKEN],
	    bytype[TABLES_PARAM_REFERENCE], bytype[TABLES_PARAM_COMPOSITE],
	    bytype[TABLES_PARAM_QUANTITY], bytype[TABLES_PARAM_URI],
	    bytype[TABLES_PARAM_SPECIAL], m->m_lenient, ncomps, m->m_ncomparts, ncparams,
	    bytes);
}

static void
model_free(struct model *m)
{
	size_t i, k;

	for (i = 0; i < m->m_ntypes; i++)
		free(m->m_types[i].mt_rows);
	free(m->m_types);
	for (i = 0; i < m->m_nelems; i++) {
		free(m->m_elems[i].me_name);
		free(m->m_elems[i].me_types);
	}
	free(m->m_elems);
	free(m->m_paths);
	free(m->m_resources);
	for (i = 0; i < m->m_nrparams; i++) {
		struct mrparam *rp = &m->m_rparams[i];

		buf_free(&rp->rp_program);
		for (k = 0; rp->rp_comp_programs != NULL &&
		    k < rp->rp_param->mp_ncomps; k++)
			buf_free(&rp->rp_comp_programs[k]);
		free(rp->rp_comp_programs);
	}
	free(m->m_rparams);
	for (i = 0; i < m->m_nparams; i++) {
		struct mparam *p = &m->m_params[i];

		strlist_free(&p->mp_bases);
		strlist_free(&p->mp_targets);
		strlist_free(&p->mp_modifiers);
		strlist_free(&p->mp_comparators);
		free(p->mp_comps);
		free(p->mp_branch_used);
	}
	free(m->m_params);
	for (i = 0; i < m->m_ncomparts; i++)
		strlist_free(&m->m_comparts[i].mm_params);
	free(m->m_comparts);
	tsv_free(&m->m_tsv_types);
	tsv_free(&m->m_tsv_elements);
	tsv_free(&m->m_tsv_params);
	tsv_free(&m->m_tsv_extra);
	tsv_free(&m->m_tsv_components);
	tsv_free(&m->m_tsv_compartments);
	free(m->m_version_name);
	free(m->m_fhir_version);
}

int
main(int argc, char *argv[])
{
	struct model m;
	struct buf img1, img2;
	struct tables *t = NULL;
	int rc = 1;

	memset(&m, 0, sizeof(m));
	memset(&img1, 0, sizeof(img1));
	memset(&img2, 0, sizeof(img2));
	show_warnings = getenv("TABLEC_WARNINGS") != NULL &&
	    strcmp(getenv("TABLEC_WARNINGS"), "0") != 0;
	if (argc != 3) {
		fprintf(stderr, "usage: %s SCHEMA_DIR OUT_FILE\n", progname);
		return 2;
	}
	/* Input order is part of the content hash. */
	if (load_version(&m, argv[1]) != 0 ||
	    tsv_read(argv[1], "types.tsv", 5, &m.m_tsv_types) != 0 ||
	    tsv_read(argv[1], "elements.tsv", 6, &m.m_tsv_elements) != 0 ||
	    tsv_read(argv[1], "searchparams.tsv", 11, &m.m_tsv_params) != 0 ||
	    tsv_read(argv[1], "extra-params.tsv", 11, &m.m_tsv_extra) != 0 ||
	    tsv_read(argv[1], "components.tsv", 4, &m.m_tsv_components) != 0 ||
	    tsv_read(argv[1], "compartments.tsv", 3,
	    &m.m_tsv_compartments) != 0)
		goto done;
	if (load_types(&m) != 0 || load_elements(&m) != 0 ||
	    load_params(&m) != 0 || load_compartments(&m) != 0)
		goto done;
	/* Pass 1: the type model alone, for the FHIRPath compiler. */
	if (build_image(&m, 0, &img1) != 0)
		goto done;
	if (tables_open_memory(img1.b_p, img1.b_n, &t) != EMBER_OK ||
	    tables_verify(t) != EMBER_OK) {
		errmsg("internal error: pass 1 image does not verify");
		goto done;
	}
	if (assign_params(&m, t) != 0) {
		errmsg("%s: %u error(s); %s not written", argv[1], m.m_errors,
		    argv[2]);
		goto done;
	}
	tables_close(t);
	t = NULL;
	/* Pass 2: everything. */
	if (build_image(&m, 1, &img2) != 0)
		goto done;
	if (tables_open_memory(img2.b_p, img2.b_n, &t) != EMBER_OK ||
	    tables_verify(t) != EMBER_OK) {
		errmsg("internal error: the image does not verify");
		goto done;
	}
	if (write_atomic(argv[2], &img2) != 0)
		goto done;
	summary(&m, img2.b_n);
	rc = 0;
done:
	if (nwarnings > 0)
		fprintf(stderr, "%s: %s: %u warnings about the official "
		    "definitions (TABLEC_WARNINGS=1 lists them)\n", progname,
		    argc > 1 ? argv[1] : "", nwarnings);
	tables_close(t);
	buf_free(&img1);
	buf_free(&img2);
	model_free(&m);
	return rc;
}
