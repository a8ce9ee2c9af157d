/*
 * xml.c: FHIR XML <-> FHIR JSON over the compiled type model; see xml.h.
 *
 * The two formats are specified on each version's xml.html and
 * json.html pages.  Both directions walk the type model of src/tables.h:
 * the children of a context (a type, or a backbone element) are its
 * elements in definition order, which is the order XML requires; an
 * element's max gives array or single value in JSON; its type gives
 * primitive (a `value` attribute, a JSON string, number or boolean),
 * complex (child elements, a JSON object), backbone, resource (a wrapper
 * around one resource element) or xhtml (the narrative).
 *
 * READER.  expat with namespace processing calls start and end handlers;
 * each open FHIR element is a frame on a stack holding its context and
 * the JSON object its children go into.  Every JSON node is attached to
 * the tree as soon as it is made, so a failure anywhere frees the whole
 * tree at once.  Runs of a repeating element build their JSON array as
 * they go; for primitives a parallel `_name` array holds null
 * placeholders until an item turns out to carry an id or extensions, and
 * either array is dropped at the end of the run if it holds only nulls.
 * The narrative div is copied byte for byte from the document when it
 * declares its own namespace (the usual case), so its text survives
 * exactly; otherwise it is re-serialized from the parser's events.
 *
 * WRITER.  A recursive walk of the JSON tree in the order of the type
 * model; keys are marked as they are written, and any key left over is
 * an error naming it, so nothing is dropped silently.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "tables.h"
#include "xml.h"

/* Separates namespace URI, local name and prefix in expat's names. */
#define XML_NS_SEP		'\x01'
#define XML_NS_SEP_STR		"\x01"
#define XML_XMLNS_NS		"http://www.w3.org/XML/1998/namespace"
#define XML_XSI_NS		"http://www.w3.org/2001/XMLSchema-instance"
#define XML_KEY_MAX		128	/* longest element name (a JSON key) */
#define XML_NUMBER_MAX		64	/* longest number text, as json.c */
#define XML_WRITE_DEPTH_MAX	1000	/* writer recursion guard */
#define XML_DIV_PREFIXES	8	/* prefixes tracked inside a div */

/* ---- Shared: the HTML named entities, the type model --------------- */

/*
 * The character entities of XHTML 1.0 (xhtml-lat1, xhtml-symbol,
 * xhtml-special; the same 252 names as HTML 4), sorted by name.  The
 * JSON form of a narrative is XHTML text, and official examples use
 * &nbsp; and friends there; XML without a DTD knows only the five
 * predefined entities, so the writer turns these into character
 * references.
 */
struct xml_entity {
	const char	*xe_name;
	unsigned	 xe_code;
};

static const struct xml_entity xml_entities[] = {
	{ "AElig", 198 }, { "Aacute", 193 }, { "Acirc", 194 },
	{ "Agrave", 192 }, { "Alpha", 913 }, { "Aring", 197 },
	{ "Atilde", 195 }, { "Auml", 196 }, { "Beta", 914 },
	{ "Ccedil", 199 }, { "Chi", 935 }, { "Dagger", 8225 },
	{ "Delta", 916 }, { "ETH", 208 }, { "Eacute", 201 },
	{ "Ecirc", 202 }, { "Egrave", 200 }, { "Epsilon", 917 },
	{ "Eta", 919 }, { "Euml", 203 }, { "Gamma", 915 }, { "Iacute", 205 },
	{ "Icirc", 206 }, { "Igrave", 204 }, { "Iota", 921 }, { "Iuml", 207 },
	{ "Kappa", 922 }, { "Lambda", 923 }, { "Mu", 924 }, { "Ntilde", 209 },
	{ "Nu", 925 }, { "OElig", 338 }, { "Oacute", 211 }, { "Ocirc", 212 },
	{ "Ograve", 210 }, { "Omega", 937 }, { "Omicron", 927 },
	{ "Oslash", 216 }, { "Otilde", 213 }, { "Ouml", 214 }, { "Phi", 934 },
	{ "Pi", 928 }, { "Prime", 8243 }, { "Psi", 936 }, { "Rho", 929 },
	{ "Scaron", 352 }, { "Sigma", 931 }, { "THORN", 222 }, { "Tau", 932 },
	{ "Theta", 920 }, { "Uacute", 218 }, { "Ucirc", 219 },
	{ "Ugrave", 217 }, { "Upsilon", 933 }, { "Uuml", 220 }, { "Xi", 926 },
	{ "Yacute", 221 }, { "Yuml", 376 }, { "Zeta", 918 }, { "aacute", 225 },
	{ "acirc", 226 }, { "acute", 180 }, { "aelig", 230 },
	{ "agrave", 224 }, { "alefsym", 8501 }, { "alpha", 945 },
	{ "amp", 38 }, { "and", 8743 }, { "ang", 8736 }, { "aring", 229 },
	{ "asymp", 8776 }, { "atilde", 227 }, { "auml", 228 },
	{ "bdquo", 8222 }, { "beta", 946 }, { "brvbar", 166 },
	{ "bull", 8226 }, { "cap", 8745 }, { "ccedil", 231 }, { "cedil", 184 },
	{ "cent", 162 }, { "chi", 967 }, { "circ", 710 }, { "clubs", 9827 },
	{ "cong", 8773 }, { "copy", 169 }, { "crarr", 8629 }, { "cup", 8746 },
	{ "curren", 164 }, { "dArr", 8659 }, { "dagger", 8224 },
	{ "darr", 8595 }, { "deg", 176 }, { "delta", 948 }, { "diams", 9830 },
	{ "divide", 247 }, { "eacute", 233 }, { "ecirc", 234 },
	{ "egrave", 232 }, { "empty", 8709 }, { "emsp", 8195 },
	{ "ensp", 8194 }, { "epsilon", 949 }, { "equiv", 8801 },
	{ "eta", 951 }, { "eth", 240 }, { "euml", 235 }, { "euro", 8364 },
	{ "exist", 8707 }, { "fnof", 402 }, { "forall", 8704 },
	{ "frac12", 189 }, { "frac14", 188 }, { "frac34", 190 },
	{ "frasl", 8260 }, { "gamma", 947 }, { "ge", 8805 }, { "gt", 62 },
	{ "hArr", 8660 }, { "harr", 8596 }, { "hearts", 9829 },
	{ "hellip", 8230 }, { "iacute", 237 }, { "icirc", 238 },
	{ "iexcl", 161 }, { "igrave", 236 }, { "image", 8465 },
	{ "infin", 8734 }, { "int", 8747 }, { "iota", 953 }, { "iquest", 191 },
	{ "isin", 8712 }, { "iuml", 239 }, { "kappa", 954 }, { "lArr", 8656 },
	{ "lambda", 955 }, { "lang", 9001 }, { "laquo", 171 },
	{ "larr", 8592 }, { "lceil", 8968 }, { "ldquo", 8220 }, { "le", 8804 },
	{ "lfloor", 8970 }, { "lowast", 8727 }, { "loz", 9674 },
	{ "lrm", 8206 }, { "lsaquo", 8249 }, { "lsquo", 8216 }, { "lt", 60 },
	{ "macr", 175 }, { "mdash", 8212 }, { "micro", 181 },
	{ "middot", 183 }, { "minus", 8722 }, { "mu", 956 }, { "nabla", 8711 },
	{ "nbsp", 160 }, { "ndash", 8211 }, { "ne", 8800 }, { "ni", 8715 },
	{ "not", 172 }, { "notin", 8713 }, { "nsub", 8836 },
	{ "ntilde", 241 }, { "nu", 957 }, { "oacute", 243 }, { "ocirc", 244 },
	{ "oelig", 339 }, { "ograve", 242 }, { "oline", 8254 },
	{ "omega", 969 }, { "omicron", 959 }, { "oplus", 8853 }, { "or", 8744 },
	{ "ordf", 170 }, { "ordm", 186 }, { "oslash", 248 }, { "otilde", 245 },
	{ "otimes", 8855 }, { "ouml", 246 }, { "para", 182 }, { "part", 8706 },
	{ "permil", 8240 }, { "perp", 8869 }, { "phi", 966 }, { "pi", 960 },
	{ "piv", 982 }, { "plusmn", 177 }, { "pound", 163 }, { "prime", 8242 },
	{ "prod", 8719 }, { "prop", 8733 }, { "psi", 968 }, { "quot", 34 },
	{ "rArr", 8658 }, { "radic", 8730 }, { "rang", 9002 },
	{ "raquo", 187 }, { "rarr", 8594 }, { "rceil", 8969 },
	{ "rdquo", 8221 }, { "real", 8476 }, { "reg", 174 }, { "rfloor", 8971 },
	{ "rho", 961 }, { "rlm", 8207 }, { "rsaquo", 8250 }, { "rsquo", 8217 },
	{ "sbquo", 8218 }, { "scaron", 353 }, { "sdot", 8901 }, { "sect", 167 },
	{ "shy", 173 }, { "sigma", 963 }, { "sigmaf", 962 }, { "sim", 8764 },
	{ "spades", 9824 }, { "sub", 8834 }, { "sube", 8838 }, { "sum", 8721 },
	{ "sup", 8835 }, { "sup1", 185 }, { "sup2", 178 }, { "sup3", 179 },
	{ "supe", 8839 }, { "szlig", 223 }, { "tau", 964 }, { "there4", 8756 },
	{ "theta", 952 }, { "thetasym", 977 }, { "thinsp", 8201 },
	{ "thorn", 254 }, { "tilde", 732 }, { "times", 215 }, { "trade", 8482 },
	{ "uArr", 8657 }, { "uacute", 250 }, { "uarr", 8593 }, { "ucirc", 251 },
	{ "ugrave", 249 }, { "uml", 168 }, { "upsih", 978 },
	{ "upsilon", 965 }, { "uuml", 252 }, { "weierp", 8472 }, { "xi", 958 },
	{ "yacute", 253 }, { "yen", 165 }, { "yuml", 255 }, { "zeta", 950 },
	{ "zwj", 8205 }, { "zwnj", 8204 },
};

/* How an element's value is written. */
enum xml_vkind {
	XML_V_PRIMITIVE,	/* value attribute; JSON scalar */
	XML_V_XHTML,		/* narrative div; JSON string */
	XML_V_COMPLEX,		/* children from a datatype */
	XML_V_BACKBONE,		/* children from the element itself */
	XML_V_RESOURCE		/* wraps one resource element */
};

static int
xml_streq(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && memcmp(a, b, alen) == 0;
}

