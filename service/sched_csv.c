/*
 * sched_csv.c - the CSV files of 'carbonsched simulate' (sched_csv.h).
 *
 * Readers split each line in place (core/csv.h) and keep one line in
 * memory; the jobs reader is a cursor so that a million jobs stream through
 * the engine without being held.  Column names are matched once, from a
 * table; a bad value stops the read with the file, line and column.
 */
#include "service/sched_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"

/* ---- signals ---------------------------------------------------------- */

/* The 'long' format: zone,ts,value.  Rows may come in any order; a zone's
 * step is the smallest spacing of its timestamps. */
struct long_row {
	size_t zone;
	int64_t t;
	double v;
	size_t line;
};

static int cmp_long_row(const void *a, const void *b)
{
	const struct long_row *x = a, *y = b;

	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	return (x->t > y->t) - (x->t < y->t);
}

int sched_csv_read_long(FILE *f, const char *path, const char *kind, struct sig_set *set,
			struct err_detail *err)
{
	char *line = NULL, *fld[4];
	size_t cap = 0, lineno = 0, nrows = 0, rcap = 0, nz = 0, zcap = 0;
	struct long_row *rows = NULL;
	char **zones = NULL;
	ssize_t len;
	int rc = ERR_OK;

	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if ((size_t)len > SCHED_CSV_MAX_LINE) {
			rc = err_set(err, ERR_TOO_LARGE, "signals", "%s:%zu: line longer than %d bytes", path,
				     lineno, SCHED_CSV_MAX_LINE);
			break;
		}
		if (memchr(line, '\0', (size_t)len)) {
			rc = err_set(err, ERR_MALFORMED, "signals", "%s:%zu: NUL byte in the line", path,
				     lineno);
			break;
		}
		csv_chomp(line, (size_t)len);
		if (lineno == 1) {
			if (csv_split((char *)csv_skip_bom(line), fld, 4) != 3 || strcmp(fld[0], "zone") ||
			    strcmp(fld[1], "ts") || strcmp(fld[2], "value")) {
				rc = err_set(err, ERR_MALFORMED, "signals",
					     "%s:1: header must be zone,ts,value", path);
				break;
			}
			continue;
		}
		if (!*line)
			continue;
		if (csv_split(line, fld, 4) != 3) {
			rc =
			    err_set(err, ERR_MALFORMED, "signals", "%s:%zu: expected 3 fields", path, lineno);
			break;
		}
		struct long_row r = {.line = lineno, .v = NAN};
		if (!ts_parse_loose(fld[1], strlen(fld[1]), &r.t)) {
			rc = err_set(err, ERR_MALFORMED, "ts", "%s:%zu: bad time '%.64s'", path, lineno,
				     fld[1]);
			break;
		}
		if (*fld[2] && !csv_double(fld[2], &r.v)) {
			rc = err_set(err, ERR_MALFORMED, "value", "%s:%zu: bad value '%.64s'", path, lineno,
				     fld[2]);
			break;
		}
		if (!*fld[0]) {
			rc = err_set(err, ERR_MALFORMED, "zone", "%s:%zu: empty zone", path, lineno);
			break;
		}
		for (r.zone = 0; r.zone < nz && strcmp(zones[r.zone], fld[0]); r.zone++)
			;
		if (r.zone == nz) {
			zones = xgrow(zones, &zcap, nz + 1, sizeof(*zones));
			zones[nz++] = xstrdup(fld[0]);
		}
		rows = xgrow(rows, &rcap, nrows + 1, sizeof(*rows));
		rows[nrows++] = r;
	}
	if (!rc && ferror(f))
		rc = err_set(err, ERR_IO, "signals", "%s: read error", path);
	free(line);
	if (!rc && nrows)
		qsort(rows, nrows, sizeof(*rows), cmp_long_row);
	for (size_t i = 1, z0 = 0; !rc && nrows && i <= nrows; i++) {
		if (i < nrows && rows[i].zone == rows[z0].zone)
			continue;
		/* zone rows [z0, i), sorted by time */
		const char *zone = zones[rows[z0].zone];
		int64_t step = 0;
		for (size_t k = z0 + 1; k < i; k++) {
			int64_t d = rows[k].t - rows[k - 1].t;

			if (d == 0) {
				rc = err_set(err, ERR_MALFORMED, "ts", "%s:%zu: time repeated for zone '%s'",
					     path, rows[k].line, zone);
				break;
			}
			if (!step || d < step)
				step = d;
		}
		if (!rc && !step)
			step = TS_HOUR; /* a single row */
		if (!rc && step > SCHED_CSV_MAX_STEP)
			rc = err_set(err, ERR_MALFORMED, "ts", "%s: zone '%s': rows more than %d days apart",
				     path, zone, (int)(SCHED_CSV_MAX_STEP / TS_DAY));
		if (!rc && (rows[i - 1].t - rows[z0].t) / step >= SCHED_CSV_MAX_STEPS)
			rc = err_set(err, ERR_MALFORMED, "ts",
				     "%s: zone '%s' spans more than %d steps of %lld s", path, zone,
				     SCHED_CSV_MAX_STEPS, (long long)step);
		struct series *ser = rc ? NULL : sig_set_get(set, zone, kind, "file", (int32_t)step);
		for (size_t k = z0; ser && k < i; k++)
			if (series_set(ser, rows[k].t, rows[k].v, false)) {
				rc = err_set(err, ERR_MALFORMED, "ts",
					     "%s:%zu: time is not on the %lld s grid of zone '%s'", path,
					     rows[k].line, (long long)step, zone);
				break;
			}
		z0 = i;
	}
	for (size_t i = 0; i < nz; i++)
		free(zones[i]);
	free(zones);
	free(rows);
	return rc;
}

