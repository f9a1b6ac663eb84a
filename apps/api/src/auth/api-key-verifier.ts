import { type Database, findOrgByApiKeyHash, isServiceOutage, touchApiKey } from "@auditlog/db";
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
}

interface KnownKey {
  keyId: string;
  org: IngestOrg;
  /**
   * When the key must be looked up again: `revalidateMs` after the start (the conservative end)
   * of the lookup that confirmed it, or after a re-check PostgreSQL could not answer.
   */
  nextCheckAt: number;
  lastUsedAt: number | null;
}

export type ApiKeyVerdict =
  | { valid: true; org: IngestOrg; keyId: string }
  | { valid: false; cached: boolean };

/**
 * Ingestion is the hot path, and must ride out a PostgreSQL outage of any length: keys are kept
 * in memory per process and served from there (stale-if-error) when a re-check fails because
 * PostgreSQL is unreachable or does not answer in time. A known key is re-checked at most every
 * `revalidateMs`, so a revoked key stops working everywhere within about a second.
 */
export function createApiKeyVerifier(db: Database, options: ApiKeyVerifierOptions) {
  const known = new BoundedMap<KnownKey>(10_000);
  const unknown = new NegativeCache(options.negativeTtlMs);
  const lookups = new LookupCoalescer<KnownKey | null>();

  async function lookup(id: string, hash: Buffer): Promise<KnownKey | null> {
    const startedAt = Date.now();
    const found = await findOrgByApiKeyHash(db, hash);
    if (!found) {
      known.delete(id);
      unknown.add(id);
      return null;
    }
    const entry: KnownKey = {
      keyId: found.keyId,
      org: { id: found.org.id, slug: found.org.slug, plan: found.org.plan },
      nextCheckAt: startedAt + options.revalidateMs,
      lastUsedAt: found.lastUsedAt?.getTime() ?? null,
    };
    known.set(id, entry);
    if (entry.lastUsedAt === null || entry.lastUsedAt < startedAt - options.touchIntervalMs) {
      entry.lastUsedAt = startedAt;
      // Bookkeeping only: a failed write must not fail the request.
      touchApiKey(db, {
        id: entry.keyId,
        usedAt: new Date(startedAt),
        staleBefore: new Date(startedAt - options.touchIntervalMs),
      }).catch(() => {});
    }
    return entry;
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
          return { valid: true, org: cached.org, keyId: cached.keyId };
        }
        throw error;
      } finally {
        done?.();
      }
    },
  };
}

export type ApiKeyVerifier = ReturnType<typeof createApiKeyVerifier>;
