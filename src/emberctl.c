/*
 * emberctl.c: the administration tool.
 *
 *   emberctl [-c conf] [-V version] init
 *   emberctl [-c conf] [-V version] load [--if-empty] [--single-thread] PATH...
 *   emberctl [-c conf] [-V version] reindex
 *   emberctl [-c conf] [-V version] check
 *   emberctl [-c conf] [-V version] stats
 *   emberctl [-c conf] [-V version] backup DIR
 *   emberctl [-c conf] tables [VERSION [TYPE]]
 *   emberctl [-c conf] config
 *
 * It opens the same stores as ember.fcgi (LMDB allows both at once), so
 * every command is safe while the server serves.  emberctl(1) is its
 * manual.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "error.h"
#include "load.h"
#include "server.h"
#include "store.h"
#include "tables.h"
#include "version.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: emberctl [-c ember.conf] [-V version] command [args]\n"
	    "commands:\n"
	    "  init                      create the stores of every enabled version\n"
	    "  load [--if-empty] [--single-thread] PATH...\n"
	    "                            load resources, Bundles, NDJSON, folders\n"
	    "  reindex                   rebuild the search postings\n"
	    "  check                     verify the store is consistent\n"
	    "  stats                     counts and sizes\n"
	    "  backup DIR                compact, consistent copy of the store\n"
	    "  tables [VERSION [TYPE]]   show the compiled tables\n"
	    "  config                    print the effective configuration\n");
	exit(2);
}

static void
emit_line(void *arg, const char *line)
{
	fprintf(arg, "%s\n", line);
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress {
	double	start;
	int	tty;
};

static void
load_progress(void *arg, const struct load_stats *st)
{
	struct progress	*pg = arg;
	double		 el = now_seconds() - pg->start;

	if (!pg->tty)
		return;
	fprintf(stderr, "\r%llu resources, %llu files, %.0f resources/s   ",
	    (unsigned long long)st->ls_resources,
	    (unsigned long long)st->ls_files,
	    el > 0 ? (double)st->ls_resources / el : 0.0);
	fflush(stderr);
}

static int
cmd_load(struct server *srv, struct server_version *sv, const struct conf *c,
    int argc, char *argv[])
{
	struct load_stats	 st;
	struct progress		 pg;
	struct store_txn	*t;
	uint64_t		 n = 0;
	char			 err[1024];
	double			 el;
	int			 i = 0, rc, if_empty = 0;

	/* A second thread prepares each transaction's creates (bundle.c). */
	srv->srv_helpers = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++)
		if (strcmp(argv[i], "--if-empty") == 0)
			if_empty = 1;
		else if (strcmp(argv[i], "--single-thread") == 0)
			srv->srv_helpers = 0;
		else
			usage();
	if (i >= argc)
		usage();
	if (if_empty) {
		if ((rc = store_txn_begin(sv->svv_store, 0, &t)) == EMBER_OK) {
			rc = store_count(t, NULL, 0, &n);
			store_txn_abort(t);
		}
		if (rc) {
			fprintf(stderr, "emberctl: %s\n", ember_strerror(rc));
			return 1;
		}
		if (n > 0) {
			printf("%s: store holds %llu resources; not loading\n",
			    sv->svv_desc->vd_name, (unsigned long long)n);
			return 0;
		}
	}
	memset(&st, 0, sizeof(st));
	pg.start = now_seconds();
	pg.tty = isatty(2);
	if ((rc = load_paths(srv, sv, argv + i, argc - i, c->cf_max_depth,
	    1000, &st, load_progress, &pg, err, sizeof(err)))) {
		if (pg.tty)
			fputc('\n', stderr);
		fprintf(stderr, "emberctl: load: %s\n", err);
		return 1;
	}
	el = now_seconds() - pg.start;
	if (pg.tty)
		fputc('\n', stderr);
	printf("%s: loaded %llu resources from %llu files in %.2f s "
	    "(%.0f resources/s, %llu commits, %llu prepared ahead)\n",
	    sv->svv_desc->vd_name, (unsigned long long)st.ls_resources,
	    (unsigned long long)st.ls_files, el,
	    el > 0 ? (double)st.ls_resources / el : 0.0,
	    (unsigned long long)st.ls_commits,
	    (unsigned long long)srv->srv_prepared);
	return 0;
}

static int
cmd_reindex(struct server *srv)
{
	uint64_t	n;
	double		start;
	int		v, rc;

	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		struct server_version *sv = server_version(srv, v);

		if (sv == NULL)
			continue;
		start = now_seconds();
		if ((rc = load_reindex(sv, 1000, &n))) {
			fprintf(stderr, "emberctl: reindex %s: %s\n",
			    sv->svv_desc->vd_name, ember_strerror(rc));
			return 1;
		}
		printf("%s: reindexed %llu resources in %.2f s\n",
		    sv->svv_desc->vd_name, (unsigned long long)n,
		    now_seconds() - start);
	}
	return 0;
}

static void
report_problem(void *arg, const char *line)
{
	fprintf(arg, "  %s\n", line);
}

static int
cmd_check(struct server *srv)
{
	struct store_txn	*t;
	uint64_t		 problems, total = 0, n;
	int			 v, rc;

	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		struct server_version *sv = server_version(srv, v);

		if (sv == NULL)
			continue;
		if ((rc = store_txn_begin(sv->svv_store, 0, &t)))
			goto fail;
		rc = store_check(t, report_problem, stdout, &problems);
		if (rc == EMBER_OK)
			rc = store_count(t, NULL, 0, &n);
		store_txn_abort(t);
		if (rc)
			goto fail;
		printf("%s: %llu resources, %llu problems\n",
		    sv->svv_desc->vd_name, (unsigned long long)n,
		    (unsigned long long)problems);
		total += problems;
	}
	return total ? 1 : 0;
