/*
 * report.c - 'carbonsched report': the jobs of a period with their energy,
 * emissions, baseline, saving and forecast error, per job, per day and
 * per region (see report.h).
 *
 * Why pure rendering: the report runs from cron and its output is read
 * by people and by spreadsheets, so it is tested as text.  The HTML page
 * stands alone - inline CSS and SVG charts drawn here, no scripts, no
 * fonts or images from elsewhere - so that it opens from a mail or a file
 * share and prints on A4 as it shows on screen.
 *
 * Trade-off: every job of the period is held in memory (a few hundred
 * bytes each); a month of a busy site is some tens of thousands of jobs.
 */
#include "service/report.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/time.h"

/* Rows of the per-job table of the HTML page (CSV and JSON have all). */
#define REPORT_HTML_MAX_JOBS 1000

void report_init(struct report *r, int64_t from, int64_t to, int64_t generated_at)
{
	memset(r, 0, sizeof(*r));
	r->from = from;
	r->to = to;
	r->generated_at = generated_at;
}

void report_release(struct report *r)
{
	for (size_t i = 0; i < r->njobs; i++)
		free(r->jobs[i].name);
	free(r->jobs);
	free(r->days);
	free(r->regions);
	memset(r, 0, sizeof(*r));
}

void report_add(struct report *r, const struct report_job *j)
{
	r->jobs = xgrow(r->jobs, &r->cap, r->njobs + 1, sizeof(*r->jobs));
	r->jobs[r->njobs] = *j;
	r->jobs[r->njobs].name = xstrdup(j->name ? j->name : "");
	r->njobs++;
}

int report_load(struct db *db, struct report *r, struct err_detail *err)
{
	char a[24], b[24];
	const char *p[2] = {db_param_time(r->from, a), db_param_time(r->to, b)};
	struct db_res *res;
	int rc;

	if ((rc = db_exec(db, DB_REPORT_JOBS, p, 2, &res, err)))
		return rc;
	for (size_t i = 0, n = db_res_rows(res); i < n; i++) {
		struct report_job j;

		memset(&j, 0, sizeof(j));
		snprintf(j.id, sizeof(j.id), "%s", db_res_get(res, i, 0));
		j.name = (char *)db_res_get(res, i, 1);
		snprintf(j.state, sizeof(j.state), "%s", db_res_get(res, i, 2));
		snprintf(j.origin, sizeof(j.origin), "%s", db_res_get(res, i, 3));
		snprintf(j.region, sizeof(j.region), "%s", db_res_get(res, i, 4));
		snprintf(j.model, sizeof(j.model), "%s", db_res_get(res, i, 5));
		j.start = db_res_int64(res, i, 6);
		j.planned_kwh = db_res_double(res, i, 7);
		j.measured_kwh = db_res_double(res, i, 8);
		j.expected_g = db_res_double(res, i, 9);
		j.baseline_g = db_res_double(res, i, 10);
		j.realised_g = db_res_double(res, i, 11);
		j.realised_baseline_g = db_res_double(res, i, 12);
		report_add(r, &j);
	}
	db_res_free(res);
	return ERR_OK;
}

/* --- one job ------------------------------------------------------------------------------ */

bool report_job_realised(const struct report_job *j)
{
	return isfinite(j->realised_g) && isfinite(j->realised_baseline_g);
}

bool report_job_counts(const struct report_job *j)
{
	return !strcmp(j->state, "scheduled") || !strcmp(j->state, "running") ||
	       !strcmp(j->state, "completed") || (!strcmp(j->state, "failed") && report_job_realised(j));
}

double report_job_energy(const struct report_job *j)
{
	return isfinite(j->measured_kwh) ? j->measured_kwh : j->planned_kwh;
}

double report_job_emissions(const struct report_job *j)
{
	return report_job_realised(j) ? j->realised_g : j->expected_g;
}

double report_job_baseline(const struct report_job *j)
{
	return report_job_realised(j) ? j->realised_baseline_g : j->baseline_g;
}

