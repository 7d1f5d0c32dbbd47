/*
 * ingest_source.c - pull one provider once (see the .h).
 *
 * Why in service/: it turns command-line words into a connector query and
 * prints for a human; connectors stay free of both.  Writing to the
 * database arrives with the store; until then only --dry-run works, and
 * says so otherwise.
 */
#include "service/ingest_source.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"
#include "service/commands.h"

int ingest_parse_zone(const char *arg, char *buf, size_t size, struct conn_query *q, struct err_detail *err)
{
	const char *at = strchr(arg ? arg : "", '@'), *coords;
	char *end;
	double lat, lon;

	snprintf(buf, size, "%s", arg ? arg : "");
	q->zone = buf;
	q->has_coords = false;
	if (at) {
		buf[at - arg] = '\0';
		coords = at + 1;
	} else {
		coords = arg;
	}
	if (!coords || !*coords)
		return at ? err_set(err, ERR_INVALID, "zone", "'%s': expected NAME@LAT,LON", arg) : ERR_OK;
	lat = strtod(coords, &end);
	if (end == coords || *end != ',') {
		if (at)
			return err_set(err, ERR_INVALID, "zone", "'%s': expected NAME@LAT,LON", arg);
		return ERR_OK; /* a plain zone name */
	}
	const char *lon_s = end + 1;
	lon = strtod(lon_s, &end);
	if (end == lon_s || *end || !isfinite(lat) || !isfinite(lon) || fabs(lat) > 90 || fabs(lon) > 180)
		return err_set(err, ERR_INVALID, "zone",
			       "'%s': coordinates must be LAT,LON within -90..90, -180..180", arg);
	q->has_coords = true;
	q->lat = lat;
	q->lon = lon;
	if (!at)
		q->zone = buf; /* the coordinates name the zone */
	if (!*q->zone)
		return err_set(err, ERR_INVALID, "zone", "'%s': the name before '@' is empty", arg);
	return ERR_OK;
}

int ingest_source(const struct ingest_source_opts *o, struct fetch *f, struct conn_result *ret,
		  struct err_detail *err)
{
	const struct connector *conn = conn_find(o->source);
	struct conn_query q = {
	    .key = o->key,
	    .from = o->from,
	    .to = o->to,
	    .endpoints = o->endpoints,
	    .signal_type = o->signal_type,
	    .factors = o->direct ? FACTORS_DIRECT : FACTORS_LIFECYCLE,
	};
	struct conn_ctx ctx;
	char zone[128];
	int rc;

	conn_result_init(ret);
	if (!conn) {
		struct buf b;
		buf_init(&b, 0);
		for (const struct connector *const *c = conn_table; *c; c++)
			buf_addf(&b, "%s%s", c == conn_table ? "" : ", ", (*c)->name);
		rc = err_set(err, ERR_INVALID, "source", "unknown source '%s' (known: %s)",
			     o->source ? o->source : "", b.data);
		buf_release(&b);
		return rc;
	}
	if ((rc = ingest_parse_zone(o->zone ? o->zone : (conn == &conn_pue ? "*" : ""), zone, sizeof(zone),
				    &q, err)))
		return rc;
	if ((rc = conn_ctx_init(&ctx, conn, NULL, o->base_url, f, NULL, err)))
		return rc;
	rc = conn_fetch(&ctx, &q, ret, err);
	conn_ctx_release(&ctx);
	return rc;
}

static void add_points(struct buf *out, const struct series *s, const char *name)
{
	char ts[TS_BUFSZ];
	bool first = true;

	for (size_t i = 0; i < s->n; i++) {
		if (isnan(s->v[i]))
			continue;
		buf_addf(out, "%s{\"ts\":\"%s\",\"%s\":", first ? "" : ",", ts_format(series_ts(s, i), ts),
			 name);
		buf_add_double(out, s->v[i]);
		if (series_is_estimated(s, i))
			buf_adds(out, ",\"estimated\":true");
		buf_addc(out, '}');
		first = false;
	}
}

/* The head of a series, in the key order of cli_print_set_json (the
 * --file dry run), so both print the same shape. */
static void add_head(struct buf *out, const char *zone, const char *kind, const char *source, int32_t step)
{
	const char *unit = sig_kind_string_unit(kind);

	buf_adds(out, "{\"zone\":");
	buf_add_json_string(out, zone);
	buf_adds(out, ",\"kind\":");
	buf_add_json_string(out, kind);
	buf_adds(out, ",\"source\":");
	buf_add_json_string(out, source);
	buf_adds(out, ",\"unit\":");
	buf_add_json_string(out, unit ? unit : "");
	buf_addf(out, ",\"step_s\":%d", (int)step);
}

