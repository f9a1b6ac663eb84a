-- migrate:up

-- A user's notifications (export ready / failed), listed in the console newest first and pushed
-- live over Server-Sent Events. export_id has no foreign key: exports are a later table, and a
-- notification outlives the export it announced (files expire, notifications stay readable).
CREATE TABLE notifications (
  id          text PRIMARY KEY,
  user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  org_id      text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('export.ready', 'export.failed')),
  title       text NOT NULL,
  body        text NOT NULL,
  export_id   text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  read_at     timestamptz
);
-- The console's list, newest first.
CREATE INDEX notifications_user_newest_idx ON notifications (user_id, created_at DESC, id DESC);
-- The unread badge and "mark all as read".
CREATE INDEX notifications_user_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
-- A worker that announces the same finished export twice (a retried job) stores it once.
CREATE UNIQUE INDEX notifications_user_export_kind_key ON notifications (user_id, export_id, kind);

-- One webhook per organisation. The secret (`whsec_` + base64 of 32 random bytes) signs every
-- delivery in the Standard Webhooks style, so the service has to keep it as is; it is shown to the
-- admin once, when it is created or rotated. disabled_at is set when the receiver answers
-- 410 Gone; setting the webhook again enables it.
CREATE TABLE org_webhooks (
  org_id       text PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  url          text NOT NULL,
  secret       text NOT NULL CHECK (secret LIKE 'whsec\_%'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  disabled_at  timestamptz
);

-- migrate:down

DROP TABLE org_webhooks;
DROP TABLE notifications;
