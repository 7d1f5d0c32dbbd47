/*
 * bench_files.c - how fast connectors/files.c reads the 123-zone matrix
 * (../shared/data/sukprasert-eurosys24, 8,760 rows x 123 zones = 1.08 M
 * points), against a reference measured in the same run: the same file
 * read, split into fields and converted with strtod, with no validation
 * and no series.  Prints the best of several runs; asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/files.h"
#include "core/csv.h"
#include "core/mem.h"
#include "core/time.h"
#include "tests/lib/testlib.h"

#define RUNS 7

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The reference: read, split, strtod; returns the number of values. */
static size_t reference(const char *path, double *ret_sum)
{
	FILE *f = fopen(path, "rb");
	char *buf, *fields[256];
	size_t len, n = 0;
	double sum = 0;

	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc(len + 1);
	if (fread(buf, 1, len, f) != len)
		len = 0;
	buf[len] = '\0';
	fclose(f);
	char *line = strchr(buf, '\n') + 1; /* skip the header */
	while (line && *line) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		int k = csv_split(line, fields, 256);
		for (int i = 1; i < k; i++, n++)
			sum += strtod(fields[i], NULL);
		line = nl ? nl + 1 : NULL;
	}
	free(buf);
	*ret_sum = sum;
	return n;
}

int main(void)
{
	const char *dir = tl_shared_data();
	char path[1024];
	double best = 1e9, best_ref = 1e9, sum = 0;
	size_t points = 0, ref_points = 0;

	if (!dir) {
		printf("files: skipped: ../shared/data absent\n");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/sukprasert-eurosys24/ci_2022_hourly_lca_123regions.csv", dir);
	for (int r = 0; r < RUNS; r++) {
		struct sig_set set;
		struct err_detail err;
		double t0 = now_s();

		if (files_read(path, "wide", NULL, &set, &err)) {
			fprintf(stderr, "files: %s\n", err.msg);
			return 1;
		}
		double t1 = now_s();
		points = sig_set_points(&set);
		sig_set_release(&set);
		double t2 = now_s();
		ref_points = reference(path, &sum);
		double t3 = now_s();
		if (t1 - t0 < best)
			best = t1 - t0;
		if (t3 - t2 < best_ref)
			best_ref = t3 - t2;
	}
	printf("files: wide 123-zone matrix: %zu points in %.1f ms = %.2f M points/s (best of %d)\n", points,
	       best * 1e3, points / best / 1e6, RUNS);
	printf("files: reference (split + strtod, no checks): %zu values in %.1f ms; ratio reference/reader "
	       "= %.2f\n",
	       ref_points, best_ref * 1e3, best_ref / best);
	return sum > 0 ? 0 : 1;
}
