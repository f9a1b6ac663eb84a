import type { CreatedViewerLink } from "@auditlog/events";
import { useId, useState } from "react";
import { FieldError, FormError, SettingsForm, TextField } from "../settings-field.tsx";
import { expiresAtIn, expiryChoices, fieldErrors } from "./viewer-link-fields.ts";
import { useCreateViewerLink } from "./viewer-link-queries.ts";

/**
 * Creates a viewer link: a name, the `q` filter its holder can never leave, an expiry. The API's
 * refusal of a field (a `q` that does not parse, an empty one) is shown at that field.
 */
export function ViewerLinkCreateForm({
  orgSlug,
  onCreated,
  now = Date.now,
}: {
  orgSlug: string;
  onCreated: (link: CreatedViewerLink) => void;
  now?: () => number;
}) {
  const [name, setName] = useState("");
  const [q, setQ] = useState("");
  const [days, setDays] = useState<number>(30);
  const create = useCreateViewerLink(orgSlug);
  const id = useId();
  const errors = fieldErrors(create.error);

  return (
    <SettingsForm
      title="New viewer link"
      onSubmit={() => {
        create.mutate(
          { name: name.trim(), q: q.trim(), expiresAt: expiresAtIn(days, now()) },
          {
            onSuccess: (created) => {
              setName("");
              setQ("");
              onCreated(created);
            },
          },
        );
      }}
    >
      <TextField
        id={`${id}-name`}
        label="Name"
        required
        value={name}
        onChange={setName}
        error={errors.byField.name}
        placeholder="bert owners"
        hint="Who the link is for; shown as the viewer's title."
      />
      <TextField
        id={`${id}-q`}
        label="Filter"
        required
        value={q}
        onChange={setQ}
        error={errors.byField.q}
        placeholder="target:acme/bert"
        hint="The log's query language. The holder sees only entries matching it, and cannot widen it."
      />
      <div className="field">
        <label htmlFor={`${id}-expiry`}>Expires after</label>
        <select
          id={`${id}-expiry`}
          className="input"
          value={days}
          aria-invalid={errors.byField.expiresAt ? true : undefined}
          aria-describedby={errors.byField.expiresAt ? `${id}-expiry-error` : undefined}
          onChange={(event) => setDays(Number(event.target.value))}
        >
          {expiryChoices.map((choice) => (
            <option key={choice.days} value={choice.days}>
              {choice.label}
            </option>
          ))}
        </select>
        <FieldError id={`${id}-expiry-error`} message={errors.byField.expiresAt} />
      </div>
      <FormError message={errors.other} />
      <div>
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create viewer link"}
        </button>
      </div>
    </SettingsForm>
  );
}
