import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrganization } from "./accounts.ts";
import { driversOf } from "./database.ts";
import {
  type AuditEntryRow,
  insertAuditEntries,
  insertAuditEntriesSettingAsideRefused,
  writeAuditEntries,
} from "./entries.ts";
import { auditEntryRow, createTestDatabase, prepareTestDatabase, uniqueSlug } from "./testing.ts";

const db = createTestDatabase();
const pool = driversOf(db).pool;
let orgId: string;

function row(id: string, overrides: Partial<AuditEntryRow> = {}): AuditEntryRow {
  return auditEntryRow(orgId, {
    id,
    type: "billing.update_payment_method",
    category: "billing",
    hiddenByDefault: false,
    occurredAt: new Date("2026-05-01T10:00:00.123Z"),
    receivedAt: new Date("2026-05-01T10:00:01.456Z"),
    actorType: "token",
    actorId: "tok_1",
    actorName: "ci-token",
    actorAvatarUrl: "https://example.com/a.png",
    actorTokenRole: "write",
    actorTokenLast4: "9f3a",
    targetType: "org",
    targetId: "org_1",
    targetName: "Acme",
    description: 'ci-token changed the "card", 中文 😀',
    ip: "2001:db8:85a3::",
    countryCode: "DE",
    region: "Bavaria",
    city: "Munich",
    userAgent: "curl/8",
    oauthClientId: "oauth_1",
    oauthName: "CI",
    data: { last4: "4242", nested: { list: [1, 2.5, null, true] } },

    ...overrides,
  });
}

const orgIds: string[] = [];

/** Each suite gets an organisation of its own, so the same entry ids can be reused. */
async function useNewOrganization(): Promise<void> {
  orgId = (await createOrganization(db, { slug: uniqueSlug("entries"), name: "E", plan: "team" }))
    .id;
  orgIds.push(orgId);
}

beforeAll(async () => {
  await prepareTestDatabase();
});

afterAll(async () => {
  await pool.query("DELETE FROM organizations WHERE id = ANY($1)", [orgIds]);
  await db.close();
});

const columnsSql = `id, type, category, hidden_by_default, occurred_at, received_at, actor_type,
  actor_id, actor_name, actor_avatar_url, actor_token_role, actor_token_last4, target_type,
  target_id, target_name, description, host(ip) AS ip, country_code, region, city,
  user_agent, oauth_client_id, oauth_name, data`;

describe.each([
  ["insertAuditEntries", insertAuditEntries],
  [
    "writeAuditEntries (COPY, then INSERT … ON CONFLICT for a batch holding a stored entry)",
    writeAuditEntries,
  ],
])("%s", (_name, write) => {
  beforeAll(useNewOrganization);

  it("stores every column as given, and skips rows already stored", async () => {
    const full = row("evt_full");
    const sparse = row("evt_sparse", {
      actorAvatarUrl: null,
      actorTokenRole: null,
      actorTokenLast4: null,
      targetType: null,
      targetId: null,
      targetName: null,
      ip: null,
      countryCode: null,
      region: null,
      city: null,
      userAgent: null,
      oauthClientId: null,
      oauthName: null,
      data: undefined,
      hiddenByDefault: true,
    });
    expect(await write(db, [full, sparse])).toBe(2);
    expect(await write(db, [full, row("evt_new")])).toBe(1);

    const { rows } = await pool.query(
      `SELECT ${columnsSql} FROM audit_entries WHERE org_id = $1 ORDER BY id`,
      [orgId],
    );
    expect(rows.map((r) => r.id)).toEqual(["evt_full", "evt_new", "evt_sparse"]);
    expect(rows[0]).toEqual({
      id: "evt_full",
      type: full.type,
      category: full.category,
      hidden_by_default: false,
      occurred_at: full.occurredAt,
      received_at: full.receivedAt,
      actor_type: "token",
      actor_id: "tok_1",
      actor_name: "ci-token",
      actor_avatar_url: full.actorAvatarUrl,
      actor_token_role: "write",
      actor_token_last4: "9f3a",
      target_type: "org",
      target_id: "org_1",
      target_name: "Acme",
      description: full.description,
      ip: "2001:db8:85a3::",
      country_code: "DE",
      region: "Bavaria",
      city: "Munich",
      user_agent: "curl/8",
      oauth_client_id: "oauth_1",
      oauth_name: "CI",
      data: full.data,
    });
    expect(rows[2]).toMatchObject({
      hidden_by_default: true,
      actor_avatar_url: null,
      target_id: null,
      ip: null,
      country_code: null,
      oauth_name: null,
      data: {},
    });
  });

  it("stores text holding a lone surrogate, with U+FFFD in its place, instead of failing the batch", async () => {
    const inserted = await write(db, [
      row("evt_surrogate", { description: "bad \ud800 text", data: { note: "x\udc00" } }),
      row("evt_fine_neighbour"),
    ]);
    expect(inserted).toBe(2);
    const { rows } = await pool.query(
      "SELECT description, data FROM audit_entries WHERE org_id = $1 AND id = 'evt_surrogate'",
      [orgId],
    );
    expect(rows[0]).toEqual({ description: "bad \ufffd text", data: { note: "x\ufffd" } });
  });

  it("stores a batch that repeats an entry once, and reports a bad value without losing the connection", async () => {
    expect(await write(db, [row("evt_twice"), row("evt_twice")])).toBe(1);
    expect(await write(db, [row("evt_twice"), row("evt_once_more")])).toBe(1);
    await expect(write(db, [row("evt_bad_ip", { ip: "not-an-address" })])).rejects.toMatchObject({
      code: "22P02",
    });
    const stored = await pool.query(
      "SELECT id FROM audit_entries WHERE org_id = $1 AND id IN ('evt_twice', 'evt_once_more', 'evt_bad_ip') ORDER BY id",
      [orgId],
    );
    expect(stored.rows.map((r) => r.id)).toEqual(["evt_once_more", "evt_twice"]);
    // Every connection went back to the pool usable.
    for (let i = 0; i < 6; i++) expect((await pool.query("SELECT 1 AS one")).rows[0].one).toBe(1);
  });
});

