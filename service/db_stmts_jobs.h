/*
 * db_stmts_jobs.h - statements of scheduling and jobs (planner.c, jobs.c,
 * jobs_workers.c).
 *
 * Bookings are serialised per region: JOBS_LOCK_REGIONS takes regions'
 * rows FOR NO KEY UPDATE in id order (so two bookings never deadlock; the
 * mode conflicts with itself but not with the KEY SHARE locks that foreign
 * keys to regions take, e.g. a job's origin that another booking holds), and only then, in a new statement
 * and so a new snapshot, RESERVED_FOR reads what is booked (region_load, kept by triggers on reservations).
 * Everything that adds or removes reservations holds the region's lock first, so region_load rows are only
 * ever written by one transaction per region at a time.  No statement here NOTIFYs: a notifying transaction
 * holds a database-wide lock until its commit is flushed, which would serialise all bookings; replicas poll
 * jobs_version instead, bumped after each commit.  Arrays go in as PostgreSQL array literals and come apart
 * with unnest: one round trip books a job with all its segments, reservations and its first plan, or a whole
 * job array.
 */
#ifndef CARBONSCHED_SERVICE_DB_STMTS_JOBS_H
#define CARBONSCHED_SERVICE_DB_STMTS_JOBS_H

/* The columns of a job as jobs.c reads them (JOB_COLS_N of them). */
#define JOB_COLS                                                                                           \
	"id, name, state, origin, region, power_kw, duration_s, interruptible,"                            \
	" extract(epoch FROM earliest_start)::int8, extract(epoch FROM deadline)::int8,"                   \
	" extract(epoch FROM planned_start)::int8, extract(epoch FROM planned_end)::int8, expected_g,"     \
	" baseline_g, forecast_model, extract(epoch FROM forecast_issued_at)::int8, callback_url,"         \
	" extract(epoch FROM callback_sent_at)::int8, callback_attempts, callback_error, callback_status," \
	" extract(epoch FROM started_at)::int8, extract(epoch FROM completed_at)::int8, measured_kwh,"     \
	" realised_g, realised_baseline_g, extract(epoch FROM created_at)::int8,"                          \
	" extract(epoch FROM submitted_at)::int8, risk, min_segment_s, max_segments, candidates::text,"    \
	" array_id, array_index, array_count, request_hash, idempotency_key"

