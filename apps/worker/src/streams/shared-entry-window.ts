import { performance } from "node:perf_hooks";
import {
  type Database,
  erasureCount,
  readStreamEntries,
  readStreamEntryRun,
  readStreamMatchingSeqs,
  type StreamRead,
} from "@auditlog/db";
import { isEmptyQuery, type ParsedQuery, type StreamEntry } from "@auditlog/events";
import { adoptEntryRun } from "@auditlog/streams";

// Why a shared read: PostgreSQL rendering each entry's JSON is most of a stream's read, and ten
// streams of one organisation each reading for themselves render every entry ten times, on the
// database that ingest writes to. Here the streams of this process share one rendering per
// organisation and seq range: the entries are read once, unfiltered, into aligned chunks of
// seqs, and every stream takes its batch from them. A filtered stream still asks PostgreSQL
// which seqs are its own (the query language stays in SQL, one definition), but that read
// renders nothing. The cursor rules are unchanged: a read tells the caller how far it
// accounted for every entry (`scannedThrough`), and the caller moves the cursor only after the
// receiver's answer.

export interface SharedEntryWindowConfig {
  /** Seqs per chunk; chunks are aligned, so streams at nearby cursors use the same one. */
  chunkEntries: number;
  /** Bound on the rendered entries held (JSON text and bytes, a per-entry allowance), all orgs. */
  maxBytes: number;
  /** A chunk older than this is read again (memory held by streams that moved on). */
  maxAgeMs: number;
  /**
   * How often, at most, the organisation's erasure count is asked for: an erasure rewrites
   * stored entries, and every chunk read before it is dropped once the count has grown, so an
   * erased text is sent at most this long (plus a batch in flight) after the erasure.
   */
  erasureCheckMs: number;
  /** Seqs a filtered stream's seq-only read examines at most (as `readStreamEntries`). */
  scanWindow: number;
}

/** What a held entry costs besides its JSON text (the object, its id and times). */
const entryOverheadBytes = 200;

interface Chunk {
  key: string;
  /** First and last seq of the chunk's aligned range. */
  start: number;
  end: number;
  /** Every entry with a seq in [start, through] is held (or was purged); start - 1 when none. */
  through: number;
  seqs: number[];
  entries: StreamEntry[];
  storedAtMs: number[];
  bytes: number[];
  heldBytes: number;
  filledAt: number;
  /** The organisation's erasure count when the chunk was begun. */
  erasures: number;
  usedAt: number;
  extending: Promise<void> | undefined;
  /**
   * When (`performance.now()`) the latest finished read of the chunk began: the chunk holds
   * everything committed before then up to its end. -Infinity before its first read.
   */
  checkedAt: number;
}

const empty = (scannedThrough: number): StreamRead => ({
  entries: [],
  storedAtMs: [],
  bytes: [],
  scannedThrough,
});

