/*
 * fuzz-common.c: the helpers of the fuzz targets; see fuzz.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "conf.h"
#include "error.h"
#include "json.h"
#include "rest.h"
#include "server.h"
#include "store.h"
#include "tables.h"
#include "version.h"

#include "fuzz.h"

#ifndef FUZZ_BUILDDIR
#define FUZZ_BUILDDIR "."
#endif

#define FUZZ_MAP_MB	8

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

char *
fuzz_dup(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (p == NULL)
		fuzz_fail("out of memory");
	if (size)
		memcpy(p, data, size);
	return p;
}

char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);

	if (p == NULL)
		fuzz_fail("out of memory");
	if (size)
		memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

const char *
fuzz_tables_dir(void)
{
	static char	 dir[CONF_PATH_MAX];
	const char	*b = getenv("EMBER_BUILDDIR");

	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "%s/schemas",
		    b && *b ? b : FUZZ_BUILDDIR);
	return dir;
}

/* --- tables, opened once ------------------------------------------------ */

static struct {
	char		 name[16];
	struct tables	*t;
} fuzz_tables_open[FHIR_VERSION_COUNT];

static void
fuzz_tables_close(void)
{
	size_t i;

	for (i = 0; i < FHIR_VERSION_COUNT; i++) {
		tables_close(fuzz_tables_open[i].t);
		fuzz_tables_open[i].t = NULL;
	}
}

struct tables *
fuzz_tables(const char *dir_name)
{
	char	path[CONF_PATH_MAX + 64];
	size_t	i;
	int	rc;

	for (i = 0; i < FHIR_VERSION_COUNT && fuzz_tables_open[i].t; i++)
		if (strcmp(fuzz_tables_open[i].name, dir_name) == 0)
			return fuzz_tables_open[i].t;
	if (i == FHIR_VERSION_COUNT)
		fuzz_fail("too many tables");
	snprintf(path, sizeof(path), "%s/%s.tables", fuzz_tables_dir(),
	    dir_name);
	if ((rc = tables_open(path, &fuzz_tables_open[i].t)))
		fuzz_fail("%s: %s (set EMBER_BUILDDIR to the build tree)",
		    path, ember_strerror(rc));
	snprintf(fuzz_tables_open[i].name, sizeof(fuzz_tables_open[i].name),
	    "%s", dir_name);
	if (i == 0)
		atexit(fuzz_tables_close);
	return fuzz_tables_open[i].t;
}

/* --- the scratch folder ------------------------------------------------- */

static char fuzz_scratch_dir[CONF_PATH_MAX];

