/*
 * entsoe.c - the ENTSO-E Transparency Platform: actual generation per
 * production type (A75), day-ahead wind and solar forecasts (A69), actual
 * and day-ahead load (A65).  XML through libxml2 (this file is its only
 * user).
 *
 * A document holds TimeSeries (one per production type, sometimes split),
 * each with Periods: start, resolution and numbered Points.  A point's time
 * is start + (position - 1) x resolution; quantities are MW averaged over
 * the interval ('MAW'), which is our unit already.  Curve type A03 omits
 * positions whose value repeats: they are filled forward to the period's
 * end.  A01 leaves missing positions as gaps.
 *
 * Resolutions may differ within one document (PT15M next to PT60M): every
 * series is brought to the coarsest one by averaging each production
 * type's points in a bucket, then production types are summed into the
 * project's fuels (table below, after the reference's mapping).  The
 * intensity and shares are computed only for buckets where every
 * production type of the document reported - a missing coal series must
 * not make a zone look green.  Consumption series (pumped-storage pumping,
 * 'outBiddingZone' in A75) are not generation and are left out.
 *
 * "No data" is an Acknowledgement_MarketDocument (HTTP 200 today, 400 in
 * the past): it becomes ERR_NOT_FOUND with the platform's reason text.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"
#include "core/mem.h"
#include "core/time.h"

#define NPSR	      26	   /* slot 0: no psrType (load); 1..25: B01..B25 */
#define CHUNK	      (7 * TS_DAY) /* per request over a range */
#define MAX_POSITIONS 200000

/* B01..B25 -> fuel; -1: not generation (grid assets B21-B24). */
static const int psr_fuel[NPSR] = {
    [1] = FUEL_BIOMASS,	   /* biomass */
    [2] = FUEL_COAL,	   /* brown coal / lignite */
    [3] = FUEL_COAL,	   /* coal-derived gas */
    [4] = FUEL_GAS,	   /* fossil gas */
    [5] = FUEL_COAL,	   /* hard coal */
    [6] = FUEL_OIL,	   /* oil */
    [7] = FUEL_OIL,	   /* oil shale */
    [8] = FUEL_COAL,	   /* peat */
    [9] = FUEL_GEOTHERMAL, /* geothermal */
    [10] = FUEL_STORAGE,   /* hydro pumped storage */
    [11] = FUEL_HYDRO,	   /* run-of-river and poundage */
    [12] = FUEL_HYDRO,	   /* water reservoir */
    [13] = FUEL_HYDRO,	   /* marine */
    [14] = FUEL_NUCLEAR,   /* nuclear */
    [15] = FUEL_UNKNOWN,   /* other renewable (the reference counts it as unknown) */
    [16] = FUEL_SOLAR,	   /* solar */
    [17] = FUEL_BIOMASS,   /* waste */
    [18] = FUEL_WIND,	   /* wind offshore */
    [19] = FUEL_WIND,	   /* wind onshore */
    [20] = FUEL_UNKNOWN,   /* other */
    [21] = -1,
    [22] = -1,
    [23] = -1,
    [24] = -1,
    [25] = FUEL_STORAGE, /* energy storage */
};

/* Bidding zones by the project's (Electricity Maps) zone names. */
static const struct {
	const char *zone, *eic;
} zones[] = {
    {"DE", "10Y1001A1001A82H"},	    {"DE-LU", "10Y1001A1001A82H"},  {"FR", "10YFR-RTE------C"},
    {"GB", "10YGB----------A"},	    {"NL", "10YNL----------L"},	    {"BE", "10YBE----------2"},
    {"AT", "10YAT-APG------L"},	    {"CH", "10YCH-SWISSGRIDZ"},	    {"ES", "10YES-REE------0"},
    {"PT", "10YPT-REN------W"},	    {"PL", "10YPL-AREA-----S"},	    {"CZ", "10YCZ-CEPS-----N"},
    {"DK-DK1", "10YDK-1--------W"}, {"DK-DK2", "10YDK-2--------M"}, {"SE-SE3", "10Y1001A1001A46L"},
    {"SE-SE4", "10Y1001A1001A47J"}, {"NO-NO1", "10YNO-1--------2"}, {"NO-NO2", "10YNO-2--------T"},
    {"FI", "10YFI-1--------U"},	    {"IE", "10Y1001A1001A59C"},	    {"IT-NO", "10Y1001A1001A73I"},
};

