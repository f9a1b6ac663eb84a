// `verify`'s hot path (issue 14): the leaf hash of a COPY text line written from the line's bytes
// straight into a scratch buffer, without strings. It gives the very bytes of `entryLineLeafHash`
// (a property test holds them equal) for the lines it recognises: valid UTF-8 with no COPY
// escape other than `\N`, no control character, no backslash inside `data`, only integers in
// `data`, plain ASCII keys in `data` (jsonb's key order is by length first, RFC 8785's by code
// units, so they are sorted here), the layout of `entryLeafColumns`. Any other line answers
// `false` and the caller hashes it with `entryLineLeafHash`, which either gives its leaf or
// refuses it: this path never refuses a line itself.
//
// Measured inside verify (BENCHMARKS.md, "verify at 200,000 entries/s"): the string path spent
// most of its time building and re-scanning strings (split, regex tests per field, the two
// concatenated texts, their UTF-8 encoding) and allocating a Buffer per SHA-256 result.

import { hash } from "node:crypto";
import { LEAF_VERSION, SALT_SIZE } from "@auditlog/tlog";

// The layout of `entryLeafColumns`; the 27th column (an erased entry's kept personal digest) must
// be NULL here: erased entries take the string path.
const COLUMN_COUNT = 27;
const TAB = 9;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const ascii = (text: string): Uint8Array => Buffer.from(text, "binary");

/**
 * A constant text as the little-endian 32-bit words `put` writes (the last one padded): element
 * 0 is its length in bytes. Writing a word at a time instead of a byte at a time took `put`,
 * called about thirty times a line, from 13% of verify's CPU (perf, 1,000,000 entries).
 */
function literal(bytes: Uint8Array): Int32Array {
  const words = new Int32Array(1 + Math.ceil(bytes.length / 4));
  words[0] = bytes.length;
  const padded = new Uint8Array(4 * (words.length - 1));
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  for (let i = 1; i < words.length; i++) words[i] = view.getInt32(4 * (i - 1), true);
  return words;
}
const text = (value: string): Int32Array => literal(ascii(value));
const L = {
  personalStart: text('{"actorAvatarUrl":'),
  actorName: text(',"actorName":'),
  city: text(',"city":'),
  countryCode: text(',"countryCode":'),
  data: text(',"data":'),
  description: text(',"description":'),
  ip: text(',"ip":'),
  oauthName: text(',"oauthName":'),
  region: text(',"region":'),
  targetName: text(',"targetName":'),
  userAgent: text(',"userAgent":'),
  leafStart: text('\u0000{"actor":{"id":'),
  tokenLast4: text(',"tokenLast4":'),
  tokenRole: text(',"tokenRole":'),
  actorType: text(',"type":'),
  category: text('},"category":'),
  hiddenTrue: text(',"hiddenByDefault":true,"id":'),
  hiddenFalse: text(',"hiddenByDefault":false,"id":'),
  oauthClientId: text(',"oauthClientId":'),
  occurredAt: text(',"occurredAt":"'),
  org: text('Z","org":'),
  personal: text(',"personal":"'),
  receivedAt: text('","receivedAt":"'),
  target: text('Z","target":'),
  targetId: text('{"id":'),
  targetType: text(',"type":'),
  type: text(',"type":'),
  end: text(`,"v":${LEAF_VERSION}}`),
  nul: text("null"),
  emptyObject: text("{}"),
};

/** Field i is bytes starts[i] … ends[i] (exclusive) of the line. */
const starts = new Int32Array(COLUMN_COUNT);
const ends = new Int32Array(COLUMN_COUNT);
/** Bit i set: field i holds a quote (written escaped). */
let quoted = 0;

/** The output of one line: written at `w` of `out`. */
let out = Buffer.allocUnsafe(64 * 1024);
let outView = new DataView(out.buffer, out.byteOffset, out.length);
let w = 0;

/** `put` writes whole words, up to 3 bytes past its text: room kept beyond every `ensure`. */
const SLACK = 8;

function ensure(extra: number): void {
  if (w + extra + SLACK <= out.length) return;
  const grown = Buffer.allocUnsafe(Math.max(2 * out.length, w + extra + SLACK));
  out.copy(grown, 0, 0, w);
  out = grown;
  outView = new DataView(out.buffer, out.byteOffset, out.length);
}

// Module variables are context slots to V8, not registers: the loops below copy them to locals.
/** A constant text (`literal`); the bytes past it that its last word wrote are overwritten next. */
function put(words: Int32Array): void {
  const view = outView;
  let p = w;
  for (let i = 1; i < words.length; i++) {
    view.setInt32(p, words[i] as number, true);
    p += 4;
  }
  w += words[0] as number;
}

