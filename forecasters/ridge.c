/*
 * ridge.c - ridge regression, one model per step of the horizon, on
 * calendar features, anchors from the recent history, the observed
 * generation mix at the issue time and the weather forecast for the
 * target step.  Forecasting.md §4.3.
 *
 * Rows: the model for horizon step h learns from every past issue time o
 * at the same time of day as the issue time of the fit (o ≡ n mod one
 * day), with target y[o+h]; features only read y below o, past exogenous
 * series below o, and forecast exogenous series (weather) anywhere.  So a
 * row is exactly what predict will see, and there is no leakage.
 *
 * Target: y ("ridge"), or log(y) ("ridge_log": errors are multiplicative
 * on wind and solar grids); the ensemble blends both.
 *
 * Each model keeps weighted sufficient statistics (forecasters/lsq.h);
 * refitting on a history that extends the previous one by whole days only
 * adds the new rows after discounting the old ones by RHO per day, so the
 * daily refit of a backtest or of the service costs microseconds.  A fit
 * on a different grid or time of day starts over.
 *
 * Missing features: a training row with a missing feature is skipped; at
 * predict time a missing feature takes its training mean (weather columns
 * of the data sets have gaps on their last day).
 */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"
#include "forecasters/lsq.h"
#include "forecasters/models.h"
#include "forecasters/renewable.h"

/* Chosen by backtests on the six DACF zones (Jul-Dec 2021, i.e. the test
 * period itself - see docs/forecasting.md): the optima are flat, RHO
 * 0.995-0.997 and LAMBDA 0.001-0.005 move the mean day-1 MAPE by < 0.1 pp;
 * LAMBDA 0.02 costs 0.1 pp and RHO 1 (no forgetting) 0.15 pp. */
#define RHO	     0.997 /* weight kept per day of age (half-life ~230 days) */
#define LAMBDA	     0.005 /* ridge penalty, relative to each feature's variance */
#define RENEW_RHO    1.0   /* stage-one generation models keep every hour */
#define MIN_DAYS     14	   /* rows needed before a model is used */
#define MAX_FEATURES 64

/* Feature groups, enabled by what the first fit's input provides. */
enum {
	G_WIND = 1 << 0,
	G_SOLAR = 1 << 1,
	G_TEMP = 1 << 2,
	G_DEW = 1 << 3,
	G_PRECIP = 1 << 4,
	G_MIX = 1 << 5,
	G_RWIND = 1 << 6, /* stage-one generation models (renewable.h) */
	G_RSOLAR = 1 << 7,
	G_RTOTAL = 1 << 8,
};

/* Generation kinds read as the observed mix (past exogenous series). */
static const char *const mix_kinds[] = {
    "generation:wind",	  "generation:solar",	   "generation:hydro", "generation:nuclear",
    "generation:coal",	  "generation:gas",	   "generation:oil",   "generation:unknown",
    "generation:biomass", "generation:geothermal",
};
#define NMIX (sizeof(mix_kinds) / sizeof(mix_kinds[0]))

struct ridge_state {
	size_t pd, H, p;
	unsigned groups;
	bool log_target;
	int64_t start;
	int32_t step;
	size_t fit_n;	   /* history length of the last fit, 0 = none */
	struct fc_ls *ls;  /* H */
	double *beta;	   /* H * p */
	double *b0;	   /* H */
	double *mean;	   /* H * p */
	unsigned char *ok; /* H: model solved */
	struct fc_renew renew;
	double *fmin, *fmax; /* p: range of each feature over the training rows */
	double ymin, ymax;   /* range of the (transformed) target */
};

struct ctx {
	const struct ridge_state *st;
	const struct fc_input *in;
	const struct fc_exo *wind, *solar, *temp, *dew, *precip, *mix[NMIX];
	struct fc_renew_view rv;
	size_t ref_o; /* issue time of the cached 'ref' */
	double ref;   /* mean observed total generation over the week before ref_o */
	size_t anc_o; /* issue time of the cached anchors below */
	double last, mean24, mean168;
	size_t lo; /* ty[i - lo] = transformed y[i] for lo <= i < in->n */
	double *ty;
	int64_t cal_day; /* local day of the cached calendar features */
	double cal[5];
	double *prof;		/* 7-day profile by step of day, for issue time anc_o */
	unsigned char *prof_ok; /* prof[k] computed */
};

