// The background exports' entry lines (issue 21 part 4), rendered here from COPY text instead of
// by PostgreSQL. `entryJsonSql` (with its line digest) cost PostgreSQL about 21 µs an entry,
// sixteen times what it spends sending the same columns as plain COPY text; these functions turn
// the text lines of `entryLeafColumns` (the columns `verify` reads) into the very bytes the SQL
// rendering's COPY writes, line digest and all, from the bytes, without strings or objects. A
// property test (entry-export-lines.test.ts) holds both renderings byte-identical, the SQL one
// being kept as its reference.
//
// What the SQL does, and so what this does:
// - text columns: `to_json(x)::text` (PostgreSQL's escape_json: `"` `\` and the controls with a
//   short escape get one, the other controls `\u00xx` in lowercase hex, the rest as it is), or
//   `null`;
// - times: `to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, milliseconds
//   truncated, `null` for ±infinity (to_char gives NULL);
// - `data`: jsonb's own text, spaces and all;
// - a NULL seq, or neither salt nor digest, makes the whole line NULL, which COPY's CSV mode
//   writes as an empty line;
// - the CSV mode quotes a value holding a newline, a carriage return, its quote (0x01) or its
//   delimiter (0x02): only base64 of more than 57 bytes (newlines every 76 characters) can.
//
// COPY's text format escapes a backslash and the controls with a short escape (\b \f \n \r \t
// \v), writes the other controls as they are and NULL as `\N`.

import { hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

/** Columns of `entryLeafColumns`, in its order. */
const Col = {
  seq: 0,
  id: 1,
  type: 2,
  category: 3,
  description: 4,
  hidden: 5,
  occurredAt: 6,
  receivedAt: 7,
  actorType: 8,
  actorId: 9,
  actorName: 10,
  avatarUrl: 11,
  tokenRole: 12,
  tokenLast4: 13,
  targetType: 14,
  targetId: 15,
  targetName: 16,
  ip: 17,
  countryCode: 18,
  region: 19,
  city: 20,
  userAgent: 21,
  oauthClientId: 22,
  oauthName: 23,
  data: 24,
  salt: 25,
  personal: 26,
} as const;
const COLUMN_COUNT = 27;

const TAB = 9;
const NEWLINE = 10;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export interface EntryExportLineOptions {
  /** `,` after every line's JSON, as `openEntryJsonStream`'s `lineEnd`. */
  lineEnd: "" | ",";
  /** The `"lineDigest"` member, as `openEntryJsonStream`'s `lineDigest`. */
  lineDigest: boolean;
}

/**
 * A constant text as the little-endian 32-bit words `put` writes (the last one padded): element
 * 0 is its length in bytes. A word at a time: a byte loop over the line's thirty-odd constants
 * was a tenth of the rendering.
 */
function words(text: string): Int32Array {
  const bytes = Buffer.from(text, "latin1");
  const result = new Int32Array(1 + Math.ceil(bytes.length / 4));
  result[0] = bytes.length;
  const padded = Buffer.alloc(4 * (result.length - 1));
  bytes.copy(padded);
  for (let i = 1; i < result.length; i++) result[i] = padded.readInt32LE(4 * (i - 1));
  return result;
}
const ascii = (text: string): Buffer => Buffer.from(text, "latin1");
const K = {
  id: words('{"id":'),
  type: words(',"type":'),
  category: words(',"category":'),
  description: words(',"description":'),
  occurredAt: words(',"occurredAt":'),
  receivedAt: words(',"receivedAt":'),
  hidden: words(',"hiddenByDefault":'),
  actorType: words(',"actor":{"type":'),
  actorId: words(',"id":'),
  actorName: words(',"name":'),
  avatarUrl: words(',"avatarUrl":'),
  tokenRole: words(',"tokenRole":'),
  tokenLast4: words(',"tokenLast4":'),
  target: words('},"target":'),
  targetType: words('{"type":'),
  targetId: words(',"id":'),
  targetName: words(',"name":'),
  ip: words(',"ip":'),
  location: words(',"location":'),
  formatted: words('{"formatted":"'),
  countryCode: words('","countryCode":'),
  region: words(',"region":'),
  city: words(',"city":'),
  userAgent: words(',"userAgent":'),
  oauth: words(',"oauth":'),
  clientId: words('{"clientId":'),
  oauthName: words(',"name":'),
  data: words(',"data":'),
  seq: words(',"seq":'),
  salt: words(',"commitment":{"salt":"'),
  personal: words(',"commitment":{"personal":"'),
  end: words('"}}'),
  lineDigest: words(',"lineDigest":"'),
  digestEnd: words('"}'),
  null: words("null"),
  true: words("true"),
  false: words("false"),
  emptyObject: words("{}"),
  comma: words(", "),
};

// escape_json's short escapes, by byte; 0: `\u00xx`.
const SHORT_ESCAPE = new Uint8Array(0x20);
SHORT_ESCAPE[0x08] = 0x62; // b
SHORT_ESCAPE[0x09] = 0x74; // t
SHORT_ESCAPE[0x0a] = 0x6e; // n
SHORT_ESCAPE[0x0c] = 0x66; // f
SHORT_ESCAPE[0x0d] = 0x72; // r
// COPY text's escapes, by the letter after the backslash; else the letter itself.
const COPY_UNESCAPE = new Uint8Array(256);
for (let b = 0; b < 256; b++) COPY_UNESCAPE[b] = b;
COPY_UNESCAPE[0x62] = 0x08;
COPY_UNESCAPE[0x66] = 0x0c;
COPY_UNESCAPE[0x6e] = 0x0a;
COPY_UNESCAPE[0x72] = 0x0d;
COPY_UNESCAPE[0x74] = 0x09;
COPY_UNESCAPE[0x76] = 0x0b;
const HEX = ascii("0123456789abcdef");

/** The line's bytes, and a DataView of them for word reads. */
let lineBytes: Buffer | undefined;
let lineView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(8));
/** Field i is bytes starts[i] … ends[i] (exclusive) of the line. */
const starts = new Int32Array(COLUMN_COUNT);
const ends = new Int32Array(COLUMN_COUNT);
/** Bit i set: field i holds a backslash, a quote or a control byte (the slow copy). */
let special = 0;

