/*
 * date.c: FHIR and HTTP dates; see date.h.
 *
 * Civil-date arithmetic uses Howard Hinnant's days-from-civil algorithm,
 * so no libc time zone state (TZ, localtime) is ever consulted.
 */
#include "config.h"

#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "date.h"
#include "error.h"

static const char *const date_wday[] = {
	"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"	/* 1970-01-01 */
};
static const char *const date_month[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static long long
date_days(long long y, unsigned m, unsigned d)
{
	long long	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
date_civil(long long z, int *y, unsigned *m, unsigned *d)
{
	long long	era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static unsigned
date_month_days(int y, unsigned m)
{
	static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

uint64_t
date_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* Write v as exactly n decimal digits, zero-padded; returns the end. */
static char *
date_put_digits(char *p, unsigned long long v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + n;
}

/* A year as %04d writes it: four digits or more. */
static char *
date_put_year(char *p, int y)
{
	int	n = 4, t;

	for (t = y / 10000; t > 0; t /= 10)
		n++;
	return date_put_digits(p, (unsigned long long)y, n);
}

/* "hh:mm:ss" of rem seconds into a day. */
static char *
date_put_clock(char *p, long long rem)
{
	p = date_put_digits(p, (unsigned long long)(rem / 3600), 2);
	*p++ = ':';
	p = date_put_digits(p, (unsigned long long)(rem / 60 % 60), 2);
	*p++ = ':';
	return date_put_digits(p, (unsigned long long)(rem % 60), 2);
}

/* By hand, as date_format_http(): snprintf cost a load 1.4% of its work. */
void
date_format_instant(uint64_t us, char out[DATE_INSTANT_LEN])
{
	long long	secs = (long long)(us / 1000000u);
	unsigned	frac = (unsigned)(us % 1000000u), m, d;
	int		y;
	long long	day = secs / 86400, rem = secs % 86400;
	char		*p;

	date_civil(day, &y, &m, &d);
	p = date_put_year(out, y);
	*p++ = '-';
	p = date_put_digits(p, m, 2);
	*p++ = '-';
	p = date_put_digits(p, d, 2);
	*p++ = 'T';
	p = date_put_clock(p, rem);
	*p++ = '.';
	p = date_put_digits(p, frac, 6);
	*p++ = 'Z';
	*p = '\0';
}

void
date_format_http(uint64_t us, char out[DATE_HTTP_LEN])
{
	long long	secs = (long long)(us / 1000000u);
	long long	day = secs / 86400, rem = secs % 86400;
	unsigned	m, d;
	int		y;
	char		*p = out;

	date_civil(day, &y, &m, &d);
	/* "%s, %02u %s %04d %02u:%02u:%02u GMT" by hand: every read
	 * sends a Last-Modified, and snprintf cost it 3,000 instructions. */
	memcpy(p, date_wday[day % 7], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = date_put_digits(p, d, 2);
	*p++ = ' ';
	memcpy(p, date_month[m - 1], 3);
	p += 3;
	*p++ = ' ';
	p = date_put_year(p, y);
	*p++ = ' ';
	p = date_put_clock(p, rem);
	memcpy(p, " GMT", 5);
}

/* Read exactly n digits at s[*i]; EMBER_EINVAL if not there. */
static int
date_digits(const char *s, size_t len, size_t *i, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t	 k;

	if (*i + n > len)
		return EMBER_EINVAL;
	for (k = 0; k < n; k++) {
		char c = s[*i + k];

		if (c < '0' || c > '9')
			return EMBER_EINVAL;
		v = v * 10 + (unsigned)(c - '0');
	}
	*i += n;
	*out = v;
	return EMBER_OK;
}

int
date_parse_http(const char *s, size_t len, uint64_t *out)
{
	char		 mon[4];
	unsigned	 d, y, hh, mi, ss, m;
	size_t		 i = 0;
	const char	*comma;

	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	comma = memchr(s, ',', len);
	if (comma == NULL || (size_t)(comma - s) != 3)
		return EMBER_EINVAL;
	i = 5;
	if (date_digits(s, len, &i, 2, &d) || i + 5 > len || s[i] != ' ')
		return EMBER_EINVAL;
	memcpy(mon, s + i + 1, 3);
	mon[3] = '\0';
	i += 4;
	for (m = 0; m < 12; m++)
		if (strcasecmp(mon, date_month[m]) == 0)
			break;
	if (m == 12 || i >= len || s[i++] != ' ' ||
	    date_digits(s, len, &i, 4, &y) || i >= len || s[i++] != ' ' ||
	    date_digits(s, len, &i, 2, &hh) || i >= len || s[i++] != ':' ||
	    date_digits(s, len, &i, 2, &mi) || i >= len || s[i++] != ':' ||
	    date_digits(s, len, &i, 2, &ss) || len - i != 4 ||
	    memcmp(s + i, " GMT", 4) != 0)
		return EMBER_EINVAL;
	if (y < 1970 || d < 1 || d > date_month_days((int)y, m + 1) ||
	    hh > 23 || mi > 59 || ss > 60)
		return EMBER_EINVAL;
	*out = ((uint64_t)date_days(y, m + 1, d) * 86400u + hh * 3600u +
	    mi * 60u + ss) * 1000000u;
	return EMBER_OK;
}

int
date_parse_fhir(const char *s, size_t len, int64_t *low, int64_t *high,
    int *precision)
{
	unsigned	 y, m = 1, d = 1, hh = 0, mi = 0, ss = 0, th, tm;
	unsigned long	 frac = 0, scale = 1000000u, span_us;
	size_t		 i = 0, digits;
	long long	 days, secs, offset = 0;
	int		 prec = DATE_YEAR, sign;
	long long	 span_days = 0;

	if (date_digits(s, len, &i, 4, &y) || y < 1)
		return EMBER_EINVAL;
	if (i < len) {
		if (s[i++] != '-' || date_digits(s, len, &i, 2, &m) ||
		    m < 1 || m > 12)
			return EMBER_EINVAL;
		prec = DATE_MONTH;
	}
	if (i < len) {
		if (s[i++] != '-' || date_digits(s, len, &i, 2, &d) ||
		    d < 1 || d > date_month_days((int)y, m))
			return EMBER_EINVAL;
		prec = DATE_DAY;
	}
	if (i < len) {
		if (s[i++] != 'T' || date_digits(s, len, &i, 2, &hh) ||
		    i >= len || s[i++] != ':' ||
		    date_digits(s, len, &i, 2, &mi) || hh > 23 || mi > 59)
			return EMBER_EINVAL;
		prec = DATE_MINUTE;
		if (i < len && s[i] == ':') {
			i++;
			if (date_digits(s, len, &i, 2, &ss) || ss > 60)
				return EMBER_EINVAL;
			prec = DATE_SECOND;
			if (i < len && s[i] == '.') {
				for (i++, digits = 0; i < len && s[i] >= '0' &&
				    s[i] <= '9'; i++, digits++)
					if (digits < 6) {
						frac = frac * 10 +
						    (unsigned long)(s[i] - '0');
						scale /= 10;
					}
				if (digits == 0)
					return EMBER_EINVAL;
				frac *= scale;
				prec = DATE_FRACTION;
			}
		}
		/* Zone: Z, +hh:mm, -hh:mm; none means UTC. */
		if (i < len) {
			if (s[i] == 'Z') {
				i++;
			} else if (s[i] == '+' || s[i] == '-') {
				sign = s[i++] == '-' ? -1 : 1;
				if (date_digits(s, len, &i, 2, &th) ||
				    i >= len || s[i++] != ':' ||
				    date_digits(s, len, &i, 2, &tm) ||
				    th > 14 || tm > 59)
					return EMBER_EINVAL;
				offset = sign * (long long)(th * 3600 + tm * 60);
			} else
				return EMBER_EINVAL;
		}
		if (i != len)
			return EMBER_EINVAL;
	}
	days = date_days(y, m, d);
	secs = days * 86400 + hh * 3600 + mi * 60 + ss - offset;
	switch (prec) {
	case DATE_YEAR:
		span_days = date_days(y + 1, 1, 1) - days;
		break;
	case DATE_MONTH:
		span_days = date_month_days((int)y, m);
		break;
	case DATE_DAY:
		span_days = 1;
		break;
	}
	if (span_days)
		*high = (secs + span_days * 86400) * 1000000 - 1;
	else {
		span_us = prec == DATE_MINUTE ? 60000000u :
		    prec == DATE_SECOND ? 1000000u : scale;
		*high = secs * 1000000 + (long long)(frac + span_us) - 1;
	}
	*low = secs * 1000000 + (long long)frac;
	if (precision)
		*precision = prec;
	return EMBER_OK;
}
