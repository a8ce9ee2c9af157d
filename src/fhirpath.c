/*
 * fhirpath.c: compiler and evaluator of the FHIRPath subset used by
 * search-parameter expressions (see fhirpath.h for the subset and the
 * program format, and the FHIRPath specification, N1, for semantics).
 *
 * The compiler has three stages: a lexer and a recursive-descent
 * parser that build an array-based syntax tree; a typing pass that
 * walks the tree against the type model of a struct tables, resolving
 * every member to an element (choice elements included) and emitting
 * nodes; and a serializer that writes the self-contained program.
 * Typing at build time is what lets `value.as(Quantity)` become the
 * JSON key `valueQuantity` and what makes an unknown path a build
 * error instead of a parameter that silently never matches.
 *
 * The evaluator works on collections (arrays of items).  Each item is
 * a cJSON node with its FHIR type and element, or a computed boolean,
 * string or number.  Collections are allocated per evaluation and
 * freed before it returns.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "fhirpath.h"
#include "json.h"
#include "tables.h"

#define NONE			TABLES_NONE
#define FP_HEADER_SIZE		12u
#define FP_NODE_SIZE		24u
#define FP_MAX_NODES		65535u
#define FP_MAX_DEPTH		1000u	/* evaluation recursion */
#define FP_MAX_PARSE_DEPTH	1000u	/* ten per parenthesis */
#define FP_EVAL_BUDGET		50000000ul

/*
 * Ops.  Fields: in = input node (NONE: the focus); for the others see
 * fp_opinfo.  Strings are (a = offset, b = length); c is a type index;
 * d an element index.
 */
enum fp_op {
	FP_THIS = 1,		/* the focus */
	FP_ROOT,		/* %resource */
	FP_MEMBER,		/* key (a,b), type c, element d */
	FP_CHOICE,		/* choice prefix (a,b), element d */
	FP_MEMBER_DYN,		/* member (a,b) typed per item at run time */
	FP_OFTYPE,		/* keep items of type c (ofType, as) */
	FP_IS,			/* is c: boolean */
	FP_RESOLVE_IS,		/* resolve() is c: boolean per item */
	FP_EXTENSION,		/* extension(url (a,b)), type c */
	FP_HAS_EXTENSION,	/* hasExtension(url (a,b)) */
	FP_WHERE,		/* where(a) */
	FP_EXISTS,		/* exists(a), a NONE: exists() */
	FP_EMPTY,
	FP_NOT,
	FP_FIRST,
	FP_LAST,
	FP_INDEX,		/* [a] */
	FP_COUNT,
	FP_UNION,		/* a | b */
	FP_AND,
	FP_OR,
	FP_XOR,
	FP_IMPLIES,
	FP_EQ,
	FP_NE,
	FP_EQUIV,
	FP_NEQUIV,
	FP_LT,
	FP_LE,
	FP_GT,
	FP_GE,
	FP_STRING,		/* literal (a,b) */
	FP_NUMBER,		/* literal, text (a,b) */
	FP_BOOL,		/* literal a (0|1) */
	FP_NOTHING,		/* {} */
	FP_OP__MAX
};

#define FP_F_RESOURCE	0x01	/* MEMBER: type from "resourceType" */
#define FP_F_FILTER	0x02	/* IS: yield true when it holds, else nothing */
#define FP_F_AS		0x04	/* OFTYPE: written as `as` (for disasm) */

#define U_IN		0x01	/* in is a child or NONE */
#define U_PRED		0x02	/* a is a child or NONE */
#define U_BIN		0x04	/* a and b are children or NONE */
#define U_STR		0x08	/* (a, b) is a string */
#define U_TYPE		0x10	/* c is a type index or NONE */
#define U_TYPEREQ	0x20	/* c is a type index */
#define U_ELEM		0x40	/* d is an element index or NONE */
#define U_ELEMREQ	0x80	/* d is an element index */

static const struct fp_opinfo {
	const char	*name;
	unsigned	 uses;
} fp_opinfo[FP_OP__MAX] = {
	[FP_THIS] = { "this", 0 },
	[FP_ROOT] = { "resource", 0 },
	[FP_MEMBER] = { "member", U_IN | U_STR | U_TYPE | U_ELEM },
	[FP_CHOICE] = { "choice", U_IN | U_STR | U_ELEMREQ },
	[FP_MEMBER_DYN] = { "member-dyn", U_IN | U_STR },
	[FP_OFTYPE] = { "oftype", U_IN | U_TYPEREQ },
	[FP_IS] = { "is", U_IN | U_TYPEREQ },
	[FP_RESOLVE_IS] = { "resolve-is", U_IN | U_TYPEREQ },
	[FP_EXTENSION] = { "extension", U_IN | U_STR | U_TYPE },
	[FP_HAS_EXTENSION] = { "has-extension", U_IN | U_STR },
	[FP_WHERE] = { "where", U_IN | U_PRED },
	[FP_EXISTS] = { "exists", U_IN | U_PRED },
	[FP_EMPTY] = { "empty", U_IN },
	[FP_NOT] = { "not", U_IN },
	[FP_FIRST] = { "first", U_IN },
	[FP_LAST] = { "last", U_IN },
	[FP_INDEX] = { "index", U_IN },
	[FP_COUNT] = { "count", U_IN },
	[FP_UNION] = { "union", U_BIN },
	[FP_AND] = { "and", U_BIN },
	[FP_OR] = { "or", U_BIN },
	[FP_XOR] = { "xor", U_BIN },
	[FP_IMPLIES] = { "implies", U_BIN },
	[FP_EQ] = { "=", U_BIN },
	[FP_NE] = { "!=", U_BIN },
	[FP_EQUIV] = { "~", U_BIN },
	[FP_NEQUIV] = { "!~", U_BIN },
	[FP_LT] = { "<", U_BIN },
	[FP_LE] = { "<=", U_BIN },
	[FP_GT] = { ">", U_BIN },
	[FP_GE] = { ">=", U_BIN },
	[FP_STRING] = { "string", U_STR },
	[FP_NUMBER] = { "number", U_STR },
	[FP_BOOL] = { "boolean", 0 },
	[FP_NOTHING] = { "empty-set", 0 },
};

struct fp_node {
	uint8_t		 fn_op;
	uint8_t		 fn_flags;
	uint32_t	 fn_in;
	uint32_t	 fn_a;
	uint32_t	 fn_b;
	uint32_t	 fn_c;
	uint32_t	 fn_d;
};

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint16_t
rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void
wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
wr16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static int
fp_upper(int ch)
{
	return ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch;
}

static int
fp_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* Grow *v (n used, *cap allocated, elements of size sz) to hold one more. */
static int
fp_grow(void *vp, size_t n, size_t *cap, size_t sz)
{
	void **v = vp;
	size_t ncap;
	void *nv;

	if (n < *cap)
		return EMBER_OK;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap < *cap || ncap > SIZE_MAX / sz)
		return EMBER_ENOMEM;
	if ((nv = realloc(*v, ncap * sz)) == NULL)
		return EMBER_ENOMEM;
	*v = nv;
	*cap = ncap;
	return EMBER_OK;
}

/* ================================================================
 * Lexer and parser
 * ================================================================ */

enum fp_tok {
	T_EOF, T_IDENT, T_STRING, T_NUMBER, T_ENV, T_SPECIAL,
	T_DOT, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_PIPE,
	T_EQ, T_NE, T_EQUIV, T_NEQUIV, T_LT, T_LE, T_GT, T_GE,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_AMP, T_LBRACE, T_RBRACE,
	T_OTHER
};

enum fp_kind {
	A_IDENT = 1, A_FUNC, A_INDEX, A_BINOP, A_TYPEOP, A_STRING, A_NUMBER,
	A_BOOL, A_EMPTY, A_THIS, A_ENV
};

#define FP_MAX_ARGS	2

struct fp_ast {
	enum fp_kind	 ak_kind;
	int		 ak_op;		/* BINOP: FP_*; TYPEOP: FP_IS/FP_OFTYPE */
	int		 ak_input;	/* invocation input, -1: none */
	int		 ak_left;
	int		 ak_right;
	int		 ak_args[FP_MAX_ARGS];
	int		 ak_nargs;
	size_t		 ak_soff;	/* text in the parser's string buffer */
	size_t		 ak_slen;
	size_t		 ak_pos;	/* position in the expression */
};

struct fp_parser {
	const char	*pp_src;
	size_t		 pp_len;
	size_t		 pp_pos;
	/* current token */
	enum fp_tok	 pp_tok;
	size_t		 pp_tpos;
	size_t		 pp_toff;	/* decoded text in pp_sbuf */
	size_t		 pp_tlen;
	unsigned	 pp_depth;
	struct fp_ast	*pp_ast;
	size_t		 pp_nast;
	size_t		 pp_capast;
	char		*pp_sbuf;
	size_t		 pp_slen;
	size_t		 pp_scap;
	char		*pp_err;
	size_t		 pp_errsize;
};

