/*
 * connectors/files: each format against its fixture (tests/data/files/
 * good.txt lists every series of every read, value by value), every error
 * path (bad.txt), plain = gzip, the number parser against strtod, and -
 * when ../shared/data exists - the real data sets and the bundled demo
 * data (data/demo/) against the rows they came from.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "connectors/files.h"
#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"
#include "tests/lib/testlib.h"

/* ---- helpers ---------------------------------------------------------------- */

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		buf = xgrow(buf, &cap, len + 65536, 1);
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	*ret_len = len;
	return buf;
}

/* gzip 'data' in memory (one member). */
static char *gzip_buf(const char *data, size_t len, size_t *ret_len)
{
	z_stream z;
	size_t cap = deflateBound(NULL, (uLong)len) + 64;
	char *out = xmalloc(cap);

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	cap += 32; /* gzip header and trailer beyond deflateBound's zlib estimate */
	out = xrealloc(out, cap);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*ret_len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static struct sig_series *find(const struct sig_set *set, const char *zone, const char *kind,
			       const char *source)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->items[i].zone, zone) && !strcmp(set->items[i].kind, kind) &&
		    !strcmp(set->items[i].source, source))
			return &set->items[i];
	return NULL;
}

static bool same_value(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* Two reads returned the same series, bit for bit; 'what' names the case. */
static void assert_sets_equal(const struct sig_set *a, const struct sig_set *b, const char *what)
{
	if (a->n != b->n) {
		tl_fail(__LINE__, __FILE__, false, "%s: %zu series != %zu", what, a->n, b->n);
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct sig_series *x = &a->items[i];
		const struct sig_series *y = find(b, x->zone, x->kind, x->source);
		size_t bad = 0;

		if (!y || y->s.start != x->s.start || y->s.step != x->s.step || y->s.n != x->s.n) {
			tl_fail(__LINE__, __FILE__, false, "%s: series %s %s %s differs in shape", what,
				x->zone, x->kind, x->source);
			continue;
		}
		for (size_t j = 0; j < x->s.n; j++)
			bad += !same_value(x->s.v[j], y->s.v[j]) ||
			       series_is_estimated(&x->s, j) != series_is_estimated(&y->s, j);
		if (bad)
			tl_fail(__LINE__, __FILE__, false, "%s: %s %s: %zu values differ", what, x->zone,
				x->kind, bad);
		else
			CU_PASS(what);
	}
}

/* Options "zone=Z,kind=K,step=S,resample=sample,max=N" or "-"; strings
 * point into 'spec', which must outlive the options. */
static void parse_options(char *spec, struct files_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	if (!strcmp(spec, "-"))
		return;
	for (char *kv = strtok(spec, ","); kv; kv = strtok(NULL, ",")) {
		char *v = strchr(kv, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(kv, "zone"))
			opt->zone = v;
		else if (!strcmp(kv, "kind"))
			opt->kind = v;
		else if (!strcmp(kv, "step"))
			opt->step = atoi(v);
		else if (!strcmp(kv, "max"))
			opt->max_bytes = (size_t)atol(v);
		else if (!strcmp(kv, "resample"))
			opt->resample = !strcmp(v, "sample") ? FILES_RESAMPLE_SAMPLE
					: !strcmp(v, "mean") ? FILES_RESAMPLE_MEAN
							     : (enum files_resample)99;
	}
}

/* ---- good.txt ------------------------------------------------------------------- */

struct block {
	int line;	/* of the 'read' line */
	char desc[256]; /* "FORMAT FILE OPTIONS" */
	struct sig_set set;
	size_t expected; /* series lines seen */
	bool ok;	 /* the read succeeded */
};

static void end_block(struct block *b)
{
	if (!b->line)
		return;
	if (b->ok && b->expected != b->set.n)
		tl_fail(__LINE__, __FILE__, false,
			"good.txt:%d (%s): the read returned %zu series, %zu listed", b->line, b->desc,
			b->set.n, b->expected);
	else
		CU_PASS(b->desc);
	sig_set_release(&b->set);
	b->line = 0;
}

/* Read one fixture three ways (path, plain buffer, gzip buffer): the
 * results must be identical. */
static void start_block(struct block *b, int line, char *rest)
{
	char format[32], file[128], opts[128] = "", path[512], name[160];
	struct files_options opt;
	struct err_detail err = {0};
	char *data, *gz;
	size_t len, gzlen;
	int n;

	b->line = line;
	b->expected = 0;
	b->ok = false;
	snprintf(b->desc, sizeof(b->desc), "%.200s", rest);
	n = sscanf(rest, "%31s %127s %127[^\n]", format, file, opts);
	if (n < 2) {
		tl_fail(__LINE__, __FILE__, false, "good.txt:%d: bad read line", line);
		return;
	}
	/* Options separated by blanks in good.txt. */
	for (char *p = opts; *p; p++)
		if (*p == ' ')
			*p = ',';
	parse_options(n == 3 ? opts : (char[]){"-"}, &opt);
	snprintf(path, sizeof(path), "%s", tl_testdata("files/good/"));
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s", file);
	int rc = files_read(path, format, &opt, &b->set, &err);
	if (rc) {
		tl_fail(__LINE__, __FILE__, false, "good.txt:%d (%s): %s: %s", line, b->desc,
			err_code_name(rc), err.msg);
		return;
	}
	b->ok = true;

	/* The same bytes through files_parse, plain and gzip-compressed. */
	data = slurp(path, &len);
	TL_ASSERT(data != NULL);
	if (!data)
		return;
	snprintf(name, sizeof(name), "%s", file); /* the zone prefix comes from the name */
	struct sig_set other;
	TL_ASSERT_INT_EQ(files_parse(name, data, len, format, &opt, &other, &err), ERR_OK);
	assert_sets_equal(&b->set, &other, b->desc);
	sig_set_release(&other);
	if (len < 2 || (unsigned char)data[0] != 0x1f) { /* not gzip already */
		gz = gzip_buf(data, len, &gzlen);
		TL_ASSERT_INT_EQ(files_parse(name, gz, gzlen, format, &opt, &other, &err), ERR_OK);
		assert_sets_equal(&b->set, &other, b->desc);
		sig_set_release(&other);
		free(gz);
	}
	free(data);
}

/* "ZONE KIND SOURCE START STEP: V V V" */
static void check_series(struct block *b, int line, char *text)
{
	char zone[64], kind[64], source[32], start[32];
	int step, used = 0;
	int64_t t0;
	struct sig_series *s;

	b->expected++;
	if (!b->ok)
		return;
	if (sscanf(text, "%63s %63s %31s %31s %d:%n", zone, kind, source, start, &step, &used) != 5 ||
	    !used || ts_parse(start, NULL, &t0, NULL)) {
		tl_fail(__LINE__, __FILE__, false, "good.txt:%d: bad series line", line);
		return;
	}
	s = find(&b->set, zone, kind, source);
	if (!s) {
		tl_fail(__LINE__, __FILE__, false, "good.txt:%d (%s): no series %s %s %s", line, b->desc,
			zone, kind, source);
		return;
	}
	if (s->s.start != t0 || s->s.step != step)
		tl_fail(__LINE__, __FILE__, false,
			"good.txt:%d: %s %s starts %lld step %d, expected %lld step %d", line, zone, kind,
			(long long)s->s.start, s->s.step, (long long)t0, step);
	size_t i = 0;
	for (char *tok = strtok(text + used, " "); tok; tok = strtok(NULL, " "), i++) {
		size_t len = strlen(tok);
		bool est = len > 1 && tok[len - 1] == '*';
		double want = !strcmp(tok, "-") ? NAN : strtod(tok, NULL);
		double got = i < s->s.n ? s->s.v[i] : NAN;

		if (i >= s->s.n ||
		    !((isnan(want) && isnan(got)) || fabs(want - got) <= 1e-9 * fmax(1, fabs(want))))
			tl_fail(__LINE__, __FILE__, false,
				"good.txt:%d: %s %s step %zu: got %.12g, expected %s", line, zone, kind, i,
				got, tok);
		else if (series_is_estimated(&s->s, i) != est)
			tl_fail(__LINE__, __FILE__, false, "good.txt:%d: %s %s step %zu: estimated flag %d",
				line, zone, kind, i, series_is_estimated(&s->s, i));
		else
			CU_PASS(tok);
	}
	if (i != s->s.n)
		tl_fail(__LINE__, __FILE__, false, "good.txt:%d: %s %s has %zu steps, %zu listed", line, zone,
			kind, s->s.n, i);
}

static void test_good_fixtures(void)
{
	FILE *f = fopen(tl_testdata("files/good.txt"), "r");
	struct block b = {0};
	char line[4096];
	int no = 0, reads = 0;

	TL_ASSERT(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		no++;
		csv_chomp(line, strlen(line));
		if (!line[0] || line[0] == '#')
			continue;
		if (!strncmp(line, "read ", 5)) {
			end_block(&b);
			start_block(&b, no, line + 5);
			reads++;
		} else {
			check_series(&b, no, line);
		}
	}
	end_block(&b);
	fclose(f);
	TL_ASSERT(reads >= 20);
}

/* ---- bad.txt ---------------------------------------------------------------------- */

static void test_bad_inputs(void)
{
	FILE *f = fopen(tl_testdata("files/bad.txt"), "r");
	char line[1024];
	int no = 0, cases = 0;

	TL_ASSERT(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char format[32], opts[128], file[128], code[40], path[512];
		struct files_options opt;
		struct err_detail err = {{0}, {0}};
		struct sig_set set;
		int used = 0;

		no++;
		csv_chomp(line, strlen(line));
		if (!line[0] || line[0] == '#')
			continue;
		if (sscanf(line, "%31s %127s %127s %39s %n", format, opts, file, code, &used) != 4 || !used) {
			tl_fail(__LINE__, __FILE__, false, "bad.txt:%d: malformed case", no);
			continue;
		}
		parse_options(opts, &opt);
		snprintf(path, sizeof(path), "tests/data/files/bad/%s", file);
		int rc = files_read(path, format, &opt, &set, &err);
		if (strcmp(err_code_name(rc), code) || !strstr(err.msg, line + used))
			tl_fail(__LINE__, __FILE__, false, "bad.txt:%d: got %s '%s', expected %s '%s'", no,
				err_code_name(rc), err.msg, code, line + used);
		else
			CU_PASS(file);
		TL_ASSERT_INT_EQ(set.n, 0);
		TL_ASSERT(set.items == NULL);
		sig_set_release(&set);
		cases++;
	}
	fclose(f);
	TL_ASSERT(cases >= 50);
}

/* ---- focused cases ------------------------------------------------------------------ */

static void test_format_list(void)
{
	int n = 0;

	for (const char *const *f = files_formats; *f; f++, n++)
		TL_ASSERT(files_format_description(*f) != NULL);
	TL_ASSERT_INT_EQ(n, 8);
	TL_ASSERT(files_format_description("csv") == NULL);
	TL_ASSERT(files_format_description(NULL) == NULL);
}

/* The decimal fast path must give strtod's double, bit for bit. */
static void test_numbers_equal_strtod(void)
{
	static const char *const fixed[] = {
	    "0",
	    "-0",
	    "+3.5",
	    " 4 ",
	    "0.1",
	    "0.30000000000000004",
	    "1e-5",
	    "2.5E+3",
	    "123456789012345678",
	    "9007199254740993",
	    "1.7976931348623157e308",
	    "4.9e-324",
	    "0.000001",
	    "5.77110512375336",
	    "282.584437409513",
	    "12345.678901234567",
	    "1.",
	    ".5",
	    "00012.50",
	    "99999999999999999999.5",
	};
	char *csv = xmalloc(1 << 20), *cells[4096];
	size_t o = 0, n = 0;
	uint64_t x = 88172645463325252u;

	o += (size_t)sprintf(csv + o, "datetime_utc,A\n");
	for (size_t i = 0; i < 4000; i++) {
		char cell[48];

		if (i < ARRAY_SIZE(fixed)) {
			snprintf(cell, sizeof(cell), "%s", fixed[i]);
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
			int digits = 1 + (int)(x % 19), frac = (int)((x >> 8) % 16);
			snprintf(cell, sizeof(cell), "%.*f", frac, (double)(x >> 20) / pow(10, 19 - digits));
		}
		cells[n] = csv + o + 21; /* after "YYYY-MM-DDTHH:MM:SSZ," */
		o += (size_t)sprintf(
		    csv + o, "%s,%s\n",
		    ts_format(ts_from_civil(2022, 1, 1, 0, 0, 0) + (int64_t)i * 3600, (char[TS_BUFSZ]){0}),
		    cell);
		n++;
	}
	struct sig_set set;
	struct err_detail err;
	TL_ASSERT_INT_EQ(files_parse("numbers.csv", csv, o, "wide", NULL, &set, &err), ERR_OK);
	TL_ASSERT_INT_EQ(set.n, 1);
	if (set.n == 1) {
		size_t bad = 0;

		for (size_t i = 0; i < n; i++) {
			char *end = strchr(cells[i], '\n');
			char text[64];

			snprintf(text, sizeof(text), "%.*s", (int)(end - cells[i]), cells[i]);
			double want = strtod(text, NULL);
			if (memcmp(&want, &set.items[0].s.v[i], sizeof(double))) {
				if (bad++ < 5)
					tl_fail(__LINE__, __FILE__, false, "'%s': %.17g != strtod %.17g",
						text, set.items[0].s.v[i], want);
			}
		}
		TL_ASSERT_INT_EQ(bad, 0);
	}
	sig_set_release(&set);
	free(csv);
}

/* A message quotes user bytes safely: no control characters, a cut. */
static void test_message_quoting(void)
{
	static const char data[] = "datetime_utc,D\x01\x1b[31mE\n2022-01-01 00:00:00,1\n";
	char longrow[400];
	struct sig_set set;
	struct err_detail err;

	TL_ASSERT_INT_EQ(files_parse("q.csv", data, sizeof(data) - 1, "wide", NULL, &set, &err),
			 ERR_MALFORMED);
	TL_ASSERT_CONTAINS(err.msg, "found 'D??[31mE'");
	snprintf(longrow, sizeof(longrow), "datetime_utc,DE\n2022-01-01 00:00:00,%0300d\n", 7);
	longrow[16 + 20] = 'x'; /* first digit of the value */
	TL_ASSERT_INT_EQ(files_parse("q.csv", longrow, strlen(longrow), "wide", NULL, &set, &err),
			 ERR_MALFORMED);
	TL_ASSERT_CONTAINS(err.msg, "expected a number, found 'x0000");
	TL_ASSERT_CONTAINS(err.msg, "...'");
	TL_ASSERT(strlen(err.msg) < 200);
	TL_ASSERT_STR_EQ(err.field, "DE");
}

/* NULL options, sizes, and that a failed read leaves *ret empty even when
 * it had series already. */
static void test_api_edges(void)
{
	static const char wide[] = "datetime_utc,DE\n2022-01-01 00:00:00,1\n2022-01-01 01:00:00,2\n";
	static const char late_error[] = "datetime_utc,DE\n2022-01-01 00:00:00,1\n2022-01-01 01:00:00,x\n";
	struct files_options opt = {.max_bytes = 10};
	struct sig_set set;
	struct err_detail err;

	TL_ASSERT_INT_EQ(files_parse("w.csv", wide, sizeof(wide) - 1, "wide", NULL, &set, &err), ERR_OK);
	TL_ASSERT_INT_EQ(sig_set_points(&set), 2);
	sig_set_release(&set);
	TL_ASSERT_INT_EQ(files_parse("w.csv", late_error, sizeof(late_error) - 1, "wide", NULL, &set, &err),
			 ERR_MALFORMED);
	TL_ASSERT_INT_EQ(set.n, 0);
	TL_ASSERT_STR_EQ(err.msg, "w.csv:3: column 'DE': expected a number, found 'x'");
	TL_ASSERT_INT_EQ(files_parse("w.csv", wide, sizeof(wide) - 1, "wide", &opt, &set, &err),
			 ERR_TOO_LARGE);
	TL_ASSERT_INT_EQ(files_read("tests/data/files", "wide", NULL, &set, &err), ERR_IO);
	TL_ASSERT_CONTAINS(err.msg, "it is a directory");
	TL_ASSERT_INT_EQ(files_parse("w.csv", wide, sizeof(wide) - 1, NULL, NULL, &set, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "format");
}

/* ---- the real data sets (../shared/data) ---------------------------------------------- */

static bool shared(char *path, size_t size, const char *rel)
{
	const char *dir = tl_shared_data();

	if (!dir) {
		printf("\n    skipped: ../shared/data absent ");
		return false;
	}
	snprintf(path, size, "%s/%s", dir, rel);
	return true;
}

/* Fields of line 'no' (1 = header) of a text file, split in 'buf'. */
static int source_row(const char *path, long no, char *buf, size_t size, char **fields, int max)
{
	FILE *f = fopen(path, "r");
	long k = 0;
	int n = -1;

	if (!f)
		return -1;
	while (fgets(buf, (int)size, f))
		if (++k == no) {
			csv_chomp(buf, strlen(buf));
			n = csv_split(buf, fields, max);
			break;
		}
	fclose(f);
	return n;
}

static int column_of(char **fields, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(fields[i], name))
			return i;
	return -1;
}

static int64_t utc(int y, int mo, int d, int h)
{
	return ts_from_civil(y, mo, d, h, 0, 0);
}

/* Mean of the valid values in [from, to). */
static double mean_between(const struct series *s, int64_t from, int64_t to)
{
	struct series sl;
	double m;

	series_slice(s, from, to, &sl);
	m = series_mean(&sl);
	series_release(&sl);
	return m;
}

static int read_ok(const char *path, const char *format, const struct files_options *opt, struct sig_set *set)
{
	struct err_detail err = {{0}, {0}};
	int rc = files_read(path, format, opt, set, &err);

	if (rc)
		tl_fail(__LINE__, __FILE__, false, "%s: %s", path, err.msg);
	return rc;
}

static const struct {
	const char *prefix, *zone;
	double direct_mean_2020; /* evaluation.md §3.3 */
	double mape;		 /* evaluation.md §3.1, Table 4 mean of daily MAPEs */
} dacf_zones[] = {
    {"CISO", "US-CAL-CISO", 200.62, 7.41},
    {"PJM", "US-MIDA-PJM", 295.99, 3.30},
    {"ERCO", "US-TEX-ERCO", 301.86, 8.05},
    {"ISNE", "US-NE-ISNE", 231.95, 4.44},
    {"SE", "SE", 39.79, 6.47},
    {"DE", "DE", 241.55, 9.08},
};

/* Direct intensity from the generation series of 'zone' at step i. */
static double direct_from_mix(const struct sig_set *set, const char *zone, size_t i)
{
	double mix[FUEL__COUNT] = {0};

	for (size_t k = 0; k < set->n; k++) {
		const struct sig_series *s = &set->items[k];
		int fuel;

		if (strcmp(s->zone, zone) || strncmp(s->kind, "generation:", 11))
			continue;
		fuel = sig_fuel_parse(s->kind + 11);
		if (fuel >= 0)
			mix[fuel] = s->s.v[i];
	}
	return sig_intensity_from_mix(mix, FACTORS_DIRECT);
}

static void test_shared_dacf(void)
{
	char path[1024], buf[4096], *fields[64];

	for (size_t z = 0; z < 5; z++) {
		struct sig_set set;
		char rel[128];

		snprintf(rel, sizeof(rel), "dacf/%s_direct_emissions.csv", dacf_zones[z].prefix);
		if (!shared(path, sizeof(path), rel))
			return;
		if (read_ok(path, "dacf", NULL, &set))
			continue;
		const char *zone = dacf_zones[z].zone;
		struct sig_series *ci = find(&set, zone, "carbon_intensity_direct", "file");
		TL_ASSERT(ci != NULL);
		if (!ci) {
			sig_set_release(&set);
			continue;
		}
		TL_ASSERT_INT_EQ(ci->s.n, 17544);
		TL_ASSERT_INT_EQ(series_count_valid(&ci->s), 17544);
		TL_ASSERT_INT_EQ(ci->s.start, utc(2020, 1, 1, 0));
		TL_ASSERT_INT_EQ(ci->s.step, 3600);

		/* §3.3: direct CI from the mix = the file's column (0.01), 2020 mean. */
		double worst = 0;
		for (size_t i = 0; i < ci->s.n; i++)
			worst = fmax(worst, fabs(direct_from_mix(&set, zone, i) - ci->s.v[i]));
		TL_ASSERT_DBL_EQ(worst, 0, 0.01);
		TL_ASSERT_DBL_EQ(mean_between(&ci->s, utc(2020, 1, 1, 0), utc(2021, 1, 1, 0)),
				 dacf_zones[z].direct_mean_2020, 0.005);

		/* Weather: the last 24 rows are DACF's zeros = gaps. */
		struct sig_series *temp = find(&set, zone, "temperature", "file");
		TL_ASSERT(temp != NULL);
		if (temp) {
			TL_ASSERT_INT_EQ(series_count_valid(&temp->s), 17544 - 24);
			TL_ASSERT(!isnan(temp->s.v[17519]) && isnan(temp->s.v[17520]));
		}

		/* Spot rows: values equal the source text. */
		static const long rows[] = {2, 4391, 17521, 17545};
		char head[4096], *hf[64];
		int nh = source_row(path, 1, head, sizeof(head), hf, 64);
		TL_ASSERT(nh > 10);
		for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
			int n = source_row(path, rows[k], buf, sizeof(buf), fields, 64);
			int64_t t;
			size_t i;

			TL_ASSERT_INT_EQ(n, nh);
			if (n != nh || !ts_parse_loose(fields[1], strlen(fields[1]), &t) ||
			    !series_index(&ci->s, t, &i)) {
				tl_fail(__LINE__, __FILE__, false, "%s:%ld: cannot read the row", path,
					rows[k]);
				continue;
			}
			TL_ASSERT_DBL_EQ(ci->s.v[i],
					 strtod(fields[column_of(hf, nh, "carbon_intensity")], NULL), 0);
			for (int c = 0; c < nh; c++) {
				int fuel = sig_fuel_parse(hf[c]);
				char kind[64];

				if (fuel < 0)
					continue;
				snprintf(kind, sizeof(kind), "generation:%s",
					 sig_fuel_name((enum sig_fuel)fuel));
				struct sig_series *g = find(&set, zone, kind, "file");
				TL_ASSERT(g && g->s.v[i] == strtod(fields[c], NULL));
			}
			int tc = column_of(hf, nh, "forecast_avg_temperature_wMean");
			if (temp && i < 17520)
				TL_ASSERT_DBL_EQ(temp->s.v[i], strtod(fields[tc], NULL) - 273.15, 0);
		}
		sig_set_release(&set);
	}
}