// One scratch buffer for the process: a chunk is rendered synchronously and copied out before
// anything else runs, so exports built at once never share it mid-chunk.
let out = Buffer.allocUnsafe(256 * 1024);
let outView = new DataView(out.buffer, out.byteOffset, out.length);
let w = 0;

function ensure(extra: number): void {
  if (w + extra + SLACK <= out.length) return;
  const grown = Buffer.allocUnsafe(Math.max(2 * out.length, w + extra + SLACK));
  out.copy(grown, 0, 0, w);
  out = grown;
  outView = new DataView(out.buffer, out.byteOffset, out.length);
}

/** `put` writes whole words, up to 3 bytes past its text: room kept beyond every `ensure`. */
const SLACK = 8;

/** A constant text (`words`); the bytes past it that its last word wrote are overwritten next. */
function put(text: Int32Array): void {
  const view = outView;
  let p = w;
  for (let i = 1; i < text.length; i++) {
    view.setInt32(p, text[i] as number, true);
    p += 4;
  }
  w += text[0] as number;
}

function isNull(line: Buffer, i: number): boolean {
  const s = starts[i] as number;
  return ends[i] === s + 2 && line[s] === BACKSLASH && line[s + 1] === 0x4e;
}

/** `NULLIF(x, '') IS NOT NULL`. */
function present(line: Buffer, i: number): boolean {
  return ends[i] !== starts[i] && !isNull(line, i);
}

/** A field's text, JSON-escaped, without quotes. */
function putEscaped(line: Buffer, i: number): void {
  const s = starts[i] as number;
  const e = ends[i] as number;
  const o = out;
  let p = w;
  if ((special & (1 << i)) === 0) {
    if (e - s > 64) {
      p += line.copy(o, p, s, e);
    } else {
      // A word at a time, never reading or writing past the field.
      const from = lineView;
      const to = outView;
      let k = s;
      for (; k + 4 <= e; k += 4, p += 4) to.setInt32(p, from.getInt32(k, true), true);
      for (; k < e; k++) o[p++] = line[k] as number;
    }
    w = p;
    return;
  }
  for (let k = s; k < e; k++) {
    let b = line[k] as number;
    if (b === BACKSLASH) b = COPY_UNESCAPE[line[++k] as number] as number;
    if (b === QUOTE || b === BACKSLASH) {
      o[p++] = BACKSLASH;
      o[p++] = b;
    } else if (b < 0x20) {
      o[p++] = BACKSLASH;
      const short = SHORT_ESCAPE[b] as number;
      if (short !== 0) {
        o[p++] = short;
      } else {
        o[p++] = 0x75; // u
        o[p++] = 0x30;
        o[p++] = 0x30;
        o[p++] = HEX[b >> 4] as number;
        o[p++] = HEX[b & 15] as number;
      }
    } else {
      o[p++] = b;
    }
  }
  w = p;
}

