/*
 * capability.c: the CapabilityStatement; see capability.h.
 *
 * It states only what works: the interactions in the tables below are
 * exactly those rest.c routes to an implementation.  When an interaction
 * is implemented, it is added here in the same commit.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "buf.h"
#include "capability.h"
#include "date.h"
#include "error.h"
#include "index.h"
#include "rest.h"
#include "server.h"
#include "search.h"
#include "tables.h"

/* Type-level and instance-level interactions for every resource type. */
static const char *const capability_type_interactions[] = {
	"read", "vread", "update", "delete", "history-instance",
	"history-type", "create", "search-type"
};

/* Whole-system interactions ("batch" where the version has the code). */
static const char *const capability_system_interactions[] = {
	"transaction", "search-system", "history-system"
};

/*
 * The searchParam list of resource index ri: every parameter search.c
 * evaluates (search_param_supported()).
 */
static void
capability_params(struct buf *b, const struct tables *tb, unsigned ri)
{
	struct tables_param	p;
	unsigned		first, count, i;
	int			n = 0;

	if (tables_param_range(tb, ri, &first, &count))
		return;
	buf_puts(b, ",\"searchParam\":[");
	for (i = first; i < first + count; i++) {
		if (tables_param_get(tb, i, &p) ||
		    !search_param_supported(tb, &p))
			continue;
		buf_printf(b, "%s{\"name\":\"%.*s\",\"definition\":\"%.*s\","
		    "\"type\":\"%s\"}", n++ ? "," : "", (int)p.code_len, p.code,
		    (int)p.url_len, p.url, tables_param_type_name(p.type));
	}
	buf_putc(b, ']');
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int
capability_write(struct buf *b, const struct server_version *sv,
    const char *base)
{
	const struct version_desc	*vd = sv->svv_desc;
	unsigned			 i, n;
	size_t				 k;
	char				 today[DATE_INSTANT_LEN];

	/* The statement describes this running server: dated today. */
	date_format_instant((uint64_t)time(NULL) * 1000000u, today);
	buf_printf(b, "{\"resourceType\":\"%s\",\"status\":\"active\","
	    "\"date\":\"%.10s\",\"publisher\":\"Ember\","
	    "\"kind\":\"instance\",\"software\":{\"name\":\"Ember\","
	    "\"version\":\"%s\"},\"implementation\":{\"description\":"
	    "\"Ember FHIR server, FHIR %s\",\"url\":\"",
	    vd->vd_capability, today, PACKAGE_VERSION, vd->vd_name);
	buf_json_escape(b, base, strlen(base));
	buf_printf(b, "\"},\"fhirVersion\":\"%s\",", vd->vd_fhir);
	if (vd->vd_accept_unknown)
		buf_puts(b, "\"acceptUnknown\":\"no\",");
	buf_puts(b, "\"format\":[\"json\",\"xml\"],\"rest\":[{\"mode\":\"server\","
	    "\"resource\":[");
	n = tables_resource_count(sv->svv_tables);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_printf(b, "{\"type\":\"%s\",\"interaction\":[",
		    tables_resource_name(sv->svv_tables, i));
		for (k = 0; k < NELEM(capability_type_interactions); k++)
			buf_printf(b, "%s{\"code\":\"%s\"}", k ? "," : "",
			    capability_type_interactions[k]);
		if (vd->vd_patch)
			buf_puts(b, ",{\"code\":\"patch\"}");
		buf_puts(b, "],\"versioning\":\"versioned\","
		    "\"readHistory\":true,\"updateCreate\":true,"
		    "\"conditionalCreate\":true,\"conditionalUpdate\":true,"
		    "\"conditionalDelete\":\"multiple\"");
		capability_params(b, sv->svv_tables, i);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\"interaction\":[");
	for (k = 0; k < NELEM(capability_system_interactions); k++)
		buf_printf(b, "%s{\"code\":\"%s\"}", k ? "," : "",
		    capability_system_interactions[k]);
	if (vd->vd_batch)
		buf_puts(b, ",{\"code\":\"batch\"}");
	buf_puts(b, "]}]}");
	return buf_error(b);
}

int
capability_handle(struct rest_ctx *cx)
{
	struct buf	b = BUF_INIT;
	int		rc;

	if ((rc = capability_write(&b, cx->cx_v, cx->cx_base)) ||
	    (rc = rest_json_body(cx, 200, &b))) {
		buf_free(&b);
		return rest_fail(cx, rc, "cannot build the capability "
		    "statement");
	}
	return EMBER_OK;
}