static void test_shared_dacf_de(void)
{
	char path[1024], fpath[1024], buf[4096], *fields[64];
	struct sig_set de, fc;

	if (!shared(path, sizeof(path), "dacf/DE_2019_clean.csv") ||
	    !shared(fpath, sizeof(fpath), "dacf/DE_carbon_from_src_prod_forecasts_direct.csv"))
		return;
	if (read_ok(path, "dacf-de", NULL, &de))
		return;
	if (read_ok(fpath, "dacf-forecast", NULL, &fc)) {
		sig_set_release(&de);
		return;
	}
	struct sig_series *direct = find(&de, "DE", "carbon_intensity_direct", "file");
	struct sig_series *actual = find(&fc, "DE", "carbon_intensity_direct", "file");
	TL_ASSERT(direct && actual);
	if (direct && actual) {
		TL_ASSERT_INT_EQ(direct->s.n, 26304);
		TL_ASSERT_INT_EQ(direct->s.start, utc(2019, 1, 1, 0));
		/* data/README.md: 2020 mean 241.55 (paper 241.54) ... */
		TL_ASSERT_DBL_EQ(mean_between(&direct->s, utc(2020, 1, 1, 0), utc(2021, 1, 1, 0)), 241.55,
				 0.005);
		/* ... and hour for hour DACF's own direct CI of Jul-Dec 2021. */
		double worst = 0;
		size_t matched = 0;
		for (size_t i = 0; i < actual->s.n; i++) {
			double v = series_at(&direct->s, series_ts(&actual->s, i));

			if (!isnan(v)) {
				worst = fmax(worst, fabs(v - actual->s.v[i]));
				matched++;
			}
		}
		TL_ASSERT_INT_EQ(matched, 4416);
		TL_ASSERT_DBL_EQ(worst, 0, 0.01);
	}
	/* The mix is the file's value / 4 (MW). */
	char head[4096], *hf[64];
	int nh = source_row(path, 1, head, sizeof(head), hf, 64);
	int n = source_row(path, 8762, buf, sizeof(buf), fields, 64); /* 2020-01-01 00:00 */
	struct sig_series *coal = find(&de, "DE", "generation:coal", "file");
	TL_ASSERT(n == nh && coal != NULL);
	if (n == nh && coal) {
		TL_ASSERT_STR_EQ(fields[1], "2020-01-01 00:00:00+00:00");
		TL_ASSERT_DBL_EQ(series_at(&coal->s, utc(2020, 1, 1, 0)),
				 strtod(fields[column_of(hf, nh, "coal")], NULL) / 4, 0);
	}
	sig_set_release(&de);
	sig_set_release(&fc);
}

