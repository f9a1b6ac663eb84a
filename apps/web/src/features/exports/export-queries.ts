import { type AuditExport, type CreateExportRequest, type ExportProgress } from "@auditlog/events";
import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { apiRequest } from "../../api/client.ts";

const exportsPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}/exports`;

export const exportKeys = {
  list: (orgSlug: string) => ["orgs", orgSlug, "exports"] as const,
};

export const isActiveExport = (item: Pick<AuditExport, "status">) =>
  item.status === "queued" || item.status === "running";

/**
 * The organisation's exports, newest first. While any is queued or running, the list is polled
 * every 2 seconds when the live stream is not connected (and every 15 seconds when it is, in
 * case an event was lost), so progress always moves.
 */
export function exportListOptions(orgSlug: string, options: { live: boolean }) {
  return queryOptions({
    queryKey: exportKeys.list(orgSlug),
    queryFn: async ({ signal }) =>
      (
        await apiRequest(exportsPath(orgSlug), {
          schema: (schemas) => schemas.exportListSchema,
          signal,
        })
      ).exports,
    refetchInterval: (query) =>
      query.state.data?.some(isActiveExport) ? (options.live ? 15_000 : 2000) : false,
  });
}

export function useCreateExport(orgSlug: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (request: CreateExportRequest) =>
      apiRequest(exportsPath(orgSlug), {
        method: "POST",
        body: request,
        schema: (schemas) => schemas.exportSchema,
      }),
    onSuccess: (created) => {
      queryClient.setQueryData<AuditExport[]>(exportKeys.list(orgSlug), (list) => [
        created,
        ...(list ?? []).filter((item) => item.id !== created.id),
      ]);
      void queryClient.invalidateQueries({ queryKey: exportKeys.list(orgSlug) });
    },
  });
}

export function downloadUrl(orgSlug: string, exportId: string): string {
  return `${exportsPath(orgSlug)}/${encodeURIComponent(exportId)}/download`;
}

/** Applies a live `export.progress` event to the cached list. */
export function applyExportProgress(
  list: AuditExport[] | undefined,
  progress: ExportProgress,
): AuditExport[] | undefined {
  if (!list) return list;
  return list.map((item) =>
    item.id === progress.exportId
      ? {
          ...item,
          status: progress.status,
          rowsWritten: progress.rowsWritten,
          estimatedTotal: progress.estimatedTotal,
        }
      : item,
  );
}
