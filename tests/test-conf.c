/*
 * test-conf.c: configuration keys, values, files and environment.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "error.h"
#include "tap.h"
#include "version.h"

static const struct {
	const char	*key, *value;
	int		 err;
	const char	*dump;	/* expected "key = value" line after setting */
} cases[] = {
	{ "data_dir", "/srv/ember", EMBER_OK, "data_dir = /srv/ember" },
	{ "default_version", "STU3", EMBER_OK, "default_version = STU3" },
	{ "default_version", "r4b", EMBER_OK, "default_version = R4B" },
	{ "default_version", "R6", EMBER_ECONFIG, "default_version = R4" },
	{ "versions", "R4, R5", EMBER_OK, "versions = R4 R5" },
	{ "versions", "DSTU2 STU3 R4 R4B R5", EMBER_OK,
	  "versions = DSTU2 STU3 R4 R4B R5" },
	{ "versions", "", EMBER_ECONFIG, "versions = DSTU2 STU3 R4 R4B R5" },
	{ "versions", "R4 X", EMBER_ECONFIG, "versions = DSTU2 STU3 R4 R4B R5" },
	{ "max_body", "1048576", EMBER_OK, "max_body = 1048576" },
	{ "max_body", "12", EMBER_ECONFIG, "max_body = 16777216" },
	{ "max_body", "-1", EMBER_ECONFIG, "max_body = 16777216" },
	{ "max_body", "10k", EMBER_ECONFIG, "max_body = 16777216" },
	{ "max_count", "500", EMBER_OK, "max_count = 500" },
	{ "max_count", "0", EMBER_ECONFIG, "max_count = 1000" },
	{ "durability", "relaxed", EMBER_OK, "durability = relaxed" },
	{ "durability", "sometimes", EMBER_ECONFIG, "durability = durable" },
	{ "group_commit", "1", EMBER_OK, "group_commit = 1" },
	{ "group_commit", "256", EMBER_OK, "group_commit = 256" },
	{ "group_commit", "0", EMBER_ECONFIG, "group_commit = 32" },
	{ "group_commit", "257", EMBER_ECONFIG, "group_commit = 32" },
	{ "debug_plan", "yes", EMBER_OK, "debug_plan = on" },
	{ "debug_plan", "maybe", EMBER_ECONFIG, "debug_plan = off" },
	{ "no_such_key", "1", EMBER_ECONFIG, NULL },
};

struct find {
	const char	*prefix;
	char		 line[1200];
};

static void
find_line(void *arg, const char *line)
{
	struct find	*f = arg;
	size_t		 n = strlen(f->prefix);

	if (strncmp(line, f->prefix, n) == 0 && line[n] == ' ')
		snprintf(f->line, sizeof(f->line), "%s", line);
}

static const char *
dump_key(const struct conf *c, const char *key, struct find *f)
{
	f->prefix = key;
	f->line[0] = '\0';
	conf_dump(c, find_line, f);
	return f->line;
}

int
main(void)
{
	struct conf	 c;
	struct find	 f;
	char		 err[CONF_ERR_MAX], path[] = "/tmp/ember-test-conf-XXXXXX";
	FILE		*fp;
	size_t		 i;
	int		 fd;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_defaults(&c);
		is_int(conf_set(&c, cases[i].key, cases[i].value, err,
		    sizeof(err)), cases[i].err, "%s = \"%s\"", cases[i].key,
		    cases[i].value);
		if (cases[i].dump)
			is_str(dump_key(&c, cases[i].key, &f), cases[i].dump,
			    "%s after setting \"%s\"", cases[i].key,
			    cases[i].value);
	}

	/* A file: comments, blanks, spaces around '='. */
	fd = mkstemp(path);
	fp = fdopen(fd, "w");
	fputs("# ember.conf\n\n  data_dir = /var/x   # trailing comment\n"
	    "default_version=DSTU2\nmax_count = 20\n", fp);
	fclose(fp);
	conf_defaults(&c);
	is_int(conf_load_file(&c, path, err, sizeof(err)), EMBER_OK,
	    "a valid file loads");
	is_str(c.cf_data_dir, "/var/x", "file: data_dir");
	is_int(c.cf_default_version, FHIR_DSTU2, "file: default_version");
	is_int(c.cf_max_count, 20, "file: max_count");

	/* A bad line names the file and line, and changes nothing. */
	fp = fopen(path, "w");
	fputs("max_count = 20\nmax_body = lots\n", fp);
	fclose(fp);
	conf_defaults(&c);
	is_int(conf_load_file(&c, path, err, sizeof(err)), EMBER_ECONFIG,
	    "a bad value fails the file");
	ok(strstr(err, ":2: max_body") != NULL, "the message names line 2: %s",
	    err);
	is_int(c.cf_max_count, 1000, "nothing of a bad file is applied");

	/* The environment overrides the file. */
	fp = fopen(path, "w");
	fputs("max_count = 20\n", fp);
	fclose(fp);
	setenv("EMBER_CONF", path, 1);
	setenv("EMBER_MAX_COUNT", "30", 1);
	setenv("EMBER_DATA_DIR", "/env/dir", 1);
	is_int(conf_init(&c, NULL, err, sizeof(err)), EMBER_OK, "conf_init");
	is_int(c.cf_max_count, 30, "EMBER_MAX_COUNT overrides the file");
	is_str(c.cf_data_dir, "/env/dir", "EMBER_DATA_DIR");
	setenv("EMBER_MAX_COUNT", "none", 1);
	is_int(conf_init(&c, NULL, err, sizeof(err)), EMBER_ECONFIG,
	    "a bad environment value fails");
	unsetenv("EMBER_MAX_COUNT");
	unsetenv("EMBER_DATA_DIR");
	unlink(path);
	is_int(conf_init(&c, NULL, err, sizeof(err)), EMBER_EIO,
	    "a named config file that is missing is an error");
	unsetenv("EMBER_CONF");
	tap_done();
	return tap_exit();
}
