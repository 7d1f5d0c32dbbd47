/*
 * holtwinters.c - double-seasonal Holt-Winters (Taylor 2003) on log
 * intensity, with an AR(1) correction of the last one-step error.
 *
 *   e_t = y_t - (l + d[day phase] + w[week phase])
 *   l  += α·e_t
 *   d[p] += δ·(y_t - l - w[q] - d[p]);  w[q] += ω·(y_t - l - d[p] - w[q])
 *   ŷ_{t+k} = l + d[phase(t+k)] + w[phase(t+k)] + φ^k·e_t
 *
 * Phases count from the epoch, so the state means the same thing whatever
 * the history's start.  A gap skips the update and decays the AR term.
 * The state is initialised from the first three weeks (level = mean,
 * daily = mean by step of day, weekly = the rest by step of week).
 * (α, δ, ω, φ) are chosen on a small grid by the multi-step error of
 * daily forecasts over the last eight weeks of the history, all in one
 * filter pass per (α, δ, ω).  predict re-runs the filter over the last
 * FILTER_DAYS of the history (the smallest α, δ, ω forget a day's weight in
 * under 20 weeks): O(1) in the history length, and it keeps predict a pure
 * function of the parameters and the history.
 */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "forecasters/models.h"

#define INIT_DAYS   21
#define EVAL_DAYS   56
#define FILTER_DAYS 140 /* the filter starts this far back: older data has decayed away */

struct dshw_state {
	double alpha, delta, omega, phi;
};

struct filter {
	size_t pd, pw;
	double l, e;
	double *d, *w;
};

static const double phis[] = {0.8, 0.9, 0.95, 0.98};
#define NPHI (sizeof(phis) / sizeof(phis[0]))

static size_t phase(const struct fc_input *in, size_t i, size_t period)
{
	int64_t a = in->start / in->step + (int64_t)i;
	int64_t m = a % (int64_t)period;

	return (size_t)(m < 0 ? m + (int64_t)period : m);
}

static int filter_init(struct filter *f, const struct fc_input *in)
{
	size_t pd = fc_steps_per_day(in->step), pw = 7 * pd, m = INIT_DAYS * pd;
	double sum = 0, *cnt;
	size_t n = 0;

	memset(f, 0, sizeof(*f));
	f->pd = pd;
	f->pw = pw;
	if (m > in->n)
		m = in->n;
	for (size_t i = 0; i < m; i++)
		if (isfinite(in->y[i])) {
			sum += fc_log(in->y[i]);
			n++;
		}
	if (n < 2 * pd)
		return -1;
	f->l = sum / (double)n;
	f->d = xcalloc(pd, sizeof(double));
	f->w = xcalloc(pw, sizeof(double));
	cnt = xcalloc(pw, sizeof(double));
	for (size_t i = 0; i < m; i++)
		if (isfinite(in->y[i])) {
			f->d[phase(in, i, pd)] += fc_log(in->y[i]) - f->l;
			cnt[phase(in, i, pd)]++;
		}
	for (size_t p = 0; p < pd; p++)
		f->d[p] = cnt[p] ? f->d[p] / cnt[p] : 0;
	memset(cnt, 0, pw * sizeof(double));
	for (size_t i = 0; i < m; i++)
		if (isfinite(in->y[i])) {
			f->w[phase(in, i, pw)] += fc_log(in->y[i]) - f->l - f->d[phase(in, i, pd)];
			cnt[phase(in, i, pw)]++;
		}
	for (size_t q = 0; q < pw; q++)
		f->w[q] = cnt[q] ? f->w[q] / cnt[q] : 0;
	free(cnt);
	return 0;
}

static void filter_release(struct filter *f)
{
	free(f->d);
	free(f->w);
}

static void filter_step(struct filter *f, const struct dshw_state *p, const struct fc_input *in, size_t i)
{
	size_t pp = phase(in, i, f->pd), qq = phase(in, i, f->pw);
	double y, e, dold;

	if (!isfinite(in->y[i])) {
		f->e *= p->phi;
		return;
	}
	y = fc_log(in->y[i]);
	e = y - (f->l + f->d[pp] + f->w[qq]);
	f->l += p->alpha * e;
	dold = f->d[pp];
	f->d[pp] += p->delta * (y - f->l - f->w[qq] - dold);
	f->w[qq] += p->omega * (y - f->l - dold - f->w[qq]);
	f->e = e;
}

/* Forecast in log space for step i+k given the state after i-1, with the
 * AR term phik = φ^(k+1) precomputed by the caller. */
static double filter_forecast(const struct filter *f, const struct fc_input *in, size_t i, size_t k,
			      double phik)
{
	return f->l + f->d[phase(in, i + k, f->pd)] + f->w[phase(in, i + k, f->pw)] + phik * f->e;
}

