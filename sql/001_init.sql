-- 001_init.sql - the schema for the whole of DESIGN.md.
--
-- Series are identified once (zone, kind, source) and their points are
-- narrow rows (series_id, ts, value, estimated): 1 M points of the 123-zone
-- matrix are ~60 MB instead of ~120 MB with text keys on every row.  The
-- view signal_points shows the wide form (zone, kind, source, ts, value,
-- estimated) for humans and ad-hoc SQL.

CREATE TABLE regions (
	id text PRIMARY KEY,
	name text NOT NULL,
	zone text NOT NULL,
	latitude double precision NOT NULL,
	longitude double precision NOT NULL,
	jurisdictions text[] NOT NULL DEFAULT '{}',
	pue double precision NOT NULL CHECK (pue >= 1),
	pue_model jsonb,
	capacity_kw double precision NOT NULL DEFAULT 0 CHECK (capacity_kw >= 0),
	active boolean NOT NULL DEFAULT true,
	updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE series (
	id serial PRIMARY KEY,
	zone text NOT NULL,
	kind text NOT NULL,
	source text NOT NULL,
	unit text NOT NULL,
	step_s integer NOT NULL CHECK (step_s > 0),
	first_ts timestamptz,
	last_ts timestamptz,
	points bigint NOT NULL DEFAULT 0,
	updated_at timestamptz,
	UNIQUE (zone, kind, source)
);

CREATE TABLE signals (
	series_id integer NOT NULL REFERENCES series (id) ON DELETE CASCADE,
	ts timestamptz NOT NULL,
	value double precision NOT NULL,
	estimated boolean NOT NULL DEFAULT false,
	PRIMARY KEY (series_id, ts)
);

CREATE VIEW signal_points AS
	SELECT s.zone, s.kind, s.source, p.ts, p.value, p.estimated
	FROM signals p JOIN series s ON s.id = p.series_id;

-- Forecasts: one run per (zone, kind, model, issue time), its points with
-- the central value and the 80 % interval.
CREATE TABLE forecast_runs (
	id bigserial PRIMARY KEY,
	zone text NOT NULL,
	kind text NOT NULL,
	model text NOT NULL,
	issued_at timestamptz NOT NULL,
	step_s integer NOT NULL CHECK (step_s > 0),
	horizon_s integer NOT NULL CHECK (horizon_s > 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (zone, kind, model, issued_at)
);

CREATE TABLE forecast_points (
	run_id bigint NOT NULL REFERENCES forecast_runs (id) ON DELETE CASCADE,
	ts timestamptz NOT NULL,
	p10 double precision,
	p50 double precision NOT NULL,
	p90 double precision,
	PRIMARY KEY (run_id, ts)
);

-- Recent skill per zone, kind, model and lead time, updated as actuals arrive.
CREATE TABLE forecast_skill (
	zone text NOT NULL,
	kind text NOT NULL,
	model text NOT NULL,
	horizon_h integer NOT NULL,
	n integer NOT NULL,
	mae double precision,
	mape double precision,
	rmse double precision,
	coverage80 double precision,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (zone, kind, model, horizon_h)
);

CREATE TABLE api_keys (
	id bigserial PRIMARY KEY,
	prefix text NOT NULL UNIQUE,
	hash bytea NOT NULL,
	scopes text[] NOT NULL,
	tenant text,
	name text,
	created_at timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz,
	revoked_at timestamptz
);

CREATE TABLE jobs (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant text,
	name text,
	idempotency_key text,
	request_hash text,
	state text NOT NULL CHECK (state IN ('scheduled', 'running', 'completed', 'cancelled', 'failed')),
	origin text REFERENCES regions (id),
	region text REFERENCES regions (id),
	request jsonb NOT NULL,
	power_kw double precision NOT NULL CHECK (power_kw > 0),
	duration_s integer NOT NULL CHECK (duration_s > 0),
	interruptible boolean NOT NULL DEFAULT false,
	earliest_start timestamptz NOT NULL,
	deadline timestamptz NOT NULL,
	planned_start timestamptz,
	planned_end timestamptz,
	expected_g double precision,
	baseline_g double precision,
	forecast_model text,
	forecast_issued_at timestamptz,
	callback_url text,
	callback_sent_at timestamptz,
	started_at timestamptz,
	completed_at timestamptz,
	measured_kwh double precision,
	realised_g double precision,
	realised_baseline_g double precision,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (deadline > earliest_start),
	UNIQUE NULLS NOT DISTINCT (tenant, idempotency_key)
);
CREATE INDEX jobs_state_start ON jobs (state, planned_start);

CREATE TABLE job_segments (
	job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	seq integer NOT NULL,
	start_ts timestamptz NOT NULL,
	end_ts timestamptz NOT NULL CHECK (end_ts > start_ts),
	PRIMARY KEY (job_id, seq)
);

-- Every plan a job has had (the first and each re-plan), newest last.
CREATE TABLE job_plans (
	job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	planned_at timestamptz NOT NULL DEFAULT now(),
	region text NOT NULL,
	segments jsonb NOT NULL,
	expected_g double precision NOT NULL,
	reason text NOT NULL,
	PRIMARY KEY (job_id, planned_at)
);

-- Capacity held by booked jobs, per region and step.
CREATE TABLE reservations (
	region text NOT NULL REFERENCES regions (id),
	ts timestamptz NOT NULL,
	job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	kw double precision NOT NULL CHECK (kw > 0),
	PRIMARY KEY (region, ts, job_id)
);
CREATE INDEX reservations_job ON reservations (job_id);

-- What each poller did last, per source and zone (GET /v1/sources).
CREATE TABLE source_state (
	source text NOT NULL,
	zone text NOT NULL,
	last_success_at timestamptz,
	last_error text,
	last_error_at timestamptz,
	next_run_at timestamptz,
	rows_written bigint NOT NULL DEFAULT 0,
	breaker text NOT NULL DEFAULT 'closed',
	PRIMARY KEY (source, zone)
);
