/* 'carbonsched simulate' as a user runs it: relocation, capacity, noise,
 * placements output, every error a user can reach, and streaming. */
#include <stdlib.h>

#include "core/mem.h"
#include "core/time.h"
#include "tests/integration/simrun.h"
#include "tests/lib/testlib.h"

#define D0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */

static char signals[4200], hourly[4200];

/* Three zones, 48 hourly steps, in the 'long' format:
 *   A: 300 except 100 at hours 5-6;  B: 200 flat;  C: 50 at hour 30, else 400. */
static int setup(void)
{
	FILE *f = simrun_create("signals.csv", signals, sizeof(signals));
	char t[TS_BUFSZ];

	fprintf(f, "zone,ts,value\n");
	for (int h = 47; h >= 0; h--) { /* any order */
		ts_format(D0 + h * TS_HOUR, t);
		fprintf(f, "A,%s,%d\nB,%s,200\nC,%s,%d\n", t, h == 5 || h == 6 ? 100 : 300, t, t,
			h == 30 ? 50 : 400);
	}
	fclose(f);
	snprintf(hourly, sizeof(hourly), "%s", signals);
	return 0;
}

static const char *write_jobs(const char *name, const char *text)
{
	static char path[4200];
	FILE *f = simrun_create(name, path, sizeof(path));

	fputs(text, f);
	fclose(f);
	return path;
}

#define HEADER \
	"id,region,submit,earliest_start,deadline,duration_min,power_kw,interruptible,allowed_regions\n"

static void test_relocation_and_placements(void)
{
	const char *jobs =
	    write_jobs("jobs.csv", HEADER "j1,A,2024-01-01T00:00:00Z,,2024-01-02T00:00:00Z,120,2,false,\n"
					  "j2,A,2024-01-01T00:00:00Z,,2024-01-02T12:00:00Z,60,1,false,A;B;C\n"
					  "j3,B,2024-01-01 04:00,,2024-01-01 08:00,60,1,no,\n");
	char pl[4200];
	snprintf(pl, sizeof(pl), "%s", simrun_path("placements.csv"));
	const char *args[] = {"--signals", hourly, "--signals-format", "long", "--jobs", jobs, "--placements",
			      pl,	   NULL};
	json_t *j = simrun_json(args);

	if (!j)
		return;
	/* j1: 2 h x 2 kW: 300*4 -> 100*4;  j2: 300 -> C at 30 h, 50;  j3: B flat 200 */
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(j, "jobs")), 3);
	TL_ASSERT_DBL_EQ(simrun_num(j, "baseline_g"), 1200 + 300 + 200, 1e-9);
	TL_ASSERT_DBL_EQ(simrun_num(j, "scheduled_g"), 400 + 50 + 200, 1e-9);
	json_t *pr = json_object_get(j, "per_region");
	TL_ASSERT_DBL_EQ(simrun_num(json_object_get(pr, "A"), "scheduled_g"), 450, 1e-9);
	TL_ASSERT_DBL_EQ(simrun_num(json_object_get(pr, "B"), "saving_pct"), 0, 1e-9);
	TL_ASSERT(json_object_get(pr, "C") == NULL); /* keyed by origin */
	json_decref(j);

	FILE *f = fopen(pl, "r");
	char line[512];
	TL_ASSERT(f && fgets(line, sizeof(line), f));
	TL_ASSERT_STR_EQ(line, "id,origin,region,start,end,segments,baseline_g,scheduled_g\n");
	TL_ASSERT(fgets(line, sizeof(line), f));
	TL_ASSERT_STR_EQ(line, "j1,A,A,2024-01-01T05:00:00Z,2024-01-01T07:00:00Z,"
			       "2024-01-01T05:00:00Z/2024-01-01T07:00:00Z,1200.000000,400.000000\n");
	TL_ASSERT(fgets(line, sizeof(line), f));
	TL_ASSERT_CONTAINS(line, "j2,A,C,2024-01-02T06:00:00Z,");
	if (f)
		fclose(f);
}

static void test_capacity_and_unplaced(void)
{
	const char *jobs =
	    write_jobs("jobs.csv", HEADER "a,A,2024-01-01T04:00:00Z,,2024-01-01T08:00:00Z,60,2,false,\n"
					  "b,A,2024-01-01T04:00:00Z,,2024-01-01T08:00:00Z,60,2,false,\n"
					  "c,A,2024-01-01T04:00:00Z,,2024-01-01T08:00:00Z,60,2,false,\n"
					  "d,A,2024-01-01T04:00:00Z,,2024-01-01T06:00:00Z,60,2,false,\n");
	char cap[4200];
	FILE *f = simrun_create("cap.csv", cap, sizeof(cap));
	fputs("region,capacity_kw\nA,2\n", f);
	fclose(f);
	const char *args[] = {"--signals", hourly, "--signals-format", "long", "--jobs", jobs, "--capacity",
			      cap,	   NULL};
	json_t *j = simrun_json(args);

	if (!j)
		return;
	/* one 2-kW job per hour: a at 5, b at 6, c at 4 (300) ... d finds hours 4-5 full */
	TL_ASSERT_INT_EQ(json_integer_value(json_object_get(j, "unplaced")), 1);
	TL_ASSERT_DBL_EQ(simrun_num(j, "scheduled_g"), 2 * (100 + 100 + 300) + 2 * 300, 1e-9);
	json_decref(j);
}