static void test_shared_dacf_weather(void)
{
	char path[1024], buf[4096], *fields[64];
	struct sig_set set;

	if (!shared(path, sizeof(path), "dacf/DE_coal_2019_clean.csv") ||
	    read_ok(path, "dacf-weather", NULL, &set))
		return;
	TL_ASSERT_INT_EQ(set.n, 5);
	struct sig_series *dew = find(&set, "DE", "dewpoint", "file");
	TL_ASSERT(dew != NULL);
	if (dew) {
		TL_ASSERT_INT_EQ(dew->s.n, 26304);
		TL_ASSERT_INT_EQ(series_count_valid(&dew->s), 26304 - 24);
		TL_ASSERT_INT_EQ(source_row(path, 2, buf, sizeof(buf), fields, 64), 10);
		TL_ASSERT_STR_EQ(fields[1], "2019-01-01 00:00:00+00:00");
		TL_ASSERT_DBL_EQ(dew->s.v[0], strtod(fields[7], NULL) - 273.15, 0);
	}
	sig_set_release(&set);
}

/* The day-ahead forecast series reproduce DACF's Table 4 (mean of the 184
 * daily MAPEs), which shows both series are aligned hour for hour. */
static void test_shared_dacf_forecast(void)
{
	char path[1024], rel[128];

	for (size_t z = 0; z < ARRAY_SIZE(dacf_zones); z++) {
		struct sig_set set;

		snprintf(rel, sizeof(rel), "dacf/%s_carbon_from_src_prod_forecasts_direct.csv",
			 dacf_zones[z].prefix);
		if (!shared(path, sizeof(path), rel))
			return;
		if (read_ok(path, "dacf-forecast", NULL, &set))
			continue;
		struct sig_series *a = find(&set, dacf_zones[z].zone, "carbon_intensity_direct", "file");
		struct sig_series *f = find(&set, dacf_zones[z].zone, "carbon_intensity_direct", "dacf");
		TL_ASSERT(a && f);
		if (a && f) {
			double sum = 0;

			TL_ASSERT_INT_EQ(a->s.n, 4416);
			TL_ASSERT_INT_EQ(f->s.n, 4416);
			TL_ASSERT_INT_EQ(f->s.start, utc(2021, 7, 1, 0));
			for (size_t d = 0; d < 184; d++) {
				double day = 0;

				for (size_t h = 0; h < 24; h++) {
					size_t i = d * 24 + h;
					day += fabs(f->s.v[i] - a->s.v[i]) / a->s.v[i] * 100;
				}
				sum += day / 24;
			}
			TL_ASSERT_DBL_EQ(sum / 184, dacf_zones[z].mape, 0.005);
		}
		sig_set_release(&set);
	}
}

