// RFC 8785 (JSON Canonicalization Scheme). Browser-safe: no Node imports.
//
// JCS is defined on top of ECMAScript's JSON.stringify: strings are escaped exactly as
// JSON.stringify escapes them (the two-character escapes, \u00XX for other controls, every
// other character as itself), numbers are written as Number.prototype.toString writes them,
// and object members are sorted by their names' UTF-16 code units (what Array.prototype.sort
// compares by default). So the canonical text is JSON.stringify's, with sorted members and
// without whitespace; what JCS adds are refusals: NaN and ±Infinity, and strings that are not
// well-formed Unicode (I-JSON, RFC 7493) have no canonical form.

const LONE_SURROGATE = /\p{Cs}/u;

/** A string as JCS writes it; throws for a lone surrogate (not well-formed Unicode). */
export function canonicalString(value: string): string {
  if (LONE_SURROGATE.test(value)) {
    throw new TypeError("a string with a lone surrogate has no canonical JSON form (RFC 8785)");
  }
  return JSON.stringify(value);
}

function canonicalNumber(value: number): string {
  if (!Number.isFinite(value)) {
    throw new TypeError(`${value} has no JSON form (RFC 8785)`);
  }
  return JSON.stringify(value);
}

// What JSON.stringify leaves out of an object (and writes as null in an array): the result must
// match the JSON text an auditor receives, which went through JSON.stringify.
function isOmitted(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

function serialize(input: unknown): string {
  const value =
    input !== null &&
    typeof input === "object" &&
    typeof (input as { toJSON?: unknown }).toJSON === "function"
      ? (input as { toJSON(): unknown }).toJSON()
      : input;
  switch (typeof value) {
    case "string":
      return canonicalString(value);
    case "number":
      return canonicalNumber(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        return `[${value.map((item) => (isOmitted(item) ? "null" : serialize(item))).join(",")}]`;
      }
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const member = record[key];
        if (!isOmitted(member)) members.push(`${canonicalString(key)}:${serialize(member)}`);
      }
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`a ${typeof value} has no JSON form (RFC 8785)`);
  }
}

/** The RFC 8785 canonical JSON text of a value. Throws for values JSON cannot hold. */
export function canonicalJson(value: unknown): string {
  return serialize(value);
}
