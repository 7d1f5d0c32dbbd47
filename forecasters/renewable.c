/*
 * renewable.c - generation from weather forecasts (see renewable.h).
 *
 * The regional mean 10 m wind speed of the data sets correlates only
 * about 0.5 with wind output (forecasting.md §1.8); a fleet power curve
 * is smoother than one turbine's, so the wind model lets the regression
 * shape the curve from hinge functions of the speed instead of fixing one.
 */
#include "forecasters/renewable.h"

#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"
#include "forecasters/models.h"

static const char *const other_renewables[] = {"generation:hydro", "generation:biomass",
					       "generation:geothermal"};
static const char *const all_gen[] = {
    "generation:wind",	  "generation:solar",	   "generation:hydro",	 "generation:nuclear",
    "generation:coal",	  "generation:gas",	   "generation:oil",	 "generation:unknown",
    "generation:biomass", "generation:geothermal", "generation:storage",
};

void fc_renew_view_init(struct fc_renew_view *v, const struct fc_input *in)
{
	const struct fc_exo *x;

	memset(v, 0, sizeof(*v));
	v->in = in;
	x = fc_input_exo(in, "wind_speed");
	v->wind = x && x->future ? x : NULL;
	x = fc_input_exo(in, "solar_irradiance");
	v->solar = x && x->future ? x : NULL;
	x = fc_input_exo(in, "temperature");
	v->temp = x && x->future ? x : NULL;
	for (size_t k = 0; k < ARRAY_SIZE(all_gen); k++) {
		x = fc_input_exo(in, all_gen[k]);
		if (x && !x->future)
			v->gen[v->ngen++] = x;
	}
	x = fc_input_exo(in, "generation:wind");
	v->gwind = x && !x->future ? x : NULL;
	x = fc_input_exo(in, "generation:solar");
	v->gsolar = x && !x->future ? x : NULL;
	for (size_t k = 0; k < ARRAY_SIZE(other_renewables); k++) {
		x = fc_input_exo(in, other_renewables[k]);
		v->gother[k] = x && !x->future ? x : NULL;
	}
}

void fc_renew_init(struct fc_renew *r, double rho)
{
	memset(r, 0, sizeof(*r));
	r->rho = rho;
}

void fc_renew_release(struct fc_renew *r)
{
	for (int g = 0; g < FC_GEN__COUNT; g++)
		if (r->m[g].ls.p)
			fc_ls_release(&r->m[g].ls);
	r->fit_n = 0;
	memset(r->m, 0, sizeof(r->m));
}

static double wx(const struct fc_renew_view *v, const struct fc_exo *x, size_t t, long off)
{
	if (!x || ((long)t + off) < 0)
		return NAN;
	return fc_exo_at(v->in, x, (size_t)((long)t + off));
}

static double hinge(double v, double k)
{
	return v > k ? v - k : 0;
}

static double wmean(const struct fc_renew_view *in, size_t t, long r)
{
	double s = 0;
	long n = 0;

	for (long k = -r; k <= r; k++) {
		double v = wx(in, in->wind, t, k);

		if (isfinite(v)) {
			s += v;
			n++;
		}
	}
	return n > r ? s / (double)n : NAN;
}

/* Features of model g at step t; returns the count. */
static size_t features(const struct fc_renew_view *in, enum fc_gen g, size_t t, double *x)
{
	int64_t ts = in->in->start + (int64_t)t * in->in->step;
	struct ts_civil cv;
	size_t p = 0;
	double hod, doy;

	ts_to_civil(ts + in->in->utc_offset, &cv);
	hod = 2 * M_PI * (cv.hour + cv.minute / 60.0) / 24;
	doy = 2 * M_PI * cv.yday / 365.25;
	switch (g) {
	case FC_GEN_WIND: {
		double v = wx(in, in->wind, t, 0);

		x[p++] = v;
		for (int k = 2; k <= 9; k++)
			x[p++] = hinge(v, k);
		x[p++] = hinge(wx(in, in->wind, t, -3), 4);
		x[p++] = hinge(wx(in, in->wind, t, 3), 4);
		x[p++] = wx(in, in->wind, t, -3);
		x[p++] = wx(in, in->wind, t, 3);
		x[p++] = wmean(in, t, 6);
		x[p++] = wmean(in, t, 12);
		x[p++] = v * sin(hod);
		x[p++] = v * cos(hod);
		x[p++] = v * sin(doy);
		x[p++] = v * cos(doy);
		x[p++] = sin(hod);
		x[p++] = cos(hod);
		x[p++] = sin(doy);
		x[p++] = cos(doy);
		x[p++] = wx(in, in->temp, t, 0);
		break;
	}
	case FC_GEN_SOLAR:
		for (long k = -2; k <= 3; k++)
			x[p++] = wx(in, in->solar, t, k) / 100;
		{
			double s1 = wx(in, in->solar, t, 1) / 100;

			x[p++] = s1 * sin(doy);
			x[p++] = s1 * cos(doy);
			x[p++] = s1 * sin(hod);
			x[p++] = s1 * cos(hod);
			x[p++] = s1 * wx(in, in->temp, t, 0) / 10;
		}
		for (int h = 0; h < 4; h++) {
			x[p++] = sin((h + 1) * hod);
			x[p++] = cos((h + 1) * hod);
		}
		x[p++] = sin(doy);
		x[p++] = cos(doy);
		break;
	case FC_GEN_TOTAL: {
		double T = wx(in, in->temp, t, 0);

		for (int h = 1; h < 24; h++)
			x[p++] = cv.hour == h;
		x[p++] = cv.weekday == 5;
		x[p++] = cv.weekday == 6;
		x[p++] = cv.weekday == 0;
		x[p++] = T;
		x[p++] = hinge(18 - T, 0);
		x[p++] = hinge(T, 22);
		x[p++] = sin(doy);
		x[p++] = cos(doy);
		break;
	}
	default: break;
	}
	return p;
}

