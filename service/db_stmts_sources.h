/*
 * db_stmts_sources.h - statements of the live sources: the pollers'
 * advisory locks, source_state, and what GET /v1/sources reads.
 *
 * Poller locks use the two-int4 advisory key (class, hash of the source
 * name); migrations use the one-int8 form, so the two never collide.
 */
#ifndef CARBONSCHED_SERVICE_DB_STMTS_SOURCES_H
#define CARBONSCHED_SERVICE_DB_STMTS_SOURCES_H

#define DB_STMTS_SOURCES(X)                                                                                \
	X(SOURCE_LOCK_TRY, "SELECT pg_try_advisory_lock($1::int4, $2::int4)")                              \
	X(SOURCE_SET_APPNAME, "SELECT set_config('application_name', $1, false)")                          \
	/* A session that dies silently (a replica's host vanishes) is dropped by the server */            \
	X(SOURCE_KEEPALIVES, "SELECT set_config('tcp_keepalives_idle', '10', false),"                      \
			     " set_config('tcp_keepalives_interval', '5', false), "                        \
			     "set_config('tcp_keepalives_count', '3', false)")                             \
	/* Who holds each poller lock: the application_name of the holding session */                      \
	X(SOURCE_LOCK_HOLDERS,                                                                             \
	  "SELECT l.objid::int8, coalesce(a.application_name, '') FROM pg_locks l"                         \
	  " LEFT JOIN pg_stat_activity a ON a.pid = l.pid"                                                 \
	  " WHERE l.locktype = 'advisory' AND l.classid = $1::int8::oid AND l.objsubid = 2 AND l.granted"  \
	  " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")            \
	X(SOURCE_STATE_SUCCESS,                                                                            \
	  "INSERT INTO source_state (source, zone, last_success_at, next_run_at, rows_written, breaker)"   \
	  " VALUES ($1, $2, to_timestamp($3), to_timestamp($4), $5, $6)"                                   \
	  " ON CONFLICT (source, zone) DO UPDATE SET last_success_at = EXCLUDED.last_success_at,"          \
	  " next_run_at = coalesce(EXCLUDED.next_run_at, source_state.next_run_at),"                       \
	  " rows_written = source_state.rows_written + EXCLUDED.rows_written, breaker = EXCLUDED.breaker") \
	X(SOURCE_STATE_FAILURE,                                                                            \
	  "INSERT INTO source_state (source, zone, last_error, last_error_at, next_run_at, breaker)"       \
	  " VALUES ($1, $2, $3, to_timestamp($4), to_timestamp($5), $6)"                                   \
	  " ON CONFLICT (source, zone) DO UPDATE SET last_error = EXCLUDED.last_error,"                    \
	  " last_error_at = EXCLUDED.last_error_at,"                                                       \
	  " next_run_at = coalesce(EXCLUDED.next_run_at, source_state.next_run_at),"                       \
	  " breaker = EXCLUDED.breaker")                                                                   \
	X(SOURCE_STATE_ALL,                                                                                \
	  "SELECT source, zone, extract(epoch FROM last_success_at)::int8, coalesce(last_error, ''),"      \
	  " extract(epoch FROM last_error_at)::int8, extract(epoch FROM next_run_at)::int8, rows_written," \
	  " breaker FROM source_state ORDER BY source, zone")                                              \
	/* The newest data of each source and zone, and the step it comes in */                            \
	X(SOURCE_SERIES,                                                                                   \
	  "SELECT source, zone, kind, step_s, extract(epoch FROM last_ts)::int8, points FROM series"       \
	  " WHERE points > 0 ORDER BY source, zone, kind")                                                 \
	/* A stored run, to tell whether a provider's forecast changed */                                  \
	X(SOURCE_FORECAST_RUN_POINTS,                                                                      \
	  "SELECT extract(epoch FROM p.ts)::int8, p.p10, p.p50, p.p90 FROM forecast_runs r"                \
	  " JOIN forecast_points p ON p.run_id = r.id WHERE r.zone = $1 AND r.kind = $2 AND r.model = $3"  \
	  " AND r.issued_at = to_timestamp($4) ORDER BY p.ts")

#endif
