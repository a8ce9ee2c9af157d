/*
 * ember_fcgi.c: ember.fcgi, the FastCGI worker.
 *
 * The libfcgi loop (the FCGX_ API): for each request, build the core's
 * struct rest_request from the FastCGI parameters and body, call
 * rest_handle(), write the struct rest_response back, free it.  All FHIR
 * knowledge lives in src/; this file only translates.  The worker keeps
 * no state between requests beyond what server_open() mapped at start.
 *
 * The listening socket is the one the web server (lighttpd's bin-path,
 * mod_fcgid, spawn-fcgi) passes as file descriptor 0.  SIGTERM and
 * SIGINT end the loop after the current request; SIGPIPE is ignored so a
 * client that went away cannot kill the worker.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "buf.h"
#include "conf.h"
#include "error.h"
#include "http.h"
#include "rest.h"
#include "server.h"

static volatile sig_atomic_t ember_stop;

static void
ember_on_signal(int sig)
{
	(void)sig;
	/* FCGI_FAIL_ACCEPT_ON_INTR makes a blocked accept() return, so
	 * the loop ends and the worker exits through its normal path. */
	ember_stop = 1;
}

static const char *
ember_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 507: return "Insufficient Storage";
	default:  return "Unknown";
	}
}

/* The FastCGI parameters a request needs, borrowed from its envp. */
struct ember_params {
	const char	*ep_method;
	const char	*ep_uri;
	const char	*ep_https;
	const char	*ep_host;
	const char	*ep_content_length;
	const char	*ep_accept;
	const char	*ep_content_type;
	const char	*ep_if_match;
	const char	*ep_if_none_match;
	const char	*ep_if_modified_since;
	const char	*ep_if_none_exist;
	const char	*ep_prefer;
};

#define EMBER_PARAM(name, member) \
	{ name, sizeof(name) - 1, offsetof(struct ember_params, member) }

static const struct ember_param {
	const char	*name;
	size_t		 len;
	size_t		 off;
} ember_param_table[] = {
	EMBER_PARAM("REQUEST_METHOD", ep_method),
	EMBER_PARAM("REQUEST_URI", ep_uri),
	EMBER_PARAM("HTTPS", ep_https),
	EMBER_PARAM("HTTP_HOST", ep_host),
	EMBER_PARAM("CONTENT_LENGTH", ep_content_length),
	EMBER_PARAM("HTTP_ACCEPT", ep_accept),
	EMBER_PARAM("CONTENT_TYPE", ep_content_type),
	EMBER_PARAM("HTTP_IF_MATCH", ep_if_match),
	EMBER_PARAM("HTTP_IF_NONE_MATCH", ep_if_none_match),
	EMBER_PARAM("HTTP_IF_MODIFIED_SINCE", ep_if_modified_since),
	EMBER_PARAM("HTTP_IF_NONE_EXIST", ep_if_none_exist),
	EMBER_PARAM("HTTP_PREFER", ep_prefer),
};

/*
 * Pick the parameters of ember_param_table out of envp ("NAME=value"
 * strings) in one pass; FCGX_GetParam() would scan envp once per name.
 * As with FCGX_GetParam(), the first of repeated names wins.
 */
static void
ember_params_get(FCGX_ParamArray envp, struct ember_params *ep)
{
	const struct ember_param	*t;
	const char			*eq, **slot;
	size_t				 i, len;

	memset(ep, 0, sizeof(*ep));
	for (; *envp != NULL; envp++) {
		if ((eq = strchr(*envp, '=')) == NULL)
			continue;
		len = (size_t)(eq - *envp);
		for (i = 0; i < sizeof(ember_param_table) /
		    sizeof(ember_param_table[0]); i++) {
			t = &ember_param_table[i];
			/* Many names share a length (SERVER_PORT,
			 * REMOTE_ADDR, HTTP_ACCEPT): test a letter first. */
			if (t->len != len || t->name[0] != (*envp)[0] ||
			    t->name[len - 1] != (*envp)[len - 1] ||
			    memcmp(t->name, *envp, len) != 0)
				continue;
			slot = (const char **)(void *)((char *)ep + t->off);
			if (*slot == NULL)
				*slot = eq + 1;
			break;
		}
	}
}

