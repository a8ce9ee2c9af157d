/*
 * lmdb-commit.c: the write ceiling of `make bench` (tests/bench/bench.sh).
 *
 *   lmdb-commit DIR SECONDS
 *
 * Opens a fresh LMDB environment in DIR (which must exist) with LMDB's
 * default, durable flags (no MDB_NOSYNC, MDB_NOMETASYNC or MDB_WRITEMAP)
 * and, for SECONDS, commits one transaction after another, each putting
 * one small record (an 8-byte key and a 1 KiB value, about one resource).
 * Every commit syncs to disk, as each of Ember's durable writes does, so
 * the rate is the most durable commits per second this disk gives one
 * writer.  Prints one line of JSON: commits, seconds, rate, and the p50
 * and p99 commit latency in microseconds.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lmdb.h>

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
percentile(const double *sorted, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

int
main(int argc, char *argv[])
{
	MDB_env		*env = NULL;
	MDB_txn		*txn;
	MDB_dbi		 dbi;
	MDB_val		 key, val;
	unsigned char	 kb[8], value[1024];
	double		*lat = NULL, *grown, seconds, start, t0, t1;
	size_t		 n = 0, cap = 0;
	uint64_t	 k;
	int		 rc, i;

	if (argc != 3 || (seconds = strtod(argv[2], NULL)) <= 0) {
		fprintf(stderr, "usage: lmdb-commit DIR SECONDS\n");
		return 2;
	}
	for (i = 0; i < (int)sizeof(value); i++)
		value[i] = (unsigned char)('a' + i % 26);
	if ((rc = mdb_env_create(&env)) ||
	    (rc = mdb_env_set_mapsize(env, (size_t)1 << 30)) ||
	    (rc = mdb_env_open(env, argv[1], 0, 0644)))
		goto fail;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
		goto fail;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) ||
	    (rc = mdb_txn_commit(txn)))
		goto fail;

	start = now_seconds();
	for (k = 0;; k++) {
		t0 = now_seconds();
		if (t0 - start >= seconds)
			break;
		for (i = 0; i < 8; i++)
			kb[i] = (unsigned char)(k >> (56 - 8 * i));
		key.mv_size = sizeof(kb);
		key.mv_data = kb;
		val.mv_size = sizeof(value);
		val.mv_data = value;
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)))
			goto fail;
		if ((rc = mdb_put(txn, dbi, &key, &val, 0))) {
			mdb_txn_abort(txn);
			goto fail;
		}
		if ((rc = mdb_txn_commit(txn)))
			goto fail;
		t1 = now_seconds();
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((grown = realloc(lat, cap * sizeof(*lat))) == NULL) {
				rc = ENOMEM;
				goto fail;
			}
			lat = grown;
		}
		lat[n++] = (t1 - t0) * 1e6;
	}
	seconds = now_seconds() - start;
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("{\"commits\":%zu,\"seconds\":%.3f,\"rate\":%.1f,"
	    "\"p50_us\":%.0f,\"p99_us\":%.0f}\n", n, seconds,
	    (double)n / seconds, percentile(lat, n, 50),
	    percentile(lat, n, 99));
	free(lat);
	mdb_env_close(env);
	return 0;
fail:
	fprintf(stderr, "lmdb-commit: %s\n", mdb_strerror(rc));
	free(lat);
	mdb_env_close(env);
	return 1;
}
