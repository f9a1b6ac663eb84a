import { performance } from "node:perf_hooks";
import { createDatabase, decodeCursor, type EntryCursor, listEntries } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { emptyQuery, type ParsedQuery, parseQuery, printQuery } from "@auditlog/events";
import type pg from "pg";
import { rowPool } from "./pool.ts";
import type { SeededOrg } from "./seed.ts";
import type { BenchSize } from "./sizes.ts";
import { benchDatabaseUrl, createAdminToken } from "./stack.ts";
import { httpRequest, log, percentile, round } from "./util.ts";

export interface QueryCaseResult {
  name: string;
  path: string;
  /** Entries of the organisation that match the filter, and their share. */
  matching: number | null;
  share: number | null;
  calls: number;
  p50: number;
  p95: number;
  max: number;
  /** The same query's statements sent straight to PostgreSQL (no HTTP, no auth), as many times. */
  sqlP50: number;
  sqlP95: number;
  explain: string;
}

export type Statement = { sql: string; params: unknown[] };

/** Times the statements in turn, as one call of listEntries sends them. */
export async function timeSql(pool: pg.Pool, statements: Statement[], calls: number) {
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    for (const { sql, params } of statements) await pool.query(sql, params);
    samples.push(performance.now() - started);
  }
  return { p50: round(percentile(samples, 50), 2), p95: round(percentile(samples, 95), 2) };
}

export interface QueryResult {
  org: string;
  orgEntries: number;
  cases: QueryCaseResult[];
}

/**
 * The statements listEntries runs for a query, recorded as they run: a free-text search sends a
 * second statement only when its first cannot fill the page.
 */
export async function capturedSql(
  orgId: string,
  query: ParsedQuery,
  limit: number,
  cursor: EntryCursor | null,
): Promise<Statement[]> {
  const statements: Statement[] = [];
  // A handle of its own whose pool records what listEntries sends through it.
  const recording = createDatabase({ url: benchDatabaseUrl, poolSize: 1 });
  const { pool } = driversOf(recording);
  const send = pool.query.bind(pool) as (sql: string, params: unknown[]) => Promise<unknown>;
  Object.assign(pool, {
    query: (sql: string, params: unknown[]) => {
      statements.push({ sql, params });
      return send(sql, params);
    },
  });
  try {
    await listEntries(recording, {
      orgId,
      query,
      limit,
      cursor,
      options: { includeHidden: false },
    });
  } finally {
    await recording.close();
  }
  if (statements.length === 0) throw new Error("listEntries sent no query");
  return statements;
}

export async function explainAll(pool: pg.Pool, statements: Statement[]): Promise<string> {
  const plans: string[] = [];
  for (const { sql, params } of statements) {
    const explain = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    plans.push(explain.rows.map((row) => row["QUERY PLAN"]).join("\n"));
  }
  return plans.join("\n\n-- then --\n\n");
}

function parsed(field: keyof ParsedQuery, values: string[]): ParsedQuery {
  const result = parseQuery(printQuery({ ...emptyQuery(), [field]: values }));
  if (!result.ok) throw new Error(`bad bench filter ${String(field)}`);
  return result.query;
}

export async function timeCalls(
  url: string,
  token: string,
  warmup: number,
  calls: number,
): Promise<number[]> {
  const headers = { authorization: `Bearer ${token}` };
  for (let i = 0; i < warmup; i++) {
    const answer = await httpRequest(url, { headers });
    if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status} ${answer.body}`);
  }
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    const answer = await httpRequest(url, { headers });
    samples.push(performance.now() - started);
    if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status}`);
  }
  return samples;
}

export interface SingleFilter {
  name: string;
  /** Its query-string parameters (besides limit). */
  params: Record<string, string>;
  query: ParsedQuery;
  /** SQL condition ($2 = value) counting the entries it matches; null for no filter. */
  where: string | null;
  value: string;
}

/**
 * The page the console opens and the representative single filters: a common type (≈ 9% of
 * entries), an active actor (rank 10 of 2,000, ≈ 1%), and a word found in ≈ 1% of descriptions.
 */