/* data/README.md: 30-min samples 2020-01-01 .. 2021-01-01 (17,569 values). */
static void test_shared_lwa(void)
{
	static const struct {
		const char *file, *zone;
		double mean, std, min, max;
		int32_t native_step;
		size_t native_gaps;
	} sets[] = {
	    {"ger_ci.csv", "DE", 313.396, 110.454, 100.658, 593.142, 900, 2},
	    {"gb_ci.csv", "GB", 212.942, 65.292, 63.690, 394.860, 1800, 0},
	    {"fr_ci.csv", "FR", 56.337, 19.102, 19.495, 116.394, 1800, 0},
	};
	struct files_options sample = {.step = 1800, .resample = FILES_RESAMPLE_SAMPLE};
	char path[1024], rel[128];

	for (size_t k = 0; k < ARRAY_SIZE(sets); k++) {
		struct sig_set set;
		struct series sl;

		snprintf(rel, sizeof(rel), "lets-wait-awhile/%s", sets[k].file);
		if (!shared(path, sizeof(path), rel))
			return;
		if (read_ok(path, "lwa", &sample, &set))
			continue;
		TL_ASSERT_INT_EQ(set.n, 1);
		TL_ASSERT_STR_EQ(set.items[0].zone, sets[k].zone);
		series_slice(&set.items[0].s, utc(2020, 1, 1, 0), utc(2021, 1, 1, 0) + 1, &sl);
		double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
		size_t n = 0;
		for (size_t i = 0; i < sl.n; i++) {
			double v = sl.v[i];

			if (isnan(v))
				continue;
			sum += v;
			lo = fmin(lo, v);
			hi = fmax(hi, v);
			n++;
		}
		double mean = sum / (double)n;
		for (size_t i = 0; i < sl.n; i++)
			if (!isnan(sl.v[i]))
				sq += (sl.v[i] - mean) * (sl.v[i] - mean);
		TL_ASSERT_INT_EQ(n, 17569);
		TL_ASSERT_DBL_EQ(mean, sets[k].mean, 0.0005);
		TL_ASSERT_DBL_EQ(sqrt(sq / (double)(n - 1)), sets[k].std, 0.0005);
		TL_ASSERT_DBL_EQ(lo, sets[k].min, 0.0005);
		TL_ASSERT_DBL_EQ(hi, sets[k].max, 0.0005);
		series_release(&sl);
		sig_set_release(&set);

		/* Default options: the file's own step; missing rows are gaps. */
		if (read_ok(path, "lwa", NULL, &set))
			continue;
		TL_ASSERT_INT_EQ(set.items[0].s.step, sets[k].native_step);
		TL_ASSERT_INT_EQ(set.items[0].s.n - series_count_valid(&set.items[0].s), sets[k].native_gaps);
		sig_set_release(&set);
	}
}

