-- migrate:up
-- Issue 20: the auditor role (reads, searches, exports and verifies the log, changes nothing).
-- The roles are listed in packages/events/src/roles.ts (memberRoles); this check follows it.
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships
  ADD CONSTRAINT memberships_role_check CHECK (role IN ('admin', 'auditor', 'write', 'read'));

-- migrate:down
-- Auditors become `read` members (a role without access to the log) before the old check returns.
UPDATE memberships SET role = 'read' WHERE role = 'auditor';
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships
  ADD CONSTRAINT memberships_role_check CHECK (role IN ('admin', 'write', 'read'));
