/*
 * error.c: descriptions of the core error codes; see error.h.
 */
#include "config.h"

#include <stddef.h>

#include "error.h"

static const char *const ember_errstr[EMBER_ERR__MAX] = {
	[EMBER_OK]		= "success",
	[EMBER_ENOMEM]		= "out of memory",
	[EMBER_EINVAL]		= "malformed request",
	[EMBER_ENOTFOUND]	= "not found",
	[EMBER_ETYPE]		= "unknown resource type",
	[EMBER_EGONE]		= "resource deleted",
	[EMBER_EMETHOD]		= "method not allowed",
	[EMBER_ENOTACCEPT]	= "no acceptable format",
	[EMBER_ECONFLICT]	= "conflict",
	[EMBER_EPRECOND]	= "precondition failed",
	[EMBER_ETOOBIG]		= "request entity too large",
	[EMBER_EURITOOLONG]	= "request URI too long",
	[EMBER_EMEDIA]		= "unsupported media type",
	[EMBER_EUNPROCESSABLE]	= "unprocessable entity",
	[EMBER_EDEPTH]		= "nesting too deep",
	[EMBER_ENOTIMPL]	= "not implemented",
	[EMBER_ECONFIG]		= "configuration error",
	[EMBER_ETABLES]		= "compiled tables missing or corrupt",
	[EMBER_ESTORE]		= "storage failure",
	[EMBER_EFULL]		= "storage full",
	[EMBER_EIO]		= "input/output error",
	[EMBER_EINTERNAL]	= "internal error",
};

const char *
ember_strerror(int err)
{
	if (err < 0 || err >= EMBER_ERR__MAX || ember_errstr[err] == NULL)
		return "unknown error";
	return ember_errstr[err];
}
