import { hash } from "node:crypto";
import {
  canonicalJson,
  entryLeafHash,
  type LeafEntry,
  leafObject,
  personalObject,
} from "@auditlog/tlog";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  entryLineLeafHash,
  entryLineLeafHashInto,
  entryLinesLeafHashesInto,
  parseEntryLine,
} from "./entry-leaf-lines.ts";

// `entryLineLeafHash` writes the leaf straight from a COPY line; it must give the very bytes of
// the generic path (parseEntryLine → the entry object → RFC 8785 canonicalisation of the §3
// objects) and refuse exactly the lines that path refuses.

/** A field as PostgreSQL's COPY text writes it: backslash, newline, CR and tab escaped. */
function copyField(value: string | null): string {
  if (value === null) return "\\N";
  return value.replace(/[\\\n\r\t]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t",
  );
}

// Any text, including what COPY escapes, quotes, controls, non-BMP characters and (rarely) a
// lone surrogate, which no leaf can hold.
const anyText = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constantFrom("", "\\N", "a\tb", "x\\y", 'q"uote', "\u0001\u001f") },
  {
    weight: 1,
    arbitrary: fc.string({ unit: "binary-ascii", maxLength: 8 }).map((s) => `${s}\ud800`),
  },
);
const text = fc.oneof(
  { weight: 40, arbitrary: anyText },
  { weight: 1, arbitrary: fc.constant(null) },
);
const nullableText = fc.option(anyText, { nil: null, freq: 3 });

