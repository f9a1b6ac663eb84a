import { z } from "zod";
import { type Category, categories } from "./envelope.ts";
import { normalizeIpPrefix } from "./ip/index.ts";
import { isKnownTypePattern } from "./type-patterns.ts";

/**
 * The Hub/GitHub-style audit-log query language (PRODUCT.md §4), shared by the query API and the
 * web console:
 *
 *     author:alice type:repo.create ip:203.0.113.0 created:>=2026-01-01 -type:org.sso_login "text"
 *
 * A query is one line of space-separated terms: `key:value` qualifiers (`-key:value` excludes),
 * bare words and `"quoted phrases"` (free text, all of which must match). Values may be
 * double-quoted, with `\"` and `\\` escapes. The same key repeated positively is an OR within that
 * key; exclusions accumulate; several `created` terms intersect.
 *
 * `parseQuery` never throws on user input: it answers `{ ok: false, error }` with the 0-based
 * offset and the exact text of the offending term (`input.slice(position, position +
 * token.length) === token`), so the console can underline it.
 */

export const queryLimits = { maxLength: 2000, maxTerms: 50 } as const;

export type QueryKey = "author" | "type" | "category" | "target" | "ip" | "country" | "created";

export interface QueryKeyInfo {
  key: QueryKey;
  /** Other spellings the parser accepts; `printQuery` always writes `key`. */
  aliases: readonly string[];
  description: string;
  /** Whether `-key:value` is allowed. */
  negatable: boolean;
  examples: readonly string[];
  /** The closed set of values, when there is one (for completion). */
  values?: readonly string[];
}

/**
 * ISO 3166-1 alpha-2 codes as officially assigned, plus `XK` (Kosovo), which geolocation
 * databases use.
 */
export const countryCodes: readonly string[] = (
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR " +
  "BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ " +
  "EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW " +
  "GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY " +
  "KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV " +
  "MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
  "QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG " +
  "TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA " +
  "ZM ZW"
).split(" ");
const countryCodeSet = new Set(countryCodes);

export const queryKeys: readonly QueryKeyInfo[] = [
  {
    key: "author",
    aliases: ["actor"],
    description: "Who acted: a user or token name, or an actor id",
    negatable: true,
    examples: ["author:alice", 'author:"Jane Doe"', "-author:ci-bot"],
  },
  {
    key: "type",
    aliases: [],
    description: "Event type, exact or a scope wildcard",
    negatable: true,
    examples: ["type:repo.create", "type:org.*", "-type:org.sso_login"],
  },
  {
    key: "category",
    aliases: [],
    description: "Event category",
    negatable: true,
    examples: ["category:membership", "-category:billing"],
    values: categories,
  },
  {
    key: "target",
    aliases: [],
    description: "What was acted on: target id or name",
    negatable: true,
    examples: ["target:acme/model", '-target:"my space"'],
  },
  {
    key: "ip",
    aliases: [],
    description: "Client IP address or prefix (IPv4 or IPv6)",
    negatable: true,
    examples: ["ip:203.0.113.0", "ip:203.0.113.", "ip:2001:db8::"],
  },
  {
    key: "country",
    aliases: [],
    description: "Client country, ISO 3166-1 alpha-2 code",
    negatable: true,
    examples: ["country:FR", "-country:us"],
    values: countryCodes,
  },
  {
    key: "created",
    aliases: [],
    description:
      "When it happened (UTC): a day, a comparison (>=, >, <=, <) or an inclusive range (a..b)",
    negatable: false,
    examples: [
      "created:2026-01-01",
      "created:>=2026-01-01",
      "created:<2026-02-01T10:00:00Z",
      "created:2026-01-01..2026-01-31",
    ],
  },
];

export { normalizeIpPrefix };

const keyByName = new Map<string, QueryKey>(
  queryKeys.flatMap((info) => [info.key, ...info.aliases].map((name) => [name, info.key] as const)),
);