double fc_renew_observed(const struct fc_renew_view *v, enum fc_gen g, size_t t)
{
	double tot = 0;
	bool any = false;

	if (t >= v->in->n)
		return NAN;
	if (g == FC_GEN_WIND || g == FC_GEN_SOLAR) {
		const struct fc_exo *x = g == FC_GEN_WIND ? v->gwind : v->gsolar;

		return x ? fc_exo_at(v->in, x, t) : NAN;
	}
	for (size_t k = 0; k < v->ngen; k++) {
		double val = fc_exo_at(v->in, v->gen[k], t);

		if (isfinite(val)) {
			tot += val > 0 ? val : 0;
			any = true;
		}
	}
	return any ? tot : NAN;
}

static bool finite_all(const double *x, size_t p)
{
	for (size_t i = 0; i < p; i++)
		if (!isfinite(x[i]))
			return false;
	return true;
}

int fc_renew_fit(struct fc_renew *r, const struct fc_input *in)
{
	size_t pd = fc_steps_per_day(in->step), from = 0;
	double x[FC_RENEW_MAX_FEATURES];
	struct fc_renew_view v;
	int fitted = 0;

	fc_renew_view_init(&v, in);
	if (!pd)
		return 0;
	if (r->fit_n && r->start == in->start && r->step == in->step && in->n >= r->fit_n) {
		double rho = pow(r->rho, (double)(in->n - r->fit_n) / (double)pd);

		for (int g = 0; g < FC_GEN__COUNT; g++)
			if (r->m[g].ls.p)
				fc_ls_scale(&r->m[g].ls, rho);
		from = r->fit_n;
	} else {
		fc_renew_release(r);
		r->start = in->start;
		r->step = in->step;
		for (int g = 0; g < FC_GEN__COUNT; g++) {
			r->m[g].p = features(&v, (enum fc_gen)g, 0, x);
			fc_ls_init(&r->m[g].ls, r->m[g].p);
		}
	}
	for (size_t t = from; t < in->n; t++) {
		double w = pow(r->rho, (double)(in->n - t) / (double)pd);

		for (int g = 0; g < FC_GEN__COUNT; g++) {
			double y = fc_renew_observed(&v, (enum fc_gen)g, t);

			if (!isfinite(y))
				continue;
			features(&v, (enum fc_gen)g, t, x);
			if (finite_all(x, r->m[g].p))
				fc_ls_add(&r->m[g].ls, x, y, w);
		}
	}
	for (int g = 0; g < FC_GEN__COUNT; g++) {
		struct fc_renew_model *m = &r->m[g];

		m->ok = m->ls.rows >= 14 * pd && !fc_ls_solve(&m->ls, 1e-4, m->beta, &m->b0, m->mean);
		fitted += m->ok;
	}
	r->fit_n = in->n;
	return fitted;
}

double fc_renew_at(const struct fc_renew *r, const struct fc_renew_view *in, enum fc_gen g, size_t t)
{
	const struct fc_renew_model *m = &r->m[g];
	double x[FC_RENEW_MAX_FEATURES], v;

	if (!m->ok)
		return NAN;
	/* the step's own weather is required; context further away
	 * (±3..12 h, past the end of the forecast) takes its training mean */
	if (!isfinite(wx(in, g == FC_GEN_WIND ? in->wind : g == FC_GEN_SOLAR ? in->solar : in->temp, t, 0)))
		return NAN;
	features(in, g, t, x);
	v = m->b0;
	for (size_t j = 0; j < m->p; j++)
		v += m->beta[j] * (isfinite(x[j]) ? x[j] : m->mean[j]);
	return v > 0 ? v : 0;
}

double fc_renew_share(const struct fc_renew *r, const struct fc_renew_view *in, size_t t)
{
	double tot = fc_renew_at(r, in, FC_GEN_TOTAL, t), ren = 0;

	if (!(tot > 0))
		return NAN;
	for (int g = FC_GEN_WIND; g <= FC_GEN_SOLAR; g++) {
		double v = fc_renew_at(r, in, (enum fc_gen)g, t);

		if (isfinite(v))
			ren += v;
	}
	for (size_t k = 0; k < ARRAY_SIZE(other_renewables); k++) {
		const struct fc_exo *x = in->gother[k];
		size_t n = in->in->n;
		double v = x ? fc_last_valid(x->v, n < x->n ? n : x->n, 24) : NAN;

		if (isfinite(v) && v > 0)
			ren += v;
	}
	ren = 100 * ren / tot;
	return ren < 100 ? ren : 100;
}