/** timestamptz as COPY writes it (UTC, ISO): 0 to 6 fraction digits; rarely not a time. */
const time = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .record({
        ms: fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(2200, 0, 1) }),
        digits: fc.integer({ min: 0, max: 6 }),
        micros: fc.integer({ min: 0, max: 999_999 }),
      })
      .map(({ ms, digits, micros }) => {
        const iso = new Date(ms).toISOString();
        const fraction = String(micros).padStart(6, "0").slice(0, digits);
        return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${digits ? `.${fraction}` : ""}+00`;
      }),
  },
  { weight: 1, arbitrary: fc.constantFrom("0099-05-06 07:08:09.5+00", "12345-01-01 00:00:00+00") },
  { weight: 1, arbitrary: fc.constantFrom(null, "yesterday", "2026-01-01 00:00:00+02") },
);

/** jsonb's text: objects (nested, unicode, any number) mostly; sometimes not an object, or not JSON. */
const data = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .dictionary(
        fc.string({ unit: "binary", maxLength: 10 }),
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.string({ unit: "grapheme" }),
        ),
        { maxKeys: 6 },
      )
      .chain((value) =>
        fc.constantFrom(JSON.stringify(value), JSON.stringify(value, null, 1).replace(/\n/g, " ")),
      ),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, "[]", "null", "3", '"x"', "{", '{"a":1}x') },
);

/**
 * A JSON value as jsonb's output writes it: members ordered by key length then bytes, ", " and
 * ": " between them (the text `verify` reads from PostgreSQL).
 */
function jsonbText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort((a, b) => {
      const x = Buffer.from(a);
      const y = Buffer.from(b);
      return x.length - y.length || Buffer.compare(x, y);
    });
    const record = value as Record<string, unknown>;
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText(record[k])}`).join(", ")}}`;
  }
  return JSON.stringify(value);
}

/** jsonb objects: mostly what the byte path takes (ASCII keys, integers), some that it leaves. */
const jsonbData = fc
  .dictionary(
    fc.oneof(
      { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(..."abAB_-09 ~"), maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 4 }) },
    ),
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
      { weight: 4, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 12 }) },
      { weight: 3, arbitrary: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      { weight: 1, arbitrary: fc.constantFrom(true, false, null, 0, -1, 1e21, 0.5, []) },
    ),
    { maxKeys: 6 },
  )
  .map(jsonbText);

const salt = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .uint8Array({ minLength: 16, maxLength: 16 })
      .map((b) => Buffer.from(b).toString("base64")),
  },
  { weight: 1, arbitrary: fc.constantFrom(null, "", "AAAA", "AAAAAAAAAAAAAAAAAAAAAB==") },
);

const line = fc
  .tuple(
    fc.integer({ min: 1, max: 2 ** 40 }).map(String),
    fc.tuple(text, text, text, text), // id, type, category, description
    fc.oneof({ weight: 20, arbitrary: fc.constantFrom("t", "f") }, { weight: 1, arbitrary: text }),
    fc.tuple(time, time),
    fc.tuple(text, text, text, nullableText, nullableText, nullableText), // actor
    fc.tuple(nullableText, nullableText, nullableText), // target
    fc.tuple(nullableText, nullableText, nullableText, nullableText), // ip, location
    fc.tuple(nullableText, nullableText, nullableText), // user agent, oauth
    data,
    salt,
  )
  .map(([seq, head, hidden, times, actor, target, place, tail, json, saltText]) =>
    [seq, ...head, hidden, ...times, ...actor, ...target, ...place, ...tail, json, saltText]
      .map((value, i) => (i === 0 ? (value as string) : copyField(value)))
      .join("\t")
      // The kept personal digest of an erased entry: none here (see "erased entries" below).
      .concat("\t\\N"),
  );

const sha256 = (input: string | Buffer) => hash("sha256", input, "buffer");

/** The generic path: the entry object and RFC 8785 canonicalisation of the §3 objects. */
function genericLeafHash(orgId: string, entry: LeafEntry): Buffer {
  const personal = canonicalJson(personalObject(entry));
  const digest = sha256(
    Buffer.concat([
      Buffer.from(entry.commitment.salt as string, "base64"),
      Buffer.from(personal, "utf8"),
    ]),
  ).toString("base64");
  return sha256(`\u0000${canonicalJson(leafObject(orgId, entry, digest))}`);
}

function outcome(compute: () => Uint8Array): string {
  try {
    return Buffer.from(compute()).toString("hex");
  } catch {
    return "refused";
  }
}

/** Lines as the bench and most organisations have them: the byte path's usual input. */
const plainText = fc
  .string({ unit: "grapheme", maxLength: 30 })
  // Nothing COPY escapes, nothing JSON must escape but the quote.
  .filter((t) => !/[\\\u0000-\u001f]/.test(t));
const plainOrNull = fc.option(plainText, { nil: null, freq: 3 });
const jsonbLine = fc
  .tuple(
    fc.integer({ min: 1, max: 2 ** 40 }).map(String),
    fc.tuple(plainText, plainText, plainText, plainText),
    fc.constantFrom("t", "f"),
    fc.tuple(time, time),
    fc.tuple(plainText, plainText, plainText, plainOrNull, plainOrNull, plainOrNull),
    fc.tuple(plainOrNull, plainOrNull, plainOrNull),
    fc.tuple(plainOrNull, plainOrNull, plainOrNull, nullableText),
    fc.tuple(plainOrNull, plainOrNull, plainOrNull),
    fc.oneof({ weight: 10, arbitrary: jsonbData }, { weight: 1, arbitrary: data }),
    salt,
  )
  .map(([seq, head, hidden, times, actor, target, place, tail, json, saltText]) =>
    // The 27th column, an erased entry's kept digest, is NULL: erased lines take the string path.
    [seq, ...head, hidden, ...times, ...actor, ...target, ...place, ...tail, json, saltText, null]
      .map((value, i) => (i === 0 ? (value as string) : copyField(value)))
      .join("\t"),
  );

describe("entryLineLeafHashInto", () => {
  it("gives entryLineLeafHash's leaf hash for every line it takes, and takes most plain ones", () => {
    let taken = 0;
    let left = 0;
    fc.assert(
      fc.property(
        fc.oneof({ weight: 4, arbitrary: jsonbLine }, { weight: 1, arbitrary: line }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
        fc.nat({ max: 40 }),
        (row, orgId, pad) => {
          // The line sits inside a larger buffer, as in a chunk of COPY lines.
          const bytes = Buffer.concat([
            Buffer.from("\n".repeat(pad)),
            Buffer.from(row),
            Buffer.from("\n9\tx"),
          ]);
          const target = new Uint8Array(40).fill(0xee);
          const end = pad + Buffer.byteLength(row);
          if (!entryLineLeafHashInto(orgId, bytes, pad, end, target, 4)) {
            left++;
            return;
          }
          taken++;
          // Against the line as the string path decodes it (a lone surrogate in `row` became
          // U+FFFD in its UTF-8: PostgreSQL sends only valid UTF-8).
          const decoded = bytes.toString("utf8", pad, end);
          expect(Buffer.from(target.subarray(4, 36)).toString("hex")).toBe(
            outcome(() => entryLineLeafHash(orgId, decoded)),
          );
          expect([...target.subarray(0, 4), ...target.subarray(36)]).toEqual(Array(8).fill(0xee));
        },
      ),
      { numRuns: 3000 },
    );
    expect(taken).toBeGreaterThan(400);
    expect(left).toBeGreaterThan(100);
  });

  it("sorts jsonb's members into RFC 8785's order, nested ones too", () => {
    const row = (json: string) =>
      [
        "7",
        "evt_1",
        "repo.create",
        "content",
        'say "hi"',
        "t",
        "2026-01-02 03:04:05.057+00",
        "2026-01-02 03:04:05+00",
        "user",
        "u1",
        "name",
        ...Array(13).fill("\\N"),
        json,
        "AAAAAAAAAAAAAAAAAAAAAA==",
        "\\N",
      ].join("\t");
    for (const json of [
      '{"b": 1, "aa": [2, {"d": null, "cc": true}], "Z": -3}',
      '{"": {}, "x": [], "yy": "a b"}',
      '{"a": 1, "ab": 2, "abc": {"b": 1, "a ": 2}}',
      "{}",
    ]) {
      const text = row(json);
      const target = new Uint8Array(32);
      expect(
        entryLineLeafHashInto("org_1", Buffer.from(text), 0, Buffer.byteLength(text), target, 0),
      ).toBe(true);
      expect(Buffer.from(target).toString("hex")).toBe(
        Buffer.from(entryLeafHash("org_1", parseEntryLine(text).entry)).toString("hex"),
      );
    }
    // A line longer than the byte path's 64 KiB scratch (which then grows, and the word writes
    // must follow it), long and short fields of every length modulo 4, then short lines again.
    const long = [
      "8",
      "evt_2",
      "repo.create",
      "content",
      `${"d".repeat(70_001)}"`,
      "f",
      "2026-01-02 03:04:05.1+00",
      "2026-01-02 03:04:05.123456+00",
      "user",
      "u12",
      "n".repeat(40_003),
      "https://a.example/x.png",
      "admin",
      "1234",
      "repo",
      "r1",
      "r".repeat(33),
      "192.0.2.1",
      "FR",
      "Île",
      "Paris",
      "ua/1 ".repeat(9_000),
      "cli",
      "CLI tool",
      `{"k": "${"v".repeat(20_000)}", "a": [1, 22, 333]}`,
      "AAAAAAAAAAAAAAAAAAAAAA==",
      "\\N",
    ].join("\t");
    for (const text of [long, row('{"b": 1}'), long, row("{}")]) {
      const target = new Uint8Array(32);
      expect(
        entryLineLeafHashInto("org_1", Buffer.from(text), 0, Buffer.byteLength(text), target, 0),
      ).toBe(true);
      expect(Buffer.from(target).toString("hex")).toBe(
        Buffer.from(entryLeafHash("org_1", parseEntryLine(text).entry)).toString("hex"),
      );
    }
    // An erased entry (its kept personal digest in the last column) is left to the string path,
    // which commits to the kept digest instead of salt and values.
    const erased = row("{}").replace(
      /\t\\N$/,
      "\tZmFrZSBkaWdlc3QgZm9yIGEgdGVzdCBvZiBlcmFzdXJlIQ==",
    );
    expect(
      entryLineLeafHashInto(
        "org_1",
        Buffer.from(erased),
        0,
        Buffer.byteLength(erased),
        new Uint8Array(32),
        0,
      ),
    ).toBe(false);
  });
});

