import {
  type Database,
  findOrgByApiKeyHash,
  findOrgsByApiKeyHashes,
  isServiceOutage,
  touchApiKeys,
} from "@auditlog/db";
import {
  BoundedMap,
  DeadlineExceeded,
  LookupCoalescer,
  NegativeCache,
  withinDeadline,
} from "./credential-cache.ts";

/** The organisation an ingestion key writes to, as the ingest routes need it. */
export interface IngestOrg {
  id: string;
  slug: string;
  plan: string;
}

export interface ApiKeyVerifierOptions {
  /**
   * A key known to this process is looked up again when its last check is older than this, so a
   * revocation (or a plan change) reaches every API process within this plus one lookup. One
   * indexed lookup per key per process per second is cheap; a revoked key that keeps working
   * for minutes is not.
   */
  revalidateMs: number;
  /**
   * How long the re-check of a known key may take before the cached answer is used anyway:
   * PostgreSQL that hangs (a network partition) is an outage too.
   */
  lookupDeadlineMs: number;
  /** How long a key found unknown or revoked is answered from memory. */
  negativeTtlMs: number;
  /** How often `api_keys.last_used_at` is written per key. */
  touchIntervalMs: number;
  /**
   * Keys used within this long are re-checked together in the background, every half
   * `revalidateMs`, so their requests never wait for a lookup of their own. Default 30 s.
   */
  activeMs?: number;
}

interface KnownKey {
  keyId: string;
  org: IngestOrg;
  /** The key itself (its SHA-256), for the background re-check. */
  hash: Buffer;
  /**
   * When the key must be looked up again: `revalidateMs` after the start (the conservative end)
   * of the lookup that confirmed it, or after a re-check PostgreSQL could not answer.
   */
  nextCheckAt: number;
  /** The last request of this process that used the key. */
  usedAt: number;
  /** When `last_used_at` was last written (or found written) for the key; null: never. */
  lastUsedAt: number | null;
}

export type ApiKeyVerdict =
  | { valid: true; org: IngestOrg; keyId: string }
  | { valid: false; cached: boolean };

/** Keys re-checked in one statement. */
const recheckBatch = 1000;

/**
 * Ingestion is the hot path, and must ride out a PostgreSQL outage of any length: keys are kept
 * in memory per process and served from there (stale-if-error) when a re-check fails because
 * PostgreSQL is unreachable or does not answer in time. A known key is confirmed at most
 * `revalidateMs` before it is used, so a revoked key stops working everywhere within about a
 * second.
 *
 * The keys in use are confirmed together, in the background: every half `revalidateMs`, one
 * statement re-checks every key used within `activeMs` whose confirmation would lapse before
 * the next round. With a thousand organisations sending in turn, each key comes back every few
 * seconds, after its confirmation lapsed: looked up on the request path, that was a query (and a
 * wait) per request. A key whose confirmation lapsed anyway (idle, or PostgreSQL did not answer
 * the round) is looked up by its request, as before.
 */
