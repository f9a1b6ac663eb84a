import { createHmac } from "node:crypto";
import { constantTimeEqual } from "../auth/sessions.ts";
import type { Services } from "../services.ts";

/**
 * Signed export download links:
 * `/v1/export-downloads/:id?expires=<unix seconds>&by=<user id>&signature=…`, where the
 * signature is the base64url HMAC-SHA256 of the export id, its organisation's id, the expiry and
 * the admin who asked for the link. They need no session (a browser download, a script, a link
 * in an email), so they are short-lived, name one export of one organisation until one instant,
 * and stop working as soon as the admin who made them is no longer one.
 *
 * The key is EXPORT_LINK_SECRET when set, else a key derived from the deployment's random
 * secret kept in the database (never a constant: anything in the source is public).
 */

/**
 * How far a link's expiry may lie beyond now + EXPORT_LINK_TTL_SECONDS: the clocks of the API
 * processes that issue and check links may differ a little.
 */
const clockSkewSeconds = 60;

export interface ExportLinkClaims {
  exportId: string;
  orgId: string;
  /** The user id of the admin who requested the link. */
  issuedBy: string;
  /** Unix seconds after which the link no longer works. */
  expires: number;
}

export type ExportLinkKey = string | Buffer;

export async function exportLinkKey(
  services: Pick<Services, "env" | "deploymentKeys">,
): Promise<ExportLinkKey> {
  return services.env.EXPORT_LINK_SECRET || services.deploymentKeys.key("export-links");
}

export function signExportLink(claims: ExportLinkClaims, key: ExportLinkKey): string {
  return createHmac("sha256", key)
    .update(
      `export-download\n${claims.exportId}\n${claims.orgId}\n${claims.expires}\n${claims.issuedBy}`,
    )
    .digest("base64url");
}

export function exportDownloadPath(claims: ExportLinkClaims, key: ExportLinkKey): string {
  const search = new URLSearchParams({
    expires: String(claims.expires),
    by: claims.issuedBy,
    signature: signExportLink(claims, key),
  });
  return `/v1/export-downloads/${encodeURIComponent(claims.exportId)}?${search}`;
}

/** `overlong`: genuinely signed, but claiming to live longer than any link is issued for. */
export type ExportLinkCheck = "valid" | "expired" | "overlong" | "invalid";

/**
 * Checks the signature first (in constant time), so "expired" is only said of genuine links;
 * then the expiry against now and against now + the TTL links are issued with, so that a link
 * signed with a leaked key, or before the TTL was shortened, cannot outlive the policy.
 */
export function checkExportLink(
  input: { exportId: string; orgId: string; issuedBy: string; expires: string; signature: string },
  key: ExportLinkKey,
  options: { ttlSeconds: number; now?: Date },
): ExportLinkCheck {
  if (
    !/^\d{1,12}$/.test(input.expires) ||
    !/^[A-Za-z0-9_-]{43}$/.test(input.signature) ||
    !/^[A-Za-z0-9_-]{1,100}$/.test(input.issuedBy)
  ) {
    return "invalid";
  }
  const expires = Number(input.expires);
  const expected = signExportLink({ ...input, expires }, key);
  if (!constantTimeEqual(expected, input.signature)) return "invalid";
  const nowSeconds = (options.now ?? new Date()).getTime() / 1000;
  if (expires <= nowSeconds) return "expired";
  if (expires > nowSeconds + options.ttlSeconds + clockSkewSeconds) return "overlong";
  return "valid";
}