static void test_shared_wide(void)
{
	char path[1024], *buf = xmalloc(1 << 16), *fields[200], *head = xmalloc(1 << 16), *hf[200];
	struct sig_set set;

	if (!shared(path, sizeof(path), "sukprasert-eurosys24/ci_2022_hourly_lca_123regions.csv") ||
	    read_ok(path, "wide", NULL, &set)) {
		free(buf);
		free(head);
		return;
	}
	TL_ASSERT_INT_EQ(set.n, 123);
	TL_ASSERT_INT_EQ(sig_set_points(&set), 8760 * 123);
	int nh = source_row(path, 1, head, 1 << 16, hf, 200);
	TL_ASSERT_INT_EQ(nh, 124);
	for (long row = 2; row <= 8761; row += 8759) {
		int n = source_row(path, row, buf, 1 << 16, fields, 200);
		size_t bad = 0;

		TL_ASSERT_INT_EQ(n, 124);
		for (int c = 1; c < n && n == nh; c++) {
			struct sig_series *s = find(&set, hf[c], "carbon_intensity", "file");

			bad += !s || s->s.n != 8760 || s->s.start != utc(2022, 1, 1, 0) ||
			       s->s.v[row - 2] != strtod(fields[c], NULL);
		}
		TL_ASSERT_INT_EQ(bad, 0);
	}
	sig_set_release(&set);
	free(buf);
	free(head);
}

