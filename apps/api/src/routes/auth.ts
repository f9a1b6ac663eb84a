import { createHash } from "node:crypto";
import { findUserByEmail } from "@auditlog/db";
import { loginAddressBucket } from "@auditlog/events/ip";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { maxPasswordLength, verifyPassword } from "../auth/passwords.ts";
import {
  clearSessionCookie,
  endSession,
  readSessionCookie,
  setSessionCookie,
  startSession,
} from "../auth/sessions.ts";
import { ApiError } from "../errors.ts";
import { readJsonBody } from "../http/json-body.ts";
import { peerAddress } from "../ingest/enqueue.ts";
import { userAuth } from "../middleware/user-auth.ts";
import type { AppEnv } from "../types.ts";

const loginSchema = z.object({
  email: z.email("must be an email address").max(320),
  password: z.string().min(1, "is required").max(maxPasswordLength),
});

const smallBody = bodyLimit({
  maxSize: 16 * 1024,
  onError: () => {
    throw new ApiError("payload_too_large", "request body exceeds 16384 bytes");
  },
});

// ─── Failed-login limiting ───────────────────────────────────────────────────────────────────

/**
 * The address a login counts against: the socket's peer (no proxy header is trusted, as a client
 * could forge it), IPv4-mapped IPv6 as IPv4, other IPv6 by /64 (one host usually owns a /64).
 * It is only ever hashed into a Redis key, never logged or stored.
 */
function clientAddressBucket(c: Context<AppEnv>): string {
  const address = peerAddress(c);
  if (!address) return "unknown";
  return loginAddressBucket(address) ?? address;
}

function failureKey(kind: "email" | "ip", value: string): string {
  return `auditlog:login-failures:${kind}:${createHash("sha256").update(value).digest("hex")}`;
}

interface AttemptCount {
  count: number;
  ttlSeconds: number;
}

/**
 * Counts this attempt against each key (fixed window of LOGIN_WINDOW_SECONDS, started by the
 * first attempt) before the password is checked, so parallel guesses cannot all slip under the
 * limit; a successful login gives its attempt back.
 */
async function countAttempt(c: Context<AppEnv>, keys: string[]): Promise<AttemptCount[]> {
  const { redis, env } = c.var.services;
  const multi = redis.multi();
  for (const key of keys) {
    multi.set(key, "0", "EX", env.LOGIN_WINDOW_SECONDS, "NX").incr(key).ttl(key);
  }
  const results = await multi.exec();
  if (!results) throw new Error("login limiter transaction aborted");
  return keys.map((_, index) => {
    const [incrError, count] = results[index * 3 + 1] ?? [];
    const [, ttl] = results[index * 3 + 2] ?? [];
    if (incrError) throw incrError;
    return {
      count: Number(count),
      ttlSeconds: Number(ttl) > 0 ? Number(ttl) : env.LOGIN_WINDOW_SECONDS,
    };
  });
}

function setRateLimitHeaders(c: Context<AppEnv>, counts: AttemptCount[]) {
  const limit = c.var.services.env.LOGIN_MAX_FAILURES;
  const worst = counts.reduce((a, b) => (b.count > a.count ? b : a));
  c.header("RateLimit-Limit", String(limit));
  c.header("RateLimit-Remaining", String(Math.max(0, limit - worst.count)));
  c.header("RateLimit-Reset", String(worst.ttlSeconds));
  c.header("RateLimit-Policy", `${limit};w=${c.var.services.env.LOGIN_WINDOW_SECONDS}`);
}

const limiterUnavailable = () =>
  new ApiError("service_unavailable", "sign-in is temporarily unavailable; try again shortly");

// ─── Routes ──────────────────────────────────────────────────────────────────────────────────

export const authRoutes = new Hono<AppEnv>()
  /** Email + password → session cookie and the CSRF token unsafe requests must echo. */
  .post("/login", smallBody, async (c) => {
    const { services } = c.var;
    c.header("Cache-Control", "no-store");
    const input = await readJsonBody(c, loginSchema);
    const email = input.email.trim().toLowerCase();
    const keys = [failureKey("email", email), failureKey("ip", clientAddressBucket(c))];

    let counts: AttemptCount[];
    try {
      counts = await countAttempt(c, keys);
    } catch {
      // Fail closed: without the limiter, passwords could be guessed at full speed.
      throw limiterUnavailable();
    }
    setRateLimitHeaders(c, counts);
    const limit = services.env.LOGIN_MAX_FAILURES;
    const blocked = counts.filter((entry) => entry.count > limit);
    if (blocked.length > 0) {
      const retryAfter = Math.max(...blocked.map((entry) => entry.ttlSeconds));
      c.header("Retry-After", String(retryAfter));
      c.header("RateLimit-Remaining", "0");
      c.header("RateLimit-Reset", String(retryAfter));
      services.logger.warn("login rate limited", { requestId: c.var.requestId });
      throw new ApiError(
        "rate_limited",
        `too many failed sign-in attempts; try again in ${retryAfter} seconds`,
      );
    }

    const user = await findUserByEmail(services.db, email);
    const valid = await verifyPassword(user?.passwordHash, input.password);
    if (!user || !valid) {
      throw new ApiError("unauthorized", "invalid email or password");
    }

    // A correct password gives its attempt back; the email's earlier failures are forgiven.
    const [emailKey = "", addressKey = ""] = keys;
    await services.redis
      .multi()
      .del(emailKey)
      .decr(addressKey)
      .exec()
      .catch(() => {});
    c.header("RateLimit-Remaining", String(limit));

    // Signing in again replaces the session this browser had, if any.
    const previous = readSessionCookie(c);
    if (previous) await endSession(services, previous);
    const now = new Date();
    const { cookieValue, session } = await startSession(services, user.id, now);
    setSessionCookie(c, cookieValue, session.expiresAt, now);
    return c.json({
      user: { id: user.id, email: user.email, name: user.name },
      csrfToken: session.csrfToken,
    });
  })
  /** Ends the cookie session (CSRF-protected like every unsafe cookie request). */
  .post("/logout", userAuth, async (c) => {
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
  });
