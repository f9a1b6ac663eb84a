import { useId, useState } from "react";
import { FieldError, SettingsForm } from "../settings-field.tsx";
import { fieldErrors, originsError, parseOrigins } from "./viewer-link-fields.ts";
import { useSetFrameOrigins } from "./viewer-link-queries.ts";

/**
 * The origins allowed to frame the embeddable viewer (CSP `frame-ancestors`), one a line. An
 * empty list leaves the viewer unframeable, as every other page of the service is.
 */
export function FrameOriginsForm({ orgSlug, origins }: { orgSlug: string; origins: string[] }) {
  const [text, setText] = useState(() => origins.join("\n"));
  const save = useSetFrameOrigins(orgSlug);
  const id = useId();
  const sent = parseOrigins(text);
  const errors = fieldErrors(save.error);
  const error = originsError(errors.byField, sent) ?? errors.other ?? undefined;
  const described = [`${id}-hint`, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <SettingsForm
      title="Allowed framing origins"
      onSubmit={() => {
        save.mutate(
          { frameOrigins: sent },
          { onSuccess: (stored) => setText(stored.frameOrigins.join("\n")) },
        );
      }}
    >
      <div className="field">
        <label htmlFor={id}>Origins that may embed the viewer</label>
        <textarea
          id={id}
          className="input"
          rows={3}
          value={text}
          spellCheck={false}
          placeholder="https://hub.example.com"
          aria-invalid={error ? true : undefined}
          aria-describedby={described}
          onChange={(event) => {
            setText(event.target.value);
            if (save.isSuccess) save.reset();
          }}
        />
        <span id={`${id}-hint`} className="muted field-hint">
          One a line: scheme, host and port, no path. None: no site may frame the viewer.
        </span>
        <FieldError id={`${id}-error`} message={error} />
      </div>
      <div className="settings-inline">
        <button type="submit" className="button button-primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save origins"}
        </button>
        {save.isSuccess ? (
          <span role="status" className="muted">
            Saved.
          </span>
        ) : null}
      </div>
    </SettingsForm>
  );
}
