/*
 * buf.h: a growable byte buffer (leaf module, prefix buf_).
 *
 * The buffer always keeps a NUL after its last byte, so b->data can be
 * used as a C string when the content holds no NUL.  A buffer that ran out
 * of memory stays "failed": further appends are no-ops that return
 * EMBER_ENOMEM, so a sequence of appends can be checked once at the end
 * with buf_error().
 */
#ifndef EMBER_BUF_H
#define EMBER_BUF_H

#include <stddef.h>

struct buf {
	char	*data;		/* owned; NULL until the first append */
	size_t	 len;		/* bytes used, excluding the trailing NUL */
	size_t	 cap;		/* bytes allocated */
	int	 failed;	/* an allocation failed earlier */
};

#define BUF_INIT { NULL, 0, 0, 0 }

/*
 * Make room for at least extra more bytes (plus the NUL).
 * Returns EMBER_OK or EMBER_ENOMEM (also on size overflow).
 */
int buf_reserve(struct buf *b, size_t extra);

/* Append len bytes of p.  Returns EMBER_OK or EMBER_ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t len);

/* Append a NUL-terminated string.  Returns EMBER_OK or EMBER_ENOMEM. */
int buf_puts(struct buf *b, const char *s);

/* Append one byte.  Returns EMBER_OK or EMBER_ENOMEM. */
int buf_putc(struct buf *b, int c);

/*
 * Append printf-style formatted text (bounded, never truncated: the buffer
 * grows to fit).  Returns EMBER_OK, EMBER_ENOMEM, or EMBER_EINVAL on a
 * formatting error.
 */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Append s as the body of a JSON string (without the quotes), escaping
 * quotes, backslashes and control characters.  Bytes that are not
 * well-formed UTF-8 (client text quoted in a diagnostic) become U+FFFD,
 * so the output is always valid JSON.
 */
int buf_json_escape(struct buf *b, const char *s, size_t len);

/* Append s with XML's five special characters escaped. */
int buf_xml_escape(struct buf *b, const char *s, size_t len);

/*
 * The length, a multiple of eight, of the longest prefix of s[0..len)
 * in whole eight-byte words of printable ASCII (0x20 to 0x7f) other than
 * the bytes of stops (a string of at most four): for scanners and
 * writers to pass over long plain runs a word at a time; they look at
 * what follows byte by byte.  Never fails.
 */
size_t buf_ascii_span(const char *s, size_t len, const char *stops);

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence at p (at most n
 * bytes), storing its code point in *cp when cp is not NULL; 0 for an
 * ill-formed sequence (overlong forms, surrogates, past U+10FFFF, cut).
 */
size_t buf_utf8_decode(const unsigned char *p, size_t n, unsigned long *cp);

/*
 * Write code point cp (below U+110000) as UTF-8 at out, which has room
 * for 4 bytes; returns the length (1 to 4).
 */
size_t buf_utf8_encode(unsigned long cp, char *out);

/* The value of hex digit c (either case), or -1. */
int buf_hex_digit(int c);

/* Forget the content but keep the memory. */
void buf_reset(struct buf *b);

/* EMBER_ENOMEM if any earlier append failed, else EMBER_OK. */
int buf_error(const struct buf *b);

/*
 * Hand the content to the caller: returns the data (NUL-terminated, caller
 * frees with free()) and leaves b empty.  Returns NULL if b is empty or
 * failed (and frees it).
 */
char *buf_detach(struct buf *b, size_t *len);

/* Free the memory of b and leave it empty.  NULL is a no-op. */
void buf_free(struct buf *b);

#endif /* EMBER_BUF_H */
