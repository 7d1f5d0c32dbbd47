/*
 * mkdemo.c - derive the bundled demo data from the DACF data set.
 *
 * Run by data/demo/generate.sh (see README.md there); not part of the
 * build.  Writes one file in the 'dacf' layout to stdout:
 *
 *   mkdemo trim R_direct_emissions.csv
 *       UTC time, carbon_intensity, the fuel columns and the five weather
 *       columns, copied as text; the index and the avg_*_production_forecast
 *       columns (another model's output) are dropped.
 *   mkdemo de DE_2019_clean.csv DE_coal_2019_clean.csv
 *       the same layout for Germany, which DACF ships differently: the mix of
 *       DE_2019_clean divided by 4 (MW), the direct intensity recomputed from
 *       that mix with the emission factors of core/signal.h (DACF's Table 1)
 *       and rounded to 0.01 like the other zones, the weather columns of
 *       DE_coal_2019_clean copied as text.  Both through connectors/files
 *       ('dacf-de'), so the derivation is the one the service uses.
 *
 * Rows from 2020-01-01 00:00 to 2021-12-31 23:00 UTC; times written as
 * "YYYY-MM-DD HH:MM:SS" (UTC, as in the other DACF files).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/files.h"
#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"

#define MAX_FIELDS 64

static const char *const weather[] = {
    "forecast_avg_wind_speed_wMean", "forecast_avg_temperature_wMean",	 "forecast_avg_dewpoint_wMean",
    "forecast_avg_dswrf_wMean",	     "forecast_avg_precipitation_wMean",
};

static int64_t from, to; /* [from, to) */

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mkdemo: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static int column(char **f, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(f[i], name))
			return i;
	return -1;
}

