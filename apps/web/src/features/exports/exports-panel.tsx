import { type AuditExport, formatBytes } from "@auditlog/events";
import { useQuery } from "@tanstack/react-query";
import { ApiRequestError, errorMessage } from "../../api/client.ts";
import { Modal } from "../../components/modal.tsx";
import { formatRelative } from "../../lib/format-time.ts";
import { useLiveStatus } from "../notifications/live-updates.tsx";
import { downloadUrl, exportListOptions, isActiveExport } from "./export-queries.ts";
import { describeExportFilter } from "./export-text.ts";

const number = new Intl.NumberFormat();

const statusLabels: Record<AuditExport["status"], string> = {
  queued: "Queued",
  running: "Building",
  ready: "Ready",
  failed: "Failed",
  expired: "Expired",
};

export function ExportsPanel({ orgSlug, onClose }: { orgSlug: string; onClose: () => void }) {
  const live = useLiveStatus();
  const query = useQuery(exportListOptions(orgSlug, { live }));
  const now = Date.now();
  return (
    <Modal title="Export history" variant="drawer" onClose={onClose}>
      {query.isPending ? (
        <ul className="export-list" aria-busy="true" aria-label="Loading exports">
          {[0, 1, 2].map((index) => (
            <li key={index} className="export-item">
              <span className="skeleton skeleton-text" />
              <span className="skeleton skeleton-bar" />
            </li>
          ))}
        </ul>
      ) : query.isError ? (
        <p className="notice notice-error" role="alert">
          {query.error instanceof ApiRequestError && query.error.status === 404
            ? "Exports are not available on this server yet."
            : `Could not load exports: ${errorMessage(query.error)}`}
        </p>
      ) : query.data.length === 0 ? (
        <div className="empty-state">
          <p className="empty-title">No exports yet</p>
          <p className="muted">
            Use “New export…” above the log to download the entries on screen.
          </p>
        </div>
      ) : (
        <ul className="export-list" aria-label="Exports, newest first">
          {query.data.map((item) => (
            <ExportItem key={item.id} item={item} orgSlug={orgSlug} now={now} />
          ))}
        </ul>
      )}
      <p className="muted small">
        {live ? "Progress updates live." : "Progress refreshes every 2 seconds while exports run."}
      </p>
    </Modal>
  );
}

export function ExportItem({
  item,
  orgSlug,
  now,
}: {
  item: AuditExport;
  orgSlug: string;
  now: number;
}) {
  // Without an estimate (yet), the bar is indeterminate.
  const percent =
    item.estimatedTotal && item.estimatedTotal > 0
      ? Math.min(100, Math.round((item.rowsWritten / item.estimatedTotal) * 100))
      : null;
  const label = `Export ${item.id}`;
  return (
    <li className="export-item" aria-label={label}>
      <div className="export-item-head">
        <span className={`status status-${item.status}`}>{statusLabels[item.status]}</span>
        <span className="format-badge">{item.format.toUpperCase()}</span>
        <span className="muted small" title={item.createdAt}>
          {formatRelative(item.createdAt, now)} by {item.requestedBy.name}
        </span>
      </div>
      <p className="export-query" title={item.query || undefined}>
        {describeExportFilter(item)}
      </p>
      {isActiveExport(item) ? (
        <div className="progress-row">
          <div
            className={`progress${percent === null ? " progress-indeterminate" : ""}`}
            role="progressbar"
            aria-label={`${label} progress`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent ?? undefined}
            aria-valuetext={`${number.format(item.rowsWritten)} of ${
              item.estimatedTotal === null
                ? "an unknown number of"
                : number.format(item.estimatedTotal)
            } entries`}
          >
            <div className="progress-fill" style={{ width: `${percent ?? 35}%` }} />
          </div>
          <span className="small muted progress-text">
            {number.format(item.rowsWritten)}
            {item.estimatedTotal !== null ? ` / ${number.format(item.estimatedTotal)}` : ""} entries
          </span>
        </div>
      ) : null}
      {item.status === "failed" && item.error ? <p className="field-error">{item.error}</p> : null}
      {/* An export whose file an erasure deleted says so (a plain expiry has no error). */}
      {item.status === "expired" && item.error ? <p className="small muted">{item.error}</p> : null}
      {item.status === "ready" ? (
        <div className="export-ready">
          <a
            className="button button-primary button-small"
            href={downloadUrl(orgSlug, item.id)}
            download
          >
            Download{item.fileSize !== null ? ` (${formatBytes(item.fileSize)}, gzip)` : ""}
          </a>
          <span className="small muted">
            {number.format(item.rowsWritten)} {item.rowsWritten === 1 ? "entry" : "entries"}
          </span>
          {item.expiresAt ? (
            <span className="small muted">· expires {formatRelative(item.expiresAt, now)}</span>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}