static void fp_seterr(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
fp_seterr(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	/* A longer message is cut; it is diagnostic text only. */
	(void)vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

/* Append n bytes (and a NUL) to the parser's string buffer. */
static int
fp_sbuf_add(struct fp_parser *p, const char *s, size_t n, size_t *off)
{
	size_t need;
	char *nb;

	if (n > SIZE_MAX - p->pp_slen - 1)
		return EMBER_ENOMEM;
	need = p->pp_slen + n + 1;
	if (need > p->pp_scap) {
		size_t ncap = p->pp_scap ? p->pp_scap : 64;

		while (ncap < need) {
			if (ncap > SIZE_MAX / 2)
				return EMBER_ENOMEM;
			ncap *= 2;
		}
		if ((nb = realloc(p->pp_sbuf, ncap)) == NULL)
			return EMBER_ENOMEM;
		p->pp_sbuf = nb;
		p->pp_scap = ncap;
	}
	*off = p->pp_slen;
	if (n)
		memcpy(p->pp_sbuf + p->pp_slen, s, n);
	p->pp_sbuf[p->pp_slen + n] = '\0';
	p->pp_slen += n + 1;
	return EMBER_OK;
}

static int
fp_is_ident_start(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    ch == '_';
}

static int
fp_is_ident_char(int ch)
{
	return fp_is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

/*
 * Decode a quoted string or backtick identifier starting at pp_pos
 * (the opening quote) into the string buffer.
 */
static int
fp_lex_quoted(struct fp_parser *p, char quote)
{
	const char *s = p->pp_src;
	size_t i = p->pp_pos + 1, start;
	char *tmp = NULL;
	size_t n = 0, cap = 0;
	int rc;

	for (;;) {
		char ch;

		if (i >= p->pp_len) {
			fp_seterr(p->pp_err, p->pp_errsize,
			    "unterminated string at %zu", p->pp_pos);
			rc = EMBER_EINVAL;
			goto done;
		}
		ch = s[i];
		if (ch == quote)
			break;
		if (ch == '\\') {
			if (i + 1 >= p->pp_len) {
				fp_seterr(p->pp_err, p->pp_errsize,
				    "bad escape at %zu", i);
				rc = EMBER_EINVAL;
				goto done;
			}
			ch = s[++i];
			switch (ch) {
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'f': ch = '\f'; break;
			case '\'': case '"': case '`': case '\\': case '/':
				break;
			case 'u': {
				int k, v = 0;

				if (i + 4 >= p->pp_len) {
					fp_seterr(p->pp_err, p->pp_errsize,
					    "bad \\u escape at %zu", i);
					rc = EMBER_EINVAL;
					goto done;
				}
				for (k = 1; k <= 4; k++) {
					int h = buf_hex_digit((unsigned char)s[i + k]);

					if (h < 0) {
						fp_seterr(p->pp_err,
						    p->pp_errsize,
						    "bad \\u escape at %zu", i);
						rc = EMBER_EINVAL;
						goto done;
					}
					v = v * 16 + h;
				}
				i += 4;
				/* UTF-8 encode the BMP code point. */
				{
					char u[4];
					size_t un, k2;

					un = buf_utf8_encode((unsigned long)v,
					    u);
					for (k2 = 0; k2 < un; k2++) {
						if ((rc = fp_grow(&tmp, n, &cap,
						    1)) != EMBER_OK)
							goto done;
						tmp[n++] = u[k2];
					}
				}
				i++;
				continue;
			}
			default:
				fp_seterr(p->pp_err, p->pp_errsize,
				    "bad escape \\%c at %zu", ch, i);
				rc = EMBER_EINVAL;
				goto done;
			}
		}
		if ((rc = fp_grow(&tmp, n, &cap, 1)) != EMBER_OK)
			goto done;
		tmp[n++] = ch;
		i++;
	}
	start = p->pp_pos;
	p->pp_pos = i + 1;
	p->pp_tpos = start;
	rc = fp_sbuf_add(p, tmp, n, &p->pp_toff);
	p->pp_tlen = n;
done:
	free(tmp);
	return rc;
}

/* Read the next token into pp_tok. */
static int
fp_lex(struct fp_parser *p)
{
	const char *s = p->pp_src;
	size_t i;
	char ch;

	while (p->pp_pos < p->pp_len && (s[p->pp_pos] == ' ' ||
	    s[p->pp_pos] == '\t' || s[p->pp_pos] == '\n' ||
	    s[p->pp_pos] == '\r'))
		p->pp_pos++;
	p->pp_tpos = p->pp_pos;
	if (p->pp_pos >= p->pp_len) {
		p->pp_tok = T_EOF;
		return EMBER_OK;
	}
	i = p->pp_pos;
	ch = s[i];
	if (fp_is_ident_start((unsigned char)ch)) {
		while (i < p->pp_len && fp_is_ident_char((unsigned char)s[i]))
			i++;
		p->pp_tok = T_IDENT;
		p->pp_tlen = i - p->pp_pos;
		p->pp_pos = i;
		return fp_sbuf_add(p, s + p->pp_tpos, p->pp_tlen,
		    &p->pp_toff);
	}
	if (ch == '`') {
		p->pp_tok = T_IDENT;
		return fp_lex_quoted(p, '`');
	}
	if (ch == '\'') {
		p->pp_tok = T_STRING;
		return fp_lex_quoted(p, '\'');
	}
	if (ch >= '0' && ch <= '9') {
		while (i < p->pp_len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i + 1 < p->pp_len && s[i] == '.' && s[i + 1] >= '0' &&
		    s[i + 1] <= '9') {
			i++;
			while (i < p->pp_len && s[i] >= '0' && s[i] <= '9')
				i++;
		}
		p->pp_tok = T_NUMBER;
		p->pp_tlen = i - p->pp_pos;
		p->pp_pos = i;
		return fp_sbuf_add(p, s + p->pp_tpos, p->pp_tlen,
		    &p->pp_toff);
	}
	if (ch == '%' || ch == '$') {
		size_t start = ++i;

		if (ch == '%' && i < p->pp_len && s[i] == '\'') {
			p->pp_pos = i;
			if (fp_lex_quoted(p, '\'') != EMBER_OK)
				return EMBER_EINVAL;
			p->pp_tpos = start - 1;
			p->pp_tok = T_ENV;
			return EMBER_OK;
		}
		while (i < p->pp_len && fp_is_ident_char((unsigned char)s[i]))
			i++;
		if (i == start) {
			fp_seterr(p->pp_err, p->pp_errsize,
			    "bad '%c' at %zu", ch, p->pp_pos);
			return EMBER_EINVAL;
		}
		p->pp_tok = ch == '%' ? T_ENV : T_SPECIAL;
		p->pp_tlen = i - start;
		p->pp_pos = i;
		return fp_sbuf_add(p, s + start, p->pp_tlen, &p->pp_toff);
	}
	p->pp_pos = i + 1;
	switch (ch) {
	case '.': p->pp_tok = T_DOT; break;
	case '(': p->pp_tok = T_LPAREN; break;
	case ')': p->pp_tok = T_RPAREN; break;
	case '[': p->pp_tok = T_LBRACK; break;
	case ']': p->pp_tok = T_RBRACK; break;
	case '{': p->pp_tok = T_LBRACE; break;
	case '}': p->pp_tok = T_RBRACE; break;
	case ',': p->pp_tok = T_COMMA; break;
	case '|': p->pp_tok = T_PIPE; break;
	case '=': p->pp_tok = T_EQ; break;
	case '~': p->pp_tok = T_EQUIV; break;
	case '+': p->pp_tok = T_PLUS; break;
	case '-': p->pp_tok = T_MINUS; break;
	case '*': p->pp_tok = T_STAR; break;
	case '/': p->pp_tok = T_SLASH; break;
	case '&': p->pp_tok = T_AMP; break;
	case '!':
		if (i + 1 < p->pp_len && s[i + 1] == '=') {
			p->pp_tok = T_NE;
			p->pp_pos++;
		} else if (i + 1 < p->pp_len && s[i + 1] == '~') {
			p->pp_tok = T_NEQUIV;
			p->pp_pos++;
		} else
			p->pp_tok = T_OTHER;
		break;
	case '<':
		if (i + 1 < p->pp_len && s[i + 1] == '=') {
			p->pp_tok = T_LE;
			p->pp_pos++;
		} else
			p->pp_tok = T_LT;
		break;
	case '>':
		if (i + 1 < p->pp_len && s[i + 1] == '=') {
			p->pp_tok = T_GE;
			p->pp_pos++;
		} else
			p->pp_tok = T_GT;
		break;
	default:
		p->pp_tok = T_OTHER;
		break;
	}
	if (p->pp_tok == T_OTHER) {
		fp_seterr(p->pp_err, p->pp_errsize,
		    "unexpected character '%c' at %zu", ch, i);
		return EMBER_EINVAL;
	}
	return EMBER_OK;
}

static const char *
fp_tok_text(const struct fp_parser *p)
{
	return p->pp_sbuf + p->pp_toff;
}

/* Whether the current token is the identifier (keyword) kw. */
static int
fp_tok_is(const struct fp_parser *p, const char *kw)
{
	size_t n = strlen(kw);

	return p->pp_tok == T_IDENT && p->pp_tlen == n &&
	    memcmp(fp_tok_text(p), kw, n) == 0;
}

static int
fp_new_ast(struct fp_parser *p, enum fp_kind kind, int *out)
{
	struct fp_ast *a;
	int rc, i;

	if (p->pp_nast >= 100000)
		return EMBER_EINVAL;
	if ((rc = fp_grow(&p->pp_ast, p->pp_nast, &p->pp_capast,
	    sizeof(*p->pp_ast))) != EMBER_OK)
		return rc;
	a = &p->pp_ast[p->pp_nast];
	memset(a, 0, sizeof(*a));
	a->ak_kind = kind;
	a->ak_input = a->ak_left = a->ak_right = -1;
	for (i = 0; i < FP_MAX_ARGS; i++)
		a->ak_args[i] = -1;
	a->ak_pos = p->pp_tpos;
	*out = (int)p->pp_nast++;
	return EMBER_OK;
}

static int fp_parse_expr(struct fp_parser *p, int *out);

static int
fp_expect(struct fp_parser *p, enum fp_tok tok, const char *what)
{
	if (p->pp_tok != tok) {
		fp_seterr(p->pp_err, p->pp_errsize, "expected %s at %zu",
		    what, p->pp_tpos);
		return EMBER_EINVAL;
	}
	return fp_lex(p);
}

/* identifier ('.' identifier)*: a type specifier, kept as text. */
static int
fp_parse_typespec(struct fp_parser *p, size_t *off, size_t *len)
{
	size_t start = p->pp_tpos, end;
	int rc;

	if (p->pp_tok != T_IDENT) {
		fp_seterr(p->pp_err, p->pp_errsize,
		    "expected a type name at %zu", p->pp_tpos);
		return EMBER_EINVAL;
	}
	end = p->pp_pos;
	if ((rc = fp_lex(p)) != EMBER_OK)
		return rc;
	while (p->pp_tok == T_DOT) {
		if ((rc = fp_lex(p)) != EMBER_OK)
			return rc;
		if (p->pp_tok != T_IDENT) {
			fp_seterr(p->pp_err, p->pp_errsize,
			    "expected a type name at %zu", p->pp_tpos);
			return EMBER_EINVAL;
		}
		end = p->pp_pos;
		if ((rc = fp_lex(p)) != EMBER_OK)
			return rc;
	}
	*len = end - start;
	return fp_sbuf_add(p, p->pp_src + start, end - start, off);
}

/* identifier or identifier '(' args ')', with the given input. */
static int
fp_parse_invocation(struct fp_parser *p, int input, int *out)
{
	size_t off = p->pp_toff, len = p->pp_tlen;
	int rc, n;

	if (p->pp_tok != T_IDENT) {
		fp_seterr(p->pp_err, p->pp_errsize,
		    "expected a name at %zu", p->pp_tpos);
		return EMBER_EINVAL;
	}
	if ((rc = fp_new_ast(p, A_IDENT, &n)) != EMBER_OK)
		return rc;
	p->pp_ast[n].ak_soff = off;
	p->pp_ast[n].ak_slen = len;
	p->pp_ast[n].ak_input = input;
	if ((rc = fp_lex(p)) != EMBER_OK)
		return rc;
	if (p->pp_tok == T_LPAREN) {
		p->pp_ast[n].ak_kind = A_FUNC;
		if ((rc = fp_lex(p)) != EMBER_OK)
			return rc;
		while (p->pp_tok != T_RPAREN) {
			int arg;

			if (p->pp_ast[n].ak_nargs == FP_MAX_ARGS) {
				fp_seterr(p->pp_err, p->pp_errsize,
				    "too many arguments at %zu", p->pp_tpos);
				return EMBER_EINVAL;
			}
			if ((rc = fp_parse_expr(p, &arg)) != EMBER_OK)
				return rc;
			p->pp_ast[n].ak_args[p->pp_ast[n].ak_nargs++] = arg;
			if (p->pp_tok == T_COMMA) {
				if ((rc = fp_lex(p)) != EMBER_OK)
					return rc;
			} else if (p->pp_tok != T_RPAREN) {
				fp_seterr(p->pp_err, p->pp_errsize,
				    "expected ',' or ')' at %zu", p->pp_tpos);
				return EMBER_EINVAL;
			}
		}
		if ((rc = fp_lex(p)) != EMBER_OK)
			return rc;
	}
	*out = n;
	return EMBER_OK;
}

static int
fp_parse_term(struct fp_parser *p, int *out)
{
	int rc, n;

	switch (p->pp_tok) {
	case T_LPAREN:
		if ((rc = fp_lex(p)) != EMBER_OK ||
		    (rc = fp_parse_expr(p, out)) != EMBER_OK)
			return rc;
		return fp_expect(p, T_RPAREN, "')'");
	case T_STRING:
	case T_NUMBER:
		if ((rc = fp_new_ast(p, p->pp_tok == T_STRING ? A_STRING :
		    A_NUMBER, &n)) != EMBER_OK)
			return rc;
		p->pp_ast[n].ak_soff = p->pp_toff;
		p->pp_ast[n].ak_slen = p->pp_tlen;
		*out = n;
		return fp_lex(p);
	case T_LBRACE:
		if ((rc = fp_lex(p)) != EMBER_OK)
			return rc;
		if ((rc = fp_expect(p, T_RBRACE, "'}'")) != EMBER_OK)
			return rc;
		return fp_new_ast(p, A_EMPTY, out);
	case T_SPECIAL:
		if (p->pp_tlen != 4 || memcmp(fp_tok_text(p), "this", 4)) {
			fp_seterr(p->pp_err, p->pp_errsize,
			    "unsupported $%s at %zu", fp_tok_text(p),
			    p->pp_tpos);
			return EMBER_EINVAL;
		}
		if ((rc = fp_new_ast(p, A_THIS, out)) != EMBER_OK)
			return rc;
		return fp_lex(p);
	case T_ENV:
		if ((rc = fp_new_ast(p, A_ENV, &n)) != EMBER_OK)
			return rc;
		p->pp_ast[n].ak_soff = p->pp_toff;
		p->pp_ast[n].ak_slen = p->pp_tlen;
		*out = n;
		return fp_lex(p);
	case T_IDENT:
		if (fp_tok_is(p, "true") || fp_tok_is(p, "false")) {
			if ((rc = fp_new_ast(p, A_BOOL, &n)) != EMBER_OK)
				return rc;
			p->pp_ast[n].ak_op = fp_tok_is(p, "true");
			*out = n;
			return fp_lex(p);
		}
		return fp_parse_invocation(p, -1, out);
	default:
		fp_seterr(p->pp_err, p->pp_errsize,
		    "unexpected token at %zu", p->pp_tpos);
		return EMBER_EINVAL;
	}
}

static int
fp_parse_postfix(struct fp_parser *p, int *out)
{
	int rc, n, t;

	if (p->pp_tok == T_MINUS || p->pp_tok == T_PLUS) {
		int neg = p->pp_tok == T_MINUS;
		size_t off;

		if ((rc = fp_lex(p)) != EMBER_OK)
			return rc;
		if (p->pp_tok != T_NUMBER) {
			fp_seterr(p->pp_err, p->pp_errsize,
			    "unary sign only before a number at %zu",
			    p->pp_tpos);
			return EMBER_EINVAL;
		}
		if (neg) {
			/* Store "-" followed by the digits. */
			char buf[64];
			int k = snprintf(buf, sizeof(buf), "-%s",
			    fp_tok_text(p));

			if (k < 0 || (size_t)k >= sizeof(buf)) {
				fp_seterr(p->pp_err, p->pp_errsize,
				    "number too long at %zu", p->pp_tpos);
				return EMBER_EINVAL;
			}
			if ((rc = fp_sbuf_add(p, buf, (size_t)k, &off)) !=
			    EMBER_OK)
				return rc;
			p->pp_toff = off;
			p->pp_tlen = (size_t)k;
		}
	}
	if ((rc = fp_parse_term(p, &t)) != EMBER_OK)
		return rc;
	for (;;) {
		if (p->pp_tok == T_DOT) {
			if ((rc = fp_lex(p)) != EMBER_OK)
				return rc;
			if ((rc = fp_parse_invocation(p, t, &t)) != EMBER_OK)
				return rc;
		} else if (p->pp_tok == T_LBRACK) {
			int idx;

			if ((rc = fp_lex(p)) != EMBER_OK)
				return rc;
			if ((rc = fp_parse_expr(p, &idx)) != EMBER_OK)
				return rc;
			if ((rc = fp_expect(p, T_RBRACK, "']'")) != EMBER_OK)
				return rc;
			if ((rc = fp_new_ast(p, A_INDEX, &n)) != EMBER_OK)
				return rc;
			p->pp_ast[n].ak_input = t;
			p->pp_ast[n].ak_right = idx;
			t = n;
		} else
			break;
	}
	*out = t;
	return EMBER_OK;
}

/* Binary levels, loosest first (FHIRPath operator precedence). */
enum fp_level {
	L_IMPLIES, L_OR, L_AND, L_MEMBERSHIP, L_EQUALITY, L_INEQUALITY,
	L_UNION, L_TYPE, L_ADDITIVE, L_MULTIPLICATIVE, L_POSTFIX
};

/* The binary op at the current token for a level, or 0. */
static int
fp_binop_at(const struct fp_parser *p, enum fp_level level)
{
	switch (level) {
	case L_IMPLIES:
		return fp_tok_is(p, "implies") ? FP_IMPLIES : 0;
	case L_OR:
		if (fp_tok_is(p, "or"))
			return FP_OR;
		return fp_tok_is(p, "xor") ? FP_XOR : 0;
	case L_AND:
		return fp_tok_is(p, "and") ? FP_AND : 0;
	case L_MEMBERSHIP:
		return fp_tok_is(p, "in") || fp_tok_is(p, "contains") ? -1 : 0;
	case L_EQUALITY:
		switch (p->pp_tok) {
		case T_EQ: return FP_EQ;
		case T_NE: return FP_NE;
		case T_EQUIV: return FP_EQUIV;
		case T_NEQUIV: return FP_NEQUIV;
		default: return 0;
		}
	case L_INEQUALITY:
		switch (p->pp_tok) {
		case T_LT: return FP_LT;
		case T_LE: return FP_LE;
		case T_GT: return FP_GT;
		case T_GE: return FP_GE;
		default: return 0;
		}
	case L_UNION:
		return p->pp_tok == T_PIPE ? FP_UNION : 0;
	case L_TYPE:
		if (fp_tok_is(p, "is"))
			return FP_IS;
		return fp_tok_is(p, "as") ? FP_OFTYPE : 0;
	case L_ADDITIVE:
		return p->pp_tok == T_PLUS || p->pp_tok == T_MINUS ||
		    p->pp_tok == T_AMP ? -1 : 0;
	case L_MULTIPLICATIVE:
		return p->pp_tok == T_STAR || p->pp_tok == T_SLASH ||
		    fp_tok_is(p, "div") || fp_tok_is(p, "mod") ? -1 : 0;
	default:
		return 0;
	}
}

static int
fp_parse_level(struct fp_parser *p, enum fp_level level, int *out)
{
	int rc, l, r, n, op;

	if (level == L_POSTFIX)
		return fp_parse_postfix(p, out);
	if (++p->pp_depth > FP_MAX_PARSE_DEPTH) {
		fp_seterr(p->pp_err, p->pp_errsize, "expression too deep");
		return EMBER_EINVAL;
	}
	if ((rc = fp_parse_level(p, level + 1, &l)) != EMBER_OK)
		return rc;
	while ((op = fp_binop_at(p, level)) != 0) {
		size_t pos = p->pp_tpos;

		if (op < 0) {
			fp_seterr(p->pp_err, p->pp_errsize,
			    "unsupported operator at %zu", pos);
			return EMBER_EINVAL;
		}
		if ((rc = fp_lex(p)) != EMBER_OK)
			return rc;
		if (level == L_TYPE) {
			size_t off, len;

			if ((rc = fp_parse_typespec(p, &off, &len)) != EMBER_OK)
				return rc;
			if ((rc = fp_new_ast(p, A_TYPEOP, &n)) != EMBER_OK)
				return rc;
			p->pp_ast[n].ak_op = op;
			p->pp_ast[n].ak_input = l;
			p->pp_ast[n].ak_soff = off;
			p->pp_ast[n].ak_slen = len;
			p->pp_ast[n].ak_pos = pos;
			l = n;
			continue;
		}
		if ((rc = fp_parse_level(p, level + 1, &r)) != EMBER_OK)
			return rc;
		if ((rc = fp_new_ast(p, A_BINOP, &n)) != EMBER_OK)
			return rc;
		p->pp_ast[n].ak_op = op;
		p->pp_ast[n].ak_left = l;
		p->pp_ast[n].ak_right = r;
		p->pp_ast[n].ak_pos = pos;
		l = n;
	}
	p->pp_depth--;
	*out = l;
	return EMBER_OK;
}

static int
fp_parse_expr(struct fp_parser *p, int *out)
{
	return fp_parse_level(p, L_IMPLIES, out);
}

static void
fp_parser_free(struct fp_parser *p)
{
	free(p->pp_ast);
	free(p->pp_sbuf);
}

static int
fp_parse(struct fp_parser *p, const char *expr, size_t len, char *err,
    size_t errsize, int *root)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->pp_src = expr;
	p->pp_len = len;
	p->pp_err = err;
	p->pp_errsize = errsize;
	if ((rc = fp_lex(p)) != EMBER_OK)
		return rc;
	if (p->pp_tok == T_EOF) {
		fp_seterr(err, errsize, "empty expression");
		return EMBER_EINVAL;
	}
	if ((rc = fp_parse_expr(p, root)) != EMBER_OK)
		return rc;
	if (p->pp_tok != T_EOF) {
		fp_seterr(err, errsize, "unexpected token at %zu", p->pp_tpos);
		return EMBER_EINVAL;
	}
	return EMBER_OK;
}

/* ================================================================
 * Typing and code generation
 * ================================================================ */

/* One possible static type of a value. */
struct fp_sent {
	unsigned	 se_type;	/* type index or NONE */
	unsigned	 se_elem;	/* element index or NONE */
	int		 se_choice;	/* any type of choice element se_elem */
};

struct fp_state {
	struct fp_sent	*st_v;
	size_t		 st_n;
	size_t		 st_cap;
	int		 st_resolve;	/* pending resolve() */
};

struct fhirpath_program {
	unsigned char	*fp_code;
	size_t		 fp_len;
	struct fp_state	 fp_result;
	size_t		 fp_branches;	/* FHIRPATH_SEARCH: union branches */
	unsigned char	*fp_used;	/* per branch: applied to the type */
	char		*fp_warnings;	/* FHIRPATH_LENIENT, or NULL */
};

struct fp_compiler {
	const struct tables *cc_t;
	struct fp_parser *cc_p;
	struct fp_node	*cc_nodes;
	size_t		 cc_nnodes;
	size_t		 cc_capnodes;
	char		*cc_str;	/* program string area */
	size_t		 cc_slen;
	size_t		 cc_scap;
	unsigned	 cc_root_type;	/* %resource */
	char		*cc_err;
	size_t		 cc_errsize;
	unsigned	 cc_flags;	/* FHIRPATH_* */
	char		*cc_warn;	/* FHIRPATH_LENIENT messages */
	size_t		 cc_wlen;
	size_t		 cc_wcap;
	unsigned	 cc_t_boolean;
	unsigned	 cc_t_string;
	unsigned	 cc_t_decimal;
	unsigned	 cc_t_integer;
	unsigned	 cc_t_extension;
	unsigned	 cc_t_resource;
};

static void
fp_state_free(struct fp_state *s)
{
	free(s->st_v);
	memset(s, 0, sizeof(*s));
}

static int
fp_state_add(struct fp_state *s, unsigned type, unsigned elem, int choice)
{
	size_t i;
	int rc;

	for (i = 0; i < s->st_n; i++)
		if (s->st_v[i].se_type == type && s->st_v[i].se_elem == elem &&
		    s->st_v[i].se_choice == choice)
			return EMBER_OK;
	if ((rc = fp_grow(&s->st_v, s->st_n, &s->st_cap,
	    sizeof(*s->st_v))) != EMBER_OK)
		return rc;
	s->st_v[s->st_n].se_type = type;
	s->st_v[s->st_n].se_elem = elem;
	s->st_v[s->st_n].se_choice = choice;
	s->st_n++;
	return EMBER_OK;
}

static int
fp_state_merge(struct fp_state *dst, const struct fp_state *src)
{
	size_t i;
	int rc;

	for (i = 0; i < src->st_n; i++)
		if ((rc = fp_state_add(dst, src->st_v[i].se_type,
		    src->st_v[i].se_elem, src->st_v[i].se_choice)) != EMBER_OK)
			return rc;
	return EMBER_OK;
}

static int
fp_state_copy(struct fp_state *dst, const struct fp_state *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->st_resolve = src->st_resolve;
	return fp_state_merge(dst, src);
}

static int
fp_state_one(struct fp_state *dst, unsigned type, unsigned elem)
{
	memset(dst, 0, sizeof(*dst));
	return fp_state_add(dst, type, elem, 0);
}

static const char *
fp_ast_text(const struct fp_compiler *c, const struct fp_ast *a)
{
	return c->cc_p->pp_sbuf + a->ak_soff;
}

/* Append a string to the program's string area; return its offset. */
static int
fp_cstr(struct fp_compiler *c, const char *s, size_t n, uint32_t *off)
{
	size_t need;

	if (n > UINT32_MAX / 2 || c->cc_slen > UINT32_MAX / 2)
		return EMBER_EINVAL;
	need = c->cc_slen + n + 1;
	if (need > c->cc_scap) {
		size_t ncap = c->cc_scap ? c->cc_scap * 2 : 64;
		char *nb;

		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(c->cc_str, ncap)) == NULL)
			return EMBER_ENOMEM;
		c->cc_str = nb;
		c->cc_scap = ncap;
	}
	*off = (uint32_t)c->cc_slen;
	memcpy(c->cc_str + c->cc_slen, s, n);
	c->cc_str[c->cc_slen + n] = '\0';
	c->cc_slen += n + 1;
	return EMBER_OK;
}

