// What `verify` (issue 14) reads of each entry: the columns of its leaf as PostgreSQL's COPY text
// (`openLogSnapshot`), parsed here into the very values `toAuditEntry` gives the API, the feed
// and the tree builder. COPY costs PostgreSQL a fraction of rendering JSON, and the pg driver's
// per-row parsing would run on verify's main thread; these lines are cut into chunks and parsed
// and hashed in worker threads, which import this module alone (`@auditlog/db/entry-lines`):
// no driver, no Prisma.

import { hash } from "node:crypto";
import {
  assertWellFormedJson,
  canonicalJson,
  entryLeafHash,
  LEAF_VERSION,
  type LeafEntry,
  quoteJson,
  SALT_SIZE,
} from "@auditlog/tlog";

/** The fields of an entry its leaf commits to. */
export type EntryLeafFields = LeafEntry;

/** The columns, in the order `parseEntryLine` reads them. */
export const entryLeafColumns = `seq, id, type, category, description, hidden_by_default,
  occurred_at, received_at, actor_type, actor_id, actor_name, actor_avatar_url, actor_token_role,
  actor_token_last4, target_type, target_id, target_name, host(ip), country_code, region, city,
  user_agent, oauth_client_id, oauth_name, data, encode(commit_salt, 'base64'),
  encode(personal_digest, 'base64')`;

// Column 27 (index 26): the personal digest an erased entry keeps (issue 16), else NULL.
const COLUMN_COUNT = 27;

/**
 * The same columns for a binary COPY (`copyEntryRows`): the salt and the kept digest as their
 * bytes. PostgreSQL then writes no text for the times, the salt and the digest, and escapes
 * nothing: about a third of its CPU for a text COPY of these rows (BENCHMARKS.md).
 */
export const entryLeafBinaryColumns = entryLeafColumns
  .replace("encode(commit_salt, 'base64')", "commit_salt")
  .replace("encode(personal_digest, 'base64')", "personal_digest");

const COPY_SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/**
 * The length of a binary COPY's header at the start of `bytes` (signature, flags, extension),
 * undefined while `bytes` does not hold all of it; throws when it is not one.
 */
export function binaryCopyHeaderLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 19) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buffer.subarray(0, 11).equals(COPY_SIGNATURE)) throw new Error("not a binary COPY");
  const length = 19 + buffer.readUInt32BE(15);
  return bytes.length < length ? undefined : length;
}

/** A text field as COPY's text format writes it: the escapes `unescapeField` reads. */
function copyEscape(text: string): string {
  return text.replace(/[\\\n\r\t]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t",
  );
}

