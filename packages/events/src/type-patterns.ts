// The zod-free list: the console parses queries without building the catalog's schemas.
import { catalogTypeNames } from "./event-summaries.ts";

/**
 * The Hub split the legacy `org.update_settings` into granular `org.settings.*` events, so a
 * filter on either must find both generations of entries.
 */
const legacySettingsType = "org.update_settings";
const settingsPrefix = "org.settings.";

/** True when `pattern` (an exact type or a `scope.*` wildcard) selects `type`. */
export function matchesTypePattern(pattern: string, type: string): boolean {
  if (pattern === type) return true;
  if (pattern.endsWith(".*")) {
    const prefix = pattern.slice(0, -1);
    if (type.startsWith(prefix)) return true;
    return type === legacySettingsType && settingsPrefix.startsWith(prefix);
  }
  if (pattern === legacySettingsType) return type.startsWith(settingsPrefix);
  return false;
}

/** The catalog's types that any of `patterns` selects, for an indexed `type = ANY(…)` query. */
export function expandTypePatterns(patterns: readonly string[]): string[] {
  return catalogTypeNames.filter((type) =>
    patterns.some((pattern) => matchesTypePattern(pattern, type)),
  );
}

/** A pattern is valid when it selects at least one catalog type. */
export function isKnownTypePattern(pattern: string): boolean {
  return expandTypePatterns([pattern]).length > 0;
}
