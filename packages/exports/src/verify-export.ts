import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import type { ExportFormat, ExportManifestBody } from "@auditlog/events";
import {
  bytesEqual,
  checkpointOrigin,
  entryLeafHash,
  HASH_SIZE,
  type LeafEntry,
  type NoteVerifier,
  openCheckpoint,
  RootBuilder,
  toBase64,
} from "@auditlog/tlog";
import { csvColumns, csvLineDigest, unneutraliseFormula } from "./formats/csv.ts";
import { ManifestError, openExportManifest } from "./manifest.ts";

// Offline verification of an export file against its signed manifest (the CLI's
// `verify-export`). Nothing here reads the database or the network: the file, the manifest and
// the public checkpoint keys are all it needs.
//
// Per entry, its `lineDigest` (SHA-256 of the entry's own bytes) tells which entry a change is
// in, down to one byte; the file's SHA-256 in the signed manifest covers every byte of the file;
// and for an unfiltered export the leaves recomputed from the entries, in seq order, must
// rebuild the signed checkpoint's root, which ties every entry to the log itself.

export type CheckStatus = "ok" | "failed" | "not applicable" | "not checked";

export interface BadEntry {
  /** The entry's position in the file, from 1. */
  entry: number;
  seq: number | null;
  id: string | null;
  reason: string;
}

export interface ExportVerification {
  ok: boolean;
  exportId: string | null;
  orgId: string | null;
  format: ExportFormat | null;
  rows: number | null;
  unfiltered: boolean | null;
  treeSize: number | null;
  rootHash: string | null;
  checks: {
    manifestSignature: CheckStatus;
    checkpointSignature: CheckStatus;
    fileDigest: CheckStatus;
    entries: CheckStatus;
    root: CheckStatus;
  };
  /** The first entry found changed (file order), when one is. */
  firstBad?: BadEntry;
  /** How many entries failed their checks. */
  badEntries: number;
  /** Every problem found, one sentence each. */
  errors: string[];
  /** What the checks did not cover, said plainly (a filtered export's root). */
  notes: string[];
}

export interface VerifyExportInput {
  /** Path of the export file as downloaded (gzip); a decompressed copy fails the digest. */
  file: string;
  /** The manifest's JSON (GET …/exports/:id/manifest). */
  manifest: unknown;
  /** Public checkpoint keys (every key of the ring: manifests signed before a rotation verify). */
  verifiers: readonly (NoteVerifier | string)[];
  /** When given, the deployment's LOG_ORIGIN the checkpoint must be of. */
  logOrigin?: string;
}

const LINE_DIGEST = /^(.*),"lineDigest":"([A-Za-z0-9+/]{43}=)"\}$/s;
const DIGITS = /^[1-9][0-9]{0,15}$/;

/** Reads the seq and id of an entry line that does not parse, for the report. */
function salvageJsonLine(line: string): { seq: number | null; id: string | null } {
  let id: string | null = null;
  const idMatch = /^\{"id":("(?:[^"\\]|\\.)*")/.exec(line);
  if (idMatch?.[1]) {
    try {
      id = JSON.parse(idMatch[1]) as string;
    } catch {
      id = null;
    }
  }
  const seqMatch = /,"seq":([0-9]+),"commitment":/.exec(line);
  const seq = seqMatch?.[1] && DIGITS.test(seqMatch[1]) ? Number(seqMatch[1]) : null;
  return { seq, id };
}

interface CsvCell {
  text: string;
  quoted: boolean;
}

/** A record's fields (RFC 4180), noting which were quoted; null when it is malformed. */
function parseCsvRecord(record: string): CsvCell[] | null {
  const cells: CsvCell[] = [];
  let i = 0;
  for (;;) {
    if (record[i] === '"') {
      let text = "";
      i++;
      for (;;) {
        const quote = record.indexOf('"', i);
        if (quote === -1) return null;
        text += record.slice(i, quote);
        if (record[quote + 1] === '"') {
          text += '"';
          i = quote + 2;
        } else {
          i = quote + 1;
          break;
        }
      }
      cells.push({ text, quoted: true });
    } else {
      const comma = record.indexOf(",", i);
      const end = comma === -1 ? record.length : comma;
      const text = record.slice(i, end);
      if (text.includes('"') || text.includes("\r") || text.includes("\n")) return null;
      cells.push({ text, quoted: false });
      i = end;
    }
    if (i === record.length) return cells;
    if (record[i] !== ",") return null;
    i++;
  }
}