static int
fp_emit(struct fp_compiler *c, uint8_t op, uint32_t in, uint32_t a,
    uint32_t b, uint32_t cc, uint32_t d, uint32_t *out)
{
	struct fp_node *n;
	int rc;

	if (c->cc_nnodes >= FP_MAX_NODES) {
		fp_seterr(c->cc_err, c->cc_errsize, "program too large");
		return EMBER_EINVAL;
	}
	if ((rc = fp_grow(&c->cc_nodes, c->cc_nnodes, &c->cc_capnodes,
	    sizeof(*c->cc_nodes))) != EMBER_OK)
		return rc;
	n = &c->cc_nodes[c->cc_nnodes];
	n->fn_op = op;
	n->fn_flags = 0;
	n->fn_in = in;
	n->fn_a = a;
	n->fn_b = b;
	n->fn_c = cc;
	n->fn_d = d;
	*out = (uint32_t)c->cc_nnodes++;
	return EMBER_OK;
}

static int
fp_emit_str(struct fp_compiler *c, uint8_t op, uint32_t in, const char *s,
    size_t n, uint32_t cc, uint32_t d, uint32_t *out)
{
	uint32_t off;
	int rc;

	if ((rc = fp_cstr(c, s, n, &off)) != EMBER_OK)
		return rc;
	return fp_emit(c, op, in, off, (uint32_t)n, cc, d, out);
}

static int fp_warn(struct fp_compiler *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Record a FHIRPATH_LENIENT warning ("; "-separated). */
static int
fp_warn(struct fp_compiler *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t n, need;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w < 0)
		return EMBER_EINVAL;
	n = strlen(msg);	/* cut to the buffer: diagnostic text */
	need = c->cc_wlen + n + 3;
	if (need > c->cc_wcap) {
		size_t ncap = c->cc_wcap ? c->cc_wcap * 2 : 256;
		char *nb;

		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(c->cc_warn, ncap)) == NULL)
			return EMBER_ENOMEM;
		c->cc_warn = nb;
		c->cc_wcap = ncap;
	}
	if (c->cc_wlen > 0) {
		memcpy(c->cc_warn + c->cc_wlen, "; ", 2);
		c->cc_wlen += 2;
	}
	memcpy(c->cc_warn + c->cc_wlen, msg, n + 1);
	c->cc_wlen += n;
	return EMBER_OK;
}

/* Readable name of a static entry, for messages. */
static const char *
fp_sent_name(const struct fp_compiler *c, const struct fp_sent *e)
{
	struct tables_element el;
	const char *s;

	if (e->se_elem != NONE &&
	    tables_element_get(c->cc_t, e->se_elem, &el) == EMBER_OK)
		return el.path;
	if (e->se_type != NONE &&
	    (s = tables_type_name(c->cc_t, e->se_type)) != NULL)
		return s;
	return "?";
}

/*
 * Resolve a type specifier: "Quantity", "FHIR.Patient", "System.String",
 * and the spellings official expressions use for FHIR primitives
 * ("DateTime" for dateTime).
 */
static int
fp_type_resolve(struct fp_compiler *c, const char *name, size_t len,
    unsigned *out)
{
	char buf[128];

	if (len > 5 && memcmp(name, "FHIR.", 5) == 0) {
		name += 5;
		len -= 5;
	} else if (len > 7 && memcmp(name, "System.", 7) == 0) {
		name += 7;
		len -= 7;
	}
	if (tables_type_lookup(c->cc_t, name, len, out) == EMBER_OK)
		return EMBER_OK;
	/* System.Boolean, System.DateTime...: the FHIR primitive. */
	if (len > 0 && len < sizeof(buf) && name[0] >= 'A' && name[0] <= 'Z') {
		memcpy(buf, name, len);
		buf[0] = (char)fp_lower((unsigned char)buf[0]);
		if (tables_type_lookup(c->cc_t, buf, len, out) == EMBER_OK)
			return EMBER_OK;
	}
	fp_seterr(c->cc_err, c->cc_errsize, "unknown type '%.*s'", (int)len,
	    name);
	return EMBER_EINVAL;
}

/* The type a value of element e has (NONE for a choice). */
static unsigned
fp_elem_type(const struct tables *t, unsigned elem)
{
	struct tables_element e;
	int hops;

	for (hops = 0; hops < 8; hops++) {
		if (tables_element_get(t, elem, &e) != EMBER_OK)
			return NONE;
		if (e.type_count == 1)
			return tables_element_type(t, &e, 0);
		if (e.contentref == NONE)
			return NONE;
		elem = e.contentref;
	}
	return NONE;
}

/*
 * The context to resolve members in, for a value of (type, elem): the
 * element when it is a backbone element or a contentReference, else
 * the type.
 */
static void
fp_member_ctx(const struct tables *t, unsigned type, unsigned elem,
    unsigned *ctype, unsigned *celem)
{
	struct tables_element e;

	*ctype = type;
	*celem = NONE;
	if (elem != NONE && tables_element_get(t, elem, &e) == EMBER_OK &&
	    (e.contentref != NONE || (e.flags & TABLES_ELEMENT_BACKBONE)))
		*celem = elem;
}

static int
fp_is_abstract_resource(const struct tables *t, unsigned type)
{
	struct tables_type ty;

	return type != NONE && tables_type_get(t, type, &ty) == EMBER_OK &&
	    ty.kind == TABLES_KIND_RESOURCE && ty.abstract;
}

/* Whether name is a resource type (abstract ones included). */
static int
fp_resource_type_name(const struct tables *t, const char *name, size_t len,
    unsigned *out)
{
	struct tables_type ty;

	return tables_type_lookup(t, name, len, out) == EMBER_OK &&
	    tables_type_get(t, *out, &ty) == EMBER_OK &&
	    ty.kind == TABLES_KIND_RESOURCE;
}

/*
 * Resolve member `name` for a value of (type, elem).  On success: the
 * element, whether it is a choice, the JSON key to read (name, or for
 * a direct choice key such as "valueQuantity" that key) and the value
 * type.
 */
static int
fp_resolve_member(const struct tables *t, unsigned type, unsigned elem,
    const char *name, size_t len, unsigned *out_elem, int *out_choice,
    unsigned *out_type)
{
	struct tables_element e;
	unsigned ctype, celem, ty;
	int rc;

	fp_member_ctx(t, type, elem, &ctype, &celem);
	if (ctype == NONE && celem == NONE)
		return EMBER_ENOTFOUND;
	rc = tables_element_member(t, ctype, celem, name, len, out_elem);
	if (rc == EMBER_OK) {
		if ((rc = tables_element_get(t, *out_elem, &e)) != EMBER_OK)
			return rc;
		*out_choice = (e.flags & TABLES_ELEMENT_CHOICE) != 0;
		*out_type = *out_choice ? NONE : fp_elem_type(t, *out_elem);
		return EMBER_OK;
	}
	if (rc != EMBER_ENOTFOUND)
		return rc;
	rc = tables_element_child(t, ctype, celem, name, len, out_elem, &ty);
	if (rc != EMBER_OK)
		return rc;
	*out_choice = 0;
	*out_type = ty;
	return EMBER_OK;
}

