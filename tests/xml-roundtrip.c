/*
 * xml-roundtrip.c: src/xml.c over every official example of every FHIR
 * version in ../shared/fhir (EMBER_SHARED overrides; skips when absent).
 *
 * 1. JSON -> XML -> JSON, every JSON resource of each package (DSTU2
 *    examples-json.tar.xz; the STU3 and R4 example packages; the R4B and
 *    R5 core packages, which hold definitions only: every
 *    StructureDefinition, ValueSet, SearchParameter... is a resource
 *    too).  The result must equal the input modulo key order, after
 *    these normalizations of the input, and no others:
 *      a. a UTF-8 byte-order mark at the start of a file is removed
 *         before parsing (19 STU3 NamingSystem files start with one);
 *      b. `fhir_comments` (DSTU2's JSON form of XML comments) are
 *         removed, with `_name` objects and arrays that held nothing
 *         else: the writer turns them into XML comments and XML
 *         comments are dropped when XML is read;
 *      c. in the narrative div, the HTML named entities (&nbsp;, &copy;
 *         ...; XML knows only its five) become numeric character
 *         references, and a div without a namespace declaration gets
 *         xmlns="http://www.w3.org/1999/xhtml" (DSTU2 JSON leaves it
 *         out): that is what the XML holds.
 * 2. DSTU2 official XML (examples-xml.tar.xz) -> JSON -> XML: the same
 *    XML modulo whitespace between and around text, and comments
 *    (compared as canonical event lists: namespaced names, sorted
 *    attributes, text with whitespace runs collapsed).
 * 3. With xmllint (libxml2-utils) on the PATH: Ember's XML for every
 *    DSTU2 and STU3 JSON example validated against the official schemas
 *    (xsd/fhir-all.xsd) of that version.
 * 4. Writing and checking only (xml_from_json_err() without an output
 *    buffer, as the JSON write paths validate) agree: the same verdict
 *    and the same reason, for every JSON example as it is and for one
 *    damaged copy of each (the damage, from a table, cycles with the
 *    file and lands on a node picked by the file's position).
 *
 * Official examples that are themselves invalid against their own
 * version's definitions are listed in tests/data/xml/invalid-examples.tsv
 * with the reason; for those the conversion must fail with that reason
 * (so the list cannot go stale), and they are counted apart.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <expat.h>

#include "buf.h"
#include "error.h"
#include "json.h"
#include "tables.h"
#include "tap.h"
#include "xml.h"

extern char **environ;

#define MAX_DEPTH	1000	/* official examples are not hostile */
#define SHOW_FAILURES	15	/* diagnostics per version and kind */
#define XMLLINT_BATCH	200	/* files per xmllint run */

struct version {
	const char	*name;		/* "R4" */
	const char	*dir;		/* folder in shared and tables name */
	const char	*json_archive;	/* relative to shared/dir */
	const char	*json_folder;	/* inside the unpacked archive */
	const char	*xml_archive;	/* DSTU2 only */
	const char	*xml_folder;
	const char	*xsd;		/* folder of fhir-all.xsd, or NULL */
};

static const struct version versions[] = {
	{ "DSTU2", "dstu2", "examples-json.tar.xz", "examples-json",
	    "examples-xml.tar.xz", "examples-xml", "xsd" },
	{ "STU3", "stu3", "hl7.fhir.r3.examples-3.0.2.tgz", "package",
	    NULL, NULL, "xsd" },
	{ "R4", "r4", "hl7.fhir.r4.examples-4.0.1.tgz", "package",
	    NULL, NULL, NULL },
	{ "R4B", "r4b", "hl7.fhir.r4b.core-4.3.0.tgz", "package",
	    NULL, NULL, NULL },
	{ "R5", "r5", "hl7.fhir.r5.core-5.0.0.tgz", "package",
	    NULL, NULL, NULL },
};

/* One line of invalid-examples.tsv. */
struct invalid {
	char	version[16];
	char	file[256];
	char	stage[16];	/* "convert" or "xsd" */
	char	reason[512];	/* a substring of Ember's error */
	int	seen;
};

static struct invalid	*invalids;
static size_t		 ninvalids;
static char		 tmproot[4096];

/* ---- small helpers ---- */

static void pathf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Bounded formatting of a file name; a truncated name ends the test. */
static void
pathf(char *out, size_t size, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		printf("Bail out! file name too long\n");
		exit(1);
	}
}

