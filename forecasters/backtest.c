/*
 * backtest.c - rolling-origin backtest (see backtest.h for the protocol).
 *
 * The models are created once and refitted at every issue time on the
 * history truncated to that time, so incremental models (ridge) update and
 * the others refit from scratch; predict then sees the same truncated
 * history.  Nothing here reads beyond the issue time except to score.
 */
#include "forecasters/backtest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"
#include "forecasters/calib.h"

struct acc {
	double *dm[FC_MAX_HORIZON_DAYS]; /* daily MAPEs per forecast day */
	size_t ndm[FC_MAX_HORIZON_DAYS];
	double ae[FC_MAX_HORIZON_DAYS], se[FC_MAX_HORIZON_DAYS];
	size_t n[FC_MAX_HORIZON_DAYS], cov[FC_MAX_HORIZON_DAYS], ncov[FC_MAX_HORIZON_DAYS];
	double gain_fc, gain_oracle;
	/* forecasts waiting for their actuals before they feed the calibrator */
	struct fc_forecast *pending;
	size_t npending;
};

int fc_decision(const double *a, const double *f, size_t w, size_t L, double *ret_now, double *ret_oracle,
		double *ret_fc)
{
	double best_a = INFINITY, best_f = INFINITY, now = 0, fc = 0;
	size_t sf = 0;

	if (L == 0 || L > w)
		return -1;
	for (size_t i = 0; i < w; i++)
		if (!isfinite(a[i]) || !isfinite(f[i]))
			return -1;
	for (size_t s = 0; s + L <= w; s++) {
		double sa = 0, sfc = 0;

		for (size_t k = 0; k < L; k++) {
			sa += a[s + k];
			sfc += f[s + k];
		}
		if (s == 0)
			now = sa;
		if (sa < best_a)
			best_a = sa;
		if (sfc < best_f) {
			best_f = sfc;
			sf = s;
		}
	}
	for (size_t k = 0; k < L; k++)
		fc += a[sf + k];
	*ret_now = now;
	*ret_oracle = best_a;
	*ret_fc = fc;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double q)
{
	double pos;
	size_t i;

	if (!n)
		return NAN;
	qsort(v, n, sizeof(double), cmp_double);
	pos = q * (double)(n - 1);
	i = (size_t)pos;
	return i + 1 < n ? v[i] + (pos - (double)i) * (v[i + 1] - v[i]) : v[n - 1];
}

/* Score one forecast (p10 may be NULL: no interval) against y[o..]. */
static void score(struct acc *a, const struct fc_input *in, size_t o, const double *p10, const double *p50,
		  const double *p90, size_t horizon, size_t pd, size_t job, size_t window)
{
	double now, orc, fc;

	for (size_t d = 0; d * pd < horizon && d < FC_MAX_HORIZON_DAYS; d++) {
		double s = 0;
		size_t n = 0;

		for (size_t h = d * pd; h < (d + 1) * pd && h < horizon; h++) {
			double act = o + h < in->n ? in->y[o + h] : NAN;

			if (!isfinite(act) || !isfinite(p50[h]))
				continue;
			a->ae[d] += fabs(p50[h] - act);
			a->se[d] += (p50[h] - act) * (p50[h] - act);
			a->n[d]++;
			if (act != 0) {
				s += fabs(p50[h] - act) / fabs(act);
				n++;
			}
			if (p10 && isfinite(p10[h]) && isfinite(p90[h])) {
				a->cov[d] += act >= p10[h] && act <= p90[h];
				a->ncov[d]++;
			}
		}
		if (n * 2 >= pd) { /* a day with at least half its steps */
			a->dm[d] = xrealloc(a->dm[d], (a->ndm[d] + 1) * sizeof(double));
			a->dm[d][a->ndm[d]++] = 100 * s / (double)n;
		}
	}
	if (window <= horizon && o + window <= in->n &&
	    !fc_decision(in->y + o, p50, window, job, &now, &orc, &fc)) {
		a->gain_fc += now - fc;
		a->gain_oracle += now - orc;
	}
}

static void acc_release(struct acc *a)
{
	for (size_t d = 0; d < FC_MAX_HORIZON_DAYS; d++)
		free(a->dm[d]);
	for (size_t i = 0; i < a->npending; i++)
		fc_forecast_release(&a->pending[i]);
	free(a->pending);
}