/* Expand choice entries into one entry per type. */
static int
fp_state_expand(const struct tables *t, const struct fp_state *in,
    struct fp_state *out)
{
	size_t i;
	unsigned k;
	int rc;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < in->st_n; i++) {
		const struct fp_sent *se = &in->st_v[i];
		struct tables_element e;

		if (!se->se_choice) {
			if ((rc = fp_state_add(out, se->se_type, se->se_elem,
			    0)) != EMBER_OK)
				goto fail;
			continue;
		}
		if ((rc = tables_element_get(t, se->se_elem, &e)) != EMBER_OK)
			goto fail;
		for (k = 0; k < e.type_count; k++)
			if ((rc = fp_state_add(out, tables_element_type(t, &e,
			    k), se->se_elem, 0)) != EMBER_OK)
				goto fail;
	}
	return EMBER_OK;
fail:
	fp_state_free(out);
	return rc;
}

static int
fp_no_resolve(struct fp_compiler *c, const struct fp_state *s,
    const struct fp_ast *a)
{
	if (!s->st_resolve)
		return EMBER_OK;
	fp_seterr(c->cc_err, c->cc_errsize,
	    "resolve() is only supported as `resolve() is Type` (at %zu)",
	    a->ak_pos);
	return EMBER_EINVAL;
}

/* Member access: name on the values of (in, st). */
static int
fp_compile_member(struct fp_compiler *c, const struct fp_ast *a,
    uint32_t in, const struct fp_state *st, struct fp_state *out,
    uint32_t *node)
{
	const char *name = fp_ast_text(c, a);
	size_t len = a->ak_slen, i;
	struct fp_state ex;
	unsigned elem, type;
	int choice, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = fp_no_resolve(c, st, a)) != EMBER_OK)
		return rc;
	if (st->st_n == 0)	/* {} or after a lenient mismatch */
		return fp_emit(c, FP_NOTHING, NONE, 0, 0, 0, 0, node);
	if (st->st_n == 1 && st->st_v[0].se_type == NONE &&
	    st->st_v[0].se_elem == NONE) {
		/* Untyped (lenient): read the key, as FHIRPath would. */
		if ((rc = fp_emit_str(c, FP_MEMBER, in, name, len, NONE, NONE,
		    node)) != EMBER_OK)
			return rc;
		return fp_state_add(out, NONE, NONE, 0);
	}
	if (st->st_n == 1 && !st->st_v[0].se_choice) {
		rc = fp_resolve_member(c->cc_t, st->st_v[0].se_type,
		    st->st_v[0].se_elem, name, len, &elem, &choice, &type);
		if (rc == EMBER_ENOTFOUND && (c->cc_flags & FHIRPATH_LENIENT)) {
			if ((rc = fp_warn(c, "no element '%.*s' in %s (at %zu)",
			    (int)len, name, fp_sent_name(c, &st->st_v[0]),
			    a->ak_pos)) != EMBER_OK)
				return rc;
			if ((rc = fp_emit_str(c, FP_MEMBER, in, name, len, NONE,
			    NONE, node)) != EMBER_OK)
				return rc;
			return fp_state_add(out, NONE, NONE, 0);
		}
		if (rc == EMBER_ENOTFOUND) {
			fp_seterr(c->cc_err, c->cc_errsize,
			    "no element '%.*s' in %s (at %zu)", (int)len, name,
			    fp_sent_name(c, &st->st_v[0]), a->ak_pos);
			return EMBER_EINVAL;
		}
		if (rc != EMBER_OK)
			return rc;
		if (choice) {
			if ((rc = fp_emit_str(c, FP_CHOICE, in, name, len, NONE,
			    elem, node)) != EMBER_OK)
				return rc;
			return fp_state_add(out, NONE, elem, 1);
		}
		if ((rc = fp_emit_str(c, FP_MEMBER, in, name, len, type, elem,
		    node)) != EMBER_OK)
			return rc;
		if (fp_is_abstract_resource(c->cc_t, type))
			c->cc_nodes[*node].fn_flags |= FP_F_RESOURCE;
		return fp_state_add(out, type, elem, 0);
	}
	/* Several possible types: resolve per item at run time. */
	if ((rc = fp_state_expand(c->cc_t, st, &ex)) != EMBER_OK)
		return rc;
	for (i = 0; i < ex.st_n; i++) {
		rc = fp_resolve_member(c->cc_t, ex.st_v[i].se_type,
		    ex.st_v[i].se_elem, name, len, &elem, &choice, &type);
		if (rc == EMBER_ENOTFOUND)
			continue;
		if (rc != EMBER_OK)
			goto fail;
		if ((rc = fp_state_add(out, type, elem, choice)) != EMBER_OK)
			goto fail;
	}
	if (out->st_n == 0 && (c->cc_flags & FHIRPATH_LENIENT)) {
		if ((rc = fp_warn(c, "no element '%.*s' in any of %zu types "
		    "(at %zu)", (int)len, name, ex.st_n, a->ak_pos)) !=
		    EMBER_OK ||
		    (rc = fp_state_add(out, NONE, NONE, 0)) != EMBER_OK)
			goto fail;
	} else if (out->st_n == 0) {
		fp_seterr(c->cc_err, c->cc_errsize,
		    "no element '%.*s' in any of %zu types (at %zu)",
		    (int)len, name, ex.st_n, a->ak_pos);
		rc = EMBER_EINVAL;
		goto fail;
	}
	rc = fp_emit_str(c, FP_MEMBER_DYN, in, name, len, NONE, NONE, node);
	if (rc != EMBER_OK)
		goto fail;
	fp_state_free(&ex);
	return EMBER_OK;
fail:
	fp_state_free(&ex);
	fp_state_free(out);
	return rc;
}

/*
 * ofType(T) / as(T) / `as T` on the values of (in, st).  A choice
 * element with exactly one matching type becomes a plain member read
 * of its key ("valueQuantity").
 */
static int
fp_compile_oftype(struct fp_compiler *c, const struct fp_ast *a,
    const char *tname, size_t tlen, int is_as, uint32_t in,
    const struct fp_state *st, struct fp_state *out, uint32_t *node)
{
	const struct tables *t = c->cc_t;
	struct fp_state ex;
	unsigned T, match = NONE;
	size_t i, nmatch = 0, nup = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&ex, 0, sizeof(ex));
	if ((rc = fp_no_resolve(c, st, a)) != EMBER_OK)
		return rc;
	if ((rc = fp_type_resolve(c, tname, tlen, &T)) != EMBER_OK)
		return rc;
	if (st->st_n == 0)
		return fp_emit(c, FP_NOTHING, NONE, 0, 0, 0, 0, node);
	if ((rc = fp_state_expand(t, st, &ex)) != EMBER_OK)
		return rc;
	for (i = 0; i < ex.st_n; i++) {
		unsigned ty = ex.st_v[i].se_type;

		if (ty != NONE && tables_type_derives(t, ty, T)) {
			nup++;
			nmatch++;
			match = ty;
			if ((rc = fp_state_add(out, ty, ex.st_v[i].se_elem,
			    0)) != EMBER_OK)
				goto fail;
		} else if (ty == NONE || tables_type_derives(t, T, ty)) {
			nmatch++;
			match = T;
			if ((rc = fp_state_add(out, T, ex.st_v[i].se_elem,
			    0)) != EMBER_OK)
				goto fail;
		}
	}
	if (nmatch == 0 && (c->cc_flags & FHIRPATH_LENIENT)) {
		/* Yields nothing, as FHIRPath would; said loudly. */
		rc = fp_warn(c, "%s(%.*s) can never match %s (at %zu)",
		    is_as ? "as" : "ofType", (int)tlen, tname,
		    fp_sent_name(c, &st->st_v[0]), a->ak_pos);
		fp_state_free(&ex);
		if (rc != EMBER_OK)
			return rc;
		return fp_emit(c, FP_NOTHING, NONE, 0, 0, 0, 0, node);
	}
	if (nmatch == 0) {
		fp_seterr(c->cc_err, c->cc_errsize,
		    "%s(%.*s) can never match %s (at %zu)",
		    is_as ? "as" : "ofType", (int)tlen, tname,
		    st->st_n ? fp_sent_name(c, &st->st_v[0]) : "{}",
		    a->ak_pos);
		rc = EMBER_EINVAL;
		goto fail;
	}
	if (in != NONE && c->cc_nodes[in].fn_op == FP_CHOICE && nup == 1 &&
	    nmatch == 1 && st->st_n == 1) {
		/* Choice with one matching type: read its key directly. */
		struct fp_node *n = &c->cc_nodes[in];
		const char *tn = tables_type_name(t, match);
		char key[256];
		size_t plen = n->fn_b, tnlen;
		uint32_t off;

		if (tn == NULL || (tnlen = strlen(tn)) == 0 ||
		    plen + tnlen >= sizeof(key)) {
			rc = EMBER_ETABLES;
			goto fail;
		}
		memcpy(key, c->cc_str + n->fn_a, plen);
		memcpy(key + plen, tn, tnlen);
		key[plen] = (char)fp_upper((unsigned char)key[plen]);
		if ((rc = fp_cstr(c, key, plen + tnlen, &off)) != EMBER_OK)
			goto fail;
		n = &c->cc_nodes[in];
		n->fn_op = FP_MEMBER;
		n->fn_a = off;
		n->fn_b = (uint32_t)(plen + tnlen);
		n->fn_c = match;
		if (fp_is_abstract_resource(t, match))
			n->fn_flags |= FP_F_RESOURCE;
		*node = in;
	} else if (nup == ex.st_n && !st->st_v[0].se_choice && st->st_n == 1) {
		/* Always of type T already: nothing to do. */
		*node = in;
	} else {
		if ((rc = fp_emit(c, FP_OFTYPE, in, 0, 0, T, NONE, node)) !=
		    EMBER_OK)
			goto fail;
		if (is_as)
			c->cc_nodes[*node].fn_flags |= FP_F_AS;
	}
	fp_state_free(&ex);
	return EMBER_OK;
fail:
	fp_state_free(&ex);
	fp_state_free(out);
	return rc;
}

/* `is T`, `is(T)`, and `resolve() is T`. */
static int
fp_compile_is(struct fp_compiler *c, const struct fp_ast *a,
    const char *tname, size_t tlen, uint32_t in, const struct fp_state *st,
    struct fp_state *out, uint32_t *node)
{
	struct tables_type ty;
	struct fp_state ex;
	unsigned T;
	size_t i;
	int rc, possible = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = fp_type_resolve(c, tname, tlen, &T)) != EMBER_OK)
		return rc;
	if (st->st_resolve) {
		if ((rc = tables_type_get(c->cc_t, T, &ty)) != EMBER_OK)
			return rc;
		if (ty.kind != TABLES_KIND_RESOURCE) {
			fp_seterr(c->cc_err, c->cc_errsize,
			    "resolve() is %.*s: not a resource type (at %zu)",
			    (int)tlen, tname, a->ak_pos);
			return EMBER_EINVAL;
		}
		if ((rc = fp_emit(c, FP_RESOLVE_IS, in, 0, 0, T, NONE,
		    node)) != EMBER_OK)
			return rc;
		return fp_state_one(out, c->cc_t_boolean, NONE);
	}
	if ((rc = fp_state_expand(c->cc_t, st, &ex)) != EMBER_OK)
		return rc;
	for (i = 0; i < ex.st_n; i++) {
		unsigned sty = ex.st_v[i].se_type;

		if (sty == NONE || tables_type_derives(c->cc_t, sty, T) ||
		    tables_type_derives(c->cc_t, T, sty))
			possible = 1;
	}
	fp_state_free(&ex);
	if (!possible && st->st_n > 0 && (c->cc_flags & FHIRPATH_LENIENT)) {
		/* The run-time test gives false; said loudly. */
		if ((rc = fp_warn(c, "is(%.*s) can never hold for %s (at %zu)",
		    (int)tlen, tname, fp_sent_name(c, &st->st_v[0]),
		    a->ak_pos)) != EMBER_OK)
			return rc;
	} else if (!possible && st->st_n > 0) {
		fp_seterr(c->cc_err, c->cc_errsize,
		    "is(%.*s) can never hold for %s (at %zu)", (int)tlen,
		    tname, st->st_n ? fp_sent_name(c, &st->st_v[0]) : "{}",
		    a->ak_pos);
		return EMBER_EINVAL;
	}
	if (st->st_n == 0) {
		if ((rc = fp_emit(c, FP_NOTHING, NONE, 0, 0, 0, 0, node)) !=
		    EMBER_OK)
			return rc;
		return fp_state_one(out, c->cc_t_boolean, NONE);
	}
	if ((rc = fp_emit(c, FP_IS, in, 0, 0, T, NONE, node)) != EMBER_OK)
		return rc;
	return fp_state_one(out, c->cc_t_boolean, NONE);
}

static int fp_compile(struct fp_compiler *c, int ai,
    const struct fp_state *focus, int at_root, struct fp_state *out,
    uint32_t *node);

/* The text of a type-name argument: an identifier, or FHIR.X. */
static int
fp_arg_typename(struct fp_compiler *c, int ai, const char **name,
    size_t *len)
{
	const struct fp_ast *a = &c->cc_p->pp_ast[ai];

	if (a->ak_kind == A_IDENT && a->ak_input == -1) {
		*name = fp_ast_text(c, a);
		*len = a->ak_slen;
		return EMBER_OK;
	}
	if (a->ak_kind == A_IDENT &&
	    c->cc_p->pp_ast[a->ak_input].ak_kind == A_IDENT &&
	    c->cc_p->pp_ast[a->ak_input].ak_input == -1) {
		const struct fp_ast *q = &c->cc_p->pp_ast[a->ak_input];

		if ((q->ak_slen == 4 && !memcmp(fp_ast_text(c, q), "FHIR", 4)) ||
		    (q->ak_slen == 6 &&
		    !memcmp(fp_ast_text(c, q), "System", 6))) {
			*name = fp_ast_text(c, a);
			*len = a->ak_slen;
			return EMBER_OK;
		}
	}
	fp_seterr(c->cc_err, c->cc_errsize, "expected a type name at %zu",
	    a->ak_pos);
	return EMBER_EINVAL;
}

static int
fp_arg_string(struct fp_compiler *c, const struct fp_ast *f,
    const char **s, size_t *len)
{
	const struct fp_ast *a;

	if (f->ak_nargs != 1 ||
	    (a = &c->cc_p->pp_ast[f->ak_args[0]])->ak_kind != A_STRING) {
		fp_seterr(c->cc_err, c->cc_errsize,
		    "%s() takes one string literal (at %zu)",
		    fp_ast_text(c, f), f->ak_pos);
		return EMBER_EINVAL;
	}
	*s = fp_ast_text(c, a);
	*len = a->ak_slen;
	return EMBER_OK;
}

static int
fp_fname_is(const struct fp_compiler *c, const struct fp_ast *f,
    const char *name)
{
	size_t n = strlen(name);

	return f->ak_slen == n && memcmp(fp_ast_text(c, f), name, n) == 0;
}