static int
run(char *const argv[], const char *out_path)
{
	posix_spawn_file_actions_t	fa;
	pid_t				pid;
	int				st, rc;

	posix_spawn_file_actions_init(&fa);
	if (out_path != NULL) {
		posix_spawn_file_actions_addopen(&fa, 1, out_path,
		    O_WRONLY | O_CREAT | O_TRUNC, 0600);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
on_path(const char *prog)
{
	const char	*path = getenv("PATH"), *p, *e;
	char		 full[4096];

	for (p = path ? path : "/usr/bin:/bin"; *p; p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (snprintf(full, sizeof(full), "%.*s/%s", (int)(e - p), p,
		    prog) < (int)sizeof(full) && access(full, X_OK) == 0)
			return 1;
	}
	return 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*b = NULL;
	long	 n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) != NULL) {
		*len = fread(b, 1, (size_t)n, f);
		b[*len] = '\0';
	}
	fclose(f);
	return b;
}

static int
write_file(const char *path, const char *data, size_t len)
{
	FILE	*f = fopen(path, "wb");
	int	 ok;

	if (f == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static void
rm_rf(const char *path)
{
	char	 rm[] = "rm", rf[] = "-rf", *target = strdup(path);
	char	*argv[] = { rm, rf, target, NULL };

	if (target != NULL)
		(void)run(argv, NULL);
	free(target);
}

/* The sorted names in dir ending in suffix. */
static int
list_files(const char *dir, const char *suffix, char ***out, size_t *n)
{
	struct dirent	**ents;
	int		  k, i;

	*n = 0;
	if ((k = scandir(dir, &ents, NULL, alphasort)) < 0)
		return -1;
	*out = calloc((size_t)k + 1, sizeof(char *));
	for (i = 0; i < k; i++) {
		if (*out != NULL && ents[i]->d_name[0] != '.' &&
		    has_suffix(ents[i]->d_name, suffix) &&
		    strcmp(ents[i]->d_name, "package.json") != 0)
			(*out)[(*n)++] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return *out == NULL ? -1 : 0;
}

static void
free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* ---- the list of invalid official examples ---- */

static void
load_invalids(const char *srcdir)
{
	char	 path[4096], line[2048], *f[5], *p;
	FILE	*fp;
	int	 k;

	pathf(path, sizeof(path), "%s/tests/data/xml/invalid-examples.tsv",
	    srcdir);
	if ((fp = fopen(path, "r")) == NULL) {
		tap_diag("cannot read %s", path);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct invalid *grown;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (k = 0, p = line; k < 5 && p != NULL; k++) {
			f[k] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (k < 4)
			continue;
		if (strlen(f[0]) >= sizeof(invalids->version) ||
		    strlen(f[1]) >= sizeof(invalids->file) ||
		    strlen(f[2]) >= sizeof(invalids->stage) ||
		    strlen(f[3]) >= sizeof(invalids->reason)) {
			tap_diag("invalid-examples.tsv: line too long: %.60s",
			    f[1]);
			continue;
		}
		grown = realloc(invalids, (ninvalids + 1) * sizeof(*grown));
		if (grown == NULL)
			break;
		invalids = grown;
		memset(&invalids[ninvalids], 0, sizeof(*invalids));
		memcpy(invalids[ninvalids].version, f[0], strlen(f[0]));
		memcpy(invalids[ninvalids].file, f[1], strlen(f[1]));
		memcpy(invalids[ninvalids].stage, f[2], strlen(f[2]));
		memcpy(invalids[ninvalids].reason, f[3], strlen(f[3]));
		ninvalids++;
	}
	fclose(fp);
}

static struct invalid *
find_invalid(const char *version, const char *file, const char *stage)
{
	size_t i;

	for (i = 0; i < ninvalids; i++)
		if (strcmp(invalids[i].version, version) == 0 &&
		    strcmp(invalids[i].file, file) == 0 &&
		    strcmp(invalids[i].stage, stage) == 0)
			return &invalids[i];
	return NULL;
}

/* ---- normalization of the expected JSON (see the header) ---- */

/* An HTML entity table of its own, so the test does not trust xml.c. */
static const struct { const char *name; unsigned code; } html[] = {
	{ "nbsp", 160 }, { "iexcl", 161 }, { "cent", 162 }, { "pound", 163 },
	{ "curren", 164 }, { "yen", 165 }, { "brvbar", 166 }, { "sect", 167 },
	{ "uml", 168 }, { "copy", 169 }, { "ordf", 170 }, { "laquo", 171 },
	{ "not", 172 }, { "shy", 173 }, { "reg", 174 }, { "macr", 175 },
	{ "deg", 176 }, { "plusmn", 177 }, { "sup2", 178 }, { "sup3", 179 },
	{ "acute", 180 }, { "micro", 181 }, { "para", 182 },
	{ "middot", 183 }, { "cedil", 184 }, { "sup1", 185 }, { "ordm", 186 },
	{ "raquo", 187 }, { "frac14", 188 }, { "frac12", 189 },
	{ "frac34", 190 }, { "iquest", 191 }, { "times", 215 },
	{ "divide", 247 }, { "ndash", 8211 }, { "mdash", 8212 },
	{ "lsquo", 8216 }, { "rsquo", 8217 }, { "ldquo", 8220 },
	{ "rdquo", 8221 }, { "bull", 8226 }, { "hellip", 8230 },
	{ "euro", 8364 }, { "trade", 8482 }, { "larr", 8592 },
	{ "rarr", 8594 }, { "le", 8804 }, { "ge", 8805 },
};

static char *
normalize_div(const char *s)
{
	struct buf	 b = BUF_INIT;
	const char	*p, *semi;
	size_t		 i, n;
	int		 done;

	/* The namespace, when the div's start tag does not declare one. */
	n = strcspn(s, ">");
	if (strncmp(s, "<div", 4) == 0 && (s[4] == ' ' || s[4] == '>' ||
	    s[4] == '/' || s[4] == '\t' || s[4] == '\n' || s[4] == '\r')) {
		const char *x = strstr(s, "xmlns=");

		if (x == NULL || (size_t)(x - s) > n) {
			buf_puts(&b, "<div xmlns=\"http://www.w3.org/1999/xhtml\"");
			s += 4;
		}
	}
	for (p = s; *p; ) {
		done = 0;
		if (*p == '&' && (semi = strchr(p, ';')) != NULL &&
		    semi - p < 12)
			for (i = 0; i < sizeof(html) / sizeof(html[0]); i++)
				if (strlen(html[i].name) == (size_t)(semi - p - 1) &&
				    strncmp(p + 1, html[i].name,
				    (size_t)(semi - p - 1)) == 0) {
					buf_printf(&b, "&#%u;", html[i].code);
					p = semi + 1;
					done = 1;
					break;
				}
		if (!done)
			buf_putc(&b, *p++);
	}
	return buf_detach(&b, NULL);
}

static int
is_empty_ext(const cJSON *c)
{
	return cJSON_IsObject(c) && c->child == NULL;
}

/* Apply b. and c. to tree j, in place; 0 or -1 (out of memory). */
static int
normalize(cJSON *j)
{
	cJSON	*c, *next, *e;
	char	*d;

	for (c = j->child; c != NULL; c = next) {
		next = c->next;
		if (c->string != NULL && strcmp(c->string, "fhir_comments") == 0) {
			cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
			continue;
		}
		if (c->string != NULL && strcmp(c->string, "div") == 0 &&
		    cJSON_IsString(c)) {
			if ((d = normalize_div(c->valuestring)) == NULL)
				return -1;
			free(c->valuestring);
			c->valuestring = d;
			continue;
		}
		if (c->child != NULL && normalize(c) != 0)
			return -1;
		if (c->string == NULL || c->string[0] != '_')
			continue;
		/* `_name` that held only comments. */
		if (is_empty_ext(c)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
			continue;
		}
		if (cJSON_IsArray(c)) {
			int all_null = 1;

			for (e = c->child; e != NULL; e = e->next) {
				if (is_empty_ext(e)) {
					cJSON *nul = cJSON_CreateNull();

					if (nul == NULL ||
					    !cJSON_ReplaceItemViaPointer(c, e, nul))
						return -1;
					e = nul;
				}
				if (!cJSON_IsNull(e))
					all_null = 0;
			}
			if (all_null)
				cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
		}
	}
	return 0;
}

/* ---- comparison ---- */

/*
 * Whether a equals b modulo key order; numbers by their text.  On a
 * difference, path says where.
 */
static int
json_same(const cJSON *a, const cJSON *b, char *path, size_t pathsz)
{
	const cJSON	*c, *d;
	size_t		 n = strlen(path);
	int		 i;

	if ((a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a))
		return a->valuestring && b->valuestring &&
		    strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return 0;
		for (c = a->child, d = b->child, i = 0; c != NULL;
		    c = c->next, d = d->next, i++) {
			snprintf(path + n, pathsz - n, "[%d]", i);
			if (!json_same(c, d, path, pathsz))
				return 0;
		}
		path[n] = '\0';
		return 1;
	}
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) {
			for (c = a->child; c != NULL; c = c->next)
				if (cJSON_GetObjectItemCaseSensitive(b,
				    c->string) == NULL) {
					snprintf(path + n, pathsz - n,
					    ".%s (missing)", c->string);
					return 0;
				}
			for (c = b->child; c != NULL; c = c->next)
				if (cJSON_GetObjectItemCaseSensitive(a,
				    c->string) == NULL) {
					snprintf(path + n, pathsz - n,
					    ".%s (extra)", c->string);
					return 0;
				}
			return 0;
		}
		for (c = a->child; c != NULL; c = c->next) {
			snprintf(path + n, pathsz - n, ".%s", c->string);
			if ((d = cJSON_GetObjectItemCaseSensitive(b,
			    c->string)) == NULL || !json_same(c, d, path,
			    pathsz))
				return 0;
		}
		path[n] = '\0';
		return 1;
	}
	return 1;
}

/* Canonical XML events: comments dropped, whitespace collapsed. */
struct canon {
	struct buf	out;
	struct buf	text;
};

static void
canon_flush(struct canon *c)
{
	size_t	i;
	int	space = 0, any = 0;

	for (i = 0; i < c->text.len; i++) {
		char ch = c->text.data[i];

		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			space = 1;
			continue;
		}
		if (!any)
			buf_puts(&c->out, "T ");
		else if (space)
			buf_putc(&c->out, ' ');
		buf_putc(&c->out, ch);
		space = 0;
		any = 1;
	}
	if (any)
		buf_putc(&c->out, '\n');
	buf_reset(&c->text);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void XMLCALL
canon_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct canon	*c = ud;
	const char	*sorted[256];
	size_t		 n = 0, i;

	canon_flush(c);
	buf_printf(&c->out, "S %s", name);
	for (i = 0; atts[i] != NULL && n < 256; i += 2)
		sorted[n++] = atts[i];
	qsort(sorted, n, sizeof(sorted[0]), cmp_str);
	for (i = 0; i < n; i++) {
		size_t k;

		for (k = 0; atts[k] != sorted[i]; k += 2)
			;
		buf_printf(&c->out, " %s=\"%s\"", atts[k], atts[k + 1]);
	}
	buf_putc(&c->out, '\n');
}

