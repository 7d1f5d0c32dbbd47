-- 010_jobs_booking.sql - what booking, re-planning and callbacks need.
--
-- Idempotency keys: 001 declared UNIQUE NULLS NOT DISTINCT (tenant,
-- idempotency_key), which makes every job without a key collide with every
-- other one.  One key per tenant is what is meant; jobs without a key are
-- unconstrained.
ALTER TABLE jobs DROP CONSTRAINT jobs_tenant_idempotency_key_key;
CREATE UNIQUE INDEX jobs_idempotency ON jobs ((coalesce(tenant, '')), idempotency_key)
	WHERE idempotency_key IS NOT NULL;

-- The job as the engine sees it, kept so that it can be re-planned: the
-- service clock's "now" when it was submitted (the baseline runs from
-- there), the risk quantile, segment constraints and the candidate regions
-- resolved at booking time (the caller's list filtered by residency).
ALTER TABLE jobs
	ADD COLUMN submitted_at timestamptz,
	ADD COLUMN risk text NOT NULL DEFAULT 'p50' CHECK (risk IN ('p50', 'p90')),
	ADD COLUMN min_segment_s integer NOT NULL DEFAULT 0,
	ADD COLUMN max_segments integer NOT NULL DEFAULT 0,
	ADD COLUMN candidates text[] NOT NULL DEFAULT '{}',
	-- job arrays: copies booked together share array_id; index 0 holds the key
	ADD COLUMN array_id uuid,
	ADD COLUMN array_index integer,
	ADD COLUMN array_count integer,
	-- the start callback
	ADD COLUMN callback_attempts integer NOT NULL DEFAULT 0,
	ADD COLUMN callback_next_at timestamptz,
	ADD COLUMN callback_error text,
	ADD COLUMN callback_status integer;
CREATE INDEX jobs_array ON jobs (array_id, array_index) WHERE array_id IS NOT NULL;
CREATE INDEX jobs_callback_due ON jobs (planned_start)
	WHERE state = 'scheduled' AND callback_url IS NOT NULL AND callback_sent_at IS NULL;
CREATE INDEX jobs_planned ON jobs (planned_start, id);

-- Plan history: the service clock when planned, and the forecast used.
ALTER TABLE job_plans
	ADD COLUMN clock_at timestamptz,
	ADD COLUMN forecast_model text,
	ADD COLUMN forecast_issued_at timestamptz;

-- Replicas notice new forecast runs by polling max(id) and max(created_at)
-- (besides LISTEN): both must be index lookups.
CREATE INDEX forecast_runs_created ON forecast_runs (created_at);

-- Booked power per region and step, maintained from reservations by
-- statement triggers: a booking reads a window of it (a few hundred rows)
-- instead of summing every reservation in the window.  capacity_kw is the
-- region's capacity when the row last grew ('Infinity' = unlimited); the
-- CHECK is a last line of defence - the engine never places beyond the
-- capacity it read under the region locks, but should anything else ever
-- try, the transaction fails rather than oversubscribe a step.
CREATE TABLE region_load (
	region text NOT NULL REFERENCES regions (id),
	ts timestamptz NOT NULL,
	reserved_kw double precision NOT NULL,
	capacity_kw double precision NOT NULL,
	PRIMARY KEY (region, ts),
	CONSTRAINT region_load_within_capacity CHECK (reserved_kw <= capacity_kw + 1e-6)
);

CREATE FUNCTION region_load_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO region_load (region, ts, reserved_kw, capacity_kw)
	SELECT n.region, n.ts, sum(n.kw),
		min(CASE WHEN r.capacity_kw > 0 THEN r.capacity_kw ELSE 'Infinity'::float8 END)
	FROM new_rows n JOIN regions r ON r.id = n.region
	GROUP BY n.region, n.ts ORDER BY n.region, n.ts
	ON CONFLICT (region, ts) DO UPDATE SET reserved_kw = region_load.reserved_kw + EXCLUDED.reserved_kw,
		capacity_kw = EXCLUDED.capacity_kw;
	RETURN NULL;
END $$;

CREATE FUNCTION region_load_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE region_load l SET reserved_kw = greatest(l.reserved_kw - d.kw, 0)
	FROM (SELECT region, ts, sum(kw) AS kw FROM old_rows GROUP BY region, ts) d
	WHERE l.region = d.region AND l.ts = d.ts;
	RETURN NULL;
END $$;

CREATE TRIGGER reservations_add AFTER INSERT ON reservations
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION region_load_add();
CREATE TRIGGER reservations_remove AFTER DELETE ON reservations
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION region_load_remove();

-- Replicas learn that bookings changed by polling this sequence (bumped
-- after each commit), not by NOTIFY: a notifying transaction holds a
-- database-wide lock through its commit, which would serialise every
-- booking's WAL flush behind every other's.
CREATE SEQUENCE jobs_version;