static void finish(struct fc_bt_model *m, struct acc *a, size_t horizon, size_t pd)
{
	double sum_m = 0, ae = 0, se = 0;
	size_t nm = 0, n = 0, cov = 0, ncov = 0;

	m->n_by_day = (horizon + pd - 1) / pd;
	if (m->n_by_day > FC_MAX_HORIZON_DAYS)
		m->n_by_day = FC_MAX_HORIZON_DAYS;
	for (size_t d = 0; d < m->n_by_day; d++) {
		struct fc_bt_day *b = &m->by_day[d];
		double s = 0;

		for (size_t i = 0; i < a->ndm[d]; i++)
			s += a->dm[d][i];
		b->days = a->ndm[d];
		b->mape = a->ndm[d] ? s / (double)a->ndm[d] : NAN;
		b->mape_median = pct(a->dm[d], a->ndm[d], 0.5);
		b->mape_p90 = pct(a->dm[d], a->ndm[d], 0.9);
		b->mae = a->n[d] ? a->ae[d] / (double)a->n[d] : NAN;
		b->rmse = a->n[d] ? sqrt(a->se[d] / (double)a->n[d]) : NAN;
		b->coverage80 = a->ncov[d] ? 100.0 * (double)a->cov[d] / (double)a->ncov[d] : NAN;
		sum_m += s;
		nm += a->ndm[d];
		ae += a->ae[d];
		se += a->se[d];
		n += a->n[d];
		cov += a->cov[d];
		ncov += a->ncov[d];
	}
	m->days = nm;
	m->mape = nm ? sum_m / (double)nm : NAN;
	m->mae = n ? ae / (double)n : NAN;
	m->rmse = n ? sqrt(se / (double)n) : NAN;
	m->coverage80 = ncov ? 100.0 * (double)cov / (double)ncov : NAN;
	m->captured_saving = a->gain_oracle > 0 ? 100 * a->gain_fc / a->gain_oracle : NAN;
}

/* Feed the calibrator every pending forecast whose actuals are all
 * before 'limit' (the next issue index). */
static void release_pending(struct acc *a, struct fc_model *model, struct fc_calib *cal,
			    const struct fc_input *in, size_t limit)
{
	size_t keep = 0;

	for (size_t i = 0; i < a->npending; i++) {
		struct fc_forecast *f = &a->pending[i];
		size_t o = (size_t)((f->issued_at - in->start) / in->step);

		if (o + f->n > limit) {
			a->pending[keep++] = *f;
			continue;
		}
		if (model) {
			fc_observe(model, f, in->y + o);
		} else {
			for (size_t h = 0; h < f->n; h++)
				if (isfinite(in->y[o + h]))
					fc_calib_add(cal, h, f->p50[h], in->y[o + h],
						     in->y[o + h] >= f->p10[h] && in->y[o + h] <= f->p90[h]);
		}
		fc_forecast_release(f);
	}
	a->npending = keep;
}

int fc_backtest(const struct fc_input *in, const struct fc_bt_options *opt, struct fc_bt_result *ret,
		struct err_detail *err)
{
	size_t pd = fc_steps_per_day(in->step), nm = opt->n_models, nt = nm + opt->n_ext, issues = 0, total;
	size_t job = opt->job_steps ? opt->job_steps : 4 * pd / 24,
	       window = opt->window_steps ? opt->window_steps : pd;
	struct fc_model **models;
	struct fc_calib *cals;
	struct acc *acc;
	struct fc_bt_result r = {0};
	int rc = ERR_OK;
	double sum_now = 0;

