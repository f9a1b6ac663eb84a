import { type AuditExport, describeFilter } from "@auditlog/events";

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** An export's filter in words, times in the reader's zone: "Last 7 days · type:repo.create". */
export function describeExportFilter(item: Pick<AuditExport, "query" | "createdAt">): string {
  return describeFilter(item.query, {
    requestedAt: item.createdAt,
    formatInstant: (iso) => when.format(new Date(iso)),
  });
}

/**
 * The toast for a started export. One id for all of them: starting another replaces the toast
 * instead of stacking a second "Export started".
 */
export function exportStartedToast(created: AuditExport) {
  return {
    id: "export-started",
    title: "Export started",
    body: `Filter: ${describeExportFilter(created)}. You will be notified when the file is ready.`,
  };
}
