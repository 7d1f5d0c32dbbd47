/*
 * signal.c - kind and fuel tables, emission factors and series sets.
 */
#include "core/signal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

static const struct {
	const char *name, *unit, *desc;
} kinds[] = {
#define SIG_KIND_ROW(name, str, unit, desc) {str, unit, desc},
    SIG_KIND_TABLE(SIG_KIND_ROW)
#undef SIG_KIND_ROW
};

static const struct {
	const char *name;
	double lifecycle, direct;
	bool renewable, low_carbon;
} fuels[] = {
#define SIG_FUEL_ROW(name, str, lc, direct, ren, low) {str, lc, direct, ren, low},
    SIG_FUEL_TABLE(SIG_FUEL_ROW)
#undef SIG_FUEL_ROW
};

const char *sig_kind_name(enum sig_kind k)
{
	return kinds[k].name;
}

const char *sig_kind_unit(enum sig_kind k)
{
	return kinds[k].unit;
}

const char *sig_kind_description(enum sig_kind k)
{
	return kinds[k].desc;
}

int sig_kind_parse(const char *s, const char *field, enum sig_kind *ret_kind, int *ret_fuel,
		   struct err_detail *err)
{
	const char *colon = s ? strchr(s, ':') : NULL;
	size_t len = colon ? (size_t)(colon - s) : (s ? strlen(s) : 0);

	for (int k = 0; s && k < SIG__KIND_COUNT; k++) {
		if (strlen(kinds[k].name) != len || strncmp(kinds[k].name, s, len))
			continue;
		int fuel = -1;
		if (k == SIG_GENERATION) {
			if (!colon || (fuel = sig_fuel_parse(colon + 1)) < 0)
				return err_set(err, ERR_INVALID, field,
					       "'%.64s' needs a fuel: generation:coal, generation:gas, "
					       "generation:wind, ...",
					       s);
		} else if (colon) {
			break;
		}
		*ret_kind = (enum sig_kind)k;
		if (ret_fuel)
			*ret_fuel = fuel;
		return ERR_OK;
	}
	return err_set(
	    err, ERR_INVALID, field,
	    "unknown kind '%.64s': expected carbon_intensity, carbon_intensity_direct, marginal_intensity, "
	    "renewable_share, low_carbon_share, generation:<fuel>, load, wind_speed, solar_irradiance, "
	    "temperature, dewpoint, precipitation, cloud_cover, pue, price or marginal_index",
	    s ? s : "");
}

const char *sig_kind_string_unit(const char *s)
{
	enum sig_kind k;

	return sig_kind_parse(s, NULL, &k, NULL, NULL) == ERR_OK ? kinds[k].unit : NULL;
}

const char *sig_fuel_name(enum sig_fuel f)
{
	return fuels[f].name;
}

int sig_fuel_parse(const char *s)
{
	static const struct {
		const char *alias;
		enum sig_fuel f;
	} aliases[] = {
	    {"nat_gas", FUEL_GAS},     {"natural_gas", FUEL_GAS}, {"other", FUEL_UNKNOWN},
	    {"lignite", FUEL_COAL},    {"battery", FUEL_STORAGE}, {"hydro_discharge", FUEL_STORAGE},
	    {"imports", FUEL_UNKNOWN},
	};

	for (int f = 0; f < FUEL__COUNT; f++)
		if (!strcasecmp(s, fuels[f].name))
			return f;
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcasecmp(s, aliases[i].alias))
			return (int)aliases[i].f;
	return -1;
}

double sig_fuel_factor(enum sig_fuel f, enum sig_factors set)
{
	return set == FACTORS_DIRECT ? fuels[f].direct : fuels[f].lifecycle;
}

bool sig_fuel_is_renewable(enum sig_fuel f)
{
	return fuels[f].renewable;
}

bool sig_fuel_is_low_carbon(enum sig_fuel f)
{
	return fuels[f].low_carbon;
}

double sig_intensity_from_mix(const double mix[FUEL__COUNT], enum sig_factors set)
{
	double num = 0, den = 0;

	for (int f = 0; f < FUEL__COUNT; f++) {
		double p = mix[f], ef = sig_fuel_factor((enum sig_fuel)f, set);

		if (isnan(p) || p <= 0 || ef < 0)
			continue;
		num += p * ef;
		den += p;
	}
	return den > 0 ? num / den : NAN;
}

double sig_share_from_mix(const double mix[FUEL__COUNT], bool low_carbon)
{
	double part = 0, den = 0;

	for (int f = 0; f < FUEL__COUNT; f++) {
		double p = mix[f];

		if (isnan(p) || p <= 0 || f == FUEL_STORAGE)
			continue;
		den += p;
		if (low_carbon ? fuels[f].low_carbon : fuels[f].renewable)
			part += p;
	}
	return den > 0 ? 100.0 * part / den : NAN;
}

void sig_set_init(struct sig_set *set)
{
	memset(set, 0, sizeof(*set));
}

void sig_set_release(struct sig_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		series_release(&set->items[i].s);
	free(set->items);
	memset(set, 0, sizeof(*set));
}

struct series *sig_set_get(struct sig_set *set, const char *zone, const char *kind, const char *source,
			   int32_t step)
{
	for (size_t i = 0; i < set->n; i++) {
		struct sig_series *it = &set->items[i];

		if (!strcmp(it->zone, zone) && !strcmp(it->kind, kind) && !strcmp(it->source, source))
			return &it->s;
	}
	set->items = xgrow(set->items, &set->cap, set->n + 1, sizeof(*set->items));
	struct sig_series *it = &set->items[set->n++];
	memset(it, 0, sizeof(*it));
	snprintf(it->zone, sizeof(it->zone), "%s", zone);
	snprintf(it->kind, sizeof(it->kind), "%s", kind);
	snprintf(it->source, sizeof(it->source), "%s", source);
	series_init(&it->s, 0, step);
	return &it->s;
}

struct sig_series *sig_set_find(const struct sig_set *set, const char *zone, const char *kind)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->items[i].zone, zone) && !strcmp(set->items[i].kind, kind))
			return &set->items[i];
	return NULL;
}

size_t sig_set_points(const struct sig_set *set)
{
	size_t k = 0;

	for (size_t i = 0; i < set->n; i++)
		k += series_count_valid(&set->items[i].s);
	return k;
}
