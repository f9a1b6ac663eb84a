import { describe, expect, it } from "vitest";
import { anyType, parse, parseError } from "../../test/support/query-helpers.ts";
import {
  type ParseQueryOptions,
  parseQueryOrThrow,
  QueryParseError,
  type QueryParseErrorKind,
} from "./index.ts";

describe("parseQuery", () => {
  describe("errors", () => {
    const rejectAll = { isKnownType: () => false };
    const cases: [string, QueryParseErrorKind, number, string, ParseQueryOptions?][] = [
      ["author:a nope:x", "unknown_key", 9, "nope:x"],
      ['x -nope:"a b" y', "unknown_key", 2, '-nope:"a b"'],
      ["http://example.com", "unknown_key", 0, "http://example.com"],
      ["a author:", "empty_value", 2, "author:"],
      ['a author:"  "', "empty_value", 2, 'author:"  "'],
      ['a ""', "empty_value", 2, '""'],
      ["-created:", "negated_created", 0, "-created:"],
      ['a author:"Jane', "unterminated_quote", 2, 'author:"Jane'],
      ['a "phrase \\"', "unterminated_quote", 2, '"phrase \\"'],
      ['a "b"c d', "misplaced_quote", 2, '"b"c'],
      ['a author:x"y" d', "misplaced_quote", 2, 'author:x"y"'],
      ['a foo"bar" d', "misplaced_quote", 2, 'foo"bar"'],
      ['a author:"x"y d', "misplaced_quote", 2, 'author:"x"y'],
      ["a -foo", "bad_negation", 2, "-foo"],
      ["a -", "bad_negation", 2, "-"],
      ["created:2026-13-01", "bad_date", 0, "created:2026-13-01"],
      ["x created:2026-02-30", "bad_date", 2, "created:2026-02-30"],
      ["created:2025-02-29", "bad_date", 0, "created:2025-02-29"],
      ["created:>=yesterday", "bad_date", 0, "created:>=yesterday"],
      ["created:>=", "bad_date", 0, "created:>="],
      ["created:2026-01-01T10:00:00", "bad_date", 0, "created:2026-01-01T10:00:00"],
      ["created:2026-01-01T24:00:00Z", "bad_date", 0, "created:2026-01-01T24:00:00Z"],
      ["created:2026-1-1", "bad_date", 0, "created:2026-1-1"],
      ["created:2026-02-01..2026-01-01", "bad_date", 0, "created:2026-02-01..2026-01-01"],
      ["created:*..*", "bad_date", 0, "created:*..*"],
      ["created:2026-01-01..", "bad_date", 0, "created:2026-01-01.."],
      ["created:>9999-12-31", "bad_date", 0, "created:>9999-12-31"],
      ["created:=2026-01-01", "bad_operator", 0, "created:=2026-01-01"],
      ["a created:=>2026-01-01", "bad_operator", 2, "created:=>2026-01-01"],
      ["created:!=2026-01-01", "bad_operator", 0, "created:!=2026-01-01"],
      ["created:>>2026-01-01", "bad_operator", 0, "created:>>2026-01-01"],
      ["created:>=2026-01-01..2026-02-01", "bad_operator", 0, "created:>=2026-01-01..2026-02-01"],
      ["category:security", "unknown_category", 0, "category:security"],
      ["a -category:x", "unknown_category", 2, "-category:x"],
      ["country:USA", "bad_country", 0, "country:USA"],
      ["country:ZZ", "bad_country", 0, "country:ZZ"],
      ["a -country:1", "bad_country", 2, "-country:1"],
      ["ip:256.0.0.1", "bad_ip_prefix", 0, "ip:256.0.0.1"],
      ["ip:1.2.3.4.", "bad_ip_prefix", 0, "ip:1.2.3.4."],
      ["ip:1.2.3.4.5", "bad_ip_prefix", 0, "ip:1.2.3.4.5"],
      ["ip:1..2", "bad_ip_prefix", 0, "ip:1..2"],
      ["ip:203.0.113.0/24", "bad_ip_prefix", 0, "ip:203.0.113.0/24"],
      ["ip:localhost", "bad_ip_prefix", 0, "ip:localhost"],
      ["ip:1:2:3:4:5:6:7:8:9", "bad_ip_prefix", 0, "ip:1:2:3:4:5:6:7:8:9"],
      ["ip:1::2::3", "bad_ip_prefix", 0, "ip:1::2::3"],
      ["ip:1:2:3:4::5:6:7:8", "bad_ip_prefix", 0, "ip:1:2:3:4::5:6:7:8"],
      ["ip:2001:db8:::", "bad_ip_prefix", 0, "ip:2001:db8:::"],
      ["ip:12345::", "bad_ip_prefix", 0, "ip:12345::"],
      ["ip:::ffff:1.2.3.4", "bad_ip_prefix", 0, "ip:::ffff:1.2.3.4"],
      ["(type:repo.create OR", "unsupported_syntax", 0, "(type:repo.create"],
      ["type:repo.create OR", "unsupported_syntax", 17, "OR"],
      ["type:a OR type:b", "unsupported_syntax", 7, "OR"],
      ["author:a AND", "unsupported_syntax", 9, "AND"],
      ["NOT author:a", "unsupported_syntax", 0, "NOT"],
      ["a || b", "unsupported_syntax", 2, "||"],
      ["a && b", "unsupported_syntax", 2, "&&"],
      ["a | b", "unsupported_syntax", 2, "|"],
      ["! a", "unsupported_syntax", 0, "!"],
      ["x (", "unsupported_syntax", 2, "("],
      ["a )", "unsupported_syntax", 2, ")"],
      ["f(x)", "unsupported_syntax", 0, "f(x)"],
      ["-(type:a)", "unsupported_syntax", 0, "-(type:a)"],
      ["author:alice)", "unsupported_syntax", 0, "author:alice)"],
      ["x -target:(a", "unsupported_syntax", 2, "-target:(a"],
      ["a type:repo.create", "unknown_type", 2, "type:repo.create", rejectAll],
      ["-type:repo.*", "unknown_type", 0, "-type:repo.*", rejectAll],
    ];

    it.each(cases)("%j → %s at %i", (input, kind, position, token, options) => {
      const error = parseError(input, options ?? anyType);
      expect(error).toBeInstanceOf(QueryParseError);
      expect({ kind: error.kind, position: error.position, token: error.token }).toEqual({
        kind,
        position,
        token,
      });
      expect(input.slice(position, position + token.length)).toBe(token);
      expect(error.message.length).toBeGreaterThan(0);
    });

    it("takes operators and parentheses as text or values when quoted, and lower-case or as text", () => {
      expect(parse('"(type:repo.create" "OR" or and').text).toEqual([
        "(type:repo.create",
        "OR",
        "or",
        "and",
      ]);
      expect(parse('author:"bot (ci)" target:OR').authors).toEqual(["bot (ci)"]);
      expect(parse("ORacle ANDROID").text).toEqual(["ORacle", "ANDROID"]);
    });

    it("reads a stored query from before operators were refused as it was meant then", () => {
      const options = { ...anyType, operatorsAsText: true };
      expect(parse("a OR (b target:x(1)", options)).toMatchObject({
        text: ["a", "OR", "(b"],
        targets: ["x(1)"],
      });
    });

    it("says what to write instead of an operator or a parenthesis", () => {
      expect(parseError("a OR b").message).toMatch(/repeat a key/);
      expect(parseError("NOT a").message).toMatch(/minus/);
      expect(parseError("(a").message).toMatch(/Parentheses are not supported/);
      expect(parseError("author:(a").message).toContain('author:"(a"');
    });

    it("names the unknown type, and says when a wildcard matches nothing", () => {
      const onlyRepo = { isKnownType: (pattern: string) => pattern.startsWith("repo.") };
      expect(parse("type:repo.create", onlyRepo).types).toEqual(["repo.create"]);
      expect(parseError("type:org.nope", onlyRepo).message).toContain('"org.nope"');
      expect(parseError("type:org.*", onlyRepo).message).toMatch(/No event type matches "org\.\*"/);
    });

    it("serialises to JSON with kind, message, position and token", () => {
      expect(JSON.parse(JSON.stringify(parseError("nope:x")))).toEqual({
        kind: "unknown_key",
        message: expect.stringContaining('"nope"'),
        position: 0,
        token: "nope:x",
      });
    });

    it("parseQueryOrThrow throws the same error", () => {
      expect(() => parseQueryOrThrow("country:XX", anyType)).toThrow(QueryParseError);
      expect(parseQueryOrThrow("country:fr", anyType).countries).toEqual(["FR"]);
    });
  });
});
