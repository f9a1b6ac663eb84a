import type { LogGrowth } from "@auditlog/db";
import { type EntriesStoredMessage, realtimeChannels } from "@auditlog/events";
import type { Logger } from "@auditlog/observability";
import type { Redis } from "ioredis";

/**
 * The worker's half of the console's "N new entries" pill: after a write committed, one message
 * per organisation on `realtimeChannels.entriesStored` with how many entries the write added to
 * its log and the log's highest `seq` after it, both from the counters the write itself took
 * (no read of its own). Only counts cross Redis, never an entry's content. Best effort: a lost
 * message only delays the pill until the next one or a refresh, so failures are logged, never
 * retried, and never hold up the jobs (they were answered before this runs).
 */
export function createStoredAnnouncer(deps: {
  publisher: Pick<Redis, "publish">;
  logger: Logger;
}): (logs: readonly LogGrowth[]) => Promise<void> {
  return async (logs) => {
    // A write set aside in parts (a refused row) may have grown one log more than once.
    const byOrg = new Map<string, EntriesStoredMessage>();
    for (const { orgId, count, highestSeq } of logs) {
      if (count < 1) continue;
      const seen = byOrg.get(orgId);
      byOrg.set(orgId, {
        orgId,
        count: (seen?.count ?? 0) + count,
        highestSeq: Math.max(seen?.highestSeq ?? 0, highestSeq),
      });
    }
    if (byOrg.size === 0) return;
    try {
      await Promise.all(
        [...byOrg.values()].map((message) =>
          deps.publisher.publish(realtimeChannels.entriesStored, JSON.stringify(message)),
        ),
      );
    } catch (error) {
      deps.logger.warn("stored entries not announced", {
        orgs: byOrg.size,
        error: (error as Error).message,
      });
    }
  };
}