double report_job_forecast_error(const struct report_job *j)
{
	double planned, real;

	if (!isfinite(j->realised_g) || !isfinite(j->expected_g) || !(j->measured_kwh > 0) ||
	    !(j->planned_kwh > 0))
		return NAN;
	planned = j->expected_g / j->planned_kwh;
	real = j->realised_g / j->measured_kwh;
	if (!(real > 0))
		return NAN;
	return (planned - real) / real * 100;
}

/* --- sums ---------------------------------------------------------------------------------- */

static void sum_add(struct report_sum *s, const struct report_job *j)
{
	double e = report_job_emissions(j), b = report_job_baseline(j), fe = report_job_forecast_error(j);

	s->jobs++;
	s->realised += report_job_realised(j);
	if (isfinite(report_job_energy(j)))
		s->energy_kwh += report_job_energy(j);
	if (isfinite(e))
		s->emissions_g += e;
	if (isfinite(b) && isfinite(e)) {
		s->baseline_g += b;
		s->saving_g += b - e;
		s->emissions_with_baseline_g += e;
	}
	if (isfinite(fe)) {
		s->nerr++;
		s->err_sum += fe;
		s->err_abs_sum += fabs(fe);
	}
}

static double sum_saving_pct(const struct report_sum *s)
{
	return s->baseline_g > 0 ? s->saving_g / s->baseline_g * 100 : NAN;
}

static struct report_group *group(struct report_group **g, size_t *n, const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*g)[i].key, key))
			return &(*g)[i];
	*g = xrealloc(*g, (*n + 1) * sizeof(**g));
	memset(&(*g)[*n], 0, sizeof(**g));
	snprintf((*g)[*n].key, sizeof((*g)[*n].key), "%s", key);
	return &(*g)[(*n)++];
}

static int group_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_group *)a)->key, ((const struct report_group *)b)->key);
}

static void day_key(int64_t t, char out[16])
{
	struct ts_civil c;

	ts_to_civil(t, &c);
	snprintf(out, 16, "%04d-%02d-%02d", c.year, c.month, c.day);
}

void report_finish(struct report *r)
{
	free(r->days);
	free(r->regions);
	r->days = r->regions = NULL;
	r->ndays = r->nregions = 0;
	memset(&r->total, 0, sizeof(r->total));
	for (size_t i = 0; i < r->njobs; i++) {
		const struct report_job *j = &r->jobs[i];
		char day[16];

		if (!report_job_counts(j))
			continue;
		day_key(j->start, day);
		sum_add(&group(&r->days, &r->ndays, day)->sum, j);
		sum_add(&group(&r->regions, &r->nregions, j->region[0] ? j->region : "(not placed)")->sum, j);
		sum_add(&r->total, j);
	}
	if (r->ndays)
		qsort(r->days, r->ndays, sizeof(*r->days), group_cmp);
	if (r->nregions)
		qsort(r->regions, r->nregions, sizeof(*r->regions), group_cmp);
}

bool report_format_parse(const char *s, enum report_format *ret)
{
	static const char *const names[] = {"csv", "json", "html"};

	for (int i = 0; i < 3; i++) {
		if (!strcmp(s, names[i])) {
			*ret = (enum report_format)i;
			return true;
		}
	}
	return false;
}

/* --- numbers ------------------------------------------------------------------------------ */

/* A number for CSV and JSON: shortest exact text, "" / null when unknown. */
static void put_num(struct buf *b, double v, const char *none)
{
	if (!isfinite(v)) {
		buf_adds(b, none);
		return;
	}
	/* three decimals are grams and watt-hours: enough, and no float noise */
	v = round(v * 1000) / 1000;
	buf_add_double(b, v == 0 ? 0 : v);
}

static double sum_err(const struct report_sum *s)
{
	return s->nerr ? s->err_sum / (double)s->nerr : NAN;
}

static double sum_abs_err(const struct report_sum *s)
{
	return s->nerr ? s->err_abs_sum / (double)s->nerr : NAN;
}

/* --- CSV ---------------------------------------------------------------------------------- */

