// @auditlog/tlog/browser: what the console needs to check the log itself, on WebCrypto
// (crypto.subtle's SHA-256 and Ed25519), free of Node imports. The steps are the Node
// verifiers' own (verify-plan.ts, note-format.ts, leaf-form.ts); only the hashing differs, and
// WebCrypto is asynchronous, so everything here answers a promise.

import { bytesEqual, fromBase64, toBase64, utf8 } from "../bytes.ts";
import { CheckpointError, type ParsedCheckpoint, parseCheckpoint } from "../checkpoint.ts";
import {
  checkedSalt,
  keptPersonalDigest,
  type LeafEntry,
  leafJson,
  personalJson,
  SALT_SIZE,
} from "../leaf-form.ts";
import {
  type KnownKey,
  keyHashFromDigest,
  keyHashInput,
  keyIdOf,
  matchSignatures,
  NoteError,
  type OpenedNote,
  parseNote,
  splitVerifierKey,
} from "../note-format.ts";
import {
  type ConsistencyCheck,
  consistencySteps,
  HASH_SIZE,
  type InclusionCheck,
  inclusionSides,
  isTreeIndex,
} from "../verify-plan.ts";

export { fromBase64, toBase64, toHex } from "../bytes.ts";
export { canonicalJson } from "../canonical-json.ts";
export {
  type Checkpoint,
  CheckpointError,
  checkpointOrigin,
  type ParsedCheckpoint,
  parseCheckpoint,
} from "../checkpoint.ts";
export type { LeafEntry } from "../leaf-form.ts";
export { NoteError, type OpenedNote } from "../note-format.ts";
export type { ConsistencyCheck, InclusionCheck } from "../verify-plan.ts";

// Named from the global itself: the DOM library and @types/node each declare these types.
type Subtle = typeof globalThis.crypto.subtle;
type WebCryptoKey = Awaited<ReturnType<Subtle["importKey"]>>;

function subtle(): Subtle {
  const webCrypto = globalThis.crypto?.subtle;
  if (webCrypto === undefined) throw new Error("WebCrypto (crypto.subtle) is not available here");
  return webCrypto;
}

/**
 * The DOM typings of WebCrypto (the console's tsconfig) take only ArrayBuffer-backed views; a
 * view of a SharedArrayBuffer is copied, the rest passed as they are.
 */
function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer
    ? (bytes as Uint8Array<ArrayBuffer>)
    : new Uint8Array(bytes);
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest("SHA-256", bufferSource(data)));
}

async function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  const input = new Uint8Array(1 + 2 * HASH_SIZE);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + HASH_SIZE);
  return sha256(input);
}

function allHashes(...hashes: readonly Uint8Array[]): boolean {
  return hashes.every((hash) => hash instanceof Uint8Array && hash.length === HASH_SIZE);
}

/** RFC 9162 §2.1.3.2, as the Node `verifyInclusion`. */
export async function verifyInclusion(check: InclusionCheck): Promise<boolean> {
  const { leafIndex, treeSize, leafHash, proof, rootHash } = check;
  if (!allHashes(leafHash, rootHash, ...proof)) return false;
  const sides = inclusionSides(leafIndex, treeSize, proof.length);
  if (sides === undefined) return false;
  let root = leafHash;
  for (const [i, side] of sides.entries()) {
    const hash = proof[i] as Uint8Array;
    root = side === "left" ? await nodeHash(hash, root) : await nodeHash(root, hash);
  }
  return bytesEqual(root, rootHash);
}

/** RFC 9162 §2.1.4.2, as the Node `verifyConsistency`. */
export async function verifyConsistency(check: ConsistencyCheck): Promise<boolean> {
  const { fromSize, toSize, fromRoot, toRoot, proof } = check;
  if (!isTreeIndex(fromSize) || !isTreeIndex(toSize) || fromSize < 1 || fromSize > toSize) {
    return false;
  }
  if (fromSize === toSize) return proof.length === 0 && bytesEqual(fromRoot, toRoot);
  if (!allHashes(fromRoot, toRoot, ...proof)) return false;
  const plan = consistencySteps(fromSize, toSize, proof.length);
  if (plan === undefined) return false;
  const path = plan.prependFirst ? [fromRoot, ...proof] : proof;
  let first = path[0] as Uint8Array;
  let second = first;
  for (const [i, step] of plan.steps.entries()) {
    const hash = path[i + 1] as Uint8Array;
    if (step === "both") {
      first = await nodeHash(hash, first);
      second = await nodeHash(hash, second);
    } else {
      second = await nodeHash(second, hash);
    }
  }
  return bytesEqual(first, fromRoot) && bytesEqual(second, toRoot);
}

