import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, quoteJson } from "./canonical-json.ts";

// RFC 8785's own examples, then agreement with `canonicalize` (by one of the RFC's authors) on
// arbitrary JSON values.

describe("canonicalJson against RFC 8785's examples", () => {
  it("§3.2.2/§3.2.4: serialises the primitive-types sample to the RFC's bytes", () => {
    const input = `{
      "numbers": [333333333.33333329, 1E30, 4.50,
                  2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`;
    const output = canonicalJson(JSON.parse(input));
    expect(output).toBe(
      `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],` +
        `"string":"€$\\u000f\\nA'B\\"\\\\\\\\\\"/"}`,
    );
    // §3.2.4 gives the UTF-8 of that output byte by byte.
    const bytes =
      "7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c " +
      "22 6e 75 6d 62 65 72 73 22 3a 5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c " +
      "31 65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 5d 2c 22 73 74 72 69 6e 67 " +
      "22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d";
    expect(Buffer.from(output, "utf8").toString("hex")).toBe(bytes.replaceAll(" ", ""));
  });

  it("§3.2.3: sorts members by their names' UTF-16 code units", () => {
    const input = `{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    expect(canonicalJson(JSON.parse(input))).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
        '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // Appendix B: IEEE 754 bit patterns and the text each must serialise to.
  const numbers: [string, string][] = [
    ["0000000000000000", "0"],
    ["8000000000000000", "0"],
    ["0000000000000001", "5e-324"],
    ["8000000000000001", "-5e-324"],
    ["7fefffffffffffff", "1.7976931348623157e+308"],
    ["ffefffffffffffff", "-1.7976931348623157e+308"],
    ["4340000000000000", "9007199254740992"],
    ["c340000000000000", "-9007199254740992"],
    ["4430000000000000", "295147905179352830000"],
    ["44b52d02c7e14af5", "9.999999999999997e+22"],
    ["44b52d02c7e14af6", "1e+23"],
    ["44b52d02c7e14af7", "1.0000000000000001e+23"],
    ["444b1ae4d6e2ef4e", "999999999999999700000"],
    ["444b1ae4d6e2ef4f", "999999999999999900000"],
    ["444b1ae4d6e2ef50", "1e+21"],
    ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
    ["3eb0c6f7a0b5ed8d", "0.000001"],
    ["41b3de4355555553", "333333333.3333332"],
    ["41b3de4355555554", "333333333.33333325"],
    ["41b3de4355555555", "333333333.3333333"],
    ["41b3de4355555556", "333333333.3333334"],
    ["41b3de4355555557", "333333333.33333343"],
    ["becbf647612f3696", "-0.0000033333333333333333"],
    ["43143ff3c1cb0959", "1424953923781206.2"],
  ];
  function double(bits: string): number {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, BigInt(`0x${bits}`));
    return view.getFloat64(0);
  }

  it.each(numbers)("Appendix B: 0x%s is written %s", (bits, expected) => {
    expect(canonicalJson(double(bits))).toBe(expected);
    expect(canonicalJson({ n: [double(bits)] })).toBe(`{"n":[${expected}]}`);
  });

  it("Appendix B: NaN and Infinity have no canonical form", () => {
    expect(() => canonicalJson(double("7fffffffffffffff"))).toThrow(TypeError);
    expect(() => canonicalJson(double("7ff0000000000000"))).toThrow(TypeError);
    expect(() => canonicalJson({ a: [Number.NEGATIVE_INFINITY] })).toThrow(TypeError);
  });
});

describe("canonicalJson", () => {
  it("refuses lone surrogates, in values and in names (I-JSON)", () => {
    expect(() => canonicalJson("a\ud800b")).toThrow(/lone surrogate/);
    expect(() => canonicalJson({ "\udc00": 1 })).toThrow(/lone surrogate/);
    expect(canonicalJson("\ud83d\ude00")).toBe('"\ud83d\ude00"');
  });

  it("refuses a string exactly when it is not well-formed, an escaped backslash notwithstanding", () => {
    expect(canonicalJson("\\ud800")).toBe('"\\\\ud800"');
    expect(() => canonicalJson("\\\ud800")).toThrow(/lone surrogate/);
    expect(() => canonicalJson({ a: ["x", { b: "\udfff" }] })).toThrow(/lone surrogate/);
    const codeUnits = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    });
    fc.assert(
      fc.property(codeUnits, codeUnits, (value, key) => {
        expect(quoteJson(value)).toBe(JSON.stringify(value));
        const wellFormed = !/\p{Cs}/u.test(value) && !/\p{Cs}/u.test(key);
        if (wellFormed)
          expect(canonicalJson({ [key]: [value] })).toBe(canonicalize({ [key]: [value] }));
        else expect(() => canonicalJson({ [key]: [value] })).toThrow(/lone surrogate/);
      }),
      { numRuns: 3000 },
    );
  });

  it("leaves out what JSON.stringify leaves out, as the JSON an auditor receives does", () => {
    expect(canonicalJson({ b: undefined, a: [undefined, () => 1], c: new Date(0) })).toBe(
      '{"a":[null,null],"c":"1970-01-01T00:00:00.000Z"}',
    );
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson(10n)).toThrow(TypeError);
  });

  it("writes what canonicalize writes, for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: "binary", maxDepth: 4 }), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2000 },
    );
  });

  it("is the same text for the same value, whatever its members' order and spacing", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: "binary" }), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        const spaced = JSON.parse(JSON.stringify(record, null, 2));
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
        expect(canonicalJson(spaced)).toBe(canonicalJson(record));
        // Canonical text parses back to a value with the same canonical text.
        expect(canonicalJson(JSON.parse(canonicalJson(record)))).toBe(canonicalJson(record));
      }),
      { numRuns: 500 },
    );
  });
});
