import type { ViewerLink } from "@auditlog/events";
import { useState } from "react";
import { ConfirmDialog } from "../../../components/confirm-dialog.tsx";
import { RelativeTime } from "../../../components/relative-time.tsx";
import { useNow } from "../../../lib/use-now.ts";
import { SettingsTable } from "../settings-table.tsx";
import { useRevokeViewerLink } from "./viewer-link-queries.ts";

const statusLabels: Record<ViewerLink["status"], string> = {
  active: "Active",
  expired: "Expired",
  revoked: "Revoked",
};

/** The organisation's viewer links: filter, state, expiry, creator, last use; revoke. */
export function ViewerLinkList({ orgSlug, links }: { orgSlug: string; links: ViewerLink[] }) {
  const [revoking, setRevoking] = useState<ViewerLink | null>(null);
  const now = useNow(30_000);
  if (links.length === 0) return <p className="muted">No viewer link yet: create one below.</p>;
  return (
    <>
      <SettingsTable
        className="stream-table viewer-link-table"
        columns={["Name and filter", "State", "Expires", "Created", "Last used"]}
        actions
      >
        {links.map((link) => (
          <tr key={link.id} data-viewer-link-id={link.id}>
            <th scope="row">
              <span className="stream-name">{link.name}</span>
              <span className="muted stream-query">
                <code className="wrap">{link.q}</code>
              </span>
              <span className="muted stream-hint">Token {link.tokenPrefix}…</span>
            </th>
            <td data-label="State">
              <span className={`status viewer-link-${link.status}`}>
                {statusLabels[link.status]}
              </span>
              {link.revokedAt ? (
                <span className="muted stream-hint">
                  <RelativeTime at={link.revokedAt} now={now} />
                </span>
              ) : null}
            </td>
            <td data-label="Expires">
              <RelativeTime at={link.expiresAt} now={now} />
            </td>
            <td data-label="Created">
              <span className="wrap">{link.createdBy.name}</span>
              <span className="muted stream-hint">
                <RelativeTime at={link.createdAt} now={now} />
              </span>
            </td>
            <td data-label="Last used">
              {link.lastUsedAt ? <RelativeTime at={link.lastUsedAt} now={now} /> : "Never"}
            </td>
            <td className="stream-actions">
              {link.status === "revoked" ? null : (
                <button
                  type="button"
                  className="button button-small button-danger"
                  aria-label={`Revoke ${link.name}`}
                  onClick={() => setRevoking(link)}
                >
                  Revoke
                </button>
              )}
            </td>
          </tr>
        ))}
      </SettingsTable>
      {revoking ? (
        <RevokeDialog orgSlug={orgSlug} link={revoking} onClose={() => setRevoking(null)} />
      ) : null}
    </>
  );
}

/** Revoking cannot be undone (a new link has a new token): asked for, and recorded. */
function RevokeDialog({
  orgSlug,
  link,
  onClose,
}: {
  orgSlug: string;
  link: ViewerLink;
  onClose: () => void;
}) {
  const revoke = useRevokeViewerLink(orgSlug);
  return (
    <ConfirmDialog
      title="Revoke viewer link"
      question={
        <>
          Revoke <strong>{link.name}</strong>? Whoever holds it, and every page that embeds it, is
          refused from now on. This cannot be undone: create a new link to share again.
        </>
      }
      confirmLabel="Revoke link"
      pendingLabel="Revoking…"
      pending={revoke.isPending}
      error={revoke.error}
      onConfirm={() => revoke.mutate(link.id, { onSuccess: onClose })}
      onClose={onClose}
    />
  );
}
