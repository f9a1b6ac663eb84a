import type { SuggestionKey } from "@auditlog/events";
import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { apiRequest } from "../../api/client.ts";
import { auditLogKeys } from "../audit-log/audit-log-queries.ts";
import { type ResolvedFilters, toSearchParams } from "../audit-log/filters.ts";

const logPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}/audit-logs`;

/** Under the log's keys, so Refresh (invalidating `auditLogKeys.all`) refreshes the facets too. */
export const facetKeys = {
  facets: (orgSlug: string, filters: ResolvedFilters) =>
    [...auditLogKeys.all(orgSlug), "facets", filters] as const,
  suggestions: (orgSlug: string, key: SuggestionKey, prefix: string) =>
    [...auditLogKeys.all(orgSlug), "suggestions", key, prefix] as const,
};

/** The top values of each facet for the filter on screen. */
export function facetsOptions(orgSlug: string, filters: ResolvedFilters) {
  return queryOptions({
    queryKey: facetKeys.facets(orgSlug, filters),
    queryFn: ({ signal }) =>
      apiRequest(`${logPath(orgSlug)}/facets?${toSearchParams(filters)}`, {
        schema: (schemas) => schemas.facetsSchema,
        signal,
      }),
    placeholderData: keepPreviousData,
  });
}

/** Values of author, target or ip for the query bar, from the whole log (not the loaded rows). */
export function suggestionsOptions(orgSlug: string, key: SuggestionKey, prefix: string) {
  return queryOptions({
    queryKey: facetKeys.suggestions(orgSlug, key, prefix),
    queryFn: ({ signal }) => {
      const params = new URLSearchParams({ key, prefix, limit: "12" });
      return apiRequest(`${logPath(orgSlug)}/suggestions?${params}`, {
        schema: (schemas) => schemas.suggestionsSchema,
        signal,
      });
    },
    staleTime: 30_000,
    placeholderData: keepPreviousData,
  });
}