static int
fp_compile_func(struct fp_compiler *c, const struct fp_ast *f, uint32_t in,
    const struct fp_state *st, struct fp_state *out, uint32_t *node)
{
	static const struct {
		const char	*name;
		int		 op;
		int		 bool_result;
	} simple[] = {
		{ "empty", FP_EMPTY, 1 },
		{ "not", FP_NOT, 1 },
		{ "first", FP_FIRST, 0 },
		{ "last", FP_LAST, 0 },
		{ "count", FP_COUNT, 0 },
	};
	const char *s;
	size_t len, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (fp_fname_is(c, f, "resolve")) {
		if (f->ak_nargs != 0)
			goto badargs;
		if ((rc = fp_no_resolve(c, st, f)) != EMBER_OK)
			return rc;
		if ((rc = fp_state_copy(out, st)) != EMBER_OK)
			return rc;
		out->st_resolve = 1;
		*node = in;
		return EMBER_OK;
	}
	if (fp_fname_is(c, f, "ofType") || fp_fname_is(c, f, "as")) {
		if (f->ak_nargs != 1)
			goto badargs;
		if ((rc = fp_arg_typename(c, f->ak_args[0], &s, &len)) !=
		    EMBER_OK)
			return rc;
		return fp_compile_oftype(c, f, s, len, fp_fname_is(c, f, "as"),
		    in, st, out, node);
	}
	if (fp_fname_is(c, f, "is")) {
		if (f->ak_nargs != 1)
			goto badargs;
		if ((rc = fp_arg_typename(c, f->ak_args[0], &s, &len)) !=
		    EMBER_OK)
			return rc;
		return fp_compile_is(c, f, s, len, in, st, out, node);
	}
	if ((rc = fp_no_resolve(c, st, f)) != EMBER_OK)
		return rc;
	if (fp_fname_is(c, f, "where") || fp_fname_is(c, f, "exists")) {
		int is_where = fp_fname_is(c, f, "where");
		struct fp_state pst;
		uint32_t pred = NONE;

		if (f->ak_nargs != (is_where ? 1 : f->ak_nargs) ||
		    f->ak_nargs > 1)
			goto badargs;
		if (f->ak_nargs == 1) {
			if ((rc = fp_compile(c, f->ak_args[0], st, 0, &pst,
			    &pred)) != EMBER_OK)
				return rc;
			rc = fp_no_resolve(c, &pst, f);
			fp_state_free(&pst);
			if (rc != EMBER_OK)
				return rc;
		}
		if ((rc = fp_emit(c, is_where ? FP_WHERE : FP_EXISTS, in, pred,
		    0, 0, 0, node)) != EMBER_OK)
			return rc;
		if (is_where)
			return fp_state_copy(out, st);
		return fp_state_one(out, c->cc_t_boolean, NONE);
	}
	if (fp_fname_is(c, f, "extension") ||
	    fp_fname_is(c, f, "hasExtension")) {
		int ext = fp_fname_is(c, f, "extension");

		if ((rc = fp_arg_string(c, f, &s, &len)) != EMBER_OK)
			return rc;
		if (c->cc_t_extension == NONE) {
			fp_seterr(c->cc_err, c->cc_errsize,
			    "no Extension type in the tables");
			return EMBER_EINVAL;
		}
		if ((rc = fp_emit_str(c, ext ? FP_EXTENSION : FP_HAS_EXTENSION,
		    in, s, len, ext ? c->cc_t_extension : NONE, NONE, node)) !=
		    EMBER_OK)
			return rc;
		return fp_state_one(out, ext ? c->cc_t_extension :
		    c->cc_t_boolean, NONE);
	}
	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (!fp_fname_is(c, f, simple[i].name))
			continue;
		if (f->ak_nargs != 0)
			goto badargs;
		if ((rc = fp_emit(c, (uint8_t)simple[i].op, in, 0, 0, 0, 0,
		    node)) != EMBER_OK)
			return rc;
		if (simple[i].bool_result)
			return fp_state_one(out, c->cc_t_boolean, NONE);
		if (simple[i].op == FP_COUNT)
			return fp_state_one(out, c->cc_t_integer, NONE);
		return fp_state_copy(out, st);
	}
	fp_seterr(c->cc_err, c->cc_errsize,
	    "unsupported function %s() (at %zu)", fp_ast_text(c, f),
	    f->ak_pos);
	return EMBER_EINVAL;
badargs:
	fp_seterr(c->cc_err, c->cc_errsize,
	    "wrong arguments to %s() (at %zu)", fp_ast_text(c, f), f->ak_pos);
	return EMBER_EINVAL;
}

/*
 * Compile AST node ai with the given focus.  at_root: the focus is the
 * resource itself, so a leading type name (`Patient.name`) checks the
 * type rather than naming a member.  *node gets the node index, or
 * NONE when the value is the focus itself.
 */
static int
fp_compile(struct fp_compiler *c, int ai, const struct fp_state *focus,
    int at_root, struct fp_state *out, uint32_t *node)
{
	const struct fp_ast *a = &c->cc_p->pp_ast[ai];
	struct fp_state ist, rst;
	uint32_t in = NONE, rn;
	unsigned T;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&ist, 0, sizeof(ist));
	memset(&rst, 0, sizeof(rst));
	switch (a->ak_kind) {
	case A_THIS:
		*node = NONE;
		return fp_state_copy(out, focus);
	case A_ENV:
		if ((a->ak_slen == 8 &&
		    !memcmp(fp_ast_text(c, a), "resource", 8)) ||
		    (a->ak_slen == 12 &&
		    !memcmp(fp_ast_text(c, a), "rootResource", 12))) {
			if ((rc = fp_emit(c, FP_ROOT, NONE, 0, 0, 0, 0, node)) !=
			    EMBER_OK)
				return rc;
			return fp_state_one(out, c->cc_root_type, NONE);
		}
		if (a->ak_slen == 7 && !memcmp(fp_ast_text(c, a), "context", 7)) {
			*node = NONE;
			return fp_state_copy(out, focus);
		}
		fp_seterr(c->cc_err, c->cc_errsize,
		    "unsupported %%%s (at %zu)", fp_ast_text(c, a), a->ak_pos);
		return EMBER_EINVAL;
	case A_STRING:
	case A_NUMBER:
		if ((rc = fp_emit_str(c, a->ak_kind == A_STRING ? FP_STRING :
		    FP_NUMBER, NONE, fp_ast_text(c, a), a->ak_slen, 0, 0,
		    node)) != EMBER_OK)
			return rc;
		return fp_state_one(out, a->ak_kind == A_STRING ?
		    c->cc_t_string : c->cc_t_decimal, NONE);
	case A_BOOL:
		if ((rc = fp_emit(c, FP_BOOL, NONE, (uint32_t)a->ak_op, 0, 0, 0,
		    node)) != EMBER_OK)
			return rc;
		return fp_state_one(out, c->cc_t_boolean, NONE);
	case A_EMPTY:
		return fp_emit(c, FP_NOTHING, NONE, 0, 0, 0, 0, node);
	case A_IDENT:
		if (a->ak_input == -1) {
			if (at_root && fp_resource_type_name(c->cc_t,
			    fp_ast_text(c, a), a->ak_slen, &T)) {
				if (focus->st_n != 1 ||
				    !tables_type_derives(c->cc_t,
				    focus->st_v[0].se_type, T)) {
					fp_seterr(c->cc_err, c->cc_errsize,
					    "path rooted at %s does not apply "
					    "to %s", fp_ast_text(c, a),
					    focus->st_n ? fp_sent_name(c,
					    &focus->st_v[0]) : "{}");
					return EMBER_EINVAL;
				}
				*node = NONE;
				return fp_state_copy(out, focus);
			}
			return fp_compile_member(c, a, NONE, focus, out, node);
		}
		if ((rc = fp_compile(c, a->ak_input, focus, at_root, &ist,
		    &in)) != EMBER_OK)
			return rc;
		rc = fp_compile_member(c, a, in, &ist, out, node);
		fp_state_free(&ist);
		return rc;
	case A_FUNC:
		if (a->ak_input != -1) {
			if ((rc = fp_compile(c, a->ak_input, focus, at_root,
			    &ist, &in)) != EMBER_OK)
				return rc;
		} else if ((rc = fp_state_copy(&ist, focus)) != EMBER_OK)
			return rc;
		rc = fp_compile_func(c, a, in, &ist, out, node);
		fp_state_free(&ist);
		return rc;
	case A_INDEX: {
		const struct fp_ast *ix = &c->cc_p->pp_ast[a->ak_right];
		unsigned long v;
		char *end;

		if (ix->ak_kind != A_NUMBER || fp_ast_text(c, ix)[0] == '-' ||
		    strchr(fp_ast_text(c, ix), '.') != NULL) {
			fp_seterr(c->cc_err, c->cc_errsize,
			    "indexer must be a non-negative integer literal "
			    "(at %zu)", a->ak_pos);
			return EMBER_EINVAL;
		}
		errno = 0;
		v = strtoul(fp_ast_text(c, ix), &end, 10);
		if (errno != 0 || v > UINT32_MAX - 1) {
			fp_seterr(c->cc_err, c->cc_errsize,
			    "indexer out of range (at %zu)", a->ak_pos);
			return EMBER_EINVAL;
		}
		if ((rc = fp_compile(c, a->ak_input, focus, at_root, &ist,
		    &in)) != EMBER_OK)
			return rc;
		if ((rc = fp_no_resolve(c, &ist, a)) != EMBER_OK ||
		    (rc = fp_emit(c, FP_INDEX, in, (uint32_t)v, 0, 0, 0,
		    node)) != EMBER_OK) {
			fp_state_free(&ist);
			return rc;
		}
		*out = ist;
		return EMBER_OK;
	}
	case A_TYPEOP:
		if ((rc = fp_compile(c, a->ak_input, focus, at_root, &ist,
		    &in)) != EMBER_OK)
			return rc;
		if (a->ak_op == FP_IS)
			rc = fp_compile_is(c, a, fp_ast_text(c, a), a->ak_slen,
			    in, &ist, out, node);
		else
			rc = fp_compile_oftype(c, a, fp_ast_text(c, a),
			    a->ak_slen, 1, in, &ist, out, node);
		fp_state_free(&ist);
		return rc;
	case A_BINOP:
		if ((rc = fp_compile(c, a->ak_left, focus, at_root, &ist,
		    &in)) != EMBER_OK)
			return rc;
		if ((rc = fp_compile(c, a->ak_right, focus, at_root, &rst,
		    &rn)) != EMBER_OK)
			goto binfail;
		if ((rc = fp_no_resolve(c, &ist, a)) != EMBER_OK ||
		    (rc = fp_no_resolve(c, &rst, a)) != EMBER_OK)
			goto binfail;
		if ((rc = fp_emit(c, (uint8_t)a->ak_op, NONE, in, rn, 0, 0,
		    node)) != EMBER_OK)
			goto binfail;
		if (a->ak_op == FP_UNION) {
			*out = ist;
			memset(&ist, 0, sizeof(ist));
			rc = fp_state_merge(out, &rst);
		} else
			rc = fp_state_one(out, c->cc_t_boolean, NONE);
binfail:
		fp_state_free(&ist);
		fp_state_free(&rst);
		return rc;
	}
	fp_seterr(c->cc_err, c->cc_errsize, "bad syntax tree");
	return EMBER_EINVAL;
}

/* Collect the union branches of the expression's top level. */
static int
fp_branches(const struct fp_parser *p, int ai, int **v, size_t *n,
    size_t *cap)
{
	const struct fp_ast *a = &p->pp_ast[ai];
	int rc;

	if (a->ak_kind == A_BINOP && a->ak_op == FP_UNION) {
		if ((rc = fp_branches(p, a->ak_left, v, n, cap)) != EMBER_OK)
			return rc;
		return fp_branches(p, a->ak_right, v, n, cap);
	}
	if ((rc = fp_grow(v, *n, cap, sizeof(**v))) != EMBER_OK)
		return rc;
	(*v)[(*n)++] = ai;
	return EMBER_OK;
}

/*
 * Whether a branch applies to resource type `type`: every identifier
 * its path starts from is a type the resource is (Resource,
 * DomainResource, itself), or, for a relative branch such as
 * `(start | requestedPeriod.start).first()`, an element of the type.
 */
static int
fp_branch_applies(struct fp_compiler *c, int ai, unsigned type)
{
	const struct fp_ast *a = &c->cc_p->pp_ast[ai];
	unsigned T, elem, ty;
	int choice;

	switch (a->ak_kind) {
	case A_IDENT:
		if (a->ak_input != -1)
			return fp_branch_applies(c, a->ak_input, type);
		if (fp_resource_type_name(c->cc_t, fp_ast_text(c, a),
		    a->ak_slen, &T))
			return tables_type_derives(c->cc_t, type, T);
		return fp_resolve_member(c->cc_t, type, NONE,
		    fp_ast_text(c, a), a->ak_slen, &elem, &choice, &ty) ==
		    EMBER_OK;
	case A_FUNC:
	case A_INDEX:
	case A_TYPEOP:
		return a->ak_input == -1 ? 1 :
		    fp_branch_applies(c, a->ak_input, type);
	case A_BINOP:
		return fp_branch_applies(c, a->ak_left, type) &&
		    fp_branch_applies(c, a->ak_right, type);
	default:
		return 1;
	}
}

/* Serialize the nodes and strings into the program's bytes. */
static int
fp_serialize(struct fp_compiler *c, uint32_t root, struct fhirpath_program *p)
{
	size_t len, i;
	unsigned char *b, *q;

	if (c->cc_nnodes == 0 || c->cc_nnodes > FP_MAX_NODES ||
	    c->cc_slen > UINT32_MAX)
		return EMBER_EINVAL;
	len = FP_HEADER_SIZE + FP_NODE_SIZE * c->cc_nnodes + c->cc_slen;
	if ((b = calloc(1, len)) == NULL)
		return EMBER_ENOMEM;
	b[0] = 'F';
	b[1] = 'P';
	b[2] = 1;
	wr16(b + 4, (uint16_t)c->cc_nnodes);
	wr16(b + 6, (uint16_t)root);
	wr32(b + 8, (uint32_t)c->cc_slen);
	for (i = 0; i < c->cc_nnodes; i++) {
		const struct fp_node *n = &c->cc_nodes[i];

		q = b + FP_HEADER_SIZE + FP_NODE_SIZE * i;
		q[0] = n->fn_op;
		q[1] = n->fn_flags;
		wr32(q + 4, n->fn_in);
		wr32(q + 8, n->fn_a);
		wr32(q + 12, n->fn_b);
		wr32(q + 16, n->fn_c);
		wr32(q + 20, n->fn_d);
	}
	if (c->cc_slen)
		memcpy(b + FP_HEADER_SIZE + FP_NODE_SIZE * c->cc_nnodes,
		    c->cc_str, c->cc_slen);
	p->fp_code = b;
	p->fp_len = len;
	return EMBER_OK;
}

