-- migrate:up

-- Console sessions. The cookie carries 256 random bits; only their SHA-256 is kept, so a leaked
-- table cannot be replayed. The CSRF token is not a secret from the signed-in browser (the API
-- hands it out), so it is stored as is.
CREATE TABLE sessions (
  id            text PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
-- Serves the sweep of expired sessions.
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Personal access tokens (`alp_…`): read access for scripts, on behalf of one user. As for API
-- keys, only a SHA-256 of the 256-bit random token is kept; the prefix tells tokens apart.
CREATE TABLE personal_access_tokens (
  id            text PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          text NOT NULL,
  prefix        text NOT NULL,
  token_hash    bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  expires_at    timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX personal_access_tokens_user_idx ON personal_access_tokens (user_id);

-- migrate:down

DROP TABLE personal_access_tokens;
DROP TABLE sessions;
