/*
 * fuzz-rest.c: URL routing and the RESTful interactions, in process:
 * rest_handle() (src/rest.h) on a fresh copy of a small store holding a
 * few resources in every version (see fuzz.h).
 *
 * The input is up to FUZZ_REST_MAX requests separated by a line "%%":
 *
 *	METHOD SP URI LF
 *	Header-Name: value LF		(any number)
 *	LF
 *	body
 *
 * The headers the core reads are Accept, Content-Type, If-Match,
 * If-None-Match, If-Modified-Since, If-None-Exist, Prefer and Origin;
 * "Body-Too-Big: 1" sets rq_body_too_big; others are ignored.  A
 * request without a body has rq_body NULL.  Requests run in order on
 * the same store, so later ones see earlier writes.  Every answer must
 * pass fuzz_check_response().  FUZZ_VERBOSE=1 in the environment prints
 * each request and the start of its answer to stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rest.h"
#include "server.h"

#include "fuzz.h"

#define FUZZ_REST_MAX	16

static const char fuzz_rest_sep[] = "\n%%\n";

/* The next line of [*p, end) as a new C string (NULs cut it short). */
static char *
fuzz_line(const char **p, const char *end)
{
	const char	*s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
	const char	*e = nl ? nl : end;
	char		*line;

	*p = nl ? nl + 1 : end;
	if (e > s && e[-1] == '\r')
		e--;
	line = fuzz_strdup((const uint8_t *)s, (size_t)(e - s));
	return line;
}

static void
fuzz_request(struct server *srv, const char *s, const char *end)
{
	struct rest_request	 rq;
	struct rest_response	 rs;
	char			*first, *sp, *h[16], *line, *v;
	char			*body = NULL;
	size_t			 nh = 0, i;
	int			 status;

	memset(&rq, 0, sizeof(rq));
	first = fuzz_line(&s, end);
	if ((sp = strchr(first, ' ')) != NULL) {
		*sp = '\0';
		rq.rq_uri = sp + 1;
	} else
		rq.rq_uri = "/fhir";
	rq.rq_method = first;
	while (s < end) {
		line = fuzz_line(&s, end);
		if (line[0] == '\0') {
			free(line);
			/* Whatever follows the blank line is the body. */
			body = fuzz_dup((const uint8_t *)s, (size_t)(end - s));
			rq.rq_body = body;
			rq.rq_body_len = (size_t)(end - s);
			break;
		}
		if (nh == sizeof(h) / sizeof(h[0]) ||
		    (v = strchr(line, ':')) == NULL) {
			free(line);
			continue;
		}
		h[nh++] = line;
		*v++ = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "Accept") == 0)
			rq.rq_accept = v;
		else if (strcasecmp(line, "Content-Type") == 0)
			rq.rq_content_type = v;
		else if (strcasecmp(line, "If-Match") == 0)
			rq.rq_if_match = v;
		else if (strcasecmp(line, "If-None-Match") == 0)
			rq.rq_if_none_match = v;
		else if (strcasecmp(line, "If-Modified-Since") == 0)
			rq.rq_if_modified_since = v;
		else if (strcasecmp(line, "If-None-Exist") == 0)
			rq.rq_if_none_exist = v;
		else if (strcasecmp(line, "Prefer") == 0)
			rq.rq_prefer = v;
		else if (strcasecmp(line, "Origin") == 0)
			rq.rq_origin = v;
		else if (strcasecmp(line, "Body-Too-Big") == 0)
			rq.rq_body_too_big = 1;
	}
	status = rest_handle(srv, &rq, &rs);
	if (getenv("FUZZ_VERBOSE") != NULL) {
		const char	*b;
		size_t		 blen;

		rest_response_body(&rs, &b, &blen);
		fprintf(stderr, "%s %s -> %d %.*s\n", rq.rq_method, rq.rq_uri,
		    status, (int)(blen > 2000 ? 2000 : blen), b);
	}
	fuzz_check_response(&rs, status, "rest_handle");
	rest_response_free(&rs);
	for (i = 0; i < nh; i++)
		free(h[i]);
	free(body);
	free(first);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*in = fuzz_dup(data, size);
	const char	*s = in, *end = in + size, *sep;
	struct server	*srv = fuzz_server_begin();
	int		 n;

	for (n = 0; n < FUZZ_REST_MAX && s < end; n++) {
		sep = memmem(s, (size_t)(end - s), fuzz_rest_sep,
		    sizeof(fuzz_rest_sep) - 1);
		fuzz_request(srv, s, sep ? sep : end);
		s = sep ? sep + sizeof(fuzz_rest_sep) - 1 : end;
	}
	fuzz_server_end(srv);
	free(in);
	return 0;
}
