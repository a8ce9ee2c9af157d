/*
 * lz.c: the compression of stored JSON and owned lists; see lz.h.
 *
 * An LZ77 coder in the manner of LZ4's block format, small enough to
 * keep here rather than add a dependency.  A stream is a run of
 * sequences: a token byte (literal count in the high nibble, match
 * length - 4 in the low one, 15 meaning "more bytes follow, each adding
 * up to 255"), the literals, then a 2-byte little-endian match offset
 * and the match's extra length bytes.  The last sequence has literals
 * only and ends the input.  Matches may reach back into a preset
 * dictionary that notionally precedes the data: common FHIR JSON, so
 * that a small resource compresses as well as a large one.  The
 * dictionary is part of the on-disk format (STORE_FORMAT): changing one
 * byte of it makes every stored version unreadable.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "lz.h"

#define LZ_MIN		4
#define LZ_HASH_BITS	12
#define LZ_HASH_SIZE	(1u << LZ_HASH_BITS)
#define LZ_WINDOW	65535u
#define LZ_SLACK	16		/* bytes a decoder may write past */

static const char lz_dict[] =
    "\"profile\":[\"http://hl7.org/fhir/StructureDefinition/"
    "\"http://hl7.org/fhir/us/core/StructureDefinition/us-core-"
    "\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://"
    "www.w3.org/1999/xhtml\\\">"
    "</div>\"},\"extension\":[{\"url\":\"http://hl7.org/fhir/"
    "StructureDefinition/\",\"valueString\":\"\",\"valueCode\":\""
    "\"identifier\":[{\"use\":\"official\",\"type\":{\"coding\":[{"
    "\"system\":\"urn:ietf:rfc:3986\",\"value\":\"urn:uuid:"
    "\"name\":[{\"use\":\"official\",\"family\":\"\",\"given\":[\""
    "\"telecom\":[{\"system\":\"phone\",\"value\":\"\",\"use\":\"home\"}]"
    ",\"gender\":\"female\",\"gender\":\"male\",\"birthDate\":\""
    "\"address\":[{\"line\":[\"\"],\"city\":\"\",\"state\":\"\","
    "\"postalCode\":\"\",\"country\":\"US\"}],\"maritalStatus\":"
    "\"communication\":[{\"language\":"
    "\"status\":\"active\",\"status\":\"completed\",\"status\":\"final\","
    "\"status\":\"finished\",\"intent\":\"order\",\"status\":\"amended\""
    "\"clinicalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7"
    ".org/CodeSystem/condition-clinical\",\"code\":\"active\"}]},"
    "\"verificationStatus\":{\"coding\":[{\"system\":\"http://"
    "terminology.hl7.org/CodeSystem/condition-ver-status\",\"code\":"
    "\"confirmed\"}]},\"category\":[{\"coding\":[{\"system\":\"http://"
    "terminology.hl7.org/CodeSystem/observation-category\",\"code\":\""
    "vital-signs\",\"display\":\"vital-signs\"}]}],\"code\":{\"coding\":"
    "[{\"system\":\"http://loinc.org\",\"code\":\"\",\"display\":\""
    "\"}],\"text\":\"\"},\"subject\":{\"reference\":\"Patient/\"},"
    "\"encounter\":{\"reference\":\"Encounter/\"},\"effectiveDateTime\":"
    "\"\",\"issued\":\"\",\"valueQuantity\":{\"value\":,\"unit\":\"\","
    "\"system\":\"http://unitsofmeasure.org\",\"code\":\"\"}},"
    "\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://loinc"
    ".org\",\"valueCodeableConcept\":{\"coding\":[{\"system\":\""
    "http://snomed.info/sct\",\"code\":\"\",\"display\":\"\"}],\"text\":"
    "\"class\":{\"system\":\"http://terminology.hl7.org/CodeSystem/"
    "v3-ActCode\",\"code\":\"AMB\"},\"type\":[{\"coding\":[{\"system\":"
    "\"http://snomed.info/sct\",\"code\":\"\",\"display\":\"\"}],"
    "\"participant\":[{\"type\":[{\"coding\":[{\"system\":\"http://"
    "terminology.hl7.org/CodeSystem/v3-ParticipationType\",\"code\":"
    "\"PPRF\",\"display\":\"primary performer\"}],\"text\":\"primary "
    "performer\"}],\"individual\":{\"reference\":\"Practitioner/\","
    "\"display\":\"Dr. \"}}],\"period\":{\"start\":\"\",\"end\":\"\"},"
    "\"serviceProvider\":{\"reference\":\"Organization/\",\"display\":"
    "\"location\":[{\"location\":{\"reference\":\"Location/\",\"display\":"
    "\"onsetDateTime\":\"\",\"abatementDateTime\":\"\",\"recordedDate\":"
    "\"performedPeriod\":{\"start\":\"\",\"occurrenceDateTime\":\""
    "\"vaccineCode\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/"
    "cvx\",\"primarySource\":true,\"authoredOn\":\"\",\"requester\":{"
    "\"reference\":\"Practitioner/\",\"medicationCodeableConcept\":{"
    "\"coding\":[{\"system\":\"http://www.nlm.nih.gov/research/umls/"
    "rxnorm\",\"dosageInstruction\":[{\"sequence\":1,\"timing\":{"
    "\"repeat\":{\"frequency\":1,\"period\":1,\"periodUnit\":\"d\"}},"
    "\"asNeededBoolean\":false,\"doseAndRate\":[{\"type\":{\"coding\":"
    "\"billablePeriod\":{\"start\":\"\",\"created\":\"\",\"provider\":{"
    "\"reference\":\"Organization/\",\"priority\":{\"coding\":[{"
    "\"system\":\"http://terminology.hl7.org/CodeSystem/processpriority"
    "\",\"code\":\"normal\"}]},\"insurance\":[{\"sequence\":1,\"focal\":"
    "true,\"coverage\":{\"reference\":\"#coverage\",\"display\":\""
    "\"item\":[{\"sequence\":1,\"productOrService\":{\"coding\":[{"
    "\"encounter\":[{\"reference\":\"Encounter/\"}],\"net\":{\"value\":"
    ",\"currency\":\"USD\"}},\"total\":{\"value\":,\"currency\":\"USD\"},"
    "\"use\":\"claim\",\"outcome\":\"complete\",\"adjudication\":[{"
    "\"category\":{\"coding\":[{\"system\":\"https://bluebutton.cms.gov/"
    "resources/codesystem/adjudication\",\"code\":\"https://bluebutton"
    ".cms.gov/resources/variables/line_\",\"amount\":{\"value\":"
    "\"claim\":{\"reference\":\"Claim/\"},\"payment\":{\"amount\":{"
    "\"diagnosis\":[{\"sequence\":1,\"diagnosisReference\":{\"reference\":"
    "\"Condition/\"}}],\"careTeam\":[{\"sequence\":1,\"provider\":{"
    "\"reference\":\"Practitioner/\"},\"role\":{\"coding\":[{\"system\":"
    "\"http://terminology.hl7.org/CodeSystem/claimcareteamrole\",\"code\":"
    "\"primary\",\"display\":\"Primary Care Practitioner\"}]}}],"
    "\"content\":[{\"attachment\":{\"contentType\":\"text/plain; charset="
    "utf-8\",\"data\":\"\"},\"format\":{\"system\":\"http://ihe.net/fhir/"
    "ihe.formatcode.fhir/CodeSystem/formatcode\",\"code\":\"urn:ihe:iti:"
    "xds:2017:mimeTypeSufficient\",\"display\":\"mimeType Sufficient\"}}]"
    ",\"context\":{\"encounter\":[{\"reference\":\"Encounter/\"}],"
    "\"period\":{\"start\":\"\",\"end\":\"\"}},\"date\":\"\",\"author\":[{"
    "\"reference\":\"Practitioner/\",\"display\":\"Dr. \"}],\"custodian\":"
    "{\"reference\":\"Organization/\",\"presentedForm\":[{\"contentType\":"
    "\"text/plain\",\"data\":\"\"}],\"result\":[{\"reference\":"
    "\"Observation/\",\"display\":\"\"}],\"performer\":[{\"reference\":"
    "\"Organization/\",\"resourceType\":\"ExplanationOfBenefit\","
    "\"resourceType\":\"Observation\",\"resourceType\":\"Patient\","
    "\"resourceType\":\"Encounter\",\"resourceType\":\"Claim\","
    "\"resourceType\":\"Condition\",\"resourceType\":\"Procedure\","
    "\"resourceType\":\"DiagnosticReport\",\"resourceType\":\""
    "{\"resourceType\":\"\",\"id\":\"\",\"meta\":{\"versionId\":\"1\","
    "\"lastUpdated\":\"2000-01-01T00:00:00.000000Z\",\"profile\":[\"http://"
    "hl7.org/fhir/us/core/StructureDefinition/us-core-";