/** `COALESCE(to_json(x)::text, 'null')` of a text field. */
function putJson(line: Buffer, i: number): void {
  if (isNull(line, i)) {
    put(K.null);
    return;
  }
  out[w++] = QUOTE;
  putEscaped(line, i);
  out[w++] = QUOTE;
}

/** A field's text with COPY's escapes undone (jsonb's text, base64, digits). */
function putRaw(line: Buffer, i: number): void {
  const s = starts[i] as number;
  const e = ends[i] as number;
  if ((special & (1 << i)) === 0) {
    w += line.copy(out, w, s, e);
    return;
  }
  const o = out;
  let p = w;
  for (let k = s; k < e; k++) {
    const b = line[k] as number;
    o[p++] = b === BACKSLASH ? (COPY_UNESCAPE[line[++k] as number] as number) : b;
  }
  w = p;
}

const DIGIT_0 = 0x30;
const isDigit = (b: number) => b >= DIGIT_0 && b <= DIGIT_0 + 9;
const INFINITY = ascii("infinity");
const MINUS_INFINITY = ascii("-infinity");

function equals(line: Buffer, s: number, e: number, text: Buffer): boolean {
  if (e - s !== text.length) return false;
  for (let k = 0; k < text.length; k++) if (line[s + k] !== text[k]) return false;
  return true;
}

/**
 * A timestamptz's text (session TimeZone UTC, DateStyle ISO: `Y…Y-MM-DD HH:MM:SS[.f…]+00`, and
 * ` BC` before year 1) as to_char's `YYYY-MM-DD"T"HH24:MI:SS.MS"Z"` in JSON: the same year
 * digits (at least four), the fraction's first three digits, `null` for ±infinity.
 */
function putTime(line: Buffer, i: number): void {
  const s = starts[i] as number;
  let e = ends[i] as number;
  if (isNull(line, i) || equals(line, s, e, INFINITY) || equals(line, s, e, MINUS_INFINITY)) {
    put(K.null);
    return;
  }
  // " BC": to_char's YYYY writes a year before 1 as its positive number, as the text does.
  if (e - s > 3 && line[e - 3] === 0x20 && line[e - 2] === 0x42 && line[e - 1] === 0x43) e -= 3;
  let yearEnd = s;
  while (yearEnd < e && isDigit(line[yearEnd] as number)) yearEnd++;
  const at = yearEnd;
  // "-MM-DD HH:MM:SS" after the year, "+00" at the end.
  let ok = yearEnd - s >= 4 && e - at >= 18;
  if (ok) {
    for (let k = 0; k < 15; k++) {
      const b = line[at + k] as number;
      const expected = k === 0 || k === 3 ? 0x2d : k === 6 ? 0x20 : k === 9 || k === 12 ? 0x3a : 0;
      if (expected === 0 ? !isDigit(b) : b !== expected) ok = false;
    }
    ok &&= line[e - 3] === 0x2b && line[e - 2] === DIGIT_0 && line[e - 1] === DIGIT_0;
  }
  const fractionEnd = e - 3;
  if (ok && fractionEnd > at + 15) {
    ok = line[at + 15] === 0x2e && fractionEnd > at + 16;
    for (let k = at + 16; ok && k < fractionEnd; k++) ok = isDigit(line[k] as number);
  }
  if (!ok) {
    throw new TypeError(
      `${i === Col.occurredAt ? "occurred_at" : "received_at"} is not a UTC time`,
    );
  }
  const o = out;
  let p = w;
  o[p++] = QUOTE;
  for (let k = s; k < at + 6; k++) o[p++] = line[k] as number;
  o[p++] = 0x54; // T
  for (let k = at + 7; k < at + 15; k++) o[p++] = line[k] as number;
  o[p++] = 0x2e;
  for (let k = 0; k < 3; k++) {
    const at16 = at + 16 + k;
    o[p++] = at16 < fractionEnd ? (line[at16] as number) : DIGIT_0;
  }
  o[p++] = 0x5a; // Z
  o[p++] = QUOTE;
  w = p;
}

