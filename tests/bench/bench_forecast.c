/*
 * bench_forecast.c - speed and accuracy of the forecasters on the
 * 123-zone Electricity Maps matrix of 2022 (Sukprasert et al.).
 *
 *   bench_forecast FILE                 fit + 96 h forecast for every zone
 *                                       and model, total seconds
 *   bench_forecast FILE --backtest Z,Z,Z --issues D,D,... --window DAYS
 *                                       96 h forecasts at each issue time,
 *                                       mean of daily MAPE, seconds; the
 *                                       same protocol as forecast_r.R runs
 *                                       with R's forecast package
 *
 * Output lines start with "forecast:" so tests/bench/run.sh can collect
 * them.  Timing is printed, never asserted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"
#include "forecasters/forecast.h"

#define MAXZ 200

struct matrix {
	int64_t start;
	size_t n, nz;
	char *zone[MAXZ];
	double *v[MAXZ];
};

static int load(const char *path, struct matrix *m)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *fl[MAXZ + 1];
	size_t cap = 0, rows = 0;
	ssize_t len;
	int nf;

	memset(m, 0, sizeof(*m));
	if (!f)
		return -1;
	if ((len = getline(&line, &cap, f)) <= 0)
		goto fail;
	csv_chomp(line, (size_t)len);
	nf = csv_split(line, fl, MAXZ + 1);
	if (nf < 2 || nf > MAXZ)
		goto fail;
	m->nz = (size_t)nf - 1;
	for (size_t z = 0; z < m->nz; z++)
		m->zone[z] = xstrdup(fl[z + 1]);
	while ((len = getline(&line, &cap, f)) > 0) {
		int64_t ts;

		csv_chomp(line, (size_t)len);
		if (csv_split(line, fl, MAXZ + 1) != nf || !ts_parse_loose(fl[0], strlen(fl[0]), &ts))
			continue;
		if (!m->n)
			m->start = ts;
		if (m->n == rows) {
			rows = rows ? 2 * rows : 8192;
			for (size_t z = 0; z < m->nz; z++)
				m->v[z] = xrealloc(m->v[z], rows * sizeof(double));
		}
		for (size_t z = 0; z < m->nz; z++)
			if (!csv_double(fl[z + 1], &m->v[z][m->n]))
				m->v[z][m->n] = NAN;
		m->n++;
	}
	free(line);
	fclose(f);
	return m->n ? 0 : -1;
fail:
	free(line);
	fclose(f);
	return -1;
}

static double seconds(int64_t t0)
{
	return (double)(ts_mono_ms() - t0) / 1000.0;
}

/* CPU seconds of this process: the machine is shared, wall time is not
 * one core's time. */
static double cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fit on the whole year and forecast 96 h, every zone, one model. */
static void all_zones(const struct matrix *m, const char *model)
{
	int64_t t0 = ts_mono_ms();
	double c0 = cpu();
	size_t ok = 0;

	for (size_t z = 0; z < m->nz; z++) {
		struct fc_model *fm;
		struct fc_forecast f;
		struct fc_input in = {.start = m->start, .step = 3600, .n = m->n, .y = m->v[z]};

		if (fc_model_new(model, NULL, &fm, NULL))
			continue;
		if (!fc_fit(fm, &in, NULL) && !fc_predict(fm, &in, 96, &f, NULL)) {
			ok++;
			fc_forecast_release(&f);
		}
		fc_model_free(fm);
	}
	printf("forecast: fit+96h %-10s %3zu/%zu zones %8.3f s wall %8.3f s cpu\n", model, ok, m->nz,
	       seconds(t0), cpu() - c0);
}

static int zone_index(const struct matrix *m, const char *name)
{
	for (size_t z = 0; z < m->nz; z++)
		if (!strcmp(m->zone[z], name))
			return (int)z;
	return -1;
}

