/*
 * lsq.h - weighted least squares from sufficient statistics, ridge solve.
 *
 * A problem is kept as the weighted sums S = Σ w·x·xᵀ, Σ w·x, Σ w·y,
 * Σ w·x·y, Σ w (the intercept is implicit), so rows can be added one at a
 * time and old rows forgotten geometrically (fc_ls_scale) without keeping
 * them.  The solve centres and standardises the features from those sums
 * and adds lambda·var(x_j) to each diagonal element (ridge on standardised
 * features; the intercept is not penalised), then solves by Cholesky.
 */
#ifndef CARBONSCHED_FORECASTERS_LSQ_H
#define CARBONSCHED_FORECASTERS_LSQ_H

#include <stddef.h>

struct fc_ls {
	size_t p;    /* features, without the intercept */
	double *xtx; /* p*p, upper triangle used */
	double *xty; /* p */
	double *sx;  /* p */
	double sy, syy, sw;
	size_t rows;
};

/* Initialise for p features in caller storage (allocates); release frees. */
void fc_ls_init(struct fc_ls *ls, size_t p);
void fc_ls_release(struct fc_ls *ls);
void fc_ls_clear(struct fc_ls *ls);
/* Add one row x[0..p) with target y and weight w > 0. */
void fc_ls_add(struct fc_ls *ls, const double *x, double y, double w);
/* Multiply every sum by rho (0 < rho <= 1): exponential forgetting. */
void fc_ls_scale(struct fc_ls *ls, double rho);
/* Ridge solution: ret_beta[0..p) and *ret_b0, and the feature means in
 * ret_mean[0..p) (NULL allowed) for imputing missing features.  Returns
 * 0, or -1 when there are fewer than 2 rows (outputs untouched). */
int fc_ls_solve(const struct fc_ls *ls, double lambda, double *ret_beta, double *ret_b0, double *ret_mean);

/* Solve A·x = b in place for a symmetric positive-definite p×p matrix
 * (row-major, full storage; b becomes x).  Returns -1 when A is not
 * positive definite. */
int fc_cholesky_solve(double *a, double *b, size_t p);

#endif
