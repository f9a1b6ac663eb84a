import { describe, expect, it } from "vitest";
import {
  filtersFromSearch,
  filtersToSearch,
  resolveFilters,
  toExportRequest,
  toSearchParams,
} from "./filters.ts";

const anchor = Date.parse("2026-03-10T12:00:00Z");

describe("filters in the address", () => {
  it("round-trips through the query string, dropping unknown types and defaults", () => {
    const filters = filtersFromSearch(
      "?q=author%3Aalice&type=repo.delete,repo.create,nope.nope&range=7d&from=2026-01-01",
    );
    // An older link's type= parameter joins q as type: terms, where the type picker keeps them.
    expect(filters).toEqual({
      q: "author:alice type:repo.create type:repo.delete",
      types: [],
      range: "7d",
    });
    expect(filtersToSearch(filters)).toBe(
      "?q=author%3Aalice+type%3Arepo.create+type%3Arepo.delete&range=7d",
    );
    expect(filtersToSearch(filtersFromSearch(""))).toBe("");
    expect(filtersToSearch(filters, { entry: "evt_1" })).toContain("entry=evt_1");
  });

  it("treats from/to without a range as a custom range", () => {
    expect(filtersFromSearch("?from=2026-03-01T00:00:00Z&to=bad")).toEqual({
      q: "",
      types: [],
      range: "custom",
      from: "2026-03-01T00:00:00.000Z",
    });
  });

  it("resolves presets at the anchor and builds API parameters and export requests", () => {
    const resolved = resolveFilters(filtersFromSearch("?q=type%3Aorg.*&range=24h"), anchor);
    expect(resolved).toEqual({ q: "type:org.*", types: [], from: "2026-03-09T12:00:00.000Z" });
    expect(toSearchParams(resolved).toString()).toBe(
      "q=type%3Aorg.*&from=2026-03-09T12%3A00%3A00.000Z",
    );
    expect(toExportRequest(resolved, "csv")).toEqual({
      q: "type:org.*",
      filters: { from: "2026-03-09T12:00:00.000Z" },
      format: "csv",
    });
    expect(toExportRequest({ q: "", types: [] }, "json")).toEqual({ format: "json" });
  });
});