/** A timestamptz's text as PostgreSQL writes it (TimeZone UTC, DateStyle ISO). */
function timestampText(time: bigint): string {
  if (time === 0x7fffffffffffffffn) return "infinity";
  if (time === -0x8000000000000000n) return "-infinity";
  const day = 86_400_000_000n;
  let days = time / day;
  let rest = time % day;
  if (rest < 0n) {
    rest += day;
    days -= 1n;
  }
  // The proleptic Gregorian date (H. Hinnant's civil_from_days), as PostgreSQL's j2date.
  const z = Number(days) + 10_957 + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1_460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153);
  const date = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const seconds = Number(rest / 1_000_000n);
  const fraction = Number(rest % 1_000_000n);
  const two = (n: number) => String(n).padStart(2, "0");
  let text =
    `${String(year > 0 ? year : 1 - year).padStart(4, "0")}-${two(month)}-${two(date)} ` +
    `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
  if (fraction > 0) text += `.${String(fraction).padStart(6, "0").replace(/0+$/, "")}`;
  return `${text}+00${year > 0 ? "" : " BC"}`;
}

/** `encode(bytes, 'base64')`: PostgreSQL breaks its base64 with a newline every 76 characters. */
function postgresBase64(bytes: Buffer): string {
  const text = bytes.toString("base64");
  const whole = 4 * Math.floor(bytes.length / 3);
  let out = "";
  for (let at = 0; at < whole; at += 76) {
    const piece = text.slice(at, Math.min(at + 76, whole));
    out += piece.length === 76 ? `${piece}\n` : piece;
  }
  return out + text.slice(whole);
}

/**
 * A binary COPY row of `entryLeafBinaryColumns` (`row[start … end)`) as the text COPY line of
 * `entryLeafColumns` PostgreSQL would have written for it, for `entryLineLeafHash`: the rows
 * the byte path does not take (escapes, an erased entry, a float in `data` …) are few.
 */
export function entryRowCopyLine(row: Uint8Array, start: number, end: number): string {
  const bytes = Buffer.from(row.buffer, row.byteOffset + start, end - start);
  const count = bytes.readInt16BE(0);
  const fields: string[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    const length = bytes.readInt32BE(at);
    at += 4;
    if (length < 0) {
      fields.push("\\N");
      continue;
    }
    const value = bytes.subarray(at, at + length);
    at += length;
    if (i === 0 && length === 8) fields.push(value.readBigInt64BE(0).toString());
    else if (i === 5 && length === 1) fields.push(value[0] ? "t" : "f");
    else if ((i === 6 || i === 7) && length === 8)
      fields.push(timestampText(value.readBigInt64BE(0)));
    // jsonb: a version byte (1), then its text; any other version is nothing a leaf can hold.
    else if (i === 24) fields.push(value[0] === 1 ? copyEscape(value.toString("utf8", 1)) : "{");
    else if (i === 25 || i === 26) fields.push(copyEscape(postgresBase64(value)));
    else fields.push(copyEscape(value.toString("utf8")));
  }
  return fields.join("\t");
}

/** COPY text format: `\N` is NULL, and a backslash escapes itself and control characters. */
function unescapeField(field: string): string | null {
  if (field === "\\N") return null;
  if (!field.includes("\\")) return field;
  return field.replace(/\\(.)/g, (_, c: string) => {
    switch (c) {
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "v":
        return "\v";
      default:
        return c;
    }
  });
}

/**
 * A timestamptz's text (session TimeZone UTC, DateStyle ISO) as `toAuditEntry` writes it: the pg
 * driver (postgres-date) builds a Date with `1000 * parseFloat(fraction)` milliseconds, which
 * Date truncates; the same arithmetic here gives the same text, microseconds and all.
 */
const TIMESTAMP = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?\+00$/;
function slowIsoTime(text: string, column: string): string {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new TypeError(`${column} is not a time`);
  const ms = m[7] ? 1000 * Number.parseFloat(m[7]) : 0;
  const year = Number(m[1]);
  const date = new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms),
  );
  if (year < 100) date.setUTCFullYear(year);
  return date.toISOString();
}

// The common case without Date: a four-digit year from 1000. The milliseconds come from the
// driver's own arithmetic (Date.UTC truncates a fractional millisecond), worked out once for
// fractions of up to three digits and on the spot for four to six (PostgreSQL's microseconds).
const FAST_TIME = /^[1-9]\d{3}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00$/;
const milliseconds = new Map<string, string>([["", "000"]]);
for (let digits = 1; digits <= 3; digits++) {
  for (let n = 0; n < 10 ** digits; n++) {
    const fraction = `.${String(n).padStart(digits, "0")}`;
    const ms = Math.trunc(1000 * Number.parseFloat(fraction));
    milliseconds.set(fraction, String(ms).padStart(3, "0"));
  }
}
function isoTime(text: string | null | undefined, column: string): string {
  if (typeof text !== "string") throw new TypeError(`${column} is not a time`);
  if (!FAST_TIME.test(text)) return slowIsoTime(text, column);
  const fraction = text.slice(19, -3);
  const ms =
    milliseconds.get(fraction) ??
    String(Math.trunc(1000 * Number.parseFloat(fraction))).padStart(3, "0");
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${ms}Z`;
}

