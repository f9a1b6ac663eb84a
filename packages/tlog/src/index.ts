// @auditlog/tlog: the verifiable log's primitives (RFC 9162 Merkle tree over C2SP tiles, C2SP
// signed notes and checkpoints, the checkpoint key file, the leaf canonical form). Node only;
// the console uses @auditlog/tlog/browser.

export { bytesEqual, fromBase64, toBase64, toHex } from "./bytes.ts";
export { assertWellFormedJson, canonicalJson, quoteJson } from "./canonical-json.ts";
export {
  type Checkpoint,
  CheckpointError,
  checkpointOrigin,
  formatCheckpoint,
  type ParsedCheckpoint,
  parseCheckpoint,
} from "./checkpoint.ts";
export { emptyRoot, HASH_SIZE, leafHash, nodeHash } from "./hash.ts";
export {
  createKeyRing,
  formatVerifierKeyRing,
  type KeyRing,
  KeyRingError,
  type KeyRingKey,
  parseKeyRing,
  readKeyRing,
  rotateKeyRing,
} from "./key-ring.ts";
export {
  entryLeaf,
  entryLeafHash,
  entryLeafJson,
  LEAF_VERSION,
  type LeafEntry,
  leafObject,
  personalDigest,
  personalObject,
  SALT_SIZE,
} from "./leaf.ts";
export {
  generateSignerKey,
  isValidKeyName,
  NoteError,
  type NoteKey,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromSeed,
  signNote,
  verifierKeyFromPublicKey,
} from "./note.ts";
export { openCheckpoint } from "./open-checkpoint.ts";
export {
  appendToTiles,
  MemoryTileStore,
  readSubtreeHashes,
  type SubtreeCoord,
  subtreeHash,
  TILE_HEIGHT,
  TILE_WIDTH,
  type Tile,
  type TileCoord,
  type TileReader,
  tilePath,
} from "./tiles.ts";
export {
  type ConsistencyCheck,
  consistencyProof,
  type InclusionCheck,
  inclusionProof,
  RootBuilder,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "./tree.ts";
