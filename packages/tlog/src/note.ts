import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { sha256 } from "./hash.ts";
import {
  checkNoteText,
  ED25519_SEED_SIZE,
  formatSignatureLine,
  formatSignerKey,
  formatVerifierKey,
  isValidKeyName,
  keyHashFromDigest,
  keyHashInput,
  keyIdOf,
  matchSignatures,
  NoteError,
  type OpenedNote,
  parseNote,
  splitSignerKey,
  splitVerifierKey,
} from "./note-format.ts";

export { isValidKeyName, NoteError, type OpenedNote };

// Ed25519 keys in the DER wrappings node:crypto takes: the raw 32-byte seed or public key
// follows a fixed prefix (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export interface NoteKey {
  name: string;
  /** The key hash, as the 8 hex digits of the key strings. */
  keyId: string;
  keyHash: number;
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** The public key string `<name>+<keyId>+<base64(0x01 ‖ public key)>`. */
  verifierKey: string;
}

export interface NoteVerifier extends NoteKey {
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner extends NoteKey {
  sign(message: Uint8Array): Uint8Array;
}

function keyHashOf(name: string, publicKey: Uint8Array): number {
  return keyHashFromDigest(sha256(keyHashInput(name, publicKey)));
}

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
    format: "der",
    type: "spki",
  });
}

function noteKey(name: string, publicKey: Uint8Array): NoteKey {
  const keyHash = keyHashOf(name, publicKey);
  return {
    name,
    keyId: keyIdOf(keyHash),
    keyHash,
    publicKey,
    verifierKey: formatVerifierKey(name, keyHash, publicKey),
  };
}

/** The verifier key string of a named Ed25519 public key. */
export function verifierKeyFromPublicKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError("invalid key name");
  if (publicKey.length !== 32) throw new NoteError("an Ed25519 public key is 32 bytes");
  return noteKey(name, Uint8Array.from(publicKey)).verifierKey;
}

/** A verifier from a verifier key string (Go's note.NewVerifier). */
export function parseVerifierKey(key: string): NoteVerifier {
  const { name, keyHash, key: publicKey } = splitVerifierKey(key);
  if (keyHashOf(name, publicKey) !== keyHash) throw new NoteError("invalid verifier key hash");
  const keyObject = publicKeyObject(publicKey);
  return {
    ...noteKey(name, Uint8Array.from(publicKey)),
    verify: (message, signature) =>
      signature.length === 64 && verify(null, message, keyObject, signature),
  };
}

/** A signer from a signer key string (Go's note.NewSigner). */
export function parseSignerKey(key: string): NoteSigner {
  const { name, keyHash, key: seed } = splitSignerKey(key);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const publicKey = createPublicKey(privateKey)
    .export({ format: "der", type: "spki" })
    .subarray(SPKI_ED25519_PREFIX.length);
  // The hash names the public key, so it can only be checked once that is derived (as in Go).
  if (keyHashOf(name, publicKey) !== keyHash) throw new NoteError("invalid signer key hash");
  return {
    ...noteKey(name, Uint8Array.from(publicKey)),
    sign: (message) => sign(null, message, privateKey),
  };
}

/** The signer key string of a named 32-byte Ed25519 seed. */
export function signerKeyFromSeed(name: string, seed: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError("invalid key name");
  if (seed.length !== ED25519_SEED_SIZE) throw new NoteError("an Ed25519 seed is 32 bytes");
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const publicKey = createPublicKey(privateKey)
    .export({ format: "der", type: "spki" })
    .subarray(SPKI_ED25519_PREFIX.length);
  return formatSignerKey(name, keyHashOf(name, publicKey), seed);
}

/** A new random signer key string (Go's note.GenerateKey, private half). */
export function generateSignerKey(name: string): string {
  return signerKeyFromSeed(name, randomBytes(ED25519_SEED_SIZE));
}

/** The note: `text`, a blank line, one signature line per signer (Go's note.Sign). */
export function signNote(text: string, signers: NoteSigner | readonly NoteSigner[]): string {
  checkNoteText(text);
  const list = Array.isArray(signers) ? signers : [signers as NoteSigner];
  if (list.length === 0) throw new NoteError("a note needs at least one signer");
  const message = Buffer.from(text, "utf8");
  const lines = list.map((signer) =>
    formatSignatureLine(signer.name, signer.keyHash, signer.sign(message)),
  );
  return `${text}\n${lines.join("")}`;
}

/**
 * Opens a signed note (Go's note.Open): returns its text and the known keys that signed it.
 * Throws a NoteError when the note is malformed, when a known key's signature does not verify,
 * or when no known key signed it. Signatures of other keys are ignored (C2SP), and listed.
 */
export function openNote(note: string, verifiers: readonly (NoteVerifier | string)[]): OpenedNote {
  const known = verifiers.map((v) => (typeof v === "string" ? parseVerifierKey(v) : v));
  const { text, signatures } = parseNote(note);
  const { checks, unknown } = matchSignatures(signatures, known);
  const message = Buffer.from(text, "utf8");
  for (const { line, key } of checks) {
    if (!key.verify(message, line.signature)) {
      throw new NoteError(`invalid signature for key ${line.name}+${line.keyId}`);
    }
  }
  if (checks.length === 0) throw new NoteError("note has no signature from a known key");
  return {
    text,
    signatures: checks.map(({ line }) => ({ name: line.name, keyId: line.keyId })),
    unknownSignatures: unknown.map((line) => ({ name: line.name, keyId: line.keyId })),
  };
}