static void csv_field(struct buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_addc(b, '"');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

static void csv_sum(struct buf *b, const char *scope, const char *day, const char *region,
		    const struct report_sum *s)
{
	buf_addf(b, "%s,%s,", scope, day);
	csv_field(b, region);
	buf_addf(b, ",,,,,,%zu,%zu,", s->jobs, s->realised);
	put_num(b, s->energy_kwh, "");
	buf_addc(b, ',');
	put_num(b, s->emissions_g, "");
	buf_addc(b, ',');
	put_num(b, s->baseline_g, "");
	buf_addc(b, ',');
	put_num(b, s->saving_g, "");
	buf_addc(b, ',');
	put_num(b, sum_saving_pct(s), "");
	buf_addc(b, ',');
	put_num(b, sum_err(s), "");
	buf_addc(b, ',');
	put_num(b, sum_abs_err(s), "");
	buf_addc(b, '\n');
}

static void render_csv(const struct report *r, struct buf *b)
{
	char ts[TS_BUFSZ], day[16];

	buf_adds(b,
		 "scope,day,region,job_id,name,state,start,figures,jobs,realised_jobs,energy_kwh,emissions_g,"
		 "baseline_g,saving_g,saving_pct,forecast_error_pct,forecast_abs_error_pct\n");
	csv_sum(b, "total", "", "", &r->total);
	for (size_t i = 0; i < r->ndays; i++)
		csv_sum(b, "day", r->days[i].key, "", &r->days[i].sum);
	for (size_t i = 0; i < r->nregions; i++)
		csv_sum(b, "region", "", r->regions[i].key, &r->regions[i].sum);
	for (size_t i = 0; i < r->njobs; i++) {
		const struct report_job *j = &r->jobs[i];
		double e = report_job_emissions(j), bl = report_job_baseline(j),
		       fe = report_job_forecast_error(j);
		bool counts = report_job_counts(j);

		day_key(j->start, day);
		buf_addf(b, "job,%s,", day);
		csv_field(b, j->region);
		buf_addf(b, ",%s,", j->id);
		csv_field(b, j->name);
		buf_addf(b, ",%s,%s,%s,%d,%d,", j->state, ts_format(j->start, ts),
			 report_job_realised(j) ? "realised" : "planned", counts,
			 counts && report_job_realised(j));
		put_num(b, report_job_energy(j), "");
		buf_addc(b, ',');
		put_num(b, e, "");
		buf_addc(b, ',');
		put_num(b, bl, "");
		buf_addc(b, ',');
		put_num(b, bl - e, "");
		buf_addc(b, ',');
		put_num(b, bl > 0 ? (bl - e) / bl * 100 : NAN, "");
		buf_addc(b, ',');
		put_num(b, fe, "");
		buf_addc(b, ',');
		put_num(b, fabs(fe), "");
		buf_addc(b, '\n');
	}
}

/* --- JSON --------------------------------------------------------------------------------- */

static void json_key_num(struct buf *b, const char *key, double v)
{
	buf_addf(b, ",\"%s\":", key);
	put_num(b, v, "null");
}

static void json_sum(struct buf *b, const struct report_sum *s)
{
	buf_addf(b, "\"jobs\":%zu,\"realised_jobs\":%zu", s->jobs, s->realised);
	json_key_num(b, "energy_kwh", s->energy_kwh);
	json_key_num(b, "emissions_g", s->emissions_g);
	json_key_num(b, "baseline_g", s->baseline_g);
	json_key_num(b, "saving_g", s->saving_g);
	json_key_num(b, "saving_pct", sum_saving_pct(s));
	json_key_num(b, "forecast_error_pct", sum_err(s));
	json_key_num(b, "forecast_abs_error_pct", sum_abs_err(s));
	buf_addf(b, ",\"forecast_jobs\":%zu", s->nerr);
}

static void render_json(const struct report *r, struct buf *b)
{
	char t1[TS_BUFSZ], t2[TS_BUFSZ], t3[TS_BUFSZ];

	buf_addf(b, "{\"from\":\"%s\",\"to\":\"%s\",\"generated_at\":\"%s\",\"total\":{",
		 ts_format(r->from, t1), ts_format(r->to, t2), ts_format(r->generated_at, t3));
	json_sum(b, &r->total);
	buf_adds(b, "},\n\"days\":[");
	for (size_t i = 0; i < r->ndays; i++) {
		buf_addf(b, "%s\n{\"day\":\"%s\",", i ? "," : "", r->days[i].key);
		json_sum(b, &r->days[i].sum);
		buf_addc(b, '}');
	}
	buf_adds(b, "],\n\"regions\":[");
	for (size_t i = 0; i < r->nregions; i++) {
		buf_adds(b, i ? ",\n{\"region\":" : "\n{\"region\":");
		buf_add_json_string(b, r->regions[i].key);
		buf_addc(b, ',');
		json_sum(b, &r->regions[i].sum);
		buf_addc(b, '}');
	}
	buf_adds(b, "],\n\"jobs\":[");
	for (size_t i = 0; i < r->njobs; i++) {
		const struct report_job *j = &r->jobs[i];
		double e = report_job_emissions(j), bl = report_job_baseline(j);

		buf_addf(b, "%s\n{\"id\":\"%s\",\"name\":", i ? "," : "", j->id);
		buf_add_json_string(b, j->name);
		buf_addf(b, ",\"state\":\"%s\",\"counted\":%s,\"origin\":", j->state,
			 report_job_counts(j) ? "true" : "false");
		buf_add_json_string(b, j->origin);
		buf_adds(b, ",\"region\":");
		buf_add_json_string(b, j->region);
		buf_addf(b, ",\"start\":\"%s\",\"figures\":\"%s\"", ts_format(j->start, t1),
			 report_job_realised(j) ? "realised" : "planned");
		json_key_num(b, "energy_kwh", report_job_energy(j));
		json_key_num(b, "emissions_g", e);
		json_key_num(b, "baseline_g", bl);
		json_key_num(b, "saving_g", bl - e);
		json_key_num(b, "saving_pct", bl > 0 ? (bl - e) / bl * 100 : NAN);
		json_key_num(b, "forecast_error_pct", report_job_forecast_error(j));
		buf_adds(b, ",\"forecast_model\":");
		buf_add_json_string(b, j->model);
		buf_addc(b, '}');
	}
	buf_adds(b, "]}\n");
}

/* --- HTML --------------------------------------------------------------------------------- */

static void html_text(struct buf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *p);
		}
	}
}