int sched_csv_read_capacity(FILE *f, const char *path, const struct sched_model *m,
			    struct sched_capacity *cap, struct err_detail *err)
{
	char *line = NULL, *fld[4];
	size_t lcap = 0, lineno = 0;
	ssize_t len;
	int rc = ERR_OK;

	while (!rc && (len = getline(&line, &lcap, f)) >= 0) {
		double kw;
		int r;

		lineno++;
		if ((size_t)len > SCHED_CSV_MAX_LINE || memchr(line, '\0', (size_t)len)) {
			rc = err_set(err, ERR_MALFORMED, "capacity",
				     "%s:%zu: line too long or with a NUL byte", path, lineno);
			break;
		}
		csv_chomp(line, (size_t)len);
		if (!*line && lineno > 1)
			continue;
		int nf = csv_split(lineno == 1 ? (char *)csv_skip_bom(line) : line, fld, 4);
		if (lineno == 1) {
			if (nf != 2 || strcmp(fld[0], "region") || strcmp(fld[1], "capacity_kw"))
				rc = err_set(err, ERR_MALFORMED, "capacity",
					     "%s:1: header must be region,capacity_kw", path);
			continue;
		}
		if (nf != 2)
			rc = err_set(err, ERR_MALFORMED, "capacity", "%s:%zu: expected 2 fields", path,
				     lineno);
		else if ((r = sched_model_find(m, fld[0])) < 0)
			rc = err_set(err, ERR_INVALID, "region", "%s:%zu: region '%.64s' has no signal", path,
				     lineno, fld[0]);
		else if (!csv_double(fld[1], &kw) || kw < 0)
			rc = err_set(err, ERR_INVALID, "capacity_kw",
				     "%s:%zu: capacity_kw must be a number >= 0", path, lineno);
		else
			sched_capacity_set(cap, (size_t)r, kw);
	}
	if (!rc && ferror(f))
		rc = err_set(err, ERR_IO, "capacity", "%s: read error", path);
	free(line);
	return rc;
}

/* ---- jobs ------------------------------------------------------------- */

