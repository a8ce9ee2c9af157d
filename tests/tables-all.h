/*
 * tables-all.h: open the compiled tables of all five FHIR versions from
 * the build tree, for unit tests that run over every version.
 *
 * Header-only, for tests.  Include after tables.h and tap.h.
 */
#ifndef EMBER_TABLES_ALL_H
#define EMBER_TABLES_ALL_H

#include <stdio.h>
#include <stdlib.h>

enum { V_DSTU2, V_STU3, V_R4, V_R4B, V_R5, V_COUNT };

static const char *const vdir[V_COUNT] = {
	"dstu2", "stu3", "r4", "r4b", "r5"
};

/*
 * Open $EMBER_BUILDDIR/schemas/<version>.tables into tab[V_DSTU2..V_R5].
 * Skips the test (exit 77) without EMBER_BUILDDIR; bails out (exit 1)
 * when a file cannot be opened.
 */
static inline void
tables_open_all(struct tables *tab[V_COUNT])
{
	const char	*builddir = getenv("EMBER_BUILDDIR");
	char		 path[4096];
	int		 v, n;

	if (builddir == NULL)
		tap_skip_all("EMBER_BUILDDIR is not set (run through make check)");
	for (v = 0; v < V_COUNT; v++) {
		n = snprintf(path, sizeof(path), "%s/schemas/%s.tables",
		    builddir, vdir[v]);
		if (n < 0 || (size_t)n >= sizeof(path) ||
		    tables_open(path, &tab[v]) != EMBER_OK) {
			printf("Bail out! cannot open %s\n", path);
			exit(1);
		}
	}
}

/* Close what tables_open_all() opened. */
static inline void
tables_close_all(struct tables *tab[V_COUNT])
{
	int v;

	for (v = 0; v < V_COUNT; v++)
		tables_close(tab[v]);
}

#endif /* EMBER_TABLES_ALL_H */
