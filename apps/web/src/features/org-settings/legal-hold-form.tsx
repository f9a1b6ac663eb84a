import type { RetentionSettings } from "@auditlog/events";
import { useId, useState } from "react";
import { errorMessage } from "../../api/client.ts";
import { useUpdateRetention } from "./retention-queries.ts";
import { FieldError, SettingsForm } from "./settings-field.tsx";

const maxReason = 500;

/** Places or lifts the legal hold; either needs a reason, which the log records. */
export function LegalHoldForm({
  orgSlug,
  settings,
}: {
  orgSlug: string;
  settings: RetentionSettings;
}) {
  const [reason, setReason] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const update = useUpdateRetention(orgSlug);
  const reasonId = useId();
  const errorId = useId();
  const placing = !settings.legalHold;
  const error = problem ?? (update.isError ? errorMessage(update.error) : null);

  return (
    <SettingsForm
      title="Legal hold"
      className="settings-card"
      onSubmit={() => {
        const trimmed = reason.trim();
        const found = trimmed
          ? null
          : `Give a reason to ${placing ? "place" : "lift"} the legal hold.`;
        setProblem(found);
        setSaved(null);
        if (found) return;
        update.mutate(
          { legalHold: placing, reason: trimmed },
          {
            onSuccess: (next) => {
              setReason("");
              setSaved(next.legalHold ? "Legal hold placed." : "Legal hold lifted.");
            },
          },
        );
      }}
    >
      {settings.legalHold ? (
        <p>
          <strong>On.</strong> Nothing of this organisation is purged, whatever its retention.
          {settings.legalHoldReason ? (
            <>
              {" "}
              Reason: <q className="wrap">{settings.legalHoldReason}</q>
            </>
          ) : null}
        </p>
      ) : (
        <p className="muted">
          Off. Place a hold to stop every purge of this organisation's log, for litigation or an
          inquiry, until it is lifted.
        </p>
      )}
      <div className="field">
        <label htmlFor={reasonId}>
          Reason for {placing ? "placing" : "lifting"} the hold (recorded in the log)
        </label>
        <textarea
          id={reasonId}
          className="input settings-reason"
          rows={2}
          maxLength={maxReason}
          required
          value={reason}
          aria-invalid={problem ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          placeholder={placing ? "Litigation hold, case 2026-114" : "Case closed"}
          onChange={(event) => {
            setReason(event.target.value);
            setProblem(null);
            setSaved(null);
          }}
        />
        <FieldError id={errorId} message={error} />
        {saved ? (
          <span className="settings-saved" role="status">
            {saved}
          </span>
        ) : null}
      </div>
      <div>
        <button
          type="submit"
          className={placing ? "button button-primary" : "button"}
          disabled={update.isPending}
        >
          {update.isPending ? "Saving…" : placing ? "Place legal hold" : "Lift legal hold"}
        </button>
      </div>
    </SettingsForm>
  );
}