static const struct {
	const char *code, *name;
} processes[] = {
    {"A01", "day-ahead"},  {"A18", "intraday-total"}, {"A40", "intraday"},
    {"A31", "week-ahead"}, {"A32", "month-ahead"},    {"A33", "year-ahead"},
};

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

/* ------------------------------------------------------------------ */
/* Walking the tree                                                    */

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* Text of an element with one text child (the common case), else "". */
static const char *text(const xmlNode *n)
{
	if (!n)
		return "";
	for (xmlNode *c = n->children; c; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			return (const char *)c->content;
	return "";
}

/* Text without surrounding white space, into out. */
static const char *trimmed(const xmlNode *n, char *out, size_t size)
{
	const char *s = text(n), *e;

	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r' || e[-1] == '\t'))
		e--;
	snprintf(out, size, "%.*s", (int)(e - s), s);
	return out;
}

static bool number(const xmlNode *n, double *ret)
{
	const char *s = text(n);
	char *end;
	double v = strtod(s, &end);

	while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')
		end++;
	if (end == s || *end || !isfinite(v))
		return false;
	*ret = v;
	return true;
}

/* ------------------------------------------------------------------ */
/* Curves: one Period of one TimeSeries, positions filled in           */

struct curve {
	int psr;
	int64_t start;
	int32_t res;
	size_t n;
	double *v;
};

struct doc {
	char type[8], process[8];
	int64_t created;
	struct curve *c;
	size_t n, cap;
};

static void doc_release(struct doc *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->c[i].v);
	free(d->c);
}

static int resolution(const xmlNode *n, int32_t *ret, struct err_detail *err)
{
	char s[32];
	int64_t secs;

	trimmed(n, s, sizeof(s));
	if (s[0] != 'P' || ts_parse_duration(s, NULL, &secs, NULL) || secs < 60 || secs > TS_DAY || secs % 60)
		return err_set(err, ERR_MALFORMED, "resolution",
			       "resolution '%s' is not supported (PT1M to P1D)", s);
	*ret = (int32_t)secs;
	return ERR_OK;
}

static int read_period(struct doc *d, const xmlNode *per, int psr, bool a03, size_t ts_no,
		       struct err_detail *err)
{
	xmlNode *iv = child(per, "timeInterval");
	char s[64], e[64];
	int64_t start, end;
	int32_t res = 0;
	int rc;

