// The byte path of leaf hashes (issue 14), in WebAssembly (assembly/entry-leaf-bytes.ts): the
// module writes each COPY line's two SHA-256 inputs into its memory, and this side hashes them
// with OpenSSL (`crypto.hash`), the personal digest's base64 put into the leaf's input between
// the two. One instance per thread (verify's hashing threads, the worker's tree builder).

import { isUtf8 } from "node:buffer";
import { hash } from "node:crypto";
import { LEAF_VERSION } from "@auditlog/tlog";
import { entryLeafBytesWasm } from "./entry-leaf-bytes-wasm.ts";

/**
 * The constant texts of the two canonical JSON objects, in the order the module names them
 * (its `PERSONAL_START` … `EMPTY_OBJECT`); the organisation's JSON string goes last.
 */
const LITERALS = [
  '{"actorAvatarUrl":',
  ',"actorName":',
  ',"city":',
  ',"countryCode":',
  ',"data":',
  ',"description":',
  ',"ip":',
  ',"oauthName":',
  ',"region":',
  ',"targetName":',
  ',"userAgent":',
  '\u0000{"actor":{"id":',
  ',"tokenLast4":',
  ',"tokenRole":',
  ',"type":',
  '},"category":',
  ',"hiddenByDefault":true,"id":',
  ',"hiddenByDefault":false,"id":',
  ',"oauthClientId":',
  ',"occurredAt":"',
  'Z","org":',
  ',"personal":"',
  '","receivedAt":"',
  'Z","target":',
  '{"id":',
  ',"type":',
  ',"type":',
  `,"v":${LEAF_VERSION}}`,
  "null",
  "{}",
];

/** What this code uses of WebAssembly, which Node has and ES2023's and @types/node's types lack. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface Exports {
  memory: WasmMemory;
  heapBase(): number;
  writeInputs(
    input: number,
    inputEnd: number,
    literalTable: number,
    seqs: number,
    meta: number,
    out: number,
    members: number,
    membersEnd: number,
    maxLines: number,
  ): number;
  writeBinaryInputs(
    input: number,
    inputEnd: number,
    literalTable: number,
    seqs: number,
    meta: number,
    out: number,
    members: number,
    membersEnd: number,
    maxRows: number,
    final: boolean,
  ): number;
  consumedBytes(): number;
  reachedTrailer(): number;
}

/** A chunk of binary COPY rows, hashed: see `entryRowsLeafHashes`. */
export interface HashedRows {
  count: number;
  seqs: Float64Array;
  hashes: Uint8Array;
  /** (index, start, end) of each row the byte path did not take, its bytes in the chunk. */
  notTaken: number[];
  /** Bytes of the chunk the rows took (the rest: a row not whole yet, or past the cut). */
  consumed: number;
  /** Whether the COPY's trailer was reached. */
  trailer: boolean;
}

/** Bytes the module may read or write past a region's end (its 8- and 16-byte loads and stores). */
const SLACK = 64;
/** Output room per line beyond twice its length: the constant texts, the salt, the digest. */
const LINE_ROOM = 1024;
const META_WORDS = 8;

class EntryLeafBytes {
  readonly #exports: Exports;
  #bytes: Buffer;
  #words: Uint32Array;
  #literalTable: number;
  #organisationAt = 0;
  #organisation: string | undefined;
  #regionsAt = 0;

  constructor(exports: Exports) {
    this.#exports = exports;
    this.#bytes = Buffer.from(exports.memory.buffer);
    this.#words = new Uint32Array(exports.memory.buffer);
    this.#literalTable = (exports.heapBase() + 15) & ~15;
    let at = this.#literalTable + 8 * (LITERALS.length + 1);
    this.#ensure(at + LITERALS.reduce((n, text) => n + text.length + SLACK, 0));
    LITERALS.forEach((text, i) => {
      const length = this.#bytes.write(text, at, "utf8");
      this.#setLiteral(i, at, length);
      at += length + SLACK;
    });
    this.#organisationAt = at;
  }

