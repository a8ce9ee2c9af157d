/*
 * term.h: terminology from the resources stored on the server (prefix
 * term_): ValueSet expansion for the token modifiers :in and :not-in,
 * and CodeSystem subsumption for :above and :below.
 *
 * Nothing comes from outside the store: a ValueSet is found by its
 * canonical url (or as ValueSet/id), a code system's hierarchy by the
 * CodeSystem whose url is the system (DSTU2: the ValueSet defining it in
 * codeSystem).  The hierarchy is the nesting of concept.concept.
 */
#ifndef EMBER_TERM_H
#define EMBER_TERM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct buf;
struct store_row;
struct store_txn;
struct tables;

/*
 * A set of codes: explicit (system, code) pairs, whole code systems
 * ("every code of system S"), and pairs excluded from those whole
 * systems.
 */
struct term_set {
	char	**ts_pairs;	/* "code\0system", sorted (term_pair_cmp) */
	size_t	  ts_npairs;
	char	**ts_systems;	/* whole systems */
	size_t	  ts_nsystems;
	char	**ts_except;	/* "code\0system": not in ts_systems */
	size_t	  ts_nexcept;
};

void term_set_free(struct term_set *s);

/*
 * Expand the ValueSet ref ("ValueSet/id", or a canonical url, optionally
 * "|version") stored in t: its expansion.contains when present, else its
 * compose (include by concept, by whole system — the CodeSystem's codes
 * when it is stored and complete — by filter is-a, descendent-of,
 * generalizes or =concept, and other value sets; exclude likewise) and,
 * in DSTU2, its inline codeSystem.  EMBER_OK with *out filled (free with
 * term_set_free); EMBER_EINVAL with a reason in err when the value set
 * is not stored or uses what cannot be evaluated; EMBER_ENOMEM,
 * EMBER_ESTORE.
 */
int term_valueset(struct store_txn *t, const struct tables *tb,
    const char *ref, struct term_set *out, char *err, size_t errsz);

/*
 * The codes of system that code subsumes (below != 0: code and its
 * descendants) or that subsume code (below == 0: code and its
 * ancestors), from the stored CodeSystem of that url.  As
 * term_valueset().
 */
int term_subsumption(struct store_txn *t, const struct tables *tb,
    const char *system, const char *code, int below, struct term_set *out,
    char *err, size_t errsz);

/*
 * Whether (system, code) is in s.  A code with an empty system matches
 * an explicit pair of the same code (a FHIR `code` element carries its
 * system implicitly, through its binding).
 */
int term_contains(const struct term_set *s, const char *code, size_t clen,
    const char *system, size_t slen);

/*
 * Parse the current version of resource rid into a new tree in *out
 * (free with cJSON_Delete).  EMBER_OK; EMBER_ENOTFOUND when it is
 * deleted or unknown; EMBER_EINVAL, EMBER_ENOMEM, EMBER_ESTORE.
 */
int term_current_tree(struct store_txn *t, uint64_t rid, cJSON **out);

/* The same for the row just looked up (store_current(), store_row()). */
int term_row_tree(struct store_txn *t, const struct store_row *row,
    cJSON **out);

#endif /* EMBER_TERM_H */
