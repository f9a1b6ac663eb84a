import { type ReactNode, useId } from "react";

/**
 * A labelled text input (or, `multiline`, a three-row textarea) of a settings form, with its
 * hint and the refusal of its value tied to it by `aria-describedby`.
 */
export function TextField({
  id,
  label,
  value,
  onChange,
  error,
  hint,
  required,
  placeholder,
  type = "text",
  inputMode,
  multiline,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  hint?: string;
  required?: boolean;
  placeholder?: string;
  type?: "text" | "url" | "password";
  inputMode?: "numeric";
  multiline?: boolean;
}) {
  const described = [error ? `${id}-error` : null, hint ? `${id}-hint` : null]
    .filter(Boolean)
    .join(" ");
  const common = {
    id,
    className: "input",
    value,
    required,
    placeholder,
    spellCheck: false,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": described || undefined,
  };
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required ? <span className="muted"> (required)</span> : null}
      </label>
      {multiline ? (
        <textarea {...common} rows={3} onChange={(event) => onChange(event.target.value)} />
      ) : (
        <input
          {...common}
          type={type}
          inputMode={inputMode}
          // A password field is a new secret: no browser should offer a stored one.
          autoComplete={type === "password" ? "new-password" : "off"}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
      {hint ? (
        <span id={`${id}-hint`} className="muted field-hint">
          {hint}
        </span>
      ) : null}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}

/** Why a field's value was refused, announced as it appears; `id` is what the field's `aria-describedby` names. */
export function FieldError({ id, message }: { id: string; message: string | null | undefined }) {
  return message ? (
    <span id={id} className="field-error" role="alert">
      {message}
    </span>
  ) : null;
}

/** A refusal that names no field (a conflict, the server unreachable): under the form's fields. */
export function FormError({ message }: { message: string | null | undefined }) {
  return message ? (
    <p className="field-error" role="alert">
      {message}
    </p>
  ) : null;
}

/**
 * A settings form: a card titled `title` (its heading names the form), the browser's own
 * validation off (each field shows the API's refusal instead), `onSubmit` without a page load.
 */
export function SettingsForm({
  title,
  className = "settings-card stream-form",
  onSubmit,
  children,
}: {
  title: string;
  className?: string;
  onSubmit: () => void;
  children: ReactNode;
}) {
  const titleId = useId();
  return (
    <form
      className={className}
      aria-labelledby={titleId}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </form>
  );
}
