import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { type Database, sqlOf } from "./database.ts";
import { toPostgresJson } from "./json-text.ts";

/** One row of audit_entries, as the worker builds it. `ip` is already truncated. */
export interface AuditEntryRow {
  orgId: string;
  id: string;
  type: string;
  category: string;
  hiddenByDefault: boolean;
  occurredAt: Date;
  receivedAt: Date;
  actorType: "user" | "token" | "system";
  actorId: string;
  actorName: string;
  actorAvatarUrl: string | null;
  actorTokenRole: string | null;
  actorTokenLast4: string | null;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  description: string;
  ip: string | null;
  countryCode: string | null;
  region: string | null;
  city: string | null;
  userAgent: string | null;
  oauthClientId: string | null;
  oauthName: string | null;
  data: unknown;
}

/**
 * `toISOString` costs about as much as the rest of a row's COPY text, and a batch's entries
 * mostly share their times (every event of a job was received at once, and those sent without
 * a time occurred then): the last one is kept, one per column.
 */
function lastIsoString(): (date: Date) => string {
  let lastMs = Number.NaN;
  let lastText = "";
  return (date) => {
    const ms = date.getTime();
    // An invalid date (NaN) never matches, so toISOString throws for it as before.
    if (ms !== lastMs) {
      lastText = date.toISOString();
      lastMs = ms;
    }
    return lastText;
  };
}
const occurredAtText = lastIsoString();
const receivedAtText = lastIsoString();

/**
 * Each column: name, SQL type, value, and what COPY's text format needs done to the value:
 * `plain` for the times, written here as ISO strings, `json` for JSON text (which escapes every
 * control character, so only its backslashes need doubling), `text` for every other value,
 * whoever built the row.
 */
const columns = [
  ["org_id", "text", (r: AuditEntryRow) => r.orgId, "text"],
  ["id", "text", (r: AuditEntryRow) => r.id, "text"],
  ["type", "text", (r: AuditEntryRow) => r.type, "text"],
  ["category", "text", (r: AuditEntryRow) => r.category, "text"],
  ["hidden_by_default", "boolean", (r: AuditEntryRow) => r.hiddenByDefault, "plain"],
  ["occurred_at", "timestamptz", (r: AuditEntryRow) => occurredAtText(r.occurredAt), "plain"],
  ["received_at", "timestamptz", (r: AuditEntryRow) => receivedAtText(r.receivedAt), "plain"],
  ["actor_type", "text", (r: AuditEntryRow) => r.actorType, "text"],
  ["actor_id", "text", (r: AuditEntryRow) => r.actorId, "text"],
  ["actor_name", "text", (r: AuditEntryRow) => r.actorName, "text"],
  ["actor_avatar_url", "text", (r: AuditEntryRow) => r.actorAvatarUrl, "text"],
  ["actor_token_role", "text", (r: AuditEntryRow) => r.actorTokenRole, "text"],
  ["actor_token_last4", "text", (r: AuditEntryRow) => r.actorTokenLast4, "text"],
  ["target_type", "text", (r: AuditEntryRow) => r.targetType, "text"],
  ["target_id", "text", (r: AuditEntryRow) => r.targetId, "text"],
  ["target_name", "text", (r: AuditEntryRow) => r.targetName, "text"],
  ["description", "text", (r: AuditEntryRow) => r.description, "text"],
  ["ip", "inet", (r: AuditEntryRow) => r.ip, "text"],
  ["country_code", "text", (r: AuditEntryRow) => r.countryCode, "text"],
  ["region", "text", (r: AuditEntryRow) => r.region, "text"],
  ["city", "text", (r: AuditEntryRow) => r.city, "text"],
  ["user_agent", "text", (r: AuditEntryRow) => r.userAgent, "text"],
  ["oauth_client_id", "text", (r: AuditEntryRow) => r.oauthClientId, "text"],
  ["oauth_name", "text", (r: AuditEntryRow) => r.oauthName, "text"],
  // Text parameters carry a lone surrogate as U+FFFD (UTF-8 encoding does); JSON needs it done.
  ["data", "jsonb", (r: AuditEntryRow) => toPostgresJson(r.data ?? {}), "json"],
] as const;

