/*
 * buf.c: growable byte buffer; see buf.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

int
buf_reserve(struct buf *b, size_t extra)
{
	size_t	 need, cap;
	char	*p;

	if (b->failed)
		return EMBER_ENOMEM;
	if (extra > SIZE_MAX - b->len - 1)
		goto fail;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return EMBER_OK;
	cap = b->cap ? b->cap : 512;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL)
		goto fail;
	b->data = p;
	b->cap = cap;
	return EMBER_OK;
fail:
	b->failed = 1;
	return EMBER_ENOMEM;
}

/*
 * The slow paths of buf_append() and buf_putc(): apart, so that the
 * common case (the bytes fit) is a leaf function without a frame.
 */
static int __attribute__((noinline))
buf_append_grow(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len))
		return EMBER_ENOMEM;
	if (len)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return EMBER_OK;
}

int
buf_append(struct buf *b, const void *p, size_t len)
{
	char	*d = b->data;
	size_t	 used = b->len;

	/* len < cap - used: room for the bytes and the NUL, no overflow. */
	if (b->failed || len >= b->cap - used)
		return buf_append_grow(b, p, len);
	memcpy(d + used, p, len);
	d[used + len] = '\0';
	b->len = used + len;
	return EMBER_OK;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, int c)
{
	char	*d = b->data, ch = (char)c;
	size_t	 used = b->len;

	if (b->failed || b->cap - used < 2)
		return buf_append_grow(b, &ch, 1);
	d[used] = ch;
	d[used + 1] = '\0';
	b->len = used + 1;
	return EMBER_OK;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (buf_reserve(b, 64))
		return EMBER_ENOMEM;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return EMBER_EINVAL;
	if ((size_t)n >= b->cap - b->len) {
		if (buf_reserve(b, (size_t)n))
			return EMBER_ENOMEM;
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0 || (size_t)n >= b->cap - b->len)
			return EMBER_EINVAL;
	}
	b->len += (size_t)n;
	return EMBER_OK;
}

size_t
buf_utf8_decode(const unsigned char *p, size_t n, unsigned long *out)
{
	unsigned long	cp;
	size_t		len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		if (out)
			*out = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	if (out)
		*out = cp;
	return len;
}

size_t
buf_utf8_encode(unsigned long cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

int
buf_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
buf_ascii_span(const char *s, size_t len, const char *stops)
{
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	high = 0x8080808080808080ULL;
	uint64_t	w, hit, stop[4] = { 0, 0, 0, 0 };
	size_t		i, k;

	for (k = 0; k < 4 && stops[k] != '\0'; k++)
		stop[k] = ones * (unsigned char)stops[k];
	/*
	 * A byte below 0x20 borrows in w - 0x20.., a byte equal to a stop is
	 * zero after the xor and borrows in x - 0x01.., either sets a high
	 * bit, and a byte from 0x80 up has its own.  A word of plain bytes
	 * sets none (an unused stop is 0, which no plain byte equals).
	 */
	for (i = 0; len - i >= 8; i += 8) {
		memcpy(&w, s + i, 8);
		hit = (w - ones * 0x20) | w;
		for (k = 0; k < 4; k++)
			hit |= (w ^ stop[k]) - ones;
		if (hit & high)
			break;
	}
	return i;
}

int
buf_json_escape(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 i, run;

	for (i = run = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];

		/* Printable ASCII but the two specials: most bytes. */
		if (len - i >= 16 && (i += buf_ascii_span(s + i, len - i,
		    "\"\\")) == len)
			break;
		c = (unsigned char)s[i];
		while (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' &&
		    ++i < len)
			c = (unsigned char)s[i];
		if (i == len)
			break;
		if (c >= 0x80) {
			size_t n = buf_utf8_decode((const unsigned char *)s + i,
			    len - i, NULL);

			if (n > 0) {
				i += n - 1;
				continue;
			}
			/* Not UTF-8 (client bytes in a diagnostic): U+FFFD. */
			buf_append(b, s + run, i - run);
			run = i + 1;
			buf_append(b, "\xef\xbf\xbd", 3);
			continue;
		}
		buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':  buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			buf_append(b, esc, 6);
			break;
		}
	}
	buf_append(b, s + run, len - run);
	return buf_error(b);
}

int
buf_xml_escape(struct buf *b, const char *s, size_t len)
{
	size_t	 i, run;

	for (i = run = 0; i < len; i++) {
		const char *rep;

		switch (s[i]) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: continue;
		}
		buf_append(b, s + run, i - run);
		buf_puts(b, rep);
		run = i + 1;
	}
	buf_append(b, s + run, len - run);
	return buf_error(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int
buf_error(const struct buf *b)
{
	return b->failed ? EMBER_ENOMEM : EMBER_OK;
}

char *
buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (b->failed || b->data == NULL) {
		buf_free(b);
		if (len)
			*len = 0;
		return NULL;
	}
	p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}
