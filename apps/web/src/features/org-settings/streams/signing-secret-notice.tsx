import { CopyButton } from "../../../components/copy-button.tsx";

/** The signing secret of a new https stream, shown once: the receiver verifies with it. */
export function SigningSecretNotice({
  name,
  secret,
  onDismiss,
}: {
  name: string;
  secret: string;
  onDismiss: () => void;
}) {
  return (
    <div className="settings-card notice" role="status" aria-label="Signing secret">
      <h2>Signing secret of “{name}”</h2>
      <p>
        Give it to the receiver now: it verifies each delivery's signature (Standard Webhooks,
        header <code>webhook-signature</code>) with it. It is not shown again.
      </p>
      <p>
        <code className="wrap stream-secret">{secret}</code>
      </p>
      <div className="settings-inline">
        <CopyButton text={secret} label="Copy secret" />
        <button type="button" className="button" onClick={onDismiss}>
          I have stored it
        </button>
      </div>
    </div>
  );
}