  #setLiteral(i: number, at: number, length: number): void {
    this.#words[this.#literalTable / 4 + 2 * i] = at;
    this.#words[this.#literalTable / 4 + 2 * i + 1] = length;
  }

  #ensure(bytes: number): void {
    const memory = this.#exports.memory;
    if (memory.buffer.byteLength >= bytes) return;
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
    this.#bytes = Buffer.from(memory.buffer);
    this.#words = new Uint32Array(memory.buffer);
  }

  #useOrganisation(orgId: string): void {
    if (this.#organisation === orgId) return;
    const json = JSON.stringify(orgId);
    const at = this.#organisationAt;
    this.#ensure(at + 3 * json.length + SLACK);
    this.#setLiteral(LITERALS.length, at, this.#bytes.write(json, at, "utf8"));
    this.#regionsAt = (at + 3 * json.length + SLACK + 15) & ~15;
    this.#organisation = orgId;
  }

  /**
   * Lays out the module's memory for `input` (copied in) and up to `rows` lines or rows: seqs,
   * meta, the input, the members of `data`'s objects, the output.
   */
  #regions(orgId: string, input: Uint8Array, rows: number) {
    this.#useOrganisation(orgId);
    const length = input.length;
    const seqsAt = this.#regionsAt;
    const metaAt = seqsAt + 8 * rows;
    const inputAt = metaAt + 4 * META_WORDS * rows;
    const membersAt = (inputAt + length + SLACK + 15) & ~15;
    // Twelve bytes a key in `data`, at most one key per three bytes of a line.
    const membersEnd = membersAt + 4 * length + 64;
    const outAt = membersEnd + SLACK;
    this.#ensure(outAt + 2 * length + rows * (LINE_ROOM + 3 * (orgId.length + 2)) + SLACK);
    this.#bytes.set(input, inputAt);
    return { seqsAt, metaAt, inputAt, membersAt, membersEnd, outAt };
  }

  /**
   * Leaf hashes of `count` lines in `chunk[start … end)` (each ending with a newline, the last
   * may not) into `hashes` from `hashesAt`, and their seqs (NaN where a line does not start
   * with digits and a tab) into `seqs` from `seqsAt` when given. Returns, for each line the
   * module did not take, its index and its bytes' start and end in `chunk`; null when the bytes
   * do not hold `count` lines.
   */
  hashLines(
    orgId: string,
    chunk: Uint8Array,
    start: number,
    end: number,
    count: number,
    hashes: Uint8Array,
    hashesAt: number,
    seqs: Float64Array | undefined,
  ): number[] | null {
    const { seqsAt, metaAt, inputAt, membersAt, membersEnd, outAt } = this.#regions(
      orgId,
      chunk.subarray(start, end),
      count,
    );
    const length = end - start;
    const bytes = this.#bytes;
    const lines = this.#exports.writeInputs(
      inputAt,
      inputAt + length,
      this.#literalTable,
      seqsAt,
      metaAt,
      outAt,
      membersAt,
      membersEnd,
      count,
    );
    if (lines !== count) return null;
    if (seqs) seqs.set(new Float64Array(bytes.buffer, seqsAt, count));
    // The module copies text as it is: right only for valid UTF-8 (PostgreSQL sends nothing
    // else; a chunk that is not goes the string way).
    const utf8 = isUtf8(bytes.subarray(inputAt, inputAt + length));
    return this.#hashInputs(metaAt, count, utf8, start, hashes, hashesAt);
  }

  /**
   * Leaf hashes of the binary COPY rows (`entryLeafBinaryColumns`, past the COPY's header) whole
   * in `chunk`; unless `final`, only up to its last row that starts a tile.
   */
  hashRows(orgId: string, chunk: Uint8Array, final: boolean): HashedRows {
    const length = chunk.length;
    // A row of the 27 columns takes at least 110 bytes (all NULL); fewer rows may be taken than
    // a chunk holds (then `consumed` says so).
    const maxRows = Math.ceil(length / 110) + 1;
    const { seqsAt, metaAt, inputAt, membersAt, membersEnd, outAt } = this.#regions(
      orgId,
      chunk,
      maxRows,
    );
    const bytes = this.#bytes;
    const exports = this.#exports;
    const count = exports.writeBinaryInputs(
      inputAt,
      inputAt + length,
      this.#literalTable,
      seqsAt,
      metaAt,
      outAt,
      membersAt,
      membersEnd,
      maxRows,
      final,
    );
    const seqs = new Float64Array(count);
    seqs.set(new Float64Array(bytes.buffer, seqsAt, count));
    const hashes = new Uint8Array(32 * count);
    // Text fields are checked as UTF-8 by the module itself (the rest of a row is binary).
    const notTaken = this.#hashInputs(metaAt, count, true, 0, hashes, 0);
    return {
      count,
      seqs,
      hashes,
      notTaken,
      consumed: exports.consumedBytes(),
      trailer: exports.reachedTrailer() !== 0,
    };
  }

  /** SHA-256 of the inputs the module wrote for `count` rows (`meta` at `metaAt`). */
  #hashInputs(
    metaAt: number,
    count: number,
    utf8: boolean,
    start: number,
    hashes: Uint8Array,
    hashesAt: number,
  ): number[] {
    const bytes = this.#bytes;
    const words = this.#words;
    const notTaken: number[] = [];
    for (let i = 0, m = metaAt / 4; i < count; i++, m += META_WORDS) {
      if (!utf8 || words[m + 2] !== 1) {
        notTaken.push(i, start + (words[m] as number), start + (words[m + 1] as number));
        continue;
      }
      const personalAt = words[m + 3] as number;
      const personalEnd = personalAt + (words[m + 4] as number);
      const digest = hash("sha256", bytes.subarray(personalAt, personalEnd), "base64");
      bytes.write(digest, words[m + 7] as number, 44, "latin1");
      const leafAt = words[m + 5] as number;
      const leaf = hash(
        "sha256",
        bytes.subarray(leafAt, leafAt + (words[m + 6] as number)),
        "binary",
      );
      const at = hashesAt + 32 * i;
      for (let k = 0; k < 32; k++) hashes[at + k] = leaf.charCodeAt(k);
    }
    return notTaken;
  }
}

