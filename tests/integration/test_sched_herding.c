/* Herding: a thousand identical flexible jobs against limited capacity.
 *
 * 'carbonsched simulate' books them as one job array (sched_place_batch)
 * and, for comparison, one after the other (each takes the greenest
 * placement the earlier ones left, which leaves holes a 3-hour job cannot
 * use).  The same problem is solved as a linear program by GLPK (glpsol,
 * Debian glpk-utils): integer starts relaxed to real numbers, so its
 * optimum is a lower bound of any schedule.  The array total must be
 * within 2 % of it, no zone-hour may be oversubscribed, and the jobs must
 * spread over hours and regions.  One hand-shaped instance and five seeded
 * random ones.  When glpsol is missing the test installs glpk-utils (as
 * root, with apt) or skips, saying why. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/time.h"
#include "tests/integration/simrun.h"
#include "tests/lib/testlib.h"

#define D0    INT64_C(1717200000) /* 2024-06-01T00:00:00Z */
#define NR    4
#define MAXH  48
#define NJOBS 1000
#define POWER 1.0 /* kW */

static const char *const region[NR] = {"solar", "wind", "hydro", "coal"};

/* One instance: hourly intensity per region, capacity, job length and the
 * window (all jobs: submit at D0, deadline D0 + nh hours). */
struct inst {
	int nh, dur;
	double cap_kw[NR];
	double ci[NR][MAXH];
};

/* The first instance has the shapes of a solar-heavy, a windy, a hydro and
 * a coal grid; the others are seeded random sine curves and capacities
 * between 1.2 and 2.5 times what the jobs need. */
static void make_instance(int k, struct inst *in)
{
	uint64_t x = 0x2545F4914F6CDD1Du * (uint64_t)(k + 1);
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, (double)(x >> 11) * 0x1.0p-53)
	if (k == 0) {
		static const double cap[NR] = {70, 45, 35, 400};

		in->nh = 24;
		in->dur = 3;
		memcpy(in->cap_kw, cap, sizeof(cap));
		for (int h = 0; h < in->nh; h++) {
			in->ci[0][h] = round(10 * (420 - 300 * fmax(0, sin(M_PI * (h - 6) / 12.0)))) / 10;
			in->ci[1][h] = round(10 * (260 + 130 * sin(2 * M_PI * h / 17.0 + 1))) / 10;
			in->ci[2][h] = round(10 * (150 + 25 * sin(2 * M_PI * h / 24.0))) / 10;
			in->ci[3][h] = round(10 * (640 - 40 * sin(2 * M_PI * h / 24.0))) / 10;
		}
		return;
	}
	static const int nhs[] = {24, 36, 48}, durs[] = {2, 3, 4, 5};
	in->nh = nhs[(int)(RND() * 3)];
	in->dur = durs[(int)(RND() * 4)];
	double w[NR], sum = 0;
	for (int r = 0; r < NR; r++) {
		double base = 100 + 400 * RND(), amp = 10 + 190 * RND(), per = 8 + 22 * RND(),
		       ph = 6.28 * RND();

		for (int h = 0; h < in->nh; h++)
			in->ci[r][h] = round(10 * fmax(10, base + amp * sin(2 * M_PI * h / per + ph))) / 10;
		w[r] = 0.5 + RND();
		sum += w[r];
	}
	double scale = NJOBS * in->dur / (sum * in->nh) * (1.2 + 1.3 * RND());
	for (int r = 0; r < NR; r++)
		in->cap_kw[r] = fmax(1, round(w[r] * scale));
#undef RND
}

static bool have_glpsol(void)
{
	return system("command -v glpsol >/dev/null 2>&1") == 0;
}

/* glpsol on the PATH, installing glpk-utils when we may; false = skip. */
static bool ensure_glpsol(void)
{
	if (have_glpsol())
		return true;
	if (geteuid() != 0) {
		printf("\n  skipped: glpsol not found and not root (apt-get install glpk-utils, or run "
		       "deploy/install-deps.sh as root) ");
		return false;
	}
	printf("\n  installing glpk-utils with apt ... ");
	fflush(stdout);
	if (system(
		"DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=120 glpk-utils "
		">/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive "
		"apt-get install -y -q -o DPkg::Lock::Timeout=120 glpk-utils >/dev/null 2>&1)") != 0 ||
	    !have_glpsol()) {
		printf("\n  skipped: glpsol not found and apt-get install glpk-utils failed ");
		return false;
	}
	return true;
}