static int
fuzz_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void
fuzz_rm_scratch(void)
{
	if (fuzz_scratch_dir[0] != '\0')
		nftw(fuzz_scratch_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_scratch(void)
{
	const char	*tmp = getenv("TMPDIR");
	struct stat	 st;

	if (fuzz_scratch_dir[0] != '\0')
		return fuzz_scratch_dir;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(fuzz_scratch_dir, sizeof(fuzz_scratch_dir),
	    "%s/ember-fuzz-XXXXXX", tmp);
	if (mkdtemp(fuzz_scratch_dir) == NULL)
		fuzz_fail("mkdtemp %s: %s", fuzz_scratch_dir, strerror(errno));
	atexit(fuzz_rm_scratch);
	return fuzz_scratch_dir;
}

/* --- the server and its template --------------------------------------- */

static const struct {
	const char	*version;	/* URL segment */
	const char	*method, *path, *body;
	int		 status;
} fuzz_fixtures[] = {
	{ "R4", "PUT", "Patient/example",
	  "{\"resourceType\":\"Patient\",\"id\":\"example\",\"active\":true}",
	  201 },
	{ "R4", "PUT", "Patient/example",
	  "{\"resourceType\":\"Patient\",\"id\":\"example\",\"identifier\":"
	  "[{\"system\":\"urn:t\",\"value\":\"p1\"}],\"active\":true,"
	  "\"name\":[{\"use\":\"official\",\"family\":\"Doe\",\"given\":"
	  "[\"Ann\",\"B.\"]}],\"gender\":\"female\",\"birthDate\":"
	  "\"1980-02-01\",\"managingOrganization\":{\"reference\":"
	  "\"Organization/org1\"}}", 200 },
	{ "R4", "PUT", "Patient/gone",
	  "{\"resourceType\":\"Patient\",\"id\":\"gone\",\"identifier\":"
	  "[{\"system\":\"urn:t\",\"value\":\"p2\"}]}", 201 },
	{ "R4", "DELETE", "Patient/gone", NULL, 200 },
	{ "R4", "PUT", "Patient/nosys",
	  "{\"resourceType\":\"Patient\",\"id\":\"nosys\",\"identifier\":"
	  "[{\"value\":\"p3\"},{\"system\":\"urn:u\",\"value\":\"p1\"},"
	  "{\"system\":\"urn:t\",\"value\":\"a,b|c\"}]}", 201 },
	{ "R4", "PUT", "Organization/org1",
	  "{\"resourceType\":\"Organization\",\"id\":\"org1\",\"identifier\":"
	  "[{\"system\":\"urn:t\",\"value\":\"o1\"}],\"name\":\"Ember\"}",
	  201 },
	{ "R4", "PUT", "Observation/obs1",
	  "{\"resourceType\":\"Observation\",\"id\":\"obs1\",\"status\":"
	  "\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
	  "\"code\":\"29463-7\"}]},\"subject\":{\"reference\":"
	  "\"Patient/example\"},\"valueQuantity\":{\"value\":72.50,"
	  "\"unit\":\"kg\"}}", 201 },
	/* Terminology, a List, contained resources, three-component
	 * composites and typed identifiers (search.c's :in, :below,
	 * _list, _text, _contained, :of-type). */
	{ "R4", "PUT", "CodeSystem/cs",
	  "{\"resourceType\":\"CodeSystem\",\"id\":\"cs\",\"url\":"
	  "\"urn:cs\",\"status\":\"active\",\"content\":\"complete\","
	  "\"concept\":[{\"code\":\"a\",\"concept\":[{\"code\":\"b\","
	  "\"concept\":[{\"code\":\"c\"}]}]},{\"code\":\"d\"}]}", 201 },
	{ "R4", "PUT", "ValueSet/vs",
	  "{\"resourceType\":\"ValueSet\",\"id\":\"vs\",\"url\":"
	  "\"urn:vs\",\"status\":\"active\",\"compose\":{\"include\":"
	  "[{\"system\":\"urn:cs\",\"filter\":[{\"property\":\"concept\","
	  "\"op\":\"is-a\",\"value\":\"b\"}]},{\"system\":"
	  "\"http://loinc.org\"},{\"valueSet\":[\"urn:vs2\"]}],"
	  "\"exclude\":[{\"system\":\"urn:cs\",\"concept\":[{\"code\":"
	  "\"c\"}]}]}}", 201 },
	{ "R4", "PUT", "ValueSet/vs2",
	  "{\"resourceType\":\"ValueSet\",\"id\":\"vs2\",\"url\":"
	  "\"urn:vs2\",\"status\":\"active\",\"compose\":{\"include\":"
	  "[{\"valueSet\":[\"urn:vs\"]},{\"system\":\"urn:t\",\"concept\":"
	  "[{\"code\":\"p1\"}]}]}}", 201 },
	{ "R4", "PUT", "List/l1",
	  "{\"resourceType\":\"List\",\"id\":\"l1\",\"status\":\"current\","
	  "\"mode\":\"working\",\"entry\":[{\"item\":{\"reference\":"
	  "\"Patient/example\"}},{\"item\":{\"reference\":"
	  "\"Observation/obs1/_history/1\"}}]}", 201 },
	{ "R4", "PUT", "MedicationRequest/mr1",
	  "{\"resourceType\":\"MedicationRequest\",\"id\":\"mr1\","
	  "\"contained\":[{\"resourceType\":\"Medication\",\"id\":\"m\","
	  "\"status\":\"active\",\"code\":{\"coding\":[{\"system\":"
	  "\"urn:cs\",\"code\":\"b\"}]}},{\"resourceType\":\"Patient\","
	  "\"id\":\"p\",\"text\":{\"status\":\"generated\",\"div\":"
	  "\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">Ann &amp; "
	  "B\u00f6b</div>\"},\"name\":[{\"family\":\"Doe\"}]}],"
	  "\"status\":\"active\",\"intent\":\"order\","
	  "\"medicationReference\":{\"reference\":\"#m\"},\"subject\":"
	  "{\"reference\":\"Patient/example\"}}", 201 },
	{ "R4", "PUT", "MolecularSequence/ms1",
	  "{\"resourceType\":\"MolecularSequence\",\"id\":\"ms1\","
	  "\"coordinateSystem\":0,\"referenceSeq\":{\"chromosome\":"
	  "{\"coding\":[{\"code\":\"1\"}]},\"windowStart\":10,"
	  "\"windowEnd\":20},\"variant\":[{\"start\":12,\"end\":13}]}",
	  201 },
	{ "R4", "PUT", "Patient/typed",
	  "{\"resourceType\":\"Patient\",\"id\":\"typed\",\"identifier\":"
	  "[{\"type\":{\"coding\":[{\"system\":\"urn:v2\",\"code\":"
	  "\"MR\"}]},\"system\":\"urn:t\",\"value\":\"p9\"}]}", 201 },
	{ "DSTU2", "PUT", "Patient/example",
	  "{\"resourceType\":\"Patient\",\"id\":\"example\",\"identifier\":"
	  "[{\"system\":\"urn:t\",\"value\":\"p1\"}]}", 201 },
	{ "STU3", "PUT", "Patient/example",
	  "{\"resourceType\":\"Patient\",\"id\":\"example\",\"identifier\":"
	  "[{\"system\":\"urn:t\",\"value\":\"p1\"}]}", 201 },
	{ "R4B", "PUT", "Patient/example",
	  "{\"resourceType\":\"Patient\",\"id\":\"example\",\"identifier\":"
	  "[{\"system\":\"urn:t\",\"value\":\"p1\"}]}", 201 },
	{ "R5", "PUT", "Patient/example",
	  "{\"resourceType\":\"Patient\",\"id\":\"example\",\"identifier\":"
	  "[{\"system\":\"urn:t\",\"value\":\"p1\"}]}", 201 },
};

/* The template's data.mdb of each version, read once into memory. */
static struct {
	char	*data;
	size_t	 len;
} fuzz_template[FHIR_VERSION_COUNT];
static struct conf	fuzz_conf;
static int		fuzz_template_ready;

static void
fuzz_template_free(void)
{
	size_t i;

	for (i = 0; i < FHIR_VERSION_COUNT; i++) {
		free(fuzz_template[i].data);
		fuzz_template[i].data = NULL;
	}
}

static void
fuzz_read_file(const char *path, char **data, size_t *len)
{
	FILE	*f;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL ||
	    fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		fuzz_fail("%s: %s", path, strerror(errno));
	if ((*data = malloc((size_t)n + 1)) == NULL)
		fuzz_fail("out of memory");
	if (fread(*data, 1, (size_t)n, f) != (size_t)n)
		fuzz_fail("%s: short read", path);
	fclose(f);
	*len = (size_t)n;
}

static void
fuzz_write_file(const char *path, const char *data, size_t len)
{
	int	fd;
	ssize_t	n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		fuzz_fail("%s: %s", path, strerror(errno));
	while (len > 0) {
		if ((n = write(fd, data, len)) < 0) {
			if (errno == EINTR)
				continue;
			fuzz_fail("%s: %s", path, strerror(errno));
		}
		data += n;
		len -= (size_t)n;
	}
	close(fd);
}

static void
fuzz_template_make(void)
{
	struct server		*srv;
	struct rest_request	 rq;
	struct rest_response	 rs;
	char			 err[512], uri[256], path[CONF_PATH_MAX + 64];
	size_t			 i;
	int			 status;

	conf_defaults(&fuzz_conf);
	snprintf(fuzz_conf.cf_tables_dir, sizeof(fuzz_conf.cf_tables_dir),
	    "%s", fuzz_tables_dir());
	snprintf(fuzz_conf.cf_data_dir, sizeof(fuzz_conf.cf_data_dir),
	    "%s/template", fuzz_scratch());
	fuzz_conf.cf_map_size_mb = FUZZ_MAP_MB;
	fuzz_conf.cf_durability = CONF_RELAXED;
	fuzz_conf.cf_max_entries = 100;
	fuzz_conf.cf_max_delete = 10;
	if (server_open(&fuzz_conf, &srv, err, sizeof(err)) != EMBER_OK)
		fuzz_fail("server_open: %s (set EMBER_BUILDDIR to the build "
		    "tree)", err);
	for (i = 0; i < sizeof(fuzz_fixtures) / sizeof(fuzz_fixtures[0]);
	    i++) {
		snprintf(uri, sizeof(uri), "/fhir/%s/%s",
		    fuzz_fixtures[i].version, fuzz_fixtures[i].path);
		memset(&rq, 0, sizeof(rq));
		rq.rq_method = fuzz_fixtures[i].method;
		rq.rq_uri = uri;
		rq.rq_origin = "http://fuzz.example";
		if (fuzz_fixtures[i].body != NULL) {
			rq.rq_content_type = "application/fhir+json";
			if (strcmp(fuzz_fixtures[i].version, "DSTU2") == 0)
				rq.rq_content_type = "application/json+fhir";
			rq.rq_body = fuzz_fixtures[i].body;
			rq.rq_body_len = strlen(rq.rq_body);
		}
		status = rest_handle(srv, &rq, &rs);
		if (status != fuzz_fixtures[i].status) {
			const char	*b;
			size_t		 blen;

			rest_response_body(&rs, &b, &blen);
			fuzz_fail("fixture %s %s: status %d, want %d: %.*s",
			    rq.rq_method, uri, status, fuzz_fixtures[i].status,
			    (int)blen, b);
		}
		rest_response_free(&rs);
	}
	server_close(srv);
	for (i = 0; i < FHIR_VERSION_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s/data.mdb",
		    fuzz_conf.cf_data_dir, version_get((int)i)->vd_dir);
		fuzz_read_file(path, &fuzz_template[i].data,
		    &fuzz_template[i].len);
	}
	atexit(fuzz_template_free);
	snprintf(fuzz_conf.cf_data_dir, sizeof(fuzz_conf.cf_data_dir),
	    "%s/work", fuzz_scratch());
	for (i = 0; i < FHIR_VERSION_COUNT; i++) {
		snprintf(path, sizeof(path), "%s", fuzz_conf.cf_data_dir);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/%s", fuzz_conf.cf_data_dir,
		    version_get((int)i)->vd_dir);
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			fuzz_fail("%s: %s", path, strerror(errno));
	}
	fuzz_template_ready = 1;
}

