import type {
  AuditEntry,
  CheckpointKey,
  ConsistencyProof,
  InclusionProof,
  LogCheckpoint,
} from "@auditlog/events";
import {
  CheckpointError,
  entryLeafHash,
  fromBase64,
  NoteError,
  parseCheckpoint,
  toBase64,
  verifyConsistency,
  verifyInclusion,
  verifyNote,
} from "@auditlog/tlog/browser";

/**
 * What the console checks itself, in the browser, rather than take the server's word for it:
 * the latest checkpoint's signature (by a published key), its origin, and that it extends the
 * checkpoint this browser verified before (trust on first use, RFC 9162 consistency proof); and
 * an entry's inclusion in the verified checkpoint, from the entry as the API listed it. No React
 * here: the queries call these and the components render what they answer.
 */

/** The last checkpoint this browser verified for an organisation, as kept between visits. */
export interface TrustedCheckpoint {
  /** The note's origin line: `<LOG_ORIGIN>/orgs/<org id>`, pinned on first use. */
  origin: string;
  treeSize: number;
  /** Base64, from the signed note (not from the JSON around it). */
  rootHash: string;
  signedAt: string;
  /** Every verifier key seen published for this log (`name+keyId+base64`), pinned on first use. */
  keys: string[];
  /** When this browser verified it. */
  verifiedAt: string;
}

export type IntegrityFailure =
  | "bad-signature"
  | "unknown-key"
  | "wrong-origin"
  | "inconsistent"
  | "malformed";

/** A published key that no longer is, or is published with other bytes: worth a warning. */
export interface KeyWarning {
  kind: "disappeared" | "changed";
  /** `name+keyId`. */
  key: string;
}

/** What every state carries about the keys: warnings, and the published set to accept them. */
interface KeyState {
  keyWarnings: KeyWarning[];
  /** The verifier keys GET /v1/checkpoint-keys published at this check. */
  publishedKeys: string[];
}

export type LogVerification =
  | ({ status: "none" } & KeyState)
  | ({
      status: "verified";
      checkpoint: TrustedCheckpoint;
      /** The size of the checkpoint it was proved consistent with; null on first use. */
      extends: number | null;
      signedBy: string[];
    } & KeyState)
  | ({
      status: "failed";
      reason: IntegrityFailure;
      message: string;
      /** The last checkpoint verified before; left as it was. */
      trusted: TrustedCheckpoint | null;
    } & KeyState);

/** An answer of the server that is refused on purpose (4xx): proof it cannot give, not an outage. */
export class RefusedProofError extends Error {
  override readonly name = "RefusedProofError";
}

export interface CheckLatestInput {
  orgId: string;
  keys: readonly CheckpointKey[];
  /** The server's latest checkpoint; null when it has none yet. */
  checkpoint: LogCheckpoint | null;
  trusted: TrustedCheckpoint | null;
  /** GET …/consistency?from&to; throws RefusedProofError when the server refuses. */
  fetchConsistency: (fromSize: number, toSize: number) => Promise<ConsistencyProof>;
  now?: () => Date;
}

const keyLabel = (verifierKey: string) => verifierKey.split("+").slice(0, 2).join("+");

/** Pinned keys that the server stopped publishing, or publishes with other bytes. */
export function keyWarnings(pinned: readonly string[], published: readonly string[]): KeyWarning[] {
  const now = new Set(published);
  const labels = new Set(published.map(keyLabel));
  return pinned
    .filter((key) => !now.has(key))
    .map((key) => ({
      kind: labels.has(keyLabel(key)) ? ("changed" as const) : ("disappeared" as const),
      key: keyLabel(key),
    }));
}

/** The origin must name this organisation: `…/orgs/<orgId>`. */
export function originNamesOrg(origin: string, orgId: string): boolean {
  return origin.endsWith(`/orgs/${orgId}`) && origin.length > `/orgs/${orgId}`.length;
}

function noteFailure(error: NoteError): { reason: IntegrityFailure; message: string } {
  // The messages of tlog's verifyNote (note-format.ts / browser/index.ts) tell the cases apart.
  if (error.message.startsWith("invalid signature")) {
    return { reason: "bad-signature", message: `The note says: ${error.message}.` };
  }
  if (error.message.includes("no signature from a known key")) {
    return {
      reason: "unknown-key",
      message: "No key published at /v1/checkpoint-keys signed this checkpoint.",
    };
  }
  return {
    reason: "malformed",
    message: `The checkpoint is not a valid signed note: ${error.message}.`,
  };
}