/* Bytes of the compression dictionary. */
#define LZ_DICT_LEN	(sizeof(lz_dict) - 1)

/*
 * The dictionary's hash table, the same for every stream: for each hash,
 * the last dictionary position with it, or -1.
 */
struct lz_prep {
	int32_t	lp_head[LZ_HASH_SIZE];
};

static uint32_t
lz_hash(const unsigned char *p)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

	return (v * 2654435761u) >> (32 - LZ_HASH_BITS);
}

struct lz_prep *
lz_prepare(void)
{
	struct lz_prep	*lp;
	size_t		 i;

	if ((lp = malloc(sizeof(*lp))) == NULL)
		return NULL;
	for (i = 0; i < LZ_HASH_SIZE; i++)
		lp->lp_head[i] = -1;
	for (i = 0; i + LZ_MIN <= LZ_DICT_LEN; i++)
		lp->lp_head[lz_hash((const unsigned char *)lz_dict + i)] =
		    (int32_t)i;
	return lp;
}

/* Write a length's extension bytes (the nibble said 15) at op. */
static unsigned char *
lz_put_len(unsigned char *op, size_t n)
{
	for (; n >= 255; n -= 255)
		*op++ = 255;
	*op++ = (unsigned char)n;
	return op;
}

/*
 * Write one sequence at op, which has room for it (the output buffer is
 * reserved for the worst case: see lz_compress()); returns the end.
 */