	trimmed(child(iv, "start"), s, sizeof(s));
	trimmed(child(iv, "end"), e, sizeof(e));
	if (!conn_parse_time(s, strlen(s), &start) || !conn_parse_time(e, strlen(e), &end) || end <= start)
		return err_set(err, ERR_MALFORMED, "timeInterval",
			       "TimeSeries %zu: Period timeInterval '%s' to '%s' is not a valid interval",
			       ts_no, s, e);
	if ((rc = resolution(child(per, "resolution"), &res, err))) {
		err_prefix(err, "TimeSeries %zu: ", ts_no);
		return rc;
	}
	if ((end - start) % res || (end - start) / res > MAX_POSITIONS)
		return err_set(err, ERR_MALFORMED, "timeInterval",
			       "TimeSeries %zu: the period %s to %s is not a whole number of %d-second steps "
			       "(or too long)",
			       ts_no, s, e, (int)res);
	size_t n = (size_t)((end - start) / res);
	d->c = xgrow(d->c, &d->cap, d->n + 1, sizeof(*d->c));
	struct curve *c = &d->c[d->n++];
	*c = (struct curve){.psr = psr, .start = start, .res = res, .n = n, .v = xmalloc(n * sizeof(double))};
	for (size_t i = 0; i < n; i++)
		c->v[i] = NAN;
	for (xmlNode *pt = per->children; pt; pt = pt->next) {
		double pos, q;
		if (!is(pt, "Point"))
			continue;
		if (!number(child(pt, "position"), &pos) || pos < 1 || pos > (double)n || pos != floor(pos))
			return err_set(err, ERR_MALFORMED, "position",
				       "TimeSeries %zu: Point position '%.20s' is not between 1 and %zu",
				       ts_no, text(child(pt, "position")), n);
		if (!number(child(pt, "quantity"), &q))
			return err_set(err, ERR_MALFORMED, "quantity",
				       "TimeSeries %zu: Point %g quantity '%.20s' is not a number", ts_no,
				       pos, text(child(pt, "quantity")));
		c->v[(size_t)pos - 1] = q;
	}
	if (a03)
		for (size_t i = 1; i < n; i++)
			if (isnan(c->v[i]))
				c->v[i] = c->v[i - 1];
	return ERR_OK;
}

static int read_series(struct doc *d, const xmlNode *ts, size_t ts_no, struct err_detail *err)
{
	char psr_s[16], curve[16], unit[16];
	int psr = 0;
	int rc;

	trimmed(child(child(ts, "MktPSRType"), "psrType"), psr_s, sizeof(psr_s));
	if (*psr_s) {
		char *end;
		long k = psr_s[0] == 'B' ? strtol(psr_s + 1, &end, 10) : -1;
		if (k < 1 || k >= NPSR || *end)
			return err_set(err, ERR_MALFORMED, "psrType", "TimeSeries %zu: unknown psrType '%s'",
				       ts_no, psr_s);
		psr = (int)k;
		if (psr_fuel[psr] < 0)
			return ERR_OK; /* a grid asset, not generation */
	}
	/* In A75, consumption by generation units (pumping) is not generation. */
	if (!strcmp(d->type, "A75") && child(ts, "outBiddingZone_Domain.mRID") &&
	    !child(ts, "inBiddingZone_Domain.mRID"))
		return ERR_OK;
	trimmed(child(ts, "quantity_Measure_Unit.name"), unit, sizeof(unit));
	if (*unit && strcmp(unit, "MAW"))
		return err_set(err, ERR_MALFORMED, "quantity_Measure_Unit.name",
			       "TimeSeries %zu: unit '%s' is not supported (MAW)", ts_no, unit);
	trimmed(child(ts, "curveType"), curve, sizeof(curve));
	if (*curve && strcmp(curve, "A01") && strcmp(curve, "A03"))
		return err_set(err, ERR_MALFORMED, "curveType",
			       "TimeSeries %zu: curveType '%s' is not supported (A01, A03)", ts_no, curve);
	for (xmlNode *per = ts->children; per; per = per->next)
		if (is(per, "Period") && (rc = read_period(d, per, psr, !strcmp(curve, "A03"), ts_no, err)))
			return rc;
	return ERR_OK;
}

static int read_doc(const xmlNode *root, struct doc *d, struct err_detail *err)
{
	char s[64];
	size_t ts_no = 0;
	int rc;

	if (is(root, "Acknowledgement_MarketDocument")) {
		xmlNode *reason = child(root, "Reason");
		char code[16], why[400];
		trimmed(child(reason, "code"), code, sizeof(code));
		trimmed(child(reason, "text"), why, sizeof(why));
		return err_set(err, ERR_NOT_FOUND, "", "%s (reason %s)",
			       *why ? why : "acknowledgement without a reason", *code ? code : "?");
	}
	if (!is(root, "GL_MarketDocument"))
		return err_set(err, ERR_MALFORMED, "", "expected a GL_MarketDocument, got '%.40s'",
			       (const char *)root->name);
	trimmed(child(root, "type"), d->type, sizeof(d->type));
	trimmed(child(root, "process.processType"), d->process, sizeof(d->process));
	trimmed(child(root, "createdDateTime"), s, sizeof(s));
	if (*s && !conn_parse_time(s, strlen(s), &d->created))
		return err_set(err, ERR_MALFORMED, "createdDateTime", "createdDateTime '%s' is not a time",
			       s);
	if (strcmp(d->type, "A75") && strcmp(d->type, "A69") && strcmp(d->type, "A65"))
		return err_set(err, ERR_MALFORMED, "type",
			       "document type '%s' is not supported (A75, A69, A65)", d->type);
	for (xmlNode *ts = root->children; ts; ts = ts->next)
		if (is(ts, "TimeSeries") && (rc = read_series(d, ts, ++ts_no, err)))
			return rc;
	return ERR_OK;
}

