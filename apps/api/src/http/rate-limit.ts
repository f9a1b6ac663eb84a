import type { RedisConnection } from "@auditlog/redis";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";

/** A quota of requests per fixed window, named as the `RateLimit-Policy` field names it. */
export interface RateLimitPolicy {
  name: string;
  quota: number;
  windowSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in this window (0 once refused). */
  remaining: number;
  /** Seconds until the window ends and the quota is whole again. */
  resetSeconds: number;
}

/**
 * The RateLimit header fields of draft-ietf-httpapi-ratelimit-headers (structured fields):
 * `RateLimit-Policy: "reads";q=600;w=60` and `RateLimit: "reads";r=599;t=60`.
 */
export function rateLimitFields(
  policy: RateLimitPolicy,
  decision: RateLimitDecision,
): Record<string, string> {
  return {
    "RateLimit-Policy": `"${policy.name}";q=${policy.quota};w=${policy.windowSeconds}`,
    RateLimit: `"${policy.name}";r=${decision.remaining};t=${decision.resetSeconds}`,
  };
}

/**
 * Opens the window (`SET NX EX`), counts (`INCR`) and says when the window ends (`TTL`), in one
 * script: the same three commands the limiter always ran, as one command instead of a
 * MULTI/EXEC pipeline of five, which cost the API about 6% of its CPU on the ingest path.
 */
const takeScript = `redis.call('SET', KEYS[1], '0', 'EX', ARGV[1], 'NX')
local used = redis.call('INCR', KEYS[1])
return {used, redis.call('TTL', KEYS[1])}`;

const takeCommand = "auditlogRateLimitTake";
type TakeCommand = (key: string, windowSeconds: number) => Promise<[number, number]>;

/**
 * Fixed-window request counters in Redis, shared by every API process: one round trip per
 * request. Partitions are identifiers (a user, a token, an API key's id), never secrets or
 * addresses.
 */
export function createRateLimiter(redis: RedisConnection) {
  // EVALSHA (ioredis sends the script itself once per connection, and again on NOSCRIPT after a
  // Redis restart): not the script's text with every request for Redis to hash each time.
  redis.defineCommand(takeCommand, { numberOfKeys: 1, lua: takeScript });
  const run = (redis as unknown as Record<string, TakeCommand>)[takeCommand] as TakeCommand;
  return {
    async take(policy: RateLimitPolicy, partition: string): Promise<RateLimitDecision> {
      const key = `auditlog:rate:${policy.name}:${partition}`;
      const [used, ttl] = await run.call(redis, key, policy.windowSeconds);
      const resetSeconds = ttl > 0 ? ttl : policy.windowSeconds;
      return {
        allowed: used <= policy.quota,
        remaining: Math.max(0, policy.quota - used),
        resetSeconds,
      };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * Counts each request against `partitionOf(c)` under `policy`, sets the RateLimit fields, and
 * answers 429 with Retry-After (the end of the window) once the quota is spent. When Redis
 * cannot count, the request goes on: the limiter protects the other tenants, and an outage of it
 * must not take reads down with it (statement timeouts and query slots still bound the cost).
 */
export function limitRequests(
  policyOf: (c: Context<AppEnv>) => RateLimitPolicy,
  partitionOf: (c: Context<AppEnv>) => string,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const policy = policyOf(c);
    let decision: RateLimitDecision;
    try {
      decision = await c.var.services.rateLimiter.take(policy, partitionOf(c));
    } catch {
      await next();
      return;
    }
    const fields = rateLimitFields(policy, decision);
    if (!decision.allowed) {
      throw new ApiError(
        "rate_limited",
        `too many requests: at most ${policy.quota} per ${policy.windowSeconds} s; retry after ${decision.resetSeconds} s`,
        undefined,
        { ...fields, "Retry-After": String(decision.resetSeconds) },
      );
    }
    for (const [name, value] of Object.entries(fields)) c.header(name, value);
    await next();
  };
}

/** Every request of a signed-in person, per personal access token or per user (session). */
export const limitUserRequests = limitRequests(
  (c) => c.var.services.rateLimits.user,
  (c) =>
    c.var.credential.kind === "token" ? `token:${c.var.credential.id}` : `user:${c.var.user.id}`,
);

/** Every ingestion request, per API key. */
export const limitIngestRequests = limitRequests(
  (c) => c.var.services.rateLimits.ingest,
  (c) => `key:${c.var.ingestOrg.keyId}`,
);
