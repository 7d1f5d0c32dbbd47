/*
 * forecast.c - the model registry and the generic half of every model:
 * validation, intervals from the calibrator, and backcasting.
 *
 * A model implementation only gives central values (fc_model_ops); this
 * file wraps them with the calibrator so that every model, including the
 * ensemble and, later, provider forecasts, gets intervals the same way.
 */
#include "forecasters/forecast.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "forecasters/calib.h"
#include "forecasters/models.h"

/* The registry, in the order reports list the models. */
static const struct fc_model_ops *const registry[] = {
    &fc_snaive24_ops, &fc_snaive168_ops, &fc_ewma_ops,	   &fc_dshw_ops,
    &fc_ridge_ops,    &fc_ridge_log_ops, &fc_ensemble_ops,
};

const char *const fc_model_names[] = {"snaive24", "snaive168", "ewma",	   "dshw",
				      "ridge",	  "ridge_log", "ensemble", NULL};

/* Issue times backcast to seed an empty calibrator (6 residuals per block
 * each); ACI and fc_observe take over from there. */
#define SEED_DAYS 28

/* Most members a composite model may have. */
#define MAX_MEMBERS 8

struct fc_model {
	const struct fc_model_ops *ops;
	struct fc_options opt;
	void *state;
	struct fc_calib calib;
	bool calib_ready; /* calib initialised (mode fixed at the first fit) */
	bool fitted;
	size_t nmembers;
	struct fc_calib mcalib[MAX_MEMBERS]; /* one per member, ready with calib */
};

const struct fc_model_ops *fc_model_ops_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(registry); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

const char *fc_model_summary(const char *name)
{
	const struct fc_model_ops *ops = fc_model_ops_find(name);

	return ops ? ops->summary : NULL;
}

void fc_forecast_init(struct fc_forecast *f)
{
	memset(f, 0, sizeof(*f));
}

void fc_forecast_release(struct fc_forecast *f)
{
	free(f->p10);
	free(f->p50);
	free(f->p90);
	memset(f, 0, sizeof(*f));
}

size_t fc_steps_per_day(int32_t step)
{
	if (step <= 0 || 86400 % step)
		return 0;
	return (size_t)(86400 / step);
}

const struct fc_exo *fc_input_exo(const struct fc_input *in, const char *kind)
{
	for (size_t i = 0; i < in->n_exo; i++)
		if (in->exo[i].kind && !strcmp(in->exo[i].kind, kind))
			return &in->exo[i];
	return NULL;
}

double fc_exo_at(const struct fc_input *in, const struct fc_exo *x, size_t i)
{
	if (!x || i >= x->n || (!x->future && i >= in->n))
		return NAN;
	return x->v[i];
}

double fc_last_valid(const double *y, size_t i, size_t max)
{
	for (size_t k = 1; k <= max && k <= i; k++)
		if (isfinite(y[i - k]))
			return y[i - k];
	return NAN;
}

double fc_same_phase(const double *y, size_t limit, size_t t, size_t period)
{
	size_t back;

	if (limit == 0)
		return NAN;
	/* smallest multiple of period that brings t below limit */
	back = t >= limit ? ((t - limit) / period + 1) * period : period;
	if (back > t)
		return NAN;
	return y[t - back];
}

int fc_model_new(const char *name, const struct fc_options *opt, struct fc_model **ret_model,
		 struct err_detail *err)
{
	const struct fc_model_ops *ops = fc_model_ops_find(name ? name : "");
	struct fc_model *m;

	if (!ops)
		return err_set(err, ERR_INVALID, "model",
			       "unknown model '%s' (expected snaive24, snaive168, ewma, dshw, ridge, "
			       "ridge_log or ensemble)",
			       name ? name : "");
	m = xcalloc(1, sizeof(*m));
	m->ops = ops;
	if (opt)
		m->opt = *opt;
	if (!(m->opt.interval > 0 && m->opt.interval < 1))
		m->opt.interval = 0.8;
	if (m->opt.aci_gamma == 0)
		m->opt.aci_gamma = 0.005;
	if (m->opt.calib_days <= 0)
		m->opt.calib_days = 60;
	m->state = xcalloc(1, ops->state_size ? ops->state_size : 1);
	for (m->nmembers = 0; ops->members && ops->members[m->nmembers]; m->nmembers++)
		assert(m->nmembers < MAX_MEMBERS);
	*ret_model = m;
	return ERR_OK;
}