/* Read exactly len bytes of body; EMBER_EINVAL if the stream ends short. */
static int
ember_read_body(FCGX_Stream *in, size_t len, char **out)
{
	char	*body;
	size_t	 got = 0;
	int	 n;

	if ((body = malloc(len + 1)) == NULL)
		return EMBER_ENOMEM;
	while (got < len) {
		n = FCGX_GetStr(body + got, (int)(len - got > 1 << 20 ?
		    1 << 20 : len - got), in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != len) {
		free(body);
		return EMBER_EINVAL;
	}
	body[len] = '\0';
	*out = body;
	return EMBER_OK;
}

static void
ember_serve(struct server *srv, FCGX_Request *req)
{
	struct rest_request	 rq;
	struct rest_response	 rs;
	struct ember_params	 ep;
	const char		*cl, *p, *scheme, *reason;
	char			 origin[512], *body = NULL, *end;
	unsigned long long	 len = 0;
	char			 head[128], num[HTTP_DECIMAL_MAX];
	size_t			 blen, n, hl;
	int			 status;

	memset(&rq, 0, sizeof(rq));
	ember_params_get(req->envp, &ep);
	rq.rq_method = ep.ep_method != NULL ? ep.ep_method : "GET";
	rq.rq_uri = ep.ep_uri != NULL ? ep.ep_uri : "/";
	if (ep.ep_host != NULL && (hl = strlen(ep.ep_host)) < 400) {
		scheme = ep.ep_https != NULL && strcmp(ep.ep_https, "on") == 0 ?
		    "https://" : "http://";
		n = 0;
		http_text_put(origin, sizeof(origin) - 1, &n, scheme,
		    strlen(scheme));
		http_text_put(origin, sizeof(origin) - 1, &n, ep.ep_host, hl);
		origin[n] = '\0';
		rq.rq_origin = origin;
	}
	rq.rq_accept = ep.ep_accept;
	rq.rq_content_type = ep.ep_content_type;
	rq.rq_if_match = ep.ep_if_match;
	rq.rq_if_none_match = ep.ep_if_none_match;
	rq.rq_if_modified_since = ep.ep_if_modified_since;
	rq.rq_if_none_exist = ep.ep_if_none_exist;
	rq.rq_prefer = ep.ep_prefer;

	if ((cl = ep.ep_content_length) != NULL && *cl != '\0') {
		errno = 0;
		len = strtoull(cl, &end, 10);
		if (errno || *end != '\0' || cl[0] == '-')
			len = (unsigned long long)-1;
	}
	if (len > srv->srv_conf.cf_max_body)
		rq.rq_body_too_big = 1;
	else if (len > 0) {
		if (ember_read_body(req->in, (size_t)len, &body) != EMBER_OK) {
			/* A body shorter than its Content-Length. */
			FCGX_FPrintF(req->out, "Status: 400 Bad Request\r\n"
			    "Content-Type: application/fhir+json\r\n\r\n"
			    "{\"resourceType\":\"OperationOutcome\",\"issue\":"
			    "[{\"severity\":\"error\",\"code\":\"structure\","
			    "\"diagnostics\":\"request body shorter than its "
			    "Content-Length\"}]}");
			return;
		}
		rq.rq_body = body;
		rq.rq_body_len = (size_t)len;
	}

	status = rest_handle(srv, &rq, &rs);
	rest_response_body(&rs, &p, &blen);
	/* "Status: 200 OK\r\n", written by hand: printf is a measurable
	 * share of a read's cost. */
	n = 0;
	http_text_put(head, sizeof(head), &n, "Status: ", 8);
	http_text_put(head, sizeof(head), &n, num, http_decimal(
	    (uint64_t)(status < 0 ? 0 : status), num));
	http_text_put(head, sizeof(head), &n, " ", 1);
	reason = ember_reason(status);
	http_text_put(head, sizeof(head), &n, reason, strlen(reason));
	http_text_put(head, sizeof(head), &n, "\r\n", 2);
	FCGX_PutStr(head, (int)n, req->out);
	if (rs.rs_headers.len)
		FCGX_PutStr(rs.rs_headers.data, (int)rs.rs_headers.len,
		    req->out);
	n = 0;
	if (status != 304) {
		http_text_put(head, sizeof(head), &n, "Content-Length: ", 16);
		http_text_put(head, sizeof(head), &n, num, http_decimal(
		    rs.rs_no_body && rs.rs_borrowed ? rs.rs_borrowed_len :
		    rs.rs_no_body ? rs.rs_body.len : blen, num));
		http_text_put(head, sizeof(head), &n, "\r\n", 2);
	}
	http_text_put(head, sizeof(head), &n, "\r\n", 2);
	FCGX_PutStr(head, (int)n, req->out);
	/* Large bodies go out in pieces: FCGX_PutStr takes an int. */
	while (blen > 0) {
		int chunk = blen > (1u << 30) ? 1 << 30 : (int)blen;

		if (FCGX_PutStr(p, chunk, req->out) < 0)
			break;
		p += chunk;
		blen -= (size_t)chunk;
	}
	rest_response_free(&rs);
	free(body);
}

static void
usage(void)
{
	fprintf(stderr, "usage: ember.fcgi [-c ember.conf]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct conf		 c;
	struct server		*srv = NULL;
	struct sigaction	 sa;
	FCGX_Request		 req;
	const char		*conf_path = NULL;
	char			 err[512];
	int			 ch, rc;

	while ((ch = getopt(argc, argv, "c:")) != -1)
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		default:
			usage();
		}
	if ((rc = conf_init(&c, conf_path, err, sizeof(err)))) {
		fprintf(stderr, "ember.fcgi: %s\n", err);
		return 1;
	}
	if ((rc = server_open(&c, &srv, err, sizeof(err)))) {
		fprintf(stderr, "ember.fcgi: %s\n", err);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = ember_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: interrupt accept() */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	if (FCGX_Init() != 0) {
		fprintf(stderr, "ember.fcgi: FCGX_Init failed\n");
		server_close(srv);
		return 1;
	}
	FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!ember_stop && FCGX_Accept_r(&req) >= 0) {
		ember_serve(srv, &req);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	server_close(srv);
	return 0;
}
