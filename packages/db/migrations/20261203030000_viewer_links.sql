-- migrate:up

-- Scoped viewer links (issue 20): an admin hands out a read-only link bound to a `q` filter and
-- an expiry. Only the SHA-256 of its token is kept (the token is shown once); `q` is the filter
-- as the API printed it, and every holder query is ANDed with it in SQL.
CREATE TABLE viewer_links (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name            text NOT NULL,
  q               text NOT NULL,
  token_hash      bytea NOT NULL UNIQUE,
  token_prefix    text NOT NULL,
  created_by      text NOT NULL,
  created_by_name text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  revoked_at      timestamptz,
  last_used_at    timestamptz
);
CREATE INDEX viewer_links_org_created_idx ON viewer_links (org_id, created_at DESC, id DESC);

-- The origins allowed to frame the embeddable viewer (CSP frame-ancestors); none by default, so
-- an organisation's viewer is unframeable until its admins list the hosting product.
ALTER TABLE organizations
  ADD COLUMN viewer_frame_origins text[] NOT NULL DEFAULT '{}';

-- migrate:down

ALTER TABLE organizations DROP COLUMN viewer_frame_origins;
DROP TABLE viewer_links;
