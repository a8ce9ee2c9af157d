/*
 * outcome.h: the one place where a core error becomes an HTTP status and
 * an OperationOutcome (prefix outcome_).
 */
#ifndef EMBER_OUTCOME_H
#define EMBER_OUTCOME_H

struct buf;

/* The HTTP status for an error code (EMBER_OK gives 200). */
int outcome_status(int err);

/* The OperationOutcome issue code for an error ("not-found", ...). */
const char *outcome_issue_code(int err);

/*
 * Append a JSON OperationOutcome with one issue to b.  severity is
 * "fatal", "error", "warning" or "information"; diag may be NULL.
 * The same JSON is valid in every FHIR version Ember serves.
 * Returns EMBER_OK or EMBER_ENOMEM.
 */
int outcome_write(struct buf *b, const char *severity, const char *code,
    const char *diag);

#endif /* EMBER_OUTCOME_H */
