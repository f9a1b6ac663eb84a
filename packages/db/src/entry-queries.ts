import {
  type AuditEntry,
  type AuditHistogram,
  type Category,
  defaultHistogramSpanMs,
  eventDefinitions,
  expandTypePatterns,
  formatLocation,
  type HistogramInterval,
  histogramIntervalMs,
  maxHistogramBuckets,
  type ParsedQuery,
  pickHistogramInterval,
} from "@auditlog/events";
import { type Database, type Queryable, sqlOf } from "./database.ts";

const hiddenTypes = new Set<string>(
  eventDefinitions.filter((d) => d.hiddenByDefault).map((d) => d.type),
);

export interface EntryQueryOptions {
  /** Show entries hidden from the default view (the audit log's own export events). */
  includeHidden?: boolean;
  /**
   * Only entries with seq ≤ this (an export cut at a signed checkpoint of this tree size). As
   * entries are append-only and every seq up to a checkpoint's size is committed, the selection
   * is then the same whichever snapshot reads it.
   */
  maxSeq?: number;
  /**
   * A viewer link's filter (issue 20): every entry returned must also match it. Applied as
   * conditions ANDed with the query's own, with hidden entries left out unless the scope itself
   * selects hidden types; `includeHidden` does not widen it.
   */
  scope?: ParsedQuery;
}

/** Collects positional parameters while a WHERE clause is built. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The WHERE clause for one organisation's entries matching a parsed query. Every clause starts
 * with `org_id = $1`: no path through here can read another organisation's rows.
 */
export function buildEntryFilter(
  orgId: string,
  query: ParsedQuery,
  options: EntryQueryOptions = {},
): {
  where: string;
  /** `where` without the free-text terms, and the terms alone (null without any). */
  indexedWhere: string;
  textWhere: string | null;
  /**
   * With an author filter of at most `maxAuthorWalks` values: `where` and `indexedWhere` once per
   * (value, column), each with that one equality in place of the author clause. Their union is
   * the filter's rows; each can be walked newest first from its actor index (see
   * `newestFirstSql`). Null otherwise.
   */
  authorWalks: { where: string; indexedWhere: string }[] | null;
  params: Params;
} {
  const params = new Params();
  const clauses = [`org_id = ${params.add(orgId)}`];
  if (options.maxSeq !== undefined) clauses.push(`seq <= ${params.add(options.maxSeq)}::bigint`);
  const own = queryClauses(query, params, options.includeHidden === true);
  const authorClause = own.authors ? clauses.length + own.authors.clauseIndex : -1;
  clauses.push(...own.clauses);
  const textClauses = [...own.textClauses];
  if (options.scope) {
    // A viewer link's filter: its clauses are ANDed with the holder's, term by term, in SQL.
    // Never merged into the holder's ParsedQuery, whose values of one key are alternatives:
    // `target:a` merged with `target:b` would select either.
    const scope = queryClauses(options.scope, params, false);
    clauses.push(...scope.clauses);
    textClauses.push(...scope.textClauses);
  }
  let authorWalks: { where: string; indexedWhere: string }[] | null = null;
  if (own.authors && own.authors.count <= maxAuthorWalks) {
    const { list, count } = own.authors;
    authorWalks = [];
    for (let value = 1; value <= count; value++) {
      for (const column of ["actor_name", "actor_id"]) {
        const walk = clauses.with(authorClause, `${column} = (${list}::text[])[${value}]`);
        authorWalks.push({
          where: [...walk, ...textClauses].join(" AND "),
          indexedWhere: walk.join(" AND "),
        });
      }
    }
  }
  return {
    where: [...clauses, ...textClauses].join(" AND "),
    indexedWhere: clauses.join(" AND "),
    textWhere: textClauses.length > 0 ? textClauses.join(" AND ") : null,
    authorWalks,
    params,
  };
}

/** Author filters of up to this many values are read as ordered walks, two per value. */
const maxAuthorWalks = 8;

