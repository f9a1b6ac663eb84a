import { describeFilter, formatBytes } from "@auditlog/events";
import type { ExportWebhookPayload } from "@auditlog/events/jobs";

/**
 * A finished export as the export worker hands it over (`onExportFinished`). Counts may come
 * straight from PostgreSQL bigint columns.
 */
export interface FinishedExport {
  id: string;
  orgId: string;
  /** The requesting user's id. */
  requestedBy: string;
  format: string;
  status: "ready" | "failed";
  rowsWritten: number | bigint;
  fileSize: number | bigint | null;
  error: string | null;
  /** The export's filter in the query language ("" for the whole log). */
  query: string;
  /** When it was requested: a filter starting 7 days before reads "Last 7 days". */
  createdAt?: Date;
}

const maxErrorLength = 500;

const utc = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});

/** The filter in words ("Last 7 days · type:repo.create"); times in UTC, which it says. */
function filterText(finished: FinishedExport): string {
  if (!finished.query.trim()) return "";
  const text = describeFilter(finished.query, {
    ...(finished.createdAt ? { requestedAt: finished.createdAt } : {}),
    formatInstant: (iso) => `${utc.format(new Date(iso))} UTC`,
  });
  return ` Filter: ${text}.`;
}

function entries(n: number): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? "entry" : "entries"}`;
}

function errorText(error: string | null): string {
  const text = (error ?? "").trim() || "unknown error";
  return text.length > maxErrorLength ? `${text.slice(0, maxErrorLength - 1)}…` : text;
}

export interface RenderedNotification {
  kind: "export.ready" | "export.failed";
  title: string;
  body: string;
}

export function renderNotification(
  finished: FinishedExport,
  orgSlug: string,
): RenderedNotification {
  const format = finished.format.toUpperCase();
  const filter = filterText(finished);
  if (finished.status === "ready") {
    const rows = Number(finished.rowsWritten);
    const size = finished.fileSize === null ? "" : `, ${formatBytes(Number(finished.fileSize))}`;
    return {
      kind: "export.ready",
      title: "Export ready",
      body: `Your ${format} export of ${orgSlug}'s audit log is ready: ${entries(rows)}${size}.${filter}`,
    };
  }
  return {
    kind: "export.failed",
    title: "Export failed",
    body: `Your ${format} export of ${orgSlug}'s audit log failed: ${errorText(finished.error)}.${filter}`,
  };
}

export function renderEmail(
  finished: FinishedExport,
  orgSlug: string,
  rendered: RenderedNotification,
): { subject: string; text: string } {
  const next =
    finished.status === "ready"
      ? "Download it from the export history of the audit log console; the download link expires."
      : "You can request it again with “New export…” in the audit log console.";
  return {
    subject: `[auditlog] ${rendered.title}: ${orgSlug} (${finished.format.toUpperCase()})`,
    text: [
      rendered.body,
      "",
      `Organization: ${orgSlug}`,
      `Export: ${finished.id}`,
      `Format: ${finished.format}`,
      "",
      next,
      "",
      "You receive this email because you requested this export.",
    ].join("\n"),
  };
}

export function webhookPayload(
  finished: FinishedExport,
  orgSlug: string,
  timestamp: Date,
): ExportWebhookPayload {
  return {
    type: finished.status === "ready" ? "export.ready" : "export.failed",
    timestamp: timestamp.toISOString(),
    data: {
      exportId: finished.id,
      org: orgSlug,
      format: finished.format,
      status: finished.status,
      rowsWritten: Number(finished.rowsWritten),
      fileSize: finished.fileSize === null ? null : Number(finished.fileSize),
      error: finished.status === "failed" ? errorText(finished.error) : null,
    },
  };
}
