-- The order entries were recorded in. recorded_at (now(), the start of each transaction) ties
-- for rows recorded within the same clock tick, and ordering by it then fell back on the key;
-- an identity column does not tie. Rows recorded before this migration are numbered in their
-- recorded_at order, and new rows continue after them.
ALTER TABLE cost_entries ADD COLUMN seq bigint;

UPDATE cost_entries AS c
   SET seq = numbered.n
  FROM (SELECT job_id, stage, clip_index, key,
               row_number() OVER (ORDER BY recorded_at, clip_index, stage, key) AS n
          FROM cost_entries) AS numbered
 WHERE (c.job_id, c.stage, c.clip_index, c.key) = (numbered.job_id, numbered.stage, numbered.clip_index, numbered.key);

ALTER TABLE cost_entries ALTER COLUMN seq SET NOT NULL;
ALTER TABLE cost_entries ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('cost_entries', 'seq'), coalesce(max(seq), 0) + 1, false) FROM cost_entries;

-- entries(): one job's rows in recording order.
CREATE INDEX cost_entries_job_id_seq_idx ON cost_entries (job_id, seq);
