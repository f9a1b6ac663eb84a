import { isIP } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { almostIp, writtenIp } from "../../test/support/ip-arbitraries.ts";
import { type IpAddress, parseIp } from "./index.ts";

describe("parseIp", () => {
  it("reads every way of writing an address, as that address, and Node agrees it is one", () => {
    fc.assert(
      fc.property(writtenIp, ({ text, address }) => {
        expect(isIP(text)).toBe(address.family);
        expect(parseIp(text)).toStrictEqual(address);
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts exactly the strings net.isIP accepts, with the same family", () => {
    fc.assert(
      fc.property(almostIp, (text) => {
        expect(parseIp(text)?.family ?? 0).toBe(isIP(text));
      }),
      { numRuns: 5000 },
    );
  });

  const v6 = (groups: number[], zone?: string): IpAddress =>
    zone === undefined ? { family: 6, groups } : { family: 6, groups, zone };

  it.each<[string, IpAddress]>([
    // RFC 4291 §2.2, form 1: eight groups, leading zeros optional, either case.
    [
      "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
      v6([0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789]),
    ],
    ["2001:DB8:0:0:8:800:200C:417A", v6([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a])],
    // Form 2: `::` for one or more zero groups.
    ["2001:DB8::8:800:200C:417A", v6([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a])],
    ["FF01::101", v6([0xff01, 0, 0, 0, 0, 0, 0, 0x101])],
    ["FF01:0:0:0:0:0:0:101", v6([0xff01, 0, 0, 0, 0, 0, 0, 0x101])],
    ["::1", v6([0, 0, 0, 0, 0, 0, 0, 1])],
    ["0:0:0:0:0:0:0:1", v6([0, 0, 0, 0, 0, 0, 0, 1])],
    ["::", v6([0, 0, 0, 0, 0, 0, 0, 0])],
    ["1:2:3:4:5:6:7::", v6([1, 2, 3, 4, 5, 6, 7, 0])],
    ["::2:3:4:5:6:7:8", v6([0, 2, 3, 4, 5, 6, 7, 8])],
    // Form 3: a dotted IPv4 tail, as in RFC 4291 §2.5.5's compatible and mapped addresses.
    ["0:0:0:0:0:0:13.1.68.3", v6([0, 0, 0, 0, 0, 0, 0x0d01, 0x4403])],
    ["::13.1.68.3", v6([0, 0, 0, 0, 0, 0, 0x0d01, 0x4403])],
    ["0:0:0:0:0:FFFF:129.144.52.38", v6([0, 0, 0, 0, 0, 0xffff, 0x8190, 0x3426])],
    ["::FFFF:129.144.52.38", v6([0, 0, 0, 0, 0, 0xffff, 0x8190, 0x3426])],
    ["1:2:3:4:5:6:1.2.3.4", v6([1, 2, 3, 4, 5, 6, 0x102, 0x304])],
    ["1::1.2.3.4", v6([1, 0, 0, 0, 0, 0, 0x102, 0x304])],
    // Four-digit groups may carry leading zeros.
    ["0001:0db8::0001", v6([1, 0xdb8, 0, 0, 0, 0, 0, 1])],
    // Zone ids (RFC 4007 §11) in Node's alphabet: letters, digits, `-`, `.`, `:`.
    ["fe80::1%eth0", v6([0xfe80, 0, 0, 0, 0, 0, 0, 1], "eth0")],
    ["fe80::1%25", v6([0xfe80, 0, 0, 0, 0, 0, 0, 1], "25")],
    ["fe80::1%a-b.c:d", v6([0xfe80, 0, 0, 0, 0, 0, 0, 1], "a-b.c:d")],
    ["::ffff:1.2.3.4%en0", v6([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304], "en0")],
    ["203.0.113.77", { family: 4, octets: [203, 0, 113, 77] }],
    ["0.0.0.0", { family: 4, octets: [0, 0, 0, 0] }],
    ["255.255.255.255", { family: 4, octets: [255, 255, 255, 255] }],
  ])("reads %s", (text, address) => {
    expect(isIP(text)).toBe(address.family);
    expect(parseIp(text)).toStrictEqual(address);
  });

  it.each([
    ["01.2.3.4", "an IPv4 octet with a leading zero (octal to some readers)"],
    ["1.2.3.04", "an IPv4 octet with a leading zero"],
    ["256.1.1.1", "an octet past 255"],
    ["1.2.3", "three octets"],
    ["1.2.3.4.5", "five octets"],
    ["1.2.3.4%eth0", "a zone id on IPv4"],
    ["00001::", "a five-digit group"],
    ["12345::", "a group past 0xffff"],
    ["1:2:3:4:5:6:7:8:9", "nine groups"],
    ["1:2:3:4:5:6:7", "seven groups without ::"],
    ["1:2:3:4:5:6:7::8", "eight groups and ::"],
    ["1::2::3", "two ::"],
    [":::", "three colons"],
    [":1::", "a leading single colon"],
    ["1::2:", "a trailing single colon"],
    ["1:2:3:4:5:6:7:1.2.3.4", "a dotted tail after seven groups"],
    ["1:2:3:4:5:6::1.2.3.4", "a dotted tail after six groups and ::"],
    ["::1.2.3.4:1", "a dotted tail not at the end"],
    ["::ffff:01.2.3.4", "a dotted tail with a leading zero"],
    ["::ffff:1.2.3", "a short dotted tail"],
    ["1.2.3.4::", "an IPv4 address then ::"],
    ["fe80::1%", "an empty zone id"],
    ["fe80::1%eth 0", "a space in the zone id"],
    ["fe80::1%eth_0", "an underscore in the zone id"],
    ["fe80::1%a%b", "a second %"],
    ["fe80::1%é", "a non-ASCII zone id"],
    ["[::1]", "brackets"],
    [" ::1", "leading space"],
    ["::1\n", "a trailing newline"],
    ["", "nothing"],
    ["localhost", "a name"],
  ])("refuses %j: %s", (text) => {
    expect(isIP(text)).toBe(0);
    expect(parseIp(text)).toBeNull();
  });
});