static void XMLCALL
canon_end(void *ud, const XML_Char *name)
{
	struct canon *c = ud;

	canon_flush(c);
	buf_printf(&c->out, "E %s\n", name);
}

static void XMLCALL
canon_text(void *ud, const XML_Char *s, int len)
{
	struct canon *c = ud;

	buf_append(&c->text, s, (size_t)len);
}

/* The canonical form of an XML document, or NULL if it does not parse. */
static char *
canonical(const char *xml, size_t len)
{
	struct canon	c = { BUF_INIT, BUF_INIT };
	XML_Parser	p = XML_ParserCreateNS("UTF-8", '|');
	int		ok;

	if (p == NULL)
		return NULL;
	XML_SetUserData(p, &c);
	XML_SetElementHandler(p, canon_start, canon_end);
	XML_SetCharacterDataHandler(p, canon_text);
	ok = XML_Parse(p, xml, (int)len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	buf_free(&c.text);
	if (!ok) {
		buf_free(&c.out);
		return NULL;
	}
	return buf_detach(&c.out, NULL);
}

/* Describe the first differing line of two canonical forms. */
static void
canon_diff(const char *a, const char *b)
{
	size_t line = 1;

	while (*a && *a == *b) {
		if (*a == '\n')
			line++;
		a++;
		b++;
	}
	tap_diag("    event %zu: want \"%.*s\"", line, (int)strcspn(a, "\n") >
	    200 ? 200 : (int)strcspn(a, "\n"), a);
	tap_diag("    event %zu: got  \"%.*s\"", line, (int)strcspn(b, "\n") >
	    200 ? 200 : (int)strcspn(b, "\n"), b);
}

/* ---- the runs ---- */

struct counts {
	size_t	passed;
	size_t	failed;
	size_t	invalid;	/* listed and failing for the listed reason */
	size_t	shown;
};

static void
failure(struct counts *k, const char *version, const char *file,
    const char *what)
{
	k->failed++;
	if (k->shown++ < SHOW_FAILURES)
		tap_diag("%s %s: %s", version, file, what);
}

/*
 * Check the outcome of one file against the list: a listed file must
 * fail with its reason; an unlisted one must not fail.
 */
static void
outcome(struct counts *k, const struct version *v, const char *file,
    int ok, const char *why)
{
	struct invalid	*inv = find_invalid(v->name, file, "convert");
	char		 msg[1024];

	if (inv != NULL) {
		inv->seen = 1;
		if (!ok && strstr(why, inv->reason) != NULL) {
			k->invalid++;
			return;
		}
		snprintf(msg, sizeof(msg), "listed as invalid (\"%s\") but %s%s",
		    inv->reason, ok ? "passed" : "failed with: ",
		    ok ? "" : why);
		failure(k, v->name, file, msg);
		return;
	}
	if (ok)
		k->passed++;
	else
		failure(k, v->name, file, why);
}

/* ---- 4. writing and checking agree ---- */

enum damage {
	DAMAGE_UNKNOWN_KEY,	/* an object gains a key no element has */
	DAMAGE_KIND,		/* string <-> number, object -> string... */
	DAMAGE_WRAP,		/* a value becomes a one-item array */
	DAMAGE_UNWRAP,		/* an array becomes its first item */
	DAMAGE_RENAME,		/* a key gets a suffix */
	DAMAGE_UNDERSCORE,	/* a key "name" becomes "_name" */
	DAMAGE_NULL,		/* a value becomes null */
	DAMAGE_CHARACTER,	/* a string gets a character XML lacks */
	DAMAGE__MAX
};

struct agreement {
	size_t	trees;		/* compared */
	size_t	refused;	/* of them, refused by both */
	size_t	differ;
};

/*
 * The node number *n (counting down) in pre-order below root, and its
 * parent; NULL when the tree is smaller.
 */
static cJSON *
nth_node(cJSON *root, size_t *n, cJSON **parent)
{
	cJSON *c, *found;

	for (c = root->child; c != NULL; c = c->next) {
		if ((*n)-- == 0) {
			*parent = root;
			return c;
		}
		if ((found = nth_node(c, n, parent)) != NULL)
			return found;
	}
	return NULL;
}

static size_t
count_nodes(const cJSON *root)
{
	const cJSON	*c;
	size_t		 n = 0;

	for (c = root->child; c != NULL; c = c->next)
		n += 1 + count_nodes(c);
	return n;
}

/* Damage node number pick of tree in the way d says. */
static void
damage(cJSON *tree, enum damage d, size_t pick)
{
	cJSON	*node, *parent = tree, *with = NULL;
	size_t	 n, count = count_nodes(tree);
	char	 key[256];

	if (count == 0)
		return;
	n = pick % count;
	if ((node = nth_node(tree, &n, &parent)) == NULL)
		return;
	switch (d) {
	case DAMAGE_UNKNOWN_KEY:
		cJSON_AddBoolToObject(cJSON_IsObject(node) ? node : tree,
		    "zzUnknown", 1);
		return;
	case DAMAGE_KIND:
		if (cJSON_IsString(node))
			with = cJSON_CreateNumber(1);
		else if (cJSON_IsArray(node))
			with = cJSON_CreateObject();
		else
			with = cJSON_CreateString("1");
		break;
	case DAMAGE_WRAP:
		if ((with = cJSON_CreateArray()) != NULL)
			cJSON_AddItemToArray(with, cJSON_Duplicate(node, 1));
		break;
	case DAMAGE_UNWRAP:
		with = cJSON_IsArray(node) && node->child != NULL ?
		    cJSON_Duplicate(node->child, 1) : cJSON_CreateArray();
		break;
	case DAMAGE_RENAME:
	case DAMAGE_UNDERSCORE:
		if (node->string == NULL || strlen(node->string) > 200)
			return;
		snprintf(key, sizeof(key), d == DAMAGE_RENAME ? "%sX" : "_%s",
		    node->string);
		free(node->string);
		node->string = strdup(key);
		return;
	case DAMAGE_NULL:
		with = cJSON_CreateNull();
		break;
	case DAMAGE_CHARACTER:
		if (cJSON_IsString(node))
			cJSON_SetValuestring(node, "a\x01b");
		return;
	default:
		return;
	}
	if (with != NULL && !cJSON_ReplaceItemViaPointer(parent, node, with))
		cJSON_Delete(with);
}

/* Write and check tree; count whether they agree. */
static void
agree_on(const struct tables *t, const cJSON *tree, const char *version,
    const char *file, const char *what, struct agreement *a)
{
	struct buf	 x = BUF_INIT;
	char		 werr[1024], cerr[1024];
	int		 wrc, crc;

	wrc = xml_from_json_err(t, tree, 0, &x, werr, sizeof(werr));
	crc = xml_from_json_err(t, tree, 0, NULL, cerr, sizeof(cerr));
	buf_free(&x);
	a->trees++;
	if (wrc == crc && (wrc == EMBER_OK || strcmp(werr, cerr) == 0)) {
		if (wrc != EMBER_OK)
			a->refused++;
		return;
	}
	if (a->differ++ < SHOW_FAILURES)
		tap_diag("%s %s (%s): written %d \"%s\", checked %d \"%s\"",
		    version, file, what, wrc, wrc ? werr : "", crc,
		    crc ? cerr : "");
}

/* The example j of file number i as it is, and one damaged copy. */
static void
agree_example(const struct tables *t, const cJSON *j, size_t i,
    const char *version, const char *file, struct agreement *a)
{
	static const char *const names[DAMAGE__MAX] = {
		"unknown key", "kind", "wrap", "unwrap", "rename",
		"underscore", "null", "character",
	};
	cJSON	*copy;

	agree_on(t, j, version, file, "as it is", a);
	if ((copy = cJSON_Duplicate(j, 1)) == NULL)
		return;
	damage(copy, (enum damage)(i % DAMAGE__MAX), i * 7919);
	agree_on(t, copy, version, file, names[i % DAMAGE__MAX], a);
	cJSON_Delete(copy);
}

/* JSON -> XML -> JSON over one folder; XML kept for xmllint if asked. */
static void
json_roundtrip(const struct tables *t, const struct version *v,
    const char *folder, const char *xmlout, char ***xml_files,
    size_t *nxml)
{
	struct counts	 k = { 0, 0, 0, 0 };
	struct agreement a = { 0, 0, 0 };
	char		**files, path[4096], err[1024], where[4096];
	size_t		  n, i, len;
	struct buf	  x = BUF_INIT;
	double		  t0 = (double)clock();

	if (list_files(folder, ".json", &files, &n) != 0) {
		ok(0, "%s: list %s", v->name, folder);
		return;
	}
	*nxml = 0;
	if (xmlout != NULL)
		*xml_files = calloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		cJSON	*j = NULL, *back = NULL;
		char	*text, *body;
		int	 rc;

		pathf(path, sizeof(path), "%s/%s", folder, files[i]);
		if ((text = slurp(path, &len)) == NULL) {
			failure(&k, v->name, files[i], "unreadable");
			continue;
		}
		body = text;
		if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
			body += 3;	/* normalization a. */
			len -= 3;
		}
		err[0] = '\0';
		buf_reset(&x);
		if ((rc = json_parse(body, len, MAX_DEPTH, &j, err,
		    sizeof(err))) == EMBER_OK)
			agree_example(t, j, i, v->name, files[i], &a);
		if (rc != EMBER_OK) {
			char msg[1100];

			snprintf(msg, sizeof(msg), "JSON: %s", err);
			outcome(&k, v, files[i], 0, msg);
		} else if ((rc = xml_from_json_err(t, j, 1, &x, err,
		    sizeof(err))) != EMBER_OK) {
			char msg[1100];

			snprintf(msg, sizeof(msg), "to XML: %s", err);
			outcome(&k, v, files[i], 0, msg);
		} else if ((rc = xml_to_json(t, x.data, x.len, MAX_DEPTH,
		    &back, err, sizeof(err))) != EMBER_OK) {
			char msg[1100];

			snprintf(msg, sizeof(msg), "back from XML: %s", err);
			outcome(&k, v, files[i], 0, msg);
		} else if (normalize(j) != 0) {
			failure(&k, v->name, files[i], "out of memory");
		} else {
			where[0] = '\0';
			if (json_same(j, back, where, sizeof(where)))
				outcome(&k, v, files[i], 1, "");
			else {
				char msg[4200];

				snprintf(msg, sizeof(msg), "differs at %s",
				    where[0] ? where : "(top)");
				outcome(&k, v, files[i], 0, msg);
			}
			if (xmlout != NULL && *xml_files != NULL) {
				pathf(path, sizeof(path), "%s/%s.xml",
				    xmlout, files[i]);
				if (write_file(path, x.data, x.len) == 0)
					(*xml_files)[(*nxml)++] =
					    strdup(path);
			}
		}
		cJSON_Delete(j);
		cJSON_Delete(back);
		free(text);
	}
	buf_free(&x);
	ok(k.failed == 0, "%s: JSON -> XML -> JSON: %zu of %zu examples "
	    "passed, %zu listed as invalid, %zu failed (%.1f s)", v->name,
	    k.passed, n, k.invalid, k.failed,
	    ((double)clock() - t0) / CLOCKS_PER_SEC);
	ok(a.differ == 0 && a.trees > 0, "%s: writing and checking agree on "
	    "%zu of %zu trees (%zu refused by both)", v->name,
	    a.trees - a.differ, a.trees, a.refused);
	free_list(files, n);
}