/** A DataView of the line being read, for `putString`'s word copies. */
let lineBytes: Uint8Array | undefined;
let lineView: DataView<ArrayBufferLike> = outView;

function isNull(src: Uint8Array, i: number): boolean {
  return ends[i] === (starts[i] as number) + 2 && src[starts[i] as number] === BACKSLASH;
}

function isEmpty(src: Uint8Array, i: number): boolean {
  return ends[i] === starts[i] || isNull(src, i);
}

/** A field as a JSON string (its only character needing an escape here is the quote). */
function putString(src: Uint8Array, i: number): void {
  const s = starts[i] as number;
  const e = ends[i] as number;
  ensure(2 * (e - s) + 2);
  const o = out;
  let p = w;
  o[p++] = QUOTE;
  if (quoted & (1 << i)) {
    for (let k = s; k < e; k++) {
      const b = src[k] as number;
      if (b === QUOTE) o[p++] = BACKSLASH;
      o[p++] = b;
    }
  } else if (e - s > 256) {
    // Buffer#copy's own cost (its JavaScript checks, the native call) is more than a word loop
    // up to a few hundred bytes: with 48 here, user agents and avatar URLs took this way and the
    // byte path was 2–5% slower a line (bench lines, interleaved in one process).
    p += (src as Buffer).copy(o, p, s, e);
  } else {
    // A word at a time, never reading or writing past the field.
    const from = lineView;
    const to = outView;
    let k = s;
    for (; k + 4 <= e; k += 4, p += 4) to.setInt32(p, from.getInt32(k, true), true);
    for (; k < e; k++) o[p++] = src[k] as number;
  }
  o[p++] = QUOTE;
  w = p;
}

function putNullable(src: Uint8Array, i: number): void {
  if (isNull(src, i)) put(L.nul);
  else putString(src, i);
}

const DIGIT_0 = 0x30;
const isDigit = (b: number) => b >= DIGIT_0 && b <= DIGIT_0 + 9;

/**
 * A timestamptz's text (`YYYY-MM-DD HH:MM:SS[.f…]+00`, year 1000 or later) as the ISO text
 * `toAuditEntry` gives, without its final "Z"; false for any other text. The milliseconds are
 * the pg driver's `trunc(1000 * parseFloat(".f…"))`: parsing and division both round to the
 * nearest double, so `f / 10^digits` is the same number as the parsed fraction.
 */
function putTime(src: Uint8Array, i: number): boolean {
  const s = starts[i] as number;
  const e = ends[i] as number;
  const length = e - s;
  if (length < 22 || length > 29) return false;
  if (src[s] === DIGIT_0 || src[e - 3] !== 0x2b || src[e - 2] !== DIGIT_0 || src[e - 1] !== DIGIT_0)
    return false;
  for (let k = 0; k < 19; k++) {
    const b = src[s + k] as number;
    const expected = k === 4 || k === 7 ? 0x2d : k === 10 ? 0x20 : k === 13 || k === 16 ? 0x3a : 0;
    if (expected === 0 ? !isDigit(b) : b !== expected) return false;
  }
  let ms = 0;
  if (length > 22) {
    if (src[s + 19] !== 0x2e || length === 23) return false;
    let fraction = 0;
    let scale = 1;
    for (let k = s + 20; k < e - 3; k++) {
      const b = src[k] as number;
      if (!isDigit(b)) return false;
      fraction = fraction * 10 + (b - DIGIT_0);
      scale *= 10;
    }
    ms = Math.trunc(1000 * (fraction / scale));
  }
  ensure(24);
  for (let k = 0; k < 19; k++) out[w++] = k === 10 ? 0x54 : (src[s + k] as number);
  out[w++] = 0x2e;
  out[w++] = DIGIT_0 + Math.trunc(ms / 100);
  out[w++] = DIGIT_0 + (Math.trunc(ms / 10) % 10);
  out[w++] = DIGIT_0 + (ms % 10);
  return true;
}

// ---- data: jsonb's text to RFC 8785 ----

let src: Uint8Array = out;
let cur = 0;
let limit = 0;

function skipSpaces(): void {
  while (cur < limit && src[cur] === 0x20) cur++;
}

