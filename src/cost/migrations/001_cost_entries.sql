-- Every amount a job spends, recorded once per (job_id, stage, clip_index, key).
-- Amounts are integer micro-dollars (1 USD = 1_000_000).
-- Applied by src/cost/migrate.ts, in one transaction, on PostgreSQL and on PGlite alike.
CREATE TABLE cost_entries (
  job_id           text        NOT NULL,
  stage            text        NOT NULL,
  clip_index       integer     NOT NULL,
  key              text        NOT NULL,
  amount_micro_usd bigint      NOT NULL CONSTRAINT cost_entries_amount_nonnegative CHECK (amount_micro_usd >= 0),
  model            text        NULL,
  recorded_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT cost_entries_pkey PRIMARY KEY (job_id, stage, clip_index, key)
);

-- The primary key already serves lookups by job_id (its leading column); this index keeps
-- per-job scans cheap should the key ever change, and is the one the schema promises.
CREATE INDEX cost_entries_job_id_idx ON cost_entries (job_id);
