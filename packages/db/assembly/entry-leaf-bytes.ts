// AssemblyScript, compiled to WebAssembly by `pnpm --filter @auditlog/db wasm:build` into
// src/entry-leaf-bytes-wasm.ts (a test holds that file to this source). `verify`'s and the tree
// builder's byte path (issue 14): for each COPY text line of a chunk (the layout of
// `entryLeafColumns`), the two inputs of its leaf's SHA-256s: salt ‖ canonical JSON of the
// personal object, and 0x00 ‖ canonical JSON of the leaf object with 44 bytes left for the
// personal digest's base64, which the caller hashes and fills in (SHA-256 stays in OpenSSL:
// WebAssembly has no SHA instructions, and OpenSSL uses the CPU's). It takes the lines the
// JavaScript byte path took: valid UTF-8 (the caller checks) with no COPY escape other than
// `\N`, no control character, no backslash inside `data`, only integers in `data`, plain ASCII
// keys in `data`. Any other line is marked not taken and the caller hashes it with the string
// path (`entryLineLeafHash`), which either gives its leaf or refuses it: this code never refuses
// a line itself.
//
// Why WebAssembly: the same rules in JavaScript cost the hashing threads ~4 µs a line (most of
// verify's CPU, BENCHMARKS.md); here the pass takes under 1 µs. And why not native code: the
// lines come from the database whose rows `verify` must not trust, and WebAssembly cannot
// touch memory outside its own, whatever a row holds.

const COLUMNS: i32 = 27;
const TAB: u32 = 9;
const NEWLINE: u32 = 10;
const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;
const DIGIT_0: u32 = 0x30;

/** Field i is bytes starts[i] … ends[i] (exclusive). */
const starts = memory.data(COLUMNS * 4);
const ends = memory.data(COLUMNS * 4);
/** Bit i set: field i holds a quote (written escaped). */
let quoted: u32 = 0;
/** The write cursor. */
let w: usize = 0;
/** The constant texts: (offset, length) pairs, in the caller's order (`LITERALS` there). */
let literals: usize = 0;
/** Members of the objects being written: key start, key end, value start. */
let memberTop: usize = 0;
let memberEnd: usize = 0;
/** The value being read in `data`. */
let cur: usize = 0;
let limit: usize = 0;

// The constant texts, by their place in the caller's list.
const PERSONAL_START = 0;
const ACTOR_NAME = 1;
const CITY = 2;
const COUNTRY_CODE = 3;
const DATA = 4;
const DESCRIPTION = 5;
const IP = 6;
const OAUTH_NAME = 7;
const REGION = 8;
const TARGET_NAME = 9;
const USER_AGENT = 10;
const LEAF_START = 11;
const TOKEN_LAST4 = 12;
const TOKEN_ROLE = 13;
const ACTOR_TYPE = 14;
const CATEGORY = 15;
const HIDDEN_TRUE = 16;
const HIDDEN_FALSE = 17;
const OAUTH_CLIENT_ID = 18;
const OCCURRED_AT = 19;
const ORG = 20;
const PERSONAL = 21;
const RECEIVED_AT = 22;
const TARGET = 23;
const TARGET_ID = 24;
const TARGET_TYPE = 25;
const TYPE = 26;
const END = 27;
const NULL = 28;
const EMPTY_OBJECT = 29;
const ORG_JSON = 30;

/** Where the caller may put its own data: past this module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

function fieldStart(i: i32): usize {
  return <usize>load<u32>(starts + ((<usize>i) << 2));
}

function fieldEnd(i: i32): usize {
  return <usize>load<u32>(ends + ((<usize>i) << 2));
}

/** n bytes, 8 at a time: reads and writes up to 7 bytes past (the caller keeps room for it). */
function copyBytes(to: usize, from: usize, n: usize): void {
  for (let k: usize = 0; k < n; k += 8) store<u64>(to + k, load<u64>(from + k));
}

function put(i: i32): void {
  const entry = literals + ((<usize>i) << 3);
  const n = <usize>load<u32>(entry, 4);
  copyBytes(w, <usize>load<u32>(entry), n);
  w += n;
}

/** Whether the row being written is a binary COPY row (else a text COPY line). */
let binaryRow = false;
/** A binary row's NULL fields, bit i for field i (a text line writes NULL as `\N`). */
let nulls: u32 = 0;

function isNull(i: i32): bool {
  if (binaryRow) return (nulls & (1 << i)) != 0;
  const s = fieldStart(i);
  return fieldEnd(i) == s + 2 && <u32>load<u8>(s) == BACKSLASH;
}

function isEmpty(i: i32): bool {
  return fieldEnd(i) == fieldStart(i) || isNull(i);
}

