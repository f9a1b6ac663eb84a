import { describe, expect, it } from "vitest";
import { streamRetryDelay } from "./retry-delay.ts";

describe("streamRetryDelay", () => {
  const base = { baseMs: 1000, maxMs: 60_000 };

  it("doubles per consecutive failure, between half and all of the ceiling", () => {
    expect(streamRetryDelay({ ...base, consecutiveFailures: 1, random: () => 0 })).toBe(500);
    expect(streamRetryDelay({ ...base, consecutiveFailures: 1, random: () => 1 })).toBe(1000);
    expect(streamRetryDelay({ ...base, consecutiveFailures: 4, random: () => 0 })).toBe(4000);
    expect(streamRetryDelay({ ...base, consecutiveFailures: 4, random: () => 1 })).toBe(8000);
  });

  it("stops at the maximum, however long the streak", () => {
    expect(streamRetryDelay({ ...base, consecutiveFailures: 500, random: () => 1 })).toBe(60_000);
    expect(streamRetryDelay({ ...base, consecutiveFailures: 500, random: () => 0 })).toBe(30_000);
  });

  it("honours a longer Retry-After, never past the maximum", () => {
    const delay = (retryAfterMs: number) =>
      streamRetryDelay({ ...base, consecutiveFailures: 1, random: () => 0, retryAfterMs });
    expect(delay(10_000)).toBe(10_000);
    expect(delay(100)).toBe(500);
    expect(delay(3_600_000)).toBe(60_000);
  });
});