static unsigned
fp_type_or_none(const struct tables *t, const char *name)
{
	unsigned idx;

	if (tables_type_lookup(t, name, strlen(name), &idx) != EMBER_OK)
		return NONE;
	return idx;
}

int
fhirpath_compile(const struct tables *t, const char *expr, size_t len,
    unsigned type, const struct fhirpath_program *context, unsigned flags,
    struct fhirpath_program **out, char *err, size_t errsize)
{
	struct fp_parser p;
	struct fp_compiler c;
	struct fhirpath_program *prog = NULL;
	struct fp_state focus, st, acc;
	int *br = NULL;
	size_t nbr = 0, capbr = 0, i;
	uint32_t node = NONE, prev = NONE;
	int rc, root, any = 0;

	memset(&c, 0, sizeof(c));
	memset(&focus, 0, sizeof(focus));
	memset(&st, 0, sizeof(st));
	memset(&acc, 0, sizeof(acc));
	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if ((rc = fp_parse(&p, expr, len, err, errsize, &root)) != EMBER_OK)
		goto done;
	c.cc_t = t;
	c.cc_p = &p;
	c.cc_err = err;
	c.cc_errsize = errsize;
	c.cc_root_type = type;
	c.cc_flags = flags;
	c.cc_t_boolean = fp_type_or_none(t, "boolean");
	c.cc_t_string = fp_type_or_none(t, "string");
	c.cc_t_decimal = fp_type_or_none(t, "decimal");
	c.cc_t_integer = fp_type_or_none(t, "integer");
	c.cc_t_extension = fp_type_or_none(t, "Extension");
	c.cc_t_resource = fp_type_or_none(t, "Resource");
	if ((prog = calloc(1, sizeof(*prog))) == NULL) {
		rc = EMBER_ENOMEM;
		goto done;
	}
	if (context != NULL)
		rc = fp_state_copy(&focus, &context->fp_result);
	else
		rc = fp_state_one(&focus, type, NONE);
	if (rc != EMBER_OK)
		goto done;
	if (!(flags & FHIRPATH_SEARCH) || context != NULL) {
		if ((rc = fp_compile(&c, root, &focus, context == NULL, &acc,
		    &node)) != EMBER_OK)
			goto done;
		if ((rc = fp_no_resolve(&c, &acc, &p.pp_ast[root])) !=
		    EMBER_OK)
			goto done;
	} else {
		if ((rc = fp_branches(&p, root, &br, &nbr, &capbr)) != EMBER_OK)
			goto done;
		if ((prog->fp_used = calloc(nbr, 1)) == NULL) {
			rc = EMBER_ENOMEM;
			goto done;
		}
		prog->fp_branches = nbr;
		for (i = 0; i < nbr; i++) {
			const struct fp_ast *ba = &p.pp_ast[br[i]];

			if (!fp_branch_applies(&c, br[i], type))
				continue;
			if ((rc = fp_compile(&c, br[i], &focus, 1, &st,
			    &node)) != EMBER_OK)
				goto done;
			if ((rc = fp_no_resolve(&c, &st, ba)) != EMBER_OK)
				goto done;
			/* A branch that is a type test yields only true. */
			if (node != NONE && c.cc_nodes[node].fn_op == FP_IS &&
			    (ba->ak_kind == A_TYPEOP || ba->ak_kind == A_FUNC))
				c.cc_nodes[node].fn_flags |= FP_F_FILTER;
			if ((rc = fp_state_merge(&acc, &st)) != EMBER_OK)
				goto done;
			fp_state_free(&st);
			if (any && (rc = fp_emit(&c, FP_UNION, NONE, prev, node,
			    0, 0, &node)) != EMBER_OK)
				goto done;
			prev = node;
			any = 1;
			prog->fp_used[i] = 1;
		}
		if (!any && (flags & FHIRPATH_LENIENT)) {
			const char *tn = tables_type_name(t, type);

			if ((rc = fp_warn(&c, "no branch of the expression "
			    "applies to %s: it yields nothing there",
			    tn != NULL ? tn : "?")) != EMBER_OK ||
			    (rc = fp_emit(&c, FP_NOTHING, NONE, 0, 0, 0, 0,
			    &node)) != EMBER_OK)
				goto done;
		} else if (!any) {
			const char *tn = tables_type_name(t, type);

			fp_seterr(err, errsize,
			    "no branch of the expression applies to %s",
			    tn != NULL ? tn : "?");
			rc = EMBER_ENOTFOUND;
			goto done;
		}
	}
	if (node == NONE &&
	    (rc = fp_emit(&c, FP_THIS, NONE, 0, 0, 0, 0, &node)) != EMBER_OK)
		goto done;
	if ((rc = fp_serialize(&c, node, prog)) != EMBER_OK)
		goto done;
	prog->fp_result = acc;
	memset(&acc, 0, sizeof(acc));
	prog->fp_warnings = c.cc_warn;
	c.cc_warn = NULL;
	*out = prog;
	prog = NULL;
done:
	fhirpath_program_free(prog);
	fp_state_free(&focus);
	fp_state_free(&st);
	fp_state_free(&acc);
	free(br);
	free(c.cc_nodes);
	free(c.cc_str);
	free(c.cc_warn);
	fp_parser_free(&p);
	return rc;
}

void
fhirpath_program_free(struct fhirpath_program *p)
{
	if (p == NULL)
		return;
	free(p->fp_code);
	free(p->fp_used);
	free(p->fp_warnings);
	fp_state_free(&p->fp_result);
	free(p);
}

void
fhirpath_program_code(const struct fhirpath_program *p,
    struct tables_program *out)
{
	out->code = p->fp_code;
	out->len = p->fp_len;
}

const char *
fhirpath_program_warnings(const struct fhirpath_program *p)
{
	return p->fp_warnings;
}

unsigned
fhirpath_program_type(const struct fhirpath_program *p)
{
	if (p->fp_result.st_n != 1 || p->fp_result.st_v[0].se_choice)
		return NONE;
	return p->fp_result.st_v[0].se_type;
}

size_t
fhirpath_program_branches(const struct fhirpath_program *p, size_t i,
    int *used)
{
	if (i < p->fp_branches && used != NULL)
		*used = p->fp_used[i];
	return p->fp_branches;
}

/* ================================================================
 * Program check
 * ================================================================ */

struct fp_prog {
	const unsigned char	*pr_nodes;
	uint32_t		 pr_n;
	uint32_t		 pr_root;
	const char		*pr_str;
	uint32_t		 pr_slen;
};

static void
fp_node_get(const struct fp_prog *pr, uint32_t i, struct fp_node *n)
{
	const unsigned char *q = pr->pr_nodes + (size_t)FP_NODE_SIZE * i;

	n->fn_op = q[0];
	n->fn_flags = q[1];
	n->fn_in = rd32(q + 4);
	n->fn_a = rd32(q + 8);
	n->fn_b = rd32(q + 12);
	n->fn_c = rd32(q + 16);
	n->fn_d = rd32(q + 20);
}

static int
fp_prog_open(const struct tables *t, const struct tables_program *prog,
    struct fp_prog *pr)
{
	uint32_t i, ntypes, nelems;

	if (prog->code == NULL || prog->len < FP_HEADER_SIZE ||
	    prog->code[0] != 'F' || prog->code[1] != 'P' ||
	    prog->code[2] != 1)
		return EMBER_ETABLES;
	pr->pr_n = rd16(prog->code + 4);
	pr->pr_root = rd16(prog->code + 6);
	pr->pr_slen = rd32(prog->code + 8);
	if (pr->pr_n == 0 || pr->pr_root >= pr->pr_n ||
	    (uint64_t)FP_HEADER_SIZE + (uint64_t)FP_NODE_SIZE * pr->pr_n +
	    pr->pr_slen != prog->len)
		return EMBER_ETABLES;
	pr->pr_nodes = prog->code + FP_HEADER_SIZE;
	pr->pr_str = (const char *)prog->code + FP_HEADER_SIZE +
	    (size_t)FP_NODE_SIZE * pr->pr_n;
	ntypes = tables_type_count(t);
	nelems = tables_element_count(t);
	for (i = 0; i < pr->pr_n; i++) {
		struct fp_node n;
		unsigned uses;

		fp_node_get(pr, i, &n);
		if (n.fn_op == 0 || n.fn_op >= FP_OP__MAX)
			return EMBER_ETABLES;
		uses = fp_opinfo[n.fn_op].uses;
		if ((uses & U_IN) ? (n.fn_in != NONE && n.fn_in >= i) :
		    n.fn_in != NONE)
			return EMBER_ETABLES;
		if ((uses & (U_PRED | U_BIN)) && n.fn_a != NONE && n.fn_a >= i)
			return EMBER_ETABLES;
		if ((uses & U_BIN) && n.fn_b != NONE && n.fn_b >= i)
			return EMBER_ETABLES;
		if ((uses & U_STR) && (n.fn_a >= pr->pr_slen ||
		    n.fn_b >= pr->pr_slen - n.fn_a ||
		    pr->pr_str[n.fn_a + n.fn_b] != '\0'))
			return EMBER_ETABLES;
		if ((uses & U_TYPE) && n.fn_c != NONE && n.fn_c >= ntypes)
			return EMBER_ETABLES;
		if ((uses & U_TYPEREQ) && n.fn_c >= ntypes)
			return EMBER_ETABLES;
		if ((uses & U_ELEM) && n.fn_d != NONE && n.fn_d >= nelems)
			return EMBER_ETABLES;
		if ((uses & U_ELEMREQ) && n.fn_d >= nelems)
			return EMBER_ETABLES;
	}
	return EMBER_OK;
}

int
fhirpath_check(const struct tables *t, const struct tables_program *prog)
{
	struct fp_prog pr;

	return fp_prog_open(t, prog, &pr);
}

/* ================================================================
 * Evaluation
 * ================================================================ */

enum fp_ikind { I_NODE, I_BOOL, I_STR, I_NUM };

struct fp_item {
	enum fp_ikind	 it_kind;
	const cJSON	*it_json;	/* I_NODE */
	unsigned	 it_type;
	unsigned	 it_elem;
	int		 it_bool;	/* I_BOOL */
	const char	*it_str;	/* I_STR, NUL-terminated */
	size_t		 it_len;
	double		 it_num;	/* I_NUM */
};

/*
 * A collection.  Most hold an item or two: the first FP_COLL_INLINE live
 * in the collection itself, so that evaluating a path does not allocate
 * for every step.  co_cap is 0 while co_v is NULL or borrowed.
 */
#define FP_COLL_INLINE	4

struct fp_coll {
	struct fp_item	*co_v;		/* co_inline, the heap or borrowed */
	size_t		 co_n;
	size_t		 co_cap;
	struct fp_item	 co_inline[FP_COLL_INLINE];
};

struct fp_eval {
	const struct tables	*ev_t;
	struct fp_prog		 ev_pr;
	const cJSON		*ev_root;
	unsigned		 ev_root_type;
	unsigned long		 ev_budget;
	unsigned		 ev_depth;
	unsigned		 ev_t_boolean;
	unsigned		 ev_t_string;
	unsigned		 ev_t_decimal;
	unsigned		 ev_t_integer;
};

/*
 * Type indexes the evaluator needs only now and then are looked up on
 * first use: most programs never make a boolean, and the root's type
 * matters only to a few ops.  FP_UNSET marks "not looked up yet";
 * FP_ROOT_TYPE is the type of the root resource, resolved likewise.
 */
#define FP_UNSET	0xfffffffeu
#define FP_ROOT_TYPE	0xfffffffdu

static const cJSON fp_json_true = { .type = cJSON_True, .valueint = 1 };
static const cJSON fp_json_false = { .type = cJSON_False };

static unsigned
fp_lazy_type(struct fp_eval *ev, unsigned *slot, const char *name)
{
	if (*slot == FP_UNSET)
		*slot = fp_type_or_none(ev->ev_t, name);
	return *slot;
}

/* The type of an item, resolving the root's on first use. */
static unsigned
fp_item_type(struct fp_eval *ev, const struct fp_item *it)
{
	const cJSON *rt;
	unsigned type;

	if (it->it_type != FP_ROOT_TYPE)
		return it->it_type;
	if (ev->ev_root_type == FP_UNSET) {
		rt = json_get(ev->ev_root, "resourceType");
		if (cJSON_IsString(rt) && rt->valuestring != NULL &&
		    tables_type_lookup(ev->ev_t, rt->valuestring,
		    strlen(rt->valuestring), &type) == EMBER_OK)
			ev->ev_root_type = type;
		else
			ev->ev_root_type = NONE;
	}
	return ev->ev_root_type;
}

static void
fp_coll_init(struct fp_coll *c)
{
	c->co_v = NULL;
	c->co_n = 0;
	c->co_cap = 0;
}

static void
fp_coll_free(struct fp_coll *c)
{
	if (c->co_cap > 0 && c->co_v != c->co_inline)
		free(c->co_v);
	fp_coll_init(c);
}

static int
fp_coll_add(struct fp_eval *ev, struct fp_coll *c, const struct fp_item *it)
{
	int rc;

	if (ev->ev_budget == 0)
		return EMBER_ETABLES;
	ev->ev_budget--;
	if (c->co_cap == 0) {
		c->co_v = c->co_inline;
		c->co_cap = FP_COLL_INLINE;
	} else if (c->co_n == c->co_cap && c->co_v == c->co_inline) {
		struct fp_item *v = malloc(sizeof(*v) * FP_COLL_INLINE * 2);

		if (v == NULL)
			return EMBER_ENOMEM;
		memcpy(v, c->co_inline, sizeof(c->co_inline));
		c->co_v = v;
		c->co_cap = FP_COLL_INLINE * 2;
	} else if ((rc = fp_grow(&c->co_v, c->co_n, &c->co_cap,
	    sizeof(*c->co_v))) != EMBER_OK)
		return rc;
	c->co_v[c->co_n++] = *it;
	return EMBER_OK;
}

static int
fp_add_node(struct fp_eval *ev, struct fp_coll *c, const cJSON *j,
    unsigned type, unsigned elem)
{
	struct fp_item it;

	memset(&it, 0, sizeof(it));
	it.it_kind = I_NODE;
	it.it_json = j;
	it.it_type = type;
	it.it_elem = elem;
	return fp_coll_add(ev, c, &it);
}

