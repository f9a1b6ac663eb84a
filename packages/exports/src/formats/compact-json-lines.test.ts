import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { CompactJsonLines } from "./compact-json-lines.ts";

const values = [
  { a: 1, b: [1, 2.5, -3, true, false, null, "", {}, []] },
  { "key, with: separators": { 'q"': '\\", ": ' }, text: 'a": b, c', last: "ends \\" },
  { unicode: "é 😀 中文 \u2028 \u0001", nested: { list: [{ x: " spaced " }] } },
  {},
];
/** jsonb's spacing (`": "`, `", "`), as PostgreSQL writes `data`, one value a line. */
const spaced = values.map((value) => `${JSON.stringify(value, null, 1).replace(/\n */g, " ")},\n`);
const input = Buffer.from(spaced.join(""));
const expected = values.map((value) => `${JSON.stringify(value)},\n`).join("");

async function compact(chunks: Buffer[]): Promise<string> {
  const output = await buffer(
    Readable.from(chunks, { objectMode: true }).pipe(new CompactJsonLines()),
  );
  return output.toString("utf8");
}

describe("CompactJsonLines", () => {
  it("drops the spaces between members, never those in strings", async () => {
    expect(input.toString()).toContain('{ "a": 1, "b": [ 1, 2.5');
    expect(await compact([input])).toBe(expected);
  });

  it("keeps a string's state across chunks, cut anywhere (inside escapes and characters too)", async () => {
    for (let size = 1; size <= 7; size++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < input.length; at += size) chunks.push(input.subarray(at, at + size));
      expect(await compact(chunks)).toBe(expected);
    }
  });
});
