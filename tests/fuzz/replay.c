/*
 * replay.c: run a fuzz target's LLVMFuzzerTestOneInput() on every file
 * of its committed corpus, as a TAP test for `make check`.
 *
 * Linked with one tests/fuzz/fuzz-<name>.c (compiled with
 * -DFUZZ_TARGET='"<name>"') and the normal src/libember.a, so it runs
 * under whatever sanitizers the build uses.  Without arguments it reads
 * $EMBER_SRCDIR/tests/fuzz/corpus/<name>/ in name order; with arguments
 * it reads those files and folders instead (to replay a crash:
 * tests/fuzz/replay-json crash-1234).  One TAP line per file; a target
 * that crashes or fails an invariant aborts, which the TAP driver
 * reports as a failure, naming the last file started on stderr.  An
 * input that takes longer than FUZZ_SLOW_SECONDS fails.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fuzz.h"
#include "../tap.h"

#ifndef FUZZ_TARGET
#error "compile with -DFUZZ_TARGET='\"name\"'"
#endif

#define FUZZ_SLOW_SECONDS	5.0
#define FUZZ_FILE_MAX		(16u << 20)

static double
fuzz_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Replay one file; label names it in the TAP line. */
static void
fuzz_replay_file(const char *path, const char *label)
{
	FILE		*f;
	uint8_t		*data;
	long		 n;
	double		 t0, dt;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || (unsigned long)n > FUZZ_FILE_MAX ||
	    fseek(f, 0, SEEK_SET) != 0) {
		ok(0, "%s: cannot read (%s)", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return;
	}
	/* Exactly n bytes, as libFuzzer gives them, so ASan sees overreads. */
	if ((data = malloc(n > 0 ? (size_t)n : 1)) == NULL ||
	    fread(data, 1, (size_t)n, f) != (size_t)n) {
		ok(0, "%s: cannot read", path);
		free(data);
		fclose(f);
		return;
	}
	fclose(f);
	fprintf(stderr, "replay: %s\n", path);
	t0 = fuzz_now();
	LLVMFuzzerTestOneInput(data, (size_t)n);
	dt = fuzz_now() - t0;
	if (!ok(dt < FUZZ_SLOW_SECONDS, "%s", label))
		tap_diag("took %.1f s (limit %.0f s)", dt, FUZZ_SLOW_SECONDS);
	free(data);
}

static int
fuzz_is_input(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void
fuzz_replay_path(const char *path)
{
	struct stat	  st;
	struct dirent	**names;
	char		  file[4096];
	int		  n, i;

	if (stat(path, &st) != 0) {
		ok(0, "%s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		fuzz_replay_file(path, path);
		return;
	}
	if ((n = scandir(path, &names, fuzz_is_input, alphasort)) < 0) {
		ok(0, "%s: %s", path, strerror(errno));
		return;
	}
	if (n == 0)
		ok(0, "%s: an empty corpus", path);
	for (i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		fuzz_replay_file(file, names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	const char	*srcdir = getenv("EMBER_SRCDIR");
	char		 dir[4096];
	double		 t0 = fuzz_now();
	int		 i;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			fuzz_replay_path(argv[i]);
	} else {
		if (srcdir == NULL)
			tap_skip_all("EMBER_SRCDIR is not set (run through "
			    "make check)");
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s", srcdir,
		    FUZZ_TARGET);
		fuzz_replay_path(dir);
	}
	tap_diag("%s: %d inputs in %.2f s", FUZZ_TARGET, tap_count,
	    fuzz_now() - t0);
	tap_done();
	return tap_exit();
}
