/*
 * lz.h: the compression of stored JSON and owned lists (prefix lz_), an
 * LZ77 coder with a preset dictionary of common FHIR JSON.  Its streams
 * are part of the store's on-disk format (store.c's STORE_FORMAT).
 */
#ifndef EMBER_LZ_H
#define EMBER_LZ_H

#include <stddef.h>

struct buf;
struct lz_prep;

/*
 * The dictionary's hash table, the same for every stream: made once per
 * store, freed with free().  NULL when out of memory.
 */
struct lz_prep *lz_prepare(void);

/*
 * Compress src (n bytes) into out (reset first).  work holds the window
 * and hash table between calls.  Returns EMBER_OK (out may be no shorter
 * than src: the caller checks) or EMBER_ENOMEM.
 */
int lz_compress(const struct lz_prep *lp, const void *src, size_t n,
    struct buf *work, struct buf *out);

/*
 * Decompress in (len bytes, only read) to exactly outlen bytes in out
 * (reset first).  EMBER_OK; EMBER_ESTORE for a malformed stream, or one
 * that does not give exactly outlen bytes; EMBER_ENOMEM.  Any input is
 * safe: nothing outside in and out's buffer is read or written.
 */
int lz_decompress(const unsigned char *in, size_t len, size_t outlen,
    struct buf *out);

#endif /* EMBER_LZ_H */
