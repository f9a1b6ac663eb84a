import { fromBase64, toBase64, utf8 } from "./bytes.ts";

// C2SP signed-note (https://c2sp.org/signed-note), Ed25519 only, with keys written as Go's
// golang.org/x/mod/sumdb/note writes them. Browser-safe: the hashing and the signature checks
// live in note.ts (node:crypto) and browser/ (WebCrypto); the text rules live here, once.
//
// A note is a text ending in "\n", a blank line, then lines "— <key name> <base64(key hash ‖
// signature)>\n". The signed message is the text, its final newline included.

export const ED25519_ALGORITHM = 0x01;
export const ED25519_PUBLIC_KEY_SIZE = 32;
export const ED25519_SEED_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;
/** Go's note.Open refuses notes with more signatures than this; so do we. */
export const MAX_NOTE_SIGNATURES = 100;

/** A note, a key string or a signature that does not verify or cannot be read. */
export class NoteError extends Error {
  override name = "NoteError";
}

// Go's unicode.IsSpace: the Unicode White_Space characters (JavaScript's \s differs: it has
// U+FEFF and lacks U+0085).
const SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const LONE_SURROGATE = /\p{Cs}/u;
// Controls other than newline, which no note may contain.
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

/** A key name: non-empty, well-formed, no Unicode space and no "+" (as Go's isValidName). */
export function isValidKeyName(name: string): boolean {
  return (
    typeof name === "string" &&
    name !== "" &&
    !SPACE.test(name) &&
    !name.includes("+") &&
    !LONE_SURROGATE.test(name)
  );
}

/** What the key hash is the SHA-256 of: name ‖ "\n" ‖ 0x01 ‖ public key. */
export function keyHashInput(name: string, publicKey: Uint8Array): Uint8Array {
  const nameBytes = utf8(`${name}\n`);
  const input = new Uint8Array(nameBytes.length + 1 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = ED25519_ALGORITHM;
  input.set(publicKey, nameBytes.length + 1);
  return input;
}

/** The key hash: the first four bytes of that SHA-256, big-endian. */
export function keyHashFromDigest(digest: Uint8Array): number {
  return (
    (((digest[0] as number) << 24) |
      ((digest[1] as number) << 16) |
      ((digest[2] as number) << 8) |
      (digest[3] as number)) >>>
    0
  );
}

/** The key id: the key hash as 8 lowercase hex digits (as in the key strings). */
export function keyIdOf(keyHash: number): string {
  return keyHash.toString(16).padStart(8, "0");
}

export interface KeyParts {
  name: string;
  keyHash: number;
  /** The key after the algorithm byte: a public key or a private seed, 32 bytes. */
  key: Uint8Array;
}

function chop(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + separator.length)];
}

// The messages never quote the key string: a signer key is a secret.
function splitKey(key: string, kind: "verifier" | "signer"): KeyParts {
  const malformed = new NoteError(`malformed ${kind} key`);
  if (typeof key !== "string") throw malformed;
  const [name, rest] = chop(key, "+");
  const [hashHex, keyBase64] = chop(rest, "+");
  const bytes = fromBase64(keyBase64);
  if (!/^[0-9a-fA-F]{8}$/.test(hashHex) || bytes === undefined || !isValidKeyName(name)) {
    throw malformed;
  }
  if (bytes.length === 0) throw malformed;
  if (bytes[0] !== ED25519_ALGORITHM) throw new NoteError(`unknown ${kind} key algorithm`);
  if (bytes.length !== 1 + ED25519_PUBLIC_KEY_SIZE) throw malformed;
  return { name, keyHash: Number.parseInt(hashHex, 16), key: bytes.subarray(1) };
}

/** The parts of a verifier key `<name>+<hash hex>+<base64(0x01 ‖ public key)>`. */
export function splitVerifierKey(key: string): KeyParts {
  return splitKey(key, "verifier");
}

/** The parts of a signer key `PRIVATE+KEY+<name>+<hash hex>+<base64(0x01 ‖ seed)>`. */
export function splitSignerKey(key: string): KeyParts {
  if (typeof key !== "string" || !key.startsWith("PRIVATE+KEY+")) {
    throw new NoteError("malformed signer key");
  }
  return splitKey(key.slice("PRIVATE+KEY+".length), "signer");
}

