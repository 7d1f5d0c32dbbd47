/*
 * files.c - readers for the historical data sets (../shared/data).
 *
 * Why: 'carbonsched ingest', the backtests and the simulations all read the
 * same files, and each data set has quirks (DACF's 0 = missing weather, the
 * German mix in quarter-hour sums, GB switching from 30 to 15 minutes, a
 * BOM and CRLF in Electricity Maps exports).  They are handled here, once.
 *
 * How: the whole file is read into one buffer (inflated first when it
 * starts with the gzip magic), then split into lines and fields in place:
 * no allocation per row or field.  Numbers go through a decimal fast path
 * that is exact (Clinger: a mantissa below 2^53 divided by an exact power
 * of ten is correctly rounded, i.e. equal to strtod) and fall back to
 * strtod otherwise.  Each format is one row of FILES_FORMAT_TABLE; column
 * names are matched through per-format tables.
 *
 * Invariants: within a zone, times strictly increase and lie on the step
 * grid (epoch-aligned); missing rows and empty cells are gaps (NAN), never
 * zeros; a failed read returns nothing, with "FILE:LINE: what is wrong".
 *
 * Trade-off: whole-file buffering (capped by max_bytes) keeps the parser
 * simple and fast; the largest data set is 13 MB.
 */
#include "connectors/files.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"

#define MAX_COLUMNS	  1024
#define MAX_ZONES	  4096
#define DEFAULT_MAX_BYTES ((size_t)1 << 30)
#define MAX_STEP	  (31 * TS_DAY)
#define SHOW_MAX	  64 /* bytes of a user value quoted in a message */

struct reader;
typedef int parse_fn(struct reader *r, int variant);

static parse_fn parse_dacf, parse_lwa, parse_emaps, parse_wide, parse_gb_forecast;

enum dacf_variant { DV_EMISSIONS, DV_DE, DV_WEATHER, DV_FORECAST };

/* X(name, parser, variant, description) - the formats, in files_formats order. */
#define FILES_FORMAT_TABLE(X)                                                                               \
	X("dacf", parse_dacf, DV_EMISSIONS,                                                                 \
	  "DACF <R>_direct_emissions.csv: direct intensity, generation by fuel, weather forecast")          \
	X("dacf-de", parse_dacf, DV_DE,                                                                     \
	  "DACF DE_2019_clean.csv: generation by fuel (sums of four quarter-hours), intensities from the "  \
	  "mix")                                                                                            \
	X("dacf-weather", parse_dacf, DV_WEATHER, "the forecast_avg_* weather columns of any DACF file")    \
	X("dacf-forecast", parse_dacf, DV_FORECAST,                                                         \
	  "DACF <R>_carbon_from_src_prod_forecasts_direct.csv: direct intensity and DACF's forecast")       \
	X("lwa", parse_lwa, 0, "Let's Wait Awhile <zone>_ci.csv: Time,Carbon Intensity")                    \
	X("emaps", parse_emaps, 0, "Electricity Maps hourly export CSV (direct and LCA intensity, shares)") \
	X("wide", parse_wide, 0, "datetime_utc,<zone>,<zone>,... matrix of one kind")                       \
	X("gb-forecast", parse_gb_forecast, 0, "time,deltaseconds,unix,intensity (GB half-hourly forecast)")

static const struct format {
	const char *name;
	parse_fn *parse;
	int variant;
	const char *description;
} formats[] = {
#define FORMAT_ROW(name, fn, variant, desc) {name, fn, variant, desc},
    FILES_FORMAT_TABLE(FORMAT_ROW)
#undef FORMAT_ROW
};

const char *const files_formats[] = {
#define FORMAT_NAME(name, fn, variant, desc) name,
    FILES_FORMAT_TABLE(FORMAT_NAME)
#undef FORMAT_NAME
	NULL,
};

/* File-name prefixes that tell the zone: "<prefix>_..." (one table for
 * every format family). */
static const struct {
	const char *family, *prefix, *zone;
} zone_prefixes[] = {
    {"dacf", "CISO", "US-CAL-CISO"},
    {"dacf", "PJM", "US-MIDA-PJM"},
    {"dacf", "ERCO", "US-TEX-ERCO"},
    {"dacf", "ISNE", "US-NE-ISNE"},
    {"dacf", "SE", "SE"},
    {"dacf", "DE", "DE"},
    {"lwa", "ger", "DE"},
    {"lwa", "gb", "GB"},
    {"lwa", "fr", "FR"},
    {"lwa", "cal", "US-CAL-CISO"},
};

/* ---- reading a file into one buffer ------------------------------------ */

struct reader {
	const char *name; /* FILE in messages */
	char *p, *end;	  /* the unread part of the buffer (NUL at *end) */
	long line;	  /* number of the line last read */
	const struct files_options *opt;
	struct err_detail *err;
	struct sig_set set;
	int32_t out_step; /* default output step (lwa); 0 = as read */
	int ncols;
	char *head[MAX_COLUMNS];  /* header names, in the buffer */
	char *f[MAX_COLUMNS + 1]; /* fields of the current row */
};

static size_t max_bytes(const struct files_options *opt)
{
	return opt->max_bytes ? opt->max_bytes : DEFAULT_MAX_BYTES;
}

static bool is_gzip(const char *data, size_t len)
{
	return len >= 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b;
}

/* Inflate a gzip buffer (several members allowed, as 'cat a.gz b.gz')
 * into a new buffer with one spare byte for a NUL.  At most 'max' bytes. */
static int gunzip(const char *name, const char *in, size_t inlen, size_t max, char **ret, size_t *ret_len,
		  struct err_detail *err)
{
	const size_t chunk = (size_t)1 << 30; /* zlib counts in uInt */
	size_t limit = max + 1, cap = inlen < limit / 4 ? inlen * 4 : limit, len = 0, fed = 0;
	z_stream z;
	char *out;
	int rc;