static void test_shared_gb_forecast(void)
{
	char path[1024], buf[256], *fields[8];
	struct sig_set set;

	if (!shared(path, sizeof(path), "cats-gb-forecast-fixture/carbon_intensity_24h.csv") ||
	    read_ok(path, "gb-forecast", NULL, &set))
		return;
	TL_ASSERT_INT_EQ(set.n, 1);
	struct series *s = &set.items[0].s;
	TL_ASSERT_INT_EQ(s->n, 96);
	TL_ASSERT_INT_EQ(series_count_valid(s), 96);
	for (long row = 2; row <= 97; row++) {
		int64_t t;

		TL_ASSERT_INT_EQ(source_row(path, row, buf, sizeof(buf), fields, 8), 4);
		TL_ASSERT(ts_parse_loose(fields[0], strlen(fields[0]), &t));
		TL_ASSERT_DBL_EQ(series_at(s, t), strtod(fields[3], NULL), 0);
	}
	sig_set_release(&set);
}

/* ---- the bundled demo data (data/demo/) --------------------------------------------------- */

static void test_demo_files(void)
{
	char demo[256], src[1024], rel[128];

	for (size_t z = 0; z < ARRAY_SIZE(dacf_zones); z++) {
		const char *zone = dacf_zones[z].zone;
		struct sig_set d;

		snprintf(demo, sizeof(demo), "data/demo/%s_direct_emissions.csv.gz", dacf_zones[z].prefix);
		if (read_ok(demo, "dacf", NULL, &d))
			continue;
		/* Always: the demo is complete, hourly 2020-2021. */
		TL_ASSERT_INT_EQ(d.n, z == 4 ? 13u : z == 5 ? 19u : z == 2 ? 16u : 17u);
		for (size_t i = 0; i < d.n; i++) {
			TL_ASSERT_STR_EQ(d.items[i].zone, zone);
			TL_ASSERT_INT_EQ(d.items[i].s.start, utc(2020, 1, 1, 0));
			TL_ASSERT_INT_EQ(d.items[i].s.n, 17544);
		}
		struct sig_series *ci = find(&d, zone, "carbon_intensity_direct", "file");
		TL_ASSERT(ci && series_count_valid(&ci->s) == 17544);

		/* With the shared data: equal to the rows they came from. */
		if (z < 5) {
			struct sig_set s;

			snprintf(rel, sizeof(rel), "dacf/%s_direct_emissions.csv", dacf_zones[z].prefix);
			if (shared(src, sizeof(src), rel) && !read_ok(src, "dacf", NULL, &s)) {
				assert_sets_equal(&d, &s, demo);
				sig_set_release(&s);
			}
		} else if (shared(src, sizeof(src), "dacf/DE_2019_clean.csv")) {
			/* DE: mix / 4 and intensities from DE_2019_clean, weather from
			 * DE_coal_2019_clean, direct CI rounded to 0.01 as DACF's. */
			struct sig_set mix, weather;
			char wpath[1024];

			shared(wpath, sizeof(wpath), "dacf/DE_coal_2019_clean.csv");
			if (!read_ok(src, "dacf-de", NULL, &mix) &&
			    !read_ok(wpath, "dacf-weather", NULL, &weather)) {
				size_t compared = 0;

				for (size_t i = 0; i < d.n; i++) {
					struct sig_series *x = &d.items[i];
					struct sig_series *y = find(&mix, zone, x->kind, "file");
					struct series sl;
					size_t bad = 0;

					if (!y)
						y = find(&weather, zone, x->kind, "file");
					TL_ASSERT(y != NULL);
					if (!y)
						continue;
					series_slice(&y->s, x->s.start, series_end(&x->s), &sl);
					double tol =
					    !strcmp(x->kind, "carbon_intensity_direct") ? 0.005 + 1e-9 : 0;
					for (size_t j = 0; j < x->s.n; j++)
						bad += !((isnan(x->s.v[j]) && isnan(sl.v[j])) ||
							 fabs(x->s.v[j] - sl.v[j]) <= tol);
					if (bad)
						tl_fail(__LINE__, __FILE__, false,
							"%s: %s: %zu values differ", demo, x->kind, bad);
					compared++;
					series_release(&sl);
				}
				TL_ASSERT_INT_EQ(compared, d.n);
				sig_set_release(&mix);
				sig_set_release(&weather);
			}
		}
		sig_set_release(&d);
	}
}

