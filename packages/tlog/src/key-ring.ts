import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import {
  generateSignerKey,
  isValidKeyName,
  type NoteSigner,
  type NoteVerifier,
  parseSignerKey,
  parseVerifierKey,
} from "./note.ts";

// The checkpoint signing key file (CHECKPOINT_KEY_FILE): text, one key string per line, "#"
// comments. Signer lines (PRIVATE+KEY+…) and verifier lines (public keys only). The last
// signer line signs; the public part of every line is published, so checkpoints signed before a
// rotation still verify. In a copy with verifier lines only (what the API may be given) the
// last line is the active key, which is why rotation appends and formatVerifierKeyRing writes
// the active key last. The key never lives in the database: whoever can rewrite the entries
// must not be able to sign them.

export interface KeyRingKey extends NoteVerifier {
  /** Whether this key signs new checkpoints. */
  active: boolean;
}

export interface KeyRing {
  /** The signing key; absent from a verifier-only copy. */
  signer?: NoteSigner;
  /** Every key of the file, public part, in file order without repeats. */
  verifiers: KeyRingKey[];
}

export class KeyRingError extends Error {
  override name = "KeyRingError";
}

const HEADER = [
  "# Checkpoint signing keys of auditlog (CHECKPOINT_KEY_FILE). Keep this file secret.",
  "# The last PRIVATE+KEY line signs new checkpoints; the public part of every line is published",
  "# (GET /v1/checkpoint-keys), so checkpoints signed by retired keys still verify.",
];

/** Reads a key ring's text. Errors name the line, never its content (it may be a secret). */
export function parseKeyRing(text: string): KeyRing {
  const keys: { verifier: NoteVerifier; signer?: NoteSigner }[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    try {
      if (line.startsWith("PRIVATE+KEY+")) {
        const signer = parseSignerKey(line);
        keys.push({ verifier: parseVerifierKey(signer.verifierKey), signer });
      } else {
        keys.push({ verifier: parseVerifierKey(line) });
      }
    } catch {
      throw new KeyRingError(`line ${i + 1} of the key file is not a key`);
    }
  });
  const signers = keys.filter((key) => key.signer !== undefined);
  const activeKey = (signers.at(-1) ?? keys.at(-1))?.verifier.verifierKey;
  const verifiers: KeyRingKey[] = [];
  for (const { verifier } of keys) {
    if (verifiers.some((known) => known.verifierKey === verifier.verifierKey)) continue;
    verifiers.push({ ...verifier, active: verifier.verifierKey === activeKey });
  }
  const signer = signers.at(-1)?.signer;
  return signer === undefined ? { verifiers } : { signer, verifiers };
}

/** The ring as a verifier-only key file (the active key last), for a process that only verifies. */
export function formatVerifierKeyRing(ring: KeyRing): string {
  const ordered = [
    ...ring.verifiers.filter((key) => !key.active),
    ...ring.verifiers.filter((key) => key.active),
  ];
  return [
    "# Checkpoint verifier keys of auditlog: public keys only; the last line is the active key.",
    ...ordered.map((key) => key.verifierKey),
    "",
  ].join("\n");
}

export async function readKeyRing(path: string): Promise<KeyRing> {
  return parseKeyRing(await readFile(path, "utf8"));
}

/** Writes `text` as the file at `path`, mode 0600, all or nothing (a temporary file renamed). */
async function replaceFile(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(text, "utf8");
    await handle.chmod(0o600);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  const directory = await open(dirname(path), "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new KeyRingError("a key name must be non-empty, without spaces or '+'");
  }
}

/**
 * Creates a key file holding one new signing key named `name` (mode 0600). Refuses to
 * overwrite an existing file: that would destroy the keys its checkpoints are signed with.
 */
export async function createKeyRing(path: string, name: string): Promise<KeyRing> {
  checkName(name);
  const text = [
    ...HEADER,
    `# Created ${new Date().toISOString()}.`,
    generateSignerKey(name),
    "",
  ].join("\n");
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new KeyRingError(`${path} already exists: refusing to overwrite a key file`);
    }
    throw error;
  }
  try {
    await handle.writeFile(text, "utf8");
    await handle.chmod(0o600);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return parseKeyRing(text);
}

/**
 * Rotates the signing key: every signer line becomes its verifier line (the old private key is
 * gone from the file; its public key stays published) and a new signer, named `name` or as the
 * current one, is appended. The file is replaced atomically, mode 0600.
 */
export async function rotateKeyRing(path: string, name?: string): Promise<KeyRing> {
  const text = await readFile(path, "utf8");
  const ring = parseKeyRing(text);
  if (ring.signer === undefined) {
    throw new KeyRingError(`${path} holds no signing key to rotate`);
  }
  const newName = name ?? ring.signer.name;
  checkName(newName);
  const now = new Date().toISOString();
  const lines = text
    .replace(/\n$/, "")
    .split("\n")
    .flatMap((raw) => {
      const line = raw.trim();
      if (!line.startsWith("PRIVATE+KEY+")) return [raw];
      return [`# Retired ${now}: the private key was destroyed.`, parseSignerKey(line).verifierKey];
    });
  const rotated = [...lines, `# Signing since ${now}.`, generateSignerKey(newName), ""].join("\n");
  await replaceFile(path, rotated);
  return parseKeyRing(rotated);
}