void fc_model_free(struct fc_model *m)
{
	if (!m)
		return;
	if (m->ops->release)
		m->ops->release(m->state);
	free(m->state);
	if (m->calib_ready) {
		fc_calib_release(&m->calib);
		for (size_t i = 0; i < m->nmembers; i++)
			fc_calib_release(&m->mcalib[i]);
	}
	free(m);
}

void fc_model_compact(struct fc_model *m)
{
	if (m->ops->release)
		m->ops->release(m->state);
	memset(m->state, 0, m->ops->state_size);
	m->fitted = false;
}

const char *fc_model_name(const struct fc_model *m)
{
	return m->ops->name;
}

size_t fc_backcast(const struct fc_model_ops *ops, const void *state, const struct fc_input *in, size_t k,
		   size_t horizon, fc_backcast_cb cb, void *ctx)
{
	size_t pd = fc_steps_per_day(in->step), used = 0;
	double *p50 = xmalloc(horizon * sizeof(double)), *act = xmalloc(horizon * sizeof(double));

	for (size_t d = k; d >= 1; d--) {
		struct fc_input sub = *in;
		size_t o, have = 0;

		if (d * pd + 14 * pd > in->n)
			continue;
		o = in->n - d * pd;
		sub.n = o;
		for (size_t h = 0; h < horizon; h++) {
			act[h] = o + h < in->n ? in->y[o + h] : NAN;
			have += isfinite(act[h]);
		}
		if (!have || ops->predict(state, &sub, horizon, p50, NULL))
			continue;
		cb(ctx, o, p50, act, horizon);
		used++;
	}
	free(p50);
	free(act);
	return used;
}

static void seed_cb(void *ctx, size_t origin, const double *p50, const double *actual, size_t horizon)
{
	struct fc_calib *c = ctx;

	(void)origin;
	for (size_t h = 0; h < horizon; h++)
		fc_calib_add(c, h, p50[h], actual[h], -1);
}

int fc_fit(struct fc_model *m, const struct fc_input *in, struct err_detail *err)
{
	size_t pd = fc_steps_per_day(in->step);
	int rc;

	if (!pd)
		return err_set(err, ERR_INVALID, "step", "step of %d s does not divide a day", (int)in->step);
	if (!m->calib_ready) {
		bool positive = true;

		for (size_t i = 0; i < in->n; i++)
			if (isfinite(in->y[i]) && in->y[i] <= 0)
				positive = false;
		fc_calib_init(&m->calib, pd, m->opt.calib_days, m->opt.interval,
			      m->opt.aci_gamma > 0 ? m->opt.aci_gamma : 0, positive);
		for (size_t i = 0; i < m->nmembers; i++)
			fc_calib_init(&m->mcalib[i], pd, m->opt.calib_days, m->opt.interval,
				      m->opt.aci_gamma > 0 ? m->opt.aci_gamma : 0, positive);
		m->calib_ready = true;
	}
	rc = m->ops->fit(m->state, &m->opt, in, err);
	if (rc)
		return rc;
	m->fitted = true;
	if (fc_calib_is_empty(&m->calib) &&
	    !(m->ops->backcasts &&
	      m->ops->backcasts(m->state, -1, in, SEED_DAYS, FC_MAX_HORIZON_DAYS * pd, seed_cb, &m->calib)))
		fc_backcast(m->ops, m->state, in, SEED_DAYS, FC_MAX_HORIZON_DAYS * pd, seed_cb, &m->calib);
	return ERR_OK;
}

/* Central values of ops/state with intervals from calib: the body of
 * fc_predict and fc_predict_member. */
static int predict_with(const struct fc_model_ops *ops, const void *state, const struct fc_calib *calib,
			const struct fc_input *in, size_t horizon, struct fc_forecast *ret,
			struct err_detail *err)
{
	size_t pd = fc_steps_per_day(in->step);
	struct fc_forecast f;
	int rc;