static CU_TestInfo tests[] = {
    {"format list", test_format_list},
    {"good fixtures (good.txt), plain = buffer = gzip", test_good_fixtures},
    {"bad inputs (bad.txt)", test_bad_inputs},
    {"numbers equal strtod", test_numbers_equal_strtod},
    {"messages quote user bytes safely", test_message_quoting},
    {"api edges", test_api_edges},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo shared_tests[] = {
    {"dacf: counts, source text, direct CI from mix (eval §3.3)", test_shared_dacf},
    {"dacf-de: 2020 mean 241.55, matches DACF's direct CI", test_shared_dacf_de},
    {"dacf-weather: DE_coal_2019_clean", test_shared_dacf_weather},
    {"dacf-forecast: Table 4 daily MAPE", test_shared_dacf_forecast},
    {"lwa: 2020 statistics of data/README.md", test_shared_lwa},
    {"wide: 123 zones x 8760 h equal the source text", test_shared_wide},
    {"gb-forecast: the CATS fixture", test_shared_gb_forecast},
    {"demo data equals its sources", test_demo_files},
    CU_TEST_INFO_NULL,
};

TL_SUITE("connectors/files", NULL, NULL, tests)

static void __attribute__((constructor)) register_shared(void)
{
	tl_register("connectors/files/shared-data", NULL, NULL, shared_tests);
}
