/*
 * http.c: HTTP-level text parsing; see http.h.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "error.h"
#include "http.h"

int
http_percent_decode(const char *s, size_t len, int plus, char *out,
    size_t *outlen)
{
	size_t	i, o = 0;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3)
				return EMBER_EINVAL;
			hi = buf_hex_digit((unsigned char)s[i + 1]);
			lo = buf_hex_digit((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return EMBER_EINVAL;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+' && plus) {
			out[o++] = ' ';
		} else if (s[i] == '\0') {
			return EMBER_EINVAL;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return EMBER_OK;
}

int
http_percent_encode(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	i;
	char	esc[3];

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			buf_putc(b, c);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		buf_append(b, esc, 3);
	}
	return buf_error(b);
}

int
http_query_next(const char **p, const char *end, struct http_param *out)
{
	const char *s = *p, *amp, *eq;

	for (;;) {
		if (s >= end)
			return 0;
		if ((amp = memchr(s, '&', (size_t)(end - s))) == NULL)
			amp = end;
		if (amp > s)
			break;
		s = amp + 1;
	}
	eq = memchr(s, '=', (size_t)(amp - s));
	out->hp_name = s;
	out->hp_name_len = (size_t)((eq ? eq : amp) - s);
	out->hp_value = eq ? eq + 1 : amp;
	out->hp_value_len = eq ? (size_t)(amp - eq - 1) : 0;
	*p = amp < end ? amp + 1 : end;
	return 1;
}

static const char *
http_skip_ows(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

int
http_token_eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/* Parse "0.8", "1", "1.000" into thousandths. */
static int
http_qvalue(const char *s, size_t len, unsigned *out)
{
	unsigned	q, scale = 100;
	size_t		i;

	if (len == 0 || (s[0] != '0' && s[0] != '1'))
		return EMBER_EINVAL;
	q = (unsigned)(s[0] - '0') * 1000;
	if (len > 1) {
		if (s[1] != '.' || len > 5)
			return EMBER_EINVAL;
		for (i = 2; i < len; i++, scale /= 10) {
			if (s[i] < '0' || s[i] > '9')
				return EMBER_EINVAL;
			q += (unsigned)(s[i] - '0') * scale;
		}
	}
	if (q > 1000)
		return EMBER_EINVAL;
	*out = q;
	return EMBER_OK;
}

int
http_media_parse(const char *s, size_t len, struct http_media *out)
{
	const char	*end = s + len, *p, *semi, *eq, *name_end, *v;
	size_t		 vlen;
	struct http_media m;

	memset(&m, 0, sizeof(m));
	m.hm_q = 1000;
	s = http_skip_ows(s, end);
	semi = memchr(s, ';', (size_t)(end - s));
	p = semi ? semi : end;
	while (p > s && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	if (p == s || memchr(s, '/', (size_t)(p - s)) == NULL)
		return EMBER_EINVAL;
	m.hm_type = s;
	m.hm_type_len = (size_t)(p - s);
	while (semi != NULL) {
		s = http_skip_ows(semi + 1, end);
		semi = memchr(s, ';', (size_t)(end - s));
		p = semi ? semi : end;
		if ((eq = memchr(s, '=', (size_t)(p - s))) == NULL)
			continue;
		name_end = eq;
		while (name_end > s && (name_end[-1] == ' ' || name_end[-1] == '\t'))
			name_end--;
		v = http_skip_ows(eq + 1, p);
		vlen = (size_t)(p - v);
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
			v++, vlen -= 2;
		if (http_token_eq(s, (size_t)(name_end - s), "q")) {
			if (http_qvalue(v, vlen, &m.hm_q))
				return EMBER_EINVAL;
		} else if (http_token_eq(s, (size_t)(name_end - s),
		    "fhirVersion")) {
			m.hm_fhir_version = v;
			m.hm_fhir_version_len = vlen;
		}
	}
	*out = m;
	return EMBER_OK;
}

int
http_accept_next(const char **p, const char *end, struct http_media *out)
{
	const char *s = *p, *comma;

	for (;;) {
		s = http_skip_ows(s, end);
		if (s >= end)
			return 0;
		if ((comma = memchr(s, ',', (size_t)(end - s))) == NULL)
			comma = end;
		*p = comma < end ? comma + 1 : end;
		if (comma == s) {
			s = *p;
			continue;
		}
		return http_media_parse(s, (size_t)(comma - s), out) ? -1 : 1;
	}
}

void
http_text_put(char *dst, size_t dstsz, size_t *n, const char *s, size_t len)
{
	if (*n >= dstsz)
		return;
	if (len > dstsz - *n)
		len = dstsz - *n;
	memcpy(dst + *n, s, len);
	*n += len;
}

size_t
http_decimal(uint64_t v, char out[HTTP_DECIMAL_MAX])
{
	char	tmp[HTTP_DECIMAL_MAX];
	size_t	n = 0;

	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(out, tmp + sizeof(tmp) - n, n);
	return n;
}

int
http_etag_version(const char *s, size_t len, uint32_t *out)
{
	unsigned long long	v = 0;
	size_t			i;

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= 2 && s[0] == 'W' && s[1] == '/')
		s += 2, len -= 2;
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"')
		s++, len -= 2;
	if (len == 0 || len > 10)
		return EMBER_EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return EMBER_EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return EMBER_EINVAL;
	*out = (uint32_t)v;
	return EMBER_OK;
}