/* The code for the HTML entity name[0..len), or 0 if there is none. */
static unsigned
xml_entity_code(const char *name, size_t len)
{
	size_t lo = 0, hi = sizeof(xml_entities) / sizeof(xml_entities[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *e = xml_entities[mid].xe_name;
		size_t elen = strlen(e);
		int c = memcmp(name, e, len < elen ? len : elen);

		if (c == 0)
			c = len < elen ? -1 : len > elen ? 1 : 0;
		if (c == 0)
			return xml_entities[mid].xe_code;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* Whether code point cp is a Char of XML 1.0. */
static int
xml_is_char(unsigned long cp)
{
	if (cp < 0x20)
		return cp == 0x9 || cp == 0xa || cp == 0xd;
	return cp != 0xfffe && cp != 0xffff;
}

/*
 * The first child element of a context; any failure is a fault of the
 * tables here (the model has no such context).
 */
static int
xml_context_first(const struct tables *t, unsigned type, unsigned elem,
    unsigned *first)
{
	return tables_context_first(t, &type, elem, first) == EMBER_OK ?
	    EMBER_OK : EMBER_ETABLES;
}

/*
 * Whether element e is an XML attribute rather than a child element:
 * `id` everywhere except a resource's own id (Resource.id), and
 * Extension.url.  The primitives' `value` is handled apart.  Checked
 * against the `representation` of every element of the official
 * definitions of all five versions.
 */
static int
xml_is_attribute(const struct tables *t, const struct tables_element *e)
{
	struct tables_type ty;

	if (xml_streq(e->name, e->name_len, "id")) {
		if (e->parent != TABLES_NONE)
			return 1;
		if (tables_type_get(t, e->owner, &ty) != EMBER_OK)
			return 1;
		return ty.kind != TABLES_KIND_RESOURCE;
	}
	return xml_streq(e->path, e->path_len, "Extension.url");
}

/*
 * Classify the value of element e whose value type is vtype (NONE for
 * backbone and content-reference elements); fills *ty for typed values.
 * EMBER_OK, or EMBER_ENOTFOUND when the element has no usable type.
 */
static int
xml_classify(const struct tables *t, const struct tables_element *e,
    unsigned vtype, enum xml_vkind *kind, struct tables_type *ty)
{
	if (!(e->flags & TABLES_ELEMENT_CHOICE) &&
	    (e->contentref != TABLES_NONE ||
	    (e->flags & TABLES_ELEMENT_BACKBONE))) {
		*kind = XML_V_BACKBONE;
		return EMBER_OK;
	}
	if (vtype == TABLES_NONE || tables_type_get(t, vtype, ty) != EMBER_OK)
		return EMBER_ENOTFOUND;
	switch (ty->kind) {
	case TABLES_KIND_PRIMITIVE:
		*kind = xml_streq(ty->name, ty->name_len, "xhtml") ?
		    XML_V_XHTML : XML_V_PRIMITIVE;
		break;
	case TABLES_KIND_RESOURCE:
		*kind = XML_V_RESOURCE;
		break;
	default:
		*kind = XML_V_COMPLEX;
		break;
	}
	return EMBER_OK;
}

static unsigned xml_choice_type(const struct tables *,
    const struct tables_element *, const char *);

static int
xml_repeats(const struct tables_element *e)
{
	return e->max == TABLES_NONE || e->max > 1;
}

/*
 * Whether text[0..len) is a JSON number (RFC 8259), and with integer set
 * an integer without fraction or exponent: the lexical forms FHIR's
 * decimal and integer types share with JSON.
 */
static int
xml_number_ok(const char *s, size_t len, int integer)
{
	size_t i = 0;

	if (len == 0 || len > XML_NUMBER_MAX)
		return 0;
	if (s[i] == '-')
		i++;
	if (i >= len)
		return 0;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < len && s[i] == '.') {
		if (integer || ++i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (integer || ++i >= len)
			return 0;
		if (s[i] == '+' || s[i] == '-')
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == len;
}

/*
 * Whether d is in the range of FHIR number type ty: integer is 32-bit
 * signed, positiveInt from 1 and unsignedInt from 0 up to 2^31-1;
 * decimal takes any finite value.
 */
static int
xml_number_range_ok(const struct tables_type *ty, double d)
{
	if (xml_streq(ty->name, ty->name_len, "decimal"))
		return isfinite(d);
	if (xml_streq(ty->name, ty->name_len, "positiveInt"))
		return d >= 1 && d <= 2147483647.0;
	if (xml_streq(ty->name, ty->name_len, "unsignedInt"))
		return d >= 0 && d <= 2147483647.0;
	return d >= -2147483648.0 && d <= 2147483647.0;
}

/* ---- Reader: XML to JSON -------------------------------------------- */

enum xml_frame_kind {
	XF_RESOURCE,		/* a resource element: children from its type */
	XF_OBJECT,		/* a complex or backbone element */
	XF_PRIMITIVE,		/* children: extension only */
	XF_WRAPPER		/* holds one resource element */
};

struct xml_frame {
	enum xml_frame_kind	 xf_kind;
	unsigned		 xf_type;	/* context type or NONE */
	unsigned		 xf_elem;	/* context element or NONE */
	unsigned		 xf_self;	/* this element, NONE for roots */
	cJSON			*xf_obj;	/* children's keys go here */
	char			 xf_key[XML_KEY_MAX + 2]; /* "_" + name */
	/* XF_PRIMITIVE: where a lazily made `_name` object goes. */
	cJSON			*xf_parent;	/* the parent's JSON object */
	cJSON			*xf_ext_array;	/* in a run: `_name` array */
	cJSON			*xf_ext_slot;	/* in a run: its placeholder */
	int			 xf_has_value;
	/* XF_WRAPPER: where the resource goes. */
	cJSON			*xf_target_array; /* in a run, else NULL */
	int			 xf_has_resource;
	/* The run of the last child element. */
	unsigned		 xf_last;	/* its element, NONE at first */
	cJSON			*xf_run_vals;	/* its JSON array, if it repeats */
	cJSON			*xf_run_exts;	/* its `_name` array (primitive) */
};

/*
 * The error state every parser's user data starts with, so that the
 * handlers refusing DTDs serve the reader and the narrative check alike.
 */
struct xml_status {
	XML_Parser		 xs_parser;
	int			 xs_rc;		/* first error, EMBER_OK */
	char			*xs_err;
	size_t			 xs_errsz;
};

struct xml_reader {
	struct xml_status	 xr_st;		/* first: see xml_status */
	const struct tables	*xr_t;
	const char		*xr_doc;	/* the whole document */
	size_t			 xr_doclen;
	unsigned		 xr_max_depth;
	unsigned		 xr_depth;	/* open elements */
	cJSON			*xr_root;
	int			 xr_done;	/* the root element closed */
	struct xml_frame	*xr_frames;
	size_t			 xr_nframes;
	size_t			 xr_capframes;
	/* The narrative div being read (xr_div_depth > 0). */
	unsigned		 xr_div_depth;
	cJSON			*xr_div_target;	/* object to get "div" */
	size_t			 xr_div_start;	/* byte offset of `<div` */
	size_t			 xr_div_end;	/* offset past its end tag */
	int			 xr_div_raw;	/* the raw bytes can be used */
	char			 xr_div_prefix[XML_KEY_MAX];
	char			 xr_div_decl[XML_DIV_PREFIXES][XML_KEY_MAX];
	size_t			 xr_div_ndecl;
	int			 xr_div_tag_open; /* re-serializer: `<x` open */
	struct buf		 xr_div;	/* the re-serialized div */
	/* Namespace declarations seen for the next start tag. */
	char			 xr_decl[XML_DIV_PREFIXES][XML_KEY_MAX];
	size_t			 xr_ndecl;
	int			 xr_decl_overflow;
};

/* A name from expat: namespace URI, local name and prefix. */
struct xml_name {
	const char	*xn_ns;		/* "" when none */
	size_t		 xn_nslen;
	const char	*xn_local;
	size_t		 xn_locallen;
	const char	*xn_prefix;	/* "" when none */
	size_t		 xn_prefixlen;
};

static void xml_status_vfail(struct xml_status *, int, const char *,
    va_list) __attribute__((format(printf, 3, 0)));
static void xml_status_fail(struct xml_status *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void xml_reader_fail(struct xml_reader *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the first error with the position and stop the parser. */
static void
xml_status_vfail(struct xml_status *st, int rc, const char *fmt, va_list ap)
{
	size_t n;

	if (st->xs_rc != EMBER_OK)
		return;
	st->xs_rc = rc;
	if (st->xs_err != NULL && st->xs_errsz > 0) {
		vsnprintf(st->xs_err, st->xs_errsz, fmt, ap);
		n = strlen(st->xs_err);
		if (n < st->xs_errsz)
			snprintf(st->xs_err + n, st->xs_errsz - n,
			    " (line %lu, column %lu)",
			    (unsigned long)XML_GetCurrentLineNumber(
			    st->xs_parser),
			    (unsigned long)XML_GetCurrentColumnNumber(
			    st->xs_parser) + 1);
	}
	XML_StopParser(st->xs_parser, XML_FALSE);
}

static void
xml_status_fail(struct xml_status *st, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xml_status_vfail(st, rc, fmt, ap);
	va_end(ap);
}

static void
xml_reader_fail(struct xml_reader *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xml_status_vfail(&r->xr_st, rc, fmt, ap);
	va_end(ap);
}

static void
xml_split_name(const char *name, struct xml_name *n)
{
	const char *a = strchr(name, XML_NS_SEP), *b;

	if (a == NULL) {
		n->xn_ns = "";
		n->xn_nslen = 0;
		n->xn_local = name;
		n->xn_locallen = strlen(name);
		n->xn_prefix = "";
		n->xn_prefixlen = 0;
		return;
	}
	n->xn_ns = name;
	n->xn_nslen = (size_t)(a - name);
	n->xn_local = a + 1;
	if ((b = strchr(a + 1, XML_NS_SEP)) == NULL) {
		n->xn_locallen = strlen(a + 1);
		n->xn_prefix = "";
		n->xn_prefixlen = 0;
	} else {
		n->xn_locallen = (size_t)(b - (a + 1));
		n->xn_prefix = b + 1;
		n->xn_prefixlen = strlen(b + 1);
	}
}

/* A printable, bounded form of a name for messages. */
static int
xml_name_len(size_t len)
{
	return len > 100 ? 100 : (int)len;
}

static const char *
xml_context_name(const struct xml_reader *r, const struct xml_frame *f)
{
	struct tables_element	e;
	const char		*name;

	if (f->xf_self != TABLES_NONE &&
	    tables_element_get(r->xr_t, f->xf_self, &e) == EMBER_OK)
		return e.path;
	if (f->xf_type != TABLES_NONE &&
	    (name = tables_type_name(r->xr_t, f->xf_type)) != NULL)
		return name;
	return "?";
}

static struct xml_frame *
xml_push(struct xml_reader *r)
{
	struct xml_frame *f;

	if (r->xr_nframes == r->xr_capframes) {
		size_t cap = r->xr_capframes ? r->xr_capframes * 2 : 16;

		if (cap > SIZE_MAX / sizeof(*f) ||
		    (f = realloc(r->xr_frames, cap * sizeof(*f))) == NULL) {
			xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
			return NULL;
		}
		r->xr_frames = f;
		r->xr_capframes = cap;
	}
	f = &r->xr_frames[r->xr_nframes++];
	memset(f, 0, sizeof(*f));
	f->xf_type = f->xf_elem = f->xf_self = f->xf_last = TABLES_NONE;
	return f;
}

/* Whether a JSON array holds only nulls. */
static int
xml_all_null(const cJSON *a)
{
	const cJSON *c;

	for (c = a->child; c != NULL; c = c->next)
		if (!cJSON_IsNull(c))
			return 0;
	return 1;
}

/* End the run of repeated children in f: drop all-null arrays. */
static void
xml_end_run(struct xml_frame *f)
{
	if (f->xf_run_vals != NULL && f->xf_run_exts != NULL) {
		if (xml_all_null(f->xf_run_vals))
			cJSON_Delete(cJSON_DetachItemViaPointer(f->xf_obj,
			    f->xf_run_vals));
		if (xml_all_null(f->xf_run_exts))
			cJSON_Delete(cJSON_DetachItemViaPointer(f->xf_obj,
			    f->xf_run_exts));
	}
	f->xf_run_vals = f->xf_run_exts = NULL;
}

/* Attach node under key to obj; on failure node is freed. */
static int
xml_attach(struct xml_reader *r, cJSON *obj, const char *key, cJSON *node)
{
	if (node == NULL || !cJSON_AddItemToObject(obj, key, node)) {
		cJSON_Delete(node);
		xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

static int
xml_append(struct xml_reader *r, cJSON *array, cJSON *node)
{
	if (node == NULL || !cJSON_AddItemToArray(array, node)) {
		cJSON_Delete(node);
		xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
		return -1;
	}
	return 0;
}

/* The `_name` object of primitive frame f, made and attached on demand. */
static cJSON *
xml_primitive_ext(struct xml_reader *r, struct xml_frame *f)
{
	cJSON *e;

	if (f->xf_obj != NULL)
		return f->xf_obj;
	if ((e = cJSON_CreateObject()) == NULL) {
		xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
		return NULL;
	}
	if (f->xf_ext_array != NULL) {
		if (!cJSON_ReplaceItemViaPointer(f->xf_ext_array,
		    f->xf_ext_slot, e)) {
			cJSON_Delete(e);
			xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
			return NULL;
		}
		f->xf_ext_slot = NULL;
	} else if (xml_attach(r, f->xf_parent, f->xf_key, e) != 0)
		return NULL;
	f->xf_obj = e;
	return e;
}

/* Make the JSON scalar for a primitive value of type ty. */
static cJSON *
xml_scalar(struct xml_reader *r, const struct tables_type *ty,
    const char *value, const char *elem)
{
	size_t	 len = strlen(value);
	cJSON	*node;
	double	 d;

	switch (ty->jsonkind) {
	case TABLES_JSON_BOOL:
		if (strcmp(value, "true") == 0)
			node = cJSON_CreateTrue();
		else if (strcmp(value, "false") == 0)
			node = cJSON_CreateFalse();
		else {
			xml_reader_fail(r, EMBER_EINVAL, "element '%s': "
			    "boolean value must be true or false", elem);
			return NULL;
		}
		break;
	case TABLES_JSON_NUMBER:
		if (!xml_number_ok(value, len,
		    !xml_streq(ty->name, ty->name_len, "decimal"))) {
			xml_reader_fail(r, EMBER_EINVAL, "element '%s': "
			    "'%.*s' is not a valid %s", elem,
			    xml_name_len(len), value, ty->name);
			return NULL;
		}
		d = strtod(value, NULL);
		if (!isfinite(d) || !xml_number_range_ok(ty, d)) {
			xml_reader_fail(r, EMBER_EINVAL, "element '%s': "
			    "number out of range for %s", elem, ty->name);
			return NULL;
		}
		if ((node = cJSON_CreateNumber(d)) != NULL) {
			if ((node->valuestring = malloc(len + 1)) == NULL) {
				cJSON_Delete(node);
				node = NULL;
			} else
				memcpy(node->valuestring, value, len + 1);
		}
		break;
	default:
		node = cJSON_CreateString(value);
		break;
	}
	if (node == NULL)
		xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
	return node;
}

/*
 * Give the new child element ce of frame f its place: check the order of
 * definition, end the previous run, and for a repeating element start
 * (or continue) the JSON array under key.  Returns 0 or -1 (failed).
 */
static int
xml_place_child(struct xml_reader *r, struct xml_frame *f, unsigned ce,
    const struct tables_element *e, const char *key, int primitive)
{
	char ekey[XML_KEY_MAX + 2];

	if (f->xf_last != TABLES_NONE && ce == f->xf_last) {
		if (!xml_repeats(e) || f->xf_run_vals == NULL ||
		    strcmp(f->xf_run_vals->string, key) != 0) {
			xml_reader_fail(r, EMBER_EINVAL,
			    "element '%s' repeated in %s", key,
			    xml_context_name(r, f));
			return -1;
		}
		return 0;
	}
	if (f->xf_last != TABLES_NONE && ce < f->xf_last) {
		xml_reader_fail(r, EMBER_EINVAL,
		    "element '%s' out of order in %s", key,
		    xml_context_name(r, f));
		return -1;
	}
	xml_end_run(f);
	f->xf_last = ce;
	if (json_get(f->xf_obj, key) != NULL) {
		xml_reader_fail(r, EMBER_EINVAL, "element '%s' repeated in %s",
		    key, xml_context_name(r, f));
		return -1;
	}
	if (!xml_repeats(e))
		return 0;
	if ((f->xf_run_vals = cJSON_AddArrayToObject(f->xf_obj, key)) == NULL)
		goto nomem;
	if (primitive) {
		ekey[0] = '_';
		memcpy(ekey + 1, key, strlen(key) + 1);
		if ((f->xf_run_exts = cJSON_AddArrayToObject(f->xf_obj,
		    ekey)) == NULL)
			goto nomem;
	}
	return 0;
nomem:
	xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
	return -1;
}

/* ---- Reader: the narrative ---- */

static void
xml_div_close_tag(struct xml_reader *r)
{
	if (r->xr_div_tag_open) {
		buf_putc(&r->xr_div, '>');
		r->xr_div_tag_open = 0;
	}
}

/* Escape text or an attribute value for the re-serialized div. */
static void
xml_escape_text(struct buf *b, const char *s, size_t len, int attr)
{
	size_t i, run;

	for (i = run = 0; i < len; i++) {
		const char *rep;

		switch (s[i]) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = attr ? "&quot;" : NULL; break;
		case '\t': rep = attr ? "&#9;" : NULL; break;
		case '\n': rep = attr ? "&#10;" : NULL; break;
		case '\r': rep = "&#13;"; break;
		default: rep = NULL; break;
		}
		if (rep == NULL)
			continue;
		buf_append(b, s + run, i - run);
		buf_puts(b, rep);
		run = i + 1;
	}
	buf_append(b, s + run, len - run);
}

static int
xml_prefix_declared(char decl[][XML_KEY_MAX], size_t n, const char *p,
    size_t plen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (xml_streq(p, plen, decl[i]))
			return 1;
	return 0;
}

/* Move the declarations seen for this start tag into the div's list. */
static void
xml_div_take_decls(struct xml_reader *r)
{
	size_t i;

	if (r->xr_decl_overflow)
		r->xr_div_raw = 0;
	for (i = 0; i < r->xr_ndecl; i++) {
		if (r->xr_div_ndecl == XML_DIV_PREFIXES) {
			r->xr_div_raw = 0;
			break;
		}
		memcpy(r->xr_div_decl[r->xr_div_ndecl++], r->xr_decl[i],
		    XML_KEY_MAX);
	}
}

/*
 * An element start inside the narrative (the div itself when depth is
 * 0): check the XHTML namespace, keep track of whether the raw bytes
 * stand alone, and re-serialize.
 */
static void
xml_div_start(struct xml_reader *r, const struct xml_name *n,
    const char **atts)
{
	struct xml_name	an;
	size_t		i;

	if (!xml_streq(n->xn_ns, n->xn_nslen, XML_XHTML_NS)) {
		xml_reader_fail(r, EMBER_EINVAL, "element '%.*s' in the "
		    "narrative is not in the XHTML namespace",
		    xml_name_len(n->xn_locallen), n->xn_local);
		return;
	}
	xml_div_take_decls(r);
	if (r->xr_div_depth == 0) {
		/* The div's own prefix must be declared on the div. */
		if (n->xn_prefixlen >= XML_KEY_MAX)
			r->xr_div_raw = 0;
		else {
			memcpy(r->xr_div_prefix, n->xn_prefix,
			    n->xn_prefixlen);
			r->xr_div_prefix[n->xn_prefixlen] = '\0';
		}
		if (!xml_prefix_declared(r->xr_div_decl, r->xr_div_ndecl,
		    n->xn_prefix, n->xn_prefixlen))
			r->xr_div_raw = 0;
	} else if (!xml_streq(n->xn_prefix, n->xn_prefixlen,
	    r->xr_div_prefix) && !xml_prefix_declared(r->xr_div_decl,
	    r->xr_div_ndecl, n->xn_prefix, n->xn_prefixlen))
		r->xr_div_raw = 0;
	xml_div_close_tag(r);
	buf_putc(&r->xr_div, '<');
	buf_append(&r->xr_div, n->xn_local, n->xn_locallen);
	if (r->xr_div_depth == 0)
		buf_puts(&r->xr_div, " xmlns=\"" XML_XHTML_NS "\"");
	for (i = 0; atts[i] != NULL; i += 2) {
		xml_split_name(atts[i], &an);
		buf_putc(&r->xr_div, ' ');
		if (an.xn_nslen == 0)
			;
		else if (xml_streq(an.xn_ns, an.xn_nslen, XML_XMLNS_NS))
			buf_puts(&r->xr_div, "xml:");
		else {
			xml_reader_fail(r, EMBER_EINVAL, "attribute '%.*s' in "
			    "the narrative has a foreign namespace",
			    xml_name_len(an.xn_locallen), an.xn_local);
			return;
		}
		if (an.xn_nslen != 0 && !xml_streq(an.xn_ns, an.xn_nslen,
		    XML_XMLNS_NS) && !xml_prefix_declared(r->xr_div_decl,
		    r->xr_div_ndecl, an.xn_prefix, an.xn_prefixlen))
			r->xr_div_raw = 0;
		buf_append(&r->xr_div, an.xn_local, an.xn_locallen);
		buf_puts(&r->xr_div, "=\"");
		xml_escape_text(&r->xr_div, atts[i + 1], strlen(atts[i + 1]),
		    1);
		buf_putc(&r->xr_div, '"');
	}
	r->xr_div_tag_open = 1;
	r->xr_div_depth++;
}

static void
xml_div_end(struct xml_reader *r, const struct xml_name *n)
{
	XML_Index	 at = XML_GetCurrentByteIndex(r->xr_st.xs_parser);
	int		 count = XML_GetCurrentByteCount(r->xr_st.xs_parser);
	const char	*text;
	size_t		 len;
	cJSON		*s;

	if (r->xr_div_tag_open) {
		buf_puts(&r->xr_div, "/>");
		r->xr_div_tag_open = 0;
	} else {
		buf_puts(&r->xr_div, "</");
		buf_append(&r->xr_div, n->xn_local, n->xn_locallen);
		buf_putc(&r->xr_div, '>');
	}
	if (at >= 0 && count >= 0 &&
	    (size_t)at + (size_t)count > r->xr_div_end)
		r->xr_div_end = (size_t)at + (size_t)count;
	if (--r->xr_div_depth > 0)
		return;
	if (buf_error(&r->xr_div) != EMBER_OK) {
		xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
		return;
	}
	if (r->xr_div_raw && r->xr_div_end > r->xr_div_start &&
	    r->xr_div_end <= r->xr_doclen) {
		text = r->xr_doc + r->xr_div_start;
		len = r->xr_div_end - r->xr_div_start;
		buf_reset(&r->xr_div);
		if (buf_append(&r->xr_div, text, len) != EMBER_OK) {
			xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
			return;
		}
	}
	if ((s = cJSON_CreateString(r->xr_div.data)) == NULL) {
		xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
		return;
	}
	(void)xml_attach(r, r->xr_div_target, "div", s);
}

/* ---- Reader: expat handlers ---- */

/* Check a resource element's name and make its JSON object. */
static cJSON *
xml_resource_start(struct xml_reader *r, const struct xml_name *n,
    const char **atts, int root, unsigned *type)
{
	struct xml_name	an;
	char		name[XML_KEY_MAX];
	unsigned	ri;
	cJSON		*obj;
	size_t		i;

	if (!xml_streq(n->xn_ns, n->xn_nslen, XML_FHIR_NS)) {
		xml_reader_fail(r, EMBER_EINVAL, "element '%.*s' is not in "
		    "the FHIR namespace (" XML_FHIR_NS ")",
		    xml_name_len(n->xn_locallen), n->xn_local);
		return NULL;
	}
	if (n->xn_locallen >= sizeof(name) ||
	    tables_resource_lookup(r->xr_t, n->xn_local, n->xn_locallen,
	    &ri) != EMBER_OK) {
		xml_reader_fail(r, EMBER_EINVAL, "'%.*s' is not a resource "
		    "type", xml_name_len(n->xn_locallen), n->xn_local);
		return NULL;
	}
	for (i = 0; atts[i] != NULL; i += 2) {
		xml_split_name(atts[i], &an);
		/* A schema hint on the document element means nothing here. */
		if (root && xml_streq(an.xn_ns, an.xn_nslen, XML_XSI_NS) &&
		    (xml_streq(an.xn_local, an.xn_locallen, "schemaLocation") ||
		    xml_streq(an.xn_local, an.xn_locallen,
		    "noNamespaceSchemaLocation")))
			continue;
		xml_reader_fail(r, EMBER_EINVAL, "unknown attribute '%.*s' on "
		    "%.*s", xml_name_len(an.xn_locallen), an.xn_local,
		    xml_name_len(n->xn_locallen), n->xn_local);
		return NULL;
	}
	memcpy(name, n->xn_local, n->xn_locallen);
	name[n->xn_locallen] = '\0';
	*type = tables_resource_type(r->xr_t, ri);
	if ((obj = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(obj, "resourceType", name) == NULL) {
		cJSON_Delete(obj);
		xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
		return NULL;
	}
	return obj;
}

/* The resource element inside a wrapper frame (contained, ...). */
static void
xml_wrapped_resource(struct xml_reader *r, struct xml_frame *w,
    const struct xml_name *n, const char **atts)
{
	struct tables_element	 e;
	struct xml_frame	*f;
	unsigned		 type, want;
	cJSON			*obj;

	if (w->xf_has_resource) {
		xml_reader_fail(r, EMBER_EINVAL, "%s holds more than one "
		    "resource", xml_context_name(r, w));
		return;
	}
	if ((obj = xml_resource_start(r, n, atts, 0, &type)) == NULL)
		return;
	/* Element type Resource takes any; a narrower type its kind. */
	if (tables_element_get(r->xr_t, w->xf_self, &e) != EMBER_OK ||
	    (want = tables_element_type(r->xr_t, &e, 0)) == TABLES_NONE ||
	    !tables_type_derives(r->xr_t, type, want)) {
		cJSON_Delete(obj);
		xml_reader_fail(r, EMBER_EINVAL, "resource '%.*s' is not "
		    "allowed in %s", xml_name_len(n->xn_locallen),
		    n->xn_local, xml_context_name(r, w));
		return;
	}
	w->xf_has_resource = 1;
	if (w->xf_target_array != NULL) {
		if (xml_append(r, w->xf_target_array, obj) != 0)
			return;
	} else if (xml_attach(r, w->xf_parent, w->xf_key, obj) != 0)
		return;
	if ((f = xml_push(r)) == NULL)
		return;
	f->xf_kind = XF_RESOURCE;
	f->xf_type = type;
	f->xf_obj = obj;
}

/* Attributes of a complex or backbone element: id, Extension's url. */
static void
xml_object_attributes(struct xml_reader *r, struct xml_frame *f,
    const char **atts, const char *key)
{
	struct tables_element	e;
	struct xml_name		an;
	unsigned		ae, at;
	size_t			i;

	for (i = 0; atts[i] != NULL; i += 2) {
		xml_split_name(atts[i], &an);
		if (an.xn_nslen != 0 ||
		    tables_element_child(r->xr_t, f->xf_type, f->xf_elem,
		    an.xn_local, an.xn_locallen, &ae, &at) != EMBER_OK ||
		    tables_element_get(r->xr_t, ae, &e) != EMBER_OK ||
		    !xml_is_attribute(r->xr_t, &e)) {
			xml_reader_fail(r, EMBER_EINVAL, "unknown attribute "
			    "'%.*s' on element '%s'",
			    xml_name_len(an.xn_locallen), an.xn_local, key);
			return;
		}
		if (xml_attach(r, f->xf_obj, an.xn_local,
		    cJSON_CreateString(atts[i + 1])) != 0)
			return;
	}
}

/* Attributes of a primitive element: value and id. */
static void
xml_primitive_attributes(struct xml_reader *r, struct xml_frame *f,
    struct xml_frame *parent, const struct tables_type *ty,
    const char **atts)
{
	struct xml_name	 an;
	const char	*key = f->xf_key + 1, *value = NULL, *id = NULL;
	cJSON		*node, *ext;
	size_t		 i;

	for (i = 0; atts[i] != NULL; i += 2) {
		xml_split_name(atts[i], &an);
		if (an.xn_nslen == 0 &&
		    xml_streq(an.xn_local, an.xn_locallen, "value"))
			value = atts[i + 1];
		else if (an.xn_nslen == 0 &&
		    xml_streq(an.xn_local, an.xn_locallen, "id"))
			id = atts[i + 1];
		else {
			xml_reader_fail(r, EMBER_EINVAL, "unknown attribute "
			    "'%.*s' on element '%s'",
			    xml_name_len(an.xn_locallen), an.xn_local, key);
			return;
		}
	}
	if (value != NULL) {
		if ((node = xml_scalar(r, ty, value, key)) == NULL)
			return;
		f->xf_has_value = 1;
	} else if ((node = cJSON_CreateNull()) == NULL) {
		xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
		return;
	}
	if (parent->xf_run_vals != NULL) {
		/* In a run: value (or null) and a `_name` placeholder. */
		if (xml_append(r, parent->xf_run_vals, node) != 0)
			return;
		f->xf_ext_array = parent->xf_run_exts;
		if ((f->xf_ext_slot = cJSON_CreateNull()) == NULL ||
		    xml_append(r, f->xf_ext_array, f->xf_ext_slot) != 0)
			return;
	} else if (value != NULL) {
		if (xml_attach(r, parent->xf_obj, key, node) != 0)
			return;
	} else
		cJSON_Delete(node);
	if (id != NULL) {
		if ((ext = xml_primitive_ext(r, f)) == NULL)
			return;
		(void)xml_attach(r, ext, "id", cJSON_CreateString(id));
	}
}

/*
 * Find the element for child key of frame f.  Documents list children
 * in definition order, so the search starts at the previous child and
 * is usually one or two steps; anything else (an element out of order,
 * one found only in a base type) takes the full lookup of tables.c.
 */
static int
xml_find_child(const struct tables *t, const struct xml_frame *f,
    const char *key, size_t len, unsigned *ce, unsigned *vtype,
    struct tables_element *e)
{
	unsigned	ei, steps, start = f->xf_last;
	int		rc;

	if (start != TABLES_NONE || xml_context_first(t, f->xf_type,
	    f->xf_elem, &start) == EMBER_OK) {
		for (ei = start, steps = 0; ei != TABLES_NONE &&
		    steps < 100000; ei = e->next_sibling, steps++) {
			if (tables_element_get(t, ei, e) != EMBER_OK)
				return EMBER_ETABLES;
			if (e->name_len > len ||
			    memcmp(e->name, key, e->name_len) != 0)
				continue;
			if (!(e->flags & TABLES_ELEMENT_CHOICE)) {
				if (e->name_len != len)
					continue;
				*vtype = e->type_count == 1 ?
				    tables_element_type(t, e, 0) : TABLES_NONE;
			} else if ((*vtype = xml_choice_type(t, e,
			    key + e->name_len)) == TABLES_NONE)
				continue;
			*ce = ei;
			return EMBER_OK;
		}
	}
	if ((rc = tables_element_child(t, f->xf_type, f->xf_elem, key, len,
	    ce, vtype)) != EMBER_OK)
		return rc;
	return tables_element_get(t, *ce, e) == EMBER_OK ? EMBER_OK :
	    EMBER_ETABLES;
}

/* A FHIR child element of frame f (OBJECT, RESOURCE or PRIMITIVE). */
static void
xml_child_start(struct xml_reader *r, size_t fi, const struct xml_name *n,
    const char **atts)
{
	struct xml_frame	*f = &r->xr_frames[fi], *c;
	struct tables_element	 e;
	struct tables_type	 ty;
	enum xml_vkind		 kind;
	unsigned		 ce, vtype;
	char			 key[XML_KEY_MAX];
	cJSON			*obj, *into;
	int			 rc = EMBER_OK, xhtml;

	xhtml = xml_streq(n->xn_ns, n->xn_nslen, XML_XHTML_NS);
	if (!xhtml && !xml_streq(n->xn_ns, n->xn_nslen, XML_FHIR_NS)) {
		xml_reader_fail(r, EMBER_EINVAL, "element '%.*s' in %s is not "
		    "in the FHIR namespace", xml_name_len(n->xn_locallen),
		    n->xn_local, xml_context_name(r, f));
		return;
	}
	if (n->xn_locallen >= sizeof(key) ||
	    (f->xf_kind == XF_PRIMITIVE &&
	    !xml_streq(n->xn_local, n->xn_locallen, "extension"))) {
		rc = EMBER_ENOTFOUND;
	} else {
		memcpy(key, n->xn_local, n->xn_locallen);
		key[n->xn_locallen] = '\0';
		rc = xml_find_child(r->xr_t, f, key, n->xn_locallen, &ce,
		    &vtype, &e);
	}
	if (rc == EMBER_ENOTFOUND ||
	    (rc == EMBER_OK && xml_is_attribute(r->xr_t, &e))) {
		xml_reader_fail(r, EMBER_EINVAL, "unknown element '%.*s' in "
		    "%s", xml_name_len(n->xn_locallen), n->xn_local,
		    xml_context_name(r, f));
		return;
	}
	if (rc != EMBER_OK) {
		xml_reader_fail(r, rc, "tables lookup failed");
		return;
	}
	if (xml_classify(r->xr_t, &e, vtype, &kind, &ty) != EMBER_OK) {
		xml_reader_fail(r, EMBER_ETABLES, "element '%s' has no usable "
		    "type", key);
		return;
	}
	if ((kind == XML_V_XHTML) != xhtml) {
		xml_reader_fail(r, EMBER_EINVAL, xhtml ? "unknown element "
		    "'%s' in the XHTML namespace in %s" : "element '%s' in %s "
		    "must be in the XHTML namespace", key,
		    xml_context_name(r, f));
		return;
	}
	if (f->xf_kind == XF_PRIMITIVE && xml_primitive_ext(r, f) == NULL)
		return;
	if (xml_place_child(r, f, ce, &e, key, kind == XML_V_PRIMITIVE) != 0)
		return;
	into = f->xf_obj;
	switch (kind) {
	case XML_V_XHTML:
		r->xr_div_target = into;
		r->xr_div_start = (size_t)XML_GetCurrentByteIndex(r->xr_st.xs_parser);
		r->xr_div_end = 0;
		r->xr_div_raw = 1;
		r->xr_div_ndecl = 0;
		r->xr_div_tag_open = 0;
		buf_reset(&r->xr_div);
		xml_div_start(r, n, atts);
		return;
	case XML_V_PRIMITIVE:
		if ((c = xml_push(r)) == NULL)
			return;
		f = &r->xr_frames[fi];
		c->xf_kind = XF_PRIMITIVE;
		c->xf_type = vtype;
		c->xf_self = ce;
		c->xf_parent = into;
		c->xf_key[0] = '_';
		memcpy(c->xf_key + 1, key, strlen(key) + 1);
		xml_primitive_attributes(r, c, f, &ty, atts);
		return;
	case XML_V_RESOURCE:
		if (atts[0] != NULL) {
			xml_reader_fail(r, EMBER_EINVAL, "unknown attribute "
			    "'%s' on element '%s'", atts[0], key);
			return;
		}
		if ((c = xml_push(r)) == NULL)
			return;
		f = &r->xr_frames[fi];
		c->xf_kind = XF_WRAPPER;
		c->xf_self = ce;
		c->xf_parent = into;
		c->xf_target_array = f->xf_run_vals;
		memcpy(c->xf_key, key, strlen(key) + 1);
		return;
	case XML_V_COMPLEX:
	case XML_V_BACKBONE:
		if ((obj = cJSON_CreateObject()) == NULL) {
			xml_reader_fail(r, EMBER_ENOMEM, "out of memory");
			return;
		}
		if (f->xf_run_vals != NULL) {
			if (xml_append(r, f->xf_run_vals, obj) != 0)
				return;
		} else if (xml_attach(r, into, key, obj) != 0)
			return;
		if ((c = xml_push(r)) == NULL)
			return;
		c->xf_kind = XF_OBJECT;
		c->xf_self = ce;
		if (kind == XML_V_COMPLEX)
			c->xf_type = vtype;
		else
			c->xf_elem = ce;
		c->xf_obj = obj;
		memcpy(c->xf_key, key, strlen(key) + 1);
		xml_object_attributes(r, c, atts, key);
		return;
	}
}

static void XMLCALL
xml_on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml_reader	*r = ud;
	struct xml_frame	*f;
	struct xml_name		 n;
	unsigned		 type;
	cJSON			*obj;

	if (r->xr_st.xs_rc != EMBER_OK)
		return;
	if (++r->xr_depth > r->xr_max_depth) {
		xml_reader_fail(r, EMBER_EDEPTH, "elements nested deeper than "
		    "%u", r->xr_max_depth);
		return;
	}
	xml_split_name(name, &n);
	if (r->xr_div_depth > 0) {
		xml_div_start(r, &n, atts);
		goto done;
	}
	if (r->xr_nframes == 0) {
		if ((obj = xml_resource_start(r, &n, atts, 1, &type)) == NULL)
			goto done;
		r->xr_root = obj;
		if ((f = xml_push(r)) == NULL)
			goto done;
		f->xf_kind = XF_RESOURCE;
		f->xf_type = type;
		f->xf_obj = obj;
		goto done;
	}
	f = &r->xr_frames[r->xr_nframes - 1];
	if (f->xf_kind == XF_WRAPPER)
		xml_wrapped_resource(r, f, &n, atts);
	else
		xml_child_start(r, r->xr_nframes - 1, &n, atts);
done:
	r->xr_ndecl = 0;
	r->xr_decl_overflow = 0;
}

static void XMLCALL
xml_on_end(void *ud, const XML_Char *name)
{
	struct xml_reader	*r = ud;
	struct xml_frame	*f;
	struct xml_name		 n;

	if (r->xr_st.xs_rc != EMBER_OK)
		return;
	r->xr_depth--;
	if (r->xr_div_depth > 0) {
		xml_split_name(name, &n);
		xml_div_end(r, &n);
		return;
	}
	if (r->xr_nframes == 0)
		return;
	f = &r->xr_frames[r->xr_nframes - 1];
	xml_end_run(f);
	switch (f->xf_kind) {
	case XF_PRIMITIVE:
		if (!f->xf_has_value && f->xf_obj == NULL) {
			xml_reader_fail(r, EMBER_EINVAL, "element '%s' has "
			    "neither a value nor extensions", f->xf_key + 1);
			return;
		}
		break;
	case XF_WRAPPER:
		if (!f->xf_has_resource) {
			xml_reader_fail(r, EMBER_EINVAL, "element '%s' holds "
			    "no resource", f->xf_key);
			return;
		}
		break;
	default:
		break;
	}
	if (--r->xr_nframes == 0)
		r->xr_done = 1;
}

static void XMLCALL
xml_on_text(void *ud, const XML_Char *s, int len)
{
	struct xml_reader	*r = ud;
	int			 i;

	if (r->xr_st.xs_rc != EMBER_OK || len <= 0)
		return;
	if (r->xr_div_depth > 0) {
		xml_div_close_tag(r);
		xml_escape_text(&r->xr_div, s, (size_t)len, 0);
		return;
	}
	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r') {
			if (r->xr_nframes > 0)
				xml_reader_fail(r, EMBER_EINVAL, "text is not "
				    "allowed in %s", xml_context_name(r,
				    &r->xr_frames[r->xr_nframes - 1]));
			else
				xml_reader_fail(r, EMBER_EINVAL, "text outside "
				    "the resource");
			return;
		}
}

static void XMLCALL
xml_on_comment(void *ud, const XML_Char *s)
{
	struct xml_reader *r = ud;

	/* Comments are dropped, except inside the narrative. */
	if (r->xr_st.xs_rc != EMBER_OK || r->xr_div_depth == 0)
		return;
	xml_div_close_tag(r);
	buf_puts(&r->xr_div, "<!--");
	buf_puts(&r->xr_div, s);
	buf_puts(&r->xr_div, "-->");
}

static void XMLCALL
xml_on_ns_decl(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
	struct xml_reader	*r = ud;
	size_t			 len = prefix ? strlen(prefix) : 0;

	(void)uri;
	if (r->xr_ndecl == XML_DIV_PREFIXES || len >= XML_KEY_MAX) {
		r->xr_decl_overflow = 1;
		return;
	}
	memcpy(r->xr_decl[r->xr_ndecl], prefix ? prefix : "", len + 1);
	r->xr_ndecl++;
}

static void XMLCALL
xml_on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	xml_status_fail(ud, EMBER_EINVAL, "DOCTYPE declarations are not "
	    "allowed");
}

static void XMLCALL
xml_on_entity_decl(void *ud, const XML_Char *name, int is_param,
    const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	xml_status_fail(ud, EMBER_EINVAL, "entity declarations are not "
	    "allowed");
}

static int XMLCALL
xml_on_external_entity(XML_Parser p, const XML_Char *context,
    const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid)
{
	(void)p;
	(void)context;
	(void)base;
	(void)sysid;
	(void)pubid;
	return XML_STATUS_ERROR;	/* never fetch anything */
}

static void XMLCALL
xml_on_xmldecl(void *ud, const XML_Char *version, const XML_Char *encoding,
    int standalone)
{
	(void)version;
	(void)standalone;
	if (encoding != NULL && strcasecmp(encoding, "UTF-8") != 0)
		xml_status_fail(ud, EMBER_EINVAL, "encoding '%.40s' is not "
		    "supported: use UTF-8", encoding);
}

/* Reject invalid UTF-8 and NUL before expat sees the text. */
static int
xml_check_utf8(const char *s, size_t len, char *err, size_t errsz)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned long		 cp;
	size_t			 i = 0, n;

	while (i < len) {
		if (p[i] == 0) {
			if (err != NULL && errsz > 0)
				snprintf(err, errsz, "NUL byte at byte %zu", i);
			return EMBER_EINVAL;
		}
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = buf_utf8_decode(p + i, len - i, &cp)) == 0) {
			if (err != NULL && errsz > 0)
				snprintf(err, errsz, "invalid UTF-8 at byte "
				    "%zu", i);
			return EMBER_EINVAL;
		}
		i += n;
	}
	return EMBER_OK;
}

/*
 * A parser with the handlers every use here needs: no DTD, ever.  st
 * (the user data, first member of the caller's state) gets the parser.
 */
static XML_Parser
xml_parser_new(struct xml_status *st)
{
	XML_Parser p;

	if ((p = XML_ParserCreateNS("UTF-8", XML_NS_SEP)) == NULL)
		return NULL;
	st->xs_parser = p;
	XML_SetReturnNSTriplet(p, 1);
	XML_SetUserData(p, st);
	XML_SetStartDoctypeDeclHandler(p, xml_on_doctype);
	XML_SetEntityDeclHandler(p, xml_on_entity_decl);
	XML_SetExternalEntityRefHandler(p, xml_on_external_entity);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
	XML_SetXmlDeclHandler(p, xml_on_xmldecl);
	return p;
}

int
xml_to_json(const struct tables *t, const char *xml, size_t len,
    unsigned max_depth, cJSON **out, char *err, size_t errsz)
{
	struct xml_reader	r;
	enum XML_Status		st;
	int			rc;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (len == 0) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "empty body");
		return EMBER_EINVAL;
	}
	if (len > INT_MAX) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "document too large");
		return EMBER_EINVAL;
	}
	if ((rc = xml_check_utf8(xml, len, err, errsz)) != EMBER_OK)
		return rc;
	memset(&r, 0, sizeof(r));
	r.xr_t = t;
	r.xr_doc = xml;
	r.xr_doclen = len;
	r.xr_max_depth = max_depth;
	r.xr_st.xs_err = err;
	r.xr_st.xs_errsz = errsz;
	if (xml_parser_new(&r.xr_st) == NULL)
		return EMBER_ENOMEM;
	/* The shared handlers report through a struct xml_reader. */
	XML_SetElementHandler(r.xr_st.xs_parser, xml_on_start, xml_on_end);
	XML_SetCharacterDataHandler(r.xr_st.xs_parser, xml_on_text);
	XML_SetCommentHandler(r.xr_st.xs_parser, xml_on_comment);
	XML_SetStartNamespaceDeclHandler(r.xr_st.xs_parser, xml_on_ns_decl);
	st = XML_Parse(r.xr_st.xs_parser, xml, (int)len, 1);
	if (r.xr_st.xs_rc == EMBER_OK && st != XML_STATUS_OK) {
		r.xr_st.xs_rc = EMBER_EINVAL;
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "XML not well-formed: %s "
			    "(line %lu, column %lu)",
			    XML_ErrorString(XML_GetErrorCode(r.xr_st.xs_parser)),
			    (unsigned long)XML_GetCurrentLineNumber(
			    r.xr_st.xs_parser),
			    (unsigned long)XML_GetCurrentColumnNumber(
			    r.xr_st.xs_parser) + 1);
	}
	if (r.xr_st.xs_rc == EMBER_OK && (!r.xr_done || r.xr_root == NULL)) {
		r.xr_st.xs_rc = EMBER_EINVAL;
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "no resource in the document");
	}
	rc = r.xr_st.xs_rc;
	XML_ParserFree(r.xr_st.xs_parser);
	free(r.xr_frames);
	buf_free(&r.xr_div);
	if (rc != EMBER_OK) {
		cJSON_Delete(r.xr_root);
		return rc;
	}
	*out = r.xr_root;
	return EMBER_OK;
}

