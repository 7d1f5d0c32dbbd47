/*
 * ensemble.c - a blend of the other models, weighted per quarter day of
 * the horizon by their recent error.  Forecasting.md §4.4.
 *
 * fit fits every member, then scores each on the last ENS_DAYS daily issue
 * times of the history (backcasts: anchors out of sample, parameters from
 * the full fit) per quarter-day block of the horizon, and weights the
 * members by 1/MAPE⁴ with a floor, so a member that is clearly worse on a
 * zone and lead time fades out, and near-ties average (which is where a
 * blend gains).  A member that cannot be fitted is left out.
 */
#include <math.h>
#include <string.h>

#include "core/mem.h"
#include "forecasters/models.h"

#define ENS_DAYS 28
#define FLOOR	 0.02
#define POWER	 4 /* weights 1/MAPE^POWER: backcast errors are noisy, near-ties should average */
#define NBLOCKS	 (FC_MAX_HORIZON_DAYS * 4)

/* NULL-terminated: fc_model_ops.members points here too. */
static const struct fc_model_ops *const members[] = {&fc_dshw_ops, &fc_ridge_ops, &fc_ridge_log_ops, NULL};
#define NMEM (sizeof(members) / sizeof(members[0]) - 1)

struct ensemble_state {
	void *st[NMEM];
	bool ok[NMEM];
	double w[NMEM][NBLOCKS];
	size_t pd;
	/* The members' backcasts of the last fit (for calibrator seeding):
	 * bc[(d - 1) * NMEM + i] is member i's p50 at issue time n - d days,
	 * NULL when it was not made; the history they belong to. */
	double *bc[ENS_DAYS * NMEM];
	size_t bc_h;
	int64_t bc_start;
	size_t bc_n;
	const double *bc_y;
};

static void bc_clear(struct ensemble_state *e)
{
	for (size_t i = 0; i < ENS_DAYS * NMEM; i++) {
		free(e->bc[i]);
		e->bc[i] = NULL;
	}
	e->bc_y = NULL;
}

static void ens_release(void *state)
{
	struct ensemble_state *e = state;

	bc_clear(e);

	for (size_t i = 0; i < NMEM; i++) {
		if (e->st[i] && members[i]->release)
			members[i]->release(e->st[i]);
		free(e->st[i]);
		e->st[i] = NULL;
	}
}

struct score {
	size_t pd;
	double sum[NBLOCKS];
	size_t n[NBLOCKS];
	struct ensemble_state *e; /* keeps the backcasts of member i */
	size_t i, n_in;
};

static void score_cb(void *ctx, size_t origin, const double *p50, const double *actual, size_t horizon)
{
	struct score *s = ctx;
	size_t bs = s->pd >= 4 ? s->pd / 4 : 1, d = (s->n_in - origin) / s->pd;

	if (d >= 1 && d <= ENS_DAYS) {
		double **slot = &s->e->bc[(d - 1) * NMEM + s->i];

		*slot = xrealloc(*slot, horizon * sizeof(double));
		memcpy(*slot, p50, horizon * sizeof(double));
	}
	for (size_t h = 0; h < horizon; h++) {
		size_t b = h / bs;

		if (b >= NBLOCKS || !isfinite(actual[h]) || !isfinite(p50[h]) || actual[h] == 0)
			continue;
		s->sum[b] += fabs(p50[h] - actual[h]) / fabs(actual[h]);
		s->n[b]++;
	}
}

static int ens_fit(void *state, const struct fc_options *opt, const struct fc_input *in,
		   struct err_detail *err)
{
	struct ensemble_state *e = state;
	size_t pd = fc_steps_per_day(in->step), any = 0;
	struct score sc[NMEM];

	e->pd = pd;
	bc_clear(e);
	e->bc_h = FC_MAX_HORIZON_DAYS * pd;
	e->bc_start = in->start;
	e->bc_n = in->n;
	e->bc_y = in->y;
	for (size_t i = 0; i < NMEM; i++) {
		if (!e->st[i])
			e->st[i] = xcalloc(1, members[i]->state_size);
		e->ok[i] = !members[i]->fit(e->st[i], opt, in, i + 1 == NMEM ? err : NULL);
		memset(&sc[i], 0, sizeof(sc[i]));
		sc[i].pd = pd;
		sc[i].e = e;
		sc[i].i = i;
		sc[i].n_in = in->n;
		if (e->ok[i]) {
			fc_backcast(members[i], e->st[i], in, ENS_DAYS, FC_MAX_HORIZON_DAYS * pd, score_cb,
				    &sc[i]);
			any++;
		}
	}
	if (!any)
		return err_set(err, ERR_UNPROCESSABLE, "history",
			       "no member of the ensemble could be fitted");
	for (size_t b = 0; b < NBLOCKS; b++) {
		double tot = 0;

		for (size_t i = 0; i < NMEM; i++) {
			double m = sc[i].n[b] ? sc[i].sum[b] / (double)sc[i].n[b] : NAN;

			e->w[i][b] = e->ok[i] ? (isfinite(m) && m > 0 ? pow(m, -POWER) : 1) : 0;
			tot += e->w[i][b];
		}
		for (size_t i = 0; i < NMEM; i++)
			e->w[i][b] /= tot;
		tot = 0;
		for (size_t i = 0; i < NMEM; i++) {
			if (e->ok[i] && e->w[i][b] < FLOOR)
				e->w[i][b] = FLOOR;
			tot += e->w[i][b];
		}
		for (size_t i = 0; i < NMEM; i++)
			e->w[i][b] /= tot;
	}
	return ERR_OK;
}

