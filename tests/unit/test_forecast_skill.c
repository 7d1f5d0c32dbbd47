/* forecasters/skill, blend and the members of composite models. */
#include <stdlib.h>

#include "core/mem.h"
#include "forecasters/blend.h"
#include "forecasters/forecast.h"
#include "forecasters/models.h"
#include "forecasters/skill.h"
#include "tests/lib/testlib.h"

#define H  3600
#define T0 INT64_C(1635724800) /* 2021-11-01T00:00:00Z */

static void test_buckets(void)
{
	static const struct {
		int64_t lead;
		int bucket;
	} cases[] = {
	    {0, -1},	  {-H, -1},	  {1, 0},	{H, 0},
	    {6 * H, 0},	  {6 * H + 1, 1}, {24 * H, 1},	{25 * H, 2},
	    {48 * H, 2},  {49 * H, 3},	  {96 * H, 3},	{97 * H, 4},
	    {168 * H, 4}, {169 * H, 5},	  {336 * H, 5}, {336 * H + 1, -1},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		TL_ASSERT_INT_EQ(fc_skill_bucket(cases[i].lead), cases[i].bucket);
	TL_ASSERT_STR_EQ(fc_skill_bucket_label(0), "1-6h");
	TL_ASSERT_STR_EQ(fc_skill_bucket_label(3), "49-96h");
	TL_ASSERT(fc_skill_bucket_label(FC_SKILL_NBUCKETS) == NULL);
}

static void test_scores(void)
{
	struct fc_skill s = {0};

	/* errors +10, -20, +0 (actual 0: no APE), one point without interval */
	fc_skill_add(&s, 90, 110, 130, 100);
	fc_skill_add(&s, 150, 180, 190, 200);
	fc_skill_add(&s, NAN, 0, NAN, 0);
	fc_skill_add(&s, 1, NAN, 2, 5); /* no p50: ignored */
	fc_skill_add(&s, 1, 2, 3, NAN); /* no actual: ignored */
	TL_ASSERT_INT_EQ(s.n, 3);
	TL_ASSERT_DBL_EQ(fc_skill_mae(&s), 10, 1e-12);
	TL_ASSERT_DBL_EQ(fc_skill_rmse(&s), sqrt(500.0 / 3), 1e-12);
	TL_ASSERT_DBL_EQ(fc_skill_mape(&s), 100 * (0.1 + 0.1) / 2, 1e-12);
	/* 100 in [90,130]; 200 not in [150,190] */
	TL_ASSERT_DBL_EQ(fc_skill_coverage(&s), 0.5, 1e-12);
	struct fc_skill empty = {0};
	TL_ASSERT(isnan(fc_skill_mae(&empty)) && isnan(fc_skill_mape(&empty)) &&
		  isnan(fc_skill_coverage(&empty)));
}

static void test_merge_decays_by_half_life(void)
{
	struct fc_skill s = {0}, b = {0};

	fc_skill_add(&b, NAN, 10, NAN, 0); /* |e| = 10 */
	fc_skill_merge(&s, &b, T0, 86400);
	TL_ASSERT_DBL_EQ(s.w, 1, 0);
	TL_ASSERT_INT_EQ(s.as_of, T0);
	memset(&b, 0, sizeof(b));
	fc_skill_add(&b, NAN, 40, NAN, 0); /* |e| = 40, one half-life later */
	fc_skill_merge(&s, &b, T0 + 86400, 86400);
	/* old point weighs 0.5: (0.5*10 + 40) / 1.5 */
	TL_ASSERT_DBL_EQ(s.w, 1.5, 1e-12);
	TL_ASSERT_DBL_EQ(fc_skill_mae(&s), 45 / 1.5, 1e-12);
	TL_ASSERT_INT_EQ(s.n, 2);
	TL_ASSERT_INT_EQ(s.as_of, T0 + 86400);
	/* a batch dated earlier does not decay nor move as_of back */
	memset(&b, 0, sizeof(b));
	fc_skill_add(&b, NAN, 0, NAN, 0);
	fc_skill_merge(&s, &b, T0, 86400);
	TL_ASSERT_DBL_EQ(s.w, 2.5, 1e-12);
	TL_ASSERT_INT_EQ(s.as_of, T0 + 86400);
}

static void set_mae(struct fc_skill *s, double w, double mae)
{
	memset(s, 0, sizeof(*s));
	s->w = w;
	s->sum_ae = w * mae;
}

static void test_rank_on_common_buckets(void)
{
	struct fc_skill s[3][FC_SKILL_NBUCKETS];
	double score[3];
	unsigned common;

	memset(s, 0, sizeof(s));
	/* ours: 1-96 h; a provider: 1-24 h only; a new model: nothing */
	set_mae(&s[0][0], 50, 10);
	set_mae(&s[0][1], 50, 20);
	set_mae(&s[0][2], 50, 30);
	set_mae(&s[0][3], 50, 100);
	set_mae(&s[1][0], 50, 12);
	set_mae(&s[1][1], 50, 14);
	TL_ASSERT_INT_EQ(fc_skill_rank(s, 3, 10, score, &common), 2);
	TL_ASSERT_INT_EQ(common, 3);
	TL_ASSERT_DBL_EQ(score[0], 15, 1e-12); /* (10 + 20) / 2: its 100 at 49-96 h does not count */
	TL_ASSERT_DBL_EQ(score[1], 13, 1e-12);
	TL_ASSERT(isnan(score[2]));
	/* below min_w the provider is not scored: ours on all four */
	TL_ASSERT_INT_EQ(fc_skill_rank(s, 3, 60, score, &common), 0);
	set_mae(&s[1][0], 5, 12);
	set_mae(&s[1][1], 5, 14);
	TL_ASSERT_INT_EQ(fc_skill_rank(s, 3, 10, score, &common), 4);
	TL_ASSERT_DBL_EQ(score[0], 40, 1e-12);
	TL_ASSERT(isnan(score[1]));
	/* nothing scored */
	memset(s, 0, sizeof(s));
	TL_ASSERT_INT_EQ(fc_skill_rank(s, 3, 1, score, NULL), 0);
	TL_ASSERT(isnan(score[0]));
}

static void test_blend(void)
{
	/* ours: 8 steps from T0, p50 100; a provider issued an hour earlier,
	 * 4 steps from T0 - H (so 3 overlap), p50 200, no interval */
	double o10[8], o50[8], o90[8], p50[4] = {999, 200, 200, 200};
	struct fc_blend_part parts[2] = {
	    {.name = "ensemble",
	     .issued_at = T0,
	     .start = T0,
	     .step = H,
	     .n = 8,
	     .p10 = o10,
	     .p50 = o50,
	     .p90 = o90},
	    {.name = "provider", .issued_at = T0 - H, .start = T0 - H, .step = H, .n = 4, .p50 = p50},
	};
	struct fc_forecast f;
	struct err_detail err;
	size_t used[2];

	for (int i = 0; i < 8; i++) {
		o10[i] = 90;
		o50[i] = 100;
		o90[i] = 110;
	}
	for (int b = 0; b < FC_SKILL_NBUCKETS; b++)
		parts[0].err[b] = parts[1].err[b] = NAN;
	/* nobody scored: equal weights where both are present */
	TL_ASSERT_INT_EQ(fc_blend(parts, 2, T0, H, 8, &f, used, &err), ERR_OK);
	TL_ASSERT_STR_EQ(f.model, "blend");
	TL_ASSERT_INT_EQ(f.issued_at, T0);
	TL_ASSERT_DBL_EQ(f.p50[0], 150, 1e-9);
	TL_ASSERT_DBL_EQ(f.p50[2], 150, 1e-9);
	/* past the provider's horizon: ours */
	TL_ASSERT_DBL_EQ(f.p50[3], 100, 1e-9);
	TL_ASSERT_DBL_EQ(f.p10[7], 90, 1e-9);
	/* the interval comes from the part that has one, kept around p50 */
	TL_ASSERT(f.p10[0] <= f.p50[0] && f.p50[0] <= f.p90[0]);
	TL_ASSERT_DBL_EQ(f.p10[0], 90, 1e-9);
	TL_ASSERT_DBL_EQ(f.p90[0], 150, 1e-9);
	TL_ASSERT_INT_EQ(used[0], 8);
	TL_ASSERT_INT_EQ(used[1], 3);
	fc_forecast_release(&f);

	/* scored: the provider's error is half ours at 1-6 h: weight 16:1 */
	parts[0].err[0] = 20;
	parts[1].err[0] = 10;
	TL_ASSERT_INT_EQ(fc_blend(parts, 2, T0, H, 8, &f, NULL, &err), ERR_OK);
	TL_ASSERT_DBL_EQ(f.p50[0], (16 * 200 + 100) / 17.0, 1e-9);
	fc_forecast_release(&f);
	/* only ours scored: the provider gets our error (equal weights) */
	parts[1].err[0] = NAN;
	TL_ASSERT_INT_EQ(fc_blend(parts, 2, T0, H, 8, &f, NULL, &err), ERR_OK);
	TL_ASSERT_DBL_EQ(f.p50[0], 150, 1e-9);
	fc_forecast_release(&f);
	/* the floor keeps a much worse part at 5 % */
	parts[1].err[0] = 1000;
	TL_ASSERT_INT_EQ(fc_blend(parts, 2, T0, H, 8, &f, NULL, &err), ERR_OK);
	TL_ASSERT_DBL_EQ(f.p50[0], (100 * 1 + 200 * 0.05) / 1.05, 1e-6);
	fc_forecast_release(&f);
	/* off-grid part */
	parts[1].start = T0 - 1800;
	TL_ASSERT_INT_EQ(fc_blend(parts, 2, T0, H, 8, &f, NULL, &err), ERR_INVALID);
}

/* A member predicted through the ensemble is the member fitted alone. */
static void test_members_equal_standalone_models(void)
{
	size_t n = 50 * 24, Hz = 96;
	double *y = xmalloc(n * sizeof(double));
	struct fc_input in = {.start = T0 - (int64_t)n * H, .step = H, .n = n, .y = y};
	struct fc_model *ens, *alone;
	struct fc_forecast fe, fm, fa;
	struct err_detail err;
	uint64_t r = 12345;

	for (size_t i = 0; i < n; i++) {
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		y[i] = 300 + 80 * sin(2 * M_PI * (double)(i % 24) / 24) +
		       20 * ((double)(r >> 40) / (1 << 24) - 0.5);
	}
	TL_ASSERT_INT_EQ(fc_model_new("ensemble", NULL, &ens, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_model_members(ens), 3);
	TL_ASSERT_STR_EQ(fc_model_member_name(ens, 0), "dshw");
	TL_ASSERT(fc_model_member_name(ens, 3) == NULL);
	TL_ASSERT_INT_EQ(fc_predict_member(ens, 0, &in, Hz, &fm, &err), ERR_INVALID); /* not fitted */
	TL_ASSERT_INT_EQ(fc_fit(ens, &in, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_predict(ens, &in, Hz, &fe, &err), ERR_OK);
	for (size_t i = 0; i < fc_model_members(ens); i++) {
		const char *name = fc_model_member_name(ens, i);

		TL_ASSERT_INT_EQ(fc_predict_member(ens, i, &in, Hz, &fm, &err), ERR_OK);
		TL_ASSERT_STR_EQ(fm.model, name);
		TL_ASSERT_INT_EQ(fc_model_new(name, NULL, &alone, &err), ERR_OK);
		TL_ASSERT_INT_EQ(fc_fit(alone, &in, &err), ERR_OK);
		TL_ASSERT_INT_EQ(fc_predict(alone, &in, Hz, &fa, &err), ERR_OK);
		for (size_t h = 0; h < Hz; h++) {
			TL_ASSERT_DBL_EQ(fm.p50[h], fa.p50[h], 1e-9);
			TL_ASSERT_DBL_EQ(fm.p10[h], fa.p10[h], 1e-9); /* same seeded calibrator */
			TL_ASSERT_DBL_EQ(fm.p90[h], fa.p90[h], 1e-9);
		}
		/* observing moves the member's interval like the standalone model's */
		fc_observe_member(ens, i, &fm, y + n - Hz); /* any actuals of the right length */
		fc_observe(alone, &fa, y + n - Hz);
		fc_forecast_release(&fm);
		fc_forecast_release(&fa);
		TL_ASSERT_INT_EQ(fc_predict_member(ens, i, &in, Hz, &fm, &err), ERR_OK);
		TL_ASSERT_INT_EQ(fc_predict(alone, &in, Hz, &fa, &err), ERR_OK);
		TL_ASSERT_DBL_EQ(fm.p90[5], fa.p90[5], 1e-9);
		fc_forecast_release(&fm);
		fc_forecast_release(&fa);
		fc_model_free(alone);
	}
	TL_ASSERT_INT_EQ(fc_predict_member(ens, 3, &in, Hz, &fm, &err), ERR_INVALID);
	/* a plain model has no members */
	TL_ASSERT_INT_EQ(fc_model_new("ridge", NULL, &alone, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_model_members(alone), 0);
	fc_model_free(alone);
	fc_forecast_release(&fe);
	fc_model_free(ens);
	free(y);
}

/* Compacting drops the fit, keeps the calibrators: a refit predicts the
 * same values with the same intervals. */
static void test_compact_keeps_calibration(void)
{
	size_t n = 40 * 24, Hz = 48;
	double *y = xmalloc(n * sizeof(double));
	struct fc_input in = {.start = T0 - (int64_t)n * H, .step = H, .n = n, .y = y};
	struct fc_model *m;
	struct fc_forecast a, b;
	struct err_detail err;

	for (size_t i = 0; i < n; i++)
		y[i] = 200 + 50 * sin(2 * M_PI * (double)(i % 24) / 24) + (double)(i % 7);
	TL_ASSERT_INT_EQ(fc_model_new("ensemble", NULL, &m, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_fit(m, &in, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_predict(m, &in, Hz, &a, &err), ERR_OK);
	/* an observation moves the interval; compacting must keep that */
	double *act = xmalloc(Hz * sizeof(double));
	for (size_t h = 0; h < Hz; h++)
		act[h] = a.p50[h] * 1.3;
	fc_observe(m, &a, act);
	double before = a.p90[0];
	fc_forecast_release(&a);
	TL_ASSERT_INT_EQ(fc_predict(m, &in, Hz, &a, &err), ERR_OK);
	TL_ASSERT(a.p90[0] > before); /* the interval widened towards the error seen */
	fc_model_compact(m);
	TL_ASSERT_INT_EQ(fc_predict(m, &in, Hz, &b, &err), ERR_INVALID); /* not fitted */
	TL_ASSERT_INT_EQ(fc_predict_member(m, 1, &in, Hz, &b, &err), ERR_INVALID);
	TL_ASSERT_INT_EQ(fc_fit(m, &in, &err), ERR_OK);
	TL_ASSERT_INT_EQ(fc_predict(m, &in, Hz, &b, &err), ERR_OK);
	for (size_t h = 0; h < Hz; h++) {
		TL_ASSERT_DBL_EQ(b.p50[h], a.p50[h], 1e-9);
		TL_ASSERT_DBL_EQ(b.p90[h], a.p90[h], 1e-9);
	}
	fc_forecast_release(&a);
	fc_forecast_release(&b);
	fc_model_free(m);
	free(act);
	free(y);
}

/* The ensemble seeds calibrators from the member backcasts it kept while
 * scoring them; the replay must call back exactly what predicting again
 * (fc_backcast) gives, to the last bit. */
struct bc_log {
	size_t n, origin[64];
	double p50[64][96];
};

static void bc_log_cb(void *ctx, size_t origin, const double *p50, const double *actual, size_t horizon)
{
	struct bc_log *l = ctx;

	(void)actual;
	if (l->n < 64 && horizon == 96) {
		l->origin[l->n] = origin;
		memcpy(l->p50[l->n], p50, sizeof(l->p50[0]));
		l->n++;
	}
}

static void test_replayed_backcasts_are_exact(void)
{
	size_t n = 45 * 24;
	double *y = xmalloc(n * sizeof(double));
	struct fc_input in = {.start = T0 - (int64_t)n * H, .step = H, .n = n, .y = y};
	const struct fc_model_ops *ops = fc_model_ops_find("ensemble");
	void *st = xcalloc(1, ops->state_size);
	struct bc_log *a = xcalloc(1, sizeof(*a)), *b = xcalloc(1, sizeof(*b));
	struct err_detail err;

	for (size_t i = 0; i < n; i++)
		y[i] = i % 100 == 7
			   ? NAN
			   : 250 + 60 * sin(2 * M_PI * (double)(i % 24) / 24) + 25 * sin((double)i / 17.0);
	TL_ASSERT_INT_EQ(ops->fit(st, NULL, &in, &err), ERR_OK);
	for (int m = -1; m < 3; m++) {
		const struct fc_model_ops *mo = m < 0 ? ops : ops->members[m];
		const void *ms = m < 0 ? st : ops->member_state(st, (size_t)m);

		memset(a, 0, sizeof(*a));
		memset(b, 0, sizeof(*b));
		TL_ASSERT(ops->backcasts(st, m, &in, 28, 96, bc_log_cb, a));
		fc_backcast(mo, ms, &in, 28, 96, bc_log_cb, b);
		TL_ASSERT(a->n >= 20);
		TL_ASSERT_INT_EQ(a->n, b->n);
		for (size_t k = 0; k < a->n && k < b->n; k++) {
			TL_ASSERT_INT_EQ(a->origin[k], b->origin[k]);
			TL_ASSERT(!memcmp(a->p50[k], b->p50[k], sizeof(a->p50[k])));
		}
	}
	/* another history, k or horizon: no replay */
	struct fc_input shorter = in;
	shorter.n -= 24;
	TL_ASSERT(!ops->backcasts(st, -1, &shorter, 28, 96, bc_log_cb, a));
	TL_ASSERT(!ops->backcasts(st, -1, &in, 27, 96, bc_log_cb, a));
	TL_ASSERT(!ops->backcasts(st, 0, &in, 28, 48, bc_log_cb, a));
	ops->release(st);
	free(st);
	free(a);
	free(b);
	free(y);
}

static CU_TestInfo tests[] = {
    {"replayed backcasts seed exactly as predicting", test_replayed_backcasts_are_exact},
    {"compacting keeps the calibrators", test_compact_keeps_calibration},
    {"lead buckets", test_buckets},
    {"MAE, MAPE, RMSE, coverage", test_scores},
    {"merging decays by the half-life", test_merge_decays_by_half_life},
    {"ranking on the common buckets", test_rank_on_common_buckets},
    {"blend weights, extension, floor", test_blend},
    {"ensemble members equal the models fitted alone", test_members_equal_standalone_models},
    CU_TEST_INFO_NULL,
};
TL_SUITE("forecast_skill", NULL, NULL, tests)