export function createApiKeyVerifier(db: Database, options: ApiKeyVerifierOptions) {
  const activeMs = options.activeMs ?? 30_000;
  const roundMs = Math.max(1, Math.floor(options.revalidateMs / 2));
  const known = new BoundedMap<KnownKey>(10_000);
  const unknown = new NegativeCache(options.negativeTtlMs);
  const lookups = new LookupCoalescer<KnownKey | null>();
  const counts = { lookups: 0, rechecked: 0, rounds: 0 };
  let round: NodeJS.Timeout | undefined;
  let closed = false;

  /** Writes `last_used_at` for the keys whose stored value is older than their last use allows. */
  function touchIfStale(entries: readonly KnownKey[]): void {
    const stale = entries.filter(
      (entry) =>
        entry.lastUsedAt === null || entry.lastUsedAt < entry.usedAt - options.touchIntervalMs,
    );
    if (stale.length === 0) return;
    for (const entry of stale) entry.lastUsedAt = entry.usedAt;
    // Bookkeeping only: a failed write must not fail a request or a round.
    touchApiKeys(db, {
      keys: stale.map((entry) => ({ id: entry.keyId, usedAt: new Date(entry.usedAt) })),
      staleMs: options.touchIntervalMs,
    }).catch(() => {});
  }

  async function lookup(id: string, hash: Buffer): Promise<KnownKey | null> {
    const startedAt = Date.now();
    counts.lookups++;
    const found = await findOrgByApiKeyHash(db, hash);
    if (!found) {
      known.delete(id);
      unknown.add(id);
      return null;
    }
    const entry: KnownKey = {
      keyId: found.keyId,
      org: { id: found.org.id, slug: found.org.slug, plan: found.org.plan },
      hash,
      nextCheckAt: startedAt + options.revalidateMs,
      usedAt: startedAt,
      lastUsedAt: found.lastUsedAt?.getTime() ?? null,
    };
    known.set(id, entry);
    touchIfStale([entry]);
    scheduleRound();
    return entry;
  }

  /** Re-checks the keys in use whose confirmation lapses before the next round. */
  async function recheckKeysInUse(): Promise<void> {
    const now = Date.now();
    const due: [string, KnownKey][] = [];
    for (const [id, entry] of known.entries()) {
      if (entry.usedAt >= now - activeMs && entry.nextCheckAt <= now + roundMs * 2) {
        due.push([id, entry]);
      }
    }
    for (let start = 0; start < due.length && !closed; start += recheckBatch) {
      const batch = due.slice(start, start + recheckBatch);
      const startedAt = Date.now();
      const found = await findOrgsByApiKeyHashes(
        db,
        batch.map(([, entry]) => entry.hash),
      );
      const confirmed: KnownKey[] = [];
      for (const [id, entry] of batch) {
        // A request's own lookup may have replaced the entry meanwhile: it is as fresh.
        if (known.get(id) !== entry) continue;
        const current = found.get(id);
        if (!current) {
          known.delete(id);
          unknown.add(id);
          continue;
        }
        entry.keyId = current.keyId;
        entry.org = current.org;
        entry.nextCheckAt = startedAt + options.revalidateMs;
        confirmed.push(entry);
      }
      counts.rechecked += batch.length;
      touchIfStale(confirmed);
    }
    counts.rounds++;
  }

  /** Starts the rounds (once a key is in use); they stop when no key has been used for `activeMs`. */
  function scheduleRound(): void {
    if (round || closed) return;
    round = setTimeout(async () => {
      try {
        // An outage: the keys' own requests look them up (stale-if-error) until it is over.
        await recheckKeysInUse().catch(() => {});
      } finally {
        round = undefined;
        const now = Date.now();
        for (const [, entry] of known.entries()) {
          if (entry.usedAt >= now - activeMs) {
            scheduleRound();
            break;
          }
        }
      }
    }, roundMs);
    // Never what keeps a process alive.
    round.unref();
  }

  return {
    /** Forgets a key this process revoked: its next use is looked up (and refused) at once. */
    forget(keyId: string): void {
      known.deleteWhere((entry) => entry.keyId === keyId);
    },
    /**
     * Whether the key (its SHA-256) is valid, and for which organisation. `beforeLookup` runs
     * before a key this process does not know costs a database lookup (the failed-authentication
     * limiter refuses there); it returns what to call once the lookup is over. Rejects when
     * PostgreSQL cannot answer for a key this process has never seen.
     */
    async verify(hash: Buffer, beforeLookup?: () => () => void): Promise<ApiKeyVerdict> {
      const id = hash.toString("base64");
      const now = Date.now();
      const cached = known.get(id);
      if (cached && now < cached.nextCheckAt) {
        cached.usedAt = now;
        scheduleRound();
        return { valid: true, org: cached.org, keyId: cached.keyId };
      }
      if (!cached && unknown.has(id, now)) return { valid: false, cached: true };
      const done = cached ? undefined : beforeLookup?.();
      try {
        const pending = lookups.run(id, () => lookup(id, hash));
        const entry = cached
          ? await withinDeadline(pending, options.lookupDeadlineMs)
          : await pending;
        return entry
          ? { valid: true, org: entry.org, keyId: entry.keyId }
          : { valid: false, cached: false };
      } catch (error) {
        if (cached && (error instanceof DeadlineExceeded || isServiceOutage(error))) {
          // Stale-if-error: the last answer PostgreSQL gave stands until it can answer again;
          // retried once per interval, so an outage does not slow every request down.
          cached.nextCheckAt = Date.now() + options.revalidateMs;
          cached.usedAt = Date.now();
          return { valid: true, org: cached.org, keyId: cached.keyId };
        }
        throw error;
      } finally {
        done?.();
      }
    },
    /** Lookups made for a request, keys re-checked in the background, and rounds run. */
    counts(): Readonly<typeof counts> {
      return { ...counts };
    },
    /** Stops the background re-checks (the process is closing its database). */
    close(): void {
      closed = true;
      if (round) clearTimeout(round);
      round = undefined;
    },
  };
}

export type ApiKeyVerifier = ReturnType<typeof createApiKeyVerifier>;
