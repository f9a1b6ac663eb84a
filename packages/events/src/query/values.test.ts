import { describe, expect, it } from "vitest";
import { parse, query } from "../../test/support/query-helpers.ts";
import { type ParsedQuery } from "./index.ts";

describe("parseQuery", () => {
  describe("created", () => {
    it.each<[string, Pick<ParsedQuery, "createdFrom" | "createdTo">]>([
      ["created:>=2026-01-01", { createdFrom: "2026-01-01T00:00:00.000Z" }],
      ["created:>2026-01-01", { createdFrom: "2026-01-02T00:00:00.000Z" }],
      ["created:<2026-02-01", { createdTo: "2026-02-01T00:00:00.000Z" }],
      ["created:<=2026-01-31", { createdTo: "2026-02-01T00:00:00.000Z" }],
      ["created:<2026-02-01T10:00:00Z", { createdTo: "2026-02-01T10:00:00.000Z" }],
      ["created:<=2026-02-01T10:00:00Z", { createdTo: "2026-02-01T10:00:00.001Z" }],
      ["created:>=2026-02-01T10:00Z", { createdFrom: "2026-02-01T10:00:00.000Z" }],
      ["created:>2026-02-01T10:00:00.5Z", { createdFrom: "2026-02-01T10:00:00.501Z" }],
      ["created:>=2026-02-01t10:00:00.123456789z", { createdFrom: "2026-02-01T10:00:00.123Z" }],
      ["created:>=2026-01-01T01:30:00+02:00", { createdFrom: "2025-12-31T23:30:00.000Z" }],
      ["created:>=2026-01-01T01:30:00-0230", { createdFrom: "2026-01-01T04:00:00.000Z" }],
      [
        "created:2026-01-01",
        { createdFrom: "2026-01-01T00:00:00.000Z", createdTo: "2026-01-02T00:00:00.000Z" },
      ],
      [
        "created:2024-02-29",
        { createdFrom: "2024-02-29T00:00:00.000Z", createdTo: "2024-03-01T00:00:00.000Z" },
      ],
      [
        "created:2026-01-01..2026-01-31",
        { createdFrom: "2026-01-01T00:00:00.000Z", createdTo: "2026-02-01T00:00:00.000Z" },
      ],
      [
        "created:2026-01-01T10:00:00Z..2026-01-01T12:00:00Z",
        { createdFrom: "2026-01-01T10:00:00.000Z", createdTo: "2026-01-01T12:00:00.001Z" },
      ],
      [
        "created:2026-01-01T10:00:00Z",
        { createdFrom: "2026-01-01T10:00:00.000Z", createdTo: "2026-01-01T10:00:00.001Z" },
      ],
      ["created:2026-01-01..*", { createdFrom: "2026-01-01T00:00:00.000Z" }],
      ["created:*..2026-01-31", { createdTo: "2026-02-01T00:00:00.000Z" }],
      ['created:">=2026-01-01"', { createdFrom: "2026-01-01T00:00:00.000Z" }],
      // Bounds past what an ISO string can hold in four digits are simply open.
      ["created:<=9999-12-31", {}],
      ["created:>=0000-01-01T00:30+01:00", {}],
      [
        "created:0000-01-01",
        { createdFrom: "0000-01-01T00:00:00.000Z", createdTo: "0000-01-02T00:00:00.000Z" },
      ],
    ])("%s", (input, bounds) => {
      expect(parse(input)).toStrictEqual(query(bounds));
    });

    it("several created terms intersect: the tightest bounds win", () => {
      expect(
        parse(
          "created:>=2026-01-01 created:>=2026-01-10 created:<2026-03-01 created:2026-01-01..2026-01-31",
        ),
      ).toStrictEqual(
        query({ createdFrom: "2026-01-10T00:00:00.000Z", createdTo: "2026-02-01T00:00:00.000Z" }),
      );
    });

    it("a disjoint intersection is kept as an empty window, not an error", () => {
      expect(parse("created:<2026-01-01 created:>=2026-02-01")).toStrictEqual(
        query({ createdFrom: "2026-02-01T00:00:00.000Z", createdTo: "2026-01-01T00:00:00.000Z" }),
      );
    });
  });
});
