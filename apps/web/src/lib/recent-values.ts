import type { ParsedQuery, QueryKey } from "@auditlog/events";

/** Values the user filtered by recently, per query key, for the query bar's completion. */
export type RecentValues = Partial<Record<QueryKey, string[]>>;

const storageKey = "auditlog.recent-values";
const perKey = 8;

export function loadRecentValues(): RecentValues {
  try {
    const parsed: unknown = JSON.parse(window.localStorage.getItem(storageKey) ?? "{}");
    return parsed && typeof parsed === "object" ? (parsed as RecentValues) : {};
  } catch {
    return {};
  }
}

export function rememberQueryValues(query: ParsedQuery): RecentValues {
  const recent = loadRecentValues();
  const add = (key: QueryKey, values: string[]) => {
    if (values.length === 0) return;
    recent[key] = [...new Set([...values, ...(recent[key] ?? [])])].slice(0, perKey);
  };
  add("author", [...query.authors, ...query.excludeAuthors]);
  add("type", [...query.types, ...query.excludeTypes]);
  add("target", [...query.targets, ...query.excludeTargets]);
  add("ip", [...query.ipPrefixes, ...query.excludeIpPrefixes]);
  add("country", [...query.countries, ...query.excludeCountries]);
  try {
    window.localStorage.setItem(storageKey, JSON.stringify(recent));
  } catch {
    // Private mode or full storage: completion just has fewer suggestions.
  }
  return recent;
}

/** Merges lists per key, first ones first, without duplicates. */
export function mergeRecentValues(...sources: RecentValues[]): RecentValues {
  const merged: RecentValues = {};
  for (const source of sources) {
    for (const [key, values] of Object.entries(source) as [QueryKey, string[]][]) {
      merged[key] = [...new Set([...(merged[key] ?? []), ...values])].slice(0, 20);
    }
  }
  return merged;
}
