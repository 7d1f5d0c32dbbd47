/*
 * ingest_source.c - pull one provider once (see the .h).
 *
 * Why in service/: it turns command-line words into a connector query and
 * prints for a human; connectors stay free of both.  NAME is a source of
 * the config (its type, zones, keys, credentials and fetch settings are
 * used) or, without one of that name, a connector type.  Without --dry-run
 * each zone's pull is stored as the pollers store it (service/source.h:
 * series upserted in one transaction, forecasts under model NAME,
 * source_state updated), so running it twice writes nothing new.
 */
#include "service/ingest_source.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/cli.h"
#include "service/commands.h"
#include "service/source.h"

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
	    "usage: carbonsched ingest --source NAME [--zone Z] [--from T --to T] [--base-url URL]\n"
	    "                          [--config FILE] [--dry-run] [--quiet]\n"
	    "\n"
	    "Pull a provider once and store what it returned (or, with --dry-run, print it).\n"
	    "\n"
	    "  --source NAME     a source of the config (--config or $CARBONSCHED_CONFIG), or a type:\n"
	    "                    electricitymaps, watttime, ukgrid, entsoe, eia, openmeteo or pue\n"
	    "  --zone Z          zone (DE, US-CAL-CISO, GB), NAME@LAT,LON or LAT,LON for coordinates,\n"
	    "                    a region id (or *) for pue; default: every zone of a configured source\n"
	    "  --key K           the provider's name for the zone (EIC code, EIA respondent, WattTime\n"
	    "                    region, GB region id) when it is not derived from the zone\n"
	    "  --from T --to T   RFC 3339 range [from, to); default: the last day and the forecast\n"
	    "  --base-url URL    another host (a proxy, a mirror, a fake); for pue the feed's file or URL\n"
	    "  --endpoint E      an endpoint of the source (repeatable); default: the source's plan\n"
	    "  --signal-type S   watttime: co2_moer (default) or co2_aoer\n"
	    "  --direct          electricitymaps: direct instead of lifecycle emission factors\n"
	    "  --config FILE     the service config: its sources and database_url (without one,\n"
	    "                    $CARBONSCHED_DATABASE_URL)\n"
	    "  --dry-run         print what was parsed as JSON and write nothing\n"
	    "  --quiet           print nothing on success\n"
	    "\n"
	    "Keys come from the environment, never the command line: CARBONSCHED_ELECTRICITYMAPS_TOKEN,\n"
	    "CARBONSCHED_WATTTIME_USERNAME and _PASSWORD, CARBONSCHED_ENTSOE_TOKEN, CARBONSCHED_EIA_KEY\n"
	    "(or the same names with _FILE naming a file that holds the value), or as the config's\n"
	    "token_env/token_file (username_, password_) say.\n");
}

/* Append a copy of src's series and forecasts to dst (a dry run of several zones). */
static void merge(struct conn_result *dst, const struct conn_result *src)
{
	for (size_t i = 0; i < src->sigs.n; i++) {
		const struct sig_series *x = &src->sigs.items[i];
		struct series *s = sig_set_get(&dst->sigs, x->zone, x->kind, x->source, x->s.step);

		for (size_t k = 0; k < x->s.n; k++)
			if (!isnan(x->s.v[k]))
				series_set(s, series_ts(&x->s, k), x->s.v[k], series_is_estimated(&x->s, k));
	}
	for (size_t i = 0; i < src->nfc; i++) {
		const struct conn_forecast *x = &src->fc[i];
		struct conn_forecast *f = conn_result_forecast(dst, x->zone, x->kind, x->source, x->model,
							       x->issued_at, x->p50.step);
		const struct series *from[3] = {&x->p50, &x->p10, &x->p90};
		struct series *to[3] = {&f->p50, &f->p10, &f->p90};

		for (int b = 0; b < 3; b++)
			for (size_t k = 0; k < from[b]->n; k++)
				if (!isnan(from[b]->v[k]))
					series_set(to[b], series_ts(from[b], k), from[b]->v[k], false);
	}
}

/* Store one zone's pull and record it in source_state; prints a line. */
static int store_zone(struct db *db, struct fetch *f, const char *name, const char *zone, int pull_rc,
		      const struct conn_result *r, const struct err_detail *pull_err, bool quiet)
{
	struct err_detail err = *pull_err, serr = {{0}, {0}};
	struct source_write_stats st = {0};
	struct fetch_breaker_info bi;
	int rc = pull_rc;

	if (!rc)
		rc = source_store(db, r, &st, &err);
	fetch_breaker(f, name, &bi);
	if (rc ? source_state_fail(db, name, zone, ts_now(), 0, err.msg, fetch_breaker_state_name(bi.state),
				   &serr)
	       : source_state_ok(db, name, zone, ts_now(), 0, (int64_t)(st.written + st.fc_points),
				 fetch_breaker_state_name(bi.state), &serr))
		fprintf(stderr, "carbonsched ingest: %s: cannot record the outcome: %s\n", name, serr.msg);
	if (rc) {
		fprintf(stderr, "carbonsched ingest: %s zone '%s': nothing stored: %s\n", name, zone,
			err.msg);
		return rc;
	}
	if (!quiet)
		printf("%s %s: %zu series, %zu points, %zu rows written; %zu forecasts, %zu written (%zu "
		       "points)\n",
		       name, zone, st.series, st.points, st.written, st.forecasts, st.fc_written,
		       st.fc_points);
	return ERR_OK;
}