/* ------------------------------------------------------------------ */
/* Buckets: every curve onto the coarsest step, per production type     */

struct grid {
	int64_t anchor;
	int32_t step;
	size_t nb;
	double *sum[NPSR], *cnt[NPSR]; /* NULL for production types absent */
};

static void grid_release(struct grid *g)
{
	for (int k = 0; k < NPSR; k++) {
		free(g->sum[k]);
		free(g->cnt[k]);
	}
}

static int build_grid(const struct doc *d, struct grid *g, struct err_detail *err)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < d->n; i++) {
		const struct curve *c = &d->c[i];
		if (c->res > g->step)
			g->step = c->res;
		if (c->start < lo)
			lo = c->start;
		if (c->start + (int64_t)c->n * c->res > hi)
			hi = c->start + (int64_t)c->n * c->res;
	}
	if (!d->n)
		return ERR_OK;
	for (size_t i = 0; i < d->n; i++)
		if (g->step % d->c[i].res)
			return err_set(err, ERR_MALFORMED, "resolution",
				       "resolutions of %d s and %d s in one document do not nest",
				       (int)d->c[i].res, (int)g->step);
	g->anchor = lo;
	if ((uint64_t)(hi - lo) / (uint64_t)g->step >= CONN_MAX_STEPS)
		return err_set(err, ERR_MALFORMED, "timeInterval", "the document spans more than %zu steps",
			       CONN_MAX_STEPS);
	g->nb = (size_t)((hi - lo + g->step - 1) / g->step);
	for (size_t i = 0; i < d->n; i++) {
		const struct curve *c = &d->c[i];
		int k = c->psr;
		if (!g->sum[k]) {
			g->sum[k] = xcalloc(g->nb, sizeof(double));
			g->cnt[k] = xcalloc(g->nb, sizeof(double));
		}
		for (size_t j = 0; j < c->n; j++) {
			if (isnan(c->v[j]))
				continue;
			size_t b = (size_t)((c->start + (int64_t)j * c->res - lo) / g->step);
			g->sum[k][b] += c->v[j];
			g->cnt[k][b] += 1;
		}
	}
	return ERR_OK;
}

/* Fuel values at bucket b (means per production type, summed per fuel);
 * *ret_complete when every production type present in the document has
 * a value there. */
static void fuels_at(const struct grid *g, size_t b, double mix[FUEL__COUNT], bool *ret_complete)
{
	*ret_complete = true;
	for (int f = 0; f < FUEL__COUNT; f++)
		mix[f] = NAN;
	for (int k = 1; k < NPSR; k++) {
		if (!g->sum[k])
			continue;
		if (!g->cnt[k][b]) {
			*ret_complete = false;
			continue;
		}
		int f = psr_fuel[k];
		double v = g->sum[k][b] / g->cnt[k][b];
		mix[f] = isnan(mix[f]) ? v : mix[f] + v;
	}
}

static const char *model_of(const struct doc *d, char out[64])
{
	const char *name = d->process;

	for (size_t i = 0; i < ARRAY_SIZE(processes); i++)
		if (!strcmp(d->process, processes[i].code))
			name = processes[i].name;
	snprintf(out, 64, "entsoe:%s", *name ? name : "forecast");
	return out;
}