static unsigned char *
lz_sequence(unsigned char *op, const unsigned char *lit, size_t nlit,
    size_t off, size_t mlen)
{
	size_t m = mlen ? mlen - LZ_MIN : 0;

	*op++ = (unsigned char)((nlit < 15 ? nlit : 15) << 4 |
	    (m < 15 ? m : 15));
	if (nlit >= 15)
		op = lz_put_len(op, nlit - 15);
	memcpy(op, lit, nlit);
	op += nlit;
	if (mlen == 0)
		return op;
	*op++ = (unsigned char)(off & 0xff);
	*op++ = (unsigned char)(off >> 8);
	if (m >= 15)
		op = lz_put_len(op, m - 15);
	return op;
}

/* How many bytes a and b have in common from the start, at most lim. */
static size_t
lz_common(const unsigned char *a, const unsigned char *b, size_t lim)
{
	uint64_t	x, y;
	size_t		n = 0;

	for (; n + 8 <= lim; n += 8) {
		memcpy(&x, a + n, 8);
		memcpy(&y, b + n, 8);
		if (x != y) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return n + (size_t)__builtin_ctzll(x ^ y) / 8;
#else
			break;
#endif
		}
	}
	while (n < lim && a[n] == b[n])
		n++;
	return n;
}

/*
 * One candidate a position, the last one with the same hash, as LZ4 does.
 * Following each hash's chain to 8 candidates made stored JSON 8% shorter
 * (Synthea's resources: 43.4% of their size against 39.9%) but took more
 * than twice as long, and a load spent a fifth of its time here.
 */
int
lz_compress(const struct lz_prep *lp, const void *src, size_t n,
    struct buf *work, struct buf *out)
{
	const size_t	 base = LZ_DICT_LEN;
	unsigned char	*w, *op;
	int32_t		*head, cand;
	size_t		 end, i, anchor, len, need;
	uint32_t	 h;

	if (n > SIZE_MAX / 2 - base - sizeof(lp->lp_head))
		return EMBER_ENOMEM;
	end = base + n;
	/* window | head, aligned for int32_t */
	need = ((end + 3) & ~(size_t)3) + sizeof(lp->lp_head);
	buf_reset(work);
	buf_reset(out);
	/* The worst case: all literals, a token and a length byte for
	 * each 255 of them. */
	if (buf_reserve(work, need) || buf_reserve(out, n + n / 128 + 16))
		return EMBER_ENOMEM;
	op = (unsigned char *)out->data;
	w = (unsigned char *)work->data;
	head = (int32_t *)(void *)(w + ((end + 3) & ~(size_t)3));
	memcpy(w, lz_dict, base);
	memcpy(head, lp->lp_head, sizeof(lp->lp_head));
	memcpy(w + base, src, n);

	anchor = i = base;
	while (i + LZ_MIN <= end) {
		h = lz_hash(w + i);
		cand = head[h];
		head[h] = (int32_t)i;
		if (cand < 0 || i - (size_t)cand > LZ_WINDOW ||
		    memcmp(w + cand, w + i, LZ_MIN) != 0) {
			i++;
			continue;
		}
		len = LZ_MIN + lz_common(w + cand + LZ_MIN, w + i + LZ_MIN,
		    end - i - LZ_MIN);
		op = lz_sequence(op, w + anchor, i - anchor,
		    i - (size_t)cand, len);
		len += i;
		/* Inside a match, every other position: half the work,
		 * nearly all the matches. */
		for (i++; i < len && i + LZ_MIN <= end; i += 2)
			head[lz_hash(w + i)] = (int32_t)i;
		i = anchor = len;
	}
	op = lz_sequence(op, w + anchor, end - anchor, 0, 0);
	out->len = (size_t)(op - (unsigned char *)out->data);
	return EMBER_OK;
}