/* ---- The narrative check (writer and xml_xhtml_check) --------------- */

struct xml_xhtml {
	struct xml_status	 xx_st;		/* first: see xml_status */
	unsigned		 xx_depth;
	int			 xx_root_seen;
	int			 xx_root_ns;	/* the div has a namespace */
	size_t			 xx_root_start;
	size_t			 xx_root_end;
};

static void XMLCALL
xml_xhtml_on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml_xhtml	*x = ud;
	struct xml_name		 n;
	XML_Index		 at;

	(void)atts;
	if (x->xx_st.xs_rc != EMBER_OK)
		return;
	xml_split_name(name, &n);
	if (x->xx_depth++ == 0) {
		if (!xml_streq(n.xn_local, n.xn_locallen, "div") ||
		    (n.xn_nslen != 0 &&
		    !xml_streq(n.xn_ns, n.xn_nslen, XML_XHTML_NS))) {
			xml_status_fail(&x->xx_st, EMBER_EINVAL, "the narrative "
			    "must be an XHTML div, not '%.*s'",
			    xml_name_len(n.xn_locallen), n.xn_local);
			return;
		}
		at = XML_GetCurrentByteIndex(x->xx_st.xs_parser);
		x->xx_root_seen = 1;
		x->xx_root_ns = n.xn_nslen != 0;
		x->xx_root_start = at > 0 ? (size_t)at : 0;
		return;
	}
	/* Unprefixed children of a div without namespace become XHTML. */
	if (n.xn_nslen == 0 ? x->xx_root_ns :
	    !xml_streq(n.xn_ns, n.xn_nslen, XML_XHTML_NS))
		xml_status_fail(&x->xx_st, EMBER_EINVAL, "element '%.*s' in "
		    "the narrative is not XHTML",
		    xml_name_len(n.xn_locallen), n.xn_local);
}

