import type { RetentionSettings } from "@auditlog/events";
import { useId, useState } from "react";
import { errorMessage } from "../../api/client.ts";
import { useUpdateRetention } from "./retention-queries.ts";
import { formatDays } from "./retention-summary.tsx";
import { FieldError } from "./settings-field.tsx";

/** Why a typed value cannot be saved, or null; the same bounds the API applies. */
export function daysProblem(value: string, bounds: RetentionSettings["bounds"]): string | null {
  const range = `a whole number of days from ${bounds.minDays} to ${bounds.maxDays}`;
  if (value.trim() === "") return `Enter ${range}.`;
  if (!/^\d+$/.test(value.trim())) return `Enter ${range}.`;
  const days = Number(value);
  if (days < bounds.minDays || days > bounds.maxDays) {
    return `Enter ${range} (your plan's maximum is ${formatDays(bounds.maxDays)}).`;
  }
  return null;
}

export function RetentionForm({
  orgSlug,
  settings,
}: {
  orgSlug: string;
  settings: RetentionSettings;
}) {
  const [value, setValue] = useState(String(settings.days));
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const update = useUpdateRetention(orgSlug);
  const inputId = useId();
  const hintId = useId();
  const errorId = useId();
  const error = problem ?? (update.isError ? errorMessage(update.error) : null);

  return (
    <form
      className="settings-card"
      aria-labelledby={`${inputId}-title`}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const found = daysProblem(value, settings.bounds);
        setProblem(found);
        setSaved(null);
        if (found) return;
        update.mutate(
          { days: Number(value) },
          { onSuccess: (next) => setSaved(`Saved: entries are kept ${formatDays(next.days)}.`) },
        );
      }}
    >
      <h2 id={`${inputId}-title`}>Retention</h2>
      <p className="muted">
        Entries older than this, counted from when they were stored, are purged once a day, unless a
        legal hold is on. Proofs of the entries that remain keep verifying.
      </p>
      <div className="field">
        <label htmlFor={inputId}>Keep entries for (days)</label>
        <div className="settings-inline">
          <input
            id={inputId}
            className="input settings-days"
            type="number"
            inputMode="numeric"
            min={settings.bounds.minDays}
            max={settings.bounds.maxDays}
            step={1}
            required
            value={value}
            aria-invalid={problem ? true : undefined}
            aria-describedby={`${hintId}${error ? ` ${errorId}` : ""}`}
            onChange={(event) => {
              setValue(event.target.value);
              setProblem(null);
              setSaved(null);
            }}
          />
          <button type="submit" className="button button-primary" disabled={update.isPending}>
            {update.isPending ? "Saving…" : "Save retention"}
          </button>
        </div>
        <span id={hintId} className="muted small">
          From {settings.bounds.minDays} to {formatDays(settings.bounds.maxDays)} on your plan.
        </span>
        <FieldError id={errorId} message={error} />
        {saved ? (
          <span className="settings-saved" role="status">
            {saved}
          </span>
        ) : null}
      </div>
    </form>
  );
}
