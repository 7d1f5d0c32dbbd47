/*
 * h_forecast.c - a region's forecasts and their recent skill.
 *
 *   GET /v1/regions/{id}/forecast?kind=&horizon=&model=
 *   GET /v1/regions/{id}/forecast/skill?kind=
 *
 * Forecasts are what fcstore_latest gives at the service clock's now: the
 * newest round's run with the lowest recent error (or the one asked for by
 * 'model'), extended by the ensemble when shorter; the answer says how it
 * was chosen.  A region's PUE forecast is stored under the region's id
 * (PUE is a property of the site, not of the grid zone).
 *
 * Answers are memoised per forecast version (fcworker_version: it moves on
 * every NOTIFY carbonsched_forecasts) and hour of the clock: dashboards of
 * many users ask the same question every minute.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/jsonh.h"
#include "core/mem.h"
#include "core/signal.h"
#include "core/time.h"
#include "service/app.h"
#include "service/fcstore.h"
#include "service/fcworker.h"
#include "service/handlers.h"

#define MEMO_SLOTS 32

static struct {
	pthread_mutex_t lock;
	struct {
		char key[192];
		uint64_t version;
		uint64_t used;
		char *text;
		size_t len;
	} e[MEMO_SLOTS];
	uint64_t tick;
} memo = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool memo_get(const char *key, uint64_t version, struct buf *out)
{
	bool hit = false;

	if (!version)
		return false;
	pthread_mutex_lock(&memo.lock);
	for (int i = 0; i < MEMO_SLOTS && !hit; i++)
		if (memo.e[i].text && memo.e[i].version == version && !strcmp(memo.e[i].key, key)) {
			buf_add(out, memo.e[i].text, memo.e[i].len);
			memo.e[i].used = ++memo.tick;
			hit = true;
		}
	pthread_mutex_unlock(&memo.lock);
	return hit;
}

static void memo_put(const char *key, uint64_t version, const char *text, size_t len)
{
	int victim = 0;

	if (!version || strlen(key) >= sizeof(memo.e[0].key) || version != fcworker_version())
		return;
	pthread_mutex_lock(&memo.lock);
	for (int i = 0; i < MEMO_SLOTS; i++) {
		if (!memo.e[i].text || memo.e[i].version != version || !strcmp(memo.e[i].key, key)) {
			victim = i;
			break;
		}
		if (memo.e[i].used < memo.e[victim].used)
			victim = i;
	}
	free(memo.e[victim].text);
	memo.e[victim].text = xstrndup(text, len);
	memo.e[victim].len = len;
	memo.e[victim].version = version;
	memo.e[victim].used = ++memo.tick;
	snprintf(memo.e[victim].key, sizeof(memo.e[victim].key), "%s", key);
	pthread_mutex_unlock(&memo.lock);
}

/* The region of the path, its kind parameter, and the key runs of that
 * kind are stored under (the zone, or the region's id for PUE). */
static int region_kind(struct http_request *req, const struct region_cfg **ret_region, const char **ret_kind,
		       const char **ret_key, struct err_detail *err)
{
	const struct region_cfg *r = config_region(app_of(req)->cfg, req->path_params[0]);
	const char *kind = http_query(req, "kind");
	enum sig_kind k;
	int rc;

	if (!r)
		return err_set(err, ERR_NOT_FOUND, "id", "unknown region '%.64s'", req->path_params[0]);
	if (!kind)
		kind = "carbon_intensity";
	if ((rc = sig_kind_parse(kind, "kind", &k, NULL, err)))
		return rc;
	*ret_region = r;
	*ret_kind = kind;
	*ret_key = k == SIG_PUE ? r->id : r->zone;
	return ERR_OK;
}

static bool valid_model(const char *m)
{
	size_t n = strlen(m);

	return n && n < 48 &&
	       strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") == n;
}

static bool is_source(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsources; i++)
		if (!strcmp(cfg->sources[i].name, name))
			return true;
	return false;
}

/* Why there is no forecast: the worker's word when this replica has one,
 * else what is stored. */