static void test_noise(void)
{
	char jobs[4200];
	FILE *f = simrun_create("many.csv", jobs, sizeof(jobs));
	char a[TS_BUFSZ], e[TS_BUFSZ];

	fputs(HEADER, f);
	for (int i = 0; i < 40; i++) {
		ts_format(D0 + (i % 20) * TS_HOUR, a);
		ts_format(D0 + (i % 20 + 24) * TS_HOUR, e);
		fprintf(f, "n%d,%s,%s,,%s,%d,1,%s,\n", i,
			i % 3 == 0   ? "A"
			: i % 3 == 1 ? "B"
				     : "C",
			a, e, 60 + 60 * (i % 4), i % 2 ? "true" : "false");
	}
	fclose(f);
	const char *perfect[] = {"--signals", hourly, "--signals-format", "long", "--jobs", jobs, NULL};
	const char *zero[] = {"--signals", hourly,	 "--signals-format", "long", "--jobs",
			      jobs,	   "--forecast", "noise:0:7",	     NULL};
	const char *n1[] = {"--signals", hourly,       "--signals-format", "long", "--jobs",
			    jobs,	 "--forecast", "noise:0.3:1",	   NULL};
	const char *n2[] = {"--signals", hourly,       "--signals-format", "long", "--jobs",
			    jobs,	 "--forecast", "noise:0.3:2",	   NULL};
	json_t *jp = simrun_json(perfect), *jz = simrun_json(zero), *j1 = simrun_json(n1),
	       *j1b = simrun_json(n1), *j2 = simrun_json(n2);

	if (jp && jz && j1 && j1b && j2) {
		double sp = simrun_num(jp, "scheduled_g");

		TL_ASSERT_DBL_EQ(simrun_num(jz, "scheduled_g"), sp, 0);
		/* an oracle per job, no capacity: a noisy forecast can only do worse,
		 * and the baseline is charged on the truth either way */
		TL_ASSERT(simrun_num(j1, "scheduled_g") > sp);
		TL_ASSERT(simrun_num(j2, "scheduled_g") > sp);
		TL_ASSERT_DBL_EQ(simrun_num(j1, "baseline_g"), simrun_num(jp, "baseline_g"), 1e-9);
		TL_ASSERT_DBL_EQ(simrun_num(j1, "scheduled_g"), simrun_num(j1b, "scheduled_g"),
				 0); /* seeded */
		TL_ASSERT(simrun_num(j1, "scheduled_g") != simrun_num(j2, "scheduled_g"));
	}
	json_decref(jp);
	json_decref(jz);
	json_decref(j1);
	json_decref(j1b);
	json_decref(j2);
}

