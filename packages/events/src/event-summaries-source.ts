import { eventDefinitions } from "./catalog/index.ts";
import type { EventSummary } from "./event-summaries.ts";

/** The catalog's summaries, in catalog order: what src/generated/event-summaries.ts must hold. */
export function summariesFromCatalog(): EventSummary[] {
  return eventDefinitions.map((definition) => ({
    type: definition.type,
    category: definition.category,
    title: definition.title,
    hiddenByDefault: definition.hiddenByDefault === true,
    reservedForApi: definition.reservedForApi === true,
  }));
}

/** The text of src/generated/event-summaries.ts (scripts/generate-event-summaries.ts writes it). */
export function eventSummariesSource(): string {
  const rows = summariesFromCatalog().map((summary) => `  ${JSON.stringify(summary)},`);
  return [
    "// Generated from the event catalog by scripts/generate-event-summaries.ts: do not edit.",
    "// event-summaries.test.ts fails when it differs from the catalog.",
    'import type { EventSummary } from "../event-summaries.ts";',
    "",
    "export const generatedEventSummaries: readonly EventSummary[] = [",
    ...rows,
    "];",
    "",
  ].join("\n");
}