	if (cap < 65536)
		cap = 65536 < limit ? 65536 : limit;
	out = xmalloc(cap + 1);
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		free(out);
		return err_set(err, ERR_INTERNAL, NULL, "%s: cannot start zlib", name);
	}
	for (;;) {
		if (z.avail_in == 0 && fed < inlen) {
			size_t n = inlen - fed < chunk ? inlen - fed : chunk;

			z.next_in = (Bytef *)(uintptr_t)(in + fed);
			z.avail_in = (uInt)n;
			fed += n;
		}
		if (len == cap) {
			if (cap == limit) {
				rc = err_set(err, ERR_TOO_LARGE, NULL,
					     "%s: more than %zu bytes once decompressed (the limit)", name,
					     max);
				goto error;
			}
			cap = cap > limit / 2 ? limit : cap * 2;
			out = xrealloc(out, cap + 1);
		}
		z.next_out = (Bytef *)out + len;
		z.avail_out = (uInt)(cap - len < chunk ? cap - len : chunk);
		size_t before = z.avail_out;
		rc = inflate(&z, Z_NO_FLUSH);
		len += before - z.avail_out;
		if (rc == Z_STREAM_END) {
			if (z.avail_in == 0 && fed == inlen)
				break;
			/* Another member follows, or trailing bytes. */
			if (z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b) {
				rc = err_set(err, ERR_MALFORMED, NULL,
					     "%s: unexpected bytes after the end of the gzip data", name);
				goto error;
			}
			inflateReset(&z);
			continue;
		}
		if (rc == Z_OK || (rc == Z_BUF_ERROR && (z.avail_out == 0 || fed < inlen)))
			continue;
		if (rc == Z_BUF_ERROR) {
			rc = err_set(err, ERR_MALFORMED, NULL,
				     "%s: truncated gzip data (the file ends early)", name);
			goto error;
		}
		if (rc == Z_MEM_ERROR) {
			fprintf(stderr, "carbonsched: out of memory in zlib\n");
			abort();
		}
		rc = err_set(err, ERR_MALFORMED, NULL, "%s: corrupt gzip data: %s", name,
			     z.msg ? z.msg : "bad stream");
		goto error;
	}
	inflateEnd(&z);
	if (len > max) {
		free(out);
		return err_set(err, ERR_TOO_LARGE, NULL,
			       "%s: more than %zu bytes once decompressed (the limit)", name, max);
	}
	out[len] = '\0';
	*ret = out;
	*ret_len = len;
	return ERR_OK;
error:
	inflateEnd(&z);
	free(out);
	return rc;
}

/* ---- messages ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p, 0 when invalid. */
static int utf8_len(const unsigned char *p)
{
	int n = *p < 0x80		   ? 1
		: *p >= 0xc2 && *p <= 0xdf ? 2
		: *p >= 0xe0 && *p <= 0xef ? 3
		: *p >= 0xf0 && *p <= 0xf4 ? 4
					   : 0;

	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Copy at most SHOW_MAX-4 bytes of a user value for a message: valid UTF-8
 * is kept, control characters and invalid bytes become '?', a cut is
 * marked with "...". */
static const char *show(const char *s, char out[SHOW_MAX])
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	while (*p) {
		int n = utf8_len(p);

		if (o + (size_t)(n ? n : 1) > SHOW_MAX - 4) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			out[o++] = '?';
			p++;
		} else {
			memcpy(out + o, p, (size_t)n);
			o += (size_t)n;
			p += n;
		}
	}
	out[o] = '\0';
	return out;
}

/* "FILE:LINE: [column 'NAME': ]message" as ERR_MALFORMED; 'col' < 0 for
 * none. */
static int __attribute__((format(printf, 4, 5)))
fail_at(struct reader *r, long line, int col, const char *fmt, ...)
{
	char msg[sizeof(r->err->msg)], name[SHOW_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (col < 0)
		return err_set(r->err, ERR_MALFORMED, NULL, "%s:%ld: %s", r->name, line, msg);
	show(r->head[col], name);
	return err_set(r->err, ERR_MALFORMED, name, "%s:%ld: column '%s': %s", r->name, line, name, msg);
}

#define fail(r, col, ...) fail_at(r, (r)->line, col, __VA_ARGS__)

/* "1-hour", "30-minute", "90-second". */
static const char *step_text(int64_t step, char out[32])
{
	if (step % TS_HOUR == 0)
		snprintf(out, 32, "%lld-hour", (long long)(step / TS_HOUR));
	else if (step % TS_MINUTE == 0)
		snprintf(out, 32, "%lld-minute", (long long)(step / TS_MINUTE));
	else
		snprintf(out, 32, "%lld-second", (long long)step);
	return out;
}

/* ---- lines, fields, numbers, times ----------------------------------------- */

/* Next non-blank line, NUL-terminated without its CR/LF; false at the end. */
static bool next_line(struct reader *r, char **ret)
{
	while (r->p < r->end) {
		char *s = r->p, *nl = memchr(s, '\n', (size_t)(r->end - s)), *e = nl ? nl : r->end;

		r->p = nl ? nl + 1 : r->end;
		r->line++;
		while (e > s && e[-1] == '\r')
			e--;
		*e = '\0';
		char *q = s;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q) {
			*ret = s;
			return true;
		}
	}
	return false;
}

static bool is_zone_id(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '-' && s[n] != '_')
			return false;
	return n > 0 && n < sizeof(((struct sig_series *)0)->zone);
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int read_header(struct reader *r)
{
	char *line, a[SHOW_MAX];
	int n;

	if (!next_line(r, &line))
		return fail_at(r, r->line ? r->line : 1, -1, "empty file: expected a header line");
	n = csv_split(line, r->head, MAX_COLUMNS);
	if (n < 0)
		return fail(r, -1, "unterminated quote in the header");
	if (n > MAX_COLUMNS)
		return fail(r, -1, "more than %d columns in the header", MAX_COLUMNS);
	r->ncols = n;
	for (int i = 0; i < n; i++)
		r->head[i] = trim(r->head[i]);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (*r->head[i] && !strcasecmp(r->head[i], r->head[j]))
				return fail(r, -1, "column '%s' appears twice (columns %d and %d)",
					    show(r->head[i], a), i + 1, j + 1);
	return ERR_OK;
}

/* Split the next data row into r->f; *ret_more = false at the end. */
static int next_row(struct reader *r, bool *ret_more)
{
	char *line;
	int n;

	*ret_more = next_line(r, &line);
	if (!*ret_more)
		return ERR_OK;
	n = csv_split(line, r->f, r->ncols);
	if (n < 0)
		return fail(r, -1, "unterminated quote");
	if (n > r->ncols)
		return fail(r, -1, "expected %d columns as in the header, found more", r->ncols);
	if (n < r->ncols)
		return fail(r, -1, "expected %d columns as in the header, found %d", r->ncols, n);
	return ERR_OK;
}

enum num { NUM_OK, NUM_EMPTY, NUM_BAD, NUM_INFINITE };

static const double pow10_exact[] = {1e0,  1e1,	 1e2,  1e3,  1e4,  1e5,	 1e6,  1e7,  1e8,  1e9,	 1e10, 1e11,
				     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_nonfinite_word(const char *s)
{
	static const char *const words[] = {"nan",	 "inf",	 "infinity",  "-nan", "-inf",
					    "-infinity", "+inf", "+infinity", "+nan"};
	char w[16];
	size_t n = strlen(s);

	while (n && s[n - 1] == ' ')
		n--;
	if (n >= sizeof(w))
		return false;
	memcpy(w, s, n);
	w[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcasecmp(w, words[i]))
			return true;
	return false;
}

/* A decimal number "[+-]digits[.digits][e[+-]digits]" with blanks around;
 * hexadecimal and words are refused.  Exact: equal to strtod's result. */
static enum num parse_num(const char *s, double *ret)
{
	const char *p = s, *start;
	uint64_t m = 0;
	int nd = 0, frac = 0;
	bool neg = false, slow = false;

	while (*p == ' ')
		p++;
	if (!*p)
		return NUM_EMPTY;
	start = p;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; is_digit(*p); p++, nd++) {
		if (m >= UINT64_C(100000000000000000))
			slow = true;
		else
			m = m * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		for (; is_digit(*p); p++, nd++, frac++) {
			if (m >= UINT64_C(100000000000000000))
				slow = true;
			else
				m = m * 10 + (uint64_t)(*p - '0');
		}
	}
	if (nd == 0)
		return is_nonfinite_word(start) ? NUM_INFINITE : NUM_BAD;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!is_digit(*p))
			return NUM_BAD;
		while (is_digit(*p))
			p++;
		slow = true;
	}
	while (*p == ' ')
		p++;
	if (*p)
		return NUM_BAD;
	if (slow || m > (UINT64_C(1) << 53) || frac >= (int)ARRAY_SIZE(pow10_exact)) {
		double v = strtod(start, NULL);

		if (!isfinite(v))
			return NUM_INFINITE;
		*ret = v;
		return NUM_OK;
	}
	double v = (double)m / pow10_exact[frac];
	*ret = neg ? -v : v;
	return NUM_OK;
}

