import { parseQuery } from "@auditlog/events";
import { describe, expect, it } from "vitest";
import { completeQuery } from "./query-completion.ts";

describe("created: completion", () => {
  const now = Date.parse("2026-03-01T23:30:00Z"); // 2 March, 00:30 in Paris

  const dates = (timeZone: string) => {
    const completion = completeQuery("created:", 8, {}, now, timeZone);
    const group = completion?.groups[0];
    return { label: group?.label, options: group?.options ?? [] };
  };

  it("offers UTC days in UTC", () => {
    const { label, options } = dates("UTC");
    expect(label).toBe("Dates (UTC)");
    expect(options.map((option) => option.label)).toEqual([
      "2026-03-01",
      ">=2026-02-28",
      ">=2026-02-22",
      ">=2026-01-30",
      "2026-02-22..2026-03-01",
    ]);
  });

  it("offers the declared zone's days, with its offset, which the query language reads as such", () => {
    const { label, options } = dates("Europe/Paris");
    expect(label).toBe("Dates (Europe/Paris)");
    expect(options[0]?.label).toBe(">=2026-03-02T00:00+01:00");
    expect(options[4]?.label).toBe("2026-02-23T00:00+01:00..2026-03-02T23:59:59.999+01:00");
    const range = parseQuery(`created:${options[4]?.label}`);
    expect(range.ok && range.query.createdFrom).toBe("2026-02-22T23:00:00.000Z");
    expect(range.ok && range.query.createdTo).toBe("2026-03-02T23:00:00.000Z");
    for (const option of options) expect(parseQuery(option.insert.trim()).ok).toBe(true);
  });
});
