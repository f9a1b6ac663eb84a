import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { auditEventSchema, eventDefinitions } from "./catalog/index.ts";
import { compileFastCheck } from "./fast-check.ts";
import { isWellFormedEvent, validateEvent } from "./validation.ts";

/*
 * The compiled check must never say "well-formed" where zod refuses the event or would return
 * anything but an equal copy of it: then the API and the worker store exactly what zod would have
 * given them, and every refusal is still zod's, with zod's messages.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const envelopes: Record<string, unknown>[] = [
  { actor: { type: "user", id: "u_1", name: "alice" } },
  {
    actor: {
      type: "token",
      id: "t_1",
      name: "ci-token",
      tokenRole: "write",
      tokenLast4: "ab12",
      avatarUrl: "https://cdn.example.com/a.png",
    },
    target: { type: "repo", id: "r_1", name: "acme/bert" },
    context: {
      ip: "203.0.113.7",
      userAgent: "curl/8.8.0",
      oauth: { clientId: "c_1", name: "app" },
    },
    occurredAt: "2026-11-30T10:00:00.000Z",
    id: "evt_abc.1:2-3",
  },
  {
    actor: { type: "system", id: "s", name: "hub" },
    context: { ip: "2001:db8::8a2e:370:7334" },
    occurredAt: "2026-11-30T10:00:00+02:00",
  },
];

function eventsOf(): Record<string, unknown>[] {
  return eventDefinitions.flatMap((definition) =>
    envelopes.map((envelope) => ({
      ...structuredClone(envelope),
      type: definition.type,
      data: structuredClone(definition.example) as Json,
    })),
  );
}

/** Values zod's checks tell apart: formats, lengths, types, the edges of each. */
const tricky = fc.oneof(
  fc.constantFrom<Json>(
    "",
    "a",
    "abcd",
    "x".repeat(64),
    "x".repeat(65),
    "x".repeat(200),
    "x".repeat(201),
    "x".repeat(301),
    "x".repeat(2001),
    "203.0.113.7",
    "256.1.1.1",
    "2001:db8::1",
    "2001:db8:::1",
    "::ffff:1.2.3.4",
    "1.2.3",
    "2026-11-30T10:00:00Z",
    "2026-11-30T10:00:00",
    "2026-13-30T10:00:00Z",
    "https://cdn.example.com/a.png",
    "http://cdn.example.com/a.png",
    "https://localhost/a.png",
    "https://10.0.0.1/a.png",
    "a@b.co",
    "not an email",
    "USD",
    "usd",
    "model",
    "admin",
    "user",
    "token",
    "__proto__",
    "\u0000",
    0,
    -1,
    1.5,
    1e15,
    Number.MAX_SAFE_INTEGER + 2,
    true,
    false,
    null,
    [],
    {},
    ["a"],
    { a: 1 },
  ),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.ipV4(),
  fc.ipV6(),
  fc.emailAddress(),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

/** Every path to a value in `value`, as keys and indexes. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    value.forEach((item, index) => paths.push(...pathsOf(item, [...prefix, index])));
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

type Mutation =
  | { kind: "set"; at: number; value: Json }
  | { kind: "delete"; at: number }
  | { kind: "add"; at: number; key: string; value: Json };

function mutate(event: Record<string, unknown>, mutations: Mutation[]): unknown {
  let root: unknown = structuredClone(event);
  for (const mutation of mutations) {
    const paths = pathsOf(root);
    const path = paths[mutation.at % paths.length] as (string | number)[];
    if (path.length === 0) {
      if (mutation.kind === "set") root = mutation.value;
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    const last = path[path.length - 1] as string | number;
    const target = parent[last];
    if (mutation.kind === "set") parent[last] = mutation.value;
    else if (mutation.kind === "delete") {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (typeof target === "object" && target !== null && !Array.isArray(target)) {
      // As JSON.parse would: an own property, even for "__proto__".
      Object.defineProperty(target, mutation.key, {
        value: mutation.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else if (Array.isArray(target)) target.push(mutation.value);
  }
  return root;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: tricky }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("add" as const),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom("__proto__", "value", "extra", "name", "type"), fc.string()),
    value: tricky,
  }),
);

/** The property: a "well-formed" answer is zod's acceptance, with an equal result. */
function agreesWithZod(input: unknown): boolean {
  if (!isWellFormedEvent(input)) return true;
  const parsed = auditEventSchema.safeParse(input);
  return parsed.success && isDeepStrictEqual(parsed.data, input);
}

describe("isWellFormedEvent (auditEventSchema compiled)", () => {
  const events = eventsOf();

  it("takes the fast path for every type's example in each envelope, as zod accepts them", () => {
    expect(events).toHaveLength(eventDefinitions.length * envelopes.length);
    const refused = events.filter((event) => !isWellFormedEvent(event)).map((e) => e.type);
    expect(refused).toEqual([]);
    for (const event of events) expect(agreesWithZod(event)).toBe(true);
  });

  it("never calls well-formed an event zod refuses or would change (mutated examples)", () => {
    let fast = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: events.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (which, mutations) => {
          const input = mutate(events[which] as Record<string, unknown>, mutations);
          if (isWellFormedEvent(input)) fast++;
          expect(agreesWithZod(input)).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
    // Both answers were exercised: mutations that keep the event valid, and ones that do not.
    expect(fast).toBeGreaterThan(250);
    expect(fast).toBeLessThan(4750);
  });

  it("agrees with zod in both directions on a string field's formats and lengths", () => {
    const base = events[1] as Record<string, unknown>;
    const fields: [string, (event: Record<string, unknown>, v: unknown) => void][] = [
      ["context.ip", (e, v) => Object.assign(e.context as object, { ip: v })],
      ["occurredAt", (e, v) => Object.assign(e, { occurredAt: v })],
      ["id", (e, v) => Object.assign(e, { id: v })],
      ["actor.avatarUrl", (e, v) => Object.assign(e.actor as object, { avatarUrl: v })],
      ["actor.tokenLast4", (e, v) => Object.assign(e.actor as object, { tokenLast4: v })],
      ["target.type", (e, v) => Object.assign(e.target as object, { type: v })],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...fields), tricky, ([, set], value) => {
        const input = structuredClone(base);
        set(input, value);
        expect(isWellFormedEvent(input)).toBe(auditEventSchema.safeParse(input).success);
      }),
      { numRuns: 5000 },
    );
  });

  it("gives validateEvent's callers zod's verdicts and messages on refused events", () => {
    const bad = { ...(events[0] as object), actor: { type: "robot", id: "", name: "x" } };
    const result = validateEvent(bad, "events[3]");
    expect(result).toEqual({
      ok: false,
      issues: expect.arrayContaining([
        expect.objectContaining({ path: "events[3].actor.type" }),
        expect.objectContaining({ path: "events[3].actor.id" }),
      ]),
    });
  });
});