/* Official XML -> JSON -> XML over one folder. */
static void
xml_roundtrip(const struct tables *t, const struct version *v,
    const char *folder)
{
	struct counts	 k = { 0, 0, 0, 0 };
	char		**files, path[4096], err[1024];
	size_t		  n, i, len;
	struct buf	  x = BUF_INIT;

	if (list_files(folder, ".xml", &files, &n) != 0) {
		ok(0, "%s: list %s", v->name, folder);
		return;
	}
	for (i = 0; i < n; i++) {
		cJSON	*j = NULL;
		char	*text, *want = NULL, *got = NULL, msg[1100];

		pathf(path, sizeof(path), "%s/%s", folder, files[i]);
		if ((text = slurp(path, &len)) == NULL) {
			failure(&k, v->name, files[i], "unreadable");
			continue;
		}
		buf_reset(&x);
		if (xml_to_json(t, text, len, MAX_DEPTH, &j, err,
		    sizeof(err)) != EMBER_OK) {
			snprintf(msg, sizeof(msg), "XML in: %s", err);
			outcome(&k, v, files[i], 0, msg);
		} else if (xml_from_json_err(t, j, 0, &x, err, sizeof(err)) !=
		    EMBER_OK) {
			snprintf(msg, sizeof(msg), "XML out: %s", err);
			outcome(&k, v, files[i], 0, msg);
		} else if ((want = canonical(text, len)) == NULL ||
		    (got = canonical(x.data, x.len)) == NULL) {
			failure(&k, v->name, files[i], "canonical form");
		} else if (strcmp(want, got) != 0) {
			outcome(&k, v, files[i], 0, "XML differs");
			if (k.shown <= SHOW_FAILURES)
				canon_diff(want, got);
		} else
			outcome(&k, v, files[i], 1, "");
		free(want);
		free(got);
		cJSON_Delete(j);
		free(text);
	}
	buf_free(&x);
	ok(k.failed == 0, "%s: official XML -> JSON -> XML: %zu of %zu "
	    "passed, %zu listed as invalid, %zu failed", v->name, k.passed, n,
	    k.invalid, k.failed);
	free_list(files, n);
}

