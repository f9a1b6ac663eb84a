import {
  findActivePersonalAccessTokenByHash,
  isPersonalAccessTokenActive,
  isServiceOutage,
  isSessionActive,
  touchPersonalAccessToken,
} from "@auditlog/db";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { peerAddress } from "../http/client-address.ts";
import type { Services } from "../services.ts";
import { looksLikeApiKey } from "./api-keys.ts";
import {
  hashPersonalAccessToken,
  looksLikePersonalAccessToken,
  personalAccessTokenPrefix,
} from "./personal-access-tokens.ts";
import {
  clearSessionCookie,
  constantTimeEqual,
  readSessionCookie,
  resolveSession,
  sessionCookieHash,
  sessionRefreshIntervalMs,
  setSessionCookie,
} from "./sessions.ts";

export const csrfHeaderName = "X-CSRF-Token";

/**
 * Whether the credential a request authenticated with still works (for answers that outlive the
 * request: a live stream). An outage answers true: a stream is not cut for PostgreSQL's sake.
 */
export async function credentialStillValid(
  services: Pick<Services, "db">,
  credential: AppEnv["Variables"]["credential"],
): Promise<boolean> {
  const check = credential.kind === "session" ? isSessionActive : isPersonalAccessTokenActive;
  return check(services.db, credential.id).catch((error) => !isServiceOutage(error));
}
const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Authenticates a person, by session cookie (`sessionCookieName`) or by
 * `Authorization: Bearer alp_…` personal access token, and sets `c.var.user`, `c.var.authMethod`
 * and `c.var.session` (null for tokens). Cookie-authenticated unsafe requests must echo the
 * session's CSRF token in `X-CSRF-Token`; bearer requests cannot be forged cross-site and need
 * none. Ingestion API keys are refused: they can write events, never read them. Lookups go
 * through the auth guard: an unknown credential is remembered briefly, and an address whose
 * credentials keep failing gets 429 before any lookup.
 */
export const userAuth = createMiddleware<AppEnv>(async (c, next) => {
  const { services } = c.var;
  // Answers about who is signed in must not be stored by shared caches.
  c.header("Cache-Control", "no-store");
  const authorization = c.req.header("authorization");

  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) {
      throw new ApiError("unauthorized", "Authorization must be Bearer <personal access token>");
    }
    const presented = match[1];
    if (looksLikeApiKey(presented) || presented.startsWith("alk_")) {
      throw new ApiError("unauthorized", "API keys can only ingest events");
    }
    if (!looksLikePersonalAccessToken(presented)) {
      throw new ApiError(
        "unauthorized",
        `invalid token: expected a personal access token (${personalAccessTokenPrefix}…)`,
      );
    }
    const now = new Date();
    const hash = hashPersonalAccessToken(presented);
    const found = await services.authGuard.check("token", hash, peerAddress(c), () =>
      findActivePersonalAccessTokenByHash(services.db, hash, now),
    );
    if (!found) throw new ApiError("unauthorized", "invalid, expired or revoked token");
    const staleBefore = new Date(now.getTime() - sessionRefreshIntervalMs);
    if (!found.token.lastUsedAt || found.token.lastUsedAt < staleBefore) {
      // Bookkeeping only: a failed write must not fail the request.
      await touchPersonalAccessToken(services.db, {
        id: found.token.id,
        usedAt: now,
        staleBefore,
      }).catch(() => {});
    }
    c.set("user", found.user);
    c.set("authMethod", "token");
    c.set("credential", { kind: "token", id: found.token.id });
    c.set("session", null);
    await next();
    return;
  }

  const cookieValue = readSessionCookie(c);
  if (!cookieValue) {
    throw new ApiError(
      "unauthorized",
      "sign in first, or send Authorization: Bearer <personal access token>",
    );
  }
  const now = new Date();
  const hash = sessionCookieHash(cookieValue);
  const resolved = hash
    ? await services.authGuard.check("session", hash, peerAddress(c), () =>
        resolveSession(services, cookieValue, now),
      )
    : null;
  if (!resolved) {
    clearSessionCookie(c);
    throw new ApiError("unauthorized", "session expired or invalid; sign in again");
  }
  if (unsafeMethods.has(c.req.method)) {
    const presented = c.req.header(csrfHeaderName) ?? "";
    if (!presented || !constantTimeEqual(presented, resolved.session.csrfToken)) {
      throw new ApiError(
        "forbidden",
        `missing or invalid ${csrfHeaderName} header (send the csrfToken from login or GET /v1/me)`,
      );
    }
  }
  if (resolved.refreshed) setSessionCookie(c, cookieValue, resolved.session.expiresAt, now);
  c.set("user", resolved.user);
  c.set("authMethod", "session");
  c.set("credential", { kind: "session", id: resolved.session.id });
  c.set("session", resolved.session);
  await next();
});
