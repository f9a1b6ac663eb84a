import { describe, expect, it } from "vitest";
import { money } from "./describe-helpers.ts";

describe("money", () => {
  it("formats minor units in the currency's own number of digits, the same every time", () => {
    for (let round = 0; round < 3; round++) {
      expect(money({ amount: 123456 })).toBe("$1,234.56");
      expect(money({ amount: 1999, currency: "EUR" })).toBe("€19.99");
      expect(money({ amount: 500, currency: "JPY" })).toBe("¥500");
    }
  });

  it("falls back to plain text for a code Intl does not accept", () => {
    expect(money({ amount: 250, currency: "NOT-A-CODE" })).toBe("2.50 NOT-A-CODE");
    expect(money({ amount: 250, currency: "NOT-A-CODE" })).toBe("2.50 NOT-A-CODE");
  });
});
