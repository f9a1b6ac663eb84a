import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeIpPrefix } from "./index.ts";

describe("normalizeIpPrefix", () => {
  it("writes full IPv6 addresses as RFC 5952 text, like the WHATWG URL parser", () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const address = groups.map((g) => g.toString(16).padStart(4, "0")).join(":");
        const expected = new URL(`http://[${address}]/`).hostname.slice(1, -1);
        expect(normalizeIpPrefix(address)).toBe(expected);
        expect(normalizeIpPrefix(expected)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ["a full IPv4 address", "203.0.113.7", "203.0.113.7"],
    ["IPv4 octets in decimal, even zero-padded", "010.001.0.255", "10.1.0.255"],
    ["leading IPv4 octets, given the trailing dot", "203.0.113", "203.0.113."],
    ["one leading octet", "10.", "10."],
    ["a compressed IPv6 address", "2001:DB8::", "2001:db8::"],
    ["an IPv6 address with a zero group to keep", "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["leading IPv6 groups, given the trailing colon", "2001:0DB8", "2001:db8:"],
    ["seven leading groups", "1:2:3:4:5:6:0007:", "1:2:3:4:5:6:7:"],
  ])("accepts %s: %s → %s", (_form, value, prefix) => {
    expect(normalizeIpPrefix(value)).toBe(prefix);
  });

  it.each([
    ["four IPv4 octets and a dot", "1.2.3.4."],
    ["an IPv4 octet past 255", "1.256"],
    ["CIDR notation", "203.0.113.0/24"],
    ["eight IPv6 groups and a colon", "1:2:3:4:5:6:7:8:"],
    ["a five-digit group", "12345:"],
    ["a lone colon", ":"],
    ["a leading colon", ":1"],
    ["two ::", "1::2::3"],
    ["a zone id, which stored addresses never have", "fe80::1%eth0"],
    ["a dotted IPv4 tail: mapped addresses are stored as IPv4", "::ffff:1.2.3.4"],
    ["a name", "localhost"],
  ])("refuses %s: %s", (_form, value) => {
    expect(normalizeIpPrefix(value)).toBeUndefined();
  });
});
