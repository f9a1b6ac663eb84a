import { BlockList } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writtenIpv4, writtenIpv6 } from "../../test/support/ip-arbitraries.ts";
import {
  formatIpv6,
  type IpAddress,
  type Ipv4Octets,
  isLinkLocalOrMetadataAddress,
  isNonPublicAddress,
  parseIp,
} from "./index.ts";

function parsed(text: string): IpAddress {
  const address = parseIp(text);
  if (!address) throw new Error(`${text} is not an address`);
  return address;
}

/**
 * IANA's special-purpose IPv4 registry, every block not "globally reachable" (AS112 and AMT are
 * reachable and left out), written here from the registry rather than from the module.
 */
const ianaNonPublicIpv4: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

/** Everything outside global unicast (2000::/3), and the special blocks inside it. */
const nonPublicIpv6: [string, number][] = [
  ["::", 3],
  ["4000::", 2],
  ["8000::", 1],
  ["2001::", 23],
  ["2001:db8::", 32],
  ["3fff::", 20],
];

function blockListOf(ranges: [string, number][], family: "ipv4" | "ipv6") {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

const v4Octets: fc.Arbitrary<Ipv4Octets> = writtenIpv4.map(
  ({ address }) => (address as { octets: Ipv4Octets }).octets,
);
/** Some of every special block, so each boundary is crossed often. */
const interestingIpv4 = fc.oneof(
  v4Octets,
  fc
    .tuple(fc.constantFrom(...ianaNonPublicIpv4), fc.nat(), fc.integer({ min: -2, max: 2 }))
    .map(([[network, prefix], bits, step]): Ipv4Octets => {
      const base = (parsed(network) as { octets: Ipv4Octets }).octets.reduce(
        (value, octet) => value * 256 + octet,
        0,
      );
      const size = 2 ** (32 - prefix);
      // Inside the block, or just outside either end of it.
      const value = (base + (step === 0 ? bits % size : step < 0 ? step : size - 1 + step)) >>> 0;
      return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
    }),
);

const hex = ([a, b, c, d]: Ipv4Octets) => [(a << 8) | b, (c << 8) | d] as const;

/** Every IPv6 form that carries an IPv4 address, and where it carries it. */
const embeddings: Record<string, (v4: Ipv4Octets) => number[]> = {
  "mapped ::ffff:0:0/96": (v4) => [0, 0, 0, 0, 0, 0xffff, ...hex(v4)],
  "compatible ::/96": (v4) => [0, 0, 0, 0, 0, 0, ...hex(v4)],
  "NAT64 64:ff9b::/96": (v4) => [0x64, 0xff9b, 0, 0, 0, 0, ...hex(v4)],
  "6to4 2002::/16": (v4) => [0x2002, ...hex(v4), 0x1234, 0, 0, 0, 1],
  // RFC 4380: the client's address, every bit inverted, in the last 32 bits; the server
  // (a public address here) in bits 32–63.
  "Teredo 2001::/32 (client)": (v4) => [
    0x2001,
    0,
    0x4136,
    0xe378,
    0x8000,
    0x63bf,
    ...hex(v4).map((g) => g ^ 0xffff),
  ],
};

function isEmbedding(groups: number[]): boolean {
  const [g0, g1, g2, g3, g4, g5] = groups;
  const leadingZeros = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  return (
    (leadingZeros && (g5 === 0 || g5 === 0xffff)) ||
    (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) ||
    g0 === 0x2002 ||
    (g0 === 0x2001 && g1 === 0)
  );
}

describe("isNonPublicAddress", () => {
  it("agrees with Node's BlockList on IPv4, given IANA's special-purpose blocks", () => {
    const list = blockListOf(ianaNonPublicIpv4, "ipv4");
    fc.assert(
      fc.property(interestingIpv4, (octets) => {
        const text = octets.join(".");
        expect(isNonPublicAddress({ family: 4, octets })).toBe(list.check(text, "ipv4"));
      }),
      { numRuns: 5000 },
    );
  });

  it("agrees with Node's BlockList on IPv6 that carries no IPv4 address", () => {
    const list = blockListOf(nonPublicIpv6, "ipv6");
    const global = fc
      .tuple(fc.integer({ min: 0x2000, max: 0x3fff }), writtenIpv6)
      .map(([first, { address }]) => [first, ...(address as { groups: number[] }).groups.slice(1)]);
    const anyGroups = writtenIpv6.map(({ address }) => (address as { groups: number[] }).groups);
    fc.assert(
      fc.property(fc.oneof(global, anyGroups), (groups) => {
        fc.pre(!isEmbedding(groups));
        const text = formatIpv6(groups);
        expect(isNonPublicAddress({ family: 6, groups })).toBe(list.check(text, "ipv6"));
      }),
      { numRuns: 5000 },
    );
  });

  it("judges every IPv6 form carrying an IPv4 address by that IPv4 address", () => {
    fc.assert(
      fc.property(interestingIpv4, fc.constantFrom(...Object.keys(embeddings)), (octets, form) => {
        const groups = (embeddings[form] as (v4: Ipv4Octets) => number[])(octets);
        const ipv4: IpAddress = { family: 4, octets };
        const ipv6: IpAddress = { family: 6, groups };
        expect(isNonPublicAddress(ipv6)).toBe(isNonPublicAddress(ipv4));
        expect(isLinkLocalOrMetadataAddress(ipv6)).toBe(isLinkLocalOrMetadataAddress(ipv4));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    // Public: what a webhook receiver looks like.
    ["8.8.8.8", false],
    ["1.1.1.1", false],
    ["93.184.215.14", false],
    ["172.32.0.1", false],
    ["100.128.0.1", false],
    ["2606:4700:4700::1111", false],
    ["2a00:1450:4007:80e::200e", false],
    ["64:ff9b::808:808", false],
    ["2002:808:808::1", false],
    ["2001:0:4136:e378:8000:63bf:f7f7:f7f7", false],
    // Not public.
    ["127.0.0.1", true],
    ["10.0.0.1", true],
    ["172.31.255.255", true],
    ["192.168.1.1", true],
    ["100.64.0.1", true],
    ["169.254.169.254", true],
    ["0.0.0.0", true],
    ["255.255.255.255", true],
    ["224.0.0.251", true],
    ["::", true],
    ["::1", true],
    ["fd00::1", true],
    ["fc00::1", true],
    ["fe80::1", true],
    ["fe80::1%eth0", true],
    ["fec0::1", true],
    ["ff02::1", true],
    ["2001:db8::1", true],
    ["3fff::1", true],
    ["100::1", true],
    ["::ffff:127.0.0.1", true],
    ["::ffff:a00:1", true],
    ["::10.0.0.1", true],
    ["64:ff9b::a00:1", true],
    ["64:ff9b::7f00:1", true],
    // The local-use NAT64 prefix (RFC 8215) is not globally reachable, whatever it carries.
    ["64:ff9b:1::808:808", true],
    ["2002:a00:1::1", true],
    ["2002:7f00:1::1", true],
    // RFC 4380's own example: client 192.0.2.45 (documentation), server 65.54.227.120.
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", true],
    // A public client behind a private Teredo server.
    ["2001:0:a00:1:8000:63bf:f7f7:f7f7", true],
  ])("%s → %s", (text, nonPublic) => {
    expect(isNonPublicAddress(parsed(text))).toBe(nonPublic);
  });

  it("reads public IPv4 as public, where a BlockList holding ::ffff:0:0/96 refuses every IPv4", () => {
    // Node's BlockList checks an IPv4 address against IPv6 rules as its mapped form, so the
    // mapped rule the old webhook check carried matched every IPv4 address.
    const quirk = blockListOf([["::ffff:0:0", 96]], "ipv6");
    for (const text of ["8.8.8.8", "1.1.1.1", "93.184.215.14"]) {
      expect(quirk.check(text, "ipv4")).toBe(true);
      expect(isNonPublicAddress(parsed(text))).toBe(false);
    }
  });
});

describe("isLinkLocalOrMetadataAddress", () => {
  it.each([
    ["169.254.169.254", true],
    ["169.254.0.1", true],
    ["100.100.100.200", true],
    ["168.63.129.16", true],
    ["192.0.0.192", true],
    ["fe80::1", true],
    ["febf::1", true],
    ["fd00:ec2::254", true],
    ["::ffff:169.254.169.254", true],
    ["::ffff:a9fe:a9fe", true],
    ["64:ff9b::a9fe:a9fe", true],
    ["2002:a9fe:a9fe::1", true],
    ["127.0.0.1", false],
    ["10.0.0.1", false],
    ["100.100.100.201", false],
    ["8.8.8.8", false],
    ["::1", false],
    ["fd00::1", false],
    ["fd00:ec2::253", false],
    ["fec0::1", false],
  ])("%s → %s", (text, expected) => {
    expect(isLinkLocalOrMetadataAddress(parsed(text))).toBe(expected);
  });
});