static int emit(const struct conn_parse_ctx *p, const struct doc *d, const struct grid *g,
		struct conn_result *ret, struct err_detail *err)
{
	bool forecast = strcmp(d->process, "A16") != 0; /* A16 = realised */
	int64_t issued = d->created ? d->created : p->now;
	char kind[48], model[64];
	int rc;

	model_of(d, model);
	for (size_t b = 0; b < g->nb; b++) {
		int64_t t = g->anchor + (int64_t)b * g->step;
		double mix[FUEL__COUNT];
		bool complete;

		if (!strcmp(d->type, "A65")) {
			if (!g->sum[0] || !g->cnt[0][b])
				continue;
			double v = g->sum[0][b] / g->cnt[0][b];
			struct series *s = forecast
					       ? &conn_result_forecast(ret, p->zone, "load", p->source, model,
								       issued, g->step)
						      ->p50
					       : sig_set_get(&ret->sigs, p->zone, "load", p->source, g->step);
			if ((rc = conn_series_set(s, t, v, false, "Period", err)))
				return rc;
			continue;
		}
		fuels_at(g, b, mix, &complete);
		for (int f = 0; f < FUEL__COUNT; f++) {
			if (isnan(mix[f]))
				continue;
			conn_generation_kind((enum sig_fuel)f, kind);
			struct series *s =
			    forecast || !strcmp(d->type, "A69")
				? &conn_result_forecast(ret, p->zone, kind, p->source, model, issued, g->step)
				       ->p50
				: sig_set_get(&ret->sigs, p->zone, kind, p->source, g->step);
			if ((rc = conn_series_set(s, t, mix[f], false, "Period", err)))
				return rc;
		}
		/* Intensity only from an actual, complete mix. */
		if (!strcmp(d->type, "A75") && !forecast && complete &&
		    (rc = conn_add_mix_signals(ret, p, g->step, t, mix, true, false, err)))
			return rc;
	}
	return ERR_OK;
}

static int parse_doc(const struct conn_parse_ctx *p, const char *data, size_t len, struct conn_result *ret,
		     struct err_detail *err)
{
	struct doc d = {0};
	struct grid g = {0};
	xmlParserCtxtPtr ctx;
	xmlDocPtr xdoc;
	int rc;

	pthread_once(&xml_once, xml_init);
	if (len > INT32_MAX)
		return err_set(err, ERR_TOO_LARGE, "body", "XML document too large");
	ctx = xmlNewParserCtxt();
	if (!ctx)
		abort(); /* out of memory, by policy */
	xdoc =
	    xmlCtxtReadMemory(ctx, data, (int)len, "entsoe.xml", NULL,
			      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
	if (!xdoc || !xmlDocGetRootElement(xdoc)) {
		const xmlError *e = xmlCtxtGetLastError(ctx);
		char msg[200] = "empty document";
		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		rc =
		    err_set(err, ERR_MALFORMED, "body", "malformed XML at line %d: %s", e ? e->line : 0, msg);
		goto out;
	}
	if (!(rc = read_doc(xmlDocGetRootElement(xdoc), &d, err)) && !(rc = build_grid(&d, &g, err)))
		rc = emit(p, &d, &g, ret, err);
out:
	grid_release(&g);
	doc_release(&d);
	xmlFreeDoc(xdoc);
	xmlFreeParserCtxt(ctx);
	return rc;
}

static const struct conn_endpoint endpoints[] = {
    {"A75", "xml", parse_doc, "actual generation per production type (default)"},
    {"A65", "xml", parse_doc, "actual total load (default)"},
    {"A69", "xml", parse_doc, "day-ahead wind and solar forecast (default without a range)"},
    {"A65-forecast", "xml", parse_doc, "day-ahead total load forecast (default without a range)"},
    {NULL, NULL, NULL, NULL},
};

static const char *eic_of(const char *zone)
{
	for (size_t i = 0; i < ARRAY_SIZE(zones); i++)
		if (!strcmp(zones[i].zone, zone))
			return zones[i].eic;
	/* An EIC code itself: 16 characters, area codes start with 10Y. */
	if (strlen(zone) == 16 && !strncmp(zone, "10Y", 3))
		return zone;
	return NULL;
}

/* yyyyMMddHHmm, UTC. */
static void fmt_period(int64_t t, char out[TS_BUFSZ])
{
	char iso[TS_BUFSZ];

	ts_format(t, iso); /* YYYY-MM-DDTHH:MM:SSZ */
	snprintf(out, TS_BUFSZ, "%.4s%.2s%.2s%.2s%.2s", iso, iso + 5, iso + 8, iso + 11, iso + 14);
}

static int entsoe_fetch(struct conn_ctx *c, const struct conn_query *q, struct conn_result *ret,
			struct err_detail *err)
{
	const char *eic = eic_of(q->key ? q->key : q->zone);
	char url[1200], tok[600], code[64], sa[TS_BUFSZ], sb[TS_BUFSZ];
	const char *secrets[] = {c->creds.token, tok, NULL};
	struct conn_parse_ctx p;
	struct conn_nodata nd = {0};
	bool live = !q->from && !q->to;
	int rc = ERR_OK;