static int explain_missing(struct http_request *req, struct db *db, const struct region_cfg *r,
			   const char *kind, const char *key, const char *model, struct err_detail *err)
{
	struct app *app = app_of(req);
	char status[256], list[512] = "", ts[TS_BUFSZ];
	int64_t now = clock_now(&app->clock);
	int rc;

	if (model) {
		if ((rc = fcstore_models(db, key, kind, list, sizeof(list), err)))
			return rc;
		if (!fcworker_is_own_model(model) && !is_source(app->cfg, model) && !strstr(list, model))
			return err_set(err, ERR_INVALID, "model",
				       "unknown model '%s' for '%s' of region '%s'; models with runs: %s",
				       model, kind, r->id, list[0] ? list : "none yet");
		return err_set(
		    err, ERR_NOT_FOUND, "model",
		    "no '%s' forecast from model '%s' for region '%s' issued at or before %s; models "
		    "with runs: %s",
		    kind, model, r->id, ts_format(now, ts), list[0] ? list : "none yet");
	}
	if (fcworker_status(key, kind, status, sizeof(status)))
		return err_set(err, ERR_NOT_FOUND, "kind", "no '%s' forecast for region '%s' yet: %s", kind,
			       r->id, status);
	if ((rc = fcstore_kinds(db, key, list, sizeof(list), err)))
		return rc;
	return err_set(
	    err, ERR_NOT_FOUND, "kind",
	    "no '%s' forecast for region '%s' (zone '%s') issued at or before %s: %s%s", kind, r->id, key,
	    ts_format(now, ts),
	    list[0] ? "forecasts of this zone exist for: "
		    : "the forecasting worker stores the first runs within seconds of start-up for zones "
		      "with at least 22 days of history",
	    list);
}

static json_t *num3(double v)
{
	return isfinite(v) ? json_real(round(v * 1000) / 1000) : json_null();
}

static json_t *selection_json(const struct fc_run *run, bool asked)
{
	json_t *sel = json_object(), *cands, *buckets;
	char ts[TS_BUFSZ];

	json_object_set_new(sel, "by", json_string(asked ? "request" : run->chosen_by));
	if (asked)
		return sel;
	cands = json_array();
	buckets = json_array();
	for (int b = 0; b < FC_SKILL_NBUCKETS; b++)
		if ((run->skill_buckets >> b) & 1)
			json_array_append_new(buckets, json_string(fc_skill_bucket_label(b)));
	json_object_set_new(
	    sel, "rule",
	    json_string(!strcmp(run->chosen_by, "skill")
			    ? "lowest recent MAE (mean over the lead buckets every scored model has)"
			: run->nchoices == 1
			    ? "the only model of the newest round"
			    : "no model has enough recent skill yet: the ensemble, else the newest run"));
	json_object_set_new(sel, "compared_on", buckets);
	for (size_t i = 0; i < run->nchoices; i++) {
		const struct fc_choice *c = &run->choices[i];
		json_t *o = json_object();

		json_object_set_new(o, "model", json_string(c->model));
		json_object_set_new(o, "issued_at", json_string(ts_format(c->issued_at, ts)));
		json_object_set_new(o, "horizon_s", json_integer(c->horizon));
		json_object_set_new(o, "mae", num3(c->score));
		json_object_set_new(o, "mape", num3(c->mape));
		json_array_append_new(cands, o);
	}
	json_object_set_new(sel, "candidates", cands);
	return sel;
}