export const parsedQuerySchema = z.strictObject({
  authors: z.array(z.string()),
  excludeAuthors: z.array(z.string()),
  types: z.array(z.string()),
  excludeTypes: z.array(z.string()),
  categories: z.array(z.enum(categories)),
  excludeCategories: z.array(z.enum(categories)),
  targets: z.array(z.string()),
  excludeTargets: z.array(z.string()),
  /** Normalised prefixes: see `normalizeIpPrefix`. */
  ipPrefixes: z.array(z.string()),
  excludeIpPrefixes: z.array(z.string()),
  /** Upper-case ISO 3166-1 alpha-2. */
  countries: z.array(z.string()),
  excludeCountries: z.array(z.string()),
  /** Inclusive lower bound, `toISOString()` form (UTC, milliseconds, `Z`). */
  createdFrom: z.iso.datetime().optional(),
  /** Exclusive upper bound, `toISOString()` form. */
  createdTo: z.iso.datetime().optional(),
  /** Free-text words and phrases; every one must match. */
  text: z.array(z.string()),
});

/**
 * A normalised query: values trimmed and de-duplicated in first-seen order, categories lower
 * case, countries upper case, IP prefixes canonical, dates as UTC instants. Positive values of
 * one key are alternatives (OR); different keys, exclusions and text all combine with AND.
 */
export type ParsedQuery = {
  authors: string[];
  excludeAuthors: string[];
  types: string[];
  excludeTypes: string[];
  categories: Category[];
  excludeCategories: Category[];
  targets: string[];
  excludeTargets: string[];
  ipPrefixes: string[];
  excludeIpPrefixes: string[];
  countries: string[];
  excludeCountries: string[];
  createdFrom?: string;
  createdTo?: string;
  text: string[];
};

export type QueryParseErrorKind =
  | "input_too_long"
  | "too_many_terms"
  | "unknown_key"
  | "empty_value"
  | "unterminated_quote"
  | "misplaced_quote"
  | "bad_negation"
  | "bad_date"
  | "bad_operator"
  | "unknown_category"
  | "bad_country"
  | "bad_ip_prefix"
  | "unknown_type"
  | "negated_created";

export class QueryParseError extends Error {
  override readonly name = "QueryParseError";
  constructor(
    readonly kind: QueryParseErrorKind,
    message: string,
    /** 0-based offset of the offending term in the input. */
    readonly position: number,
    /** The offending term exactly as written (`input.slice(position, position + token.length)`). */
    readonly token: string,
  ) {
    super(message);
  }

  toJSON(): { kind: QueryParseErrorKind; message: string; position: number; token: string } {
    return { kind: this.kind, message: this.message, position: this.position, token: this.token };
  }
}

export interface ParseQueryOptions {
  /**
   * Whether a `type:` value (exact type or `scope.*` wildcard) selects at least one known event
   * type. Defaults to the shared catalog's `isKnownTypePattern`.
   */
  isKnownType?: (pattern: string) => boolean;
}

export type ParseQueryResult =
  | { ok: true; query: ParsedQuery }
  | { ok: false; error: QueryParseError };

export function emptyQuery(): ParsedQuery {
  return {
    authors: [],
    excludeAuthors: [],
    types: [],
    excludeTypes: [],
    categories: [],
    excludeCategories: [],
    targets: [],
    excludeTargets: [],
    ipPrefixes: [],
    excludeIpPrefixes: [],
    countries: [],
    excludeCountries: [],
    text: [],
  };
}

export function isEmptyQuery(query: ParsedQuery): boolean {
  return (
    query.createdFrom === undefined &&
    query.createdTo === undefined &&
    query.text.length === 0 &&
    listFields.every(
      ([positive, negative]) => query[positive].length + query[negative].length === 0,
    )
  );
}

type ListField = Exclude<
  { [K in keyof ParsedQuery]: ParsedQuery[K] extends string[] ? K : never }[keyof ParsedQuery],
  undefined
>;

/** Printing order, and where each negatable key's values go. */
const listFields = [
  ["authors", "excludeAuthors", "author"],
  ["types", "excludeTypes", "type"],
  ["categories", "excludeCategories", "category"],
  ["targets", "excludeTargets", "target"],
  ["ipPrefixes", "excludeIpPrefixes", "ip"],
  ["countries", "excludeCountries", "country"],
] as const satisfies readonly (readonly [ListField, ListField, QueryKey])[];

const fieldsByKey = new Map<QueryKey, readonly [ListField, ListField]>(
  listFields.map(([positive, negative, key]) => [key, [positive, negative]]),
);

// ---------------------------------------------------------------------------------------------
// Lexing

interface Term {
  start: number;
  /** The term exactly as written. */
  raw: string;
  /** Set for `key:value` and `-key:value` terms. */
  qualifier?: { key: QueryKey; negated: boolean };
  /** The value (qualifier) or the word/phrase (free text), unescaped and trimmed. */
  value: string;
}