/* Every error a user can reach names the file, line and field. */
static void test_errors(void)
{
	static const struct {
		const char *jobs; /* NULL: use a valid file */
		const char *extra[4];
		int status;
		const char *msg;
	} cases[] = {
	    {HEADER "x,A,2024-01-01T00:00:00Z,,tomorrow,60,1,false,\n",
	     {NULL},
	     1,
	     "jobs.csv:2: column 'deadline': bad time 'tomorrow'"},
	    {HEADER "x,Z,2024-01-01T00:00:00Z,,2024-01-01T05:00:00Z,60,1,false,\n",
	     {NULL},
	     1,
	     "jobs.csv:2: column 'region': region 'Z' has no signal"},
	    {HEADER "x,A,2024-01-01T00:00:00Z,,2024-01-01T05:00:00Z,-5,1,false,\n",
	     {NULL},
	     1,
	     "jobs.csv:2: column 'duration_min'"},
	    {HEADER "x,A,2024-01-01T00:00:00Z,,2024-01-01T05:00:00Z,60,0,false,\n",
	     {NULL},
	     1,
	     "column 'power_kw'"},
	    {HEADER "x,A,2024-01-01T00:00:00Z,,2024-01-01T05:00:00Z,60,1,maybe,\n",
	     {NULL},
	     1,
	     "column 'interruptible'"},
	    {HEADER "x,A,2024-01-01T00:00:00Z,,2024-01-01T05:00:00Z,60,1,false,B;Q\n",
	     {NULL},
	     1,
	     "column 'allowed_regions': region 'Q'"},
	    {HEADER "ok,A,2024-01-01T00:00:00Z,,2024-01-01T05:00:00Z,60,1,false,\n"
		    "x,A,2024-01-01T06:00:00Z,,2024-01-01T05:00:00Z,60,1,false,\n",
	     {NULL},
	     1,
	     "jobs.csv:3: job 'x': deadline: deadline must be after"},
	    {HEADER "x,A,2024-01-01T00:00:00Z,,2024-01-01T01:00:00Z,120,1,false,\n",
	     {NULL},
	     1,
	     "job 'x': duration: duration is longer"},
	    {HEADER "x,A,2024-01-05T00:00:00Z,,2024-01-06T00:00:00Z,60,1,false,\n",
	     {NULL},
	     1,
	     "job 'x': deadline: no complete signal in the window: the forecast reaches only "
	     "2024-01-03T00:00:00Z"},
	    {HEADER "x,A,2023-12-31T00:00:00Z,2024-01-01T00:00:00Z,2024-01-01T05:00:00Z,60,1,false,\n",
	     {NULL},
	     1,
	     "no signal in 'A' to run it at 2023-12-31T00:00:00Z"},
	    {HEADER "x,A,2024-01-01T00:00:00Z,,2024-01-01T05:00:00Z,60,1,false\n",
	     {NULL},
	     1,
	     "jobs.csv:2: 8 fields, the header has 9"},
	    {"id,region,submit,deadline,duration_min\n", {NULL}, 1, "jobs.csv:1: no column 'power_kw'"},
	    {"", {NULL}, 1, "empty file"},
	    {NULL, {"--forecast", "noise:x:1"}, 2, "noise:E:SEED needs E"},
	    {NULL, {"--forecast", "pessimistic"}, 2, "--forecast must be perfect"},
	    {NULL, {"--signals-format", "nope"}, 2, "unknown --signals-format 'nope'"},
	    {NULL, {"--capacity", "@cap"}, 1, "cap.csv:3: region 'Q' has no signal"},
	    {NULL, {"--signals", "@badsig"}, 1, "badsig.csv:3: bad value 'x'"},
	    {NULL, {"--protocol", "spatial"}, 2, "--protocol must be 'temporal'"},
	    {NULL,
	     {"--protocol", "temporal", "--lengths", "0.5"},
	     1,
	     "'0.5' is not a positive number of hours"},
	    {NULL,
	     {"--protocol", "temporal", "--lengths", "48"},
	     1,
	     "job length must be between 1 and 47 steps"},
	};
	char cap[4200], badsig[4200];
	FILE *f = simrun_create("cap.csv", cap, sizeof(cap));
	fputs("region,capacity_kw\nA,5\nQ,3\n", f);
	fclose(f);
	f = simrun_create("badsig.csv", badsig, sizeof(badsig));
	fputs("zone,ts,value\nA,2024-01-01T00:00:00Z,1\nA,2024-01-01T01:00:00Z,x\n", f);
	fclose(f);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *jobs = write_jobs(
		    "jobs.csv", cases[i].jobs ? cases[i].jobs
					      : HEADER
				    "ok,A,2024-01-01T00:00:00Z,,2024-01-01T05:00:00Z,60,1,false,\n");
		char jp[4200];
		snprintf(jp, sizeof(jp), "%s", jobs);
		const char *args[16] = {"simulate", "--signals", hourly, "--signals-format",
					"long",	    "--jobs",	 jp};
		size_t n = 7;
		for (size_t k = 0; k < 4 && cases[i].extra[k]; k++) {
			const char *x = cases[i].extra[k];
			args[n++] = !strcmp(x, "@cap") ? cap : !strcmp(x, "@badsig") ? badsig : x;
		}
		args[n] = NULL;
		char *out, *err;
		int rc = simrun(args, &out, &err, NULL);
		if (rc != cases[i].status || !strstr(err, cases[i].msg))
			tl_fail(__LINE__, __FILE__, false,
				"case %zu: status %d (want %d), stderr '%s' lacks '%s'", i, rc,
				cases[i].status, err, cases[i].msg);
		else
			CU_PASS("error case");
		free(out);
		free(err);
	}
}

/* A long job file is streamed: the peak memory of 200,000 jobs is that of
 * 20,000 (nothing is kept per job). */
