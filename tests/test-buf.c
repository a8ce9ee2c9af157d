/*
 * test-buf.c: the growable buffer, its escapers and its UTF-8 and hex
 * helpers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "tap.h"

static const struct {
	const char *in, *json, *xml;
} esc[] = {
	{ "plain", "plain", "plain" },
	{ "a\"b", "a\\\"b", "a&quot;b" },
	{ "<a & 'b'>", "<a & 'b'>", "&lt;a &amp; &apos;b&apos;&gt;" },
	{ "back\\slash", "back\\\\slash", "back\\slash" },
	{ "line\nfeed\r\ttab\x01", "line\\nfeed\\r\\ttab\\u0001",
	  "line\nfeed\r\ttab\x01" },
	{ "Le\xc3\xb3n", "Le\xc3\xb3n", "Le\xc3\xb3n" },
	{ "", "", "" },
	{ "0123456789\"abcdefghij\\klmnop\x02qrstuvwxyz\xc3\xb3",
	  "0123456789\\\"abcdefghij\\\\klmnop\\u0002qrstuvwxyz\xc3\xb3",
	  "0123456789&quot;abcdefghij\\klmnop\x02qrstuvwxyz\xc3\xb3" },
	{ "0123456789abcdefghijklmnopqrstu\"",
	  "0123456789abcdefghijklmnopqrstu\\\"",
	  "0123456789abcdefghijklmnopqrstu&quot;" },
};

/* buf_ascii_span: the whole words of plain bytes. */
static const struct {
	const char	*in, *stops;
	size_t		 span;
} spans[] = {
	{ "", "\"\\", 0 },
	{ "plain", "\"\\", 0 },			/* no whole word */
	{ "0123456789abcdef", "\"\\", 16 },
	{ "0123456789abcdefgh", "\"\\", 16 },
	{ "0123456789abcde\"", "\"\\", 8 },
	{ "01234567\\9abcdef", "\"\\", 8 },
	{ "0123456\x7f" "89 ~!@#$", "\"\\", 16 },	/* DEL, space: plain */
	{ "0123456789\x1f" "abcde", "", 8 },
	{ "\t1234567", "", 0 },
	{ "01234567890123\xc3\xb3", "", 8 },
	{ "\x80" "1234567", "", 0 },
	{ "abcdefgh<ijklmno", "<>&\"", 8 },
	{ "abcdefghijklmnopqrstuvwx&", "<>&\"", 24 },
	{ "abcdefghijklmnop>", "<>&\"", 16 },
	{ "a\"cdefgh", "<>&\"", 0 },
	{ "abcdefg\"", "<>&\"", 0 },
};

/* buf_utf8_encode: each length at both of its ends. */
static const struct {
	unsigned long	 cp;
	const char	*utf8;
} cps[] = {
	{ 0x41, "A" },
	{ 0x7f, "\x7f" },
	{ 0x80, "\xc2\x80" },
	{ 0x7ff, "\xdf\xbf" },
	{ 0x800, "\xe0\xa0\x80" },
	{ 0xe9, "\xc3\xa9" },
	{ 0x20ac, "\xe2\x82\xac" },
	{ 0xffff, "\xef\xbf\xbf" },
	{ 0x10000, "\xf0\x90\x80\x80" },
	{ 0x1f600, "\xf0\x9f\x98\x80" },
	{ 0x10ffff, "\xf4\x8f\xbf\xbf" },
};

/* buf_hex_digit: the digits of both cases, and what is next to them. */
static const struct {
	int	c, value;
} hexes[] = {
	{ '0', 0 }, { '9', 9 }, { 'a', 10 }, { 'f', 15 }, { 'A', 10 },
	{ 'F', 15 }, { '/', -1 }, { ':', -1 }, { '@', -1 }, { 'G', -1 },
	{ '`', -1 }, { 'g', -1 }, { 0, -1 }, { 0xb3, -1 },
};

int
main(void)
{
	struct buf	 b = BUF_INIT;
	char		*p, u[4];
	size_t		 i, len, n;
	unsigned long	 back;

	for (i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		buf_reset(&b);
		buf_json_escape(&b, esc[i].in, strlen(esc[i].in));
		is_str(b.data ? b.data : "", esc[i].json, "json escape %zu", i);
		buf_reset(&b);
		buf_xml_escape(&b, esc[i].in, strlen(esc[i].in));
		is_str(b.data ? b.data : "", esc[i].xml, "xml escape %zu", i);
	}

	for (i = 0; i < sizeof(spans) / sizeof(spans[0]); i++)
		is_int(buf_ascii_span(spans[i].in, strlen(spans[i].in),
		    spans[i].stops), spans[i].span, "ascii span %zu", i);
	is_int(buf_ascii_span("0123456789abcdef", 12, ""), 8,
	    "ascii span: no word past len");

	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		n = buf_utf8_encode(cps[i].cp, u);
		ok(n == strlen(cps[i].utf8) && memcmp(u, cps[i].utf8, n) == 0,
		    "utf8 encode U+%04lX", cps[i].cp);
		ok(buf_utf8_decode((const unsigned char *)u, n, &back) == n &&
		    back == cps[i].cp, "utf8 decode U+%04lX back", cps[i].cp);
	}
	for (i = 0; i < sizeof(hexes) / sizeof(hexes[0]); i++)
		is_int(buf_hex_digit(hexes[i].c), hexes[i].value,
		    "hex digit 0x%02x", hexes[i].c);

	buf_reset(&b);
	for (i = 0; i < 10000; i++)
		buf_printf(&b, "%zu,", i);
	is_int(b.len, 48890, "10,000 printf appends grow the buffer");
	ok(strncmp(b.data + b.len - 5, "9999,", 5) == 0, "content intact");
	is_int(buf_error(&b), EMBER_OK, "no error");

	buf_reset(&b);
	buf_printf(&b, "%s", "");
	is_int(b.len, 0, "empty printf");
	buf_putc(&b, 'x');
	buf_puts(&b, "yz");
	p = buf_detach(&b, &len);
	is_str(p, "xyz", "detach returns the content");
	is_int(len, 3, "detach returns the length");
	ok(b.data == NULL && b.len == 0, "detach empties the buffer");
	free(p);

	/* Overflow is refused before arithmetic. */
	b.len = 10;
	is_int(buf_reserve(&b, (size_t)-5), EMBER_ENOMEM, "size overflow");
	is_int(buf_puts(&b, "more"), EMBER_ENOMEM, "failed buffer stays failed");
	b.len = 0;
	buf_free(&b);
	buf_free(NULL);		/* a no-op: a crash would fail the test */
	tap_done();
	return tap_exit();
}
