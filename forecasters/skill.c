/*
 * skill.c - lead buckets, error sums with exponential forgetting, ranking.
 * See skill.h.  Pure arithmetic: the service keeps the sums in the
 * forecast_skill table and merges each batch of newly scored points here.
 */
#include "forecasters/skill.h"

#include <math.h>
#include <string.h>

const int fc_skill_bucket_hours[FC_SKILL_NBUCKETS] = {6, 24, 48, 96, 168, 336};

static const char *const labels[FC_SKILL_NBUCKETS] = {"1-6h",	"7-24h",   "25-48h",
						      "49-96h", "97-168h", "169-336h"};

int fc_skill_bucket(int64_t lead_s)
{
	if (lead_s <= 0)
		return -1;
	for (int b = 0; b < FC_SKILL_NBUCKETS; b++)
		if (lead_s <= (int64_t)fc_skill_bucket_hours[b] * 3600)
			return b;
	return -1;
}

const char *fc_skill_bucket_label(int b)
{
	return b >= 0 && b < FC_SKILL_NBUCKETS ? labels[b] : NULL;
}

void fc_skill_add(struct fc_skill *s, double p10, double p50, double p90, double actual)
{
	double e;

	if (!isfinite(p50) || !isfinite(actual))
		return;
	e = p50 - actual;
	s->w += 1;
	s->sum_ae += fabs(e);
	s->sum_se += e * e;
	if (actual != 0) {
		s->sum_ape += fabs(e) / fabs(actual);
		s->w_ape += 1;
	}
	if (isfinite(p10) && isfinite(p90)) {
		s->sum_cov += actual >= p10 && actual <= p90;
		s->w_cov += 1;
	}
	s->n++;
}

void fc_skill_pool(struct fc_skill *a, const struct fc_skill *b)
{
	a->w += b->w;
	a->sum_ae += b->sum_ae;
	a->sum_se += b->sum_se;
	a->sum_ape += b->sum_ape;
	a->w_ape += b->w_ape;
	a->sum_cov += b->sum_cov;
	a->w_cov += b->w_cov;
	a->n += b->n;
}

void fc_skill_merge(struct fc_skill *s, const struct fc_skill *batch, int64_t at, double half_life_s)
{
	if (s->w > 0 && at > s->as_of && half_life_s > 0) {
		double f = pow(0.5, (double)(at - s->as_of) / half_life_s);

		s->w *= f;
		s->sum_ae *= f;
		s->sum_se *= f;
		s->sum_ape *= f;
		s->w_ape *= f;
		s->sum_cov *= f;
		s->w_cov *= f;
	}
	fc_skill_pool(s, batch);
	if (at > s->as_of)
		s->as_of = at;
}

double fc_skill_mae(const struct fc_skill *s)
{
	return s->w > 0 ? s->sum_ae / s->w : NAN;
}

double fc_skill_mape(const struct fc_skill *s)
{
	return s->w_ape > 0 ? 100 * s->sum_ape / s->w_ape : NAN;
}

double fc_skill_rmse(const struct fc_skill *s)
{
	return s->w > 0 ? sqrt(s->sum_se / s->w) : NAN;
}

double fc_skill_coverage(const struct fc_skill *s)
{
	return s->w_cov > 0 ? s->sum_cov / s->w_cov : NAN;
}

size_t fc_skill_rank(const struct fc_skill (*s)[FC_SKILL_NBUCKETS], size_t nmodels, double min_w,
		     double *ret_score, unsigned *ret_common)
{
	unsigned common = (1u << FC_SKILL_NBUCKETS) - 1;
	size_t ncommon = 0, scored = 0;

	for (size_t i = 0; i < nmodels; i++) {
		unsigned have = 0;

		for (int b = 0; b < FC_SKILL_NBUCKETS; b++)
			if (s[i][b].w >= min_w && s[i][b].w > 0)
				have |= 1u << b;
		if (have) {
			common &= have;
			scored++;
		}
	}
	if (!scored)
		common = 0;
	for (int b = 0; b < FC_SKILL_NBUCKETS; b++)
		ncommon += (common >> b) & 1;
	for (size_t i = 0; i < nmodels; i++) {
		double sum = 0;
		size_t k = 0;

		for (int b = 0; b < FC_SKILL_NBUCKETS && ncommon; b++) {
			if (!((common >> b) & 1) || !(s[i][b].w >= min_w && s[i][b].w > 0))
				continue;
			sum += fc_skill_mae(&s[i][b]);
			k++;
		}
		ret_score[i] = k == ncommon && k ? sum / (double)k : NAN;
	}
	if (ret_common)
		*ret_common = common;
	return ncommon;
}
