/*
 * fhirpath.h: the FHIRPath subset of the search-parameter expressions.
 *
 * The compiler (used by src/tablec at build time, and usable at run
 * time) parses an expression, types it against the type model of a
 * struct tables, and writes a small self-contained program.  The
 * evaluator runs such a program over a cJSON resource and reports each
 * resulting node with its FHIR type.
 *
 * The subset is what the official expressions of DSTU2 (translated from
 * XPath), STU3, R4, R4B and R5 use: member access, `|`, `where(...)`,
 * `exists()`, `empty()`, `not()`, `and`/`or`/`xor`/`implies`, `=`,
 * `!=`, `~`, `!~`, `<`, `<=`, `>`, `>=`, `is`/`as` (operators and
 * functions), `ofType()`, `resolve() is T`, `extension('url')`,
 * `hasExtension('url')`, indexers `[n]`, `first()`, `last()`,
 * `count()`, `$this`, `%resource`, string, number and boolean
 * literals, parentheses.  Anything else is a compile error.
 *
 * Choice elements: `Observation.value` yields every `value*` key that
 * names one of the element's types; `.as(Quantity)`, `as Quantity` and
 * `.ofType(Quantity)` on it compile to the key `valueQuantity`.
 *
 * PROGRAM FORMAT (version 1; all integers little-endian)
 *
 *	0   2   "FP"
 *	2   1   version (1)
 *	3   1   reserved
 *	4   2   node count n (1..65535)
 *	6   2   root node index (< n)
 *	8   4   string area length s
 *	12  24n nodes
 *	12+24n  s bytes of strings, each NUL-terminated
 *
 * A node is u8 op, u8 flags, u16 reserved, then u32 in, a, b, c, d.
 * "in" is the node whose result is the input collection, or NONE for
 * the focus.  Child nodes always have a smaller index than their
 * parent, so a program cannot loop.  Strings are (offset, length)
 * pairs into the string area; types and elements are indexes into the
 * tables the program was compiled against.  The meaning of a, b, c, d
 * per op is in fhirpath.c; fhirpath_disasm() prints it.
 */
#ifndef EMBER_FHIRPATH_H
#define EMBER_FHIRPATH_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "tables.h"

/* One resulting node, as passed to a fhirpath_visit_fn. */
struct fhirpath_value {
	/*
	 * The JSON node (any cJSON type: check before use).  Booleans that
	 * the program computed (exists(), is, =) are static nodes.  Borrowed:
	 * valid during the callback only.
	 */
	const cJSON	*json;
	unsigned	 type;		/* type index, or TABLES_NONE */
	unsigned	 element;	/* element index, or TABLES_NONE */
	const char	*type_name;	/* "HumanName", "dateTime"; "" if unknown */
};

/*
 * Called once per resulting node, in order.  Return 0 to go on; any
 * other value stops the evaluation, and fhirpath_eval() returns it.
 */
typedef int (*fhirpath_visit_fn)(const struct fhirpath_value *value,
    void *arg);

/*
 * Evaluate a program with the resource as focus (and %resource).
 *	t	the tables the program was compiled against.
 *	prog	the program (e.g. tables_param.program).  An empty program
 *		(len 0) yields nothing.
 *	resource	the resource; untrusted: any shape is handled.
 *	visit, arg	called per resulting node.
 * Returns EMBER_OK, the first non-zero visit() result, EMBER_ETABLES
 * (the program is corrupt or exceeds the evaluation limits) or
 * EMBER_ENOMEM.
 */
int fhirpath_eval(const struct tables *t, const struct tables_program *prog,
    const cJSON *resource, fhirpath_visit_fn visit, void *arg);

/*
 * Like fhirpath_eval(), with an explicit focus (e.g. a composite
 * parameter's component, evaluated on each value of the composite's
 * own program).  resource is %resource; focus->json must not be NULL.
 */
int fhirpath_eval_focus(const struct tables *t,
    const struct tables_program *prog, const cJSON *resource,
    const struct fhirpath_value *focus, fhirpath_visit_fn visit, void *arg);

/*
 * Check a program's structure against t: header, lengths, ops, child
 * order, strings, type and element indexes.  EMBER_OK or EMBER_ETABLES.
 */
int fhirpath_check(const struct tables *t, const struct tables_program *prog);

/* A compiled program in memory, with its static result type. */
struct fhirpath_program;

/*
 * Search-parameter mode: the expression is a union of branches, each
 * rooted at a type name (`Patient.name | Practitioner.name`); keep only
 * the branches that apply to the given resource type, and let a
 * trailing `is T` of a branch yield `true` only when it holds.
 */
#define FHIRPATH_SEARCH		0x1u

/*
 * Type-model mismatches are warnings, not errors: an element the model
 * does not know is read untyped, an ofType() that can never match and
 * a base no branch applies to yield nothing, exactly as a dynamic
 * FHIRPath engine would.  The messages are kept; see
 * fhirpath_program_warnings().  Syntax errors and unsupported
 * constructs still fail.  (The official R5 expressions need this: a
 * few name elements R5 removed.)
 */
#define FHIRPATH_LENIENT	0x2u

/*
 * Compile an expression.
 *	t		the type model.
 *	expr, len	the expression text.
 *	type		type index of the focus (a resource type), used
 *			when context is NULL.
 *	context		if not NULL, compile relative to the values that
 *			program yields (composite components).  Borrowed.
 *	flags		0 or FHIRPATH_SEARCH.
 *	out		on success, a new program; free with
 *			fhirpath_program_free().
 *	err, errsize	on EMBER_EINVAL / EMBER_ENOTFOUND, a message
 *			(truncated to fit; may be NULL).
 * Returns EMBER_OK; EMBER_EINVAL for a syntax error, an unsupported
 * construct or a path the type model does not know; EMBER_ENOTFOUND
 * when, under FHIRPATH_SEARCH, no branch applies to the type;
 * EMBER_ETABLES; EMBER_ENOMEM.
 */
int fhirpath_compile(const struct tables *t, const char *expr, size_t len,
    unsigned type, const struct fhirpath_program *context, unsigned flags,
    struct fhirpath_program **out, char *err, size_t errsize);

/* Free a compiled program.  NULL is a no-op. */
void fhirpath_program_free(struct fhirpath_program *p);

/*
 * Under FHIRPATH_SEARCH: the number of top-level union branches of the
 * expression, and in *used (if i is in range and used is not NULL)
 * whether branch i applied to the type the program was compiled for.
 * The table compiler uses it to fail on a branch no base type took.
 */
size_t fhirpath_program_branches(const struct fhirpath_program *p, size_t i,
    int *used);

/*
 * The FHIRPATH_LENIENT warnings of a compilation, "; "-separated, or
 * NULL if there were none.  Valid until fhirpath_program_free().
 */
const char *fhirpath_program_warnings(const struct fhirpath_program *p);

/*
 * The static type of the program's values, when there is exactly one
 * (e.g. "string" for `Patient.name.family`); TABLES_NONE otherwise.
 */
unsigned fhirpath_program_type(const struct fhirpath_program *p);

/* A view of the program's bytes, valid until fhirpath_program_free(). */
void fhirpath_program_code(const struct fhirpath_program *p,
    struct tables_program *out);

/*
 * Write a readable listing of a program, one node per line, each line
 * starting with indent.  Returns EMBER_OK, EMBER_ETABLES (corrupt
 * program) or EMBER_EIO (write error).
 */
int fhirpath_disasm(FILE *out, const struct tables *t,
    const struct tables_program *prog, const char *indent);

#endif /* EMBER_FHIRPATH_H */