/** Checks the latest checkpoint; a failed check answers `failed` (it does not throw). */
export async function checkLatestCheckpoint(input: CheckLatestInput): Promise<LogVerification> {
  const { orgId, checkpoint, trusted } = input;
  const published = input.keys.map((key) => key.verifierKey);
  const warnings = keyWarnings(trusted?.keys ?? [], published);
  const fail = (reason: IntegrityFailure, message: string): LogVerification => ({
    status: "failed",
    reason,
    message,
    trusted,
    keyWarnings: warnings,
    publishedKeys: published,
  });

  if (checkpoint === null) {
    if (trusted !== null && trusted.treeSize > 0) {
      return fail(
        "inconsistent",
        `The server has no checkpoint, but this browser verified entries 1 to ${trusted.treeSize} on ${trusted.verifiedAt}.`,
      );
    }
    return { status: "none", keyWarnings: warnings, publishedKeys: published };
  }

  let opened: Awaited<ReturnType<typeof verifyNote>>;
  try {
    opened = await verifyNote(checkpoint.note, published);
  } catch (error) {
    if (error instanceof NoteError) {
      const { reason, message } = noteFailure(error);
      return fail(reason, message);
    }
    throw error;
  }
  let parsed: ReturnType<typeof parseCheckpoint>;
  try {
    parsed = parseCheckpoint(opened.text);
  } catch (error) {
    if (error instanceof CheckpointError) {
      return fail("malformed", `The signed note is not a checkpoint: ${error.message}.`);
    }
    throw error;
  }
  const rootHash = toBase64(parsed.rootHash);
  if (!originNamesOrg(parsed.origin, orgId)) {
    return fail(
      "wrong-origin",
      `The checkpoint is of “${parsed.origin}”, not of an organisation log ending in /orgs/${orgId}.`,
    );
  }
  if (trusted !== null && trusted.origin !== parsed.origin) {
    return fail(
      "wrong-origin",
      `The checkpoint is of “${parsed.origin}”, but this browser verified “${trusted.origin}” before.`,
    );
  }
  // The JSON around the note is a convenience; only the signed text counts, and they must agree.
  if (parsed.treeSize !== checkpoint.treeSize || rootHash !== checkpoint.rootHash) {
    return fail(
      "malformed",
      "The checkpoint's tree size or root hash differs from the ones in its signed note.",
    );
  }

  let extendsSize: number | null = null;
  if (trusted !== null && trusted.treeSize > 0) {
    const seenBefore = `the checkpoint of ${trusted.treeSize} entries this browser verified on ${trusted.verifiedAt}`;
    if (parsed.treeSize < trusted.treeSize) {
      return fail(
        "inconsistent",
        `The log has ${parsed.treeSize} entries, fewer than ${seenBefore}.`,
      );
    }
    if (parsed.treeSize === trusted.treeSize) {
      if (rootHash !== trusted.rootHash) {
        return fail("inconsistent", `Same size, different root hash than ${seenBefore}.`);
      }
    } else {
      let proof: ConsistencyProof;
      try {
        proof = await input.fetchConsistency(trusted.treeSize, parsed.treeSize);
      } catch (error) {
        if (error instanceof RefusedProofError) {
          return fail(
            "inconsistent",
            `The server refused to prove that the log only grew since ${seenBefore} (${error.message}).`,
          );
        }
        throw error;
      }
      const consistent =
        proof.fromSize === trusted.treeSize &&
        proof.toSize === parsed.treeSize &&
        (await verifyConsistency({
          fromSize: trusted.treeSize,
          toSize: parsed.treeSize,
          fromRoot: fromBase64(trusted.rootHash) as Uint8Array,
          toRoot: parsed.rootHash,
          proof: proof.proof.map((hash) => fromBase64(hash) as Uint8Array),
        }));
      if (!consistent) {
        return fail(
          "inconsistent",
          `The consistency proof does not show that the log only grew since ${seenBefore}: some of entries 1 to ${trusted.treeSize} were changed, removed or reordered.`,
        );
      }
    }
    extendsSize = trusted.treeSize;
  }

  const now = input.now?.() ?? new Date();
  return {
    status: "verified",
    checkpoint: {
      origin: parsed.origin,
      treeSize: parsed.treeSize,
      rootHash,
      signedAt: checkpoint.signedAt,
      // Pinned keys stay pinned: one that disappears keeps warning until the user accepts.
      keys: [...new Set([...(trusted?.keys ?? []), ...published])],
      verifiedAt: now.toISOString(),
    },
    extends: extendsSize,
    signedBy: opened.signatures.map((signature) => `${signature.name}+${signature.keyId}`),
    keyWarnings: warnings,
    publishedKeys: published,
  };
}

export type InclusionResult =
  | { status: "included"; seq: number; leafHash: string }
  | { status: "failed"; message: string; leafHash: string | null };

/**
 * Is `entry`, exactly as listed, in the verified checkpoint? Its leaf hash is recomputed here
 * (README, "The leaf of an entry") and walked up the proof to the verified root: the server's
 * `leafHash` is only compared, never trusted.
 */
export async function checkEntryInclusion(input: {
  orgId: string;
  entry: AuditEntry;
  proof: InclusionProof;
  checkpoint: Pick<TrustedCheckpoint, "treeSize" | "rootHash">;
}): Promise<InclusionResult> {
  const { orgId, entry, proof, checkpoint } = input;
  let computed: Uint8Array;
  try {
    computed = await entryLeafHash(orgId, entry);
  } catch (error) {
    return {
      status: "failed",
      message: `This entry's leaf cannot be computed: ${(error as Error).message}.`,
      leafHash: null,
    };
  }
  const leafHash = toBase64(computed);
  const fail = (message: string): InclusionResult => ({ status: "failed", message, leafHash });
  if (proof.treeSize !== checkpoint.treeSize) {
    return fail(
      `The proof is for a log of ${proof.treeSize} entries, not the verified ${checkpoint.treeSize}.`,
    );
  }
  if (proof.leafIndex !== entry.seq - 1) {
    return fail(`The proof is for entry ${proof.leafIndex + 1}, not entry ${entry.seq}.`);
  }
  if (leafHash !== proof.leafHash) {
    return fail(
      `The entry as shown does not match the log: its leaf hash is ${leafHash}, the log's leaf at entry ${entry.seq} is ${proof.leafHash}. It was changed after it was logged.`,
    );
  }
  const included = await verifyInclusion({
    leafIndex: proof.leafIndex,
    treeSize: proof.treeSize,
    leafHash: computed,
    proof: proof.proof.map((hash) => fromBase64(hash) as Uint8Array),
    rootHash: fromBase64(checkpoint.rootHash) as Uint8Array,
  });
  if (!included) {
    return fail(
      `The inclusion proof does not lead to the verified checkpoint's root hash (${checkpoint.rootHash}).`,
    );
  }
  return { status: "included", seq: entry.seq, leafHash };
}