/** Cuts a line into its fields; false when it has not `entryLeafColumns`' count. */
function splitFields(line: Buffer, start: number, end: number): boolean {
  let field = 0;
  let flags = 0;
  starts[0] = start;
  if (line !== lineBytes) {
    lineBytes = line;
    lineView = new DataView(line.buffer, line.byteOffset, line.length);
  }
  const view = lineView;
  for (let k = start; k < end; ) {
    // Four bytes at a time while none is a tab, another control, a quote or a backslash (a
    // byte below 0x20, or equal to 0x22 or 0x5c, sets its top bit): most words hold none.
    let stop = end;
    if (k + 4 <= end) {
      const x = view.getInt32(k, true);
      const q = x ^ 0x22222222;
      const b = x ^ 0x5c5c5c5c;
      if (
        ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) &
          0x80808080) ===
        0
      ) {
        k += 4;
        continue;
      }
      stop = k + 4;
    }
    for (; k < stop; k++) {
      const b = line[k] as number;
      if (b > QUOTE) {
        if (b === BACKSLASH) {
          flags |= 1 << field;
          // The escaped byte is part of the escape, never a separator.
          k++;
          if (k >= stop) stop = k + 1;
        }
      } else if (b === TAB) {
        ends[field] = k;
        if (++field === COLUMN_COUNT) return false;
        starts[field] = k + 1;
      } else if (b === QUOTE || b < 0x20) {
        flags |= 1 << field;
      }
    }
  }
  ends[field] = end;
  special = flags;
  return field === COLUMN_COUNT - 1;
}

// Where the last line's id and times were written (`renderEntryJsonRun` reads them back).
let idEnd = 0;
const timeStarts = new Int32Array(2);
const timeEnds = new Int32Array(2);

// The seq of the last line rendered; 0 when it rendered nothing (no seq: a NULL line).
let lineSeq = 0;

