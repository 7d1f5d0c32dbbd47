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
 * filter pass per (α, δ, ω); the passes share the initial state, the log
 * target and the phases, computed once per fit.  predict re-runs the filter over the last
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

/* One filter update with the observation y (log space) at day phase pp
 * and week phase qq. */
static inline void step_at(struct filter *f, const struct dshw_state *p, double y, size_t pp, size_t qq)
{
	double e, dold;

	e = y - (f->l + f->d[pp] + f->w[qq]);
	f->l += p->alpha * e;
	dold = f->d[pp];
	f->d[pp] += p->delta * (y - f->l - f->w[qq] - dold);
	f->w[qq] += p->omega * (y - f->l - dold - f->w[qq]);
	f->e = e;
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
	{
		/* filter_step with the phases counted instead of divided */
		size_t pp = phase(in, 0, f.pd), qq = phase(in, 0, f.pw);

		for (size_t i = 0; i < in->n; i++) {
			if (isfinite(in->y[i]))
				step_at(&f, p, fc_log(in->y[i]), pp, qq);
			else
				f.e *= p->phi;
			pp = pp + 1 == f.pd ? 0 : pp + 1;
			qq = qq + 1 == f.pw ? 0 : qq + 1;
		}
	}
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
	size_t eval_from, *pph, *qph;
	double best = INFINITY, *phik, *ly;
	struct filter init, f;

	(void)opt;
	if (in->n < (INIT_DAYS + 7) * pd)
		return err_set(err, ERR_UNPROCESSABLE, "history", "dshw needs at least %d days of history",
			       INIT_DAYS + 7);
	if (filter_init(&init, in))
		return err_set(err, ERR_UNPROCESSABLE, "history",
			       "dshw needs at least 2 days of data in the first 3 weeks");
	eval_from = in->n > (EVAL_DAYS + INIT_DAYS) * pd ? in->n - EVAL_DAYS * pd : INIT_DAYS * pd;
	*st = (struct dshw_state){0.05, 0.2, 0.2, 0.9};
	phik = xmalloc(NPHI * H * sizeof(double));
	for (size_t j = 0; j < NPHI; j++)
		for (size_t k = 0; k < H; k++)
			phik[j * H + k] = pow(phis[j], (double)(k + 1));
	/* what every pass of the grid reads: the log target and the phases */
	ly = xmalloc(in->n * sizeof(double));
	pph = xmalloc(in->n * sizeof(size_t));
	qph = xmalloc(in->n * sizeof(size_t));
	for (size_t i = 0, pp = phase(in, 0, pd), qq = phase(in, 0, init.pw); i < in->n; i++) {
		ly[i] = isfinite(in->y[i]) ? fc_log(in->y[i]) : NAN;
		pph[i] = pp;
		qph[i] = qq;
		pp = pp + 1 == pd ? 0 : pp + 1;
		qq = qq + 1 == init.pw ? 0 : qq + 1;
	}
	f = init;
	f.d = xmalloc(pd * sizeof(double));
	f.w = xmalloc(init.pw * sizeof(double));
	for (size_t ai = 0; ai < ARRAY_SIZE(alphas); ai++)
		for (size_t di = 0; di < ARRAY_SIZE(deltas); di++)
			for (size_t wi = 0; wi < ARRAY_SIZE(omegas); wi++) {
				struct dshw_state p = {alphas[ai], deltas[di], omegas[wi], 0.9};
				double errs[NPHI] = {0};
				size_t cnt = 0;

				/* every pass starts from the same initial state */
				f.l = init.l;
				f.e = init.e;
				memcpy(f.d, init.d, pd * sizeof(double));
				memcpy(f.w, init.w, init.pw * sizeof(double));
				for (size_t i = 0; i < in->n; i++) {
					if (i >= eval_from && (in->n - i) % pd == 0) {
						for (size_t k = 0; k < H && i + k < in->n; k++) {
							double y = ly[i + k];

							if (isnan(y))
								continue;
							double base =
							    f.l + f.d[pph[i + k]] + f.w[qph[i + k]] + 0 * f.e;

							for (size_t j = 0; j < NPHI; j++)
								errs[j] +=
								    fabs(base + phik[j * H + k] * f.e - y);
							cnt++;
						}
					}
					if (isnan(ly[i]))
						f.e *= p.phi;
					else
						step_at(&f, &p, ly[i], pph[i], qph[i]);
				}
				for (size_t j = 0; j < NPHI && cnt; j++)
					if (errs[j] / (double)cnt < best) {
						best = errs[j] / (double)cnt;
						*st = (struct dshw_state){p.alpha, p.delta, p.omega, phis[j]};
					}
			}
	filter_release(&f);
	filter_release(&init);
	free(phik);
	free(ly);
	free(pph);
	free(qph);
	return ERR_OK;
}

const struct fc_model_ops fc_dshw_ops = {
    .name = "dshw",
    .summary = "double-seasonal Holt-Winters on log intensity with AR(1) error correction",
    .state_size = sizeof(struct dshw_state),
    .fit = dshw_fit,
    .predict = dshw_predict,
};