	if (!pd)
		return err_set(err, ERR_INVALID, "step", "step of %d s does not divide a day", (int)in->step);
	if (horizon == 0 || horizon > FC_MAX_HORIZON_DAYS * pd)
		return err_set(err, ERR_INVALID, "horizon", "horizon must be 1 to %zu steps",
			       FC_MAX_HORIZON_DAYS * pd);
	fc_forecast_init(&f);
	f.issued_at = in->start + (int64_t)in->n * in->step;
	f.step = in->step;
	f.n = horizon;
	snprintf(f.model, sizeof(f.model), "%s", ops->name);
	f.p10 = xmalloc(horizon * sizeof(double));
	f.p50 = xmalloc(horizon * sizeof(double));
	f.p90 = xmalloc(horizon * sizeof(double));
	rc = ops->predict(state, in, horizon, f.p50, err);
	if (rc) {
		fc_forecast_release(&f);
		return rc;
	}
	for (size_t h = 0, sb = calib->steps_per_block; h < horizon; h += sb) {
		double lo, hi;
		bool have = fc_calib_quantiles(calib, h, &lo, &hi);

		for (size_t k = h; k < h + sb && k < horizon; k++)
			if (have)
				fc_calib_apply(calib, f.p50[k], lo, hi, &f.p10[k], &f.p90[k]);
			else
				f.p10[k] = f.p90[k] = f.p50[k];
	}
	*ret = f;
	return ERR_OK;
}

int fc_predict(struct fc_model *m, const struct fc_input *in, size_t horizon, struct fc_forecast *ret,
	       struct err_detail *err)
{
	if (!m->fitted)
		return err_set(err, ERR_INVALID, "model", "model '%s' is not fitted", m->ops->name);
	return predict_with(m->ops, m->state, &m->calib, in, horizon, ret, err);
}

size_t fc_model_members(const struct fc_model *m)
{
	return m->nmembers;
}

const char *fc_model_member_name(const struct fc_model *m, size_t i)
{
	return i < m->nmembers ? m->ops->members[i]->name : NULL;
}

int fc_predict_member(struct fc_model *m, size_t i, const struct fc_input *in, size_t horizon,
		      struct fc_forecast *ret, struct err_detail *err)
{
	const void *st;

	if (i >= m->nmembers)
		return err_set(err, ERR_INVALID, "model", "model '%s' has no member %zu", m->ops->name, i);
	if (!m->fitted)
		return err_set(err, ERR_INVALID, "model", "model '%s' is not fitted", m->ops->name);
	if (!(st = m->ops->member_state(m->state, i)))
		return err_set(err, ERR_UNPROCESSABLE, "history", "member '%s' of '%s' could not be fitted",
			       m->ops->members[i]->name, m->ops->name);
	/* seeded on first use, so that callers who never ask for members do
	 * not pay for the backcasts */
	if (fc_calib_is_empty(&m->mcalib[i]) && fc_steps_per_day(in->step)) {
		size_t H = FC_MAX_HORIZON_DAYS * fc_steps_per_day(in->step);

		if (!(m->ops->backcasts &&
		      m->ops->backcasts(m->state, (int)i, in, SEED_DAYS, H, seed_cb, &m->mcalib[i])))
			fc_backcast(m->ops->members[i], st, in, SEED_DAYS, H, seed_cb, &m->mcalib[i]);
	}
	return predict_with(m->ops->members[i], st, &m->mcalib[i], in, horizon, ret, err);
}

static void observe(struct fc_calib *c, const struct fc_forecast *f, const double *actual)
{
	for (size_t h = 0; h < f->n; h++) {
		int covered;

		if (!isfinite(actual[h]))
			continue;
		covered = actual[h] >= f->p10[h] && actual[h] <= f->p90[h];
		fc_calib_add(c, h, f->p50[h], actual[h], covered);
	}
}

void fc_observe(struct fc_model *m, const struct fc_forecast *f, const double *actual)
{
	if (m->calib_ready)
		observe(&m->calib, f, actual);
}

void fc_observe_member(struct fc_model *m, size_t i, const struct fc_forecast *f, const double *actual)
{
	if (m->calib_ready && i < m->nmembers)
		observe(&m->mcalib[i], f, actual);
}

struct mape_acc {
	size_t h0;
	double sum;
	size_t n;
};

static void mape_cb(void *ctx, size_t origin, const double *p50, const double *actual, size_t horizon)
{
	struct mape_acc *a = ctx;

	(void)origin;
	for (size_t h = a->h0; h < horizon; h++) {
		if (!isfinite(actual[h]) || !isfinite(p50[h]) || actual[h] == 0)
			continue;
		a->sum += fabs(p50[h] - actual[h]) / fabs(actual[h]);
		a->n++;
	}
}

double fc_backcast_mape(const struct fc_model_ops *ops, const void *state, const struct fc_input *in,
			size_t k, size_t h0, size_t h1)
{
	struct mape_acc a = {h0, 0, 0};

	fc_backcast(ops, state, in, k, h1, mape_cb, &a);
	return a.n ? 100 * a.sum / (double)a.n : INFINITY;
}
