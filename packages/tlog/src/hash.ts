import { hash } from "node:crypto";
import { HASH_SIZE } from "./verify-plan.ts";

export { HASH_SIZE };

// RFC 9162 §2.1.1 hashing. `crypto.hash` (one-shot) costs about two thirds of createHash's
// update/digest on these short inputs, and `verify` hashes every node of the tree once more.

/** The root of the empty tree: SHA-256 of nothing. Do not modify it. */
export const emptyRoot: Uint8Array = hash("sha256", new Uint8Array(0), "buffer");

/** SHA-256(0x00 ‖ data): the hash of one leaf. */
export function leafHash(data: Uint8Array | string): Uint8Array {
  // UTF-8 of "\u0000" + data is 0x00 then data's UTF-8.
  if (typeof data === "string") return hash("sha256", `\u0000${data}`, "buffer");
  const input = Buffer.allocUnsafe(1 + data.length);
  input[0] = 0x00;
  input.set(data, 1);
  return hash("sha256", input, "buffer");
}

// One buffer for every node hash: the input never escapes, and allocating 65 bytes per node was
// a measurable share of RootBuilder's time.
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new RangeError(`a node's children must be ${HASH_SIZE}-byte hashes`);
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return hash("sha256", nodeInput, "buffer");
}

/** SHA-256 of bytes, for the digests the formats need besides tree hashes. */
export function sha256(data: Uint8Array | string): Uint8Array {
  return hash("sha256", data, "buffer");
}