static void print_time(int64_t t)
{
	struct ts_civil c;

	ts_to_civil(t, &c);
	printf("%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute, c.second);
}

/* Shortest "%.Ng" without an exponent that reads back as v. */
static void print_number(double v)
{
	char s[40];

	for (int p = 1; p <= 17; p++) {
		snprintf(s, sizeof(s), "%.*g", p, v);
		if (!strchr(s, 'e') && strtod(s, NULL) == v)
			break;
	}
	fputs(s, stdout);
}

/* v rounded to 0.01 as DACF writes intensities: "275", "291.9", "279.13". */
static void print_centi(double v)
{
	char s[40];
	size_t n = (size_t)snprintf(s, sizeof(s), "%.2f", v);

	while (s[n - 1] == '0')
		s[--n] = '\0';
	if (s[n - 1] == '.')
		s[--n] = '\0';
	fputs(s, stdout);
}

static void trim(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *fld[MAX_FIELDS], *head = NULL;
	int keep[MAX_FIELDS], nkeep = 0, nh = 0, tcol = -1;
	size_t cap = 0;
	long rows = 0;

	if (!f)
		die("cannot open %s", path);
	while (getline(&line, &cap, f) > 0) {
		int n;

		csv_chomp(line, strlen(line));
		if (!head) {
			head = xstrdup(line);
			nh = csv_split(head, fld, MAX_FIELDS);
			tcol = column(fld, nh, "UTC time");
			if (tcol < 0 || column(fld, nh, "carbon_intensity") < 0)
				die("%s: not a DACF direct emissions file", path);
			keep[nkeep++] = tcol;
			keep[nkeep++] = column(fld, nh, "carbon_intensity");
			for (int i = 0; i < nh; i++)
				if (sig_fuel_parse(fld[i]) >= 0)
					keep[nkeep++] = i;
			for (size_t w = 0; w < sizeof(weather) / sizeof(weather[0]); w++) {
				keep[nkeep] = column(fld, nh, weather[w]);
				if (keep[nkeep++] < 0)
					die("%s: a weather column is missing", path);
			}
			for (int k = 0; k < nkeep; k++)
				printf("%s%s", k ? "," : "", fld[keep[k]]);
			putchar('\n');
			continue;
		}
		n = csv_split(line, fld, MAX_FIELDS);
		int64_t t;
		if (n != nh || !ts_parse_loose(fld[tcol], strlen(fld[tcol]), &t))
			die("%s: bad row", path);
		if (t < from || t >= to)
			continue;
		print_time(t);
		for (int k = 1; k < nkeep; k++)
			printf(",%s", fld[keep[k]]);
		putchar('\n');
		rows++;
	}
	if (rows != (to - from) / TS_HOUR)
		die("%s: rows missing in 2020-2021", path);
	free(line);
	free(head);
	fclose(f);
}

static void de(const char *mix_path, const char *weather_path)
{
	struct sig_set set;
	struct err_detail err;
	FILE *f = fopen(weather_path, "r");
	char *line = NULL, *fld[MAX_FIELDS], head[4096], *hf[MAX_FIELDS];
	const struct series *fuel[MAX_FIELDS];
	const char *fuel_name[MAX_FIELDS];
	int nfuel = 0, wcol[5], nh;
	size_t cap = 0;
	int64_t next = from;

	if (files_read(mix_path, "dacf-de", NULL, &set, &err))
		die("%s", err.msg);
	/* The fuels in DE_2019_clean's column order, with its names. */
	FILE *m = fopen(mix_path, "r");
	if (!m || !fgets(head, sizeof(head), m))
		die("cannot read %s", mix_path);
	fclose(m);
	csv_chomp(head, strlen(head));
	nh = csv_split(head, hf, MAX_FIELDS);
	for (int i = 0; i < nh; i++) {
		int fu = sig_fuel_parse(hf[i]);
		char kind[64];

		if (fu < 0)
			continue;
		snprintf(kind, sizeof(kind), "generation:%s", sig_fuel_name((enum sig_fuel)fu));
		struct sig_series *s = sig_set_find(&set, "DE", kind);
		if (!s)
			die("no series %s", kind);
		fuel[nfuel] = &s->s;
		fuel_name[nfuel++] = hf[i];
	}
	struct sig_series *direct = sig_set_find(&set, "DE", "carbon_intensity_direct");
	if (!direct)
		die("%s: no direct intensity", mix_path);

	printf("UTC time,carbon_intensity");
	for (int k = 0; k < nfuel; k++)
		printf(",%s", fuel_name[k]);
	for (int w = 0; w < 5; w++)
		printf(",%s", weather[w]);
	putchar('\n');

	if (!f)
		die("cannot open %s", weather_path);
	while (getline(&line, &cap, f) > 0) {
		int n;
		int64_t t;

		csv_chomp(line, strlen(line));
		n = csv_split(line, fld, MAX_FIELDS);
		if (next == from && column(fld, n, "UTC time") >= 0) { /* the header */
			for (int w = 0; w < 5; w++)
				if ((wcol[w] = column(fld, n, weather[w])) < 0)
					die("%s: a weather column is missing", weather_path);
			nh = n;
			continue;
		}
		if (n != nh || !ts_parse_loose(fld[1], strlen(fld[1]), &t))
			die("%s: bad row", weather_path);
		if (t < from || t >= to)
			continue;
		if (t != next)
			die("%s: rows are not hourly", weather_path);
		if (isnan(series_at(&direct->s, t)))
			die("%s: an hour without generation", mix_path);
		print_time(t);
		putchar(',');
		print_centi(series_at(&direct->s, t));
		for (int k = 0; k < nfuel; k++) {
			putchar(',');
			print_number(series_at(fuel[k], t));
		}
		for (int w = 0; w < 5; w++)
			printf(",%s", fld[wcol[w]]);
		putchar('\n');
		next += TS_HOUR;
	}
	if (next != to)
		die("%s: rows missing in 2020-2021", weather_path);
	free(line);
	fclose(f);
	sig_set_release(&set);
}

int main(int argc, char **argv)
{
	from = ts_from_civil(2020, 1, 1, 0, 0, 0);
	to = ts_from_civil(2022, 1, 1, 0, 0, 0);
	if (argc == 3 && !strcmp(argv[1], "trim"))
		trim(argv[2]);
	else if (argc == 4 && !strcmp(argv[1], "de"))
		de(argv[2], argv[3]);
	else
		die("usage: mkdemo trim R_direct_emissions.csv | mkdemo de DE_2019_clean.csv "
		    "DE_coal_2019_clean.csv%s",
		    "");
	return fflush(stdout) ? 1 : 0;
}