/* The basename of path without its ".xml": the JSON file's name. */
static void
json_name(const char *path, char *out, size_t size)
{
	const char	*b = strrchr(path, '/');
	size_t		 n;

	b = b != NULL ? b + 1 : path;
	n = strlen(b);
	if (has_suffix(b, ".xml"))
		n -= 4;
	snprintf(out, size, "%.*s", (int)n, b);
}

/*
 * xmllint --schema over the XML written from the JSON examples; a file
 * listed with stage "xsd" must fail with its reason among the messages.
 */
static void
xmllint_validate(const struct version *v, const char *xsd_dir,
    char **files, size_t n)
{
	struct counts	 k = { 0, 0, 0, 0 };
	char		 schema[4096], log[4096], line[8192], name[1024];
	char		 prog[] = "xmllint", noout[] = "--noout";
	char		 opt[] = "--schema";
	char		*argv[XMLLINT_BATCH + 8];
	struct buf	 msgs[XMLLINT_BATCH];
	int		 verdict[XMLLINT_BATCH];	/* 1 ok, -1 failed */
	size_t		 i, b, m, plen;
	FILE		*fp;

	pathf(schema, sizeof(schema), "%s/fhir-all.xsd", xsd_dir);
	pathf(log, sizeof(log), "%s/xmllint-%s.log", tmproot, v->dir);
	for (i = 0; i < n; i += XMLLINT_BATCH) {
		int a = 0;

		argv[a++] = prog;
		argv[a++] = noout;
		argv[a++] = opt;
		argv[a++] = schema;
		for (b = i; b < n && b < i + XMLLINT_BATCH; b++) {
			argv[a++] = files[b];
			verdict[b - i] = 0;
			msgs[b - i] = (struct buf)BUF_INIT;
		}
		m = b - i;
		argv[a] = NULL;
		(void)run(argv, log);
		if ((fp = fopen(log, "r")) != NULL) {
			while (fgets(line, sizeof(line), fp) != NULL) {
				line[strcspn(line, "\n")] = '\0';
				for (b = 0; b < m; b++) {
					plen = strlen(files[i + b]);
					if (strncmp(line, files[i + b], plen) == 0 &&
					    (line[plen] == ':' || line[plen] == ' '))
						break;
				}
				if (b == m)
					continue;
				if (strcmp(line + plen, " validates") == 0)
					verdict[b] = 1;
				else if (strcmp(line + plen,
				    " fails to validate") == 0)
					verdict[b] = -1;
				else if (msgs[b].len < 4096) {
					buf_puts(&msgs[b], line + plen);
					buf_putc(&msgs[b], '\n');
				}
			}
			fclose(fp);
		}
		for (b = 0; b < m; b++) {
			struct invalid *inv;

			json_name(files[i + b], name, sizeof(name));
			inv = find_invalid(v->name, name, "xsd");
			if (inv != NULL) {
				inv->seen = 1;
				if (verdict[b] < 0 && msgs[b].data != NULL &&
				    strstr(msgs[b].data, inv->reason) != NULL)
					k.invalid++;
				else
					failure(&k, v->name, name, "listed "
					    "as schema-invalid, but xmllint "
					    "does not say so");
			} else if (verdict[b] > 0)
				k.passed++;
			else
				failure(&k, v->name, name,
				    msgs[b].data != NULL ? msgs[b].data :
				    "xmllint gave no verdict");
			buf_free(&msgs[b]);
		}
	}
	ok(k.failed == 0, "%s: xmllint --schema fhir-all.xsd: %zu of %zu XML "
	    "outputs valid, %zu listed as schema-invalid, %zu failed",
	    v->name, k.passed, n, k.invalid, k.failed);
}

