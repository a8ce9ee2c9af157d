/*
 * outcome.c: error code -> HTTP status and OperationOutcome; see
 * outcome.h.  Issue codes are taken from the IssueType value set common
 * to DSTU2 through R5, so one table serves every version.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "error.h"
#include "outcome.h"

static const struct {
	int		 status;
	const char	*code;
} outcome_map[EMBER_ERR__MAX] = {
	[EMBER_OK]		= { 200, "informational" },
	[EMBER_ENOMEM]		= { 500, "exception" },
	[EMBER_EINVAL]		= { 400, "invalid" },
	[EMBER_ENOTFOUND]	= { 404, "not-found" },
	[EMBER_ETYPE]		= { 404, "not-supported" },
	[EMBER_EGONE]		= { 410, "not-found" },
	[EMBER_EMETHOD]		= { 405, "not-supported" },
	[EMBER_ENOTACCEPT]	= { 406, "not-supported" },
	[EMBER_ECONFLICT]	= { 409, "conflict" },
	[EMBER_EPRECOND]	= { 412, "conflict" },
	[EMBER_ETOOBIG]		= { 413, "too-long" },
	[EMBER_EURITOOLONG]	= { 414, "too-long" },
	[EMBER_EMEDIA]		= { 415, "not-supported" },
	[EMBER_EUNPROCESSABLE]	= { 422, "processing" },
	[EMBER_EDEPTH]		= { 400, "structure" },
	[EMBER_ENOTIMPL]	= { 501, "not-supported" },
	[EMBER_ECONFIG]		= { 500, "exception" },
	[EMBER_ETABLES]		= { 500, "exception" },
	[EMBER_ESTORE]		= { 500, "exception" },
	[EMBER_EFULL]		= { 507, "no-store" },
	[EMBER_EIO]		= { 500, "exception" },
	[EMBER_EINTERNAL]	= { 500, "exception" },
};

int
outcome_status(int err)
{
	if (err < 0 || err >= EMBER_ERR__MAX || outcome_map[err].status == 0)
		return 500;
	return outcome_map[err].status;
}

const char *
outcome_issue_code(int err)
{
	if (err < 0 || err >= EMBER_ERR__MAX || outcome_map[err].code == NULL)
		return "exception";
	return outcome_map[err].code;
}

int
outcome_write(struct buf *b, const char *severity, const char *code,
    const char *diag)
{
	buf_puts(b, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{"
	    "\"severity\":\"");
	buf_puts(b, severity);
	buf_puts(b, "\",\"code\":\"");
	buf_puts(b, code);
	buf_putc(b, '"');
	if (diag != NULL && *diag != '\0') {
		struct buf	clean = BUF_INIT;
		const char	*p;

		/* A diagnostic may quote the request: control characters
		 * other than tab and newlines become U+FFFD, so the outcome
		 * can be written as XML too. */
		for (p = diag; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t' &&
			    *p != '\n' && *p != '\r')
				buf_puts(&clean, "\xef\xbf\xbd");
			else
				buf_putc(&clean, *p);
		buf_puts(b, ",\"diagnostics\":\"");
		if (buf_error(&clean) == EMBER_OK)
			buf_json_escape(b, clean.data, clean.len);
		buf_putc(b, '"');
		buf_free(&clean);
	}
	buf_puts(b, "}]}");
	return buf_error(b);
}