/** A field as a JSON string (its only character needing an escape here is the quote). */
function putString(i: i32): void {
  const s = fieldStart(i);
  const e = fieldEnd(i);
  let p = w;
  store<u8>(p++, QUOTE);
  if (quoted & (1 << i)) {
    for (let k = s; k < e; k++) {
      const b = <u32>load<u8>(k);
      if (b == QUOTE) store<u8>(p++, BACKSLASH);
      store<u8>(p++, b);
    }
  } else {
    copyBytes(p, s, e - s);
    p += e - s;
  }
  store<u8>(p++, QUOTE);
  w = p;
}

function putNullable(i: i32): void {
  if (isNull(i)) put(NULL);
  else putString(i);
}

function isDigit(b: u32): bool {
  return b - DIGIT_0 <= 9;
}

/**
 * A timestamptz's text (`YYYY-MM-DD HH:MM:SS[.f…]+00`, year 1000 or later) as the ISO text
 * without its final "Z"; false for any other text. The milliseconds are the pg driver's
 * `trunc(1000 * parseFloat(".f…"))`: `f / 10^digits` in doubles is the same number.
 */
function putTime(i: i32): bool {
  if (binaryRow) return putBinaryTime(i);
  const s = fieldStart(i);
  const e = fieldEnd(i);
  const length = e - s;
  if (length < 22 || length > 29) return false;
  if (
    <u32>load<u8>(s) == DIGIT_0 ||
    <u32>load<u8>(e - 3) != 0x2b ||
    <u32>load<u8>(e - 2) != DIGIT_0 ||
    <u32>load<u8>(e - 1) != DIGIT_0
  )
    return false;
  for (let k: usize = 0; k < 19; k++) {
    const b = <u32>load<u8>(s + k);
    const expected: u32 = k == 4 || k == 7 ? 0x2d : k == 10 ? 0x20 : k == 13 || k == 16 ? 0x3a : 0;
    if (expected == 0 ? !isDigit(b) : b != expected) return false;
  }
  let ms: u32 = 0;
  if (length > 22) {
    if (<u32>load<u8>(s + 19) != 0x2e || length == 23) return false;
    let fraction: f64 = 0;
    let scale: f64 = 1;
    for (let k = s + 20; k < e - 3; k++) {
      const b = <u32>load<u8>(k);
      if (!isDigit(b)) return false;
      fraction = fraction * 10 + <f64>(b - DIGIT_0);
      scale *= 10;
    }
    ms = <u32>Math.trunc(1000 * (fraction / scale));
  }
  const p = w;
  copyBytes(p, s, 19);
  store<u8>(p + 10, 0x54);
  store<u8>(p + 19, 0x2e);
  store<u8>(p + 20, DIGIT_0 + ms / 100);
  store<u8>(p + 21, DIGIT_0 + ((ms / 10) % 10));
  store<u8>(p + 22, DIGIT_0 + (ms % 10));
  w = p + 23;
  return true;
}

const MICROSECONDS_A_DAY: i64 = 86_400_000_000;
/** Days from 0000-03-01 to 2000-01-01, PostgreSQL's epoch of binary times. */
const POSTGRES_EPOCH_DAYS: i64 = 10_957 + 719_468;

/**
 * A binary timestamptz (microseconds since 2000-01-01 UTC) as `putTime` writes its text: the
 * same ISO text for years 1000 to 9999 (false for any other), and the same milliseconds: the
 * text's fraction f of d digits is this fraction / 10^(6 − d), so f / 10^d and this / 10^6 are
 * one number, rounded alike to a double.
 */
