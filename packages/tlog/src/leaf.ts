import { hash } from "node:crypto";
import { checkedSalt, type LeafEntry, leafJson, personalJson, SALT_SIZE } from "./leaf-form.ts";

export { canonicalJson } from "./canonical-json.ts";
export { LEAF_VERSION, leafObject, personalObject, SALT_SIZE } from "./leaf-form.ts";
export type { LeafEntry };

// The hashes of §3 of the design, in Node. Each input goes to SHA-256 as one buffer (salt or
// 0x00 prefix, then the UTF-8 text written in place): one allocation and one one-shot hash,
// which keeps a leaf near 2 µs.

function saltedDigest(salt: Uint8Array, personal: string): string {
  const length = Buffer.byteLength(personal);
  const input = Buffer.allocUnsafe(SALT_SIZE + length);
  input.set(salt, 0);
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
  const salt = Buffer.from(checkedSalt(entry), "base64");
  return leafJson(orgId, entry, saltedDigest(salt, personalJson(entry)));
}

/** The leaf bytes: UTF-8 of the leaf's canonical JSON. */
export function entryLeaf(orgId: string, entry: LeafEntry): Uint8Array {
  return Buffer.from(entryLeafJson(orgId, entry), "utf8");
}

/** SHA-256(0x00 ‖ leaf bytes): the entry's leaf hash in its organisation's tree. */
export function entryLeafHash(orgId: string, entry: LeafEntry): Uint8Array {
  const leaf = entryLeafJson(orgId, entry);
  const length = Buffer.byteLength(leaf);
  const input = Buffer.allocUnsafe(1 + length);
  input[0] = 0x00;
  input.write(leaf, 1, length, "utf8");
  return hash("sha256", input, "buffer");
}
