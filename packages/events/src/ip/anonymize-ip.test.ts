import { BlockList, isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { almostIp, writtenIp } from "../../test/support/ip-arbitraries.ts";
import { anonymizeIp, formatIpv6, parseIp, toMappedIpv4 } from "./index.ts";

function withoutZone(text: string): string {
  return text.split("%")[0] as string;
}

describe("anonymizeIp", () => {
  it.each([
    ["203.0.113.77", "203.0.113.0"],
    ["10.0.0.1", "10.0.0.0"],
    ["2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"],
    ["2001:db8::1", "2001:db8::"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::"],
    ["::1", "::"],
    ["::ffff:198.51.100.23", "198.51.100.0"],
    ["::FFFF:c633:6417", "198.51.100.0"],
    ["0:0:0:0:0:ffff:198.51.100.23", "198.51.100.0"],
    ["::ffff:198.51.100.23%eth0", "198.51.100.0"],
    ["fe80::1%eth0", "fe80::"],
    ["0:1:0:0:5:6:7:8", "0:1::"],
    // Not mapped: an IPv4-compatible (RFC 4291 §2.5.5.1) and an IPv4-translated address.
    ["::198.51.100.23", "::"],
    ["::ffff:0:198.51.100.23", "::"],
  ])("%s → %s", (input, expected) => {
    expect(anonymizeIp(input)).toBe(expected);
  });

  it("refuses what is not an address", () => {
    expect(anonymizeIp("not-an-ip")).toBeNull();
    expect(anonymizeIp("300.1.2.3")).toBeNull();
    expect(anonymizeIp("1.2.3.4%eth0")).toBeNull();
    expect(anonymizeIp("[::1]")).toBeNull();
  });

  it("answers for exactly the strings net.isIP accepts", () => {
    fc.assert(
      fc.property(almostIp, (text) => {
        expect(anonymizeIp(text) !== null).toBe(isIP(text) !== 0);
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps the address inside its prefix: a /24 for IPv4 and mapped IPv6, a /48 for IPv6", () => {
    fc.assert(
      fc.property(writtenIp, ({ text }) => {
        const truncated = anonymizeIp(text) as string;
        const ipv4 = isIP(text) === 4 ? text : toMappedIpv4(text);
        const prefix = new BlockList();
        if (ipv4 === null) {
          prefix.addSubnet(truncated, 48, "ipv6");
          // Without the zone id: BlockList reads only the first 39 characters before a `%`
          // (libuv's uv_ip6_addr), which cuts the longest dotted-tail spellings short.
          expect(prefix.check(withoutZone(text), "ipv6")).toBe(true);
        } else {
          prefix.addSubnet(truncated, 24, "ipv4");
          expect(prefix.check(ipv4, "ipv4")).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps none of the host part: the bits past the prefix are zero and the zone id is gone", () => {
    fc.assert(
      fc.property(writtenIp, ({ text }) => {
        const truncated = parseIp(anonymizeIp(text) as string);
        if (truncated?.family === 4) {
          expect(truncated.octets[3]).toBe(0);
        } else {
          expect(truncated?.groups.slice(3)).toStrictEqual([0, 0, 0, 0, 0]);
          expect(truncated?.zone).toBeUndefined();
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("writes canonical text, which anonymising again leaves as it is", () => {
    fc.assert(
      fc.property(writtenIp, ({ text }) => {
        const truncated = anonymizeIp(text) as string;
        const address = parseIp(truncated);
        const canonical =
          address?.family === 6 ? formatIpv6(address.groups) : address?.octets.join(".");
        expect(truncated).toBe(canonical);
        expect(anonymizeIp(truncated)).toBe(truncated);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("anonymizeIp's /48 text", () => {
  it("is the canonical form the WHATWG URL parser prints (RFC 5952), for every mix of zero groups", () => {
    const values = [0, 1, 0xa, 0xdb8, 0xffff];
    let checked = 0;
    for (const a of values) {
      for (const b of values) {
        for (const c of values) {
          const address = [a, b, c, 0x1234, 0, 0x5678, 0, 1].map((g) => g.toString(16)).join(":");
          const kept = [a, b, c, 0, 0, 0, 0, 0].map((g) => g.toString(16)).join(":");
          const canonical = new URL(`http://[${kept}]/`).hostname.slice(1, -1);
          expect(anonymizeIp(address)).toBe(canonical);
          expect(anonymizeIp(address.toUpperCase())).toBe(canonical);
          checked++;
        }
      }
    }
    expect(checked).toBe(125);
  });
});

describe("toMappedIpv4", () => {
  it("recognises only real IPv4-mapped addresses", () => {
    expect(toMappedIpv4("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(toMappedIpv4("::fffe:1.2.3.4")).toBeNull();
    expect(toMappedIpv4("1.2.3.4")).toBeNull();
  });

  it.each([
    ["::FFFF:c633:6417", "198.51.100.23"],
    ["0:0:0:0:0:ffff:198.51.100.23", "198.51.100.23"],
    ["0000::ffff:c633:6417%eth0", "198.51.100.23"],
  ])("reads %s as %s, however it is written", (text, ipv4) => {
    expect(toMappedIpv4(text)).toBe(ipv4);
  });

  it("refuses the IPv4-compatible and IPv4-translated forms, and non-addresses", () => {
    expect(toMappedIpv4("::1.2.3.4")).toBeNull();
    expect(toMappedIpv4("::ffff:0:1.2.3.4")).toBeNull();
    expect(toMappedIpv4("::1:ffff:1.2.3.4")).toBeNull();
    expect(toMappedIpv4("1::ffff:1.2.3.4")).toBeNull();
    expect(toMappedIpv4("::ffff:1.2.3.04")).toBeNull();
    expect(toMappedIpv4("::ffff:1.2.3.4%")).toBeNull();
  });

  it("agrees with Node's BlockList on which addresses are in ::ffff:0:0/96", () => {
    fc.assert(
      fc.property(writtenIp, ({ text }) => {
        const mappedRange = new BlockList();
        mappedRange.addSubnet("::ffff:0:0", 96, "ipv6");
        const inRange = isIP(text) === 6 && mappedRange.check(withoutZone(text), "ipv6");
        expect(toMappedIpv4(text) !== null).toBe(inRange);
      }),
      { numRuns: 3000 },
    );
  });
});