/* The mass unit of the whole page, by the largest figure. */
struct unit {
	const char *name;
	double div;
};

static struct unit mass_unit(const struct report *r)
{
	double m = fmax(r->total.baseline_g, r->total.emissions_g);

	for (size_t i = 0; i < r->ndays; i++)
		m = fmax(m, fmax(r->days[i].sum.baseline_g, r->days[i].sum.emissions_g));
	if (m >= 1e7)
		return (struct unit){"t", 1e6};
	if (m >= 1e4)
		return (struct unit){"kg", 1e3};
	return (struct unit){"g", 1};
}

/* A figure for people: three significant digits or whole units. */
static void html_num(struct buf *b, double v)
{
	if (!isfinite(v)) {
		buf_adds(b, "&ndash;");
		return;
	}
	if (fabs(v) >= 100 || v == 0)
		buf_addf(b, "%.0f", v);
	else if (fabs(v) >= 10)
		buf_addf(b, "%.1f", v);
	else
		buf_addf(b, "%.2f", v);
}

static void html_pct(struct buf *b, double v)
{
	if (!isfinite(v)) {
		buf_adds(b, "&ndash;");
		return;
	}
	buf_addf(b, "%+.1f&#8239;%%", v);
}

/* A magnitude: no sign. */
static void html_abs_pct(struct buf *b, double v)
{
	if (!isfinite(v)) {
		buf_adds(b, "&ndash;");
		return;
	}
	buf_addf(b, "%.1f&#8239;%%", v);
}

/* An axis tick: as short as the step allows. */
static void html_tick(struct buf *b, double v)
{
	buf_addf(b, "%g", round(v * 1000) / 1000);
}

/* The smallest 1, 2, 2.5 or 5 x 10^k at or above v. */
static double nice_ceil(double v)
{
	static const double steps[] = {1, 2, 2.5, 5, 10};
	double p;

	if (!(v > 0))
		return 1;
	p = pow(10, floor(log10(v)));
	for (int i = 0; i < 5; i++)
		if (steps[i] * p >= v * (1 - 1e-12))
			return steps[i] * p;
	return 10 * p;
}

#define CHART_W 760.0