/** A cell's value: an empty unquoted field is null, `""` the empty string, `'` prefixes undone. */
function cellValue(cell: CsvCell | undefined): string | null {
  if (!cell) return null;
  if (cell.text === "") return cell.quoted ? "" : null;
  return unneutraliseFormula(cell.text);
}

const csvIndex = Object.fromEntries(csvColumns.map((name, i) => [name, i])) as Record<
  (typeof csvColumns)[number],
  number
>;

class EntryError extends Error {}

function required(value: string | null, column: string): string {
  if (value === null) throw new EntryError(`${column} is empty`);
  return value;
}

/** The entry a CSV record stands for, as the leaf reads it. */
function csvEntry(cells: CsvCell[]): LeafEntry & { seq: number } {
  if (cells.length !== csvColumns.length) {
    throw new EntryError(`the record has ${cells.length} fields, not ${csvColumns.length}`);
  }
  const get = (column: (typeof csvColumns)[number]) => cellValue(cells[csvIndex[column]]);
  const seqText = required(get("seq"), "seq");
  if (!DIGITS.test(seqText)) throw new EntryError("seq is not a number");
  const hidden = get("hiddenByDefault");
  if (hidden !== "true" && hidden !== "false") {
    throw new EntryError("hiddenByDefault is neither true nor false");
  }
  let data: unknown;
  try {
    data = JSON.parse(required(get("data"), "data"));
  } catch {
    throw new EntryError("data is not JSON");
  }
  const targetType = get("targetType");
  const targetId = get("targetId");
  const oauthClientId = get("oauthClientId");
  return {
    id: required(get("id"), "id"),
    type: required(get("type"), "type"),
    category: required(get("category"), "category"),
    description: required(get("description"), "description"),
    occurredAt: required(get("occurredAt"), "occurredAt"),
    receivedAt: required(get("receivedAt"), "receivedAt"),
    hiddenByDefault: hidden === "true",
    actor: {
      type: required(get("actorType"), "actorType"),
      id: required(get("actorId"), "actorId"),
      name: required(get("actorName"), "actorName"),
      avatarUrl: get("actorAvatarUrl"),
      tokenRole: get("actorTokenRole"),
      tokenLast4: get("actorTokenLast4"),
    },
    // As the export wrote them: a target (or an OAuth app) only with its type and id present.
    target:
      targetType && targetId ? { type: targetType, id: targetId, name: get("targetName") } : null,
    ip: get("ip"),
    location: { countryCode: get("country"), region: get("region"), city: get("city") },
    userAgent: get("userAgent"),
    oauth: oauthClientId ? { clientId: oauthClientId, name: get("oauthName") } : null,
    data: data as Record<string, unknown>,
    // An erased entry (issue 16) has no salt and keeps its personal digest.
    commitment: get("commitmentPersonal")
      ? { personal: get("commitmentPersonal") as string }
      : { salt: required(get("commitmentSalt"), "commitmentSalt") },
    seq: Number(seqText),
  };
}

/** Splits decompressed text as it streams at a terminator: "\n" (JSON, NDJSON) or "\r\n" (CSV). */
class SegmentSplitter {
  private rest = "";
  constructor(private readonly terminator: string) {}

  push(text: string): string[] {
    this.rest += text;
    const segments: string[] = [];
    let start = 0;
    let end = this.rest.indexOf(this.terminator);
    while (end !== -1) {
      segments.push(this.rest.slice(start, end));
      start = end + this.terminator.length;
      end = this.rest.indexOf(this.terminator, start);
    }
    this.rest = this.rest.slice(start);
    return segments;
  }

  /** What is left after the last terminator. */
  end(): string {
    return this.rest;
  }
}

/** Whether a CSV record's text ends with a lineDigest field that matches the text before it. */
function csvRecordVerifies(text: string): boolean {
  const lastComma = text.lastIndexOf(",");
  if (lastComma === -1) return false;
  const digest = unneutraliseFormula(text.slice(lastComma + 1));
  return digest.length === 44 && digest === csvLineDigest(text.slice(0, lastComma));
}

/** Text a damaged CSV record may grow to before it is cut (a file that is not CSV at all). */
const maxDamagedRecord = 1 << 20;

/**
 * Groups CRLF-separated segments into CSV records. A record is complete when its lineDigest
 * verifies, which also covers values holding a line break. A changed record never verifies: it
 * ends where the next segment is a whole record that does, so one changed byte (even a quote,
 * which would throw a plain RFC 4180 reader off for the rest of the file) damages one record.
 */
