-- migrate:up

-- Background exports (PRODUCT.md §4): one row per request, built by the worker into a gzip file
-- in export storage (storage_key), downloadable until expires_at. `query` is the whole filter
-- printed in the query language, so the worker applies exactly what the API validated.
-- `attempts` counts build attempts: each attempt owns its own file, and only the attempt that the
-- row names may update progress or mark the export ready or failed.
CREATE TABLE exports (
  id                 text PRIMARY KEY,
  org_id             text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  -- The requester, kept as id and name (no foreign key: the record outlives the account).
  requested_by       text NOT NULL,
  requested_by_name  text NOT NULL,
  format             text NOT NULL CHECK (format IN ('json', 'ndjson', 'csv')),
  query              text NOT NULL DEFAULT '',
  include_hidden     boolean NOT NULL DEFAULT false,
  status             text NOT NULL DEFAULT 'queued'
                       CHECK (status IN ('queued', 'running', 'ready', 'failed', 'expired')),
  rows_written       bigint NOT NULL DEFAULT 0 CHECK (rows_written >= 0),
  estimated_total    bigint,
  file_size          bigint,
  storage_key        text,
  error              text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  started_at         timestamptz,
  finished_at        timestamptz,
  expires_at         timestamptz,
  attempts           integer NOT NULL DEFAULT 0,
  CHECK (status <> 'ready' OR (storage_key IS NOT NULL AND file_size IS NOT NULL AND expires_at IS NOT NULL))
);
-- An organisation's exports, newest first.
CREATE INDEX exports_org_created_idx ON exports (org_id, created_at DESC, id DESC);
-- The expiry sweep: ready files past their time.
CREATE INDEX exports_ready_expiry_idx ON exports (expires_at) WHERE status = 'ready';
-- The sweep of builds that died without a job to resume them.
CREATE INDEX exports_unfinished_idx ON exports (created_at) WHERE status IN ('queued', 'running');

-- migrate:down

DROP TABLE exports;
