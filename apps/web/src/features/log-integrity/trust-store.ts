// First: zod's configuration, before the schema below is built (strict-csp.ts says why).
import "../../strict-csp.ts";
import { z } from "zod";
import type { TrustedCheckpoint } from "./log-verifier.ts";

/**
 * The last verified checkpoint of each organisation's log, kept in this browser (localStorage,
 * keyed by organisation id, not slug: a renamed organisation keeps its history) so the next
 * visit checks that the log only grew since. Anything unreadable counts as never seen.
 */

const trustedSchema = z.object({
  origin: z.string().min(1),
  treeSize: z.number().int().nonnegative(),
  rootHash: z.base64().length(44),
  signedAt: z.string(),
  keys: z.array(z.string()),
  verifiedAt: z.string(),
});

export const trustStorageKey = (orgId: string) => `auditlog.verified-checkpoint.${orgId}`;

export function loadTrustedCheckpoint(orgId: string): TrustedCheckpoint | null {
  try {
    const raw = window.localStorage.getItem(trustStorageKey(orgId));
    if (raw === null) return null;
    const parsed = trustedSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function saveTrustedCheckpoint(orgId: string, checkpoint: TrustedCheckpoint): void {
  try {
    window.localStorage.setItem(trustStorageKey(orgId), JSON.stringify(checkpoint));
  } catch {
    // Private mode or full storage: the next visit trusts on first use again.
  }
}