fail:
	fprintf(stderr, "emberctl: check: %s\n", ember_strerror(rc));
	return 2;
}

static int
cmd_stats(struct server *srv)
{
	struct store_txn	*t;
	struct store_stats	 ss;
	uint64_t		 live;
	int			 v, rc;

	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		struct server_version *sv = server_version(srv, v);

		if (sv == NULL)
			continue;
		if ((rc = store_txn_begin(sv->svv_store, 0, &t)))
			goto fail;
		rc = store_stats(t, &ss);
		if (rc == EMBER_OK)
			rc = store_count(t, NULL, 0, &live);
		store_txn_abort(t);
		if (rc)
			goto fail;
		printf("%-6s resources %llu (current %llu), versions %llu, "
		    "history %llu, postings %llu, recent %llu, %.1f MiB used "
		    "of %.0f MiB map\n", sv->svv_desc->vd_name,
		    (unsigned long long)ss.ss_resources,
		    (unsigned long long)live,
		    (unsigned long long)ss.ss_versions,
		    (unsigned long long)ss.ss_history,
		    (unsigned long long)ss.ss_postings,
		    (unsigned long long)ss.ss_recent,
		    (double)(ss.ss_pages * ss.ss_page_size) / 1048576.0,
		    (double)ss.ss_map_size / 1048576.0);
	}
	return 0;
fail:
	fprintf(stderr, "emberctl: stats: %s\n", ember_strerror(rc));
	return 1;
}

static int
cmd_backup(struct server *srv, const char *dir)
{
	char	path[4096];
	int	v, rc;

	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		struct server_version *sv = server_version(srv, v);

		if (sv == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, sv->svv_desc->vd_dir);
		if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
			fprintf(stderr, "emberctl: %s: %s\n", dir,
			    strerror(errno));
			return 1;
		}
		if (mkdir(path, 0750) != 0) {
			fprintf(stderr, "emberctl: %s: %s\n", path,
			    strerror(errno));
			return 1;
		}
		if ((rc = store_backup(sv->svv_store, path))) {
			fprintf(stderr, "emberctl: backup %s: %s\n", path,
			    ember_strerror(rc));
			return 1;
		}
		printf("%s: backed up to %s\n", sv->svv_desc->vd_name, path);
	}
	return 0;
}

static int
cmd_tables(const struct conf *c, int argc, char *argv[])
{
	struct tables	*tb;
	char		 path[CONF_PATH_MAX + 64];
	int		 v, rc, status = 0;

	for (v = 0; v < FHIR_VERSION_COUNT; v++) {
		const struct version_desc *vd = version_get(v);

		if (argc > 0 && strcasecmp(argv[0], vd->vd_name) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s.tables", c->cf_tables_dir,
		    vd->vd_dir);
		if ((rc = tables_open(path, &tb))) {
			fprintf(stderr, "emberctl: %s: %s\n", path,
			    ember_strerror(rc));
			status = 1;
			continue;
		}
		printf("== %s (FHIR %s): %s\n", vd->vd_name,
		    tables_fhir_version(tb), path);
		if (tables_dump(stdout, tb, argc > 1 ? argv[1] : NULL))
			status = 1;
		tables_close(tb);
	}
	return status;
}

int
main(int argc, char *argv[])
{
	struct conf	 c;
	struct server	*srv = NULL;
	const char	*conf_path = NULL, *cmd;
	char		 err[1024];
	int		 ch, rc, version = -1, status;

	while ((ch = getopt(argc, argv, "+c:V:")) != -1)
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'V':
			if (version_lookup(optarg, strlen(optarg), &version)) {
				fprintf(stderr, "emberctl: unknown FHIR version "
				    "%s (DSTU2 STU3 R4 R4B R5)\n", optarg);
				return 2;
			}
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	cmd = argv[0];
	argc--;
	argv++;

	if ((rc = conf_init(&c, conf_path, err, sizeof(err)))) {
		fprintf(stderr, "emberctl: %s\n", err);
		return 1;
	}
	if (strcmp(cmd, "config") == 0) {
		conf_dump(&c, emit_line, stdout);
		return 0;
	}
	if (strcmp(cmd, "tables") == 0)
		return cmd_tables(&c, argc, argv);
	/* Commands on one version open only that one. */
	if (version >= 0)
		c.cf_versions &= 1U << version;
	if (c.cf_versions == 0) {
		fprintf(stderr, "emberctl: FHIR %s is not enabled\n",
		    version_get(version)->vd_name);
		return 1;
	}
	if ((rc = server_open(&c, &srv, err, sizeof(err)))) {
		fprintf(stderr, "emberctl: %s\n", err);
		return 1;
	}
	if (strcmp(cmd, "init") == 0) {
		printf("stores ready in %s\n", c.cf_data_dir);
		status = 0;
	} else if (strcmp(cmd, "load") == 0) {
		status = cmd_load(srv, server_version(srv, version >= 0 ?
		    version : c.cf_default_version), &c, argc, argv);
	} else if (strcmp(cmd, "reindex") == 0) {
		status = cmd_reindex(srv);
	} else if (strcmp(cmd, "check") == 0) {
		status = cmd_check(srv);
	} else if (strcmp(cmd, "stats") == 0) {
		status = cmd_stats(srv);
	} else if (strcmp(cmd, "backup") == 0) {
		if (argc != 1)
			usage();
		status = cmd_backup(srv, argv[0]);
	} else {
		server_close(srv);
		usage();
		return 2;
	}
	server_close(srv);
	return status;
}