describe("entryLinesLeafHashesInto", () => {
  it("gives a chunk's lines their seqs and entryLineLeafHash's leaf hashes, or hands them back", () => {
    let taken = 0;
    let handedBack = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            { weight: 8, arbitrary: jsonbLine },
            { weight: 2, arbitrary: line },
            // Not entry lines at all: no seq, too few columns, nothing.
            { weight: 1, arbitrary: fc.constantFrom("", "x\ty", "12", "7\t\\N") },
          ),
          { maxLength: 24 },
        ),
        fc.boolean(),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
        (rows, lastNewline, orgId) => {
          const text = rows.join("\n") + (lastNewline && rows.length > 0 ? "\n" : "");
          const chunk = Buffer.from(text);
          // The lines as hashEntryLines counts them: every newline ends one, and a last one
          // may have none.
          const lines: [number, number][] = [];
          for (let start = 0; start < chunk.length; ) {
            let end = chunk.indexOf(10, start);
            if (end === -1) end = chunk.length;
            lines.push([start, end]);
            start = end + 1;
          }
          const hashes = new Uint8Array(32 * lines.length).fill(0xee);
          const seqs = new Float64Array(lines.length);
          const notTaken = entryLinesLeafHashesInto(orgId, chunk, lines.length, hashes, seqs);
          const back = new Map<number, [number, number]>();
          for (let n = 0; n < notTaken.length; n += 3) {
            back.set(notTaken[n] as number, [notTaken[n + 1] as number, notTaken[n + 2] as number]);
          }
          lines.forEach(([start, end], i) => {
            const decoded = chunk.toString("utf8", start, end);
            // The first column, when it is all digits.
            const seq = /^(\d+)(?:\t|$)/.exec(decoded)?.[1];
            expect(seqs[i]).toBe(seq === undefined ? Number.NaN : Number(seq));
            const handed = back.get(i);
            if (handed) {
              handedBack++;
              expect(handed).toEqual([start, end]);
              expect([...hashes.subarray(32 * i, 32 * i + 32)]).toEqual(Array(32).fill(0xee));
              return;
            }
            taken++;
            expect(Buffer.from(hashes.subarray(32 * i, 32 * i + 32)).toString("hex")).toBe(
              outcome(() => entryLineLeafHash(orgId, decoded)),
            );
          });
        },
      ),
      { numRuns: 1000 },
    );
    console.log(`entryLinesLeafHashesInto: ${taken} lines taken, ${handedBack} handed back`);
    expect(taken).toBeGreaterThan(400);
    expect(handedBack).toBeGreaterThan(400);
  });
});

