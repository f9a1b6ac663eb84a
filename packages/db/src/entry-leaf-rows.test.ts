import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  binaryCopyHeaderLength,
  entryLineLeafHash,
  entryRowCopyLine,
  entryRowsLeafHashes,
  parseEntryLine,
} from "./entry-leaf-lines.ts";
import { copyEntryLines, copyEntryRows, setEntryLineSession } from "./entry-line-reader.ts";
import { createTestPool, prepareTestDatabase } from "./testing.ts";

// `verify`'s hashing threads read entries as binary COPY rows (`copyEntryRows`); every row must
// give what the same row gives as a text COPY line (`entryLeafColumns`, the string path): the
// same leaf hash, or the same refusal, and the same seq. The rows are written by PostgreSQL
// itself, into a session's own copy of audit_entries without its constraints, with the values
// no ingest would write too: NULLs everywhere, escapes, BC and far-future times, infinity,
// salts of the wrong length, a long kept digest (PostgreSQL breaks its base64).

const pool = createTestPool();
beforeAll(prepareTestDatabase);
afterAll(() => pool.end());

const ORG = "org_rows";

const text = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(..."abAB09 -_./:"), maxLength: 24 }) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'say "hi"',
      "a\tb",
      "two\nlines",
      "back\\slash",
      "\\N",
      "\u0001\u007f",
      "",
    ),
  },
  // PostgreSQL's text holds no NUL.
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary", maxLength: 8 }).map((t) => t.replace(/\0/g, "")),
  },
);
const nullable = fc.option(text, { nil: null, freq: 4 });
const required = fc.option(text, { nil: null, freq: 30 });

/** A timestamptz as days and microseconds from 2000-01-01 (what PostgreSQL stores), or text. */
const time = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(
      fc.integer({ min: -365_000, max: 2_900_000 }),
      fc.integer({ min: 0, max: 86_399_999_999 }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.integer({ min: -2_451_000, max: 106_000_000 }),
      fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 86_399_999_999 })),
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom("infinity", "-infinity", null) },
);

const withoutNul = (value: unknown): unknown =>
  typeof value === "string"
    ? value.replace(/\0/g, "")
    : Array.isArray(value)
      ? value.map(withoutNul)
      : value && typeof value === "object"
        ? Object.fromEntries(
            Object.entries(value).map(([k, v]) => [k.replace(/\0/g, ""), withoutNul(v)]),
          )
        : value;
const data = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.dictionary(
      fc.string({ unit: fc.constantFrom(..."abz_ "), maxLength: 5 }),
      fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.boolean(), fc.constant(null)),
      { maxKeys: 5 },
    ),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(withoutNul) },
  { weight: 1, arbitrary: fc.constant(null) },
);
const bytes = (lengths: number[]) =>
  fc.oneof(...lengths.map((n) => fc.uint8Array({ minLength: n, maxLength: n })));
const salt = fc.option(
  fc.oneof(
    { weight: 10, arbitrary: bytes([16]) },
    { weight: 1, arbitrary: bytes([0, 15, 17, 60]) },
  ),
  {
    nil: null,
    freq: 20,
  },
);
const keptDigest = fc.option(bytes([32, 57, 60]), { nil: null, freq: 1 });
const ip = fc.constantFrom(
  "192.0.2.1",
  "10.0.0.0/8",
  "2001:db8::1",
  "::ffff:1.2.3.4",
  "2a01:4f8:88a8::",
  null,
);

const row = fc.record({
  id: required,
  type: required,
  category: required,
  description: required,
  hidden: fc.option(fc.boolean(), { nil: null, freq: 30 }),
  occurred: time,
  received: time,
  actorType: required,
  actorId: required,
  actorName: required,
  avatar: nullable,
  tokenRole: nullable,
  tokenLast4: nullable,
  targetType: nullable,
  targetId: nullable,
  targetName: nullable,
  ip,
  countryCode: nullable,
  region: nullable,
  city: nullable,
  userAgent: nullable,
  oauthClientId: nullable,
  oauthName: nullable,
  data,
  salt,
  keptDigest,
});
/** Rows as ingest writes them: what the byte path is for. */
const plainText = fc.string({ unit: fc.constantFrom(...'abAB09 -_./:"é☃'), maxLength: 20 });
const plainRow = fc.record({
  id: plainText,
  type: plainText,
  category: plainText,
  description: plainText,
  hidden: fc.boolean(),
  occurred: time.filter((t) => Array.isArray(t) && t[0] > -365_000 && t[0] < 2_900_000),
  received: time.filter((t) => Array.isArray(t) && t[0] > -365_000 && t[0] < 2_900_000),
  actorType: plainText,
  actorId: plainText,
  actorName: plainText,
  avatar: fc.option(plainText, { nil: null }),
  tokenRole: fc.option(plainText, { nil: null }),
  tokenLast4: fc.option(plainText, { nil: null }),
  targetType: fc.option(plainText, { nil: null }),
  targetId: fc.option(plainText, { nil: null }),
  targetName: fc.option(plainText, { nil: null }),
  ip,
  countryCode: fc.option(plainText, { nil: null }),
  region: fc.option(plainText, { nil: null }),
  city: fc.option(plainText, { nil: null }),
  userAgent: fc.option(plainText, { nil: null }),
  oauthClientId: fc.option(plainText, { nil: null }),
  oauthName: fc.option(plainText, { nil: null }),
  data: data.filter((d) => d !== null && typeof d === "object" && !Array.isArray(d)),
  salt: bytes([16]),
  keptDigest: fc.constant(null),
});
type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;

