import { findUserByEmail, type PublicUser, ssoRequiringMemberships } from "@auditlog/db";
import { type ApiClient, orgTarget, recordApiAction } from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import type { Services } from "../services.ts";
import { type LoginLimitState, rateLimitHeaders } from "./login-limiter.ts";
import { verifyPassword } from "./passwords.ts";
import { type ActiveSession, endSession, startSession } from "./sessions.ts";

/**
 * Email and password to a new session. The attempt is counted (and refused past the limit, 429
 * with RateLimit headers) before the password is checked; a wrong email and a wrong password
 * answer alike and take the same time. Signing in again replaces the browser's earlier session.
 */
export async function signIn(
  services: Pick<Services, "db" | "env" | "loginLimiter" | "logger" | "jobs" | "redis">,
  input: {
    email: string;
    password: string;
    clientAddress: string | undefined;
    /** Recorded with a break-glass sign-in (its address is truncated by the worker). */
    client?: ApiClient;
    /** The session cookie this browser sent, if any. */
    previousCookie: string | undefined;
    requestId: string;
  },
): Promise<{
  user: PublicUser;
  cookieValue: string;
  session: ActiveSession;
  limit: LoginLimitState;
  signedInAt: Date;
}> {
  const email = input.email.trim().toLowerCase();
  let attempt: Awaited<ReturnType<Services["loginLimiter"]["count"]>>;
  try {
    attempt = await services.loginLimiter.count(email, input.clientAddress);
  } catch {
    // Fail closed (Redis, or PostgreSQL holding the limiter's key, unreachable): without the
    // limiter, passwords could be guessed at full speed.
    throw new ApiError(
      "service_unavailable",
      "sign-in is temporarily unavailable; try again shortly",
    );
  }
  const { state } = attempt;
  if (state.retryAfterSeconds !== null) {
    services.logger.warn("login rate limited", { requestId: input.requestId });
    throw new ApiError(
      "rate_limited",
      `too many failed sign-in attempts from this address; try again in ${state.retryAfterSeconds} seconds`,
      undefined,
      rateLimitHeaders(state),
    );
  }
  const user = await findUserByEmail(services.db, email);
  const valid = await verifyPassword(user?.passwordHash, input.password);
  if (!user || !valid) {
    throw new ApiError(
      "unauthorized",
      "invalid email or password",
      undefined,
      rateLimitHeaders(state),
    );
  }
  // An organisation that requires single sign-on refuses its members' passwords, even right
  // ones (checked after the password, so the answer says nothing about unknown accounts). Its
  // admins keep the password: the break-glass path when the provider is down or misconfigured.
  const requiring = await ssoRequiringMemberships(services.db, user.id);
  const refusing = requiring.filter((membership) => membership.role !== "admin");
  if (refusing.length > 0) {
    await attempt.succeeded();
    const slug = refusing[0]?.slug ?? "";
    throw new ApiError(
      "forbidden",
      `organisation ${slug} requires single sign-on: sign in with SSO (${services.env.PUBLIC_URL}/v1/auth/sso/start?org=${slug})`,
      [{ path: "password", message: `refused: ${slug} requires single sign-on` }],
    );
  }
  const limit = await attempt.succeeded();
  // The break-glass path is recorded in each such organisation's log before the session opens:
  // a password sign-in past required SSO that the log would miss does not happen.
  for (const membership of requiring) {
    try {
      await recordApiAction(services, {
        orgId: membership.orgId,
        actor: { type: "user", id: user.id, name: user.name },
        client: input.client ?? {},
        event: {
          type: "org.sso_break_glass",
          target: orgTarget(membership),
          data: { protocol: "oidc", role: membership.role },
        },
      });
    } catch {
      throw new ApiError(
        "service_unavailable",
        "sign-in is temporarily unavailable (it could not be recorded); try again shortly",
      );
    }
  }
  if (input.previousCookie) await endSession(services, input.previousCookie);
  const signedInAt = new Date();
  const { cookieValue, session } = await startSession(services, user.id, signedInAt);
  const publicUser = { id: user.id, email: user.email, name: user.name };
  return { user: publicUser, cookieValue, session, limit, signedInAt };
}
