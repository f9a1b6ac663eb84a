import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eventDefinitions, eventTypes } from "./catalog/index.ts";
import { catalogTypeNames, eventSummaries, getEventSummary } from "./event-summaries.ts";
import { eventSummariesSource, summariesFromCatalog } from "./event-summaries-source.ts";

describe("event summaries (the catalog without its schemas)", () => {
  it("hold every catalog type with its category, title and flags, in catalog order", () => {
    expect(eventSummaries).toEqual(summariesFromCatalog());
    expect(catalogTypeNames).toEqual(eventTypes);
    expect(eventSummaries).toHaveLength(eventDefinitions.length);
    const hidden = eventDefinitions.filter((definition) => definition.hiddenByDefault);
    expect(hidden.length).toBeGreaterThan(0);
    for (const definition of hidden)
      expect(getEventSummary(definition.type)?.hiddenByDefault).toBe(true);
    expect(getEventSummary("org.create")).toEqual({
      type: "org.create",
      category: "organization",
      title: "Organization created",
      hiddenByDefault: false,
      reservedForApi: false,
    });
    expect(getEventSummary("no.such.type")).toBeUndefined();
  });

  it("are the generated file as the generator writes it now (run generate:summaries after a catalog change)", () => {
    const file = readFileSync(join(import.meta.dirname, "generated/event-summaries.ts"), "utf8");
    expect(file).toBe(eventSummariesSource());
  });

  it("build no zod schema: the generated module and its wrapper import nothing at run time", () => {
    for (const name of ["generated/event-summaries.ts", "event-summaries.ts"]) {
      const source = readFileSync(join(import.meta.dirname, name), "utf8");
      const runtimeImports = source
        .split("\n")
        .filter((line) => /^import /.test(line) && !/^import type /.test(line));
      expect(
        runtimeImports.every((line) => line.includes("./generated/event-summaries.ts")),
        name,
      ).toBe(true);
    }
  });
});
