import { createHash, randomBytes } from "node:crypto";
import { viewerLinkTokenPrefix } from "@auditlog/events";

/** Viewer link tokens: `avl_` + 43 characters of base64url (256 random bits), shown once. */
export function generateViewerLinkToken(): { token: string; prefix: string; hash: Buffer } {
  const token = `${viewerLinkTokenPrefix}${randomBytes(32).toString("base64url")}`;
  return {
    token,
    prefix: token.slice(0, viewerLinkTokenPrefix.length + 6),
    hash: hashViewerLinkToken(token),
  };
}

export function hashViewerLinkToken(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

export function looksLikeViewerLinkToken(value: string): boolean {
  return /^avl_[A-Za-z0-9_-]{43}$/.test(value);
}
