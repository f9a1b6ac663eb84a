// RFC 8785 (JSON Canonicalization Scheme). Browser-safe: no Node imports.
//
// JCS is defined on top of ECMAScript's JSON.stringify: strings are escaped exactly as
// JSON.stringify escapes them (the two-character escapes, \u00XX for other controls, every
// other character as itself), numbers are written as Number.prototype.toString writes them,
// and object members are sorted by their names' UTF-16 code units (what Array.prototype.sort
// compares by default). So the canonical text is JSON.stringify's, with sorted members and
// without whitespace; what JCS adds are refusals: NaN and ±Infinity, and strings that are not
// well-formed Unicode (I-JSON, RFC 7493) have no canonical form.

// JSON.stringify writes a lone surrogate as the escape \udXXX (lowercase; a well-formed pair
// stays as itself), so one scan of the finished text finds them all: checking every string as
// it is written cost more than the rest of the leaf's serialisation. The escape must start at
// an unescaped backslash ("\\ud800" is the text \ud800, not a surrogate).
const LONE_SURROGATE_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f]/;

/** Throws if a text JSON.stringify wrote holds a lone surrogate (not well-formed Unicode). */
export function assertWellFormedJson(text: string): void {
  if (text.includes("\\ud") && LONE_SURROGATE_ESCAPE.test(text)) {
    throw new TypeError("a string with a lone surrogate has no canonical JSON form (RFC 8785)");
  }
}

// Characters JSON.stringify may escape: the quote, the backslash, controls, and surrogates
// (paired ones are written as themselves, lone ones escaped). A string without any is written
// as itself between quotes, which is twice as fast as JSON.stringify on this engine.
const MAY_NEED_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON.stringify (and so RFC 8785) writes it. */
export function quoteJson(value: string): string {
  return MAY_NEED_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

// What JSON.stringify leaves out of an object (and writes as null in an array): the result must
// match the JSON text an auditor receives, which went through JSON.stringify.
function isOmitted(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

function isPrimitiveJson(value: unknown): boolean {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

/**
 * Whether JSON.stringify alone writes `value` canonically: plain objects and arrays only (no
 * toJSON, no boxed primitive: JSON.stringify treats those its own way), every object's members
 * already in code-unit order, every number finite. Entries' `data` nearly always is, and one
 * native JSON.stringify call costs a fraction of serialising member by member.
 */
function stringifiesCanonically(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return isPrimitiveJson(value);
  if (Array.isArray(value)) {
    for (const item of value) {
      // undefined becomes null either way; functions and symbols go to the generic path.
      if (item !== undefined && !stringifiesCanonically(item)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0 && (keys[i - 1] as string) > key) return false;
    const member = record[key];
    if (member !== undefined && !stringifiesCanonically(member)) return false;
  }
  return true;
}

function isBoxed(value: object): boolean {
  return value instanceof String || value instanceof Number || value instanceof Boolean;
}

function serialize(input: unknown): string {
  let value = input;
  if (value !== null && typeof value === "object") {
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
      value = (value as { toJSON(): unknown }).toJSON();
    }
    // As JSON.stringify does.
    if (value !== null && typeof value === "object" && isBoxed(value)) value = value.valueOf();
  }
  switch (typeof value) {
    case "string":
      return quoteJson(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no JSON form (RFC 8785)`);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        let text = "[";
        for (let i = 0; i < value.length; i++) {
          if (i > 0) text += ",";
          text += isOmitted(value[i]) ? "null" : serialize(value[i]);
        }
        return `${text}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length > 1) keys.sort();
      let text = "{";
      for (const key of keys) {
        const member = record[key];
        if (isOmitted(member)) continue;
        if (text.length > 1) text += ",";
        text += `${quoteJson(key)}:${serialize(member)}`;
      }
      return `${text}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} has no JSON form (RFC 8785)`);
  }
}

/** The RFC 8785 canonical JSON text of a value. Throws for values JSON cannot hold. */
export function canonicalJson(value: unknown): string {
  const text = stringifiesCanonically(value) ? JSON.stringify(value) : serialize(value);
  assertWellFormedJson(text);
  return text;
}
