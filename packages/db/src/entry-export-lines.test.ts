import { text } from "node:stream/consumers";
import { parseQuery } from "@auditlog/events";
import fc from "fast-check";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrganization } from "./accounts.ts";
import { CopyOutLines } from "./copy-out-lines.ts";
import { driversOf } from "./database.ts";
import { renderEntryExportLines } from "./entry-export-lines.ts";
import {
  entryLinesSelectSql,
  openEntryJsonStream,
  rawLinesCopyOptions,
} from "./entry-export-stream.ts";
import { entryLeafColumns } from "./entry-leaf-lines.ts";
import { setEntryLineSession } from "./entry-line-reader.ts";
import { createTestDatabase, prepareTestDatabase, uniqueSlug } from "./testing.ts";

// The export lines rendered here from COPY text (`EntryExportLines`) against PostgreSQL's own
// rendering (`entryLinesSelectSql`, the path exports took before, kept as the reference): the
// same bytes for every row, with the awkward values each column can hold.

const db = createTestDatabase();
const pool = driversOf(db).pool;

/** Text PostgreSQL can hold (no NUL), with the bytes JSON, COPY and CSV each escape. */
const awkwardText = fc
  .oneof(
    { weight: 6, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
    { weight: 3, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 20 }) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "",
        "\\N",
        "\\",
        "\\\\N",
        'a "quoted" \\ back\\slash',
        "tab\there",
        "line\nbreak\r\n",
        "\b\f\u000b\u0001\u0002\u001f\u007f",
        "中文 😀 é",
        "\u2028\u2029",
        "a\tb\\tc",
        '=HYPERLINK("x")',
        "    ",
        "x".repeat(200),
      ),
    },
  )
  .map((s) => s.replaceAll("\u0000", "\ufffd").replace(/\p{Cs}/gu, "\ufffd"));
const nullable = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: null, freq: 3 });

const pad = (n: number, width: number) => String(n).padStart(width, "0");
/** timestamptz input: AD and BC years, beyond 9999, offsets, every fraction length, infinity. */
const time = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        year: fc.oneof(
          fc.integer({ min: 1970, max: 2100 }),
          fc.integer({ min: 1, max: 9999 }),
          fc.integer({ min: 10000, max: 294275 }),
        ),
        month: fc.integer({ min: 1, max: 12 }),
        day: fc.integer({ min: 1, max: 28 }),
        seconds: fc.integer({ min: 0, max: 86399 }),
        fraction: fc.oneof(fc.constant(""), fc.stringMatching(/^[0-9]{1,6}$/)),
        offset: fc.constantFrom("+00", "Z", "+02", "-05:30", "+14"),
        bc: fc.boolean(),
      })
      .map((t) => {
        const hms = `${pad(Math.floor(t.seconds / 3600), 2)}:${pad(Math.floor(t.seconds / 60) % 60, 2)}:${pad(t.seconds % 60, 2)}`;
        const year = t.bc ? Math.min(t.year, 4713) : t.year;
        return `${pad(year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)} ${hms}${t.fraction ? `.${t.fraction}` : ""}${t.offset}${t.bc ? " BC" : ""}`;
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "infinity",
      "-infinity",
      "0001-01-01 00:00:00+00",
      "0001-01-01 00:00:00+00 BC",
      "4713-01-01 00:00:00+00 BC",
      "294276-12-31 23:59:59.999999+00",
      "2026-03-01 12:08:59.999999+00",
      "2026-03-01 12:09:00.000501+00",
      "2026-03-01 12:09:00.1+00",
    ),
  },
);

/** jsonb text: numbers as written (exponents, -0, more digits than a double), nesting, escapes. */
const numberText = fc.oneof(
  fc.constantFrom(
    "1e100",
    "1E+2",
    "-1.5e-10",
    "0.1",
    "-0",
    "0.000",
    "1.0",
    "123456789012345678901234567890",
    "-9007199254740993",
    "1e-400",
  ),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
);
const { json: jsonText } = fc.letrec<{ json: string; object: string }>((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    numberText,
    awkwardText.map((s) => JSON.stringify(s)),
    fc.constantFrom("true", "false", "null", "{}", "[]", '"\\u0001\\/\\u00e9"'),
    fc.array(tie("json"), { maxLength: 4 }).map((items) => `[${items.join(", ")}]`),
    tie("object"),
  ),
  object: fc
    .array(fc.tuple(awkwardText, tie("json")), { maxLength: 5 })
    .map(
      (members) =>
        `{${members.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`,
    ),
}));
const data = fc.oneof(
  { weight: 6, arbitrary: jsonText },
  { weight: 1, arbitrary: fc.constant(null) },
);

