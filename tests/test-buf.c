/*
 * test-buf.c: the growable buffer and its escapers.
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

int
main(void)
{
	struct buf	 b = BUF_INIT;
	char		*p;
	size_t		 i, len;

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
