-- migrate:up

-- Single sign-on with OpenID Connect (issue 20): one identity provider per organisation, set by
-- its admins or the operator CLI. The client secret is sealed with the deployment's secrets key
-- (secret-box.ts) like a stream's; only its last four characters are kept in clear for display.
-- `role_rules` is an ordered list of { "value": <claim value>, "role": <membership role> }: the
-- first rule whose value the `role_claim` claim holds gives the role; none gives `default_role`,
-- and a null `default_role` then refuses the sign-in. Roles are checked by the API against the
-- membership roles (a new role needs no migration here).
CREATE TABLE org_sso_configs (
  org_id                text PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  issuer                text NOT NULL,
  client_id             text NOT NULL,
  client_secret_sealed  text NOT NULL,
  client_secret_hint    text NOT NULL,
  allowed_domains       jsonb NOT NULL,
  role_claim            text NOT NULL,
  role_rules            jsonb NOT NULL DEFAULT '[]',
  default_role          text,
  require_sso           boolean NOT NULL DEFAULT false,
  enabled               boolean NOT NULL DEFAULT true,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Who an identity provider's subject is: linked on the first SSO sign-in (by email, or a new
-- user), then found by (issuer, subject) whatever the email says later.
CREATE TABLE sso_identities (
  org_id           text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  issuer           text NOT NULL,
  subject          text NOT NULL,
  user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_sign_in_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, issuer, subject)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

-- migrate:down

DROP TABLE sso_identities;
DROP TABLE org_sso_configs;
