import type { CreatedViewerLink } from "@auditlog/events";
import { CopyButton } from "../../../components/copy-button.tsx";
import { absoluteUrl, embedSnippet } from "./viewer-link-fields.ts";

/**
 * A new link's address with its token, shown once (the API keeps only the token's hash), and
 * the iframe a host product pastes to embed it.
 */
export function CreatedLinkNotice({
  link,
  origin = window.location.origin,
  onDismiss,
}: {
  link: CreatedViewerLink;
  origin?: string;
  onDismiss: () => void;
}) {
  const src = absoluteUrl(link.embedSrc, origin);
  const snippet = embedSnippet(src);
  return (
    <div className="settings-card notice" role="status" aria-label="New viewer link">
      <h2>Viewer link “{link.name}”</h2>
      <p>
        Copy its address now: it carries the link's token, which is not shown again. Whoever holds
        it sees the entries matching <code>{link.q}</code>, until it expires or is revoked.
      </p>
      <p>
        <a className="wrap viewer-link-url" href={src} target="_blank" rel="noreferrer noopener">
          {src}
        </a>
      </p>
      <div className="settings-inline">
        <CopyButton text={src} label="Copy link" />
      </div>
      <h3>Embed it</h3>
      <p className="muted">
        Paste this into the host product's page, and list that product's origin under “Allowed
        framing origins” below.
      </p>
      <pre className="wrap viewer-link-snippet">
        <code>{snippet}</code>
      </pre>
      <div className="settings-inline">
        <CopyButton text={snippet} label="Copy snippet" />
        <button type="button" className="button" onClick={onDismiss}>
          I have stored it
        </button>
      </div>
    </div>
  );
}