describe("entryLineLeafHashInto's scan in 16-byte blocks", () => {
  it("sees a quote, a control character, a tab and a backslash at every place in a block", () => {
    const row = (description: string, userAgent: string) =>
      [
        "7",
        "evt_1",
        "repo.create",
        "content",
        description,
        "t",
        "2026-01-02 03:04:05.057+00",
        "2026-01-02 03:04:05+00",
        "user",
        "u1",
        "name",
        ...Array(10).fill("\\N"),
        userAgent,
        "\\N",
        "\\N",
        '{"a": 1}',
        "AAAAAAAAAAAAAAAAAAAAAA==",
        "\\N",
      ].join("\t");
    let cases = 0;
    for (let shift = 0; shift < 18; shift++) {
      for (const special of ['"', "\u0001", "\u001f", "\\\\", "\\t", "\\N"]) {
        for (const pad of [0, 1, 2, 3]) {
          const text = row(`${"d".repeat(shift)}${special}${"e".repeat(9)}`, "ua");
          const bytes = Buffer.concat([Buffer.from("\n".repeat(pad)), Buffer.from(text)]);
          const target = new Uint8Array(32);
          const taken = entryLineLeafHashInto("org_1", bytes, pad, bytes.length, target, 0);
          // Only the quote is on this path (written escaped); the others go the string way.
          expect(taken).toBe(special === '"');
          if (taken) {
            expect(Buffer.from(target).toString("hex")).toBe(
              Buffer.from(entryLineLeafHash("org_1", text)).toString("hex"),
            );
          }
          cases++;
        }
      }
    }
    expect(cases).toBe(18 * 6 * 4);
  });
});

