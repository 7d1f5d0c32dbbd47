/* forecasters/backtest on the shared DACF data (skips when absent).
 *
 * A small loader of the DACF CSV columns lives here so the test does not
 * depend on the file readers; 'carbonsched backtest' itself reads through
 * connectors/files.h. */
#include <stdlib.h>

#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"
#include "forecasters/backtest.h"
#include "tests/lib/testlib.h"

#define MAXCOL 40

struct table {
	int64_t start;
	size_t n;
	char *names[MAXCOL];
	double *col[MAXCOL];
	int ncol;
};

static void table_free(struct table *t)
{
	for (int i = 0; i < t->ncol; i++) {
		free(t->names[i]);
		free(t->col[i]);
	}
}

/* Hourly rows from 'from' on; column 1 is the time. */
static int load(const char *path, struct table *t)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *fl[MAXCOL];
	size_t cap = 0, rows_cap = 0;
	ssize_t len;
	int nf;

	memset(t, 0, sizeof(*t));
	if (!f)
		return -1;
	len = getline(&line, &cap, f);
	if (len <= 0) {
		fclose(f);
		free(line);
		return -1;
	}
	csv_chomp(line, (size_t)len);
	nf = csv_split(line, fl, MAXCOL);
	for (int i = 0; i < nf && i < MAXCOL; i++)
		t->names[i] = xstrdup(fl[i]);
	t->ncol = nf < MAXCOL ? nf : MAXCOL;
	while ((len = getline(&line, &cap, f)) > 0) {
		int64_t ts;
		size_t i;

		csv_chomp(line, (size_t)len);
		if (csv_split(line, fl, MAXCOL) != t->ncol || !ts_parse_loose(fl[1], strlen(fl[1]), &ts))
			continue;
		if (!t->n)
			t->start = ts;
		i = (size_t)((ts - t->start) / 3600);
		if (i >= rows_cap) {
			size_t old = rows_cap;

			rows_cap = rows_cap ? 2 * rows_cap : 32768;
			while (rows_cap <= i)
				rows_cap *= 2;
			for (int c = 0; c < t->ncol; c++) {
				t->col[c] = xrealloc(t->col[c], rows_cap * sizeof(double));
				for (size_t k = old; k < rows_cap; k++)
					t->col[c][k] = NAN;
			}
		}
		for (int c = 2; c < t->ncol; c++)
			if (!csv_double(fl[c], &t->col[c][i]))
				t->col[c][i] = NAN;
		if (i + 1 > t->n)
			t->n = i + 1;
	}
	free(line);
	fclose(f);
	return t->n ? 0 : -1;
}

static double *column(struct table *t, const char *name)
{
	for (int i = 0; i < t->ncol; i++)
		if (!strcmp(t->names[i], name))
			return t->col[i];
	return NULL;
}

static bool shared_path(char *buf, size_t len, const char *file)
{
	const char *dir = tl_shared_data();
	FILE *f;

	if (!dir)
		return false;
	snprintf(buf, len, "%s/dacf/%s", dir, file);
	f = fopen(buf, "r");
	if (f)
		fclose(f);
	return f != NULL;
}

/* Scoring DACF's own forecasts over the paper's test period must give its
 * Table 4 mean (3.30 % for PJM): checks the protocol and the MAPE. */
static void test_dacf_table4_reproduced(void)
{
	char path[4096];
	struct table act, fc;
	struct fc_bt_external ext;
	struct fc_bt_options bo = {0};
	struct fc_bt_result r;
	struct err_detail err = {0};
	struct fc_input in = {0};

	if (!shared_path(path, sizeof(path), "PJM_direct_emissions.csv")) {
		printf("\n  skipped: shared data (dacf/PJM_direct_emissions.csv) is absent\n");
		return;
	}
	TL_ASSERT_INT_EQ(load(path, &act), 0);
	TL_ASSERT(shared_path(path, sizeof(path), "PJM_carbon_from_src_prod_forecasts_direct.csv"));
	TL_ASSERT_INT_EQ(load(path, &fc), 0);
	{
		/* lay DACF's forecasts on the grid of the actuals */
		double *v = xmalloc(act.n * sizeof(double)), *src = column(&fc, "carbon_from_src_forecasts");
		size_t off = (size_t)((fc.start - act.start) / 3600);

		for (size_t i = 0; i < act.n; i++)
			v[i] = i >= off && i - off < fc.n ? src[i - off] : NAN;
		ext = (struct fc_bt_external){"dacf", v, act.n, 24};
		in = (struct fc_input){
		    .start = act.start, .step = 3600, .n = act.n, .y = column(&act, "carbon_intensity")};
		bo.from = ts_from_civil(2021, 7, 1, 0, 0, 0);
		bo.to = ts_from_civil(2022, 1, 1, 0, 0, 0);
		bo.horizon = 24;
		bo.ext = &ext;
		bo.n_ext = 1;
		TL_ASSERT_INT_EQ(fc_backtest(&in, &bo, &r, &err), ERR_OK);
		TL_ASSERT_INT_EQ(r.issues, 184);
		TL_ASSERT_INT_EQ(r.n_models, 1);
		TL_ASSERT_DBL_EQ(r.models[0].mape, 3.30, 0.005);
		TL_ASSERT_DBL_EQ(r.models[0].by_day[0].mape_median, 2.71, 0.005);
		TL_ASSERT_INT_EQ(r.models[0].days, 184);
		fc_bt_result_release(&r);
		free(v);
	}
	table_free(&act);
	table_free(&fc);
}