class CsvRecordGrouper {
  private pending: string[] = [];
  private pendingLength = 0;
  constructor(private readonly emit: (record: string, verified: boolean) => void) {}

  push(segment: string): void {
    if (this.pending.length > 0 && csvRecordVerifies(segment)) {
      this.flushDamaged();
      this.emit(segment, true);
      return;
    }
    this.pending.push(segment);
    this.pendingLength += segment.length + 2;
    const joined = this.pending.join("\r\n");
    if (csvRecordVerifies(joined)) {
      this.pending = [];
      this.pendingLength = 0;
      this.emit(joined, true);
    } else if (this.pendingLength > maxDamagedRecord) {
      this.flushDamaged();
    }
  }

  flushDamaged(): void {
    if (this.pending.length === 0) return;
    const joined = this.pending.join("\r\n");
    this.pending = [];
    this.pendingLength = 0;
    this.emit(joined, false);
  }
}

/** The seq and id of a damaged CSV record, as far as they can be read, for the report. */
function salvageCsvRecord(text: string): { seq: number | null; id: string | null } {
  const cells = parseCsvRecord(text);
  const firstComma = text.indexOf(",");
  const id = cells ? cellValue(cells[0]) : firstComma > 0 ? text.slice(0, firstComma) : null;
  const seqText =
    cells && cells.length === csvColumns.length
      ? cellValue(cells[csvIndex.seq])
      : (/,([1-9][0-9]{0,15}),\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,(?:true|false),/.exec(
          text,
        )?.[1] ?? null);
  return { seq: seqText && DIGITS.test(seqText) ? Number(seqText) : null, id };
}

/** Whether the file starts as gzip does (0x1f 0x8b). */
async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Streams the file's text to `onText`, hashing its bytes as read. A file that is not gzip is
 * read as it is (someone decompressed it); its digest then fails, but its entries are checked.
 */
async function readFileText(
  path: string,
  gzip: boolean,
  fileHash: Hash,
  onText: (text: string) => void,
): Promise<void> {
  const decoder = new StringDecoder("utf8");
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      fileHash.update(chunk);
      callback(null, chunk);
    },
  });
  const consume = async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) onText(decoder.write(chunk));
    onText(decoder.end());
  };
  if (gzip) await pipeline(createReadStream(path), tap, createGunzip(), consume);
  else await pipeline(createReadStream(path), tap, consume);
}

/**
 * Verifies an export file against its manifest, offline: the manifest's signature, the file's
 * SHA-256, the checkpoint's signature and origin, every entry's own digest, the entry count and
 * seq range, and, for an unfiltered export, the root of seq 1 … treeSize rebuilt from the
 * entries against the checkpoint's.
 */
