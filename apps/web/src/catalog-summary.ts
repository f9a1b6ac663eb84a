import { categories, eventDefinitions } from "@auditlog/events";

/**
 * Placeholder until the console issue: proves the web app consumes the shared catalog through
 * the package's exports map. The type picker will group types this way.
 */
export function typesByCategory(): Record<string, string[]> {
  const grouped: Record<string, string[]> = Object.fromEntries(categories.map((c) => [c, []]));
  for (const definition of eventDefinitions) grouped[definition.category]?.push(definition.type);
  return grouped;
}