static json_t *pue_json(const struct region_cfg *r, const char *model)
{
	json_t *p = json_object();

	json_object_set_new(p, "configured",
			    json_string(r->pue_kind == PUE_CONSTANT ? "constant" : "temperature model"));
	json_object_set_new(p, "used", json_string(model));
	json_object_set_new(p, "base", json_real(r->pue));
	if (r->pue_kind == PUE_TEMPERATURE) {
		json_object_set_new(p, "k", json_real(r->pue_k));
		json_object_set_new(p, "t0", json_real(r->pue_t0));
	}
	json_object_set_new(p, "method",
			    json_string(!strcmp(model, "feed")
					    ? "the PUE feed where it has values, else the configured model"
					: !strcmp(model, "temperature")
					    ? "base + k*max(0, T - t0) on the zone's temperature forecast "
					      "(base where the forecast has no value)"
					: r->pue_kind == PUE_TEMPERATURE
					    ? "temperature model without a temperature forecast: "
					      "the base value"
					    : "the configured constant"));
	json_object_set_new(p, "interval",
			    json_string("none: PUE is a function of its inputs, p10 = p50 = p90"));
	return p;
}

int h_region_forecast(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {"kind", "horizon", "model", NULL};
	struct app *app = app_of(req);
	const struct region_cfg *r = NULL;
	const char *kind = NULL, *key = NULL, *model = http_query(req, "model");
	int64_t now = clock_now(&app->clock), horizon = app->cfg->forecast_horizon;
	char d1[32], d2[32], memo_key[192], ts[TS_BUFSZ];
	uint64_t version = fcworker_version();
	struct fc_run run;
	struct db *db;
	json_t *j, *pts;
	int rc;

	if ((rc = query_only(req, allowed, err)) || (rc = region_kind(req, &r, &kind, &key, err)) ||
	    (rc = query_duration(req, "horizon", false, &horizon, err)))
		return rc;
	if (horizon <= 0)
		return err_set(err, ERR_INVALID, "horizon", "horizon must be positive, e.g. 24h or P4D");
	if (horizon > app->cfg->forecast_horizon)
		return err_set(err, ERR_INVALID, "horizon",
			       "forecasts reach %s (%lld h, forecast.horizon); '%s' is further",
			       ts_format_duration(app->cfg->forecast_horizon, d1),
			       (long long)(app->cfg->forecast_horizon / TS_HOUR), http_query(req, "horizon"));
	if (model && !valid_model(model))
		return err_set(
		    err, ERR_INVALID, "model",
		    "'%.64s' is not a model name (letters, digits, '_', '.', ':' and '-', at most 47)",
		    model);
	snprintf(memo_key, sizeof(memo_key), "%s|%s|%s|%lld|%lld", r->id, kind, model ? model : "",
		 (long long)horizon, (long long)ts_floor(now, TS_HOUR));
	if (memo_get(memo_key, version, &res->body)) {
		reply_json_raw(res, 200);
		return ERR_OK;
	}
	if ((rc = app_db(req, &db, err)))
		return rc;
	rc = fcstore_latest(db, key, kind, model, now, &run, err);
	if (rc == ERR_NOT_FOUND) {
		fc_run_release(&run);
		return explain_missing(req, db, r, kind, key, model, err);
	}
	if (rc) {
		fc_run_release(&run);
		return rc;
	}
	if (horizon > run.horizon) {
		rc = err_set(
		    err, ERR_INVALID, "horizon",
		    "the newest '%s' forecast for region '%s' (issued %s by '%s') reaches %s (%lld h); ask "
		    "for at most that",
		    kind, r->id, ts_format(run.issued_at, ts), run.model, ts_format_duration(run.horizon, d2),
		    (long long)(run.horizon / TS_HOUR));
		fc_run_release(&run);
		return rc;
	}
	j = json_object();
	json_object_set_new(j, "region", json_string(r->id));
	json_object_set_new(j, "zone", json_string(r->zone));
	json_object_set_new(j, "kind", json_string(kind));
	json_object_set_new(j, "unit", json_string(sig_kind_string_unit(kind)));
	json_object_set_new(j, "model", json_string(run.model));
	jh_set_time(j, "issued_at", run.issued_at);
	json_object_set_new(j, "step_s", json_integer(run.p50.step));
	json_object_set_new(j, "horizon_s", json_integer(horizon));
	json_object_set_new(j, "selection", selection_json(&run, model != NULL));
	if (run.extended_from) {
		json_t *x = json_object();

		json_object_set_new(x, "by", json_string(run.extended_by));
		jh_set_time(x, "from", run.extended_from);
		json_object_set_new(j, "extended", x);
	}
	if (!strcmp(kind, "pue"))
		json_object_set_new(j, "pue", pue_json(r, run.model));
	pts = json_array();
	for (size_t i = 0; i < run.p50.n; i++) {
		int64_t t = series_ts(&run.p50, i);
		json_t *p;

		if (t >= run.issued_at + horizon)
			break;
		if (isnan(run.p50.v[i]))
			continue;
		p = json_object();
		json_object_set_new(p, "ts", json_string(ts_format(t, ts)));
		json_object_set_new(p, "p10", num3(run.p10.v[i]));
		json_object_set_new(p, "p50", num3(run.p50.v[i]));
		json_object_set_new(p, "p90", num3(run.p90.v[i]));
		json_array_append_new(pts, p);
	}
	json_object_set_new(j, "points", pts);
	fc_run_release(&run);
	reply_json(req, res, 200, j);
	memo_put(memo_key, version, res->body.data, res->body.len);
	return ERR_OK;
}