/** One per streams process: the organisations' rendered entries, shared by their streams. */
export function createSharedEntryWindow(config: SharedEntryWindowConfig) {
  const chunks = new Map<string, Chunk>();
  let heldBytes = 0;
  let sweptAt = 0;
  const erasureCounts = new Map<string, { checkedAt: number; count: Promise<number> }>();

  /** The organisation's erasure count, asked again once `erasureCheckMs` has passed. */
  const erasuresOf = (db: Database, orgId: string, now: number): Promise<number> => {
    const known = erasureCounts.get(orgId);
    if (known && now - known.checkedAt < config.erasureCheckMs) return known.count;
    const count = erasureCount(db, orgId);
    erasureCounts.set(orgId, { checkedAt: now, count });
    // A failed ask is asked again next time, not remembered.
    count.catch(() => erasureCounts.delete(orgId));
    return count;
  };

  const drop = (chunk: Chunk) => {
    if (chunks.get(chunk.key) !== chunk) return;
    chunks.delete(chunk.key);
    heldBytes -= chunk.heldBytes;
  };

  /** Reads the chunk on from what it holds to its end (or the log's current top). */
  const extend = async (db: Database, orgId: string, chunk: Chunk) => {
    const began = performance.now();
    const after = chunk.through;
    const room = chunk.end - after;
    // Rendered here from the columns (PostgreSQL's rendering was most of its CPU per entry),
    // into one buffer for every stream: a batch of consecutive entries goes out as one slice.
    const read = await readStreamEntryRun(db, {
      orgId,
      afterSeq: after,
      limit: room,
      scanWindow: room,
    });
    if (chunk.through !== after) return;
    chunk.checkedAt = Math.max(chunk.checkedAt, began);
    adoptEntryRun(read.entries, read.run);
    // A chunk dropped meanwhile (aged, evicted) still answers the callers holding it.
    const attached = chunks.get(chunk.key) === chunk;
    let added = 0;
    for (let i = 0; i < read.entries.length; i++) {
      const entry = read.entries[i] as StreamEntry;
      // Past a purge the read starts at the retained start, which may lie beyond this chunk.
      if (entry.seq > chunk.end) break;
      chunk.seqs.push(entry.seq);
      chunk.entries.push(entry);
      chunk.storedAtMs.push(read.storedAtMs[i] as number);
      chunk.bytes.push(read.bytes[i] as number);
      // Twice its JSON: the text, and its UTF-8 bytes for sending (`encodeEntryRun`).
      added += 2 * (read.bytes[i] as number) + entryOverheadBytes;
    }
    chunk.through = Math.min(Math.max(read.scannedThrough, after), chunk.end);
    chunk.heldBytes += added;
    if (attached) {
      heldBytes += added;
      evict(chunk);
    }
  };

  /** Least recently used chunks go first while the bound is exceeded; never `keep`. */
  const evict = (keep: Chunk) => {
    if (heldBytes <= config.maxBytes) return;
    const byUse = [...chunks.values()].sort((a, b) => a.usedAt - b.usedAt);
    for (const chunk of byUse) {
      if (heldBytes <= config.maxBytes) break;
      if (chunk !== keep) drop(chunk);
    }
  };

  const sweep = (now: number) => {
    if (now - sweptAt < 1000) return;
    sweptAt = now;
    for (const chunk of chunks.values()) {
      if (now - chunk.filledAt > config.maxAgeMs && !chunk.extending) drop(chunk);
    }
  };

  /**
   * The chunk holding `seq`, read on (once, shared by every caller waiting meanwhile) when it
   * does not reach `seq` yet. It may still not reach it: the log holds nothing past it yet, as
   * of a read of the chunk that began after `freshAfter` (`performance.now()` time).
   */
  const cover = async (
    db: Database,
    orgId: string,
    seq: number,
    freshAfter: number,
  ): Promise<Chunk> => {
    const now = Date.now();
    sweep(now);
    // Asked before any read of a new chunk: an erasure committing meanwhile leaves the count
    // that chunk holds behind, so it is dropped at the next ask, never kept.
    const erasures = await erasuresOf(db, orgId, now);
    const index = Math.floor((seq - 1) / config.chunkEntries);
    const key = `${orgId}:${index}`;
    let chunk = chunks.get(key);
    if (chunk && chunk.erasures !== erasures) {
      // Callers already holding it finish with it: what they send left before the erasure's ask.
      drop(chunk);
      chunk = undefined;
    }
    if (chunk && now - chunk.filledAt > config.maxAgeMs && !chunk.extending) {
      drop(chunk);
      chunk = undefined;
    }
    if (!chunk) {
      const start = index * config.chunkEntries + 1;
      chunk = {
        key,
        start,
        end: start + config.chunkEntries - 1,
        through: start - 1,
        seqs: [],
        entries: [],
        storedAtMs: [],
        bytes: [],
        heldBytes: 0,
        filledAt: now,
        erasures,
        usedAt: now,
        extending: undefined,
        checkedAt: Number.NEGATIVE_INFINITY,
      };
      chunks.set(key, chunk);
    }
    chunk.usedAt = now;
    // Twice at most: a caller that joined a read begun before `freshAfter` (its entries may have
    // been committed after that read's snapshot) starts one more, instead of ending its turn on
    // an answer older than its wake-up. A read that began after `freshAfter` answers it without
    // a statement of its own: ten streams polling one organisation's log while it grows share
    // one statement per poll instead of sending ten.
    for (let round = 0; round < 2 && chunk.through < seq && chunk.through < chunk.end; round++) {
      if (!chunk.extending && chunk.checkedAt > freshAfter) break;
      const current = chunk;
      current.extending ??= extend(db, orgId, current).finally(() => {
        current.extending = undefined;
      });
      await current.extending;
    }
    return chunk;
  };

  /** Index of the first held seq greater than `seq`. */
  const firstAfter = (chunk: Chunk, seq: number) => {
    let low = 0;
    let high = chunk.seqs.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((chunk.seqs[mid] as number) <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  };

  return {
    /**
     * A stream's next entries after `afterSeq`, as `readStreamEntries` answers them: matching,
     * ascending, at most `limit`, with how far every entry was accounted for. Served from the
     * organisation's shared chunks; a read may end at a chunk's end (the caller reads on).
     */
    async read(
      db: Database,
      input: {
        orgId: string;
        query: ParsedQuery;
        afterSeq: number;
        limit: number;
        /**
         * `performance.now()` of the latest moment whose commits the answer must see (they may
         * still lie past a chunk's end or a limit); now by default. A stream polling for more
         * passes when it began to wait: a read of the chunk begun since, by any stream, answers.
         */
        freshAfter?: number;
      },
    ): Promise<StreamRead> {
      const { orgId, query, afterSeq, limit } = input;
      const freshAfter = input.freshAfter ?? performance.now();
      if (isEmptyQuery(query)) {
        const chunk = await cover(db, orgId, afterSeq + 1, freshAfter);
        if (chunk.through <= afterSeq) return empty(afterSeq); // caught up
        const from = firstAfter(chunk, afterSeq);
        const to = Math.min(from + limit, chunk.seqs.length);
        const entries = chunk.entries.slice(from, to);
        return {
          entries,
          storedAtMs: chunk.storedAtMs.slice(from, to),
          bytes: chunk.bytes.slice(from, to),
          scannedThrough: entries.length === limit ? (chunk.seqs[to - 1] as number) : chunk.through,
        };
      }
      // Which seqs are this stream's: decided by PostgreSQL, nothing rendered.
      const match = await readStreamMatchingSeqs(db, {
        orgId,
        query,
        afterSeq,
        limit,
        scanWindow: config.scanWindow,
      });
      const first = match.seqs[0];
      if (first === undefined) return empty(match.scannedThrough);
      // The stream's own read, as before the shared read: for what the shared chunk cannot answer.
      const ownRead = () =>
        readStreamEntries(db, { orgId, query, afterSeq, limit, scanWindow: config.scanWindow });
      const chunk = await cover(db, orgId, first, freshAfter);
      const read: StreamRead = empty(0);
      for (const seq of match.seqs) {
        if (seq > chunk.through) break;
        const at = firstAfter(chunk, seq) - 1;
        if (chunk.seqs[at] !== seq) {
          // Not held (purged between the two reads, or a replica behind the other): read it
          // for this stream alone, as before the shared read.
          return ownRead();
        }
        read.entries.push(chunk.entries[at] as StreamEntry);
        read.storedAtMs.push(chunk.storedAtMs[at] as number);
        read.bytes.push(chunk.bytes[at] as number);
      }
      if (read.entries.length === 0) {
        // The chunk does not reach the first match yet (the reads saw different snapshots).
        return ownRead();
      }
      // Every match taken: the seq-only read's bound holds; otherwise up to the last taken.
      read.scannedThrough =
        read.entries.length === match.seqs.length
          ? match.scannedThrough
          : (read.entries.at(-1) as StreamEntry).seq;
      return read;
    },
    /** Chunks and bytes held (tests, logs). */
    held: () => ({ chunks: chunks.size, bytes: heldBytes }),
  };
}

export type SharedEntryWindow = ReturnType<typeof createSharedEntryWindow>;
