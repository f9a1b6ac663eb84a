-- migrate:up

-- The last seq whose purge is on the record (an `org.audit_log.purge` entry queued in the
-- organisation's own log). A purge commits batch by batch and is recorded after its last batch;
-- a worker killed in between left the purge unrecorded for good. With this, the next lifecycle
-- run records whatever lies between purge_recorded_through and retained_from - 1 first.
-- Purges before this migration were recorded as they ran.
ALTER TABLE audit_log_heads ADD COLUMN purge_recorded_through bigint NOT NULL DEFAULT 0
  CHECK (purge_recorded_through >= 0);
UPDATE audit_log_heads SET purge_recorded_through = retained_from - 1 WHERE retained_from > 1;

-- migrate:down

ALTER TABLE audit_log_heads DROP COLUMN purge_recorded_through;