const bytes = (length: number) =>
  fc.uint8Array({ minLength: length, maxLength: length }).map((b) => Buffer.from(b));

/** One row of every column `entryLeafColumns` reads; any of them NULL in the scratch table. */
const row = fc.record({
  seq: fc.option(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), { nil: null, freq: 20 }),
  id: nullable(awkwardText),
  type: nullable(fc.oneof(awkwardText, fc.constantFrom("org.audit_log.export", "repo.create"))),
  category: nullable(awkwardText),
  description: nullable(awkwardText),
  hidden_by_default: fc.option(fc.boolean(), { nil: null, freq: 10 }),
  occurred_at: fc.option(time, { nil: null, freq: 10 }),
  received_at: fc.option(time, { nil: null, freq: 10 }),
  actor_type: nullable(fc.oneof(fc.constantFrom("user", "token", "system"), awkwardText)),
  actor_id: nullable(awkwardText),
  actor_name: nullable(awkwardText),
  actor_avatar_url: nullable(awkwardText),
  actor_token_role: nullable(awkwardText),
  actor_token_last4: nullable(awkwardText),
  target_type: nullable(awkwardText),
  target_id: nullable(awkwardText),
  target_name: nullable(awkwardText),
  ip: nullable(
    fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.constantFrom("10.0.0.0/8", "2001:db8::/32", "::ffff:1.2.3.4", "0.0.0.0", "::"),
    ),
  ),
  country_code: nullable(fc.oneof(awkwardText, fc.constantFrom("", "FR", "US"))),
  region: nullable(fc.oneof(awkwardText, fc.constantFrom("", "Île-de-France"))),
  city: nullable(fc.oneof(awkwardText, fc.constantFrom("", "Paris"))),
  user_agent: nullable(awkwardText),
  oauth_client_id: nullable(fc.oneof(awkwardText, fc.constantFrom("", "oauth_1"))),
  oauth_name: nullable(awkwardText),
  data,
  // Salt or kept digest as stored (issue 16), neither, both, and lengths whose base64 COPY
  // splits into lines (more than 57 bytes), which the CSV mode then quotes.
  commit_salt: fc.option(fc.oneof(bytes(16), bytes(0), bytes(58), bytes(100)), {
    nil: null,
    freq: 3,
  }),
  personal_digest: fc.option(fc.oneof(bytes(32), bytes(60)), { nil: null, freq: 2 }),
});
type Row = typeof row extends fc.Arbitrary<infer R> ? R : never;
const columns = Object.keys(fc.sample(row, 1)[0] as Row) as (keyof Row)[];

async function copyBytes(client: pg.PoolClient, sql: string): Promise<Buffer> {
  const copy = client.query(
    new CopyOutLines(sql) as unknown as pg.Submittable,
  ) as unknown as CopyOutLines;
  const chunks: Buffer[] = [];
  for await (const chunk of copy as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  await prepareTestDatabase();
});

afterAll(async () => {
  await db.close();
});

