import { describe, expect, it } from "vitest";
import { toPostgresJson } from "./json-text.ts";

describe("toPostgresJson", () => {
  it("replaces lone surrogates with U+FFFD and keeps everything else as JSON.stringify wrote it", () => {
    const value = {
      lone: "a\ud800b",
      trailing: "x\udc00",
      pair: "emoji 😀",
      literal: "\\ud800 is text here",
      escapedThenLone: "\\\ud800",
      nested: ["\udfff", { deeper: "\ud83d" }],
    };
    const text = toPostgresJson(value);
    expect(JSON.parse(text)).toEqual({
      lone: "a\ufffdb",
      trailing: "x\ufffd",
      pair: "emoji 😀",
      literal: "\\ud800 is text here",
      escapedThenLone: "\\\ufffd",
      nested: ["\ufffd", { deeper: "\ufffd" }],
    });
    const plain = { a: 1, b: "tab\there", c: null };
    expect(toPostgresJson(plain)).toBe(JSON.stringify(plain));
  });
});
