import {
  type AuditEntryRow,
  type Database,
  insertAuditEntriesSettingAsideRefused,
  isRefusedValue,
  type RefusedEntry,
  writeAuditEntries,
} from "@auditlog/db";

export interface EntryInserter {
  /**
   * Resolves once these rows are committed (or were already stored), with the rows PostgreSQL
   * refused for what they hold: the job dead-letters those, and may then finish. Rejects when
   * the rows could not be written for any other reason (an outage): the job retries.
   */
  insert(rows: AuditEntryRow[]): Promise<RefusedEntry[]>;
}

interface Waiting {
  rows: AuditEntryRow[];
  resolve: (refused: RefusedEntry[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for ingest jobs. Every commit waits for the WAL to reach disk, so on a busy
 * machine the worker spent its time waiting on commits of 100 rows each. Jobs processed at the
 * same time now share one INSERT: a job's rows are written at once when no write is under way,
 * and otherwise join the next write, so batches grow with load and add no delay when idle.
 * A job still finishes only after its own rows are committed, so nothing acknowledged is lost.
 * A row PostgreSQL refuses costs neither the jobs sharing its write nor the rest of its own job.
 */
export function createInsertBatcher(
  db: Database,
  options: {
    maxRows?: number;
    maxConcurrentWrites?: number;
    /**
     * Called once per committed write with the rows it held (refused ones left out), after the
     * jobs were answered: the live "new entries" announcement. Must not throw.
     */
    onStored?: (rows: AuditEntryRow[]) => void;
  } = {},
): EntryInserter {
  const maxRows = options.maxRows ?? 5000;
  const maxConcurrentWrites = options.maxConcurrentWrites ?? 2;
  const waiting: Waiting[] = [];
  let writing = 0;

  async function write(batch: Waiting[]): Promise<void> {
    try {
      await writeAuditEntries(
        db,
        batch.flatMap((item) => item.rows),
      );
      for (const item of batch) item.resolve([]);
      options.onStored?.(batch.flatMap((item) => item.rows));
    } catch (error) {
      if (!isRefusedValue(error)) {
        for (const item of batch) item.reject(error);
        return;
      }
      // One job's rows must not fail the others, nor one row the rest of its job: each job on
      // its own, its refused rows set aside.
      for (const item of batch) {
        await insertAuditEntriesSettingAsideRefused(db, item.rows).then((result) => {
          item.resolve(result.refused);
          const refused = new Set(result.refused.map((entry) => entry.row));
          const stored = item.rows.filter((row) => !refused.has(row));
          if (stored.length > 0) options.onStored?.(stored);
        }, item.reject);
      }
    }
  }

  function pump(): void {
    while (writing < maxConcurrentWrites && waiting.length > 0) {
      const batch: Waiting[] = [];
      let rows = 0;
      while (
        waiting.length > 0 &&
        (batch.length === 0 || rows + (waiting[0]?.rows.length ?? 0) <= maxRows)
      ) {
        const item = waiting.shift() as Waiting;
        rows += item.rows.length;
        batch.push(item);
      }
      writing++;
      void write(batch).finally(() => {
        writing--;
        pump();
      });
    }
  }

  return {
    insert(rows) {
      if (rows.length === 0) return Promise.resolve([]);
      return new Promise<RefusedEntry[]>((resolve, reject) => {
        waiting.push({ rows, resolve, reject });
        pump();
      });
    },
  };
}