/* The last FILTER_DAYS of 'in' as an input of its own. */
static struct fc_input recent(const struct fc_input *in)
{
	size_t pd = fc_steps_per_day(in->step), keep = FILTER_DAYS * pd;
	struct fc_input r = *in;

	if (in->n > keep) {
		r.start = in->start + (int64_t)(in->n - keep) * in->step;
		r.y = in->y + (in->n - keep);
		r.n = keep;
		r.n_exo = 0;
		r.exo = NULL;
	}
	return r;
}

static int dshw_predict(const void *state, const struct fc_input *full, size_t horizon, double *out,
			struct err_detail *err)
{
	const struct dshw_state *p = state;
	struct fc_input rin = recent(full), *in = &rin;
	struct filter f;
	double pk;

	if (filter_init(&f, in))
		return err_set(err, ERR_UNPROCESSABLE, "history",
			       "dshw needs at least 2 days of data in the first 3 weeks");
	for (size_t i = 0; i < in->n; i++)
		filter_step(&f, p, in, i);
	pk = 1;
	for (size_t k = 0; k < horizon; k++) {
		pk *= p->phi;
		out[k] =
		    exp(f.l + f.d[phase(in, in->n + k, f.pd)] + f.w[phase(in, in->n + k, f.pw)] + pk * f.e);
	}
	filter_release(&f);
	return ERR_OK;
}

static int dshw_fit(void *state, const struct fc_options *opt, const struct fc_input *full,
		    struct err_detail *err)
{
	struct fc_input rin = recent(full), *in = &rin;
	static const double alphas[] = {0.02, 0.05, 0.1, 0.2};
	static const double deltas[] = {0.05, 0.2};
	static const double omegas[] = {0.05, 0.2};
	struct dshw_state *st = state;
	size_t pd = fc_steps_per_day(in->step), H = FC_MAX_HORIZON_DAYS * pd;
	size_t eval_from;
	double best = INFINITY, *phik;

	(void)opt;
	if (in->n < (INIT_DAYS + 7) * pd)
		return err_set(err, ERR_UNPROCESSABLE, "history", "dshw needs at least %d days of history",
			       INIT_DAYS + 7);
	eval_from = in->n > (EVAL_DAYS + INIT_DAYS) * pd ? in->n - EVAL_DAYS * pd : INIT_DAYS * pd;
	*st = (struct dshw_state){0.05, 0.2, 0.2, 0.9};
	phik = xmalloc(NPHI * H * sizeof(double));
	for (size_t j = 0; j < NPHI; j++)
		for (size_t k = 0; k < H; k++)
			phik[j * H + k] = pow(phis[j], (double)(k + 1));
	for (size_t ai = 0; ai < ARRAY_SIZE(alphas); ai++)
		for (size_t di = 0; di < ARRAY_SIZE(deltas); di++)
			for (size_t wi = 0; wi < ARRAY_SIZE(omegas); wi++) {
				struct dshw_state p = {alphas[ai], deltas[di], omegas[wi], 0};
				double errs[NPHI] = {0};
				size_t cnt = 0;
				struct filter f;

				if (filter_init(&f, in)) {
					free(phik);
					return err_set(
					    err, ERR_UNPROCESSABLE, "history",
					    "dshw needs at least 2 days of data in the first 3 weeks");
				}
				for (size_t i = 0; i < in->n; i++) {
					if (i >= eval_from && (in->n - i) % pd == 0) {
						for (size_t k = 0; k < H && i + k < in->n; k++) {
							double y = in->y[i + k];

							if (!isfinite(y))
								continue;
							double base = filter_forecast(&f, in, i, k, 0),
							       ly = fc_log(y);

							for (size_t j = 0; j < NPHI; j++)
								errs[j] +=
								    fabs(base + phik[j * H + k] * f.e - ly);
							cnt++;
						}
					}
					p.phi = 0.9;
					filter_step(&f, &p, in, i);
				}
				filter_release(&f);
				for (size_t j = 0; j < NPHI && cnt; j++)
					if (errs[j] / (double)cnt < best) {
						best = errs[j] / (double)cnt;
						*st = (struct dshw_state){p.alpha, p.delta, p.omega, phis[j]};
					}
			}
	free(phik);
	return ERR_OK;
}

const struct fc_model_ops fc_dshw_ops = {
    .name = "dshw",
    .summary = "double-seasonal Holt-Winters on log intensity with AR(1) error correction",
    .state_size = sizeof(struct dshw_state),
    .fit = dshw_fit,
    .predict = dshw_predict,
};
