/*
 * test-index.c: the index's building blocks: folding for string search,
 * sortable encodings, and parameter prefixes that do not collide in any
 * version's tables.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "tables.h"
#include "tap.h"

static const struct {
	const char *in, *folded;
} folds[] = {
	{ "León", "leon" },
	{ "MÜLLER", "muller" },
	{ "Straße", "strasse" },
	{ "François Ærø", "francois aro" },
	{ "Nguyễn", "nguy\xe1\xbb\x85n" },	/* outside Latin-1/Ext-A: kept */
	{ "ŁÓDŹ", "lodz" },
	{ "abc123-_", "abc123-_" },
	{ "", "" },
};

static const double numbers[] = { -1e300, -2.5, -1, -0.001, 0, 0.001, 1,
    1.5, 2, 1e10, 1e300 };
static const long long ints[] = { -9000000000000000000LL, -86400000000LL,
    -1, 0, 1, 1000000, 9000000000000000000LL };

int
main(void)
{
	static const char *const versions[] = { "dstu2", "stu3", "r4", "r4b",
	    "r5" };
	const char		*bd = getenv("EMBER_BUILDDIR");
	struct buf		 a = BUF_INIT, b = BUF_INIT;
	struct tables		*tb;
	struct tables_param	 p;
	char			 path[1024];
	uint32_t		*seen;
	size_t			 i, v, n, k;
	unsigned		 first, count, ri, pi;
	int			 clash;

	for (i = 0; i < sizeof(folds) / sizeof(folds[0]); i++) {
		buf_reset(&a);
		index_fold(&a, folds[i].in, strlen(folds[i].in));
		is_str(a.data ? a.data : "", folds[i].folded, "fold \"%s\"",
		    folds[i].in);
	}
	/* At most INDEX_VALUE_MAX bytes kept; a sharp s at the end gives
	 * both its letters, after what was there. */
	{
		static const struct {
			size_t		 as;	/* "A"s, then the tail */
			const char	*tail;
			size_t		 len;	/* folded length */
			const char	*end;	/* its last bytes */
		} cuts[] = {
			{ 250, "", INDEX_VALUE_MAX, "aa" },
			{ INDEX_VALUE_MAX - 1, "\xc3\x9f" "B", INDEX_VALUE_MAX + 1,
			  "ass" },
			{ INDEX_VALUE_MAX - 1, "\xc3\x89" "B", INDEX_VALUE_MAX, "ae" },
		};
		char in[400];

		for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			memset(in, 'A', cuts[i].as);
			snprintf(in + cuts[i].as, sizeof(in) - cuts[i].as, "%s",
			    cuts[i].tail);
			buf_reset(&a);
			buf_puts(&a, "x");
			index_fold(&a, in, strlen(in));
			is_int(a.len, cuts[i].len + 1, "fold cut %zu: length", i);
			ok(a.len >= 4 && strcmp(a.data + a.len -
			    strlen(cuts[i].end), cuts[i].end) == 0,
			    "fold cut %zu: ends \"%s\"", i, cuts[i].end);
		}
	}
	for (i = 0; i + 1 < sizeof(numbers) / sizeof(numbers[0]); i++) {
		buf_reset(&a);
		buf_reset(&b);
		index_put_double(&a, numbers[i]);
		index_put_double(&b, numbers[i + 1]);
		ok(memcmp(a.data, b.data, 8) < 0, "%g sorts before %g",
		    numbers[i], numbers[i + 1]);
		ok(index_get_double((unsigned char *)a.data) == numbers[i],
		    "%g round-trips", numbers[i]);
	}
	for (i = 0; i + 1 < sizeof(ints) / sizeof(ints[0]); i++) {
		buf_reset(&a);
		buf_reset(&b);
		index_put_i64(&a, ints[i]);
		index_put_i64(&b, ints[i + 1]);
		ok(memcmp(a.data, b.data, 8) < 0, "%lld sorts before %lld",
		    ints[i], ints[i + 1]);
		ok(index_get_i64((unsigned char *)a.data) == ints[i],
		    "%lld round-trips", ints[i]);
	}

	/* No two parameters of one version share a prefix. */
	if (bd == NULL)
		tap_skip_all("EMBER_BUILDDIR is not set");
	for (v = 0; v < 5; v++) {
		snprintf(path, sizeof(path), "%s/schemas/%s.tables", bd,
		    versions[v]);
		if (tables_open(path, &tb) != EMBER_OK) {
			ok(0, "open %s", path);
			continue;
		}
		n = 0;
		seen = calloc(tables_param_count(tb) + 1, sizeof(*seen));
		for (ri = 0; ri < tables_resource_count(tb); ri++) {
			const char *type = tables_resource_name(tb, ri);

			if (tables_param_range(tb, ri, &first, &count))
				continue;
			for (pi = first; pi < first + count; pi++) {
				if (tables_param_get(tb, pi, &p))
					continue;
				buf_reset(&a);
				index_prefix(&a, type, strlen(type), p.code,
				    p.code_len);
				seen[n++] = ((uint32_t)(unsigned char)a.data[0] << 24) |
				    ((uint32_t)(unsigned char)a.data[1] << 16) |
				    ((uint32_t)(unsigned char)a.data[2] << 8) |
				    (unsigned char)a.data[3];
			}
		}
		for (i = 0, clash = 0; i < n; i++)
			for (k = i + 1; k < n; k++)
				clash += seen[i] == seen[k];
		is_int(clash, 0, "%s: %zu parameter prefixes, no collision",
		    versions[v], n);
		free(seen);
		tables_close(tb);
	}
	buf_free(&a);
	buf_free(&b);
	tap_done();
	return tap_exit();
}
