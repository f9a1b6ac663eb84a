-- migrate:up

-- The daily lifecycle job (issue 16) removes dead letters and notifications past their periods
-- (DEAD_LETTER_RETENTION_DAYS, NOTIFICATION_RETENTION_DAYS): by age, across every organisation
-- and user, which no existing index serves. Sessions already have sessions_expires_idx.
CREATE INDEX dead_letters_created_idx ON dead_letters (created_at);
CREATE INDEX notifications_created_idx ON notifications (created_at);

-- migrate:down

DROP INDEX notifications_created_idx;
DROP INDEX dead_letters_created_idx;
