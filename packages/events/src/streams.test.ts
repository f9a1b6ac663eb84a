import { describe, expect, it } from "vitest";
import { deliveredSinceLastError } from "./streams.ts";

describe("deliveredSinceLastError", () => {
  const at = (minute: number) => `2026-12-04T10:${String(minute).padStart(2, "0")}:00.000Z`;

  it("is true only when the last success came after the last error", () => {
    expect(deliveredSinceLastError({ lastErrorAt: at(1), lastSuccessAt: at(2) })).toBe(true);
    expect(deliveredSinceLastError({ lastErrorAt: at(2), lastSuccessAt: at(1) })).toBe(false);
    expect(deliveredSinceLastError({ lastErrorAt: at(2), lastSuccessAt: at(2) })).toBe(false);
  });

  it("is false without an error or without a success", () => {
    expect(deliveredSinceLastError({ lastErrorAt: null, lastSuccessAt: at(2) })).toBe(false);
    expect(deliveredSinceLastError({ lastErrorAt: at(1), lastSuccessAt: null })).toBe(false);
  });
});
