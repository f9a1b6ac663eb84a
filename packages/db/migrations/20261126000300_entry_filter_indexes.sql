-- migrate:up

-- The query API's common filters, each ordered like the default view so that "newest first,
-- filtered" reads one index range instead of scanning the organisation's whole history.
CREATE INDEX audit_entries_org_type_idx ON audit_entries (org_id, type, occurred_at DESC, id DESC);
CREATE INDEX audit_entries_org_actor_name_idx ON audit_entries (org_id, actor_name, occurred_at DESC, id DESC);
CREATE INDEX audit_entries_org_actor_id_idx ON audit_entries (org_id, actor_id, occurred_at DESC, id DESC);

-- migrate:down

DROP INDEX audit_entries_org_actor_id_idx;
DROP INDEX audit_entries_org_actor_name_idx;
DROP INDEX audit_entries_org_type_idx;