/* Bars per day: the baseline (light, outlined) beside what was emitted. */
static void chart_days(const struct report *r, struct unit u, struct buf *b)
{
	const double h = 260, left = 64, right = 12, top = 28, bottom = 44, pw = CHART_W - left - right,
		     ph = h - top - bottom;
	double max = 0, gw, bw;
	size_t every;

	for (size_t i = 0; i < r->ndays; i++)
		max = fmax(max, fmax(r->days[i].sum.baseline_g, r->days[i].sum.emissions_g) / u.div);
	max = nice_ceil(max);
	gw = pw / (double)r->ndays;
	bw = fmin(gw * 0.36, 28);
	every = r->ndays > 16 ? (r->ndays + 15) / 16 : 1;
	buf_addf(b,
		 "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"emissions and "
		 "baseline per "
		 "day\">\n",
		 CHART_W, h);
	for (int k = 0; k <= 5; k++) {
		double y = top + ph - ph * k / 5.0;

		buf_addf(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", left,
			 left + pw, y, y);
		buf_addf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 6,
			 y + 4);
		html_tick(b, max * k / 5.0);
		buf_adds(b, "</text>\n");
	}
	buf_addf(b,
		 "<text class=\"axis\" x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
		 "text-anchor=\"middle\">%s CO&#8322;eq</text>\n",
		 top + ph / 2, top + ph / 2, u.name);
	for (size_t i = 0; i < r->ndays; i++) {
		const struct report_sum *s = &r->days[i].sum;
		double x = left + gw * (double)i + gw / 2, hb = ph * (s->baseline_g / u.div) / max,
		       he = ph * (s->emissions_g / u.div) / max;

		buf_addf(
		    b,
		    "<rect class=\"baseline\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%s "
		    "baseline ",
		    x - bw, top + ph - hb, bw, hb, r->days[i].key);
		html_num(b, s->baseline_g / u.div);
		buf_addf(b, " %s</title></rect>", u.name);
		buf_addf(
		    b,
		    "<rect class=\"emitted\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%s "
		    "emitted ",
		    x, top + ph - he, bw, he, r->days[i].key);
		html_num(b, s->emissions_g / u.div);
		buf_addf(b, " %s</title></rect>\n", u.name);
		if (i % every == 0)
			buf_addf(
			    b,
			    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			    x, top + ph + 16, r->days[i].key + 5);
	}
	buf_addf(b, "<line class=\"axisline\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", left,
		 left + pw, top + ph, top + ph);
	buf_addf(
	    b,
	    "<rect class=\"baseline\" x=\"%.1f\" y=\"6\" width=\"12\" height=\"12\"/><text class=\"legend\" "
	    "x=\"%.1f\" y=\"16\">baseline (run at once, origin region)</text>"
	    "<rect class=\"emitted\" x=\"%.1f\" y=\"6\" width=\"12\" height=\"12\"/><text class=\"legend\" "
	    "x=\"%.1f\" y=\"16\">emitted</text>\n</svg>\n",
	    left, left + 16, left + 290, left + 306);
}

/* Per region: horizontal bars of the baseline and of what was emitted. */
static void chart_regions(const struct report *r, struct unit u, struct buf *b)
{
	const double left = 150, right = 70, top = 28, row = 30, pw = CHART_W - left - right,
		     h = top + row * (double)r->nregions + 24;
	double max = 0;

	for (size_t i = 0; i < r->nregions; i++)
		max = fmax(max, fmax(r->regions[i].sum.baseline_g, r->regions[i].sum.emissions_g) / u.div);
	max = nice_ceil(max);
	buf_addf(b,
		 "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"emissions and "
		 "baseline per "
		 "region\">\n",
		 CHART_W, h);
	for (int k = 0; k <= 4; k++) {
		double x = left + pw * k / 4.0;

		buf_addf(b, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x,
			 top, h - 20);
		buf_addf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, h - 6);
		html_tick(b, max * k / 4.0);
		buf_adds(b, k == 4 ? " " : "");
		if (k == 4)
			buf_adds(b, u.name);
		buf_adds(b, "</text>\n");
	}
	for (size_t i = 0; i < r->nregions; i++) {
		const struct report_sum *s = &r->regions[i].sum;
		double y = top + row * (double)i, wb = pw * (s->baseline_g / u.div) / max,
		       we = pw * (s->emissions_g / u.div) / max;

		buf_addf(b, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 8,
			 y + 17);
		html_text(b, r->regions[i].key);
		buf_addf(
		    b,
		    "</text><rect class=\"baseline\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"11\"/>"
		    "<rect class=\"emitted\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"11\"/>",
		    left, y + 4, wb, left, y + 15, we);
		buf_addf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", left + fmax(wb, we) + 6, y + 17);
		html_pct(b, -sum_saving_pct(s));
		buf_adds(b, "</text>\n");
	}
	buf_addf(
	    b,
	    "<rect class=\"baseline\" x=\"%.1f\" y=\"6\" width=\"12\" height=\"12\"/><text class=\"legend\" "
	    "x=\"%.1f\" y=\"16\">baseline</text><rect class=\"emitted\" x=\"%.1f\" y=\"6\" width=\"12\" "
	    "height=\"12\"/><text class=\"legend\" x=\"%.1f\" y=\"16\">emitted (change against the "
	    "baseline)</text>\n</svg>\n",
	    left, left + 16, left + 110, left + 126);
}