/* Value checks, by kind: intensities cannot be negative, shares are 0-100. */
enum vcheck { VC_ANY, VC_NONNEG, VC_PERCENT };

static enum vcheck kind_check(const char *kind)
{
	static const struct {
		const char *kind;
		enum vcheck check;
	} checks[] = {
	    {"carbon_intensity", VC_NONNEG},   {"carbon_intensity_direct", VC_NONNEG},
	    {"marginal_intensity", VC_NONNEG}, {"renewable_share", VC_PERCENT},
	    {"low_carbon_share", VC_PERCENT},  {"cloud_cover", VC_PERCENT},
	};

	for (size_t i = 0; i < ARRAY_SIZE(checks); i++)
		if (!strcmp(kind, checks[i].kind))
			return checks[i].check;
	return VC_ANY;
}

/* The number in column 'col' (NAN when the cell is empty), checked. */
static int cell_num(struct reader *r, int col, enum vcheck check, double *ret)
{
	char a[SHOW_MAX];
	double v = 0;

	switch (parse_num(r->f[col], &v)) {
	case NUM_EMPTY: *ret = NAN; return ERR_OK;
	case NUM_BAD: return fail(r, col, "expected a number, found '%s'", show(r->f[col], a));
	case NUM_INFINITE: return fail(r, col, "expected a finite number, found '%s'", show(r->f[col], a));
	case NUM_OK: break;
	}
	if (check == VC_NONNEG && v < 0)
		return fail(r, col, "expected an intensity >= 0, found '%s'", show(r->f[col], a));
	if (check == VC_PERCENT && (v < 0 || v > 100))
		return fail(r, col, "expected a percentage from 0 to 100, found '%s'", show(r->f[col], a));
	*ret = v;
	return ERR_OK;
}

static int cell_time(struct reader *r, int col, int64_t *ret)
{
	char a[SHOW_MAX];
	const char *s = trim(r->f[col]);

	if (!ts_parse_loose(s, strlen(s), ret))
		return fail(r, col, "expected a UTC time such as 2020-01-01 00:00:00, found '%s'",
			    show(s, a));
	return ERR_OK;
}

/* ---- time sequences and series ----------------------------------------------- */

/* The times of one zone: strictly increasing, on the step grid. */
struct seq {
	int64_t first, last;
	long first_line, last_line;
	int32_t step; /* 0: not known yet */
	bool infer;   /* step = spacing of the first two rows */
	size_t rows;
};

static int seq_next(struct reader *r, struct seq *q, int col, int64_t t)
{
	char a[TS_BUFSZ], b[TS_BUFSZ], st[32];

	if (q->rows && t == q->last)
		return fail(r, col, "duplicate time %s (line %ld has the same)", ts_format(t, a),
			    q->last_line);
	if (q->rows && t < q->last)
		return fail(r, col, "time %s goes backwards (line %ld has %s)", ts_format(t, a), q->last_line,
			    ts_format(q->last, b));
	if (q->rows == 1 && q->infer) {
		if (t - q->first > MAX_STEP)
			return fail(
			    r, col,
			    "the first two rows are %lld s apart: the step cannot be longer than %lld s",
			    (long long)(t - q->first), (long long)MAX_STEP);
		q->step = (int32_t)(t - q->first);
		if (ts_floor(q->first, q->step) != q->first)
			return fail_at(r, q->first_line, col,
				       "time %s is not on the %s grid set by the first two rows",
				       ts_format(q->first, a), step_text(q->step, st));
	}
	if (q->step && ts_floor(t, q->step) != t)
		return fail(r, col, "time %s is not on the %s grid%s", ts_format(t, a),
			    step_text(q->step, st),
			    q->infer ? " set by the first two rows" : " of this format");
	if (!q->rows) {
		q->first = t;
		q->first_line = r->line;
	}
	q->last = t;
	q->last_line = r->line;
	q->rows++;
	return ERR_OK;
}

/* Create (zone, kind, source) and return its index in r->set. */
static size_t add_series(struct reader *r, const char *zone, const char *kind, const char *source,
			 int32_t step)
{
	struct series *s = sig_set_get(&r->set, zone, kind, source, step);

	return (size_t)((struct sig_series *)(void *)((char *)s - offsetof(struct sig_series, s)) -
			r->set.items);
}

static void put(struct reader *r, size_t j, int64_t t, double v, bool est)
{
	int rc = series_set(&r->set.items[j].s, t, v, est);

	assert(rc == ERR_OK); /* seq_next checked the grid */
	(void)rc;
}

static bool same_name(const char *a, const char *b)
{
	return !strcasecmp(a, b);
}

/* Zone from the option or the file name's prefix. */
static int zone_of(struct reader *r, const char *family, const char *fallback, const char **ret)
{
	const char *base = strrchr(r->name, '/'), *us;
	char prefix[64], list[256];
	size_t n, o = 0;

	if (r->opt->zone) {
		*ret = r->opt->zone;
		return ERR_OK;
	}
	if (fallback) {
		*ret = fallback;
		return ERR_OK;
	}
	base = base ? base + 1 : r->name;
	us = strchr(base, '_');
	n = us ? (size_t)(us - base) : 0;
	if (n && n < sizeof(prefix)) {
		memcpy(prefix, base, n);
		prefix[n] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(zone_prefixes); i++)
			if (!strcmp(zone_prefixes[i].family, family) &&
			    !strcmp(zone_prefixes[i].prefix, prefix)) {
				*ret = zone_prefixes[i].zone;
				return ERR_OK;
			}
		for (size_t i = 0; i < ARRAY_SIZE(zone_prefixes); i++)
			if (!strcmp(zone_prefixes[i].zone, prefix)) {
				*ret = zone_prefixes[i].zone;
				return ERR_OK;
			}
	}
	list[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(zone_prefixes); i++)
		if (!strcmp(zone_prefixes[i].family, family))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s_", o ? ", " : "",
					      zone_prefixes[i].prefix);
	return err_set(
	    r->err, ERR_INVALID, "zone",
	    "cannot tell the zone of '%s' from its name: expected a name starting with %s, or give the zone",
	    r->name, list);
}

