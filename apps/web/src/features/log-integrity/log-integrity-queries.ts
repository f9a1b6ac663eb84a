import { type AuditEntry, type LogCheckpoint } from "@auditlog/events";
import { queryOptions } from "@tanstack/react-query";
import type { Organization } from "../../api/api-types.ts";
import { ApiRequestError, apiRequest } from "../../api/client.ts";
import { auditLogKeys } from "../audit-log/audit-log-queries.ts";
import type { TrustedCheckpoint } from "./log-verifier.ts";

const logPath = (orgSlug: string) => `/v1/orgs/${encodeURIComponent(orgSlug)}/audit-logs`;

/**
 * Under the log's own keys, so the page's Refresh (which invalidates `auditLogKeys.all`) checks
 * the latest checkpoint again.
 */
export const logIntegrityKeys = {
  all: (orgSlug: string) => [...auditLogKeys.all(orgSlug), "integrity"] as const,
  verification: (orgSlug: string, orgId: string) =>
    [...logIntegrityKeys.all(orgSlug), "verification", orgId] as const,
  proof: (orgSlug: string, entryId: string, treeSize: number, rootHash: string) =>
    [...logIntegrityKeys.all(orgSlug), "proof", entryId, treeSize, rootHash] as const,
};

/**
 * The verifier and its crypto (@auditlog/tlog/browser) in a chunk of their own, loaded when the
 * first check starts: the log's first rows do not wait for them.
 */
const loadVerifier = () => import("./log-verifier.ts");

/** The trust store checks what it reads with zod: loaded with the first check too. */
const loadTrustStore = () => import("./trust-store.ts");

const isRefusal = (error: unknown): error is ApiRequestError =>
  error instanceof ApiRequestError && error.status >= 400 && error.status < 500;

async function fetchLatestCheckpoint(
  orgSlug: string,
  signal: AbortSignal,
): Promise<LogCheckpoint | null> {
  try {
    return await apiRequest(`${logPath(orgSlug)}/checkpoint`, {
      schema: (schemas) => schemas.logCheckpointSchema,
      signal,
    });
  } catch (error) {
    // No checkpoint signed yet (an empty log, or one the signer has not reached).
    if (error instanceof ApiRequestError && error.status === 404) return null;
    throw error;
  }
}

/**
 * The latest checkpoint, checked in this browser against the published keys and the checkpoint
 * it verified before; a verified one becomes the new reference. Failures of the check are data
 * (`status: "failed"`), failures to reach the server are errors (retried, then shown as such).
 */
export function logVerificationOptions(org: Pick<Organization, "id" | "slug">) {
  return queryOptions({
    queryKey: logIntegrityKeys.verification(org.slug, org.id),
    queryFn: async ({ signal }) => {
      const [
        { keys },
        checkpoint,
        { checkLatestCheckpoint, RefusedProofError },
        { loadTrustedCheckpoint, saveTrustedCheckpoint },
      ] = await Promise.all([
        apiRequest("/v1/checkpoint-keys", {
          schema: (schemas) => schemas.checkpointKeysSchema,
          signal,
        }),
        fetchLatestCheckpoint(org.slug, signal),
        loadVerifier(),
        loadTrustStore(),
      ]);
      const result = await checkLatestCheckpoint({
        orgId: org.id,
        keys,
        checkpoint,
        trusted: loadTrustedCheckpoint(org.id),
        fetchConsistency: async (from, to) => {
          try {
            return await apiRequest(`${logPath(org.slug)}/consistency?from=${from}&to=${to}`, {
              schema: (schemas) => schemas.consistencyProofSchema,
              signal,
            });
          } catch (error) {
            if (isRefusal(error)) throw new RefusedProofError(error.message);
            throw error;
          }
        },
      });
      if (result.status === "verified") saveTrustedCheckpoint(org.id, result.checkpoint);
      return result;
    },
    // New entries are signed within seconds: check again now and then while the page is open.
    staleTime: 15_000,
    refetchInterval: 60_000,
  });
}

/** Pins the keys published now, dropping the warnings about keys that went away or changed. */
export async function acceptPublishedKeys(orgId: string, publishedKeys: string[]): Promise<void> {
  const { loadTrustedCheckpoint, saveTrustedCheckpoint } = await loadTrustStore();
  const trusted = loadTrustedCheckpoint(orgId);
  if (trusted) saveTrustedCheckpoint(orgId, { ...trusted, keys: publishedKeys });
}

/** The entry's inclusion proof in the verified checkpoint, checked in this browser. */
export function entryInclusionOptions(
  org: Pick<Organization, "id" | "slug">,
  entry: AuditEntry,
  checkpoint: Pick<TrustedCheckpoint, "treeSize" | "rootHash">,
) {
  return queryOptions({
    // The entry's content is part of what is checked: a changed entry is checked anew.
    queryKey: [
      ...logIntegrityKeys.proof(org.slug, entry.id, checkpoint.treeSize, checkpoint.rootHash),
      entry,
    ],
    queryFn: async ({ signal }) => {
      const [proof, { checkEntryInclusion }] = await Promise.all([
        apiRequest(
          `${logPath(org.slug)}/${encodeURIComponent(entry.id)}/proof?treeSize=${checkpoint.treeSize}`,
          { schema: (schemas) => schemas.inclusionProofSchema, signal },
        ),
        loadVerifier(),
      ]);
      return {
        proof,
        result: await checkEntryInclusion({ orgId: org.id, entry, proof, checkpoint }),
      };
    },
    staleTime: Number.POSITIVE_INFINITY,
  });
}
