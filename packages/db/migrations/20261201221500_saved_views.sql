-- migrate:up

-- The console's saved views (issue 15): a name and the log's URL filter state, per user and
-- organisation, so they follow the admin from browser to browser and no other account sees
-- them. `filters` is the shape of @auditlog/events `savedViewFiltersSchema`, validated by the
-- API; names are unique per user and organisation.
CREATE TABLE saved_views (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  org_id      text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  filters     jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX saved_views_user_org_name_key ON saved_views (user_id, org_id, name);

-- migrate:down

DROP TABLE saved_views;