int ingest_source_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"source", required_argument, NULL, 's'},	{"zone", required_argument, NULL, 'z'},
	    {"key", required_argument, NULL, 'k'},	{"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},	{"base-url", required_argument, NULL, 'b'},
	    {"endpoint", required_argument, NULL, 'e'}, {"signal-type", required_argument, NULL, 'S'},
	    {"direct", no_argument, NULL, 'd'},		{"dry-run", no_argument, NULL, 'n'},
	    {"config", required_argument, NULL, 'c'},	{"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	struct ingest_source_opts o = {0};
	const char *endpoints[17] = {NULL}, *config_path = NULL;
	struct err_detail err = {{0}, {0}};
	struct config *cfg = NULL;
	struct fetch *f = NULL;
	struct db *db = NULL;
	bool quiet = false;
	size_t nep = 0;
	int c, rc, status = 0;

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
		case 'c': config_path = optarg; break;
		case 'q': quiet = true; break;
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
	o.endpoints = nep ? endpoints : NULL;
	config_path = cli_config_path(config_path);
	if (config_path && config_load(config_path, &cfg, &err))
		return cli_fail("ingest", &err);
	const struct source_cfg *configured = cfg ? config_source(cfg, o.source) : NULL;
	if (cfg && !configured && !conn_find(o.source)) {
		struct buf b;
		buf_init(&b, 0);
		for (size_t i = 0; i < cfg->nsources; i++)
			buf_addf(&b, "%s%s", i ? ", " : "", cfg->sources[i].name);
		fprintf(stderr,
			"carbonsched ingest: unknown source '%s': '%s' names %s%s, and it is not a type\n",
			o.source, config_path, cfg->nsources ? "the sources " : "no sources", b.data);
		buf_release(&b);
		config_free(cfg);
		return 1;
	}

	/* The fetcher: the config's settings when there is one. */
	struct fetch_options fo;
	if (cfg)
		source_fetch_options(cfg, &fo);
	else
		fetch_options_default(&fo);
	f = fetch_new(&fo);
	if (!o.dry_run && cli_open_db(config_path, true, &db)) {
		status = 1;
		goto out;
	}

	struct conn_result all, r;
	conn_result_init(&all);
	if (configured) {
		/* The configured source, with the command line's overrides. */
		struct source_cfg sc = *configured;
		char *zone_one[2] = {(char *)o.zone, NULL};
		char *key_zone[1] = {(char *)o.zone}, *key_value[1] = {(char *)o.key};
		struct source src;

		if (o.key && !o.zone) {
			fprintf(stderr, "carbonsched ingest: --key needs --zone\n");
			status = EXIT_USAGE;
			goto out;
		}
		if (o.zone) {
			sc.zones = zone_one;
			sc.nzones = 1;
		}
		if (o.key)
			sc.keys = (struct cfg_map){key_zone, key_value, 1};
		if (o.base_url)
			sc.base_url = (char *)o.base_url;
		if (nep) {
			sc.endpoints = (char **)endpoints;
			sc.nendpoints = nep;
		}
		if (o.signal_type)
			sc.signal_type = (char *)o.signal_type;
		if (o.direct)
			sc.emission_factors = "direct";
		if ((rc = source_open(&src, cfg, &sc, f, NULL, NULL, &err))) {
			fprintf(stderr, "carbonsched ingest: %s\n", err.msg);
			status = 1;
			goto out_all;
		}
		for (size_t i = 0; i < (sc.nzones ? sc.nzones : 1); i++) {
			const char *zone = sc.nzones ? sc.zones[i] : "*";

			err_clear(&err);
			rc = source_pull(&src, zone, o.from, o.to, &r, &err);
			if (o.dry_run && rc)
				fprintf(stderr, "carbonsched ingest: %s\n", err.msg);
			else if (o.dry_run)
				merge(&all, &r);
			else
				rc = store_zone(db, f, src.name, zone, rc, &r, &err, quiet);
			status = rc ? 1 : status;
			conn_result_release(&r);
		}
		source_close(&src);
	} else {
		/* A connector type, pulled as given. */
		rc = ingest_source(&o, f, &r, &err);
		if (!rc)
			source_relabel(&r, o.source);
		if (o.dry_run && rc)
			fprintf(stderr, "carbonsched ingest: %s\n", err.msg);
		else if (o.dry_run)
			merge(&all, &r);
		else if (rc && !conn_find(o.source))
			fprintf(stderr, "carbonsched ingest: %s\n", err.msg); /* nothing to record against */
		else
			rc = store_zone(db, f, o.source, o.zone ? o.zone : "*", rc, &r, &err, quiet);
		status = rc ? 1 : 0;
		conn_result_release(&r);
	}
	if (o.dry_run && !status) {
		struct buf b;
		buf_init(&b, 0);
		ingest_dry_run_json(&all, &b);
		fwrite(b.data, 1, b.len, stdout);
		buf_release(&b);
	}
out_all:
	conn_result_release(&all);
out:
	db_close(db);
	fetch_free(f);
	config_free(cfg);
	return status;
}
