import { describe, expect, it } from "vitest";
import { newId } from "./ids.ts";

describe("newId", () => {
  it("is the prefix and 24 hex digits, starting with the creation time in seconds", () => {
    const at = new Date("2026-11-26T12:00:00.900Z");
    const id = newId("evt", at);
    expect(id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(Number.parseInt(id.slice(4, 12), 16)).toBe(Math.floor(at.getTime() / 1000));
  });

  it("never repeats across many refills of its random pool, and uses every byte value", () => {
    const ids = Array.from({ length: 100_000 }, () => newId("evt"));
    expect(new Set(ids).size).toBe(ids.length);
    const randomParts = new Set(ids.map((id) => id.slice(12)));
    expect(randomParts.size).toBe(ids.length);
    const seen = new Set(ids.flatMap((id) => id.slice(12).match(/../g) ?? []));
    expect(seen.size).toBe(256);
  });
});
