-- 020_forecast_worker.sql - what the forecasting worker of 'serve' adds to
-- the forecast tables of 001:
--
-- * forecast_runs.scored_until: the steps of a run before this instant have
--   been scored against the actuals (NULL: none yet), so each point is
--   scored once, also across restarts and replicas taking over;
-- * forecast_runs.producer: 'host:pid' of the replica that wrote the run
--   (NULL for runs written by pollers or by hand);
-- * forecast_skill: horizon_h is the upper bound of a lead bucket (6, 24,
--   48, 96, 168, 336 h: leads 1-6, 7-24, 25-48, 49-96, ...); the scores
--   (mae, mape, rmse, coverage80 as a ratio 0..1) are derived from
--   exponentially decayed sums kept next to them, 'weight' being the
--   effective number of points and as_of the service-clock time the
--   weights refer to; n counts every point ever scored.
ALTER TABLE forecast_runs
	ADD COLUMN scored_until timestamptz,
	ADD COLUMN producer text;
CREATE INDEX forecast_runs_zone_kind_issued ON forecast_runs (zone, kind, issued_at);

ALTER TABLE forecast_skill
	ADD COLUMN weight double precision NOT NULL DEFAULT 0,
	ADD COLUMN sum_ae double precision NOT NULL DEFAULT 0,
	ADD COLUMN sum_se double precision NOT NULL DEFAULT 0,
	ADD COLUMN sum_ape double precision NOT NULL DEFAULT 0,
	ADD COLUMN w_ape double precision NOT NULL DEFAULT 0,
	ADD COLUMN sum_cov double precision NOT NULL DEFAULT 0,
	ADD COLUMN w_cov double precision NOT NULL DEFAULT 0,
	ADD COLUMN as_of timestamptz;