const insertEntriesSql = `
  INSERT INTO audit_entries (${columns.map(([name]) => name).join(", ")}, seq)
  SELECT * FROM unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")}, $${columns.length + 1}::bigint[])`;

/**
 * Takes the log counter of each organisation (creating it at 0), in org_id order so two writes
 * sharing organisations cannot deadlock, and holds its row lock until the transaction ends: the
 * organisation's next write waits for this one to commit or roll back, so `seq` is gap-free and
 * in commit order. `add` is what each counter grows by.
 */
const takeLogCountersSql = `
  INSERT INTO audit_log_heads AS head (org_id, size)
  SELECT org_id, n FROM unnest($1::text[], $2::bigint[]) AS t (org_id, n) ORDER BY org_id
  ON CONFLICT (org_id) DO UPDATE SET size = head.size + EXCLUDED.size
  RETURNING org_id, size::float8 AS size`;

/** Per organisation, how many of `rows` belong to it. */
function countByOrg(rows: readonly AuditEntryRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.orgId, (counts.get(row.orgId) ?? 0) + 1);
  return counts;
}

/**
 * Grows the counters of the organisations of `rows` by their numbers of rows and answers each
 * row's `seq`, in the rows' order, and each organisation's counter after this write. Inside the
 * caller's transaction. An organisation in `following` is not locked here: its rows take the
 * seqs after the size given there, which `confirmFollowedCounters` checks before the commit.
 */
async function takeSeqs(
  client: pg.PoolClient,
  rows: readonly AuditEntryRow[],
  following?: ReadonlyMap<string, FollowedWrite>,
): Promise<{ seqs: number[]; sizes: Map<string, number> }> {
  const counts = countByOrg(rows);
  const sizes = new Map<string, number>();
  const locked: string[] = [];
  for (const [orgId, count] of counts) {
    const followed = following?.get(orgId);
    if (followed === undefined) locked.push(orgId);
    else sizes.set(orgId, followed.size + count);
  }
  if (locked.length > 0) {
    const { rows: heads } = await client.query<{ org_id: string; size: number }>(
      takeLogCountersSql,
      [locked, locked.map((id) => counts.get(id))],
    );
    for (const head of heads) sizes.set(head.org_id, head.size);
  }
  // The next seq of each organisation: the first of the range this write took.
  const next = new Map<string, number>();
  for (const [orgId, size] of sizes) next.set(orgId, size - (counts.get(orgId) ?? 0) + 1);
  const seqs = rows.map((row) => {
    const seq = next.get(row.orgId) as number;
    next.set(row.orgId, seq + 1);
    return seq;
  });
  return { seqs, sizes };
}

/**
 * Every write that takes counters holds a transaction-scoped advisory lock of its own (this
 * class, a number drawn per write) from its first statement: a write following it waits on
 * that lock for its end, in PostgreSQL, where a deadlock is seen and broken.
 */
export const writeLockClass = 0x41_55_44_57; // "AUDW"
let lastWriteLock = Math.floor(Math.random() * 0x7fff_ffff);
function nextWriteLock(): number {
  lastWriteLock = lastWriteLock >= 0x7fff_ffff ? 1 : lastWriteLock + 1;
  return lastWriteLock;
}

/**
 * The counters a write followed, grown by its rows, once the followed writes ended. Another
 * writer may hold a counter by then (another process took the seqs after the followed write):
 * it would wait for this write's rows, as this write for its lock, so this write gives up at
 * once (NOWAIT) instead of deadlocking. The counter must then stand where this write expected
 * (`expected + n` after the update): if the followed write rolled back, or another writer took
 * the seqs, it does not, and the write is refused.
 */
const growFollowedCountersSql = `
  UPDATE audit_log_heads AS head SET size = head.size + t.n
  FROM unnest($1::text[], $2::bigint[]) AS t (org_id, n)
  WHERE head.org_id = t.org_id
    AND head.org_id IN (
      SELECT org_id FROM audit_log_heads WHERE org_id = ANY($1::text[]) FOR UPDATE NOWAIT)
  RETURNING head.org_id, head.size::float8 AS size`;