/* What changes when a store commits a write. */
static void
fuzz_fingerprint(struct server *srv, uint64_t fp[FHIR_VERSION_COUNT][3])
{
	struct store_txn	*t;
	struct store_stats	 st;
	size_t			 i;

	for (i = 0; i < FHIR_VERSION_COUNT; i++) {
		if (store_txn_begin(srv->srv_v[i].svv_store, 0, &t) ||
		    store_stats(t, &st))
			fuzz_fail("store_stats failed");
		store_txn_abort(t);
		fp[i][0] = st.ss_versions;
		fp[i][1] = st.ss_history;
		fp[i][2] = st.ss_pages;
	}
}

/*
 * The open server, and the template's fingerprint.  A server whose
 * stores still match the fingerprint after an input is kept for the
 * next one (most inputs write nothing); else it is closed and the
 * template copied again.
 */
static struct server	*fuzz_srv;
static uint64_t		 fuzz_srv_fp[FHIR_VERSION_COUNT][3];

static void
fuzz_server_close(void)
{
	server_close(fuzz_srv);
	fuzz_srv = NULL;
}

struct server *
fuzz_server_begin(void)
{
	char		 err[512], path[CONF_PATH_MAX + 64];
	size_t		 i;

	if (fuzz_srv != NULL)
		return fuzz_srv;
	if (!fuzz_template_ready) {
		fuzz_template_make();
		atexit(fuzz_server_close);
	}
	for (i = 0; i < FHIR_VERSION_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s/data.mdb",
		    fuzz_conf.cf_data_dir, version_get((int)i)->vd_dir);
		fuzz_write_file(path, fuzz_template[i].data,
		    fuzz_template[i].len);
	}
	if (server_open(&fuzz_conf, &fuzz_srv, err, sizeof(err)) != EMBER_OK)
		fuzz_fail("server_open: %s", err);
	fuzz_fingerprint(fuzz_srv, fuzz_srv_fp);
	return fuzz_srv;
}

