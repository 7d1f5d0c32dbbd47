/*
 * cmd_backtest.c - 'carbonsched backtest': score the forecasting models on
 * a data file with the rolling-origin protocol of forecasters/backtest.h.
 *
 * This file only does the I/O: it reads the files (connectors/files.h),
 * picks the target series and the exogenous ones of the zone, lays them
 * on one hourly grid, runs fc_backtest and prints a table or JSON.  Each
 * --file pairs with the --format given after it (or, when a --format
 * comes first, the one before); a format ending in "-forecast" holds a
 * provider's published forecasts, which are scored as one more row.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/files.h"
#include "core/mem.h"
#include "core/signal.h"
#include "core/time.h"
#include "forecasters/backtest.h"
#include "service/commands.h"

#define MAX_FILES  8
#define MAX_MODELS 16

static const char usage[] =
    "usage: carbonsched backtest --file F --format FMT [--file F --format FMT ...]\n"
    "                            [--weather-file F] [--zone Z] [--kind K] --from D --to D\n"
    "                            [--train-from D] [--horizon 24h|96h] [--models LIST] [--json]\n"
    "\n"
    "Rolling-origin backtest of the forecasting models: one forecast issued at 00:00 UTC on each\n"
    "day from --from to --to (inclusive); before each, every model is refitted on the data strictly\n"
    "before the issue time (weather-forecast columns are used as known at issue time).\n"
    "\n"
    "  --file F, --format FMT  a data file and its format (formats: see below); repeat for more files,\n"
    "                          e.g. DACF's DE mix plus the file holding DE's weather forecasts\n"
    "  --weather-file F        same as --file F --format dacf-weather\n"
    "  --zone Z                the zone to score (default: every zone with a target series)\n"
    "  --kind K                the target: carbon_intensity (default: the file's own intensity\n"
    "                          column - direct for the DACF files), any signal kind, or\n"
    "                          direct_from_mix (direct intensity recomputed from the generation mix\n"
    "                          with the DACF factors: coal 760, gas 370, oil 406, unknown 575)\n"
    "  --from D, --to D        first and last issue day, YYYY-MM-DD (UTC)\n"
    "  --train-from D          ignore data before this day (default: use all of it)\n"
    "  --horizon H             24h (default) or 96h\n"
    "  --models LIST           comma-separated, default snaive24,snaive168,ewma,dshw,ridge,ensemble\n"
    "  --job DUR, --window DUR decision quality job length and window (default 4h, 24h)\n"
    "  --json                  print JSON instead of the table\n"
    "\n"
    "Scores, per model and per forecast day: MAPE = mean over issue days of the daily MAPE (the DACF\n"
    "paper's measure); MAE and RMSE; cov80 = share of actuals inside the 80 %% interval (p10..p90);\n"
    "captured = decision quality: each issue day a job of 4 h may start at any hour such that it ends\n"
    "within 24 h of the issue time; it is placed at the start that is cheapest under the forecast and\n"
    "charged the actual intensity.  captured = 100 x sum(E_now - E_forecast) / sum(E_now - E_oracle),\n"
    "where E_now runs it at the issue time and E_oracle at the start that is cheapest under the\n"
    "actuals: 100 is perfect foresight, 0 no better than running at once, negative is worse.\n";

struct input_file {
	const char *path, *format;
};

struct opts {
	struct input_file files[MAX_FILES];
	size_t nfiles;
	const char *zone, *kind;
	int64_t from, to, train_from;
	size_t horizon;
	const char *models[MAX_MODELS];
	size_t nmodels;
	char *models_buf;
	int64_t job, window;
	bool json;
};

static int parse_day(const char *s, const char *field, int64_t *ret)
{
	char buf[32];
	int64_t t;

	/* a bare date means its midnight */
	snprintf(buf, sizeof(buf), strlen(s) == 10 ? "%s 00:00:00" : "%s", s);
	if (!ts_parse_loose(buf, strlen(buf), &t)) {
		fprintf(stderr, "carbonsched backtest: %s: '%s' is not a date (YYYY-MM-DD)\n", field, s);
		return -1;
	}
	*ret = ts_floor(t, TS_DAY);
	return 0;
}

