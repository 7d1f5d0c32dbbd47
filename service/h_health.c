/*
 * h_health.c - liveness and readiness.
 *
 * /healthz says the process is alive and which clock it runs on (a demo
 * on a replay clock says so plainly); it never touches the database, so
 * a database outage does not get the process restarted.  /readyz checks
 * what answering needs: the database, the schema version (this binary's
 * or newer), data.
 */
#include "core/jsonh.h"
#include "core/time.h"
#include "service/app.h"
#include "service/handlers.h"
#include "service/migrate.h"
#include "service/store.h"
#include "service/version.h"

static json_t *clock_json(const struct app *app)
{
	json_t *c = json_object();

	json_object_set_new(c, "mode", json_string(clock_mode_name(&app->clock)));
	jh_set_time(c, "now", clock_now(&app->clock));
	if (clock_is_replay(&app->clock)) {
		jh_set_time(c, "replay_start", app->clock.start);
		json_object_set_new(c, "speed", json_real(app->clock.speed));
		json_object_set_new(
		    c, "note", json_string("demo: replaying historical data; 'now' is not the real time"));
	}
	return c;
}

int h_healthz(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	struct app *app = app_of(req);

	(void)err;
	reply_json(req, res, 200,
		   json_pack("{s:s, s:s, s:o, s:I}", "status", "ok", "version", CARBONSCHED_VERSION, "clock",
			     clock_json(app), "uptime_s", (json_int_t)(ts_now() - app->started_at)));
	return ERR_OK;
}

int h_readyz(struct http_request *req, struct http_response *res, struct err_detail *err)
{
	json_t *checks = json_object();
	struct db *db;
	struct db_res *r;
	bool ready = true, data = false;
	struct err_detail e;

	(void)err;
	if (app_db(req, &db, &e)) {
		json_object_set_new(checks, "database", json_string(e.msg));
		ready = false;
	} else {
		json_object_set_new(checks, "database", json_string("ok"));
		if (db_exec(db, DB_MIGRATION_VERSION, NULL, 0, &r, &e)) {
			json_object_set_new(checks, "migrations", json_string(e.msg));
			ready = false;
		} else {
			int v = (int)db_res_int64(r, 0, 0);

			db_res_free(r);
			/* Ahead is fine: migrations are additive, and during an upgrade the
			 * new binary's 'carbonsched migrate' runs before the old replicas
			 * stop (docs/production.md, "Upgrading"). */
			if (v == migrate_latest()) {
				json_object_set_new(checks, "migrations", json_string("ok"));
			} else if (v > migrate_latest()) {
				json_object_set_new(
				    checks, "migrations",
				    json_sprintf("ok: database at version %d, ahead of this binary's %d", v,
						 migrate_latest()));
			} else {
				json_object_set_new(checks, "migrations",
						    json_sprintf("database at version %d, binary needs %d", v,
								 migrate_latest()));
				ready = false;
			}
		}
		if (store_has_data(db, &data, &e) || !data) {
			json_object_set_new(checks, "data",
					    json_string(data ? e.msg : "no signals stored yet"));
			ready = false;
		} else {
			json_object_set_new(checks, "data", json_string("ok"));
		}
	}
	reply_json(req, res, ready ? 200 : 503,
		   json_pack("{s:s, s:o}", "status", ready ? "ready" : "not ready", "checks", checks));
	if (!ready)
		http_set_header(req, res, "Retry-After", "5");
	return ERR_OK;
}