void ingest_dry_run_json(const struct conn_result *r, struct buf *out)
{
	char ts[TS_BUFSZ];

	buf_adds(out, "{\"series\":[");
	for (size_t i = 0; i < r->sigs.n; i++) {
		const struct sig_series *s = &r->sigs.items[i];
		buf_adds(out, i ? ",\n" : "\n");
		add_head(out, s->zone, s->kind, s->source, s->s.step);
		buf_adds(out, ",\"points\":[");
		add_points(out, &s->s, "value");
		buf_adds(out, "]}");
	}
	buf_adds(out, "\n],\"forecasts\":[");
	for (size_t i = 0; i < r->nfc; i++) {
		const struct conn_forecast *f = &r->fc[i];
		bool first = true;
		buf_adds(out, i ? ",\n" : "\n");
		add_head(out, f->zone, f->kind, f->source, f->p50.step);
		buf_adds(out, ",\"model\":");
		buf_add_json_string(out, f->model);
		buf_addf(out, ",\"issued_at\":\"%s\",\"points\":[", ts_format(f->issued_at, ts));
		for (size_t k = 0; k < f->p50.n; k++) {
			int64_t t = series_ts(&f->p50, k);
			if (isnan(f->p50.v[k]))
				continue;
			buf_addf(out, "%s{\"ts\":\"%s\",\"p50\":", first ? "" : ",", ts_format(t, ts));
			buf_add_double(out, f->p50.v[k]);
			double lo = f->p10.n ? series_at(&f->p10, t) : NAN,
			       hi = f->p90.n ? series_at(&f->p90, t) : NAN;
			if (!isnan(lo)) {
				buf_adds(out, ",\"p10\":");
				buf_add_double(out, lo);
			}
			if (!isnan(hi)) {
				buf_adds(out, ",\"p90\":");
				buf_add_double(out, hi);
			}
			buf_addc(out, '}');
			first = false;
		}
		buf_adds(out, "]}");
	}
	buf_adds(out, "\n]}\n");
}

static void usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: carbonsched ingest --source NAME [--zone Z] [--from T --to T] [--base-url URL] "
	    "[--dry-run]\n"
	    "\n"
	    "Pull a provider once.\n"
	    "\n"
	    "  --source NAME     electricitymaps, watttime, ukgrid, entsoe, eia, openmeteo or pue\n"
	    "  --zone Z          zone (DE, US-CAL-CISO, GB), NAME@LAT,LON or LAT,LON for coordinates,\n"
	    "                    a region id (or *) for pue\n"
	    "  --key K           the provider's name for the zone (EIC code, EIA respondent, WattTime\n"
	    "                    region, GB region id) when it is not derived from the zone\n"
	    "  --from T --to T   RFC 3339 range [from, to); default: the last day and the forecast\n"
	    "  --base-url URL    another host (a proxy, a mirror, a fake); for pue the feed's file or URL\n"
	    "  --endpoint E      an endpoint of the source (repeatable); default: the source's plan\n"
	    "  --signal-type S   watttime: co2_moer (default) or co2_aoer\n"
	    "  --direct          electricitymaps: direct instead of lifecycle emission factors\n"
	    "  --dry-run         print what was parsed as JSON and write nothing\n"
	    "\n"
	    "Keys come from the environment, never the command line: CARBONSCHED_ELECTRICITYMAPS_TOKEN,\n"
	    "CARBONSCHED_WATTTIME_USERNAME and _PASSWORD, CARBONSCHED_ENTSOE_TOKEN, CARBONSCHED_EIA_KEY\n"
	    "(or the same names with _FILE naming a file that holds the value).\n");
}

int ingest_source_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"source", required_argument, NULL, 's'},	{"zone", required_argument, NULL, 'z'},
	    {"key", required_argument, NULL, 'k'},	{"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},	{"base-url", required_argument, NULL, 'b'},
	    {"endpoint", required_argument, NULL, 'e'}, {"signal-type", required_argument, NULL, 'S'},
	    {"direct", no_argument, NULL, 'd'},		{"dry-run", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	struct ingest_source_opts o = {0};
	const char *endpoints[17] = {NULL};
	struct err_detail err = {0};
	struct conn_result r;
	size_t nep = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.source = optarg; break;
		case 'z': o.zone = optarg; break;
		case 'k': o.key = optarg; break;
		case 'b': o.base_url = optarg; break;
		case 'S': o.signal_type = optarg; break;
		case 'd': o.direct = true; break;
		case 'n': o.dry_run = true; break;
		case 'e':
			if (nep + 1 >= ARRAY_SIZE(endpoints)) {
				fprintf(stderr, "carbonsched ingest: too many --endpoint options\n");
				return EXIT_USAGE;
			}
			endpoints[nep++] = optarg;
			break;
		case 'f':
		case 't':
			if (ts_parse(optarg, c == 'f' ? "from" : "to", c == 'f' ? &o.from : &o.to, &err)) {
				fprintf(stderr, "carbonsched ingest: --%s: %s\n", c == 'f' ? "from" : "to",
					err.msg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc || !o.source) {
		fprintf(stderr, "carbonsched ingest: %s\n",
			optind < argc ? "unexpected argument" : "--source is required");
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((o.from || o.to) && !(o.from && o.to)) {
		fprintf(stderr, "carbonsched ingest: --from and --to go together\n");
		return EXIT_USAGE;
	}
	if (!o.dry_run) {
		fprintf(stderr,
			"carbonsched ingest: writing '%s' to the database is not built yet; use --dry-run\n",
			o.source);
		return 1;
	}
	o.endpoints = nep ? endpoints : NULL;
	struct fetch *f = fetch_new(NULL);
	rc = ingest_source(&o, f, &r, &err);
	if (rc) {
		fprintf(stderr, "carbonsched ingest: %s\n", err.msg);
	} else {
		struct buf b;
		buf_init(&b, 0);
		ingest_dry_run_json(&r, &b);
		fwrite(b.data, 1, b.len, stdout);
		buf_release(&b);
	}
	conn_result_release(&r);
	fetch_free(f);
	return rc ? 1 : 0;
}
