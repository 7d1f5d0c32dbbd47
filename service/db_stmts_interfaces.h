/*
 * db_stmts_interfaces.h - the statements of the interfaces area: what the
 * /metrics collectors read at scrape time (telemetry.c) and what
 * 'carbonsched report' reads (report.c).  They only read tables that other
 * areas write: jobs (scheduler), forecast_runs, forecast_points,
 * forecast_skill (forecasts), source_state (pollers).
 */
#ifndef CARBONSCHED_SERVICE_DB_STMTS_INTERFACES_H
#define CARBONSCHED_SERVICE_DB_STMTS_INTERFACES_H

#define DB_STMTS_INTERFACES(X)                                                                               \
	X(TM_JOBS_BY_STATE, "SELECT state, count(*) FROM jobs GROUP BY state")                               \
	/* per completed job the saving: realised when both realised figures exist, else planned */          \
	X(TM_JOBS_SAVINGS,                                                                                   \
	  "SELECT coalesce(sum(greatest(s, 0)) FILTER (WHERE state = 'completed'), 0),"                      \
	  " coalesce(sum(greatest(-s, 0)) FILTER (WHERE state = 'completed'), 0),"                           \
	  " coalesce(sum(baseline_g - expected_g) FILTER (WHERE state IN ('scheduled', 'running')), 0)"      \
	  " FROM (SELECT state, baseline_g, expected_g, CASE WHEN realised_g IS NOT NULL"                    \
	  " AND realised_baseline_g IS NOT NULL THEN realised_baseline_g - realised_g"                       \
	  " ELSE baseline_g - expected_g END AS s FROM jobs) j")                                             \
	X(TM_FORECAST_LATEST,                                                                                \
	  "SELECT DISTINCT ON (zone, kind, model) zone, kind, model, extract(epoch FROM issued_at)::int8"    \
	  " FROM forecast_runs WHERE issued_at <= to_timestamp($1)"                                          \
	  " ORDER BY zone, kind, model, issued_at DESC")                                                     \
	/* $1 zone, $2 now: the newest carbon-intensity run's p50 at now + 1, 4 and 24 h */                  \
	X(TM_FORECAST_AHEAD,                                                                                 \
	  "SELECT r.model, h, (SELECT p.p50 FROM forecast_points p WHERE p.run_id = r.id"                    \
	  " AND p.ts <= to_timestamp($2) + make_interval(hours => h)"                                        \
	  " AND p.ts > to_timestamp($2) + make_interval(hours => h) - make_interval(secs => r.step_s)"       \
	  " ORDER BY p.ts DESC LIMIT 1)"                                                                     \
	  " FROM (SELECT id, model, step_s FROM forecast_runs WHERE zone = $1 AND kind = 'carbon_intensity'" \
	  " AND issued_at <= to_timestamp($2) ORDER BY issued_at DESC, (model = 'ensemble') DESC, model "    \
	  "LIMIT 1) r,"                                                                                      \
	  " unnest(ARRAY[1, 4, 24]) AS h")                                                                   \
	X(TM_FORECAST_SKILL, "SELECT zone, kind, model, horizon_h, mae, coverage80 FROM forecast_skill")     \
	X(TM_SOURCE_STATE,                                                                                   \
	  "SELECT source, zone, rows_written, extract(epoch FROM now() - last_success_at)::float8,"          \
	  " last_success_at IS NOT NULL AND (last_error_at IS NULL OR last_success_at >= last_error_at),"    \
	  " breaker <> 'closed' FROM source_state")                                                          \
	/* $1, $2: the jobs starting in [$1, $2), by their actual, else planned, else earliest start */      \
	X(REPORT_JOBS,                                                                                       \
	  "SELECT id::text, coalesce(name, ''), state, coalesce(origin, ''), coalesce(region, ''),"          \
	  " coalesce(forecast_model, ''), extract(epoch FROM s)::int8, power_kw * duration_s / 3600.0,"      \
	  " measured_kwh, expected_g, baseline_g, realised_g, realised_baseline_g"                           \
	  " FROM (SELECT *, coalesce(started_at, planned_start, earliest_start) AS s FROM jobs) j"           \
	  " WHERE s >= to_timestamp($1) AND s < to_timestamp($2) ORDER BY s, id")

#endif