/** The conditions of one parsed query, each to be ANDed: indexed ones, then free-text ones. */
function queryClauses(
  query: ParsedQuery,
  params: Params,
  includeHidden: boolean,
): {
  clauses: string[];
  textClauses: string[];
  /** Where the author clause is in `clauses`, its values' array parameter and their number. */
  authors?: { clauseIndex: number; list: string; count: number };
} {
  const clauses: string[] = [];
  let authors: { clauseIndex: number; list: string; count: number } | undefined;
  const anyOf = (column: string, values: string[], cast = "text") =>
    `${column} = ANY(${params.add(values)}::${cast}[])`;

  if (query.types.length > 0) {
    // A hidden type is shown when a pattern selects nothing but hidden types
    // (`type:org.audit_log.*`), never as a side effect of a broad one (`type:org.*`).
    const explicitHidden = query.types.some((pattern) =>
      expandTypePatterns([pattern]).every((type) => hiddenTypes.has(type)),
    );
    const types = expandTypePatterns(query.types).filter(
      (type) => includeHidden || explicitHidden || !hiddenTypes.has(type),
    );
    // One type is an equality, not `= ANY` of one: PostgreSQL (15) walks the (org_id, type,
    // occurred_at DESC, id DESC) index in order only for an equality. With `= ANY` it walked the
    // newest-first index filtering by type, betting on the type's overall share, and a type
    // absent from the newest 130,000 entries of 1,000,000 cost 155 ms instead of 0.1 ms
    // (BENCHMARKS.md, issue 21 part 5).
    clauses.push(
      types.length === 1 ? `type = ${params.add(types[0])}::text` : anyOf("type", types),
    );
  } else if (!includeHidden) {
    clauses.push("hidden_by_default = false");
  }
  if (query.excludeTypes.length > 0) {
    clauses.push(`type <> ALL(${params.add(expandTypePatterns(query.excludeTypes))}::text[])`);
  }
  if (query.authors.length > 0) {
    const list = params.add(query.authors);
    authors = { clauseIndex: clauses.length, list, count: query.authors.length };
    clauses.push(`(actor_name = ANY(${list}::text[]) OR actor_id = ANY(${list}::text[]))`);
  }
  if (query.excludeAuthors.length > 0) {
    const list = params.add(query.excludeAuthors);
    clauses.push(
      `(actor_name = ANY(${list}::text[]) OR actor_id = ANY(${list}::text[])) IS NOT TRUE`,
    );
  }
  if (query.categories.length > 0) clauses.push(anyOf("category", query.categories));
  if (query.excludeCategories.length > 0) {
    clauses.push(`category <> ALL(${params.add(query.excludeCategories)}::text[])`);
  }
  if (query.targets.length > 0) {
    const list = params.add(query.targets);
    clauses.push(`(target_id = ANY(${list}::text[]) OR target_name = ANY(${list}::text[]))`);
  }
  if (query.excludeTargets.length > 0) {
    const list = params.add(query.excludeTargets);
    clauses.push(
      `(target_id = ANY(${list}::text[]) OR target_name = ANY(${list}::text[])) IS NOT TRUE`,
    );
  }
  if (query.ipPrefixes.length > 0) {
    clauses.push(`ip <<= ANY(${params.add(query.ipPrefixes.map(ipPrefixToCidr))}::inet[])`);
  }
  if (query.excludeIpPrefixes.length > 0) {
    const list = params.add(query.excludeIpPrefixes.map(ipPrefixToCidr));
    clauses.push(`(ip <<= ANY(${list}::inet[])) IS NOT TRUE`);
  }
  if (query.countries.length > 0) clauses.push(anyOf("country_code", query.countries));
  if (query.excludeCountries.length > 0) {
    const list = params.add(query.excludeCountries);
    clauses.push(`(country_code = ANY(${list}::text[])) IS NOT TRUE`);
  }
  if (query.createdFrom)
    clauses.push(`occurred_at >= ${params.add(query.createdFrom)}::timestamptz`);
  if (query.createdTo) clauses.push(`occurred_at < ${params.add(query.createdTo)}::timestamptz`);
  const textClauses = query.text.map((term) => {
    const pattern = params.add(`%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    return `(description ILIKE ${pattern} OR actor_name ILIKE ${pattern} OR target_name ILIKE ${pattern} OR type ILIKE ${pattern})`;
  });
  return authors ? { clauses, textClauses, authors } : { clauses, textClauses };
}

/**
 * The CIDR an IP prefix selects among stored (already truncated) addresses: a full IPv4 address
 * selects its /24, a full IPv6 address its /48, a partial one the octets or groups it names.
 */
export function ipPrefixToCidr(prefix: string): string {
  if (!prefix.includes(":")) {
    const octets = prefix.split(".").filter((part) => part !== "");
    if (octets.length === 4) return `${octets.slice(0, 3).join(".")}.0/24`;
    const padded = [...octets, "0", "0", "0", "0"].slice(0, 4).join(".");
    return `${padded}/${octets.length * 8}`;
  }
  if (prefix.endsWith(":") && !prefix.endsWith("::")) {
    const groups = prefix.slice(0, -1).split(":");
    return `${groups.join(":")}${groups.length < 8 ? "::" : ""}/${groups.length * 16}`;
  }
  return `${prefix}/48`;
}

export const entryColumns = `id, type, category, description, hidden_by_default, occurred_at, received_at,
  occurred_at::text AS cursor_time, actor_type, actor_id, actor_name, actor_avatar_url,
  actor_token_role, actor_token_last4, target_type, target_id, target_name, host(ip) AS ip,
  country_code, region, city, user_agent, oauth_client_id, oauth_name, data, seq::float8 AS seq,
  encode(commit_salt, 'base64') AS commit_salt, encode(personal_digest, 'base64') AS personal_digest`;

export interface EntryRow {
  id: string;
  type: string;
  category: AuditEntry["category"];
  description: string;
  hidden_by_default: boolean;
  occurred_at: Date;
  received_at: Date;
  cursor_time: string;
  actor_type: AuditEntry["actor"]["type"];
  actor_id: string;
  actor_name: string;
  actor_avatar_url: string | null;
  actor_token_role: string | null;
  actor_token_last4: string | null;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  ip: string | null;
  country_code: string | null;
  region: string | null;
  city: string | null;
  user_agent: string | null;
  oauth_client_id: string | null;
  oauth_name: string | null;
  data: Record<string, unknown>;
  seq: number;
  /** NULL once the entry's personal fields were erased (issue 16). */
  commit_salt: string | null;
  /** The personal digest an erased entry keeps; NULL otherwise. */
  personal_digest?: string | null;
}

export function toAuditEntry(row: EntryRow): AuditEntry {
  const location =
    row.country_code || row.region || row.city
      ? {
          formatted: formatLocation({
            countryCode: row.country_code,
            region: row.region,
            city: row.city,
          }),
          countryCode: row.country_code,
          region: row.region,
          city: row.city,
        }
      : null;
  return {
    id: row.id,
    type: row.type,
    category: row.category,
    description: row.description,
    occurredAt: row.occurred_at.toISOString(),
    receivedAt: row.received_at.toISOString(),
    hiddenByDefault: row.hidden_by_default,
    actor: {
      type: row.actor_type,
      id: row.actor_id,
      name: row.actor_name,
      avatarUrl: row.actor_avatar_url,
      tokenRole: row.actor_token_role,
      tokenLast4: row.actor_token_last4,
    },
    target:
      row.target_type && row.target_id
        ? { type: row.target_type, id: row.target_id, name: row.target_name }
        : null,
    ip: row.ip,
    location,
    userAgent: row.user_agent,
    oauth: row.oauth_client_id ? { clientId: row.oauth_client_id, name: row.oauth_name } : null,
    data: row.data ?? {},
    seq: row.seq,
    commitment:
      typeof row.personal_digest === "string"
        ? { personal: row.personal_digest }
        : { salt: row.commit_salt as string },
  };
}

/** A position in the newest-first order: the exact stored time (microseconds) and the id. */
export interface EntryCursor {
  time: string;
  id: string;
}

export function encodeCursor(cursor: EntryCursor): string {
  return Buffer.from(JSON.stringify([cursor.time, cursor.id])).toString("base64url");
}

/** Null when the text is not a cursor this API produced. */
export function decodeCursor(text: string): EntryCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [time, id] = value;
    if (typeof time !== "string" || typeof id !== "string") return null;
    if (id.length === 0 || id.length > 200 || id.includes("\u0000")) return null;
    return isPostgresTimestamp(time) ? { time, id } : null;
  } catch {
    return null;
  }
}

/**
 * PostgreSQL's own text form of a timestamptz, e.g. "2026-03-01 12:07:00.000002+00", with every
 * field in range: a forged cursor must be refused here, not by PostgreSQL as a 500.
 */
function isPostgresTimestamp(time: string): boolean {
  const match =
    /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?(?::(\d{2}))?$/.exec(
      time,
    );
  if (!match) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes, offsetSeconds] = match
    .slice(1)
    .map((part) => Number(part ?? 0));
  const daysInMonth = new Date(Date.UTC(year ?? 0, month ?? 0, 0)).getUTCDate();
  const within = (value: number | undefined, low: number, high: number) =>
    value !== undefined && value >= low && value <= high;
  return (
    within(year, 1, 9999) &&
    within(month, 1, 12) &&
    within(day, 1, daysInMonth) &&
    within(hour, 0, 23) &&
    within(minute, 0, 59) &&
    within(second, 0, 59) &&
    within(offsetHours, 0, 15) &&
    within(offsetMinutes, 0, 59) &&
    within(offsetSeconds, 0, 59)
  );
}

interface RowPage {
  rows: EntryRow[];
  nextCursor: EntryCursor | null;
}

interface PageInput {
  orgId: string;
  query: ParsedQuery;
  limit: number;
  cursor?: EntryCursor | null;
  options?: EntryQueryOptions;
  /** How many of the newest entries a free-text search reads first (see `fetchEntryRows`). */
  textSearchWindow?: number;
}

const defaultTextSearchWindow = 20_000;

/**
 * One page of raw rows by keyset on (occurred_at, id), and the cursor after it.
 *
 * Free text is searched in two steps. PostgreSQL can only guess how many entries hold a term
 * (`ILIKE '%term%'`) from ANALYZE's sample, and the same term in 1% of an organisation's entries
 * was guessed at 0.85% after one ANALYZE and 0.01% after another: then it scanned and sorted the
 * whole partition (1.5 s for 1,000,000 entries) instead of walking the newest-first index until a
 * page was full (15 ms). So the newest `textSearchWindow` entries are searched first, always by
 * that walk; only when they hold less than a page is the query left to the planner, whose scan
 * is then the right one for a rare term.
 */
async function fetchEntryRows(db: Queryable, input: PageInput): Promise<RowPage> {
  const { where, indexedWhere, textWhere, authorWalks, params } = buildEntryFilter(
    input.orgId,
    input.query,
    input.options,
  );
  let keyset = "";
  if (input.cursor) {
    keyset = ` AND (occurred_at, id) < (${params.add(input.cursor.time)}::timestamptz, ${params.add(input.cursor.id)})`;
  }
  const limit = params.add(input.limit + 1);
  let rows: EntryRow[] = [];
  if (textWhere) {
    const window = `$${params.values.length + 1}`;
    const walks = authorWalks?.map((walk) => walk.indexedWhere) ?? null;
    ({ rows } = await db.query<EntryRow>(
      `SELECT ${entryColumns} FROM (${newestFirstSql(indexedWhere, walks, keyset, window)}) newest
       WHERE ${textWhere}
       ORDER BY occurred_at DESC, id DESC LIMIT ${limit}`,
      [...params.values, input.textSearchWindow ?? defaultTextSearchWindow],
    ));
  }
  if (rows.length <= input.limit) {
    ({ rows } = await db.query<EntryRow>(
      authorWalks
        ? `SELECT ${entryColumns} FROM (${newestFirstSql(
            where,
            authorWalks.map((walk) => walk.where),
            keyset,
            limit,
          )}) page ORDER BY occurred_at DESC, id DESC`
        : `SELECT ${entryColumns} FROM audit_entries WHERE ${where}${keyset}
       ORDER BY occurred_at DESC, id DESC LIMIT ${limit}`,
      params.values,
    ));
  }
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > input.limit && last ? { time: last.cursor_time, id: last.id } : null;
  return { rows: page, nextCursor };
}

/**
 * The newest `limit` rows matching `where` after the keyset, newest first.
 *
 * With `walks` (an author filter), the union of each walk's newest `limit`, deduplicated by entry
 * and cut to `limit`: the same rows. `actor_name = ANY(…) OR actor_id = ANY(…)` cannot be read in
 * order from one index, so PostgreSQL either walks the newest entries hoping to meet the author
 * soon (130,000 newer entries of others: 295.6 ms, 14,492 buffers) or reads and sorts all of
 * the author's entries; each `actor_name = v` or `actor_id = v` walks its own
 * `(org_id, actor_…, occurred_at DESC, id DESC)` index in order, and the union of those walks
 * took 0.27 ms and 65 buffers for the same page (BENCHMARKS.md, issue 21 part 5).
 */
function newestFirstSql(
  where: string,
  walks: string[] | null,
  keyset: string,
  limit: string,
): string {
  const newest = (clause: string) =>
    `SELECT * FROM audit_entries WHERE ${clause}${keyset}
     ORDER BY occurred_at DESC, id DESC LIMIT ${limit}`;
  if (!walks) return newest(where);
  // DISTINCT ON the sort key, not UNION: an entry met by two walks (its name is one author
  // value, its id another) is the same row; comparing whole rows would need every column
  // comparable and costs more.
  return `SELECT DISTINCT ON (occurred_at, id) * FROM (
      ${walks.map((walk) => `(${newest(walk)})`).join("\n      UNION ALL ")}
    ) walks ORDER BY occurred_at DESC, id DESC LIMIT ${limit}`;
}

/**
 * One page, newest first, by keyset on (occurred_at, id): stable while new entries arrive,
 * and as fast a thousand pages deep as on the first.
 */
export async function listEntries(
  db: Database,
  input: PageInput,
): Promise<{ entries: AuditEntry[]; nextCursor: string | null }> {
  const page = await fetchEntryRows(sqlOf(db), input);
  return {
    entries: page.rows.map(toAuditEntry),
    nextCursor: page.nextCursor ? encodeCursor(page.nextCursor) : null,
  };
}

export async function getEntry(
  db: Database,
  orgId: string,
  id: string,
): Promise<AuditEntry | null> {
  const { rows } = await sqlOf(db).query<EntryRow>(
    `SELECT ${entryColumns} FROM audit_entries WHERE org_id = $1 AND id = $2`,
    [orgId, id],
  );
  return rows[0] ? toAuditEntry(rows[0]) : null;
}

/**
 * Every matching entry, newest first, in keyset pages of `batchSize`: memory stays bounded by one
 * page whatever the total, and by default each page is a short query of its own.
 *
 * The pages are separate queries, so an entry committed while the stream runs can appear in it:
 * a back-dated one sorts among the pages still to come. With `snapshot`, the pages are read on
 * one connection in one `REPEATABLE READ, READ ONLY` transaction, so every page sees the first
 * one's snapshot (what an export file must hold); the connection is given back when the stream
 * ends, fails or is stopped early (`return()`, as `for await … break` does), so a consumer must
 * not leave the stream suspended.
 */
export async function* streamEntries(
  db: Database,
  input: {
    orgId: string;
    query: ParsedQuery;
    max: number;
    batchSize?: number;
    options?: EntryQueryOptions;
    /** Read every page from the snapshot of the first (see above). */
    snapshot?: boolean;
  },
): AsyncGenerator<EntryRow[]> {
  const batchSize = input.batchSize ?? 1000;
  let remaining = input.max;
  if (remaining <= 0) return;
  const pool = sqlOf(db);
  const client = input.snapshot ? await pool.connect() : null;
  const fetchPage = (cursor: EntryCursor | null, remaining: number) =>
    fetchEntryRows(client ?? pool, {
      orgId: input.orgId,
      query: input.query,
      limit: Math.min(batchSize, remaining),
      cursor,
      options: input.options,
    });
  let pending: Promise<RowPage> | null = null;
  try {
    await client?.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    pending = fetchPage(null, remaining);
    while (pending) {
      const page: RowPage = await pending;
      remaining -= page.rows.length;
      // Ask for the next page before the caller serialises this one, so PostgreSQL and Node work
      // at the same time; at most two pages are ever held.
      pending = page.nextCursor && remaining > 0 ? fetchPage(page.nextCursor, remaining) : null;
      // A consumer that stops early leaves the prefetch unawaited: it must not become unhandled.
      pending?.catch(() => {});
      if (page.rows.length > 0) yield page.rows;
    }
  } finally {
    if (client) {
      // The prefetched page of a consumer that stopped early still runs on this connection.
      await pending?.catch(() => {});
      try {
        await client.query("ROLLBACK");
        client.release();
      } catch (error) {
        // The connection itself failed: close it instead of giving it back.
        client.release(error as Error);
      }
    }
  }
}

/**
 * Entries per bucket of time and category over the filter's time range, for the console's
 * activity chart, with the filter's total. The range is the query's `created` bounds; an open
 * lower bound starts at the oldest matching entry, an open upper bound ends now or after the
 * newest matching entry (the list has no upper bound either), so `total` is the list's count.
 * Buckets are aligned in `timeZone` (local midnight, local hour; PostgreSQL's tz database handles
 * summer time). `interval: "auto"` picks one that fits the range (`pickHistogramInterval`). At
 * most `maxHistogramBuckets` buckets are returned: a wider range keeps its most recent part,
 * and `total` still counts the whole range.
 */
export async function histogramEntries(
  db: Database,
  input: {
    orgId: string;
    query: ParsedQuery;
    interval: HistogramInterval | "auto";
    /** An IANA zone name PostgreSQL knows; "UTC" by default. */
    timeZone?: string;
    now?: Date;
    options?: EntryQueryOptions;
  },
): Promise<AuditHistogram> {
  const sql = sqlOf(db);
  const timeZone = input.timeZone ?? "UTC";
  const now = (input.now ?? new Date()).getTime();
  const { createdFrom, createdTo } = input.query;
  let oldest: number | null = null;
  let newest: number | null = null;
  if (!createdFrom || !createdTo) {
    const { where, params } = buildEntryFilter(input.orgId, input.query, input.options);
    const { rows } = await sql.query<{ oldest: Date | null; newest: Date | null }>(
      `SELECT min(occurred_at) AS oldest, max(occurred_at) AS newest FROM audit_entries WHERE ${where}`,
      params.values,
    );
    oldest = rows[0]?.oldest?.getTime() ?? null;
    newest = rows[0]?.newest?.getTime() ?? null;
  }
  const to = createdTo ? Date.parse(createdTo) : Math.max(now, (newest ?? 0) + 1);
  const interval =
    input.interval === "auto"
      ? pickHistogramInterval(
          to -
            (createdFrom ? Date.parse(createdFrom) : (oldest ?? to - defaultHistogramSpanMs.day)),
        )
      : input.interval;
  const step = histogramIntervalMs[interval];
  const lowerBound = createdFrom
    ? Date.parse(createdFrom)
    : (oldest ?? to - defaultHistogramSpanMs[interval]);
  // Buckets are drawn from here; counting (the total) still covers [lowerBound, to).
  const drawFrom = Math.max(lowerBound, to - (maxHistogramBuckets + 1) * step);

  const counted: ParsedQuery = {
    ...input.query,
    createdFrom: new Date(lowerBound).toISOString(),
    createdTo: new Date(to).toISOString(),
  };
  const { where, params } = buildEntryFilter(input.orgId, counted, input.options);
  const unit = params.add(interval);
  const zone = params.add(timeZone);
  const { rows } = await sql.query<{ bucket: Date; category: Category; n: number }>(
    `SELECT date_trunc(${unit}, occurred_at, ${zone}) AS bucket, category, count(*)::int AS n
     FROM audit_entries WHERE ${where}
     GROUP BY 1, 2`,
    params.values,
  );
  // Bucket starts: the interval's steps in local wall time, back to instants. A wall time that
  // does not exist (the hour skipped in spring) maps onto the next one: DISTINCT drops the repeat.
  const { rows: series } = await sql.query<{ start: Date }>(
    `SELECT DISTINCT (g AT TIME ZONE $2) AS start
     FROM generate_series(
       date_trunc($1, $3::timestamptz, $2) AT TIME ZONE $2,
       ($4::timestamptz - interval '1 millisecond') AT TIME ZONE $2,
       ('1 ' || $1)::interval
     ) AS g
     ORDER BY 1`,
    [interval, timeZone, new Date(drawFrom).toISOString(), new Date(to).toISOString()],
  );
  const starts = (to > drawFrom ? series.map((row) => row.start.getTime()) : []).slice(
    -maxHistogramBuckets,
  );
  const buckets: AuditHistogram["buckets"] = starts.map((start) => ({
    start: new Date(start).toISOString(),
    counts: {},
  }));
  let total = 0;
  for (const row of rows) {
    total += row.n;
    // The bucket holding this row: the last start at or before it (an hour repeated in autumn
    // truncates to a start the wall-clock series holds once).
    const time = row.bucket.getTime();
    let low = 0;
    let high = starts.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if ((starts[mid] as number) <= time) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    const bucket = buckets[found];
    if (bucket) bucket.counts[row.category] = (bucket.counts[row.category] ?? 0) + row.n;
  }
  return {
    interval,
    from: new Date(starts[0] ?? drawFrom).toISOString(),
    to: new Date(Math.max(to, drawFrom)).toISOString(),
    timeZone,
    total,
    buckets,
  };
}