static int add_file(struct opts *o, const char *path, const char *format)
{
	if (o->nfiles == MAX_FILES) {
		fprintf(stderr, "carbonsched backtest: at most %d files\n", MAX_FILES);
		return -1;
	}
	o->files[o->nfiles].path = path;
	o->files[o->nfiles].format = format;
	o->nfiles++;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'},
	    {"weather-file", required_argument, NULL, 'W'},
	    {"zone", required_argument, NULL, 'z'},
	    {"kind", required_argument, NULL, 'k'},
	    {"from", required_argument, NULL, 's'},
	    {"to", required_argument, NULL, 'e'},
	    {"train-from", required_argument, NULL, 't'},
	    {"horizon", required_argument, NULL, 'H'},
	    {"models", required_argument, NULL, 'm'},
	    {"job", required_argument, NULL, 'j'},
	    {"window", required_argument, NULL, 'w'},
	    {"json", no_argument, NULL, 'J'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *pending_path = NULL, *pending_format = NULL;
	bool have_from = false, have_to = false;
	struct err_detail err;
	int64_t d;
	int c;

	memset(o, 0, sizeof(*o));
	o->horizon = 24;
	o->job = 4 * TS_HOUR;
	o->window = TS_DAY;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (pending_path) {
				fprintf(stderr, "carbonsched backtest: --file '%s' has no --format\n",
					pending_path);
				return EXIT_USAGE;
			}
			if (pending_format) {
				if (add_file(o, optarg, pending_format))
					return EXIT_USAGE;
				pending_format = NULL;
			} else {
				pending_path = optarg;
			}
			break;
		case 'F':
			if (pending_path) {
				if (add_file(o, pending_path, optarg))
					return EXIT_USAGE;
				pending_path = NULL;
			} else if (pending_format) {
				fprintf(stderr, "carbonsched backtest: --format '%s' has no --file\n",
					pending_format);
				return EXIT_USAGE;
			} else {
				pending_format = optarg;
			}
			break;
		case 'W':
			if (add_file(o, optarg, "dacf-weather"))
				return EXIT_USAGE;
			break;
		case 'z': o->zone = optarg; break;
		case 'k': o->kind = optarg; break;
		case 's':
			if (parse_day(optarg, "--from", &o->from))
				return EXIT_USAGE;
			have_from = true;
			break;
		case 'e':
			if (parse_day(optarg, "--to", &o->to))
				return EXIT_USAGE;
			have_to = true;
			break;
		case 't':
			if (parse_day(optarg, "--train-from", &o->train_from))
				return EXIT_USAGE;
			break;
		case 'H':
			if (ts_parse_duration(optarg, "--horizon", &d, &err) || d % TS_HOUR || d < TS_HOUR ||
			    d > FC_MAX_HORIZON_DAYS * TS_DAY) {
				fprintf(
				    stderr,
				    "carbonsched backtest: --horizon: expected 1h to %dh, e.g. 24h or 96h\n",
				    FC_MAX_HORIZON_DAYS * 24);
				return EXIT_USAGE;
			}
			o->horizon = (size_t)(d / TS_HOUR);
			break;
		case 'm': {
			char *save = NULL;

			free(o->models_buf);
			o->models_buf = xstrdup(optarg);
			o->nmodels = 0;
			for (char *tok = strtok_r(o->models_buf, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (o->nmodels == MAX_MODELS || !fc_model_summary(tok)) {
					fprintf(stderr,
						"carbonsched backtest: --models: unknown model '%s' (known:",
						tok);
					for (size_t i = 0; fc_model_names[i]; i++)
						fprintf(stderr, " %s", fc_model_names[i]);
					fprintf(stderr, ")\n");
					return EXIT_USAGE;
				}
				o->models[o->nmodels++] = tok;
			}
			break;
		}
		case 'j':
		case 'w':
			if (ts_parse_duration(optarg, c == 'j' ? "--job" : "--window", &d, &err) ||
			    d % TS_HOUR) {
				fprintf(stderr, "carbonsched backtest: %s: expected whole hours, e.g. 4h\n",
					c == 'j' ? "--job" : "--window");
				return EXIT_USAGE;
			}
			*(c == 'j' ? &o->job : &o->window) = d;
			break;
		case 'J': o->json = true; break;
		case 'h': fputs(usage, stdout); return -1;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (pending_path || pending_format) {
		fprintf(stderr, "carbonsched backtest: every --file needs a --format\n");
		return EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "carbonsched backtest: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o->nfiles || !have_from || !have_to) {
		fprintf(stderr, "carbonsched backtest: --file, --format, --from and --to are required\n%s",
			usage);
		return EXIT_USAGE;
	}
	if (o->to < o->from) {
		fprintf(stderr, "carbonsched backtest: --to is before --from\n");
		return EXIT_USAGE;
	}
	if (o->job > o->window || o->window > (int64_t)o->horizon * TS_HOUR) {
		fprintf(stderr, "carbonsched backtest: need --job <= --window <= --horizon\n");
		return EXIT_USAGE;
	}
	if (!o->nmodels)
		for (size_t i = 0; fc_model_names[i] && o->nmodels < MAX_MODELS; i++)
			o->models[o->nmodels++] = fc_model_names[i];
	return 0;
}

static bool is_forecast_format(const char *format)
{
	size_t n = strlen(format);

	return n > 9 && !strcmp(format + n - 9, "-forecast");
}

/* Exogenous kinds given to the models: forecasts known ahead (weather)
 * and observed series (the mix). */
static const char *const weather_kinds[] = {"wind_speed", "solar_irradiance", "temperature", "dewpoint",
					    "precipitation"};

struct zone_data {
	struct series y; /* hourly target on the grid */
	size_t n_exo;
	struct fc_exo exo[32];
	struct series exo_s[32];
	size_t n_ext;
	struct fc_bt_external ext[4];
	struct series ext_s[4];
	char ext_name[4][24];
	char kind[48];
};

static void zone_data_release(struct zone_data *z)
{
	series_release(&z->y);
	for (size_t i = 0; i < z->n_exo; i++)
		series_release(&z->exo_s[i]);
	for (size_t i = 0; i < z->n_ext; i++)
		series_release(&z->ext_s[i]);
}

/* An hourly copy of s on [from, to). */
static int hourly_slice(const struct series *s, int64_t from, int64_t to, struct series *ret)
{
	struct series h;

	if (s->step == TS_HOUR) {
		series_slice(s, from, to, ret);
		return 0;
	}
	if (series_resample(s, TS_HOUR, &h))
		return -1;
	series_slice(&h, from, to, ret);
	series_release(&h);
	return 0;
}

/* Direct intensity recomputed from the zone's generation:* series. */
static int direct_from_mix(const struct sig_set *set, const char *zone, const struct series **gen_s,
			   struct series *ret)
{
	int64_t start = INT64_MAX, end = INT64_MIN;
	bool any = false;

	for (int f = 0; f < FUEL__COUNT; f++) {
		char kind[48];
		const struct sig_series *g;

		snprintf(kind, sizeof(kind), "generation:%s", sig_fuel_name((enum sig_fuel)f));
		g = sig_set_find(set, zone, kind);
		gen_s[f] = g && g->s.n ? &g->s : NULL;
		if (!gen_s[f])
			continue;
		any = true;
		if (gen_s[f]->start < start)
			start = gen_s[f]->start;
		if (series_end(gen_s[f]) > end)
			end = series_end(gen_s[f]);
	}
	if (!any)
		return -1;
	series_init(ret, ts_floor(start, TS_HOUR), TS_HOUR);
	for (int64_t t = ret->start; t < end; t += TS_HOUR) {
		double mix[FUEL__COUNT];

		for (int f = 0; f < FUEL__COUNT; f++)
			mix[f] = gen_s[f] ? series_at(gen_s[f], t) : NAN;
		series_push(ret, sig_intensity_from_mix(mix, FACTORS_DIRECT));
	}
	return 0;
}

static int build_zone(const struct opts *o, const struct sig_set *data, const struct sig_set *fcst,
		      const char *zone, struct zone_data *z, int64_t *ret_start)
{
	const struct sig_series *ts = NULL;
	const struct series *gen_s[FUEL__COUNT];
	struct series tmp;
	int64_t start, end, end_h;

	memset(z, 0, sizeof(*z));
	series_init(&tmp, 0, TS_HOUR);
	if (o->kind && !strcmp(o->kind, "direct_from_mix")) {
		if (direct_from_mix(data, zone, gen_s, &tmp)) {
			fprintf(
			    stderr,
			    "carbonsched backtest: zone '%s' has no generation columns for direct_from_mix\n",
			    zone);
			return -1;
		}
		snprintf(z->kind, sizeof(z->kind), "carbon_intensity_direct");
	} else {
		const char *k = o->kind ? o->kind : "carbon_intensity_direct";

		ts = sig_set_find(data, zone, k);
		if (!ts && !o->kind)
			ts = sig_set_find(data, zone, k = "carbon_intensity");
		if (!ts || !ts->s.n) {
			fprintf(stderr, "carbonsched backtest: zone '%s' has no '%s' series in the files\n",
				zone, o->kind ? o->kind : "carbon_intensity");
			return -1;
		}
		snprintf(z->kind, sizeof(z->kind), "%s", k);
		if (hourly_slice(&ts->s, ts_floor(ts->s.start, TS_HOUR), series_end(&ts->s), &tmp)) {
			fprintf(stderr,
				"carbonsched backtest: zone '%s': cannot resample '%s' to hourly steps\n",
				zone, k);
			return -1;
		}
	}
	start = tmp.start > o->train_from ? tmp.start : ts_ceil(o->train_from, TS_HOUR);
	end = series_end(&tmp);
	end_h = end + (int64_t)o->horizon * TS_HOUR;
	series_slice(&tmp, start, end, &z->y);
	series_release(&tmp);
	/* weather forecasts: known ahead; the mix: observed */
	for (size_t i = 0; i < data->n && z->n_exo < ARRAY_SIZE(z->exo); i++) {
		const struct sig_series *x = &data->items[i];
		bool weather = false, gen = !strncmp(x->kind, "generation:", 11);

		for (size_t k = 0; k < ARRAY_SIZE(weather_kinds); k++)
			weather |= !strcmp(x->kind, weather_kinds[k]);
		if (strcmp(x->zone, zone) || (!weather && !gen) || !x->s.n)
			continue;
		if (hourly_slice(&x->s, start, weather ? end_h : end, &z->exo_s[z->n_exo]))
			continue;
		z->exo[z->n_exo] =
		    (struct fc_exo){x->kind, weather, z->exo_s[z->n_exo].n, z->exo_s[z->n_exo].v};
		z->n_exo++;
	}
	for (size_t i = 0; i < fcst->n && z->n_ext < ARRAY_SIZE(z->ext); i++) {
		const struct sig_series *x = &fcst->items[i];

		/* a forecast file may carry the actuals too (source "file") */
		if (strcmp(x->zone, zone) || strcmp(x->kind, z->kind) || !x->s.n ||
		    !strcmp(x->source, "file"))
			continue;
		if (hourly_slice(&x->s, start, end_h, &z->ext_s[z->n_ext]))
			continue;
		snprintf(z->ext_name[z->n_ext], sizeof(z->ext_name[0]), "%s", x->source);
		/* published day-ahead forecasts: scored over their first day */
		z->ext[z->n_ext] = (struct fc_bt_external){z->ext_name[z->n_ext], z->ext_s[z->n_ext].v,
							   z->ext_s[z->n_ext].n, 24};
		z->n_ext++;
	}
	*ret_start = start;
	return 0;
}

static void progress(void *ctx, size_t done, size_t total)
{
	fprintf(stderr, "\rbacktest %s: %zu/%zu issue days", (const char *)ctx, done, total);
	if (done == total)
		fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

static void print_num(double v, int width, int prec)
{
	if (isfinite(v))
		printf(" %*.*f", width, prec, v);
	else
		printf(" %*s", width, "-");
}

static void print_table(const char *zone, const struct zone_data *z, const struct opts *o,
			const struct fc_bt_result *r)
{
	char a[TS_BUFSZ], b[TS_BUFSZ];
	size_t days = (o->horizon + 23) / 24;

	ts_format(o->from, a);
	ts_format(o->to, b);
	printf("zone %s  kind %s  issue days %zu (%.10s..%.10s, 00:00 UTC)  horizon %zuh  oracle saving %.1f "
	       "%%\n",
	       zone, z->kind, r->issues, a, b, o->horizon, r->oracle_saving);
	printf("%-10s %7s", "model", "MAPE");
	if (days > 1)
		for (size_t d = 0; d < days; d++)
			printf("   d%zu  ", d + 1);
	printf(" %8s %8s %6s %8s %7s\n", "MAE", "RMSE", "cov80", "captured", "time_s");
	for (size_t i = 0; i < r->n_models; i++) {
		const struct fc_bt_model *m = &r->models[i];

		printf("%-10s", m->name);
		print_num(m->mape, 7, 2);
		if (days > 1)
			for (size_t d = 0; d < days; d++)
				print_num(d < m->n_by_day ? m->by_day[d].mape : NAN, 6, 2);
		print_num(m->mae, 8, 2);
		print_num(m->rmse, 8, 2);
		print_num(m->coverage80, 6, 1);
		print_num(m->captured_saving, 8, 1);
		print_num(m->seconds, 7, 2);
		if (m->failures)
			printf("  (%zu failed)", m->failures);
		printf("\n");
	}
}

static json_t *num(double v)
{
	return isfinite(v) ? json_real(round(v * 1e4) / 1e4) : json_null();
}

static json_t *to_json(const char *zone, const struct zone_data *z, const struct opts *o,
		       const struct fc_bt_result *r)
{
	json_t *root = json_object(), *models = json_array();
	char a[TS_BUFSZ], b[TS_BUFSZ];

	json_object_set_new(root, "zone", json_string(zone));
	json_object_set_new(root, "kind", json_string(z->kind));
	json_object_set_new(root, "from", json_string(ts_format(o->from, a)));
	json_object_set_new(root, "to", json_string(ts_format(o->to, b)));
	json_object_set_new(root, "horizon_hours", json_integer((json_int_t)o->horizon));
	json_object_set_new(root, "issues", json_integer((json_int_t)r->issues));
	json_object_set_new(root, "oracle_saving", num(r->oracle_saving));
	for (size_t i = 0; i < r->n_models; i++) {
		const struct fc_bt_model *m = &r->models[i];
		json_t *jm = json_object(), *days = json_array();

		json_object_set_new(jm, "name", json_string(m->name));
		json_object_set_new(jm, "mape", num(m->mape));
		json_object_set_new(jm, "mae", num(m->mae));
		json_object_set_new(jm, "rmse", num(m->rmse));
		json_object_set_new(jm, "coverage80", num(m->coverage80));
		json_object_set_new(jm, "captured_saving", num(m->captured_saving));
		json_object_set_new(jm, "seconds", num(m->seconds));
		json_object_set_new(jm, "failures", json_integer((json_int_t)m->failures));
		for (size_t d = 0; d < m->n_by_day; d++) {
			const struct fc_bt_day *bd = &m->by_day[d];
			json_t *jd = json_object();

			json_object_set_new(jd, "day", json_integer((json_int_t)d + 1));
			json_object_set_new(jd, "mape", num(bd->mape));
			json_object_set_new(jd, "mape_median", num(bd->mape_median));
			json_object_set_new(jd, "mape_p90", num(bd->mape_p90));
			json_object_set_new(jd, "mae", num(bd->mae));
			json_object_set_new(jd, "rmse", num(bd->rmse));
			json_object_set_new(jd, "coverage80", num(bd->coverage80));
			json_object_set_new(jd, "days", json_integer((json_int_t)bd->days));
			json_array_append_new(days, jd);
		}
		json_object_set_new(jm, "by_day", days);
		json_array_append_new(models, jm);
	}
	json_object_set_new(root, "models", models);
	return root;
}

/* Zones that have a target: every zone of the data, in file order. */
static size_t list_zones(const struct sig_set *data, const char **zones, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < data->n; i++) {
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen |= !strcmp(zones[k], data->items[i].zone);
		if (!seen && n < max)
			zones[n++] = data->items[i].zone;
	}
	return n;
}

int cmd_backtest(int argc, char **argv)
{
	struct sig_set data, fcst;
	struct opts o;
	struct err_detail err;
	const char **zones = NULL;
	size_t nzones;
	json_t *jall = NULL;
	int rc = parse_args(argc, argv, &o), status = 0;

	if (rc)
		return rc < 0 ? 0 : rc;
	sig_set_init(&data);
	sig_set_init(&fcst);
	for (size_t i = 0; i < o.nfiles; i++) {
		struct sig_set one;
		struct sig_set *into = is_forecast_format(o.files[i].format) ? &fcst : &data;

		memset(&err, 0, sizeof(err));
		rc = files_read(o.files[i].path, o.files[i].format, NULL, &one, &err);
		if (rc) {
			fprintf(stderr, "carbonsched backtest: %s: %s\n", o.files[i].path, err.msg);
			sig_set_release(&one);
			status = 1;
			goto out;
		}
		/* move the series into the merged set (later files win on a clash) */
		for (size_t k = 0; k < one.n; k++) {
			struct sig_series *it = &one.items[k];
			struct series *dst = sig_set_get(into, it->zone, it->kind, it->source, it->s.step);

			series_release(dst);
			*dst = it->s;
			series_init(&it->s, 0, TS_HOUR);
		}
		sig_set_release(&one);
	}
	zones = xcalloc(data.n + 1, sizeof(*zones));
	if (o.zone) {
		zones[0] = o.zone;
		nzones = 1;
	} else {
		nzones = list_zones(&data, zones, data.n);
	}
	if (o.json && nzones > 1)
		jall = json_array();
	for (size_t zi = 0; zi < nzones; zi++) {
		struct zone_data z;
		struct fc_bt_result r;
		struct fc_bt_options bo = {0};
		struct fc_input in = {0};
		int64_t start;

		if (build_zone(&o, &data, &fcst, zones[zi], &z, &start)) {
			zone_data_release(&z);
			if (o.zone || nzones == 1)
				status = 1;
			continue;
		}
		in.start = start;
		in.step = TS_HOUR;
		in.n = z.y.n;
		in.y = z.y.v;
		in.n_exo = z.n_exo;
		in.exo = z.exo;
		bo.from = o.from;
		bo.to = o.to + TS_DAY;
		bo.horizon = o.horizon;
		bo.job_steps = (size_t)(o.job / TS_HOUR);
		bo.window_steps = (size_t)(o.window / TS_HOUR);
		bo.models = o.models;
		bo.n_models = o.nmodels;
		bo.ext = z.ext;
		bo.n_ext = z.n_ext;
		if (isatty(STDERR_FILENO)) {
			bo.progress = progress;
			bo.progress_ctx = (void *)zones[zi];
		}
		memset(&err, 0, sizeof(err));
		rc = fc_backtest(&in, &bo, &r, &err);
		if (rc) {
			fprintf(stderr, "carbonsched backtest: zone '%s': %s%s%s\n", zones[zi], err.field,
				err.field[0] ? ": " : "", err.msg);
			status = 1;
			zone_data_release(&z);
			continue;
		}
		if (o.json) {
			json_t *j = to_json(zones[zi], &z, &o, &r);

			if (jall) {
				json_array_append_new(jall, j);
			} else {
				json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
				printf("\n");
				json_decref(j);
			}
		} else {
			print_table(zones[zi], &z, &o, &r);
			if (zi + 1 < nzones)
				printf("\n");
		}
		fc_bt_result_release(&r);
		zone_data_release(&z);
	}
	if (jall) {
		json_dumpf(jall, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
		printf("\n");
		json_decref(jall);
	}
out:
	free(zones);
	free(o.models_buf);
	sig_set_release(&data);
	sig_set_release(&fcst);
	return status;
}
