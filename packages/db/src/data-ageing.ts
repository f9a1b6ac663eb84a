import { type Database, sqlOf } from "./database.ts";

// What the lifecycle job (issue 16) removes besides audit entries: every other table that holds
// data about people or their organisations, each after its own documented period (README,
// "Purges"); expired sessions go by `deleteExpiredSessions` (sessions.ts). Each delete is batched by ctid so a backlog of months never holds one long lock.

const batch = 5_000;

async function deleteInBatches(db: Database, sql: string, values: unknown[]): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await sqlOf(db).query(sql, [...values, batch]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) return total;
  }
}

/** Dead letters (events the worker refused) recorded before `before`. */
export function deleteAgedDeadLetters(db: Database, before: Date): Promise<number> {
  return deleteInBatches(
    db,
    `DELETE FROM dead_letters WHERE ctid = ANY (ARRAY(
       SELECT ctid FROM dead_letters WHERE created_at < $1 LIMIT $2))`,
    [before.toISOString()],
  );
}

/** Notifications (read or not) created before `before`. */
export function deleteAgedNotifications(db: Database, before: Date): Promise<number> {
  return deleteInBatches(
    db,
    `DELETE FROM notifications WHERE ctid = ANY (ARRAY(
       SELECT ctid FROM notifications WHERE created_at < $1 LIMIT $2))`,
    [before.toISOString()],
  );
}
