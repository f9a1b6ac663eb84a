import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { requestClient } from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import { limitBody } from "../http/body-limit.ts";
import { peerAddress } from "../http/client-address.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json } from "../openapi/describe.ts";
import { rateLimitHeaders } from "./login-limiter.ts";
import { maxPasswordLength } from "./passwords.ts";
import {
  clearSessionCookie,
  endAllSessions,
  endSession,
  readSessionCookie,
  setSessionCookie,
} from "./sessions.ts";
import { signIn } from "./sign-in.ts";
import { userAuth } from "./user-auth.ts";

const publicUserSchema = z.object({ id: z.string(), email: z.string(), name: z.string() });

const loginSchema = z.object({
  email: z.email("must be an email address").max(320),
  password: z.string().min(1, "is required").max(maxPasswordLength),
});

export const authRoutes = new Hono<AppEnv>()
  /** Email + password → session cookie and the CSRF token unsafe requests must echo. */
  .post(
    "/login",
    documented({
      tag: "Sessions",
      summary: "Sign in with email and password",
      description:
        "Sets the session cookie and answers the CSRF token that cookie requests' POST, PUT, PATCH and DELETE must echo in X-CSRF-Token. Failed attempts are limited per address and per account (429 with Retry-After). 403 (naming `password`) for a member of an organisation that requires single sign-on, once the password is right; its admins are let in (the break-glass path), and each such sign-in is recorded in that organisation's log (`org.sso_break_glass`; 503 when it cannot be).",
      auth: "none",
      body: { schema: loginSchema },
      bodyLimit: true,
      responses: {
        200: json(z.object({ user: publicUserSchema, csrfToken: z.string() }), "Signed in", {
          "Set-Cookie": {
            description: "The session cookie (HttpOnly, SameSite=Lax)",
            schema: { type: "string" },
          },
        }),
      },
      errors: [401, 403, 429, 503],
    }),
    limitBody(16 * 1024),
    async (c) => {
      c.header("Cache-Control", "no-store");
      const input = await readJsonBody(c, loginSchema);
      const signedIn = await signIn(c.var.services, {
        email: input.email,
        password: input.password,
        clientAddress: peerAddress(c),
        client: requestClient(c),
        previousCookie: readSessionCookie(c),
        requestId: c.var.requestId,
      });
      for (const [name, value] of Object.entries(rateLimitHeaders(signedIn.limit))) {
        c.header(name, value);
      }
      setSessionCookie(c, signedIn.cookieValue, signedIn.session.expiresAt, signedIn.signedInAt);
      return c.json({ user: signedIn.user, csrfToken: signedIn.session.csrfToken });
    },
  )
  /** Ends the cookie session (CSRF-protected like every unsafe cookie request). */
  .post(
    "/logout",
    documented({
      tag: "Sessions",
      summary: "End this cookie session",
      description: "400 with a personal access token: revoke it with DELETE /v1/me/tokens/{id}.",
      auth: "user",
      unsafe: true,
      responses: {
        200: json(z.object({ signedOut: z.literal(true) }), "Signed out; the cookie is cleared"),
      },
    }),
    userAuth,
    limitUserRequests,
    async (c) => {
      const session = c.var.session;
      if (!session) {
        throw new ApiError(
          "bad_request",
          "logout ends a browser session; revoke a token with DELETE /v1/me/tokens/:id",
        );
      }
      const cookieValue = readSessionCookie(c);
      if (cookieValue) await endSession(c.var.services, cookieValue);
      clearSessionCookie(c);
      return c.json({ signedOut: true });
    },
  )
  /**
   * Ends every session of the signed-in user, on every device (this one too). Personal access
   * tokens are left alone: they are revoked one by one (DELETE /v1/me/tokens/:id).
   */
  .post(
    "/logout-everywhere",
    documented({
      tag: "Sessions",
      summary: "End every session of mine, on every device",
      description: "Personal access tokens are left alone.",
      auth: "user",
      unsafe: true,
      responses: {
        200: json(z.object({ sessionsEnded: z.number().int() }), "How many sessions ended"),
      },
    }),
    userAuth,
    limitUserRequests,
    async (c) => {
      const sessionsEnded = await endAllSessions(c.var.services, c.var.user.id);
      if (c.var.session) clearSessionCookie(c);
      return c.json({ sessionsEnded });
    },
  );
