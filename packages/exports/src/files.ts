import type { ExportFormat } from "@auditlog/events";

/** The file extension (before `.gz`) of each format. */
export const exportFileExtensions: Record<ExportFormat, string> = {
  json: "json",
  ndjson: "ndjson",
  csv: "csv",
};

interface ExportIdentity {
  id: string;
  orgId: string;
  format: ExportFormat;
}

/**
 * Where one build attempt's file is stored. Each attempt writes its own file, so a late writer
 * (a worker presumed dead) can never touch the file of the attempt that owns the export now.
 */
export function exportFileKey(record: ExportIdentity, attempt: number): string {
  return `${record.orgId}/${record.id}-${attempt}.${exportFileExtensions[record.format]}.gz`;
}

/** The name a download is saved under: the organisation, the export and the format. */
export function exportDownloadName(orgSlug: string, record: Omit<ExportIdentity, "orgId">): string {
  return `${orgSlug}-audit-log-${record.id}.${exportFileExtensions[record.format]}.gz`;
}

/** The name a manifest download is saved under, beside its export's file. */
export function exportManifestName(orgSlug: string, record: Pick<ExportIdentity, "id">): string {
  return `${orgSlug}-audit-log-${record.id}.manifest.json`;
}
