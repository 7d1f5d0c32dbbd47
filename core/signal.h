/*
 * signal.h - the vocabulary of signals: kinds and their units, fuels and
 * their emission factors, and a set of named series as every reader and
 * connector returns it.
 *
 * Emission factors live here and nowhere else: file readers, the EIA and
 * ENTSO-E connectors and the forecasters all turn a generation mix into an
 * intensity through sig_intensity_from_mix().
 */
#ifndef CARBONSCHED_CORE_SIGNAL_H
#define CARBONSCHED_CORE_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/series.h"

/* X(NAME, "name", "unit", "description") - the base kinds of DESIGN.md §1.
 * A generation kind is written "generation:<fuel>" (MW). */
#define SIG_KIND_TABLE(X)                                                                         \
	X(CARBON_INTENSITY, "carbon_intensity", "gCO2eq/kWh", "average intensity, lifecycle")     \
	X(CARBON_INTENSITY_DIRECT, "carbon_intensity_direct", "gCO2eq/kWh",                       \
	  "average intensity, direct (operational) emissions only")                               \
	X(MARGINAL_INTENSITY, "marginal_intensity", "gCO2eq/kWh", "marginal operating emissions") \
	X(RENEWABLE_SHARE, "renewable_share", "%", "share of renewable generation")               \
	X(LOW_CARBON_SHARE, "low_carbon_share", "%", "share of renewable and nuclear generation") \
	X(GENERATION, "generation", "MW", "generation of one fuel, as generation:<fuel>")         \
	X(LOAD, "load", "MW", "total load")                                                       \
	X(WIND_SPEED, "wind_speed", "m/s", "wind speed (hub height where known)")                 \
	X(SOLAR_IRRADIANCE, "solar_irradiance", "W/m2", "downward short-wave radiation")          \
	X(TEMPERATURE, "temperature", "degC", "outside air temperature")                          \
	X(DEWPOINT, "dewpoint", "degC", "dew point")                                              \
	X(PRECIPITATION, "precipitation", "mm", "precipitation per step")                         \
	X(CLOUD_COVER, "cloud_cover", "%", "total cloud cover")                                   \
	X(PUE, "pue", "ratio", "power usage effectiveness")                                       \
	X(PRICE, "price", "EUR/MWh", "day-ahead electricity price")                               \
	X(MARGINAL_INDEX, "marginal_index", "%",                                                  \
	  "percentile of the marginal intensity over the coming day (WattTime signal index)")

enum sig_kind {
#define SIG_KIND_ENUM(name, str, unit, desc) SIG_##name,
	SIG_KIND_TABLE(SIG_KIND_ENUM)
#undef SIG_KIND_ENUM
	    SIG__KIND_COUNT
};

/* X(NAME, "name", lifecycle g/kWh, direct g/kWh, renewable, low carbon).
 * Lifecycle: IPCC AR5 medians as Electricity Maps uses them; direct:
 * Electricity Maps defaults, which equal DACF's Table 1 (coal 760, gas 370,
 * oil 406, unknown 575).  Storage discharge has no own factor: it is
 * counted at the mix average (excluded from the weighted mean). */
#define SIG_FUEL_TABLE(X)                              \
	X(COAL, "coal", 820, 760, false, false)        \
	X(GAS, "gas", 490, 370, false, false)          \
	X(OIL, "oil", 650, 406, false, false)          \
	X(BIOMASS, "biomass", 230, 0, true, true)      \
	X(GEOTHERMAL, "geothermal", 38, 0, true, true) \
	X(HYDRO, "hydro", 24, 0, true, true)           \
	X(NUCLEAR, "nuclear", 12, 0, false, true)      \
	X(SOLAR, "solar", 45, 0, true, true)           \
	X(WIND, "wind", 11, 0, true, true)             \
	X(UNKNOWN, "unknown", 700, 575, false, false)  \
	X(STORAGE, "storage", -1, -1, false, false)

enum sig_fuel {
#define SIG_FUEL_ENUM(name, str, lc, direct, ren, low) FUEL_##name,
	SIG_FUEL_TABLE(SIG_FUEL_ENUM)
#undef SIG_FUEL_ENUM
	    FUEL__COUNT
};

enum sig_factors { FACTORS_LIFECYCLE, FACTORS_DIRECT };

/* Name, unit and description of a base kind. */
const char *sig_kind_name(enum sig_kind k);
const char *sig_kind_unit(enum sig_kind k);
const char *sig_kind_description(enum sig_kind k);

/* Validate a kind string ("carbon_intensity", "generation:wind"); on
 * success sets *ret_kind (and *ret_fuel for generation kinds, else -1).
 * ERR_INVALID naming 'field' and the accepted kinds otherwise. */
int sig_kind_parse(const char *s, const char *field, enum sig_kind *ret_kind, int *ret_fuel,
		   struct err_detail *err);
/* Unit of a kind string, NULL when the kind is unknown. */
const char *sig_kind_string_unit(const char *s);

const char *sig_fuel_name(enum sig_fuel f);
/* Fuel by name ("coal", "nat_gas", "natural gas", "other" are accepted as
 * in the data sets); -1 when unknown. */
int sig_fuel_parse(const char *s);
/* Emission factor of a fuel in gCO2eq/kWh; negative for storage. */
double sig_fuel_factor(enum sig_fuel f, enum sig_factors set);
bool sig_fuel_is_renewable(enum sig_fuel f);
bool sig_fuel_is_low_carbon(enum sig_fuel f);

/* Production-weighted intensity of a mix of FUEL__COUNT generation values
 * (MW or MWh; NAN and negative values are ignored, storage is excluded):
 * Σ P_i·EF_i / Σ P_i.  NAN when the mix is empty. */
double sig_intensity_from_mix(const double mix[FUEL__COUNT], enum sig_factors set);
/* Share (0-100 %) of renewable (or low-carbon) generation in a mix; NAN
 * when empty. */
double sig_share_from_mix(const double mix[FUEL__COUNT], bool low_carbon);

/* One named series: what a reader or connector returns. */
struct sig_series {
	char zone[64];
	char kind[48];	 /* "carbon_intensity", "generation:wind", ... */
	char source[24]; /* "file", "electricitymaps", ... */
	struct series s;
};

/* A growable set of named series.  Owns its series. */
struct sig_set {
	size_t n, cap;
	struct sig_series *items;
};

void sig_set_init(struct sig_set *set);
void sig_set_release(struct sig_set *set);
/* The series for (zone, kind, source), created empty with the given step
 * when absent.  The pointer stays valid until the next sig_set_get that
 * creates a series (the array may move). */
struct series *sig_set_get(struct sig_set *set, const char *zone, const char *kind, const char *source,
			   int32_t step);
/* Existing series for (zone, kind), any source; NULL when absent. */
struct sig_series *sig_set_find(const struct sig_set *set, const char *zone, const char *kind);
/* Total number of valid points. */
size_t sig_set_points(const struct sig_set *set);

#endif