static void XMLCALL
xml_xhtml_on_end(void *ud, const XML_Char *name)
{
	struct xml_xhtml	*x = ud;
	XML_Index		 at;
	int			 count;

	(void)name;
	if (x->xx_st.xs_rc != EMBER_OK || x->xx_depth == 0)
		return;
	if (--x->xx_depth == 0) {
		at = XML_GetCurrentByteIndex(x->xx_st.xs_parser);
		count = XML_GetCurrentByteCount(x->xx_st.xs_parser);
		if (at >= 0 && count >= 0)
			x->xx_root_end = (size_t)at + (size_t)count;
	}
}

/*
 * xmlns="" would take the elements under it out of the XHTML namespace
 * once the div is pasted with its namespace declared.
 */
static void XMLCALL
xml_xhtml_on_ns_decl(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
	struct xml_xhtml *x = ud;

	if (prefix == NULL && (uri == NULL || uri[0] == '\0'))
		xml_status_fail(&x->xx_st, EMBER_EINVAL, "the narrative may "
		    "not undeclare the default namespace (xmlns=\"\")");
}

/* Comments and processing instructions only inside the div. */
static void XMLCALL
xml_xhtml_on_comment(void *ud, const XML_Char *s)
{
	struct xml_xhtml *x = ud;

	(void)s;
	if (x->xx_depth == 0)
		xml_status_fail(&x->xx_st, EMBER_EINVAL, "the narrative must "
		    "be one div element, with nothing around it");
}