void
fuzz_server_end(struct server *srv)
{
	uint64_t fp[FHIR_VERSION_COUNT][3];

	if (srv != fuzz_srv)
		fuzz_fail("fuzz_server_end: not the open server");
	fuzz_fingerprint(srv, fp);
	if (memcmp(fp, fuzz_srv_fp, sizeof(fp)) != 0)
		fuzz_server_close();
}

/* --- the response oracle ------------------------------------------------ */

void
fuzz_check_response(const struct rest_response *rs, int status,
    const char *what)
{
	const char	*body, *h, *end, *eol, *colon;
	size_t		 len;
	cJSON		*tree = NULL;
	char		 err[256];
	const char	*rt;

	rest_response_body(rs, &body, &len);
	if (status != rs->rs_status)
		fuzz_fail("%s: rest_handle returned %d, rs_status %d", what,
		    status, rs->rs_status);
	if (status < 100 || status > 599)
		fuzz_fail("%s: status %d", what, status);
	if (status == 500)
		fuzz_fail("%s: 500 Internal Server Error: %.*s", what,
		    (int)len, body);
	h = rs->rs_headers.data;
	end = h + rs->rs_headers.len;
	while (h != NULL && h < end) {
		eol = memchr(h, '\r', (size_t)(end - h));
		if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
			fuzz_fail("%s: header line without CRLF: %.*s", what,
			    (int)(end - h), h);
		colon = memchr(h, ':', (size_t)(eol - h));
		if (colon == NULL || colon == h || colon + 1 >= eol ||
		    colon[1] != ' ' || memchr(h, '\n', (size_t)(eol - h)) ||
		    memchr(h, '\0', (size_t)(eol - h)))
			fuzz_fail("%s: malformed header line: %.*s", what,
			    (int)(eol - h), h);
		h = eol + 2;
	}
	if (len == 0)
		return;
	/* An XML answer (Accept or _format asked for it): the declaration
	 * and, for an error, an OperationOutcome. */
	if (rs->rs_headers.data != NULL &&
	    (strstr(rs->rs_headers.data, "+xml; charset=") != NULL ||
	    strstr(rs->rs_headers.data, "/xml+fhir; charset=") != NULL)) {
		if (len < 5 || memcmp(body, "<?xml", 5) != 0)
			fuzz_fail("%s: XML answer without a declaration: %.*s",
			    what, (int)len, body);
		if (status >= 400 && memmem(body, len, "<OperationOutcome",
		    17) == NULL)
			fuzz_fail("%s: status %d without an OperationOutcome: "
			    "%.*s", what, status, (int)len, body);
		return;
	}
	if (json_parse(body, len, 10000, &tree, err, sizeof(err)) != EMBER_OK)
		fuzz_fail("%s: status %d, body is not JSON (%s): %.*s", what,
		    status, err, (int)len, body);
	rt = json_string(tree, "resourceType");
	if (status >= 400 && (rt == NULL || strcmp(rt, "OperationOutcome")))
		fuzz_fail("%s: status %d without an OperationOutcome: %.*s",
		    what, status, (int)len, body);
	cJSON_Delete(tree);
}
