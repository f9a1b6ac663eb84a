import { describe, expect, it } from "vitest";
import { parse, parseError, query } from "../../test/support/query-helpers.ts";
import { categories } from "../envelope.ts";
import { countryCodes, emptyQuery, isEmptyQuery } from "./index.ts";

describe("parseQuery", () => {
  it("parses the PRODUCT.md example", () => {
    expect(
      parse(
        'author:alice type:repo.create ip:203.0.113.0 created:>=2026-01-01 -type:org.sso_login "text"',
      ),
    ).toStrictEqual(
      query({
        authors: ["alice"],
        types: ["repo.create"],
        excludeTypes: ["org.sso_login"],
        ipPrefixes: ["203.0.113.0"],
        createdFrom: "2026-01-01T00:00:00.000Z",
        text: ["text"],
      }),
    );
  });

  it("parses the empty query", () => {
    expect(parse("")).toStrictEqual(emptyQuery());
    expect(parse("  \t ")).toStrictEqual(emptyQuery());
  });

  describe("keys", () => {
    it("author, and its alias actor", () => {
      expect(parse("author:alice actor:u_123 Author:bob").authors).toEqual([
        "alice",
        "u_123",
        "bob",
      ]);
    });

    it("type, exact or wildcard, checked by the injected validator", () => {
      const seen: string[] = [];
      const options = {
        isKnownType: (pattern: string) => {
          seen.push(pattern);
          return true;
        },
      };
      expect(parse("type:repo.create type:org.*", options).types).toEqual(["repo.create", "org.*"]);
      expect(seen).toEqual(["repo.create", "org.*"]);
    });

    it("type defaults to the catalog's patterns", () => {
      expect(parse("type:org.audit_log.export type:org.audit_log.*", {}).types).toEqual([
        "org.audit_log.export",
        "org.audit_log.*",
      ]);
      expect(parseError("type:no_such.thing", {}).kind).toBe("unknown_type");
    });

    it("category, case-insensitive, from the closed list", () => {
      expect(parse("category:membership category:AUDIT_LOG").categories).toEqual([
        "membership",
        "audit_log",
      ]);
      for (const category of categories) {
        expect(parse(`category:${category}`).categories).toEqual([category]);
      }
    });

    it("target", () => {
      expect(parse('target:acme/model target:"my space"').targets).toEqual([
        "acme/model",
        "my space",
      ]);
    });

    it.each([
      ["203.0.113.0", "203.0.113.0"],
      ["203.0.113.", "203.0.113."],
      ["203.0.113", "203.0.113."],
      ["203.0", "203.0."],
      ["10", "10."],
      ["010.001.0.255", "10.1.0.255"],
      ["2001:db8::", "2001:db8::"],
      ["2001:DB8::", "2001:db8::"],
      ["2001:0db8:0000:0000:0000:0000:0000:0000", "2001:db8::"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
      ["::1", "::1"],
      ["::", "::"],
      ["2001:db8:", "2001:db8:"],
      ["2001:0DB8", "2001:db8:"],
    ])("ip:%s is normalised to %s", (input, expected) => {
      expect(parse(`ip:${input}`).ipPrefixes).toEqual([expected]);
    });

    it("country, case-insensitive, normalised to upper case", () => {
      expect(parse("country:fr country:Us country:XK").countries).toEqual(["FR", "US", "XK"]);
      expect(countryCodes).toHaveLength(250);
    });

    it("free text: bare words and quoted phrases, trimmed", () => {
      expect(parse('deleted "model card"  " spaced out " 12:30 a-b').text).toEqual([
        "deleted",
        "model card",
        "spaced out",
        "12:30",
        "a-b",
      ]);
    });

    it("keys are case-insensitive; values keep their case except category and country", () => {
      expect(parse("AUTHOR:Alice TARGET:Repo")).toStrictEqual(
        query({ authors: ["Alice"], targets: ["Repo"] }),
      );
    });
  });

  describe("negation", () => {
    it("excludes, for every negatable key, and exclusions accumulate", () => {
      expect(
        parse(
          "-author:bot -actor:ci -type:org.sso_login -type:repo.* -category:BILLING " +
            '-target:"x y" -ip:10. -ip:2001:db8:: -country:us -country:de',
        ),
      ).toStrictEqual(
        query({
          excludeAuthors: ["bot", "ci"],
          excludeTypes: ["org.sso_login", "repo.*"],
          excludeCategories: ["billing"],
          excludeTargets: ["x y"],
          excludeIpPrefixes: ["10.", "2001:db8::"],
          excludeCountries: ["US", "DE"],
        }),
      );
    });

    it("keeps inclusions and exclusions of the same key apart", () => {
      expect(parse("type:repo.* -type:repo.delete")).toStrictEqual(
        query({ types: ["repo.*"], excludeTypes: ["repo.delete"] }),
      );
    });

    it("a value may itself start with '-'", () => {
      expect(parse("author:-dash -author:--x").authors).toEqual(["-dash"]);
      expect(parse("-author:--x").excludeAuthors).toEqual(["--x"]);
    });
  });

  describe("repeated keys", () => {
    it("records the same key repeated positively as alternatives (OR), de-duplicated", () => {
      expect(
        parse(
          "type:repo.create type:repo.delete type:repo.create author:a author:b country:fr country:FR",
        ),
      ).toStrictEqual(
        query({
          types: ["repo.create", "repo.delete"],
          authors: ["a", "b"],
          countries: ["FR"],
        }),
      );
    });

    it("records all free text (all must match)", () => {
      expect(parse("foo bar foo").text).toEqual(["foo", "bar"]);
    });
  });
});

describe("emptyQuery / isEmptyQuery", () => {
  it("recognises the empty query, and anything else as non-empty", () => {
    expect(isEmptyQuery(emptyQuery())).toBe(true);
    expect(emptyQuery()).not.toBe(emptyQuery());
    for (const input of [
      "-author:x",
      "type:a",
      "created:<2026-01-01",
      "created:>=2026-01-01",
      "x",
    ]) {
      expect(isEmptyQuery(parse(input))).toBe(false);
    }
  });
});
