import { hash } from "node:crypto";
import {
  checkedSalt,
  keptPersonalDigest,
  type LeafEntry,
  leafJson,
  personalJson,
  SALT_SIZE,
} from "./leaf-form.ts";

export { canonicalJson } from "./canonical-json.ts";
export { LEAF_VERSION, leafObject, personalObject, SALT_SIZE } from "./leaf-form.ts";
export type { LeafEntry };

// The hashes of §3 of the design, in Node, with one-shot crypto.hash calls (createHash's
// update/digest cost a third more): the salted digest hashes one buffer, salt then the UTF-8
// text written in place; the leaf hash hashes the string "\u0000" + leaf, whose UTF-8 is the
// byte 0x00 followed by the leaf's UTF-8, without copying it into a buffer first.

/** SHA-256(salt ‖ UTF-8(personal)), base64; the salt as bytes or as its checked base64. */
function saltedDigest(salt: Uint8Array | string, personal: string): string {
  const length = Buffer.byteLength(personal);
  const input = Buffer.allocUnsafe(SALT_SIZE + length);
  if (typeof salt === "string") input.write(salt, 0, SALT_SIZE, "base64");
  else input.set(salt, 0);
  input.write(personal, SALT_SIZE, length, "utf8");
  return hash("sha256", input, "base64");
}

/** SHA-256(salt ‖ UTF-8(personal JSON)): the commitment to the entry's personal fields. */
export function personalDigest(salt: Uint8Array, entry: LeafEntry): Uint8Array {
  if (salt.length !== SALT_SIZE) throw new RangeError(`the salt must be ${SALT_SIZE} bytes`);
  return Buffer.from(saltedDigest(salt, personalJson(entry)), "base64");
}

/** The leaf's canonical JSON text (version 1). */
export function entryLeafJson(orgId: string, entry: LeafEntry): string {
  // An erased entry (issue 16) keeps the digest its personal fields had, and no salt.
  const kept = keptPersonalDigest(entry);
  if (kept !== undefined) return leafJson(orgId, entry, kept);
  return leafJson(orgId, entry, saltedDigest(checkedSalt(entry), personalJson(entry)));
}

/** The leaf bytes: UTF-8 of the leaf's canonical JSON. */
export function entryLeaf(orgId: string, entry: LeafEntry): Uint8Array {
  return Buffer.from(entryLeafJson(orgId, entry), "utf8");
}

/** SHA-256(0x00 ‖ leaf bytes): the entry's leaf hash in its organisation's tree. */
export function entryLeafHash(orgId: string, entry: LeafEntry): Uint8Array {
  return hash("sha256", `\u0000${entryLeafJson(orgId, entry)}`, "buffer");
}
