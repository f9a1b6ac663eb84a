-- migrate:up

-- Log streams (issue 17): an organisation's entries delivered, in seq order and at least once,
-- to a SIEM or a bucket. `destination` holds the destination's settings that are not secret
-- (URL, site, bucket, prefix, region, endpoint, tags …); the one secret a destination has (a
-- token, an API key, a secret access key, a signing secret) is sealed with the deployment's
-- secrets key (AES-256-GCM, SECRETS_KEY_FILE) and only its last four characters are kept in the
-- clear, to be shown. `delivered_seq` is the stream's cursor: every entry with seq ≤ it was
-- delivered or did not match the stream's query. A stream never skips: the cursor moves only
-- after the receiver accepted a batch.
CREATE TABLE log_streams (
  id                   text PRIMARY KEY,
  org_id               text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name                 text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  destination_type     text NOT NULL CHECK (destination_type IN ('https', 'splunk', 'datadog', 's3')),
  destination          jsonb NOT NULL DEFAULT '{}',
  secret_sealed        text,
  secret_hint          text CHECK (char_length(secret_hint) <= 4),
  query                text NOT NULL DEFAULT '',
  delivered_seq        bigint NOT NULL DEFAULT 0 CHECK (delivered_seq >= 0),
  paused               boolean NOT NULL DEFAULT false,
  -- The first failure since the last success (NULL while healthy): failing once it is older
  -- than the deployment's STREAM_FAILING_AFTER; failing_notified_at says the admins were told.
  failing_since        timestamptz,
  failing_notified_at  timestamptz,
  consecutive_failures integer NOT NULL DEFAULT 0,
  next_attempt_at      timestamptz,
  last_error           text,
  last_error_at        timestamptz,
  last_success_at      timestamptz,
  -- Which worker delivers the stream now, and until when its claim holds.
  lease_owner          text,
  lease_until          timestamptz,
  created_by           text NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX log_streams_org_idx ON log_streams (org_id, created_at, id);

-- Alert rules (issue 17): a query over new entries and the channels told when one matches.
-- `evaluated_seq` is the rule's cursor (every entry with seq ≤ it has been matched against the
-- rule). A burst is grouped: after a message, matches within `group_window_seconds` are counted
-- (`grouped_count` since `window_started_at`) and sent as one "N more matches" message.
-- The Slack-compatible incoming-webhook URL is a secret (whoever has it can post): sealed.
CREATE TABLE alert_rules (
  id                    text PRIMARY KEY,
  org_id                text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name                  text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  query                 text NOT NULL,
  enabled               boolean NOT NULL DEFAULT true,
  notify_console        boolean NOT NULL DEFAULT true,
  notify_email          boolean NOT NULL DEFAULT false,
  notify_webhook        boolean NOT NULL DEFAULT false,
  slack_url_sealed      text,
  slack_url_hint        text CHECK (char_length(slack_url_hint) <= 4),
  group_window_seconds  integer NOT NULL DEFAULT 300 CHECK (group_window_seconds BETWEEN 0 AND 86400),
  evaluated_seq         bigint NOT NULL DEFAULT 0 CHECK (evaluated_seq >= 0),
  window_started_at     timestamptz,
  grouped_count         integer NOT NULL DEFAULT 0,
  last_fired_at         timestamptz,
  created_by            text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rules_org_idx ON alert_rules (org_id, created_at, id);

-- Notifications about a stream or an alert rule: what they are about (`subject_id`) and where
-- the console should take the reader (`link`, a path of the console such as the filtered log).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
  CHECK (kind IN ('export.ready', 'export.failed', 'alert.fired', 'stream.failing', 'stream.recovered'));
ALTER TABLE notifications ADD COLUMN subject_id text;
ALTER TABLE notifications ADD COLUMN link text CHECK (char_length(link) <= 2000);

-- migrate:down

ALTER TABLE notifications DROP COLUMN link;
ALTER TABLE notifications DROP COLUMN subject_id;
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
  CHECK (kind IN ('export.ready', 'export.failed'));
DROP TABLE alert_rules;
DROP TABLE log_streams;