describe("writeAuditEntries", () => {
  beforeAll(useNewOrganization);

  it("stores separators, backslashes and COPY's own markers exactly as INSERT does", async () => {
    const awkward = {
      description: "tab\there\nnew line\r\nCRLF back\\slash \\N \\. end\\",
      actorName: "\\N",
      targetName: "\\",
      userAgent: "Mozilla/5.0\t(X11)\\",
      region: "",
      city: ".",
      data: { quote: '"\\"', path: "C:\\dir\\file", lines: "a\nb\tc", nul: "\\u0000", emoji: "😀" },
    };
    await insertAuditEntries(db, [row("evt_by_insert", awkward)]);
    await writeAuditEntries(db, [row("evt_by_copy", awkward), row("evt_plain_neighbour")]);
    const { rows } = await pool.query(
      `SELECT ${columnsSql} FROM audit_entries WHERE org_id = $1 AND id IN ('evt_by_insert', 'evt_by_copy') ORDER BY id DESC`,
      [orgId],
    );
    expect(rows).toHaveLength(2);
    expect({ ...rows[1], id: "" }).toEqual({ ...rows[0], id: "" });
    expect(rows[1]).toMatchObject({
      description: awkward.description,
      actor_name: "\\N",
      data: awkward.data,
    });
  });

  it("stores each row's own times when times repeat and alternate within a batch", async () => {
    const a = new Date("2026-05-01T10:00:00.001Z");
    const b = new Date("2026-05-01T10:00:00.002Z");
    const times: [string, Date, Date][] = [
      ["evt_times_1", a, a],
      ["evt_times_2", new Date(a), b],
      ["evt_times_3", b, a],
      ["evt_times_4", a, new Date(b)],
    ];
    await writeAuditEntries(
      db,
      times.map(([id, occurredAt, receivedAt]) => row(id, { occurredAt, receivedAt })),
    );
    const { rows } = await pool.query(
      "SELECT id, occurred_at, received_at FROM audit_entries WHERE org_id = $1 AND id LIKE 'evt_times_%' ORDER BY id",
      [orgId],
    );
    expect(rows).toEqual(
      times.map(([id, occurredAt, receivedAt]) => ({
        id,
        occurred_at: occurredAt,
        received_at: receivedAt,
      })),
    );
    await expect(
      writeAuditEntries(db, [row("evt_times_bad", { occurredAt: new Date(Number.NaN) })]),
    ).rejects.toThrow(RangeError);
  });

  it("stores every new row of a batch that mixes stored and new entries, leaving the stored ones unchanged", async () => {
    const id = (i: number) => `evt_mixed_${String(i).padStart(3, "0")}`;
    const stored = Array.from({ length: 60 }, (_, i) => row(id(i), { description: `first ${i}` }));
    expect(await writeAuditEntries(db, stored)).toBe(60);

    // 30 of the stored ids, carrying other values, interleaved with 90 new ones.
    const batch: AuditEntryRow[] = [];
    for (let i = 0; i < 120; i++) {
      const index = i % 4 === 0 ? 15 + i / 4 : 60 + i - Math.ceil(i / 4);
      batch.push(
        row(id(index), { description: `second ${index}`, data: { batch: 2 }, ip: "192.0.2.0" }),
      );
    }
    expect(new Set(batch.map((r) => r.id)).size).toBe(120);
    expect(batch.filter((r) => r.id < id(60))).toHaveLength(30);

    expect(await writeAuditEntries(db, batch)).toBe(90);

    const { rows } = await pool.query<{ id: string; description: string; data: unknown }>(
      "SELECT id, description, data FROM audit_entries WHERE org_id = $1 AND id LIKE 'evt_mixed_%' ORDER BY id",
      [orgId],
    );
    expect(rows).toHaveLength(150);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 150 }, (_, i) => id(i)));
    rows.forEach((stored, i) => {
      // Stored rows keep what the first write gave them; new ones hold the second batch's values.
      expect(stored, stored.id).toEqual(
        i < 60
          ? { id: id(i), description: `first ${i}`, data: row(id(i)).data }
          : { id: id(i), description: `second ${i}`, data: { batch: 2 } },
      );
    });
  });

  it("stores each entry once when overlapping batches are written at the same time", async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `evt_overlap_${String(i).padStart(3, "0")}`);
    const batches = [ids.slice(0, 200), ids.slice(100, 300), ids.slice(50, 250)];
    const written = await Promise.all(
      batches.map((batch) =>
        writeAuditEntries(
          db,
          batch.map((id) => row(id)),
        ),
      ),
    );
    expect(written.reduce((a, b) => a + b, 0)).toBe(300);
    const stored = await pool.query(
      "SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM audit_entries WHERE org_id = $1 AND id LIKE 'evt_overlap_%'",
      [orgId],
    );
    expect(stored.rows[0]).toEqual({ n: 300, distinct_ids: 300 });
  });
});

