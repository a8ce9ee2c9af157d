/*
 * ember_fcgi.c: ember.fcgi, the FastCGI worker.
 *
 * The libfcgi loop (the FCGX_ API): for each request, build the core's
 * struct rest_request from the FastCGI parameters and body, call
 * rest_handle(), write the struct rest_response back, free it.  All FHIR
 * knowledge lives in src/; this file only translates.  The worker keeps
 * no state between requests beyond what server_open() mapped at start.
 *
 * Group commit: when a request wrote, the worker takes the requests
 * already waiting for a worker, up to group_commit of them, before it
 * commits (server_group_begin()).  Their writes share one LMDB commit
 * and one sync to disk, each request in a nested transaction of its own,
 * so each stays all or nothing; their answers leave after the commit.
 * Requests that wrote nothing are answered at once.  Taking only what
 * waits already adds no delay to a lone request.  Creates are made ready
 * before the write lock; while another worker holds it (the write token,
 * data_dir/write.lock, which can be asked without waiting), the worker
 * takes and makes ready the requests that come, and answers the reads
 * among them.
 *
 * The listening socket is the one the web server (lighttpd's bin-path,
 * mod_fcgid, spawn-fcgi) passes as file descriptor 0.  SIGTERM and
 * SIGINT end the loop after the current request; SIGPIPE is ignored so a
 * client that went away cannot kill the worker, and SIGXFSZ so that a
 * store that may not grow fails the write (an OperationOutcome) instead.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fastcgi.h>
#include <fcgiapp.h>

#include "buf.h"
#include "conf.h"
#include "error.h"
#include "http.h"
#include "rest.h"
#include "server.h"

/* Another worker writing is asked every 25 µs, after 5 ms every 1 ms. */
#define EMBER_TOKEN_POLL_US	25
#define EMBER_TOKEN_POLLS	200
#define EMBER_TOKEN_POLL_LONG_US 1000

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

/* A request in hand: what it asked, what it is answered. */
struct ember_job {
	FCGX_Request		 j_req;
	struct rest_request	 j_rq;
	struct rest_response	 j_rs;
	int			 j_status;
	char			*j_body;
	char			 j_origin[512];
	unsigned		 j_waits;	/* versions whose commit it
						   waits for (server.h) */
};

/*
 * Build j's request from its FastCGI parameters and body.  0, or (a body
 * shorter than its Content-Length) the status of the answer j holds.
 */
static int
ember_read(struct server *srv, struct ember_job *j)
{
	struct rest_request	*rq = &j->j_rq;
	struct ember_params	 ep;
	const char		*cl, *scheme;
	char			*end;
	unsigned long long	 len = 0;
	size_t			 n, hl;

	memset(rq, 0, sizeof(*rq));
	j->j_body = NULL;
	ember_params_get(j->j_req.envp, &ep);
	rq->rq_method = ep.ep_method != NULL ? ep.ep_method : "GET";
	rq->rq_uri = ep.ep_uri != NULL ? ep.ep_uri : "/";
	if (ep.ep_host != NULL && (hl = strlen(ep.ep_host)) < 400) {
		scheme = ep.ep_https != NULL && strcmp(ep.ep_https, "on") == 0 ?
		    "https://" : "http://";
		n = 0;
		http_text_put(j->j_origin, sizeof(j->j_origin) - 1, &n, scheme,
		    strlen(scheme));
		http_text_put(j->j_origin, sizeof(j->j_origin) - 1, &n,
		    ep.ep_host, hl);
		j->j_origin[n] = '\0';
		rq->rq_origin = j->j_origin;
	}
	rq->rq_accept = ep.ep_accept;
	rq->rq_content_type = ep.ep_content_type;
	rq->rq_if_match = ep.ep_if_match;
	rq->rq_if_none_match = ep.ep_if_none_match;
	rq->rq_if_modified_since = ep.ep_if_modified_since;
	rq->rq_if_none_exist = ep.ep_if_none_exist;
	rq->rq_prefer = ep.ep_prefer;

	if ((cl = ep.ep_content_length) != NULL && *cl != '\0') {
		errno = 0;
		len = strtoull(cl, &end, 10);
		if (errno || *end != '\0' || cl[0] == '-')
			len = (unsigned long long)-1;
	}
	if (len > srv->srv_conf.cf_max_body)
		rq->rq_body_too_big = 1;
	else if (len > 0) {
		if (ember_read_body(j->j_req.in, (size_t)len, &j->j_body) !=
		    EMBER_OK) {
			/* A body shorter than its Content-Length. */
			rest_fail_request(srv, rq, &j->j_rs, EMBER_EINVAL,
			    "request body shorter than its Content-Length");
			return j->j_status = j->j_rs.rs_status;
		}
		rq->rq_body = j->j_body;
		rq->rq_body_len = (size_t)len;
	}
	return j->j_status = 0;
}