function putBinaryTime(i: i32): bool {
  const s = fieldStart(i);
  if (fieldEnd(i) - s != 8) return false;
  const time = <i64>bswap<u64>(load<u64>(s));
  let days = time / MICROSECONDS_A_DAY;
  let rest = time % MICROSECONDS_A_DAY;
  if (rest < 0) {
    rest += MICROSECONDS_A_DAY;
    days -= 1;
  }
  // The proleptic Gregorian date of a day number (H. Hinnant's civil_from_days).
  const z = days + POSTGRES_EPOCH_DAYS;
  const era = (z >= 0 ? z : z - 146_096) / 146_097;
  const dayOfEra = z - era * 146_097;
  const yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
  const dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
  const shifted = (5 * dayOfYear + 2) / 153;
  const day = <u32>(dayOfYear - (153 * shifted + 2) / 5 + 1);
  const month = <u32>(shifted < 10 ? shifted + 3 : shifted - 9);
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1000 || year > 9999) return false;
  const seconds = <u32>(rest / 1_000_000);
  const fraction = rest % 1_000_000;
  const ms: u32 = fraction == 0 ? 0 : <u32>Math.trunc(1000 * (<f64>fraction / 1_000_000));
  const p = w;
  const y = <u32>year;
  store<u8>(p, DIGIT_0 + y / 1000);
  store<u8>(p + 1, DIGIT_0 + ((y / 100) % 10));
  store<u8>(p + 2, DIGIT_0 + ((y / 10) % 10));
  store<u8>(p + 3, DIGIT_0 + (y % 10));
  store<u8>(p + 4, 0x2d);
  putTwoDigits(p + 5, month);
  store<u8>(p + 7, 0x2d);
  putTwoDigits(p + 8, day);
  store<u8>(p + 10, 0x54);
  putTwoDigits(p + 11, seconds / 3600);
  store<u8>(p + 13, 0x3a);
  putTwoDigits(p + 14, (seconds / 60) % 60);
  store<u8>(p + 16, 0x3a);
  putTwoDigits(p + 17, seconds % 60);
  store<u8>(p + 19, 0x2e);
  store<u8>(p + 20, DIGIT_0 + ms / 100);
  store<u8>(p + 21, DIGIT_0 + ((ms / 10) % 10));
  store<u8>(p + 22, DIGIT_0 + (ms % 10));
  w = p + 23;
  return true;
}

function putTwoDigits(at: usize, value: u32): void {
  store<u8>(at, DIGIT_0 + value / 10);
  store<u8>(at + 1, DIGIT_0 + (value % 10));
}

// ---- data: jsonb's text to RFC 8785 ----

function skipSpaces(): void {
  while (cur < limit && <u32>load<u8>(cur) == 0x20) cur++;
}

/** Past the string starting at `cur` (a quote); false if it holds a byte it cannot copy. */
function skipString(): bool {
  let k = cur + 1;
  while (k < limit) {
    const b = <u32>load<u8>(k++);
    if (b == QUOTE) {
      cur = k;
      return true;
    }
    if (b < 0x20 || b == BACKSLASH) return false;
  }
  return false;
}

/** Whether the bytes at `cur` are `text` (4 or 5 ASCII bytes in `word`, little-endian). */
function skipLiteral(word: u64, length: usize): bool {
  for (let k: usize = 0; k < length; k++) {
    if (<u64>load<u8>(cur + k) != ((word >> (k * 8)) & 0xff)) return false;
  }
  cur += length;
  return true;
}

/** Past one value, checking it as `putValue` would; false when it cannot be copied. */
function skipValue(depth: i32): bool {
  skipSpaces();
  if (cur >= limit) return false;
  const b = <u32>load<u8>(cur);
  if (b == QUOTE) return skipString();
  if (b == 0x7b || b == 0x5b) {
    if (depth > 64) return false;
    const close: u32 = b == 0x7b ? 0x7d : 0x5d;
    cur++;
    skipSpaces();
    if (<u32>load<u8>(cur) == close) {
      cur++;
      return true;
    }
    for (;;) {
      if (b == 0x7b) {
        skipSpaces();
        if (<u32>load<u8>(cur) != QUOTE || !skipString()) return false;
        skipSpaces();
        if (<u32>load<u8>(cur++) != 0x3a) return false;
      }
      if (!skipValue(depth + 1)) return false;
      skipSpaces();
      const next = <u32>load<u8>(cur++);
      if (next == close) return true;
      if (next != 0x2c) return false;
    }
  }
  if (b == 0x2d || isDigit(b)) {
    // Integers of up to 15 digits only: the same text as Number#toString. "-0" is not.
    const first = cur;
    if (b == 0x2d) cur++;
    if (<u32>load<u8>(cur) == DIGIT_0) {
      if (b == 0x2d) return false;
      cur++;
    } else {
      const digitsFrom = cur;
      while (cur < limit && isDigit(<u32>load<u8>(cur))) cur++;
      if (cur == digitsFrom || cur - digitsFrom > 15) return false;
    }
    if (cur == first) return false;
    if (cur == limit) return true;
    const after = <u32>load<u8>(cur);
    return after == 0x2c || after == 0x7d || after == 0x5d || after == 0x20;
  }
  if (b == 0x74) return skipLiteral(0x65757274, 4); // true
  if (b == 0x66) return skipLiteral(0x65736c6166, 5); // false
  if (b == 0x6e) return skipLiteral(0x6c6c756e, 4); // null
  return false;
}

