/*
 * h_sources.c - GET /v1/sources and /v1/sources/{name}: what every live
 * source did last, how fresh its data is, and who polls it.
 *
 * Any replica can answer for all of them: outcomes come from source_state
 * (written by whichever replica polls), freshness from the series
 * statistics, the holder of each poller lock from pg_locks (the
 * application_name of the holding session), and this replica's own view
 * (its breaker, its next run, why it cannot poll) from pollers_info.
 * Three small queries whatever the number of sources.
 */
#include <string.h>

#include "core/jsonh.h"
#include "core/mem.h"
#include "core/time.h"
#include "service/app.h"
#include "service/handlers.h"
#include "service/pollers.h"
#include "service/source.h"

struct snapshot {
	struct db_res *state;  /* SOURCE_STATE_ALL */
	struct db_res *series; /* SOURCE_SERIES */
	struct db_res *locks;  /* SOURCE_LOCK_HOLDERS */
	int64_t now;
};

static void snapshot_free(void *arg)
{
	struct snapshot *s = arg;

	db_res_free(s->state);
	db_res_free(s->series);
	db_res_free(s->locks);
}

static int snapshot_take(struct http_request *req, struct snapshot **ret, struct err_detail *err)
{
	struct snapshot *s = arena_alloc(req->arena, sizeof(*s));
	char cls[16];
	const char *p[1] = {cls};
	struct db *db;
	int rc;

	memset(s, 0, sizeof(*s));
	arena_defer(req->arena, snapshot_free, s);
	snprintf(cls, sizeof(cls), "%d", POLLERS_LOCK_CLASS);
	if ((rc = app_db(req, &db, err)) ||
	    (rc = db_exec(db, DB_SOURCE_STATE_ALL, NULL, 0, &s->state, err)) ||
	    (rc = db_exec(db, DB_SOURCE_SERIES, NULL, 0, &s->series, err)) ||
	    (rc = db_exec(db, DB_SOURCE_LOCK_HOLDERS, p, 1, &s->locks, err)))
		return rc;
	s->now = clock_now(&app_of(req)->clock);
	*ret = s;
	return ERR_OK;
}

static bool listed(json_t *zones, const char *zone)
{
	size_t i;
	json_t *z;

	json_array_foreach (zones, i, z)
		if (!strcmp(json_string_value(json_object_get(z, "zone")), zone))
			return true;
	return false;
}

static json_t *zone_json(const struct config *cfg, const struct snapshot *s, const char *source,
			 const char *zone, const char **ret_breaker, int64_t *ret_activity)
{
	json_t *z = json_object();
	int64_t newest = 0, activity = 0;
	int32_t step = 0;
	bool have = false;

	json_object_set_new(z, "zone", json_string(zone));
	json_object_set_new(z, "last_success", json_null());
	json_object_set_new(z, "last_error", json_null());
	json_object_set_new(z, "failing", json_false());
	json_object_set_new(z, "next_run", json_null());
	json_object_set_new(z, "rows_written", json_integer(0));
	json_object_set_new(z, "breaker", json_null());
	for (size_t i = 0, n = db_res_rows(s->state); i < n; i++) {
		if (strcmp(db_res_get(s->state, i, 0), source) || strcmp(db_res_get(s->state, i, 1), zone))
			continue;
		int64_t ok = db_res_int64(s->state, i, 2), bad = db_res_int64(s->state, i, 4);
		bool has_ok = !db_res_is_null(s->state, i, 2), has_bad = !db_res_is_null(s->state, i, 4);

		if (has_ok)
			jh_set_time(z, "last_success", ok);
		if (has_bad) {
			json_t *e = json_object();
			json_object_set_new(e, "message", json_string(db_res_get(s->state, i, 3)));
			jh_set_time(e, "time", bad);
			json_object_set_new(z, "last_error", e);
		}
		json_object_set_new(z, "failing", json_boolean(has_bad && (!has_ok || bad > ok)));
		if (!db_res_is_null(s->state, i, 5))
			jh_set_time(z, "next_run", db_res_int64(s->state, i, 5));
		json_object_set_new(z, "rows_written", json_integer(db_res_int64(s->state, i, 6)));
		json_object_set_new(z, "breaker", json_string(db_res_get(s->state, i, 7)));
		activity = ok > bad ? ok : bad;
		*ret_breaker = db_res_get(s->state, i, 7);
	}
	/* The newest point of any kind the source holds for the zone ("*": any zone). */
	for (size_t i = 0, n = db_res_rows(s->series); i < n; i++) {
		if (strcmp(db_res_get(s->series, i, 0), source) ||
		    (strcmp(db_res_get(s->series, i, 1), zone) && strcmp(zone, "*")))
			continue;
		int64_t last = db_res_int64(s->series, i, 4);
		if (last > s->now)
			last = s->now; /* a replay inside the data: the newest known now is current */
		if (!have || last > newest) {
			newest = last;
			step = (int32_t)db_res_int64(s->series, i, 3);
			have = true;
		}
	}
	int64_t after = source_stale_after(cfg, source, step);
	if (have) {
		jh_set_time(z, "newest", newest);
		json_object_set_new(z, "age_s", json_integer(s->now - newest));
	} else {
		json_object_set_new(z, "newest", json_null());
		json_object_set_new(z, "age_s", json_null());
	}
	json_object_set_new(z, "stale_after_s", have ? json_integer(after) : json_null());
	json_object_set_new(z, "stale", json_boolean(!have || s->now - newest > after));
	*ret_activity = activity;
	return z;
}

