/*
 * error.h: the one error type of the Ember core.
 *
 * Every fallible core function returns an enum ember_err.  EMBER_OK is
 * zero, so "if (rc)" tests for failure.  LMDB, cJSON and expat errors are
 * translated into these codes by the module that calls the library; only
 * src/outcome.c maps a code to an HTTP status and an OperationOutcome.
 */
#ifndef EMBER_ERROR_H
#define EMBER_ERROR_H

enum ember_err {
	EMBER_OK = 0,
	EMBER_ENOMEM,		/* out of memory */
	EMBER_EINVAL,		/* malformed input from the client (400) */
	EMBER_ENOTFOUND,	/* no such resource, version or path (404) */
	EMBER_ETYPE,		/* unknown or unsupported resource type (404) */
	EMBER_EGONE,		/* the resource is deleted (410) */
	EMBER_EMETHOD,		/* method not allowed here (405) */
	EMBER_ENOTACCEPT,	/* no acceptable response format (406) */
	EMBER_ECONFLICT,	/* conflicting state (409) */
	EMBER_EPRECOND,		/* a precondition failed (412) */
	EMBER_ETOOBIG,		/* body or entity over a configured limit (413) */
	EMBER_EURITOOLONG,	/* URL or query over the configured limit (414) */
	EMBER_EMEDIA,		/* unsupported Content-Type (415) */
	EMBER_EUNPROCESSABLE,	/* well-formed but semantically invalid (422) */
	EMBER_EDEPTH,		/* nesting deeper than the configured limit (400) */
	EMBER_ENOTIMPL,		/* interaction not implemented (501) */
	EMBER_ECONFIG,		/* bad configuration (startup) */
	EMBER_ETABLES,		/* compiled tables missing, corrupt or mismatched */
	EMBER_ESTORE,		/* storage engine failure (500) */
	EMBER_EFULL,		/* storage map full (507) */
	EMBER_EIO,		/* operating system I/O failure (500) */
	EMBER_EINTERNAL,	/* a bug: an invariant did not hold (500) */
	EMBER_ERR__MAX
};

/*
 * Return a static, human-readable English description of an error code.
 * Never returns NULL; unknown codes give "unknown error".
 */
const char *ember_strerror(int err);

#endif /* EMBER_ERROR_H */