export async function verifyExportFile(input: VerifyExportInput): Promise<ExportVerification> {
  const result: ExportVerification = {
    ok: false,
    exportId: null,
    orgId: null,
    format: null,
    rows: null,
    unfiltered: null,
    treeSize: null,
    rootHash: null,
    checks: {
      manifestSignature: "not checked",
      checkpointSignature: "not checked",
      fileDigest: "not checked",
      entries: "not checked",
      root: "not checked",
    },
    badEntries: 0,
    errors: [],
    notes: [],
  };
  let manifest: ExportManifestBody;
  try {
    manifest = openExportManifest(input.manifest, input.verifiers).body;
    result.checks.manifestSignature = "ok";
  } catch (error) {
    result.checks.manifestSignature = "failed";
    result.errors.push(error instanceof ManifestError ? error.message : String(error));
    return result;
  }
  Object.assign(result, {
    exportId: manifest.exportId,
    orgId: manifest.orgId,
    format: manifest.format,
    rows: manifest.rows,
    unfiltered: manifest.unfiltered,
    treeSize: manifest.checkpoint.treeSize,
    rootHash: manifest.checkpoint.rootHash,
  });

  const treeSize = manifest.checkpoint.treeSize;
  let checkpointRoot: Uint8Array | null = null;
  try {
    const origin = checkpointOrigin(input.logOrigin ?? manifest.logOrigin, manifest.orgId);
    const checkpoint = openCheckpoint(manifest.checkpoint.note, input.verifiers, origin);
    if (
      checkpoint.treeSize !== treeSize ||
      toBase64(checkpoint.rootHash) !== manifest.checkpoint.rootHash
    ) {
      throw new Error("the checkpoint's note does not say the manifest's tree size and root");
    }
    checkpointRoot = checkpoint.rootHash;
    result.checks.checkpointSignature = "ok";
  } catch (error) {
    result.checks.checkpointSignature = "failed";
    result.errors.push(`checkpoint: ${(error as Error).message}`);
  }

  const format = manifest.format;
  const seen = new Uint8Array(treeSize);
  const leaves = manifest.unfiltered ? Buffer.alloc(treeSize * HASH_SIZE) : null;
  const claimedBy = new Map<number, number>();
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let entries = 0;
  let firstBadSuspectSeq = false;
  const fileHash = createHash("sha256");
  let gzip = true;

  const bad = (entry: BadEntry, seqSuspect = false) => {
    result.badEntries++;
    if (!result.firstBad) {
      result.firstBad = entry;
      firstBadSuspectSeq = seqSuspect;
    }
  };

  /** One entry: its digest, its leaf, its place. */
  const checkEntry = (text: string, isLastJsonLine: boolean | null, verified = false) => {
    entries++;
    const position = entries;
    let seq: number | null = null;
    let id: string | null = null;
    try {
      let leafEntry: LeafEntry & { seq: number };
      if (format === "csv") {
        ({ seq, id } = salvageCsvRecord(text));
        if (!verified) {
          throw new EntryError("its bytes do not match its lineDigest (the entry was changed)");
        }
        const cells = parseCsvRecord(text);
        if (!cells) throw new EntryError("it is not an RFC 4180 record");
        leafEntry = csvEntry(cells);
      } else {
        const line = format === "json" && text.endsWith(",") ? text.slice(0, -1) : text;
        ({ seq, id } = salvageJsonLine(line));
        const match = LINE_DIGEST.exec(line);
        if (
          !match ||
          createHash("sha256").update(`${match[1]}}`, "utf8").digest("base64") !== match[2]
        ) {
          throw new EntryError("its bytes do not match its lineDigest (the entry was changed)");
        }
        if (isLastJsonLine === false && !text.endsWith(",")) {
          throw new EntryError("a comma is missing after it");
        }
        if (isLastJsonLine === true && text.endsWith(",")) {
          throw new EntryError("the last entry is followed by a comma");
        }
        let parsed: LeafEntry & { seq: unknown };
        try {
          parsed = JSON.parse(line) as LeafEntry & { seq: unknown };
        } catch {
          throw new EntryError("it is not JSON");
        }
        if (typeof parsed.seq !== "number" || !Number.isSafeInteger(parsed.seq)) {
          throw new EntryError("seq is not a number");
        }
        leafEntry = parsed as LeafEntry & { seq: number };
      }
      seq = leafEntry.seq;
      id = leafEntry.id;
      let leaf: Uint8Array;
      try {
        leaf = entryLeafHash(manifest.orgId, leafEntry);
      } catch (error) {
        throw new EntryError(`its leaf cannot be computed: ${(error as Error).message}`);
      }
      if (seq < 1 || seq > treeSize) {
        bad(
          {
            entry: position,
            seq,
            id,
            reason: `seq ${seq} is not in the checkpoint's 1 … ${treeSize}`,
          },
          true,
        );
        return;
      }
      const earlier = claimedBy.get(seq);
      if (seen[seq - 1]) {
        bad(
          { entry: position, seq, id, reason: `seq ${seq} also belongs to entry ${earlier}` },
          true,
        );
        return;
      }
      seen[seq - 1] = 1;
      claimedBy.set(seq, position);
      firstSeq = firstSeq === null ? seq : Math.min(firstSeq, seq);
      lastSeq = lastSeq === null ? seq : Math.max(lastSeq, seq);
      leaves?.set(leaf, (seq - 1) * HASH_SIZE);
    } catch (error) {
      if (!(error instanceof EntryError)) throw error;
      bad({ entry: position, seq, id, reason: error.message }, true);
    }
  };

  let structureError: string | null = null;
  try {
    const splitter = new SegmentSplitter(format === "csv" ? "\r\n" : "\n");
    let index = 0;
    const csvRecords = new CsvRecordGrouper((record, verified) =>
      checkEntry(record, null, verified),
    );
    // JSON: one line is held back, because only the next line says whether it is the last entry.
    let pendingJson: string | null = null;
    let jsonClosed = false;
    const takeSegment = (segment: string) => {
      index++;
      if (format === "csv") {
        if (index === 1) {
          if (segment !== csvColumns.join(","))
            structureError = "the CSV header is not the export's";
          return;
        }
        csvRecords.push(segment);
      } else if (format === "ndjson") {
        checkEntry(segment, null);
      } else {
        if (index === 1) {
          if (segment !== "[") structureError = "the JSON array does not start with [";
          return;
        }
        if (jsonClosed) {
          structureError = "text follows the JSON array's ]";
          return;
        }
        if (segment === "]") {
          if (pendingJson !== null) checkEntry(pendingJson, true);
          pendingJson = null;
          jsonClosed = true;
          return;
        }
        if (pendingJson !== null) checkEntry(pendingJson, false);
        pendingJson = segment;
      }
    };
    gzip = await isGzipFile(input.file);
    await readFileText(input.file, gzip, fileHash, (text) => {
      for (const segment of splitter.push(text)) takeSegment(segment);
    });
    const tail = splitter.end();
    if (format === "csv") {
      if (tail !== "") csvRecords.push(tail);
      csvRecords.flushDamaged();
    }
    if (tail !== "") {
      structureError = "the file does not end with a complete entry (truncated?)";
      if (format === "ndjson") checkEntry(tail, null);
    }
    if (format === "json") {
      if (pendingJson !== null) checkEntry(pendingJson, true);
      if (!jsonClosed && structureError === null) structureError = "the JSON array is not closed";
    }
    if (format === "csv" && index === 0) structureError = "the CSV header is missing";
  } catch (error) {
    structureError = `the file cannot be read: ${(error as Error).message}`;
  }

  const fileSha256 = fileHash.digest("hex");
  if (fileSha256 === manifest.fileSha256) {
    result.checks.fileDigest = "ok";
  } else {
    result.checks.fileDigest = "failed";
    result.errors.push(
      gzip
        ? `the file's SHA-256 is ${fileSha256}, the manifest says ${manifest.fileSha256}`
        : "the file is not gzip: verify the file as downloaded (.gz), whose SHA-256 the manifest holds",
    );
  }

  const missing: number[] = [];
  if (manifest.unfiltered) {
    for (let seq = 1; seq <= treeSize; seq++) {
      if (!seen[seq - 1]) {
        missing.push(seq);
        if (missing.length > 10) break;
      }
    }
  }
  // A changed entry claims no seq, and an unfiltered export holds every seq once: when exactly
  // one is missing, it is the changed entry's (whatever its damaged text says, its seq too may
  // be the byte that changed).
  if (result.firstBad && firstBadSuspectSeq && missing.length === 1) {
    result.firstBad.seq = missing[0] as number;
  }

  if (structureError) result.errors.push(structureError);
  if (result.firstBad) {
    const { entry, seq, id, reason } = result.firstBad;
    result.errors.push(
      `entry ${entry} (seq ${seq ?? "unknown"}, id ${id ?? "unknown"}): ${reason}` +
        (result.badEntries > 1 ? ` (and ${result.badEntries - 1} more bad entries)` : ""),
    );
  }
  if (entries !== manifest.rows) {
    result.errors.push(`the file holds ${entries} entries, the manifest says ${manifest.rows}`);
  }
  if (firstSeq !== manifest.firstSeq || lastSeq !== manifest.lastSeq) {
    result.errors.push(
      `the entries' seq run from ${firstSeq ?? "none"} to ${lastSeq ?? "none"}, the manifest says ${manifest.firstSeq ?? "none"} to ${manifest.lastSeq ?? "none"}`,
    );
  }
  const entriesOk =
    structureError === null &&
    !result.firstBad &&
    entries === manifest.rows &&
    firstSeq === manifest.firstSeq &&
    lastSeq === manifest.lastSeq;
  result.checks.entries = entriesOk ? "ok" : "failed";

  if (!manifest.unfiltered) {
    result.checks.root = "not applicable";
    result.notes.push(
      "a filtered export holds only some of the log's entries, so they cannot rebuild the checkpoint's root: the root check does not apply (the file's digest and the signatures were checked)",
    );
  } else if (missing.length > 0) {
    result.checks.root = "failed";
    result.errors.push(
      `the unfiltered export lacks seq ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? " …" : ""}`,
    );
  } else if (leaves && checkpointRoot) {
    const builder = new RootBuilder();
    for (let i = 0; i < treeSize; i++)
      builder.push(leaves.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
    if (bytesEqual(builder.root(), checkpointRoot)) {
      result.checks.root = "ok";
    } else {
      result.checks.root = "failed";
      result.errors.push("the entries' leaves do not rebuild the checkpoint's root hash");
    }
  }

  result.ok =
    result.checks.manifestSignature === "ok" &&
    result.checks.checkpointSignature === "ok" &&
    result.checks.fileDigest === "ok" &&
    result.checks.entries === "ok" &&
    (result.checks.root === "ok" || result.checks.root === "not applicable");
  return result;
}