/* Read a length's extension bytes onto *n.  0, or -1 when cut. */
static int
lz_get_len(const unsigned char **ip, const unsigned char *iend,
    size_t *n, size_t limit)
{
	unsigned char b;

	do {
		if (*ip >= iend)
			return -1;
		b = *(*ip)++;
		*n += b;
		if (*n > limit)
			return -1;
	} while (b == 255);
	return 0;
}

int
lz_decompress(const unsigned char *in, size_t len, size_t outlen,
    struct buf *out)
{
	const unsigned char	*dict = (const unsigned char *)lz_dict;
	const unsigned char	*ip = in, *iend = in + len;
	unsigned char		*w, *op, *oend;
	size_t			 nlit, mlen, off, back, n, k;
	unsigned		 tok;

	buf_reset(out);
	/* LZ_SLACK past the end: runs and matches are copied 16 bytes at
	 * a time (the fast path may write 32 past a match's start, with
	 * 32 bytes to go) */
	if (outlen > SIZE_MAX - 1 - LZ_SLACK ||
	    buf_reserve(out, outlen + LZ_SLACK))
		return EMBER_ENOMEM;
	w = op = (unsigned char *)out->data;
	oend = op + outlen;
	while (ip < iend) {
		tok = *ip++;
		nlit = tok >> 4;
		/*
		 * Most sequences are a short run and a short match from at
		 * least 16 bytes back, away from both ends: 16 bytes of run
		 * and 32 of match copied at once, whatever the lengths.
		 */
		if (nlit < 15 && (tok & 15) < 15 && iend - ip >= 16 &&
		    oend - op >= 32) {
			const unsigned char *from = NULL;

			off = (size_t)ip[nlit] | (size_t)ip[nlit + 1] << 8;
			mlen = (tok & 15) + LZ_MIN;
			n = (size_t)(op - w) + nlit;	/* output before it */
			if (off >= 16 && off <= n)
				from = op + nlit - off;
			else if (off > n && off <= n + LZ_DICT_LEN &&
			    off - n >= 32)	/* wholly in the dictionary */
				from = dict + LZ_DICT_LEN - (off - n);
			if (from != NULL && mlen <= (size_t)(oend - op) - nlit) {
				memcpy(op, ip, 16);
				op += nlit;
				ip += nlit + 2;
				memcpy(op, from, 16);
				memcpy(op + 16, from + 16, 16);
				op += mlen;
				continue;
			}
		}
		if (nlit == 15 && lz_get_len(&ip, iend, &nlit, len))
			return EMBER_ESTORE;
		if (nlit > (size_t)(iend - ip) || nlit > (size_t)(oend - op))
			return EMBER_ESTORE;
		/* 16 bytes at a time when the input has them (the output
		 * has LZ_SLACK more): fixed-size copies are inlined. */
		if ((size_t)(iend - ip) >= nlit + 15)
			for (k = 0; k < nlit; k += 16)
				memcpy(op + k, ip + k, 16);
		else
			memcpy(op, ip, nlit);
		op += nlit;
		ip += nlit;
		if (ip == iend)
			break;
		if (iend - ip < 2)
			return EMBER_ESTORE;
		off = (size_t)ip[0] | (size_t)ip[1] << 8;
		ip += 2;
		mlen = (tok & 15) + LZ_MIN;
		if ((tok & 15) == 15 &&
		    lz_get_len(&ip, iend, &mlen, outlen))
			return EMBER_ESTORE;
		if (off == 0 || off > (size_t)(op - w) + LZ_DICT_LEN ||
		    mlen > (size_t)(oend - op))
			return EMBER_ESTORE;
		if (off > (size_t)(op - w)) {
			/* From the dictionary, which notionally ends at w:
			 * 16 bytes at a time while they lie inside it. */
			const unsigned char *from;

			back = off - (size_t)(op - w);
			from = dict + LZ_DICT_LEN - back;
			n = back < mlen ? back : mlen;
			for (k = 0; k < n && k + 16 <= back; k += 16)
				memcpy(op + k, from + k, 16);
			for (; k < n; k++)
				op[k] = from[k];
			op += n;
			mlen -= n;
		}
		if (off >= 16) {
			/* Each 16 bytes read lie wholly before those written;
			 * the last copy may run up to 15 bytes past mlen. */
			for (n = 0; n < mlen; n += 16)
				memcpy(op + n, op + n - off, 16);
			op += mlen;
		} else if (off >= 8) {
			for (n = 0; n < mlen; n += 8)
				memcpy(op + n, op + n - off, 8);
			op += mlen;
		} else	/* a short run */
			for (; mlen > 0; mlen--, op++)
				*op = *(op - off);
	}
	if (op != oend)
		return EMBER_ESTORE;
	out->len = outlen;
	return EMBER_OK;
}