/* Write j's answer to its web server, then free it. */
static void
ember_send(struct ember_job *j)
{
	struct rest_response	*rs = &j->j_rs;
	FCGX_Stream		*out = j->j_req.out;
	const char		*p, *reason;
	char			 head[128], num[HTTP_DECIMAL_MAX];
	size_t			 blen, n;
	int			 status = j->j_status;

	rest_response_body(rs, &p, &blen);
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
	FCGX_PutStr(head, (int)n, out);
	if (rs->rs_headers.len)
		FCGX_PutStr(rs->rs_headers.data, (int)rs->rs_headers.len, out);
	n = 0;
	if (status != 304) {
		http_text_put(head, sizeof(head), &n, "Content-Length: ", 16);
		http_text_put(head, sizeof(head), &n, num, http_decimal(
		    rs->rs_no_body && rs->rs_borrowed ? rs->rs_borrowed_len :
		    rs->rs_no_body ? rs->rs_body.len : blen, num));
		http_text_put(head, sizeof(head), &n, "\r\n", 2);
	}
	http_text_put(head, sizeof(head), &n, "\r\n", 2);
	FCGX_PutStr(head, (int)n, out);
	/* Large bodies go out in pieces: FCGX_PutStr takes an int. */
	while (blen > 0) {
		int chunk = blen > (1u << 30) ? 1 << 30 : (int)blen;

		if (FCGX_PutStr(p, chunk, out) < 0)
			break;
		p += chunk;
		blen -= (size_t)chunk;
	}
	rest_response_free(rs);
	rest_unprepare(&j->j_rq);
	free(j->j_body);
	j->j_body = NULL;
}

/*
 * End j's request.  libfcgi's close waits for the web server to close
 * its end first, so that input left unread cannot turn the close into a
 * reset that loses the answer; every answer paid that round trip.  Once
 * the input is read to its end, nothing is left to reset it: the
 * connection is then closed at once (FCGX_Detach()).  A body left
 * unread (over max_body) keeps the wait.
 */
static void
ember_finish(struct ember_job *j)
{
	if (!j->j_rq.rq_body_too_big && FCGX_GetChar(j->j_req.in) == EOF)
		FCGX_Detach(&j->j_req);
	FCGX_Finish_r(&j->j_req);
}

/*
 * Accept a request that is waiting already, without waiting for one:
 * 1 when j holds one.  The listening socket is shared with the other
 * workers, so it is non-blocking only for this accept; a worker whose
 * accept meets it so finds nothing and waits again (ember_wait()).
 */
static int
ember_accept_waiting(FCGX_Request *req)
{
	struct pollfd	pfd;
	int		fl, rc;

	pfd.fd = FCGI_LISTENSOCK_FILENO;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN) ||
	    (fl = fcntl(FCGI_LISTENSOCK_FILENO, F_GETFL)) == -1 ||
	    fcntl(FCGI_LISTENSOCK_FILENO, F_SETFL, fl | O_NONBLOCK) == -1)
		return 0;
	rc = FCGX_Accept_r(req);
	fcntl(FCGI_LISTENSOCK_FILENO, F_SETFL, fl);
	return rc >= 0;
}

/* Wait until a request may be waiting (or a signal came). */
static void
ember_wait(void)
{
	struct pollfd pfd;

	pfd.fd = FCGI_LISTENSOCK_FILENO;
	pfd.events = POLLIN;
	pfd.revents = 0;
	poll(&pfd, 1, -1);
}

/*
 * Wait up to us microseconds for a request to come: 1 when one may be
 * waiting.
 */
static int
ember_wait_us(long us)
{
	struct pollfd	pfd;
	struct timespec	ts;

	pfd.fd = FCGI_LISTENSOCK_FILENO;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	return ppoll(&pfd, 1, &ts, NULL) == 1 && (pfd.revents & POLLIN);
}

/* rest_prepare() j: 1 when it made a create ready. */
static int
ember_prepare(struct server *srv, struct ember_job *j)
{
	rest_prepare(srv, &j->j_rq);
	return j->j_rq.rq_ready != NULL;
}

/* Is j's method one that may write? */
static int
ember_may_write(const struct ember_job *j)
{
	const char *m = j->j_rq.rq_method;

	return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 &&
	    strcmp(m, "OPTIONS") != 0;
}

/*
 * While another worker writes (server_write_try()), take the requests
 * that come into jobs[n], up to max in all: a write is made ready to
 * join the group, anything else is answered at once.  Waiting for LMDB's
 * lock instead, they would join the group unprepared, inside the lock.
 * Returns the jobs held now.
 */