static int ens_predict(const void *state, const struct fc_input *in, size_t horizon, double *out,
		       struct err_detail *err)
{
	const struct ensemble_state *e = state;
	size_t bs = e->pd >= 4 ? e->pd / 4 : 1;
	double *tmp = xmalloc(horizon * sizeof(double)), *wsum = xcalloc(horizon, sizeof(double));
	int rc = ERR_OK;

	for (size_t h = 0; h < horizon; h++)
		out[h] = 0;
	for (size_t i = 0; i < NMEM; i++) {
		if (!e->ok[i] || members[i]->predict(e->st[i], in, horizon, tmp, NULL))
			continue;
		for (size_t h = 0; h < horizon; h++) {
			size_t b = h / bs < NBLOCKS ? h / bs : NBLOCKS - 1;

			if (!isfinite(tmp[h]))
				continue;
			out[h] += e->w[i][b] * tmp[h];
			wsum[h] += e->w[i][b];
		}
	}
	for (size_t h = 0; h < horizon; h++) {
		if (wsum[h] > 0) {
			out[h] /= wsum[h];
		} else {
			rc = err_set(err, ERR_UNPROCESSABLE, "history",
				     "no member of the ensemble could predict");
			break;
		}
	}
	free(tmp);
	free(wsum);
	return rc;
}

/* Replays fc_backcast(ops, state, in, k, horizon) from the member
 * backcasts kept by the fit: the same origins, skips and arithmetic as
 * ens_predict, so the calibrator is seeded exactly as by predicting. */
static bool ens_backcasts(const void *state, int member, const struct fc_input *in, size_t k, size_t horizon,
			  fc_backcast_cb cb, void *ctx)
{
	const struct ensemble_state *e = state;
	size_t pd = e->pd, bs = pd >= 4 ? pd / 4 : 1;
	double *out, *wsum, *act;

	if (!e->bc_y || in->y != e->bc_y || in->n != e->bc_n || in->start != e->bc_start || k != ENS_DAYS ||
	    horizon != e->bc_h || (member >= 0 && (size_t)member >= NMEM))
		return false;
	out = xmalloc(horizon * sizeof(double));
	wsum = xmalloc(horizon * sizeof(double));
	act = xmalloc(horizon * sizeof(double));
	for (size_t d = k; d >= 1; d--) {
		size_t o, have = 0;
		bool ok = true;

		if (d * pd + 14 * pd > in->n)
			continue;
		o = in->n - d * pd;
		for (size_t h = 0; h < horizon; h++) {
			act[h] = o + h < in->n ? in->y[o + h] : NAN;
			have += isfinite(act[h]);
		}
		if (!have)
			continue;
		if (member >= 0) {
			const double *p = e->bc[(d - 1) * NMEM + (size_t)member];

			if (p)
				cb(ctx, o, p, act, horizon);
			continue;
		}
		for (size_t h = 0; h < horizon; h++) {
			out[h] = 0;
			wsum[h] = 0;
		}
		for (size_t i = 0; i < NMEM; i++) {
			const double *p = e->bc[(d - 1) * NMEM + i];

			if (!e->ok[i] || !p)
				continue;
			for (size_t h = 0; h < horizon; h++) {
				size_t b = h / bs < NBLOCKS ? h / bs : NBLOCKS - 1;

				if (!isfinite(p[h]))
					continue;
				out[h] += e->w[i][b] * p[h];
				wsum[h] += e->w[i][b];
			}
		}
		for (size_t h = 0; h < horizon && ok; h++) {
			if (wsum[h] > 0)
				out[h] /= wsum[h];
			else
				ok = false;
		}
		if (ok)
			cb(ctx, o, out, act, horizon);
	}
	free(out);
	free(wsum);
	free(act);
	return true;
}

static const void *ens_member_state(const void *state, size_t i)
{
	const struct ensemble_state *e = state;

	return i < NMEM && e->ok[i] ? e->st[i] : NULL;
}

const struct fc_model_ops fc_ensemble_ops = {
    .name = "ensemble",
    .summary = "blend of dshw, ridge and ridge_log weighted per quarter day by recent error",
    .state_size = sizeof(struct ensemble_state),
    .release = ens_release,
    .fit = ens_fit,
    .predict = ens_predict,
    .members = members,
    .member_state = ens_member_state,
    .backcasts = ens_backcasts,
};
