import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { prototypeKeyMessage } from "./event-content.ts";
import { validateEvent } from "./validation.ts";

/** An event as the API gets it: parsed from JSON text, so `__proto__` is an ordinary key. */
function fromWire(data: string, actor = '{"type":"user","id":"u_1","name":"alice"}') {
  return JSON.parse(`{"type":"repo.create","actor":${actor},"data":${data}}`) as {
    data: unknown;
  };
}

describe("validateEvent and the key __proto__", () => {
  it.each([
    ['{"repo":{"type":"model","name":"a/b"},"__proto__":":1V"}', "events[0].data.__proto__"],
    [
      '{"__proto__":{"polluted":true},"repo":{"type":"model","name":"a/b"}}',
      "events[0].data.__proto__",
    ],
    ['{"repo":{"type":"model","name":"a/b","__proto__":{"x":1}}}', "events[0].data.repo.__proto__"],
    [
      '{"repo":{"type":"model","name":"a/b"},"extra":[{"deep":{"__proto__":null}}]}',
      "events[0].data.extra[0].deep.__proto__",
    ],
  ])("refuses %s, naming %s", (data, path) => {
    const result = validateEvent(fromWire(data), "events[0]");
    expect(result).toEqual({ ok: false, issues: [{ path, message: prototypeKeyMessage }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses it in the envelope too, naming it", () => {
    const event = fromWire(
      '{"repo":{"type":"model","name":"a/b"}}',
      '{"type":"user","id":"u_1","name":"alice","__proto__":{}}',
    );
    const result = validateEvent(event, "events[2]");
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.issues.map((issue) => issue.path)).toContain(
      "events[2].actor.__proto__",
    );
  });

  it("accepts data only as it was sent: random keys and values are kept whole or refused", () => {
    const counts = { accepted: 0, refusedForPrototypeKey: 0 };
    const extra = fc.dictionary(
      fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("__proto__", "constructor")),
      fc.jsonValue({ maxDepth: 3 }),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(extra, (fields) => {
        const data = JSON.stringify({ repo: { type: "model", name: "a/b" }, ...fields });
        const event = fromWire(data);
        const result = validateEvent(event, "events[0]");
        if (result.ok) {
          counts.accepted++;
          expect(result.event.data).toEqual(JSON.parse(data));
        } else if (result.issues.some((issue) => issue.message === prototypeKeyMessage)) {
          counts.refusedForPrototypeKey++;
          expect(data).toContain('"__proto__"');
        }
      }),
      { numRuns: 2000, examples: [[JSON.parse('{"__proto__":1}')]] },
    );
    console.log(`random data: ${JSON.stringify(counts)}`);
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.refusedForPrototypeKey).toBeGreaterThan(0);
  });
});