describe("entryLineLeafHash", () => {
  it("gives the generic path's leaf hash for any COPY line, and refuses the same lines", () => {
    let hashed = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        line,
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
        (row, orgId) => {
          const direct = outcome(() => entryLineLeafHash(orgId, row));
          const specialised = outcome(() => entryLeafHash(orgId, parseEntryLine(row).entry));
          expect(direct).toBe(specialised);
          if (direct === "refused") {
            refused++;
            return;
          }
          hashed++;
          expect(direct).toBe(outcome(() => genericLeafHash(orgId, parseEntryLine(row).entry)));
        },
      ),
      { numRuns: 2000 },
    );
    // Both kinds of line were tried, in numbers.
    expect(hashed).toBeGreaterThan(400);
    expect(refused).toBeGreaterThan(100);
  });

  it("reads PostgreSQL's microseconds as the pg driver does (Date.UTC truncates)", () => {
    const fields = (occurred: string) =>
      [
        "7",
        "evt_1",
        "repo.create",
        "content",
        "d",
        "f",
        occurred,
        "2026-01-02 03:04:05+00",
        "user",
        "u1",
        "name",
        ...Array(13).fill("\\N"),
        '{"b": 1, "a": [1.0, 1e21, "é"]}',
        "AAAAAAAAAAAAAAAAAAAAAA==",
        "\\N",
      ].join("\t");
    for (const [occurred, iso] of [
      ["2026-01-02 03:04:05.123456+00", "2026-01-02T03:04:05.123Z"],
      ["2026-01-02 03:04:05.9999+00", "2026-01-02T03:04:05.999Z"],
      ["2026-01-02 03:04:05.05+00", "2026-01-02T03:04:05.050Z"],
      ["2026-01-02 03:04:05+00", "2026-01-02T03:04:05.000Z"],
    ] as const) {
      const row = fields(occurred);
      expect(parseEntryLine(row).entry.occurredAt).toBe(iso);
      expect(parseEntryLine(row).entry.occurredAt).toBe(
        new Date(
          Date.UTC(2026, 0, 2, 3, 4, 5, 1000 * Number.parseFloat(occurred.slice(19, -3) || "0")),
        ).toISOString(),
      );
      expect(Buffer.from(entryLineLeafHash("org_1", row)).toString("hex")).toBe(
        Buffer.from(entryLeafHash("org_1", parseEntryLine(row).entry)).toString("hex"),
      );
    }
  });

  it("takes an erased entry's kept personal digest as it is, and refuses it beside a salt", () => {
    const digest = Buffer.alloc(32, 7).toString("base64");
    const fields = (salt: string, kept: string) =>
      [
        "7",
        "evt_1",
        "repo.create",
        "content",
        "erased-1 created a repository",
        "f",
        "2026-01-02 03:04:05+00",
        "2026-01-02 03:04:05+00",
        "user",
        "u1",
        "erased-1",
        ...Array(13).fill("\\N"),
        "{}",
        salt,
        kept,
      ].join("\t");
    const erased = fields("\\N", digest);
    const entry = parseEntryLine(erased).entry;
    expect(entry.commitment).toEqual({ personal: digest });
    const leaf = canonicalJson(leafObject("org_1", entry, digest));
    expect(Buffer.from(entryLineLeafHash("org_1", erased)).toString("hex")).toBe(
      sha256(`\u0000${leaf}`).toString("hex"),
    );
    expect(() => entryLineLeafHash("org_1", fields("AAAAAAAAAAAAAAAAAAAAAA==", digest))).toThrow(
      /without a salt/,
    );
    expect(() => entryLineLeafHash("org_1", fields("\\N", "short"))).toThrow(/32 bytes/);
  });
});