#define JOB_COLUMNS(X)                           \
	X(ID, "id", true)                        \
	X(REGION, "region", true)                \
	X(SUBMIT, "submit", true)                \
	X(EARLIEST, "earliest_start", false)     \
	X(DEADLINE, "deadline", true)            \
	X(DURATION, "duration_min", true)        \
	X(POWER, "power_kw", true)               \
	X(INTERRUPTIBLE, "interruptible", false) \
	X(ALLOWED, "allowed_regions", false)     \
	X(MIN_SEGMENT, "min_segment_min", false) \
	X(MAX_SEGMENTS, "max_segments", false)

enum col {
#define COL_ENUM(name, str, req) COL_##name,
	JOB_COLUMNS(COL_ENUM)
#undef COL_ENUM
	    COL__COUNT
};

static const struct {
	const char *name;
	bool required;
} columns[] = {
#define COL_ROW(name, str, req) {str, req},
    JOB_COLUMNS(COL_ROW)
#undef COL_ROW
};

_Static_assert(COL__COUNT <= 16, "struct sched_jobs_reader has room for 16 columns");

static bool parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"1", "true", "yes", "t", "y"}, *const no[] = {"",   "0", "false",
											"no", "f", "n"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (!strcasecmp(s, yes[i]))
			return *ret = true;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (!strcasecmp(s, no[i])) {
			*ret = false;
			return true;
		}
	return false;
}

void sched_jobs_reader_init(struct sched_jobs_reader *rd, FILE *f, const char *name,
			    const struct sched_model *m)
{
	memset(rd, 0, sizeof(*rd));
	rd->f = f;
	rd->name = name;
	rd->m = m;
}

void sched_jobs_reader_release(struct sched_jobs_reader *rd)
{
	free(rd->buf);
	free(rd->regions);
	rd->buf = NULL;
	rd->regions = NULL;
}

/* Read the next non-empty line into rd->buf; false at the end. */
static int next_line(struct sched_jobs_reader *rd, bool *ret_got, struct err_detail *err)
{
	ssize_t len;

	*ret_got = false;
	while ((len = getline(&rd->buf, &rd->buf_cap, rd->f)) >= 0) {
		rd->line++;
		if ((size_t)len > SCHED_CSV_MAX_LINE)
			return err_set(err, ERR_TOO_LARGE, "jobs", "%s:%zu: line longer than %d bytes",
				       rd->name, rd->line, SCHED_CSV_MAX_LINE);
		if (memchr(rd->buf, '\0', (size_t)len))
			return err_set(err, ERR_MALFORMED, "jobs", "%s:%zu: NUL byte in the line", rd->name,
				       rd->line);
		csv_chomp(rd->buf, (size_t)len);
		if (*rd->buf || rd->line == 1) {
			*ret_got = true;
			return ERR_OK;
		}
	}
	if (ferror(rd->f))
		return err_set(err, ERR_IO, "jobs", "%s: read error", rd->name);
	return ERR_OK;
}

int sched_jobs_next(struct sched_jobs_reader *rd, struct sched_job *ret, bool *ret_more,
		    struct err_detail *err)
{
	char *fld[SCHED_CSV_MAX_COLUMNS];
	bool got;
	int rc;