/** The same set as `String.prototype.trim` removes. */
const whitespace = /\s/;
const qualifierHead = /^(-?)([A-Za-z][A-Za-z_]*):/;

function lex(input: string): Term[] {
  const terms: Term[] = [];
  const n = input.length;
  let i = 0;
  const wordEnd = (from: number): number => {
    let j = from;
    while (j < n && !whitespace.test(input.charAt(j))) j++;
    return j;
  };
  /** Reads a quoted string whose opening quote is at `open`; `start` is the term's start. */
  const readQuoted = (open: number, start: number): { value: string; end: number } => {
    let value = "";
    let j = open + 1;
    while (j < n) {
      const c = input.charAt(j);
      if (c === '"') {
        const end = j + 1;
        if (end < n && !whitespace.test(input.charAt(end))) {
          throw new QueryParseError(
            "misplaced_quote",
            "Expected a space after the closing quote",
            start,
            input.slice(start, wordEnd(end)),
          );
        }
        return { value, end };
      }
      if (c === "\\" && j + 1 < n) {
        const next = input.charAt(j + 1);
        if (next === '"' || next === "\\") {
          value += next;
          j += 2;
          continue;
        }
      }
      value += c;
      j++;
    }
    throw new QueryParseError(
      "unterminated_quote",
      'Unterminated quote: add the closing "',
      start,
      input.slice(start),
    );
  };

  while (true) {
    while (i < n && whitespace.test(input.charAt(i))) i++;
    if (i >= n) break;
    const start = i;
    let term: Term;
    if (input.charAt(i) === '"') {
      const { value, end } = readQuoted(i, start);
      term = { start, raw: input.slice(start, end), value: value.trim() };
      i = end;
    } else {
      let j = i;
      while (j < n && !whitespace.test(input.charAt(j)) && input.charAt(j) !== '"') j++;
      const head = input.slice(i, j);
      const match = qualifierHead.exec(head);
      if (match) {
        const [prefix, minus, name] = match as unknown as [string, string, string];
        const key = keyByName.get(name.toLowerCase());
        if (key === undefined) {
          const end = j < n && input.charAt(j) === '"' ? safeQuotedEnd(input, j) : wordEnd(j);
          throw new QueryParseError(
            "unknown_key",
            `Unknown key "${name}". Known keys: ${queryKeys.map((k) => k.key).join(", ")}. ` +
              "To search for this text, put it in double quotes.",
            start,
            input.slice(start, end),
          );
        }
        let value: string;
        if (j < n && input.charAt(j) === '"') {
          if (head.length !== prefix.length) {
            throw new QueryParseError(
              "misplaced_quote",
              'Quote the whole value, e.g. key:"some value"',
              start,
              input.slice(start, wordEnd(j)),
            );
          }
          const quoted = readQuoted(j, start);
          value = quoted.value;
          i = quoted.end;
        } else {
          value = head.slice(prefix.length);
          i = j;
        }
        term = {
          start,
          raw: input.slice(start, i),
          qualifier: { key, negated: minus === "-" },
          value: value.trim(),
        };
      } else {
        if (j < n && input.charAt(j) === '"') {
          throw new QueryParseError(
            "misplaced_quote",
            "A quote can only open a phrase or a value: put the whole phrase in double quotes",
            start,
            input.slice(start, wordEnd(j)),
          );
        }
        if (head.startsWith("-")) {
          throw new QueryParseError(
            "bad_negation",
            'Only qualifiers can be negated (e.g. -type:repo.create); to search for text starting with "-", put it in double quotes',
            start,
            head,
          );
        }
        term = { start, raw: head, value: head };
        i = j;
      }
    }
    if (terms.length >= queryLimits.maxTerms) {
      throw new QueryParseError(
        "too_many_terms",
        `A query can have at most ${queryLimits.maxTerms} terms`,
        term.start,
        term.raw,
      );
    }
    terms.push(term);
  }
  return terms;
}

/** End of a quoted section starting at `open`, or of the input if it is unterminated. */
function safeQuotedEnd(input: string, open: number): number {
  for (let j = open + 1; j < input.length; j++) {
    const c = input.charAt(j);
    if (c === "\\") j++;
    else if (c === '"') return j + 1;
  }
  return input.length;
}

// ---------------------------------------------------------------------------------------------
// Values

const dayMs = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: what `toISOString` writes in 4 digits. */
const minInstant = Date.parse("0000-01-01T00:00:00.000Z");
const maxInstant = Date.parse("9999-12-31T23:59:59.999Z");

const dateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * A date is the span of that UTC day; a date-time is the 1 ms span of that instant (sub-millisecond
 * digits are truncated). Answers an error message instead when `text` is not a valid date.
 */
function parseDateSpan(text: string): { start: number; end: number } | string {
  const m = dateTimePattern.exec(text);
  if (!m) {
    return `Invalid date "${text}": use YYYY-MM-DD or an ISO date-time such as 2026-01-31T10:00:00Z`;
  }
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day < 1 || day > maxDay) {
    return `Invalid date "${text}": no such day`;
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (h === undefined) return { start: date.getTime(), end: date.getTime() + dayMs };
  if (zulu === undefined && sign === undefined) {
    return `Invalid date "${text}": a date-time needs a time zone, e.g. Z or +02:00`;
  }
  const hours = Number(h);
  const minutes = Number(mi);
  const seconds = s === undefined ? 0 : Number(s);
  const offsetHours = oh === undefined ? 0 : Number(oh);
  const offsetMinutes = om === undefined ? 0 : Number(om);
  if (hours > 23 || minutes > 59 || seconds > 59 || offsetHours > 23 || offsetMinutes > 59) {
    return `Invalid date "${text}": no such time`;
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, "0"));
  const offset = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  date.setUTCHours(hours, minutes, seconds, millis);
  const instant = date.getTime() - offset;
  return { start: instant, end: instant + 1 };
}

type CreatedBounds =
  | { from?: number; to?: number; error?: undefined }
  | { error: string; kind: "bad_date" | "bad_operator" };

/** The `[from, to)` bounds a `created:` value selects (either may be open). */
function parseCreated(value: string): CreatedBounds {
  const badDate = (error: string) => ({ error, kind: "bad_date" as const });
  const op = /^[<>=!]+/.exec(value)?.[0];
  if (op !== undefined) {
    if (op !== ">=" && op !== ">" && op !== "<=" && op !== "<") {
      return { kind: "bad_operator", error: `Unknown operator "${op}": use >=, >, <=, < or a..b` };
    }
    const rest = value.slice(op.length);
    if (rest.includes("..")) {
      return { kind: "bad_operator", error: "A range (a..b) cannot also have an operator" };
    }
    const span = parseDateSpan(rest);
    if (typeof span === "string") return badDate(span);
    if (op === ">=") return { from: span.start };
    if (op === ">") return { from: span.end };
    if (op === "<") return { to: span.start };
    return { to: span.end };
  }
  const dots = value.indexOf("..");
  if (dots >= 0) {
    const left = value.slice(0, dots);
    const right = value.slice(dots + 2);
    if (left === "*" && right === "*") {
      return badDate("A range needs at least one date, e.g. 2026-01-01..*");
    }
    const from = left === "*" ? undefined : parseDateSpan(left);
    const to = right === "*" ? undefined : parseDateSpan(right);
    if (typeof from === "string") return badDate(from);
    if (typeof to === "string") return badDate(to);
    if (from && to && from.start >= to.end) return badDate("The range ends before it starts");
    return { from: from?.start, to: to?.end };
  }
  const span = parseDateSpan(value);
  if (typeof span === "string") return badDate(span);
  return { from: span.start, to: span.end };
}

// ---------------------------------------------------------------------------------------------
// Parsing

export function parseQuery(input: string, options: ParseQueryOptions = {}): ParseQueryResult {
  try {
    return { ok: true, query: parseQueryOrThrow(input, options) };
  } catch (error) {
    if (error instanceof QueryParseError) return { ok: false, error };
    throw error;
  }
}

