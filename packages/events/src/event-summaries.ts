import type { Category } from "./categories.ts";
import { generatedEventSummaries } from "./generated/event-summaries.ts";

/**
 * What a screen needs to name and group event types (the type picker, completion, the facet
 * rail), without the catalog's data schemas: building 117 zod schemas was the largest part of
 * the console's start-up on a slow CPU. Generated from the catalog (scripts/
 * generate-event-summaries.ts); a test fails when the two differ.
 */
export interface EventSummary {
  type: string;
  category: Category;
  /** One line for the console's type picker. */
  title: string;
  /** Hidden from the default view of the log (the audit log's own export events). */
  hiddenByDefault: boolean;
  /** Recorded only by the API itself; `POST /v1/events` refuses it. */
  reservedForApi: boolean;
}

/** Every catalog type, in catalog order. */
export const eventSummaries: readonly EventSummary[] = generatedEventSummaries;

/** Every catalog type name, in catalog order. */
export const catalogTypeNames: readonly string[] = eventSummaries.map((summary) => summary.type);

const summariesByType = new Map(eventSummaries.map((summary) => [summary.type, summary]));

export function getEventSummary(type: string): EventSummary | undefined {
  return summariesByType.get(type);
}
