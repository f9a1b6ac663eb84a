import { parseQueryOrThrow } from "@auditlog/events";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrganization } from "./accounts.ts";
import { driversOf } from "./database.ts";
import { type AuditEntryRow, insertAuditEntries } from "./entries.ts";
import { decodeCursor, listEntries, streamEntries } from "./entry-queries.ts";
import { auditEntryRow, createTestDatabase, prepareTestDatabase, uniqueSlug } from "./testing.ts";

const db = createTestDatabase();
const pool = driversOf(db).pool;
let orgId: string;
let otherOrgId: string;
let rows: AuditEntryRow[];

beforeAll(async () => {
  await prepareTestDatabase();
  orgId = (
    await createOrganization(db, { slug: uniqueSlug("text-search"), name: "T", plan: "team" })
  ).id;
  // 60 entries a minute apart, two of them at the same time, newest last. "Deploy" is in every
  // third description, in some target names, and in the two oldest entries' actor names only.
  // One in ten is a repo.delete, the rest repo.create.
  rows = Array.from({ length: 60 }, (_, i) =>
    auditEntryRow(orgId, {
      id: `evt_text_${String(i).padStart(2, "0")}`,
      type: i % 10 === 4 ? "repo.delete" : "repo.create",
      occurredAt: new Date(Date.UTC(2026, 2, 1, 12, i === 31 ? 30 : i)),
      description: i % 3 === 0 ? `dana ran the Deploy job #${i}` : `dana opened issue #${i}`,
      targetName: i % 7 === 0 ? "deploy-bot/config" : "acme/site",
      actorName: i < 2 ? "redeployer" : "dana",
      hiddenByDefault: i === 45,
    }),
  );
  await insertAuditEntries(db, rows);
  // Another organisation's matching entries, interleaved in time: no window may reach them.
  otherOrgId = (
    await createOrganization(db, { slug: uniqueSlug("text-other"), name: "O", plan: "team" })
  ).id;
  await insertAuditEntries(
    db,
    Array.from({ length: 60 }, (_, i) =>
      auditEntryRow(otherOrgId, {
        id: `evt_other_${String(i).padStart(2, "0")}`,
        occurredAt: new Date(Date.UTC(2026, 2, 1, 12, i, 30)),
        description: "eve ran the deploy job",
        actorName: "redeployer",
      }),
    ),
  );
});

afterAll(async () => {
  await pool.query("DELETE FROM organizations WHERE id = ANY($1)", [[orgId, otherOrgId]]);
  await db.close();
});

/**
 * The plan tests need the statistics autovacuum would keep (this machine runs without it): with
 * none, an organisation's partition looks empty, every index walk is costed at one row, and
 * which index the planner takes is a tie, decided by whatever else the partition holds.
 */
async function analyzePartitionOf(org: string) {
  const { rows: held } = await pool.query<{ part: string }>(
    "SELECT tableoid::regclass::text AS part FROM audit_entries WHERE org_id = $1 LIMIT 1",
    [org],
  );
  if (!held[0]) throw new Error(`no entries of ${org}`);
  await pool.query(`ANALYZE ${held[0].part}`);
}

/** Every page of a query, followed through its cursors. */
async function allPages(query: string, limit: number, textSearchWindow: number) {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const result = await listEntries(db, {
      orgId,
      query: parseQueryOrThrow(query),
      limit,
      cursor: cursor ? decodeCursor(cursor) : null,
      textSearchWindow,
    });
    ids.push(...result.entries.map((e) => e.id));
    cursor = result.nextCursor;
    if (!cursor) return ids;
  }
  throw new Error("no last page");
}

function expected(match: (row: AuditEntryRow) => boolean): string[] {
  return rows
    .filter((row) => !row.hiddenByDefault && match(row))
    .sort(
      (a, b) =>
        b.occurredAt.getTime() - a.occurredAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
    )
    .map((row) => row.id);
}

const holds = (text: string | null, term: string) =>
  (text ?? "").toLowerCase().includes(term.toLowerCase());

/** The first statement `run` sends through the pool, recorded as it runs, and what it returned. */
async function firstStatementOf<T>(
  run: () => Promise<T>,
): Promise<{ statement: { sql: string; params: unknown[] }; result: T }> {
  const sent: { sql: string; params: unknown[] }[] = [];
  const send = pool.query.bind(pool) as (sql: string, params: unknown[]) => Promise<unknown>;
  Object.assign(pool, {
    query: (sql: string, params: unknown[]) => {
      sent.push({ sql, params });
      return send(sql, params);
    },
  });
  let result: T;
  try {
    result = await run();
  } finally {
    delete (pool as unknown as { query?: unknown }).query;
  }
  const statement = sent[0];
  if (!statement) throw new Error("nothing was sent");
  return { statement, result };
}

/** The statement's plan as JSON text, planned with each of `disabled` (enable_…) off. */
async function planOf(statement: { sql: string; params: unknown[] }, disabled: string[]) {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    for (const setting of disabled) await client.query(`SET LOCAL ${setting} = off`);
    const { rows: plans } = await client.query(
      `EXPLAIN (FORMAT JSON) ${statement.sql}`,
      statement.params,
    );
    return JSON.stringify(plans[0]);
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
}