/** `parseQuery` for trusted input: throws `QueryParseError`. */
export function parseQueryOrThrow(input: string, options: ParseQueryOptions = {}): ParsedQuery {
  if (input.length > queryLimits.maxLength) {
    throw new QueryParseError(
      "input_too_long",
      `A query can be at most ${queryLimits.maxLength} characters long`,
      queryLimits.maxLength,
      "",
    );
  }
  const isKnownType = options.isKnownType ?? isKnownTypePattern;
  const query = emptyQuery();
  let from: number | undefined;
  let to: number | undefined;
  const add = (list: string[], value: string) => {
    if (!list.includes(value)) list.push(value);
  };

  for (const term of lex(input)) {
    const fail = (kind: QueryParseErrorKind, message: string) =>
      new QueryParseError(kind, message, term.start, term.raw);
    const { qualifier, value } = term;
    if (!qualifier) {
      if (value === "") throw fail("empty_value", "Empty phrase");
      add(query.text, value);
      continue;
    }
    const { key, negated } = qualifier;
    if (key === "created" && negated) {
      throw fail("negated_created", "created cannot be negated: use created:<… or created:>=…");
    }
    if (value === "") throw fail("empty_value", `Missing value after "${key}:"`);
    if (key === "created") {
      const bounds = parseCreated(value);
      if (bounds.error !== undefined) throw fail(bounds.kind, bounds.error);
      if (bounds.from !== undefined) {
        if (bounds.from > maxInstant) throw fail("bad_date", "Date out of range");
        if (bounds.from >= minInstant)
          from = from === undefined ? bounds.from : Math.max(from, bounds.from);
      }
      if (bounds.to !== undefined) {
        if (bounds.to < minInstant) throw fail("bad_date", "Date out of range");
        if (bounds.to <= maxInstant) to = to === undefined ? bounds.to : Math.min(to, bounds.to);
      }
      continue;
    }
    let normalized = value;
    if (key === "category") {
      normalized = value.toLowerCase();
      if (!(categories as readonly string[]).includes(normalized)) {
        throw fail(
          "unknown_category",
          `Unknown category "${value}". Categories: ${categories.join(", ")}`,
        );
      }
    } else if (key === "country") {
      normalized = value.toUpperCase();
      if (!countryCodeSet.has(normalized)) {
        throw fail(
          "bad_country",
          `"${value}" is not an ISO 3166-1 alpha-2 country code (e.g. FR, US)`,
        );
      }
    } else if (key === "ip") {
      const prefix = normalizeIpPrefix(value);
      if (prefix === undefined) {
        throw fail(
          "bad_ip_prefix",
          `"${value}" is not an IP address or prefix (e.g. 203.0.113.0, 203.0.113., 2001:db8::)`,
        );
      }
      normalized = prefix;
    } else if (key === "type") {
      if (!isKnownType(value)) {
        throw fail(
          "unknown_type",
          value.endsWith(".*")
            ? `No event type matches "${value}"`
            : `Unknown event type "${value}"`,
        );
      }
    }
    const [positive, negative] = fieldsByKey.get(key) as readonly [ListField, ListField];
    add(query[negated ? negative : positive], normalized);
  }

  if (from !== undefined) query.createdFrom = new Date(from).toISOString();
  if (to !== undefined) query.createdTo = new Date(to).toISOString();
  return query;
}

// ---------------------------------------------------------------------------------------------
// Printing

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function printValue(value: string): string {
  return value === "" || /[\s"\\]/.test(value) ? quote(value) : value;
}

function printText(text: string): string {
  return text === "" || /[\s"\\:]/.test(text) || text.startsWith("-") ? quote(text) : text;
}

function isMidnight(iso: string): boolean {
  return iso.endsWith("T00:00:00.000Z");
}

function printInstant(iso: string): string {
  return isMidnight(iso) ? iso.slice(0, 10) : iso;
}

/**
 * The canonical query string for `query`: keys in a fixed order (author, type, category, target,
 * ip, country, created, then text), exclusions after inclusions, values quoted only when needed,
 * whole-day bounds written as dates (`created:2026-01-01`, `created:2026-01-01..2026-01-31`).
 * `parseQuery(printQuery(q))` gives back `q` for any normalised `q`.
 */
export function printQuery(query: ParsedQuery): string {
  const terms: string[] = [];
  for (const [positive, negative, key] of listFields) {
    for (const value of query[positive]) terms.push(`${key}:${printValue(value)}`);
    for (const value of query[negative]) terms.push(`-${key}:${printValue(value)}`);
  }
  const { createdFrom: from, createdTo: to } = query;
  if (from !== undefined && to !== undefined && isMidnight(from) && isMidnight(to) && from < to) {
    const last = new Date(Date.parse(to) - dayMs).toISOString().slice(0, 10);
    const first = from.slice(0, 10);
    terms.push(first === last ? `created:${first}` : `created:${first}..${last}`);
  } else {
    if (from !== undefined) terms.push(`created:>=${printInstant(from)}`);
    if (to !== undefined) terms.push(`created:<${printInstant(to)}`);
  }
  for (const text of query.text) terms.push(printText(text));
  return terms.join(" ");
}
