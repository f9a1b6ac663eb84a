import { formatIpv6 } from "./format-ip.ts";
import { mappedIpv4Octets } from "./mapped-ipv4.ts";
import { type Ipv4Octets, parseIp } from "./parse-ip.ts";

/**
 * Truncates an address the way PRODUCT.md §2 promises: IPv4 to its /24 (`a.b.c.0`), IPv6 to its
 * /48 in RFC 5952 text, and an IPv4-mapped IPv6 address as the IPv4 address it carries. The zone
 * id is dropped: it names an interface of the client's host. Null when `text` is not an address.
 * Every ingested event with an address comes through here.
 */
export function anonymizeIp(text: string): string | null {
  const address = parseIp(text);
  if (!address) return null;
  if (address.family === 4) return truncateIpv4(address.octets);
  const mapped = mappedIpv4Octets(address);
  if (mapped) return truncateIpv4(mapped);
  const [a = 0, b = 0, c = 0] = address.groups;
  return formatIpv6([a, b, c, 0, 0, 0, 0, 0]);
}

function truncateIpv4([a, b, c]: Ipv4Octets): string {
  return `${a}.${b}.${c}.0`;
}