static const char *const css =
    "@page{size:A4;margin:14mm}\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f23;max-width:980px;"
    "margin:24px auto;padding:0 16px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;"
    "padding-bottom:4px}\n"
    ".meta{color:#57606a;margin:0 0 16px}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px}\n"
    ".card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px}.card b{display:block;font-size:20px}"
    ".card span{color:#57606a;font-size:12px}\n"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}\n"
    "th,td{padding:4px 8px;border-bottom:1px solid #e5e8eb;text-align:right;white-space:nowrap}\n"
    "th{background:#f6f8fa;font-weight:600}th:first-child,td:first-child,td.l,th.l{text-align:left}\n"
    "td.name{white-space:normal;text-align:left;min-width:90px;max-width:240px;overflow-wrap:break-word}\n"
    ".chart{width:100%;height:auto;display:block}.chart text{font-size:11px;fill:#1b1f23}\n"
    ".chart .grid{stroke:#e5e8eb}.chart .axisline{stroke:#57606a}.chart .axis{font-size:12px}\n"
    ".chart .baseline{fill:#d0d7de;stroke:#57606a;stroke-width:1}.chart .emitted{fill:#1a7f37}\n"
    ".muted{color:#57606a}.neg{color:#1a7f37}.pos{color:#cf222e}\n"
    "figure{margin:8px 0}figcaption{color:#57606a;font-size:12px}\n"
    "@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}"
    "figure,.cards,tr{break-inside:avoid}thead{display:table-header-group}"
    ".card{border-color:#999}th{background:#eee}"
    ".chart .emitted{fill:#222}.chart .baseline{fill:#fff;stroke:#222}}\n";

static void html_sum_cells(struct buf *b, const struct report_sum *s, struct unit u)
{
	buf_addf(b, "<td>%zu</td><td>%zu</td><td>", s->jobs, s->realised);
	html_num(b, s->energy_kwh);
	buf_adds(b, "</td><td>");
	html_num(b, s->emissions_g / u.div);
	buf_adds(b, "</td><td>");
	html_num(b, s->baseline_g / u.div);
	buf_adds(b, "</td><td>");
	html_num(b, s->saving_g / u.div);
	buf_adds(b, "</td><td>");
	html_pct(b, sum_saving_pct(s));
	buf_adds(b, "</td><td>");
	html_pct(b, sum_err(s));
	buf_adds(b, "</td><td>");
	html_abs_pct(b, sum_abs_err(s));
	buf_adds(b, "</td></tr>\n");
}

static void html_sum_table(struct buf *b, const char *first, const struct report_group *g, size_t n,
			   struct unit u, const struct report_sum *total)
{
	buf_addf(
	    b,
	    "<table><thead><tr><th class=\"l\">%s</th><th>jobs</th><th>realised</th><th>energy kWh</th>"
	    "<th>emitted %s</th><th>baseline %s</th><th>saved %s</th><th>saved</th><th>forecast bias</th>"
	    "<th>forecast error</th></tr></thead><tbody>\n",
	    first, u.name, u.name, u.name);
	for (size_t i = 0; i < n; i++) {
		buf_adds(b, "<tr><td>");
		html_text(b, g[i].key);
		buf_adds(b, "</td>");
		html_sum_cells(b, &g[i].sum, u);
	}
	buf_adds(b, "<tr><th class=\"l\">all</th>");
	html_sum_cells(b, total, u);
	buf_adds(b, "</tbody></table>\n");
}

