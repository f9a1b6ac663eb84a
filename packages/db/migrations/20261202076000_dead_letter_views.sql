-- migrate:up

-- Dead letters become visible and replayable (issue 18): admins list an organisation's newest
-- first, a page at a time (`before` an id), which the (org_id, dedupe_key) key cannot order.
CREATE INDEX dead_letters_org_newest_idx ON dead_letters (org_id, id DESC);

-- An operator's replay queues the event again and marks its dead letter, so a second replay
-- skips it and the view says which entry it became. The entry itself is stored once whatever
-- the marks say: the replayed event keeps one id, and entries are unique by (org_id, id).
ALTER TABLE dead_letters
  ADD COLUMN replayed_at       timestamptz,
  ADD COLUMN replayed_event_id text;

-- migrate:down

ALTER TABLE dead_letters DROP COLUMN replayed_event_id, DROP COLUMN replayed_at;
DROP INDEX dead_letters_org_newest_idx;