#define DB_STMTS_JOBS(X)                                                                                     \
	/* planner: forecast runs, their version, booked capacity */                                         \
	X(FC_RUNS_BY_MODEL,                                                                                  \
	  "SELECT DISTINCT ON (model) model, extract(epoch FROM issued_at)::int8, step_s, horizon_s"         \
	  " FROM forecast_runs WHERE zone = $1 AND kind = $2 AND issued_at <= to_timestamp($3)"              \
	  " ORDER BY model, issued_at DESC")                                                                 \
	X(FC_FINGERPRINT,                                                                                    \
	  "SELECT coalesce((SELECT max(id) FROM forecast_runs), 0),"                                         \
	  " coalesce((SELECT (extract(epoch FROM max(created_at)) * 1000000)::int8 FROM forecast_runs), 0)") \
	X(RESERVED_ALL, "SELECT region, extract(epoch FROM ts)::int8, reserved_kw FROM region_load"          \
			" WHERE ts >= to_timestamp($1) AND ts < to_timestamp($2) AND reserved_kw > 0")       \
	/* booking */                                                                                        \
	X(JOBS_LOCK_REGIONS,                                                                                 \
	  "SELECT id FROM regions WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE")                 \
	X(RESERVED_FOR,                                                                                      \
	  "SELECT region, extract(epoch FROM ts)::int8, reserved_kw FROM region_load"                        \
	  " WHERE region = ANY($1::text[]) AND ts >= to_timestamp($2) AND ts < to_timestamp($3)"             \
	  " AND reserved_kw > 0")                                                                            \
	X(JOB_RESERVATIONS,                                                                                  \
	  "SELECT region, extract(epoch FROM ts)::int8, kw FROM reservations WHERE job_id = $1")             \
	X(JOB_BY_KEY, "SELECT id, request_hash, array_id FROM jobs"                                          \
		      " WHERE coalesce(tenant, '') = coalesce($2, '') AND idempotency_key = $1")             \
	X(JOBS_BOOK,                                                                                         \
	  "WITH j AS (INSERT INTO jobs (id, name, idempotency_key, request_hash, state, origin, region,"     \
	  " request, power_kw, duration_s, interruptible, earliest_start, deadline, planned_start,"          \
	  " planned_end, expected_g, baseline_g, forecast_model, forecast_issued_at, callback_url,"          \
	  " created_at, submitted_at, risk, min_segment_s, max_segments, candidates, array_id,"              \
	  " array_index, array_count, tenant)"                                                               \
	  " SELECT u.id, $1, u.key, $2, 'scheduled', $3, u.region, $4::jsonb, $5, $6, $7,"                   \
	  " to_timestamp($8), to_timestamp($9), to_timestamp(u.s), to_timestamp(u.e), u.g, $10, u.fm,"       \
	  " to_timestamp(u.fi), $11, to_timestamp($12), to_timestamp($12), $13, $14, $15, $16::text[],"      \
	  " $17::uuid, u.idx, $18, $36"                                                                      \
	  " FROM unnest($19::uuid[], $20::text[], $21::text[], $22::int8[], $23::int8[], $24::float8[],"     \
	  " $25::text[], $26::int8[], $27::int4[], $28::text[]) AS u(id, key, region, s, e, g, fm, fi, idx," \
	  " segs)),"                                                                                         \
	  " seg AS (INSERT INTO job_segments (job_id, seq, start_ts, end_ts)"                                \
	  " SELECT u.job, u.seq, to_timestamp(u.s), to_timestamp(u.e)"                                       \
	  " FROM unnest($29::uuid[], $30::int4[], $31::int8[], $32::int8[]) AS u(job, seq, s, e)),"          \
	  " res AS (INSERT INTO reservations (region, ts, job_id, kw)"                                       \
	  " SELECT u.region, to_timestamp(u.ts), u.job, $5"                                                  \
	  " FROM unnest($33::text[], $34::int8[], $35::uuid[]) AS u(region, ts, job)),"                      \
	  " pl AS (INSERT INTO job_plans (job_id, planned_at, region, segments, expected_g, reason,"         \
	  " clock_at, forecast_model, forecast_issued_at)"                                                   \
	  " SELECT u.id, clock_timestamp(), u.region, u.segs::jsonb, u.g, 'booked', to_timestamp($12),"      \
	  " u.fm, to_timestamp(u.fi) FROM unnest($19::uuid[], $21::text[], $28::text[], $24::float8[],"      \
	  " $25::text[], $26::int8[]) AS u(id, region, segs, g, fm, fi))"                                    \
	  " SELECT 1")                                                                                       \
	/* reading */                                                                                        \
	/* $2: a tenant sees its own jobs only; NULL (operators, workers) sees all */                        \
	X(JOB_GET, "SELECT " JOB_COLS " FROM jobs WHERE id = $1 AND ($2::text IS NULL OR tenant = $2)")      \
	X(JOB_GET_LOCKED,                                                                                    \
	  "SELECT " JOB_COLS " FROM jobs WHERE id = $1 AND ($2::text IS NULL OR tenant = $2)"                \
	  " FOR UPDATE")                                                                                     \
	X(JOB_SEGMENTS,                                                                                      \
	  "SELECT job_id, extract(epoch FROM start_ts)::int8, extract(epoch FROM end_ts)::int8"              \
	  " FROM job_segments WHERE job_id = ANY($1::uuid[]) ORDER BY job_id, seq")                          \
	X(JOB_PLANS,                                                                                         \
	  "SELECT extract(epoch FROM planned_at)::int8, extract(epoch FROM clock_at)::int8, region,"         \
	  " segments::text, expected_g, reason, forecast_model,"                                             \
	  " extract(epoch FROM forecast_issued_at)::int8 FROM job_plans WHERE job_id = $1"                   \
	  " ORDER BY planned_at")                                                                            \
	X(JOBS_OF_ARRAY, "SELECT " JOB_COLS " FROM jobs WHERE array_id = $1 ORDER BY array_index")           \
	X(JOBS_LIST,                                                                                         \
	  "SELECT " JOB_COLS " FROM jobs WHERE ($1::text IS NULL OR state = $1)"                             \
	  " AND planned_start >= to_timestamp($2) AND planned_start < to_timestamp($3)"                      \
	  " AND (planned_start, id) > (to_timestamp($4), $5::uuid) AND ($7::text IS NULL OR tenant = $7)"    \
	  " ORDER BY planned_start, id LIMIT $6")                                                            \
	/* lifecycle */                                                                                      \
	X(JOB_SET_RUNNING,                                                                                   \
	  "UPDATE jobs SET state = 'running', started_at = to_timestamp($2), updated_at = now()"             \
	  " WHERE id = $1")                                                                                  \
	X(JOB_SET_COMPLETED,                                                                                 \
	  "UPDATE jobs SET state = 'completed', started_at = coalesce(started_at, to_timestamp($2)),"        \
	  " completed_at = to_timestamp($3), measured_kwh = $4, realised_g = $5,"                            \
	  " realised_baseline_g = $6, updated_at = now() WHERE id = $1")                                     \
	X(JOB_SET_CANCELLED, "UPDATE jobs SET state = 'cancelled', updated_at = now() WHERE id = $1")        \
	X(REALISED_PENDING,                                                                                  \
	  "SELECT id FROM jobs WHERE state = 'completed' AND measured_kwh IS NOT NULL"                       \
	  " AND (realised_g IS NULL OR realised_baseline_g IS NULL) AND completed_at >= to_timestamp($1)"    \
	  " ORDER BY completed_at LIMIT 100")                                                                \
	X(REALISED_SET, "UPDATE jobs SET realised_g = coalesce(realised_g, $2), realised_baseline_g ="       \
			" coalesce(realised_baseline_g, $3), updated_at = now() WHERE id = $1")              \
	X(RESERVATIONS_FREE_FROM, "DELETE FROM reservations WHERE job_id = $1 AND ts >= to_timestamp($2)")   \
	X(JOBS_VERSION_BUMP, "SELECT nextval('jobs_version')")                                               \
	X(JOBS_VERSION, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM jobs_version")           \
	/* re-planning */                                                                                    \
	X(REPLAN_LOCK, "SELECT pg_try_advisory_lock(7248115010)")                                            \
	X(REPLAN_UNLOCK, "SELECT pg_advisory_unlock(7248115010)")                                            \
	X(REPLAN_CANDIDATES,                                                                                 \
	  "SELECT id FROM jobs WHERE state = 'scheduled' AND planned_start >= to_timestamp($1)"              \
	  " ORDER BY planned_start, id LIMIT $2")                                                            \
	X(JOB_REPLAN_SET,                                                                                    \
	  "UPDATE jobs SET region = $2, planned_start = to_timestamp($3), planned_end = to_timestamp($4),"   \
	  " expected_g = $5, forecast_model = $6, forecast_issued_at = to_timestamp($7),"                    \
	  " updated_at = now() WHERE id = $1")                                                               \
	X(JOB_SEGMENTS_DELETE, "DELETE FROM job_segments WHERE job_id = $1")                                 \
	X(RESERVATIONS_DELETE, "DELETE FROM reservations WHERE job_id = $1")                                 \
	X(JOB_REPLAN_INSERT,                                                                                 \
	  "WITH seg AS (INSERT INTO job_segments (job_id, seq, start_ts, end_ts)"                            \
	  " SELECT $1, u.seq, to_timestamp(u.s), to_timestamp(u.e)"                                          \
	  " FROM unnest($2::int4[], $3::int8[], $4::int8[]) AS u(seq, s, e)),"                               \
	  " res AS (INSERT INTO reservations (region, ts, job_id, kw)"                                       \
	  " SELECT $5, to_timestamp(u.ts), $1, $6 FROM unnest($7::int8[]) AS u(ts))"                         \
	  " INSERT INTO job_plans (job_id, planned_at, region, segments, expected_g, reason, clock_at,"      \
	  " forecast_model, forecast_issued_at) VALUES ($1, clock_timestamp(), $5, $8::jsonb, $9, $10,"      \
	  " to_timestamp($11), $12, to_timestamp($13))")                                                     \
	/* start callbacks */                                                                                \
	X(CALLBACKS_DUE,                                                                                     \
	  "SELECT " JOB_COLS " FROM jobs WHERE state = 'scheduled' AND callback_url IS NOT NULL"             \
	  " AND callback_sent_at IS NULL AND planned_start <= to_timestamp($1)"                              \
	  " AND (callback_next_at IS NULL OR callback_next_at <= to_timestamp($1))"                          \
	  " AND callback_attempts < $2 ORDER BY planned_start LIMIT 1 FOR UPDATE SKIP LOCKED")               \
	X(CALLBACK_SENT,                                                                                     \
	  "UPDATE jobs SET callback_sent_at = to_timestamp($2), callback_attempts = callback_attempts + 1,"  \
	  " callback_status = $3, callback_error = NULL WHERE id = $1")                                      \
	X(CALLBACK_FAILED,                                                                                   \
	  "UPDATE jobs SET callback_attempts = callback_attempts + 1, callback_status = $2,"                 \
	  " callback_error = $3, callback_next_at = to_timestamp($4) WHERE id = $1")

#endif