static void html_card(struct buf *b, const char *label, const char *value_html, const char *note)
{
	buf_addf(b, "<div class=\"card\"><span>%s</span><b>%s</b><span>%s</span></div>\n", label,
		 value_html ? value_html : "", note ? note : "");
}

static void render_html(const struct report *r, struct buf *b)
{
	struct unit u = mass_unit(r);
	char t1[TS_BUFSZ], t2[TS_BUFSZ], t3[TS_BUFSZ];
	struct buf v, note;

	ts_format(r->from, t1);
	ts_format(r->to, t2);
	ts_format(r->generated_at, t3);
	buf_addf(b,
		 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
		 "<title>carbonsched report %s to %s</title>\n<style>\n%s</style></head><body>\n"
		 "<h1>Carbon report</h1>\n<p class=\"meta\">Jobs starting from %s to %s (UTC) &middot; "
		 "generated %s "
		 "by carbonsched</p>\n",
		 t1, t2, css, t1, t2, t3);

	buf_init(&v, 0);
	buf_init(&note, 0);
	buf_adds(b, "<div class=\"cards\">\n");
	buf_addf(&v, "%zu", r->total.jobs);
	if (r->total.realised == r->total.jobs)
		buf_adds(&note, r->total.jobs ? "all with realised figures" : "");
	else
		buf_addf(&note, "%zu realised, %zu planned", r->total.realised,
			 r->total.jobs - r->total.realised);
	html_card(b, "jobs", v.data, note.data);
	buf_reset(&v);
	html_num(&v, r->total.energy_kwh);
	html_card(b, "energy", v.data, "kWh of IT energy");
	buf_reset(&v);
	html_num(&v, r->total.emissions_g / u.div);
	buf_addf(&v, " %s", u.name);
	html_card(b, "emitted", v.data, "CO&#8322;eq");
	buf_reset(&v);
	buf_reset(&note);
	html_num(&v, r->total.saving_g / u.div);
	buf_addf(&v, " %s", u.name);
	html_pct(&note, sum_saving_pct(&r->total));
	buf_adds(&note, " of the baseline");
	html_card(b, "saved", v.data, note.data);
	buf_reset(&v);
	html_abs_pct(&v, sum_abs_err(&r->total));
	html_card(b, "forecast error", v.data, "mean absolute, intensity planned vs realised");
	buf_release(&note);
	buf_release(&v);
	buf_adds(b, "</div>\n");

	if (!r->total.jobs) {
		buf_adds(b, "<p class=\"muted\">No job ran or was planned in this period.</p>\n");
	} else {
		buf_adds(b, "<h2>Per day</h2>\n<figure>");
		chart_days(r, u, b);
		buf_adds(b, "<figcaption>What the jobs starting each day emitted, beside what they would "
			    "have emitted "
			    "run at once in their origin region.</figcaption></figure>\n");
		html_sum_table(b, "day", r->days, r->ndays, u, &r->total);
		buf_adds(b, "<h2>Per region</h2>\n<figure>");
		chart_regions(r, u, b);
		buf_adds(
		    b, "<figcaption>Where the jobs ran; the baseline is counted where they ran, though it is "
		       "computed for their origin region.</figcaption></figure>\n");
		html_sum_table(b, "region", r->regions, r->nregions, u, &r->total);
	}
	if (r->njobs) {
		buf_addf(
		    b,
		    "<h2>Per job</h2>\n<table><thead><tr><th class=\"l\">start</th><th class=\"l\">job</th>"
		    "<th class=\"l\">state</th><th class=\"l\">origin &rarr; region</th><th>energy kWh</th>"
		    "<th>emitted %s</th><th>baseline %s</th><th>saved</th><th>forecast "
		    "error</th></tr></thead>"
		    "<tbody>\n",
		    u.name, u.name);
		for (size_t i = 0; i < r->njobs && i < REPORT_HTML_MAX_JOBS; i++) {
			const struct report_job *j = &r->jobs[i];
			double e = report_job_emissions(j), bl = report_job_baseline(j);
			char ts[TS_BUFSZ];

			ts_format(j->start, ts);
			ts[16] = '\0';
			ts[10] = ' ';
			buf_addf(b, "<tr%s><td>%s</td><td class=\"name\">",
				 report_job_counts(j) ? "" : " class=\"muted\"", ts);
			html_text(b, j->name[0] ? j->name : j->id);
			buf_addf(b, "</td><td class=\"l\">%s%s</td><td class=\"l\">", j->state,
				 report_job_realised(j) ? "" : (report_job_counts(j) ? " (planned)" : ""));
			html_text(b, j->origin[0] ? j->origin : "?");
			buf_adds(b, " &rarr; ");
			html_text(b, j->region[0] ? j->region : "?");
			buf_adds(b, "</td><td>");
			html_num(b, report_job_energy(j));
			/* A job that does not count emitted nothing that is counted. */
			if (!report_job_counts(j))
				e = bl = NAN;
			buf_adds(b, "</td><td>");
			html_num(b, e / u.div);
			buf_adds(b, "</td><td>");
			html_num(b, bl / u.div);
			buf_adds(b, "</td><td>");
			html_pct(b, bl > 0 ? (bl - e) / bl * 100 : NAN);
			buf_adds(b, "</td><td>");
			html_pct(b, report_job_forecast_error(j));
			buf_adds(b, "</td></tr>\n");
		}
		buf_adds(b, "</tbody></table>\n");
		if (r->njobs > REPORT_HTML_MAX_JOBS)
			buf_addf(b,
				 "<p class=\"muted\">%zu more jobs are in the CSV and JSON forms of this "
				 "report.</p>\n",
				 r->njobs - REPORT_HTML_MAX_JOBS);
	}
	buf_adds(b,
		 "<h2>How to read this</h2>\n<p class=\"muted\">Emitted: from the measured energy and the "
		 "carbon intensity that really happened where a job has completed with realised figures, "
		 "else as planned. Baseline: the same job run at once in its origin region. Saved: baseline "
		 "minus emitted. Forecast error: the carbon intensity the plan expected against the one "
		 "realised (bias: the signed mean; error: the mean absolute). Cancelled jobs are listed in "
		 "grey and not counted. Times are UTC.</p>\n</body></html>\n");
}