describe("free-text search (newest entries first, then the planner's own plan)", () => {
  const deployMatches = () =>
    expected(
      (r) =>
        holds(r.description, "deploy") ||
        holds(r.targetName, "deploy") ||
        holds(r.actorName, "deploy"),
    );

  it.each([
    [1, 1],
    [3, 4],
    [7, 5],
    [10_000, 4],
  ])(
    "finds every match in order, read %i newest entries first, %i a page",
    async (window, limit) => {
      const deploy = deployMatches();
      expect(deploy.length).toBeGreaterThan(20);
      expect(await allPages("deploy", limit, window)).toEqual(deploy);
    },
  );

  it("finds a term held only by entries older than the first window", async () => {
    const oldest = expected((r) => holds(r.actorName, "redeploy"));
    expect(oldest).toEqual(["evt_text_01", "evt_text_00"]);
    expect(await allPages("redeploy", 50, 5)).toEqual(oldest);
    expect(await allPages("redeploy", 1, 5)).toEqual(oldest);
  });

  it("combines free text with other filters, in and beyond the window", async () => {
    const query = "deploy -author:redeployer";
    const matching = expected(
      (r) =>
        r.actorName !== "redeployer" &&
        (holds(r.description, "deploy") || holds(r.targetName, "deploy")),
    );
    expect(await allPages(query, 3, 4)).toEqual(matching);
    expect(await allPages("nothing-holds-this", 10, 4)).toEqual([]);
  });
});

describe("a one-type filter", () => {
  it("is an equality PostgreSQL answers by walking the type index newest first, with no sort", async () => {
    await analyzePartitionOf(orgId);
    const { statement, result: page } = await firstStatementOf(() =>
      listEntries(db, { orgId, query: parseQueryOrThrow("type:repo.delete"), limit: 5 }),
    );
    const ids = page.entries.map((entry) => entry.id);
    expect(ids).toEqual(expected((row) => row.type === "repo.delete").slice(0, 5));
    // Index walks only, and no sorting unless nothing else can answer: which index, and
    // whether it still needs a sort, is the question. With `type = ANY($2)` of one type the
    // type index gives no order, and a type absent from an organisation's newest entries was
    // found by walking past all of them (BENCHMARKS.md, issue 21 part 5).
    const plan = await planOf(statement, ["enable_seqscan", "enable_bitmapscan", "enable_sort"]);
    expect(plan).not.toContain('"Node Type":"Sort"');
    expect(plan).toMatch(/"Index Cond":"[^"]*\(type = /);
  });
});

describe("an author filter, read as ordered walks of the actor indexes", () => {
  // A small population where names and ids cross: "bob" is one actor's name and another's id,
  // so one entry can match two walks of one query.
  const actors = [
    { id: "usr_alice", name: "alice" },
    { id: "usr_bob", name: "bob" },
    { id: "bob", name: "robert" },
    { id: "usr_carol", name: "carol" },
    { id: "svc_deploy", name: "deploy-bot" },
  ];
  const values = ["alice", "usr_alice", "bob", "usr_bob", "robert", "carol", "usr_carol", "nobody"];
  let authorOrgId: string;
  let authorRows: AuditEntryRow[];

  beforeAll(async () => {
    authorOrgId = (
      await createOrganization(db, { slug: uniqueSlug("author-walks"), name: "A", plan: "team" })
    ).id;
    // 240 entries; every fifth shares its minute with the one before (the id breaks the tie).
    authorRows = Array.from({ length: 240 }, (_, i) => {
      const actor = actors[(i * 7 + (i >> 3)) % actors.length] as (typeof actors)[number];
      return auditEntryRow(authorOrgId, {
        id: `evt_author_${String(i).padStart(3, "0")}`,
        occurredAt: new Date(Date.UTC(2026, 4, 1, 0, i - (i % 5 === 4 ? 1 : 0))),
        actorId: actor.id,
        actorName: actor.name,
        type: i % 4 === 0 ? "repo.delete" : "repo.create",
        description: i % 6 === 0 ? `${actor.name} deployed` : `${actor.name} pushed`,
        hiddenByDefault: i % 23 === 0,
      });
    });
    await insertAuditEntries(db, authorRows);
  });

  afterAll(async () => {
    await pool.query("DELETE FROM organizations WHERE id = $1", [authorOrgId]);
  });

  /** Every page of `q`, `limit` a page, followed through the cursors. */
  async function pages(q: string, limit: number, textSearchWindow?: number) {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 300; page++) {
      const result = await listEntries(db, {
        orgId: authorOrgId,
        query: parseQueryOrThrow(q),
        limit,
        cursor: cursor ? decodeCursor(cursor) : null,
        ...(textSearchWindow ? { textSearchWindow } : {}),
      });
      ids.push(...result.entries.map((e) => e.id));
      cursor = result.nextCursor;
      if (!cursor) return ids;
    }
    throw new Error("no last page");
  }

  it("gives exactly the matching entries, newest first, once each, page after page", async () => {
    const quote = (value: string) => (value.includes("-") ? `"${value}"` : value);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 4 }),
        fc.option(fc.constantFrom("repo.create", "repo.delete"), { nil: undefined }),
        fc.option(fc.constantFrom("deployed", "pushed"), { nil: undefined }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 40 }),
        async (authors, type, text, limit, window) => {
          const q = [
            ...authors.map((a) => `author:${quote(a)}`),
            ...(type ? [`type:${type}`] : []),
            ...(text ? [text] : []),
          ].join(" ");
          const want = authorRows
            .filter(
              (r) =>
                // A type filter decides by type (these are not hidden ones), not by the flag.
                (type !== undefined || !r.hiddenByDefault) &&
                (authors.includes(r.actorName) || authors.includes(r.actorId)) &&
                (!type || r.type === type) &&
                (!text || r.description.includes(text)),
            )
            .sort(
              (a, b) =>
                b.occurredAt.getTime() - a.occurredAt.getTime() ||
                (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
            )
            .map((r) => r.id);
          expect(await pages(q, limit, window)).toEqual(want);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("walks each author value's name and id index in order, never the whole organisation", async () => {
    const { statement } = await firstStatementOf(() =>
      listEntries(db, {
        orgId: authorOrgId,
        query: parseQueryOrThrow("author:bob author:carol"),
        limit: 5,
      }),
    );
    // Nothing but index walks can answer; the only sort allowed is the merge of the walks'
    // pages (at most 4 × 6 rows here).
    await analyzePartitionOf(authorOrgId);
    const plan = await planOf(statement, ["enable_seqscan", "enable_bitmapscan"]);
    const conds = [...plan.matchAll(/"Index Cond":"([^"]*)"/g)].map((m) => m[1] ?? "");
    expect(conds.filter((c) => c.includes("(actor_name = ")).length).toBe(2);
    expect(conds.filter((c) => c.includes("(actor_id = ")).length).toBe(2);
    expect(plan).not.toContain("ANY");
  });
});

