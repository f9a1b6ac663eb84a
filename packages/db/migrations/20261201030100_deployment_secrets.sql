-- migrate:up

-- Secrets a deployment needs but nobody configured: generated with crypto randomness by the
-- first API process that needs one (INSERT … ON CONFLICT DO NOTHING, then read), so every
-- process agrees and the secret survives restarts. Each purpose (export link signing, limiter
-- keys) uses a key derived from it, never the secret itself. Never logged, never exported.
CREATE TABLE deployment_secrets (
  name        text PRIMARY KEY,
  secret      bytea NOT NULL CHECK (octet_length(secret) >= 32),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- migrate:down

DROP TABLE deployment_secrets;