/** Past the string starting at `cur` (a quote); false if it holds a byte it cannot copy. */
function skipString(): boolean {
  const bytes = src;
  const end = limit;
  let k = cur + 1;
  while (k < end) {
    const b = bytes[k++] as number;
    if (b === QUOTE) {
      cur = k;
      return true;
    }
    if (b < 0x20 || b === BACKSLASH) return false;
  }
  return false;
}

const LITERALS = [ascii("true"), ascii("false"), ascii("null")];

/** Past one value, checking it as `putValue` would; false when it cannot be copied. */
function skipValue(depth: number): boolean {
  skipSpaces();
  if (cur >= limit) return false;
  const b = src[cur] as number;
  if (b === QUOTE) return skipString();
  if (b === 0x7b || b === 0x5b) {
    if (depth > 64) return false;
    const close = b === 0x7b ? 0x7d : 0x5d;
    cur++;
    skipSpaces();
    if (src[cur] === close) {
      cur++;
      return true;
    }
    for (;;) {
      if (b === 0x7b) {
        skipSpaces();
        if (src[cur] !== QUOTE || !skipString()) return false;
        skipSpaces();
        if (src[cur++] !== 0x3a) return false;
      }
      if (!skipValue(depth + 1)) return false;
      skipSpaces();
      const next = src[cur++];
      if (next === close) return true;
      if (next !== 0x2c) return false;
    }
  }
  if (b === 0x2d || isDigit(b)) {
    // Integers of up to 15 digits only: the same text as Number#toString. "-0" is not.
    const first = cur;
    if (b === 0x2d) cur++;
    if (src[cur] === DIGIT_0) {
      if (b === 0x2d) return false;
      cur++;
    } else {
      const digitsFrom = cur;
      while (cur < limit && isDigit(src[cur] as number)) cur++;
      if (cur === digitsFrom || cur - digitsFrom > 15) return false;
    }
    const after = src[cur];
    return (
      cur > first &&
      (cur === limit || after === 0x2c || after === 0x7d || after === 0x5d || after === 0x20)
    );
  }
  for (const literal of LITERALS) {
    if (b !== literal[0]) continue;
    for (let k = 0; k < literal.length; k++) if (src[cur + k] !== literal[k]) return false;
    cur += literal.length;
    return true;
  }
  return false;
}

/** Members of the objects being written: key start, key end, value start (per depth). */
const memberStack: Int32Array[] = [];