/** Writes one line's value, as the SQL's COPY would (without its newline). */
function renderLine(line: Buffer, start: number, end: number, options: EntryExportLineOptions) {
  if (!splitFields(line, start, end)) {
    throw new TypeError("an entry line without the export's columns");
  }
  lineSeq = 0;
  const personal = !isNull(line, Col.personal);
  // The whole concatenation is NULL: COPY writes nothing before the newline.
  if (isNull(line, Col.seq) || (!personal && isNull(line, Col.salt))) return;
  // A bigint's digits (never negative: seq starts at 1), read without a string.
  let seq = 0;
  for (let k = starts[Col.seq] as number; k < (ends[Col.seq] as number); k++) {
    seq = seq * 10 + (line[k] as number) - 48;
  }
  lineSeq = seq;
  // Every byte may become six (`\u00xx`), the location's three fields are written twice.
  ensure(12 * (end - start) + 1024);
  const lineStart = w;
  put(K.id);
  putJson(line, Col.id);
  idEnd = w;
  put(K.type);
  putJson(line, Col.type);
  put(K.category);
  putJson(line, Col.category);
  put(K.description);
  putJson(line, Col.description);
  put(K.occurredAt);
  timeStarts[0] = w;
  putTime(line, Col.occurredAt);
  timeEnds[0] = w;
  put(K.receivedAt);
  timeStarts[1] = w;
  putTime(line, Col.receivedAt);
  timeEnds[1] = w;
  put(K.hidden);
  const hidden = line[starts[Col.hidden] as number];
  put(isNull(line, Col.hidden) ? K.null : hidden === 0x74 ? K.true : K.false);
  put(K.actorType);
  putJson(line, Col.actorType);
  put(K.actorId);
  putJson(line, Col.actorId);
  put(K.actorName);
  putJson(line, Col.actorName);
  put(K.avatarUrl);
  putJson(line, Col.avatarUrl);
  put(K.tokenRole);
  putJson(line, Col.tokenRole);
  put(K.tokenLast4);
  putJson(line, Col.tokenLast4);
  put(K.target);
  if (present(line, Col.targetType) && present(line, Col.targetId)) {
    put(K.targetType);
    putJson(line, Col.targetType);
    put(K.targetId);
    putJson(line, Col.targetId);
    put(K.targetName);
    putJson(line, Col.targetName);
    out[w++] = 0x7d;
  } else {
    put(K.null);
  }
  put(K.ip);
  putJson(line, Col.ip);
  put(K.location);
  const city = present(line, Col.city);
  const region = present(line, Col.region);
  const country = present(line, Col.countryCode);
  if (city || region || country) {
    // concat_ws(', ', …) of the non-empty ones, in this order.
    put(K.formatted);
    if (city) putEscaped(line, Col.city);
    if (region) {
      if (city) put(K.comma);
      putEscaped(line, Col.region);
    }
    if (country) {
      if (city || region) put(K.comma);
      putEscaped(line, Col.countryCode);
    }
    put(K.countryCode);
    putJson(line, Col.countryCode);
    put(K.region);
    putJson(line, Col.region);
    put(K.city);
    putJson(line, Col.city);
    out[w++] = 0x7d;
  } else {
    put(K.null);
  }
  put(K.userAgent);
  putJson(line, Col.userAgent);
  put(K.oauth);
  if (present(line, Col.oauthClientId)) {
    put(K.clientId);
    putJson(line, Col.oauthClientId);
    put(K.oauthName);
    putJson(line, Col.oauthName);
    out[w++] = 0x7d;
  } else {
    put(K.null);
  }
  put(K.data);
  if (isNull(line, Col.data)) put(K.emptyObject);
  else putRaw(line, Col.data);
  put(K.seq);
  putRaw(line, Col.seq);
  // An erased entry (issue 16) keeps its personal digest, and no salt.
  put(personal ? K.personal : K.salt);
  const base64 = personal ? Col.personal : Col.salt;
  putRaw(line, base64);
  put(K.end);
  if (options.lineDigest) {
    // `left(j, -1) || ',"lineDigest":"' || base64(sha256(j)) || '"}'`
    const digest = hash("sha256", out.subarray(lineStart, w), "base64");
    w--;
    put(K.lineDigest);
    for (let k = 0; k < digest.length; k++) out[w++] = digest.charCodeAt(k);
    put(K.digestEnd);
  }
  if (options.lineEnd === ",") out[w++] = 0x2c;
  // A COPY escape in a base64 field is a newline (more than 57 bytes): CSV quotes the value.
  if ((special & (1 << base64)) !== 0) quoteForCsv(lineStart);
}

/** The CSV mode's quoting of a value holding 0x01, 0x02, CR or LF: 0x01 around, 0x01 doubled. */
function quoteForCsv(valueStart: number): void {
  const value = Buffer.from(out.subarray(valueStart, w));
  if (!value.some((b) => b === 1 || b === 2 || b === 10 || b === 13)) return;
  w = valueStart;
  ensure(2 * value.length + 2);
  out[w++] = 1;
  for (const b of value) {
    if (b === 1) out[w++] = 1;
    out[w++] = b;
  }
  out[w++] = 1;
}

/**
 * Renders the COPY text lines of `chunk` (whole lines of `entryLeafColumns`, each ending in a
 * newline) as the SQL rendering's COPY writes them: `{…}` (with `lineEnd` and `lineDigest`) and a
 * newline each. `chunk` must be what PostgreSQL sent (valid UTF-8): text is copied as it is.
 */
export function renderEntryExportLines(
  chunk: Buffer,
  options: EntryExportLineOptions,
  seqs?: SeqRange,
): Buffer {
  w = 0;
  let start = 0;
  while (start < chunk.length) {
    const end = chunk.indexOf(NEWLINE, start);
    if (end === -1) throw new TypeError("an entry line without its newline");
    renderLine(chunk, start, end, options);
    if (seqs && lineSeq > 0) {
      seqs.lines++;
      if (lineSeq < seqs.first) seqs.first = lineSeq;
      if (lineSeq > seqs.last) seqs.last = lineSeq;
    }
    ensure(1);
    out[w++] = NEWLINE;
    start = end + 1;
  }
  return Buffer.from(out.subarray(0, w));
}