/** A write's followed counters no longer stood where it expected: it stored nothing. */
export class FollowedSeqsTakenError extends Error {
  constructor() {
    super("the log counter moved past the write this batch followed; written again in turn");
  }
}

async function confirmFollowedCounters(
  client: pg.PoolClient,
  rows: readonly AuditEntryRow[],
  following: ReadonlyMap<string, FollowedWrite>,
): Promise<void> {
  const counts = countByOrg(rows);
  const followed = [...counts.keys()].filter((orgId) => following.has(orgId));
  if (followed.length === 0) return;
  const locks = [...new Set(followed.map((orgId) => following.get(orgId)?.lock as number))];
  await client.query(
    "SELECT pg_advisory_xact_lock_shared($1, lock) FROM unnest($2::int[]) AS lock",
    [writeLockClass, locks],
  );
  const { rows: heads } = await client.query<{ org_id: string; size: number }>(
    growFollowedCountersSql,
    [followed, followed.map((orgId) => counts.get(orgId))],
  );
  const stands = (head: { org_id: string; size: number }) =>
    head.size ===
    (following.get(head.org_id)?.size as number) + (counts.get(head.org_id) as number);
  if (heads.length !== followed.length || !heads.every(stands)) throw new FollowedSeqsTakenError();
}

/** Runs `work` in a transaction on a client of its own; rolls back when it throws. */
async function inTransaction<T>(
  db: Database,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = "BEGIN",
): Promise<T> {
  const client = await sqlOf(db).connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // A server error leaves the connection usable once rolled back; anything else does not.
    if (typeof code === "string" || error instanceof FollowedSeqsTakenError) {
      await client.query("ROLLBACK").then(
        () => client.release(),
        (rollbackError: Error) => client.release(rollbackError),
      );
    } else client.release(error as Error);
    throw error;
  }
}

/**
 * Inserts a whole batch in one transaction, so a batch is stored entirely or not at all, and an
 * entry already stored (a redelivered job, a client retry) or repeated in the batch is skipped.
 * The new rows take the next `seq`s of their organisations. Returns how many rows were new.
 */
