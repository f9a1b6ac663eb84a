import { createHmac } from "node:crypto";
import { constantTimeEqual } from "../auth/sessions.ts";

/**
 * Signed export download links: `/v1/export-downloads/:id?expires=<unix seconds>&signature=…`,
 * where the signature is the base64url HMAC-SHA256, keyed by EXPORT_LINK_SECRET, of the export
 * id, its organisation's id and the expiry. They need no session (a browser download, a script),
 * so they are short-lived, and they name one export of one organisation until one instant.
 */

/** Used when EXPORT_LINK_SECRET is unset (the API warns at boot): fine on a local machine only. */
export const developmentExportLinkSecret = "auditlog-local-development-export-link-secret";

export function exportLinkSecret(configured: string): string {
  return configured || developmentExportLinkSecret;
}

export interface ExportLinkClaims {
  exportId: string;
  orgId: string;
  /** Unix seconds after which the link no longer works. */
  expires: number;
}

export function signExportLink(claims: ExportLinkClaims, secret: string): string {
  return createHmac("sha256", secret)
    .update(`export-download\n${claims.exportId}\n${claims.orgId}\n${claims.expires}`)
    .digest("base64url");
}

export function exportDownloadPath(claims: ExportLinkClaims, secret: string): string {
  const search = new URLSearchParams({
    expires: String(claims.expires),
    signature: signExportLink(claims, secret),
  });
  return `/v1/export-downloads/${encodeURIComponent(claims.exportId)}?${search}`;
}

export type ExportLinkCheck = "valid" | "expired" | "invalid";

/** Checks the signature first (in constant time), so "expired" is only said of genuine links. */
export function checkExportLink(
  input: { exportId: string; orgId: string; expires: string; signature: string },
  secret: string,
  now = new Date(),
): ExportLinkCheck {
  if (!/^\d{1,12}$/.test(input.expires) || !/^[A-Za-z0-9_-]{43}$/.test(input.signature)) {
    return "invalid";
  }
  const expires = Number(input.expires);
  const expected = signExportLink(
    { exportId: input.exportId, orgId: input.orgId, expires },
    secret,
  );
  if (!constantTimeEqual(expected, input.signature)) return "invalid";
  return expires * 1000 > now.getTime() ? "valid" : "expired";
}