/* --- skill ---------------------------------------------------------------------- */

/* Scores from the sums; the stored scores where the row has no sums
 * (written by another writer). */
static json_t *skill_json(const struct fc_skill *s, const struct fcstore_skill_row *row)
{
	json_t *o = json_object();
	bool sums = s->w > 0 || !row;

	json_object_set_new(o, "n", json_integer(s->n));
	json_object_set_new(o, "weight", num3(s->w));
	json_object_set_new(o, "mae", num3(sums ? fc_skill_mae(s) : row->mae));
	json_object_set_new(o, "mape", num3(sums ? fc_skill_mape(s) : row->mape));
	json_object_set_new(o, "rmse", num3(sums ? fc_skill_rmse(s) : row->rmse));
	json_object_set_new(o, "coverage80", num3(sums ? fc_skill_coverage(s) : row->coverage80));
	return o;
}

/* The models of one kind, ranked. */
static json_t *kind_json(const char *kind, const struct fcstore_skill_row *rows, size_t n)
{
	json_t *k = json_object(), *models = json_array(), *common = json_array();
	char names[FCSTORE_MAX_CHOICES * 2][48];
	struct fc_skill s[FCSTORE_MAX_CHOICES * 2][FC_SKILL_NBUCKETS];
	const struct fcstore_skill_row *src[FCSTORE_MAX_CHOICES * 2][FC_SKILL_NBUCKETS];
	double score[FCSTORE_MAX_CHOICES * 2];
	size_t nm = 0, order[FCSTORE_MAX_CHOICES * 2];
	unsigned mask = 0;
	int64_t as_of = 0;
	char ts[TS_BUFSZ];

	memset(s, 0, sizeof(s));
	memset(src, 0, sizeof(src));
	for (size_t i = 0; i < n; i++) {
		size_t m;

		for (m = 0; m < nm && strcmp(names[m], rows[i].model); m++)
			;
		if (m == nm) {
			if (nm == ARRAY_SIZE(names))
				continue;
			snprintf(names[nm++], sizeof(names[0]), "%s", rows[i].model);
		}
		s[m][rows[i].bucket] = rows[i].s;
		src[m][rows[i].bucket] = &rows[i];
		if (rows[i].s.as_of > as_of)
			as_of = rows[i].s.as_of;
	}
	fc_skill_rank((const struct fc_skill(*)[FC_SKILL_NBUCKETS])s, nm, FCSTORE_MIN_SKILL_W, score, &mask);
	for (size_t i = 0; i < nm; i++)
		order[i] = i;
	/* scored first, by score; then by name */
	for (size_t i = 1; i < nm; i++)
		for (size_t j = i; j > 0; j--) {
			size_t a = order[j - 1], b = order[j];
			bool swap =
			    isnan(score[a]) && !isnan(score[b]) ? true
			    : !isnan(score[a]) && !isnan(score[b])
				? score[b] < score[a]
				: isnan(score[a]) && isnan(score[b]) && strcmp(names[b], names[a]) < 0;

			if (!swap)
				break;
			order[j - 1] = b;
			order[j] = a;
		}
	for (int b = 0; b < FC_SKILL_NBUCKETS; b++)
		if ((mask >> b) & 1)
			json_array_append_new(common, json_string(fc_skill_bucket_label(b)));
	json_object_set_new(k, "kind", json_string(kind));
	json_object_set_new(
	    k, "unit", sig_kind_string_unit(kind) ? json_string(sig_kind_string_unit(kind)) : json_null());
	if (as_of)
		json_object_set_new(k, "as_of", json_string(ts_format(as_of, ts)));
	json_object_set_new(k, "compared_on", common);
	for (size_t i = 0, rank = 0; i < nm; i++) {
		size_t m = order[i];
		json_t *o = json_object(), *by = json_array();
		struct fc_skill all = {0};

		json_object_set_new(o, "model", json_string(names[m]));
		json_object_set_new(o, "rank",
				    isnan(score[m]) ? json_null() : json_integer((json_int_t)++rank));
		json_object_set_new(o, "score_mae", num3(score[m]));
		for (int b = 0; b < FC_SKILL_NBUCKETS; b++) {
			json_t *x;

			if (!src[m][b])
				continue;
			fc_skill_pool(&all, &s[m][b]);
			x = skill_json(&s[m][b], src[m][b]);
			json_object_set_new(x, "horizon", json_string(fc_skill_bucket_label(b)));
			json_object_set_new(x, "horizon_h", json_integer(fc_skill_bucket_hours[b]));
			json_array_append_new(by, x);
		}
		json_object_set_new(o, "overall", skill_json(&all, NULL));
		json_object_set_new(o, "by_horizon", by);
		json_array_append_new(models, o);
	}
	json_object_set_new(k, "models", models);
	return k;
}

