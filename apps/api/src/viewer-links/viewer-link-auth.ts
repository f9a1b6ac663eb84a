import { findViewerLinkByHash, planHasAuditLogs, planLacksAuditLogs } from "@auditlog/db";
import { type ParsedQuery, parseQueryOrThrow, storedQueryLimits } from "@auditlog/events";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { peerAddress } from "../http/client-address.ts";
import { hashViewerLinkToken, looksLikeViewerLinkToken } from "./viewer-link-tokens.ts";

export interface ViewerLinkContext {
  link: { id: string; name: string; q: string; expiresAt: Date };
  org: { id: string; slug: string; name: string; plan: string };
  /** The link's filter, parsed: every query of the holder is ANDed with it (in SQL). */
  scope: ParsedQuery;
}

/**
 * Authenticates the holder of a viewer link: `Authorization: Bearer avl_…`. Unknown, revoked and
 * expired links answer 401 (the message says which, so a holder knows to ask for a new one).
 * Sets `c.var.viewerLink`. Nothing else authenticates here: a session cookie or a personal
 * access token is not a viewer link, and a viewer link is refused by every other route (their
 * `userAuth` only knows `alp_` tokens).
 */
export const viewerLinkAuth = createMiddleware<AppEnv>(async (c, next) => {
  c.header("Cache-Control", "no-store");
  const authorization = c.req.header("authorization");
  const presented = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  if (!presented) {
    throw new ApiError("unauthorized", "send Authorization: Bearer avl_… (a viewer link's token)");
  }
  if (!looksLikeViewerLinkToken(presented)) {
    throw new ApiError("unauthorized", "invalid token: expected a viewer link's token (avl_…)");
  }
  const { services } = c.var;
  const hash = hashViewerLinkToken(presented);
  const found = await services.authGuard.check("viewerLink", hash, peerAddress(c), () =>
    findViewerLinkByHash(services.db, hash),
  );
  if (!found) throw new ApiError("unauthorized", "invalid viewer link");
  const { link, org } = found;
  if (link.revokedAt) throw new ApiError("unauthorized", "this viewer link was revoked");
  if (link.expiresAt.getTime() <= Date.now()) {
    throw new ApiError("unauthorized", "this viewer link has expired");
  }
  if (!planHasAuditLogs(org.plan)) throw new ApiError("forbidden", planLacksAuditLogs(org));
  // The organisation read, for the query slots (`limitOrgQueries`) shared with its admins.
  c.set("org", org);
  c.set("viewerLink", {
    link: { id: link.id, name: link.name, q: link.q, expiresAt: link.expiresAt },
    org,
    // Stored as the API printed it when the link was made: it parses.
    scope: parseQueryOrThrow(link.q, { limits: storedQueryLimits }),
  });
  await next();
});