	if (!pd)
		return err_set(err, ERR_INVALID, "step", "step of %d s does not divide a day", (int)in->step);
	if (opt->horizon == 0 || opt->horizon > FC_MAX_HORIZON_DAYS * pd)
		return err_set(err, ERR_INVALID, "horizon", "horizon must be 1 to %zu steps",
			       FC_MAX_HORIZON_DAYS * pd);
	if (opt->to <= opt->from)
		return err_set(err, ERR_INVALID, "to", "the end of the backtest must be after its start");
	if (opt->from < in->start + 22 * TS_DAY)
		return err_set(err, ERR_UNPROCESSABLE, "from",
			       "the backtest must start at least 22 days after the data");
	if ((opt->from - in->start) % in->step)
		return err_set(err, ERR_INVALID, "from", "the start of the backtest is not on the step grid");
	models = xcalloc(nm + 1, sizeof(*models));
	for (size_t i = 0; i < nm; i++) {
		rc = fc_model_new(opt->models[i], opt->opt, &models[i], err);
		if (rc)
			goto out;
	}
	cals = xcalloc(opt->n_ext + 1, sizeof(*cals));
	for (size_t i = 0; i < opt->n_ext; i++)
		fc_calib_init(&cals[i], pd, 60, 0.8, 0.005, true);
	acc = xcalloc(nt, sizeof(*acc));
	r.models = xcalloc(nt, sizeof(*r.models));
	r.n_models = nt;
	for (size_t i = 0; i < nm; i++)
		snprintf(r.models[i].name, sizeof(r.models[i].name), "%s", opt->models[i]);
	for (size_t i = 0; i < opt->n_ext; i++)
		snprintf(r.models[nm + i].name, sizeof(r.models[nm + i].name), "%s", opt->ext[i].name);
	total = (size_t)((opt->to - opt->from + TS_DAY - 1) / TS_DAY);
	for (int64_t t = opt->from; t < opt->to; t += TS_DAY) {
		size_t o = (size_t)((t - in->start) / in->step);
		double now, orc, fc;

		if (o >= in->n)
			break;
		struct fc_input sub = *in;
		sub.n = o;
		for (size_t i = 0; i < nm; i++) {
			struct fc_forecast f;
			int64_t t0 = ts_mono_ms();

			release_pending(&acc[i], models[i], NULL, in, o);
			if (fc_fit(models[i], &sub, NULL) ||
			    fc_predict(models[i], &sub, opt->horizon, &f, NULL)) {
				r.models[i].failures++;
				r.models[i].seconds += (double)(ts_mono_ms() - t0) / 1000;
				continue;
			}
			r.models[i].seconds += (double)(ts_mono_ms() - t0) / 1000;
			score(&acc[i], in, o, f.p10, f.p50, f.p90, opt->horizon, pd, job, window);
			acc[i].pending = xrealloc(acc[i].pending, (acc[i].npending + 1) * sizeof(f));
			acc[i].pending[acc[i].npending++] = f;
		}
		for (size_t i = 0; i < opt->n_ext; i++) {
			const struct fc_bt_external *x = &opt->ext[i];
			size_t h = x->horizon < opt->horizon ? x->horizon : opt->horizon;
			struct fc_forecast f;

			release_pending(&acc[nm + i], NULL, &cals[i], in, o);
			fc_forecast_init(&f);
			f.issued_at = t;
			f.step = in->step;
			f.n = h;
			f.p10 = xmalloc(h * sizeof(double));
			f.p50 = xmalloc(h * sizeof(double));
			f.p90 = xmalloc(h * sizeof(double));
			for (size_t k = 0; k < h; k++) {
				f.p50[k] = o + k < x->n ? x->v[o + k] : NAN;
				fc_calib_interval(&cals[i], k, f.p50[k], &f.p10[k], &f.p90[k]);
			}
			/* an empty calibrator gives no interval yet: not scored for coverage */
			score(&acc[nm + i], in, o, fc_calib_is_empty(&cals[i]) ? NULL : f.p10, f.p50, f.p90,
			      h, pd, job, window);
			acc[nm + i].pending =
			    xrealloc(acc[nm + i].pending, (acc[nm + i].npending + 1) * sizeof(f));
			acc[nm + i].pending[acc[nm + i].npending++] = f;
		}
		if (o + window <= in->n && !fc_decision(in->y + o, in->y + o, window, job, &now, &orc, &fc)) {
			sum_now += now;
			r.oracle_saving += now - orc;
		}
		issues++;
		if (opt->progress)
			opt->progress(opt->progress_ctx, issues, total);
	}
	if (!issues) {
		rc = err_set(err, ERR_UNPROCESSABLE, "from", "no issue time falls inside the data");
		goto out_acc;
	}
	for (size_t i = 0; i < nt; i++)
		finish(&r.models[i], &acc[i],
		       i < nm ? opt->horizon
			      : (opt->ext[i - nm].horizon < opt->horizon ? opt->ext[i - nm].horizon
									 : opt->horizon),
		       pd);
	r.issues = issues;
	r.oracle_saving = sum_now > 0 ? 100 * r.oracle_saving / sum_now : NAN;
	*ret = r;
	r.models = NULL;
out_acc:
	for (size_t i = 0; i < nt; i++)
		acc_release(&acc[i]);
	free(acc);
	free(r.models);
	for (size_t i = 0; i < opt->n_ext; i++)
		fc_calib_release(&cals[i]);
	free(cals);
out:
	for (size_t i = 0; i < nm; i++)
		fc_model_free(models[i]);
	free(models);
	return rc;
}

void fc_bt_result_release(struct fc_bt_result *r)
{
	free(r->models);
	memset(r, 0, sizeof(*r));
}
