-- migrate:up

-- Verifiable exports (issue 14): a finished export's signed manifest (format, rows, SHA-256 of
-- the file, query, first and last seq, the signed checkpoint it was cut at, and a C2SP signed
-- note over all of it). Null until the export is ready.
ALTER TABLE exports ADD COLUMN manifest jsonb;

-- migrate:down

ALTER TABLE exports DROP COLUMN manifest;
