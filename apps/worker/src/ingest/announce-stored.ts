import { type AuditEntryRow, type Database, readLogSizes } from "@auditlog/db";
import { type EntriesStoredMessage, realtimeChannels } from "@auditlog/events";
import type { Logger } from "@auditlog/observability";
import type { Redis } from "ioredis";

/**
 * The worker's half of the console's "N new entries" pill: after a write committed, one message
 * per organisation on `realtimeChannels.entriesStored` with how many of its entries the write
 * held and the log's highest `seq` after it (one indexed read of the counters for the whole
 * write). Only counts cross Redis, never an entry's content. Best effort: a lost message only
 * delays the pill until the next one or a refresh, so failures are logged, never retried, and
 * never hold up the jobs (they were answered before this runs).
 *
 * The count is of the rows written; a redelivered job whose rows were already stored can be
 * counted again, which the pill tolerates (it says "new entries", the refresh shows the truth).
 */
export function createStoredAnnouncer(deps: {
  db: Database;
  publisher: Pick<Redis, "publish">;
  logger: Logger;
}): (rows: readonly AuditEntryRow[]) => Promise<void> {
  return async (rows) => {
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.orgId, (counts.get(row.orgId) ?? 0) + 1);
    if (counts.size === 0) return;
    try {
      const sizes = await readLogSizes(deps.db, [...counts.keys()]);
      await Promise.all(
        [...counts].map(([orgId, count]) => {
          const highestSeq = sizes.get(orgId);
          if (highestSeq === undefined || highestSeq < 1) return undefined;
          const message: EntriesStoredMessage = { orgId, count, highestSeq };
          return deps.publisher.publish(realtimeChannels.entriesStored, JSON.stringify(message));
        }),
      );
    } catch (error) {
      deps.logger.warn("stored entries not announced", {
        orgs: counts.size,
        error: (error as Error).message,
      });
    }
  };
}