/* ---- column tables ------------------------------------------------------------ */

enum role { RL_IGNORE, RL_TIME, RL_ZONE, RL_VALUE, RL_ESTIMATED };

struct coldef {
	const char *name; /* matched case-insensitively; NULL ends the table */
	enum role role;
	const char *kind; /* RL_VALUE: the kind, NULL = the kind option */
	bool required;
};

/* Map each header column to its definition (ret_map[col] = index in defs). */
static int map_columns(struct reader *r, const char *format, const struct coldef *defs, int *ret_map)
{
	char a[SHOW_MAX], list[400];
	size_t o = 0;
	int ndefs = 0;

	while (defs[ndefs].name)
		ndefs++;
	for (int c = 0; c < r->ncols; c++) {
		ret_map[c] = -1;
		for (int d = 0; d < ndefs; d++)
			if (same_name(r->head[c], defs[d].name))
				ret_map[c] = d;
		if (ret_map[c] >= 0)
			continue;
		list[0] = '\0';
		for (int d = 0; d < ndefs; d++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s'%s'", d ? ", " : "",
					      defs[d].name);
		return fail(r, -1, "unknown column '%s' (column %d) for format %s: expected %s",
			    show(r->head[c], a), c + 1, format, list);
	}
	for (int d = 0; d < ndefs; d++) {
		bool found = false;

		for (int c = 0; c < r->ncols; c++)
			found |= ret_map[c] == d;
		if (defs[d].required && !found)
			return fail(r, -1, "missing column '%s' for format %s", defs[d].name, format);
	}
	return ERR_OK;
}

static int column_with(const struct coldef *defs, const int *map, int ncols, enum role role)
{
	for (int c = 0; c < ncols; c++)
		if (defs[map[c]].role == role)
			return c;
	return -1;
}

/* ---- dacf, dacf-de, dacf-weather, dacf-forecast -------------------------------- */

/* The weather-forecast columns (GFS, area-weighted) and their kinds. */
static const struct {
	const char *column, *kind;
	double offset;
} dacf_weather[] = {
    {"forecast_avg_wind_speed_wMean", "wind_speed", 0},
    {"forecast_avg_temperature_wMean", "temperature", -273.15}, /* K -> degC */
    {"forecast_avg_dewpoint_wMean", "dewpoint", -273.15},	/* K -> degC */
    {"forecast_avg_dswrf_wMean", "solar_irradiance", 0},	/* W/m2 */
    {"forecast_avg_precipitation_wMean", "precipitation", 0},	/* kg/m2 = mm */
};
#define N_WEATHER ((int)ARRAY_SIZE(dacf_weather))

enum dacf_role { DC_INDEX, DC_TIME, DC_CI, DC_FORECAST, DC_FUEL, DC_WEATHER, DC_PRODUCTION, DC_OTHER };

/* What each variant does with a column, in the order dacf, dacf-de,
 * dacf-weather, dacf-forecast: 'R' use (required), 'U' use when present,
 * 'I' ignore, '-' not expected (an error).  For DC_FUEL 'R' means at least
 * one fuel column; weather columns come all five or none. */
static const struct {
	enum dacf_role role;
	const char *what;
	char act[5];
} dacf_actions[] = {
    {DC_INDEX, "the unnamed index", "IIII"},
    {DC_TIME, "UTC time", "RRRR"},
    /* dacf-de: DE_2019_clean's carbon_intensity is not DACF's direct
     * intensity (2020 mean 306.5 instead of 241.55): dropped, recomputed. */
    {DC_CI, "carbon_intensity", "RIIR"},
    {DC_FORECAST, "carbon_from_src_forecasts", "--IR"},
    {DC_FUEL, "generation columns (coal, nat_gas, nuclear, oil, hydro, solar, wind, other, ...)", "RRI-"},
    {DC_WEATHER, "the five forecast_avg_*_wMean weather columns", "RUR-"},
    {DC_PRODUCTION, "avg_*_production_forecast", "IIII"},
    {DC_OTHER, NULL, "--I-"},
};

static const struct {
	double fuel_scale;    /* the file's generation unit in MW */
	bool direct_from_mix; /* carbon_intensity_direct recomputed from the mix */
} dacf_variants[] = {
    [DV_EMISSIONS] = {1, false},
    /* DE_2019_clean.csv holds the sum of four quarter-hour values per
     * hour (≈ 4x MW, see ../shared/data/README.md): divide by 4 for MW. */
    [DV_DE] = {0.25, true},
    [DV_WEATHER] = {1, false},
    [DV_FORECAST] = {1, false},
};

static bool has_prefix_suffix(const char *s, const char *prefix, const char *suffix)
{
	size_t n = strlen(s), p = strlen(prefix), q = strlen(suffix);

	return n > p + q && !strncmp(s, prefix, p) && !strcmp(s + n - q, suffix);
}

/* Role of header column 'c'; *ret_arg = fuel or weather index. */
static enum dacf_role dacf_classify(const char *name, int c, int *ret_arg)
{
	int f;

	*ret_arg = -1;
	if (!*name)
		return c == 0 ? DC_INDEX : DC_OTHER;
	if (!strcmp(name, "UTC time"))
		return DC_TIME;
	if (!strcmp(name, "carbon_intensity"))
		return DC_CI;
	if (!strcmp(name, "carbon_from_src_forecasts"))
		return DC_FORECAST;
	for (int w = 0; w < N_WEATHER; w++)
		if (!strcmp(name, dacf_weather[w].column)) {
			*ret_arg = w;
			return DC_WEATHER;
		}
	if (has_prefix_suffix(name, "avg_", "_production_forecast"))
		return DC_PRODUCTION;
	if ((f = sig_fuel_parse(name)) >= 0) {
		*ret_arg = f;
		return DC_FUEL;
	}
	return DC_OTHER;
}

static char dacf_act(enum dacf_role role, int variant)
{
	for (size_t i = 0; i < ARRAY_SIZE(dacf_actions); i++)
		if (dacf_actions[i].role == role)
			return dacf_actions[i].act[variant];
	return '-';
}

struct dacf_col {
	enum dacf_role role;
	int arg;       /* fuel or weather index */
	size_t series; /* index in r->set */
};

