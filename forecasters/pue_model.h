/*
 * pue_model.h - power usage effectiveness of a region over time.
 *
 * A region's PUE is one of (DESIGN.md §3):
 *   constant  pue(t) = base;
 *   model     pue(t) = base + k·max(0, T_out(t) - t0), driven by the outside
 *             temperature forecast (cooling works harder above t0);
 *   feed      measured or published values; steps without a value fall
 *             back to the model (or the constant).
 * Every answer says which was used (fc_pue_series returns it per step).
 */
#ifndef CARBONSCHED_FORECASTERS_PUE_MODEL_H
#define CARBONSCHED_FORECASTERS_PUE_MODEL_H

#include <stddef.h>

#include "core/error.h"

enum fc_pue_mode { FC_PUE_CONSTANT, FC_PUE_MODEL, FC_PUE_FEED };

struct fc_pue {
	enum fc_pue_mode mode;
	double base; /* >= 1 */
	double k;    /* per °C above t0, >= 0 */
	double t0;   /* °C */
};

/* "constant", "model" or "feed". */
const char *fc_pue_mode_name(enum fc_pue_mode m);

/* Check a configuration: base in [1, 5], k in [0, 1], t0 in [-50, 60].
 * ERR_INVALID naming the field otherwise. */
int fc_pue_validate(const struct fc_pue *p, struct err_detail *err);

/* PUE at outside temperature temp_c (°C; NAN = unknown, then base). */
double fc_pue_at(const struct fc_pue *p, double temp_c);

/* PUE for n steps into ret[0..n): the feed value where p is a feed and
 * feed[i] is finite, else the model (or base).  temp and feed may be
 * NULL.  ret_mode[i] (may be NULL) says what gave each step. */
void fc_pue_series(const struct fc_pue *p, const double *temp, const double *feed, size_t n, double *ret,
		   enum fc_pue_mode *ret_mode);

/* Fit base, k and t0 of the model to observed (temperature, PUE) pairs
 * (NAN pairs skipped): t0 on a 0.5 °C grid over the observed range, base
 * and k by least squares with k >= 0.  *ret is set on success (mode
 * FC_PUE_MODEL).  ERR_UNPROCESSABLE when fewer than 3 valid pairs. */
int fc_pue_fit(const double *temp, const double *pue, size_t n, struct fc_pue *ret, struct err_detail *err);

#endif