static void XMLCALL
xml_xhtml_on_pi(void *ud, const XML_Char *target, const XML_Char *data)
{
	(void)data;
	xml_xhtml_on_comment(ud, target);
}

static void XMLCALL
xml_xhtml_on_xmldecl(void *ud, const XML_Char *version,
    const XML_Char *encoding, int standalone)
{
	(void)version;
	(void)encoding;
	(void)standalone;
	xml_status_fail(ud, EMBER_EINVAL, "an XML declaration is not "
	    "allowed in the narrative");
}

/*
 * Where the markup that opens at div[i] ends, for the three whose
 * content is not parsed for references (a comment, a processing
 * instruction, a CDATA section): the index of its last byte, or len - 1
 * when it is not closed (expat refuses that later).  i itself when
 * div[i] opens none of them.
 */
static size_t
xml_div_skip_literal(const char *div, size_t len, size_t i)
{
	static const struct {
		const char	*open, *close;
	} lit[] = {
		{ "<!--", "-->" }, { "<?", "?>" }, { "<![CDATA[", "]]>" },
	};
	const char	*end;
	size_t		 k, o, c;

	for (k = 0; k < sizeof(lit) / sizeof(lit[0]); k++) {
		o = strlen(lit[k].open);
		c = strlen(lit[k].close);
		if (len - i < o || memcmp(div + i, lit[k].open, o) != 0)
			continue;
		end = memmem(div + i + o, len - i - o, lit[k].close, c);
		return end == NULL ? len - 1 : (size_t)(end - div) + c - 1;
	}
	return i;
}

