/*
 * fuzz-lz.c: the store's compression, lz_compress() and lz_decompress()
 * (src/lz.h).
 *
 * The first input byte chooses.  Even: the rest is data, which must
 * compress and decompress back to itself byte for byte.  Odd: the next
 * two bytes are an output length (little-endian) and the rest a stream
 * as the store might hold after damage; decompressing it must either be
 * refused (EMBER_ESTORE) or give exactly that many bytes, and never read
 * or write outside the input and the output (ASan).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "lz.h"

#include "fuzz.h"

static struct lz_prep *fuzz_lz;

static void
fuzz_lz_free(void)
{
	free(fuzz_lz);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 work = BUF_INIT, out = BUF_INIT, back = BUF_INIT;
	char		*in;
	size_t		 outlen;
	int		 rc;

	if (fuzz_lz == NULL) {
		if ((fuzz_lz = lz_prepare()) == NULL)
			fuzz_fail("lz_prepare: out of memory");
		atexit(fuzz_lz_free);
	}
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		in = fuzz_dup(data + 1, size - 1);
		if (lz_compress(fuzz_lz, in, size - 1, &work, &out) != EMBER_OK)
			fuzz_fail("lz_compress failed on %zu bytes", size - 1);
		if ((rc = lz_decompress((const unsigned char *)out.data,
		    out.len, size - 1, &back)) != EMBER_OK)
			fuzz_fail("a stream lz_compress wrote does not "
			    "decompress: %s", ember_strerror(rc));
		if (back.len != size - 1 || (size > 1 &&
		    memcmp(back.data, in, size - 1) != 0))
			fuzz_fail("decompressed bytes differ from the input");
	} else if (size >= 3) {
		outlen = (size_t)data[1] | (size_t)data[2] << 8;
		in = fuzz_dup(data + 3, size - 3);
		rc = lz_decompress((const unsigned char *)in, size - 3, outlen,
		    &back);
		if (rc == EMBER_OK && back.len != outlen)
			fuzz_fail("%zu bytes decompressed, %zu asked for",
			    back.len, outlen);
		if (rc != EMBER_OK && rc != EMBER_ESTORE)
			fuzz_fail("lz_decompress: %s", ember_strerror(rc));
	} else
		return 0;
	free(in);
	buf_free(&work);
	buf_free(&out);
	buf_free(&back);
	return 0;
}
