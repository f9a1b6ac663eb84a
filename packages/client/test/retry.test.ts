import { describe, expect, it } from "vitest";
import { newEventId, parseRetryAfter, retryDelay } from "../src/index.ts";

describe("retry timing", () => {
  const backoff = { initialDelayMs: 250, maxDelayMs: 30_000 };

  it("reads Retry-After as seconds or as an HTTP date, and nothing else", () => {
    const now = Date.parse("2026-12-02T10:00:00Z");
    expect(parseRetryAfter("1", now)).toBe(1000);
    expect(parseRetryAfter(" 120 ", now)).toBe(120_000);
    expect(parseRetryAfter("Wed, 02 Dec 2026 10:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Wed, 02 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-1", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    // A wrong header does not park a batch for days.
    expect(parseRetryAfter("999999999", now)).toBe(3_600_000);
  });

  it("backs off exponentially with full jitter, up to the ceiling", () => {
    expect(retryDelay(1, backoff, undefined, () => 0.999)).toBeLessThanOrEqual(250);
    expect(retryDelay(3, backoff, undefined, () => 0.999)).toBe(999);
    expect(retryDelay(3, backoff, undefined, () => 0)).toBe(0);
    expect(retryDelay(30, backoff, undefined, () => 1)).toBe(30_000);
  });

  it("never retries sooner than Retry-After, whatever the jitter draws", () => {
    for (const random of [0, 0.5, 0.999]) {
      for (const attempt of [1, 2, 10]) {
        const delay = retryDelay(attempt, backoff, 1000, () => random);
        expect(delay).toBeGreaterThanOrEqual(1000);
        expect(delay).toBeLessThanOrEqual(Math.max(1000, 250 * 2 ** (attempt - 1)) + 200);
      }
    }
    // A longer backoff wins over a shorter Retry-After.
    expect(retryDelay(10, backoff, 1000, () => 0.999)).toBeGreaterThan(30_000 * 0.99);
  });

  it("makes event ids shaped as the API's: evt_, 8 hex of seconds, 16 random hex", () => {
    const at = new Date("2026-12-02T10:00:00Z");
    const id = newEventId(at);
    expect(id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(Number.parseInt(id.slice(4, 12), 16)).toBe(at.getTime() / 1000);
    expect(new Set(Array.from({ length: 10_000 }, () => newEventId())).size).toBe(10_000);
  });
});