/*
 * Rewrite the HTML named entities of div[0..len) (all but XML's five)
 * as character references into tmp.  *out and *outlen are the text to
 * use: div itself when nothing needed rewriting.  Inside comments,
 * processing instructions and CDATA sections `&name;` is text, not a
 * reference, and is left alone.
 */
static int
xml_div_translate(const char *div, size_t len, struct buf *tmp,
    const char **out, size_t *outlen)
{
	size_t		 i, j, run = 0;
	unsigned	 code;
	int		 changed = 0;

	buf_reset(tmp);
	for (i = 0; i < len; i++) {
		if (div[i] == '<') {
			i = xml_div_skip_literal(div, len, i);
			continue;
		}
		if (div[i] != '&')
			continue;
		for (j = i + 1; j < len && j - i <= 10 &&
		    ((div[j] >= 'a' && div[j] <= 'z') ||
		    (div[j] >= 'A' && div[j] <= 'Z') ||
		    (div[j] >= '0' && div[j] <= '9')); j++)
			;
		if (j >= len || div[j] != ';' || j == i + 1)
			continue;
		if ((j - i - 1 == 2 && (memcmp(div + i + 1, "lt", 2) == 0 ||
		    memcmp(div + i + 1, "gt", 2) == 0)) ||
		    (j - i - 1 == 3 && memcmp(div + i + 1, "amp", 3) == 0) ||
		    (j - i - 1 == 4 && (memcmp(div + i + 1, "quot", 4) == 0 ||
		    memcmp(div + i + 1, "apos", 4) == 0)))
			continue;
		if ((code = xml_entity_code(div + i + 1, j - i - 1)) == 0)
			continue;	/* expat will name it */
		buf_append(tmp, div + run, i - run);
		buf_printf(tmp, "&#%u;", code);
		run = j + 1;
		changed = 1;
	}
	if (!changed) {
		*out = div;
		*outlen = len;
		return EMBER_OK;
	}
	buf_append(tmp, div + run, len - run);
	if (buf_error(tmp) != EMBER_OK)
		return EMBER_ENOMEM;
	*out = tmp->data;
	*outlen = tmp->len;
	return EMBER_OK;
}

/*
 * Check text[0..len) (entities already translated) as a narrative div;
 * on success the div element spans [*start, *end) and *has_ns tells
 * whether it names its namespace.
 */
static int
xml_xhtml_scan(const char *text, size_t len, int *has_ns, size_t *start,
    size_t *end, char *err, size_t errsz)
{
	struct xml_xhtml	x;
	enum XML_Status		st;
	int			rc;

	if (len > INT_MAX) {
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "narrative too large");
		return EMBER_EINVAL;
	}
	if ((rc = xml_check_utf8(text, len, err, errsz)) != EMBER_OK)
		return rc;
	memset(&x, 0, sizeof(x));
	x.xx_st.xs_err = err;
	x.xx_st.xs_errsz = errsz;
	if (xml_parser_new(&x.xx_st) == NULL)
		return EMBER_ENOMEM;
	XML_SetElementHandler(x.xx_st.xs_parser, xml_xhtml_on_start,
	    xml_xhtml_on_end);
	XML_SetCommentHandler(x.xx_st.xs_parser, xml_xhtml_on_comment);
	XML_SetProcessingInstructionHandler(x.xx_st.xs_parser,
	    xml_xhtml_on_pi);
	XML_SetXmlDeclHandler(x.xx_st.xs_parser, xml_xhtml_on_xmldecl);
	XML_SetStartNamespaceDeclHandler(x.xx_st.xs_parser,
	    xml_xhtml_on_ns_decl);
	st = XML_Parse(x.xx_st.xs_parser, text, (int)len, 1);
	if (x.xx_st.xs_rc == EMBER_OK && st != XML_STATUS_OK) {
		x.xx_st.xs_rc = EMBER_EINVAL;
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "the narrative is not well-formed "
			    "XHTML: %s (line %lu, column %lu)",
			    XML_ErrorString(XML_GetErrorCode(
			    x.xx_st.xs_parser)),
			    (unsigned long)XML_GetCurrentLineNumber(
			    x.xx_st.xs_parser),
			    (unsigned long)XML_GetCurrentColumnNumber(
			    x.xx_st.xs_parser) + 1);
	}
	if (x.xx_st.xs_rc == EMBER_OK && (!x.xx_root_seen ||
	    x.xx_root_end <= x.xx_root_start || x.xx_root_end > len)) {
		x.xx_st.xs_rc = EMBER_EINVAL;
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "the narrative has no div");
	}
	XML_ParserFree(x.xx_st.xs_parser);
	if (x.xx_st.xs_rc != EMBER_OK)
		return x.xx_st.xs_rc;
	*has_ns = x.xx_root_ns;
	*start = x.xx_root_start;
	*end = x.xx_root_end;
	return EMBER_OK;
}

int
xml_xhtml_check(const char *div, size_t len, char *err, size_t errsz)
{
	struct buf	 tmp = BUF_INIT;
	const char	*text;
	size_t		 tlen, start, end;
	int		 rc, has_ns;

	if ((rc = xml_div_translate(div, len, &tmp, &text, &tlen)) == EMBER_OK)
		rc = xml_xhtml_scan(text, tlen, &has_ns, &start, &end, err,
		    errsz);
	buf_free(&tmp);
	return rc;
}

/* ---- Writer: JSON to XML -------------------------------------------- */

struct xml_writer {
	const struct tables	*xw_t;
	struct buf		*xw_out;	/* NULL: check only */
	int			 xw_pretty;
	char			*xw_err;
	size_t			 xw_errsz;
	unsigned		 xw_depth;
	struct buf		 xw_tmp;	/* a translated narrative */
};

