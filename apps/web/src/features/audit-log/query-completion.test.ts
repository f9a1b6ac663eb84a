import { parseQuery } from "@auditlog/events";
import { describe, expect, it } from "vitest";
import { completeQuery, remoteTermAt } from "./query-completion.ts";

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

describe("completion of values from the server", () => {
  it("knows when the term being typed is an author, target or ip value", () => {
    expect(remoteTermAt("type:repo.create author:zo", 26)).toEqual({ key: "author", prefix: "zo" });
    expect(remoteTermAt('-actor:"Zo', 10)).toEqual({ key: "author", prefix: "Zo" });
    expect(remoteTermAt("ip:203.", 7)).toEqual({ key: "ip", prefix: "203." });
    expect(remoteTermAt("country:f", 9)).toBeNull();
    expect(remoteTermAt("author", 6)).toBeNull();
  });

  it("lists the server's values under their own group, once, quoted when needed", () => {
    const completion = completeQuery("author:zo", 9, { author: ["zoe-bot"] }, Date.now(), "UTC", {
      key: "author",
      prefix: "zo",
      values: [{ value: "Zoë Martin" }, { value: "zoe-bot" }],
    });
    expect(
      completion?.groups.map((group) => [group.label, group.options.map((o) => o.insert)]),
    ).toEqual([
      ["Recent", ["author:zoe-bot "]],
      ["In this log", ['author:"Zoë Martin" ']],
    ]);
  });

  it("matches recent values without regard to accents", () => {
    const completion = completeQuery("author:zoe", 10, { author: ["Zoë Martin", "bob"] });
    expect(completion?.groups[0]?.options.map((option) => option.label)).toEqual(["Zoë Martin"]);
  });
});
