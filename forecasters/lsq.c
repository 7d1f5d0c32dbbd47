/*
 * lsq.c - least squares from sufficient statistics (see lsq.h).
 *
 * Cost: adding a row is p(p+1)/2 multiply-adds; a solve is p³/6 for the
 * Cholesky factorisation.  With p ≈ 40 both are microseconds, which is
 * what lets the ridge models refit every day on every zone.
 */
#include "forecasters/lsq.h"

#include <math.h>
#include <string.h>

#include "core/mem.h"

void fc_ls_init(struct fc_ls *ls, size_t p)
{
	memset(ls, 0, sizeof(*ls));
	ls->p = p;
	ls->xtx = xcalloc(p * p + 1, sizeof(double));
	ls->xty = xcalloc(p + 1, sizeof(double));
	ls->sx = xcalloc(p + 1, sizeof(double));
}

void fc_ls_release(struct fc_ls *ls)
{
	free(ls->xtx);
	free(ls->xty);
	free(ls->sx);
	memset(ls, 0, sizeof(*ls));
}

void fc_ls_clear(struct fc_ls *ls)
{
	size_t p = ls->p;

	memset(ls->xtx, 0, p * p * sizeof(double));
	memset(ls->xty, 0, p * sizeof(double));
	memset(ls->sx, 0, p * sizeof(double));
	ls->sy = ls->syy = ls->sw = 0;
	ls->rows = 0;
}

void fc_ls_add(struct fc_ls *ls, const double *x, double y, double w)
{
	size_t p = ls->p;

	for (size_t i = 0; i < p; i++) {
		double wx = w * x[i];
		double *row = ls->xtx + i * p;

		for (size_t j = i; j < p; j++)
			row[j] += wx * x[j];
		ls->xty[i] += wx * y;
		ls->sx[i] += wx;
	}
	ls->sy += w * y;
	ls->syy += w * y * y;
	ls->sw += w;
	ls->rows++;
}

void fc_ls_scale(struct fc_ls *ls, double rho)
{
	size_t p = ls->p;

	for (size_t i = 0; i < p; i++) {
		for (size_t j = i; j < p; j++)
			ls->xtx[i * p + j] *= rho;
		ls->xty[i] *= rho;
		ls->sx[i] *= rho;
	}
	ls->sy *= rho;
	ls->syy *= rho;
	ls->sw *= rho;
}

int fc_cholesky_solve(double *a, double *b, size_t p)
{
	for (size_t j = 0; j < p; j++) {
		double d = a[j * p + j];

		for (size_t k = 0; k < j; k++)
			d -= a[j * p + k] * a[j * p + k];
		if (!(d > 0))
			return -1;
		d = sqrt(d);
		a[j * p + j] = d;
		for (size_t i = j + 1; i < p; i++) {
			double s = a[i * p + j];

			for (size_t k = 0; k < j; k++)
				s -= a[i * p + k] * a[j * p + k];
			a[i * p + j] = s / d;
		}
	}
	for (size_t i = 0; i < p; i++) { /* L z = b */
		double s = b[i];

		for (size_t k = 0; k < i; k++)
			s -= a[i * p + k] * b[k];
		b[i] = s / a[i * p + i];
	}
	for (size_t i = p; i-- > 0;) { /* Lᵀ x = z */
		double s = b[i];

		for (size_t k = i + 1; k < p; k++)
			s -= a[k * p + i] * b[k];
		b[i] = s / a[i * p + i];
	}
	return 0;
}

int fc_ls_solve(const struct fc_ls *ls, double lambda, double *ret_beta, double *ret_b0, double *ret_mean)
{
	size_t p = ls->p;
	double *a, *b, *mean, ymean, b0;
	int rc = 0;

	if (ls->rows < 2 || !(ls->sw > 0))
		return -1;
	a = xmalloc((p * p + 1) * sizeof(double));
	b = xmalloc((p + 1) * sizeof(double));
	mean = xmalloc((p + 1) * sizeof(double));
	ymean = ls->sy / ls->sw;
	for (size_t i = 0; i < p; i++)
		mean[i] = ls->sx[i] / ls->sw;
	/* Covariance matrix of the features and their covariance with y. */
	for (size_t i = 0; i < p; i++) {
		for (size_t j = i; j < p; j++) {
			double c = ls->xtx[i * p + j] / ls->sw - mean[i] * mean[j];

			a[i * p + j] = a[j * p + i] = c;
		}
		b[i] = ls->xty[i] / ls->sw - mean[i] * ymean;
	}
	for (size_t i = 0; i < p; i++) {
		double v = a[i * p + i];

		if (!(v > 1e-12 * (1 + mean[i] * mean[i]))) {
			/* Constant feature: no information, coefficient 0. */
			for (size_t j = 0; j < p; j++)
				a[i * p + j] = a[j * p + i] = 0;
			a[i * p + i] = 1;
			b[i] = 0;
		} else {
			a[i * p + i] = v * (1 + lambda) + 1e-12;
		}
	}
	if (fc_cholesky_solve(a, b, p) < 0) {
		rc = -1;
		goto out;
	}
	b0 = ymean;
	for (size_t i = 0; i < p; i++)
		b0 -= b[i] * mean[i];
	memcpy(ret_beta, b, p * sizeof(double));
	*ret_b0 = b0;
	if (ret_mean)
		memcpy(ret_mean, mean, p * sizeof(double));
out:
	free(a);
	free(b);
	free(mean);
	return rc;
}