/** Compares two keys' bytes (ASCII: the same order as UTF-16 code units). */
function compareKeys(aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < n; k++) {
    const d = (src[aStart + k] as number) - (src[bStart + k] as number);
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/** Writes the value at `cur` canonically, moving `cur` past it; false: not on this path. */
function putValue(depth: number): boolean {
  skipSpaces();
  const b = src[cur] as number;
  if (b === 0x7b) return putObject(depth);
  if (b === 0x5b) {
    cur++;
    ensure(1);
    out[w++] = 0x5b;
    skipSpaces();
    if (src[cur] === 0x5d) {
      cur++;
      ensure(1);
      out[w++] = 0x5d;
      return true;
    }
    for (;;) {
      if (!putValue(depth + 1)) return false;
      skipSpaces();
      const next = src[cur++];
      ensure(1);
      if (next === 0x5d) {
        out[w++] = 0x5d;
        return true;
      }
      if (next !== 0x2c) return false;
      out[w++] = 0x2c;
    }
  }
  const from = cur;
  if (!skipValue(depth)) return false;
  ensure(cur - from);
  const o = out;
  const bytes = src;
  let p = w;
  for (let k = from; k < cur; k++) o[p++] = bytes[k] as number;
  w = p;
  return true;
}

function putObject(depth: number): boolean {
  if (depth > 64) return false;
  cur++;
  let members: Int32Array = memberStack[depth] ?? new Int32Array(48);
  memberStack[depth] = members;
  let count = 0;
  skipSpaces();
  if (src[cur] === 0x7d) {
    cur++;
  } else {
    for (;;) {
      skipSpaces();
      if (src[cur] !== QUOTE) return false;
      const keyStart = cur + 1;
      cur++;
      while (cur < limit && src[cur] !== QUOTE) {
        const k = src[cur] as number;
        if (k < 0x20 || k >= 0x80 || k === BACKSLASH) return false;
        cur++;
      }
      if (cur >= limit) return false;
      const keyEnd = cur++;
      skipSpaces();
      if (src[cur++] !== 0x3a) return false;
      skipSpaces();
      const valueStart = cur;
      if (!skipValue(depth + 1)) return false;
      if (3 * (count + 1) > members.length) {
        const grown = new Int32Array(2 * members.length);
        grown.set(members);
        members = grown;
        memberStack[depth] = members;
      }
      // Insertion by key: jsonb's members come nearly sorted.
      let at = count;
      while (at > 0) {
        const c = compareKeys(
          members[3 * (at - 1)] as number,
          members[3 * (at - 1) + 1] as number,
          keyStart,
          keyEnd,
        );
        if (c === 0) return false; // a repeated key: JSON.parse keeps the last one
        if (c < 0) break;
        at--;
      }
      members.copyWithin(3 * (at + 1), 3 * at, 3 * count);
      members[3 * at] = keyStart;
      members[3 * at + 1] = keyEnd;
      members[3 * at + 2] = valueStart;
      count++;
      skipSpaces();
      const next = src[cur++];
      if (next === 0x7d) break;
      if (next !== 0x2c) return false;
    }
  }
  const end = cur;
  ensure(1);
  out[w++] = 0x7b;
  for (let m = 0; m < count; m++) {
    const keyStart = members[3 * m] as number;
    const keyEnd = members[3 * m + 1] as number;
    ensure(keyEnd - keyStart + 4);
    if (m > 0) out[w++] = 0x2c;
    out[w++] = QUOTE;
    for (let k = keyStart; k < keyEnd; k++) out[w++] = src[k] as number;
    out[w++] = QUOTE;
    out[w++] = 0x3a;
    cur = members[3 * m + 2] as number;
    if (!putValue(depth + 1)) return false;
  }
  ensure(1);
  out[w++] = 0x7d;
  cur = end;
  return true;
}

/** `data`'s canonical text; false when the field is not for this path. */
function putData(line: Uint8Array, i: number): boolean {
  if (isNull(line, i)) {
    put(L.emptyObject);
    return true;
  }
  src = line;
  cur = starts[i] as number;
  limit = ends[i] as number;
  if (line[cur] !== 0x7b) return false;
  if (!putObject(0)) return false;
  skipSpaces();
  return cur === limit;
}

// ---- the salt ----

const BASE64 = new Int8Array(256).fill(-1);
for (const [i, c] of [
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
].entries()) {
  BASE64[c.charCodeAt(0)] = i;
}

/** Decodes the canonical base64 of 16 bytes (what `CANONICAL_SALT` accepts) at `out[at]`. */
function putSalt(line: Uint8Array, i: number, at: number): boolean {
  const s = starts[i] as number;
  if ((ends[i] as number) - s !== 24 || line[s + 22] !== 0x3d || line[s + 23] !== 0x3d) {
    return false;
  }
  let o = at;
  for (let k = 0; k < 21; k += 4) {
    const a = BASE64[line[s + k] as number] as number;
    const b = BASE64[line[s + k + 1] as number] as number;
    if (k === 20) {
      // The last two characters carry one byte: the second's low four bits must be zero.
      if (a < 0 || b < 0 || (b & 15) !== 0) return false;
      out[o++] = (a << 2) | (b >> 4);
      break;
    }
    const c = BASE64[line[s + k + 2] as number] as number;
    const d = BASE64[line[s + k + 3] as number] as number;
    if (a < 0 || b < 0 || c < 0 || d < 0) return false;
    out[o++] = (a << 2) | (b >> 4);
    out[o++] = ((b & 15) << 4) | (c >> 2);
    out[o++] = ((c & 3) << 6) | d;
  }
  return o - at === SALT_SIZE;
}

/** Fields that must not be NULL (id, type, category, description, actor type, id and name). */
const REQUIRED = Int32Array.of(1, 2, 3, 4, 8, 9, 10);

let orgJson: { orgId: string; words: Int32Array } | undefined;

/**
 * The leaf hash of the line at `line[start … end)` (no newline) into `target` at `targetAt`;
 * false when this path does not take the line (then use `entryLineLeafHash`). `line` must be
 * valid UTF-8 (check the chunk with `isUtf8`): its bytes are copied as they are.
 */
export function entryLineLeafHashInto(
  orgId: string,
  line: Buffer,
  start: number,
  end: number,
  target: Uint8Array,
  targetAt: number,
): boolean {
  if (line !== lineBytes) {
    lineBytes = line;
    lineView = new DataView(line.buffer, line.byteOffset, line.length);
  }
  // Fields, and the bytes that need an escape or another path.
  let field = 0;
  quoted = 0;
  starts[0] = start;
  const view = lineView;
  for (let k = start; k < end; ) {
    // Four bytes at a time while none is a tab, another control character, a quote or a
    // backslash (bit tricks: a byte below 0x20, a byte equal to 0x22 or 0x5c sets its top bit);
    // most of a line's words hold none.
    let stop = end;
    if (k + 4 <= end) {
      const x = view.getInt32(k, true);
      const q = x ^ 0x22222222;
      const s = x ^ 0x5c5c5c5c;
      if (
        ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) &
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
          // Only `\N`, a whole field.
          if (k !== starts[field] || line[k + 1] !== 0x4e || (k + 2 !== end && line[k + 2] !== TAB))
            return false;
          k++;
        }
      } else if (b === TAB) {
        ends[field] = k;
        if (++field === COLUMN_COUNT) return false;
        starts[field] = k + 1;
      } else if (b === QUOTE) {
        quoted |= 1 << field;
      } else if (b < 0x20) {
        return false;
      }
    }
  }
  if (field !== COLUMN_COUNT - 1) return false;
  ends[field] = end;
  if (!isNull(line, 26)) return false;
  // Required strings, and the boolean.
  for (let r = 0; r < REQUIRED.length; r++) if (isNull(line, REQUIRED[r] as number)) return false;
  const hiddenAt = starts[5] as number;
  if (ends[5] !== hiddenAt + 1) return false;
  const hidden = line[hiddenAt] === 0x74 ? true : line[hiddenAt] === 0x66 ? false : undefined;
  if (hidden === undefined) return false;
  const hasTarget = !isEmpty(line, 14) && !isEmpty(line, 15);
  const hasLocation = !isEmpty(line, 18) || !isEmpty(line, 19) || !isEmpty(line, 20);
  const hasOauth = !isEmpty(line, 22);

  // The personal digest's input: salt ‖ canonical JSON of the personal object.
  w = 0;
  ensure(SALT_SIZE + 2 * (end - start) + 256);
  if (!putSalt(line, 25, 0)) return false;
  w = SALT_SIZE;
  put(L.personalStart);
  putNullable(line, 11);
  put(L.actorName);
  putString(line, 10);
  put(L.city);
  if (hasLocation) putNullable(line, 20);
  else put(L.nul);
  put(L.countryCode);
  if (hasLocation) putNullable(line, 18);
  else put(L.nul);
  put(L.data);
  if (!putData(line, 24)) return false;
  ensure(256);
  put(L.description);
  putString(line, 4);
  put(L.ip);
  putNullable(line, 17);
  put(L.oauthName);
  if (hasOauth) putNullable(line, 23);
  else put(L.nul);
  ensure(64);
  put(L.region);
  if (hasLocation) putNullable(line, 19);
  else put(L.nul);
  put(L.targetName);
  if (hasTarget) putNullable(line, 16);
  else put(L.nul);
  put(L.userAgent);
  putNullable(line, 21);
  ensure(1);
  out[w++] = 0x7d;
  const digest = hash("sha256", out.subarray(0, w), "base64");

  // The leaf: 0x00 ‖ canonical JSON of the leaf object.
  if (orgJson?.orgId !== orgId) {
    orgJson = { orgId, words: literal(Buffer.from(JSON.stringify(orgId))) };
  }
  w = 0;
  ensure(2 * (end - start) + 512 + 4 * orgJson.words.length);
  put(L.leafStart);
  putString(line, 9);
  put(L.tokenLast4);
  putNullable(line, 13);
  put(L.tokenRole);
  putNullable(line, 12);
  put(L.actorType);
  putString(line, 8);
  put(L.category);
  putString(line, 3);
  put(hidden ? L.hiddenTrue : L.hiddenFalse);
  putString(line, 1);
  put(L.oauthClientId);
  if (hasOauth) putString(line, 22);
  else put(L.nul);
  put(L.occurredAt);
  if (!putTime(line, 6)) return false;
  put(L.org);
  put(orgJson.words);
  put(L.personal);
  for (let k = 0; k < digest.length; k++) out[w++] = digest.charCodeAt(k);
  put(L.receivedAt);
  if (!putTime(line, 7)) return false;
  put(L.target);
  if (hasTarget) {
    put(L.targetId);
    putString(line, 15);
    put(L.targetType);
    putString(line, 14);
    out[w++] = 0x7d;
  } else {
    put(L.nul);
  }
  put(L.type);
  putString(line, 2);
  put(L.end);
  const leaf = hash("sha256", out.subarray(0, w), "binary");
  for (let k = 0; k < 32; k++) target[targetAt + k] = leaf.charCodeAt(k);
  return true;
}