export async function insertAuditEntries(
  db: Database,
  rows: readonly AuditEntryRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  return inTransaction(db, async (client) => {
    // Lock the counters first: every writer of these organisations waits here, so the stored
    // ids read next cannot change before this transaction ends.
    const orgIds = [...countByOrg(rows).keys()];
    await client.query(takeLogCountersSql, [orgIds, orgIds.map(() => 0)]);
    const { rows: stored } = await client.query<{ org_id: string; id: string }>(
      `SELECT org_id, id FROM audit_entries
       WHERE (org_id, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [rows.map((row) => row.orgId), rows.map((row) => row.id)],
    );
    const seen = new Set(stored.map((row) => `${row.org_id}\u0000${row.id}`));
    const fresh = rows.filter((row) => {
      const key = `${row.orgId}\u0000${row.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (fresh.length === 0) return 0;
    const { seqs } = await takeSeqs(client, fresh);
    const params = [...columns.map(([, , get]) => fresh.map((row) => get(row))), seqs];
    await client.query(insertEntriesSql, params);
    return fresh.length;
  });
}

/** A row PostgreSQL refused for what it holds, and why (PostgreSQL's message and SQLSTATE). */
export interface RefusedEntry {
  row: AuditEntryRow;
  reason: string;
}

/**
 * Whether an error is PostgreSQL refusing a value rather than failing to work: a data exception
 * (class 22: NUL, an invalid address, a time out of range, a value too long), an integrity
 * violation (class 23: a CHECK, a NOT NULL) or a value too large for an index (54000), or a
 * value that cannot even be written as a parameter (a RangeError: an invalid time, JSON nested
 * too deep). Retrying such a row can never succeed; anything else (an outage, a missing table)
 * may, and is retried.
 */
export function isRefusedValue(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    (code.startsWith("22") || (code.startsWith("23") && code !== "23505") || code === "54000")
  );
}

function refusalReason(error: unknown): string {
  if (error instanceof RangeError) return `not storable: ${error.message}`;
  const { code, message } = error as { code: string; message: string };
  return `refused by PostgreSQL: ${message} (SQLSTATE ${code})`;
}

/**
 * Inserts rows so that a row PostgreSQL refuses for its content costs only itself: when the
 * batch is refused, it is split in halves until each refused row stands alone, and every other
 * row is stored (each part with ON CONFLICT DO NOTHING, so a retry stores nothing twice). About
 * 2·log2(n) statements per refused row, and none more when nothing is refused. Answers the rows
 * set aside with PostgreSQL's reason; any other failure (an outage) is thrown, for a retry.
 */
export async function insertAuditEntriesSettingAsideRefused(
  db: Database,
  rows: readonly AuditEntryRow[],
): Promise<{ inserted: number; refused: RefusedEntry[] }> {
  try {
    return { inserted: await insertAuditEntries(db, rows), refused: [] };
  } catch (error) {
    if (!isRefusedValue(error)) throw error;
    if (rows.length === 1)
      return {
        inserted: 0,
        refused: [{ row: rows[0] as AuditEntryRow, reason: refusalReason(error) }],
      };
  }
  const middle = Math.ceil(rows.length / 2);
  const first = await insertAuditEntriesSettingAsideRefused(db, rows.slice(0, middle));
  const second = await insertAuditEntriesSettingAsideRefused(db, rows.slice(middle));
  return {
    inserted: first.inserted + second.inserted,
    refused: [...first.refused, ...second.refused],
  };
}

/** The columns `toCopyText` writes, in order (`stored_at` and `commit_salt` keep their defaults). */
export const auditEntryCopyColumns: readonly string[] = columns.map(([name]) => name);

const copyEntriesSql = `COPY audit_entries (${auditEntryCopyColumns.join(", ")}, seq) FROM STDIN`;

const needsCopyEscape = /[\\\n\r\t]/;
const copyEscapable = /[\\\n\r\t]/g;
const copyEscapes: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

type CopyKind = (typeof columns)[number][3];

/** One value in COPY's text format: `\N` for NULL, backslash escapes for the four separators. */
function copyValue(value: string | boolean | null, kind: CopyKind): string {
  if (value === null) return "\\N";
  if (typeof value === "boolean") return value ? "t" : "f";
  if (kind === "plain") return value;
  if (kind === "json") return value.includes("\\") ? value.replaceAll("\\", "\\\\") : value;
  return needsCopyEscape.test(value)
    ? value.replace(copyEscapable, (c) => copyEscapes[c] as string)
    : value;
}

/**
 * Rows as COPY text: tab-separated `auditEntryCopyColumns`, one line each, followed by each
 * row's `seq` when `seqs` is given.
 */
export function toCopyText(rows: readonly AuditEntryRow[], seqs?: readonly number[]): string {
  let text = "";
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as AuditEntryRow;
    for (let i = 0; i < columns.length; i++) {
      const [, , get, kind] = columns[i] as (typeof columns)[number];
      text += (i === 0 ? "" : "\t") + copyValue(get(row), kind);
    }
    text += seqs ? `\t${seqs[r]}\n` : "\n";
  }
  return text;
}

/**
 * The same rows as `toCopyText`, as the UTF-8 bytes COPY is sent. Built with `+=`, a batch's
 * text was a rope of two pieces per value that V8 flattened before encoding it, which cost about
 * seven times the encoding itself, and every piece was an object for the garbage collector
 * (issue 21). Here each row's values are joined (one flat string) and encoded into one buffer.
 * Rows end with a newline and values with a tab, so encoding a row at a time gives the bytes of
 * encoding the whole text at once (a lone surrogate is U+FFFD either way).
 */
