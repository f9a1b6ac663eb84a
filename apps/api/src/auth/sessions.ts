import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
  createSession,
  deleteSessionByTokenHash,
  deleteUserSessions,
  findActiveSessionByTokenHash,
  type PublicUser,
  touchSession,
} from "@auditlog/db";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Services } from "../services.ts";

type SessionServices = Pick<Services, "db" | "env">;

import type { AppEnv } from "../app-env.ts";

/** 256 random bits as 43 base64url characters. */
function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Compares two strings in time independent of where they differ (and of their lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/**
 * `__Host-auditlog_session` whenever the cookie is Secure (PUBLIC_URL is https): browsers then
 * accept it only from this exact origin, Secure, with Path=/ and no Domain, so a sibling
 * subdomain cannot plant or shadow it. `auditlog_session` on plain http (a local machine).
 */
export function sessionCookieName(env: Pick<Services["env"], "COOKIE_SECURE">): string {
  return env.COOKIE_SECURE ? "__Host-auditlog_session" : "auditlog_session";
}

/** `last_seen_at` (and the sliding expiry) is written at most this often per session. */
export const sessionRefreshIntervalMs = 60_000;
/** However active, a session ends this long after sign-in (or after the TTL, if longer). */
export const sessionAbsoluteLifetimeMs = 30 * 24 * 3600 * 1000;

const cookieValuePattern = /^[A-Za-z0-9_-]{43}$/;

function ttlMs(services: SessionServices): number {
  return services.env.SESSION_TTL_HOURS * 3600 * 1000;
}

function cappedExpiry(services: SessionServices, createdAt: Date, now: Date): Date {
  const absolute = createdAt.getTime() + Math.max(sessionAbsoluteLifetimeMs, ttlMs(services));
  return new Date(Math.min(now.getTime() + ttlMs(services), absolute));
}

export interface ActiveSession {
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Opens a session: the cookie value is returned to the caller once; only its SHA-256 is kept. */
export async function startSession(
  services: SessionServices,
  userId: string,
  now: Date = new Date(),
): Promise<{ cookieValue: string; session: ActiveSession }> {
  const cookieValue = randomSecret();
  const session = await createSession(services.db, {
    userId,
    tokenHash: sha256(cookieValue),
    csrfToken: randomSecret(),
    expiresAt: new Date(now.getTime() + ttlMs(services)),
    now,
  });
  return {
    cookieValue,
    session: { id: session.id, csrfToken: session.csrfToken, expiresAt: session.expiresAt },
  };
}

/** The SHA-256 a cookie value is stored as; null when the value cannot be a session's. */
export function sessionCookieHash(cookieValue: string): Buffer | null {
  return cookieValuePattern.test(cookieValue) ? sha256(cookieValue) : null;
}

/**
 * The live session behind a cookie value, with its user; null when the value is malformed,
 * unknown or expired. Slides the expiry (and tells the caller to re-send the cookie) at most once
 * per `sessionRefreshIntervalMs`.
 */
export async function resolveSession(
  services: SessionServices,
  cookieValue: string,
  now: Date = new Date(),
): Promise<{ session: ActiveSession; user: PublicUser; refreshed: boolean } | null> {
  if (!cookieValuePattern.test(cookieValue)) return null;
  const found = await findActiveSessionByTokenHash(services.db, sha256(cookieValue), now);
  if (!found) return null;
  const { session, user } = found;
  let expiresAt = session.expiresAt;
  let refreshed = false;
  const staleBefore = new Date(now.getTime() - sessionRefreshIntervalMs);
  if (session.lastSeenAt < staleBefore) {
    const next = cappedExpiry(services, session.createdAt, now);
    refreshed = await touchSession(services.db, {
      id: session.id,
      lastSeenAt: now,
      expiresAt: next,
      staleBefore,
    });
    if (refreshed) expiresAt = next;
  }
  return { session: { id: session.id, csrfToken: session.csrfToken, expiresAt }, user, refreshed };
}

/** Ends the session behind a cookie value, if any. */
export async function endSession(services: SessionServices, cookieValue: string): Promise<void> {
  if (!cookieValuePattern.test(cookieValue)) return;
  await deleteSessionByTokenHash(services.db, sha256(cookieValue));
}

/** Ends every session of the user; answers how many there were. */
export function endAllSessions(services: SessionServices, userId: string): Promise<number> {
  return deleteUserSessions(services.db, userId);
}

export function readSessionCookie(c: Context<AppEnv>): string | undefined {
  return getCookie(c, sessionCookieName(c.var.services.env));
}

/** httpOnly, SameSite=Lax, Path=/, Secure per COOKIE_SECURE (PUBLIC_URL), Max-Age = TTL. */
export function setSessionCookie(
  c: Context<AppEnv>,
  cookieValue: string,
  expiresAt: Date,
  now: Date = new Date(),
): void {
  setCookie(c, sessionCookieName(c.var.services.env), cookieValue, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: c.var.services.env.COOKIE_SECURE,
    maxAge: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
  });
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, sessionCookieName(c.var.services.env), {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: c.var.services.env.COOKIE_SECURE,
  });
}
