import { mappedIpv4Octets } from "./mapped-ipv4.ts";
import { parseIp } from "./parse-ip.ts";

/**
 * The bucket a failed login from `text` counts against, or null when it is not an address: an
 * IPv4 address as itself, an IPv4-mapped IPv6 address as the IPv4 address it carries, any other
 * IPv6 address by its /64 (one host usually owns a whole /64), zone id dropped. The /64 is
 * written uncompressed, `a:b:c:d::/64`, as the limiter has always keyed it, so counters started
 * before a deploy still apply after it.
 */
export function loginAddressBucket(text: string): string | null {
  const address = parseIp(text);
  if (!address) return null;
  if (address.family === 4) return address.octets.join(".");
  const mapped = mappedIpv4Octets(address);
  if (mapped) return mapped.join(".");
  const network = address.groups.slice(0, 4).map((group) => group.toString(16));
  return `${network.join(":")}::/64`;
}