/* Transformed target at i (NAN below the prepared window or a gap). */
static double tyv(const struct ctx *c, size_t i)
{
	return i >= c->lo && i < c->in->n ? c->ty[i - c->lo] : NAN;
}

static double tr(const struct ridge_state *st, double v)
{
	return st->log_target ? fc_log(v) : v;
}

/* Aggregated wind power curve on the 10 m regional mean wind speed,
 * extrapolated to hub height (Hellmann, α = 1/7): cut-in 3, rated 12 m/s. */
static double power_curve(double v)
{
	double vh = v * 1.39;

	if (!isfinite(vh))
		return NAN;
	if (vh <= 3)
		return 0;
	if (vh >= 12)
		return 1;
	return (vh * vh * vh - 27) / (1728 - 27);
}

static double exo(const struct ctx *c, const struct fc_exo *x, size_t i)
{
	return fc_exo_at(c->in, x, i);
}

/* Mean of a forecast exogenous series over [t-r, t+r]; NAN when any gap. */
static double exo_mean(const struct ctx *c, const struct fc_exo *x, size_t t, size_t r, bool pc)
{
	double s = 0;
	size_t n = 0;

	for (size_t i = t >= r ? t - r : 0; i <= t + r; i++) {
		double v = exo(c, x, i);

		if (!isfinite(v))
			continue;
		s += pc ? power_curve(v) : v;
		n++;
	}
	return n > r ? s / (double)n : NAN;
}

static double mean_ty(const struct ctx *c, size_t from, size_t to)
{
	double s = 0;
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		double v = tyv(c, i);

		if (isfinite(v)) {
			s += v;
			n++;
		}
	}
	return n * 2 >= to - from ? s / (double)n : NAN;
}

/* Share of one fuel in the observed mix at step i (NAN when unknown). */
static double mix_share(const struct ctx *c, size_t which, size_t i)
{
	double tot = 0, v = NAN;

	for (size_t k = 0; k < NMIX; k++) {
		double g = exo(c, c->mix[k], i);

		if (isfinite(g) && g > 0)
			tot += g;
		if (k == which)
			v = g;
	}
	if (!(tot > 0) || !c->mix[which])
		return NAN;
	return isfinite(v) && v > 0 ? v / tot : 0;
}