describe("insertAuditEntriesSettingAsideRefused", () => {
  beforeAll(useNewOrganization);

  /** Rows PostgreSQL refuses for what they hold, each for another reason. */
  const refusedRows = () => [
    row("evt_nul_text", { actorName: "a\u0000b" }),
    row("evt_nul_json", { data: { note: "x\u0000y" } }),
    row("evt_bad_inet", { ip: "not-an-address" }),
    row("evt_year_zero", { occurredAt: new Date("0000-01-01T00:00:00Z") }),
    row("evt_bad_actor_type", { actorType: "robot" as "user" }),
  ];

  it("stores every other row once, and answers each refused row with PostgreSQL's reason", async () => {
    const good = Array.from({ length: 40 }, (_, i) =>
      row(`evt_good_${String(i).padStart(2, "0")}`),
    );
    const rows = [
      ...good.slice(0, 10),
      ...refusedRows().slice(0, 2),
      ...good.slice(10, 30),
      ...refusedRows().slice(2),
      ...good.slice(30),
    ];
    const first = await insertAuditEntriesSettingAsideRefused(db, rows);
    expect(first.inserted).toBe(40);
    expect(first.refused.map((r) => [r.row.id, r.reason])).toEqual([
      [
        "evt_nul_text",
        expect.stringMatching(/^refused by PostgreSQL: .*0x00.*\(SQLSTATE 22021\)$/),
      ],
      ["evt_nul_json", expect.stringMatching(/^refused by PostgreSQL: .*\(SQLSTATE 22P05\)$/)],
      ["evt_bad_inet", expect.stringMatching(/SQLSTATE 22P02/)],
      ["evt_year_zero", expect.stringMatching(/SQLSTATE 22008/)],
      ["evt_bad_actor_type", expect.stringMatching(/SQLSTATE 23514/)],
    ]);
    // Again (a retried job): nothing new, the same refusals.
    const second = await insertAuditEntriesSettingAsideRefused(db, rows);
    expect(second.inserted).toBe(0);
    expect(second.refused.map((r) => r.row.id)).toEqual(first.refused.map((r) => r.row.id));
    const stored = await pool.query(
      "SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids, count(*) FILTER (WHERE id LIKE 'evt_good_%')::int AS good FROM audit_entries WHERE org_id = $1",
      [orgId],
    );
    expect(stored.rows[0]).toEqual({ n: 40, distinct_ids: 40, good: 40 });
  });

  it("throws, and sets nothing aside, when PostgreSQL is unreachable: the job must retry", async () => {
    const unreachable = createTestDatabase("postgres://postgres@127.0.0.1:1/nowhere");
    try {
      await expect(
        insertAuditEntriesSettingAsideRefused(unreachable, [row("evt_outage"), ...refusedRows()]),
      ).rejects.toMatchObject({ code: "ECONNREFUSED" });
    } finally {
      await unreachable.close();
    }
  });
});
