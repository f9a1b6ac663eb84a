import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyType, parse } from "../../test/support/query-helpers.ts";
import { categories } from "../envelope.ts";
import {
  countryCodes,
  emptyQuery,
  type ParsedQuery,
  parsedQuerySchema,
  parseQuery,
  printQuery,
  queryLimits,
} from "./index.ts";

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