void report_render(const struct report *r, enum report_format f, struct buf *out)
{
	switch (f) {
	case REPORT_CSV: render_csv(r, out); break;
	case REPORT_JSON: render_json(r, out); break;
	case REPORT_HTML: render_html(r, out); break;
	}
}

/* --- the output file ------------------------------------------------------------------------- */

int report_write_atomic(const char *path, const char *data, size_t len, struct err_detail *err)
{
	char *tmp = xmalloc(strlen(path) + 16), *dcopy = xstrdup(path);
	const char *dir = dirname(dcopy);
	mode_t mask = umask(0);
	int fd, dfd, rc = ERR_OK;
	size_t done = 0;

	umask(mask);
	sprintf(tmp, "%s.tmp-XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		rc = err_set(err, ERR_IO, "out", "cannot create a file in the directory of %s: %s", path,
			     strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = err_set(err, ERR_IO, "out", "cannot write %s: %s", tmp, strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	/* mkstemp makes 0600; a report is as readable as any new file. */
	if (!rc && fchmod(fd, 0666 & ~mask))
		rc = err_set(err, ERR_IO, "out", "cannot chmod %s: %s", tmp, strerror(errno));
	if (!rc && fsync(fd))
		rc = err_set(err, ERR_IO, "out", "cannot fsync %s: %s", tmp, strerror(errno));
	if (close(fd) && !rc)
		rc = err_set(err, ERR_IO, "out", "cannot close %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path))
		rc = err_set(err, ERR_IO, "out", "cannot replace %s: %s", path, strerror(errno));
	if (rc) {
		unlink(tmp);
		goto out;
	}
	/* The rename itself is durable once the directory is. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(tmp);
	free(dcopy);
	return rc;
}