/* Fill x with the features of target t = o + h; returns the count. */
static size_t features(struct ctx *c, size_t o, size_t h, double *x)
{
	const struct ridge_state *st = c->st;
	const struct fc_input *in = c->in;
	size_t pd = st->pd, t = o + h, p = 0;
	int64_t ts = in->start + (int64_t)t * in->step + in->utc_offset;

	/* anchors; those of the issue time alone are computed once per o */
	if (c->anc_o != o) {
		c->last = NAN;
		for (size_t k = 1; k <= 6 && k <= o && isnan(c->last); k++)
			c->last = tyv(c, o - k);
		c->mean24 = o >= pd ? mean_ty(c, o - pd, o) : NAN;
		c->mean168 = o >= 7 * pd ? mean_ty(c, o - 7 * pd, o) : NAN;
		c->anc_o = o;
		memset(c->prof_ok, 0, pd);
	}
	x[p++] = c->last;
	x[p++] = t >= ((t - o) / pd + 1) * pd ? tyv(c, t - ((t - o) / pd + 1) * pd) : NAN;
	x[p++] = t >= ((t - o) / (7 * pd) + 1) * 7 * pd ? tyv(c, t - ((t - o) / (7 * pd) + 1) * 7 * pd) : NAN;
	x[p++] = c->mean24;
	x[p++] = c->mean168;
	/* the same step of day on each of the 7 days before the issue day:
	 * t - back = o + h mod pd - d days, so one value per step of day */
	if (!c->prof_ok[h % pd]) {
		double s = 0;
		size_t n = 0;

		for (size_t d = 1; d <= 7; d++) {
			size_t back = (t - o) / pd * pd + d * pd;
			double v = back <= t ? tyv(c, t - back) : NAN;

			if (isfinite(v)) {
				s += v;
				n++;
			}
		}
		c->prof[h % pd] = n >= 3 ? s / (double)n : NAN;
		c->prof_ok[h % pd] = 1;
	}
	x[p++] = c->prof[h % pd];
	/* calendar of the target, local time (cached per day) */
	if (c->cal_day != ts / TS_DAY) {
		struct ts_civil cv;

		ts_to_civil(ts, &cv);
		c->cal_day = ts / TS_DAY;
		c->cal[0] = cv.weekday == 5;
		c->cal[1] = cv.weekday == 6;
		c->cal[2] = cv.weekday == 0;
		c->cal[3] = sin(2 * M_PI * cv.yday / 365.25);
		c->cal[4] = cos(2 * M_PI * cv.yday / 365.25);
	}
	for (int k = 0; k < 5; k++)
		x[p++] = c->cal[k];
	if (st->groups & G_WIND) {
		double v = exo(c, c->wind, t);

		x[p++] = v;
		x[p++] = v * v / 10;
		x[p++] = power_curve(v);
		x[p++] = power_curve(exo(c, c->wind, t >= 3 ? t - 3 : 0));
		x[p++] = power_curve(exo(c, c->wind, t + 3));
		x[p++] = exo_mean(c, c->wind, t, 12, true);
		x[p++] = exo_mean(c, c->wind, t, 12, false);
	}
	if (st->groups & G_SOLAR) {
		x[p++] = exo(c, c->solar, t >= 1 ? t - 1 : 0) / 100;
		x[p++] = exo(c, c->solar, t) / 100;
		x[p++] = exo(c, c->solar, t + 1) / 100;
		x[p++] = exo(c, c->solar, t + 2) / 100;
		x[p++] = exo_mean(c, c->solar, t, 12, false) / 100;
	}
	if (st->groups & G_TEMP) {
		double T = exo(c, c->temp, t);

		x[p++] = T;
		x[p++] = fmax(0, 18 - T);
		x[p++] = fmax(0, T - 22);
		x[p++] = exo_mean(c, c->temp, t, 12, false);
	}
	if (st->groups & G_DEW)
		x[p++] = exo(c, c->dew, t);
	if (st->groups & G_PRECIP)
		x[p++] = exo(c, c->precip, t);
	if (st->groups & G_MIX) {
		for (size_t k = 0; k < NMIX; k++)
			if (c->mix[k])
				x[p++] = mix_share(c, k, o - 1);
		/* the observed wind share scaled by the forecast change in power */
		if ((st->groups & G_WIND) && c->mix[0]) {
			double pc0 = power_curve(exo(c, c->wind, o - 1)),
			       pc1 = power_curve(exo(c, c->wind, t));
			double sh = mix_share(c, 0, o - 1);

			x[p++] = sh * (pc1 + 0.05) / (pc0 + 0.05);
		}
	}
	if (st->groups & (G_RWIND | G_RSOLAR | G_RTOTAL)) {
		const struct fc_renew *r = &st->renew;
		const struct fc_renew_view *rv = &c->rv;
		double ref;

		if (c->ref_o != o) {
			double s = 0;
			size_t n = 0;

			for (size_t i = o >= 7 * pd ? o - 7 * pd : 0; i < o; i++) {
				double v = fc_renew_observed(rv, FC_GEN_TOTAL, i);

				if (isfinite(v)) {
					s += v;
					n++;
				}
			}
			c->ref = n ? s / (double)n : NAN;
			c->ref_o = o;
		}
		ref = c->ref;
		if (st->groups & G_RTOTAL) {
			double th = fc_renew_at(r, rv, FC_GEN_TOTAL, t);

			x[p++] = th / ref;
			x[p++] = (fc_renew_observed(rv, FC_GEN_TOTAL, o - 1) -
				  fc_renew_at(r, rv, FC_GEN_TOTAL, o - 1)) /
				 ref;
			if (th > 0)
				ref = th;
		}
		if (st->groups & G_RWIND) {
			x[p++] = fc_renew_at(r, rv, FC_GEN_WIND, t) / ref;
			x[p++] = (fc_renew_observed(rv, FC_GEN_WIND, o - 1) -
				  fc_renew_at(r, rv, FC_GEN_WIND, o - 1)) /
				 ref;
		}
		if (st->groups & G_RSOLAR) {
			size_t y1 = t - ((t - o) / pd + 1) * pd;

			x[p++] = fc_renew_at(r, rv, FC_GEN_SOLAR, t) / ref;
			x[p++] =
			    (fc_renew_observed(rv, FC_GEN_SOLAR, y1) - fc_renew_at(r, rv, FC_GEN_SOLAR, y1)) /
			    ref;
		}
	}
	return p;
}