describe("compileFastCheck on constructs the catalog may use", () => {
  // [name, schema, inputs, the fast verdict for each]
  const cases: [string, z.ZodType, unknown[], boolean[]][] = [
    [
      "plain object (strips unknown keys: never fast with one)",
      z.object({ a: z.string() }),
      [{ a: "x" }, { a: "x", b: 1 }, { a: 1 }, null, []],
      [true, false, false, false, false],
    ],
    [
      "default fills a missing value: zod's",
      z.strictObject({ a: z.string().default("d") }),
      [{}, { a: "x" }, { a: "x", b: 1 }],
      [false, true, false],
    ],
    ["transform: zod's", z.string().transform((s) => s.length), ["abc"], [false]],
    ["trim overwrites: zod's", z.string().trim(), [" a ", "a"], [false, true]],
    [
      "union in order",
      z.union([z.string().min(3), z.string(), z.number()]),
      ["a", "abcd", 1, true],
      [true, true, true, false],
    ],
    [
      "union after a non-exact option",
      z.union([z.object({ a: z.string() }), z.looseObject({ a: z.string() })]),
      [{ a: "x", b: 1 }, { a: "x" }],
      [false, true],
    ],
    [
      "record with a refinement",
      z.record(z.string().min(1), z.string()).refine((r) => Object.keys(r).length <= 1),
      [{ a: "x" }, { a: "x", b: "y" }, { "": "x" }, { a: 1 }],
      [true, false, false, false],
    ],
    [
      "nullable and int",
      z.strictObject({ n: z.int().nullable() }),
      [{ n: null }, { n: 1.5 }, { n: 2 }],
      [true, false, true],
    ],
  ];
  it.each(cases)("%s", (_, schema, inputs, expected) => {
    const check = compileFastCheck(schema);
    expect(inputs.map((input) => check(input))).toEqual(expected);
    for (const input of inputs.filter((input) => check(input))) {
      const parsed = schema.safeParse(input);
      expect(parsed.success && isDeepStrictEqual(parsed.data, input)).toBe(true);
    }
  });
});