/* The holder of the source's lock: "host:pid" from the session's
 * application_name, or NULL. */
static const char *holder(const struct snapshot *s, const char *source)
{
	static const char prefix[] = "carbonsched poller ";
	uint32_t key = (uint32_t)pollers_lock_key(source);

	for (size_t i = 0, n = db_res_rows(s->locks); i < n; i++) {
		if ((uint32_t)db_res_int64(s->locks, i, 0) != key)
			continue;
		const char *name = db_res_get(s->locks, i, 1);
		return strncmp(name, prefix, sizeof(prefix) - 1) ? name : name + sizeof(prefix) - 1;
	}
	return NULL;
}

static json_t *source_json(const struct config *cfg, const struct snapshot *s, const char *name)
{
	const struct source_cfg *c = config_source(cfg, name);
	json_t *j = json_object(), *zones = json_array();
	const char *breaker = "closed", *held_by = holder(s, name);
	int64_t latest = -1;
	struct pollers_info pi;
	bool here = pollers_info(name, &pi);

	json_object_set_new(j, "name", json_string(name));
	json_object_set_new(j, "type", c ? json_string(c->type) : json_null());
	json_object_set_new(j, "configured", json_boolean(c != NULL));
	json_object_set_new(j, "interval_s", c ? json_integer(c->interval) : json_null());
	/* Configured zones first, then any other zone this source has state or data for. */
	for (size_t i = 0; c && i < (c->nzones ? c->nzones : 1); i++) {
		const char *zone = c->nzones ? c->zones[i] : "*";
		const char *b = NULL;
		int64_t activity = 0;
		json_t *z = zone_json(cfg, s, name, zone, &b, &activity);

		json_array_append_new(zones, z);
		if (b && activity > latest) {
			latest = activity;
			breaker = b;
		}
	}
	struct db_res *const more[2] = {s->state, s->series};
	for (int t = 0; t < 2; t++)
		for (size_t i = 0, n = db_res_rows(more[t]); i < n; i++) {
			const char *zone = db_res_get(more[t], i, 1), *b = NULL;
			int64_t activity = 0;

			if (strcmp(db_res_get(more[t], i, 0), name) || listed(zones, zone))
				continue;
			json_array_append_new(zones, zone_json(cfg, s, name, zone, &b, &activity));
			if (b && activity > latest) {
				latest = activity;
				breaker = b;
			}
		}
	json_object_set_new(j, "zones", zones);
	/* The poller's own breaker is the live one; others know what it last recorded. */
	if (here && pi.held)
		breaker = fetch_breaker_state_name(pi.breaker.state);
	json_object_set_new(j, "breaker", json_string(breaker));
	json_object_set_new(j, "held_by", held_by ? json_string(held_by) : json_null());
	json_object_set_new(j, "polled_here", json_boolean(here && pi.held));
	if (here && pi.error[0])
		json_object_set_new(j, "error", json_string(pi.error));
	if (here && pi.held && pi.next_run)
		jh_set_time(j, "next_run", pi.next_run);
	return j;
}

static bool in_state(const struct snapshot *s, const char *name)
{
	for (size_t i = 0, n = db_res_rows(s->state); i < n; i++)
		if (!strcmp(db_res_get(s->state, i, 0), name))
			return true;
	return false;
}

int h_sources_list(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {NULL};
	const struct config *cfg = app_of(req)->cfg;
	struct snapshot *s;
	json_t *arr;
	int rc;

	if ((rc = query_only(req, allowed, err)) || (rc = snapshot_take(req, &s, err)))
		return rc;
	arr = json_array();
	for (size_t i = 0; i < cfg->nsources; i++)
		json_array_append_new(arr, source_json(cfg, s, cfg->sources[i].name));
	/* Sources pulled once by 'ingest --source' without being configured. */
	for (size_t i = 0, n = db_res_rows(s->state); i < n; i++) {
		const char *name = db_res_get(s->state, i, 0);

		if (config_source(cfg, name) || (i && !strcmp(name, db_res_get(s->state, i - 1, 0))))
			continue;
		json_array_append_new(arr, source_json(cfg, s, name));
	}
	json_t *j = json_object();
	jh_set_time(j, "as_of", s->now);
	json_object_set_new(j, "replica", json_string(pollers_identity()));
	json_object_set_new(j, "sources", arr);
	reply_json(req, res, 200, j);
	return ERR_OK;
}

int h_source_get(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	static const char *const allowed[] = {NULL};
	const struct config *cfg = app_of(req)->cfg;
	const char *name = req->path_params[0];
	struct snapshot *s;
	int rc;

	if ((rc = query_only(req, allowed, err)) || (rc = snapshot_take(req, &s, err)))
		return rc;
	if (!config_source(cfg, name) && !in_state(s, name))
		return err_set(err, ERR_NOT_FOUND, "name", "unknown source '%.64s'", name);
	reply_json(req, res, 200, source_json(cfg, s, name));
	return ERR_OK;
}