describe("renderEntryExportLines", () => {
  it("writes PostgreSQL's export lines byte for byte, for any row of the columns", async () => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await setEntryLineSession(client);
      // No constraint but the types: every column's NULL, any lengths of salt and digest.
      await client.query(
        "CREATE TEMP TABLE export_rows ON COMMIT DROP AS SELECT * FROM audit_entries LIMIT 0",
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(row, { minLength: 1, maxLength: 8 }),
          fc.constantFrom("" as const, "," as const),
          fc.boolean(),
          async (rows, lineEnd, lineDigest) => {
            await client.query("TRUNCATE export_rows");
            for (const [i, r] of rows.entries()) {
              await client.query(
                `INSERT INTO export_rows (org_id, stored_at, ${columns.join(", ")})
                 VALUES ('org', now(), ${columns.map((_, k) => `$${k + 1}`).join(", ")})`,
                columns.map((c) => {
                  const value = r[c];
                  if (c === "id" && value !== null) return `${value}#${i}`;
                  return typeof value === "bigint" ? value.toString() : value;
                }),
              );
            }
            const order = "ORDER BY occurred_at DESC NULLS LAST, id DESC NULLS LAST";
            const expected = await copyBytes(
              client,
              `COPY (${entryLinesSelectSql({ lineEnd, lineDigest }, "export_rows")} ${order})
                TO STDOUT ${rawLinesCopyOptions}`,
            );
            const input = await copyBytes(
              client,
              `COPY (SELECT ${entryLeafColumns} FROM export_rows ${order}) TO STDOUT`,
            );
            const actual = renderEntryExportLines(input, { lineEnd, lineDigest });
            expect(actual.toString("latin1")).toBe(expected.toString("latin1"));
          },
        ),
        { numRuns: 300 },
      );
    } finally {
      await client.query("ROLLBACK").catch(() => {});
      client.release();
    }
  });
});

/** Rows `audit_entries` accepts: its NOT NULLs and checks hold. */
const storedRow = fc
  .tuple(
    row,
    fc.record({
      id: awkwardText,
      type: fc.oneof(awkwardText, fc.constantFrom("org.audit_log.export", "repo.create")),
      category: awkwardText,
      description: awkwardText,
      hidden_by_default: fc.boolean(),
      occurred_at: time,
      received_at: time,
      actor_type: fc.constantFrom("user", "token", "system"),
      actor_id: awkwardText,
      actor_name: awkwardText,
      data: jsonText,
      erased: fc.boolean(),
      salt: bytes(16),
      digest: bytes(32),
    }),
  )
  .map(([r, stored]) => {
    const { erased, salt, digest, ...columns } = stored;
    return {
      ...r,
      ...columns,
      // An erased entry (issue 16) keeps its personal digest, and no salt.
      commit_salt: erased ? null : salt,
      personal_digest: erased ? digest : null,
    };
  });

async function streamBytes(
  orgId: string,
  query: string,
  options: { lineEnd: "" | ","; lineDigest: boolean; limit?: number },
  renderer: "postgres" | "node",
): Promise<string> {
  const parsed = parseQuery(query);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const entries = await openEntryJsonStream(db, {
    orgId,
    query: parsed.query,
    options: { includeHidden: true },
    ...options,
    renderer,
  });
  try {
    const body = await text(entries.stream);
    await entries.release(false);
    return body;
  } catch (error) {
    await entries.release(true);
    throw error;
  }
}

describe("openEntryJsonStream rendering in this process", () => {
  it("streams the bytes PostgreSQL's rendering streams, with filters and limits", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(storedRow, { minLength: 0, maxLength: 6 }),
        fc.constantFrom("", "type:repo.create", "-type:repo.create"),
        fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
        async (rows, query, limit) => {
          const org = await createOrganization(db, {
            slug: uniqueSlug("export-lines"),
            name: "Export lines",
            plan: "enterprise",
          });
          for (const [i, r] of rows.entries()) {
            await pool.query(
              `INSERT INTO audit_entries (org_id, ${columns.join(", ")})
               VALUES ($1, ${columns.map((_, k) => `$${k + 2}`).join(", ")})`,
              [
                org.id,
                ...columns.map((c) => {
                  if (c === "seq") return i + 1;
                  if (c === "id") return `${r.id}#${i}`;
                  return r[c];
                }),
              ],
            );
          }
          for (const lineEnd of ["", ","] as const) {
            for (const lineDigest of [false, true]) {
              const options = { lineEnd, lineDigest, ...(limit === undefined ? {} : { limit }) };
              const expected = await streamBytes(org.id, query, options, "postgres");
              const actual = await streamBytes(org.id, query, options, "node");
              expect(actual).toBe(expected);
            }
          }
          await pool.query("DELETE FROM organizations WHERE id = $1", [org.id]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses the hub shape, which PostgreSQL renders", async () => {
    const parsed = parseQuery("");
    if (!parsed.ok) throw new Error("empty query");
    await expect(
      openEntryJsonStream(db, {
        orgId: "org_none",
        query: parsed.query,
        shape: "hub",
        renderer: "node",
      }),
    ).rejects.toThrow(/hub shape/);
  });
});
