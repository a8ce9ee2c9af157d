/*
 * fuzz.h: what the libFuzzer targets of tests/fuzz/ share.
 *
 * Every target is one file, fuzz-<name>.c, defining
 * LLVMFuzzerTestOneInput().  The same file links two ways:
 *
 *   - with clang -fsanitize=fuzzer,address,undefined against the core
 *     sources compiled with the same flags (`make fuzz`), and
 *   - with tests/fuzz/replay.c against the normal src/libember.a, as the
 *     `make check` test tests/fuzz/replay-<name>, which feeds it every
 *     file of tests/fuzz/corpus/<name>/.
 *
 * Targets initialise lazily on their first input and clean up at exit;
 * any invariant that does not hold aborts (fuzz_fail()), which is what
 * libFuzzer reports as a crash and what fails the replay test.
 *
 * The helpers below find the build tree (for the compiled tables), make
 * a scratch folder (under /dev/shm when it exists: the stores are
 * rewritten for every input), and give the targets that need a server a
 * fresh one per input, copied from a template holding a few fixed
 * resources, so that an input always meets the same state and a crash
 * found by the fuzzer replays exactly from its file.
 */
#ifndef EMBER_FUZZ_H
#define EMBER_FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct rest_response;
struct server;
struct tables;

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print a message to stderr and abort().  Never returns. */
void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * A malloc'd copy of the input of exactly size bytes, so ASan sees any
 * read past its end (libFuzzer's own buffer is also exact; the replay
 * driver's too).  Aborts when out of memory.  Free with free().
 */
char *fuzz_dup(const uint8_t *data, size_t size);

/* The same, NUL-terminated (size + 1 bytes). */
char *fuzz_strdup(const uint8_t *data, size_t size);

/*
 * The folder holding the compiled <version>.tables: $EMBER_BUILDDIR/schemas
 * when EMBER_BUILDDIR is set, else the build tree the target was compiled
 * in.  Static storage.
 */
const char *fuzz_tables_dir(void);

/*
 * The compiled tables of one version ("r4", "dstu2"...), opened on the
 * first call and kept until exit.  Aborts when they cannot be opened.
 */
struct tables *fuzz_tables(const char *dir_name);

/*
 * A new scratch folder for this process, removed with everything in it
 * at exit.  Aborts on failure.  Static storage.
 */
const char *fuzz_scratch(void);

/*
 * A server on all five versions whose stores hold exactly the template:
 * R4 has Patient/example (2 versions, identifier urn:t|p1),
 * Patient/gone (deleted), Patient/nosys (identifiers p3 without a
 * system, urn:u|p1 and urn:t|a,b|c), Observation/obs1 and
 * Organization/org1 (urn:t|o1); every other version Patient/example.
 * Map size 8 MB, relaxed durability, max_entries 100, max_delete 10.
 * Call fuzz_server_end() after each input: when the input committed a
 * write (the stores' entry and page counts moved), the server is closed
 * and the next fuzz_server_begin() opens a fresh copy of the template,
 * so every input meets the same state.  Aborts on failure.
 */
struct server *fuzz_server_begin(void);
void fuzz_server_end(struct server *srv);

/*
 * Check what rest_handle() answered: a status 100..599 and not 500 (an
 * internal error or a store failure on a healthy store is a bug),
 * well-formed "Name: value\r\n" header lines, a body that is JSON (an
 * OperationOutcome for 4xx/5xx).  Aborts when one does not hold.
 */
void fuzz_check_response(const struct rest_response *rs, int status,
    const char *what);

#endif /* EMBER_FUZZ_H */