static int parse_dacf(struct reader *r, int variant)
{
	_cleanup_free_ struct dacf_col *cols = NULL;
	const char *zone, *format = formats[variant].name;
	char a[SHOW_MAX], kind[SHOW_MAX];
	int weather_col[N_WEATHER], fuel_col[FUEL__COUNT], tcol = -1, nfuels = 0, nweather = 0, rc;
	size_t s_lc = 0, s_direct = 0, s_ren = 0, s_low = 0, s_weather[N_WEATHER] = {0};
	double scale = dacf_variants[variant].fuel_scale;
	struct seq q = {.step = TS_HOUR};
	bool more;

	if ((rc = zone_of(r, "dacf", NULL, &zone)) || (rc = read_header(r)))
		return rc;
	cols = xcalloc((size_t)r->ncols, sizeof(*cols));
	for (int w = 0; w < N_WEATHER; w++)
		weather_col[w] = -1;
	for (int f = 0; f < FUEL__COUNT; f++)
		fuel_col[f] = -1;

	/* Header: classify, then check what the variant needs. */
	for (int c = 0; c < r->ncols; c++) {
		enum dacf_role role = dacf_classify(r->head[c], c, &cols[c].arg);
		char act = dacf_act(role, variant);

		if (act == '-') {
			char list[400];
			size_t o = 0;

			list[0] = '\0';
			for (size_t i = 0; i < ARRAY_SIZE(dacf_actions); i++)
				if (dacf_actions[i].what && dacf_actions[i].act[variant] != '-')
					o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
							      o ? ", " : "", dacf_actions[i].what);
			return fail(r, -1, "unknown column '%s' (column %d) for format %s: expected %s",
				    show(r->head[c], a), c + 1, format, list);
		}
		cols[c].role = act == 'I' ? DC_INDEX : role; /* ignored columns are skipped like the index */
		if (cols[c].role == DC_TIME)
			tcol = c;
		if (cols[c].role == DC_FUEL) {
			int f = cols[c].arg;

			if (fuel_col[f] >= 0)
				return fail(r, -1, "columns '%s' and '%s' both hold fuel '%s'",
					    show(r->head[fuel_col[f]], a), show(r->head[c], kind),
					    sig_fuel_name((enum sig_fuel)f));
			fuel_col[f] = c;
			nfuels++;
		}
		if (cols[c].role == DC_WEATHER) {
			weather_col[cols[c].arg] = c;
			nweather++;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(dacf_actions); i++) {
		enum dacf_role role = dacf_actions[i].role;
		bool present = false;

		if (dacf_actions[i].act[variant] != 'R' || role == DC_FUEL || role == DC_WEATHER)
			continue;
		for (int c = 0; c < r->ncols; c++)
			present |= cols[c].role == role;
		if (!present)
			return fail(r, -1, "missing column '%s' for format %s", dacf_actions[i].what, format);
	}
	if (dacf_act(DC_FUEL, variant) == 'R' && nfuels == 0)
		return fail(r, -1,
			    "missing generation columns for format %s: expected at least one fuel (coal, "
			    "nat_gas, nuclear, oil, hydro, solar, wind, other, ...)",
			    format);
	if ((dacf_act(DC_WEATHER, variant) == 'R' || nweather > 0) && nweather < N_WEATHER)
		for (int w = 0; w < N_WEATHER; w++)
			if (weather_col[w] < 0)
				return fail(r, -1, "missing column '%s' for format %s",
					    dacf_weather[w].column, format);

	/* Series, in a stable order: the file's columns, then what is derived. */
	for (int c = 0; c < r->ncols; c++) {
		if (cols[c].role == DC_CI)
			cols[c].series = add_series(r, zone, "carbon_intensity_direct", "file", TS_HOUR);
		else if (cols[c].role == DC_FORECAST)
			cols[c].series = add_series(r, zone, "carbon_intensity_direct", "dacf", TS_HOUR);
		else if (cols[c].role == DC_FUEL) {
			snprintf(kind, sizeof(kind), "generation:%s",
				 sig_fuel_name((enum sig_fuel)cols[c].arg));
			cols[c].series = add_series(r, zone, kind, "file", TS_HOUR);
		}
	}
	if (nfuels) {
		s_lc = add_series(r, zone, "carbon_intensity", "file", TS_HOUR);
		if (dacf_variants[variant].direct_from_mix)
			s_direct = add_series(r, zone, "carbon_intensity_direct", "file", TS_HOUR);
		s_ren = add_series(r, zone, "renewable_share", "file", TS_HOUR);
		s_low = add_series(r, zone, "low_carbon_share", "file", TS_HOUR);
	}
	for (int w = 0; nweather && w < N_WEATHER; w++)
		s_weather[w] = add_series(r, zone, dacf_weather[w].kind, "file", TS_HOUR);

	/* Rows. */
	while (!(rc = next_row(r, &more)) && more) {
		double mix[FUEL__COUNT] = {0}, w[N_WEATHER], v;
		bool mix_gap = false, weather_zero = true;
		int64_t t;

		if ((rc = cell_time(r, tcol, &t)) || (rc = seq_next(r, &q, tcol, t)))
			return rc;
		for (int c = 0; c < r->ncols; c++) {
			switch (cols[c].role) {
			case DC_CI:
			case DC_FORECAST:
				if ((rc = cell_num(r, c, VC_NONNEG, &v)))
					return rc;
				put(r, cols[c].series, t, v, false);
				break;
			case DC_FUEL:
				if ((rc = cell_num(r, c, VC_ANY, &v)))
					return rc;
				v *= scale;
				mix_gap |= isnan(v);
				mix[cols[c].arg] = v;
				put(r, cols[c].series, t, v, false);
				break;
			case DC_WEATHER:
				if ((rc = cell_num(r, c, VC_ANY, &v)))
					return rc;
				w[cols[c].arg] = v;
				weather_zero &= v == 0;
				break;
			default: break;
			}
		}
		if (nfuels) {
			/* A mix with a missing fuel would give a wrong intensity: gaps. */
			put(r, s_lc, t, mix_gap ? NAN : sig_intensity_from_mix(mix, FACTORS_LIFECYCLE),
			    false);
			if (dacf_variants[variant].direct_from_mix)
				put(r, s_direct, t,
				    mix_gap ? NAN : sig_intensity_from_mix(mix, FACTORS_DIRECT), false);
			put(r, s_ren, t, mix_gap ? NAN : sig_share_from_mix(mix, false), false);
			put(r, s_low, t, mix_gap ? NAN : sig_share_from_mix(mix, true), false);
		}
		/* DACF encodes a missing forecast as 0 in every weather column. */
		for (int k = 0; nweather && k < N_WEATHER; k++)
			put(r, s_weather[k], t, weather_zero ? NAN : w[k] + dacf_weather[k].offset, false);
	}
	if (rc)
		return rc;
	if (!q.rows)
		return fail(r, -1, "no data rows after the header");
	return ERR_OK;
}

/* ---- lwa --------------------------------------------------------------------- */

static const struct coldef lwa_columns[] = {
    {"Time", RL_TIME, NULL, true},
    {"Carbon Intensity", RL_VALUE, NULL, true},
    {NULL, 0, NULL, false},
};

struct point {
	int64_t t;
	double v;
	long line;
};

/* Spacings between rows that at least 10 % of the intervals have are the
 * file's regular spacings; rarer ones are missing rows (longer) or stray
 * stamps (shorter, caught by the grid check).  *ret_fine = the finest
 * regular spacing (the grid every row must lie on), *ret_coarse = the
 * coarsest (the default output step: 30 min for GB, which switches from
 * 30 to 15 min; 15 min for DE, whose two missing rows become gaps).  False
 * when no spacing is regular. */
