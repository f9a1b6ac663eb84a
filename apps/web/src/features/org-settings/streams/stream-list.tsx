import { deliveredSinceLastError, type LogStream } from "@auditlog/events";
import { useState } from "react";
import { errorMessage } from "../../../api/client.ts";
import { formatRelative } from "../../../lib/format-time.ts";
import { useNow } from "../../../lib/use-now.ts";
import { SettingsTable } from "../settings-table.tsx";
import { DeleteStreamDialog } from "./delete-stream-dialog.tsx";
import { destinationLabels, destinationSummary, formatLag, stateLabels } from "./stream-format.ts";
import { useUpdateStream } from "./stream-queries.ts";

/**
 * The organisation's streams: where each goes, its state, how far it is, its last failure; with
 * pause and delete controls unless `readOnly` (an auditor).
 */
export function StreamList({
  orgSlug,
  streams,
  readOnly = false,
}: {
  orgSlug: string;
  streams: LogStream[];
  readOnly?: boolean;
}) {
  const [deleting, setDeleting] = useState<LogStream | null>(null);
  if (streams.length === 0) {
    return (
      <p className="muted">{readOnly ? "No stream yet." : "No stream yet: create one below."}</p>
    );
  }
  return (
    <>
      <SettingsTable
        columns={["Name", "Destination", "State", "Delivered", "Last success"]}
        actions
      >
        {streams.map((stream) => (
          <StreamRow
            key={stream.id}
            orgSlug={orgSlug}
            stream={stream}
            readOnly={readOnly}
            onDelete={() => setDeleting(stream)}
          />
        ))}
      </SettingsTable>
      {deleting ? (
        <DeleteStreamDialog orgSlug={orgSlug} stream={deleting} onClose={() => setDeleting(null)} />
      ) : null}
    </>
  );
}

function StreamRow({
  orgSlug,
  stream,
  readOnly,
  onDelete,
}: {
  orgSlug: string;
  stream: LogStream;
  readOnly: boolean;
  onDelete: () => void;
}) {
  const now = useNow(30_000);
  const update = useUpdateStream(orgSlug);
  const paused = stream.state === "paused";
  return (
    <tr data-stream-id={stream.id}>
      <th scope="row">
        <span className="stream-name">{stream.name}</span>
        {stream.q ? (
          <span className="muted stream-query">
            <code>{stream.q}</code>
          </span>
        ) : null}
      </th>
      <td>
        <span className="format-badge">{destinationLabels[stream.destination.type]}</span>{" "}
        <span className="wrap">{destinationSummary(stream.destination)}</span>
        {stream.secretHint ? (
          <span className="muted stream-hint">Secret ending in {stream.secretHint}</span>
        ) : null}
      </td>
      <td>
        <span className={`status stream-state-${stream.state}`}>{stateLabels[stream.state]}</span>
        {stream.lastError ? (
          <span className="stream-error wrap">
            Last error
            {stream.lastErrorAt ? ` (${formatRelative(stream.lastErrorAt, now)})` : ""}
            {deliveredSinceLastError(stream) ? ", delivered since" : ""}: {stream.lastError}
          </span>
        ) : null}
      </td>
      <td>
        <span>Through #{stream.deliveredSeq.toLocaleString("en-US")}</span>
        <span className="muted stream-lag">{formatLag(stream.lag)}</span>
      </td>
      <td>{stream.lastSuccessAt ? formatRelative(stream.lastSuccessAt, now) : "Never"}</td>
      <td className="stream-actions">
        {readOnly ? null : (
          <>
            <button
              type="button"
              className="button button-small"
              disabled={update.isPending}
              aria-label={`${paused ? "Resume" : "Pause"} ${stream.name}`}
              onClick={() => update.mutate({ id: stream.id, change: { paused: !paused } })}
            >
              {paused ? "Resume" : "Pause"}
            </button>
            <button
              type="button"
              className="button button-small button-danger"
              aria-label={`Delete ${stream.name}`}
              onClick={onDelete}
            >
              Delete
            </button>
          </>
        )}
        {update.isError ? (
          <span className="field-error" role="alert">
            {errorMessage(update.error)}
          </span>
        ) : null}
      </td>
    </tr>
  );
}
