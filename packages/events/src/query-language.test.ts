import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { categories } from "./envelope.ts";
import {
  countryCodes,
  emptyQuery,
  isEmptyQuery,
  type ParsedQuery,
  type ParseQueryOptions,
  parsedQuerySchema,
  parseQuery,
  parseQueryOrThrow,
  printQuery,
  QueryParseError,
  type QueryParseErrorKind,
  queryKeys,
  queryLimits,
} from "./query-language.ts";

/** Tests don't depend on the catalog, which is being filled in concurrently. */
const anyType: ParseQueryOptions = { isKnownType: () => true };

function parse(input: string, options: ParseQueryOptions = anyType): ParsedQuery {
  const result = parseQuery(input, options);
  if (!result.ok) throw new Error(`unexpected parse error: ${JSON.stringify(result.error)}`);
  return result.query;
}

function parseError(input: string, options: ParseQueryOptions = anyType): QueryParseError {
  const result = parseQuery(input, options);
  if (result.ok) throw new Error(`expected an error for ${JSON.stringify(input)}`);
  return result.error;
}

function query(fields: Partial<ParsedQuery>): ParsedQuery {
  return { ...emptyQuery(), ...fields };
}

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

  describe("created", () => {
    it.each<[string, Pick<ParsedQuery, "createdFrom" | "createdTo">]>([
      ["created:>=2026-01-01", { createdFrom: "2026-01-01T00:00:00.000Z" }],
      ["created:>2026-01-01", { createdFrom: "2026-01-02T00:00:00.000Z" }],
      ["created:<2026-02-01", { createdTo: "2026-02-01T00:00:00.000Z" }],
      ["created:<=2026-01-31", { createdTo: "2026-02-01T00:00:00.000Z" }],
      ["created:<2026-02-01T10:00:00Z", { createdTo: "2026-02-01T10:00:00.000Z" }],
      ["created:<=2026-02-01T10:00:00Z", { createdTo: "2026-02-01T10:00:00.001Z" }],
      ["created:>=2026-02-01T10:00Z", { createdFrom: "2026-02-01T10:00:00.000Z" }],
      ["created:>2026-02-01T10:00:00.5Z", { createdFrom: "2026-02-01T10:00:00.501Z" }],
      ["created:>=2026-02-01t10:00:00.123456789z", { createdFrom: "2026-02-01T10:00:00.123Z" }],
      ["created:>=2026-01-01T01:30:00+02:00", { createdFrom: "2025-12-31T23:30:00.000Z" }],
      ["created:>=2026-01-01T01:30:00-0230", { createdFrom: "2026-01-01T04:00:00.000Z" }],
      [
        "created:2026-01-01",
        { createdFrom: "2026-01-01T00:00:00.000Z", createdTo: "2026-01-02T00:00:00.000Z" },
      ],
      [
        "created:2024-02-29",
        { createdFrom: "2024-02-29T00:00:00.000Z", createdTo: "2024-03-01T00:00:00.000Z" },
      ],
      [
        "created:2026-01-01..2026-01-31",
        { createdFrom: "2026-01-01T00:00:00.000Z", createdTo: "2026-02-01T00:00:00.000Z" },
      ],
      [
        "created:2026-01-01T10:00:00Z..2026-01-01T12:00:00Z",
        { createdFrom: "2026-01-01T10:00:00.000Z", createdTo: "2026-01-01T12:00:00.001Z" },
      ],
      [
        "created:2026-01-01T10:00:00Z",
        { createdFrom: "2026-01-01T10:00:00.000Z", createdTo: "2026-01-01T10:00:00.001Z" },
      ],
      ["created:2026-01-01..*", { createdFrom: "2026-01-01T00:00:00.000Z" }],
      ["created:*..2026-01-31", { createdTo: "2026-02-01T00:00:00.000Z" }],
      ['created:">=2026-01-01"', { createdFrom: "2026-01-01T00:00:00.000Z" }],
      // Bounds past what an ISO string can hold in four digits are simply open.
      ["created:<=9999-12-31", {}],
      ["created:>=0000-01-01T00:30+01:00", {}],
      [
        "created:0000-01-01",
        { createdFrom: "0000-01-01T00:00:00.000Z", createdTo: "0000-01-02T00:00:00.000Z" },
      ],
    ])("%s", (input, bounds) => {
      expect(parse(input)).toStrictEqual(query(bounds));
    });

    it("several created terms intersect: the tightest bounds win", () => {
      expect(
        parse(
          "created:>=2026-01-01 created:>=2026-01-10 created:<2026-03-01 created:2026-01-01..2026-01-31",
        ),
      ).toStrictEqual(
        query({ createdFrom: "2026-01-10T00:00:00.000Z", createdTo: "2026-02-01T00:00:00.000Z" }),
      );
    });

    it("a disjoint intersection is kept as an empty window, not an error", () => {
      expect(parse("created:<2026-01-01 created:>=2026-02-01")).toStrictEqual(
        query({ createdFrom: "2026-02-01T00:00:00.000Z", createdTo: "2026-01-01T00:00:00.000Z" }),
      );
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

describe("queryKeys", () => {
  it("lists every key with a description, and its examples parse", () => {
    expect(queryKeys.map((k) => k.key)).toEqual([
      "author",
      "type",
      "category",
      "target",
      "ip",
      "country",
      "created",
    ]);
    for (const info of queryKeys) {
      expect(info.description.length).toBeGreaterThan(0);
      for (const example of info.examples) expect(parseQuery(example, anyType).ok).toBe(true);
      const negated = parseQuery(`-${info.key}:x`, anyType);
      if (!info.negatable) expect(negated.ok || negated.error.kind).toBe("negated_created");
    }
    expect(queryKeys.find((k) => k.key === "author")?.aliases).toEqual(["actor"]);
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips

/** Characters that stress quoting: spaces, quotes, backslashes, colons, dashes, dots, unicode. */
const trickyChar = fc.constantFrom(" ", '"', "\\", ":", "-", ".", "*", "\t", "é", "😀", "\u00a0");
const tricky = fc.oneof(
  fc.string({
    unit: fc.oneof(trickyChar, fc.string({ minLength: 1, maxLength: 1 })),
    maxLength: 12,
  }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.string({ minLength: 1, maxLength: 10 }),
);
/** A normalised free value: trimmed and not empty. */
const freeValue = tricky.map((s) => s.trim()).filter((s) => s.length > 0);
const values = (arb: fc.Arbitrary<string>) => fc.uniqueArray(arb, { maxLength: 3 });

const octet = fc.integer({ min: 0, max: 255 });
const ipv4Prefix = fc
  .array(octet, { minLength: 1, maxLength: 4 })
  .map((octets) => (octets.length === 4 ? octets.join(".") : `${octets.join(".")}.`));
const hex16 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const ipv6Prefix = fc.oneof(
  fc
    .array(hex16, { minLength: 8, maxLength: 8 })
    .map((groups) =>
      new URL(`http://[${groups.map((g) => g.toString(16)).join(":")}]/`).hostname.slice(1, -1),
    ),
  fc
    .array(hex16, { minLength: 1, maxLength: 7 })
    .map((groups) => `${groups.map((g) => g.toString(16)).join(":")}:`),
);
const ipPrefix = fc.oneof(ipv4Prefix, ipv6Prefix);

const minMs = Date.parse("0000-01-01T00:00:00.000Z");
const maxMs = Date.parse("9999-12-31T23:59:59.999Z");
const dayMs = 86_400_000;
const instant = fc.oneof(
  fc.integer({ min: minMs, max: maxMs }),
  // Whole days, which print as dates, ranges and single days.
  fc.integer({ min: minMs / dayMs, max: Math.floor(maxMs / dayMs) }).map((d) => d * dayMs),
  fc.integer({ min: 20_454, max: 20_484 }).map((d) => d * dayMs),
);
const iso = instant.map((ms) => new Date(ms).toISOString());

const parsedQuery: fc.Arbitrary<ParsedQuery> = fc
  .record(
    {
      authors: values(freeValue),
      excludeAuthors: values(freeValue),
      types: values(fc.oneof(fc.constantFrom("repo.create", "org.*", "org.sso_login"), freeValue)),
      excludeTypes: values(freeValue),
      categories: fc.uniqueArray(fc.constantFrom(...categories), { maxLength: 3 }),
      excludeCategories: fc.uniqueArray(fc.constantFrom(...categories), { maxLength: 3 }),
      targets: values(freeValue),
      excludeTargets: values(freeValue),
      ipPrefixes: values(ipPrefix),
      excludeIpPrefixes: values(ipPrefix),
      countries: fc.uniqueArray(fc.constantFrom(...countryCodes), { maxLength: 3 }),
      excludeCountries: fc.uniqueArray(fc.constantFrom(...countryCodes), { maxLength: 3 }),
      createdFrom: iso,
      createdTo: iso,
      text: values(freeValue),
    },
    {
      requiredKeys: [
        "authors",
        "excludeAuthors",
        "types",
        "excludeTypes",
        "categories",
        "excludeCategories",
        "targets",
        "excludeTargets",
        "ipPrefixes",
        "excludeIpPrefixes",
        "countries",
        "excludeCountries",
        "text",
      ],
    },
  )
  .map((q) => ({ ...q }))
  .filter((q) => printQuery(q).length <= queryLimits.maxLength);

describe("printQuery", () => {
  it("prints the canonical form", () => {
    expect(
      printQuery(
        parse(
          '"text" -type:org.sso_login created:>=2026-01-01 ip:203.0.113 type:repo.create actor:alice country:fr',
        ),
      ),
    ).toBe(
      "author:alice type:repo.create -type:org.sso_login ip:203.0.113. country:FR created:>=2026-01-01 text",
    );
    expect(printQuery(parse('author:"Jane \\"J\\" Doe" "-x" "a:b" created:2026-01-01'))).toBe(
      'author:"Jane \\"J\\" Doe" created:2026-01-01 "-x" "a:b"',
    );
    expect(printQuery(parse("created:>=2026-01-01 created:<=2026-01-31"))).toBe(
      "created:2026-01-01..2026-01-31",
    );
    expect(printQuery(parse("created:>2026-01-01T10:00:00+01:00"))).toBe(
      "created:>=2026-01-01T09:00:00.001Z",
    );
    expect(printQuery(emptyQuery())).toBe("");
  });

  it("round-trips: parseQuery(printQuery(q)) equals q for any normalised query", () => {
    fc.assert(
      fc.property(parsedQuery, (q) => {
        expect(parsedQuerySchema.safeParse(q).success).toBe(true);
        const printed = printQuery(q);
        const result = parseQuery(printed, anyType);
        if (!result.ok) throw new Error(`${printed}: ${result.error.message}`);
        expect(result.query).toStrictEqual(q);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    'author:alice type:repo.create ip:203.0.113.0 created:>=2026-01-01 -type:org.sso_login "text"',
    "actor:bob AUTHOR:bob category:Billing -category:jobs country:gb ip:2001:0DB8:0:0::",
    'target:"a \\"quoted\\" name" "x y" z created:2026-03-01',
    "created:2026-01-01..2026-01-31 created:>2026-01-05T12:00:00-05:00",
    "created:*..2026-01-31 created:<2026-02-01T10:00:00Z ip:10 ip:10.",
    "",
  ])("is idempotent on %j", (input) => {
    const first = parse(input);
    expect(parse(printQuery(first))).toStrictEqual(first);
    expect(printQuery(parse(printQuery(first)))).toBe(printQuery(first));
  });

  it("is idempotent on any parseable token soup, and parseQuery never throws", () => {
    const token = fc.oneof(
      fc.constantFrom(
        "author:",
        "-actor:",
        "type:",
        "category:",
        "-category:",
        "target:",
        "ip:",
        "-country:",
        "created:",
        "created:>=",
        "created:<",
        "created:..",
        "2026-01-01",
        "2026-01-31T10:00:00Z",
        "..",
        "*",
        "jobs",
        "fr",
        "10.0",
        "2001:db8::",
        '"',
        "\\",
        " ",
        ":",
        "-",
      ),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 12 }).map((t) => t.join("")),
        (input) => {
          const result = parseQuery(input, anyType);
          if (!result.ok) {
            const { position, token: bad } = result.error;
            expect(input.slice(position, position + bad.length)).toBe(bad);
            return;
          }
          expect(parse(printQuery(result.query))).toStrictEqual(result.query);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