/* 96 h forecasts at each issue time; window = days of history given to the
 * model (0 = everything before the issue time). */
static void backtest(const struct matrix *m, char *zones, char *issues, int window_days)
{
	static const char *const models[] = {"snaive24", "ewma", "dshw", "ridge", "ensemble"};
	char *zs = NULL, *is = NULL;

	for (char *zn = strtok_r(zones, ",", &zs); zn; zn = strtok_r(NULL, ",", &zs)) {
		int z = zone_index(m, zn);

		if (z < 0) {
			printf("forecast: zone %s not in the matrix\n", zn);
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(models); k++) {
			char buf[4096];
			double sum = 0;
			size_t days = 0, fails = 0;
			int64_t t0 = ts_mono_ms();

			snprintf(buf, sizeof(buf), "%s", issues);
			for (char *d = strtok_r(buf, ",", &is); d; d = strtok_r(NULL, ",", &is)) {
				char when[32];
				int64_t t;
				size_t o, from;
				struct fc_model *fm;
				struct fc_forecast f;
				struct fc_input in;

				snprintf(when, sizeof(when), "%s 00:00:00", d);
				if (!ts_parse_loose(when, strlen(when), &t) || t <= m->start)
					continue;
				o = (size_t)((t - m->start) / 3600);
				if (o + 96 > m->n)
					continue;
				from = window_days && o > (size_t)window_days * 24
					   ? o - (size_t)window_days * 24
					   : 0;
				in = (struct fc_input){.start = m->start + (int64_t)from * 3600,
						       .step = 3600,
						       .n = o - from,
						       .y = m->v[z] + from};
				fc_model_new(models[k], NULL, &fm, NULL);
				if (fc_fit(fm, &in, NULL) || fc_predict(fm, &in, 96, &f, NULL)) {
					fails++;
					fc_model_free(fm);
					continue;
				}
				for (size_t day = 0; day < 4; day++) {
					double s = 0;

					for (size_t h = day * 24; h < day * 24 + 24; h++)
						s += fabs(f.p50[h] - m->v[z][o + h]) / m->v[z][o + h];
					sum += 100 * s / 24;
					days++;
				}
				fc_forecast_release(&f);
				fc_model_free(fm);
			}
			if (days)
				printf("forecast: backtest %-12s C   %-10s history %-8s MAPE96 %6.2f %% "
				       "%8.3f s\n",
				       zn, models[k], window_days ? "window" : "all", sum / (double)days,
				       seconds(t0));
			else
				printf("forecast: backtest %-12s C   %-10s history %-8s MAPE96    n/a (%zu "
				       "failed)\n",
				       zn, models[k], window_days ? "window" : "all", fails);
		}
	}
}

int main(int argc, char **argv)
{
	struct matrix m;

	if (argc < 2) {
		fprintf(stderr,
			"usage: bench_forecast FILE [--backtest ZONES --issues DATES --window DAYS]\n");
		return 2;
	}
	if (load(argv[1], &m)) {
		fprintf(stderr, "bench_forecast: cannot read %s\n", argv[1]);
		return 1;
	}
	if (argc >= 8 && !strcmp(argv[2], "--backtest") && !strcmp(argv[4], "--issues") &&
	    !strcmp(argv[6], "--window")) {
		char *zones = xstrdup(argv[3]);
		int window = atoi(argv[7]);

		backtest(&m, zones, argv[5], 0);
		free(zones);
		zones = xstrdup(argv[3]);
		if (window > 0)
			backtest(&m, zones, argv[5], window);
		free(zones);
	} else {
		printf("forecast: %zu zones x %zu hours (%s)\n", m.nz, m.n, argv[1]);
		for (size_t i = 0; fc_model_names[i]; i++)
			all_zones(&m, fc_model_names[i]);
	}
	for (size_t z = 0; z < m.nz; z++) {
		free(m.zone[z]);
		free(m.v[z]);
	}
	return 0;
}
