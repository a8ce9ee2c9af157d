/*
 * tap.h: a tiny Test Anything Protocol emitter for Ember's unit tests.
 *
 * Header-only, no dependencies.  A test program calls tap_plan() (or
 * tap_done() at the end for a trailing plan), then ok()/is_int()/is_str()
 * per case, and returns tap_exit().  Output goes to stdout, diagnostics to
 * stdout as "# " lines, as automake's tap-driver.sh expects.
 * tap_skip_all() prints "1..0 # SKIP reason" and exits 77, automake's code
 * for a skipped test.
 */
#ifndef EMBER_TAP_H
#define EMBER_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void
tap_plan(int n)
{
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void tap_diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static inline int tap_ok(int cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline void
tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	fflush(stdout);
	exit(77);
}

/* Report one case; returns cond so callers can add diagnostics. */
static inline int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __VA_ARGS__)

#define is_int(got, want, ...) do {					\
	long long tap_g_ = (long long)(got), tap_w_ = (long long)(want);	\
	if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__))			\
		tap_diag("got %lld, want %lld", tap_g_, tap_w_);	\
} while (0)

#define is_str(got, want, ...) do {					\
	const char *tap_g_ = (got), *tap_w_ = (want);			\
	int tap_c_ = (tap_g_ == NULL && tap_w_ == NULL) ||		\
	    (tap_g_ != NULL && tap_w_ != NULL && strcmp(tap_g_, tap_w_) == 0); \
	if (!tap_ok(tap_c_, __VA_ARGS__))				\
		tap_diag("got \"%s\", want \"%s\"",			\
		    tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)"); \
} while (0)

/* Print a trailing plan if none was given up front. */
static inline void
tap_done(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
}

static inline int
tap_exit(void)
{
	return tap_failed ? 1 : 0;
}

#endif /* EMBER_TAP_H */