int h_region_forecast_skill(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {"kind", NULL};
	struct app *app = app_of(req);
	const struct region_cfg *r = NULL;
	const char *kind = NULL, *key = NULL;
	struct fcstore_skill_row *rows = NULL;
	size_t n = 0;
	struct db *db;
	json_t *j, *kinds;
	char d[32];
	int rc;

	if ((rc = query_only(req, allowed, err)) || (rc = region_kind(req, &r, &kind, &key, err)) ||
	    (rc = app_db(req, &db, err)))
		return rc;
	if ((rc = fcstore_skill_read(db, key, http_query(req, "kind") ? kind : NULL, &rows, &n, err)))
		return rc;
	j = json_object();
	json_object_set_new(j, "region", json_string(r->id));
	json_object_set_new(j, "zone", json_string(r->zone));
	json_object_set_new(j, "metric", json_string("mae"));
	json_object_set_new(j, "half_life",
			    json_string(ts_format_duration(app->cfg->forecast_skill_half_life, d)));
	json_object_set_new(j, "min_weight", json_integer(FCSTORE_MIN_SKILL_W));
	json_object_set_new(
	    j, "about",
	    json_string(
		"errors of stored forecasts against the actuals, by lead time (a point's lead is its step's "
		"end minus the issue time), exponentially weighted with the half-life; weight is the "
		"effective number of points, n every point scored; a model is ranked once it has "
		"'min_weight' "
		"in some lead bucket, on the buckets all ranked models share"));
	kinds = json_array();
	for (size_t i = 0; i < n;) {
		size_t k = i;

		while (k < n && !strcmp(rows[k].kind, rows[i].kind))
			k++;
		json_array_append_new(kinds, kind_json(rows[i].kind, rows + i, k - i));
		i = k;
	}
	json_object_set_new(j, "kinds", kinds);
	if (!n)
		json_object_set_new(
		    j, "note",
		    json_string("no forecast has been scored yet: skill appears once actuals cover steps "
				"of stored runs (an hour after the first run, on the service clock)"));
	free(rows);
	reply_json(req, res, 200, j);
	return ERR_OK;
}
