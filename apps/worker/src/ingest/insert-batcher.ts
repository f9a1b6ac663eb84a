import {
  type AuditEntryRow,
  type Database,
  insertAuditEntries,
  writeAuditEntries,
} from "@auditlog/db";

export interface EntryInserter {
  /** Resolves once these rows are committed (or were already stored): the job may then finish. */
  insert(rows: AuditEntryRow[]): Promise<void>;
}

interface Waiting {
  rows: AuditEntryRow[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for ingest jobs. Every commit waits for the WAL to reach disk, so on a busy
 * machine the worker spent its time waiting on commits of 100 rows each. Jobs processed at the
 * same time now share one INSERT: a job's rows are written at once when no write is under way,
 * and otherwise join the next write, so batches grow with load and add no delay when idle.
 * A job still finishes only after its own rows are committed, so nothing acknowledged is lost.
 */
export function createInsertBatcher(
  db: Database,
  options: { maxRows?: number; maxConcurrentWrites?: number } = {},
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
      for (const item of batch) item.resolve();
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One job's rows must not fail the others: retry each on its own.
      for (const item of batch) {
        await insertAuditEntries(db, item.rows).then(item.resolve, item.reject);
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
      if (rows.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        waiting.push({ rows, resolve, reject });
        pump();
      });
    },
  };
}
