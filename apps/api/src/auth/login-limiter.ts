import { createHash } from "node:crypto";
import { loginAddressBucket } from "@auditlog/events/ip";
import type { Redis } from "ioredis";

export interface LoginLimitOptions {
  /** Failed sign-ins allowed per email and per client address within the window. */
  maxFailures: number;
  windowSeconds: number;
}

/** Where one attempt leaves the stricter of its two counters, as RateLimit headers tell it. */
export interface LoginLimitState {
  limit: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
  /** Set when this attempt is over the limit: how long until it may be tried again. */
  retryAfterSeconds: number | null;
}

/**
 * The address a sign-in counts against: IPv4-mapped IPv6 as IPv4, other IPv6 by /64 (one host
 * usually owns a /64). It is only ever hashed into a Redis key, never logged or stored.
 */
function addressBucket(address: string | undefined): string {
  if (!address) return "unknown";
  return loginAddressBucket(address) ?? address;
}

function failureKey(kind: "email" | "ip", value: string): string {
  return `auditlog:login-failures:${kind}:${createHash("sha256").update(value).digest("hex")}`;
}

/**
 * Failed-sign-in limiting, per email and per client address, in fixed windows started by the
 * first attempt. An attempt is counted before the password is checked, so parallel guesses cannot
 * all slip under the limit; a successful sign-in gives its attempt back and forgives the email.
 */
export function createLoginLimiter(redis: Redis, options: LoginLimitOptions) {
  return {
    /** Counts the attempt; rejects when Redis cannot (callers must then refuse the sign-in). */
    async count(email: string, address: string | undefined) {
      const keys = [failureKey("email", email), failureKey("ip", addressBucket(address))];
      const multi = redis.multi();
      for (const key of keys) {
        multi.set(key, "0", "EX", options.windowSeconds, "NX").incr(key).ttl(key);
      }
      const results = await multi.exec();
      if (!results) throw new Error("login limiter transaction aborted");
      const counts = keys.map((_, index) => {
        const [incrError, count] = results[index * 3 + 1] ?? [];
        const [, ttl] = results[index * 3 + 2] ?? [];
        if (incrError) throw incrError;
        return {
          count: Number(count),
          ttlSeconds: Number(ttl) > 0 ? Number(ttl) : options.windowSeconds,
        };
      });
      const worst = counts.reduce((a, b) => (b.count > a.count ? b : a));
      const blocked = counts.filter((entry) => entry.count > options.maxFailures);
      const retryAfterSeconds =
        blocked.length > 0 ? Math.max(...blocked.map((entry) => entry.ttlSeconds)) : null;
      const state: LoginLimitState = {
        limit: options.maxFailures,
        windowSeconds: options.windowSeconds,
        remaining: retryAfterSeconds === null ? Math.max(0, options.maxFailures - worst.count) : 0,
        resetSeconds: retryAfterSeconds ?? worst.ttlSeconds,
        retryAfterSeconds,
      };
      return {
        state,
        /** Gives this attempt back (the password was right) and forgives the email's failures. */
        async succeeded(): Promise<LoginLimitState> {
          const [emailKey = "", addressKey = ""] = keys;
          await redis
            .multi()
            .del(emailKey)
            .decr(addressKey)
            .exec()
            .catch(() => {});
          return { ...state, remaining: options.maxFailures };
        },
      };
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

/** The IETF RateLimit headers (and Retry-After when refused) for a sign-in's limit state. */
export function rateLimitHeaders(state: LoginLimitState): Record<string, string> {
  return {
    "RateLimit-Limit": String(state.limit),
    "RateLimit-Remaining": String(state.remaining),
    "RateLimit-Reset": String(state.resetSeconds),
    "RateLimit-Policy": `${state.limit};w=${state.windowSeconds}`,
    ...(state.retryAfterSeconds === null ? {} : { "Retry-After": String(state.retryAfterSeconds) }),
  };
}
