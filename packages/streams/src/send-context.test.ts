import { describe, expect, it } from "vitest";
import { chunkBySize } from "./http-sender.ts";
import { parseRetryAfter, redactSecret, statusOutcome } from "./send-context.ts";

describe("parseRetryAfter", () => {
  const now = new Date("2026-12-02T04:00:00Z");
  it("reads seconds and HTTP dates, and ignores anything else", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter(["5"], now)).toBe(5_000);
    expect(parseRetryAfter("Wed, 02 Dec 2026 04:01:30 GMT", now)).toBe(90_000);
    expect(parseRetryAfter("Wed, 02 Dec 2026 03:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("statusOutcome", () => {
  const base = { retryAfterMs: undefined, detail: "", secret: null };
  it("delivers 2xx, retries 408/429/5xx/3xx and rejects other 4xx", () => {
    expect(statusOutcome({ ...base, status: 202 })).toEqual({ kind: "delivered", status: 202 });
    for (const status of [408, 429, 500, 503, 302])
      expect(statusOutcome({ ...base, status }).kind).toBe("retry");
    for (const status of [400, 401, 403, 404, 413])
      expect(statusOutcome({ ...base, status }).kind).toBe("rejected");
  });
  it("keeps the secret out of the reason", () => {
    const outcome = statusOutcome({
      ...base,
      status: 401,
      detail: "bad token abcd1234efgh",
      secret: "abcd1234efgh",
    });
    expect(outcome).toMatchObject({ reason: "receiver answered 401: bad token [redacted]" });
    expect(redactSecret("x", "abc")).toBe("x");
  });
});

describe("chunkBySize", () => {
  const limits = { maxCount: 3, maxBytes: 10, separatorBytes: 1, frameBytes: 2 };
  it("cuts at the count and at the byte limit, never leaving an item out", () => {
    expect(chunkBySize([1, 1, 1, 1, 1, 1, 1], () => 1, limits)).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1],
    ]);
    // 2 + 4 + 1 + 4 = 11 > 10: each 4-byte item alone with the next one not fitting.
    expect(chunkBySize(["aaaa", "bbbb", "cc"], (s) => s.length, limits)).toEqual([
      ["aaaa"],
      ["bbbb", "cc"],
    ]);
    expect(chunkBySize(["x".repeat(50), "y"], (s) => s.length, limits)).toEqual([
      ["x".repeat(50)],
      ["y"],
    ]);
    expect(chunkBySize([], () => 1, limits)).toEqual([]);
  });
});