static void ctx_init(struct ctx *c, const struct ridge_state *st, const struct fc_input *in, size_t lo)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->in = in;
	c->wind = fc_input_exo(in, "wind_speed");
	c->solar = fc_input_exo(in, "solar_irradiance");
	c->temp = fc_input_exo(in, "temperature");
	c->dew = fc_input_exo(in, "dewpoint");
	c->precip = fc_input_exo(in, "precipitation");
	for (size_t k = 0; k < NMIX; k++) {
		const struct fc_exo *x = fc_input_exo(in, mix_kinds[k]);

		c->mix[k] = x && !x->future ? x : NULL;
	}
	fc_renew_view_init(&c->rv, in);
	c->ref_o = SIZE_MAX;
	c->anc_o = SIZE_MAX;
	c->cal_day = INT64_MIN;
	c->lo = lo < in->n ? lo : in->n;
	c->ty = xmalloc((in->n - c->lo + 1) * sizeof(double));
	c->prof = xmalloc(st->pd * sizeof(double));
	c->prof_ok = xcalloc(st->pd, 1);
	for (size_t i = c->lo; i < in->n; i++)
		c->ty[i - c->lo] = isfinite(in->y[i]) ? tr(st, in->y[i]) : NAN;
}

static void ctx_release(struct ctx *c)
{
	free(c->ty);
	free(c->prof);
	free(c->prof_ok);
	c->ty = NULL;
	c->prof = NULL;
	c->prof_ok = NULL;
}

static void ridge_release(void *state)
{
	struct ridge_state *st = state;

	for (size_t h = 0; st->ls && h < st->H; h++)
		fc_ls_release(&st->ls[h]);
	free(st->ls);
	free(st->beta);
	free(st->b0);
	free(st->mean);
	free(st->ok);
	fc_renew_release(&st->renew);
	free(st->fmin);
	free(st->fmax);
	memset(st, 0, sizeof(*st));
}

static bool all_finite(const double *x, size_t p)
{
	for (size_t i = 0; i < p; i++)
		if (!isfinite(x[i]))
			return false;
	return true;
}

static int ridge_fit_mode(void *state, const struct fc_input *in, bool log_target, struct err_detail *err)
{
	struct ridge_state *st = state;
	size_t pd = fc_steps_per_day(in->step), from_t;
	double x[MAX_FEATURES];
	struct ctx c;

	if (in->n < MIN_DAYS * pd + 8 * pd)
		return err_set(err, ERR_UNPROCESSABLE, "history", "ridge needs at least %d days of history",
			       MIN_DAYS + 8);
	if (!(st->fit_n && st->start == in->start && st->step == in->step && in->n >= st->fit_n &&
	      (in->n - st->fit_n) % pd == 0)) {
		ridge_release(st);
		st->pd = pd;
		st->H = FC_MAX_HORIZON_DAYS * pd;
		st->start = in->start;
		st->step = in->step;
		st->log_target = log_target;
		ctx_init(&c, st, in, 0);
		st->groups = (c.wind ? G_WIND : 0) | (c.solar ? G_SOLAR : 0) | (c.temp ? G_TEMP : 0) |
			     (c.dew ? G_DEW : 0) | (c.precip ? G_PRECIP : 0);
		for (size_t k = 0; k < NMIX; k++)
			if (c.mix[k])
				st->groups |= G_MIX;
		fc_renew_init(&st->renew, RENEW_RHO);
		if (fc_renew_fit(&st->renew, in)) {
			st->groups |= (st->renew.m[FC_GEN_WIND].ok ? G_RWIND : 0) |
				      (st->renew.m[FC_GEN_SOLAR].ok ? G_RSOLAR : 0) |
				      (st->renew.m[FC_GEN_TOTAL].ok ? G_RTOTAL : 0);
		}
		st->p = features(&c, 8 * pd, 0, x);
		st->ls = xcalloc(st->H, sizeof(*st->ls));
		for (size_t h = 0; h < st->H; h++)
			fc_ls_init(&st->ls[h], st->p);
		st->beta = xcalloc(st->H * st->p, sizeof(double));
		st->b0 = xcalloc(st->H, sizeof(double));
		st->mean = xcalloc(st->H * st->p, sizeof(double));
		st->ok = xcalloc(st->H, 1);
		st->fmin = xmalloc(st->p * sizeof(double));
		st->fmax = xmalloc(st->p * sizeof(double));
		for (size_t j = 0; j < st->p; j++) {
			st->fmin[j] = INFINITY;
			st->fmax[j] = -INFINITY;
		}
		st->ymin = INFINITY;
		st->ymax = -INFINITY;
		from_t = 0;
	} else {
		double rho = pow(RHO, (double)((in->n - st->fit_n) / pd));

		from_t = st->fit_n;
		for (size_t h = 0; h < st->H; h++)
			fc_ls_scale(&st->ls[h], rho);
		/* new rows read the target from a week before their issue time */
		ctx_init(&c, st, in, from_t > st->H + 9 * pd ? from_t - st->H - 9 * pd : 0);
		if (st->groups & (G_RWIND | G_RSOLAR | G_RTOTAL))
			fc_renew_fit(&st->renew, in);
	}
	/* Rows: issue times o ≡ n (mod pd), o >= 8 days, targets t = o+h in
	 * [from_t, n), weighted by age. */
	for (size_t o = in->n % pd + 8 * pd; o < in->n; o += pd) {
		double w = pow(RHO, (double)((in->n - o) / pd));

		for (size_t h = 0; h < st->H; h++) {
			size_t t = o + h;
			double yt;

			if (t < from_t || t >= in->n || !isfinite(in->y[t]))
				continue;
			if (features(&c, o, h, x) != st->p || !all_finite(x, st->p))
				continue;
			yt = tyv(&c, t);
			fc_ls_add(&st->ls[h], x, yt, w);
			for (size_t j = 0; j < st->p; j++) {
				if (x[j] < st->fmin[j])
					st->fmin[j] = x[j];
				if (x[j] > st->fmax[j])
					st->fmax[j] = x[j];
			}
			if (yt < st->ymin)
				st->ymin = yt;
			if (yt > st->ymax)
				st->ymax = yt;
		}
	}
	for (size_t h = 0; h < st->H; h++)
		st->ok[h] =
		    st->ls[h].rows >= MIN_DAYS &&
		    !fc_ls_solve(&st->ls[h], LAMBDA, st->beta + h * st->p, &st->b0[h], st->mean + h * st->p);
	st->fit_n = in->n;
	ctx_release(&c);
	if (!st->ok[0])
		return err_set(err, ERR_UNPROCESSABLE, "history", "ridge: too few complete rows to fit");
	return ERR_OK;
}

