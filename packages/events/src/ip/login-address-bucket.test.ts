import { BlockList } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writtenIpv6 } from "../../test/support/ip-arbitraries.ts";
import { loginAddressBucket, toMappedIpv4 } from "./index.ts";

describe("loginAddressBucket", () => {
  it.each([
    ["an IPv4 address as itself", "203.0.113.7", "203.0.113.7"],
    ["a mapped address as its IPv4 address", "::ffff:203.0.113.7", "203.0.113.7"],
    ["a mapped address written in hex", "::FFFF:cb00:7107", "203.0.113.7"],
    [
      "a mapped address written in full, with a zone id",
      "0:0:0:0:0:ffff:203.0.113.7%en0",
      "203.0.113.7",
    ],
    ["IPv6 by its /64", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["IPv6 by its /64, zero groups written out", "2001:db8::1", "2001:db8:0:0::/64"],
    ["IPv6 with a zone id", "fe80::1%eth0", "fe80:0:0:0::/64"],
    ["IPv6 with a dotted tail after ::", "1::2:3:4:5:1.2.3.4", "1:0:2:3::/64"],
  ])("counts %s: %s → %s", (_case, address, bucket) => {
    expect(loginAddressBucket(address)).toBe(bucket);
  });

  it("has no bucket for what is not an address", () => {
    expect(loginAddressBucket("unknown")).toBeNull();
    expect(loginAddressBucket("01.2.3.4")).toBeNull();
  });

  it("counts every mapped address as its IPv4 address, and any other IPv6 in the /64 holding it", () => {
    fc.assert(
      fc.property(writtenIpv6, ({ text }) => {
        const bucket = loginAddressBucket(text) as string;
        const ipv4 = toMappedIpv4(text);
        if (ipv4 !== null) {
          expect(bucket).toBe(ipv4);
          return;
        }
        expect(bucket).toMatch(/^([0-9a-f]{1,4}:){4}:\/64$/);
        const network = new BlockList();
        network.addSubnet(bucket.slice(0, -"/64".length), 64, "ipv6");
        expect(network.check(text.split("%")[0] as string, "ipv6")).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
