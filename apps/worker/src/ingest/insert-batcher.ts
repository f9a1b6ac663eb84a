import {
  type AuditEntryRow,
  type Database,
  type FollowedWrite,
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
  /**
   * Per organisation, the latest write of this batcher holding its rows. A write that took the
   * organisation's counter itself holds its lock until it commits, and tells the counter it
   * will leave (`size`): the next write of that organisation follows it (`following` of
   * `writeAuditEntries`), sending its rows meanwhile instead of queuing on the lock, so two
   * writes of one organisation overlap in PostgreSQL. A write that follows does not lock the
   * counter until its end, so nothing may follow it: the next write waits for it to end.
   */
  const tails = new Map<string, { ended: Promise<void>; size?: Promise<FollowedWrite> }>();

  async function write(batch: Waiting[]): Promise<void> {
    const rows = batch.flatMap((item) => item.rows);
    let endWrite: () => void = () => {};
    const ended = new Promise<void>((resolve) => {
      endWrite = resolve;
    });
    const followed: { orgId: string; size: Promise<FollowedWrite> }[] = [];
    const waits: Promise<void>[] = [];
    const mine = new Map<string, ReturnType<typeof counterAfter>>();
    for (const orgId of new Set(rows.map((row) => row.orgId))) {
      const previous = tails.get(orgId);
      if (previous?.size) followed.push({ orgId, size: previous.size });
      else if (previous) waits.push(previous.ended);
      const counter = counterAfter();
      mine.set(orgId, counter);
      tails.set(orgId, previous?.size ? { ended } : { ended, size: counter.size });
    }
    try {
      await Promise.all(waits);
      const following = new Map<string, FollowedWrite>();
      const known = await Promise.allSettled(followed.map(({ size }) => size));
      known.forEach((result, i) => {
        // A followed write that failed before taking its counters wrote nothing: this one
        // takes them itself.
        if (result.status === "fulfilled")
          following.set(followed[i]?.orgId as string, result.value);
      });
      await writeAuditEntries(db, rows, {
        following,
        onCounters: ({ sizes, lock }) => {
          for (const [orgId, size] of sizes) mine.get(orgId)?.resolve({ size, lock });
        },
      });
      for (const item of batch) item.resolve([]);
      options.onStored?.(rows);
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
    } finally {
      for (const [orgId, counter] of mine) {
        // A write that ended without knowing its counters leaves its followers none to follow.
        counter.reject();
        if (tails.get(orgId)?.ended === ended) tails.delete(orgId);
      }
      endWrite();
    }
  }

  /** Whether a job's organisation has a write under way that follows another (see `tails`). */
  function behindFollower(item: Waiting): boolean {
    for (const row of item.rows) {
      const tail = tails.get(row.orgId);
      if (tail && !tail.size) return true;
    }
    return false;
  }

  function pump(): void {
    while (writing < maxConcurrentWrites && waiting.length > 0) {
      // Held until that write ends; the jobs gathered meanwhile then start as two writes of
      // about the same size, one following the other, so the two overlap for most of their time.
      if (behindFollower(waiting[0] as Waiting)) return;
      let waitingRows = 0;
      for (const item of waiting) waitingRows += item.rows.length;
      const share = Math.min(maxRows, Math.ceil(waitingRows / (maxConcurrentWrites - writing)));
      const batch: Waiting[] = [];
      let rows = 0;
      while (
        waiting.length > 0 &&
        (batch.length === 0 || rows + (waiting[0]?.rows.length ?? 0) <= share)
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

/** A write's counter for one organisation, told once known; rejected if it never is. */
function counterAfter(): {
  size: Promise<FollowedWrite>;
  resolve: (followed: FollowedWrite) => void;
  reject: () => void;
} {
  let resolve: (followed: FollowedWrite) => void = () => {};
  let reject: () => void = () => {};
  const size = new Promise<FollowedWrite>((res, rej) => {
    resolve = res;
    reject = () => rej(new Error("the write ended without its counter"));
  });
  size.catch(() => {});
  return { size, resolve, reject };
}