/** Compares two keys' bytes (ASCII: the same order as UTF-16 code units). */
function compareKeys(aStart: usize, aEnd: usize, bStart: usize, bEnd: usize): i32 {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const n = aLength < bLength ? aLength : bLength;
  for (let k: usize = 0; k < n; k++) {
    const d = <i32>load<u8>(aStart + k) - <i32>load<u8>(bStart + k);
    if (d != 0) return d;
  }
  return <i32>aLength - <i32>bLength;
}

/** Writes the value at `cur` canonically, moving `cur` past it; false: not on this path. */
function putValue(depth: i32): bool {
  skipSpaces();
  const b = <u32>load<u8>(cur);
  if (b == 0x7b) return putObject(depth);
  if (b == 0x5b) {
    cur++;
    store<u8>(w++, 0x5b);
    skipSpaces();
    if (<u32>load<u8>(cur) == 0x5d) {
      cur++;
      store<u8>(w++, 0x5d);
      return true;
    }
    for (;;) {
      if (!putValue(depth + 1)) return false;
      skipSpaces();
      const next = <u32>load<u8>(cur++);
      if (next == 0x5d) {
        store<u8>(w++, 0x5d);
        return true;
      }
      if (next != 0x2c) return false;
      store<u8>(w++, 0x2c);
    }
  }
  const from = cur;
  if (!skipValue(depth)) return false;
  copyBytes(w, from, cur - from);
  w += cur - from;
  return true;
}

function putObject(depth: i32): bool {
  if (depth > 64) return false;
  cur++;
  const members = memberTop;
  let count: usize = 0;
  skipSpaces();
  if (<u32>load<u8>(cur) == 0x7d) {
    cur++;
  } else {
    for (;;) {
      skipSpaces();
      if (<u32>load<u8>(cur) != QUOTE) return false;
      const keyStart = cur + 1;
      cur++;
      while (cur < limit && <u32>load<u8>(cur) != QUOTE) {
        const k = <u32>load<u8>(cur);
        if (k < 0x20 || k >= 0x80 || k == BACKSLASH) return false;
        cur++;
      }
      if (cur >= limit) return false;
      const keyEnd = cur++;
      skipSpaces();
      if (<u32>load<u8>(cur++) != 0x3a) return false;
      skipSpaces();
      const valueStart = cur;
      if (!skipValue(depth + 1)) return false;
      if (members + 12 * (count + 1) > memberEnd) return false;
      // Insertion by key: jsonb's members come nearly sorted.
      let at = count;
      while (at > 0) {
        const previous = members + 12 * (at - 1);
        const c = compareKeys(
          <usize>load<u32>(previous),
          <usize>load<u32>(previous, 4),
          keyStart,
          keyEnd,
        );
        if (c == 0) return false; // a repeated key: JSON.parse keeps the last one
        if (c < 0) break;
        at--;
      }
      if (at < count) memory.copy(members + 12 * (at + 1), members + 12 * at, 12 * (count - at));
      const slot = members + 12 * at;
      store<u32>(slot, <u32>keyStart);
      store<u32>(slot, <u32>keyEnd, 4);
      store<u32>(slot, <u32>valueStart, 8);
      count++;
      skipSpaces();
      const next = <u32>load<u8>(cur++);
      if (next == 0x7d) break;
      if (next != 0x2c) return false;
    }
  }
  const end = cur;
  memberTop = members + 12 * count;
  store<u8>(w++, 0x7b);
  for (let m: usize = 0; m < count; m++) {
    const slot = members + 12 * m;
    const keyStart = <usize>load<u32>(slot);
    const keyEnd = <usize>load<u32>(slot, 4);
    if (m > 0) store<u8>(w++, 0x2c);
    store<u8>(w++, QUOTE);
    copyBytes(w, keyStart, keyEnd - keyStart);
    w += keyEnd - keyStart;
    store<u8>(w++, QUOTE);
    store<u8>(w++, 0x3a);
    cur = <usize>load<u32>(slot, 8);
    if (!putValue(depth + 1)) {
      memberTop = members;
      return false;
    }
  }
  store<u8>(w++, 0x7d);
  memberTop = members;
  cur = end;
  return true;
}

/** `data`'s canonical text; false when the field is not for this path. */
function putData(i: i32, membersStart: usize): bool {
  if (isNull(i)) {
    put(EMPTY_OBJECT);
    return true;
  }
  cur = fieldStart(i);
  limit = fieldEnd(i);
  memberTop = membersStart;
  if (<u32>load<u8>(cur) != 0x7b) return false;
  if (!putObject(0)) return false;
  skipSpaces();
  return cur == limit;
}

// ---- the salt ----

