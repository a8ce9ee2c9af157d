/*
 * fcgi-trivial.c: the ceiling of `make bench` (tests/bench/bench.sh).
 *
 * A FastCGI responder that does nothing: for every request it answers
 * 200 with the same 3,700-byte JSON body, through the same libfcgi
 * calls as ember.fcgi (FCGX_Accept_r, FCGX_PutStr, FCGX_GetChar to the
 * end of the input, FCGX_Detach, FCGX_Finish_r).  Run
 * behind the same lighttpd configuration as Ember (fcgi/ember-serve with
 * this program in ember.fcgi's place), its rate is the most any FastCGI
 * application can serve on the machine: web server, FastCGI framing and
 * the client, with no application work.  The listening socket is file
 * descriptor 0, as lighttpd's bin-path passes it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

#define TRIVIAL_BODY_LEN 3700

int
main(void)
{
	static const char	 head[] = "{\"resourceType\":\"Binary\","
	    "\"id\":\"trivial\",\"contentType\":\"text/plain\",\"data\":\"";
	static char		 body[TRIVIAL_BODY_LEN];
	FCGX_Request		 req;
	char			 hdr[160];
	size_t			 i;
	int			 n;

	/* A fixed, valid JSON document of exactly TRIVIAL_BODY_LEN bytes. */
	memcpy(body, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i < TRIVIAL_BODY_LEN - 2; i++)
		body[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"[i % 32];
	body[TRIVIAL_BODY_LEN - 2] = '"';
	body[TRIVIAL_BODY_LEN - 1] = '}';
	n = snprintf(hdr, sizeof(hdr), "Status: 200 OK\r\n"
	    "Content-Type: application/fhir+json; charset=utf-8\r\n"
	    "Content-Length: %d\r\n\r\n", TRIVIAL_BODY_LEN);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return 1;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(hdr, n, req.out);
		FCGX_PutStr(body, TRIVIAL_BODY_LEN, req.out);
		/* Closed as ember.fcgi closes (ember_finish()): at once
		 * when the request was read to its end. */
		if (FCGX_GetChar(req.in) == EOF)
			FCGX_Detach(&req);
		FCGX_Finish_r(&req);
	}
	return 0;
}
