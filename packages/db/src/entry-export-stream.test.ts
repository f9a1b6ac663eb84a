import { text } from "node:stream/consumers";
import { parseQuery } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrganization } from "./accounts.ts";
import { driversOf } from "./database.ts";
import { type AuditEntryRow, insertAuditEntries } from "./entries.ts";
import { inlineParameters, openEntryJsonStream } from "./entry-export-stream.ts";
import { listEntries } from "./entry-queries.ts";
import {
  auditEntryRow,
  bypassingAppendOnly,
  createTestDatabase,
  prepareTestDatabase,
  uniqueSlug,
} from "./testing.ts";

const db = createTestDatabase();
const pool = driversOf(db).pool;
let orgId: string;

function row(overrides: Partial<AuditEntryRow>): AuditEntryRow {
  return auditEntryRow(orgId, {
    actorId: "user_1",
    actorName: "dana",
    description: "dana created a repository",
    occurredAt: new Date("2026-03-01T12:00:00.000Z"),
    receivedAt: new Date("2026-03-01T12:00:01.000Z"),
    ...overrides,
  });
}

async function exportLines(query = "", includeHidden = false): Promise<string[]> {
  const parsed = parseQuery(query);
  if (!parsed.ok) throw new Error(parsed.error.message);
  const entries = await openEntryJsonStream(db, {
    orgId,
    query: parsed.query,
    options: { includeHidden },
  });
  try {
    const body = await text(entries.stream);
    await entries.release(false);
    expect(body === "" || body.endsWith("\n")).toBe(true);
    return body === "" ? [] : body.slice(0, -1).split("\n");
  } catch (error) {
    await entries.release(true);
    throw error;
  }
}

beforeAll(async () => {
  await prepareTestDatabase();
  const org = await createOrganization(db, {
    slug: uniqueSlug("export-stream"),
    name: "Export stream",
    plan: "enterprise",
  });
  orgId = org.id;
  const minute = (n: number) => new Date(Date.UTC(2026, 2, 1, 12, n));
  await insertAuditEntries(db, [
    row({ id: "evt_plain", occurredAt: minute(1) }),
    row({
      id: "evt_everything",
      occurredAt: minute(2),
      actorType: "token",
      actorAvatarUrl: "https://example.com/a.png",
      actorTokenRole: "write",
      actorTokenLast4: "9f3a",
      targetType: "repo",
      targetId: "repo_1",
      targetName: "dana/model",
      ip: "203.0.113.0",
      countryCode: "FR",
      region: "Île-de-France",
      city: "Paris",
      userAgent: 'curl/8.0 "quoted"',
      oauthClientId: "oauth_1",
      oauthName: "CI app",
      data: { nested: { list: [1, 2.5, "x", null, true] }, emoji: "😀", big: 12345678901234 },
    }),
    // Every character JSON must escape, and the bytes COPY's CSV mode would otherwise quote.
    row({
      id: "evt_escapes",
      occurredAt: minute(3),
      description: 'a "quote", a \\ backslash\nnewline\r\ttab \u0001\u0002 and , comma; 中文',
      actorName: '=HYPERLINK("x")',
      data: { "key with \u0001": "line\nbreak", "": "" },
    }),
    row({
      id: "evt_ipv6_partial_location",
      occurredAt: minute(4),
      ip: "2001:db8:85a3::",
      region: "Bavaria",
    }),
    // toAuditEntry treats empty strings as absent: the SQL must agree.
    row({
      id: "evt_empty_strings",
      occurredAt: minute(5),
      targetType: "repo",
      targetId: "",
      countryCode: "",
      region: "",
      city: "",
      oauthClientId: "",
    }),
    row({
      id: "evt_target_without_id",
      occurredAt: minute(6),
      targetType: "repo",
      targetName: "x",
    }),
    row({
      id: "evt_hidden",
      occurredAt: minute(7),
      type: "org.audit_log.export",
      category: "org",
      hiddenByDefault: true,
    }),
  ]);
  // Stored times keep microseconds; the API's text truncates them to milliseconds.
  await bypassingAppendOnly(
    pool,
    `UPDATE audit_entries SET occurred_at = '2026-03-01 12:08:59.999999+00',
       received_at = '2026-03-01 12:09:00.000501+00' WHERE org_id = $1 AND id = 'evt_plain'`,
    [orgId],
  );
  await bypassingAppendOnly(
    pool,
    `UPDATE audit_entries SET occurred_at = '2026-03-01 12:08:59.999999+00'
       WHERE org_id = $1 AND id = 'evt_escapes'`,
    [orgId],
  );
});