/* Whether " version " occurs in the list of linted versions. */
static int
was_linted(const char *linted, const char *version)
{
	const char	*p;
	size_t		 n = strlen(version);

	for (p = linted; (p = strstr(p, version)) != NULL; p++)
		if (p > linted && p[-1] == ' ' && p[n] == ' ')
			return 1;
	return 0;
}

static int
unpack(const char *archive, const char *into)
{
	char	 tar[] = "tar", xf[] = "-xf", c[] = "-C";
	char	*a = strdup(archive), *d = strdup(into);
	char	*argv[] = { tar, xf, a, c, d, NULL };
	int	 rc = -1;

	if (a != NULL && d != NULL &&
	    (mkdir(into, 0700) == 0 || errno == EEXIST))
		rc = run(argv, NULL) == 0 ? 0 : -1;
	free(a);
	free(d);
	return rc;
}

int
main(void)
{
	const char	*srcdir, *builddir, *shared_env, *tmp;
	char		 shared[4096], path[4096], dir[4096], xmlout[4096];
	char		 linted[64] = " ";	/* versions checked by xmllint */
	size_t		 vi, i;
	int		 have_xmllint, any = 0;

	srcdir = (tmp = getenv("EMBER_SRCDIR")) != NULL ? tmp : ".";
	builddir = (tmp = getenv("EMBER_BUILDDIR")) != NULL ? tmp : ".";
	if ((shared_env = getenv("EMBER_SHARED")) != NULL)
		pathf(shared, sizeof(shared), "%s", shared_env);
	else
		pathf(shared, sizeof(shared), "%s/../shared/fhir", srcdir);
	if (!is_dir(shared))
		tap_skip_all("no official FHIR packages in ../shared/fhir");
	if (!on_path("tar"))
		tap_skip_all("tar is not on the PATH");
	have_xmllint = on_path("xmllint");
	snprintf(tmproot, sizeof(tmproot), "%s/ember-xml-rt-XXXXXX",
	    (tmp = getenv("TMPDIR")) != NULL ? tmp : "/tmp");
	if (mkdtemp(tmproot) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	load_invalids(srcdir);

	for (vi = 0; vi < sizeof(versions) / sizeof(versions[0]); vi++) {
		const struct version	*v = &versions[vi];
		struct tables		*t = NULL;
		char			**xml_files = NULL, xsd[4096];
		size_t			  nxml = 0;
		int			  lint;

		pathf(path, sizeof(path), "%s/%s/%s", shared, v->dir,
		    v->json_archive);
		if (access(path, R_OK) != 0) {
			tap_diag("%s: %s absent, skipped", v->name, path);
			continue;
		}
		any = 1;
		pathf(dir, sizeof(dir), "%s/schemas/%s.tables", builddir,
		    v->dir);
		if (tables_open(dir, &t) != EMBER_OK) {
			ok(0, "%s: open %s", v->name, dir);
			continue;
		}
		pathf(dir, sizeof(dir), "%s/%s", tmproot, v->dir);
		if (unpack(path, dir) != 0) {
			ok(0, "%s: unpack %s", v->name, path);
			tables_close(t);
			continue;
		}
		pathf(xsd, sizeof(xsd), "%s/%s/%s", shared, v->dir,
		    v->xsd ? v->xsd : "");
		lint = have_xmllint && v->xsd != NULL && is_dir(xsd);
		pathf(xmlout, sizeof(xmlout), "%s/%s-out", tmproot, v->dir);
		if (lint && mkdir(xmlout, 0700) != 0)
			lint = 0;
		pathf(path, sizeof(path), "%s/%s", dir, v->json_folder);
		json_roundtrip(t, v, path, lint ? xmlout : NULL, &xml_files,
		    &nxml);
		if (v->xml_archive != NULL) {
			pathf(path, sizeof(path), "%s/%s/%s", shared,
			    v->dir, v->xml_archive);
			if (unpack(path, dir) != 0)
				ok(0, "%s: unpack %s", v->name, path);
			else {
				pathf(path, sizeof(path), "%s/%s", dir,
				    v->xml_folder);
				xml_roundtrip(t, v, path);
			}
		}
		if (lint) {
			xmllint_validate(v, xsd, xml_files, nxml);
			i = strlen(linted);
			snprintf(linted + i, sizeof(linted) - i, "%s ",
			    v->name);
		}
		else if (v->xsd != NULL)
			tap_diag("%s: xmllint or %s missing: schema check "
			    "skipped", v->name, xsd);
		if (xml_files != NULL)
			free_list(xml_files, nxml);
		rm_rf(dir);
		rm_rf(xmlout);
		tables_close(t);
	}
	for (i = 0; i < ninvalids; i++)
		if (!invalids[i].seen && (strcmp(invalids[i].stage, "xsd") != 0 ||
		    was_linted(linted, invalids[i].version)))
			tap_diag("note: listed invalid example %s %s was not "
			    "found", invalids[i].version, invalids[i].file);
	rm_rf(tmproot);
	free(invalids);
	if (!any)
		tap_skip_all("no official example packages found");
	tap_done();
	return tap_exit();
}
