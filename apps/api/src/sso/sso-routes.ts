import {
  ssoConfigInputSchema,
  ssoConfigSchema,
  ssoErrorCodes,
  ssoErrorMessages,
} from "@auditlog/events";
import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgAdmin } from "../auth/require-org-admin.ts";
import { endSession, readSessionCookie, setSessionCookie, startSession } from "../auth/sessions.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJson } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, orgParam, queryParam } from "../openapi/describe.ts";
import {
  finishSsoSignIn,
  pendingCookieName,
  pendingSignInSeconds,
  readSsoConfig,
  removeSsoConfig,
  SsoRefusal,
  saveSsoConfig,
  startSsoSignIn,
} from "./sso-service.ts";

const redirectHeaders = {
  Location: { description: "Where the browser goes next", schema: { type: "string" } },
};
const refusalDescription = `On any refusal the browser is sent to the console's sign-in page with \`?sso_error=<code>\` (${ssoErrorCodes.join(", ")}); nothing is created.`;

/** Back to the console's sign-in page with the reason of a refusal (and a log line). */
function refuse(c: Context<AppEnv>, error: unknown, orgSlug?: string) {
  if (!(error instanceof SsoRefusal)) throw error;
  // The code and its fixed sentence only: the refusal's own message may quote the provider
  // library, which can name the person signing in (their email or its domain).
  c.var.services.logger.warn("sso sign-in refused", {
    requestId: c.var.requestId,
    reason: error.code,
    detail: ssoErrorMessages[error.code],
  });
  clearPending(c);
  const query = new URLSearchParams({ sso_error: error.code });
  if (orgSlug) query.set("org", orgSlug);
  return c.redirect(`/?${query}`, 303);
}

function clearPending(c: Context<AppEnv>) {
  const { env } = c.var.services;
  deleteCookie(c, pendingCookieName(env), {
    path: "/",
    secure: env.COOKIE_SECURE,
    httpOnly: true,
    sameSite: "Lax",
  });
}

/**
 * `/v1/auth/sso`: single sign-on with OpenID Connect, by browser navigation (no JSON): `start`
 * sends the browser to the organisation's provider, `callback` is where the provider sends it
 * back; success opens the same session cookie a password sign-in does.
 */
export const ssoSignInRoutes = new Hono<AppEnv>()
  .get(
    "/start",
    documented({
      tag: "Sessions",
      summary: "Start a single sign-on (OpenID Connect) for an organisation",
      description: `Redirects to the organisation's provider (authorization code with PKCE, state and nonce) and sets a short-lived sealed cookie for the callback. ${refusalDescription}`,
      auth: "none",
      parameters: [queryParam("org", "The organisation's slug", { type: "string" }, true)],
      responses: {
        303: {
          description: "To the provider, or back to the sign-in page",
          headers: redirectHeaders,
        },
      },
    }),
    async (c) => {
      c.header("Cache-Control", "no-store");
      const slug = (c.req.query("org") ?? "").trim().toLowerCase().slice(0, 100);
      const { services } = c.var;
      try {
        const started = await startSsoSignIn(services, slug);
        setCookie(c, pendingCookieName(services.env), started.pendingCookie, {
          httpOnly: true,
          // Lax: sent on the provider's top-level redirect back to the callback.
          sameSite: "Lax",
          path: "/",
          secure: services.env.COOKIE_SECURE,
          maxAge: pendingSignInSeconds,
        });
        return c.redirect(started.authorizationUrl, 303);
      } catch (error) {
        return refuse(c, error, slug || undefined);
      }
    },
  )
  .get(
    "/callback",
    documented({
      tag: "Sessions",
      summary: "Where the OpenID provider sends the browser back",
      description: `Checks state (once), PKCE, nonce, issuer, audience, the email's domain and the role mapping; then links or creates the user, sets their role, records the sign-in in the organisation's log, sets the session cookie and redirects to the organisation's log. ${refusalDescription}`,
      auth: "none",
      parameters: [
        queryParam("code", "The authorization code"),
        queryParam("state", "The state of the sign-in"),
        queryParam("iss", "The issuer (RFC 9207)"),
      ],
      responses: {
        303: {
          description:
            "Signed in (to the organisation's log, with the session cookie), or back to the sign-in page",
          headers: {
            ...redirectHeaders,
            "Set-Cookie": {
              description: "The session cookie (HttpOnly, SameSite=Lax)",
              schema: { type: "string" },
            },
          },
        },
      },
    }),
    async (c) => {
      c.header("Cache-Control", "no-store");
      const { services } = c.var;
      const pendingCookie = getCookie(c, pendingCookieName(services.env));
      // The URL the provider redirected to, on our public origin (never the Host header).
      const callbackUrl = new URL(`${services.env.PUBLIC_URL}${new URL(c.req.url).pathname}`);
      callbackUrl.search = new URL(c.req.url).search;
      try {
        const done = await finishSsoSignIn(services, {
          pendingCookie,
          callbackUrl,
          client: requestClient(c),
        });
        clearPending(c);
        const previous = readSessionCookie(c);
        if (previous) await endSession(services, previous);
        const signedInAt = new Date();
        const { cookieValue, session } = await startSession(services, done.user.id, signedInAt);
        setSessionCookie(c, cookieValue, session.expiresAt, signedInAt);
        return c.redirect(`/orgs/${encodeURIComponent(done.orgSlug)}`, 303);
      } catch (error) {
        return refuse(c, error);
      }
    },
  );

/** `/v1/orgs/:org/sso`: the organisation's OpenID Connect settings, for its admins. */
export const ssoConfigRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgAdmin())
  .get(
    "/",
    documented({
      tag: "Single sign-on",
      summary: "The organisation's single sign-on settings",
      description: "The client secret is shown as its last four characters only.",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: { 200: json(ssoConfigSchema, "The settings") },
    }),
    async (c) => c.json(await readSsoConfig(c.var.services, c.var.org)),
  )
  .put(
    "/",
    documented({
      tag: "Single sign-on",
      summary: "Set the organisation's single sign-on (OpenID Connect)",
      description:
        "Creates or replaces the settings; `clientSecret` may be left out to keep the stored one (it is sealed at rest). The issuer must be https (local or http only with SSO_ALLOW_LOCAL_ISSUERS). Recorded in the log.",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: ssoConfigInputSchema },
      bodyLimit: true,
      responses: { 200: json(ssoConfigSchema, "The settings saved") },
    }),
    limitBody(64 * 1024),
    async (c) => {
      const body = await readJson(c);
      const saved = await saveSsoConfig(c.var.services, {
        org: c.var.org,
        body,
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.json(saved);
    },
  )
  .delete(
    "/",
    documented({
      tag: "Single sign-on",
      summary: "Remove the organisation's single sign-on",
      description: "Members linked by SSO keep their accounts. Recorded in the log.",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      responses: { 200: json(z.object({ removed: z.literal(true) }), "Removed") },
    }),
    async (c) => {
      await removeSsoConfig(c.var.services, {
        org: c.var.org,
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.json({ removed: true as const });
    },
  );