static int xml_writer_fail(struct xml_writer *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
xml_writer_fail(struct xml_writer *w, int rc, const char *fmt, ...)
{
	va_list ap;

	if (w->xw_err != NULL && w->xw_errsz > 0 && w->xw_err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(w->xw_err, w->xw_errsz, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/*
 * The writer's output: nothing when it only checks, so that checking
 * and writing are one walk and cannot disagree.
 */
static void
xml_out(struct xml_writer *w, const void *p, size_t len)
{
	if (w->xw_out != NULL)
		buf_append(w->xw_out, p, len);
}

static void
xml_outs(struct xml_writer *w, const char *s)
{
	if (w->xw_out != NULL)
		buf_puts(w->xw_out, s);
}

static void
xml_outc(struct xml_writer *w, int c)
{
	if (w->xw_out != NULL)
		buf_putc(w->xw_out, c);
}

static void
xml_indent(struct xml_writer *w, unsigned level)
{
	if (!w->xw_pretty || w->xw_out == NULL)
		return;
	xml_outc(w, '\n');
	while (level-- > 0)
		xml_out(w, "  ", 2);
}

/*
 * Append s as attribute value text: XML's specials and the three
 * whitespace characters escaped (attribute value normalization would
 * turn a raw newline into a space), every character checked to be one
 * XML can carry.
 */
static int
xml_put_attr(struct xml_writer *w, const char *s, const char *key)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, run = 0, n, len = strlen(s);
	unsigned long		 cp;
	const char		*rep;

	for (;;) {
		/* Printable ASCII that needs no escape: most bytes. */
		if (len - i >= 16)
			i += buf_ascii_span(s + i, len - i, "<>&\"");
		while (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '<' &&
		    p[i] != '>' && p[i] != '&' && p[i] != '"')
			i++;
		if (p[i] == '\0')
			break;
		switch (p[i]) {
		case '<': rep = "&lt;"; n = 1; break;
		case '>': rep = "&gt;"; n = 1; break;
		case '&': rep = "&amp;"; n = 1; break;
		case '"': rep = "&quot;"; n = 1; break;
		case '\t': rep = "&#9;"; n = 1; break;
		case '\n': rep = "&#10;"; n = 1; break;
		case '\r': rep = "&#13;"; n = 1; break;
		default:
			rep = NULL;
			if ((n = buf_utf8_decode(p + i, 4, &cp)) == 0 ||
			    !xml_is_char(cp))
				return xml_writer_fail(w, EMBER_EINVAL, "'%s': "
				    "a character XML cannot carry at byte %zu",
				    key, i);
			break;
		}
		if (rep != NULL) {
			xml_out(w, s + run, i - run);
			xml_outs(w, rep);
			run = i + n;
		}
		i += n;
	}
	xml_out(w, s + run, i - run);
	return EMBER_OK;
}

static int
xml_put_name_attr(struct xml_writer *w, const char *name, const char *value,
    const char *key)
{
	xml_outc(w, ' ');
	xml_outs(w, name);
	xml_outs(w, "=\"");
	if (xml_put_attr(w, value, key) != EMBER_OK)
		return EMBER_EINVAL;
	xml_outc(w, '"');
	return EMBER_OK;
}

/* DSTU2 `fhir_comments` (JSON's form of XML comments) as comments. */
static int
xml_put_comments(struct xml_writer *w, const cJSON *list, unsigned level)
{
	const cJSON		*c;
	const unsigned char	*p;
	unsigned long		 cp;
	size_t			 i, n;

	if (!cJSON_IsArray(list))
		return xml_writer_fail(w, EMBER_EINVAL, "'fhir_comments' must "
		    "be an array of strings");
	for (c = list->child; c != NULL; c = c->next) {
		if (!cJSON_IsString(c))
			return xml_writer_fail(w, EMBER_EINVAL, "'fhir_comments' "
			    "must be an array of strings");
		xml_indent(w, level);
		xml_outs(w, "<!--");
		p = (const unsigned char *)c->valuestring;
		for (i = 0; p[i] != '\0'; i += n) {
			if ((n = buf_utf8_decode(p + i, 4, &cp)) == 0 ||
			    !xml_is_char(cp))
				return xml_writer_fail(w, EMBER_EINVAL,
				    "'fhir_comments': a character XML cannot "
				    "carry");
			xml_out(w, p + i, n);
			/* "--" may not occur in a comment, nor end it. */
			if (p[i] == '-' && (p[i + 1] == '-' || p[i + 1] == '\0'))
				xml_outc(w, ' ');
		}
		xml_outs(w, "-->");
	}
	return EMBER_OK;
}

/*
 * Write the text of JSON number v, of primitive type ty: its original
 * text when it has one (as json_write() does), which must have the form
 * the reader accepts, an integer for the integer types.
 */
static int
xml_put_number(struct xml_writer *w, const cJSON *v,
    const struct tables_type *ty, const char *key)
{
	char		 num[32];
	const char	*text = num;

	if (v->valuestring != NULL)
		text = v->valuestring;
	else if (!isfinite(v->valuedouble))
		num[0] = '\0';
	else if (v->valuedouble == (double)(long long)v->valuedouble &&
	    fabs(v->valuedouble) < 1e15)
		snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
	else
		snprintf(num, sizeof(num), "%.17g", v->valuedouble);
	if (!xml_number_ok(text, strlen(text),
	    !xml_streq(ty->name, ty->name_len, "decimal")) ||
	    !xml_number_range_ok(ty, v->valuedouble))
		return xml_writer_fail(w, EMBER_EINVAL, "'%s': %.40s is not a "
		    "valid %s", key, text, ty->name);
	xml_outs(w, text);
	return EMBER_OK;
}

/*
 * The members of the object being written, as xml_take() hands them out:
 * which are used, and how many (and how many "_name" ones) are left, so
 * that a walk stops looking once every member has found its element.
 */
struct xml_members {
	const cJSON	*xm_obj;
	unsigned char	*xm_used;	/* per member, in order */
	size_t		 xm_left;	/* members not yet used */
	size_t		 xm_under;	/* ... of them, keys "_name" */
	uint64_t	 xm_names;	/* xml_name_bit() of every key */
	int		 xm_attrs;	/* a key that may be an attribute */
};

/*
 * A bit for name[0..len) (a key without its '_'): an element whose bit
 * is not among the keys' has no member, and its lookups are skipped.
 */
static uint64_t
xml_name_bit(const char *name, size_t len)
{
	return (uint64_t)1 << (((unsigned char)name[0] * 31u + len) & 63);
}

/* Find member key of the object that is not yet used; marks it used. */
static const cJSON *
xml_take(struct xml_members *m, const char *key)
{
	const cJSON	*c;
	size_t		 i;

	if (m->xm_left == 0 || (key[0] == '_' && m->xm_under == 0))
		return NULL;
	for (c = m->xm_obj->child, i = 0; c != NULL; c = c->next, i++)
		if (!m->xm_used[i] && c->string != NULL &&
		    c->string[0] == key[0] && strcmp(c->string, key) == 0) {
			m->xm_used[i] = 1;
			m->xm_left--;
			if (key[0] == '_')
				m->xm_under--;
			return c;
		}
	return NULL;
}

/*
 * The type of choice element e whose JSON key ends in suffix
 * ("Quantity" in valueQuantity), or NONE.
 */
static unsigned
xml_choice_type(const struct tables *t, const struct tables_element *e,
    const char *suffix)
{
	size_t		 len = strlen(suffix);
	const char	*s;
	unsigned	 i, ty;

	if (len == 0)
		return TABLES_NONE;
	for (i = 0; i < e->type_count; i++) {
		ty = tables_element_type(t, e, i);
		if ((s = tables_type_name(t, ty)) == NULL ||
		    strlen(s) != len)
			continue;
		if ((unsigned char)suffix[0] == (s[0] >= 'a' && s[0] <= 'z' ?
		    (unsigned char)(s[0] - 'a' + 'A') : (unsigned char)s[0]) &&
		    memcmp(suffix + 1, s + 1, len - 1) == 0)
			return ty;
	}
	return TABLES_NONE;
}

static int xml_write_object(struct xml_writer *, const char *, unsigned,
    unsigned, const cJSON *, unsigned, int);
static int xml_write_resource(struct xml_writer *, const cJSON *, unsigned,
    int, unsigned);

#define XML_W_RESOURCE	0x01	/* the object is a resource */
#define XML_W_ROOT	0x02	/* ... the document element */

/* One primitive element from its JSON value v and `_name` object x. */
static int
xml_write_primitive(struct xml_writer *w, const char *key,
    const struct tables_type *ty, const cJSON *v, const cJSON *x,
    unsigned level)
{
	const cJSON	*c, *id = NULL, *ext = NULL;
	int		 rc;

	if (x != NULL) {
		if (!cJSON_IsObject(x))
			return xml_writer_fail(w, EMBER_EINVAL, "'_%s' must be "
			    "an object", key);
		for (c = x->child; c != NULL; c = c->next) {
			if (c->string == NULL)
				return xml_writer_fail(w, EMBER_EINVAL, "'_%s' "
				    "is not an object", key);
			if (strcmp(c->string, "id") == 0 && cJSON_IsString(c))
				id = c;
			else if (strcmp(c->string, "extension") == 0 &&
			    cJSON_IsArray(c))
				ext = c;
			else if (strcmp(c->string, "fhir_comments") == 0) {
				if ((rc = xml_put_comments(w, c, level)))
					return rc;
			} else
				return xml_writer_fail(w, EMBER_EINVAL,
				    "unknown or malformed key '%s' in '_%s'",
				    c->string, key);
		}
	}
	if (v == NULL && id == NULL && (ext == NULL || ext->child == NULL))
		return xml_writer_fail(w, EMBER_EINVAL, "'%s' has neither a "
		    "value nor an id or extensions", key);
	xml_indent(w, level);
	xml_outc(w, '<');
	xml_outs(w, key);
	if (id != NULL && xml_put_name_attr(w, "id", id->valuestring, key))
		return EMBER_EINVAL;
	if (v != NULL) {
		switch (ty->jsonkind) {
		case TABLES_JSON_BOOL:
			if (!cJSON_IsBool(v))
				goto kind;
			xml_outs(w, cJSON_IsTrue(v) ?
			    " value=\"true\"" : " value=\"false\"");
			break;
		case TABLES_JSON_NUMBER:
			if (!cJSON_IsNumber(v))
				goto kind;
			xml_outs(w, " value=\"");
			if (xml_put_number(w, v, ty, key) != EMBER_OK)
				return EMBER_EINVAL;
			xml_outc(w, '"');
			break;
		default:
			if (!cJSON_IsString(v))
				goto kind;
			if (xml_put_name_attr(w, "value", v->valuestring, key))
				return EMBER_EINVAL;
			break;
		}
	}
	if (ext == NULL || ext->child == NULL) {
		xml_outs(w, "/>");
		return EMBER_OK;
	}
	xml_outc(w, '>');
	for (c = ext->child; c != NULL; c = c->next) {
		unsigned et;

		if (!cJSON_IsObject(c))
			return xml_writer_fail(w, EMBER_EINVAL, "'_%s': an "
			    "extension must be an object", key);
		if (tables_type_lookup(w->xw_t, "Extension", 9, &et) !=
		    EMBER_OK)
			return EMBER_ETABLES;
		if ((rc = xml_write_object(w, "extension", et, TABLES_NONE, c,
		    level + 1, 0)))
			return rc;
	}
	xml_indent(w, level);
	xml_outs(w, "</");
	xml_outs(w, key);
	xml_outc(w, '>');
	return EMBER_OK;
kind:
	return xml_writer_fail(w, EMBER_EINVAL, "'%s' must be a JSON %s", key,
	    ty->jsonkind == TABLES_JSON_BOOL ? "boolean" :
	    ty->jsonkind == TABLES_JSON_NUMBER ? "number" : "string");
}

/* The narrative: checked, entities translated, namespace declared. */
static int
xml_write_div(struct xml_writer *w, const cJSON *v, unsigned level)
{
	const char	*text;
	size_t		 len, start, end;
	int		 rc, has_ns;
	char		 why[160];

	if (!cJSON_IsString(v))
		return xml_writer_fail(w, EMBER_EINVAL, "'div' must be a "
		    "string");
	if ((rc = xml_div_translate(v->valuestring, strlen(v->valuestring),
	    &w->xw_tmp, &text, &len)) != EMBER_OK)
		return rc;
	why[0] = '\0';
	if ((rc = xml_xhtml_scan(text, len, &has_ns, &start, &end, why,
	    sizeof(why))) != EMBER_OK)
		return xml_writer_fail(w, rc, "'div': %s", why);
	xml_indent(w, level);
	if (has_ns)
		xml_out(w, text + start, end - start);
	else {
		/* The div element has no prefix here: it starts "<div". */
		xml_outs(w, "<div xmlns=\"" XML_XHTML_NS "\"");
		xml_out(w, text + start + 4, end - start - 4);
	}
	return EMBER_OK;
}

/* One value (not an array) of element e, of kind `kind`. */
static int
xml_write_value(struct xml_writer *w, const struct tables_element *e,
    unsigned ei, unsigned vtype, enum xml_vkind kind,
    const struct tables_type *ty, const char *key, const cJSON *v,
    const cJSON *x, unsigned level)
{
	int rc;

	if (v != NULL && cJSON_IsNull(v))
		v = NULL;
	if (kind == XML_V_PRIMITIVE) {
		if (v == NULL && x == NULL)
			return xml_writer_fail(w, EMBER_EINVAL, "'%s': null "
			    "without '_%s'", key, key);
		return xml_write_primitive(w, key, ty, v, x, level);
	}
	if (v == NULL || cJSON_IsArray(v))
		return xml_writer_fail(w, EMBER_EINVAL, "'%s' must be %s", key,
		    kind == XML_V_XHTML ? "a string" : "an object");
	switch (kind) {
	case XML_V_XHTML:
		return xml_write_div(w, v, level);
	case XML_V_RESOURCE:
		if (!cJSON_IsObject(v))
			return xml_writer_fail(w, EMBER_EINVAL, "'%s' must be "
			    "a resource object", key);
		xml_indent(w, level);
		xml_outc(w, '<');
		xml_outs(w, key);
		xml_outc(w, '>');
		if ((rc = xml_write_resource(w, v, level + 1, 0,
		    tables_element_type(w->xw_t, e, 0))))
			return rc;
		xml_indent(w, level);
		xml_outs(w, "</");
		xml_outs(w, key);
		xml_outc(w, '>');
		return EMBER_OK;
	case XML_V_COMPLEX:
	case XML_V_BACKBONE:
		if (!cJSON_IsObject(v))
			return xml_writer_fail(w, EMBER_EINVAL, "'%s' must be "
			    "an object", key);
		if (kind == XML_V_COMPLEX)
			return xml_write_object(w, key, vtype, TABLES_NONE, v,
			    level, 0);
		return xml_write_object(w, key, TABLES_NONE, ei, v, level, 0);
	default:
		return EMBER_EINTERNAL;
	}
}

/*
 * Element e (index ei, value type vtype) from its JSON members: v under
 * key and x under "_" key (either may be NULL); one XML element per
 * item when the element repeats.
 */
static int
xml_write_element(struct xml_writer *w, const struct tables_element *e,
    unsigned ei, unsigned vtype, const char *key, const cJSON *v,
    const cJSON *x, unsigned level)
{
	struct tables_type	 ty;
	enum xml_vkind		 kind;
	const cJSON		*vi, *xi;
	int			 nv, nx, rc;

	if (xml_classify(w->xw_t, e, vtype, &kind, &ty) != EMBER_OK)
		return xml_writer_fail(w, EMBER_ETABLES, "'%s': no usable type "
		    "in the tables", key);
	if (x != NULL && kind != XML_V_PRIMITIVE)
		return xml_writer_fail(w, EMBER_EINVAL, "unknown key '_%s'",
		    key);
	if (!xml_repeats(e)) {
		if ((v != NULL && cJSON_IsArray(v)) ||
		    (x != NULL && cJSON_IsArray(x)))
			return xml_writer_fail(w, EMBER_EINVAL, "'%s' must not "
			    "be an array", key);
		return xml_write_value(w, e, ei, vtype, kind, &ty, key, v, x,
		    level);
	}
	if ((v != NULL && !cJSON_IsArray(v)) ||
	    (x != NULL && !cJSON_IsArray(x)))
		return xml_writer_fail(w, EMBER_EINVAL, "'%s' must be an "
		    "array", key);
	nv = v ? cJSON_GetArraySize(v) : 0;
	nx = x ? cJSON_GetArraySize(x) : 0;
	if (v != NULL && x != NULL && nv != nx)
		return xml_writer_fail(w, EMBER_EINVAL, "'%s' and '_%s' differ "
		    "in length", key, key);
	vi = v ? v->child : NULL;
	xi = x ? x->child : NULL;
	while (vi != NULL || xi != NULL) {
		if ((rc = xml_write_value(w, e, ei, vtype, kind, &ty, key, vi,
		    xi != NULL && !cJSON_IsNull(xi) ? xi : NULL, level)))
			return rc;
		vi = vi ? vi->next : NULL;
		xi = xi ? xi->next : NULL;
	}
	return EMBER_OK;
}

/* A printable name for a context, for messages. */
static const char *
xml_writer_where(const struct xml_writer *w, unsigned type, unsigned elem)
{
	struct tables_element	 e;
	const char		*name;

	if (elem != TABLES_NONE &&
	    tables_element_get(w->xw_t, elem, &e) == EMBER_OK)
		return e.path;
	if ((name = tables_type_name(w->xw_t, type)) != NULL)
		return name;
	return "?";
}

/*
 * Write the element `name` for JSON object obj whose children come from
 * the context (type, elem): attributes first, then the child elements
 * in definition order.  Every member of obj must be written.
 */
static int
xml_write_object(struct xml_writer *w, const char *name, unsigned type,
    unsigned elem, const cJSON *obj, unsigned level, int flags)
{
	struct tables_element	 e;
	struct xml_members	 m;
	unsigned char		 small[64];
	const cJSON		*c, *v, *x;
	const char		*base;
	char			 key[XML_KEY_MAX + 2];
	unsigned		 ei, vt, first;
	size_t			 n, i, mark;
	int			 rc, found;

	memset(&m, 0, sizeof(m));
	m.xm_obj = obj;
	m.xm_used = small;
	if (++w->xw_depth > XML_WRITE_DEPTH_MAX) {
		rc = xml_writer_fail(w, EMBER_EDEPTH, "'%s': nested too "
		    "deeply", name);
		goto out;
	}
	/*
	 * Attributes are named id or url, and a resource's own elements
	 * have none (its id is an element, and only Extension has a url
	 * attribute): without such a key, the attribute walk is skipped.
	 */
	for (c = obj->child, n = 0; c != NULL; c = c->next, n++) {
		if (c->string == NULL)
			continue;
		base = c->string;
		if (base[0] == '_') {
			m.xm_under++;
			base++;
		}
		m.xm_names |= xml_name_bit(base, strlen(base));
		if ((!(flags & XML_W_RESOURCE) &&
		    strcmp(c->string, "id") == 0) ||
		    strcmp(c->string, "url") == 0)
			m.xm_attrs = 1;
	}
	m.xm_left = n;
	if (n > sizeof(small) && (m.xm_used = calloc(n, 1)) == NULL) {
		rc = EMBER_ENOMEM;
		m.xm_used = small;
		goto out;
	}
	if (m.xm_used == small)
		memset(small, 0, sizeof(small));
	if ((rc = xml_context_first(w->xw_t, type, elem, &first)) != EMBER_OK)
		goto out;
	if ((flags & XML_W_RESOURCE) && xml_take(&m, "resourceType") == NULL) {
		rc = EMBER_EINTERNAL;
		goto out;
	}
	if ((c = xml_take(&m, "fhir_comments")) != NULL &&
	    (rc = xml_put_comments(w, c, level)))
		goto out;
	xml_indent(w, level);
	xml_outc(w, '<');
	xml_outs(w, name);
	if (flags & XML_W_ROOT)
		xml_outs(w, " xmlns=\"" XML_FHIR_NS "\"");
	for (ei = m.xm_attrs ? first : TABLES_NONE; ei != TABLES_NONE;
	    ei = e.next_sibling) {
		if (tables_element_get(w->xw_t, ei, &e) != EMBER_OK) {
			rc = EMBER_ETABLES;
			goto out;
		}
		if (!xml_is_attribute(w->xw_t, &e) ||
		    (v = xml_take(&m, e.name)) == NULL)
			continue;
		if (!cJSON_IsString(v)) {
			rc = xml_writer_fail(w, EMBER_EINVAL, "'%s' in %s must "
			    "be a string", e.name, name);
			goto out;
		}
		if ((rc = xml_put_name_attr(w, e.name, v->valuestring, e.name)))
			goto out;
	}
	xml_outc(w, '>');
	mark = w->xw_out != NULL ? w->xw_out->len : 0;
	/* Once every member is used, the elements left have no value. */
	for (ei = first; ei != TABLES_NONE && m.xm_left > 0;
	    ei = e.next_sibling) {
		if (tables_element_get(w->xw_t, ei, &e) != EMBER_OK) {
			rc = EMBER_ETABLES;
			goto out;
		}
		if (xml_is_attribute(w->xw_t, &e) || e.name_len > XML_KEY_MAX)
			continue;
		if (!(e.flags & TABLES_ELEMENT_CHOICE)) {
			if (!(m.xm_names & xml_name_bit(e.name, e.name_len)))
				continue;
			key[0] = '_';
			memcpy(key + 1, e.name, e.name_len + 1);
			v = xml_take(&m, key + 1);
			x = xml_take(&m, key);
			if (v == NULL && x == NULL)
				continue;
			vt = e.type_count == 1 ?
			    tables_element_type(w->xw_t, &e, 0) : TABLES_NONE;
			if ((rc = xml_write_element(w, &e, ei, vt, key + 1, v,
			    x, level + 1)))
				goto out;
			continue;
		}
	/* valueQuantity, _valueString...: at most one type. */
		found = 0;
		for (c = obj->child, i = 0; c != NULL; c = c->next, i++) {
			if (m.xm_used[i] || c->string == NULL)
				continue;
			base = c->string[0] == '_' ? c->string + 1 : c->string;
			if (base[0] != e.name[0] ||
			    strncmp(base, e.name, e.name_len) != 0 ||
			    strlen(base) > XML_KEY_MAX ||
			    (vt = xml_choice_type(w->xw_t, &e,
			    base + e.name_len)) == TABLES_NONE)
				continue;
			if (found++) {
				rc = xml_writer_fail(w, EMBER_EINVAL, "'%s': "
				    "more than one value for %s[x]",
				    c->string, e.name);
				goto out;
			}
			key[0] = '_';
			memcpy(key + 1, base, strlen(base) + 1);
			v = xml_take(&m, key + 1);
			x = xml_take(&m, key);
			if ((rc = xml_write_element(w, &e, ei, vt, key + 1, v,
			    x, level + 1)))
				goto out;
		}
	}
	for (c = obj->child, i = 0; c != NULL; c = c->next, i++)
		if (!m.xm_used[i]) {
			rc = xml_writer_fail(w, EMBER_EINVAL, "unknown key '%s' "
			    "in %s", c->string ? c->string : "?",
			    xml_writer_where(w, type, elem));
			goto out;
		}
	if (w->xw_out == NULL)
		rc = EMBER_OK;
	else {
		if (w->xw_out->len == mark && w->xw_out->data != NULL) {
			/* No child elements: <name .../>. */
			w->xw_out->len--;
			xml_outs(w, "/>");
		} else {
			xml_indent(w, level);
			xml_outs(w, "</");
			xml_outs(w, name);
			xml_outc(w, '>');
		}
		rc = buf_error(w->xw_out);
	}
out:
	if (m.xm_used != small)
		free(m.xm_used);
	w->xw_depth--;
	return rc;
}

/*
 * Write a resource object; want, unless NONE, is the type the element
 * holding it allows (Resource, DomainResource or a resource type).
 */
static int
xml_write_resource(struct xml_writer *w, const cJSON *obj, unsigned level,
    int root, unsigned want)
{
	const cJSON	*rt = json_get(obj, "resourceType");
	unsigned	 ri, type;

	if (!cJSON_IsString(rt) || tables_resource_lookup(w->xw_t,
	    rt->valuestring, strlen(rt->valuestring), &ri) != EMBER_OK)
		return xml_writer_fail(w, EMBER_EINVAL, "%s resourceType",
		    cJSON_IsString(rt) ? "unknown" : "missing");
	type = tables_resource_type(w->xw_t, ri);
	if (want != TABLES_NONE && !tables_type_derives(w->xw_t, type, want))
		return xml_writer_fail(w, EMBER_EINVAL, "a %s is not allowed "
		    "here", rt->valuestring);
	return xml_write_object(w, rt->valuestring, type, TABLES_NONE, obj,
	    level, XML_W_RESOURCE | (root ? XML_W_ROOT : 0));
}

int
xml_from_json_err(const struct tables *t, const cJSON *resource,
    int pretty, struct buf *out, char *err, size_t errsz)
{
	struct xml_writer	w;
	size_t			mark = out != NULL ? out->len : 0;
	int			rc;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	memset(&w, 0, sizeof(w));
	w.xw_t = t;
	w.xw_out = out;
	w.xw_pretty = pretty;
	w.xw_err = err;
	w.xw_errsz = errsz;
	if (!cJSON_IsObject(resource))
		rc = xml_writer_fail(&w, EMBER_EINVAL, "not a JSON object");
	else {
		xml_outs(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
		rc = xml_write_resource(&w, resource, 0, 1, TABLES_NONE);
		if (rc == EMBER_OK && pretty)
			xml_outc(&w, '\n');
		if (rc == EMBER_OK && out != NULL)
			rc = buf_error(out);
	}
	buf_free(&w.xw_tmp);
	if (rc != EMBER_OK && out != NULL && out->data != NULL &&
	    out->len >= mark) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	return rc;
}

int
xml_from_json(const struct tables *t, const cJSON *resource, int pretty,
    struct buf *out)
{
	return xml_from_json_err(t, resource, pretty, out, NULL, 0);
}
