import { buildEntryFilter, type Database, facetSql } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { createTestDatabase } from "@auditlog/db/testing";
import {
  type AuditFacets,
  type AuditSuggestions,
  emptyQuery,
  facetScanLimit,
  facetsSchema,
  parseQueryOrThrow,
  suggestionsSchema,
} from "@auditlog/events";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  getJson,
  insertRows,
  startTestApi,
} from "./support/test-stack.ts";

interface ErrorJson {
  error: {
    code: string;
    message: string;
    details?: { path: string; message: string; position?: number; token?: string }[];
  };
}

const minute = 60_000;
const base = Date.parse("2026-03-01T00:00:00Z");
const at = (ms: number) => new Date(base + ms);

let stack: Awaited<ReturnType<typeof startTestApi>>;
let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
let other: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
let admin: string;
let reader: string;

beforeAll(async () => {
  stack = await startTestApi();
  org = (await createOrgWithKey("team", "facets")).org;
  other = (await createOrgWithKey("team", "facets-other")).org;
  admin = (await createMemberWithToken(org.slug, "admin")).token;
  reader = (await createMemberWithToken(org.slug, "write")).token;
  const zoe = { actorName: "Zoë Martin", actorId: "usr_zoe" };
  const bob = { actorName: "bob", actorId: "usr_bob" };
  await insertRows([
    // alice (entryRow's default actor): 3 repo.create on acme/bert from FR.
    ...[1, 2, 3].map((i) => entryRow(org.id, { occurredAt: at(i * minute) })),
    // Zoë: 2 role changes, from DE, target a user whose name differs from its id.
    ...[4, 5].map((i) =>
      entryRow(org.id, {
        ...zoe,
        occurredAt: at(i * minute),
        type: "org.change_role",
        category: "membership",
        targetType: "user",
        targetId: "usr_carol",
        targetName: "carol",
        countryCode: "DE",
        ip: "198.51.100.0",
      }),
    ),
    // bob: 1 repo.delete, no target, no location.
    entryRow(org.id, {
      ...bob,
      occurredAt: at(6 * minute),
      type: "repo.delete",
      targetType: null,
      targetId: null,
      targetName: null,
      countryCode: null,
      ip: null,
    }),
    // Hidden by default: not counted unless asked.
    entryRow(org.id, {
      occurredAt: at(7 * minute),
      type: "org.audit_log.export",
      category: "audit_log",
      hiddenByDefault: true,
    }),
  ]);
  // Another organisation's entries never count, nor are suggested.
  await insertRows([
    entryRow(other.id, { actorName: "Zoltan", actorId: "usr_zoltan", occurredAt: at(minute) }),
  ]);
});
afterAll(() => stack.services.close());

const facets = (query: string, token: string | null = admin) =>
  getJson<AuditFacets & ErrorJson>(
    stack.app,
    `/v1/orgs/${org.slug}/audit-logs/facets${query}`,
    token,
  );
const suggestions = (query: string, token: string | null = admin) =>
  getJson<AuditSuggestions & ErrorJson>(
    stack.app,
    `/v1/orgs/${org.slug}/audit-logs/suggestions${query}`,
    token,
  );