/** A base64 character's value, or -1. */
function base64Value(c: u32): i32 {
  if (c - 0x41 < 26) return <i32>(c - 0x41);
  if (c - 0x61 < 26) return <i32>(c - 0x61 + 26);
  if (c - 0x30 < 10) return <i32>(c - 0x30 + 52);
  if (c == 0x2b) return 62;
  if (c == 0x2f) return 63;
  return -1;
}

/** Decodes the canonical base64 of 16 bytes at `w` (a binary row's salt is the 16 bytes). */
function putSalt(i: i32): bool {
  const s = fieldStart(i);
  if (binaryRow) {
    if (fieldEnd(i) - s != 16 || isNull(i)) return false;
    copyBytes(w, s, 16);
    w += 16;
    return true;
  }
  if (fieldEnd(i) - s != 24 || <u32>load<u8>(s + 22) != 0x3d || <u32>load<u8>(s + 23) != 0x3d) {
    return false;
  }
  let o = w;
  for (let k: usize = 0; k < 21; k += 4) {
    const a = base64Value(load<u8>(s + k));
    const b = base64Value(load<u8>(s + k + 1));
    if (k == 20) {
      // The last two characters carry one byte: the second's low four bits must be zero.
      if (a < 0 || b < 0 || (b & 15) != 0) return false;
      store<u8>(o++, (a << 2) | (b >> 4));
      break;
    }
    const c = base64Value(load<u8>(s + k + 2));
    const d = base64Value(load<u8>(s + k + 3));
    if (a < 0 || b < 0 || c < 0 || d < 0) return false;
    store<u8>(o++, (a << 2) | (b >> 4));
    store<u8>(o++, ((b & 15) << 4) | (c >> 2));
    store<u8>(o++, ((c & 3) << 6) | d);
  }
  w = o;
  return true;
}

// ---- a line ----

/**
 * Splits the line at `start` into fields, noting quotes, and returns where it ends (its newline,
 * or `inputEnd`). `lineTaken` is false when the line is not for this path: a COPY escape other
 * than a whole-field `\N`, a control character, not 27 fields.
 */
