import { describe, expect, it } from "vitest";
import { anonymizeIp, toMappedIpv4 } from "./anonymize-ip.ts";

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
    ["fe80::1%eth0", "fe80::"],
  ])("%s → %s", (input, expected) => {
    expect(anonymizeIp(input)).toBe(expected);
  });

  it("refuses what is not an address", () => {
    expect(anonymizeIp("not-an-ip")).toBeNull();
    expect(anonymizeIp("300.1.2.3")).toBeNull();
  });

  it("recognises only real IPv4-mapped addresses", () => {
    expect(toMappedIpv4("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(toMappedIpv4("::fffe:1.2.3.4")).toBeNull();
    expect(toMappedIpv4("1.2.3.4")).toBeNull();
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