let instance: EntryLeafBytes | null | undefined;

/** This thread's instance; null where WebAssembly cannot run (then every line goes the string way). */
function entryLeafBytes(): EntryLeafBytes | null {
  if (instance === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
      const module = new wasm.Module(Buffer.from(entryLeafBytesWasm, "base64"));
      instance = new EntryLeafBytes(new wasm.Instance(module, {}).exports as Exports);
    } catch {
      instance = null;
    }
  }
  return instance;
}

/**
 * Leaf hashes of the COPY lines of `chunk` (each ending with "\n", the last may not; `count`
 * of them), written into `hashes` (32 bytes a line), with each line's seq into `seqs`. Returns
 * the lines the byte path does not take, as (index, start, end) triples: hash those with
 * `entryLineLeafHash`, which gives their leaf or refuses them.
 */
export function entryLinesLeafHashesInto(
  orgId: string,
  chunk: Uint8Array,
  count: number,
  hashes: Uint8Array,
  seqs: Float64Array,
): number[] {
  const notTaken = entryLeafBytes()?.hashLines(
    orgId,
    chunk,
    0,
    chunk.length,
    count,
    hashes,
    0,
    seqs,
  );
  if (notTaken) return notTaken;
  seqs.fill(Number.NaN);
  const all: number[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    let end = chunk.indexOf(10, start);
    if (end === -1) end = chunk.length;
    all.push(i, start, end);
    start = end + 1;
  }
  return all;
}

/** Whether this thread runs the byte path (WebAssembly; not, for one, under `--jitless`). */
export function entryLeafBytesAvailable(): boolean {
  return entryLeafBytes() !== null;
}

/**
 * Leaf hashes of the binary COPY rows whole in `chunk` (`copyEntryRows`, past the COPY's
 * header); unless `final` (the COPY's last bytes), only up to its last row that starts a tile
 * after its first, so that a chunk holds whole tiles (the caller passes the rest again). Hash
 * each row it hands back with `entryLineLeafHash(orgId, entryRowCopyLine(…))`.
 */
export function entryRowsLeafHashes(orgId: string, chunk: Uint8Array, final: boolean): HashedRows {
  const bytes = entryLeafBytes();
  if (!bytes) throw new Error("WebAssembly is not available: read entries as text");
  return bytes.hashRows(orgId, chunk, final);
}

/**
 * The leaf hash of the line at `line[start … end)` (no newline) into `target` at `targetAt`;
 * false when the byte path does not take the line (then use `entryLineLeafHash`).
 */
export function entryLineLeafHashInto(
  orgId: string,
  line: Uint8Array,
  start: number,
  end: number,
  target: Uint8Array,
  targetAt: number,
): boolean {
  const notTaken = entryLeafBytes()?.hashLines(
    orgId,
    line,
    start,
    end,
    1,
    target,
    targetAt,
    undefined,
  );
  return notTaken?.length === 0;
}