static void test_streaming(void)
{
	long rss[2] = {0, 0};
	static const int counts[2] = {20000, 200000};
	char jobs[4200], a[TS_BUFSZ], e[TS_BUFSZ], asan[512];
	const char *old = getenv("ASAN_OPTIONS");

	/* under AddressSanitizer freed memory is quarantined, not reused: turn
	 * that off so that resident memory measures what is really held */
	snprintf(asan, sizeof(asan), "%s%squarantine_size_mb=0", old ? old : "", old && *old ? ":" : "");
	char *saved = old ? xstrdup(old) : NULL;
	setenv("ASAN_OPTIONS", asan, 1);

	for (int k = 0; k < 2; k++) {
		FILE *f = simrun_create("stream.csv", jobs, sizeof(jobs));

		fputs(HEADER, f);
		for (int i = 0; i < counts[k]; i++) {
			ts_format(D0 + (i % 24) * TS_HOUR, a);
			ts_format(D0 + (i % 24 + 20) * TS_HOUR, e);
			fprintf(f, "job-%d,%c,%s,,%s,%d,0.5,%s,%s\n", i, "ABC"[i % 3], a, e,
				30 + 30 * (i % 7), i % 2 ? "true" : "false", i % 5 ? "" : "A;B;C");
		}
		fclose(f);
		const char *args[] = {"simulate", "--signals", hourly, "--signals-format", "long", "--jobs",
				      jobs,	  "--json",    NULL};
		char *out, *err;
		int rc = simrun(args, &out, &err, &rss[k]);
		TL_ASSERT_INT_EQ(rc, 0);
		TL_ASSERT_CONTAINS(out, k ? "\"jobs\":200000" : "\"jobs\":20000");
		free(out);
		free(err);
	}
	if (saved)
		setenv("ASAN_OPTIONS", saved, 1);
	else
		unsetenv("ASAN_OPTIONS");
	free(saved);
	printf("\n  peak RSS: %ld kB for 20,000 jobs, %ld kB for 200,000 ", rss[0], rss[1]);
	TL_ASSERT(rss[1] < rss[0] + 2048);
}

static void test_segment_constraints(void)
{
	char sig[4200], pl[4200], t[TS_BUFSZ];
	static const int v[8] = {5, 9, 1, 9, 1, 9, 9, 9};
	FILE *f = simrun_create("seg-signals.csv", sig, sizeof(sig));

	fprintf(f, "zone,ts,value\n");
	for (int h = 0; h < 8; h++)
		fprintf(f, "X,%s,%d\n", ts_format(D0 + h * TS_HOUR, t), v[h]);
	fclose(f);
	/* 2 h interruptible at 1 kW: the two 1s (2 g) in two segments; with a
	 * 2-hour minimum segment or a single segment, the best pair (10 g) */
	const char *jobs =
	    write_jobs("seg.csv", "id,region,submit,deadline,duration_min,power_kw,interruptible,"
				  "min_segment_min,max_segments\n"
				  "free,X,2024-01-01T00:00:00Z,2024-01-01T08:00:00Z,120,1,true,,\n"
				  "minseg,X,2024-01-01T00:00:00Z,2024-01-01T08:00:00Z,120,1,true,120,\n"
				  "oneseg,X,2024-01-01T00:00:00Z,2024-01-01T08:00:00Z,120,1,true,,1\n");
	snprintf(pl, sizeof(pl), "%s", simrun_path("seg-placements.csv"));
	const char *args[] = {"--signals", sig, "--signals-format", "long", "--jobs", jobs, "--placements",
			      pl,	   NULL};
	json_t *j = simrun_json(args);
	if (!j)
		return;
	TL_ASSERT_DBL_EQ(simrun_num(j, "scheduled_g"), 2 + 10 + 10, 1e-9);
	json_decref(j);
	f = fopen(pl, "r");
	char line[512];
	TL_ASSERT(f && fgets(line, sizeof(line), f) && fgets(line, sizeof(line), f));
	TL_ASSERT_CONTAINS(
	    line, "free,X,X,2024-01-01T02:00:00Z,2024-01-01T05:00:00Z,"
		  "2024-01-01T02:00:00Z/2024-01-01T03:00:00Z;2024-01-01T04:00:00Z/2024-01-01T05:00:00Z");
	TL_ASSERT(f && fgets(line, sizeof(line), f));
	TL_ASSERT_CONTAINS(line, "minseg,X,X,");
	TL_ASSERT(strchr(line, ';') == NULL); /* one segment */
	if (f)
		fclose(f);
}

static CU_TestInfo tests[] = {
    {"relocation, per-region totals, placements", test_relocation_and_placements},
    {"capacity and unplaced jobs", test_capacity_and_unplaced},
    {"segment constraints from the jobs file", test_segment_constraints},
    {"noisy forecasts are charged on the truth", test_noise},
    {"errors name file, line and field", test_errors},
    {"jobs are streamed", test_streaming},
    CU_TEST_INFO_NULL,
};

TL_SUITE("simulate/cli", setup, NULL, tests)
