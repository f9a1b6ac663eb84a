-- migrate:up

CREATE TABLE organizations (
  id          text PRIMARY KEY,
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name        text NOT NULL,
  plan        text NOT NULL CHECK (plan IN ('free', 'team', 'enterprise')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id             text PRIMARY KEY,
  email          text NOT NULL UNIQUE CHECK (email = lower(email)),
  name           text NOT NULL,
  password_hash  text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  org_id      text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('admin', 'write', 'read')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- Only a SHA-256 of the key is kept: keys are 256-bit random, so a slow hash adds nothing and
-- a fast one keeps the ingest hot path cheap. The prefix lets an operator tell keys apart.
CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  org_id        text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name          text NOT NULL,
  prefix        text NOT NULL,
  key_hash      bytea NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id);

-- Audit entries: append-only, hundreds of millions of rows. Hash-partitioned by organisation so
-- that every query (always scoped to one organisation) touches one partition, and indexes and
-- vacuum work on sixteenths. The primary key (org_id, id) makes a redelivered event a no-op
-- (INSERT … ON CONFLICT DO NOTHING), and contains the partition key as PostgreSQL requires.
CREATE TABLE audit_entries (
  org_id              text NOT NULL,
  id                  text NOT NULL,
  type                text NOT NULL,
  category            text NOT NULL,
  hidden_by_default   boolean NOT NULL DEFAULT false,
  occurred_at         timestamptz NOT NULL,
  received_at         timestamptz NOT NULL,
  stored_at           timestamptz NOT NULL DEFAULT now(),
  actor_type          text NOT NULL CHECK (actor_type IN ('user', 'token', 'system')),
  actor_id            text NOT NULL,
  actor_name          text NOT NULL,
  actor_avatar_url    text,
  actor_token_role    text,
  actor_token_last4   text,
  target_type         text,
  target_id           text,
  target_name         text,
  description         text NOT NULL,
  -- Already truncated (IPv4 /24, IPv6 /48) by the worker; the full address is never stored.
  ip                  inet,
  country_code        text,
  region              text,
  city                text,
  user_agent          text,
  oauth_client_id     text,
  oauth_name          text,
  data                jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (org_id, id)
) PARTITION BY HASH (org_id);

CREATE TABLE audit_entries_p00 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 0);
CREATE TABLE audit_entries_p01 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 1);
CREATE TABLE audit_entries_p02 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 2);
CREATE TABLE audit_entries_p03 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 3);
CREATE TABLE audit_entries_p04 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 4);
CREATE TABLE audit_entries_p05 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 5);
CREATE TABLE audit_entries_p06 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 6);
CREATE TABLE audit_entries_p07 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 7);
CREATE TABLE audit_entries_p08 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 8);
CREATE TABLE audit_entries_p09 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 9);
CREATE TABLE audit_entries_p10 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 10);
CREATE TABLE audit_entries_p11 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 11);
CREATE TABLE audit_entries_p12 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 12);
CREATE TABLE audit_entries_p13 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 13);
CREATE TABLE audit_entries_p14 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 14);
CREATE TABLE audit_entries_p15 PARTITION OF audit_entries FOR VALUES WITH (MODULUS 16, REMAINDER 15);

-- Serves "newest first within one organisation" and keyset pagination on (occurred_at, id).
CREATE INDEX audit_entries_org_newest_idx ON audit_entries (org_id, occurred_at DESC, id DESC);

-- Events the worker refused: kept with the reason so nothing accepted is lost silently.
-- The payload is stored with its IP already truncated.
CREATE TABLE dead_letters (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id       text NOT NULL,
  dedupe_key   text NOT NULL,
  event_id     text,
  event_type   text,
  reason       text NOT NULL,
  issues       jsonb NOT NULL DEFAULT '[]'::jsonb,
  payload      jsonb NOT NULL,
  received_at  timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, dedupe_key)
);

-- migrate:down

DROP TABLE dead_letters;
DROP TABLE audit_entries;
DROP TABLE api_keys;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE organizations;