let lineTaken = false;
function splitLine(start: usize, inputEnd: usize): usize {
  let field = 0;
  let taken = true;
  quoted = 0;
  store<u32>(starts, <u32>start);
  const controlBelow = i8x16.splat(0x20);
  const quote = i8x16.splat(<i8>QUOTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  for (let k = start; k < inputEnd; k += 16) {
    const x = v128.load(k);
    let mask = i8x16.bitmask(
      v128.or(v128.or(i8x16.lt_u(x, controlBelow), i8x16.eq(x, quote)), i8x16.eq(x, backslash)),
    );
    if (inputEnd - k < 16) mask &= (1 << (<i32>(inputEnd - k))) - 1;
    while (mask != 0) {
      const at = k + <usize>ctz(mask);
      mask &= mask - 1;
      const b = <u32>load<u8>(at);
      if (b == NEWLINE) {
        lineTaken = taken && field == COLUMNS - 1;
        if (field < COLUMNS) store<u32>(ends + ((<usize>field) << 2), <u32>at);
        return at;
      }
      if (!taken) continue;
      if (b == TAB) {
        store<u32>(ends + ((<usize>field) << 2), <u32>at);
        if (++field == COLUMNS) taken = false;
        else store<u32>(starts + ((<usize>field) << 2), <u32>(at + 1));
      } else if (b == QUOTE) {
        quoted |= 1 << field;
      } else if (b == BACKSLASH) {
        // Only `\N`, a whole field.
        const after = at + 2;
        if (
          at != fieldStart(field) ||
          at + 1 >= inputEnd ||
          <u32>load<u8>(at + 1) != 0x4e ||
          (after < inputEnd && <u32>load<u8>(after) != TAB && <u32>load<u8>(after) != NEWLINE)
        )
          taken = false;
      } else {
        taken = false;
      }
    }
  }
  lineTaken = taken && field == COLUMNS - 1;
  if (field < COLUMNS) store<u32>(ends + ((<usize>field) << 2), <u32>inputEnd);
  return inputEnd;
}

/** Fields that must not be NULL (id, type, category, description, actor type, id and name). */
function requiredPresent(): bool {
  return !(
    isNull(1) ||
    isNull(2) ||
    isNull(3) ||
    isNull(4) ||
    isNull(8) ||
    isNull(9) ||
    isNull(10)
  );
}

/**
 * Writes the line's two inputs at `w`; per line 8 u32 at `meta`: start, end, taken (1 or 0),
 * personal input offset and length, leaf input offset and length, where the digest goes.
 */
function writeLine(members: usize): bool {
  if (!isNull(26)) return false;
  if (!requiredPresent()) return false;
  const hiddenAt = fieldStart(5);
  if (fieldEnd(5) != hiddenAt + 1 || isNull(5)) return false;
  const hiddenByte = <u32>load<u8>(hiddenAt);
  // Text "t" or "f"; binary 1 or 0.
  if (binaryRow ? hiddenByte > 1 : hiddenByte != 0x74 && hiddenByte != 0x66) return false;
  hidden = hiddenByte == 0x74 || hiddenByte == 1;
  const hasTarget = !isEmpty(14) && !isEmpty(15);
  const hasLocation = !isEmpty(18) || !isEmpty(19) || !isEmpty(20);
  const hasOauth = !isEmpty(22);

  if (!putSalt(25)) return false;
  put(PERSONAL_START);
  putNullable(11);
  put(ACTOR_NAME);
  putString(10);
  put(CITY);
  if (hasLocation) putNullable(20);
  else put(NULL);
  put(COUNTRY_CODE);
  if (hasLocation) putNullable(18);
  else put(NULL);
  put(DATA);
  if (!putData(24, members)) return false;
  put(DESCRIPTION);
  putString(4);
  put(IP);
  putNullable(17);
  put(OAUTH_NAME);
  if (hasOauth) putNullable(23);
  else put(NULL);
  put(REGION);
  if (hasLocation) putNullable(19);
  else put(NULL);
  put(TARGET_NAME);
  if (hasTarget) putNullable(16);
  else put(NULL);
  put(USER_AGENT);
  putNullable(21);
  store<u8>(w++, 0x7d);
  return true;
}

let personalEnd: usize = 0;
let digestAt: usize = 0;
let hidden = false;

function writeLeaf(): bool {
  put(LEAF_START);
  putString(9);
  put(TOKEN_LAST4);
  putNullable(13);
  put(TOKEN_ROLE);
  putNullable(12);
  put(ACTOR_TYPE);
  putString(8);
  put(CATEGORY);
  putString(3);
  put(hidden ? HIDDEN_TRUE : HIDDEN_FALSE);
  putString(1);
  put(OAUTH_CLIENT_ID);
  if (!isEmpty(22)) putString(22);
  else put(NULL);
  put(OCCURRED_AT);
  if (!putTime(6)) return false;
  put(ORG);
  put(ORG_JSON);
  put(PERSONAL);
  digestAt = w;
  w += 44;
  put(RECEIVED_AT);
  if (!putTime(7)) return false;
  put(TARGET);
  if (!isEmpty(14) && !isEmpty(15)) {
    put(TARGET_ID);
    putString(15);
    put(TARGET_TYPE);
    putString(14);
    store<u8>(w++, 0x7d);
  } else {
    put(NULL);
  }
  put(TYPE);
  putString(2);
  put(END);
  return true;
}

/**
 * Every line of `input … inputEnd` (each ending with a newline, the last one may not): its seq
 * (f64, NaN when it does not start with digits and a tab) at `seqs`, 8 u32 at `meta` (start,
 * end, taken, personal input offset and length, leaf input offset and length, digest offset),
 * the inputs written from `out`. The caller gives each line `room` bytes of `out` beyond twice
 * its length (fields at most double when escaped) and `members` 12 bytes a key. Returns the
 * number of lines, or -1 when there are more than `maxLines`.
 */
export function writeInputs(
  input: usize,
  inputEnd: usize,
  literalTable: usize,
  seqs: usize,
  meta: usize,
  out: usize,
  members: usize,
  membersEnd: usize,
  maxLines: i32,
): i32 {
  begin(literalTable, membersEnd, out, false);
  let line: i32 = 0;
  let start = input;
  while (start < inputEnd) {
    // More lines than the caller made room for: it is told, and takes none of them.
    if (line == maxLines) return -1;
    // The seq is read apart from the rest, so a row whose other fields cannot be parsed still
    // has its place.
    let seq: f64 = 0;
    let k = start;
    for (; k < inputEnd; k++) {
      const b = <u32>load<u8>(k);
      if (b == TAB || b == NEWLINE) break;
      if (!isDigit(b)) {
        seq = NaN;
        break;
      }
      seq = seq * 10 + <f64>(b - DIGIT_0);
    }
    if (k == start) seq = NaN;
    store<f64>(seqs + ((<usize>line) << 3), seq);
    const end = splitLine(start, inputEnd);
    writeRow(meta + ((<usize>line) << 5), start - input, end - input, members);
    line++;
    start = end + 1;
  }
  return line;
}

/** A call's settings: the constant texts, the room for `data`'s members, the output, the format. */
function begin(literalTable: usize, membersEnd: usize, out: usize, binary: bool): void {
  literals = literalTable;
  memberEnd = membersEnd;
  w = out;
  binaryRow = binary;
}

/** The two inputs of the row just split, and its 8 u32 of `meta` at `m`. */
function writeRow(m: usize, start: usize, end: usize, members: usize): void {
  store<u32>(m, <u32>start);
  store<u32>(m, <u32>end, 4);
  let taken = lineTaken;
  const lineOut = w;
  if (taken) {
    taken = writeLine(members);
    personalEnd = w;
    if (taken) taken = writeLeaf();
  }
  if (taken) {
    store<u32>(m, 1, 8);
    store<u32>(m, <u32>lineOut, 12);
    store<u32>(m, <u32>(personalEnd - lineOut), 16);
    store<u32>(m, <u32>personalEnd, 20);
    store<u32>(m, <u32>(w - personalEnd), 24);
    store<u32>(m, <u32>digestAt, 28);
  } else {
    store<u32>(m, 0, 8);
    w = lineOut;
  }
}

// ---- binary COPY rows ----

/** Fields of a binary row written as JSON strings: 1–4 and 8–23 (`entryLeafBinaryColumns`). */
const STRING_FIELDS: u32 = 0xffff1e;
const DATA_FIELD = 24;
const TILE_WIDTH: i64 = 256;

/** Whether `s … e` is well-formed UTF-8 (what Buffer's isUtf8 accepts). */
function isUtf8(s: usize, e: usize): bool {
  let k = s;
  while (k < e) {
    const b0 = <u32>load<u8>(k);
    if (b0 < 0x80) {
      k++;
      continue;
    }
    let size: usize = 0;
    let low: u32 = 0x80;
    let high: u32 = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) size = 2;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      size = 3;
      if (b0 == 0xe0) low = 0xa0;
      if (b0 == 0xed) high = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      size = 4;
      if (b0 == 0xf0) low = 0x90;
      if (b0 == 0xf4) high = 0x8f;
    } else return false;
    if (e - k < size) return false;
    const b1 = <u32>load<u8>(k + 1);
    if (b1 < low || b1 > high) return false;
    for (let c: usize = 2; c < size; c++) {
      if ((<u32>load<u8>(k + c) & 0xc0) != 0x80) return false;
    }
    k += size;
  }
  return true;
}

