/*
 * db_stmts_forecasts.h - statements of the forecast store (fcstore.c).
 */
#ifndef CARBONSCHED_SERVICE_DB_STMTS_FORECASTS_H
#define CARBONSCHED_SERVICE_DB_STMTS_FORECASTS_H

#define DB_STMTS_FORECASTS(X)                                                                              \
	X(FORECAST_RUN_UPSERT,                                                                             \
	  "INSERT INTO forecast_runs (zone, kind, model, issued_at, step_s, horizon_s)"                    \
	  " VALUES ($1, $2, $3, to_timestamp($4), $5, $6)"                                                 \
	  " ON CONFLICT (zone, kind, model, issued_at) DO UPDATE SET step_s = EXCLUDED.step_s,"            \
	  " horizon_s = EXCLUDED.horizon_s, created_at = now() RETURNING id")                              \
	X(FORECAST_POINTS_DELETE, "DELETE FROM forecast_points WHERE run_id = $1")                         \
	X(FORECAST_LATEST_RUN,                                                                             \
	  "SELECT id, model, extract(epoch FROM issued_at)::int8, step_s, horizon_s FROM forecast_runs"    \
	  " WHERE zone = $1 AND kind = $2 AND ($3::text IS NULL OR model = $3)"                            \
	  " AND issued_at <= to_timestamp($4) ORDER BY issued_at DESC, (model = 'ensemble') DESC, model"   \
	  " LIMIT 1")                                                                                      \
	X(FORECAST_POINTS,                                                                                 \
	  "SELECT extract(epoch FROM ts)::int8, p10, p50, p90 FROM forecast_points WHERE run_id = $1"      \
	  " ORDER BY ts")

#endif
