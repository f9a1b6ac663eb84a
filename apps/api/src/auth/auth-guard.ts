import { createHmac } from "node:crypto";
import { loginAddressBucket } from "@auditlog/events/ip";
import type { RedisConnection } from "@auditlog/redis";
import { ApiError } from "../errors.ts";
import { BoundedMap, LookupCoalescer, NegativeCache } from "./credential-cache.ts";
import { rateLimitHeaders } from "./login-limiter.ts";

export interface AuthGuardOptions {
  /** Failed authentications per client address within the window before 429. */
  maxFailures: number;
  windowSeconds: number;
  /** How long a credential found unknown is answered from memory. */
  negativeTtlMs: number;
}

interface AddressState {
  failures: number;
  windowEndsAt: number;
  /** Lookups of this address's credentials running now. */
  inflight: number;
}

/**
 * What keeps credentials nobody was given away from PostgreSQL: a credential found unknown is
 * remembered for a few seconds (the same value again costs nothing), concurrent lookups of one
 * credential share one query, and an address whose credentials keep failing gets 429 before any
 * lookup until its window ends.
 *
 * Failures are counted per address bucket (IPv4 address, IPv6 /64) in this process and in Redis,
 * under an HMAC key, so that every API process learns the total. Each process decides from its
 * own view, which Redis refreshes on every failure it counts: no Redis round trip is added to an
 * authenticated request, and with Redis down each process still limits what it sees itself
 * (failing open for the shared count: these credentials are 256-bit random, so the limit guards
 * the database, not a secret that could be guessed; the sign-in limiter, which guards passwords,
 * fails closed). Requests without a peer address (in-process calls) are not limited.
 */
export function createAuthGuard(
  redis: RedisConnection,
  keyring: { key(): Promise<Buffer> },
  options: AuthGuardOptions,
) {
  const addresses = new BoundedMap<AddressState>(10_000);
  const misses = new NegativeCache(options.negativeTtlMs);
  const lookups = new LookupCoalescer<unknown>();
  const windowMs = options.windowSeconds * 1000;

  function stateOf(bucket: string, now: number): AddressState {
    let state = addresses.get(bucket);
    if (!state) {
      state = { failures: 0, windowEndsAt: now + windowMs, inflight: 0 };
      addresses.set(bucket, state);
    } else if (state.windowEndsAt <= now) {
      state.failures = 0;
      state.windowEndsAt = now + windowMs;
    }
    return state;
  }

  function bucketOf(address: string | undefined): string | null {
    if (!address) return null;
    return loginAddressBucket(address) ?? address;
  }

  function limited(state: AddressState, now: number): ApiError {
    const seconds = Math.max(1, Math.ceil((state.windowEndsAt - now) / 1000));
    return new ApiError(
      "rate_limited",
      `too many failed authentications from this address; try again in ${seconds} seconds`,
      undefined,
      rateLimitHeaders(
        {
          limit: options.maxFailures,
          windowSeconds: options.windowSeconds,
          remaining: 0,
          resetSeconds: seconds,
          retryAfterSeconds: seconds,
        },
        "auth-failures",
      ),
    );
  }

  async function countShared(bucket: string, state: AddressState): Promise<void> {
    const mac = createHmac("sha256", await keyring.key())
      .update(`auth-failures\n${bucket}`)
      .digest("base64url");
    const key = `auditlog:auth-failures:${mac}`;
    const results = await redis
      .multi()
      .set(key, "0", "PX", windowMs, "NX")
      .incr(key)
      .pttl(key)
      .exec();
    const total = Number(results?.[1]?.[1]);
    const ttl = Number(results?.[2]?.[1]);
    if (Number.isFinite(total) && total > state.failures) {
      state.failures = total;
      if (ttl > 0) state.windowEndsAt = Date.now() + ttl;
    }
  }

  const guard = {
    /**
     * Before a credential costs a lookup: throws 429 once the address is over its limit (its
     * lookups in flight count too, once it has failed at all, so a burst cannot run past the
     * limit); otherwise answers the call to make when the lookup is over.
     */
    admit(address: string | undefined): () => void {
      const bucket = bucketOf(address);
      if (!bucket) return () => {};
      const now = Date.now();
      const state = stateOf(bucket, now);
      const spent = state.failures + (state.failures > 0 ? state.inflight : 0);
      if (state.failures >= options.maxFailures || spent >= options.maxFailures) {
        throw limited(state, now);
      }
      state.inflight += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        state.inflight -= 1;
      };
    },

    /** A presented credential was refused: one more failure for its address. */
    failed(address: string | undefined): void {
      const bucket = bucketOf(address);
      if (!bucket) return;
      const state = stateOf(bucket, Date.now());
      state.failures += 1;
      // Not awaited: the 401 must not wait on Redis.
      countShared(bucket, state).catch(() => {});
    },

    /**
     * A user credential (its SHA-256, `kind` telling sessions and tokens apart) through the
     * guard: from the recent misses, else (if the address may) looked up once for all concurrent
     * requests presenting it. Null, counted as a failure, when it is not valid.
     */
    async check<T>(
      kind: "session" | "token" | "viewerLink",
      hash: Buffer,
      address: string | undefined,
      lookup: () => Promise<T | null>,
    ): Promise<T | null> {
      const id = `${kind}:${hash.toString("base64")}`;
      if (misses.has(id)) {
        guard.failed(address);
        return null;
      }
      const done = guard.admit(address);
      let found: T | null;
      try {
        found = (await lookups.run(id, lookup)) as T | null;
      } finally {
        done();
      }
      if (found === null) {
        misses.add(id);
        guard.failed(address);
      }
      return found;
    },
  };
  return guard;
}

export type AuthGuard = ReturnType<typeof createAuthGuard>;