static bool regular_spacings(const struct point *pts, size_t n, int64_t *ret_fine, int64_t *ret_coarse)
{
	struct {
		int64_t d;
		size_t count;
	} seen[32];
	size_t nseen = 0;
	int64_t fine = 0, coarse = 0;

	for (size_t i = 1; i < n; i++) {
		int64_t d = pts[i].t - pts[i - 1].t;
		size_t k = 0;

		while (k < nseen && seen[k].d != d)
			k++;
		if (k == nseen) {
			if (nseen == ARRAY_SIZE(seen))
				continue; /* more than 32 spacings: none of the rest can be regular */
			seen[nseen].d = d;
			seen[nseen++].count = 0;
		}
		seen[k].count++;
	}
	for (size_t k = 0; k < nseen; k++) {
		if (seen[k].count * 10 < n - 1)
			continue;
		if (!fine || seen[k].d < fine)
			fine = seen[k].d;
		if (seen[k].d > coarse)
			coarse = seen[k].d;
	}
	*ret_fine = fine;
	*ret_coarse = coarse;
	return fine > 0;
}

static int parse_lwa(struct reader *r, int variant)
{
	_cleanup_free_ struct point *pts = NULL;
	const char *zone, *kind = r->opt->kind ? r->opt->kind : "carbon_intensity";
	char a[TS_BUFSZ], st[32];
	int map[MAX_COLUMNS], tcol, vcol, rc;
	size_t n = 0, cap = 0;
	struct seq q = {0};
	enum vcheck check = kind_check(kind);
	bool more;

	(void)variant;
	if ((rc = zone_of(r, "lwa", NULL, &zone)) || (rc = read_header(r)) ||
	    (rc = map_columns(r, "lwa", lwa_columns, map)))
		return rc;
	tcol = column_with(lwa_columns, map, r->ncols, RL_TIME);
	vcol = column_with(lwa_columns, map, r->ncols, RL_VALUE);
	while (!(rc = next_row(r, &more)) && more) {
		struct point p = {.line = r->line};

		if ((rc = cell_time(r, tcol, &p.t)) || (rc = seq_next(r, &q, tcol, p.t)) ||
		    (rc = cell_num(r, vcol, check, &p.v)))
			return rc;
		pts = xgrow(pts, &cap, n + 1, sizeof(*pts));
		pts[n++] = p;
	}
	if (rc)
		return rc;
	if (!n)
		return fail(r, -1, "no data rows after the header");

	/* The grid is the finest regular spacing; every row must lie on it. */
	int64_t fine, coarse;
	if (n == 1) {
		if (!r->opt->step)
			return fail(r, -1, "only one data row: the step cannot be told (give a step)");
		fine = coarse = r->opt->step;
	} else if (!regular_spacings(pts, n, &fine, &coarse)) {
		return fail(r, -1, "the rows have no regular spacing: no spacing is shared by 10 %% of them");
	}
	if (coarse > MAX_STEP)
		return fail(r, -1, "rows are %lld s apart: the step cannot be longer than %lld s",
			    (long long)coarse, (long long)MAX_STEP);
	for (size_t i = 0; i < n; i++)
		if (ts_floor(pts[i].t, fine) != pts[i].t)
			return fail_at(r, pts[i].line, tcol,
				       "time %s is not on the %s grid of the file's rows",
				       ts_format(pts[i].t, a), step_text(fine, st));

	size_t j = add_series(r, zone, kind, "file", (int32_t)fine);
	for (size_t i = 0; i < n; i++)
		put(r, j, pts[i].t, pts[i].v, false);
	r->out_step = (int32_t)coarse;
	return ERR_OK;
}

/* ---- emaps -------------------------------------------------------------------- */

static const struct coldef emaps_columns[] = {
    {"Datetime (UTC)", RL_TIME, NULL, true},
    {"Country", RL_IGNORE, NULL, false},
    {"Zone Name", RL_IGNORE, NULL, false},
    {"Zone Id", RL_ZONE, NULL, true},
    {"Carbon Intensity gCO\xe2\x82\x82"
     "eq/kWh (direct)",
     RL_VALUE, "carbon_intensity_direct", true},
    {"Carbon Intensity gCO\xe2\x82\x82"
     "eq/kWh (LCA)",
     RL_VALUE, "carbon_intensity", true},
    {"Low Carbon Percentage", RL_VALUE, "low_carbon_share", true},
    {"Renewable Percentage", RL_VALUE, "renewable_share", true},
    {"Data Source", RL_IGNORE, NULL, false},
    {"Data Estimated", RL_ESTIMATED, NULL, false},
    {"Data Estimation Method", RL_IGNORE, NULL, false},
    {NULL, 0, NULL, false},
};
#define EMAPS_VALUES 4

struct emaps_zone {
	char id[sizeof(((struct sig_series *)0)->zone)];
	struct seq q;
	bool keep; /* read (not left out by the zone option) */
	size_t series[EMAPS_VALUES];
};

static int parse_emaps(struct reader *r, int variant)
{
	_cleanup_free_ struct emaps_zone *zones = NULL;
	int map[MAX_COLUMNS], vcols[EMAPS_VALUES], tcol, zcol, ecol, nv = 0, rc;
	size_t nzones = 0, cap = 0, last = 0, kept = 0;
	char a[SHOW_MAX];
	bool more;

	(void)variant;
	if ((rc = read_header(r)) || (rc = map_columns(r, "emaps", emaps_columns, map)))
		return rc;
	tcol = column_with(emaps_columns, map, r->ncols, RL_TIME);
	zcol = column_with(emaps_columns, map, r->ncols, RL_ZONE);
	ecol = column_with(emaps_columns, map, r->ncols, RL_ESTIMATED);
	for (int c = 0; c < r->ncols; c++)
		if (emaps_columns[map[c]].role == RL_VALUE)
			vcols[nv++] = c;
	assert(nv == EMAPS_VALUES);

	while (!(rc = next_row(r, &more)) && more) {
		const char *id = trim(r->f[zcol]), *e;
		double v[EMAPS_VALUES];
		bool est = false;
		int64_t t;

		if (!is_zone_id(id))
			return fail(r, zcol, "expected a zone id such as DE or US-CAL-CISO, found '%s'",
				    show(id, a));
		if ((rc = cell_time(r, tcol, &t)))
			return rc;
		for (int k = 0; k < EMAPS_VALUES; k++)
			if ((rc =
				 cell_num(r, vcols[k], kind_check(emaps_columns[map[vcols[k]]].kind), &v[k])))
				return rc;
		if (ecol >= 0) {
			e = trim(r->f[ecol]);
			if (!strcasecmp(e, "true"))
				est = true;
			else if (*e && strcasecmp(e, "false"))
				return fail(r, ecol, "expected true or false, found '%s'", show(e, a));
		}
		/* Rows come grouped by zone: try the last zone first.  Zones left
		 * out by the zone option are checked all the same. */
		if (last >= nzones || strcmp(zones[last].id, id)) {
			for (last = 0; last < nzones && strcmp(zones[last].id, id); last++)
				;
			if (last == nzones) {
				struct emaps_zone *z;

				if (nzones == MAX_ZONES)
					return fail(r, zcol, "more than %d zones in one file", MAX_ZONES);
				zones = xgrow(zones, &cap, nzones + 1, sizeof(*zones));
				z = memset(&zones[nzones++], 0, sizeof(*zones));
				snprintf(z->id, sizeof(z->id), "%s", id);
				z->q.step = TS_HOUR;
				z->keep = !r->opt->zone || !strcmp(r->opt->zone, id);
				for (int k = 0; z->keep && k < EMAPS_VALUES; k++)
					z->series[k] = add_series(r, id, emaps_columns[map[vcols[k]]].kind,
								  "file", TS_HOUR);
				kept += z->keep;
			}
		}
		struct emaps_zone *z = &zones[last];
		if ((rc = seq_next(r, &z->q, tcol, t)))
			return rc;
		for (int k = 0; z->keep && k < EMAPS_VALUES; k++)
			put(r, z->series[k], t, v[k], est && !isnan(v[k]));
	}
	if (rc)
		return rc;
	if (!nzones)
		return fail(r, -1, "no data rows after the header");
	if (!kept)
		return err_set(r->err, ERR_INVALID, "zone", "zone '%s' is not in '%s'", r->opt->zone,
			       r->name);
	return ERR_OK;
}

