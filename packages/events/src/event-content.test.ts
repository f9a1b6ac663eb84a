import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventContentIssues, maxEventDepth, maxEventJsonBytes } from "./event-content.ts";

/** Strings with every kind of character JSON.stringify and UTF-8 treat differently. */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      "\u0000",
      "\ud800",
      "\udc00",
      "😀",
      "é",
      "中",
      '"',
      "\\",
      "\n",
      "\u001f",
      "\u007f",
      "a",
    ),
    maxLength: 40,
  }),
);
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    anyText,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(anyText, tie("value"), { maxKeys: 4 }),
  ),
})).value;

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

function holdsNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(holdsNul);
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).some(([key, item]) => key.includes("\u0000") || holdsNul(item));
  }
  return false;
}

describe("eventContentIssues", () => {
  it("finds a NUL wherever data holds one, and only then", () => {
    fc.assert(
      fc.property(anyJson, (data) => {
        const issues = eventContentIssues({ type: "repo.create", data });
        expect(issues.some((issue) => /NUL/.test(issue.message))).toBe(holdsNul(data));
      }),
      { numRuns: 2000 },
    );
  });

  it("measures the JSON exactly as JSON.stringify and UTF-8 do, whatever the characters", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom("😀", "é", "中", '"', "\\", "\n", "\u001f", "\ud800", "a"),
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: -40, max: 40 }),
        (unit, offset) => {
          // A filler that puts the event's JSON within a few bytes of the limit, either side.
          const base = {
            type: "repo.create",
            actor: { type: "user", id: "u", name: "u" },
            data: { pad: "" },
          };
          const unitBytes = jsonBytes(unit) - 2;
          const target = maxEventJsonBytes + offset - jsonBytes(base);
          const event = { ...base, data: { pad: unit.repeat(Math.floor(target / unitBytes)) } };
          const bytes = jsonBytes(event);
          const issues = eventContentIssues(event);
          expect(issues.length > 0, `${bytes} bytes`).toBe(bytes > maxEventJsonBytes);
          if (bytes > maxEventJsonBytes) {
            expect(issues).toEqual([
              { path: [], message: expect.stringContaining(bytes.toLocaleString("en")) },
            ]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("does not count id and occurredAt, which the API adds", () => {
    const pad = "x".repeat(maxEventJsonBytes - jsonBytes({ type: "t", data: { pad: "" } }));
    const event = { type: "t", data: { pad } };
    expect(jsonBytes(event)).toBe(maxEventJsonBytes);
    expect(eventContentIssues(event)).toEqual([]);
    expect(
      eventContentIssues({
        id: "evt_0123456789abcdef01234567",
        occurredAt: "2026-11-27T10:00:00.000Z",
        ...event,
      }),
    ).toEqual([]);
    expect(eventContentIssues({ ...event, extra: 1 })).toHaveLength(1);
  });

  it(`refuses objects and arrays deeper than ${maxEventDepth} levels, data being level 1, without recursing into them`, () => {
    const nest = (levels: number, make: (inner: unknown) => unknown) => {
      let value: unknown = make(1);
      for (let level = 1; level < levels; level++) value = make(value);
      return value;
    };
    const asObject = (inner: unknown) => ({ a: inner });
    expect(eventContentIssues({ data: nest(maxEventDepth, asObject) })).toEqual([]);
    expect(eventContentIssues({ data: nest(maxEventDepth + 1, asObject) })).toEqual([
      {
        path: ["data", ...Array(maxEventDepth).fill("a")],
        message: expect.stringContaining("levels deep"),
      },
    ]);
    // Deep enough to overflow any recursive walk (and JSON.stringify) that did not stop.
    const deep = nest(200_000, (inner) => [inner]);
    expect(eventContentIssues({ data: { deep } })).toEqual([
      {
        path: ["data", "deep", ...Array(maxEventDepth - 1).fill(0)],
        message: expect.stringContaining("levels deep"),
      },
    ]);
  });

  it("names a key holding NUL with the NUL written out, and lists at most ten issues", () => {
    expect(eventContentIssues({ data: { "a\u0000b": 1 } })).toEqual([
      { path: ["data", "a\\u0000b"], message: "keys must not contain the NUL character (U+0000)" },
    ]);
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "\u0000"]));
    expect(eventContentIssues({ data: many })).toHaveLength(10);
  });
});