/**
 * The entries rendered so far: how many, and their lowest and highest seq (Infinity and 0 while
 * there are none). What an export's manifest says of its file, without counting it again.
 */
export interface SeqRange {
  lines: number;
  first: number;
  last: number;
}

/** `renderEntryExportLines` as a stream: COPY chunks of whole lines in, export lines out. */
export class EntryExportLines extends Transform {
  /** The entries rendered so far (complete once the stream has ended). */
  readonly seqs: SeqRange = { lines: 0, first: Number.POSITIVE_INFINITY, last: 0 };

  constructor(private readonly options: EntryExportLineOptions) {
    // A chunk in, a rendered chunk out: anything more only holds memory.
    super({ writableHighWaterMark: 1, readableHighWaterMark: 64 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    let rendered: Buffer;
    try {
      rendered = renderEntryExportLines(chunk, this.options, this.seqs);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, rendered);
  }
}

/**
 * Entries rendered for log streams (issue 17): each one's JSON as `entryJsonSql` renders it (no
 * line digest), one after the other with a comma after each, in one buffer of its own; and what
 * a stream needs besides, read from the same line.
 */
export interface EntryJsonRun {
  /** Every entry's JSON followed by a comma; its own memory (never a pooled slab's). */
  bytes: Buffer;
  /** Entry i's JSON is `bytes[starts[i], ends[i])`. */
  starts: number[];
  ends: number[];
  seqs: number[];
  ids: string[];
  /** ISO 8601 UTC with milliseconds, as `isoTimeTextSql` writes them (null for ±infinity). */
  occurredAt: (string | null)[];
  receivedAt: (string | null)[];
  /** The line's leading fields (before `entryLeafColumns`), as text. */
  leading: string[][];
}

const TIME_NULL = 0x6e; // `null` instead of a quoted time

/**
 * Renders COPY text lines of `leadingFields` plain fields (no escapes, no NULLs) followed by
 * `entryLeafColumns`, as `renderEntryExportLines` would render the columns (the same bytes as
 * `entryJsonSql`), into one run (`EntryJsonRun`). Chunks hold whole lines, in order. A line
 * whose rendering is NULL (no seq, or neither salt nor digest) is refused: a stored entry has both.
 */
export function renderEntryJsonRun(chunks: readonly Buffer[], leadingFields: number): EntryJsonRun {
  const options: EntryExportLineOptions = { lineEnd: ",", lineDigest: false };
  const run: EntryJsonRun = {
    bytes: Buffer.alloc(0),
    starts: [],
    ends: [],
    seqs: [],
    ids: [],
    occurredAt: [],
    receivedAt: [],
    leading: [],
  };
  w = 0;
  for (const chunk of chunks) {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) throw new TypeError("an entry line without its newline");
      const lead: string[] = [];
      let from = start;
      for (let f = 0; f < leadingFields; f++) {
        const tab = chunk.indexOf(TAB, from);
        if (tab === -1 || tab > end)
          throw new TypeError("an entry line without its leading fields");
        lead.push(chunk.toString("latin1", from, tab));
        from = tab + 1;
      }
      const jsonStart = w;
      renderLine(chunk, from, end, options);
      if (w === jsonStart) throw new TypeError("a stored entry without its seq or commitment");
      run.starts.push(jsonStart);
      run.ends.push(w - 1);
      run.leading.push(lead);
      run.seqs.push(lineSeq);
      // `{"id":"…"`: the id's JSON string, plain text unless it needed escapes.
      run.ids.push(
        (special & (1 << Col.id)) === 0
          ? out.toString("utf8", jsonStart + 7, idEnd - 1)
          : (JSON.parse(out.toString("utf8", jsonStart + 6, idEnd)) as string),
      );
      for (let t = 0; t < 2; t++) {
        const s = timeStarts[t] as number;
        const text =
          out[s] === TIME_NULL ? null : out.toString("latin1", s + 1, (timeEnds[t] as number) - 1);
        (t === 0 ? run.occurredAt : run.receivedAt).push(text);
      }
      start = end + 1;
    }
  }
  // Its own memory: a batch of consecutive entries goes out as one slice of it.
  run.bytes = Buffer.allocUnsafeSlow(w);
  out.copy(run.bytes, 0, 0, w);
  return run;
}