static int
fp_add_bool(struct fp_eval *ev, struct fp_coll *c, int v)
{
	struct fp_item it;

	memset(&it, 0, sizeof(it));
	it.it_kind = I_BOOL;
	it.it_bool = v != 0;
	it.it_type = fp_lazy_type(ev, &ev->ev_t_boolean, "boolean");
	it.it_elem = NONE;
	return fp_coll_add(ev, c, &it);
}

/* Add a JSON value: arrays are flattened, nulls skipped. */
static int
fp_add_value(struct fp_eval *ev, struct fp_coll *c, const cJSON *j,
    unsigned type, unsigned elem, int resource)
{
	const cJSON *k;
	int rc;

	if (j == NULL || cJSON_IsNull(j))
		return EMBER_OK;
	if (cJSON_IsArray(j)) {
		for (k = j->child; k != NULL; k = k->next) {
			if (cJSON_IsArray(k))
				continue;	/* not FHIR JSON */
			if ((rc = fp_add_value(ev, c, k, type, elem,
			    resource)) != EMBER_OK)
				return rc;
		}
		return EMBER_OK;
	}
	if (resource && cJSON_IsObject(j)) {
		const cJSON *rt = json_get(j, "resourceType");
		unsigned rtype;

		if (cJSON_IsString(rt) && rt->valuestring != NULL &&
		    tables_type_lookup(ev->ev_t, rt->valuestring,
		    strlen(rt->valuestring), &rtype) == EMBER_OK)
			type = rtype;
		elem = NONE;	/* a resource is its own context */
	}
	return fp_add_node(ev, c, j, type, elem);
}

/* The type index of a runtime item, for type tests. */
static int
fp_item_is(struct fp_eval *ev, const struct fp_item *it, unsigned T)
{
	unsigned type = fp_item_type(ev, it);

	return type != NONE && tables_type_derives(ev->ev_t, type, T);
}

static int fp_eval_node(struct fp_eval *ev, uint32_t idx,
    const struct fp_coll *focus, struct fp_coll *out);

/*
 * The collection a node's input (or operand) names: the focus itself
 * for NONE, else a new evaluation into tmp.  *res points at the result.
 */
static int
fp_eval_input(struct fp_eval *ev, uint32_t idx, const struct fp_coll *focus,
    struct fp_coll *tmp, const struct fp_coll **res)
{
	int rc;

	if (idx == NONE) {
		*res = focus;
		return EMBER_OK;
	}
	if ((rc = fp_eval_node(ev, idx, focus, tmp)) != EMBER_OK)
		return rc;
	*res = tmp;
	return EMBER_OK;
}

/* Add the keys of a choice element present in object j. */
static int
fp_eval_choice(struct fp_eval *ev, const cJSON *j, const char *prefix,
    size_t plen, unsigned elem, struct fp_coll *out)
{
	struct tables_element e;
	const cJSON *k;
	unsigned i;
	int rc;

	if (!cJSON_IsObject(j))
		return EMBER_OK;
	if ((rc = tables_element_get(ev->ev_t, elem, &e)) != EMBER_OK)
		return EMBER_ETABLES;
	for (k = j->child; k != NULL; k = k->next) {
		const char *key = k->string;
		size_t klen;

		if (key == NULL || strncmp(key, prefix, plen) != 0)
			continue;
		key += plen;
		klen = strlen(key);
		if (klen == 0)
			continue;
		for (i = 0; i < e.type_count; i++) {
			unsigned ty = tables_element_type(ev->ev_t, &e, i);
			const char *tn = tables_type_name(ev->ev_t, ty);

			if (tn == NULL)
				return EMBER_ETABLES;
			if (strlen(tn) == klen &&
			    (unsigned char)key[0] == fp_upper((unsigned char)tn[0])
			    && memcmp(key + 1, tn + 1, klen - 1) == 0) {
				if ((rc = fp_add_value(ev, out, k, ty, elem,
				    fp_is_abstract_resource(ev->ev_t, ty))) !=
				    EMBER_OK)
					return rc;
				break;
			}
		}
	}
	return EMBER_OK;
}

/* Member access typed per item (several possible input types). */
static int
fp_eval_member_dyn(struct fp_eval *ev, const struct fp_item *it,
    const char *name, size_t len, struct fp_coll *out)
{
	unsigned elem, type;
	int choice, rc;

	if (it->it_kind != I_NODE || !cJSON_IsObject(it->it_json))
		return EMBER_OK;
	rc = fp_resolve_member(ev->ev_t, fp_item_type(ev, it), it->it_elem,
	    name, len,
	    &elem, &choice, &type);
	if (rc == EMBER_OK && choice)
		return fp_eval_choice(ev, it->it_json, name, len, elem, out);
	if (rc == EMBER_ENOTFOUND) {
		/* Not in the model for this item: plain JSON, untyped. */
		elem = NONE;
		type = NONE;
	} else if (rc != EMBER_OK)
		return EMBER_ETABLES;
	return fp_add_value(ev, out,
	    json_get(it->it_json, name), type, elem,
	    fp_is_abstract_resource(ev->ev_t, type));
}

/* The value kinds used by comparisons. */
enum fp_vkind { V_NONE, V_BOOL, V_STR, V_NUM, V_OBJ };

static enum fp_vkind
fp_value(const struct fp_item *it, int *b, const char **s, size_t *len,
    double *num)
{
	switch (it->it_kind) {
	case I_BOOL:
		*b = it->it_bool;
		return V_BOOL;
	case I_STR:
		*s = it->it_str;
		*len = it->it_len;
		return V_STR;
	case I_NUM:
		*num = it->it_num;
		return V_NUM;
	case I_NODE:
		break;
	}
	if (cJSON_IsTrue(it->it_json) || cJSON_IsFalse(it->it_json)) {
		*b = cJSON_IsTrue(it->it_json);
		return V_BOOL;
	}
	if (cJSON_IsString(it->it_json) && it->it_json->valuestring != NULL) {
		*s = it->it_json->valuestring;
		*len = strlen(*s);
		return V_STR;
	}
	if (cJSON_IsNumber(it->it_json)) {
		*num = it->it_json->valuedouble;
		return V_NUM;
	}
	if (cJSON_IsObject(it->it_json) || cJSON_IsArray(it->it_json))
		return V_OBJ;
	return V_NONE;
}

/*
 * Compare two items.  *cmp gets <0, 0, >0; returns 0 when they are not
 * comparable (different kinds).  equiv: case-insensitive strings.
 */
static int
fp_item_cmp(const struct fp_item *x, const struct fp_item *y, int equiv,
    int *cmp)
{
	int bx = 0, by = 0;
	const char *sx = NULL, *sy = NULL;
	size_t lx = 0, ly = 0, i;
	double nx = 0, ny = 0;
	enum fp_vkind kx = fp_value(x, &bx, &sx, &lx, &nx);
	enum fp_vkind ky = fp_value(y, &by, &sy, &ly, &ny);

	if (kx != ky || kx == V_NONE)
		return 0;
	switch (kx) {
	case V_BOOL:
		*cmp = bx - by;
		return 1;
	case V_NUM:
		*cmp = nx < ny ? -1 : nx > ny;
		return 1;
	case V_STR:
		if (!equiv) {
			*cmp = memcmp(sx, sy, lx < ly ? lx : ly);
			if (*cmp == 0)
				*cmp = lx < ly ? -1 : lx > ly;
			return 1;
		}
		for (i = 0; i < lx && i < ly; i++) {
			int a = fp_lower((unsigned char)sx[i]);
			int b = fp_lower((unsigned char)sy[i]);

			if (a != b) {
				*cmp = a - b;
				return 1;
			}
		}
		*cmp = lx < ly ? -1 : lx > ly;
		return 1;
	case V_OBJ:
		*cmp = cJSON_Compare(x->it_json, y->it_json, 1) ? 0 : 1;
		return 1;
	default:
		return 0;
	}
}

/* Singleton truth value: 1 true, 0 false, -1 empty (unknown). */
static int
fp_truth(const struct fp_coll *c)
{
	int b = 0;
	const char *s;
	size_t len;
	double num;

	if (c->co_n != 1)
		return c->co_n == 0 ? -1 : 1;
	if (fp_value(&c->co_v[0], &b, &s, &len, &num) == V_BOOL)
		return b;
	return 1;
}

/* Whether item it already is in c (same node, or same boolean). */
static int
fp_coll_has(const struct fp_coll *c, const struct fp_item *it)
{
	size_t i;

	for (i = 0; i < c->co_n; i++) {
		const struct fp_item *o = &c->co_v[i];

		if (o->it_kind != it->it_kind)
			continue;
		if (it->it_kind == I_NODE && o->it_json == it->it_json &&
		    o->it_type == it->it_type)
			return 1;
		if (it->it_kind == I_BOOL && o->it_bool == it->it_bool)
			return 1;
		if (it->it_kind == I_STR && o->it_len == it->it_len &&
		    memcmp(o->it_str, it->it_str, it->it_len) == 0)
			return 1;
		if (it->it_kind == I_NUM && o->it_num == it->it_num)
			return 1;
	}
	return 0;
}

/* The resource type a reference names, or NONE. */
static unsigned
fp_reference_type(struct fp_eval *ev, const struct fp_item *it)
{
	const cJSON *j = it->it_json, *ref;
	const char *s, *end, *seg, *p;
	unsigned type;

	if (it->it_kind == I_STR)
		s = it->it_str;
	else if (it->it_kind != I_NODE)
		return NONE;
	else if (cJSON_IsString(j))
		s = j->valuestring;
	else if (cJSON_IsObject(j) &&
	    cJSON_IsString(ref = json_get(j, "reference")))
		s = ref->valuestring;
	else
		return NONE;
	if (s == NULL || strncmp(s, "urn:", 4) == 0)
		return NONE;
	if (s[0] == '#') {
		/* A contained resource of the root resource. */
		const cJSON *con = json_get(ev->ev_root, "contained"), *k;

		if (!cJSON_IsArray(con))
			return NONE;
		for (k = con->child; k != NULL; k = k->next) {
			const cJSON *id = json_get(k, "id");
			const cJSON *rt = json_get(k, "resourceType");

			if (cJSON_IsString(id) && id->valuestring != NULL &&
			    strcmp(id->valuestring, s + 1) == 0 &&
			    cJSON_IsString(rt) && rt->valuestring != NULL &&
			    tables_type_lookup(ev->ev_t, rt->valuestring,
			    strlen(rt->valuestring), &type) == EMBER_OK)
				return type;
		}
		return NONE;
	}
	/* Drop a query or fragment and a version: .../Type/id/_history/v */
	end = s + strcspn(s, "?#");
	for (p = s; p + 10 <= end; p++)
		if (memcmp(p, "/_history/", 10) == 0) {
			end = p;
			break;
		}
	/* Type is the second-to-last segment: Type/id or base/Type/id. */
	while (end > s && end[-1] == '/')
		end--;
	p = end;
	while (p > s && p[-1] != '/')
		p--;
	if (p == end || p == s)
		return NONE;	/* no id, or no "/" at all */
	end = p - 1;
	seg = end;
	while (seg > s && seg[-1] != '/')
		seg--;
	if (seg == end)
		return NONE;
	if (tables_type_lookup(ev->ev_t, seg, (size_t)(end - seg), &type) !=
	    EMBER_OK)
		return NONE;
	return type;
}

static int
fp_has_extension(const struct fp_item *it, const char *url, size_t len,
    const cJSON **ext, const cJSON **from)
{
	const cJSON *arr, *k, *u;

	if (it->it_kind != I_NODE || !cJSON_IsObject(it->it_json))
		return 0;
	arr = json_get(it->it_json, "extension");
	if (!cJSON_IsArray(arr))
		return 0;
	for (k = *from != NULL ? (*from)->next : arr->child; k != NULL;
	    k = k->next) {
		u = json_get(k, "url");
		if (cJSON_IsObject(k) && cJSON_IsString(u) &&
		    u->valuestring != NULL && strlen(u->valuestring) == len &&
		    memcmp(u->valuestring, url, len) == 0) {
			*ext = k;
			*from = k;
			return 1;
		}
	}
	return 0;
}

static int
fp_eval_node(struct fp_eval *ev, uint32_t idx, const struct fp_coll *focus,
    struct fp_coll *out)
{
	struct fp_node n;
	struct fp_coll ta, tb, one;
	const struct fp_coll *in = NULL, *ca = NULL, *cb = NULL;
	const char *s = NULL;
	size_t i, slen = 0;
	int rc = EMBER_OK, x, y, cmp;

