/*
 * be.h: big-endian integers in byte strings (leaf, header only).
 *
 * LMDB compares keys as bytes, so numbers in keys are written most
 * significant byte first to sort as numbers; values are decoded byte by
 * byte because LMDB gives no alignment guarantee.
 */
#ifndef EMBER_BE_H
#define EMBER_BE_H

#include <stdint.h>

static inline void
be64_put(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static inline uint64_t
be64_get(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline void
be32_put(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t
be32_get(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

#endif /* EMBER_BE_H */