/* ---- wide --------------------------------------------------------------------- */

static int parse_wide(struct reader *r, int variant)
{
	_cleanup_free_ size_t *series = NULL;
	const char *kind = r->opt->kind ? r->opt->kind : "carbon_intensity";
	enum vcheck check = kind_check(kind);
	struct seq q = {.infer = true};
	char a[SHOW_MAX], st[32];
	bool more, found = false;
	int rc;

	(void)variant;
	if ((rc = read_header(r)))
		return rc;
	if (!same_name(r->head[0], "datetime_utc"))
		return fail(r, -1, "column 1: expected 'datetime_utc', found '%s'", show(r->head[0], a));
	if (r->ncols < 2)
		return fail(r, -1, "no zone columns after 'datetime_utc'");
	series = xcalloc((size_t)r->ncols, sizeof(*series));
	for (int c = 1; c < r->ncols; c++) {
		if (!is_zone_id(r->head[c]))
			return fail(r, -1,
				    "column %d: expected a zone id such as DE or US-CAL-CISO, found '%s'",
				    c + 1, show(r->head[c], a));
		series[c] = SIZE_MAX;
		if (r->opt->zone && strcmp(r->opt->zone, r->head[c]))
			continue;
		/* Step 1 until the second row tells the step (see below). */
		series[c] = add_series(r, r->head[c], kind, "file", 1);
		found = true;
	}
	if (!found)
		return err_set(r->err, ERR_INVALID, "zone", "zone '%s' is not a column of '%s'", r->opt->zone,
			       r->name);
	/* The hot path of the ingest benchmark: the series are sized once from
	 * the number of lines left (missing rows extend them as usual) and
	 * written by row index. */
	size_t lines = 1;
	for (const char *p = r->p; (p = memchr(p, '\n', (size_t)(r->end - p))); p++)
		lines++;
	while (!(rc = next_row(r, &more)) && more) {
		size_t i = 0;
		int64_t t;

		if ((rc = cell_time(r, 0, &t)) || (rc = seq_next(r, &q, 0, t)))
			return rc;
		if (q.rows == 2)
			for (size_t k = 0; k < r->set.n; k++) {
				struct series *s = &r->set.items[k].s;

				s->step = q.step; /* each holds one step so far */
				series_resize(s, lines);
			}
		if (q.rows >= 2)
			i = (size_t)((t - q.first) / q.step);
		for (int c = 1; c < r->ncols; c++) {
			double v;

			if ((rc = cell_num(r, c, check, &v)))
				return rc;
			if (series[c] == SIZE_MAX)
				continue;
			struct series *s = &r->set.items[series[c]].s;
			if (q.rows >= 2 && i < s->n)
				s->v[i] = v;
			else
				put(r, series[c], t, v, false);
		}
	}
	for (size_t k = 0; q.rows >= 2 && k < r->set.n; k++)
		series_resize(&r->set.items[k].s, (size_t)((q.last - q.first) / q.step + 1));
	if (rc)
		return rc;
	if (!q.rows)
		return fail(r, -1, "no data rows after the header");
	if (q.rows == 1) {
		if (!r->opt->step)
			return fail(r, -1, "only one data row: the step cannot be told (give a step)");
		if (ts_floor(q.first, r->opt->step) != q.first)
			return fail_at(r, q.first_line, 0, "time is not on the %s grid of the step given",
				       step_text(r->opt->step, st));
		for (size_t i = 0; i < r->set.n; i++)
			r->set.items[i].s.step = r->opt->step;
	}
	return ERR_OK;
}

/* ---- gb-forecast ---------------------------------------------------------------- */

/* 'time' is authoritative: in the CATS fixture 'unix' is one hour behind
 * it (a local-time conversion), and 'deltaseconds' is relative to when the
 * file was fetched. */
static const struct coldef gb_columns[] = {
    {"time", RL_TIME, NULL, true},    {"deltaseconds", RL_IGNORE, NULL, false},
    {"unix", RL_IGNORE, NULL, false}, {"intensity", RL_VALUE, NULL, true},
    {NULL, 0, NULL, false},
};

static int parse_gb_forecast(struct reader *r, int variant)
{
	const char *zone, *kind = r->opt->kind ? r->opt->kind : "carbon_intensity_direct";
	int map[MAX_COLUMNS], tcol, vcol, rc;
	struct seq q = {.step = 30 * TS_MINUTE};
	bool more;
	size_t j;

	(void)variant;
	if ((rc = zone_of(r, "gb-forecast", "GB", &zone)) || (rc = read_header(r)) ||
	    (rc = map_columns(r, "gb-forecast", gb_columns, map)))
		return rc;
	tcol = column_with(gb_columns, map, r->ncols, RL_TIME);
	vcol = column_with(gb_columns, map, r->ncols, RL_VALUE);
	j = add_series(r, zone, kind, "file", q.step);
	while (!(rc = next_row(r, &more)) && more) {
		double v;
		int64_t t;

		if ((rc = cell_time(r, tcol, &t)) || (rc = seq_next(r, &q, tcol, t)))
			return rc;
		if ((rc = cell_num(r, vcol, kind_check(kind), &v)))
			return rc;
		put(r, j, t, v, false);
	}
	if (rc)
		return rc;
	if (!q.rows)
		return fail(r, -1, "no data rows after the header");
	return ERR_OK;
}

/* ---- the common path ------------------------------------------------------------ */

/* Bring 'in' to 'step' (a multiple of in->step): the mean of the valid
 * sub-steps, or the value stamped at each grid instant.  A step is
 * estimated when a value it uses is. */
