-- migrate:up

-- The verifiable log (issue 14): every entry gets its place in its organisation's log (`seq`,
-- 1, 2, 3 … in commit order) and the salt of its personal digest; the tree of each
-- organisation's leaves is kept as C2SP tiles; signed checkpoints are kept as issued.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The salt is drawn by PostgreSQL so the worker's COPY text does not grow by a column.
ALTER TABLE audit_entries
  ADD COLUMN seq bigint,
  ADD COLUMN commit_salt bytea NOT NULL DEFAULT gen_random_bytes(16)
    CHECK (octet_length(commit_salt) = 16);

-- Entries stored before this migration take their places in the order they were stored.
UPDATE audit_entries e SET seq = numbered.seq
FROM (
  SELECT org_id, id, row_number() OVER (PARTITION BY org_id ORDER BY stored_at, id) AS seq
  FROM audit_entries
) numbered
WHERE e.org_id = numbered.org_id AND e.id = numbered.id;

ALTER TABLE audit_entries ALTER COLUMN seq SET NOT NULL;
ALTER TABLE audit_entries ADD CONSTRAINT audit_entries_seq_positive CHECK (seq >= 1);
-- Serves the feed (after=<seq>) and the tree builder; the uniqueness is a last line of defence
-- for gap-free numbering.
CREATE UNIQUE INDEX audit_entries_org_seq_idx ON audit_entries (org_id, seq);

-- How many entries each organisation's log holds: the counter a write takes, under this row's
-- lock, inside its own transaction, so one organisation's writes commit in `seq` order and a
-- rolled-back write leaves no gap.
CREATE TABLE audit_log_heads (
  org_id  text PRIMARY KEY,
  size    bigint NOT NULL CHECK (size >= 0)
);
INSERT INTO audit_log_heads (org_id, size)
SELECT org_id, count(*) FROM audit_entries GROUP BY org_id;

-- How far the tree of each organisation is built, and its root at that size.
CREATE TABLE audit_log_trees (
  org_id      text PRIMARY KEY,
  size        bigint NOT NULL CHECK (size >= 0),
  root_hash   bytea NOT NULL CHECK (octet_length(root_hash) = 32),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The tree's hashes as C2SP tlog-tiles of height 8: tile (level, index) holds up to 256 hashes
-- of tree level 8·level, concatenated. A full tile never changes; the rightmost tile of a level
-- grows in place. One row per tile, not per node, so the tree costs a fraction of an entry.
CREATE TABLE audit_log_tiles (
  org_id  text NOT NULL,
  level   smallint NOT NULL CHECK (level >= 0),
  index   bigint NOT NULL CHECK (index >= 0),
  hashes  bytea NOT NULL
    CHECK (octet_length(hashes) BETWEEN 32 AND 8192 AND octet_length(hashes) % 32 = 0),
  PRIMARY KEY (org_id, level, index)
);

-- Every signed checkpoint, as issued (the note text is what clients verify).
CREATE TABLE audit_log_checkpoints (
  org_id     text NOT NULL,
  tree_size  bigint NOT NULL CHECK (tree_size >= 0),
  root_hash  bytea NOT NULL CHECK (octet_length(root_hash) = 32),
  note       text NOT NULL,
  signed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, tree_size)
);

-- Append-only: entries and checkpoints are never changed or removed, except by the retention
-- purge, which sets `auditlog.maintenance` to 'purge' for its own transaction
-- (`SET LOCAL auditlog.maintenance = 'purge'`). SQLSTATE AL001 names the refusal.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' AND current_setting('auditlog.maintenance', true) = 'purge' THEN
    IF TG_LEVEL = 'ROW' THEN RETURN OLD; END IF;
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'AL001',
          HINT = 'audit entries and checkpoints are never changed; only the retention purge removes them';
END
$$;

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_log_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_checkpoints_no_truncate BEFORE TRUNCATE ON audit_log_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
-- A statement trigger on the partitioned table does not fire for a partition truncated by name.
DO $$
DECLARE partition regclass;
BEGIN
  CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
  FOR partition IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'audit_entries'::regclass
  LOOP
    EXECUTE format(
      'CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()',
      partition::text || '_no_truncate', partition);
  END LOOP;
END
$$;

-- migrate:down

DROP TABLE audit_log_checkpoints;
DROP TABLE audit_log_tiles;
DROP TABLE audit_log_trees;
DROP TABLE audit_log_heads;
DROP TRIGGER audit_entries_append_only ON audit_entries;
DROP TRIGGER audit_entries_no_truncate ON audit_entries;
DO $$
DECLARE partition regclass;
BEGIN
  FOR partition IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'audit_entries'::regclass
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', partition::text || '_no_truncate', partition);
  END LOOP;
END
$$;
DROP FUNCTION audit_log_refuse_change();
DROP INDEX audit_entries_org_seq_idx;
ALTER TABLE audit_entries DROP COLUMN seq, DROP COLUMN commit_salt;