	if (!eic)
		return err_set(err, ERR_INVALID, "key",
			       "%s: no bidding-zone code known for '%s': give the EIC code as the zone's key",
			       c->source, q->key ? q->key : q->zone);
	conn_parse_ctx_init(&p, c, q);
	conn_urlencode(c->creds.token, tok, sizeof(tok));
	conn_urlencode(eic, code, sizeof(code));
	int64_t hour = ts_floor(p.now, TS_HOUR), day = ts_floor(p.now, TS_DAY);
	static const struct {
		const char *endpoint, *doc, *process, *domain;
		bool ahead; /* forecasts: by default only without a range, over today and tomorrow */
	} items[] = {
	    {"A75", "A75", "A16", "in_Domain", false},
	    {"A65", "A65", "A16", "outBiddingZone_Domain", false},
	    {"A69", "A69", "A01", "in_Domain", true},
	    {"A65-forecast", "A65", "A01", "outBiddingZone_Domain", true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(items) && !rc; i++) {
		if (!conn_wants(q, items[i].endpoint, live || !items[i].ahead))
			continue;
		int64_t from = !live ? q->from : items[i].ahead ? day : hour - TS_DAY;
		int64_t to = !live ? q->to : items[i].ahead ? day + 2 * TS_DAY : hour + TS_HOUR;
		for (int64_t a = from; a < to && !rc; a += CHUNK) {
			int64_t b = a + CHUNK < to ? a + CHUNK : to;
			fmt_period(a, sa);
			fmt_period(b, sb);
			snprintf(url, sizeof(url),
				 "%s/"
				 "api?securityToken=%s&documentType=%s&processType=%s&%s=%s&periodStart=%s&"
				 "periodEnd=%s",
				 c->base_url, tok, items[i].doc, items[i].process, items[i].domain, code, sa,
				 sb);
			rc = conn_soft(&nd,
				       conn_get_parse(c, conn_endpoint(c->conn, items[i].endpoint), url, NULL,
						      secrets, &p, ret, err),
				       err);
		}
	}
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(url, sizeof(url));
	return rc ? rc : conn_finish(&nd, ret, err);
}

const struct connector conn_entsoe = {
    .name = "entsoe",
    .summary = "ENTSO-E Transparency Platform: generation per type, wind/solar and load forecasts (XML)",
    .default_base_url = "https://web-api.tp.entsoe.eu",
    .auth = CONN_AUTH_TOKEN,
    .token_env = "CARBONSCHED_ENTSOE_TOKEN",
    .endpoints = endpoints,
    .fetch = entsoe_fetch,
};