static unsigned
ember_wait_writer(struct server *srv, struct ember_job *jobs, unsigned n,
    unsigned max)
{
	unsigned polls;

	for (polls = 0; !ember_stop && n < max && !server_write_try(srv);
	    polls++) {
		/* A long writer (a load, a large transaction) is waited
		 * for less eagerly. */
		if (!ember_wait_us(polls < EMBER_TOKEN_POLLS ?
		    EMBER_TOKEN_POLL_US : EMBER_TOKEN_POLL_LONG_US) ||
		    !ember_accept_waiting(&jobs[n].j_req))
			continue;
		ember_read(srv, &jobs[n]);
		if (jobs[n].j_status == 0 && ember_may_write(&jobs[n])) {
			ember_prepare(srv, &jobs[n++]);
			continue;
		}
		if (jobs[n].j_status == 0)
			jobs[n].j_status = rest_handle(srv, &jobs[n].j_rq,
			    &jobs[n].j_rs);
		ember_send(&jobs[n]);
		ember_finish(&jobs[n]);
	}
	return n;
}

/*
 * Serve the request in jobs[0].  When it may write, the requests waiting
 * already are taken with it, up to max in all, and made ready first
 * (rest_prepare(): a create's parsing, checking, indexing and packing
 * need no lock); so are those that come while another worker writes,
 * when a create was made ready (server_write_try()).  Then each is
 * answered in turn, their writes sharing one commit
 * (server_group_begin()), and requests that come meanwhile join them as
 * they are.  An answer that depends on the commit leaves after it; when
 * the commit failed, it says so instead.  Any other answer leaves at
 * once.
 */
static void
ember_serve(struct server *srv, struct ember_job *jobs, unsigned max)
{
	unsigned	n = 1, held = 0, ready = 0, failed, i;
	int		group;

	ember_read(srv, &jobs[0]);
	group = max > 1 && jobs[0].j_status == 0 && ember_may_write(&jobs[0]);
	if (group) {
		while (n < max && !ember_stop &&
		    ember_accept_waiting(&jobs[n].j_req))
			ember_read(srv, &jobs[n++]);
		for (i = 0; i < n; i++)
			if (jobs[i].j_status == 0 &&
			    ember_prepare(srv, &jobs[i]))
				ready++;
		/* A group with nothing made ready waits for the lock: most
		 * of its work is done inside the lock anyway, and polling
		 * would take CPU from the worker that holds it. */
		if (ready > 0)
			n = ember_wait_writer(srv, jobs, n, max);
		server_group_begin(srv);
	}
	for (i = 0;; i++) {
		/* Requests that came meanwhile join the group as they are. */
		if (i == n && (!group || n == max || ember_stop ||
		    !ember_accept_waiting(&jobs[n].j_req)))
			break;
		if (i == n)
			ember_read(srv, &jobs[n++]);
		if (jobs[i].j_status == 0)
			jobs[i].j_status = rest_handle(srv, &jobs[i].j_rq,
			    &jobs[i].j_rs);
		if (group && (jobs[i].j_waits = server_group_touched(srv)))
			held++;
		else {
			ember_send(&jobs[i]);
			ember_finish(&jobs[i]);
		}
	}
	if (!group)
		return;
	failed = server_group_end(srv);
	server_write_drop(srv);
	for (i = 0; i < n && held > 0; i++) {
		if (jobs[i].j_waits == 0)
			continue;
		if (jobs[i].j_waits & failed) {
			rest_fail_request(srv, &jobs[i].j_rq, &jobs[i].j_rs,
			    EMBER_ESTORE, "the write could not be committed");
			jobs[i].j_status = jobs[i].j_rs.rs_status;
		}
		ember_send(&jobs[i]);
		ember_finish(&jobs[i]);
		held--;
	}
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
	struct ember_job	*jobs;
	const char		*conf_path = NULL;
	char			 err[512];
	unsigned		 max, i;
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
	sigaction(SIGXFSZ, &sa, NULL);
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
	max = c.cf_group_commit > 0 ? c.cf_group_commit : 1;
	if ((jobs = calloc(max, sizeof(*jobs))) == NULL) {
		fprintf(stderr, "ember.fcgi: out of memory\n");
		server_close(srv);
		return 1;
	}
	for (i = 0; i < max; i++)
		FCGX_InitRequest(&jobs[i].j_req, FCGI_LISTENSOCK_FILENO,
		    FCGI_FAIL_ACCEPT_ON_INTR);
	while (!ember_stop) {
		rc = FCGX_Accept_r(&jobs[0].j_req);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
			/* Another worker's ember_accept_waiting(). */
			ember_wait();
			continue;
		}
		if (rc < 0)
			break;
		ember_serve(srv, jobs, max);
	}
	for (i = 0; i < max; i++)
		FCGX_Free(&jobs[i].j_req, 1);
	free(jobs);
	server_close(srv);
	return 0;
}
