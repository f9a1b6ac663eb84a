import {
  type CreateStream,
  type StreamDestinationType,
  streamDestinationTypes,
} from "@auditlog/events";
import { useId, useState } from "react";
import { ApiRequestError, errorMessage } from "../../../api/client.ts";
import { FormError, SettingsForm, TextField } from "../settings-field.tsx";
import { type DestinationField, destinationBody, destinationFields } from "./stream-fields.ts";
import { destinationLabels } from "./stream-format.ts";
import { type CreatedStream, useCreateStream } from "./stream-queries.ts";

type Values = Record<string, string | boolean>;

/** The API's refusal, per field (`destination.url` → `url`), and what names no field. */
function fieldErrors(error: unknown): { byField: Record<string, string>; other: string | null } {
  if (!(error instanceof ApiRequestError) || error.details.length === 0) {
    return { byField: {}, other: error ? errorMessage(error) : null };
  }
  const byField: Record<string, string> = {};
  for (const detail of error.details) {
    const key = detail.path.replace(/^destination\./, "");
    byField[key] ??= detail.message;
  }
  return { byField, other: null };
}

/** Creates a stream: a type picker showing that type's fields, a name, a query, a start. */
export function StreamCreateForm({
  orgSlug,
  onCreated,
}: {
  orgSlug: string;
  onCreated: (stream: CreatedStream) => void;
}) {
  const [type, setType] = useState<StreamDestinationType>("splunk");
  const [values, setValues] = useState<Values>({});
  const [name, setName] = useState("");
  const [q, setQ] = useState("");
  const [fromSeq, setFromSeq] = useState("");
  const create = useCreateStream(orgSlug);
  const idPrefix = useId();
  const errors = fieldErrors(create.error);
  const inputId = (field: string) => `${idPrefix}-${field}`;

  const submit = () => {
    const body: CreateStream = {
      name: name.trim(),
      destination: destinationBody(type, values) as CreateStream["destination"],
      q: q.trim(),
      start: fromSeq.trim() === "" ? "now" : { seq: Number(fromSeq) },
    };
    create.mutate(body, {
      onSuccess: (created) => {
        setValues({});
        setName("");
        setQ("");
        setFromSeq("");
        onCreated(created);
      },
    });
  };

  return (
    <SettingsForm title="New stream" onSubmit={submit}>
      <fieldset className="stream-types">
        <legend>Destination</legend>
        {streamDestinationTypes.map((option) => (
          <label key={option} className="stream-type">
            <input
              type="radio"
              name={`${idPrefix}-type`}
              value={option}
              checked={type === option}
              onChange={() => {
                setType(option);
                setValues({});
                create.reset();
              }}
            />
            {destinationLabels[option]}
          </label>
        ))}
      </fieldset>
      <TextField
        id={inputId("name")}
        label="Name"
        value={name}
        required
        error={errors.byField.name}
        onChange={setName}
        placeholder="SOC Splunk"
      />
      {destinationFields[type].map((field) => (
        <DestinationInput
          key={`${type}-${field.name}`}
          id={inputId(field.name)}
          field={field}
          value={values[field.name]}
          error={errors.byField[field.name]}
          onChange={(value) => setValues((current) => ({ ...current, [field.name]: value }))}
        />
      ))}
      <TextField
        id={inputId("q")}
        label="Only entries matching (optional)"
        value={q}
        error={errors.byField.q}
        onChange={setQ}
        placeholder="category:membership type:org.*"
        hint="The log's query language; empty sends every entry, hidden types included."
      />
      <TextField
        id={inputId("start")}
        label="Start from entry # (optional)"
        value={fromSeq}
        error={errors.byField["start.seq"] ?? errors.byField.start}
        onChange={setFromSeq}
        inputMode="numeric"
        hint="Empty: entries stored from now on. A number: every retained entry from that one."
      />
      <FormError message={errors.other} />
      <div>
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create stream"}
        </button>
      </div>
    </SettingsForm>
  );
}

function DestinationInput({
  id,
  field,
  value,
  error,
  onChange,
}: {
  id: string;
  field: DestinationField;
  value: string | boolean | undefined;
  error: string | undefined;
  onChange: (value: string | boolean) => void;
}) {
  if (field.kind === "checkbox") {
    return (
      <div className="field">
        <label className="checkbox-label">
          <input
            type="checkbox"
            checked={value === true}
            onChange={(event) => onChange(event.target.checked)}
          />{" "}
          {field.label}
        </label>
      </div>
    );
  }
  return (
    <TextField
      id={id}
      label={field.label}
      type={field.kind === "secret" ? "password" : field.kind === "url" ? "url" : "text"}
      value={typeof value === "string" ? value : ""}
      required={field.required}
      error={error}
      onChange={onChange}
      placeholder={field.placeholder}
      hint={field.hint}
    />
  );
}