describe("GET /v1/orgs/:org/audit-logs/facets", () => {
  it("counts each facet's values for the whole log, most frequent first", async () => {
    const { status, body } = await facets("");
    expect(status).toBe(200);
    expect(facetsSchema.parse(body)).toEqual({
      facets: {
        actor: [
          { value: "alice", count: 3 },
          { value: "Zoë Martin", count: 2 },
          { value: "bob", count: 1 },
        ],
        type: [
          { value: "repo.create", count: 3 },
          { value: "org.change_role", count: 2 },
          { value: "repo.delete", count: 1 },
        ],
        category: [
          { value: "content", count: 4 },
          { value: "membership", count: 2 },
        ],
        country: [
          { value: "FR", count: 3 },
          { value: "DE", count: 2 },
        ],
        target: [
          { value: "acme/bert", count: 3 },
          { value: "usr_carol", label: "carol", count: 2 },
        ],
      },
      distinct: { actor: 3, type: 3, category: 2, country: 2, target: 2 },
      counted: 6,
      complete: true,
    });
  });

  it("applies q, the filter parameters and includeHidden exactly as the list does", async () => {
    const q = encodeURIComponent("-author:alice type:repo.* ");
    const byQ = await facets(`?q=${q}`);
    expect(byQ.body.facets.actor).toEqual([{ value: "bob", count: 1 }]);
    expect(byQ.body.counted).toBe(1);

    const byParams = await facets(
      `?type=org.change_role&from=${at(5 * minute).toISOString()}&to=${at(10 * minute).toISOString()}`,
    );
    expect(byParams.body.facets.actor).toEqual([{ value: "Zoë Martin", count: 1 }]);

    const hidden = await facets("?includeHidden=true");
    expect(hidden.body.facets.category).toContainEqual({ value: "audit_log", count: 1 });
    expect(hidden.body.counted).toBe(7);

    const top1 = await facets("?limit=1");
    expect(top1.body.facets.actor).toEqual([{ value: "alice", count: 3 }]);
    expect(top1.body.distinct.actor).toBe(3);
  });

  it("answers 400 naming the field for bad parameters, with the position for q", async () => {
    const unsupported = await facets(`?q=${encodeURIComponent("(type:repo.create OR")}`);
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.error.code).toBe("bad_request");
    expect(unsupported.body.error.details?.[0]).toMatchObject({
      path: "q",
      position: 0,
      token: "(type:repo.create",
    });
    const dangling = await facets(`?q=${encodeURIComponent("type:repo.create OR")}`);
    expect(dangling.body.error.details?.[0]).toMatchObject({
      path: "q",
      position: 17,
      token: "OR",
    });
    for (const [query, path] of [
      ["?limit=0", "limit"],
      ["?limit=51", "limit"],
      ["?from=yesterday", "from"],
      ["?type=repo.explode", "type"],
      ["?includeHidden=yes", "includeHidden"],
    ] as const) {
      const { status, body } = await facets(query);
      expect(status, query).toBe(400);
      expect(body.error.details?.map((detail) => detail.path)).toEqual([path]);
    }
  });

  it("answers any q with facets or a 400 naming q at a position inside it (fast-check)", async () => {
    const piece = fc.oneof(
      fc.constantFrom(
        "author:",
        "-type:",
        "type:repo.*",
        "(",
        ")",
        "OR",
        "AND",
        "NOT",
        "||",
        '"',
        "\\",
        "-",
        ":",
        " ",
      ),
      fc.string({ maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 12 }).map((parts) => parts.join("")),
        async (q) => {
          const { status, body } = await facets(`?q=${encodeURIComponent(q)}`);
          if (status === 200) return;
          expect(status).toBe(400);
          const detail = body.error.details?.[0];
          expect(detail?.path).toBe("q");
          // The position and token point into q exactly as sent.
          const position = detail?.position ?? -1;
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(q.length);
          expect(q.slice(position, position + (detail?.token?.length ?? 0))).toBe(detail?.token);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("is for the organisation's admins only, by session or token, like the list", async () => {
    expect((await facets("", reader)).status).toBe(403);
    expect((await facets("", null)).status).toBe(401);
    // An admin of another organisation is told what the list tells them: no such organisation.
    const outsider = (await createMemberWithToken(other.slug, "admin")).token;
    const list = await getJson(stack.app, `/v1/orgs/${org.slug}/audit-logs`, outsider);
    expect(list.status).toBe(404);
    expect((await facets("", outsider)).status).toBe(404);
  });
});

describe("GET /v1/orgs/:org/audit-logs/suggestions", () => {
  it("finds authors ignoring accents and case, at the start of any word", async () => {
    for (const prefix of ["zo", "ZOE", "zoë", "mart"]) {
      const { status, body } = await suggestions(
        `?key=author&prefix=${encodeURIComponent(prefix)}`,
      );
      expect(status, prefix).toBe(200);
      expect(suggestionsSchema.parse(body), prefix).toEqual({
        key: "author",
        values: [{ value: "Zoë Martin" }],
      });
    }
    const all = await suggestions("?key=author");
    expect(all.body.values.map((v) => v.value).sort()).toEqual(["Zoë Martin", "alice", "bob"]);
  });

  it("suggests targets by id or name, and IP addresses by prefix", async () => {
    const byName = await suggestions("?key=target&prefix=car");
    expect(byName.body.values).toEqual([{ value: "usr_carol", label: "carol" }]);
    const byId = await suggestions("?key=target&prefix=acme");
    expect(byId.body.values).toEqual([{ value: "acme/bert" }]);
    const ip = await suggestions("?key=ip&prefix=198.51");
    expect(ip.body.values).toEqual([{ value: "198.51.100.0" }]);
  });

  it("answers 400 naming key, prefix or limit, and follows the list's access rule", async () => {
    for (const [query, path] of [
      ["", "key"],
      ["?key=country", "key"],
      [`?key=author&prefix=${"x".repeat(201)}`, "prefix"],
      ["?key=author&limit=100", "limit"],
    ] as const) {
      const { status, body } = await suggestions(query);
      expect(status, query).toBe(400);
      expect(body.error.details?.map((detail) => detail.path)).toEqual([path]);
    }
    expect((await suggestions("?key=author", reader)).status).toBe(403);
    expect((await suggestions("?key=author", null)).status).toBe(401);
  });
});

/**
 * A sizeable organisation (200,000 entries over a year, 30 actors, 117 types, 20 countries,
 * 2,000 targets), seeded in SQL: the facet query's plan and time are printed for the filters the
 * console sends. Figures are printed, not asserted (timings on a shared machine flake); the test
 * asserts the counts against a plain GROUP BY and that the plan reads the org's own partition
 * through an index, never a scan of the whole table.
 */
describe("facets on a sizeable organisation", () => {
  const size = 200_000;
  let db: Database;
  let big: Awaited<ReturnType<typeof createOrgWithKey>>["org"];

  beforeAll(async () => {
    db = createTestDatabase();
    big = (await createOrgWithKey("team", "facets-big")).org;
    const { pool } = driversOf(db);
    const started = performance.now();
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("INSERT INTO audit_log_heads (org_id, size) VALUES ($1, $2)", [
        big.id,
        size,
      ]);
      await client.query(
        `INSERT INTO audit_entries (org_id, id, type, category, occurred_at, received_at,
           actor_type, actor_id, actor_name, target_type, target_id, target_name, description,
           ip, country_code, seq)
         SELECT $1, 'evt_big_' || i, t.type, t.category, ts, ts, 'user', 'usr_' || (i % 30),
                'actor ' || (i % 30), 'model', 'acme/m' || (i % 2000), 'acme/m' || (i % 2000),
                'x', ('10.0.' || (i % 250) || '.0')::inet,
                (ARRAY['FR','DE','US','GB','JP','BR','IN','CN','ES','IT','NL','SE','PL','CA',
                       'AU','KR','MX','CH','BE','AT'])[1 + i % 20], i
         FROM generate_series(1, $2::int) i
         CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01' + i * interval '157 seconds') x(ts)
         CROSS JOIN LATERAL (
           SELECT (ARRAY['repo.create','repo.delete','org.change_role','org.invite_member',
                         'billing.update_payment_method'])[1 + (hashint4(i) & 1023) % 5],
                  (ARRAY['content','content','membership','membership','billing'])
                    [1 + (hashint4(i) & 1023) % 5]
         ) t(type, category)`,
        [big.id, size],
      );
      await client.query("COMMIT");
      await client.query("ANALYZE audit_entries");
    } finally {
      client.release();
    }
    console.log(
      `facets: seeded ${size.toLocaleString("en")} entries in ${Math.round(performance.now() - started)} ms`,
    );
  }, 180_000);
  afterAll(() => db.close());

  /** The filter, and the index its matching entries must be read through (null: planner's pick). */
  const cases: [string, string, string | null][] = [
    ["no filter (the whole log, capped)", "", "occurred_at_id_idx"],
    ["30 days", "created:>=2026-11-01", null],
    ["one author", 'author:"actor 7"', "actor_name_occurred_at_id_idx"],
    // A type and a date: the type index or the time index with a filter are both fair plans,
    // and which one PostgreSQL picks moves with its statistics (CI saw both).
    ["one type", "type:repo.create created:>=2026-06-01", null],
    ["one country, excluding a category", "country:FR -category:billing", null],
  ];

  it.each(cases)(
    "%s: counts match a plain GROUP BY; plan and time printed",
    async (name, q, index) => {
      const admin = (await createMemberWithToken(big.slug, "admin", db)).token;
      const url = `/v1/orgs/${big.slug}/audit-logs/facets${q ? `?q=${encodeURIComponent(q)}` : ""}`;
      await getJson(stack.app, url, admin); // warm: the first request also loads caches
      const started = performance.now();
      const { status, body } = await getJson<AuditFacets>(stack.app, url, admin);
      const ms = performance.now() - started;
      expect(status).toBe(200);

      const query = q ? parseQueryOrThrow(q) : emptyQuery();
      const sql = facetSql({ orgId: big.id, query, limit: 10, scanLimit: facetScanLimit });
      const { pool } = driversOf(db);
      const plan = await pool.query<{ "QUERY PLAN": string }>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${sql.text}`,
        sql.values,
      );
      const planText = plan.rows.map((row) => row["QUERY PLAN"]).join("\n");
      console.log(
        `facets [${name}] q=${JSON.stringify(q)}: ${ms.toFixed(1)} ms through the API, ` +
          `${body.counted.toLocaleString("en")} entries counted (complete: ${body.complete})\n${planText}`,
      );
      // One partition only, whatever the plan; where an index serves the filter, it is used.
      expect(new Set(planText.match(/audit_entries_p\d+/g)).size).toBe(1);
      if (index) {
        expect(planText).toMatch(
          new RegExp(
            `(Index (Only )?Scan( Backward)? using|Bitmap Index Scan on) audit_entries_p\\d+_org_id_${index} `,
          ),
        );
      }

      // The counts are exactly those of a plain GROUP BY over the same newest entries.
      const filter = buildEntryFilter(big.id, query);
      const reference = await pool.query<{ value: string; count: number }>(
        `SELECT actor_name AS value, count(*)::int AS count FROM (
         SELECT actor_name FROM audit_entries WHERE ${filter.where}
         ORDER BY occurred_at DESC, id DESC LIMIT ${facetScanLimit}) s
       GROUP BY 1 ORDER BY count DESC, value LIMIT 10`,
        filter.params.values,
      );
      expect(body.facets.actor).toEqual(reference.rows);
      expect(body.facets.actor.length).toBeGreaterThan(0);
      const total = Object.values(body.facets.category).reduce((sum, v) => sum + v.count, 0);
      expect(total).toBe(body.counted);
      expect(body.complete).toBe(body.counted < facetScanLimit);
    },
  );
});
