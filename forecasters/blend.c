/*
 * blend.c - skill-weighted blend of stored forecasts (see blend.h).
 */
#include "forecasters/blend.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

#define POWER 4
#define FLOOR 0.05

/* Value of a part at time t, NAN when it has none. */
static double part_at(const struct fc_blend_part *p, const double *v, int64_t t)
{
	int64_t i;

	if (!v || t < p->start)
		return NAN;
	i = (t - p->start) / p->step;
	return (size_t)i < p->n ? v[i] : NAN;
}

int fc_blend(const struct fc_blend_part *parts, size_t nparts, int64_t start, int32_t step, size_t n,
	     struct fc_forecast *ret, size_t *ret_used, struct err_detail *err)
{
	struct fc_forecast f;
	double *w;

	if (!n || step <= 0)
		return err_set(err, ERR_INVALID, "horizon", "a blend needs at least one step");
	for (size_t k = 0; k < nparts; k++)
		if (parts[k].step != step || (parts[k].start - start) % step)
			return err_set(err, ERR_INVALID, "step",
				       "forecast '%s' is not on the %d s grid of the blend", parts[k].name,
				       (int)step);
	w = xcalloc(nparts ? nparts : 1, sizeof(double));
	if (ret_used)
		memset(ret_used, 0, nparts * sizeof(*ret_used));
	fc_forecast_init(&f);
	f.issued_at = start;
	f.step = step;
	f.n = n;
	snprintf(f.model, sizeof(f.model), "blend");
	f.p10 = xmalloc(n * sizeof(double));
	f.p50 = xmalloc(n * sizeof(double));
	f.p90 = xmalloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		int64_t t = start + (int64_t)i * step;
		double worst = NAN, tot = 0, s50 = 0, s10 = 0, s90 = 0, w10 = 0, w90 = 0;
		size_t present = 0;

		/* the errors of the parts present at this step, at their leads */
		for (size_t k = 0; k < nparts; k++) {
			int b;

			w[k] = NAN;
			if (!isfinite(part_at(&parts[k], parts[k].p50, t)))
				continue;
			present++;
			b = fc_skill_bucket(t + step - parts[k].issued_at);
			w[k] = b >= 0 && parts[k].err[b] > 0 ? parts[k].err[b]
							     : INFINITY; /* INFINITY: not scored */
			if (isfinite(w[k]) && !(w[k] <= worst))
				worst = w[k];
		}
		f.p10[i] = f.p50[i] = f.p90[i] = NAN;
		if (!present)
			continue;
		for (size_t k = 0; k < nparts; k++) {
			if (isnan(w[k]))
				continue;
			if (isnan(worst))
				w[k] = 1; /* nobody scored: equal weights */
			else
				w[k] = pow(isfinite(w[k]) ? w[k] : worst, -POWER);
			tot += w[k];
		}
		for (size_t k = 0; k < nparts; k++)
			if (!isnan(w[k]))
				w[k] /= tot;
		tot = 0;
		for (size_t k = 0; k < nparts; k++)
			if (!isnan(w[k])) {
				if (present > 1 && w[k] < FLOOR)
					w[k] = FLOOR;
				tot += w[k];
			}
		for (size_t k = 0; k < nparts; k++) {
			double a, b;

			if (isnan(w[k]))
				continue;
			w[k] /= tot;
			s50 += w[k] * part_at(&parts[k], parts[k].p50, t);
			a = part_at(&parts[k], parts[k].p10, t);
			b = part_at(&parts[k], parts[k].p90, t);
			if (isfinite(a) && isfinite(b)) {
				s10 += w[k] * a;
				s90 += w[k] * b;
				w10 += w[k];
				w90 += w[k];
			}
			if (ret_used)
				ret_used[k]++;
		}
		f.p50[i] = s50;
		if (w10 > 0 && w90 > 0) {
			f.p10[i] = fmin(s10 / w10, s50);
			f.p90[i] = fmax(s90 / w90, s50);
		}
	}
	free(w);
	*ret = f;
	return ERR_OK;
}