export function formatVerifierKey(name: string, keyHash: number, publicKey: Uint8Array): string {
  return `${name}+${keyIdOf(keyHash)}+${toBase64(Uint8Array.of(ED25519_ALGORITHM, ...publicKey))}`;
}

export function formatSignerKey(name: string, keyHash: number, seed: Uint8Array): string {
  return `PRIVATE+KEY+${name}+${keyIdOf(keyHash)}+${toBase64(Uint8Array.of(ED25519_ALGORITHM, ...seed))}`;
}

/** Throws unless `text` can be the text of a note: ends in "\n", no other control character. */
export function checkNoteText(text: string): void {
  if (typeof text !== "string" || !text.endsWith("\n")) {
    throw new NoteError("a note's text must end with a newline");
  }
  if (FORBIDDEN_CONTROL.test(text) || LONE_SURROGATE.test(text)) {
    throw new NoteError(
      "a note's text must be well-formed and hold no control character but newline",
    );
  }
}

export function formatSignatureLine(name: string, keyHash: number, signature: Uint8Array): string {
  const bytes = new Uint8Array(4 + signature.length);
  bytes.set([keyHash >>> 24, (keyHash >>> 16) & 0xff, (keyHash >>> 8) & 0xff, keyHash & 0xff]);
  bytes.set(signature, 4);
  return `— ${name} ${toBase64(bytes)}\n`;
}

export interface NoteSignatureLine {
  name: string;
  keyHash: number;
  keyId: string;
  signature: Uint8Array;
}

/** Splits a signed note into its text and signature lines, with Go's note.Open's checks. */
export function parseNote(note: string): { text: string; signatures: NoteSignatureLine[] } {
  const malformed = new NoteError("malformed note");
  if (typeof note !== "string" || FORBIDDEN_CONTROL.test(note) || LONE_SURROGATE.test(note)) {
    throw malformed;
  }
  // The signatures follow the last blank line (the text may hold blank lines of its own).
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw malformed;
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === "" || !block.endsWith("\n")) throw malformed;
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed;
  const signatures = lines.map((line) => {
    if (!line.startsWith("— ")) throw malformed;
    const [name, encoded] = chop(line.slice(2), " ");
    const bytes = fromBase64(encoded);
    if (bytes === undefined || !isValidKeyName(name) || encoded === "" || bytes.length < 5) {
      throw malformed;
    }
    const keyHash = keyHashFromDigest(bytes);
    return { name, keyHash, keyId: keyIdOf(keyHash), signature: bytes.subarray(4) };
  });
  return { text, signatures };
}

export interface KnownKey {
  name: string;
  keyHash: number;
  publicKey: Uint8Array;
}

/**
 * Pairs each signature line with the known key it names (name and key hash), as Go's note.Open
 * and C2SP do: lines from unknown keys are set aside, a key's repeated lines count once, and two
 * different known keys with the same name and hash make the key list unusable.
 */
export function matchSignatures<K extends KnownKey>(
  signatures: readonly NoteSignatureLine[],
  known: readonly K[],
): { checks: { line: NoteSignatureLine; key: K }[]; unknown: NoteSignatureLine[] } {
  const byId = new Map<string, K>();
  const ambiguous = new Set<string>();
  for (const key of known) {
    const id = `${key.name}+${keyIdOf(key.keyHash)}`;
    const seen = byId.get(id);
    if (seen !== undefined && toBase64(seen.publicKey) !== toBase64(key.publicKey))
      ambiguous.add(id);
    byId.set(id, seen ?? key);
  }
  const checks: { line: NoteSignatureLine; key: K }[] = [];
  const unknown: NoteSignatureLine[] = [];
  const done = new Set<string>();
  for (const line of signatures) {
    const id = `${line.name}+${line.keyId}`;
    const key = byId.get(id);
    if (key === undefined) {
      unknown.push(line);
      continue;
    }
    if (ambiguous.has(id)) throw new NoteError(`ambiguous key ${id}`);
    if (done.has(id)) continue;
    done.add(id);
    checks.push({ line, key });
  }
  return { checks, unknown };
}

export interface OpenedNote {
  /** The note's text, final newline included. */
  text: string;
  /** The signatures that verified, by key. */
  signatures: { name: string; keyId: string }[];
  /** Signature lines of keys that were not given (C2SP: ignored, not trusted). */
  unknownSignatures: { name: string; keyId: string }[];
}