/** One COPY text line (no newline) as its seq and the entry fields the leaf commits to. */
export function parseEntryLine(line: string): { seq: number; entry: EntryLeafFields } {
  const raw = line.split("\t");
  if (raw.length !== COLUMN_COUNT) throw new TypeError(`a row has ${raw.length} columns`);
  const f = raw.map(unescapeField);
  const [seqText, id, type, category, description, hidden] = f;
  const [actorType, actorId, actorName, avatarUrl, tokenRole, tokenLast4] = f.slice(8, 14);
  const [targetType, targetId, targetName, ip, countryCode, region, city] = f.slice(14, 21);
  const [userAgent, oauthClientId, oauthName, data, salt, keptDigest] = f.slice(21, 27);
  // Exactly toAuditEntry's choices: an empty string counts as absent where it tests truthiness.
  const entry = {
    id,
    type,
    category,
    description,
    hiddenByDefault: hidden === "t" ? true : hidden === "f" ? false : hidden,
    occurredAt: isoTime(f[6], "occurred_at"),
    receivedAt: isoTime(f[7], "received_at"),
    actor: {
      type: actorType,
      id: actorId,
      name: actorName,
      avatarUrl,
      tokenRole,
      tokenLast4,
    },
    target: targetType && targetId ? { type: targetType, id: targetId, name: targetName } : null,
    ip,
    location: countryCode || region || city ? { countryCode, region, city } : null,
    userAgent,
    oauth: oauthClientId ? { clientId: oauthClientId, name: oauthName } : null,
    data: data === null || data === undefined ? {} : JSON.parse(data),
    // An erased entry (issue 16) keeps its personal digest, and no salt.
    commitment:
      typeof keptDigest === "string"
        ? { personal: keptDigest, ...(salt === null ? {} : { salt }) }
        : { salt },
    // A NULL where the API has a string is passed on as it is: the leaf refuses it.
  } as unknown as EntryLeafFields;
  return { seq: Number(seqText), entry };
}

// The leaf hash of a COPY line written directly from its fields: the same bytes as
// `entryLeafHash(orgId, parseEntryLine(line).entry)` (a property test holds them equal, and
// equally refused), without the entry object, its nested parts and the checks on values
// this parser only makes as strings or null. Most of `verify`'s time is this, once per entry.

function required(value: string | null | undefined, field: string): string {
  if (typeof value !== "string") throw new TypeError(`${field} must be a string`);
  return quoteJson(value);
}
function nullable(value: string | null | undefined): string {
  return typeof value === "string" ? quoteJson(value) : "null";
}

const CANONICAL_SALT = /^[A-Za-z0-9+/]{21}[AQgw]==$/;
/** Salt, then the UTF-8 of a text: grown when a text needs more. */
let scratch = Buffer.allocUnsafe(64 * 1024);
function scratchFor(length: number): Buffer {
  if (scratch.length < length) scratch = Buffer.allocUnsafe(Math.max(length, 2 * scratch.length));
  return scratch;
}
let quotedOrg: { orgId: string; json: string } | undefined;

