import { z } from "zod";
import { auditEntrySchema } from "./entry.ts";

/**
 * The verifiable log's HTTP contract (issue 14), shared by the API, the console and the CLI.
 * Hashes and keys are standard base64; formats are RFC 9162 and C2SP (README, "Verifying the log").
 */

const base64Hash = z.base64().length(44);

/** One checkpoint key, as `GET /v1/checkpoint-keys` publishes it. */
export const checkpointKeySchema = z.object({
  /** The key name in signature lines. */
  name: z.string(),
  /** The 4-byte key id (SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4]) as 8 hex digits. */
  keyId: z.string().regex(/^[0-9a-f]{8}$/),
  algorithm: z.literal("Ed25519"),
  /** The raw 32-byte Ed25519 public key, base64. */
  publicKey: z.base64(),
  /** The key as Go's sumdb/note writes a verifier key: `<name>+<key id>+<base64(0x01 ‖ key)>`. */
  verifierKey: z.string(),
  /** Whether this key signs new checkpoints (false: retired by a rotation, still published). */
  active: z.boolean(),
});
export type CheckpointKey = z.infer<typeof checkpointKeySchema>;

export const checkpointKeysSchema = z.object({ keys: z.array(checkpointKeySchema) });
export type CheckpointKeys = z.infer<typeof checkpointKeysSchema>;

/** `GET /v1/orgs/:org/audit-logs/checkpoint[?treeSize=N]`: a signed tree head. */
export const logCheckpointSchema = z.object({
  treeSize: z.number().int().nonnegative(),
  rootHash: base64Hash,
  /** The C2SP signed note, exactly as signed. */
  note: z.string(),
  signedAt: z.iso.datetime(),
});
export type LogCheckpoint = z.infer<typeof logCheckpointSchema>;

/** `GET /v1/orgs/:org/audit-logs/:id/proof?treeSize=N`: RFC 9162 inclusion proof. */
export const inclusionProofSchema = z.object({
  /** seq − 1. */
  leafIndex: z.number().int().nonnegative(),
  leafHash: base64Hash,
  treeSize: z.number().int().positive(),
  proof: z.array(base64Hash),
});
export type InclusionProof = z.infer<typeof inclusionProofSchema>;

/** `GET /v1/orgs/:org/audit-logs/consistency?from=N&to=M`: RFC 9162 consistency proof. */
export const consistencyProofSchema = z.object({
  fromSize: z.number().int().positive(),
  toSize: z.number().int().positive(),
  proof: z.array(base64Hash),
});
export type ConsistencyProof = z.infer<typeof consistencyProofSchema>;

/** `GET /v1/orgs/:org/audit-logs/feed?after=<seq>&limit=<1..1000>`: ascending by seq. */
export const feedPageSchema = z.object({ entries: z.array(auditEntrySchema) });
export type FeedPage = z.infer<typeof feedPageSchema>;

/**
 * Why `verify` found the log bad at a place (README, "Verifying a whole log"): an entry
 * `changed`, `deleted`, `inserted` or `reordered`; a stored `checkpoint` that does not verify
 * with the published keys; a stored `tile` (the tree the proofs are served from) that does not
 * match entries the checkpoints vouch for.
 */
export const verifyFailureReasons = [
  "changed",
  "deleted",
  "inserted",
  "reordered",
  "checkpoint",
  "tile",
] as const;

/** What `pnpm auditlog verify` prints and `GET /v1/orgs/:org/audit-logs/verify` answers. */
export const logVerificationSchema = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    /** The latest checkpoint verified: entries 1 … treeSize are proven. */
    treeSize: z.number().int().nonnegative(),
    rootHash: base64Hash,
    /** Entries in the log; those past treeSize are not covered by a checkpoint yet. */
    logSize: z.number().int().nonnegative().optional(),
    /**
     * The first entry still held (issue 16): entries 1 … retainedFrom − 1 were purged by the
     * retention, and their leaf hashes were taken from the stored tree, vouched for by the
     * signed checkpoints; 1 when nothing was purged.
     */
    retainedFrom: z.number().int().positive().optional(),
  }),
  z.object({
    ok: z.literal(false),
    firstBad: z.object({
      seq: z.number().int().positive(),
      reason: z.enum(verifyFailureReasons),
      detail: z.string().optional(),
    }),
  }),
]);
export type LogVerification = z.infer<typeof logVerificationSchema>;