describe("streamEntries", () => {
  const base = Date.UTC(2026, 3, 1, 12, 0);
  let streamOrgId: string;
  const streamed: AuditEntryRow[] = [];

  beforeAll(async () => {
    streamOrgId = (
      await createOrganization(db, { slug: uniqueSlug("stream"), name: "S", plan: "team" })
    ).id;
    for (let i = 0; i < 20; i++) {
      streamed.push(
        auditEntryRow(streamOrgId, {
          id: `evt_stream_${String(i).padStart(2, "0")}`,
          occurredAt: new Date(base - i * 60_000),
        }),
      );
    }
    await insertAuditEntries(db, streamed);
  });
  afterAll(async () => {
    await pool.query("DELETE FROM organizations WHERE id = $1", [streamOrgId]);
  });

  /** Streams in pages of 5, committing a back-dated entry (among page 4's) after the first page. */
  async function streamWhileAnEntryArrives(snapshot: boolean, id: string): Promise<string[]> {
    const ids: string[] = [];
    let pages = 0;
    for await (const page of streamEntries(db, {
      orgId: streamOrgId,
      query: parseQueryOrThrow(""),
      max: 1000,
      batchSize: 5,
      snapshot,
    })) {
      ids.push(...page.map((row) => row.id));
      if (++pages === 1) {
        await insertAuditEntries(db, [
          auditEntryRow(streamOrgId, { id, occurredAt: new Date(base - 16 * 60_000 - 30_000) }),
        ]);
      }
    }
    return ids;
  }

  it("with snapshot, reads every page from the first page's snapshot: an entry committed meanwhile is not streamed", async () => {
    const ids = await streamWhileAnEntryArrives(true, "evt_stream_late_a");
    expect(ids).toEqual(streamed.map((row) => row.id));
  });

  it("without snapshot, each page is a query of its own that sees what was committed since (the control)", async () => {
    const ids = await streamWhileAnEntryArrives(false, "evt_stream_late_b");
    expect(ids).toContain("evt_stream_late_b");
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("with snapshot, gives its connection back, out of the transaction, when the consumer stops early", async () => {
    const singleDb = createTestDatabase();
    const single = driversOf(singleDb).pool;
    try {
      for await (const page of streamEntries(singleDb, {
        orgId: streamOrgId,
        query: parseQueryOrThrow(""),
        max: 1000,
        batchSize: 5,
        snapshot: true,
      })) {
        expect(page).toHaveLength(5);
        break; // with the next page already asked for
      }
      expect({ total: single.totalCount, idle: single.idleCount }).toEqual({ total: 1, idle: 1 });
      const { rows } = await single.query<{ isolation: string; in_transaction: boolean }>(
        `SELECT current_setting('transaction_isolation') AS isolation,
                now() <> statement_timestamp() AS in_transaction`,
      );
      expect(rows[0]).toEqual({ isolation: "read committed", in_transaction: false });
    } finally {
      await singleDb.close();
    }
  });
});
