import { type IpAddress, type Ipv4Octets, type Ipv6Address, parseIp } from "./parse-ip.ts";

/**
 * Which addresses an outbound request (an organisation's webhook) may reach. The API checks a
 * webhook's URL with these when it is set, and the worker checks every address it is about to
 * connect to, so both read addresses, and the IPv6 forms that carry an IPv4 address, alike.
 */

type Ipv4Block = { network: number; prefix: number };
type Ipv6Block = { network: number[]; prefix: number };

function ipv4Value([a, b, c, d]: Ipv4Octets): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function ipv4Blocks(blocks: [string, number][]): Ipv4Block[] {
  return blocks.map(([text, prefix]) => {
    const address = parseIp(text);
    if (address?.family !== 4) throw new Error(`${text} is not an IPv4 address`);
    return { network: ipv4Value(address.octets), prefix };
  });
}

function ipv6Blocks(blocks: [string, number][]): Ipv6Block[] {
  return blocks.map(([text, prefix]) => {
    const address = parseIp(text);
    if (address?.family !== 6) throw new Error(`${text} is not an IPv6 address`);
    return { network: address.groups, prefix };
  });
}

function inIpv4Block(value: number, { network, prefix }: Ipv4Block): boolean {
  if (prefix === 0) return true;
  const shift = 32 - prefix;
  return value >>> shift === network >>> shift;
}

function inIpv6Block(groups: readonly number[], { network, prefix }: Ipv6Block): boolean {
  for (let i = 0, left = prefix; left > 0; i++, left -= 16) {
    const bits = Math.min(16, left);
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if (((groups[i] as number) & mask) !== ((network[i] as number) & mask)) return false;
  }
  return true;
}

/**
 * IANA's special-purpose IPv4 blocks that are not globally reachable: this host, private,
 * shared (CGNAT), loopback, link-local, IETF protocol assignments, documentation, the retired
 * 6to4 relay anycast, benchmarking, multicast, reserved and broadcast.
 */
const nonPublicIpv4 = ipv4Blocks([
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
]);

/** Only 2000::/3 is allocated for global unicast; inside it these blocks are not reachable. */
const globalUnicast = ipv6Blocks([["2000::", 3]])[0] as Ipv6Block;
const nonPublicGlobalIpv6 = ipv6Blocks([
  // IETF protocol assignments (Teredo, 2001::/32, is judged by the address it carries).
  ["2001::", 23],
  ["2001:db8::", 32],
  ["3fff::", 20],
]);

/**
 * Link-local, and the instance metadata services of cloud providers: a request there reads the
 * machine's credentials. Refused even where local webhooks are allowed.
 */
const linkLocalOrMetadataIpv4 = ipv4Blocks([
  ["169.254.0.0", 16],
  // Alibaba Cloud's metadata service.
  ["100.100.100.200", 32],
  // Azure's WireServer: a public-looking address that answers only inside Azure.
  ["168.63.129.16", 32],
  // Oracle Cloud's older metadata address.
  ["192.0.0.192", 32],
]);
const linkLocalOrMetadataIpv6 = ipv6Blocks([
  ["fe80::", 10],
  // AWS's metadata service over IPv6.
  ["fd00:ec2::254", 128],
]);

const mapped = ipv6Blocks([["::ffff:0:0", 96]])[0] as Ipv6Block;
const compatible = ipv6Blocks([["::", 96]])[0] as Ipv6Block;
const nat64 = ipv6Blocks([["64:ff9b::", 96]])[0] as Ipv6Block;
const sixToFour = ipv6Blocks([["2002::", 16]])[0] as Ipv6Block;
const teredo = ipv6Blocks([["2001::", 32]])[0] as Ipv6Block;

function octetsOf(high: number, low: number): Ipv4Octets {
  return [high >>> 8, high & 0xff, low >>> 8, low & 0xff];
}

/**
 * The IPv4 addresses an IPv6 address carries, where a packet to it ends up at (or passes
 * through) that IPv4 host: mapped (::ffff:0:0/96), compatible (::/96, which holds :: and ::1 as
 * 0.0.0.0 and 0.0.0.1), NAT64 (64:ff9b::/96), 6to4 (2002::/16, bits 16–47) and Teredo (2001::/32:
 * the server in bits 32–63, the client inverted in the last 32 bits). Null for any other address.
 */
function embeddedIpv4(address: Ipv6Address): Ipv4Octets[] | null {
  const g = address.groups as [number, number, number, number, number, number, number, number];
  if (inIpv6Block(g, mapped) || inIpv6Block(g, compatible) || inIpv6Block(g, nat64)) {
    return [octetsOf(g[6], g[7])];
  }
  if (inIpv6Block(g, sixToFour)) return [octetsOf(g[1], g[2])];
  if (inIpv6Block(g, teredo)) return [octetsOf(g[2], g[3]), octetsOf(g[6] ^ 0xffff, g[7] ^ 0xffff)];
  return null;
}

/**
 * True when `address` is not a globally reachable unicast address: loopback, private, CGNAT,
 * link-local, unique local, multicast, documentation, reserved… An IPv6 address carrying an IPv4
 * address is judged by that IPv4 address (any of them, for Teredo's two).
 */
export function isNonPublicAddress(address: IpAddress): boolean {
  if (address.family === 4) {
    const value = ipv4Value(address.octets);
    return nonPublicIpv4.some((block) => inIpv4Block(value, block));
  }
  const carried = embeddedIpv4(address);
  if (carried) return carried.some((octets) => isNonPublicAddress({ family: 4, octets }));
  if (!inIpv6Block(address.groups, globalUnicast)) return true;
  return nonPublicGlobalIpv6.some((block) => inIpv6Block(address.groups, block));
}

/**
 * True for link-local addresses (169.254.0.0/16, fe80::/10) and cloud metadata services
 * (fd00:ec2::254, 100.100.100.200, …), also when carried in an IPv6 address: never a webhook.
 */
export function isLinkLocalOrMetadataAddress(address: IpAddress): boolean {
  if (address.family === 4) {
    const value = ipv4Value(address.octets);
    return linkLocalOrMetadataIpv4.some((block) => inIpv4Block(value, block));
  }
  const carried = embeddedIpv4(address);
  if (carried) {
    return carried.some((octets) => isLinkLocalOrMetadataAddress({ family: 4, octets }));
  }
  return linkLocalOrMetadataIpv6.some((block) => inIpv6Block(address.groups, block));
}