	*ret_more = false;
	if (!rd->header_done) {
		if ((rc = next_line(rd, &got, err)))
			return rc;
		if (!got)
			return err_set(err, ERR_MALFORMED, "jobs", "%s: empty file (a header is required)",
				       rd->name);
		rd->ncols = csv_split((char *)csv_skip_bom(rd->buf), fld, SCHED_CSV_MAX_COLUMNS);
		if (rd->ncols < 0 || rd->ncols > SCHED_CSV_MAX_COLUMNS)
			return err_set(err, ERR_MALFORMED, "jobs", "%s:1: bad header", rd->name);
		for (int c = 0; c < COL__COUNT; c++) {
			rd->col[c] = -1;
			for (int k = 0; k < rd->ncols; k++)
				if (!strcmp(fld[k], columns[c].name))
					rd->col[c] = k;
			if (rd->col[c] < 0 && columns[c].required)
				return err_set(err, ERR_MALFORMED, columns[c].name, "%s:1: no column '%s'",
					       rd->name, columns[c].name);
		}
		rd->header_done = true;
	}
	if ((rc = next_line(rd, &got, err)) || !got)
		return rc;
	int nf = csv_split(rd->buf, fld, SCHED_CSV_MAX_COLUMNS);
	if (nf != rd->ncols)
		return err_set(err, ERR_MALFORMED, "jobs", "%s:%zu: %d fields, the header has %d", rd->name,
			       rd->line, nf, rd->ncols);

#define FIELD(c) (rd->col[COL_##c] >= 0 ? fld[rd->col[COL_##c]] : "")
#define BAD(c, ...)                                                                                  \
	do {                                                                                         \
		err_set(err, ERR_INVALID, columns[COL_##c].name, __VA_ARGS__);                       \
		err_prefix(err, "%s:%zu: column '%s': ", rd->name, rd->line, columns[COL_##c].name); \
		return ERR_INVALID;                                                                  \
	} while (0)
	struct sched_job job;
	const char *s;
	double x;
	int r;

	snprintf(rd->id, sizeof(rd->id), "%s", FIELD(ID));
	sched_job_init(&job);
	job.max_alternatives = 0;
	if ((r = sched_model_find(rd->m, FIELD(REGION))) < 0)
		BAD(REGION, "region '%.64s' has no signal", FIELD(REGION));
	job.origin = r;
	s = FIELD(SUBMIT);
	if (!ts_parse_loose(s, strlen(s), &job.submit))
		BAD(SUBMIT, "bad time '%.64s'", s);
	s = FIELD(EARLIEST);
	job.earliest_start = job.submit;
	if (*s && !ts_parse_loose(s, strlen(s), &job.earliest_start))
		BAD(EARLIEST, "bad time '%.64s'", s);
	s = FIELD(DEADLINE);
	if (!ts_parse_loose(s, strlen(s), &job.deadline))
		BAD(DEADLINE, "bad time '%.64s'", s);
	if (!csv_double(FIELD(DURATION), &x) || x <= 0 || x > 1e8)
		BAD(DURATION, "must be a positive number of minutes (at most 1e8)");
	job.duration = llround(x * 60);
	if (!csv_double(FIELD(POWER), &job.power_kw) || job.power_kw <= 0)
		BAD(POWER, "must be a positive number");
	if (!parse_bool(FIELD(INTERRUPTIBLE), &job.interruptible))
		BAD(INTERRUPTIBLE, "must be true or false");
	if (*FIELD(MIN_SEGMENT)) {
		if (!csv_double(FIELD(MIN_SEGMENT), &x) || x < 0 || x > 1e8)
			BAD(MIN_SEGMENT, "must be a number of minutes >= 0");
		job.min_segment = llround(x * 60);
	}
	if (*FIELD(MAX_SEGMENTS)) {
		if (!csv_double(FIELD(MAX_SEGMENTS), &x) || x < 0 || x != floor(x) || x > 1e6)
			BAD(MAX_SEGMENTS, "must be a whole number >= 0");
		job.max_segments = (int)x;
	}
	/* candidates: allowed_regions, or the job's own region */
	size_t na = 0;
	char *save = NULL;
	for (char *tok = strtok_r((char *)FIELD(ALLOWED), ";", &save); tok;
	     tok = strtok_r(NULL, ";", &save)) {
		while (*tok == ' ')
			tok++;
		for (char *e = tok + strlen(tok); e > tok && e[-1] == ' ';)
			*--e = '\0';
		if (!*tok)
			continue;
		if ((r = sched_model_find(rd->m, tok)) < 0)
			BAD(ALLOWED, "region '%.64s' has no signal", tok);
		rd->regions = xgrow(rd->regions, &rd->regions_cap, na + 1, sizeof(*rd->regions));
		rd->regions[na++] = (size_t)r;
	}
#undef FIELD
#undef BAD
	if (!na) {
		rd->regions = xgrow(rd->regions, &rd->regions_cap, 1, sizeof(*rd->regions));
		rd->regions[na++] = (size_t)job.origin;
	}
	job.regions = rd->regions;
	job.n_regions = na;
	*ret = job;
	*ret_more = true;
	return ERR_OK;
}