/* Two weeks of the protocol with the weather columns: the ridge must beat
 * seasonal naive, intervals must cover plausibly, nothing may fail. */
static void test_backtest_smoke(void)
{
	static const char *const wx[][2] = {
	    {"forecast_avg_wind_speed_wMean", "wind_speed"},
	    {"forecast_avg_dswrf_wMean", "solar_irradiance"},
	    {"forecast_avg_temperature_wMean", "temperature"},
	};
	static const char *const gen[][2] = {
	    {"coal", "generation:coal"}, {"nat_gas", "generation:gas"}, {"nuclear", "generation:nuclear"},
	    {"wind", "generation:wind"}, {"solar", "generation:solar"}, {"hydro", "generation:hydro"},
	};
	static const char *const models[] = {"snaive24", "ridge", "ensemble"};
	char path[4096];
	struct table act;
	struct fc_exo exo[9];
	struct fc_bt_options bo = {0};
	struct fc_bt_result r;
	struct err_detail err = {0};
	struct fc_input in;
	size_t ne = 0;

	if (!shared_path(path, sizeof(path), "PJM_direct_emissions.csv")) {
		printf("\n  skipped: shared data (dacf/PJM_direct_emissions.csv) is absent\n");
		return;
	}
	TL_ASSERT_INT_EQ(load(path, &act), 0);
	for (size_t i = 0; i < ARRAY_SIZE(wx); i++) {
		double *v = column(&act, wx[i][0]);

		TL_ASSERT(v != NULL);
		if (!strcmp(wx[i][1], "temperature"))
			for (size_t k = 0; k < act.n; k++)
				v[k] -= 273.15;
		exo[ne++] = (struct fc_exo){wx[i][1], true, act.n, v};
	}
	for (size_t i = 0; i < ARRAY_SIZE(gen); i++)
		exo[ne++] = (struct fc_exo){gen[i][1], false, act.n, column(&act, gen[i][0])};
	in = (struct fc_input){.start = act.start,
			       .step = 3600,
			       .n = act.n,
			       .y = column(&act, "carbon_intensity"),
			       .n_exo = ne,
			       .exo = exo};
	bo.from = ts_from_civil(2021, 7, 1, 0, 0, 0);
	bo.to = ts_from_civil(2021, 7, 15, 0, 0, 0);
	bo.horizon = 48;
	bo.models = models;
	bo.n_models = ARRAY_SIZE(models);
	TL_ASSERT_INT_EQ(fc_backtest(&in, &bo, &r, &err), ERR_OK);
	TL_ASSERT_INT_EQ(r.issues, 14);
	TL_ASSERT_INT_EQ(r.n_models, 3);
	for (size_t i = 0; i < r.n_models; i++) {
		TL_ASSERT_INT_EQ(r.models[i].failures, 0);
		TL_ASSERT_INT_EQ(r.models[i].n_by_day, 2);
		TL_ASSERT(r.models[i].coverage80 > 40 && r.models[i].coverage80 <= 100);
		TL_ASSERT(isfinite(r.models[i].captured_saving));
	}
	if (!(r.models[1].mape < r.models[0].mape))
		tl_fail(__LINE__, __FILE__, false, "ridge MAPE %.2f not below seasonal naive %.2f",
			r.models[1].mape, r.models[0].mape);
	TL_ASSERT(r.models[1].by_day[0].mape < r.models[1].by_day[1].mape + 1);
	TL_ASSERT(r.oracle_saving > 0);
	fc_bt_result_release(&r);
	/* errors a caller can reach */
	bo.from = act.start;
	TL_ASSERT_INT_EQ(fc_backtest(&in, &bo, &r, &err), ERR_UNPROCESSABLE);
	bo.from = ts_from_civil(2021, 7, 1, 0, 0, 0);
	bo.horizon = 200;
	TL_ASSERT_INT_EQ(fc_backtest(&in, &bo, &r, &err), ERR_INVALID);
	TL_ASSERT_STR_EQ(err.field, "horizon");
	table_free(&act);
}

static CU_TestInfo tests[] = {
    {"dacf table 4 reproduced", test_dacf_table4_reproduced},
    {"backtest smoke on shared data", test_backtest_smoke},
    CU_TEST_INFO_NULL,
};

TL_SUITE("forecast_backtest", NULL, NULL, tests)
