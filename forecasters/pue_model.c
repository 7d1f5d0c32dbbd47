/*
 * pue_model.c - the PUE model of pue_model.h (named apart from connectors/pue.c,
 * the PUE feed connector: static-library members are keyed by file name).
 *
 * The hinge form is what operators publish (free cooling below a
 * threshold, mechanical cooling above it).  The fit scans t0 and solves
 * the two-parameter least squares in closed form for each, which is exact
 * and needs no iteration.
 */
#include "forecasters/pue_model.h"

#include <math.h>

const char *fc_pue_mode_name(enum fc_pue_mode m)
{
	switch (m) {
	case FC_PUE_CONSTANT: return "constant";
	case FC_PUE_MODEL: return "model";
	case FC_PUE_FEED: return "feed";
	}
	return "constant";
}

int fc_pue_validate(const struct fc_pue *p, struct err_detail *err)
{
	if (!(p->base >= 1 && p->base <= 5))
		return err_set(err, ERR_INVALID, "pue.base", "must be between 1 and 5, got %g", p->base);
	if (!(p->k >= 0 && p->k <= 1))
		return err_set(err, ERR_INVALID, "pue.k", "must be between 0 and 1 per degree, got %g", p->k);
	if (!(p->t0 >= -50 && p->t0 <= 60))
		return err_set(err, ERR_INVALID, "pue.t0", "must be between -50 and 60 degC, got %g", p->t0);
	return ERR_OK;
}

double fc_pue_at(const struct fc_pue *p, double temp_c)
{
	if (p->mode == FC_PUE_CONSTANT || !isfinite(temp_c))
		return p->base;
	return p->base + p->k * (temp_c > p->t0 ? temp_c - p->t0 : 0);
}

void fc_pue_series(const struct fc_pue *p, const double *temp, const double *feed, size_t n, double *ret,
		   enum fc_pue_mode *ret_mode)
{
	for (size_t i = 0; i < n; i++) {
		enum fc_pue_mode m = p->mode == FC_PUE_CONSTANT ? FC_PUE_CONSTANT : FC_PUE_MODEL;

		if (p->mode == FC_PUE_FEED && feed && isfinite(feed[i])) {
			ret[i] = feed[i];
			m = FC_PUE_FEED;
		} else if (m == FC_PUE_MODEL && temp && isfinite(temp[i]) && p->k > 0) {
			ret[i] = p->base + p->k * (temp[i] > p->t0 ? temp[i] - p->t0 : 0);
		} else {
			ret[i] = p->base;
			m = FC_PUE_CONSTANT;
		}
		if (ret_mode)
			ret_mode[i] = m;
	}
}

int fc_pue_fit(const double *temp, const double *pue, size_t n, struct fc_pue *ret, struct err_detail *err)
{
	double tmin = INFINITY, tmax = -INFINITY, best = INFINITY;
	struct fc_pue b = {FC_PUE_MODEL, 0, 0, 0};
	size_t valid = 0;

	for (size_t i = 0; i < n; i++)
		if (isfinite(temp[i]) && isfinite(pue[i])) {
			tmin = fmin(tmin, temp[i]);
			tmax = fmax(tmax, temp[i]);
			valid++;
		}
	if (valid < 3)
		return err_set(err, ERR_UNPROCESSABLE, "pue",
			       "need at least 3 (temperature, pue) pairs, got %zu", valid);
	for (double t0 = floor(tmin * 2) / 2; t0 <= tmax; t0 += 0.5) {
		double sx = 0, sy = 0, sxx = 0, sxy = 0, m = (double)valid, k, base, sse = 0;

		for (size_t i = 0; i < n; i++) {
			double x;

			if (!isfinite(temp[i]) || !isfinite(pue[i]))
				continue;
			x = temp[i] > t0 ? temp[i] - t0 : 0;
			sx += x;
			sy += pue[i];
			sxx += x * x;
			sxy += x * pue[i];
		}
		if (sxx * m - sx * sx > 1e-12) {
			k = (m * sxy - sx * sy) / (m * sxx - sx * sx);
			if (k < 0)
				k = 0;
		} else {
			k = 0;
		}
		base = (sy - k * sx) / m;
		for (size_t i = 0; i < n; i++) {
			double x, e;

			if (!isfinite(temp[i]) || !isfinite(pue[i]))
				continue;
			x = temp[i] > t0 ? temp[i] - t0 : 0;
			e = pue[i] - base - k * x;
			sse += e * e;
		}
		if (sse < best - 1e-12) {
			best = sse;
			b = (struct fc_pue){FC_PUE_MODEL, base, k, t0};
		}
	}
	*ret = b;
	return ERR_OK;
}