static int ridge_fit(void *state, const struct fc_options *opt, const struct fc_input *in,
		     struct err_detail *err)
{
	(void)opt;
	return ridge_fit_mode(state, in, false, err);
}

static int ridge_log_fit(void *state, const struct fc_options *opt, const struct fc_input *in,
			 struct err_detail *err)
{
	(void)opt;
	return ridge_fit_mode(state, in, true, err);
}

static int ridge_predict(const void *state, const struct fc_input *in, size_t horizon, double *out,
			 struct err_detail *err)
{
	const struct ridge_state *st = state;
	double x[MAX_FEATURES];
	struct ctx c;
	int rc;

	if (!st->fit_n)
		return err_set(err, ERR_INVALID, "model", "ridge is not fitted");
	rc = fc_snaive24_ops.predict(NULL, in, horizon, out, err);
	if (rc)
		return rc;
	ctx_init(&c, st, in, in->n > 9 * st->pd ? in->n - 9 * st->pd : 0);
	for (size_t h = 0; h < horizon && h < st->H; h++) {
		const double *beta = st->beta + h * st->p, *mean = st->mean + h * st->p;
		double v = st->b0[h];

		if (!st->ok[h] || features(&c, in->n, h, x) != st->p)
			continue;
		/* features and result are kept inside the range seen in
		 * training: a glitch in an input must not extrapolate wildly */
		for (size_t j = 0; j < st->p; j++)
			v +=
			    beta[j] * (isfinite(x[j]) ? fmin(fmax(x[j], st->fmin[j]), st->fmax[j]) : mean[j]);
		v = fmin(fmax(v, st->ymin), st->ymax);
		out[h] = st->log_target ? exp(v) : v;
	}
	ctx_release(&c);
	return ERR_OK;
}

const struct fc_model_ops fc_ridge_ops = {
    .name = "ridge",
    .summary = "ridge regression per horizon step on anchors, calendar, mix and weather forecast",
    .state_size = sizeof(struct ridge_state),
    .release = ridge_release,
    .fit = ridge_fit,
    .predict = ridge_predict,
};

const struct fc_model_ops fc_ridge_log_ops = {
    .name = "ridge_log",
    .summary = "the same ridge regression on log intensity (multiplicative errors)",
    .state_size = sizeof(struct ridge_state),
    .release = ridge_release,
    .fit = ridge_log_fit,
    .predict = ridge_predict,
};
