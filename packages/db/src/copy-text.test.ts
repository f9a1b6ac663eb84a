import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AuditEntryRow, auditEntryCopyColumns, toCopyBytes, toCopyText } from "./entries.ts";

// `toCopyText` writes each row's fields out by hand: each must land under its own column of
// `auditEntryCopyColumns` (the COPY statement's list), escaped as COPY's text format wants.

/** A row whose every value names its column, with what COPY must escape in some of them. */
function distinctRow(): AuditEntryRow {
  return {
    orgId: "org\t1",
    id: "evt_1",
    type: "repo.create",
    category: "content",
    hiddenByDefault: true,
    occurredAt: new Date("2026-12-02T14:00:00.123Z"),
    receivedAt: new Date("2026-12-02T14:00:01.456Z"),
    actorType: "user",
    actorId: "usr\\1",
    actorName: "line\nbreak",
    actorAvatarUrl: "https://example.com/a.png",
    actorTokenRole: null,
    actorTokenLast4: "abcd",
    targetType: "repo",
    targetId: "acme/widgets",
    targetName: "car\rriage",
    description: "desc",
    ip: "203.0.113.0",
    countryCode: "FR",
    region: "Île-de-France",
    city: null,
    userAgent: "ua",
    oauthClientId: "oac_1",
    oauthName: "app",
    data: { path: "C:\\tmp", tab: "a\tb" },
  };
}

describe("toCopyText", () => {
  it("writes each value under its own column, escaped, then the seq", () => {
    const expected: Record<string, string> = {
      org_id: "org\\t1",
      id: "evt_1",
      type: "repo.create",
      category: "content",
      hidden_by_default: "t",
      occurred_at: "2026-12-02T14:00:00.123Z",
      received_at: "2026-12-02T14:00:01.456Z",
      actor_type: "user",
      actor_id: "usr\\\\1",
      actor_name: "line\\nbreak",
      actor_avatar_url: "https://example.com/a.png",
      actor_token_role: "\\N",
      actor_token_last4: "abcd",
      target_type: "repo",
      target_id: "acme/widgets",
      target_name: "car\\rriage",
      description: "desc",
      ip: "203.0.113.0",
      country_code: "FR",
      region: "Île-de-France",
      city: "\\N",
      user_agent: "ua",
      oauth_client_id: "oac_1",
      oauth_name: "app",
      // JSON text already escapes the tab; its backslashes are doubled for COPY.
      data: '{"path":"C:\\\\\\\\tmp","tab":"a\\\\tb"}',
    };
    expect(auditEntryCopyColumns).toEqual(Object.keys(expected));
    const line = `${Object.values(expected).join("\t")}\t42\n`;
    expect(toCopyText([distinctRow()], [42])).toBe(line);
    const second = { ...distinctRow(), hiddenByDefault: false, data: {} };
    expect(toCopyText([distinctRow(), second]).split("\n")[1]?.split("\t")).toEqual(
      Object.values({ ...expected, hidden_by_default: "f", data: "{}" }),
    );
  });
});

describe("toCopyBytes", () => {
  // What the worker sends COPY: exactly `toCopyText`'s text as UTF-8, for any values, the four
  // escaped characters, non-ASCII, astral characters and lone surrogates among them.
  const text = fc.oneof(
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.string({
      unit: fc.constantFrom("\\", "\n", "\r", "\t", "é", "漢", "😀", "\ud800", "a"),
      maxLength: 8,
    }),
  );
  const optional = fc.option(text, { nil: null });
  const row: fc.Arbitrary<AuditEntryRow> = fc.record({
    orgId: text,
    id: text,
    type: text,
    category: text,
    hiddenByDefault: fc.boolean(),
    occurredAt: fc.date({ noInvalidDate: true }),
    receivedAt: fc.date({ noInvalidDate: true }),
    actorType: fc.constantFrom("user", "token", "system"),
    actorId: text,
    actorName: text,
    actorAvatarUrl: optional,
    actorTokenRole: optional,
    actorTokenLast4: optional,
    targetType: optional,
    targetId: optional,
    targetName: optional,
    description: text,
    ip: optional,
    countryCode: optional,
    region: optional,
    city: optional,
    userAgent: optional,
    oauthClientId: optional,
    oauthName: optional,
    data: fc.jsonValue(),
  });

  it("is toCopyText's text as UTF-8, with and without seqs", () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        const seqs = rows.map((_, i) => i * 7 + 1);
        expect(toCopyBytes(rows, seqs).equals(Buffer.from(toCopyText(rows, seqs)))).toBe(true);
        expect(toCopyBytes(rows).equals(Buffer.from(toCopyText(rows)))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("grows its buffer past the first guess", () => {
    const long = {
      ...distinctRow(),
      description: "漢".repeat(5000),
      data: { s: "x".repeat(9000) },
    };
    const rows = [long, distinctRow(), long];
    expect(toCopyBytes(rows, [1, 2, 3]).equals(Buffer.from(toCopyText(rows, [1, 2, 3])))).toBe(
      true,
    );
  });
});
