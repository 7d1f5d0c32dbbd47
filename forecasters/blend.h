/*
 * blend.h - one forecast from several stored ones: ours and the
 * providers' (Electricity Maps, WattTime, ... stored as runs under the
 * source's name), weighted by their recent skill at each lead, and
 * extended past a provider's horizon by ours.
 *
 * At each output step every part that has a p50 there takes part, with
 * weight err^-4 of its recent error (MAE) in the lead bucket of that step
 * (the lead is counted from the part's own issue time), as the ensemble
 * weighs its members; a part without a score there is given the largest
 * error of the scored parts (an unproven source never outweighs a proven
 * one); when no part is scored the weights are equal.  Weights have a
 * floor of 5 % after normalising.  p10 and p90 are the weighted means of
 * the parts' quantiles (quantile averaging) over the parts that have an
 * interval; the result keeps p10 <= p50 <= p90.  Steps only one part
 * covers are that part's values: past a provider's horizon the blend is
 * our forecast.
 */
#ifndef CARBONSCHED_FORECASTERS_BLEND_H
#define CARBONSCHED_FORECASTERS_BLEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "forecasters/forecast.h"
#include "forecasters/skill.h"

struct fc_blend_part {
	const char *name;
	int64_t issued_at;
	int64_t start;		       /* time of values[0] */
	int32_t step;		       /* seconds, equal to the blend's step */
	size_t n;		       /* values in p50 (and p10, p90) */
	const double *p10, *p50, *p90; /* borrowed; p10/p90 may be NULL; NAN = no value */
	double err[FC_SKILL_NBUCKETS]; /* recent MAE per lead bucket, NAN = not scored */
};

/* Blend 'nparts' parts on the grid of 'n' steps of 'step' from 'start'.
 * *ret is initialised here (model "blend", issued_at = start) and owned by
 * the caller (fc_forecast_release); steps no part covers are NAN; *ret is
 * set only on success.  ret_used (may be NULL) gets, per part, the number
 * of steps it took part in.  Errors: ERR_INVALID when a part's step
 * differs or its start is off the grid, or n is 0. */
int fc_blend(const struct fc_blend_part *parts, size_t nparts, int64_t start, int32_t step, size_t n,
	     struct fc_forecast *ret, size_t *ret_used, struct err_detail *err);

#endif
