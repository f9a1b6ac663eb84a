import { fromBase64, toBase64 } from "./bytes.ts";
import { HASH_SIZE, isTreeIndex } from "./verify-plan.ts";

// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the text of a signed tree head is
// "<origin>\n<tree size>\n<base64 root hash>\n", optionally followed by extension lines (we
// write none). Browser-safe.

export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
}

export interface ParsedCheckpoint extends Checkpoint {
  /** Lines after the root hash: opaque, not covered by any proof. */
  extensions: string[];
}

/** Controls (newline included) and lone surrogates cannot be part of a checkpoint line. */
const BAD_LINE = /[\u0000-\u001f]|\p{Cs}/u;

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** The origin line of an organisation's log: `<log origin>/orgs/<org id>`. */
export function checkpointOrigin(logOrigin: string, orgId: string): string {
  const origin = `${logOrigin}/orgs/${orgId}`;
  if (logOrigin === "" || orgId === "" || BAD_LINE.test(origin)) {
    throw new CheckpointError("the log origin and the organisation id must be non-empty, one line");
  }
  return origin;
}

export function formatCheckpoint({ origin, treeSize, rootHash }: Checkpoint): string {
  if (typeof origin !== "string" || origin === "" || BAD_LINE.test(origin)) {
    throw new CheckpointError("a checkpoint origin must be a non-empty line");
  }
  if (!isTreeIndex(treeSize)) throw new CheckpointError("a tree size is a non-negative integer");
  if (rootHash.length !== HASH_SIZE) throw new CheckpointError("a root hash is 32 bytes");
  return `${origin}\n${treeSize}\n${toBase64(rootHash)}\n`;
}

/** Reads a checkpoint's text (the opened note's text); throws a CheckpointError if malformed. */
export function parseCheckpoint(text: string): ParsedCheckpoint {
  if (typeof text !== "string" || !text.endsWith("\n")) {
    throw new CheckpointError("a checkpoint's text ends with a newline");
  }
  const lines = text.slice(0, -1).split("\n");
  const [origin, size, root, ...extensions] = lines;
  if (origin === undefined || origin === "" || BAD_LINE.test(origin)) {
    throw new CheckpointError("a checkpoint's first line is its non-empty origin");
  }
  if (size === undefined || !/^(0|[1-9][0-9]*)$/.test(size) || !isTreeIndex(Number(size))) {
    throw new CheckpointError("a checkpoint's second line is its tree size, in decimal");
  }
  const rootHash = root === undefined ? undefined : fromBase64(root);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE) {
    throw new CheckpointError("a checkpoint's third line is its base64 root hash");
  }
  if (extensions.some((line) => line === "" || BAD_LINE.test(line))) {
    throw new CheckpointError("a checkpoint's extension lines are non-empty");
  }
  return { origin, treeSize: Number(size), rootHash, extensions };
}
