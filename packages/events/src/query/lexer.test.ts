import { describe, expect, it } from "vitest";
import { anyType, parse, parseError, query } from "../../test/support/query-helpers.ts";
import { parseQuery, queryLimits } from "./index.ts";

describe("parseQuery", () => {
  describe("quoting", () => {
    it("quoted values may hold spaces, colons and escaped quotes and backslashes", () => {
      expect(
        parse('author:"Jane Doe" target:"a:b" author:"say \\"hi\\"" author:"back\\\\slash"'),
      ).toStrictEqual(
        query({
          authors: ["Jane Doe", 'say "hi"', "back\\slash"],
          targets: ["a:b"],
        }),
      );
    });

    it("keeps other backslashes literally", () => {
      expect(parse('"a\\nb" c\\d').text).toEqual(["a\\nb", "c\\d"]);
    });

    it("a quoted phrase may look like a qualifier, or start with '-'", () => {
      expect(parse('"author:alice" "-foo" "http://x"')).toStrictEqual(
        query({ text: ["author:alice", "-foo", "http://x"] }),
      );
    });

    it("unquoted values may contain colons (IPv6, urls)", () => {
      expect(parse("target:https://example.com/x ip:2001:db8::").targets).toEqual([
        "https://example.com/x",
      ]);
    });

    it("trims quoted values", () => {
      expect(parse('author:"  alice "').authors).toEqual(["alice"]);
    });
  });

  describe("limits", () => {
    it(`accepts ${queryLimits.maxLength} characters and rejects more`, () => {
      const atLimit = `${"a ".repeat(24)}${"x".repeat(queryLimits.maxLength - 48)}`;
      expect(atLimit).toHaveLength(queryLimits.maxLength);
      expect(parseQuery(atLimit, anyType).ok).toBe(true);
      const error = parseError(`${atLimit}y`);
      expect(error).toMatchObject({
        kind: "input_too_long",
        position: queryLimits.maxLength,
        token: "",
      });
    });

    it(`accepts ${queryLimits.maxTerms} terms and rejects the next one`, () => {
      const terms = Array.from({ length: queryLimits.maxTerms }, (_, i) => `w${i}`);
      expect(parse(terms.join(" ")).text).toHaveLength(queryLimits.maxTerms);
      const input = `${terms.join(" ")} author:"one more"`;
      const error = parseError(input);
      expect(error).toMatchObject({ kind: "too_many_terms", token: 'author:"one more"' });
      expect(error.position).toBe(input.indexOf("author:"));
    });
  });
});