interface WebVerifier extends KnownKey {
  key: WebCryptoKey;
}

async function importVerifierKey(verifierKey: string): Promise<WebVerifier> {
  const { name, keyHash, key: publicKey } = splitVerifierKey(verifierKey);
  if (keyHashFromDigest(await sha256(keyHashInput(name, publicKey))) !== keyHash) {
    throw new NoteError("invalid verifier key hash");
  }
  const key = await subtle().importKey("raw", bufferSource(publicKey), { name: "Ed25519" }, false, [
    "verify",
  ]);
  return { name, keyHash, publicKey, key };
}

/**
 * Opens a signed note with verifier key strings (GET /v1/checkpoint-keys' `verifierKey`), as
 * the Node `openNote`: throws a NoteError unless a known key signed it and every known key's
 * signature verifies.
 */
export async function verifyNote(
  note: string,
  verifierKeys: readonly string[],
): Promise<OpenedNote> {
  const known = await Promise.all(verifierKeys.map(importVerifierKey));
  const { text, signatures } = parseNote(note);
  const { checks, unknown } = matchSignatures(signatures, known);
  const message = utf8(text);
  for (const { line, key } of checks) {
    const good =
      line.signature.length === 64 &&
      (await subtle().verify(
        { name: "Ed25519" },
        key.key,
        bufferSource(line.signature),
        bufferSource(message),
      ));
    if (!good)
      throw new NoteError(`invalid signature for key ${line.name}+${keyIdOf(line.keyHash)}`);
  }
  if (checks.length === 0) throw new NoteError("note has no signature from a known key");
  return {
    text,
    signatures: checks.map(({ line }) => ({ name: line.name, keyId: line.keyId })),
    unknownSignatures: unknown.map((line) => ({ name: line.name, keyId: line.keyId })),
  };
}

/** verifyNote, then the checkpoint in its text (of `origin`, when given). */
export async function verifyCheckpoint(
  note: string,
  verifierKeys: readonly string[],
  origin?: string,
): Promise<ParsedCheckpoint & { signatures: { name: string; keyId: string }[] }> {
  const opened = await verifyNote(note, verifierKeys);
  const checkpoint = parseCheckpoint(opened.text);
  if (origin !== undefined && checkpoint.origin !== origin) {
    throw new CheckpointError(`the checkpoint is of ${checkpoint.origin}, not of ${origin}`);
  }
  return { ...checkpoint, signatures: opened.signatures };
}

/** The leaf's canonical JSON text, as the Node `entryLeafJson`. */
export async function entryLeafJson(orgId: string, entry: LeafEntry): Promise<string> {
  // An erased entry (issue 16) keeps the digest its personal fields had, and no salt.
  const kept = keptPersonalDigest(entry);
  if (kept !== undefined) return leafJson(orgId, entry, kept);
  const salt = fromBase64(checkedSalt(entry)) as Uint8Array;
  const personal = utf8(personalJson(entry));
  const input = new Uint8Array(SALT_SIZE + personal.length);
  input.set(salt, 0);
  input.set(personal, SALT_SIZE);
  return leafJson(orgId, entry, toBase64(await sha256(input)));
}

/** SHA-256(0x00 ‖ leaf bytes), as the Node `entryLeafHash`. */
export async function entryLeafHash(orgId: string, entry: LeafEntry): Promise<Uint8Array> {
  const leaf = utf8(await entryLeafJson(orgId, entry));
  const input = new Uint8Array(1 + leaf.length);
  input.set(leaf, 1);
  return sha256(input);
}
