/*
 * db_stmts.h - every SQL statement the service runs, declared once.
 *
 * X(NAME, sql).  Each is prepared on every connection as "s_<index>".
 * Times in: to_timestamp($n) with $n seconds since the epoch; times out:
 * extract(epoch from ...)::int8.  The table is the concatenation of one
 * list per area; an area keeps its statements in db_stmts_<area>.h.
 */
#ifndef CARBONSCHED_SERVICE_DB_STMTS_H
#define CARBONSCHED_SERVICE_DB_STMTS_H

#include "service/db_stmts_areas.h"

#define DB_STMT_TABLE(X) DB_STMTS_SIGNALS(X) DB_STMTS_AREAS(X)

#define DB_STMTS_SIGNALS(X)                                                                                  \
	X(PING, "SELECT 1")                                                                                  \
	X(MIGRATION_VERSION, "SELECT coalesce(max(version), 0) FROM schema_migrations")                      \
	/* regions: the config is the source of truth, mirrored here for joins and jobs */                   \
	X(REGION_UPSERT,                                                                                     \
	  "INSERT INTO regions (id, name, zone, latitude, longitude, jurisdictions, pue, pue_model,"         \
	  " capacity_kw, active, updated_at) VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8::jsonb, $9,"     \
	  " true, now()) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, zone = EXCLUDED.zone,"         \
	  " latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,"                                   \
	  " jurisdictions = EXCLUDED.jurisdictions, pue = EXCLUDED.pue, pue_model = EXCLUDED.pue_model,"     \
	  " capacity_kw = EXCLUDED.capacity_kw, active = true, updated_at = now()")                          \
	X(REGION_DEACTIVATE_OTHERS, "UPDATE regions SET active = false WHERE NOT (id = ANY($1::text[]))")    \
	/* series and signals */                                                                             \
	X(SERIES_UPSERT, "INSERT INTO series (zone, kind, source, unit, step_s) VALUES ($1, $2, $3, $4, $5)" \
			 " ON CONFLICT (zone, kind, source) DO UPDATE SET zone = EXCLUDED.zone"              \
			 " RETURNING id, step_s")                                                            \
	X(SERIES_HAS_POINTS, "SELECT EXISTS (SELECT 1 FROM signals WHERE series_id = $1"                     \
			     " AND ts >= to_timestamp($2) AND ts <= to_timestamp($3))")                      \
	X(SERIES_REFRESH_STATS,                                                                              \
	  "UPDATE series s SET first_ts = x.lo, last_ts = x.hi, points = x.n, updated_at = now()"            \
	  " FROM (SELECT min(ts) lo, max(ts) hi, count(*) n FROM signals WHERE series_id = $1) x"            \
	  " WHERE s.id = $1")                                                                                \
	X(SERIES_ADD_STATS,                                                                                  \
	  "UPDATE series SET first_ts = least(first_ts, to_timestamp($2)),"                                  \
	  " last_ts = greatest(last_ts, to_timestamp($3)), points = points + $4, updated_at = now()"         \
	  " WHERE id = $1")                                                                                  \
	X(SERIES_FOR_ZONE_KIND,                                                                              \
	  "SELECT id, source, unit, step_s, extract(epoch FROM last_ts)::int8 FROM series"                   \
	  " WHERE zone = $1 AND kind = $2 ORDER BY last_ts DESC NULLS LAST, id")                             \
	X(SERIES_ANY, "SELECT EXISTS (SELECT 1 FROM series WHERE points > 0)")                               \
	X(SIGNALS_RANGE,                                                                                     \
	  "SELECT extract(epoch FROM ts)::int8, value, estimated FROM signals"                               \
	  " WHERE series_id = $1 AND ts >= to_timestamp($2) AND ts < to_timestamp($3) ORDER BY ts")          \
	X(SIGNAL_LATEST, "SELECT extract(epoch FROM ts)::int8, value FROM signals WHERE series_id = $1"      \
			 " AND ts <= to_timestamp($2) ORDER BY ts DESC LIMIT 1")                             \
	X(SIGNALS_MERGE_STAGE,                                                                               \
	  "INSERT INTO signals (series_id, ts, value, estimated)"                                            \
	  " SELECT series_id, ts, value, estimated FROM signals_stage"                                       \
	  " ON CONFLICT (series_id, ts) DO UPDATE SET value = EXCLUDED.value,"                               \
	  " estimated = EXCLUDED.estimated WHERE signals.value IS DISTINCT FROM EXCLUDED.value"              \
	  " OR signals.estimated IS DISTINCT FROM EXCLUDED.estimated")                                       \
	X(NOTIFY_SIGNALS, "SELECT pg_notify('carbonsched_signals', $1)")

#endif
