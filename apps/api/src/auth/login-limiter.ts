import { createHmac } from "node:crypto";
import { loginAddressBucket } from "@auditlog/events/ip";
import type { RedisConnection } from "@auditlog/redis";
import { rateLimitFields } from "../http/rate-limit.ts";

export interface LoginLimitOptions {
  /** Failed sign-ins per (email, address) before each further try must wait. */
  freeFailures: number;
  /** The longest wait between two tries of one email from one address. */
  maxDelaySeconds: number;
  /** Failed sign-ins per client address, across emails, within the window (slows spraying). */
  maxAddressFailures: number;
  /** How long failures are remembered: the address's window, and a pair's memory after its wait. */
  windowSeconds: number;
}

/** Where one attempt leaves its limit, as the RateLimit headers tell it. */
export interface LoginLimitState {
  limit: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
  /** Set when this attempt is refused: how long until it may be tried again. */
  retryAfterSeconds: number | null;
}

/**
 * The address a sign-in counts against: IPv4-mapped IPv6 as IPv4, other IPv6 by /64 (one host
 * usually owns a /64). It only ever enters Redis inside an HMAC, never logged or stored.
 */
function addressBucket(address: string | undefined): string {
  if (!address) return "unknown";
  return loginAddressBucket(address) ?? address;
}

/**
 * One attempt, atomically, on Redis's clock (every API process agrees on it):
 * refused when the address is over its ceiling or the pair is still waiting; otherwise counted as
 * a failure (until `succeeded` says otherwise, so parallel guesses cannot all slip through) and
 * the pair's next try is pushed back: nothing for the first `free - 1` failures, then 2 s, 4 s,
 * 8 s … up to the cap.
 *
 * KEYS: pair (hash of failures and next allowed time, ms), address (counter); one hash tag
 * ARGV: free failures, max delay (s), address ceiling, window (s)
 * Returns: { "address", retry ms } | { "pair", retry ms, failures } | { "counted", failures, delay ms }
 */
const attemptScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(ARGV[1])
local maxDelay = tonumber(ARGV[2]) * 1000
local ceiling = tonumber(ARGV[3])
local window = tonumber(ARGV[4]) * 1000
local spent = tonumber(redis.call('GET', KEYS[2]) or '0')
if spent >= ceiling then
  return { 'address', redis.call('PTTL', KEYS[2]) }
end
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
local nextAt = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
if nextAt > now then
  return { 'pair', nextAt - now, failures }
end
failures = failures + 1
local delay = 0
if failures >= free then
  delay = math.min(math.pow(2, failures - free + 1) * 1000, maxDelay)
end
redis.call('HSET', KEYS[1], 'failures', failures, 'next', now + delay)
redis.call('PEXPIRE', KEYS[1], window + delay)
redis.call('SET', KEYS[2], '0', 'PX', window, 'NX')
redis.call('INCR', KEYS[2])
return { 'counted', failures, delay }
`;

/**
 * Failed-sign-in throttling per (email, client address) with growing delays, plus a generous
 * ceiling per address across emails. There is no per-email lock: a stranger failing for an email
 * from their own addresses slows only themselves, so the real user signing in from theirs always
 * gets in. Keys are HMACs under a key derived from the deployment secret: neither an address nor
 * an email can be read back from Redis (a plain SHA-256 of an IPv4 address is reversed by
 * trying all 2^32).
 */
export function createLoginLimiter(
  redis: RedisConnection,
  keyring: { key(): Promise<Buffer> },
  options: LoginLimitOptions,
) {
  async function redisKeys(email: string, address: string | undefined) {
    const key = await keyring.key();
    const mac = (text: string) => createHmac("sha256", key).update(text).digest("base64url");
    const bucket = addressBucket(address);
    // The script and `succeeded` touch both keys at once, which a Redis Cluster allows only
    // within one slot: both carry the address's HMAC as their hash tag.
    const tag = `{${mac(`login-address\n${bucket}`)}}`;
    return {
      pair: `auditlog:login:${tag}:pair:${mac(`login-pair\n${email}\n${bucket}`)}`,
      address: `auditlog:login:${tag}:address`,
    };
  }

  const refused = (limit: number, retryMs: number): LoginLimitState => {
    const seconds = Math.max(1, Math.ceil(retryMs / 1000));
    return {
      limit,
      windowSeconds: options.windowSeconds,
      remaining: 0,
      resetSeconds: seconds,
      retryAfterSeconds: seconds,
    };
  };

  return {
    /** Counts the attempt; rejects when Redis cannot (callers must then refuse the sign-in). */
    async count(email: string, address: string | undefined) {
      const keys = await redisKeys(email, address);
      const [verdict, first, second] = (await redis.eval(
        attemptScript,
        2,
        keys.pair,
        keys.address,
        options.freeFailures,
        options.maxDelaySeconds,
        options.maxAddressFailures,
        options.windowSeconds,
      )) as [string, number, number];
      let state: LoginLimitState;
      if (verdict === "address") state = refused(options.maxAddressFailures, first);
      else if (verdict === "pair") state = refused(options.freeFailures, first);
      else {
        state = {
          limit: options.freeFailures,
          windowSeconds: options.windowSeconds,
          remaining: Math.max(0, options.freeFailures - first),
          resetSeconds: second > 0 ? Math.ceil(second / 1000) : options.windowSeconds,
          retryAfterSeconds: null,
        };
      }
      return {
        state,
        /** The password was right: forgets the pair's failures and gives the address its try back. */
        async succeeded(): Promise<LoginLimitState> {
          await redis
            .multi()
            .del(keys.pair)
            .decr(keys.address)
            .exec()
            .catch(() => {});
          return {
            ...state,
            remaining: options.freeFailures,
            resetSeconds: options.windowSeconds,
          };
        },
      };
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;

/**
 * The RateLimit fields (draft-ietf-httpapi-ratelimit-headers, as every quota of this API sends
 * them) and Retry-After when refused, for a limit state under the named policy.
 */
export function rateLimitHeaders(
  state: LoginLimitState,
  policy: "sign-in" | "auth-failures" = "sign-in",
): Record<string, string> {
  return {
    ...rateLimitFields(
      { name: policy, quota: state.limit, windowSeconds: state.windowSeconds },
      { allowed: state.retryAfterSeconds === null, ...state },
    ),
    ...(state.retryAfterSeconds === null ? {} : { "Retry-After": String(state.retryAfterSeconds) }),
  };
}