const timeSql = (at: number) =>
  `CASE WHEN $${at}::text IS NULL THEN NULL WHEN $${at}::text LIKE '%infinity' THEN $${at}::timestamptz
    ELSE timestamptz '2000-01-01 00:00:00+00' + make_interval(days => split_part($${at}, ' ', 1)::int)
      + (split_part($${at}, ' ', 2) || ' microseconds')::interval END`;
const timeParam = (value: Row["occurred"]) =>
  value === null || typeof value === "string" ? value : `${value[0]} ${value[1]}`;

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece);
  return Buffer.concat(pieces);
}

const outcome = (compute: () => Uint8Array): string => {
  try {
    return Buffer.from(compute()).toString("hex");
  } catch {
    return "refused";
  }
};

describe("entryRowsLeafHashes and entryRowCopyLine", () => {
  it("give each binary row the seq and the leaf hash (or refusal) of its text COPY line", async () => {
    const client = await pool.connect();
    let taken = 0;
    let converted = 0;
    try {
      await client.query("BEGIN");
      await setEntryLineSession(client);
      await client.query(
        "CREATE TEMP TABLE audit_entries (LIKE public.audit_entries) ON COMMIT DROP",
      );
      const { rows: columns } = await client.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_entries' AND table_schema LIKE 'pg_temp%'",
      );
      for (const { column_name } of columns) {
        await client.query(`ALTER TABLE audit_entries ALTER COLUMN ${column_name} DROP NOT NULL`);
      }
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof({ weight: 3, arbitrary: plainRow }, { weight: 2, arbitrary: row }), {
            minLength: 1,
            maxLength: 30,
          }),
          async (rows) => {
            await client.query("TRUNCATE audit_entries");
            for (const [i, r] of rows.entries()) {
              await client.query(
                `INSERT INTO audit_entries (org_id, seq, id, type, category, description,
                 hidden_by_default, occurred_at, received_at, actor_type, actor_id, actor_name,
                 actor_avatar_url, actor_token_role, actor_token_last4, target_type, target_id,
                 target_name, ip, country_code, region, city, user_agent, oauth_client_id,
                 oauth_name, data, commit_salt, personal_digest)
               VALUES ($1, $2, $3, $4, $5, $6, $7, ${timeSql(8)}, ${timeSql(9)}, $10, $11, $12,
                 $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)`,
                [
                  ORG,
                  i + 1,
                  r.id,
                  r.type,
                  r.category,
                  r.description,
                  r.hidden,
                  timeParam(r.occurred),
                  timeParam(r.received),
                  r.actorType,
                  r.actorId,
                  r.actorName,
                  r.avatar,
                  r.tokenRole,
                  r.tokenLast4,
                  r.targetType,
                  r.targetId,
                  r.targetName,
                  r.ip,
                  r.countryCode,
                  r.region,
                  r.city,
                  r.userAgent,
                  r.oauthClientId,
                  r.oauthName,
                  r.data === null ? null : JSON.stringify(r.data),
                  r.salt === null ? null : Buffer.from(r.salt),
                  r.keptDigest === null ? null : Buffer.from(r.keptDigest),
                ],
              );
            }
            const lines = (await readAll(copyEntryLines(client, ORG, 1, rows.length)))
              .toString("utf8")
              .split("\n")
              .slice(0, -1);
            const binary = await readAll(copyEntryRows(client, ORG, 1, rows.length));
            const header = binaryCopyHeaderLength(binary) as number;
            expect(header).toBe(19);
            const body = binary.subarray(header);
            // In one call, then in pieces cut anywhere with small chunks: the same rows.
            const whole = entryRowsLeafHashes(ORG, body, true);
            expect(whole.trailer).toBe(true);
            expect(whole.consumed).toBe(body.length);
            expect(whole.count).toBe(rows.length);
            expect([...whole.seqs]).toEqual(rows.map((_, i) => i + 1));
            const handedBack = new Map<number, [number, number]>();
            for (let n = 0; n < whole.notTaken.length; n += 3) {
              handedBack.set(whole.notTaken[n] as number, [
                whole.notTaken[n + 1] as number,
                whole.notTaken[n + 2] as number,
              ]);
            }
            lines.forEach((line, i) => {
              const expected = outcome(() => entryLineLeafHash(ORG, line));
              const back = handedBack.get(i);
              if (back) {
                converted++;
                const rowLine = entryRowCopyLine(body, back[0], back[1]);
                expect(outcome(() => entryLineLeafHash(ORG, rowLine))).toBe(expected);
                let parsed: unknown;
                try {
                  parsed = parseEntryLine(line);
                } catch {
                  parsed = "refused";
                }
                expect(
                  (() => {
                    try {
                      return parseEntryLine(rowLine);
                    } catch {
                      return "refused";
                    }
                  })(),
                ).toEqual(parsed);
              } else {
                taken++;
                expect(
                  Buffer.from(whole.hashes.subarray(32 * i, 32 * i + 32)).toString("hex"),
                ).toBe(expected);
              }
            });
            let given = 0;
            let pending = 0;
            let end = 1;
            const seqs: number[] = [];
            for (let calls = 0; given < rows.length || pending < body.length; calls++) {
              expect(calls).toBeLessThan(100_000);
              const piece = entryRowsLeafHashes(
                ORG,
                body.subarray(pending, end),
                end === body.length,
              );
              for (let i = 0; i < piece.count; i++) {
                seqs.push(piece.seqs[i] as number);
                if (!handedBack.has(given + i)) {
                  expect(piece.hashes.subarray(32 * i, 32 * i + 32)).toEqual(
                    whole.hashes.subarray(32 * (given + i), 32 * (given + i) + 32),
                  );
                }
              }
              given += piece.count;
              pending += piece.consumed;
              if (piece.count === 0 && !piece.trailer) end = Math.min(body.length, end + 97);
            }
            expect(seqs).toEqual(rows.map((_, i) => i + 1));
          },
        ),
        { numRuns: 100 },
      );
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
    console.log(`binary rows: ${taken} taken by the byte path, ${converted} as text lines`);
    expect(taken).toBeGreaterThan(200);
    expect(converted).toBeGreaterThan(100);
  });

  it("cuts a chunk before its last row that starts a tile, unless it is the COPY's last", async () => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await setEntryLineSession(client);
      await client.query(
        "CREATE TEMP TABLE audit_entries (LIKE public.audit_entries) ON COMMIT DROP",
      );
      await client.query(
        `INSERT INTO audit_entries (org_id, seq, id, type, category, description,
           hidden_by_default, occurred_at, received_at, actor_type, actor_id, actor_name, data,
           commit_salt, stored_at)
         SELECT $1, n, 'evt_' || n, 'repo.create', 'content', 'made ' || n, false,
           timestamptz '2026-01-02 03:04:05+00' + n * interval '1 ms', now(), 'user', 'u1',
           'name', '{"n": 1}', '\\x00112233445566778899aabbccddeeff'::bytea, now()
         FROM generate_series(1, 1000) AS n`,
        [ORG],
      );
      const binary = await readAll(copyEntryRows(client, ORG, 1, 1000));
      const body = binary.subarray(binaryCopyHeaderLength(binary) as number);
      const first = entryRowsLeafHashes(ORG, body, false);
      // Seqs 1 … 768: three whole tiles; 769 starts the fourth, which comes with the next bytes.
      expect(first.count).toBe(768);
      expect(first.trailer).toBe(false);
      expect(first.notTaken).toEqual([]);
      const rest = entryRowsLeafHashes(ORG, body.subarray(first.consumed), false);
      // No tile starts after this chunk's first row: every whole row, and the trailer.
      expect(rest.count).toBe(232);
      expect(rest.trailer).toBe(true);
      expect(first.consumed + rest.consumed).toBe(body.length);
      expect([...first.seqs, ...rest.seqs]).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      const all = entryRowsLeafHashes(ORG, body, true);
      expect(all.count).toBe(1000);
      expect(Buffer.concat([first.hashes, rest.hashes])).toEqual(Buffer.from(all.hashes));
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });
});