export function toCopyBytes(rows: readonly AuditEntryRow[], seqs?: readonly number[]): Buffer {
  let buffer = Buffer.allocUnsafe(Math.max(4096, rows.length * 1024));
  let offset = 0;
  const values: string[] = new Array(columns.length + (seqs ? 1 : 0));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as AuditEntryRow;
    for (let i = 0; i < columns.length; i++) {
      const [, , get, kind] = columns[i] as (typeof columns)[number];
      values[i] = copyValue(get(row), kind);
    }
    if (seqs) values[columns.length] = String(seqs[r]);
    const line = values.join("\t");
    // A UTF-16 unit takes at most three bytes of UTF-8; then the newline.
    const most = line.length * 3 + 1;
    if (offset + most > buffer.length) {
      const larger = Buffer.allocUnsafe(Math.max(buffer.length * 2, offset + most));
      buffer.copy(larger, 0, 0, offset);
      buffer = larger;
    }
    offset += buffer.write(line, offset);
    buffer[offset++] = 10;
  }
  return buffer.subarray(0, offset);
}

/** A write of this process under way, as a later write follows it (see `WriteOrder`). */
export interface FollowedWrite {
  /** The organisation's counter once that write commits. */
  size: number;
  /** That write's advisory lock (`WrittenCounters.lock`). */
  lock: number;
}

/** What a write tells of itself once it has its seqs, before it sends its rows. */
export interface WrittenCounters {
  /** Each organisation's counter after this write. */
  sizes: ReadonlyMap<string, number>;
  /** The advisory lock this write holds until it ends. */
  lock: number;
}

/** How a write fits with the writes of its process still under way (see `writeAuditEntries`). */
export interface WriteOrder {
  /**
   * Per organisation, an earlier write of this process, not yet committed: this write's rows
   * of it take the seqs after that write's, without queuing on the counter's lock. That write
   * must have taken the counter itself (it holds the counter's lock from its start to its
   * commit), never followed another: a write that follows locks the counter only at its end.
   */
  following?: ReadonlyMap<string, FollowedWrite>;
  /** Told this write's counters and lock once known (before its rows are sent). */
  onCounters?: (counters: WrittenCounters) => void;
}

/**
 * The worker's write: the batch streamed with COPY, which costs PostgreSQL about a third less
 * per row than `INSERT … SELECT unnest(…)` (no array parsing, heap pages filled several rows at
 * a time), inside a transaction that first takes the log counters of the batch's organisations
 * (see `takeLogCountersSql`). COPY cannot skip a row, so a batch holding an entry already
 * stored (a redelivered job, a client retry) fails as a whole with a unique violation, nothing
 * of it is written and no `seq` is spent; it is then written again with `insertAuditEntries`,
 * which skips the stored ones. Returns how many rows were new.
 *
 * The counter's lock lasts until the commit, so two writes of one organisation used to run one
 * after the other: half of what PostgreSQL writes on two connections (issue 14's design note).
 * With `order.following`, a write takes the seqs after a write of its process still under way,
 * sends its rows meanwhile, and only then waits for that write's commit, checking the counter
 * stands where expected (`confirmFollowedCounters`): the log stays gap-free and in commit order.
 * When it does not (the followed write failed, another process wrote in between), nothing of
 * this write is kept and it is written again taking the counters in turn.
 */
export async function writeAuditEntries(
  db: Database,
  rows: readonly AuditEntryRow[],
  order: WriteOrder = {},
): Promise<number> {
  if (rows.length === 0) return 0;
  const { following } = order;
  const follows = following !== undefined && rows.some((row) => following.has(row.orgId));
  const lock = nextWriteLock();
  try {
    return await inTransaction(
      db,
      async (client) => {
        const { seqs, sizes } = await takeSeqs(client, rows, following);
        order.onCounters?.({ sizes, lock });
        await pipeline(
          Readable.from([toCopyBytes(rows, seqs)]),
          client.query(copyFrom(copyEntriesSql)),
        );
        if (follows) await confirmFollowedCounters(client, rows, following);
        return rows.length;
      },
      // One round trip: the lock is this process's own number, written in.
      `BEGIN; SELECT pg_advisory_xact_lock(${writeLockClass}, ${lock})`,
    );
  } catch (error) {
    // The followed write failed, or another writer took those seqs first (the counter moved or
    // is held, a unique violation on seq): written again the ordinary way,
    // which also decides every other failure (a stored entry, a refused value, an outage).
    if (follows) return writeAuditEntries(db, rows);
    if ((error as { code?: unknown }).code !== "23505") throw error;
  }
  return insertAuditEntries(db, rows);
}
