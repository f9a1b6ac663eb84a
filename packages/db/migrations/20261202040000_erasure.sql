-- migrate:up

-- Erasure (issue 16, GDPR art. 17). An entry's leaf commits its personal fields only through
-- SHA-256(salt ‖ personal JSON). Erasing a person rewrites those fields (pseudonym, NULLs) and
-- keeps the digest they had (`personal_digest`) while dropping the salt: the leaf, and so every
-- proof and checkpoint, still recomputes from the stored row, but the erased values cannot be
-- recovered or confirmed by guessing (no salt left to try a guess against).
ALTER TABLE audit_entries
  ADD COLUMN personal_digest bytea,
  ALTER COLUMN commit_salt DROP NOT NULL;
-- Exactly one of the two: a salt (not erased) or the kept digest (erased). NOT VALID: every
-- existing row holds it (a salt, and the new column NULL), and checking hundreds of millions of
-- rows under this statement's lock would stall ingestion; new and changed rows are checked.
ALTER TABLE audit_entries ADD CONSTRAINT audit_entries_salt_or_digest CHECK (
  (commit_salt IS NOT NULL AND personal_digest IS NULL)
  OR (commit_salt IS NULL AND octet_length(personal_digest) = 32)
) NOT VALID;

-- One row per erasure: who asked, whose data (the actor id is an opaque id of the sending
-- platform, kept so a second request for the same person is recognised), the pseudonym, how many
-- entries changed. No erased value is kept here.
CREATE TABLE erasures (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  actor_id        text NOT NULL,
  pseudonym       text NOT NULL,
  requested_by    text NOT NULL,
  status          text NOT NULL CHECK (status IN ('completed')),
  entries         bigint NOT NULL CHECK (entries >= 0),
  dead_letters    bigint NOT NULL DEFAULT 0 CHECK (dead_letters >= 0),
  exports_deleted bigint NOT NULL DEFAULT 0 CHECK (exports_deleted >= 0),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erasures_org_created_idx ON erasures (org_id, created_at DESC, id DESC);

-- UPDATE of an entry: refused, except inside an erasure's own transaction
-- (`SET LOCAL auditlog.maintenance = 'erase'`), and even then only of the columns the personal
-- digest commits (which the leaf no longer needs once the digest is kept) and of the salt and
-- digest themselves: the salt may only be dropped, the digest only set once, to stay. Every
-- column the leaf holds in clear (id, type, times, actor id, target id …) and seq stay as they
-- were. DELETE keeps the shared rule (only the retention purge).
CREATE FUNCTION audit_entries_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('auditlog.maintenance', true) = 'erase'
    AND (NEW.org_id, NEW.id, NEW.type, NEW.category, NEW.hidden_by_default, NEW.occurred_at,
         NEW.received_at, NEW.stored_at, NEW.actor_type, NEW.actor_id, NEW.actor_token_role,
         NEW.actor_token_last4, NEW.target_type, NEW.target_id, NEW.oauth_client_id, NEW.seq)
      IS NOT DISTINCT FROM
        (OLD.org_id, OLD.id, OLD.type, OLD.category, OLD.hidden_by_default, OLD.occurred_at,
         OLD.received_at, OLD.stored_at, OLD.actor_type, OLD.actor_id, OLD.actor_token_role,
         OLD.actor_token_last4, OLD.target_type, OLD.target_id, OLD.oauth_client_id, OLD.seq)
    AND NEW.commit_salt IS NULL
    AND NEW.personal_digest IS NOT NULL
    AND (OLD.personal_digest IS NULL OR NEW.personal_digest = OLD.personal_digest)
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only: UPDATE refused', TG_TABLE_NAME
    USING ERRCODE = 'AL001',
          HINT = 'audit entries are never changed; an erasure may only replace personal fields and keep their digest';
END
$$;

DROP TRIGGER audit_entries_append_only ON audit_entries;
CREATE TRIGGER audit_entries_append_only BEFORE DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_entries_update_only_erasure BEFORE UPDATE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse_update();

-- migrate:down

DROP TRIGGER audit_entries_update_only_erasure ON audit_entries;
DROP TRIGGER audit_entries_append_only ON audit_entries;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
DROP FUNCTION audit_entries_refuse_update();
DROP TABLE erasures;
ALTER TABLE audit_entries DROP CONSTRAINT audit_entries_salt_or_digest;
-- Erased entries cannot get their salt back: the down migration refuses while any exists.
ALTER TABLE audit_entries ALTER COLUMN commit_salt SET NOT NULL;
ALTER TABLE audit_entries DROP COLUMN personal_digest;