static double block_cost(const struct inst *in, int r, int s)
{
	double c = 0;

	for (int k = 0; k < in->dur; k++)
		c += POWER * in->ci[r][s + k];
	return c;
}

/* The LP in CPLEX LP format (with 'integer', starts are whole jobs):
 * y_r_s = jobs starting at hour s in region r. */
static double solve_lp(const struct inst *in, bool integer)
{
	char lp[4200], out[4200], cmd[9000], line[512];
	FILE *f = simrun_create(integer ? "herd-mip.lp" : "herd.lp", lp, sizeof(lp));
	double obj = NAN;

	fprintf(f, "Minimize\n obj:");
	for (int r = 0; r < NR; r++)
		for (int s = 0; s + in->dur <= in->nh; s++)
			fprintf(f, " + %.4f y_%d_%d", block_cost(in, r, s), r, s);
	fprintf(f, "\nSubject To\n jobs:");
	for (int r = 0; r < NR; r++)
		for (int s = 0; s + in->dur <= in->nh; s++)
			fprintf(f, " + y_%d_%d", r, s);
	fprintf(f, " = %d\n", NJOBS);
	for (int r = 0; r < NR; r++)
		for (int t = 0; t < in->nh; t++) {
			fprintf(f, " cap_%d_%d:", r, t);
			for (int s = t - in->dur + 1; s <= t; s++)
				if (s >= 0 && s + in->dur <= in->nh)
					fprintf(f, " + %.1f y_%d_%d", POWER, r, s);
			fprintf(f, " <= %.1f\n", in->cap_kw[r]);
		}
	if (integer) {
		fprintf(f, "General\n");
		for (int r = 0; r < NR; r++)
			for (int s = 0; s + in->dur <= in->nh; s++)
				fprintf(f, " y_%d_%d\n", r, s);
	}
	fprintf(f, "End\n");
	fclose(f);
	snprintf(out, sizeof(out), "%s", simrun_path(integer ? "herd-mip.out" : "herd.out"));
	snprintf(cmd, sizeof(cmd), "glpsol --lp '%s' -o '%s' >/dev/null 2>&1", lp, out);
	if (system(cmd) != 0)
		return NAN;
	f = fopen(out, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Objective: obj = %lf", &obj) == 1)
			break;
	if (f)
		fclose(f);
	return obj;
}

/* Check the placements file against capacity; count (region, start) pairs
 * and regions used. */
static void check_placements(const struct inst *in, const char *pl, int *ret_cells, int *ret_regions)
{
	double load[NR][MAXH] = {{0}};
	int starts[NR][MAXH] = {{0}};
	char line[512];
	FILE *f = fopen(pl, "r");

	*ret_cells = *ret_regions = 0;
	TL_ASSERT(f && fgets(line, sizeof(line), f));
	while (f && fgets(line, sizeof(line), f)) {
		char *fld[8], *p = line;
		int n = 0, r;
		int64_t s, e;

		for (; n < 8 && p; n++) {
			fld[n] = p;
			p = strchr(p, ',');
			if (p)
				*p++ = '\0';
		}
		if (n < 5)
			break;
		for (r = 0; r < NR && strcmp(fld[2], region[r]); r++)
			;
		TL_ASSERT(r < NR && ts_parse_loose(fld[3], strlen(fld[3]), &s) &&
			  ts_parse_loose(fld[4], strlen(fld[4]), &e));
		if (r == NR)
			break;
		starts[r][(s - D0) / TS_HOUR]++;
		for (int64_t t = s; t < e; t += TS_HOUR)
			load[r][(t - D0) / TS_HOUR] += POWER;
	}
	if (f)
		fclose(f);
	for (int r = 0; r < NR; r++) {
		bool any = false;

		for (int t = 0; t < in->nh; t++) {
			TL_ASSERT(load[r][t] <= in->cap_kw[r] + 1e-9);
			*ret_cells += starts[r][t] > 0;
			any |= starts[r][t] > 0;
		}
		*ret_regions += any;
	}
}

static void run_instance(int k)
{
	struct inst in;
	char sig[4200], jobs[4200], cap[4200], pl[4200], a[TS_BUFSZ], e[TS_BUFSZ];
	FILE *f;

	make_instance(k, &in);
	f = simrun_create("herd-signals.csv", sig, sizeof(sig));
	fprintf(f, "zone,ts,value\n");
	for (int r = 0; r < NR; r++)
		for (int h = 0; h < in.nh; h++)
			fprintf(f, "%s,%s,%.1f\n", region[r], ts_format(D0 + h * TS_HOUR, a), in.ci[r][h]);
	fclose(f);
	f = simrun_create("herd-cap.csv", cap, sizeof(cap));
	fprintf(f, "region,capacity_kw\n");
	for (int r = 0; r < NR; r++)
		fprintf(f, "%s,%.1f\n", region[r], in.cap_kw[r]);
	fclose(f);
	f = simrun_create("herd-jobs.csv", jobs, sizeof(jobs));
	fprintf(
	    f,
	    "id,region,submit,earliest_start,deadline,duration_min,power_kw,interruptible,allowed_regions\n");
	ts_format(D0, a);
	ts_format(D0 + in.nh * TS_HOUR, e);
	for (int i = 0; i < NJOBS; i++)
		fprintf(f, "h%d,solar,%s,,%s,%d,%.1f,false,solar;wind;hydro;coal\n", i, a, e, in.dur * 60,
			POWER);
	fclose(f);
	snprintf(pl, sizeof(pl), "%s", simrun_path("herd-placements.csv"));

	/* booked as one job array, and one by one */
	const char *args[] = {"--signals",  sig, "--signals-format", "long", "--jobs", jobs,
			      "--capacity", cap, "--placements",     pl,     NULL};
	const char *single[] = {"--signals",  sig, "--signals-format", "long", "--jobs", jobs,
				"--capacity", cap, "--one-by-one",     NULL};
	json_t *j = simrun_json(args), *js = simrun_json(single);
	if (!j || !js) {
		json_decref(j);
		json_decref(js);
		return;
	}
	double array = simrun_num(j, "scheduled_g"), greedy = simrun_num(js, "scheduled_g");
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(j, "unplaced")), 0);
	long long unplaced1 = json_integer_value(json_object_get(js, "unplaced"));
	json_decref(j);
	json_decref(js);
	int cells, regions;
	check_placements(&in, pl, &cells, &regions);

	double lp = solve_lp(&in, false), mip = solve_lp(&in, true);
	TL_ASSERT(!isnan(lp) && !isnan(mip));
	double gap = 100 * (array / lp - 1);
	printf(
	    "\n  #%d %2d h window, %d h jobs, capacity %g/%g/%g/%g kW: array %.1f g, LP %.1f g, integer %.1f "
	    "g: "
	    "gap %.2f %% (one by one: %.2f %%, %lld found no room); %d (region, start) pairs in %d regions ",
	    k, in.nh, in.dur, in.cap_kw[0], in.cap_kw[1], in.cap_kw[2], in.cap_kw[3], array, lp, mip, gap,
	    100 * (greedy / lp - 1), unplaced1, cells, regions);
	TL_ASSERT(array >= lp - 1e-6 * lp); /* nothing beats the relaxation */
	TL_ASSERT(gap <= 2.0);
	TL_ASSERT(regions >= 2);
	TL_ASSERT(cells >= 6);
}

static void test_herding_vs_glpk(void)
{
	if (!ensure_glpsol())
		return;
	for (int k = 0; k < 6; k++)
		run_instance(k);
}

static CU_TestInfo tests[] = {
    {"1,000 identical jobs within 2 % of the LP optimum", test_herding_vs_glpk},
    CU_TEST_INFO_NULL,
};

TL_SUITE("sched/herding", NULL, NULL, tests)