afterAll(async () => {
  await pool.query("DELETE FROM organizations WHERE id = $1", [orgId]);
  await db.close();
});

describe("openEntryJsonStream", () => {
  it("renders every entry as the query API does, in the same order", async () => {
    const lines = await exportLines();
    const parsed = parseQuery("");
    if (!parsed.ok) throw new Error("empty query");
    const api = await listEntries(db, { orgId, query: parsed.query, limit: 100, cursor: null });
    expect(lines).toHaveLength(6);
    // The same JSON values (jsonb spaces its text differently, so compare values, not bytes),
    // with the object keys in the same order.
    const exported = lines.map((line) => JSON.parse(line));
    const expected = JSON.parse(JSON.stringify(api.entries));
    expect(exported).toStrictEqual(expected);
    exported.forEach((entry, index) => {
      expect(Object.keys(entry)).toEqual(Object.keys(expected[index]));
    });
    const byId = new Map(exported.map((entry) => [entry.id, entry]));
    expect(byId.get("evt_plain").occurredAt).toBe("2026-03-01T12:08:59.999Z");
    expect(byId.get("evt_plain").receivedAt).toBe("2026-03-01T12:09:00.000Z");
    expect(byId.get("evt_everything").location.formatted).toBe("Paris, Île-de-France, FR");
    expect(byId.get("evt_ipv6_partial_location").location.formatted).toBe("Bavaria");
    expect(byId.get("evt_empty_strings")).toMatchObject({
      target: null,
      location: null,
      oauth: null,
    });
  });

  it("applies the query's filters, with values that try to break out of their literal", async () => {
    expect((await exportLines("type:repo.create")).length).toBe(6);
    expect((await exportLines("", true)).length).toBe(7);
    expect((await exportLines("type:org.audit_log.*")).map((l) => JSON.parse(l).id)).toEqual([
      "evt_hidden",
    ]);
    expect((await exportLines("country:FR")).map((l) => JSON.parse(l).id)).toEqual([
      "evt_everything",
    ]);
    expect(await exportLines(`"x'); DELETE FROM audit_entries; --"`)).toEqual([]);
    expect((await exportLines(`"\\\\ backslash"`)).map((l) => JSON.parse(l).id)).toEqual([
      "evt_escapes",
    ]);
    expect((await exportLines("")).length).toBe(6);
  });

  it("ends every line with the separator asked for, for a JSON array", async () => {
    const parsed = parseQuery("");
    if (!parsed.ok) throw new Error("empty query");
    const entries = await openEntryJsonStream(db, { orgId, query: parsed.query, lineEnd: "," });
    const body = await text(entries.stream);
    await entries.release(false);
    const lines = body.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(6);
    expect(lines.every((line) => line.endsWith("},"))).toBe(true);
    expect(JSON.parse(`[${body.slice(0, -2)}]`)).toStrictEqual(
      (await exportLines()).map((line) => JSON.parse(line)),
    );
  });

  it("gives no lines for an organisation without entries", async () => {
    const parsed = parseQuery("");
    if (!parsed.ok) throw new Error("empty query");
    const entries = await openEntryJsonStream(db, { orgId: "org_none", query: parsed.query });
    expect(await text(entries.stream)).toBe("");
    await entries.release(false);
  });
});

describe("inlineParameters", () => {
  const escape = (value: string) => `'${value.replace(/'/g, "''")}'`;

  it("puts each value in as a literal, arrays as ARRAY[…], in one pass", () => {
    expect(
      inlineParameters(
        "a = $1 AND b = ANY($2::text[]) AND c = $3 AND d = $10",
        ["it's", ["$3", "x"], 5, "", "", "", "", "", "", true],
        escape,
      ),
    ).toBe("a = 'it''s' AND b = ANY(ARRAY['$3','x']::text[]) AND c = 5 AND d = true");
  });

  it("refuses a placeholder without a value and a value it cannot write", () => {
    expect(() => inlineParameters("a = $2", ["x"], escape)).toThrow(/\$2/);
    expect(() => inlineParameters("a = $1", [{}], escape)).toThrow(TypeError);
    expect(() => inlineParameters("a = $1", [Number.NaN], escape)).toThrow(TypeError);
  });
});