	if (idx == NONE) {
		for (i = 0; i < focus->co_n; i++)
			if ((rc = fp_coll_add(ev, out, &focus->co_v[i])) !=
			    EMBER_OK)
				return rc;
		return EMBER_OK;
	}
	if (ev->ev_depth >= FP_MAX_DEPTH || ev->ev_budget == 0)
		return EMBER_ETABLES;
	ev->ev_depth++;
	ev->ev_budget--;
	fp_coll_init(&ta);
	fp_coll_init(&tb);
	fp_coll_init(&one);
	fp_node_get(&ev->ev_pr, idx, &n);
	if (fp_opinfo[n.fn_op].uses & U_STR) {
		s = ev->ev_pr.pr_str + n.fn_a;
		slen = n.fn_b;
	}
	if ((fp_opinfo[n.fn_op].uses & U_IN) &&
	    (rc = fp_eval_input(ev, n.fn_in, focus, &ta, &in)) != EMBER_OK)
		goto done;
	if ((fp_opinfo[n.fn_op].uses & U_BIN) &&
	    ((rc = fp_eval_input(ev, n.fn_a, focus, &ta, &ca)) != EMBER_OK ||
	    (rc = fp_eval_input(ev, n.fn_b, focus, &tb, &cb)) != EMBER_OK))
		goto done;
	switch (n.fn_op) {
	case FP_THIS:
		rc = fp_eval_node(ev, NONE, focus, out);
		break;
	case FP_ROOT:
		rc = fp_add_node(ev, out, ev->ev_root, FP_ROOT_TYPE, NONE);
		break;
	case FP_MEMBER:
		for (i = 0; i < in->co_n && rc == EMBER_OK; i++) {
			const struct fp_item *it = &in->co_v[i];

			if (it->it_kind != I_NODE || !cJSON_IsObject(it->it_json))
				continue;
			rc = fp_add_value(ev, out,
			    json_get(it->it_json, s),
			    n.fn_c, n.fn_d, n.fn_flags & FP_F_RESOURCE);
		}
		break;
	case FP_CHOICE:
		for (i = 0; i < in->co_n && rc == EMBER_OK; i++)
			if (in->co_v[i].it_kind == I_NODE)
				rc = fp_eval_choice(ev, in->co_v[i].it_json, s,
				    slen, n.fn_d, out);
		break;
	case FP_MEMBER_DYN:
		for (i = 0; i < in->co_n && rc == EMBER_OK; i++)
			rc = fp_eval_member_dyn(ev, &in->co_v[i], s, slen, out);
		break;
	case FP_OFTYPE:
		for (i = 0; i < in->co_n && rc == EMBER_OK; i++)
			if (fp_item_is(ev, &in->co_v[i], n.fn_c))
				rc = fp_coll_add(ev, out, &in->co_v[i]);
		break;
	case FP_IS:
		if (n.fn_flags & FP_F_FILTER) {
			for (i = 0; i < in->co_n; i++)
				if (fp_item_is(ev, &in->co_v[i], n.fn_c))
					break;
			if (i < in->co_n)
				rc = fp_add_bool(ev, out, 1);
		} else if (in->co_n > 0)
			rc = fp_add_bool(ev, out,
			    fp_item_is(ev, &in->co_v[0], n.fn_c));
		break;
	case FP_RESOLVE_IS:
		for (i = 0; i < in->co_n && rc == EMBER_OK; i++) {
			unsigned rt = fp_reference_type(ev, &in->co_v[i]);

			rc = fp_add_bool(ev, out, rt != NONE &&
			    tables_type_derives(ev->ev_t, rt, n.fn_c));
		}
		break;
	case FP_EXTENSION:
		for (i = 0; i < in->co_n && rc == EMBER_OK; i++) {
			const cJSON *ext = NULL, *from = NULL;

			while (rc == EMBER_OK && fp_has_extension(&in->co_v[i],
			    s, slen, &ext, &from))
				rc = fp_add_node(ev, out, ext, n.fn_c, NONE);
		}
		break;
	case FP_HAS_EXTENSION:
		x = 0;
		for (i = 0; i < in->co_n && !x; i++) {
			const cJSON *ext = NULL, *from = NULL;

			x = fp_has_extension(&in->co_v[i], s, slen, &ext,
			    &from);
		}
		rc = fp_add_bool(ev, out, x);
		break;
	case FP_WHERE:
	case FP_EXISTS:
		x = 0;
		for (i = 0; i < in->co_n && rc == EMBER_OK; i++) {
			int keep = 1;

			if (n.fn_a != NONE) {
				struct fp_coll r;

				fp_coll_init(&r);
				one.co_v = &in->co_v[i];
				one.co_n = 1;
				rc = fp_eval_node(ev, n.fn_a, &one, &r);
				keep = fp_truth(&r) == 1;
				fp_coll_free(&r);
				fp_coll_init(&one);
				if (rc != EMBER_OK)
					break;
			}
			if (!keep)
				continue;
			x = 1;
			if (n.fn_op == FP_EXISTS)
				break;
			rc = fp_coll_add(ev, out, &in->co_v[i]);
		}
		if (rc == EMBER_OK && n.fn_op == FP_EXISTS)
			rc = fp_add_bool(ev, out, x);
		break;
	case FP_EMPTY:
		rc = fp_add_bool(ev, out, in->co_n == 0);
		break;
	case FP_NOT:
		if ((x = fp_truth(in)) >= 0 && in->co_n == 1)
			rc = fp_add_bool(ev, out, !x);
		break;
	case FP_FIRST:
		if (in->co_n > 0)
			rc = fp_coll_add(ev, out, &in->co_v[0]);
		break;
	case FP_LAST:
		if (in->co_n > 0)
			rc = fp_coll_add(ev, out, &in->co_v[in->co_n - 1]);
		break;
	case FP_INDEX:
		if (n.fn_a < in->co_n)
			rc = fp_coll_add(ev, out, &in->co_v[n.fn_a]);
		break;
	case FP_COUNT: {
		struct fp_item it;

		memset(&it, 0, sizeof(it));
		it.it_kind = I_NUM;
		it.it_num = (double)in->co_n;
		it.it_type = fp_lazy_type(ev, &ev->ev_t_integer, "integer");
		it.it_elem = NONE;
		rc = fp_coll_add(ev, out, &it);
		break;
	}
	case FP_UNION:
		for (i = 0; i < ca->co_n && rc == EMBER_OK; i++)
			if (!fp_coll_has(out, &ca->co_v[i]))
				rc = fp_coll_add(ev, out, &ca->co_v[i]);
		for (i = 0; i < cb->co_n && rc == EMBER_OK; i++)
			if (!fp_coll_has(out, &cb->co_v[i]))
				rc = fp_coll_add(ev, out, &cb->co_v[i]);
		break;
	case FP_AND:
	case FP_OR:
	case FP_XOR:
	case FP_IMPLIES:
		x = fp_truth(ca);
		y = fp_truth(cb);
		switch (n.fn_op) {
		case FP_AND:
			if (x == 0 || y == 0)
				rc = fp_add_bool(ev, out, 0);
			else if (x == 1 && y == 1)
				rc = fp_add_bool(ev, out, 1);
			break;
		case FP_OR:
			if (x == 1 || y == 1)
				rc = fp_add_bool(ev, out, 1);
			else if (x == 0 && y == 0)
				rc = fp_add_bool(ev, out, 0);
			break;
		case FP_XOR:
			if (x >= 0 && y >= 0)
				rc = fp_add_bool(ev, out, x != y);
			break;
		default:
			if (x == 0 || y == 1)
				rc = fp_add_bool(ev, out, 1);
			else if (x == 1 && y == 0)
				rc = fp_add_bool(ev, out, 0);
			break;
		}
		break;
	case FP_EQ:
	case FP_NE:
		if (ca->co_n == 0 || cb->co_n == 0)
			break;
		x = ca->co_n == cb->co_n;
		for (i = 0; i < ca->co_n && x; i++)
			x = fp_item_cmp(&ca->co_v[i], &cb->co_v[i], 0, &cmp) &&
			    cmp == 0;
		rc = fp_add_bool(ev, out, n.fn_op == FP_EQ ? x : !x);
		break;
	case FP_EQUIV:
	case FP_NEQUIV:
		x = ca->co_n == cb->co_n;
		for (i = 0; i < ca->co_n && x; i++)
			x = fp_item_cmp(&ca->co_v[i], &cb->co_v[i], 1, &cmp) &&
			    cmp == 0;
		rc = fp_add_bool(ev, out, n.fn_op == FP_EQUIV ? x : !x);
		break;
	case FP_LT:
	case FP_LE:
	case FP_GT:
	case FP_GE:
		if (ca->co_n != 1 || cb->co_n != 1 ||
		    !fp_item_cmp(&ca->co_v[0], &cb->co_v[0], 0, &cmp))
			break;
		x = n.fn_op == FP_LT ? cmp < 0 : n.fn_op == FP_LE ? cmp <= 0 :
		    n.fn_op == FP_GT ? cmp > 0 : cmp >= 0;
		rc = fp_add_bool(ev, out, x);
		break;
	case FP_STRING:
	case FP_NUMBER: {
		struct fp_item it;

		memset(&it, 0, sizeof(it));
		it.it_elem = NONE;
		if (n.fn_op == FP_STRING) {
			it.it_kind = I_STR;
			it.it_str = s;
			it.it_len = slen;
			it.it_type = fp_lazy_type(ev, &ev->ev_t_string,
			    "string");
		} else {
			it.it_kind = I_NUM;
			it.it_num = strtod(s, NULL);
			it.it_type = fp_lazy_type(ev, &ev->ev_t_decimal,
			    "decimal");
		}
		rc = fp_coll_add(ev, out, &it);
		break;
	}
	case FP_BOOL:
		rc = fp_add_bool(ev, out, n.fn_a != 0);
		break;
	case FP_NOTHING:
		break;
	default:
		rc = EMBER_ETABLES;
		break;
	}
done:
	fp_coll_free(&ta);
	fp_coll_free(&tb);
	ev->ev_depth--;
	return rc;
}

static int
fp_eval_run(const struct tables *t, const struct tables_program *prog,
    const cJSON *resource, const struct fhirpath_value *focusv,
    fhirpath_visit_fn visit, void *arg)
{
	struct fp_eval ev;
	struct fp_coll focus, out;
	size_t i;
	int rc;

	if (prog->len == 0)
		return EMBER_OK;
	memset(&ev, 0, sizeof(ev));
	fp_coll_init(&focus);
	fp_coll_init(&out);
	if ((rc = fp_prog_open(t, prog, &ev.ev_pr)) != EMBER_OK)
		return rc;
	ev.ev_t = t;
	ev.ev_root = resource;
	ev.ev_budget = FP_EVAL_BUDGET;
	ev.ev_root_type = FP_UNSET;
	ev.ev_t_boolean = FP_UNSET;
	ev.ev_t_string = FP_UNSET;
	ev.ev_t_decimal = FP_UNSET;
	ev.ev_t_integer = FP_UNSET;
	if (focusv != NULL)
		rc = fp_add_node(&ev, &focus, focusv->json, focusv->type,
		    focusv->element);
	else if (resource != NULL)
		rc = fp_add_node(&ev, &focus, resource, FP_ROOT_TYPE, NONE);
	if (rc != EMBER_OK)
		goto done;
	if ((rc = fp_eval_node(&ev, ev.ev_pr.pr_root, &focus, &out)) !=
	    EMBER_OK)
		goto done;
	for (i = 0; i < out.co_n; i++) {
		const struct fp_item *it = &out.co_v[i];
		struct fhirpath_value v;
		cJSON tmp;
		const char *tn;

		memset(&tmp, 0, sizeof(tmp));
		v.type = fp_item_type(&ev, it);
		v.element = it->it_elem;
		tn = v.type == NONE ? NULL : tables_type_name(t, v.type);
		v.type_name = tn != NULL ? tn : "";
		switch (it->it_kind) {
		case I_NODE:
			v.json = it->it_json;
			break;
		case I_BOOL:
			v.json = it->it_bool ? &fp_json_true : &fp_json_false;
			break;
		case I_STR: {
			/* The literal stays read-only; cJSON's field is not. */
			union {
				const char	*c;
				char		*m;
			} u;

			u.c = it->it_str;
			tmp.type = cJSON_String;
			tmp.valuestring = u.m;
			v.json = &tmp;
			break;
		}
		case I_NUM:
			tmp.type = cJSON_Number;
			tmp.valuedouble = it->it_num;
			tmp.valueint = it->it_num >= (double)INT32_MAX ?
			    INT32_MAX : it->it_num <= (double)INT32_MIN ?
			    INT32_MIN : (int)it->it_num;
			v.json = &tmp;
			break;
		}
		if ((rc = visit(&v, arg)) != 0)
			goto done;
	}
done:
	fp_coll_free(&focus);
	fp_coll_free(&out);
	return rc;
}

int
fhirpath_eval(const struct tables *t, const struct tables_program *prog,
    const cJSON *resource, fhirpath_visit_fn visit, void *arg)
{
	return fp_eval_run(t, prog, resource, NULL, visit, arg);
}

int
fhirpath_eval_focus(const struct tables *t, const struct tables_program *prog,
    const cJSON *resource, const struct fhirpath_value *focus,
    fhirpath_visit_fn visit, void *arg)
{
	if (focus == NULL || focus->json == NULL)
		return EMBER_EINVAL;
	return fp_eval_run(t, prog, resource, focus, visit, arg);
}

/* ================================================================
 * Disassembly
 * ================================================================ */

static void
fp_fmt_ref(char *buf, size_t size, uint32_t v)
{
	if (v == NONE)
		(void)snprintf(buf, size, "$this");
	else
		(void)snprintf(buf, size, "#%u", (unsigned)v);
}

int
fhirpath_disasm(FILE *out, const struct tables *t,
    const struct tables_program *prog, const char *indent)
{
	struct fp_prog pr;
	uint32_t i;
	int rc;

	if (prog->len == 0) {
		if (fprintf(out, "%s(no path)\n", indent) < 0)
			return EMBER_EIO;
		return EMBER_OK;
	}
	if ((rc = fp_prog_open(t, prog, &pr)) != EMBER_OK)
		return rc;
	for (i = 0; i < pr.pr_n; i++) {
		struct fp_node n;
		struct tables_element e;
		char in[16], a[16], b[16];
		const char *tn;
		unsigned uses;
		int w;

		fp_node_get(&pr, i, &n);
		uses = fp_opinfo[n.fn_op].uses;
		fp_fmt_ref(in, sizeof(in), n.fn_in);
		fp_fmt_ref(a, sizeof(a), n.fn_a);
		fp_fmt_ref(b, sizeof(b), n.fn_b);
		w = fprintf(out, "%s#%u%s %s", indent, (unsigned)i,
		    i == pr.pr_root ? "*" : " ",
		    n.fn_op == FP_OFTYPE && (n.fn_flags & FP_F_AS) ? "as" :
		    fp_opinfo[n.fn_op].name);
		if (w >= 0 && (uses & U_IN))
			w = fprintf(out, " %s", in);
		if (w >= 0 && (uses & U_BIN))
			w = fprintf(out, " %s %s", a, b);
		if (w >= 0 && (uses & U_PRED) && n.fn_a != NONE)
			w = fprintf(out, " (%s)", a);
		if (w >= 0 && n.fn_op == FP_INDEX)
			w = fprintf(out, " [%u]", (unsigned)n.fn_a);
		if (w >= 0 && n.fn_op == FP_BOOL)
			w = fprintf(out, " %s", n.fn_a ? "true" : "false");
		if (w >= 0 && (uses & U_STR))
			w = fprintf(out, " '%s'", pr.pr_str + n.fn_a);
		if (w >= 0 && (uses & (U_TYPE | U_TYPEREQ)) && n.fn_c != NONE &&
		    (tn = tables_type_name(t, n.fn_c)) != NULL)
			w = fprintf(out, " : %s", tn);
		if (w >= 0 && (uses & (U_ELEM | U_ELEMREQ)) && n.fn_d != NONE &&
		    tables_element_get(t, n.fn_d, &e) == EMBER_OK)
			w = fprintf(out, " (%s)", e.path);
		if (w >= 0 && (n.fn_flags & FP_F_RESOURCE))
			w = fprintf(out, " [resource]");
		if (w >= 0 && (n.fn_flags & FP_F_FILTER))
			w = fprintf(out, " [filter]");
		if (w < 0 || fputc('\n', out) == EOF)
			return EMBER_EIO;
	}
	return EMBER_OK;
}
