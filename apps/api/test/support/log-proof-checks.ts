import { createHash, createPublicKey, verify } from "node:crypto";
import type { GoInterop } from "@auditlog/tlog/go-interop";
import { rfcVerifyConsistency, rfcVerifyInclusion } from "@auditlog/tlog/rfc9162";
import { expect } from "vitest";

// Checks of the API's checkpoints and proofs that use none of @auditlog/tlog's own verification:
// C2SP signed notes by hand with node:crypto, proofs with the independent RFC 9162 verifier
// (packages/tlog/test/support/rfc9162.ts) and with Go's sumdb/tlog and sumdb/note.

export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");
export const fromB64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64"));

export interface PublishedKey {
  name: string;
  keyId: string;
  publicKey: string;
}

/**
 * Opens a C2SP signed note by hand: the text (up to and including the newline before the blank
 * line), then lines `— <name> <base64(key id ‖ Ed25519 signature)>`. A signature counts when its
 * key is published, its 4-byte key id is SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4] and
 * Ed25519 verifies it over the text. Answers the text and the keys that verified; throws when
 * none did.
 */
export function verifyNoteByHand(
  note: string,
  keys: readonly PublishedKey[],
): { text: string; verifiedBy: { name: string; keyId: string }[] } {
  const blank = note.indexOf("\n\n");
  if (blank < 0) throw new Error("not a signed note: no blank line");
  const text = note.slice(0, blank + 1);
  const lines = note.slice(blank + 2).split("\n");
  if (lines.pop() !== "") throw new Error("not a signed note: no final newline");
  const verifiedBy: { name: string; keyId: string }[] = [];
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a signature line: ${JSON.stringify(line)}`);
    const [, name, encoded] = match as unknown as [string, string, string];
    const signed = Buffer.from(encoded, "base64");
    if (signed.length !== 4 + 64) throw new Error("an Ed25519 signature line holds 68 bytes");
    const keyId = signed.subarray(0, 4).toString("hex");
    const key = keys.find((k) => k.name === name && k.keyId === keyId);
    if (!key) continue;
    const publicKey = Buffer.from(key.publicKey, "base64");
    const expectedId = createHash("sha256")
      .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(0x01), publicKey]))
      .digest()
      .subarray(0, 4)
      .toString("hex");
    if (expectedId !== keyId) throw new Error(`key id ${keyId} is not the hash of key ${name}`);
    const nodeKey = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: publicKey.toString("base64url") },
      format: "jwk",
    });
    if (verify(null, Buffer.from(text, "utf8"), nodeKey, signed.subarray(4)))
      verifiedBy.push({ name, keyId });
  }
  if (verifiedBy.length === 0) throw new Error("no signature of the note verifies");
  return { text, verifiedBy };
}

/** The C2SP checkpoint text's three lines. */
export function checkpointLines(text: string): { origin: string; size: number; root: string } {
  const match = /^([^\n]+)\n([0-9]+)\n([A-Za-z0-9+/]{43}=)\n$/.exec(text);
  if (!match) throw new Error(`not a checkpoint: ${JSON.stringify(text)}`);
  return { origin: match[1] as string, size: Number(match[2]), root: match[3] as string };
}

export interface InclusionAnswer {
  leafIndex: number;
  leafHash: string;
  treeSize: number;
  proof: string[];
}

/** The inclusion proof holds by RFC 9162's algorithm (our reference) and by Go's CheckRecord. */
export async function expectInclusionVerifies(
  go: GoInterop,
  answer: InclusionAnswer,
  rootHash: string,
): Promise<void> {
  const ok = rfcVerifyInclusion(
    BigInt(answer.leafIndex),
    BigInt(answer.treeSize),
    fromB64(answer.leafHash),
    answer.proof.map(fromB64),
    fromB64(rootHash),
  );
  expect(ok, `RFC 9162 inclusion of ${answer.leafIndex} in ${answer.treeSize}`).toBe(true);
  const goAnswer = await go.request({
    op: "checkRecord",
    proof: answer.proof,
    size: answer.treeSize,
    root: rootHash,
    index: answer.leafIndex,
    leaf: answer.leafHash,
  });
  expect(goAnswer, `Go CheckRecord of ${answer.leafIndex} in ${answer.treeSize}`).toEqual({
    ok: true,
  });
}

/** The consistency proof holds by RFC 9162's algorithm and by Go's CheckTree. */
export async function expectConsistencyVerifies(
  go: GoInterop,
  answer: { fromSize: number; toSize: number; proof: string[] },
  fromRoot: string,
  toRoot: string,
): Promise<void> {
  const label = `${answer.fromSize} → ${answer.toSize}`;
  const ok = rfcVerifyConsistency(
    BigInt(answer.fromSize),
    BigInt(answer.toSize),
    fromB64(fromRoot),
    fromB64(toRoot),
    answer.proof.map(fromB64),
  );
  expect(ok, `RFC 9162 consistency ${label}`).toBe(true);
  const goAnswer = await go.request({
    op: "checkTree",
    proof: answer.proof,
    size: answer.toSize,
    root: toRoot,
    old: answer.fromSize,
    oldRoot: fromRoot,
  });
  expect(goAnswer, `Go CheckTree ${label}`).toEqual({ ok: true });
}

/** Runs `work` over `items`, `concurrency` at a time, in order of start. */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}
