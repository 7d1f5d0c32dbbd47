/*
 * skill.h - how good forecasts turned out, by lead time, kept as
 * exponentially weighted sums so that "recent skill" is updated in O(1)
 * as actuals arrive and never needs the old forecasts again.
 *
 * A point of a forecast issued at I for the step starting at t (step s)
 * has lead t + s - I: the first step of an hourly run has lead 1 h.  Leads
 * fall into buckets 1-6 h, 7-24 h, 25-48 h, 49-96 h, 97-168 h and
 * 169-336 h (intraday, day-ahead, day 2, days 3-4, and the longer horizons
 * some providers publish).  Per bucket the sums give MAE, MAPE (over the
 * points whose actual is not 0), RMSE and the coverage of the 80 %
 * interval (over the points that have one).  Merging a batch first decays
 * the old sums by 0.5^(age / half-life), so the scores describe the last
 * few half-lives.
 *
 * Models are ranked on the buckets every scored model has (a provider
 * that publishes 24 h is compared with ours on 1-24 h only) by the mean
 * over those buckets of the bucket MAE: MAE is in the unit that decides
 * emissions (g/kWh), stays finite where the actual is 0 (solar at night),
 * and each lead bucket counts the same whatever its width.
 */
#ifndef CARBONSCHED_FORECASTERS_SKILL_H
#define CARBONSCHED_FORECASTERS_SKILL_H

#include <stddef.h>
#include <stdint.h>

#define FC_SKILL_NBUCKETS 6

/* Upper bound of each lead bucket, hours (the lower bound is the previous
 * bucket's plus one, 1 for the first). */
extern const int fc_skill_bucket_hours[FC_SKILL_NBUCKETS];

struct fc_skill {
	double w;	       /* sum of weights: the effective number of points */
	double sum_ae, sum_se; /* absolute and squared errors of p50 */
	double sum_ape, w_ape; /* absolute percentage errors, where the actual is not 0 */
	double sum_cov, w_cov; /* actual inside [p10, p90], where both exist */
	int64_t n;	       /* points scored in all (not decayed) */
	int64_t as_of;	       /* the time the weights refer to */
};

/* Bucket of a point at 'lead_s' seconds (see above); -1 when the lead is
 * not positive or beyond the last bucket. */
int fc_skill_bucket(int64_t lead_s);
/* "1-6h", "7-24h", ...; NULL for a bad index (static). */
const char *fc_skill_bucket_label(int b);

/* Add one point with weight 1.  Ignored when p50 or the actual is not
 * finite; p10/p90 may be NAN (no interval: coverage not counted). */
void fc_skill_add(struct fc_skill *s, double p10, double p50, double p90, double actual);

/* Decay s from s->as_of to 'at' by 0.5^(age / half_life_s) (no decay
 * when at <= s->as_of or half_life_s <= 0), add the sums of 'batch', and
 * set s->as_of = at.  A zero s (nothing scored yet) just takes batch. */
void fc_skill_merge(struct fc_skill *s, const struct fc_skill *batch, int64_t at, double half_life_s);

/* Add the sums of b to a (same as_of assumed): pooling buckets. */
void fc_skill_pool(struct fc_skill *a, const struct fc_skill *b);

/* Scores; NAN when nothing was counted.  coverage is a ratio (0..1). */
double fc_skill_mae(const struct fc_skill *s);
double fc_skill_mape(const struct fc_skill *s); /* % */
double fc_skill_rmse(const struct fc_skill *s);
double fc_skill_coverage(const struct fc_skill *s);

/* Rank nmodels models, s[i][b] being model i's skill in bucket b.  A
 * model is scored when some bucket has w >= min_w; the common buckets are
 * those where every scored model has w >= min_w.  ret_score[i] is the
 * mean bucket MAE of model i over the common buckets (NAN when model i is
 * not scored or there is no common bucket).  Returns the number of common
 * buckets and, when ret_common is not NULL, a mask of them (bit b). */
size_t fc_skill_rank(const struct fc_skill (*s)[FC_SKILL_NBUCKETS], size_t nmodels, double min_w,
		     double *ret_score, unsigned *ret_common);

#endif