export function singleFilters(): SingleFilter[] {
  const { factory, textWord } = rowPool();
  const type = "repo.create";
  const actor = factory.actors[9]?.name as string;
  return [
    { name: "first page", params: {}, query: emptyQuery(), where: null, value: "" },
    {
      name: `type filter (${type})`,
      params: { type },
      query: parsed("types", [type]),
      where: "type = $2",
      value: type,
    },
    {
      name: `actor filter (${actor})`,
      params: { actor },
      query: parsed("authors", [actor]),
      where: "(actor_name = $2 OR actor_id = $2)",
      value: actor,
    },
    {
      name: `free text (text=${textWord})`,
      params: { text: textWord },
      query: parsed("text", [textWord]),
      where:
        "(description ILIKE $2 OR actor_name ILIKE $2 OR target_name ILIKE $2 OR type ILIKE $2)",
      value: `%${textWord}%`,
    },
  ];
}

/** Follows nextCursor (limit 200) from the newest entry to `depth` entries; answers the cursor there. */
export async function followCursor(base: string, token: string, depth: number): Promise<string> {
  log(`query: following nextCursor to depth ${depth}`);
  let cursor: string | null = null;
  for (let at = 0; at < depth; at += 200) {
    const url = `${base}?${new URLSearchParams({ limit: "200", ...(cursor ? { cursor } : {}) })}`;
    const answer = await httpRequest(url, { headers: { authorization: `Bearer ${token}` } });
    if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status}`);
    cursor = (JSON.parse(answer.body) as { nextCursor: string | null }).nextCursor;
    if (!cursor) throw new Error(`the log ended before depth ${depth}`);
  }
  if (!cursor) throw new Error("depth must be at least 1");
  return cursor;
}

export async function runQueries(
  size: BenchSize,
  port: number,
  big: SeededOrg,
): Promise<QueryResult> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 2 });
  const { pool } = driversOf(db);
  try {
    const token = await createAdminToken(db, big.slug);
    const base = `http://127.0.0.1:${port}/v1/orgs/${big.slug}/audit-logs`;
    const count = async (where: string, value: string) => {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM audit_entries WHERE org_id = $1 AND ${where}`,
        [big.id, value],
      );
      return Number(rows[0]?.n);
    };
    const cases = singleFilters().map((filter) => ({
      ...filter,
      matching: async () => (filter.where ? count(filter.where, filter.value) : null),
    }));

    const results: QueryCaseResult[] = [];
    for (const c of cases) {
      const url = `${base}?${new URLSearchParams({ limit: "50", ...c.params })}`;
      log(`query: ${c.name}: ${size.queryWarmupCalls} warm-up + ${size.queryCalls} calls`);
      const samples = await timeCalls(url, token, size.queryWarmupCalls, size.queryCalls);
      const statements = await capturedSql(big.id, c.query, 50, null);
      const explain = await explainAll(pool, statements);
      const sqlTimes = await timeSql(pool, statements, size.queryCalls);
      const matching = await c.matching();
      results.push({
        name: c.name,
        path: url.slice(url.indexOf("/v1/")),
        matching,
        share: matching === null ? null : round(matching / big.entries, 4),
        calls: samples.length,
        p50: round(percentile(samples, 50), 2),
        p95: round(percentile(samples, 95), 2),
        max: round(Math.max(...samples), 2),
        sqlP50: sqlTimes.p50,
        sqlP95: sqlTimes.p95,
        explain,
      });
    }

    // Deep page: follow nextCursor (limit 200) to `deepCursorDepth` entries, then time the page there.
    const cursor = await followCursor(base, token, size.deepCursorDepth);
    const deepUrl = `${base}?${new URLSearchParams({ limit: "50", cursor })}`;
    log(`query: page at depth ${size.deepCursorDepth}: ${size.queryCalls} calls`);
    const deepSamples = await timeCalls(deepUrl, token, size.queryWarmupCalls, size.queryCalls);
    const statements = await capturedSql(big.id, emptyQuery(), 50, decodeCursor(cursor));
    const explain = await explainAll(pool, statements);
    const sqlTimes = await timeSql(pool, statements, size.queryCalls);
    results.push({
      name: `page at depth ${size.deepCursorDepth.toLocaleString("en-US")} (cursor)`,
      path: `/v1/orgs/${big.slug}/audit-logs?limit=50&cursor=…`,
      matching: null,
      share: null,
      calls: deepSamples.length,
      p50: round(percentile(deepSamples, 50), 2),
      p95: round(percentile(deepSamples, 95), 2),
      max: round(Math.max(...deepSamples), 2),
      sqlP50: sqlTimes.p50,
      sqlP95: sqlTimes.p95,
      explain,
    });
    return { org: big.slug, orgEntries: big.entries, cases: results };
  } finally {
    await db.close();
  }
}