static void convert(const struct series *in, int32_t step, enum files_resample mode, struct series *ret)
{
	int64_t last = series_end(in) - in->step;
	int64_t a = mode == FILES_RESAMPLE_SAMPLE ? ts_ceil(in->start, step) : ts_floor(in->start, step);
	int64_t b = ts_floor(last, step);

	series_init(ret, a, step);
	if (!in->n || b < a)
		return;
	series_resize(ret, (size_t)((b - a) / step + 1));
	for (size_t i = 0; i < ret->n; i++) {
		int64_t t0 = a + (int64_t)i * step;
		double sum = 0, v = NAN;
		bool est = false;
		size_t k = 0, j;

		if (mode == FILES_RESAMPLE_SAMPLE) {
			if (series_index(in, t0, &j)) {
				v = in->v[j];
				est = series_is_estimated(in, j);
			}
		} else {
			for (int64_t t = t0 > in->start ? t0 : in->start; t < t0 + step; t += in->step) {
				if (!series_index(in, t, &j))
					break;
				if (!isnan(in->v[j])) {
					sum += in->v[j];
					k++;
					est |= series_is_estimated(in, j);
				}
			}
			v = k ? sum / (double)k : NAN;
		}
		series_set(ret, t0, v, est && !isnan(v));
	}
}

/* Apply the step option (or the format's default output step). */
static int finish(struct reader *r)
{
	int32_t step = r->opt->step ? r->opt->step : r->out_step;
	char a[32], b[32];

	for (size_t i = 0; step && i < r->set.n; i++) {
		struct series *s = &r->set.items[i].s, out;

		if (s->step == step)
			continue;
		if (step < s->step || step % s->step)
			return err_set(r->err, ERR_INVALID, "step", "a %s step is %s the %s step of '%s'",
				       step_text(step, a),
				       step < s->step ? "finer than" : "not a multiple of",
				       step_text(s->step, b), r->name);
		convert(s, step, r->opt->resample, &out);
		series_release(s);
		*s = out;
	}
	return ERR_OK;
}

static const struct format *find_format(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

const char *files_format_description(const char *format)
{
	const struct format *f = find_format(format);

	return f ? f->description : NULL;
}

static int check_request(const char *format, const struct files_options *opt, const struct format **ret,
			 struct err_detail *err)
{
	const struct format *f = find_format(format);
	enum sig_kind k;
	char list[256];
	size_t o = 0;

	if (!f) {
		list[0] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
					      formats[i].name);
		return err_set(err, ERR_INVALID, "format", "unknown format '%.64s': expected one of %s",
			       format ? format : "", list);
	}
	if (opt->zone && !is_zone_id(opt->zone))
		return err_set(
		    err, ERR_INVALID, "zone",
		    "'%.64s' is not a zone id: expected letters, digits, '-' and '_', such as US-CAL-CISO",
		    opt->zone);
	if (opt->kind && sig_kind_parse(opt->kind, "kind", &k, NULL, err))
		return ERR_INVALID;
	if (opt->step < 0 || opt->step > MAX_STEP)
		return err_set(err, ERR_INVALID, "step",
			       "step must be between 1 s and %lld s (0 = the file's)", (long long)MAX_STEP);
	if (opt->resample != FILES_RESAMPLE_MEAN && opt->resample != FILES_RESAMPLE_SAMPLE)
		return err_set(err, ERR_INVALID, "resample", "resample must be mean or sample");
	*ret = f;
	return ERR_OK;
}

/* Parse 'buf' (len bytes and a spare byte, owned: freed here). */
static int parse_owned(const char *name, char *buf, size_t len, const struct format *fmt,
		       const struct files_options *opt, struct sig_set *ret, struct err_detail *err)
{
	struct reader *r;
	const char *nul = memchr(buf, '\0', len);
	int rc;

	if (nul) {
		long line = 1;

		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		rc = err_set(err, ERR_MALFORMED, NULL, "%s:%ld: binary data (a NUL byte): expected CSV text",
			     name, line);
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	r = xcalloc(1, sizeof(*r));
	r->name = name;
	r->p = buf + (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3) ? 3 : 0);
	r->end = buf + len;
	r->opt = opt;
	r->err = err;
	sig_set_init(&r->set);
	rc = fmt->parse(r, fmt->variant);
	if (!rc)
		rc = finish(r);
	if (!rc)
		*ret = r->set;
	else
		sig_set_release(&r->set);
	free(r);
	free(buf);
	return rc;
}

static const struct files_options no_options;

int files_parse(const char *name, const char *data, size_t len, const char *format,
		const struct files_options *opt, struct sig_set *ret, struct err_detail *err)
{
	const struct format *fmt;
	size_t max;
	char *buf;
	int rc;

	sig_set_init(ret);
	opt = opt ? opt : &no_options;
	if ((rc = check_request(format, opt, &fmt, err)))
		return rc;
	max = max_bytes(opt);
	if (is_gzip(data, len)) {
		if ((rc = gunzip(name, data, len, max, &buf, &len, err)))
			return rc;
	} else {
		if (len > max)
			return err_set(err, ERR_TOO_LARGE, NULL, "%s: larger than %zu bytes (the limit)",
				       name, max);
		buf = xmalloc(len + 1);
		memcpy(buf, data, len);
	}
	return parse_owned(name, buf, len, fmt, opt, ret, err);
}

int files_read(const char *path, const char *format, const struct files_options *opt, struct sig_set *ret,
	       struct err_detail *err)
{
	const struct format *fmt;
	size_t max, len = 0, cap;
	struct stat st;
	char *buf;
	int fd, rc;

	sig_set_init(ret);
	opt = opt ? opt : &no_options;
	if ((rc = check_request(format, opt, &fmt, err)))
		return rc;
	max = max_bytes(opt);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, ERR_IO, "file", "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = err_set(err, ERR_IO, "file", "cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return err_set(err, ERR_IO, "file", "cannot read '%s': it is a directory", path);
	}
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size : 65536;
	if (cap > max)
		cap = max;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= max) {
				/* Full at the limit: one more byte means too large. */
				char c;
				n = read(fd, &c, 1);
				if (n == 0)
					break;
				close(fd);
				free(buf);
				if (n < 0)
					return err_set(err, ERR_IO, "file", "cannot read '%s': %s", path,
						       strerror(errno));
				return err_set(err, ERR_TOO_LARGE, "file",
					       "%s: larger than %zu bytes (the limit)", path, max);
			}
			cap = cap > max / 2 ? max : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(err, ERR_IO, "file", "cannot read '%s': %s", path, strerror(errno));
			close(fd);
			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (is_gzip(buf, len)) {
		char *out;
		size_t outlen;

		rc = gunzip(path, buf, len, max, &out, &outlen, err);
		free(buf);
		if (rc)
			return rc;
		buf = out;
		len = outlen;
	}
	return parse_owned(path, buf, len, fmt, opt, ret, err);
}
