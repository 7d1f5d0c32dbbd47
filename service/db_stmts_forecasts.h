/*
 * db_stmts_forecasts.h - statements of the forecast store (fcstore.c) and
 * the forecasting worker (fcworker.c).
 */
#ifndef CARBONSCHED_SERVICE_DB_STMTS_FORECASTS_H
#define CARBONSCHED_SERVICE_DB_STMTS_FORECASTS_H

#define DB_STMTS_FORECASTS(X)                                                                               \
	/* a re-issued run replaces its points, so its scoring starts over */                               \
	X(FORECAST_RUN_UPSERT,                                                                              \
	  "INSERT INTO forecast_runs (zone, kind, model, issued_at, step_s, horizon_s, producer)"           \
	  " VALUES ($1, $2, $3, to_timestamp($4), $5, $6, $7)"                                              \
	  " ON CONFLICT (zone, kind, model, issued_at) DO UPDATE SET step_s = EXCLUDED.step_s,"             \
	  " horizon_s = EXCLUDED.horizon_s, producer = EXCLUDED.producer, scored_until = NULL,"             \
	  " created_at = now() RETURNING id")                                                               \
	X(FORECAST_POINTS_DELETE, "DELETE FROM forecast_points WHERE run_id = $1")                          \
	X(FORECAST_LATEST_RUN,                                                                              \
	  "SELECT id, model, extract(epoch FROM issued_at)::int8, step_s, horizon_s FROM forecast_runs"     \
	  " WHERE zone = $1 AND kind = $2 AND ($3::text IS NULL OR model = $3)"                             \
	  " AND issued_at <= to_timestamp($4) ORDER BY issued_at DESC, (model = 'ensemble') DESC, model"    \
	  " LIMIT 1")                                                                                       \
	X(FORECAST_POINTS,                                                                                  \
	  "SELECT extract(epoch FROM ts)::int8, p10, p50, p90 FROM forecast_points WHERE run_id = $1"       \
	  " ORDER BY ts")                                                                                   \
	/* the newest run of each model issued at most $4 s before the newest run at or before $3 */        \
	X(FORECAST_CANDIDATES,                                                                              \
	  "SELECT DISTINCT ON (model) id, model, extract(epoch FROM issued_at)::int8, step_s, horizon_s"    \
	  " FROM forecast_runs WHERE zone = $1 AND kind = $2 AND issued_at <= to_timestamp($3)"             \
	  " AND issued_at >= (SELECT max(issued_at) FROM forecast_runs WHERE zone = $1 AND kind = $2"       \
	  " AND issued_at <= to_timestamp($3)) - $4 * interval '1 second'"                                  \
	  " ORDER BY model, issued_at DESC")                                                                \
	/* the newest run of each model issued in ($3, $4] */                                               \
	X(FORECAST_RECENT_BY_MODEL,                                                                         \
	  "SELECT DISTINCT ON (model) id, model, extract(epoch FROM issued_at)::int8, step_s, horizon_s"    \
	  " FROM forecast_runs WHERE zone = $1 AND kind = $2 AND issued_at > to_timestamp($3)"              \
	  " AND issued_at <= to_timestamp($4) ORDER BY model, issued_at DESC")                              \
	X(FORECAST_MODELS,                                                                                  \
	  "SELECT model, count(*), extract(epoch FROM max(issued_at))::int8 FROM forecast_runs"             \
	  " WHERE zone = $1 AND kind = $2 GROUP BY model ORDER BY model")                                   \
	X(FORECAST_KINDS, "SELECT DISTINCT kind FROM forecast_runs WHERE zone = $1 ORDER BY kind")          \
	/* skill */                                                                                         \
	X(FORECAST_SKILL_ROWS,                                                                              \
	  "SELECT kind, model, horizon_h, n, weight, sum_ae, sum_se, sum_ape, w_ape, sum_cov, w_cov,"       \
	  " coalesce(extract(epoch FROM as_of)::int8, 0), mae, mape, rmse, coverage80 FROM forecast_skill"  \
	  " WHERE zone = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY kind, model, horizon_h")           \
	X(FORECAST_SKILL_ROW_LOCK,                                                                          \
	  "SELECT n, weight, sum_ae, sum_se, sum_ape, w_ape, sum_cov, w_cov,"                               \
	  " coalesce(extract(epoch FROM as_of)::int8, 0) FROM forecast_skill"                               \
	  " WHERE zone = $1 AND kind = $2 AND model = $3 AND horizon_h = $4 FOR UPDATE")                    \
	X(FORECAST_SKILL_UPSERT,                                                                            \
	  "INSERT INTO forecast_skill (zone, kind, model, horizon_h, n, weight, sum_ae, sum_se, sum_ape,"   \
	  " w_ape, sum_cov, w_cov, as_of, mae, mape, rmse, coverage80, updated_at) VALUES ($1, $2, $3, $4," \
	  " $5, $6, $7, $8, $9, $10, $11, $12, to_timestamp($13), $14, $15, $16, $17, now())"               \
	  " ON CONFLICT (zone, kind, model, horizon_h) DO UPDATE SET n = EXCLUDED.n,"                       \
	  " weight = EXCLUDED.weight, sum_ae = EXCLUDED.sum_ae, sum_se = EXCLUDED.sum_se,"                  \
	  " sum_ape = EXCLUDED.sum_ape, w_ape = EXCLUDED.w_ape, sum_cov = EXCLUDED.sum_cov,"                \
	  " w_cov = EXCLUDED.w_cov, as_of = EXCLUDED.as_of, mae = EXCLUDED.mae, mape = EXCLUDED.mape,"      \
	  " rmse = EXCLUDED.rmse, coverage80 = EXCLUDED.coverage80, updated_at = now()")                    \
	/* scoring: the points of runs issued in [$3, $4) at or after their scored_until, before $4 */      \
	X(FORECAST_UNSCORED,                                                                                \
	  "SELECT r.id, r.model, extract(epoch FROM r.issued_at)::int8, r.step_s,"                          \
	  " extract(epoch FROM p.ts)::int8, p.p10, p.p50, p.p90"                                            \
	  " FROM forecast_runs r JOIN forecast_points p ON p.run_id = r.id"                                 \
	  " WHERE r.zone = $1 AND r.kind = $2 AND r.issued_at >= to_timestamp($3)"                          \
	  " AND r.issued_at < to_timestamp($4) AND p.ts >= coalesce(r.scored_until, r.issued_at)"           \
	  " AND p.ts < to_timestamp($4) ORDER BY r.id, p.ts")                                               \
	X(FORECAST_MARK_SCORED,                                                                             \
	  "UPDATE forecast_runs SET scored_until = to_timestamp($2) WHERE id = ANY($1::int8[])"             \
	  " AND (scored_until IS NULL OR scored_until < to_timestamp($2))")                                 \
	X(FORECAST_PRUNE, "DELETE FROM forecast_runs WHERE issued_at < to_timestamp($1)")                   \
	/* one replica forecasts: a session advisory lock on the worker's own connection */                 \
	X(FORECAST_TRY_LOCK, "SELECT pg_try_advisory_lock($1::int8)")                                       \
	X(NOTIFY_FORECASTS, "SELECT pg_notify('carbonsched_forecasts', $1)")

#endif