/** SHA-256(0x00 ‖ leaf bytes) of one COPY text line (no newline); throws where the leaf would. */
export function entryLineLeafHash(orgId: string, line: string): Buffer {
  if (!line.endsWith("\t\\N")) return erasedEntryLineLeafHash(orgId, line);
  const f: (string | null)[] = line.split("\t");
  if (f.length !== COLUMN_COUNT) throw new TypeError(`a row has ${f.length} columns`);
  if (line.includes("\\"))
    for (let i = 0; i < COLUMN_COUNT; i++) f[i] = unescapeField(f[i] as string);
  // Exactly toAuditEntry's choices: an empty string counts as absent where it tests truthiness.
  const hasTarget = Boolean(f[14] && f[15]);
  const hasLocation = Boolean(f[18] || f[19] || f[20]);
  const hasOauth = Boolean(f[22]);
  const dataText = f[24];
  const data: unknown = dataText === null || dataText === undefined ? {} : JSON.parse(dataText);
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new TypeError("data must be an object");
  }
  const personal =
    `{"actorAvatarUrl":${nullable(f[11])}` +
    `,"actorName":${required(f[10], "actor.name")}` +
    `,"city":${hasLocation ? nullable(f[20]) : "null"}` +
    `,"countryCode":${hasLocation ? nullable(f[18]) : "null"}` +
    `,"data":${canonicalJson(data)}` +
    `,"description":${required(f[4], "description")}` +
    `,"ip":${nullable(f[17])}` +
    `,"oauthName":${hasOauth ? nullable(f[23]) : "null"}` +
    `,"region":${hasLocation ? nullable(f[19]) : "null"}` +
    `,"targetName":${hasTarget ? nullable(f[16]) : "null"}` +
    `,"userAgent":${nullable(f[21])}}`;
  assertWellFormedJson(personal);
  const salt = f[25];
  if (typeof salt !== "string" || !CANONICAL_SALT.test(salt)) {
    throw new TypeError("commitment.salt must be the base64 of 16 bytes");
  }
  let input = scratchFor(SALT_SIZE + 3 * personal.length);
  input.write(salt, 0, SALT_SIZE, "base64");
  const personalBytes = input.write(personal, SALT_SIZE, "utf8");
  const digest = hash("sha256", input.subarray(0, SALT_SIZE + personalBytes), "base64");

  const hidden = f[5] === "t" ? "true" : f[5] === "f" ? "false" : undefined;
  if (hidden === undefined) throw new TypeError("hiddenByDefault must be a boolean");
  if (quotedOrg?.orgId !== orgId) quotedOrg = { orgId, json: JSON.stringify(orgId) };
  const leaf =
    `\u0000{"actor":{"id":${required(f[9], "actor.id")}` +
    `,"tokenLast4":${nullable(f[13])}` +
    `,"tokenRole":${nullable(f[12])}` +
    `,"type":${required(f[8], "actor.type")}}` +
    `,"category":${required(f[3], "category")}` +
    `,"hiddenByDefault":${hidden}` +
    `,"id":${required(f[1], "id")}` +
    `,"oauthClientId":${hasOauth ? quoteJson(f[22] as string) : "null"}` +
    // ISO times and base64 need no escaping.
    `,"occurredAt":"${isoTime(f[6], "occurred_at")}"` +
    `,"org":${quotedOrg.json}` +
    `,"personal":"${digest}"` +
    `,"receivedAt":"${isoTime(f[7], "received_at")}"` +
    `,"target":${hasTarget ? `{"id":${quoteJson(f[15] as string)},"type":${quoteJson(f[14] as string)}}` : "null"}` +
    `,"type":${required(f[2], "type")}` +
    `,"v":${LEAF_VERSION}}`;
  assertWellFormedJson(leaf);
  input = scratchFor(3 * leaf.length);
  const leafBytes = input.write(leaf, 0, "utf8");
  return hash("sha256", input.subarray(0, leafBytes), "buffer");
}

export {
  entryLeafBytesAvailable,
  entryLineLeafHashInto,
  entryLinesLeafHashesInto,
  entryRowsLeafHashes,
  type HashedRows,
} from "./entry-leaf-wasm.ts";

/**
 * The leaf hash of an erased entry's line (its last column, the kept personal digest, is not
 * NULL): through the entry and the leaf's own code, which takes the kept digest as it is.
 * Erased entries are few, so they need no fast path.
 */
function erasedEntryLineLeafHash(orgId: string, line: string): Buffer {
  return Buffer.from(entryLeafHash(orgId, parseEntryLine(line).entry));
}
