import { type AuditExport, type ExportFormat, exportFormats } from "@auditlog/events";
import { useId, useState } from "react";
import { errorMessage } from "../../api/client.ts";
import { Modal } from "../../components/modal.tsx";
import { type ResolvedFilters, toExportRequest } from "../audit-log/filters.ts";
import { useCreateExport } from "./export-queries.ts";

const formatInfo: Record<ExportFormat, { label: string; detail: string }> = {
  json: { label: "JSON", detail: "One JSON array, the Hub's export format" },
  ndjson: { label: "NDJSON", detail: "One JSON entry per line, for streaming tools" },
  csv: { label: "CSV", detail: "For spreadsheets; formulas are neutralised" },
};

interface ExportDialogProps {
  orgSlug: string;
  filters: ResolvedFilters;
  onClose: () => void;
  onCreated: (created: AuditExport) => void;
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Requests a background export of the filter on screen, in the chosen format. */
export function ExportDialog({ orgSlug, filters, onClose, onCreated }: ExportDialogProps) {
  const [format, setFormat] = useState<ExportFormat>("json");
  const [includeHidden, setIncludeHidden] = useState(false);
  const hintId = useId();
  const create = useCreateExport(orgSlug);
  const formId = useId();
  const range =
    filters.from || filters.to
      ? `${filters.from ? when.format(new Date(filters.from)) : "the beginning"} – ${
          filters.to ? when.format(new Date(filters.to)) : "now"
        }`
      : "All time";

  return (
    <Modal
      title="Export audit log"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="submit"
            form={formId}
            className="button button-primary"
            disabled={create.isPending}
          >
            {create.isPending ? "Starting…" : "Start export"}
          </button>
        </>
      }
    >
      <form
        id={formId}
        className="export-form"
        onSubmit={(event) => {
          event.preventDefault();
          const request = toExportRequest(filters, format);
          if (includeHidden) request.filters = { ...request.filters, includeHidden: true };
          create.mutate(request, { onSuccess: onCreated });
        }}
      >
        <p className="muted">
          The file is built in the background. You can keep working: a notification tells you when
          it is ready to download.
        </p>
        <dl className="export-filter">
          <dt>Query</dt>
          <dd className="mono">{filters.q || <span className="muted">None</span>}</dd>
          <dt>Types</dt>
          <dd className="mono">
            {filters.types.length > 0 ? (
              filters.types.join(", ")
            ) : (
              <span className="muted">All</span>
            )}
          </dd>
          <dt>Time range</dt>
          <dd>{range}</dd>
        </dl>
        <fieldset className="format-choice">
          <legend>Format</legend>
          {exportFormats.map((value) => (
            <label key={value} className="format-option">
              <input
                type="radio"
                name="format"
                value={value}
                checked={format === value}
                onChange={() => setFormat(value)}
                data-autofocus={format === value ? true : undefined}
              />
              <span>
                <strong>{formatInfo[value].label}</strong>
                <span className="muted">{formatInfo[value].detail}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <div className="export-hidden">
          <label className="export-hidden-option">
            <input
              type="checkbox"
              checked={includeHidden}
              onChange={(event) => setIncludeHidden(event.target.checked)}
              aria-describedby={hintId}
            />
            Include hidden entries
          </label>
          <p id={hintId} className="muted small">
            Entries of types the log hides by default are left out unless you include them. With no
            filter and hidden entries included, the file holds every entry of the log, so its
            entries can be checked against the signed checkpoint (
            <code>auditlog verify-export</code>).
          </p>
        </div>
        {create.isError ? (
          <p className="notice notice-error" role="alert">
            Could not start the export: {errorMessage(create.error)}
          </p>
        ) : null}
      </form>
    </Modal>
  );
}
