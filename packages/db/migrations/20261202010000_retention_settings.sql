-- migrate:up

-- Data lifecycle (issue 16). An organisation's own retention within its plan's bounds (NULL:
-- the plan's default, so a change of plan moves it) and its legal hold, under which nothing of
-- the organisation is purged whatever its retention. The reason is kept for the record.
CREATE TABLE org_retention_settings (
  org_id             text PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  days               integer CHECK (days >= 1),
  legal_hold         boolean NOT NULL DEFAULT false,
  legal_hold_reason  text CHECK (char_length(legal_hold_reason) <= 500),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Where each organisation's retained log starts: entries with seq < retained_from have been
-- purged (their leaf hashes stay in the tree's tiles, so proofs of what remains still verify).
ALTER TABLE audit_log_heads ADD COLUMN retained_from bigint NOT NULL DEFAULT 1
  CHECK (retained_from >= 1 AND retained_from <= size + 1);

-- migrate:down

ALTER TABLE audit_log_heads DROP COLUMN retained_from;
DROP TABLE org_retention_settings;
