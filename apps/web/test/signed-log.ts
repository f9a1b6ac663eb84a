import type { AuditEntry, CheckpointKey, LogCheckpoint } from "@auditlog/events";
import {
  checkpointOrigin,
  consistencyProof,
  entryLeafHash,
  formatCheckpoint,
  inclusionProof,
  MemoryTileStore,
  type NoteSigner,
  signNote,
  toBase64,
  treeHash,
} from "@auditlog/tlog";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { makeEntry } from "./fixtures.ts";

/**
 * A real organisation log for the console's tests, built with tlog's Node code (the code the
 * server runs): leaves from entries, tiles, RFC 9162 proofs, checkpoints signed as C2SP notes
 * with the shared test key. The console's browser checks must accept it, and refuse it changed.
 */

export const testOrgId = "org_1";
export const testLogOrigin = "auditlog.localhost";

export function publishedKey(signer: NoteSigner = testCheckpointSigner): CheckpointKey {
  return {
    name: signer.name,
    keyId: signer.keyId,
    algorithm: "Ed25519",
    publicKey: toBase64(signer.publicKey),
    verifierKey: signer.verifierKey,
    active: true,
  };
}

/** `count` entries with seq 1…count and distinct salts, as the API would list them. */
export function logEntries(count: number, tag = "a"): AuditEntry[] {
  return Array.from({ length: count }, (_, i) =>
    makeEntry(i, {
      id: `evt_${tag}${String(i).padStart(23, "0")}`,
      seq: i + 1,
      commitment: { salt: toBase64(new Uint8Array(16).fill(i + 1)) },
    }),
  );
}

export interface SignedLog {
  entries: AuditEntry[];
  checkpoint: (size: number, options?: { origin?: string; signer?: NoteSigner }) => LogCheckpoint;
  consistency: (from: number, to: number) => Promise<string[]>;
  proof: (seq: number, size: number) => Promise<{ leafHash: string; proof: string[] }>;
}

export async function signedLog(
  entries: AuditEntry[],
  orgId: string = testOrgId,
): Promise<SignedLog> {
  const leaves = entries.map((entry) => entryLeafHash(orgId, entry));
  const tiles = new MemoryTileStore();
  await tiles.append(leaves);
  const roots = new Map<number, Uint8Array>();
  for (let size = 1; size <= entries.length; size++) roots.set(size, await treeHash(tiles, size));
  return {
    entries,
    checkpoint: (size, options = {}) => {
      const rootHash = roots.get(size) as Uint8Array;
      const note = signNote(
        formatCheckpoint({
          origin: options.origin ?? checkpointOrigin(testLogOrigin, orgId),
          treeSize: size,
          rootHash,
        }),
        options.signer ?? testCheckpointSigner,
      );
      return {
        treeSize: size,
        rootHash: toBase64(rootHash),
        note,
        signedAt: new Date(Date.parse("2026-03-01T12:00:00Z") + size * 1000).toISOString(),
      };
    },
    consistency: async (from, to) => (await consistencyProof(tiles, from, to)).map(toBase64),
    proof: async (seq, size) => ({
      leafHash: toBase64(leaves[seq - 1] as Uint8Array),
      proof: (await inclusionProof(tiles, seq - 1, size)).map(toBase64),
    }),
  };
}
