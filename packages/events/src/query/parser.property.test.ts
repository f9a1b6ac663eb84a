import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseQuery, QueryParseError, queryLimits } from "./index.ts";

/**
 * Pieces people (and fuzzers) type: keys, operators, quotes, escapes, parentheses, dates, IPs,
 * accents, right-to-left text and lone surrogates. Joined with random separators they reach every
 * branch of the lexer far more often than uniformly random strings do.
 */
const piece = fc.oneof(
  fc.constantFrom(
    "author:",
    "-author:",
    "actor:",
    "type:",
    "-type:",
    "type:repo.*",
    "type:repo.create",
    "category:",
    "target:",
    "ip:",
    "ip:203.0.113.",
    "country:",
    "created:",
    "created:>=",
    "created:2026-01-01..",
    "nope:",
    "-",
    '"',
    '\\"',
    "\\",
    "(",
    ")",
    "OR",
    "AND",
    "NOT",
    "||",
    "&&",
    "|",
    "!",
    ":",
    "..",
    "*",
    "2026-02-30",
    "Zoë",
    "مرحبا",
    "\u0000",
    "\ud800",
    "\u00a0",
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 6 }),
);
const separator = fc.constantFrom("", " ", "  ", "\t", "\n", "\u3000");
const queryText = fc
  .array(fc.tuple(piece, separator), { maxLength: 30 })
  .map((parts) => parts.map(([text, sep]) => text + sep).join(""));

describe("parseQuery on any input", () => {
  it("answers a query or an error that points at the offending term, and never throws", () => {
    fc.assert(
      fc.property(fc.oneof(queryText, fc.string({ unit: "binary", maxLength: 80 })), (input) => {
        let result: ReturnType<typeof parseQuery>;
        try {
          result = parseQuery(input);
        } catch (error) {
          throw new Error(`parseQuery threw for ${JSON.stringify(input)}: ${error}`);
        }
        if (result.ok) return;
        const { error } = result;
        expect(error).toBeInstanceOf(QueryParseError);
        expect(error.message.length).toBeGreaterThan(0);
        expect(Number.isInteger(error.position)).toBe(true);
        expect(error.position).toBeGreaterThanOrEqual(0);
        expect(error.position).toBeLessThanOrEqual(input.length);
        expect(input.slice(error.position, error.position + error.token.length)).toBe(error.token);
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses an over-long input with a position at the limit", () => {
    fc.assert(
      fc.property(fc.string({ minLength: queryLimits.maxLength + 1, maxLength: 2100 }), (input) => {
        const result = parseQuery(input);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error.position).toBe(queryLimits.maxLength);
      }),
      { numRuns: 20 },
    );
  });
});
