import { type AuditEntry, type AuditEntryPage } from "@auditlog/events";
import { type InfiniteData, infiniteQueryOptions, queryOptions } from "@tanstack/react-query";
import { apiRequest } from "../../api/client.ts";
import { logPageSize } from "../../api/early-requests.ts";
import { type ResolvedFilters, toSearchParams } from "./filters.ts";

/** The entry script starts the first page of the default view early (early-requests.ts). */
export const pageSize = logPageSize;

const orgPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}`;

/** Query keys of one organisation's log: invalidating `all` refreshes list, chart and details. */
export const auditLogKeys = {
  all: (orgSlug: string) => ["orgs", orgSlug, "audit-logs"] as const,
  list: (orgSlug: string, filters: ResolvedFilters) =>
    [...auditLogKeys.all(orgSlug), "list", filters] as const,
  histogram: (orgSlug: string, filters: ResolvedFilters, timeZone: string) =>
    [...auditLogKeys.all(orgSlug), "histogram", filters, timeZone] as const,
  entry: (orgSlug: string, id: string) => [...auditLogKeys.all(orgSlug), "entry", id] as const,
};

/** Newest first, one cursor page at a time. */
export function auditLogListOptions(orgSlug: string, filters: ResolvedFilters) {
  return infiniteQueryOptions({
    queryKey: auditLogKeys.list(orgSlug, filters),
    queryFn: ({ pageParam, signal }) => {
      const params = toSearchParams(filters);
      params.set("limit", String(pageSize));
      if (pageParam) params.set("cursor", pageParam);
      return apiRequest(`${orgPath(orgSlug)}/audit-logs?${params}`, {
        schema: (schemas) => schemas.auditEntryPageSchema,
        // The hot path: on screen first, checked against the schema when the browser is idle.
        check: "idle",
        signal,
      });
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last: AuditEntryPage) => last.nextCursor,
  });
}

/**
 * The chart's buckets and the filter's total. The server picks the bucket size for the range
 * (All time: from the oldest matching entry), aligned in the declared zone.
 */
export function histogramOptions(orgSlug: string, filters: ResolvedFilters, timeZone: string) {
  return queryOptions({
    queryKey: auditLogKeys.histogram(orgSlug, filters, timeZone),
    queryFn: ({ signal }) => {
      const params = toSearchParams(filters);
      params.set("interval", "auto");
      params.set("tz", timeZone);
      return apiRequest(`${orgPath(orgSlug)}/audit-logs/histogram?${params}`, {
        schema: (schemas) => schemas.histogramSchema,
        signal,
      });
    },
  });
}

/** One entry, for a shared link whose entry is not on the loaded pages. */
export function auditEntryOptions(orgSlug: string, id: string) {
  return queryOptions({
    queryKey: auditLogKeys.entry(orgSlug, id),
    queryFn: ({ signal }) =>
      apiRequest(`${orgPath(orgSlug)}/audit-logs/${encodeURIComponent(id)}`, {
        schema: (schemas) => schemas.auditEntrySchema,
        signal,
      }),
  });
}

export function flattenPages(data: InfiniteData<AuditEntryPage> | undefined): AuditEntry[] {
  return data?.pages.flatMap((page) => page.entries) ?? [];
}