/**
 * A binary row's text field: valid UTF-8, and as a JSON string (`json`) no control character
 * or backslash, a quote noted in `quoted`; false when the row is not for this path.
 */
function scanText(i: i32, json: bool): bool {
  const s = fieldStart(i);
  const e = fieldEnd(i);
  const controlBelow = i8x16.splat(0x20);
  const quote = i8x16.splat(<i8>QUOTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  let wide = false;
  for (let k = s; k < e; k += 16) {
    const x = v128.load(k);
    let special = i8x16.bitmask(
      v128.or(v128.or(i8x16.lt_u(x, controlBelow), i8x16.eq(x, quote)), i8x16.eq(x, backslash)),
    );
    let high = i8x16.bitmask(x);
    if (e - k < 16) {
      const keep = (1 << (<i32>(e - k))) - 1;
      special &= keep;
      high &= keep;
    }
    if (high != 0) wide = true;
    if (!json) continue;
    while (special != 0) {
      const at = k + <usize>ctz(special);
      special &= special - 1;
      if (<u32>load<u8>(at) != QUOTE) return false;
      quoted |= 1 << i;
    }
  }
  return !wide || isUtf8(s, e);
}

let rowEnd: usize = 0;

/**
 * Splits the binary COPY row at `start` (a field count, then each field's length and bytes; −1
 * for NULL): 1 when split (it ends at `rowEnd`), 0 when it is not whole in the input, −1 at
 * the trailer. `lineTaken` is false when the row is not for this path.
 */
function splitRow(start: usize, inputEnd: usize): i32 {
  if (inputEnd - start < 2) return 0;
  const count = <i32>(<i16>bswap<u16>(load<u16>(start)));
  if (count == -1) return -1;
  let p = start + 2;
  nulls = 0;
  quoted = 0;
  let taken = count == COLUMNS;
  for (let f = 0; f < count; f++) {
    if (inputEnd - p < 4) return 0;
    const length = <i32>bswap<u32>(load<u32>(p));
    p += 4;
    if (length < 0) {
      if (f < COLUMNS) {
        store<u32>(starts + ((<usize>f) << 2), <u32>p);
        store<u32>(ends + ((<usize>f) << 2), <u32>p);
        nulls |= 1 << f;
      }
      continue;
    }
    if (<usize>length > inputEnd - p) return 0;
    if (f < COLUMNS) {
      store<u32>(starts + ((<usize>f) << 2), <u32>p);
      store<u32>(ends + ((<usize>f) << 2), <u32>(p + length));
    }
    p += length;
  }
  rowEnd = p;
  if (taken) {
    for (let f = 1; f < DATA_FIELD && taken; f++) {
      if ((STRING_FIELDS >> f) & 1 && !isNull(f)) taken = scanText(f, true);
    }
  }
  if (taken && !isNull(DATA_FIELD)) {
    // jsonb's binary form: a version byte (1), then its text.
    const s = fieldStart(DATA_FIELD);
    if (fieldEnd(DATA_FIELD) == s || <u32>load<u8>(s) != 1) taken = false;
    else {
      store<u32>(starts + ((<usize>DATA_FIELD) << 2), <u32>(s + 1));
      taken = scanText(DATA_FIELD, false);
    }
  }
  lineTaken = taken;
  return 1;
}

/** The seq of the row at `start` when it is whole enough to read, else −1. */
function rowSeq(start: usize, inputEnd: usize): i64 {
  if (inputEnd - start < 14) return -1;
  if (<i32>(<i16>bswap<u16>(load<u16>(start))) != COLUMNS) return -1;
  if (<i32>bswap<u32>(load<u32>(start + 2)) != 8) return -1;
  return <i64>bswap<u64>(load<u64>(start + 6));
}

let consumed: usize = 0;
let trailer = false;

/** How many bytes of its input the last `writeBinaryInputs` used. */
export function consumedBytes(): usize {
  return consumed;
}

/** Whether the last `writeBinaryInputs` reached the COPY's trailer. */
export function reachedTrailer(): bool {
  return trailer;
}

/**
 * Where a chunk of `writeBinaryInputs` ends: the end of its last whole row (the trailer
 * included), or, unless `final`, rather the start of its last row that starts a tile (seq − 1 a
 * multiple of 256) after its first, so the chunk holds whole tiles and the rest comes again with
 * the next bytes, as `lineChunks` cuts text lines. Only the rows' lengths are read here.
 */
function chunkEnd(input: usize, inputEnd: usize, maxRows: i32, final: bool): usize {
  let at = input;
  let whole = input;
  let tileStart: usize = 0;
  for (let rows = 0; rows < maxRows && inputEnd - at >= 2; rows++) {
    const count = <i32>(<i16>bswap<u16>(load<u16>(at)));
    if (count == -1) {
      whole = at + 2;
      break;
    }
    if (at > input) {
      const seq = rowSeq(at, inputEnd);
      if (seq > 0 && (seq - 1) % TILE_WIDTH == 0) tileStart = at;
    }
    let p = at + 2;
    let complete = true;
    for (let f = 0; f < count; f++) {
      if (inputEnd - p < 4) {
        complete = false;
        break;
      }
      const length = <i32>bswap<u32>(load<u32>(p));
      p += 4;
      if (length < 0) continue;
      if (<usize>length > inputEnd - p) {
        complete = false;
        break;
      }
      p += length;
    }
    if (!complete) break;
    at = p;
    whole = p;
  }
  return final || tileStart == 0 ? whole : tileStart;
}

/**
 * `writeInputs` for binary COPY rows (`entryLeafBinaryColumns`, the header already skipped):
 * the rows whole in `input … inputEnd`, up to `maxRows`, cut as `chunkEnd` says unless
 * `final`. A row's seq is its first field. Returns the number of rows; `consumedBytes` and
 * `reachedTrailer` tell where it stopped.
 */
export function writeBinaryInputs(
  input: usize,
  inputEnd: usize,
  literalTable: usize,
  seqs: usize,
  meta: usize,
  out: usize,
  members: usize,
  membersEnd: usize,
  maxRows: i32,
  final: bool,
): i32 {
  begin(literalTable, membersEnd, out, true);
  trailer = false;
  let row: i32 = 0;
  let start = input;
  const end = chunkEnd(input, inputEnd, maxRows, final);
  while (start < end) {
    const split = splitRow(start, end);
    if (split == 0) break;
    if (split == -1) {
      trailer = true;
      start += 2;
      break;
    }
    const seqAt = fieldStart(0);
    const seq: f64 =
      isNull(0) || fieldEnd(0) - seqAt != 8 ? NaN : <f64>(<i64>bswap<u64>(load<u64>(seqAt)));
    store<f64>(seqs + ((<usize>row) << 3), seq);
    writeRow(meta + ((<usize>row) << 5), start - input, rowEnd - input, members);
    row++;
    start = rowEnd;
  }
  consumed = start - input;
  binaryRow = false;
  return row;
}
